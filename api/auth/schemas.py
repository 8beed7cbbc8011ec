from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.principal import PrincipalKind
from api.types import Role


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class FailedSignIn(BaseModel):
    at: datetime
    refused: bool = Field(description="true: refused unchecked (too many failures from that address).")
    client: str | None = Field(description="The address it came from (null once past REKAM_IP_RETENTION_DAYS).")


class Me(BaseModel):
    kind: PrincipalKind
    id: int | None
    name: str
    role: Role | None
    area: str | None
    service_point_id: int | None
    operator_id: int | None = Field(default=None, description="The operator (petugas) this account is, if any.")
    recent_failed_sign_ins: list[FailedSignIn] = Field(
        default_factory=list,
        description="A signed-in account's failed sign-ins of the last 30 days, newest first (at most 20).",
    )
    api_keys: list["ApiKeyRead"] = Field(
        default_factory=list,
        description="The live API keys a signed-in account is answerable for (their owner), soonest to expire first: each one's expiry.",
    )


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9._-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=256)
    role: Role
    area: str | None = Field(default=None, description="Scope of a supervisor (an area code).")
    service_point_id: int | None = Field(default=None, description="Scope of an operator.")
    operator_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The operator (petugas) this account is: an operator account linked to one acts on the home visits it is scheduled on.",
    )


class UserUpdate(BaseModel):
    """Changing the password or deactivating ends the account's sessions."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    password: str | None = Field(default=None, min_length=10, max_length=256)
    active: bool | None = None
    role: Role | None = None
    area: str | None = Field(default=None, description="New scope of a supervisor.")
    service_point_id: int | None = Field(default=None, description="New scope of an operator.")
    operator_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The operator (petugas) this account is (null to unlink): an operator account linked to one acts on the home visits it is scheduled on.",
    )


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    username: str
    display_name: str
    role: Role
    area: str | None = Field(validation_alias="scope_area_code")
    service_point_id: int | None = Field(validation_alias="scope_service_point_id")
    operator_id: int | None
    active: bool
    created_at: datetime


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: Role
    area: str | None = None
    service_point_id: int | None = None
    owner: str | None = Field(
        default=None,
        max_length=64,
        description="Username of the account answerable for the key (default: you). Deactivating it revokes the key.",
    )
    expires_in_days: int | None = Field(default=None, ge=1, le=3 * 365, description="Default: REKAM_API_KEY_TTL_DAYS (365).")


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    name: str
    prefix: str
    role: Role
    area: str | None = Field(validation_alias="scope_area_code")
    service_point_id: int | None = Field(validation_alias="scope_service_point_id")
    owner_id: int | None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="Shown once; store it now.")


Me.model_rebuild()  # `api_keys` names ApiKeyRead, defined below Me

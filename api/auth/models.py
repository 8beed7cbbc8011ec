from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from api.db import AreaCode, Base, UtcDateTime

ROLE_CHECK = "role IN ('admin','supervisor','operator','viewer','handler')"
# A supervisor acts inside an area subtree, an operator at one service point.
SCOPE_CHECK = "(role <> 'supervisor' OR scope_area_code IS NOT NULL) AND (role <> 'operator' OR scope_service_point_id IS NOT NULL)"
# An operator account may instead be one petugas (`operator_id`) who works a mobile kit and has
# no counter: it acts on the home visits it is scheduled on. API keys are never a person.
USER_SCOPE_CHECK = (
    "(role <> 'supervisor' OR scope_area_code IS NOT NULL) AND (role <> 'operator' OR scope_service_point_id IS NOT NULL OR operator_id IS NOT NULL)"
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role"),
        CheckConstraint(USER_SCOPE_CHECK, name="scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    scope_area_code: Mapped[str | None] = mapped_column(AreaCode, ForeignKey("areas.code"))
    scope_service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    # "This account is that operator (petugas)": how complaints about someone are kept from them,
    # and how an operator account finds the home visits it is scheduled on.
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), unique=True)


class AccessToken(Base):
    """A bearer token: random, stored as its SHA-256, revocable by deleting or marking it."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role"),
        CheckConstraint(SCOPE_CHECK, name="scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The first characters of the key, shown in lists so a leaked key can be recognised.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    scope_area_code: Mapped[str | None] = mapped_column(AreaCode, ForeignKey("areas.code"))
    scope_service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The account answerable for the key: deactivating it revokes the key, and a key whose owner
    # is inactive is refused. Null only for keys the migration found no admin for (revoked then).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Every key expires (REKAM_API_KEY_TTL_DAYS by default, or what its creator chose).
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

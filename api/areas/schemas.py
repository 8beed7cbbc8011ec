from pydantic import BaseModel, ConfigDict, Field

from api.area_codes import AreaCodeStr
from api.types import AreaLevel


class AreaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: AreaLevel
    parent_code: str | None
    population: int | None = None


class AreaDetail(AreaRead):
    ancestors: list[AreaRead] = Field(description="From the province down to the parent.")


class AreaCreate(BaseModel):
    """An RW below a kelurahan or an RT below an RW; official levels come from `rekam areas load`."""

    model_config = ConfigDict(extra="forbid")

    code: AreaCodeStr = Field(examples=["36.74.01.1001.003", "36.74.01.1001.003.005"])
    name: str | None = Field(default=None, min_length=1, max_length=200)
    population: int | None = Field(default=None, ge=0, le=10_000_000)


class AreaUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    population: int | None = Field(default=None, ge=0, le=10_000_000)


class AreaLoadSummary(BaseModel):
    rows: int
    inserted_or_updated: int

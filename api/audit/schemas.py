from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from api.principal import PrincipalKind


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_kind: PrincipalKind
    actor_id: int | None
    actor_name: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    client: str | None

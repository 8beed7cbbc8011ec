from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime


class AuditEntry(Base):
    """Who did what to which record, written in the same transaction as the change."""

    __tablename__ = "audit_entries"
    # The admin's questions: the history of one record, and what one actor did.
    __table_args__ = (
        Index("ix_audit_entries_entity_entity_id", "entity", "entity_id"),
        Index("ix_audit_entries_actor_name", "actor_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))  # user, api_key, anonymous, system
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64))

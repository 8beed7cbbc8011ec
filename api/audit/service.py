"""The audit trail: every write, every sign-in, every staff read of a personal record.

- One entry per change: time, actor (user, API key, anonymous or system), action, entity, id,
  before and after, request id and client address.
- Entries are written in the request's transaction, so they commit or roll back with the change
  itself: no change without its entry, no entry for a change that was rolled back. (Failed
  sign-ins are the exception that proves it: their error keeps the request's writes, see
  `DomainError.keep_changes`.) On PostgreSQL an entry is sent with the COMMIT
  (`api.db.last_statement`): nothing the request does reads it, and under load each round trip
  of a write waits for a turn of the event loop.
- Personal and secret fields are masked before they are stored.
- The client address of an entry is kept REKAM_IP_RETENTION_DAYS (default 30) days, then blanked
  by `purge_clients` (`rekam purge`, run daily): long enough to investigate abuse, no longer.
- Only admins read the trail, newest first, filtered by entity, id, actor, action and dates
  (inclusive, in the campaign's time zone).
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit.models import AuditEntry
from api.config import get_settings
from api.db import last_statement
from api.errors import RuleViolation
from api.middleware import client_var, request_id_var
from api.pagination import PageParams, paginate
from api.personal_data import PERSONAL_FIELDS
from api.principal import Principal


def mask(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {key: ("***" if key in PERSONAL_FIELDS and value is not None else _jsonable(value)) for key, value in values.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return mask(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def snapshot_of(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """A model's column values, for before/after."""
    columns = fields or [column.key for column in obj.__table__.columns]
    return {name: getattr(obj, name) for name in columns}


async def record(
    session: AsyncSession,
    *,
    actor: Principal,
    action: str,
    entity: str,
    entity_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    values = {
        "at": datetime.now(UTC),
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "before": mask(before),
        "after": mask(after),
        "request_id": request_id_var.get(),
        "client": client_var.get(),
    }
    await last_statement(session, _ENTRY, values)


# One statement for every entry, its values parameters (no SQLAlchemy construct per entry). The
# table, not the mapped class: a mapped class with parameters would be an ORM bulk insert.
_ENTRY = insert(cast(Table, AuditEntry.__table__))


async def list_entries(
    session: AsyncSession,
    *,
    page: PageParams,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> tuple[list[AuditEntry], str | None]:
    """Entries newest first; `since` and `until` are days, both included."""
    if since and until and since > until:
        raise RuleViolation.on_field("from", location="query", code="range.reversed")
    zone = ZoneInfo(get_settings().timezone)
    stmt = select(AuditEntry)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if actor:
        stmt = stmt.where(AuditEntry.actor_name == actor)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(since, time(), zone).astimezone(UTC))
    if until:
        stmt = stmt.where(AuditEntry.at < datetime.combine(until + timedelta(days=1), time(), zone).astimezone(UTC))
    # Ids grow with time, so newest first is descending ids: a stable keyset.
    return await paginate(session, stmt, keys=[AuditEntry.id], page=page, descending=True)


async def purge_clients(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Blank the client address of entries older than REKAM_IP_RETENTION_DAYS; how many were blanked."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=get_settings().ip_retention_days)
    result = await session.execute(update(AuditEntry).where(AuditEntry.at < cutoff, AuditEntry.client.is_not(None)).values(client=None))
    return cast(CursorResult[Any], result).rowcount or 0  # an UPDATE's result is a CursorResult

"""Work that joins several domains, above the domains it joins (as in Netflix Dispatch).

The routers call these instead of the domain's own service when a change in one domain has
consequences in another; the domains themselves never call each other for it (no circles).
Like services, flows flush and never commit: the request's one transaction covers both sides.

Rules
- A service point's hours or counters change (`update_service_point`), or a closure is added
  (`add_closure`): the open bookings that no longer fit are cancelled (queues), and the answer
  lists them. The slot length of a point with open bookings from today on cannot change (409).
- A ticket is completed (`move_ticket`): it is one recording, added to today's tally of the
  point's area, source `queue`, with the point.
- A home visit is marked visited (`change_visit_status`): one recording is added to the visit
  day's tally of the resident's area, source `home_visit`, with the kit.
"""

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.principal import Principal
from api.queues import service as queues
from api.queues.models import Ticket
from api.services import service as services
from api.services.models import Closure, ServicePoint
from api.services.schemas import ClosureCreate, ServicePointUpdate
from api.tallies import service as tallies
from api.visits import service as visits
from api.visits.models import HomeVisit, VisitStatus
from api.visits.schemas import StatusChange


async def update_service_point(session: AsyncSession, *, point_id: int, data: ServicePointUpdate, actor: Principal) -> tuple[ServicePoint, list[Any]]:
    """Change a point; the bookings that no longer fit its hours or counters are cancelled."""
    bookings_open = await queues.has_future_bookings(session, point_id=point_id)
    point = await services.update_point(session, point_id=point_id, data=data, actor=actor, bookings_open=bookings_open)
    cancelled = await queues.cancel_bookings_outside_hours(session, point=point, actor=actor, reason="hours or counters changed")
    return point, cancelled


async def add_closure(session: AsyncSession, *, point_id: int, data: ClosureCreate, actor: Principal) -> tuple[Closure, list[Any]]:
    """Close a point for a day (or shorten it); that day's bookings that no longer fit are cancelled."""
    closure = await services.add_closure(session, point_id=point_id, data=data, actor=actor)
    point = await services.get_point(session, point_id=point_id)
    cancelled = await queues.cancel_bookings_outside_hours(session, point=point, actor=actor, reason=f"closure: {data.reason}", day=data.day)
    return closure, cancelled


async def move_ticket(session: AsyncSession, *, ticket_id: int, move: str, actor: Principal) -> Ticket:
    """Move a ticket; a completed one is a recording in today's tally of the point's area."""
    ticket = await queues.move_ticket(session, ticket_id=ticket_id, move=move, actor=actor)
    if move == "complete":
        point = await services.get_point(session, point_id=ticket.service_point_id)
        await tallies.add_recordings(session, area_code=point.area_code, day=calendar.today(), source="queue", service_point_id=point.id, actor=actor)
    return ticket


async def change_visit_status(session: AsyncSession, *, visit_id: int, data: StatusChange, actor: Principal, today: date | None = None) -> HomeVisit:
    """Move a home visit; a visited one is a recording in the visit day's tally of the resident's area."""
    visit = await visits.change_status(session, visit_id=visit_id, data=data, actor=actor, today=today)
    if data.status == VisitStatus.visited:
        assert visit.visit_date is not None
        await tallies.add_recordings(session, area_code=visit.area_code, day=visit.visit_date, source="home_visit", device_id=visit.device_id, actor=actor)
    return visit

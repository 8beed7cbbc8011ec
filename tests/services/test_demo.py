from datetime import date

from sqlalchemy import func, select

from api.queues import service as queues
from api.queues.models import Ticket
from api.services import demo
from api.services.models import ServicePoint


async def test_demo_is_idempotent_and_fills_the_boards(session) -> None:
    today = queues.local_today()
    first = await demo.load(session, today=today)
    assert len(first.offices) == 7 and len(first.events) == 3
    assert sum(o.counters for o in first.offices.values()) == 29
    tickets = await session.scalar(select(func.count()).select_from(Ticket))
    second = await demo.load(session, today=today)
    assert second.created == [] and await session.scalar(select(func.count()).select_from(Ticket)) == tickets
    assert await session.scalar(select(func.count()).where(ServicePoint.name.like("Kantor Kecamatan %"))) == 7
    board = await queues.board(session, point_id=first.offices["36.74.03"].id)
    assert board["served"] > 0 and board["waiting"] == 3 and len(board["now_serving"]) == 6
    assert {e.event_date.weekday() for e in first.events} <= {5, 6}

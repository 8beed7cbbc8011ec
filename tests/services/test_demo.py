from sqlalchemy import func, select

from api import calendar
from api.demo.service import load_points
from api.queues import service as queues
from api.queues.models import Ticket
from api.services import demo
from api.services.models import ServicePoint


async def test_demo_is_idempotent_and_fills_the_boards(session) -> None:
    today = calendar.today()
    first = await load_points(session, today=today)
    assert len(first.offices) == 7 and len(first.events) == 3
    assert sum(o.counters for o in first.offices.values()) == 29
    tickets = await session.scalar(select(func.count()).select_from(Ticket))
    second = await load_points(session, today=today)
    assert second.created == [] and await session.scalar(select(func.count()).select_from(Ticket)) == tickets
    assert await session.scalar(select(func.count()).where(ServicePoint.name.like("Kantor Kecamatan %"))) == 7
    board = await queues.board(session, point_id=first.offices["36.74.03"].id)
    assert board["served"] > 0 and board["waiting"] == 3
    assert len(board["now_serving"]) == (5 if board["open_now"] else 0)  # a closed office serves nobody
    assert {e.event_date.weekday() for e in first.events} <= {5, 6}


async def test_every_office_has_a_counter_per_device_standing_there(session) -> None:
    """In the whole demo's order: the staff demo makes the Serpong office first, bare."""
    from api.auth import demo as staff_demo
    from api.campaigns import demo as campaigns_demo
    from api.devices import demo as devices_demo
    from api.devices.models import Allocation, Device

    today = calendar.today()
    await staff_demo.load(session)
    campaign = (await campaigns_demo.load(session, today=today)).campaign
    offices = (await load_points(session, today=today)).offices
    await devices_demo.load(session, campaign=campaign)
    standing = dict(
        (await session.execute(
            select(Allocation.service_point_id, func.count()).join(Device, Device.id == Allocation.device_id)
            .where(Device.kind == "static").group_by(Allocation.service_point_id)
        )).all()
    )  # fmt: skip
    assert {code: office.counters for code, office in offices.items()} == {code: standing[office.id] for code, office in offices.items()}
    serpong = offices["36.74.01"]
    assert serpong.address and serpong.opening_hours == demo.OPENING_HOURS and serpong.counters == 4

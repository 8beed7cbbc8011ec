"""Who may do what with home visits. Requests are made in Serpong (the cases' area 36.74.01)."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from tests.access import CALLERS, Case, Request, public_read
from tests.factories import make_campaign
from tests.visits.factories import make_kit, make_operator, make_request, payload, schedule, triage

BOARD = {"anonymous": 401, "admin": 200, "viewer": 200, "supervisor_in": 200, "supervisor_out": 200}
# Personal records: out-of-scope supervisors are told nothing exists.
PERSONAL = {"anonymous": 401, "admin": 200, "supervisor_in": 200, "supervisor_out": 404}


async def _intake(session: AsyncSession) -> Request:
    await make_campaign(session)
    return Request(json=payload())


async def _board(session: AsyncSession) -> Request:
    await make_campaign(session)
    await make_request(session)
    return Request()


async def _tracked(session: AsyncSession) -> Request:
    await make_campaign(session)
    return Request(path_params={"code": (await make_request(session)).tracking_code})


async def _one(session: AsyncSession) -> Request:
    await make_campaign(session)
    return Request(path_params={"visit_id": (await make_request(session)).id}, json={"status": "cancelled", "note": "resident came to the office"})


async def _triaged(session: AsyncSession) -> Request:
    await make_campaign(session)
    visit_id = (await make_request(session)).id
    await triage(session, visit_id)
    kit_id, operator_id = (await make_kit(session)).id, (await make_operator(session)).id
    tomorrow = (calendar.today() + timedelta(days=1)).isoformat()
    return Request(
        path_params={"visit_id": visit_id},
        json={"device_id": kit_id, "operator_id": operator_id, "date": tomorrow, "window": {"start": "09:00", "end": "10:00"}},
    )


def _triaged_with_crew_posted_in(area: str):
    """The triaged request (in 36.74.01) and a kit and a petugas posted in `area` (issue #17, item 1)."""

    async def setup(session: AsyncSession) -> Request:
        from tests.devices.factories import place_device, post_operator

        request = await _triaged(session)
        await place_device(session, request.json["device_id"], area=area, starts_on=calendar.today())
        await post_operator(session, request.json["operator_id"], area=area, starts_on=calendar.today())
        return request

    return setup


async def _kit(session: AsyncSession) -> Request:
    return Request(path_params={"device_id": (await make_kit(session)).id})


async def _crew_day(session: AsyncSession) -> tuple[int, int, int]:
    """A request scheduled today on a kit and a petugas: (visit, kit, operator)."""
    await make_campaign(session)
    visit_id = (await make_request(session)).id
    await triage(session, visit_id)
    kit_id, operator_id = (await make_kit(session)).id, (await make_operator(session)).id
    await schedule(session, visit_id, device_id=kit_id, operator_id=operator_id, day=calendar.today(), today=calendar.today())
    return visit_id, kit_id, operator_id


def _crew_marks(status: str):
    async def setup(session: AsyncSession) -> Request:
        visit_id, _, operator_id = await _crew_day(session)
        return Request(path_params={"visit_id": visit_id}, json={"status": status, "note": "at the door"}, operator_id=operator_id)

    return setup


async def _crew_kit(session: AsyncSession) -> Request:
    _, kit_id, operator_id = await _crew_day(session)
    return Request(path_params={"device_id": kit_id}, params={"date": calendar.today().isoformat()}, operator_id=operator_id)


CASES = [
    Case("POST", "/api/v1/home-visits", expect=dict.fromkeys(CALLERS, 201), setup=_intake, note="public, rate-limited"),
    Case("GET", "/api/v1/home-visits", expect=BOARD, setup=_board, note="masked; supervisors see their own area"),
    Case("GET", "/api/v1/home-visits/stats", expect=BOARD, setup=_board),
    public_read("GET", "/api/v1/home-visits/track/{code}", setup=_tracked),
    Case("GET", "/api/v1/home-visits/{visit_id}", expect=PERSONAL, setup=_one),
    Case("POST", "/api/v1/home-visits/{visit_id}/schedule", expect=PERSONAL, setup=_triaged, note="not the kit's operator"),
    Case("POST", "/api/v1/home-visits/{visit_id}/schedule", expect=PERSONAL, setup=_triaged_with_crew_posted_in("36.74.01"), note="crew posted in the area"),
    Case(
        "POST",
        "/api/v1/home-visits/{visit_id}/schedule",
        expect={**PERSONAL, "supervisor_in": 403},
        setup=_triaged_with_crew_posted_in("36.74.02"),
        note="kit and petugas posted in another kecamatan: resource out of scope",
    ),  # fmt: skip
    Case("POST", "/api/v1/home-visits/{visit_id}/status", expect=PERSONAL, setup=_one, note="operator accounts not linked to a petugas: 403"),
    Case(
        "POST",
        "/api/v1/home-visits/{visit_id}/status",
        expect={**PERSONAL, "operator_in": 200, "operator_out": 404},
        setup=_crew_marks("visited"),
        note="the scheduled petugas marks it visited; another petugas is told nothing",
    ),  # fmt: skip
    Case(
        "POST",
        "/api/v1/home-visits/{visit_id}/status",
        expect={**PERSONAL, "operator_in": 403, "operator_out": 404},
        setup=_crew_marks("cancelled"),
        note="cancelling is the dispatcher's, not the petugas'",
    ),  # fmt: skip
    Case("GET", "/api/v1/mobile-kits/{device_id}/day-plan", expect={**PERSONAL, "supervisor_out": 200}, setup=_kit, note="stops in the caller's area only"),
    Case(
        "GET",
        "/api/v1/mobile-kits/{device_id}/day-plan",
        expect={**PERSONAL, "supervisor_out": 200, "operator_in": 200},
        setup=_crew_kit,
        note="the petugas scheduled on the kit that day: their own stops",
    ),  # fmt: skip
    Case(
        "GET",
        "/api/v1/mobile-kits/mine",
        expect={"anonymous": 401, "operator_in": 200, "operator_out": 200},
        setup=_crew_kit,
        note="operator accounts that are a petugas (operator_out: another one, with no kit)",
    ),  # fmt: skip
    Case("GET", "/api/v1/mobile-kits/mine", expect={"anonymous": 401}, note="operator accounts that are no petugas"),
]

"""Who may do what with devices, operators, allocations, capacity and the allocation plan."""

from datetime import timedelta
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.campaigns.schemas import TargetIn
from tests.access import CALLERS, Case, Request
from tests.devices.factories import make_device, make_operator, place_device, post_operator
from tests.factories import make_campaign

_serials = count(1)
TODAY = calendar.today()
STAFF = ("admin", "viewer", "handler", "supervisor_in", "supervisor_out", "operator_in", "operator_out")


def staff_read(method: str, path: str, setup, status: int = 200) -> Case:
    """Any signed-in staff member reads; the public does not."""
    return Case(method, path, expect={**dict.fromkeys(STAFF, status), "anonymous": 401}, setup=setup)


async def device_in_serpong(session: AsyncSession) -> Request:
    device_id = await make_device(session)
    await place_device(session, device_id, area="36.74.01", starts_on=TODAY - timedelta(days=3))
    return Request(path_params={"device_id": device_id}, area="36.74.01")


async def new_device(_: AsyncSession) -> Request:
    return Request(json={"serial": f"ACCESS-{next(_serials)}", "kind": "mobile", "owner": "kemendagri", "daily_capacity": 40})


async def note_on_device(session: AsyncSession) -> Request:
    request = await device_in_serpong(session)
    request.json = {"notes": "lensa dibersihkan"}
    return request


async def move_device(session: AsyncSession) -> Request:
    request = await device_in_serpong(session)
    request.json = {"area": "36.74.01.1001", "from": (TODAY + timedelta(days=1)).isoformat()}
    return request


async def operator_in_serpong(session: AsyncSession) -> Request:
    operator_id = await make_operator(session)
    await post_operator(session, operator_id, area="36.74.01", starts_on=TODAY - timedelta(days=3))
    return Request(path_params={"operator_id": operator_id}, area="36.74.01")


async def new_operator(_: AsyncSession) -> Request:
    return Request(json={"name": "Petugas Baru", "staff_number": f"ACCESS-{next(_serials)}", "phone": "081200001111"})


async def rename_operator(session: AsyncSession) -> Request:
    request = await operator_in_serpong(session)
    request.json = {"name": "Petugas Serpong"}
    return request


async def post_operator_in_serpong(session: AsyncSession) -> Request:
    request = await operator_in_serpong(session)
    request.json = {"area": "36.74.01", "from": (TODAY + timedelta(days=1)).isoformat()}
    return request


async def places_today(session: AsyncSession) -> Request:
    await device_in_serpong(session)
    return Request(params={"area": "36.74.01", "date": TODAY.isoformat()})


async def campaign_with_fleet(session: AsyncSession) -> Request:
    from api.campaigns import service as campaigns
    from api.principal import SYSTEM

    campaign = await make_campaign(session, target=2000, deadline=TODAY + timedelta(days=10))
    await campaigns.put_targets(session, campaign=campaign, items=[TargetIn(area="36.74.01", target=500), TargetIn(area="36.74.02", target=1500)], actor=SYSTEM)
    for area in ("36.74.01", "36.74.01", "36.74.02"):
        device_id = await make_device(session)
        await place_device(session, device_id, area=area, starts_on=TODAY - timedelta(days=3))
        await post_operator(session, await make_operator(session), area=area, starts_on=TODAY - timedelta(days=3))
    return Request(
        path_params={"campaign_id": campaign.id}, params={"date": TODAY.isoformat()}, json={"as_of": TODAY.isoformat(), "movable": "all"}, area="36.74"
    )


async def devices_in_area(session: AsyncSession) -> Request:
    request = await places_today(session)
    request.params.pop("date")  # the device list has no date filter; an undeclared parameter is a 422 (#24)
    return request


async def plan_with_fleet(session: AsyncSession) -> Request:
    request = await campaign_with_fleet(session)
    request.params = {}  # the plan's `as_of` is in the body (#24: undeclared query parameters are refused)
    return request


CASES = [
    Case("POST", "/api/v1/devices", expect={"admin": 201, "anonymous": 401}, setup=new_device),
    staff_read("GET", "/api/v1/devices", devices_in_area),
    staff_read("GET", "/api/v1/devices/{device_id}", device_in_serpong),
    Case("PATCH", "/api/v1/devices/{device_id}", expect={"admin": 200, "supervisor_in": 200, "anonymous": 401}, setup=note_on_device),
    Case("POST", "/api/v1/devices/{device_id}/allocations", expect={"admin": 201, "supervisor_in": 201, "anonymous": 401}, setup=move_device),
    staff_read("GET", "/api/v1/devices/{device_id}/allocations", device_in_serpong),
    staff_read("GET", "/api/v1/allocations", places_today),
    staff_read("GET", "/api/v1/allocations/summary", places_today),
    Case("POST", "/api/v1/operators", expect={"admin": 201, "anonymous": 401}, setup=new_operator),
    staff_read("GET", "/api/v1/operators", operator_in_serpong),
    staff_read("GET", "/api/v1/operators/{operator_id}", operator_in_serpong),
    Case("PATCH", "/api/v1/operators/{operator_id}", expect={"admin": 200, "supervisor_in": 200, "anonymous": 401}, setup=rename_operator),
    Case("POST", "/api/v1/operators/{operator_id}/assignments", expect={"admin": 201, "supervisor_in": 201, "anonymous": 401}, setup=post_operator_in_serpong),
    staff_read("GET", "/api/v1/operators/{operator_id}/assignments", operator_in_serpong),
    staff_read("GET", "/api/v1/campaigns/{campaign_id}/capacity", campaign_with_fleet),
    Case(
        "POST",
        "/api/v1/campaigns/{campaign_id}/allocation-plan",
        expect={"admin": 200, "viewer": 200, "supervisor_in": 200, "supervisor_out": 200, "anonymous": 401},
        setup=plan_with_fleet,
    ),
    Case("POST", "/api/v1/campaigns/{campaign_id}/allocation-plan/apply", expect={"admin": 200, "anonymous": 401}, setup=plan_with_fleet),
]

assert all(set(case.expect) <= set(CALLERS) for case in CASES)

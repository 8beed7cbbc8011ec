"""Who may use the service-point endpoints (see tests/access.py)."""

from datetime import timedelta

from api import calendar, flows
from api.principal import SYSTEM
from api.services.schemas import ClosureCreate
from tests.access import Case, Request, public_read
from tests.factories import make_campaign
from tests.services.factories import make_device, make_event, make_office, make_operator, next_saturday

WRITERS = {"anonymous": 401, "admin": 200, "supervisor_in": 200}
PLANNER_READERS = {"anonymous": 401, "admin": 200, "viewer": 200, "supervisor_in": 200, "supervisor_out": 200}


async def office(session) -> Request:
    point = await make_office(session)
    return Request(path_params={"point_id": point.id}, service_point_id=point.id)


async def new_office(_) -> Request:
    return Request(json={"kind": "kecamatan_office", "name": "Kantor baru", "area": "36.74.01", "counters": 2, "opening_hours": {"sat": [["08:00", "12:00"]]}})


async def office_update(session) -> Request:
    request = await office(session)
    request.json = {"name": "Kantor Kecamatan (renamed)"}
    return request


async def new_closure(session) -> Request:
    request = await office(session)
    request.json = {"date": next_saturday().isoformat(), "reason": "Libur"}
    return request


async def closure(session) -> Request:
    point = await make_office(session)
    made, _ = await flows.add_closure(session, point_id=point.id, data=ClosureCreate(day=next_saturday(), reason="Libur"), actor=SYSTEM)
    return Request(path_params={"point_id": point.id, "closure_id": made.id}, service_point_id=point.id)


async def event(session) -> Request:
    point = await make_event(session)
    return Request(path_params={"point_id": point.id}, json={"device_ids": [], "operator_ids": []}, service_point_id=point.id)


def event_with_crew_posted_in(area: str):
    """A weekend event in the case's area (36.74.01) and a device and an operator posted in `area`
    that day: resource scope next to place scope (issue #17, item 1)."""

    async def setup(session) -> Request:
        from tests.devices.factories import place_device, post_operator

        point = await make_event(session)
        device_id, operator_id = (await make_device(session)).id, (await make_operator(session)).id
        today = calendar.today()
        await place_device(session, device_id, area=area, starts_on=today)
        await post_operator(session, operator_id, area=area, starts_on=today)
        return Request(path_params={"point_id": point.id}, json={"device_ids": [device_id], "operator_ids": [operator_id]}, service_point_id=point.id)

    return setup


async def day_count(session) -> Request:
    await make_campaign(session)
    point = await make_office(session)
    return Request(path_params={"point_id": point.id, "day": calendar.today().isoformat()}, json={"count": 5}, service_point_id=point.id)


async def schedule(_) -> Request:
    saturday = next_saturday()
    return Request(params={"from": saturday.isoformat(), "to": (saturday + timedelta(days=6)).isoformat()})


async def uncovered(_) -> Request:
    return Request(params={"area": "36.74.01"})


async def weekend_plan(session) -> Request:
    from tests.factories import make_campaign

    await make_campaign(session, root="36.74.01")
    return Request(params={"area": "36.74.01", "date": next_saturday().isoformat()})


CASES = [
    public_read("GET", "/api/v1/service-points"),
    Case("POST", "/api/v1/service-points", expect={**WRITERS, "admin": 201, "supervisor_in": 201}, setup=new_office),
    public_read("GET", "/api/v1/service-points/{point_id}", setup=office),
    Case("PATCH", "/api/v1/service-points/{point_id}", expect=WRITERS, setup=office_update),
    public_read("GET", "/api/v1/service-points/{point_id}/closures", setup=office),
    Case("POST", "/api/v1/service-points/{point_id}/closures", expect={**WRITERS, "admin": 201, "supervisor_in": 201}, setup=new_closure),
    Case("DELETE", "/api/v1/service-points/{point_id}/closures/{closure_id}", expect={**WRITERS, "admin": 204, "supervisor_in": 204}, setup=closure),
    Case("GET", "/api/v1/service-points/{point_id}/assignments", expect=PLANNER_READERS, setup=event),
    Case("PUT", "/api/v1/service-points/{point_id}/assignments", expect=WRITERS, setup=event),
    Case("PUT", "/api/v1/service-points/{point_id}/assignments", expect=WRITERS, setup=event_with_crew_posted_in("36.74.01"), note="crew posted in the area"),
    Case(
        "PUT",
        "/api/v1/service-points/{point_id}/assignments",
        expect={"anonymous": 401, "admin": 200},
        setup=event_with_crew_posted_in("36.74.02"),
        note="crew posted in another kecamatan: resource out of scope",
    ),  # fmt: skip
    Case("PUT", "/api/v1/service-points/{point_id}/counts/{day}", expect={**WRITERS, "operator_in": 200}, setup=day_count),
    public_read("GET", "/api/v1/schedule", setup=schedule),
    Case("GET", "/api/v1/weekend-events/uncovered", expect=PLANNER_READERS, setup=uncovered),
    Case("GET", "/api/v1/weekend-events/plan", expect={**PLANNER_READERS, "supervisor_out": 403}, setup=weekend_plan, note="a supervisor plans in their area"),
]

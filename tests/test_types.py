"""Issue 17, item 13: dates a person enters are bounded (0001-01-01 and 9999-12-31 were accepted)."""

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from api import calendar
from api.campaigns.schemas import CampaignCreate, SnapshotCreate
from api.complaints.schemas import ComplaintCreate
from api.devices.schemas import PlacementCreate
from api.services.schemas import ClosureCreate

ABSURD = [date(1, 1, 1), date(1999, 12, 31), date(2101, 1, 1), date(9999, 12, 31)]


@pytest.mark.parametrize("day", ABSURD)
def test_absurd_dates_are_refused(day: date) -> None:
    fine = date(2026, 6, 1)
    with pytest.raises(ValidationError):
        CampaignCreate(name="x", root_area="36.74", start_date=day, deadline=fine, target=1)
    with pytest.raises(ValidationError):
        CampaignCreate(name="x", root_area="36.74", start_date=fine, deadline=day, target=1)
    with pytest.raises(ValidationError):
        PlacementCreate.model_validate({"area": "36.74.01", "from": day.isoformat()})
    with pytest.raises(ValidationError):
        SnapshotCreate(area="36.74.01", as_of=day, cumulative=1)
    with pytest.raises(ValidationError):
        ClosureCreate(day=day, reason="x")
    with pytest.raises(ValidationError) as complaint:
        ComplaintCreate.model_validate({"area": "36.74.01", "place": "x", "occurred_on": day.isoformat()})
    assert any(error["loc"] == ("occurred_on",) for error in complaint.value.errors())


def test_sane_dates_pass() -> None:
    CampaignCreate(name="x", root_area="36.74", start_date=date(2000, 1, 1), deadline=date(2100, 12, 31), target=1)
    PlacementCreate.model_validate({"area": "36.74.01", "from": (calendar.today() + timedelta(days=30)).isoformat()})


# --- every date of the API, query parameters included, and the placement window --------------


def _openapi() -> dict:
    from api.main import create_app

    return create_app().openapi()


def _date_schemas(schema: dict) -> list[dict]:
    """The date schemas in a property or parameter schema (through anyOf and array items)."""
    if schema.get("format") == "date":
        return [schema]
    found = []
    for option in schema.get("anyOf", []):
        found += _date_schemas(option)
    if "items" in schema:
        found += _date_schemas(schema["items"])
    return found


def _date_query_parameters(document: dict, *, read_queries_only: bool = False) -> list[tuple[str, str, dict]]:
    """(path, name, schema) of every date parameter; `read_queries_only`: of GET routes' queries."""
    return [
        (path, parameter["name"], schema)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if not read_queries_only or (method == "get" and parameter["in"] == "query")
        for schema in _date_schemas(parameter["schema"])
    ]


def test_every_date_the_api_takes_declares_the_window() -> None:
    """Query parameters (from, to, date, on...) and request bodies alike: 2000-01-01..2100-12-31 in the document."""
    document = _openapi()
    components = document["components"]["schemas"]
    parameters = _date_query_parameters(document)
    assert len(parameters) >= 20  # schedule, slots, audit, stats, tallies, allocations, capacity...
    unbounded = [
        f"{path} ?{name}" for path, name, schema in parameters if (schema.get("formatMinimum"), schema.get("formatMaximum")) != ("2000-01-01", "2100-12-31")
    ]

    def request_schemas(node, seen: set[str]) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[1]
                if name not in seen:
                    seen.add(name)
                    request_schemas(components[name], seen)
            for value in node.values():
                request_schemas(value, seen)
        elif isinstance(node, list):
            for value in node:
                request_schemas(value, seen)

    bodies: set[str] = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            request_schemas(operation.get("requestBody", {}), bodies)
    body_dates = 0
    for name in sorted(bodies):
        for field_name, schema in components[name].get("properties", {}).items():
            for day in _date_schemas(schema):
                body_dates += 1
                if (day.get("formatMinimum"), day.get("formatMaximum")) != ("2000-01-01", "2100-12-31"):
                    unbounded.append(f"{name}.{field_name}")
    assert body_dates >= 15
    assert unbounded == []


async def test_absurd_dates_in_query_parameters_are_refused(client, session) -> None:
    """Every date query parameter of every route: 0001-01-01 and 9999-12-31 are a 422 naming it."""
    from api.types import Role
    from tests.factories import assert_problem, headers_for, make_campaign, make_service_point

    campaign = await make_campaign(session)
    point = await make_service_point(session)
    admin = await headers_for(session, role=Role.admin)
    operator = await headers_for(session, role=Role.operator, service_point_id=point.id)
    parameters = _date_query_parameters(_openapi(), read_queries_only=True)
    for path, name, _ in parameters:
        url = path.replace("{campaign_id}", str(campaign.id)).replace("{point_id}", str(point.id)).replace("{device_id}", "1")
        headers = operator if path.endswith("/mobile-kits/mine") else admin
        for absurd in ("0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"):
            response = await client.get(url, params={name: absurd}, headers=headers)
            problem = assert_problem(response, 422)
            assert any(error.get("field") == name and error.get("location") == "query" for error in problem["errors"]), (path, name, problem)
    # Sane dates are still answered.
    today = calendar.today().isoformat()
    assert (await client.get("/api/v1/schedule", params={"from": today, "to": today})).status_code == 200
    assert (await client.get(f"/api/v1/campaigns/{campaign.id}/progress/daily", params={"area": "36.74", "from": today})).status_code == 200


async def test_placements_lie_within_a_campaign_of_their_area(client, session) -> None:
    """Allocations and postings from 9999-12-31 (or years ahead) are refused: within the campaign's start..deadline."""
    from api.types import Role
    from tests.devices.factories import make_device, make_operator
    from tests.factories import assert_problem, headers_for, make_campaign

    today = calendar.today()
    campaign = await make_campaign(session, start=today - timedelta(days=10), deadline=today + timedelta(days=20))
    admin = await headers_for(session, role=Role.admin)
    device = await make_device(session)
    operator = await make_operator(session)
    allocations, assignments = f"/api/v1/devices/{device}/allocations", f"/api/v1/operators/{operator}/assignments"

    def period(first: int, last: int | None = None) -> dict:
        body = {"area": "36.74.01", "from": (today + timedelta(days=first)).isoformat()}
        if last is not None:
            body["to"] = (today + timedelta(days=last)).isoformat()
        return body

    for url in (allocations, assignments):
        assert_problem(await client.post(url, json={"area": "36.74.01", "from": "9999-12-31"}, headers=admin), 422, field="from")
        assert_problem(await client.post(url, json=period(21), headers=admin), 422, field="from")  # after the deadline
        assert_problem(await client.post(url, json=period(-11), headers=admin), 422, field="from")  # before the start
        problem = assert_problem(await client.post(url, json=period(1, 21), headers=admin), 422, field="to")
        assert problem["code"] == "placement.outside_campaign" and problem["params"]["end"] == str(campaign.deadline), problem
        placed = await client.post(url, json=period(1, 20), headers=admin)
        assert placed.status_code == 201, placed.text
    # Until further notice is allowed: it ends with the campaign.
    other = await make_device(session)
    assert (await client.post(f"/api/v1/devices/{other}/allocations", json=period(0), headers=admin)).status_code == 201


async def test_placements_where_no_campaign_runs_stay_within_a_year_of_today(client, session) -> None:
    from api.devices.placements import PLACE_WINDOW_DAYS
    from api.types import Role
    from tests.devices.factories import make_device
    from tests.factories import assert_problem, headers_for

    today = calendar.today()
    admin = await headers_for(session, role=Role.admin)
    device = await make_device(session)
    url = f"/api/v1/devices/{device}/allocations"
    far = (today + timedelta(days=PLACE_WINDOW_DAYS + 1)).isoformat()
    assert_problem(await client.post(url, json={"area": "36.74.01", "from": far}, headers=admin), 422, field="from")
    assert_problem(await client.post(url, json={"area": "36.74.01", "from": today.isoformat(), "to": far}, headers=admin), 422, field="to")
    assert (await client.post(url, json={"area": "36.74.01", "from": today.isoformat()}, headers=admin)).status_code == 201

"""The API contract (#24): a client generated from the live OpenAPI document works, with no warnings.

`openapi-python-client` generates a package from /api/v1/openapi.json; any warning (a dangling
reference, an unsupported body, a dropped endpoint) fails the test. The generated client then posts
tallies as JSON and as a CSV file to a real server and reads progress, imports and history as typed
models. The other tests here check what the document and the error bodies promise.
"""

import asyncio
import importlib
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import calendar
from api.config import Settings
from tests.live import live_server

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
# text/csv is sent as file content (format: binary); the generator's documented way to treat a
# content type it does not know as a file. No post hooks: formatting the output is not the point.
GENERATOR_CONFIG = "post_hooks: []\ncontent_type_overrides:\n  text/csv: application/octet-stream\n"
PACKAGE = "rekam_contract_client"


def openapi_document() -> dict[str, Any]:
    from api.main import create_app

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(Settings(serve_frontend=False)))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/api/v1/openapi.json")

    response = asyncio.run(fetch())
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory):
    if not GENERATOR.exists() and shutil.which("openapi-python-client") is None:
        pytest.fail("openapi-python-client is not installed (pip install -e '.[test]')")
    folder = tmp_path_factory.mktemp("client")
    import json

    (folder / "openapi.json").write_text(json.dumps(openapi_document()))
    (folder / "config.yml").write_text(GENERATOR_CONFIG)
    command = [
        str(GENERATOR) if GENERATOR.exists() else "openapi-python-client",
        "generate",
        "--path",
        "openapi.json",
        "--config",
        "config.yml",
        "--meta",
        "none",
        "--output-path",
        PACKAGE,
    ]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


async def _campaign_and_key(url: str) -> tuple[int, str]:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.areas import service as areas
    from api.auth import service as auth
    from api.auth.schemas import ApiKeyCreate, UserCreate
    from api.campaigns import service as campaigns
    from api.campaigns.schemas import CampaignCreate
    from api.db import create_engine_for
    from api.principal import SYSTEM
    from api.types import Role

    engine = create_engine_for(url)
    try:
        async with engine.begin() as connection:
            await areas.load_official(connection, prefix="36.74")
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            today = calendar.today()
            campaign = await campaigns.create_campaign(
                session,
                data=CampaignCreate(
                    name="Contract", root_area="36.74", start_date=today - timedelta(days=30), deadline=today + timedelta(days=60), target=760_097
                ),
                actor=SYSTEM,
            )
            owner = await auth.create_user(
                session, data=UserCreate(username="contract.owner", display_name="Owner", password="long-enough-password", role=Role.admin), actor=SYSTEM
            )
            _, key = await auth.create_api_key(
                session, data=ApiKeyCreate(name="data-team", role=Role.supervisor, area="36.74", owner=owner.username), actor=SYSTEM
            )
            return campaign.id, key
    finally:
        await engine.dispose()


def test_generated_client_posts_tallies_and_reads_progress_imports_and_history(generated, migrated_database_url: str) -> None:
    from io import BytesIO

    client_module = importlib.import_module(f"{PACKAGE}.client")
    tallies = importlib.import_module(f"{PACKAGE}.api.tallies")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    post_tallies = importlib.import_module(f"{tallies.__name__}.post_tallies")
    list_imports = importlib.import_module(f"{tallies.__name__}.list_imports")
    get_import = importlib.import_module(f"{tallies.__name__}.get_import")
    tally_history = importlib.import_module(f"{tallies.__name__}.tally_history")
    get_progress = importlib.import_module(f"{PACKAGE}.api.campaigns.get_progress")

    campaign_id, key = asyncio.run(_campaign_and_key(migrated_database_url))
    yesterday = calendar.today() - timedelta(days=1)
    with live_server(migrated_database_url) as base:
        client = client_module.AuthenticatedClient(base_url=base, token=key, prefix="", auth_header_name="X-API-Key")
        body = models.TalliesPost(tallies=[models.TallyIn(area="36.74.01", date=yesterday, count=40, source=models.TallySource.SCRIPT)])
        posted = post_tallies.sync_detailed(campaign_id, client=client, body=body, idempotency_key="contract-json-1")
        assert posted.status_code == 200, posted.content
        summary = posted.parsed
        assert isinstance(summary, models.ImportSummary)
        assert summary.status == models.ImportStatus.OK and summary.imported == 1
        assert posted.headers["location"] == f"/api/v1/campaigns/{campaign_id}/imports/{summary.import_id}"

        csv = f"area,date,count\r\n36.74.02,{yesterday},25\r\n36.74.01,{yesterday},41\r\n".encode()
        file = types.File(payload=BytesIO(csv), file_name="tallies.csv", mime_type="text/csv")
        posted_csv = post_tallies.sync_detailed(campaign_id, client=client, body=file)
        assert posted_csv.status_code == 200, posted_csv.content
        assert isinstance(posted_csv.parsed, models.ImportSummary)
        assert (posted_csv.parsed.imported, posted_csv.parsed.updated) == (1, 1)

        rejected = post_tallies.sync_detailed(
            campaign_id, client=client, body=types.File(payload=BytesIO(b"area,date,count\r\n36.74.99,2020-01-01,x\r\n"), mime_type="text/csv")
        )
        assert rejected.status_code == 422
        assert isinstance(rejected.parsed, models.TalliesRejected)
        assert rejected.parsed.code == "tallies.rejected" and rejected.parsed.summary.status == models.ImportStatus.ERROR
        assert rejected.parsed.instance == rejected.headers["x-request-id"]

        imports = list_imports.sync_detailed(campaign_id, client=client)
        assert isinstance(imports.parsed, models.PageImportRead)
        assert [item.id for item in imports.parsed.items] == [posted_csv.parsed.import_id, summary.import_id]  # newest first
        one = get_import.sync_detailed(campaign_id, summary.import_id, client=client)
        assert isinstance(one.parsed, models.ImportRead) and isinstance(one.parsed.summary, models.ImportSummary)
        assert one.parsed.actor_kind == models.ActorKind.API_KEY and one.parsed.summary.imported == 1

        history = tally_history.sync_detailed(campaign_id, client=client, area="36.74.01")
        assert isinstance(history.parsed, models.PageTallyChangeRead)
        assert sorted(change.new_count for change in history.parsed.items) == [40, 41]

        progress = get_progress.sync_detailed(campaign_id, client=client)
        assert isinstance(progress.parsed, models.ProgressNode), progress.content


def test_document_declares_security_operation_ids_and_no_dangling_references() -> None:
    import json

    document = openapi_document()
    text = json.dumps(document)
    assert "#/$defs/" not in text
    assert set(document["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert document["servers"]
    post = document["paths"]["/api/v1/campaigns/{campaign_id}/tallies"]["post"]
    assert post["operationId"] == "post_tallies" and post["tags"] == ["tallies"]
    assert {"bearer": []} in post["security"] and {"apiKey": []} in post["security"]
    assert post["requestBody"]["content"]["text/csv"]["schema"]["format"] == "binary"
    assert document["paths"]["/api/v1/campaigns/{campaign_id}/targets"]["put"]["requestBody"]["content"]["text/csv"]["schema"]["format"] == "binary"
    operation_ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert "partial" in document["components"]["schemas"]["ImportStatus"]["enum"]
    assert document["components"]["schemas"]["TallySource"]["enum"] == ["manual", "script", "demo"]


async def test_unknown_query_parameters_are_refused(client) -> None:
    response = await client.post("/api/v1/campaigns/1/tallies", params={"dryRun": "true"}, json={"tallies": []}, headers={"X-Request-ID": "contract-1"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:rekam:problem:validation" and problem["code"] == "validation.unknown_parameter"
    assert problem["instance"] == "contract-1"
    assert problem["errors"] == [{"location": "query", "field": "dryRun", "code": "unknown_parameter", "message": "Parameter kueri ini tidak dikenal."}]
    assert problem["params"] == {"names": "dryRun"} and problem["detail"] == "Parameter kueri tidak dikenal: dryRun."
    assert (await client.get("/api/v1/areas/36.74.01", params={"areaa": "36.74.02"})).status_code == 422


async def test_invalid_credentials_are_refused_on_public_endpoints(client) -> None:
    for headers in ({"X-API-Key": "rk_not-a-key"}, {"Authorization": "Bearer not-a-token"}):
        response = await client.get("/api/v1/areas/36.74.01", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] in ("auth.token_invalid", "auth.key_invalid")
    assert (await client.get("/api/v1/areas/36.74.01")).status_code == 200


async def test_problems_carry_instance_and_codes(client) -> None:
    missing = await client.get("/api/v1/areas/36.74.99", headers={"X-Request-ID": "contract-2"})
    assert missing.status_code == 404
    body = missing.json()
    assert (body["type"], body["code"], body["instance"], body["params"]) == ("urn:rekam:problem:not-found", "area.unknown", "contract-2", {"code": "36.74.99"})
    invalid = await client.get("/api/v1/campaigns", params={"limit": "0"})
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["type"] == "urn:rekam:problem:validation" and body["code"] == "validation.invalid"
    assert body["errors"][0]["code"] == "at_least" and body["errors"][0]["params"] == {"limit": 1}
    assert body["instance"] == invalid.headers["x-request-id"]


async def test_idempotent_replays_are_flagged_and_rejected_requests_are_not_stored(client, session) -> None:
    from api.campaigns.service import today_for
    from api.types import Role
    from tests.factories import headers_for, make_campaign

    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    day = (today_for(campaign) - timedelta(days=1)).isoformat()
    url = f"/api/v1/campaigns/{campaign.id}/tallies"
    headers = {**admin, "Idempotency-Key": "contract-retry"}
    bad = await client.post(url, json={"tallies": [{"area": "36.74.99", "date": day, "count": 1}]}, headers=headers)
    assert bad.status_code == 422 and "idempotent-replayed" not in bad.headers
    good_body = {"tallies": [{"area": "36.74.01", "date": day, "count": 1}]}
    first = await client.post(url, json=good_body, headers=headers)  # the corrected request, same key
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    again = await client.post(url, json=good_body, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true" and again.json() == first.json()


def test_enforced_values_are_declared_enums() -> None:
    """#24 item 3: a field whose values are a fixed set is an enum in the document, not a bare string."""
    schemas = openapi_document()["components"]["schemas"]

    def enum_of(schema: str, field: str) -> list[str]:
        prop = schemas[schema]["properties"][field]
        ref = prop.get("$ref") or next((option["$ref"] for option in prop.get("anyOf", []) + prop.get("allOf", []) if "$ref" in option), None)
        assert ref, f"{schema}.{field} is not an enum: {prop}"
        return schemas[ref.rsplit("/", 1)[1]]["enum"]

    assert enum_of("Discrepancy", "kind") == ["snapshot", "tally"]
    assert {"rw", "rt"} <= set(enum_of("UncoveredArea", "level"))
    assert {"outside_scope", "gap", "wrong_columns", "duplicate_key"} <= set(enum_of("ImportProblem", "code"))
    assert enum_of("Me", "kind") == ["anonymous", "user", "api_key", "system"]
    assert enum_of("AuditEntryRead", "actor_kind") == ["anonymous", "user", "api_key", "system"]


def test_every_import_problem_code_in_the_code_is_declared() -> None:
    import re

    from api.tallies.schemas import ImportProblemCode

    root = Path(__file__).resolve().parents[1] / "api" / "tallies"
    used = set()
    for source in root.glob("*.py"):
        text = source.read_text()
        used |= set(re.findall(r"(?:reject|\.add)\([^,()]+, (?:None|\"[a-z_]+\"|[^,]+), \"([a-z_]+)\"[,)]", text))
        used |= set(re.findall(r"(?:problem|day)(?:: str \| None)? = \"([a-z_]+)\"", text))
        used |= set(re.findall(r"return \w+, \"([a-z_]+)\"", text))
    assert len(used) >= 15
    assert used <= {code.value for code in ImportProblemCode}, used - {code.value for code in ImportProblemCode}


def test_every_schema_and_field_has_a_description() -> None:
    """#24 item 5: the document explains every schema and every property (no bare names)."""
    schemas = openapi_document()["components"]["schemas"]
    missing = [name for name, schema in schemas.items() if not schema.get("description")]
    missing += [f"{name}.{field}" for name, schema in schemas.items() for field, prop in schema.get("properties", {}).items() if not prop.get("description")]
    assert not missing, "without a description (pydantic Field(description=...), a docstring, or api/contract.py):\n  " + "\n  ".join(missing)


def test_response_headers_are_documented_where_they_are_sent() -> None:
    document = openapi_document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                headers = response.get("headers", {})
                assert "X-Request-ID" in headers, (method, path, status)
                if status in ("429", "503"):
                    assert "Retry-After" in headers, (method, path, status)
    progress = document["paths"]["/api/v1/campaigns/{campaign_id}/progress"]["get"]["responses"]
    assert "ETag" in progress["200"]["headers"]
    tallies = document["paths"]["/api/v1/campaigns/{campaign_id}/tallies"]["post"]["responses"]
    assert {"Location", "Idempotent-Replayed"} <= set(tallies["200"]["headers"])


# --- #24 item 9: renamed fields and parameters, one release of both names (docs/api.md "Deprecations") --------------


def _deprecated(response: httpx.Response) -> bool:
    from api.deprecation import DEPRECATED_SINCE

    if "deprecation" not in response.headers:
        return False
    assert response.headers["deprecation"] == f"@{int(DEPRECATED_SINCE.timestamp())}"
    assert response.headers["sunset"] == "Mon, 01 Mar 2027 00:00:00 GMT"
    assert 'rel="deprecation"' in response.headers["link"] and "#deprecations" in response.headers["link"]
    return True


async def test_the_deprecation_link_leads_to_the_contract_document(client) -> None:
    from api.deprecation import DOCS_LINK

    response = await client.get(DOCS_LINK.split("#")[0])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/markdown")
    assert "## Deprecations" in response.text


async def test_renamed_tally_fields_old_names_accepted_and_flagged_new_names_sent(client, session) -> None:
    from api.campaigns.service import today_for
    from api.types import Role
    from tests.factories import headers_for, make_campaign, make_service_point
    from tests.tallies.factories import make_device

    campaign = await make_campaign(session)
    point_id = (await make_service_point(session, area="36.74.01")).id
    device_id = (await make_device(session)).id
    admin = await headers_for(session, role=Role.admin)
    day = (today_for(campaign) - timedelta(days=1)).isoformat()
    url = f"/api/v1/campaigns/{campaign.id}/tallies"

    new = await client.post(
        url, json={"tallies": [{"area": "36.74.01", "date": day, "count": 5, "service_point_id": point_id, "device_id": device_id}]}, headers=admin
    )
    assert new.status_code == 200, new.text
    assert not _deprecated(new)
    old = await client.post(
        url, json={"tallies": [{"area": "36.74.01", "date": day, "count": 6, "service_point": point_id, "device": device_id}]}, headers=admin
    )
    assert old.status_code == 200 and old.json()["updated"] == 1  # the same tally: the old names mean the same
    assert _deprecated(old)
    same = {"area": "36.74.01", "date": day, "count": 7, "service_point": point_id, "service_point_id": point_id}
    both = await client.post(url, json={"tallies": [same]}, headers=admin, params={"dry_run": "true"})
    assert both.status_code == 200 and _deprecated(both)
    csv = f"area,date,count,service_point,device\r\n36.74.01,{day},8,{point_id},{device_id}\r\n"
    old_csv = await client.post(url, content=csv.encode(), headers={**admin, "Content-Type": "text/csv"})
    assert old_csv.status_code == 200 and old_csv.json()["updated"] == 1 and _deprecated(old_csv)

    clash = {"area": "36.74.01", "date": day, "count": 7, "service_point": point_id, "service_point_id": point_id + 1}
    refused = await client.post(url, json={"tallies": [clash]}, headers=admin)
    assert refused.status_code == 422
    conflict = refused.json()["summary"]["conflicts"][0]
    assert (conflict["code"], conflict["field"], conflict["rows"], conflict["params"]) == (
        "renamed_conflict",
        "service_point",
        [1],
        {"new": "service_point_id"},
    )

    listed = await client.get(url, headers=admin, params={"area": "36.74.01"})
    assert _deprecated(listed)  # the answer still carries the old fields
    (tally,) = listed.json()["items"]
    assert (tally["service_point_id"], tally["device_id"], tally["count"]) == (point_id, device_id, 8)
    assert (tally["service_point"], tally["device"]) == (point_id, device_id)
    history = (await client.get(f"{url}/history", headers=admin, params={"area": "36.74.01"})).json()["items"]
    assert {(h["service_point_id"], h["service_point"], h["device_id"], h["device"]) for h in history} == {(point_id, point_id, device_id, device_id)}


async def test_renamed_query_parameters(client, session) -> None:
    from tests.factories import make_service_point

    point_id = (await make_service_point(session, area="36.74.02")).id
    today = calendar.today().isoformat()
    new = await client.get("/api/v1/service-points", params={"area": "36.74.02", "date": today})
    old = await client.get("/api/v1/service-points", params={"area": "36.74.02", "open_on": today})
    assert new.status_code == old.status_code == 200 and new.json() == old.json()
    assert not _deprecated(new) and _deprecated(old)
    again = await client.get("/api/v1/service-points", params={"area": "36.74.02", "open_on": today})  # the public read cache keeps the header
    assert _deprecated(again)
    clash = await client.get("/api/v1/service-points", params={"date": today, "open_on": "2026-01-01"})
    assert clash.status_code == 422
    problem = clash.json()
    assert (problem["code"], problem["params"]) == ("renamed.conflict", {"old": "open_on", "new": "date"})
    assert problem["errors"][0]["location"] == "query" and problem["errors"][0]["field"] == "open_on"
    closures = f"/api/v1/service-points/{point_id}/closures"
    by_new, by_old = await client.get(closures, params={"from": today}), await client.get(closures, params={"since": today})
    assert by_new.status_code == by_old.status_code == 200 and by_new.json() == by_old.json() and _deprecated(by_old)


def test_document_marks_old_names_deprecated_and_declares_the_headers() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    for schema in ("TallyIn", "TallyRead", "TallyChangeRead"):
        properties = schemas[schema]["properties"]
        assert properties["service_point"]["deprecated"] is True and properties["device"]["deprecated"] is True
        assert "deprecated" not in properties["service_point_id"] and "deprecated" not in properties["device_id"]
    points = document["paths"]["/api/v1/service-points"]["get"]
    parameters = {p["name"]: p for p in points["parameters"]}
    assert parameters["open_on"]["deprecated"] is True and not parameters["date"].get("deprecated")
    assert {"Deprecation", "Sunset"} <= set(points["responses"]["200"]["headers"])
    closures = {p["name"]: p for p in document["paths"]["/api/v1/service-points/{point_id}/closures"]["get"]["parameters"]}
    assert closures["since"]["deprecated"] is True and "from" in closures
    capacity = {p["name"]: p for p in document["paths"]["/api/v1/campaigns/{campaign_id}/capacity"]["get"]["parameters"]}
    assert capacity["as_of"]["deprecated"] is True and "date" in capacity
    operators = {p["name"]: p for p in document["paths"]["/api/v1/operators"]["get"]["parameters"]}
    assert operators["service_point"]["deprecated"] is True and "service_point_id" in operators
    renamed_inputs = {"ComplaintCreate": ("service_point", "operator"), "ScheduleRequest": ("device", "operator"), "PlacementCreate": ("service_point",)}
    for schema, olds in renamed_inputs.items():
        properties = schemas[schema]["properties"]
        for old in olds:
            assert properties[old]["deprecated"] is True and f"{old}_id" in properties and old not in schemas[schema].get("required", []), (schema, old)


def test_rate_limited_operations_declare_ratelimit_headers() -> None:
    document = openapi_document()
    limited = [(path, method, op) for path, item in document["paths"].items() for method, op in item.items() if "429" in op["responses"]]
    assert len(limited) >= 8
    for path, method, operation in limited:
        for status, response in operation["responses"].items():
            assert {"RateLimit-Policy", "RateLimit"} <= set(response["headers"]), (method, path, status)
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    unlimited = document["paths"]["/api/v1/campaigns/{campaign_id}/progress"]["get"]["responses"]["200"]["headers"]
    assert "RateLimit" not in unlimited


def test_every_list_is_a_page() -> None:
    """#24: one list shape: `{items, next_cursor}` with `limit` and `cursor`, never a bare array."""
    document = openapi_document()
    for path, item in document["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        schema = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        assert schema.get("type") != "array", f"GET {path} answers a bare array"
        if "$ref" in schema and schema["$ref"].rsplit("/", 1)[1].startswith("Page_"):
            assert {"limit", "cursor"} <= {p["name"] for p in operation.get("parameters", [])}, path
    for path in ("/api/v1/schedule", "/api/v1/queues", "/api/v1/campaigns/{campaign_id}/discrepancies", "/api/v1/service-points/{point_id}/slots"):
        ref = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[1].startswith("Page_"), path


async def test_computed_lists_page_with_limit_and_cursor(client, session) -> None:
    from api import calendar as cal
    from tests.factories import make_campaign

    campaign = await make_campaign(session)
    today = cal.today()
    params = {"from": today.isoformat(), "to": (today + timedelta(days=4)).isoformat()}
    whole = (await client.get("/api/v1/schedule", params=params)).json()
    assert set(whole) == {"items", "next_cursor"} and len(whole["items"]) == 5 and whole["next_cursor"] is None
    first = (await client.get("/api/v1/schedule", params={**params, "limit": 2})).json()
    assert [d["date"] for d in first["items"]] == [d["date"] for d in whole["items"][:2]] and first["next_cursor"]
    second = (await client.get("/api/v1/schedule", params={**params, "limit": 3, "cursor": first["next_cursor"]})).json()
    assert [d["date"] for d in second["items"]] == [d["date"] for d in whole["items"][2:]] and second["next_cursor"] is None
    bad = await client.get("/api/v1/schedule", params={**params, "cursor": "nonsense"})
    assert bad.status_code == 422 and bad.json()["code"] == "cursor.invalid"
    for path in ("/api/v1/queues", f"/api/v1/campaigns/{campaign.id}/discrepancies"):
        page = (await client.get(path)).json()
        assert set(page) == {"items", "next_cursor"}, path


async def test_day_renamed_date_in_bodies_and_answers(client, session) -> None:
    from api.types import Role
    from tests.factories import headers_for
    from tests.services.factories import make_office

    point_id = (await make_office(session, counters=2)).id
    admin = await headers_for(session, role=Role.admin)
    tomorrow = (calendar.today() + timedelta(days=1)).isoformat()
    url = f"/api/v1/service-points/{point_id}/closures"
    new = await client.post(url, json={"date": tomorrow, "reason": "Libur"}, headers=admin, params={"dry_run": "true"})
    assert new.status_code == 200, new.text
    assert new.json()["date"] == new.json()["day"] == tomorrow
    assert _deprecated(new)  # the answer still carries `day`
    old = await client.post(url, json={"day": tomorrow, "reason": "Libur"}, headers=admin)
    assert old.status_code == 201 and old.json()["date"] == tomorrow and _deprecated(old)
    clash = await client.post(url, json={"day": tomorrow, "date": calendar.today().isoformat(), "reason": "Libur"}, headers=admin)
    assert clash.status_code == 422 and (clash.json()["code"], clash.json()["params"]) == ("renamed.conflict", {"old": "day", "new": "date"})

    # A public write: the ticket says `date` (and `day`), and its answer carries the rate limit it was counted against.
    ticket = await client.post(f"/api/v1/service-points/{point_id}/tickets", json={})
    assert ticket.status_code == 201 and ticket.json()["date"] == ticket.json()["day"] == calendar.today().isoformat()
    assert ticket.headers["ratelimit-policy"].startswith('"public-write";q=') and ticket.headers["ratelimit"].startswith('"public-write";r=')
    board = (await client.get("/api/v1/queues", params={"limit": 500})).json()["items"]
    assert all(b["date"] == b["day"] for b in board)


def test_document_marks_day_deprecated_next_to_date() -> None:
    schemas = openapi_document()["components"]["schemas"]
    assert schemas["ClosureCreate"]["properties"]["day"]["deprecated"] is True and schemas["ClosureCreate"]["required"] == ["date", "reason"]
    for name in ("ClosureRead", "TicketIssued", "TicketRead", "Board", "AppointmentRead", "CancelledBooking"):
        properties = schemas[name]["properties"]
        assert properties["day"]["deprecated"] is True and "deprecated" not in properties["date"], name


async def test_renamed_references_in_request_bodies(client, session) -> None:
    from tests.complaints.factories import complaint_body
    from tests.factories import make_service_point

    point_id = (await make_service_point(session, area="36.74.01")).id
    new = await client.post("/api/v1/complaints", json=complaint_body(area=None, place=None, service_point_id=point_id))
    assert new.status_code == 201, new.text
    assert not _deprecated(new)
    old = await client.post("/api/v1/complaints", json=complaint_body(area=None, place=None, service_point=point_id))
    assert old.status_code == 201 and _deprecated(old)
    clash = await client.post("/api/v1/complaints", json=complaint_body(area=None, place=None, service_point=point_id, service_point_id=point_id + 1))
    assert clash.status_code == 422 and clash.json()["code"] == "renamed.conflict"
    assert clash.json()["errors"][0] == {
        "location": "body",
        "field": "service_point",
        "code": "renamed.conflict",
        "params": {"old": "service_point", "new": "service_point_id"},
        "message": "Nama lama service_point dan nama baru service_point_id dikirim dengan nilai berbeda; kirim service_point_id saja.",
    }

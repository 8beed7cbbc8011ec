from datetime import timedelta

from sqlalchemy import func, select

from api import calendar
from api.audit.models import AuditEntry
from api.campaigns import demo
from api.types import Role
from tests.factories import assert_problem, headers_for, make_campaign
from tests.tallies.factories import post


async def test_progress_of_the_demo_over_http(client, session) -> None:
    loaded = await demo.load(session, today=calendar.today())
    response = await client.get(f"/api/v1/campaigns/{loaded.campaign.id}/progress", params={"area": "36.74", "depth": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["target"] == 760_097 and body["recorded"] == 554_702
    assert {c["code"]: c["recorded"] for c in body["children"]} == demo.RECORDED_AS_OF_AUGUST
    assert sum(c["target"] for c in body["children"]) == 760_097
    discrepancies = (await client.get(f"/api/v1/campaigns/{loaded.campaign.id}/discrepancies")).json()["items"]
    assert discrepancies[0]["difference"] == 1216


async def test_create_campaign_admin_only_and_validated(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    payload = {"name": "Tangsel", "root_area": "36.74", "start_date": "2026-01-01", "deadline": "2026-12-31", "target": 760097}
    created = await client.post("/api/v1/campaigns", json=payload, headers=admin)
    assert created.status_code == 201 and created.json()["target"] == 760097
    assert (await client.get(f"/api/v1/campaigns/{created.json()['id']}")).json()["root_area"] == "36.74"
    assert_problem(await client.post("/api/v1/campaigns", json={**payload, "deadline": "2025-01-01"}, headers=admin), 422)
    assert_problem(await client.post("/api/v1/campaigns", json={**payload, "target": -1}, headers=admin), 422, field="target")
    assert_problem(await client.post("/api/v1/campaigns", json={**payload, "root_area": "99.99"}, headers=admin), 422, field="root_area")
    assert_problem(await client.post("/api/v1/campaigns", json={**payload, "root_area": "nope"}, headers=admin), 422, field="root_area")
    assert_problem(await client.post("/api/v1/campaigns", content=b"{not json", headers={**admin, "content-type": "application/json"}), 422)
    assert_problem(await client.post("/api/v1/campaigns", json=payload), 401)
    viewer = await headers_for(session, role=Role.viewer)
    assert_problem(await client.post("/api/v1/campaigns", json=payload, headers=viewer), 403)
    assert_problem(await client.get("/api/v1/campaigns/999999"), 404)


async def test_targets_csv_and_json(client, session) -> None:
    campaign_id = (await make_campaign(session, target=300)).id
    admin = await headers_for(session, role=Role.admin)
    csv_body = "\ufeffarea;target\r\n36.74.01;100\r\n36.74.02;90\r\n"
    response = await client.put(f"/api/v1/campaigns/{campaign_id}/targets", content=csv_body.encode(), headers={**admin, "content-type": "text/csv"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {t["area"]: t["target"] for t in body["items"]} == {"36.74": 300, "36.74.01": 100, "36.74.02": 90}
    bad_csv = "area,target\n36.74.01,abc\n36.74.02,5\n"
    problem = assert_problem(
        await client.put(f"/api/v1/campaigns/{campaign_id}/targets", content=bad_csv.encode(), headers={**admin, "content-type": "text/csv"}), 422
    )
    assert problem["errors"][0]["row"] == 2
    assert_problem(
        await client.put(f"/api/v1/campaigns/{campaign_id}/targets", json={"targets": [{"area": "36.74.01", "target": "x"}]}, headers=admin),
        422,
        field="targets.0.target",
    )
    assert_problem(
        await client.put(f"/api/v1/campaigns/{campaign_id}/targets", json={"targets": [{"area": "31.71", "target": 1}]}, headers=admin), 422, field="area"
    )
    assert_problem(await client.put(f"/api/v1/campaigns/{campaign_id}/targets", content=b"x", headers={**admin, "content-type": "application/xml"}), 415)
    apportioned = await client.post(
        f"/api/v1/campaigns/{campaign_id}/targets/apportion", json={"parent": "36.74", "level": "kecamatan", "method": "equal"}, headers=admin
    )
    assert apportioned.status_code == 200 and sum(t["target"] for t in apportioned.json()) == 300
    assert_problem(
        await client.post(
            f"/api/v1/campaigns/{campaign_id}/targets/apportion", json={"parent": "36.74", "level": "provinsi", "method": "equal"}, headers=admin
        ),
        422,
        field="level",
    )


async def test_supervisor_snapshot_scope_and_audit(client, session) -> None:
    campaign_id = (await make_campaign(session)).id
    serpong = await headers_for(session, role=Role.supervisor, area="36.74.01")
    yesterday = (calendar.today() - timedelta(days=1)).isoformat()
    before = await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "snapshot"))
    ok = await client.post(f"/api/v1/campaigns/{campaign_id}/snapshots", json={"area": "36.74.01", "as_of": yesterday, "cumulative": 56458}, headers=serpong)
    assert ok.status_code == 201, ok.text
    replaced = await client.post(
        f"/api/v1/campaigns/{campaign_id}/snapshots", json={"area": "36.74.01", "as_of": yesterday, "cumulative": 56459}, headers=serpong
    )
    assert replaced.status_code == 200 and replaced.json()["id"] == ok.json()["id"]
    after = await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "snapshot"))
    assert after - before == 2
    assert_problem(
        await client.post(f"/api/v1/campaigns/{campaign_id}/snapshots", json={"area": "36.74.07", "as_of": yesterday, "cumulative": 1}, headers=serpong), 403
    )
    assert_problem(
        await client.post(f"/api/v1/campaigns/{campaign_id}/snapshots", json={"area": "36.74.01", "as_of": "2026-02-30", "cumulative": 1}, headers=serpong),
        422,
        field="as_of",
    )
    listed = await client.get(f"/api/v1/campaigns/{campaign_id}/snapshots", params={"area": "36.74.01"})
    assert [s["cumulative"] for s in listed.json()["items"]] == [56459]


async def test_health(client) -> None:
    body = (await client.get("/api/v1/health")).json()
    assert body["status"] == "ok" and body["revision"]


async def test_progress_percent_is_rounded_once_half_up(client, session) -> None:
    """The API gives the percentage as shown: 8,705 of 10,000 is 87.05 %, shown 87.1 (not 87.05,
    which a second rounding in binary turns into 87.0); 870,499 of 1,000,000 stays 87.0."""
    campaign_id = (await make_campaign(session, target=2_000_000)).id
    admin = await headers_for(session, role=Role.admin)
    targets = {"targets": [{"area": "36.74.01", "target": 10_000}, {"area": "36.74.02", "target": 1_000_000}, {"area": "36.74.03", "target": 40}]}
    assert (await client.put(f"/api/v1/campaigns/{campaign_id}/targets", json=targets, headers=admin)).status_code == 200
    yesterday = (calendar.today() - timedelta(days=1)).isoformat()
    tallies = [
        {"area": "36.74.01", "date": yesterday, "count": 8_705},
        {"area": "36.74.02", "date": yesterday, "count": 870_499},
        {"area": "36.74.03", "date": yesterday, "count": 50},
    ]
    assert (await post(client, campaign_id, tallies, admin)).status_code == 200
    body = (await client.get(f"/api/v1/campaigns/{campaign_id}/progress", params={"area": "36.74", "depth": 1})).json()
    shown = {c["code"]: c["percent"] for c in body["children"]}
    assert shown["36.74.01"] == 87.1 and shown["36.74.02"] == 87.0 and shown["36.74.03"] == 125.0
    csv_text = (await client.get(f"/api/v1/campaigns/{campaign_id}/progress.csv", params={"area": "36.74", "depth": 1})).text
    assert "36.74.01,Serpong,kecamatan,10000,8705," in csv_text and ",87.1," in csv_text


async def test_csv_targets_are_ascii_digits_only(client, session) -> None:
    """Issue 17, item 5: a target written in Arabic-Indic digits was read as a number."""
    campaign_id = (await make_campaign(session, target=300)).id
    admin = await headers_for(session, role=Role.admin)
    body = "area,target\n36.74.01,١٠٠\n".encode()
    problem = assert_problem(await client.put(f"/api/v1/campaigns/{campaign_id}/targets", content=body, headers={**admin, "content-type": "text/csv"}), 422)
    assert problem["errors"][0]["row"] == 2


async def test_progress_csv_cells_cannot_be_formulas(client, session) -> None:
    """Issue 17, item 6: an area named `@SUM(1+1)*cmd|' /C calc'!A0` came back unescaped in progress.csv."""
    import csv
    import io

    campaign_id = (await make_campaign(session)).id
    supervisor = await headers_for(session, role=Role.supervisor, area="36.74.01")
    names = ["@SUM(1+1)*cmd|' /C calc'!A0", '=HYPERLINK("http://x")', "+1", "-2+3", "\tTab", "\rCR"]
    for i, name in enumerate(names, start=1):
        created = await client.post("/api/v1/areas", json={"code": f"36.74.01.1001.{900 + i}", "name": name}, headers=supervisor)
        assert created.status_code == 201, created.text
    body = (await client.get(f"/api/v1/campaigns/{campaign_id}/progress.csv", params={"area": "36.74.01.1001", "depth": 1})).text
    cells = {row[0]: row[1] for row in csv.reader(io.StringIO(body))}
    for i, name in enumerate(names, start=1):
        assert cells[f"36.74.01.1001.{900 + i}"] == "'" + name


async def test_a_campaign_says_what_to_bring_with_a_default(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    payload = {"name": "Tangsel", "root_area": "36.74", "start_date": "2026-01-01", "deadline": "2026-12-31", "target": 1000}
    created = await client.post("/api/v1/campaigns", json=payload, headers=admin)
    assert created.json()["what_to_bring"] == "Bawa Kartu Keluarga (KK) asli atau fotokopi"  # the default
    own = await client.post("/api/v1/campaigns", json={**payload, "what_to_bring": "Bawa KK dan KTP"}, headers=admin)
    assert own.status_code == 201 and own.json()["what_to_bring"] == "Bawa KK dan KTP"


async def test_a_running_campaign_s_text_and_caps_can_be_changed_by_its_area_s_writers_audited(client, session) -> None:
    campaign = await make_campaign(session)
    url = f"/api/v1/campaigns/{campaign.id}"
    admin = await headers_for(session, role=Role.admin)
    changed = await client.patch(url, json={"what_to_bring": "KK asli dan surat pengantar RT", "cap_bookings_per_nik": False}, headers=admin)
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["what_to_bring"] == "KK asli dan surat pengantar RT" and body["cap_bookings_per_nik"] is False and body["cap_remote_numbers"] is True
    assert (await client.get(url)).json()["what_to_bring"] == "KK asli dan surat pengantar RT"
    entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "campaign.update", AuditEntry.entity_id == str(campaign.id)))).one()
    assert entry.before["cap_bookings_per_nik"] is True and entry.after["cap_bookings_per_nik"] is False
    # The same values again: nothing changed, nothing audited.
    assert (await client.patch(url, json={"cap_bookings_per_nik": False}, headers=admin)).status_code == 200
    count = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "campaign.update")
    assert await session.scalar(count) == 1
    # None of them can be emptied; the area, dates and target are not changed here; the text has bounds.
    assert (
        assert_problem(await client.patch(url, json={"cap_remote_numbers": None}, headers=admin), 422, field="cap_remote_numbers")["errors"][0]["code"]
        == "not_null"
    )
    assert_problem(await client.patch(url, json={"target": 1}, headers=admin), 422)
    assert_problem(await client.patch(url, json={"what_to_bring": ""}, headers=admin), 422, field="what_to_bring")
    assert_problem(await client.patch(url, json={"what_to_bring": "x" * 501}, headers=admin), 422, field="what_to_bring")
    # A supervisor of a part of the campaign's area may not change the whole campaign.
    serpong = await headers_for(session, role=Role.supervisor, area="36.74.01")
    assert assert_problem(await client.patch(url, json={"cap_remote_numbers": False}, headers=serpong), 403)["code"] == "scope.area"
    assert_problem(await client.patch(url, json={"cap_remote_numbers": False}), 401)
    assert_problem(await client.patch("/api/v1/campaigns/999999", json={"cap_remote_numbers": False}, headers=admin), 404)

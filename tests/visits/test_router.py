import io
import json
import re
import sys
from datetime import timedelta

from sqlalchemy import func, select

from api import calendar
from api.audit.models import AuditEntry
from api.config import Settings
from api.logging import configure_logging
from api.types import Role
from api.visits import demo
from api.visits.models import HomeVisit
from tests.factories import assert_problem, headers_for, make_campaign
from tests.visits.factories import adult_nik, make_kit, make_operator, make_request, payload, triage

TODAY = calendar.today()
PERSONAL_KEYS = {"name", "nik", "phone", "address", "note", "nik_masked", "phone_masked"}


async def test_resident_follows_the_request_from_submission_to_visit(client, session) -> None:
    campaign_id = (await make_campaign(session)).id
    kit_id, operator_id = (await make_kit(session)).id, (await make_operator(session)).id
    supervisor = await headers_for(session, role=Role.supervisor, area="36.74.01")
    await session.commit()

    created = await client.post("/api/v1/home-visits", json=payload(reason="elderly"))
    assert created.status_code == 201, created.text
    receipt = created.json()
    assert set(receipt) == {"tracking_code", "status"} and receipt["status"] == "submitted"
    code = receipt["tracking_code"]

    def track_url(c: str) -> str:
        return f"/api/v1/home-visits/track/{c}"

    tracked = (await client.get(track_url(code.lower().replace("-", "")))).json()
    assert tracked["status"] == "submitted" and tracked["visit_date"] is None and not PERSONAL_KEYS & set(tracked)

    board = (await client.get("/api/v1/home-visits", headers=supervisor, params={"status": "submitted"})).json()["items"]
    visit_id = board[0]["id"]
    assert board[0]["nik_masked"].startswith("************") and not {"nik", "phone", "name", "address"} & set(board[0])

    triaged = await client.post(f"/api/v1/home-visits/{visit_id}/status", json={"status": "triaged", "note": "called back"}, headers=supervisor)
    assert triaged.status_code == 200 and triaged.json()["status"] == "triaged"
    plan = {"device_id": kit_id, "operator_id": operator_id, "date": TODAY.isoformat(), "window": {"start": "09:00", "end": "10:00"}}
    scheduled = await client.post(f"/api/v1/home-visits/{visit_id}/schedule", json=plan, headers=supervisor)
    assert scheduled.status_code == 200, scheduled.text
    tracked = (await client.get(track_url(code))).json()
    assert (tracked["status"], tracked["visit_date"], tracked["window_start"], tracked["window_end"]) == ("scheduled", TODAY.isoformat(), "09:00", "10:00")

    day_plan = (await client.get(f"/api/v1/mobile-kits/{kit_id}/day-plan", params={"date": TODAY.isoformat()}, headers=supervisor)).json()
    assert [s["id"] for s in day_plan["stops"]] == [visit_id] and day_plan["stops"][0]["address"].startswith("Jl. Ciater")

    def recorded():
        return client.get(f"/api/v1/campaigns/{campaign_id}/progress", params={"area": "36.74.01", "depth": 0})

    before = (await recorded()).json()["recorded"]
    visited = await client.post(f"/api/v1/home-visits/{visit_id}/status", json={"status": "visited"}, headers=supervisor)
    assert visited.status_code == 200, visited.text
    # The visit is a recording: the resident's kecamatan counts one more.
    assert (await recorded()).json()["recorded"] == before + 1
    assert (await client.get(track_url(code))).json()["status"] == "visited"
    assert_problem(await client.post(f"/api/v1/home-visits/{visit_id}/status", json={"status": "cancelled"}, headers=supervisor), 409)
    assert_problem(await client.get(track_url("HV-2222-2222")), 404)
    assert_problem(await client.get(track_url("not a code")), 404)

    actions = (
        await session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "home_visit", AuditEntry.entity_id == str(visit_id)).order_by(AuditEntry.id))
    ).all()
    assert actions == ["home_visit.create", "home_visit.triaged", "home_visit.schedule", "home_visit.read_personal", "home_visit.visited"]


async def test_nik_and_phone_never_in_public_answers_or_logs(client, session, monkeypatch) -> None:
    await make_campaign(session)
    await session.commit()
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging(Settings(log_json=True, log_level="DEBUG", serve_frontend=False))
    nik, phone = adult_nik(woman=True), "0812 9876 5432"
    secrets = [nik, phone, phone.replace(" ", ""), "+6281298765432", "6281298765432"]
    bodies = []

    async def public(method: str, url: str, **kwargs) -> None:
        response = await client.request(method, url, **kwargs)
        bodies.append((url, response.status_code, response.text))

    await public("POST", "/api/v1/home-visits", json=payload(nik=nik, phone=phone))
    code = json.loads(bodies[-1][2])["tracking_code"]
    await public("POST", "/api/v1/home-visits", json=payload(nik=nik, phone=phone))  # already open: merged (item 11)
    await public("GET", f"/api/v1/home-visits/track/{code}")
    for wrong in (nik[:-1], "3674991705800001", "3671011705800001", nik[:6] + "3102" + nik[10:], nik + "0" * 17, nik + "x"):
        await public("POST", "/api/v1/home-visits", json=payload(nik=wrong, phone=phone))
    await public("POST", "/api/v1/home-visits", json=payload(nik=nik, phone=phone + "999", consent=False))
    await public("POST", "/api/v1/home-visits", json={**payload(nik=nik, phone=phone), "extra": nik})
    logs = buffer.getvalue()
    # A NIK typed as a tracking code: the answer must not echo it. (The access log line of this
    # request is the middleware's: it must log the route template, not the concrete path.)
    await public("GET", f"/api/v1/home-visits/track/{nik}")

    assert [status for _, status, _ in bodies] == [201, 201, 200, *([422] * 8), 404]
    assert "home_visit.submitted" in logs
    for url, status, text in bodies:
        for secret in secrets:
            assert secret not in text, (url, status)
    for secret in secrets:
        assert secret not in logs


async def test_invalid_niks_over_http_each_name_the_field(client, session) -> None:
    await make_campaign(session)
    await session.commit()  # anchors the setup: a failing request rolls back only its own work
    under_17 = demo.nik("367401", TODAY - timedelta(days=365 * 16), woman=False, serial=5)
    messages = set()
    for wrong in ("367401", "3674991705800001", "3671011705800001", "3674013102800001", under_17):
        body = assert_problem(await client.post("/api/v1/home-visits", json=payload(nik=wrong)), 422, field="nik")
        messages.add(body["errors"][0]["message"])
    assert len(messages) == 5
    assert_problem(await client.post("/api/v1/home-visits", json=payload(phone="021 555 1234")), 422, field="phone")
    assert_problem(await client.post("/api/v1/home-visits", json=payload(reason="bored")), 422, field="reason")
    assert_problem(await client.post("/api/v1/home-visits", json=payload(area="36.71.01.1001")), 422, field="area")


async def test_board_filters_and_roles(client, session) -> None:
    await make_campaign(session)
    sick = await make_request(session, reason="sick", today=TODAY - timedelta(days=9))
    sick_id = sick.id
    await triage(session, sick_id)
    other_id = (await make_request(session, reason="other", area="36.74.06.1001")).id
    admin = await headers_for(session, role=Role.admin)
    viewer = await headers_for(session, role=Role.viewer)
    serpong = await headers_for(session, role=Role.supervisor, area="36.74.01")
    await session.commit()

    async def ids(headers: dict, **params) -> list[int]:
        response = await client.get("/api/v1/home-visits", headers=headers, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(admin) == [sick_id, other_id] == await ids(viewer)
    assert await ids(serpong) == [sick_id]
    assert await ids(admin, area="36.74.06") == [other_id]
    assert await ids(admin, reason="other") == [other_id]
    assert await ids(admin, priority="urgent") == [sick_id]
    assert await ids(admin, overdue="true") == [sick_id]
    assert await ids(admin, overdue="false") == [other_id]
    assert await ids(admin, limit=1) == [sick_id]
    assert_problem(await client.get("/api/v1/home-visits", headers=admin, params={"status": "lost"}), 422)
    assert_problem(await client.get("/api/v1/home-visits", headers=serpong, params={"area": "36.74.06"}), 403, field="area")
    assert_problem(await client.get("/api/v1/home-visits"), 401)
    assert_problem(await client.get("/api/v1/home-visits", headers=await headers_for(session, role=Role.handler)), 403)

    assert_problem(await client.get(f"/api/v1/home-visits/{sick_id}", headers=viewer), 403)
    assert_problem(await client.get(f"/api/v1/home-visits/{other_id}", headers=serpong), 404)
    assert_problem(await client.get("/api/v1/home-visits/999999", headers=admin), 404)
    before = await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "home_visit.read_personal"))
    full = (await client.get(f"/api/v1/home-visits/{sick_id}", headers=serpong)).json()
    assert len(full["nik"]) == 16 and full["phone"].startswith("+628") and [h["to_status"] for h in full["history"]] == ["submitted", "triaged"]
    after = await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "home_visit.read_personal"))
    assert after - before == 1

    stats = (await client.get("/api/v1/home-visits/stats", headers=viewer)).json()
    assert stats["overdue_count"] == 1 and stats["overdue"][0]["id"] == sick_id and "nik" not in stats["overdue"][0]
    assert_problem(await client.get("/api/v1/home-visits/stats", headers=serpong, params={"area": "36.74"}), 403)


async def test_schedule_errors_over_http(client, session) -> None:
    await make_campaign(session)
    visit_id = (await make_request(session)).id
    await triage(session, visit_id)
    kit_id, operator_id = (await make_kit(session)).id, (await make_operator(session)).id
    admin = await headers_for(session, role=Role.admin)
    await session.commit()
    plan = {"device_id": kit_id, "operator_id": operator_id, "date": (TODAY + timedelta(days=1)).isoformat(), "window": {"start": "10:00", "end": "09:00"}}
    url = f"/api/v1/home-visits/{visit_id}/schedule"
    assert_problem(await client.post(url, json=plan, headers=admin), 422, field="window")
    assert_problem(
        await client.post(url, json={**plan, "window": {"start": "09:00", "end": "10:00"}, "device_id": 999_999}, headers=admin), 404, field="device_id"
    )
    assert_problem(await client.post("/api/v1/home-visits/999999/schedule", json={**plan, "window": {"start": "09:00", "end": "10:00"}}, headers=admin), 404)
    assert_problem(await client.get("/api/v1/mobile-kits/999999/day-plan", headers=admin), 404)
    empty = (await client.get(f"/api/v1/mobile-kits/{kit_id}/day-plan", headers=admin)).json()
    assert empty["stops"] == [] and empty["booked"] == 0 and empty["device_id"] == kit_id


async def test_public_requests_are_rate_limited(client, session, monkeypatch) -> None:
    from api.config import get_settings

    await make_campaign(session)
    await session.commit()
    monkeypatch.setenv("REKAM_PUBLIC_WRITE_LIMIT", "2/hour")
    get_settings.cache_clear()
    try:
        for _ in range(2):
            assert (await client.post("/api/v1/home-visits", json=payload())).status_code == 201
        refused = assert_problem(await client.post("/api/v1/home-visits", json=payload()), 429)
        assert "nik" not in json.dumps(refused).lower()
    finally:
        monkeypatch.delenv("REKAM_PUBLIC_WRITE_LIMIT")
        get_settings.cache_clear()


async def test_a_supervisor_schedules_only_kits_and_petugas_posted_in_their_area(client, session) -> None:
    """Issue 17, item 1: the Serpong supervisor put a Serpong visit on a kit posted in Pamulang."""
    from tests.devices.factories import place_device, post_operator

    await make_campaign(session)
    visit_id = (await make_request(session)).id
    await triage(session, visit_id)
    kit, other_kit, operator = (await make_kit(session)).id, (await make_kit(session)).id, (await make_operator(session)).id
    await place_device(session, kit, area="36.74.02", starts_on=TODAY)
    await place_device(session, other_kit, area="36.74.01", starts_on=TODAY)
    serpong = await headers_for(session, role=Role.supervisor, area="36.74.01")
    plan = {"device_id": kit, "operator_id": operator, "date": (TODAY + timedelta(days=1)).isoformat(), "window": {"start": "09:00", "end": "10:00"}}
    url = f"/api/v1/home-visits/{visit_id}/schedule"
    assert_problem(await client.post(url, json=plan, headers=serpong), 403, field="device_id")
    await post_operator(session, operator, area="36.74.02", starts_on=TODAY)
    assert_problem(await client.post(url, json={**plan, "device_id": other_kit}, headers=serpong), 403, field="operator_id")
    admin = await headers_for(session, role=Role.admin)
    assert (await client.post(url, json=plan, headers=admin)).status_code == 200


async def test_nik_and_phone_are_ascii_digits_only(client, session) -> None:
    """Issue 17, item 5: the same NIK in fullwidth or Arabic-Indic digits made a second open request;
    a phone was stored as `+628١٢٣...`."""
    await make_campaign(session)
    nik = adult_nik()
    fullwidth = nik.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    arabic = nik.translate({ord(d): 0x0660 + int(d) for d in "0123456789"})
    assert (await client.post("/api/v1/home-visits", json=payload(nik=nik))).status_code == 201
    for twin in (fullwidth, arabic):
        assert_problem(await client.post("/api/v1/home-visits", json=payload(nik=twin)), 422, field="nik")
    assert_problem(await client.post("/api/v1/home-visits", json=payload(phone="08١٢٣٤٥٦٧٨٩٠")), 422, field="phone")
    assert_problem(await client.post("/api/v1/home-visits", json=payload(phone="０８12 3456 7890")), 422, field="phone")


async def test_wrong_tracking_codes_are_throttled_per_client(app, session, monkeypatch) -> None:
    """Issue 17, item 9: 300 wrong tracking codes in 0.7 s, never a 429."""
    import httpx

    from api.config import get_settings

    await make_campaign(session)
    code = (await make_request(session)).tracking_code
    await session.commit()
    monkeypatch.setenv("REKAM_RECEIPT_GUESS_LIMIT", "3/hour")
    get_settings.cache_clear()

    def client_at(address: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 5000)), base_url="http://test")

    try:
        async with client_at("203.0.113.7") as guesser, client_at("203.0.113.8") as resident:
            for wrong in ("HV-2222-2222", "nonsense", "HV-2222-2223"):
                assert_problem(await guesser.get(f"/api/v1/home-visits/track/{wrong}"), 404)
            refused = assert_problem(await guesser.get(f"/api/v1/home-visits/track/{code}"), 429)
            assert code not in json.dumps(refused)
            assert (await resident.get(f"/api/v1/home-visits/track/{code}")).status_code == 200
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_a_known_nik_is_answered_like_an_unknown_one(client, session) -> None:
    """Issue 17, item 11: POST /home-visits with the NIK of an open request answered 409 "already
    open", telling anyone that this resident had asked for a (health-related) home visit."""
    await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    await session.commit()
    known, unknown = adult_nik(), adult_nik()
    first = await client.post("/api/v1/home-visits", json=payload(nik=known))
    assert first.status_code == 201

    again = await client.post("/api/v1/home-visits", json=payload(nik=known, name="Anak Warga", phone="0813 1111 2222", note="I am the son."))
    fresh = await client.post("/api/v1/home-visits", json=payload(nik=unknown))
    assert again.status_code == fresh.status_code == 201, again.text
    assert again.headers["content-type"] == fresh.headers["content-type"]
    assert set(again.json()) == set(fresh.json()) == {"tracking_code", "status"}
    assert again.json()["status"] == fresh.json()["status"] == "submitted"
    assert len(again.content) == len(fresh.content)
    code = again.json()["tracking_code"]
    assert code != first.json()["tracking_code"] and re.fullmatch(r"HV-[A-Z0-9]{4}-[A-Z0-9]{4}", code)

    # Staff see one open request for the resident, with the second contact on it.
    visit_id = await session.scalar(select(HomeVisit.id).where(HomeVisit.nik == known))
    board = (await client.get("/api/v1/home-visits", headers=admin, params={"status": "submitted"})).json()["items"]
    assert len(board) == 2 and visit_id in {v["id"] for v in board}
    record = (await client.get(f"/api/v1/home-visits/{visit_id}", headers=admin)).json()
    assert record["nik"] == known and record["phone"] != "+6281311112222"
    assert [(m["name"], m["phone"], m["note"]) for m in record["merged"]] == [("Anak Warga", "+6281311112222", "I am the son.")]
    assert await session.scalar(select(func.count()).select_from(HomeVisit).where(HomeVisit.nik == known)) == 1
    merged = await session.scalar(select(AuditEntry).where(AuditEntry.action == "home_visit.merge", AuditEntry.entity_id == str(visit_id)))
    assert merged is not None and merged.after["phone"] == "***" and "name" not in merged.after

    # The second code tracks the open request.
    tracked = await client.get(f"/api/v1/home-visits/track/{code}")
    assert tracked.status_code == 200 and tracked.json()["tracking_code"] == code and tracked.json()["status"] == "submitted"
    assert not PERSONAL_KEYS & set(tracked.json())
    moved = await client.post(f"/api/v1/home-visits/{visit_id}/status", json={"status": "triaged"}, headers=admin)
    assert moved.status_code == 200
    assert (await client.get(f"/api/v1/home-visits/track/{code}")).json()["status"] == "triaged"


async def test_phones_are_erased_when_the_request_closes(client, session) -> None:
    """Issue 21: "Phone numbers are kept only as long as the request is open": the requester's phone
    (and a merged requester's) goes when the request is visited, unreachable or cancelled."""
    from api.visits.models import HomeVisitMerge

    await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    kit, operator = await make_kit(session), await make_operator(session)
    nik = adult_nik()
    assert (await client.post("/api/v1/home-visits", json=payload(nik=nik))).status_code == 201
    assert (await client.post("/api/v1/home-visits", json=payload(nik=nik, phone="0813 1111 2222"))).status_code == 201  # merged into it
    cancelled, unreachable, still_open = (await make_request(session)).id, (await make_request(session)).id, (await make_request(session)).id
    visit_id = await session.scalar(select(HomeVisit.id).where(HomeVisit.nik == nik))

    async def move(visit: int, status: str) -> None:
        answer = await client.post(f"/api/v1/home-visits/{visit}/status", json={"status": status}, headers=admin)
        assert answer.status_code == 200, answer.text

    for visit in (visit_id, unreachable):
        await move(visit, "triaged")
    plan = {"device_id": kit.id, "operator_id": operator.id, "date": TODAY.isoformat(), "window": {"start": "09:00", "end": "10:00"}}
    assert (await client.post(f"/api/v1/home-visits/{visit_id}/schedule", json=plan, headers=admin)).status_code == 200
    open_record = (await client.get(f"/api/v1/home-visits/{visit_id}", headers=admin)).json()
    assert open_record["phone"] == "+6281234567890" and open_record["merged"][0]["phone"] == "+6281311112222"  # kept while open
    await move(visit_id, "visited")
    await move(cancelled, "cancelled")
    await move(unreachable, "unreachable")

    for closed in (visit_id, cancelled, unreachable):
        record = (await client.get(f"/api/v1/home-visits/{closed}", headers=admin)).json()
        assert record["phone"] is None, record["status"]
        assert await session.scalar(select(HomeVisit.phone).where(HomeVisit.id == closed)) == ""
    assert [m["phone"] for m in (await client.get(f"/api/v1/home-visits/{visit_id}", headers=admin)).json()["merged"]] == [None]
    assert await session.scalar(select(HomeVisitMerge.phone).where(HomeVisitMerge.home_visit_id == visit_id)) == ""
    listed = {v["id"]: v["phone_masked"] for v in (await client.get("/api/v1/home-visits", headers=admin)).json()["items"]}
    assert listed[visit_id] is listed[cancelled] is listed[unreachable] is None and listed[still_open] == "**********7890"
    plan_stops = (await client.get(f"/api/v1/mobile-kits/{kit.id}/day-plan", params={"date": TODAY.isoformat()}, headers=admin)).json()["stops"]
    assert [(s["id"], s["phone"]) for s in plan_stops] == [(visit_id, None)]
    # The open request keeps its phone.
    assert (await client.get(f"/api/v1/home-visits/{still_open}", headers=admin)).json()["phone"] == "+6281234567890"

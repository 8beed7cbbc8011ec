import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from api import calendar
from api.audit.models import AuditEntry
from api.auth.models import User
from api.complaints.models import ComplaintStatus
from api.config import get_settings
from api.devices.models import Operator
from api.types import Role
from tests.complaints.factories import REPORTER_CONTACT, REPORTER_NAME, complaint_body, make_complaint, make_operator
from tests.factories import PASSWORD, assert_problem, headers_for, make_service_point, make_user

COMPLAINTS = "/api/v1/complaints"


async def bearer(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    token = (await client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_report_track_handle_and_sanction_without_ever_showing_the_reporter(client, session, log_output) -> None:
    """The issue's "done when", with every response, log line and audit payload searched for the reporter."""
    bodies: list[tuple[str, str]] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        bodies.append((f"{response.request.method} {response.request.url.path}", response.text))

    client.event_hooks["response"].append(keep)
    operator = await make_operator(session, name="Budi Operator")
    operator_id = operator.id
    point_id = (await make_service_point(session, area="36.74.01")).id
    admin = await headers_for(session, role=Role.admin)
    handler_user = await make_user(session, role=Role.handler)
    handler_id = handler_user.id
    handler = await bearer(client, handler_user)

    # A resident reports, with name and contact, and keeps the receipt.
    report = complaint_body(
        service_point_id=point_id, area=None, place=None, operator_id=operator_id, reporter_name=REPORTER_NAME, reporter_contact=REPORTER_CONTACT
    )
    created = await client.post(COMPLAINTS, json=report)
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"receipt", "status"} and created.json()["status"] == "received"
    receipt = created.json()["receipt"]
    tracked = await client.get(f"{COMPLAINTS}/track/{receipt}")
    assert tracked.status_code == 200 and tracked.json()["conversation"] == []

    # The handler finds it in the list (no identity, no receipt), takes it and replies.
    listed = (await client.get(COMPLAINTS, params={"area": "36.74.01", "status": "received"}, headers=handler)).json()["items"]
    assert len(listed) == 1 and listed[0]["reporter_contactable"] is True and listed[0]["area"] == "36.74.01"
    complaint_id = listed[0]["id"]
    assert (await client.patch(f"{COMPLAINTS}/{complaint_id}", json={"handler_id": handler_id}, headers=handler)).json()["handler_id"] == handler_id
    replied = await client.post(f"{COMPLAINTS}/{complaint_id}/replies", json={"text": "Terima kasih, kami periksa."}, headers=handler)
    assert replied.status_code == 201 and replied.json()["first_response_at"] is not None

    # The resident sees the reply and adds a message; the handler sees the message.
    assert (await client.get(f"{COMPLAINTS}/track/{receipt.lower().replace('-', '')}")).json()["conversation"][0]["author"] == "city"
    added = await client.post(f"{COMPLAINTS}/track/{receipt}/messages", json={"text": "Petugas meminta lewat WhatsApp juga."})
    assert added.status_code == 201
    assert [(line["author"], line["text"]) for line in added.json()["conversation"]] == [
        ("city", "Terima kasih, kami periksa."),
        ("reporter", "Petugas meminta lewat WhatsApp juga."),
    ]
    assert "receipt" not in (await client.get(f"{COMPLAINTS}/{complaint_id}", headers=handler)).text

    # Through the workflow to a sanction; the operator's status changes.
    for status in ("investigating", "substantiated"):
        moved = await client.post(f"{COMPLAINTS}/{complaint_id}/transitions", json={"status": status, "note": f"Catatan {status}."}, headers=handler)
        assert moved.status_code == 200 and moved.json()["status"] == status
    illegal = await client.post(f"{COMPLAINTS}/{complaint_id}/transitions", json={"status": "received", "note": "Mundur."}, headers=handler)
    assert_problem(illegal, 409, field="status")
    sanctioned = await client.post(
        f"{COMPLAINTS}/{complaint_id}/sanction", json={"kind": "suspension", "effective_from": str(calendar.today()), "note": "Diskors."}, headers=handler
    )
    assert sanctioned.status_code == 201 and sanctioned.json()["operator_id"] == operator_id
    await session.refresh(operator)
    assert operator.status == "suspended"
    for status in ("action_taken", "closed"):
        assert (await client.post(f"{COMPLAINTS}/{complaint_id}/transitions", json={"status": status, "note": "Selesai."}, headers=handler)).status_code == 200
    assert (await client.get(f"{COMPLAINTS}/track/{receipt}")).json()["status"] == "closed"
    assert_problem(await client.post(f"{COMPLAINTS}/track/{receipt}/messages", json={"text": "Lagi."}), 409)
    stats = (await client.get(f"{COMPLAINTS}/stats", params={"area": "36.74.01"})).json()
    assert stats["total"] == "<3" and stats["by_kecamatan"] == [{"area": "36.74.01", "name": "Serpong", "count": "<3"}]

    # Only an admin, with a reason, opens the identity; a handler may not.
    assert_problem(await client.post(f"{COMPLAINTS}/{complaint_id}/reporter", json={"reason": "Perlu kesaksian pelapor."}, headers=handler), 403)
    assert_problem(await client.post(f"{COMPLAINTS}/{complaint_id}/reporter", json={}, headers=admin), 422, field="reason")
    disclosed = await client.post(f"{COMPLAINTS}/{complaint_id}/reporter", json={"reason": "Perlu kesaksian pelapor."}, headers=admin)
    assert disclosed.json() == {"reporter_name": REPORTER_NAME, "reporter_contact": REPORTER_CONTACT}
    trail = (await client.get("/api/v1/audit", params={"entity": "complaint"}, headers=admin)).json()["items"]
    assert {
        "complaint.create",
        "complaint.update",
        "complaint.reply",
        "complaint.message",
        "complaint.transition",
        "complaint.sanction",
        "complaint.read_reporter",
    } <= {e["action"] for e in trail}

    # Nowhere else: not in any other response, log line or audit payload.
    disclosure = f"POST {COMPLAINTS}/{complaint_id}/reporter"
    assert len(bodies) > 20 and sum(1 for where, _ in bodies if where == disclosure) == 3
    leaks = [where for where, text in bodies if where != disclosure and (REPORTER_NAME in text or REPORTER_CONTACT in text)]
    assert leaks == []
    assert [text for where, text in bodies if REPORTER_NAME in text] == [disclosed.text]
    logs = log_output.getvalue()
    assert f"{COMPLAINTS}/track/{{receipt}}" in logs and receipt not in logs
    assert REPORTER_NAME not in logs and REPORTER_CONTACT not in logs
    entries = (await session.scalars(select(AuditEntry).where(AuditEntry.entity == "complaint"))).all()
    payloads = json.dumps([[e.before, e.after] for e in entries])
    assert REPORTER_NAME not in payloads and REPORTER_CONTACT not in payloads and receipt not in payloads
    read = next(e for e in entries if e.action == "complaint.read_reporter")
    assert read.after == {"reason": "Perlu kesaksian pelapor."}
    # The resident's own actions are audited without their address.
    assert {e.client for e in entries if e.actor_kind == "anonymous"} == {None}


async def test_internal_notes_are_for_handlers_only_at_any_step(client, session) -> None:
    handler = await bearer(client, await make_user(session, role=Role.handler))
    receipt = (await client.post(COMPLAINTS, json=complaint_body())).json()["receipt"]
    complaint_id = (await client.get(COMPLAINTS, headers=handler)).json()["items"][0]["id"]

    noted = await client.post(f"{COMPLAINTS}/{complaint_id}/notes", json={"text": "Saksi sudah ditelepon."}, headers=handler)
    assert noted.status_code == 201 and noted.json()["status"] == "received"  # no step taken
    assert [(e["kind"], e["text"]) for e in noted.json()["entries"]][-1] == ("note", "Saksi sudah ditelepon.")
    assert_problem(await client.post(f"{COMPLAINTS}/{complaint_id}/notes", json={"text": ""}, headers=handler), 422, field="text")
    for status in ("investigating", "unsubstantiated", "closed"):
        await client.post(f"{COMPLAINTS}/{complaint_id}/transitions", json={"status": status, "note": "Langkah."}, headers=handler)
    after_closing = await client.post(f"{COMPLAINTS}/{complaint_id}/notes", json={"text": "Arsip dipindah."}, headers=handler)
    assert after_closing.status_code == 201 and after_closing.json()["status"] == "closed"

    tracked = await client.get(f"{COMPLAINTS}/track/{receipt}")
    assert tracked.json()["status"] == "closed" and "Saksi" not in tracked.text and "Arsip" not in tracked.text
    trail = (await client.get("/api/v1/audit", params={"entity": "complaint"}, headers=await headers_for(session, role=Role.admin))).json()["items"]
    assert sum(e["action"] == "complaint.note" for e in trail) == 2


async def test_supervisors_operators_and_the_accused_get_404(client, session) -> None:
    operator_id = (await make_operator(session)).id
    complaint = await make_complaint(session, operator_id=operator_id)
    complaint_id, point_id = complaint.id, complaint.service_point_id
    other_id = (await make_complaint(session)).id
    supervisor = await headers_for(session, role=Role.supervisor, area="36.74.01")
    operator_staff = await headers_for(session, role=Role.operator, service_point_id=point_id)
    viewer = await headers_for(session, role=Role.viewer)
    # The accused operator's account, even as a handler, and a colleague who handles complaints.
    accused_user = await make_user(session, role=Role.handler)
    accused_user.operator_id = operator_id
    accused_user_id = accused_user.id
    await session.flush()
    accused = await bearer(client, accused_user)
    colleague = await headers_for(session, role=Role.handler)

    for headers in (supervisor, operator_staff, viewer, accused):
        assert_problem(await client.get(f"{COMPLAINTS}/{complaint_id}", headers=headers), 404)
        assert_problem(await client.post(f"{COMPLAINTS}/{complaint_id}/replies", json={"text": "x"}, headers=headers), 404)
    assert_problem(await client.get(f"{COMPLAINTS}/999999", headers=colleague), 404)
    for headers in (supervisor, operator_staff):
        assert_problem(await client.get(COMPLAINTS, headers=headers), 403)
    assert [c["id"] for c in (await client.get(COMPLAINTS, headers=accused)).json()["items"]] == [other_id]
    assert (await client.get(f"{COMPLAINTS}/{other_id}", headers=accused)).status_code == 200
    assert {c["id"] for c in (await client.get(COMPLAINTS, headers=colleague)).json()["items"]} == {complaint_id, other_id}
    # Nor can the accused be made its handler.
    refused = await client.patch(f"{COMPLAINTS}/{complaint_id}", json={"handler_id": accused_user_id}, headers=colleague)
    assert_problem(refused, 422, field="handler_id")
    # Naming an operator on a complaint hides it from that operator's account from then on.
    assert (await client.patch(f"{COMPLAINTS}/{other_id}", json={"operator_id": operator_id}, headers=colleague)).status_code == 200
    assert (await client.get(COMPLAINTS, headers=accused)).json()["items"] == []


@pytest.fixture
def few_guesses(monkeypatch):
    monkeypatch.setenv("REKAM_RECEIPT_GUESS_LIMIT", "3/hour")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def client_at(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 5000)), base_url="http://test")


async def test_wrong_receipts_are_a_plain_404_and_then_throttled(few_guesses, app, session) -> None:
    receipt = (await make_complaint(session)).receipt
    await session.commit()
    async with client_at(app, "203.0.113.7") as guesser, client_at(app, "203.0.113.8") as reporter:
        for wrong in ("PGL-0000-0000-0000-0000", "not-a-receipt", "PGL-0000-0000-0000-0001"):
            problem = assert_problem(await guesser.get(f"{COMPLAINTS}/track/{wrong}"), 404)
            assert problem["code"] == "complaint.receipt_unknown" and "errors" not in problem
            assert problem["detail"] == "Tidak ada pengaduan dengan tanda terima ini."
        refused = assert_problem(await guesser.get(f"{COMPLAINTS}/track/{receipt}"), 429)
        assert receipt not in json.dumps(refused)
        assert_problem(await guesser.post(f"{COMPLAINTS}/track/{receipt}/messages", json={"text": "x"}), 429)
        # Another address, and the right receipt, are not affected.
        assert (await reporter.get(f"{COMPLAINTS}/track/{receipt}")).status_code == 200


async def test_bad_reports_get_clear_errors_without_echoing_them(client, session) -> None:
    secret_contact = "0813-9999-1234"
    cases = [
        (complaint_body(amount=0), "amount"),
        (complaint_body(amount="banyak"), "amount"),
        (complaint_body(description=""), "description"),
        (complaint_body(reporter_contact=secret_contact * 20), "reporter_contact"),
        (complaint_body(area="36.74.01.9999", reporter_contact=secret_contact), "area"),
        (complaint_body(place=None, reporter_contact=secret_contact), "place"),
        (complaint_body(occurred_on=str(calendar.today() + timedelta(days=3))), "occurred_on"),
        (complaint_body(nik="3674010101010001"), "nik"),
    ]
    for body, field in cases:
        problem = assert_problem(await client.post(COMPLAINTS, json=body), 422, field=field)
        assert secret_contact not in json.dumps(problem)
    assert_problem(await client.post(COMPLAINTS, content=b"{not json", headers={"content-type": "application/json"}), 422)
    assert (await client.get(f"{COMPLAINTS}/stats", params={"from": "2025-09-01", "to": "2025-08-01"})).status_code == 422
    assert_problem(await client.get(f"{COMPLAINTS}/stats", params={"area": "36.74.99"}), 404, field="area")
    empty = (await client.get(f"{COMPLAINTS}/stats", params={"from": "2025-08-01", "to": "2025-08-31"})).json()
    assert empty["from"] == "2025-08-01" and empty["total"] == 0 and empty["median_days_to_first_response"] is None


async def test_sanctions_need_a_substantiated_complaint(client, session) -> None:
    operator_id = (await make_operator(session)).id
    open_id = (await make_complaint(session, status=ComplaintStatus.investigating, operator_id=operator_id)).id
    handler = await headers_for(session, role=Role.handler)
    sanction = {"kind": "removal", "effective_from": str(calendar.today()), "note": "Diberhentikan."}
    assert_problem(await client.post(f"{COMPLAINTS}/{open_id}/sanction", json=sanction, headers=handler), 409)
    assert_problem(await client.post(f"{COMPLAINTS}/{open_id}/sanction", json={**sanction, "kind": "fine"}, headers=handler), 422, field="kind")
    assert (await session.get(Operator, operator_id)).status == "active"


async def test_public_stats_cannot_single_out_a_small_place_on_one_day(client, session) -> None:
    """Issue 17, item 3: `?area=<RW>&from=D&to=D` told "<3" from 0, i.e. that someone there complained that day."""
    from api.complaints import service

    await make_complaint(session, area="36.74.07.1001")  # a kelurahan of Setu
    handler = await headers_for(session, role=Role.handler)
    viewer = await headers_for(session, role=Role.viewer)
    await session.commit()
    today = service.today()
    day = {"from": str(today), "to": str(today)}
    # Below a kecamatan, the public (and staff who do not handle complaints) get a 422.
    for headers in ({}, viewer):
        assert_problem(await client.get(f"{COMPLAINTS}/stats", params={"area": "36.74.07.1001", **day}, headers=headers), 422, field="area")
    # A kecamatan, but the days are widened to whole months: one day and its month answer alike.
    one_day = (await client.get(f"{COMPLAINTS}/stats", params={"area": "36.74.07", **day})).json()
    whole_month = (await client.get(f"{COMPLAINTS}/stats", params={"area": "36.74.07", "from": str(today.replace(day=1))})).json()
    assert one_day["from"] == str(today.replace(day=1)) and one_day["to"] >= str(today)
    assert one_day["total"] == whole_month["total"] == "<3"
    yesterday = today - timedelta(days=1)
    if yesterday.month == today.month:  # the day before, differenced against today, tells nothing
        before = (await client.get(f"{COMPLAINTS}/stats", params={"area": "36.74.07", "from": str(yesterday), "to": str(yesterday)})).json()
        assert before == one_day
    # Complaint handlers keep the detail.
    detailed = (await client.get(f"{COMPLAINTS}/stats", params={"area": "36.74.07.1001", **day}, headers=handler)).json()
    assert (detailed["from"], detailed["to"], detailed["total"]) == (str(today), str(today), "<3")

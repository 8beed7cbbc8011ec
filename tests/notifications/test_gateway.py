"""Resident message adapters: the WhatsApp Cloud API request shape against a local stub, and the log."""

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.notifications import service
from api.notifications.gateway import LogGateway, WhatsAppCloudGateway, gateway_from_settings, mask_phone, normalize_phone
from api.notifications.schemas import ContactCreate
from api.notifications.worker import Worker
from tests.notifications.conftest import worker_settings


@pytest.fixture
def whatsapp(receiver):
    receiver.answer_body = json.dumps({"messaging_product": "whatsapp", "contacts": [{"wa_id": "6281234567890"}], "messages": [{"id": "wamid.X"}]}).encode()
    return WhatsAppCloudGateway(base_url=receiver.url, version="v21.0", phone_number_id="1098765", token="test-token")


async def test_whatsapp_request_shape(whatsapp, receiver) -> None:
    result = await whatsapp.send(channel="whatsapp", phone="+6281234567890", body="Rekam: Nomor antrean A-007 dipanggil.")
    assert result.ok and result.status_code == 200
    (request,) = receiver.requests
    assert request.path == "/v21.0/1098765/messages"
    assert request.headers["authorization"] == "Bearer test-token"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281234567890",
        "type": "text",
        "text": {"preview_url": False, "body": "Rekam: Nomor antrean A-007 dipanggil."},
    }


async def test_provider_refusals_are_final_and_outages_retried(whatsapp, receiver) -> None:
    receiver.statuses.extend([400, 429, 503])
    results = [await whatsapp.send(channel="whatsapp", phone="+6281234567890", body="x") for _ in range(3)]
    assert [(r.ok, r.status_code, r.permanent) for r in results] == [(False, 400, True), (False, 429, False), (False, 503, False)]


def test_gateway_is_chosen_by_settings() -> None:
    assert isinstance(gateway_from_settings(worker_settings()), LogGateway)
    chosen = gateway_from_settings(
        worker_settings(resident_gateway="whatsapp", whatsapp_phone_number_id="1", whatsapp_token="t", whatsapp_api_base="http://127.0.0.1:1")
    )
    assert isinstance(chosen, WhatsAppCloudGateway) and chosen.url == "http://127.0.0.1:1/v21.0/1/messages"
    with pytest.raises(ValueError):
        gateway_from_settings(worker_settings(resident_gateway="whatsapp"))


def test_numbers_are_normalized_and_masked() -> None:
    assert normalize_phone("0812 3456 7890") == normalize_phone("+62-812-3456-7890") == normalize_phone("6281234567890") == "+6281234567890"
    assert mask_phone("+6281234567890") == "+62812*****890"


async def test_the_log_adapter_masks_the_number(log_output) -> None:
    assert (await LogGateway().send(channel="sms", phone="+6281234567890", body="Rekam: tes")).ok
    text = log_output.getvalue()
    assert "+62812*****890" in text and "81234567890" not in text and "Rekam: tes" in text


async def test_the_worker_sends_resident_messages_through_the_gateway(sessions, whatsapp, receiver) -> None:
    async with sessions() as session, session.begin():
        assert isinstance(session, AsyncSession)
        await service.add_contact(session, subject_kind="home_visit", subject_id=12, data=ContactCreate(phone="081234567890", consent=True))
        await service.send_code(session, subject_kind="home_visit", subject_id=12, code="HV-AB12-CD34")
        await service.emit(session, type="home_visit.scheduled", payload={"home_visit_id": 12, "date": "2026-12-08"}, subject=("home_visit", 12))
    receiver.statuses.append(503)  # the first try meets an outage
    worker = Worker(sessions, settings=worker_settings(), gateway=whatsapp, message_backoff=(0,))
    assert await worker.run_once() == 2
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    bodies = [r.json()["text"]["body"] for r in receiver.requests]
    # The code (queued first) meets the outage and is sent again; the scheduled visit goes through.
    assert "HV-AB12-CD34" in bodies[0] and bodies[0] == bodies[2]
    assert bodies[1] == "Rekam: Kunjungan perekaman e-KTP ke rumah Anda dijadwalkan pada 2026-12-08."
    async with sessions() as session:
        messages = await service.messages_for(session, subject_kind="home_visit", subject_id=12)
        assert [(m.status, m.body) for m in messages] == [("succeeded", None), ("succeeded", None)]  # texts emptied once sent
        assert sorted(m.attempts for m in messages) == [1, 2]
    await worker.aclose()

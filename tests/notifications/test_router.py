"""/api/v1/webhooks: admin only, the secret shown once, the delivery log and redelivery."""

import pytest
from sqlalchemy import select, update

from api.audit.models import AuditEntry
from api.notifications import service
from api.notifications.models import WebhookDelivery
from api.types import Role
from tests.factories import assert_problem, headers_for

WEBHOOKS = "/api/v1/webhooks"


@pytest.fixture
async def admin(session) -> dict[str, str]:
    return await headers_for(session, role=Role.admin)


async def test_create_list_and_delete_a_subscription_secret_shown_once(webhooks_app, client, session, admin, allow_private) -> None:
    created = await client.post(
        WEBHOOKS,
        json={"url": "http://127.0.0.1:9/hook", "events": ["ticket.called", "ticket.called", "tallies.imported"], "description": "dasbor kota"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["ticket.called", "tallies.imported"] and body["active"] is True
    listed = await client.get(WEBHOOKS, headers=admin)
    assert listed.status_code == 200 and [s["id"] for s in listed.json()["items"]] == [body["id"]]
    one = await client.get(f"{WEBHOOKS}/{body['id']}", headers=admin)
    for response in (listed, one):
        assert "secret" not in response.text and body["secret"] not in response.text
    entries = (await session.scalars(select(AuditEntry).where(AuditEntry.entity == "webhook_subscription"))).all()
    assert [e.action for e in entries] == ["create"] and body["secret"] not in str(entries[0].after)
    assert (await client.delete(f"{WEBHOOKS}/{body['id']}", headers=admin)).status_code == 204
    assert_problem(await client.get(f"{WEBHOOKS}/{body['id']}", headers=admin), 404)
    assert_problem(await client.delete(f"{WEBHOOKS}/{body['id']}", headers=admin), 404)


async def test_only_admins_manage_webhooks(webhooks_app, client, session) -> None:
    assert_problem(await client.get(WEBHOOKS), 401)
    assert_problem(await client.post(WEBHOOKS, json={"url": "https://93.184.216.34/", "events": ["ticket.called"]}), 401)
    for role in (Role.supervisor, Role.viewer, Role.handler):
        headers = await headers_for(session, role=role, area="36.74.01" if role == Role.supervisor else None)
        assert_problem(await client.get(WEBHOOKS, headers=headers), 403)
        assert_problem(await client.post(WEBHOOKS, json={"url": "https://93.184.216.34/", "events": ["ticket.called"]}, headers=headers), 403)


@pytest.mark.parametrize(
    "url", ["http://93.184.216.34/hook", "https://127.0.0.1/hook", "https://10.0.0.8/hook", "https://169.254.169.254/", "https://localhost/x"]
)
async def test_private_or_plain_http_targets_are_refused(webhooks_app, client, admin, url: str) -> None:
    assert_problem(await client.post(WEBHOOKS, json={"url": url, "events": ["ticket.called"]}, headers=admin), 422, field="url")


async def test_malformed_subscriptions_are_422(webhooks_app, client, admin) -> None:
    for body in ({"url": "https://93.184.216.34/", "events": []}, {"url": "https://93.184.216.34/", "events": ["no.such"]}, {"events": ["ticket.called"]}):
        assert_problem(await client.post(WEBHOOKS, json=body, headers=admin), 422)


async def test_delivery_log_and_redelivery(webhooks_app, client, session, admin, allow_private) -> None:
    created = (await client.post(WEBHOOKS, json={"url": "http://127.0.0.1:9/hook", "events": ["complaint.replied"]}, headers=admin)).json()
    event = await service.emit(session, type="complaint.replied", payload={"complaint_id": 5})
    await service.emit(session, type="ticket.called", payload={"ticket_id": 5})  # not subscribed
    await session.execute(update(WebhookDelivery).values(status="dead", attempts=8, last_status_code=500, last_error="The receiver answered HTTP 500."))
    log = await client.get(f"{WEBHOOKS}/{created['id']}/deliveries", headers=admin)
    assert log.status_code == 200
    (item,) = log.json()["items"]
    assert item["event_uid"] == event.uid and item["event_type"] == "complaint.replied"
    assert (item["status"], item["attempts"], item["last_status_code"], item["next_attempt_at"]) == ("dead", 8, 500, None)
    assert (await client.get(f"{WEBHOOKS}/{created['id']}/deliveries", params={"status": "succeeded"}, headers=admin)).json()["items"] == []

    again = await client.post(f"{WEBHOOKS}/deliveries/{item['id']}/redeliver", headers=admin)
    assert again.status_code == 200 and again.json()["status"] == "pending" and again.json()["attempts"] == 0
    assert_problem(await client.post(f"{WEBHOOKS}/deliveries/999999/redeliver", headers=admin), 404)
    assert_problem(await client.get(f"{WEBHOOKS}/999999/deliveries", headers=admin), 404)


async def test_a_disabled_subscription_is_shown_with_its_reason_and_can_be_enabled(webhooks_app, client, session, admin, allow_private) -> None:
    from datetime import UTC, datetime

    from api.notifications.models import WebhookSubscription

    created = (await client.post(WEBHOOKS, json={"url": "http://127.0.0.1:9/hook", "events": ["ticket.called"]}, headers=admin)).json()
    await service.emit(session, type="ticket.called", payload={"ticket_id": 1})
    subscription = await session.get_one(WebhookSubscription, created["id"])
    await service.disable_subscription(session, subscription=subscription, reason="Deliveries kept failing: HTTP 500", now=datetime.now(UTC))
    shown = (await client.get(f"{WEBHOOKS}/{created['id']}", headers=admin)).json()
    assert shown["active"] is False and shown["disabled_reason"] == "Deliveries kept failing: HTTP 500"
    (delivery,) = (await client.get(f"{WEBHOOKS}/{created['id']}/deliveries", headers=admin)).json()["items"]
    assert delivery["status"] == "dead" and delivery["last_error"] == "The subscription was disabled."
    assert_problem(await client.post(f"{WEBHOOKS}/deliveries/{delivery['id']}/redeliver", headers=admin), 409)
    enabled = await client.post(f"{WEBHOOKS}/{created['id']}/enable", headers=admin)
    assert enabled.status_code == 200 and enabled.json()["active"] is True and enabled.json()["disabled_reason"] is None
    assert (await client.post(f"{WEBHOOKS}/deliveries/{delivery['id']}/redeliver", headers=admin)).json()["status"] == "pending"

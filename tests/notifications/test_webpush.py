"""Web Push: VAPID keys made once, payloads a browser can decrypt, signed for the push service."""

import base64
import json

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from api.errors import RuleViolation
from api.notifications import service
from api.notifications.gateway import LogGateway
from api.notifications.schemas import PushSubscriptionIn
from api.notifications.webpush import vapid_key
from api.notifications.worker import Worker
from tests.notifications.conftest import worker_settings


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """What a browser holds for one push subscription."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b"0123456789abcdef"
        public = self.key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.subscription = PushSubscriptionIn(endpoint=endpoint, keys={"p256dh": b64url(public), "auth": b64url(self.auth)})

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


async def test_the_vapid_key_is_made_once(session) -> None:
    first = await vapid_key(session)
    again = await vapid_key(session)
    assert first.public_key == again.public_key and len(unb64url(first.public_key)) == 65


async def test_the_push_key_endpoint_is_public(webhooks_app, client) -> None:
    answer = await client.get("/api/v1/notifications/push-key")
    assert answer.status_code == 200 and len(unb64url(answer.json()["public_key"])) == 65


async def test_your_turn_is_near_reaches_the_browser(sessions, receiver, allow_private) -> None:
    browser = Browser(receiver.url + "/push/sub-1")
    async with sessions() as session, session.begin():
        await service.add_push_contact(session, subject_kind="ticket", subject_id=5, data=browser.subscription)
        await service.emit(
            session, type="ticket.near", payload={"ticket_id": 5, "number": "A-005", "service_point": "Kecamatan Ciputat", "ahead": 2}, subject=("ticket", 5)
        )
        public_key = (await vapid_key(session)).public_key
    worker = Worker(sessions, settings=worker_settings(), gateway=LogGateway())
    assert await worker.run_once() == 1
    await worker.aclose()
    (request,) = receiver.requests
    assert request.path == "/push/sub-1" and request.headers["content-encoding"] == "aes128gcm" and int(request.headers["ttl"]) > 0
    shown = browser.decrypt(request.body)
    assert shown["title"] == "Rekam" and shown["tag"].startswith("event-")
    assert shown["body"] == "Rekam: Giliran antrean A-005 di Kecamatan Ciputat hampir tiba, tinggal 2 orang lagi. Mohon bersiap."
    # VAPID: a JWT for the push service's origin, signed with the key the browser subscribed with.
    scheme, _, params = request.headers["authorization"].partition(" ")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert scheme == "vapid" and fields["k"] == public_key
    header, claims, signature = fields["t"].split(".")
    assert json.loads(unb64url(claims))["aud"] == receiver.url and json.loads(unb64url(claims))["sub"].startswith("mailto:")
    raw = unb64url(signature)
    der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    server_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    server_key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))


async def test_a_dropped_browser_subscription_is_final(sessions, receiver, allow_private) -> None:
    receiver.default_status = 410
    browser = Browser(receiver.url + "/push/gone")
    async with sessions() as session, session.begin():
        await service.add_push_contact(session, subject_kind="ticket", subject_id=6, data=browser.subscription)
        await service.emit(session, type="ticket.called", payload={"ticket_id": 6, "number": "A-006"}, subject=("ticket", 6))
    worker = Worker(sessions, settings=worker_settings(), gateway=LogGateway(), message_backoff=(0,))
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    await worker.aclose()
    async with sessions() as session:
        (message,) = await service.messages_for(session, subject_kind="ticket", subject_id=6)
        assert (message.status, message.last_status_code, message.body) == ("dead", 410, None)


async def test_push_endpoints_must_be_https(session) -> None:
    with pytest.raises(RuleViolation):
        await service.add_push_contact(session, subject_kind="ticket", subject_id=1, data=Browser("http://push.example.com/x").subscription)

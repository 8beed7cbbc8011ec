"""Web Push for the browser ("your turn is near"): VAPID keys made on first use, RFC 8291 payloads.

- The VAPID key pair is created by the first process that needs it and kept in `notification_keys`,
  so every API process signs with the same key; the browser gets its public half as
  `applicationServerKey` (`vapid_public_key`).
- A push is the text as JSON (`{"title", "body", "tag"}`), encrypted with `aes128gcm` for the
  browser's keys (pywebpush), signed with VAPID (`Authorization: vapid t=..., k=...`), and POSTed
  to the browser's push service through the same target checks as webhooks.
- A push service answering 404 or 410 means the browser dropped the subscription: final.
"""

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPusher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import upsert_statement
from api.notifications.gateway import SendResult
from api.notifications.models import NotificationKey
from api.notifications.webhooks import post_pinned

VAPID = "vapid"


def new_vapid_keys() -> tuple[str, str]:
    """(private key PEM, public key base64url) of a new P-256 key pair."""
    vapid = Vapid02()
    vapid.generate_keys()
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return vapid.private_pem().decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def vapid_key(session: AsyncSession) -> NotificationKey:
    """The VAPID key pair, made now if no process has made it yet (the first writer wins)."""
    key = await session.get(NotificationKey, VAPID)
    if key is None:
        private_pem, public_key = new_vapid_keys()
        values = {"name": VAPID, "private_pem": private_pem, "public_key": public_key, "created_at": datetime.now(UTC)}
        await session.execute(upsert_statement(session, NotificationKey.__table__, keys=["name"], update=[]).values(**values))
        key = await session.scalar(select(NotificationKey).where(NotificationKey.name == VAPID).execution_options(populate_existing=True))
    assert key is not None
    return key


class WebPushSender:
    def __init__(self, *, private_pem: str, subject: str, client: httpx.AsyncClient, allow_private: bool, ttl: int = 3600) -> None:
        self.vapid = Vapid02.from_pem(private_pem.encode())
        self.subject = subject
        self.client = client
        self.allow_private = allow_private
        self.ttl = ttl

    def request(self, subscription: dict[str, Any], message: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
        prepared = WebPusher(subscription)._prepare_send_data(json.dumps(message, ensure_ascii=False).encode(), {}, ttl=self.ttl)
        endpoint = httpx.URL(prepared["endpoint"])
        audience = f"{endpoint.scheme}://{endpoint.netloc.decode('ascii')}"
        claims = {"sub": self.subject, "aud": audience, "exp": int(time.time()) + 12 * 3600}
        headers = {k.lower(): str(v) for k, v in prepared["headers"].items()}
        headers.update({k.lower(): v for k, v in self.vapid.sign(claims).items()})
        headers["content-type"] = "application/octet-stream"
        headers["urgency"] = "high"
        return prepared["endpoint"], prepared["data"], headers

    async def send(self, *, subscription: dict[str, Any], body: str, tag: str | None = None) -> SendResult:
        try:
            endpoint, content, headers = self.request(subscription, {"title": "Rekam", "body": body, "tag": tag or "rekam"})
        except Exception as exc:
            return SendResult(False, None, f"{type(exc).__name__}: the browser subscription is unusable.", permanent=True)
        outcome = await post_pinned(self.client, url=endpoint, content=content, headers=headers, allow_private=self.allow_private)
        if outcome.ok:
            return SendResult(True, outcome.status_code)
        gone = outcome.status_code in (404, 410)
        refused = outcome.status_code is not None and 400 <= outcome.status_code < 500 and outcome.status_code != 429
        return SendResult(False, outcome.status_code, outcome.error, permanent=gone or refused)

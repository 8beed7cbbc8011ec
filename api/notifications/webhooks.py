"""Webhook targets and signed deliveries (Standard Webhooks).

Rules:
- A target is `https://` and every address its host resolves to is public: no loopback, private,
  link-local, multicast, reserved or unspecified address (no server-side request forgery into the
  city's network). `REKAM_WEBHOOK_ALLOW_PRIVATE_TARGETS=true` allows those, and plain http, for
  tests and on-premise receivers.
- The check is made when a subscription is created and again at every delivery, and the request
  is sent to the address that was checked (the host name goes in `Host` and TLS SNI), so a DNS
  answer that changes in between (rebinding) cannot redirect it. Redirects are not followed.
- Each try is signed afresh: `webhook-id` (the event's id, the same on every try), `webhook-timestamp`
  (the try's time, Unix seconds), `webhook-signature` (`v1,<base64 HMAC-SHA256>`), secret `whsec_<base64>`.
"""

import asyncio
import base64
import ipaddress
import json
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from api import messages

USER_AGENT = "Rekam-Webhooks/1"


class TargetRefused(Exception):
    """The URL may not be a webhook target: a code of api.messages and its params say why."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(messages.render(code, params, "en"))
        self.code, self.params = code, params


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local or address.is_multicast or address.is_reserved or address.is_unspecified
    )


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """The URL's shape: scheme, host, no credentials in it."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise TargetRefused("webhook.not_url") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in allowed:
        raise TargetRefused("webhook.https")
    if not parsed.host:
        raise TargetRefused("webhook.no_host")
    if parsed.userinfo:
        raise TargetRefused("webhook.credentials")
    if parsed.fragment:
        raise TargetRefused("webhook.fragment")
    return parsed


async def resolve_target(url: httpx.URL, *, allow_private: bool) -> list[str]:
    """The addresses to connect to: all of them public unless private targets are allowed."""
    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise TargetRefused("webhook.unresolved", host=host) from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
        if not addresses:
            raise TargetRefused("webhook.unresolved", host=host)
    if not allow_private:
        refused = [str(a) for a in addresses if not is_public_address(a)]
        if refused:
            raise TargetRefused("webhook.not_public", host=host, address=str(refused[0]))
    return [str(a) for a in addresses]


async def validate_target(url: str, *, allow_private: bool) -> str:
    """Refuse a URL that is not a permitted target; return it normalized."""
    parsed = check_url(url, allow_private=allow_private)
    await resolve_target(parsed, allow_private=allow_private)
    return str(parsed)


def body_of(*, event_type: str, created_at: datetime, payload: dict[str, Any]) -> bytes:
    """The delivery's JSON body (Standard Webhooks' recommended envelope)."""
    envelope = {"type": event_type, "timestamp": created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"), "data": payload}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(*, secret: str, msg_id: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
    }


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None


async def post_pinned(client: httpx.AsyncClient, *, url: str, content: bytes, headers: dict[str, str], allow_private: bool) -> Outcome:
    """POST to the address checked just now (the name stays in Host and in TLS: SNI and certificate check).

    The answer's body is never read (it is not ours to hold in memory). 2xx is success.
    """
    try:
        parsed = check_url(url, allow_private=allow_private)
        address = (await resolve_target(parsed, allow_private=allow_private))[0]
    except TargetRefused as exc:
        return Outcome(False, None, str(exc))
    headers = {**headers, "host": parsed.netloc.decode("ascii")}
    pinned = parsed.copy_with(host=address)
    extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    try:
        async with client.stream("POST", pinned, content=content, headers=headers, extensions=extensions, follow_redirects=False) as response:
            status = response.status_code
    except httpx.TimeoutException:
        return Outcome(False, None, "The receiver did not answer in time.")
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"{type(exc).__name__}: the connection failed.")
    if 200 <= status < 300:
        return Outcome(True, status)
    return Outcome(False, status, f"The receiver answered HTTP {status}.")


async def deliver(client: httpx.AsyncClient, *, url: str, secret: str, msg_id: str, body: bytes, allow_private: bool) -> Outcome:
    """One signed POST of a webhook delivery."""
    headers = signed_headers(secret=secret, msg_id=msg_id, body=body)
    return await post_pinned(client, url=url, content=body, headers=headers, allow_private=allow_private)

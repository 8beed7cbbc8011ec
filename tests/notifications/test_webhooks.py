"""Webhook targets (no server-side request forgery) and Standard Webhooks signatures."""

import ipaddress

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from api.notifications.webhooks import TargetRefused, check_url, is_public_address, new_secret, signed_headers, validate_target


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "239.1.2.3",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "ff02::1",
        "::",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/hook",
        "https://0x7f000001/hook",
    ],
)
async def test_private_targets_are_refused_by_default(url: str) -> None:
    with pytest.raises(TargetRefused):
        await validate_target(url, allow_private=False)


async def test_private_targets_and_http_only_when_allowed() -> None:
    with pytest.raises(TargetRefused, match="https"):
        await validate_target("http://93.184.216.34/hook", allow_private=False)
    assert await validate_target("http://127.0.0.1:8080/hook", allow_private=True) == "http://127.0.0.1:8080/hook"
    assert await validate_target("https://93.184.216.34/hook", allow_private=False) == "https://93.184.216.34/hook"


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/", "https://user:pw@93.184.216.34/", "https:///nohost", "not a url", "https://93.184.216.34/#frag"])
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_url(url, allow_private=True)


async def test_an_unresolvable_host_is_refused() -> None:
    with pytest.raises(TargetRefused, match="resolve"):
        await validate_target("https://no-such-host.invalid/hook", allow_private=False)


def test_signatures_follow_standard_webhooks() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    body = b'{"type":"ticket.called","data":{"ticket_id":1}}'
    headers = signed_headers(secret=secret, msg_id="msg_abc", body=body)
    assert headers["webhook-id"] == "msg_abc" and headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"type": "ticket.called", "data": {"ticket_id": 1}}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"1", b"2"), headers)
    assert httpx.Headers(headers)["webhook-timestamp"].isdigit()

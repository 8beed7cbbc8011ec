"""Resident messages out: SMS/WhatsApp text through one adapter, chosen by `REKAM_RESIDENT_GATEWAY`.

- `log` (development): writes the message to the log with the number masked; nothing is sent.
- `whatsapp`: the WhatsApp Business Cloud API's message endpoint,
  `POST {REKAM_WHATSAPP_API_BASE}/{version}/{phone_number_id}/messages` with a bearer token and
  `{"messaging_product": "whatsapp", "to": ..., "type": "text", "text": {"body": ...}}`.

Texts are in Bahasa Indonesia (`TEMPLATES`). A number is written `+62...` (E.164) everywhere in
Rekam and shown only masked (`+62812****789`).
"""

import re
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import structlog

from api import messages
from api.config import Settings

log = structlog.get_logger("api.notifications")


class InvalidPhone(ValueError):
    """Why a phone number cannot take messages: a code of api.messages (the number is never quoted)."""

    def __init__(self, code: str) -> None:
        super().__init__(messages.render(code, None, "en"))
        self.code = code


def normalize_phone(raw: str) -> str:
    """An Indonesian mobile number as +628..., from 08..., 628..., +62 8... (spaces, dots, dashes allowed)."""
    text = raw.strip()
    if not re.fullmatch(r"\+?[\d\s.\-()]{8,24}", text):
        raise InvalidPhone("phone.not_a_number")
    digits = re.sub(r"\D", "", text)
    if digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        raise InvalidPhone("phone.form")
    if not (national.startswith("8") and 8 <= len(national) <= 12):
        raise InvalidPhone("phone.not_mobile")
    return "+62" + national


def mask_phone(phone: str) -> str:
    """+6281234567890 -> +62812****890."""
    return phone[:6] + "*" * max(0, len(phone) - 9) + phone[-3:]


# Texts by event type; `{...}` come from the event's payload (missing ones render as "-").
TEMPLATES: dict[str, str] = {
    "ticket.called": "Rekam: Nomor antrean {number} dipanggil di {service_point}. Silakan menuju loket {counter}.",
    "ticket.near": "Rekam: Giliran antrean {number} di {service_point} hampir tiba, tinggal {ahead} orang lagi. Mohon bersiap.",
    "appointment.reminder": "Rekam: Pengingat jadwal perekaman e-KTP Anda pada {date} pukul {time} di {service_point}.",
    "home_visit.scheduled": "Rekam: Kunjungan perekaman e-KTP ke rumah Anda dijadwalkan pada {date}.",
    "home_visit.rescheduled": "Rekam: Kunjungan perekaman e-KTP ke rumah Anda dijadwalkan ulang ke {date}.",
    "home_visit.visited": "Rekam: Petugas telah melakukan kunjungan perekaman e-KTP. Terima kasih.",
    "complaint.replied": "Rekam: Ada balasan baru atas laporan Anda. Buka halaman lacak laporan dengan kode laporan Anda.",
    "complaint.status_changed": "Rekam: Status laporan Anda kini: {status_label}.",
}
CODE_TEMPLATE = "Rekam: Kode {what} Anda: {code}. Simpan kode ini dan jangan berikan kepada siapa pun."
CODE_WHAT = {
    "home_visit": "pelacakan kunjungan rumah",
    "complaint": "laporan pungli",
    "ticket": "antrean",
    "appointment": "janji perekaman",
}
STATUS_LABELS = {
    "received": "diterima",
    "investigating": "sedang diperiksa",
    "substantiated": "terbukti",
    "unsubstantiated": "tidak terbukti",
    "action_taken": "telah ditindak",
    "closed": "ditutup",
}


class _Defaults(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "-"


def render(event_type: str, payload: dict[str, Any]) -> str | None:
    """The resident's text for an event, or None when the event is not for residents."""
    template = TEMPLATES.get(event_type)
    if template is None:
        return None
    values = _Defaults({k: v for k, v in payload.items() if v is not None})
    if "status" in payload:
        values["status_label"] = STATUS_LABELS.get(str(payload["status"]), str(payload["status"]))
    return template.format_map(values)


def render_code(subject_kind: str, code: str) -> str:
    return CODE_TEMPLATE.format(what=CODE_WHAT.get(subject_kind, "pelacakan"), code=code)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    # True when trying again cannot help (the provider refused the request itself).
    permanent: bool = False


class Gateway(Protocol):
    async def send(self, *, channel: str, phone: str, body: str) -> SendResult: ...


class LogGateway:
    """Development: the message goes to the log, the number masked."""

    async def send(self, *, channel: str, phone: str, body: str) -> SendResult:
        log.info("resident_message", channel=channel, to=mask_phone(phone), body=body)
        return SendResult(True)


class WhatsAppCloudGateway:
    """The WhatsApp Business Cloud API (Meta Graph API) text message endpoint."""

    def __init__(
        self, *, base_url: str, version: str, phone_number_id: str, token: str, client: httpx.AsyncClient | None = None, timeout: float = 10.0
    ) -> None:
        if not phone_number_id or not token:
            raise ValueError("REKAM_WHATSAPP_PHONE_NUMBER_ID and REKAM_WHATSAPP_TOKEN are required for the whatsapp gateway")
        self.url = f"{base_url.rstrip('/')}/{version.strip('/')}/{phone_number_id}/messages"
        self.token = token
        self.client = client
        self.timeout = timeout

    def request_body(self, *, phone: str, body: str) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": phone.lstrip("+"),
            "type": "text",
            "text": {"preview_url": False, "body": body},
        }

    async def send(self, *, channel: str, phone: str, body: str) -> SendResult:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        try:
            if self.client is not None:
                response = await self.client.post(self.url, json=self.request_body(phone=phone, body=body), headers=headers, timeout=self.timeout)
            else:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.post(self.url, json=self.request_body(phone=phone, body=body), headers=headers)
        except httpx.HTTPError as exc:
            return SendResult(False, None, f"{type(exc).__name__}: the provider did not answer.")
        if 200 <= response.status_code < 300:
            return SendResult(True, response.status_code)
        # 429 and 5xx are worth another try; any other 4xx is a refusal of this request.
        permanent = 400 <= response.status_code < 500 and response.status_code != 429
        return SendResult(False, response.status_code, f"The provider answered HTTP {response.status_code}.", permanent)


def gateway_from_settings(settings: Settings) -> Gateway:
    if settings.resident_gateway == "whatsapp":
        return WhatsAppCloudGateway(
            base_url=settings.whatsapp_api_base,
            version=settings.whatsapp_api_version,
            phone_number_id=settings.whatsapp_phone_number_id,
            token=settings.whatsapp_token.get_secret_value(),
            timeout=settings.webhook_timeout_seconds,
        )
    return LogGateway()

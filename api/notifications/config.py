"""Settings of notifications, read from the environment (REKAM_...).

Kept here until they join `api.config.Settings`; `get_notification_settings()` is the one reader.
"""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REKAM_", extra="ignore")

    # Loopback and private webhook targets, and plain http, only for tests and on-premise receivers.
    webhook_allow_private_targets: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Run the delivery worker inside each API process (`rekam serve`); false when `rekam worker` runs apart.
    notifications_worker: bool = True
    notifications_poll_seconds: float = Field(default=2.0, gt=0)
    # How long a claimed delivery stays a worker's; a worker that died lets it lapse.
    notifications_lease_seconds: float = Field(default=60.0, gt=0)
    notifications_batch: int = Field(default=20, ge=1, le=500)
    # Events whose deliveries and messages are all finished are deleted after this many days.
    notifications_retention_days: int = Field(default=30, ge=1)
    # `ticket.near` is sent when this many residents are before the ticket.
    ticket_near_ahead: int = Field(default=3, ge=1, le=50)
    # Resident messages: `log` writes them to the log (number masked); `whatsapp` sends them.
    resident_gateway: Literal["log", "whatsapp"] = "log"
    whatsapp_api_base: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    whatsapp_phone_number_id: str = ""
    whatsapp_token: SecretStr = SecretStr("")
    # Web Push: who runs this server (VAPID `sub`), as a mailto: link.
    vapid_subject: str = "mailto:admin@rekam.local"
    # "kirim ulang kode": requests per phone number.
    code_resend_limit: str = "3/hour"


@lru_cache
def get_notification_settings() -> NotificationSettings:
    return NotificationSettings()

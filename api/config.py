"""The one place that reads the environment."""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
API_PREFIX = "/api/v1"


_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class RateLimit:
    """At most `count` events per `window` seconds."""

    count: int
    window: int

    @classmethod
    def parse(cls, text: str) -> "RateLimit":
        """`10/minute`, `5/15minutes`, `100/hour`, `1000/day`."""
        match = _RATE.match(text)
        if not match or int(match.group(1)) < 1 or match.group(2) == "0":
            raise ValueError("a rate limit looks like 10/minute, 5/15minutes, 100/hour or 1000/day")
        return cls(int(match.group(1)), int(match.group(2) or 1) * _UNIT_SECONDS[match.group(3).lower()])


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REKAM_", extra="ignore")

    # DATABASE_URL is the variable every tool in this space already uses, so it has no prefix.
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'rekam.db'}",
        validation_alias="DATABASE_URL",
    )
    timezone: str = "Asia/Jakarta"
    frontend_dir: Path = PROJECT_ROOT / "frontend"
    serve_frontend: bool = True
    # Seconds a process may answer a public read (health, progress, schedule, service points, queue
    # boards) from memory without asking the database; its own writes end that at once
    # (api/fastpath.py). 0 turns it off.
    public_read_cache_seconds: float = Field(default=1.0, ge=0, le=15)
    cors_origins: list[str] = []
    token_ttl_minutes: int = 12 * 60
    # Requests per client address to public write endpoints; signed-in staff are exempt.
    public_write_limit: str = "10/minute"
    # Failed sign-ins before further attempts are refused: per username from one client address
    # (another address, e.g. the account's owner, is not held to it), and per client address
    # (higher, because a whole office may sign in from behind one address).
    login_failure_limit: str = "5/15minutes"
    login_failure_limit_per_client: str = "20/15minutes"
    # Keys the hashes of client addresses and usernames (rate-limit rows). Unset: the secret the
    # migration generated into the database (table server_secrets) is used, so restarts and every
    # process keep the same one. Set it (32+ random bytes) to keep it out of the database.
    secret_key: SecretStr | None = None
    # API keys expire this many days after they are made unless their creator chooses otherwise.
    api_key_ttl_days: int = Field(default=365, ge=1, le=3 * 365)
    # Client addresses in audit entries are blanked this many days after the entry (`rekam purge`).
    ip_retention_days: int = Field(default=30, ge=1)
    # `Authorization: Bearer <token>` opens /metrics from anywhere; without it /metrics answers
    # only the loopback address (nginx denies it to the public in any case).
    metrics_token: SecretStr | None = None
    # Addresses of proxies whose X-Forwarded-For is believed (the client address is what rate
    # limits and audit entries count); "*" only when the API is reachable through the proxy alone.
    forwarded_allow_ips: str = "127.0.0.1"
    # Working days (Monday to Friday) the city has to give a fee complaint its first public reply.
    complaint_response_days: int = Field(default=5, ge=1, le=60)
    # Wrong complaint receipts one client address may try before tracking is refused for a while.
    receipt_guess_limit: str = "10/15minutes"
    # Public appointment bookings (issue #17, item 10): per client address, and per service point
    # from all addresses together (bounds how fast a day's seats can be taken). Staff and kiosks
    # (signed in, API keys) are exempt.
    booking_limit: str = "3/hour"
    point_booking_limit: str = "20/minute"
    log_level: str = "INFO"
    log_json: bool = True
    sqlite_busy_timeout_ms: int = 5000
    # PostgreSQL connections each API process keeps open, and how many more it may open at a peak
    # (each of those is closed when given back). Keep it at the requests a process has in flight
    # at once: below that, every request past it connects anew (a server process forked, its
    # caches cold, its prepared statements gone): 76 new connections in 20 s of the load mix
    # (bench/bench_load.py) with 10 kept for 16 requests in flight.
    database_pool_size: int = Field(default=20, ge=1, le=200)
    database_pool_overflow: int = Field(default=20, ge=0, le=200)
    # Requests each API process works on at once; the others wait their turn (api/admission.py).
    # Measured with the load mix (bench/bench_load.py, 16 clients per process): 6 against no limit,
    # the same throughput, writes p99 160-210 ms against 230-320 ms, reads p50 a little higher. 0: no limit.
    requests_at_once: int = Field(default=6, ge=0, le=1000)
    # A home-visit request still open this many days after it was made is overdue.
    home_visit_overdue_days: int = Field(default=7, ge=1)

    # Notifications (api/notifications): webhooks, resident messages, Web Push and the delivery worker.
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
    # How often the notifications worker looks for appointments to remind (api.flows.send_due_reminders).
    appointment_reminder_seconds: float = Field(default=900.0, gt=0)
    # How often the notifications worker looks for progress milestones reached (api.flows.tell_milestones).
    milestone_seconds: float = Field(default=60.0, gt=0)
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

    @field_validator(
        "public_write_limit",
        "login_failure_limit",
        "login_failure_limit_per_client",
        "receipt_guess_limit",
        "booking_limit",
        "point_booking_limit",
        "code_resend_limit",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        RateLimit.parse(value)  # a wrong value stops the start, not the first request
        return value

    @field_validator("secret_key", "metrics_token", mode="before")
    @classmethod
    def _secret(cls, value: object) -> object:
        # An empty variable (`REKAM_METRICS_TOKEN=` in a compose file) means unset, never "".
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if len(text) < 16:
            raise ValueError("a secret must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value

    @property
    def public_write_rate(self) -> RateLimit:
        return RateLimit.parse(self.public_write_limit)

    @property
    def login_failure_rate(self) -> RateLimit:
        return RateLimit.parse(self.login_failure_limit)

    @property
    def login_failure_rate_per_client(self) -> RateLimit:
        return RateLimit.parse(self.login_failure_limit_per_client)

    # Seconds between the comment lines that keep an idle Server-Sent Events stream open.
    sse_heartbeat_seconds: float = 15.0

    @property
    def receipt_guess_rate(self) -> RateLimit:
        return RateLimit.parse(self.receipt_guess_limit)

    @property
    def booking_rate(self) -> RateLimit:
        return RateLimit.parse(self.booking_limit)

    @property
    def point_booking_rate(self) -> RateLimit:
        return RateLimit.parse(self.point_booking_limit)


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""The one place that reads the environment."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    cors_origins: list[str] = []
    token_ttl_minutes: int = 12 * 60
    public_write_limit: str = "10/minute"
    login_failure_limit: str = "5/minute"
    log_level: str = "INFO"
    log_json: bool = True
    sqlite_busy_timeout_ms: int = 5000
    # Seconds between the comment lines that keep an idle Server-Sent Events stream open.
    sse_heartbeat_seconds: float = 15.0


@lru_cache
def get_settings() -> Settings:
    return Settings()

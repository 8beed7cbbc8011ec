from collections.abc import Callable, Iterator

import httpx
import pytest

from api.config import get_settings


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set REKAM_* variables for this test (`configure(login_failure_limit="2/minute")`)."""

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"REKAM_{name.upper()}", value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def client_from(app) -> Callable[[str], httpx.AsyncClient]:
    """A client whose requests come from another address."""

    def make(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    return make

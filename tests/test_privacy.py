"""The personal-data sweep (tests/privacy.py) sees leaks: planted ones are found, masked ones are not."""

import httpx
import structlog
from fastapi import Request

from api.config import Settings
from api.main import create_app
from tests import privacy

NIK = "3674019912990417"
PHONE = "0812 9988 7766"


def test_phone_numbers_are_found_in_every_written_form() -> None:
    pattern = privacy._phone_pattern(PHONE)
    assert pattern is not None
    for written in ("081299887766", "0812-9988-7766", "+6281299887766", "+62 812 9988 7766", "6281299887766", "call 0812.9988.7766 now"):
        assert pattern.search(written), written
    for other in ("*******7766", "0812998877661", "50812998877660", "0812 9988 776"):
        assert not pattern.search(other), other
    assert privacy._phone_pattern("12345") is None


async def test_the_sweep_finds_a_nik_in_a_public_response_and_a_phone_in_a_log_line() -> None:
    app = create_app(Settings(serve_frontend=False, log_json=True))

    # Throwaway routes that leak on purpose: one echoes the NIK to anyone, one logs the phone
    # under a key the log redaction does not know.
    @app.post("/planted/echo")
    async def echo(request: Request) -> dict:
        body = await request.json()
        return {"you_sent": body["nik"], "masked": "*" * 12 + body["nik"][-4:]}

    @app.post("/planted/log")
    async def log_it(request: Request) -> dict:
        body = await request.json()
        structlog.get_logger("planted").info("call back", contact="+62" + body["phone"].replace(" ", "")[1:])
        return {"ok": True}

    @app.post("/planted/masked")
    async def masked(request: Request) -> dict:
        body = await request.json()
        return {"nik": "*" * 12 + body["nik"][-4:], "phone": "*******" + body["phone"][-4:]}

    visit = {"name": "Rahmawati Planted", "nik": NIK, "phone": PHONE, "address": "Jl. Contoh No. 1"}
    with privacy.only(privacy.Collector()) as planted:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            assert (await client.post("/planted/masked", json=visit)).status_code == 200
            assert planted.findings() == []
            # A staff caller may be shown personal data: not a finding.
            assert (await client.post("/planted/echo", json=visit, headers={"X-API-Key": "staff"})).status_code == 200
            assert planted.findings() == []
            assert (await client.post("/planted/echo", json=visit)).status_code == 200
            assert (await client.post("/planted/log", json=visit)).status_code == 200
    findings = planted.findings()
    assert len(findings) == 2, findings
    assert any(f.startswith(f"NIK '{NIK}'") and "public response to POST /planted/echo" in f for f in findings), findings
    assert any(f.startswith(f"phone '{PHONE}'") and "a log line" in f and "+6281299887766" in f for f in findings), findings
    assert {s.kind for s in planted.secrets.values()} == {"NIK", "phone", "name", "address"}
    # The run's own sweep did not see the planted traffic, so it does not fail the run.
    assert all("/planted/" not in output.label for output in privacy.RUN.outputs)
    assert NIK not in {s.value for s in privacy.RUN.secrets.values()}


def test_a_places_address_is_public_and_a_persons_is_not() -> None:
    place = {"name": "Kantor Kelurahan Uji", "area": "36.74.02.1001", "address": "Jl. Uji 1"}
    assert privacy.personal_values(place, path="/api/v1/service-points", where="test") == []
    person = {"name": "Rahmawati Planted", "nik": NIK, "address": "Jl. Contoh No. 1"}
    kinds = {s.kind for s in privacy.personal_values(person, path="/api/v1/home-visits", where="test")}
    assert kinds == {"NIK", "name", "address"}
    walk_in = {"name": "Budi Santoso", "address": "Jl. Contoh No. 2"}
    assert {s.kind for s in privacy.personal_values(walk_in, path="/api/v1/service-points/1/tickets", where="test")} == {"name", "address"}


def test_the_openapi_document_is_not_searched_and_every_other_response_is() -> None:
    collector = privacy.Collector()
    collector.output("the public response to GET /api/v1/openapi.json (200)", '{"example": "0812 9988 7766"}', path="/api/v1/openapi.json")
    collector.output("the public response to GET /api/v1/schedule (200)", '{"phone": "0812 9988 7766"}', path="/api/v1/schedule")
    collector.request(method="POST", path="/api/v1/home-visits", content_type="application/json", body=b'{"phone": "0812 9988 7766"}')
    findings = collector.findings()
    assert len(findings) == 1 and "/api/v1/schedule" in findings[0], findings

"""The catalogues of codes: every code the API can send is worded in Indonesian and English, on
the server (api/messages.py) and in the SPA (frontend/js/i18n/problems.<lang>.js); and the API
answers in the language asked for."""

import ast
import re
from pathlib import Path

import pytest

from api import errors, messages
from api.tallies.schemas import ImportProblemCode

ROOT = Path(__file__).resolve().parents[1]
_DOTTED = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_STRUCTURED = re.compile(r"^(plan|history)\.[a-z_.]+$")


def _strings(node: ast.AST) -> list[str]:
    """The string constants a `code=` value can be (both branches of a conditional)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def raised_codes() -> dict[str, str]:
    """Every code written in api/ (code=..., field_rule(...), explain_pattern(..., code), a checker's
    `return "code", params`), with where it is written."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "api").rglob("*.py")):
        if path.name == "messages.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            values: list[str] = []
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                values += [v for k in node.keywords if k.arg in ("code", "reason_code") for v in _strings(k.value)]
                # Exceptions a domain raises with a code first (api.notifications' InvalidPhone, TargetRefused).
                if name in ("field_rule", "InvalidPhone", "TargetRefused") and node.args:
                    values += _strings(node.args[0])
                if name == "explain_pattern" and len(node.args) > 1:
                    values += _strings(node.args[1])
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and node.value.elts:
                values += [v for v in _strings(node.value.elts[0]) if _DOTTED.match(v)]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _STRUCTURED.match(node.value):
                values.append(node.value)  # the codes of structured results (a plan's reasons, history entries)
            for value in values:
                found.setdefault(value, f"{path.relative_to(ROOT)}:{node.lineno}")  # type: ignore[attr-defined]
    for code, _ in errors._PYDANTIC_CODES.values():
        found.setdefault(code, "api/errors.py (pydantic)")
    for code in errors._STATUS_CODES.values():
        found.setdefault(code, "api/errors.py (status)")
    for code in ImportProblemCode:
        found.setdefault(f"import.{code.value}", "api/tallies/schemas.py (ImportProblemCode)")
    return found


def spa_catalogue(lang: str, name: str = "problems.") -> dict[str, str]:
    """The keys and texts of frontend/js/i18n/<name><lang>.js (a flat object literal of strings):
    the words for the API's codes, or with `name=""` the interface's own texts."""
    source = (ROOT / "frontend" / "js" / "i18n" / f"{name}{lang}.js").read_text()
    return dict(re.findall(r'"([^"\\]+)":\s*"((?:[^"\\]|\\.)*)"', source))  # a few lines hold several pairs (level.*)


@pytest.mark.parametrize("name", ["", "problems."])
def test_the_spa_says_everything_in_both_languages(name: str) -> None:
    indonesian, english = spa_catalogue("id", name), spa_catalogue("en", name)
    assert len(indonesian) > 300
    assert sorted(set(indonesian) ^ set(english)) == []
    differ = {key for key, text in indonesian.items() if set(_PLACEHOLDER.findall(text)) != set(_PLACEHOLDER.findall(english[key]))}
    assert differ == set()


def test_every_raised_code_is_in_the_server_catalogue() -> None:
    missing = {code: where for code, where in raised_codes().items() if code not in messages.MESSAGES}
    assert missing == {}, "add these codes to api/messages.py"


def test_both_languages_name_the_same_params() -> None:
    for code, (indonesian, english) in messages.MESSAGES.items():
        assert indonesian and english, code
        assert set(_PLACEHOLDER.findall(indonesian)) == set(_PLACEHOLDER.findall(english)), code


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_server_code_is_in_the_spa_catalogue(lang: str) -> None:
    spa = spa_catalogue(lang)
    missing = sorted(code for code in messages.MESSAGES if f"problem.{code}" not in spa)
    assert missing == [], f"add these codes to frontend/js/i18n/problems.{lang}.js"
    for code, (indonesian, english) in messages.MESSAGES.items():
        server = indonesian if lang == "id" else english
        assert set(_PLACEHOLDER.findall(spa[f"problem.{code}"])) <= set(_PLACEHOLDER.findall(server)), code


def test_the_spa_words_the_same_params_as_the_server() -> None:
    # A param that is a word (a sanction's kind, a status) is translated by both; when the SPA's
    # list fell behind, a complaint's log read "Sanksi warning" in Indonesian.
    source = (ROOT / "frontend" / "js" / "problems.js").read_text()
    literal = re.search(r"const TERM_PARAMS = \{(.*?)\};", source, flags=re.DOTALL)
    assert literal is not None
    assert dict(re.findall(r'(\w+): "(\w+)"', literal.group(1))) == messages.TERM_PARAMS
    for lang, index in (("id", 0), ("en", 1)):
        spa = spa_catalogue(lang)
        words = {f"term.{group}.{value}": texts[index] for group, terms in messages.TERMS.items() for value, texts in terms.items()}
        assert {key: spa.get(key) for key in words} == words, f"frontend/js/i18n/problems.{lang}.js"


def test_language_is_negotiated() -> None:
    assert messages.negotiate(None) == "id"
    assert messages.negotiate("") == "id"
    assert messages.negotiate("en-US,en;q=0.9") == "en"
    assert messages.negotiate("fr-FR, en;q=0.5, id;q=0.8") == "id"
    assert messages.negotiate("id-ID,id;q=0.9,en-US;q=0.8") == "id"
    assert messages.negotiate("fr, de") == "id"
    assert messages.negotiate("en;q=0") == "id"
    assert messages.language_of_environment({"LANG": "id_ID.UTF-8"}) == "id"
    assert messages.language_of_environment({"LANG": "C.UTF-8"}) == "en"
    assert messages.language_of_environment({"LC_ALL": "en_GB.UTF-8", "LANG": "id_ID.UTF-8"}) == "en"
    assert messages.language_of_environment({}) == "en"


def test_values_are_written_for_the_reader() -> None:
    from datetime import date

    assert messages.format_value(date(2027, 1, 2), "id") == "2 Januari 2027"
    assert messages.format_value(date(2027, 1, 2), "en") == "2027-01-02"
    assert messages.format_value(661671, "id") == "661.671" and messages.format_value(661671, "en") == "661671"
    assert messages.format_value(87.5, "id") == "87,5" and messages.format_value(1234.5, "id") == "1.234,5"
    assert messages.render("date.after_deadline", {"deadline": date(2027, 3, 31)}, "id") == "Tanggal tidak boleh melewati tenggat kampanye (31 Maret 2027)."


async def test_problems_follow_accept_language(client) -> None:
    indonesian = (await client.get("/api/v1/areas/36.74.99")).json()
    english = (await client.get("/api/v1/areas/36.74.99", headers={"Accept-Language": "en-GB,en;q=0.9"})).json()
    assert indonesian["code"] == english["code"]
    assert indonesian["title"] == "Tidak ditemukan" and english["title"] == "Not found"
    invalid = await client.get("/api/v1/campaigns", params={"limit": "0"})
    assert invalid.headers["vary"] == "Accept-Language"
    item = invalid.json()["errors"][0]
    assert item["code"] == "at_least" and item["params"] == {"limit": 1} and item["message"] == "Harus 1 atau lebih."
    english_item = (await client.get("/api/v1/campaigns", params={"limit": "0"}, headers={"Accept-Language": "en"})).json()["errors"][0]
    assert english_item["message"] == "Must be 1 or more."


async def test_pydantic_text_never_reaches_the_reader(client) -> None:
    body = {"name": "x" * 500}
    response = await client.post("/api/v1/home-visits", json=body)
    problem = response.json()
    assert response.status_code == 422 and problem["code"] == "validation.invalid"
    by_field = {item["field"]: item for item in problem["errors"]}
    assert by_field["name"]["code"] == "too_long" and by_field["name"]["params"]["max_length"] > 0
    assert by_field["nik"]["code"] == "missing" and by_field["nik"]["message"] == "Wajib diisi."
    assert "Field required" not in response.text and "String should" not in response.text


def test_openapi_lists_the_codes(app) -> None:
    schema = app.openapi()["components"]["schemas"]
    assert "nik.other_region" in schema["Problem"]["properties"]["code"]["enum"]
    assert "missing" in schema["ProblemItem"]["properties"]["code"]["enum"]


async def test_a_home_visit_refusal_in_both_languages(client, session) -> None:
    from datetime import timedelta

    from api import calendar
    from tests.factories import make_campaign
    from tests.visits.factories import adult_nik, payload

    campaign = await make_campaign(session)
    body = payload(nik=adult_nik("360301"), phone="08123", consent=False, preferred_dates=[(campaign.deadline + timedelta(days=1)).isoformat()])
    indonesian = (await client.post("/api/v1/home-visits", json=body)).json()
    assert indonesian["code"] == "validation.fields" and indonesian["params"] == {"count": 4} and indonesian["detail"] == "4 isian perlu diperbaiki."
    items = {item["field"]: item for item in indonesian["errors"]}
    assert items["nik"]["code"] == "nik.other_region" and set(items["nik"]["params"]) == {"city", "root"}
    assert items["phone"]["code"] == "phone.invalid" and "params" not in items["phone"]
    deadline = items["preferred_dates.0"]
    assert deadline["code"] == "date.after_deadline" and deadline["params"] == {"deadline": campaign.deadline.isoformat()}
    assert messages.format_value(campaign.deadline, "id") in deadline["message"]  # "31 Maret 2027", not ISO
    english = (await client.post("/api/v1/home-visits", json=body, headers={"Accept-Language": "en"})).json()
    assert english["detail"] == "4 fields need attention." and english["title"] == "Invalid request"
    assert {item["field"]: item["message"] for item in english["errors"]}["consent"].startswith("We need the resident's consent")
    # Personal data never travels in params: not the NIK, not the phone.
    assert body["nik"] not in str(indonesian) and "08123" not in str(indonesian)
    assert calendar.today() <= campaign.deadline


async def test_a_schedule_window_that_ends_before_it_starts_is_a_code_not_pydantic_text(client, session) -> None:
    from api.types import Role
    from tests.factories import headers_for

    admin = await headers_for(session, role=Role.admin)
    body = {"device_id": 1, "operator_id": 1, "date": "2027-01-04", "window": {"start": "10:00", "end": "09:00"}}
    response = await client.post("/api/v1/home-visits/1/schedule", json=body, headers=admin)
    problem = response.json()
    assert response.status_code == 422 and problem["errors"][0]["code"] == "window.order"
    assert problem["errors"][0]["message"] == "Jam selesai harus setelah jam mulai."
    assert "Value error" not in response.text and "end must be after start" not in response.text

"""Issue #18: in the Indonesian interface every message a resident or staff member sees is
Indonesian, the API's refusals included. The walk goes through the error paths of the public
forms (home visit, a number at an office that has just closed, a fee complaint, signing in) and
of two staff tools (a tally file, a snapshot), and looks for English in what the page shows."""

import re
from datetime import timedelta

import httpx

from api import calendar
from tests.e2e.conftest import ALWAYS_OPEN
from tests.e2e.test_public import admin_headers, adult_nik, choose_area
from tests.e2e.test_staff import sign_in

# Words an English sentence cannot do without and Indonesian never uses (field names of the API
# such as `preferred_dates` count too: the page names fields by their labels).
ENGLISH = re.compile(
    r"\b(the|is|are|must|cannot|should|field|fields|required|there|please|only|with|this|that|your|you|not|invalid|"
    r"value|error|request|input|nik:|phone:|consent:|preferred_dates)\b",
    re.IGNORECASE,
)


def shown_messages(page, scope: str = "body") -> str:
    """The text of every message the page shows: the form's status area and each field's error."""
    parts = page.locator(f"{scope} [data-form-status], {scope} [data-error-for]:not([hidden]), {scope} [role=alert]").all_inner_texts()
    return "\n".join(part for part in parts if part.strip())


def assert_indonesian(text: str) -> None:
    assert text.strip(), "no message was shown"
    english = sorted({m.group(0).lower() for m in ENGLISH.finditer(text)})
    assert english == [], f"English in: {text!r}"


def test_home_visit_errors_are_indonesian(page, server) -> None:
    page.goto("/#/visit")
    page.wait_for_selector("h1:text-is('Minta kunjungan ke rumah')")
    page.fill("#visit-name", "Budi e2e")
    page.fill("#visit-nik", adult_nik("360301"))  # another city's NIK: names the city, in Indonesian
    page.fill("#visit-phone", "08123")
    choose_area(page, "visit-area", "36.74.01", "36.74.01.1001")
    page.fill("#visit-address", "Jl. Kenari No. 7")
    page.fill("#visit-date-1", (calendar.today() - timedelta(days=1)).isoformat())
    page.click("[data-form=visit] [type=submit]")
    page.locator("[data-error-for=nik]:not([hidden])").wait_for()
    text = shown_messages(page, "[data-form=visit]")
    assert "kota lain" in text and "persetujuan" in text and "nomor HP Indonesia" in text and "sudah lewat" in text
    assert "isian perlu diperbaiki" in text  # the summary counts the fields, it does not list API names
    assert_indonesian(text)


def test_a_number_at_an_office_that_just_closed_is_refused_in_indonesian(page, server) -> None:
    body = {"kind": "kelurahan_office", "name": "Kantor Kelurahan Baru Tutup e2e", "area": "36.74.01.1001", "counters": 1, "opening_hours": ALWAYS_OPEN}
    created = httpx.post(f"{server.base}/api/v1/service-points", json=body, headers=admin_headers(server))
    created.raise_for_status()
    point = created.json()["id"]
    page.goto(f"/#/ticket/{point}")
    form = page.locator("[data-form=ticket]")
    form.wait_for()
    # The office closes while the form is open (its hours are now tomorrow's only).
    tomorrow = calendar.today() + timedelta(days=1)
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[tomorrow.weekday()]
    closed = httpx.patch(f"{server.base}/api/v1/service-points/{point}", json={"opening_hours": {weekday: [["08:00", "12:00"]]}}, headers=admin_headers(server))
    closed.raise_for_status()
    form.locator("[type=submit]").click()
    page.locator("[data-form=ticket] [role=alert]").wait_for()
    text = shown_messages(page, "[data-form=ticket]")
    assert "Kantor Kelurahan Baru Tutup e2e sedang tidak melayani pengambilan nomor" in text
    assert_indonesian(text.replace("Kantor Kelurahan Baru Tutup e2e", ""))


def test_complaint_errors_are_indonesian(page, server) -> None:
    page.goto("/#/report")
    page.wait_for_selector("[data-form=report]")
    choose_area(page, "report-area", "36.74.03", "36.74.03.1001")
    page.fill("#report-place", "Balai warga RW 002")
    page.fill("#report-amount", "20000")
    page.fill("#report-description", "Pungutan di layanan akhir pekan.")
    page.fill("#report-date", (calendar.today() + timedelta(days=2)).isoformat())
    page.click("[data-form=report] [type=submit]")
    page.locator("[data-error-for=occurred_on]:not([hidden])").wait_for()
    text = shown_messages(page, "[data-form=report]")
    assert "masa depan" in text
    assert_indonesian(text)


def test_a_failed_sign_in_is_indonesian(page, server) -> None:
    page.goto("/#/staff/signin")
    page.fill("#signin-username", "e2e.viewer")
    page.fill("#signin-password", "not-the-password")
    page.click("[data-form=signin] [type=submit]")
    page.locator("[data-form-status] [role=alert]").wait_for()
    text = shown_messages(page, "[data-form=signin]")
    assert "Nama pengguna atau kata sandi salah" in text
    assert_indonesian(text)


def test_staff_tools_refuse_in_indonesian(page, server) -> None:
    sign_in(page, "e2e.supervisor", start="/#/staff/tallies")
    page.wait_for_selector("[data-table=grid]")
    yesterday = calendar.today() - timedelta(days=1)
    slashed = f"{yesterday.day:02d}/{yesterday.month:02d}/{yesterday.year}"
    # A day-first file with an ISO row in it, a month 13, a count below zero, an area outside the scope.
    csv = (
        "area,date,count\n"
        f"36.74.01.1001,{slashed},41\n"
        f"36.74.01.1002,{yesterday.isoformat()},12\n"
        f"36.74.01.1001,{yesterday.month:02d}/13/{yesterday.year},3\n"
        f"36.74.01.1002,{slashed},-4\n"
        f"36.74.02.1001,{slashed},12\n"
    )
    form = page.locator("[data-form=csv]")
    form.locator("input[type=file]").set_input_files(files=[{"name": "rekap.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
    form.locator("input[name=dry_run]").check()
    form.locator("[type=submit]").click()
    rejected = form.locator("[data-table=rejected] tbody tr")
    rejected.first.wait_for()
    assert rejected.count() == 4
    reasons = "\n".join(row.locator("td").nth(3).inner_text() for row in rejected.all())
    assert "satu berkas memakai satu bentuk" in reasons and "bulan paling besar 12" in reasons and "tidak boleh negatif" in reasons
    assert_indonesian(reasons + "\n" + form.locator("[data-summary]").inner_text())
    # A snapshot dated in the future: the server's refusal, next to its field, in Indonesian.
    page.goto("/#/staff/targets")
    snapshot = page.locator("[data-form=snapshot]")
    snapshot.wait_for()
    snapshot.locator("select[name=area]").select_option("36.74.01.1002")
    snapshot.locator("input[name=as_of]").fill((calendar.today() + timedelta(days=2)).isoformat())
    snapshot.locator("input[name=cumulative]").fill("1250")
    snapshot.locator("[type=submit]").click()
    snapshot.locator("[data-error-for=as_of]:not([hidden])").wait_for()
    text = shown_messages(page, "[data-form=snapshot]")
    assert "masa depan" in text
    assert_indonesian(text)

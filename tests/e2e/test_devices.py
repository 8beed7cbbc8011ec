"""Devices and operators in a real browser: where everything is today, moving a device (and the
API's refusal of a second place on the same day), loans due, capacity, and the allocation plan.

These tests move devices and apply a plan, which would change what the other browser tests see
(the dispatch test books the demo's mobile kits), so this module has a demo server of its own.
"""

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.conftest import DESKTOP, Server, demo_server, id_number, serious_axe_violations, shoot
from tests.e2e.test_staff import sign_in

DAYS = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"]
PLAN_PATH = "/campaigns/{id}/allocation-plan"


@pytest.fixture(scope="module")
def server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("e2e-devices")) as live:
        yield live


def id_date(iso: str) -> str:
    """'2027-01-13' -> 'Rabu, 13 Januari 2027' (Intl id-ID, weekday and long month)."""
    d = date.fromisoformat(iso)
    return f"{DAYS[d.weekday()]}, {d.day} {MONTHS[d.month - 1]} {d.year}"


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()


def auth(server: Server, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(username)}"}


def every(server: Server, path: str, headers: dict[str, str], **params: str) -> list[dict]:
    items, cursor = [], None
    while True:
        answer = server.get(path, params={**params, "limit": 200, **({"cursor": cursor} if cursor else {})}, headers=headers).json()
        items += answer["items"]
        cursor = answer["next_cursor"]
        if not cursor:
            return items


def office_of(server: Server, name: str) -> dict:
    points = server.get("/service-points", params={"limit": 200}).json()["items"]
    return next(p for p in points if p["name"] == f"Kantor Kecamatan {name}")


def open_view(page, username: str) -> None:
    sign_in(page, username, start="/#/staff/devices")
    page.wait_for_selector("h1:text-is('Perangkat dan operator')")
    page.locator("[data-table=devices]").wait_for()
    page.locator("[data-table=capacity]").wait_for()


def test_admin_sees_every_device_moves_one_and_sees_the_loans_due(page, server) -> None:
    headers = auth(server, "e2e.admin")
    devices = every(server, "/devices", headers)
    open_view(page, "e2e.admin")
    rows = page.locator("[data-table=devices] tbody tr")
    assert len(devices) == 38
    assert rows.count() == len(devices)
    assert sorted(rows.evaluate_all("rs => rs.map(r => Number(r.dataset.device))")) == sorted(d["id"] for d in devices)
    assert "(38)" in page.inner_text("#devices-caption")
    # The per-kecamatan summary shows the API's figures, formatted for id-ID.
    summary = server.get("/allocations/summary", params={"area": "36.74"}, headers=headers).json()
    for k in summary["kecamatan"]:
        row = page.locator(f"[data-table=summary] tr[data-kecamatan='{k['code']}']")
        assert row.locator("[data-cell=devices]").inner_text().split("\n")[0] == id_number(k["devices"])
        assert row.locator("[data-cell=operators]").inner_text() == id_number(k["operators"])
        assert row.locator("[data-cell=capacity]").inner_text() == id_number(k["capacity_per_day"])
    # Filters: one kecamatan, then its mobile kits only; the operators follow the kecamatan.
    page.select_option("#filter-kecamatan", "36.74.03")
    in_pondok_aren = every(server, "/devices", headers, area="36.74.03")
    page.wait_for_function("n => document.querySelectorAll('[data-table=devices] tbody tr').length === n", arg=len(in_pondok_aren))
    assert all("Pondok Aren" in text for text in page.locator("[data-table=devices] [data-place]").all_inner_texts())
    page.select_option("#filter-kind", "mobile")
    kits = every(server, "/devices", headers, area="36.74.03", kind="mobile")
    page.wait_for_function("n => document.querySelectorAll('[data-table=devices] tbody tr').length === n", arg=len(kits))
    operators = every(server, "/operators", headers, area="36.74.03")
    assert page.locator("[data-table=operators] tbody tr").count() == len(operators)
    page.select_option("#filter-kecamatan", "")
    page.select_option("#filter-kind", "")

    # Loans due: the four devices borrowed from Cilegon, with their return dates.
    loans = [d for d in devices if d["owner"] == "loan"]
    assert len(loans) == 4
    loan_rows = page.locator("[data-table=loans] tbody tr")
    assert loan_rows.count() == 4
    assert sorted(loan_rows.evaluate_all("rs => rs.map(r => Number(r.dataset.loan))")) == sorted(d["id"] for d in loans)
    for loan in loans:
        text = page.inner_text(f"[data-table=loans] tr[data-loan='{loan['id']}']")
        assert loan["serial"] in text and id_date(loan["return_due"]) in text and loan["lender"] in text

    # Move a Serpong set to the Setu office from today.
    device = next(d for d in devices if d["serial"] == "KMD-3674-01")
    setu = office_of(server, "Setu")
    page.click(f"[data-table=devices] tr[data-device='{device['id']}'] [data-action=move]")
    form = page.locator("[data-form=move]")
    assert form.locator("[name=device]").input_value() == str(device["id"])
    assert page.evaluate("document.activeElement.name") == "place"
    form.locator("[type=submit]").click()
    assert form.locator("[data-error-for=place]").inner_text() == "Wajib diisi."
    form.locator("[name=place]").select_option(f"sp:{setu['id']}")
    form.locator("[name=reason]").fill("e2e: lebih banyak antrean")
    form.locator("[type=submit]").click()
    form.locator("[role=status]").wait_for()
    assert f"KMD-3674-01 ditempatkan di Kantor Kecamatan Setu mulai {id_date(today())}" in form.locator("[role=status]").inner_text()
    page.wait_for_selector(f"[data-table=devices] tr[data-device='{device['id']}'] [data-place] >> text=Kantor Kecamatan Setu")
    placed = server.get(f"/devices/{device['id']}", headers=headers).json()["placed"]
    assert placed["service_point_id"] == setu["id"] and placed["from"] == today()
    setu_row = page.locator("[data-table=summary] tr[data-kecamatan='36.74.07'] [data-cell=devices]")
    setu_before = next(k for k in summary["kecamatan"] if k["code"] == "36.74.07")["devices"]
    assert setu_row.inner_text().split("\n")[0] == id_number(setu_before + 1)

    # A second place on the same day overlaps the first: the API's 409 shows next to the date.
    form.locator("[name=place]").select_option(f"sp:{office_of(server, 'Pamulang')['id']}")
    form.locator("[type=submit]").click()
    error = form.locator("[data-error-for=from]")
    error.wait_for()
    assert error.inner_text() == "bertumpang tindih dengan periode lain"  # placement.overlap_period, in Indonesian
    assert form.locator("[name=from]").get_attribute("aria-invalid") == "true"
    alert = form.locator("[data-form-status] [role=alert]").inner_text()
    assert "bertentangan" in alert and "satu tempat dalam satu waktu" in alert and "one place" not in alert
    assert server.get(f"/devices/{device['id']}", headers=headers).json()["placed"]["service_point_id"] == setu["id"]
    assert serious_axe_violations(page) == []
    shoot(page, "staff-devices-phone")
    page.set_viewport_size(DESKTOP)
    shoot(page, "staff-devices-desktop")


def test_admin_proposes_and_applies_the_allocation_plan(page, server) -> None:
    headers = auth(server, "e2e.admin")
    open_view(page, "e2e.admin")
    # The capacity view: the API's kecamatan, furthest behind first.
    capacity = server.get(f"/campaigns/{server.campaign_id}/capacity", headers=headers).json()
    shown = page.locator("[data-table=capacity] tbody tr").evaluate_all("rs => rs.map(r => r.dataset.kecamatan)")
    assert sorted(shown) == sorted(k["code"] for k in capacity["kecamatan"])
    short = [k for k in capacity["kecamatan"] if not k["feasible"]]
    assert short and set(shown[: len(short)]) == {k["code"] for k in short}
    worst = max(short, key=lambda k: k["shortfall_per_day"])
    assert shown[0] == worst["code"]
    row = page.locator(f"[data-table=capacity] tr[data-kecamatan='{worst['code']}']")
    assert row.locator("[data-cell=required]").inner_text() == id_number(worst["required_per_day"])
    assert f"Kurang {id_number(worst['shortfall_per_day'])}/hari" in row.inner_text()

    request = {"as_of": today(), "movable": "all", "extra_operators": 0, "extra_devices": []}
    plan = httpx.post(f"{server.base}/api/v1{PLAN_PATH.format(id=server.campaign_id)}", json=request, headers=headers).json()
    assert plan["moves"]
    page.click("[data-form=plan] [type=submit]")
    moves = page.locator("[data-table=moves] tbody tr.move-row")
    moves.first.wait_for()
    assert moves.count() == len(plan["moves"])
    assert moves.evaluate_all("rs => rs.map(r => r.dataset.moveKind + ':' + r.dataset.moveId)") == [f"{m['kind']}:{m['id'] or ''}" for m in plan["moves"]]
    assert page.inner_text("[data-finish=after]") == id_date(plan["latest_finish_after"])
    assert page.inner_text("[data-finish=before]") == id_date(plan["latest_finish_before"])
    # Apply asks first; cancelling changes nothing.
    page.click("[data-action=apply]")
    confirm = page.locator("[data-confirm]")
    starts = (date.fromisoformat(today()) + timedelta(days=1)).isoformat()
    assert id_date(starts) in confirm.inner_text()
    assert page.evaluate("document.activeElement.dataset.action") == "apply-confirm"
    page.click("[data-action=apply-cancel]")
    assert confirm.count() == 0
    first = next(m for m in plan["moves"] if m["kind"] == "device")
    assert server.get(f"/devices/{first['id']}/allocations", headers=headers, params={"limit": 200}).json()["items"][-1]["from"] != starts
    page.click("[data-action=apply]")
    page.click("[data-action=apply-confirm]")
    applied = page.locator("[data-applied]")
    applied.wait_for()
    device_moves = [m for m in plan["moves"] if m["kind"] == "device" and m["id"] is not None]
    operator_moves = [m for m in plan["moves"] if m["kind"] == "operator" and m["id"] is not None]
    assert f"Rencana diterapkan: {len(device_moves)} alat dan {len(operator_moves)} operator dipindahkan mulai {id_date(starts)}" in applied.inner_text()
    assert applied.locator("[data-allocation]").count() == len(device_moves)
    for move in device_moves:
        last = server.get(f"/devices/{move['id']}/allocations", headers=headers, params={"limit": 200}).json()["items"][-1]
        assert last["from"] == starts and last["area"] == move["to"]["area"] and last["service_point_id"] == move["to"]["service_point_id"]
    assert serious_axe_violations(page) == []
    shoot(page, "staff-devices-plan-phone")


def test_roles_see_only_the_buttons_they_may_use(page, server) -> None:
    headers = auth(server, "e2e.supervisor")
    devices = every(server, "/devices", headers)
    open_view(page, "e2e.supervisor")
    # A supervisor of Serpong moves only what stands in Serpong today, only to places in Serpong.
    movable = {d["id"] for d in devices if d["status"] == "active" and d["placed"] and d["placed"]["area"].startswith("36.74.01")}
    buttons = page.locator("[data-table=devices] [data-action=move]").evaluate_all("bs => bs.map(b => Number(b.dataset.id))")
    assert movable and set(buttons) == movable
    # Their own kecamatan is chosen to begin with: the list is Serpong's; the whole city is one choice away.
    assert page.input_value("#filter-kecamatan") == "36.74.01"
    listed = page.locator("[data-table=devices] tbody tr").count()
    assert listed == sum(1 for d in devices if d["placed"] and d["placed"]["area"].startswith("36.74.01"))
    page.select_option("#filter-kecamatan", "")
    page.wait_for_function(f"document.querySelectorAll('[data-table=devices] tbody tr').length > {listed}")
    groups = page.locator("[data-form=move] [name=place] optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert groups == ["Serpong"]
    # May propose a plan, may not apply one.
    page.click("[data-form=plan] [type=submit]")
    page.locator("[data-table=effect]").wait_for()
    assert page.locator("[data-action=apply]").count() == 0
    page.click("[data-action=signout]")
    page.wait_for_selector("[data-figure=recorded]")

    open_view(page, "e2e.viewer")
    assert page.locator("[data-form=move]").count() == 0
    assert page.locator("[data-action=move]").count() == 0
    page.click("[data-form=plan] [type=submit]")
    page.locator("[data-table=effect]").wait_for()
    assert page.locator("[data-action=apply]").count() == 0
    # The language switch: English text and number format.
    page.click("[data-action=language]")
    page.wait_for_selector("h1:text-is('Devices and operators')")
    page.locator("[data-table=capacity]").wait_for()
    capacity = server.get(f"/campaigns/{server.campaign_id}/capacity", headers=headers).json()
    big = max(capacity["kecamatan"], key=lambda k: k["required_per_day"] or 0)
    assert page.inner_text(f"[data-table=capacity] tr[data-kecamatan='{big['code']}'] [data-cell=required]") == f"{big['required_per_day']:,}"
    page.goto("/#/staff")
    page.wait_for_selector(".cards a[href='#/staff/devices']")


def test_names_with_markup_show_as_text(page, server) -> None:
    headers = auth(server, "e2e.admin")
    name = "<script>window.__pwned = 1</script> Pos <b>Ciputat</b>"
    point = httpx.post(
        f"{server.base}/api/v1/service-points",
        json={"kind": "kecamatan_office", "name": name, "area": "36.74.04", "counters": 1, "opening_hours": {"mon": [["08:00", "15:00"]]}},
        headers=headers,
    )
    assert point.status_code == 201, point.text
    serial = "<img src=x onerror=window.__pwned=2>"
    device = httpx.post(f"{server.base}/api/v1/devices", json={"serial": serial, "kind": "static", "owner": "apbd", "daily_capacity": 50}, headers=headers)
    assert device.status_code == 201, device.text
    moved = httpx.post(
        f"{server.base}/api/v1/devices/{device.json()['id']}/allocations", json={"service_point_id": point.json()["id"], "from": today()}, headers=headers
    )
    assert moved.status_code == 201, moved.text
    operator = httpx.post(f"{server.base}/api/v1/operators", json={"name": "<script>window.__pwned = 3</script>", "staff_number": "TS-XSS-1"}, headers=headers)
    assert operator.status_code == 201, operator.text

    open_view(page, "e2e.admin")
    row = page.locator(f"[data-table=devices] tr[data-device='{device.json()['id']}']")
    assert row.locator("[data-serial]").inner_text() == serial
    assert row.locator("[data-place-name]").inner_text() == name
    page.locator("[data-operators-list] summary").click()
    assert page.locator(f"[data-table=operators] tr[data-operator='{operator.json()['id']}'] th").inner_text().startswith("<script>")
    assert name in page.locator("[data-form=move] [name=place]").inner_text()
    assert page.locator("main script, main img, main b").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_a_move_to_a_place_without_operator_warns_and_the_capacity_follows(page, server) -> None:
    """Issue 19: the capacity table stayed stale after a move, and nothing said the device would have no operator."""
    headers = auth(server, "e2e.admin")
    created = httpx.post(
        f"{server.base}/api/v1/service-points",
        headers=headers,
        json={"kind": "kelurahan_office", "name": "Kantor Kelurahan Tanpa Petugas", "area": "36.74.07.1001", "opening_hours": {"mon": [["08:00", "15:00"]]}},
    )
    assert created.status_code == 201, created.text
    point = created.json()
    device = next(d for d in every(server, "/devices", headers, area="36.74.01") if d["status"] == "active" and d["serial"] != "KMD-3674-01")
    page.set_viewport_size(DESKTOP)
    open_view(page, "e2e.admin")
    setu = page.locator("[data-table=capacity] tr[data-kecamatan='36.74.07']")
    before = server.get(f"/campaigns/{server.campaign_id}/capacity", headers=headers).json()
    form = page.locator("[data-form=move]")
    form.locator("[name=device]").select_option(str(device["id"]))
    form.locator("[name=place]").select_option(f"sp:{point['id']}")
    warning = form.locator("[data-warning=no-operator]")
    warning.wait_for()
    assert "Kantor Kelurahan Tanpa Petugas" in warning.inner_text()
    form.locator("[type=submit]").click()
    form.locator("[data-form-status] [role=status]").wait_for()
    assert server.get(f"/devices/{device['id']}", headers=headers).json()["placed"]["service_point_id"] == point["id"]
    after = server.get(f"/campaigns/{server.campaign_id}/capacity", headers=headers).json()
    row_before = next(k for k in before["kecamatan"] if k["code"] == "36.74.07")
    row_after = next(k for k in after["kecamatan"] if k["code"] == "36.74.07")
    assert row_after["active_devices"] == row_before["active_devices"] + 1
    # Without a reload, the capacity table shows the new figures.
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector)?.innerText.includes(text)",
        arg=["[data-table=capacity] tr[data-kecamatan='36.74.07']", f"{id_number(row_after['active_devices'])} / {id_number(row_after['operators'])}"],
    )
    assert form.locator("[data-warning=no-operator]").is_visible()
    assert serious_axe_violations(page) == []
    shoot(page, "staff-devices-move-warning-desktop")
    assert setu.count() == 1

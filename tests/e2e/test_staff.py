"""Staff in a real browser: sign-in, what each role is shown, and the targets and snapshots view."""

from datetime import date, timedelta

import httpx

from tests.e2e.conftest import PASSWORD, nav_to, serious_axe_violations, shoot, tables_scrolling_sideways


def sign_in(page, username: str, *, start: str = "/#/staff/signin", password: str = PASSWORD) -> None:
    page.goto(start)
    page.fill("#signin-username", username)
    page.fill("#signin-password", password)
    page.click("[data-form=signin] [type=submit]")


def test_wrong_password_is_a_message_next_to_the_form(page, server) -> None:
    page.goto("/#/staff/signin")
    page.click("[data-form=signin] [type=submit]")
    assert page.inner_text("[data-error-for=username]") == "Wajib diisi."
    assert page.get_attribute("#signin-username", "aria-invalid") == "true"
    page.fill("#signin-username", "e2e.viewer")
    page.fill("#signin-password", "not-the-password")
    page.click("[data-form=signin] [type=submit]")
    alert = page.locator("[data-form-status] [role=alert]")
    alert.wait_for()
    assert "Nama pengguna atau kata sandi salah" in alert.inner_text()
    assert page.input_value("#signin-password") == ""


def test_supervisor_uploads_targets_csv_and_sees_each_rejected_row(page, server) -> None:
    sign_in(page, "e2e.supervisor", start="/#/staff/targets")
    # Asked for a staff page while signed out: signed in, then taken there.
    page.wait_for_selector("h1:text-is('Target dan angka laporan')")
    assert "Serpong" in page.inner_text(".lede")
    page.wait_for_selector("[data-table=targets] tr[data-area='36.74.01']")  # the table loads after the heading
    assert page.locator("[data-table=targets] tr[data-area='36.74.01']").count() == 1
    form = page.locator("[data-form=targets]")
    form.locator("textarea").fill("area,target\n36.74.01.1001,9000\n36.74.01.9999,5\n36.74.01.1002,lots\n")
    form.locator("[type=submit]").click()
    rows = form.locator("[data-form-status] tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1 and rows.first.locator("td").first.inner_text() == "4"  # the CSV parser stops at the bad number
    csv = "area,target\n36.74.01.1001,9000\n36.74.01.9999,5\n"
    form.locator("textarea").fill(csv)
    form.locator("[type=submit]").click()
    page.wait_for_selector("[data-form=targets] [data-form-status] tbody tr >> text=Tidak ada wilayah dengan kode 36.74.01.9999.")
    cells = form.locator("[data-form-status] tbody tr").first.locator("td").all_inner_texts()
    answer = httpx.put(
        f"{server.base}/api/v1/campaigns/{server.campaign_id}/targets",
        content=csv,
        headers={"Content-Type": "text/csv", "Authorization": f"Bearer {server.token('e2e.supervisor')}"},
    )
    assert answer.status_code == 422
    rejected = answer.json()["errors"]
    # The SPA words the code itself; the API words it the same way (Indonesian when not asked otherwise).
    assert len(rejected) == 1 and rejected[0]["code"] == "area.unknown" and cells == [str(rejected[0]["row"]), "area", rejected[0]["message"]]
    shoot(page, "staff-targets-rejected-phone")
    # Nothing was saved; a target outside the supervisor's area is refused the same way.
    assert page.locator("[data-table=targets] tr[data-area='36.74.01.1001']").count() == 0
    form.locator("textarea").fill("area,target\n36.74.02,9000\n")
    form.locator("[type=submit]").click()
    page.wait_for_selector("[data-form=targets] [data-form-status] >> text=Anda tidak berwenang")
    # A file works like the pasted text.
    form.locator("textarea").fill("")
    form.locator("input[type=file]").set_input_files(files=[{"name": "targets.csv", "mimeType": "text/csv", "buffer": b"area,target\n36.74.01.1001,9000\n"}])
    form.locator("[type=submit]").click()
    page.wait_for_selector("[data-form=targets] [role=status]")
    page.wait_for_selector("[data-table=targets] tr[data-area='36.74.01.1001'] >> text=9.000")


def test_supervisor_records_a_snapshot_with_errors_next_to_the_fields(page, server) -> None:
    sign_in(page, "e2e.supervisor", start="/#/staff/targets")
    form = page.locator("[data-form=snapshot]")
    form.wait_for()
    form.locator("select[name=area]").select_option("36.74.01.1002")
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    form.locator("input[name=as_of]").fill(tomorrow)
    form.locator("input[name=cumulative]").fill("banyak")
    form.locator("[type=submit]").click()
    assert form.locator("[data-error-for=cumulative]").inner_text() == "Harus berupa bilangan bulat, misalnya 56.458."
    form.locator("input[name=cumulative]").fill("1.250")
    form.locator("[type=submit]").click()
    error = form.locator("[data-error-for=as_of]")
    error.wait_for()
    assert "masa depan" in error.inner_text()  # the words for snapshot.future, in Indonesian
    assert form.locator("input[name=as_of]").get_attribute("aria-invalid") == "true"
    assert form.locator("input[name=cumulative]").get_attribute("aria-invalid") is None
    form.locator("input[name=as_of]").fill((date.today() - timedelta(days=1)).isoformat())
    form.locator("[type=submit]").click()
    form.locator("[role=status]").wait_for()
    assert "1.250" in form.locator("[role=status]").inner_text()
    page.wait_for_selector("[data-table=snapshots] >> text=1.250")
    assert serious_axe_violations(page) == []
    shoot(page, "staff-targets-phone")


def test_each_role_sees_only_what_it_may_use(page, server) -> None:
    sign_in(page, "e2e.viewer")
    page.wait_for_selector("h1:text-is('Halo, e2e.viewer')")
    assert page.locator("a[href='#/staff/targets']").count() == 0
    # The staff home, the public links and the viewer's tools in their groups: no tool a viewer may not use.
    groups = page.locator(".site-nav [data-group]").evaluate_all("els => els.map(e => e.dataset.group)")
    assert page.inner_text(".site-nav a >> nth=0") == "Staf" and groups == ["public", "planning"]
    assert page.locator(".site-nav a[href='#/staff/targets']").count() == 0
    page.goto("/#/staff/targets")
    page.wait_for_selector("h1:text-is('Tidak tersedia untuk peran Anda')")
    page.click("[data-action=signout]")
    page.wait_for_selector("[data-figure=recorded]")
    assert page.locator(".site-footer a[href='#/staff/signin']").count() == 1
    assert page.evaluate("sessionStorage.getItem('rekam.token')") is None
    # The admin is offered the targets tool, for the whole campaign.
    sign_in(page, "e2e.admin")
    page.wait_for_selector("h1:text-is('Halo, e2e.admin')")
    assert page.locator(".cards a[href='#/staff/targets']").count() == 1
    nav_to(page, "#/staff/targets")
    page.wait_for_selector("h1:text-is('Target dan angka laporan')")
    assert page.inner_text(".lede").count("Kota Tangerang Selatan") == 1  # the campaign's name says the city already
    # The kecamatan's targets share one basis: said once under the table, not on each of its rows.
    page.wait_for_selector("[data-table=targets] tr[data-area='36.74.01']")
    assert "Sensus Penduduk" in page.inner_text("[data-basis]")
    assert "Sensus Penduduk" not in page.inner_text("[data-table=targets]")


def test_no_staff_view_scrolls_sideways_on_a_phone(page, server) -> None:
    # Every tool the admin's menu offers, at 360 px: a form or a table wider than the phone hides
    # its end (the webhook events' descriptions once pushed the form to 388 px; the reconciliation's
    # difference was off screen).
    sign_in(page, "e2e.admin")
    page.wait_for_selector("h1:text-is('Halo, e2e.admin')")
    tools = page.locator(".site-nav a[href^='#/staff/']").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "#/staff/webhooks" in tools and len(tools) >= 8
    wide = {}
    for href in tools:
        page.goto(f"/{href}")
        page.wait_for_selector("main h1")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            wide[href] = width
        # Nor a table inside its box, but the tallies' entry grid (a column per day, scrolled on purpose).
        tables = tables_scrolling_sideways(page)
        if set(tables) - {"grid"}:
            wide[href] = tables
    assert wide == {}


def test_an_expired_session_leads_back_to_sign_in(page, server) -> None:
    sign_in(page, "e2e.viewer")
    page.wait_for_selector("h1:text-is('Halo, e2e.viewer')")
    page.evaluate("sessionStorage.setItem('rekam.token', 'rkt_not-a-real-token')")
    page.goto("/#/staff")
    page.reload()
    page.wait_for_selector("h1:text-is('Masuk staf')")


def test_signing_in_returns_to_the_page_asked_for_with_its_filters(page, server) -> None:
    page.goto("/#/staff/tallies?level=kelurahan")
    page.wait_for_selector("h1:text-is('Masuk staf')")
    sign_in(page, "e2e.admin", start=page.url)
    page.wait_for_selector("#grid-level")
    assert page.url.endswith("#/staff/tallies?level=kelurahan")
    assert page.input_value("#grid-level") == "kelurahan"
    # Anything but a staff path (with a plain query) is ignored: no way out of the app from `next`.
    page.click("[data-action=signout]")
    page.wait_for_selector(".site-footer a[href='#/staff/signin']")
    sign_in(page, "e2e.admin", start="/#/staff/signin?next=" + "https%3A%2F%2Fexample.org%2F")
    page.wait_for_selector("h1:text-is('Halo, e2e.admin')")
    assert page.url.endswith("#/staff")


def test_an_admin_changes_what_residents_bring_and_the_caps_and_residents_read_it(page, server) -> None:
    headers = {"Authorization": f"Bearer {server.token('e2e.admin')}"}
    url = f"{server.base}/api/v1/campaigns/{server.campaign_id}"
    before = httpx.get(url).json()
    try:
        sign_in(page, "e2e.admin", start="/#/staff/targets")
        form = page.locator("[data-form=campaign-settings]")
        form.wait_for()
        assert form.locator("textarea[name=what_to_bring]").input_value() == before["what_to_bring"]
        form.locator("textarea[name=what_to_bring]").fill("")
        form.locator("[type=submit]").click()
        assert form.locator("[data-error-for=what_to_bring]").inner_text() == "Wajib diisi."
        form.locator("textarea[name=what_to_bring]").fill("Bawa Kartu Keluarga (KK) asli dan surat pengantar RT")
        form.locator("input[name=cap_remote_numbers]").uncheck()
        form.locator("[type=submit]").click()
        page.wait_for_selector("[data-form=campaign-settings] [data-form-status] >> text=Pengaturan kampanye disimpan.")
        shoot(page, "staff-campaign-settings-phone")
        after = httpx.get(url).json()
        assert after["what_to_bring"] == "Bawa Kartu Keluarga (KK) asli dan surat pengantar RT"
        assert after["cap_remote_numbers"] is False and after["cap_bookings_per_nik"] == before["cap_bookings_per_nik"]
        audit = httpx.get(f"{server.base}/api/v1/audit", params={"entity": "campaign", "limit": 5}, headers=headers).json()["items"]
        assert any(entry["actor_name"] and entry["entity_id"] == str(server.campaign_id) for entry in audit)
        # A resident's "where" reads the new text (the app loaded the campaign before the change).
        nav_to(page, "#/where")
        page.wait_for_selector("[data-bring]")
        assert page.locator("[data-bring]").first.inner_text() == "Yang dibawa: Bawa Kartu Keluarga (KK) asli dan surat pengantar RT"
    finally:
        restore = {key: before[key] for key in ("what_to_bring", "cap_remote_numbers", "cap_bookings_per_nik")}
        assert httpx.patch(url, json=restore, headers=headers).status_code == 200


def test_a_supervisor_of_a_kecamatan_is_not_offered_the_campaign_settings(page, server) -> None:
    sign_in(page, "e2e.supervisor", start="/#/staff/targets")
    page.wait_for_selector("[data-table=targets]")
    assert page.locator("[data-form=campaign-settings]").count() == 0

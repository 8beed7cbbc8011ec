"""The public progress view in a real browser, against the demo campaign."""

import gzip
import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import httpx

from api.rounding import percent
from tests.e2e.conftest import DESKTOP, PHONE, en_number, id_number, serious_axe_violations, shoot, tables_scrolling_sideways

CITY = "36.74"
SERPONG = "36.74.01"


def id_percent(value: float) -> str:
    """The API's percentage as the page must show it: its digits as given, never rounded again."""
    return f"{value:.1f}".replace(".", ",") + "%"


def shown_percent(recorded: int, target: int) -> float:
    """The rule, written independently of api/rounding.py: half up on the exact value, one decimal."""
    return float((Decimal(recorded * 100) / Decimal(target)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def test_progress_shows_the_demo_figures_as_the_api_gives_them(page, server) -> None:
    city = server.progress(CITY)
    # The article's 554,702 as of its snapshot, plus the demo's daily tallies since.
    assert city["target"] == 760_097 and city["recorded"] >= 554_702
    page.goto("/")
    page.wait_for_selector("[data-figure=recorded]")
    assert page.text_content("h1") == "Kota Tangerang Selatan"
    assert page.text_content("[data-figure=recorded]") == id_number(city["recorded"])
    assert page.text_content("[data-figure=target]") == "760.097"
    assert page.text_content("[data-figure=remaining]") == id_number(city["remaining"])
    assert city["percent"] == shown_percent(city["recorded"], city["target"])
    assert page.text_content("[data-figure=percent]") == id_percent(city["percent"])
    assert page.get_attribute("progress", "max") == "760097" and page.get_attribute("progress", "value") == str(city["recorded"])
    # Every kecamatan's figures, formatted id-ID, furthest behind first.
    rows = page.locator("[data-table=children] tbody tr")
    expected = sorted(city["children"], key=lambda c: (c["percent"], c["name"]))
    assert rows.count() == 7
    assert [rows.nth(i).get_attribute("data-area") for i in range(7)] == [c["code"] for c in expected]
    for child in city["children"]:
        row = page.locator(f"tr[data-area='{child['code']}']")
        assert row.locator("th").inner_text() == child["name"]
        assert row.locator("[data-col=recorded]").inner_text() == id_number(child["recorded"])
        assert row.locator("[data-col=target]").inner_text() == id_number(child["target"])
    # The city's reported 554,702 against the kecamatan's 553,486, shown as reported.
    note = page.locator("[data-discrepancy='36.74']")
    assert note.is_visible()
    assert "554.702" in note.inner_text() and "553.486" in note.inner_text() and "1.216" in note.inner_text()
    # The bar chart lists the same order.
    assert page.locator(".bar-label").all_inner_texts() == [c["name"] for c in expected]


def test_drill_down_from_the_city_to_a_kecamatan_and_back(page, server) -> None:
    serpong = server.progress(SERPONG)
    page.goto("/#/progress")
    page.click("tr[data-area='36.74.01'] a")
    page.wait_for_url("**/#/progress/36.74.01")
    page.wait_for_selector("h1:text-is('Serpong')")
    assert page.text_content("[data-figure=recorded]") == id_number(serpong["recorded"])
    assert page.locator("#children-title").inner_text() == "Per kelurahan"
    codes = page.locator("[data-table=children] tbody tr").evaluate_all("rows => rows.map(r => r.dataset.area)")
    assert sorted(codes) == sorted(c["code"] for c in serpong["children"]) and len(codes) == 9
    # The kecamatan's figure is not broken down by kelurahan: said plainly, not shown as zeros only.
    # Unless a disagreement between levels is shown for it instead.
    disagreements = [d for d in server.get(f"/campaigns/{server.campaign_id}/discrepancies").json()["items"] if d["area"] == SERPONG]
    if disagreements:
        assert page.locator(f"[data-discrepancy='{SERPONG}']").first.is_visible()
    else:
        unattributed = serpong["recorded"] - sum(c["recorded"] for c in serpong["children"])
        assert id_number(unattributed) in page.locator("[data-unattributed]").inner_text()
    page.click(".breadcrumb a:text-is('Kota Tangerang Selatan')")
    page.wait_for_selector("h1:text-is('Kota Tangerang Selatan')")
    # Going back through history works too.
    page.go_back()
    page.wait_for_selector("h1:text-is('Serpong')")


def test_the_language_switch_changes_text_and_number_format(page, server) -> None:
    city = server.progress(CITY)
    page.goto("/")
    page.wait_for_selector("[data-figure=recorded]")
    assert page.evaluate("document.documentElement.lang") == "id"
    assert page.inner_text("#children-title") == "Per kecamatan"
    page.click("[data-action=language]")
    page.wait_for_selector("#children-title:text-is('By kecamatan (district)')")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.text_content("[data-figure=recorded]") == en_number(city["recorded"])
    assert page.text_content("[data-figure=percent]") == id_percent(city["percent"]).replace(",", ".")
    pondok_aren = next(c for c in city["children"] if c["code"] == "36.74.03")
    assert page.locator("tr[data-area='36.74.03'] [data-col=recorded]").inner_text() == en_number(pondok_aren["recorded"])
    assert page.inner_text(".site-nav a >> nth=0") == "Progress"
    # Focus stays on the switch, now offering the way back; the choice survives a reload.
    assert page.evaluate("document.activeElement.dataset.action") == "language"
    page.reload()
    page.wait_for_selector(f"[data-figure=recorded]:text-is('{en_number(city['recorded'])}')")
    page.click("[data-action=language]")
    page.wait_for_selector(f"[data-figure=recorded]:text-is('{id_number(city['recorded'])}')")
    assert page.inner_text(".site-nav a >> nth=0") == "Kemajuan"


# (recorded, target, as the page shows it in Indonesian): ties go up, 87.0499… stays down.
BOUNDARIES = [(8_705, 10_000, "87,1%"), (870_499, 1_000_000, "87,0%"), (0, 500, "0,0%"), (500, 500, "100,0%"), (625, 500, "125,0%"), (1, 2_000, "0,1%")]


def test_percentages_on_rounding_boundaries_show_the_apis_digits(page, server) -> None:
    """Whatever today's demo figures are: the server's rule gives the value, the page shows its digits."""

    def with_boundaries(route) -> None:
        body = route.fetch().json()
        for child, (recorded, target, _shown) in zip(body["children"], BOUNDARIES, strict=False):
            child.update(recorded=recorded, target=target, remaining=max(target - recorded, 0), percent=percent(recorded, target))
        route.fulfill(json=body)

    page.route("**/api/v1/campaigns/*/progress?*", with_boundaries)
    page.goto("/")
    page.wait_for_selector("[data-table=children]")
    codes = [c["code"] for c in server.progress(CITY)["children"]][: len(BOUNDARIES)]
    for code, (_recorded, _target, shown) in zip(codes, BOUNDARIES, strict=True):
        assert page.locator(f"tr[data-area='{code}'] [data-col=percent]").inner_text() == shown
    # The formatter itself, in both languages, shows the value as given.
    assert page.evaluate("import('/js/i18n.js').then(({ fmt }) => [87.1, 87, 0, 100, 140.5].map(fmt.percent))") == [
        "87,1%",
        "87,0%",
        "0,0%",
        "100,0%",
        "140,5%",
    ]


def test_user_text_is_escaped(page, server) -> None:
    """Names staff type (an RW's; official names come only from the official list) reach the page as text."""
    admin = {"Authorization": f"Bearer {server.token('e2e.admin')}"}
    kelurahan, code = "36.74.01.1001", "36.74.01.1001.099"
    hostile = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">RW 099'
    created = httpx.post(f"{server.base}/api/v1/areas", json={"code": code, "name": hostile}, headers=admin)
    assert created.status_code in (201, 409), created.text  # 409: a rerun against the same server
    page.goto(f"/#/progress/{kelurahan}")
    cell = page.locator(f"tr[data-area='{code}'] th")
    assert cell.inner_text() == hostile
    assert page.evaluate("window.__pwned") is None
    assert page.locator("[data-table=children] img, [data-table=children] script").count() == 0
    # An official name cannot be changed through the API at all (docs/security.md, CSV injection).
    assert httpx.patch(f"{server.base}/api/v1/areas/{kelurahan}", json={"name": hostile}, headers=admin).status_code == 422


def test_api_failures_are_shown_as_human_messages(page, server) -> None:
    city = server.progress(CITY)
    page.route("**/api/v1/campaigns/*/progress?*", lambda route: route.abort("internetdisconnected"))
    page.goto("/")
    alert = page.locator("[role=alert]")
    alert.wait_for()
    assert "Server tidak dapat dihubungi" in alert.inner_text()
    page.unroute("**/api/v1/campaigns/*/progress?*")
    problem = {"type": "urn:rekam:problem:internal", "title": "Internal Server Error", "status": 500, "detail": "An unexpected error occurred."}
    page.route(
        "**/api/v1/campaigns/*/progress?*",
        lambda route: route.fulfill(status=500, content_type="application/problem+json", body=json.dumps(problem)),
    )
    page.click("[data-action=retry]")
    page.wait_for_selector("[role=alert]:has-text('Terjadi kesalahan di server')")
    text = page.inner_text("main")
    assert "{" not in text and "urn:rekam" not in text and "Internal Server Error" not in text
    # A proxy's HTML error page is no better than JSON: the same plain message.
    page.unroute("**/api/v1/campaigns/*/progress?*")
    page.route("**/api/v1/campaigns/*/progress?*", lambda route: route.fulfill(status=502, content_type="text/html", body="<html>Bad gateway</html>"))
    page.click("[data-action=retry]")
    page.wait_for_selector("[role=alert]:has-text('Terjadi kesalahan di server')")
    assert "Bad gateway" not in page.inner_text("main")
    page.unroute("**/api/v1/campaigns/*/progress?*")
    page.click("[data-action=retry]")
    page.wait_for_selector(f"[data-figure=recorded]:text-is('{id_number(city['recorded'])}')")
    # An unknown area is a message, not a blank page.
    page.goto("/#/progress/36.74.99")
    page.wait_for_selector("[role=alert]")
    assert page.inner_text("h1") == "Terjadi masalah"


def test_forecast_and_daily_chart_appear_when_the_api_offers_them(page, server) -> None:
    """The tallies API adds forecast fields and a daily series; the view picks them up when present."""
    city = server.progress(CITY)
    deadline = server.get(f"/campaigns/{server.campaign_id}").json()["deadline"]
    forecast = {"required_per_day": 6626, "rate_7d": 4210.4, "projected_completion_date": "2026-12-20", "on_track": False, "recorded_last_7_days": 29473}

    def with_forecast(route) -> None:
        body = route.fetch().json()
        body.update(forecast)
        for child in body["children"]:
            child.update(forecast)
        route.fulfill(json=body)

    start = date.fromisoformat(deadline) - timedelta(days=40)
    series = [{"date": (start + timedelta(days=i)).isoformat(), "recorded": 1000, "cumulative": city["recorded"] - 9000 + 1000 * i} for i in range(10)]
    page.route("**/api/v1/campaigns/*/progress?*", with_forecast)
    page.route("**/api/v1/campaigns/*/progress/daily*", lambda route: route.fulfill(json={"items": series}))
    page.goto("/")
    page.wait_for_selector("[data-chart=daily] svg")
    assert page.text_content("[data-figure=required]") == "6.626"
    assert page.text_content("[data-figure=rate]") == "4.210,4"
    assert page.text_content("[data-figure=projected]") == "Minggu, 20 Desember 2026"
    assert page.text_content("[data-figure=on-track]") == "Tertinggal dari jadwal"
    assert page.locator("[data-col=required]").count() == 7
    assert page.locator(".series-recorded").get_attribute("points").count(",") == 10
    assert page.locator(".series-target").count() == 1 and page.locator(".series-pace").count() == 1
    shoot(page, "progress-forecast-phone")


def test_without_forecast_fields_nothing_of_them_shows(page, server) -> None:
    page.goto("/")
    page.wait_for_selector("[data-figure=recorded]")
    if "required_per_day" not in server.progress(CITY):  # until the tallies API lands
        assert page.locator("[data-figure=required], [data-figure=projected], [data-figure=on-track], [data-col=required]").count() == 0


PUBLIC_VIEWS = [
    ("progress-city", "/#/progress", "[data-figure=recorded]"),
    ("progress-serpong", "/#/progress/36.74.01", "[data-table=children]"),
    ("signin", "/#/staff/signin", "form"),
]


def test_public_views_screenshots_fit_and_pass_axe(page, server) -> None:
    for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        for lang in ("id", "en"):
            for name, url, ready in PUBLIC_VIEWS:
                page.goto(url)
                page.evaluate(f"localStorage.setItem('rekam.lang', '{lang}')")
                page.reload()
                page.wait_for_selector(ready)
                shoot(page, f"{name}-{lang}-{size_name}")
                # Usable at 360 px: nothing makes the page scroll sideways.
                assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], (name, size_name)
                # Nor does any of its tables: a resident does not scroll a table to find its last column (the %).
                assert tables_scrolling_sideways(page) == [], (name, lang, size_name)
                violations = serious_axe_violations(page)
                assert violations == [], (name, lang, size_name, violations)


def test_first_view_is_under_200_kb_compressed(page, server) -> None:
    sizes: dict[str, int] = {}
    page.on("response", lambda response: sizes.__setitem__(response.url, len(gzip.compress(response.body(), 6))) if response.ok else None)
    page.goto("/")
    page.wait_for_selector("[data-figure=recorded]")
    page.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    assert any(url.endswith("/js/main.js") for url in sizes) and any(url.endswith("/css/app.css") for url in sizes)
    assert total < 200_000, sizes


def test_keyboard_reaches_everything_and_the_skip_link_works(page, server) -> None:
    city = server.progress(CITY)
    page.goto("/")
    page.wait_for_selector("[data-figure=recorded]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.shell") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url.endswith("#/progress")
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.getAttribute('href') || document.activeElement.dataset.action || document.activeElement.tagName"))
    assert {"#/progress/36.74.01", "#/progress/36.74.07", "#/staff/signin"} <= reached
    page.focus("[data-action=language]")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"[data-figure=recorded]:text-is('{en_number(city['recorded'])}')")


def test_the_accessibility_check_can_fail(page, server) -> None:
    """The axe run is real: an unlabelled field and low-contrast text are caught."""
    page.goto("/")
    page.wait_for_selector("[data-figure=recorded]")
    page.evaluate("""() => {
        const input = document.createElement('input');
        document.querySelector('main').append(input);
    }""")
    assert any(v["id"] == "label" for v in serious_axe_violations(page))


def test_revalidated_answers_reach_the_views(page, server) -> None:
    """Progress is cached for 15 s and revalidated with its ETag: the server's 304 must reach the
    app as the browser's cached 200, for the public and for signed-in staff (who always revalidate)."""
    city = server.progress(CITY)
    wire: list[tuple[int, str | None]] = []  # (status the page saw, If-None-Match sent)

    def record(response) -> None:
        if "/progress?" in response.url:
            wire.append((response.status, response.request.all_headers().get("if-none-match")))

    page.on("response", record)
    page.goto("/")
    page.wait_for_selector(f"[data-figure=recorded]:text-is('{id_number(city['recorded'])}')")
    token = server.token("e2e.viewer")
    answers = page.evaluate(
        """async ([campaignId, token]) => {
            const { api } = await import("/js/api.js");
            const { session } = await import("/js/store.js");
            const params = { area: "36.74", depth: 1 };
            const anonymous = await api.get(`/campaigns/${campaignId}/progress`, { params });
            session.set({ token });
            const staff = [];
            for (let i = 0; i < 2; i++) staff.push(await api.get(`/campaigns/${campaignId}/progress`, { params }));
            return [anonymous, ...staff].map((body) => body.recorded);
        }""",
        [server.campaign_id, token],
    )
    assert answers == [city["recorded"]] * 3
    # The staff reads went to the server with the ETag it gives, which it answers with 304 (tests/
    # campaigns/test_caching.py); the page sees the browser's cached 200.
    etag = server.get(f"/campaigns/{server.campaign_id}/progress", params={"area": CITY, "depth": 1}).headers["etag"]
    # Response events reach Python after the page's promise has settled: give them a moment.
    for _ in range(50):
        if (200, etag) in wire:
            break
        page.wait_for_timeout(100)
    assert (200, etag) in wire, wire

"""The shell (header, navigation, footer) is in index.html at its final size (issue #23): nothing
on screen moves when the modules load and redraw it, or when a view replaces "Memuat…".

Lighthouse's figures are a benchmark (bench/bench_lighthouse.py); what is checked here is the
behaviour behind them, at phone size: the layout shifts a resident's browser records while a
public page loads, and the shell drawn without any module against the shell the modules draw.
"""

import pytest

# The demo's first point (Kantor Kecamatan Serpong): its board (a TV's, drawn over the shell), the
# page to take a number and the one to book.
PUBLIC = ["/#/progress", "/#/where", "/#/board", "/#/board/1", "/#/ticket/1", "/#/appointment/1", "/#/visit", "/#/report"]

# Every layout shift from the first paint on, summed as Chromium reports them (the browser's own
# Layout Instability API, the figure behind Lighthouse's CLS).
RECORD_SHIFTS = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.__shifts.push({ value: entry.value, nodes: entry.sources.map((s) => s.node?.outerHTML?.slice(0, 60)) });
  }
}).observe({ type: "layout-shift", buffered: true });
"""

BOXES = """() => Object.fromEntries(['.site-header', 'main', '.site-footer', '.nav-toggle', '[data-action=language]'].map(
  (selector) => { const box = document.querySelector(selector)?.getBoundingClientRect(); return [selector, box && [box.top, box.height, box.width]]; }))"""


@pytest.mark.parametrize("path", PUBLIC)
def test_a_public_page_loads_without_moving_at_phone_size(page, path: str) -> None:
    page.add_init_script(RECORD_SHIFTS)
    page.goto(path)
    page.wait_for_function("() => document.querySelector('main h1') && !document.querySelector('main .loading')")
    page.wait_for_timeout(300)  # the view's own second paint (lists filled after its first read), if any
    shifts = page.evaluate("window.__shifts")
    assert sum(s["value"] for s in shifts) < 0.05, shifts  # issue #23's goal for Lighthouse's CLS
    # The page's scrollbar room is kept (nothing centred moves sideways when a view grows past the screen).
    assert page.evaluate("getComputedStyle(document.documentElement).scrollbarGutter") == "stable"


def test_the_shell_has_its_final_size_before_any_module_runs(page) -> None:
    page.route("**/js/**", lambda route: route.abort())
    page.goto("/#/where")
    page.wait_for_selector(".site-footer")
    static = page.evaluate(BOXES)
    texts = page.evaluate("() => [...document.querySelectorAll('.nav-list a')].map((a) => a.textContent)")
    assert texts == ["Kemajuan", "Tempat & jadwal", "Antrean", "Kunjungan rumah", "Laporkan pungutan"]
    # Below the fold until the view is drawn: "Memuat…" does not leave the footer on screen.
    assert static[".site-footer"][0] >= page.viewport_size["height"]
    page.unroute("**/js/**")
    page.reload()
    page.wait_for_function("() => document.querySelector('main h1') && !document.querySelector('main .loading')")
    drawn = page.evaluate(BOXES)
    for selector in (".site-header", ".nav-toggle", "[data-action=language]"):
        assert drawn[selector] == static[selector], selector
    assert drawn["main"][0] == static["main"][0]
    # The modules' shell works as the static one looked: the menu opens.
    page.click("[data-action=nav-menu]")
    assert page.locator(".nav-list a[href='#/where']").get_attribute("aria-current") == "page"

"""index.html holds the shell as main.js draws it for a resident in Bahasa Indonesia (issue #23):
the header, the public links, the language switch and the footer are on screen at their final
size before any module loads, so the modules' redraw moves nothing. That copy must not go stale:
its texts are js/i18n/id.js's and its links routes.js's public ones, in order.
"""

import html
import re
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[1] / "frontend"


def catalogue() -> dict[str, str]:
    source = (FRONTEND / "js" / "i18n" / "id.js").read_text(encoding="utf-8")
    return dict(re.findall(r'^\s*"([^"]+)":\s*"((?:[^"\\]|\\.)*)",?\s*$', source, flags=re.MULTILINE))


def public_links() -> list[tuple[str, str]]:
    """(path, label key) of routes.js's routes with a `link`, in the table's order."""
    source = (FRONTEND / "js" / "routes.js").read_text(encoding="utf-8")
    table = source[source.index("export const ROUTES") :]
    entries = re.split(r'(?=\bpath: ")', table)[1:]
    links = []
    for entry in entries:
        link = re.search(r'\blink: "([^"]+)"', entry)
        if link:
            links.append((re.match(r'path: "([^"]+)"', entry).group(1), link.group(1)))
    return links


def index() -> str:
    return (FRONTEND / "index.html").read_text(encoding="utf-8")


def text_of(pattern: str) -> str:
    found = re.search(pattern, index(), flags=re.DOTALL)
    assert found, pattern
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_the_static_links_are_the_public_routes_with_their_indonesian_labels() -> None:
    texts = catalogue()
    shown = [(path, html.unescape(label)) for path, label in re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', index())]
    expected = [(path, texts[key]) for path, key in public_links()]
    assert len(expected) >= 5
    assert shown == expected


def test_the_static_texts_are_the_catalogue_s() -> None:
    texts = catalogue()
    assert text_of(r'<a class="skip-link"[^>]*>(.*?)</a>') == texts["shell.skip"]
    assert re.search(r'data-shell="nav" aria-label="([^"]+)"', index()).group(1) == texts["shell.menu"]
    assert text_of(r'<button[^>]*data-action="nav-menu"[^>]*>(.*?)</button>') == texts["shell.menuButton"]
    assert text_of(r"<footer[^>]*>\s*<p>(.*?)</p>") == texts["shell.footer"]
    assert text_of(r'<footer.*?<a href="#/staff/signin">(.*?)</a>') == texts["nav.signin"]
    assert text_of(r'<p class="loading"[^>]*>(.*?)</p>') == texts["common.loading"]

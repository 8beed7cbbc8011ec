"""The service worker's precache list (frontend/sw.js FILES) is every file the app is made of,
so that a new view, style or vendored library cannot be forgotten and then missing offline; and
the manifest names the icons that exist."""

import json
import re
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[1] / "frontend"
SW = FRONTEND / "sw.js"
SHIPPED = ("js", "css", "vendor", "icons")
SHELL = {"./", "index.html", "manifest.webmanifest"}


def listed() -> list[str]:
    block = re.search(r"const FILES = \[(.*?)\];", SW.read_text(encoding="utf-8"), re.DOTALL)
    assert block, "sw.js has a `const FILES = [...]` list"
    return re.findall(r'"([^"]+)"', block.group(1))


def test_the_precache_list_is_every_file_of_the_app() -> None:
    files = listed()
    assert len(files) == len(set(files)), "a file is listed twice"
    on_disk = {
        path.relative_to(FRONTEND).as_posix() for folder in SHIPPED if (FRONTEND / folder).is_dir() for path in (FRONTEND / folder).rglob("*") if path.is_file()
    }
    assert set(files) - SHELL == on_disk
    assert set(files) >= SHELL


def test_the_release_names_the_cache() -> None:
    text = SW.read_text(encoding="utf-8")
    assert re.search(r'^const RELEASE = "[^"]+";$', text, re.MULTILINE)
    assert "const SHELL = `rekam-shell-${RELEASE}`;" in text


def test_the_manifest_is_installable() -> None:
    manifest = json.loads((FRONTEND / "manifest.webmanifest").read_text(encoding="utf-8"))
    assert manifest["short_name"] == "Rekam" and manifest["lang"] == "id" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        data = (FRONTEND / icon["src"]).read_bytes()
        assert data.startswith(b"\x89PNG")
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]

"""The web app's modules (frontend/js) stay a tree one can read: no import cycle, no huge file.

Static `import ... from "..."` and dynamic `import("...")` both count as edges, so a view that
imports what loads it (e.g. the router or the route table) fails here. The vendored libraries
(frontend/vendor) are not ours; the i18n catalogues may be as long as the texts are.
"""

import re
from pathlib import Path

JS = Path(__file__).resolve().parents[1] / "frontend" / "js"
MAX_LINES = 400
IMPORT = re.compile(
    r"""(?:^|[\s;])(?:import|export)\s[^'"`;]*?\sfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']""", re.MULTILINE
)
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


def modules() -> dict[Path, list[Path]]:
    graph = {}
    for file in sorted(JS.rglob("*.js")):
        if "vendor" in file.relative_to(JS).parts:
            continue
        # Comments can mention `import(...)`; template literals here never hold import syntax.
        text = COMMENT.sub("", file.read_text(encoding="utf-8"))
        targets = []
        for match in IMPORT.finditer(text):
            spec = next(group for group in match.groups() if group)
            if spec.startswith("."):
                targets.append((file.parent / spec).resolve())
        graph[file.resolve()] = targets
    return graph


def cycles(graph: dict[Path, list[Path]]) -> list[list[Path]]:
    found, state = [], {}  # state: 1 = on the current path, 2 = done

    def visit(node: Path, path: list[Path]) -> None:
        state[node] = 1
        for target in graph.get(node, []):
            if state.get(target) == 1:
                found.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])
    return found


def test_every_relative_import_names_an_existing_module() -> None:
    graph = modules()
    missing = {(str(f.relative_to(JS)), str(t)) for f, targets in graph.items() for t in targets if not t.is_file()}
    assert not missing


def test_frontend_modules_have_no_import_cycle() -> None:
    graph = modules()
    assert len(graph) > 20  # the parser found the app
    assert any(graph.values())
    found = [" → ".join(str(p.relative_to(JS)) for p in cycle) for cycle in cycles(graph)]
    assert found == []


def test_no_frontend_module_is_over_400_lines() -> None:
    long = {}
    for file in JS.rglob("*.js"):
        relative = file.relative_to(JS)
        if "vendor" in relative.parts or relative.parts[0] == "i18n":
            continue
        lines = len(file.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            long[str(relative)] = lines
    assert long == {}


def test_the_cycle_check_finds_a_cycle() -> None:
    a, b, c = Path("a.js"), Path("b.js"), Path("c.js")
    assert cycles({a: [b], b: [c], c: [a]}) == [[a, b, c, a]]
    assert cycles({a: [b, c], b: [c], c: []}) == []


def static_imports(file: Path) -> list[Path]:
    """The modules `file` imports statically: what the browser must fetch before it runs."""
    text = COMMENT.sub("", file.read_text(encoding="utf-8"))
    found = []
    for match in IMPORT.finditer(text):
        spec = match.group(1) or match.group(3)  # group 2 is a dynamic import(), fetched when called
        if spec and spec.startswith("."):
            found.append((file.parent / spec).resolve())
    return found


def test_index_html_preloads_exactly_what_main_js_imports() -> None:
    """On Slow 3G each level of imports costs a round trip; index.html asks for them all at once,
    and a list gone stale would either miss a module (a round trip back) or fetch one for nothing."""
    boot, stack = set(), [(JS / "main.js").resolve()]
    while stack:
        module = stack.pop()
        if module not in boot:
            boot.add(module)
            stack.extend(static_imports(module))
    index = (JS.parent / "index.html").read_text(encoding="utf-8")
    preloaded = set(re.findall(r'<link rel="modulepreload" href="js/([^"]+)">', index))
    expected = {str(m.relative_to(JS.resolve())) for m in boot} - {"main.js"}
    assert preloaded - {"i18n/id.js", "i18n/problems.id.js"} == expected  # and the default language's texts
    assert {"i18n/id.js", "i18n/problems.id.js"} <= preloaded

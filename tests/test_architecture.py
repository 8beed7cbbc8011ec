"""The shape of api/, read from its import graph (issue #15).

Every `import api.x` and `from api.x import y` counts, at module level and inside functions
alike (an import inside a function is still a dependency; hiding it there is how cycles crept in).

Rules checked
- No cycle between api modules.
- No cycle between api packages: a top-level subpackage (api/devices, ...) is one node; a plain
  module (api/errors.py, api/flows.py, ...) is its own node. Every import counts, a domain's
  `models` included: reading another domain's tables is depending on it. Only the entry points
  stand outside their package, as their own nodes: the `router` modules, the top of the stack (a
  router calls its domain's service, or `api.flows` when the work joins domains). Nothing but
  api.main imports a router (checked). A domain's `demo` belongs to its package like any module:
  demo data that joins domains is put together by api/demo/service.py.
- `models` modules are leaves: they import only api.db, api.types and other models (checked).
- A domain imports another domain's `models` only where `MODELS_ALLOWED` says so, with the reason.
  The calendar of commitments (api.commitments) weighs several domains' bookings; the layers above
  the domains (api.flows, the demo loaders, api.models for Alembic) read what they join.
"""

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

API = Path(__file__).resolve().parent.parent / "api"


# importing domain -> {other domain's models module: why it may read it}
SHARED_REFERENCE = {
    "api.areas.models": "the area tree (codes, levels, names, population) is the reference every domain joins in SQL",
    "api.auth.models": "roles and users: the principal's identity and role, and the demo's accounts",
    "api.audit.models": "audit entries are written through api.audit; reading them is for tests only",
}
MODELS_ALLOWED: dict[str, dict[str, str]] = {
    "api.commitments": {
        "api.devices.models": "the devices and operators a weekend service would take (exist, active)",
        "api.services.models": "weekend-event assignments of the same day",
    },
    "api.devices": {
        "api.services.models": "a placement names its service point, and the plan puts static sets at the kecamatan office",
        "api.campaigns.models": "the campaign a capacity view or a plan is for, passed in by the router",
    },
    "api.visits": {
        "api.devices.models": "scheduling locks the kit and operator rows FOR UPDATE (dispatchers serialise per kit); the day plan shows the kit",
        "api.campaigns.models": "a request belongs to a campaign (its root for the NIK check, its zone and deadline)",
    },
    "api.queues": {
        "api.services.models": "a queue is a service point's: the boards select the points with their queues in one query",
    },
    "api.complaints": {
        "api.devices.models": "a complaint may name an operator; sanctions change the operator through the devices service",
        "api.services.models": "a complaint names the service point it happened at",
    },
    "api.tallies": {
        "api.campaigns.models": "a tally belongs to a campaign (its root, dates and versions)",
        "api.services.models": "a tally may name the service point it was recorded at",
        "api.devices.models": "a tally may name the device it was recorded with",
    },
    "api.progress": {
        "api.campaigns.models": "progress weighs the tallies against the campaign's targets and snapshots, in one query",
    },
    "api.auth": {
        "api.services.models": "an operator account is scoped to a service point",
        "api.devices.models": "an operator account is linked to a petugas",
    },
}
# The layers above the domains: they join domains by design.
MODELS_ANYWHERE = ("api.flows", "api.models", "api.demo", "api.backup", "api.cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(API.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(API.rglob("*.py"))}


def imported(name: str, path: Path) -> Iterator[str]:
    """The api modules `name` imports, anywhere in its body."""
    yield from imported_by(name, path.read_text(), is_package=path.name == "__init__.py")


def imported_by(name: str, source: str, *, is_package: bool = False) -> Iterator[str]:
    known = modules()
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "api" or alias.name.startswith("api."):
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base != "api" and not base.startswith("api."):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in known else base


@cache
def graph() -> dict[str, frozenset[str]]:
    known = modules()
    return {name: frozenset(t for t in imported(name, path) if t in known and t != name and t != "api") for name, path in known.items()}


def cycles(edges: dict[str, set[str]] | dict[str, frozenset[str]]) -> list[set[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def is_entry_point(module: str) -> bool:
    return module.rpartition(".")[2] == "router" and module.count(".") >= 2


def is_models(module: str) -> bool:
    return module.rpartition(".")[2] == "models" and module.count(".") >= 2


def package_node(module: str) -> str:
    return module if is_entry_point(module) else package_of(module)


def package_graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for source, targets in graph().items():
        node = package_node(source)
        edges.setdefault(node, set())
        for target in targets:
            other = package_node(target)
            if other != node:
                edges[node].add(other)
    return edges


def test_the_graph_sees_imports_inside_functions_and_both_import_forms() -> None:
    source = """
import api.errors
from api import calendar
from api.areas import service as areas
from api.devices.models import Device


def later():
    from api.visits import service
    import api.flows
"""
    assert set(imported_by("api.x.service", source)) == {
        "api.errors", "api.calendar", "api.areas.service", "api.devices.models", "api.visits.service", "api.flows",
    }  # fmt: skip
    assert set(imported_by("api.devices.fleet", "from .placements import place\nfrom . import models")) == {"api.devices.placements", "api.devices.models"}
    assert "api.areas.service" in graph()["api.auth.service"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_cycle_between_modules() -> None:
    assert [sorted(c) for c in cycles(graph())] == []


def test_no_cycle_between_packages() -> None:
    assert [sorted(c) for c in cycles(package_graph())] == []


def test_routers_and_demos_are_entry_points() -> None:
    for source, targets in graph().items():
        for target in targets:
            if target.endswith(".router"):
                assert source == "api.main", f"{source} imports {target}: only api.main mounts routers"
            if target.endswith(".demo"):
                assert source.endswith(".demo") or source in ("api.demo.service", "api.cli"), f"{source} imports {target}"


def test_models_are_leaves() -> None:
    for source, targets in graph().items():
        if is_models(source):
            assert all(is_models(t) or t in ("api.db", "api.types") for t in targets), f"{source} imports {sorted(targets)}"


def test_domains_read_other_domains_models_only_where_allowed() -> None:
    problems = []
    for source, targets in graph().items():
        domain = package_of(source)
        if source.startswith(MODELS_ANYWHERE) or is_entry_point(source) or is_models(source):
            continue
        for target in targets:
            if not is_models(target) or package_of(target) == domain or target in SHARED_REFERENCE:
                continue
            if target not in MODELS_ALLOWED.get(domain, {}):
                problems.append(f"{source} imports {target}")
    assert problems == []

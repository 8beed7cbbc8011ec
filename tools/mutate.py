"""Mutation testing of the rule modules: does a small wrong change make a test fail?

For each rule function listed in MODULES, every mutation site (a comparison flipped or widened,
an integer constant off by one, + and - swapped, `ceil` for `floor`/`round`/`int`, median for
mean, `not` dropped, `and` for `or`, `max` for `min`, a regex quantifier widened or its `$`
dropped, `startswith` for `endswith`, an `.astimezone(...)` dropped, a slice's sign flipped)
gives one mutant: the module rewritten with that one change, in a temporary copy of the tree,
with the module's tests run against it on SQLite only (`-k "not postgresql"`, `-x`, a timeout).
A mutant the tests fail on is killed; one they pass is a survivor, listed with its line.

    python tools/mutate.py                 # all four modules
    python tools/mutate.py areas queues    # some of them (by the key in MODULES)

Slow (minutes) and not part of CI: `make mutate`.
"""

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120

# key -> (module, rule functions mutated, tests run for each mutant)
MODULES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "nik": (
        "api/visits/nik.py",
        ("normalize_phone", "kecamatan_of_nik", "birth_date_of_nik", "age_on", "nik_problem"),
        ("tests/visits/test_nik.py", "tests/visits/test_service.py"),
    ),
    "areas": (
        "api/area_codes.py",
        ("level_of", "depth_of", "parent_of", "ancestors_of", "is_within", "in_subtree", "require_code", "<module>"),
        ("tests/test_area_codes.py",),
    ),
    "calendar": (
        "api/calendar.py",
        ("local_moment", "local_hhmm", "is_open_at", "service_days", "nth_service_day"),
        ("tests/campaigns/test_forecast.py", "tests/queues/test_board.py"),
    ),
    "forecast": (
        "api/campaigns/forecast.py",
        ("forecast",),
        ("tests/campaigns/test_forecast.py",),
    ),
    "targets": (
        "api/campaigns/targets.py",
        ("largest_remainder",),
        ("tests/campaigns/test_forecast.py",),
    ),
    "queues": (
        "api/queues/service.py",
        ("waiting_line", "_call_order", "_estimate", "_percentile", "_board"),
        ("tests/queues/test_board.py",),
    ),
    "appointments": (
        "api/queues/appointments.py",
        ("slot_grid", "_check_booking_day"),
        ("tests/queues/test_board.py", "tests/queues/test_service.py"),
    ),
}

COMPARE_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
BINOP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Div,),
    ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div,),
}
AUGASSIGN_SWAPS: dict[type, tuple[type, ...]] = {ast.Sub: (ast.Mod, ast.Add), ast.Add: (ast.Sub,)}
NAME_SWAPS = {"ceil": ("floor", "round", "int"), "median": ("mean",), "max": ("min",), "min": ("max",), "startswith": ("endswith",)}


@dataclass
class Mutant:
    key: str
    index: int
    line: int
    what: str


def _sites(tree: ast.Module, functions: tuple[str, ...]) -> list[tuple[ast.AST, str, object]]:
    """(node, description, replacement) for every mutation in the listed functions."""
    sites: list[tuple[ast.AST, str, object]] = []

    def visit(node: ast.AST, inside: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside = node.name in functions
        if inside:
            sites.extend(_node_sites(node))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    for statement in tree.body:
        at_module = "<module>" in functions and isinstance(statement, (ast.Assign, ast.AnnAssign))
        visit(statement, at_module)
    return sites


def _node_sites(node: ast.AST) -> list[tuple[ast.AST, str, object]]:
    found: list[tuple[ast.AST, str, object]] = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in COMPARE_SWAPS.get(type(op), ()):
                found.append((node, f"{type(op).__name__} -> {new.__name__}", ("op", i, new)))
    elif isinstance(node, ast.BinOp):
        for new in BINOP_SWAPS.get(type(node.op), ()):
            found.append((node, f"{type(node.op).__name__} -> {new.__name__}", ("binop", new)))
    elif isinstance(node, ast.AugAssign):
        for new in AUGASSIGN_SWAPS.get(type(node.op), ()):
            found.append((node, f"{type(node.op).__name__}= -> {new.__name__}=", ("binop", new)))
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        found += [
            (node, f"{node.value} -> {node.value + 1}", ("const", node.value + 1)),
            (node, f"{node.value} -> {node.value - 1}", ("const", node.value - 1)),
        ]
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "\\d{" in node.value:
        text = node.value
        if text.endswith("$"):
            found.append((node, "regex: drop the final $", ("const", text[:-1])))
        for n in sorted({part.split("}")[0] for part in text.split("\\d{")[1:]}):
            if n.isdigit():
                found.append((node, f"regex: \\d{{{n}}} -> \\d{{{int(n) - 1},{n}}}", ("const", text.replace(f"\\d{{{n}}}", f"\\d{{{int(n) - 1},{n}}}"))))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        found.append((node, "drop not", ("unwrap",)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not isinstance(node.operand, ast.Constant):
        found.append((node, "drop unary minus", ("unwrap",)))
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        found.append((node, f"{type(node.op).__name__} -> {new.__name__}", ("boolop", new)))
    elif isinstance(node, ast.Attribute) and node.attr in NAME_SWAPS:
        found += [(node, f".{node.attr} -> .{new}", ("attr", new)) for new in NAME_SWAPS[node.attr]]
    elif isinstance(node, ast.Name) and node.id in NAME_SWAPS and isinstance(node.ctx, ast.Load):
        found += [(node, f"{node.id} -> {new}", ("name", new)) for new in NAME_SWAPS[node.id]]
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "astimezone":
        found.append((node, "drop .astimezone(...)", ("receiver",)))
    return found


class _Apply(ast.NodeTransformer):
    def __init__(self, target: ast.AST, change: object) -> None:
        self.target, self.change = target, change

    def generic_visit(self, node: ast.AST) -> ast.AST:
        node = super().generic_visit(node)
        if node is not self.target:
            return node
        kind, *args = self.change  # type: ignore[misc]
        if kind == "op":
            node.ops[args[0]] = args[1]()  # type: ignore[attr-defined]
        elif kind in ("binop", "boolop"):
            node.op = args[0]()  # type: ignore[attr-defined]
        elif kind == "const":
            node.value = args[0]  # type: ignore[attr-defined]
        elif kind == "unwrap":
            return node.operand  # type: ignore[attr-defined]
        elif kind == "attr":
            if node.attr in ("ceil",) and args[0] in ("round", "int"):  # type: ignore[attr-defined]
                return ast.Name(id=args[0], ctx=ast.Load())
            node.attr = args[0]  # type: ignore[attr-defined]
        elif kind == "name":
            node.id = args[0]  # type: ignore[attr-defined]
        elif kind == "receiver":
            return node.func.value  # type: ignore[attr-defined]
        return node


def mutants_of(key: str) -> tuple[list[Mutant], list[str]]:
    path, functions, _tests = MODULES[key]
    source = (ROOT / path).read_text()
    tree = ast.parse(source)
    sites = _sites(tree, functions)
    mutants, sources = [], []
    for index in range(len(sites)):
        fresh = ast.parse(source)
        node, what, change = _sites(fresh, functions)[index]
        mutated = ast.fix_missing_locations(_Apply(node, change).visit(fresh))
        mutants.append(Mutant(key, index, getattr(node, "lineno", 0), what))
        sources.append(ast.unparse(mutated))
    return mutants, sources


def _run(tree: Path, tests: tuple[str, ...]) -> tuple[bool, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-k", "not postgresql", *tests]
    try:
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, "timeout"
    if done.returncode == 5:
        raise SystemExit(f"no tests collected: {' '.join(tests)}")
    return done.returncode == 0, done.stdout[-2000:]


def _copy_tree(into: Path) -> Path:
    for name in ("api", "tests", "migrations"):
        shutil.copytree(ROOT / name, into / name, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    for name in ("pyproject.toml", "alembic.ini"):
        shutil.copy2(ROOT / name, into / name)
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", choices=[[], *MODULES], default=[])
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    args = parser.parse_args()
    keys = args.modules or list(MODULES)
    started = time.monotonic()
    totals: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory(prefix="rekam-mutate-") as scratch:
        trees = [_copy_tree(Path(scratch) / f"w{j}") for j in range(args.jobs)]
        for key in keys:
            path, _functions, tests = MODULES[key]
            mutants, sources = mutants_of(key)
            if args.list:
                for m in mutants:
                    print(f"{path}:{m.line}: {m.what}")
                continue
            passed, output = _run(trees[0], tests)
            if not passed:
                print(output)
                raise SystemExit(f"the tests of {path} fail without any mutation")

            def run_one(item: tuple[int, Mutant, str]) -> tuple[Mutant, bool]:
                slot, mutant, text = item
                tree = trees[slot % args.jobs]
                (tree / path).write_text(text)
                try:
                    survived, _ = _run(tree, tests)
                finally:
                    shutil.copy2(ROOT / path, tree / path)
                return mutant, survived

            # One tree per job: mutant i runs in tree i % jobs, so jobs never share a tree.
            results: list[tuple[Mutant, bool]] = []
            for batch_start in range(0, len(mutants), args.jobs):
                batch = [(i, mutants[i], sources[i]) for i in range(batch_start, min(batch_start + args.jobs, len(mutants)))]
                with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                    results += list(pool.map(run_one, batch))
            killed = sum(not survived for _, survived in results)
            totals[key] = [killed, len(results)]
            print(f"{path}: {killed}/{len(results)} killed", flush=True)
            for m, survived in results:
                if survived:
                    print(f"  survived  {path}:{m.line}: {m.what}", flush=True)
    if args.list:
        return 0
    killed = sum(k for k, _ in totals.values())
    total = sum(n for _, n in totals.values())
    print(f"mutation score: {killed}/{total} killed = {100 * killed / max(total, 1):.1f}% ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

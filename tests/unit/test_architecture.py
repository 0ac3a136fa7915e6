"""The allowed import directions, checked over every import in the code (function-local too).

Rooms may import the kernel (``ontime``); the kernel imports no room; the front door
(``ontime_cli``) imports rooms and is imported by none; monitoring sees only training's lineage
interface and the shared metric and cost definitions, and only serving's log reader. No
module is part of an import circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "ontime", "ontime_cli", "feature_repo", "simulator", "training", "serving", "monitoring",
)  # fmt: skip

# What each package may import from the other packages (a prefix allows its submodules).
ALLOWED: dict[str, tuple[str, ...]] = {
    "ontime": (),
    "ontime_cli": ("ontime", "simulator", "training", "serving", "monitoring"),
    "feature_repo": ("ontime",),
    "simulator": ("ontime",),
    "training": ("ontime",),
    "serving": ("ontime", "training.bundle", "training.registry", "training.integrity"),
    "monitoring": (
        "ontime",
        "training.lineage",
        "training.metrics",
        "training.costs",
        "serving.log_reader",
    ),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Project modules ``path`` imports, resolving ``from pkg import module``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [n if n in MODULES else node.module for n in names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES:
                while name not in MODULES and "." in name:
                    name = name.rsplit(".", 1)[0]
                found.add(name)
    return found


GRAPH = {module: _imports(path) for module, path in MODULES.items()}


def _allowed(source: str, target: str) -> bool:
    package, other = source.split(".")[0], target.split(".")[0]
    if package == other:
        return True
    return any(target == rule or target.startswith(rule + ".") for rule in ALLOWED[package])


def test_every_package_has_a_rule():
    assert set(ALLOWED) == set(PACKAGES)
    assert len(MODULES) > 100  # the walk found the code


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_only_in_allowed_directions(package):
    wrong = sorted(
        f"{source} -> {target}"
        for source, targets in GRAPH.items()
        if source.split(".")[0] == package
        for target in targets
        if not _allowed(source, target)
    )
    assert wrong == [], f"imports against the architecture: {wrong}"


def test_no_module_is_part_of_an_import_circle():
    circles = _cycles({m: {t for t in ts if t != m and t in GRAPH} for m, ts in GRAPH.items()})
    assert circles == [], f"import circles: {circles}"


def test_the_check_sees_a_wrong_arrow():
    """The rules are not vacuous: a kernel importing a room, or monitoring reaching into
    training's internals, is refused."""
    assert not _allowed("ontime.repo", "training.registry")
    assert not _allowed("monitoring.champion", "training.snapshot")
    assert not _allowed("serving.scorer", "ontime_cli.main")
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
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
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found

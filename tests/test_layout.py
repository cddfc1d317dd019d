"""The package's layout stays what README's "Architecture" section says: no import cycle among
its modules (imports inside functions count), and every import points down the layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO

PACKAGE = REPO / "adain"

#: the layers, inside out; a module may import its own layer and the ones below
LAYERS = {
    "adain.errors": 0,
    "adain._lazy": 0,
    "adain._fields": 0,
    "adain._version": 0,
    "adain.io": 1,
    "adain.ops": 1,
    "adain.nets": 2,
    "adain.functional": 2,
    "adain.weights": 3,
    "adain.runtime": 4,
    "adain.pipeline": 5,
    "adain.methods": 6,
    "adain.webapp": 6,
    "adain.studio": 6,
    "adain.training": 7,
    "adain.cli": 8,
    "adain": 9,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``name`` imports when it runs: every ``import``/``from … import`` at
    any depth (type-checking-only blocks excluded), plus the submodules named by the lazy ``_EXPORTS``
    tables of packages."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", 0) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for a in node.names:
                sub = f"{base}.{a.name}"
                if sub in modules:
                    found.add(sub)
                elif base in modules:
                    found.add(base)
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_EXPORTS" for t in node.targets):
            if isinstance(node.value, ast.Dict):
                found.update(f"{name}.{k.value}" for k in node.value.keys if isinstance(k, ast.Constant))
    found.discard(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as a path that returns to its start), or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def _layer(module: str) -> int:
    best = max((k for k in LAYERS if module == k or module.startswith(k + ".")), key=len)
    return LAYERS[best]


def test_no_import_cycle() -> None:
    cycle = find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_can_fail() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{m} ({_layer(m)}) imports {t} ({_layer(t)})"
        for m, targets in _graph().items()
        if not m.endswith("__main__")
        for t in targets
        if _layer(t) > _layer(m)
    ]
    assert not upward, "\n".join(upward)


def test_every_module_has_a_layer() -> None:
    """A new top-level module or subpackage must be placed in :data:`LAYERS` (not just fall under ``adain``)."""
    unplaced = [
        m
        for m in _modules()
        if m != "adain" and not any(m == k or m.startswith(k + ".") for k in LAYERS if k != "adain")
    ]
    assert not unplaced, unplaced


@pytest.mark.parametrize("old", ["grids", "video", "predict", "encoder", "hardware", "optimize"])
def test_module_paths_of_the_old_flat_layout_are_gone(old: str) -> None:
    """The 0.1 layout's aliases were removed (CHANGELOG): ``import adain`` installs no import hook."""
    import importlib
    import sys

    sys.modules.pop(f"adain.{old}", None)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"adain.{old}")
    assert not any(type(f).__module__.startswith("adain") for f in sys.meta_path)


LAZY_PACKAGES = sorted(
    name
    for name, path in _modules().items()
    if path.name == "__init__.py" and "_EXPORTS" in path.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_lazy_export_resolves(package: str) -> None:
    """Each name a package lists in ``__all__`` is defined by the submodule its table names."""
    import importlib

    module = importlib.import_module(package)
    assert module.__all__ == sorted(module.__all__) and module.__all__
    for name in module.__all__:
        value = getattr(module, name)
        assert value is not None and name in dir(module)


def test_lazy_exports_refuses_unknown_names() -> None:
    from adain._lazy import lazy_exports

    namespace: dict[str, object] = {}
    names, getattr_, dir_ = lazy_exports("adain.ops", {"stats": "calc_mean_std"}, namespace, extra=("x",))
    assert names == ["calc_mean_std", "x"]
    assert callable(getattr_("calc_mean_std")) and "calc_mean_std" in namespace
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        getattr_("nope")
    assert dir_() == ["calc_mean_std", "x"]

"""The package's shape, checked on its source so that it stays true (docs/architecture.md draws it):

- only ``engine/`` imports the Cassandra driver;
- imports go one way, down the layers below (a module imports only modules of lower layers, or modules of
  its own package), and the read and write cores never import Dask;
- no module imports or uses a private name of another module;
- modules stay small (about 500 lines) unless their docstring says why one cohesive job needs more.

A new module must be given its layer here, which is the moment to decide where it belongs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "cassandra_frames"

# lower layers first; a module may import from any layer below its own
LAYERS: list[set[str]] = [
    {"errors", "logs"},
    {"config"},
    {"cqltypes"},
    {"schema"},
    {"convert"},
    {"cql"},
    {"tokens"},
    {"planner", "filters", "options"},
    {"storage", "throttle", "latency"},
    {"formats", "checkpoint"},
    {"engine"},
    {"keyspaces"},
    {"indexes"},
    {"reports"},
    {"progress"},
    {"badrows"},
    {"write_plan"},
    {"read", "write"},
    {"export_unit", "export_options"},
    {"load_sources"},
    {"load_split"},
    {"count", "export", "load"},
    {"dask_head"},
    {"dask"},
    {"bulk"},
    {"aio", "accessor", "metrics"},
    {"datasets", "local", "cli_bulk"},
    {"cli", "demo", "__init__"},
]
PACKAGES = {"convert", "engine", "formats", "progress"}  # modules inside one of these may import each other
DASK_FREE = {"errors", "config", "cqltypes", "schema", "convert", "cql", "tokens", "planner", "filters"}
DASK_FREE |= {"options", "engine", "reports", "badrows", "read", "write_plan", "write", "logs", "latency"}
DASK_FREE |= {"formats", "checkpoint", "count", "export_unit", "export_options", "export"}
DASK_FREE |= {"load_sources", "load_split", "load", "storage", "throttle"}
MAX_LINES = 520
LONG_MODULES = {"local": "one cohesive job"}  # and the phrase its docstring must hold


def modules() -> dict[str, Path]:
    """Dotted name inside the package (``engine.reader``) → file."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = modules()


def layer(name: str) -> int:
    top = name.split(".")[0]
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"module {name!r} has no layer in tests/unit/test_structure.py: give it one")


def imports(source: str, name: str) -> list[tuple[str, list[tuple[str, str]], int]]:
    """(module imported, (name taken, name bound) pairs, line) for every import of module ``name``'s
    source, relative imports resolved; ``import a.b as c`` binds ``("", "c")``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(a.name, [("", a.asname or a.name.split(".")[0])], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            base = node.module or ""
            if node.level:
                package = ["cassandra_frames", *name.split(".")]
                if MODULES.get(name, Path("x.py")).name != "__init__.py":
                    package = package[:-1]
                here = package[: len(package) - node.level + 1]
                base = ".".join([*here, *([base] if base else [])])
            out.append((base, [(a.name, a.asname or a.name) for a in node.names], node.lineno))
        elif (
            (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            out.append((node.args[0].value, [], node.lineno))
    return out


def internal(target: str, names: list[tuple[str, str]]) -> list[str]:
    """The package modules an import reaches (``from cassandra_frames import cql`` reaches ``cql``)."""
    if target == "cassandra_frames":
        return [n for n, _ in names if n in MODULES] or ["__init__"]
    if target.startswith("cassandra_frames."):
        return [target.removeprefix("cassandra_frames.")]
    return []


def driver_imports(name: str, source: str) -> list[str]:
    """Imports of the Cassandra driver outside engine/."""
    if name.split(".")[0] == "engine":
        return []
    return [
        f"{name}.py:{line} imports the driver ({target}); only engine/ may"
        for target, _, line in imports(source, name)
        if target == "cassandra" or target.startswith("cassandra.")
    ]


def upward_imports(name: str, source: str) -> list[str]:
    """Imports of a module not below ``name`` (outside its own package), and Dask in the core."""
    top = name.split(".")[0]
    mine = layer(name)
    out = []
    for target, names, line in imports(source, name):
        for dep in internal(target, names):
            if dep == name or (top in PACKAGES and dep.split(".")[0] == top):
                continue
            if layer(dep) >= mine:
                out.append(f"{name}.py:{line} imports {dep}, which is not below it")
        if top in DASK_FREE and (target == "dask" or target.startswith(("dask.", "distributed"))):
            out.append(f"{name}.py:{line} imports {target}: the core stays free of Dask")
    return out


def private_uses(name: str, source: str) -> list[str]:
    """Private names of other package modules, imported or reached as ``module._name`` (any alias)."""
    out = []
    aliases: set[str] = set()  # local names bound to package modules
    for target, names, line in imports(source, name):
        if not internal(target, names):
            continue
        for taken, bound in names:
            if taken.startswith("_") and not taken.startswith("__"):
                out.append(f"{name}.py:{line} imports the private name {taken} from {target}")
            module = f"{target}.{taken}".removeprefix("cassandra_frames.") if taken else target
            if module.removeprefix("cassandra_frames.") in MODULES or module == "cassandra_frames":
                aliases.add(bound)
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        if node.value.id in aliases and node.attr.startswith("_") and not node.attr.startswith("__"):
            out.append(f"{name}.py:{node.lineno} uses the private name {node.value.id}.{node.attr}")
    return out


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        layer(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_engine_imports_the_driver(name: str) -> None:
    assert driver_imports(name, MODULES[name].read_text()) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_down_the_layers(name: str) -> None:
    assert upward_imports(name, MODULES[name].read_text()) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_name_of_another_module(name: str) -> None:
    assert private_uses(name, MODULES[name].read_text()) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    source = MODULES[name].read_text()
    lines = source.count("\n")
    if name in LONG_MODULES:
        assert LONG_MODULES[name] in (ast.get_docstring(ast.parse(source)) or ""), (
            f"{name}.py is {lines} lines: its docstring must say why ({LONG_MODULES[name]!r})"
        )
        return
    assert lines <= MAX_LINES, f"{name}.py has {lines} lines: split it by job (or justify it here)"


def test_the_checks_catch_what_they_look_for() -> None:
    """Each check flags a source that breaks its rule (so an empty result above means something)."""
    assert driver_imports("read", "from cassandra.query import UNSET_VALUE\n")
    assert driver_imports("schema", "import cassandra\n")
    assert driver_imports("engine.reader", "from cassandra import ConsistencyLevel\n") == []
    assert driver_imports("read", "import cassandra_frames\n") == []
    assert driver_imports("read", "import importlib\nimportlib.import_module('cassandra.query')\n")
    assert upward_imports("schema", "from cassandra_frames.engine import catalog\n")
    assert upward_imports("read", "from cassandra_frames.write import plan_write\n")  # same layer
    assert upward_imports("write", "import dask.dataframe as dd\n")
    assert upward_imports("engine.reader", "from . import catalog\nfrom ..cql import select\n") == []
    assert upward_imports("cql", "from .engine import catalog\n")
    assert private_uses("write", "from cassandra_frames.schema import _x\n")
    assert private_uses("read", "from cassandra_frames import schema\nschema._hidden()\n")
    assert private_uses("read", "from cassandra_frames import schema\nschema.table_schema()\n") == []
    assert private_uses("read", "from cassandra_frames import schema as s\ns._hidden()\n")
    assert private_uses("read", "import cassandra_frames.schema as s\ns._hidden()\n")
    assert private_uses("read", "from cassandra_frames.schema import _x as x\n")

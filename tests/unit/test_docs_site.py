"""The documentation site's hooks (docs/hooks.py): a public name without a docstring fails the build,
the API reference lists every public name, Sphinx roles become reference links; mkdocs.yml's nav covers
every page."""

from __future__ import annotations

import dataclasses
import importlib.util
import types
from pathlib import Path
from typing import Any

import pytest
import yaml

import cassandra_frames as cf

ROOT = Path(__file__).resolve().parents[2]


def _hooks() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _hooks()


def test_every_public_name_has_a_docstring() -> None:
    assert hooks.missing_docstrings(cf) == []
    assert hooks.on_config({"site_name": "x"}) == {"site_name": "x"}


def test_a_missing_function_docstring_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    from mkdocs.exceptions import PluginError

    monkeypatch.setattr(cf.read_cassandra, "__doc__", None)
    from_env: Any = cf.ConnectionConfig.__dict__["from_env"]
    rows_per_s: Any = cf.WriteReport.__dict__["rows_per_s"]
    monkeypatch.setattr(from_env.__func__, "__doc__", "")  # a classmethod
    monkeypatch.setattr(rows_per_s.fget, "__doc__", None)  # a property
    monkeypatch.setattr(cf.RejectedRow.describe, "__doc__", "  ")  # a method
    with pytest.raises(PluginError) as info:
        hooks.on_config({})
    message = str(info.value)
    assert "4 public name(s)" in message
    for name in (
        "cassandra_frames.read_cassandra",
        "cassandra_frames.ConnectionConfig.from_env",
        "cassandra_frames.WriteReport.rows_per_s",
        "cassandra_frames.RejectedRow.describe",
    ):
        assert name in message


def test_classes_modules_and_their_names_are_checked() -> None:
    @dataclasses.dataclass
    class Bare:  # dataclasses give it "Bare(x: int)" as its __doc__: still undocumented
        x: int

    class Documented:
        """Documented."""

        def method(self) -> None:
            pass

        def _private(self) -> None:
            pass

    sub = types.ModuleType("pkg.sub")  # no docstring
    sub.__all__ = ["helper", "CONSTANT"]  # type: ignore[attr-defined]
    sub.helper = lambda: None  # type: ignore[attr-defined]
    sub.CONSTANT = 3  # type: ignore[attr-defined]
    pkg = types.ModuleType("pkg", "The package.")
    pkg.__all__ = ["Bare", "Documented", "__version__", "sub"]  # type: ignore[attr-defined]
    pkg.Bare, pkg.Documented, pkg.sub = Bare, Documented, sub  # type: ignore[attr-defined]
    pkg.__version__ = "1"  # type: ignore[attr-defined]
    assert hooks.missing_docstrings(pkg) == [
        "pkg.Bare",
        "pkg.Documented.method",
        "pkg.sub",
        "pkg.sub.helper",
    ]


def test_the_reference_lists_every_public_name() -> None:
    markdown = hooks.reference_markdown(list(cf.__all__))
    blocks = [line.removeprefix("::: ") for line in markdown.splitlines() if line.startswith("::: ")]
    for name in cf.__all__:
        if not name.startswith("__"):
            assert hooks.canonical(name) in blocks, name
    assert hooks.canonical("count") == "cassandra_frames.bulk.count"  # not the module cassandra_frames.count
    assert "cassandra_frames.accessor.CassandraAccessor" in blocks
    assert "## Errors" in markdown
    assert len(blocks) == len(set(blocks))


def test_a_new_public_name_appears_in_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cf, "brand_new", cf.read_cassandra, raising=False)
    markdown = hooks.reference_markdown([*cf.__all__, "brand_new"])
    assert markdown.split("## Other names\n", 1)[1].strip().startswith("::: cassandra_frames.")
    page = hooks.on_page_markdown(f"# API\n\n{hooks.REFERENCE_MARKER}\n", page=None)
    assert "::: cassandra_frames.dask.read_cassandra" in page
    assert hooks.on_page_markdown("# Other page\n", page=None) == "# Other page\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (":func:`read_cassandra`", "[`read_cassandra`][cassandra_frames.dask.read_cassandra]"),
        (":func:`cassandra_frames.load`", "[`load`][cassandra_frames.bulk.load]"),
        (
            ":class:`~cassandra_frames.config.ConnectionConfig`",
            "[`ConnectionConfig`][cassandra_frames.config",
        ),
        (":meth:`ConnectionConfig.from_env`", "[`ConnectionConfig.from_env`][cassandra_frames.config."),
        (":class:`WriteError`", "[`WriteError`][cassandra_frames.errors.WriteError]"),
        (":mod:`cassandra_frames.read`", "`read`"),  # a private module: code, no link
        (":func:`export` and ``x``", "[`export`][cassandra_frames.bulk.export] and ``x``"),
    ],
)
def test_sphinx_roles_become_links(text: str, expected: str) -> None:
    assert hooks.rewrite_roles(text).startswith(expected)


def test_the_nav_covers_every_page() -> None:
    config: dict[str, Any] = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.SafeLoader)

    def pages(nav: Any) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        if isinstance(nav, dict):
            return [p for v in nav.values() for p in pages(v)]
        return [p for item in nav for p in pages(item)]

    listed = pages(config["nav"])
    on_disk = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert sorted(listed) == on_disk
    assert config["strict"] is True
    assert "docs/hooks.py" in config["hooks"]

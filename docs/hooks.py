"""MkDocs hooks of the documentation site (``mkdocs.yml``: ``hooks: [docs/hooks.py]``).

- :func:`on_config` fails the build (``PluginError``) when a public name of ``cassandra_frames.__all__`` —
  a function, a class and each of its public methods and properties, a module and the names of its own
  ``__all__`` — has no docstring, naming every one. Griffe checks the docstrings it renders (parameters
  that do not match the signature are warnings, and ``mkdocs build --strict`` fails on warnings).
- :func:`on_page_markdown` fills the API reference page from ``cassandra_frames.__all__``: one
  ``::: cassandra_frames.<name>`` block per public name, grouped by kind, so a name added to ``__all__``
  appears without editing the page.
- :class:`SphinxRoles` (a griffe extension, ``extensions:`` of the mkdocstrings handler) turns the Sphinx
  roles of the package's docstrings (``:func:`read_cassandra```) into links to the reference page, or
  into plain code for a name the reference does not show.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import types
from collections.abc import Iterator
from typing import Any

import griffe
from mkdocs.exceptions import PluginError

PACKAGE = "cassandra_frames"
REFERENCE_MARKER = "<!-- api-reference -->"

# sections of the reference page; a public name in none of them goes to "Other names"
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Reading and writing", ("read_cassandra", "to_cassandra")),
    ("Bulk operations: count, export, load", ("count", "export", "load", "iceberg_catalog")),
    ("Keyspaces", ("create_keyspace", "drop_keyspace")),
    ("Connecting", ("ConnectionConfig",)),
    ("Progress, logging and metrics", ("progress", "ProgressStats", "configure_logging", "serve_metrics")),
    ("Reports", ("WriteReport", "LoadReport", "ExportReport", "RejectedRow")),
    ("Modules", ("aio", "local", "datasets")),
)
# rendered in addition to __all__ (the accessor is reached as df.cassandra, not by name)
EXTRA = {"Reading and writing": ("cassandra_frames.accessor.CassandraAccessor",)}


def _undocumented(obj: Any) -> bool:
    doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return True
    # a dataclass without a docstring gets "Name(field: type, ...)" from dataclasses
    return dataclasses.is_dataclass(obj) and isinstance(obj, type) and doc.startswith(f"{obj.__name__}(")


def _class_members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and properties a class defines itself (not inherited ones)."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, staticmethod | classmethod):
            yield name, member.__func__
        elif isinstance(member, property):
            yield name, member.fget
        elif inspect.isfunction(member):
            yield name, member


def missing_docstrings(module: types.ModuleType) -> list[str]:
    """Every public name of ``module.__all__`` that lacks a docstring, as ``module.name[.member]``.

    Functions and classes are checked, with each public method and property a class defines; a module in
    ``__all__`` is checked with the functions and classes of its own ``__all__``. Other values (constants,
    ``__version__``) have no docstring of their own and are skipped.
    """
    missing: list[str] = []

    def check(path: str, obj: Any, depth: int) -> None:
        if isinstance(obj, types.ModuleType):
            if _undocumented(obj):
                missing.append(path)
            if depth == 0:
                for name in getattr(obj, "__all__", ()):
                    check(f"{path}.{name}", getattr(obj, name, None), depth + 1)
        elif isinstance(obj, type):
            if _undocumented(obj):
                missing.append(path)
            for name, member in _class_members(obj):
                if _undocumented(member):
                    missing.append(f"{path}.{name}")
        elif callable(obj) and _undocumented(obj):
            missing.append(path)

    for name in module.__all__:
        if not name.startswith("__"):
            check(f"{module.__name__}.{name}", getattr(module, name, None), 0)
    return missing


def on_config(config: Any, **kwargs: Any) -> Any:
    """Fail the build when a public name has no docstring."""
    missing = missing_docstrings(importlib.import_module(PACKAGE))
    if missing:
        raise PluginError(
            f"{len(missing)} public name(s) of {PACKAGE} have no docstring: " + ", ".join(sorted(missing))
        )
    return config


def canonical(name: str) -> str:
    """Where griffe finds the public name ``name``: the module that defines it (``count`` is
    ``cassandra_frames.bulk.count``, since ``cassandra_frames.count`` is also a module's name)."""
    obj = getattr(importlib.import_module(PACKAGE), name)
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if module and qualname else f"{PACKAGE}.{name}"


def reference_markdown(public: list[str]) -> str:
    """The API reference: a ``:::`` block per name of ``public``, in the sections of :data:`SECTIONS`."""
    placed: set[str] = set()
    parts: list[str] = []
    names = [n for n in public if not n.startswith("__")]
    errors = [n for n in names if n.endswith("Error")]
    sections = [*SECTIONS, ("Errors", tuple(errors))]
    for title, members in sections:
        present = [n for n in members if n in names] + [
            n for n in names if title == "Errors" and n not in members and n in errors
        ]
        extra = EXTRA.get(title, ())
        if not present and not extra:
            continue
        parts.append(f"## {title}\n")
        parts.extend(f"::: {canonical(n)}\n" for n in present)
        parts.extend(f"::: {path}\n" for path in extra)
        placed.update(present)
    rest = [n for n in names if n not in placed]
    if rest:
        parts.append("## Other names\n")
        parts.extend(f"::: {canonical(n)}\n" for n in rest)
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Fill the reference page's marker with the ``:::`` blocks of ``cassandra_frames.__all__``."""
    if REFERENCE_MARKER not in markdown:
        return markdown
    module = importlib.import_module(PACKAGE)
    return markdown.replace(REFERENCE_MARKER, reference_markdown(list(module.__all__)))


_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj):`~?([^`]+)`")


def reference_target(path: str) -> str | None:
    """The reference page's identifier of a Sphinx role's target, or None when the page does not show it.

    ``read_cassandra``, ``cassandra_frames.read_cassandra``, ``~cassandra_frames.config.ConnectionConfig``
    and ``ConnectionConfig.from_env`` resolve through the public names; module-private paths do not.
    """
    module = importlib.import_module(PACKAGE)
    public = [n for n in module.__all__ if not n.startswith("__")]
    parts = path.removeprefix(f"{PACKAGE}.").split(".")
    for start in range(len(parts)):
        head, rest = parts[start], parts[start + 1 :]
        if head not in public or (start and len(rest) > 1):
            continue
        obj: Any = getattr(module, head)
        for name in rest:
            if name.startswith("_") or not hasattr(obj, name):
                return None
            obj = getattr(obj, name)
        head_obj = getattr(module, head)
        if (
            isinstance(head_obj, types.ModuleType)
            and rest
            and rest[0] not in getattr(head_obj, "__all__", ())
        ):
            return None
        return ".".join([canonical(head), *rest])
    return None


def rewrite_roles(text: str) -> str:
    """``:func:`x``` → a link to ``x`` on the reference page, or ``x`` as code when it is not there."""

    def link(match: re.Match[str]) -> str:
        path = match.group(1)
        label = path.split(".")[-1] if "~" in match.group(0) else path.removeprefix(f"{PACKAGE}.")
        target = reference_target(path)
        return f"[`{label}`][{target}]" if target else f"`{label}`"

    return _ROLE.sub(link, text)


class SphinxRoles(griffe.Extension):
    """Griffe extension: Sphinx roles in docstrings become reference links (see :func:`rewrite_roles`)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the roles of ``obj``'s docstring."""
        if obj.docstring is not None and ":`" in obj.docstring.value:
            obj.docstring.value = rewrite_roles(obj.docstring.value)

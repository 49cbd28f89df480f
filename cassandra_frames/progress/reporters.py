"""Progress displays: the :class:`Reporter` protocol and the choice of one for ``progress=``.

``progress="auto"`` (the default): an ipywidgets widget in a Jupyter kernel, a tqdm bar on stderr in a
terminal, nothing otherwise. ``True``: the widget in a kernel, the tqdm bar anywhere else. ``False`` or
None: nothing. ``"widget"`` / ``"tqdm"``: that one. Or any object with the three methods of
:class:`Reporter` (``start``, ``update``, ``finish``): its ``update`` is called at most every
``interval`` seconds (0.2 by default, or the reporter's own ``interval`` attribute), ``start`` and
``finish`` always.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, Protocol, runtime_checkable

from cassandra_frames.errors import CassandraFramesError, NotInstalledError
from cassandra_frames.progress.stats import ProgressStats

__all__ = ["ProgressSpec", "Reporter", "in_jupyter_kernel", "make_reporter"]


@runtime_checkable
class Reporter(Protocol):
    """What ``progress=`` accepts besides ``"auto"``, True and False: a display of an operation's progress.

    ``start(stats, title)`` once (``title``: ``"export ks.t → out/"``), ``update(stats)`` throttled,
    ``finish(stats, summary)`` once (``summary``: one line, starting ``100%`` on success).
    """

    def start(self, stats: ProgressStats, title: str) -> None:
        """The operation started (``stats.units_total`` may still be 0 when unknown)."""

    def update(self, stats: ProgressStats) -> None:
        """Progress was made (throttled)."""

    def finish(self, stats: ProgressStats, summary: str) -> None:
        """The operation ended (``stats.ok`` tells how)."""


ProgressSpec = bool | Literal["auto", "widget", "tqdm"] | Reporter | None
"""A ``progress=`` argument."""


def in_jupyter_kernel() -> bool:
    """Whether this process is a Jupyter kernel (IPython with a kernel; no import when IPython is absent)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    return getattr(shell, "kernel", None) is not None


def _stderr_is_tty() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _widget() -> Reporter:
    if not _installed("ipywidgets"):
        raise NotInstalledError("ipywidgets", "notebook")
    from cassandra_frames.progress.widget import WidgetReporter

    return WidgetReporter()


def _tqdm() -> Reporter:
    if not _installed("tqdm"):
        raise NotInstalledError("tqdm", "notebook")
    from cassandra_frames.progress.text import TqdmReporter

    return TqdmReporter()


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def make_reporter(spec: Any) -> Reporter | None:
    """The display ``progress=spec`` asks for, or None for none (see the module's docstring).

    Raises
    ------
    CassandraFramesError
        ``spec`` is none of the accepted values.
    NotInstalledError
        ``"widget"`` / ``"tqdm"`` asked for explicitly and the library is missing.
    """
    if spec is None or spec is False:
        return None
    if spec is True or spec == "auto":
        if in_jupyter_kernel() and _installed("ipywidgets"):
            return _widget()
        if (spec is True or _stderr_is_tty()) and _installed("tqdm"):
            return _tqdm()
        return None
    if spec == "widget":
        return _widget()
    if spec == "tqdm":
        return _tqdm()
    if not isinstance(spec, str) and isinstance(spec, Reporter):
        return spec
    raise CassandraFramesError(
        f"progress must be 'auto', True, False, 'widget', 'tqdm' or an object with start(stats, title), "
        f"update(stats) and finish(stats, summary) methods, not {spec!r}"
    )

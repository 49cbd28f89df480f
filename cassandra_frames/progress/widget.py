"""The Jupyter progress widget (ipywidgets): title, bar, one line of figures, then a one-line summary.

The contract a browser test relies on: an ipywidgets ``VBox`` with CSS class ``cf-progress`` holding an
``HTML`` title (class ``cf-progress-title``), an ``IntProgress`` (class ``cf-progress-bar``) and an ``HTML``
line (class ``cf-progress-text``) whose text starts with the percentage (``42% · 17/40 units · …``). When
the operation ends the line becomes a one-line summary (starting ``100%`` on success), the box gains the
class ``cf-progress-ok`` or ``cf-progress-failed`` and the bar's ``bar_style`` becomes ``"success"`` or
``"danger"``; the summary is green or red.
"""

from __future__ import annotations

import html
from typing import Any

from cassandra_frames.progress.stats import ProgressStats

__all__ = ["WidgetReporter"]


class WidgetReporter:
    """The ipywidgets display of one operation (built by ``start``; ``box`` is the whole widget).

    Parameters
    ----------
    display : bool
        Show the widget in the current output when it starts (False: only build it, e.g. to embed it in
        another layout or to measure its cost outside Jupyter).
    interval : float
        Seconds between two updates at least (a large job must not flood the notebook with messages).
    """

    def __init__(self, display: bool = True, interval: float = 0.2) -> None:
        self.display = display
        self.interval = interval
        self.box: Any = None
        self.title: Any = None
        self.bar: Any = None
        self.text: Any = None

    def start(self, stats: ProgressStats, title: str) -> None:
        """Build the widget (and show it)."""
        import ipywidgets as w  # type: ignore[import-untyped]

        self.title = w.HTML(value=f"<b>{html.escape(title)}</b>")
        self.title.add_class("cf-progress-title")
        self.bar = w.IntProgress(value=0, min=0, max=max(1, stats.units_total), bar_style="info")
        self.bar.add_class("cf-progress-bar")
        self.text = w.HTML(value=html.escape(stats.line()))
        self.text.add_class("cf-progress-text")
        self.box = w.VBox([self.title, self.bar, self.text])
        self.box.add_class("cf-progress")
        if self.display:
            from IPython.display import display

            display(self.box)  # type: ignore[no-untyped-call]

    def update(self, stats: ProgressStats) -> None:
        """Move the bar and rewrite the line."""
        if self.bar is None:
            return
        top = max(1, stats.units_total)
        if self.bar.max != top:
            self.bar.max = top
        self.bar.value = min(stats.units_done + stats.units_failed, top)
        self.text.value = html.escape(stats.line())

    def finish(self, stats: ProgressStats, summary: str) -> None:
        """The summary line, green and ``success`` or red and ``danger``."""
        if self.bar is None:
            self.start(stats, stats.operation)
        self.update(stats)
        if stats.ok:
            self.bar.value = self.bar.max
        self.bar.bar_style = "success" if stats.ok else "danger"
        self.text.value = html.escape(summary)
        self.text.style.text_color = "green" if stats.ok else "red"
        self.box.add_class("cf-progress-ok" if stats.ok else "cf-progress-failed")

"""Prometheus metrics of this process's operations: rows, bytes, units, retries, errors, request latency.

:func:`serve_metrics` starts prometheus-client's HTTP server (on 127.0.0.1 unless told otherwise) with a
collector fed by the progress listeners (:mod:`cassandra_frames.progress`): every export, load, count and
write of the process — whatever its ``progress=`` setting — adds to the counters as its units complete,
and its report's request latencies to a histogram when it ends. :func:`metrics_collector` gives the same
collector for an application that serves its own registry.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

from cassandra_frames.errors import NotInstalledError
from cassandra_frames.latency import LatencyHistogram
from cassandra_frames.progress.listeners import add_listener
from cassandra_frames.progress.stats import ProgressStats

__all__ = ["MetricsServer", "metrics_collector", "serve_metrics"]

LATENCY_BOUNDS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
"""Upper bounds (seconds) of the request-latency histogram's buckets."""

_COUNTED = ("rows", "bytes", "retries", "errors", "units_done", "units_failed")


def _prometheus() -> Any:
    try:
        import prometheus_client
        import prometheus_client.core  # the metric families of a collector
    except ImportError as exc:
        raise NotInstalledError(
            "prometheus-client is needed for metrics", "pip install 'cassandra-frames[metrics]'"
        ) from exc
    return prometheus_client


class _Collector:
    """The process's operation counters, as a prometheus-client collector."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: dict[str, ProgressStats] = {}  # operation id → its latest stats (running ones)
        self.counted: dict[tuple[str, str], int] = {}  # (operation id, figure) → the most counted so far
        self.totals: dict[tuple[str, str, str], float] = {}  # (metric, operation, table) → value
        self.finished: dict[tuple[str, str], int] = {}  # (operation, "ok"|"failed") → operations
        self.latency: dict[str, LatencyHistogram] = {}  # operation → every request of its runs

    def __call__(self, event: str, stats: ProgressStats) -> None:
        with self.lock:
            for name in _COUNTED:
                value, seen = getattr(stats, name), (stats.operation_id, name)
                if value > self.counted.get(seen, 0):  # counters only grow: a failed unit's rows so far
                    key = (name, stats.operation, stats.table)  # leave the display, not the counter
                    self.totals[key] = self.totals.get(key, 0) + value - self.counted.get(seen, 0)
                    self.counted[seen] = value
            if event == "complete":
                self.last.pop(stats.operation_id, None)
                for name in _COUNTED:
                    self.counted.pop((stats.operation_id, name), None)
                status = (stats.operation, "ok" if stats.ok else "failed")
                self.finished[status] = self.finished.get(status, 0) + 1
                latency = getattr(getattr(stats, "report", None), "latency", None)
                if isinstance(latency, LatencyHistogram):
                    self.latency.setdefault(stats.operation, LatencyHistogram()).merge(latency)
            else:
                self.last[stats.operation_id] = dataclasses.replace(stats)

    def collect(self) -> Iterator[Any]:
        """The metric families (what prometheus-client asks a collector for)."""
        core = _prometheus().core
        with self.lock:
            totals = dict(self.totals)
            finished = dict(self.finished)
            running = [(s.operation, s.table) for s in self.last.values()]
            latency = {op: LatencyHistogram(h.counts) for op, h in self.latency.items()}
        names = {
            "rows": ("cassandra_frames_rows", "Rows read, exported or written"),
            "bytes": (
                "cassandra_frames_bytes",
                "Bytes exported (files written) or loaded (source files read)",
            ),
            "retries": ("cassandra_frames_retries", "Transient failures retried"),
            "errors": ("cassandra_frames_errors", "Units that failed after retries"),
            "units_done": (
                "cassandra_frames_units_completed",
                "Units (token-range groups, splits) completed",
            ),
            "units_failed": ("cassandra_frames_units_failed", "Units that failed"),
        }
        for metric, (name, doc) in names.items():
            family = core.CounterMetricFamily(name, doc, labels=["operation", "table"])
            for (m, op, table), value in sorted(totals.items()):
                if m == metric:
                    family.add_metric([op, table], value)
            yield family
        done = core.CounterMetricFamily(
            "cassandra_frames_operations", "Operations finished", labels=["operation", "status"]
        )
        for (op, status), n in sorted(finished.items()):
            done.add_metric([op, status], n)
        yield done
        gauge = core.GaugeMetricFamily(
            "cassandra_frames_operations_running", "Operations running", labels=["operation", "table"]
        )
        for key in sorted(set(running)):
            gauge.add_metric(list(key), running.count(key))
        yield gauge
        hist = core.HistogramMetricFamily(
            "cassandra_frames_request_latency_seconds",
            "Round trip of each request (a page read, a write or batch) of finished operations",
            labels=["operation"],
        )
        for op, h in sorted(latency.items()):
            buckets = [(str(b), float(h.count_below(b))) for b in LATENCY_BOUNDS]
            buckets.append(("+Inf", float(h.count)))
            hist.add_metric([op], buckets, sum_value=h.total_seconds())
        yield hist


_lock = threading.Lock()
_collector: _Collector | None = None


def metrics_collector() -> Any:
    """The process's collector (created and subscribed to the progress listeners on first use), to
    register in an application's own prometheus-client registry.

    Returns
    -------
    object
        A prometheus-client collector: ``prometheus_client.REGISTRY.register(cf.metrics_collector())``.

    Raises
    ------
    NotInstalledError
        prometheus-client is missing (``pip install 'cassandra-frames[metrics]'``).
    """
    global _collector
    _prometheus()
    with _lock:
        if _collector is None:
            _collector = _Collector()
            add_listener(_collector)
        return _collector


@dataclasses.dataclass
class MetricsServer:
    """A running metrics endpoint: ``url`` serves the Prometheus text format; :meth:`close` stops it."""

    url: str
    port: int
    server: Any = dataclasses.field(repr=False)
    thread: Any = dataclasses.field(repr=False)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_metrics(port: int = 0, addr: str = "127.0.0.1") -> MetricsServer:
    """Serve this process's metrics over HTTP for Prometheus to scrape.

    Parameters
    ----------
    port : int
        TCP port; ``0`` picks a free one (see ``.port`` / ``.url``).
    addr : str
        Address to listen on (loopback by default; ``"0.0.0.0"`` to be scraped from elsewhere).

    Returns
    -------
    MetricsServer
        ``.url`` (``http://127.0.0.1:PORT/metrics``), ``.close()``; also a context manager.

    Raises
    ------
    NotInstalledError
        prometheus-client is missing (``pip install 'cassandra-frames[metrics]'``).

    Examples
    --------
    >>> import cassandra_frames as cf
    >>> server = cf.serve_metrics()  # doctest: +SKIP
    >>> cf.export("ks.t", "out/")  # doctest: +SKIP
    >>> server.url  # doctest: +SKIP
    'http://127.0.0.1:40123/metrics'
    """
    prometheus = _prometheus()
    registry = prometheus.CollectorRegistry(auto_describe=True)
    registry.register(metrics_collector())
    server, thread = prometheus.start_http_server(port, addr=addr, registry=registry)
    bound = int(server.server_port)
    return MetricsServer(url=f"http://{addr}:{bound}/metrics", port=bound, server=server, thread=thread)

"""Where files live: the one way the package turns a URL into an fsspec filesystem and a path.

Every reader and writer of files (exports, loads, checkpoints, Iceberg data files, bad-row files) goes
through :func:`fs_for`, so a missing filesystem package is always reported the same way: a
:class:`~cassandra_frames.errors.NotInstalledError` naming the pip extra that installs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cassandra_frames.errors import NotInstalledError

__all__ = ["OBJECT_STORES", "fs_for", "is_local", "is_object_store"]

OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss"})
_EXTRAS = {"s3": ("s3fs", "s3"), "s3a": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "gcs": ("gcsfs", "gcs")}
_EXTRAS |= {"az": ("adlfs", "azure"), "abfs": ("adlfs", "azure"), "abfss": ("adlfs", "azure")}


def fs_for(url: str, storage_options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path on it.

    Raises
    ------
    NotInstalledError
        The filesystem's package is missing (named with the extra that installs it).
    """
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    except ImportError as exc:
        protocol = url.partition("://")[0] if "://" in url else "file"
        module, extra = _EXTRAS.get(protocol, (protocol, "all"))
        raise NotInstalledError(module, extra) from exc
    return fs, path


def _protocols(fs: Any) -> set[str]:
    return set(fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def is_object_store(fs: Any) -> bool:
    """Whether ``fs`` is an object store (an object appears only when its upload completes)."""
    return bool(_protocols(fs) & OBJECT_STORES)


def is_local(fs: Any) -> bool:
    """Whether ``fs`` is the local disk."""
    return bool(_protocols(fs) & {"file", "local"})

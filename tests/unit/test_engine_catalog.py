"""The engine's catalog and connection registries against stand-in driver objects: size estimates that fail
on a node are said, not swallowed; prepared statements are cached per live session (not per ``id()``, which a
new session may inherit); every registry is emptied in a forked child."""

from __future__ import annotations

import gc
import logging
import os
from types import SimpleNamespace
from typing import Any

import pytest

from cassandra_frames.engine import catalog, connections
from cassandra_frames.errors import CassandraFramesError


class FakeCluster:
    def __init__(self, hosts: list[Any]) -> None:
        self.metadata = SimpleNamespace(all_hosts=lambda: hosts)
        default = SimpleNamespace(request_timeout=9.0, load_balancing_policy=None, retry_policy=None)
        self.profile_manager = SimpleNamespace(default=default, profiles={})

    def add_execution_profile(self, name: str, profile: Any) -> None:
        self.profile_manager.profiles[name] = profile


class FakeSession:
    def __init__(self, hosts: list[Any] = (), fail_on: str = "") -> None:  # type: ignore[assignment]
        self.cluster = FakeCluster(list(hosts))
        self.fail_on = fail_on
        self.prepared: list[str] = []

    def execute_async(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("not sent in these tests")

    def prepare(self, text: str) -> Any:
        self.prepared.append(text)
        return SimpleNamespace(text=text, session=id(self))

    def execute(self, stmt: Any, params: Any, host: Any, timeout: float, execution_profile: Any) -> Any:
        if host.address == self.fail_on:
            raise OSError("connection reset")
        return [(100, 3), (None, 5)]  # mean_partition_size × partitions_count per local range


def test_size_estimate_sums_live_nodes_and_names_the_one_that_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    up = {"10.0.0.1": True, "10.0.0.2": True, "10.0.0.3": False}
    hosts = [SimpleNamespace(address=a, is_up=is_up) for a, is_up in up.items()]
    session = FakeSession(hosts, fail_on="10.0.0.2")
    with caplog.at_level(logging.WARNING, logger="cassandra_frames"):
        assert (
            catalog.size_estimate(session, "ks", "t") == 300.0
        )  # node 1 only: node 3 is down, node 2 failed
    (record,) = caplog.records
    assert "ks.t" in record.getMessage()
    assert "10.0.0.2" in record.getMessage()
    assert "OSError: connection reset" in record.getMessage()


def test_prepared_statements_are_cached_per_live_session() -> None:
    a = FakeSession()
    first = catalog.prepare(a, "SELECT 1")
    assert catalog.prepare(a, "SELECT 1") is first
    assert a.prepared == ["SELECT 1"]
    b = FakeSession()
    assert catalog.prepare(b, "SELECT 1") is not first
    assert b.prepared == ["SELECT 1"]
    del a
    gc.collect()
    # a's statements went with it: a new session at a's address is never handed a's statement
    assert all(s is not first for stmts in catalog._prepared.values() for s in stmts.values())
    for _ in range(50):  # sessions made right after a dies often reuse its id(); each prepares for itself
        c = FakeSession()
        catalog.prepare(c, "SELECT 1")
        assert c.prepared == ["SELECT 1"]


def test_session_refs_never_reuse_a_key() -> None:
    a = FakeSession()
    ref_a, got = connections.resolve_connection(a)
    assert got is a
    assert connections.resolve_connection(a)[0] == ref_a  # the same session, the same reference
    ref_b, _ = connections.resolve_connection(FakeSession())
    assert ref_b.key != ref_a.key
    assert ref_a.session() is a


def test_registries_are_empty_in_a_forked_child() -> None:
    session = FakeSession()
    ref, _ = connections.resolve_connection(session)
    catalog.prepare(session, "SELECT 2")
    assert catalog._prepared
    assert connections._registered
    pid = os.fork()
    if pid == 0:  # the child: nothing of the parent's sessions may be used here
        code = 0
        try:
            if catalog._prepared or connections._registered or connections._keys or connections._own:
                code = 3
            try:
                ref.session()
                code = 4
            except CassandraFramesError:
                pass
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert ref.session() is session  # the parent keeps its own

"""The launcher against real Cassandra 5 processes it starts itself, each on its own loopback address.

These nodes are separate from the session node used by the other integration tests (127.0.0.1), so
stopping them never disturbs it.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from cassandra_frames import local
from cassandra_frames.cli import main
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.engine.session import connect
from cassandra_frames.errors import ConnectionError, LocalClusterError

pytestmark = pytest.mark.cluster


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def test_single_node_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "single"
    cluster = local.start(d, address="127.0.0.41")
    try:
        [node] = local.status(d)
        assert node.up
        assert node.address == "127.0.0.41"
        assert node.pid
        pid = node.pid

        # CQL round trip: keyspace, table, insert, select
        session = connect(cluster.connection_config())
        ks = f"launcher_{uuid.uuid4().hex[:8]}"
        session.execute(
            f"CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
        )
        session.execute(f"CREATE TABLE {ks}.t (k int PRIMARY KEY, v text)")
        insert = session.prepare(f"INSERT INTO {ks}.t (k, v) VALUES (?, ?)")
        for k in range(50):
            session.execute(insert, (k, f"v{k}"))
        rows = {r.k: r.v for r in session.execute(f"SELECT k, v FROM {ks}.t")}
        assert rows == {k: f"v{k}" for k in range(50)}
        assert session.execute("SELECT release_version FROM system.local").one()[0].startswith("5.0.")
        session.cluster.shutdown()

        # idempotent: a second start finds the same process
        again = local.start(d, address="127.0.0.41")
        assert again == cluster
        assert local.status(d)[0].pid == pid

        # the CLI reports it
        assert main(["local", "status", "--dir", str(d)]) == 0
        assert "127.0.0.41:9042  UP" in capsys.readouterr().out
    finally:
        stopped = local.stop(d)

    # stop leaves no process and frees the port
    assert stopped == [pid]
    assert not _alive(pid)
    assert not _port_open("127.0.0.41", 9042)
    assert [s.up for s in local.status(d)] == [False]
    assert main(["local", "status", "--dir", str(d)]) == 3

    # a restart finds the data written before the stop
    local.start(d, address="127.0.0.41")
    try:
        session = connect(cluster.connection_config())
        assert session.execute(f"SELECT count(*) FROM {ks}.t").one()[0] == 50
        session.cluster.shutdown()
    finally:
        local.stop(d, clean=True)
    assert not d.exists()


def test_three_node_vnode_ring(tmp_path: Path) -> None:
    d = tmp_path / "ring"
    cluster = local.start(d, nodes=3, num_tokens=16, address="127.0.0.21")
    try:
        assert cluster.contact_points == ["127.0.0.21:9042", "127.0.0.22:9042", "127.0.0.23:9042"]
        assert [s.up for s in local.status(d)] == [True, True, True]
        for addr in cluster.addresses:  # each node sees the two others with 16 tokens each
            from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
            from cassandra.policies import WhiteListRoundRobinPolicy

            profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([addr]))
            c = Cluster([addr], execution_profiles={EXEC_PROFILE_DEFAULT: profile})
            s = c.connect()
            local_tokens = s.execute("SELECT tokens FROM system.local").one().tokens
            peers = {r.peer: r.tokens for r in s.execute("SELECT peer, tokens FROM system.peers_v2")}
            c.shutdown()
            assert len(local_tokens) == 16
            assert set(peers) == set(cluster.addresses) - {addr}
            assert all(len(t) == 16 for t in peers.values())
        session = connect(cluster.connection_config())
        assert len(session.cluster.metadata.token_map.ring) == 48
        session.cluster.shutdown()
    finally:
        stopped = local.stop(d, clean=True)
    assert len(stopped) == 3
    assert not any(_alive(p) for p in stopped)


def test_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "auth"
    cluster = local.start(d, auth=True, address="127.0.0.31")
    try:
        monkeypatch.setenv("CF_TEST_PW", "not-the-password")
        wrong = ConnectionConfig(("127.0.0.31",), username="cassandra", password_env="CF_TEST_PW")
        with pytest.raises(ConnectionError, match=r"authentication failed.*\$CF_TEST_PW"):
            connect(wrong)

        with pytest.raises(ConnectionError, match="requires a login"):
            connect(ConnectionConfig(("127.0.0.31",)))

        monkeypatch.setenv("CASSANDRA_PASSWORD", "cassandra")
        session = connect(cluster.connection_config())
        assert session.execute("SELECT role FROM system_auth.roles WHERE role = 'cassandra'").one()
        session.cluster.shutdown()
    finally:
        local.stop(d, clean=True)


def test_tls(tmp_path: Path) -> None:
    d = tmp_path / "tls"
    cluster = local.start(d, tls=True, address="127.0.0.32")
    try:
        assert cluster.cert_path is not None
        assert cluster.cert_path.exists()
        with pytest.raises(ConnectionError, match="may require TLS"):
            connect(ConnectionConfig(("127.0.0.32",)))

        session = connect(cluster.connection_config())  # verifies the certificate and its IP name
        assert session.execute("SELECT release_version FROM system.local").one()
        session.cluster.shutdown()
    finally:
        local.stop(d, clean=True)


def test_port_taken_by_a_stranger_is_reported(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.42", 9042))
        s.listen()
        with pytest.raises(LocalClusterError, match=r"127\.0\.0\.42:9042 is already taken"):
            local.start(tmp_path / "taken", address="127.0.0.42")
    assert os.path.exists(tmp_path / "taken" / "cluster.json")
    assert local.status(tmp_path / "taken")[0].up is False

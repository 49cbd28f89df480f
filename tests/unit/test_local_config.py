"""The launcher's pure parts: addresses, tokens, cassandra.yaml, JVM command, tool checks, cache."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cassandra_frames import local
from cassandra_frames.errors import LocalClusterError


def _cluster(tmp_path: Path, **kw: object) -> local.LocalCluster:
    args: dict[str, object] = dict(directory=tmp_path, version="5.0.9", addresses=("127.0.0.1",))
    args.update(kw)
    return local.LocalCluster(**args)  # type: ignore[arg-type]


def test_addresses_are_consecutive_loopback() -> None:
    assert local._addresses("127.0.0.21", 3) == ("127.0.0.21", "127.0.0.22", "127.0.0.23")
    with pytest.raises(LocalClusterError, match="not a loopback"):
        local._addresses("10.0.0.1", 1)
    with pytest.raises(LocalClusterError, match="not an IPv4"):
        local._addresses("localhost", 1)


def test_initial_tokens_balanced() -> None:
    assert local._initial_tokens(1) == [0]
    assert local._initial_tokens(3) == [-9223372036854775808, -3074457345618258603, 3074457345618258602]


def test_single_node_yaml(tmp_path: Path) -> None:
    conf = yaml.safe_load(local._cassandra_yaml(_cluster(tmp_path), 1))
    assert conf["num_tokens"] == 1
    assert conf["initial_token"] == "0"
    assert conf["listen_address"] == conf["rpc_address"] == "127.0.0.1"
    assert conf["native_transport_port"] == 9042
    assert conf["data_file_directories"] == [str(tmp_path / "node1" / "data")]
    assert conf["seed_provider"][0]["parameters"][0]["seeds"] == "127.0.0.1:7000"
    assert "authenticator" not in conf
    assert "client_encryption_options" not in conf


def test_ring_yaml_vnodes_auth_tls(tmp_path: Path) -> None:
    c = _cluster(
        tmp_path, addresses=("127.0.0.21", "127.0.0.22", "127.0.0.23"), num_tokens=16, auth=True, tls=True
    )
    conf = yaml.safe_load(local._cassandra_yaml(c, 2))
    assert conf["listen_address"] == "127.0.0.22"
    assert conf["num_tokens"] == 16
    assert "initial_token" not in conf
    assert conf["seed_provider"][0]["parameters"][0]["seeds"] == "127.0.0.21:7000"
    assert conf["authenticator"] == "PasswordAuthenticator"
    tls = conf["client_encryption_options"]
    assert tls["enabled"] is True
    assert tls["optional"] is False
    assert tls["keystore"] == str(tmp_path / "tls" / "keystore.jks")


def test_jvm_command_has_java17_flags_and_per_node_paths(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "jamm-0.4.0.jar").write_text("")
    c = _cluster(tmp_path, addresses=("127.0.0.5",), heap_mb=768)
    cmd = local._jvm_command("/usr/bin/java", lib, c, 1)
    assert cmd[-1] == "org.apache.cassandra.service.CassandraDaemon"
    assert "-Xmx768m" in cmd
    assert "java.base/java.io=ALL-UNNAMED" in cmd
    assert f"-javaagent:{lib / 'jamm-0.4.0.jar'}" in cmd
    assert "-Dcassandra.jmx.local.port=7205" in cmd
    assert f"-Dcassandra.config=file://{tmp_path / 'node1' / 'conf' / 'cassandra.yaml'}" in cmd


def test_missing_java_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(LocalClusterError) as err:
        local._java()
    assert str(err.value).startswith("'java' was not found on PATH: install OpenJDK 17")
    assert "\n" not in str(err.value)


def test_missing_maven_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CASSANDRA_FRAMES_CACHE", str(tmp_path))
    with pytest.raises(LocalClusterError, match=r"^'mvn' was not found on PATH: install Apache Maven"):
        local.ensure_jars("5.0.9")


def test_cache_reuses_newest_complete_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CASSANDRA_FRAMES_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")  # proves no Maven run is needed
    for v, complete in (("5.0.8", True), ("5.0.10", True), ("5.0.11", False)):
        (tmp_path / v / "lib").mkdir(parents=True)
        if complete:
            (tmp_path / v / ".complete").write_text(v)
    assert local.ensure_jars() == ("5.0.10", tmp_path / "5.0.10" / "lib")
    assert local.ensure_jars("5.0.8") == ("5.0.8", tmp_path / "5.0.8" / "lib")


def test_state_round_trips(tmp_path: Path) -> None:
    c = _cluster(tmp_path, addresses=("127.0.0.2", "127.0.0.3"), num_tokens=16, tls=True)
    assert local.LocalCluster.from_json(c.to_json()) == c
    assert c.contact_points == ["127.0.0.2:9042", "127.0.0.3:9042"]
    cfg = c.connection_config()
    assert cfg.tls
    assert cfg.tls_ca_file == str(tmp_path / "tls" / "node-cert.pem")


def test_stop_never_touches_a_process_that_is_not_ours(tmp_path: Path) -> None:
    import os

    c = _cluster(tmp_path)
    (tmp_path / "node1").mkdir(parents=True)
    (tmp_path / "node1" / "cassandra.pid").write_text(f"{os.getpid()}\n")  # a live pid, but not a node
    (tmp_path / "cluster.json").write_text(__import__("json").dumps(c.to_json()))
    assert local._our_pid(c, 1) is None
    assert local.stop(tmp_path) == []
    assert [s.up for s in local.status(tmp_path)] == [False]


def test_different_cluster_in_same_dir_is_refused(tmp_path: Path) -> None:
    c = _cluster(tmp_path)
    (tmp_path / "cluster.json").write_text(__import__("json").dumps(c.to_json()))
    with pytest.raises(LocalClusterError, match=r"num_tokens: 1 → 16.*--clean"):
        local.start(tmp_path, num_tokens=16)

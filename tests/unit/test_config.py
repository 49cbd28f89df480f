from __future__ import annotations

import pickle

import pytest

from cassandra_frames.config import ConnectionConfig, parse_contact_points
from cassandra_frames.errors import CassandraFramesError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", []),
        ("127.0.0.1", [("127.0.0.1", 9042)]),
        ("127.0.0.1:9043, 127.0.0.2", [("127.0.0.1", 9043), ("127.0.0.2", 9042)]),
        ("[::1]:9999,[::1]", [("::1", 9999), ("::1", 9042)]),
        ("cass.example:9142,", [("cass.example", 9142)]),
    ],
)
def test_parse_contact_points(raw: str, expected: list[tuple[str, int]]) -> None:
    assert parse_contact_points(raw) == expected


def test_parse_contact_points_bad_port_names_the_entry() -> None:
    with pytest.raises(CassandraFramesError, match="'host:nine'"):
        parse_contact_points("host:nine")


def test_from_env_reads_variables_and_keeps_no_secret() -> None:
    env = {
        "CASSANDRA_CONTACT_POINTS": "10.0.0.1:9043,10.0.0.2",
        "CASSANDRA_USERNAME": "alice",
        "CASSANDRA_PASSWORD": "s3cret",
        "CASSANDRA_LOCAL_DC": "dc1",
        "CASSANDRA_SSL_CA": "/etc/ca.pem",
    }
    cfg = ConnectionConfig.from_env(env)
    assert cfg.endpoints() == [("10.0.0.1", 9043), ("10.0.0.2", 9042)]
    assert cfg.username == "alice"
    assert cfg.password_env == "CASSANDRA_PASSWORD"
    assert cfg.local_dc == "dc1"
    assert cfg.tls
    assert cfg.tls_ca_file == "/etc/ca.pem"
    assert "s3cret" not in repr(cfg)
    assert b"s3cret" not in pickle.dumps(cfg)


def test_default_is_the_local_node() -> None:
    cfg = ConnectionConfig.from_env({})
    assert cfg.endpoints() == [("127.0.0.1", 9042)]
    assert cfg.describe() == "127.0.0.1:9042"


def test_config_is_hashable_and_pickles_equal() -> None:
    cfg = ConnectionConfig(contact_points=("a", "b:1"), local_dc="dc1")
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert {cfg: 1}[ConnectionConfig(contact_points=["a", "b:1"], local_dc="dc1")] == 1  # type: ignore[arg-type]


def test_password_read_from_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = ConnectionConfig(username="bob", password_env="MY_PW")
    monkeypatch.delenv("MY_PW", raising=False)
    with pytest.raises(CassandraFramesError, match=r"\$MY_PW is not set"):
        cfg.password()
    monkeypatch.setenv("MY_PW", "pw")
    assert cfg.password() == "pw"


def test_username_without_password_variable_is_refused() -> None:
    with pytest.raises(CassandraFramesError, match="password_env"):
        ConnectionConfig(username="bob")

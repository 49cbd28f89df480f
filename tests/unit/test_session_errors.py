"""Connection errors become one clear message (driver errors are built by hand; no server here)."""

from __future__ import annotations

from cassandra import AuthenticationFailed

from cassandra_frames.config import ConnectionConfig
from cassandra_frames.engine.session import _explain


def test_refused_connection_lists_contact_points_and_what_to_do() -> None:
    cfg = ConnectionConfig(contact_points=("127.0.0.9:9042", "127.0.0.10"))
    msg = _explain(cfg, {"127.0.0.9:9042": ConnectionRefusedError(111, "refused")})
    assert "127.0.0.9:9042, 127.0.0.10:9042" in msg
    assert "cassandra-frames local start" in msg


def test_bad_credentials_names_user_and_variable() -> None:
    cfg = ConnectionConfig(username="cassandra", password_env="PW")
    msg = _explain(cfg, {"127.0.0.1:9042": AuthenticationFailed("Bad credentials")})
    assert msg.startswith("authentication failed for user 'cassandra'")
    assert "$PW" in msg


def test_reset_without_tls_suggests_tls() -> None:
    msg = _explain(ConnectionConfig(), {"127.0.0.1:9042": ConnectionResetError(104, "reset")})
    assert "may require TLS" in msg


def test_no_credentials_against_auth_cluster_asks_for_a_login() -> None:
    msg = _explain(
        ConnectionConfig(), {"127.0.0.1:9042": AuthenticationFailed("Remote end requires authentication")}
    )
    assert "requires a login" in msg
    assert "password_env" in msg

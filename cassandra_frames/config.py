"""Connection settings: a frozen, picklable :class:`ConnectionConfig` that travels to Dask workers.

No I/O happens here. Secrets never live in the object: a password is named by the environment variable that
holds it (``password_env``), read only on the process that opens the connection, so task graphs, reprs and
logs never carry it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from cassandra_frames.errors import CassandraFramesError

__all__ = [
    "CONSISTENCY_LEVELS",
    "DEFAULT_PORT",
    "ConnectionConfig",
    "check_consistency",
    "parse_contact_points",
]

DEFAULT_PORT = 9042

CONSISTENCY_LEVELS = (
    "ANY",
    "ONE",
    "TWO",
    "THREE",
    "QUORUM",
    "ALL",
    "LOCAL_QUORUM",
    "EACH_QUORUM",
    "SERIAL",
    "LOCAL_SERIAL",
    "LOCAL_ONE",
)
"""The consistency levels of the native protocol, by name."""


def check_consistency(level: str) -> str:
    """``level`` upper-cased, if it names a consistency level.

    Raises
    ------
    CassandraFramesError
        It does not; the message lists the levels.
    """
    if not isinstance(level, str) or level.upper() not in CONSISTENCY_LEVELS:
        raise CassandraFramesError(
            f"consistency {level!r} is not a consistency level; use one of {sorted(CONSISTENCY_LEVELS)}"
        )
    return level.upper()


def parse_contact_points(value: str | None = None, default_port: int = DEFAULT_PORT) -> list[tuple[str, int]]:
    """Parse ``host[:port],…`` (default: ``$CASSANDRA_CONTACT_POINTS``) into ``(host, port)`` pairs.

    Parameters
    ----------
    value : str, optional
        Comma-separated contact points; IPv6 addresses go in brackets (``[::1]:9042``).
    default_port : int
        Port of entries that name none.

    Returns
    -------
    list of (host, port)
        Empty when ``value`` (or the variable) is empty.

    Raises
    ------
    CassandraFramesError
        When an entry's port is not a number.
    """
    raw = value if value is not None else os.environ.get("CASSANDRA_CONTACT_POINTS", "")
    out: list[tuple[str, int]] = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        host, port = item, ""
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.removeprefix(":")
        elif item.count(":") == 1:
            host, port = item.split(":")
        try:
            out.append((host, int(port) if port else default_port))
        except ValueError as exc:
            raise CassandraFramesError(
                f"contact point {item!r} is not host[:port] (e.g. 127.0.0.1:9042)"
            ) from exc
    return out


@dataclasses.dataclass(frozen=True)
class ConnectionConfig:
    """How to reach a Cassandra cluster; hashable, picklable, free of secrets.

    Parameters
    ----------
    contact_points : tuple of str
        ``host`` or ``host:port`` entries; default ``$CASSANDRA_CONTACT_POINTS`` or ``127.0.0.1``.
    port : int
        Port of contact points that name none.
    local_dc : str, optional
        Data centre to prefer (DC-aware, token-aware routing).
    username : str, optional
        Login for PasswordAuthenticator.
    password_env : str, optional
        Name of the environment variable holding the password (read where the connection opens).
    tls : bool
        Connect with TLS.
    tls_ca_file : str, optional
        PEM file of the certificate authority (or self-signed certificate) to trust.
    tls_cert_file, tls_key_file : str, optional
        Client certificate and key, for clusters that require client authentication.
    tls_check_hostname : bool
        Check that the server certificate names the host connected to.
    cloud_bundle : str, optional
        Path of an Astra secure-connect bundle (replaces contact points and TLS settings).
    connect_timeout : float
        Seconds to open a connection.
    request_timeout : float
        Seconds a single request may take before the driver gives up.
    protocol_version : int, optional
        Native protocol version; default: negotiated.
    """

    contact_points: tuple[str, ...] = ()
    port: int = DEFAULT_PORT
    local_dc: str | None = None
    username: str | None = None
    password_env: str | None = None
    tls: bool = False
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_check_hostname: bool = True
    cloud_bundle: str | None = None
    connect_timeout: float = 10.0
    request_timeout: float = 30.0
    protocol_version: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.contact_points, str):
            object.__setattr__(self, "contact_points", (self.contact_points,))
        else:
            object.__setattr__(self, "contact_points", tuple(self.contact_points))
        if self.username and not self.password_env:
            raise CassandraFramesError(
                f"username {self.username!r} given without password_env: name the environment "
                "variable that holds the password (e.g. password_env='CASSANDRA_PASSWORD')"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ConnectionConfig:
        """A config from ``CASSANDRA_*`` variables, falling back to the local node on 127.0.0.1.

        Reads ``CASSANDRA_CONTACT_POINTS``, ``CASSANDRA_LOCAL_DC``, ``CASSANDRA_USERNAME`` (the password
        then comes from ``CASSANDRA_PASSWORD``), ``CASSANDRA_SSL_CA`` (turns TLS on) and
        ``CASSANDRA_CLOUD_BUNDLE``.
        """
        env = os.environ if environ is None else environ
        points = env.get("CASSANDRA_CONTACT_POINTS", "")
        ca = env.get("CASSANDRA_SSL_CA") or None
        return cls(
            contact_points=tuple(p.strip() for p in points.split(",") if p.strip()),
            local_dc=env.get("CASSANDRA_LOCAL_DC") or None,
            username=env.get("CASSANDRA_USERNAME") or None,
            password_env="CASSANDRA_PASSWORD" if env.get("CASSANDRA_USERNAME") else None,
            tls=ca is not None,
            tls_ca_file=ca,
            cloud_bundle=env.get("CASSANDRA_CLOUD_BUNDLE") or None,
        )

    def endpoints(self) -> list[tuple[str, int]]:
        """``(host, port)`` of every contact point (``127.0.0.1:port`` when none is configured)."""
        points = parse_contact_points(",".join(self.contact_points), self.port)
        return points or [("127.0.0.1", self.port)]

    def describe(self) -> str:
        """The contact points as ``host:port, …`` for messages."""
        if self.cloud_bundle:
            return f"cloud bundle {self.cloud_bundle}"
        return ", ".join(f"{h}:{p}" for h, p in self.endpoints())

    def password(self) -> str | None:
        """Read the password from ``password_env`` (on the process that connects).

        Raises
        ------
        CassandraFramesError
            When the variable is not set.
        """
        if not self.password_env:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise CassandraFramesError(
                f"the password variable ${self.password_env} is not set in this process; set it "
                "(on every Dask worker too) or pass another password_env"
            )
        return value

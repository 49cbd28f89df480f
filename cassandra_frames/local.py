"""A local Apache Cassandra 5 node (or a small ring) started from Maven Central jars, like ccm.

``cassandra-frames local start`` downloads ``org.apache.cassandra:cassandra-all`` and its runtime jars
once (``mvn dependency:copy-dependencies`` on a generated pom, cached under
``~/.cache/cassandra-frames/<version>``), writes ``cassandra.yaml`` and ``logback.xml`` for each node, starts
``CassandraDaemon`` on Java 17 with a small heap and waits until CQL answers. ``stop`` ends only the
processes it started (pid files, checked against the node's own command line), never by name.

Layout of a cluster directory (default ``./.cassandra``)::

    cluster.json            what was started: version, nodes, options (read by status/stop)
    node1/conf/             cassandra.yaml, logback.xml
    node1/data/ …           data, commitlog, hints, saved_caches
    node1/logs/             system.log, stdout.log
    node1/cassandra.pid
    tls/                    keystore.jks and node-cert.pem (with --tls)

It is a development tool beside the library, not part of its layers, and longer than the library's
modules because it is one cohesive job: fetching jars, writing each node's configuration, starting,
waiting for and stopping the processes share the cluster directory and its state file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cassandra_frames.config import ConnectionConfig
from cassandra_frames.engine.session import probe_node
from cassandra_frames.errors import LocalClusterError

__all__ = [
    "DEFAULT_DIR",
    "LocalCluster",
    "NodeStatus",
    "cache_root",
    "ensure_jars",
    "load",
    "start",
    "status",
    "stop",
]

DEFAULT_DIR = ".cassandra"
"""Cluster directory used when none is given (relative to the working directory)."""

VERSION_RANGE = "[5.0.0,5.1.0)"
"""Maven version range for "the newest 5.0 release"."""

SUPERUSER = ("cassandra", "cassandra")
"""Default superuser that PasswordAuthenticator creates."""

TLS_STORE_PASSWORD = "cassandra"
"""Password of the generated keystore; the keystore is a throwaway test certificate."""

_JVM_FLAGS = [
    "-Xss256k",
    "-XX:+UseG1GC",
    "-XX:+ParallelRefProcEnabled",
    "-XX:MaxTenuringThreshold=1",
    "-XX:G1HeapRegionSize=16m",
    "-XX:MaxGCPauseMillis=300",
    "-XX:+UseThreadPriorities",
    "-XX:+HeapDumpOnOutOfMemoryError",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:+UseTLAB",
    "-XX:+ResizeTLAB",
    "-XX:+PerfDisableSharedMem",
    "-XX:+AlwaysPreTouch",
    "-Djava.net.preferIPv4Stack=true",
    "-Dchronicle.analytics.disable=true",
    "-Djdk.attach.allowAttachSelf=true",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
    "-Dcassandra-foreground=yes",
    "-Dcassandra.skip_wait_for_gossip_to_settle=0",
    "-Dcassandra.superuser_setup_delay_ms=0",
    "-Dcassandra.unsafesystem=true",
]
_JDK17_EXPORTS = [
    "java.base/jdk.internal.misc",
    "java.management.rmi/com.sun.jmx.remote.internal.rmi",
    "java.management/com.sun.jmx.remote.security",
    "java.rmi/sun.rmi.registry",
    "java.rmi/sun.rmi.server",
    "java.sql/java.sql",
    "java.base/java.lang.ref",
    "jdk.unsupported/sun.misc",
]
_JDK17_OPENS = [
    "java.base/java.lang.module",
    "java.base/jdk.internal.loader",
    "java.base/jdk.internal.ref",
    "java.base/jdk.internal.reflect",
    "java.base/jdk.internal.math",
    "java.base/jdk.internal.module",
    "java.base/jdk.internal.util.jar",
    "java.base/sun.nio.ch",
    "java.base/java.io",
    "java.base/java.lang.reflect",
    "java.base/java.lang",
    "java.base/java.util",
    "java.base/java.nio",
    "jdk.management/com.sun.management.internal",
]

_LOGBACK_XML = """<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>${cassandra.logdir}/system.log</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy">
      <fileNamePattern>${cassandra.logdir}/system.log.%d{yyyy-MM-dd}.%i.zip</fileNamePattern>
      <maxFileSize>20MB</maxFileSize>
      <maxHistory>3</maxHistory>
      <totalSizeCap>100MB</totalSizeCap>
    </rollingPolicy>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
  <logger name="org.apache.cassandra" level="INFO"/>
</configuration>
"""


# --------------------------------------------------------------------------------------------- model


@dataclasses.dataclass(frozen=True)
class NodeStatus:
    """One node of a local cluster as ``status`` sees it."""

    name: str
    address: str
    port: int
    pid: int | None
    up: bool

    def __str__(self) -> str:
        state = "UP" if self.up else "DOWN"
        pid = f"pid {self.pid}" if self.pid else "not running"
        return f"{self.name}  {self.address}:{self.port}  {state}  ({pid})"


@dataclasses.dataclass(frozen=True)
class LocalCluster:
    """What ``start`` started: enough to connect to it and to stop it.

    Attributes
    ----------
    directory : Path
        The cluster directory (``cluster.json``, one sub-directory per node).
    version : str
        Cassandra version, e.g. ``"5.0.9"``.
    addresses : tuple of str
        Node addresses, the seed first.
    port : int
        CQL (native transport) port of every node.
    num_tokens : int
        Tokens per node (1, or e.g. 16 for vnodes).
    auth : bool
        Whether PasswordAuthenticator is on (superuser ``cassandra``/``cassandra``).
    tls : bool
        Whether client-to-node TLS is on (self-signed certificate in ``tls/node-cert.pem``).
    heap_mb : int
        Java heap per node.
    """

    directory: Path
    version: str
    addresses: tuple[str, ...]
    port: int = 9042
    num_tokens: int = 1
    auth: bool = False
    tls: bool = False
    heap_mb: int = 1024

    @property
    def contact_points(self) -> list[str]:
        """``host:port`` of every node, as ``CASSANDRA_CONTACT_POINTS`` takes them."""
        return [f"{a}:{self.port}" for a in self.addresses]

    @property
    def cert_path(self) -> Path | None:
        """PEM certificate clients trust to connect with TLS (``None`` without ``--tls``)."""
        return self.directory / "tls" / "node-cert.pem" if self.tls else None

    def ssl_context(self) -> ssl.SSLContext | None:
        """An SSL context that trusts this cluster's self-signed certificate (``None`` without TLS)."""
        if not self.tls or self.cert_path is None:
            return None
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.cert_path))
        ctx.check_hostname = False  # the certificate names every node's IP; the driver passes none
        return ctx

    def connection_config(self, password_env: str = "CASSANDRA_PASSWORD") -> ConnectionConfig:
        """A :class:`ConnectionConfig` for this cluster.

        With auth on, the login is the superuser ``cassandra`` and its password is read from the
        environment variable ``password_env`` (set it to ``cassandra``) where the connection opens.
        """
        return ConnectionConfig(
            contact_points=tuple(self.contact_points),
            username=SUPERUSER[0] if self.auth else None,
            password_env=password_env if self.auth else None,
            tls=self.tls,
            tls_ca_file=str(self.cert_path) if self.tls else None,
        )

    def node_dir(self, index: int) -> Path:
        """Directory of node ``index`` (1-based)."""
        return self.directory / f"node{index}"

    def to_json(self) -> dict[str, Any]:
        """State written to ``cluster.json``."""
        d = dataclasses.asdict(self)
        d["directory"] = str(self.directory)
        d["addresses"] = list(self.addresses)
        return d

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LocalCluster:
        """Inverse of :meth:`to_json`."""
        return cls(
            directory=Path(data["directory"]),
            version=str(data["version"]),
            addresses=tuple(data["addresses"]),
            port=int(data["port"]),
            num_tokens=int(data["num_tokens"]),
            auth=bool(data["auth"]),
            tls=bool(data["tls"]),
            heap_mb=int(data["heap_mb"]),
        )


# ------------------------------------------------------------------------------------------ tooling


def _which(tool: str, what: str) -> str:
    """Path of ``tool`` (``$JAVA_HOME/bin`` first for java) or a one-line error naming what to install."""
    if tool == "java" and os.environ.get("JAVA_HOME"):
        candidate = Path(os.environ["JAVA_HOME"]) / "bin" / "java"
        if candidate.exists():
            return str(candidate)
    found = shutil.which(tool)
    if not found:
        raise LocalClusterError(f"'{tool}' was not found on PATH: install {what}")
    return found


def _java() -> str:
    java = _which("java", "OpenJDK 17 (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(m.group(1)) if m else 0
    if major == 1 and m and m.group(2):
        major = int(m.group(2))
    if major not in (11, 17):
        raise LocalClusterError(
            f"Cassandra 5.0 runs on Java 11 or 17, but {java} is Java {major or '?'}: "
            "install OpenJDK 17 and put it first on PATH (or set JAVA_HOME)"
        )
    return java


def cache_root() -> Path:
    """Where downloaded Cassandra jars live: ``$CASSANDRA_FRAMES_CACHE`` or ``~/.cache/cassandra-frames``."""
    env = os.environ.get("CASSANDRA_FRAMES_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "cassandra-frames"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def _cached_versions(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    found = [p.parent.name for p in root.glob("5.0.*/lib") if (p.parent / ".complete").exists()]
    return sorted(found, key=_version_key)


_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>cassandra-frames.local</groupId>
  <artifactId>cassandra-node</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"""


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_jars(version: str | None = None, *, refresh: bool = False) -> tuple[str, Path]:
    """Make sure Cassandra's jars are in the cache; download them with Maven if not.

    Parameters
    ----------
    version : str, optional
        An exact 5.0.x version. ``None`` reuses the newest cached 5.0 release, or downloads the newest
        5.0 release that Maven resolves when nothing is cached.
    refresh : bool
        With ``version=None``: ask Maven for the newest 5.0 release even when one is cached.

    Returns
    -------
    (version, lib_dir)
        The version and the directory holding ``cassandra-all-<version>.jar`` and its runtime jars.
    """
    root = cache_root()
    with _file_lock(root / ".lock"):
        if version is None and not refresh:
            cached = _cached_versions(root)
            if cached:
                return cached[-1], root / cached[-1] / "lib"
        elif version is not None and (root / version / ".complete").exists():
            return version, root / version / "lib"
        mvn = _which("mvn", "Apache Maven 3 (Debian/Ubuntu: apt-get install maven)")
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
        try:
            (staging / "pom.xml").write_text(_POM.format(version=version or VERSION_RANGE))
            cmd = [
                mvn,
                "-B",
                "-q",
                "-f",
                str(staging / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={staging / 'lib'}",
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
                wanted = version or f"the newest 5.0 release {VERSION_RANGE}"
                raise LocalClusterError(
                    f"Maven could not download org.apache.cassandra:cassandra-all {wanted} "
                    f"(is Maven Central reachable?):\n{tail}"
                )
            jars = sorted((staging / "lib").glob("cassandra-all-*.jar"))
            if not jars:
                raise LocalClusterError(f"Maven finished but no cassandra-all jar is in {staging}")
            resolved = jars[0].name[len("cassandra-all-") : -len(".jar")]
            target = root / resolved
            if (target / ".complete").exists():
                return resolved, target / "lib"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            (staging / "lib").rename(target / "lib")
            (target / ".complete").write_text(resolved + "\n")
            return resolved, target / "lib"
        finally:
            shutil.rmtree(staging, ignore_errors=True)


# -------------------------------------------------------------------------------------- configuration


def _addresses(base: str, nodes: int) -> tuple[str, ...]:
    try:
        first = ipaddress.IPv4Address(base)
    except ValueError as exc:
        raise LocalClusterError(f"--address {base!r} is not an IPv4 address") from exc
    if not first.is_loopback:
        raise LocalClusterError(f"--address {base} is not a loopback address (127.0.0.0/8)")
    addrs = tuple(str(first + i) for i in range(nodes))
    if not ipaddress.IPv4Address(addrs[-1]).is_loopback:
        raise LocalClusterError(f"{nodes} nodes from {base} run past 127.255.255.255")
    return addrs


def _jmx_port(address: str) -> int:
    """A JMX port unique per loopback address (JMX listens on 127.0.0.1 whatever the node's address)."""
    return 7200 + int(address.rsplit(".", 1)[1])


def _initial_tokens(nodes: int) -> list[int]:
    """Evenly spaced Murmur3 tokens, one per node: ``[0]`` for one node, else from the ring's minimum."""
    if nodes == 1:
        return [0]
    span = 2**64
    return [-(2**63) + (span * i) // nodes for i in range(nodes)]


def _yaml_value(value: Any) -> str:
    """A YAML scalar / flow value; JSON is valid YAML 1.2 flow syntax."""
    return json.dumps(value)


def _cassandra_yaml(cluster: LocalCluster, index: int) -> str:
    node = cluster.node_dir(index)
    address = cluster.addresses[index - 1]
    seed = f"{cluster.addresses[0]}:7000"
    conf: dict[str, Any] = {
        "cluster_name": "cassandra-frames",
        "partitioner": "org.apache.cassandra.dht.Murmur3Partitioner",
        "endpoint_snitch": "SimpleSnitch",
        "num_tokens": cluster.num_tokens,
        "listen_address": address,
        "rpc_address": address,
        "storage_port": 7000,
        "native_transport_port": cluster.port,
        "data_file_directories": [str(node / "data")],
        "commitlog_directory": str(node / "commitlog"),
        "hints_directory": str(node / "hints"),
        "saved_caches_directory": str(node / "saved_caches"),
        "cdc_raw_directory": str(node / "cdc_raw"),
        "commitlog_sync": "periodic",
        "commitlog_sync_period": "10000ms",
        "auto_snapshot": False,
        "auto_bootstrap": False,
        "block_for_peers_timeout_in_secs": -1,
        "storage_compatibility_mode": "NONE",
        "read_request_timeout": "10000ms",
        "range_request_timeout": "20000ms",
        "write_request_timeout": "5000ms",
        "request_timeout": "20000ms",
        "concurrent_compactors": 1,
        "sasi_indexes_enabled": True,
        "materialized_views_enabled": True,
    }
    if cluster.num_tokens == 1:
        conf["initial_token"] = str(_initial_tokens(len(cluster.addresses))[index - 1])
    if cluster.auth:
        conf["authenticator"] = "PasswordAuthenticator"
        conf["authorizer"] = "CassandraAuthorizer"
        conf["role_manager"] = "CassandraRoleManager"
    if cluster.tls:
        conf["client_encryption_options"] = {
            "enabled": True,
            "optional": False,
            "keystore": str(cluster.directory / "tls" / "keystore.jks"),
            "keystore_password": TLS_STORE_PASSWORD,
            "require_client_auth": False,
        }
    lines = [f"{k}: {_yaml_value(v)}" for k, v in conf.items()]
    lines.append(
        "seed_provider:\n"
        "  - class_name: org.apache.cassandra.locator.SimpleSeedProvider\n"
        f"    parameters:\n      - seeds: {_yaml_value(seed)}"
    )
    return "\n".join(lines) + "\n"


def _make_keystore(cluster: LocalCluster) -> None:
    tls = cluster.directory / "tls"
    keystore, cert = tls / "keystore.jks", tls / "node-cert.pem"
    if keystore.exists() and cert.exists():
        return
    tls.mkdir(parents=True, exist_ok=True)
    keytool = _which("keytool", "a JDK 17 (keytool ships with it)")
    san = ",".join(f"IP:{a}" for a in cluster.addresses) + ",DNS:localhost"
    for cmd in (
        [
            keytool, "-genkeypair", "-noprompt", "-alias", "node", "-keyalg", "RSA", "-keysize", "2048",
            "-validity", "3650", "-keystore", str(keystore), "-storetype", "JKS",
            "-storepass", TLS_STORE_PASSWORD, "-keypass", TLS_STORE_PASSWORD,
            "-dname", "CN=cassandra-frames-local", "-ext", f"SAN={san}",
        ],
        [
            keytool, "-exportcert", "-rfc", "-alias", "node", "-keystore", str(keystore),
            "-storepass", TLS_STORE_PASSWORD, "-file", str(cert),
        ],
    ):  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise LocalClusterError(f"keytool failed: {(proc.stdout + proc.stderr).strip()}")


def _jvm_command(java: str, lib: Path, cluster: LocalCluster, index: int) -> list[str]:
    node = cluster.node_dir(index)
    conf = node / "conf"
    cmd = [java, f"-Xms{cluster.heap_mb}m", f"-Xmx{cluster.heap_mb}m", *_JVM_FLAGS]
    for e in _JDK17_EXPORTS:
        cmd += ["--add-exports", f"{e}=ALL-UNNAMED"]
    for o in _JDK17_OPENS:
        cmd += ["--add-opens", f"{o}=ALL-UNNAMED"]
    jamm = sorted(lib.glob("jamm-*.jar"))
    if jamm:
        cmd.append(f"-javaagent:{jamm[-1]}")
    cmd += [
        f"-Dcassandra.config=file://{conf / 'cassandra.yaml'}",
        f"-Dlogback.configurationFile={conf / 'logback.xml'}",
        f"-Dcassandra.logdir={node / 'logs'}",
        f"-Dcassandra.storagedir={node}",
        f"-Dcassandra.triggers_dir={node / 'triggers'}",
        f"-Dcassandra.jmx.local.port={_jmx_port(cluster.addresses[index - 1])}",
        f"-Dcassandra.ring_delay_ms={1000 if len(cluster.addresses) == 1 else 5000}",
        "-cp",
        f"{conf}:{lib}/*",
        "org.apache.cassandra.service.CassandraDaemon",
    ]
    return cmd


# ------------------------------------------------------------------------------------------ processes


def _pid_file(cluster: LocalCluster, index: int) -> Path:
    return cluster.node_dir(index) / "cassandra.pid"


def _our_pid(cluster: LocalCluster, index: int) -> int | None:
    """The pid in the node's pid file if that process is alive and is this node's CassandraDaemon."""
    try:
        pid = int(_pid_file(cluster, index).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":  # a zombie is a dead node
        return None
    marker = str(cluster.node_dir(index) / "conf" / "cassandra.yaml")
    return pid if marker in cmdline else None


def _port_open(address: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def _cql_answers(cluster: LocalCluster, address: str, peers: int = 0) -> tuple[bool, str]:
    """Whether the node at ``address`` answers CQL (as the superuser when auth is on) and sees ``peers``
    other nodes; ``(ok, why_not)``."""
    login = SUPERUSER if cluster.auth else None
    return probe_node(address, cluster.port, login=login, ssl_context=cluster.ssl_context(), peers=peers)


def _log_tail(cluster: LocalCluster, index: int, lines: int = 25) -> str:
    chunks = []
    for name in ("system.log", "stdout.log"):
        path = cluster.node_dir(index) / "logs" / name
        if path.exists():
            text = path.read_text(errors="replace").splitlines()[-lines:]
            chunks.append(f"--- last lines of {path}:\n" + "\n".join(text))
    return "\n".join(chunks) or "(no log written)"


def _wait_ready(
    cluster: LocalCluster,
    index: int,
    proc: subprocess.Popen[bytes] | None,
    timeout: float,
    peers: int = 0,
) -> None:
    address = cluster.addresses[index - 1]
    deadline = time.monotonic() + timeout
    why = "CQL port not open yet"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LocalClusterError(
                f"Cassandra node{index} ({address}) exited with code {proc.returncode} while starting.\n"
                + _log_tail(cluster, index)
            )
        if _port_open(address, cluster.port):
            ok, why = _cql_answers(cluster, address, peers)
            if ok:
                return
        time.sleep(1.0)
    raise LocalClusterError(
        f"Cassandra node{index} did not answer CQL on {address}:{cluster.port} within {timeout:.0f} s "
        f"(last check: {why}). Raise --timeout, or read the log below.\n" + _log_tail(cluster, index)
    )


def _spawn(java: str, lib: Path, cluster: LocalCluster, index: int) -> subprocess.Popen[bytes]:
    node = cluster.node_dir(index)
    for sub in ("conf", "data", "commitlog", "hints", "saved_caches", "cdc_raw", "logs", "triggers"):
        (node / sub).mkdir(parents=True, exist_ok=True)
    (node / "conf" / "cassandra.yaml").write_text(_cassandra_yaml(cluster, index))
    (node / "conf" / "logback.xml").write_text(_LOGBACK_XML)
    env = dict(os.environ, MALLOC_ARENA_MAX="4")
    with (node / "logs" / "stdout.log").open("ab") as out:
        proc = subprocess.Popen(
            _jvm_command(java, lib, cluster, index),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=node,
            env=env,
            start_new_session=True,  # not killed with the shell (or pytest) that started it
        )
    _pid_file(cluster, index).write_text(f"{proc.pid}\n")
    return proc


# ---------------------------------------------------------------------------------------- public API


def _state_path(directory: Path) -> Path:
    return directory / "cluster.json"


def _load_state(directory: Path) -> LocalCluster | None:
    path = _state_path(directory)
    if not path.exists():
        return None
    try:
        return LocalCluster.from_json(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError) as exc:
        raise LocalClusterError(f"{path} is damaged ({exc}); remove {directory} to start afresh") from exc


def _resolve_dir(directory: str | os.PathLike[str] | None) -> Path:
    return Path(directory or os.environ.get("CASSANDRA_FRAMES_DIR") or DEFAULT_DIR).resolve()


def start(
    directory: str | os.PathLike[str] | None = None,
    *,
    nodes: int = 1,
    num_tokens: int = 1,
    auth: bool = False,
    tls: bool = False,
    version: str | None = None,
    address: str = "127.0.0.1",
    port: int = 9042,
    heap_mb: int | None = None,
    timeout: float = 240.0,
    clean: bool = False,
    log: Any = None,
) -> LocalCluster:
    """Start a local Cassandra 5 node or ring, or find it already running.

    Parameters
    ----------
    directory : path, optional
        Cluster directory; default ``$CASSANDRA_FRAMES_DIR`` or ``./.cassandra``.
    nodes : int
        Number of nodes, on consecutive loopback addresses from ``address`` (seed first).
    num_tokens : int
        Tokens per node: 1 (balanced initial tokens) or more for vnodes (e.g. 16).
    auth : bool
        Turn on PasswordAuthenticator (superuser ``cassandra``/``cassandra``).
    tls : bool
        Turn on client-to-node TLS with a self-signed keystore made by ``keytool``.
    version : str, optional
        Exact Cassandra 5.0.x version; default the newest cached, else the newest on Maven Central.
    address : str
        Loopback address of the first node.
    port : int
        CQL port of every node.
    heap_mb : int, optional
        Java heap per node; default 1024 for one node, 512 per node for more.
    timeout : float
        Seconds to wait for each node to answer CQL.
    clean : bool
        Delete the directory's data first (needed to change nodes / tokens / auth of an existing one).
    log : callable, optional
        Called with progress lines (``print`` in the CLI).

    Returns
    -------
    LocalCluster
        The running cluster: contact points, options, TLS certificate path.

    Raises
    ------
    LocalClusterError
        Java or Maven missing, download failed, a node did not come up (with its last log lines), or a
        different cluster already lives in the directory.
    """
    say = log or (lambda _msg: None)
    if nodes < 1:
        raise LocalClusterError(f"--nodes must be at least 1, not {nodes}")
    if num_tokens < 1:
        raise LocalClusterError(f"--num-tokens must be at least 1, not {num_tokens}")
    root = _resolve_dir(directory)
    with _file_lock(root.parent / f".{root.name}.lock"):
        existing = _load_state(root)
        if clean and existing is not None:
            _stop(existing, say)
            shutil.rmtree(root)
            existing = None
        wanted = dict(
            addresses=_addresses(address, nodes), port=port, num_tokens=num_tokens, auth=auth, tls=tls
        )
        if existing is not None:
            have = {k: getattr(existing, k) for k in wanted}
            if have != wanted:
                diff = ", ".join(f"{k}: {have[k]} → {wanted[k]}" for k in wanted if have[k] != wanted[k])
                running = any(_our_pid(existing, i) for i in range(1, len(existing.addresses) + 1))
                what = "is running" if running else "has data"
                raise LocalClusterError(
                    f"a different local cluster {what} in {root} ({diff}); "
                    f"use `cassandra-frames local start --clean` to replace it, or another --dir"
                )
            if version is not None and version != existing.version:
                raise LocalClusterError(
                    f"{root} holds Cassandra {existing.version}, not {version}; use --clean or another --dir"
                )
        java = _java()
        if existing is not None:
            cluster = existing
            _, lib = ensure_jars(existing.version)
        else:
            resolved, lib = ensure_jars(version)
            cluster = LocalCluster(
                directory=root,
                version=resolved,
                heap_mb=heap_mb or (1024 if nodes == 1 else 512),
                **wanted,  # type: ignore[arg-type]
            )
            root.mkdir(parents=True, exist_ok=True)
            _state_path(root).write_text(json.dumps(cluster.to_json(), indent=2) + "\n")
        if tls:
            _make_keystore(cluster)
        for index in range(1, nodes + 1):
            addr = cluster.addresses[index - 1]
            if _our_pid(cluster, index):
                _wait_ready(cluster, index, None, timeout, peers=index - 1)
                say(f"node{index} {addr}:{port} already running (pid {_our_pid(cluster, index)})")
                continue
            if _port_open(addr, port):
                raise LocalClusterError(
                    f"{addr}:{port} is already taken by a process this launcher did not start; "
                    "stop it, or use another --address / --port"
                )
            t0 = time.monotonic()
            proc = _spawn(java, lib, cluster, index)
            say(f"node{index} {addr}:{port} starting Cassandra {cluster.version} (pid {proc.pid}) …")
            try:
                _wait_ready(cluster, index, proc, timeout, peers=index - 1)
            except LocalClusterError:
                _terminate(proc.pid, grace=10)
                _pid_file(cluster, index).unlink(missing_ok=True)
                raise
            say(f"node{index} {addr}:{port} up in {time.monotonic() - t0:.1f} s")
        if nodes > 1:  # every node must see the ring whole before clients plan token ranges on it
            for index in range(1, nodes + 1):  # (gossip reaches the earlier nodes last)
                _wait_ready(cluster, index, None, timeout, peers=nodes - 1)
        return cluster


def _terminate(pid: int, grace: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return False


def _stop(cluster: LocalCluster, say: Any) -> list[int]:
    stopped = []
    for index in range(len(cluster.addresses), 0, -1):
        pid = _our_pid(cluster, index)
        if pid:
            _terminate(pid, grace=30)
            stopped.append(pid)
            say(f"node{index} {cluster.addresses[index - 1]} stopped (pid {pid})")
        _pid_file(cluster, index).unlink(missing_ok=True)
    return stopped


def stop(
    directory: str | os.PathLike[str] | None = None, *, clean: bool = False, log: Any = None
) -> list[int]:
    """Stop the nodes this launcher started in ``directory`` (by pid file; never by process name).

    Parameters
    ----------
    directory : path, optional
        Cluster directory; default ``$CASSANDRA_FRAMES_DIR`` or ``./.cassandra``.
    clean : bool
        Also delete the directory (data, logs, configuration).
    log : callable, optional
        Called with progress lines.

    Returns
    -------
    list of int
        The pids that were stopped (empty when nothing was running).
    """
    say = log or (lambda _msg: None)
    root = _resolve_dir(directory)
    cluster = _load_state(root)
    stopped = _stop(cluster, say) if cluster else []
    if not stopped:
        say(f"no node of this launcher is running in {root}")
    if clean and root.exists():
        shutil.rmtree(root)
        say(f"removed {root}")
    return stopped


def status(directory: str | os.PathLike[str] | None = None) -> list[NodeStatus]:
    """Report each node of the cluster in ``directory`` as up (answers CQL) or down.

    Returns
    -------
    list of NodeStatus
        One entry per node; empty when no cluster was ever started there.
    """
    cluster = _load_state(_resolve_dir(directory))
    if cluster is None:
        return []
    out = []
    for index, addr in enumerate(cluster.addresses, start=1):
        pid = _our_pid(cluster, index)
        up = bool(pid) and _port_open(addr, cluster.port) and _cql_answers(cluster, addr)[0]
        out.append(NodeStatus(f"node{index}", addr, cluster.port, pid, up))
    return out


def load(directory: str | os.PathLike[str] | None = None) -> LocalCluster | None:
    """The cluster recorded in ``directory`` (running or not), or ``None``."""
    return _load_state(_resolve_dir(directory))

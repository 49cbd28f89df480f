"""A real Apache Iceberg REST catalog server for tests: the one Apache Iceberg publishes for its own tests.

The jars come from Maven Central, like the local Cassandra node's: ``mvn dependency:copy-dependencies`` on a
generated pom, cached in ``~/.cache/cassandra-frames/iceberg-rest/<version>/lib`` (``$CASSANDRA_FRAMES_CACHE``
moves it). They are Iceberg's REST server pieces and what they need to run:

- ``org.apache.iceberg:iceberg-core:<version>:tests`` holds Iceberg's REST server, ``RESTCatalogAdapter``
  (REST requests → any ``Catalog``) and ``RESTCatalogServlet``; the rest is what it needs at run time:
  iceberg-core, Jetty 11, Hadoop's shaded client (``HadoopFileIO`` writes the metadata files), SQLite's JDBC
  driver (the ``JdbcCatalog`` behind the REST API) and slf4j-simple.

The apache/iceberg-rest-fixture image runs ``RESTCatalogServer`` from
``org.apache.iceberg:iceberg-open-api:<version>:test-fixtures`` in a fat jar that is not published. That main
binds every interface on a fixed port, so a short launcher (Java source run by ``java`` directly) builds the
same stack, ``JdbcCatalog`` → ``RESTCatalogAdapter`` → ``RESTCatalogServlet`` on Jetty, bound to 127.0.0.1 on
a port the OS picks, and prints that port. It exits when its standard input closes, so it never outlives
the test process.

Run ``python tests/integration/iceberg_rest.py`` to download the jars and start a server by hand.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cassandra_frames import local

VERSION = os.environ.get("ICEBERG_REST_VERSION", "1.10.0")
_DEPENDENCIES = [
    ("org.apache.iceberg", "iceberg-core", VERSION, "tests"),
    ("org.apache.iceberg", "iceberg-core", VERSION, None),
    ("org.eclipse.jetty", "jetty-servlet", "11.0.25", None),
    ("org.apache.hadoop", "hadoop-client-api", "3.4.1", None),
    ("org.apache.hadoop", "hadoop-client-runtime", "3.4.1", None),
    ("org.xerial", "sqlite-jdbc", "3.50.3.0", None),
    ("org.slf4j", "slf4j-simple", "2.0.17", None),
]
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>cassandra-frames.tests</groupId>
  <artifactId>iceberg-rest</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""
_LAUNCHER = """\
import java.net.InetSocketAddress;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.rest.RESTCatalogAdapter;
import org.apache.iceberg.rest.RESTCatalogServlet;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

public class CfIcebergRest {
  public static void main(String[] args) throws Exception {
    Map<String, String> props = Map.of(
        "catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog",
        "uri", System.getenv("CATALOG_URI"),
        "jdbc.schema-version", "V1",
        "warehouse", System.getenv("CATALOG_WAREHOUSE"));
    Catalog catalog = CatalogUtil.buildIcebergCatalog("rest_backend", props, new Configuration());
    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.addServlet(new ServletHolder(new RESTCatalogServlet(new RESTCatalogAdapter(catalog))), "/*");
    Server server = new Server(new InetSocketAddress("127.0.0.1", 0));
    server.setHandler(context);
    server.start();
    System.out.println("LISTENING " + ((ServerConnector) server.getConnectors()[0]).getLocalPort());
    System.out.flush();
    while (System.in.read() >= 0) {}  // until the parent closes stdin or dies
    server.stop();
    System.exit(0);
  }
}
"""


def ensure_jars(version: str = VERSION) -> Path:
    """The directory of the server's jars, downloaded with Maven into the cache the first time."""
    target = local.cache_root() / "iceberg-rest" / version
    if (target / ".complete").exists():
        return target / "lib"
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError(
            "Apache Maven 3 is needed to download the Iceberg REST server (apt-get install maven)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        deps = "\n".join(
            f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>"
            + (f"<classifier>{c}</classifier>" if c else "")
            + "</dependency>"
            for g, a, v, c in _DEPENDENCIES
        )
        (staging / "pom.xml").write_text(_POM.format(dependencies=deps))
        cmd = [mvn, "-B", "-q", "-f", str(staging / "pom.xml"), "dependency:copy-dependencies"]
        cmd += ["-DincludeScope=runtime", f"-DoutputDirectory={staging / 'lib'}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise RuntimeError(f"Maven could not download the Iceberg REST server {version}:\n{tail}")
        (staging / "CfIcebergRest.java").write_text(_LAUNCHER)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        (target / ".complete").write_text(version + "\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / "lib"


class RestServer:
    """One running server: ``properties`` are the pyiceberg catalog properties to reach it."""

    def __init__(self, workdir: Path, version: str = VERSION, timeout: float = 120.0) -> None:
        lib = ensure_jars(version)
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("a Java 17 runtime is needed to run the Iceberg REST server")
        warehouse = workdir / "warehouse"
        warehouse.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "CATALOG_WAREHOUSE": warehouse.as_uri()}
        env["CATALOG_URI"] = f"jdbc:sqlite:{workdir / 'catalog.db'}"
        self.log = workdir / "server.log"
        started = time.monotonic()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [java, "-cp", f"{lib}/*", str(lib.parent / "CfIcebergRest.java")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                text=True,
            )
        assert self.process.stdout is not None
        # the launcher prints its port once Jetty listens (or dies: then readline returns "")
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("LISTENING "):
            self.stop()
            raise RuntimeError(f"the Iceberg REST server did not start:\n{self.log.read_text()[-3000:]}")
        self.startup_seconds = time.monotonic() - started
        self.port = int(line.split()[1])
        self.properties = {
            "type": "rest",
            "uri": f"http://127.0.0.1:{self.port}",
            "warehouse": warehouse.as_uri(),
        }

    def stop(self) -> None:
        """Close the server's stdin (it exits), and kill it if it has not within 10 s."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def iceberg_rest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Catalog properties of a REST catalog server running for the session (stopped at its end)."""
    try:
        server = RestServer(tmp_path_factory.mktemp("iceberg-rest"))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    print(f"Iceberg REST server {VERSION} on port {server.port}, started in {server.startup_seconds:.1f} s")
    yield server.properties
    server.stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        demo = RestServer(Path(tmp))
        print(f"serving {demo.properties} (started in {demo.startup_seconds:.1f} s); Ctrl-C stops it")
        try:
            demo.process.wait()
        except KeyboardInterrupt:
            demo.stop()
            sys.exit(0)

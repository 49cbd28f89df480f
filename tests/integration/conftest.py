"""Fixtures that give integration tests a REAL Cassandra 5 node.

``CASSANDRA_CONTACT_POINTS`` set → that cluster is used as it is. Otherwise the project's own launcher starts
(or finds running) the local node in ``<repo>/.cassandra``. A node that cannot be reached FAILS the run —
there is no skip, in CI or anywhere else.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cassandra_frames import local
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.engine.session import connect
from cassandra_frames.errors import CassandraFramesError

REPO = Path(__file__).resolve().parents[2]

# async-cassandra cannot be installed below Python 3.12: `make async312` runs this file in .venv-3.12
collect_ignore = ["test_async_cassandra.py"] if sys.version_info < (3, 12) else []


@pytest.fixture(scope="session")
def cassandra_config() -> ConnectionConfig:
    """Connection settings of the cluster under test (started by the project when none is named)."""
    if os.environ.get("CASSANDRA_CONTACT_POINTS"):
        return ConnectionConfig.from_env()
    try:
        cluster = local.start(REPO / local.DEFAULT_DIR, log=print)
    except CassandraFramesError as exc:
        pytest.fail(f"the local Cassandra node could not start: {exc}", pytrace=False)
    return cluster.connection_config()


@pytest.fixture(scope="session")
def cassandra_session(cassandra_config: ConnectionConfig) -> Iterator[Any]:
    """A live ``cassandra.cluster.Session`` on the cluster under test."""
    try:
        session = connect(cassandra_config)
    except CassandraFramesError as exc:
        pytest.fail(f"Cassandra is not reachable: {exc}", pytrace=False)
    yield session
    session.cluster.shutdown()


@pytest.fixture
def keyspace(cassandra_session: Any) -> Iterator[str]:
    """A fresh keyspace (RF 1, uuid-suffixed) dropped after the test."""
    name = f"cf_test_{uuid.uuid4().hex[:12]}"
    cassandra_session.execute(
        f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    )
    yield name
    cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=120)


@pytest.fixture
def dask_client(tmp_path: Path) -> Iterator[Any]:
    """A ``distributed`` client on a LocalCluster of 2 worker processes (1 thread each)."""
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            local_directory=str(tmp_path / "dask"),
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


# --------------------------------------------------------------------------------------- s3 on moto


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A moto S3 server on a free 127.0.0.1 port with an empty bucket: ``{"endpoint_url", "bucket"}``."""
    import boto3

    moto_server = Path(sys.executable).parent / "moto_server"
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log_text = log_path.read_text()
                pytest.fail(f"moto_server exited with {proc.returncode}: {log_text}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"moto_server did not answer on {endpoint} within 30 s", pytrace=False)
            time.sleep(0.2)
        bucket = "cf-bad-rows"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=bucket)
        yield {"endpoint_url": endpoint, "bucket": bucket}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

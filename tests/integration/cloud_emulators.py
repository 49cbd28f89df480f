"""Local emulators of Azure Blob Storage and Google Cloud Storage, for the ``az://`` and ``gs://`` tests.

Both bind 127.0.0.1 on a free port, live for the test session and are stopped at its end; like the local
Cassandra node's jars they are fetched once, from their ordinary registries, into
``~/.cache/cassandra-frames`` (``$CASSANDRA_FRAMES_CACHE`` moves it):

- **Azurite** (Microsoft's Azure Storage emulator) from npm: ``npm install azurite@<version>`` into
  ``<cache>/azurite/<version>``, run as ``azurite-blob`` (needs Node.js >= 18 and npm);
- **fake-gcs-server** (github.com/fsouza/fake-gcs-server) built from the Go module proxy:
  ``go install github.com/fsouza/fake-gcs-server@<version>`` into ``<cache>/fake-gcs-server/<version>``,
  run with the in-memory backend (needs Go).

``AZURITE_VERSION`` and ``FAKE_GCS_SERVER_VERSION`` choose other versions. An emulator that cannot be
installed or does not answer FAILS the run with its log's tail — there is no skip.

Run ``python tests/integration/cloud_emulators.py`` to install both and start them by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cassandra_frames import local

# gcsfs >= 2026.3 defaults to its ExtendedGcsFileSystem, which asks the Storage Control gRPC API for every
# bucket's layout before an operation; fake-gcs-server has no such API, so each probe retries for ~60 s and an
# export takes many minutes (fsouza/fake-gcs-server#2069). gcsfs reads its own opt-out when first imported:
# set it here, at collection, before anything imports gcsfs (`_gcsfs_without_hns_probe` checks it worked).
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

AZURITE_VERSION = os.environ.get("AZURITE_VERSION", "3.35.0")
FAKE_GCS_SERVER_VERSION = os.environ.get("FAKE_GCS_SERVER_VERSION", "v1.56.1")
INSTALL_TIMEOUT = 900.0  # a first build of fake-gcs-server downloads and compiles ~150 Go modules
READY_TIMEOUT = 60.0

# Azurite's one well-known development account (public, documented by Microsoft; not a secret)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURE_CONTAINER = "cf-exports"
GCS_PROJECT = "test"
GCS_BUCKET = "cf-exports"


class EmulatorError(RuntimeError):
    """An emulator could not be installed or started (the message holds the tail of its output)."""


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _install(name: str, version: str, target: Path, build: Callable[[Path], list[str]]) -> Path:
    """``target`` after ``build(staging)``'s command ran in a staging directory renamed into place (so a
    killed install never looks complete); nothing is run when ``target/.complete`` exists."""
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".install-", dir=target.parent))
    try:
        cmd = build(staging)
        started = time.monotonic()
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, check=False, timeout=INSTALL_TIMEOUT, cwd=staging
            )
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            raise EmulatorError(
                f"installing {name} {version} took longer than {INSTALL_TIMEOUT:.0f} s: {' '.join(cmd)}\n"
                + _tail(output)
            ) from exc
        if proc.returncode != 0:
            raise EmulatorError(
                f"installing {name} {version} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                + _tail(proc.stdout + proc.stderr)
            )
        print(f"{name} {version} installed in {target} in {time.monotonic() - started:.1f} s")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        (target / ".complete").write_text(version + "\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def ensure_azurite(version: str = AZURITE_VERSION) -> Path:
    """The ``azurite-blob`` executable, installed from npm into the cache the first time."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise EmulatorError(
            "Node.js >= 18 and npm are needed to run Azurite (e.g. apt-get install nodejs npm)"
        )
    target = local.cache_root() / "azurite" / version
    cmd = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"]
    _install("Azurite", version, target, lambda staging: [*cmd, str(staging), f"azurite@{version}"])
    return target / "node_modules" / ".bin" / "azurite-blob"


def ensure_fake_gcs_server(version: str = FAKE_GCS_SERVER_VERSION) -> Path:
    """The ``fake-gcs-server`` executable, built with ``go install`` into the cache the first time."""
    go = shutil.which("go")
    if go is None:
        raise EmulatorError("Go is needed to build fake-gcs-server (https://go.dev/doc/install)")
    target = local.cache_root() / "fake-gcs-server" / version

    module = f"github.com/fsouza/fake-gcs-server@{version}"
    # the build uses the caller's GOPATH / GOPROXY / GOMODCACHE; only GOBIN is ours
    _install(
        "fake-gcs-server", version, target, lambda staging: ["env", f"GOBIN={staging}", go, "install", module]
    )
    return target / "fake-gcs-server"


class Emulator:
    """One emulator process on 127.0.0.1, its output in ``log``."""

    def __init__(self, name: str, cmd: list[str], log: Path, ready_url: str, timeout: float) -> None:
        self.name = name
        self.log = log
        started = time.monotonic()
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = started + timeout
        while True:
            if self.process.poll() is not None:
                raise EmulatorError(
                    f"{name} exited with {self.process.returncode} before answering:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(ready_url, timeout=2):
                    break
            except urllib.error.HTTPError:  # any HTTP answer: it is serving
                break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise EmulatorError(
                    f"{name} did not answer on {ready_url} within {timeout:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.2)
        self.startup_seconds = time.monotonic() - started

    def log_tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return _tail(text) if text.strip() else "(no output)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_azurite(workdir: Path, timeout: float = READY_TIMEOUT) -> tuple[Emulator, dict[str, Any]]:
    """Azurite's blob service with an empty container: the emulator and
    ``{"endpoint", "connection_string", "container", "storage_options"}``."""
    exe = ensure_azurite()
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(data)]
    cmd += ["--skipApiVersionCheck", "--loose", "--disableProductStyleUrl", "--disableTelemetry"]
    emulator = Emulator("Azurite", cmd, workdir / "azurite.log", f"{endpoint}?comp=list", timeout)
    connection_string = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={endpoint};"
    )
    try:
        from azure.storage.blob import BlobServiceClient

        BlobServiceClient.from_connection_string(connection_string).create_container(AZURE_CONTAINER)
    except Exception as exc:
        emulator.stop()
        raise EmulatorError(
            f"Azurite on {endpoint} did not create the container {AZURE_CONTAINER!r}: {exc}\n"
            + emulator.log_tail()
        ) from exc
    return emulator, {
        "endpoint": endpoint,
        "connection_string": connection_string,
        "container": AZURE_CONTAINER,
        "storage_options": {"connection_string": connection_string},
    }


def _gcsfs_without_hns_probe() -> None:
    """Fail unless ``gs://`` resolves to gcsfs' plain filesystem (no Storage Control gRPC probes)."""
    import fsspec

    cls = fsspec.get_filesystem_class("gs")
    if cls.__name__ == "ExtendedGcsFileSystem":
        raise EmulatorError(
            "gcsfs was imported before GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false was set, so gs:// is "
            "ExtendedGcsFileSystem, which stalls ~60 s per operation against fake-gcs-server: set the "
            "variable in the environment of the test run"
        )


def start_fake_gcs(workdir: Path, timeout: float = READY_TIMEOUT) -> tuple[Emulator, dict[str, Any]]:
    """fake-gcs-server (in memory) with an empty bucket: the emulator and
    ``{"endpoint_url", "bucket", "storage_options"}``."""
    _gcsfs_without_hns_probe()
    exe = ensure_fake_gcs_server()
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    seed = workdir / "seed"  # no initial objects (the server would load any from /data otherwise)
    seed.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory"]
    cmd += ["-data", str(seed)]
    cmd += ["-public-host", f"127.0.0.1:{port}", "-external-url", endpoint, "-log-level", "warn"]
    emulator = Emulator(
        "fake-gcs-server", cmd, workdir / "fake-gcs-server.log", f"{endpoint}/storage/v1/b", timeout
    )
    request = urllib.request.Request(
        f"{endpoint}/storage/v1/b?project={GCS_PROJECT}",
        data=json.dumps({"name": GCS_BUCKET}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            resp.read()
    except (urllib.error.URLError, OSError) as exc:
        emulator.stop()
        raise EmulatorError(
            f"fake-gcs-server on {endpoint} did not create the bucket {GCS_BUCKET!r}: {exc}\n"
            + emulator.log_tail()
        ) from exc
    return emulator, {
        "endpoint_url": endpoint,
        "bucket": GCS_BUCKET,
        "storage_options": {"endpoint_url": endpoint, "token": "anon", "project": GCS_PROJECT},
    }


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Azurite's blob service on a free 127.0.0.1 port with an empty container:
    ``{"endpoint", "connection_string", "container", "storage_options"}`` (adlfs' options for ``az://``)."""
    try:
        emulator, info = start_azurite(tmp_path_factory.mktemp("azurite"))
    except EmulatorError as exc:
        failure = str(exc)
    else:
        failure = ""
    if failure:  # outside the except: the report shows the message once, not a chained traceback
        pytest.fail(failure, pytrace=False)
    print(f"Azurite {AZURITE_VERSION} on {info['endpoint']}, started in {emulator.startup_seconds:.1f} s")
    try:
        yield info
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """fake-gcs-server on a free 127.0.0.1 port with an empty bucket:
    ``{"endpoint_url", "bucket", "storage_options"}`` (gcsfs' options for ``gs://``)."""
    try:
        emulator, info = start_fake_gcs(tmp_path_factory.mktemp("fake-gcs"))
    except EmulatorError as exc:
        failure = str(exc)
    else:
        failure = ""
    if failure:  # outside the except: the report shows the message once, not a chained traceback
        pytest.fail(failure, pytrace=False)
    print(
        f"fake-gcs-server {FAKE_GCS_SERVER_VERSION} on {info['endpoint_url']}, "
        f"started in {emulator.startup_seconds:.1f} s"
    )
    try:
        yield info
    finally:
        emulator.stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        az, az_info = start_azurite(Path(tmp) / "azurite")
        try:
            gcs, gcs_info = start_fake_gcs(Path(tmp) / "gcs")
        except BaseException:
            az.stop()
            raise
        print(f"Azurite: {az_info['storage_options']} (started in {az.startup_seconds:.1f} s)")
        print(f"fake-gcs-server: {gcs_info['storage_options']} (started in {gcs.startup_seconds:.1f} s)")
        print("Ctrl-C stops them")
        try:
            az.process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            az.stop()
            gcs.stop()
        sys.exit(0)

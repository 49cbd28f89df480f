"""The progress widget in a real browser: JupyterLab in headless Chromium runs an export notebook.

A local Jupyter server (this virtualenv's ``jupyter lab``, its ``python3`` kernel) serves a copy of
``browser/export_progress.ipynb``; Selenium drives Debian's ``chromium`` through ``chromedriver`` (both
installed by ``bash .ci/system-deps``; never downloaded by Selenium Manager), runs every cell, takes a
screenshot of the widget while the export runs, then waits for it to reach 100 % and turn green, and checks
the row count the notebook prints against the table's.
``CF_UPDATE_SCREENSHOT=1`` writes that screenshot to ``docs/img/progress-widget.png`` (the README's image).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest

import cassandra_frames as cf

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = Path(__file__).parent / "browser" / "export_progress.ipynb"
SCREENSHOT = REPO / "docs" / "img" / "progress-widget.png"
ROWS = 50_000  # the notebook reads them at 5,000 rows/s: ~10 s of export to catch mid-way
SERVER_START_S = 90
PAGE_READY_S = 120
EXPORT_S = 180
EXPORT_DIR = "export"  # relative to the notebook (the kernel's working directory): a short title

T = TypeVar("T")


def _browser_binaries() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.fail(
            "Chromium and chromedriver are needed for the browser test (Debian packages `chromium`, "
            "`chromium-driver`): run `bash .ci/system-deps`",
            pytrace=False,
        )
    return chromium, driver


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(what: str, timeout_s: float, probe: Callable[[], T | None], interval_s: float = 0.25) -> T:
    """Call ``probe`` until it returns something other than None/False; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:.0f} s", pytrace=False)
        time.sleep(interval_s)


@pytest.fixture
def filled_table(keyspace: str, cassandra_config: cf.ConnectionConfig) -> str:
    """``keyspace.rows``: ROWS rows in 200 partitions (dropped with the keyspace)."""
    ids = np.arange(ROWS, dtype="int64")
    frame = pd.DataFrame(
        {
            "bucket": (ids % 200).astype("int32"),
            "id": ids,
            "name": [f"row-{i}" for i in ids],
            "value": np.random.default_rng(0).random(ROWS),
        }
    )
    table = f"{keyspace}.rows"
    cf.to_cassandra(
        frame,
        table,
        connection=cassandra_config,
        create_table=True,
        partition_key="bucket",
        clustering_key="id",
    )
    return table


def _server_env(cassandra_config: cf.ConnectionConfig, home: Path, table: str, out: str) -> dict[str, str]:
    """The server's environment: this virtualenv first on PATH (its kernel), private Jupyter dirs, the cluster
    in ``CASSANDRA_*`` variables (as given, or the local node's) and the notebook's inputs."""
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    for var, sub in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ("IPYTHONDIR", "ipython"),
    ]:
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    # no "get notified about Jupyter news?" toast over the notebook
    notification = (
        home / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    )
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false"}))
    if not os.environ.get("CASSANDRA_CONTACT_POINTS"):
        env["CASSANDRA_CONTACT_POINTS"] = ",".join(f"{h}:{p}" for h, p in cassandra_config.endpoints())
        if cassandra_config.tls_ca_file:
            env["CASSANDRA_SSL_CA"] = cassandra_config.tls_ca_file
        if cassandra_config.username:
            env["CASSANDRA_USERNAME"] = cassandra_config.username
    env["CF_BROWSER_TABLE"] = table
    env["CF_BROWSER_OUT"] = out
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def jupyter_server(
    tmp_path: Path, filled_table: str, cassandra_config: cf.ConnectionConfig
) -> Iterator[tuple[str, str]]:
    """A JupyterLab server on a free 127.0.0.1 port serving a copy of the notebook: ``(base_url, token)``."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    env = _server_env(cassandra_config, tmp_path / "jupyter", filled_table, EXPORT_DIR)
    port, token = _free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "jupyter.log"
    args = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run cells, read outputs
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            args, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def answers() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log_path.read_text()}", pytrace=False)
        request = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    try:
        _wait(f"the Jupyter server on {base} answering (log: {log_path})", SERVER_START_S, answers)
        yield base, token
    finally:
        proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down on the way out
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # a kernel left behind (in the server's group)
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium driven by the system's chromedriver (no Selenium Manager download)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
    ]:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


_PANEL = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
_KERNEL_IDLE = f"""
const panel = {_PANEL};
const ctx = panel && panel.sessionContext;
const kernel = ctx && ctx.session && ctx.session.kernel;
return !!(kernel && kernel.name === 'python3' && panel.content && panel.content.widgets.length
          && ctx.kernelDisplayStatus === 'idle');
"""
# every output of the notebook's code cells, as nbformat JSON
_OUTPUTS = f"""
const panel = {_PANEL};
return panel.content.widgets.filter(c => c.model.type === 'code').map(c => c.model.outputs.toJSON());
"""
_WIDGET_STATE = """
const box = document.querySelector('.cf-progress');
if (!box) return null;
const text = box.querySelector('.cf-progress-text');
const bar = box.querySelector('.cf-progress-bar .progress-bar');
return {text: text ? text.innerText.trim() : '', box: box.className, bar: bar ? bar.className : ''};
"""


def _errors(driver: Any) -> list[str]:
    cells = driver.execute_script(_OUTPUTS)
    return [f"{o['ename']}: {o['evalue']}" for outs in cells for o in outs if o.get("output_type") == "error"]


def _stdout(driver: Any) -> str:
    cells = driver.execute_script(_OUTPUTS)
    return "".join(
        "".join(o["text"]) if isinstance(o["text"], list) else o["text"]
        for outs in cells
        for o in outs
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )


def _percent(text: str) -> int | None:
    match = re.match(r"\s*(\d+)\s*%", text)
    return int(match.group(1)) if match else None


def _widget(driver: Any) -> dict[str, str] | None:
    """The widget's text and classes (None before it renders); fails at once when a cell raised."""
    errors = _errors(driver)
    if errors:
        pytest.fail(f"the notebook raised: {errors}", pytrace=False)
    state: dict[str, str] | None = driver.execute_script(_WIDGET_STATE)
    return state


def _finished(state: dict[str, str]) -> bool:
    return (
        _percent(state["text"]) == 100
        or "cf-progress-ok" in state["box"]
        or "cf-progress-failed" in state["box"]
    )


def _mid_export_screenshot(driver: Any, shot: Path) -> dict[str, str]:
    """Screenshot the export cell (code + widget) once the widget shows >= 25 %, checking after the shot that
    the export had still not finished."""
    from selenium.webdriver.common.by import By

    def running(min_percent: int) -> dict[str, str] | None:
        state = _widget(driver)
        if state is None:
            return None
        if _finished(state):
            pytest.fail(f"the export finished before it was seen mid-way: {state}", pytrace=False)
        pct = _percent(state["text"])
        return state if pct is not None and pct >= min_percent else None

    def rendered() -> dict[str, str] | None:
        state = _widget(driver)
        if state is None and "EXPORTED_ROWS=" in _stdout(driver):
            pytest.fail("the notebook ran to its end without showing a progress widget", pytrace=False)
        return state

    first = _wait("the progress widget (.cf-progress) rendering", EXPORT_S, rendered)
    assert _percent(first["text"]) is not None, f"the widget's text does not start with a percentage: {first}"
    _wait("the export reaching 25 %", EXPORT_S, lambda: running(25))
    cell = driver.find_element(
        By.XPATH, "//div[contains(@class,'jp-CodeCell')][.//*[contains(@class,'cf-progress')]]"
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)
    shot.parent.mkdir(parents=True, exist_ok=True)
    assert cell.screenshot(str(shot)), f"no screenshot written to {shot}"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{shot} is not a PNG"
    after = running(0)  # still running after the shot: the image shows the export mid-way
    assert after is not None, "the widget disappeared"
    return after


def test_progress_widget_renders_and_reaches_100_percent(
    browser: Any,  # first: a missing Chromium fails before the table is filled
    jupyter_server: tuple[str, str],
    filled_table: str,
    cassandra_config: cf.ConnectionConfig,
    tmp_path: Path,
) -> None:
    base, token = jupyter_server
    driver = browser
    shot = SCREENSHOT if os.environ.get("CF_UPDATE_SCREENSHOT") == "1" else tmp_path / SCREENSHOT.name

    def done() -> dict[str, str] | None:
        state = _widget(driver)
        return (
            state if state and state["text"].startswith("100%") and "cf-progress-ok" in state["box"] else None
        )

    def printed_rows() -> re.Match[str] | None:
        _widget(driver)  # a cell that raised fails the test now
        return re.search(r"EXPORTED_ROWS=(\d+)", _stdout(driver))

    try:
        driver.get(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")
        _wait(
            "JupyterLab showing the notebook with an idle python3 kernel",
            PAGE_READY_S,
            lambda: driver.execute_script(_KERNEL_IDLE),
        )
        # not `return …execute(…)`: WebDriver would wait for the promise, i.e. for every cell to finish
        driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells'); return null;")
        during = _mid_export_screenshot(driver, shot)
        assert not during["text"].startswith("100%")
        final = _wait("the widget reaching 100 % and turning green (cf-progress-ok)", EXPORT_S, done)
        assert "progress-bar-success" in final["bar"], f"the bar is not green: {final}"
        assert "cf-progress-failed" not in final["box"]
        printed = _wait("the last cell printing EXPORTED_ROWS=", EXPORT_S, printed_rows)
    except BaseException:
        driver.save_screenshot(str(tmp_path / "failure.png"))
        print(f"the page at the failure: {tmp_path / 'failure.png'}")
        raise
    assert int(printed.group(1)) == cf.count(filled_table, connection=cassandra_config) == ROWS
    assert (tmp_path / "root" / EXPORT_DIR / "_manifest.json").is_file()

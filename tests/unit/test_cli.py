from __future__ import annotations

from pathlib import Path

import pytest

from cassandra_frames.cli import main


def test_status_without_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "status", "--dir", str(tmp_path / "none")]) == 3
    assert "cassandra-frames local start" in capsys.readouterr().out


def test_errors_are_one_message_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "start", "--nodes", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "cassandra-frames: error: --nodes must be at least 1, not 0"
    assert "Traceback" not in err


def test_stop_without_cluster_is_harmless(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "stop", "--dir", str(tmp_path)]) == 0
    assert "no node of this launcher is running" in capsys.readouterr().out

"""Marks every test by its folder: tests/unit → ``unit``, tests/integration → ``integration``."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if HERE / "unit" in path.parents:
            item.add_marker(pytest.mark.unit)
        elif HERE / "integration" in path.parents:
            item.add_marker(pytest.mark.integration)

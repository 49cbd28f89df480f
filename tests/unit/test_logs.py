"""Logging: the context fields on every record of the package, text and JSON output."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

import cassandra_frames as cf
from cassandra_frames.logs import CONTEXT_FIELDS, JsonFormatter, get_logger, log_context


@pytest.fixture
def captured() -> list[logging.LogRecord]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("cassandra_frames")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_records_carry_the_context_and_it_nests(captured: list[logging.LogRecord]) -> None:
    log = get_logger("cassandra_frames.test")
    log.info("outside")
    with log_context(operation_id="op1", keyspace="ks", table="t"):
        log.info("operation")
        with log_context(token_range="(1, 2]"):
            log.info("range")
        log.info("after the range")
    got = [(r.getMessage(), r.operation_id, r.keyspace, r.table, r.token_range) for r in captured]  # type: ignore[attr-defined]
    assert got == [
        ("outside", "-", "-", "-", "-"),
        ("operation", "op1", "ks", "t", "-"),
        ("range", "op1", "ks", "t", "(1, 2]"),
        ("after the range", "op1", "ks", "t", "-"),
    ]


def test_context_follows_each_asyncio_task_separately(captured: list[logging.LogRecord]) -> None:
    log = get_logger("cassandra_frames.test")

    async def unit(name: str) -> None:
        with log_context(token_range=name):
            await asyncio.sleep(0.01)
            log.info("done")

    async def main() -> None:
        with log_context(operation_id="op2"):
            await asyncio.gather(unit("a"), unit("b"))

    asyncio.run(main())
    assert sorted((r.operation_id, r.token_range) for r in captured) == [("op2", "a"), ("op2", "b")]  # type: ignore[attr-defined]


def test_unknown_context_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log context fields"), log_context(host="x"):
        pass


def test_configure_logging_json_lines_and_replaces_its_own_handler() -> None:
    logger = logging.getLogger("cassandra_frames")
    before = list(logger.handlers)
    first, stream = io.StringIO(), io.StringIO()
    try:
        cf.configure_logging("INFO", json=True, stream=first)
        cf.configure_logging("INFO", json=True, stream=stream)
        assert len(logger.handlers) == len(before) + 1
        log = get_logger("cassandra_frames.test")
        with log_context(operation_id="op3", keyspace="ks", table="t"):
            log.info("hello %s", "world")
            log.debug("hidden at INFO")
        try:
            raise KeyError("boom")
        except KeyError:
            log.exception("failed")
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert first.getvalue() == ""
        assert [x["message"] for x in lines] == ["hello world", "failed"]
        assert lines[0]["operation_id"] == "op3"
        assert (lines[0]["keyspace"], lines[0]["table"], lines[0]["level"]) == ("ks", "t", "INFO")
        assert "token_range" not in lines[0]  # unknown fields are left out
        assert "KeyError: 'boom'" in lines[1]["exception"]
        assert lines[0]["time"].endswith("+00:00")
    finally:
        for h in list(logger.handlers):
            if h not in before:
                logger.removeHandler(h)


def test_text_format_shows_the_context_and_survives_foreign_records() -> None:
    logger = logging.getLogger("cassandra_frames")
    before = list(logger.handlers)
    stream = io.StringIO()
    try:
        cf.configure_logging(logging.INFO, stream=stream)
        with log_context(operation_id="op4", keyspace="ks", table="t", token_range="(5, 9]"):
            get_logger("cassandra_frames.test").warning("slow")
        logging.getLogger("cassandra_frames.plain").warning("no context here")  # a plain logger's record
        out = stream.getvalue().splitlines()
        assert "WARNING cassandra_frames.test [op4 ks.t (5, 9]] slow" in out[0]
        assert out[1].endswith("[- -.- -] no context here")
    finally:
        for h in list(logger.handlers):
            if h not in before:
                logger.removeHandler(h)


def test_json_formatter_is_public_and_fields_are_documented() -> None:
    assert cf.JsonFormatter is JsonFormatter
    assert CONTEXT_FIELDS == ("operation_id", "keyspace", "table", "token_range")

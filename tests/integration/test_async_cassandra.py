"""An async-cassandra session as the ``connection`` of reads and writes (async-cassandra needs Python 3.12+).

``make test`` runs this file in ``.venv-3.12`` (the Makefile's ``async312`` step), where async-cassandra is
installed. Under an older Python the integration conftest does not collect it (``collect_ignore``); it is
never skipped, and a missing async-cassandra fails it.
"""

from __future__ import annotations

import asyncio

import pandas as pd

from cassandra_frames import aio, read_cassandra, to_cassandra
from cassandra_frames.config import ConnectionConfig

ROWS = 3_000


def test_async_cassandra_session_reads_and_writes(cassandra_config: ConnectionConfig, keyspace: str) -> None:
    from async_cassandra import AsyncCluster

    async def main() -> tuple[pd.DataFrame, pd.DataFrame, int, pd.DataFrame]:
        (host, port), *_ = cassandra_config.endpoints()
        cluster = AsyncCluster(contact_points=[host], port=port)
        session = await cluster.connect()
        try:
            await session.execute(f"CREATE TABLE {keyspace}.src (k int PRIMARY KEY, v text, d double)")
            insert = await session.prepare(f"INSERT INTO {keyspace}.src (k, v, d) VALUES (?, ?, ?)")
            for k in range(ROWS):
                await session.execute(insert, (k, f"v{k}", k / 4))
            await session.execute(f"CREATE TABLE {keyspace}.dst (k int PRIMARY KEY, v text, d double)")

            # the coroutine read, from inside this running loop
            got = await aio.read_cassandra(f"{keyspace}.src", connection=session)
            # the Dask read and the write are synchronous: they run on the engine's own loop thread
            loop = asyncio.get_running_loop()
            lazy = await loop.run_in_executor(
                None, lambda: read_cassandra(f"{keyspace}.src", connection=session, npartitions=3).compute()
            )
            report = await loop.run_in_executor(
                None, lambda: to_cassandra(got, f"{keyspace}.dst", connection=session)
            )
            back = await aio.read_cassandra(f"{keyspace}.dst", connection=session)
            return got, lazy, report.rows_written, back
        finally:
            await session.close()
            await cluster.shutdown()

    got, lazy, written, back = asyncio.run(main())
    expected = [(k, f"v{k}", k / 4) for k in range(ROWS)]

    def rows(df: pd.DataFrame) -> list[tuple[int, str, float]]:
        return sorted((int(k), str(v), float(d)) for k, v, d in df[["k", "v", "d"]].itertuples(index=False))

    assert rows(got) == expected
    assert rows(lazy) == expected
    assert written == ROWS
    assert rows(back) == expected

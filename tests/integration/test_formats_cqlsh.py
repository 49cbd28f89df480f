"""Against a real node: a table with every CQL type is exported with the CSV writer and loaded back with
cqlsh ``COPY FROM``; both tables must then hold the same values. What cqlsh cannot load is left out, each
with the reason (see docs/types.md, "In exported files")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cassandra_frames.formats import FormatOptions, open_writer
from cassandra_frames.read import ReadOptions, plan_read

CQLSH = Path(sys.executable).with_name("cqlsh")
COLUMNS = """k int PRIMARY KEY, a ascii, t text, ti tinyint, si smallint, i int, bi bigint, vi varint,
    f float, d double, dec decimal, b boolean, bl blob, dt date, tm time, ts timestamp, u uuid, tu timeuuid,
    ip inet, du duration, l list<text>, s set<int>, m map<text, int>, la list<frozen<addr>>,
    tp frozen<tuple<int, text>>, ad frozen<addr>, vec vector<float, 3>, mt map<int, frozen<set<text>>>,
    lts list<timestamp>, fl frozen<list<frozen<map<text, blob>>>>"""
TEXT = "a,b \"q\" 'single' \\ back\nnew line\ttab é"
INSERTS = [
    "INSERT INTO {ks}.src (k, a, t, ti, si, i, bi, vi, f, d, dec, b, bl, dt, tm, ts, u, tu, ip, du, l, s, m,"
    " la, tp, ad, vec, mt, lts, fl) VALUES (1, 'x''y', ?, -128, 32767, -2147483648, -9223372036854775808,"
    " 1000000000000000000000000000000, NaN, Infinity, -1.0000000000000000000000000001E+30, true, 0x00ff,"
    " '2020-02-29', '01:02:03.123456789', '2013-01-01 05:00:00.500+0000',"
    " 6ba7b810-9dad-11d1-80b4-00c04fd430c8, 50554d6e-29bb-11e5-b345-feff819cdc9f, '2001:db8::1',"
    " 1y2mo3d4h5m6s7ms8us9ns, ['a''b', '', 'c, d', '[x]'], {1, 2}, {'k''1': 1, '': 2},"
    " [{street: 'S ''1''', zip: 1}, {street: '', zip: null}], (1, 'it''s'), {street: '{x: y}', zip: 7},"
    " [0.1, -1.5, 3.4028235e38], {1: {'a', 'b'}, 2: {}}, ['2001-02-03 04:05:06.250+0000'],"
    " [{'a': 0x01}, {}])",
    "INSERT INTO {ks}.src (k) VALUES (2)",
    "INSERT INTO {ks}.src (k, t, a, f, d, bl, ts, dec, vi, du) VALUES (3, '', '', -Infinity, 1e300, 0x,"
    " 253402300800000, 0.00001, -7, -1d1us)",
    "INSERT INTO {ks}.src (k, ts, f, d, du) VALUES (4, -62135596800001, 1.5e-45, -0.0, 0s)",
]


def read_rows(config: Any, table: str) -> list[str]:
    plan = plan_read(table, ReadOptions(connection=config))
    data = plan.reader.read_arrow([u for units in plan.partitions for u in units])
    rows = sorted(data.to_pylist(), key=lambda r: r["k"])
    return [repr(r) for r in rows]  # repr: NaN compares equal to NaN


def cqlsh(config: Any, statement: str) -> str:
    host, _, port = str(config.contact_points[0]).partition(":")
    port = port or str(config.port)
    done = subprocess.run(
        [str(CQLSH), str(host), str(port), "-e", statement], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Failed to import" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.stdout + done.stderr


def export_csv(config: Any, table: str, columns: list[str], path: Path, **kw: Any) -> None:
    plan = plan_read(table, ReadOptions(connection=config, columns=columns))
    data = plan.reader.read_arrow([u for units in plan.partitions for u in units], plan.columns)
    options = FormatOptions("csv", **kw)
    with path.open("wb") as f:
        writer = open_writer(f, data.schema, options)
        writer.write(data)
        writer.close()


@pytest.mark.skipif(not CQLSH.exists(), reason="cqlsh is not installed in this environment")
def test_csv_loads_back_with_cqlsh(
    cassandra_session: Any, cassandra_config: Any, keyspace: str, tmp_path: Path
) -> None:
    s = cassandra_session
    s.execute(f"CREATE TYPE {keyspace}.addr (street text, zip int)")
    for name in ("src", "dst"):
        s.execute(f"CREATE TABLE {keyspace}.{name} ({COLUMNS})")
    for statement in INSERTS:
        text = statement.replace("{ks}", keyspace)
        if "?" in text:
            s.execute(s.prepare(text), [TEXT])
        else:
            s.execute(text)
    all_columns = list(s.cluster.metadata.keyspaces[keyspace].tables["src"].columns)
    # duration: cqlsh's COPY FROM has no duration converter for prepared statements (it passes the text to
    # the driver, which fails); it loads durations only with PREPAREDSTATEMENTS=false, checked below.
    columns = [c for c in all_columns if c != "du"]
    path = tmp_path / "src.csv"
    # NULL='NULL': cqlsh's csv reader cannot tell "" from an empty field, so the default null text ('')
    # would load empty strings as null. ESCAPE='"': quotes are doubled (RFC 4180), cqlsh defaults to '\\'.
    export_csv(cassandra_config, f"{keyspace}.src", columns, path, null_value="NULL")
    cqlsh(
        cassandra_config,
        f"COPY {keyspace}.dst ({', '.join(columns)}) FROM '{path}' "
        f"WITH HEADER=true AND ESCAPE='\"' AND NULL='NULL' AND ERRFILE='{tmp_path}/err'",
    )
    dur = tmp_path / "dur.csv"
    export_csv(cassandra_config, f"{keyspace}.src", ["k", "du"], dur, null_value="NULL")
    cqlsh(
        cassandra_config,
        f"COPY {keyspace}.dst (k, du) FROM '{dur}' "
        "WITH HEADER=true AND NULL='NULL' AND PREPAREDSTATEMENTS=false",
    )
    src = read_rows(cassandra_config, f"{keyspace}.src")
    dst = read_rows(cassandra_config, f"{keyspace}.dst")
    assert len(src) == 4
    for a, b in zip(src, dst, strict=True):
        assert a == b

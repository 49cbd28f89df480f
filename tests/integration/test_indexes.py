"""cf.create_index / cf.drop_index on the real node; filters go to CQL through the new SAI index."""

from __future__ import annotations

import pandas as pd
import pytest

import cassandra_frames as cf
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.options import ReadOptions
from cassandra_frames.read import plan_read


def test_an_sai_index_takes_the_filter_into_cql(keyspace: str, cassandra_config: ConnectionConfig) -> None:
    table = f"{keyspace}.readings"
    frame = pd.DataFrame({"id": range(300), "site": [f"s{i % 7}" for i in range(300)], "v": range(300)})
    cf.to_cassandra(
        frame, table, connection=cassandra_config, create_table=True, partition_key="id", progress=False
    )
    filters = [("site", "==", "s3"), ("v", ">=", 100)]

    def where(reader_filters: list[tuple[str, str, object]]) -> str:
        plan = plan_read(
            table, ReadOptions(connection=cassandra_config, filters=reader_filters), min_partitions=1
        )
        text, _ = plan.reader.query(["id"])
        return text

    assert '"site" = ?' not in where(filters)  # no index yet: applied on the client
    assert cf.create_index(table, "site", connection=cassandra_config) == "readings_site_idx"
    assert cf.create_index(table, "site", connection=cassandra_config) == "readings_site_idx"  # if_not_exists
    assert '"site" = ?' in where(filters)  # pushed down, no ALLOW FILTERING
    assert "ALLOW FILTERING" not in where(filters)
    got = cf.read_cassandra(table, connection=cassandra_config, filters=filters).compute()
    assert sorted(got["id"]) == [i for i in range(100, 300) if i % 7 == 3]

    with pytest.raises(
        cf.SchemaError, match=r"column 'sitee' does not exist in table .*readings; did you mean 'site'"
    ):
        cf.create_index(table, "sitee", connection=cassandra_config)
    with pytest.raises(cf.SchemaError, match="already exists"):
        cf.create_index(table, "site", connection=cassandra_config, if_not_exists=False)

    cf.drop_index("readings_site_idx", keyspace=keyspace, connection=cassandra_config)
    assert '"site" = ?' not in where(filters)
    with pytest.raises(cf.SchemaError):
        cf.drop_index("readings_site_idx", keyspace=keyspace, connection=cassandra_config, if_exists=False)

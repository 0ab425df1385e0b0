"""The generator at any size: fixed person shards, written chunk by chunk.

The data depends on the config (seed, persons, shard size), never on how many shards a
run generates and writes at once; the in-memory `generate` gives the same rows as the
warehouse path; identifiers that must be unique stay unique across shards.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from onefold.errors import ConfigError
from onefold.generator import GeneratorConfig, generate, generate_demo_data
from onefold.generator.arrays import sharded_unique_ints, text, unique_random_ints
from onefold.generator.emails import canonical
from onefold.generator.run import RAW_TABLES
from onefold.settings import DuckDBSettings
from onefold.warehouse import DuckDBWarehouse

# Five shards (the last one short) of a small population: cheap, yet every cross-shard
# question (unique mailboxes, phones, keys, shared campaigns) has a real chance to fail.
CONFIG = GeneratorConfig(
    persons=450, seed=17, end_date=dt.date(2026, 3, 1), days=60, shard_persons=100
)
TRUTH_TABLES = ("record_owners", "persons", "noise_log", "generation_runs")
KEYS = {
    "web_events": "message_id",
    "shop_customers": "customer_id",
    "shop_orders": "order_id",
    "crm_contacts": "contact_id",
    "pos_transactions": "transaction_id",
    "email_events": "event_id",
    "consent_events": "consent_event_id",
    "erasure_requests": "request_id",
}


def _write(path: Path, chunk_shards: int) -> None:
    warehouse = DuckDBWarehouse(DuckDBSettings(path=path))
    try:
        generate_demo_data(warehouse, CONFIG, chunk_shards=chunk_shards)
    finally:
        warehouse.close()


def _table(path: Path, schema: str, table: str) -> pd.DataFrame:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return connection.execute(f"select * from {schema}.{table} order by rowid").df()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    root = tmp_path_factory.mktemp("chunks")
    paths = {chunk: root / f"chunk{chunk}.duckdb" for chunk in (1, 3)}
    for chunk, path in paths.items():
        _write(path, chunk)
    return paths


@pytest.mark.parametrize(
    ("schema", "table"),
    [("raw", t) for t in RAW_TABLES] + [("raw_truth", t) for t in TRUTH_TABLES],
)
def test_chunk_size_does_not_change_a_byte(
    written: dict[int, Path], schema: str, table: str
) -> None:
    one, three = (_table(written[chunk], schema, table) for chunk in (1, 3))
    assert len(one) > 0 or table == "erasure_requests"
    pd.testing.assert_frame_equal(one, three)


def test_in_memory_generation_equals_the_warehouse(written: dict[int, Path]) -> None:
    data = generate(CONFIG)
    for name in RAW_TABLES:
        stored = _table(written[1], "raw", name)
        pd.testing.assert_frame_equal(
            data.raw[name].frame.reset_index(drop=True), stored, check_dtype=False, obj=name
        )
        assert len(data.raw[name].owner) == len(stored)
    for name in ("record_owners", "persons", "noise_log"):
        stored = _table(written[1], "raw_truth", name)
        pd.testing.assert_frame_equal(
            data.truth[name].reset_index(drop=True), stored, check_dtype=False, obj=name
        )
    assert data.people.size == CONFIG.persons


def test_every_record_key_has_one_owner_across_shards(written: dict[int, Path]) -> None:
    owners = _table(written[1], "raw_truth", "record_owners")
    assert not owners.duplicated(["source_table", "record_key"]).any()
    for table, key in KEYS.items():
        keys = _table(written[1], "raw", table)[key].drop_duplicates()
        assert len(keys) == (owners["source_table"] == table).sum(), table


def test_people_are_distinct_across_shards(written: dict[int, Path]) -> None:
    persons = _table(written[1], "raw_truth", "persons")
    assert persons["person_id"].is_unique and len(persons) == CONFIG.persons
    assert persons["person_id"].iloc[-1] == "P0000450"
    mailboxes = pd.concat([persons["email"], persons["second_email"].dropna()])
    local, _, domain = mailboxes.str.rpartition("@").T.to_numpy()
    assert pd.Series(canonical(text(local), text(domain))).is_unique  # no shared mailbox
    phones = pd.concat([persons["phone"], persons["previous_phone"].dropna()])
    assert phones.is_unique
    cards = _table(written[1], "raw", "crm_contacts")[["contact_id", "loyalty_card_id"]]
    cards = cards.dropna().drop_duplicates()
    assert cards["loyalty_card_id"].nunique() == cards["contact_id"].nunique()


def test_households_and_campaigns_are_realistic_across_shards(written: dict[int, Path]) -> None:
    persons = _table(written[1], "raw_truth", "persons")
    number = persons["person_id"].str[1:].astype(int) - 1
    head = persons["household_id"].str[1:].astype(int) - 1
    assert (number // 100 == head // 100).all()  # a household lives within one shard
    assert (head != number).any()
    # Campaigns are sent to the whole list, not drawn again for every shard.
    events = _table(written[1], "raw", "email_events")
    assert events["campaign_id"].nunique() <= CONFIG.days // 7 + 1


def test_progress_counts_people_up_to_the_total(tmp_path: Path) -> None:
    steps: list[tuple[str, int, int]] = []
    warehouse = DuckDBWarehouse(DuckDBSettings(path=tmp_path / "p.duckdb"))
    try:
        generate_demo_data(
            warehouse,
            CONFIG,
            progress=lambda label, done, total: steps.append((label, done, total)),
        )
    finally:
        warehouse.close()
    done = [d for _, d, _ in steps]
    assert done == sorted(done) and steps[-1][1] == steps[-1][2]
    assert any("persons 401-450 of 450" in label for label, _, _ in steps)


def test_bad_shard_and_chunk_sizes_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="shard_persons"):
        GeneratorConfig(persons=10, seed=1, end_date=CONFIG.end_date, shard_persons=0)
    warehouse = DuckDBWarehouse(DuckDBSettings(path=tmp_path / "bad.duckdb"))
    try:
        with pytest.raises(ConfigError, match="chunk_shards"):
            generate_demo_data(warehouse, CONFIG, chunk_shards=0)
    finally:
        warehouse.close()


def test_shards_draw_record_keys_no_other_shard_can_draw() -> None:
    # A range with room for exactly the keys all shards need: any overlap would show.
    drawn = [
        sharded_unique_ints(np.random.default_rng(shard), 10, 1000, 1040, shard, 4)
        for shard in range(4)
    ]
    assert sorted(np.concatenate(drawn).tolist()) == list(range(1000, 1040))
    one = sharded_unique_ints(np.random.default_rng(3), 10, 1000, 2000, 0, 1)
    assert one.tolist() == unique_random_ints(np.random.default_rng(3), 10, 1000, 2000).tolist()


def test_duckdb_holds_at_most_a_bounded_buffer_while_generating(tmp_path: Path) -> None:
    """DuckDB keeps written blocks in memory up to `memory_limit` (80% of RAM by
    default), which would make a long run grow with the data: a run caps it, and
    gives the connection its settings back afterwards."""
    warehouse = DuckDBWarehouse(DuckDBSettings(path=tmp_path / "bounded.duckdb"))

    def setting(name: str) -> str:
        rows = warehouse.query("select value from duckdb_settings() where name = ?", [name])
        return str(rows[0][0])

    seen: list[tuple[str, str]] = []
    try:
        before = setting("memory_limit"), setting("enable_progress_bar")
        generate_demo_data(
            warehouse,
            CONFIG,
            progress=lambda *_: seen.append(
                (setting("memory_limit"), setting("enable_progress_bar"))
            ),
        )
        assert set(seen) == {("1.0 GiB", "false")}
        assert (setting("memory_limit"), setting("enable_progress_bar")) == before
    finally:
        warehouse.close()


def test_a_second_run_replaces_the_first(tmp_path: Path) -> None:
    config = GeneratorConfig(
        persons=150, seed=4, end_date=CONFIG.end_date, days=30, shard_persons=100
    )
    warehouse = DuckDBWarehouse(DuckDBSettings(path=tmp_path / "again.duckdb"))
    try:
        generate_demo_data(warehouse, config)
        report = generate_demo_data(warehouse, config)
        for table, rows in report.row_counts.items():
            assert warehouse.query(f"select count(*) from raw.{table}")[0][0] == rows, table
        persons = warehouse.query("select count(*) from raw_truth.persons")[0][0]
        assert persons == report.truth_row_counts["persons"] == 150
    finally:
        warehouse.close()

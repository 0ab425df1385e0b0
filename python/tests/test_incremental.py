"""Daily loads built incrementally give exactly what `--full-refresh` gives.

One sequence of loads per warehouse covers identity, the activity marts and everything
downstream of identity (golden attributes, traits, consent, segments, audiences), so
the builds are shared instead of repeated per area:

- The raw tables arrive in three loads, cut by `_loaded_at` (rows loaded later include
  events that happened earlier); the last load also deletes CRM contacts and shop
  customers upstream. "Now" moves to each load's date, so 30- and 90-day windows move
  for customers without new data.
- Warehouse `inc` builds every model incrementally after each load; warehouse `full`
  gets the same loads and rebuilds the identity models with `--full-refresh` (the
  reference; the id history survives it). After every load the record -> customer
  assignments, the identity change log, `identity_map` and `identity_edges` must be the
  same, and so must every column of the incremental identity tables (TABLES); an
  incremental run recomputes some components and customers, not all.
- The day without deletes shows from the models' own data that a run reads again only
  the records loaded since the last run. That day a CRM contact's email is also changed
  in `inc`'s raw table without a new load time: the incremental run must not see it
  (`full` gets the untouched row, so the equality checks hold), and at the end a full
  read of the same tampered row in `full` must.
- After every load `inc`'s `segment_memberships` holds exactly the customers whose
  `customers` row satisfies each demo segment's predicate, and the history records
  exactly the entries and exits of that day; some of them come from time alone
  (customers no load touched: the time-based pass of docs/consent-and-segments.md).
  `segment_memberships` is the open spells of `segment_membership_history`, which
  `--full-refresh` does not rebuild, so the predicates are checked directly.
- After the last load `inc` is rebuilt with `--full-refresh`: every mart, and the
  incremental `int_consent_signals`, must equal what the incremental runs left.

The event staging tables' awkward deliveries are test_incremental_staging.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from onefold.generator import GeneratorConfig, generate
from onefold.testing.dbt import DEMO_PROJECT_DIR, run_dbt
from onefold.testing.warehouse import connect_with, snapshot, target_environment

pytestmark = pytest.mark.e2e

END_DATE = dt.date(2026, 11, 1)
# Each load holds the rows loaded before its cut (None: everything); "now" is its date.
DAY_CUTOFFS = (dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 20), None)
MARTS = {
    "orders": "order_id",
    "web_sessions": "session_id",
    "email_activity": "email_event_id",
    "web_activity": "event_id",
    "customers": "customer_id",
    "customer_attributes": "customer_id, attribute, source, record_key",
    "customer_records": "source, record_key",
    "identity_map": "identifier_type, match_key",
    "consent_history": "consent_history_id",
    "consent_current": "customer_id, purpose",
    "segment_memberships": "segment_membership_id",
    "activation_audiences": "activation_audience_id",
}
# The comparison is of the marts: the data and unit tests run in the other e2e builds,
# and builds with them cost this test minutes on PostgreSQL.
MODELS_AND_SEEDS = ("--resource-type", "seed", "--resource-type", "model")
IDENTITY_MODELS = (
    "--select",
    "+customer_records +identity_changes +identity_map +identity_edges +identity_blocked_values",
)
# Source deletes on the last day: CRM contacts and shop customers gone upstream.
DELETED = {"crm_contacts": "contact_id", "shop_customers": "customer_id"}
# Every column of the incremental identity tables, against the full rebuild.
TABLES = {
    "onefold_intermediate.int_identifiers": "source, record_key, identifier_type, match_key",
    "onefold_intermediate.int_identifier_values": "identifier_type, match_key",
    "onefold_intermediate.int_identity_edges_candidate": "left_node_id, right_node_id",
    "onefold_marts.identity_map": "identifier_type, match_key",
    "onefold_marts.identity_edges": "source, record_key, identifier_type, match_key",
    "onefold_marts.identity_blocked_values": "identifier_type, match_key",
}
# Written by the run that computed the row, or named after a customer (compared through
# the assignments, where re-minted ids are matched).
SKIPPED = {"computed_at", "customer_id"}
# The day without deletes, on which the reads are checked and `inc`'s raw row tampered.
READS_DAY = 1
TAMPERED_EMAIL = "tampered.after.loading@example.org"


def day_of(cutoff: dt.datetime | None) -> str:
    """A load's date, its run's "now" (the last load: END_DATE)."""
    return (cutoff.date() if cutoff else END_DATE).isoformat()


def now_vars(cutoff: dt.datetime | None) -> list[str]:
    return ["--vars", f"{{onefold__now: '{day_of(cutoff)}'}}"]


def identity_snapshot(env: dict[str, str]) -> dict[str, pd.DataFrame]:
    warehouse = connect_with(env)
    try:
        return {
            "assignments": warehouse.query_df(
                "select source, record_key, customer_id from onefold_marts.customer_records "
                "order by source, record_key"
            ),
            "changes": warehouse.query_df(
                "select change_type, customer_id, previous_customer_id, cause, records_moved "
                "from onefold_marts.identity_changes "
                "order by change_type, customer_id, previous_customer_id, cause, records_moved"
            ),
            "identity_map": warehouse.query_df(
                "select customer_id, identifier_type, match_key, record_count "
                "from onefold_marts.identity_map order by identifier_type, match_key"
            ),
            "edges": warehouse.query_df(
                "select customer_id, source, record_key, identifier_type, match_key, drop_rule "
                "from onefold_marts.identity_edges "
                "order by source, record_key, identifier_type, match_key"
            ),
        }
    finally:
        warehouse.close()


def identity_tables(env: dict[str, str]) -> dict[str, pd.DataFrame]:
    warehouse = connect_with(env)
    try:
        frames = {}
        for table, order in TABLES.items():
            frame = warehouse.query_df(f"select * from {table} order by {order}")
            frame = frame.drop(columns=[c for c in frame.columns if c in SKIPPED])
            frames[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return frames
    finally:
        warehouse.close()


def deleted_upstream(table: str, frame: pd.DataFrame) -> pd.Series:
    """The rows the last load deletes: every third record loaded on the first day."""
    early = frame["_loaded_at"] < DAY_CUTOFFS[0]
    key = frame[DELETED[table]].astype(str)
    return early & key.isin(sorted(key[early])[::3])


def load_day(env: dict[str, str], raw: dict[str, pd.DataFrame], cutoff: dt.datetime | None) -> None:
    warehouse = connect_with(env)
    try:
        for table, frame in raw.items():
            landed = frame if cutoff is None else frame[frame["_loaded_at"] < cutoff]
            if cutoff is None and table in DELETED:
                landed = landed[~deleted_upstream(table, landed)]
            warehouse.write_df("raw", table, landed.reset_index(drop=True))
    finally:
        warehouse.close()


def quiet_contact(frame: pd.DataFrame) -> str:
    """A CRM contact with an email, delivered once, on the first day, never deleted."""
    deliveries = frame.groupby("contact_id")["_loaded_at"].agg(["count", "max"])
    quiet = deliveries[(deliveries["count"] == 1) & (deliveries["max"] < DAY_CUTOFFS[0])].index
    kept = frame[~deleted_upstream("crm_contacts", frame)]
    with_email = kept[kept["contact_id"].isin(quiet) & kept["email"].notna()]
    return str(with_email["contact_id"].iloc[0])


def tampered(raw: dict[str, pd.DataFrame], contact: str) -> dict[str, pd.DataFrame]:
    """The raw tables with the contact's email changed and its load time kept."""
    contacts = raw["crm_contacts"].copy()
    contacts.loc[contacts["contact_id"].astype(str) == contact, "email"] = TAMPERED_EMAIL
    return {**raw, "crm_contacts": contacts}


def count(env: dict[str, str], sql: str) -> int:
    warehouse = connect_with(env)
    try:
        return int(warehouse.query(sql)[0][0])
    finally:
        warehouse.close()


def records(env: dict[str, str], sql: str) -> set[tuple[str, str]]:
    warehouse = connect_with(env)
    try:
        return {(str(source), str(key)) for source, key in warehouse.query(sql)}
    finally:
        warehouse.close()


def expected_members(env: dict[str, str]) -> set[tuple[str, str]]:
    """Each demo segment's predicate evaluated over the whole customers table."""
    project = yaml.safe_load((DEMO_PROJECT_DIR / "dbt_project.yml").read_text())
    segments: dict[str, dict[str, str]] = project["vars"]["onefold__segments"]
    return set().union(
        *(
            records(
                env,
                f"select '{name}', customer_id from onefold_marts.customers "
                f"where ({segment['predicate']})",
            )
            for name, segment in segments.items()
        )
    )


def spells_on(env: dict[str, str], column: str, cutoff: dt.datetime | None) -> set[tuple[str, str]]:
    """The membership spells entered or exited (`column`) on the load's day."""
    return records(
        env,
        "select segment_name, customer_id from onefold_marts.segment_membership_history "
        f"where cast({column} as date) = cast('{day_of(cutoff)}' as date)",
    )


def assert_segments_follow(
    env: dict[str, str], target: str, day: int, cutoff: dt.datetime | None,
    previous: set[tuple[str, str]],
) -> set[tuple[str, str]]:  # fmt: skip
    """Memberships equal the predicates, and the day's entries and exits are the
    difference from the previous run's; the members, for the next day."""
    members = expected_members(env)
    assert members, "the demo segments have members"
    memberships = records(
        env, "select segment_name, customer_id from onefold_marts.segment_memberships"
    )
    assert memberships == members, f"{target} day {day}: memberships equal the predicates"
    assert spells_on(env, "entered_at", cutoff) == members - previous, f"entries, day {day}"
    assert spells_on(env, "exited_at", cutoff) == previous - members, f"exits, day {day}"
    return members


def observed_emails(env: dict[str, str], contact: str) -> set[str]:
    return {
        value
        for _, value in records(
            env,
            "select record_key, raw_value from onefold_intermediate.int_identifier_observations "
            f"where source = 'crm_contacts' and record_key = '{contact}' "
            "and identifier_type = 'email'",
        )
    }


def assert_reads_only_changed(
    env: dict[str, str], since: dt.datetime, contact: str, values_before: int
) -> None:
    """The run read again exactly the records loaded since the last run (a day without
    deletes), and wrote only their rows and those of the values they carry."""
    intermediate = "onefold_intermediate"
    loaded_since = records(
        env,
        f"select source, record_key from {intermediate}.int_identity_records_loaded "
        f"where loaded_at >= cast('{since.isoformat(sep=' ')}' as timestamp)",
    )
    changed = records(
        env, f"select source, record_key from {intermediate}.int_identity_records_changed"
    )
    saved_now = records(
        env,
        f"select source, record_key from {intermediate}.int_identity_records_loaded "
        f"where saved_at = (select max(saved_at) from {intermediate}.int_identity_records_loaded)",
    )
    all_records = count(env, f"select count(*) from {intermediate}.int_identity_records_loaded")
    assert loaded_since and changed == loaded_since == saved_now, (
        len(changed),
        len(loaded_since),
        len(saved_now),
    )
    assert len(changed) < all_records / 3, (len(changed), all_records)

    # The observations of the records it did not read are the previous run's: the
    # tampered row, whose load time did not change, was not read.
    emails = observed_emails(env, contact)
    assert emails and TAMPERED_EMAIL not in emails, emails

    # The rows the run wrote are those of the changed records (and of the values they carry).
    changed_rows = count(
        env,
        f"select count(*) from {intermediate}.int_identifier_observations "
        f"where (source, record_key) in "
        f"(select source, record_key from {intermediate}.int_identity_records_changed)",
    )
    assert changed_rows > 0
    values_now = count(
        env,
        f"select count(*) from {intermediate}.int_identifier_values "
        f"where computed_at = (select max(computed_at) from {intermediate}.int_identifier_values)",
    )
    values_after = count(env, f"select count(*) from {intermediate}.int_identifier_values")
    assert 0 < values_now < values_after / 3 and values_after >= values_before, (
        values_now,
        values_after,
        values_before,
    )
    relinked = count(env, f"select count(*) from {intermediate}.int_identity_records_relinked")
    assert len(changed) <= relinked < all_records / 3, (relinked, all_records)


def assert_same_identity(
    target: str,
    day: int,
    incremental: dict[str, pd.DataFrame],
    full: dict[str, pd.DataFrame],
    renamed: dict[str, str],
) -> None:
    """Same partition into customers, and the same identity tables once the ids that
    were minted differently are mapped (`renamed` accumulates over the days).

    A new id whose natural form was used before mixes in the run's start time, which
    differs between the two warehouses: such ids are matched by the records they hold."""
    pairs = incremental["assignments"].merge(
        full["assignments"], on=["source", "record_key"], how="outer", suffixes=("", "_full")
    )
    assert pairs["customer_id"].notna().all() and pairs["customer_id_full"].notna().all()
    for mine, theirs in (
        pairs[["customer_id", "customer_id_full"]].drop_duplicates().itertuples(index=False)
    ):
        assert renamed.setdefault(mine, theirs) == theirs, (day, mine, theirs)
    assert len(set(renamed.values())) == len(renamed), "the same partition into customers"
    for name, frame in incremental.items():
        for column in ("customer_id", "previous_customer_id"):
            if column in frame:
                frame[column] = frame[column].map(lambda v: renamed.get(v, v))
        order = list(frame.columns)
        pd.testing.assert_frame_equal(
            frame.sort_values(order).reset_index(drop=True),
            full[name].sort_values(order).reset_index(drop=True),
            check_dtype=False,
            obj=f"{target} day {day} {name}",
        )


# PostgreSQL's run is `make extended`: it costs CI's suite about 100 worker-seconds.
@pytest.mark.parametrize(
    "target",
    ["duckdb", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.extended])],
)
def test_daily_incremental_loads_equal_full_refresh(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server = lambda: request.getfixturevalue("postgres_server")  # noqa: E731
    incremental_env = target_environment(target, tmp_path, "onefold_daily_inc", server)
    full_env = target_environment(target, tmp_path, "onefold_daily_full", server)
    data = generate(GeneratorConfig(persons=300, seed=11, end_date=END_DATE))
    raw = {table: landed.frame for table, landed in data.raw.items()}
    incremental_target, full_target = tmp_path / "target_inc", tmp_path / "target_full"

    contact = quiet_contact(raw["crm_contacts"])
    renamed: dict[str, str] = {}
    orders = []
    values_before = 0
    members: set[tuple[str, str]] = set()
    time_only_changes = 0
    for day, cutoff in enumerate(DAY_CUTOFFS):
        load_day(incremental_env, tampered(raw, contact) if day == READS_DAY else raw, cutoff)
        run_dbt(
            ["build", *MODELS_AND_SEEDS, *now_vars(cutoff)], incremental_env, incremental_target
        )
        load_day(full_env, raw, cutoff)
        refresh = ["--full-refresh"] if day else []
        run_dbt(
            ["build", *MODELS_AND_SEEDS, *IDENTITY_MODELS, *refresh, *now_vars(cutoff)],
            full_env,
            full_target,
        )
        members = assert_segments_follow(incremental_env, target, day, cutoff, members)
        full = identity_snapshot(full_env)
        assert_same_identity(target, day, identity_snapshot(incremental_env), full, renamed)
        incremental_tables = identity_tables(incremental_env)
        for table, frame in identity_tables(full_env).items():
            assert len(frame) > 0, (day, table)
            pd.testing.assert_frame_equal(
                incremental_tables[table],
                frame,
                check_dtype=False,
                obj=f"{target} day {day} {table}",
            )
        if day == READS_DAY:
            assert_reads_only_changed(incremental_env, DAY_CUTOFFS[day - 1], contact, values_before)
        values_before = count(
            incremental_env, "select count(*) from onefold_intermediate.int_identifier_values"
        )
        orders.append(count(incremental_env, "select count(*) from onefold_marts.orders"))
        if day:
            # A day recomputes the components and customers it touched, not all of them.
            scoped = count(
                incremental_env, "select count(*) from onefold_intermediate.int_identity_scope"
            )
            record_count = count(
                incremental_env, "select count(*) from onefold_marts.customer_records"
            )
            assert 0 < scoped < record_count, (day, scoped, record_count)
            affected = count(
                incremental_env, "select count(*) from onefold_intermediate.int_customers_affected"
            )
            customers = count(incremental_env, "select count(*) from onefold_marts.customers")
            assert 0 < affected < customers, (day, affected, customers)
            time_only_changes += count(
                incremental_env,
                "select count(*) from onefold_intermediate.int_segment_changes as changes "
                "left join onefold_intermediate.int_customers_affected as affected "
                "on changes.customer_id = affected.customer_id "
                "where affected.customer_id is null",
            )
    assert time_only_changes > 0, "some memberships changed with time alone"
    # The demo links records probabilistically too: the equality above covers those links.
    assert (
        count(
            incremental_env,
            "select count(*) from onefold_intermediate.int_identity_edges_candidate "
            "where rule = 'probabilistic'",
        )
        > 0
    ), "probabilistic links in the graph"
    renamed_ids = sum(mine != theirs for mine, theirs in renamed.items())
    assert renamed_ids <= 3, f"{renamed_ids} ids differ: only re-minted ids may"
    changes = set(full["changes"]["change_type"])
    assert {"created", "merged", "split", "retired"} <= changes, changes
    assert orders[0] < orders[1] < orders[2], f"each load added orders: {orders}"

    # A full read of the row `inc` did not read again sees the tampered email (the CRM
    # staging table, then the two models that are the identity read).
    load_day(full_env, {"crm_contacts": tampered(raw, contact)["crm_contacts"]}, None)
    observations = [
        "stg_crm__contacts",
        "int_identity_records_changed",
        "int_identifier_observations",
    ]
    run_dbt(
        ["run", "--select", *observations, "--full-refresh", *now_vars(None)], full_env, full_target
    )
    emails = observed_emails(full_env, contact)
    assert TAMPERED_EMAIL in emails, emails

    # The reference for everything downstream: a full refresh of the same warehouse.
    signals = {"int_consent_signals": "signal_id"}
    incremental = snapshot(incremental_env, "onefold_marts", MARTS)
    incremental |= snapshot(incremental_env, "onefold_intermediate", signals)
    customers = len(incremental["customers"])
    run_dbt(
        ["build", *MODELS_AND_SEEDS, "--full-refresh", *now_vars(None)],
        incremental_env,
        incremental_target,
    )
    assert (
        count(incremental_env, "select count(*) from onefold_intermediate.int_customers_affected")
        >= customers
    ), "a full refresh recomputes every customer"
    full_marts = snapshot(incremental_env, "onefold_marts", MARTS)
    full_marts |= snapshot(incremental_env, "onefold_intermediate", signals)
    for table in [*MARTS, *signals]:
        assert len(full_marts[table]) > 0, table
        pd.testing.assert_frame_equal(
            incremental[table], full_marts[table], check_dtype=False, obj=f"{target} {table}"
        )

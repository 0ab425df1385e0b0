"""The sync tables Onefold owns in the warehouse, and every write to them.

They live in their own schema (`onefold_sync` by default), created here and never by
dbt, so `dbt build --full-refresh` cannot wipe what destinations already hold.

- `onefold_sync_state`: one row per sync and record key: the last acknowledged
  payload and its hash, status (`synced`, `removed`, `failed`; erasure adds `erased`),
  attempts, last error, when first and last acknowledged.
- `onefold_sync_runs`: one row per run, for BI: counts planned/sent/failed, duration,
  status (`running`, `succeeded`, `partial`, `failed`, `refused`, `interrupted`,
  `abandoned`), error summary, the running run's last heartbeat.
- `onefold_sync_failures`: one row per record a run could not deliver.
- `onefold_sync_locks`: one row per sync being run, with its holder's heartbeat (see
  `lock.py`).
- `onefold_sync_in_flight`: the destination call a sync has under way, one row per
  record (operation, idempotency key, and each record exactly as sent), written before
  the call and cleared in the transaction that settles it. A run that finds rows here
  (its predecessor was killed, or lost the destination mid-call) replays that call
  first, same body and same key, so a receiver that deduplicates on the key drops it.
  Erasure treats these records as possibly delivered (a delete goes to the destination)
  and deletes the person's rows here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from onefold.project import DbtProject, locate
from onefold.sql import chunks, literal, relation, transaction
from onefold.warehouse import Warehouse, quote_ident

STATE_TABLE = "onefold_sync_state"
RUNS_TABLE = "onefold_sync_runs"
FAILURES_TABLE = "onefold_sync_failures"
LOCKS_TABLE = "onefold_sync_locks"
IN_FLIGHT_TABLE = "onefold_sync_in_flight"

# Record statuses in onefold_sync_state.
SYNCED = "synced"
REMOVED = "removed"
FAILED = "failed"
#: set by erasure; the plan never sends such a record again
ERASED = "erased"

# Failure rows per insert statement.
_FAILURES_PER_STATEMENT = 100

_TABLES = {
    STATE_TABLE: """
        sync_name varchar not null,
        record_key varchar not null,
        customer_id varchar,
        destination_name varchar not null,
        destination_type varchar not null,
        payload_json varchar,
        payload_hash varchar,
        status varchar not null,
        attempts bigint not null,
        last_error varchar,
        first_synced_at timestamp,
        last_synced_at timestamp,
        primary key (sync_name, record_key)
    """,
    RUNS_TABLE: """
        run_id varchar primary key,
        sync_name varchar not null,
        destination varchar not null,
        destination_type varchar not null,
        mode varchar not null,
        started_at timestamp not null,
        finished_at timestamp,
        duration_seconds double precision,
        status varchar not null,
        planned_adds bigint,
        planned_changes bigint,
        planned_removes bigint,
        planned_retries bigint,
        excluded_without_consent bigint,
        sent bigint not null,
        failed bigint not null,
        error_summary varchar,
        is_dry_run boolean not null,
        heartbeat_at timestamp
    """,
    FAILURES_TABLE: """
        run_id varchar not null,
        sync_name varchar not null,
        record_key varchar not null,
        customer_id varchar,
        operation varchar not null,
        error varchar not null,
        failed_at timestamp not null
    """,
    LOCKS_TABLE: """
        sync_name varchar primary key,
        run_id varchar not null,
        holder varchar not null,
        acquired_at timestamp not null,
        heartbeat_at timestamp
    """,
    IN_FLIGHT_TABLE: """
        sync_name varchar not null,
        destination_name varchar not null,
        destination_type varchar not null,
        run_id varchar not null,
        operation varchar not null,
        idempotency_key varchar not null,
        record_key varchar not null,
        customer_id varchar,
        payload_json varchar,
        payload_hash varchar,
        prior_version varchar not null,
        reason varchar not null,
        recorded_at timestamp not null,
        primary key (sync_name, record_key)
    """,
}


#: (table, column, type) added since the tables were first created
_ADDED_COLUMNS = [
    (RUNS_TABLE, "heartbeat_at", "timestamp"),
    (LOCKS_TABLE, "heartbeat_at", "timestamp"),
]


def sync_schema(project: DbtProject | None = None) -> str:
    """`<target schema>_sync`: where the sync tables live (default project: the dbt
    project of the working directory, see onefold.project)."""
    return (project or locate()).sync_schema


def utc_now() -> dt.datetime:
    """Naive UTC, like every timestamp column in the project."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure_state_tables(warehouse: Warehouse, schema: str) -> None:
    """Create the sync schema and tables if they are missing (idempotent)."""
    warehouse.execute(f"create schema if not exists {quote_ident(schema)}")
    for table, columns in _TABLES.items():
        warehouse.execute(f"create table if not exists {relation(schema, table)} ({columns})")
    # Columns added after the first release: tables created before gain them, rows kept.
    for table, column, kind in _ADDED_COLUMNS:
        warehouse.execute(
            f"alter table {relation(schema, table)} add column if not exists {column} {kind}"
        )


@dataclass(frozen=True)
class PlannedRecord:
    """One row of a plan: what to send for a record key, and why."""

    key: str
    customer_id: str | None
    payload_json: str | None
    payload_hash: str | None
    #: the record's state before this run (see plan.py); part of the idempotency key
    prior_version: str
    #: add, change, retry or remove
    reason: str


@dataclass(frozen=True)
class Rejected:
    record: PlannedRecord
    error: str


@dataclass(frozen=True)
class SyncIdentity:
    """What every state row of one run repeats."""

    schema: str
    sync_name: str
    destination_name: str
    destination_type: str
    run_id: str


@dataclass(frozen=True)
class InFlightCall:
    """A destination call a run made and never settled (see IN_FLIGHT_TABLE)."""

    run_id: str
    operation: str
    idempotency_key: str
    #: in the order they were sent (key order)
    records: list[PlannedRecord]


def in_flight_relation(schema: str, sync_name: str) -> str:
    """The sync's in-flight rows, shaped like a plan (for StateWriter)."""
    return (
        f"(select * from {relation(schema, IN_FLIGHT_TABLE)} "
        f"where sync_name = {literal(sync_name)})"
    )


def load_in_flight(warehouse: Warehouse, schema: str, sync_name: str) -> InFlightCall | None:
    """The call the sync's last run left in flight, or None."""
    rows = warehouse.query(
        "select run_id, operation, idempotency_key, record_key, customer_id, payload_json, "
        "payload_hash, prior_version, reason "
        f"from {relation(schema, IN_FLIGHT_TABLE)} where sync_name = ? order by record_key",
        [sync_name],
    )
    if not rows:
        return None
    run_id, operation, key = (str(value) for value in rows[0][:3])
    return InFlightCall(run_id, operation, key, [PlannedRecord(*row[3:]) for row in rows])


class CallJournal:
    """Writes down each destination call before it is made (IN_FLIGHT_TABLE); the
    StateWriter transaction that settles the call clears it."""

    def __init__(self, warehouse: Warehouse, identity: SyncIdentity, plan_table: str) -> None:
        self.warehouse = warehouse
        self.identity = identity
        self.plan_table = plan_table
        self.table = relation(identity.schema, IN_FLIGHT_TABLE)

    def record(
        self, operation: str, idempotency_key: str, records: Sequence[PlannedRecord]
    ) -> None:
        """The call about to be made: its records as the plan holds them."""
        ident = self.identity
        with transaction(self.warehouse):
            self.warehouse.execute(
                f"delete from {self.table} where sync_name = ?", [ident.sync_name]
            )
            self.warehouse.execute(
                f"insert into {self.table} (sync_name, destination_name, destination_type, "
                "run_id, operation, idempotency_key, record_key, customer_id, payload_json, "
                "payload_hash, prior_version, reason, recorded_at) "
                "select ?, ?, ?, ?, ?, ?, plan.record_key, plan.customer_id, plan.payload_json, "
                "plan.payload_hash, plan.prior_version, plan.reason, ? "
                f"from {self.plan_table} as plan "
                "where plan.operation = ? and plan.record_key = any(?)",
                [
                    ident.sync_name,
                    ident.destination_name,
                    ident.destination_type,
                    ident.run_id,
                    operation,
                    idempotency_key,
                    utc_now(),
                    operation,
                    [record.key for record in records],
                ],
            )

    def clear(self) -> None:
        """The call was settled without a state change (refused as a whole)."""
        with transaction(self.warehouse):  # attaches a released DuckDB file
            clear_in_flight(self.warehouse, self.identity)


def clear_in_flight(warehouse: Warehouse, identity: SyncIdentity) -> None:
    warehouse.execute(
        f"delete from {relation(identity.schema, IN_FLIGHT_TABLE)} where sync_name = ?",
        [identity.sync_name],
    )


class StateWriter:
    """Advances state for what a destination acknowledged, one transaction per call.

    The payloads come from the run's plan table, so a state write sends no payload
    back over the wire.
    """

    def __init__(self, warehouse: Warehouse, identity: SyncIdentity, plan_table: str) -> None:
        self.warehouse = warehouse
        self.identity = identity
        self.plan_table = plan_table
        self.state = relation(identity.schema, STATE_TABLE)

    def record_call(
        self,
        operation: str,
        acknowledged: Sequence[PlannedRecord],
        rejected: Sequence[Rejected],
        run_sent: int,
        run_failed: int,
    ) -> None:
        """State for one destination call, and the run's running totals, atomically;
        the call is settled, so it is no longer in flight."""
        now = utc_now()
        with transaction(self.warehouse):
            keys = [record.key for record in acknowledged]
            if operation == "remove":
                self._mark_removed(keys, now)
            else:
                self._mark_synced(keys, now)
            if rejected:
                self._mark_failed(operation, rejected, now)
            self.warehouse.execute(
                f"update {relation(self.identity.schema, RUNS_TABLE)} "
                "set sent = ?, failed = ? where run_id = ?",
                [run_sent, run_failed, self.identity.run_id],
            )
            # Last: a replay's state writes read the payloads from the in-flight rows.
            clear_in_flight(self.warehouse, self.identity)

    def record_undelivered(
        self, operation: str, records: Sequence[PlannedRecord], error: str
    ) -> None:
        """Failure rows for a call that failed as a whole; state stays as it was so the
        records are planned again next run."""
        with transaction(self.warehouse):
            self._failure_rows(
                operation, [Rejected(record, error) for record in records], utc_now()
            )

    def record_not_attempted(
        self, after: tuple[str, str] | None, later_operations: Sequence[str], error: str
    ) -> None:
        """Failure rows for the plan's records a stopped run never tried: those of
        operation `after[0]` with a key after `after[1]` (batches go in key order) and
        every record of `later_operations`. With the rows of the records it tried, the
        run's failure rows then match its `failed` count."""
        ident = self.identity
        later = ", ".join(literal(name) for name in later_operations) or "null"
        operation, after_key = after or ("", "")
        with transaction(self.warehouse):
            self.warehouse.execute(
                f"insert into {relation(ident.schema, FAILURES_TABLE)} "
                "(run_id, sync_name, record_key, customer_id, operation, error, failed_at) "
                "select ?, ?, plan.record_key, plan.customer_id, plan.operation, ?, ? "
                f"from {self.plan_table} as plan "
                "where (plan.operation = ? and plan.record_key > ?) "
                f"or plan.operation in ({later})",
                [ident.run_id, ident.sync_name, error, utc_now(), operation, after_key],
            )

    # Keys travel as one array parameter (`= any(?)`, the same SQL on both targets):
    # binding one parameter per key costs more than the write itself on DuckDB.

    def _mark_synced(self, keys: Sequence[str], now: dt.datetime) -> None:
        if keys:
            ident = self.identity
            self.warehouse.execute(
                f"""
                insert into {self.state} as state (
                    sync_name, record_key, customer_id, destination_name, destination_type,
                    payload_json, payload_hash, status, attempts, last_error,
                    first_synced_at, last_synced_at
                )
                select ?, plan.record_key, plan.customer_id, ?, ?,
                    plan.payload_json, plan.payload_hash, '{SYNCED}', 1, null, ?, ?
                from {self.plan_table} as plan
                where plan.record_key = any(?)
                on conflict (sync_name, record_key) do update set
                    customer_id = excluded.customer_id,
                    destination_name = excluded.destination_name,
                    destination_type = excluded.destination_type,
                    payload_json = excluded.payload_json,
                    payload_hash = excluded.payload_hash,
                    status = excluded.status,
                    attempts = case when state.status = '{FAILED}'
                        then state.attempts + 1 else 1 end,
                    last_error = null,
                    first_synced_at = coalesce(state.first_synced_at, excluded.first_synced_at),
                    last_synced_at = excluded.last_synced_at
                """,
                [
                    ident.sync_name,
                    ident.destination_name,
                    ident.destination_type,
                    now,
                    now,
                    list(keys),
                ],
            )

    def _mark_removed(self, keys: Sequence[str], now: dt.datetime) -> None:
        # The payload stays: it is what the destination last held, which erasure needs.
        if keys:
            self.warehouse.execute(
                f"""
                update {self.state} set
                    status = '{REMOVED}',
                    attempts = case when status = '{FAILED}' then attempts + 1 else 1 end,
                    last_error = null,
                    last_synced_at = ?
                where sync_name = ? and record_key = any(?)
                """,
                [now, self.identity.sync_name, list(keys)],
            )

    def _mark_failed(self, operation: str, rejected: Sequence[Rejected], now: dt.datetime) -> None:
        # A record never acknowledged gets a row without payload; one acknowledged before
        # keeps its last acknowledged payload. Either way the plan retries it next run.
        ident = self.identity
        for item in rejected:
            self.warehouse.execute(
                f"""
                insert into {self.state} as state (
                    sync_name, record_key, customer_id, destination_name, destination_type,
                    payload_json, payload_hash, status, attempts, last_error,
                    first_synced_at, last_synced_at
                )
                values (?, ?, ?, ?, ?, null, null, '{FAILED}', 1, ?, null, null)
                on conflict (sync_name, record_key) do update set
                    status = excluded.status,
                    attempts = case when state.status = '{FAILED}'
                        then state.attempts + 1 else 1 end,
                    last_error = excluded.last_error
                """,
                [
                    ident.sync_name,
                    item.record.key,
                    item.record.customer_id,
                    ident.destination_name,
                    ident.destination_type,
                    item.error,
                ],
            )
        self._failure_rows(operation, rejected, now)

    def _failure_rows(self, operation: str, rejected: Sequence[Rejected], now: dt.datetime) -> None:
        ident = self.identity
        for part in chunks(list(rejected), _FAILURES_PER_STATEMENT):
            values = ", ".join("(?, ?, ?, ?, ?, ?, ?)" for _ in part)
            params: list[object] = []
            for item in part:
                params += [
                    ident.run_id,
                    ident.sync_name,
                    item.record.key,
                    item.record.customer_id,
                    operation,
                    item.error,
                    now,
                ]
            self.warehouse.execute(
                f"insert into {relation(ident.schema, FAILURES_TABLE)} "
                "(run_id, sync_name, record_key, customer_id, operation, error, failed_at) "
                f"values {values}",
                params,
            )

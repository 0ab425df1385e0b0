"""The plan: a SQL diff of the snapshot against the sync's state, in the warehouse.

| reason | snapshot row | state row                          | operation           |
|--------|--------------|------------------------------------|---------------------|
| add    | yes          | none, or `removed`                 | upsert / insert     |
| change | yes          | `synced` with another payload hash | upsert (not insert) |
| retry  | yes          | `failed`                           | upsert / insert     |
| remove | no           | `synced` or `failed` (mirror only) | remove              |

Anything else (an unchanged `synced` record, an `erased` one) is not sent, so a
no-change run sends nothing. Records are sent in key order, which makes batches, and
so their idempotency keys, the same when a killed run is replayed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from onefold.sql import literal, relation
from onefold.sync.config import SyncConfig
from onefold.sync.destinations.base import Operation
from onefold.sync.dialect import Dialect
from onefold.sync.results import REASONS, PlanSummary, Sample
from onefold.sync.state import FAILED, REMOVED, STATE_TABLE, SYNCED, PlannedRecord
from onefold.warehouse import Warehouse, quote_ident

SAMPLES_PER_REASON = 3
# Rows fetched from the plan per query while sending.
PAGE_SIZE = 5000

# A state relation with no rows, for a dry run before the state table exists.
_EMPTY_STATE = (
    "(select cast(null as varchar) as record_key, cast(null as varchar) as customer_id, "
    "cast(null as varchar) as payload_json, cast(null as varchar) as payload_hash, "
    "cast(null as varchar) as status, cast(null as bigint) as attempts, "
    "cast(null as timestamp) as last_synced_at where 1 = 0)"
)


def operation_for(sync: SyncConfig) -> str:
    """What adds, changes and retries become at the destination."""
    return "insert" if sync.mode == "insert" else "upsert"


def state_relation(sync: SyncConfig, schema: str, state_exists: bool) -> str:
    if not state_exists:
        return _EMPTY_STATE
    return f"(select * from {relation(schema, STATE_TABLE)} where sync_name = {literal(sync.name)})"


def build_plan(
    warehouse: Warehouse,
    dialect: Dialect,
    sync: SyncConfig,
    snapshot_table: str,
    state: str,
    name: str,
) -> str:
    """Create the plan as temporary table `name`; return its qualified name."""
    operation = literal(operation_for(sync))
    # The state a record had before this run; a replay after a crash sees the same.
    prior = (
        "case when state.record_key is null then '' else state.status || ':' || "
        "cast(state.attempts as varchar) || ':' || "
        "coalesce(cast(state.last_synced_at as varchar), '') end"
    )
    change = (
        f"when state.status = '{SYNCED}' "
        "and state.payload_hash is distinct from snapshot.payload_hash then 'change'"
        if sync.mode != "insert"
        else ""
    )
    removes = (
        f"""
        union all
        select state.record_key, state.customer_id, state.payload_json, state.payload_hash,
            {prior} as prior_version, 'remove' as reason, 'remove' as operation
        from {state} as state
        left join {snapshot_table} as snapshot on snapshot.record_key = state.record_key
        where snapshot.record_key is null and state.status in ('{SYNCED}', '{FAILED}')
        """
        if sync.mode == "mirror"
        else ""
    )
    table = dialect.temp_table(name)
    warehouse.execute(f"drop table if exists {table}")
    warehouse.execute(
        f"""
        create temporary table {quote_ident(name)} as
        select * from (
            select snapshot.record_key, snapshot.customer_id, snapshot.payload_json,
                snapshot.payload_hash, {prior} as prior_version,
                case
                    when state.record_key is null or state.status = '{REMOVED}' then 'add'
                    when state.status = '{FAILED}' then 'retry'
                    {change}
                end as reason,
                {operation} as operation
            from {snapshot_table} as snapshot
            left join {state} as state on state.record_key = snapshot.record_key
            {removes}
        ) as planned
        where reason is not null
        """
    )
    return table


def summarize(
    warehouse: Warehouse,
    plan_table: str,
    source_rows: int,
    snapshot_rows: int,
    with_samples: bool,
) -> PlanSummary:
    """Counts per reason; with a few payloads per reason for a dry run to show."""
    counts = dict.fromkeys(REASONS, 0)
    for reason, count in warehouse.query(
        f"select reason, count(*) from {plan_table} group by reason"
    ):
        counts[str(reason)] = int(count)
    samples: dict[str, list[Sample]] = {}
    for reason in REASONS if with_samples else ():
        if not counts[reason]:
            continue
        rows = warehouse.query(
            f"select record_key, payload_json from {plan_table} where reason = ? "
            f"order by record_key limit {SAMPLES_PER_REASON}",
            [reason],
        )
        samples[reason] = [Sample(str(key), payload(text)) for key, text in rows]
    return PlanSummary(
        adds=counts["add"],
        changes=counts["change"],
        removes=counts["remove"],
        retries=counts["retry"],
        source_rows=source_rows,
        excluded_without_consent=source_rows - snapshot_rows,
        samples=samples,
    )


def operations(warehouse: Warehouse, plan_table: str) -> list[Operation]:
    """The operations the plan holds: additions first, then removals."""
    rows = warehouse.query(f"select distinct operation from {plan_table}")
    present = {str(row[0]) for row in rows}
    ordered: tuple[Operation, ...] = ("upsert", "insert", "remove")
    return [operation for operation in ordered if operation in present]


def payload(text: str | None) -> dict[str, Any]:
    """A payload column back as a dict (a never-acknowledged record has none)."""
    if text is None:
        return {}
    parsed: dict[str, Any] = json.loads(text)
    return parsed


@dataclass(frozen=True)
class Batches:
    """The plan's records for one operation, in key order, cut into batches."""

    warehouse: Warehouse
    plan_table: str
    operation: Operation
    batch_size: int

    def __iter__(self) -> Iterator[list[PlannedRecord]]:
        after: str | None = None
        batch: list[PlannedRecord] = []
        while True:
            condition = "" if after is None else "and record_key > ?"
            rows = self.warehouse.query(
                "select record_key, customer_id, payload_json, payload_hash, prior_version, "
                f"reason from {self.plan_table} where operation = ? {condition} "
                f"order by record_key limit {PAGE_SIZE}",
                [self.operation] if after is None else [self.operation, after],
            )
            for row in rows:
                batch.append(PlannedRecord(*row))
                if len(batch) == self.batch_size:
                    yield batch
                    batch = []
            if len(rows) < PAGE_SIZE:
                break
            after = str(rows[-1][0])
        if batch:
            yield batch

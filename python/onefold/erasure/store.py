"""Onefold's erasure state in `<target schema>_privacy` (created by dbt's on-run-start hook).

- `erasure_receipts`: one row per request; found/done counts, status, verification.
- `erasure_steps`: the journal; a step with a row here is done and is never redone.
- `erasure_destinations`: per request and destination, the delete call's status.
- `erasure_work`: the request's resolved keys while it runs; deleted when it completes.
- `erasure_suppressions`: salted hashes staging screens.

No table here holds an erased value once its request is complete.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from onefold.dml import RowChange, apply
from onefold.erasure.config import ErasureConfig
from onefold.sql import placeholders, transaction
from onefold.warehouse import Warehouse

IN_PROGRESS = "in_progress"
PARTIALLY_FAILED = "partially_failed"
COMPLETED = "completed"
REJECTED = "rejected"

KEYS_TABLE = "erasure_keys"
#: the columns of erasure_suppressions
SUPPRESSION_COLUMNS = (
    "identifier_type",
    "identifier_form",
    "suppression_hash",
    "salt_fingerprint",
    "erasure_request_id",
    "suppressed_at",
)
HOLDING_TABLE = "erasure_holding_lookup"


def insert_rows(
    warehouse: Warehouse, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Append rows without their values in any statement's text (Warehouse.insert_rows)."""
    warehouse.insert_rows(table, columns, rows)


def fill_temp_table(
    warehouse: Warehouse, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """(Re)create the session-temporary text table `table` holding `rows`."""
    if warehouse.target == "spark":
        from onefold.spark import SparkWarehouse

        assert isinstance(warehouse, SparkWarehouse)
        warehouse.fill_session_table(table, columns, rows)
        return
    definition = ", ".join(f"{column} varchar" for column in columns)
    if warehouse.target == "duckdb":
        warehouse.execute(f"create or replace temp table {table} ({definition})")
    else:
        warehouse.execute(f"create temp table if not exists {table} ({definition})")
        warehouse.execute(f"truncate table {table}")
    insert_rows(warehouse, table, columns, rows)
    if warehouse.target == "postgres":
        warehouse.execute(f"analyze {table}")


def session_table_as(warehouse: Warehouse, table: str, select_sql: str) -> None:
    """(Re)create the session-temporary table `table` holding a query's rows."""
    if warehouse.target == "spark":
        from onefold.spark import SparkWarehouse

        assert isinstance(warehouse, SparkWarehouse)
        warehouse.session_table_as(table, select_sql)
        return
    drop_session_table(warehouse, table)
    warehouse.execute(f"create temp table {table} as {select_sql}")


def drop_session_table(warehouse: Warehouse, table: str) -> None:
    if warehouse.target == "spark":
        warehouse.execute(f"drop view if exists {table}")
    else:
        warehouse.execute(f"drop table if exists {table}")


def append_session_rows(
    warehouse: Warehouse, table: str, columns: Sequence[str], select_sql: str
) -> None:
    """Add a query's rows to the session table `table` (the query may read it)."""
    if warehouse.target == "spark":
        from onefold.spark import SparkWarehouse

        assert isinstance(warehouse, SparkWarehouse)
        warehouse.append_session_table(table, select_sql)
        return
    warehouse.execute(f"insert into {table} ({', '.join(columns)}) {select_sql}")


@dataclass(frozen=True)
class Receipt:
    erasure_request_id: str
    request_source: str
    identifier_types: str
    regulation: str
    status: str
    found: dict[str, Any]
    actions: dict[str, Any]
    verification: dict[str, Any] | None
    last_error: str | None
    residuals_count: int | None
    received_at: dt.datetime | None
    started_at: dt.datetime | None
    updated_at: dt.datetime | None
    completed_at: dt.datetime | None
    verified_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "erasure_request_id": self.erasure_request_id,
            "request_source": self.request_source,
            "identifier_types": self.identifier_types,
            "regulation": self.regulation,
            "status": self.status,
            "found": self.found,
            "actions": self.actions,
            "verification": self.verification,
            "last_error": self.last_error,
            "residuals_count": self.residuals_count,
            "received_at": _iso(self.received_at),
            "started_at": _iso(self.started_at),
            "updated_at": _iso(self.updated_at),
            "completed_at": _iso(self.completed_at),
            "verified_at": _iso(self.verified_at),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(sep=" ") if value else None


_RECEIPT_COLUMNS = (
    "erasure_request_id, request_source, identifier_types, regulation, status, found_json, "
    "actions_json, verification_json, last_error, residuals_count, received_at, started_at, "
    "updated_at, completed_at, verified_at"
)


class Store:
    def __init__(self, warehouse: Warehouse, config: ErasureConfig) -> None:
        self.warehouse = warehouse
        self.config = config

    def table(self, name: str) -> str:
        return self.config.privacy_table(name)

    # -- receipts ---------------------------------------------------------------------

    def receipt(self, request_id: str) -> Receipt | None:
        rows = self.warehouse.query(
            f"select {_RECEIPT_COLUMNS} from {self.table('erasure_receipts')} "
            "where erasure_request_id = ?",
            [request_id],
        )
        if not rows:
            return None
        row = rows[0]
        return Receipt(
            erasure_request_id=str(row[0]),
            request_source=str(row[1]),
            identifier_types=str(row[2] or ""),
            regulation=str(row[3] or ""),
            status=str(row[4]),
            found=json.loads(row[5]) if row[5] else {},
            actions=json.loads(row[6]) if row[6] else {},
            verification=json.loads(row[7]) if row[7] else None,
            last_error=row[8],
            residuals_count=None if row[9] is None else int(row[9]),
            received_at=row[10],
            started_at=row[11],
            updated_at=row[12],
            completed_at=row[13],
            verified_at=row[14],
        )

    def request_ids(self, statuses: Sequence[str]) -> list[str]:
        """Requests in one of `statuses`, oldest first."""
        markers = placeholders(statuses)
        rows = self.warehouse.query(
            f"select erasure_request_id from {self.table('erasure_receipts')} "
            f"where status in ({markers}) order by received_at, erasure_request_id",
            list(statuses),
        )
        return [str(row[0]) for row in rows]

    def insert_receipt(
        self,
        request_id: str,
        request_source: str,
        identifier_types: str,
        regulation: str,
        received_at: dt.datetime,
        found: dict[str, Any],
        now: dt.datetime,
    ) -> None:
        self.warehouse.execute(
            f"insert into {self.table('erasure_receipts')} (erasure_request_id, request_source, "
            "identifier_types, regulation, status, found_json, actions_json, received_at, "
            "started_at, updated_at, completed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                request_id,
                request_source,
                identifier_types,
                regulation,
                IN_PROGRESS,
                json.dumps(found, sort_keys=True),
                json.dumps({}),
                received_at,
                now,
                now,
                None,
            ],
        )

    def record_rejection(self, request: Any, reason: str, now: dt.datetime) -> None:
        """A request erasure cannot act on: a `rejected` receipt with the reason (no
        value), replaced when the request is tried again."""
        table = self.table("erasure_receipts")
        with transaction(self.warehouse):
            apply(
                self.warehouse,
                RowChange(
                    table, "erasure_request_id = ? and status = ?", (request.request_id, REJECTED)
                ),
            )
            self.warehouse.execute(
                f"insert into {table} (erasure_request_id, request_source, identifier_types, "
                "regulation, status, found_json, actions_json, last_error, received_at, "
                "started_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    request.request_id,
                    request.request_source,
                    ",".join(sorted({i.identifier_type for i in request.identifiers})),
                    request.regulation,
                    REJECTED,
                    json.dumps({}),
                    json.dumps({}),
                    reason,
                    request.received_at,
                    now,
                    now,
                ],
            )

    def update_receipt(
        self,
        request_id: str,
        now: dt.datetime,
        *,
        status: str | None = None,
        actions: dict[str, Any] | None = None,
        last_error: str | None = None,
        clear_error: bool = False,
        completed: bool = False,
    ) -> None:
        sets: list[tuple[str, str]] = [("updated_at", "?")]
        params: list[Any] = [now]
        if status is not None:
            sets.append(("status", "?"))
            params.append(status)
        if actions is not None:
            sets.append(("actions_json", "?"))
            params.append(json.dumps(actions, sort_keys=True))
        if last_error is not None or clear_error:
            sets.append(("last_error", "?"))
            params.append(last_error)
        if completed:
            sets.append(("completed_at", "?"))
            params.append(now)
        apply(self.warehouse, self._receipt_change(request_id, sets, params))

    def _receipt_change(
        self, request_id: str, sets: list[tuple[str, str]], params: list[Any]
    ) -> RowChange:
        return RowChange(
            self.table("erasure_receipts"),
            "erasure_request_id = ?",
            (request_id,),
            assignments=tuple(sets),
            assignment_params=tuple(params),
        )

    def record_verification(
        self, request_id: str, result: dict[str, Any], residuals: int, now: dt.datetime
    ) -> None:
        sets = [
            (column, "?")
            for column in ("verification_json", "residuals_count", "verified_at", "updated_at")
        ]
        params = [json.dumps(result, sort_keys=True), residuals, now, now]
        apply(self.warehouse, self._receipt_change(request_id, sets, params))

    # -- journal ----------------------------------------------------------------------

    def done_steps(self, request_id: str) -> dict[str, int]:
        rows = self.warehouse.query(
            f"select step_name, rows_affected from {self.table('erasure_steps')} "
            "where erasure_request_id = ?",
            [request_id],
        )
        return {str(name): int(count or 0) for name, count in rows}

    def steps(self, request_id: str) -> list[dict[str, Any]]:
        rows = self.warehouse.query(
            f"select step_number, step_name, statement_sql, rows_affected, finished_at "
            f"from {self.table('erasure_steps')} where erasure_request_id = ? "
            "order by step_number",
            [request_id],
        )
        return [
            {
                "step": int(number),
                "name": str(name),
                "statement": statement,
                "rows": None if count is None else int(count),
                "finished_at": _iso(finished),
            }
            for number, name, statement, count, finished in rows
        ]

    def record_step(
        self,
        request_id: str,
        name: str,
        statement: str | None,
        rows: int | None,
        now: dt.datetime,
    ) -> None:
        self.warehouse.execute(
            f"insert into {self.table('erasure_steps')} (erasure_request_id, step_number, "
            "step_name, statement_sql, rows_affected, finished_at) "
            f"select ?, coalesce(max(step_number), 0) + 1, ?, ?, ?, ? "
            f"from {self.table('erasure_steps')} where erasure_request_id = ?",
            [request_id, name, statement, rows, now, request_id],
        )

    # -- work items -------------------------------------------------------------------

    def write_work(self, request_id: str, items: Sequence[tuple[str, str, str, str, str]]) -> None:
        """Items: (kind, group, key, detail, payload_json)."""
        insert_rows(
            self.warehouse,
            self.table("erasure_work"),
            (
                "erasure_request_id",
                "item_kind",
                "item_group",
                "item_key",
                "item_detail",
                "payload_json",
            ),
            [(request_id, *item) for item in items],
        )

    def work(self, request_id: str) -> list[tuple[str, str, str, str, str]]:
        rows = self.warehouse.query(
            f"select item_kind, item_group, item_key, item_detail, payload_json "
            f"from {self.table('erasure_work')} where erasure_request_id = ?",
            [request_id],
        )
        return [tuple(str(v) if v is not None else "" for v in row) for row in rows]  # type: ignore[misc]

    def requests_holding(self, match_keys: Sequence[str]) -> list[str]:
        """Unfinished requests whose resolved identifiers include one of `match_keys`."""
        if not match_keys:
            return []
        # Match keys are the person's values: a session table, not statement text.
        fill_temp_table(self.warehouse, HOLDING_TABLE, ("value",), [(k,) for k in match_keys])
        rows = self.warehouse.query(
            f"select distinct erasure_request_id from {self.table('erasure_work')} "
            "where item_kind = 'identifier' "
            f"and item_detail in (select value from {HOLDING_TABLE}) "
            "order by erasure_request_id"
        )
        return [str(row[0]) for row in rows]

    def clear_work(self, request_id: str) -> int:
        return apply(
            self.warehouse,
            RowChange(self.table("erasure_work"), "erasure_request_id = ?", (request_id,)),
        )

    # -- suppressions -----------------------------------------------------------------

    def salt_fingerprints(self, request_id: str | None = None) -> set[str]:
        """Fingerprints of the salts the suppression hashes (of one request) were written with."""
        where, params = ("where erasure_request_id = ?", [request_id]) if request_id else ("", [])
        rows = self.warehouse.query(
            f"select distinct salt_fingerprint from {self.table('erasure_suppressions')} {where}",
            params,
        )
        return {str(row[0]) for row in rows}

    def suppressed_by(self, hashes: Sequence[str]) -> list[str]:
        """Requests that already suppressed one of these hashes."""
        if not hashes:
            return []
        markers = placeholders(hashes)
        rows = self.warehouse.query(
            f"select distinct erasure_request_id from {self.table('erasure_suppressions')} "
            f"where suppression_hash in ({markers}) order by erasure_request_id",
            list(hashes),
        )
        return [str(row[0]) for row in rows]

    def request_hashes(self, request_id: str) -> list[tuple[str, str, str]]:
        rows = self.warehouse.query(
            f"select identifier_type, identifier_form, suppression_hash "
            f"from {self.table('erasure_suppressions')} where erasure_request_id = ?",
            [request_id],
        )
        return [(str(t), str(f or "match_key"), str(h)) for t, f, h in rows]

    # -- destinations -----------------------------------------------------------------

    def destination_statuses(self, request_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        rows = self.warehouse.query(
            f"select sync_name, destination_name, destination_type, status, last_error, "
            f"records_count, attempts, first_attempted_at, last_attempted_at, completed_at "
            f"from {self.table('erasure_destinations')} where erasure_request_id = ?",
            [request_id],
        )
        return {
            (str(row[0]), str(row[1])): {
                "sync_name": str(row[0]),
                "destination_name": str(row[1]),
                "destination_type": str(row[2]),
                "status": str(row[3]),
                "last_error": row[4],
                "records": int(row[5] or 0),
                "attempts": int(row[6] or 0),
                "first_attempted_at": _iso(row[7]),
                "last_attempted_at": _iso(row[8]),
                "completed_at": _iso(row[9]),
            }
            for row in rows
        }

    def record_destination(
        self,
        request_id: str,
        sync_name: str,
        destination_name: str,
        destination_type: str,
        records: int,
        status: str,
        error: str | None,
        now: dt.datetime,
    ) -> None:
        table = self.table("erasure_destinations")
        with transaction(self.warehouse):
            existing = self.warehouse.query(
                f"select attempts, first_attempted_at from {table} "
                "where erasure_request_id = ? and sync_name = ? and destination_name = ?",
                [request_id, sync_name, destination_name],
            )
            attempts = (int(existing[0][0] or 0) if existing else 0) + 1
            first = existing[0][1] if existing else now
            apply(
                self.warehouse,
                RowChange(
                    table,
                    "erasure_request_id = ? and sync_name = ? and destination_name = ?",
                    (request_id, sync_name, destination_name),
                ),
            )
            self.warehouse.execute(
                f"insert into {table} (erasure_request_id, sync_name, destination_name, "
                "destination_type, status, last_error, records_count, attempts, "
                "first_attempted_at, last_attempted_at, completed_at) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    request_id,
                    sync_name,
                    destination_name,
                    destination_type,
                    status,
                    error,
                    records,
                    attempts,
                    first,
                    now,
                    now if status == "succeeded" else None,
                ],
            )

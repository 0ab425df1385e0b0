"""Running a request: resolve, show the plan (dry run) or journal it and run every step
exactly once (`--execute`), in an order that is safe to interrupt anywhere.

Order, and why:
1. journal: the receipt (in_progress) and the resolved keys (`erasure_work`), together,
   in one transaction. From here on the request no longer depends on the identity
   marts it is about to empty, and a rerun after a crash resumes it.
2. suppress: the salted hashes go to the suppression list *first*, so replayed data
   is screened out even if the run dies before the raw tables are cleaned.
3. sync_mark: the person's sync state rows are marked `erased`, so no sync run sends
   them again (their payloads stay: the destination deletes need them).
4. raw, then derived: one journaled statement per table.
5. destinations: one delete call per destination that held the person; a failure is
   recorded and retried on the next run.
6. sync state: a destination's state and failure rows go once its delete succeeded.
7. complete: when every destination succeeded, the work rows (the only plain values
   erasure itself ever stored) are deleted and the receipt says completed.

Each step commits together with its journal row, so after a crash a step is either
done and recorded or not done at all; every statement is idempotent besides.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onefold.dml import RowChange, RowInsert, apply
from onefold.erasure import plan
from onefold.erasure.config import ErasureConfig, check_relations
from onefold.erasure.propagate import (
    SUCCEEDED,
    DestinationResult,
    erase_at_destination,
    group_sync_records,
    load_sync_configs,
)
from onefold.erasure.requests import (
    CLI_SOURCE,
    INTAKE_SOURCE,
    ErasureRequest,
    due_at,
    redaction_markers,
    utc_now,
)
from onefold.erasure.resolve import (
    SYNC_IN_FLIGHT_TABLE,
    SYNC_STATE_TABLE,
    FoundIdentifier,
    MalformedIdentifier,
    Resolution,
    SharedIdentifier,
    SyncRecord,
    expand,
    find_customers,
)
from onefold.erasure.salt import Salt
from onefold.erasure.store import (
    COMPLETED,
    IN_PROGRESS,
    KEYS_TABLE,
    PARTIALLY_FAILED,
    REJECTED,
    SUPPRESSION_COLUMNS,
    Store,
    append_session_rows,
)
from onefold.erasure.suppression import duckdb_suppression_macros, suppression_entries
from onefold.errors import ConfigError
from onefold.sql import relation, transaction
from onefold.warehouse import Warehouse

# Outcome statuses (receipt statuses plus what a run without changes reports).
DRY_RUN = "dry_run"
NOT_FOUND = "not_found"
ALREADY_ERASED = "already_erased"
ALREADY_COMPLETED = "already_completed"


@dataclass
class StepResult:
    name: str
    phase: str
    table: str
    action: str
    statement: str
    rows: int | None
    state: str  # planned | done | already_done | failed


def changed_tables(outcomes: Sequence[Outcome]) -> list[str]:
    """Every table a step of these outcomes deleted or redacted rows in."""
    return sorted(
        {
            step.table
            for outcome in outcomes
            for step in outcome.steps
            if step.state in ("done", "already_done") and (step.rows or 0) > 0
        }
    )


@dataclass
class Outcome:
    request_id: str
    request_source: str
    status: str
    message: str
    regulation: str = ""
    received_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    found: dict[str, Any] = field(default_factory=dict)
    identifiers: list[FoundIdentifier] = field(default_factory=list)
    shared: list[SharedIdentifier] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    destinations: list[DestinationResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.status == REJECTED:
            return 2
        if self.status == PARTIALLY_FAILED:
            return 1
        return 0

    def as_dict(self, reveal: bool = False) -> dict[str, Any]:
        from onefold.erasure.resolve import describe_identifier

        return {
            "erasure_request_id": self.request_id,
            "request_source": self.request_source,
            "status": self.status,
            "message": self.message,
            "regulation": self.regulation,
            "received_at": self.received_at.isoformat(sep=" ") if self.received_at else None,
            "due_at": self.due_at.isoformat(sep=" ") if self.due_at else None,
            "found": self.found,
            "identifiers": [describe_identifier(i, reveal) for i in self.identifiers],
            "shared_identifiers": [
                {
                    "identifier": describe_identifier(s.identifier, reveal),
                    "other_customer_ids": list(s.other_customer_ids),
                }
                for s in self.shared
            ],
            "statements": [
                {
                    "step": s.name,
                    "table": s.table,
                    "action": s.action,
                    "rows": s.rows,
                    "state": s.state,
                    "sql": s.statement,
                }
                for s in self.steps
            ],
            "destinations": [
                {
                    "sync": d.sync_name,
                    "destination": d.destination_name,
                    "type": d.destination_type,
                    "records": d.records,
                    "status": d.status,
                    "error": d.error,
                }
                for d in self.destinations
            ],
        }


class Eraser:
    """Runs erasure requests against one warehouse connection."""

    def __init__(
        self,
        warehouse: Warehouse,
        config: ErasureConfig,
        *,
        salt: Salt | None,
        syncs_path: Path | None = None,
        after_step: Callable[[int], None] | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.warehouse = warehouse
        self.config = config
        self.salt = salt
        self.syncs_path = syncs_path
        self.after_step = after_step
        self.clock = clock
        self.store = Store(warehouse, config)
        self.steps_run = 0
        self._relations_checked = False
        if warehouse.target == "postgres":
            # Every statement here is short; JIT compiling them costs more than it saves.
            warehouse.execute("set jit = off")

    # -- entry points -----------------------------------------------------------------

    def run(self, request: ErasureRequest, execute: bool) -> Outcome:
        """Dry run (execute=False: nothing changes) or execute one request."""
        self._check_relations()
        receipt = self.store.receipt(request.request_id)
        if receipt is not None and receipt.status == COMPLETED:
            return self._outcome(
                request,
                ALREADY_COMPLETED,
                f"request {request.request_id} was completed at {receipt.completed_at}; "
                "nothing to do.",
                found=receipt.found,
            )
        if receipt is not None and receipt.status == REJECTED:
            receipt = None  # rejected before: the row may have been fixed since
        if receipt is not None:
            return self._unfinished(request.request_id, execute, request)
        if request.request_source == INTAKE_SOURCE and any(
            i.value in redaction_markers(self.config) for i in request.identifiers
        ):
            return self._intake_without_person(
                request,
                execute,
                "its identifier was already erased under another request of the same person",
            )
        try:
            customers, request_keys = find_customers(self.warehouse, self.config, request)
        except MalformedIdentifier as exc:
            if request.request_source == CLI_SOURCE:
                raise
            if execute:
                # On the status mart as rejected, with a reason that quotes no value.
                self.store.record_rejection(request, exc.reason, self.clock())
            return self._outcome(request, REJECTED, f"{exc} Fix the intake row and rerun.")
        match_keys = [key for _, key in request_keys]
        holding = [r for r in self.store.requests_holding(match_keys) if r != request.request_id]
        if holding:
            return self._unfinished(holding[0], execute, request)
        if not customers and self.salt is not None:
            erased_by = self.store.suppressed_by([self.salt.hash(key) for key in match_keys])
            if erased_by:
                return self._nobody(request, execute, erased_by)
        resolution = expand(self.warehouse, self.config, customers)
        for kind, key in request_keys:
            if not resolution.is_known(kind, key):
                resolution.identifiers.append(FoundIdentifier(kind, key, key))
        if request.request_source == INTAKE_SOURCE:
            intake = self.config.sources.get(INTAKE_SOURCE)
            if intake is not None:
                resolution.intake_record = (intake.record_source, request.request_id)
        # Counted for the dry run, and to tell "nobody" from records outside the graph;
        # an execution builds its statements from the journal and records the rows each
        # one touched instead.
        statements: list[plan.Statement] = []
        if not execute or not customers:
            plan.load_keys(self.warehouse, plan.key_items(resolution))
            statements = plan.raw_statements(self.config)
            if customers:
                statements += plan.derived_statements(self.warehouse, self.config)
        counts = {s.step: self._count(s) for s in statements}
        person_rows = sum(count for step, count in counts.items() if step != f"raw:{INTAKE_SOURCE}")
        if not customers and not person_rows:
            return self._nobody(request, execute, [])
        found = resolution.summary()
        if counts:
            found["rows"] = {step: count for step, count in counts.items() if count}
        if not execute:
            outcome = self._outcome(
                request,
                DRY_RUN,
                "dry run: nothing was changed. Run again with --execute to erase.",
                found=found,
                identifiers=resolution.identifiers,
            )
            outcome.shared = resolution.shared
            outcome.steps = [_planned(s, counts[s.step]) for s in statements]
            groups = group_sync_records(resolution.sync_records)
            outcome.destinations = [
                DestinationResult(
                    sync, destination, records[0].destination_type, len(records), "would_delete"
                )
                for (sync, destination), records in groups.items()
            ]
            return outcome
        self._journal(request, resolution, found)
        return self._execute(request.request_id, request)

    def resume(self, request_id: str) -> Outcome:
        self._check_relations()
        receipt = self.store.receipt(request_id)
        if receipt is None:
            raise ConfigError(f"no erasure request {request_id!r} has been started.")
        if receipt.status == COMPLETED:
            return Outcome(
                request_id,
                receipt.request_source,
                ALREADY_COMPLETED,
                "already completed.",
                found=receipt.found,
            )
        return self._execute(request_id, None)

    def sweep(self, execute: bool) -> Outcome:
        """Delete or redact raw rows re-loaded after their person was erased (staging
        already ignores them; this takes them out of the raw tables too)."""
        self._check_relations()
        salt = self._require_salt()
        if self.store.salt_fingerprints() - {salt.fingerprint}:
            raise ConfigError(
                "some suppression hashes were written with another salt than "
                "DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT: the sweep would miss their rows."
            )
        outcome = Outcome("sweep", "sweep", DRY_RUN if not execute else COMPLETED, "")
        for statement in plan.sweep_statements(self.config):
            if execute:
                rows = apply(self.warehouse, statement.change)
                outcome.steps.append(_planned(statement, rows, "done"))
            else:
                outcome.steps.append(_planned(statement, self._count(statement)))
        total = sum(step.rows or 0 for step in outcome.steps)
        outcome.message = f"{total} re-loaded raw row(s) of erased people " + (
            "deleted or redacted." if execute else "would be deleted or redacted."
        )
        return outcome

    def unfinished(self) -> list[str]:
        """Requests started but not completed (crashed, or a destination failed)."""
        return self.store.request_ids([IN_PROGRESS, PARTIALLY_FAILED])

    # -- decisions without changes ----------------------------------------------------

    def _check_relations(self) -> None:
        """Every declared table is a base table, before the first statement (once)."""
        if not self._relations_checked:
            check_relations(self.warehouse, self.config)
            self._relations_checked = True

    def _count(self, statement: plan.Statement) -> int:
        rows = self.warehouse.query(statement.count_sql, list(statement.count_params))
        return int(rows[0][0])

    def _unfinished(self, request_id: str, execute: bool, request: ErasureRequest) -> Outcome:
        if not execute:
            done = self.store.done_steps(request_id)
            return self._outcome(
                request,
                IN_PROGRESS,
                f"request {request_id} already erasing this person is unfinished "
                f"({len(done)} steps done); run with --execute to finish it.",
            )
        outcome = self._execute(request_id, None)
        if request_id != request.request_id:
            outcome.message = f"resumed unfinished request {request_id}: {outcome.message}"
        return outcome

    def _nobody(self, request: ErasureRequest, execute: bool, erased_by: list[str]) -> Outcome:
        """Nobody to erase: already erased (staging keeps replayed copies out; `--sweep`
        removes them from the raw tables), or never known."""
        if erased_by:
            reason = (
                f"already erased by request {', '.join(erased_by)} (raw rows re-loaded since "
                "are kept out of staging)"
            )
            status = ALREADY_ERASED
        else:
            reason = "no customer and no raw record carries it"
            status = NOT_FOUND
        if request.request_source == INTAKE_SOURCE:
            return self._intake_without_person(request, execute, reason)
        if erased_by:
            # Asked again: raw rows re-loaded since (in any declared column or free
            # text) are taken out now, so a repeated request is never a dead end.
            swept = self.sweep(execute)
            outcome = self._outcome(request, status, f"{reason}. {swept.message}")
            outcome.steps = swept.steps
            return outcome
        return self._outcome(request, status, f"nothing to erase: {reason}. Nothing was changed.")

    def _intake_without_person(
        self, request: ErasureRequest, execute: bool, reason: str
    ) -> Outcome:
        """An intake request that reaches nobody still gets an answer: completed, with
        nothing found, and its own intake row redacted."""
        if not execute:
            return self._outcome(
                request, DRY_RUN, f"nothing to erase: {reason}; --execute records it as completed."
            )
        resolution = Resolution()
        intake = self.config.sources.get(INTAKE_SOURCE)
        if intake is not None:
            resolution.intake_record = (intake.record_source, request.request_id)
        self._journal(request, resolution, {"customers": 0, "note": reason})
        outcome = self._execute(request.request_id, request, only_raw=INTAKE_SOURCE)
        outcome.message = f"nothing to erase ({reason}); {outcome.message}"
        return outcome

    def _outcome(
        self,
        request: ErasureRequest,
        status: str,
        message: str,
        found: dict[str, Any] | None = None,
        identifiers: list[FoundIdentifier] | None = None,
    ) -> Outcome:
        return Outcome(
            request_id=request.request_id,
            request_source=request.request_source,
            status=status,
            message=message,
            regulation=request.regulation,
            received_at=request.received_at,
            due_at=due_at(self.config, request.regulation, request.received_at),
            found=found or {},
            identifiers=identifiers or [],
        )

    # -- journal ----------------------------------------------------------------------

    def _require_salt(self) -> Salt:
        if self.salt is None:
            raise ConfigError(
                "erasing needs the salt (DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT): it keys the "
                "suppression hashes staging compares."
            )
        return self.salt

    def _journal(
        self, request: ErasureRequest, resolution: Resolution, found: dict[str, Any]
    ) -> None:
        salt = self._require_salt()
        items: list[tuple[str, str, str, str, str]] = [
            (kind, group, key, detail, "")
            for kind, group, key, detail in plan.key_items(resolution)
            if kind != plan.SYNC_RECORD
        ]
        items += [
            (
                plan.SYNC_RECORD,
                r.sync_name,
                r.record_key,
                r.destination_name,
                json.dumps(
                    {
                        "destination_type": r.destination_type,
                        "customer_id": r.customer_id,
                        "payload": r.payload,
                    },
                    sort_keys=True,
                ),
            )
            for r in resolution.sync_records
        ]
        items += [
            (plan.SUPPRESSION, e.identifier_type, e.identifier_form, e.suppression_hash, "")
            for e in suppression_entries(self.config, resolution, salt)
        ]
        now = self.clock()
        # The work rows first, replacing any a crash left: without transactions (Spark)
        # a receipt never exists without the keys its execution reads.
        with transaction(self.warehouse):
            self.store.clear_work(request.request_id)
            self.store.write_work(request.request_id, items)
            self.store.insert_receipt(
                request.request_id,
                request.request_source,
                ",".join(sorted({i.identifier_type for i in request.identifiers})),
                request.regulation,
                request.received_at,
                found,
                now,
            )
            self.store.record_step(request.request_id, "journal", None, len(items), now)
        self._stepped()

    def _stepped(self) -> None:
        self.steps_run += 1
        if self.after_step is not None:
            self.after_step(self.steps_run)

    # -- execution --------------------------------------------------------------------

    def _execute(
        self, request_id: str, request: ErasureRequest | None, only_raw: str | None = None
    ) -> Outcome:
        salt = self._require_salt()
        receipt = self.store.receipt(request_id)
        if receipt is None:  # pragma: no cover - journaled just before
            raise ConfigError(f"erasure request {request_id!r} has no receipt")
        work = self.store.work(request_id)
        plan.load_keys(
            self.warehouse,
            sorted({(k, g, key, d) for k, g, key, d, _ in work if k != plan.SUPPRESSION}),
        )
        sync_records = [_sync_record(item) for item in work if item[0] == plan.SYNC_RECORD]
        scrub = _scrubber(work)
        done = self.store.done_steps(request_id)
        results: list[StepResult] = []

        def run_step(statement: plan.Statement, also: Callable[[], None] | None = None) -> None:
            if statement.step in done:
                results.append(_planned(statement, done[statement.step], "already_done"))
                return
            with transaction(self.warehouse):
                rows = apply(self.warehouse, statement.change)
                if also is not None:
                    also()
                self.store.record_step(
                    request_id, statement.step, statement.logged, rows, self.clock()
                )
            done[statement.step] = rows
            results.append(_planned(statement, rows, "done"))
            self._stepped()

        run_step(self._suppress_statement(request_id, salt), self._refresh_suppression_macros)
        if sync_records and self._sync_table_exists(
            f"{self.config.sync_schema}.{SYNC_STATE_TABLE}"
        ):
            run_step(self._sync_mark_statement())
        if sync_records and self._sync_table_exists(
            f"{self.config.sync_schema}.{SYNC_IN_FLIGHT_TABLE}"
        ):
            run_step(self._sync_in_flight_statement())
        raw = plan.raw_statements(self.config)
        if only_raw is not None:
            raw = [s for s in raw if s.step == f"raw:{only_raw}"]
        for statement in raw:
            run_step(statement)
        if only_raw is None:
            # Other people's records naming an erased person in free text: found again on
            # every (resumed) run, as the raw rows stay until --sweep.
            for mentions in plan.mentions_queries(self.config):
                append_session_rows(self.warehouse, KEYS_TABLE, plan.KEY_COLUMNS, mentions)
            for statement in plan.derived_statements(self.warehouse, self.config):
                run_step(statement)
        destinations = self._propagate(request_id, sync_records, scrub, run_step)
        runs = plan.sync_runs_statement(self.config)
        if only_raw is None and self._sync_table_exists(runs.table):
            run_step(runs)
        failed = [d for d in destinations if d.status != SUCCEEDED]
        now = self.clock()
        actions = {
            "steps": {name: rows for name, rows in sorted(done.items())},
            "destinations": {f"{d.sync_name}/{d.destination_name}": d.status for d in destinations},
        }
        if failed:
            error = "; ".join(f"{d.sync_name}/{d.destination_name}: {d.error}" for d in failed)
            self.store.update_receipt(
                request_id, now, status=PARTIALLY_FAILED, actions=actions, last_error=error[:2000]
            )
            status, message = (
                PARTIALLY_FAILED,
                f"{len(failed)} of {len(destinations)} destination(s) failed; they are retried "
                "on the next `onefold erase --execute`.",
            )
        else:
            with transaction(self.warehouse):
                self.store.clear_work(request_id)
                self.store.update_receipt(
                    request_id,
                    now,
                    status=COMPLETED,
                    actions=actions,
                    clear_error=True,
                    completed=True,
                )
                self.store.record_step(request_id, "completed", None, None, now)
            self._stepped()
            status, message = COMPLETED, "erased."
        final = self.store.receipt(request_id)
        regulation = request.regulation if request else receipt.regulation
        received = request.received_at if request else receipt.received_at
        return Outcome(
            request_id=request_id,
            request_source=receipt.request_source,
            status=status,
            message=message,
            regulation=regulation,
            received_at=received,
            due_at=due_at(self.config, regulation, received) if received else None,
            found=final.found if final else receipt.found,
            steps=results,
            destinations=destinations,
        )

    def _refresh_suppression_macros(self) -> None:
        """DuckDB staging reads the list from macros: regenerate them with the insert."""
        if self.warehouse.target == "duckdb":
            for statement in duckdb_suppression_macros(self.warehouse, self.config):
                self.warehouse.execute(statement)

    def _suppress_statement(self, request_id: str, salt: Salt) -> plan.Statement:
        suppressions = self.config.privacy_table("erasure_suppressions")
        work = self.config.privacy_table("erasure_work")
        select_sql = (
            "select work.item_group, work.item_key, work.item_detail, ?, "
            "work.erasure_request_id, ? "
            f"from {work} as work where work.erasure_request_id = ? "
            f"and work.item_kind = '{plan.SUPPRESSION}' and not exists ("
            f"select 1 from {suppressions} as suppressed "
            "where suppressed.suppression_hash = work.item_detail "
            "and suppressed.erasure_request_id = work.erasure_request_id)"
        )
        return plan.Statement(
            step="suppress",
            phase="suppress",
            table=suppressions,
            action="insert",
            change=RowInsert(
                suppressions,
                SUPPRESSION_COLUMNS,
                select_sql,
                (salt.fingerprint, self.clock(), request_id),
            ),
        )

    @staticmethod
    def _sync_person_predicate() -> str:
        return (
            f"(erasure_row.customer_id in {plan.keys(plan.CUSTOMER)} or exists ("
            f"select 1 from {KEYS_TABLE} as k where k.item_kind = '{plan.SYNC_RECORD}' "
            "and k.item_group = erasure_row.sync_name and k.item_key = erasure_row.record_key))"
        )

    def _sync_in_flight_statement(self) -> plan.Statement:
        """A call a killed sync left in flight would be replayed by its next run: the
        person's records leave it (their destination delete is planned already)."""
        table = relation(self.config.sync_schema, SYNC_IN_FLIGHT_TABLE)
        return plan.Statement(
            step="sync_in_flight",
            phase="sync_state",
            table=f"{self.config.sync_schema}.{SYNC_IN_FLIGHT_TABLE}",
            action="delete",
            change=RowChange(table, self._sync_person_predicate(), alias="erasure_row"),
        )

    def _sync_mark_statement(self) -> plan.Statement:
        schema = self.config.sync_schema
        return plan.Statement(
            step="sync_mark",
            phase="sync_state",
            table=f"{schema}.{SYNC_STATE_TABLE}",
            action="mark erased",
            change=RowChange(
                relation(schema, SYNC_STATE_TABLE),
                self._sync_person_predicate(),
                alias="erasure_row",
                assignments=(("status", "'erased'"),),
            ),
        )

    def _propagate(
        self,
        request_id: str,
        sync_records: list[SyncRecord],
        scrub: Callable[[str], str],
        run_step: Callable[[plan.Statement], None],
    ) -> list[DestinationResult]:
        groups = group_sync_records(sync_records)
        if not groups:
            return []
        statuses = self.store.destination_statuses(request_id)
        project_dir = self.config.project.project_dir if self.config.project else None
        syncs, problem = load_sync_configs(self.syncs_path, project_dir)
        results = []
        for (sync_name, destination_name), records in groups.items():
            previous = statuses.get((sync_name, destination_name))
            if previous and previous["status"] == SUCCEEDED:
                result = DestinationResult(
                    sync_name,
                    destination_name,
                    records[0].destination_type,
                    len(records),
                    SUCCEEDED,
                )
            else:
                result = erase_at_destination(request_id, sync_name, records, syncs, problem, scrub)
                self.store.record_destination(
                    request_id,
                    sync_name,
                    destination_name,
                    result.destination_type,
                    result.records,
                    result.status,
                    result.error,
                    self.clock(),
                )
                self._stepped()
            results.append(result)
            if result.status == SUCCEEDED:
                for statement in plan.sync_state_statements(
                    self.config, sync_name, destination_name
                ):
                    if self._sync_table_exists(statement.table):
                        run_step(statement)
        return results

    def _sync_table_exists(self, qualified: str) -> bool:
        schema, _, table = qualified.partition(".")
        return self.warehouse.table_exists(schema, table)


def _planned(statement: plan.Statement, rows: int | None, state: str = "planned") -> StepResult:
    return StepResult(
        name=statement.step,
        phase=statement.phase,
        table=statement.table,
        action=statement.action,
        statement=statement.logged,
        rows=rows,
        state=state,
    )


def _sync_record(item: tuple[str, str, str, str, str]) -> SyncRecord:
    _, sync_name, record_key, destination_name, payload_json = item
    detail = json.loads(payload_json) if payload_json else {}
    return SyncRecord(
        sync_name=sync_name,
        destination_name=destination_name,
        destination_type=str(detail.get("destination_type") or ""),
        record_key=record_key,
        customer_id=detail.get("customer_id"),
        payload=dict(detail.get("payload") or {}),
    )


def _scrubber(work: list[tuple[str, str, str, str, str]]) -> Callable[[str], str]:
    """Removes the person's values from text a destination sent back (error messages)."""
    candidates: set[str] = set()
    for kind, _, key, detail, _ in work:
        if kind in (plan.CUSTOMER, plan.SYNC_RECORD):
            candidates.add(key)
        elif kind == plan.IDENTIFIER:
            candidates.update((key, detail))
    values = sorted(
        {value for value in candidates if len(value) >= 4},
        key=len,
        reverse=True,
    )

    def scrub(text: str) -> str:
        for value in values:
            text = text.replace(value, "[erased]")
        return text

    return scrub

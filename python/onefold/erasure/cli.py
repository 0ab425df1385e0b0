"""`onefold erase`: the click command over the erasure library.

    onefold erase --email ann@example.com                 # dry run: what would go, where
    onefold erase --email ann@example.com --execute       # erase (GDPR unless --regulation)
    onefold erase --execute                               # pending intake rows + retries
    onefold erase --verify cli-20261101-3f2a9c1d0e        # residual scan (targeted)
    onefold erase --verify cli-… --full-scan               # every text column, every byte
    onefold erase --receipt cli-20261101-3f2a9c1d0e       # the proof

Exit codes: 0 ok (also: dry run, nothing found, already erased), 1 a destination failed
(retried next run) or verify found residuals, 2 bad usage, config or request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from onefold import cli_common
from onefold.cli_common import (
    ProjectOptions,
    console,
    json_option,
    project_options,
    reports_errors,
)
from onefold.erasure.session_salt import SALT_ENV
from onefold.errors import ConfigError, WarehouseError

if TYPE_CHECKING:
    from onefold.project import DbtProject

#: test hook: SIGKILL this process after that many journaled steps (crash-recovery test)
CRASH_AFTER_ENV = "ONEFOLD_ERASURE_TEST_CRASH_AFTER_STEPS"

log = logging.getLogger("onefold.erasure")


def _parse_identifier(text: str) -> tuple[str, str]:
    kind, separator, value = text.partition("=")
    if not separator or not kind.strip():
        raise ConfigError(f"--identifier {text!r}: write it as TYPE=VALUE, e.g. user_id=u_123")
    return kind.strip().lower(), value


def _crash_hook() -> Callable[[int], None] | None:
    limit = os.environ.get(CRASH_AFTER_ENV)
    if not limit:
        return None

    def crash(steps: int) -> None:
        if steps >= int(limit):
            os.kill(os.getpid(), signal.SIGKILL)

    return crash


@click.command("erase")
@project_options
@click.option("--email", "emails", multiple=True, help="An email address of the person.")
@click.option("--phone", "phones", multiple=True, help="A phone number (E.164 best).")
@click.option("--customer-id", "customer_ids", multiple=True, help="A Onefold customer_id (cus_…).")
@click.option(
    "--identifier",
    "identifiers",
    multiple=True,
    metavar="TYPE=VALUE",
    help="Any type of onefold__erasure_identifier_types, e.g. user_id=u_123.",
)
@click.option("--regulation", default="GDPR", show_default=True, help="GDPR, CCPA, ...")
@click.option(
    "--received-at",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    default=None,
    help="When the request arrived, UTC (due dates count from it) [default: now].",
)
@click.option("--request-id", default=None, help="Your ticket id [default: cli-<date>-<random>].")
@click.option("--execute", is_flag=True, help="Apply. Without it nothing changes (dry run).")
@click.option(
    "--sweep",
    is_flag=True,
    help="Find raw rows re-loaded after their person was erased (delete them with --execute).",
)
@click.option(
    "--verify",
    "verify_id",
    metavar="REQUEST_ID",
    help="Scan for residuals: the columns that can hold identifiers (declared, identifier-"
    "named, free text and JSON) and, on DuckDB, the file's bytes no live table uses.",
)
@click.option(
    "--full-scan",
    is_flag=True,
    help="With --verify: read every text column of every table and every byte of the file.",
)
@click.option("--receipt", "receipt_id", metavar="REQUEST_ID", help="Show a request's receipt.")
@click.option(
    "--syncs",
    "syncs_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The syncs file destinations are built from [default: ONEFOLD_SYNCS_FILE, else "
    "syncs.yml in the working directory, else in the dbt project].",
)
@click.option("--show-values", is_flag=True, help="Print identifier values unmasked.")
@click.option("--sql/--no-sql", "show_sql", default=True, help="Print every statement.")
@json_option
@reports_errors
def erase(
    project: ProjectOptions,
    emails: tuple[str, ...],
    phones: tuple[str, ...],
    customer_ids: tuple[str, ...],
    identifiers: tuple[str, ...],
    regulation: str,
    received_at: dt.datetime | None,
    request_id: str | None,
    execute: bool,
    sweep: bool,
    verify_id: str | None,
    full_scan: bool,
    receipt_id: str | None,
    syncs_path: Path | None,
    show_values: bool,
    show_sql: bool,
    as_json: bool,
) -> None:
    """Erase a person everywhere: warehouse, Onefold's own state, every destination.

    Name the person with --email, --phone, --customer-id or --identifier TYPE=VALUE, or
    give none to process the pending rows of the erasure_requests source (and retry
    requests a failed destination left unfinished). Dry run unless --execute.
    """
    named = (
        [("email", v) for v in emails]
        + [("phone", v) for v in phones]
        + [("customer_id", v) for v in customer_ids]
        + [_parse_identifier(v) for v in identifiers]
    )
    if (verify_id or receipt_id) and (named or execute or sweep or (verify_id and receipt_id)):
        raise ConfigError("use --verify or --receipt alone (without identifiers or --execute).")
    if full_scan and not verify_id:
        raise ConfigError("--full-scan goes with --verify REQUEST_ID.")
    if sweep and named:
        raise ConfigError("--sweep covers every erased person: give it no identifiers.")
    located = project.locate()
    if verify_id:
        sys.exit(_verify(located, verify_id, full_scan, as_json))
    if receipt_id:
        _receipt(located, receipt_id, as_json)
        return
    sys.exit(
        _erase(
            located,
            named,
            regulation,
            received_at.replace(tzinfo=None) if received_at else None,
            request_id,
            execute,
            sweep,
            syncs_path,
            show_values,
            show_sql,
            as_json,
        )
    )


def _connect(project: DbtProject, salted: bool, read_only: bool = False) -> Any:
    from onefold.erasure.salt import connect_salted, load_salt

    duckdb = project.target.duckdb if project.target.type == "duckdb" else None
    salt = load_salt(required=salted, database=duckdb.path if duckdb else None)
    if salt is not None and salt.demo_file is not None and salted:
        cli_common.error_console.print(
            f"note: using the demo erasure salt from {escape(str(salt.demo_file))} (written "
            f"by `make demo` for this warehouse; set {SALT_ENV} for real data)",
            highlight=False,
            soft_wrap=True,
        )
    if salt is not None:
        return connect_salted(project.target, salt, read_only=read_only), salt
    return project.connect(read_only=read_only), None


def _erase(
    project: DbtProject,
    named: Sequence[tuple[str, str]],
    regulation: str,
    received_at: dt.datetime | None,
    request_id: str | None,
    execute: bool,
    sweep: bool,
    syncs_path: Path | None,
    show_values: bool,
    show_sql: bool,
    as_json: bool,
) -> int:
    from onefold.erasure.config import load_config
    from onefold.erasure.execute import Eraser, Outcome, changed_tables
    from onefold.erasure.reclaim import reclaim
    from onefold.erasure.requests import (
        INTAKE_SOURCE,
        QUARANTINE_MODEL,
        check_cli_request_id,
        cli_request,
        pending_requests,
        rejected_intake_requests,
    )
    from onefold.erasure.store import REJECTED

    # A dry run opens DuckDB read-only: it cannot change anything, by construction.
    warehouse, salt = _connect(project, salted=execute or sweep, read_only=not execute)
    paused = contextlib.ExitStack()
    try:
        config = load_config(warehouse, project)
        if execute:
            _lock(warehouse)
            paused.enter_context(_syncs_paused(warehouse, project, syncs_path))
        eraser = Eraser(
            warehouse, config, salt=salt, syncs_path=syncs_path, after_step=_crash_hook()
        )
        outcomes: list[Outcome] = []
        if sweep:
            outcomes.append(eraser.sweep(execute))
        elif named:
            request = cli_request(config, named, regulation, received_at, request_id)
            check_cli_request_id(warehouse, config, request.request_id)
            outcomes.append(eraser.run(request, execute))
        else:
            seen: set[str] = set()
            for pending in pending_requests(warehouse, config):
                outcomes.append(eraser.run(pending, execute))
                seen.add(pending.request_id)
            for unfinished in eraser.unfinished():
                if unfinished not in seen and execute:
                    outcomes.append(eraser.resume(unfinished))
            # Intake rows staging quarantined: reported (exit 2), the others still run.
            outcomes += [
                Outcome(
                    rejected.request_id,
                    INTAKE_SOURCE,
                    REJECTED,
                    rejected.message(str(config.relation(QUARANTINE_MODEL))),
                    regulation=rejected.regulation,
                )
                for rejected in rejected_intake_requests(warehouse, config)
            ]
            if not outcomes and not as_json:
                console.print("No pending erasure requests.")
        # Syncs may deliver again: the people are erased. (DuckDB's reclaim below
        # rewrites the file and closes this connection.)
        paused.close()
        reclaimed = None
        storage_error = None
        if execute:
            # Once per run, after every request: the erased rows' bytes go too.
            changed = changed_tables(outcomes)
            if changed:
                # The resolved keys lived in erasure_work while the requests ran.
                changed.append(config.privacy_table("erasure_work"))
            try:
                reclaimed = reclaim(warehouse, changed, config.privacy_schema)
            except WarehouseError as exc:  # no room for the fresh file: the erasure stands
                storage_error = str(exc)
    finally:
        with contextlib.suppress(Exception):  # the connection may be what failed
            paused.close()
        warehouse.close()
    for outcome in outcomes:
        for step in outcome.steps:
            if step.state == "done":
                log.info(
                    "erasure %s %s: %s rows: %s",
                    outcome.request_id,
                    step.name,
                    step.rows,
                    step.statement,
                )
    storage = reclaimed.as_dict() if reclaimed and reclaimed.action != "none" else None
    if storage_error is not None:
        storage = {"action": "none", "error": storage_error}
    if as_json:
        documents = [o.as_dict(show_values) for o in outcomes]
        for document in documents:
            document["storage"] = storage
        click.echo(json.dumps(documents, indent=2, default=str))
    else:
        for outcome in outcomes:
            _print_outcome(outcome, show_values, show_sql)
        if reclaimed and reclaimed.action == "rewrite":
            console.print(
                f"storage: rewrote the DuckDB file without the erased rows' bytes "
                f"({(reclaimed.bytes_before or 0) / 1e6:,.1f} MB -> "
                f"{(reclaimed.bytes_after or 0) / 1e6:,.1f} MB, {reclaimed.seconds:.1f}s)"
            )
        elif reclaimed and reclaimed.action == "vacuum":
            console.print(
                f"storage: vacuumed {len(reclaimed.tables)} table(s) the erasure changed "
                f"({reclaimed.seconds:.1f}s)"
            )
        elif reclaimed and reclaimed.action == "overwritten":
            console.print(
                f"storage: Spark overwrote the {len(reclaimed.tables)} table(s) the erasure "
                "changed; their old files are deleted"
            )
        if storage_error is not None:
            console.print(storage_error)
    return max([*(o.exit_code for o in outcomes), 1 if storage_error else 0])


def _syncs_paused(
    warehouse: Any, project: DbtProject, syncs_path: Path | None
) -> contextlib.AbstractContextManager[None]:
    """No sync delivers while people are erased (see onefold.sync.lock.syncs_paused):
    the syncs of the syncs file, and any other sync holding its lock now."""
    from onefold.erasure.propagate import load_sync_configs
    from onefold.sync.config import SyncSettings
    from onefold.sync.lock import syncs_paused

    if warehouse.target == "spark":
        return contextlib.nullcontext()  # `onefold sync` does not run on Spark
    syncs, _ = load_sync_configs(syncs_path, project.project_dir)
    return syncs_paused(
        warehouse,
        project.sync_schema,
        list(syncs),
        SyncSettings().lock_ttl_seconds,
        lambda message: cli_common.error_console.print(
            f"warning: {escape(message)}", highlight=False, soft_wrap=True
        ),
    )


def _lock(warehouse: Any) -> None:
    """One `onefold erase --execute` at a time (DuckDB's file lock does this already)."""
    if warehouse.target != "postgres":
        return
    held = warehouse.query("select pg_try_advisory_lock(hashtext('onefold_erase'))")[0][0]
    if not held:
        raise ConfigError("another `onefold erase --execute` is running; try again later.")


def _print_outcome(outcome: Any, show_values: bool, show_sql: bool) -> None:
    from onefold.erasure.resolve import describe_identifier

    due = f", due {outcome.due_at:%Y-%m-%d}" if outcome.due_at else ""
    style = {
        "completed": "green",
        "dry_run": "cyan",
        "partially_failed": "bold red",
        "rejected": "bold red",
    }.get(outcome.status, "yellow")
    about = f" ({escape(outcome.regulation)}{due})" if outcome.regulation or due else ""
    console.print(
        f"[bold]{escape(outcome.request_id or '(no request_id)')}[/]{about}: "
        f"[{style}]{outcome.status}[/] {escape(outcome.message)}",
        highlight=False,
    )
    found = outcome.found
    if found.get("customers"):
        records = ", ".join(f"{s} {n:,}" for s, n in found.get("records", {}).items())
        kinds = ", ".join(f"{t} {n}" for t, n in found.get("identifiers", {}).items())
        console.print(f"  found {found['customers']} customer(s); records: {records or 'none'}")
        console.print(f"  identifiers: {kinds}")
    if outcome.identifiers:
        values = ", ".join(describe_identifier(i, show_values) for i in outcome.identifiers)
        console.print(f"  values: {escape(values)}", highlight=False)
    for shared in outcome.shared:
        console.print(
            f"  kept, shared with {len(shared.other_customer_ids)} other customer(s) "
            f"({escape(', '.join(shared.other_customer_ids))}): "
            f"{escape(describe_identifier(shared.identifier, show_values))} "
            "(not suppressed; only the person's own records that carry it are erased)",
            highlight=False,
        )
    if outcome.steps:
        table = Table(show_edge=False, pad_edge=False)
        for column in ("step", "action", "rows", "state"):
            table.add_column(column, justify="right" if column == "rows" else "left")
        for step in outcome.steps:
            table.add_row(
                escape(step.name),
                step.action,
                "" if step.rows is None else f"{step.rows:,}",
                step.state,
            )
        console.print(table)
        if show_sql:
            console.print("  statements (values are in the session table erasure_keys):")
            for step in outcome.steps:
                console.print(
                    f"  -- {escape(step.name)}\n  {escape(step.statement)};", highlight=False
                )
    for destination in outcome.destinations:
        error = f": {escape(destination.error)}" if destination.error else ""
        console.print(
            f"  destination {escape(destination.sync_name)}/{escape(destination.destination_name)} "
            f"({destination.destination_type}, {destination.records} record(s)): "
            f"{destination.status}{error}",
            highlight=False,
        )


def _verify(project: DbtProject, request_id: str, full_scan: bool, as_json: bool) -> int:
    from onefold.erasure.config import load_config
    from onefold.erasure.verify import FULL, TARGETED, verify

    warehouse, salt = _connect(project, salted=True)
    try:
        with cli_common.progress("verify", as_json) as step:
            result = verify(
                warehouse,
                load_config(warehouse, project),
                request_id,
                salt=salt,
                scope=FULL if full_scan else TARGETED,
                progress=step,
            )
    finally:
        warehouse.close()
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return 0 if result.clean else 1
    if result.clean:
        console.print(
            f"[green]{escape(request_id)}: zero residuals[/] ({result.hashes} hashes, "
            f"{result.seconds:.1f}s)",
            highlight=False,
        )
    else:
        console.print(
            f"[bold red]{escape(request_id)}: {len(result.residuals)} column(s) still hold "
            "erased identifiers:[/]",
            highlight=False,
        )
        for residual in result.residuals:
            console.print(
                f"  {escape(residual.location)}: {residual.values} value(s) "
                f"({', '.join(residual.forms)})",
                highlight=False,
            )
    skipped = (
        f", {result.columns_skipped} single-token column(s) skipped (--full-scan reads them)"
        if result.columns_skipped
        else ""
    )
    console.print(
        f"  scanned ({result.scope}): {result.tables_scanned} tables, "
        f"{result.columns_scanned} text columns, {result.text_bytes / 1e6:,.1f} MB of text"
        f"{skipped}",
        highlight=False,
    )
    for file in result.files:
        console.print(
            f"  bytes of {escape(file.name)}: {file.bytes_scanned / 1e6:,.1f} of "
            f"{file.file_bytes / 1e6:,.1f} MB ({file.part})",
            highlight=False,
        )
    if result.byte_scan:
        console.print(f"  byte scan: {escape(result.byte_scan)}", highlight=False)
    return 0 if result.clean else 1


def _receipt(project: DbtProject, request_id: str, as_json: bool) -> None:
    from onefold.erasure.receipts import receipt_document

    warehouse, _ = _connect(project, salted=False, read_only=True)
    try:
        document = receipt_document(warehouse, request_id, project)
    finally:
        warehouse.close()
    if as_json:
        click.echo(json.dumps(document, indent=2, default=str))
        return
    receipt = document["receipt"]
    console.print(
        f"[bold]{escape(request_id)}[/] {receipt['status']} ({receipt['regulation']}, "
        f"received {receipt['received_at']}, due {document['due_at']}, completed "
        f"{receipt['completed_at'] or '-'}, verified {receipt['verified_at'] or '-'})",
        highlight=False,
    )
    found = receipt["found"]
    for key in ("records", "identifiers", "destinations"):
        counts = ", ".join(f"{name} {count:,}" for name, count in found.get(key, {}).items())
        console.print(f"  found {key}: {escape(counts or 'none')}", highlight=False)
    for shared in found.get("shared_identifiers", []):
        console.print(
            f"  kept {escape(shared['identifier_type'])} shared with "
            f"{escape(', '.join(shared['other_customer_ids']))}",
            highlight=False,
        )
    if found.get("note"):
        console.print(f"  {escape(str(found['note']))}", highlight=False)
    console.print(f"  {document['suppression_hashes']} suppression hash(es); journal:")
    for step in document["steps"]:
        rows = "" if step["rows"] is None else f": {step['rows']:,} rows"
        console.print(
            f"  {step['step']:>3} {step['finished_at']} {escape(step['name'])}{rows}",
            highlight=False,
        )
    for destination in document["destinations"]:
        console.print(
            f"  destination {escape(destination['sync_name'])}/"
            f"{escape(destination['destination_name'])}: {destination['status']} "
            f"(attempts {destination['attempts']}, last {destination['last_attempted_at']})",
            highlight=False,
        )
    if receipt["verification"]:
        verification = receipt["verification"]
        console.print(
            f"  verification: {'clean' if verification['clean'] else 'RESIDUALS'} "
            f"at {verification['verified_at']}",
            highlight=False,
        )

"""`onefold sync`: a thin layer over `onefold.sync.run_syncs`.

Exit codes: 0 ok, 1 some records failed (rejected, or the destination was unavailable),
2 bad usage or configuration (also: null/duplicate keys, a refused empty mirror, the
sync already running). With several syncs the worst code wins.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click
from rich.console import Console

from onefold.cli_common import ProjectOptions, project_options
from onefold.errors import OnefoldError


@contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """Schedulers stop tasks with SIGTERM: raise KeyboardInterrupt instead of dying, so
    the run row is closed and the lock released (state is already safe either way)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is not threading.main_thread():  # signals need it
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command("sync")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every sync in the file, in order.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan (counts and sample payloads); send and write nothing. Needs "
    "no destination secret (a missing one is a warning).",
)
@click.option(
    "--status",
    "show_status",
    is_flag=True,
    help="Show the latest run of each sync (or of NAMES) instead of running anything; "
    "a killed run shows as abandoned.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="ONEFOLD_SYNCS_FILE",
    default=None,
    help="The syncs file [default: ONEFOLD_SYNCS_FILE, else syncs.yml in the working "
    "directory, else in the dbt project].",
)
@project_options
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="JSON lines instead of progress bars (the default when stdout is not a terminal).",
)
def sync(
    names: tuple[str, ...],
    run_all: bool,
    dry_run: bool,
    show_status: bool,
    config_path: Path | None,
    project: ProjectOptions,
    as_json: bool,
) -> None:
    """Send the models and segments declared in syncs.yml to their destinations.

    NAMES are sync names from the file; --all runs every one. Exit codes: 0 ok,
    1 some records failed, 2 bad usage or configuration (or the sync is already running),
    130 interrupted (Ctrl-C or SIGTERM; the run row says `interrupted`, the lock is
    released, the next run resumes).
    """
    # Imported here so that `onefold --help` and other commands skip the engine.
    from onefold.sync.output import JsonLinesObserver, RichObserver
    from onefold.sync.runner import exit_code, run_syncs

    if show_status:
        if dry_run:
            raise click.UsageError("--status runs nothing: leave out --dry-run")
        _show_status(names or None, project, as_json or not sys.stdout.isatty())
        return
    if bool(names) == run_all:
        raise click.UsageError("name one or more syncs, or pass --all (not both)")
    json_lines = as_json or not sys.stdout.isatty()
    observer: JsonLinesObserver | RichObserver = (
        JsonLinesObserver(sys.stdout) if json_lines else RichObserver(Console(highlight=False))
    )
    try:
        with _interrupt_on_sigterm():
            outcomes = run_syncs(
                None if run_all else names,
                project=project.locate(),
                config_path=config_path,
                dry_run=dry_run,
                observer=observer,
            )
    except OnefoldError as exc:
        observer.error(None, str(exc), exc.exit_code)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        observer.error(None, "interrupted; the next run resumes where this one stopped", 130)
        sys.exit(130)
    for outcome in outcomes:
        if outcome.error is not None:
            observer.error(outcome.sync_name, str(outcome.error), outcome.exit_code)
    sys.exit(exit_code(outcomes))


def _show_status(names: tuple[str, ...] | None, project: ProjectOptions, as_json: bool) -> None:
    from onefold.sync.config import SyncSettings
    from onefold.sync.output import print_status_json, print_status_table
    from onefold.sync.status import latest_runs

    try:
        located = project.locate()
        with located.connection(read_only=True, detachable=True) as warehouse:
            rows = latest_runs(
                warehouse, located.sync_schema, SyncSettings().lock_ttl_seconds, names
            )
    except OnefoldError as exc:
        if as_json:
            from onefold.sync.output import JsonLinesObserver

            JsonLinesObserver(sys.stdout).error(None, str(exc), exc.exit_code)
        else:
            Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    if as_json:
        print_status_json(sys.stdout, rows)
    else:
        print_status_table(Console(highlight=False), rows)

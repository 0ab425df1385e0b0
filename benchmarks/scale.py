"""Benchmark a full and a one-day incremental `dbt build` at scale, against a floor.

For each target and size: `onefold generate` writes the demo data straight into a fresh
warehouse (its time and peak RSS are recorded too); the rows loaded on the last day are
held back in `raw_pending`; a full `dbt build` runs; the floor (one scan of all raw
rows that parses the JSON and groups by each source's key, onefold.testing.floor) is
measured on the same data; the held-back day is loaded and an incremental `dbt build`
runs. dbt runs as a child process (its peak RSS includes DuckDB, which runs inside it);
on PostgreSQL the server's memory is sampled as the sum of its processes' proportional
set sizes.

On Spark (`--target spark`, local Spark inside dbt's process, docs/spark.md) the full
build only: the floor's SQL is DuckDB's and PostgreSQL's, and holding a day back would
rewrite every raw table (Spark cannot delete from a parquet table). Nothing in this
process opens Spark: the local metastore admits one process at a time, and the
generator and dbt each run as their own. For every target the rounds connected
components took (the `rounds` method logs them) are read from dbt's log.

    .venv/bin/python benchmarks/scale.py --persons 100000 --persons 1000000
    .venv/bin/python benchmarks/scale.py --persons 100000 --target postgres --json out.json
    .venv/bin/python benchmarks/scale.py --persons 100000 --target spark --target duckdb
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from onefold.testing.dbt import locations
from onefold.testing.floor import raw_sources, scan_floor
from onefold.testing.measure import Measurement, dbt_build, measure
from onefold.testing.memory import PeakMemory, sampled_peak
from onefold.testing.postgres import PostgresServer, throwaway_postgres
from onefold.testing.warehouse import connect_with, target_environment
from onefold.warehouse import quote_ident

END_DATE = dt.date(2026, 11, 1)
CUTOFF = dt.datetime(2026, 10, 31)  # rows loaded from here on are "the new day"
PENDING_SCHEMA = "raw_pending"


@dataclass
class ScaleResult:
    target: str
    persons: int
    raw_rows: int
    new_day_rows: int
    generate_seconds: float | None  # None: the raw data was copied (--raw-from)
    generate_peak_rss_gib: float | None
    full_seconds: float
    full_dbt_peak_rss_gib: float
    #: the full build's connected-components rounds per model ("model: n round(s)")
    components_rounds: list[str]
    # None: not measured (the database runs inside dbt; the floor and the incremental
    # day are not measured on Spark).
    full_database_peak_gib: float | None = None
    floor_seconds: float | None = None
    incremental_seconds: float | None = None
    incremental_dbt_peak_rss_gib: float | None = None
    incremental_database_peak_gib: float | None = None


def dbt_log(workdir: Path) -> Path:
    """Where a run's dbt writes its log (DBT_LOG_PATH), which the rounds are read from."""
    return workdir / "logs" / "dbt.log"


def components_rounds(log_file: Path) -> list[str]:
    """What the `rounds` method logged of each connected-components run in dbt's log."""
    if not log_file.exists():
        return []
    found = []
    with log_file.open(encoding="utf-8", errors="replace") as log:
        # Line by line: the debug log holds every compiled statement, some of them long.
        for line in log:
            if "(method rounds)" in line:
                match = re.search(r"(\S+): (\d+) round\(s\) \(method rounds\)", line)
                if match:
                    found.append(f"{match[1].strip('()').split('.')[-1]}: {match[2]}")
    return found


@contextmanager
def fresh_warehouse(
    target: str, workdir: Path
) -> Iterator[tuple[dict[str, str], PostgresServer | None]]:
    if target in ("duckdb", "spark"):
        yield target_environment(target, workdir, "onefold_scale"), None
        return
    with throwaway_postgres() as server:
        yield target_environment(target, workdir, "onefold_scale", lambda: server), server


def database_peak(server: PostgresServer | None) -> AbstractContextManager[PeakMemory | None]:
    """The PostgreSQL server's sampled memory; nothing on DuckDB (it runs inside dbt)."""
    return sampled_peak(server.postmaster_pid()) if server else nullcontext(None)


def hold_back_new_day(env: dict[str, str]) -> int:
    """Move the rows loaded from CUTOFF on into raw_pending; how many were moved."""
    warehouse = connect_with(env)
    held = 0
    try:
        warehouse.execute(f"create schema if not exists {PENDING_SCHEMA}")
        for source in raw_sources():
            raw = f"raw.{quote_ident(source.table)}"
            pending = f"{PENDING_SCHEMA}.{quote_ident(source.table)}"
            cutoff = f"cast('{CUTOFF.isoformat(sep=' ')}' as timestamp)"
            warehouse.execute(f"drop table if exists {pending}")
            warehouse.execute(
                f"create table {pending} as select * from {raw} where _loaded_at >= {cutoff}"
            )
            warehouse.execute(f"delete from {raw} where _loaded_at >= {cutoff}")
            held += int(warehouse.query(f"select count(*) from {pending}")[0][0])
    finally:
        warehouse.close()
    return held


def load_new_day(env: dict[str, str]) -> None:
    warehouse = connect_with(env)
    try:
        for source in raw_sources():
            pending = f"{PENDING_SCHEMA}.{quote_ident(source.table)}"
            warehouse.execute(
                f"insert into raw.{quote_ident(source.table)} select * from {pending}"
            )
            warehouse.execute(f"drop table {pending}")
    finally:
        warehouse.close()


def run_one(
    target: str, persons: int, seed: int, workdir: Path, raw_from: Path | None = None
) -> ScaleResult:
    target_path = workdir / "target"
    with fresh_warehouse(target, workdir) as (env, server):
        env = {**env, "DBT_LOG_PATH": str(dbt_log(workdir).parent)}
        command_env = {**env, **locations(target_path)}
        if raw_from is not None:
            # A DuckDB file an earlier `onefold generate --persons N --seed S` wrote:
            # copying it skips generating the same bytes again.
            shutil.copyfile(raw_from, env["ONEFOLD_DUCKDB_PATH"])
            generated: Measurement | None = None
        else:
            generated = measure(
                [sys.executable, "-m", "onefold.cli", "generate", "--persons", str(persons),
                 "--seed", str(seed), "--end-date", END_DATE.isoformat(), "--json"],
                command_env,
            )  # fmt: skip
            if generated.returncode != 0:
                raise RuntimeError(
                    f"onefold generate failed:\n{generated.stdout}\n{generated.stderr}"
                )
        if target == "spark":
            assert generated is not None  # --raw-from is DuckDB's
            return spark_full_build(persons, env, target_path, workdir, generated)
        held = hold_back_new_day(env)
        click.echo(f"{target} {persons:,}: raw data ready; full build", err=True)

        with database_peak(server) as full_db:
            full = dbt_build(env, target_path)
        warehouse = connect_with(env)
        try:
            floor = scan_floor(
                warehouse, target, function_schema=env.get("ONEFOLD_DBT_SCHEMA", "onefold")
            )
        finally:
            warehouse.close()
        # Each figure as soon as it is measured: a run stopped later keeps them in its log.
        click.echo(
            f"  full build {full.seconds:.1f}s (dbt peak {full.peak_rss_gib:.2f} GiB), "
            f"floor {floor.seconds:.1f}s",
            err=True,
        )

        load_new_day(env)
        with database_peak(server) as incremental_db:
            incremental = dbt_build(env, target_path)
        click.echo(
            f"  incremental build {incremental.seconds:.1f}s "
            f"(dbt peak {incremental.peak_rss_gib:.2f} GiB)",
            err=True,
        )
    return ScaleResult(
        target=target,
        persons=persons,
        raw_rows=floor.rows + held,  # the floor scanned every row but the held-back day
        new_day_rows=held,
        generate_seconds=generated.seconds if generated else None,
        generate_peak_rss_gib=generated.peak_rss_gib if generated else None,
        floor_seconds=floor.seconds,
        full_seconds=full.seconds,
        full_dbt_peak_rss_gib=full.peak_rss_gib,
        full_database_peak_gib=full_db.peak_gib if full_db else None,
        incremental_seconds=incremental.seconds,
        incremental_dbt_peak_rss_gib=incremental.peak_rss_gib,
        incremental_database_peak_gib=incremental_db.peak_gib if incremental_db else None,
        components_rounds=components_rounds(dbt_log(workdir)),
    )


def spark_full_build(
    persons: int, env: dict[str, str], target_path: Path, workdir: Path, generated: Measurement
) -> ScaleResult:
    """The full build on Spark; the raw rows are what the generator reported writing."""
    raw_rows = sum(json.loads(generated.stdout)["row_counts"].values())
    click.echo(f"spark {persons:,}: raw data ready; full build", err=True)
    full = dbt_build(env, target_path)
    click.echo(f"  full build {full.seconds:.1f}s (dbt peak {full.peak_rss_gib:.2f} GiB)", err=True)
    return ScaleResult(
        target="spark",
        persons=persons,
        raw_rows=raw_rows,
        new_day_rows=0,
        generate_seconds=generated.seconds,
        generate_peak_rss_gib=generated.peak_rss_gib,
        full_seconds=full.seconds,
        full_dbt_peak_rss_gib=full.peak_rss_gib,
        components_rounds=components_rounds(dbt_log(workdir)),
    )


def generation_text(result: ScaleResult) -> str:
    if result.generate_seconds is None or result.generate_peak_rss_gib is None:
        return "copied (--raw-from)"
    return f"{result.generate_seconds:.1f} s, {result.generate_peak_rss_gib:.2f} GiB"


def markdown(results: list[ScaleResult]) -> str:
    def gib(value: float | None) -> str:
        return "in dbt" if value is None else f"{value:.2f}"

    lines = [
        "| target | persons | raw rows (new day) | generate | floor | full build (x floor) "
        "| peak RSS dbt / database (GiB) | incremental + 1 day (% of full) "
        "| peak RSS dbt / database (GiB) | connected-components rounds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.floor_seconds is None:
            floor, full = "—", f"{r.full_seconds:.1f} s"
        else:
            ratio = r.full_seconds / r.floor_seconds
            floor, full = f"{r.floor_seconds:.1f} s", f"{r.full_seconds:.1f} s ({ratio:.1f}x)"
        if r.incremental_seconds is None or r.incremental_dbt_peak_rss_gib is None:
            incremental, incremental_peak = "—", "—"
        else:
            share = 100 * r.incremental_seconds / r.full_seconds
            incremental = f"{r.incremental_seconds:.1f} s ({share:.0f} %)"
            incremental_peak = (
                f"{r.incremental_dbt_peak_rss_gib:.2f} / {gib(r.incremental_database_peak_gib)}"
            )
        lines.append(
            f"| {r.target} | {r.persons:,} | {r.raw_rows:,} ({r.new_day_rows:,}) "
            f"| {generation_text(r)} | {floor} | {full} "
            f"| {r.full_dbt_peak_rss_gib:.2f} / {gib(r.full_database_peak_gib)} "
            f"| {incremental} | {incremental_peak} | {'; '.join(r.components_rounds) or '—'} |"
        )
    return "\n".join(lines)


@click.command()
@click.option("--persons", type=int, multiple=True, default=[10_000], show_default=True)
@click.option(
    "--target",
    type=click.Choice(["duckdb", "postgres", "spark"]),
    multiple=True,
    default=["duckdb"],
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the warehouse files go (default: a temporary directory).",
)
@click.option(
    "--raw-from",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="DuckDB only: copy this file, written by `onefold generate` with the same --persons "
    "and --seed, instead of generating the same bytes again.",
)
@click.option(
    "--keep",
    is_flag=True,
    help="Keep each run's warehouse (under --workdir) after the incremental build, e.g. for "
    "benchmarks/erasure.py --built-from.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the results as JSON to this file.",
)
def main(persons: tuple[int, ...], target: tuple[str, ...], seed: int, workdir: Path | None,
         raw_from: Path | None, keep: bool, json_path: Path | None) -> None:  # fmt: skip
    if raw_from is not None and (set(target) != {"duckdb"} or len(persons) != 1):
        raise click.UsageError("--raw-from copies one DuckDB file: use it with one --persons "
                               "and --target duckdb only")  # fmt: skip
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    results = []
    for name in target:
        for size in persons:
            if keep:
                kept = Path(tempfile.mkdtemp(dir=workdir, prefix=f"{name}-{size}-"))
                results.append(run_one(name, size, seed, kept, raw_from))
                click.echo(f"  kept the warehouse in {kept}", err=True)
            else:
                with tempfile.TemporaryDirectory(dir=workdir) as tmp:
                    results.append(run_one(name, size, seed, Path(tmp), raw_from))
            if json_path:
                json_path.write_text(json.dumps([asdict(r) for r in results], indent=2))
    click.echo(f"machine: {machine}")
    click.echo(markdown(results))


if __name__ == "__main__":
    main()

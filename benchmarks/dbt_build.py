"""Benchmark `dbt build` of the whole project: wall time and peak memory.

For each size: generate the demo data in memory, load the raw tables as they stood one
day before the end date, run a full `dbt build`, then load the last day (late events
included) and run an incremental `dbt build`. dbt runs as a child process, so its peak
resident memory is the children's maximum RSS.

    .venv/bin/python benchmarks/dbt_build.py --persons 10000 --persons 100000
    .venv/bin/python benchmarks/dbt_build.py --persons 10000 --target postgres
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from onefold.generator import GeneratorConfig, generate
from onefold.testing.measure import dbt_build
from onefold.testing.postgres import create_database, throwaway_postgres
from onefold.testing.warehouse import connect_with

END_DATE = dt.date(2026, 11, 1)
CUTOFF = dt.datetime(2026, 10, 31)


@contextmanager
def warehouse_env(target: str, workdir: Path) -> Iterator[dict[str, str]]:
    if target == "duckdb":
        yield {"ONEFOLD_TARGET": "duckdb", "ONEFOLD_DUCKDB_PATH": str(workdir / "bench.duckdb")}
        return
    with throwaway_postgres() as server:
        database = create_database(server, "onefold_bench")
        yield {"ONEFOLD_TARGET": "postgres", **database.environment()}


@click.command()
@click.option("--persons", type=int, multiple=True, default=[10_000], show_default=True)
@click.option("--target", type=click.Choice(["duckdb", "postgres"]), default="duckdb")
@click.option("--seed", type=int, default=42, show_default=True)
def main(persons: tuple[int, ...], target: str, seed: int) -> None:
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    rows = []
    for size in persons:
        data = generate(GeneratorConfig(persons=size, seed=seed, end_date=END_DATE))
        raw_rows = sum(len(table.frame) for table in data.raw.values())
        with tempfile.TemporaryDirectory() as tmp, warehouse_env(target, Path(tmp)) as env:
            workdir = Path(tmp)
            warehouse = connect_with(env)
            try:
                for name, table in data.raw.items():
                    frame = table.frame
                    warehouse.write_df("raw", name, frame[frame["_loaded_at"] < CUTOFF])
            finally:
                warehouse.close()
            full = dbt_build(env, workdir / "target")
            warehouse = connect_with(env)
            try:
                for name, table in data.raw.items():
                    warehouse.write_df("raw", name, table.frame)
            finally:
                warehouse.close()
            incremental = dbt_build(env, workdir / "target")
        rows.append(
            (
                size,
                raw_rows,
                full.seconds,
                full.peak_rss_gib,
                incremental.seconds,
                incremental.peak_rss_gib,
            )
        )
    click.echo(f"machine: {machine}; target: {target}")
    click.echo(
        "| persons | raw rows | full build (s) | peak RSS (GiB) | incremental + 1 day (s) |"
        " peak RSS (GiB) |"
    )
    click.echo("|---|---|---|---|---|---|")
    for size, raw_rows, fs, fp, inc_s, inc_p in rows:
        click.echo(f"| {size:,} | {raw_rows:,} | {fs:.1f} | {fp:.2f} | {inc_s:.1f} | {inc_p:.2f} |")


if __name__ == "__main__":
    main()

"""Benchmark erasure: time to erase and verify one person of the demo on DuckDB.

Generates the demo data (`--persons`, default 100,000), runs `dbt build`, picks the
customer with the most identifier values (an email among them), then times, each as its
own `onefold erase` process (start-up included): the dry run, the erase (`--execute`,
which ends by rewriting the DuckDB file) and the residual scan (`--verify`: the columns
that can hold identifiers and the file's unreferenced blocks; with `--full-scan`, also
`--verify --full-scan`: every text column and every byte). Finally it times `dbt build`
again with the suppression list no longer empty, to show what the staging filter costs.

    .venv/bin/python benchmarks/erasure.py --persons 100000
    .venv/bin/python benchmarks/erasure.py --persons 10000 --no-rebuild

`--built-from DIR` times the erase and verify on a warehouse built already, in place:
DIR holds one DuckDB file and dbt's `target/` of its build (`benchmarks/scale.py --keep`
leaves such a directory); nothing is generated or built, and the file is changed (the
person is erased from it).

    .venv/bin/python benchmarks/erasure.py --built-from /tmp/b1m/duckdb-1000000-xxxx --no-rebuild
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from onefold.erasure.session_salt import SALT_ENV
from onefold.generator import GeneratorConfig, generate_demo_data
from onefold.testing.dbt import locate_project, locations
from onefold.testing.measure import dbt_build, executable, measure
from onefold.testing.warehouse import connect_with

END_DATE = dt.date(2026, 11, 1)
SALT = "benchmark-salt-7d2e9c41a0b35f68"


def onefold_erase(env: dict[str, str], *args: str) -> tuple[float, float, Any]:
    measurement = measure([executable("onefold"), "erase", "--json", *args], env)
    if measurement.returncode not in (0, 1):  # 1: verify found residuals
        raise SystemExit(
            f"onefold erase {' '.join(args[:2])} failed:\n{measurement.stderr[-3000:]}"
        )
    return measurement.seconds, measurement.peak_rss_gib, json.loads(measurement.stdout)


def load() -> str:
    """The 1, 5 and 15 minute load averages: timings on a shared machine are relative."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def built_warehouse(directory: Path) -> Path:
    """The one DuckDB file of a built warehouse's directory."""
    files = sorted(directory.glob("*.duckdb"))
    if len(files) != 1 or not (directory / "target" / "manifest.json").exists():
        raise click.UsageError(
            f"--built-from {directory}: expected one .duckdb file and target/manifest.json "
            f"there, found {[f.name for f in files]}"
        )
    return files[0]


@click.command()
@click.option("--persons", type=int, default=100_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--workdir", type=click.Path(path_type=Path), default=None)
@click.option("--rebuild/--no-rebuild", default=True, help="Time a dbt build after erasing.")
@click.option(
    "--reuse", is_flag=True, help="Keep the workdir's built warehouse (erase its next person)."
)
@click.option("--full-scan", is_flag=True, help="Time `--verify --full-scan` as well.")
@click.option(
    "--built-from",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A directory with a built DuckDB warehouse (one .duckdb file) and its dbt target/ "
    "(benchmarks/scale.py --keep): erase and verify there, without generating or building.",
)
def main(
    persons: int,
    seed: int,
    workdir: Path | None,
    rebuild: bool,
    reuse: bool,
    full_scan: bool,
    built_from: Path | None,
) -> None:
    root = built_from or workdir or Path(tempfile.mkdtemp(prefix="onefold-erasure-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    database = built_warehouse(built_from) if built_from else root / "bench.duckdb"
    env = {
        "ONEFOLD_TARGET": "duckdb",
        "ONEFOLD_DUCKDB_PATH": str(database),
        SALT_ENV: SALT,
        # `onefold erase` finds the demo project and this build's manifest as dbt would.
        **locations(root / "target"),
    }
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; {root}; "
        f"load {load()}"
    )
    if built_from:
        print(f"built warehouse: {database} ({database.stat().st_size / 1e6:,.0f} MB)")
    elif not (reuse and database.exists()):
        warehouse = connect_with(env)
        try:
            started = time.perf_counter()
            report = generate_demo_data(
                warehouse, GeneratorConfig(persons=persons, seed=seed, end_date=END_DATE)
            )
            raw_rows = sum(report.row_counts.values())
            print(f"generate: {time.perf_counter() - started:.1f}s, {raw_rows:,} raw rows")
        finally:
            warehouse.close()
        build = dbt_build(env, root / "target")
        print(f"dbt build: {build.seconds:.1f}s, peak {build.peak_rss_gib:.2f} GiB")
    project = locate_project(env, root / "target")
    identity_map, customer_records = (
        project.relation("identity_map"),
        project.relation("customer_records"),
    )
    warehouse = connect_with(env)
    try:
        customer_id, email, values = warehouse.query(
            "select customer_id, "
            "min(case when identifier_type = 'email' then normalized_value end), count(*) "
            f"from {identity_map} group by customer_id "
            "having count(case when identifier_type = 'email' then 1 end) > 0 "
            "order by count(*) desc, customer_id limit 1"
        )[0]
        (records,) = warehouse.query(
            f"select count(*) from {customer_records} where customer_id = ?",
            [customer_id],
        )[0]
    finally:
        warehouse.close()
    print(f"person: {customer_id}, {values} identifier values, {records} records")
    rows = []
    request_id = f"BENCH-{int(time.time())}"
    steps = [
        ("dry run", ["--email", str(email)]),
        ("erase (--execute)", ["--execute", "--request-id", request_id, "--email", str(email)]),
        ("verify (--verify)", ["--verify", request_id]),
    ]
    if full_scan:
        steps.append(("verify (--verify --full-scan)", ["--verify", request_id, "--full-scan"]))
    for label, args in steps:
        seconds, rss, result = onefold_erase(env, *args)
        rows.append((label, seconds, rss))
        detail = ""
        if label.startswith("erase"):
            outcome = result[0]
            touched = sum(s["rows"] or 0 for s in outcome["statements"])
            storage = outcome.get("storage") or {}
            detail = (
                f" {outcome['status']}, {len(outcome['statements'])} statements, {touched:,} rows;"
                f" storage {storage.get('action')} {storage.get('seconds', 0):.1f}s"
                f" ({(storage.get('bytes_before') or 0) / 1e6:,.0f} MB ->"
                f" {(storage.get('bytes_after') or 0) / 1e6:,.0f} MB)"
            )
        if label.startswith("verify"):
            files = ", ".join(
                f"{f['file']} {f['bytes_scanned'] / 1e6:,.1f} of {f['file_bytes'] / 1e6:,.1f} MB"
                f" ({f['part']})"
                for f in result.get("files", [])
            )
            detail = (
                f" clean={result['clean']}, {result.get('scope', 'full')}: "
                f"{result['tables_scanned']} tables, {result['columns_scanned']} columns "
                f"({result.get('columns_skipped', 0)} skipped), "
                f"{result.get('text_bytes_scanned', 0) / 1e6:,.1f} MB of text; bytes: "
                f"{files or 'none'}"
            )
        print(f"{label}: {seconds:.1f}s, peak {rss:.2f} GiB{detail}")
    total = rows[1][1] + rows[2][1]
    print(f"erase + verify: {total:.1f}s (load {load()})")
    if rebuild:
        build = dbt_build(env, root / "target")
        print(
            "dbt build with a non-empty suppression list: "
            f"{build.seconds:.1f}s, peak {build.peak_rss_gib:.2f} GiB"
        )


if __name__ == "__main__":
    main()

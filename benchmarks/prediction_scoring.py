"""SQL scoring of the predictive traits at a million customers, against one scan of a
million customer rows (issue #17's target: within 5x, DuckDB).

Takes a demo warehouse that `dbt build` and `onefold train` have run on, copies it, and
replaces the copy's `int_customer_features_current` (everyone's features as of now, what
customer_predictions scores) with `--customers` rows drawn with replacement from its own
rows under new customer ids, all with profiling allowed, and `int_customer_order_lines`
with the order lines of the customers each new one was drawn from. Then times `dbt run
--select customer_product_suggestions customer_predictions` (dbt's execution time of
each: suggestions from the order lines; the classifiers, the BG/NBD series and the
suggestion lists; and dbt's materialization) against two floors: the fastest of three
scans reading every feature column once, and of three copies of the rows into a table.

    .venv/bin/python benchmarks/prediction_scoring.py --duckdb-path warehouse/onefold.duckdb
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import duckdb

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
FEATURES = "onefold_intermediate.int_customer_features_current"
LINES = "onefold_intermediate.int_customer_order_lines"


def grow_features(path: Path, customers: int, seed: int) -> tuple[int, int, int]:
    """(rows, distinct (frequency, age_days) pairs) of the replaced features table, and
    the rows of the replaced order lines."""
    connection = duckdb.connect(str(path))
    try:
        (models,) = connection.execute(
            "select count(*) from onefold_marts.prediction_models"
        ).fetchone() or (0,)
        if not models:
            raise click.ClickException(f"{path} has no trained models: run `onefold train` first.")
        connection.execute(f"select setseed({seed / 2**31})")
        connection.execute(
            f"create table grown as "
            f"with source as (select *, row_number() over (order by customer_id) - 1 as position "
            f"from {FEATURES} where is_profiling_allowed), "
            f"size as (select count(*) as n from source), "
            f"draws as (select range as i, cast(floor(random() * (select n from size)) as bigint) "
            f"as position from range({customers})) "
            f"select * exclude (position, is_profiling_allowed), "
            f"'bench_' || draws.i as bench_customer_id, true as is_profiling_allowed "
            f"from draws inner join source using (position)"
        )
        connection.execute(
            f"create or replace table {LINES} as select grown.bench_customer_id as customer_id, "
            f"lines.order_id, lines.line_id || '-' || grown.bench_customer_id as line_id, "
            f"lines.sku, lines.quantity, lines.ordered_at "
            f"from {LINES} as lines inner join grown using (customer_id)"
        )
        connection.execute(
            f"create or replace table {FEATURES} as select * exclude (customer_id, "
            f"bench_customer_id), bench_customer_id as customer_id from grown"
        )
        connection.execute("drop table grown")
        rows = connection.execute(f"select count(*) from {FEATURES}").fetchone()
        pairs = connection.execute(
            f"select count(*) from (select distinct frequency, age_days from {FEATURES} "
            "where has_ordered)"
        ).fetchone()
        lines = connection.execute(f"select count(*) from {LINES}").fetchone()
        connection.execute("checkpoint")
        return (
            int(rows[0]) if rows else 0,
            int(pairs[0]) if pairs else 0,
            int(lines[0]) if lines else 0,
        )
    finally:
        connection.close()


def floor(path: Path) -> tuple[float, float]:
    """The fastest of three scans reading every column once, and of three copies of the
    rows into a new table (what any materialized result of one row per customer pays)."""
    connection = duckdb.connect(str(path))
    try:
        columns = [
            name
            for (name,) in connection.execute(
                "select column_name from information_schema.columns where table_schema = "
                "'onefold_intermediate' and table_name = 'int_customer_features_current'"
            ).fetchall()
        ]
        read = ", ".join(f"max({c})" for c in columns)
        scans, copies = [], []
        for _ in range(3):
            started = time.perf_counter()
            connection.execute(f"select count(*), {read} from {FEATURES}").fetchall()
            scans.append(time.perf_counter() - started)
            started = time.perf_counter()
            connection.execute(f"create or replace table bench_copy as select * from {FEATURES}")
            copies.append(time.perf_counter() - started)
        connection.execute("drop table bench_copy")
        return min(scans), min(copies)
    finally:
        connection.close()


@click.command()
@click.option("--duckdb-path", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--customers", type=int, default=1_000_000, show_default=True)
@click.option("--now", default="2026-11-01", show_default=True, help="onefold__now of the build.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def main(duckdb_path: Path, customers: int, now: str, seed: int, as_json: bool) -> None:
    """Time SQL scoring of `--customers` customers against one scan of them."""
    with tempfile.TemporaryDirectory(prefix="onefold-scoring-") as work:
        copy = Path(work) / duckdb_path.name
        shutil.copyfile(duckdb_path, copy)
        rows, pairs, lines = grow_features(copy, customers, seed)
        floor_seconds, copy_seconds = floor(copy)
        target_path = Path(work) / "target"
        env = {
            **os.environ,
            "ONEFOLD_DUCKDB_PATH": str(copy),
            "DBT_PROFILES_DIR": str(REPO),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        command = [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--select",
            "customer_product_suggestions",
            "customer_predictions",
            "--vars",
            f"{{onefold__now: '{now}'}}",
            "--target-path",
            str(target_path),
        ]
        completed = subprocess.run(command, cwd=DEMO, env=env, capture_output=True, text=True)
        if completed.returncode:
            raise click.ClickException(f"dbt run failed:\n{completed.stdout[-4000:]}")
        results = json.loads((target_path / "run_results.json").read_text())["results"]
        seconds = {
            r["unique_id"].split(".")[-1]: float(r["execution_time"])
            for r in results
            if r["unique_id"].startswith("model.")
        }
        scoring = seconds["customer_predictions"]
        suggesting = seconds["customer_product_suggestions"]
        connection = duckdb.connect(str(copy), read_only=True)
        try:
            scored = connection.execute(
                "select count(*), count(p_purchase_30d), count(predicted_clv_365d), "
                "count(top_products) from onefold_marts.customer_predictions"
            ).fetchone()
            (terms,) = connection.execute(
                "select json_extract(parameters, '$.series_terms') from "
                "onefold_marts.prediction_models where model_name = 'clv_365d' "
                "order by model_version desc limit 1"
            ).fetchone() or (None,)
        finally:
            connection.close()
    result = {
        "customers": rows,
        "scored": scored[0] if scored else 0,
        "scored_purchase": scored[1] if scored else 0,
        "scored_clv": scored[2] if scored else 0,
        "scored_top_products": scored[3] if scored else 0,
        "order_lines": lines,
        "suggestions_seconds": round(suggesting, 2),
        "suggestions_ratio": round(suggesting / floor_seconds, 1),
        "distinct_frequency_age_pairs": pairs,
        "series_terms": terms,
        "scoring_seconds": round(scoring, 2),
        "floor_seconds": round(floor_seconds, 3),
        "ratio": round(scoring / floor_seconds, 1),
        "copy_seconds": round(copy_seconds, 3),
        "ratio_to_copy": round(scoring / copy_seconds, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"{rows:,} customers ({pairs:,} distinct frequency/age pairs, {terms} series terms): "
        f"scoring {scoring:.2f}s; one scan {floor_seconds:.3f}s ({scoring / floor_seconds:.1f}x); "
        f"one copy {copy_seconds:.3f}s ({scoring / copy_seconds:.1f}x); suggestions from "
        f"{lines:,} order lines {suggesting:.2f}s ({suggesting / floor_seconds:.1f}x the scan)"
    )


if __name__ == "__main__":
    main()

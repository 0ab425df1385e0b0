"""Benchmark probabilistic matching against one pass over its candidate pairs (issue #16),
and check identity's quality bar on the warehouse it ran on.

On a warehouse the demo project has built (DuckDB), runs the matching models again, each
timed by dbt: the records, the blocked pairs with their comparison levels, a training of
the parameters (`onefold__match_retrain`), the scoring, and the guard over the whole
graph (`--full-refresh` of int_identity_components_guarded). The floor is one pass over
the candidate pairs: every pair read with both of its records' fields, nothing computed.
Then `onefold evaluate` scores record -> customer against the generator's truth: on
`make demo`'s data (10,000 persons, seed 42) precision must be at least 0.99 and recall
at least 0.95 (QUALITY_BAR); the script exits 1 when it is not.

    .venv/bin/python benchmarks/matching.py --duckdb-path warehouse/onefold.duckdb
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import duckdb

from onefold.evaluate import evaluate
from onefold.testing.dbt import locate_project
from onefold.testing.warehouse import connect_with

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
MODELS = (
    "int_match_records",
    "int_match_pairs",
    "identity_match_parameters",
    "int_match_pairs_scored",
)
GUARD = "int_identity_components_guarded"
# Identity's bar on the demo data: pairwise precision and recall of record -> customer.
QUALITY_BAR = {"precision": 0.99, "recall": 0.95}
INTERMEDIATE = "onefold_intermediate"


@dataclass
class MatchingResult:
    records: int
    pairs: int
    seconds: dict[str, float]
    floor_seconds: float
    machine: str
    # Pairwise precision and recall against the generator's truth (`onefold evaluate`).
    quality: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @property
    def ratio(self) -> float:
        return self.total / self.floor_seconds


def dbt_run(args: list[str], env: dict[str, str], target_path: Path) -> dict[str, float]:
    """`dbt run` of the demo project; each node's execution time from run_results.json."""
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "run",
        *args,
        "--target-path",
        str(target_path),
    ]
    completed = subprocess.run(command, cwd=DEMO, env=env, capture_output=True, text=True)
    if completed.returncode:
        raise click.ClickException(f"{' '.join(command)} failed:\n{completed.stdout[-4000:]}")
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[-1]: float(r["execution_time"])
        for r in results
        if r["unique_id"].startswith("model.")
    }


def quality(env: dict[str, str], target_path: Path) -> dict[str, float]:
    """What `onefold evaluate` reports on the warehouse: precision and recall of record
    -> customer against the generator's truth (raw_truth)."""
    warehouse = connect_with(env)
    try:
        result = evaluate(warehouse, locate_project(env, target_path))
    finally:
        warehouse.close()
    return {"precision": result.precision, "recall": result.recall}


def floor(path: Path) -> tuple[int, int, float]:
    """(records, pairs, seconds of the fastest of three passes over the pairs)."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        records = connection.execute(
            f"select count(*) from {INTERMEDIATE}.int_match_records"
        ).fetchone()
        columns = [
            name
            for (name,) in connection.execute(
                "select column_name from information_schema.columns where table_schema = ? "
                "and table_name = 'int_match_records' and column_name not in "
                "('record_node_id', 'source', 'record_key', 'field_count', 'observed_at')",
                [INTERMEDIATE],
            ).fetchall()
        ]
        read = ", ".join(f"max(l.{c}), max(r.{c})" for c in columns)
        records_table = f"{INTERMEDIATE}.int_match_records"
        query = (
            f"select count(*), {read} from {INTERMEDIATE}.int_match_pairs as p "
            f"inner join {records_table} as l on p.left_node_id = l.record_node_id "
            f"inner join {records_table} as r on p.right_node_id = r.record_node_id"
        )
        timings = []
        pairs = 0
        for _ in range(3):
            started = time.perf_counter()
            row = connection.execute(query).fetchone()
            timings.append(time.perf_counter() - started)
            pairs = int(row[0]) if row else 0
        return int(records[0]) if records else 0, pairs, min(timings)
    finally:
        connection.close()


@click.command()
@click.option("--duckdb-path", type=click.Path(exists=True, path_type=Path), required=True)
@click.option(
    "--target-path", type=click.Path(path_type=Path), default=Path("/tmp/onefold-matching-bench")
)
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None)
def main(duckdb_path: Path, target_path: Path, json_path: Path | None) -> None:
    """Time the matching models on a built warehouse against one pass over its pairs."""
    env = {
        **os.environ,
        "ONEFOLD_TARGET": "duckdb",
        "ONEFOLD_DUCKDB_PATH": str(duckdb_path),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    seconds = dbt_run(
        ["--select", *MODELS, "--vars", "{onefold__match_retrain: true}"], env, target_path
    )
    seconds |= dbt_run(["--select", GUARD, "--full-refresh"], env, target_path)
    records, pairs, floor_seconds = floor(duckdb_path)
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    scores = quality(env, target_path)
    result = MatchingResult(records, pairs, seconds, floor_seconds, machine, scores)
    for name, value in seconds.items():
        click.echo(f"{name:<34} {value:8.2f} s")
    click.echo(
        f"matching {result.total:.2f} s for {records:,} records and {pairs:,} pairs; "
        f"one pass over the pairs {floor_seconds:.3f} s; ratio {result.ratio:.1f}x"
    )
    below = {name: value for name, value in scores.items() if value < QUALITY_BAR[name]}
    click.echo(
        "quality "
        + ", ".join(
            f"{name} {value:.4f} (bar {QUALITY_BAR[name]})" for name, value in scores.items()
        )
    )
    if json_path:
        json_path.write_text(json.dumps({**asdict(result), "ratio": result.ratio}, indent=2))
    if below:
        raise click.ClickException(f"identity is below its bar: {below}")


if __name__ == "__main__":
    main()

"""Benchmark onefold.connected_components on ~1M-edge graphs of four shapes.

Times, per shape, on DuckDB: the recursive method, the rounds method (both through
`dbt run-operation materialize_connected_components`, counting dbt's execute phase,
not its start-up), networkx on the same edges, and the unit: one join + group-by pass
over the edges in both directions (each node's smallest neighbour label), written to a
temporary table. Ratios are to the unit. `--postgres` also times the rounds method and
the unit on a throwaway PostgreSQL cluster, `--spark` on a local Spark in this process
(work and unit tables are parquet tables there). Every method's output is checked
against networkx; the rounds method's number of rounds is read from dbt's log.

    .venv/bin/python benchmarks/identity_graph.py            # all shapes, ~1M edges
    .venv/bin/python benchmarks/identity_graph.py --edges 200000 --shape chains --postgres
    .venv/bin/python benchmarks/identity_graph.py --shape identity --spark --repeat 1
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import duckdb
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import psycopg2

from onefold.testing.dbt import run_dbt
from onefold.testing.postgres import PostgresServer, throwaway_postgres
from onefold.testing.warehouse import connect_with, target_environment
from onefold.warehouse import Warehouse

Ids = npt.NDArray[np.int64]
Edges = tuple[Ids, Ids]

SCHEMA = "cc_bench"
METHODS = ("recursive", "rounds")
INT64_MIN = np.iinfo(np.int64).min
INT64_MAX = np.iinfo(np.int64).max


def random_ids(rng: np.random.Generator, count: int) -> Ids:
    """Ids as onefold.node_id makes them: uniformly spread signed 64-bit numbers."""
    return rng.integers(INT64_MIN, INT64_MAX, size=count, dtype=np.int64)


def identity_edges(rng: np.random.Generator, target: int) -> Edges:
    """Records linked through shared identifiers (record -> identifier edges).

    Each person has a few identifiers (email, phone, device, user id) and one or more
    records, each carrying some of them; a few records share another person's identifier
    (households), and a few junk values (test@test.com) sit on many records.
    """
    persons = max(1, target // 5)
    records_per_person = rng.geometric(0.45, persons)
    owner = np.repeat(np.arange(persons), records_per_person)
    records = random_ids(rng, owner.size)
    identifiers = random_ids(rng, persons * 4).reshape(persons, 4)
    lefts: list[Ids] = []
    rights: list[Ids] = []
    for slot, share in enumerate((0.9, 0.45, 0.3, 0.2)):
        carried = rng.random(owner.size) < share
        lefts.append(records[carried])
        rights.append(identifiers[owner[carried], slot])
    household = rng.random(owner.size) < 0.02
    lefts.append(records[household])
    rights.append(identifiers[rng.integers(0, persons, int(household.sum())), 0])
    junk_values = random_ids(rng, 20)
    junk = rng.random(owner.size) < 0.001
    lefts.append(records[junk])
    rights.append(junk_values[rng.integers(0, junk_values.size, int(junk.sum()))])
    # A record that carries no identifier is still a node: a self-loop.
    lefts.append(records)
    rights.append(records)
    left, right = np.concatenate(lefts), np.concatenate(rights)
    keep = rng.permutation(left.size)[: min(left.size, target)]
    return left[keep], right[keep]


def chain_edges(rng: np.random.Generator, target: int, chain_length: int) -> Edges:
    """Chains whose ids increase along the chain: the slow case of min-label methods."""
    starts = np.arange(0, target, chain_length, dtype=np.int64)
    left = np.arange(target, dtype=np.int64)
    chain = np.searchsorted(starts, left, side="right") - 1
    # chain k holds ids k * (chain_length + 1) + 1 ... consecutive, increasing.
    left = left + chain + 1
    order = rng.permutation(target)
    return left[order], (left + 1)[order]


def hub_edges(rng: np.random.Generator, target: int) -> Edges:
    """Hubs with Zipf-sized fans of spokes; 1% of spokes also touch a second hub."""
    hubs = random_ids(rng, 2_000)
    spokes_count = int(target / 1.01)
    spokes = random_ids(rng, spokes_count)
    first = (rng.zipf(1.6, spokes_count) - 1) % hubs.size
    second = rng.random(spokes_count) < 0.01
    left = np.concatenate([spokes, spokes[second]])
    right = np.concatenate([hubs[first], hubs[rng.integers(0, hubs.size, int(second.sum()))]])
    return left, right


def giant_edges(rng: np.random.Generator, target: int) -> Edges:
    """A random graph with average degree 4: one giant component (~98% of nodes)."""
    nodes = random_ids(rng, max(2, target // 2))
    return (
        nodes[rng.integers(0, nodes.size, target)],
        nodes[rng.integers(0, nodes.size, target)],
    )


def build_shapes(seed: int, target: int, chain_length: int) -> dict[str, Callable[[], Edges]]:
    def rng() -> np.random.Generator:
        return np.random.default_rng(seed)

    return {
        "identity": lambda: identity_edges(rng(), target),
        "chains": lambda: chain_edges(rng(), target, chain_length),
        "hub": lambda: hub_edges(rng(), target),
        "giant": lambda: giant_edges(rng(), target),
    }


def networkx_components(edges: Edges) -> tuple[pd.DataFrame, float]:
    """(node_id, component_id) from networkx, and the seconds it took from the arrays."""
    started = time.perf_counter()
    graph: Any = nx.Graph()
    graph.add_edges_from(zip(edges[0].tolist(), edges[1].tolist(), strict=True))
    nodes: list[int] = []
    labels: list[int] = []
    for component in nx.connected_components(graph):
        smallest = min(component)
        nodes.extend(component)
        labels.extend([smallest] * len(component))
    seconds = time.perf_counter() - started
    frame = pd.DataFrame({"node_id": nodes, "component_id": labels}, dtype="int64")
    return frame, seconds


def same_components(expected: pd.DataFrame, actual: pd.DataFrame) -> bool:
    if len(expected) != len(actual):
        return False
    ordered_expected = expected.sort_values("node_id").reset_index(drop=True)
    ordered_actual = actual.sort_values("node_id").reset_index(drop=True)
    return bool(
        (ordered_expected["node_id"].to_numpy() == ordered_actual["node_id"].to_numpy()).all()
        and (
            ordered_expected["component_id"].to_numpy() == ordered_actual["component_id"].to_numpy()
        ).all()
    )


UNIT_SETUP = """
create temporary table cc_unit_labels as
select node_id, node_id as label
from (select left_node_id as node_id from {edges} union select right_node_id from {edges}) as nodes
"""
UNIT_PASS = """
create temporary table cc_unit_pass as
select directed.node_id, min(labels.label) as label
from (
    select left_node_id as node_id, right_node_id as neighbour_id from {edges}
    union all
    select right_node_id, left_node_id from {edges}
) as directed
inner join cc_unit_labels as labels on labels.node_id = directed.neighbour_id
group by directed.node_id
"""


def execute_seconds(result_timing: list[Any]) -> float:
    """Seconds of dbt's execute phase (the macro), from a run-operation result."""
    for timing in result_timing:
        if timing.name == "execute" and timing.started_at and timing.completed_at:
            return float((timing.completed_at - timing.started_at).total_seconds())
    raise RuntimeError("dbt run-operation reported no execute timing")


ROUNDS_LOGGED = re.compile(r": (\d+) round\(s\) \(method rounds\)")


def rounds_in_log(log_dir: Path) -> int | None:
    """The rounds the last rounds-method run took, from dbt's log."""
    log_file = log_dir / "dbt.log"
    found = ROUNDS_LOGGED.findall(log_file.read_text(encoding="utf-8")) if log_file.exists() else []
    return int(found[-1]) if found else None


def run_method(
    env: Mapping[str, str], target_path: Path, table: str, method: str, max_iterations: int
) -> float:
    args = {
        "edges_relation": f"{SCHEMA}.{table}",
        "output_relation": f"{SCHEMA}.{table}_{method}",
        "method": method,
    }
    variables = {
        "onefold__components_method": method,
        "onefold__components_max_iterations": max_iterations,
    }
    result = run_dbt(
        [
            "run-operation",
            "materialize_connected_components",
            "--args",
            json.dumps(args),
            "--vars",
            json.dumps(variables),
            "--quiet",
            "--log-path",
            str(target_path / "logs"),
        ],
        env,
        target_path,
    )
    return execute_seconds(result.results[0].timing)


@dataclass
class Row:
    shape: str
    edges: int
    nodes: int = 0
    components: int = 0
    units: dict[str, float] = field(default_factory=dict)  # warehouse -> median unit
    seconds: dict[str, float] = field(default_factory=dict)  # method -> median seconds
    ratios: dict[str, float] = field(default_factory=dict)  # method -> median of ratios
    exact: dict[str, bool] = field(default_factory=dict)
    rounds: dict[str, int | None] = field(default_factory=dict)  # warehouse -> rounds taken


def timed_against_unit(
    repeat: int, unit: Callable[[], float], measure: Callable[[], float]
) -> tuple[list[float], float, float]:
    """Runs the unit right before each measurement (the machine may be shared):
    the unit samples, the median seconds and the median of the paired ratios."""
    units, seconds, ratios = [], [], []
    for _ in range(repeat):
        unit_seconds = unit()
        measured = measure()
        units.append(unit_seconds)
        seconds.append(measured)
        ratios.append(measured / unit_seconds)
    return units, statistics.median(seconds), statistics.median(ratios)


@contextmanager
def duckdb_unit(database: Path, table: str) -> Iterator[Callable[[], float]]:
    """A function that times one unit pass over the table, on a warm cache."""
    edges = f"{SCHEMA}.{table}"
    with duckdb.connect(str(database)) as con:
        con.execute(UNIT_SETUP.format(edges=edges))

        def once() -> float:
            con.execute("drop table if exists cc_unit_pass")
            started = time.perf_counter()
            con.execute(UNIT_PASS.format(edges=edges))
            return time.perf_counter() - started

        once()
        yield once


def duckdb_frame(database: Path, table: str) -> pd.DataFrame:
    with duckdb.connect(str(database), read_only=False) as con:
        return con.execute(f"select node_id, component_id from {SCHEMA}.{table}").df()


def load_duckdb(database: Path, table: str, edges: Edges) -> None:
    frame = pd.DataFrame({"left_node_id": edges[0], "right_node_id": edges[1]})
    with duckdb.connect(str(database)) as con:
        con.execute(f"create schema if not exists {SCHEMA}")
        con.register("frame", frame)
        con.execute(f"create or replace table {SCHEMA}.{table} as select * from frame")
        con.unregister("frame")


@contextmanager
def postgres_connection(server: PostgresServer) -> Iterator[Any]:
    connection = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, dbname=server.database
    )
    connection.autocommit = True
    try:
        yield connection
    finally:
        connection.close()


def load_postgres(server: PostgresServer, table: str, edges: Edges) -> None:
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack(edges), fmt="%d", delimiter=",")
    buffer.seek(0)
    with postgres_connection(server) as connection, connection.cursor() as cursor:
        cursor.execute(f"create schema if not exists {SCHEMA}")
        cursor.execute(f"drop table if exists {SCHEMA}.{table}")
        cursor.execute(f"create table {SCHEMA}.{table} (left_node_id bigint, right_node_id bigint)")
        cursor.copy_expert(f"copy {SCHEMA}.{table} from stdin with (format csv)", buffer)
        cursor.execute(f"analyze {SCHEMA}.{table}")


@contextmanager
def postgres_unit(server: PostgresServer, table: str) -> Iterator[Callable[[], float]]:
    edges = f"{SCHEMA}.{table}"
    with postgres_connection(server) as connection, connection.cursor() as cursor:
        cursor.execute(UNIT_SETUP.format(edges=edges))
        cursor.execute("analyze cc_unit_labels")

        def once() -> float:
            cursor.execute("drop table if exists cc_unit_pass")
            started = time.perf_counter()
            cursor.execute(UNIT_PASS.format(edges=edges))
            return time.perf_counter() - started

        once()
        yield once


def postgres_frame(server: PostgresServer, table: str) -> pd.DataFrame:
    with postgres_connection(server) as connection, connection.cursor() as cursor:
        cursor.execute(f"select node_id, component_id from {SCHEMA}.{table}")
        rows = cursor.fetchall()
    return pd.DataFrame(rows, columns=["node_id", "component_id"], dtype="int64")


def load_spark(warehouse: Warehouse, table: str, edges: Edges) -> None:
    frame = pd.DataFrame({"left_node_id": edges[0], "right_node_id": edges[1]})
    warehouse.write_df(SCHEMA, table, frame)


def spark_sql(statement: str) -> str:
    """The unit's SQL for Spark: parquet tables in the benchmark schema, not temporary."""
    return statement.replace("temporary table cc_unit_", f"table {SCHEMA}.cc_unit_").replace(
        "join cc_unit_labels", f"join {SCHEMA}.cc_unit_labels"
    )


@contextmanager
def spark_unit(warehouse: Warehouse, table: str) -> Iterator[Callable[[], float]]:
    edges = f"{SCHEMA}.{table}"
    warehouse.execute(f"drop table if exists {SCHEMA}.cc_unit_labels")
    warehouse.execute(spark_sql(UNIT_SETUP.format(edges=edges)))

    def once() -> float:
        warehouse.execute(f"drop table if exists {SCHEMA}.cc_unit_pass")
        started = time.perf_counter()
        warehouse.execute(spark_sql(UNIT_PASS.format(edges=edges)))
        return time.perf_counter() - started

    once()
    yield once


def spark_frame(warehouse: Warehouse, table: str) -> pd.DataFrame:
    frame = warehouse.query_df(f"select node_id, component_id from {SCHEMA}.{table}")
    return frame.astype("int64")


def machine_line() -> str:
    cores = os.cpu_count() or 0
    memory_gib = 0.0
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_gib = int(line.split()[1]) / 1024 / 1024
    return f"{cores} cores, {memory_gib:.0f} GiB RAM, DuckDB {duckdb.__version__}"


def markdown(rows: list[Row], postgres: bool, spark: bool = False) -> str:
    header = ["shape", "edges", "nodes", "components", "unit (DuckDB)", "recursive", "rounds"]
    header.append("networkx")
    if postgres:
        header += ["unit (Postgres)", "rounds (Postgres)"]
    if spark:
        header += ["unit (Spark)", "rounds (Spark)"]
    header.append("rounds taken")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row.shape, f"{row.edges:,}", f"{row.nodes:,}", f"{row.components:,}"]
        cells.append(f"{row.units['duckdb']:.3f} s")
        names = [*METHODS, "networkx"] + (["unit (Postgres)", "postgres"] if postgres else [])
        names += ["unit (Spark)", "spark"] if spark else []
        for name in names:
            if name.startswith("unit ("):
                warehouse = "postgres" if "Postgres" in name else "spark"
                cells.append(f"{row.units[warehouse]:.3f} s")
                continue
            mark = "" if row.exact.get(name, True) else " WRONG"
            cells.append(f"{row.seconds[name]:.2f} s ({row.ratios[name]:.1f}x){mark}")
        cells.append(", ".join(f"{name} {count}" for name, count in row.rounds.items()))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@click.command()
@click.option("--edges", "target", default=1_000_000, show_default=True, help="Edges per shape.")
@click.option(
    "--shape",
    "shapes",
    multiple=True,
    type=click.Choice(["identity", "chains", "hub", "giant"]),
    help="Shapes to run (repeatable); default all.",
)
@click.option("--chain-length", default=250_000, show_default=True, help="Nodes per chain.")
@click.option("--repeat", default=3, show_default=True, help="Timed runs per method (median).")
@click.option("--seed", default=7, show_default=True)
@click.option("--max-iterations", default=64, show_default=True)
@click.option("--postgres", is_flag=True, help="Also time rounds on a throwaway PostgreSQL.")
@click.option("--spark", is_flag=True, help="Also time rounds on a local Spark (needs Java).")
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the DuckDB file and dbt target go (default: a temporary directory).",
)
def main(
    target: int,
    shapes: tuple[str, ...],
    chain_length: int,
    repeat: int,
    seed: int,
    max_iterations: int,
    postgres: bool,
    spark: bool,
    workdir: Path | None,
) -> None:
    """Time connected components on DuckDB (and PostgreSQL) against a unit pass."""
    with tempfile.TemporaryDirectory(prefix="onefold-bench-") as scratch:
        root = workdir or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        database = root / "bench.duckdb"
        database.unlink(missing_ok=True)
        duck_env = {"ONEFOLD_TARGET": "duckdb", "ONEFOLD_DUCKDB_PATH": str(database)}
        builders = build_shapes(seed, target, chain_length)
        chosen = shapes or tuple(builders)
        spark_env = target_environment("spark", root, "spark") if spark else None
        with contextmanager_if(postgres) as server:
            rows = []
            for shape in chosen:
                rows.append(
                    bench_shape(
                        shape,
                        builders[shape](),
                        database,
                        duck_env,
                        root,
                        repeat,
                        max_iterations,
                        server,
                        spark_env,
                    )
                )
        click.echo(f"\nMachine: {machine_line()}")
        click.echo(
            "Unit: one join + group-by pass over the edges in both directions "
            "(each node's smallest neighbour label) into a temporary table. "
            f"Each method run is paired with a unit pass just before it; the ratio is the "
            f"median over {repeat} pairs. dbt start-up and parsing are excluded.\n"
        )
        click.echo(markdown(rows, postgres, spark))


@contextmanager
def spark_env_warehouse(env: Mapping[str, str]) -> Iterator[Warehouse]:
    warehouse = connect_with(env)
    try:
        yield warehouse
    finally:
        warehouse.close()


@contextmanager
def contextmanager_if(enabled: bool) -> Iterator[PostgresServer | None]:
    if not enabled:
        yield None
        return
    with throwaway_postgres() as server:
        yield server


def bench_shape(
    shape: str,
    edges: Edges,
    database: Path,
    duck_env: Mapping[str, str],
    root: Path,
    repeat: int,
    max_iterations: int,
    server: PostgresServer | None,
    spark_env: Mapping[str, str] | None = None,
) -> Row:
    table = f"edges_{shape}"
    row = Row(shape=shape, edges=int(edges[0].size))
    expected, row.seconds["networkx"] = networkx_components(edges)
    row.nodes = len(expected)
    row.components = int(expected["component_id"].nunique())
    load_duckdb(database, table, edges)
    unit_samples: list[float] = []
    with duckdb_unit(database, table) as unit:
        for method in METHODS:
            samples, row.seconds[method], row.ratios[method] = timed_against_unit(
                repeat,
                unit,
                functools.partial(
                    run_method, duck_env, root / "target", table, method, max_iterations
                ),
            )
            unit_samples += samples
    row.units["duckdb"] = statistics.median(unit_samples)
    row.rounds["duckdb"] = rounds_in_log(root / "target" / "logs")
    row.ratios["networkx"] = row.seconds["networkx"] / row.units["duckdb"]
    for method in METHODS:
        row.exact[method] = same_components(expected, duckdb_frame(database, f"{table}_{method}"))
    if server is not None:
        pg_env = {"ONEFOLD_TARGET": "postgres", **server.environment()}
        load_postgres(server, table, edges)
        with postgres_unit(server, table) as unit:
            samples, row.seconds["postgres"], row.ratios["postgres"] = timed_against_unit(
                repeat,
                unit,
                lambda: run_method(pg_env, root / "target_pg", table, "rounds", max_iterations),
            )
        row.units["postgres"] = statistics.median(samples)
        row.exact["postgres"] = same_components(expected, postgres_frame(server, f"{table}_rounds"))
        row.rounds["postgres"] = rounds_in_log(root / "target_pg" / "logs")
    if spark_env is not None:
        with spark_env_warehouse(spark_env) as warehouse:
            load_spark(warehouse, table, edges)
            with spark_unit(warehouse, table) as unit:
                samples, row.seconds["spark"], row.ratios["spark"] = timed_against_unit(
                    repeat,
                    unit,
                    lambda: run_method(
                        spark_env, root / "target_spark", table, "rounds", max_iterations
                    ),
                )
            row.units["spark"] = statistics.median(samples)
            row.exact["spark"] = same_components(
                expected, spark_frame(warehouse, f"{table}_rounds")
            )
            row.rounds["spark"] = rounds_in_log(root / "target_spark" / "logs")
    click.echo(
        f"{shape}: {row.edges:,} edges, {row.nodes:,} nodes, {row.components:,} components; "
        + ", ".join(
            f"{name} {seconds:.2f} s"
            + (f" ({row.ratios[name]:.1f}x)" if name in row.ratios else "")
            for name, seconds in row.seconds.items()
        )
        + "; units "
        + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in row.units.items())
        + ("" if all(row.exact.values()) else f" MISMATCH {row.exact}"),
        err=True,
    )
    return row


if __name__ == "__main__":
    main()

"""onefold.connected_components and onefold.node_id against networkx and hashlib.

The macro runs through dbt (`run-operation materialize_connected_components`) on one
edges table that holds every shape at once: identity-like clusters, a 20k-node chain
whose ids increase, a path of increasing random ids, stars, one giant component,
isolated nodes, duplicate and reversed edges, self-loops, null ends and the extreme
bigint values. The output must equal networkx's components exactly, each labelled with
its smallest node id, on DuckDB (both methods) and PostgreSQL (rounds). A scratch dbt
project that links in the macros checks the model path: `dbt build` of a table model
over the macro, with an enforced contract and a unit test.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import networkx as nx
import numpy as np
import numpy.typing as npt
import psycopg2
import pytest

from onefold.testing.dbt import PACKAGE_DIR, DbtResult, environment, run_dbt
from onefold.testing.postgres import PostgresServer

SCHEMA = "cc_test"
EDGES = f"{SCHEMA}.edges"
INT64_MIN = int(np.iinfo(np.int64).min)
INT64_MAX = int(np.iinfo(np.int64).max)

Ids = npt.NDArray[np.int64]
Pair = tuple[int | None, int | None]
Rows = list[tuple[int, int]]


# ------------------------------------------------------------------------ graphs


@dataclass(frozen=True)
class Graph:
    """Edges (possibly with null ends) and the expected node -> component id."""

    edges: list[Pair]
    expected: dict[int, int]
    shape_of: dict[int, str]


def random_ids(rng: np.random.Generator, count: int) -> list[int]:
    ids: Ids = rng.integers(INT64_MIN, INT64_MAX, size=count, dtype=np.int64)
    return [int(value) for value in ids]


def identity_like(rng: np.random.Generator) -> list[Pair]:
    """Records linked through shared identifiers: thousands of small clusters."""
    people = 2_000
    identifiers = np.array(random_ids(rng, people * 3), dtype=np.int64).reshape(people, 3)
    records = np.array(random_ids(rng, people * 3), dtype=np.int64)
    owner = rng.integers(0, people, records.size)
    edges: list[Pair] = []
    for slot, share in enumerate((0.9, 0.4, 0.2)):
        carried = rng.random(records.size) < share
        edges += zip(
            records[carried].tolist(), identifiers[owner[carried], slot].tolist(), strict=True
        )
    # A junk value on a few unrelated records merges their clusters.
    junk = random_ids(rng, 1)[0]
    edges += [(int(record), junk) for record in records[:: records.size // 15]]
    # Records that carry nothing are isolated nodes: self-loops.
    edges += [(int(record), int(record)) for record in records[:200]]
    return edges


def shapes(rng: np.random.Generator) -> dict[str, list[Pair]]:
    chain = list(range(1, 20_001))  # ids increase along the chain
    path = sorted(set(random_ids(rng, 3_000)))  # random ids, increasing along the path
    hub = random_ids(rng, 1)[0]
    small_centres = random_ids(rng, 50)
    giant_nodes = random_ids(rng, 3_000)
    giant = rng.integers(0, len(giant_nodes), size=(6_000, 2)).tolist()
    extremes = [INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX]
    return {
        "identity": identity_like(rng),
        "increasing chain": pairs(itertools.pairwise(chain)),
        # Written high to low: left_node_id > right_node_id on every row.
        "increasing path": [(high, low) for low, high in itertools.pairwise(path)],
        "hub": pairs((hub, spoke) for spoke in random_ids(rng, 3_000))
        + pairs((centre, leaf) for centre in small_centres for leaf in random_ids(rng, 3)),
        "giant": pairs((giant_nodes[a], giant_nodes[b]) for a, b in giant),
        "isolated": pairs((node, node) for node in random_ids(rng, 100)),
        "extremes": pairs([(INT64_MIN, INT64_MAX), (INT64_MAX, 0), (1, INT64_MIN + 1)])
        + pairs((value, value) for value in extremes),
    }


def pairs(edges: Iterable[tuple[int, int]]) -> list[Pair]:
    return list(edges)


def expected_components(edges: Sequence[Pair]) -> dict[int, int]:
    graph: Any = nx.Graph()
    for left, right in edges:
        if left is not None and right is not None:
            graph.add_edge(left, right)
        elif left is not None or right is not None:
            graph.add_node(left if left is not None else right)
    expected: dict[int, int] = {}
    for component in nx.connected_components(graph):
        expected.update(dict.fromkeys(component, min(component)))
    return expected


def make_graph(seed: int = 20240611) -> Graph:
    rng = np.random.default_rng(seed)
    edges: list[Pair] = []
    shape_of: dict[int, str] = {}
    for name, shape_edges in shapes(rng).items():
        edges += shape_edges
        for left, right in shape_edges:
            for node in (left, right):
                if node is not None:
                    shape_of.setdefault(node, name)
    # Duplicates and reversed copies of a sample of edges; self-loops inside components.
    sample = [edges[int(i)] for i in rng.integers(0, len(edges), 2_000)]
    edges += sample + [(right, left) for left, right in sample]
    edges += [(left, left) for left, _ in sample[:300]]
    # Null ends: the other end is still a node; a row of two nulls is nothing.
    lonely = random_ids(rng, 1)[0]
    edges += [(lonely, None), (None, lonely), (None, None), (None, 1)]
    shape_of[lonely] = "null end"
    order = rng.permutation(len(edges))
    return Graph([edges[int(i)] for i in order], expected_components(edges), shape_of)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return make_graph()


def assert_same_components(graph: Graph, rows: Rows) -> None:
    actual = dict(rows)
    assert len(actual) == len(rows), "a node appears more than once in the output"
    missing = graph.expected.keys() - actual.keys()
    extra = actual.keys() - graph.expected.keys()
    wrong = {
        node
        for node in graph.expected.keys() & actual.keys()
        if actual[node] != graph.expected[node]
    }
    if missing or extra or wrong:
        by_shape: dict[str, int] = {}
        for node in missing | wrong:
            shape = graph.shape_of.get(node, "?")
            by_shape[shape] = by_shape.get(shape, 0) + 1
        pytest.fail(
            f"{len(missing)} nodes missing, {len(extra)} unexpected, {len(wrong)} wrongly "
            f"labelled; missing or wrong by shape: {by_shape}"
        )


def chain_edges(length: int) -> list[Pair]:
    return [(node, node + 1) for node in range(1, length)]


def edges_csv(edges: Sequence[Pair]) -> str:
    """Edges as CSV without a header; a null end is an empty field."""
    return "".join(
        f"{'' if left is None else left},{'' if right is None else right}\n"
        for left, right in edges
    )


# --------------------------------------------------------------------------- dbt


def dbt(
    args: list[str],
    env: Mapping[str, str],
    workdir: Path,
    *,
    variables: Mapping[str, object] | None = None,
    expect_success: bool = True,
) -> tuple[DbtResult, str]:
    """run_dbt logging under workdir, with vars over dbt_project.yml's; returns the result
    and dbt's log (run-operation errors are only in the log)."""
    log_dir = workdir / "logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    overrides = ["--vars", json.dumps(dict(variables))] if variables else []
    result = run_dbt(
        [*args, *overrides, "--log-path", str(log_dir)],
        env,
        workdir / "target",
        expect_success=expect_success,
    )
    log_file = log_dir / "dbt.log"
    return result, log_file.read_text(encoding="utf-8") if log_file.exists() else ""


def materialize(
    env: Mapping[str, str],
    workdir: Path,
    method: str,
    *,
    variables: Mapping[str, object] | None = None,
    expect_success: bool = True,
) -> tuple[DbtResult, str]:
    arguments = {
        "edges_relation": EDGES,
        "output_relation": f"{SCHEMA}.components",
        "method": method,
    }
    return dbt(
        ["run-operation", "materialize_connected_components", "--args", json.dumps(arguments)],
        env,
        workdir,
        variables=variables,
        expect_success=expect_success,
    )


def node_ids_through_dbt(env: Mapping[str, str], workdir: Path, texts: Sequence[str]) -> Rows:
    """onefold.node_id of each text, computed by the warehouse (position, node id)."""
    values = ", ".join(f"({position}, '{text}')" for position, text in enumerate(texts))
    inline = (
        "select position, {{ onefold.node_id('value') }} as node_id "
        f"from (values {values}) as texts (position, value)"
    )
    result, _ = dbt(["show", "--inline", inline, "--limit", str(len(texts))], env, workdir)
    table = result.results[0].agate_table
    return sorted((int(row[0]), int(row[1])) for row in table.rows)


def reference_node_id(text: str) -> int:
    value = int(hashlib.md5(text.encode("utf-8")).hexdigest()[:16], 16)
    return value - 2**64 if value >= 2**63 else value


NODE_ID_TEXTS = [
    "",
    "a",
    "hello",
    "jane.doe@example.com",
    "+14155550123",
    "Zoë Ångström",
    "日本語",
    "emoji 🙂",
    "x" * 500,
    "123",
    "user_id:42",
] + [f"key-{index}" for index in range(40)]


@contextmanager
def scratch_project(tmp_path: Path, edges: Sequence[Pair]) -> Iterator[Path]:
    """A dbt project holding only our macros, a seed of edges and a model over them."""
    project = tmp_path / "project"
    for folder in ("macros", "models", "seeds"):
        (project / folder).mkdir(parents=True)
    macros = PACKAGE_DIR / "macros" / "identity"
    shared = [macros / "node_id.sql", PACKAGE_DIR / "macros" / "statements.sql"]
    for macro in [*macros.glob("connected_components*.sql"), *shared]:
        (project / "macros" / macro.name).symlink_to(macro)
    shutil.copy(PACKAGE_DIR / "profiles.yml", project / "profiles.yml")
    (project / "dbt_project.yml").write_text(
        "name: onefold\nversion: '0.1.0'\nconfig-version: 2\nprofile: onefold\n"
        "flags: {send_anonymous_usage_stats: false}\n"
        "vars: {onefold__components_method: auto, onefold__components_max_iterations: 64}\n"
        "models: {onefold: {+materialized: table, +schema: cc_scratch}}\n"
        "seeds: {onefold: {+schema: cc_scratch,"
        " +column_types: {left_node_id: bigint, right_node_id: bigint}}}\n",
        encoding="utf-8",
    )
    (project / "seeds" / "cc_edges.csv").write_text(
        "left_node_id,right_node_id\n" + edges_csv(edges), encoding="utf-8"
    )
    (project / "models" / "cc_components.sql").write_text(
        "-- One row per node: its component.\n"
        "{{ onefold.connected_components(ref('cc_edges')) }}\n",
        encoding="utf-8",
    )
    (project / "models" / "_cc__models.yml").write_text(
        """
models:
  - name: cc_components
    description: One row per node of cc_edges, with its component.
    config:
      contract: {enforced: true}
      post_hook: ["{{ onefold.connected_components_cleanup() }}"]
    columns:
      - name: node_id
        data_type: bigint
        data_tests: [unique, not_null]
      - name: component_id
        data_type: bigint
        data_tests: [not_null]
unit_tests:
  - name: cc_components_are_labelled_by_their_smallest_node
    model: cc_components
    given:
      - input: ref('cc_edges')
        rows:
          - {left_node_id: 30, right_node_id: 20}
          - {left_node_id: 20, right_node_id: 10}
          - {left_node_id: 10, right_node_id: 20}
          - {left_node_id: 70, right_node_id: 70}
          - {left_node_id: 50, right_node_id: 60}
    expect:
      rows:
        - {node_id: 10, component_id: 10}
        - {node_id: 20, component_id: 10}
        - {node_id: 30, component_id: 10}
        - {node_id: 50, component_id: 50}
        - {node_id: 60, component_id: 50}
        - {node_id: 70, component_id: 70}
""",
        encoding="utf-8",
    )
    yield project


def build_scratch(project: Path, env: Mapping[str, str], variables: Mapping[str, object]) -> Any:
    """`dbt build` of the scratch project (run_dbt is bound to the main project)."""
    from dbt.cli.main import dbtRunner

    command = [
        "build",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(project / "target"),
        "--log-path",
        str(project / "logs"),
        "--vars",
        json.dumps(dict(variables)),
    ]
    with environment({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}):
        outcome = dbtRunner().invoke(command)
    failures = [
        f"{result.node.unique_id}: {result.status} {result.message or ''}"
        for result in (getattr(outcome.result, "results", None) or [])
        if str(result.status) not in ("success", "pass")
    ]
    assert outcome.success, f"dbt build failed: {failures or outcome.exception}"
    return outcome


SCRATCH_EDGES: list[Pair] = [
    (5, 4),
    (4, 3),
    (3, 4),
    (3, 3),
    (9, 9),
    (12, 11),
    (11, 10),
    (10, 12),
    (7, None),
    *chain_edges(300)[150:],
]


# ------------------------------------------------------------------------ DuckDB


def load_duckdb(database: Path, edges: Sequence[Pair]) -> None:
    csv_file = database.with_suffix(".csv")
    csv_file.write_text(edges_csv(edges), encoding="utf-8")
    with duckdb.connect(str(database)) as con:
        con.execute(f"create schema if not exists {SCHEMA}")
        con.execute(f"create or replace table {EDGES} (left_node_id bigint, right_node_id bigint)")
        if edges:
            con.execute(
                f"insert into {EDGES} select * from read_csv(?, header = false, delim = ',', "
                "columns = {'left_node_id': 'BIGINT', 'right_node_id': 'BIGINT'})",
                [str(csv_file)],
            )


def duckdb_rows(database: Path, table: str) -> Rows:
    with duckdb.connect(str(database)) as con:
        rows = con.execute(f"select node_id, component_id from {table}").fetchall()
    return [(int(node), int(component)) for node, component in rows]


def duckdb_tables(database: Path) -> set[str]:
    with duckdb.connect(str(database)) as con:
        rows = con.execute("select table_name from information_schema.tables").fetchall()
    return {str(name) for (name,) in rows}


# Every test's warehouse has this name: its stem is the catalog's, which parsing writes
# into relation names, so the tests share one parse (onefold.testing.parsed_manifests).
DUCKDB_FILE = "onefold.duckdb"


def duckdb_env(database: Path) -> dict[str, str]:
    return {"ONEFOLD_TARGET": "duckdb", "ONEFOLD_DUCKDB_PATH": str(database)}


@pytest.mark.parametrize("method", ["recursive", "rounds"])
def test_duckdb_matches_networkx(method: str, graph: Graph, tmp_path: Path) -> None:
    database = tmp_path / DUCKDB_FILE
    load_duckdb(database, graph.edges)
    materialize(duckdb_env(database), tmp_path, method)
    assert_same_components(graph, duckdb_rows(database, f"{SCHEMA}.components"))
    # Work tables are temporary and dropped: only the input and the output remain.
    assert duckdb_tables(database) == {"edges", "components"}


@pytest.mark.parametrize("method", ["recursive", "rounds"])
def test_duckdb_iteration_bound_fails_loudly(method: str, tmp_path: Path) -> None:
    database = tmp_path / DUCKDB_FILE
    load_duckdb(database, chain_edges(2_000))
    result, log = materialize(
        duckdb_env(database),
        tmp_path,
        method,
        variables={"onefold__components_max_iterations": 1},
        expect_success=False,
    )
    assert not result.success
    assert "did not converge within 1 round(s)" in log
    assert f"(method {method})" in log
    assert '"cc_test"."edges"' in log
    assert "Raise var onefold__components_max_iterations" in log
    assert "components" not in duckdb_tables(database)


@pytest.mark.parametrize("method", ["recursive", "rounds"])
def test_duckdb_empty_input_gives_no_rows(method: str, tmp_path: Path) -> None:
    database = tmp_path / DUCKDB_FILE
    load_duckdb(database, [])
    materialize(duckdb_env(database), tmp_path, method)
    assert duckdb_rows(database, f"{SCHEMA}.components") == []


def test_duckdb_unknown_method_is_refused(tmp_path: Path) -> None:
    database = tmp_path / DUCKDB_FILE
    load_duckdb(database, [(1, 2)])
    result, log = materialize(duckdb_env(database), tmp_path, "magic", expect_success=False)
    assert not result.success
    assert "unknown method 'magic'" in log


def test_duckdb_node_id_is_md5_prefix(tmp_path: Path) -> None:
    rows = node_ids_through_dbt(duckdb_env(tmp_path / DUCKDB_FILE), tmp_path, NODE_ID_TEXTS)
    assert rows == [(i, reference_node_id(text)) for i, text in enumerate(NODE_ID_TEXTS)]


@pytest.mark.parametrize("method", ["recursive", "rounds"])
def test_duckdb_model_builds_with_contract_and_unit_test(method: str, tmp_path: Path) -> None:
    database = tmp_path / DUCKDB_FILE
    with scratch_project(tmp_path, SCRATCH_EDGES) as project:
        build_scratch(project, duckdb_env(database), {"onefold__components_method": method})
    rows = duckdb_rows(database, "onefold_cc_scratch.cc_components")
    assert dict(rows) == expected_components(SCRATCH_EDGES)
    assert not [name for name in duckdb_tables(database) if "__cc_" in name]


# ---------------------------------------------------------------------- Postgres


@contextmanager
def postgres_cursor(server: PostgresServer) -> Iterator[Any]:
    connection = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, dbname=server.database
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def load_postgres(server: PostgresServer, edges: Sequence[Pair]) -> None:
    with postgres_cursor(server) as cursor:
        cursor.execute(f"create schema if not exists {SCHEMA}")
        cursor.execute(f"drop table if exists {EDGES}")
        cursor.execute(f"create table {EDGES} (left_node_id bigint, right_node_id bigint)")
        cursor.copy_expert(
            f"copy {EDGES} from stdin with (format csv)", io.StringIO(edges_csv(edges))
        )


def postgres_rows(server: PostgresServer, table: str) -> Rows:
    with postgres_cursor(server) as cursor:
        cursor.execute(f"select node_id, component_id from {table}")
        return [(int(node), int(component)) for node, component in cursor.fetchall()]


def postgres_tables(server: PostgresServer) -> set[str]:
    with postgres_cursor(server) as cursor:
        cursor.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_schema like 'cc_%' or table_schema like 'onefold_cc_%'"
        )
        return {str(name) for (name,) in cursor.fetchall()}


def postgres_env(server: PostgresServer) -> dict[str, str]:
    return {"ONEFOLD_TARGET": "postgres", **server.environment()}


@pytest.mark.postgres
def test_postgres_matches_networkx(
    graph: Graph, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    load_postgres(postgres_server, graph.edges)
    materialize(postgres_env(postgres_server), tmp_path, "auto")
    assert_same_components(graph, postgres_rows(postgres_server, f"{SCHEMA}.components"))
    assert {f"{SCHEMA}.edges", f"{SCHEMA}.components"} <= postgres_tables(postgres_server)
    assert not [name for name in postgres_tables(postgres_server) if "__cc_" in name]


@pytest.mark.postgres
def test_postgres_refuses_recursive_and_bounds_rounds(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    load_postgres(postgres_server, chain_edges(2_000))
    env = postgres_env(postgres_server)
    result, log = materialize(env, tmp_path, "recursive", expect_success=False)
    assert not result.success
    assert "method 'recursive' needs DuckDB" in log
    result, log = materialize(
        env,
        tmp_path,
        "rounds",
        variables={"onefold__components_max_iterations": 1},
        expect_success=False,
    )
    assert not result.success
    assert "did not converge within 1 round(s) (method rounds)" in log


@pytest.mark.postgres
def test_node_id_is_the_same_on_postgres_and_duckdb(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    on_postgres = node_ids_through_dbt(postgres_env(postgres_server), tmp_path, NODE_ID_TEXTS)
    assert on_postgres == [(i, reference_node_id(text)) for i, text in enumerate(NODE_ID_TEXTS)]


@pytest.mark.postgres
def test_postgres_model_builds_with_contract_and_unit_test(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    with scratch_project(tmp_path, SCRATCH_EDGES) as project:
        build_scratch(project, postgres_env(postgres_server), {})
    rows = postgres_rows(postgres_server, "onefold_cc_scratch.cc_components")
    assert dict(rows) == expected_components(SCRATCH_EDGES)
    assert not [name for name in postgres_tables(postgres_server) if "__cc_" in name]

"""Probabilistic matching's parts that hold on any data (docs/identity.md, "Probabilistic
matching"): the guard that keeps chained links from merging people, the two warehouses'
string comparisons agreeing, the declaration's errors, and the name alias seed.

How well it links is measured on the demo build (test_e2e_build.py), and that daily
runs give what a full rebuild gives with it on is test_incremental.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from onefold import name_aliases
from onefold.testing.dbt import DbtFailure, run_dbt
from onefold.testing.postgres import PostgresServer
from onefold.testing.warehouse import connect_with, target_environment

SCHEMA = "guard_test"
MAYBE = 0.99

# (left, right, rule, identifier_type, match_key, match_probability): records 1-34,
# identifier values 101-134; probabilistic links go both ways, as the graph keeps them.
RECORDS = [1, 2, 3, 11, 12, 13, 21, 22, 31, 32, 33, 34, 41, 42, 43, 44, 45]
VALUES = [
    (1, 101, "user_id", "u1"),
    (3, 103, "user_id", "u2"),
    (11, 111, "email", "e1"),
    (12, 111, "email", "e1"),
    (11, 112, "user_id", "u3"),
    (12, 113, "user_id", "u4"),
    (21, 121, "email", "e2"),
    (22, 122, "email", "e3"),
    (31, 131, "user_id", "u5"),
    (34, 134, "user_id", "u6"),
    (41, 141, "user_id", "u7"),
    (43, 143, "user_id", "u8"),
    (45, 145, "user_id", "u9"),
]
LINKS = [
    # A: u1 and u2 chained through record 2; the weaker link goes.
    (1, 2, 0.999),
    (2, 3, 0.995),
    # B: two user_ids on records that share an email: broken by exact links alone, so
    # its probabilistic link goes and the limit rules are left the rest.
    (12, 13, 0.9999),
    # C: nothing broken, nothing reworked.
    (21, 22, MAYBE),
    # D: a chain from u5 to u6; of its three links the weakest, in the middle, goes.
    (31, 32, 0.999),
    (32, 33, 0.990),
    (33, 34, 0.995),
    # E: u7, u8 and u9 on one chain whose links weaken towards u9: three rounds, each
    # cutting the weakest link left, until u7 and u8 part.
    (41, 42, 0.999),
    (42, 43, 0.998),
    (43, 44, 0.997),
    (44, 45, 0.996),
]
# First-pass components: each scenario is one, named after its smallest node.
COMPONENTS = {1: [1, 2, 3, 101, 103], 11: [11, 12, 13, 111, 112, 113]}
COMPONENTS |= {21: [21, 22, 121, 122], 31: [31, 32, 33, 34, 131, 134]}
COMPONENTS |= {41: [41, 42, 43, 44, 45, 141, 143, 145]}
# The parts every scenario ends in; C is not reworked.
GUARDED = {
    # A: {1, 2, u1} and {3, u2}.
    1: 1, 2: 1, 101: 1, 3: 3, 103: 3,
    # B: the exact cluster (11, 12 and their values) and record 13 alone.
    11: 11, 12: 11, 111: 11, 112: 11, 113: 11, 13: 13,
    # D: {31, 32, u5} and {33, 34, u6}.
    31: 31, 32: 31, 131: 31, 33: 33, 34: 33, 134: 33,
    # E: {41, 42, u7}, {43, u8}, {44} and {45, u9}.
    41: 41, 42: 41, 141: 41, 43: 43, 143: 43, 44: 44, 45: 45, 145: 45,
}  # fmt: skip


def guard_rows() -> list[tuple[int, int, str, str | None, str | None, float | None]]:
    rows: list[tuple[int, int, str, str | None, str | None, float | None]] = [
        (record, record, "record", None, None, None) for record in RECORDS
    ]
    rows += [
        (record, value, f"shared_{kind}", kind, key, None) for record, value, kind, key in VALUES
    ]
    for left, right, probability in LINKS:
        rows += [
            (left, right, "probabilistic", None, None, probability),
            (right, left, "probabilistic", None, None, probability),
        ]
    return rows


@pytest.mark.e2e
@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_guard_cuts_the_weakest_links_of_a_cluster_that_breaks_a_limit(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = target_environment(
        target, tmp_path, "onefold_guard", lambda: request.getfixturevalue("postgres_server")
    )
    warehouse = connect_with(env)
    try:
        warehouse.execute(f"create schema {SCHEMA}")
        warehouse.execute(
            f"create table {SCHEMA}.edges (left_node_id bigint, right_node_id bigint, "
            "rule varchar(32), identifier_type varchar(32), match_key varchar(32), "
            "match_probability double precision)"
        )
        for row in guard_rows():
            warehouse.execute(f"insert into {SCHEMA}.edges values (?, ?, ?, ?, ?, ?)", list(row))
        warehouse.execute(f"create table {SCHEMA}.components (node_id bigint, component_id bigint)")
        for component, nodes in COMPONENTS.items():
            for node in nodes:
                warehouse.execute(
                    f"insert into {SCHEMA}.components values (?, ?)", [node, component]
                )
    finally:
        warehouse.close()

    def guard(output: str, variables: dict[str, object] | None = None) -> dict[int, int]:
        arguments = {
            "edges_relation": f"{SCHEMA}.edges",
            "components_relation": f"{SCHEMA}.components",
            "output_relation": f"{SCHEMA}.{output}",
        }
        command = [
            "run-operation",
            "materialize_probabilistic_guard",
            "--args",
            json.dumps(arguments),
        ]
        if variables:
            command += ["--vars", json.dumps(variables)]
        run_dbt(
            command,
            env,
            tmp_path / "target",
        )
        warehouse = connect_with(env)
        try:
            rows = warehouse.query(f"select node_id, component_id from {SCHEMA}.{output}")
        finally:
            warehouse.close()
        return {int(node): int(component) for node, component in rows}

    assert guard("guarded") == GUARDED
    # Past the bound every link left in a breaking part goes: one round is enough for
    # A, B and D, but E, still breaking after it, falls apart into single records.
    bounded = {"onefold__probabilistic_matching": {"enabled": True, "guard_max_rounds": 1}}
    singles = {41: 41, 42: 42, 141: 41, 43: 43, 143: 43, 44: 44, 45: 45, 145: 45}
    assert guard("guarded_bounded", bounded) == GUARDED | singles


def string_pairs() -> list[tuple[str, str]]:
    """Names and their slips, and random strings over a small alphabet (many partial
    matches and transpositions)."""
    rng = random.Random(7)
    names = ["martha", "marhta", "dwayne", "duane", "dixon", "dicksonx", "nick", "nicholas",
             "blackwell", "blackwel", "homann", "homan", "a", "ab", "ba", "crate"]  # fmt: skip
    pairs = [(a, b) for a in names for b in names]
    for _ in range(3000):
        pairs.append(
            (
                "".join(rng.choice("abcde") for _ in range(rng.randint(1, 10))),
                "".join(rng.choice("abcde") for _ in range(rng.randint(1, 10))),
            )
        )
    return pairs


def comparisons_differing_from_duckdb(
    pairs: list[tuple[str, str]], found: Sequence[Sequence[Any]]
) -> list[tuple[tuple[str, str], Any, Any]]:
    """The pairs whose (Jaro-Winkler similarity, Levenshtein distance) in `found`
    differ from DuckDB's."""
    reference = duckdb.connect()
    differing = []
    for pair, got in zip(pairs, found, strict=True):
        want = reference.execute(
            "select jaro_winkler_similarity(?, ?), levenshtein(?, ?)", [*pair, *pair]
        ).fetchone()
        if (
            want is None
            or abs(float(want[0]) - float(got[0])) > 1e-12
            or int(want[1]) != int(got[1])
        ):
            differing.append((pair, want, got))
    return differing


@pytest.mark.postgres
@pytest.mark.e2e  # runs dbt (its on-run-start hook creates the functions)
def test_postgres_string_comparisons_agree_with_duckdb(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    env = target_environment("postgres", tmp_path, "onefold_match_fns", lambda: postgres_server)
    # Any dbt command that selects one of Onefold's nodes runs the hook; the demo
    # project has matching on.
    run_dbt(["seed", "--select", "name_aliases"], env, tmp_path / "target")
    pairs = string_pairs()
    warehouse = connect_with(env)
    try:
        values = ", ".join(f"({i}, '{a}', '{b}')" for i, (a, b) in enumerate(pairs))
        found = warehouse.query(
            "select onefold.onefold_jaro_winkler(a, b), onefold.onefold_levenshtein(a, b) "
            f"from (values {values}) as pairs (i, a, b) order by i"
        )
    finally:
        warehouse.close()
    assert comparisons_differing_from_duckdb(pairs, found)[:10] == []


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (
            {"enabled": True, "blocking_rules": [["nick"]],
             "fields": {"nick": {"attribute": "first_name", "levels": ["soundex"]}}},
            "fields.nick.levels[0]: 'soundex' is not a level",
        ),
        (
            {"enabled": True, "blocking_rules": [["surname", "birth_date:4"]]},
            "blocking_rules[0]: 'surname' is not a field",
        ),
    ],
)  # fmt: skip
def test_a_bad_declaration_names_what_is_wrong(
    declaration: dict[str, object], message: str, tmp_path: Path, duckdb_env: dict[str, str]
) -> None:
    variables = json.dumps({"onefold__probabilistic_matching": declaration})
    with pytest.raises(DbtFailure, match=message.replace("[", r"\[").replace("]", r"\]")):
        run_dbt(["parse", "--vars", variables], duckdb_env, tmp_path / "target")


def test_name_alias_seed_is_the_installed_lists() -> None:
    assert name_aliases.main(["--check"]) == 0
    pairs = set(name_aliases.alias_pairs())
    assert ("nicholas", "nick") in pairs and ("nick", "nicholas") in pairs

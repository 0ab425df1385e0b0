"""The warehouse interface sends SQL text the same way on both targets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from onefold.testing.postgres import PostgresServer, create_database
from onefold.testing.warehouse import connect_with
from onefold.warehouse import Warehouse


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        env = {"ONEFOLD_TARGET": "duckdb", "ONEFOLD_DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        env = {"ONEFOLD_TARGET": "postgres", **create_database(server, "warehouse").environment()}
    opened = connect_with(env)
    try:
        yield opened
    finally:
        opened.close()


def test_question_marks_and_percents_without_parameters_are_sql(warehouse: Warehouse) -> None:
    # A regex group `(?:…)` and a LIKE wildcard: neither is a placeholder.
    rows = warehouse.query(
        "select 'abc' like 'a%', "
        + (
            "regexp_full_match('ab', '(?:a)b')"
            if warehouse.target == "duckdb"
            else "'ab' ~ '^(?:a)b$'"
        )
    )
    assert rows == [(True, True)]


def test_placeholders_bind_values_beside_literal_percents(warehouse: Warehouse) -> None:
    assert warehouse.query("select ? || '%'", ["50"]) == [("50%",)]

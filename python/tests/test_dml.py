"""Deleting and updating rows (onefold.dml): the copy-on-write query Spark rewrites a
table with must leave exactly the rows DELETE and UPDATE leave, in DuckDB here; and the
package's standard SQL as Spark reads it (onefold.spark.spark_sql)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from onefold.dml import RowChange
from onefold.spark import name_parts, spark_sql

ROWS = [(1, "a@x.io", "keep"), (2, "b@x.io", None), (3, None, "keep"), (4, "d@x.io", "drop")]
# Row 3 has a null email: the predicate is unknown there, and DELETE/UPDATE leave it.
PREDICATE = "changed_row.email in ('a@x.io', 'd@x.io') or changed_row.note = ?"
CHANGES = {
    "delete": RowChange("people", PREDICATE, ("drop",)),
    "update": RowChange(
        "people",
        PREDICATE,
        ("drop",),
        # Not in the table's column order, each with its own bound value.
        assignments=(("note", "?"), ("email", "?")),
        assignment_params=("[erased]", None),
    ),
}


def table_after(sql: str, params: tuple[Any, ...], as_query: bool) -> list[tuple[Any, ...]]:
    connection = duckdb.connect()
    connection.execute("create table people (id integer, email varchar, note varchar)")
    connection.executemany("insert into people values (?, ?, ?)", ROWS)
    if as_query:
        return sorted(connection.execute(sql, list(params)).fetchall())
    connection.execute(sql, list(params))
    return sorted(connection.execute("select * from people").fetchall())


@pytest.mark.parametrize("action", sorted(CHANGES))
def test_the_rewritten_rows_are_the_rows_the_statement_leaves(action: str) -> None:
    change = CHANGES[action]
    rewritten, params = change.rewritten_sql(["id", "email", "note"])
    expected = table_after(change.sql, change.all_params, as_query=False)
    assert table_after(rewritten, params, as_query=True) == expected
    assert (3, None, "keep") in expected
    if action == "update":
        assert (4, None, "[erased]") in expected and (2, "b@x.io", None) in expected
    else:
        assert [row[0] for row in expected] == [2, 3]


def test_count_sql_counts_the_rows_the_change_touches() -> None:
    change = CHANGES["delete"]
    assert table_after(change.count_sql, change.params, as_query=True) == [(2,)]


@pytest.mark.parametrize(
    ("standard", "spark"),
    [
        ('select "customer_id" from "raw"."web"', "select `customer_id` from `raw`.`web`"),
        ('select "a""b", "c`d"', 'select `a"b`, `c``d`'),
        ("cast(x as VARCHAR)", "cast(x as string)"),
        # Literals and backquoted names stay as written (backslash is not special)...
        ("""'say "hi"', '\\d+', `x"y`""", """'say "hi"', '\\d+', `x"y`"""),
        # ...but for a quote, which Spark cannot hold in a literal ('it''s' is 'its'
        # there), and a closing backslash, which its lexer reads as an escape.
        ("select 'it''s'", "select cast(unhex('69742773') as string)"),
        (
            """select 'C:\\', 'é''"'""",
            "select cast(unhex('433a5c') as string), cast(unhex('c3a92722') as string)",
        ),
        ("select 'varchar' as varchar_count", "select 'varchar' as varchar_count"),
    ],
)
def test_spark_reads_the_standard_spellings(standard: str, spark: str) -> None:
    assert spark_sql(standard) == spark


def test_relation_names_in_any_quoting() -> None:
    assert name_parts('"onefold_raw"."Web Events"') == ["onefold_raw", "Web Events"]
    assert name_parts("`s`.t") == ["s", "t"]
    assert name_parts("Cat.S.T") == ["cat", "s", "t"]

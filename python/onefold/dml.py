"""Deleting, updating and inserting rows on every target, with the number of rows touched.

DuckDB and PostgreSQL run DELETE, UPDATE and INSERT and count what they touched. Spark
has no DELETE or UPDATE for parquet tables: it counts the matching rows and, when there
are any, rewrites the table without them (delete) or with them changed (update), as
data lakes delete (`SparkWarehouse.rewrite`). A row whose condition is unknown (null)
stays as it is on every target, as DELETE and UPDATE leave it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onefold.warehouse import Warehouse, column_names, quote_ident


@dataclass(frozen=True)
class RowChange:
    """Delete the rows of `table` for which `predicate` holds or, with `assignments`
    ((column, SQL) pairs), set those columns on them. `alias` names the table in the
    predicate; `params` are the predicate's bound values, `assignment_params` the
    assignments'."""

    table: str
    predicate: str
    params: tuple[Any, ...] = field(default=(), repr=False)
    assignments: tuple[tuple[str, str], ...] = ()
    assignment_params: tuple[Any, ...] = field(default=(), repr=False)
    alias: str = "changed_row"

    @property
    def action(self) -> str:
        return "update" if self.assignments else "delete"

    @property
    def target(self) -> str:
        return f"{self.table} as {self.alias}"

    @property
    def sql(self) -> str:
        if not self.assignments:
            return f"delete from {self.target} where {self.predicate}"
        settings = ", ".join(
            f"{quote_ident(column)} = {value}" for column, value in self.assignments
        )
        return f"update {self.target} set {settings} where {self.predicate}"

    @property
    def all_params(self) -> tuple[Any, ...]:
        """The bound values in the order `sql` reads them."""
        return (*self.assignment_params, *self.params)

    @property
    def count_sql(self) -> str:
        """How many rows the change touches (binds `params`)."""
        return f"select count(*) from {self.target} where {self.predicate}"

    def rewritten_sql(self, columns: list[str]) -> tuple[str, tuple[Any, ...]]:
        """The table's rows after the change, as one query over the table (copy on write),
        and its bound values. The changed rows and the others are two filters, as a
        subquery may stand in a filter on Spark but not in a select list."""
        kept = f"select * from {self.target} where ({self.predicate}) is not true"
        if not self.assignments:
            return kept, self.params
        # Each assignment with its own bound values: the select list takes the table's order.
        assigned: dict[str, tuple[str, tuple[Any, ...]]] = {}
        position = 0
        for column, value in self.assignments:
            count = value.count("?")
            assigned[column.lower()] = (value, self.assignment_params[position : position + count])
            position += count
        select_list: list[str] = []
        params: list[Any] = []
        for column in columns:
            value, bound = assigned.get(column.lower(), (f"{self.alias}.{quote_ident(column)}", ()))
            select_list.append(f"{value} as {quote_ident(column)}")
            params.extend(bound)
        changed = f"select {', '.join(select_list)} from {self.target} where {self.predicate}"
        return f"{changed} union all {kept}", (*params, *self.params, *self.params)


@dataclass(frozen=True)
class RowInsert:
    """Insert a query's rows into `table`'s `columns`."""

    table: str
    columns: tuple[str, ...]
    select_sql: str
    params: tuple[Any, ...] = field(default=(), repr=False)

    action = "insert"

    @property
    def sql(self) -> str:
        return f"insert into {self.table} ({', '.join(self.columns)}) {self.select_sql}"

    @property
    def all_params(self) -> tuple[Any, ...]:
        return self.params

    @property
    def count_sql(self) -> str:
        return f"select count(*) from ({self.select_sql}) as inserted_rows"


def apply(warehouse: Warehouse, change: RowChange | RowInsert) -> int:
    """Make the change; the number of rows it deleted, updated or inserted."""
    if warehouse.target != "spark":
        return dml_count(warehouse, change.sql, change.all_params)
    from onefold.spark import SparkWarehouse, name_parts

    assert isinstance(warehouse, SparkWarehouse)
    # Counted first: a table without the rows is not rewritten (most tables hold none of
    # a person's rows, and a rewrite writes the whole table).
    (count,) = warehouse.query(change.count_sql, list(change.params))[0]
    if not count:
        return 0
    if isinstance(change, RowInsert):
        warehouse.execute(change.sql, list(change.params))
    else:
        *_, schema, table = name_parts(change.table)
        columns = column_names(warehouse, schema, table) if change.assignments else []
        select_sql, params = change.rewritten_sql(columns)
        warehouse.rewrite(change.table, select_sql, params)
    return int(count)


def dml_count(warehouse: Warehouse, statement: str, params: tuple[Any, ...] = ()) -> int:
    """Run a delete/update/insert on DuckDB or PostgreSQL and return how many rows it
    touched."""
    if warehouse.target == "duckdb":
        rows = warehouse.query(statement, list(params))
        return int(rows[0][0]) if rows else 0
    rows = warehouse.query(
        f"with affected as ({statement} returning 1) select count(*) from affected", list(params)
    )
    return int(rows[0][0])

"""Small SQL building blocks shared by the sync and erasure modules (both targets).

Statements are composed as text because identifiers (schemas, tables, columns) cannot
be bound as parameters; every identifier goes through `quote_ident` and every literal
through `literal`, so user-written names (syncs.yml, dbt vars) cannot break out of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized
from contextlib import contextmanager
from typing import TypeVar

from onefold.warehouse import Warehouse, quote_ident

T = TypeVar("T")


def relation(schema: str, table: str) -> str:
    """`"schema"."table"`."""
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def literal(value: str) -> str:
    """A SQL string literal. Both targets use standard strings (backslash is not special)."""
    if "\x00" in value:
        raise ValueError("SQL text cannot contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


def placeholders(values: Sized) -> str:
    """`?, ?, ?`: one bound-parameter marker per value (for `in (...)` and `values (...)`)."""
    return ", ".join("?" for _ in range(len(values)))


def chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` values (keeps IN lists a sane length)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


@contextmanager
def transaction(warehouse: Warehouse) -> Iterator[None]:
    """One explicit transaction: everything inside commits together or not at all.

    Both connections run in autocommit mode, where `begin` opens a transaction that
    lasts until `commit`/`rollback`. A released DuckDB file is attached for the
    transaction and released after it (see Warehouse.release).
    """
    if warehouse.target == "spark":
        # Spark SQL has no transactions. What runs in one here is written to be safe
        # without: each erasure step is idempotent and journaled after it ran (a crash
        # between the two runs it again), and what it writes first is what a rerun reads.
        yield
        return
    with warehouse.attached():
        warehouse.execute("begin transaction")
        try:
            yield
        except BaseException:
            warehouse.execute("rollback")
            raise
        warehouse.execute("commit")

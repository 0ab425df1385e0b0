"""Reclaim the storage erased rows occupied, so their bytes are gone and not just unlinked.

A DELETE or UPDATE leaves the old row's bytes in the database file until the space is
reused: on DuckDB in free blocks of the file (and in the write-ahead log until a
checkpoint), on PostgreSQL as dead tuples in the table's pages. `onefold erase
--execute` therefore ends with:

- DuckDB: a checkpoint, then the whole database copied into a fresh file
  (`COPY FROM DATABASE`: tables, views, macros, sequences and comments), which replaces
  the old file; the write-ahead log goes with it. Only live rows are written, so no
  erased value is left in any byte of the warehouse file. This costs one copy of the
  database per run (not per request): a run processes every pending request first.
  The fresh file records when it was written (`<privacy>.erasure_storage_rewrites`):
  `--verify` then byte-scans only what a rewrite cannot have cleaned (blocks no live
  table uses, and the write-ahead log), as long as no erasure statement ran since.
- PostgreSQL: `VACUUM` on every table a step changed, which makes the dead tuples'
  space free for reuse and removes them from indexes. The bytes stay in the data files
  until the space is overwritten, in the WAL until its segments are recycled, and in
  base backups and WAL archives for their retention: see docs/erasure_design.md.
- Spark: nothing more. Erase rewrote each changed parquet table (copy on write), and
  Spark's overwrite deletes the table's old files. A table format that keeps old
  versions (Delta, Iceberg) keeps them until its own VACUUM or snapshot expiry.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from onefold.errors import WarehouseError
from onefold.sql import literal, relation
from onefold.warehouse import DuckDBWarehouse, Warehouse, quote_ident

REWRITE_ALIAS = "onefold_rewrite"
#: in the privacy schema: when `onefold erase` last wrote the DuckDB file afresh
REWRITES_TABLE = "erasure_storage_rewrites"


@dataclass
class Reclaimed:
    """What a reclaim did, for the CLI's output and --json."""

    target: str
    action: str  # rewrite | vacuum | overwritten | none
    tables: list[str] = field(default_factory=list)
    seconds: float = 0.0
    bytes_before: int | None = None
    bytes_after: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "action": self.action,
            "tables": self.tables,
            "seconds": round(self.seconds, 2),
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
        }


def table_relation(name: str) -> str:
    """A step's table as SQL: quoted relations stay as they are, `schema.table` is quoted."""
    if '"' in name:
        return name
    schema, _, table = name.rpartition(".")
    return relation(schema, table) if schema else quote_ident(table)


def reclaim(
    warehouse: Warehouse, changed_tables: Iterable[str], privacy_schema: str | None = None
) -> Reclaimed:
    """Make the erased rows' bytes unreachable. Closes a DuckDB warehouse (its file is
    replaced, recording the rewrite in `privacy_schema` when given); PostgreSQL's
    connection stays open."""
    tables = sorted(set(changed_tables))
    started = time.perf_counter()
    if not tables:
        return Reclaimed(warehouse.target, "none")
    if isinstance(warehouse, DuckDBWarehouse):
        result = rewrite_duckdb_file(warehouse, privacy_schema)
    elif warehouse.target == "spark":
        result = Reclaimed(warehouse.target, "overwritten")
    else:
        for table in tables:
            # VACUUM cannot run in a transaction; the connection is in autocommit.
            warehouse.execute(f"vacuum (analyze) {table_relation(table)}")
        result = Reclaimed(warehouse.target, "vacuum")
    result.tables = tables
    result.seconds = time.perf_counter() - started
    return result


def rewrite_duckdb_file(warehouse: DuckDBWarehouse, privacy_schema: str | None = None) -> Reclaimed:
    """Copy the database into a fresh file and put it in place of the old one; the fresh
    file records the rewrite in `<privacy_schema>.erasure_storage_rewrites` (every
    erasure statement finished before it started: `verify.last_rewrite`)."""
    path = warehouse.settings.path.resolve()
    fresh = path.with_name(path.name + ".rewrite")
    fresh.unlink(missing_ok=True)
    database = str(warehouse.query("select current_database()")[0][0])
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    warehouse.execute("checkpoint")
    before = path.stat().st_size
    check_room_for_rewrite(path, live_bytes(warehouse), before)
    warehouse.execute(f"attach {literal(str(fresh))} as {REWRITE_ALIAS}")
    try:
        warehouse.execute(f"copy from database {quote_ident(database)} to {REWRITE_ALIAS}")
        if privacy_schema is not None:
            rewrites = f"{REWRITE_ALIAS}.{relation(privacy_schema, REWRITES_TABLE)}"
            warehouse.execute(
                f"create schema if not exists {REWRITE_ALIAS}.{quote_ident(privacy_schema)}"
            )
            warehouse.execute(
                f"create table if not exists {rewrites} "
                "(rewritten_at timestamp, bytes_before bigint)"
            )
            warehouse.execute(f"insert into {rewrites} values (?, ?)", [started_at, before])
    finally:
        warehouse.execute(f"detach {REWRITE_ALIAS}")
    warehouse.close()
    os.replace(fresh, path)
    wal_file(path).unlink(missing_ok=True)
    return Reclaimed("duckdb", "rewrite", bytes_before=before, bytes_after=path.stat().st_size)


def live_bytes(warehouse: DuckDBWarehouse) -> int:
    """The bytes of the database file's blocks in use (after a checkpoint): what the
    fresh file will hold. Free blocks, often most of a file dbt rebuilt many times, are
    not copied."""
    (used,) = warehouse.query(
        "select used_blocks * block_size from pragma_database_size() "
        "where database_name = current_database()"
    )[0]
    return int(used)


def check_room_for_rewrite(path: Path, live: int, size: int) -> None:
    """The fresh file needs room for the old one's live blocks (`live` bytes of its
    `size`), and a tenth more for its own metadata, beside it until it replaces it:
    refuse before writing anything rather than fill the disk (which would stop every
    other writer on it) and fail half-way."""
    needed = live + live // 10
    free = shutil.disk_usage(path.parent).free
    if free < needed:
        raise WarehouseError(
            f"storage not reclaimed: rewriting {path.name} ({size / 1e9:,.1f} GB, "
            f"{live / 1e9:,.1f} GB of it in use) needs about {needed / 1e9:,.1f} GB free "
            f"beside it and there are {free / 1e9:,.1f} GB. The erasure itself is done "
            "(rows deleted, journaled); the erased rows' bytes stay in the file's free "
            "blocks until it is rewritten, and `onefold erase --verify` reads the whole "
            "file meanwhile. Free the space and run the next erasure, or copy the database "
            "yourself (`COPY FROM DATABASE`, docs/erasure.md, storage)."
        )


def wal_file(path: Path) -> Path:
    """DuckDB's write-ahead log beside the database file."""
    return path.with_name(path.name + ".wal")

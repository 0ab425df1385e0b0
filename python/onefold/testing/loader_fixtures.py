"""Load the loader-shaped fixtures (integration_tests/seeds/<loader>/) into a warehouse.

The fixtures are dbt seeds whose YAML gives every column its type (`column_types`), as
the loaders land them. Tests of the package itself (not the integration_tests project)
load them with these helpers: each CSV becomes a typed table in a schema of its own.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from onefold.testing.dbt import PACKAGE_DIR
from onefold.warehouse import Warehouse, quote_ident

FIXTURES_DIR = PACKAGE_DIR / "integration_tests" / "seeds"


def fixture_column_types(
    loader: str, fixtures_dir: Path = FIXTURES_DIR
) -> dict[str, dict[str, str]]:
    """Table -> {column: warehouse type}, from the loader's seeds YAML."""
    types: dict[str, dict[str, str]] = {}
    for path in sorted((fixtures_dir / loader).glob("_*__seeds.yml")):
        for seed in yaml.safe_load(path.read_text()).get("seeds", []):
            types[seed["name"]] = dict(seed.get("config", {}).get("column_types", {}))
    return types


def fixture_rows(
    loader: str, table: str, fixtures_dir: Path = FIXTURES_DIR
) -> list[dict[str, str]]:
    """The CSV rows of one fixture table (empty cells are absent values)."""
    with (fixtures_dir / loader / f"{table}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def load_loader_fixtures(
    warehouse: Warehouse,
    loader: str,
    schema: str,
    *,
    only: list[str] | None = None,
    fixtures_dir: Path = FIXTURES_DIR,
) -> dict[str, int]:
    """Create one typed table per fixture of `loader` in `schema`; table -> rows loaded.

    Values are inserted as text and cast by the warehouse, so a fixture loads the same
    way on DuckDB and PostgreSQL, as `dbt seed` would with the same column_types."""
    warehouse.execute(f"create schema if not exists {quote_ident(schema)}")
    loaded: dict[str, int] = {}
    for table, column_types in fixture_column_types(loader, fixtures_dir).items():
        if only is not None and table not in only:
            continue
        rows = fixture_rows(loader, table, fixtures_dir)
        columns = list(rows[0].keys()) if rows else list(column_types)
        qualified = f"{quote_ident(schema)}.{quote_ident(table)}"
        warehouse.execute(f"drop table if exists {qualified}")
        definitions = ", ".join(
            f"{quote_ident(column)} {column_types.get(column, 'text')}" for column in columns
        )
        warehouse.execute(f"create table {qualified} ({definitions})")
        casts = ", ".join(f"cast(? as {column_types.get(column, 'text')})" for column in columns)
        names = ", ".join(quote_ident(column) for column in columns)
        for row in rows:
            values = [row[column] if row[column] != "" else None for column in columns]
            warehouse.execute(f"insert into {qualified} ({names}) select {casts}", values)
        loaded[table] = len(rows)
    return loaded

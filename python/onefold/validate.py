"""`onefold validate`: a data-quality gate over the published tables.

The expectations are declared in `validation/expectations.yml` (format: see
`onefold.validation.spec`). `run_validation` checks that every declared table and column
exists, resolves what depends on the warehouse (other tables' row counts, column types,
the reference time for freshness), runs one great-expectations checkpoint per table and
returns a `ValidationReport`. Example values in the report are masked for columns marked
`pii: true`; whole rows are never read into the report.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

from onefold.errors import ConfigError
from onefold.project import DbtProject, locate
from onefold.validation.report import Outcome, ValidationReport
from onefold.validation.spec import ExpectationsFile, TableRef, TableSpec, load_expectations
from onefold.warehouse import Warehouse, quote_ident

#: (schema, table) of each declared table, by its key
Located = dict[str, tuple[str, str]]

__all__ = [
    "DEFAULT_EXPECTATIONS",
    "Outcome",
    "ValidationReport",
    "default_expectations_path",
    "load_expectations",
    "run_validation",
]

DEFAULT_EXPECTATIONS = Path("validation/expectations.yml")
_PROJECT_DIR = Path(__file__).resolve().parents[2]


def default_expectations_path() -> Path:
    """`validation/expectations.yml` in the working directory, else the project's own."""
    if DEFAULT_EXPECTATIONS.is_file():
        return DEFAULT_EXPECTATIONS
    bundled = _PROJECT_DIR / DEFAULT_EXPECTATIONS
    return bundled if bundled.is_file() else DEFAULT_EXPECTATIONS


def run_validation(
    project: DbtProject | None = None,
    expectations_path: Path | None = None,
    now: dt.datetime | None = None,
    tables: Sequence[str] = (),
    examples: int = 3,
) -> ValidationReport:
    """Validate the declared tables on the dbt project's target (default: the project of
    the working directory, see onefold.project); dbt models are found in its manifest.

    `now` is the reference time for freshness (default: the current time; a naive value is
    UTC). `tables` limits the run to some declared tables (`marts.customer_records`).
    Raises ConfigError (exit 2) for a bad file or a declared table or column that does not
    exist; failed expectations are in the report, not raised.
    """
    project = project or locate()
    target = project.target.type
    started = time.perf_counter()
    path = expectations_path or default_expectations_path()
    declared = load_expectations(path)
    selected = _select(declared, tables)
    reference = _utc(now) if now is not None else dt.datetime.now(dt.UTC)

    from onefold.validation.gx_session import GXSession, prepare_checks

    outcomes: list[Outcome] = []
    located = _locate(project, selected, path)
    with project.connection(read_only=True) as warehouse:
        column_types = _inspect(warehouse, selected, located, path)
        row_counts = _relative_row_counts(warehouse, selected, located, path)
        try:
            prepared = {
                spec.table.key: prepare_checks(
                    spec, column_types[spec.table.key], row_counts, reference, target
                )
                for spec in selected
            }
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        session = GXSession(target, reference, project.target.postgres)
        try:
            for spec in selected:
                schema, table = located[spec.table.key]
                frame = None
                if target == "duckdb":
                    frame = warehouse.query_df(_select_statement(spec, schema, table))
                outcomes.extend(
                    session.validate_table(
                        spec, schema, prepared[spec.table.key], examples, frame, table
                    )
                )
                del frame
        finally:
            session.close()
    return ValidationReport(
        target=project.target.name,
        expectations_path=str(path),
        now=reference,
        tables=tuple(spec.table.key for spec in selected),
        outcomes=tuple(outcomes),
        elapsed_seconds=time.perf_counter() - started,
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _select(declared: ExpectationsFile, tables: Sequence[str]) -> list[TableSpec]:
    if not tables:
        return list(declared.tables)
    return [declared.table(key) for key in dict.fromkeys(tables)]


def _locate(project: DbtProject, specs: Sequence[TableSpec], path: Path) -> Located:
    """Where each declared table (and each `relative_to` table) is; every model the dbt
    manifest lacks in one ConfigError."""
    refs: dict[str, TableRef] = {}
    for spec in specs:
        refs[spec.table.key] = spec.table
        for check in spec.checks:
            if check.relative_to is not None:
                refs[check.relative_to.key] = check.relative_to
    located: Located = {}
    problems: list[str] = []
    for key, ref in refs.items():
        try:
            located[key] = ref.locate(project)
        except ConfigError as exc:
            problems.append(f"{key}: {exc}")
    if problems:
        raise ConfigError(f"{path} does not match the dbt project:\n  " + "\n  ".join(problems))
    return located


def _inspect(
    warehouse: Warehouse, specs: Sequence[TableSpec], located: Located, path: Path
) -> dict[str, dict[str, str]]:
    """Column name -> data type per declared table; every missing table and column in one
    ConfigError."""
    problems: list[str] = []
    found: dict[str, dict[str, str]] = {}
    for spec in specs:
        schema, table = located[spec.table.key]
        rows = warehouse.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        )
        types = {str(name): str(kind) for name, kind in rows}
        found[spec.table.key] = types
        if not types:
            problems.append(
                f"{spec.table.key}: table {schema}.{table} does not exist on "
                f"{warehouse.target} (run `dbt build`, or check the table name)"
            )
            continue
        wanted = [(c, check.where) for check in spec.checks for c in check.columns]
        wanted += [(c, f"{spec.table.key} key") for c in spec.key_columns]
        wanted += [(c, f"{spec.table.key} columns.{c}") for c in sorted(spec.pii_columns)]
        for column, where in wanted:
            if column not in types:
                problems.append(
                    f"{where}: column {column!r} is not in {schema}.{table} "
                    f"(columns: {', '.join(types)})"
                )
    if problems:
        unique = list(dict.fromkeys(problems))
        raise ConfigError(f"{path} does not match the warehouse:\n  " + "\n  ".join(unique))
    return found


def _relative_row_counts(
    warehouse: Warehouse, specs: Sequence[TableSpec], located: Located, path: Path
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for spec in specs:
        for check in spec.checks:
            other = check.relative_to
            if other is None or other.key in counts:
                continue
            schema, table = located[other.key]
            if not warehouse.table_exists(schema, table):
                raise ConfigError(
                    f"{path}: {check.where}: `relative_to` table {schema}.{table} does not exist"
                )
            statement = f"select count(*) from {quote_ident(schema)}.{quote_ident(table)}"
            counts[other.key] = int(warehouse.query(statement)[0][0])
    return counts


def _select_statement(spec: TableSpec, schema: str, table: str) -> str:
    """Only the columns the checks read (all of them when a raw `gx` check may read any).
    A table checked only for its row count is read as one constant column."""
    columns = spec.columns_needed()
    if columns is None:
        projection = "*"
    elif columns:
        projection = ", ".join(quote_ident(c) for c in columns)
    else:
        projection = "1 as _onefold_row"
    return f"select {projection} from {quote_ident(schema)}.{quote_ident(table)}"

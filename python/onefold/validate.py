"""`onefold validate`: a data-quality gate over the published tables, for what dbt's own
tests do not check.

The expectations are declared in `validation/expectations.yml` (format: see
`onefold.validation.spec`). `run_validation` checks that every declared table and column
exists, resolves what depends on the warehouse (other tables' row counts, column types,
the reference time for freshness), runs one great-expectations checkpoint per table, then
(when the file has those blocks) the freshness of every enabled source
(`onefold.validation.sources`) and the identity match and quarantine rates against
previous runs (`onefold.validation.history`), and returns a `ValidationReport`. Example
values in the report are masked for columns marked `pii: true`; whole rows are never read
into the report.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from onefold.errors import ConfigError, OnefoldError, WarehouseError
from onefold.project import DbtProject, locate
from onefold.validation.report import Outcome, ValidationReport
from onefold.validation.spec import (
    HISTORY_KEY,
    SOURCES_KEY,
    ExpectationsFile,
    TableRef,
    TableSpec,
    load_expectations,
)
from onefold.warehouse import Warehouse, quote_ident

#: (schema, table) of each declared table, by its key
Located = dict[str, tuple[str, str]]
#: progress(label, done, total): called before each table (and `sources`, `history`)
#: with the number of parts done, and once more with ("done", total, total)
Progress = Callable[[str, int, int], None]

__all__ = [
    "DEFAULT_EXPECTATIONS",
    "Outcome",
    "UnexpectedError",
    "ValidationReport",
    "default_expectations_path",
    "load_expectations",
    "run_validation",
]


class UnexpectedError(OnefoldError):
    """An error validate did not foresee (a bug): exit 2, never 1, which means that an
    expectation failed."""

    exit_code = 2

    @classmethod
    def wrapping(cls, error: BaseException) -> UnexpectedError:
        message = " ".join(str(error).split())
        return cls(
            f"validate stopped on an unexpected error: {type(error).__name__}: {message} "
            "(please report it with the command and this message)"
        )


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
    progress: Progress | None = None,
) -> ValidationReport:
    """Validate the declared tables on the dbt project's target (default: the project of
    the working directory, see onefold.project); dbt models are found in its manifest.

    `now` is the reference time for freshness (default: the current time; a naive value is
    UTC). `tables` limits the run to some declared tables (`marts.customer_records`), or
    `sources` / `history`. `progress` hears of each part as it starts.
    Raises ConfigError (exit 2) for a bad file or a declared table or column that does not
    exist, WarehouseError (exit 2) when the warehouse fails; failed expectations are in
    the report, not raised.
    """
    project = project or locate()
    started = time.perf_counter()
    path = expectations_path or default_expectations_path()
    declared = load_expectations(path)
    selected, with_sources, with_history = _select(declared, tables)
    reference = _utc(now) if now is not None else dt.datetime.now(dt.UTC)
    parts = [spec.table.key for spec in selected]
    parts += [SOURCES_KEY] if with_sources else []
    parts += [HISTORY_KEY] if with_history else []

    def advance(label: str) -> None:
        if progress is not None:
            done = parts.index(label) if label in parts else len(parts)
            progress(label, done, len(parts))

    outcomes: list[Outcome] = []
    located = _locate(project, selected, path)
    with project.connection(read_only=True) as warehouse:
        if selected:
            outcomes.extend(
                _validate_tables(
                    project, warehouse, selected, located, path, reference, examples, advance
                )
            )
        if declared.sources is not None and with_sources:
            from onefold.validation.sources import check_sources

            advance(SOURCES_KEY)
            with _warehouse_errors("the sources' freshness", warehouse):
                outcomes.extend(check_sources(project, warehouse, declared.sources, reference))
        if declared.history is not None and with_history:
            from onefold.validation import history

            advance(HISTORY_KEY)
            with _warehouse_errors("the rates for `history`", warehouse):
                measures = history.measure(project, warehouse)
                previous = history.previous_values(
                    project, warehouse, measures, declared.history.runs
                )
            compared = history.compare(measures, previous, declared.history)
            outcomes.extend(outcome for _, outcome, _ in compared)
    if declared.history is not None and with_history:
        # Written after the read-only session is closed, in one short read-write one.
        with project.connection() as writer, _warehouse_errors("the `history` table", writer):
            history.record(project, writer, compared, previous, declared.history)
    advance("done")
    return ValidationReport(
        target=project.target.name,
        expectations_path=str(path),
        now=reference,
        tables=tuple(parts),
        outcomes=tuple(outcomes),
        elapsed_seconds=time.perf_counter() - started,
    )


def _validate_tables(
    project: DbtProject,
    warehouse: Warehouse,
    selected: Sequence[TableSpec],
    located: Located,
    path: Path,
    reference: dt.datetime,
    examples: int,
    advance: Callable[[str], None],
) -> list[Outcome]:
    """The great-expectations part: one checkpoint per declared table."""
    from onefold.validation.gx_session import GXSession, prepare_checks

    target = project.target.type
    with _warehouse_errors("the declared tables' columns and row counts", warehouse):
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
    outcomes: list[Outcome] = []
    session = GXSession(target, reference, project.target.postgres)
    try:
        for spec in selected:
            advance(spec.table.key)
            schema, table = located[spec.table.key]
            frame = None
            if target == "duckdb":
                with _warehouse_errors(f"{schema}.{table}", warehouse):
                    frame = warehouse.query_df(_select_statement(spec, schema, table))
            outcomes.extend(
                session.validate_table(
                    spec, schema, prepared[spec.table.key], examples, frame, table
                )
            )
            del frame
    finally:
        session.close()
    return outcomes


@contextmanager
def _warehouse_errors(what: str, warehouse: Warehouse) -> Iterator[None]:
    """A driver error while reading or writing `what` as a WarehouseError (exit 2)."""
    try:
        yield
    except OnefoldError:
        raise
    except Exception as exc:
        message = " ".join(str(exc).split())
        raise WarehouseError(
            f"validate could not read or write {what} on {warehouse.target}: {message}"
        ) from exc


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _select(
    declared: ExpectationsFile, tables: Sequence[str]
) -> tuple[list[TableSpec], bool, bool]:
    """The declared tables to validate, and whether to check sources and history."""
    if not tables:
        return list(declared.tables), declared.sources is not None, declared.history is not None
    wanted = list(dict.fromkeys(tables))
    specs = [declared.table(key) for key in wanted if key not in (SOURCES_KEY, HISTORY_KEY)]
    for key, block in ((SOURCES_KEY, declared.sources), (HISTORY_KEY, declared.history)):
        if key in wanted and block is None:
            declared.table(key)  # raises: not in this file, naming what is
    return specs, SOURCES_KEY in wanted, HISTORY_KEY in wanted


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

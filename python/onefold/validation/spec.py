"""Read `validation/expectations.yml` into checks, with errors that name the entry at fault.

The file declares, per table, what must hold for its data to be shipped:

    version: 1
    tables:
      marts.customer_records:          # <layer>.<model>; found in dbt's manifest
        key: [source, record_key]      # optional: columns that locate a failing row
        columns:
          record_key: {pii: true}      # optional: mask this column's values in the report
        expectations:
          - row_count: {min: 1}
          - unique: [source, record_key]          # a list: the combination is unique
          - not_null: [customer_id, source]       # a list: each column is not null
          - regex: {column: customer_id, pattern: '^cus_[0-9a-f]{24}$'}
          - share: {column: email, min: 0.5}      # share of rows with a value
          - median: {column: total_price, min: 5, max: 500}
    history:                           # optional: rates compared with previous runs
      runs: 5
      tolerance: {identity_match_rate: 0.05, quarantine_rate: 0.02}
    sources:                           # optional: freshness of every enabled source
      max_age: 3d                      # when the source declares no dbt freshness
      overrides: {privacy.erasure_requests: skip}

This module only parses and checks the file; it does not import great-expectations.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml

from onefold.errors import ConfigError

if TYPE_CHECKING:
    from onefold.project import DbtProject

CheckKind = Literal[
    "row_count",
    "unique",
    "not_null",
    "between",
    "in_set",
    "regex",
    "freshness",
    "share",
    "mean",
    "median",
    "gx",
]
KINDS: tuple[CheckKind, ...] = get_args(CheckKind)
# Arguments each kind accepts (which are required is checked per kind below).
_ARGUMENTS: dict[CheckKind, frozenset[str]] = {
    "row_count": frozenset({"min", "max", "relative_to"}),
    "unique": frozenset({"column", "columns", "mostly"}),
    "not_null": frozenset({"column", "columns", "mostly"}),
    "between": frozenset({"column", "min", "max", "mostly"}),
    "in_set": frozenset({"column", "values", "mostly"}),
    "regex": frozenset({"column", "pattern", "mostly"}),
    "freshness": frozenset({"column", "max_age"}),
    "share": frozenset({"column", "min", "max"}),
    "mean": frozenset({"column", "min", "max"}),
    "median": frozenset({"column", "min", "max"}),
    "gx": frozenset({"expectation", "kwargs"}),
}
_TABLE_KEYS = frozenset({"description", "key", "columns", "expectations"})
_COLUMN_KEYS = frozenset({"pii", "description"})
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_AGE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Schemas that are not dbt layers: the generator's raw and ground-truth schemas.
_RAW_LAYERS = ("raw", "raw_truth")
_TOP_KEYS = frozenset({"version", "tables", "history", "sources"})
#: rates `history` compares with previous runs, and their default tolerance (absolute:
#: 0.05 = five percentage points either way of the median of the previous runs)
HISTORY_METRICS: dict[str, float] = {"identity_match_rate": 0.05, "quarantine_rate": 0.02}
DEFAULT_HISTORY_RUNS = 5
#: freshness threshold of a source whose dbt declaration has no `error_after`
DEFAULT_SOURCE_MAX_AGE = dt.timedelta(days=3)

Bound = float | dt.datetime
# Checks on one aggregate of the table, with no failing rows to locate.
_AGGREGATE_KINDS = frozenset({"row_count", "freshness", "share", "mean", "median"})


@dataclass(frozen=True)
class TableRef:
    """`<layer>.<table>`: Onefold's dbt model `table` (the layer is its folder, a label:
    schema and identifier come from dbt's manifest), or a table of the generator's `raw` /
    `raw_truth` schemas."""

    layer: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.layer}.{self.name}"

    def locate(self, project: DbtProject) -> tuple[str, str]:
        """(schema, table) in the warehouse: the manifest's for a dbt model."""
        if self.layer == "raw":
            return project.raw_schema, self.name
        if self.layer == "raw_truth":
            return project.truth_schema, self.name
        relation = project.relation(self.name)
        return relation.schema, relation.identifier


@dataclass(frozen=True)
class Check:
    """One expectation on one table, as declared (a `columns` list of `not_null` gives one
    check per column)."""

    table: TableRef
    position: int  # 1-based position in the table's `expectations` list
    kind: CheckKind
    columns: tuple[str, ...] = ()
    min_value: Bound | None = None
    max_value: Bound | None = None
    relative_to: TableRef | None = None
    values: tuple[Any, ...] = ()
    pattern: str | None = None
    max_age: dt.timedelta | None = None
    mostly: float | None = None
    gx_expectation: str | None = None
    gx_kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """`marts.customer_records expectations[3] (unique)`: for messages."""
        return f"{self.table.key} expectations[{self.position}] ({self.kind})"


@dataclass(frozen=True)
class TableSpec:
    table: TableRef
    checks: tuple[Check, ...]
    key_columns: tuple[str, ...] = ()
    pii_columns: frozenset[str] = frozenset()
    description: str | None = None

    def columns_needed(self) -> tuple[str, ...] | None:
        """Columns the checks read, in first-use order; None when a `gx` check names no
        column (it may read any)."""
        if any(check.kind == "gx" and not check.columns for check in self.checks):
            return None
        seen: dict[str, None] = {}
        for check in self.checks:
            for column in check.columns:
                seen.setdefault(column, None)
        if any(check.kind not in _AGGREGATE_KINDS for check in self.checks):
            for column in self.key_columns:
                seen.setdefault(column, None)
        return tuple(seen)


@dataclass(frozen=True)
class HistorySettings:
    """`history:`: the identity match rate and each source's quarantine rate, stored per
    run and compared with the median of the previous `runs` runs; a change beyond the
    metric's `tolerance` (absolute, a fraction) fails."""

    runs: int = DEFAULT_HISTORY_RUNS
    tolerance: Mapping[str, float] = field(default_factory=lambda: dict(HISTORY_METRICS))


@dataclass(frozen=True)
class SourceSettings:
    """`sources:`: the latest `loaded_at_field` value of every enabled source against its
    dbt `freshness.error_after`, else `max_age`; `overrides` per `<source>.<table>` (an
    age, or None for `skip`)."""

    max_age: dt.timedelta = DEFAULT_SOURCE_MAX_AGE
    overrides: Mapping[str, dt.timedelta | None] = field(default_factory=dict)


#: the pseudo-tables of the report (and of `--table`) for the two blocks
HISTORY_KEY = "history"
SOURCES_KEY = "sources"


@dataclass(frozen=True)
class ExpectationsFile:
    path: Path
    tables: tuple[TableSpec, ...]
    history: HistorySettings | None = None
    sources: SourceSettings | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """What `--table` accepts: the declared tables, then `sources` and `history` when
        the file has those blocks."""
        extra: tuple[str, ...] = (SOURCES_KEY,) if self.sources is not None else ()
        extra += (HISTORY_KEY,) if self.history is not None else ()
        return tuple(spec.table.key for spec in self.tables) + extra

    def table(self, key: str) -> TableSpec:
        for spec in self.tables:
            if spec.table.key == key:
                return spec
        known = ", ".join(self.keys)
        raise ConfigError(f"{self.path}: no table {key!r} is declared (declared: {known})")

    @property
    def check_count(self) -> int:
        return sum(len(spec.checks) for spec in self.tables)


def load_expectations(path: Path) -> ExpectationsFile:
    """Parse and check an expectations file; ConfigError names the table and entry at fault."""
    if not path.is_file():
        raise ConfigError(
            f"expectations file {path} not found: pass --expectations PATH "
            "(the project's is validation/expectations.yml)"
        )
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # a SafeLoader
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    return parse_expectations(document, path)


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that rejects a key given twice in one mapping (plain YAML keeps the
    last one silently, which would drop a table's expectations)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_expectations(document: Any, path: Path) -> ExpectationsFile:
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path}: expected a mapping with `version: 1` and `tables:`")
    unknown = set(document) - _TOP_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key(s) {_names(unknown)} (allowed: {_names(_TOP_KEYS)})"
        )
    if document.get("version") != 1:
        raise ConfigError(f"{path}: `version` must be 1, got {document.get('version')!r}")
    history = _history(path, document["history"]) if "history" in document else None
    sources = _sources(path, document["sources"]) if "sources" in document else None
    tables = document.get("tables")
    if tables is None and (history is not None or sources is not None):
        tables = {}
    if not isinstance(tables, Mapping) or (not tables and history is None and sources is None):
        raise ConfigError(f"{path}: `tables` must map `<layer>.<table>` to its expectations")
    specs = tuple(_parse_table(path, str(key), body) for key, body in tables.items())
    for spec in specs:
        if spec.table.key in (HISTORY_KEY, SOURCES_KEY):  # pragma: no cover - no dot
            raise ConfigError(f"{path}: tables: {spec.table.key!r} is reserved")
        for check in spec.checks:
            if check.relative_to == spec.table:
                raise _entry_error(path, check.where, "`relative_to` names the table itself")
    return ExpectationsFile(path=path, tables=specs, history=history, sources=sources)


def _settings_block(where: str, body: Any, allowed: frozenset[str]) -> Mapping[str, Any]:
    """A top-level settings block: a mapping (empty when absent) of known keys only."""
    body = {} if body is None else body
    if not isinstance(body, Mapping):
        raise ConfigError(f"{where}: expected a mapping ({{}} for the defaults)")
    unknown = set(body) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {_names(unknown)} (allowed: {_names(allowed)})")
    return body


def _history(path: Path, body: Any) -> HistorySettings:
    where = f"{path}: history"
    body = _settings_block(where, body, frozenset({"runs", "tolerance"}))
    runs = body.get("runs", DEFAULT_HISTORY_RUNS)
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ConfigError(f"{where}.runs must be a whole number >= 1, got {runs!r}")
    tolerance = dict(HISTORY_METRICS)
    given = body.get("tolerance") or {}
    if not isinstance(given, Mapping):
        raise ConfigError(f"{where}.tolerance must map metrics to fractions")
    unknown = set(given) - set(HISTORY_METRICS)
    if unknown:
        raise ConfigError(
            f"{where}.tolerance: unknown metric(s) {_names(unknown)} "
            f"(known: {_names(set(HISTORY_METRICS))})"
        )
    for metric, value in given.items():
        if not _is_number(value) or not 0 <= value <= 1:
            raise ConfigError(
                f"{where}.tolerance.{metric} must be a fraction in [0, 1] (0.05 = five "
                f"percentage points), got {value!r}"
            )
        tolerance[str(metric)] = float(value)
    return HistorySettings(runs=runs, tolerance=tolerance)


def _sources(path: Path, body: Any) -> SourceSettings:
    where = f"{path}: sources"
    body = _settings_block(where, body, frozenset({"max_age", "overrides"}))
    max_age = DEFAULT_SOURCE_MAX_AGE
    if "max_age" in body:
        max_age = _age(path, "sources", body["max_age"])
    given = body.get("overrides") or {}
    if not isinstance(given, Mapping):
        raise ConfigError(f"{where}.overrides must map `<source>.<table>` to an age or `skip`")
    overrides: dict[str, dt.timedelta | None] = {}
    for name, value in given.items():
        if value == "skip":
            overrides[str(name)] = None
            continue
        try:
            overrides[str(name)] = _age(path, f"sources.overrides.{name}", value)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (or `skip`)") from None
    return SourceSettings(max_age=max_age, overrides=overrides)


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def parse_table_ref(text: Any, context: str) -> TableRef:
    if not isinstance(text, str) or text.count(".") != 1:
        raise ConfigError(f"{context}: table {text!r} must be written `<layer>.<table>`")
    layer, name = text.split(".")
    if not (_IDENTIFIER.match(layer) and _IDENTIFIER.match(name)):
        raise ConfigError(f"{context}: table {text!r} must be written `<layer>.<table>`")
    return TableRef(layer=layer, name=name)


def _parse_table(path: Path, key: str, body: Any) -> TableSpec:
    table = parse_table_ref(key, f"{path}: tables")
    where = f"{path}: {key}"
    if not isinstance(body, Mapping):
        raise ConfigError(f"{where}: expected a mapping with `expectations:`")
    unknown = set(body) - _TABLE_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {_names(unknown)} (allowed: {_names(_TABLE_KEYS)})"
        )
    key_columns = _column_list(body.get("key", []), f"{where}: `key`", allow_empty=True)
    pii: set[str] = set()
    columns = body.get("columns") or {}
    if not isinstance(columns, Mapping):
        raise ConfigError(f"{where}: `columns` must map column names to {{pii: true}}")
    for column, options in columns.items():
        _column_name(column, f"{where}: columns")
        if not isinstance(options, Mapping) or set(options) - _COLUMN_KEYS:
            raise ConfigError(
                f"{where}: columns.{column} must be a mapping of {_names(_COLUMN_KEYS)}"
            )
        flag = options.get("pii", False)
        if not isinstance(flag, bool):
            raise ConfigError(f"{where}: columns.{column}.pii must be true or false")
        if flag:
            pii.add(str(column))
    entries = body.get("expectations")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: `expectations` must be a non-empty list")
    checks: list[Check] = []
    for position, entry in enumerate(entries, start=1):
        checks.extend(_parse_entry(path, table, position, entry))
    description = body.get("description")
    return TableSpec(
        table=table,
        checks=tuple(checks),
        key_columns=key_columns,
        pii_columns=frozenset(pii),
        description=str(description) if description is not None else None,
    )


def _parse_entry(path: Path, table: TableRef, position: int, entry: Any) -> list[Check]:
    where = f"{table.key} expectations[{position}]"
    if not isinstance(entry, Mapping) or len(entry) != 1:
        raise _entry_error(
            path,
            where,
            "each entry is a one-key mapping `- <type>: {arguments}`, e.g. "
            "`- not_null: customer_id`",
        )
    ((kind_name, raw_args),) = entry.items()
    if kind_name not in KINDS:
        raise _entry_error(
            path, where, f"unknown expectation type {kind_name!r} (known: {', '.join(KINDS)})"
        )
    kind: CheckKind = kind_name
    where = f"{where} ({kind})"
    args = _arguments(path, where, kind, raw_args)
    unknown = set(args) - _ARGUMENTS[kind]
    if unknown:
        raise _entry_error(
            path,
            where,
            f"unknown argument(s) {_names(unknown)} (allowed: {_names(_ARGUMENTS[kind])})",
        )
    base = Check(table=table, position=position, kind=kind)
    mostly = _mostly(path, where, args.get("mostly"))
    if kind == "row_count":
        return [_row_count(path, where, base, args)]
    if kind == "gx":
        return [_gx(path, where, base, args)]
    if kind in ("unique", "not_null"):
        columns = _columns_arg(path, where, args)
        if kind == "unique":
            return [replace(base, columns=columns, mostly=mostly)]
        return [replace(base, columns=(column,), mostly=mostly) for column in columns]
    column = _single_column(path, where, args)
    if kind == "between":
        low = _bound(path, where, "min", args.get("min"))
        high = _bound(path, where, "max", args.get("max"))
        if low is None and high is None:
            raise _entry_error(path, where, "needs `min`, `max` or both")
        if low is not None and high is not None:
            if isinstance(low, dt.datetime) != isinstance(high, dt.datetime):
                raise _entry_error(path, where, "`min` and `max` must both be numbers or dates")
            if low > high:  # type: ignore[operator]
                raise _entry_error(path, where, f"`min` ({low}) is greater than `max` ({high})")
        return [replace(base, columns=(column,), min_value=low, max_value=high, mostly=mostly)]
    if kind == "in_set":
        values = args.get("values")
        if not isinstance(values, list) or not values:
            raise _entry_error(path, where, "needs `values`: a non-empty list")
        if any(isinstance(v, (list, dict)) for v in values):
            raise _entry_error(path, where, "`values` must be plain values (strings, numbers)")
        return [replace(base, columns=(column,), values=tuple(values), mostly=mostly)]
    if kind == "regex":
        pattern = args.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            raise _entry_error(path, where, "needs `pattern`: a regular expression string")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _entry_error(path, where, f"`pattern` {pattern!r} is not valid: {exc}") from exc
        return [replace(base, columns=(column,), pattern=pattern, mostly=mostly)]
    if kind in ("share", "mean", "median"):
        bounds = []
        for name in ("min", "max"):
            value = args.get(name)
            if value is not None and not _is_number(value):
                raise _entry_error(path, where, f"`{name}` must be a number, got {value!r}")
            if value is not None and kind == "share" and not 0 <= value <= 1:
                raise _entry_error(
                    path, where, f"`{name}` must be a fraction in [0, 1], got {value!r}"
                )
            bounds.append(None if value is None else float(value))
        if bounds == [None, None]:
            raise _entry_error(path, where, "needs `min`, `max` or both")
        if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
            raise _entry_error(
                path, where, f"`min` ({bounds[0]}) is greater than `max` ({bounds[1]})"
            )
        return [replace(base, columns=(column,), min_value=bounds[0], max_value=bounds[1])]
    # freshness
    return [replace(base, columns=(column,), max_age=_age(path, where, args.get("max_age")))]


def _arguments(path: Path, where: str, kind: CheckKind, raw: Any) -> dict[str, Any]:
    """`- not_null: col` and `- unique: [a, b]` are short for `{column: ...}` / `{columns:
    [...]}`."""
    if isinstance(raw, Mapping):
        return {str(k): v for k, v in raw.items()}
    if kind in ("unique", "not_null", "freshness", "between", "in_set", "regex", "share"):
        if isinstance(raw, str):
            return {"column": raw}
        if isinstance(raw, list) and kind in ("unique", "not_null"):
            return {"columns": raw}
    if raw is None:
        return {}
    raise _entry_error(path, where, f"arguments must be a mapping, got {raw!r}")


def _row_count(path: Path, where: str, base: Check, args: Mapping[str, Any]) -> Check:
    relative: TableRef | None = None
    if "relative_to" in args:
        relative = parse_table_ref(args["relative_to"], f"{path}: {where}: `relative_to`")
    low, high = args.get("min"), args.get("max")
    if low is None and high is None:
        raise _entry_error(path, where, "needs `min`, `max` or both")
    bounds: list[float | None] = []
    for name, value in (("min", low), ("max", high)):
        if value is None:
            bounds.append(None)
            continue
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or value < 0 or not math.isfinite(value):
            raise _entry_error(path, where, f"`{name}` must be a number >= 0, got {value!r}")
        if relative is None and not float(value).is_integer():
            raise _entry_error(
                path,
                where,
                f"`{name}` must be a whole number of rows (fractions need `relative_to`)",
            )
        bounds.append(float(value))
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise _entry_error(path, where, "`min` is greater than `max`")
    return replace(base, min_value=bounds[0], max_value=bounds[1], relative_to=relative)


def _gx(path: Path, where: str, base: Check, args: Mapping[str, Any]) -> Check:
    name = args.get("expectation")
    if not isinstance(name, str) or not re.match(r"^(Expect[A-Za-z]+|expect_[a-z_]+)$", name):
        raise _entry_error(
            path,
            where,
            "needs `expectation`: a great-expectations class such as "
            "ExpectColumnValueLengthsToEqual (or expect_column_value_lengths_to_equal)",
        )
    kwargs = args.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise _entry_error(path, where, "`kwargs` must be a mapping")
    columns: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(key), str):
            columns.append(kwargs[key])
    for key in ("column_list", "column_set"):
        if isinstance(kwargs.get(key), list):
            columns.extend(str(c) for c in kwargs[key])
    camel = name if name.startswith("Expect") else "".join(p.title() for p in name.split("_"))
    return replace(base, columns=tuple(columns), gx_expectation=camel, gx_kwargs=dict(kwargs))


def _columns_arg(path: Path, where: str, args: Mapping[str, Any]) -> tuple[str, ...]:
    if "column" in args and "columns" in args:
        raise _entry_error(path, where, "give `column` or `columns`, not both")
    if "column" in args:
        return (_column_name(args["column"], f"{path}: {where}: `column`"),)
    if "columns" in args:
        return _column_list(args["columns"], f"{path}: {where}: `columns`")
    raise _entry_error(path, where, "missing `column` (or `columns`: a list)")


def _single_column(path: Path, where: str, args: Mapping[str, Any]) -> str:
    if "column" not in args:
        raise _entry_error(path, where, "missing `column`")
    return _column_name(args["column"], f"{path}: {where}: `column`")


def _column_name(value: Any, context: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{context}: column names must be non-empty strings, got {value!r}")
    return value


def _column_list(value: Any, context: str, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or (not value and not allow_empty):
        raise ConfigError(f"{context}: expected a list of column names, got {value!r}")
    columns = tuple(_column_name(v, context) for v in value)
    if len(set(columns)) != len(columns):
        raise ConfigError(f"{context}: a column is listed twice in {list(columns)}")
    return columns


def _bound(path: Path, where: str, name: str, value: Any) -> Bound | None:
    """Numbers stay numbers; dates and timestamps become aware UTC datetimes."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _entry_error(path, where, f"`{name}` must be a number or a date, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return _bound(path, where, name, parsed)
    raise _entry_error(path, where, f"`{name}` must be a number or a date, got {value!r}")


def _mostly(path: Path, where: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise _entry_error(path, where, f"`mostly` must be a fraction in (0, 1], got {value!r}")
    return float(value)


def _age(path: Path, where: str, value: Any) -> dt.timedelta:
    match = _AGE.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) == 0:
        raise _entry_error(
            path, where, f"`max_age` must look like 30m, 36h, 2d or 1w, got {value!r}"
        )
    return dt.timedelta(**{_AGE_UNITS[match.group(2)]: int(match.group(1))})


def _entry_error(path: Path, where: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: {message}")


def _names(names: Sequence[str] | set[str] | frozenset[str]) -> str:
    return ", ".join(f"`{n}`" for n in sorted(names))

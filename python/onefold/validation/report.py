"""What `onefold validate` found: one outcome per expectation, PII already masked."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MASK = "***"
_MAX_VALUE_CHARS = 72


@dataclass(frozen=True)
class Outcome:
    """The result of one expectation on one table."""

    table: str  # `marts.customer_records`, as declared
    relation: str  # `onefold_marts.customer_records`, as validated
    position: int  # entry in the table's `expectations` list (1-based)
    check: str  # the declared type: unique, not_null, freshness, ...
    expectation: str  # the great-expectations type, e.g. expect_column_values_to_be_unique
    columns: tuple[str, ...]
    expected: str
    success: bool
    observed: str
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    examples: tuple[str, ...] = ()
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "relation": self.relation,
            "position": self.position,
            "check": self.check,
            "expectation": self.expectation,
            "columns": list(self.columns),
            "expected": self.expected,
            "success": self.success,
            "observed": self.observed,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": self.unexpected_percent,
            "examples": list(self.examples),
            "error": self.error,
        }


@dataclass(frozen=True)
class ValidationReport:
    target: str
    expectations_path: str
    now: dt.datetime
    tables: tuple[str, ...]
    outcomes: tuple[Outcome, ...]
    elapsed_seconds: float

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.success)

    @property
    def errors(self) -> tuple[Outcome, ...]:
        """Checks that could not be evaluated (an error, not a failed expectation)."""
        return tuple(o for o in self.outcomes if o.error is not None)

    @property
    def success(self) -> bool:
        return not self.failed

    @property
    def exit_code(self) -> int:
        """0 all passed, 1 an expectation failed, 2 a check could not be evaluated."""
        return 2 if self.errors else 1 if self.failed else 0

    @property
    def summary(self) -> str:
        text = f"{len(self.outcomes)} expectations, {len(self.failed)} failed"
        return text + (f" ({len(self.errors)} with errors)" if self.errors else "")

    def for_table(self, table: str) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.table == table)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "expectations_file": self.expectations_path,
            "now": self.now.isoformat(),
            "success": self.success,
            "expectations": len(self.outcomes),
            "failed": len(self.failed),
            "errors": len(self.errors),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "tables": [
                {
                    "table": table,
                    "success": all(o.success for o in self.for_table(table)),
                    "results": [o.as_dict() for o in self.for_table(table)],
                }
                for table in self.tables
            ],
        }


def group_rows(outcomes: Sequence[Outcome]) -> list[list[Outcome]]:
    """One row per expectation, except that passing checks declared as one entry with a
    column list (`not_null: [a, b, c]`) share a row."""
    groups: list[list[Outcome]] = []
    for outcome in outcomes:
        last = groups[-1] if groups else None
        if (
            last is not None
            and outcome.success
            and all(o.success for o in last)
            and last[0].position == outcome.position
            and last[0].expected == outcome.expected
        ):
            last.append(outcome)
        else:
            groups.append([outcome])
    return groups


def age_text(age: dt.timedelta) -> str:
    """`2d`, `1d 6h`, `45m`: the largest units, zero parts left out."""
    seconds = int(age.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return sign + (" ".join(parts[:2]) if parts else "0m")


def is_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    # pandas' NaT and NA are not equal to themselves
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def format_value(value: Any, masked: bool = False) -> str:
    """One value for the report; a masked value shows only whether it was null."""
    if is_null(value):
        return "null"
    if masked:
        return MASK
    if isinstance(value, dt.datetime):  # also pandas Timestamp
        midnight = value.time() == dt.time() and value.tzinfo is None
        text = value.date().isoformat() if midnight else value.isoformat(" ", "seconds")
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = str(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 1] + "…"
    return text


def format_examples(
    result: Mapping[str, Any],
    columns: Sequence[str],
    key_columns: Sequence[str],
    pii_columns: frozenset[str],
    limit: int,
) -> tuple[str, ...]:
    """A few unexpected values from a great-expectations result, masked where PII.

    With key columns, each example says where it is (`'x' at source='crm', record_key=...`);
    otherwise distinct values with their counts (`'x' (3 rows)`).
    """
    if limit <= 0:
        return ()

    def value_of(entry: Any) -> str:
        if isinstance(entry, Mapping):
            parts = [format_value(entry.get(c), c in pii_columns) for c in columns]
        elif isinstance(entry, (tuple, list)):
            parts = [
                format_value(v, c in pii_columns) for c, v in zip(columns, entry, strict=False)
            ]
        else:
            parts = [format_value(entry, bool(columns) and columns[0] in pii_columns)]
        return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"

    index_list = result.get("partial_unexpected_index_list")
    locators = [c for c in key_columns if c not in columns]
    if locators and isinstance(index_list, list) and index_list:
        examples: list[str] = []
        for entry in index_list[:limit]:
            if not isinstance(entry, Mapping):
                continue
            where = ", ".join(
                f"{c}={format_value(entry.get(c), c in pii_columns)}" for c in locators
            )
            examples.append(value_of(entry) + (f" at {where}" if where else ""))
        if examples:
            return tuple(examples)
    counts = result.get("partial_unexpected_counts")
    if isinstance(counts, list) and counts:
        return tuple(
            value_of(item.get("value"))
            + (f" ({item['count']} rows)" if item.get("count", 1) > 1 else "")
            for item in counts[:limit]
            if isinstance(item, Mapping)
        )
    values = result.get("partial_unexpected_list")
    if isinstance(values, list):
        return tuple(value_of(v) for v in values[:limit])
    return ()

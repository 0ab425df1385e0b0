"""The few SQL expressions that DuckDB and PostgreSQL spell differently.

Everything else the sync engine writes is plain SQL both targets accept.
"""

from __future__ import annotations

from dataclasses import dataclass

from onefold.settings import Target
from onefold.sql import literal
from onefold.warehouse import quote_ident

# PostgreSQL functions take at most 100 arguments: 50 key/value pairs per object call.
_PG_PAIRS_PER_CALL = 50


@dataclass(frozen=True)
class Dialect:
    target: Target

    def temp_table(self, name: str) -> str:
        """A session-private table's qualified name: never confused with a real table, and
        creating one writes nothing to the warehouse (dry runs rely on that)."""
        schema = "temp.main" if self.target == "duckdb" else "pg_temp"
        return f"{schema}.{quote_ident(name)}"

    def sha256_hex(self, text_expr: str) -> str:
        """Lower-case hex SHA-256 of a text expression's UTF-8 bytes (null stays null)."""
        if self.target == "duckdb":
            return f"sha256({text_expr})"
        return f"encode(sha256(convert_to({text_expr}, 'UTF8')), 'hex')"

    def matches(self, text_expr: str, pattern: str) -> str:
        """True when the whole text matches the regular expression."""
        if self.target == "duckdb":
            return f"regexp_full_match({text_expr}, {literal(pattern)})"
        return f"({text_expr} ~ {literal('^(?:' + pattern + ')$')})"

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        """A JSON object as text from (key, value expression) pairs.

        The text is deterministic for the same values on the same target, which is all
        the payload hash needs; PostgreSQL's jsonb sorts the keys, DuckDB keeps them in
        order.
        """
        if self.target == "duckdb":
            arguments = ", ".join(f"{literal(key)}, {value}" for key, value in pairs)
            return f"cast(json_object({arguments}) as varchar)"
        calls = []
        for start in range(0, len(pairs), _PG_PAIRS_PER_CALL):
            chunk = pairs[start : start + _PG_PAIRS_PER_CALL]
            arguments = ", ".join(f"{literal(key)}, {value}" for key, value in chunk)
            calls.append(f"jsonb_build_object({arguments})")
        return f"cast({' || '.join(calls) or 'jsonb_build_object()'} as text)"

    def iso_timestamp(self, expr: str, with_time_zone: bool) -> str:
        """ISO 8601 UTC text (`2026-01-31T09:30:00.000000Z`), the same on both targets."""
        if self.target == "duckdb":
            return f"strftime({expr}, '%Y-%m-%dT%H:%M:%S.%fZ')"
        utc = f"({expr} at time zone 'UTC')" if with_time_zone else expr
        return f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

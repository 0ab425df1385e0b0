"""Phone numbers to E.164 by libphonenumber's rules: Onefold's one phone rule.

`e164(value, calling_code)` is what the identity graph matches on, what erasure and its
verification normalize with, and what syncs send (`onefold.sync.identifiers`). It is
libphonenumber's `parse` with the region whose calling code the record's country has
(the main region of that code), then E.164:

- international (`+44 …`, the region's own international prefix such as `00` or `011`)
  and national notation (the region's trunk prefix and carrier codes stripped as
  libphonenumber strips them, so `+44 (0) 20 7946 0958` is `+442079460958` and Italy's
  `06 1234 5678` keeps its `0`: `+390612345678`); extensions (`ext. 12`, `x12`,
  `;ext=12`) and `tel:` URIs are read and the extension dropped; letters are read as on
  a keypad (`1-800-FLOWERS`), as libphonenumber does;
- kept only when its length is possible for its country and it fits the country's
  national number pattern (libphonenumber's general description), so `555 0100`, a US
  number without its area code, is no key; every number libphonenumber calls valid
  is kept;
- one leniency libphonenumber lacks: a number written with `00` that the region's own
  rules cannot read (`0044 7700 900123` with the US default, which dials `011`) is read
  as `+44 7700 900123`; libphonenumber rejects it, so no number it reads changes.

DuckDB runs this function itself: the dbt plugin and Onefold's connections register
`onefold_phone_e164(value, calling_code)`. PostgreSQL cannot run Python: it runs a
PL/pgSQL port of the same steps (macros/identity/phone_functions.sql) over the
metadata below, written from the installed libphonenumber into
macros/identity/phone_numbering_plans.sql (`python -m onefold.phones --write`; a test
fails when that file is stale, and another compares the two on tens of thousands of
numbers across every region and notation).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, ValidationResult

from onefold.generated_file import write_or_check

#: the SQL function both warehouses call (DuckDB: a Python UDF; PostgreSQL: PL/pgSQL)
SQL_FUNCTION = "onefold_phone_e164"
PLANS_MACRO = Path(__file__).resolve().parents[2] / "macros/identity/phone_numbering_plans.sql"
_UNKNOWN_REGION = "ZZ"


@lru_cache(maxsize=1 << 18)
def e164(value: str | None, calling_code: str | int | None) -> str | None:
    """The number as '+' and digits, read with the main region of `calling_code` (the
    calling code of the record's country, e.g. '44'); None when it is no phone number
    whose length is possible for its country."""
    if value is None:
        return None
    region = region_for_calling_code(calling_code)
    number = _parsed(value, region)
    if number is None:
        text = value.strip()
        if text.startswith("00"):
            number = _parsed("+" + text[2:], None)
    if number is None:
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def e164_in_region(value: str, region: str | None) -> str | None:
    """`e164` for a region code (ISO alpha-2) instead of a calling code."""
    code = phonenumbers.country_code_for_region(region.upper()) if region else 0
    return e164(value, code or None)


def register_phone_function(connection: Any) -> None:
    """`onefold_phone_e164(varchar, varchar) -> varchar` on a DuckDB connection (once;
    a null calling code still reads numbers written with '+')."""
    from duckdb.func import FunctionNullHandling
    from duckdb.sqltypes import VARCHAR

    (exists,) = connection.execute(
        "select count(*) from duckdb_functions() where function_name = ?", [SQL_FUNCTION]
    ).fetchall()[0]
    if exists:
        return
    connection.create_function(
        SQL_FUNCTION,
        e164,
        [VARCHAR, VARCHAR],
        VARCHAR,
        null_handling=FunctionNullHandling.SPECIAL,
    )


def region_for_calling_code(calling_code: str | int | None) -> str | None:
    """The main region of a calling code ('44' -> 'GB', '800' -> '001'); None if unknown."""
    if calling_code is None or not str(calling_code).strip().isdigit():
        return None
    region = phonenumbers.region_code_for_country_code(int(str(calling_code).strip()))
    return None if region == _UNKNOWN_REGION else str(region)


def _main_metadata(code: int) -> PhoneMetadata | None:
    """The metadata of a calling code's main region (or its non-geographic entity)."""
    return PhoneMetadata.metadata_for_region_or_calling_code(
        code, phonenumbers.region_code_for_country_code(code)
    )


def _parsed(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return None
    # A possible length is not enough (555 0100 is a US local number without its area
    # code): the number must fit the country's national number pattern. Every number
    # libphonenumber calls valid does.
    metadata = _main_metadata(number.country_code or 0)
    general = metadata.general_desc if metadata else None
    pattern = general.national_number_pattern if general else None
    national = phonenumbers.national_significant_number(number)
    return number if pattern and re.fullmatch(pattern, national) else None


@dataclass(frozen=True)
class NumberingPlan:
    """What the PL/pgSQL port needs of one calling code's main region."""

    calling_code: int
    international_prefix: str
    national_prefix_for_parsing: str
    national_prefix_groups: int  # capturing groups in national_prefix_for_parsing
    national_prefix_transform_rule: str
    national_number_pattern: str
    possible_lengths: tuple[int, ...]
    local_only_lengths: tuple[int, ...]


def numbering_plans() -> list[NumberingPlan]:
    """Every calling code libphonenumber knows, with its main region's parsing data."""
    plans = []
    for code in sorted(COUNTRY_CODE_TO_REGION_CODE):
        metadata = _main_metadata(code)
        general = metadata.general_desc if metadata else None
        if metadata is None or general is None:
            continue
        prefix = metadata.national_prefix_for_parsing or ""
        plans.append(
            NumberingPlan(
                calling_code=code,
                international_prefix=metadata.international_prefix or "",
                national_prefix_for_parsing=prefix,
                national_prefix_groups=re.compile(prefix).groups if prefix else 0,
                national_prefix_transform_rule=metadata.national_prefix_transform_rule or "",
                national_number_pattern=general.national_number_pattern or "",
                possible_lengths=tuple(general.possible_length),
                local_only_lengths=tuple(general.possible_length_local_only),
            )
        )
    return plans


def _jinja_text(pattern: str) -> str:
    """A pattern as a Jinja/SQL string body with no backslash: `\\d` as `[0-9]` (the
    port reads ASCII digits only), back-references `\\1` as `$1`."""
    text = pattern.replace("\\d", "[0-9]")
    text = re.sub(r"\\([1-9])", r"$\1", text)
    if "\\" in text or "'" in text:
        raise ValueError(f"cannot write {pattern!r} for the PL/pgSQL port")
    return text


def plans_macro_text() -> str:
    """macros/identity/phone_numbering_plans.sql for the installed libphonenumber."""
    rows = []
    for plan in numbering_plans():
        fields = [
            f"'{plan.calling_code}'",
            f"'{_jinja_text(plan.international_prefix)}'",
            f"'{_jinja_text(plan.national_prefix_for_parsing)}'",
            str(plan.national_prefix_groups),
            f"'{_jinja_text(plan.national_prefix_transform_rule)}'",
            f"'{_jinja_text(plan.national_number_pattern)}'",
            "[" + ", ".join(str(n) for n in plan.possible_lengths) + "]",
            "[" + ", ".join(str(n) for n in plan.local_only_lengths) + "]",
        ]
        rows.append("        [" + ", ".join(fields) + "],")
    return (
        "{#- Generated by `python -m onefold.phones --write` from libphonenumber "
        f"{phonenumbers.__version__}:\n"
        "    do not edit. Per calling code, its main region's international prefix, national\n"
        "    prefix for parsing and its capturing groups, its transform rule ($1: first\n"
        "    group), national number pattern ([0-9] for \\d), possible lengths and\n"
        "    local-only lengths. -#}\n"
        "{% macro phone_numbering_plans() %}\n"
        "    {{ return([\n" + "\n".join(rows) + "\n    ]) }}\n"
        "{% endmacro %}\n"
    )


def main(argv: list[str] | None = None) -> int:
    return write_or_check(
        argv,
        "onefold.phones",
        "Write or check the numbering plans the PostgreSQL phone normalizer reads "
        "(macros/identity/phone_numbering_plans.sql) from the installed libphonenumber.",
        PLANS_MACRO,
        plans_macro_text(),
        f"libphonenumber {phonenumbers.__version__}",
    )


if __name__ == "__main__":
    sys.exit(main())

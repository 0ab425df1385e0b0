"""The phone normalizer: one rule (onefold.phones), libphonenumber's, on both warehouses.

Every region libphonenumber knows, numbers it calls valid, written in the notations
people and systems use (E.164, international, national, `tel:` URIs, dialled from six
other countries, with extensions, without spaces, with `(0)` after the country code):
the SQL function gives what libphonenumber gives for every one of them, on DuckDB
(libphonenumber itself, as a UDF) and on PostgreSQL (the PL/pgSQL port, over the
numbering plans generated from the same library).
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from onefold import phones
from onefold.testing.dbt import run_dbt
from onefold.testing.postgres import PostgresServer
from onefold.testing.warehouse import connect_with, target_environment
from onefold.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse

# Regions that dial the number from abroad: their international prefixes differ
# (011, 00, 010, 8~10, 0011) and the record's country is theirs.
DIALLED_FROM = ("US", "GB", "DE", "JP", "RU", "AU")
TYPES = (
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.UAN,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.PAGER,
    PhoneNumberType.VOICEMAIL,
)


def valid_numbers(region: str, count: int, rng: random.Random) -> list[phonenumbers.PhoneNumber]:
    """Up to `count` numbers libphonenumber calls valid: each type's example number with
    its last digits drawn at random."""
    code = phonenumbers.country_code_for_region(region)
    found = []
    for kind in TYPES:
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        national = phonenumbers.national_significant_number(example)
        for _ in range(count):
            drawn = min(4, len(national) - 2)
            digits = national[:-drawn] + "".join(rng.choice("0123456789") for _ in range(drawn))
            number = phonenumbers.parse(f"+{code}{digits}", None)
            if phonenumbers.is_valid_number(number):
                found.append(number)
    rng.shuffle(found)
    return found[:count]


def notations(number: phonenumbers.PhoneNumber, rng: random.Random) -> Iterator[tuple[str, str]]:
    """(text, calling code of the record's country) for one number."""
    code = str(number.country_code)
    fmt = phonenumbers.format_number
    national = fmt(number, PhoneNumberFormat.NATIONAL)
    for style in (
        PhoneNumberFormat.E164,
        PhoneNumberFormat.INTERNATIONAL,
        PhoneNumberFormat.RFC3966,
    ):
        yield fmt(number, style), code
    yield national, code
    for region in DIALLED_FROM:
        dialled = phonenumbers.format_out_of_country_calling_number(number, region)
        yield dialled, str(phonenumbers.country_code_for_region(region))
    with_extension = phonenumbers.PhoneNumber()
    with_extension.merge_from(number)
    with_extension.extension = str(rng.randint(1, 9999))
    for style in (
        PhoneNumberFormat.INTERNATIONAL,
        PhoneNumberFormat.NATIONAL,
        PhoneNumberFormat.RFC3966,
    ):
        yield fmt(with_extension, style), code
    yield f"{fmt(number, PhoneNumberFormat.E164)} x{with_extension.extension}", code
    for separator in ("", "-", "."):
        yield national.replace(" ", separator), code
    yield f"+{code} (0) {national.lstrip('0')}", code


def phone_cases(per_region: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    cases = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number in valid_numbers(region, per_region, rng):
            cases.extend(notations(number, rng))
    return cases


def libphonenumber_e164(text: str, calling_code: str) -> str | None:
    """What libphonenumber makes of the text when it reads it as a valid number, else None."""
    region = phonenumbers.region_code_for_country_code(int(calling_code))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def sql_e164(warehouse: Warehouse, function: str, cases: list[Case]) -> list[str | None]:
    warehouse.execute("create temp table phone_cases (i integer, v text, calling_code text)")
    rows = [(i, case.text, case.calling_code) for i, case in enumerate(cases)]
    if isinstance(warehouse, PostgresWarehouse):
        lines = (f"{i}\t{v.replace(chr(92), chr(92) * 2)}\t{c}\n" for i, v, c in rows)
        buffer = io.StringIO("".join(lines))
        warehouse.connection.cursor().copy_expert("copy phone_cases from stdin", buffer)
    else:
        assert isinstance(warehouse, DuckDBWarehouse)
        frame = pd.DataFrame(rows, columns=["i", "v", "calling_code"])
        warehouse.connection.register("phone_case_rows", frame)
        warehouse.execute("insert into phone_cases select * from phone_case_rows")
    found = warehouse.query(f"select i, {function}(v, calling_code) from phone_cases order by i")
    return [value for _, value in found]


@dataclass(frozen=True)
class Case:
    text: str
    calling_code: str
    valid_e164: str | None  # libphonenumber's E.164 when it reads a valid number
    rule_e164: str | None  # onefold.phones.e164


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return [
        Case(text, code, libphonenumber_e164(text, code), phones.e164(text, code))
        for text, code in phone_cases(per_region=10)
    ]


def test_the_cases_cover_every_region_in_tens_of_thousands(cases: list[Case]) -> None:
    assert len(cases) > 40_000
    assert len({case.calling_code for case in cases}) > 200
    assert sum(case.valid_e164 is not None for case in cases) > 0.9 * len(cases)


def test_the_rule_reads_every_valid_number_as_libphonenumber_does(cases: list[Case]) -> None:
    differing = [c for c in cases if c.valid_e164 is not None and c.rule_e164 != c.valid_e164]
    assert differing == []


@pytest.mark.parametrize(
    ("text", "calling_code", "expected"),
    [
        ("+44 (0) 20 7946 0958", "1", "+442079460958"),  # the trunk 0 after +44
        ("06 1234 5678", "39", "+390612345678"),  # Italy keeps its leading 0
        ("+1 415 555 0100 ext. 12", None, "+14155550100"),  # extension dropped
        ("tel:+1-415-555-0100;ext=12", None, "+14155550100"),
        ("011 44 20 7946 0958", "1", "+442079460958"),  # the US dials abroad with 011
        ("0044 7700 900123", "1", "+447700900123"),  # 00 read as international
        ("1-800-FLOWERS", "1", "+18003569377"),  # a keypad number
        ("555 0100", "1", None),  # a local number without its area code
        ("415 5550100", None, None),  # no '+' and no country: no calling code
        ("+44 20 7946", "44", None),  # too short for Great Britain
        ("call me", "1", None),
    ],
)
def test_known_numbers(text: str, calling_code: str | None, expected: str | None) -> None:
    assert phones.e164(text, calling_code) == expected


def test_the_numbering_plans_macro_is_current() -> None:
    """macros/identity/phone_numbering_plans.sql is what the installed libphonenumber
    generates (`python -m onefold.phones --write` after upgrading it)."""
    assert phones.main(["--check"]) == 0


def test_sql_agrees_with_libphonenumber_on_duckdb(cases: list[Case], tmp_path: Path) -> None:
    warehouse = connect_with(target_environment("duckdb", tmp_path, "phones"))
    try:
        found = sql_e164(warehouse, phones.SQL_FUNCTION, cases)
    finally:
        warehouse.close()
    assert_agrees(cases, found)


@pytest.mark.postgres
@pytest.mark.e2e  # runs dbt (its on-run-start hook creates the functions)
def test_sql_agrees_with_libphonenumber_on_postgres(
    cases: list[Case], tmp_path: Path, postgres_server: PostgresServer
) -> None:
    env = target_environment("postgres", tmp_path, "onefold_phones", lambda: postgres_server)
    # Any dbt command runs the on-run-start hook that creates the PL/pgSQL functions.
    run_dbt(["seed", "--select", "country_calling_codes"], env, tmp_path / "target")
    warehouse = connect_with(env)
    try:
        found = sql_e164(warehouse, f"onefold.{phones.SQL_FUNCTION}", cases)
    finally:
        warehouse.close()
    assert_agrees(cases, found)


def assert_agrees(cases: list[Case], found: list[str | None]) -> None:
    """Identical to libphonenumber on every valid number, and to the Python rule on all."""
    pairs = list(zip(cases, found, strict=True))
    valid_differing = [(c, v) for c, v in pairs if c.valid_e164 is not None and v != c.valid_e164]
    rule_differing = [(c, v) for c, v in pairs if v != c.rule_e164]
    assert valid_differing[:20] == []
    assert rule_differing[:20] == []

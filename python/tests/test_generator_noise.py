"""The generator's building blocks on large synthetic samples: formats and noise rates."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import phonenumbers
import pytest

from onefold.generator import GeneratorConfig, NoiseRates
from onefold.generator.arrays import (
    text,
    to_object,
    unique_random_ints,
    uuid4_objects,
)
from onefold.generator.clock import (
    MS_PER_DAY,
    TimestampStyle,
    Window,
    effective_instants,
    format_instants,
    utc_offsets,
)
from onefold.generator.emails import canonical, render_email_field
from onefold.generator.json_text import json_object, json_string
from onefold.generator.lookups import lookups
from onefold.generator.names import misspell, render_first_names
from onefold.generator.noise import FieldNoise, NoiseLog
from onefold.generator.persons import Population, build_population
from onefold.generator.phones import e164, render_phone_field

RATES = NoiseRates()
ROWS = 200_000


@pytest.fixture(scope="module")
def people() -> Population:
    config = GeneratorConfig(persons=20_000, seed=9, end_date=dt.date(2026, 3, 1))
    return build_population(
        np.random.Generator(np.random.PCG64(9)), config, Window.of(config.end_date, config.days)
    )


def _noise(rows: int, seed: int = 1) -> tuple[FieldNoise, NoiseLog]:
    log = NoiseLog()
    keys = to_object(text([f"k{i}" for i in range(rows)]))
    return FieldNoise(np.random.Generator(np.random.PCG64(seed)), RATES, log, "t", keys), log


def _sample(people: Population, rows: int = ROWS) -> np.ndarray:
    return np.random.Generator(np.random.PCG64(2)).integers(0, people.size, rows)


def test_offsets_and_naive_renderings_denote_the_same_instant() -> None:
    rng = np.random.Generator(np.random.PCG64(4))
    n = 50_000
    instants = rng.integers(1_700_000_000_000, 1_800_000_000_000, n)
    styles = rng.integers(0, 3, n)
    offsets = rng.choice(np.array([-480, -300, -210, 0, 60, 120, 330, 345]), n)
    rendered = format_instants(instants, styles, offsets)
    parsed = pd.to_datetime(pd.Series(rendered), utc=True, format="ISO8601")
    expected = pd.to_datetime(effective_instants(instants, styles), unit="ms", utc=True)
    assert (parsed.to_numpy() == expected.to_numpy()).all()
    zulu, offset, naive = (rendered[styles == s][0] for s in TimestampStyle)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", zulu)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", offset)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", naive)


def test_summer_time_shifts_the_offset() -> None:
    january = np.array([dt.datetime(2026, 1, 15, tzinfo=dt.UTC).timestamp() * 1000], np.int64)
    july = np.array([dt.datetime(2026, 7, 15, tzinfo=dt.UTC).timestamp() * 1000], np.int64)
    standard = np.array([60])
    assert utc_offsets(january, standard, np.array([True]))[0] == 60
    assert utc_offsets(july, standard, np.array([True]))[0] == 120


def test_window_covers_days_ending_at_end_date() -> None:
    window = Window.of(dt.date(2026, 3, 1), 10)
    assert window.days == 10
    start = dt.datetime.fromtimestamp(window.start_ms / 1000, dt.UTC)
    end = dt.datetime.fromtimestamp(window.end_ms / 1000, dt.UTC)
    assert (start.date(), end.date()) == (dt.date(2026, 2, 20), dt.date(2026, 3, 2))
    assert window.end_ms - window.start_ms == 10 * MS_PER_DAY


def test_uuids_and_unique_ints() -> None:
    rng = np.random.Generator(np.random.PCG64(5))
    ids = uuid4_objects(rng, 10_000)
    pattern = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    assert all(pattern.fullmatch(value) for value in ids)
    values = unique_random_ints(rng, 5_000, 0, 6_000)
    assert len(np.unique(values)) == 5_000


def test_json_text_is_valid_and_escaped() -> None:
    values = text(["plain", 'with "quotes"', "back\\slash"])
    objects = json_object(
        [
            ("a", json_string(values), None),
            ("b", text(["1", "2", "3"]), np.array([True, False, True])),
        ],
        3,
    )
    parsed = [json.loads(str(o)) for o in objects]
    assert parsed == [{"a": "plain", "b": 1}, {"a": 'with "quotes"'}, {"a": "back\\slash", "b": 3}]


def test_people_have_distinct_mailboxes_and_numbers(people: Population) -> None:
    mailboxes = canonical(
        np.concatenate([people.email_local, people.second_local[people.has_second_email]]),
        np.concatenate([people.email_domain, people.second_domain[people.has_second_email]]),
    )
    assert len(np.unique(mailboxes)) == len(mailboxes)
    numbers = e164(people.country, people.phone)
    assert len(np.unique(numbers)) == people.size
    sample = numbers[:: max(1, people.size // 3000)]
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(str(n))) for n in sample)


@pytest.mark.parametrize(
    ("country", "pattern"),
    [
        ("US", r"\d{5}"),
        ("GB", r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}"),
        ("DE", r"\d{5}"),
        ("FR", r"\d{5}"),
        ("NL", r"\d{4} [A-Z]{2}"),
    ],
)
def test_postcodes_follow_the_country_format(
    people: Population, country: str, pattern: str
) -> None:
    codes = people.postcode[lookups().country_codes[people.country] == country]
    assert len(codes) > 100
    assert all(re.fullmatch(pattern, str(code)) for code in codes)


def test_household_members_share_an_address(people: Population) -> None:
    members = np.flatnonzero(people.household != np.arange(people.size))
    heads = people.household[members]
    assert len(members) / people.size == pytest.approx(RATES.household * 0.55, abs=0.02)
    assert (people.address1[members] == people.address1[heads]).all()
    assert (people.postcode[members] == people.postcode[heads]).all()


def test_email_noise_rates_and_variants(people: Population) -> None:
    person = _sample(people)
    noise, log = _noise(len(person))
    use_second = np.zeros(len(person), dtype=bool)
    values = render_email_field(noise, "email", people, person, use_second)
    frame = log.frame()
    kinds = frame["noise_kind"].value_counts()
    assert kinds["junk_value"] / ROWS == pytest.approx(RATES.junk_value, abs=0.001)
    assert kinds["bad_email"] / ROWS == pytest.approx(RATES.bad_email, abs=0.001)
    genuine = ROWS - kinds["junk_value"] - kinds["bad_email"]
    assert kinds["email_case_whitespace"] / genuine == pytest.approx(
        RATES.email_case_whitespace, abs=0.005
    )
    gmail = int(people.email_is_gmail[person].sum() * genuine / ROWS)
    assert kinds["gmail_dots_tag"] / gmail == pytest.approx(RATES.gmail_dots_tag, abs=0.01)
    assert kinds["googlemail"] / gmail == pytest.approx(RATES.googlemail, abs=0.008)
    # Case noise always shows; gmail variants always reach the same mailbox.
    assert all(v != v.strip().lower() for v in values[_rows(frame, "email_case_whitespace")])
    varied = _rows(frame, "gmail_dots_tag", "googlemail")
    written = pd.Series(values[varied]).str.strip().str.lower().str.partition("@")
    original = pd.Series(people.email_address[person[varied]]).str.partition("@")
    assert (written[0] + "@" + written[2] != original[0] + "@" + original[2]).all()
    assert (
        canonical(text(list(written[0])), text(list(written[2])))
        == canonical(text(list(original[0])), text(list(original[2])))
    ).all()


def _rows(frame: pd.DataFrame, *kinds: str) -> np.ndarray:
    """Row positions (keys are 'k<position>') that got any of the noise kinds."""
    keys = frame.loc[frame.noise_kind.isin(kinds), "record_key"]
    return np.unique(keys.str[1:].astype(int).to_numpy())


def test_name_noise_rates(people: Population) -> None:
    person = _sample(people)
    noise, log = _noise(len(person))
    first = people.first[person]
    values = render_first_names(noise, "first_name", first)
    kinds = log.frame()["noise_kind"].value_counts()
    eligible = int((lookups().nicknames.counts[first] > 0).sum())
    assert kinds["nickname"] / eligible == pytest.approx(RATES.nickname, abs=0.005)
    assert kinds["name_typo"] / ROWS == pytest.approx(RATES.name_typo, abs=0.003)
    changed = values != lookups().first_name_objects[first]
    assert changed.sum() <= kinds["nickname"] + kinds["name_typo"]


def test_misspellings_always_change_a_name_by_one_letter() -> None:
    names = text(["Anna", "Bob", "Jo", "Matthew", "Zoë", "Ole"] * 500)
    typos = misspell(np.random.Generator(np.random.PCG64(1)), names)
    for original, typo in zip(names, typos, strict=True):
        assert typo != original
        assert abs(len(typo) - len(original)) <= 1
        assert typo[0] == original[0]


def test_phone_noise_rates_and_formats(people: Population) -> None:
    person = _sample(people)
    noise, log = _noise(len(person))
    instants = np.full(len(person), Window.of(dt.date(2026, 3, 1), 365).end_ms - 1)
    values = render_phone_field(noise, "phone", people, person, instants, 0.3)
    kinds = log.frame()["noise_kind"].value_counts()
    assert kinds["junk_value"] / ROWS == pytest.approx(RATES.junk_value, abs=0.001)
    assert kinds["impossible_phone"] / ROWS == pytest.approx(RATES.impossible_phone, abs=0.001)
    genuine = ROWS - kinds["junk_value"] - kinds["impossible_phone"]
    assert kinds["phone_format"] / genuine == pytest.approx(0.7, abs=0.01)
    impossible = {str(v) for v in values[_rows(log.frame(), "impossible_phone")]}
    for value in impossible:
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(value, "US"))
        except phonenumbers.NumberParseException:
            valid = False
        assert not valid, value

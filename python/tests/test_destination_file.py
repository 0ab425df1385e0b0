"""The `file` destination and the identifier normalization it ships to ad platforms.

Known-answer vectors: each expected digest is computed here with hashlib from the
normalized string the platform documents, and the normalized string itself is asserted
for the tricky inputs, so a wrong normalization cannot hide behind a matching hash.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from onefold.errors import ConfigError
from onefold.sync.destinations.base import Destination, DestinationUnavailable, Record
from onefold.sync.destinations.file import FileDestination, create_destination
from onefold.sync.identifiers import (
    GOOGLE_CUSTOMER_MATCH_COLUMNS,
    META_CUSTOM_AUDIENCE_COLUMNS,
    google_customer_match_row,
    hash_identifier,
    is_sha256_hex,
    meta_custom_audience_row,
    normalize_email,
    normalize_email_for_google,
    normalize_last_name_for_google,
    normalize_name_for_google,
    normalize_name_for_meta,
    normalize_phone_e164,
    normalize_phone_for_meta,
    normalize_postcode_for_meta,
    normalize_state_for_meta,
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- identifiers ---------------------------------------------------------------------------


def test_email_is_trimmed_and_lowercased() -> None:
    assert normalize_email("  Test@Example.com ") == "test@example.com"
    assert hash_identifier(" Test@Example.COM", normalize_email) == sha256("test@example.com")


def test_google_drops_periods_before_gmail_and_googlemail_only() -> None:
    assert normalize_email_for_google(" Test.User@GMail.com ") == "testuser@gmail.com"
    assert normalize_email_for_google("A.B.C@googlemail.com") == "abc@googlemail.com"
    assert normalize_email_for_google("First.Last@Example.com") == "first.last@example.com"
    assert normalize_email("Test.User@GMail.com") == "test.user@gmail.com"


@pytest.mark.parametrize("value", ["", "   ", "no-at-sign", "two@@example.com", "a b@example.com"])
def test_values_that_are_not_emails_are_unusable(value: str) -> None:
    assert normalize_email(value) is None


def test_phone_numbers_become_e164_for_google_and_digits_for_meta() -> None:
    assert normalize_phone_e164("+1 (650) 253-0000") == "+16502530000"
    assert normalize_phone_e164("(650) 253-0000", "US") == "+16502530000"
    assert normalize_phone_e164("020 7031 3000", "gb") == "+442070313000"
    assert normalize_phone_e164("020 7031 3000") is None  # no country to read it in
    assert normalize_phone_e164("12") is None
    assert normalize_phone_for_meta("+44 20 7031 3000") == "442070313000"


def test_names_follow_each_platform() -> None:
    assert normalize_name_for_google("  Mary   Ann ") == "mary ann"
    assert normalize_last_name_for_google(" O'Brien ") == "obrien"
    assert normalize_name_for_meta("O'Brien-Smith") == "obriensmith"
    # One code point or e + combining accent: the same UTF-8 bytes once normalized.
    assert normalize_name_for_meta("\u00c9milie") == "\u00e9milie"
    assert normalize_name_for_meta("E\u0301milie") == "\u00e9milie"
    assert normalize_name_for_meta("San Francisco") == "sanfrancisco"


def test_meta_states_and_postcodes() -> None:
    assert normalize_state_for_meta("Texas", "us") == "tx"
    assert normalize_state_for_meta(" CA ", None) == "ca"
    assert normalize_state_for_meta("Île-de-France", "fr") == "îledefrance"
    assert normalize_postcode_for_meta("94303-5300", "us") == "94303"
    assert normalize_postcode_for_meta("SW1A 1AA", "gb") == "sw1a1"
    assert normalize_postcode_for_meta("75001", "fr") == "75001"


def test_existing_digests_pass_through() -> None:
    digest = sha256("someone@example.com")
    assert is_sha256_hex(digest)
    assert hash_identifier(digest, normalize_email) == digest
    assert hash_identifier(f" {digest.upper()} ", normalize_email) == digest


def test_google_customer_match_row_hashes_all_but_country_and_zip() -> None:
    row = google_customer_match_row(
        {
            "email": " Test.User@GMail.com ",
            "phone": "(650) 253-0000",
            "first_name": " Mary  Ann",
            "last_name": "O'Brien",
            "country_code": "us",
            "postcode": " 94303 ",
            "lifetime_value": 120,
        }
    )
    assert row == {
        "Email": sha256("testuser@gmail.com"),
        "Phone": sha256("+16502530000"),
        "First Name": sha256("mary ann"),
        "Last Name": sha256("obrien"),
        "Country": "US",
        "Zip": "94303",
    }
    assert tuple(row) == GOOGLE_CUSTOMER_MATCH_COLUMNS


def test_meta_custom_audience_row_hashes_every_column() -> None:
    row = meta_custom_audience_row(
        {
            "email": "Test@Example.com",
            "phone": "+1 650 253 0000",
            "first_name": "Mary-Ann",
            "last_name": "Smith",
            "city": "Mountain View",
            "state": "California",
            "postcode": "94043-1351",
            "country_code": "US",
        }
    )
    assert row == {
        "email": sha256("test@example.com"),
        "phone": sha256("16502530000"),
        "fn": sha256("maryann"),
        "ln": sha256("smith"),
        "ct": sha256("mountainview"),
        "st": sha256("ca"),
        "zip": sha256("94043"),
        "country": sha256("us"),
    }
    assert tuple(row) == META_CUSTOM_AUDIENCE_COLUMNS


def test_rows_without_a_matchable_identifier_are_refused() -> None:
    assert google_customer_match_row({"first_name": "Mary", "country_code": "US"}) is None
    assert google_customer_match_row({"email": "not an email"}) is None
    assert meta_custom_audience_row({"city": "Paris", "country_code": "FR"}) is None


# -- the destination -----------------------------------------------------------------------


def make(tmp_path: Path, file_format: str, **extra: Any) -> FileDestination:
    settings = {"path": str(tmp_path / "out"), "format": file_format, **extra}
    return create_destination("audience_export", settings)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        return list(reader.fieldnames or []), list(reader)


def current_state(directory: Path) -> dict[str, dict[str, str]]:
    """What a consumer does: apply the batch files in name order."""
    state: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("*.csv")):
        for row in read_csv(path)[1]:
            if row["op"] in ("upsert", "insert"):
                state[row["key"]] = row
            else:
                state.pop(row["key"], None)
    return state


def test_file_destination_satisfies_the_protocol(tmp_path: Path) -> None:
    destination: Destination = make(tmp_path, "csv")
    assert destination.max_batch_size == 10_000
    destination.close()


def test_csv_batches_replay_and_removals(tmp_path: Path) -> None:
    destination = make(tmp_path, "csv")
    upsert = [
        Record("c1", {"email": "a@example.com", "lifetime_value": Decimal("12.50")}),
        Record("c2", {"email": "b@example.com", "is_vip": True}),
    ]
    assert destination.send("upsert", upsert, "run1-batch1").rejected == []
    assert destination.send("upsert", upsert, "run1-batch1").rejected == []  # replay
    destination.send("remove", [Record("c1", {})], "run1-batch2")
    destination.send("upsert", [Record("c3", {"email": "c@example.com"})], "run2-batch1")

    directory = tmp_path / "out"
    names = sorted(path.name for path in directory.glob("*.csv"))
    assert names == [
        "00000001-upsert-run1-batch1.csv",
        "00000002-remove-run1-batch2.csv",
        "00000003-upsert-run2-batch1.csv",
    ]
    header, rows = read_csv(directory / names[0])
    assert header == ["op", "key", "email", "lifetime_value", "is_vip"]
    assert rows[0]["lifetime_value"] == "12.50"
    assert rows[1]["is_vip"] == "true"
    assert read_csv(directory / names[1])[1] == [{"op": "remove", "key": "c1"}]
    assert set(current_state(directory)) == {"c2", "c3"}


def test_payload_fields_that_clash_with_op_or_key_are_rejected(tmp_path: Path) -> None:
    result = make(tmp_path, "csv").send(
        "upsert", [Record("c1", {"key": "x"}), Record("c2", {"email": "b@example.com"})], "b1"
    )
    assert [rejection.key for rejection in result.rejected] == ["c1"]
    assert "rename it in the sync's mapping" in result.rejected[0].error
    assert set(current_state(tmp_path / "out")) == {"c2"}


def test_jsonl_keeps_nested_payloads(tmp_path: Path) -> None:
    destination = make(tmp_path, "jsonl")
    ordered_at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    destination.send(
        "insert",
        [Record("o1", {"items": [{"sku": "A", "price": Decimal("9.99")}], "at": ordered_at})],
        "b1",
    )
    destination.send("erase", [Record("o1", {})], "b2")
    files = sorted((tmp_path / "out").glob("*.jsonl"))
    assert [path.name for path in files] == ["00000001-insert-b1.jsonl", "00000002-erase-b2.jsonl"]
    assert files[0].read_text() == ""  # scrubbed by the erase
    assert [json.loads(line) for line in files[1].read_text().splitlines()] == [
        {"op": "erase", "key": "o1"}
    ]


def test_a_crash_mid_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = make(tmp_path, "csv")

    def crash(source: str, target: str) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", crash)
        with pytest.raises(DestinationUnavailable, match="cannot write to"):
            destination.send("upsert", [Record("c1", {"email": "a@example.com"})], "b1")
    assert [path.name for path in (tmp_path / "out").iterdir()] == [".onefold.lock"]

    destination.send("upsert", [Record("c1", {"email": "a@example.com"})], "b1")
    assert set(current_state(tmp_path / "out")) == {"c1"}


def test_unwritable_path_is_reported(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    destination = create_destination("audience_export", {"path": str(tmp_path / "blocker" / "x")})
    with pytest.raises(DestinationUnavailable, match="sync 'audience_export': cannot write"):
        destination.send("upsert", [Record("c1", {})], "b1")


def test_google_customer_match_files(tmp_path: Path) -> None:
    destination = make(tmp_path, "google_customer_match", default_phone_region="US")
    result = destination.send(
        "upsert",
        [
            Record("c1", {"email": "Test.User@gmail.com", "phone": "(650) 253-0000"}),
            Record("c2", {"email": "b@example.com", "country_code": "GB", "postcode": "SW1A 1AA"}),
            Record("c3", {"first_name": "No", "last_name": "Identifiers"}),
        ],
        "b1",
    )
    assert [(r.key, r.error.split(":")[0]) for r in result.rejected] == [
        ("c3", "no identifier google_customer_match can match on")
    ]
    directory = tmp_path / "out"
    header, rows = read_csv(directory / "00000001-upsert-b1.csv")
    assert header == list(GOOGLE_CUSTOMER_MATCH_COLUMNS)
    assert rows == [
        {
            "Email": sha256("testuser@gmail.com"),
            "Phone": sha256("+16502530000"),
            "First Name": "",
            "Last Name": "",
            "Country": "",
            "Zip": "",
        },
        {
            "Email": sha256("b@example.com"),
            "Phone": "",
            "First Name": "",
            "Last Name": "",
            "Country": "GB",
            "Zip": "SW1A 1AA",
        },
    ]

    # A later upsert of c1 with a new email: a removal must name both exported rows.
    destination.send("upsert", [Record("c1", {"email": "new@example.com"})], "b2")
    destination.send("remove", [Record("c1", {})], "b3")
    _, removed = read_csv(directory / "00000003-remove-b3.csv")
    assert sorted(row["Email"] for row in removed) == sorted(
        [sha256("testuser@gmail.com"), sha256("new@example.com")]
    )
    sidecar = (directory / "00000003-remove-b3.csv.keys.jsonl").read_text().splitlines()
    assert [json.loads(line)["key"] for line in sidecar] == ["c1", "c1"]


def test_erase_scrubs_earlier_audience_files(tmp_path: Path) -> None:
    destination = make(tmp_path, "meta_custom_audience")
    destination.send(
        "upsert",
        [
            Record("c1", {"email": "one@example.com", "first_name": "Ann", "last_name": "Lee"}),
            Record("c2", {"email": "two@example.com"}),
        ],
        "b1",
    )
    destination.send("erase", [Record("c1", {}), Record("never-exported", {})], "b2")
    destination.send("erase", [Record("c1", {}), Record("never-exported", {})], "b2")  # replay

    directory = tmp_path / "out"
    assert sorted(path.name for path in directory.glob("*.csv")) == [
        "00000001-upsert-b1.csv",
        "00000002-erase-b2.csv",
    ]
    header, remaining = read_csv(directory / "00000001-upsert-b1.csv")
    assert header == list(META_CUSTOM_AUDIENCE_COLUMNS)
    assert [row["email"] for row in remaining] == [sha256("two@example.com")]
    sidecar = (directory / "00000001-upsert-b1.csv.keys.jsonl").read_text().splitlines()
    assert [json.loads(line)["key"] for line in sidecar] == ["c2"]
    _, erased = read_csv(directory / "00000002-erase-b2.csv")
    assert erased == [
        {
            "email": sha256("one@example.com"),
            "phone": "",
            "fn": sha256("ann"),
            "ln": sha256("lee"),
            "ct": "",
            "st": "",
            "zip": "",
            "country": "",
        }
    ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "sync 'audience_export': destination.path: field required"),
        ({"path": "out", "format": "xml"}, "destination.format: input should be"),
        (
            {"path": "out", "fromat": "csv"},
            "destination.fromat: unknown key (expected one of: batch_size,",
        ),
        ({"path": "out", "default_phone_region": "USA"}, "destination.default_phone_region"),
        ({"path": "out", "batch_size": 0}, "destination.batch_size: input should be greater"),
    ],
)
def test_settings_errors_name_the_sync_and_field(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        create_destination("audience_export", settings)
    assert message in str(raised.value)

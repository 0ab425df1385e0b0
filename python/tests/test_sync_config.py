"""syncs.yml validation: every error names the sync and the field at fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from onefold.errors import ConfigError
from onefold.sync.config import load_syncs, parse_sync, parse_syncs
from onefold.sync.destinations import build_destination, destination_types
from onefold.testing.sync import SECRET, SECRET_ENV, webhook_sync_settings

URL = "https://hooks.example.com/onefold"


def settings(**changes: Any) -> dict[str, Any]:
    result = webhook_sync_settings(URL)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (settings(destinaton={"type": "webhook"}), "destinaton: unknown key (expected one of: "),
        (
            settings(destination={"type": "smoke_signal"}),
            "destination.type: unknown destination type 'smoke_signal' (known: ",
        ),
        (settings(mode="replace"), "mode: input should be 'upsert', 'mirror' or 'insert'"),
        (settings(primary_key=None), "primary_key: field required"),
        (settings(fields={}), "fields: dictionary should have at least 1 item"),
        (settings(segment="vip"), "model: give exactly one of `model` (a relation) or `segment`"),
        (settings(model=None), "model: give exactly one of"),
        (settings(hashed=["email"]), "hashed: 'email' is not a destination field"),
        (
            settings(fields={"tier_hash": "tier"}, hashed=["tier_hash"]),
            "hashed: cannot tell how to normalize 'tier_hash'",
        ),
        (settings(hashed={"email_sha256": "fax"}), "hashed.email_sha256: unknown kind 'fax'"),
        (settings(hashed="email_sha256"), "hashed: expected a list of fields, or a mapping"),
        (settings(purposes=["ads", "ads"]), "purposes: purposes must be distinct"),
        (settings(name="other"), "name: unknown key (a sync's name is its key)"),
    ],
)
def test_config_errors_name_the_sync_and_field(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_sync("vip_webhook", raw)
    assert str(raised.value).startswith("sync 'vip_webhook': ")
    assert message in str(raised.value)


def test_sync_names_are_plain() -> None:
    with pytest.raises(ConfigError, match="sync 'VIP hook': name: use lower-case letters"):
        parse_sync("VIP hook", settings())


def test_hash_kinds_are_inferred_or_declared() -> None:
    inferred = parse_sync("a", settings())
    assert inferred.hash_kinds() == {"email_sha256": "email", "phone_sha256": "phone"}
    declared = parse_sync(
        "b", settings(fields={"id_sha256": "member_id"}, hashed={"id_sha256": "text"})
    )
    assert declared.hash_kinds() == {"id_sha256": "text"}


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ({"url": None}, "sync 'vip_webhook': destination.url: field required"),
        ({"url": "ftp://x"}, "destination.url: URL scheme should be 'http' or 'https'"),
        ({"batch_size": 0}, "destination.batch_size: input should be greater than or equal to 1"),
        ({"retries": 3}, "destination.retries: unknown key (expected one of: "),
        ({"secret_env": "ONEFOLD_NOT_SET"}, "destination.secret_env: environment variable"),
    ],
)
def test_destination_settings_errors_name_the_field(
    destination: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.delenv("ONEFOLD_NOT_SET", raising=False)
    raw = settings()
    for key, value in destination.items():
        if value is None:
            raw["destination"].pop(key)
        else:
            raw["destination"][key] = value
    sync = parse_sync("vip_webhook", raw)
    with pytest.raises(ConfigError) as raised:
        build_destination(sync)
    assert message in str(raised.value)


def test_secrets_come_from_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    destination = build_destination(parse_sync("vip_webhook", settings()))
    try:
        assert SECRET not in repr(vars(destination))
    finally:
        destination.close()


def test_file_level_settings_apply_to_every_sync() -> None:
    document = {
        "audiences": {"model": "audiences_v2", "destination_column": None},
        "consent": {"model": "privacy.consent_now"},
        "syncs": {"a": settings(), "b": settings(mode="insert")},
    }
    syncs = parse_syncs(document, "syncs.yml")
    assert list(syncs) == ["a", "b"]
    assert syncs["b"].audiences.model == "audiences_v2"
    assert syncs["a"].audiences.destination_column is None
    assert syncs["a"].consent.model == "privacy.consent_now"
    with pytest.raises(ConfigError, match=r"syncs.yml: sink: unknown key \(expected one of"):
        parse_syncs({"syncs": {}, "sink": 1}, "syncs.yml")


def test_load_syncs_reports_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no syncs file at .*missing\.yml"):
        load_syncs(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("syncs: [unclosed")
    with pytest.raises(ConfigError, match=r"broken\.yml is not valid YAML"):
        load_syncs(broken)


def test_the_example_syncs_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "demo" / "syncs.yml"
    syncs = load_syncs(example)
    assert syncs
    assert {sync.destination_type for sync in syncs.values()} <= set(destination_types())


def test_a_secret_pasted_into_secret_env_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pasted = "whsec_9f8e7d6c5b4a-live/KEY+="
    lower = "s3cr3tvalue"  # shaped like a name, but no variable holds it
    monkeypatch.delenv(lower, raising=False)
    for value in (pasted, lower):
        raw = settings()
        raw["destination"]["secret_env"] = value
        with pytest.raises(ConfigError) as raised:
            build_destination(parse_sync("vip_webhook", raw))
        message = str(raised.value)
        assert message.startswith("sync 'vip_webhook': destination.secret_env: ")
        assert value not in message
        assert "environment variable" in message

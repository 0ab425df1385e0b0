"""The webhook destination's wire format against the local receiver."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from pydantic import SecretStr

from onefold.sync.delivery import as_record, idempotency_key
from onefold.sync.destinations.base import BatchRejected, DestinationUnavailable, Record
from onefold.sync.destinations.webhook import WebhookDestination, WebhookSettings, create, sign
from onefold.sync.http import HttpClient
from onefold.sync.state import PlannedRecord
from onefold.testing.sync import FAST_DELIVERY, SECRET, SECRET_ENV
from onefold.testing.webhook_server import WebhookReceiver


def destination(
    url: str, monkeypatch: pytest.MonkeyPatch, secret: str = SECRET
) -> WebhookDestination:
    monkeypatch.setenv(SECRET_ENV, secret)
    return create("crm", {"url": url, "secret_env": SECRET_ENV, **FAST_DELIVERY})


def test_signature_is_the_hmac_of_the_exact_body() -> None:
    body = b'{"events":[]}'
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert sign(b"k", body) == f"sha256={expected}"


def test_upsert_remove_and_erase_events(
    hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook = destination(hook.url, monkeypatch)
    records = [Record("a", {"tier": "gold"}), Record("b", {"tier": "silver"})]

    assert webhook.send("upsert", records, "key-1").rejected == []
    assert hook.records == {"a": {"tier": "gold"}, "b": {"tier": "silver"}}
    webhook.send("remove", records[:1], "key-2")
    webhook.send("erase", records[1:], "key-3")

    assert hook.records == {}
    assert hook.events[-2:] == [("remove", "a"), ("delete", "b")]
    assert hook.deleted == ["b"]
    webhook.send("upsert", records, "key-1")  # a replay: answered, not applied again
    assert (hook.replays, hook.records) == (1, {})
    webhook.close()


def test_rejections_and_refusals_are_reported(
    hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook = destination(hook.url, monkeypatch)
    hook.reject(["b"], error="unknown tier")
    result = webhook.send("upsert", [Record("a", {}), Record("b", {})], "k1")
    assert [(r.key, r.error) for r in result.rejected] == [("b", "unknown tier")]
    hook.poison(["c"])
    with pytest.raises(BatchRejected, match="HTTP 400"):
        webhook.send("upsert", [Record("c", {})], "k2")
    webhook.close()


def test_a_wrong_secret_stops_the_run(
    hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook = destination(hook.url, monkeypatch, secret="not-the-secret")
    with pytest.raises(DestinationUnavailable, match=r"HTTP 401 .*check the url and the secret"):
        webhook.send("upsert", [Record("a", {})], "k")
    webhook.close()


def test_the_body_carries_ids_stable_across_replays() -> None:
    bodies: list[bytes] = []

    def capture(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200)

    settings = WebhookSettings(url="https://hooks.example.com/x", secret_env=SECRET_ENV)
    client = HttpClient(transport=httpx.MockTransport(capture))
    webhook = WebhookDestination("crm", settings, SecretStr(SECRET), client)
    for _ in range(2):
        webhook.send("insert", [Record("a", {"n": 1})], "same-key")
    assert bodies[0] == bodies[1]
    document = json.loads(bodies[0])
    assert document["idempotency_key"] == "same-key"
    assert document["events"][0]["type"] == "insert" and len(document["events"][0]["id"]) == 32


def test_event_ids_name_a_change_whatever_the_batch() -> None:
    def planned(key: str, prior: str) -> PlannedRecord:
        return PlannedRecord(key, None, '{"n": 1}', "hash", prior, "add")

    first = as_record("crm", "insert", planned("a", ""))
    replayed = as_record("crm", "insert", planned("a", ""))
    later = as_record("crm", "insert", planned("a", "removed:1:2026-01-01 00:00:00"))
    assert first.event_id == replayed.event_id != later.event_id
    assert idempotency_key("crm", "insert", [planned("a", "")]) != idempotency_key(
        "crm", "insert", [planned("a", ""), planned("b", "")]
    )

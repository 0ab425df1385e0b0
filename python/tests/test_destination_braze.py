"""The `braze` destination against a local fake of Braze's REST API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from onefold.errors import ConfigError
from onefold.sync.destinations.base import (
    BatchRejected,
    Destination,
    DestinationUnavailable,
    Record,
)
from onefold.sync.destinations.braze import BrazeDestination, create_destination
from onefold.testing.fake_braze import DELETE_PATH, TRACK_PATH, FakeBraze

API_KEY = "braze-test-key-123"


@pytest.fixture
def braze() -> Iterator[FakeBraze]:
    with FakeBraze(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture(autouse=True)
def api_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_BRAZE_API_KEY", API_KEY)


_opened: list[BrazeDestination] = []


@pytest.fixture(autouse=True)
def close_destinations() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def make(braze: FakeBraze, **extra: Any) -> BrazeDestination:
    settings = {
        "rest_endpoint": braze.url,
        "api_key_env": "TEST_BRAZE_API_KEY",
        "membership_attribute": "onefold_vip",
        "backoff_seconds": 0.001,
        "max_backoff_seconds": 0.01,
        **extra,
    }
    destination = create_destination("vip_braze", settings)
    _opened.append(destination)
    return destination


def customers(count: int, start: int = 0) -> list[Record]:
    return [
        Record(f"c{i}", {"email": f"user{i}@example.com", "tier": "gold"})
        for i in range(start, start + count)
    ]


def test_upsert_sets_attributes_and_membership(braze: FakeBraze) -> None:
    destination: Destination = make(braze)
    assert destination.max_batch_size == 75
    assert destination.requests_per_second == 1000.0
    seen_at = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
    result = destination.send(
        "upsert",
        [
            Record(
                "c1",
                {
                    "email": "a@example.com",
                    "lifetime_value": Decimal("120.50"),
                    "orders_count": Decimal("3"),
                    "last_seen_at": seen_at,
                    "segments": ("vip", "newsletter"),
                    "city": None,
                },
            )
        ],
        "b1",
    )
    assert result.rejected == []
    assert braze.users == {
        "c1": {
            "email": "a@example.com",
            "lifetime_value": 120.5,
            "orders_count": 3,
            "last_seen_at": "2026-05-01T09:30:00+00:00",
            "segments": ["vip", "newsletter"],
            "onefold_vip": True,
        }
    }


def test_batches_follow_the_documented_limits(braze: FakeBraze) -> None:
    destination = make(braze)
    destination.send("upsert", customers(80), "b1")
    sizes = [len(request.body["attributes"]) for request in braze.requests]
    assert sizes == [75, 5]
    assert len(braze.users) == 80

    destination.send("erase", customers(80), "b2")
    deletes = [r.body["external_ids"] for r in braze.requests if r.path == DELETE_PATH]
    assert [len(ids) for ids in deletes] == [50, 30]
    assert braze.users == {}


def test_the_fake_refuses_oversized_requests(braze: FakeBraze) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    attributes = [{"external_id": f"c{i}"} for i in range(76)]
    track = httpx.post(braze.url + TRACK_PATH, json={"attributes": attributes}, headers=headers)
    ids = [f"c{i}" for i in range(51)]
    delete = httpx.post(braze.url + DELETE_PATH, json={"external_ids": ids}, headers=headers)
    assert (track.status_code, delete.status_code) == (400, 400)
    assert braze.users == {}


def test_invalid_objects_are_rejected_one_by_one(braze: FakeBraze) -> None:
    destination = make(braze)
    result = destination.send(
        "upsert",
        [
            Record("c1", {"email": "a@example.com"}),
            Record("c2", {"email": "not an email"}),
            Record("c3", {"external_id": "someone-else"}),
            Record("c4", {"nickname": "x" * 300}),
        ],
        "b1",
    )
    rejected = {rejection.key: rejection.error for rejection in result.rejected}
    assert rejected == {
        "c2": "The value provided for the 'email' field is not a valid email.",
        "c3": "payload field 'external_id' clashes with an attribute Onefold sets; "
        "rename it in the sync's mapping",
        "c4": "The value provided for 'nickname' is longer than 255 characters",
    }
    assert set(braze.users) == {"c1"}
    # c3 never left: only three objects went to Braze.
    assert len(braze.requests[0].body["attributes"]) == 3


def test_a_batch_of_only_invalid_objects_is_rejected_per_record(braze: FakeBraze) -> None:
    result = make(braze).send(
        "upsert", [Record("c1", {"email": "bad"}), Record("c2", {"email": "worse"})], "b1"
    )
    assert braze.statuses() == [400]
    assert sorted(rejection.key for rejection in result.rejected) == ["c1", "c2"]


def test_a_malformed_request_rejects_the_batch(braze: FakeBraze) -> None:
    braze.fail_next(400, body={"message": "Invalid request body"})
    with pytest.raises(BatchRejected, match="HTTP 400: Invalid request body"):
        make(braze).send("upsert", customers(3), "b1")


def test_remove_sets_membership_false_and_creates_no_profile(braze: FakeBraze) -> None:
    destination = make(braze)
    destination.send("upsert", customers(2), "b1")
    destination.send("remove", [Record("c0", {}), Record("never-synced", {})], "b2")
    assert braze.users["c0"]["onefold_vip"] is False
    assert braze.users["c0"]["tier"] == "gold"
    assert braze.users["c1"]["onefold_vip"] is True
    assert "never-synced" not in braze.users


def test_remove_needs_a_membership_attribute(braze: FakeBraze) -> None:
    destination = make(braze, membership_attribute=None)
    destination.send("upsert", customers(1), "b1")
    assert "onefold_vip" not in braze.users["c0"]
    with pytest.raises(ConfigError, match=r"destination\.membership_attribute: required"):
        destination.send("remove", customers(1), "b2")


def test_rate_limited_requests_wait_for_retry_after(braze: FakeBraze) -> None:
    braze.rate_limit_requests = 2
    braze.rate_limit_window_seconds = 0.2
    destination = make(braze, attributes_per_request=10)
    assert destination.send("upsert", customers(60), "b1").rejected == []
    statuses = braze.statuses(TRACK_PATH)
    assert statuses.count(201) == 6
    assert 429 in statuses
    assert len(braze.users) == 60


def test_a_retry_after_beyond_the_limit_stops_the_destination(braze: FakeBraze) -> None:
    braze.fail_next(429, retry_after="3600")
    with pytest.raises(DestinationUnavailable, match="Retry-After 3600s"):
        make(braze).send("upsert", customers(1), "b1")


def test_server_errors_are_retried_then_unavailable(braze: FakeBraze) -> None:
    braze.fail_next(503, times=2)
    destination = make(braze, max_retries=3)
    assert destination.send("upsert", customers(1), "b1").rejected == []
    assert braze.statuses() == [503, 503, 201]

    braze.fail_next(500, times=10)
    with pytest.raises(DestinationUnavailable, match="HTTP 500 after 4 attempt"):
        destination.send("upsert", customers(1), "b2")


def test_a_wrong_key_stops_the_destination_without_showing_it(
    braze: FakeBraze, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_BRAZE_API_KEY", "wrong-key-456")
    with pytest.raises(DestinationUnavailable) as raised:
        make(braze).send("upsert", customers(1), "b1")
    message = str(raised.value)
    assert "$TEST_BRAZE_API_KEY (HTTP 401)" in message
    assert "wrong-key-456" not in message and API_KEY not in message


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"api_key_env": "TEST_BRAZE_API_KEY"}, "destination.rest_endpoint: field required"),
        (
            {"rest_endpoint": "rest.iad-01.braze.com", "api_key_env": "TEST_BRAZE_API_KEY"},
            "destination.rest_endpoint: must be the REST endpoint URL",
        ),
        (
            {"rest_endpoint": "https://rest.iad-01.braze.com", "api_key_env": "MISSING_KEY"},
            "destination.api_key_env: environment variable MISSING_KEY is not set",
        ),
        (
            {
                "rest_endpoint": "https://rest.iad-01.braze.com",
                "api_key_env": "TEST_BRAZE_API_KEY",
                "attributes_per_request": 76,
            },
            "destination.attributes_per_request: input should be less than or equal to 75",
        ),
    ],
)
def test_settings_errors_name_the_sync_and_field(
    settings: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISSING_KEY", raising=False)
    with pytest.raises(ConfigError) as raised:
        create_destination("vip_braze", settings)
    assert str(raised.value).startswith("sync 'vip_braze': ")
    assert message in str(raised.value)

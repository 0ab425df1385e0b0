"""The shared HTTP client: retries, Retry-After, backoff, rate limiting, messages."""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx
import pytest

from onefold.sync.destinations.base import DestinationUnavailable
from onefold.sync.http import HttpClient, retry_after_seconds
from onefold.sync.ratelimit import RateLimiter


def scripted(*responses: httpx.Response | Exception) -> httpx.MockTransport:
    remaining = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = remaining.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler)


def client(transport: httpx.MockTransport, sleeps: list[float], **options: float) -> HttpClient:
    return HttpClient(
        "https://api.example.com/v1/",
        transport=transport,
        sleep=sleeps.append,
        backoff=float(options.pop("backoff", 0.5)),
        max_backoff=float(options.pop("max_backoff", 4.0)),
        max_retries=int(options.pop("max_retries", 5)),
        max_retry_after=float(options.pop("max_retry_after", 300.0)),
    )


def test_retry_after_is_honoured_and_backoff_is_jittered_exponential() -> None:
    sleeps: list[float] = []
    http = client(
        scripted(
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503),
            httpx.ConnectError("refused"),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json={"ok": True}),
        ),
        sleeps,
    )

    response = http.post("users/track", json={"a": 1})

    assert response.json() == {"ok": True}
    assert http.requests_made == 5
    assert sleeps[0] == 7.0  # exactly what the server asked for
    for attempt, slept in enumerate(sleeps[1:], start=1):  # full jitter under the cap
        assert 0.0 <= slept <= min(4.0, 0.5 * 2**attempt)


def test_client_errors_go_back_to_the_caller_unretried() -> None:
    sleeps: list[float] = []
    http = client(scripted(httpx.Response(400, json={"error": "bad"})), sleeps)
    assert http.post("x").status_code == 400
    assert sleeps == []


def test_exhausted_retries_raise_destination_unavailable_without_secrets() -> None:
    sleeps: list[float] = []
    http = client(scripted(*[httpx.Response(502)] * 3), sleeps, max_retries=2)
    with pytest.raises(DestinationUnavailable) as raised:
        http.post("https://user:pw@api.example.com/hook?api_key=SECRET")
    message = str(raised.value)
    assert "HTTP 502 after 3 attempt(s)" in message
    assert "https://api.example.com/hook" in message
    assert "SECRET" not in message and "pw" not in message


def test_a_retry_after_longer_than_allowed_gives_up_at_once() -> None:
    sleeps: list[float] = []
    http = client(
        scripted(httpx.Response(429, headers={"Retry-After": "900"})), sleeps, max_retry_after=60
    )
    with pytest.raises(DestinationUnavailable, match="Retry-After 900s, longer than"):
        http.post("x")
    assert sleeps == []


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("0.25") == 0.25
    assert retry_after_seconds(later, now=now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_rate_limiter_spaces_calls_evenly() -> None:
    clock = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert sleeps == [0.25, 0.25, 0.25, 0.25]
    RateLimiter(None).acquire()  # no limit: returns at once

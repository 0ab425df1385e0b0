"""The one HTTP client every HTTP destination uses.

Timeouts on every call; retries with exponential backoff and full jitter on 429
(honouring `Retry-After`), 408, 5xx, connection errors and timeouts; a per-destination
rate limiter. When retries run out it raises `DestinationUnavailable`; any other
response (2xx, and 4xx that concern the request itself) goes back to the caller, which
knows what the destination means by it.

Messages never include headers or query strings, where secrets live.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from onefold import __version__
from onefold.sync.destinations.base import DestinationUnavailable
from onefold.sync.ratelimit import RateLimiter

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class HttpSettings(BaseModel):
    """Delivery settings shared by HTTP destinations (a base for their settings models)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_second: float = Field(default=10.0, gt=0)
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    #: first backoff; doubles per retry up to max_backoff_seconds, with full jitter
    backoff_seconds: float = Field(default=0.5, ge=0)
    max_backoff_seconds: float = Field(default=30.0, ge=0)
    #: a `Retry-After` longer than this ends the run instead of stalling the scheduler
    max_retry_after_seconds: float = Field(default=300.0, ge=0)

    def client(self, base_url: str = "", headers: Mapping[str, str] | None = None) -> HttpClient:
        return HttpClient(
            base_url,
            requests_per_second=self.requests_per_second,
            timeout=self.timeout_seconds,
            max_retries=self.max_retries,
            backoff=self.backoff_seconds,
            max_backoff=self.max_backoff_seconds,
            max_retry_after=self.max_retry_after_seconds,
            headers=headers,
        )


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date (None when absent/unreadable).

    Fractional seconds are accepted too (some APIs send them).
    """
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


class HttpClient:
    """`HttpClient(base_url, requests_per_second=…).post(path, json=…)` -> httpx.Response.

    `path` may also be a full URL (a webhook's exact address: httpx would add a slash
    to a base URL).
    """

    def __init__(
        self,
        base_url: str = "",
        *,
        requests_per_second: float | None = None,
        timeout: float = 10.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 300.0,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.limiter = RateLimiter(requests_per_second, sleep=sleep)
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers={"User-Agent": f"onefold/{__version__}", **(headers or {})},
            transport=transport,
        )
        #: HTTP requests made, retries included (benchmarks and tests read it)
        self.requests_made = 0

    def backoff_delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_backoff, backoff * 2^attempt)]."""
        return random.uniform(0.0, min(self.max_backoff, self.backoff * 2**attempt))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with retries; return the first response that is not worth retrying."""
        for attempt in range(self.max_retries + 1):
            self.limiter.acquire()
            self.requests_made += 1
            try:
                response = self._client.request(
                    method, path, json=json, content=content, headers=headers
                )
            except httpx.TransportError as exc:  # timeouts, refused/reset connections
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                wait = self.backoff_delay(attempt)
            else:
                if response.status_code not in RETRYABLE_STATUS:
                    return response
                problem = f"HTTP {response.status_code}"
                asked = retry_after_seconds(response.headers.get("Retry-After"))
                if asked is not None and asked > self.max_retry_after:
                    raise DestinationUnavailable(
                        f"{method} {self._describe(path)}: {problem} with Retry-After "
                        f"{asked:.0f}s, longer than max_retry_after_seconds "
                        f"({self.max_retry_after:.0f}s); unsent records stay pending"
                    )
                wait = asked if asked is not None else self.backoff_delay(attempt)
            if attempt == self.max_retries:
                break
            self._sleep(wait)
        raise DestinationUnavailable(
            f"{method} {self._describe(path)}: {problem} "
            f"after {self.max_retries + 1} attempt(s); unsent records stay pending"
        )

    def post(
        self,
        path: str = "",
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        return self.request("POST", path, json=json, content=content, headers=headers)

    def _describe(self, path: str) -> str:
        """Scheme, host and path only: query strings may carry credentials."""
        url = httpx.URL(path)
        if url.is_relative_url:
            url = self._client.base_url.join(path)
        return str(url.copy_with(query=None, userinfo=b""))

    def close(self) -> None:
        self._client.close()

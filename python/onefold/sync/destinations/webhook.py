"""`webhook`: JSON batches POSTed to your own HTTP(S) endpoint.

Request body (UTF-8 JSON; the same batch is byte-identical when replayed):

```json
{"sync": "vip_webhook", "operation": "upsert", "idempotency_key": "…",
 "events": [{"id": "…", "type": "upsert", "key": "c_123", "payload": {"email_sha256": "…"}}]}
```

Event types: `upsert` (create or update), `insert` (append), `remove` (the record left
a mirror sync: customer left the segment or withdrew consent; `payload` is the last one
sent) and `delete` (erasure: delete everything about the person). Each event's `id`
names one change to one record: a replay after a crash carries the same id even when
the records are batched differently, so a receiver can also deduplicate per event.

Headers: `X-Onefold-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the
secret>`, `Idempotency-Key` (also in the body; a receiver should answer a key it has
seen with its first answer and apply nothing).

Responses: any 2xx acknowledges the batch. To refuse single records, answer 200 or 207
with `{"rejected": [{"key": "c_123", "error": "invalid email"}]}`: those are recorded
and retried next run, the rest are acknowledged. 400/413/422 refuse the whole batch:
Onefold splits it to isolate the bad records. 429, 408, 5xx, timeouts and connection
errors are retried with backoff. Other 4xx (401, 403, 404, …) stop the run: check the
URL and the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from pydantic import AnyHttpUrl, Field, SecretStr

from onefold.sync.destinations.base import (
    BatchRejected,
    BatchResult,
    DestinationUnavailable,
    Operation,
    Record,
    Rejection,
)
from onefold.sync.destinations.settings import parse_settings, secret_from_env
from onefold.sync.http import HttpClient, HttpSettings

SIGNATURE_HEADER = "X-Onefold-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_TYPES: dict[Operation, str] = {
    "upsert": "upsert",
    "insert": "insert",
    "remove": "remove",
    "erase": "delete",
}
# Refusals of the request's content: splitting the batch can isolate the culprit.
_BATCH_REFUSED = frozenset({400, 413, 422})


class WebhookSettings(HttpSettings):
    url: AnyHttpUrl
    #: name of the environment variable holding the HMAC secret
    secret_env: str = Field(min_length=1)
    batch_size: int = Field(default=500, ge=1, le=10_000)


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value a receiver recomputes to authenticate a request."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def event_id(sync_name: str, operation: Operation, record: Record, idempotency_key: str) -> str:
    """The engine's per-record change id; for records built elsewhere, one derived from
    the batch's key (stable when the same batch is replayed)."""
    if record.event_id:
        return record.event_id
    text = f"{sync_name}\n{operation}\n{record.key}\n{idempotency_key}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class WebhookDestination:
    def __init__(
        self, sync_name: str, settings: WebhookSettings, secret: SecretStr, client: HttpClient
    ) -> None:
        self.sync_name = sync_name
        self.url = str(settings.url)
        self.max_batch_size = settings.batch_size
        self.requests_per_second = settings.requests_per_second
        self._secret = secret
        self.client = client

    def send(
        self, operation: Operation, records: Sequence[Record], idempotency_key: str
    ) -> BatchResult:
        body = json.dumps(
            {
                "sync": self.sync_name,
                "operation": operation,
                "idempotency_key": idempotency_key,
                "events": [
                    {
                        "id": event_id(self.sync_name, operation, record, idempotency_key),
                        "type": EVENT_TYPES[operation],
                        "key": record.key,
                        "payload": dict(record.payload),
                    }
                    for record in records
                ],
            },
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        ).encode()
        response = self.client.post(
            self.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self._secret.get_secret_value().encode(), body),
                IDEMPOTENCY_HEADER: idempotency_key,
            },
        )
        return self._read(response, {record.key for record in records})

    def _read(self, response: httpx.Response, keys: set[str]) -> BatchResult:
        status = response.status_code
        if 200 <= status < 300:
            return BatchResult(rejected=_rejections(response, keys))
        detail = response.text[:300].strip()
        if status in _BATCH_REFUSED:
            raise BatchRejected(f"HTTP {status}: {detail or response.reason_phrase}")
        raise DestinationUnavailable(
            f"webhook answered HTTP {status} ({response.reason_phrase}): check the url and "
            "the secret; unsent records stay pending"
        )

    def close(self) -> None:
        self.client.close()


def _rejections(response: httpx.Response, keys: set[str]) -> list[Rejection]:
    """Per-record refusals from a 2xx body; records not listed were acknowledged."""
    if not response.content:
        return []
    try:
        document: Any = response.json()
    except ValueError:
        return []
    entries = document.get("rejected") if isinstance(document, Mapping) else None
    rejections = []
    for entry in entries or []:
        if isinstance(entry, Mapping) and str(entry.get("key")) in keys:
            error = str(entry.get("error") or "rejected by the webhook")[:500]
            rejections.append(Rejection(key=str(entry["key"]), error=error))
    return rejections


def create(sync_name: str, settings: Mapping[str, Any]) -> WebhookDestination:
    """The registry's factory for `type: webhook`."""
    parsed = parse_settings(WebhookSettings, sync_name, settings)
    secret = secret_from_env(sync_name, "secret_env", parsed.secret_env)
    return WebhookDestination(sync_name, parsed, secret, parsed.client())

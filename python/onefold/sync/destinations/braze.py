"""`braze` destination: user profiles through Braze's REST API.

- upsert / insert -> `POST /users/track`: one attributes object per record, keyed by
  `external_id` = the record's key, the payload's fields as attributes, and
  `membership_attribute` (when set) = true.
- remove -> `POST /users/track`: `membership_attribute` = false with
  `_update_existing_only` (taking someone out of an audience never creates a profile).
  The profile and its other attributes stay; segments in Braze filter on the attribute.
- erase -> `POST /users/delete` with `external_ids`, Braze's documented deletion.

Braze's documented limits (https://www.braze.com/docs/api/api_limits, checked 2026):
`/users/track` takes 75 attributes objects per request and 3,000 requests per 3 seconds
per workspace; `/users/delete` takes 50 ids per request and shares 20,000 requests per
minute with the alias/identify/merge endpoints
(https://www.braze.com/docs/api/endpoints/user_data/post_user_delete). Per-record
problems come back as non-fatal errors in a 201 response, each naming its index in the
`attributes` array (https://www.braze.com/docs/api/endpoints/user_data/post_user_track);
when no object is valid the response is a 400 with the same indexed errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx
from pydantic import Field, SecretStr, field_validator

from onefold.errors import ConfigError
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

TRACK_PATH = "/users/track"
DELETE_PATH = "/users/delete"
ATTRIBUTES_PER_REQUEST = 75
IDS_PER_DELETE_REQUEST = 50
TRACK_REQUESTS_PER_SECOND = 3000 / 3
DELETE_REQUESTS_PER_SECOND = 20_000 / 60
RESERVED_ATTRIBUTES = ("external_id", "_update_existing_only", "braze_id", "user_alias")


class BrazeSettings(HttpSettings):
    rest_endpoint: str = Field(
        description="Your instance's REST endpoint, e.g. https://rest.iad-01.braze.com"
    )
    api_key_env: str = Field(
        description="Name of the environment variable holding a REST API key with the "
        "users.track (and, for erasure, users.delete) permission."
    )
    membership_attribute: str | None = Field(
        default=None,
        description="Custom boolean attribute set true while the record is in the synced "
        "model or segment and false when it leaves (needed for mirror mode).",
    )
    update_existing_only: bool = Field(
        default=False, description="Only update profiles that already exist in Braze."
    )
    attributes_per_request: int = Field(default=ATTRIBUTES_PER_REQUEST, ge=1, le=75)
    requests_per_second: float = Field(default=TRACK_REQUESTS_PER_SECOND, gt=0)
    delete_requests_per_second: float = Field(default=DELETE_REQUESTS_PER_SECOND, gt=0)

    @field_validator("rest_endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be the REST endpoint URL, e.g. https://rest.iad-01.braze.com")
        return value.rstrip("/")

    @field_validator("membership_attribute")
    @classmethod
    def _attribute_name(cls, value: str | None) -> str | None:
        if value is not None and (
            not value or value.startswith("$") or value in RESERVED_ATTRIBUTES
        ):
            raise ValueError("must be a custom attribute name (not empty, no leading '$')")
        return value


def _braze_value(value: Any) -> Any:
    """JSON Braze accepts: exact decimals as numbers, times as ISO 8601 strings."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(name): _braze_value(item) for name, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_braze_value(item) for item in value]
    return value


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class BrazeDestination:
    """Sends batches to one Braze workspace; see the module docstring."""

    def __init__(self, sync_name: str, settings: BrazeSettings, api_key: SecretStr) -> None:
        self.sync_name = sync_name
        self.settings = settings
        self.max_batch_size = settings.attributes_per_request
        self.requests_per_second = settings.requests_per_second
        headers = {"Authorization": f"Bearer {api_key.get_secret_value()}"}
        self._track = settings.client(settings.rest_endpoint, headers)
        delete_settings = settings.model_copy(
            update={"requests_per_second": settings.delete_requests_per_second}
        )
        self._delete = delete_settings.client(settings.rest_endpoint, headers)

    @property
    def clients(self) -> tuple[HttpClient, HttpClient]:
        """The `/users/track` and `/users/delete` clients (tests count their requests)."""
        return self._track, self._delete

    # -- the Destination interface ------------------------------------------------------

    def send(
        self, operation: Operation, records: Sequence[Record], idempotency_key: str
    ) -> BatchResult:
        # Braze has no idempotency key: upserts and deletes are naturally idempotent.
        if operation == "erase":
            for chunk in _chunks(records, IDS_PER_DELETE_REQUEST):
                self._delete_users([record.key for record in chunk])
            return BatchResult()
        if operation == "remove" and self.settings.membership_attribute is None:
            raise ConfigError(
                f"sync '{self.sync_name}': destination.membership_attribute: required for "
                "mirror mode, which takes records out of the audience by setting it false"
            )
        rejected: list[Rejection] = []
        for chunk in _chunks(records, self.settings.attributes_per_request):
            rejected += self._track_users(operation, chunk)
        return BatchResult(rejected=rejected)

    def close(self) -> None:
        self._track.close()
        self._delete.close()

    # -- /users/track --------------------------------------------------------------------

    def _attributes_object(self, operation: Operation, record: Record) -> dict[str, Any]:
        membership = self.settings.membership_attribute
        attributes: dict[str, Any] = {"external_id": record.key}
        if operation == "remove":
            assert membership is not None
            attributes[membership] = False
            attributes["_update_existing_only"] = True
            return attributes
        attributes.update({name: _braze_value(value) for name, value in record.payload.items()})
        if membership is not None:
            attributes[membership] = True
        if self.settings.update_existing_only:
            attributes["_update_existing_only"] = True
        return attributes

    def _payload_problem(self, operation: Operation, record: Record) -> str | None:
        if operation == "remove":
            return None
        reserved = (*RESERVED_ATTRIBUTES, self.settings.membership_attribute)
        clash = next((name for name in record.payload if name in reserved), None)
        if clash is not None:
            return (
                f"payload field {clash!r} clashes with an attribute Onefold sets; "
                "rename it in the sync's mapping"
            )
        return None

    def _track_users(self, operation: Operation, records: Sequence[Record]) -> list[Rejection]:
        rejected: list[Rejection] = []
        sent: list[Record] = []
        for record in records:
            problem = self._payload_problem(operation, record)
            if problem is None:
                sent.append(record)
            else:
                rejected.append(Rejection(record.key, problem))
        if not sent:
            return rejected
        body = {"attributes": [self._attributes_object(operation, record) for record in sent]}
        response = self._track.post(TRACK_PATH, json=body)
        self._raise_for_account_problems(response, TRACK_PATH)
        details = _json_body(response)
        errors = details.get("errors") or []
        indexed: dict[int, str] = {}
        unplaced: list[str] = []
        for error in errors:
            index = error.get("index") if isinstance(error, dict) else None
            in_attributes = isinstance(error, dict) and error.get("input_array") == "attributes"
            if in_attributes and isinstance(index, int) and 0 <= index < len(sent):
                indexed[index] = str(error.get("type") or "invalid attributes object")
            else:
                unplaced.append(str(error))
        message = str(details.get("message") or f"HTTP {response.status_code}")
        if response.is_success and not unplaced:
            return rejected + [Rejection(sent[i].key, reason) for i, reason in indexed.items()]
        if response.status_code == 400 and not unplaced and len(indexed) == len(sent):
            # Every object was invalid: Braze says which, so no need to split the batch.
            return rejected + [Rejection(sent[i].key, reason) for i, reason in indexed.items()]
        raise BatchRejected(
            f"sync '{self.sync_name}': Braze {TRACK_PATH} answered HTTP "
            f"{response.status_code}: {message}"
            + (f"; errors: {'; '.join(unplaced)}" if unplaced else "")
        )

    # -- /users/delete -------------------------------------------------------------------

    def _delete_users(self, external_ids: list[str]) -> None:
        response = self._delete.post(DELETE_PATH, json={"external_ids": external_ids})
        self._raise_for_account_problems(response, DELETE_PATH)
        if not response.is_success:
            message = _json_body(response).get("message") or f"HTTP {response.status_code}"
            raise BatchRejected(
                f"sync '{self.sync_name}': Braze {DELETE_PATH} answered HTTP "
                f"{response.status_code}: {message}"
            )

    def _raise_for_account_problems(self, response: httpx.Response, path: str) -> None:
        """Answers no batch split can fix: stop sending, keep the records pending."""
        status = response.status_code
        if status in (401, 403):
            permission = "users.delete" if path == DELETE_PATH else "users.track"
            raise DestinationUnavailable(
                f"sync '{self.sync_name}': Braze refused the API key from "
                f"${self.settings.api_key_env} (HTTP {status}) on {path}: check the key, "
                f"its {permission} permission and its IP allowlist"
            )
        if status == 404:
            raise DestinationUnavailable(
                f"sync '{self.sync_name}': Braze has no {path} at "
                f"{self.settings.rest_endpoint} (HTTP 404): check destination.rest_endpoint "
                "against your instance's REST endpoint"
            )


def create_destination(sync_name: str, settings: Mapping[str, Any]) -> BrazeDestination:
    """Registry factory for `type: braze`."""
    parsed = parse_settings(BrazeSettings, sync_name, settings)
    api_key = secret_from_env(sync_name, "api_key_env", parsed.api_key_env)
    return BrazeDestination(sync_name, parsed, api_key)

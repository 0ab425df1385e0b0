"""A local stand-in for Braze's REST API: `/users/track` and `/users/delete`.

It enforces what Braze documents and the destination must respect: the
`Authorization: Bearer <key>` header, 75 attribute objects per `/users/track` request,
50 ids per `/users/delete` request, and a request rate limit answered with 429 and
`Retry-After` (its window is configurable so tests run fast). Invalid attribute objects
come back as non-fatal errors in a 201 response, indexed into the request's
`attributes` array; a request with no valid object is a 400 carrying the same errors.
User profiles are kept in memory so tests can assert the end state.

    with FakeBraze(api_key="k", rate_limit_requests=5, rate_limit_window_seconds=0.2) as braze:
        ... destination at braze.url ...
        assert braze.users["c1"]["vip"] is True
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

TRACK_PATH = "/users/track"
DELETE_PATH = "/users/delete"
#: Braze's documented batch limits (https://www.braze.com/docs/api/api_limits).
ATTRIBUTES_PER_REQUEST = 75
IDS_PER_DELETE_REQUEST = 50
DELETE_IDENTIFIER_FIELDS = (
    "external_ids",
    "user_aliases",
    "braze_ids",
    "email_addresses",
    "phone_numbers",
)
NO_VALID_DATA = "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_STRING_LENGTH = 255


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    status: int
    body: Any


@dataclass
class InjectedFailure:
    status: int
    body: Mapping[str, Any]
    retry_after: str | None


@dataclass
class _Window:
    started_at: float = 0.0
    count: int = 0


@dataclass
class FakeBraze:
    api_key: str = "fake-braze-key"
    rate_limit_requests: int = 3000
    rate_limit_window_seconds: float = 3.0
    attributes_per_request: int = ATTRIBUTES_PER_REQUEST
    ids_per_delete_request: int = IDS_PER_DELETE_REQUEST
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    _failures: list[InjectedFailure] = field(default_factory=list)
    _windows: dict[str, _Window] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _FakeBrazeServer | None = None
    _thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeBraze:
        self._server = _FakeBrazeServer(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FakeBraze:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeBraze is not running: call start() or use it as a context")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- test controls -------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        body: Mapping[str, Any] | None = None,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next `times` authorized requests with `status` (e.g. 500, 400)."""
        with self._lock:
            self._failures.extend(
                InjectedFailure(status, body or {"message": f"injected {status}"}, retry_after)
                for _ in range(times)
            )

    def statuses(self, path: str | None = None) -> list[int]:
        with self._lock:
            return [r.status for r in self.requests if path is None or r.path == path]

    # -- request handling (called from the server's threads) -----------------------------

    def handle(
        self, path: str, authorization: str | None, raw_body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            status, body, headers = self._handle_locked(path, authorization, raw_body)
            try:
                recorded: Any = json.loads(raw_body) if raw_body else None
            except ValueError:
                recorded = raw_body.decode("utf-8", "replace")
            self.requests.append(RecordedRequest(path, status, recorded))
            return status, body, headers

    def _handle_locked(
        self, path: str, authorization: str | None, raw_body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if path not in (TRACK_PATH, DELETE_PATH):
            return 404, {"message": f"no endpoint {path}"}, {}
        if authorization != f"Bearer {self.api_key}":
            return 401, {"message": "Invalid API key"}, {}
        limited = self._rate_limit(path)
        if limited is not None:
            return limited
        if self._failures:
            failure = self._failures.pop(0)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return failure.status, dict(failure.body), headers
        try:
            body = json.loads(raw_body)
        except ValueError:
            return 400, {"message": "Invalid JSON in request body"}, {}
        if not isinstance(body, dict):
            return 400, {"message": "The request body must be a JSON object"}, {}
        if path == TRACK_PATH:
            status, response = self._track(body)
        else:
            status, response = self._delete(body)
        return status, response, {}

    def _rate_limit(self, path: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        now = time.monotonic()
        window = self._windows.setdefault(path, _Window(started_at=now))
        if now - window.started_at >= self.rate_limit_window_seconds:
            window.started_at, window.count = now, 0
        if window.count < self.rate_limit_requests:
            window.count += 1
            return None
        wait = window.started_at + self.rate_limit_window_seconds - now
        headers = {
            "Retry-After": f"{max(wait, 0.001):.3f}",
            "X-RateLimit-Limit": str(self.rate_limit_requests),
            "X-RateLimit-Remaining": "0",
        }
        return 429, {"message": "API rate limit exceeded"}, headers

    def _track(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        attributes = body.get("attributes")
        if not isinstance(attributes, list) or not attributes:
            return 400, {"message": NO_VALID_DATA}
        if len(attributes) > self.attributes_per_request:
            return 400, {
                "message": f"Too many attributes objects: {len(attributes)} "
                f"(at most {self.attributes_per_request} per request)"
            }
        errors = []
        processed = 0
        for index, attribute_object in enumerate(attributes):
            problem = _attribute_object_problem(attribute_object)
            if problem is not None:
                errors.append({"type": problem, "input_array": "attributes", "index": index})
                continue
            processed += 1
            self._apply_attributes(attribute_object)
        if processed == 0:
            return 400, {"message": NO_VALID_DATA, "errors": errors}
        response: dict[str, Any] = {"message": "success", "attributes_processed": processed}
        if errors:
            response["errors"] = errors
        return 201, response

    def _apply_attributes(self, attribute_object: Mapping[str, Any]) -> None:
        external_id = attribute_object["external_id"]
        if attribute_object.get("_update_existing_only") and external_id not in self.users:
            return
        profile = self.users.setdefault(external_id, {})
        for name, value in attribute_object.items():
            if name in ("external_id", "_update_existing_only"):
                continue
            if value is None:
                profile.pop(name, None)
            else:
                profile[name] = value

    def _delete(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        given = [name for name in DELETE_IDENTIFIER_FIELDS if name in body]
        if len(given) != 1:
            return 400, {"message": f"Provide exactly one of {', '.join(DELETE_IDENTIFIER_FIELDS)}"}
        if given != ["external_ids"]:
            return 400, {"message": "This fake only deletes by external_ids"}
        external_ids = body["external_ids"]
        if not isinstance(external_ids, list) or not all(isinstance(i, str) for i in external_ids):
            return 400, {"message": "external_ids must be an array of strings"}
        if len(external_ids) > self.ids_per_delete_request:
            return 400, {
                "message": f"Too many external_ids: {len(external_ids)} "
                f"(at most {self.ids_per_delete_request} per request)"
            }
        for external_id in external_ids:
            self.users.pop(external_id, None)
        return 201, {"message": "success", "deleted": len(external_ids)}


def _attribute_object_problem(attribute_object: Any) -> str | None:
    """Braze's non-fatal error text for an invalid attributes object, or None."""
    if not isinstance(attribute_object, dict):
        return "Attributes object must be a JSON object"
    external_id = attribute_object.get("external_id")
    if not isinstance(external_id, str) or not external_id:
        return "'external_id' or 'braze_id' or 'user_alias' is required"
    email = attribute_object.get("email")
    if email is not None and (not isinstance(email, str) or not _EMAIL.fullmatch(email)):
        return "The value provided for the 'email' field is not a valid email."
    for name, value in attribute_object.items():
        if name.startswith("$"):
            return f"'{name}' is not a valid attribute name"
        if isinstance(value, str) and len(value) > _MAX_STRING_LENGTH:
            return f"The value provided for '{name}' is longer than {_MAX_STRING_LENGTH} characters"
    return None


class _FakeBrazeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeBraze
    ) -> None:
        super().__init__(address, handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length)
        fake = cast(_FakeBrazeServer, self.server).fake
        status, body, headers = fake.handle(self.path, self.headers.get("Authorization"), raw_body)
        encoded = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeBraze.requests` instead of stderr."""

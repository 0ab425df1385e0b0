"""A real HTTP webhook receiver on a free loopback port, with scriptable faults.

It behaves like a well-written receiver of Onefold's `webhook` destination: it checks
the HMAC signature, answers a replayed `Idempotency-Key` with its first answer without
applying anything, skips events whose `id` it already applied (unless `dedupe_events`
is off: then the header is its only defence), and keeps the current record state
(`records`: key -> payload).
Tests script faults on it: 429 storms with `Retry-After`, 5xx, slow answers (client
timeouts after the batch was applied), per-record rejections (207) and batches refused
with 400 when they contain a poisoned key.

    with webhook_server(secret="s3cret") as hook:
        ...  # point a sync at hook.url
        assert hook.records == expected

`python -m onefold.testing.webhook_server --port 8765` runs one in the foreground;
`GET /_stats` returns its counters as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SIGNATURE_HEADER = "X-Onefold-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass
class _Fault:
    status: int
    retry_after: str | None


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    #: seconds to wait before answering
    wait: float = 0.0
    #: wait for `WebhookReceiver.release()` before answering
    hold: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WebhookReceiver:
    """The receiver's state and fault script; every access holds `lock`."""

    secret: bytes
    #: where to POST (set when the server starts)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: current records: key -> last payload (upsert/insert set, remove/delete drop)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: how many times each key was applied by an `insert` event
    inserts: Counter[str] = field(default_factory=Counter)
    #: keys a `delete` (erasure) event was applied to
    deleted: list[str] = field(default_factory=list)
    #: HTTP requests received (POSTs, faults and replays included)
    requests: int = 0
    #: batches applied (replays not counted)
    batches_applied: int = 0
    #: requests answered from the idempotency store
    replays: int = 0
    #: events skipped because an event with the same id was applied before
    duplicate_events: int = 0
    #: events applied, in order: (type, key)
    events: list[tuple[str, str]] = field(default_factory=list)
    _answers: dict[str, Answer] = field(default_factory=dict)
    _applied_event_ids: set[str] = field(default_factory=set)
    _faults: list[_Fault] = field(default_factory=list)
    _slow: list[float] = field(default_factory=list)
    delay_seconds: float = 0.0
    #: also skip events whose `id` was applied before; False: deduplicate on the
    #: `Idempotency-Key` header only, as many receivers do
    dedupe_events: bool = True
    rejected_keys: dict[str, str] = field(default_factory=dict)
    poisoned_keys: set[str] = field(default_factory=set)
    #: set while an applied batch's answer is held back (see `hold_after`)
    held: threading.Event = field(default_factory=threading.Event)
    _hold_at: int | None = None
    _release: threading.Event = field(default_factory=threading.Event)

    # -- fault script -----------------------------------------------------------------

    def fail_next(self, count: int, status: int = 500, retry_after: str | None = None) -> None:
        """Answer the next `count` POSTs with `status` (429 with `retry_after`, 5xx)."""
        with self.lock:
            self._faults += [_Fault(status, retry_after) for _ in range(count)]

    def slow_next(self, count: int, seconds: float) -> None:
        """Apply the next `count` batches, then wait `seconds` before answering (a client
        with a shorter timeout gives up and retries the applied batch)."""
        with self.lock:
            self._slow += [seconds] * count

    def delay_every_request(self, seconds: float) -> None:
        with self.lock:
            self.delay_seconds = seconds

    def reject(self, keys: Iterable[str], error: str = "invalid record") -> None:
        """Refuse these records individually (207 with `rejected`), applying the rest."""
        with self.lock:
            self.rejected_keys.update(dict.fromkeys(keys, error))

    def poison(self, keys: Iterable[str]) -> None:
        """Refuse any batch containing one of these keys as a whole (HTTP 400)."""
        with self.lock:
            self.poisoned_keys.update(keys)

    def hold_after(self, batches: int) -> None:
        """Apply the `batches`-th batch, then hold its answer until `release()`: the
        moment to kill a client (the batch is applied, the client never hears so)."""
        with self.lock:
            self._hold_at = batches
            self._release.clear()
            self.held.clear()

    def release(self) -> None:
        self._release.set()

    def wait_for_release(self, timeout: float) -> None:
        self.held.set()
        self._release.wait(timeout)

    def heal(self) -> None:
        """Drop every scripted fault."""
        with self.lock:
            self._faults.clear()
            self._slow.clear()
            self.delay_seconds = 0.0
            self.rejected_keys.clear()
            self.poisoned_keys.clear()

    # -- request handling ---------------------------------------------------------------

    def handle(self, body: bytes, signature: str | None, key: str | None) -> Answer:
        with self.lock:
            self.requests += 1
            expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            if signature is None or not hmac.compare_digest(signature, expected):
                return Answer(401, b'{"error":"bad signature"}')
            if self._faults:
                fault = self._faults.pop(0)
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return Answer(fault.status, b'{"error":"scripted fault"}', headers=headers)
            if key and key in self._answers:
                self.replays += 1
                first = self._answers[key]
                return Answer(first.status, first.body, self.delay_seconds)
            events = json.loads(body)["events"]
            if any(event["key"] in self.poisoned_keys for event in events):
                return Answer(400, b'{"error":"batch contains an invalid record"}')
            rejected = []
            for event in events:
                if event["key"] in self.rejected_keys:
                    rejected.append(
                        {"key": event["key"], "error": self.rejected_keys[event["key"]]}
                    )
                    continue
                self._apply(event)
            self.batches_applied += 1
            answer = Answer(207 if rejected else 200, json.dumps({"rejected": rejected}).encode())
            if key:
                self._answers[key] = answer
            wait = self.delay_seconds + (self._slow.pop(0) if self._slow else 0.0)
            hold = self.batches_applied == self._hold_at
            return Answer(answer.status, answer.body, wait, hold=hold)

    def _apply(self, event: dict[str, Any]) -> None:
        kind, key = event["type"], event["key"]
        identifier = event.get("id")
        if identifier and self.dedupe_events:
            if identifier in self._applied_event_ids:
                self.duplicate_events += 1
                return
            self._applied_event_ids.add(identifier)
        self.events.append((kind, key))
        if kind in ("upsert", "insert"):
            self.records[key] = event["payload"]
            if kind == "insert":
                self.inserts[key] += 1
        elif kind in ("remove", "delete"):
            self.records.pop(key, None)
            if kind == "delete":
                self.deleted.append(key)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "batches_applied": self.batches_applied,
                "replays": self.replays,
                "duplicate_events": self.duplicate_events,
                "records": len(self.records),
                "duplicate_inserts": sum(n - 1 for n in self.inserts.values() if n > 1),
            }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        answer = self.server.receiver.handle(
            body, self.headers.get(SIGNATURE_HEADER), self.headers.get(IDEMPOTENCY_HEADER)
        )
        if answer.wait:
            time.sleep(answer.wait)
        if answer.hold:
            self.server.receiver.wait_for_release(timeout=30)
        self._send(answer)

    def do_GET(self) -> None:
        if self.path != "/_stats":
            self._send(Answer(404, b'{"error":"not found"}'))
            return
        self._send(Answer(200, json.dumps(self.server.receiver.stats()).encode()))

    def _send(self, answer: Answer) -> None:
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: WebhookReceiver, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.receiver = receiver


@contextmanager
def webhook_server(secret: str, port: int = 0) -> Iterator[WebhookReceiver]:
    """Serve a receiver on 127.0.0.1 (a free port unless given); yields the receiver,
    whose `url` attribute is set."""
    receiver = WebhookReceiver(secret=secret.encode())
    server = _Server(receiver, port)
    # A short poll interval makes shutdown quick (the default waits up to 0.5 s).
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="webhook-server", daemon=True
    )
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/onefold"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--secret", default="onefold-local-secret")
    arguments = parser.parse_args()
    with webhook_server(arguments.secret, arguments.port) as receiver:
        print(f"listening on {receiver.url}", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()

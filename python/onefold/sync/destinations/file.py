"""`file` destination: one CSV or JSON Lines file per batch in a directory.

Every batch becomes `<sequence>-<operation>-<idempotency key>.<csv|jsonl>`, written to a
temporary file, flushed to disk and renamed into place, so a reader never sees half a
file and a crash leaves either the whole batch or none of it. A batch whose file already
exists is a replay and is not written again. Applying the files in name order gives the
current state (see docs: "file destination").

Formats:
- `csv`, `jsonl`: every row carries `op` (upsert, insert, remove, erase) and `key`;
  upsert/insert rows carry the payload, remove/erase rows only the key.
- `google_customer_match`, `meta_custom_audience`: the platform's upload template, with
  identifiers normalized and hashed by `onefold.sync.identifiers`. Upsert/insert files
  are lists to add, remove/erase files lists to remove. A `<file>.keys.jsonl` sidecar
  (never uploaded) records which sync key each row came from, so a later remove or
  erase can name the identifiers that were exported for a key.

`erase` also scrubs the erased keys' rows out of every earlier file.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onefold.sync.destinations.base import (
    OPERATIONS,
    BatchResult,
    DestinationUnavailable,
    Operation,
    Record,
    Rejection,
)
from onefold.sync.destinations.settings import parse_settings
from onefold.sync.identifiers import (
    GOOGLE_CUSTOMER_MATCH_COLUMNS,
    META_CUSTOM_AUDIENCE_COLUMNS,
    google_customer_match_row,
    meta_custom_audience_row,
)

FileFormat = Literal["csv", "jsonl", "google_customer_match", "meta_custom_audience"]
AUDIENCE_FORMATS: frozenset[str] = frozenset({"google_customer_match", "meta_custom_audience"})
RESERVED_COLUMNS = ("op", "key")
KEYS_SUFFIX = ".keys.jsonl"
_BATCH_FILE = re.compile(r"(\d{8})-(upsert|insert|remove|erase)-(.+)\.(csv|jsonl)")
_SAFE_TOKEN = re.compile(r"[A-Za-z0-9_.=-]{1,96}")


class FileSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path = Field(description="Directory the batch files go to (created if missing).")
    format: FileFormat = "csv"
    default_phone_region: str | None = Field(
        default=None,
        description="ISO 3166-1 alpha-2 region for phone numbers without a country code "
        "when the record has no country_code (audience formats only).",
    )
    batch_size: int = Field(default=10_000, ge=1, le=1_000_000)

    @field_validator("default_phone_region")
    @classmethod
    def _two_letters(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError("must be an ISO 3166-1 alpha-2 code such as 'US' or 'GB'")
        return value.upper() if value else None


@dataclass(frozen=True)
class BatchFile:
    sequence: int
    operation: Operation
    token: str
    path: Path

    @property
    def keys_path(self) -> Path:
        return self.path.with_name(self.path.name + KEYS_SUFFIX)


@dataclass(frozen=True)
class KeyedRow:
    """One row of a batch file and the sync key it belongs to."""

    key: str
    row: dict[str, Any]


def _token(idempotency_key: str) -> str:
    if _SAFE_TOKEN.fullmatch(idempotency_key):
        return idempotency_key
    return "h" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=True)
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Money stays exact as text rather than becoming a binary float.
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomically(path: Path, content: str) -> None:
    """Temp file in the same directory, fsync, rename: the file appears whole or not at all."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _csv_text(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: _as_text(row.get(column)) for column in columns})
    return buffer.getvalue()


def _jsonl_text(rows: Sequence[Mapping[str, Any]]) -> str:
    return "".join(
        json.dumps(row, default=_json_default, ensure_ascii=False) + "\n" for row in rows
    )


class FileDestination:
    """Writes each batch as one file; see the module docstring for the layout."""

    requests_per_second = 1000.0

    def __init__(self, sync_name: str, settings: FileSettings) -> None:
        self.sync_name = sync_name
        self.settings = settings
        self.max_batch_size = settings.batch_size
        self.directory = settings.path
        self.extension = "jsonl" if settings.format == "jsonl" else "csv"
        self._audience_row: Callable[[Mapping[str, Any]], dict[str, str] | None] | None = None
        self._audience_columns: tuple[str, ...] = ()
        if settings.format == "google_customer_match":
            self._audience_columns = GOOGLE_CUSTOMER_MATCH_COLUMNS
            self._audience_row = lambda payload: google_customer_match_row(
                payload, settings.default_phone_region
            )
        elif settings.format == "meta_custom_audience":
            self._audience_columns = META_CUSTOM_AUDIENCE_COLUMNS
            self._audience_row = lambda payload: meta_custom_audience_row(
                payload, settings.default_phone_region
            )

    # -- the Destination interface ------------------------------------------------------

    def send(
        self, operation: Operation, records: Sequence[Record], idempotency_key: str
    ) -> BatchResult:
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._exclusive_lock():
                return self._send_locked(operation, records, idempotency_key)
        except OSError as error:
            raise DestinationUnavailable(
                f"sync '{self.sync_name}': cannot write to {self.directory}: {error.strerror}"
            ) from error

    def close(self) -> None:
        """Nothing stays open between batches."""

    # -- reading what was written (also used by consumers' tests) -----------------------

    def batch_files(self) -> list[BatchFile]:
        """The directory's batch files in the order they were written."""
        if not self.directory.exists():
            return []
        found = []
        for path in self.directory.iterdir():
            match = _BATCH_FILE.fullmatch(path.name)
            if match and match.group(4) == self.extension and not path.name.endswith(KEYS_SUFFIX):
                operation = cast(Operation, match.group(2))
                found.append(BatchFile(int(match.group(1)), operation, match.group(3), path))
        return sorted(found, key=lambda batch: batch.sequence)

    def read_rows(self, batch: BatchFile) -> list[KeyedRow]:
        """The rows of one batch file with their sync keys."""
        if self._audience_row is not None:
            return [
                KeyedRow(entry["key"], entry["row"])
                for entry in map(json.loads, batch.keys_path.read_text("utf-8").splitlines())
            ]
        if self.extension == "jsonl":
            rows = [json.loads(line) for line in batch.path.read_text("utf-8").splitlines()]
        else:
            with batch.path.open(encoding="utf-8", newline="") as stream:
                rows = list(csv.DictReader(stream))
        return [KeyedRow(str(row["key"]), row) for row in rows]

    # -- internals -----------------------------------------------------------------------

    @contextmanager
    def _exclusive_lock(self) -> Iterator[None]:
        # Two runs of one sync must not number batches concurrently.
        with (self.directory / ".onefold.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _send_locked(
        self, operation: Operation, records: Sequence[Record], idempotency_key: str
    ) -> BatchResult:
        token = _token(idempotency_key)
        existing = self.batch_files()
        replayed = any(batch.token == token for batch in existing)
        erased_keys = {record.key for record in records} if operation == "erase" else set()

        rows, rejected = self._rows(operation, records, existing, replayed)
        if not replayed:
            sequence = existing[-1].sequence + 1 if existing else 1
            path = self.directory / f"{sequence:08d}-{operation}-{token}.{self.extension}"
            self._write_batch(BatchFile(sequence, operation, token, path), rows)
        if erased_keys:
            # Also on a replay: a crash may have come between the erase file and the scrub.
            self._scrub(erased_keys)
        return BatchResult(rejected=rejected)

    def _rows(
        self,
        operation: Operation,
        records: Sequence[Record],
        existing: Sequence[BatchFile],
        replayed: bool,
    ) -> tuple[list[KeyedRow], list[Rejection]]:
        if self._audience_row is None:
            return self._plain_rows(operation, records)
        if operation in ("upsert", "insert"):
            return self._audience_rows_to_add(records)
        if replayed:
            return [], []
        return self._audience_rows_to_remove(records, existing), []

    def _plain_rows(
        self, operation: Operation, records: Sequence[Record]
    ) -> tuple[list[KeyedRow], list[Rejection]]:
        rows: list[KeyedRow] = []
        rejected: list[Rejection] = []
        for record in records:
            if operation in ("remove", "erase"):
                rows.append(KeyedRow(record.key, {"op": operation, "key": record.key}))
                continue
            clashes = [name for name in RESERVED_COLUMNS if name in record.payload]
            if clashes and self.extension == "csv":
                rejected.append(
                    Rejection(
                        record.key,
                        f"payload field {clashes[0]!r} clashes with the file's own column; "
                        "rename it in the sync's mapping",
                    )
                )
                continue
            if self.extension == "csv":
                row = {"op": operation, "key": record.key, **record.payload}
            else:
                row = {"op": operation, "key": record.key, "payload": dict(record.payload)}
            rows.append(KeyedRow(record.key, row))
        return rows, rejected

    def _audience_rows_to_add(
        self, records: Sequence[Record]
    ) -> tuple[list[KeyedRow], list[Rejection]]:
        assert self._audience_row is not None
        rows: list[KeyedRow] = []
        rejected: list[Rejection] = []
        for record in records:
            row = self._audience_row(record.payload)
            if row is None:
                rejected.append(Rejection(record.key, self._no_identifier_message()))
            else:
                rows.append(KeyedRow(record.key, row))
        return rows, rejected

    def _audience_rows_to_remove(
        self, records: Sequence[Record], existing: Sequence[BatchFile]
    ) -> list[KeyedRow]:
        """Every distinct row exported for each key (the platform holds all of them),
        plus the identifiers the record itself carries."""
        assert self._audience_row is not None
        wanted = {record.key for record in records}
        exported: dict[str, list[dict[str, Any]]] = {key: [] for key in wanted}
        for batch in existing:
            if batch.operation in ("upsert", "insert"):
                for keyed in self.read_rows(batch):
                    if keyed.key in wanted:
                        exported[keyed.key].append(keyed.row)
        rows: list[KeyedRow] = []
        for record in records:
            candidates = list(exported[record.key])
            own_row = self._audience_row(record.payload)
            if own_row is not None:
                candidates.append(own_row)
            seen: set[tuple[tuple[str, Any], ...]] = set()
            for row in candidates:
                fingerprint = tuple(sorted(row.items()))
                if fingerprint not in seen:
                    seen.add(fingerprint)
                    rows.append(KeyedRow(record.key, row))
        return rows

    def _no_identifier_message(self) -> str:
        if self.settings.format == "google_customer_match":
            needed = "email, phone, or first_name + last_name + country_code + postcode"
        else:
            needed = "email, phone, or first_name + last_name"
        return f"no identifier {self.settings.format} can match on: the record needs {needed}"

    def _write_batch(self, batch: BatchFile, rows: Sequence[KeyedRow]) -> None:
        if self._audience_row is not None:
            # The sidecar first: the data file is the batch's "written" marker.
            _write_atomically(
                batch.keys_path,
                _jsonl_text([{"key": keyed.key, "row": keyed.row} for keyed in rows]),
            )
        _write_atomically(batch.path, self._render(batch.operation, rows))

    def _render(self, operation: Operation, rows: Sequence[KeyedRow]) -> str:
        if self._audience_row is not None:
            return _csv_text(self._audience_columns, [keyed.row for keyed in rows])
        if self.extension == "jsonl":
            return _jsonl_text([keyed.row for keyed in rows])
        columns: dict[str, None] = dict.fromkeys(RESERVED_COLUMNS)
        for keyed in rows:
            columns.update(dict.fromkeys(keyed.row))
        return _csv_text(list(columns), [keyed.row for keyed in rows])

    def _scrub(self, erased_keys: set[str]) -> None:
        """Rewrite every earlier file without the erased keys' rows (erase files keep
        theirs: they tell consumers what to delete)."""
        for batch in self.batch_files():
            if batch.operation == "erase":
                continue
            rows = self.read_rows(batch)
            kept = [keyed for keyed in rows if keyed.key not in erased_keys]
            if len(kept) == len(rows):
                continue
            if self._audience_row is not None:
                # Data file first, sidecar second: if a crash comes between them, the
                # sidecar still lists the keys and a replayed erase scrubs again.
                _write_atomically(batch.path, self._render(batch.operation, kept))
                _write_atomically(
                    batch.keys_path,
                    _jsonl_text([{"key": keyed.key, "row": keyed.row} for keyed in kept]),
                )
            else:
                _write_atomically(batch.path, self._render_existing(batch, kept))

    def _render_existing(self, batch: BatchFile, rows: Sequence[KeyedRow]) -> str:
        if self.extension == "jsonl":
            return _jsonl_text([keyed.row for keyed in rows])
        with batch.path.open(encoding="utf-8", newline="") as stream:
            header = next(csv.reader(stream), list(RESERVED_COLUMNS))
        return _csv_text(header, [keyed.row for keyed in rows])


def create_destination(sync_name: str, settings: Mapping[str, Any]) -> FileDestination:
    """Registry factory for `type: file`."""
    return FileDestination(sync_name, parse_settings(FileSettings, sync_name, settings))

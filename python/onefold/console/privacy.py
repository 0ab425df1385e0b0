"""Personal values in the console: masked until revealed, and every reveal logged.

A page never shows a personal value by default: it shows its mask and a reveal button.
Revealing posts the value's key (never the value), is appended to the reveal log (who,
when, from where, which customer and which field; never the value), and answers with
the page showing that one value. The next page load masks it again.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MASK = "•••••"


@dataclass(frozen=True)
class Personal:
    """A personal value on a page: `key` names it for a reveal."""

    key: str
    value: Any
    revealed: bool = False

    @property
    def revealed_value(self) -> str:
        return "" if self.value is None else str(self.value)

    @property
    def masked(self) -> str:
        """A hint of the value's shape, not the value: its first character."""
        if self.value is None or str(self.value) == "":
            return ""
        text = str(self.value)
        return f"{text[0]}{MASK}" if len(text) > 3 else MASK


class Masker:
    """Makes Personal values for one page; `revealed` holds the keys shown in clear."""

    def __init__(self, revealed: Iterable[str] = ()) -> None:
        self.revealed = frozenset(revealed)

    def personal(self, key: str, value: Any) -> Personal:
        return Personal(key, value, key in self.revealed)

    @staticmethod
    def key_of(value: str) -> str:
        """A stable key for a value that does not carry the value."""
        return hashlib.sha256(value.encode()).hexdigest()[:16]


class RevealLog:
    """An append-only JSON Lines file of reveals (one object per line)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, customer_id: str, field: str, client: str) -> dict[str, Any]:
        entry = {
            "revealed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "user": getpass.getuser(),
            "client": client,
            "customer_id": customer_id,
            "field": field,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        return entry

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

"""The erasure receipt: the proof of one request, without the erased values.

It joins `erasure_receipts` (what was found, per table what was deleted or redacted,
status, timestamps, verification), the journal `erasure_steps` (every statement run, in
order, with its row count) and `erasure_destinations` (each destination's delete, its
attempts and timestamps). Counts, table names, SQL text with no values, statuses and
times only: a receipt can be shown to an auditor or a data subject.
"""

from __future__ import annotations

from typing import Any

from onefold.erasure.config import load_config
from onefold.erasure.requests import due_at
from onefold.erasure.store import Store
from onefold.errors import ConfigError
from onefold.project import DbtProject
from onefold.warehouse import Warehouse


def receipt_document(
    warehouse: Warehouse, request_id: str, project: DbtProject | None = None
) -> dict[str, Any]:
    config = load_config(warehouse, project)
    store = Store(warehouse, config)
    receipt = store.receipt(request_id)
    if receipt is None:
        raise ConfigError(f"no erasure request {request_id!r} has been started.")
    due = (
        due_at(config, receipt.regulation, receipt.received_at).isoformat(sep=" ")
        if receipt.received_at
        else None
    )
    return {
        "receipt": receipt.as_dict(),
        "due_at": due,
        "steps": store.steps(request_id),
        "destinations": sorted(
            store.destination_statuses(request_id).values(),
            key=lambda d: (d["sync_name"], d["destination_name"]),
        ),
        "suppression_hashes": len(store.request_hashes(request_id)),
    }

"""Small worlds for sync tests and benchmarks: a members model, consent, a webhook sync.

Tables are written straight into the warehouse (no dbt build): a model `members` and
`consent_current` in the marts schema, shaped like the real marts, with a small dbt
manifest (DBT_TARGET_PATH) that tells the sync engine where they are.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from onefold.settings import ProjectSettings
from onefold.sql import relation
from onefold.sync.config import SyncConfig, parse_sync
from onefold.sync.state import FAILURES_TABLE, RUNS_TABLE, STATE_TABLE
from onefold.testing.manifest import manifest_node, write_manifest
from onefold.warehouse import Warehouse, connect, quote_ident

SECRET_ENV = "ONEFOLD_TEST_WEBHOOK_SECRET"
SECRET = "test-webhook-secret"
PURPOSE = "marketing_email"

# Fast retries for tests: the behaviour is the same, the waits are milliseconds.
FAST_DELIVERY: dict[str, Any] = {
    "requests_per_second": 2000,
    "timeout_seconds": 2.0,
    "max_retries": 6,
    "backoff_seconds": 0.002,
    "max_backoff_seconds": 0.02,
}


def member(number: int, tier: str | None = None) -> dict[str, Any]:
    """One row of the `members` model; the customer is `c<number>`."""
    return {
        "member_id": f"m{number:05d}",
        "customer_id": f"c{number:05d}",
        "email": f" Member{number}@Example.com ",
        "phone": f"+44 7700 9{number:05d}",
        "tier": tier or ("gold" if number % 3 == 0 else "silver"),
    }


def members(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [member(number) for number in range(start, start + count)]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def expected_destination(
    rows: Iterable[Mapping[str, Any]], consented: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """What the webhook should hold for these model rows: an independent Python
    rendering of the mapping and hashing the SQL does."""
    allowed = set(consented)
    return {
        row["member_id"]: {
            "email_sha256": _sha256(row["email"].strip().lower()),
            "phone_sha256": _sha256(re.sub(r"[^0-9]", "", row["phone"])),
            "tier": row["tier"],
        }
        for row in rows
        if row["customer_id"] in allowed
    }


@dataclass
class SyncWorld:
    """The tables a sync test reads and checks, in the schemas the environment names."""

    warehouse: Warehouse

    @property
    def marts(self) -> str:
        return marts_schema(ProjectSettings().dbt_schema)

    @property
    def sync_schema(self) -> str:
        return f"{ProjectSettings().dbt_schema}_sync"

    @property
    def privacy_schema(self) -> str:
        return f"{ProjectSettings().dbt_schema}_privacy"

    def drop_schemas(self) -> None:
        """Remove the test's schemas (they may live on a shared server)."""
        for schema in (self.marts, self.sync_schema, self.privacy_schema):
            self.warehouse.execute(f"drop schema if exists {quote_ident(schema)} cascade")

    def write_model(self, rows: Sequence[Mapping[str, Any]], table: str = "members") -> None:
        columns = list(rows[0]) if rows else list(member(0))
        frame = pd.DataFrame.from_records(list(rows), columns=columns)
        self.warehouse.write_df(self.marts, table, frame.astype("object"))

    def write_consent(self, granted: Iterable[str], withdrawn: Iterable[str] = ()) -> None:
        """`consent_current` with PURPOSE granted to `granted` customers, withdrawn for
        `withdrawn` ones (and an unrelated purpose granted to everyone)."""
        rows = [(customer, PURPOSE, True) for customer in granted]
        rows += [(customer, PURPOSE, False) for customer in withdrawn]
        rows += [(customer, "analytics", True) for customer, _, _ in list(rows)]
        frame = pd.DataFrame(rows, columns=["customer_id", "purpose", "is_granted"])
        frame["is_granted"] = frame["is_granted"].astype(bool)
        self.warehouse.write_df(self.marts, "consent_current", frame)

    def write_config_snapshot(self, consent_purposes: Sequence[str]) -> None:
        """The configuration snapshot `dbt build` writes (`erasure_config`), with the
        consent purposes dbt knows (the keys of var onefold__consent_purposes)."""
        schema = quote_ident(self.privacy_schema)
        document = json.dumps({"version": 4, "consent_purposes": list(consent_purposes)})
        self.warehouse.execute(f"create schema if not exists {schema}")
        self.warehouse.execute(
            f"create table if not exists {schema}.erasure_config "
            "(config_json varchar, written_at timestamp)"
        )
        self.warehouse.execute(
            f"insert into {schema}.erasure_config values (?, current_timestamp)", [document]
        )

    def state(self, sync_name: str) -> dict[str, tuple[Any, ...]]:
        """record_key -> (status, attempts, payload_hash, customer_id, last_error)."""
        rows = self.warehouse.query(
            "select record_key, status, attempts, payload_hash, customer_id, last_error "
            f"from {relation(self.sync_schema, STATE_TABLE)} where sync_name = ?",
            [sync_name],
        )
        return {str(row[0]): tuple(row[1:]) for row in rows}

    def runs(self, sync_name: str) -> list[dict[str, Any]]:
        frame = self.warehouse.query_df(
            f"select * from {relation(self.sync_schema, RUNS_TABLE)} "
            f"where sync_name = '{sync_name}' order by started_at"
        )
        return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]

    def failures(self, sync_name: str) -> list[tuple[Any, ...]]:
        return self.warehouse.query(
            "select record_key, operation, error "
            f"from {relation(self.sync_schema, FAILURES_TABLE)} where sync_name = ? "
            "order by failed_at, record_key",
            [sync_name],
        )


#: the models a sync world holds (write_model's tables), all in its marts schema
WORLD_MODELS = ("members", "consent_current", "activation_audiences", "customers")


def marts_schema(base: str) -> str:
    """Where a world puts its models: not the schema dbt would name, on purpose (the
    manifest is the only way to find them)."""
    return f"{base}_published"


def world_environment(
    target: str, workdir: Path, postgres: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Variables for one isolated test world: its own DuckDB file, or its own schemas
    (a unique ONEFOLD_DBT_SCHEMA) on the PostgreSQL server `postgres` describes, and a
    dbt manifest (DBT_TARGET_PATH) naming where its models are."""
    base = f"t{uuid.uuid4().hex[:10]}"
    target_path = workdir / "world-target"
    write_manifest(target_path, [manifest_node(name, marts_schema(base)) for name in WORLD_MODELS])
    env = {
        "ONEFOLD_TARGET": target,
        "ONEFOLD_DBT_SCHEMA": base,
        "DBT_TARGET_PATH": str(target_path),
        SECRET_ENV: SECRET,
    }
    if target == "duckdb":
        env["ONEFOLD_DUCKDB_PATH"] = str(workdir / "sync.duckdb")
    else:
        env.update(postgres or {})
    return env


@contextmanager
def open_world(target: str, keep: bool = False) -> Iterator[SyncWorld]:
    """Connect with the environment's settings; drop the test's schemas afterwards
    unless `keep` (for a world a subprocess or later step still reads)."""
    warehouse = connect(target)
    world = SyncWorld(warehouse)
    try:
        yield world
    finally:
        if not keep:
            world.drop_schemas()
        warehouse.close()


def webhook_sync_settings(
    url: str,
    *,
    model: str = "members",
    mode: str = "mirror",
    batch_size: int = 20,
    purposes: Sequence[str] = (PURPOSE,),
    **overrides: Any,
) -> dict[str, Any]:
    """A sync's syncs.yml mapping: members to a webhook, email and phone hashed."""
    destination = {
        "type": "webhook",
        "url": url,
        "secret_env": SECRET_ENV,
        "batch_size": batch_size,
        **FAST_DELIVERY,
        **overrides.pop("destination", {}),
    }
    return {
        "model": model,
        "destination": destination,
        "mode": mode,
        "primary_key": "member_id",
        "fields": {"email_sha256": "email", "phone_sha256": "phone", "tier": "tier"},
        "hashed": ["email_sha256", "phone_sha256"],
        "purposes": list(purposes),
        **overrides,
    }


def webhook_sync(url: str, name: str = "members_webhook", **settings: Any) -> SyncConfig:
    return parse_sync(name, webhook_sync_settings(url, **settings))

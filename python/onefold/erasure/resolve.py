"""Expand a request through the identity graph: every customer it names, every linked
identifier, every source record, every destination record of those customers.

The request's values are normalized by the same SQL as the identity graph
(`<target schema>_privacy.identifier_match_key`, created from macros/identity/normalize.sql), then
looked up in `identity_map` by match key. What a customer is made of comes from the
identity marts: `identity_map` (its linking identifiers), `customer_records` (its
records), and the identifier values its records carried as they landed
(`int_identifiers_normalized.raw_value`), whose hashed forms destinations may hold.
Identifiers that are shared by several people are not the person's alone and are not
erased: values the graph blocked as junk or hubs never reach `identity_map`, and an
identifier of the person that records of other customers carry too (a family email, a
shared device, a reused phone: the graph kept the people apart and cut the link) is
`shared`. Erasure is record-level: the person's records go, by record key, whatever they
carry; a shared identifier is neither suppressed nor used to find rows, so the other
customers' records and future events stay. The dry run and the receipt name the shared
identifiers' types and the customers they touch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from onefold.erasure.config import ErasureConfig
from onefold.erasure.requests import ErasureRequest, RequestIdentifier, mask
from onefold.erasure.store import fill_temp_table
from onefold.errors import ConfigError
from onefold.sql import literal
from onefold.warehouse import Warehouse

CUSTOMER_ID = "customer_id"
# A `customer_id` request that matches no Onefold customer id (cus_…) is tried as the
# shop's own customer number: intake tools know the shop's id, not Onefold's.
CUSTOMER_ID_FALLBACK = "shop_customer_id"


# Session tables that carry the person's values into queries: on PostgreSQL they are
# loaded with COPY, so no erased value is ever in a statement's text (and so in a server
# log written with log_statement = all); the statements only name the tables.
REQUEST_VALUE_TABLE = "erasure_request_value"
CUSTOMERS_TABLE = "erasure_customer_ids"
LOOKUP_TABLE = "erasure_lookup"


def lookup_values(warehouse: Warehouse, values: Sequence[str], table: str = LOOKUP_TABLE) -> str:
    """`(select value from <table>)` after loading `values` into that session table."""
    fill_temp_table(warehouse, table, ("value",), [(value,) for value in values])
    return f"(select value from {table})"


def customers_table(warehouse: Warehouse, customer_ids: Sequence[str]) -> str:
    """The customer ids as a subquery (their own session table)."""
    return lookup_values(warehouse, customer_ids, CUSTOMERS_TABLE)


class MalformedIdentifier(ConfigError):
    """A request value that cannot be a valid identifier of its type."""

    def __init__(self, message: str, identifier_type: str) -> None:
        super().__init__(message)
        self.identifier_type = identifier_type

    @property
    def reason(self) -> str:
        """Why, without the value (for receipts and the status mart)."""
        return f"malformed {self.identifier_type}: it does not normalize to a usable value"


@dataclass(frozen=True)
class FoundIdentifier:
    identifier_type: str
    normalized_value: str = field(repr=False)
    match_key: str = field(repr=False)


@dataclass(frozen=True)
class SyncRecord:
    sync_name: str
    destination_name: str
    destination_type: str
    record_key: str = field(repr=False)
    customer_id: str | None = field(repr=False)
    payload: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class SharedIdentifier:
    """An identifier of the person that other customers' records carry too: kept."""

    identifier: FoundIdentifier
    other_customer_ids: tuple[str, ...]


@dataclass
class Resolution:
    """Everything the request reaches. Holds erased values: never log or store it."""

    customer_ids: list[str] = field(default_factory=list)
    records: list[tuple[str, str]] = field(default_factory=list)
    # The person's own identifiers: erased, suppressed and used to find rows.
    identifiers: list[FoundIdentifier] = field(default_factory=list)
    # Identifiers the person shares with other customers: none of that.
    shared: list[SharedIdentifier] = field(default_factory=list)
    raw_values: list[tuple[str, str]] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    sync_records: list[SyncRecord] = field(default_factory=list)
    # The request's own intake row, redacted with the rest (intake requests only).
    intake_record: tuple[str, str] | None = None

    def summary(self) -> dict[str, Any]:
        """Counts only: what a receipt may keep."""
        records: dict[str, int] = {}
        for source, _ in self.records:
            records[source] = records.get(source, 0) + 1
        identifiers: dict[str, int] = {}
        for identifier in self.identifiers:
            kind = identifier.identifier_type
            identifiers[kind] = identifiers.get(kind, 0) + 1
        destinations: dict[str, int] = {}
        for record in self.sync_records:
            name = f"{record.sync_name}/{record.destination_name}"
            destinations[name] = destinations.get(name, 0) + 1
        summary: dict[str, Any] = {
            "customers": len(self.customer_ids),
            "records": dict(sorted(records.items())),
            "identifiers": dict(sorted(identifiers.items())),
            "destinations": dict(sorted(destinations.items())),
        }
        if self.shared:
            # The decision, without the values: which types were kept, and for whom.
            summary["shared_identifiers"] = [
                {
                    "identifier_type": shared.identifier.identifier_type,
                    "decision": "kept: other customers' records carry it",
                    "other_customer_ids": list(shared.other_customer_ids),
                }
                for shared in self.shared
            ]
        return summary

    def is_known(self, identifier_type: str, match_key: str) -> bool:
        """The identifier is one of the person's, or one the person shares."""
        return any(
            (i.identifier_type, i.match_key) == (identifier_type, match_key)
            for i in [*self.identifiers, *(s.identifier for s in self.shared)]
        )


def request_match_key(
    warehouse: Warehouse, config: ErasureConfig, identifier: RequestIdentifier
) -> str:
    """The identifier's match key, or MalformedIdentifier (exit code 2)."""
    kind = CUSTOMER_ID_FALLBACK if identifier.identifier_type == CUSTOMER_ID else None
    fill_temp_table(
        warehouse,
        REQUEST_VALUE_TABLE,
        ("identifier_type", "raw_value", "calling_code"),
        [(kind or identifier.identifier_type, identifier.value, config.default_calling_code)],
    )
    key = config.match_key_sql(
        literal(kind or identifier.identifier_type), "raw_value", "calling_code"
    )
    rows = warehouse.query(f"select {key} from {REQUEST_VALUE_TABLE}")
    match_key = rows[0][0] if rows else None
    if match_key is None:
        raise MalformedIdentifier(
            f"{identifier.masked} is not a valid {identifier.identifier_type}: it does not "
            "normalize to a usable value (check for typos; phone numbers without a country "
            f"code are read with +{config.default_calling_code}).",
            identifier.identifier_type,
        )
    return str(match_key)


def find_customers(
    warehouse: Warehouse, config: ErasureConfig, request: ErasureRequest
) -> tuple[list[str], list[tuple[str, str]]]:
    """The customers a request names and the request's own (type, match_key) pairs."""
    records, identity_map = config.relation("customer_records"), config.relation("identity_map")
    customers: set[str] = set()
    keys: list[tuple[str, str]] = []
    for identifier in request.identifiers:
        if identifier.identifier_type == CUSTOMER_ID:
            direct = warehouse.query(
                f"select distinct customer_id from {records} "
                f"where customer_id in {lookup_values(warehouse, [identifier.value.strip()])}"
            )
            if direct:
                customers.update(str(row[0]) for row in direct)
                keys.append((CUSTOMER_ID, identifier.value.strip()))
                continue
            lookup_type = CUSTOMER_ID_FALLBACK
        else:
            lookup_type = identifier.identifier_type
        match_key = request_match_key(warehouse, config, identifier)
        keys.append((lookup_type, match_key))
        rows = warehouse.query(
            f"select distinct customer_id from {identity_map} "
            f"where identifier_type = ? and match_key in {lookup_values(warehouse, [match_key])}",
            [lookup_type],
        )
        customers.update(str(row[0]) for row in rows)
    return sorted(customers), keys


def expand(warehouse: Warehouse, config: ErasureConfig, customer_ids: list[str]) -> Resolution:
    """Every identifier, record, node and destination record of these customers."""
    resolution = Resolution(customer_ids=list(customer_ids))
    if not customer_ids:
        return resolution
    identity_map, records = config.relation("identity_map"), config.relation("customer_records")
    ids = customers_table(warehouse, customer_ids)
    resolution.identifiers = [
        FoundIdentifier(str(kind), str(value), str(key))
        for kind, value, key in warehouse.query(
            f"select identifier_type, normalized_value, match_key from {identity_map} "
            f"where customer_id in {ids} order by identifier_type, match_key"
        )
    ]
    resolution.shared = shared_identifiers(warehouse, config, ids, resolution.identifiers)
    shared_keys = {
        (i.identifier.identifier_type, i.identifier.match_key) for i in resolution.shared
    }
    resolution.identifiers = [
        i for i in resolution.identifiers if (i.identifier_type, i.match_key) not in shared_keys
    ]
    # The customer ids themselves are identifiers too: destinations and state key on them.
    resolution.identifiers += [FoundIdentifier(CUSTOMER_ID, c, c) for c in customer_ids]
    resolution.records = [
        (str(source), str(key))
        for source, key in warehouse.query(
            f"select source, record_key from {records} "
            f"where customer_id in {ids} order by source, record_key"
        )
    ]
    observations = config.existing(warehouse, "int_identifiers_normalized")
    if observations is not None:
        resolution.raw_values = [
            (str(kind), str(raw))
            for kind, raw, key in warehouse.query(
                f"select distinct observed.identifier_type, lower(trim(observed.raw_value)), "
                "observed.match_key "
                f"from {observations} as observed "
                f"inner join {records} as records "
                "on observed.source = records.source and observed.record_key = records.record_key "
                f"inner join {identity_map} as linked "
                "on observed.identifier_type = linked.identifier_type "
                "and observed.match_key = linked.match_key "
                "and linked.customer_id = records.customer_id "
                f"where records.customer_id in {ids} and observed.raw_value is not null"
            )
            if (kind, key) not in shared_keys
        ]
    resolution.nodes = _nodes(warehouse, config, ids, shared_keys)
    resolution.sync_records = sync_records(warehouse, config, resolution, ids)
    return resolution


def shared_identifiers(
    warehouse: Warehouse,
    config: ErasureConfig,
    ids: str,
    identifiers: list[FoundIdentifier],
) -> list[SharedIdentifier]:
    """The customers' identifiers that records of other customers carry too
    (`identity_edges` keeps every record-identifier link, cut ones included). `ids`:
    the customers as a subquery (customers_table(), loaded once by expand())."""
    edges = config.existing(warehouse, "identity_edges")
    if not identifiers or edges is None:
        return []
    identity_map = config.relation("identity_map")
    others: dict[tuple[str, str], set[str]] = {}
    for kind, key, other in warehouse.query(
        f"select distinct linked.identifier_type, linked.match_key, edges.customer_id "
        f"from {identity_map} as linked "
        f"inner join {edges} as edges "
        "on linked.identifier_type = edges.identifier_type "
        "and linked.match_key = edges.match_key "
        f"where linked.customer_id in {ids} and edges.customer_id not in {ids}"
    ):
        others.setdefault((str(kind), str(key)), set()).add(str(other))
    return [
        SharedIdentifier(identifier, tuple(sorted(others[key])))
        for identifier in identifiers
        if (key := (identifier.identifier_type, identifier.match_key)) in others
    ]


def _nodes(
    warehouse: Warehouse,
    config: ErasureConfig,
    ids: str,
    shared_keys: set[tuple[str, str]],
) -> list[str]:
    """Graph node ids of the customers' records and identifiers (intermediate tables);
    not the nodes of shared identifiers, which other customers' records link to."""
    nodes: set[str] = set()
    assigned = config.existing(warehouse, "int_customer_ids_assigned")
    if assigned is not None:
        nodes.update(
            str(row[0])
            for row in warehouse.query(
                f"select record_node_id from {assigned} where customer_id in {ids}"
            )
        )
    resolved = config.existing(warehouse, "int_identity_edges_resolved")
    if resolved is not None:
        nodes.update(
            str(node)
            for node, kind, key in warehouse.query(
                f"select distinct edges.right_node_id, edges.identifier_type, edges.match_key "
                f"from {resolved} as edges "
                f"inner join {config.relation('identity_map')} as linked "
                "on edges.identifier_type = linked.identifier_type "
                "and edges.match_key = linked.match_key "
                f"where linked.customer_id in {ids} and edges.rule != 'record'"
            )
            if (str(kind), str(key)) not in shared_keys
        )
    return sorted(nodes)


SYNC_STATE_TABLE = "onefold_sync_state"
SYNC_FAILURES_TABLE = "onefold_sync_failures"
SYNC_RUNS_TABLE = "onefold_sync_runs"
SYNC_IN_FLIGHT_TABLE = "onefold_sync_in_flight"


def sync_records(
    warehouse: Warehouse, config: ErasureConfig, resolution: Resolution, ids: str
) -> list[SyncRecord]:
    """Every record any sync acknowledged for the person (state rows keyed on one of the
    customer ids, or on one of the person's identifier values as the sync's key), and
    any in a destination call a killed sync left in flight (it may have been applied)."""
    schema = config.sync_schema
    values = sorted(
        {i.normalized_value for i in resolution.identifiers}
        | {i.match_key for i in resolution.identifiers}
    )
    person = f"customer_id in {ids} or record_key in {lookup_values(warehouse, values)}"
    rows: dict[tuple[str, str], tuple[Any, ...]] = {}
    for table in (SYNC_STATE_TABLE, SYNC_IN_FLIGHT_TABLE):  # state first: what was acked
        if not warehouse.table_exists(schema, table):
            continue
        for row in warehouse.query(
            "select sync_name, destination_name, destination_type, record_key, customer_id, "
            f"payload_json from {schema}.{table} where {person}"
        ):
            rows.setdefault((str(row[0]), str(row[3])), tuple(row))
    found = []
    for sync_name, destination_name, destination_type, record_key, customer_id, payload in sorted(
        rows.values(), key=lambda row: (str(row[0]), str(row[1]), str(row[3]))
    ):
        try:
            parsed = json.loads(payload) if payload else {}
        except json.JSONDecodeError:
            parsed = {}
        found.append(
            SyncRecord(
                sync_name=str(sync_name),
                destination_name=str(destination_name or sync_name),
                destination_type=str(destination_type or ""),
                record_key=str(record_key),
                customer_id=None if customer_id is None else str(customer_id),
                payload=parsed if isinstance(parsed, dict) else {"value": parsed},
            )
        )
    return found


def describe_identifier(identifier: FoundIdentifier, reveal: bool) -> str:
    value = identifier.normalized_value if reveal else mask(identifier.normalized_value)
    return f"{identifier.identifier_type}:{value}"

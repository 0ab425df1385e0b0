"""Customer 360: everything the warehouse knows about one customer, panel by panel.

Each function reads one panel for one customer and returns plain data; one that cannot
be read raises Unavailable (reader.py), so the page shows why beside the others.
Personal values come back as `Personal` (privacy.py): masked until revealed. Nothing
here reconstructs an erased person: erasure deleted their rows, and a search that hits
the suppression list says the person was erased, and nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from onefold.console.privacy import Masker, Personal
from onefold.console.reader import Reader, Unavailable
from onefold.erasure.salt import load_salt
from onefold.explain import NotFoundError, find_customer, lookup_candidates
from onefold.identity_graph import customer_graph
from onefold.pictures import Graph
from onefold.sql import placeholders, relation

#: records listed per source on the page (all are counted)
RECORDS_LISTED = 20


@dataclass(frozen=True)
class SearchResult:
    customer_id: str | None
    #: the identifier that matched ("email:…"), None for a customer_id
    matched: str | None = None
    #: set when the value belongs to an erased person: the erasure request ids
    erased_by: tuple[str, ...] = ()
    message: str = ""


def search(reader: Reader, text: str) -> SearchResult:
    """The customer a customer_id or identifier (normalized as matching does) leads to;
    for an erased person's identifier, the requests that erased them."""
    value = text.strip()
    if not value:
        return SearchResult(None, message="Type an email, phone, any identifier or a customer_id.")
    try:
        customer_id, matched = find_customer(reader.warehouse, value, reader.project)
    except NotFoundError as exc:
        try:
            erased = erased_by(reader, value)
        except Unavailable as unreadable:
            return SearchResult(
                None, message=f"{exc} The suppression list could not be checked: {unreadable}"
            )
        if erased:
            return SearchResult(
                None,
                erased_by=erased,
                message="This identifier belonged to a person who was erased. Nothing else "
                "about them is kept, so nothing else is shown.",
            )
        return SearchResult(None, message=str(exc))
    return SearchResult(customer_id, matched)


def erased_by(reader: Reader, value: str) -> tuple[str, ...]:
    """Erasure requests whose suppression list holds one of the value's normalized
    forms (salted as erasure salts them); () without a salt to check with."""
    target = reader.project.target
    salt = load_salt(
        required=False, database=target.duckdb.path if target.duckdb is not None else None
    )
    schema = reader.project.privacy_schema
    if salt is None or not reader.visible(schema, "erasure_suppressions"):
        return ()
    suppressions = relation(schema, "erasure_suppressions")
    hashes = [salt.hash(candidate) for candidate in lookup_candidates(value)]
    rows = reader.query(
        f"select distinct erasure_request_id from {suppressions} "
        f"where suppression_hash in ({placeholders(hashes)}) order by erasure_request_id",
        hashes,
    )
    return tuple(str(row[0]) for row in rows)


def traits(reader: Reader, customer_id: str) -> dict[str, Any]:
    """The customer's row of `customers` without its personal columns: computed and
    predictive traits (golden attributes come from golden_attributes)."""
    personal = reader.pii_columns("customers")
    rows = reader.records(
        f"select * from {reader.relation('customers')} where customer_id = ?", [customer_id]
    )
    if not rows:
        raise NotFoundError(f"no customer {customer_id!r} in customers")
    return {key: value for key, value in rows[0].items() if key.lower() not in personal}


@dataclass(frozen=True)
class GoldenAttribute:
    attribute: str
    value: Personal
    source: str
    record_key: str
    rule: str
    observed_at: Any
    candidates: int


def golden_attributes(reader: Reader, customer_id: str, masker: Masker) -> list[GoldenAttribute]:
    """Each attribute's winning value, the record it came from, the rule that chose it
    and how many candidate values there were."""
    rows = reader.query(
        "select attribute, attribute_value, source, record_key, won_by_rule, observed_at, "
        "is_winner from " + reader.relation("customer_attributes") + " where customer_id = ? "
        "order by attribute, value_rank",
        [customer_id],
    )
    candidates: dict[str, int] = defaultdict(int)
    for row in rows:
        candidates[str(row[0])] += 1
    # Records that carry the winning value all win; the first by rank stands for them.
    winners: dict[str, GoldenAttribute] = {}
    for attribute, value, source, record_key, rule, observed_at, is_winner in rows:
        if is_winner and str(attribute) not in winners:
            winners[str(attribute)] = GoldenAttribute(
                str(attribute),
                masker.personal(f"attribute:{attribute}", value),
                str(source),
                str(record_key),
                str(rule or ""),
                observed_at,
                candidates[str(attribute)],
            )
    return list(winners.values())


def predictions(reader: Reader, customer_id: str) -> dict[str, Any]:
    """The customer's predictive traits and the model versions that scored them."""
    if not reader.exists("customer_predictions"):
        raise Unavailable(
            "no predictive traits: customer_predictions is not built (run `onefold train`, "
            "then `dbt build`)"
        )
    rows = reader.records(
        f"select * from {reader.relation('customer_predictions')} where customer_id = ?",
        [customer_id],
    )
    return rows[0] if rows else {}


@dataclass(frozen=True)
class SourceRecords:
    source: str
    count: int
    record_keys: list[str]


def records_by_source(reader: Reader, customer_id: str) -> list[SourceRecords]:
    rows = reader.query(
        f"select source, record_key from {reader.relation('customer_records')} "
        "where customer_id = ? order by source, record_key",
        [customer_id],
    )
    grouped: dict[str, list[str]] = defaultdict(list)
    for source, record_key in rows:
        grouped[str(source)].append(str(record_key))
    return [SourceRecords(s, len(keys), keys[:RECORDS_LISTED]) for s, keys in grouped.items()]


def identity_graph(reader: Reader, customer_id: str, masker: Masker) -> Graph:
    """The customer's identity graph, identifier values masked until revealed."""
    numbers: dict[str, int] = defaultdict(int)

    def label(kind: str, value: str, match_key: str) -> str:
        numbers[kind] += 1
        shown = masker.personal(f"identifier:{kind}:{masker.key_of(match_key)}", value)
        return f"{kind}: {shown.revealed_value}" if shown.revealed else f"{kind} #{numbers[kind]}"

    return customer_graph(reader.warehouse, reader.project, customer_id, label)


def consent_timeline(reader: Reader, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """Per purpose, each consent state in order: granted or not, from when to when, on
    what basis, from which source and jurisdiction."""
    rows = reader.records(
        "select purpose, is_granted, basis, signal_type, consent_source, jurisdiction, "
        f"regime, valid_from, valid_to, is_current from {reader.relation('consent_history')} "
        "where customer_id = ? order by purpose, valid_from",
        [customer_id],
    )
    timeline: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        timeline[str(row.pop("purpose"))].append(row)
    return dict(timeline)


def segment_spells(reader: Reader, customer_id: str) -> list[dict[str, Any]]:
    """Each time the customer entered a segment, and left it (open: still a member)."""
    return reader.records(
        "select segment_name, entered_at, exited_at, is_active "
        f"from {reader.relation('segment_membership_history')} "
        "where customer_id = ? order by entered_at, segment_name",
        [customer_id],
    )


def deliveries(reader: Reader, customer_id: str) -> list[dict[str, Any]]:
    """What each sync delivered of the customer, per destination (onefold_sync_state)."""
    from onefold.sync.state import STATE_TABLE

    schema = reader.project.sync_schema
    if not reader.visible(schema, STATE_TABLE):
        return []
    return reader.records(
        "select sync_name, destination_name, destination_type, status, attempts, "
        f"last_error, first_synced_at, last_synced_at from {relation(schema, STATE_TABLE)} "
        "where customer_id = ? order by sync_name, destination_name",
        [customer_id],
    )


def erasure_requests(reader: Reader, customer_id: str) -> list[dict[str, Any]]:
    """Erasure requests that name this customer and are not done yet."""
    if not reader.exists("int_erasure_request_customers"):
        return []
    return reader.records(
        "select requests.erasure_request_id, status.status, status.regulation, "
        "status.received_at, status.due_at, status.is_overdue "
        f"from {reader.relation('int_erasure_request_customers')} as requests "
        f"left join {reader.relation('erasure_requests_status')} as status "
        "on requests.erasure_request_id = status.erasure_request_id "
        "where requests.customer_id = ? order by status.due_at",
        [customer_id],
    )

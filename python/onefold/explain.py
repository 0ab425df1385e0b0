"""Why records belong to one customer: its records, identifiers and the links between them.

Identifiers are linked when a record carries both; the explanation is a breadth-first
tree over those links from the identifier asked about (or the customer's most used
one), each link citing one record that carries both values and how many more do.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from onefold.errors import OnefoldError
from onefold.phones import e164_in_region
from onefold.project import DbtProject, locate
from onefold.sql import placeholders
from onefold.warehouse import Warehouse


class NotFoundError(OnefoldError):
    """Nothing in the warehouse matches what was asked for."""

    exit_code = 1


@dataclass(frozen=True)
class Identifier:
    identifier_type: str
    value: str
    match_key: str
    record_count: int

    @property
    def label(self) -> str:
        return f"{self.identifier_type}:{self.value}"


@dataclass(frozen=True)
class Link:
    parent: str
    child: str
    source: str
    record_key: str
    other_records: int


@dataclass
class Explanation:
    customer_id: str
    matched: str | None
    records_by_source: dict[str, int]
    identifiers: list[Identifier]
    links: list[Link]
    cuts: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "matched": self.matched,
            "records_by_source": self.records_by_source,
            "identifiers": [
                {"type": i.identifier_type, "value": i.value, "records": i.record_count}
                for i in self.identifiers
            ],
            "links": [
                {
                    "from": link.parent,
                    "to": link.child,
                    "source": link.source,
                    "record_key": link.record_key,
                    "other_records": link.other_records,
                }
                for link in self.links
            ],
            "cuts": self.cuts,
        }


def lookup_candidates(value: str) -> list[str]:
    """Forms the value may take once normalized: as typed, lower-cased, E.164, email rules."""
    stripped = value.strip()
    candidates = {stripped, stripped.lower()}
    if "@" in stripped:
        local, _, domain = stripped.lower().partition("@")
        domain = "gmail.com" if domain == "googlemail.com" else domain
        local = local.split("+", 1)[0]
        if domain == "gmail.com":
            local = local.replace(".", "")
        candidates.add(f"{local}@{domain}")
    phone = e164_in_region(stripped, "US")
    if phone is not None:
        candidates.add(phone)
    hashed = {hashlib.sha256(c.encode()).hexdigest() for c in candidates}
    return sorted(candidates | hashed)


def find_customer(warehouse: Warehouse, value: str, project: DbtProject) -> tuple[str, str | None]:
    """The customer_id for a customer id or identifier value, and the identifier matched."""
    records, identity_map, blocked_values = project.require(
        warehouse, "customer_records", "identity_map", "identity_blocked_values"
    )
    found = warehouse.query(
        f"select distinct customer_id from {records} where customer_id = ?",
        [value.strip()],
    )
    if found:
        return str(found[0][0]), None
    candidates = lookup_candidates(value)
    rows = warehouse.query(
        f"select customer_id, identifier_type, normalized_value, match_key "
        f"from {identity_map} where normalized_value in ({placeholders(candidates)}) "
        f"or match_key in ({placeholders(candidates)}) order by record_count desc",
        [*candidates, *candidates],
    )
    if rows:
        return str(rows[0][0]), f"{rows[0][1]}:{rows[0][2]}"
    blocked = warehouse.query(
        f"select identifier_type, block_reason from {blocked_values} "
        f"where normalized_value in ({placeholders(candidates)})",
        candidates,
    )
    if blocked:
        kind, reason = blocked[0]
        raise NotFoundError(
            f"{value!r} is a blocked {kind} value ({reason}): it links no records, "
            "see identity_blocked_values."
        )
    raise NotFoundError(
        f"no customer has the identifier or customer_id {value!r} "
        "(it may be malformed, rejected, or not loaded yet)."
    )


def explain(
    warehouse: Warehouse, value: str, project: DbtProject | None = None, max_links: int = 200
) -> Explanation:
    """Why `value`'s customer is one customer. `project` locates the marts (default: the
    dbt project of the working directory, see onefold.project)."""
    project = project or locate()
    customer_records, identity_map, identity_edges = project.require(
        warehouse, "customer_records", "identity_map", "identity_edges"
    )
    customer_id, matched = find_customer(warehouse, value, project)
    records = warehouse.query(
        f"select source, count(*) from {customer_records} where customer_id = ? "
        "group by source order by source",
        [customer_id],
    )
    identifiers = [
        Identifier(str(t), str(v), str(k), int(n))
        for t, v, k, n in warehouse.query(
            f"select identifier_type, normalized_value, match_key, record_count "
            f"from {identity_map} where customer_id = ? "
            "order by record_count desc, identifier_type, normalized_value",
            [customer_id],
        )
    ]
    edges = warehouse.query(
        f"select source, record_key, identifier_type, match_key, drop_rule "
        f"from {identity_edges} where customer_id = ? "
        "order by source, record_key, identifier_type, match_key",
        [customer_id],
    )
    by_key = {(i.identifier_type, i.match_key): i for i in identifiers}
    values_by_record: dict[tuple[str, str], list[Identifier]] = defaultdict(list)
    cuts = []
    for source, record_key, kind, match_key, drop_rule in edges:
        if drop_rule:
            cuts.append(
                {
                    "source": str(source),
                    "record_key": str(record_key),
                    "identifier_type": str(kind),
                    "rule": str(drop_rule),
                }
            )
            continue
        identifier = by_key.get((str(kind), str(match_key)))
        if identifier:
            values_by_record[(str(source), str(record_key))].append(identifier)
    # Evidence per pair of identifiers: the first record carrying both, and how many do.
    evidence: dict[tuple[str, str], tuple[str, str, int]] = {}
    neighbours: dict[str, set[str]] = defaultdict(set)
    for (source, record_key), carried in sorted(values_by_record.items()):
        labels = sorted({i.label for i in carried})
        for a in labels:
            for b in labels:
                if a < b:
                    first = evidence.get((a, b))
                    evidence[(a, b)] = (
                        (source, record_key, 1)
                        if first is None
                        else (first[0], first[1], first[2] + 1)
                    )
                    neighbours[a].add(b)
                    neighbours[b].add(a)
    start = (
        matched
        if matched and matched in {i.label for i in identifiers}
        else (identifiers[0].label if identifiers else None)
    )
    links: list[Link] = []
    if start:
        seen, queue = {start}, deque([start])
        while queue and len(links) < max_links:
            current = queue.popleft()
            for neighbour in sorted(neighbours[current]):
                if neighbour in seen:
                    continue
                seen.add(neighbour)
                queue.append(neighbour)
                low, high = sorted((current, neighbour))
                source, record_key, count = evidence[(low, high)]
                links.append(Link(current, neighbour, source, record_key, count - 1))
    return Explanation(
        customer_id=customer_id,
        matched=matched,
        records_by_source={str(s): int(n) for s, n in records},
        identifiers=identifiers,
        links=links,
        cuts=cuts[:max_links],
    )

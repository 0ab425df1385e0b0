"""Why records belong to one customer: its records, identifiers and the links between them.

Identifiers are linked when a record carries both; the explanation is a breadth-first
tree over those links from the identifier asked about (or the customer's most used
one), each link citing one record that carries both values and how many more do.

A probabilistic link joins two records that share no identifier: in the tree it links
an identifier of each, citing the pair; and each such link comes with its waterfall,
the prior and every field's comparison level and match weight, which add up to the
pair's match weight (int_match_pairs_scored, the table the build scored it in).
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
from onefold.warehouse import Warehouse, column_names


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
    #: a probabilistic link's other record ("source record_key"); None for a shared value
    matched_record: str | None = None


@dataclass(frozen=True)
class Contribution:
    """One bar of a waterfall: the prior, or a field at its comparison level."""

    field: str
    level: str
    weight: float


@dataclass(frozen=True)
class ProbabilisticLink:
    source: str
    record_key: str
    linked_source: str
    linked_record_key: str
    match_probability: float
    cut_rule: str | None
    #: prior first, then each field; empty when the scored pairs are not in the warehouse
    waterfall: list[Contribution]

    @property
    def match_weight(self) -> float:
        return sum(c.weight for c in self.waterfall)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "record_key": self.record_key,
            "linked_source": self.linked_source,
            "linked_record_key": self.linked_record_key,
            "match_probability": self.match_probability,
            "match_weight": self.match_weight if self.waterfall else None,
            "cut_rule": self.cut_rule,
            "waterfall": [
                {"field": c.field, "level": c.level, "match_weight": c.weight}
                for c in self.waterfall
            ],
        }


@dataclass
class Explanation:
    customer_id: str
    matched: str | None
    records_by_source: dict[str, int]
    identifiers: list[Identifier]
    links: list[Link]
    cuts: list[dict[str, str]] = field(default_factory=list)
    probabilistic_links: list[ProbabilisticLink] = field(default_factory=list)

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
                    "matched_record": link.matched_record,
                }
                for link in self.links
            ],
            "cuts": self.cuts,
            "probabilistic_links": [link.as_dict() for link in self.probabilistic_links],
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
        if kind is None:
            continue  # a probabilistic link: probabilistic_links() reads those
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
    matches = probabilistic_links(warehouse, project, customer_id)
    for match in matches:
        if match.cut_rule:
            cuts.append(
                {
                    "source": match.source,
                    "record_key": match.record_key,
                    "identifier_type": f"probabilistic link to {match.linked_source} "
                    f"{match.linked_record_key}",
                    "rule": match.cut_rule,
                }
            )
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
    # A probabilistic link joins the two records' identifiers (the first of each).
    matched_records: dict[tuple[str, str], str] = {}
    for match in matches:
        ends = [
            values_by_record.get((match.source, match.record_key)),
            values_by_record.get((match.linked_source, match.linked_record_key)),
        ]
        if match.cut_rule or not ends[0] or not ends[1]:
            continue
        a, b = sorted((min(i.label for i in ends[0]), min(i.label for i in ends[1])))
        if a != b and (a, b) not in evidence:
            evidence[(a, b)] = (match.source, match.record_key, 1)
            matched_records[(a, b)] = f"{match.linked_source} {match.linked_record_key}"
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
                links.append(
                    Link(
                        current,
                        neighbour,
                        source,
                        record_key,
                        count - 1,
                        matched_records.get((low, high)),
                    )
                )
    return Explanation(
        customer_id=customer_id,
        matched=matched,
        records_by_source={str(s): int(n) for s, n in records},
        identifiers=identifiers,
        links=links,
        cuts=cuts[:max_links],
        probabilistic_links=matches[:max_links],
    )


#: a record as (source, record_key), and a pair of them in order
Record = tuple[str, str]
Pair = tuple[Record, Record]


def probabilistic_links(
    warehouse: Warehouse, project: DbtProject, customer_id: str
) -> list[ProbabilisticLink]:
    """The customer's probabilistic links (once per pair, cut ones too), each with its
    waterfall when the build's scored pairs are there."""
    identity_edges = project.relation("identity_edges")
    columns = {
        name.lower()
        for name in column_names(warehouse, identity_edges.schema, identity_edges.identifier)
    }
    if "linked_record_key" not in columns:
        return []
    rows = warehouse.query(
        f"select source, record_key, linked_source, linked_record_key, match_probability, "
        f"drop_rule from {identity_edges} where customer_id = ? and rule = 'probabilistic' "
        "order by match_probability desc, source, record_key",
        [customer_id],
    )
    found: dict[Pair, tuple[Record, Record, float, str | None]] = {}
    for source, record_key, linked_source, linked_key, probability, drop_rule in rows:
        one, other = (str(source), str(record_key)), (str(linked_source), str(linked_key))
        found.setdefault(
            (min(one, other), max(one, other)),
            (one, other, float(probability), str(drop_rule) if drop_rule else None),
        )
    bars = waterfalls(warehouse, project, list(found))
    return [
        ProbabilisticLink(*one, *other, probability, cut_rule, bars.get(pair, []))
        for pair, (one, other, probability, cut_rule) in found.items()
    ]


def waterfalls(
    warehouse: Warehouse, project: DbtProject, pairs: list[Pair]
) -> dict[Pair, list[Contribution]]:
    """The prior and each field's level and match weight of each scored pair of records
    ((source, record_key) each, in order), in a fixed number of queries; pairs not
    scored (or a warehouse without the tables) have none."""
    scored = project.relation("int_match_pairs_scored")
    records = project.relation("int_match_records")
    parameters = project.relation("identity_match_parameters")
    columns = [name.lower() for name in column_names(warehouse, scored.schema, scored.identifier)]
    endpoints = sorted({record for pair in pairs for record in pair})
    if (
        not endpoints
        or not columns
        or not warehouse.table_exists(parameters.schema, parameters.identifier)
    ):
        return {}
    row_values = ", ".join("(?, ?)" for _ in endpoints)
    record_of = {
        int(node): (str(source), str(key))
        for node, source, key in warehouse.query(
            f"select record_node_id, source, record_key from {records} "
            f"where (source, record_key) in ({row_values})",
            [value for record in endpoints for value in record],
        )
    }
    if not record_of:
        return {}
    fields = [c[: -len("_level")] for c in columns if c.endswith("_level")]
    selected = ", ".join(
        ["left_node_id", "right_node_id", "training_id", "prior_weight"]
        + [f"{f}_level, {f}_weight" for f in fields]
    )
    nodes = placeholders(list(record_of))
    rows = warehouse.query(
        f"select {selected} from {scored} "
        f"where left_node_id in ({nodes}) and right_node_id in ({nodes})",
        [*record_of, *record_of],
    )
    trainings = sorted({str(row[2]) for row in rows})
    labels = (
        {
            (str(t), str(f), int(level)): str(label)
            for t, f, level, label in warehouse.query(
                f"select training_id, field_name, level, level_label from {parameters} "
                f"where training_id in ({placeholders(trainings)})",
                trainings,
            )
        }
        if trainings
        else {}
    )
    wanted = set(pairs)
    bars: dict[Pair, list[Contribution]] = {}
    for row in rows:
        ends = sorted((record_of[int(row[0])], record_of[int(row[1])]))
        pair = (ends[0], ends[1])
        if pair not in wanted:
            continue
        training = str(row[2])
        contributions = [Contribution("prior", "", float(row[3]))]
        for index, name in enumerate(fields):
            level, weight = row[4 + 2 * index], row[5 + 2 * index]
            label = (
                "missing" if level is None else labels.get((training, name, int(level)), str(level))
            )
            contributions.append(Contribution(name, label, float(weight)))
        bars[pair] = contributions
    return bars

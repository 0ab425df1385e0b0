"""A customer's identity graph as a picture: records and identifiers as nodes, and
every row of `identity_edges` as a link.

- A record carrying an identifier links the two, labelled with the rule (`email`,
  `phone`, ...); a link a guard cut (the value was dropped) is drawn dotted and says
  `cut: <rule>`.
- A probabilistic link joins two records, labelled with its match probability, and
  with the rule that cut it when one did.

`onefold explain --plot` and the console draw it with onefold.pictures.graph_figure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from onefold.pictures import Graph, GraphLink, GraphNode
from onefold.project import DbtProject
from onefold.warehouse import Warehouse

#: records drawn at most (the most linked first); the picture says how many are left out
MAX_RECORDS = 120

#: (identifier type, normalized value, match key) -> the node's label
Labeller = Callable[[str, str, str], str]


def plain_label(kind: str, value: str, match_key: str) -> str:
    return f"{kind}: {value}"


def customer_graph(
    warehouse: Warehouse,
    project: DbtProject,
    customer_id: str,
    label: Labeller = plain_label,
    max_records: int = MAX_RECORDS,
) -> Graph:
    (edges,) = project.require(warehouse, "identity_edges")
    rows = warehouse.query(
        "select source, record_key, identifier_type, normalized_value, match_key, rule, "
        "match_probability, linked_source, linked_record_key, drop_rule "
        f"from {edges} where customer_id = ? "
        "order by source, record_key, identifier_type, match_key",
        [customer_id],
    )
    degree: Counter[str] = Counter(f"{row[0]}:{row[1]}" for row in rows)
    kept = {
        record for record, _ in sorted(degree.items(), key=lambda i: (-i[1], i[0]))[:max_records]
    }
    nodes: dict[str, GraphNode] = {}
    links: list[GraphLink] = []
    seen_pairs: set[tuple[str, str]] = set()
    for source, key, kind, value, match_key, rule, probability, l_source, l_key, cut in rows:
        record = f"{source}:{key}"
        if record not in kept:
            continue
        nodes.setdefault(record, GraphNode(record, record, "record"))
        if kind is not None:
            node = f"{kind}|{match_key}"
            if node not in nodes:
                nodes[node] = GraphNode(
                    node, label(str(kind), str(value), str(match_key)), "identifier"
                )
            rule_name = str(rule or "").removeprefix("shared_")
            links.append(
                GraphLink(
                    record,
                    node,
                    f"cut: {cut}" if cut else rule_name,
                    "cut" if cut else "shared",
                )
            )
            continue
        other = f"{l_source}:{l_key}"
        pair = (min(record, other), max(record, other))
        if other not in kept or pair in seen_pairs:
            continue
        seen_pairs.add(pair)
        nodes.setdefault(other, GraphNode(other, other, "record"))
        text = f"p={float(probability):.2f}" if probability is not None else "probabilistic"
        links.append(
            GraphLink(
                record,
                other,
                f"cut: {cut}, {text}" if cut else text,
                "cut" if cut else "probabilistic",
            )
        )
    return Graph(
        nodes=list(nodes.values()),
        links=links,
        nodes_left_out=len(degree) - len(kept),
        title=f"Identity graph of {customer_id}",
    )

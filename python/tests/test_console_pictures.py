"""Pictures and masking without a warehouse: what a page embeds must be safe text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onefold.console.privacy import MASK, Masker, RevealLog
from onefold.errors import ConfigError
from onefold.pictures import (
    Graph,
    GraphLink,
    GraphNode,
    bar_figure,
    graph_figure,
    save,
    to_svg,
)

HOSTILE = "<script>alert('x')</script> & $\\alpha$"


def _graph() -> Graph:
    nodes = [
        GraphNode("crm:1", "crm_contacts:1", "record"),
        GraphNode("shop:7", "shop_customers:7", "record"),
        GraphNode("email|k", HOSTILE, "identifier"),
        GraphNode("pos:3", "pos_transactions:3", "record"),
    ]
    links = [
        GraphLink("crm:1", "email|k", "email", "shared"),
        GraphLink("shop:7", "email|k", "cut: limit_user_id", "cut"),
        GraphLink("crm:1", "pos:3", "p=0.97", "probabilistic"),
    ]
    return Graph(nodes, links, title="Identity graph of cus_1")


def test_graph_svg_has_one_element_per_node_and_link_and_escapes_labels() -> None:
    svg = to_svg(graph_figure(_graph()))
    assert svg.startswith("<svg")
    assert svg.count('id="node-') == 4
    assert svg.count('id="link-') == 3
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    # Math mode is off: the dollar signs are drawn as typed.
    assert "$\\alpha$" in svg


def test_the_same_graph_draws_the_same_svg() -> None:
    assert to_svg(graph_figure(_graph())) == to_svg(graph_figure(_graph()))


def test_save_writes_png_or_svg_and_refuses_other_formats(tmp_path: Path) -> None:
    png = save(bar_figure({"a": 1, "b": 2}, "t", "n"), tmp_path / "bars.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = save(bar_figure({"a": 1}, "t", "n"), tmp_path / "bars.svg")
    assert "<svg" in svg.read_text()
    with pytest.raises(ConfigError, match="png or svg"):
        save(bar_figure({"a": 1}, "t", "n"), tmp_path / "bars.gif")


def test_masked_values_show_a_hint_never_the_value() -> None:
    masker = Masker(revealed={"attribute:email"})
    email = masker.personal("attribute:email", "robin@example.org")
    phone = masker.personal("attribute:phone", "+14155550100")
    assert email.revealed and email.revealed_value == "robin@example.org"
    assert not phone.revealed
    assert phone.masked == f"+{MASK}"
    assert "4155550100" not in phone.masked
    assert masker.personal("attribute:city", "Ely").masked == MASK
    assert masker.key_of("robin@example.org") != "robin@example.org"


def test_reveal_log_records_who_what_and_when_but_not_the_value(tmp_path: Path) -> None:
    log = RevealLog(tmp_path / "logs" / "reveals.jsonl")
    log.record("cus_1", "attribute:email", "127.0.0.1")
    log.record("cus_2", "identifier:phone:abc", "127.0.0.1")
    entries = log.entries()
    assert [e["customer_id"] for e in entries] == ["cus_1", "cus_2"]
    assert set(entries[0]) == {"revealed_at", "user", "client", "customer_id", "field"}
    lines = (tmp_path / "logs" / "reveals.jsonl").read_text().splitlines()
    assert [json.loads(line)["field"] for line in lines] == [
        "attribute:email",
        "identifier:phone:abc",
    ]

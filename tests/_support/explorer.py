"""Driving the explorer's graph in a real browser: Cytoscape draws on a canvas, so a node is
clicked where it was drawn, with a real mouse."""

from __future__ import annotations

from typing import Any

CY = "document.getElementById('graph')._cyreg.cy"


def click_node(page: Any, node_id: str) -> None:
    """Click a graph node where Cytoscape drew it (a real mouse click on the canvas)."""
    page.wait_for_function(
        "id => document.getElementById('graph')?._cyreg?.cy?.$id(id).length === 1", arg=node_id
    )
    box = page.locator("#graph").bounding_box()
    pos = page.evaluate(f"id => {CY}.$id(id).renderedPosition()", node_id)
    page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])


def graph_size(page: Any) -> int:
    return int(page.evaluate(f"{CY}.nodes().length"))

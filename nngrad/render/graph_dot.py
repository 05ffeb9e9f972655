"""``nngrad graph -o net.dot``: the graph as Graphviz DOT, for people who have Graphviz
(``dot -Tsvg net.dot``). Nodes are records (name and shape | value | gradient), filled as the SVG
is (``graph_svg.colour``); edges are labelled with the forward operation and, after a ←, the
backward factor. Every string is quoted and escaped."""

from __future__ import annotations

from ..equations.graph import Graph
from .graph_svg import WRONG, colour, node_lines, xml_text


def quoted(text: str) -> str:
    """``text`` as a DOT double-quoted string (no control character, no lone surrogate)."""
    text = xml_text(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _record(text: str) -> str:
    """``text`` safe inside a record label field."""
    text = xml_text(text)
    for c in "\\{}|<>\"":
        text = text.replace(c, "\\" + c)
    return text


def render_dot(g: Graph) -> str:
    """The DOT document of ``g``."""
    out = [f"digraph {quoted(g.title)} {{", "  rankdir=LR;",
           '  node [shape=record, style=filled, fontname="monospace", fontsize=10];',
           '  edge [fontname="monospace", fontsize=9];']
    for n in g.nodes:
        label = "{" + "|".join(_record(line) for line in node_lines(n)) + "}"
        extra = f', color="{WRONG}", penwidth=3' if n.wrong else ""
        out.append(f"  {quoted(n.name)} [label={quoted(label)}, fillcolor=\"{colour(n.heat)}\"{extra}];")
    for e in g.edges:
        label = "\n".join(t for t in (e.forward, "← " + e.backward if e.backward else "") if t)
        out.append(f"  {quoted(e.source)} -> {quoted(e.target)} [label={quoted(label)}];")
    out.append("}")
    return "\n".join(out) + "\n"

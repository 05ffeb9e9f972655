"""``nngrad graph``'s pictures, drawn by nngrad itself: SVG, and the SVG in a small HTML page.

The layout is a grid (``equations.graph``: every node has a column and a row): the chain runs
left to right along row 0, a layer's parameters above (W, gamma, mu, mask) and below (b, beta,
var) the tensor they enter. Each node is a box with its name and shape, a line of its value (min,
max, norm) and one of its gradient, and the entries themselves for 16 or fewer. Each edge is an
arrow with its forward operation above it and its backward factor below it, after a ←.

Colour: a node is filled by log10 of its gradient's norm on viridis from 1e-8 (dark purple:
vanishing) to 1e2 (yellow), clipped at both ends; grey has no gradient (mu, var, a mask). A red
border is a gradient compare marked wrong, and ★ the earliest wrong layer's. Every text is
escaped. ``graph_svg(obj)`` is the SVG of a Graph (its notebook ``_repr_svg_``) or of a Network.
"""

from __future__ import annotations

import re
from html import escape as _escape

from ..equations.graph import HEAT, Graph

FONT, CHAR, LINE, PAD = 11, 6.7, 15, 8  # font size, monospace advance, line height, box padding
ROW_GAP, MIN_GAP = 56, 70
VIRIDIS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779",
           "#6ece58", "#b5de2b", "#fde725")
NONE_FILL, WRONG = "#d9d9d9", "#d62728"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text) -> str:
    """``text`` as XML 1.0 can hold it: control characters and lone surrogates (a file name's
    bytes that are not UTF-8) become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(text))


def escape(text) -> str:
    return _escape(xml_text(text))


def colour(heat: float | None) -> str:
    """The fill of a node whose gradient has log10 norm ``heat`` (None: no gradient)."""
    if heat is None:
        return NONE_FILL
    lo, hi = HEAT
    t = min(max((heat - lo) / (hi - lo), 0.0), 1.0)
    return VIRIDIS[round(t * (len(VIRIDIS) - 1))]


def _num(v: float) -> str:
    return f"{v:.4g}"


def _stats(s) -> str:
    return f"min {_num(s.min)}  max {_num(s.max)}  ‖·‖ {_num(s.norm)}"


def node_lines(n) -> list[str]:
    """The text of a node's box, line by line: title, detail, value, gradient."""
    shape = "scalar" if n.shape == () else str(tuple(n.shape))
    lines = [("★ " if n.star else "") + f"{n.name}  {shape}"]
    if n.detail:
        lines.append(n.detail)
    for label, s in (("value", n.value), (n.grad_name or "grad", n.grad)):
        if s is None:
            lines.append(f"{label}: —" if label != "value" else "value: —")
            continue
        lines.append(f"{label}: {_stats(s)}")
        if s.values is not None and len(s.values) * max(len(r) for r in s.values) > 1:
            lines += ["  [" + ", ".join(_num(v) for v in row) + "]" for row in s.values]
    if n.wrong:
        lines.append(f"✗ {n.grad_name} is wrong (compare)")
    return lines


def _layout(g: Graph):
    """{name: (x, y, width, height)} and the picture's width and height."""
    size = {n.name: (max(len(t) for t in node_lines(n)) * CHAR + 2 * PAD,
                     len(node_lines(n)) * LINE + 2 * PAD) for n in g.nodes}
    cols = sorted({n.col for n in g.nodes})
    rows = sorted({n.row for n in g.nodes})
    width = {c: max(size[n.name][0] for n in g.nodes if n.col == c) for c in cols}
    height = {r: max(size[n.name][1] for n in g.nodes if n.row == r) for r in rows}
    where = {n.name: n for n in g.nodes}
    x, xs = 20.0, {}
    for c in cols:
        labels = [len(t) for e in g.edges if where[e.target].col == c and where[e.source].col < c
                  for t in (e.forward, "← " + e.backward)]
        gap = max(MIN_GAP, (max(labels) * CHAR + 24) if labels else 0) if c != cols[0] else 0
        if g.units and c != cols[0]:
            gap = max(gap * 1.6, 200)
        x += gap
        xs[c], x = x, x + width[c]
    y, ys = 50.0, {}
    for r in rows:
        ys[r], y = y, y + height[r] + ROW_GAP * (2 if g.units else 1)
    boxes = {}
    for n in g.nodes:
        w, h = size[n.name]
        boxes[n.name] = (xs[n.col] + (width[n.col] - w) / 2, ys[n.row] + (height[n.row] - h) / 2, w, h)
    return boxes, x + 20, y + 40


def _ends(a, b):
    """The ends of an arrow from box a to box b: side to side, or top to bottom in one column."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    if ax + aw <= bx:
        return (ax + aw, ay + ah / 2), (bx, by + bh / 2)
    cx = bx + bw / 2
    return ((cx, ay + ah), (cx, by)) if ay < by else ((cx, ay), (cx, by + bh))


def render_svg(g: Graph) -> str:
    """The SVG document of ``g``."""
    boxes, width, height = _layout(g)
    legend_y = height
    height += 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="{FONT}">',
           f"<title>{escape(g.title)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
           'fill="#555"/></marker></defs>',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="20" y="28" font-size="14" font-weight="bold">{escape(g.title)}'
           f'{" (units)" if g.units else ""}</text>']
    where = {n.name: n for n in g.nodes}
    for e in g.edges:
        (x1, y1), (x2, y2) = _ends(boxes[e.source], boxes[e.target])
        t = 0.3 if g.units and where[e.source].col < where[e.target].col else 0.5
        mx, my = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
        vertical = abs(x2 - x1) < 1
        anchor, dx = ("start", 6) if vertical else ("middle", 0)
        out.append(f'<g class="edge" data-source="{escape(e.source)}" data-target="{escape(e.target)}">'
                   f"<title>{escape(e.source)} → {escape(e.target)}</title>"
                   f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555" '
                   f'stroke-width="1.3" marker-end="url(#arrow)"/>'
                   f'<text class="forward" x="{mx + dx:.1f}" y="{my - 4:.1f}" text-anchor="{anchor}" '
                   f'fill="#222">{escape(e.forward)}</text>'
                   f'<text class="backward" x="{mx + dx:.1f}" y="{my + 12:.1f}" text-anchor="{anchor}" '
                   f'fill="#b34700">{escape("← " + e.backward if e.backward else "")}</text></g>')
    for n in g.nodes:
        x, y, w, h = boxes[n.name]
        fill = colour(n.heat)
        ink = "white" if fill in VIRIDIS[:6] else "black"
        stroke = f'stroke="{WRONG}" stroke-width="4"' if n.wrong else 'stroke="#333" stroke-width="1"'
        out.append(f'<g class="node" id="node-{escape(n.name)}" data-name="{escape(n.name)}" '
                   f'data-kind="{n.kind}" data-wrong="{str(n.wrong).lower()}" '
                   f'data-star="{str(n.star).lower()}" data-fill="{fill}">'
                   f"<title>{escape(n.name)}</title>"
                   f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" '
                   f'fill="{fill}" {stroke}/>')
        for i, line in enumerate(node_lines(n)):
            bold = ' font-weight="bold"' if i == 0 else ""
            out.append(f'<text x="{x + PAD:.1f}" y="{y + PAD + (i + 0.8) * LINE:.1f}" fill="{ink}"'
                       f'{bold} xml:space="preserve">{escape(line)}</text>')
        out.append("</g>")
    out += _legend(legend_y)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(y: float) -> list[str]:
    lo, hi = HEAT
    step = (hi - lo) / (len(VIRIDIS) - 1)
    out = [f'<g class="legend"><text x="20" y="{y + 12:.0f}">fill: log10 ‖gradient‖</text>']
    for i, c in enumerate(VIRIDIS):
        x = 190 + i * 44
        out.append(f'<rect x="{x}" y="{y:.0f}" width="44" height="16" fill="{c}"/>'
                   f'<text x="{x + 22}" y="{y + 30:.0f}" text-anchor="middle">{lo + i * step:+.1f}</text>')
    x = 190 + len(VIRIDIS) * 44 + 20
    out.append(f'<rect x="{x}" y="{y:.0f}" width="16" height="16" fill="{NONE_FILL}"/>'
               f'<text x="{x + 22}" y="{y + 12:.0f}">no gradient</text>'
               f'<rect x="{x + 130}" y="{y:.0f}" width="16" height="16" fill="white" stroke="{WRONG}" '
               f'stroke-width="3"/><text x="{x + 152}" y="{y + 12:.0f}">wrong (compare); ★ earliest '
               f'wrong layer</text></g>')
    return out


def render_html(g: Graph) -> str:
    """A small HTML page with the SVG of ``g`` inline."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(g.title)}: nngrad graph</title>\n"
            "<style>body { margin: 1em; font-family: sans-serif; } svg { max-width: none; }</style>\n"
            f"</head>\n<body>\n{render_svg(g)}</body>\n</html>\n")


def graph_svg(obj) -> str:
    """The SVG of a ``Graph``, or of a ``Network`` run forward and backward (``_repr_svg_``)."""
    if not isinstance(obj, Graph):
        from ..equations.graph import graph

        obj = graph(obj)
    return render_svg(obj)

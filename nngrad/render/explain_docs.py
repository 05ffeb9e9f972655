"""``nngrad explain`` as documents: Markdown with LaTeX math (for notes and homework), and JSON
(``jsondoc``'s schema)."""

from __future__ import annotations

import re

import numpy as np

from ..equations.notation import annotated, code, latex, plain, text
from .explain_text import PARTS, describe, formatter, grouped, layer_title, legend, values_text
from .jsondoc import (envelope, loss_entry, network_loss, plain as plain_numbers, result_loss,
                      with_nonfinite_error)


def markdown(ex, *, title: str, layer: int | None = None, env: dict | None = None,
             precision: int = 6, edgeitems: int = 3, inline_threshold: int = 16) -> str:
    """The explanation as Markdown: a section per part and layer, each equation in ``$$`` math
    with every factor's shape underneath, then its note, its NumPy code and, with ``env``, values."""

    show = formatter(precision, edgeitems, inline_threshold)
    out = [f"# nngrad explain: {code_span(title)}", "", f"A{describe(ex)[1:]}.", "",
           f"Notation: {legend(ex.skeleton)}.", ""]
    for part, layer_opened, eq in grouped(ex, layer):
        if part:
            out += [f"## {PARTS[part]}", ""]
        if layer_opened:
            out += [f"### Layer {eq.layer}: {layer_title(ex.skeleton, eq.layer)}", ""]
        out += ["$$", f"{latex(eq.lhs)} = {latex(eq.rhs)}", "$$", ""]
        if env is not None:
            out += [f"`{eq.lhs.name} = {values_text(eq.rhs, env, show)} = {show(env[eq.lhs.name])}`", ""]
        if eq.note:
            out += [eq.note + ".", ""]
        out += [f"`{eq.lhs.name} = {code(eq.rhs)}`", ""]
    return "\n".join(out).rstrip() + "\n"


def code_span(text: str) -> str:
    """``text`` as a Markdown code span on one line that no backtick in it can end early
    (CommonMark: a fence longer than any run of backticks inside, padded where the text starts
    or ends with one); a line break becomes a space."""
    text = re.sub(r"[\r\n]+", " ", text)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def explanation_document(ex, *, layer: int | None = None, env: dict | None = None,
                         spec: str | None = None, net=None, res=None, forward: bool = True) -> dict:
    """The explanation as one JSON document (``jsondoc``'s envelope, then ``m`` and
    ``equations``): each equation as text (with and without shapes), LaTeX and NumPy code, its
    shape, layer, part, note and whether its shapes fit; with ``env``, its value. The loss value
    is ``res``'s (which also adds ``error`` when a value is not finite), or ``net``'s forward
    pass (unless not ``forward``); without either, only the loss's name and reduction are known."""
    sk = ex.skeleton
    if res is not None:
        loss = result_loss(res)
    elif net is not None and forward:
        loss = network_loss(net)
    else:
        loss = loss_entry(sk.loss, sk.reduction)
    dtype = res.dtype if res is not None else getattr(net, "dtype", None)
    doc = envelope("explain", spec, layout=sk.layout, dtype=dtype, loss=loss)
    doc.update(m=sk.m, equations=[_entry(eq, env) for _, _, eq in grouped(ex, layer)])
    return doc if res is None else with_nonfinite_error(doc, res, spec)


def walk_document(walk) -> dict:
    """What explain knows of a spec whose shapes do not fit, for its error document: the layout,
    the loss's name and reduction, m, and the equations up to the one that fails (``fits``
    false, with ``needed``)."""
    doc = explanation_document(walk)
    return {key: doc[key] for key in ("layout", "loss", "m", "equations")}


def _entry(eq, env: dict | None) -> dict:
    shape = eq.lhs.shape
    entry = {"layer": eq.layer, "part": eq.part, "name": eq.lhs.name,
             "shape": None if shape is None else list(shape),
             "text": f"{annotated(eq.lhs, eq.lhs.name)} = {text(eq.rhs)}",
             "plain": f"{eq.lhs.name} = {plain(eq.rhs)}", "latex": f"{latex(eq.lhs)} = {latex(eq.rhs)}",
             "numpy": f"{eq.lhs.name} = {code(eq.rhs)}", "note": eq.note, "fits": eq.fits}
    if not eq.fits:
        entry["needed"] = eq.needed
    if env is not None:
        entry["value"] = plain_numbers(np.asarray(env[eq.lhs.name]))
    return entry

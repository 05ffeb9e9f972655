"""``nngrad explain`` as documents: Markdown with LaTeX math (for notes and homework), and JSON."""

from __future__ import annotations

import re

import numpy as np

from ..equations.notation import annotated, code, latex, plain, text
from .explain_text import PARTS, describe, formatter, grouped, layer_title, legend, values_text
from .jsondoc import plain as plain_numbers


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


def explanation_document(ex, *, layer: int | None = None, env: dict | None = None) -> dict:
    """The explanation as one JSON document: each equation as text (with and without shapes),
    LaTeX and NumPy code, its shape, layer, part and note; with ``env``, its value."""
    sk = ex.skeleton
    equations = []
    for _, _, eq in grouped(ex, layer):
        entry = {"layer": eq.layer, "part": eq.part, "name": eq.lhs.name,
                 "shape": list(eq.lhs.shape), "text": f"{annotated(eq.lhs, eq.lhs.name)} = {text(eq.rhs)}",
                 "plain": f"{eq.lhs.name} = {plain(eq.rhs)}", "latex": f"{latex(eq.lhs)} = {latex(eq.rhs)}",
                 "numpy": f"{eq.lhs.name} = {code(eq.rhs)}", "note": eq.note}
        if env is not None:
            entry["value"] = plain_numbers(np.asarray(env[eq.lhs.name]))
        equations.append(entry)
    return {"layout": sk.layout, "loss": {"name": sk.loss, "reduction": sk.reduction},
            "m": sk.m, "equations": equations}

"""``nngrad explain --error``'s answer (``equations.mismatch``) as text, Markdown and JSON."""

from __future__ import annotations

from ..equations.expr import shape_text

PARTS = {"forward": "forward", "loss": "loss", "backward": "backward"}


def reported_text(r) -> str:
    """What the message says, in words: ``a matrix product of (1×5) and (1×1)``."""
    if r.form == "dot":
        return "a matrix product (np.dot) of " + " and ".join(f"({shape_text(s)})" for s in r.shapes)
    if r.form == "matmul":
        return (f"a matrix product (@) whose first factor has {r.inner[0]} columns and whose "
                f"second has {r.inner[1]} rows")
    return "an elementwise operation on " + " and ".join(f"({shape_text(s)})" for s in r.shapes)


def text_lines(ee, title: str) -> list[str]:
    """The answer as lines of plain text, for a terminal."""
    lines = [f'{title}: "{ee.reported.line}" is {reported_text(ee.reported)}']
    if not ee.matches:
        return lines + _none(ee)
    n = len(ee.matches)
    lines.append(f"{_count(n, ee.reported.form)} of this network fail{'s' if n == 1 else ''} that "
                 f"way when written as below{', most likely first' if n > 1 else ''}:")
    for k, m in enumerate(ee.matches, start=1):
        eq = m.equation
        lines += ["", f"{k}. {PARTS[eq.part]}, layer {eq.layer}: {_equation(eq)}",
                  f"   you wrote {_expr(m.wrote)}: {m.how}",
                  f"   which fails: {m.why}",
                  f"   numpy: {m.fix}"]
    return lines


def markdown(ee, title: str) -> str:
    """The answer as Markdown: the message, then each match as a numbered item."""
    out = [f"# {title}: `{ee.reported.line}`", "", f"It is {reported_text(ee.reported)}."]
    if not ee.matches:
        return "\n".join(out + [""] + _none(ee)) + "\n"
    for k, m in enumerate(ee.matches, start=1):
        eq = m.equation
        out += ["", f"{k}. **{PARTS[eq.part]}, layer {eq.layer}**: `{_equation(eq)}`",
                f"   - you wrote `{_expr(m.wrote)}`: {m.how}",
                f"   - which fails: {m.why}", f"   - numpy: `{m.fix}`"]
    return "\n".join(out) + "\n"


def document(ee, spec: str, net) -> dict:
    """The answer as one JSON document (``jsondoc``'s envelope, then ``reported``, ``matches``,
    ``shapes`` and ``unknown_shapes``; ``error`` stays the key of a failure, as in every
    document)."""
    from .jsondoc import envelope, loss_entry

    r, sk = ee.reported, ee.explanation.skeleton
    doc = envelope("explain", spec, layout=sk.layout, dtype=net.dtype,
                   loss=loss_entry(sk.loss, sk.reduction))
    doc["reported"] = {"form": r.form, "text": r.line, "shapes": [list(s) for s in r.shapes],
                       "inner": None if r.inner is None else list(r.inner), "in_place": r.in_place}
    doc["matches"] = [{"layer": m.equation.layer, "part": m.equation.part,
                       "name": m.equation.lhs.name, "equation": _equation(m.equation),
                       "right": _expr(m.right), "wrote": _expr(m.wrote), "mistake": m.kind,
                       "how": m.how, "why": m.why, "numpy": m.fix} for m in ee.matches]
    doc["shapes"] = {name: list(s) for name, s in ee.shapes.items()}
    doc["unknown_shapes"] = [list(s) for s in ee.unknown_shapes]
    return doc


def _none(ee) -> list[str]:
    what = "product" if ee.reported.form != "broadcast" else "elementwise operation"
    lines = [f"No {what} of this network fails that way, as it is written, with a factor "
             "transposed, or in the other order. Its arrays:", "  "]
    for name, s in ee.shapes.items():  # a name and its shape stay on one line
        item = f" {name} {shape_text(s)},"
        if len(lines[-1]) + len(item) > 88:
            lines.append("  ")
        lines[-1] += item
    lines[-1] = lines[-1].rstrip(",")
    unknown = ee.unknown_shapes
    if unknown:
        shown = " and ".join(f"({shape_text(s)})" for s in unknown)
        lines.append(f"{shown} {'is' if len(unknown) == 1 else 'are'} no shape of them, nor of "
                     "their transposes: which of your arrays has it?")
    if _bias_like(ee):
        lines.append("(A bias of (n,) added to a column of (n, 1) broadcasts to (n, n).)")
    return lines


def _bias_like(ee) -> bool:
    """An (n, n) that a column (n, 1), or a row (1, n), and a vector (n,) broadcast to: reported
    by an in-place add, or a shape no array has."""
    r = ee.reported
    if r.in_place and len(r.shapes) == 2 and len(r.shapes[0]) == 2:
        out, wide = r.shapes
        return len(wide) == 2 and wide[0] == wide[1] and 1 in out and max(out) == wide[0]
    widths = {n for s in ee.shapes.values() for n in s}
    return any(len(s) == 2 and s[0] == s[1] in widths for s in ee.unknown_shapes)


def _count(n: int, form: str) -> str:
    what = "product" if form != "broadcast" else "elementwise operation"
    return f"{n} {what}{'s' if n != 1 else ''}"


def _equation(eq) -> str:
    from ..equations.notation import annotated, text

    return f"{annotated(eq.lhs, eq.lhs.name)} = {text(eq.rhs)}"


def _expr(e) -> str:
    from ..equations.notation import text

    return text(e)

"""``nngrad explain --error``'s answer (``equations.mismatch``) as text, Markdown and JSON.

The matches are told an equation at a time (one item, each writing that fits under it); with
none, the near misses and the network's arrays; and a hint where a bias broadcast.
"""

from __future__ import annotations

from ..equations.expr import shape_text


def reported_text(r) -> str:
    """What the message says, in words: ``a matrix product (np.dot) of (1×5) and (1×1)``."""
    if r.form == "dot":
        return "a matrix product (np.dot) of " + " and ".join(map(_shape, r.shapes))
    if r.form == "matmul":
        cols, rows = r.inner
        return (f"a matrix product (@) whose first factor has {cols} column{'s' * (cols != 1)} "
                f"and whose second has {rows} row{'s' * (rows != 1)}")
    if r.in_place:
        return (f"an elementwise operation written in place into {_shape(r.shapes[0])}, whose "
                f"result broadcasts to {_shape(r.shapes[1])}")
    return "an elementwise operation on " + " and ".join(map(_shape, r.shapes))


def groups(ee) -> list:
    """The matches by equation, in their order: [(equation, [match, ...]), ...]."""
    out: dict = {}
    for m in ee.matches:
        out.setdefault(m.equation.lhs.name, (m.equation, []))[1].append(m)
    return list(out.values())


def text_lines(ee, title: str) -> list[str]:
    """The answer as lines of plain text, for a terminal."""
    lines = [f'{title}: "{ee.reported.line}" is {reported_text(ee.reported)}']
    found = groups(ee)
    if not found:
        return lines + _none(ee)
    n = len(found)
    lines.append(f"{_count(n, ee.reported.form)} of this network fail{'s' if n == 1 else ''} "
                 f"that way when written as below{', most likely first' if n > 1 else ''}:")
    for k, (eq, ms) in enumerate(found, start=1):
        lines += ["", f"{k}. {eq.part}, layer {eq.layer}: {_equation(eq)}"]
        for i, m in enumerate(ms):
            lines += [f"   {'or you' if i else 'you'} wrote {_expr(m.wrote)}: {m.how}",
                      f"   which fails: {m.why}"]
        lines.append(f"   numpy: {ms[0].fix}")
    return lines + _hint(ee)


def markdown(ee, title: str) -> str:
    """The answer as Markdown: the message, then each equation as a numbered item."""
    out = [f"# {title}: `{ee.reported.line}`", "", f"It is {reported_text(ee.reported)}."]
    found = groups(ee)
    if not found:
        return "\n".join(out + [""] + _none(ee)) + "\n"
    for k, (eq, ms) in enumerate(found, start=1):
        out += ["", f"{k}. **{eq.part}, layer {eq.layer}**: `{_equation(eq)}`"]
        for m in ms:
            out += [f"   - you wrote `{_expr(m.wrote)}`: {m.how}", f"   - which fails: {m.why}"]
        out.append(f"   - numpy: `{ms[0].fix}`")
    return "\n".join(out + [""] + _hint(ee)).rstrip("\n") + "\n"


def document(ee, spec: str, net) -> dict:
    """The answer as one JSON document (``jsondoc``'s envelope, then ``reported``, ``matches``,
    ``near``, ``shapes``, ``unknown_shapes``, ``hint`` and ``elsewhere``; ``error`` stays the key
    of a failure, as in every document)."""
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
    doc["near"] = [{"layer": n.equation.layer, "part": n.equation.part, "name": n.equation.lhs.name,
                    "equation": _equation(n.equation), "fits": _expr(n.fits),
                    "wrong": _expr(n.wrong), "needed": list(n.wrong.shape), "given": list(n.given)}
                   for n in ee.near]
    doc["shapes"] = {name: list(s) for name, s in ee.shapes.items()}
    doc["unknown_shapes"] = [list(s) for s in ee.unknown_shapes]
    doc["hint"] = (_hint(ee) or [None])[0]
    doc["elsewhere"] = ee.elsewhere
    return doc


def _none(ee) -> list[str]:
    what = "product" if ee.reported.form != "broadcast" else "elementwise operation"
    where = "" if not ee.elsewhere else f" in this layer ({ee.elsewhere} in others: leave out --layer)"
    lines = [f"No {what} of this network fails that way{where}, as it is written, with a factor "
             "transposed, or in the other order."]
    for n in ee.near:
        lines.append(f"Near: {n.equation.part}, layer {n.equation.layer}: {_equation(n.equation)}: "
                     f"{_expr(n.fits)} fits; {_plain(n.wrong)} must be ({shape_text(n.wrong.shape)}),"
                     f" yours is {_shape(n.given)}")
    lines.append("Its arrays:")
    lines.append("  ")
    for name, s in ee.shapes.items():  # a name and its shape stay on one line
        item = f" {name} {shape_text(s)},"
        if len(lines[-1]) + len(item) > 88:
            lines.append("  ")
        lines[-1] += item
    lines[-1] = lines[-1].rstrip(",")
    unknown = ee.unknown_shapes
    if unknown:
        shown = " and ".join(map(_shape, unknown))
        lines.append(f"{shown} {'is' if len(unknown) == 1 else 'are'} no shape of them, nor of "
                     "their transposes: which of your arrays has it?")
    return lines + _hint(ee)


def _hint(ee) -> list[str]:
    """A bias that broadcast into (n, n), told for the layout or the in-place add at hand."""
    r = ee.reported
    if r.in_place and len(r.shapes) == 2 and len(r.shapes[0]) == 2 == len(r.shapes[1]):
        (p, q), (n, n2) = r.shapes
        if n == n2 and {p, q} == {1, n}:
            return [f"(A bias of {'(n,)' if q == 1 else '(n, 1)'} added in place to a "
                    f"{'column (n, 1)' if q == 1 else 'row (1, n)'} broadcasts to (n, n), here "
                    f"n = {n}: give it as {'(n, 1)' if q == 1 else '(n,) or (1, n)'}.)"]
        return []
    vector = [s[0] for s in r.shapes if len(s) == 1]
    if r.form == "broadcast" and vector and any(len(s) == 2 and s[0] == vector[0] != s[1]
                                                for s in r.shapes):
        return [f"(A vector of ({vector[0]},) lines up with the last axis: to add it to each column "
                f"of ({vector[0]}, m), give it as ({vector[0]}, 1), b.reshape(-1, 1).)"]
    square = {s[0] for s in r.shapes if len(s) == 2 and s[0] == s[1]}
    needed = {n.given[0] for n in ee.near if n.given[0] == n.given[-1] and 1 in n.wrong.shape}
    widths = {d for s in ee.shapes.values() for d in s}
    for n in sorted(square & (needed | {s[0] for s in ee.unknown_shapes}) & widths):
        if ee.explanation.skeleton.layout == "columns":
            return [f"(A bias of (n,) added to a column (n, 1) broadcasts to (n, n), here n = {n}:"
                    " give b as (n, 1), or b.reshape(-1, 1).)"]
        return [f"(A bias of (n, 1) added to a row (1, n) broadcasts to (n, n), here n = {n}: "
                "give b as (n,) or (1, n).)"]
    return []


def _count(n: int, form: str) -> str:
    what = "product" if form != "broadcast" else "elementwise operation"
    return f"{n} {what}{'s' if n != 1 else ''}"


def _shape(s: tuple) -> str:
    """``(1×5)``, and a vector as NumPy writes it, ``(32,)``."""
    return f"({s[0]},)" if len(s) == 1 else f"({shape_text(s)})"


def _equation(eq) -> str:
    from ..equations.notation import annotated, text

    return f"{annotated(eq.lhs, eq.lhs.name)} = {text(eq.rhs)}"


def _expr(e) -> str:
    from ..equations.notation import text

    return text(e)


def _plain(e) -> str:
    from ..equations.notation import text

    return text(e, lambda node, inner: inner)

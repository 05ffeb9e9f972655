"""``nngrad explain`` for people: the equations with shapes, a note and NumPy code under each.

On a terminal, names stand out and shapes are dimmed; piped, it is plain text, one equation
per line. With values, each equation is followed by its numbers, as in a worked example.
"""

from __future__ import annotations

import numpy as np

from ..equations.expr import Fn, Sum
from ..equations.notation import annotated, code, text

PARTS = {"forward": "Forward", "loss": "Loss", "backward": "Backward, from the loss to the input"}
SHAPE = r"\((?:\d+(?:×\d+)*|scalar|\?)\)"


def legend(sk) -> str:
    """The notation, in one line."""
    sums = "Σ_rows sums over the rows" if sk.layout == "rows" else "Σ_cols sums over the columns"
    if any(layer.norm and layer.norm.key == "layernorm" for layer in sk.layers):
        sums = "Σ_rows sums over the rows, Σ_cols over the columns"
    if any(layer.norm for layer in sk.layers):
        sums += ", √ square root"
    return (f"· matrix product, ⊙ ⊘ entry by entry, ᵀ transpose, [Z > 0] is 1 where true and 0 "
            f"elsewhere, {sums}, Σ over every entry; (6×1) is a shape")


def describe(ex) -> str:
    """The network in one line: widths, layout and what it means, m, the loss."""
    sk = ex.skeleton
    widths = [sk.X[1] if sk.layout == "rows" else sk.X[0]]
    widths += [w[1] if sk.layout == "rows" else w[0] for w in (layer.W for layer in sk.layers)]
    how = ("one example per row: Z = A_prev · W + b" if sk.layout == "rows"
           else "one example per column: Z = W · A_prev + b")
    m = sk.m
    bn = any(layer.norm and layer.norm.key == "batchnorm" for layer in sk.layers)
    return (f"a {'-'.join(map(str, widths))} network, {sk.layout} layout ({how}), "
            f"m = {m} example{'s' * (m != 1)}, loss {sk.loss} ({sk.reduction})"
            + ("; batchnorm in training mode: mu and var of this batch" if bn else ""))


def inline(a, *, precision: int, edgeitems: int, max_entries: int) -> str:
    """``a`` on one line, ``[[0.05, 0.1]]``; past ``max_entries`` only ``edgeitems`` per axis."""
    a = np.asarray(a)
    cut = a.size > max_entries

    def go(x) -> str:
        if x.ndim == 0:
            return f"{float(x):.{precision}g}"
        items = [go(v) for v in (x[:edgeitems] if cut else x)]
        if cut and x.shape[0] > edgeitems:
            items.append("…")
        return "[" + ", ".join(items) + "]"

    return go(a)


def formatter(precision: int, edgeitems: int, inline_threshold: int):
    """``inline`` with these settings, as a function of one array."""
    return lambda a: inline(a, precision=precision, edgeitems=edgeitems, max_entries=inline_threshold)


def grouped(ex, layer: int | None):
    """The equations (of one layer, if given), each as ``(part, layer_opened, eq)``: the part it
    opens (or None), whether it opens a layer's block (the loss has none), and the equation."""
    part = current = None
    for eq in ex.equations:
        if layer is not None and eq.layer != layer:
            continue
        opens = eq.part if eq.part != part else None
        if opens:
            part, current = eq.part, None
        layer_opened = eq.part != "loss" and eq.layer != current
        if layer_opened:
            current = eq.layer
        yield opens, layer_opened, eq


def render_explanation(ex, console, *, title: str, layer: int | None = None, env: dict | None = None,
                       precision: int = 6, edgeitems: int = 3, inline_threshold: int = 16) -> None:
    """Print the explanation, or one layer of it, to a rich console; ``env`` adds the values."""
    from rich.text import Text

    show = formatter(precision, edgeitems, inline_threshold)
    console.print(Text(f"{title}: {describe(ex)}", style="bold"), soft_wrap=True)
    console.print(Text(legend(ex.skeleton), style="dim"), soft_wrap=True)
    for part, layer_opened, eq in grouped(ex, layer):
        if part:
            console.print()
            console.print(Text(PARTS[part], style="bold underline"))
        if layer_opened:
            console.print(Text(f" layer {eq.layer}: {_activation(ex, eq.layer)}", style="bold"))
        console.print(equation_text(eq), soft_wrap=True)
        if env is not None:
            pad = " " * (4 + len(annotated(eq.lhs, eq.lhs.name)))
            values, result = values_text(eq.rhs, env, show), show(env[eq.lhs.name])
            for v in (values, result) if values != result else (result,):
                console.print(Text(f"{pad}= {v}", style="yellow"), soft_wrap=True)
        if eq.note:
            console.print(Text(f"     {eq.note}", style="dim"), soft_wrap=True)
        console.print(Text(f"     numpy: {eq.lhs.name} = {code(eq.rhs)}", style="green"),
                      soft_wrap=True)


def values_text(rhs, env: dict, show) -> str:
    """``rhs`` with its numbers in place of its symbols; a function or sum shows its argument."""

    def leaf(node, inner):
        if isinstance(node, Fn):
            return f"{node.notation.text}({show(node.x.value(env))})"
        return inner if isinstance(node, Sum) else show(node.value(env))

    return text(rhs, leaf)


def layer_title(sk, l: int) -> str:
    """What layer l does, in order: ``batchnorm → relu → dropout (keep 0.5)``."""
    layer = sk.layers[l - 1]
    drop = layer.dropout
    parts = [layer.norm.key] if layer.norm else []
    parts += [layer.activation] + ([f"dropout (keep {drop.keep:g}"
                                    + (", not inverted)" if not drop.inverted else ")")] if drop else [])
    return " → ".join(parts)


def _activation(ex, l: int) -> str:
    sk = ex.skeleton
    return layer_title(sk, l) + (", the output layer" if l == len(sk.layers) else "")


def equation_text(eq):
    """``lhs (shape) = rhs`` as rich Text: the name in bold cyan, every shape dimmed."""
    from rich.text import Text

    line = Text(f"   {annotated(eq.lhs, eq.lhs.name)} = {text(eq.rhs)}")
    line.stylize("bold cyan", 3, 3 + len(eq.lhs.name))
    line.highlight_regex(SHAPE, "dim")
    return line


def render_walk(ex, console) -> None:
    """The equations of a spec whose shapes do not fit, up to the first that fails, marked."""
    from rich.text import Text

    for eq in ex.equations:
        if eq.fits:
            console.print(equation_text(eq), soft_wrap=True)
            continue
        line = equation_text(eq)
        line.append("   ✗ the shapes do not fit", style="bold red")
        console.print(line, soft_wrap=True)
        console.print(Text(f"     {eq.needed}", style="red"), soft_wrap=True)
        break

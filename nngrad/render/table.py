"""Human output: one rich table per layer (name, shape, values) under its title line, the loss
above them.

Arrays print as NumPy prints them, summarised past ``threshold`` entries and then followed by a
line of their min, max, norm and share of zeros, so a big result stays a screenful and still
says something. The values column is as wide as the console less the name and shape columns.
No line ends in spaces (``print_trimmed``). Colour and styles only where the console has them
(``cli.streams.console``: a terminal, and not ``NO_COLOR``). Every cell and title is a rich
``Text``, never markup: ``[inf]`` and a file named ``[bold]`` print as they are.
"""

from __future__ import annotations

import re

import numpy as np


def reduction_text(res) -> str:
    """What the loss's sum is divided by, in words: ``mean over 6 elements of Y``."""
    m = res.batch
    plural = lambda n, word: f"{n} {word}{'' if n == 1 else 's'}"  # noqa: E731
    return {"mean": f"mean over {plural(m * res[f'dB{res.n_layers}'].size, 'element')} of Y",
            "sum": "sum, not divided",
            "batch_mean": f"sum divided by the batch, {plural(m, 'example')}"}[res.reduction]


def format_array(a: np.ndarray, *, precision: int, threshold: int, edgeitems: int,
                 width: int) -> str:
    """``a`` as NumPy prints it, summarised with ``...`` past ``threshold`` entries."""
    return np.array2string(np.asarray(a), precision=precision, threshold=threshold,
                           edgeitems=edgeitems, max_line_width=max(width, 20), suppress_small=False)


def stage_notes(layers) -> list[str]:
    """What a reader must know about the layers' stages: batchnorm's training mode, dropout's
    mask, and a norm over one entry (its variance is 0, so S = beta)."""
    notes = []
    for l, layer in enumerate(layers, start=1):
        for key, state in layer.stages:
            if key == "batchnorm":
                notes.append(f"layer {l} batchnorm: training mode (the batch's mean and biased "
                             f"variance); b{l} cancels in Z{l} - mu{l}: the loss does not depend on it")
            elif key == "layernorm":
                notes.append(f"layer {l} layernorm: each example's mean and biased variance")
            else:
                drawn = f"drawn from seed {state.seed}" if state.seed is not None else "as given"
                scale = f" / {state.keep:g}" if state.inverted else ""
                notes.append(f"layer {l} dropout: keep {state.keep:g}, mask{l} {drawn}, "
                             f"A{l} = H{l} * mask{l}{scale}")
    return notes


def one_entry_norms(layers, batch: int) -> list[str]:
    """The warning for each norm taken over a single entry: var = 0, so S = beta exactly."""
    out = []
    for l, layer in enumerate(layers, start=1):
        norm = layer.norm
        if norm is None:
            continue
        over = batch if norm[0] == "batchnorm" else layer.b.size  # b has one entry per unit
        if over == 1:
            what = "a batch of one example" if norm[0] == "batchnorm" else "a layer of one unit"
            out.append(f"layer {l} {norm[0]} is over {what}: its variance is 0, so S{l} = beta{l} "
                       f"and dZ{l} = 0")
    return out


def summarised(a, threshold: int) -> bool:
    """Whether ``a`` prints summarised with ``...`` (more than ``threshold`` entries)."""
    return np.asarray(a).size > threshold


def tensor_summary(a: np.ndarray) -> str:
    """One line on ``a``: ``min -0.03864, max 0.04452, norm 0.7511, zeros 80.4%``; min, max and
    the norm over its finite entries, and how many are not finite, if any."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return "no entries"
    finite = a[np.isfinite(a)]
    parts = [f"min {finite.min():.4g}", f"max {finite.max():.4g}",
             f"norm {np.linalg.norm(finite):.4g}"] if finite.size else ["no finite entries"]
    parts.append(f"zeros {100 * np.count_nonzero(a == 0) / a.size:.3g}%")
    if finite.size < a.size:
        parts.append(f"not finite {a.size - finite.size}")
    return ", ".join(parts)


def render_table(res, console, *, title: str = "", precision: int = 6, threshold: int = 64,
                 edgeitems: int = 3, layers=(), only=None) -> None:
    """Print ``res`` to a rich ``console``: a header with the loss (and, given the network's
    ``layers``, notes on their stages), then one table per layer under its title line, of the
    names in ``only`` (a collection of result names) if given. An array of more than
    ``threshold`` entries is summarised with ``...`` and followed by ``tensor_summary``."""
    from rich.cells import cell_len
    from rich.text import Text

    head = Text()
    if title:
        head.append(title, style="bold")
        head.append(f"  {res.layout} layout, {res.dtype}\n", style="dim")
    head.append("loss ", style="bold")
    head.append(f"{res.loss:.10g}", style="bold green")
    head.append(f"  ({res.loss_name}, {reduction_text(res)})", style="dim")
    if res.penalty:
        head.append(f"\n  = data {res.loss_data:.10g} + penalty {res.penalty:.10g}", style="dim")
    for note in stage_notes(layers):
        head.append(f"\n{note}", style="dim")
    console.print(head)
    groups = [("input: dA0 = dLoss/dX, X's shape", ["dA0"])] if "dA0" in res else []
    for l, activation in enumerate(res.activations, start=1):
        stages = [key for key, _ in layers[l - 1].stages] if layers else []
        kinds = ", ".join([k for k in stages if k != "dropout"] + [activation] +
                          [k for k in stages if k == "dropout"])
        groups.append((f"layer {l}: {kinds}, W{l} {res[f'dW{l}'].shape}",
                       [n for n in res if re.fullmatch(f"[A-Za-z]+{l}", n)]))
    groups = [(t, [n for n in names if only is None or n in only]) for t, names in groups]
    groups = [(t, names) for t, names in groups if names]
    shown = [n for _, names in groups for n in names]
    widths = (max(map(cell_len, ["name", *shown])),
              max(map(cell_len, ["shape", *(str(res[n].shape) for n in shown)])))
    values_width = console.width - sum(widths) - 2 * GAP
    for heading, names in groups:
        console.print()
        console.print(Text(heading, style="bold"), soft_wrap=True)
        rows = []
        for name in names:
            a = res[name]
            cell = Text(format_array(a, precision=precision, threshold=threshold,
                                     edgeitems=edgeitems, width=values_width))
            if summarised(a, threshold):
                cell.append(f"\n{tensor_summary(a)}", style="dim")
            rows.append((Text(name), Text(str(a.shape)), cell))
        print_trimmed(console, _table(rows, widths))


GAP = 3  # the columns between two of a table's columns: padding, rule, padding


def _table(rows, widths):
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("name", style="bold cyan", no_wrap=True, min_width=widths[0])
    table.add_column("shape", style="dim", no_wrap=True, min_width=widths[1])
    table.add_column("values", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def print_trimmed(console, renderable) -> None:
    """Print ``renderable`` with no line ending in spaces (a rich table pads every cell)."""
    from rich.segment import Segment, Segments

    out = []
    for line in console.render_lines(renderable, pad=False):
        while line and not line[-1].control and not line[-1].text.rstrip():
            line.pop()
        if line and not line[-1].control:
            line[-1] = Segment(line[-1].text.rstrip(), line[-1].style)
        out += [*line, Segment.line()]
    console.print(Segments(out))

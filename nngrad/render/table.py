"""Human output: one rich table per layer (name, shape, values), the loss above them.

Arrays print as NumPy prints them, summarised past ``threshold`` entries, so a big result
stays a screenful. Colour only on a terminal; rich honours ``NO_COLOR``. Every cell and title
is a rich ``Text``, never markup: ``[inf]`` and a file named ``[bold]`` print as they are.
"""

from __future__ import annotations

import numpy as np

import re


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


def render_table(res, console, *, title: str = "", precision: int = 6, threshold: int = 64,
                 edgeitems: int = 3, layers=()) -> None:
    """Print ``res`` to a rich ``console``: a header with the loss (and, given the network's
    ``layers``, notes on their stages), then one table per layer."""
    from rich import box
    from rich.table import Table
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
    values_width = console.width - 24
    if "dA0" in res:
        table = Table(title=Text("input: dA0 = dLoss/dX, X's shape"), title_justify="left",
                      box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("name", style="bold cyan", no_wrap=True)
        table.add_column("shape", style="dim", no_wrap=True)
        table.add_column("values", overflow="fold")
        table.add_row(Text("dA0"), Text(str(res["dA0"].shape)),
                      Text(format_array(res["dA0"], precision=precision, threshold=threshold,
                                        edgeitems=edgeitems, width=values_width)))
        console.print()
        console.print(table)
    for l, activation in enumerate(res.activations, start=1):
        names = [n for n in res if re.fullmatch(f"[A-Za-z]+{l}", n)]
        stages = [key for key, _ in layers[l - 1].stages] if layers else []
        kinds = ", ".join([k for k in stages if k != "dropout"] + [activation] +
                          [k for k in stages if k == "dropout"])
        table = Table(title=Text(f"layer {l}: {kinds}, W{l} {res[f'dW{l}'].shape}"),
                      title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("name", style="bold cyan", no_wrap=True)
        table.add_column("shape", style="dim", no_wrap=True)
        table.add_column("values", overflow="fold")
        for name in names:
            a = res[name]
            table.add_row(Text(name), Text(str(a.shape)),
                          Text(format_array(a, precision=precision, threshold=threshold,
                                            edgeitems=edgeitems, width=values_width)))
        console.print()
        console.print(table)

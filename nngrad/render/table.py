"""Human output: one rich table per layer (name, shape, values), the loss above them.

Arrays print as NumPy prints them, summarised past ``threshold`` entries, so a big result
stays a screenful. Colour only on a terminal; rich honours ``NO_COLOR``. Every cell and title
is a rich ``Text``, never markup: ``[inf]`` and a file named ``[bold]`` print as they are.
"""

from __future__ import annotations

import numpy as np

from ..numerics.passes import KINDS


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


def render_table(res, console, *, title: str = "", precision: int = 6, threshold: int = 64,
                 edgeitems: int = 3) -> None:
    """Print ``res`` to a rich ``console``: a header with the loss, then one table per layer."""
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
        table = Table(title=Text(f"layer {l}: {activation}, W{l} {res[f'dW{l}'].shape}"),
                      title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("name", style="bold cyan", no_wrap=True)
        table.add_column("shape", style="dim", no_wrap=True)
        table.add_column("values", overflow="fold")
        for kind in (k for k in KINDS if f"{k}{l}" in res):
            a = res[f"{kind}{l}"]
            table.add_row(Text(f"{kind}{l}"), Text(str(a.shape)),
                          Text(format_array(a, precision=precision, threshold=threshold,
                                            edgeitems=edgeitems, width=values_width)))
        console.print()
        console.print(table)

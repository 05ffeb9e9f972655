"""Human and JSON output of ``nngrad health``: a row per parameter, then the verdicts.

Every cell and line is a rich ``Text``, never markup; no line ends in spaces.
"""

from __future__ import annotations

import math

from .table import print_trimmed


def _num(x) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.3g}"


def _count(n, units) -> str:
    return "-" if n is None else f"{n}/{units}"


def _ratio(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def render_health(h, console, *, title: str = "", band: tuple = (-4.0, -2.0)) -> None:
    """Print a ``Health`` to a rich ``console``; ``band`` is the update ratio's healthy range
    of log10, for the cells' colour."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    head = f"{title}: training health at lr {h.lr:g}, loss {h.loss:.6g}"
    if h.chance is not None:
        head += f" (at chance {h.chance:.6g})"
    console.print(Text(head, style="bold"))
    console.print(Text(f"update ratio: log10(lr·‖dP‖/‖P‖), healthy from {band[0]:g} to "
                       f"{band[1]:g}", style="dim"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("layer", "param", "act", "‖P‖", "‖dP‖", "‖dZ‖", "log ratio", "dead",
                   "saturated", "non-finite"):
        table.add_column(column, no_wrap=True, justify="left" if column in ("param", "act")
                         else "right")
    for layer in h.layers:
        for i, p in enumerate(layer.params):
            first = i == 0
            ok = p.log_ratio is None or band[0] <= p.log_ratio <= band[1]
            table.add_row(Text(str(layer.layer) if first else ""), Text(p.name),
                          Text(layer.activation if first else ""), Text(_num(p.norm)),
                          Text(_num(p.grad_norm)), Text(_num(layer.dz_norm) if first else ""),
                          Text(_ratio(p.log_ratio), style="" if ok else "yellow"),
                          Text(_count(layer.dead, layer.units) if first else ""),
                          Text(_count(layer.saturated, layer.units) if first else ""),
                          Text(str(layer.nonfinite if first else p.nonfinite)))
    print_trimmed(console, table)
    for v in h.verdicts:
        where = "" if v.layer is None else f" (layer {v.layer})"
        line = Text(f"{v.kind}{where}: ", style="bold red")
        line.append(v.message)
        console.print(line)
        console.print(Text(f"  cause: {v.cause}"))
        console.print(Text(f"  fix: {v.fix}"))
    console.print(Text("healthy: no verdict fired" if h.healthy else
                       f"unhealthy: {len(h.verdicts)} verdict(s)",
                       style="bold green" if h.healthy else "bold red"))


def _finite(x):
    return None if x is None or not math.isfinite(x) else float(x)


def health_document(h, net, *, spec: str | None) -> dict:
    """The JSON envelope (``jsondoc.envelope``) of ``net``, then ``lr``, ``chance``, ``layers``
    (each with its ``params``), ``verdicts`` and ``healthy``."""
    from .jsondoc import envelope, network_loss

    doc = envelope("health", spec, layout=net.layout, dtype=net.dtype, loss=network_loss(net))
    doc["lr"] = h.lr
    doc["chance"] = _finite(h.chance)
    doc["layers"] = [{"layer": layer.layer, "activation": layer.activation, "units": layer.units,
                      "dz_norm": _finite(layer.dz_norm), "dead": layer.dead,
                      "saturated": layer.saturated, "nonfinite": layer.nonfinite,
                      "params": [{"name": p.name, "kind": p.kind, "norm": _finite(p.norm),
                                  "grad_norm": _finite(p.grad_norm),
                                  "log_ratio": _finite(p.log_ratio), "nonfinite": p.nonfinite}
                                 for p in layer.params]} for layer in h.layers]
    doc["verdicts"] = [v._asdict() for v in h.verdicts]
    doc["healthy"] = h.healthy
    return doc

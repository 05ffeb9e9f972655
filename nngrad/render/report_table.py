"""Human output of ``check`` and ``compare``: a table per tensor, worst entries, diagnoses.

Every cell and line is a rich ``Text``, never markup, so that no name, number or message is
read as a tag; no line ends in spaces.
"""

from __future__ import annotations

from ..verify.report import AGREEING, WRONG_SHAPE, band
from .table import print_trimmed


def _err(x) -> str:
    return "-" if x is None else f"{x:.2e}"


def heading(report, title: str) -> str:
    """The first line of a report: what was checked or compared, and how."""
    s = report.settings
    if report.command != "check":
        return f"{title}: your gradients against nngrad's"
    inputs = f" and X's {s['inputs']} entries" if "inputs" in s else ""
    head = (f"{title}: {s['mode']} check of {s['parameters']} parameters{inputs} against "
            f"central differences, eps {s['eps']:g}")
    if s["mode"] == "fast":
        head += f", {s['directions']} random directions per tensor"
    if s.get("part", "all") != "all":
        head += {"data": "; the loss of the outputs alone, without the penalty",
                 "penalty": "; the penalty alone"}[s["part"]]
    return head


def render_report(report, console, *, title: str = "") -> None:
    """Print a check or compare report to a rich ``console``."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    s = report.settings
    console.print(Text(heading(report, title), style="bold"))
    console.print(Text(f"agreement: max|error| <= {s['atol']:g} + {s['rtol']:g} * max|right|",
                       style="dim"))

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("tensor", "status", "max abs err", "max rel err", "band" if
                   report.command == "check" else "shape"):
        table.add_column(column, no_wrap=True)
    for name, t in report.tensors.items():
        style = "green" if t.status in AGREEING else "bold red"
        last = (band(t.max_rel_err) if t.checked else "-") if report.command == "check" else \
            (f"{t.shape}, expected {t.expected_shape}" if t.status == WRONG_SHAPE else "")
        table.add_row(Text(name), Text(t.status, style=style), Text(_err(t.max_abs_err)),
                      Text(_err(t.max_rel_err)), Text(last))
    print_trimmed(console, table)

    if report.worst:
        worst = Table(title="worst entries", title_justify="left", box=box.SIMPLE_HEAD,
                      show_edge=False, pad_edge=False)
        for column in ("entry", "analytic", "numeric", "rel err"):
            worst.add_column(column, no_wrap=True)
        for name, index, a, n, rel in report.worst:
            where = f"{name} direction {index[0]}" if s["mode"] == "fast" else \
                f"{name}[{', '.join(map(str, index))}]"
            worst.add_row(Text(where), Text(f"{a:.10g}"), Text(f"{n:.10g}"), Text(_err(rel)))
        print_trimmed(console, worst)
    for line in report.skipped:
        console.print(Text(line, style="yellow"))
    for d in report.diagnoses:
        line = Text(f"{d.tensor}: ", style="bold")
        line.append(d.message)
        if d.hint:
            line.append(f" ({d.hint})", style="dim")
        console.print(line)
    verdict = "every gradient agrees" if report.agree else \
        "disagree: " + ", ".join(n for n, t in report.tensors.items() if t.status not in AGREEING)
    console.print(Text(verdict, style="bold green" if report.agree else "bold red"))

"""HTML tables for a notebook: a ``Result``, a check or compare ``Report`` and a ``Network``.

The same rules as the terminal's tables (``table``, ``report_table``): arrays as NumPy prints
them, summarised past ``threshold`` entries. An entry that is not finite is marked (``<mark>``),
and a row whose array holds one says how many, since a summary may hide it. Every name, number
and message is escaped (``html.escape``): a spec's names and a user's keys are untrusted. Styles
are inline, so that a notebook viewer that drops ``<style>`` still shows them.
"""

from __future__ import annotations

import re
from html import escape

import numpy as np

WIDTH = 100  # characters per line of an array's text
NONFINITE = re.compile(r"(?<![\w.])(-?inf|nan)(?![\w.])")
MARK = '<mark style="background:#fcc;color:#900;font-weight:bold">'
TABLE = '<table style="border-collapse:collapse;margin:0.3em 0 0.8em 0">'
CELL = "padding:0.15em 0.8em 0.15em 0;text-align:left;vertical-align:top"
DIM = "color:#666"
GOOD, BAD = "color:#080", "color:#c00;font-weight:bold"


def _p(text: str, style: str = "") -> str:
    return f'<p style="margin:0.2em 0;{style}">{escape(text)}</p>'


def _span(html: str, style: str) -> str:
    return f'<span style="{style}">{html}</span>'


def _row(cells, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f'<{tag} style="{CELL}">{c}</{tag}>' for c in cells) + "</tr>"


def _table(caption: str, columns, rows) -> str:
    head = f'<caption style="text-align:left;font-weight:bold;padding:0.2em 0">{escape(caption)}' \
           "</caption>" if caption else ""
    return (f"{TABLE}{head}<thead>{_row(map(escape, columns), header=True)}</thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def array_cell(a, *, precision: int, threshold: int, edgeitems: int) -> str:
    """``a`` as the terminal prints it, escaped, its non-finite entries marked; below it, how
    many entries are not finite, when any is."""
    from .table import format_array

    a = np.asarray(a)
    text = escape(format_array(a, precision=precision, threshold=threshold, edgeitems=edgeitems,
                              width=WIDTH))
    out = f'<pre style="margin:0;text-align:left">{marked(text)}</pre>'
    bad = int(np.size(a) - np.count_nonzero(np.isfinite(a))) if a.dtype.kind in "fc" else 0
    if bad:
        out += f'<div style="{BAD}">{bad} of {a.size} entries not finite</div>'
    return out


def marked(text: str) -> str:
    """Escaped ``text`` with each ``nan``, ``inf`` and ``-inf`` in it marked."""
    return NONFINITE.sub(lambda m: f"{MARK}{m.group(1)}</mark>", text)


def _tensor_rows(items, shown: dict) -> list:
    return [_row([f"<b>{escape(name)}</b>", escape(str(np.shape(a))), array_cell(a, **shown)])
            for name, a in items]


def result_html(res, *, precision: int = 6, threshold: int = 64, edgeitems: int = 3,
                layers=()) -> str:
    """``res`` as ``nngrad run`` shows it: the loss, then one table per layer (name, shape,
    values); given the network's ``layers``, the notes on their stages."""
    from .table import reduction_text, stage_notes

    shown = dict(precision=precision, threshold=threshold, edgeitems=edgeitems)
    loss = marked(f"{res.loss:.10g}")
    about = f"({res.loss_name}, {reduction_text(res)}; {res.layout} layout, {res.dtype})"
    out = ['<div class="nngrad-result">', f'<p style="margin:0.2em 0"><b>loss</b> '
           f'{_span(loss, "font-weight:bold;" + (GOOD if np.isfinite(res.loss) else BAD))} '
           f'{_span(escape(about), DIM)}</p>']
    if res.penalty:
        out.append(_p(f"= data {res.loss_data:.10g} + penalty {res.penalty:.10g}", DIM))
    out += [_p(note, DIM) for note in stage_notes(layers)]
    if "dA0" in res:
        out.append(_table("input: dA0 = dLoss/dX, X's shape", ("name", "shape", "values"),
                          _tensor_rows([("dA0", res["dA0"])], shown)))
    for l, activation in enumerate(res.activations, start=1):
        names = [n for n in res if re.fullmatch(f"[A-Za-z]+{l}", n)]
        stages = [key for key, _ in layers[l - 1].stages] if layers else []
        kinds = ", ".join([k for k in stages if k != "dropout"] + [activation] +
                          [k for k in stages if k == "dropout"])
        rows = _tensor_rows([(n, res[n]) for n in names], shown)
        out.append(_table(f"layer {l}: {kinds}, W{l} {res[f'dW{l}'].shape}",
                          ("name", "shape", "values"), rows))
    return "\n".join(out + ["</div>"])


def network_html(net, *, precision: int = 6, threshold: int = 64, edgeitems: int = 3) -> str:
    """``net``'s arrays and names: layout, dtype, loss and penalty above; X and T, then one table
    per layer (W, b, a norm's gamma and beta, dropout's mask)."""
    shown = dict(precision=precision, threshold=threshold, edgeitems=edgeitems)
    loss = _named(net.loss, net.loss_params) + f", reduction {net.reduction}"
    out = ['<div class="nngrad-network">',
           _p(f"network {'-'.join(map(str, net.widths))}, batch {net.batch}: {net.layout} layout, "
              f"{net.dtype}; loss {loss}")]
    if net.regularization is not None:
        out.append(_p("regularization: " + ", ".join(f"{k} {v}" for k, v in
                                                      net.regularization._asdict().items()), DIM))
    T = "T (class labels)" if net.labels else "T"
    out.append(_table("data", ("name", "shape", "values"),
                      _tensor_rows([("X", net.X), (T, net.T)], shown)))
    for l, layer in enumerate(net.layers, start=1):
        arrays = [(f"W{l}", layer.W), (f"b{l}", layer.b)]
        kinds = [_named(layer.activation, layer.params)]
        for key, state in layer.stages:  # a norm, then dropout
            if key == "dropout":
                drawn = "" if state.seed is None else f", seed {state.seed}"
                kinds.append(f"dropout (keep {state.keep:g}{drawn}"
                             f"{'' if state.inverted else ', not inverted'})")
                arrays.append((f"mask{l}", state.mask))
            else:
                kinds.insert(0, f"{key} (eps {state.eps:g})")
                arrays += [(f"gamma{l}", state.gamma), (f"beta{l}", state.beta)]
        out.append(_table(f"layer {l}: {', '.join(kinds)}", ("name", "shape", "values"),
                          _tensor_rows(arrays, shown)))
    return "\n".join(out + ["</div>"])


def _named(name: str, params) -> str:
    return name + (f" ({', '.join(f'{k} {v:g}' for k, v in params.items())})" if params else "")


def report_html(report, *, title: str = "network") -> str:
    """A check or compare report as ``report_table`` prints it: the heading, the tolerance, a
    row per tensor, the worst entries, the skipped ones, the diagnoses and the verdict; and
    the warnings and notes the command line writes to standard error."""
    from ..verify.report import AGREEING, WRONG_SHAPE, band
    from .report_table import heading

    s, check = report.settings, report.command == "check"
    out = ['<div class="nngrad-report">', _p(heading(report, title), "font-weight:bold"),
           _p(f"agreement: max|error| <= {s['atol']:g} + {s['rtol']:g} * max|right|", DIM)]
    out += [_p(f"warning: {w}", "color:#a60") for w in report.warnings]
    out += [_p(f"note: {n}", DIM) for n in report.notes]
    rows = []
    for name, t in report.tensors.items():
        last = (band(t.max_rel_err) if t.checked else "-") if check else \
            (f"{t.shape}, expected {t.expected_shape}" if t.status == WRONG_SHAPE else "")
        rows.append(_row([f"<b>{escape(name)}</b>",
                          _span(escape(t.status), GOOD if t.status in AGREEING else BAD),
                          _err(t.max_abs_err), _err(t.max_rel_err), escape(last)]))
    out.append(_table("", ("tensor", "status", "max abs err", "max rel err",
                           "band" if check else "shape"), rows))
    if report.worst:
        rows = [_row([escape(f"{n} direction {i[0]}" if s["mode"] == "fast" else
                             f"{n}[{', '.join(map(str, i))}]"), f"{a:.10g}", f"{b:.10g}", _err(r)])
                for n, i, a, b, r in report.worst]
        out.append(_table("worst entries", ("entry", "analytic", "numeric", "rel err"), rows))
    out += [_p(line, "color:#a60") for line in report.skipped]
    for d in report.diagnoses:
        hint = " " + _span(escape(f"({d.hint})"), DIM) if d.hint else ""
        out.append(f'<p style="margin:0.2em 0"><b>{escape(d.tensor)}:</b> {escape(d.message)}{hint}</p>')
    verdict = "every gradient agrees" if report.agree else \
        "disagree: " + ", ".join(n for n, t in report.tensors.items() if t.status not in AGREEING)
    out.append(_p(verdict, "font-weight:bold;" + (GOOD if report.agree else BAD)))
    return "\n".join(out + ["</div>"])


def _err(x) -> str:
    return "-" if x is None else f"{x:.2e}"

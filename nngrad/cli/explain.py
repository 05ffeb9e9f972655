"""``nngrad explain``: the chain rule of every layer, each equation with its shapes."""

from __future__ import annotations

import sys

import click

from ..errors import NngradError, SpecError
from .app import (cli, guard_run_memory, read_limits, settings_from, spec_source,
                  stdout_console)
from .run import report_nonfinite


@cli.command()  # its examples and summary: app.COMMAND_EXAMPLES, app.SUMMARIES
@click.argument("spec", required=False, metavar="[SPEC]")
@click.option("--layer", type=click.IntRange(min=1), metavar="L",
              help="Only layer L (counted from 1): its forward, loss if last, and backward equations.")
@click.option("--values", is_flag=True,
              help="Show the numbers under each equation (the first few entries of big arrays).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="text for a terminal, markdown (LaTeX math) for notes, json.")
@click.option("--error", "error_text", metavar="TEXT",
              help="A NumPy shape error of your own backprop (its message or whole traceback; - "
                   "reads it from standard input): the equations whose product fails that way, "
                   "and the line to write instead.")
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def explain(spec, layer, values, fmt, config_path, error_text) -> int:
    """Explain SPEC's forward and backward pass as equations, every factor with its shape.

    The equations are written in SPEC's own layout (rows: Z = A_prev · W + b; columns:
    Z = W · A_prev + b), from the loss back to the input. When SPEC's shapes do not fit,
    the equations up to the one that fails are shown on standard error, with the shape that
    was needed, and the exit status is 2 (with --format json, they are in the error's JSON
    document on standard output). Without SPEC, a bundled example is explained.
    With --values, a value that is not finite gives exit status 1, as for run.

    With --error TEXT, the equations whose matrix product (or elementwise operation) fails as
    TEXT says, as given, with a factor transposed or in the other order, most likely first,
    each with the NumPy line to use; exit status 0 when one fits, 1 when none does.
    """
    from ..numerics.passes import run as run_network
    from ..equations.build import explain as explain_network
    from ..equations.skeleton import environment
    from ..equations.shapewalk import network_or_walk
    from ..specs.read import load

    settings = settings_from(config_path)
    path, title = spec_source(spec)
    try:
        net = load(path, name=title, build=network_or_walk, **read_limits(settings))
    except SpecError as e:
        if e.context is not None and fmt == "json":  # exits.main writes it with the error
            from ..render.explain_docs import walk_document

            e.document = walk_document(e.context)
        elif e.context is not None:
            from ..render.explain_text import render_walk

            render_walk(e.context, _stderr_console())
        raise
    if layer is not None and layer > len(net.layers):
        raise click.BadParameter(f"{title} has {len(net.layers)} layers; L must be 1 to "
                                 f"{len(net.layers)}", param_hint="'--layer'")
    if error_text is not None:
        if values:
            raise click.UsageError("--error shows no values; give one of --error and --values")
        return _explain_error(net, title, error_text, fmt, layer)
    if values:
        guard_run_memory(net, settings, title)
    forward = fmt == "json" and not values  # JSON gives the loss value, if a forward pass fits
    if forward:
        try:
            guard_run_memory(net, settings, title)
        except NngradError:
            forward = False  # too big to run here: the loss value is null, the equations stand
    ex = explain_network(net)
    res = run_network(net, input_grad=True) if values else None
    env = environment(net, res, ex) if values else None
    display = settings["display"]
    shown = dict(precision=display["precision"], edgeitems=display["edgeitems"],
                 inline_threshold=settings["explain"]["inline_threshold"])
    if fmt == "text":
        from ..render.explain_text import render_explanation

        render_explanation(ex, stdout_console(), title=title, layer=layer, env=env, **shown)
    elif fmt == "markdown":
        from ..render.explain_docs import markdown

        sys.stdout.write(markdown(ex, title=title, layer=layer, env=env, **shown))
    else:
        from ..render.jsondoc import to_json
        from ..render.explain_docs import explanation_document

        doc = explanation_document(ex, layer=layer, env=env, spec=title, net=net, res=res,
                                   forward=forward)
        sys.stdout.write(to_json(doc) + "\n")
    return 0 if res is None else report_nonfinite(res, title)


def _explain_error(net, title: str, error_text: str, fmt: str, layer: int | None) -> int:
    """``--error``: the message read against the equations (of ``layer`` alone, if given), in
    ``fmt``; 0 when one fits."""
    from dataclasses import replace

    from ..equations.mismatch import explain_error

    if error_text == "-":
        error_text = sys.stdin.read()
    ee = explain_error(net, error_text)
    if layer is not None:
        kept = tuple(m for m in ee.matches if m.equation.layer == layer)
        ee = replace(ee, matches=kept, elsewhere=len({m.equation.lhs.name for m in ee.matches
                                                      if m.equation.layer != layer}))
    if fmt == "text":
        from rich.text import Text

        from ..render.error_docs import text_lines

        out = stdout_console()
        for line in text_lines(ee, title):
            out.print(Text(line))
    elif fmt == "markdown":
        from ..render.error_docs import markdown

        sys.stdout.write(markdown(ee, title))
    else:
        from ..render.error_docs import document
        from ..render.jsondoc import to_json

        sys.stdout.write(to_json(document(ee, title, net)) + "\n")
    return 0 if ee.matches else 1


def _stderr_console():
    from .streams import console

    return console(stderr=True)  # NO_COLOR and no trailing spaces, as every console

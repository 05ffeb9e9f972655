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
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def explain(spec, layer, values, fmt, config_path) -> int:
    """Explain SPEC's forward and backward pass as equations, every factor with its shape.

    The equations are written in SPEC's own layout (rows: Z = A_prev · W + b; columns:
    Z = W · A_prev + b), from the loss back to the input. When SPEC's shapes do not fit,
    the equations up to the one that fails are shown on standard error, with the shape that
    was needed, and the exit status is 2 (with --format json, they are in the error's JSON
    document on standard output). Without SPEC, a bundled example is explained.
    With --values, a value that is not finite gives exit status 1, as for run.
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


def _stderr_console():
    from .streams import console

    return console(stderr=True)  # NO_COLOR and no trailing spaces, as every console

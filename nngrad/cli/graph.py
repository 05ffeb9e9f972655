"""``nngrad graph``: a picture of the network, drawn by nngrad itself (SVG, HTML) or as DOT."""

from __future__ import annotations

import os

import click

from .app import check_outputs, cli, guard_run_memory, read_limits, settings_from, spec_source
from .options import FILE

FORMATS = {".svg": "svg", ".html": "html", ".htm": "html", ".dot": "dot", ".gv": "dot"}


def output_format(path: str) -> str:
    """The format an output's extension names (``-``: SVG), or a usage error."""
    if path == "-":
        return "svg"
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise click.UsageError(f"-o {path!r}: name a .svg, .html or .dot file (or - for SVG "
                               "on standard output)")
    return FORMATS[ext]


@cli.command()  # its examples and summary: app.COMMAND_EXAMPLES, app.SUMMARIES
@click.argument("spec", required=False, metavar="[SPEC]", type=FILE)
@click.option("-o", "--output", default="-", show_default=True, metavar="OUT", type=FILE,
              help="net.svg, net.html (the SVG in a page) or net.dot (Graphviz); - : SVG on "
                   "standard output.")
@click.option("--units", is_flag=True,
              help="The neuron-level graph: a node per unit, an edge per weight (tiny nets).")
@click.option("--against", "mine", metavar="MINE", type=FILE,
              help="Your gradients (as for compare): paint the wrong ones, star the earliest.")
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def graph(spec, output, units, mine, config_path) -> int:
    """Draw SPEC's network: every tensor with its shape, value and gradient, every edge with
    its backward factor.

    Nodes are filled by log10 of their gradient's norm (viridis, 1e-8 dark to 1e2 yellow), so
    that vanishing gradients show; grey nodes have none. With --against MINE, the gradients
    compare finds wrong get a red border, and the earliest wrong layer's a star. The format
    follows OUT's extension; no Graphviz is needed but for rendering a .dot. Without SPEC, the
    bundled example. Exit status: 0, or 2 for bad input.
    """
    from ..equations.graph import graph as build
    from ..numerics.passes import run
    from ..specs.read import load, load_gradients
    from ..specs.write import write_text_or_bytes

    fmt = output_format(output)
    settings = settings_from(config_path)
    path, title = spec_source(spec)
    if spec == "-" and mine == "-":
        raise click.UsageError("only one of SPEC and MINE can be read from standard input")
    check_outputs({"-o": output}, (spec, mine))
    net = load(path, name=title, **read_limits(settings))
    guard_run_memory(net, settings, title)
    report = None
    if mine is not None:
        from ..verify.compare import compare_gradients, gradients_of

        arrays = load_gradients(mine, check=lambda a: gradients_of(a, net), **read_limits(settings))
        tol = settings["tolerances"][net.dtype]
        report = compare_gradients(net, arrays, rtol=tol["rtol"], atol=tol["atol"])
    picture = build(net, run(net, input_grad=True), units=units, against=report, title=title)
    write_text_or_bytes(output, render(picture, fmt))
    return 0


def render(picture, fmt: str) -> str:
    """``picture`` (an ``equations.graph.Graph``) as ``svg``, ``html`` or ``dot`` text."""
    if fmt == "dot":
        from ..render.graph_dot import render_dot

        return render_dot(picture)
    from ..render.graph_svg import render_html, render_svg

    return (render_html if fmt == "html" else render_svg)(picture)

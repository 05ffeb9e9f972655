"""``nngrad run``: forward and backward, printed as tables or JSON, or saved to a file."""

from __future__ import annotations

import sys

import click

from ..settings import RANGES
from .app import (EXIT_NONFINITE, check_outputs, cli, error_line, given,
                  guard_run_memory, read_limits, settings_from, spec_source, stdout_console)
from .options import FILE


@cli.command()  # its examples and summary: app.COMMAND_EXAMPLES, app.SUMMARIES
@click.argument("spec", required=False, metavar="[SPEC]", type=FILE)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for programs.")
@click.option("-o", "--output", metavar="OUT",
              help="Write the results to OUT (.npz or .json); - writes the JSON document to "
                   "standard output, as --format json does.")
@click.option("--only", metavar="NAMES",
              help="Only these results, comma-separated (--only dW1,dB1): in the table, the JSON "
                   "and OUT alike. The loss is always given.")
@click.option("--precision", type=click.IntRange(*RANGES[("display", "precision")]), metavar="N",
              help="Digits after the decimal point in the table (display.precision).")
@click.option("--full", is_flag=True,
              help="Print every entry in the table; by default an array of more than "
                   "display.threshold entries is summarised with ... and a line of its min, max, "
                   "norm and share of zeros.")
@click.option("--keep", type=click.Choice(["all", "grads"]), default="all", show_default=True,
              help="grads: keep only dW, dB and the loss, letting forward arrays go early.")
@click.option("--batch-chunk", type=click.IntRange(min=1), metavar="N",
              help="With --keep grads: stream the batch N examples at a time, summing dW and dB.")
@click.option("--input-grad", is_flag=True,
              help="Also dA0 = dLoss/dX, the gradient with respect to the input, in X's shape.")
@click.option("--config", "config_path", metavar="FILE",
              help="Settings to lay over configs/default.yaml (display precision, ...).")
def run(spec: str | None, fmt: str, output: str | None, only: str | None, precision: int | None,
        full: bool, keep: str, batch_chunk: int | None, input_grad: bool,
        config_path: str | None) -> int:
    """Run SPEC forward and backward; print every Z, A, dA, dZ, dW, dB and the loss.

    SPEC is a YAML or NPZ file, or - for standard input. Without SPEC, a bundled
    example network is run. With -o, the results go to OUT and nothing is printed, unless
    --format is given too. Exit status: 0 done, 1 a result is not finite, 2 bad input.
    """
    from ..numerics.passes import run as run_network
    from ..specs.read import load

    ctx = click.get_current_context()
    if batch_chunk is not None and keep != "grads":
        raise click.UsageError("--batch-chunk needs --keep grads")
    wanted = only_names(only)
    if output == "-":  # the JSON document on standard output
        if given(ctx, "fmt") and fmt != "json":
            raise click.UsageError("-o - writes the JSON document to standard output, where "
                                   f"--format {fmt} would print too; give -o a file")
        output, fmt = None, "json"
    if output is not None:
        from ..render.files import output_format

        check_outputs({"-o": output}, (spec,))
        output_format(output)
    printing = output is None or given(ctx, "fmt")
    # the settings file is read only when it is needed (a table, or --config): start-up time
    settings = settings_from(config_path) if config_path or (printing and fmt == "table") else None
    path, title = spec_source(spec)
    # streamed, an NPZ file's X and T are memory maps, read as the chunks need them
    net = load(path, name=title, mapped=batch_chunk is not None, **read_limits(settings))
    guard_run_memory(net, settings, title, keep=keep, batch_chunk=batch_chunk, input_grad=input_grad)
    res = run_network(net, keep=keep, batch_chunk=batch_chunk, input_grad=input_grad)
    if batch_chunk is not None:
        unchanged_while_mapped(net, title)
    if wanted is not None:
        check_only(wanted, res, keep)
    if any(layer.stages for layer in net.layers):
        from ..render.table import one_entry_norms

        warnings = one_entry_norms(net.layers, net.batch)
        if batch_chunk is not None and batch_chunk < net.batch:
            warnings.append("--batch-chunk has no effect on a network with batchnorm, layernorm "
                            "or dropout: its statistics and masks are the whole batch's, so it "
                            "runs whole")
        for warning in warnings:
            click.echo(f"nngrad: warning: {title}: {warning}", err=True)
    if output is not None:
        from ..render.files import save_result

        save_result(res, output, spec=title, names=wanted)
    if printing:
        display = dict(settings["display"]) if settings else {}
        if precision is not None:
            display["precision"] = precision
        if full:
            display["threshold"] = sys.maxsize
        print_result(res, fmt, title, display, net.layers, only=wanted)
    return report_nonfinite(res, title)


def unchanged_while_mapped(net, title: str) -> None:
    """SpecError if the file under a mapped X or T was rewritten in place while it was read."""
    from ..errors import SpecError
    from ..specs.npzmap import unchanged

    if not unchanged(net.X, net.T):
        raise SpecError("was rewritten in place while --batch-chunk read it, so the results "
                        "could mix its old and new content; run again when nothing writes it "
                        "(nngrad's own writers replace a file whole, which is safe)", file=title)


def only_names(only: str | None) -> list[str] | None:
    """The names of ``--only``, in the order given (None: every result)."""
    if only is None:
        return None
    names = list(dict.fromkeys(n.strip() for n in only.split(",") if n.strip()))
    if not names:
        raise click.BadParameter("give one or more result names, comma-separated, as dW1,dB1",
                                 param_hint="'--only'")
    return names


def check_only(names: list[str], res, keep: str) -> None:
    """A usage error for the first of ``names`` that is not a result of ``res``."""
    import difflib

    for name in names:
        if name in res:
            continue
        near = [n for n in res if n.lower() == name.lower()] or \
            difflib.get_close_matches(name, list(res), n=1)
        hint = f"; did you mean {near[0]}?" if near else f"; the results are {', '.join(res)}"
        why = " (--keep grads keeps only the gradients)" if keep == "grads" else ""
        raise click.BadParameter(f"no result is named {name!r}{why}{hint}", param_hint="'--only'")


def print_result(res, fmt: str, title: str, display: dict, layers=(), only=None) -> None:
    """``res`` as the JSON document or as tables (``display``: the table's settings), of the
    names in ``only`` alone if given."""
    if fmt == "json":
        from ..render.jsondoc import result_document, to_json

        sys.stdout.write(to_json(result_document(res, spec=title, names=only)) + "\n")
        return
    from ..render.table import render_table

    render_table(res, stdout_console(), title=title, layers=layers, only=only, **display)


def report_nonfinite(res, title: str) -> int:
    from ..render.jsondoc import nonfinite_error

    error = nonfinite_error(res, title)  # the JSON document's error, in the same words
    if error is None:
        return 0
    error_line(f"{title}: {error['message']}")
    return EXIT_NONFINITE

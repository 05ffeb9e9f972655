"""``nngrad run``: forward and backward, printed as tables or JSON, or saved to a file."""

from __future__ import annotations

import sys

import click

from ..errors import place_name
from .app import (EXAMPLES, EXIT_NONFINITE, check_outputs, cli, error_line, given,
                  guard_run_memory, read_limits, settings_from, spec_source, stdout_console)


@cli.command(epilog=EXAMPLES)
@click.argument("spec", required=False, metavar="[SPEC]")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for programs.")
@click.option("-o", "--output", metavar="OUT", help="Write the results to OUT (.npz or .json).")
@click.option("--keep", type=click.Choice(["all", "grads"]), default="all", show_default=True,
              help="grads: keep only dW, dB and the loss, letting forward arrays go early.")
@click.option("--batch-chunk", type=click.IntRange(min=1), metavar="N",
              help="With --keep grads: stream the batch N examples at a time, summing dW and dB.")
@click.option("--input-grad", is_flag=True,
              help="Also dA0 = dLoss/dX, the gradient with respect to the input, in X's shape.")
@click.option("--config", "config_path", metavar="FILE",
              help="Settings to lay over configs/default.yaml (display precision, ...).")
def run(spec: str | None, fmt: str, output: str | None, keep: str, batch_chunk: int | None,
        input_grad: bool, config_path: str | None) -> int:
    """Run SPEC forward and backward; print every Z, A, dA, dZ, dW, dB and the loss.

    SPEC is a YAML or NPZ file, or - for standard input. Without SPEC, a bundled
    example network is run. With -o, the results go to OUT and nothing is printed, unless
    --format is given too. Exit status: 0 done, 1 a result is not finite, 2 bad input.
    """
    from ..numerics.passes import run as run_network
    from ..specs.read import load

    if batch_chunk is not None and keep != "grads":
        raise click.UsageError("--batch-chunk needs --keep grads")
    if output is not None:
        from ..render.files import output_format, save_result

        check_outputs({"-o": output}, (spec,))
        output_format(output)
    printing = output is None or given(click.get_current_context(), "fmt")
    # the settings file is read only when it is needed (a table, or --config): start-up time
    settings = settings_from(config_path) if config_path or (printing and fmt == "table") else None
    path, title = spec_source(spec)
    net = load(path, name=title, **read_limits(settings))
    guard_run_memory(net, settings, title, keep=keep, batch_chunk=batch_chunk)
    res = run_network(net, keep=keep, batch_chunk=batch_chunk, input_grad=input_grad)
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
        save_result(res, output)
    if printing:
        print_result(res, fmt, title, settings, net.layers)
    return report_nonfinite(res, title)


def print_result(res, fmt: str, title: str, settings: dict | None, layers=()) -> None:
    if fmt == "json":
        from ..render.jsondoc import result_document, to_json

        sys.stdout.write(to_json(result_document(res)) + "\n")
        return
    from ..render.table import render_table

    render_table(res, stdout_console(), title=title, layers=layers, **settings["display"])


def report_nonfinite(res, title: str) -> int:
    bad = res.first_nonfinite()
    if bad is None:
        return 0
    name, index, value = bad
    error_line(f"{title}: {place_name((name, *index))} is {value}: the first value that is not finite (the results "
           "overflowed); everything computed after it is unreliable")
    return EXIT_NONFINITE

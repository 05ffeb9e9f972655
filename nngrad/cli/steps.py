"""The work of ``nngrad step``: descend, report the loss, write the updated spec and its history."""

from __future__ import annotations

import math
from dataclasses import replace

import click

from ..errors import NngradError
from .app import EXIT_NONFINITE, error_line, spec_source

EVERY_STEP_UP_TO = 20  # longer runs print about this many lines, and show a progress bar


def run_steps(spec_path, *, lr, steps, output, momentum, update, history, limit=None) -> int:
    from ..descent import descend
    from ..specfile import read_spec
    from ..specwrite import spec_format

    path, title = spec_source(spec_path)
    loaded = read_spec(path, name=title, limit=limit)
    if output == "-" and loaded.kind == "npz":
        raise NngradError("an NPZ spec cannot be written to standard output; give -o OUT.npz",
                          file=title)
    if output != "-" and spec_format(output) != loaded.kind:
        raise NngradError(f"step writes SPEC's format ({loaded.kind}); name OUT .{loaded.kind} "
                          f"or convert it afterwards with nngrad convert", file=output)
    to_stderr = "-" in (output, history)
    every = max(1, steps // EVERY_STEP_UP_TO)
    losses = []
    with _progress(steps) as advance:
        for k, loss, net in descend(loaded.network, lr, steps, momentum=momentum, update=update):
            losses.append(loss)
            if not math.isfinite(loss):
                error_line(f"{title}: the loss is {loss} after step {k} (is the learning rate "
                           f"{lr:g} too large?); nothing was written")
                return EXIT_NONFINITE
            if k == 0:
                click.echo(f"step 0: loss {loss:.10g}", err=to_stderr)
            elif steps <= EVERY_STEP_UP_TO or k % every == 0 or k == steps:
                click.echo(f"step {k}: loss {losses[-2]:.10g} -> {loss:.10g}", err=to_stderr)
            advance()
    _write_updated(loaded, net, output, update, title)
    if history:
        _write_history(history, losses)
    return 0


class _progress:
    """A rich progress bar on standard error, for long runs on a terminal; else nothing."""

    def __init__(self, steps: int):
        self.steps = steps
        self.bar = None

    def __enter__(self):
        if self.steps <= EVERY_STEP_UP_TO:
            return lambda: None
        from rich.console import Console
        from rich.progress import Progress

        console = Console(stderr=True)
        if not console.is_terminal:
            return lambda: None
        self.bar = Progress(console=console, transient=True)
        self.bar.start()
        task = self.bar.add_task("descending", total=self.steps + 1)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


def _write_updated(loaded, net, output: str, update: str, title: str) -> None:
    from ..specwrite import npz_bytes, write_spec, write_text_or_bytes

    layers = net.layers
    if loaded.kind == "npz":
        members = dict(loaded.arrays)
        for l, layer in enumerate(layers, start=1):
            members[f"W{l}"] = layer.W
            if update == "all":
                members[f"b{l}"] = layer.b
        write_text_or_bytes(output, npz_bytes(members))
        return
    from ..specfile import patched_yaml

    updates = {}
    for i, layer in enumerate(layers):
        updates[("layers", i, "W")] = layer.W
        if update == "all":
            updates[("layers", i, "b")] = layer.b
    patched = patched_yaml(loaded.data, updates)
    if patched is not None:
        write_text_or_bytes(output, patched)
        return
    click.echo(f"nngrad: warning: {title}: a bias is omitted or not written as a list of numbers, "
               "so the updated spec is written anew, without the original's comments", err=True)
    given = loaded.spec["layers"]
    spec = {**loaded.spec, "layers": [replace(g, W=layer.W, b=layer.b if update == "all" else g.b)
                                      for g, layer in zip(given, layers)]}
    write_spec(spec, output)


def _write_history(path: str, losses: list) -> None:
    from ..specwrite import number, write_text_or_bytes

    write_text_or_bytes(path, "step,loss\n" + "".join(f"{k},{number(loss)}\n"
                                                      for k, loss in enumerate(losses)))

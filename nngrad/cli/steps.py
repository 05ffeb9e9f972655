"""The work of ``nngrad step``: descend, report the loss on standard error, then write the
updated spec and its history, all or none."""

from __future__ import annotations

import math
from dataclasses import replace

import click

from ..errors import NngradError, NonFiniteError
from .app import guard_run_memory, read_limits, spec_source

EVERY_STEP_UP_TO = 20  # longer runs print about this many lines, and show a progress bar


def run_steps(spec_path, *, lr, steps, output, in_place, momentum, update, history,
              settings) -> int:
    from ..numerics.descent import descend_in_place
    from ..specs.specfile import read_spec
    from ..specs.write import spec_format

    path, title = spec_source(spec_path)
    limits = read_limits(settings)
    loaded = read_spec(path, name=title, **limits)
    if output == "-" and loaded.kind == "npz":
        raise NngradError("an NPZ spec cannot be written to standard output; give -o OUT.npz",
                          file=title)
    if not in_place and output != "-" and spec_format(output) != loaded.kind:
        raise NngradError(f"step writes SPEC's format ({loaded.kind}); name OUT .{loaded.kind} "
                          f"or convert it afterwards with nngrad convert", file=output)
    guard_run_memory(loaded.network, settings, title)
    every = max(1, steps // EVERY_STEP_UP_TO)
    losses, norms = [], []
    try:
        with _progress(steps) as bar:
            for k, loss, net, res in descend_in_place(loaded.network, lr, steps, momentum=momentum,
                                                      update=update, grads=bool(history)):
                losses.append(loss)
                if res is not None:
                    norms.append(_norms(net, res))
                if not math.isfinite(loss):
                    raise NonFiniteError(f"the loss is {loss} after step {k}")
                if k == 0:
                    bar.say(f"step 0: loss {loss:.10g}")
                elif steps <= EVERY_STEP_UP_TO or k % every == 0 or k == steps:
                    bar.say(f"step {k}: loss {losses[-2]:.10g} -> {loss:.10g}")
                bar.update(k + 1)
    except NonFiniteError as e:
        raise NonFiniteError(f"{e.message} (is the learning rate {lr:g} too large?); nothing was "
                             "written", file=title) from None
    outputs = [(output, _updated(loaded, net, update, title, limits))]
    if history:
        outputs.append((history, _history(losses, norms)))
    _write(outputs)
    return 0


def _write(outputs: list) -> None:
    """The files first, all or none; then what goes to standard output."""
    from ..files.atomic import write_all
    from ..specs.write import write_text_or_bytes

    write_all([(path, data) for path, data in outputs if path != "-"])
    for path, data in outputs:
        if path == "-":
            write_text_or_bytes(path, data)


def _progress(steps: int):
    """A bar on standard error for a run of more than ``EVERY_STEP_UP_TO`` steps on a terminal;
    its ``say`` prints each loss line above the bar, through the bar's own console."""
    from .progress import ProgressBar

    return ProgressBar("descending", total=steps + 1,
                       delay=0.0 if steps > EVERY_STEP_UP_TO else math.inf)


def _updated(loaded, net, update: str, title: str, limits: dict):
    """The updated spec's text (YAML) or bytes (NPZ), in SPEC's own format: every W and, with
    ``update`` all, every b, gamma and beta; a dropout's mask or seed is kept as written."""
    from ..specs.write import npz_bytes, stages_given, yaml_text

    changed = [(l, kind, p) for _, l, kind, p in net.parameters() if update == "all" or kind == "W"]
    if loaded.kind == "npz":
        members = dict(loaded.arrays)
        members.update({f"{kind}{l}": p for l, kind, p in changed})
        return npz_bytes(members)
    from ..specs.specfile import patched_yaml

    norms = {l: layer.norm[0] for l, layer in enumerate(net.layers, start=1) if layer.norm}
    updates = {("layers", l - 1, *((norms[l],) if kind not in ("W", "b") else ()), kind): p
               for l, kind, p in changed}
    patched = patched_yaml(loaded.data, updates, limits.get("memory_limit"), loaded.tree)
    if patched is not None:
        return patched
    click.echo(f"nngrad: warning: {title}: a bias, gamma or beta is omitted or not written as a "
               "list of numbers, so the updated spec is written anew, without the original's "
               "comments", err=True)
    layers = list(loaded.spec["layers"])
    for l, kind, p in changed:
        given = layers[l - 1]
        if kind not in ("W", "b"):  # a norm's gamma or beta
            stage = stages_given(given)[norms[l]]  # batchnorm: true is {}
            layers[l - 1] = replace(given, **{norms[l]: {**stage, kind: p}})
        else:
            layers[l - 1] = replace(given, **{kind: p})
    return yaml_text({**loaded.spec, "layers": layers})


def _norms(net, res) -> dict:
    """‖p‖ and ‖dp‖ of every parameter (W1, dW1, ...; gamma1, dgamma1 with a norm), by column."""
    import numpy as np

    out = {}
    for grad, l, kind, p in net.parameters():
        if kind != "b":
            out[f"{kind}{l}_norm"] = float(np.linalg.norm(p))
            out[f"{grad}_norm"] = float(np.linalg.norm(res[grad]))
    return out


def _history(losses: list, norms: list) -> str:
    """``step,loss`` and each parameter's norm and its gradient's (``_norms``), a row a step."""
    from ..specs.write import number

    names = list(norms[0]) if norms else []
    head = ",".join(["step", "loss", *names]) + "\n"
    return head + "".join(",".join([str(k), number(loss), *(number(n[c]) for c in names)]) + "\n"
                          for k, (loss, n) in enumerate(zip(losses, norms or [{}] * len(losses))))

"""Write a spec as YAML or NPZ: from a loaded spec (convert, step) or a new one (init).

A spec here is ``Network``'s arguments as given: ``X``, ``T``, ``layers`` (``Layer`` with ``b``
None where omitted, the activation as written), ``loss`` (a name, or a mapping with a reduction),
``layout``, ``dtype`` and optionally ``reduction``. YAML keeps one matrix row per line, and every
number as the shortest text that reads back to the same float64, so a round trip loses nothing.
NPZ follows the contract's layout (X, T, W1.., b1.., activations, loss, layout, reduction, dtype),
with a layer's stages as ``norm{l}`` (batchnorm or layernorm), ``gamma{l}``, ``beta{l}``, ``eps{l}``,
``keep{l}``, ``mask{l}`` or ``seed{l}``, and ``inverted{l}``. ``save`` (``nngrad.save``) writes a
validated ``Network`` through the same writer, as the spec ``spec_of`` gives.
"""

from __future__ import annotations

import io
import os
import sys

import numpy as np

from ..files.atomic import atomic_write
from ..errors import NngradError, OutputError
from ..numerics.stages import ARRAYS, ORDER

YAML_EXTENSIONS = (".yaml", ".yml")
SPEC_EXTENSIONS = (*YAML_EXTENSIONS, ".npz")


def spec_format(path: str) -> str:
    """``yaml`` or ``npz`` from an output path's extension (``-`` is YAML on standard output)."""
    if path == "-":
        return "yaml"
    ext = os.path.splitext(path)[1].lower()
    if ext not in SPEC_EXTENSIONS:
        raise OutputError(f"cannot tell the spec format from the extension {ext or '(none)'!r}; "
                          f"use {', '.join(SPEC_EXTENSIONS)}", file=path)
    return "npz" if ext == ".npz" else "yaml"


def number(x) -> str:
    """The shortest text that reads back to the same float64 (integers stay integers)."""
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    text = repr(float(x))
    if "e" in text and "." not in text:  # 1.0e-05, as YAML 1.1 readers (PyYAML) read a float too
        text = text.replace("e", ".0e", 1)
    return text


def _row(values) -> str:
    return "[" + ", ".join(map(number, values)) + "]"


def _matrix(a, indent: str) -> str:
    a = np.asarray(a)
    if a.ndim == 1:
        return " " + _row(a.tolist())
    return "".join(f"\n{indent}- {_row(row)}" for row in a.tolist())


def _loss_parts(spec: dict) -> tuple[str, str | None, dict]:
    """The loss's name, reduction (or None) and parameters, as the spec gives them."""
    loss = spec["loss"]
    if isinstance(loss, dict):
        params = {k: v for k, v in loss.items() if k not in ("name", "reduction")}
        return loss["name"], loss.get("reduction", spec.get("reduction")), params
    return loss, spec.get("reduction"), {}


def _scalar(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    return v if isinstance(v, str) else number(v)


def _flow(mapping: dict) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in mapping.items()) + "}"


def _activation_yaml(activation) -> str:
    if isinstance(activation, dict):
        params = ", ".join(f"{k}: {number(v)}" for k, v in activation.items() if k != "name")
        return f"{{name: {activation['name']}" + (f", {params}}}" if params else "}")
    return str(activation)


def yaml_text(spec: dict, header: list[str] = ()) -> str:
    """The spec as readable YAML, ``header`` lines as comments on top."""
    name, reduction, params = _loss_parts(spec)
    loss = _flow({"name": name, **params, **({"reduction": reduction} if reduction else {})}) \
        if reduction or params else name
    out = [f"# {line}" for line in header]
    out += [f"layout: {spec.get('layout', 'rows')}", f"dtype: {spec.get('dtype', 'float64')}",
            f"loss: {loss}"]
    if spec.get("regularization") is not None:
        out.append(f"regularization: {_flow(spec['regularization'])}")
    out += ["X:" + _matrix(spec["X"], "  "), "T:" + _matrix(_targets(spec), "  "), "layers:"]
    for layer in spec["layers"]:
        out.append(f"  - activation: {_activation_yaml(layer.activation)}")
        out.append("    W:" + _matrix(layer.W, "      "))
        if layer.b is not None:
            out.append("    b:" + _matrix(layer.b, "      "))
        for key, given in stages_given(layer).items():
            arrays = {k: v for k, v in given.items() if k in ARRAYS}
            scalars = {k: v for k, v in given.items() if k not in arrays}
            if not arrays:
                out.append(f"    {key}: {_flow(scalars)}")
                continue
            out.append(f"    {key}:")
            out += [f"      {k}: {_scalar(v)}" for k, v in scalars.items()]
            out += [f"      {k}:" + _matrix(v, "        ") for k, v in arrays.items()]
    return "\n".join(out) + "\n"


def stages_given(layer) -> dict:
    """A layer's stages as the spec gives them, key -> mapping: a validated ``Norm`` or
    ``Dropout`` as its fields (a seed without its drawn mask), a mapping as it is."""
    out = {}
    for key in ORDER:
        value = getattr(layer, key, None)
        if value is None:
            continue
        if hasattr(value, "_asdict"):
            value = {k: v for k, v in value._asdict().items()
                     if not (k == "mask" and value.seed is not None) and not (k == "seed" and v is None)} \
                if key == "dropout" else value._asdict()
        out[key] = {} if value is True else dict(value)
    return out


def _targets(spec: dict):
    T = np.asarray(spec["T"])
    if T.ndim == 1 and T.dtype.kind == "f" and np.array_equal(T, np.round(T)):
        return T.astype(np.int64)  # class labels
    return T


def npz_members(spec: dict) -> dict:
    """The spec as the contract's NPZ members, arrays in the spec's dtype (labels as integers)."""
    dtype = spec.get("dtype", "float64")
    name, reduction, params = _loss_parts(spec)
    T = _targets(spec)
    members = {"X": np.asarray(spec["X"], dtype=dtype),
               "T": T if T.dtype.kind in "iu" else np.asarray(T, dtype=dtype)}
    names = []
    for l, layer in enumerate(spec["layers"], start=1):
        members[f"W{l}"] = np.asarray(layer.W, dtype=dtype)
        if layer.b is not None:
            members[f"b{l}"] = np.asarray(layer.b, dtype=dtype)
        names.append(_activation_npz(layer.activation))
        for key, given in stages_given(layer).items():
            if key != "dropout":
                members[f"norm{l}"] = np.array(key)
            for k, v in given.items():
                members[f"{k}{l}"] = np.asarray(v, dtype=dtype) if k in ARRAYS \
                    else np.array(v)
    members["activations"] = np.array(names)
    members["loss"] = np.array(name + "".join(f":{number(v)}" for v in params.values()))
    for key, value in (spec.get("regularization") or {}).items():
        members[f"regularization_{key}"] = np.array(value)
    members["layout"] = np.array(spec.get("layout", "rows"))
    members["dtype"] = np.array(dtype)
    if reduction:
        members["reduction"] = np.array(reduction)
    return members


def _activation_npz(activation) -> str:
    if isinstance(activation, dict):
        params = [number(v) for k, v in activation.items() if k != "name"]
        return activation["name"] + "".join(f":{p}" for p in params)
    return str(activation)


def npz_bytes(members: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    return buffer.getvalue()


def write_text_or_bytes(path: str, data) -> None:
    """Write ``data`` (str: YAML, bytes: NPZ) to ``path`` atomically; ``-`` is standard output,
    where the text goes as the UTF-8 it is (not in the stream's encoding). A file name in the
    text (a header) keeps the bytes it had on the command line."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    if path == "-":
        if isinstance(data, bytes):
            raise NngradError("an NPZ cannot be written to standard output; give a file name",
                              file="-")
        write_bytes = getattr(sys.stdout, "write_bytes", None)  # the command line's stream
        if write_bytes is None:
            sys.stdout.write(data)
        else:
            write_bytes(raw)
        return
    with atomic_write(path, "wb") as f:
        f.write(raw)


def write_spec(spec: dict, path: str, header: list[str] = ()) -> None:
    """Write ``spec`` to ``path`` in the format its extension names, atomically."""
    if spec_format(path) == "npz":
        write_text_or_bytes(path, npz_bytes(npz_members(spec)))
    else:
        write_text_or_bytes(path, yaml_text(spec, header))


def save(net, path) -> None:
    """Write the ``Network`` ``net`` to ``path``: YAML for ``.yaml`` or ``.yml``, NPZ for ``.npz``
    (``-``: YAML on standard output), atomically, with the writer of ``nngrad convert``.

    ``nngrad.load(path)`` gives back an equal network: the same arrays bit for bit (biases as
    the zeros they were, where the spec left them out), activations, loss, reduction and their
    parameters, regularization and stages; a dropout drawn from a seed is written as its seed.
    Raises ``OutputError`` for an extension it cannot tell or a file it cannot write.
    """
    from .. import __version__

    path = os.fspath(path)
    spec = spec_of(net)
    spec_format(path)  # before any work
    write_spec(spec, path, [f"Saved by nngrad {__version__} (nngrad.save)"])


def spec_of(net) -> dict:
    """A validated ``Network`` as the spec ``write_spec`` takes: its names with the parameters
    that differ from their defaults, the reduction where it is not the loss's default, the
    regularization as a mapping, and its layers' stages as they are (``stages_given``)."""
    from dataclasses import replace

    from ..model.network import Network
    from ..numerics.activations import ACTIVATIONS
    from ..numerics.losses import LOSSES

    if not isinstance(net, Network):
        raise TypeError(f"save takes an nngrad.Network, not {type(net).__name__}")
    layers = [replace(layer, activation=_named(layer.activation, layer.params, ACTIVATIONS),
                      params={}) for layer in net.layers]
    spec = {"X": net.X, "T": net.T, "layers": layers, "layout": net.layout, "dtype": net.dtype,
            "loss": _named(net.loss, net.loss_params, LOSSES)}
    if net.reduction != LOSSES[net.loss].reduction:
        spec["reduction"] = net.reduction
    if net.regularization is not None:
        spec["regularization"] = net.regularization._asdict()
    return spec


def _named(name: str, params, table) -> str | dict:
    """``name``, or ``{"name": name, **params}`` with the parameters other than the defaults."""
    given = {k: v for k, v in params.items() if v != table[name].params.get(k)}
    return {"name": name, **given} if given else name

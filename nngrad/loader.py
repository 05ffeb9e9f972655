"""Load a network spec from YAML or NPZ into a validated ``Network``.

Every problem becomes a ``SpecError`` that names the file, the place (``W2``, ``X[0][3]``,
``layer 2 activation``) and, for YAML, the line. NPZ members are read with
``allow_pickle=False``: nothing in a spec is ever unpickled or executed.
"""

from __future__ import annotations

import io
import os
import sys

import numpy as np

from .activations import ACTIVATIONS
from .errors import SpecError
from .network import Layer, Network, close_matches
from .npzread import NPY_MAGIC, ZIP_MAGIC, npz_arrays

NPZ_SINGLE = "is a single .npy array, not an NPZ spec"
SPEC_KEYS = ("layout", "dtype", "loss", "X", "T", "layers")
NPZ_OPTIONAL = ("layout", "reduction", "dtype")


def load(source, *, name: str | None = None, build=Network, limit: int | None = None) -> Network:
    """Load a spec from a path (YAML or NPZ, told apart by content), or ``-`` for standard input.

    Raises ``SpecError`` with the file, place and line of the first problem. ``build`` makes the
    network from ``Network``'s keyword arguments (``nngrad explain`` adds its shape walk).
    ``limit`` caps the bytes an NPZ may declare (default: ``limits.npz_bytes`` of the settings).
    """
    return load_file(source, name, lambda data: from_npz(data, build, limit),
                      lambda data: from_yaml(data, build))


def load_file(source, name: str | None, npz, yaml):
    """Read ``source`` (``-``: standard input) and parse it with ``npz`` or ``yaml``, told apart by
    content; every SpecError is given the file's name. ``npz`` is given a binary file, read
    where it lies (an NPZ is not copied into memory first); ``yaml`` the bytes."""
    source = os.fspath(source)
    name = name or ("<stdin>" if source == "-" else source)
    try:
        with _opened(source, name) as f:
            if f.peek(6)[:6].startswith((*ZIP_MAGIC, NPY_MAGIC)) or \
                    (source.endswith(".npz") and source != "-"):
                return npz(f)
            return yaml(_read(f, name))
    except SpecError as e:
        raise e.located(file=name) from None


def read_bytes(source: str, name: str) -> bytes:
    """The bytes of a file, or of standard input for ``-``; SpecError if it cannot be read."""
    with _opened(source, name) as f:
        return _read(f, name)


def _opened(source: str, name: str):
    """A seekable buffered binary file: ``source``, or standard input for ``-``. A pipe (``-``,
    or ``<(...)``) is read whole, so that an NPZ on it can be searched. SpecError if it cannot
    be opened or read."""
    try:
        if source == "-":
            return io.BufferedReader(io.BytesIO(sys.stdin.buffer.read()))
        f = open(source, "rb")
        if f.seekable():
            return f
        with f:
            return io.BufferedReader(io.BytesIO(f.read()))
    except FileNotFoundError:
        raise SpecError("no such file", file=name) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a spec file", file=name) from None
    except PermissionError:
        raise SpecError("permission denied", file=name) from None
    except OSError as e:
        raise SpecError(f"cannot be read: {e.strerror or e}", file=name) from None


def _read(f, name: str) -> bytes:
    try:
        return f.read()
    except OSError as e:
        raise SpecError(f"cannot be read: {e.strerror or e}", file=name) from None


def from_yaml(data: bytes, build=Network) -> Network:
    """A Network from the bytes of a YAML (or JSON) spec."""
    from .yamlread import line_of, parse, to_python

    root = parse(data, "is empty; a spec is a mapping with X, T, layers and loss")
    try:
        spec = to_python(root)
        return from_mapping(spec, build)
    except SpecError as e:
        raise e.located(line=line_of(root, e.path)) from None


def from_mapping(spec, build=Network) -> Network:
    """A Network from a spec already parsed to plain data (mappings, lists, numbers)."""
    if not isinstance(spec, dict):
        raise SpecError(f"is a {_kind(spec)}; a spec is a mapping with X, T, layers and loss")
    _known_keys(spec, SPEC_KEYS, ())
    for key in ("X", "T", "layers", "loss"):
        if key not in spec:
            raise SpecError(f"the spec has no {key}")
    layers = spec["layers"]
    if not isinstance(layers, list) or not layers:
        raise SpecError("must be a non-empty list of layers", path=("layers",))
    built = []
    for i, layer in enumerate(layers):
        path = ("layers", i)
        if not isinstance(layer, dict):
            raise SpecError(f"is a {_kind(layer)}; a layer is a mapping with W, b and activation",
                            path=path)
        _known_keys(layer, ("W", "b", "activation"), path)
        if "W" not in layer:
            raise SpecError("has no W", path=path)
        if "activation" not in layer:
            raise SpecError("has no activation (write `activation: identity` for none)", path=path)
        b = layer.get("b")
        built.append(Layer(numbers(layer["W"], (*path, "W")),
                           None if b is None else numbers(b, (*path, "b")),
                           layer["activation"]))
    return build(X=numbers(spec["X"], ("X",)), T=numbers(spec["T"], ("T",)), layers=built,
                 loss=spec["loss"], layout=spec.get("layout", "rows"),
                 dtype=spec.get("dtype", "float64"))


def numbers(value, path: tuple) -> np.ndarray:
    """Nested lists of numbers (1-D or 2-D) as a float64 array; names the first bad entry."""
    if not isinstance(value, list):
        raise SpecError(f"is {_describe(value)}; a list of numbers was expected", path=path)
    if not value:
        raise SpecError("is empty", path=path)
    if isinstance(value[0], list):
        width = len(value[0])
        for i, row in enumerate(value):
            if not isinstance(row, list):
                raise SpecError(f"is {_describe(row)}, but row 0 is a list: every row must be a "
                                "list of the same length", path=(*path, i))
            if len(row) != width:
                raise SpecError(f"has {len(row)} entries but row 0 has {width}: every row must "
                                "be as long", path=(*path, i))
            _check_numbers(row, (*path, i))
    else:
        _check_numbers(value, path)
    try:
        return np.array(value, dtype=np.float64)
    except OverflowError:
        big = next(i for i, x in enumerate(np.ravel(np.array(value, dtype=object)))
                   if abs(x) > 1e308)
        index = np.unravel_index(big, np.shape(value))
        raise SpecError("is too large for a float64", path=(*path, *map(int, index))) from None


def _check_numbers(row: list, path: tuple) -> None:
    for j, x in enumerate(row):
        if type(x) is not float and (type(x) is not int):
            raise SpecError(f"is {_describe(x)}; a number was expected", path=(*path, j))


def _describe(x) -> str:
    if isinstance(x, (list, dict)):
        return f"a {_kind(x)}"
    if x is None or isinstance(x, bool):
        return {None: "null", True: "true", False: "false"}[x]
    return repr(x)


def _kind(x) -> str:
    return {dict: "mapping", list: "list", str: "string", type(None): "null"}.get(
        type(x), type(x).__name__)


def _known_keys(mapping: dict, known: tuple, path: tuple) -> None:
    for key in mapping:
        if key not in known:
            near = close_matches(str(key), known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise SpecError(f"unknown key {key!r}{hint}; expected {', '.join(known)}",
                            path=(*path, key))


def from_npz(data, build=Network, limit: int | None = None) -> Network:
    """A Network from an NPZ spec, its bytes or a binary file (arrays X, T, W1.., b1.., activations,
    loss)."""
    return from_arrays(npz_arrays(data, NPZ_SINGLE, limit), build)


def from_arrays(arrays: dict, build=Network) -> Network:
    """A Network from the NPZ layout's arrays: X, T, W1..WL, b1..bL, activations, loss, ..."""
    for key in ("X", "T", "activations", "loss"):
        if key not in arrays:
            raise SpecError(f"the NPZ has no member {key!r}")
    names = _strings(arrays["activations"], "activations")
    L = len(names)
    known = ("X", "T", "activations", "loss", *NPZ_OPTIONAL,
             *(f"{p}{l}" for l in range(1, L + 1) for p in "Wb"))
    _known_keys(arrays, known, ())
    layers = []
    for l, spec in enumerate(names, start=1):
        if f"W{l}" not in arrays:
            raise SpecError(f"the NPZ has {L} activations but no member W{l}")
        layers.append(Layer(arrays[f"W{l}"], arrays.get(f"b{l}"), _activation(spec, l)))
    options = {key: _string(arrays[key], key) for key in NPZ_OPTIONAL if key in arrays}
    return build(X=arrays["X"], T=arrays["T"], layers=layers, loss=_string(arrays["loss"], "loss"),
                 **options)


def _activation(spec: str, l: int):
    """``"leaky_relu:0.2"`` -> ``{"name": "leaky_relu", "alpha": 0.2}``; a plain name as is."""
    name, sep, arg = spec.partition(":")
    if not sep:
        return name
    params = ACTIVATIONS[name].params if name in ACTIVATIONS else {}
    path = ("layers", l - 1, "activation")
    if len(params) != 1:
        raise SpecError(f"{spec!r}: {name} takes no parameter", path=path)
    try:
        return {"name": name, next(iter(params)): float(arg)}
    except ValueError:
        raise SpecError(f"{spec!r}: {arg!r} is not a number", path=path) from None


def _strings(a: np.ndarray, key: str) -> list[str]:
    if a.dtype.kind not in "US" or a.ndim != 1:
        raise SpecError("must be a 1-D array of strings, one activation name per layer", path=(key,))
    return [s.decode() if isinstance(s, bytes) else str(s) for s in a.tolist()]


def _string(a: np.ndarray, key: str) -> str:
    if a.dtype.kind not in "US" or a.size != 1:
        raise SpecError("must be a single string (a 0-d string array)", path=(key,))
    s = a.reshape(()).item()
    return s.decode() if isinstance(s, bytes) else s


def load_gradients(source, *, name: str | None = None, check=None, limit: int | None = None) -> dict:
    """Gradients a user computed, name -> array, from NPZ, YAML or JSON (``-``: standard input).

    YAML and JSON hold a mapping of name to nested lists, or to ``{"shape": ..., "data": ...}``
    as ``nngrad run --format json`` writes them (whose ``tensors`` mapping is also accepted).
    ``check(arrays)``, if given, validates them; its SpecError is given this file and line.
    """
    check = check or (lambda arrays: arrays)
    return load_file(source, name, lambda data: check(_npz_gradients(data, limit)),
                      lambda data: _yaml_gradients(data, check))


def _npz_gradients(data, limit: int | None) -> dict:
    arrays = npz_arrays(data, "is a single .npy array; save gradients with np.savez(dW1=..., ...)",
                        limit)
    for key, a in arrays.items():
        if a.dtype.kind not in "iuf":
            raise SpecError(f"must hold numbers, not {a.dtype}", path=(key,))
    return arrays


def _yaml_gradients(data: bytes, check) -> dict:
    from .yamlread import line_of, parse, to_python

    root = parse(data, "is empty; it should map gradient names (dW1, dB1, ...) to arrays")
    try:
        doc = to_python(root)
        if not isinstance(doc, dict):
            raise SpecError(f"is a {_kind(doc)}; it should map gradient names to arrays")
        prefix = ("tensors",) if isinstance(doc.get("tensors"), dict) else ()
        entries = doc["tensors"] if prefix else doc
        out = {}
        for key, value in entries.items():
            path = (*prefix, key)
            if isinstance(value, dict) and "data" in value:
                value, path = value["data"], (*path, "data")
            out[str(key)] = np.array(value, dtype=np.float64) if _is_number(value) \
                else numbers(value, path)
        return check(out)
    except SpecError as e:
        raise e.located(line=line_of(root, e.path)) from None


def _is_number(x) -> bool:
    return type(x) in (int, float)

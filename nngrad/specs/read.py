"""Load a network spec from YAML or NPZ into a validated ``Network``.

Every problem becomes a ``SpecError`` that names the file, the place (``W2``, ``X[0][3]``,
``layer 2 activation``) and, for YAML, the line. NPZ members are read with
``allow_pickle=False``: nothing in a spec is ever unpickled or executed.
"""

from __future__ import annotations

import numpy as np

from ..numerics.activations import ACTIVATIONS
from ..numerics.losses import LOSSES
from ..numerics.regularization import KEYS
from ..numerics.stages import ARRAYS as STAGE_ARRAY_KEYS, ORDER as STAGE_ORDER
from ..errors import SpecError, quoted
from ..model.network import Layer, Network
from ..model.spec import known_keys, misnamed, unknown_key
from ..model.values import described, kind_of
from .npzread import npz_arrays
from .npzstages import MEMBERS as STAGE_MEMBERS, npz_stages
from .sources import load_file

NPZ_SINGLE = "is a single .npy array, not an NPZ spec"
SPEC_EMPTY = "is empty; a spec is a mapping with X, T, layers and loss"
SPEC_KEYS = ("layout", "dtype", "loss", "X", "T", "layers", "regularization")
OTHER_KEYS = {"Y": "T", "targets": "T", "labels": "T", "inputs": "X", "input": "X",
              "activation": "activations", "weights": "W", "bias": "b", "biases": "b"}
# other names a user gives a spec's keys: each unknown, with a "did you mean" (see known_keys)
STAGE_KEYS = STAGE_ORDER
LAYER_KEYS = ("W", "b", "activation", *STAGE_KEYS)
STAGE_ARRAYS = STAGE_ARRAY_KEYS
OTHER_KEYS.update({"batch_norm": "batchnorm", "bn": "batchnorm", "batchnorm2d": "batchnorm",
                   "layer_norm": "layernorm", "ln": "layernorm", "drop_out": "dropout"})
NPZ_OPTIONAL = ("layout", "reduction", "dtype")

NPZ_REGULARIZATION = {f"regularization_{key}": key for key in KEYS}  # member: key


def load(source, *, name: str | None = None, build=Network, limit: int | None = None,
         read_limit: int | None = None, memory_limit: int | None = None,
         mapped: bool = False) -> Network:
    """Load a spec from a path (YAML or NPZ, told apart by content), or ``-`` for standard input.

    Raises ``SpecError`` with the file, place and line of the first problem. ``build`` makes the
    network from ``Network``'s keyword arguments (``nngrad explain`` adds its shape walk).
    ``limit`` caps the bytes an NPZ may declare (default: ``limits.npz_bytes`` of the settings),
    ``read_limit`` the bytes of a YAML or JSON text (default: ``limits.read_bytes``); an NPZ on a
    pipe is read up to ``sources.stream_limit(limit)``. ``memory_limit`` caps
    the memory a YAML text's reading may need (default: ``limits.memory_bytes``; see
    ``yamlread.compose_rows``). With ``mapped``, an NPZ file's X and T, if stored uncompressed,
    are read-only memory maps of the file (``npzmap``), checked as any array is, read as they
    are used, and not counted against ``limit``.
    """
    return load_file(source, name, lambda data: from_npz(data, build, limit, mapped),
                     lambda data: from_yaml(data, build, memory_limit), limit=limit,
                     read_limit=read_limit)


def from_yaml(data: bytes, build=Network, memory_limit: int | None = None) -> Network:
    """A Network from the bytes of a YAML (or JSON) spec."""
    from .yamlread import parse

    return from_tree(parse(data, SPEC_EMPTY, memory_limit), build)


def from_tree(root, build=Network) -> Network:
    """A Network from a YAML spec's node tree; a SpecError gets the line of its place."""
    from .yamlread import line_of, to_python

    try:
        spec = to_python(root)
        return from_mapping(spec, build)
    except SpecError as e:
        raise e.located(line=line_of(root, e.path)) from None


def from_mapping(spec, build=Network) -> Network:
    """A Network from a spec already parsed to plain data (mappings, lists, numbers)."""
    if not isinstance(spec, dict):
        raise SpecError(f"is a {kind_of(spec)}; a spec is a mapping with X, T, layers and loss")
    known_keys(spec, SPEC_KEYS, (), OTHER_KEYS)
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
            raise SpecError(f"is a {kind_of(layer)}; a layer is a mapping with W, b and activation",
                            path=path)
        known_keys(layer, LAYER_KEYS, path, OTHER_KEYS)
        if "W" not in layer:
            raise SpecError("has no W", path=path)
        if "activation" not in layer:
            raise SpecError("has no activation (write `activation: identity` for none)", path=path)
        stages = {key: _stage(layer[key], (*path, key)) for key in STAGE_KEYS if key in layer}
        built.append(Layer(numbers(layer["W"], (*path, "W")),  # b left out: zeros; b: null is refused
                           numbers(layer["b"], (*path, "b")) if "b" in layer else None,
                           layer["activation"], **stages))
    if "regularization" in spec and spec["regularization"] is None:
        raise SpecError("is null; leave it out for no penalty, or give a mapping such as "
                        "{l2: 0.05}", path=("regularization",))
    extra = {"regularization": spec["regularization"]} if "regularization" in spec else {}
    return build(X=numbers(spec["X"], ("X",)), T=numbers(spec["T"], ("T",)), layers=built,
                 loss=spec["loss"], layout=spec.get("layout", "rows"),
                 dtype=spec.get("dtype", "float64"), **extra)


def _stage(value, path: tuple):
    """A stage's mapping with its arrays (gamma, beta, mask) read as numbers; anything else as
    given, for ``Network`` to judge (``null`` is refused: leave the key out)."""
    if value is None:
        raise SpecError("is null; leave it out for none, or give a mapping", path=path)
    if not isinstance(value, dict):
        return value
    return {k: numbers(v, (*path, k)) if k in STAGE_ARRAYS and isinstance(v, list) else v
            for k, v in value.items()}


def numbers(value, path: tuple) -> np.ndarray:
    """Nested lists of numbers (1-D or 2-D) as a float64 array; names the first bad entry."""
    if not isinstance(value, list):
        raise SpecError(f"is {described(value)}; a list of numbers was expected", path=path)
    if not value:
        raise SpecError("is empty", path=path)
    if isinstance(value[0], list):
        width = len(value[0])
        for i, row in enumerate(value):
            if not isinstance(row, list):
                raise SpecError(f"is {described(row)}, but row 0 is a list: every row must be a "
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
        rows = value if isinstance(value[0], list) else [value]
        for i, row in enumerate(rows):
            for j, x in enumerate(row):
                if _too_large(x):
                    where = (i, j) if rows is value else (j,)
                    raise SpecError(f"is {quoted(x)}, too large for a float64",
                                    path=(*path, *where)) from None
        raise SpecError("holds a number too large for a float64", path=path) from None


def number(value, path: tuple) -> np.ndarray:
    """A single int or float as a 0-d float64 array; SpecError if it is too large for one."""
    if _too_large(value):
        raise SpecError(f"is {quoted(value)}, too large for a float64", path=path)
    return np.array(value, dtype=np.float64)


def _too_large(x) -> bool:
    try:
        float(x)
    except OverflowError:
        return True
    return False


def _check_numbers(row: list, path: tuple) -> None:
    for j, x in enumerate(row):
        if type(x) is not float and (type(x) is not int):
            raise SpecError(f"is {described(x)}; a number was expected", path=(*path, j))


def from_npz(data, build=Network, limit: int | None = None, mapped: bool = False) -> Network:
    """A Network from an NPZ spec, its bytes or a binary file (arrays X, T, W1.., b1.., activations,
    loss); ``mapped`` as for ``load``."""
    return from_arrays(spec_arrays(data, limit, mapped), build)


def spec_arrays(data, limit: int | None = None, mapped: bool = False) -> dict:
    """The members of an NPZ spec (bytes or a seekable binary file), as ``npz_arrays`` reads them
    (X and T mapped, with ``mapped``: ``npzmap.BATCH``); but first the shapes their headers
    declare are checked against each other (``npzshapes``), so that a spec that cannot fit is
    refused before any array is read."""
    from .npzmap import BATCH, in_spec_dtype
    from .npzshapes import check_headers

    return npz_arrays(data, NPZ_SINGLE, limit, precheck=check_headers,
                      mapped=BATCH if mapped else (), map_if=in_spec_dtype)


def from_arrays(arrays: dict, build=Network) -> Network:
    """A Network from the NPZ layout's arrays: X, T, W1..WL, b1..bL, activations, loss, ..."""
    for key in ("X", "T", "activations", "loss"):
        if key not in arrays:
            stray = misnamed(arrays, key, OTHER_KEYS)  # Y for T
            if stray is not None:
                unknown_key(stray, (key,), (), OTHER_KEYS, f"the NPZ has no member {key!r}")
            raise SpecError(f"the NPZ has no member {key!r}")
    names = _strings(arrays["activations"], "activations")
    L = len(names)
    known = ("X", "T", "activations", "loss", *NPZ_OPTIONAL, *NPZ_REGULARIZATION,
             *(f"{p}{l}" for l in range(1, L + 1) for p in ("W", "b", *STAGE_MEMBERS)))
    known_keys(arrays, known, (), OTHER_KEYS)
    layers = []
    for l, spec in enumerate(names, start=1):
        if f"W{l}" not in arrays:
            raise SpecError(f"the NPZ has {L} activations but no member W{l}")
        layers.append(Layer(arrays[f"W{l}"], arrays.get(f"b{l}"),
                            colon_named(spec, ACTIVATIONS, ("layers", l - 1, "activation")),
                            **npz_stages(arrays, l)))
    options = {key: _string(arrays[key], key) for key in NPZ_OPTIONAL if key in arrays}
    reg = {key: _scalar(arrays[member], member) for member, key in NPZ_REGULARIZATION.items()
           if member in arrays}
    if reg:
        options["regularization"] = reg
    loss = colon_named(_string(arrays["loss"], "loss"), LOSSES, ("loss",))
    try:
        return build(X=arrays["X"], T=arrays["T"], layers=layers, loss=loss, **options)
    except SpecError as e:
        if e.path[:1] == ("regularization",) and len(e.path) > 1:  # the member that holds it
            e.path = (f"regularization_{e.path[1]}",)
        elif e.path[:1] == ("layers",) and len(e.path) > 3 and e.path[2] in STAGE_KEYS:
            e.path = (f"{e.path[3]}{e.path[1] + 1}", *e.path[4:])  # gamma1[3]
        elif e.path[:1] == ("layers",) and len(e.path) == 3 and e.path[2] in STAGE_KEYS:
            e.path = (f"{'keep' if e.path[2] == 'dropout' else 'norm'}{e.path[1] + 1}",)
        elif e.path[:1] == ("loss",):
            e.path = ("loss",)
        raise


def _scalar(a: np.ndarray, key: str):
    """A 0-d member as a Python value: a string, a bool, or a number."""
    if a.ndim or a.dtype.kind not in "USbiuf":
        raise SpecError("must be a single value (a 0-d array)", path=(key,))
    return _string(a, key) if a.dtype.kind in "US" else a.item()


def colon_named(spec: str, table: dict, path: tuple):
    """``"leaky_relu:0.2"`` -> ``{"name": "leaky_relu", "alpha": 0.2}`` for a record of ``table``
    with one parameter (``"svm:2"`` for a loss); a plain name as is."""
    name, sep, arg = spec.partition(":")
    if not sep:
        return name
    params = table[name].params if name in table else {}
    if len(params) != 1:
        raise SpecError(f"{quoted(spec)}: {quoted(name)} takes no parameter", path=path)
    try:
        value = float(arg)
    except ValueError:
        value = np.nan
    if not np.isfinite(value):  # also a number of thousands of digits, which float reads as inf
        raise SpecError(f"{quoted(spec)}: {quoted(arg)} is not a finite number", path=path)
    return {"name": name, next(iter(params)): value}


def _strings(a: np.ndarray, key: str) -> list[str]:
    if a.dtype.kind not in "US" or a.ndim != 1:
        raise SpecError("must be a 1-D array of strings, one activation name per layer", path=(key,))
    return [_text(a[i:i + 1], (key, i)) for i in range(a.size)]


def _string(a: np.ndarray, key: str) -> str:
    if a.dtype.kind not in "US" or a.size != 1:
        raise SpecError("must be a single string (a 0-d string array)", path=(key,))
    return _text(a.reshape(1), (key,))


def _text(a: np.ndarray, path: tuple) -> str:
    """The one string of ``a``: bytes (dtype S) must be UTF-8, and str (dtype U) characters
    (numpy makes a broken str of a code point past U+10FFFF)."""
    if a.dtype.kind == "U" and a.dtype.itemsize:
        codes = a.astype(a.dtype.newbyteorder("=")).view(np.uint32)
        bad = codes[(codes > 0x10FFFF) | ((codes >= 0xD800) & (codes < 0xE000))]
        if bad.size:
            raise SpecError(f"is not valid text (it holds {int(bad[0]):#x}, which is not a "
                            "Unicode character)", path=path)
    s = a.item()
    try:
        return s.decode() if isinstance(s, bytes) else s
    except UnicodeDecodeError as e:
        raise SpecError(f"is not UTF-8 text (byte {e.start} is {s[e.start]:#04x})",
                        path=path) from None


def load_gradients(source, *, name: str | None = None, check=None, limit: int | None = None,
                   read_limit: int | None = None, memory_limit: int | None = None) -> dict:
    """Gradients a user computed, name -> array, from NPZ, YAML or JSON (``-``: standard input).

    YAML and JSON hold a mapping of name to nested lists, or to ``{"shape": ..., "data": ...}``
    as ``nngrad run --format json`` writes them (whose ``tensors`` mapping is also accepted); a
    shape that its data contradicts is refused. ``check(arrays)``, if given, validates them and
    gives the result (``arrays`` is a Mapping whose entries are read and checked as they are
    accessed, so that ``check`` may skip some unread); its SpecError is given this file and line.
    The limits are as for ``load``.
    """
    from .gradfile import npz_gradients, yaml_gradients

    check = check or dict  # every entry read, and checked
    return load_file(source, name, lambda data: check(npz_gradients(data, limit)),
                     lambda data: yaml_gradients(data, check, memory_limit), limit=limit,
                     read_limit=read_limit)

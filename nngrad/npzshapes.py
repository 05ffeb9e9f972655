"""An NPZ spec's shapes checked from its ``.npy`` headers, before any array is read.

``check_headers`` is ``npzread``'s precheck for a spec. The string members (activations, loss,
layout, reduction, dtype) are read; every other member stands in as a read-only view of one zero
broadcast to the shape its header declares, which costs no memory. ``loader.from_arrays`` then
builds the spec with ``_shapes_fit`` in place of ``Network``: a missing or unknown member is
refused as it would be later, and X against W1, the chain of W's, each b, and T against the batch
and the output width are checked in the ``layout`` given.

The check raises only the error ``Network`` would raise first, and only when that is a shape
error; its message is Network's, and says that the shapes came from the headers. It stops, and
leaves the rest to the full validation after the arrays are read, at anything it cannot judge
from a header: a name Network would refuse first, a member of strings where numbers belong, an
empty array or a wrong rank. Values are unknown here, so a spec with both a non-finite number and
a shape that does not fit is refused for the shape.
"""

from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS, ALIASES
from .errors import SpecError
from .losses import LOSSES, REDUCTIONS
from .network import (DTYPES, LAYOUTS, _chain_fits, _count, _other, _shape, _w_mismatch,
                      rows)

STRINGS = ("activations", "loss", "layout", "reduction", "dtype")
FROM_HEADERS = " (the shapes as the NPZ's .npy headers declare them; no array was read)"


def check_headers(headers: dict, read) -> None:
    """SpecError when the declared shapes (``{key: (shape, dtype)}``) cannot make a network;
    ``read(key)`` reads a string member."""
    from .loader import from_arrays

    parts = {key: read(key) if key in STRINGS and dtype.kind in "US" else _stand_in(shape, dtype)
             for key, (shape, dtype) in headers.items()}
    from_arrays(parts, _shapes_fit)


def _stand_in(shape: tuple, dtype: np.dtype) -> np.ndarray:
    return np.broadcast_to(np.zeros((), dtype), shape)


def _shapes_fit(**parts) -> None:
    """A build for ``from_arrays`` that checks the shapes only (see the module)."""
    try:
        _check(**parts)
    except SpecError as e:
        from .shapewalk import shape_walk  # for nngrad explain: the equations up to this one

        e.message += FROM_HEADERS
        e.context = shape_walk(parts)
        raise


def _check(*, X, T, layers, loss, layout="rows", dtype="float64", reduction=None,
           **_) -> None:
    if layout not in LAYOUTS or dtype not in DTYPES or loss not in LOSSES \
            or (reduction is not None and reduction not in REDUCTIONS) or not layers \
            or not _judged(X, 2):
        return
    n_in, last = rows(X, layout).shape[1], None
    for i, layer in enumerate(layers):
        W, b = layer.W, layer.b
        if not _judged(W, 2):
            return
        if rows(W, layout).shape[0] != n_in:
            message = _w_mismatch(W, n_in, "X" if i == 0 else f"A{i}", layout)
            if _chain_fits(X, layers, _other(layout)):  # as Network hints it
                message += (f"; X and every W fit the {_other(layout)} layout: "
                            f"did you mean `layout: {_other(layout)}`?")
            raise SpecError(message, path=("layers", i, "W"))
        n_in = rows(W, layout).shape[1]
        if b is not None:
            if not _judged(b):
                return
            allowed = [(n_in,), _shape((1, n_in), layout)]
            if b.shape not in allowed:
                raise SpecError(f"is {b.shape}; with W{i + 1} {W.shape} it must be "
                                f"{allowed[0]} or {allowed[1]} in the {layout} layout",
                                path=("layers", i, "b"))
        last = _activation(layer.activation)
        if last is None:
            return
    if (loss == "cross_entropy" and last != "softmax") or not _judged(T):
        return
    _targets(T, rows(X, layout).shape[0], n_in, layout, len(layers), loss)


def _targets(T, m: int, n_out: int, layout: str, L: int, loss: str) -> None:
    """T against the batch and the output width, as ``network._targets`` words it."""
    if loss == "cross_entropy" and T.ndim == 1:
        if T.shape != (m,):
            raise SpecError(f"holds {T.shape[0]} class labels, but X has {m} examples",
                            path=("T",))
        return
    need = _shape((m, n_out), layout)
    if T.shape != need:
        hint = ""
        if T.shape == need[::-1]:
            hint = ": did you mean its transpose?"
        elif T.ndim == 1 and T.size == m * n_out:
            hint = " (write one row per example, as [[...], ...])" if layout == "rows" else ""
        raise SpecError(f"is {T.shape}; the output A{L} is {need} in the {layout} layout "
                        f"({_count(m, 'example')}, {_count(n_out, 'output')}), and T must match "
                        f"it{hint}", path=("T",))


def _judged(a, ndim: int | None = None) -> bool:
    """Whether Network would take ``a`` as an array of numbers (of ``ndim`` dimensions)."""
    return a.dtype.kind in "iuf" and a.size > 0 and (ndim is None or a.ndim == ndim)


def _activation(spec) -> str | None:
    """The activation's name as Network resolves it; None where Network would refuse it."""
    name, params = (spec["name"], dict(spec)) if isinstance(spec, dict) else (spec, {})
    params.pop("name", None)
    name = ALIASES.get(name, name) if isinstance(name, str) else name
    if name not in ACTIVATIONS or not set(params) <= set(ACTIVATIONS[name].params) \
            or not all(np.isfinite(v) for v in params.values()):
        return None
    return name

"""An NPZ spec's shapes checked from its ``.npy`` headers, before any array is read.

``check_headers`` is ``npzread``'s precheck for a spec. The string members (activations, loss,
layout, reduction, dtype) are read; every other member stands in as a read-only view of one zero
broadcast to the shape its header declares, which costs no memory. ``read.from_arrays`` then
builds the spec with ``_shapes_fit`` in place of ``Network``: a missing or unknown member is
refused as it would be later, and X against W1, the chain of W's, each b, and T against the batch
and the output width are checked in the ``layout`` given.

The check raises only the error ``Network`` would raise first, and only when that is a shape
error: both apply the rules of ``shapes``, so the message is Network's, and says that the
shapes came from the headers. It stops, and
leaves the rest to the full validation after the arrays are read, at anything it cannot judge
from a header: a name Network would refuse first, a member of strings where numbers belong, an
empty array or a wrong rank. Values are unknown here, so a spec with both a non-finite number and
a shape that does not fit is refused for the shape. A layer's stages (``gamma1``, ``mask1``, ...)
are not judged here: a wrong W2 is told before a wrong gamma1 of the same spec.
"""

from __future__ import annotations

import numpy as np

from ..numerics.activations import ACTIVATIONS, ALIASES
from ..errors import SpecError
from ..numerics.losses import LOSSES, REDUCTIONS
from ..model.network import DTYPES, LAYOUTS
from ..model.shapes import check_b, check_targets, check_w, rows
from ..model.spec import named, parameters

STRINGS = ("activations", "loss", "layout", "reduction", "dtype")
FROM_HEADERS = " (the shapes as the NPZ's .npy headers declare them; no array was read)"


def check_headers(headers: dict, read) -> None:
    """SpecError when the declared shapes (``{key: (shape, dtype)}``) cannot make a network;
    ``read(key)`` reads a string member."""
    from .read import from_arrays

    parts = {key: read(key) if _string_member(key) and dtype.kind in "US" else _stand_in(shape, dtype)
             for key, (shape, dtype) in headers.items()}
    from_arrays(parts, _shapes_fit)


def _string_member(key: str) -> bool:
    return key in STRINGS or (key.startswith("norm") and key[4:].isdigit())


def _stand_in(shape: tuple, dtype: np.dtype) -> np.ndarray:
    return np.broadcast_to(np.zeros((), dtype), shape)


def _shapes_fit(**parts) -> None:
    """A build for ``from_arrays`` that checks the shapes only (see the module)."""
    try:
        _check(**parts)
    except SpecError as e:
        from ..equations.shapewalk import shape_walk  # for nngrad explain: the equations up to this one

        e.message += FROM_HEADERS
        e.context = shape_walk(parts)
        raise


def _check(*, X, T, layers, loss, layout="rows", dtype="float64", reduction=None,
           **_) -> None:
    loss = _named(loss, LOSSES)
    if layout not in LAYOUTS or dtype not in DTYPES or loss is None \
            or (reduction is not None and reduction not in REDUCTIONS) or not layers \
            or not _judged(X, 2):
        return
    n_in, last, Ws = rows(X, layout).shape[1], None, [layer.W for layer in layers]
    for i, layer in enumerate(layers):
        W, b = layer.W, layer.b
        if not _judged(W, 2):
            return
        check_w(W, i, n_in, layout, X, Ws)
        n_in = rows(W, layout).shape[1]
        if b is not None:
            if not _judged(b):
                return
            check_b(b, W, i, layout)
        last = _named(layer.activation, ACTIVATIONS, ALIASES)
        if last is None:
            return
    record = LOSSES[loss]
    if (record.output and last not in record.output) or not _judged(T):
        return
    check_targets(T, rows(X, layout).shape[0], n_in, layout, len(layers),
                  labels=record.labels and T.ndim == 1)


def _judged(a, ndim: int | None = None) -> bool:
    """Whether Network would take ``a`` as an array of numbers (of ``ndim`` dimensions)."""
    return a.dtype.kind in "iuf" and a.size > 0 and (ndim is None or a.ndim == ndim)


def _named(spec, table, aliases={}) -> str | None:
    """The name as Network resolves it (through the same parser); None where Network would
    refuse it, and say why."""
    try:
        name, params = named(spec, (), "name", table, aliases)
        parameters(name, table[name].params, {k: v for k, v in params.items() if k != "reduction"},
                   (), "float64")
    except SpecError:
        return None
    return name

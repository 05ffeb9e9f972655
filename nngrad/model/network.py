"""The network spec as validated data: ``Network`` and ``Layer``.

A ``Network`` is checked when it is made: every name is known and every shape fits, or
``SpecError`` says where (``W2``, ``layer 3 activation``) and what shape was needed, in the
spec's own layout. The arrays are kept as given (only cast to the dtype), so that each
gradient can be returned in exactly the shape of its parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..numerics.activations import ACTIVATIONS, ALIASES
from ..errors import SpecError, quoted
from .shapes import check_b, check_targets, check_w, dims, rows
from .values import array, choice, real, shown
from ..numerics.losses import LOSSES, REDUCTIONS

LAYOUTS = ("rows", "columns")
DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Layer:
    """One dense layer: ``Z = A_prev @ W + b`` (rows) or ``Z = W @ A_prev + b`` (columns), ``A = f(Z)``.

    ``activation`` is a name or a mapping ``{"name": ..., **params}``; ``b=None`` means zeros.
    """

    W: Any
    b: Any = None
    activation: Any = "identity"
    params: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Network:
    """A validated network: inputs ``X``, targets ``T``, layers, loss, layout and dtype.

    Rows layout: X (m, n0), W_l (n_{l-1}, n_l), b_l (n_l,) or (1, n_l), T (m, n_L).
    Columns layout: X (n0, m), W_l (n_l, n_{l-1}), b_l (n_l,) or (n_l, 1), T (n_L, m).
    ``cross_entropy`` also takes T as m integer class labels. ``loss`` is a name or a mapping
    ``{"name": ..., "reduction": ...}``; ``reduction=None`` takes the loss's default. A value given
    is never passed over: a null, '' or false reduction, layout or dtype is refused.
    """

    X: Any
    T: Any
    layers: tuple
    loss: Any
    reduction: str | None = None
    layout: str = "rows"
    dtype: str = "float64"

    def __post_init__(self):
        _validate(self)

    @property
    def labels(self) -> bool:
        """True when T holds integer class labels rather than an array shaped like Y."""
        return self.T.ndim == 1

    @property
    def widths(self) -> tuple[int, ...]:
        """Layer widths n0, n1, ..., nL."""
        return (rows(self.X, self.layout).shape[1],
                *(rows(layer.W, self.layout).shape[1] for layer in self.layers))

    @property
    def batch(self) -> int:
        """The number of examples m."""
        return rows(self.X, self.layout).shape[0]


_set = object.__setattr__  # a frozen Network's fields, each set once by _validate


def _named(spec, path, what) -> tuple[str, dict]:
    """``"relu"`` or ``{"name": "relu", ...}`` -> ("relu", {...})."""
    if isinstance(spec, Mapping):
        if "name" not in spec:
            raise SpecError(f"a {what} written as a mapping needs a 'name'", path=path)
        return spec["name"], {k: v for k, v in spec.items() if k != "name"}
    return spec, {}


def _validate(net: Network) -> None:
    layout = choice(net.layout, LAYOUTS, ("layout",), "layout")
    dtype = choice(net.dtype, DTYPES, ("dtype",), "dtype")
    loss_name, loss_opts = _named(net.loss, ("loss",), "loss")
    loss_name = choice(loss_name, LOSSES, ("loss",), "loss")
    reduction = _reduction(net, loss_name, loss_opts)
    if loss_opts:
        raise SpecError(f"unknown loss option {quoted(next(iter(loss_opts)))}; only 'reduction' "
                        "is taken", path=("loss",))
    for name, value in zip(("layout", "dtype", "loss", "reduction"), (layout, dtype, loss_name, reduction)):
        _set(net, name, value)

    X = array(net.X, ("X",), dtype)
    if X.ndim != 2:
        raise SpecError(f"is {X.ndim}-D with shape {X.shape}; it must be 2-D, "
                        f"{dims('m', 'n0', layout)} in the {layout} layout "
                        f"(one example is written [[...]])", path=("X",))
    _set(net, "X", X)
    if not isinstance(net.layers, (list, tuple)) or not net.layers:
        raise SpecError("must be a non-empty list of layers", path=("layers",))
    layers, n_in = [], X.shape[1] if layout == "rows" else X.shape[0]
    Ws = [getattr(spec, "W", None) for spec in net.layers]  # as given, for the layout hint
    for i, spec in enumerate(net.layers):
        layers.append(_layer(spec, i, n_in, layout, dtype, X, Ws))
        n_in = rows(layers[-1].W, layout).shape[1]
    _set(net, "layers", tuple(layers))
    _set(net, "T", _targets(net, layers[-1], loss_name))


def _reduction(net: Network, loss: str, loss_opts: dict) -> str:
    """The reduction given in the loss mapping or as ``reduction`` (a name, never null, '' or
    false; not two different ones), else the loss's default."""
    instead, given = f" (or leave it out for {loss}'s default, {LOSSES[loss].reduction})", []
    if "reduction" in loss_opts:
        given.append(choice(loss_opts.pop("reduction"), REDUCTIONS, ("loss", "reduction"),
                             "reduction", instead))
    if net.reduction is not None:
        given.append(choice(net.reduction, REDUCTIONS, ("reduction",), "reduction", instead))
    if len(set(given)) > 1:
        raise SpecError(f"is {given[1]!r}, but the loss says reduction {given[0]!r}; give it "
                        "once", path=("reduction",))
    return given[0] if given else LOSSES[loss].reduction


def _layer(spec, i: int, n_in: int, layout: str, dtype: str, X, Ws: list) -> Layer:
    path = ("layers", i)
    if not isinstance(spec, Layer):
        raise SpecError(f"is a {type(spec).__name__}, not an nngrad.Layer", path=path)
    W = array(spec.W, (*path, "W"), dtype)
    if W.ndim != 2:
        raise SpecError(f"is {W.ndim}-D with shape {W.shape}; it must be 2-D, "
                        f"{dims(n_in, 'n_out', layout)} in the {layout} layout", path=(*path, "W"))
    check_w(W, i, n_in, layout, X, Ws)
    if spec.b is None:
        b = np.zeros(rows(W, layout).shape[1], dtype=dtype)
    else:
        b = array(spec.b, (*path, "b"), dtype)
        check_b(b, W, i, layout)
    name, params = _named(spec.activation, (*path, "activation"), "activation")
    name = ALIASES.get(name, name) if isinstance(name, str) else name
    name = choice(name, ACTIVATIONS, (*path, "activation"), "activation")
    if not isinstance(spec.params, Mapping):
        raise SpecError(f"has params {shown(spec.params)}; they must be a mapping of parameter "
                        "name to number", path=(*path, "activation"))
    params = {**ACTIVATIONS[name].params, **params, **spec.params}
    for key, value in params.items():  # a finite real number within the dtype's range
        where = (*path, "activation", key)
        if key not in ACTIVATIONS[name].params:
            raise SpecError(f"{name} takes no parameter {quoted(key)}", path=where)
        if not real(value) or (isinstance(value, (float, np.floating)) and not np.isfinite(value)):
            raise SpecError(f"must be a finite number, not {shown(value)}", path=where)
        if abs(value) > np.finfo(dtype).max.item():
            raise SpecError(f"is {quoted(value)}, too large for {dtype}", path=where)
        params[key] = float(value)
    return Layer(W, b, name, params)


def _targets(net: Network, last: Layer, loss: str) -> np.ndarray:
    layout, X = net.layout, net.X
    m = rows(X, layout).shape[0]
    n_out = rows(last.W, layout).shape[1]
    L = len(net.layers)
    if loss == "cross_entropy" and last.activation != "softmax":
        raise SpecError(f"cross_entropy needs a softmax output layer, but layer {L} is "
                        f"{last.activation}", path=("layers", L - 1, "activation"))
    if loss == "cross_entropy":
        labels = array(net.T, ("T",), np.float64, "class labels or one-hot rows")
        if labels.ndim == 1:
            check_targets(labels, m, n_out, layout, L, labels=True)
            return _labels(labels, n_out)
    T = array(net.T, ("T",), net.dtype)
    check_targets(T, m, n_out, layout, L, labels=False)
    if loss == "bce" and ((T < 0) | (T > 1)).any():
        bad = tuple(int(i) for i in np.argwhere((T < 0) | (T > 1))[0])
        raise SpecError(f"is {T[bad]}; bce needs targets in [0, 1]", path=("T", *bad))
    return T


def _labels(T: np.ndarray, n_classes: int) -> np.ndarray:
    bad = np.flatnonzero((T != np.round(T)) | (T < 0) | (T >= n_classes))
    if bad.size:
        raise SpecError(f"is {T[bad[0]]}; a class label must be an integer from 0 to {n_classes - 1}",
                        path=("T", int(bad[0])))
    return T.astype(np.intp)



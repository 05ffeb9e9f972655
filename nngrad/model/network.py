"""The network spec as validated data: ``Network`` and ``Layer``.

A ``Network`` is checked when it is made: every name is known and every shape fits, or
``SpecError`` says where (``W2``, ``layer 3 activation``) and what shape was needed, in the
spec's own layout. The arrays are kept as given (only cast to the dtype), so that each
gradient can be returned in exactly the shape of its parameter. Names and parameters are read
by ``spec``, the one parser of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Mapping

import numpy as np

from ..errors import SpecError
from ..numerics.activations import ACTIVATIONS, ALIASES
from ..numerics.losses import LOSSES, REDUCTIONS
from ..numerics.stages import ORDER as STAGE_ORDER
from .rows import derived, rows_view, with_arrays
from .shapes import check_b, check_targets, check_w, dims, rows
from .spec import named, parameters, regularization
from .stages import stages
from .values import array, choice, shown

LAYOUTS = ("rows", "columns")
DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Layer:
    """One dense layer: ``Z = A_prev @ W + b`` (rows) or ``Z = W @ A_prev + b`` (columns), ``A = f(Z)``.

    ``activation`` is a name or a mapping ``{"name": ..., **params}``; ``b=None`` means zeros.
    A hidden layer may add ``batchnorm`` or ``layernorm`` on Z (``{"gamma", "beta", "eps"}``,
    each optional) and ``dropout`` on f's output (``{"keep", "mask" or "seed", "inverted"}``);
    see ``numerics.stages``. A validated layer holds them as ``Norm`` and ``Dropout``.
    """

    W: Any
    b: Any = None
    activation: Any = "identity"
    params: Mapping = field(default_factory=dict)
    batchnorm: Any = None
    layernorm: Any = None
    dropout: Any = None

    @property
    def stages(self) -> tuple:
        """(spec key, validated state) of each stage the layer has, in the order they apply."""
        if self.batchnorm is None and self.layernorm is None and self.dropout is None:
            return ()  # a plain layer: asked on every pass
        return tuple((key, getattr(self, key)) for key in STAGE_ORDER if getattr(self, key) is not None)

    @property
    def norm(self) -> tuple | None:
        """(``batchnorm`` or ``layernorm``, its ``Norm``), or None."""
        if self.batchnorm is not None:
            return "batchnorm", self.batchnorm
        return None if self.layernorm is None else ("layernorm", self.layernorm)

    def parameters(self) -> tuple:
        """(kind, array) of every parameter: W, b, then a norm's gamma and beta."""
        norm = self.norm
        extra = (("gamma", norm[1].gamma), ("beta", norm[1].beta)) if norm else ()
        return (("W", self.W), ("b", self.b), *extra)

    def with_parameter(self, kind: str, value) -> "Layer":
        """This layer with its parameter ``kind`` (W, b, gamma or beta) replaced by ``value``."""
        if kind in ("W", "b"):
            return replace(self, **{kind: value})
        key, state = self.norm
        return replace(self, **{key: state._replace(**{kind: value})})


GRADIENT = {"W": "dW", "b": "dB", "gamma": "dgamma", "beta": "dbeta"}  # a parameter's gradient


@dataclass(frozen=True)
class Network:
    """A validated network: inputs ``X``, targets ``T``, layers, loss, layout and dtype.

    Rows layout: X (m, n0), W_l (n_{l-1}, n_l), b_l (n_l,) or (1, n_l), T (m, n_L).
    Columns layout: X (n0, m), W_l (n_l, n_{l-1}), b_l (n_l,) or (n_l, 1), T (n_L, m).
    ``cross_entropy`` and ``svm`` also take T as m integer class labels. ``loss`` is a name or
    a mapping ``{"name": ..., "reduction": ..., **params}``; ``reduction=None`` takes the loss's
    default; ``loss_params`` are the loss's parameters (svm's margin). ``regularization`` is None
    or a mapping ``{l2, form, l1, biases}`` (see ``numerics.regularization``). A value given is
    never passed over: a null, '' or false reduction, layout or dtype is refused.

    Validation is idempotent: a network derived with ``dataclasses.replace`` is validated again
    and keeps every field.
    """

    X: Any
    T: Any
    layers: tuple
    loss: Any
    reduction: str | None = None
    layout: str = "rows"
    dtype: str = "float64"
    regularization: Any = None
    loss_params: Mapping = field(default_factory=dict)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "rows_layers"}  # functions: made again

    def __post_init__(self):
        for name, value in _validated(self).items():
            object.__setattr__(self, name, value)  # each field once, to its validated value

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
        return self.X.shape[0 if self.layout == "rows" else 1]

    @cached_property
    def rows_layers(self) -> tuple:
        """Every layer as a ``rows.RowsLayer``, made once per network on first use, from the
        records as they are then (the passes' view of it; not pickled: see ``__getstate__``)."""
        return rows_view(self.layers, self.layout)

    def parameters(self) -> list:
        """(gradient name, l, kind, array) of every parameter, layer by layer: ``("dW1", 1, "W",
        W1)``, ``dB1``, then ``dgamma1`` and ``dbeta1`` for a layer with a norm."""
        return [(f"{GRADIENT[kind]}{l}", l, kind, p) for l, layer in enumerate(self.layers, start=1)
                for kind, p in layer.parameters()]

    def with_parameters(self, values: dict) -> "Network":
        """This network with parameters replaced, ``{(l, kind): array}``; validated again."""
        return replace(self, layers=self._layers_with(values))

    def trusted_parameters(self, values: dict) -> "Network":
        """``with_parameters`` without validating again, for a path inside nngrad (descent) whose
        arrays it made itself from this network's validated ones: the same shapes and dtype, each
        finite (the caller checks). Never for a user's values."""
        changes: dict = {}
        for (l, kind), value in values.items():
            changes.setdefault(l, {})[kind] = value
        layers = list(self.layers)
        for l, given in changes.items():
            layer = layers[l - 1]
            if "gamma" in given or "beta" in given:
                key, state = layer.norm
                norm = state._replace(**{k: given.pop(k) for k in ("gamma", "beta") if k in given})
                given[key] = norm
            layers[l - 1] = derived(layer, given)
        net = derived(self, {"layers": tuple(layers)})
        if "rows_layers" in self.__dict__:  # the same functions, the new arrays
            net.__dict__["rows_layers"] = with_arrays(self.rows_layers, layers, changes, self.layout)
        return net

    def _layers_with(self, values: dict) -> tuple:
        layers = list(self.layers)
        for (l, kind), value in values.items():
            layers[l - 1] = layers[l - 1].with_parameter(kind, value)
        return tuple(layers)


def _validated(net: Network) -> dict:
    layout = choice(net.layout, LAYOUTS, ("layout",), "layout")
    dtype = choice(net.dtype, DTYPES, ("dtype",), "dtype")
    loss, options = named(net.loss, ("loss",), "loss", LOSSES)
    reduction = _reduction(net, loss, options)
    if not isinstance(net.loss_params, Mapping):
        raise SpecError(f"has params {shown(net.loss_params)}; they must be a mapping",
                        path=("loss",))
    loss_params = parameters(loss, LOSSES[loss].params, {**net.loss_params, **options},
                             ("loss",), dtype)
    X = array(net.X, ("X",), dtype)
    if X.ndim != 2:
        raise SpecError(f"is {X.ndim}-D with shape {X.shape}; it must be 2-D, "
                        f"{dims('m', 'n0', layout)} in the {layout} layout "
                        f"(one example is written [[...]])", path=("X",))
    if not isinstance(net.layers, (list, tuple)) or not net.layers:
        raise SpecError("must be a non-empty list of layers", path=("layers",))
    layers, n_in = [], X.shape[1] if layout == "rows" else X.shape[0]
    Ws = [getattr(spec, "W", None) for spec in net.layers]  # as given, for the layout hint
    for i, spec in enumerate(net.layers):
        layers.append(_layer(spec, i, n_in, layout, dtype, X, Ws, len(net.layers)))
        n_in = rows(layers[-1].W, layout).shape[1]
    T = _targets(net.T, X, layers, loss, layout, dtype)
    return {"X": X, "T": T, "layers": tuple(layers), "loss": loss, "reduction": reduction,
            "layout": layout, "dtype": dtype, "loss_params": loss_params,
            "regularization": regularization(net.regularization, dtype)}


def _reduction(net: Network, loss: str, options: dict) -> str:
    """The reduction given in the loss mapping or as ``reduction`` (a name, never null, '' or
    false; not two different ones), else the loss's default. Takes it out of ``options``."""
    instead, given = f" (or leave it out for {loss}'s default, {LOSSES[loss].reduction})", []
    if "reduction" in options:
        given.append(choice(options.pop("reduction"), REDUCTIONS, ("loss", "reduction"),
                            "reduction", instead))
    if net.reduction is not None:
        given.append(choice(net.reduction, REDUCTIONS, ("reduction",), "reduction", instead))
    if len(set(given)) > 1:
        raise SpecError(f"is {given[1]!r}, but the loss says reduction {given[0]!r}; give it "
                        "once", path=("reduction",))
    return given[0] if given else LOSSES[loss].reduction


def _layer(spec, i: int, n_in: int, layout: str, dtype: str, X, Ws: list, L: int) -> Layer:
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
    name, params = named(spec.activation, (*path, "activation"), "activation", ACTIVATIONS, ALIASES)
    if not isinstance(spec.params, Mapping):
        raise SpecError(f"has params {shown(spec.params)}; they must be a mapping of parameter "
                        "name to number", path=(*path, "activation"))
    params = parameters(name, ACTIVATIONS[name].params, {**params, **spec.params},
                        (*path, "activation"), dtype)
    if spec.batchnorm is None and spec.layernorm is None and spec.dropout is None:
        return Layer(W, b, name, params)
    m, n = rows(X, layout).shape[0], rows(W, layout).shape[1]
    return Layer(W, b, name, params, **stages(spec, i, L, b.shape, m, n, layout, dtype))


def _targets(given, X, layers: list, loss: str, layout: str, dtype: str) -> np.ndarray:
    record = LOSSES[loss]
    m, n_out, L = rows(X, layout).shape[0], rows(layers[-1].W, layout).shape[1], len(layers)
    if record.output and layers[-1].activation not in record.output:
        raise SpecError(f"{loss} needs a {' or '.join(record.output)} output layer, but layer {L} "
                        f"is {layers[-1].activation}", path=("layers", L - 1, "activation"))
    if record.labels:
        labels = array(given, ("T",), np.float64, "class labels or one-hot rows")
        if labels.ndim == 1:
            check_targets(labels, m, n_out, layout, L, labels=True)
            return _labels(labels, n_out)
    T = array(given, ("T",), dtype)
    check_targets(T, m, n_out, layout, L, labels=False)
    if record.targets is not None:
        bad = ~record.targets(rows(T, layout))
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            at = at if layout == "rows" else at[::-1]
            raise SpecError(f"is {T[at]}; {loss} needs {record.targets_text}", path=("T", *at))
    return T


def _labels(T: np.ndarray, n_classes: int) -> np.ndarray:
    bad = np.flatnonzero((T != np.round(T)) | (T < 0) | (T >= n_classes))
    if bad.size:
        raise SpecError(f"is {T[bad[0]]}; a class label must be an integer from 0 to {n_classes - 1}",
                        path=("T", int(bad[0])))
    return T.astype(np.intp)

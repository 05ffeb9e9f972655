"""What the equations depend on: the layout, the shapes and the names of a network.

``skeleton`` reads them from a validated ``Network``; ``shapewalk`` reads the same from a spec
whose shapes do not fit, through the same parsers (``model.spec``). ``environment`` gives every
symbol of the equations its array, so that each equation can be evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model.network import Network
from ..model.shapes import rows
from ..numerics.losses import FUSED, LOSSES


@dataclass(frozen=True)
class StageShape:
    """A stage as the equations need it: a norm's gamma and beta shapes (as given, or b's when
    omitted) and eps; dropout's keep, mask shape, seed (None: the mask is given) and inverted."""

    key: str
    gamma: tuple = ()
    beta: tuple = ()
    eps: float = 1e-5
    keep: float = 1.0
    mask: tuple = ()
    seed: int | None = None
    inverted: bool = True


@dataclass(frozen=True)
class LayerShape:
    W: tuple
    b: tuple | None  # as given; None: omitted (zeros)
    activation: str
    params: dict = field(default_factory=dict)
    stages: tuple = ()  # StageShape, in the order they apply

    @property
    def alpha(self) -> float | None:
        return self.params.get("alpha")

    @property
    def norm(self) -> StageShape | None:
        return next((s for s in self.stages if s.key != "dropout"), None)

    @property
    def dropout(self) -> StageShape | None:
        return next((s for s in self.stages if s.key == "dropout"), None)


@dataclass(frozen=True)
class Skeleton:
    """The layout, the shapes, the names; the loss's parameters and the regularization."""

    layout: str
    X: tuple
    T: tuple  # as used: one-hot (m, n) rows or (n, m) columns when T holds labels
    layers: tuple
    loss: str
    reduction: str
    labels: bool = False
    soft_targets: bool = False  # cross_entropy targets whose examples do not sum to 1
    loss_params: dict = field(default_factory=dict)
    regularization: object = None

    @property
    def m(self) -> int:
        return self.X[0] if self.layout == "rows" else self.X[1]


def skeleton(net: Network) -> Skeleton:
    """The shapes and names of a validated network."""
    layers = tuple(LayerShape(np.shape(l.W), _given_b(net, i), l.activation, dict(l.params),
                              tuple(_stage_shape(k, st) for k, st in l.stages))
                   for i, l in enumerate(net.layers))
    T = net.T.shape
    soft = False
    if net.labels:
        T = onehot_shape(net.layout, layers, net.batch)
    elif (net.layers[-1].activation, net.loss) in FUSED:  # a fused rule may lean on sum(T) = 1
        soft = not np.allclose(rows(net.T, net.layout).sum(axis=1), 1)
    return Skeleton(net.layout, net.X.shape, T, layers, net.loss, net.reduction, net.labels, soft,
                    dict(net.loss_params), net.regularization)


def onehot_shape(layout: str, layers, m: int) -> tuple:
    """The shape of the one-hot T that m class labels stand for: (m, nL) rows, (nL, m) columns."""
    n = layers[-1].W[1] if layout == "rows" else layers[-1].W[0]
    return (m, n) if layout == "rows" else (n, m)


def _stage_shape(key: str, st) -> StageShape:
    if key == "dropout":
        return StageShape(key, keep=float(st.keep), mask=np.shape(st.mask), seed=st.seed,
                          inverted=bool(st.inverted))
    return StageShape(key, np.shape(st.gamma), np.shape(st.beta), float(st.eps))


def labels_stand_for_onehot(loss: str, T: tuple) -> bool:
    return LOSSES[loss].labels and len(T) == 1


def _given_b(net: Network, i: int):
    return None if net.layers[i].b is None else net.layers[i].b.shape


def environment(net: Network, res, ex=None) -> dict:
    """Every symbol of the equations as an array: X, T, each W and b (b, gamma and beta as the
    row or column they are added as), every result, and L the loss. With the explanation ``ex``,
    a result is in the shape its equation gives it (a norm's mu and var keep the summed axis),
    and a value that no result holds (sigma, dvar, dmu) is its equation's, evaluated in order."""
    from ..numerics.passes import targets

    env = dict(res.tensors)
    Y = rows(res[f"A{len(net.layers)}"], net.layout)
    env.update(X=net.X, T=rows(targets(net, Y), net.layout), L=res.loss)
    for l, layer in enumerate(net.layers, start=1):
        n = layer.b.size
        added = (1, n) if net.layout == "rows" else (n, 1)
        env[f"W{l}"] = layer.W
        env[f"b{l}"] = layer.b.reshape(added)
        if layer.norm is not None:
            env[f"gamma{l}"], env[f"beta{l}"] = (p.reshape(added) for p in layer.norm[1][:2])
    for eq in () if ex is None else ex.equations:
        name = eq.lhs.name
        if name not in env:
            with np.errstate(all="ignore"):  # a non-finite result is reported as run reports it
                env[name] = eq.rhs.value(env)
        elif np.ndim(env[name]) == 1 and eq.lhs.shape is not None and len(eq.lhs.shape) == 2:
            env[name] = np.reshape(env[name], eq.lhs.shape)
    return env

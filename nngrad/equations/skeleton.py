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
class LayerShape:
    W: tuple
    b: tuple | None  # as given; None: omitted (zeros)
    activation: str
    params: dict = field(default_factory=dict)

    @property
    def alpha(self) -> float | None:
        return self.params.get("alpha")


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
    layers = tuple(LayerShape(np.shape(l.W), _given_b(net, i), l.activation, dict(l.params))
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


def labels_stand_for_onehot(loss: str, T: tuple) -> bool:
    return LOSSES[loss].labels and len(T) == 1


def _given_b(net: Network, i: int):
    return None if net.layers[i].b is None else net.layers[i].b.shape


def environment(net: Network, res) -> dict:
    """Every symbol of the equations as an array: X, T, each W and b (b as the row or column
    it is added as), every result, and L the loss."""
    from ..numerics.passes import targets

    env = dict(res.tensors)
    Y = rows(res[f"A{len(net.layers)}"], net.layout)
    env.update(X=net.X, T=rows(targets(net, Y), net.layout), L=res.loss)
    for l, layer in enumerate(net.layers, start=1):
        n = layer.b.size
        env[f"W{l}"] = layer.W
        env[f"b{l}"] = layer.b.reshape((1, n) if net.layout == "rows" else (n, 1))
    return env

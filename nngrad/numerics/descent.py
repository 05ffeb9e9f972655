"""Full-batch gradient descent on a network's weights and biases (pure: new networks, no I/O).

One step: ``v = momentum * v + g`` (v = g on the first step), ``p = p - lr * v``, for every W
and, with ``update="all"``, every b (PyTorch's SGD with momentum; momentum 0 is plain descent).
g is the gradient of the whole loss, so a spec's regularization is followed: coupled L2 (the
penalty's gradient is in g, and momentum carries it), as PyTorch's ``weight_decay`` for ``half``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

import numpy as np

from .passes import forward_loss, run
from ..errors import NonFiniteError, place_name
from ..model.network import Network
from ..model.values import nonfinite_at

UPDATES = ("all", "weights")


def descend(net: Network, lr: float, steps: int, *, momentum: float = 0.0,
            update: str = "all") -> Iterator[tuple[int, float, Network]]:
    """Yield ``(k, loss, network)`` for k = 0 (the network given) to ``steps``, the network
    after k steps and its loss. The gradient of each step is that of the network before it.
    NonFiniteError when a step leaves a W or b that is not finite (a network cannot hold it)."""
    if update not in UPDATES:
        raise ValueError(f"update must be one of {UPDATES}, not {update!r}")
    res = run(net)
    yield 0, res.loss, net
    velocity: list | None = None
    for k in range(1, steps + 1):
        grads = [res[f"{kind}{l}"] for l in range(1, len(net.layers) + 1) for kind in ("dW", "dB")]
        velocity = grads if velocity is None or not momentum else \
            [momentum * v + g for v, g in zip(velocity, grads)]
        net = _stepped(net, lr, velocity, update, k)
        if k < steps:
            res = run(net)
            loss = res.loss
        else:
            loss = forward_loss(net)[0]
        yield k, loss, net


def _stepped(net: Network, lr: float, velocity: list, update: str, k: int) -> Network:
    layers = []
    for l, layer in enumerate(net.layers):
        vW, vb = velocity[2 * l], velocity[2 * l + 1]
        with np.errstate(over="ignore", invalid="ignore"):
            b = layer.b - lr * vb if update == "all" else layer.b
            W = layer.W - lr * vW
        for name, a in ((f"W{l + 1}", W), (f"b{l + 1}", b)):
            where = nonfinite_at(a)
            if where is not None:
                raise NonFiniteError(f"{place_name((name, *where))} is {a[where]} after step {k}")
        layers.append(replace(layer, W=W, b=b))
    return replace(net, layers=tuple(layers))

"""Full-batch gradient descent on a network's weights and biases (pure: new networks, no I/O).

One step: ``v = momentum * v + g`` (v = g on the first step), ``p = p - lr * v``, for every W
and, with ``update="all"``, every b, gamma and beta (PyTorch's SGD with momentum; momentum 0 is
plain descent). A dropout mask stays as it is: each step uses the same one.
g is the gradient of the whole loss, so a spec's regularization is followed: coupled L2 (the
penalty's gradient is in g, and momentum carries it), as PyTorch's ``weight_decay`` for ``half``.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from .passes import forward_loss, run
from ..errors import NonFiniteError, place_name
from ..model.network import Network
from ..model.values import nonfinite_at

UPDATES = ("all", "weights")


def descend(net: Network, lr: float, steps: int, *, momentum: float = 0.0,
            update: str = "all", grads: bool = False) -> Iterator[tuple]:
    """Yield ``(k, loss, network)`` for k = 0 (the network given) to ``steps``, the network
    after k steps and its loss. The gradient of each step is that of the network before it.
    With ``grads``, ``(k, loss, network, result)``: the network's ``run`` too (its gradients;
    after the last step one more run). NonFiniteError when a step leaves a W or b that is not
    finite (a network cannot hold it)."""
    if update not in UPDATES:
        raise ValueError(f"update must be one of {UPDATES}, not {update!r}")
    res = run(net)
    yield (0, res.loss, net, res) if grads else (0, res.loss, net)
    velocity: list | None = None
    for k in range(1, steps + 1):
        grads = [res[name] for name, *_ in net.parameters()]
        velocity = grads if velocity is None or not momentum else \
            [momentum * v + g for v, g in zip(velocity, grads)]
        net = _stepped(net, lr, velocity, update, k)
        if k < steps or grads:
            res = run(net)
            loss = res.loss
        else:
            loss = forward_loss(net)[0]
        yield (k, loss, net, res) if grads else (k, loss, net)


def _stepped(net: Network, lr: float, velocity: list, update: str, k: int) -> Network:
    updated = {}
    for (_, l, kind, p), v in zip(net.parameters(), velocity):
        if update == "weights" and kind != "W":
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            p = p - lr * v
        where = nonfinite_at(p)
        if where is not None:
            raise NonFiniteError(f"{place_name(('layers', l - 1, kind, *where))} is {p[where]} "
                                 f"after step {k}")
        updated[(l, kind)] = p
    return net.with_parameters(updated)

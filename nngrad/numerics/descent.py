"""Full-batch gradient descent on a network's weights and biases (pure: new networks, no I/O).

One step: ``v = momentum * v + g`` (v = g on the first step), ``p = p - lr * v``, for every W
and, with ``update="all"``, every b, gamma and beta (PyTorch's SGD with momentum; momentum 0 is
plain descent). A dropout mask stays as it is: each step uses the same one.
g is the gradient of the whole loss, so a spec's regularization is followed: coupled L2 (the
penalty's gradient is in g, and momentum carries it), as PyTorch's ``weight_decay`` for ``half``.
"""

from __future__ import annotations

import math
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
    With ``grads``, ``(k, loss, network, result)``: the network's ``run`` too (after the last
    step one more run). Each network yielded is a new one, which later steps leave as it is.
    NonFiniteError when a step leaves a W or b that is not finite (a network cannot hold it)."""
    for k, loss, net_k, _ in descend_in_place(net, lr, steps, momentum=momentum, update=update,
                                              grads=grads):
        net_k = net if k == 0 else net_k.trusted_parameters(
            {(l, kind): p.copy() for _, l, kind, p in net_k.parameters()})
        yield (k, loss, net_k, run(net_k)) if grads else (k, loss, net_k)


def descend_in_place(net: Network, lr: float, steps: int, *, momentum: float = 0.0,
                     update: str = "all", grads: bool = False) -> Iterator[tuple]:
    """``descend``'s steps on a copy of ``net`` that each step updates in place: yields ``(k,
    loss, network, result or None)``, the network being valid only until the next step (k = 0
    yields ``net`` itself, which is never changed), the result (with ``grads``) its ``run(network,
    keep="grads")``. The network after the last step is the caller's to keep. For a caller that
    reads each network at once (``nngrad step``)."""
    if update not in UPDATES:
        raise ValueError(f"update must be one of {UPDATES}, not {update!r}")
    res = run(net, keep="grads")
    yield 0, res.loss, net, res if grads else None
    moved = [(name, l, kind, p) for name, l, kind, p in net.parameters()
             if update == "all" or kind == "W"]
    # descent's own copy of what it moves, one buffer (a step is one update, one check), made
    # from the validated arrays: the network over it is not validated again
    flat = np.concatenate([p for *_, p in moved], axis=None)
    views, start = [], 0
    for *_, p in moved:
        views.append(flat[start:start + p.size].reshape(p.shape))
        start += p.size
    own = net.trusted_parameters({(l, kind): v for (_, l, kind, _), v in zip(moved, views)})
    names = [name for name, *_ in moved]
    velocity = None
    for k in range(1, steps + 1):
        g = np.concatenate([res.tensors[name] for name in names], axis=None)
        velocity = g if velocity is None or not momentum else momentum * velocity + g
        with np.errstate(over="ignore", invalid="ignore"):
            flat -= lr * velocity
            if not math.isfinite(np.add.reduce(flat)):  # inf or nan makes the sum so
                _check_finite(moved, views, k)
        if k < steps or grads:
            res = run(own, keep="grads")
            yield k, res.loss, own, res if grads else None
        else:
            yield k, forward_loss(own)[0], own, None


def _check_finite(moved: list, views: list, k: int) -> None:
    """NonFiniteError naming the first entry that step k left not finite (the sum of every
    entry was not: a finite sum that overflowed is let be)."""
    for (_, l, kind, _), p in zip(moved, views):
        where = nonfinite_at(p)
        if where is not None:
            raise NonFiniteError(f"{place_name(('layers', l - 1, kind, *where))} is {p[where]} "
                                 f"after step {k}")

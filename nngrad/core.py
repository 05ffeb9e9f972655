"""Forward and backward passes: pure functions of a validated ``Network``.

The passes are written once, in the rows layout (A: (m, n), Z = A_prev @ W + b), and a
columns-layout network is run on transposed views of its arrays; results are transposed
back, so each comes out in the spec's own layout. Nothing here reads or writes files,
prints, or changes its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .activations import ACTIVATIONS
from .losses import FUSED, LOSSES, reduction_factor
from .network import Network, rows

KINDS = ("Z", "A", "dA", "dZ", "dW", "dB")


@dataclass(frozen=True)
class Result(Mapping):
    """The results of one forward and backward pass: an ordered mapping of name to array.

    Names: ``Zl``, ``Al`` for l = 1..L, then ``dAl``, ``dZl``, ``dWl``, ``dBl`` for l = 1..L, each
    in the spec's layout; ``dWl`` has the shape of ``Wl`` and ``dBl`` the shape of ``bl``.
    ``loss`` is the loss as a float.
    """

    tensors: dict
    loss: float
    loss_name: str
    reduction: str
    layout: str
    dtype: str
    activations: tuple

    @property
    def n_layers(self) -> int:
        return len(self.activations)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.tensors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tensors)

    def __len__(self) -> int:
        return len(self.tensors)

    def first_nonfinite(self) -> tuple[str, tuple, float] | None:
        """The first non-finite value in the order of computation: (name, index, value), or None.

        The order is Z1, A1, ..., AL, the loss, then dAL, dZL, dWL, dBL, ... back to dB1.
        """
        L = self.n_layers
        order = [f"{k}{l}" for l in range(1, L + 1) for k in ("Z", "A")] + ["loss"]
        order += [f"{k}{l}" for l in range(L, 0, -1) for k in ("dA", "dZ", "dW", "dB")]
        for name in order:
            a = np.asarray(self.loss if name == "loss" else self.tensors[name])
            if not np.isfinite(a).all():
                index = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
                return name, index, float(a[index])
        return None


def forward(net: Network) -> tuple[list, list]:
    """Pre-activations and activations of every layer, in the rows layout.

    Z_l = A_{l-1} @ W_l + b_l, A_l = f_l(Z_l), A_0 = X; each (m, n_l).
    """
    A = rows(net.X, net.layout)
    Zs, As = [], []
    for layer in net.layers:
        Z = A @ rows(layer.W, net.layout) + layer.b.reshape(-1)
        A = ACTIVATIONS[layer.activation].f(Z, **layer.params)
        Zs.append(Z)
        As.append(A)
    return Zs, As


def loss_value(net: Network, Z, A, T) -> float:
    """The loss for the output layer's Z, A = Y and targets T (rows layout): factor * sum(l(Y, T)).

    A fused output/loss pair computes it from Z, so that a saturated output stays finite.
    """
    factor = reduction_factor(net.reduction, A.shape)
    fused = FUSED.get((net.layers[-1].activation, net.loss))
    terms = fused.term(Z, T) if fused is not None else LOSSES[net.loss].term(A, T)
    return float(factor * terms.sum())


def output_grads(net: Network, Z, A, T) -> tuple[np.ndarray, np.ndarray]:
    """dL/dY and dL/dZ_L for the output layer (rows layout); a fused pair gives dZ_L directly."""
    factor = reduction_factor(net.reduction, A.shape)
    last = net.layers[-1]
    dA = factor * LOSSES[net.loss].dterm(A, T)
    fused = FUSED.get((last.activation, net.loss))
    if fused is not None:
        return dA, factor * fused.dz(Z, A, T)
    return dA, ACTIVATIONS[last.activation].vjp(dA, Z, A, **last.params)


def forward_loss(net: Network) -> tuple[float, list, list]:
    """The loss with every Z and A (rows layout), without a backward pass."""
    with np.errstate(all="ignore"):
        Zs, As = forward(net)
        return loss_value(net, Zs[-1], As[-1], targets(net, As[-1])), Zs, As


def backward(net: Network, Zs: list, As: list, dZ: np.ndarray) -> tuple[list, list, list, list]:
    """Backpropagate dZ_L through every layer (rows layout): dA, dZ, dW, dB per layer.

    dW_l = A_{l-1}ᵀ @ dZ_l, dB_l = sum over examples of dZ_l, dA_{l-1} = dZ_l @ W_lᵀ,
    dZ_{l-1} = dA_{l-1} * f'_{l-1}(Z_{l-1}).
    """
    L = len(net.layers)
    dAs, dZs, dWs, dBs = [None] * L, [None] * L, [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        layer = net.layers[l]
        A_prev = As[l - 1] if l else rows(net.X, net.layout)
        dZs[l] = dZ
        dWs[l] = A_prev.T @ dZ
        dBs[l] = dZ.sum(axis=0)
        if l:
            dA = dZ @ rows(layer.W, net.layout).T
            prev = net.layers[l - 1]
            dAs[l - 1] = dA
            dZ = ACTIVATIONS[prev.activation].vjp(dA, Zs[l - 1], As[l - 1], **prev.params)
    return dAs, dZs, dWs, dBs


def run(net: Network) -> Result:
    """Forward and backward through ``net``: every Z, A, dA, dZ, dW, dB and the loss.

    Pure: ``net`` is not changed. Non-finite values are not raised: see ``Result.first_nonfinite``.
    """
    with np.errstate(all="ignore"):
        Zs, As = forward(net)
        T = targets(net, As[-1])
        loss = loss_value(net, Zs[-1], As[-1], T)
        dA_out, dZ_out = output_grads(net, Zs[-1], As[-1], T)
        dAs, dZs, dWs, dBs = backward(net, Zs, As, dZ_out)
    dAs[-1] = dA_out
    tensors: dict = {}
    for l, (Z, A) in enumerate(zip(Zs, As), start=1):
        tensors[f"Z{l}"] = in_layout(Z, net.layout)
        tensors[f"A{l}"] = in_layout(A, net.layout)
    for l, layer in enumerate(net.layers, start=1):
        tensors[f"dA{l}"] = in_layout(dAs[l - 1], net.layout)
        tensors[f"dZ{l}"] = in_layout(dZs[l - 1], net.layout)
        tensors[f"dW{l}"] = in_layout(dWs[l - 1], net.layout)
        tensors[f"dB{l}"] = dBs[l - 1].reshape(layer.b.shape)
    return Result(tensors, loss, net.loss, net.reduction, net.layout, net.dtype,
                  tuple(layer.activation for layer in net.layers))


in_layout = rows  # rows <-> columns is its own inverse


def targets(net: Network, Y: np.ndarray) -> np.ndarray:
    """T in the rows layout, shaped like Y (class labels become one-hot rows)."""
    if not net.labels:
        return rows(net.T, net.layout)
    onehot = np.zeros_like(Y)
    onehot[np.arange(Y.shape[0]), net.T] = 1
    return onehot

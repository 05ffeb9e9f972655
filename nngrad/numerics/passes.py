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
from ..errors import NngradError
from .losses import FUSED, LOSSES, reduction_factor
from .regularization import penalty, penalty_grads
from ..model.network import Network
from ..model.shapes import rows
from ..model.values import nonfinite_at

KINDS = ("Z", "A", "dA", "dZ", "dW", "dB")


@dataclass(frozen=True)
class Result(Mapping):
    """The results of one forward and backward pass: an ordered mapping of name to array.

    Names: ``Zl``, ``Al`` for l = 1..L, then ``dAl``, ``dZl``, ``dWl``, ``dBl`` for l = 1..L, each
    in the spec's layout; ``dWl`` has the shape of ``Wl`` and ``dBl`` the shape of ``bl``.
    With ``input_grad``, ``dA0`` (dLoss/dX, in X's shape) comes before dA1. ``loss`` is the
    whole loss as a float: ``loss_data``, the loss of the outputs, plus ``penalty``, the
    regularization's (0.0 without one). ``batch`` is the number of examples m. A result of
    ``run(net, keep="grads")`` holds only the ``dWl`` and ``dBl`` (and ``dA0``).
    """

    tensors: dict
    loss: float
    loss_name: str
    reduction: str
    layout: str
    dtype: str
    activations: tuple
    batch: int
    loss_data: float | None = None
    penalty: float = 0.0

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
        order += [f"{k}{l}" for l in range(L, 0, -1) for k in ("dA", "dZ", "dW", "dB")] + ["dA0"]
        for name in (n for n in order if n == "loss" or n in self.tensors):
            a = np.asarray(self.loss if name == "loss" else self.tensors[name])
            index = nonfinite_at(a)
            if index is not None:
                return name, index, float(a[index])
        return None


def forward(net: Network) -> tuple[list, list]:
    """Pre-activations and activations of every layer, in the rows layout.

    Z_l = A_{l-1} @ W_l + b_l, A_l = f_l(Z_l), A_0 = X; each (m, n_l).
    """
    return _forward(net, rows(net.X, net.layout))


def forward_from(net: Network, l: int, Z: np.ndarray) -> tuple[list, list]:
    """The Zs and As of layers l..L (rows layout, l from 1) when layer l's pre-activation is Z;
    what a perturbation of W_l or b_l changes, and all that it changes."""
    layer = net.layers[l - 1]
    A = ACTIVATIONS[layer.activation].f(Z, **layer.params)
    Zs, As = _forward(net, A, start=l)
    return [Z, *Zs], [A, *As]


def _forward(net: Network, A: np.ndarray, keep_z: bool = True, start: int = 0) -> tuple[list, list]:
    """``forward`` from A_start = ``A``; without ``keep_z``, a hidden Z that backward does not
    read is dropped (the output's stays, for the loss)."""
    Zs, As, L = [], [], len(net.layers)
    for l, layer in enumerate(net.layers[start:], start=start + 1):
        Z = A @ rows(layer.W, net.layout)
        Z += layer.b.reshape(-1)
        activation = ACTIVATIONS[layer.activation]
        A = activation.f(Z, **layer.params)
        Zs.append(Z if keep_z or activation.reads_z or l == L else None)
        As.append(A)
    return Zs, As


def loss_value(net: Network, Z, A, T, factor: float | None = None) -> float:
    """The loss for the output layer's Z, A = Y and targets T (rows layout): factor * sum(l(Y, T)).

    ``factor`` defaults to the reduction's for Y's shape; a batch chunk passes the whole batch's.
    A fused output/loss pair computes it from Z, so that a saturated output stays finite.
    """
    factor = reduction_factor(net.reduction, A.shape) if factor is None else factor
    fused = FUSED.get((net.layers[-1].activation, net.loss))
    terms = fused.term(Z, T) if fused is not None else LOSSES[net.loss].term(A, T, **net.loss_params)
    return float(factor * terms.sum())


def output_grads(net: Network, Z, A, T, factor: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """dL/dY and dL/dZ_L for the output layer (rows layout); a fused pair gives dZ_L directly."""
    factor = reduction_factor(net.reduction, A.shape) if factor is None else factor
    last = net.layers[-1]
    dA = factor * LOSSES[net.loss].dterm(A, T, **net.loss_params)
    fused = FUSED.get((last.activation, net.loss))
    if fused is not None:
        return dA, factor * fused.dz(Z, A, T)
    return dA, ACTIVATIONS[last.activation].vjp(dA, Z, A, **last.params)


def forward_loss(net: Network, with_penalty: bool = True) -> tuple[float, list, list]:
    """The whole loss (penalty included, unless not ``with_penalty``) with every Z and A (rows
    layout), without a backward pass."""
    with np.errstate(all="ignore"):
        Zs, As = forward(net)
        value = loss_value(net, Zs[-1], As[-1], targets(net, As[-1]))
        return value + (penalty(net) if with_penalty else 0.0), Zs, As


def backward(net: Network, Zs: list, As: list, dZ: np.ndarray) -> tuple[list, list, list, list]:
    """Backpropagate dZ_L through every layer (rows layout): dA, dZ, dW, dB per layer.

    dW_l = A_{l-1}ᵀ @ dZ_l, dB_l = sum over examples of dZ_l, dA_{l-1} = dZ_l @ W_lᵀ,
    dZ_{l-1} = dA_{l-1} * f'_{l-1}(Z_{l-1}).
    """
    return _backward(net, rows(net.X, net.layout), Zs, As, dZ, keep=True)


def _backward(net: Network, X, Zs: list, As: list, dZ, keep: bool,
              input_grad: bool = False) -> tuple[list, list, list, list]:
    """``backward`` from A_0 = ``X``; with ``keep`` nothing is changed, and without it each Z, A,
    dA and dZ is let go (its slot in ``Zs``/``As`` set to None) as soon as nothing left to
    compute reads it. With ``input_grad``, dA0 = dZ1 @ W1ᵀ is the last entry of dAs."""
    L = len(net.layers)
    dAs, dZs, dWs, dBs = [None] * (L + input_grad), [None] * L, [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        A_prev = As[l - 1] if l else X
        dWs[l] = A_prev.T @ dZ
        dBs[l] = dZ.sum(axis=0)
        if keep:
            dZs[l] = dZ
        else:
            Zs[l] = As[l] = None
        if l:
            prev = net.layers[l - 1]
            dA = dZ @ rows(net.layers[l].W, net.layout).T
            if keep:
                dAs[l - 1] = dA
            dZ = None
            dZ = ACTIVATIONS[prev.activation].vjp(dA, Zs[l - 1], As[l - 1], **prev.params)
            dA = A_prev = None
        elif input_grad:
            dAs[-1] = dZ @ rows(net.layers[0].W, net.layout).T
    return dAs, dZs, dWs, dBs


KEEP = ("all", "grads")


def run(net: Network, keep: str = "all", batch_chunk: int | None = None,
        input_grad: bool = False) -> Result:
    """Forward and backward through ``net``: every Z, A, dA, dZ, dW, dB and the loss.

    With ``input_grad``, also dA0 = dLoss/dX (dZ1 @ W1ᵀ in rows), in X's shape; without it
    nothing more is computed. A regularization adds its penalty to the loss and its gradient to
    every dW (and dB), not to dZ or dA.

    ``keep="grads"`` keeps only every dW, dB and the loss, and lets each forward array go as
    soon as backward no longer needs it. With it, ``batch_chunk=N`` streams the batch through
    forward and backward N examples at a time and sums dW and dB: the same gradients, with
    memory for N examples. Pure: ``net`` is not changed. Non-finite values are not raised: see
    ``Result.first_nonfinite``.
    """
    if keep not in KEEP:
        raise NngradError(f"unknown keep {keep!r}; expected one of: {', '.join(KEEP)}")
    if batch_chunk is not None and (keep != "grads" or batch_chunk < 1):
        raise NngradError("batch_chunk needs keep='grads' and a chunk of at least 1 example")
    if keep == "grads":
        return _gradients(net, batch_chunk or net.batch, input_grad)
    L = len(net.layers)
    with np.errstate(all="ignore"):
        Zs, As = forward(net)
        T = targets(net, As[-1])
        loss = loss_value(net, Zs[-1], As[-1], T)
        dA_out, dZ_out = output_grads(net, Zs[-1], As[-1], T)
        dAs, dZs, dWs, dBs = _backward(net, rows(net.X, net.layout), Zs, As, dZ_out, keep=True,
                                       input_grad=input_grad)
    dAs[L - 1] = dA_out
    tensors: dict = {}
    for l, (Z, A) in enumerate(zip(Zs, As), start=1):
        tensors[f"Z{l}"] = in_layout(Z, net.layout)
        tensors[f"A{l}"] = in_layout(A, net.layout)
    if input_grad:
        tensors["dA0"] = in_layout(dAs[L], net.layout)
    for l in range(1, L + 1):
        tensors[f"dA{l}"] = in_layout(dAs[l - 1], net.layout)
        tensors[f"dZ{l}"] = in_layout(dZs[l - 1], net.layout)
        tensors.update(_parameter_grads(net, l, dWs, dBs))
    return _result(net, tensors, loss)


def run_bytes(net: Network, keep: str = "all", batch_chunk: int | None = None) -> int:
    """About the most bytes ``run(net, keep, batch_chunk)`` holds at once, from the shapes alone:
    Z, A, dA and dZ of every layer for the examples in flight (keep="grads": A and one dA and
    dZ), with the dW and dB; T once more, one-hot for class labels."""
    m = min(net.batch, batch_chunk or net.batch)
    units = sum(net.widths[1:])
    params = sum(layer.W.size + layer.b.size for layer in net.layers)
    per_example = (4 if keep == "all" else 1) * units + 2 * max(net.widths) + net.widths[-1]
    return np.dtype(net.dtype).itemsize * (m * per_example + params)


def _gradients(net: Network, chunk: int, input_grad: bool) -> Result:
    """dW, dB and the loss, summed over batch chunks of ``chunk`` examples (and dA0 joined)."""
    X, m = rows(net.X, net.layout), net.batch
    factor = reduction_factor(net.reduction, (m, net.widths[-1]))
    loss, dWs, dBs, dX = 0.0, None, None, []
    with np.errstate(all="ignore"):
        for start in range(0, m, chunk):
            part = slice(start, start + chunk)
            Zs, As = _forward(net, X[part], keep_z=False)
            T = targets(net, As[-1], part)
            loss += loss_value(net, Zs[-1], As[-1], T, factor)
            dZ = output_grads(net, Zs[-1], As[-1], T, factor)[1]
            dA, _, dW, dB = _backward(net, X[part], Zs, As, dZ, keep=False, input_grad=input_grad)
            if input_grad:
                dX.append(dA[-1])
            if dWs is None:
                dWs, dBs = dW, dB
                continue
            for total, more in zip(dWs + dBs, dW + dB):
                total += more
    tensors: dict = {"dA0": in_layout(np.concatenate(dX), net.layout)} if input_grad else {}
    for l in range(1, len(net.layers) + 1):
        tensors.update(_parameter_grads(net, l, dWs, dBs))
    return _result(net, tensors, loss)


def _parameter_grads(net: Network, l: int, dWs: list, dBs: list) -> dict:
    return {f"dW{l}": in_layout(dWs[l - 1], net.layout),
            f"dB{l}": dBs[l - 1].reshape(net.layers[l - 1].b.shape)}


def _result(net: Network, tensors: dict, loss: float) -> Result:
    """The Result, with the penalty added to the loss and its gradient to each dW (and dB)."""
    extra = penalty(net)
    if net.regularization is not None:
        for name, g in penalty_grads(net).items():
            if name in tensors:
                with np.errstate(all="ignore"):
                    tensors[name] = tensors[name] + g  # g has the parameter's shape, as dW and dB
    return Result(tensors, loss + extra, net.loss, net.reduction, net.layout, net.dtype,
                  tuple(layer.activation for layer in net.layers), net.batch, loss, extra)


in_layout = rows  # rows <-> columns is its own inverse


def targets(net: Network, Y: np.ndarray, part: slice = slice(None)) -> np.ndarray:
    """T in the rows layout, shaped like Y (class labels become one-hot rows); ``part``: a
    batch chunk's examples."""
    if not net.labels:
        return rows(net.T, net.layout)[part]
    onehot = np.zeros_like(Y)
    onehot[np.arange(Y.shape[0]), net.T[part]] = 1
    return onehot

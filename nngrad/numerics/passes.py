"""Forward and backward passes: pure functions of a validated ``Network``.

The passes are written once, in the rows layout (A: (m, n), Z = A_prev @ W + b), and a
columns-layout network is run on transposed views of its arrays; results are transposed
back, so each comes out in the spec's own layout. Nothing here reads or writes files,
prints, or changes its inputs.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .activations import ACTIVATIONS
from ..errors import NngradError
from .losses import FUSED, LOSSES, reduction_factor
from .regularization import penalty, penalty_grads
from .stages import STAGES, staged_forward, staged_vjp
from .result import Result
from ..model.network import Network
from ..model.shapes import rows
from ..model.values import done_with

KINDS = ("Z", "A", "dA", "dZ", "dW", "dB")


def forward(net: Network) -> tuple[list, list]:
    """Pre-activations and activations of every layer, in the rows layout.

    Z_l = A_{l-1} @ W_l + b_l, A_l = f_l(Z_l), A_0 = X; each (m, n_l). With stages, Z_l is the
    affine output and A_l the layer's output (after a norm, f and dropout). Overflow is not
    reported: a value that is not finite stays so.
    """
    with np.errstate(all="ignore"):
        return _forward(net, rows(net.X, net.layout))[:2]


def forward_from(net: Network, l: int, Z: np.ndarray) -> tuple[list, list, list]:
    """The Zs, As and stage values of layers l..L (rows layout, l from 1) when layer l's affine
    output is Z; what a perturbation of W_l or b_l changes, and all that it changes. Call under
    ``np.errstate(all="ignore")``, as the passes run."""
    A, saved = _layer_forward(net, net.rows_layers[l - 1], Z)
    Zs, As, Ss = _forward(net, A, start=l)
    return [Z, *Zs], [A, *As], [saved, *Ss]


def _layer_forward(net: Network, layer, Z):
    """(A, the stage values or None) of one ``RowsLayer`` from its affine output Z."""
    if layer.staged is None:
        return layer.f(Z), None
    return staged_forward(layer.staged, ACTIVATIONS[layer.staged.activation], Z, net.layout)


def _forward(net: Network, A: np.ndarray, keep_z: bool = True, start: int = 0) -> tuple[list, list, list]:
    """``forward`` from A_start = ``A``, with each layer's stage values (None: no stages);
    without ``keep_z``, a hidden Z that backward does not read is dropped (the output's stays,
    for the loss)."""
    Zs, As, Ss, last = [], [], [], len(net.layers) - 1 - start
    for k, layer in enumerate(net.rows_layers[start:] if start else net.rows_layers):
        Z = A.dot(layer.W)
        Z += layer.b
        if layer.staged is None:
            A, saved = layer.f(Z), None
        else:
            A, saved = _layer_forward(net, layer, Z)
        Zs.append(Z if keep_z or k == last or saved is None and layer.reads_z else None)
        As.append(A)
        Ss.append(saved)
    return Zs, As, Ss


def loss_value(net: Network, Z, A, T, factor: float | None = None) -> float:
    """The loss for the output layer's Z, A = Y and targets T (rows layout): factor * sum(l(Y, T)).

    ``factor`` defaults to the reduction's for Y's shape; a batch chunk passes the whole batch's.
    A fused output/loss pair computes it from Z, so that a saturated output stays finite.
    """
    factor = reduction_factor(net.reduction, A.shape) if factor is None else factor
    fused = FUSED.get((net.layers[-1].activation, net.loss))
    terms = fused.term(Z, T) if fused is not None else LOSSES[net.loss].term(A, T, **net.loss_params)
    return float(factor * np.add.reduce(terms, axis=None))


def output_grads(net: Network, Z, A, T, factor: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """dL/dY and dL/dZ_L for the output layer (rows layout); a fused pair gives dZ_L directly."""
    factor = reduction_factor(net.reduction, A.shape) if factor is None else factor
    last = net.layers[-1]
    dA = LOSSES[net.loss].dterm(A, T, **net.loss_params)  # a new array: scaled in place
    if factor != 1.0:
        dA *= factor
    fused = FUSED.get((last.activation, net.loss))
    if fused is not None:
        dZ = fused.dz(Z, A, T)
        if factor != 1.0:
            dZ *= factor
        return dA, dZ
    return dA, net.rows_layers[-1].vjp(dA, Z, A)


def forward_loss(net: Network, with_penalty: bool = True) -> tuple[float, list, list, list]:
    """The whole loss (penalty included, unless not ``with_penalty``) with every Z, A and the
    stage values (rows layout), without a backward pass."""
    with np.errstate(all="ignore"):
        Zs, As, Ss = _forward(net, rows(net.X, net.layout))
        value = loss_value(net, Zs[-1], As[-1], targets(net, As[-1]))
        return value + (penalty(net) if with_penalty else 0.0), Zs, As, Ss


def backward(net: Network, Zs: list, As: list, dZ: np.ndarray) -> tuple[list, list, list, list]:
    """Backpropagate dZ_L through every layer (rows layout): dA, dZ, dW, dB per layer.

    dW_l = A_{l-1}ᵀ @ dZ_l, dB_l = sum over examples of dZ_l, dA_{l-1} = dZ_l @ W_lᵀ,
    dZ_{l-1} = dA_{l-1} * f'_{l-1}(Z_{l-1}). For a network with stages, use ``run``.
    """
    if any(layer.stages for layer in net.layers):
        raise NngradError("backward takes a network without batchnorm, layernorm or dropout; "
                          "run(net) gives every gradient of one with them")
    return _backward(net, rows(net.X, net.layout), Zs, As, [None] * len(Zs), dZ, keep=True)[:4]


def _backward(net: Network, X, Zs: list, As: list, Ss: list, dZ, keep: bool,
              input_grad: bool = False) -> tuple[list, list, list, list, list]:
    """``backward`` from A_0 = ``X``, with the stage gradients of each layer (a dict, or None);
    with ``keep`` nothing is changed, and without it each Z, A, dA and dZ is let go (its slot in
    ``Zs``/``As`` set to None) as soon as nothing left to compute reads it. With ``input_grad``,
    dA0 = dZ1 @ W1ᵀ is the last entry of dAs."""
    L, plan = len(net.layers), net.rows_layers
    dAs, dZs, dWs, dBs = [None] * (L + input_grad), [None] * L, [None] * L, [None] * L
    stage_grads = [None] * L
    for l in range(L - 1, -1, -1):
        A_prev = As[l - 1] if l else X
        dWs[l] = A_prev.T.dot(dZ)
        dBs[l] = dZ[0].copy() if len(dZ) == 1 else np.add.reduce(dZ, axis=0)  # one example: its row
        if keep:
            dZs[l] = dZ
        else:
            Zs[l] = As[l] = Ss[l] = None
        if l:
            dA = dZ.dot(plan[l].W.T)
            if keep:
                dAs[l - 1] = dA
            dZ, prev = None, plan[l - 1]
            if prev.staged is None:
                dZ = prev.vjp(dA, Zs[l - 1], As[l - 1])
            else:
                dZ, stage_grads[l - 1] = staged_vjp(prev.staged, ACTIVATIONS[prev.staged.activation],
                                                    dA, Ss[l - 1], net.layout)
            dA = A_prev = None
        elif input_grad:
            dAs[-1] = dZ.dot(plan[0].W.T)
    return dAs, dZs, dWs, dBs, stage_grads


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
    L, layout = len(net.layers), net.layout
    X = rows(net.X, layout)
    with np.errstate(all="ignore"):
        Zs, As, Ss = _forward(net, X)
        T = targets(net, As[-1])
        factor = reduction_factor(net.reduction, As[-1].shape)
        loss = loss_value(net, Zs[-1], As[-1], T, factor)
        dA_out, dZ_out = output_grads(net, Zs[-1], As[-1], T, factor)
        dAs, dZs, dWs, dBs, Gs = _backward(net, X, Zs, As, Ss, dZ_out, keep=True,
                                           input_grad=input_grad)
    dAs[L - 1] = dA_out
    if layout == "columns":  # rows <-> columns is its own inverse
        Zs, As, dAs, dZs, dWs = ([a.T for a in arrays] for arrays in (Zs, As, dAs, dZs, dWs))
    tensors: dict = {}
    for l in range(1, L + 1):
        names = _names(l)
        tensors[names[0]] = Zs[l - 1]
        if Ss[l - 1] is not None:
            tensors.update(_stage_tensors(net, l, Ss[l - 1], "values"))
        tensors[names[1]] = As[l - 1]
    if input_grad:
        tensors["dA0"] = dAs[L]
    for l in range(1, L + 1):
        names = _names(l)
        tensors[names[2]] = dAs[l - 1]
        if Gs[l - 1] is not None:
            tensors.update(_stage_tensors(net, l, Gs[l - 1], "grads"))
        tensors[names[3]] = dZs[l - 1]
        _parameter_grads(net, l, dWs, dBs, Gs, tensors, transposed=True)
    return _result(net, tensors, loss)


@lru_cache(maxsize=None)
def _names(l: int) -> tuple:
    """Layer l's names: Zl, Al, dAl, dZl, dWl, dBl."""
    return tuple(f"{kind}{l}" for kind in KINDS)


def _stage_tensors(net: Network, l: int, saved: dict, kind: str) -> dict:
    """Layer l's stage ``values`` (mu, var, xhat, S; H, mask) or stage ``grads`` (dH; dS,
    dxhat), each named with l and in the spec's layout; the 1-D mu and var as they are."""
    stages = [STAGES[key] for key, _ in net.layers[l - 1].stages]
    names = [n for stage in reversed(stages) for n in getattr(stage, kind)] if kind == "grads" \
        else [n for stage in stages for n in getattr(stage, kind)]
    return {f"{n}{l}": saved[n] if saved[n].ndim == 1 else in_layout(saved[n], net.layout)
            for n in names}


def _gradients(net: Network, chunk: int, input_grad: bool) -> Result:
    """dW, dB and the loss, summed over batch chunks of ``chunk`` examples (and dA0 joined)."""
    X, plan = rows(net.X, net.layout), net.rows_layers
    m = X.shape[0]
    if chunk < m and any(layer.staged is not None for layer in plan):
        chunk = m  # a norm's batch statistics and a dropout mask are the whole batch's
    factor = reduction_factor(net.reduction, (m, plan[-1].W.shape[1]))
    loss, dWs, dBs, Gs, dX = 0.0, None, None, None, []
    with np.errstate(all="ignore"):
        for start in range(0, m, chunk):
            part = slice(start, start + chunk) if chunk < m else slice(None)
            A0 = X[part] if chunk < m else X
            Zs, As, Ss = _forward(net, A0, keep_z=False)
            T = targets(net, As[-1], part)
            loss += loss_value(net, Zs[-1], As[-1], T, factor)
            dZ = output_grads(net, Zs[-1], As[-1], T, factor)[1]
            dA, _, dW, dB, Gs = _backward(net, A0, Zs, As, Ss, dZ, keep=False,
                                          input_grad=input_grad)
            if chunk < m:  # a memory map's owner gives back the pages of this chunk
                done_with(A0)
                if not net.labels:
                    done_with(rows(net.T, net.layout)[part])
            if input_grad:
                dX.append(dA[-1])
            if dWs is None:
                dWs, dBs = dW, dB
                continue
            for total, more in zip(dWs + dBs, dW + dB):
                total += more
    tensors: dict = {"dA0": in_layout(np.concatenate(dX), net.layout)} if input_grad else {}
    for l in range(1, len(plan) + 1):
        _parameter_grads(net, l, dWs, dBs, Gs, tensors)
    return _result(net, tensors, loss)


def _parameter_grads(net: Network, l: int, dWs: list, dBs: list, Gs: list, into: dict,
                     transposed: bool = False) -> dict:
    """dWl and dBl in Wl's and bl's shapes (``transposed``: each dW is in the spec's layout
    already), put ``into`` a dict; dgammal and dbetal (in gamma's and beta's) with a norm."""
    layer, names = net.layers[l - 1], _names(l)
    dW, dB = dWs[l - 1], dBs[l - 1]
    into[names[4]] = dW if transposed or net.layout == "rows" else dW.T
    into[names[5]] = dB if dB.shape == layer.b.shape else dB.reshape(layer.b.shape)
    if Gs[l - 1] is not None and layer.norm is not None:
        into.update({f"d{p}{l}": Gs[l - 1][f"d{p}"] for p in STAGES[layer.norm[0]].params})
    return into


def _result(net: Network, tensors: dict, loss: float) -> Result:
    """The Result, with the penalty added to the loss and its gradient to each dW (and dB)."""
    extra = 0.0
    if net.regularization is not None:
        extra = penalty(net)
        for name, g in penalty_grads(net).items():
            if name in tensors:
                with np.errstate(all="ignore"):
                    tensors[name] = tensors[name] + g  # g has the parameter's shape, as dW and dB
    return Result(tensors, loss + extra, net.loss, net.reduction, net.layout, net.dtype,
                  tuple([layer.activation for layer in net.layers]), net.batch, loss, extra)


in_layout = rows  # rows <-> columns is its own inverse


def targets(net: Network, Y: np.ndarray, part: slice = slice(None)) -> np.ndarray:
    """T in the rows layout, shaped like Y (class labels become one-hot rows); ``part``: a
    batch chunk's examples."""
    if not net.labels:
        return rows(net.T, net.layout)[part]
    onehot = np.zeros_like(Y)
    onehot[np.arange(Y.shape[0]), net.T[part]] = 1
    return onehot

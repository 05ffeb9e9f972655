"""Gradient checking by blocks: a tensor's perturbations stacked into one batch (see ``tails``).

Full mode, entry u of a tensor, each ± eps, from the unperturbed pass (rows layout):

- W_l entry (i, j): Z_l ± eps A_{l-1}[:, i] in column j (all m examples: a group of m rows);
- b_l entry j: Z_l ± eps in column j (m rows);
- X entry (e, i): only example e's row of Z_1 moves, by ± eps W_1[i, :] (a group of 1 row,
  whose loss is example e's share: the other examples' terms cancel in the difference).

For W_l and b_l entries of an elementwise layer l without stages (not the output), only
column j of A_l moves
too: f(Z_l[:, j] ± eps ...) - A_l[:, j], so Z_{l+1} is Z_{l+1} plus that change times row j of
W_{l+1} (an outer product, not a whole product of A_l), and the block starts at layer l + 1.

Fast mode, direction v (drawn as ``gradcheck`` draws it, in the same order): W_l moves Z_l by
± eps (A_{l-1} V), b_l by ± eps v, X moves Z_1 by ± eps (V W_1). Layers before l are unchanged,
so only layers l..L run, once per block. The numeric value stays a central difference of
losses, (L(+) - L(-)) / 2 eps, independent of the analytic gradients. A penalty is a sum of
per-entry terms, so its change is taken entry by entry: c l2 ((p + eps)^2 - (p - eps)^2) +
l1 (|p + eps| - |p - eps|), and an L1 kink is crossed where sign(p + eps) != sign(p - eps).
"""

from __future__ import annotations

import numpy as np

from ..model.shapes import rows
from ..numerics.activations import ACTIVATIONS
from ..numerics.losses import reduction_factor
from .tails import groups_per_block, stackable, tail_losses, user_index


def kind_of(name: str) -> str:
    """``dW2`` -> W, ``dB2`` -> b, ``dgamma2`` -> gamma, ``dA0`` -> X: the kind of a gradient."""
    if name == "dA0":
        return "X"
    kind = name[1:].rstrip("0123456789")
    return "b" if kind == "B" else kind


def layer_of(name: str) -> int:
    """The layer (from 1) whose affine output a perturbation of the gradient's tensor moves."""
    return 1 if name == "dA0" else int(name[1 + len(kind_of(name)):])


def applies(net, name: str, objective, mode: str = "full") -> bool:
    """Whether ``full_entries`` and ``fast_directions`` can check this tensor: W, b or X, with
    layers l..L stackable (or no data part, where nothing runs forward); a full-mode X entry
    moves one example, a group of one row, which a stage's batch must not be cut into."""
    whole = mode == "fast" or kind_of(name) != "X"
    return kind_of(name) in ("W", "b", "X") and (not objective.data or
                                                 stackable(net, layer_of(name), whole))


def full_entries(net, base, name: str, P: np.ndarray, eps: float, objective, tick):
    """(numeric (P.size,), {flat index: kink crossed}) for every entry of P in its own C order;
    ``tick(k)`` after each block of k entries."""
    numeric, kinks = np.zeros(P.size), {}
    if objective.data:
        l, kind = layer_of(name), kind_of(name)
        r = 1 if kind == "X" else net.batch
        per = groups_per_block(net, l, r, P.size)
        index = (np.arange(P.size),) if kind == "b" else np.unravel_index(np.arange(P.size), P.shape)
        if kind != "b" and net.layout == "columns":
            index = index[::-1]  # (i, j) of W or (e, i) of X in the rows layout; j of b
        column = kind != "X" and l < len(net.layers) and not net.layers[l - 1].stages and \
            ACTIVATIONS[net.layers[l - 1].activation].elementwise
        for start in range(0, P.size, per):
            u = np.arange(start, min(P.size, start + per))
            with np.errstate(all="ignore"):
                if column:
                    Z, found = _through_column(net, base, kind, l, [ix[u] for ix in index], eps)
                    T, offsets = base[2], None
                else:
                    (Z, T, offsets), found = _entry_block(net, base, kind, l, [ix[u] for ix in index],
                                                          eps), {}
                plus, minus, found = tail_losses(net, l + column, Z, T, _factor(net), r, offsets,
                                                 found)
                numeric[u] = (plus - minus) / (2 * eps)
            kinks.update({int(u[g]): words for g, words in found.items()})
            tick(len(u))
    else:
        tick(P.size)
    if _penalized(net, name, objective):
        flat = P.reshape(-1)
        with np.errstate(all="ignore"):
            numeric += _penalty_change(net.regularization, flat + eps, flat - eps,
                                       net.batch) / (2 * eps)
        if net.regularization.l1:
            for u in np.flatnonzero(np.sign(flat + eps) != np.sign(flat - eps)):
                kinks.setdefault(int(u), "crosses the L1 kink at 0")
    return numeric, dict(sorted(kinks.items()))  # in entry order, as the report lists them


def _entry_block(net, base, kind, l, index, eps):
    """(block, targets, offsets) for the entries at ``index`` (rows-layout index arrays):
    G ``+`` groups, then G ``-`` groups, as ``tail_losses`` takes them."""
    Zs, As, T = base
    g = np.arange(len(index[0]))
    if kind == "X":
        e, i = index
        step = eps * rows(net.layers[0].W, net.layout)[i]  # (G, n_1)
        Z = np.concatenate([Zs[0][e] + step, Zs[0][e] - step])
        return Z, T[e][:, None, :], e
    A_prev = As[l - 2] if l > 1 else rows(net.X, net.layout)
    Z = np.empty((2, len(g)) + Zs[l - 1].shape)
    Z[...] = Zs[l - 1]
    if kind == "W":
        i, j = index
        step = eps * A_prev[:, i].T  # (G, m)
    else:
        j, step = index[0], eps
    Z[0][g, :, j] += step
    Z[1][g, :, j] -= step
    return Z.reshape(-1, Z.shape[-1]), T, None


def _through_column(net, base, kind, l, index, eps):
    """(Z_{l+1} block, {group: kink of layer l}) for W_l or b_l entries of an elementwise
    layer l: only column j of Z_l, and so of A_l, moves, and Z_{l+1} moves by the change of that
    column times row j of W_{l+1}: the same Z_{l+1} as a product of the whole moved A_l."""
    Zs, As, _ = base
    layer = net.layers[l - 1]
    activation = ACTIVATIONS[layer.activation]
    j = index[-1]
    step = eps * (As[l - 2] if l > 1 else rows(net.X, net.layout))[:, index[0]].T \
        if kind == "W" else eps  # (G, m) or a number
    column = Zs[l - 1][:, j].T  # (G, m)
    moved = np.concatenate([column + step, column - step])
    found, G = {}, len(j)
    if activation.kink is not None:
        mask = activation.kink(moved) > 0
        crossed = mask[:G] != mask[G:]
        for g in np.flatnonzero(crossed.any(axis=1)):
            at = user_index((int(np.argmax(crossed[g])), j[g]), net.layout)
            found[int(g)] = f"crosses the {layer.activation} kink of Z{l}{at}"
    change = activation.f(moved, **layer.params) - np.tile(As[l - 1][:, j].T, (2, 1))
    W_next = rows(net.layers[l].W, net.layout)[np.tile(j, 2)]  # (2G, n_{l+1})
    Z = Zs[l] + change[:, :, None] * W_next[:, None, :]
    return Z.reshape(-1, Z.shape[-1]), found


def fast_directions(net, base, name: str, P: np.ndarray, G: np.ndarray, eps: float,
                    directions: int, rng, objective, tick):
    """(analytic, numeric, {direction: kink crossed}) for ``directions`` random unit directions
    of tensor P, whose gradient is G, drawn from ``rng`` one after another;
    ``tick(k)`` after each block of k directions."""
    kind, l = kind_of(name), layer_of(name)
    analytic, numeric, kinks = np.empty(directions), np.zeros(directions), {}
    per = groups_per_block(net, l, net.batch, directions) if objective.data else directions
    for start in range(0, directions, per):
        js = range(start, min(directions, start + per))
        vs = [_direction(rng, G.shape) for _ in js]
        with np.errstate(all="ignore"):
            if objective.data:
                Zs, As, T = base
                Z = np.empty((2, len(vs)) + Zs[l - 1].shape)
                for k, v in enumerate(vs):  # the + groups, then the - groups
                    step = eps * _moved(net, As, kind, l, v)
                    np.add(Zs[l - 1], step, out=Z[0, k])
                    np.subtract(Zs[l - 1], step, out=Z[1, k])
                plus, minus, found = tail_losses(net, l, Z.reshape(-1, Z.shape[-1]), T,
                                                 _factor(net), net.batch)
                numeric[start:start + len(vs)] = (plus - minus) / (2 * eps)
                kinks.update({start + g: words for g, words in found.items()})
            for j, v in zip(js, vs):
                analytic[j] = float((G * v).sum())
                if _penalized(net, name, objective):
                    reg = net.regularization
                    numeric[j] += (reg.penalty([P + eps * v], net.batch) -
                                   reg.penalty([P - eps * v], net.batch)) / (2 * eps)
                    if reg.l1 and np.any(np.sign(P + eps * v) != np.sign(P - eps * v)):
                        kinks.setdefault(j, "crosses the L1 kink at 0")
        tick(len(vs))
    return analytic, numeric, dict(sorted(kinks.items()))


def _direction(rng, shape) -> np.ndarray:
    v = rng.standard_normal(shape)
    v /= np.linalg.norm(v)
    return v


def _moved(net, As, kind, l, v):
    """How far Z_l moves per unit of eps along v: A_{l-1} V, v, or V W_1 (rows layout)."""
    if kind == "X":
        return rows(v, net.layout) @ rows(net.layers[0].W, net.layout)
    if kind == "W":
        A_prev = As[l - 2] if l > 1 else rows(net.X, net.layout)
        return A_prev @ rows(v, net.layout)
    return v.reshape(-1)


def _factor(net) -> float:
    return reduction_factor(net.reduction, (net.batch, net.widths[-1]))


def _penalized(net, name: str, objective) -> bool:
    return bool(objective.penalty and name != "dA0" and
                net.regularization.penalized(kind_of(name)))


def _penalty_change(reg, plus, minus, m: int) -> np.ndarray:
    """P(+) - P(-) entry by entry, for each entry moved alone."""
    change = np.zeros(plus.shape)
    if reg.l2:
        change += reg.c(m) * reg.l2 * (plus * plus - minus * minus)
    if reg.l1:
        change += reg.l1 * (np.abs(plus) - np.abs(minus))
    return change

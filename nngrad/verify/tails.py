"""Layers l..L run once on a block of stacked perturbations: a loss and a kink report per group.

Gradient checking perturbs one layer's affine output Z_l many times over (one entry of W_l, b_l
or X at a time in full mode, one random direction at a time in fast mode). Every activation is
a function of one example's row (elementwise, or softmax over the row's features), and every
loss term too (svm reads the row): so the perturbed Z_l's can be stacked into one tall block and
run through layers l..L once, each group of r rows computing what a forward of its own would.
A batchnorm, layernorm or dropout reads the whole batch (its statistics, its mask): it runs on
the block as (groups, m, n), each group a whole batch of m rows.

A block is 2·G groups of r rows, in the rows layout: the G ``+`` groups, then the G ``-``
groups in the same order (group g of the second half is group g of the first with the
opposite sign). Its loss per group is ``factor * sum(l(Y_g, T_g))`` (the record's term, or the
fused output/loss pair's from Z_L), ``factor`` the whole batch's reduction factor, so that a
group of r < m rows (one example's, for an X entry) gives that example's share of the loss.
The kinks are read as ``gradcheck`` reads them for one pair of passes: each activation's and the
loss's ``kink`` array, whose sign changes where a derivative jumps, compared between a ``+``
group and its ``-`` group; the first crossing (layer order, then the loss; C order within the
group's rows) is told.

Memory: ``groups_per_block`` keeps the block's widest array near ``BLOCK_BYTES`` (4 MiB), and
at least one pair of groups, what the per-entry loop held; the tail keeps one layer's Z, A and
kink mask at a time, about 4 such arrays at its peak.
"""

from __future__ import annotations

import numpy as np

from ..model.shapes import rows
from ..numerics.activations import ACTIVATIONS
from ..numerics.losses import FUSED, LOSSES
from ..numerics.stages import staged_forward

BLOCK_BYTES = 4 * 2**20


def stackable(net, l: int, whole: bool = False) -> bool:
    """Whether layers l..L can run on a block of stacked examples: every activation row-wise,
    and a stage only when each group is the ``whole`` batch (a norm's batch statistics and a
    dropout mask are the batch's: the stage runs on the block as (groups, m, n))."""
    return all((whole or not layer.stages) and (ACTIVATIONS[layer.activation].elementwise or
                                                layer.activation == "softmax")
               for layer in net.layers[l - 1:])


def groups_per_block(net, l: int, r: int, most: int) -> int:
    """How many pairs of groups of r rows fit a block: its widest array near ``BLOCK_BYTES``
    (float64), at least 1 and at most ``most``."""
    width = max(rows(layer.W, net.layout).shape[1] for layer in net.layers[l - 1:])
    return int(min(most, max(1, BLOCK_BYTES // (8 * width * 2 * r))))


def user_index(rows_index, layout: str) -> str:
    """``[i, j]`` of a rows-layout index, in the spec's layout (reversed for columns)."""
    index = [int(i) for i in rows_index]
    return "[" + ", ".join(map(str, index if layout == "rows" else index[::-1])) + "]"


def tail_losses(net, l: int, Z: np.ndarray, T: np.ndarray, factor: float, r: int,
                offsets: np.ndarray | None = None, kinks: dict | None = None
                ) -> tuple[np.ndarray, np.ndarray, dict]:
    """(loss of each ``+`` group, of each ``-`` group, {group: the first kink crossed, in words}).

    ``Z``: (2 G r, n_l), layer l's perturbed affine outputs, rows layout, laid out as above.
    ``T``: the targets (rows layout, one-hot for labels), broadcastable to (G, r, n_L): (r, n_L)
    when every group holds the same examples, (G, r, n_L) when each holds its own.
    ``offsets``: (G,) the example each group's first row is (for the kink's row); None: 0.
    ``kinks``: crossings found before layer l, which come first (a new dict is returned).
    Call under ``np.errstate(all="ignore")``: an overflow is a nan loss, as in a forward pass.
    """
    G = Z.shape[0] // (2 * r)
    offsets = np.zeros(G, dtype=int) if offsets is None else offsets
    kinks = dict(kinks or {})
    A = None
    for k, layer in enumerate(net.layers[l - 1:], start=l):
        if A is not None:
            Z = A.dot(rows(layer.W, net.layout))
            Z += layer.b.reshape(-1)
        activation, S, A = ACTIVATIONS[layer.activation], Z, None
        if layer.stages:  # each group a whole batch: (2 G, r, n) for the stages
            A, saved = staged_forward(layer, activation, Z.reshape(2 * G, r, -1), net.layout)
            A, S = A.reshape(Z.shape), saved["S"].reshape(Z.shape)
        if activation.kink is not None:  # read at the activation's input: S after a norm
            _crossings(activation.kink(S) > 0, G, r, offsets, kinks, net.layout,
                       f"crosses the {layer.activation} kink of {'S' if layer.norm else 'Z'}{k}")
        if A is None:
            A = activation.f(Z, **layer.params)
    n = A.shape[1]
    last, record = net.layers[-1], LOSSES[net.loss]
    fused = FUSED.get((last.activation, net.loss))
    Y = A.reshape(2, G, r, n)
    terms = fused.term(Z.reshape(2, G, r, n), T) if fused is not None else \
        record.term(Y, T, **net.loss_params)
    losses = factor * terms.reshape(2, G, -1).sum(axis=2)
    if record.kink is not None:
        mask = np.broadcast_to(record.kink(Y, T, **net.loss_params) > 0, Y.shape)
        _crossings(mask.reshape(2 * G * r, n), G, r, offsets, kinks, net.layout,
                   f"crosses the {net.loss} kink of A{len(net.layers)}", f" ({record.kink_at})")
    return losses[0], losses[1], kinks


def _crossings(mask, G, r, offsets, kinks, layout, words, after="") -> None:
    """Add to ``kinks`` each group, not yet in it, whose ``+`` and ``-`` halves of ``mask``
    ((2 G r, n) booleans) differ, told at the first entry that differs."""
    n = mask.shape[1]
    crossed = (mask[:G * r] != mask[G * r:]).reshape(G, r * n)
    for g in np.flatnonzero(crossed.any(axis=1)):
        if g not in kinks:
            row, col = divmod(int(np.argmax(crossed[g])), n)
            kinks[int(g)] = f"{words}{user_index((offsets[g] + row, col), layout)}{after}"

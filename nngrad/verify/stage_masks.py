"""The dropout hypothesis that no record holds: a backward with a 0/1 mask other than the
spec's, read entry by entry from the user's own dH (or from the activation input's gradient that
follows from it elementwise), and carried into the rest of the layer (``stage_hypotheses.dropout``
calls it when no record's mistake fits).

A mask is read only where dA (times the scale) is clearly away from 0, and only where every such
entry is either the right one or 0; the spec's own mask, with another scale, and a mask of ones
are the records' mistakes, not this one. Where a usual mistake explains the mask read (its
complement, another layer's, the seed drawn in the other layout's shape or as rand < 1 - keep),
the message says so.
"""

from __future__ import annotations

import numpy as np

from ..model.shapes import rows
from ..numerics.activations import ACTIVATIONS
from ..numerics.stages import STAGES, draw_mask
from .chain import split
from .mistakes import one
from .report import Diagnosis


def dropout_rule(state) -> str:
    """The right dropout backward for ``state``, in words: the hint of every dropout diagnosis."""
    return STAGES["dropout"].derivative if state.inverted else \
        "dH = dA * mask: the same mask, and no 1/keep (inverted: false)"


def other_mask(ctx, name, M) -> list:
    """dH (or the activation input's gradient that follows from it elementwise) = dA (/ keep)
    times a 0/1 mask other than the spec's; a tensor further down, when it is what the user's
    own such dH gives by the right rules."""
    kind, l = split(name)
    if l < 1 or ctx.net.layers[l - 1].dropout is None or kind == "dA":
        return []
    net, layer = ctx.net, ctx.net.layers[l - 1]
    src = "dS" if layer.norm else "dZ"
    readable = ("dH", src) if ACTIVATIONS[layer.activation].elementwise else ("dH",)
    if kind in readable:
        read = _read_mask(ctx, l, kind, M)
        return [] if read is None else [_mask_said(ctx, name, l, read, "")]
    for k in reversed(readable):
        given = ctx.mine.get(f"{k}{l}")
        if given is None or given.shape != ctx.res[f"{k}{l}"].shape:
            continue
        read = _read_mask(ctx, l, k, given)
        C = ctx.as_tensor(name, rows(given, net.layout), k) if read is not None else None
        c = ctx.fit(M, C) if C is not None and C.shape == M.shape else None
        if c is not None and one(ctx, c):
            return [_mask_said(ctx, name, l, read, f"{k}{l}")]
    return []


def _read_mask(ctx, l: int, kind: str, M):
    """(the 0/1 mask the entries that tell show, those entries, the scale's words) where M is
    dA times it (with the 1/keep of the spec, or without it) and it is not the spec's mask, nor
    all ones; else None."""
    net, st = ctx.net, ctx.net.layers[l - 1].dropout
    dA, Mr = rows(ctx.res[f"dA{l}"], net.layout), rows(M, net.layout)
    right = 1 / st.keep if st.inverted else 1.0
    other = (1.0, ", and without the 1/keep") if st.inverted else \
        (1 / st.keep, ", and with a 1/keep that the spec's dropout (inverted: false) has not")
    spec = rows(st.mask, net.layout) > 0
    for s, words in ((right, ""), other):
        base = dA * s
        if kind != "dH":
            base = ctx.chain.within(l, "dH", base)[kind]
        tol = ctx.atol + ctx.rtol * float(np.abs(base).max(initial=0.0))
        told = np.abs(base) > 2 * tol
        on, off = np.abs(Mr - base) <= tol, np.abs(Mr) <= tol
        if told.sum() < 2 or not (on | off)[told].all() or \
                not (np.abs(Mr) <= np.abs(base) + tol)[~told].all():
            continue
        mask = on & told
        if (mask == spec)[told].all() or mask[told].all():
            continue  # the spec's mask (a scale), or none (the records' "mask left out")
        return mask, told, words
    return None


def _mask_said(ctx, name, l: int, read, via: str) -> Diagnosis:
    mask, told, words = read
    net, st = ctx.net, ctx.net.layers[l - 1].dropout
    differ = int((told & (mask != (rows(st.mask, net.layout) > 0))).sum())
    which = _which_mask(ctx, l, mask, told)
    core = f"a 0/1 mask other than the spec's mask{l}{' (' + which + ')' if which else ''}: " \
        f"it differs at {differ} of the {int(told.sum())} entries that tell{words}"
    scaled = f"dA{l} / keep" if st.inverted else f"dA{l}"
    if via:
        text = f"{name} follows from the given {via}, which uses {core}"
    elif name.startswith("dH"):
        text = f"{name} is {scaled} times {core}"
    else:
        text = f"{name} follows from a dH{l} that is {scaled} times {core}"
    return Diagnosis(name, "dropout_backward", text, layer=l,
                     hint="backward uses the forward's own mask; " + dropout_rule(st))


def _which_mask(ctx, l: int, mask, told) -> str:
    """What the mask read is, where a usual mistake explains it: '' where none does."""
    net, st = ctx.net, ctx.net.layers[l - 1].dropout
    spec = rows(st.mask, net.layout) > 0
    known = [("its complement, 1 - mask: the kept and the dropped swapped", ~spec)]
    if st.seed is not None:
        shape = np.shape(st.mask)
        swapped = draw_mask(st.seed, shape[::-1], st.keep)
        known += [("drawn in the other layout's shape and transposed", rows(swapped.T, net.layout)),
                  ("drawn with rand < 1 - keep", rows(draw_mask(st.seed, shape, 1 - st.keep),
                                                     net.layout))]
    for k, layer in enumerate(net.layers, start=1):
        if k != l and layer.dropout is not None and np.shape(layer.dropout.mask) == np.shape(st.mask):
            known.append((f"layer {k}'s mask", rows(layer.dropout.mask, net.layout) > 0))
    return next((words for words, m in known if (m == mask)[told].all()), "")

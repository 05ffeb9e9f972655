"""The hypotheses about a layer's stages: its dropout's or its norm's backward written with one
of the usual mistakes (``diagnose`` calls them with those of ``mistakes``).

Each walks its stage record's ``mistakes`` (``numerics.stages``, written in
``numerics.stage_mistakes``); builds the wrong gradient from the right upstream one
(dA for dropout, dS for a norm); carries it through the rest of the layer by the right rules
(``chain``); and tests the user's tensor against it:

- dropout: the mask left out of backward, the 1/keep left out or applied twice, the 1/keep of
  inverted dropout where the spec's is not inverted, dropout left out of backward altogether;
  or a 0/1 mask other than the spec's, read from the user's dH (``stage_masks``);
- batchnorm, layernorm: the mean or the variance path left out; the sums over every entry
  (``np.sum(..., axis=None)``) or over the other axis, as means and as sums divided by N
  (cs231n's simplified form); the unbiased variance, or its derivative 2(Z - mu)/(N - 1), where
  the forward pass uses the biased one; eps outside the square root; gamma outside the sums of
  layernorm; dgamma or dbeta not summed over the batch.

A mistake whose tensor is a multiple of the right one (a 1/keep) counts only where the user's
tensor is exactly that multiple; any other, as in ``mistakes``, up to a factor ("besides, ...").
"""

from __future__ import annotations

import re

import numpy as np

from ..model.shapes import rows
from ..numerics.stages import NORMS, STAGES
from .chain import split
from .mistakes import also_scaled, one
from .report import Diagnosis
from .stage_masks import dropout_rule as _dropout_rule, other_mask as _other_mask


def dropout(ctx, name, M, R) -> list:
    """dH (and what follows from it in its layer) from a mistaken dropout backward."""
    return _stage(ctx, name, M, R, ("dropout",), "dropout_backward") or _other_mask(ctx, name, M)


def norm(ctx, name, M, R) -> list:
    """dZ, dW, dB from a mistaken batchnorm or layernorm backward; dgamma, dbeta not summed."""
    return _stage(ctx, name, M, R, NORMS, "norm_backward")


# --- testing them ------------------------------------------------------------------------------

def _candidates(ctx, l: int, key: str, state):
    """(label, gradient kind, the wrong gradient, rows layout) for layer l's stage ``key``, from
    the right upstream gradient; two mistakes that give the same numbers are one."""
    net, res = ctx.net, ctx.res
    up, x = (f"dA{l}", f"H{l}") if key == "dropout" else (f"dS{l}", f"Z{l}")
    g, X = rows(res[up], net.layout), rows(res[x], net.layout)
    seen = []
    for label, kind, fn in STAGES[key].mistakes:
        wrong = fn(g, X, state, net.layout)
        if wrong is None or not np.isfinite(wrong).all() or any(
                k == kind and w.shape == wrong.shape and np.allclose(w, wrong, rtol=1e-12, atol=0)
                for k, w in seen):
            continue
        seen.append((kind, wrong))
        yield _axes(label, net.layout), kind, wrong


def _axes(label: str, layout: str) -> str:
    """A label's axes (the records' are the rows layout's) in the spec's layout."""
    if layout == "rows":
        return label
    return re.sub(r"axis ([01])", lambda m: f"axis {1 - int(m.group(1))}", label)


def _fits(ctx, M, C, R) -> float | None:
    """The factor c with M = c C; only c = 1 where C is itself a multiple of R, and never where C
    is R."""
    k = ctx.fit(C, R) if C.shape == R.shape else None
    if k is not None:
        c = ctx.fit(M, C)
        return c if not one(ctx, k) and c is not None and one(ctx, c) else None
    return ctx.fit(M, C)


def _stage(ctx, name, M, R, keys: tuple, kind_name: str) -> list:
    kind, l = split(name)
    if l < 1:
        return []
    net = ctx.net
    for key, state in net.layers[l - 1].stages:
        if key not in keys:
            continue
        found = []
        for label, gkind, wrong in _candidates(ctx, l, key, state):
            if gkind in ("dgamma", "dbeta"):  # the unsummed (m, n), in the layout
                C = rows(wrong, net.layout) if kind == gkind else None
            else:
                C = ctx.as_tensor(name, wrong, gkind)
            c = _fits(ctx, M, C, R) if C is not None and C.shape == M.shape else None
            if c is not None and not _contradicted(ctx, f"{gkind}{l}", kind, wrong):
                found.append((label, gkind, c))
        exact = [f for f in found if one(ctx, f[2])]  # where some fit as they are, those
        if found:
            return [_said(ctx, name, key, state, exact or found, kind_name, R)]
    return []


def _contradicted(ctx, given: str, kind: str, wrong) -> bool:
    """Whether the user's own ``given`` (the mistaken gradient, when they gave it) is not what
    the mistake gives, so that a tensor further down cannot follow from it."""
    if kind == given.rstrip("0123456789") or given not in ctx.mine:
        return False
    M, R = ctx.mine[given], ctx.res[given]
    C = rows(wrong, ctx.net.layout)
    return M.shape != C.shape or _fits(ctx, M, C, R) is None


def _said(ctx, name, key, state, found, kind_name, R) -> Diagnosis:
    kind, l = split(name)
    labels = list(dict.fromkeys(label for label, _, _ in found))
    what = labels[0] if len(labels) == 1 else "one of these, which fit equally: " + "; ".join(labels)
    _, gkind, c = found[0]
    stage = f"layer {l}'s {key} backward"
    text = f"{name} is what {stage} gives with {what}" if kind == gkind else \
        f"{name} follows from a {gkind}{l} that {stage} gives with {what}"
    if gkind in ("dgamma", "dbeta"):
        of = "dS * xhat" if gkind == "dgamma" else "dS"
        hint = f"{gkind} = sum over the examples of {of}, in {gkind[1:]}{l}'s shape {R.shape}"
    elif key == "dropout":
        hint = _dropout_rule(state)
    else:
        hint = STAGES[key].derivative
    return Diagnosis(name, kind_name, text + also_scaled(ctx, name, c), layer=l, factor=c, hint=hint)

"""Layer stages: batch normalisation, layer normalisation and dropout, one ``Stage`` record each.

A layer is ``Z = A_prev W + b``, then an optional norm on Z, the activation, then optional
dropout on its output (rows layout, Z: (m, n)):

    batchnorm  mu, var = mean and biased variance of Z over the batch (axis 0), per feature
               xhat = (Z - mu) / sqrt(var + eps),  S = gamma * xhat + beta
    layernorm  the same over the features of each example (axis 1); gamma, beta per feature
    dropout    A = H * mask / keep, H = f(S or Z);  ``inverted: false`` leaves out the / keep

Backward (``vjp``): for a norm over N entries along its axis, with dxhat = dS * gamma,

    dZ = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)
       = (1/N) gamma/sigma (N dS - sum dS - xhat sum(dS xhat))        (batchnorm: gamma factors out)
    dgamma = sum over examples of dS * xhat,  dbeta = sum over examples of dS

and for dropout dH = dA * mask / keep: the same mask and the same 1/keep as forward. Batchnorm is
in training mode (batch statistics); a one-example batch has var = 0, so S = beta.

Each record's forward takes the stage's validated state (``Norm`` or ``Dropout``) and returns its
output with the values it saves, by the names ``run`` shows them under (``values``); it also takes
Z as (G, m, n), G batches stacked (gradient checking's perturbations), each its own. Its vjp
returns the input's gradient with the stage gradients (``grads``) and the parameters' (``params``).
Pure numpy: nothing is changed in place that the caller passed in.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..model.shapes import rows
from .stage_mistakes import DROPOUT_MISTAKES, norm_mistakes
from .stage_rules import (DROPOUT_NOTATION, NORM_NOTATION, dropout_rule, norm_grad_rule,
                          norm_rule)


class Norm(NamedTuple):
    """A validated batchnorm or layernorm: ``gamma`` and ``beta`` in their shapes as given (or as
    b's, when omitted: ones and zeros), ``eps`` > 0."""

    gamma: np.ndarray
    beta: np.ndarray
    eps: float = 1e-5


class Dropout(NamedTuple):
    """A validated dropout: ``keep`` in (0, 1], the 0/1 ``mask`` in A's shape in the spec's layout
    (drawn from ``seed`` when the spec gives one), and ``inverted`` (divide by keep)."""

    keep: float
    mask: np.ndarray
    seed: int | None = None
    inverted: bool = True


class Stage(NamedTuple):
    """One layer stage.

    ``where``: ``pre`` (on Z, before the activation) or ``post`` (on its output). ``forward(x,
    state, layout)`` -> (y, saved) and ``vjp(g, saved, state, layout)`` -> (dx, grads), rows
    layout; ``saved`` holds ``values`` (and what backward reads), ``grads`` holds the stage
    gradients ``grads`` and the parameters' ``d`` + ``params``. ``input``/``output``: the names of
    the arrays it reads and writes in a layer (``Z`` -> ``S``; ``H`` -> ``A``). ``formula`` and
    ``derivative`` in words; ``mistakes``: the usual wrong backward passes, ``(label, gradient,
    fn)``, each ``fn(g, Z, state, layout)`` giving the wrong ``gradient`` (or None where it does
    not apply) from the stage's upstream gradient ``g`` and its input ``Z``, which compare tries
    (see ``stage_mistakes``). ``rule``/``grad_rule(E, s, p)``: the
    forward/backward equations explain writes, ``(name, expression, why)`` each, over symbols ``s``
    and parameters ``p`` (``equations.stages`` gives both); ``notation``: its arrays' LaTeX names;
    ``arrays``: the keys of its spec mapping that hold arrays (gamma, beta; mask).
    """

    key: str
    where: str
    forward: Callable
    vjp: Callable
    values: tuple
    grads: tuple
    params: tuple
    input: str
    output: str
    formula: str
    derivative: str
    mistakes: tuple = ()
    rule: Callable | None = None
    grad_rule: Callable | None = None
    notation: dict = {}  # name: Notation; never changed
    arrays: tuple = ()  # the keys of its spec mapping that hold arrays


def draw_mask(seed: int, shape: tuple, keep: float) -> np.ndarray:
    """The mask a seed gives, as cs231n's ``dropout_forward`` draws it: a boolean array of
    ``shape`` (A's, in the spec's layout), ``RandomState(seed).rand(*shape) < keep``."""
    return np.random.RandomState(seed).rand(*shape) < keep


def _vector(p: np.ndarray) -> np.ndarray:
    return p.reshape(-1)


def _norm(axis: int):
    def forward(Z, st: Norm, layout: str):
        mu = Z.mean(axis=axis, keepdims=True)
        var = Z.var(axis=axis, keepdims=True)
        std = np.sqrt(var + st.eps)
        xhat = (Z - mu) / std
        S = xhat * _vector(st.gamma) + _vector(st.beta)
        return S, {"mu": mu.reshape(-1), "var": var.reshape(-1), "xhat": xhat, "S": S, "std": std}

    def vjp(dS, saved: dict, st: Norm, layout: str):
        xhat, std = saved["xhat"], saved["std"]
        dxhat = dS * _vector(st.gamma)
        dZ = dxhat - dxhat.mean(axis=axis, keepdims=True)
        dZ -= xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)
        dZ /= std
        return dZ, {"dS": dS, "dxhat": dxhat, "dgamma": (dS * xhat).sum(axis=0).reshape(st.gamma.shape),
                    "dbeta": dS.sum(axis=0).reshape(st.beta.shape)}
    return forward, vjp


def _dropout_forward(H, st: Dropout, layout: str):
    mask = rows(st.mask, layout)
    A = H * mask
    if st.inverted:
        A /= st.keep
    return A, {"H": H, "mask": mask}


def _dropout_vjp(dA, saved: dict, st: Dropout, layout: str):
    dH = dA * saved["mask"]
    if st.inverted:
        dH /= st.keep
    return dH, {"dH": dH}


_BN, _LN = _norm(-2), _norm(-1)  # the batch and the features: Z may be (groups, m, n) too
_NORM_VALUES, _NORM_GRADS = ("mu", "var", "xhat", "S"), ("dS", "dxhat")

STAGES = {
    "batchnorm": Stage(
        "batchnorm", "pre", *_BN, _NORM_VALUES, _NORM_GRADS, ("gamma", "beta"), "Z", "S",
        "S = gamma * (Z - mu) / sqrt(var + eps) + beta, mu and var over the batch, per feature",
        "dZ = (1/m) gamma/sigma (m dS - sum dS - xhat sum(dS xhat)), sums over the batch",
        norm_mistakes(0), norm_rule, norm_grad_rule, NORM_NOTATION, ("gamma", "beta")),
    "layernorm": Stage(
        "layernorm", "pre", *_LN, _NORM_VALUES, _NORM_GRADS, ("gamma", "beta"), "Z", "S",
        "S = gamma * (Z - mu) / sqrt(var + eps) + beta, mu and var over each example's features",
        "dZ = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / sigma, dxhat = dS gamma, means over "
        "the features",
        norm_mistakes(1), norm_rule, norm_grad_rule, NORM_NOTATION, ("gamma", "beta")),
    "dropout": Stage(
        "dropout", "post", _dropout_forward, _dropout_vjp, ("H", "mask"), ("dH",), (), "H", "A",
        "A = H * mask / keep (inverted: false: H * mask), H = f(S or Z)",
        "dH = dA * mask / keep: the same mask and the same 1/keep",
        DROPOUT_MISTAKES, dropout_rule, lambda E, s, p: dropout_rule(E, s, p, True),
        DROPOUT_NOTATION, ("mask",)),
}
NORMS = tuple(key for key, stage in STAGES.items() if stage.params)
ORDER = tuple(STAGES)  # the order of a layer's stages, as spec keys
ARRAYS = tuple(dict.fromkeys(k for stage in STAGES.values() for k in stage.arrays))
VALUES = tuple(dict.fromkeys(k for stage in STAGES.values() for k in stage.values))


def _split(layer) -> tuple[list, list]:
    pre = [(STAGES[k], st) for k, st in layer.stages if STAGES[k].where == "pre"]
    return pre, [(STAGES[k], st) for k, st in layer.stages if STAGES[k].where == "post"]


def staged_forward(layer, activation, Z, layout: str):
    """A layer with stages, from its affine output Z (rows): (A, saved), ``saved`` holding every
    stage's values by name, with ``S`` the activation's input and ``H`` its output."""
    pre, post = _split(layer)
    saved, x = {}, Z
    for stage, state in pre:
        x, more = stage.forward(x, state, layout)
        saved.update(more)
    saved["S"] = x
    x = saved["H"] = activation.f(x, **layer.params)
    for stage, state in post:
        x, more = stage.forward(x, state, layout)
        saved.update(more)
    return x, saved


def staged_vjp(layer, activation, dA, saved: dict, layout: str):
    """(dZ, the stage gradients by name) of a layer with stages, from dA (rows)."""
    pre, post = _split(layer)
    grads, g = {}, dA
    for stage, state in reversed(post):
        g, more = stage.vjp(g, saved, state, layout)
        grads.update(more)
    g = activation.vjp(g, saved["S"], saved["H"], **layer.params)
    for stage, state in reversed(pre):
        g, more = stage.vjp(g, saved, state, layout)
        grads.update(more)
    return g, grads

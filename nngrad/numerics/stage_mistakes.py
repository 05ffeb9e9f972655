"""The usual wrong backward passes of the layer stages, for their records' ``mistakes``.

Each entry is ``(label, gradient, fn)``: ``fn(g, Z, state, layout)`` gives the wrong ``gradient``
(rows layout) from the stage's right upstream gradient ``g`` (dS for a norm, dA for dropout) and
its input ``Z`` (the affine Z for a norm, H for dropout), or None where the mistake does not apply.
A norm over ``axis`` (0: batchnorm, 1: layernorm) has N entries along it; labels name the rows
layout's axes (compare writes them in the spec's). Pure numpy.
"""

from __future__ import annotations

import numpy as np

from ..model.shapes import rows

_ALL = (0, 1)


def _parts(Z, st, axis: int, unbiased: bool = False, eps_outside: bool = False):
    """xhat and the std that divides it, as a (mistaken) forward computes them."""
    N = Z.shape[axis]
    mu = Z.mean(axis=axis, keepdims=True)
    var = Z.var(axis=axis, keepdims=True, ddof=1 if unbiased and N > 1 else 0)
    std = np.sqrt(var) + st.eps if eps_outside else np.sqrt(var + st.eps)
    return (Z - mu) / std, std


def _means(axis: int, mean_path: bool = True, var_path: bool = True, over=None, **forward):
    """dZ = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / std with a path left out, its means
    ``over`` another axis (None: its own), or a mistaken forward's xhat and std."""
    def dz(dS, Z, st, layout):
        xhat, std = _parts(Z, st, axis, **forward)
        dxhat = dS * st.gamma.reshape(-1)
        at = axis if over is None else over
        out = dxhat.copy()
        if mean_path:
            out -= dxhat.mean(axis=at, keepdims=True)
        if var_path:
            out -= xhat * (dxhat * xhat).mean(axis=at, keepdims=True)
        return out / std
    return dz


def _summed(axis: int, over, gamma_out: bool = False):
    """(1/N)/sigma (N dxhat - sum dxhat - xhat sum(dxhat xhat)), N along ``axis``, the sums over
    ``over``; ``gamma_out``: gamma (N dS - sum dS - xhat sum(dS xhat)), batchnorm's form."""
    def dz(dS, Z, st, layout):
        xhat, std = _parts(Z, st, axis)
        N, gamma = Z.shape[axis], st.gamma.reshape(-1)
        d = dS if gamma_out else dS * gamma
        out = N * d - d.sum(axis=over, keepdims=True) - xhat * (d * xhat).sum(axis=over, keepdims=True)
        return (gamma * out if gamma_out else out) / (N * std)
    return dz


def _unbiased_derivative(axis: int):
    """var's derivative taken as 2(Z - mu)/(N - 1), the forward's var biased."""
    def dz(dS, Z, st, layout):
        N = Z.shape[axis]
        if N < 2:
            return None
        xhat, std = _parts(Z, st, axis)
        d = dS * st.gamma.reshape(-1)
        return (d - d.mean(axis=axis, keepdims=True)
                - xhat * (d * xhat).sum(axis=axis, keepdims=True) / (N - 1)) / std
    return dz


def _eps_outside_derivative(axis: int):
    """The exact derivative of (Z - mu) / (sqrt(var) + eps)."""
    def dz(dS, Z, st, layout):
        mu, var = Z.mean(axis=axis, keepdims=True), Z.var(axis=axis, keepdims=True)
        s0 = np.sqrt(var)
        if not np.all(s0 > 0):
            return None
        xh = (Z - mu) / (s0 + st.eps)
        d = dS * st.gamma.reshape(-1)
        return (d - d.mean(axis=axis, keepdims=True)) / (s0 + st.eps) \
            - xh * (d * xh).mean(axis=axis, keepdims=True) / s0
    return dz


def norm_mistakes(axis: int) -> tuple:
    """The mistakes of a norm over ``axis``: 0 batchnorm (N = m), 1 layernorm (N = n)."""
    other, N = 1 - axis, "m" if axis == 0 else "n"
    out = (
        ("the mean path left out (no -mean(dxhat) term)", "dZ", _means(axis, mean_path=False)),
        ("the variance path left out (no -xhat * mean(dxhat * xhat) term)", "dZ",
         _means(axis, var_path=False)),
        (f"the sums over every entry (np.sum(..., axis=None)), divided by {N}", "dZ",
         _summed(axis, None)),
        ("the means over every entry (np.mean(..., axis=None))", "dZ", _means(axis, over=_ALL)),
        (f"the sums over axis {other} instead of axis {axis}, divided by {N}", "dZ",
         _summed(axis, other)),
        (f"the means over axis {other} instead of axis {axis}", "dZ", _means(axis, over=other)),
        ("the unbiased variance (divided by N - 1) where the forward pass uses the biased one",
         "dZ", _means(axis, unbiased=True)),
        ("the derivative of the unbiased variance, 2(Z - mu)/(N - 1), where the forward pass "
         "uses the biased one", "dZ", _unbiased_derivative(axis)),
        ("eps added outside the square root (sqrt(var) + eps)", "dZ", _means(axis, eps_outside=True)),
        ("eps added outside the square root (sqrt(var) + eps), and that form differentiated",
         "dZ", _eps_outside_derivative(axis)),
        ("dgamma not summed over the batch (dS * xhat)", "dgamma",
         lambda dS, Z, st, layout: dS * _parts(Z, st, axis)[0]),
        ("dbeta not summed over the batch (dS itself)", "dbeta", lambda dS, Z, st, layout: dS),
    )
    if axis == 0:
        return out + (
            ("the sums over every entry (np.sum(..., axis=None)) in cs231n's simplified form, "
             "gamma outside the sums", "dZ", _summed(0, None, gamma_out=True)),
            ("the sums over axis 1 instead of axis 0 in cs231n's simplified form", "dZ",
             _summed(0, 1, gamma_out=True)))
    return out + (("batchnorm's simplified form, gamma outside the sums, where layernorm's gamma "
                   "varies over the features it sums", "dZ", _summed(1, 1, gamma_out=True)),)


def _dh(mask: bool, scale):
    """dA, times the mask or not, times ``scale(state)``."""
    return lambda dA, H, st, layout: (dA * rows(st.mask, layout) if mask else dA.copy()) * scale(st)


DROPOUT_MISTAKES = (
    ("the mask left out of backward (dA / keep)", "dH",
     _dh(False, lambda st: 1 / st.keep if st.inverted else 1.0)),
    ("the 1/keep left out of backward (dA * mask)", "dH", _dh(True, lambda st: 1.0)),
    ("the 1/keep applied twice (dA * mask / keep²)", "dH", _dh(True, lambda st: st.keep ** -2)),
    ("the 1/keep of inverted dropout, where the spec's dropout is not inverted (inverted: false)",
     "dH", _dh(True, lambda st: 1 / st.keep)),
    ("dropout left out of backward altogether (dH = dA)", "dH", _dh(False, lambda st: 1.0)),
)

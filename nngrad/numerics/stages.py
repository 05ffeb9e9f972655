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
output with the values it saves, by the names ``run`` shows them under (``values``); its vjp
returns the input's gradient with the stage gradients (``grads``) and the parameters' (``params``).
Pure numpy: nothing is changed in place that the caller passed in.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..model.shapes import rows
from .records import Notation


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
    fn)``, each ``fn(g, Z, state, layout)`` giving the wrong ``gradient`` from the stage's upstream
    gradient ``g`` and its input ``Z``, which compare tries. ``rule``/``grad_rule(E, s, p)``: the
    forward/backward equations explain writes, ``(name, expression, why)`` each, over symbols ``s``
    and parameters ``p`` (``equations.stages`` gives both); ``notation``: its arrays' LaTeX names.
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


def _norm_parts(Z, st: Norm, axis: int, unbiased: bool = False, eps_outside: bool = False):
    """xhat and the std that divides it, as a mistaken forward computes them."""
    N = Z.shape[axis]
    mu = Z.mean(axis=axis, keepdims=True)
    var = Z.var(axis=axis, keepdims=True, ddof=1 if unbiased and N > 1 else 0)
    std = np.sqrt(var) + st.eps if eps_outside else np.sqrt(var + st.eps)
    return (Z - mu) / std, std


def _norm_dz(axis: int, mean_path: bool = True, var_path: bool = True, sum_axis=None,
             **forward_kw):
    """The norm's dZ with a path left out, or its sums over ``sum_axis`` (the wrong axis)."""
    def dz(dS, Z, st: Norm, layout: str):
        xhat, std = _norm_parts(Z, st, axis, **forward_kw)
        dxhat = dS * _vector(st.gamma)
        over = axis if sum_axis is None else sum_axis
        keep = over is not None
        out = dxhat.copy()
        if mean_path:
            out -= dxhat.mean(axis=over, keepdims=keep)
        if var_path:
            out -= xhat * (dxhat * xhat).mean(axis=over, keepdims=keep)
        return out / std
    return dz


def _norm_mistakes(axis: int) -> tuple:
    other = 1 - axis
    return (
        ("the mean path left out (no -mean(dxhat) term)", "dZ", _norm_dz(axis, mean_path=False)),
        ("the variance path left out (no -xhat * mean(dxhat * xhat) term)", "dZ",
         _norm_dz(axis, var_path=False)),
        ("the sums over every entry (np.sum(..., axis=None))", "dZ", _norm_dz(axis, sum_axis=_ALL)),
        (f"the sums over axis {other} instead of axis {axis}", "dZ", _norm_dz(axis, sum_axis=other)),
        ("the unbiased variance (divided by N - 1) where the forward pass uses the biased one",
         "dZ", _norm_dz(axis, unbiased=True)),
        ("eps added outside the square root (sqrt(var) + eps)", "dZ", _norm_dz(axis, eps_outside=True)),
        ("dgamma not summed over the batch (dS * xhat)", "dgamma",
         lambda dS, Z, st, layout: dS * _norm_parts(Z, st, axis)[0]),
        ("dbeta not summed over the batch (dS itself)", "dbeta", lambda dS, Z, st, layout: dS),
    )


_ALL = (0, 1)


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


def _dropout_dh(mask: bool = True, scale: float = 1.0):
    def dh(dA, H, st: Dropout, layout: str):
        out = dA * rows(st.mask, layout) if mask else dA.copy()
        return out * (scale / st.keep if st.inverted else scale)
    return dh


def _norm_rule(E, s, p):
    """mu, var, sigma, xhat and S, each sum over ``p["over"]`` (N entries)."""
    N, l, over = p["N"], p["l"], p["over"]
    per = "per feature, over the batch" if over == p["batch"] else "per example, over its features"
    d = E.Op("-", s["Z"], s["mu"])
    return (("mu", E.Div(E.Sum(s["Z"], over), N), f"the mean of Z{l}, {per} (training mode)"),
            ("var", E.Div(E.Sum(E.Pow(d), over), N), f"the biased variance, divided by N = {N}, not N − 1"
             + (f"; with m = 1, var{l} = 0, so xhat{l} = 0 and S{l} = beta{l}" if N == 1 else "")),
            ("sigma", E.Fn("sqrt", E.Op("+", s["var"], E.Num(p["eps"], repr(float(p["eps"]))))),
             f"ε = {p['eps']:g} inside the square root"),
            ("xhat", E.Op("/", d, s["sigma"]), f"Z{l} normalised, {per}"),
            ("S", E.Op("+", E.Op("*", s["gamma"], s["xhat"]), s["beta"]),
             f"gamma{l} and beta{l}, one per feature, scale and shift it: the activation's input"))


def _norm_grad_rule(E, s, p):
    """dxhat, dvar, dmu, dZ (the staged graph), dgamma, dbeta, then dZ in three terms."""
    N, l, over, batch = p["N"], p["l"], p["over"], p["batch"]
    dS, xhat, sigma, dxhat, d = s["dS"], s["xhat"], s["sigma"], s["dxhat"], E.Op("-", s["Z"], s["mu"])
    bn = over == batch  # gamma is constant along a batchnorm's sums: it factors out
    g = dS if bn else dxhat
    terms = E.Op("-", E.Op("-", E.Scale(E.Num(N), g), E.Sum(g, over)),
                 E.Op("*", xhat, E.Sum(E.Op("*", g, xhat), over)))
    sums = "over the batch" if bn else f"over each example's {N} features"
    return (
        ("dxhat", E.Op("*", dS, s["gamma"]), f"S{l} = gamma{l} ⊙ xhat{l} + beta{l}"),
        ("dvar", E.Scale(E.Num(-0.5), E.Op("/", E.Sum(E.Op("*", dxhat, d), over), E.Pow(sigma, 3))),
         f"xhat{l} = (Z{l} − mu{l}) (var{l} + ε)^−½: d/dvar{l} = −½ (Z{l} − mu{l}) (var{l} + "
         f"ε)^−3/2, summed {sums}"),
        ("dmu", E.Op("/", E.Neg(E.Sum(dxhat, over)), sigma), f"through xhat{l}; the path through var{l}"
         f", dvar{l} ⊙ Σ(−2 (Z{l} − mu{l})) / {N}, is 0 because mu{l} is the mean"),
        ("dZ", E.Op("+", E.Op("+", E.Op("/", dxhat, sigma), E.Div(E.Scale(E.Num(2), E.Op("*", s["dvar"], d)),
                                                                  N)), E.Div(s["dmu"], N)),
         f"the staged graph: Z{l} reaches the loss through xhat{l} directly, through var{l} and mu{l}"),
        *((f"d{k}", E.Sum(E.Op("*", dS, xhat) if k == "gamma" else dS, batch, p["keepdims"]),
           f"summed over the batch, in {k}{l}'s shape") for k in ("gamma", "beta")),
        ("dZ", E.Div(E.Op("*", E.Op("/", s["gamma"], sigma), terms) if bn else E.Op("/", terms, sigma), N),
         f"the same dZ{l} in three terms, sums {sums}, N = {N}: " + ("(1/N)·γ/σ·(N·dS − Σ dS − x̂·Σ(dS ⊙ "
         "x̂))" if bn else f"(1/N)·(1/σ)·(N·dx̂ − Σ dx̂ − x̂·Σ(dx̂ ⊙ x̂)), as gamma{l} varies along them")),
    )


def _dropout_rule(E, s, p, grad: bool = False):
    """A = H ⊙ mask / keep; with ``grad``, dH = dA ⊙ mask / keep (no / keep if not inverted)."""
    l, keep, seed, kept = p["l"], p["keep"], p["seed"], E.Op("*", s["dA" if grad else "H"], s["mask"])
    rhs = E.Div(kept, keep) if p["inverted"] else kept
    if grad:
        return (("dH", rhs, f"the SAME mask{l} as the forward pass and the same 1/keep = 1/{keep:g}: a "
                            "unit dropped there gets no gradient" if p["inverted"] else
                 f"the SAME mask{l} as the forward pass, and no 1/keep, as forward has none"),)
    drawn = f"mask{l} is the spec's 0/1 mask" if seed is None else \
        f"mask{l} is drawn as np.random.RandomState({seed}).rand{p['shape']} < {keep:g}"
    return (("A", rhs, f"inverted dropout, keep = {keep:g}: {drawn}; dividing by keep makes A{l}'s "
                       f"expectation H{l}" if p["inverted"] else
             f"dropout with inverted: false (no / keep), keep = {keep:g}: {drawn}"),)


_NORM_NOTATION = {k: Notation(k, tex, k) for k, tex in (("mu", r"\mu"), ("var", r"\sigma^{2}"), (
    "sigma", r"\sigma"), ("xhat", r"\hat{x}"), ("gamma", r"\gamma"), ("beta", r"\beta"))}
_BN, _LN = _norm(0), _norm(1)
_NORM_VALUES, _NORM_GRADS = ("mu", "var", "xhat", "S"), ("dS", "dxhat")

STAGES = {
    "batchnorm": Stage(
        "batchnorm", "pre", *_BN, _NORM_VALUES, _NORM_GRADS, ("gamma", "beta"), "Z", "S",
        "S = gamma * (Z - mu) / sqrt(var + eps) + beta, mu and var over the batch, per feature",
        "dZ = (1/m) gamma/sigma (m dS - sum dS - xhat sum(dS xhat)), sums over the batch",
        _norm_mistakes(0), _norm_rule, _norm_grad_rule, _NORM_NOTATION),
    "layernorm": Stage(
        "layernorm", "pre", *_LN, _NORM_VALUES, _NORM_GRADS, ("gamma", "beta"), "Z", "S",
        "S = gamma * (Z - mu) / sqrt(var + eps) + beta, mu and var over each example's features",
        "dZ = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / sigma, dxhat = dS gamma, means over "
        "the features",
        _norm_mistakes(1), _norm_rule, _norm_grad_rule, _NORM_NOTATION),
    "dropout": Stage(
        "dropout", "post", _dropout_forward, _dropout_vjp, ("H", "mask"), ("dH",), (), "H", "A",
        "A = H * mask / keep (inverted: false: H * mask), H = f(S or Z)",
        "dH = dA * mask / keep: the same mask and the same 1/keep",
        (("the mask left out of backward (dA / keep)", "dH", _dropout_dh(mask=False)),
         ("the 1/keep left out of backward (dA * mask)", "dH",
          lambda dA, H, st, layout: dA * rows(st.mask, layout)),
         ("the 1/keep applied twice (dA * mask / keep²)", "dH",
          lambda dA, H, st, layout: dA * rows(st.mask, layout) / st.keep ** 2)),
        _dropout_rule, lambda E, s, p: _dropout_rule(E, s, p, True), {"mask": Notation("mask", r"\mathrm{mask}", "mask")}),
}
NORMS = ("batchnorm", "layernorm")
ORDER = ("batchnorm", "layernorm", "dropout")  # the order of a layer's stages, as spec keys


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

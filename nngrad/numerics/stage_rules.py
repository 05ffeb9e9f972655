"""What explain writes for each layer stage: the symbolic ``rule`` and ``grad_rule`` of its records
(``numerics.stages``), functions of the expression module ``E`` given to them by explain, so that
building the table costs nothing at start, and the LaTeX ``notation`` of its arrays."""

from __future__ import annotations

from .records import Notation


def norm_rule(E, s, p):
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


def norm_grad_rule(E, s, p):
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
        *((f"d{k}", E.Sum(E.Op("*", dS, xhat) if k == "gamma" else dS, batch, p["keepdims"][k]),
           f"summed over the batch, in {k}{l}'s shape") for k in ("gamma", "beta")),
        ("dZ", E.Div(E.Op("*", E.Op("/", s["gamma"], sigma), terms) if bn else E.Op("/", terms, sigma), N),
         f"the same dZ{l} in three terms, sums {sums}, N = {N}: " + ("(1/N)·γ/σ·(N·dS − Σ dS − x̂·Σ(dS ⊙ "
         "x̂))" if bn else f"(1/N)·(1/σ)·(N·dx̂ − Σ dx̂ − x̂·Σ(dx̂ ⊙ x̂)), as gamma{l} varies along them")),
    )


def dropout_rule(E, s, p, grad: bool = False):
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


NORM_NOTATION = {k: Notation(k, tex, k) for k, tex in (("mu", r"\mu"), ("var", r"\sigma^{2}"), (
    "sigma", r"\sigma"), ("xhat", r"\hat{x}"), ("gamma", r"\gamma"), ("beta", r"\beta"))}
DROPOUT_NOTATION = {"mask": Notation("mask", r"\mathrm{mask}", "mask")}

"""A new random spec with given layer widths, whose output layer and targets fit the loss.

Weights are drawn from N(0, s²), s by the initialisation's formula for a layer of n_in inputs
and n_out outputs; biases are zeros; X ~ N(0, 1). Numbers are rounded to 4 significant digits,
so that the YAML stays readable and the YAML and NPZ made with one seed hold the same spec.
"""

from __future__ import annotations

import numpy as np

from ..model.network import Layer
from ..numerics.losses import LOSSES

INITS = {  # name: (the standard deviation of W for n_in inputs and n_out outputs, as a formula)
    "he":     (lambda n_in, n_out: np.sqrt(2 / n_in), "N(0, 2 / n_in)"),
    "xavier": (lambda n_in, n_out: np.sqrt(2 / (n_in + n_out)), "N(0, 2 / (n_in + n_out))"),
    "normal": (lambda n_in, n_out: 1.0, "N(0, 1)"),
}

def output_for(loss: str) -> str:
    """The output activation a loss takes by default: softmax, sigmoid, or identity."""
    return LOSSES[loss].init_output


def misfit(loss: str, output: str) -> str | None:
    """Why ``output`` cannot feed ``loss``, or None when it can."""
    fits = LOSSES[loss].init_outputs or LOSSES[loss].output
    if not fits or output in fits:
        return None
    return f"{loss} needs a {' or '.join(fits)} output layer, not {output}"


_POW10 = np.array([float(f"1e{i}") for i in range(23)])  # exact in float64
_NEAR_TIE = 1e-6  # a scaled value this near .5 may round either way: left to the string


def round4(a: np.ndarray) -> np.ndarray:
    """``a`` rounded to 4 significant digits, each entry ``float("%.4g" % x)`` (as its YAML shows it).

    x scaled by an exact 10^k into [1000, 10000) and rounded gives the 4-digit mantissa M; M and
    10^k exact, one division (or product) gives the float nearest M / 10^k, as the string's
    reading does. Entries this cannot settle (a scaled value within _NEAR_TIE of a tie, a scale
    past 10^22, zeros and non-finite values) go through the string.
    """
    x = np.asarray(a, dtype=np.float64)
    ax = np.abs(x)
    fine = np.isfinite(x) & (ax > 0)
    k = 3 - np.floor(np.log10(np.where(fine, ax, 1.0))).astype(np.int64)
    fine &= np.abs(k) <= 22
    k = np.where(fine, k, 3)
    up = k >= 0
    power = _POW10[np.abs(k)]
    safe = np.where(fine, x, 1.0)
    y = np.where(up, safe * power, safe / power)
    ay = np.abs(y)
    fine &= (ay >= 1000) & (ay < 10000) & (np.abs(ay - np.floor(ay) - 0.5) > _NEAR_TIE)
    m = np.rint(y)
    out = np.where(up, m / power, m * power)
    if not fine.all():
        out[~fine] = np.char.mod("%.4g", x[~fine]).astype(np.float64)
    return out


def random_spec(widths, *, activation: str = "relu", output: str | None = None, loss: str = "mse",
                layout: str = "rows", batch: int = 4, seed: int = 0, init: str = "he",
                dtype: str = "float64", regularization: dict | None = None, norm: str | None = None,
                dropout: float | None = None, dropout_seed: int = 0) -> dict:
    """``Network``'s arguments for a random network n0-n1-...-nL and ``batch`` examples.

    Hidden layers use ``activation``; the output layer ``output`` (by default the one the loss
    needs). T fits the loss (its record's ``init_targets``): one-hot rows for cross_entropy, 0 or
    1 for bce, class labels for svm, -1 or +1 for hinge, N(0, 1) otherwise. ``regularization``
    (a mapping such as ``{"l2": 0.01, "form": "half"}``) is written as it is given. ``norm``
    (``batchnorm`` or ``layernorm``) gives every hidden layer gamma = 1, beta = 0 and eps = 1e-5;
    ``dropout`` (keep) gives each a dropout of that keep with ``seed: dropout_seed``.
    """
    rng = np.random.default_rng(seed)
    output = output or output_for(loss)
    orient = (lambda a: a) if layout == "rows" else (lambda a: a.T)
    layers = []
    for l, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        W = round4(rng.standard_normal((n_in, n_out)) * INITS[init][0](n_in, n_out))
        last = l == len(widths) - 2
        stages = {} if last else {
            **({norm: {"gamma": np.ones(n_out), "beta": np.zeros(n_out), "eps": 1e-5}} if norm else {}),
            **({"dropout": {"keep": dropout, "seed": dropout_seed}} if dropout is not None else {})}
        layers.append(Layer(orient(W), np.zeros(n_out), output if last else activation, **stages))
    X = round4(rng.standard_normal((batch, widths[0])))
    T = round4(LOSSES[loss].init_targets(rng, batch, widths[-1]))
    spec = {"X": orient(X), "T": orient(T), "layers": layers, "loss": loss, "layout": layout,
            "dtype": dtype}
    return {**spec, "regularization": dict(regularization)} if regularization else spec


def describe(widths, *, activation: str, output: str, loss: str, init: str, norm: str | None = None,
             dropout: float | None = None) -> str:
    """How a spec was made, in one line, for its header."""
    hidden = " ".join(filter(None, [norm, activation, dropout is not None and f"dropout {dropout:g}"]))
    return (f"widths {'-'.join(map(str, widths))}; hidden {hidden}, output {output}; "
            f"W ~ {init}: {INITS[init][1]}; b = 0; X ~ N(0, 1); "
            f"T {LOSSES[loss].init_targets_text}; 4 significant digits")

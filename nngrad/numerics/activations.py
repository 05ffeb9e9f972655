"""Activation functions: one ``Activation`` record each, in ``ACTIVATIONS`` (see ``records``).

Each record maps ``Z`` to ``A = f(Z, **params)`` and back: ``vjp(G, Z, A, **params)`` returns
``G * f'(Z)``, the gradient dZ given the upstream gradient ``G = dA``. A derivative may reuse
the forward output ``A`` (sigmoid' = A(1 - A)). Arrays are in the rows layout, shape (m, n):
softmax normalises over the last axis, every other activation is elementwise.

Conventions at kinks follow PyTorch: relu'(0) = 0, leaky_relu'(0) = alpha, elu'(0) = alpha.
Every formula keeps the dtype of ``Z`` (float32 stays float32) and is stable for large ``|Z|``;
the helpers below work in place on the one array they allocate.
"""

from __future__ import annotations

import numpy as np

from .records import Activation, Notation

_SQRT_2_OVER_PI = 0.7978845608028654
_GELU_K = 0.044715
_GELU_CLIP = 20.0  # tanh(sqrt(2/pi) * (20 + 0.044715 * 20**3)) == 1.0 exactly


def sigmoid(z):
    """Logistic sigmoid, 1 / (1 + exp(-z)); any shape; sigmoid(0) = 0.5, sigmoid(±1000) = 1, 0.

    Below z of about -709 (-88 in float32) exp(-z) is inf, which gives the exact limit 0; that
    overflow is expected, and not reported.
    """
    with np.errstate(over="ignore"):
        return sigmoid_ignoring(z)


def sigmoid_ignoring(z):
    """``sigmoid`` for a caller that has the overflow ignored already (the passes run under
    ``np.errstate(all="ignore")``): the same numbers, without a context of its own."""
    e = np.negative(z)
    np.exp(e, out=e)
    e += 1
    return np.reciprocal(e, out=e)


sigmoid.ignoring = sigmoid_ignoring  # see records.Activation

def softmax(z):
    """Softmax over the last axis, shifted by the row maximum (log-sum-exp).

    softmax(z)_j = exp(z_j - max z) / sum_k exp(z_k - max z); z: (m, n) -> (m, n).
    """
    e = z - z.max(axis=-1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def log_softmax(z):
    """log(softmax(z)) over the last axis without forming softmax: z - max - log(sum exp(z - max))."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _gelu_tanh(z):
    zc = np.clip(z, -_GELU_CLIP, _GELU_CLIP)
    return np.tanh(_SQRT_2_OVER_PI * (zc + _GELU_K * zc**3))


def gelu(z):
    """GELU, tanh approximation (PyTorch's ``approximate='tanh'``).

    gelu(z) = z/2 * (1 + tanh(sqrt(2/pi) * (z + 0.044715 z^3))); any shape.
    """
    return 0.5 * z * (1 + _gelu_tanh(z))


def gelu_grad(z):
    """d gelu / dz = (1 + t)/2 + z/2 * (1 - t^2) * sqrt(2/pi) * (1 + 3 * 0.044715 z^2)."""
    t = _gelu_tanh(z)
    zc = np.clip(z, -_GELU_CLIP, _GELU_CLIP)
    return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_K * zc * zc)


def silu_grad(z):
    """d silu / dz = s * (1 + z * (1 - s)), s = sigmoid(z)."""
    s = sigmoid(z)
    return s * (1 + z * (1 - s))


def relu_vjp(g, z, a):
    """ReLU's vector-Jacobian product from its output: dZ = G * [A > 0], so relu'(0) = 0.

    An off unit gives +0, never -0; a non-finite G stays non-finite there (inf * 0 = nan).
    """
    dz = g * (a > 0)
    dz += 0
    return dz


def softmax_vjp(g, z, a):
    """Softmax's vector-Jacobian product over the last axis: dZ = A * (G - sum(G * A))."""
    dz = g * a
    np.subtract(g, dz.sum(axis=-1, keepdims=True), out=dz)
    dz *= a
    return dz


def sigmoid_vjp(g, z, a):
    """Sigmoid's vector-Jacobian product from its output: dZ = G * A * (1 - A)."""
    dz = np.subtract(1, a)
    dz *= a
    dz *= g
    return dz


def tanh_vjp(g, z, a):
    """tanh's vector-Jacobian product from its output: dZ = G * (1 - A^2)."""
    dz = a * a
    np.subtract(1, dz, out=dz)
    dz *= g
    return dz



def _features(layout: str) -> str:
    return "cols" if layout == "rows" else "rows"


def _silu_prime(E, z):
    s = E.Fn("sigmoid", z)
    return E.Op("*", s, E.Op("+", E.Num(1), E.Op("*", z, E.Op("-", E.Num(1), s))), boxed=True)


def _positive(z):
    return z


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation(
        lambda z: z, lambda g, z, a: g, "z", "1",
        lambda E, g, z, a, p: g, "identity′ = 1, so dZ = dA",
        Notation("identity", r"\operatorname{id}", "{x}"), None, (), reads_z=False),
    "relu": Activation(
        lambda z: np.maximum(z, 0), relu_vjp,
        "max(z, 0)", "1 if z > 0 else 0",
        lambda E, g, z, a, p: E.Op("*", g, E.Mask(z)),
        "relu′(Z) = [Z > 0]: 1 where Z > 0, else 0 (relu′(0) = 0)",
        Notation("relu", r"\operatorname{relu}", "np.maximum({x}, 0)"), _positive,
        (("the mask of dA (dA > 0) instead of Z's", lambda g, z, a: g * (g > 0)),),
        reads_z=False),
    "leaky_relu": Activation(
        lambda z, alpha: np.where(z > 0, z, alpha * z),
        lambda g, z, a, alpha: np.where(z > 0, g, alpha * g),
        "z if z > 0 else alpha z", "1 if z > 0 else alpha",
        lambda E, g, z, a, p: E.Op("*", g, E.Op("+", E.Mask(z), E.Scale(E.Num(p["alpha"]),
                                                                     E.Mask(z, False)), boxed=True)),
        "leaky_relu′(Z) = 1 where Z > 0, else α (α at 0)",
        Notation("leaky_relu", r"\operatorname{leaky\_relu}", "np.where({x} > 0, {x}, {a} * {x})"),
        _positive, (), {"alpha": 0.01}),
    "elu": Activation(
        lambda z, alpha: np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0))),
        lambda g, z, a, alpha: np.where(z > 0, g, g * (a + alpha)),
        "z if z > 0 else alpha (exp(z) - 1)", "1 if z > 0 else a + alpha",
        lambda E, g, z, a, p: E.Op("*", g, E.Op("+", E.Mask(z), E.Op("*", E.Op("+", a, E.Num(p["alpha"])),
                                                                      E.Mask(z, False)), boxed=True)),
        "elu′(Z) = 1 where Z > 0, else α e^Z = A + α (α at 0)",
        Notation("elu", r"\operatorname{elu}", "np.where({x} > 0, {x}, {a} * np.expm1({x}))"),
        _positive, (), {"alpha": 1.0}),
    "sigmoid": Activation(
        sigmoid, sigmoid_vjp, "1 / (1 + exp(-z))", "a (1 - a)",
        lambda E, g, z, a, p: E.Op("*", g, E.Op("*", a, E.Op("-", E.Num(1), a), boxed=True)),
        "σ′(Z) = σ(Z)(1 − σ(Z)) = A ⊙ (1 − A), from the forward output",
        Notation("σ", r"\sigma", "1 / (1 + np.exp(-{x}))"), None,
        (("Z (1 − Z), the derivative's formula applied to Z instead of A",
          lambda g, z, a: g * z * (1 - z)),), reads_z=False, aliases=("logistic",)),
    "tanh": Activation(
        np.tanh, tanh_vjp, "tanh(z)", "1 - a^2",
        lambda E, g, z, a, p: E.Op("*", g, E.Op("-", E.Num(1), E.Pow(a), boxed=True)),
        "tanh′(Z) = 1 − tanh²(Z) = 1 − A², from the forward output",
        Notation("tanh", r"\tanh", "np.tanh({x})"), None,
        (("1 − Z², the derivative's formula applied to Z instead of A",
          lambda g, z, a: g * (1 - z * z)),), reads_z=False),
    "softplus": Activation(
        lambda z: np.logaddexp(0, z), lambda g, z, a: g * sigmoid(z), "log(1 + exp(z))", "sigmoid(z)",
        lambda E, g, z, a, p: E.Op("*", g, E.Fn("sigmoid", z, boxed=True)), "softplus′(Z) = σ(Z)",
        Notation("softplus", r"\operatorname{softplus}", "np.logaddexp(0, {x})"), None, ()),
    "silu": Activation(
        lambda z: z * sigmoid(z), lambda g, z, a: g * silu_grad(z),
        "z sigmoid(z)", "s (1 + z (1 - s)), s = sigmoid(z)",
        lambda E, g, z, a, p: E.Op("*", g, _silu_prime(E, z)),
        "silu′(Z) = σ(Z) ⊙ (1 + Z ⊙ (1 − σ(Z)))",
        Notation("silu", r"\operatorname{silu}", "{x} / (1 + np.exp(-{x}))"), None,
        (("σ(Z), the derivative without its second term", lambda g, z, a: g * sigmoid(z)),),
        aliases=("swish",)),
    "gelu": Activation(
        gelu, lambda g, z, a: g * gelu_grad(z),
        "z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))",
        "(1 + t)/2 + z/2 (1 - t^2) sqrt(2/pi) (1 + 0.134145 z^2)",
        lambda E, g, z, a, p: E.Op("*", g, E.Fn("gelu", z, boxed=True, prime=True)),
        "gelu′(z) = (1 + t)/2 + z/2 (1 − t²) √(2/π) (1 + 0.134145 z²), "
        "t = tanh(√(2/π) (z + 0.044715 z³))",
        Notation("gelu", r"\operatorname{gelu}", "gelu({x})"), None, (),
        prime=Notation("gelu′", r"\operatorname{gelu}'", "gelu_prime({x})"), f_prime=gelu_grad),
    "softmax": Activation(
        softmax, softmax_vjp,
        "exp(z_j) / sum_k exp(z_k), per example", "dZ = A * (dA - sum(dA * A))",
        lambda E, g, z, a, p: E.Op("*", a, E.Op("-", g, E.Sum(E.Op("*", g, a), _features(p["layout"])))),
        "softmax mixes each example's features: dZ = A ⊙ (dA − the sum of dA ⊙ A over the "
        "example's features)",
        Notation("softmax", r"\operatorname{softmax}",
                 "np.exp({x}) / np.exp({x}).sum(axis={axis}, keepdims=True)"), None,
        (("A ⊙ (1 − A), the diagonal of softmax's Jacobian only", lambda g, z, a: g * a * (1 - a)),),
        reads_z=False, elementwise=False),
}

ALIASES = {"linear": "identity", "none": "identity"}

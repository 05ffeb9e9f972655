"""Activation functions as a table of named (f, vjp) pairs.

Each entry maps ``Z`` to ``A = f(Z, **params)`` and back: ``vjp(G, Z, A, **params)`` returns
``G * f'(Z)``, the gradient dZ given the upstream gradient ``G = dA``. A derivative may reuse
the forward output ``A`` (sigmoid' = A(1 - A)). Arrays are in the rows layout, shape (m, n):
softmax normalises over the last axis, every other activation is elementwise.

Conventions at kinks follow PyTorch: relu'(0) = 0, leaky_relu'(0) = alpha, elu'(0) = alpha.
Every formula keeps the dtype of ``Z`` (float32 stays float32) and is stable for large ``|Z|``;
the helpers below work in place on the one array they allocate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

_SQRT_2_OVER_PI = 0.7978845608028654
_GELU_K = 0.044715
_GELU_CLIP = 20.0  # tanh(sqrt(2/pi) * (20 + 0.044715 * 20**3)) == 1.0 exactly


@dataclass(frozen=True)
class Activation:
    """One activation: forward ``f(z, **params)``, backward ``vjp(g, z, a, **params)``.

    ``reads_z=False``: the vjp reads only ``g`` and ``a``, so ``z`` may be dropped after forward.
    """

    f: Callable
    vjp: Callable
    params: dict = field(default_factory=dict)
    formula: str = ""
    derivative: str = ""
    reads_z: bool = True


def sigmoid(z):
    """Logistic sigmoid, split by sign so that exp never overflows.

    sigmoid(z) = 1 / (1 + exp(-z)) = exp(z) / (1 + exp(z)); any shape; sigmoid(±1000) = 1, 0.
    """
    e = np.abs(z)
    np.exp(np.negative(e, out=e), out=e)  # exp(-|z|) <= 1
    a = np.where(z >= 0, 1, e)
    e += 1
    a /= e
    return a


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


def relu_vjp(g, a):
    """ReLU's vector-Jacobian product from its output: dZ = G * [A > 0], so relu'(0) = 0.

    An off unit gives +0, never -0; a non-finite G stays non-finite there (inf * 0 = nan).
    """
    dz = g * (a > 0)
    dz += 0
    return dz


def softmax_vjp(g, a):
    """Softmax's vector-Jacobian product over the last axis: dZ = A * (G - sum(G * A))."""
    dz = g * a
    np.subtract(g, dz.sum(axis=-1, keepdims=True), out=dz)
    dz *= a
    return dz


def sigmoid_vjp(g, a):
    """Sigmoid's vector-Jacobian product from its output: dZ = G * A * (1 - A)."""
    dz = np.subtract(1, a)
    dz *= a
    dz *= g
    return dz


def tanh_vjp(g, a):
    """tanh's vector-Jacobian product from its output: dZ = G * (1 - A^2)."""
    dz = a * a
    np.subtract(1, dz, out=dz)
    dz *= g
    return dz


ACTIVATIONS: dict[str, Activation] = {
    "identity":   Activation(lambda z: z,
                             lambda g, z, a: g,
                             formula="z", derivative="1", reads_z=False),
    "relu":       Activation(lambda z: np.maximum(z, 0),
                             lambda g, z, a: relu_vjp(g, a),
                             formula="max(z, 0)", derivative="1 if z > 0 else 0", reads_z=False),
    "leaky_relu": Activation(lambda z, alpha: np.where(z > 0, z, alpha * z),
                             lambda g, z, a, alpha: np.where(z > 0, g, alpha * g),
                             {"alpha": 0.01},
                             formula="z if z > 0 else alpha z", derivative="1 if z > 0 else alpha"),
    "elu":        Activation(lambda z, alpha: np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0))),
                             lambda g, z, a, alpha: np.where(z > 0, g, g * (a + alpha)),
                             {"alpha": 1.0},
                             formula="z if z > 0 else alpha (exp(z) - 1)",
                             derivative="1 if z > 0 else a + alpha"),
    "sigmoid":    Activation(sigmoid,
                             lambda g, z, a: sigmoid_vjp(g, a),
                             formula="1 / (1 + exp(-z))", derivative="a (1 - a)", reads_z=False),
    "tanh":       Activation(np.tanh,
                             lambda g, z, a: tanh_vjp(g, a),
                             formula="tanh(z)", derivative="1 - a^2", reads_z=False),
    "softplus":   Activation(lambda z: np.logaddexp(0, z),
                             lambda g, z, a: g * sigmoid(z),
                             formula="log(1 + exp(z))", derivative="sigmoid(z)"),
    "silu":       Activation(lambda z: z * sigmoid(z),
                             lambda g, z, a: g * silu_grad(z),
                             formula="z sigmoid(z)", derivative="s (1 + z (1 - s)), s = sigmoid(z)"),
    "gelu":       Activation(gelu,
                             lambda g, z, a: g * gelu_grad(z),
                             formula="z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))",
                             derivative="(1 + t)/2 + z/2 (1 - t^2) sqrt(2/pi) (1 + 0.134145 z^2)"),
    "softmax":    Activation(softmax,
                             lambda g, z, a: softmax_vjp(g, a),
                             formula="exp(z_j) / sum_k exp(z_k), per example",
                             derivative="dZ = A * (dA - sum(dA * A))", reads_z=False),
}

ALIASES = {"linear": "identity", "none": "identity"}

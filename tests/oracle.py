"""An independent reference: the contract's network written directly in autograd.numpy.

Nothing here imports nngrad. Each layout is written natively (rows: Z = A W + b; columns:
Z = W A + b with b a column), and gradients come from autograd, or from central differences.
"""

import autograd.numpy as anp
import numpy as np
from autograd import grad

C = np.sqrt(2 / np.pi)

ACT = {
    "identity":   lambda z, ax: z,
    "relu":       lambda z, ax: anp.where(z > 0, z, 0.0),
    "leaky_relu": lambda z, ax, alpha=0.01: anp.where(z > 0, z, alpha * z),
    "elu":        lambda z, ax, alpha=1.0: anp.where(z > 0, z, alpha * (anp.exp(anp.minimum(z, 0)) - 1)),
    "sigmoid":    lambda z, ax: 1 / (1 + anp.exp(-z)),
    "tanh":       lambda z, ax: anp.tanh(z),
    "softplus":   lambda z, ax: anp.log(1 + anp.exp(z)),
    "silu":       lambda z, ax: z / (1 + anp.exp(-z)),
    "gelu":       lambda z, ax: 0.5 * z * (1 + anp.tanh(C * (z + 0.044715 * z ** 3))),
    "softmax":    lambda z, ax: anp.exp(z) / anp.sum(anp.exp(z), axis=ax, keepdims=True),
}

TERM = {
    "mse":           lambda y, t: (y - t) ** 2,
    "sse":           lambda y, t: (y - t) ** 2,
    "half_sse":      lambda y, t: (y - t) ** 2 / 2,
    "mae":           lambda y, t: anp.abs(y - t),
    "bce":           lambda y, t: -(t * anp.log(y) + (1 - t) * anp.log(1 - y)),
    "cross_entropy": lambda y, t: -t * anp.log(y),
}
DEFAULT_REDUCTION = {"mse": "mean", "sse": "sum", "half_sse": "sum", "mae": "mean",
                     "bce": "mean", "cross_entropy": "batch_mean"}


def loss_of_output(spec, Y):
    """The loss of an output Y (in the spec's layout) against the spec's T."""
    name, reduction = loss_name(spec)
    rows = spec.get("layout", "rows") == "rows"
    T = np.asarray(spec["T"], dtype=float)
    if T.ndim == 1:  # class labels
        onehot = np.eye(Y.shape[1] if rows else Y.shape[0])[T.astype(int)]
        T = onehot if rows else onehot.T
    m = Y.shape[0] if rows else Y.shape[1]
    factor = {"mean": 1.0 / Y.size, "sum": 1.0, "batch_mean": 1.0 / m}[reduction]
    return factor * anp.sum(TERM[name](Y, T))


def loss_name(spec):
    loss = spec.get("loss", "mse")
    if isinstance(loss, dict):
        return loss["name"], loss.get("reduction", DEFAULT_REDUCTION[loss["name"]])
    return loss, DEFAULT_REDUCTION[loss]


def _act(layer, ax):
    a = layer["activation"]
    name, params = (a["name"], {k: v for k, v in a.items() if k != "name"}) if isinstance(a, dict) \
        else (a, {})
    return lambda z: ACT[name](z, ax, **params)


def _affine(spec, l, A, params):
    rows = spec.get("layout", "rows") == "rows"
    W, b = params[2 * l], params[2 * l + 1]
    if rows:
        return anp.dot(A, W) + b
    return anp.dot(W, A) + (anp.reshape(b, (-1, 1)) if anp.ndim(b) == 1 else b)


def params_of(spec):
    """[W1, b1, W2, b2, ...] as float arrays, b zeros where the spec omits it."""
    out = []
    for layer in spec["layers"]:
        W = np.asarray(layer["W"], dtype=float)
        n_out = W.shape[1] if spec.get("layout", "rows") == "rows" else W.shape[0]
        out += [W, np.asarray(layer["b"], dtype=float) if "b" in layer else np.zeros(n_out)]
    return out


def loss_from(spec, start, value, kind, params=None):
    """The loss as a function of Z_start or A_start (kind "Z" or "A"), layers counted from 1."""
    params = params_of(spec) if params is None else params
    ax = -1 if spec.get("layout", "rows") == "rows" else 0
    layers = spec["layers"]
    A = _act(layers[start - 1], ax)(value) if kind == "Z" else value
    for l in range(start, len(layers)):
        A = _act(layers[l], ax)(_affine(spec, l, A, params))
    return loss_of_output(spec, A)


def loss(spec, params=None):
    """The loss as a function of the parameter list [W1, b1, ...]."""
    params = params_of(spec) if params is None else params
    X = np.asarray(spec["X"], dtype=float)
    Z = _affine(spec, 0, X, params)
    return loss_from(spec, 1, Z, "Z", params)


def forward(spec):
    """{"Z1": ..., "A1": ..., ...} from the reference."""
    params = params_of(spec)
    ax = -1 if spec.get("layout", "rows") == "rows" else 0
    A, out = np.asarray(spec["X"], dtype=float), {}
    for l, layer in enumerate(spec["layers"]):
        Z = _affine(spec, l, A, params)
        A = _act(layer, ax)(Z)
        out[f"Z{l + 1}"], out[f"A{l + 1}"] = Z, A
    return out


def gradients(spec):
    """Every dW, dB, dZ and dA by autograd, in the spec's layout and shapes."""
    params = params_of(spec)
    g = grad(lambda p: loss(spec, p))(params)
    out, fwd = {}, forward(spec)
    for l, layer in enumerate(spec["layers"], start=1):
        out[f"dW{l}"] = g[2 * l - 2]
        out[f"dB{l}"] = g[2 * l - 1].reshape(np.shape(layer["b"])) if "b" in layer else g[2 * l - 1]
        out[f"dZ{l}"] = grad(lambda z: loss_from(spec, l, z, "Z"))(fwd[f"Z{l}"])
        out[f"dA{l}"] = grad(lambda a: loss_from(spec, l, a, "A"))(fwd[f"A{l}"])
    return out


def central_differences(spec, eps=1e-6):
    """dW and dB by central differences of the reference loss: (L(p + eps) - L(p - eps)) / 2eps."""
    params = params_of(spec)
    out = {}
    for k, p in enumerate(params):
        d = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            plus = [q.copy() for q in params]
            minus = [q.copy() for q in params]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            d[idx] = (loss(spec, plus) - loss(spec, minus)) / (2 * eps)
        out[f"{'dW' if k % 2 == 0 else 'dB'}{k // 2 + 1}"] = d
    return out

"""An independent reference: the contract's network written directly in autograd.numpy.

Nothing here imports nngrad. Each layout is written natively (rows: Z = A W + b; columns:
Z = W A + b with b a column), and gradients come from autograd, or from central differences.

Beyond plain dense layers (the contract's last section): a spec may carry `regularization:
{l2, form, l1, biases}`, whose penalty is added to the data loss (`data_loss`, `penalty`, `loss`
= their sum; `part="all" | "data" | "penalty"` picks one in `gradients`, `central_differences`);
the losses `svm` (multiclass hinge, cs231n's svm_loss), `hinge` and `dot`; and the input
gradient dA0 = dLoss/dX (`gradients(spec, input_grad=True)`, `input_gradient`).
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
                     "bce": "mean", "cross_entropy": "batch_mean",
                     "svm": "batch_mean", "hinge": "mean", "dot": "sum"}

# The hinge losses are not elementwise terms of (y, t) alone in TERM's sense: svm reads each
# example's row, and hinge and dot have their own table below.
# Each is written with anp.where(... > 0, ...), so that the derivative at the kink is 0 (the
# contract's rule); anp.maximum would give 1/2 there.
HINGE_TERM = {
    "hinge": lambda y, t: anp.where(1 - t * y > 0, 1 - t * y, 0.0),
    "dot":   lambda y, t: t * y,
}
SVM_MARGIN = 1.0


def svm_terms(Y, T, ax, margin=SVM_MARGIN):
    """cs231n's svm_loss before its sum: max(0, y_j - y_label + margin) for every j != label, 0 at
    j == label; T one-hot in Y's layout, ax the features' axis. The derivative at a margin of
    exactly 0 is 0."""
    correct = anp.sum(Y * T, axis=ax, keepdims=True)
    margins = Y - correct + margin
    return anp.where((margins > 0) & (T == 0), margins, 0.0)


def svm_margins(spec, Y=None):
    """Every y_j - y_label + margin with j != label, as a flat array (to keep tests off kinks)."""
    Y = forward(spec)[f"A{len(spec['layers'])}"] if Y is None else np.asarray(Y)
    T = targets(spec, Y)
    ax = -1 if spec.get("layout", "rows") == "rows" else 0
    margins = Y - np.sum(Y * T, axis=ax, keepdims=True) + loss_options(spec).get("margin", SVM_MARGIN)
    return margins[T == 0]


def targets(spec, Y):
    """The spec's T as floats in Y's layout; a vector of class labels becomes one-hot."""
    rows = spec.get("layout", "rows") == "rows"
    T = np.asarray(spec["T"], dtype=float)
    if T.ndim == 1:  # class labels
        onehot = np.eye(Y.shape[1] if rows else Y.shape[0])[T.astype(int)]
        T = onehot if rows else onehot.T
    return T


def loss_of_output(spec, Y):
    """The data loss of an output Y (in the spec's layout) against the spec's T."""
    name, reduction = loss_name(spec)
    rows = spec.get("layout", "rows") == "rows"
    T = targets(spec, Y)
    m = Y.shape[0] if rows else Y.shape[1]
    factor = {"mean": 1.0 / Y.size, "sum": 1.0, "batch_mean": 1.0 / m}[reduction]
    if name == "svm":
        terms = svm_terms(Y, T, -1 if rows else 0, loss_options(spec).get("margin", SVM_MARGIN))
    elif name in HINGE_TERM:
        terms = HINGE_TERM[name](Y, T)
    else:
        terms = TERM[name](Y, T)
    return factor * anp.sum(terms)


def loss_name(spec):
    loss = spec.get("loss", "mse")
    if isinstance(loss, dict):
        return loss["name"], loss.get("reduction", DEFAULT_REDUCTION[loss["name"]])
    return loss, DEFAULT_REDUCTION[loss]


def loss_options(spec):
    """The loss's parameters other than name and reduction (svm's margin), {} for a bare name."""
    loss = spec.get("loss", "mse")
    if isinstance(loss, dict):
        return {k: v for k, v in loss.items() if k not in ("name", "reduction")}
    return {}


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


REG_FORMS = {"half": lambda m: 0.5, "full": lambda m: 1.0, "half_over_m": lambda m: 0.5 / m}
PARTS = ("all", "data", "penalty")


def regularization(spec):
    """The spec's regularization with every default filled in (l2 = l1 = 0, form half, no biases)."""
    reg = spec.get("regularization") or {}
    return {"l2": float(reg.get("l2", 0.0)), "form": reg.get("form", "half"),
            "l1": float(reg.get("l1", 0.0)), "biases": bool(reg.get("biases", False))}


def n_examples(spec):
    """m, the number of examples: X's rows in rows layout, its columns in columns layout."""
    X = np.asarray(spec["X"])
    return X.shape[0] if spec.get("layout", "rows") == "rows" else X.shape[1]


def penalty(spec, params=None):
    """c * l2 * sum W^2 + l1 * sum |W| over every layer (and every b with biases: true), c = 1/2,
    1 or 1/(2m) for the forms half, full and half_over_m. 0.0 without regularization."""
    params = params_of(spec) if params is None else params
    reg = regularization(spec)
    c = REG_FORMS[reg["form"]](n_examples(spec))
    total = 0.0
    for k, p in enumerate(params):
        if k % 2 == 1 and not reg["biases"]:
            continue
        total = total + c * reg["l2"] * anp.sum(p ** 2) + reg["l1"] * anp.sum(anp.abs(p))
    return total


def data_loss(spec, params=None, X=None):
    """The loss of the network's output alone, without the penalty, as a function of the
    parameter list [W1, b1, ...] (and of X, the spec's by default)."""
    params = params_of(spec) if params is None else params
    X = np.asarray(spec["X"], dtype=float) if X is None else X
    Z = _affine(spec, 0, X, params)
    return loss_from(spec, 1, Z, "Z", params)


def loss(spec, params=None, X=None):
    """The whole loss (data loss + penalty) as a function of the parameter list [W1, b1, ...]
    (and of X). Without regularization, the data loss as before."""
    params = params_of(spec) if params is None else params
    return data_loss(spec, params, X) + penalty(spec, params)


def part_loss(spec, part="all", params=None, X=None):
    """The whole loss ("all"), the data loss ("data") or the penalty ("penalty")."""
    if part == "data":
        return data_loss(spec, params, X)
    if part == "penalty":
        return penalty(spec, params)
    if part != "all":
        raise ValueError(f"part is one of {PARTS}, not {part!r}")
    return loss(spec, params, X)


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


def gradients(spec, part="all", input_grad=False):
    """Every dW, dB, dZ and dA by autograd, in the spec's layout and shapes, of the whole loss
    (part "all", penalty included), of the data loss ("data") or of the penalty alone ("penalty":
    its dZ and dA are zeros). With input_grad, also dA0 = dLoss/dX in X's shape."""
    params = params_of(spec)
    g = grad(lambda p: part_loss(spec, part, p))(params)
    out, fwd = {}, forward(spec)
    for l, layer in enumerate(spec["layers"], start=1):
        out[f"dW{l}"] = g[2 * l - 2]
        out[f"dB{l}"] = g[2 * l - 1].reshape(np.shape(layer["b"])) if "b" in layer else g[2 * l - 1]
        if part == "penalty":
            out[f"dZ{l}"], out[f"dA{l}"] = np.zeros_like(fwd[f"Z{l}"]), np.zeros_like(fwd[f"A{l}"])
        else:
            out[f"dZ{l}"] = grad(lambda z: loss_from(spec, l, z, "Z"))(fwd[f"Z{l}"])
            out[f"dA{l}"] = grad(lambda a: loss_from(spec, l, a, "A"))(fwd[f"A{l}"])
    if input_grad:
        out["dA0"] = input_gradient(spec, part)
    return out


def input_gradient(spec, part="all"):
    """dA0 = dLoss/dX by autograd, in X's shape (zeros for the penalty alone)."""
    X = np.asarray(spec["X"], dtype=float)
    if part == "penalty":
        return np.zeros_like(X)
    return grad(lambda x: part_loss(spec, part, X=x))(X)


def central_differences(spec, eps=1e-6, part="all", input_grad=False):
    """dW and dB by central differences of the reference loss: (L(p + eps) - L(p - eps)) / 2eps,
    of the whole loss or of one part (see part_loss). With input_grad, also dA0 from X's entries."""
    params = params_of(spec)
    out = {}
    for k, p in enumerate(params):
        d = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            plus = [q.copy() for q in params]
            minus = [q.copy() for q in params]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            d[idx] = (part_loss(spec, part, plus) - part_loss(spec, part, minus)) / (2 * eps)
        out[f"{'dW' if k % 2 == 0 else 'dB'}{k // 2 + 1}"] = d
    if input_grad:
        X = np.asarray(spec["X"], dtype=float)
        d = np.zeros_like(X)
        for idx in np.ndindex(X.shape):
            plus, minus = X.copy(), X.copy()
            plus[idx] += eps
            minus[idx] -= eps
            d[idx] = (part_loss(spec, part, params, plus) - part_loss(spec, part, params, minus)) / (2 * eps)
        out["dA0"] = d
    return out

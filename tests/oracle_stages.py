"""An independent reference for layers with stages: batchnorm, layernorm and dropout, written
directly in autograd.numpy from the contract (nothing here imports nngrad).

Each layout is written natively: rows Z (m, n), the batch along axis 0; columns Z (n, m), the batch
along axis 1. A layer is Z = affine, S = norm(Z) (or Z), H = f(S), A = dropout(H) (or H):

    batchnorm: mu, var over the batch (biased), S = gamma (Z - mu) / sqrt(var + eps) + beta
    layernorm: mu, var over each example's features
    dropout:   A = H * mask / keep (inverted: false leaves out / keep); a seed draws
               mask = np.random.RandomState(seed).rand(*A.shape) < keep, A's shape in the layout

Every gradient comes from autograd: of the parameters (W, b, gamma, beta) directly, and of every
intermediate value (Z, xhat, S, H, A) by adding a zero ``delta`` to it and
differentiating at zero. The penalty covers every W, and with biases: true every b, gamma, beta.
"""

import autograd.numpy as anp
import numpy as np
from autograd import grad

from oracle import ACT, REG_FORMS, loss_of_output, n_examples, regularization

VALUES = ("Z", "xhat", "S", "H", "A")  # the values a delta can be added to


def _rows(spec):
    return spec.get("layout", "rows") == "rows"


def _act(layer, ax):
    a = layer["activation"]
    name, params = (a["name"], {k: v for k, v in a.items() if k != "name"}) if isinstance(a, dict) \
        else (a, {})
    return lambda z: ACT[name](z, ax, **params)


def _norm_key(layer):
    return next((k for k in ("batchnorm", "layernorm") if k in layer), None)


def params_of(spec):
    """{"W1", "b1", "gamma1", "beta1", ...} as float arrays in the spec's shapes; b zeros (n,)
    where omitted, gamma ones and beta zeros in b's shape where omitted."""
    out = {}
    for l, layer in enumerate(spec["layers"], start=1):
        W = np.asarray(layer["W"], dtype=float)
        n = W.shape[1] if _rows(spec) else W.shape[0]
        out[f"W{l}"] = W
        out[f"b{l}"] = np.asarray(layer["b"], dtype=float) if "b" in layer else np.zeros(n)
        key = _norm_key(layer)
        if key:
            norm = layer[key] or {}
            shape = out[f"b{l}"].shape
            out[f"gamma{l}"] = np.asarray(norm["gamma"], dtype=float) if "gamma" in norm else np.ones(shape)
            out[f"beta{l}"] = np.asarray(norm["beta"], dtype=float) if "beta" in norm else np.zeros(shape)
    return out


def mask_of(spec, l):
    """Layer l's dropout mask (float, A's shape in the layout), given or drawn from its seed."""
    drop = spec["layers"][l - 1]["dropout"]
    if "mask" in drop:
        return np.asarray(drop["mask"], dtype=float)
    W = np.asarray(spec["layers"][l - 1]["W"])
    m = n_examples(spec)
    shape = (m, W.shape[1]) if _rows(spec) else (W.shape[0], m)
    return (np.random.RandomState(drop["seed"]).rand(*shape) < drop["keep"]).astype(float)


def _column(v, rows):
    v = anp.reshape(v, (-1,))
    return v if rows else anp.reshape(v, (-1, 1))


def trace(spec, params=None, X=None, delta=None):
    """Every value of the forward pass by name (Z1, mu1, var1, xhat1, S1, H1, mask1, A1, ...),
    with ``delta[name]`` added to each value it names; "loss" is the data loss."""
    params = params_of(spec) if params is None else params
    delta = delta or {}
    rows = _rows(spec)
    ax = -1 if rows else 0  # the features' axis
    batch_ax = 0 if rows else 1
    A = np.asarray(spec["X"], dtype=float) if X is None else X
    out = {}
    add = lambda name, v: v + delta[name] if name in delta else v  # noqa: E731
    for l, layer in enumerate(spec["layers"], start=1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        Z = anp.dot(A, W) + anp.reshape(b, (-1,)) if rows else anp.dot(W, A) + _column(b, False)
        Z = out[f"Z{l}"] = add(f"Z{l}", Z)
        S = Z
        key = _norm_key(layer)
        if key:
            norm = layer[key] or {}
            eps = norm.get("eps", 1e-5)
            over = batch_ax if key == "batchnorm" else ax
            mu = anp.mean(Z, axis=over, keepdims=True)
            var = anp.mean((Z - mu) ** 2, axis=over, keepdims=True)
            xhat = out[f"xhat{l}"] = add(f"xhat{l}", (Z - mu) / anp.sqrt(var + eps))
            S = _column(params[f"gamma{l}"], rows) * xhat + _column(params[f"beta{l}"], rows)
            out[f"mu{l}"], out[f"var{l}"] = anp.reshape(mu, (-1,)), anp.reshape(var, (-1,))
            S = out[f"S{l}"] = add(f"S{l}", S)
        H = _act(layer, ax)(S)
        if "dropout" in layer:
            drop = layer["dropout"]
            H = out[f"H{l}"] = add(f"H{l}", H)
            mask = out[f"mask{l}"] = mask_of(spec, l)
            A = H * mask / (drop["keep"] if drop.get("inverted", True) else 1.0)
        else:
            A = H
        A = out[f"A{l}"] = add(f"A{l}", A)
    out["loss"] = loss_of_output(spec, A)
    return out


def penalty(spec, params=None):
    """c l2 sum W^2 + l1 sum |W| over every W (and every b, gamma and beta with biases: true)."""
    params = params_of(spec) if params is None else params
    reg = regularization(spec)
    c = REG_FORMS[reg["form"]](n_examples(spec))
    total = 0.0
    for name, p in params.items():
        if name.startswith("W") or reg["biases"]:
            total = total + c * reg["l2"] * anp.sum(p ** 2) + reg["l1"] * anp.sum(anp.abs(p))
    return total


def loss(spec, params=None, X=None):
    """The whole loss: the data loss plus the penalty."""
    params = params_of(spec) if params is None else params
    return trace(spec, params, X)["loss"] + penalty(spec, params)


def forward(spec):
    """The forward values by name, as plain arrays (the loss left out)."""
    return {k: np.asarray(v) for k, v in trace(spec).items() if k != "loss"}


GRAD_NAME = {"W": "dW", "b": "dB", "gamma": "dgamma", "beta": "dbeta"}


def gradients(spec, input_grad=False):
    """Every gradient by autograd: dWl, dBl, dgammal, dbetal (of the whole loss, in the
    parameters' shapes), and dZl, dxhatl, dSl, dHl, dAl (of the loss, which the penalty does not
    reach); with input_grad, dA0."""
    params = params_of(spec)
    g = grad(lambda p: loss(spec, p))(params)
    out = {}
    for name, value in g.items():
        kind = name.rstrip("0123456789")
        out[GRAD_NAME[kind] + name[len(kind):]] = value
    fwd = forward(spec)
    names = [n for n in fwd if n.rstrip("0123456789") in VALUES]
    zeros = {n: np.zeros_like(fwd[n]) for n in names}
    dg = grad(lambda d: trace(spec, params, delta=d)["loss"])(zeros)
    out.update({f"d{n}": v for n, v in dg.items()})
    if input_grad:
        X = np.asarray(spec["X"], dtype=float)
        out["dA0"] = grad(lambda x: loss(spec, params, x))(X)
    return out


def central_differences(spec, eps=1e-6):
    """dW, dB, dgamma, dbeta by central differences of the reference's whole loss."""
    params = params_of(spec)
    out = {}
    for name, p in params.items():
        d = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[name][idx] += eps
            minus[name][idx] -= eps
            d[idx] = (loss(spec, plus) - loss(spec, minus)) / (2 * eps)
        kind = name.rstrip("0123456789")
        out[GRAD_NAME[kind] + name[len(kind):]] = d
    return out

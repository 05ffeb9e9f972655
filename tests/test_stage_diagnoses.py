"""compare's diagnoses for layers with stages, issue 15: a planted-mistake suite for every new
hypothesis (dropout's and the norms' backward), in both layouts. Every right value and every
planted mistake is built here with plain numpy from the autograd oracle's arrays
(oracle_stages.forward, .gradients, .params_of), never from nngrad's own results or from the
stage records' mistake functions.

Each test plants one mistake, gives compare the tensors it reaches (the whole set, or only the
parameters' gradients), and asserts which tensors are wrong, that a diagnosis names the cause,
and that no other is given: no other kind on a wrong tensor (earliest_wrong_layer aside), and
nothing on a right one.
"""

import json
import re

import numpy as np
import pytest

import nngrad
import oracle_stages as oracle
from conftest import network, random_spec
from test_cli import nngrad_cli
from test_diagnoses import write

LAYOUTS = ["rows", "columns"]
EARLIEST = "earliest_wrong_layer"
CHAIN = ("dA", "dH", "dS", "dxhat", "dZ")
PARAMS = ("dW", "dB", "dgamma", "dbeta")
DERIVATIVE = {  # f'(x), by hand
    "identity": lambda x: np.ones_like(x),
    "tanh": lambda x: 1 - np.tanh(x) ** 2,
    "sigmoid": lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2,
    "relu": lambda x: (x > 0).astype(float),
}


# --- specs and the right chain rule, by hand, in each layout natively --------------------------

def staged_spec(layout, norm=None, keep=None, widths=(3, 4, 2), hidden="tanh", bias="vector",
                m=6, seed=11, eps=1e-5, inverted=True, mask=False):
    """A random spec whose hidden layers have ``norm`` (with random gamma and beta in b's shape)
    and dropout with ``keep`` (a seed, or with ``mask`` the drawn mask written out)."""
    spec = random_spec(seed=seed, widths=widths, hidden=hidden, layout=layout, m=m, bias=bias)
    rng = np.random.default_rng(seed + 1)
    for l, layer in enumerate(spec["layers"][:-1], start=1):
        shape = np.shape(layer["b"])
        if norm:
            layer[norm] = {"gamma": rng.uniform(0.6, 1.8, shape).tolist(),
                           "beta": rng.normal(0, 0.4, shape).tolist(), "eps": eps}
        if keep:
            layer["dropout"] = {"keep": keep, "seed": seed + 10 * l, "inverted": inverted}
            drawn = oracle.mask_of(spec, l)
            assert 0 < drawn.mean() < 1, "the mask keeps some and drops some"
            if mask:
                layer["dropout"] = {"keep": keep, "mask": drawn.astype(int).tolist(),
                                    "inverted": inverted}
    return spec


def arrays(spec):
    """(net, right, fwd, params) from the oracle."""
    return network(spec), oracle.gradients(spec), oracle.forward(spec), oracle.params_of(spec)


def is_rows(spec):
    return spec.get("layout", "rows") == "rows"


def batch_axis(spec):
    return 0 if is_rows(spec) else 1


def norm_key(spec, l):
    return next((k for k in ("batchnorm", "layernorm") if k in spec["layers"][l - 1]), None)


def norm_axis(spec, l):
    """The axis a layer's norm takes its statistics over: the batch's, or the features'."""
    return batch_axis(spec) if norm_key(spec, l) == "batchnorm" else 1 - batch_axis(spec)


def per_feature(spec, v):
    v = np.asarray(v, dtype=float).reshape(-1)
    return v if is_rows(spec) else v[:, None]


def a_prev(spec, fwd, l):
    return np.asarray(spec["X"], dtype=float) if l == 1 else fwd[f"A{l - 1}"]


def layer_down(spec, fwd, P, l, kind, g):
    """Layer l's gradients from ``kind`` on, given g of that kind, by the right chain rule."""
    layer, key, bax = spec["layers"][l - 1], norm_key(spec, l), batch_axis(spec)
    step, out = CHAIN.index(kind), {f"{kind}{l}": g}
    if step == 0 and "dropout" in layer:
        d = layer["dropout"]
        g = out[f"dH{l}"] = g * fwd[f"mask{l}"] / (d["keep"] if d.get("inverted", True) else 1.0)
    if step <= 1:
        x = fwd[f"S{l}"] if key else fwd[f"Z{l}"]
        g = out[f"dS{l}" if key else f"dZ{l}"] = g * DERIVATIVE[layer["activation"]](x)
    if key:
        xhat = fwd[f"xhat{l}"]
        if step <= 2:
            out[f"dgamma{l}"] = (g * xhat).sum(axis=bax).reshape(P[f"gamma{l}"].shape)
            out[f"dbeta{l}"] = g.sum(axis=bax).reshape(P[f"beta{l}"].shape)
            g = out[f"dxhat{l}"] = g * per_feature(spec, P[f"gamma{l}"])
        if step <= 3:
            ax, Z = norm_axis(spec, l), fwd[f"Z{l}"]
            std = np.sqrt(Z.var(axis=ax, keepdims=True) + layer[key].get("eps", 1e-5))
            g = out[f"dZ{l}"] = (g - g.mean(axis=ax, keepdims=True)
                                 - xhat * (g * xhat).mean(axis=ax, keepdims=True)) / std
    A = a_prev(spec, fwd, l)
    out[f"dW{l}"] = A.T @ g if is_rows(spec) else g @ A.T
    out[f"dB{l}"] = g.sum(axis=bax).reshape(P[f"b{l}"].shape)
    return out


def follow(spec, fwd, P, l, kind, g):
    """Every tensor from layer l's gradient ``kind`` down to layer 1, by the right rules."""
    out = layer_down(spec, fwd, P, l, kind, g)
    for k in range(l - 1, 0, -1):
        W, dZ = P[f"W{k + 1}"], out[f"dZ{k + 1}"]
        out.update(layer_down(spec, fwd, P, k, "dA", dZ @ W.T if is_rows(spec) else W.T @ dZ))
    return out


def params_only(grads):
    return {k: v for k, v in grads.items() if k.rstrip("0123456789") in PARAMS}


# --- the planted mistakes, by hand ------------------------------------------------------------

def dropout_dh(spec, fwd, right, l, how, other=None):
    """Layer l's dH written with a mistake."""
    d = spec["layers"][l - 1]["dropout"]
    dA, mask, keep = right[f"dA{l}"], fwd[f"mask{l}"], d["keep"]
    scale = 1 / keep if d.get("inverted", True) else 1.0
    return {"no_mask": lambda: dA * scale, "no_keep": lambda: dA * mask,
            "keep_twice": lambda: dA * mask / keep ** 2, "keep_not_inverted": lambda: dA * mask / keep,
            "other_mask": lambda: dA * other * scale, "other_mask_no_keep": lambda: dA * other}[how]()


def norm_dz(spec, fwd, right, P, l, how):
    """Layer l's dZ from its norm's backward written with a mistake."""
    key = norm_key(spec, l)
    ax, eps = norm_axis(spec, l), spec["layers"][l - 1][key].get("eps", 1e-5)
    Z, dS, gamma = fwd[f"Z{l}"], right[f"dS{l}"], per_feature(spec, P[f"gamma{l}"])
    N, mu = Z.shape[ax], Z.mean(axis=ax, keepdims=True)
    var = ((Z - mu) ** 2).mean(axis=ax, keepdims=True)
    std = np.sqrt(var + eps)
    xh, dx = (Z - mu) / std, dS * gamma
    mean = lambda a: a.mean(axis=ax, keepdims=True)  # noqa: E731
    other = 1 - ax
    if how == "mean_path":
        return (dx - xh * mean(dx * xh)) / std
    if how == "variance_path":
        return (dx - mean(dx)) / std
    if how == "sum_axis_none":      # cs231n's simplified form with np.sum(...) and no axis
        return (N * dx - np.sum(dx) - xh * np.sum(dx * xh)) / (N * std)
    if how == "mean_axis_none":
        return (dx - np.mean(dx) - xh * np.mean(dx * xh)) / std
    if how == "wrong_axis":
        return (N * dx - dx.sum(axis=other, keepdims=True)
                - xh * (dx * xh).sum(axis=other, keepdims=True)) / (N * std)
    if how == "unbiased":
        var_u = ((Z - mu) ** 2).sum(axis=ax, keepdims=True) / (N - 1)
        std_u = np.sqrt(var_u + eps)
        xu = (Z - mu) / std_u
        return (dx - mean(dx) - xu * mean(dx * xu)) / std_u
    if how == "eps_outside":        # sqrt(var) + eps put into the usual formula
        s = np.sqrt(var) + eps
        xo = (Z - mu) / s
        return (dx - mean(dx) - xo * mean(dx * xo)) / s
    if how == "eps_outside_exact":  # the derivative of (Z - mu) / (sqrt(var) + eps) itself
        s0 = np.sqrt(var)
        xo = (Z - mu) / (s0 + eps)
        return (dx - mean(dx)) / (s0 + eps) - xo * mean(dx * xo) / s0
    if how == "unbiased_derivative":  # dvar/dZ = 2 (Z - mu) / (N - 1) in the staged graph
        return (dx - mean(dx) - xh * (dx * xh).sum(axis=ax, keepdims=True) / (N - 1)) / std
    if how == "mean_wrong_axis":
        return (dx - dx.mean(axis=other, keepdims=True)
                - xh * (dx * xh).mean(axis=other, keepdims=True)) / std
    if how == "gamma_outside":      # batchnorm's simplified form, in a layernorm
        return gamma / (N * std) * (N * dS - dS.sum(axis=ax, keepdims=True)
                                    - xh * (dS * xh).sum(axis=ax, keepdims=True))
    raise ValueError(how)


# --- reading a report ---------------------------------------------------------------------------

def wrong(report):
    return {n for n, t in report.tensors.items() if t.status != "ok"}


def differing(mine, right):
    """The tensors of ``mine`` that compare's rule calls wrong: shape, or max|M - R| > 1e-8 +
    1e-5 max|R|."""
    return {n for n, M in mine.items() if np.shape(M) != np.shape(right[n]) or
            np.abs(M - right[n]).max() > 1e-8 + 1e-5 * np.abs(right[n]).max()}


def on(report, name):
    return [d for d in report.diagnoses if d.tensor == name and d.kind != EARLIEST]


def said(report, name):
    return " | ".join(f"{d.message} {d.hint or ''}" for d in on(report, name))


def assert_named(report, names, kind, phrase):
    """Every tensor of ``names`` carries one diagnosis, of ``kind``, whose message matches
    ``phrase``; no other tensor carries one (earliest_wrong_layer aside)."""
    for name in names:
        got = on(report, name)
        assert [d.kind for d in got] == [kind], (name, [(d.kind, d.message) for d in got])
        assert re.search(phrase, got[0].message), (name, got[0].message)
    for d in report.diagnoses:
        assert d.kind == EARLIEST or d.tensor in names, (d.tensor, d.kind, d.message)
        assert report.tensors[d.tensor].status != "ok", d


def test_the_helpers_rebuild_the_oracles_gradients():
    for layout in LAYOUTS:
        for norm in ("batchnorm", "layernorm"):
            spec = staged_spec(layout, norm, 0.7, widths=(3, 4, 3, 2), bias="2d")
            _, right, fwd, P = arrays(spec)
            got = follow(spec, fwd, P, 3, "dA", right["dA3"])
            assert set(got) == set(right)
            for name, value in got.items():
                np.testing.assert_allclose(value, right[name], rtol=1e-10, atol=1e-13, err_msg=name)


# --- dropout ------------------------------------------------------------------------------------

DROPOUT = [("no_mask", r"mask left out"), ("no_keep", r"1/keep left out"),
           ("keep_twice", r"1/keep applied twice")]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("how, phrase", DROPOUT)
@pytest.mark.parametrize("norm", [None, "batchnorm"])
def test_a_dropout_mistake_is_named_on_dh_and_all_it_reaches(layout, how, phrase, norm):
    spec = staged_spec(layout, norm, keep=0.6)
    net, right, fwd, P = arrays(spec)
    mine = {**right, **layer_down(spec, fwd, P, 1, "dH", dropout_dh(spec, fwd, right, 1, how))}
    report = nngrad.compare(net, mine)
    bad = differing(mine, right)
    assert wrong(report) == bad and "dH1" in bad and "dW1" in bad
    assert_named(report, bad, "dropout_backward", phrase)
    assert re.search(r"the same mask and the same 1/keep", said(report, "dH1"))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("how, phrase", DROPOUT)
def test_a_dropout_mistake_shows_through_the_parameters_alone(layout, how, phrase):
    spec = staged_spec(layout, "layernorm", keep=0.6, mask=True)
    net, right, fwd, P = arrays(spec)
    planted = layer_down(spec, fwd, P, 1, "dH", dropout_dh(spec, fwd, right, 1, how))
    mine = params_only({**right, **planted})
    report = nngrad.compare(net, mine)
    bad = differing(mine, right)
    assert wrong(report) == bad and {"dW1", "dgamma1", "dbeta1"} <= bad
    assert_named(report, bad, "dropout_backward", phrase)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_1_over_keep_of_inverted_dropout_in_a_non_inverted_one_is_named(layout):
    spec = staged_spec(layout, keep=0.5, inverted=False)
    net, right, fwd, P = arrays(spec)
    dH = dropout_dh(spec, fwd, right, 1, "keep_not_inverted")
    mine = {**right, **layer_down(spec, fwd, P, 1, "dH", dH)}
    report = nngrad.compare(net, mine)
    bad = differing(mine, right)
    assert wrong(report) == bad == {"dH1", "dZ1", "dW1", "dB1"}
    assert_named(report, bad, "dropout_backward", r"not inverted")


def other_masks(spec, fwd, l):
    """Other 0/1 masks a dropout backward may use by mistake, with what compare calls them."""
    mask = fwd[f"mask{l}"]
    d = spec["layers"][l - 1]["dropout"]
    fresh = (np.random.RandomState(d["seed"] + 1).rand(*mask.shape) < d["keep"]).astype(float)
    swapped = (np.random.RandomState(d["seed"]).rand(*mask.shape[::-1]) < d["keep"]).T
    return {"complement": (1 - mask, r"complement"), "fresh": (fresh, r""),
            "other_layout": (swapped.astype(float), r"other layout's shape")}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("which", ["complement", "fresh", "other_layout"])
@pytest.mark.parametrize("how", ["other_mask", "other_mask_no_keep"])
def test_another_mask_is_read_from_dh_and_carried_into_ds_dz_dw(layout, which, how):
    spec = staged_spec(layout, "batchnorm", keep=0.7, m=5, widths=(3, 5, 2))
    net, right, fwd, P = arrays(spec)
    other, words = other_masks(spec, fwd, 1)[which]
    assert (other != fwd["mask1"]).any()
    mine = {**right, **layer_down(spec, fwd, P, 1, "dH", dropout_dh(spec, fwd, right, 1, how, other))}
    report = nngrad.compare(net, mine)
    bad = differing(mine, right)
    assert wrong(report) == bad and {"dH1", "dS1", "dZ1", "dW1"} <= bad
    assert_named(report, bad, "dropout_backward", r"mask other than the spec's mask1")
    assert re.search(words, said(report, "dH1"))
    assert ("without the 1/keep" in said(report, "dH1")) == (how == "other_mask_no_keep")
    assert re.search(r"differs at \d+ of the \d+ entries", said(report, "dH1"))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_another_mask_through_the_parameters_alone_names_no_cause(layout):
    # a mask cannot be read from dW: nothing may be said of it but where to look
    spec = staged_spec(layout, "batchnorm", keep=0.7, m=5, widths=(3, 5, 2))
    net, right, fwd, P = arrays(spec)
    dH = dropout_dh(spec, fwd, right, 1, "other_mask", 1 - fwd["mask1"])
    mine = params_only({**right, **layer_down(spec, fwd, P, 1, "dH", dH)})
    report = nngrad.compare(net, mine)
    assert wrong(report) == differing(mine, right) != set()
    assert {d.kind for d in report.diagnoses} == {EARLIEST}


# --- batchnorm and layernorm ----------------------------------------------------------------------

NORM = [("mean_path", r"mean path left out"), ("variance_path", r"variance path left out"),
        ("sum_axis_none", r"every entry \(np\.sum\(\.\.\., axis=None\)\)"),
        ("mean_axis_none", r"means over every entry \(np\.mean\(\.\.\., axis=None\)\)"),
        ("wrong_axis", None), ("mean_wrong_axis", None), ("unbiased", r"unbiased variance"),
        ("unbiased_derivative", r"derivative of the unbiased variance, 2\(Z - mu\)/\(N - 1\)"),
        ("eps_outside", r"eps added outside the square root"),
        ("eps_outside_exact", r"eps added outside the square root")]


def norm_case(layout, norm, how, bias="vector"):
    eps = 0.1 if how.startswith("eps_outside") else 1e-5  # eps outside shows at the tolerance
    spec = staged_spec(layout, norm, widths=(3, 4, 3, 2), bias=bias, eps=eps)
    net, right, fwd, P = arrays(spec)
    dZ = norm_dz(spec, fwd, right, P, 2, how)
    return spec, net, right, fwd, P, dZ


def phrase_of(spec, how, phrase):
    if how not in ("wrong_axis", "mean_wrong_axis"):
        return phrase
    ax = norm_axis(spec, 2)
    return rf"{'means' if how == 'mean_wrong_axis' else 'sums'} over axis {1 - ax} instead of axis {ax}"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
@pytest.mark.parametrize("how, phrase", NORM)
def test_a_norm_mistake_in_dz_is_named_and_layer_1_follows_from_it(layout, norm, how, phrase):
    spec, net, right, fwd, P, dZ = norm_case(layout, norm, how)
    mine = {**right, **follow(spec, fwd, P, 2, "dZ", dZ)}
    report = nngrad.compare(net, mine)
    bad = differing(mine, right)
    assert wrong(report) == bad and {"dZ2", "dW2"} <= bad
    assert not bad & {"dS2", "dxhat2", "dgamma2", "dbeta2", "dA2"}  # upstream of the mistake
    top = {n for n in bad if n.endswith("2")}
    assert_named(report, top, "norm_backward", phrase_of(spec, how, phrase))
    assert re.search(rf"layer 2's {norm} backward", said(report, "dZ2"))
    if bad - top:  # layer 1 is wrong only as a consequence of dZ2
        (first,) = [d for d in report.diagnoses if d.kind == EARLIEST]
        assert first.tensor == "dZ2" and "layer 1 is wrong as a consequence" in first.message
        assert "the given dZ2" in first.message


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
@pytest.mark.parametrize("how, phrase", NORM)
def test_a_norm_mistake_shows_through_dw_and_db_alone(layout, norm, how, phrase):
    spec, net, right, fwd, P, dZ = norm_case(layout, norm, how, bias="2d")
    planted = layer_down(spec, fwd, P, 2, "dZ", dZ)
    mine = {n: v for n, v in params_only({**right, **planted}).items() if n.endswith("2")}
    report = nngrad.compare(net, mine)
    bad = differing(mine, right)
    assert wrong(report) == bad and "dW2" in bad
    assert_named(report, bad, "norm_backward", phrase_of(spec, how, phrase))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
@pytest.mark.parametrize("bias", ["vector", "2d"])
def test_dgamma_and_dbeta_not_summed_over_the_batch_are_shape_mistakes(layout, norm, bias):
    spec = staged_spec(layout, norm, widths=(3, 4, 2), bias=bias)
    net, right, fwd, P = arrays(spec)
    mine = {**right, "dgamma1": right["dS1"] * fwd["xhat1"], "dbeta1": right["dS1"].copy()}
    report = nngrad.compare(net, mine)
    assert wrong(report) == {"dgamma1", "dbeta1"}
    for name in ("dgamma1", "dbeta1"):
        t = report.tensors[name]
        assert t.status == "wrong_shape" and t.shape == right["dS1"].shape
        assert t.expected_shape == P[name[1:]].shape
    assert_named(report, {"dgamma1", "dbeta1"}, "norm_backward", r"not summed over the batch")
    assert "dS * xhat" in said(report, "dgamma1") and "(dS itself)" in said(report, "dbeta1")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_batchnorms_simplified_form_in_a_layernorm_is_named(layout):
    spec = staged_spec(layout, "layernorm", widths=(3, 4, 2))
    net, right, fwd, P = arrays(spec)
    mine = {**right, **layer_down(spec, fwd, P, 1, "dZ", norm_dz(spec, fwd, right, P, 1,
                                                                  "gamma_outside"))}
    report = nngrad.compare(net, mine)
    bad = differing(mine, right)
    assert wrong(report) == bad and {"dZ1", "dW1"} <= bad
    assert_named(report, bad, "norm_backward", r"gamma outside the sums")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_cs231ns_simplified_form_with_np_sum_and_no_axis_is_named(layout):
    spec = staged_spec(layout, "batchnorm", widths=(3, 4, 2))
    net, right, fwd, P = arrays(spec)
    Z, dS, bax = fwd["Z1"], right["dS1"], batch_axis(spec)
    N, gamma = Z.shape[bax], per_feature(spec, P["gamma1"])
    std = np.sqrt(Z.var(axis=bax, keepdims=True) + 1e-5)
    xh = (Z - Z.mean(axis=bax, keepdims=True)) / std
    dZ = gamma / (N * std) * (N * dS - np.sum(dS) - xh * np.sum(dS * xh))
    mine = {**right, **layer_down(spec, fwd, P, 1, "dZ", dZ)}
    report = nngrad.compare(net, mine)
    bad = differing(mine, right)
    assert wrong(report) == bad and {"dZ1", "dW1"} <= bad
    assert_named(report, bad, "norm_backward", r"every entry .*cs231n's simplified form")


# --- the command line -----------------------------------------------------------------------------

def cli_report(tmp_path, spec, mine):
    proc = nngrad_cli("compare", *write(tmp_path, spec, mine), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["agree"] is False
    return doc


def cli_told(doc, name):
    return [d for d in doc["diagnoses"] if d["tensor"] == name and d["kind"] != EARLIEST]


# the Python API's tests above cover every mistake; the command line is held to a few of them
CLI_DROPOUT = [case for case in DROPOUT if case[0] == "no_mask"] + [("other_mask", r"mask other than")]
CLI_NORM = [case for case in NORM if case[0] in ("variance_path", "sum_axis_none")]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("how, phrase", CLI_DROPOUT)
def test_cli_names_a_dropout_mistake(tmp_path, layout, how, phrase):
    spec = staged_spec(layout, "batchnorm", keep=0.6)
    _, right, fwd, P = arrays(spec)
    dH = dropout_dh(spec, fwd, right, 1, how, 1 - fwd["mask1"])
    mine = {**right, **layer_down(spec, fwd, P, 1, "dH", dH)}
    doc = cli_report(tmp_path, spec, mine)
    assert {n for n, t in doc["tensors"].items() if t["status"] != "ok"} == differing(mine, right)
    (told,) = cli_told(doc, "dH1")
    assert told["kind"] == "dropout_backward" and re.search(phrase, told["message"])
    assert told["layer"] == 1 and told["hint"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
@pytest.mark.parametrize("how, phrase", CLI_NORM)
def test_cli_names_a_norm_mistake(tmp_path, layout, norm, how, phrase):
    spec, _, right, fwd, P, dZ = norm_case(layout, norm, how)
    mine = params_only({**right, **follow(spec, fwd, P, 2, "dZ", dZ)})
    doc = cli_report(tmp_path, spec, mine)
    (told,) = cli_told(doc, "dW2")
    assert told["kind"] == "norm_backward"
    assert re.search(phrase_of(spec, how, phrase), told["message"]), told["message"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_cli_names_dgamma_not_summed(tmp_path, layout):
    spec = staged_spec(layout, "layernorm", keep=0.8)
    _, right, fwd, _ = arrays(spec)
    mine = {n: v for n, v in right.items() if n != "dgamma1"}
    doc = cli_report(tmp_path, spec, {**mine, "dGamma1": right["dS1"] * fwd["xhat1"]})
    assert doc["tensors"]["dgamma1"]["status"] == "wrong_shape"
    (told,) = cli_told(doc, "dgamma1")
    assert told["kind"] == "norm_backward" and "dgamma not summed" in told["message"]

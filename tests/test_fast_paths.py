"""The fast paths of issue 18 keep every answer: descent on its own arrays, a trusted network
made without validating again, the overflow-free sigmoid, and a help that loads no numpy."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import nngrad
from nngrad.numerics.activations import sigmoid
from nngrad.numerics.descent import descend_in_place

MAZUR = "sample_nets/04_mazur.yaml"


def mazur_by_hand(lr: float, steps: int):
    """Matt Mazur's 2-2-2 (sigmoid, half_sse) descended by plain NumPy: [(W1, b1, W2, b2), loss]."""
    net = nngrad.load(MAZUR)
    X, T = net.X, net.T
    W1, b1, W2, b2 = (a.copy() for layer in net.layers for a in (layer.W, layer.b))
    out = []
    for _ in range(steps + 1):
        A1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
        Y = 1 / (1 + np.exp(-(A1 @ W2 + b2)))
        out.append(((W1, b1, W2, b2), 0.5 * ((Y - T) ** 2).sum()))
        dZ2 = (Y - T) * Y * (1 - Y)
        dZ1 = dZ2 @ W2.T * A1 * (1 - A1)
        W1, b1, W2, b2 = W1 - lr * X.T @ dZ1, b1 - lr * dZ1.sum(0), W2 - lr * A1.T @ dZ2, \
            b2 - lr * dZ2.sum(0)
    return out


def params(net):
    return tuple(a for layer in net.layers for a in (layer.W, layer.b))


def test_descend_yields_k_loss_network_and_follows_plain_numpy():
    steps = list(nngrad.descend(nngrad.load(MAZUR), lr=0.5, steps=4))
    assert [len(s) for s in steps] == [3] * 5
    for (k, loss, net_k), (want, want_loss) in zip(steps, mazur_by_hand(0.5, 4)):
        assert loss == pytest.approx(want_loss, rel=1e-12)
        for got, expected in zip(params(net_k), want):
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_each_network_descend_yields_stays_as_it_was():
    seen = [(net_k, [p.copy() for p in params(net_k)]) for _, _, net_k in
            nngrad.descend(nngrad.load(MAZUR), lr=0.5, steps=3)]
    for net_k, copies in seen:
        assert all(np.array_equal(a, b) for a, b in zip(params(net_k), copies))
    assert len({id(p) for net_k, _ in seen for p in params(net_k)}) == 4 * len(seen)


def test_descend_with_grads_yields_the_gradients_of_each_network():
    for k, loss, net_k, res in nngrad.descend(nngrad.load(MAZUR), lr=0.5, steps=2, grads=True):
        fresh = nngrad.run(net_k)
        assert res.loss == loss == pytest.approx(fresh.loss, rel=1e-15)
        assert all(np.array_equal(res[n], fresh[n]) for n in ("dW1", "dB1", "dW2", "dB2"))


def test_descend_in_place_never_changes_the_network_given_and_follows_plain_numpy():
    net = nngrad.load(MAZUR)
    before = [p.copy() for p in params(net)]
    *_, (k, loss, last, _) = descend_in_place(net, 0.5, 5)
    want, want_loss = mazur_by_hand(0.5, 5)[-1]
    assert k == 5 and loss == pytest.approx(want_loss, rel=1e-12)
    for got, expected in zip(params(last), want):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert all(np.array_equal(a, b) for a, b in zip(params(net), before))


def test_descend_with_grads_yields_each_networks_whole_result():
    *_, (_, _, net_k, res) = nngrad.descend(nngrad.load(MAZUR), lr=0.5, steps=2, grads=True)
    assert list(res) == list(nngrad.run(net_k))  # Z, A, dA, dZ too


def test_a_network_pickles_after_it_has_run():
    import pickle

    net = nngrad.load("sample_nets/01_relu_mse.yaml")
    nngrad.run(net)  # its rows_layers (functions, lambdas) are made and cached
    again = pickle.loads(pickle.dumps(net))
    assert nngrad.run(again).loss == nngrad.run(net).loss


@pytest.mark.parametrize("pair", ["losses", "fused"])
def test_every_loss_derivative_is_a_new_array(pair):
    """The passes scale dl/dY (and a fused pair's dZ) in place: it must never be Y, T or a view."""
    from nngrad.numerics.losses import FUSED, LOSSES

    rng = np.random.default_rng(3)
    Y, T = rng.uniform(0.1, 0.9, (3, 4)), np.eye(4)[[0, 2, 1]]
    if pair == "losses":
        for name, loss in LOSSES.items():
            d = loss.dterm(Y, T, **loss.params)
            assert not (np.shares_memory(d, Y) or np.shares_memory(d, T)), name
    else:
        for name, fused in FUSED.items():
            d = fused.dz(Y, Y, T)
            assert not (np.shares_memory(d, Y) or np.shares_memory(d, T)), name


def test_a_step_that_leaves_an_infinite_weight_names_it():
    net = nngrad.Network(np.array([[1e300, 1.0]]), np.array([[0.0]]),
                         [nngrad.Layer(np.array([[1.0], [1.0]]))], "mse")
    with pytest.raises(nngrad.NngradError, match=r"W1\[0\]\[0\] is -inf after step 1"):
        list(nngrad.descend(net, lr=1e10, steps=2))


def test_trusted_parameters_runs_as_the_validated_network():
    net = nngrad.load("sample_nets/05_cs231n_batchnorm.yaml")
    rng = np.random.default_rng(0)
    values = {(l, kind): p + rng.standard_normal(p.shape) for _, l, kind, p in net.parameters()}
    net.rows_layers  # noqa: B018  (a plan made before: carried over with the new arrays)
    trusted, checked = net.trusted_parameters(values), net.with_parameters(values)
    a, b = nngrad.run(trusted), nngrad.run(checked)
    assert list(a) == list(b) and all(np.array_equal(a[n], b[n]) for n in a)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_is_exact_to_a_few_ulp_and_never_overflows(dtype):
    z = np.concatenate([np.linspace(-40, 40, 2001), [-1000.0, 1000.0, 0.0]]).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(z)
    want = 1 / (1 + np.exp(-z[:-3].astype(np.longdouble)))
    tol = 1e-13 if dtype == "float64" else 1e-5
    assert s.dtype == dtype and np.max(np.abs(s[:-3] - want) / want) < tol
    assert s[-3:].tolist() == [0.0, 1.0, 0.5]


CHILD = ("import sys\nfrom nngrad.cli import main\nsys.argv = ['nngrad', *sys.argv[1:]]\n"
         "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
         "print('numpy' in sys.modules, code, file=sys.stderr)")


@pytest.mark.parametrize("args, status", [(["--help"], 0), (["nosuch"], 2), (["--bogus"], 2),
                                          (["run", "--help"], 0), (["run", "--bogus"], 2),
                                          (["explain", "--help"], 0), (["graph", "--help"], 0),
                                          (["check", "--help"], 0), (["check", "--bogus"], 2),
                                          (["compare", "--help"], 0)])
def test_help_and_usage_errors_load_no_numpy(args, status):
    done = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True)
    assert done.stderr.splitlines()[-1] == f"False {status}"


def test_import_nngrad_loads_no_numpy_until_a_name_is_used():
    code = ("import sys, nngrad\nprint('numpy' in sys.modules)\nnngrad.run\n"
            "print('numpy' in sys.modules, type(nngrad.load('sample_nets/04_mazur.yaml')).__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "True", "Network"]


def test_the_depth_guard_walks_a_short_text_as_numpy_walks_a_long_one():
    from nngrad.specs.yamlguard import MAX_DEPTH, _too_deep, _too_deep_numpy

    rng = np.random.default_rng(0)
    for n in range(300):
        chars = rng.choice(list("[]{}x\né"), size=int(rng.integers(1, 400)),
                           p=[0.3, 0.1, 0.2, 0.1, 0.2, 0.05, 0.05])
        text = "".join(chars) + "[" * (MAX_DEPTH + 1) * (n % 3 == 0)
        assert _too_deep(text) == _too_deep_numpy(text), text

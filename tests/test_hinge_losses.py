"""The hinge losses: svm (cs231n's multiclass svm_loss, labels or one-hot, any margin), hinge
(binary, t in {-1, +1}) and dot (t * y: dLoss/dY = T), in both layouts and every reduction,
against the autograd oracle, by hand, and at their kinks."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import nngrad
import oracle
from conftest import network, random_spec

LAYOUTS = ["rows", "columns"]
REDUCTIONS = [None, "mean", "sum", "batch_mean"]  # None: the loss's default
CASES = ["svm_labels", "svm_onehot", "svm_labels_margin2", "svm_onehot_margin2", "hinge", "dot"]
KINK_DISTANCE = 1e-3  # random specs keep every margin at least this far from 0


def loss_entry(name, reduction=None, **params):
    """The spec's loss: a bare name when nothing else is set, else a mapping."""
    if reduction is None and not params:
        return name
    return {"name": name, **params, **({"reduction": reduction} if reduction else {})}


def case_spec(case, layout="rows", reduction=None, seed=40, m=6):
    """A random spec for one of CASES, its T fitting the loss."""
    rng = np.random.default_rng(seed + 1000)
    rows = layout == "rows"
    name = case.split("_")[0]
    n_out = 3 if name == "svm" else 2
    spec = random_spec(seed=seed, widths=(3, 4, n_out), hidden="tanh", output="identity",
                       layout=layout, m=m)
    if name in ("svm", "hinge"):  # scores spread wider, so that some margins are inactive
        spec["layers"][-1]["W"] = (3 * np.asarray(spec["layers"][-1]["W"])).tolist()
    params = {"margin": 2.0} if case.endswith("margin2") else {}
    if name == "svm":
        labels = rng.integers(0, n_out, m)
        onehot = np.eye(n_out)[labels]
        T = labels.tolist() if "labels" in case else (onehot if rows else onehot.T).tolist()
    elif name == "hinge":
        T = rng.choice([-1.0, 1.0], (m, n_out) if rows else (n_out, m)).tolist()
    else:
        T = rng.normal(0, 1, (m, n_out) if rows else (n_out, m)).tolist()
    return {**spec, "T": T, "loss": loss_entry(name, reduction, **params)}


def margins(spec):
    """svm's y_j - y_label + margin (j != label) or hinge's 1 - t y, flat; None for dot."""
    name = oracle.loss_name(spec)[0]
    if name == "svm":
        return oracle.svm_margins(spec)
    if name == "hinge":
        Y = oracle.forward(spec)[f"A{len(spec['layers'])}"]
        return (1 - np.asarray(spec["T"]) * Y).ravel()
    return None


def kink_distance(spec):
    """How far the spec's output is from the loss's kinks (inf for dot, which has none)."""
    found = margins(spec)
    return np.inf if found is None else np.abs(found).min()


def reference(spec):
    return {**oracle.forward(spec), **oracle.gradients(spec)}


# --- the oracle on its own -------------------------------------------------------------------

# cs231n's lecture 3 example: the scores of a cat, a car and a frog image over (cat, car, frog)
SCORES = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]
LABELS = [0, 1, 2]
# per example: 2.9, 0, 12.9 (6.3 + 6.6); dLoss/dscores summed over examples:
DSCORES = [[-1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, -2.0]]


def scores_spec(layout, scores=SCORES, labels=LABELS, loss="svm"):
    """One identity layer with W = I and no bias: the output is exactly X (the scores)."""
    X = np.array(scores, dtype=float)
    return {"layout": layout, "X": (X if layout == "rows" else X.T).tolist(), "T": list(labels),
            "loss": loss, "layers": [{"W": np.eye(X.shape[1]).tolist(), "activation": "identity"}]}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_oracle_svm_is_cs231n_example(layout):
    spec = scores_spec(layout)
    assert float(oracle.loss(spec)) == pytest.approx((2.9 + 0 + 12.9) / 3, rel=1e-12)
    dY = np.array(DSCORES) / 3
    np.testing.assert_allclose(oracle.gradients(spec)["dA1"], dY if layout == "rows" else dY.T,
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES)
def test_oracle_autograd_matches_its_central_differences(case, layout):
    spec = case_spec(case, layout)
    assert kink_distance(spec) > KINK_DISTANCE
    if case != "dot":  # both sides of the kink are exercised
        assert 0 < np.sum(margins(spec) > 0) < margins(spec).size
    auto, numeric = oracle.gradients(spec), oracle.central_differences(spec)
    for name, value in numeric.items():
        np.testing.assert_allclose(auto[name], value, rtol=1e-6, atol=1e-9, err_msg=name)


def test_oracle_svm_labels_and_onehot_are_the_same_loss():
    a, b = case_spec("svm_labels"), case_spec("svm_onehot")
    assert float(oracle.loss(a)) == float(oracle.loss(b)) > 0


# --- nngrad against the oracle ---------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES)
def test_run_matches_oracle(case, layout, reduction):
    spec = case_spec(case, layout, reduction)
    assert kink_distance(spec) > KINK_DISTANCE
    res = nngrad.run(network(spec))
    assert res.loss == pytest.approx(float(oracle.loss(spec)), rel=1e-9)
    for name, value in reference(spec).items():
        assert res[name].shape == np.shape(value), name
        np.testing.assert_allclose(res[name], value, rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES)
def test_float32_is_close_to_the_float64_oracle(case, layout):
    spec = case_spec(case, layout)
    res = nngrad.run(network(spec, dtype="float32"))
    assert res.loss == pytest.approx(float(oracle.loss(spec)), rel=1e-5)
    for name, value in reference(spec).items():
        assert res[name].dtype == np.float32, name
        np.testing.assert_allclose(res[name], value, rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_svm_is_cs231n_example(layout):
    res = nngrad.run(network(scores_spec(layout)))
    assert res.loss == pytest.approx((2.9 + 0 + 12.9) / 3, rel=1e-12)
    dY = np.array(DSCORES) / 3
    np.testing.assert_allclose(res["dA1"], dY if layout == "rows" else dY.T, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reduction, factor", [(None, 1.0), ("sum", 1.0), ("mean", 1 / 12),
                                               ("batch_mean", 1 / 6)])
def test_dot_injects_T_as_the_upstream_gradient(layout, reduction, factor):
    spec = case_spec("dot", layout, reduction)  # m = 6 examples, 2 outputs
    res = nngrad.run(network(spec))
    np.testing.assert_allclose(res["dA2"], factor * np.asarray(spec["T"]), rtol=1e-14)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES)
def test_check_agrees(case, layout):
    report = nngrad.check(network(case_spec(case, layout)))
    assert report.agree
    assert all(t.status == "ok" for t in report.tensors.values())


# --- at the kinks: the derivative is 0, and check must not call it wrong -----------------------

# example 0, label 0: y1 - y0 + 1 = 0 exactly (the kink), y2 - y0 + 1 = 0.5 (active);
# example 1, label 1: y0 - y1 + 1 = 0.3 (active), y2 - y1 + 1 = -0.3 (inactive)
SVM_KINK = dict(scores=[[1.0, 0.0, 0.5], [0.2, 0.9, -0.4]], labels=[0, 1])
SVM_KINK_DY = np.array([[-1.0, 0.0, 1.0], [1.0, -1.0, 0.0]]) / 2
# t * y: 1 (the kink), -0.3, -0.5 and 1 (the kink); the other two are active
HINGE_KINK_SCORES = [[1.0, 0.3], [-0.5, -1.0]]
HINGE_KINK_T = np.array([[1.0, -1.0], [1.0, -1.0]])
HINGE_KINK_DY = np.array([[0.0, 1.0], [-1.0, 0.0]]) / 4


def kink_spec(which, layout):
    if which == "svm":
        return scores_spec(layout, **SVM_KINK), SVM_KINK_DY
    T = HINGE_KINK_T if layout == "rows" else HINGE_KINK_T.T
    return {**scores_spec(layout, HINGE_KINK_SCORES, loss="hinge"), "T": T.tolist()}, HINGE_KINK_DY


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("which", ["svm", "hinge"])
def test_oracle_derivative_is_zero_at_the_kink(which, layout):
    spec, dY = kink_spec(which, layout)
    np.testing.assert_allclose(oracle.gradients(spec)["dA1"], dY if layout == "rows" else dY.T,
                               rtol=1e-14, atol=0)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("which", ["svm", "hinge"])
def test_run_derivative_is_zero_at_the_kink(which, layout):
    spec, dY = kink_spec(which, layout)
    res = nngrad.run(network(spec))
    np.testing.assert_allclose(res["dA1"], dY if layout == "rows" else dY.T, rtol=1e-14, atol=0)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("which", ["svm", "hinge"])
def test_check_at_the_kink_skips_or_agrees(which, layout):
    report = nngrad.check(network(kink_spec(which, layout)[0]))
    assert report.agree
    assert all(t.status in ("ok", "skipped_kink") for t in report.tensors.values())


# --- bad targets on the command line ---------------------------------------------------------

SPEC_YAML = """\
X: [[1.0, 2.0], [0.5, -1.0]]
T: {T}
loss: {LOSS}
layers:
  - W: [[0.3, 0.1, -0.4], [-0.2, 0.5, 0.2]]
    activation: identity
"""


def nngrad_cli(*args):
    return subprocess.run([sys.executable, "-m", "nngrad", *args], capture_output=True,
                          env=dict(os.environ), timeout=60)


def one_line_error(proc):
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == b""
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nngrad: error: "), lines
    return lines[0]


@pytest.mark.parametrize("loss, T", [("hinge", "[[1, -1, 1], [-1, 1, 1]]"), ("svm", "[0, 2]"),
                                     ("svm", "[[1, 0, 0], [0, 0, 1]]")])
def test_the_cli_spec_runs_when_valid(tmp_path, loss, T):
    path = tmp_path / "net.yaml"
    path.write_text(SPEC_YAML.replace("{T}", T).replace("{LOSS}", loss))
    assert nngrad_cli("run", str(path)).returncode == 0


@pytest.mark.parametrize("loss, T, place", [
    ("hinge", "[[1, -1, 1], [-1, 0, 1]]", (1, 1)),    # 0/1 targets: a 0 is not in {-1, +1}
    ("hinge", "[[1, -1, 0.5], [-1, 1, 1]]", (0, 2)),
    ("svm", "[0, 3]", (1,)),                          # 3 classes: labels 0, 1, 2
    ("svm", "[-1, 2]", (0,)),
    ("{name: svm, margin: 2.0}", "[0, 3]", (1,)),
])
def test_bad_targets_are_one_line_exit_2(tmp_path, loss, T, place):
    path = tmp_path / "net.yaml"
    path.write_text(SPEC_YAML.replace("{T}", T).replace("{LOSS}", loss))
    line = one_line_error(nngrad_cli("run", str(path)))
    assert "net.yaml:2:" in line, line
    # the entry, as T[1][0] (the loader's way) or T[1, 0]
    assert re.search(r"T\[" + r"\]\[".join(map(str, place)) + r"\]|T\[" + ", ".join(map(str, place))
                     + r"\]", line), line

"""The courses' specs through every command: init, convert, step, run, check and compare.

Regularization, the svm/hinge/dot losses and dA0, held against the autograd oracle; a planted
mistake is built from the oracle's arrays.
"""

import json

import numpy as np
import pytest
import yaml

import nngrad
import oracle
from conftest import network, random_spec
from test_cli import assert_one_line_error, nngrad_cli

REG = {"l2": 0.3, "form": "full", "l1": 0.05, "biases": True}


def regularized(layout="rows", seed=3, reg=REG):
    return {**random_spec(seed=seed, widths=(3, 4, 2), layout=layout), "regularization": reg}


def hinge_spec(layout="rows"):
    spec = random_spec(seed=4, widths=(3, 4, 2), layout=layout)
    return {**spec, "loss": "hinge", "T": np.sign(np.asarray(spec["T"])).tolist()}


def write(tmp_path, spec, name="net.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def diagnoses(report, name):
    return [d for d in report.diagnoses if d.tensor == name]


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_compare_says_the_penalty_gradient_is_missing(layout):
    spec = regularized(layout)
    mine = oracle.gradients(spec, part="data")
    report = nngrad.compare(network(spec), {"dW1": mine["dW1"]})
    assert not report.agree
    assert [d.kind for d in diagnoses(report, "dW1")] == ["regularization"]
    assert "lacks the penalty's gradient" in diagnoses(report, "dW1")[0].message


def test_compare_says_the_penalty_has_another_forms_factor():
    spec = regularized(reg={"l2": 0.3, "form": "full"})
    data, pen = oracle.gradients(spec, part="data"), oracle.gradients(spec, part="penalty")
    report = nngrad.compare(network(spec), {"dW2": data["dW2"] + 0.5 * pen["dW2"]})
    (d,) = diagnoses(report, "dW2")
    assert d.kind == "regularization" and "L2 term is half what the spec's full L2 penalty" in d.message


def test_compare_names_a_hinge_derivative_without_its_mask():
    spec = hinge_spec()
    Y = oracle.forward(spec)["A2"]
    T = np.asarray(spec["T"])
    mine = {"dA2": -T / Y.size}  # -t everywhere: the margin's mask left out
    report = nngrad.compare(network(spec), mine)
    assert [d.kind for d in diagnoses(report, "dA2")] == ["loss_derivative"]


def test_init_writes_the_penalty_and_run_adds_it(tmp_path):
    out = tmp_path / "init.yaml"
    proc = nngrad_cli("init", "3", "4", "2", "--l2", "0.05", "--l2-form", "half_over_m", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    spec = yaml.safe_load(out.read_text())
    assert spec["regularization"] == {"l2": 0.05, "form": "half_over_m"}
    doc = json.loads(nngrad_cli("run", str(out), "--format", "json").stdout)
    assert doc["loss"]["penalty"] == pytest.approx(oracle.penalty(spec), rel=1e-12)
    assert doc["loss"]["value"] == pytest.approx(oracle.loss(spec), rel=1e-12)


def test_init_refuses_a_form_without_a_strength(tmp_path):
    assert_one_line_error(nngrad_cli("init", "3", "2", "--l2-form", "full", "-o", str(tmp_path / "x.yaml")),
                          "--l2")


@pytest.mark.parametrize("loss", ["svm", "hinge", "dot"])
def test_init_makes_targets_each_loss_takes(tmp_path, loss):
    out = tmp_path / "init.yaml"
    assert nngrad_cli("init", "3", "4", "3", "--loss", loss, "-o", str(out)).returncode == 0
    spec = yaml.safe_load(out.read_text())
    res = nngrad.run(nngrad.load(out))
    assert res.loss == pytest.approx(oracle.loss(spec), rel=1e-12)


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_convert_carries_the_penalty_and_the_margin_both_ways(tmp_path, layout):
    spec = {**regularized(layout), "loss": {"name": "svm", "margin": 2.5},
            "T": [0, 1, 1, 0, 1]}
    src, npz, back = write(tmp_path, spec), str(tmp_path / "net.npz"), str(tmp_path / "back.yaml")
    assert nngrad_cli("convert", src, npz).returncode == 0
    assert nngrad_cli("convert", npz, back).returncode == 0
    runs = [nngrad.run(nngrad.load(p)) for p in (src, npz, back)]
    assert all(r.loss == runs[0].loss and r.penalty == runs[0].penalty for r in runs)
    assert runs[0].loss == pytest.approx(oracle.loss(spec), rel=1e-12)
    assert yaml.safe_load(open(back))["regularization"] == REG


def test_an_npz_written_by_numpy_names_the_penalty_and_the_loss_parameter(tmp_path):
    spec = {**regularized(), "loss": {"name": "svm", "margin": 2.0}, "T": [0, 1, 1, 0, 1]}
    params = oracle.params_of(spec)
    path = tmp_path / "net.npz"
    np.savez(path, X=np.array(spec["X"]), T=np.array(spec["T"]), W1=params[0], b1=params[1],
             W2=params[2], b2=params[3], activations=np.array(["tanh", "identity"]),
             loss=np.array("svm:2.0"), regularization_l2=0.3, regularization_form="full",
             regularization_l1=0.05, regularization_biases=True)
    assert nngrad.run(nngrad.load(path)).loss == pytest.approx(oracle.loss(spec), rel=1e-12)


def test_an_npz_with_an_unknown_form_is_one_line_exit_2(tmp_path):
    path = tmp_path / "net.npz"
    np.savez(path, X=np.ones((1, 2)), T=np.ones((1, 1)), W1=np.ones((2, 1)),
             activations=np.array(["identity"]), loss=np.array("mse"), regularization_l2=0.1,
             regularization_form="halve")
    assert_one_line_error(nngrad_cli("run", str(path)), "regularization_form", "did you mean 'half'")


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_step_follows_the_penalty(tmp_path, layout):
    spec = regularized(layout)
    out = tmp_path / "out.yaml"
    assert nngrad_cli("step", write(tmp_path, spec), "--lr", "0.1", "-o", str(out)).returncode == 0
    stepped = yaml.safe_load(out.read_text())
    g = oracle.gradients(spec)
    for l, layer in enumerate(stepped["layers"], start=1):
        W = np.asarray(spec["layers"][l - 1]["W"]) - 0.1 * g[f"dW{l}"]
        np.testing.assert_allclose(layer["W"], W, rtol=1e-12, atol=1e-15)
    assert stepped["regularization"] == REG


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_streamed_gradients_keep_the_penalty_and_dA0(layout):
    spec = regularized(layout)
    res = nngrad.run(network(spec), keep="grads", batch_chunk=2, input_grad=True)
    g = oracle.gradients(spec, input_grad=True)
    for name in ("dW1", "dB1", "dW2", "dB2", "dA0"):
        np.testing.assert_allclose(res[name], g[name], rtol=1e-9, atol=1e-12, err_msg=name)
    assert res.loss == pytest.approx(oracle.loss(spec), rel=1e-12)


@pytest.mark.parametrize("part", ["all", "data", "penalty"])
def test_check_part_from_the_command_line(tmp_path, part):
    proc = nngrad_cli("check", write(tmp_path, regularized()), "--part", part, "--input-grad",
                      "--format", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0 and doc["agree"] is True
    assert "dA0" in doc["tensors"]


def test_check_notices_a_penalty_gradient_left_out(monkeypatch):
    import nngrad.numerics.passes as passes
    import nngrad.verify.gradcheck  # noqa: F401 - imported first, so that it keeps the real one

    monkeypatch.setattr(passes, "penalty_grads", lambda net: {})
    report = nngrad.check(network(regularized()), part="all")
    assert not report.agree and report.tensors["dW1"].status == "wrong_values"


def test_the_table_shows_the_two_parts_and_dA0(tmp_path):
    proc = nngrad_cli("run", write(tmp_path, regularized()), "--input-grad")
    out = proc.stdout.decode()
    data, penalty = oracle.data_loss(regularized()), oracle.penalty(regularized())
    assert f"= data {data:.10g} + penalty {penalty:.10g}" in out
    assert "dA0" in out and "input" in out


BASE = "X: [[1.0, 2.0], [0.5, -1.0]]\nlayers:\n  - W: [[1.0, 0.0, 1.0], [0.0, 1.0, 0.5]]\n    activation: identity\n"


@pytest.mark.parametrize("head, fragments", [
    ("loss: svm\nT: [[1, 0, 0], [0, 1, 1]]\n", ["T[1][1]", "one-hot"]),
    ("loss: svm\nT: [[0, 0, 0], [0, 1, 0]]\n", ["T[0][0]", "one-hot"]),
    ("loss: mse\nT: [[1, 0, 1], [1, 1, 1]]\nregularization: null\n", [":3:", "regularization", "null"]),
    ("loss: mse\nT: [[1, 0, 1], [1, 1, 1]]\nregularization: {l2: 1, biases: 1}\n", ["regularization.biases"]),
    ("loss: {name: svm, margin: .nan}\nT: [0, 1]\n", ["loss.margin", "finite"]),
    ("loss: {name: mse, margin: 1}\nT: [[1, 0, 1], [1, 1, 1]]\n", ["loss.margin", "mse takes no parameter"]),
])
def test_bad_course_specs_are_one_line_exit_2(tmp_path, head, fragments):
    path = tmp_path / "net.yaml"
    path.write_text(head + BASE)
    assert_one_line_error(nngrad_cli("run", str(path)), *fragments)


def test_l1_kinks_are_only_where_the_penalty_is():
    spec = regularized(reg={"l1": 0.1})  # biases carry no penalty: a zero bias is no kink
    spec["layers"][0]["b"] = [0.0] * 4
    report = nngrad.check(network(spec), part="all")
    assert report.agree and report.tensors["dB1"].skipped == 0 and report.tensors["dB1"].checked == 4


def test_a_penalty_check_with_the_input_gradient_checks_that_dA0_is_zero():
    report = nngrad.check(network(regularized()), part="penalty", input_grad=True)
    assert report.agree and report.tensors["dA0"].status == "ok"
    assert report.settings["parameters"] == 4 * 3 + 4 + 2 * 4 + 2 and report.settings["inputs"] == 15


def test_an_npz_penalty_error_names_its_member(tmp_path):
    path = tmp_path / "net.npz"
    np.savez(path, X=np.ones((1, 2)), T=np.ones((1, 1)), W1=np.ones((2, 1)),
             activations=np.array(["identity"]), loss=np.array("mse"), regularization_l2=-0.1)
    assert_one_line_error(nngrad_cli("run", str(path)), "regularization_l2:", "0 or more")


def test_another_mistake_is_found_under_a_right_penalty():
    spec = regularized(reg={"l2": 0.1, "form": "full"})  # tanh hidden layer
    data, pen = oracle.gradients(spec, part="data"), oracle.gradients(spec, part="penalty")
    fwd, X = oracle.forward(spec), np.asarray(spec["X"])
    dZ1 = data["dA1"] * (1 - fwd["Z1"] ** 2)  # tanh' taken at Z, not A
    report = nngrad.compare(network(spec), {"dW1": X.T @ dZ1 + pen["dW1"]})
    assert [d.kind for d in diagnoses(report, "dW1")] == ["activation_derivative"]


def test_a_missing_l1_term_is_named_beside_a_right_l2():
    spec = regularized(reg={"l2": 0.1, "form": "full", "l1": 0.05})
    data = oracle.gradients(spec, part="data")
    l2_only = oracle.gradients({**spec, "regularization": {"l2": 0.1, "form": "full"}}, part="penalty")
    report = nngrad.compare(network(spec), {"dW2": data["dW2"] + l2_only["dW2"]})
    (d,) = diagnoses(report, "dW2")
    assert d.kind == "regularization" and "lacks the L1 term" in d.message


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("loss", ["svm", "hinge", "dot"])
def test_course_losses_and_dA0_with_2d_biases(loss, layout):
    spec = {**random_spec(seed=8, widths=(3, 4, 3), loss=loss, layout=layout, bias="2d"),
            "regularization": {"l2": 0.2, "biases": True}}
    res = nngrad.run(network(spec), input_grad=True)
    want = oracle.gradients(spec, input_grad=True)
    for name in ("dW1", "dB1", "dW2", "dB2", "dA0", "dA2"):
        assert res[name].shape == np.shape(want[name]), name
        np.testing.assert_allclose(res[name], want[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_a_penalty_check_fails_on_a_wrong_penalty_gradient(monkeypatch):
    import nngrad.verify.gradcheck as gradcheck
    from nngrad.numerics.regularization import penalty_grads

    monkeypatch.setattr(gradcheck, "penalty_grads", lambda net: {k: 2 * g for k, g in penalty_grads(net).items()})
    report = nngrad.check(network(regularized()), part="penalty")
    assert not report.agree and report.tensors["dW1"].status == "wrong_values"


def test_a_penalty_check_without_a_penalty_is_refused(tmp_path):
    assert_one_line_error(nngrad_cli("check", write(tmp_path, random_spec()), "--part", "penalty"),
                          "no regularization")


def test_a_regularization_record_is_checked_like_a_mapping():
    from nngrad.numerics.regularization import Regularization

    with pytest.raises(nngrad.SpecError, match="0 or more"):
        network({**random_spec(), "regularization": Regularization(l2=-1.0)})
    with pytest.raises(nngrad.SpecError, match="did you mean 'half'"):
        network({**random_spec(), "regularization": Regularization(l2=1.0, form="halfs")})


def test_cs231n_dx_is_read_as_dA0(tmp_path):
    spec = random_spec()
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump({"dx": oracle.gradients(spec, input_grad=True)["dA0"].tolist()}))
    proc = nngrad_cli("compare", write(tmp_path, spec), str(mine), "--format", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["tensors"]["dA0"]["status"] == "ok"


def test_init_refuses_a_strength_its_dtype_cannot_hold(tmp_path):
    assert_one_line_error(nngrad_cli("init", "3", "2", "--dtype", "float32", "--l2", "1e39", "-o",
                                     str(tmp_path / "f.yaml")), "--l2", "too large for float32")
    assert not (tmp_path / "f.yaml").exists()

"""nngrad compare: a planted-bug suite. The right gradients come from the autograd oracle; each
test plants one classic mistake and checks that compare marks only the wrong tensors and names it."""

import numpy as np
import pytest

import nngrad
import oracle
from conftest import network, random_spec

LAYOUTS = ["rows", "columns"]


def setup(layout, hidden="sigmoid", widths=(3, 4, 3), m=5, seed=20):
    spec = random_spec(seed=seed, widths=widths, hidden=hidden, layout=layout, m=m, bias="vector")
    right = oracle.gradients(spec)
    return spec, network(spec), right, oracle.forward(spec)


def params(right):
    return {k: v for k, v in right.items() if k[:2] in ("dW", "dB")}


def by_kind(report, kind):
    return [d for d in report.diagnoses if d.kind == kind]


def weight_grad(spec, A_prev, dZ):
    return A_prev.T @ dZ if spec["layout"] == "rows" else dZ @ A_prev.T


def bias_grad(spec, dZ):
    return dZ.sum(axis=0 if spec["layout"] == "rows" else 1)


def upstream(spec, W, dZ):
    return dZ @ W.T if spec["layout"] == "rows" else W.T @ dZ


@pytest.mark.parametrize("layout", LAYOUTS)
def test_right_gradients_agree(layout):
    spec, net, right, _ = setup(layout)
    report = nngrad.compare(net, right)
    assert report.agree and report.diagnoses == []
    assert set(report.tensors) == set(right)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("factor, words", [(5, "the 1/m of the mean over the batch is missing"),
                                           (0.5, "the 2 from the derivative of the square"),
                                           (3, "averages over all m·n = 15 elements")])
def test_constant_factor_is_explained(layout, factor, words):
    spec, net, right, _ = setup(layout)  # m = 5 examples, n = 3 outputs, mse
    report = nngrad.compare(net, {k: v * factor for k, v in params(right).items()})
    assert not report.agree
    assert all(t.status == "wrong_values" for t in report.tensors.values())
    scale = by_kind(report, "scale")
    assert len(scale) == 4 and all(d.factor == pytest.approx(factor) for d in scale)
    assert all(words in d.message for d in scale)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sign_error(layout):
    _, net, right, _ = setup(layout)
    report = nngrad.compare(net, {"dW2": -right["dW2"], "dB2": right["dB2"]})
    assert report.tensors["dB2"].status == "ok" and report.tensors["dW2"].status == "wrong_values"
    assert [d.message for d in report.diagnoses] == ["dW2 has the wrong sign"]


def test_equal_explanations_are_both_named():
    # mse, mean, m = 2 examples and n = 2 outputs: a factor of 2 is the missing 1/m, or the
    # missing 1/n of a mean over every element
    _, net, right, _ = setup("rows", m=2, widths=(3, 4, 2))
    report = nngrad.compare(net, {"dW2": right["dW2"] * 2})
    (d,) = by_kind(report, "scale")
    assert "several explanations fit equally" in d.message
    assert "{mse, reduction: batch_mean}" in by_kind(report, "loss")[0].message
    assert "1/m" in d.message and "m·n = 4 elements" in d.message and "factor of 2" not in d.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_transposed_weight_gradient(layout):
    _, net, right, _ = setup(layout)
    report = nngrad.compare(net, {"dW2": right["dW2"].T})
    assert report.tensors["dW2"].status == "wrong_shape"
    (d,) = by_kind(report, "transpose")
    assert d.tensor == "dW2" and "transpose" in d.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_bias_not_summed_over_the_batch(layout):
    _, net, right, _ = setup(layout)
    (d,) = nngrad.compare(net, {"dB2": right["dZ2"]}).diagnoses
    assert d.kind == "bias_reduction" and "not summed over the batch" in d.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_bias_summed_over_the_wrong_axis(layout):
    spec, net, right, _ = setup(layout)
    wrong = right["dZ2"].sum(axis=1 if layout == "rows" else 0, keepdims=True)
    (d,) = nngrad.compare(net, {"dB2": wrong}).diagnoses
    assert d.kind == "bias_reduction" and "wrong axis" in d.message


@pytest.mark.parametrize("layout, shape", [("rows", (1, 4)), ("columns", (4, 1))])
def test_bias_with_keepdims_is_wrong_shape(layout, shape):
    _, net, right, _ = setup(layout)
    report = nngrad.compare(net, {"dB1": right["dB1"].reshape(shape)})
    assert report.tensors["dB1"].status == "wrong_shape"
    (d,) = by_kind(report, "bias_reduction")
    assert d.message == f"dB1 has the shape {shape}; b1 is (4,): the values are right"
    assert "without keepdims" in d.hint and "keepdims=True" not in d.hint


@pytest.mark.parametrize("layout", LAYOUTS)
def test_seed_case_tanh_derivative_in_a_sigmoid_layer(layout):
    # the answer's dZ1 = W2.T dZ2 * (1 - A1**2): tanh' where the layer is a sigmoid
    spec, net, right, fwd = setup(layout)
    dZ1 = right["dA1"] * (1 - fwd["A1"] ** 2)
    mine = {"dZ1": dZ1, "dW1": weight_grad(spec, np.asarray(spec["X"]), dZ1),
            "dB1": bias_grad(spec, dZ1), "dW2": right["dW2"], "dB2": right["dB2"]}
    report = nngrad.compare(net, mine)
    assert {n for n, t in report.tensors.items() if t.status != "ok"} == {"dZ1", "dW1", "dB1"}
    found = by_kind(report, "activation_derivative")
    assert {d.tensor for d in found} == {"dZ1", "dW1", "dB1"}
    assert all("layer 1 uses tanh'" in d.message and "sigmoid'" in d.message for d in found)


def test_seed_case_from_dw_and_db_alone_in_andrew_ngs_convention():
    # columns layout, dZ without the 1/m, applied in dW and dB as the answer does
    spec, net, right, fwd = setup("columns")
    m = 5
    dZ1 = m * right["dA1"] * (1 - fwd["A1"] ** 2)
    mine = {"dW1": weight_grad(spec, np.asarray(spec["X"]), dZ1) / m,
            "dB1": bias_grad(spec, dZ1) / m, "dW2": right["dW2"], "dB2": right["dB2"]}
    report = nngrad.compare(net, mine)
    assert "layer 1 uses tanh'" in by_kind(report, "activation_derivative")[0].message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_derivative_taken_at_a_instead_of_z(layout):
    spec, net, right, fwd = setup(layout)
    s = 1 / (1 + np.exp(-fwd["A1"]))
    (d,) = nngrad.compare(net, {"dZ1": right["dA1"] * s * (1 - s)}).diagnoses
    assert "sigmoid'(A1) instead of sigmoid'(Z1)" in d.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_relu_mask_of_the_wrong_layer(layout):
    spec, net, right, fwd = setup(layout, hidden="relu", widths=(3, 4, 4, 2), seed=21)
    (d,) = nngrad.compare(net, {"dZ2": right["dA2"] * (fwd["Z1"] > 0)}).diagnoses
    assert d.kind == "activation_derivative" and "ReLU mask of layer 1" in d.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_earliest_wrong_layer_from_dw_and_db_alone(layout):
    spec, net, right, fwd = setup(layout, hidden="relu", widths=(3, 4, 4, 2), seed=22)
    W = [np.asarray(l["W"]) for l in spec["layers"]]
    dZ2 = right["dA2"]  # the ReLU derivative of layer 2 forgotten
    dZ1 = upstream(spec, W[1], dZ2) * (fwd["Z1"] > 0)
    mine = {"dW3": right["dW3"], "dB3": right["dB3"],
            "dW2": weight_grad(spec, fwd["A1"], dZ2), "dB2": bias_grad(spec, dZ2),
            "dW1": weight_grad(spec, np.asarray(spec["X"]), dZ1), "dB1": bias_grad(spec, dZ1)}
    report = nngrad.compare(net, mine)
    (earliest,) = by_kind(report, "earliest_wrong_layer")
    assert earliest.layer == 2 and "layer 1 is wrong too" in earliest.message
    assert report.tensors["dW3"].status == "ok"
    assert any(d.tensor == "dW2" and "no activation derivative" in d.message
               for d in by_kind(report, "activation_derivative"))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_compare_on_da(layout):
    _, net, right, _ = setup(layout)
    report = nngrad.compare(net, {"dA1": right["dA1"] * 5, "dA2": right["dA2"]})
    assert report.tensors["dA2"].status == "ok"
    (d,) = report.diagnoses
    assert d.tensor == "dA1" and d.kind == "scale" and "the 1/m of the mean" in d.message


def test_a_gradient_name_in_another_case_is_read_and_an_unknown_one_skipped():
    _, net, right, _ = setup("rows")
    report = nngrad.compare(net, {"dw1": right["dW1"], "dw_2": right["dW2"]})
    assert report.agree and list(report.tensors) == ["dW1"]
    with pytest.raises(nngrad.SpecError, match="holds no gradients: dw_1 .did you mean dW1.. is not"):
        nngrad.compare(net, {"dw_1": right["dW1"]})


def test_unexplained_mistake_in_dw_alone_names_the_earliest_layer():
    _, net, right, _ = setup("rows", widths=(3, 4, 4, 3))
    mine = params(right)
    mine["dW2"] = mine["dW2"] + np.random.default_rng(0).normal(0, 1, mine["dW2"].shape)
    report = nngrad.compare(net, mine)
    assert [(d.kind, d.layer) for d in report.diagnoses] == [("earliest_wrong_layer", 2)]


def test_the_output_of_nngrad_run_can_be_compared():
    spec, net, right, _ = setup("rows")
    res = nngrad.run(net)
    report = nngrad.compare(net, {**res.tensors, "loss": res.loss})
    assert report.agree and "Z1" not in report.tensors

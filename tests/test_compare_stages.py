"""nngrad compare on layers with stages, issue 15: the new names (dgammal, dbetal, dHl, dSl,
dxhatl, in any case) and their shapes, right gradients agreeing, the readings (Andrew Ng's
notation, relu'(0) = 1 after a norm, the penalty on gamma and beta), "as a consequence" carried
down through the stages, and the plain layers' diagnoses in a staged layer. The right values
and the mistakes come from the autograd oracle's arrays (see test_stage_diagnoses)."""

import json
import re

import numpy as np
import pytest

import nngrad
import oracle_stages
from nngrad.verify.compare import gradients_of
from test_cli import nngrad_cli
from test_diagnoses import write
from test_stage_diagnoses import (EARLIEST, LAYOUTS, arrays, differing, follow, layer_down, on,
                                  params_only, said, staged_spec, wrong)


def no_diagnoses(report):
    return [(d.tensor, d.kind, d.message) for d in report.diagnoses] == []


# --- right gradients agree ----------------------------------------------------------------------

STAGED = [(norm, drop) for norm in (None, "batchnorm", "layernorm")
          for drop in (None, "seed", "mask", "not_inverted") if norm or drop]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", ["vector", "2d"])
@pytest.mark.parametrize("norm, drop", STAGED)
def test_the_oracles_gradients_agree_with_every_name(layout, bias, norm, drop):
    spec = staged_spec(layout, norm, keep=0.7 if drop else None, widths=(3, 4, 3, 2), bias=bias,
                       mask=drop == "mask", inverted=drop != "not_inverted")
    net, right, _, _ = arrays(spec)
    assert any(n.startswith("dH") for n in right) == bool(drop)
    report = nngrad.compare(net, right)
    assert report.agree and no_diagnoses(report) and report.warnings == []
    assert set(report.tensors) == set(right)


def test_a_right_db_before_batchnorm_has_no_relative_error():
    # dB1 is 0 up to rounding: the oracle's and nngrad's noise differ, and has no scale
    spec = staged_spec("rows", "batchnorm", widths=(3, 4, 2))
    net, right, _, _ = arrays(spec)
    assert np.abs(right["dB1"]).max() < 1e-15
    report = nngrad.compare(net, {**right, "dB1": right["dB1"] + 1e-17})
    assert report.tensors["dB1"].status == "ok" and report.tensors["dB1"].max_rel_err == 0.0


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("biases", [False, True])
def test_right_gradients_with_regularization_and_the_input_gradient_agree(layout, biases):
    spec = {**staged_spec(layout, "batchnorm", keep=0.8, bias="2d"),
            "regularization": {"l2": 0.3, "form": "full", "l1": 0.01, "biases": biases}}
    net, _, _, _ = arrays(spec)
    right = oracle_stages.gradients(spec, input_grad=True)
    report = nngrad.compare(net, right)
    assert report.agree and no_diagnoses(report)
    assert {"dA0", "dgamma1", "dbeta1"} <= set(report.tensors)


def test_cli_right_gradients_exit_0_in_any_case(tmp_path):
    spec = staged_spec("columns", "layernorm", keep=0.75, bias="2d")
    _, right, _, _ = arrays(spec)
    cased = {{"dgamma1": "dGamma1", "dbeta1": "DBETA1", "dxhat1": "dXhat1", "dH1": "dh1"}
             .get(n, n): v for n, v in right.items()}
    proc = nngrad_cli("compare", *write(tmp_path, spec, cased), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["agree"] is True and doc["diagnoses"] == [] and proc.stderr == b""
    assert set(doc["tensors"]) == set(right)


def test_cli_compares_the_output_of_run(tmp_path):
    spec = staged_spec("rows", "batchnorm", keep=0.6)
    spec_path, _ = write(tmp_path, spec, {"dW1": np.zeros(1)})
    out = tmp_path / "run.npz"
    assert nngrad_cli("run", spec_path, "-o", str(out)).returncode == 0
    proc = nngrad_cli("compare", spec_path, str(out), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["agree"] is True and doc["warnings"] == []  # mu1, xhat1, mask1 ... passed over
    assert {"dgamma1", "dbeta1", "dH1", "dS1", "dxhat1"} <= set(doc["tensors"])


# --- names and shapes -----------------------------------------------------------------------------

def test_stage_names_are_read_in_any_case():
    spec = staged_spec("rows", "batchnorm", keep=0.7)
    net, right, _, _ = arrays(spec)
    mine = {"dGamma1": right["dgamma1"], "DBETA1": right["dbeta1"], "dXHAT1": right["dxhat1"],
            "ds1": right["dS1"], "dh1": right["dH1"]}
    report = nngrad.compare(net, mine)
    assert report.agree and set(report.tensors) == {"dgamma1", "dbeta1", "dxhat1", "dS1", "dH1"}
    assert report.warnings == []


def test_a_stage_gradient_of_a_layer_without_the_stage_is_skipped_with_the_reason():
    spec = staged_spec("rows", None, keep=0.7, widths=(3, 4, 3, 2))
    spec["layers"][1].pop("dropout")
    spec["layers"][0]["layernorm"] = {}
    net, right, _, _ = arrays(spec)
    mine = {**right, "dgamma2": np.ones(3), "dH2": np.ones((6, 3)), "dbeta3": np.ones(2),
            "dbeta_1": right["dbeta1"], "gamma1": np.ones(4)}
    report = nngrad.compare(net, mine)
    assert report.agree and set(report.tensors) == set(right)
    (line,) = report.warnings
    assert "dgamma2 (layer 2 has no batchnorm or layernorm)" in line
    assert "dH2 (layer 2 has no dropout)" in line and "dbeta3 (layer 3 has no" in line
    assert "dbeta_1 (did you mean dbeta1?)" in line and "gamma1 (did you mean dgamma1?)" in line
    with pytest.raises(nngrad.SpecError, match=r"holds no gradients: dgamma2 \(layer 2 has no "
                                               r"batchnorm or layernorm\) is not a gradient"):
        nngrad.compare(net, {"dgamma2": np.ones(3)})


def test_the_loaders_check_knows_no_network_and_lets_stage_names_through():
    got = gradients_of({"dGamma1": [1.0], "dH2": [[1.0]], "dgamma3": [1.0], "mask1": [1]}, 3)
    assert set(got) == {"dgamma1", "dH2"} and got.skipped == ("dgamma3",)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dgamma_comes_in_gammas_shape_as_given(layout):
    spec = staged_spec(layout, "batchnorm", bias="2d")
    net, right, _, P = arrays(spec)
    assert right["dgamma1"].shape == P["gamma1"].shape == ((1, 4) if layout == "rows" else (4, 1))
    report = nngrad.compare(net, {**right, "dgamma1": right["dgamma1"].reshape(-1)})
    assert wrong(report) == {"dgamma1"}
    assert report.tensors["dgamma1"].status == "wrong_shape"
    (d,) = on(report, "dgamma1")
    assert d.kind == "bias_reduction" and "the values are right" in d.message
    assert "keepdims" in d.hint and "gamma1" in d.hint


# --- as a consequence, through the stages ---------------------------------------------------------

def unknown_dh2(layout):
    spec = staged_spec(layout, "batchnorm", keep=0.7, widths=(3, 4, 3, 2))
    net, right, fwd, P = arrays(spec)
    ramp = np.linspace(1.0, 2.0, right["dH2"].size).reshape(right["dH2"].shape)
    return spec, net, right, fwd, P, right["dH2"] * ramp  # a mistake no hypothesis knows


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_wrong_dh_carries_down_and_layer_1_is_told_a_consequence(layout):
    spec, net, right, fwd, P, dH2 = unknown_dh2(layout)
    mine = {**right, **follow(spec, fwd, P, 2, "dH", dH2)}
    report = nngrad.compare(net, mine)
    assert wrong(report) == differing(mine, right) >= {"dH2", "dZ2", "dW2", "dA1", "dZ1", "dW1"}
    (first,) = report.diagnoses
    assert first.kind == EARLIEST and first.tensor == "dH2"
    assert "layer 1 is wrong as a consequence" in first.message and "the given dZ2" in first.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_consequence_counts_the_penalty_on_w_b_gamma_and_beta_once(layout):
    spec = staged_spec(layout, "layernorm", keep=0.7, widths=(3, 4, 3, 2))
    spec["regularization"] = {"l2": 0.2, "biases": True}  # half: the penalty's gradient is 0.2 p
    net, right, fwd, P = arrays(spec)
    ramp = np.linspace(1.0, 2.0, right["dH2"].size).reshape(right["dH2"].shape)
    mine = follow(spec, fwd, P, 2, "dH", right["dH2"] * ramp)
    for name in mine:
        kind, l = name.rstrip("0123456789"), name[len(name.rstrip("0123456789")):]
        if kind in ("dW", "dB", "dgamma", "dbeta"):
            mine[name] = mine[name] + 0.2 * P[{"dW": "W", "dB": "b"}.get(kind, kind[1:]) + l]
    mine = {**right, **mine}
    report = nngrad.compare(net, mine)
    assert wrong(report) == differing(mine, right) >= {"dW1", "dgamma1", "dbeta1"}
    (first,) = report.diagnoses
    assert first.kind == EARLIEST and "layer 1 is wrong as a consequence" in first.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layer_1_follows_from_the_given_dh_when_no_dz_is_given(layout):
    spec, net, right, fwd, P, dH2 = unknown_dh2(layout)
    mine = {n: v for n, v in {**right, **follow(spec, fwd, P, 2, "dH", dH2)}.items()
            if n not in ("dS2", "dxhat2", "dZ2")}
    report = nngrad.compare(net, mine)
    (first,) = report.diagnoses
    assert "wrong as a consequence" in first.message and "the given dH2" in first.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layer_1_wrong_on_its_own_is_not_a_consequence(layout):
    spec, net, right, fwd, P, dH2 = unknown_dh2(layout)
    mine = {**right, **follow(spec, fwd, P, 2, "dH", dH2)}
    mine["dW1"] = mine["dW1"] * 1.5
    report = nngrad.compare(net, mine)
    first = [d for d in report.diagnoses if d.kind == EARLIEST][0]
    assert "layer 1 is wrong too" in first.message and "consequence" not in first.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_dropout_mistake_in_layer_2_leaves_layer_1_to_the_consequence(layout):
    spec = staged_spec(layout, "layernorm", keep=0.6, widths=(3, 4, 3, 2))
    net, right, fwd, P = arrays(spec)
    mine = {**right, **follow(spec, fwd, P, 2, "dH", right["dA2"] / 0.6)}  # the mask left out
    report = nngrad.compare(net, mine)
    bad = differing(mine, right)
    assert wrong(report) == bad
    for name in bad:
        kinds = {d.kind for d in on(report, name)}
        assert kinds == ({"dropout_backward"} if name.endswith("2") else set()), name
    assert any("layer 1 is wrong as a consequence" in d.message for d in report.diagnoses)


# --- the readings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_andrew_ngs_notation_covers_the_stage_gradients(layout):
    spec = staged_spec(layout, "batchnorm", keep=0.7)
    spec["loss"] = {"name": "mse", "reduction": "batch_mean"}
    net, right, _, _ = arrays(spec)
    m = 6
    ng = {n: v * m if n.rstrip("0123456789") in ("dA", "dH", "dS", "dxhat", "dZ") else v
          for n, v in right.items()}
    report = nngrad.compare(net, ng)
    assert report.agree and report.settings["notation"] == "ng"
    assert any("dH, dS, dxhat" in n and "dgamma" in n for n in report.notes)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_relu_prime_of_zero_as_one_after_batchnorm_is_a_convention(layout):
    # Z1's columns are symmetric about 0: mu = 0, the middle example's xhat and S are exactly 0
    X = [[-1.0], [0.0], [1.0]]
    W1, W2, T = [[1.0, 2.0, -1.5]], [[0.5], [-0.7], [0.9]], [[0.3], [-0.2], [0.5]]
    tr = (lambda a: np.asarray(a).T.tolist()) if layout == "columns" else (lambda a: a)
    spec = {"layout": layout, "loss": "mse", "X": tr(X), "T": tr(T), "layers": [
        {"W": tr(W1), "activation": "relu", "batchnorm": {"beta": [0.0, 0.0, 0.0]}},
        {"W": tr(W2), "b": [0.1], "activation": "identity"}]}
    net, right, fwd, P = arrays(spec)
    assert (fwd["S1"] == 0).sum() == 3
    dS1 = right["dA1"] * (fwd["S1"] >= 0)
    mine = {**right, **layer_down(spec, fwd, P, 1, "dS", dS1)}
    assert differing(mine, right)
    report = nngrad.compare(net, mine)
    assert report.agree and no_diagnoses(report)
    assert any("subgradient" in n and "an S, after a norm" in n for n in report.notes)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_penalty_on_gamma_and_beta(layout):
    spec = {**staged_spec(layout, "layernorm"), "regularization": {"l2": 0.2, "biases": True}}
    net, right, _, P = arrays(spec)
    report = nngrad.compare(net, {**right, "dgamma1": right["dgamma1"] - 0.2 * P["gamma1"]})
    assert wrong(report) == {"dgamma1"}
    (d,) = on(report, "dgamma1")
    assert d.kind == "regularization" and "lacks the penalty's gradient" in d.message
    plain = {**spec, "regularization": {"l2": 0.2}}
    net, right, _, P = arrays(plain)
    report = nngrad.compare(net, {**right, "dbeta1": right["dbeta1"] + 0.2 * P["beta1"]})
    (d,) = on(report, "dbeta1")
    assert d.kind == "regularization" and "gradient of beta1" in d.message and "biases: false" in d.message


# --- the plain layers' diagnoses, in a layer with stages -------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("norm", ["batchnorm", None])
def test_another_activations_derivative_in_a_staged_layer_is_read_at_its_input(layout, norm):
    spec = staged_spec(layout, norm, keep=0.8, hidden="sigmoid")
    net, right, fwd, P = arrays(spec)
    x, kind = ("S1", "dS") if norm else ("Z1", "dZ")
    wrong_input = right["dH1"] * (1 - np.tanh(fwd[x]) ** 2)  # tanh' in a sigmoid layer
    mine = {**right, **layer_down(spec, fwd, P, 1, kind, wrong_input)}
    report = nngrad.compare(net, mine)
    bad = differing(mine, right)
    assert wrong(report) == bad and f"{kind}1" in bad and "dH1" not in bad
    for name in bad:
        assert [d.kind for d in on(report, name)] == ["activation_derivative"], name
    assert re.search(r"tanh", said(report, f"{kind}1"))
    assert f"{kind}1 = dH1 * sigmoid'({x})" in said(report, f"{kind}1")
    assert not [d for d in report.diagnoses if d.tensor not in bad]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_plain_mistakes_in_a_staged_net_are_named_as_before(layout):
    spec = staged_spec(layout, "layernorm", keep=0.7, widths=(3, 4, 4, 2))
    net, right, fwd, P = arrays(spec)
    report = nngrad.compare(net, {**params_only(right), "dW2": right["dW2"].T,
                                  "dB1": right["dZ1"], "dW3": 2 * right["dW3"]})
    assert wrong(report) == {"dW2", "dB1", "dW3"}
    assert {d.kind for d in on(report, "dW2")} == {"transpose"}
    assert {d.kind for d in on(report, "dB1")} == {"bias_reduction"}
    assert "not summed" in said(report, "dB1")
    assert {d.kind for d in on(report, "dW3")} == {"scale"}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_scaled_stage_gradient_is_a_scale_and_nothing_else(layout):
    spec = staged_spec(layout, "batchnorm", keep=0.5)
    net, right, fwd, P = arrays(spec)
    report = nngrad.compare(net, {"dxhat1": 3 * right["dxhat1"], "dgamma1": right["dgamma1"]})
    assert wrong(report) == {"dxhat1"}
    assert [d.kind for d in on(report, "dxhat1")] == ["scale"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_stage_mistake_that_the_given_dh_contradicts_is_not_named(layout):
    # dgamma1 = 2 dgamma1 is what the 1/keep applied twice gives (keep = 1/2), but the given dH1
    # is right: dgamma1 cannot follow from that mistake
    spec = staged_spec(layout, "layernorm", keep=0.5)
    net, right, _, _ = arrays(spec)
    report = nngrad.compare(net, {**right, "dgamma1": 2 * right["dgamma1"]})
    assert wrong(report) == {"dgamma1"}
    assert [d.kind for d in on(report, "dgamma1")] == ["scale"]
    alone = nngrad.compare(net, {"dgamma1": 2 * right["dgamma1"]})  # nothing contradicts it
    assert "dropout_backward" in [d.kind for d in on(alone, "dgamma1")]  # (and another loss)
    assert "1/keep applied twice" in said(alone, "dgamma1")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dgamma_and_dbeta_summed_over_the_wrong_axis_or_every_entry(layout):
    spec = staged_spec(layout, "batchnorm", keep=0.7)
    net, right, fwd, _ = arrays(spec)
    features = 1 if layout == "rows" else 0
    unsummed = right["dS1"] * fwd["xhat1"]
    report = nngrad.compare(net, {**right, "dgamma1": unsummed.sum(axis=features),
                                  "dbeta1": np.sum(right["dS1"]).reshape(1)})
    assert wrong(report) == {"dgamma1", "dbeta1"}
    (d,) = on(report, "dgamma1")
    assert d.kind == "bias_reduction" and "dS1 * xhat1 summed over the wrong axis" in d.message
    (d,) = on(report, "dbeta1")
    assert d.kind == "bias_reduction" and "dS1 summed over every entry" in d.message

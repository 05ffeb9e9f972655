"""nngrad explain for layers with batchnorm, layernorm and dropout: every equation it prints, read
back from its text, its NumPy line or its tree, gives the autograd oracle's numbers
(tests/oracle_stages.py). mu, var and sigma keep the summed axis; sigma = sqrt(var + eps), and
cs231n's dvar and dmu (the staged graph's partials, from the oracle's dxhat) are worked out here.
"""

import json
import re

import autograd.numpy as anp
import numpy as np
import pytest
import yaml
from autograd import grad

import oracle_stages
from conftest import random_spec
from nngrad.specs.read import from_mapping
from test_explain import (ANNOTATION, assert_walk, equations, explain, functions, run_explain,
                          to_numpy)

NORM_KEYS = ("batchnorm", "layernorm")


def stage_spec(layout="rows", norm="batchnorm", drop="mask", inverted=True, hidden="relu", m=5,
               bias="vector", gamma=True, eps=1e-5, reg=None, seed=3, widths=(3, 4, 3, 2)):
    """A random spec whose hidden layers have ``norm`` and ``drop`` ("mask", "seed" or None)."""
    spec = json.loads(json.dumps(random_spec(seed=seed, widths=widths, hidden=hidden, layout=layout,
                                             bias=bias, m=m)))  # no shared mapping: no YAML anchor
    rng = np.random.default_rng(seed + 100)
    rows = layout == "rows"
    for l, layer in enumerate(spec["layers"][:-1]):
        n = widths[l + 1]
        if norm:
            layer[norm] = {"eps": eps}
            if gamma:
                shape = (n,) if bias != "2d" else ((1, n) if rows else (n, 1))
                layer[norm].update(gamma=rng.uniform(0.5, 1.5, shape).tolist(),
                                   beta=rng.normal(0, 0.5, shape).tolist())
        if drop:
            layer["dropout"] = {"keep": 0.6, **({"seed": 11 + l} if drop == "seed" else {
                "mask": (rng.uniform(size=(m, n) if rows else (n, m)) < 0.6).astype(int).tolist()})}
            if not inverted:
                layer["dropout"]["inverted"] = False
    if reg:
        spec["regularization"] = reg
    return spec


def _norm_of(layer):
    return next((k for k in NORM_KEYS if k in layer), None)


def oracle_env(spec) -> dict:
    """Every symbol by the oracle: the forward values and gradients, the parameters as they are
    added (a row or a column), mu and var with the summed axis kept, sigma, dvar and dmu."""
    rows = spec.get("layout", "rows") == "rows"
    env = {**oracle_stages.forward(spec), **oracle_stages.gradients(spec, input_grad=True),
           "X": np.asarray(spec["X"], float), "L": oracle_stages.loss(spec), "T": np.asarray(spec["T"], float)}
    for name, p in oracle_stages.params_of(spec).items():
        env[name] = p if name.startswith("W") else p.reshape((1, -1) if rows else (-1, 1))
    for l, layer in enumerate(spec["layers"], start=1):
        key = _norm_of(layer)
        if key is None:
            continue
        over = (0 if rows else 1) if key == "batchnorm" else (1 if rows else 0)
        Z, dxhat, eps = env[f"Z{l}"], env[f"dxhat{l}"], layer[key].get("eps", 1e-5)
        kept = tuple(1 if i == over else k for i, k in enumerate(Z.shape))
        mu, var = env[f"mu{l}"].reshape(kept), env[f"var{l}"].reshape(kept)
        env.update({f"mu{l}": mu, f"var{l}": var, f"sigma{l}": np.sqrt(var + eps),
                    f"dvar{l}": grad(lambda v: anp.sum(dxhat * (Z - mu) / anp.sqrt(v + eps)))(var),
                    f"dmu{l}": grad(lambda u: anp.sum(dxhat * (Z - u) / anp.sqrt(
                        anp.mean((Z - u) ** 2, axis=over, keepdims=True) + eps)))(mu)})
    return env


def read_back(rhs: str, env: dict, spec):
    """The text of an equation as NumPy, each annotated shape asserted where it stands."""
    def _s(x, shape):
        if len(shape) == 1 and np.shape(x) in ((1, shape[0]), (shape[0], 1)):
            return np.reshape(x, shape)
        assert np.shape(x) == shape, f"{np.shape(x)} annotated {shape} in {rhs}"
        return x

    code = to_numpy(rhs).replace("³", "**3").replace("√(", "np.sqrt(")
    alpha = next((a["alpha"] for a in (layer["activation"] for layer in spec["layers"])
                  if isinstance(a, dict)), None)
    return eval(code, {**functions(spec, alpha), "_s": _s}, env)


def assert_text_is_the_oracles(output: str, spec) -> list:
    env, found = oracle_env(spec), equations(output)
    assert found
    for name, shape, rhs in found:
        given = () if shape == "scalar" else tuple(int(k) for k in shape.split("×"))
        assert np.shape(env[name]) == given, (name, shape)
        np.testing.assert_allclose(np.reshape(read_back(rhs, env, spec), given), env[name], rtol=1e-9,
                                   atol=1e-12, err_msg=f"{name} = {rhs}")
    return found


def rhs_of(output: str, name: str) -> list:
    return [rhs for n, _, rhs in equations(output) if n == name]


CASES = [(norm, drop, inverted) for norm in (*NORM_KEYS, None) for drop, inverted in
         (("mask", True), ("seed", True), ("seed", False), (None, True)) if norm or drop]


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("norm,drop,inverted", CASES)
def test_every_printed_equation_is_the_oracles(tmp_path, layout, norm, drop, inverted):
    spec = stage_spec(layout, norm, drop, inverted)
    result = explain(tmp_path, spec)
    assert result.exit_code == 0, result.output
    names = {name for name, _, _ in assert_text_is_the_oracles(result.output, spec)}
    if norm:
        assert {"mu1", "var1", "sigma1", "xhat1", "S1", "dxhat1", "dvar1", "dmu1", "dgamma2", "dbeta2"} <= names
    if drop:
        assert {"H1", "A1", "dH1", "dH2"} <= names


@pytest.mark.parametrize("hidden", ["identity", "sigmoid", "tanh", "gelu", "softmax",
                                    {"name": "leaky_relu", "alpha": 0.2}])
def test_every_hidden_activation_after_a_norm_is_the_oracles(tmp_path, hidden):
    spec = stage_spec("columns", "batchnorm", "seed", hidden=hidden)
    assert_text_is_the_oracles(explain(tmp_path, spec).output, spec)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("bias,gamma", [("2d", True), ("none", False), ("vector", False)])
def test_every_bias_and_gamma_form_keeps_its_shape(tmp_path, layout, bias, gamma):
    spec = stage_spec(layout, "layernorm", None, bias=bias, gamma=gamma, eps=1e-3)
    found = assert_text_is_the_oracles(explain(tmp_path, spec).output, spec)
    given = {name: shape for name, shape, _ in found}
    assert given["dgamma1"] == given["dB1"] == ("1×4" if bias == "2d" and layout == "rows" else
                                                 "4×1" if bias == "2d" else "4")


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_gamma_and_beta_of_different_shapes_keep_their_own(tmp_path, layout):
    spec = stage_spec(layout, "batchnorm", None, reg={"l2": 0.1, "biases": True})
    norm = spec["layers"][0]["batchnorm"]
    norm["gamma"] = [[g] for g in norm["gamma"]] if layout == "columns" else [norm["gamma"]]
    output = explain(tmp_path, spec).output
    given = {name: shape for name, shape, _ in assert_text_is_the_oracles(output, spec)}
    assert given["dgamma1"] == ("4×1" if layout == "columns" else "1×4") and given["dbeta1"] == "4"
    line = next(l for l in output.splitlines() if "numpy: dbeta1 = " in l)
    assert "keepdims" not in line


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_the_penalty_reaches_dgamma_and_dbeta_with_biases(tmp_path, layout):
    spec = stage_spec(layout, "batchnorm", "mask", reg={"l2": 0.3, "l1": 0.01, "biases": True})
    output = explain(tmp_path, spec).output
    assert_text_is_the_oracles(output, spec)
    assert rhs_of(output, "dgamma1")[0].endswith("+ 0.3 gamma1 (4) + 0.01 sign(gamma1 (4))")


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("norm", NORM_KEYS)
def test_the_trees_evaluate_to_the_oracle(layout, norm):
    import nngrad

    spec = stage_spec(layout, norm, "seed", reg={"l2": 0.1})
    env = oracle_env(spec)
    for eq in nngrad.explain(from_mapping(spec)).equations:
        np.testing.assert_allclose(eq.rhs.value(env), env[eq.lhs.name], rtol=1e-9, atol=1e-12,
                                   err_msg=eq.lhs.name)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("norm,drop,inverted", [("batchnorm", "mask", True), ("layernorm", "seed", False)])
def test_values_in_json_are_the_oracles(tmp_path, layout, norm, drop, inverted):
    spec = stage_spec(layout, norm, drop, inverted)
    result = explain(tmp_path, spec, "--values", "--format", "json")
    assert result.exit_code == 0, result.output
    env = oracle_env(spec)
    for eq in json.loads(result.output)["equations"]:
        assert eq["shape"] == list(np.shape(env[eq["name"]])), eq["name"]
        np.testing.assert_allclose(np.asarray(eq["value"], float).reshape(eq["shape"]), env[eq["name"]],
                                   rtol=1e-9, atol=1e-12, err_msg=eq["name"])


def test_values_in_text_are_the_oracles_to_the_digits_shown(tmp_path):
    spec = stage_spec("rows", "batchnorm", "mask", m=3)  # 12 entries: shown in full
    lines = explain(tmp_path, spec, "--values").output.splitlines()
    env = oracle_env(spec)
    for name in ("dH1", "dS1", "dxhat1", "dvar1", "dmu1", "dZ1", "dgamma1", "dbeta1", "sigma1"):
        start = next(i for i, line in enumerate(lines) if line.startswith(f"   {name} ("))
        end = next(i for i in range(start + 1, len(lines)) if not lines[i].lstrip().startswith("= "))
        shown = [float(x) for x in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", lines[end - 1].split("= ", 1)[1])]
        np.testing.assert_allclose(shown, env[name].ravel(), rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_numpy_lines_compute_the_oracles_values(tmp_path, layout):
    spec = stage_spec(layout, "layernorm", "mask", reg={"l2": 0.2, "biases": True})
    env = oracle_env(spec)
    output = explain(tmp_path, spec).output
    lines = [line.split("numpy: ", 1)[1] for line in output.splitlines() if "numpy: " in line]
    assert len(lines) == len(equations(output))
    for line in lines:
        name, code = line.split(" = ", 1)
        np.testing.assert_allclose(eval(code, functions(spec), env), env[name], rtol=1e-9, atol=1e-12,
                                   err_msg=line)


@pytest.mark.parametrize("layout,norm,stat", [("rows", "batchnorm", "1×4"), ("rows", "layernorm", "5×1"),
                                              ("columns", "batchnorm", "4×1"), ("columns", "layernorm", "1×5")])
def test_mu_and_var_are_per_feature_or_per_example(tmp_path, layout, norm, stat):
    found = {name: shape for name, shape, _ in equations(explain(tmp_path, stage_spec(layout, norm, None)).output)}
    assert found["mu1"] == found["var1"] == found["sigma1"] == found["dvar1"] == found["dmu1"] == stat


def test_batchnorm_gives_the_staged_graph_and_the_three_term_form(tmp_path):
    output = explain(tmp_path, stage_spec("rows", "batchnorm", None, m=5)).output
    assert rhs_of(output, "dZ1") == [
        "dxhat1 (5×4) ⊘ sigma1 (1×4) + 2 (dvar1 (1×4) ⊙ (Z1 (5×4) − mu1 (1×4))) / 5 + dmu1 (1×4) / 5",
        "(gamma1 (1×4) ⊘ sigma1 (1×4)) ⊙ (5 dS1 (5×4) − Σ_rows(dS1 (5×4)) (1×4) − xhat1 (5×4) ⊙ "
        "Σ_rows(dS1 (5×4) ⊙ xhat1 (5×4)) (1×4)) / 5"]
    assert rhs_of(output, "dgamma1") == ["Σ_rows(dS1 (5×4) ⊙ xhat1 (5×4)) (4)"]
    assert rhs_of(output, "dbeta1") == ["Σ_rows(dS1 (5×4)) (4)"]
    assert rhs_of(output, "xhat1") == ["(Z1 (5×4) − mu1 (1×4)) ⊘ sigma1 (1×4)"]
    assert rhs_of(output, "sigma1") == ["√(var1 (1×4) + 1e-05)"]


def test_layernorm_sums_over_each_examples_features(tmp_path):
    output = explain(tmp_path, stage_spec("rows", "layernorm", None, m=5)).output
    assert rhs_of(output, "mu1") == ["Σ_cols(Z1 (5×4)) (5×1) / 4"]
    assert rhs_of(output, "dZ1")[1] == ("(4 dxhat1 (5×4) − Σ_cols(dxhat1 (5×4)) (5×1) − xhat1 (5×4) ⊙ "
                                        "Σ_cols(dxhat1 (5×4) ⊙ xhat1 (5×4)) (5×1)) ⊘ sigma1 (5×1) / 4")
    assert rhs_of(output, "dgamma1") == ["Σ_rows(dS1 (5×4) ⊙ xhat1 (5×4)) (4)"]  # still over the batch


@pytest.mark.parametrize("inverted,forward,backward", [
    (True, "H1 (5×4) ⊙ mask1 (5×4) / 0.6", "dA1 (5×4) ⊙ mask1 (5×4) / 0.6"),
    (False, "H1 (5×4) ⊙ mask1 (5×4)", "dA1 (5×4) ⊙ mask1 (5×4)")])
def test_dropout_backward_uses_the_same_mask_and_keep(tmp_path, inverted, forward, backward):
    output = explain(tmp_path, stage_spec("rows", None, "seed", inverted)).output
    assert rhs_of(output, "A1") == [forward] and rhs_of(output, "dH1") == [backward]
    assert "the SAME mask1 as the forward pass" in output
    assert "np.random.RandomState(11).rand(5, 4) < 0.6" in output
    assert rhs_of(output, "dZ1") == ["dH1 (5×4) ⊙ [Z1 > 0] (5×4)"]  # f' of Z, without a norm


def test_a_layers_backward_runs_dropout_activation_then_norm(tmp_path):
    names = [name for name, _, _ in equations(explain(tmp_path, stage_spec(), "--layer", "1").output)]
    assert names == ["Z1", "mu1", "var1", "sigma1", "xhat1", "S1", "H1", "A1", "dA1", "dH1", "dS1",
                     "dxhat1", "dvar1", "dmu1", "dZ1", "dgamma1", "dbeta1", "dZ1", "dW1", "dB1", "dA0"]


def test_the_layer_heading_names_its_stages(tmp_path):
    output = explain(tmp_path, stage_spec(inverted=False)).output
    assert " layer 1: batchnorm → relu → dropout (keep 0.6, not inverted)" in output.splitlines()
    assert "batchnorm in training mode" in output.splitlines()[0]


def test_a_one_example_batch_gives_s_equal_to_beta(tmp_path):
    spec = stage_spec("rows", "batchnorm", None, m=1)
    result = explain(tmp_path, spec, "--values", "--format", "json")
    values = {eq["name"]: eq["value"] for eq in json.loads(result.output)["equations"]}
    assert values["var1"] == [[0.0] * 4]
    np.testing.assert_array_equal(values["S1"], [spec["layers"][0]["batchnorm"]["beta"]])
    assert "with m = 1, var1 = 0, so xhat1 = 0 and S1 = beta1" in explain(tmp_path, spec).output


def test_markdown_puts_each_shape_under_its_factor(tmp_path):
    spec = stage_spec("columns", "batchnorm", "mask")
    text = equations(explain(tmp_path, spec).output)
    result = explain(tmp_path, spec, "--format", "markdown", "--values")
    assert result.exit_code == 0
    blocks = re.findall(r"\$\$\n(.*?)\n\$\$", result.output)
    assert len(blocks) == len(text)
    for (name, shape, rhs), block in zip(text, blocks):
        shapes = [s for s in ANNOTATION.findall(f"{name} ({shape}) = {rhs}") if s != "scalar"]
        assert sorted(re.findall(r"\\underset\{([^}]*)\}", block)) == \
            sorted(s.replace("×", r" \times ") for s in shapes), block
    md = result.output
    assert "### Layer 1: batchnorm → relu → dropout (keep 0.6)" in md
    for tex in (r"{\hat{x}_{1}}", r"{\mu_{1}}", r"{\sigma^{2}_{1}}", r"\sqrt{", r"10^{-5}", r"{d\gamma_{1}}",
                r"{\mathrm{mask}_{1}}"):
        assert tex in md, tex
    assert "`dgamma1 = (dS1 * xhat1).sum(axis=1)`" in md


def _walk_spec(tmp_path, change):
    spec = stage_spec("rows", "batchnorm", "mask")
    change(spec)
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(spec))
    return run_explain(path)


def test_the_shape_walk_follows_the_stages_to_a_transposed_weight(tmp_path):
    def transpose_w2(spec):
        spec["layers"][1]["W"] = np.asarray(spec["layers"][1]["W"]).T.tolist()

    proc = _walk_spec(tmp_path, transpose_w2)
    assert_walk(proc, "Z2 (?) = A1 (5×4) · W2 (3×4)", "did you mean its transpose (4×3)?")
    assert "   A1 (5×4) = H1 (5×4) ⊙ mask1 (5×4) / 0.6" in proc.stderr
    assert "   S1 (5×4) = gamma1 (1×4) ⊙ xhat1 (5×4) + beta1 (1×4)" in proc.stderr


def test_the_shape_walk_stops_at_a_gamma_of_the_wrong_length(tmp_path):
    proc = _walk_spec(tmp_path, lambda spec: spec["layers"][0]["batchnorm"].update(gamma=[1.0, 2.0]))
    assert_walk(proc, "S1 (?) = gamma1 (2) ⊙ xhat1 (5×4)", "gamma1 must be (4,) or (1×4), one per unit")


def test_the_shape_walk_stops_at_a_mask_of_the_wrong_shape(tmp_path):
    proc = _walk_spec(tmp_path, lambda spec: spec["layers"][0]["dropout"].update(mask=[[1, 0, 1, 1]]))
    assert_walk(proc, "A1 (5×4) = H1 (5×4) ⊙ mask1 (1×4) / 0.6", "mask1 must be (5×4), the shape of A1")

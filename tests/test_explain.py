"""nngrad explain: every printed equation, read back from its text, gives the oracle's numbers.

The text of each equation (``dW4 (6×1) = A3ᵀ (6×1) · dZ4 (1×1)``) is translated into NumPy by
the small reader below, which knows only the notation, not nngrad. Each annotated shape is
asserted where it stands, and the value is compared with the autograd oracle's.
"""

import json
import re

import numpy as np
import pytest
import yaml
from autograd import elementwise_grad
from click.testing import CliRunner

from conftest import SAMPLES, random_spec
from nngrad.cli import cli
from nngrad.numerics.activations import ACTIVATIONS as ACTIVATION_TABLE
import oracle

EQUATION = re.compile(r"^   (\w+) \(([^)]*)\) = (.*)$")
ANNOTATION = re.compile(r" \((\d+(?:×\d+)*|scalar|\?)\)")
IDENT = re.compile(r"[\w′ᵀ]")


def functions(spec, alpha=None):
    """The reader's functions: every activation by the name explain writes it under, computed by
    the oracle; the derivative gelu′, and the notation's sums."""
    rows = spec.get("layout", "rows") == "rows"
    axis = -1 if rows else 0

    def act(name):
        given = {"alpha": alpha} if alpha is not None and "alpha" in ACTIVATION_TABLE[name].params else {}
        return lambda z: oracle.ACT[name](z, axis, **given)

    return {
        **{record.notation.text: act(name) for name, record in ACTIVATION_TABLE.items()},
        **{f"{record.notation.text}_prime": elementwise_grad(act(name))
           for name, record in ACTIVATION_TABLE.items() if record.elementwise},
        "sigmoid": act("sigmoid"), "log": np.log, "abs": np.abs, "sign": np.sign,
        "Σ_rows": lambda m: m.sum(axis=0, keepdims=True), "Σ_cols": lambda m: m.sum(axis=1, keepdims=True),
        "Σ_rows_flat": lambda m: m.sum(axis=0), "Σ_cols_flat": lambda m: m.sum(axis=1),
        "Σ": np.sum, "_m": lambda b: np.asarray(b, dtype=float), "np": np,
    }


def _operand_start(s: str, end: int) -> int:
    """Where the operand that ends just before ``end`` starts: a name, or a bracketed group,
    or a call ``f(...)``."""
    i = end - 1
    if s[i] in ")]":
        depth = 0
        while True:
            depth += s[i] in ")]"
            depth -= s[i] in "(["
            if depth == 0:
                break
            i -= 1
    else:
        i += 1
    while i > 0 and IDENT.match(s[i - 1]):
        i -= 1
    return i


def to_numpy(rhs: str) -> str:
    """The notation as Python: each ``x (r×c)`` becomes ``_s(x, (r, c))``, which checks the shape."""
    while (m := ANNOTATION.search(rhs)) is not None:
        start = _operand_start(rhs, m.start())
        operand = rhs[start:m.start()]
        dims = m.group(1)
        shape = "()" if dims == "scalar" else "(" + ", ".join(dims.split("×")) + ",)"
        if operand.startswith(("Σ_rows(", "Σ_cols(")) and "×" not in dims:
            operand = operand.replace("(", "_flat(", 1)
        rhs = f"{rhs[:start]}_s({operand}, {shape}){rhs[m.end():]}"
    for a, b in (("ᵀ", ".T"), ("·", "@"), ("⊙", "*"), ("⊘", "/"), ("−", "-"), ("²", "**2"),
                 ("≤", "<="), ("[", "_m("), ("]", ")"), ("′(", "_prime(")):
        rhs = rhs.replace(a, b)
    return re.sub(r"(\d) (?=[(_A-Za-zσ])", r"\1 * ", rhs)


def evaluate(rhs: str, env: dict, spec, alpha=None):
    def _s(x, shape):
        if len(shape) == 1 and np.shape(x) in ((1, shape[0]), (shape[0], 1)):
            return np.reshape(x, shape)  # a bias as given, (n,), where it is added as a row or column
        assert np.shape(x) == shape, f"{np.shape(x)} annotated {shape} in {rhs}"
        return x

    return eval(to_numpy(rhs), {**functions(spec, alpha), "_s": _s}, env)


def oracle_env(spec) -> dict:
    rows = spec.get("layout", "rows") == "rows"
    env = {**oracle.forward(spec), **oracle.gradients(spec, input_grad=True),
           "X": np.asarray(spec["X"], float)}
    params = oracle.params_of(spec)
    for l in range(len(spec["layers"])):
        W, b = params[2 * l], params[2 * l + 1]
        env[f"W{l + 1}"] = W
        env[f"b{l + 1}"] = b.reshape((1, -1) if rows else (-1, 1))
    T = np.asarray(spec["T"], float)
    if T.ndim == 1:
        Y = env[f"A{len(spec['layers'])}"]
        onehot = np.eye(Y.shape[1] if rows else Y.shape[0])[T.astype(int)]
        T = onehot if rows else onehot.T
    env["T"], env["L"] = T, oracle.loss(spec)
    return env


def explain(tmp_path, spec, *args):
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(spec))
    return CliRunner().invoke(cli, ["explain", str(path), *args])


def equations(output: str):
    return [m.groups() for m in map(EQUATION.match, output.splitlines()) if m]


def assert_text_matches_oracle(output: str, spec, alpha=None):
    env = oracle_env(spec)
    found = equations(output)
    assert found
    for name, lhs_shape, rhs in found:
        expected = env[name]
        given = () if lhs_shape == "scalar" else tuple(int(n) for n in lhs_shape.split("×"))
        assert np.shape(expected) == given, (name, lhs_shape)
        value = evaluate(rhs, env, spec, alpha)
        assert np.size(value) == np.size(expected), (name, rhs)
        np.testing.assert_allclose(np.reshape(value, given), expected, rtol=1e-9, atol=1e-12,
                                   err_msg=f"{name} = {rhs}")
    return found


ACTIVATIONS = sorted(ACTIVATION_TABLE)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("hidden", ACTIVATIONS)
def test_every_equation_of_every_activation_is_the_oracles(tmp_path, hidden, layout):
    spec = random_spec(seed=4, widths=(3, 4, 4, 2), hidden=hidden, layout=layout)
    result = explain(tmp_path, spec)
    assert result.exit_code == 0, result.output
    found = assert_text_matches_oracle(result.output, spec)
    assert [name for name, _, _ in found].count("dZ2") == (1 if hidden == "identity" else 2)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("output,loss,labels", [
    ("identity", "mse", False), ("identity", "sse", False), ("identity", "half_sse", False),
    ("identity", "mae", False), ("sigmoid", "bce", False), ("softmax", "bce", False),
    ("softmax", "cross_entropy", False), ("softmax", "cross_entropy", True),
])
def test_every_loss_and_fused_pair_is_the_oracles(tmp_path, output, loss, labels, layout):
    spec = random_spec(seed=5, widths=(3, 4, 3), output=output, loss=loss, layout=layout,
                       labels=labels)
    result = explain(tmp_path, spec)
    assert result.exit_code == 0, result.output
    assert_text_matches_oracle(result.output, spec)


def course_spec(loss, layout, seed=5, margin=None):
    """A 3-4-3 spec with targets for the courses' losses: svm labels or one-hot, hinge ±1, dot."""
    spec = random_spec(seed=seed, widths=(3, 4, 3), layout=layout)
    rng = np.random.default_rng(seed)
    m, rows = 5, layout == "rows"
    if loss.startswith("svm"):
        labels = rng.integers(0, 3, m)
        onehot = np.eye(3)[labels] if rows else np.eye(3)[labels].T
        spec["T"] = labels.tolist() if loss == "svm" else onehot.tolist()
    elif loss == "hinge":
        spec["T"] = np.sign(np.asarray(spec["T"])).tolist()
    spec["loss"] = {"name": "svm", "margin": margin} if loss.startswith("svm") and margin else \
        loss.replace("svm_onehot", "svm")
    return spec


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("loss,margin", [("svm", None), ("svm", 2.0), ("svm_onehot", None),
                                         ("hinge", None), ("dot", None)])
def test_every_course_loss_is_the_oracles(tmp_path, loss, margin, layout):
    spec = course_spec(loss, layout, margin=margin)
    result = explain(tmp_path, spec)
    assert result.exit_code == 0, result.output
    assert_text_matches_oracle(result.output, spec)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("regularization", [
    {"l2": 0.05}, {"l2": 0.05, "form": "full"}, {"l2": 0.7, "form": "half_over_m"},
    {"l1": 0.01}, {"l2": 0.1, "l1": 0.02, "biases": True}])
@pytest.mark.parametrize("bias", ["vector", "2d"])
def test_every_penalty_is_in_the_loss_and_every_dW(tmp_path, regularization, bias, layout):
    spec = {**random_spec(seed=6, widths=(3, 4, 2), bias=bias, layout=layout),
            "regularization": regularization}
    output = explain(tmp_path, spec).output
    found = assert_text_matches_oracle(output, spec)
    penalized = [rhs for name, _, rhs in found if name.startswith("dW")]
    assert all(" W" in rhs.split("·")[-1] or "sign(W" in rhs for rhs in penalized), penalized


def test_the_penalty_of_dW1_is_written_as_the_form_gives_it(tmp_path):
    spec = {**random_spec(seed=6, widths=(3, 2)), "regularization": {"l2": 0.7, "form": "half_over_m"}}
    dW1 = [rhs for name, _, rhs in equations(explain(tmp_path, spec).output) if name == "dW1"]
    assert dW1 == ["Xᵀ (3×5) · dZ1 (5×2) + 0.7/5 W1 (3×2)"]


def test_the_input_gradient_is_written_through_W1(tmp_path):
    spec = random_spec(seed=6, widths=(3, 4, 2))
    dA0 = [rhs for name, _, rhs in equations(explain(tmp_path, spec).output) if name == "dA0"]
    assert dA0 == ["dZ1 (5×4) · W1ᵀ (4×3)"]


def test_fused_softmax_cross_entropy_is_written_a_minus_t_over_m(tmp_path):
    spec = random_spec(seed=5, widths=(3, 4, 3), output="softmax", loss="cross_entropy", m=4)
    dZ2 = [rhs for name, _, rhs in equations(explain(tmp_path, spec).output) if name == "dZ2"]
    assert dZ2 == ["(A2 (4×3) − T (4×3)) / 4"]


def test_soft_cross_entropy_targets_keep_their_sum(tmp_path):
    spec = random_spec(seed=6, widths=(3, 3), output="softmax", loss="cross_entropy")
    spec["T"] = (np.asarray(spec["T"]) * 0.5).tolist()  # each example's targets sum to 0.5
    result = explain(tmp_path, spec)
    assert "Σ_cols(T" in result.output
    assert_text_matches_oracle(result.output, spec)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("bias", ["vector", "2d", "none"])
def test_every_bias_form_keeps_its_shape(tmp_path, bias, layout):
    spec = random_spec(seed=7, widths=(2, 3, 2), bias=bias, layout=layout)
    assert_text_matches_oracle(explain(tmp_path, spec).output, spec)


def test_activation_parameters_are_used(tmp_path):
    spec = random_spec(seed=8, widths=(3, 4, 2), hidden={"name": "leaky_relu", "alpha": 0.2})
    output = explain(tmp_path, spec).output
    assert "0.2 [Z1 ≤ 0]" in output
    assert_text_matches_oracle(output, spec, alpha=0.2)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("bias, regularization", [
    ("2d", None), ("vector", {"l2": 0.123456789, "form": "half_over_m", "l1": 0.01, "biases": True}),
    ("2d", {"l2": 0.3, "form": "full", "biases": True})])
def test_numpy_lines_compute_the_oracles_values(tmp_path, layout, bias, regularization):
    spec = random_spec(seed=9, widths=(3, 4, 4, 2), hidden="elu", layout=layout, bias=bias)
    if regularization:
        spec["regularization"] = regularization
    env = oracle_env(spec)
    lines = [line.split("numpy: ", 1)[1] for line in explain(tmp_path, spec).output.splitlines()
             if "numpy: " in line]
    assert len(lines) == len(equations(explain(tmp_path, spec).output))
    for line in lines:
        name, code = line.split(" = ", 1)
        value = eval(code, functions(spec), env)
        assert np.shape(value) == np.shape(env[name]), line
        np.testing.assert_allclose(value, env[name], rtol=1e-12, err_msg=line)


def test_rows_and_columns_write_transposed_equations(tmp_path):
    rows = {name: rhs for name, _, rhs in equations(explain(tmp_path, random_spec()).output)}
    cols = {name: rhs for name, _, rhs in
            equations(explain(tmp_path, random_spec(layout="columns")).output)}
    assert rows["Z1"] == "X (5×3) · W1 (3×4) + b1 (1×4)"
    assert cols["Z1"] == "W1 (4×3) · X (3×5) + b1 (4×1)"
    assert rows["dW2"] == "A1ᵀ (4×5) · dZ2 (5×2)"
    assert cols["dW2"] == "dZ2 (2×5) · A1ᵀ (5×4)"
    assert rows["dA1"] == "dZ2 (5×2) · W2ᵀ (2×4)"
    assert cols["dA1"] == "W2ᵀ (4×2) · dZ2 (2×5)"


def test_seed_net_1_gives_the_accepted_answers_dz3(tmp_path):
    output = CliRunner().invoke(cli, ["explain", str(SAMPLES / "01_relu_mse.yaml")]).output
    found = {(name, rhs) for name, _, rhs in equations(output)}
    assert ("dZ3", "(dZ4 (1×1) · W4ᵀ (1×6)) ⊙ [Z3 > 0] (1×6)") in found
    assert ("dW4", "A3ᵀ (6×1) · dZ4 (1×1)") in found
    assert ("dA4", "2 (A4 (1×1) − T (1×1)) / 1") in found
    assert "numpy: dZ3 = (dZ4 @ W4.T) * (Z3 > 0)" in output


def test_values_follow_mazurs_worked_example():
    output = CliRunner().invoke(cli, ["explain", str(SAMPLES / "04_mazur.yaml"), "--values"]).output
    lines = output.splitlines()
    numbers = {}
    for i, line in enumerate(lines):
        m = EQUATION.match(line)
        if m:
            j = i + 1
            while lines[j].lstrip().startswith("= "):
                j += 1
            numbers.setdefault(m.group(1), [float(x) for x in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?",
                                                                           lines[j - 1].split("= ", 1)[1])])
    assert numbers["Z1"] == pytest.approx([0.3775, 0.3925])
    assert numbers["L"] == pytest.approx([0.298371109], rel=1e-5)
    assert numbers["dW2"][0] == pytest.approx(0.082167041, rel=1e-5)
    assert numbers["dW1"][0] == pytest.approx(0.000438568, rel=1e-5)
    assert "= σ([[0.3775, 0.3925]])" in output


def test_values_of_big_arrays_show_the_first_entries():
    output = CliRunner().invoke(cli, ["explain", str(SAMPLES / "03_mnist_columns.yaml"),
                                      "--values", "--layer", "1"]).output
    longest = max(len(line) for line in output.splitlines())
    assert "…" in output and longest < 400


def test_layer_limits_the_output_to_one_layer(tmp_path):
    spec = random_spec(widths=(3, 4, 4, 2))
    names = [name for name, _, _ in equations(explain(tmp_path, spec, "--layer", "2").output)]
    assert names and all(name.endswith("2") for name in names)
    last = [name for name, _, _ in equations(explain(tmp_path, spec, "--layer", "3").output)]
    assert "L" in last


def test_layer_out_of_range_is_a_usage_error(tmp_path):
    result = explain(tmp_path, random_spec(), "--layer", "9")
    assert result.exit_code == 2 and result.stdout == ""


def test_markdown_puts_each_shape_under_its_factor(tmp_path):
    spec = random_spec(widths=(3, 4, 2), layout="columns")
    text = equations(explain(tmp_path, spec).output)
    md = explain(tmp_path, spec, "--format", "markdown").output
    blocks = re.findall(r"\$\$\n(.*?)\n\$\$", md)
    assert len(blocks) == len(text)
    for (name, shape, rhs), block in zip(text, blocks):
        shapes = [s for s in ANNOTATION.findall(f"{name} ({shape}) = {rhs}") if s != "scalar"]
        under = re.findall(r"\\underset\{([^}]*)\}", block)
        assert sorted(under) == sorted(s.replace("×", r" \times ") for s in shapes)
    assert md.startswith("# nngrad explain") and "`dW1 = dZ1 @ X.T`" in md


def test_json_lists_every_equation_with_latex_and_numpy(tmp_path):
    spec = random_spec(widths=(3, 4, 2))
    doc = json.loads(explain(tmp_path, spec, "--format", "json", "--values").output)
    env = oracle_env(spec)
    assert doc["layout"] == "rows" and doc["m"] == 5
    for eq in doc["equations"]:
        np.testing.assert_allclose(np.reshape(eq["value"], np.shape(env[eq["name"]])), env[eq["name"]],
                                   rtol=1e-9)
        assert {"text", "plain", "latex", "numpy", "note", "shape", "layer", "part"} <= set(eq)


def test_plain_output_has_no_escape_codes(tmp_path):
    output = explain(tmp_path, random_spec()).output
    assert "\x1b[" not in output and max(map(len, output.splitlines())) > 80  # not wrapped


def run_explain(path, *args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "nngrad", "explain", str(path), *args],
                          capture_output=True, text=True)


def assert_walk(proc, failing: str, needed: str):
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert any(line.startswith(f"   {failing}") and "✗" in line for line in lines), proc.stderr
    assert needed in proc.stderr
    assert lines[-1].startswith("nngrad: error: ") and "Traceback" not in proc.stderr


def test_transposed_weight_shows_the_equation_where_shapes_fail(tmp_path):
    spec = yaml.safe_load((SAMPLES / "02_sigmoid_half_sse.yaml").read_text())
    spec["layers"][2]["W"] = np.asarray(spec["layers"][2]["W"]).T.tolist()  # (1, 5), as in the question
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(spec))
    proc = run_explain(path)
    assert_walk(proc, "Z3 (?) = A2 (1×5) · W3 (1×5)",
                "A2 has 5 columns, so W3 needs 5 rows; it is (1×5): did you mean its transpose (5×1)?")
    assert "   Z2 (1×5) = A1 (1×5) · W2 (5×5) + b2 (1×5)" in proc.stderr  # the equations that fit


def test_columns_layout_names_the_columns_needed(tmp_path):
    spec = random_spec(widths=(3, 4, 2), layout="columns")
    spec["layers"][1]["W"] = np.zeros((2, 3)).tolist()
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert_walk(run_explain(path), "Z2 (?) = W2 (2×3) · A1 (4×5)",
                "A1 has 4 rows, so W2 needs 4 columns; it is (2×3), and must be (2×4)")


def test_wrong_bias_and_wrong_targets_are_shown_where_they_fail(tmp_path):
    spec = random_spec(widths=(3, 4, 2))
    spec["layers"][0]["b"] = [0.0, 0.0, 0.0]
    path = tmp_path / "bias.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert_walk(run_explain(path), "Z1", "b1 must be (4,) or (1×4)")
    spec = random_spec(widths=(3, 4, 2))
    spec["T"] = np.zeros((5, 3)).tolist()
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert_walk(run_explain(path), "L (scalar)", "T must be (5×2), the shape of the output A2")


def test_other_bad_input_is_only_the_one_line_error(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump({**random_spec(), "loss": "msee"}))
    proc = run_explain(path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "did you mean 'mse'" in proc.stderr


def test_values_that_overflow_exit_1_with_valid_json(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump({"X": [[1e200]], "T": [[0.0]], "loss": "mse",
                                    "layers": [{"W": [[1e200]], "activation": "identity"}]}))
    proc = run_explain(path, "--values", "--format", "json")
    assert proc.returncode == 1 and "Z1[0][0] is inf" in proc.stderr
    assert json.loads(proc.stdout)["equations"][0]["value"] == [[None]]


def test_explain_without_values_exits_0_on_the_same_spec(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump({"X": [[1e200]], "T": [[0.0]], "loss": "mse",
                                    "layers": [{"W": [[1e200]], "activation": "identity"}]}))
    assert run_explain(path).returncode == 0

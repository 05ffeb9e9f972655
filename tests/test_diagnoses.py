"""compare's diagnoses, issue 14: every diagnosis true for the spec's own loss and layout, the
courses' notations, regularization mistakes named. A planted-mistake suite: every right value and
every planted mistake is built from the autograd oracle's arrays (oracle.forward, oracle.gradients,
oracle.params_of, the spec's X and T), never from nngrad's own results.

Each test plants one mistake and asserts which tensors are marked wrong, that a diagnosis names the
true mistake (its kind and a robust phrase), and that no false one is given: no other kind on a
wrong tensor (earliest_wrong_layer aside), and no diagnosis on a tensor that is right.
"""

import json
import re

import numpy as np
import pytest
import yaml

import nngrad
import oracle
from conftest import network, random_spec
from test_cli import nngrad_cli

LAYOUTS = ["rows", "columns"]
BIASES = ["vector", "2d"]
EARLIEST = "earliest_wrong_layer"
KINDS = ("dA", "dZ", "dW", "dB")
P = "['′]"  # a prime, as ' or ′

# --- building mistakes from the oracle ------------------------------------------------------

DERIVATIVE = {  # f'(Z), written here by hand
    "identity": lambda Z: np.ones_like(Z),
    "relu": lambda Z: (Z > 0).astype(float),
    "sigmoid": lambda Z: _sigmoid(Z) * (1 - _sigmoid(Z)),
    "tanh": lambda Z: 1 - np.tanh(Z) ** 2,
}


def _sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def make(layout="rows", widths=(3, 4, 2), hidden="sigmoid", output="identity", loss="mse",
         bias="vector", m=5, seed=14, **extra):
    """(spec, net, right, fwd): the right gradients and forward values from the oracle."""
    spec = {**random_spec(seed=seed, widths=widths, hidden=hidden, output=output, loss=loss,
                          layout=layout, bias=bias, m=m), **extra}
    return spec, network(spec), oracle.gradients(spec), oracle.forward(spec)


def is_rows(spec):
    return spec.get("layout", "rows") == "rows"


def weight_grad(spec, A_prev, dZ):
    return A_prev.T @ dZ if is_rows(spec) else dZ @ A_prev.T


def bias_grad(spec, dZ, shape):
    return dZ.sum(axis=0 if is_rows(spec) else 1).reshape(shape)


def upstream(spec, W, dZ):
    """dA_{l-1} from dZ_l by the right chain rule: dZ Wᵀ (rows), Wᵀ dZ (columns)."""
    return dZ @ W.T if is_rows(spec) else W.T @ dZ


def untransposed(spec, W, dZ):
    """The classic silent bug: W where Wᵀ belongs."""
    return dZ @ W if is_rows(spec) else W @ dZ


def a_prev(spec, fwd, l):
    return np.asarray(spec["X"], dtype=float) if l == 1 else fwd[f"A{l - 1}"]


def follow(spec, fwd, right, l, dZ):
    """Layer l's dZ, dW, dB from a given dZ_l, and every tensor below it by the right chain rule."""
    W = oracle.params_of(spec)[0::2]
    out = {}
    while True:
        out[f"dZ{l}"] = dZ
        out[f"dW{l}"] = weight_grad(spec, a_prev(spec, fwd, l), dZ)
        out[f"dB{l}"] = bias_grad(spec, dZ, np.shape(right[f"dB{l}"]))
        if l == 1:
            return out
        dA = upstream(spec, W[l - 1], dZ)
        l -= 1
        out[f"dA{l}"] = dA
        dZ = dA * DERIVATIVE[spec["layers"][l - 1]["activation"]](fwd[f"Z{l}"])


def params(grads):
    return {k: v for k, v in grads.items() if k[:2] in ("dW", "dB")}


def layers_of(spec):
    return range(1, len(spec["layers"]) + 1)


# --- reading a report -------------------------------------------------------------------------

def wrong(report):
    return {name for name, t in report.tensors.items() if t.status != "ok"}


def on(report, name):
    """The diagnoses of one tensor, earliest_wrong_layer aside."""
    return [d for d in report.diagnoses if d.tensor == name and d.kind != EARLIEST]


def kinds(report, name):
    return {d.kind for d in on(report, name)}


def text(d):
    return f"{d.message} {d.hint or ''}"


def texts(report, name):
    return " | ".join(text(d) for d in on(report, name))


def notes(report):
    """Everything compare says besides the statuses: warnings, notes, diagnoses and hints."""
    extra = getattr(report, "notes", None) or []
    return " | ".join([str(w) for w in report.warnings] + [str(n) for n in extra]
                      + [text(d) for d in report.diagnoses])


def assert_nothing_on_right_tensors(report):
    for d in report.diagnoses:
        assert d.tensor not in report.tensors or report.tensors[d.tensor].status != "ok", d


def order_key(L):
    return lambda name: (L - int(name[2:]), KINDS.index(name[:2]))


def relu_named(s):
    """relu' (or relu′), not leaky_relu'."""
    return re.search(rf"(?<![a-z_])relu{P}", s) is not None


MEAN_CAUSE = re.compile(r"averag|of the mean|the 1/m\b", re.I)
TWO_MISSING = re.compile(r"2\s*\(\s*y\s*[-−]\s*t\s*\)[^;|]*missing|missing[^;|]*2\s*\(\s*y|"
                         r"the 2 [^;|]*(is )?missing", re.I)
UNTESTABLE = re.compile(r"cannot|can't|can not|untestable|not be told|one entry|1 entry|"
                        r"single entry|a scalar|any factor|fits any|not testable", re.I)


def test_the_helpers_rebuild_the_oracles_gradients():
    for layout in LAYOUTS:
        spec, _, right, fwd = make(layout, widths=(3, 4, 3, 2), hidden="tanh")
        got = follow(spec, fwd, right, 3, right["dZ3"])
        for name, value in got.items():
            np.testing.assert_allclose(value, right[name], rtol=1e-12, atol=1e-14, err_msg=name)


# --- 1. another activation's derivative, applied to the input it really takes -----------------

ACT_CASES = [(layout, m, bias, widths) for layout in LAYOUTS for m in (1, 5) for bias in BIASES
             for widths in ((3, 4, 2), (4, 4, 2))]


def planted_dz1(layout, m, bias, widths, hidden, mistake):
    spec, net, right, fwd = make(layout, widths=widths, hidden=hidden, bias=bias, m=m, seed=7)
    Z1, dA1 = fwd["Z1"], right["dA1"]
    assert (Z1 > 0).any() and (Z1 < 0).any()  # the seed gives both signs
    mine = {**right, **follow(spec, fwd, right, 1, mistake(dA1, Z1))}
    return nngrad.compare(net, mine)


@pytest.mark.parametrize("layout, m, bias, widths", ACT_CASES)
def test_relu_mask_of_z_in_a_sigmoid_layer_is_named_relu(layout, m, bias, widths):
    report = planted_dz1(layout, m, bias, widths, "sigmoid", lambda dA, Z: dA * (Z > 0))
    assert wrong(report) == {"dZ1", "dW1", "dB1"}
    assert kinds(report, "dZ1") == {"activation_derivative"}
    assert relu_named(texts(report, "dZ1"))
    assert "no activation derivative" not in texts(report, "dZ1")
    for name in ("dW1", "dB1"):
        assert kinds(report, name) <= {"activation_derivative"}
    assert_nothing_on_right_tensors(report)


@pytest.mark.parametrize("layout, m, bias, widths", ACT_CASES)
def test_no_derivative_in_a_sigmoid_layer_is_not_also_called_relu(layout, m, bias, widths):
    report = planted_dz1(layout, m, bias, widths, "sigmoid", lambda dA, Z: dA)
    assert wrong(report) == {"dZ1", "dW1", "dB1"}
    assert kinds(report, "dZ1") == {"activation_derivative"}
    assert "no activation derivative" in texts(report, "dZ1")
    for name in ("dZ1", "dW1", "dB1"):
        assert "relu'" not in texts(report, name) and "relu′" not in texts(report, name)
    assert_nothing_on_right_tensors(report)


@pytest.mark.parametrize("layout, m, bias, widths", ACT_CASES)
def test_nielsens_sigmoid_prime_of_z_in_a_relu_layer_is_named_sigmoid(layout, m, bias, widths):
    report = planted_dz1(layout, m, bias, widths, "relu",
                         lambda dA, Z: dA * _sigmoid(Z) * (1 - _sigmoid(Z)))
    assert wrong(report) == {"dZ1", "dW1", "dB1"}
    assert kinds(report, "dZ1") == {"activation_derivative"}
    assert re.search(rf"(?<![a-z_])sigmoid{P}", texts(report, "dZ1"))
    assert "no activation derivative" not in texts(report, "dZ1")
    assert_nothing_on_right_tensors(report)


# --- 2. hypotheses that any numbers fit are not evidence ---------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("m", [1, 3])
def test_a_one_entry_tensor_scaled_gets_no_cause(layout, bias, m):
    # m = 3 and a factor of 3: "the 1/m is missing" would fit any one number just as well
    spec, net, right, _ = make(layout, widths=(3, 4, 1), bias=bias, m=m)
    assert right["dB2"].size == 1
    report = nngrad.compare(net, {**right, "dB2": 3 * right["dB2"]})
    assert wrong(report) == {"dB2"}
    for d in on(report, "dB2"):
        assert d.kind != "transpose" and "transpose" not in text(d)
        assert UNTESTABLE.search(text(d)), d
        assert "1/m" not in text(d) and "not summed" not in text(d), d
    assert_nothing_on_right_tensors(report)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 3])
@pytest.mark.parametrize("value", [3.0, -1.0, 0.7])
def test_a_one_by_one_bias_gradient_is_never_a_transpose(layout, m, value):
    spec, net, right, _ = make(layout, widths=(3, 4, 1), bias="2d", m=m)
    assert right["dB2"].shape == (1, 1)
    report = nngrad.compare(net, {**params(right), "dB2": right["dB2"] * value})
    assert wrong(report) == {"dB2"}
    assert all(d.kind != "transpose" and "transpose" not in text(d)
               for d in report.diagnoses if d.tensor == "dB2")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("m", [1, 5])
def test_a_symmetric_square_dw_scaled_is_not_a_transpose(layout, bias, m):
    # one identity layer, W (3, 3), T = Y - X: dW = c XᵀX (rows) or c X Xᵀ (columns) is
    # symmetric, so its transpose is itself and "transpose" fits any wrong multiple by accident
    spec = random_spec(seed=3, widths=(3, 3), output="identity", layout=layout, bias=bias, m=m)
    spec["T"] = (oracle.forward(spec)["A1"] - np.asarray(spec["X"])).tolist()
    right = oracle.gradients(spec)
    np.testing.assert_allclose(right["dW1"], right["dW1"].T, rtol=1e-12, atol=1e-15)
    report = nngrad.compare(network(spec), {**params(right), "dW1": 2 * right["dW1"]})
    assert wrong(report) == {"dW1"}
    assert kinds(report, "dW1") == {"scale"}
    assert "transpose" not in texts(report, "dW1")
    assert on(report, "dW1")[0].factor == pytest.approx(2)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 5])
@pytest.mark.parametrize("mistake", ["double", "negate", "relu_mask"])
def test_a_square_dw_wrong_another_way_is_not_a_transpose(layout, m, mistake):
    spec, net, right, fwd = make(layout, widths=(3, 4, 4, 2), hidden="sigmoid", m=m, seed=7)
    if mistake == "relu_mask":  # relu' of Z2 in the sigmoid layer 2, dW2 alone given wrong
        dW2 = weight_grad(spec, fwd["A1"], right["dA2"] * (fwd["Z2"] > 0))
    else:
        dW2 = right["dW2"] * (2 if mistake == "double" else -1)
    assert dW2.shape == (4, 4)
    report = nngrad.compare(net, {**params(right), "dW2": dW2})
    assert wrong(report) == {"dW2"}
    assert "transpose" not in kinds(report, "dW2")
    assert "transpose" not in texts(report, "dW2")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 5])
def test_a_square_transpose_says_what_differs(layout, m):
    spec, net, right, _ = make(layout, widths=(3, 4, 4, 2), m=m)
    report = nngrad.compare(net, {**params(right), "dW2": right["dW2"].T})
    assert wrong(report) == {"dW2"}
    assert kinds(report, "dW2") == {"transpose"}
    assert not re.search(r"(\(\d+, \d+\)) where \1 belongs", texts(report, "dW2"))


# --- 3. a bias reduction at m = 1 --------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("loss", ["half_sse", "mse"])
def test_at_m_1_a_scaled_2d_db_is_not_dz_unsummed(layout, loss):
    # Nielsen's setup: one example, (n, 1) biases in columns (and (1, n) in rows)
    spec, net, right, _ = make(layout, widths=(3, 4, 2), loss=loss, bias="2d", m=1)
    mine = {**params(right), **{f"dB{l}": 2 * right[f"dB{l}"] for l in layers_of(spec)}}
    report = nngrad.compare(net, mine)
    assert wrong(report) == {"dB1", "dB2"}
    for name in ("dB1", "dB2"):
        assert "bias_reduction" not in kinds(report, name)
        assert "not summed" not in texts(report, name)
        assert any(d.kind == "scale" and d.factor == pytest.approx(2) for d in on(report, name))


# --- 4. the keepdims hint points to b's own shape ---------------------------------------------

HOW_TO_FLAT = re.compile(r"reshape|ravel|squeeze|flatten|without keepdims|keepdims=False", re.I)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 5])
def test_a_2d_db_for_a_vector_bias_is_right_values_and_needs_no_keepdims(layout, m):
    spec, net, right, _ = make(layout, widths=(3, 4, 2), bias="vector", m=m)
    kept = (1, -1) if layout == "rows" else (-1, 1)  # what sum(..., keepdims=True) gives
    mine = {**params(right), **{f"dB{l}": right[f"dB{l}"].reshape(kept) for l in layers_of(spec)}}
    report = nngrad.compare(net, mine)
    assert {n: t.status for n, t in report.tensors.items() if t.status != "ok"} == \
        {"dB1": "wrong_shape", "dB2": "wrong_shape"}
    for name in ("dB1", "dB2"):
        assert kinds(report, name) == {"bias_reduction"}
        said = texts(report, name)
        assert re.search(r"\b(right|correct)\b", said), said          # the values are right
        assert HOW_TO_FLAT.search(said), said                         # how to reach (n,)
        assert "sum with keepdims" not in said.lower() and "keepdims=true" not in said.lower()
        assert "not summed" not in said


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 5])
def test_a_vector_db_for_a_2d_bias_is_told_keepdims(layout, m):
    spec, net, right, _ = make(layout, widths=(3, 4, 2), bias="2d", m=m)
    mine = {**params(right), **{f"dB{l}": right[f"dB{l}"].reshape(-1) for l in layers_of(spec)}}
    report = nngrad.compare(net, mine)
    assert wrong(report) == {"dB1", "dB2"}
    for name in ("dB1", "dB2"):
        assert kinds(report, name) == {"bias_reduction"}
        assert "keepdims" in texts(report, name)


# --- 5. a scale's causes fit the spec's loss ---------------------------------------------------

def scaled_dws(spec, right, c):
    return {**params(right), **{f"dW{l}": c * right[f"dW{l}"] for l in layers_of(spec)}}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 2, 5])
def test_half_sse_dw_twice_is_not_a_mean_or_a_missing_two(layout, m):
    spec, net, right, _ = make(layout, widths=(3, 4, 2), loss="half_sse", m=m)  # n = 2 outputs
    report = nngrad.compare(net, scaled_dws(spec, right, 2.0))
    assert wrong(report) == {"dW1", "dW2"}
    for name in ("dW1", "dW2"):
        assert kinds(report, name) == {"scale"}
        said = texts(report, name)
        assert not MEAN_CAUSE.search(said), said
        assert not TWO_MISSING.search(said), said


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 5])
def test_half_sse_dw_halved_does_not_blame_the_two_of_2_y_minus_t(layout, m):
    spec, net, right, _ = make(layout, widths=(3, 4, 2), loss="half_sse", m=m)
    report = nngrad.compare(net, scaled_dws(spec, right, 0.5))
    assert wrong(report) == {"dW1", "dW2"}
    for name in ("dW1", "dW2"):
        assert kinds(report, name) == {"scale"}
        said = texts(report, name)
        assert not TWO_MISSING.search(said), said
        assert "examples only" not in said, said  # half_sse divides by nothing


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 5])
def test_mse_dw_without_the_two_names_the_two(layout, m):
    spec, net, right, _ = make(layout, widths=(3, 4, 3), loss="mse", m=m)
    report = nngrad.compare(net, scaled_dws(spec, right, 0.5))
    assert wrong(report) == {"dW1", "dW2"}
    for name in ("dW1", "dW2"):
        assert kinds(report, name) == {"scale"}
        assert re.search(r"2\s*\(\s*y", texts(report, name))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
def test_mse_dw_without_the_one_over_m_names_it(layout, bias):
    spec, net, right, _ = make(layout, widths=(3, 4, 3), loss="mse", bias=bias, m=5)
    report = nngrad.compare(net, scaled_dws(spec, right, 5.0))
    assert wrong(report) == {"dW1", "dW2"}
    for name in ("dW1", "dW2"):
        assert kinds(report, name) == {"scale"}
        assert "1/m" in texts(report, name)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("m", [1, 5])
def test_bce_gradients_of_batch_mean_are_told_batch_mean(layout, bias, m):
    spec, net, right, _ = make(layout, widths=(3, 4, 3), hidden="tanh", output="sigmoid",
                               loss="bce", bias=bias, m=m)
    theirs = oracle.gradients({**spec, "loss": {"name": "bce", "reduction": "batch_mean"}})
    report = nngrad.compare(net, theirs)
    assert wrong(report) == set(theirs)
    assert any("batch_mean" in text(d) for d in report.diagnoses), \
        [d.message for d in report.diagnoses]


# --- 6. W instead of Wᵀ ------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("m", [1, 5])
@pytest.mark.parametrize("widths", [(3, 4, 4), (2, 3, 3, 2)])
def test_w_where_w_transposed_belongs_names_the_matrix(layout, bias, m, widths):
    spec, net, right, fwd = make(layout, widths=widths, hidden="tanh", bias=bias, m=m)
    W2 = oracle.params_of(spec)[2]
    assert W2.shape[0] == W2.shape[1]
    dA1 = untransposed(spec, W2, right["dZ2"])
    mine = {**right, "dA1": dA1, **follow(spec, fwd, right, 1, dA1 * DERIVATIVE["tanh"](fwd["Z1"]))}
    report = nngrad.compare(net, mine)
    assert wrong(report) == {"dA1", "dZ1", "dW1", "dB1"}
    assert on(report, "dA1") and all("W2" in text(d) for d in on(report, "dA1"))
    assert_nothing_on_right_tensors(report)


# --- 7. relu'(0) = 1 is a convention ----------------------------------------------------------

def relu_at_zero(layout, bias, m):
    """A relu layer 1 whose unit 1 has a zero column of W1 (a zero row in columns) and b = 0, so
    that Z1 is exactly 0 there for every example and nonzero elsewhere; the user's
    dZ1 = dA1 ⊙ [Z1 ≥ 0], and dW1, dB1 from it."""
    spec = random_spec(seed=7, widths=(3, 4, 2), hidden="relu", layout=layout, bias=bias, m=m)
    W1, b1 = np.asarray(spec["layers"][0]["W"]), np.asarray(spec["layers"][0]["b"])
    if layout == "rows":
        W1[:, 0] = 0.0
    else:
        W1[0, :] = 0.0
    b1.reshape(-1)[0] = 0.0
    spec["layers"][0].update(W=W1.tolist(), b=b1.tolist())
    right, fwd = oracle.gradients(spec), oracle.forward(spec)
    Z1 = fwd["Z1"]
    assert (Z1 == 0).any() and (Z1 > 0).any() and (Z1 < 0).any()  # not "no derivative"
    mine = {**right, **follow(spec, fwd, right, 1, right["dA1"] * (Z1 >= 0))}
    for name in ("dZ1", "dW1", "dB1"):  # each differs where Z1 = 0
        assert not np.allclose(mine[name], right[name]), name
    return spec, mine


CONVENTION = re.compile(rf"convention|subgradient|relu{P}\s*\(0\)", re.I)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("m", [1, 4])
def test_relu_prime_of_zero_as_one_agrees_and_is_called_a_convention(layout, bias, m):
    spec, mine = relu_at_zero(layout, bias, m)
    report = nngrad.compare(network(spec), mine)
    assert report.agree, [d.message for d in report.diagnoses]
    assert all(t.status in ("ok", "skipped_kink") for t in report.tensors.values())
    assert CONVENTION.search(notes(report)), notes(report)


def test_cli_relu_prime_of_zero_as_one_exits_0(tmp_path):
    spec, mine = relu_at_zero("columns", "2d", 4)
    spec_path, mine_path = write(tmp_path, spec, mine)
    proc = nngrad_cli("compare", spec_path, mine_path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["agree"] is True
    said = json.dumps(doc["diagnoses"] + doc.get("warnings", []) + doc.get("notes", []),
                      ensure_ascii=False) + proc.stderr.decode()
    assert CONVENTION.search(said), said


# --- 8. the earliest wrong layer, and "as a consequence" only where the numbers show it -------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 5])
def test_only_the_top_dw_wrong_says_no_consequence(layout, m):
    spec, net, right, _ = make(layout, widths=(3, 4, 3, 2), m=m)
    report = nngrad.compare(net, {**right, "dW3": 3 * right["dW3"]})
    assert wrong(report) == {"dW3"}
    assert not any("consequence" in text(d) for d in report.diagnoses)
    assert_nothing_on_right_tensors(report)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("m", [1, 5])
def test_every_dw_wrong_with_every_db_right_is_not_a_consequence(layout, bias, m):
    # a stray factor in the user's dW formula: nothing propagates, every dB is right
    spec, net, right, _ = make(layout, widths=(3, 4, 3, 2), bias=bias, m=m)
    report = nngrad.compare(net, scaled_dws(spec, right, 3.0))
    assert wrong(report) == {"dW1", "dW2", "dW3"}
    assert not any("consequence" in text(d) for d in report.diagnoses), \
        [d.message for d in report.diagnoses]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 5])
def test_a_wrong_dz2_propagated_below_is_a_consequence(layout, m):
    spec, net, right, fwd = make(layout, widths=(3, 4, 3, 2), hidden="sigmoid", m=m, seed=7)
    mine = {**right, **follow(spec, fwd, right, 2, right["dA2"])}  # no derivative in layer 2
    report = nngrad.compare(net, mine)
    assert wrong(report) == {"dZ2", "dW2", "dB2", "dA1", "dZ1", "dW1", "dB1"}
    earliest = [d for d in report.diagnoses if d.kind == EARLIEST]
    assert len(earliest) == 1 and earliest[0].tensor == "dZ2"
    assert "consequence" in earliest[0].message


# --- 9. diagnoses in backprop order, whatever MINE's order -----------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [1, 5])
def test_diagnoses_come_in_backprop_order(layout, m):
    spec, net, right, _ = make(layout, widths=(3, 4, 3, 2), m=m)
    L = len(spec["layers"])
    names = sorted(right, key=order_key(L), reverse=True)  # dB1 first, dA3 last
    report = nngrad.compare(net, {name: 3 * right[name] for name in names})
    assert wrong(report) == set(right)
    told = [d.tensor for d in report.diagnoses if d.kind != EARLIEST]
    assert len(told) >= 4
    assert told == sorted(told, key=order_key(L))


# --- 10. odd factors as fractions --------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m", [3, 5])
def test_an_odd_factor_is_a_fraction_or_left_out(layout, m):
    # the user divided by m + 1 where the mean divides by m
    spec, net, right, _ = make(layout, widths=(3, 4, 2), m=m)
    c = m / (m + 1)
    report = nngrad.compare(net, {k: c * v for k, v in params(right).items()})
    assert wrong(report) == set(params(right))
    for name in params(right):
        said = texts(report, name)
        assert not re.search(r"1/1\.\d", said), said
        assert f"{m}/{m + 1}" in said or not re.search(r"\d\.\d", said), said


# --- 11. Andrew Ng's notation ------------------------------------------------------------------

def ng_case(layout="columns", bias="vector", m=4):
    """A deeplearning.ai net: relu hidden, one sigmoid output, bce. Ng's dA and dZ leave out the
    1/m (m times the oracle's), his dW and db apply it (the oracle's)."""
    spec, net, right, _ = make(layout, widths=(3, 4, 1), hidden="relu", output="sigmoid",
                               loss="bce", bias=bias, m=m, seed=11)
    ng = {k: (m * v if k[:2] in ("dA", "dZ") else v) for k, v in right.items()}
    return spec, net, right, ng


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("m", [1, 4])
def test_ng_notation_agrees_and_says_so(layout, bias, m):
    spec, net, right, ng = ng_case(layout, bias, m)
    report = nngrad.compare(net, ng)
    assert report.agree, [d.message for d in report.diagnoses]
    assert not [d for d in report.diagnoses if d.kind == EARLIEST]
    if m > 1:  # at m = 1 the two notations are the same numbers
        assert re.search(r"\bNg\b|notation", notes(report)), notes(report)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
def test_ng_notation_forced_readings(layout, bias):
    spec, net, right, ng = ng_case(layout, bias, 4)
    assert nngrad.compare(net, ng, notation="auto").agree
    assert nngrad.compare(net, ng, notation="ng").agree
    assert nngrad.compare(net, right, notation="standard").agree
    standard = nngrad.compare(net, ng, notation="standard")
    assert not standard.agree
    assert wrong(standard) == {k for k in ng if k[:2] in ("dA", "dZ")}
    forced_ng = nngrad.compare(net, right, notation="ng")
    assert not forced_ng.agree
    assert wrong(forced_ng) == {k for k in right if k[:2] in ("dA", "dZ")}


def test_cli_ng_notation(tmp_path):
    spec, _, right, ng = ng_case("columns", "2d", 4)
    spec_path, ng_path = write(tmp_path, spec, ng, "ng.npz")
    right_path = str(tmp_path / "right.npz")
    np.savez(right_path, **right)
    auto = nngrad_cli("compare", spec_path, ng_path, "--format", "json")
    assert auto.returncode == 0, auto.stderr
    doc = json.loads(auto.stdout)
    assert doc["agree"] is True
    assert not [d for d in doc["diagnoses"] if d["kind"] == EARLIEST]
    said = json.dumps(doc["diagnoses"] + doc.get("warnings", []) + doc.get("notes", []),
                      ensure_ascii=False) + auto.stderr.decode()
    assert re.search(r"\bNg\b|notation", said), said
    standard = nngrad_cli("compare", spec_path, ng_path, "--notation", "standard", "--format", "json")
    assert standard.returncode == 1, standard.stderr
    assert json.loads(standard.stdout)["agree"] is False
    forced = nngrad_cli("compare", spec_path, right_path, "--notation", "ng", "--format", "json")
    assert forced.returncode == 1, forced.stderr
    assert json.loads(forced.stdout)["agree"] is False


# --- 12. regularization mistakes ---------------------------------------------------------------

LAMBDA = 0.1


def reg_case(layout, bias, m, form="half"):
    spec, net, right, _ = make(layout, widths=(3, 4, 2), hidden="tanh", bias=bias, m=m, seed=30,
                               regularization={"l2": LAMBDA, "form": form})
    data = oracle.gradients(spec, part="data")
    penalty = oracle.gradients(spec, part="penalty")
    return spec, net, right, data, penalty


REG_MISTAKES = [  # (id, the spec's form, dW from (data, penalty, m), a phrase that names it, m > 1 only)
    ("missing", "half", lambda d, p, m: d, r"lack|missing|without|no penalty", False),
    ("full_for_half", "half", lambda d, p, m: d + 2 * p, r"twice|2 times|2×|two times", False),
    ("half_for_full", "full", lambda d, p, m: d + 0.5 * p, r"half|1/2", False),
    ("over_m_for_half", "half", lambda d, p, m: d + p / m, r"1/m", True),
    ("half_for_over_m", "half_over_m", lambda d, p, m: d + m * p, r"m = \d+ times|\d+ times", True),
    ("sign", "half", lambda d, p, m: d - p, r"sign", False),
]


REG_PARAMS = [pytest.param(form, plant, phrase, m, id=f"{name}-m{m}")
              for name, form, plant, phrase, needs_m in REG_MISTAKES
              for m in ((5,) if needs_m else (1, 5))]  # at m = 1, λ/m is λ


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("form, plant, phrase, m", REG_PARAMS)
def test_a_penalty_mistake_is_named(layout, bias, form, plant, phrase, m):
    spec, net, right, data, penalty = reg_case(layout, bias, m, form)
    mine = {**params(right), **{f"dW{l}": plant(data[f"dW{l}"], penalty[f"dW{l}"], m)
                                for l in layers_of(spec)}}
    report = nngrad.compare(net, mine)
    assert wrong(report) == {"dW1", "dW2"}
    for name in ("dW1", "dW2"):
        assert kinds(report, name) == {"regularization"}, texts(report, name)
        assert re.search(phrase, texts(report, name)), texts(report, name)
    assert_nothing_on_right_tensors(report)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("m", [1, 5])
def test_regularised_biases_against_the_spec_are_named(layout, bias, m):
    spec, net, right, data, _ = reg_case(layout, bias, m)  # biases: false (the default)
    b = oracle.params_of(spec)[1::2]
    mine = {**params(right), **{f"dB{l}": data[f"dB{l}"] + LAMBDA * b[l - 1].reshape(
        np.shape(right[f"dB{l}"])) for l in layers_of(spec)}}
    report = nngrad.compare(net, mine)
    assert wrong(report) == {"dB1", "dB2"}
    for name in ("dB1", "dB2"):
        assert kinds(report, name) == {"regularization"}, texts(report, name)
        assert re.search(r"bias", texts(report, name)), texts(report, name)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("m", [1, 5])
def test_a_scaled_data_part_with_the_right_penalty_is_a_scale(layout, bias, m):
    spec, net, right, data, penalty = reg_case(layout, bias, m)
    mine = {**params(right), **{f"dW{l}": 2 * data[f"dW{l}"] + penalty[f"dW{l}"]
                                for l in layers_of(spec)}}
    report = nngrad.compare(net, mine)
    assert wrong(report) == {"dW1", "dW2"}
    for name in ("dW1", "dW2"):
        assert kinds(report, name) <= {"scale", "regularization"} and kinds(report, name)
        said = texts(report, name)
        assert not re.search(r"lack|missing", said), said
        assert any(d.factor == pytest.approx(2) for d in on(report, name)) or \
            re.search(r"twice|2 times", said), said
        # dW is not 2 times the right value: its data part is, and the message says so
        assert "data" in said, said


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", BIASES)
def test_a_missing_penalty_with_a_scaled_data_part_is_still_named(layout, bias):
    # no penalty, and the data part without the mean's 1/m (m = 5 times)
    spec, net, right, data, _ = reg_case(layout, bias, 5)
    mine = {**params(right), **{f"dW{l}": 5 * data[f"dW{l}"] for l in layers_of(spec)}}
    report = nngrad.compare(net, mine)
    assert wrong(report) == {"dW1", "dW2"}
    for name in ("dW1", "dW2"):
        assert "regularization" in kinds(report, name), texts(report, name)
        assert kinds(report, name) <= {"regularization", "scale"}
        said = texts(report, name)
        assert re.search(r"lack|missing|without|no penalty", said), said
        assert re.search(r"5 times|1/m", said), said


# --- the command line --------------------------------------------------------------------------

def write(tmp_path, spec, mine, mine_name="mine.npz"):
    spec_path, mine_path = tmp_path / "net.yaml", tmp_path / mine_name
    spec_path.write_text(yaml.safe_dump(spec))
    np.savez(mine_path, **mine)
    return str(spec_path), str(mine_path)


def test_cli_relu_mask_in_a_sigmoid_layer(tmp_path):
    spec, _, right, fwd = make("columns", widths=(3, 4, 2), hidden="sigmoid", m=5, seed=7)
    mine = {**right, **follow(spec, fwd, right, 1, right["dA1"] * (fwd["Z1"] > 0))}
    proc = nngrad_cli("compare", *write(tmp_path, spec, mine), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["agree"] is False
    assert {n for n, t in doc["tensors"].items() if t["status"] != "ok"} == {"dZ1", "dW1", "dB1"}
    told = [d for d in doc["diagnoses"] if d["tensor"] == "dZ1"]
    assert [d["kind"] for d in told] == ["activation_derivative"]
    assert relu_named(told[0]["message"]) and "no activation derivative" not in told[0]["message"]


def test_cli_keepdims_points_to_bs_own_shape(tmp_path):
    spec, _, right, _ = make("rows", widths=(3, 4, 2), bias="vector", m=5)
    mine = {**params(right), "dB1": right["dB1"].reshape(1, -1)}
    proc = nngrad_cli("compare", *write(tmp_path, spec, mine), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["tensors"]["dB1"] == {"status": "wrong_shape", "shape": [1, 4], "expected_shape": [4]}
    told = [d for d in doc["diagnoses"] if d["tensor"] == "dB1" and d["kind"] != EARLIEST]
    assert [d["kind"] for d in told] == ["bias_reduction"]
    said = told[0]["message"] + " " + told[0].get("hint", "")
    assert "sum with keepdims" not in said.lower() and HOW_TO_FLAT.search(said)


# --- review: readings and causes that must not mislead ------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_ng_code_with_one_real_mistake_names_only_that_one(layout):
    spec, net, right, _ = make(layout, widths=(3, 4, 1), hidden="relu", output="sigmoid", loss="bce")
    m = 5  # bce over one output: Ng's dZ and dA are m times nngrad's
    mine = {**{f"dZ{l}": m * right[f"dZ{l}"] for l in (1, 2)}, **params(right)}
    mine["dB1"] = m * right["dB1"]  # the 1/m forgotten in db1 alone
    report = nngrad.compare(net, mine)
    assert report.settings["notation"] == "ng" and wrong(report) == {"dB1"}
    assert "1/m" in texts(report, "dB1")


def test_a_sign_flip_with_two_outputs_gets_no_invented_cause():
    spec, net, right, _ = make("rows", widths=(3, 4, 2))
    report = nngrad.compare(net, {"dW2": -right["dW2"]})
    assert [d.message for d in report.diagnoses if d.tensor == "dW2"] == ["dW2 has the wrong sign"]


def test_float32_values_that_are_right_are_said_so():
    spec, net, right, _ = make("rows")
    net32 = network(spec, dtype="float32")
    report = nngrad.compare(net32, {"dB1": right["dB1"].reshape(1, -1)})
    (d,) = [d for d in report.diagnoses if d.tensor == "dB1"]
    assert d.message.endswith("the values are right") and "times" not in d.message


def test_a_penalty_left_out_is_no_consequence_of_a_right_dZ():
    spec, net, right, _ = make("rows", regularization={"l2": 0.1})
    data = oracle.gradients(spec, part="data")
    mine = {"dZ2": right["dZ2"], "dW2": data["dW2"], "dW1": data["dW1"]}
    said = " ".join(d.message for d in nngrad.compare(net, mine).diagnoses)
    assert "consequence" not in said and "lacks the penalty" in said


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dx_with_w1_where_w1_transposed_belongs_names_w1(layout):
    spec, net, right, _ = make(layout, widths=(3, 3, 2))
    W1 = oracle.params_of(spec)[0]
    dX = right["dZ1"] @ W1 if is_rows(spec) else W1 @ right["dZ1"]
    report = nngrad.compare(net, {"dX": dX})
    assert wrong(report) == {"dA0"} and kinds(report, "dA0") == {"transpose"}
    assert "W1" in texts(report, "dA0")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_consequence_below_gets_no_diagnosis_of_its_own(layout):
    spec, net, right, fwd = make(layout, widths=(3, 4, 2), hidden="tanh", m=5)
    dZ2 = 5 * right["dZ2"]  # the 1/m left out at the top, and carried down by the right rules
    W2 = oracle.params_of(spec)[2]
    dA1 = dZ2 @ W2.T if is_rows(spec) else W2.T @ dZ2
    dZ1 = dA1 * (1 - fwd["A1"] ** 2)
    report = nngrad.compare(net, {"dZ2": dZ2, "dZ1": dZ1})
    assert wrong(report) == {"dZ2", "dZ1"}
    assert {d.tensor for d in report.diagnoses if d.kind != "earliest_wrong_layer"} == {"dZ2"}
    assert "consequence" in notes(report)

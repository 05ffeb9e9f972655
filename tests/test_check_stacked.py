"""check's stacked perturbations (nngrad/verify/stacked.py, tails.py): every numeric value is the
oracle's own central difference, every kink is told where it is, and a wrong entry is found."""

import numpy as np
import pytest

import nngrad
import oracle
from conftest import network, random_spec
from nngrad.verify import gradcheck, tails

HIDDEN = ("identity", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softplus", "silu", "gelu",
          "softmax")


def numeric_of(report) -> dict:
    """{(tensor, index): numeric value} of every entry checked (report made with worst=10**6)."""
    return {(name, index): n for name, index, _, n, _ in report.worst}


def assert_matches_oracle(spec, report, eps=1e-6, part="all", input_grad=False):
    """Each numeric value is the oracle's central difference (to rounding) and its autograd
    gradient (to the difference's truncation and rounding)."""
    want = oracle.central_differences(spec, eps, part=part, input_grad=input_grad)
    exact = oracle.gradients(spec, part=part, input_grad=input_grad)
    got = numeric_of(report)
    for name, d in want.items():
        for index in np.ndindex(d.shape):
            assert got[(name, index)] == pytest.approx(d[index], rel=1e-6, abs=1e-9), (name, index)
            assert got[(name, index)] == pytest.approx(exact[name][index], rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("m", [1, 4])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_full_mode_numeric_values_are_the_oracles_central_differences(hidden, m, layout):
    spec = random_spec(seed=31, widths=(3, 5, 4, 2), hidden=hidden, layout=layout, m=m,
                       bias="2d" if m > 1 else "vector")
    report = nngrad.check(network(spec), mode="full", worst=10**6, input_grad=True)
    assert report.agree
    assert_matches_oracle(spec, report, input_grad=True)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("loss, output, labels", [
    ("cross_entropy", "softmax", True), ("cross_entropy", "softmax", False), ("svm", "identity", True),
    ("hinge", "identity", False), ("bce", "sigmoid", False), ("mae", "identity", False),
    ("dot", "tanh", False)])
def test_full_mode_matches_the_oracle_for_every_loss(loss, output, labels, layout):
    spec = random_spec(seed=32, widths=(4, 5, 3), hidden="relu", output=output, loss=loss,
                       layout=layout, m=3, labels=labels)
    report = nngrad.check(network(spec), mode="full", worst=10**6, input_grad=True)
    assert report.agree and not report.skipped
    assert_matches_oracle(spec, report, input_grad=True)


@pytest.mark.parametrize("part", ["all", "data", "penalty"])
def test_full_mode_matches_the_oracle_with_a_penalty(part):
    spec = {**random_spec(seed=33, widths=(3, 4, 2), hidden="tanh", m=3),
            "regularization": {"l2": 0.3, "l1": 0.05, "form": "half_over_m", "biases": True}}
    report = nngrad.check(network(spec), mode="full", worst=10**6, part=part)
    assert report.agree
    assert_matches_oracle(spec, report, part=part)


def test_blocks_of_one_entry_give_the_same_values(monkeypatch):
    monkeypatch.setattr(tails, "BLOCK_BYTES", 1)  # every block holds one entry's pair
    spec = random_spec(seed=34, widths=(3, 4, 4, 2), hidden="gelu", layout="columns", m=3)
    report = nngrad.check(network(spec), mode="full", worst=10**6, input_grad=True)
    assert report.agree
    assert_matches_oracle(spec, report, input_grad=True)


def test_a_float32_spec_is_differenced_in_float64():
    spec = random_spec(seed=35, widths=(3, 4, 2), hidden="sigmoid", m=2)
    report = nngrad.check(network(spec, dtype="float32"), mode="full", worst=10**6)
    assert report.agree
    assert_matches_oracle(spec, report)


def test_a_relu_kink_in_a_later_example_is_named_at_its_row():
    spec = {"X": [[1.0, 0.5], [2.0, -1.0]], "T": [[0.3], [0.1]], "loss": "mse", "layers": [
        {"W": [[0.5, 1.0], [1.0, -0.4]], "activation": "relu"},  # Z1[1, 0] = 2 * 0.5 - 1 = 0
        {"W": [[0.7], [0.2]], "activation": "identity"}]}
    report = nngrad.check(network(spec), mode="full", input_grad=True)
    assert report.agree
    assert "dW1[0, 0]: crosses the relu kink of Z1[1, 0]; skipped" in report.skipped
    assert "dW1[1, 0]: crosses the relu kink of Z1[1, 0]; skipped" in report.skipped
    assert "dB1[0]: crosses the relu kink of Z1[1, 0]; skipped" in report.skipped
    assert "dA0[1, 0]: crosses the relu kink of Z1[1, 0]; skipped" in report.skipped
    assert "dA0[1, 1]: crosses the relu kink of Z1[1, 0]; skipped" in report.skipped
    assert report.tensors["dW1"].skipped == 2 and report.tensors["dA0"].skipped == 2


def test_a_kink_of_a_later_layer_is_named_in_the_columns_layout():
    spec = {"layout": "columns", "X": [[1.0, 3.0], [0.5, 1.0]], "T": [[0.3, 0.2]], "loss": "mse",
            "layers": [{"W": [[1.0, 0.0], [0.0, 1.0]], "activation": "identity"},
                       {"W": [[0.5, 1.0], [1.0, -2.0]], "activation": "relu"},  # Z2[1, 0] = 0
                       {"W": [[0.7, 0.2]], "activation": "identity"}]}
    report = nngrad.check(network(spec), mode="full")
    # Z2 is (2 units, 2 examples): unit 1 of example 0 is Z2[1, 0] in the spec's layout
    for entry in ("dW1[0, 1]", "dW1[1, 0]", "dB1[0]", "dW2[1, 0]", "dW2[1, 1]", "dB2[1]"):
        assert f"{entry}: crosses the relu kink of Z2[1, 0]; skipped" in report.skipped
    assert report.tensors["dW2"].skipped == 2 and report.agree


def test_the_earliest_kink_is_told_when_a_perturbation_crosses_two():
    spec = {"X": [[1.0]], "T": [[0.5]], "loss": "mae", "layers": [
        {"W": [[1.0, 1.0]], "b": [-1.0, 0.0], "activation": "relu"},  # Z1 = (0, 1)
        {"W": [[0.5], [0.5]], "b": [0.0], "activation": "identity"}]}  # Y = 0.5 = T
    report = nngrad.check(network(spec), mode="full", input_grad=True)
    relu, mae = "crosses the relu kink of Z1[0, 0]", "crosses the mae kink of A2[0, 0] (where Y = T)"
    assert report.skipped == [f"dA0[0, 0]: {relu}; skipped", f"dW1[0, 0]: {relu}; skipped",
                              f"dW1[0, 1]: {mae}; skipped", f"dB1[0]: {relu}; skipped",
                              f"dB1[1]: {mae}; skipped", f"dW2[1, 0]: {mae}; skipped",
                              f"dB2[0]: {mae}; skipped"]  # W2[0, 0] multiplies A1[0, 0] = 0


def test_the_mae_kink_of_the_second_example():
    spec = {"X": [[1.0], [2.0]], "T": [[0.3], [1.0]], "loss": "mae",  # y = 0.5 x: Y[1] = T[1]
            "layers": [{"W": [[0.5]], "b": [0.0], "activation": "identity"}]}
    report = nngrad.check(network(spec), mode="full")
    assert report.skipped == ["dW1[0, 0]: crosses the mae kink of A1[1, 0] (where Y = T); skipped",
                              "dB1[0]: crosses the mae kink of A1[1, 0] (where Y = T); skipped"]


def test_an_svm_margin_of_zero_is_skipped():
    spec = {"X": [[1.0, 2.0]], "T": [0], "loss": "svm", "layers": [  # scores (2, 1, -0.1)
        {"W": [[1.0, 0.2, 0.3], [0.5, 0.4, -0.2]], "b": [0.0, 0.0, 0.0], "activation": "identity"}]}
    report = nngrad.check(network(spec), mode="full")
    for entry in ("dW1[0, 0]", "dW1[1, 1]", "dB1[0]", "dB1[1]"):  # they move y_0 or y_1
        assert f"{entry}: crosses the svm kink of A1[0, 1] (at a margin of 0); skipped" in report.skipped
    assert report.tensors["dW1"].skipped == 4 and report.tensors["dB1"].skipped == 2


def test_an_l1_weight_of_zero_is_skipped():
    spec = {"X": [[1.0, 2.0]], "T": [[0.5, 0.1]], "loss": "mse", "regularization": {"l1": 0.1},
            "layers": [{"W": [[1.0, 0.7], [0.5, 0.0]], "b": [0.0, 0.0], "activation": "tanh"},
                       {"W": [[0.3, 0.1], [0.2, -0.6]], "activation": "identity"}]}
    report = nngrad.check(network(spec), mode="full")
    assert report.skipped == ["dW1[1, 1]: crosses the L1 kink at 0; skipped"]  # b is not penalized
    assert report.agree


def test_skipped_entries_are_listed_in_entry_order_whatever_their_kink():
    spec = {"X": [[1.0, 2.0]], "T": [[0.2]], "loss": "mse", "regularization": {"l1": 0.1},
            "layers": [{"W": [[0.0, 1.0], [0.5, -0.5]], "b": [0.0, 0.0], "activation": "relu"},
                       {"W": [[0.3], [0.7]], "activation": "identity"}]}  # Z1 = (1, 0)
    report = nngrad.check(network(spec), mode="full")
    relu = "crosses the relu kink of Z1[0, 1]; skipped"
    assert report.skipped == ["dW1[0, 0]: crosses the L1 kink at 0; skipped", f"dW1[0, 1]: {relu}",
                              f"dW1[1, 1]: {relu}", f"dB1[1]: {relu}"]


@pytest.fixture
def planted(monkeypatch):
    """check's analytic gradients replaced by the oracle's, with one entry made wrong."""
    def plant(spec, name, flat, input_grad=False):
        """Entry ``flat`` (in C order) of ``name`` made 0.05 too big; its index."""
        grads = oracle.gradients(spec, input_grad=input_grad)
        grads[name] = grads[name].copy()
        index = tuple(int(i) for i in np.unravel_index(flat, grads[name].shape))
        grads[name][index] += 0.05
        monkeypatch.setattr(gradcheck, "_analytic", lambda net, part, ig: grads)
        return index
    return plant


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("name, flat", [("dW1", 7), ("dB2", 1), ("dA0", 5), ("dW3", 0)])
def test_a_planted_wrong_entry_is_reported_there(planted, name, flat, layout):
    spec = random_spec(seed=36, widths=(3, 4, 3, 2), hidden="relu", layout=layout, m=3, bias="2d")
    index = planted(spec, name, flat, input_grad=True)
    report = nngrad.check(network(spec), mode="full", input_grad=True)
    assert {n for n, t in report.tensors.items() if t.status != "ok"} == {name}
    assert report.worst[0][:2] == (name, index)
    assert report.worst[0][2] - report.worst[0][3] == pytest.approx(0.05, rel=1e-4)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("per_block", ["default", "one"])
def test_fast_directions_are_the_oracles_directional_differences(monkeypatch, layout, per_block):
    if per_block == "one":
        monkeypatch.setattr(tails, "BLOCK_BYTES", 1)
    spec = {**random_spec(seed=37, widths=(3, 5, 4, 3), hidden="elu", output="identity", loss="svm",
                          layout=layout, m=4, labels=True, bias="2d"),
            "regularization": {"l2": 0.2}}
    eps, directions = 1e-6, 3
    report = nngrad.check(network(spec), mode="fast", eps=eps, directions=directions, worst=100,
                          input_grad=True)
    numeric = {(name, index[0]): n for name, index, _, n, _ in report.worst}
    rng = np.random.default_rng(0)  # the seed check draws its directions from, tensor by tensor
    params = oracle.params_of(spec)
    X = np.asarray(spec["X"], dtype=float)
    for k, name in [(-1, "dA0")] + [(k, f"{'dW' if k % 2 == 0 else 'dB'}{k // 2 + 1}")
                                    for k in range(len(params))]:
        p = X if k < 0 else params[k]
        for j in range(directions):
            v = rng.standard_normal(p.shape)
            v /= np.linalg.norm(v)
            losses = [oracle.loss(spec, X=X + s * eps * v) if k < 0 else
                      oracle.loss(spec, [q + s * eps * v if i == k else q for i, q in enumerate(params)])
                      for s in (1, -1)]
            want = (losses[0] - losses[1]) / (2 * eps)
            assert numeric[(name, j)] == pytest.approx(want, rel=1e-6, abs=1e-9), (name, j)


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_a_staged_net_is_stacked_through_its_stages(layout):
    import oracle_stages
    from test_stages import staged_spec

    spec = staged_spec(layout, norm="mixed", dropout="seed", reg={"l2": 0.1, "biases": True})
    net = network(spec)
    assert tails.stackable(net, 1, whole=True) and not tails.stackable(net, 1)  # a batch a group
    report = nngrad.check(net, mode="full", worst=10**6)
    assert report.agree
    got = numeric_of(report)
    for name, d in oracle_stages.central_differences(spec).items():
        for index in np.ndindex(d.shape):
            assert got[(name, index)] == pytest.approx(d[index], rel=1e-6, abs=1e-9), (name, index)


@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
def test_fast_mode_through_stages_is_the_oracles_directional_differences(monkeypatch, norm):
    import oracle_stages
    from test_stages import staged_spec

    monkeypatch.setattr(tails, "BLOCK_BYTES", 1)  # one direction a block too
    spec = staged_spec("rows", norm=norm, dropout="mask")
    eps, directions = 1e-6, 3
    report = nngrad.check(network(spec), mode="fast", eps=eps, directions=directions, worst=100)
    numeric = {(name, index[0]): n for name, index, _, n, _ in report.worst}
    rng = np.random.default_rng(0)  # the seed check draws its directions from, tensor by tensor
    params = oracle_stages.params_of(spec)
    for key, p in params.items():
        kind = key.rstrip("0123456789")
        for j in range(directions):
            v = rng.standard_normal(p.shape)
            v /= np.linalg.norm(v)
            losses = [oracle_stages.loss(spec, {**params, key: p + s * eps * v}) for s in (1, -1)]
            name = oracle_stages.GRAD_NAME[kind] + key[len(kind):]
            assert numeric[(name, j)] == pytest.approx((losses[0] - losses[1]) / (2 * eps),
                                                       rel=1e-6, abs=1e-9), (name, j)


def test_full_mode_on_a_wide_net_holds_a_few_blocks_at_a_time():
    import tracemalloc

    net = network(random_spec(seed=38, widths=(4, 300, 2), hidden="softmax", m=32))
    tracemalloc.start()
    try:
        report = nngrad.check(net, mode="full")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.agree and report.settings["parameters"] == 2102
    # unchunked, W1's 1,200 entries would stack 2 x 1,200 x 32 rows of 300 units: 184 MB
    assert peak < 8 * tails.BLOCK_BYTES

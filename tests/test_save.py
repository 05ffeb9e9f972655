"""nngrad.save: a Network written as YAML or NPZ, which nngrad.load gives back equal."""

import numpy as np
import pytest

import nngrad
from conftest import SAMPLES, network, random_spec

LAYOUTS = ["rows", "columns"]
EXTENSIONS = ["yaml", "npz"]


def same_array(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def assert_same(net, back):
    """Every field of two networks equal, arrays bit for bit."""
    assert (back.loss, back.reduction, back.loss_params, back.layout, back.dtype) == \
        (net.loss, net.reduction, net.loss_params, net.layout, net.dtype)
    assert back.regularization == net.regularization
    assert same_array(back.X, net.X) and same_array(back.T, net.T)
    assert len(back.layers) == len(net.layers)
    for mine, theirs in zip(back.layers, net.layers):
        assert same_array(mine.W, theirs.W) and same_array(mine.b, theirs.b)
        assert (mine.activation, mine.params) == (theirs.activation, theirs.params)
        assert [key for key, _ in mine.stages] == [key for key, _ in theirs.stages]
        for (_, a), (_, b) in zip(mine.stages, theirs.stages):
            assert a._fields == b._fields
            for x, y in zip(a, b):
                assert same_array(x, y) if isinstance(x, np.ndarray) else (x == y and type(x) is type(y))


def staged(layout, dtype="float64"):
    """A 3-4-5-2 net: batchnorm (gamma and beta given) on layer 1, layernorm and a seeded dropout
    on layer 2, L2 and L1 regularization, leaky_relu with its alpha, 2-D biases."""
    spec = random_spec(seed=3, widths=(3, 4, 5, 2), hidden="leaky_relu", layout=layout, bias="2d", m=4)
    rng = np.random.default_rng(4)
    spec["layers"][0]["activation"] = {"name": "leaky_relu", "alpha": 0.2}
    spec["layers"][0]["batchnorm"] = {"gamma": rng.normal(1, 0.1, 4).tolist(),
                                      "beta": rng.normal(0, 0.1, 4).tolist(), "eps": 1e-3}
    spec["layers"][1]["layernorm"] = {}
    spec["layers"][1]["dropout"] = {"keep": 0.6, "seed": 123}
    spec["regularization"] = {"l2": 0.05, "form": "half_over_m", "l1": 0.01}
    spec["X"][0][:2] = [-0.0, 5e-324]  # a signed zero and a subnormal survive
    return network(spec, dtype)


@pytest.mark.parametrize("ext", EXTENSIONS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_staged_regularized_net_round_trips(tmp_path, layout, ext):
    net = staged(layout)
    nngrad.save(net, tmp_path / f"net.{ext}")
    assert_same(net, nngrad.load(str(tmp_path / f"net.{ext}")))


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_float32_net_round_trips(tmp_path, ext):
    net = staged("rows", "float32")
    nngrad.save(net, tmp_path / f"net.{ext}")
    back = nngrad.load(str(tmp_path / f"net.{ext}"))
    assert back.X.dtype == np.float32
    assert_same(net, back)


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_a_given_mask_and_labels_and_loss_parameters_round_trip(tmp_path, ext):
    spec = random_spec(seed=5, widths=(3, 4, 3), loss="svm", labels=True, m=4)
    spec["loss"] = {"name": "svm", "margin": 2.0, "reduction": "sum"}
    spec["layers"][0]["dropout"] = {"keep": 0.5, "mask": [[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 1],
                                                          [0, 0, 1, 1]], "inverted": False}
    net = network(spec)
    nngrad.save(net, tmp_path / f"net.{ext}")
    back = nngrad.load(str(tmp_path / f"net.{ext}"))
    assert back.loss_params == {"margin": 2.0} and back.reduction == "sum"
    assert back.layers[0].dropout.seed is None and back.T.tolist() == spec["T"]
    assert_same(net, back)


def test_a_seeded_dropout_is_written_as_its_seed(tmp_path):
    net = staged("rows")
    nngrad.save(net, tmp_path / "net.yaml")
    nngrad.save(net, tmp_path / "net.npz")
    text = (tmp_path / "net.yaml").read_text()
    assert "seed: 123" in text and "mask" not in text
    with np.load(tmp_path / "net.npz") as members:
        assert int(members["seed2"]) == 123 and "mask2" not in members


def test_defaults_are_left_out_of_the_yaml(tmp_path):
    net = nngrad.load(str(SAMPLES / "01_relu_mse.yaml"))
    nngrad.save(net, tmp_path / "net.yml")
    text = (tmp_path / "net.yml").read_text()
    assert "\nloss: mse\n" in text and "activation: relu\n" in text and "regularization" not in text


def test_the_saved_net_gives_the_same_results(tmp_path):
    net = staged("columns")
    nngrad.save(net, tmp_path / "net.npz")
    before, after = nngrad.run(net), nngrad.run(nngrad.load(str(tmp_path / "net.npz")))
    assert after.loss == before.loss
    assert all(same_array(after[name], before[name]) for name in before)


def test_an_unknown_extension_is_refused_and_nothing_written(tmp_path):
    with pytest.raises(nngrad.OutputError, match="extension '.txt'"):
        nngrad.save(staged("rows"), tmp_path / "net.txt")
    assert list(tmp_path.iterdir()) == []


def test_only_a_network_is_saved(tmp_path):
    with pytest.raises(TypeError, match="not dict"):
        nngrad.save({"X": [[1.0]]}, tmp_path / "net.yaml")

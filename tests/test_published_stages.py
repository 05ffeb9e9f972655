"""cs231n assignment 2's printed initial losses for FullyConnectedNet with dropout and with
batchnorm, reproduced from YAML specs alone.

The arrays are built as the notebooks build them: ``np.random.seed(231)``; N, D, H1, H2, C = 2, 15,
20, 30, 10; X = randn(N, D); y = randint(C, size=(N,)); then each model of the notebook's loop
draws W1 (D, H1), W2 (H1, H2), W3 (H2, C) as 5e-2 * randn, in that order, biases zeros
(``RandomState(231)`` gives the same numbers). Hidden layers are relu (with dropout, or with
batchnorm before the relu); the output is softmax with cross_entropy, batch_mean as cs231n's
softmax_loss.

- Dropout.ipynb: ``for dropout_keep_ratio in [1, 0.75, 0.5]``, a model each, ``seed=123``:
  dropout_forward calls np.random.seed(123) in each dropout layer, so each layer's mask is
  RandomState(123).rand(N, H) < keep. Printed: keep 0.75, initial loss 2.302371489704412. Keep 1
  (no dropout at all in cs231n) is the first model: FullyConnectedNets.ipynb's 2.3004790897684924.
- BatchNormalization.ipynb: ``for reg in [0, 3.14]``, normalization='batchnorm' (gamma 1, beta 0,
  eps 1e-5, training mode): reg = 0, the first model, initial loss 2.2611955101340957.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

import nngrad

N, D, H1, H2, C = 2, 15, 20, 30, 10


def notebook_arrays(models: int):
    """X, y and the weights of the first ``models`` models of a notebook's loop."""
    r = np.random.RandomState(231)
    X = r.randn(N, D)
    y = r.randint(C, size=(N,))
    dims = [D, H1, H2, C]
    return X, y, [[5e-2 * r.randn(dims[i], dims[i + 1]) for i in range(3)] for _ in range(models)]


def write_spec(path, X, y, Ws, stage) -> dict:
    """A YAML spec (every float as repr, so that it reads back exactly); ``stage(n)`` gives the
    keys a hidden layer of n units adds. Returns the spec as written."""
    layers = [{"W": W.tolist(), "b": [0.0] * W.shape[1], "activation": a,
               **(stage(W.shape[1]) if a == "relu" else {})}
              for W, a in zip(Ws, ("relu", "relu", "softmax"))]
    spec = {"loss": "cross_entropy", "X": X.tolist(), "T": y.tolist(), "layers": layers}
    path.write_text(yaml.safe_dump(spec, default_flow_style=None, sort_keys=False))
    return spec


def load_exact(path, X, Ws):
    net = nngrad.load(path)
    assert np.array_equal(net.X, X)
    assert all(np.array_equal(layer.W, W) for layer, W in zip(net.layers, Ws))
    return net


def cli_loss(path) -> float:
    proc = subprocess.run([sys.executable, "-m", "nngrad", "run", str(path), "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["loss"]["value"]


@pytest.mark.parametrize("model, keep, published", [
    (1, 0.75, 2.302371489704412),  # Dropout.ipynb, "Running check with dropout = 0.75"
    (0, 1, 2.3004790897684924),    # the first model: no unit dropped
])
def test_cs231n_dropout_initial_loss(tmp_path, model, keep, published):
    X, y, models = notebook_arrays(3)
    path = tmp_path / "dropout.yaml"
    write_spec(path, X, y, models[model], lambda n: {"dropout": {"keep": keep, "seed": 123}})
    net = load_exact(path, X, models[model])
    for layer in net.layers[:2]:  # dropout_forward's mask, drawn afresh in each layer
        want = np.random.RandomState(123).rand(N, layer.W.shape[1]) < keep
        np.testing.assert_array_equal(layer.dropout.mask, want)
    assert nngrad.run(net).loss == pytest.approx(published, rel=1e-12)
    assert cli_loss(path) == pytest.approx(published, rel=1e-12)


def test_cs231n_batchnorm_initial_loss(tmp_path):
    # BatchNormalization.ipynb, "Running check with reg = 0 / Initial loss: 2.2611955101340957"
    X, y, models = notebook_arrays(1)
    path = tmp_path / "batchnorm.yaml"
    write_spec(path, X, y, models[0],
               lambda n: {"batchnorm": {"gamma": [1.0] * n, "beta": [0.0] * n, "eps": 1e-5}})
    net = load_exact(path, X, models[0])
    assert nngrad.run(net).loss == pytest.approx(2.2611955101340957, rel=1e-12)
    assert cli_loss(path) == pytest.approx(2.2611955101340957, rel=1e-12)


def test_cs231n_batchnorm_defaults_are_the_notebooks(tmp_path):
    # gamma, beta and eps left out: ones, zeros and 1e-5, cs231n's initial values
    X, y, models = notebook_arrays(1)
    path = tmp_path / "batchnorm_defaults.yaml"
    write_spec(path, X, y, models[0], lambda n: {"batchnorm": {}})
    assert nngrad.run(load_exact(path, X, models[0])).loss == pytest.approx(2.2611955101340957,
                                                                            rel=1e-12)

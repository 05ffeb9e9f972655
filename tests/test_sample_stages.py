"""The sample nets with stages hold cs231n assignment 2's arrays, drawn as its notebooks draw them,
and give the notebooks' published initial losses."""

import numpy as np
import pytest
import yaml

import nngrad
from conftest import SAMPLES

PUBLISHED = {"05_cs231n_batchnorm.yaml": 2.2611955101340957, "06_cs231n_dropout.yaml": 2.302371489704412}


def notebook_arrays(models_before: int):
    """X, y and the weights of the (models_before + 1)-th FullyConnectedNet after seed 231."""
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X, y = np.random.randn(N, D), np.random.randint(C, size=(N,))
    dims = (D, H1, H2, C)
    for _ in range(models_before + 1):
        Ws = [5e-2 * np.random.randn(a, b) for a, b in zip(dims, dims[1:])]
    return X, y, Ws


@pytest.mark.parametrize("name, models_before", [("05_cs231n_batchnorm.yaml", 0),
                                                 ("06_cs231n_dropout.yaml", 1)])
def test_sample_holds_the_notebooks_arrays(name, models_before):
    spec = yaml.safe_load((SAMPLES / name).read_text())
    X, y, Ws = notebook_arrays(models_before)
    np.testing.assert_array_equal(spec["X"], X)
    assert spec["T"] == y.tolist()
    for layer, W in zip(spec["layers"], Ws):
        np.testing.assert_array_equal(layer["W"], W)
        assert layer["b"] == [0.0] * W.shape[1]


@pytest.mark.parametrize("name", PUBLISHED)
def test_sample_gives_the_published_initial_loss(name):
    assert nngrad.run(nngrad.load(SAMPLES / name)).loss == pytest.approx(PUBLISHED[name], rel=1e-13)

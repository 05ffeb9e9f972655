"""The sample nets reproduce the figures published with the networks they come from."""

import numpy as np
import pytest

import nngrad
from conftest import SAMPLES


def test_mazur_published_figures():
    # Matt Mazur, "A Step by Step Backpropagation Example"
    res = nngrad.run(nngrad.load(SAMPLES / "04_mazur.yaml"))
    assert res.loss == pytest.approx(0.298371109, abs=1e-9)
    assert res["dW2"][0, 0] == pytest.approx(0.082167041, abs=1e-9)   # dE/dw5
    assert res["dW1"][0, 0] == pytest.approx(0.000438568, abs=1e-9)   # dE/dw1


def test_seed_1_matches_the_accepted_answers_formulas():
    # The accepted answer's backward pass for the 4-6-6-6-1 ReLU net with MSE, written as it was:
    # DY = 2*(Y-T); DB4 = DY.mean(axis=0); DW4 = A3.T.dot(DY) / len(X); DZ3 = DY.dot(W4.T) * (Z3 > 0)
    net = nngrad.load(SAMPLES / "01_relu_mse.yaml")
    X, T = net.X, net.T
    (W1, B1), (W2, B2), (W3, B3), (W4, B4) = [(l.W, l.b) for l in net.layers]
    Z1 = X.dot(W1) + B1; A1 = np.maximum(0, Z1)
    Z2 = A1.dot(W2) + B2; A2 = np.maximum(0, Z2)
    Z3 = A2.dot(W3) + B3; A3 = np.maximum(0, Z3)
    Y = A3.dot(W4) + B4
    err = ((Y - T) ** 2).mean()
    DY = 2 * (Y - T)
    DB4 = DY.mean(axis=0)
    DW4 = A3.T.dot(DY) / len(X)
    DZ3 = DY.dot(W4.T) * (Z3 > 0)
    DW3 = A2.T.dot(DZ3) / len(X)

    res = nngrad.run(net)
    assert res.loss == pytest.approx(err, rel=1e-14)
    np.testing.assert_allclose(res["dA4"], DY, rtol=1e-14)
    np.testing.assert_allclose(res["dB4"], DB4, rtol=1e-14)
    np.testing.assert_allclose(res["dW4"], DW4, rtol=1e-14)
    np.testing.assert_allclose(res["dZ3"], DZ3, rtol=1e-14)
    np.testing.assert_allclose(res["dW3"], DW3, rtol=1e-14)


@pytest.mark.parametrize("name", ["01_relu_mse.yaml", "02_sigmoid_half_sse.yaml",
                                  "03_mnist_columns.yaml", "04_mazur.yaml"])
def test_every_sample_net_runs_and_starts_with_a_comment(name):
    assert (SAMPLES / name).read_text().startswith("# Sample net")
    res = nngrad.run(nngrad.load(SAMPLES / name))
    assert res.first_nonfinite() is None


def test_mnist_sample_is_columns_layout_784_32_10():
    net = nngrad.load(SAMPLES / "03_mnist_columns.yaml")
    assert (net.layout, net.widths, net.loss) == ("columns", (784, 32, 10), "cross_entropy")
    res = nngrad.run(net)
    assert res["dW1"].shape == (32, 784) and res["dB2"].shape == (10, 1)

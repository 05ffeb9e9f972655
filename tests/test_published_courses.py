"""nngrad specs reproduce the figures printed in cs231n's and deeplearning.ai's notebooks.

Each test builds the arrays exactly as the course code does (the same seeds and the same order of
random draws: ``np.random.RandomState(s)`` gives the very numbers of ``np.random.seed(s)`` followed
by the same calls), writes them into a YAML spec (every number as ``repr(float)``, so that it reads
back exactly), loads and runs it, and compares with the printed figure at its printed precision.

Sources (read in these repositories; the figures are the ones the course's own code prints, and
were checked by running that code before these tests were written):
- cs231n 2018, Aneureka/cs231n-assignments-2018: ``assignment1/two_layer_net.ipynb`` with
  ``assignment1/cs231n/classifiers/neural_net.py``; ``assignment2/FullyConnectedNets.ipynb`` with
  ``assignment2/cs231n/classifiers/fc_net.py`` and ``assignment2/cs231n/layers.py`` (the same cells
  and printed numbers are in 0809zheng/CS231n-assignment2019).
- deeplearning.ai Course 2 Week 1, amanchadha/coursera-deep-learning-specialization:
  ``C2 - Improving Deep Neural Networks Hyperparameter tuning, Regularization and Optimization/
  Week 1/Regularization/Regularization_v2a.ipynb`` and ``testCases.py`` in that folder.
"""

import numpy as np
import pytest

import nngrad


# ---------------------------------------------------------------------------------------------
# Writing a spec as YAML, every float as repr(float), and loading it back exactly

def _num(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("a spec number, not a boolean")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


def _flow(a) -> str:
    """A nested list (or array) as a YAML flow sequence."""
    if isinstance(a, np.ndarray):
        a = a.tolist()
    if isinstance(a, (list, tuple)):
        return "[" + ", ".join(_flow(x) for x in a) + "]"
    return _num(a)


def _matrix(key: str, a, indent: str = "") -> list:
    a = np.asarray(a)
    if a.ndim == 1:
        return [f"{indent}{key}: {_flow(a)}"]
    return [f"{indent}{key}:"] + [f"{indent}  - {_flow(row)}" for row in a]


def _mapping(d) -> str:
    if isinstance(d, str):
        return d
    return "{" + ", ".join(f"{k}: {v if isinstance(v, str) else _num(v)}" for k, v in d.items()) + "}"


def write_spec(path, *, X, T, layers, loss, layout="rows", regularization=None):
    """Write a spec; ``layers`` is a list of (W, b, activation); T may be a vector of labels."""
    lines = [f"layout: {layout}", f"loss: {_mapping(loss)}"]
    if regularization is not None:
        lines.append(f"regularization: {_mapping(regularization)}")
    lines += _matrix("X", X)
    T = np.asarray(T)
    lines += [f"T: {_flow(T)}"] if T.ndim == 1 else _matrix("T", T)
    lines.append("layers:")
    for W, b, activation in layers:
        lines.append(f"  - activation: {activation}")
        lines += _matrix("W", W, "    ")
        lines += _matrix("b", b, "    ")
    path.write_text("\n".join(lines) + "\n")
    return path


def load_exact(path, X, layers):
    """nngrad.load(path), after making sure every array read back bit for bit."""
    net = nngrad.load(path)
    assert np.array_equal(net.X, X)
    for layer, (W, b, _) in zip(net.layers, layers):
        assert np.array_equal(layer.W, W) and np.array_equal(layer.b, b)
    return net


# ---------------------------------------------------------------------------------------------
# 1. cs231n assignment 1, two_layer_net.ipynb: the toy model

def _cs231n_toy():
    # two_layer_net.ipynb, cell "Create a small net and some toy data":
    #   input_size, hidden_size, num_classes, num_inputs = 4, 10, 3, 5
    #   init_toy_model(): np.random.seed(0); TwoLayerNet(input_size, hidden_size, num_classes, std=1e-1)
    #   init_toy_data():  np.random.seed(1); X = 10 * np.random.randn(num_inputs, input_size)
    #                     y = np.array([0, 1, 2, 2, 1])
    # neural_net.py TwoLayerNet.__init__: W1 = std * randn(D, H); b1 = zeros(H);
    #                                     W2 = std * randn(H, C); b2 = zeros(C)
    r = np.random.RandomState(0)
    W1 = 1e-1 * r.randn(4, 10)
    b1 = np.zeros(10)
    W2 = 1e-1 * r.randn(10, 3)
    b2 = np.zeros(3)
    X = 10 * np.random.RandomState(1).randn(5, 4)
    y = np.array([0, 1, 2, 2, 1])
    return X, y, [(W1, b1, "relu"), (W2, b2, "softmax")]


def test_cs231n_two_layer_net_toy_scores(tmp_path):
    # Aneureka/cs231n-assignments-2018 assignment1/two_layer_net.ipynb, "Forward pass: compute
    # scores" cell: correct_scores, printed to 8 decimals (our scores are the affine output Z2;
    # the softmax is part of the loss in cs231n).
    X, y, layers = _cs231n_toy()
    net = load_exact(write_spec(tmp_path / "toy.yaml", X=X, T=y, layers=layers,
                                loss="cross_entropy"), X, layers)
    correct_scores = np.asarray([
        [-0.81233741, -1.27654624, -0.70335995],
        [-0.17129677, -1.18803311, -0.47310444],
        [-0.51590475, -1.01354314, -0.8504215],
        [-0.15419291, -0.48629638, -0.52901952],
        [-0.00618733, -0.12435261, -0.15226949]])
    np.testing.assert_allclose(nngrad.run(net)["Z2"], correct_scores, rtol=0, atol=5e-9)


def test_cs231n_two_layer_net_toy_loss_reg_005(tmp_path):
    # Aneureka/cs231n-assignments-2018 assignment1/two_layer_net.ipynb, "Forward pass: compute
    # loss" cell: loss, _ = net.loss(X, y, reg=0.05); correct_loss = 1.30378789133 ("should be very
    # small, we get < 1e-12"). neural_net.py: softmax loss averaged over N, plus
    # reg * (sum W1^2 + sum W2^2): nngrad's form `full`. The course code gives data loss
    # 1.2658570521180532 and penalty 0.03793083921176699.
    X, y, layers = _cs231n_toy()
    net = load_exact(write_spec(tmp_path / "toy_reg.yaml", X=X, T=y, layers=layers,
                                loss="cross_entropy", regularization={"l2": 0.05, "form": "full"}),
                     X, layers)
    res = nngrad.run(net)
    assert res.loss == pytest.approx(1.30378789133, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# 2. cs231n assignment 2, FullyConnectedNets.ipynb: TwoLayerNet with the linspace weights

def _cs231n_linspace_net():
    # FullyConnectedNets.ipynb, "Two-layer network" cell:
    #   np.random.seed(231); N, D, H, C = 3, 5, 50, 7
    #   X = np.random.randn(N, D); y = np.random.randint(C, size=N)
    #   std = 1e-3; model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=std)
    #   (those random draws are then all replaced:)
    #   model.params['W1'] = np.linspace(-0.7, 0.3, num=D*H).reshape(D, H)
    #   model.params['b1'] = np.linspace(-0.1, 0.9, num=H)
    #   model.params['W2'] = np.linspace(-0.3, 0.4, num=H*C).reshape(H, C)
    #   model.params['b2'] = np.linspace(-0.9, 0.1, num=C)
    #   X = np.linspace(-5.5, 4.5, num=N*D).reshape(D, N).T;  y = np.asarray([0, 5, 1])
    # affine_forward reshapes X to (N, D) and computes X @ W + b: the rows layout.
    N, D, H, C = 3, 5, 50, 7
    W1 = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    b1 = np.linspace(-0.1, 0.9, num=H)
    W2 = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    b2 = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    y = np.asarray([0, 5, 1])
    return X, y, [(W1, b1, "relu"), (W2, b2, "softmax")]


def test_cs231n_fc_two_layer_net_scores_and_loss_without_reg(tmp_path):
    # Aneureka/cs231n-assignments-2018 assignment2/FullyConnectedNets.ipynb, "Two-layer network"
    # cell: correct_scores (8 decimals; the notebook asserts a summed difference < 1e-6) and
    # correct_loss = 3.4702243556 with no regularization (asserted to 1e-10).
    X, y, layers = _cs231n_linspace_net()
    net = load_exact(write_spec(tmp_path / "fc2.yaml", X=X, T=y, layers=layers,
                                loss="cross_entropy"), X, layers)
    res = nngrad.run(net)
    correct_scores = np.asarray([
        [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
        [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
        [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319]])
    np.testing.assert_allclose(res["Z2"], correct_scores, rtol=0, atol=5e-9)
    assert res.loss == pytest.approx(3.4702243556, abs=5e-11)


def test_cs231n_fc_two_layer_net_loss_reg_1(tmp_path):
    # The same cell: model.reg = 1.0; correct_loss = 26.5948426952 (asserted to 1e-10; compared
    # here at its printed 10 decimals). fc_net.py adds 0.5 * reg * (sum W1^2 + sum W2^2): nngrad's
    # form `half`. The course code gives data loss 3.47022435559539 and penalty 23.12461833964319.
    X, y, layers = _cs231n_linspace_net()
    net = load_exact(write_spec(tmp_path / "fc2_reg.yaml", X=X, T=y, layers=layers,
                                loss="cross_entropy", regularization={"l2": 1.0, "form": "half"}),
                     X, layers)
    assert nngrad.run(net).loss == pytest.approx(26.5948426952, abs=5e-11)


# ---------------------------------------------------------------------------------------------
# 3. cs231n assignment 2, FullyConnectedNets.ipynb: FullyConnectedNet([20, 30]), initial loss

def _cs231n_fc_net():
    # FullyConnectedNets.ipynb, "Initial loss and gradient check" cell:
    #   np.random.seed(231); N, D, H1, H2, C = 2, 15, 20, 30, 10
    #   X = np.random.randn(N, D); y = np.random.randint(C, size=(N,))
    #   for reg in [0, 3.14]:
    #     model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
    #                               weight_scale=5e-2, dtype=np.float64)
    #     loss, grads = model.loss(X, y); print('Initial loss: ', loss)
    # fc_net.py draws W1, W2, W3 in that order, each np.random.normal(0, weight_scale, (d_in, d_out))
    # (the same numbers as weight_scale * np.random.randn(d_in, d_out)), biases zeros. The model
    # with reg = 3.14 is the second one made, so its weights are the second three draws; the
    # gradient check in between draws no random numbers.
    r = np.random.RandomState(231)
    X = r.randn(2, 15)
    y = r.randint(10, size=(2,))
    dims = [15, 20, 30, 10]
    models = []
    for _ in (0, 3.14):
        Ws = [r.normal(0, 5e-2, (dims[i], dims[i + 1])) for i in range(3)]
        models.append([(W, np.zeros(W.shape[1]), a) for W, a in zip(Ws, ("relu", "relu", "softmax"))])
    return X, y, models


def test_cs231n_fully_connected_net_initial_loss_without_reg(tmp_path):
    # Aneureka/cs231n-assignments-2018 assignment2/FullyConnectedNets.ipynb, the cell above,
    # printed output: "Running check with reg =  0 / Initial loss:  2.3004790897684924".
    X, y, (layers, _) = _cs231n_fc_net()
    net = load_exact(write_spec(tmp_path / "fcn0.yaml", X=X, T=y, layers=layers,
                                loss="cross_entropy"), X, layers)
    assert nngrad.run(net).loss == pytest.approx(2.3004790897684924, rel=1e-14)


def test_cs231n_fully_connected_net_initial_loss_reg_314(tmp_path):
    # The same cell, printed output: "Running check with reg =  3.14 / Initial loss:
    # 7.052114776533016" (printed in full; compared to a few units in the last place).
    # fc_net.py adds reg * sum over W1..W3 of 0.5 * sum W^2: the default form, half.
    # The course code gives data loss 2.3016482157750753 and penalty 4.750466560757941.
    X, y, (_, layers) = _cs231n_fc_net()
    net = load_exact(write_spec(tmp_path / "fcn314.yaml", X=X, T=y, layers=layers,
                                loss="cross_entropy", regularization={"l2": 3.14}), X, layers)
    assert nngrad.run(net).loss == pytest.approx(7.052114776533016, rel=1e-14)


# ---------------------------------------------------------------------------------------------
# 4. cs231n assignment 2, FullyConnectedNets.ipynb: svm_loss and softmax_loss on raw scores

def _cs231n_loss_check():
    # FullyConnectedNets.ipynb, "Loss layers: Softmax and SVM" cell:
    #   np.random.seed(231); num_classes, num_inputs = 10, 50
    #   x = 0.001 * np.random.randn(num_inputs, num_classes)
    #   y = np.random.randint(num_classes, size=num_inputs)
    # As a network: one layer with W = I and b = 0, so that Z1 = x @ I + 0 = x exactly.
    r = np.random.RandomState(231)
    x = 0.001 * r.randn(50, 10)
    y = r.randint(10, size=50)
    return x, y


def _svm_loss(x, y):
    # layers.py svm_loss, as given with the assignment
    N = x.shape[0]
    correct_class_scores = x[np.arange(N), y]
    margins = np.maximum(0, x - correct_class_scores[:, np.newaxis] + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    num_pos = np.sum(margins > 0, axis=1)
    dx = np.zeros_like(x)
    dx[margins > 0] = 1
    dx[np.arange(N), y] -= num_pos
    dx /= N
    return loss, dx


def _softmax_loss(x, y):
    # layers.py softmax_loss, as given with the assignment
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def test_cs231n_svm_loss(tmp_path):
    # Aneureka/cs231n-assignments-2018 assignment2/FullyConnectedNets.ipynb, the cell above,
    # printed: "Testing svm_loss: / loss:  8.999602749096233" (in full). Multiclass hinge with
    # margin 1, averaged over the N examples: nngrad's svm, batch_mean. No margin is near its kink
    # (every |x_j - x_y + 1| > 0.99). With W = I in the rows layout, dZ1 = dA1 = dLoss/dx.
    x, y = _cs231n_loss_check()
    layers = [(np.eye(10), np.zeros(10), "identity")]
    net = load_exact(write_spec(tmp_path / "svm.yaml", X=x, T=y, layers=layers,
                                loss={"name": "svm", "margin": 1.0}), x, layers)
    res = nngrad.run(net)
    assert res.loss == pytest.approx(8.999602749096233, rel=1e-14)
    loss, dx = _svm_loss(x, y)
    assert loss == 8.999602749096233   # the course's own code, as printed
    np.testing.assert_array_equal(res["Z1"], x)
    np.testing.assert_allclose(res["dA1"], dx, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res["dZ1"], dx, rtol=1e-12, atol=1e-15)


def test_cs231n_svm_loss_input_gradient(tmp_path):
    # The same check through the input gradient: dA0 = dLoss/dX = dZ1 @ I.T, cs231n's dx.
    x, y = _cs231n_loss_check()
    layers = [(np.eye(10), np.zeros(10), "identity")]
    net = load_exact(write_spec(tmp_path / "svm_dx.yaml", X=x, T=y, layers=layers, loss="svm"),
                     x, layers)
    res = nngrad.run(net, input_grad=True)
    assert res["dA0"].shape == x.shape
    np.testing.assert_allclose(res["dA0"], _svm_loss(x, y)[1], rtol=1e-12, atol=1e-15)


def test_cs231n_softmax_loss(tmp_path):
    # The same cell, printed: "Testing softmax_loss: / loss:  2.302545844500738". As a network:
    # W = I, b = 0, softmax output, cross_entropy with the labels (batch_mean).
    x, y = _cs231n_loss_check()
    layers = [(np.eye(10), np.zeros(10), "softmax")]
    net = load_exact(write_spec(tmp_path / "softmax.yaml", X=x, T=y, layers=layers,
                                loss="cross_entropy"), x, layers)
    res = nngrad.run(net)
    assert res.loss == pytest.approx(2.302545844500738, rel=1e-14)
    np.testing.assert_allclose(res["dZ1"], _softmax_loss(x, y)[1], rtol=1e-10, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# 5. deeplearning.ai Course 2 Week 1, Regularization: backward propagation with L2, lambd = 0.7

def _dlai_regularization_case():
    # testCases.py, backward_propagation_with_regularization_test_case():
    #   np.random.seed(1); X_assess = np.random.randn(3, 5); Y_assess = np.array([[1, 1, 0, 1, 0]])
    #   cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3), written out to 8 decimals. Its
    #   W and b are the next draws after X, W1 = randn(2, 3), b1 = randn(2, 1), W2 = randn(3, 2),
    #   b2 = randn(3, 1), W3 = randn(1, 3), b3 = randn(1, 1) (the order in which the same file's
    #   forward_propagation_with_dropout_test_case draws them), and its Z and A are the forward
    #   pass LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID through them: every entry of the cache
    #   is one of these, rounded to 8 decimals.
    # Columns layout: X is (n0, m), Z = W @ A_prev + b, b is (n, 1).
    r = np.random.RandomState(1)
    X = r.randn(3, 5)
    Y = np.array([[1, 1, 0, 1, 0]])
    W1, b1 = r.randn(2, 3), r.randn(2, 1)
    W2, b2 = r.randn(3, 2), r.randn(3, 1)
    W3, b3 = r.randn(1, 3), r.randn(1, 1)
    return X, Y, [(W1, b1, "relu"), (W2, b2, "relu"), (W3, b3, "sigmoid")]


def test_dlai_backward_propagation_with_regularization(tmp_path):
    # amanchadha/coursera-deep-learning-specialization, C2 .../Week 1/Regularization/
    # Regularization_v2a.ipynb, the cell after "GRADED FUNCTION: backward_propagation_with_
    # regularization": grads = backward_propagation_with_regularization(X_assess, Y_assess, cache,
    # lambd = 0.7), printed dW1, dW2, dW3 (8 decimals; the same in "Expected Output").
    # Its backward starts from dZ3 = A3 - Y and takes 1/m of each product: the cross-entropy cost
    # of reg_utils.compute_cost, 1/m * sum of -(Y log A3 + (1 - Y) log(1 - A3)), is nngrad's bce
    # with reduction mean (one output unit: the mean over the 1 x m elements divides by m).
    # Each dW adds (lambd / m) * W, the gradient of lambd / (2m) * sum W^2: form half_over_m.
    # From the full-precision draws the course code's dW round to the same 8 decimals (within
    # 4.1e-9 of the printed ones).
    X, Y, layers = _dlai_regularization_case()
    net = load_exact(write_spec(tmp_path / "dlai.yaml", X=X, T=Y, layers=layers, layout="columns",
                                loss={"name": "bce", "reduction": "mean"},
                                regularization={"l2": 0.7, "form": "half_over_m"}), X, layers)
    res = nngrad.run(net)
    printed = {
        "dW1": [[-0.25604646, 0.12298827, -0.28297129],
                [-0.17706303, 0.34536094, -0.4410571]],
        "dW2": [[0.79276486, 0.85133918],
                [-0.0957219, -0.01720463],
                [-0.13100772, -0.03750433]],
        "dW3": [[-1.77691347, -0.11832879, -0.09397446]],
    }
    for name, value in printed.items():
        assert res[name].shape == np.shape(value)
        np.testing.assert_allclose(res[name], value, rtol=0, atol=5e-9, err_msg=name)


def test_dlai_regularization_biases_and_cost_follow_the_course_code(tmp_path):
    # The course's own formulas on the same network (Regularization_v2a.ipynb's graded
    # backward_propagation_with_regularization and compute_cost_with_regularization, with
    # reg_utils.compute_cost): the biases carry no penalty (db = 1/m * sum dZ), and the cost is
    # the cross-entropy cost plus lambd / (2m) * (sum W1^2 + sum W2^2 + sum W3^2).
    # The course code gives cross-entropy 1.602501558316293, penalty 0.5385906646507518,
    # cost 2.141092222967045.
    X, Y, layers = _dlai_regularization_case()
    (W1, b1, _), (W2, b2, _), (W3, b3, _) = layers
    lambd, m = 0.7, X.shape[1]
    Z1 = np.dot(W1, X) + b1; A1 = np.maximum(0, Z1)
    Z2 = np.dot(W2, A1) + b2; A2 = np.maximum(0, Z2)
    Z3 = np.dot(W3, A2) + b3; A3 = 1 / (1 + np.exp(-Z3))
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1. / m * np.nansum(logprobs) \
        + lambd * (np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3))) / (2 * m)
    dZ3 = A3 - Y
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
    dZ2 = np.multiply(np.dot(W3.T, dZ3), np.int64(A2 > 0))
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.multiply(np.dot(W2.T, dZ2), np.int64(A1 > 0))
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)

    net = load_exact(write_spec(tmp_path / "dlai.yaml", X=X, T=Y, layers=layers, layout="columns",
                                loss="bce", regularization={"l2": 0.7, "form": "half_over_m"}),
                     X, layers)
    res = nngrad.run(net)
    assert res.loss == pytest.approx(cost, rel=1e-12)
    assert cost == pytest.approx(2.141092222967045, rel=1e-14)
    for name, value in (("dB1", db1), ("dB2", db2), ("dB3", db3)):
        assert res[name].shape == value.shape
        np.testing.assert_allclose(res[name], value, rtol=1e-12, atol=1e-15, err_msg=name)


# ---------------------------------------------------------------------------------------------
# The penalty apart from the data loss, as the course code splits them (for debugging)

@pytest.mark.parametrize("case, loss_data, penalty", [
    ("toy", 1.2658570521180532, 0.03793083921176699),         # figure 1, reg 0.05, full
    ("linspace", 3.47022435559539, 23.12461833964319),        # figure 2, reg 1.0, half
    ("fc_net", 2.3016482157750753, 4.750466560757941),        # figure 3, reg 3.14, half
])
def test_cs231n_loss_splits_into_data_loss_and_penalty(tmp_path, case, loss_data, penalty):
    # The values are the course code's own data loss and penalty for figures 1 to 3
    # (neural_net.py and fc_net.py of Aneureka/cs231n-assignments-2018, run on the same arrays).
    if case == "toy":
        X, y, layers = _cs231n_toy()
        reg = {"l2": 0.05, "form": "full"}
    elif case == "linspace":
        X, y, layers = _cs231n_linspace_net()
        reg = {"l2": 1.0, "form": "half"}
    else:
        X, y, (_, layers) = _cs231n_fc_net()
        reg = {"l2": 3.14}
    net = load_exact(write_spec(tmp_path / f"{case}.yaml", X=X, T=y, layers=layers,
                                loss="cross_entropy", regularization=reg), X, layers)
    res = nngrad.run(net)
    assert res.loss_data == pytest.approx(loss_data, rel=1e-13)
    assert res.penalty == pytest.approx(penalty, rel=1e-13)
    assert res.loss == pytest.approx(res.loss_data + res.penalty, rel=1e-15)

"""nngrad explain --error: a NumPy shape error of the user's backprop, placed in the equations.

Every message is raised by NumPy itself, on the network's real arrays (or on arrays of the
shapes a mistake gives). The expected equation and fix are written from the layouts' rules,
rows: dA_{l-1} = dZ_l @ W_l.T, dW_l = A_{l-1}.T @ dZ_l; columns: dA_{l-1} = W_l.T @ dZ_l,
dW_l = dZ_l @ A_{l-1}.T. Besides, every match is checked with NumPy: its fix, run on the
arrays, gives nngrad.run's array, and what it says the user wrote, run, fails as reported.
"""

import json
import re
import traceback

import numpy as np
from click.testing import CliRunner

import nngrad
from conftest import SAMPLES, network, random_spec
from nngrad.cli.exits import _outcome
from nngrad.equations.mismatch import read_error
from nngrad.equations.expr import OPS
from nngrad.equations.notation import code

NET2 = SAMPLES / "02_sigmoid_half_sse.yaml"


def raised(f) -> str:
    """The message of the ValueError that ``f()`` raises (NumPy's own words)."""
    try:
        f()
    except ValueError as e:
        return str(e)
    raise AssertionError("NumPy raised nothing")


def rows2():
    return nngrad.load(NET2)


def columns2():
    """Sample net 2 in the columns layout: X, T and every W transposed, every b a column."""
    net = rows2()
    layers = tuple(nngrad.Layer(l.W.T, l.b.reshape(-1, 1), l.activation) for l in net.layers)
    return nngrad.Network(net.X.T, net.T.T, layers, net.loss, layout="columns")


def batch_net(layout="rows"):
    """3-5-2, tanh then identity, mse, m = 4: no two sizes equal."""
    return network(random_spec(seed=1, widths=(3, 5, 2), m=4, layout=layout))


def arrays(net):
    res = nngrad.run(net, input_grad=True)
    env = {k: res[k] for k in res.keys()}
    env.update(X=net.X, T=net.T)
    for l, layer in enumerate(net.layers, start=1):
        env[f"W{l}"], env[f"b{l}"] = layer.W, layer.b
    return res, env


def fails_with(op, a, b, form) -> str:
    if form == "dot":
        return raised(lambda: np.dot(a, b))
    return raised(lambda: eval(f"_a {OPS[op][2]} _b", {"_a": a, "_b": b}))


def shapes_in(message: str) -> set:
    return set(re.findall(r"\(([\d,]*)\)", message))


def assert_every_match_holds(net, ee, message):
    """Each fix, run, gives nngrad's array; each writing, run, raises the reported error."""
    res, env = arrays(net)
    for m in ee.matches:
        scope = dict(env)
        exec(m.fix, {"np": np}, scope)
        name = m.equation.lhs.name
        np.testing.assert_allclose(scope[name], res.loss if name == "L" else res[name], rtol=1e-12)
        a, b = (eval(code(x), {"np": np}, env) for x in (m.wrote.a, m.wrote.b))
        again = fails_with(m.wrote.op, a, b, ee.reported.form)
        if ee.reported.form == "broadcast":  # an elementwise operation commutes
            assert shapes_in(again) == shapes_in(message), (m.fix, again)
        else:
            assert again == message, (m.fix, again)


def top(matches):
    m = matches[0]
    return m.equation.lhs.name, m.equation.layer, m.equation.part, m.kind, m.fix


def outcome(*args, input=None):
    """(exit status, stdout, stderr) of ``nngrad ARGS``, in process, as main gives them (piped,
    COLUMNS unset: lines not wrapped)."""
    with CliRunner().isolation(input=input, env={"COLUMNS": None}) as (out, err, _):
        status = _outcome([str(a) for a in args])
    return status, out.getvalue().decode(), err.getvalue().decode()


# --- rows: sample net 2, the question's own error --------------------------------------

def test_the_columns_order_in_rows_is_da2_in_the_other_order():
    net = rows2()
    res = nngrad.run(net)
    message = raised(lambda: np.dot(net.layers[2].W.T, res["dZ3"]))  # np.dot(weights[i].T, z)
    ee = nngrad.explain_error(net, message)
    assert top(ee.matches) == ("dA2", 2, "backward", "order", "dA2 = dZ3 @ W3.T")
    assert "columns layout" in ee.matches[0].how
    assert_every_match_holds(net, ee, message)


def test_the_order_comes_before_a_missing_transpose_of_the_same_shapes():
    net = rows2()
    res = nngrad.run(net)
    ee = nngrad.explain_error(net, raised(lambda: np.dot(net.layers[2].W.T, res["dZ3"])))
    # A2 (1×5) · dZ3 (1×1), dW3 with A2's transpose left out, fails with the same shapes
    assert [(m.equation.lhs.name, m.kind) for m in ee.matches] == [("dA2", "order"), ("dW3", "transpose")]
    assert ee.matches[1].fix == "dW3 = A2.T @ dZ3"


def test_the_matmul_message_finds_da2_first_of_the_backward_pass():
    net = rows2()
    res = nngrad.run(net)
    message = raised(lambda: net.layers[2].W.T @ res["dZ3"])
    ee = nngrad.explain_error(net, message)
    assert ee.reported.form == "matmul" and ee.reported.inner == (5, 1)
    # matmul names only the inner sizes: forward products (W1 · X) fit as well, listed after
    # the backward ones of the same kind of mistake
    assert top(ee.matches) == ("dA2", 2, "backward", "order", "dA2 = dZ3 @ W3.T")
    assert any(m.equation.part == "forward" and m.kind == "order" for m in ee.matches)
    kinds = [m.kind for m in ee.matches]
    assert kinds == sorted(kinds, key=["order", "transpose", "transposes", "order and transpose"].index)
    assert_every_match_holds(net, ee, message)


def test_a_missing_transpose_of_w3_is_listed_for_da2():
    net = rows2()
    res = nngrad.run(net)
    message = raised(lambda: np.dot(res["dZ3"], net.layers[2].W))
    ee = nngrad.explain_error(net, message)
    found = [(m.equation.lhs.name, m.kind, m.fix) for m in ee.matches]
    assert ("dA2", "transpose", "dA2 = dZ3 @ W3.T") in found
    # with one example, dZ3 @ A2.T (dW3 in the columns order) has the same shapes, (1,1) and
    # (5,1): a swapped order is ranked first, as the issue asks
    assert found[0] == ("dW3", "order", "dW3 = A2.T @ dZ3")
    assert_every_match_holds(net, ee, message)


def test_a_missing_transpose_with_a_batch_is_the_only_match():
    net = batch_net()
    res = nngrad.run(net)
    message = raised(lambda: np.dot(res["dZ2"], net.layers[1].W))  # (4,2) · (5,2)
    ee = nngrad.explain_error(net, message)
    assert len(ee.matches) == 1
    assert top(ee.matches) == ("dA1", 1, "backward", "transpose", "dA1 = dZ2 @ W2.T")
    assert_every_match_holds(net, ee, message)


# --- columns ---------------------------------------------------------------------------

def test_the_rows_order_in_columns_is_da2_in_the_other_order():
    net = columns2()
    res = nngrad.run(net)
    message = raised(lambda: np.dot(res["dZ3"], net.layers[2].W.T))  # dZ3 · W3ᵀ, the rows order
    ee = nngrad.explain_error(net, message)
    assert top(ee.matches) == ("dA2", 2, "backward", "order", "dA2 = W3.T @ dZ3")
    assert "rows layout" in ee.matches[0].how
    assert_every_match_holds(net, ee, message)


def test_the_rows_order_in_columns_with_matmul():
    net = columns2()
    res = nngrad.run(net)
    message = raised(lambda: res["dZ3"] @ net.layers[2].W.T)
    ee = nngrad.explain_error(net, message)
    assert ("dA2", "order", "dA2 = W3.T @ dZ3") in [(m.equation.lhs.name, m.kind, m.fix) for m in ee.matches]
    assert_every_match_holds(net, ee, message)


def test_a_missing_transpose_in_columns_with_a_batch():
    net = batch_net("columns")
    res = nngrad.run(net)
    message = raised(lambda: np.dot(net.layers[1].W, res["dZ2"]))  # W2 (2,5) · dZ2 (2,4)
    ee = nngrad.explain_error(net, message)
    assert top(ee.matches) == ("dA1", 1, "backward", "transpose", "dA1 = W2.T @ dZ2")
    assert_every_match_holds(net, ee, message)


# --- broadcasting ----------------------------------------------------------------------

def test_a_transposed_factor_of_an_elementwise_product_is_the_dz_equation():
    net = batch_net()
    res = nngrad.run(net)
    A1 = res["A1"]
    message = raised(lambda: res["dA1"] * (1 - A1 ** 2).T)  # tanh′ transposed: (4,5) ⊙ (5,4)
    assert message.startswith("operands could not be broadcast together with shapes (4,5) (5,4)")
    ee = nngrad.explain_error(net, message)
    assert ee.matches and {(m.equation.lhs.name, m.equation.layer, m.kind) for m in ee.matches} == {
        ("dZ1", 1, "transpose")}
    assert ee.matches[0].fix == "dZ1 = dA1 * (1 - A1**2)"
    assert ee.matches[0].how == "(1 − A1²) transposed"  # the message's order: (4,5), then (5,4)
    assert_every_match_holds(net, ee, message)


def test_a_bias_added_in_place_is_found_in_its_equation(tmp_path):
    net = columns2()
    message = raised(lambda: _add_in_place(net.layers[0].W @ net.X, net.layers[0].b.ravel()))
    status, out, _ = outcome("explain", _saved(net, tmp_path), "--error", message)
    assert status == 0 and "1. forward, layer 1: Z1 (5×1) = W1 (5×3) · X (3×1) + b1 (5×1)" in out
    assert "numpy: Z1 = W1 @ X + b1" in out


def test_a_bias_added_in_place_to_a_column_is_told_to_be_a_column(tmp_path):
    net = columns2()
    message = raised(lambda: _add_in_place(net.layers[0].W @ net.X, net.layers[0].b.ravel()))
    out = outcome("explain", _saved(net, tmp_path), "--error", message)[1]
    assert "A bias of (n,) added in place to a column (n, 1) broadcasts to (n, n), here n = 5: " \
           "give it as (n, 1)" in out


def test_a_column_bias_added_in_place_to_a_row_is_told_to_be_a_row():
    net = rows2()
    message = raised(lambda: _add_in_place(net.X @ net.layers[0].W, net.layers[0].b.reshape(-1, 1)))
    ee = nngrad.explain_error(net, message)
    assert ee.matches[0].equation.lhs.name == "Z1" and ee.matches[0].fix == "Z1 = X @ W1 + b1"
    assert "added in place to a row (1, n)" in str(ee) and "column (n, 1)" not in str(ee)


def test_no_bias_hint_where_no_bias_broadcast():
    net = rows2()
    res = nngrad.run(net)
    assert "A bias" not in str(nngrad.explain_error(net, raised(
        lambda: np.dot(net.layers[2].W.T, res["dZ3"]))))


def test_a_bias_of_n_that_broadcast_into_n_by_n_is_a_near_miss_with_its_hint():
    """The issue's example: in columns, b1 given as (5,) turns Z1 into (5, 5) silently; the
    backprop then fails later, at dW1 = dZ1 · Xᵀ, with a (5, 5) dZ1."""
    net = columns2()
    X, W1, b1 = net.X, net.layers[0].W, net.layers[0].b.ravel()
    dZ1 = W1 @ X + b1  # (5, 5), as the user's Z1 and everything after it
    ee = nngrad.explain_error(net, raised(lambda: np.dot(dZ1, X.T)))
    assert not ee.matches
    near = [(n.equation.lhs.name, n.wrong.shape, n.given) for n in ee.near]
    assert ("dW1", (5, 1), (5, 5)) in near
    assert "b.reshape(-1, 1)" in str(ee)


def test_the_count_is_of_equations_each_with_its_writings():
    net = batch_net()
    res, env = arrays(net)
    ee = nngrad.explain_error(net, raised(lambda: res["dA1"] * (1 - env["A1"] ** 2).T))
    text = str(ee)
    assert "1 elementwise operation of this network fails" in text and "or you wrote" in text


def test_layer_with_no_match_says_where_the_matches_are(tmp_path):
    net = rows2()
    res = nngrad.run(net)
    message = raised(lambda: np.dot(net.layers[2].W.T, res["dZ3"]))
    status, out, _ = outcome("explain", str(NET2), "--layer", "1", "--error", message)
    assert status == 1 and "in this layer (2 in others: leave out --layer)" in out


def test_a_wrapped_message_reads_as_one_line():
    net = rows2()
    res = nngrad.run(net)
    message = raised(lambda: net.layers[2].W.T @ res["dZ3"])
    wrapped = message.replace(" with gufunc", "\n   with gufunc").replace("(1", "( 1")
    assert read_error(wrapped) == read_error(message)._replace(line=read_error(wrapped).line)


def test_a_vector_is_written_as_numpy_writes_it():
    from nngrad.render.error_docs import reported_text

    r = read_error(raised(lambda: np.dot(np.ones(32), np.ones((4, 2)))))
    assert reported_text(r) == "a matrix product (np.dot) of (32,) and (4×2)"


def _add_in_place(z, b):
    z += b  # (5,1) += (5,): the output cannot take the broadcast (5,5)


def _saved(net, tmp_path):
    path = tmp_path / "columns2.yaml"
    nngrad.save(net, str(path))
    return path


# --- tracebacks ------------------------------------------------------------------------

def _traceback(f) -> str:
    try:
        f()
    except ValueError:
        return traceback.format_exc()
    raise AssertionError("NumPy raised nothing")


def test_a_whole_traceback_gives_the_same_answer_as_its_message():
    net = rows2()
    res = nngrad.run(net)
    wrong = lambda: np.dot(net.layers[2].W.T, res["dZ3"])  # noqa: E731
    tb, bare = _traceback(wrong), raised(wrong)
    assert tb.startswith("Traceback") and "ValueError: " in tb
    a, b = nngrad.explain_error(net, tb), nngrad.explain_error(net, bare)
    assert a.reported == b.reported and a.reported.line == bare
    assert [(m.equation.lhs.name, m.kind, m.fix) for m in a.matches] == [
        (m.equation.lhs.name, m.kind, m.fix) for m in b.matches]


def test_the_last_of_two_errors_wins():
    net = rows2()
    res = nngrad.run(net)
    W3, dZ3 = net.layers[2].W, res["dZ3"]

    def both():
        try:
            np.dot(dZ3, W3)  # the first: a missing transpose
        except ValueError:
            np.dot(W3.T, dZ3)  # then, while handling it, the other order

    text = _traceback(both)
    assert "During handling of the above exception" in text
    ee = nngrad.explain_error(net, text)
    assert ee.reported.shapes == ((1, 5), (1, 1))
    assert top(ee.matches) == ("dA2", 2, "backward", "order", "dA2 = dZ3 @ W3.T")


# --- the command line ------------------------------------------------------------------

def test_shapes_that_fit_no_product_exit_1_with_the_networks_arrays():
    message = raised(lambda: np.dot(np.zeros((2, 3)), np.zeros((4, 5))))
    status, out, err = outcome("explain", NET2, "--error", message)
    assert status == 1 and err == ""
    assert "No product of this network fails that way" in out
    assert " W3 5×1," in out and " dZ3 1×1," in out
    assert "(2×3) and (4×5) are no shape of them" in out
    assert nngrad.explain_error(rows2(), message).unknown_shapes == ((2, 3), (4, 5))


def test_a_known_shape_is_not_unknown():
    message = raised(lambda: np.dot(np.zeros((5, 1)), np.zeros((3, 4))))  # W3's shape, and one no array has
    ee = nngrad.explain_error(rows2(), message)
    assert ee.matches == () and ee.unknown_shapes == ((3, 4),)


def test_a_text_without_shapes_is_one_line_exit_2():
    try:
        np.zeros(3)[5]
    except IndexError as e:
        message = str(e)
    status, out, err = outcome("explain", NET2, "--error", message)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("nngrad: error: ")
    for form in ("not aligned", "mismatch in its core dimension", "could not be broadcast"):
        assert form in err


def test_the_error_is_read_from_standard_input():
    net = rows2()
    res = nngrad.run(net)
    tb = _traceback(lambda: np.dot(net.layers[2].W.T, res["dZ3"]))
    status, out, err = outcome("explain", NET2, "--error", "-", input=tb)
    assert status == 0 and err == ""
    lines = out.splitlines()
    first = lines.index("1. backward, layer 2: dA2 (1×5) = dZ3 (1×1) · W3ᵀ (1×5)")
    assert lines[first + 1].startswith("   you wrote W3ᵀ (1×5) · dZ3 (1×1)")
    assert lines[first + 3] == "   numpy: dA2 = dZ3 @ W3.T"


def test_json_has_the_envelope_the_error_and_the_matches():
    net = rows2()
    res = nngrad.run(net)
    message = raised(lambda: np.dot(net.layers[2].W.T, res["dZ3"]))
    status, out, _ = outcome("explain", NET2, "--error", message, "--format", "json")
    doc = json.loads(out)
    assert status == 0
    assert {k: doc[k] for k in ("command", "spec", "layout", "dtype")} == {
        "command": "explain", "spec": str(NET2), "layout": "rows", "dtype": "float64"}
    assert doc["nngrad"] == nngrad.__version__ and "schema" in doc and doc["loss"]["name"] == "half_sse"
    assert "error" not in doc and doc["reported"]["form"] == "dot" and doc["reported"]["shapes"] == [[1, 5], [1, 1]]
    first = doc["matches"][0]
    assert {k: first[k] for k in ("name", "layer", "part", "mistake", "numpy")} == {
        "name": "dA2", "layer": 2, "part": "backward", "mistake": "order", "numpy": "dA2 = dZ3 @ W3.T"}
    assert doc["shapes"]["W3"] == [5, 1] and doc["shapes"]["dZ3"] == [1, 1]
    assert doc["unknown_shapes"] == []


def test_json_of_no_match_lists_the_unknown_shapes():
    message = raised(lambda: np.dot(np.zeros((2, 3)), np.zeros((4, 5))))
    status, out, _ = outcome("explain", NET2, "--error", message, "--format", "json")
    doc = json.loads(out)
    assert status == 1 and doc["matches"] == [] and doc["unknown_shapes"] == [[2, 3], [4, 5]]


def test_markdown_is_a_numbered_list_with_the_fix_in_backticks():
    net = rows2()
    res = nngrad.run(net)
    message = raised(lambda: np.dot(net.layers[2].W.T, res["dZ3"]))
    status, out, _ = outcome("explain", NET2, "--error", message, "--format", "markdown")
    assert status == 0
    items = [line for line in out.splitlines() if re.match(r"\d+\. ", line)]
    assert items[0].startswith("1. **backward, layer 2**: `dA2") and items[1].startswith("2. ")
    assert "   - numpy: `dA2 = dZ3 @ W3.T`" in out.splitlines()


# --- read_error, each form as NumPy raises it ------------------------------------------

def test_read_dot():
    r = read_error(raised(lambda: np.dot(np.zeros((2, 3)), np.zeros((4, 5)))))
    assert (r.form, r.shapes, r.inner) == ("dot", ((2, 3), (4, 5)), None)


def test_read_matmul_gives_the_inner_sizes():
    r = read_error(raised(lambda: np.zeros((2, 3)) @ np.zeros((4, 5))))
    assert (r.form, r.shapes, r.inner) == ("matmul", (), (3, 4))  # operand 0's last, operand 1's first


def test_read_broadcast():
    r = read_error(raised(lambda: np.zeros((2, 3)) * np.zeros((3, 2))))
    assert (r.form, r.shapes) == ("broadcast", ((2, 3), (3, 2)))


def test_read_broadcast_in_place_has_three_shapes():
    def add():
        a = np.zeros((2, 3))
        a += np.zeros((3, 2))
    r = read_error(raised(add))
    assert (r.form, r.shapes) == ("broadcast", ((2, 3), (3, 2), (2, 3)))


def test_read_non_broadcastable_output_operand():
    r = read_error(raised(lambda: _add_in_place(np.zeros((5, 1)), np.zeros(5))))
    assert (r.form, r.shapes) == ("broadcast", ((5, 1), (5, 5)))
    assert r.line.startswith("non-broadcastable output operand")


def test_read_drops_the_exceptions_name():
    tb = _traceback(lambda: np.dot(np.zeros((2, 3)), np.zeros((4, 5))))
    assert read_error(tb).line == "shapes (2,3) and (4,5) not aligned: 3 (dim 1) != 4 (dim 0)"


def test_a_vector_bias_added_to_columns_is_told_to_be_a_column():
    net = network(random_spec(seed=2, widths=(3, 5, 2), m=4, layout="columns"))
    Z1 = net.layers[0].W @ net.X  # (5, 4)
    b1 = net.layers[0].b.ravel()  # (5,): the user's bias, where (5, 1) belongs
    message = raised(lambda: Z1 + b1)
    assert "(5,4) (5,)" in message
    assert "give it as (5, 1)" in str(nngrad.explain_error(net, message))

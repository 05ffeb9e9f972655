"""Loading specs from YAML and NPZ: both give the same network; bad specs name the place."""

import textwrap

import numpy as np
import pytest

import nngrad
from conftest import SAMPLES, random_spec

SMALL = """\
X: [[1, 2]]
T: [[1]]
loss: mse
layers:
  - W: [[0.5], [0.25]]
    b: [0.1]
    activation: relu
"""


def spec_error(tmp_path, text, name="net.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    with pytest.raises(nngrad.SpecError) as info:
        nngrad.load(path)
    return str(info.value)


def save_npz(path, spec):
    arrays = {"X": np.array(spec["X"]), "T": np.array(spec["T"]),
              "activations": np.array([l["activation"] for l in spec["layers"]]),
              "loss": np.array(spec["loss"]), "layout": np.array(spec["layout"])}
    for l, layer in enumerate(spec["layers"], start=1):
        arrays[f"W{l}"] = np.array(layer["W"])
        if "b" in layer:
            arrays[f"b{l}"] = np.array(layer["b"])
    np.savez(path, **arrays)


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_yaml_and_npz_give_identical_results(tmp_path, layout):
    import yaml
    spec = random_spec(seed=8, layout=layout, hidden="relu", bias="2d")
    (tmp_path / "n.yaml").write_text(yaml.safe_dump(spec))
    save_npz(tmp_path / "n.npz", spec)
    a, b = nngrad.run(nngrad.load(tmp_path / "n.yaml")), nngrad.run(nngrad.load(tmp_path / "n.npz"))
    assert a.loss == b.loss
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_npz_activation_parameter(tmp_path):
    spec = random_spec(seed=9, hidden="leaky_relu")
    spec["layers"][0]["activation"] = "leaky_relu:0.2"
    save_npz(tmp_path / "n.npz", spec)
    assert nngrad.load(tmp_path / "n.npz").layers[0].params == {"alpha": 0.2}


def test_yaml_activation_mapping_and_loss_mapping(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text(SMALL.replace("activation: relu", "activation: {name: leaky_relu, alpha: 0.3}")
                    .replace("loss: mse", "loss: {name: mse, reduction: sum}"))
    net = nngrad.load(path)
    assert net.layers[0].params == {"alpha": 0.3} and net.reduction == "sum"


def test_float32_dtype(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text("dtype: float32\n" + SMALL)
    assert nngrad.run(nngrad.load(path))["dW1"].dtype == np.float32


def test_exponent_numbers_are_numbers_and_quoted_ones_are_not(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text(SMALL.replace("[[1, 2]]", "[[1e0, 2E-0]]"))
    np.testing.assert_array_equal(nngrad.load(path).X, [[1.0, 2.0]])
    assert "X[0][1]: is '2e0'; a number was expected" in spec_error(
        tmp_path, SMALL.replace("[[1, 2]]", "[[1, '2e0']]"))


def test_seed_2_transposed_weight_is_named_with_its_fix(tmp_path):
    text = (SAMPLES / "02_sigmoid_half_sse.yaml").read_text()
    head, last = text.rsplit("  - activation: sigmoid", 1)
    column = [line.strip()[3:-1] for line in last.splitlines() if line.strip().startswith("- [")]
    (tmp_path / "net.yaml").write_text(
        head + "  - activation: sigmoid\n    W: [[" + ", ".join(column) + "]]\n    b: [0.3]\n")
    with pytest.raises(nngrad.SpecError) as info:
        nngrad.load(tmp_path / "net.yaml")
    message = str(info.value)
    assert "W3: is (1, 5)" in message and "must be (5, 1)" in message and "transpose" in message
    assert info.value.line == head.count("\n") + 2


def test_whole_spec_in_the_other_layout_is_suggested(tmp_path):
    rows_spec = SMALL.replace("[[0.5], [0.25]]", "[[0.5, 1], [0.25, 1]]").replace("[0.1]", "[0.1, 0]") \
        + "  - W: [[1], [2]]\n    activation: identity\n"
    assert nngrad.load(_write(tmp_path, rows_spec)).widths == (2, 2, 1)
    message = spec_error(tmp_path, "layout: columns\n" + rows_spec)
    assert "W1: is (2, 2), but X has 1 feature" in message
    assert "did you mean `layout: rows`?" in message


def _write(tmp_path, text):
    (tmp_path / "ok.yaml").write_text(text)
    return tmp_path / "ok.yaml"


@pytest.mark.parametrize("bad, expected", [
    (SMALL.replace("[[0.5], [0.25]]", "[[0.5], [true]]"), "net.yaml:5: W1[1][0]: is true"),
    (SMALL.replace("[[0.5], [0.25]]", "[[0.5], [.inf]]"), "W1[1][0]: is inf; every number must be finite"),
    (SMALL.replace("[[0.5], [0.25]]", "[[0.5], [0.1, 0.2]]"), "W1[1]: has 2 entries but row 0 has 1"),
    (SMALL.replace("[[0.5], [0.25]]", "[]"), "W1: is empty"),
    (SMALL.replace("b: [0.1]", "b: [0.1, 0.2]"), "b1: is (2,); with W1 (2, 1) it must be (1,) or (1, 1)"),
    (SMALL.replace("relu", "rleu"), "layer 1 activation: unknown activation 'rleu' (did you mean 'relu'?)"),
    (SMALL.replace("loss: mse", "loss: mes"), "loss: unknown loss 'mes' (did you mean 'mse'?)"),
    (SMALL.replace("loss: mse", "loss: {name: mse, reduction: avg}"), "loss.reduction: unknown reduction 'avg'"),
    (SMALL.replace("T: [[1]]", "T: [[1, 2]]"), "T: is (1, 2); the output A1 is (1, 1)"),
    (SMALL.replace("X: [[1, 2]]", "X: [1, 2]"), "X: is 1-D with shape (2,); it must be 2-D"),
    (SMALL + "laers: []\n", "unknown key 'laers' (did you mean 'layers'?)"),
    (SMALL.replace("    activation: relu\n", ""), "layer 1: has no activation"),
    (SMALL.replace("loss: mse", "loss: cross_entropy"), "cross_entropy needs a softmax output layer"),
    (SMALL.replace("loss: mse", "loss: bce").replace("T: [[1]]", "T: [[2]]"), "T[0][0]: is 2.0; bce needs targets in [0, 1]"),
    ("X: [[1]]\nX: [[2]]\n", "net.yaml:2: X: is given twice"),
    ("X: !!python/object/apply:os.system ['echo hi']\n", "has the tag !!python/object/apply:os.system"),
    ("X: &a [[1]]\nT: *a\n", "aliases are not supported"),
    ("- 1\n- 2\n", "is a list; a spec is a mapping"),
    ("", "is empty"),
    (SMALL.replace("loss: mse\n", ""), "the spec has no loss"),
    ("X: [[1, 2]\n", "invalid YAML"),
    ("a: 1\n---\nb: 2\n", "several YAML documents"),
])
def test_bad_yaml_specs_name_the_place(tmp_path, bad, expected):
    assert expected in spec_error(tmp_path, bad)


def test_class_labels_out_of_range(tmp_path):
    text = SMALL.replace("loss: mse", "loss: cross_entropy").replace("relu", "softmax") \
        .replace("T: [[1]]", "T: [1]")
    assert "T[0]: is 1.0; a class label must be an integer from 0 to 0" in spec_error(tmp_path, text)


def test_not_utf8(tmp_path):
    (tmp_path / "net.yaml").write_bytes(b"X: [[1]]\n\xff\n")
    with pytest.raises(nngrad.SpecError, match="not UTF-8"):
        nngrad.load(tmp_path / "net.yaml")


def test_missing_file_names_it(tmp_path):
    with pytest.raises(nngrad.SpecError, match="nope.yaml: no such file"):
        nngrad.load(tmp_path / "nope.yaml")


def test_npz_object_arrays_are_never_unpickled(tmp_path):
    np.savez(tmp_path / "n.npz", X=np.array([[1.0]]), T=np.array([object()], dtype=object))
    with pytest.raises(nngrad.SpecError, match="T: holds Python objects"):
        nngrad.load(tmp_path / "n.npz")


def test_junk_with_npz_extension(tmp_path):
    (tmp_path / "n.npz").write_bytes(b"\x80\x04junk")
    with pytest.raises(nngrad.SpecError, match="not a valid NPZ file"):
        nngrad.load(tmp_path / "n.npz")


def test_npz_missing_weight(tmp_path):
    spec = random_spec(seed=10)
    save_npz(tmp_path / "n.npz", spec)
    arrays = dict(np.load(tmp_path / "n.npz"))
    del arrays["W2"]
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(nngrad.SpecError, match="no member W2"):
        nngrad.load(tmp_path / "m.npz")


def test_ragged_targets_through_the_python_api_are_a_spec_error():
    with pytest.raises(nngrad.SpecError, match="T: is not an array"):
        nngrad.Network(X=[[1.0]], T=[[1.0], [1.0, 2.0]], loss="cross_entropy",
                       layers=[nngrad.Layer([[1.0, 2.0]], activation="softmax")])


@pytest.mark.parametrize("sample", ["04_mazur.yaml", "04_mazur.npz"])
def test_a_spec_on_a_named_pipe_loads(tmp_path, sample):
    """``nngrad run <(cat net.npz)``: a pipe cannot be searched, so it is read whole first."""
    import os
    import threading

    from nngrad.specs.write import npz_bytes, npz_members
    from nngrad.specs.specfile import read_spec

    data = (SAMPLES / "04_mazur.yaml").read_bytes()
    if sample.endswith(".npz"):
        data = npz_bytes(npz_members(read_spec(SAMPLES / "04_mazur.yaml").spec))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(data))
    writer.start()
    net = nngrad.load(fifo)
    writer.join()
    assert nngrad.run(net).loss == pytest.approx(nngrad.run(nngrad.load(SAMPLES / "04_mazur.yaml")).loss)


def test_a_number_tagged_str_stays_a_string():
    from nngrad.specs.yamlread import compose, to_python

    assert to_python(compose("v: !!str 1e5\nw: '1e5'\nx: 1e5\n")) == {"v": "1e5", "w": "1e5", "x": 1e5}

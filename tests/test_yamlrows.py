"""Rows of plain floats read before libyaml: the same data, the same lines, nothing else lifted."""

import os
import random
import textwrap

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import nngrad
from conftest import SAMPLES
from nngrad.yamlread import _loader, compose, depth_guard, to_python
from nngrad.yamlrows import lift


def slow_reading(text):
    """``text`` composed by libyaml with nothing lifted, converted as nngrad converts it."""
    depth_guard(text)
    return to_python(yaml.compose(text, Loader=_loader()))


def same(a, b) -> bool:
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and repr(a) == repr(b)


finite = st.floats(allow_nan=False, allow_infinity=False)
matrices = st.integers(1, 4).flatmap(lambda n: st.lists(st.lists(finite, min_size=n, max_size=n),
                                                         min_size=1, max_size=4))


def styles(rows):
    """The same matrix written five ways a person or a tool writes YAML."""
    text = lambda row, sep=", ": sep.join(repr(x) for x in row)  # noqa: E731
    flow = "[" + ", ".join("[" + text(r) + "]" for r in rows) + "]"
    yield f"W: {flow}\n"
    yield "W: [" + ",\n    ".join("[" + text(r) + "]" for r in rows) + "]\n"
    yield "W:\n" + "".join(f"  - [{text(r)}]  # row\n" for r in rows)
    multiline = ",\n      "
    yield "W:\n" + "".join(f"  - [{text(r, multiline)},]\n" for r in rows)
    yield "layers:\n  - {W: " + flow + ", activation: relu}\n"


@settings(max_examples=150, deadline=None)
@given(matrices)
def test_lifted_rows_read_as_pyyaml_reads_them(rows):
    for text in styles(rows):
        assert lift(text)[1], text
        assert same(to_python(compose(text)), slow_reading(text)), text


NOT_LIFTED = [
    "# W: [1.0, 2.0]\nW: 1\n",                     # a comment
    "name: 'a, [1.0, 2.0]'\nW: [1.0]\n",           # quotes anywhere: nothing is lifted
    "W: [1, 2]\n",                                 # ints (class labels) stay ints
    "W: x [1.0]\n", "W:[1.0]\n", "W: x- [1.0]\n",  # inside a plain scalar
    "W: &a [1.0]\n", "W: !!python/tuple [1.0]\n",  # an anchor or a tag
    "W: [1.0, .nan]\n", "W: [1.0, 1_000.0]\n",     # anything but plain floats
    "W: [ ]\n",
    "a: \"x\"  # it's\nW: [1.0]\n", "a: x#'\nW: [1.0]\n",  # a quote outside a comment
]


LIFTED = ["W: [1.0, 2.0, ]\n", "W:\n- [1.0]\n- [-2.5e-3]\n", "# Mazur's net, \"2-2-2\"\nW: [1.0]\n"]


@pytest.mark.parametrize("text", NOT_LIFTED + LIFTED)
def test_what_is_lifted_and_what_is_not_reads_as_before(text):
    assert bool(lift(text)[1]) is (text not in NOT_LIFTED)
    try:
        want = slow_reading(text)
    except (nngrad.SpecError, yaml.YAMLError):
        with pytest.raises(nngrad.SpecError):
            to_python(compose(text))
        return
    assert same(to_python(compose(text)), want)


def test_a_bad_number_in_a_lifted_row_is_reported_on_its_line(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(textwrap.dedent("""\
        X: [[1.0, 2.0]]
        T: [[0.5]]
        loss: mse
        layers:
          - W: [[0.1, 0.2],
                [0.3, 1.0e400]]
            activation: identity
          - W: [[1.0], [2.0]]
            activation: identity
        """))
    with pytest.raises(nngrad.SpecError) as e:
        nngrad.load(path)
    assert ":6:" in str(e.value) and "W1[1][1]" in str(e.value), str(e.value)


def test_lifted_rows_keep_every_line_where_it_was():
    text = "X: [[1.0,\n  2.0]]\nT: [[1.0]]\nloss: mse\nbad: [1.0]: 2\n"
    lifted, rows = lift(text)
    assert lifted.count("\n") == text.count("\n") and len(rows) == 3
    with pytest.raises(nngrad.SpecError) as e:
        compose(text)
    assert ":5:" in str(e.value)


@pytest.mark.parametrize("text", ["[1.0, 2.0]: x\n", "a: &a [*a, [1.0]]\n"])
def test_a_row_as_a_key_or_inside_a_cycle_is_refused_not_hung(text):
    with pytest.raises(nngrad.SpecError):
        to_python(compose(text))


def test_a_lifted_spec_runs_like_the_one_pyyaml_reads(tmp_path):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 3))
    text = ("X: " + repr(rng.normal(size=(2, 4)).tolist()) + "\nT: [[0.5, 1.0, -1.0], [0.0, 2.0, 1.0]]\n"
            "loss: mse\nlayers:\n  - W: " + repr(W.tolist()) + "\n    activation: tanh\n")
    path = tmp_path / "net.yaml"
    path.write_text(text)
    assert lift(text)[1]
    np.testing.assert_array_equal(nngrad.load(path).layers[0].W, W)


def outcome(read, text):
    try:
        return read(text)
    except (nngrad.SpecError, yaml.YAMLError):
        return "refused"


FUZZ = int(os.environ.get("NNGRAD_FUZZ", 300))


def test_fuzzed_specs_read_the_same_lifted_or_not():
    from test_properties import _mutations

    rng = random.Random(20261125)
    for name in ("01_relu_mse.yaml", "04_mazur.yaml"):
        for data in _mutations((SAMPLES / name).read_bytes(), rng, FUZZ):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            lifted = outcome(lambda t: to_python(compose(t)), text)
            assert same(lifted, outcome(slow_reading, text)), text

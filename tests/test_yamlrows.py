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
from nngrad.specs.yamlread import _loader, compose, compose_rows, depth_guard, to_python
from nngrad.specs.yamlrows import lift


def slow_reading(text):
    """``text`` composed by libyaml with nothing lifted, converted as nngrad converts it."""
    depth_guard(text)
    root = yaml.compose(text, Loader=_loader())
    return None if root is None else to_python(root)


def fast_reading(text):
    """``text`` as nngrad reads it, rows lifted."""
    root = compose(text)
    return None if root is None else to_python(root)


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
    yield "W:\n" + "".join(f"- [{text(r)}]\r\n" for r in rows)  # at the key's indent, CRLF
    yield "W:\n" + "".join(f"  - [{text(r)}, ]\n\n  # a comment\n" for r in rows)  # runs of one
    yield "W: [" + ",\n   ".join("[" + text(r) + "]" for r in rows) + ",]\n"


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
    "T: [[1.0],\n [2.0]]yers: 1\n", "T: [[1.0],\n [2.0]] : x\n", "T: [1.0,\n 2.0]x\n",  # "]x"
]


LIFTED = ["W: [1.0, 2.0, ]\n", "W:\n- [1.0]\n- [-2.5e-3]\n", "# Mazur's net, \"2-2-2\"\nW: [1.0]\n",
          # blocks and flow matrices lifted whole, or refused and read again
          "W: &a\n  - [1.0]\n  - [2.0]\nV: *a\n", "W: !!set\n  - [1.0]\n", "W: !x\n  - [1.0]\n",
          "a: |\n  - [1.0]\n  - [2.0]\n", "a: x\n  - [1.0]\n", "a: >\n  x\n  - [1.0]\n",
          "W:\n  - [1.0]\n  - [1, 2]\n  - [2.0]\n", "W:\n  - [1.0]\n  - - [2.0]\n", "- [1.0]\n- [2.0]\n",
          "W:\n  - [1.0]# c\n", "W:\n  - [1.0] #c\n  -  [2.0]\t# c\n", "W: [\n  - [1.0]\n]\n",
          "? - [1.0]\n  - [2.0]\n: x\n", "[[1.0], [2.0]]: x\n", "W: [[1.0], [2.0]] x\n",
          "W: [[1.0],[2.0]]\nV: [[1.0] , [2.0] , ]\n", "W: [[1.0], [2.0], 3]\n", "W:\n  - [1.0]\r  - [2.0]\n",
          "W: [[1.0], [2.0]\n  # c\n  , [3.0]]\n", "W:\n  -\t[1.0]\n  - [2.0]\n", "W:\n -  [1.0]\n - [2.0]",
          "W:\n  - [1.0]  # \x1f is not allowed in YAML\n",  # a comment that lifting drops
          "T: [[1.0],\n   !e\n [2.0]]\n", "T: [[1.0],\n   &a\n [2.0]]\nV: *a\n"]  # a row's tag, anchor


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
FUZZ_SEEDS = [  # every way of lifting: blocks with comments, flow matrices, CRLF, a refused block
    "X:\n  - [1.0, 2.0]\n  - [3.0, 4.0]  # c\nT: [[1.0],\n    [2.0]]\nlayers:\n  - W:\n    - [0.5]\n"
    "    - [0.25]\n    b: [0.1]\n",
    "W: [[1.0], [2.0], [3.0],]\nV:\n- [1.0]\r\n- [2.0]\r\nb: &a [1.0]\nc: *a\n",
    "a: |\n  - [1.0]\nb:\n  - [1.0]\n  - [1, 2]\n  - [2.0]\nc: [[1.0],[2.0]]\n",
]


def test_fuzzed_specs_read_the_same_lifted_or_not():
    from test_properties import _mutations

    rng = random.Random(20261125)
    seeds = [(SAMPLES / name).read_bytes() for name in ("01_relu_mse.yaml", "04_mazur.yaml")]
    for data in seeds + [seed.encode() for seed in FUZZ_SEEDS]:
        for data in _mutations(data, rng, FUZZ):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            assert same(outcome(fast_reading, text), outcome(slow_reading, text)), text


# --- whole blocks and matrices, and hostile sizes: linear scans read them in milliseconds -----

def kinds(text):
    """The kinds of lifted values that the reading of ``text`` kept (none if read as it is)."""
    return sorted(row.kind for row in compose_rows(text)[1].values())


@pytest.mark.parametrize("text,lifted", [
    ("W:\n  - [1.0]\n  - [2.0, 3.0]  # c\n", ["block"]),
    ("W:\n  - [1.0]\n  # between\n  - [2.0]\n", ["block", "block"]),  # one sequence, one matrix
    ("W: [[1.0], [2.0]]\nb: [1.0]\n", ["flow", "row"]),
    ("W:\n  - [1.0]\n  - [1, 2]\n", ["row"]),                         # a block with an int row
    ("W: [[1.0], 2.0]\n", ["row"]),
])
def test_blocks_and_matrices_are_lifted_whole_when_they_can_be(text, lifted):
    assert kinds(text) == lifted
    assert same(to_python(compose(text)), slow_reading(text))


SPEC_HEAD = "X: [[1.0]]\nT: [[1.0]]\nloss: mse\nlayers:\n  - activation: identity\n"


def narrow(n, bad_row=None, style="block"):
    """A spec whose W1 has ``n`` rows of one number; row ``bad_row`` is 1e400 (inf)."""
    rows = ["1.0e400" if i == bad_row else repr(0.5 + i % 7) for i in range(n)]
    if style == "block":
        return SPEC_HEAD.replace("[[1.0]]\nT", f"[[{', '.join(['1.0'] * n)}]]\nT", 1) + \
            "    W:\n" + "".join(f"      - [{r}]\n" for r in rows)
    sep = ",\n       " if style == "lines" else ","
    return SPEC_HEAD.replace("[[1.0]]\nT", f"[[{', '.join(['1.0'] * n)}]]\nT", 1) + \
        "    W: [" + sep.join(f"[{r}]" for r in rows) + "]\n"


@pytest.mark.parametrize("style", ["block", "line", "lines"])
def test_a_w_of_many_one_number_rows_is_one_lifted_matrix(tmp_path, style):
    n = 200_000
    text = narrow(n, style=style)
    assert kinds(text) == ["block" if style == "block" else "flow", "flow", "flow"]
    (tmp_path / "w.yaml").write_text(text)
    W = nngrad.load(tmp_path / "w.yaml").layers[0].W
    assert W.shape == (n, 1) and W[7, 0] == 0.5 and W[n - 1, 0] == 0.5 + (n - 1) % 7


@pytest.mark.parametrize("style", ["block", "line", "lines"])
def test_a_bad_number_deep_in_a_lifted_matrix_names_its_row_and_line(tmp_path, style):
    text = narrow(300_000, bad_row=250_000, style=style)
    (tmp_path / "w.yaml").write_text(text)
    with pytest.raises(nngrad.SpecError) as e:
        nngrad.load(tmp_path / "w.yaml")
    w_line = SPEC_HEAD.count("\n") + 1
    line = {"block": w_line + 250_001, "line": w_line, "lines": w_line + 250_000}[style]
    assert f"w.yaml:{line}: W1[250000][0]: is inf" in str(e.value)


def test_a_long_comment_line_of_apostrophes_leaves_the_rows_lifted(tmp_path):
    text = "# " + "'" * 2_000_000 + "\n" + SPEC_HEAD + "    W: [[0.25]]\n"
    assert kinds(text) == ["flow", "flow", "flow"]
    (tmp_path / "q.yaml").write_text(text)
    assert nngrad.load(tmp_path / "q.yaml").layers[0].W.tolist() == [[0.25]]


def test_a_long_x_on_one_flow_line_reads_as_written(tmp_path):
    n = 250_000
    xs = [(i % 100) / 8 for i in range(n)]
    text = SPEC_HEAD.replace("X: [[1.0]]", "X: [" + ",".join(f"[{x!r}]" for x in xs) + "]") \
        .replace("T: [[1.0]]", "T: [" + ",".join(["[1.0]"] * n) + "]") + "    W: [[0.5]]\n"
    (tmp_path / "x.yaml").write_text(text)
    assert nngrad.load(tmp_path / "x.yaml").X[:, 0].tolist() == xs


@pytest.mark.parametrize("text", [
    "v: [1.0" + " " * 200_000 + "x]\n",                    # a row that fails at its end
    "v: [[1.0]" + " " * 200_000 + "x]\n",                  # a matrix that does
    "v:\n  - [1.0]" + " " * 200_000 + "x\n",               # a block row that does
    "v: " + "1" * 200_000 + "x\n", "v: " + "1_" * 100_000 + "x\n",  # scalars the resolver tries
    "v: [" + "[1.0], " * 20_000 + "[1]]\n",               # a matrix refused at its last row
])
def test_hostile_rows_read_the_same_lifted_or_not(text):
    assert same(outcome(fast_reading, text), outcome(slow_reading, text))


def test_a_line_indented_too_deep_is_named_by_its_line():
    with pytest.raises(nngrad.SpecError) as e:
        compose("a: 1\n" + (" " * 250 + "b: 2\n") * 100_000 + " " * 300 + "c: 3\n")
    assert e.value.line == 100_002 and "indented more than 256 columns" in str(e.value)


# --- patching lifted rows in place (nngrad step) ---------------------------------------------

PATCHABLE = """\
# a spec's comments, spacing and separators survive
W:
  - [1.0,  2.0]   # first row
  - [ 3.0, 4.0, ]
V: [[1.0,
     2.0], [3.0 ,4.0]]
b: [1, 2.5]
c: [0.5, 0.25]
"""


def test_patching_keeps_every_byte_but_the_numbers():
    from nngrad.specs.specfile import patched_yaml

    updates = {("W",): np.array([[0.1, 0.2], [0.3, 0.4]]), ("V",): np.array([[5.0, 6.0], [7.0, 8.0]]),
               ("b",): np.array([9.0, -1e-20]), ("c",): np.array([1.5, 2.5])}
    assert patched_yaml(PATCHABLE.encode(), updates) == """\
# a spec's comments, spacing and separators survive
W:
  - [0.1,  0.2]   # first row
  - [ 0.3, 0.4, ]
V: [[5.0,
     6.0], [7.0 ,8.0]]
b: [9.0, -1.0e-20]
c: [1.5, 2.5]
"""


@pytest.mark.parametrize("head", ["", "name: 'quoted'\n", "# \u00e9\n"], ids=["lifted", "quoted", "unicode"])
def test_patching_finds_numbers_lifted_or_not(head):
    from nngrad.specs.specfile import patched_yaml

    text = head + PATCHABLE
    updates = {("b",): np.array([7.0, 8.0]), ("W",): np.array([[1.0, 2.0], [3.0, 4.5]])}
    assert patched_yaml(text.encode(), updates) == text.replace("[1, 2.5]", "[7.0, 8.0]") \
        .replace("4.0, ]", "4.5, ]")


@pytest.mark.parametrize("path,shape", [(("W",), (4,)), (("W",), (3, 2)), (("c",), (1, 2)), (("Z",), (2,))])
def test_patching_a_missing_path_or_another_shape_gives_none(path, shape):
    from nngrad.specs.specfile import patched_yaml

    assert patched_yaml(PATCHABLE.encode(), {path: np.zeros(shape)}) is None

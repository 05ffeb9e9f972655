"""nngrad.testing.assert_gradients: compare's verdict as an assertion, for a student's pytest."""

import numpy as np
import pytest
from click.testing import CliRunner

import nngrad
import nngrad.testing
import oracle
from conftest import network, random_spec
from nngrad.cli.app import cli


def setup(layout="rows"):
    spec = random_spec(seed=20, widths=(3, 4, 3), hidden="sigmoid", layout=layout, m=5)
    return spec, network(spec), oracle.gradients(spec)


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_right_gradients_return_the_report(layout):
    _, net, right = setup(layout)
    report = nngrad.testing.assert_gradients(net, right)
    assert report.agree and set(report.tensors) == set(right)


def test_a_wrong_sign_raises_naming_the_tensor_and_the_diagnosis():
    _, net, right = setup()
    with pytest.raises(AssertionError) as caught:
        nngrad.testing.assert_gradients(net, {**right, "dW2": -right["dW2"]})
    lines = str(caught.value).splitlines()
    assert lines[0] == "network: your gradients against nngrad's"
    assert [line.split()[:2] for line in lines if line.startswith("dW2 ")] == [["dW2", "wrong_values"]]
    assert "dW2: dW2 has the wrong sign" in lines and lines[-1] == "disagree: dW2"


def test_the_text_is_what_nngrad_compare_prints(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    spec, net, right = setup()
    nngrad.save(net, tmp_path / "net.yaml")
    mine = {k: v * 5 for k, v in right.items() if k[:2] in ("dW", "dB")}
    mine["dw_9"] = right["dW1"]  # skipped, with a warning first
    np.savez(tmp_path / "mine.npz", **mine)
    with monkeypatch.context() as m:
        m.chdir(tmp_path)
        printed = CliRunner().invoke(cli, ["compare", "net.yaml", "mine.npz"], standalone_mode=False)
        with pytest.raises(AssertionError) as caught:
            nngrad.testing.assert_gradients("net.yaml", "mine.npz")
    assert printed.return_value == 1  # the exit status
    assert printed.output.startswith("nngrad: warning: ") and "5 times the right value" in printed.output
    assert str(caught.value) == "\n".join(line.rstrip() for line in printed.output.splitlines())


def test_tolerances_are_passed_on():
    _, net, right = setup()
    close = {k: v * (1 + 1e-4) for k, v in right.items()}
    with pytest.raises(AssertionError, match="disagree"):
        nngrad.testing.assert_gradients(net, close)  # default rtol 1e-5
    assert nngrad.testing.assert_gradients(net, close, rtol=1e-3).agree


def test_ng_notation_is_passed_on():
    _, net, right = setup()  # mse over m = 5 examples and 3 outputs: Ng's dZ, dA are 15 times nngrad's
    ng = {k: v * 15 if k[:2] in ("dZ", "dA") else v for k, v in right.items()}
    assert nngrad.testing.assert_gradients(net, ng, notation="ng").agree
    with pytest.raises(AssertionError, match="dZ2"):
        nngrad.testing.assert_gradients(net, ng, notation="standard")


def test_bad_input_is_a_spec_error_not_an_assertion(tmp_path):
    (tmp_path / "mine.yaml").write_text("dW1: [[1, 2], [3]]\n")
    _, net, _ = setup()
    with pytest.raises(nngrad.SpecError):
        nngrad.testing.assert_gradients(net, str(tmp_path / "mine.yaml"))

"""Values as given are never passed over, overflowed or dropped: a null reduction or a huge alpha
is one SpecError naming its place, quoted values stay short, compare's report of huge gradients
stays valid JSON, and no table reads a value or a file name as rich markup."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

import nngrad
from conftest import network, random_spec
from nngrad.verify.compare import tensor_report
from nngrad.errors import SpecError

SMALL = "X: [[1, 2]]\nT: [[1]]\nloss: LOSS\nlayers:\n  - W: [[0.5], [0.25]]\n    activation: ACT\n"
HUGE = "1" + "0" * 400  # 10**400: an integer, but too large for a float


def cli(*args, cwd=None):
    """nngrad run as a user runs it, except that a NumPy RuntimeWarning becomes a bug (exit 70)."""
    return subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "nngrad",
                           *map(str, args)], capture_output=True, text=True, cwd=cwd)


def spec_file(tmp_path, loss="mse", act="relu", name="net.yaml"):
    path = tmp_path / name
    path.write_text(SMALL.replace("LOSS", loss).replace("ACT", act))
    return path


def refusal(**kw) -> str:
    args = {"X": [[1.0, 2.0]], "T": [[1.0]], "layers": [nngrad.Layer([[0.5], [0.25]], None, "relu")],
            "loss": "mse", **kw}
    with pytest.raises(SpecError) as e:
        nngrad.Network(**args)
    return str(e.value)


def leaky(alpha, **kw):
    return {"layers": [nngrad.Layer([[0.5], [0.25]], None, {"name": "leaky_relu", "alpha": alpha})],
            **kw}


# 1. a value given is never swallowed by a default

@pytest.mark.parametrize("written", ["null", "''", "0", "false"])
def test_a_null_empty_or_false_reduction_is_refused_naming_loss_reduction(tmp_path, written):
    proc = cli("run", spec_file(tmp_path, loss=f"{{name: mse, reduction: {written}}}"))
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"nngrad: error: {tmp_path / 'net.yaml'}:3: loss.reduction: is ")
    assert "expected one of: mean, sum, batch_mean" in proc.stderr


@pytest.mark.parametrize("value", ["", 0, False, 1.5])
def test_the_reduction_argument_when_given_must_be_a_name(value):
    assert refusal(reduction=value).startswith("reduction: is ")


def test_a_reduction_given_twice_with_two_values_is_refused():
    message = refusal(loss={"name": "mse", "reduction": "sum"}, reduction="mean")
    assert message.startswith("reduction: is 'mean', but the loss says reduction 'sum'")


def test_the_reduction_left_out_is_the_losss_default():
    assert nngrad.Network(X=[[1.0]], T=[[1.0]], layers=[nngrad.Layer([[1.0]])], loss="sse").reduction == "sum"


@pytest.mark.parametrize("key, value, shown", [("layout", None, "null"), ("layout", "", "''"),
                                               ("dtype", 0, "0"), ("dtype", False, "false")])
def test_a_null_empty_or_false_layout_or_dtype_is_refused(key, value, shown):
    assert refusal(**{key: value}).startswith(f"{key}: is {shown}; expected one of: ")


@pytest.mark.parametrize("alpha, shown", [(None, "null"), ("", "''"), (True, "true"), ([0.2], "[0.2]")])
def test_an_activation_parameter_must_be_a_number(alpha, shown):
    assert refusal(**leaky(alpha)) == f"layer 1 activation.alpha: must be a finite number, not {shown}"


def test_layer_params_that_are_not_a_mapping_are_refused():
    layer = nngrad.Layer([[0.5], [0.25]], None, "leaky_relu", None)
    assert refusal(layers=[layer]).startswith("layer 1 activation: has params null")


# 2. numbers past the float range

def test_an_alpha_past_the_float_range_is_refused_not_overflowed():
    message = refusal(**leaky(10**400))
    assert message.startswith("layer 1 activation.alpha: is 1000") and "too large for float64" in message
    assert len(message) < 150


def test_an_alpha_past_float32_is_refused_in_a_float32_spec():
    assert refusal(**leaky(1e300, dtype="float32")) == \
        "layer 1 activation.alpha: is 1e+300, too large for float32"


def test_a_huge_yaml_alpha_is_exit_2_naming_its_place(tmp_path):
    spec_file(tmp_path, act=f"{{name: leaky_relu, alpha: {HUGE}}}")
    proc = cli("run", "net.yaml", cwd=tmp_path)  # a short name: the line's length is the message's
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.count("\n") == 1
    assert ":6: layer 1 activation.alpha: is 1000" in proc.stderr and len(proc.stderr) < 200


def test_a_null_bias_is_refused_not_taken_for_zeros(tmp_path):
    path = spec_file(tmp_path)
    path.write_text(path.read_text() + "    b: null\n")
    proc = cli("run", path)
    assert proc.returncode == 2 and ":7: b1: is null; a list of numbers was expected" in proc.stderr


def test_an_npz_activation_parameter_of_thousands_of_digits_is_not_a_finite_number(tmp_path):
    np.savez(tmp_path / "net.npz", X=[[1.0, 2.0]], T=[[1.0]], W1=[[0.5], [0.25]],
             activations=np.array([f"leaky_relu:{HUGE * 10}"]), loss=np.array("mse"))
    proc = cli("run", tmp_path / "net.npz")
    assert proc.returncode == 2 and "is not a finite number" in proc.stderr
    assert len(proc.stderr.replace(str(tmp_path), "")) < 300


def test_a_python_int_past_the_float_range_in_x_names_its_entry():
    assert refusal(X=[[1.0, 10**400]]).startswith("X[0][1]: is 1000")


def test_a_python_int_past_int64_but_within_float_range_is_a_number():
    net = nngrad.Network(X=[[2**70, 1]], T=[[1.0]], layers=[nngrad.Layer([[0.5], [0.25]])], loss="mse")
    assert net.X[0, 0] == 2.0**70


# 3. a user's value is quoted cut to a readable length

@pytest.mark.parametrize("kw", [
    {"layers": [nngrad.Layer([[0.5], [0.25]], None, "relux" * 1000)]},
    {"layers": [nngrad.Layer([[0.5], [0.25]], None, {"name": "relu", "k" * 5000: 1})]},
    {"loss": {"name": "mse", "z" * 5000: 1}},
    {"loss": {"name": "mse", "reduction": "m" * 5000}},
    leaky("x" * 5000),
], ids=["activation", "parameter name", "loss option", "reduction", "parameter value"])
def test_a_long_value_is_quoted_cut(kw):
    message = refusal(**kw)
    assert len(message) < 250 and "(5,00" in message


def test_a_long_name_in_a_gradients_file_is_quoted_cut(tmp_path):
    np.savez(tmp_path / "mine.npz", **{"dw" * 2500: np.ones((2, 1))})
    proc = cli("compare", spec_file(tmp_path), tmp_path / "mine.npz")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert len(proc.stderr.replace(str(tmp_path), "")) < 300
    assert "is not a gradient of this network" in proc.stderr


def test_a_long_activation_name_is_one_short_cli_line(tmp_path):
    proc = cli("run", spec_file(tmp_path, act="q" * 5000))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert len(proc.stderr.replace(str(tmp_path), "")) < 300


# 4. compare with gradients near the float range

def planted(tmp_path):
    """A spec and a MINE near 1e303 built from the right gradients; dW2 is right."""
    spec = random_spec(seed=7, widths=(3, 4, 2), m=5)
    (tmp_path / "net.yaml").write_text(yaml.safe_dump(spec))
    right = nngrad.run(network(spec))
    mine = {"dW1": right["dW1"] * 1e303 + 1e303, "dB1": -np.sign(right["dB1"]) * 1.7e308,
            "dZ1": np.where(right["dZ1"] > 0, -1.7e308, 1.7e308), "dB2": right["dB2"] * 1e303,
            "dW2": right["dW2"]}
    np.savez(tmp_path / "mine.npz", **mine)
    return tmp_path / "net.yaml", tmp_path / "mine.npz"


def test_compare_of_huge_gradients_is_valid_json_exit_1(tmp_path):
    proc = cli("compare", *planted(tmp_path), "--format", "json")
    assert proc.returncode == 1 and proc.stderr == ""
    doc = json.loads(proc.stdout)
    assert doc["agree"] is False
    assert {n: t["status"] for n, t in doc["tensors"].items()} == {
        "dW2": "ok", "dB2": "wrong_values", "dZ1": "wrong_values", "dW1": "wrong_values",
        "dB1": "wrong_values"}


def test_compare_of_huge_gradients_renders_its_table_exit_1(tmp_path):
    proc = cli("compare", *planted(tmp_path))
    assert proc.returncode == 1 and proc.stderr == ""
    assert "disagree: dB2, dZ1, dW1, dB1" in proc.stdout


def test_a_gradient_1e303_times_the_right_one_is_a_finite_scale(tmp_path):
    spec = random_spec(seed=7, widths=(3, 4, 2), m=5)
    net = network(spec)
    report = nngrad.compare(net, {"dW1": nngrad.run(net)["dW1"] * 1e303})
    (scale,) = [d for d in report.diagnoses if d.kind == "scale"]
    assert scale.factor == pytest.approx(1e303) and "1e+303 times" in scale.message


def test_no_diagnosis_has_an_infinite_factor(tmp_path):
    spec = random_spec(seed=7, widths=(3, 4, 2), m=5)
    net = network(spec)
    right = nngrad.run(net)
    report = nngrad.compare(net, {k: np.sign(right[k]) * 1.7e308 for k in ("dW1", "dB1", "dZ1")})
    assert all(d.factor is None or np.isfinite(d.factor) for d in report.diagnoses)
    json.dumps(report.to_dict(), allow_nan=False)


def test_a_difference_past_the_float_range_is_an_infinite_error():
    t = tensor_report(np.array([-1e308]), np.array([1e308]), 1e-5, 1e-8)
    assert t.status == "wrong_values" and t.max_abs_err == np.inf
    assert t.to_dict()["max_abs_err"] is None


@pytest.mark.parametrize("mine", [np.inf, np.nan])
def test_a_gradient_that_is_not_finite_never_agrees(mine):
    assert tensor_report(np.array([mine, 1.0]), np.array([mine, 1.0]), 1e-5, 1e-8).status == "wrong_values"


def overflowing():
    """The net of test_hostile's huge weights: Z1 = 1e200 * 1e200 + 1e200 is inf."""
    return nngrad.Network(X=[[1e200, 1.0]], T=[[1.0]], loss="mse",
                          layers=[nngrad.Layer([[1e200], [1e200]], None, "relu")])


def test_compare_warns_where_nngrads_own_results_overflowed():
    report = nngrad.compare(overflowing(), {"dB1": [1.0]})
    assert report.warnings == ["nngrad's own results overflowed: Z1[0][0] is inf, the first value "
                               "that is not finite; every tensor computed after it is unreliable"]
    assert not report.agree and json.dumps(report.to_dict(), allow_nan=False)


def test_check_of_a_net_whose_gradient_overflows_is_valid_json_exit_1_and_says_so(tmp_path):
    # Z1 = 1e152 is finite, but dW1 = X^T dZ1 = 1e157 * 1e152 is inf, and so is its difference
    (tmp_path / "net.yaml").write_text("X: [[1e157]]\nT: [[0]]\nloss: half_sse\nlayers:\n"
                                       "  - W: [[1e-5]]\n    activation: identity\n")
    proc = cli("check", tmp_path / "net.yaml", "--format", "json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and not report["agree"]
    assert report["tensors"]["dW1"]["status"] == "wrong_values"
    assert "overflowed: dW1[0][0] is inf" in proc.stderr


# 5. no value and no user text is read as rich markup

def rendered(render, *args, **kw) -> str:
    from rich.console import Console

    out = io.StringIO()
    render(*args, Console(file=out, width=100, highlight=False), **kw)
    return out.getvalue()


def test_the_table_shows_inf_values():
    from nngrad.render.table import render_table

    text = rendered(render_table, nngrad.run(overflowing()), title="net.yaml")
    assert text.count("[[inf]]") == 4 and "[inf]" in text.split("dB1")[1]


def test_the_table_shows_a_title_with_brackets_as_it_is():
    from nngrad.render.table import render_table

    text = rendered(render_table, nngrad.run(overflowing()), title="[bold]net[/bold].yaml")
    assert text.startswith("[bold]net[/bold].yaml  rows layout")


def test_the_report_shows_a_title_with_brackets_as_it_is():
    from nngrad.render.report_table import render_report

    report = nngrad.compare(overflowing(), {"dB1": [1.0]})
    text = rendered(render_report, report, title="[red]mine[/red]")
    assert text.startswith("[red]mine[/red]: your gradients against nngrad's")


def test_explain_shows_a_title_with_brackets_as_it_is():
    from nngrad.render.explain_text import render_explanation

    text = rendered(render_explanation, nngrad.explain(overflowing()), title="[bold]x[/bold]")
    assert text.startswith("[bold]x[/bold]: a 2-1 network")


def test_a_file_named_with_brackets_is_printed_as_named(tmp_path):
    spec_file(tmp_path, name="[bold]net.yaml")
    proc = cli("run", "[bold]net.yaml", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("[bold]net.yaml  rows layout")


@pytest.mark.parametrize("title, span", [("net.yaml", "`net.yaml`"), ("a`b.yaml", "``a`b.yaml``"),
                                         ("`x`", "`` `x` ``")])
def test_markdown_quotes_the_title_in_a_code_span_no_backtick_ends(title, span):
    from nngrad.render.explain_docs import code_span

    assert code_span(title) == span

"""Names as people write them: gradient names in any case (db1, DW2, dx), keys that name no
gradient skipped with one warning, and a "did you mean" for other libraries' loss and activation
names and for a spec's keys (Y for T, B1 for b1). The right gradients come from the autograd
oracle, never from nngrad."""

import json

import numpy as np
import pytest
import yaml

import nngrad
import oracle
from conftest import network, random_spec
from test_cli import assert_one_line_error, nngrad_cli
from nngrad.verify.compare import Gradients, gradients_of, skipped_note

LAYOUTS = ["rows", "columns"]


def spec_file(tmp_path, spec, name="net.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def right(spec):
    return oracle.gradients(spec, input_grad=True)


def compare(tmp_path, spec, mine: dict, *args):
    path = tmp_path / "mine.npz"
    np.savez(path, **mine)
    return nngrad_cli("compare", spec_file(tmp_path, spec), str(path), *args)


def one_warning(proc) -> str:
    """The one warning line on standard error (notes, as of a notation, may come besides)."""
    lines = [line for line in proc.stderr.decode().splitlines()
             if not line.startswith("nngrad: note: ")]
    assert len(lines) == 1 and lines[0].startswith("nngrad: warning: "), lines
    return lines[0]


def no_warning(proc) -> bool:
    return b"warning" not in proc.stderr and b"error" not in proc.stderr


# --- gradient names in any case ---------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_compare_reads_the_courses_names_and_agrees(tmp_path, layout):
    spec = random_spec(layout=layout, widths=(3, 4, 2))
    g = right(spec)
    mine = {"db1": g["dB1"], "DW1": g["dW1"], "dx": g["dA0"], "DZ2": g["dZ2"], "DB2": g["dB2"],
            "dw2": g["dW2"], "DA1": g["dA1"]}
    proc = compare(tmp_path, spec, mine, "--format", "json")
    assert proc.returncode == 0 and no_warning(proc), proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["agree"] and set(doc["tensors"]) == {"dB1", "dW1", "dA0", "dZ2", "dB2", "dW2", "dA1"}


def test_dX_in_capitals_is_dA0_and_a_wrong_one_is_caught(tmp_path):
    spec = random_spec()
    proc = compare(tmp_path, spec, {"DX": 2 * right(spec)["dA0"]}, "--format", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["tensors"]["dA0"]["status"] == "wrong_values"


def test_a_name_in_another_case_is_reported_under_nngrads_name():
    spec = random_spec()
    report = nngrad.compare(network(spec), {"DW2": right(spec)["dW2"]})
    assert report.agree and list(report.tensors) == ["dW2"]


@pytest.mark.parametrize("first,second", [("dW1", "dw1"), ("DB2", "dB2"), ("dX", "dA0"),
                                          ("dA0", "DX")])
def test_one_gradient_under_two_names_is_exit_2_naming_the_second(tmp_path, first, second):
    spec = random_spec()
    g = {**right(spec), "dX": right(spec)["dA0"]}
    value = g[{"dw1": "dW1", "dB2": "dB2", "DX": "dA0"}.get(second, second)]
    mine = tmp_path / "mine.yaml"
    mine.write_text(f"{first}: {np.asarray(value).tolist()}\n{second}: {np.asarray(value).tolist()}\n")
    proc = nngrad_cli("compare", spec_file(tmp_path, spec), str(mine))
    assert_one_line_error(proc, f"mine.yaml:2: {second}: names", repr(first), "give each gradient once")


# --- keys that name no gradient ---------------------------------------------------------------------

def test_keys_that_name_no_gradient_are_skipped_with_one_warning(tmp_path):
    spec = random_spec()  # 2 layers
    g = right(spec)
    mine = {"dW1": g["dW1"], "dB1": g["dB1"], "X": np.asarray(spec["X"]), "W1": np.ones((3, 4)),
            "DY": np.ones((5, 2)), "cache": np.array("not numbers"), "dW9": np.ones(2)}
    proc = compare(tmp_path, spec, mine)
    assert proc.returncode == 0, proc.stderr
    line = one_warning(proc)
    for key in ("X", "W1", "DY", "cache", "dW9"):
        assert key in line
    assert "W1 (did you mean dW1?)" in line and "DY (did you mean dA2" in line
    assert "dW9 (" not in line and "X (" not in line
    assert "no gradient of this network" in line and "skipped" in line
    assert "every gradient agrees" in proc.stdout.decode()


def test_skipped_keys_do_not_hide_a_wrong_gradient(tmp_path):
    spec = random_spec()
    proc = compare(tmp_path, spec, {"dW2": -right(spec)["dW2"], "cache": np.zeros(3)},
                   "--format", "json")
    assert proc.returncode == 1 and "cache" in one_warning(proc)
    assert json.loads(proc.stdout)["tensors"]["dW2"]["status"] == "wrong_values"


def test_a_yaml_key_of_no_gradient_is_skipped_unread(tmp_path):
    spec = random_spec()
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"dB2": right(spec)["dB2"].tolist(), "note": "my run",
                                "settings": {"lr": 0.1}, "epoch": None}))
    proc = nngrad_cli("compare", spec_file(tmp_path, spec), str(mine))
    assert proc.returncode == 0
    assert "note, settings and epoch: they name no gradient" in one_warning(proc)


def test_a_file_of_no_gradient_at_all_is_exit_2(tmp_path):
    spec = random_spec()
    proc = compare(tmp_path, spec, {"X": np.asarray(spec["X"]), "W1": np.ones((3, 4)),
                                    "cache": np.zeros(2)})
    assert_one_line_error(proc, "mine.npz: holds no gradients: X, W1 (did you mean dW1?) and cache "
                                "are not gradients of this network", "for l = 1..2")


def test_the_output_of_run_is_compared_without_a_warning(tmp_path):
    spec = random_spec()
    out = tmp_path / "out.npz"
    path = spec_file(tmp_path, spec)
    assert nngrad_cli("run", path, "-o", str(out)).returncode == 0
    proc = nngrad_cli("compare", path, str(out))
    assert proc.returncode == 0 and no_warning(proc), proc.stderr


def test_many_skipped_keys_are_one_short_line(tmp_path):
    spec = random_spec()
    mine = {"dW1": right(spec)["dW1"], **{f"extra{i}": np.zeros(1) for i in range(50)},
            "x" * 3000: np.zeros(1)}
    proc = compare(tmp_path, spec, mine)
    assert proc.returncode == 0
    line = one_warning(proc)
    assert "and 43 more" in line and len(line) < 300


def test_gradients_of_records_the_skipped_keys_and_keeps_them():
    g = gradients_of({"db1": [1.0], "W2": [[1.0]], "Z1": [0.0], "loss": 1.0, "dw_1": 2.0}, 2)
    assert isinstance(g, Gradients) and set(g) == {"dB1"}
    assert g.skipped == ("W2", "dw_1") and g.skipped.hints == {"W2": "dW2", "dw_1": "dW1"}
    again = gradients_of(g, 2)  # the CLI reads the file through it, then compare does again
    assert again.skipped == g.skipped and again.skipped.hints == g.skipped.hints
    assert skipped_note(again.skipped) == \
        "skipped W2 (did you mean dW2?) and dw_1 (did you mean dW1?): they name no gradient of " \
        "this network"
    assert skipped_note(("cache",)) == "skipped cache: it names no gradient of this network"
    assert gradients_of({"dW1": 1.0}, 1).skipped == ()


def test_the_python_api_skips_too_and_warns():
    spec = random_spec()
    report = nngrad.compare(network(spec), {"dW1": right(spec)["dW1"], "grads": object()})
    assert report.agree and list(report.tensors) == ["dW1"]
    assert report.warnings == ["skipped grads: it names no gradient of this network"]


# --- loss and activation names of other libraries ------------------------------------------------------

@pytest.mark.parametrize("given,meant", [
    ("MSE", "mse"), ("BCE", "bce"), ("binary_crossentropy", "bce"), ("BCELoss", "bce"),
    ("CrossEntropyCost", "bce"),  # Nielsen's: -y log a - (1 - y) log(1 - a), summed
    ("categorical_crossentropy", "cross_entropy"), ("CrossEntropyLoss", "cross_entropy"),
    ("CrossEntropy", "cross_entropy"), ("quadratic", "half_sse"), ("QuadraticCost", "half_sse"),
    ("MSELoss", "mse"), ("mean_squared_error", "mse"), ("L1Loss", "mae"),
    ("mean_absolute_error", "mae"), ("multiclass_hinge", "svm"), ("MultiMarginLoss", "svm"),
    ("hinge_loss", "hinge"), ("Half-SSE", "half_sse"), ("SSE", "sse")])
def test_another_name_of_a_loss_gets_a_did_you_mean(tmp_path, given, meant):
    proc = nngrad_cli("run", spec_file(tmp_path, {**random_spec(), "loss": given}))
    assert_one_line_error(proc, f"loss: unknown loss {given!r} (did you mean {meant!r}?)")


def test_a_loss_mapping_gets_the_same_suggestion():
    with pytest.raises(nngrad.SpecError, match=r"unknown loss 'BCELoss' \(did you mean 'bce'\?\)"):
        network({**random_spec(), "loss": {"name": "BCELoss", "reduction": "sum"}})


def test_every_other_name_of_a_loss_is_suggested_and_refused():
    from nngrad.model.values import folded
    from nngrad.numerics.activations import ACTIVATIONS
    from nngrad.numerics.losses import LOSSES

    for table in (LOSSES, ACTIVATIONS):  # no other name is another record's, in any case
        others = [folded(o) for record in table.values() for o in record.aliases]
        assert len(set(others)) == len(others) and not set(others) & set(map(folded, table))
    for name, record in LOSSES.items():
        for other in record.aliases:
            with pytest.raises(nngrad.SpecError, match=f"did you mean {name!r}"):
                network({**random_spec(), "loss": other})


@pytest.mark.parametrize("given,meant", [
    ("ReLU", "relu"), ("Sigmoid", "sigmoid"), ("Tanh", "tanh"), ("LeakyReLU", "leaky_relu"),
    ("Softmax", "softmax"), ("GELU", "gelu"), ("SiLU", "silu"), ("swish", "silu"),
    ("Softplus", "softplus"), ("ELU", "elu"), ("logistic", "sigmoid"), ("Linear", "identity")])
def test_another_name_of_an_activation_gets_a_did_you_mean(tmp_path, given, meant):
    proc = nngrad_cli("run", spec_file(tmp_path, random_spec(hidden=given)))
    assert_one_line_error(proc, f"layer 1 activation: unknown activation {given!r} "
                                f"(did you mean {meant!r}?)")


@pytest.mark.parametrize("alias", ["linear", "none"])
def test_the_accepted_aliases_still_run(alias):
    res = nngrad.run(network(random_spec(output=alias)))
    np.testing.assert_allclose(res["dW2"], right(random_spec(output="identity"))["dW2"],
                               rtol=1e-10, atol=1e-12)


def test_an_npz_activation_and_loss_get_the_same_suggestions(tmp_path):
    path = tmp_path / "net.npz"
    np.savez(path, X=np.ones((1, 2)), T=np.ones((1, 1)), W1=np.ones((2, 1)),
             activations=np.array(["ReLU"]), loss=np.array("mse"))
    assert_one_line_error(nngrad_cli("run", str(path)), "did you mean 'relu'")
    np.savez(path, X=np.ones((1, 2)), T=np.ones((1, 1)), W1=np.ones((2, 1)),
             activations=np.array(["identity"]), loss=np.array("MSELoss"))
    assert_one_line_error(nngrad_cli("run", str(path)), "did you mean 'mse'")


# --- a spec's keys and NPZ members ----------------------------------------------------------------------

NPZ = dict(X=np.ones((1, 2)), T=np.ones((1, 1)), W1=np.ones((2, 1)), b1=np.zeros(1),
           activations=np.array(["identity"]), loss=np.array("mse"))


@pytest.mark.parametrize("right_key,given", [("T", "Y"), ("T", "t"), ("b1", "B1"), ("W1", "w1"),
                                             ("X", "x"), ("activations", "Activations"),
                                             ("loss", "LOSS"), ("T", "targets")])
def test_an_npz_member_under_another_name_gets_a_did_you_mean(tmp_path, right_key, given):
    arrays = dict(NPZ)
    arrays[given] = arrays.pop(right_key)
    np.savez(tmp_path / "net.npz", **arrays)
    proc = nngrad_cli("run", str(tmp_path / "net.npz"))
    assert_one_line_error(proc, f"net.npz: {given}: unknown key {given!r} (did you mean {right_key!r}?)")


def test_an_npz_with_both_T_and_Y_still_names_Y(tmp_path):
    np.savez(tmp_path / "net.npz", **NPZ, Y=np.ones((1, 1)))
    assert_one_line_error(nngrad_cli("run", str(tmp_path / "net.npz")),
                          "Y: unknown key 'Y' (did you mean 'T'?)")


def test_a_yaml_spec_key_under_another_name_gets_a_did_you_mean(tmp_path):
    spec = random_spec()
    spec["Y"] = spec.pop("T")
    assert_one_line_error(nngrad_cli("run", spec_file(tmp_path, spec)),
                          "Y: unknown key 'Y' (did you mean 'T'?)")
    spec = random_spec()
    spec["layers"][1]["B"] = spec["layers"][1].pop("b")
    assert_one_line_error(nngrad_cli("run", spec_file(tmp_path, spec)),
                          "layer 2 B: unknown key 'B' (did you mean 'b'?)")
    spec["layers"][1]["bias"] = spec["layers"][1].pop("B")
    assert_one_line_error(nngrad_cli("run", spec_file(tmp_path, spec)), "did you mean 'b'?")


def test_a_layout_or_reduction_in_another_case_gets_a_did_you_mean():
    with pytest.raises(nngrad.SpecError, match="did you mean 'columns'"):
        network({**random_spec(), "layout": "Columns"})
    with pytest.raises(nngrad.SpecError, match="did you mean 'batch_mean'"):
        network({**random_spec(), "loss": {"name": "mse", "reduction": "BatchMean"}})


def test_an_npz_member_of_python_objects_is_skipped_when_it_names_no_gradient(tmp_path):
    spec = random_spec(seed=3)
    right = oracle.gradients(spec)
    (tmp_path / "net.yaml").write_text(yaml.safe_dump(spec))
    mine = tmp_path / "mine.npz"
    np.savez(mine, dW1=right["dW1"], cache=np.array([{"Z1": 1}], dtype=object))
    proc = nngrad_cli("compare", str(tmp_path / "net.yaml"), str(mine))
    assert proc.returncode == 0 and b"skipped cache" in proc.stderr
    np.savez(mine, dW1=np.array([{"Z1": 1}], dtype=object))
    assert_one_line_error(nngrad_cli("compare", str(tmp_path / "net.yaml"), str(mine)),
                          "dW1", "Python objects")

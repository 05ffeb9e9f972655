"""One JSON shape: every document of run, check, compare and explain starts with the envelope
(nngrad, schema, command, spec, layout, dtype, loss), keeps its own keys, and an error under
--format json is a document too. Expected values come from the spec written here and the oracle."""

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import nngrad
import oracle
from conftest import SAMPLES, random_spec
from nngrad.cli import cli
from nngrad.cli.exits import _outcome

ENVELOPE = ["nngrad", "schema", "command", "spec", "layout", "dtype", "loss"]
OWN_KEYS = {"run": {"tensors"},
            "check": {"agree", "tensors", "diagnoses", "worst", "skipped", "warnings", "settings"},
            "compare": {"agree", "tensors", "diagnoses", "warnings", "notes", "settings"},
            "explain": {"m", "equations"}}
BUNDLED = "sample_nets/01_relu_mse.yaml"
NOT_FINITE = "X: [[1.0]]\nT: [[0.0]]\nloss: mse\nlayers:\n  - W: [[1e200]]\n    activation: identity\n" \
             "  - W: [[1e200]]\n    activation: identity\n"  # Z2 = 1e400 is inf


def columns_spec():
    """A columns-layout float32 spec with an L2 penalty: no key of the envelope is a default."""
    spec = random_spec(seed=3, widths=(3, 4, 2), layout="columns", loss="sse")
    return {**spec, "dtype": "float32", "regularization": {"l2": 0.1, "form": "full"}}


def written(tmp_path, spec, name="net.yaml"):
    path = tmp_path / name
    path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec))
    return str(path)


def args_of(command, path, tmp_path):
    if command != "compare":
        return [command, path]
    mine = tmp_path / "mine.yaml"  # any gradient will do: the envelope is the spec's
    mine.write_text(f"dW1: {np.zeros((4, 3)).tolist()}\n")
    return ["compare", path, str(mine)]


def document(*args, input=None):
    result = CliRunner().invoke(cli, [*args, "--format", "json"], input=input)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def outcome(capsys, *args):
    """exits' translation of every outcome, in process: (status, stdout, stderr lines)."""
    status = _outcome([*args])
    out, err = capsys.readouterr()
    return status, out, err.splitlines()


def one_document(out: str) -> dict:
    doc, end = json.JSONDecoder().raw_decode(out)
    assert out[end:] == "\n"  # one document, then nothing
    return doc


@pytest.mark.parametrize("command", ["run", "check", "compare", "explain"])
def test_every_document_starts_with_the_envelope(tmp_path, command):
    spec = columns_spec()
    doc = document(*args_of(command, written(tmp_path, spec), tmp_path))
    assert list(doc)[:7] == ENVELOPE
    assert doc["nngrad"] == nngrad.__version__ and doc["schema"] == 1 and doc["command"] == command
    assert doc["layout"] == "columns" and doc["dtype"] == "float32"
    loss = doc["loss"]
    assert list(loss) == ["name", "reduction", "value", "data", "penalty"]
    assert (loss["name"], loss["reduction"]) == ("sse", "sum")
    data, penalty = float(oracle.data_loss(spec)), float(oracle.penalty(spec))
    assert loss["data"] == pytest.approx(data, rel=1e-5) and loss["penalty"] == pytest.approx(penalty, rel=1e-5)
    assert loss["value"] == pytest.approx(data + penalty, rel=1e-5)


@pytest.mark.parametrize("command", ["run", "check", "compare", "explain"])
def test_every_documents_own_keys_stay(tmp_path, command):
    doc = document(*args_of(command, written(tmp_path, columns_spec()), tmp_path))
    assert OWN_KEYS[command] <= set(doc) and "error" not in doc
    assert set(doc) - set(ENVELOPE) - OWN_KEYS[command] == set()


def test_run_and_its_json_file_hold_the_same_document(tmp_path):
    out = tmp_path / "grads.json"
    path = written(tmp_path, columns_spec())
    result = CliRunner().invoke(cli, ["run", path, "-o", str(out), "--format", "json"])
    assert result.exit_code == 0 and json.loads(out.read_text()) == json.loads(result.stdout)


@pytest.mark.parametrize("command", ["check", "compare", "explain"])
def test_spec_is_the_path_given_or_stdin(tmp_path, command):
    path = written(tmp_path, columns_spec())
    assert document(*args_of(command, path, tmp_path))["spec"] == path
    with open(path) as f:
        assert document(*args_of(command, "-", tmp_path), input=f.read())["spec"] == "<stdin>"


def test_explain_names_the_bundled_example():
    assert document("explain")["spec"] == BUNDLED


def test_run_names_its_spec(tmp_path):
    path = written(tmp_path, columns_spec())
    assert document("run")["spec"] == BUNDLED
    with open(path) as f:
        assert document("run", "-", input=f.read())["spec"] == "<stdin>"
    CliRunner().invoke(cli, ["run", path, "-o", str(tmp_path / "g.json")])
    assert json.loads((tmp_path / "g.json").read_text())["spec"] == path


def test_explain_gives_the_loss_value_without_values():
    doc = document("explain", str(SAMPLES / "04_mazur.yaml"))
    assert doc["loss"]["value"] == pytest.approx(0.298371109, abs=1e-9)  # Mazur's E_total
    assert all(eq["fits"] and "value" not in eq for eq in doc["equations"])


# --- errors -----------------------------------------------------------------------------------

TRANSPOSED_W2 = "X: [[1.0, 2.0]]\nT: [[0.5]]\nloss: mse\nlayers:\n  - W: [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]\n" \
                "    activation: tanh\n  - W: [[1.0, 2.0, 3.0]]\n    activation: identity\n"  # W2 on line 7


def test_a_bad_spec_is_a_document_with_the_error(tmp_path, capsys):
    path = written(tmp_path, TRANSPOSED_W2)
    status, out, err = outcome(capsys, "check", path, "--format", "json")
    doc = one_document(out)
    assert status == 2 and list(doc)[:7] == ENVELOPE and list(doc)[7:] == ["error"]
    assert (doc["nngrad"], doc["schema"], doc["command"], doc["spec"]) == (nngrad.__version__, 1, "check", path)
    assert doc["layout"] is doc["dtype"] is doc["loss"] is None  # the spec was never read
    error = doc["error"]
    assert list(error) == ["message", "file", "line", "place", "status"]
    assert (error["file"], error["line"], error["place"], error["status"]) == (path, 7, "W2", 2)
    assert err == [f"nngrad: error: {path}:7: W2: {error['message']}"]


def test_the_process_writes_the_error_document_and_its_status(tmp_path):
    path = written(tmp_path, TRANSPOSED_W2)
    proc = subprocess.run([sys.executable, "-m", "nngrad", "run", path, "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and one_document(proc.stdout)["error"]["status"] == 2
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("nngrad: error: ")


def test_an_error_document_into_a_full_standard_output_is_dropped(tmp_path):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "nngrad", "run", str(tmp_path / "none.yaml"),
                               "--format", "json"], stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2 and proc.stderr.endswith("none.yaml: no such file\n")
    assert len(proc.stderr.splitlines()) == 1


def test_a_missing_file_is_a_document(tmp_path, capsys):
    path = str(tmp_path / "none.yaml")
    status, out, err = outcome(capsys, "explain", path, "--format", "json")
    error = one_document(out)["error"]
    assert status == 2 and error == {"message": "no such file", "file": path, "line": None,
                                     "place": None, "status": 2}
    assert err == [f"nngrad: error: {path}: no such file"]


@pytest.mark.parametrize("args", [["check", "SPEC", "--rtol", "-1"], ["run", "SPEC", "--keep", "some"],
                                  ["compare", "SPEC"], ["run", "SPEC", "--no-such-option"]])
def test_a_usage_error_with_format_json_is_a_document(tmp_path, capsys, args):
    path = written(tmp_path, columns_spec())
    status, out, err = outcome(capsys, *[path if a == "SPEC" else a for a in args], "--format=json")
    doc = one_document(out)
    assert status == 2 and (doc["command"], doc["spec"]) == (args[0], path)
    assert doc["error"]["status"] == 2 and len(err) == 1
    assert err[0] == f"nngrad: error: {doc['error']['message']}"


def test_without_format_json_an_error_writes_nothing_on_standard_output(tmp_path, capsys):
    path = written(tmp_path, TRANSPOSED_W2)
    for args in (["run", path], ["run", path, "--format", "table"], ["run", "--config", "--format", "json"]):
        status, out, err = outcome(capsys, *args)
        assert status == 2 and out == "" and len(err) == 1


def test_a_result_that_is_not_finite_keeps_its_document_and_adds_the_error(tmp_path, capsys):
    path = written(tmp_path, NOT_FINITE)
    status, out, err = outcome(capsys, "run", path, "--format", "json")
    doc = one_document(out)
    assert status == 1 and doc["tensors"]["Z2"]["data"] == [[None]] and doc["loss"]["value"] is None
    error = doc["error"]
    assert (error["place"], error["status"], error["line"]) == ("Z2[0][0]", 1, None)
    assert error["message"].startswith("Z2[0][0] is inf") and len(err) == 1
    assert err[0].endswith(f": {error['message']}")


def test_explain_values_that_are_not_finite_add_the_error(tmp_path, capsys):
    path = written(tmp_path, NOT_FINITE)
    status, out, err = outcome(capsys, "explain", path, "--values", "--format", "json")
    doc = one_document(out)
    assert status == 1 and doc["equations"] and doc["error"]["file"] == path
    assert err == [f"nngrad: error: {path}: {doc['error']['message']}"]


def test_explains_failing_walk_is_json_up_to_the_failing_equation(tmp_path, capsys):
    path = written(tmp_path, TRANSPOSED_W2)
    status, out, err = outcome(capsys, "explain", path, "--format", "json")
    doc = one_document(out)
    assert status == 2 and list(doc)[:7] == ENVELOPE and doc["command"] == "explain"
    assert doc["layout"] == "rows" and doc["loss"]["name"] == "mse" and doc["m"] == 1
    names = [eq["name"] for eq in doc["equations"]]
    assert names == ["Z1", "A1", "Z2"]  # Z2 = A1 (1×3) · W2 (1×3) fails
    assert [eq["fits"] for eq in doc["equations"]] == [True, True, False]
    assert doc["equations"][-1]["shape"] is None and "W2 needs 3 rows" in doc["equations"][-1]["needed"]
    assert (doc["error"]["place"], doc["error"]["line"]) == ("W2", 7)
    assert err == [f"nngrad: error: {path}:7: W2: {doc['error']['message']}"]  # no walk on stderr


def test_run_o_dash_asks_for_the_error_document_too(tmp_path, capsys):
    status, out, err = outcome(capsys, "run", str(tmp_path / "none.yaml"), "-o", "-")
    assert status == 2 and one_document(out)["error"]["message"] == "no such file" and len(err) == 1


def test_the_error_of_a_document_of_some_tensors_is_the_whole_results():
    from nngrad.render.jsondoc import result_document

    res = nngrad.run(nngrad.load(SAMPLES / "04_mazur.yaml"))
    res.tensors["Z2"] = res["Z2"] * np.inf  # as if Z2 had overflowed
    doc = result_document(res, spec="net.yaml", names=["dW1"])
    assert list(doc["tensors"]) == ["dW1"] and doc["error"]["place"] == "Z2[0][0]"


def test_run_only_names_the_same_first_non_finite_value_as_its_error_line(tmp_path, capsys):
    status, out, err = outcome(capsys, "run", written(tmp_path, NOT_FINITE), "--only", "dW1",
                               "--format", "json")
    doc = one_document(out)
    assert status == 1 and list(doc["tensors"]) == ["dW1"]
    assert err[0].endswith(doc["error"]["message"]) and doc["error"]["place"] == "Z2[0][0]"


def test_explain_json_too_big_to_run_keeps_its_equations_and_a_null_loss(tmp_path, capsys):
    spec = random_spec(seed=5, widths=(20, 30, 2), m=200)
    nngrad.save(nngrad.specs.read.from_mapping(spec), tmp_path / "big.npz")
    (tmp_path / "small.yaml").write_text("limits:\n  memory_bytes: 100000\n")
    status, out, err = outcome(capsys, "explain", str(tmp_path / "big.npz"), "--format", "json",
                               "--config", str(tmp_path / "small.yaml"))
    doc = one_document(out)
    assert status == 0 and err == [] and doc["equations"]
    assert doc["loss"]["name"] == "mse" and doc["loss"]["value"] is None

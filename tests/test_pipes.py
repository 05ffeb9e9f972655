"""Output that is piped: never hard-wrapped, no line ending in spaces, no styling under NO_COLOR;
and run's --only, --precision, --full and -o -, check's defaults in --help, the file arguments.

Expected numbers are Mazur's published figures, the oracle's, or written out here.
"""

import json
import re

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import oracle
from conftest import SAMPLES, random_spec
from nngrad.cli import cli
from nngrad.cli.exits import _outcome

MAZUR = str(SAMPLES / "04_mazur.yaml")
NUMBER = re.compile(r"-?\d+\.\d*(?:e[-+]\d+)?")


def invoke(*args, **env):
    """``nngrad ARGS`` in process, its output a pipe; COLUMNS unset unless given."""
    result = CliRunner().invoke(cli, [str(a) for a in args],
                                env={"COLUMNS": None, "NO_COLOR": None, "FORCE_COLOR": None, **env})
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def written(tmp_path, spec, name="net.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize("args", [["run"], ["check"], ["explain"], ["explain", "--values"],
                                  ["run", SAMPLES / "05_cs231n_batchnorm.yaml"],
                                  ["check", SAMPLES / "06_cs231n_dropout.yaml"]])
def test_no_piped_line_ends_in_spaces(args):
    lines = invoke(*args).splitlines()
    assert len(lines) > 10 and [line for line in lines if line != line.rstrip()] == []


def test_piped_matrix_rows_are_never_split(tmp_path):
    spec = random_spec(seed=2, widths=(3, 20, 1), m=2)  # Z1 and A1 are 2 rows of 20 entries
    out = invoke("run", written(tmp_path, spec)).splitlines()
    z1 = next(i for i, line in enumerate(out) if line.startswith("Z1 "))
    assert [len(NUMBER.findall(line)) for line in out[z1:z1 + 3]] == [20, 20, 20]  # A1's row 1
    assert out[z1 + 2].startswith("A1 ") and len(out[z1]) > 200


def test_a_piped_diagnosis_stays_one_line_for_grep(tmp_path):
    spec = random_spec(seed=20, widths=(3, 4, 3), hidden="sigmoid", m=5)
    mine = {k: v * 5 for k, v in oracle.gradients(spec).items() if k[:2] in ("dW", "dB")}
    np.savez(tmp_path / "mine.npz", **mine)
    out = invoke("compare", written(tmp_path, spec), tmp_path / "mine.npz").splitlines()
    found = [line for line in out if line.startswith("dW2: dW2 is 5 times the right value")]
    assert len(found) == 1 and "the 1/m of the mean over the batch is missing" in found[0]
    assert len(found[0]) > 80


def test_columns_set_still_wraps_a_pipe(tmp_path):
    spec = random_spec(seed=2, widths=(3, 20, 1), m=2)
    lines = invoke("run", written(tmp_path, spec), COLUMNS="80").splitlines()
    assert max(map(len, lines)) <= 80


def _styles(out: str) -> set:
    return set(re.findall(r"\x1b\[([0-9;]*)m", out))


@pytest.mark.parametrize("args", [["run", MAZUR], ["check", MAZUR], ["explain", MAZUR]])
def test_no_color_leaves_no_style_at_all(args):
    assert {"1"} <= _styles(invoke(*args, FORCE_COLOR="1"))  # bold, forced on a pipe
    assert "\x1b" not in invoke(*args, FORCE_COLOR="1", NO_COLOR="1")


def test_a_big_tensor_gets_a_summary_line_and_a_small_one_none(tmp_path):
    spec = random_spec(seed=5, widths=(2, 40, 1), m=2)  # W1 is (2, 40): 80 entries > 64
    out = invoke("run", written(tmp_path, spec)).splitlines()
    dW1 = next(i for i, line in enumerate(out) if line.startswith("dW1 "))
    assert "..." in out[dW1] and re.fullmatch(r" +min \S+, max \S+, norm \S+, zeros \S+%",
                                                out[dW1 + 2])
    assert not any(line.lstrip().startswith("min ") for line in out[dW1 + 3:])  # dB1 (40,)
    full = invoke("run", written(tmp_path, spec), "--full").splitlines()
    assert not any("..." in line or line.lstrip().startswith("min ") for line in full)


def test_the_summary_of_a_known_tensor():
    from nngrad.render.table import tensor_summary

    a = np.array([[0.0, 0.0, 3.0], [-4.0, 0.0, np.inf]])
    assert tensor_summary(a) == "min -4, max 3, norm 5, zeros 50%, not finite 1"


def test_precision_sets_the_digits_of_the_table():
    out = invoke("run", MAZUR, "--precision", "2")
    assert "[[0.38 0.39]]" in out  # Mazur's net_h1 = 0.3775, net_h2 = 0.3925


def test_only_filters_the_table_the_json_and_the_file(tmp_path):
    table = invoke("run", MAZUR, "--only", "dB1,dW2")
    assert re.findall(r"(?m)^(\w+) +\(", table) == ["dB1", "dW2"]
    assert "loss 0.2983711088" in table  # Mazur's E_total
    doc = json.loads(invoke("run", MAZUR, "--only", "dW2,dB1", "--format", "json"))
    assert list(doc["tensors"]) == ["dB1", "dW2"]
    assert doc["tensors"]["dW2"]["data"][0][0] == pytest.approx(0.082167041, abs=1e-9)
    invoke("run", MAZUR, "--only", "dW2", "-o", tmp_path / "g.npz")
    assert sorted(np.load(tmp_path / "g.npz")) == ["dW2", "loss"]


def test_an_unknown_only_name_is_one_line_with_a_suggestion(capsys):
    status = _outcome(["run", MAZUR, "--only", "dW1,dw2"])
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and len(err.splitlines()) == 1
    assert "'dw2'" in err and "did you mean dW2?" in err


def test_dash_output_writes_the_json_document_to_standard_output():
    assert json.loads(invoke("run", MAZUR, "-o", "-")) == \
        json.loads(invoke("run", MAZUR, "--format", "json"))


def test_dash_output_with_a_table_is_refused(capsys):
    status = _outcome(["run", MAZUR, "-o", "-", "--format", "table"])
    err = capsys.readouterr().err.splitlines()
    assert status == 2 and len(err) == 1 and "-o - writes the JSON document" in err[0]


def test_check_help_shows_the_default_values():
    text = invoke("check", "--help")
    assert "(configs:" not in text
    for shown in ("default 1e-06", "default 1e-05, or 0.001 for a float32 spec",
                  "default 1e-08, or 1e-05 for a float32", "default 8"):
        assert shown in " ".join(text.split())


def test_check_without_spec_checks_the_bundled_example():
    out = invoke("check")
    # 4-6-6-6-1: 24 + 6 + 36 + 6 + 36 + 6 + 6 + 1 parameters
    assert out.startswith("sample_nets/01_relu_mse.yaml: full check of 121 parameters")


@pytest.mark.parametrize("command, index", [("run", 0), ("check", 0), ("compare", 0),
                                            ("compare", 1)])
def test_spec_and_mine_complete_file_names(command, index):
    import click

    ctx = click.Context(cli)
    param = [p for p in cli.get_command(ctx, command).params if isinstance(p, click.Argument)][index]
    assert [item.type for item in param.type.shell_complete(ctx, param, "net")] == ["file"]


@pytest.mark.parametrize("args", [["check", "missing.yaml"], ["compare", MAZUR, "missing.npz"],
                                  ["run", "missing.yaml"]])
def test_a_missing_file_is_still_nngrads_own_error(capsys, args):
    status = _outcome(args)
    err = capsys.readouterr().err
    assert status == 2 and err == f"nngrad: error: {args[-1]}: no such file\n"

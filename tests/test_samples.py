"""The bundled samples: listed, copied (init --sample), read as SPEC sample:NAME by every
command, installed with the package; files that init, convert and step refuse to replace; and
init's rounding to 4 significant digits."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import nngrad
from conftest import REPO, SAMPLES
from nngrad.cli import cli
from nngrad.errors import NngradError
from nngrad.settings import sample
from nngrad.specs.generate import round4

MAZUR = SAMPLES / "04_mazur.yaml"
SHORT = ["relu_mse", "sigmoid_half_sse", "mnist_columns", "mazur", "cs231n_batchnorm", "cs231n_dropout"]


def invoke(*args, stdin=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin, standalone_mode=False)


def ok(*args) -> str:
    result = invoke(*args)
    assert result.exception is None and result.return_value == 0, result.output
    return result.output


@pytest.mark.parametrize("how", [["--list-samples"], ["--sample", "list"]])
def test_the_list_names_every_sample_with_its_first_comment(how):
    lines = ok("init", *how).splitlines()
    files = sorted(SAMPLES.glob("*.yaml"))
    assert [line.split()[0] for line in lines] == SHORT and len(files) == len(SHORT)
    for line, path in zip(lines, files):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# Sample net ") and line.split(None, 1)[1] + "." == first.split(": ", 1)[1]
        assert len(line) <= 80


@pytest.mark.parametrize("name", ["mazur", "04_mazur", "04_mazur.yaml", "4"])
def test_init_sample_copies_the_file_byte_for_byte(tmp_path, name):
    ok("init", "--sample", name, "-o", tmp_path / "net.yaml")
    assert (tmp_path / "net.yaml").read_bytes() == MAZUR.read_bytes()


def test_init_sample_without_o_writes_it_to_standard_output():
    assert invoke("init", "--sample", "relu_mse").output == (SAMPLES / "01_relu_mse.yaml").read_text()


def test_init_sample_as_npz_is_the_same_network(tmp_path):
    ok("init", "--sample", "cs231n_dropout", "-o", tmp_path / "net.npz")
    loss = nngrad.run(nngrad.load(tmp_path / "net.npz")).loss
    assert loss == nngrad.run(nngrad.load(SAMPLES / "06_cs231n_dropout.yaml")).loss == 2.302371489704412


def test_an_unknown_sample_names_the_nearest():
    error = invoke("run", "sample:mazr").exception
    assert isinstance(error, NngradError) and error.exit_code == 2
    assert str(error).startswith("sample:mazr: no bundled sample of that name (did you mean "
                                 "sample:mazur?); known: relu_mse, sigmoid_half_sse")


@pytest.mark.parametrize("args, message", [
    (("--sample", "mazur", "3", "2"), "--sample copies a bundled spec as it is: give no widths with it"),
    (("--sample", "mazur", "--loss", "bce"), "--sample copies a bundled spec as it is: give no --loss with it"),
    (("--list-samples", "--seed", "3"), "--list-samples takes no widths or other options"),
])
def test_sample_options_take_no_widths_or_others(args, message):
    assert str(invoke("init", *args).exception) == message


def test_every_command_reads_sample_name_as_its_spec(tmp_path):
    doc = json.loads(ok("run", "sample:mazur", "--format", "json"))
    assert doc["loss"]["value"] == 0.2983711087600027  # Mazur's E_total, 0.298371109
    assert json.loads(ok("check", "sample:cs231n_batchnorm", "--format", "json"))["agree"] is True
    res = nngrad.run(nngrad.load(MAZUR))
    np.savez(tmp_path / "mine.npz", dW1=res["dW1"], dW2=res["dW2"])
    assert "every gradient agrees" in ok("compare", "sample:mazur", tmp_path / "mine.npz")
    assert ok("explain", "sample:4", "--layer", "2").startswith("sample:4")
    ok("convert", "sample:mazur", tmp_path / "m.npz")
    assert nngrad.run(nngrad.load(tmp_path / "m.npz")).loss == res.loss
    ok("step", "sample:mazur", "--lr", "0.5", "--update", "weights", "-o", tmp_path / "m1.yaml")
    assert nngrad.run(nngrad.load(tmp_path / "m1.yaml")).loss == pytest.approx(0.2910277737, abs=1e-10)


def test_step_in_place_refuses_a_sample():
    message = str(invoke("step", "sample:mazur", "--lr", "0.5", "--in-place").exception)
    assert message.startswith("--in-place needs a SPEC file of your own")
    assert MAZUR.read_bytes().startswith(b"# Sample net 4")


def test_no_output_may_be_the_bundled_file_a_sample_names():
    bundled = sample("mazur")  # the installed file, or the checkout's
    before = bundled.read_bytes()
    error = invoke("convert", "sample:mazur", bundled, "--force").exception
    assert "is the input spec" in str(error) and bundled.read_bytes() == before


def test_the_samples_are_package_data():
    tomllib = pytest.importorskip("tomllib")
    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "nngrad.sample_nets" in tool["packages"]
    assert tool["package-dir"]["nngrad.sample_nets"] == "sample_nets"
    assert tool["package-data"]["nngrad.sample_nets"] == ["*.yaml"]
    assert [p.name for p in SAMPLES.iterdir() if p.name != "__pycache__"] == \
        [p.name for p in SAMPLES.glob("*.yaml")]  # the pattern is not recursive: no subfolders


# --- files that are not replaced without --force ------------------------------------------------

WRITERS = {"init": ["init", "3", "2", "-o"], "init --sample": ["init", "--sample", "mazur", "-o"],
           "convert": ["convert", MAZUR], "step": ["step", MAZUR, "--lr", "0.5", "-o"]}


@pytest.mark.parametrize("writer", WRITERS)
def test_an_existing_file_is_kept_without_force(tmp_path, writer):
    mine = tmp_path / "mine.yaml"
    mine.write_text("# my hand-written spec\n")
    error = invoke(*WRITERS[writer], mine).exception
    assert str(error) == f"{mine}: exists already; give --force to replace it"
    assert error.exit_code == 2 and mine.read_text() == "# my hand-written spec\n"
    ok(*WRITERS[writer], mine, "--force")
    assert nngrad.load(mine).widths in ((3, 2), (2, 2, 2))


def test_step_replaces_an_existing_history_as_run_replaces_its_results(tmp_path):
    (tmp_path / "loss.csv").write_text("old\n")
    ok("step", MAZUR, "--lr", "0.5", "-o", tmp_path / "m.yaml", "--history", tmp_path / "loss.csv")
    assert (tmp_path / "loss.csv").read_text().startswith("step,loss,W1_norm,")


# --- init's numbers: 4 significant digits ------------------------------------------------------

def test_round4_is_the_4_digit_string_read_back():
    rng = np.random.default_rng(5)
    ties = (rng.integers(1000, 10000, 2000) + 0.5) / 10.0 ** rng.integers(-6, 6, 2000)
    x = np.concatenate([rng.standard_normal(20000) * 10.0 ** rng.integers(-25, 25, 20000),
                        ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf),  # near .5
                        [0.0, 1.0, 10.125, -10.125, 1000.5, 9999.5, 99995.0, 0.00012345, 2.5e-30]])
    expected = np.array([float(f"{v:.4g}") for v in x])
    assert np.array_equal(round4(x).view(np.int64), expected.view(np.int64))


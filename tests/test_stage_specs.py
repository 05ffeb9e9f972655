"""Specs with batchnorm, layernorm and dropout: refused bad input (exit 2, one line naming the
place), convert both ways without loss, step's update of gamma and beta, init's options, and
run's notes. Expected gradients come from the autograd oracle (tests/oracle_stages.py)."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

import oracle_stages
from nngrad import SpecError, load

BASE = """\
X: [[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]]
T: [0, 1, 1]
loss: cross_entropy
layers:
  - W: [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]]
    b: [0.0, 0.1, 0.0]
    activation: tanh
    batchnorm: {gamma: [1.0, 0.5, 2.0], beta: [0.1, 0.0, -0.2], eps: 1.0e-5}
    dropout: {keep: 0.5, seed: 1}
  - W: [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]
    activation: softmax
    b: [0.0, 0.0]
"""


def nngrad(*args, cwd=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "nngrad", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, input=stdin)


def cli(*args):
    """A command that succeeds, run in this process (CliRunner): exit status 0, with
    ``returncode``, ``stdout`` and ``stderr`` as a subprocess has them."""
    from click.testing import CliRunner

    from nngrad.cli import cli as command

    result = CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def write(tmp_path, text, name="net.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


BAD = [  # (replace this, with this) in BASE -> the line and place the error must name
    ("seed: 1}", "seed: 1, mask: [[1, 0, 1], [1, 1, 1], [0, 0, 1]]}", 9, "layer 1 dropout.seed:"),
    ("seed: 1}", "seed: 1, mask: null}", 9, "layer 1 dropout.mask: is null"),
    ("seed: 1}", "seed: null, mask: [[1, 0, 1], [1, 1, 1], [0, 0, 1]]}", 9, "layer 1 dropout.seed: is null"),
    ("eps: 1.0e-5", "eps: null", 8, "layer 1 batchnorm.eps: is null"),
    ("keep: 0.5", "keep: 1.5", 9, "layer 1 dropout.keep:"),
    ("keep: 0.5", "keep: 0", 9, "layer 1 dropout.keep:"),
    ("seed: 1}", "mask: [[1, 0, 1], [1, 1, 1]]}", 9, "layer 1 dropout.mask:"),
    ("seed: 1}", "mask: [[1, 0, 1], [1, 2, 1], [1, 1, 1]]}", 9, "layer 1 dropout.mask[1][1]:"),
    ("gamma: [1.0, 0.5, 2.0]", "gamma: [1.0, 0.5]", 8, "layer 1 batchnorm.gamma:"),
    ("beta: [0.1, 0.0, -0.2]", "beta: [[0.1], [0.0], [-0.2]]", 8, "layer 1 batchnorm.beta:"),
    ("eps: 1.0e-5", "eps: 0", 8, "layer 1 batchnorm.eps:"),
    ("eps: 1.0e-5", "eps: -1.0e-5", 8, "layer 1 batchnorm.eps:"),
    ("seed: 1", "seed: -3", 9, "layer 1 dropout.seed:"),
    ("seed: 1", "seed: 1.5", 9, "layer 1 dropout.seed:"),
    ("keep: 0.5, seed: 1", "seed: 1", 9, "layer 1 dropout:"),
    ("keep: 0.5, seed: 1", "keep: 0.5", 9, "layer 1 dropout:"),
    ("seed: 1}", "seed: 1, inverted: 1}", 9, "layer 1 dropout.inverted:"),
    ("    activation: softmax", "    activation: softmax\n    dropout: {keep: 0.5, seed: 1}", 12,
     "layer 2 dropout:"),
    ("    activation: softmax", "    activation: softmax\n    batchnorm: {}", 12, "layer 2 batchnorm:"),
    ("    dropout: {keep: 0.5, seed: 1}", "    layernorm: {}", 9, "layer 1 layernorm:"),
    ("batchnorm:", "batch_norm:", 8, "did you mean 'batchnorm'?"),
    ("keep:", "keep_prob:", 9, "did you mean 'keep'?"),
]


@pytest.mark.parametrize("old, new, line, place", BAD, ids=[b[1][:30] for b in BAD])
def test_bad_stage_is_refused_naming_line_and_place(tmp_path, old, new, line, place):
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new))
    with pytest.raises(SpecError) as e:
        load(path)
    said = str(e.value)
    assert "\n" not in said and said.startswith(f"{path}:{line}: ") and place in said, said


CLI_BAD = {"both": BAD[0], "keep": BAD[4], "output": next(b for b in BAD if b[3] == "layer 2 dropout:")}


@pytest.mark.parametrize("old, new, line, place", CLI_BAD.values(), ids=CLI_BAD)
def test_bad_stage_is_one_line_exit_2_and_loses_nothing(tmp_path, old, new, line, place):
    path = write(tmp_path, BASE.replace(old, new))
    before = path.read_bytes()
    for command in (["run"], ["step", "--lr", "0.1", "--in-place"]):
        result = nngrad(*command[:1], path, *command[1:])
        assert result.returncode == 2 and result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and f"net.yaml:{line}:" in lines[0] and place in lines[0], lines
        assert path.read_bytes() == before


def test_a_seeded_dropout_record_with_another_mask_is_refused():
    net = load_text(BASE)
    drop = net.layers[0].dropout
    with pytest.raises(SpecError, match="layer 1 dropout.mask: holds a mask that seed 1 does not draw"):
        dataclasses.replace(net, layers=(dataclasses.replace(net.layers[0], dropout=drop._replace(
            mask=1 - drop.mask)), net.layers[1]))
    again = dataclasses.replace(net, layers=net.layers)  # its own drawn mask: accepted
    np.testing.assert_array_equal(again.layers[0].dropout.mask, drop.mask)


def load_text(text):
    from nngrad.specs.read import from_yaml

    return from_yaml(text.encode())


def test_bad_npz_stage_names_its_member(tmp_path):
    path = write(tmp_path, BASE)
    assert cli("convert", path, tmp_path / "net.npz").returncode == 0
    members = dict(np.load(tmp_path / "net.npz"))
    members["gamma1"] = np.ones(2)
    np.savez(tmp_path / "bad.npz", **members)
    result = nngrad("run", tmp_path / "bad.npz")
    assert result.returncode == 2 and "gamma1:" in result.stderr and "3 units" in result.stderr
    members["gamma1"], members["norm1"] = np.ones(3), np.array("groupnorm")
    np.savez(tmp_path / "bad.npz", **members)
    result = nngrad("run", tmp_path / "bad.npz")
    assert result.returncode == 2 and "norm1:" in result.stderr


def test_npz_stage_member_without_its_stage_is_refused(tmp_path):
    path = write(tmp_path, BASE)
    assert cli("convert", path, tmp_path / "net.npz").returncode == 0
    members = dict(np.load(tmp_path / "net.npz"))
    del members["keep1"]
    np.savez(tmp_path / "bad.npz", **members)
    result = nngrad("run", tmp_path / "bad.npz")
    assert result.returncode == 2 and "seed1:" in result.stderr and "keep1" in result.stderr


def tensors(path):
    result = cli("run", path, "--format", "json")
    assert result.returncode == 0, result.stderr
    return {k: v for k, v in json.loads(result.stdout).items() if k != "spec"}  # each copy's own name


@pytest.mark.parametrize("variant", ["seed", "mask_not_inverted", "layernorm_columns", "omitted"])
def test_convert_both_ways_keeps_every_result(tmp_path, variant):
    text = BASE
    if variant == "mask_not_inverted":
        text = text.replace("seed: 1}", "mask: [[1, 0, 1], [1, 1, 0], [0, 1, 1]], inverted: false}")
    elif variant == "layernorm_columns":
        spec = yaml.safe_load(BASE)
        spec["layout"] = "columns"
        spec["X"] = np.array(spec["X"]).T.tolist()
        for layer in spec["layers"]:
            layer["W"] = np.array(layer["W"]).T.tolist()
        spec["layers"][0]["layernorm"] = spec["layers"][0].pop("batchnorm")
        text = yaml.safe_dump(spec)
    elif variant == "omitted":
        text = text.replace("{gamma: [1.0, 0.5, 2.0], beta: [0.1, 0.0, -0.2], eps: 1.0e-5}", "{}")
    path = write(tmp_path, text)
    expected = tensors(path)
    assert cli("convert", path, tmp_path / "a.npz").returncode == 0
    assert cli("convert", tmp_path / "a.npz", tmp_path / "b.yaml").returncode == 0
    assert cli("convert", tmp_path / "b.yaml", tmp_path / "c.npz").returncode == 0
    for out in ("a.npz", "b.yaml", "c.npz"):
        assert tensors(tmp_path / out) == expected, out
    again = yaml.safe_load((tmp_path / "b.yaml").read_text())["layers"][0]
    assert ("seed" in again["dropout"]) == (variant != "mask_not_inverted")


def test_npz_form_is_documented_members(tmp_path):
    assert cli("convert", write(tmp_path, BASE), tmp_path / "net.npz").returncode == 0
    members = np.load(tmp_path / "net.npz")
    assert {"norm1", "gamma1", "beta1", "eps1", "keep1", "seed1"} <= set(members.files)
    assert str(members["norm1"]) == "batchnorm" and int(members["seed1"]) == 1
    np.testing.assert_array_equal(members["gamma1"], [1.0, 0.5, 2.0])


@pytest.mark.parametrize("fmt", ["yaml", "npz"])
def test_step_updates_gamma_and_beta_by_the_oracle_gradient(tmp_path, fmt):
    path = write(tmp_path, BASE)
    spec = yaml.safe_load(BASE)
    grads = oracle_stages.gradients(spec)
    if fmt == "npz":
        assert cli("convert", path, tmp_path / "net.npz").returncode == 0
        path = tmp_path / "net.npz"
    out = tmp_path / f"out.{fmt}"
    result = cli("step", path, "--lr", "0.5", "-o", out)
    assert result.returncode == 0, result.stderr
    if fmt == "yaml":
        layer = yaml.safe_load(out.read_text())["layers"][0]
        gamma, beta, drop = layer["batchnorm"]["gamma"], layer["batchnorm"]["beta"], layer["dropout"]
        assert drop == {"keep": 0.5, "seed": 1}
    else:
        members = np.load(out)
        gamma, beta = members["gamma1"], members["beta1"]
        assert int(members["seed1"]) == 1 and "mask1" not in members.files
    np.testing.assert_allclose(gamma, np.array([1.0, 0.5, 2.0]) - 0.5 * grads["dgamma1"], rtol=1e-12)
    np.testing.assert_allclose(beta, np.array([0.1, 0.0, -0.2]) - 0.5 * grads["dbeta1"], rtol=1e-12,
                               atol=1e-15)


def test_step_weights_only_keeps_gamma(tmp_path):
    path = write(tmp_path, BASE)
    assert cli("step", path, "--lr", "0.5", "--update", "weights", "-o", tmp_path / "o.yaml").returncode == 0
    layer = yaml.safe_load((tmp_path / "o.yaml").read_text())["layers"][0]
    assert layer["batchnorm"]["gamma"] == [1.0, 0.5, 2.0]


def test_step_in_place_keeps_comments_and_patches_gamma(tmp_path):
    path = write(tmp_path, "# my net\n" + BASE)
    assert cli("step", path, "--lr", "0.1", "--in-place").returncode == 0
    text = path.read_text()
    assert text.startswith("# my net\n") and "seed: 1}" in text and "gamma: [1.0, 0.5, 2.0]" not in text


@pytest.mark.parametrize("flags, stage", [(["--batchnorm"], "batchnorm"), (["--layernorm"], "layernorm")])
def test_init_norm_gives_every_hidden_layer_gamma_one_beta_zero(tmp_path, flags, stage):
    out = tmp_path / "i.yaml"
    assert cli("init", 3, 4, 5, 2, *flags, "-o", out).returncode == 0
    layers = yaml.safe_load(out.read_text())["layers"]
    for layer in layers[:-1]:
        assert layer[stage] == {"eps": 1e-5, "gamma": [1.0] * len(layer["b"]), "beta": [0.0] * len(layer["b"])}
    assert stage not in layers[-1]
    assert cli("check", out).returncode == 0


def test_init_dropout_with_seed(tmp_path):
    out = tmp_path / "i.yaml"
    assert cli("init", 3, 4, 2, "--dropout", "0.8", "--dropout-seed", "7", "-o", out).returncode == 0
    layers = yaml.safe_load(out.read_text())["layers"]
    assert layers[0]["dropout"] == {"keep": 0.8, "seed": 7} and "dropout" not in layers[1]
    assert "--dropout 0.8 --dropout-seed 7" in out.read_text().splitlines()[0]


@pytest.mark.parametrize("args", [["3", "2", "--batchnorm"], ["3", "4", "2", "--dropout", "0"],
                                  ["3", "4", "2", "--dropout", "1.5"],
                                  ["3", "4", "2", "--dropout-seed", "3"]])
def test_init_refuses_bad_stage_options(tmp_path, args):
    result = nngrad("init", *args, "-o", tmp_path / "i.yaml")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "i.yaml").exists()


def test_run_table_notes_training_mode_and_mask(tmp_path):
    result = cli("run", write(tmp_path, BASE))
    assert result.returncode == 0
    assert "layer 1 batchnorm: training mode" in result.stdout
    assert "keep 0.5, mask1 drawn from seed 1, A1 = H1 * mask1 / 0.5" in result.stdout
    assert "layer 1: batchnorm, tanh, dropout" in result.stdout
    for name in ("mu1", "var1", "xhat1", "S1", "H1", "mask1", "dH1", "dS1", "dxhat1", "dgamma1", "dbeta1"):
        assert f"\n{name} " in result.stdout, name


def test_one_example_batchnorm_warns_and_gives_beta(tmp_path):
    text = BASE.replace("X: [[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]]", "X: [[1.0, 2.0]]") \
        .replace("T: [0, 1, 1]", "T: [1]").replace("seed: 1}", "mask: [[1, 1, 1]]}")
    result = cli("run", write(tmp_path, text), "--format", "json")
    assert result.returncode == 0
    assert "warning" in result.stderr and "S1 = beta1" in result.stderr
    S = json.loads(result.stdout)["tensors"]["S1"]["data"]
    np.testing.assert_allclose(S, [[0.1, 0.0, -0.2]])


def test_batch_chunk_on_a_staged_net_warns_and_gives_the_whole_batch_gradients(tmp_path):
    path = write(tmp_path, BASE)
    result = cli("run", path, "--keep", "grads", "--batch-chunk", "1", "--format", "json")
    assert result.returncode == 0 and "--batch-chunk has no effect" in result.stderr
    got = json.loads(result.stdout)["tensors"]
    right = oracle_stages.gradients(yaml.safe_load(BASE))
    for name in ("dW1", "dgamma1", "dbeta1", "dW2"):
        np.testing.assert_allclose(got[name]["data"], right[name], rtol=1e-9, atol=1e-15)


def test_init_refuses_both_norms(tmp_path):
    result = nngrad("init", 3, 4, 2, "--batchnorm", "--layernorm", "-o", tmp_path / "i.yaml")
    assert result.returncode == 2 and "not both" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "i.yaml").exists()


def test_step_writes_a_batchnorm_true_spec_anew_with_its_gamma(tmp_path):
    path = write(tmp_path, BASE.replace("{gamma: [1.0, 0.5, 2.0], beta: [0.1, 0.0, -0.2], eps: 1.0e-5}", "true"))
    spec = yaml.safe_load(path.read_text())
    grads = oracle_stages.gradients({**spec, "layers": [{**spec["layers"][0], "batchnorm": {}}, spec["layers"][1]]})
    result = cli("step", path, "--lr", "0.5", "-o", tmp_path / "o.yaml")
    assert result.returncode == 0 and "written anew" in result.stderr
    norm = yaml.safe_load((tmp_path / "o.yaml").read_text())["layers"][0]["batchnorm"]
    np.testing.assert_allclose(norm["gamma"], 1 - 0.5 * grads["dgamma1"], rtol=1e-12)

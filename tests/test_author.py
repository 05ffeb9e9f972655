"""nngrad init, convert and step: new specs that fit their loss, lossless round trips between
YAML and NPZ, and gradient descent checked against the autograd oracle and Mazur's post."""

import csv
import subprocess
import sys

import numpy as np
import pytest
import yaml
from autograd import grad

import nngrad
import oracle
from conftest import SAMPLES, random_spec

MAZUR = SAMPLES / "04_mazur.yaml"


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nngrad", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def results(path):
    return nngrad.run(nngrad.load(path))


def assert_same_bits(a, b):
    assert a.loss == b.loss
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name


# --- init ------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_init_shapes_follow_the_widths(tmp_path, layout):
    out = tmp_path / "net.yaml"
    assert cli("init", 4, 6, 3, 2, "--batch", 5, "--layout", layout, "-o", out).returncode == 0
    net = nngrad.load(out)
    assert net.widths == (4, 6, 3, 2) and net.batch == 5 and net.layout == layout
    res = nngrad.run(net)
    assert res["dW2"].shape == ((6, 3) if layout == "rows" else (3, 6))


@pytest.mark.parametrize("loss", ["mse", "sse", "half_sse", "mae", "bce", "cross_entropy"])
def test_init_output_and_targets_fit_every_loss(tmp_path, loss):
    out = tmp_path / "net.yaml"
    assert cli("init", 3, 4, 3, "--loss", loss, "--batch", 6, "-o", out).returncode == 0
    spec = yaml.safe_load(out.read_text())
    T = np.asarray(spec["T"])
    output = spec["layers"][-1]["activation"]
    if loss == "cross_entropy":
        assert output == "softmax" and set(T.sum(axis=1)) == {1} and set(T.ravel()) == {0, 1}
    elif loss == "bce":
        assert output == "sigmoid" and set(T.ravel()) <= {0, 1}
    else:
        assert output == "identity" and len(set(T.ravel())) > 2
    assert cli("check", out).returncode == 0


def test_init_same_seed_same_file_and_another_seed_another(tmp_path):
    files = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert cli("init", 3, 5, 2, "--seed", seed, "-o", tmp_path / f"{name}.yaml").returncode == 0
        files.append((tmp_path / f"{name}.yaml").read_bytes())
    assert files[0] == files[1] != files[2]


def test_init_yaml_and_npz_of_one_seed_are_the_same_net(tmp_path):
    for ext in ("yaml", "npz"):
        assert cli("init", 3, 5, 2, "--seed", 7, "-o", tmp_path / f"net.{ext}").returncode == 0
    assert_same_bits(results(tmp_path / "net.yaml"), results(tmp_path / "net.npz"))


def test_init_yaml_is_readable_with_a_header(tmp_path):
    proc = cli("init", 2, 3, 1, "--batch", 2, "--activation", "tanh", "--init", "xavier")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("# Made by nngrad") and "--init xavier" in lines[0]
    assert "N(0, 2 / (n_in + n_out))" in lines[1]
    W1 = lines[lines.index("    W:") + 1: lines.index("    W:") + 3]
    assert all(line.startswith("      - [") for line in W1)  # one matrix row per line
    assert max(len(line) for line in lines[2:]) < 60


@pytest.mark.parametrize("init,expected", [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 600)),
                                           ("normal", 1.0)])
def test_init_scales_follow_the_formulas(tmp_path, init, expected):
    out = tmp_path / "net.npz"
    assert cli("init", 400, 200, "--init", init, "-o", out).returncode == 0
    assert np.load(out)["W1"].std() == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize("args,fragment", [
    (("init", 3), "at least two widths"),
    (("init", 3, 0), "0"),
    (("init", 3, 2, "--loss", "bce", "--output-activation", "identity"), "bce needs a sigmoid"),
    (("init", 3, 2, "-o", "net.txt"), "extension '.txt'"),
])
def test_init_bad_usage_is_exit_2_and_writes_nothing(tmp_path, args, fragment):
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "" and fragment in proc.stderr
    assert list(tmp_path.iterdir()) == []


# --- convert ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["01_relu_mse.yaml", "03_mnist_columns.yaml", "04_mazur.yaml"])
def test_convert_yaml_npz_yaml_gives_identical_results(tmp_path, name):
    npz, back = tmp_path / "net.npz", tmp_path / "back.yaml"
    assert cli("convert", SAMPLES / name, npz).returncode == 0
    assert cli("convert", npz, back).returncode == 0
    original = results(SAMPLES / name)
    assert_same_bits(original, results(npz))
    assert_same_bits(original, results(back))


def test_convert_keeps_omitted_biases_parameters_reduction_and_labels(tmp_path):
    spec = random_spec(widths=(3, 4, 3), hidden={"name": "leaky_relu", "alpha": 0.2}, bias="none",
                       output="softmax", loss="cross_entropy", labels=True)
    spec["loss"] = {"name": "cross_entropy", "reduction": "sum"}
    src = tmp_path / "net.yaml"
    src.write_text(yaml.safe_dump(spec))
    assert cli("convert", src, tmp_path / "net.npz").returncode == 0
    z = np.load(tmp_path / "net.npz")
    assert "b1" not in z and list(z["activations"]) == ["leaky_relu:0.2", "softmax"]
    assert str(z["reduction"]) == "sum" and z["T"].dtype.kind == "i"
    assert cli("convert", tmp_path / "net.npz", tmp_path / "back.yaml").returncode == 0
    back = yaml.safe_load((tmp_path / "back.yaml").read_text())
    assert "b" not in back["layers"][0] and back["layers"][0]["activation"] == {"name": "leaky_relu",
                                                                                "alpha": 0.2}
    assert back["loss"] == {"name": "cross_entropy", "reduction": "sum"} and back["T"] == spec["T"]
    assert_same_bits(results(src), results(tmp_path / "back.yaml"))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_npz_to_yaml_to_npz_returns_the_same_bits(tmp_path, dtype):
    rng = np.random.default_rng(11)
    cast = np.dtype(dtype).type
    arrays = dict(X=rng.standard_normal((3, 2)).astype(dtype) * cast(1e-7),
                  T=rng.standard_normal((3, 1)).astype(dtype) * cast(1e30),
                  W1=rng.standard_normal((2, 4)).astype(dtype), b1=rng.standard_normal(4).astype(dtype),
                  W2=rng.standard_normal((4, 1)).astype(dtype) / cast(3),
                  activations=np.array(["tanh", "identity"]), loss=np.array("mse"), dtype=np.array(dtype))
    np.savez(tmp_path / "a.npz", **arrays)
    assert cli("convert", tmp_path / "a.npz", tmp_path / "a.yaml").returncode == 0
    assert cli("convert", tmp_path / "a.yaml", tmp_path / "b.npz").returncode == 0
    b = np.load(tmp_path / "b.npz")
    for key in ("X", "T", "W1", "b1", "W2"):
        assert b[key].dtype == arrays[key].dtype and np.array_equal(b[key], arrays[key]), key
    assert_same_bits(results(tmp_path / "a.npz"), results(tmp_path / "a.yaml"))


def test_an_npz_made_by_hand_with_savez_runs_as_is(tmp_path):
    np.savez(tmp_path / "mine.npz", X=np.array([[0.05, 0.10]]), T=np.array([[0.01, 0.99]]),
             W1=np.array([[0.15, 0.25], [0.20, 0.30]]), b1=np.array([0.35, 0.35]),
             W2=np.array([[0.40, 0.50], [0.45, 0.55]]), b2=np.array([0.60, 0.60]),
             activations=np.array(["sigmoid", "sigmoid"]), loss=np.array("half_sse"))
    assert cli("run", tmp_path / "mine.npz").returncode == 0
    assert_same_bits(results(tmp_path / "mine.npz"), results(MAZUR))


def test_convert_refuses_its_own_input_and_bad_input_writes_nothing(tmp_path):
    src = tmp_path / "net.yaml"
    src.write_text(MAZUR.read_text())
    proc = cli("convert", src, src)
    assert proc.returncode == 2 and "is the input spec" in proc.stderr
    assert src.read_text() == MAZUR.read_text()
    (tmp_path / "bad.yaml").write_text("X: [[1, 2]]\n")
    proc = cli("convert", tmp_path / "bad.yaml", tmp_path / "out.npz")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert not (tmp_path / "out.npz").exists()


# --- step ------------------------------------------------------------------------------------

def oracle_descent(spec, lr, steps, momentum=0.0, weights_only=False):
    params, velocity, losses = oracle.params_of(spec), None, []
    for _ in range(steps):
        losses.append(oracle.loss(spec, params))
        g = grad(lambda p: oracle.loss(spec, p))(params)
        if weights_only:
            g = [gi if i % 2 == 0 else 0 * gi for i, gi in enumerate(g)]
        velocity = g if velocity is None or not momentum else [momentum * v + gi for v, gi in zip(velocity, g)]
        params = [p - lr * v for p, v in zip(params, velocity)]
    losses.append(oracle.loss(spec, params))
    return params, losses


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("momentum,update", [(0.0, "all"), (0.9, "all"), (0.0, "weights")])
def test_step_follows_the_oracles_descent(tmp_path, layout, momentum, update):
    spec = random_spec(seed=12, widths=(3, 4, 2), layout=layout, bias="2d", hidden="sigmoid")
    src, out, hist = tmp_path / "net.yaml", tmp_path / "out.yaml", tmp_path / "loss.csv"
    src.write_text(yaml.safe_dump(spec))
    proc = cli("step", src, "--lr", 0.1, "--steps", 5, "--momentum", momentum, "--update", update,
               "-o", out, "--history", hist)
    assert proc.returncode == 0, proc.stderr
    params, losses = oracle_descent(spec, 0.1, 5, momentum, update == "weights")
    new = yaml.safe_load(out.read_text())
    for l, layer in enumerate(new["layers"]):
        np.testing.assert_allclose(layer["W"], params[2 * l], rtol=1e-12)
        np.testing.assert_allclose(np.asarray(layer["b"]).reshape(params[2 * l + 1].shape),
                                   params[2 * l + 1], rtol=1e-12)
    curve = np.loadtxt(hist, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(curve[:, 0], np.arange(6))
    np.testing.assert_allclose(curve[:, 1], losses, rtol=1e-12)
    assert new["X"] == spec["X"] and new["T"] == spec["T"] and new["layout"] == layout


def test_one_step_on_mazurs_net_is_his_update(tmp_path):
    out = tmp_path / "out.yaml"
    proc = cli("step", MAZUR, "--lr", 0.5, "--update", "weights", "-o", out)
    assert proc.returncode == 0
    # Mazur's updated weights, w1..w8, and the error after the update, as published.
    net = nngrad.load(out)
    W1, W2 = net.layers[0].W, net.layers[1].W
    np.testing.assert_allclose([W1[0, 0], W1[1, 0], W1[0, 1], W1[1, 1]],
                               [0.149780716, 0.19956143, 0.24975114, 0.29950229], atol=1e-8)
    np.testing.assert_allclose([W2[0, 0], W2[1, 0], W2[0, 1], W2[1, 1]],
                               [0.35891648, 0.408666186, 0.511301270, 0.561370121], atol=1e-8)
    np.testing.assert_array_equal(net.layers[0].b, [0.35, 0.35])
    assert nngrad.run(net).loss == pytest.approx(0.291027924, abs=1e-6)
    assert "step 1: loss 0.2983711088 -> 0.29102777" in proc.stderr and proc.stdout == ""


def test_step_changes_only_the_numbers_of_a_yaml_spec(tmp_path):
    out = tmp_path / "out.yaml"
    assert cli("step", MAZUR, "--lr", 0.5, "-o", out).returncode == 0
    old, new = MAZUR.read_text().splitlines(), out.read_text().splitlines()
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert len(changed) == 6  # two rows of W1, b1, two rows of W2, b2
    for a, b in changed:
        assert a.split("[")[0] == b.split("[")[0]


def test_n_steps_at_once_equal_n_single_steps_bit_for_bit(tmp_path):
    assert cli("step", MAZUR, "--lr", 0.5, "--steps", 3, "-o", tmp_path / "three.yaml").returncode == 0
    previous = MAZUR
    for k in range(3):
        assert cli("step", previous, "--lr", 0.5, "-o", tmp_path / f"{k}.yaml").returncode == 0
        previous = tmp_path / f"{k}.yaml"
    assert (tmp_path / "three.yaml").read_text() == previous.read_text()


def test_step_on_an_npz_keeps_every_other_member_bit_for_bit(tmp_path):
    assert cli("convert", MAZUR, tmp_path / "m.npz").returncode == 0
    assert cli("step", tmp_path / "m.npz", "--lr", 0.5, "-o", tmp_path / "out.npz").returncode == 0
    a, b = np.load(tmp_path / "m.npz"), np.load(tmp_path / "out.npz")
    assert set(a.files) == set(b.files)
    for key in set(a.files) - {"W1", "W2", "b1", "b2"}:
        assert np.array_equal(a[key], b[key]), key
    assert cli("step", MAZUR, "--lr", 0.5, "-o", tmp_path / "out.yaml").returncode == 0
    assert_same_bits(results(tmp_path / "out.npz"), results(tmp_path / "out.yaml"))


def test_step_with_an_omitted_bias_writes_the_spec_anew(tmp_path):
    spec = random_spec(seed=2, widths=(2, 3, 1), bias="none")
    src, out = tmp_path / "net.yaml", tmp_path / "out.yaml"
    src.write_text(yaml.safe_dump(spec))
    proc = cli("step", src, "--lr", 0.1, "-o", out)
    assert proc.returncode == 0 and "written anew" in proc.stderr
    params, _ = oracle_descent(spec, 0.1, 1)
    np.testing.assert_allclose(nngrad.load(out).layers[1].b, params[3], rtol=1e-12)


def test_step_never_overwrites_its_input_without_in_place(tmp_path):
    src = tmp_path / "net.yaml"
    src.write_text(MAZUR.read_text())
    for args in (("-o", src), ()):
        proc = cli("step", src, "--lr", 0.5, *args)
        assert proc.returncode == 2 and src.read_text() == MAZUR.read_text()
    assert cli("step", src, "--lr", 0.5, "--in-place").returncode == 0
    assert nngrad.load(src).layers[0].W[0, 0] != 0.15


def test_a_diverging_descent_exits_1_and_writes_nothing(tmp_path):
    spec = random_spec(seed=3, widths=(3, 4, 2), hidden="identity")
    src, out = tmp_path / "net.yaml", tmp_path / "out.yaml"
    src.write_text(yaml.safe_dump(spec))
    out.write_text("old\n")
    proc = cli("step", src, "--lr", 1e3, "--steps", 200, "-o", out, "--force")
    assert proc.returncode == 1 and "the loss is" in proc.stderr and "nothing was written" in proc.stderr
    assert out.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml", "out.yaml"]


def test_step_to_standard_output_moves_the_log_to_standard_error():
    proc = cli("step", MAZUR, "--lr", 0.5, "-o", "-")
    assert proc.returncode == 0 and "step 1" in proc.stderr
    assert yaml.safe_load(proc.stdout)["layers"][0]["W"][0][0] != 0.15


def test_step_refuses_to_change_the_format(tmp_path):
    proc = cli("step", MAZUR, "--lr", 0.5, "-o", tmp_path / "out.npz")
    assert proc.returncode == 2 and "nngrad convert" in proc.stderr


def test_step_keeps_a_byte_order_mark(tmp_path):
    src = tmp_path / "bom.yaml"
    src.write_bytes(b"\xef\xbb\xbf" + MAZUR.read_bytes())
    assert cli("step", src, "--lr", 0.5, "-o", tmp_path / "out.yaml").returncode == 0
    assert (tmp_path / "out.yaml").read_bytes().startswith(b"\xef\xbb\xbf# Sample net 4")


def test_step_reads_an_npz_once_under_the_configured_limit(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import nngrad.specs.npzread
    from nngrad.cli import cli as nngrad_cli

    assert cli("convert", MAZUR, tmp_path / "m.npz").returncode == 0
    (tmp_path / "big.yaml").write_text("limits: {npz_bytes: 1000000}\n")
    monkeypatch.setattr(nngrad.specs.npzread, "DEFAULT_LIMIT", 100)  # below the file's 1,540 bytes
    result = CliRunner().invoke(nngrad_cli, ["step", str(tmp_path / "m.npz"), "--lr", "0.5",
                                             "-o", str(tmp_path / "out.npz"),
                                             "--config", str(tmp_path / "big.yaml")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.npz").exists()


def test_the_history_has_each_weights_norm_and_its_gradients(tmp_path):
    spec = random_spec(seed=12, widths=(3, 4, 2), hidden="sigmoid")
    src, out, hist = tmp_path / "net.yaml", tmp_path / "out.yaml", tmp_path / "loss.csv"
    src.write_text(yaml.safe_dump(spec))
    assert cli("step", src, "--lr", 0.1, "--steps", 3, "-o", out, "--history", hist).returncode == 0
    rows = list(csv.DictReader(hist.open()))
    assert list(rows[0]) == ["step", "loss", "W1_norm", "dW1_norm", "W2_norm", "dW2_norm"]
    right = oracle.gradients(spec)
    for l in (1, 2):
        assert float(rows[0][f"W{l}_norm"]) == pytest.approx(np.linalg.norm(spec["layers"][l - 1]["W"]), rel=1e-12)
        assert float(rows[0][f"dW{l}_norm"]) == pytest.approx(np.linalg.norm(right[f"dW{l}"]), rel=1e-9)
    params, _ = oracle_descent(spec, 0.1, 3, 0.0, False)
    assert float(rows[3]["W2_norm"]) == pytest.approx(np.linalg.norm(params[2]), rel=1e-12)

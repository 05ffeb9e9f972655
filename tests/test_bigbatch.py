"""A batch read through a memory map (``run --batch-chunk``, ``load(mapped=True)``): the same
gradients, the same checks and messages, bounded temporaries, and safe against a file replaced
while it is mapped."""

import os
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

import oracle
from conftest import random_spec
from nngrad.cli import cli
from nngrad.cli.exits import _outcome
from nngrad.errors import SpecError
from nngrad.model.values import array, nonfinite_at
from nngrad.numerics.passes import run
from nngrad.specs.npzmap import Pages, unchanged
from nngrad.specs.read import load


def save(path, spec, compressed=False, **extra):
    """``spec`` (a conftest dict) as an NPZ file, as np.savez (or np.savez_compressed) writes it."""
    members = {"X": np.asarray(spec["X"]), "T": np.asarray(spec["T"]), "loss": np.array(spec["loss"]),
               "layout": np.array(spec["layout"]),
               "activations": np.array([layer["activation"] for layer in spec["layers"]])}
    for l, layer in enumerate(spec["layers"], start=1):
        members[f"W{l}"], members[f"b{l}"] = np.asarray(layer["W"]), np.asarray(layer["b"])
    (np.savez_compressed if compressed else np.savez)(path, **{**members, **extra})
    return path


def mapped(a) -> bool:
    return isinstance(a.base, Pages) and not a.flags.writeable


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_a_mapped_batch_gives_the_oracles_gradients_chunk_by_chunk(tmp_path, layout):
    spec = random_spec(seed=3, widths=(5, 7, 3), m=23, layout=layout)
    net = load(save(tmp_path / "n.npz", spec), mapped=True)
    assert mapped(net.X) and mapped(net.T)
    got, want = run(net, keep="grads", batch_chunk=4), oracle.gradients(spec)
    for name in ("dW1", "dB1", "dW2", "dB2"):
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-14)
    assert got.loss == pytest.approx(float(oracle.loss(spec)), rel=1e-12)


def test_a_compressed_npz_is_read_into_memory_and_gives_the_same_network(tmp_path):
    spec = random_spec(seed=4, m=9)
    net = load(save(tmp_path / "c.npz", spec, compressed=True), mapped=True)
    assert not mapped(net.X) and net.X.flags.writeable
    np.testing.assert_array_equal(net.X, np.asarray(spec["X"]))


def test_an_npz_from_bytes_is_read_into_memory(tmp_path):
    from nngrad.specs.read import from_npz

    data = save(tmp_path / "n.npz", random_spec(seed=5)).read_bytes()
    assert not mapped(from_npz(data, mapped=True).X)


def test_an_npz_on_standard_input_is_read_into_memory(tmp_path):
    path = save(tmp_path / "n.npz", random_spec(seed=5, m=6))
    result = CliRunner().invoke(cli, ["run", "-", "--keep", "grads", "--batch-chunk", "2",
                                      "--format", "json"], input=path.read_bytes())
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("entries", [1, 3, 7, 40, 10 ** 6])
def test_the_first_nonfinite_entry_is_found_block_by_block(entries):
    rng = np.random.default_rng(entries)
    a = rng.standard_normal((6, 5, 4))
    a[rng.random(a.shape) < 0.05] = np.nan
    a[4, 2, 1] = np.inf
    want = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
    assert nonfinite_at(a, entries) == want
    assert nonfinite_at(np.zeros((6, 5, 4)), entries) is None


def test_a_nonfinite_entry_deep_in_a_big_mapped_x_is_named_as_before(tmp_path):
    spec = random_spec(seed=6, widths=(1000, 2, 1), m=3)
    X = np.random.default_rng(6).standard_normal((3000, 1000))  # 3 million entries: two blocks
    X[2999, 998] = -np.inf
    T = np.zeros((3000, 1))
    path = save(tmp_path / "n.npz", {**spec, "X": X, "T": T})
    messages = []
    for chunked in (False, True):
        with pytest.raises(SpecError) as e:
            load(path, mapped=chunked)
        messages.append(str(e.value))
    assert messages[0] == messages[1]
    assert messages[1].endswith("X[2999][998]: is -inf; every number must be finite")


def test_a_cast_that_overflows_is_named_at_its_entry():
    a = np.ones((50, 4))
    a[37, 2] = 1e300
    with pytest.raises(SpecError, match=r"is 1e\+300, too large for float32") as e:
        array(a, ("X",), "float32")
    assert e.value.path == ("X", 37, 2)


def test_validation_gives_back_the_pages_of_a_mapped_x(tmp_path):
    spec = random_spec(seed=7, widths=(500, 2, 1), m=3)
    X = np.random.default_rng(7).standard_normal((20000, 500))  # 80 MB
    net = load(save(tmp_path / "n.npz", {**spec, "X": X, "T": np.zeros((20000, 1))}), mapped=True)
    start = net.X.base.start
    with open("/proc/self/smaps") as f:
        lines = f.read().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{start:x}-"))
    rss = next(int(line.split()[1]) for line in lines[at:] if line.startswith("Rss:")) * 1024
    assert rss < X.nbytes // 8, rss  # every entry was read, and at most a block is kept


def test_a_corrupt_stored_x_is_refused_as_before(tmp_path):
    path = save(tmp_path / "n.npz", random_spec(seed=8, m=40))
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("X.npy")
    data = bytearray(path.read_bytes())
    data[info.header_offset + 30 + len("X.npy") + 128 + 17] ^= 0x40  # a byte of X's numbers
    path.write_bytes(bytes(data))
    messages = []
    for chunked in (False, True):
        with pytest.raises(SpecError) as e:
            load(path, mapped=chunked)
        messages.append(str(e.value))
    assert messages[0] == messages[1] == \
        f"{path}: X: is not a valid .npy array (the NPZ is truncated or corrupt)"


def test_the_npz_cap_says_how_to_raise_it_and_that_advice_works(tmp_path, capsys):
    path = save(tmp_path / "n.npz", random_spec(seed=9, m=50))
    with pytest.raises(SpecError) as e:
        load(path, limit=1000)
    message = str(e.value)
    assert "limits.npz_bytes" in message and "--config FILE" in message
    setting = message[message.index("`") + 1:message.rindex("`")]
    (tmp_path / "c.yaml").write_text(setting + "\n")
    (tmp_path / "small.yaml").write_text("limits: {npz_bytes: 1000}\n")
    assert _outcome(["run", str(path), "--config", str(tmp_path / "small.yaml")]) == 2
    assert "--config FILE" in capsys.readouterr().err
    assert _outcome(["run", str(path), "--config", str(tmp_path / "c.yaml")]) == 0


def test_with_batch_chunk_mapped_x_and_t_do_not_count_against_the_cap(tmp_path, capsys):
    spec = random_spec(seed=10, m=400)
    path = save(tmp_path / "n.npz", spec)
    (tmp_path / "c.yaml").write_text("limits: {npz_bytes: 2000}\n")  # X alone is 9,600 bytes
    args = ["run", str(path), "--config", str(tmp_path / "c.yaml"), "--keep", "grads",
            "--format", "json"]
    assert _outcome(args) == 2 and "limits.npz_bytes" in capsys.readouterr().err
    result = CliRunner().invoke(cli, [*args, "--batch-chunk", "64"])
    assert result.exit_code == 0, result.output
    import json

    got = json.loads(result.output)["tensors"]["dW1"]["data"]
    np.testing.assert_allclose(got, oracle.gradients(spec)["dW1"], rtol=1e-12, atol=1e-14)


def test_step_in_place_replaces_a_mapped_npz_without_touching_the_map(tmp_path):
    spec = random_spec(seed=11, m=30)
    path = save(tmp_path / "n.npz", spec)
    net = load(path, mapped=True)
    before = run(net, keep="grads", batch_chunk=7)
    result = CliRunner().invoke(cli, ["step", str(path), "--lr", "0.1", "--in-place"])
    assert result.exit_code == 0, result.output
    after = run(net, keep="grads", batch_chunk=7)  # the map still reads the old inode
    assert unchanged(net.X, net.T)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])
    stepped = load(path)  # and the new file holds the whole step, X and T unchanged
    want = oracle.gradients(spec)
    np.testing.assert_allclose(stepped.layers[0].W, np.asarray(spec["layers"][0]["W"])
                               - 0.1 * want["dW1"], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(stepped.X, np.asarray(spec["X"]))
    np.testing.assert_array_equal(stepped.T, np.asarray(spec["T"]))


def test_a_mapped_npz_rewritten_in_place_is_noticed(tmp_path):
    spec = random_spec(seed=12, m=30)
    path = save(tmp_path / "n.npz", spec)
    os.link(path, tmp_path / "link.npz")  # another hard link: step copies into the same inode
    net = load(path, mapped=True)
    result = CliRunner().invoke(cli, ["step", str(path), "--lr", "0.1", "--in-place"])
    assert result.exit_code == 0, result.output
    assert not unchanged(net.X, net.T)
    from nngrad.cli.run import unchanged_while_mapped

    with pytest.raises(SpecError, match="rewritten in place while --batch-chunk read it"):
        unchanged_while_mapped(net, "n.npz")


def test_an_x_that_needs_a_cast_is_read_and_counted_not_mapped(tmp_path):
    spec = random_spec(seed=13, m=400)
    X32 = np.asarray(spec["X"], dtype=np.float32)
    path = save(tmp_path / "n.npz", {**spec, "X": X32})  # a float32 X in a float64 spec
    net = load(path, mapped=True)
    assert not mapped(net.X) and mapped(net.T) and net.X.dtype == np.float64
    np.testing.assert_array_equal(net.X, X32.astype(np.float64))
    with pytest.raises(SpecError, match="more than the limit of 4,000"):
        load(path, mapped=True, limit=4000)  # X's 4,928 bytes count; T's 3,328 do not
    assert mapped(load(path, mapped=True, limit=8000).T)

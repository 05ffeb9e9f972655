"""Shared helpers: small random specs as plain dicts, usable by nngrad and by the oracle."""

import numpy as np
import pytest

from nngrad.specs.read import from_mapping

REPO = __import__("pathlib").Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_nets"


def random_spec(seed=0, widths=(3, 4, 2), hidden="tanh", output="identity", loss="mse",
                layout="rows", bias="vector", m=5, labels=False):
    """A random spec (plain lists) with the given widths; T fits the loss."""
    rng = np.random.default_rng(seed)
    rows = layout == "rows"
    shape = (lambda r, c: (r, c)) if rows else (lambda r, c: (c, r))
    layers = []
    for l, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        layer = {"W": rng.normal(0, 0.8, shape(n_in, n_out)).tolist(),
                 "activation": output if l == len(widths) - 2 else hidden}
        if bias == "vector":
            layer["b"] = rng.normal(0, 0.5, n_out).tolist()
        elif bias == "2d":
            layer["b"] = rng.normal(0, 0.5, shape(1, n_out)).tolist()
        layers.append(layer)
    n_out = widths[-1]
    if loss == "cross_entropy":
        classes = rng.integers(0, n_out, m)
        T = classes.tolist() if labels else (np.eye(n_out)[classes] if rows else np.eye(n_out)[classes].T).tolist()
    elif loss == "svm":  # class labels, or one-hot in the layout
        classes = rng.integers(0, n_out, m)
        T = classes.tolist() if labels else (np.eye(n_out)[classes] if rows else np.eye(n_out)[classes].T).tolist()
    elif loss == "hinge":
        T = np.where(rng.normal(0, 1, shape(m, n_out)) > 0, 1.0, -1.0).tolist()
    elif loss == "bce":
        T = rng.uniform(0, 1, shape(m, n_out)).round(2).tolist()
    else:
        T = rng.normal(0, 1, shape(m, n_out)).tolist()
    return {"layout": layout, "loss": loss, "X": rng.normal(0, 1, shape(m, widths[0])).tolist(),
            "T": T, "layers": layers}


def mutated_bytes(data: bytes, rng, alphabet: bytes, most: int) -> bytes:
    """``data`` with 1 to ``most`` random edits: a byte changed, up to 16 deleted, or three from
    ``alphabet`` inserted (a seeded ``random.Random``, for a fuzz test)."""
    b = bytearray(data)
    for _ in range(rng.randint(1, most)):
        i = rng.randrange(len(b))
        op = rng.random()
        if op < 0.4:
            b[i] = rng.randrange(256)
        elif op < 0.7:
            del b[i:i + rng.randint(1, 16)]
        else:
            b[i:i] = bytes(rng.choice(alphabet) for _ in range(3))
    return bytes(b)


def network(spec, dtype=None):
    """An nngrad Network from a plain spec dict."""
    return from_mapping(spec if dtype is None else {**spec, "dtype": dtype})


@pytest.fixture
def samples():
    return SAMPLES

"""Whatever a loader is fed, it gives a valid Network or an NngradError, never anything else.

A Hypothesis suite feeds random plain data (valid specs with one part replaced by junk, and
junk alone) to the mapping, YAML and NPZ loaders; a seeded fuzz test flips, drops and inserts
bytes of valid YAML and NPZ specs, for a bounded number of iterations.
"""

import io
import random

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLES, mutated_bytes, random_spec
from nngrad.errors import NngradError
from nngrad.specs.read import from_arrays, from_mapping, from_npz, from_yaml
from nngrad.model.network import Network

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
plain = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=20)
KEYS = ["X", "T", "loss", "layout", "dtype", "layers", "W", "b", "activation", "reduction"]


def loads_or_refuses(load, *args) -> None:
    """``load(*args)`` returns a Network or raises NngradError; anything else fails the test."""
    try:
        result = load(*args)
    except NngradError:
        return
    assert isinstance(result, Network), type(result)


def mutated(spec: dict, key: str, value, layer: int) -> dict:
    spec = {**spec, "layers": [dict(l) for l in spec["layers"]]}
    target = spec["layers"][layer % len(spec["layers"])] if key in ("W", "b", "activation") else spec
    target[key] = value
    return spec


@SETTINGS
@given(key=st.sampled_from(KEYS), value=plain, layer=st.integers(0, 3),
       layout=st.sampled_from(["rows", "columns"]))
def test_a_spec_with_one_part_replaced_loads_or_raises_nngrad_error(key, value, layer, layout):
    spec = mutated(random_spec(widths=(2, 3, 2), layout=layout, m=3), key, value, layer)
    loads_or_refuses(from_mapping, spec)
    loads_or_refuses(from_yaml, yaml.safe_dump(spec).encode())


@SETTINGS
@given(value=plain)
def test_junk_alone_loads_or_raises_nngrad_error(value):
    loads_or_refuses(from_mapping, value)
    loads_or_refuses(from_yaml, yaml.safe_dump(value).encode())


arrays = st.one_of(
    st.builds(np.array, st.lists(st.floats(allow_nan=True), max_size=6)),
    st.builds(lambda r, c, x: np.full((r, c), x), st.integers(0, 3), st.integers(0, 3),
              st.floats(allow_nan=True)),
    st.builds(np.array, st.lists(st.text(max_size=8), max_size=3)),
    st.builds(np.array, st.text(max_size=12)),
    st.builds(lambda n: np.zeros(n, dtype=[("a", "f8")]), st.integers(0, 3)),
    st.builds(lambda n: np.ones(n, dtype=complex), st.integers(0, 3)),
)


@SETTINGS
@given(key=st.sampled_from(["X", "T", "W1", "b1", "W2", "activations", "loss", "layout", "dtype",
                            "reduction", "extra"]), value=arrays)
def test_npz_members_of_any_kind_load_or_raise_nngrad_error(key, value):
    members = dict(X=np.ones((3, 2)), T=np.zeros((3, 1)), W1=np.ones((2, 4)), W2=np.ones((4, 1)),
                   activations=np.array(["tanh", "identity"]), loss=np.array("mse"))
    members[key] = value
    loads_or_refuses(from_arrays, dict(members))
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    loads_or_refuses(from_npz, buffer.getvalue())


def _mutations(data: bytes, rng: random.Random, count: int):
    for _ in range(count):
        yield mutated_bytes(data, rng, b"[]{}:-,#&*!\n 0123456789e.x\x00\xff", 8)


def test_fuzzed_yaml_specs_load_or_raise_nngrad_error():
    rng = random.Random(20261123)
    for name in ("01_relu_mse.yaml", "04_mazur.yaml"):
        for data in _mutations((SAMPLES / name).read_bytes(), rng, 300):
            loads_or_refuses(from_yaml, data)


def test_fuzzed_npz_specs_load_or_raise_nngrad_error():
    rng = random.Random(20261124)
    buffer = io.BytesIO()
    np.savez(buffer, X=np.ones((2, 2)), T=np.zeros((2, 1)), W1=np.ones((2, 3)), b1=np.zeros(3),
             W2=np.ones((3, 1)), activations=np.array(["relu", "identity"]), loss=np.array("mse"))
    for data in _mutations(buffer.getvalue(), rng, 400):
        loads_or_refuses(from_npz, data)

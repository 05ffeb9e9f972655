"""Gradients a user computed, as ``nngrad.load_gradients`` reads them from NPZ, YAML or JSON.

A YAML or JSON file maps each name (``dW1``, ``dB2``, ...) to a number, to nested lists of
numbers, or to ``{"shape": [...], "data": ...}`` as ``nngrad run --format json`` writes it (its
``tensors`` mapping is also accepted). The shape, when given, must be the data's. Every problem is
a ``SpecError`` naming the entry (``tensors.dW1.shape``, ``dW1[0][1]``) and its line.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..errors import SpecError, quoted
from .read import number, numbers
from ..model.values import described, kind_of
from .npzread import Unread, npz_arrays


class Entries(Mapping):
    """A file's entries, each checked (``convert(key, value)``) when it is first read, so that
    a key which the caller's check skips, naming no gradient, cannot refuse the file."""

    def __init__(self, raw: dict, convert):
        self._raw, self._convert, self._done = raw, convert, {}

    def __getitem__(self, key):
        if key not in self._done:
            self._done[key] = self._convert(key, self._raw[key])
        return self._done[key]

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def npz_gradients(data, limit: int | None) -> Entries:
    """An NPZ's members, each an array of numbers when it is read."""
    arrays = npz_arrays(data, "is a single .npy array; save gradients with np.savez(dW1=..., ...)",
                        limit, defer=True)
    return Entries(arrays, _numeric)


def _numeric(key: str, a) -> np.ndarray:
    if isinstance(a, Unread):
        raise a.error
    if a.dtype.kind not in "iuf":
        raise SpecError(f"must hold numbers, not {a.dtype}", path=(key,))
    return a


def yaml_gradients(data: bytes, check, memory_limit: int | None = None):
    """The entries of a YAML or JSON gradient file, float64 arrays as they are read (``Entries``),
    given to ``check``; its result."""
    from .yamlread import line_of, parse, to_python

    root = parse(data, "is empty; it should map gradient names (dW1, dB1, ...) to arrays",
                 memory_limit)
    try:
        doc = to_python(root)
        if not isinstance(doc, dict):
            raise SpecError(f"is a {kind_of(doc)}; it should map gradient names to arrays")
        prefix = ("tensors",) if isinstance(doc.get("tensors"), dict) else ()
        entries = doc["tensors"] if prefix else doc
        return check(Entries({str(key): (key, value) for key, value in entries.items()},
                             lambda _, entry: _entry(entry[1], (*prefix, entry[0]))))
    except SpecError as e:
        raise e.located(line=line_of(root, e.path)) from None


def _entry(value, path: tuple) -> np.ndarray:
    if not (isinstance(value, dict) and "data" in value):
        return _array(value, path)
    a = _array(value["data"], (*path, "data"))
    if "shape" in value:
        shape = value["shape"]
        if not isinstance(shape, list):
            raise SpecError(f"is {described(shape)}; a shape is a list of whole numbers, as "
                            "[rows, columns]", path=(*path, "shape"))
        for i, n in enumerate(shape):
            if type(n) is not int or n < 0:
                raise SpecError(f"is {described(n)}; a shape holds whole numbers from 0",
                                path=(*path, "shape", i))
        if tuple(shape) != a.shape:
            raise SpecError(f"is {quoted(tuple(shape))}, but the data is {a.shape}",
                            path=(*path, "shape"))
    return a


def _array(value, path: tuple) -> np.ndarray:
    return number(value, path) if type(value) in (int, float) else numbers(value, path)

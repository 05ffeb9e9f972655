"""A spec file as read, for the commands that write specs back (convert, step).

``read_spec`` keeps, beside the validated ``Network``, the spec as given (biases omitted stay
omitted, activations and the loss as written) and the file's bytes. ``patched_yaml`` changes only
the numbers of some arrays in a YAML spec, in place in its text, so that comments, order and
layout survive a ``nngrad step``.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import numpy as np

from .loader import from_arrays, from_yaml, load_file, spec_arrays
from .network import Network
from .specwrite import number


@dataclass(frozen=True)
class SpecFile:
    """A loaded spec: the validated network, the spec as given, ``yaml`` or ``npz``, for a YAML
    its bytes (to patch), and for an NPZ its members as read."""

    network: Network
    spec: dict
    kind: str
    data: bytes | None
    arrays: dict | None = None


def read_spec(source, *, name: str | None = None, limit: int | None = None,
              read_limit: int | None = None) -> SpecFile:
    """Read a YAML or NPZ spec (``-``: standard input); SpecError as ``nngrad.load`` raises it,
    with the same limits."""

    def build(**parts):
        return Network(**parts), parts

    def npz(file):
        arrays = spec_arrays(file, limit)
        return SpecFile(*from_arrays(arrays, build), "npz", None, arrays)

    def yaml(data):
        return SpecFile(*from_yaml(data, build), "yaml", data)

    return load_file(source, name, npz, yaml, limit=limit, read_limit=read_limit)


def patched_yaml(data: bytes, updates: dict) -> str | None:
    """The YAML ``data`` with the numbers of each array in ``updates`` (a path such as
    ``("layers", 0, "W")`` to an array of the same shape) rewritten in place; everything else is
    kept byte for byte. None when a path is missing or its shape differs."""
    from .yamlread import compose

    bom = data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    root = compose(text, lift_rows=False)
    edits = []
    for path, array in updates.items():
        scalars = _scalars(_node_at(root, path), np.ndim(array))
        if scalars is None or len(scalars) != np.size(array):
            return None
        edits += [(n.start_mark.index, n.end_mark.index, number(x))
                  for n, x in zip(scalars, np.ravel(array).tolist())]
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return ("\ufeff" if bom else "") + text


def _node_at(root, path: tuple):
    import yaml

    node = root
    for key in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return None
    return node


def _scalars(node, ndim: int):
    """The scalar nodes of a 1-D or 2-D list node, in row-major order."""
    import yaml

    if not isinstance(node, yaml.SequenceNode):
        return None
    if ndim == 1:
        return node.value if all(isinstance(n, yaml.ScalarNode) for n in node.value) else None
    out = []
    for row in node.value:
        if not isinstance(row, yaml.SequenceNode):
            return None
        out += row.value
    return out

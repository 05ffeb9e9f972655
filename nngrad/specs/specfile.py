"""A spec file as read, for the commands that write specs back (convert, step).

``read_spec`` keeps, beside the validated ``Network``, the spec as given (biases omitted stay
omitted, activations and the loss as written) and the file's bytes. ``patched_yaml`` changes only
the numbers of some arrays in a YAML spec, in place in its text, so that comments, order and
layout survive a ``nngrad step``; it costs about one load of the spec, whatever its size.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import numpy as np

from .read import SPEC_EMPTY, from_arrays, from_tree, load_file, spec_arrays
from ..model.network import Network
from .write import number
from .yamlrows import PLAIN_FLOAT, numbers_of

_NUMBER = re.compile(f"({PLAIN_FLOAT})")  # split at, the numbers are the odd items


@dataclass(frozen=True)
class SpecFile:
    """A loaded spec: the validated network, the spec as given, ``yaml`` or ``npz``, for a YAML
    its bytes and the (tree, lifted rows) they were read as (to patch), and for an NPZ its
    members as read."""

    network: Network
    spec: dict
    kind: str
    data: bytes | None
    arrays: dict | None = None
    tree: tuple | None = None


def read_spec(source, *, name: str | None = None, limit: int | None = None,
              read_limit: int | None = None, memory_limit: int | None = None) -> SpecFile:
    """Read a YAML or NPZ spec (``-``: standard input); SpecError as ``nngrad.load`` raises it,
    with the same limits."""

    def build(**parts):
        return Network(**parts), parts

    def npz(file):
        arrays = spec_arrays(file, limit)
        return SpecFile(*from_arrays(arrays, build), "npz", None, arrays)

    def yaml(data):
        from .yamlread import parse_rows

        tree = parse_rows(data, SPEC_EMPTY, memory_limit)
        return SpecFile(*from_tree(tree[0], build), "yaml", data, tree=tree)

    return load_file(source, name, npz, yaml, limit=limit, read_limit=read_limit)


def patched_yaml(data: bytes, updates: dict, memory_limit: int | None = None,
                 tree: tuple | None = None) -> str | None:
    """The YAML ``data`` with the numbers of each array in ``updates`` (a path such as
    ``("layers", 0, "W")`` to an array of the same shape) rewritten in place; everything else is
    kept byte for byte. None when a path is missing or its shape differs.

    The text is composed as a load composes it. A row or matrix lifted whole is rewritten from
    its place in the original text, its separators and comments kept (``_rewritten``); any other
    number is found by its node's marks, mapped from the lifted text back to the original. The
    new text is one join over the pieces. ``tree``: the (tree, rows) ``data`` was read as
    (``SpecFile.tree``), else it is composed again with the ``memory_limit`` it was read with.
    """
    from .yamlread import compose_rows

    bom = data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    root, rows = tree or compose_rows(text, memory_limit)
    to_original = original_index(rows)
    edits = []
    for path, array in updates.items():
        flat = np.ravel(array)
        texts = [number(x) for x in flat.tolist()]
        found = _edits(_node_at(root, path), np.ndim(array), texts, to_original)
        if found is None:
            return None
        edits += found
    edits.sort(key=lambda edit: edit[0])
    pieces, done = ["\ufeff" if bom else ""], 0
    for start, end, new in edits:
        pieces += [text[done:start], new]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


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


def _edits(node, ndim: int, texts: list, to_original):
    """(start, end, new text) in the original text that write ``texts`` over the numbers of a
    1-D or 2-D list node, in row-major order; None if it is not one, or holds another count."""
    import yaml

    numbers = numbers_of(node)
    if numbers is not None:  # lifted whole: a row, or a matrix
        return _rewritten(node, texts) if isinstance(numbers[0], list) == (ndim == 2) else None
    if not isinstance(node, yaml.SequenceNode):
        return None
    rows = [node] if ndim == 1 else node.value
    edits, at = [], 0
    for row in rows:
        numbers = numbers_of(row)
        if numbers is not None and ndim == 2 and not isinstance(numbers[0], list):
            new = _rewritten(row, texts[at:at + len(numbers)])
            at += len(numbers)
        elif isinstance(row, yaml.SequenceNode) and \
                all(isinstance(n, yaml.ScalarNode) and numbers_of(n) is None for n in row.value):
            new = [(to_original(n.start_mark.index), to_original(n.end_mark.index), t)
                   for n, t in zip(row.value, texts[at:at + len(row.value)])]
            at += len(row.value)
        else:
            return None
        if new is None:
            return None
        edits += new
    return edits if at == len(texts) else None


def _rewritten(node, texts: list):
    """The edits that write ``texts`` over the numbers of a lifted row or matrix: each row's
    text split at its numbers, the new ones put in their places, and joined again."""
    edits, at = [], 0
    for lifted, _ in node.parts:
        text, start, end = lifted.text, lifted.start, lifted.end
        if lifted.kind == "block" and text.find("#", start, end) >= 0:  # a comment may hold one
            spans = [(open_, close + 1) for open_, close in lifted.brackets()]
        else:
            spans = [(start, end)]
        for start, end in spans:
            parts = _NUMBER.split(text[start:end])
            count = len(parts) // 2
            if at + count > len(texts):
                return None
            parts[1::2] = texts[at:at + count]
            at += count
            edits.append((start, end, "".join(parts)))
    return edits if at == len(texts) else None


def original_index(rows: dict):
    """A function from an offset in the lifted text to the same place in the original, for any
    place outside the placeholders (of ``rows``, ``Lifted`` by name)."""
    import bisect

    ends, shifts, shift = [], [], 0
    for f in sorted(rows.values(), key=lambda f: f.start):
        ends.append(f.start - shift + f.size)  # where the placeholder ends, in the lifted text
        shift += (f.end - f.start) - f.size
        shifts.append(shift)

    def to_original(at: int) -> int:
        i = bisect.bisect_right(ends, at)
        return at + (shifts[i - 1] if i else 0)
    return to_original

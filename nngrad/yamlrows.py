"""Rows of plain numbers, read at C speed before libyaml sees the text.

A big matrix in YAML is many flow lists of numbers, ``[0.1, -2.5e-3, ...]``; composed by libyaml
and PyYAML, each number costs a node, two marks and a resolver call, about 4 µs. ``lift`` takes
each innermost flow list whose items are all plain floats, reads it with ``float`` and puts a
placeholder scalar where its ``[`` stood, keeping every line break, so that lines stay where
they were. ``restore`` then swaps each placeholder node of the composed tree for a ``RowNode``
holding the numbers, and refuses the whole tree (the text is then composed as it was) unless
every placeholder came back as a whole value. Lists with anything else in them (an int,
``.nan``, a tag, an anchor) and any text with a quote mark outside its comments (where a bracket
may be inside a string) are left to libyaml as before.
"""

from __future__ import annotations

import re

PLAIN_FLOAT = r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
_SPACE = r"[ \t\r\n]*"  # YAML's white space and line breaks; not Python's wider \s
_ROW = re.compile(rf"{_SPACE}(?:{PLAIN_FLOAT}){_SPACE}(?:,{_SPACE}(?:{PLAIN_FLOAT}){_SPACE})*,?{_SPACE}")
_MARK = "nngrad-row-"
_LEADS = ("[", ",", ":", "-")
_QUOTE = re.compile("[\"']")
_COMMENT = re.compile(r"(?:^|[ \t])#")


def lift(text: str) -> tuple[str, dict]:
    """``text`` with its rows of plain floats replaced by placeholders, and the rows by name."""
    if not text.isascii() or _quoted(text) or _MARK in text:
        return text, {}
    import numpy as np

    raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    at = np.flatnonzero((raw == ord("[")) | (raw == ord("]")) | (raw == ord("{")) | (raw == ord("}")))
    kinds = raw[at]
    inner = np.flatnonzero((kinds[:-1] == ord("[")) & (kinds[1:] == ord("]")))
    pieces, rows, done = [], {}, 0
    for start, end in zip(at[inner].tolist(), at[inner + 1].tolist()):
        content = text[start + 1:end]
        if not (_after_indicator(text, start) and _ROW.fullmatch(content)):
            continue
        name = f"{_MARK}{len(rows)}"
        items = content.split(",")
        rows[name] = list(map(float, items[:-1] if not items[-1].strip() else items))
        breaks = content.count("\n") + content.count("\r") - content.count("\r\n")
        pieces += [text[done:start], name, "\n" * breaks]
        done = end + 1
    return "".join(pieces) + text[done:], rows


def _quoted(text: str) -> bool:
    """True when a quote mark stands anywhere but in a comment (``# Mazur's net`` is fine)."""
    if '"' not in text and "'" not in text:
        return False
    for quote in _QUOTE.finditer(text):
        line = text[text.rfind("\n", 0, quote.start()) + 1:quote.start()]
        if not _COMMENT.search(line):
            return True
    return False


def _after_indicator(text: str, start: int) -> bool:
    """True when the ``[`` at ``start`` opens a flow list: it follows ``[``, ``,``, ``: ``, a
    sequence's ``- ``, or only spaces on its line, and no ``#`` comes before it on the line."""
    line = text[text.rfind("\n", 0, start) + 1:start]
    if "#" in line:
        return False
    lead = line.rstrip()
    if not lead or lead[-1] == "[" or lead[-1] == ",":
        return True
    if lead[-1] not in _LEADS or len(lead) == len(line):
        return False  # ":[" or "-[" belong to a plain scalar
    return lead[-1] == ":" or len(lead) == 1 or lead[-2] in " \t"


class _Row:
    """Marks a node kind; ``RowNode`` is made on first use, so that yaml is imported lazily."""


def restore(root, rows: dict):
    """The tree ``root`` with each placeholder scalar replaced by a ``RowNode`` of its numbers;
    None unless every row comes back as one whole plain scalar where a value stands (not inside
    a longer plain scalar, a block scalar, a comment or a key), which is how a list would."""
    if root is None:
        return None
    import yaml

    class RowNode(yaml.ScalarNode, _Row):
        def __init__(self, node, numbers):
            super().__init__(node.tag, node.value, node.start_mark, node.end_mark, node.style)
            self.numbers = numbers

    found = 0

    def swap(node):
        nonlocal found
        if isinstance(node, yaml.ScalarNode) and not node.style and node.value in rows:
            found += 1
            return RowNode(node, rows[node.value])
        return node

    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias; to_python refuses it
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            node.value = [swap(item) for item in node.value]
            stack += node.value
        elif isinstance(node, yaml.MappingNode):
            if any(isinstance(key, yaml.ScalarNode) and key.value in rows for key, _ in node.value):
                return None
            node.value = [(key, swap(value)) for key, value in node.value]
            stack += [value for _, value in node.value]
    root = swap(root)
    return root if found == len(rows) else None


def numbers_of(node):
    """The numbers of a ``RowNode``, or None for any other node."""
    return node.numbers if isinstance(node, _Row) else None

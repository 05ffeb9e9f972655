"""Rows of plain numbers, read at C speed before libyaml sees the text.

Composed by libyaml and PyYAML, each number of a matrix costs a node, two marks and a resolver
call, about 4 µs. ``lift`` reads three forms with ``float`` and puts a placeholder scalar where
each stood, keeping every line break, so that lines stay where they were: a block sequence of
one-line rows ``<indent>- [floats]`` (comments allowed), as ``nngrad init`` writes a matrix, whose
placeholder is its only item; a flow matrix ``[[floats], ...]``; any other innermost flow list of
floats after ``[``, ``,``, ``: ``, ``- `` or a line start. ``restore`` swaps each placeholder of
the composed tree for a ``RowNode`` of the numbers, and refuses the tree unless every placeholder
came back as a whole value (a block's as the only items of an untagged sequence, seen once); the
caller then lifts single rows only, and at last composes the text as it was. Lists with anything
else in them (an int, ``.nan``, a tag, an anchor) and any text with a quote mark outside its
comments (where a bracket may be inside a string) are left to libyaml. Every scan is linear.
"""

from __future__ import annotations

import re

PLAIN_FLOAT = r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
_SPACE = r"[ \t\r\n]*"  # YAML's white space and line breaks; not Python's wider \s
# possessive repeats (*+): nothing given back could match, and no state is kept per item
_ITEMS = rf"{{s}}(?:{PLAIN_FLOAT}){{s}}(?:,{{s}}(?:{PLAIN_FLOAT}){{s}})*+(?:,{{s}})?"
_ROW = re.compile(_ITEMS.format(s=_SPACE))
_MATRIX = (rf"{_SPACE}\[{_ROW.pattern}\]{_SPACE}(?:,{_SPACE}\[{_ROW.pattern}\]{_SPACE})*+"
           rf"(?:,{_SPACE})?")  # compiled on first use (re caches it): a millisecond of start-up
# a row of a block, on its line: "- [floats]  # a comment", which may hold only what YAML allows
_LINE = rf"- +\[{_ITEMS.format(s='[ ]*')}\](?:[ ]+#[\t\x20-\x7e]*|[ ]*)\r?(?=\n|\Z)" \
    .replace("[ ]", "[ \t]")
# what may follow a list whose line breaks move after its placeholder: nothing else on that line
_FOLLOW = re.compile(r"[ \t]*(?:[\r\n,\]}]|\Z)|[ \t]+#")
_BLOCK = re.compile(rf"\n( *){_LINE}(?:\n\1{_LINE})*+")  # searched in "\n" + text
_FIRST_ROW, _NEXT_ROW = re.compile(r" *- +\[([^\]\n]*)\]"), re.compile(r"\n *- +\[([^\]\n]*)\]")
_FLOW_ROW = re.compile(r"\[[^\[\]]*\]")
_MARK = "nngrad-row-"
_QUOTE = re.compile("[\"']")
_COMMENT = re.compile(r"(?m)(?:^|[ \t])#")
_WHITE = b" \t\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what str.rstrip strips from a line, ASCII


class Lifted:
    """Numbers read from ``text[start:end]``: a flow ``row``, a ``flow`` matrix or a ``block``
    of rows; ``size`` is the length of the placeholder that stands there in the lifted text."""

    __slots__ = ("text", "start", "end", "kind", "numbers", "size")

    def __init__(self, text, start, end, kind, numbers):
        self.text, self.start, self.end, self.kind, self.numbers = text, start, end, kind, numbers
        self.size = 0

    def brackets(self) -> list:
        """(``[``, ``]``) offsets of each row, in order."""
        text, start, end = self.text, self.start, self.end
        if self.kind == "row":
            return [(start, end - 1)]
        if self.kind == "flow":
            return [(m.start(), m.end() - 1) for m in _FLOW_ROW.finditer(text, start + 1, end - 1)]
        first = _FIRST_ROW.match(text, start)
        return [(first.start(1) - 1, first.end() - 1)] + \
            [(m.start(1) - 1, m.end() - 1) for m in _NEXT_ROW.finditer(text, first.end(), end)]

    def row_line(self, k: int, line: int) -> int:
        """The line of row ``k``, the placeholder being on ``line``."""
        if self.kind == "block":
            return line + k
        return line + _breaks(self.text, self.start, self.brackets()[k][0])


def _breaks(text: str, start: int, end: int) -> int:
    """The YAML line breaks in ``text[start:end]`` (LF, CRLF and a lone CR)."""
    return text.count("\n", start, end) + text.count("\r", start, end) - \
        text.count("\r\n", start, end)


def _floats(content: str) -> list:
    items = content.split(",")
    if not items[-1].strip(" \t\r\n"):
        items.pop()
    return list(map(float, items))


def _rows(contents: list) -> list:
    try:  # rows of one number each, the narrowest and most numerous
        return [[float(content)] for content in contents]
    except ValueError:
        return [_floats(content) for content in contents]


def lift(text: str, whole: bool = True) -> tuple[str, dict]:
    """``text`` with its rows of plain floats replaced by placeholders, and a ``Lifted`` by name;
    with ``whole``, block sequences of rows and flow matrices are lifted whole."""
    if not text.isascii() or _quoted(text) or _MARK in text:
        return text, {}
    import gc

    collecting = gc.isenabled()
    gc.disable()  # a million rows are a million lists, and none is in a cycle
    try:
        return _lift(text, whole)
    finally:
        if collecting:
            gc.enable()


def _lift(text: str, whole: bool) -> tuple[str, dict]:
    import numpy as np

    raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    found = _blocks(text) if whole else []
    at = np.flatnonzero((raw == ord("[")) | (raw == ord("]")) | (raw == ord("{")) | (raw == ord("}")))
    if found:  # brackets inside a lifted block are not looked at again
        starts, ends = np.array([f.start for f in found]), np.array([f.end for f in found])
        block = np.searchsorted(starts, at, "right") - 1
        at = at[(block < 0) | (at >= ends[np.maximum(block, 0)])]
    found += _flows(text, raw, at, whole)
    found.sort(key=lambda f: f.start)
    pieces, rows, done = [], {}, 0
    for lifted in found:
        name = f"{_MARK}{len(rows)}"
        if lifted.kind == "block":
            dash = text.index("-", lifted.start)  # after the indent's spaces
            new = f"{text[lifted.start:dash]}- {name}" + "\n" * text.count("\n", dash, lifted.end)
        else:
            breaks = _breaks(text, lifted.start, lifted.end)
            if breaks and not _FOLLOW.match(text, lifted.end):
                continue  # "]x" would leave its line; libyaml reads such a list as it is
            new = name + "\n" * breaks
        lifted.size = len(new)
        rows[name] = lifted
        pieces += [text[done:lifted.start], new]
        done = lifted.end
    return "".join(pieces) + text[done:], rows


def _blocks(text: str) -> list:
    """The block sequences of one-line rows, as ``Lifted`` from each first line's start."""
    out = []
    for m in _BLOCK.finditer("\n" + text):
        start, end = m.start(), m.end() - 1  # in text
        first = _FIRST_ROW.match(text, start)
        rows = _rows([first.group(1)] + _NEXT_ROW.findall(text, first.end(), end))
        out.append(Lifted(text, start, end, "block", rows))
    return out


def _flows(text: str, raw, at, whole: bool) -> list:
    """The flow matrices (with ``whole``) and other innermost rows of floats among the
    brackets at offsets ``at``, as ``Lifted``."""
    import numpy as np

    kinds = raw[at]
    inner = np.flatnonzero((kinds[:-1] == ord("[")) & (kinds[1:] == ord("]")))
    if not inner.size:
        return []
    heads = np.flatnonzero((kinds[:-2] == ord("[")) & (kinds[1:-1] == ord("[")) &
                           (kinds[2:] == ord("]"))) if whole else []
    opens, closes = (kinds == ord("[")).tolist(), (kinds == ord("]")).tolist()
    leads = _after_indicator(raw, at).tolist()
    at, out, taken = at.tolist(), [], bytearray(len(at))
    for k in heads:
        j = k + 1
        while j + 1 < len(at) and opens[j] and closes[j + 1]:
            j += 2
        if j < len(at) and closes[j] and leads[k] and re.compile(_MATRIX).fullmatch(text, at[k] + 1, at[j]):
            rows = _rows([text[at[i] + 1:at[i + 1]] for i in range(k + 1, j, 2)])
            out.append(Lifted(text, at[k], at[j] + 1, "flow", rows))
            taken[k + 1:j] = b"\x01" * (j - k - 1)
    for k in inner.tolist():
        start, end = at[k], at[k + 1]
        if not taken[k] and leads[k] and _ROW.fullmatch(text, start + 1, end):
            out.append(Lifted(text, start, end + 1, "row", _floats(text[start + 1:end])))
    return out


def _quoted(text: str) -> bool:
    """True when a quote mark stands anywhere but in a comment (``# Mazur's net`` is fine):
    the first quote of each line is looked at, and the rest of its line skipped."""
    if '"' not in text and "'" not in text:
        return False
    at = 0
    while (quote := _QUOTE.search(text, at)) is not None:
        start = text.rfind("\n", at, quote.start()) + 1 or at
        if not _COMMENT.search(text, start, quote.start()):
            return True
        at = text.find("\n", quote.start()) + 1
        if not at:
            return False
    return False


def _after_indicator(raw, starts):
    """For each ``[`` at ``starts`` (sorted offsets), whether it opens a flow list: it follows
    ``[``, ``,``, ``: ``, a sequence's ``- ``, or only spaces on its line, and no ``#`` comes
    before it on the line. Looked up in sorted offsets, so the cost does not grow with a line."""
    import numpy as np

    lines = np.flatnonzero(raw == ord("\n"))
    line_start = np.concatenate([[0], lines + 1])[np.searchsorted(lines, starts)]
    hashes = np.flatnonzero(raw == ord("#"))
    hashed = np.searchsorted(hashes, starts) > np.searchsorted(hashes, line_start)
    white = np.zeros(256, bool)
    white[list(_WHITE)] = True
    solid = np.flatnonzero(~white[raw])  # a line break is solid
    before = np.searchsorted(solid, starts) - 1
    j = np.where(before >= 0, solid[np.maximum(before, 0)], -1)  # the last solid byte before
    last, ahead = raw[np.maximum(j, 0)], raw[np.maximum(j - 1, 0)]
    spaced = (last == ord(":")) | (j == line_start) | (ahead == ord(" ")) | (ahead == ord("\t"))
    return ~hashed & ((j < line_start) | (last == ord("[")) | (last == ord(",")) |
                      (((last == ord(":")) | (last == ord("-"))) & (j < starts - 1) & spaced))


class _Row:
    """Marks a node kind; ``RowNode`` is made on first use, so that yaml is imported lazily."""


def restore(root, rows: dict):
    """The tree ``root`` with each placeholder replaced by a ``RowNode`` of its numbers; None
    unless every row comes back as one whole plain scalar where a value stands (not inside a
    longer plain scalar, a block scalar, a comment or a key; no tag or anchor), which is how a
    list would, and each block of rows as the only items of an untagged sequence, seen once."""
    if root is None:
        return None
    import yaml

    class RowNode(yaml.ScalarNode, _Row):
        def __init__(self, node, parts):
            super().__init__("tag:yaml.org,2002:str", "", node.start_mark, node.end_mark)
            self.parts = parts  # (Lifted, the line of its placeholder)
            self.numbers = parts[0][0].numbers if len(parts) == 1 else \
                [row for lifted, _ in parts for row in lifted.numbers]

    found, done = 0, set()

    def name(node):  # a placeholder, plain, with no tag or anchor before it (in its marks)
        if isinstance(node, yaml.ScalarNode) and not node.style and node.value in rows and \
                node.end_mark.index - node.start_mark.index == len(node.value):
            return node.value
        return None

    def swap(node):
        nonlocal found
        if isinstance(node, yaml.SequenceNode) and node.value and \
                all(rows.get(name(item)) is not None and rows[item.value].kind == "block"
                    for item in node.value):
            if id(node) in done or node.tag != "tag:yaml.org,2002:seq":
                raise LookupError
            done.add(id(node))
            found += len(node.value)
            return RowNode(node, [(rows[i.value], i.start_mark.line + 1) for i in node.value])
        if name(node) is None:
            return node
        if rows[node.value].kind == "block":
            raise LookupError
        found += 1
        return RowNode(node, [(rows[node.value], node.start_mark.line + 1)])

    try:
        root = swap(root)
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
                if any(name(key) is not None for key, _ in node.value):
                    return None
                node.value = [(key, swap(value)) for key, value in node.value]
                stack += [value for _, value in node.value]
    except LookupError:
        return None
    return root if found == len(rows) else None


def numbers_of(node):
    """The numbers of a ``RowNode`` (a list, or a list of rows), or None for any other node."""
    return node.numbers if isinstance(node, _Row) else None


def row_line(node, k) -> int | None:
    """The line of row ``k`` of a lifted matrix, or None if ``node`` is none."""
    if not isinstance(node, _Row) or not isinstance(k, int) or k < 0:
        return None
    for lifted, line in node.parts:
        if lifted.kind == "row":
            return None
        if k < len(lifted.numbers):
            return lifted.row_line(k, line)
        k -= len(lifted.numbers)
    return None

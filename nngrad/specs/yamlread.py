"""Read YAML as plain data only: mappings, lists, strings, numbers, booleans and null.

The text is composed into a node tree (libyaml's C parser when PyYAML has it; nodes only, so
no object is ever constructed from a tag), then converted here: any tag outside plain data is
refused, as are aliases, complex keys and duplicate keys. The node tree is kept so that an
error found later can be given the line of the value it concerns (``line_of``).

Scalars follow the YAML 1.2 core schema (``yaml12``), never PyYAML's YAML 1.1 rules; a quoted
number, or one tagged ``!!str``, stays a string.
"""

from __future__ import annotations

import functools
import re

from ..errors import SpecError, size_text
from .sources import DEFAULT_MEMORY_LIMIT
from .yamlguard import MAX_DEPTH, depth_guard
from .yaml12 import PLAIN_FLOAT_TAG, PREFIX, STR, Invalid, scalar_value, short_tag
from .yaml12 import resolve as resolve_plain
from .yamlrows import lift, numbers_of, restore, row_line


# bytes a value costs while it is read (measured with tracemalloc: 125 and 366), rounded up
LIFTED_BYTES, NODE_BYTES = 128, 512
# NumPy's print of an array, pasted: numbers apart by spaces only ([[0.1 0.2] [0.3 0.4]])
NUMPY_HINT = ("; NumPy's print leaves out the commas: write [[0.1, 0.2], [0.3, 0.4]], with a "
              "comma between numbers and between rows (print(W.tolist()) writes them so)")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SPACED_ROW = re.compile(rf"{_NUMBER}(?:[ \t]+{_NUMBER})+")
# the text before a YAML error, token by token (each character is read once)
_TOKENS = re.compile(rf"({_NUMBER})|([ \t\r\n]+|#[^\n]*)|([A-Za-z_]+|.)", re.S)
HINT_WINDOW = 2000  # characters before the error that are looked at


def parse(data: bytes, empty: str | None, memory_limit: int | None = None, rows: bool = True):
    """The node tree of YAML bytes (UTF-8, a BOM allowed); for an empty document, SpecError
    with the message ``empty``, or None when ``empty`` is None. ``memory_limit``: see
    ``compose_rows``; without ``rows``, libyaml reads it all (a small text: a settings file,
    read without numpy)."""
    return parse_rows(data, empty, memory_limit, rows)[0]


def parse_rows(data: bytes, empty: str | None, memory_limit: int | None = None,
               rows: bool = True):
    """``parse``'s tree, and the rows lifted in it (as ``compose_rows`` gives them)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecError(f"is not UTF-8 text (byte {e.start} is {data[e.start]:#04x})") from None
    root, lifted = compose_rows(text, memory_limit, rows)
    if root is None and empty is not None:
        raise SpecError(empty)
    return root, lifted


def compose(text: str, memory_limit: int | None = None):
    """The YAML node tree of ``text`` (None for an empty document); SpecError on bad YAML."""
    return compose_rows(text, memory_limit)[0]


def compose_rows(text: str, memory_limit: int | None = None, lift_rows: bool = True):
    """The node tree of ``text``, and the ``Lifted`` rows in it by name (to patch them in place).

    The memory a reading needs is estimated first, from the count of its values (its commas,
    dashes and colons): LIFTED_BYTES a value at best, NODE_BYTES for each value that libyaml composes. A
    text that would need more than ``memory_limit`` (``limits.memory_bytes``) is refused.

    The nesting is measured before libyaml parses anything (it has crashed on 30,000 nested
    brackets): ``depth_guard``. Rows of plain floats are read before it too (``yamlrows``):
    whole blocks and matrices first, then single rows only; where a reading does not give back
    every row where it stood, or the lifted text is refused, the text is composed again as it
    is, and that tree or error stands (with no rows).
    """
    depth_guard(text)
    limit = DEFAULT_MEMORY_LIMIT if memory_limit is None else memory_limit
    _fits(text, LIFTED_BYTES, limit)
    for whole in (True, False) if lift_rows else ():
        lifted, rows = lift(text, whole)
        if not rows:
            break
        try:
            root = restore(_compose(lifted, limit), rows)
        except SpecError:
            root = None
        if root is not None:
            return root, rows
        if all(row.kind == "row" for row in rows.values()):
            break  # lifting rows only would give the same text
    return _compose(text, limit), {}


def _fits(text: str, per_value: int, limit: int) -> None:
    values = text.count(",") + text.count("- ") + text.count(":") + 1  # every value, roughly
    if values * per_value > limit:
        raise SpecError(f"holds about {values:,} values, whose reading as YAML would need about "
                        f"{size_text(values * per_value)} of memory, more than limits.memory_bytes "
                        f"({size_text(limit)}); write it as NPZ (nngrad convert), or raise the "
                        "limit with --config")


def _compose(text: str, limit: int):
    import yaml

    _fits(text, NODE_BYTES, limit)
    try:
        return yaml.compose(text, Loader=_loader())
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = e.problem or e.context or "invalid YAML"
        if "expected a single document" in str(e.context):
            what = "holds several YAML documents; a spec is one document"
        line = mark.line + 1 if mark else None
        col = f" (column {mark.column + 1})" if mark else ""
        hint = NUMPY_HINT if "expected ','" in what and _spaced(text, e) else ""
        raise SpecError(f"invalid YAML: {what}{col}{hint}", line=line) from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else None
        code = ord(e.character) if isinstance(e.character, str) else e.character
        raise SpecError(f"invalid YAML: the character U+{code:04X} is not allowed in YAML text",
                        line=line) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}".splitlines()[0]) from None
    except RecursionError:  # PyYAML's pure-Python parser, nested past Python's stack
        raise SpecError(f"nests more than {MAX_DEPTH} levels deep") from None


def _spaced(text: str, e) -> bool:
    """Whether the text just before the YAML error ``e``, in its flow sequence, holds two
    numbers apart by spaces only, or a row's ``]`` and the next ``[`` without a comma, as
    NumPy prints them."""
    end = e.problem_mark.index + 1 if e.problem_mark else len(text)
    start = max(e.context_mark.index if e.context_mark else 0, end - HINT_WINDOW)
    last = spaced = None
    for number, space, other in _TOKENS.findall(text, start, end):
        if space:
            spaced = True
            continue
        now = "number" if number else other
        if spaced and last == now == "number" or last == "]" and now == "[":
            return True
        last, spaced = now, False
    return False


@functools.cache
def _loader():
    """libyaml's safe loader (PyYAML's own if it lacks libyaml), whose plain scalars are resolved
    by the YAML 1.2 core schema (``yaml12.resolve``), decimal floats and ints first, since a big matrix
    calls the resolver once per number. Made once per process."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    general, scalar = base.resolve, yaml.ScalarNode

    class Loader(base):
        def resolve(self, kind, value, implicit):
            if kind is scalar:
                return resolve_plain(value) if implicit[0] else STR
            return general(self, kind, value, implicit)
    return Loader


def to_python(node, path: tuple = ()):
    """Plain Python data from a node tree; SpecError names the path and line of anything else."""
    return _convert(node, path, set())


def _convert(node, path, seen):
    import yaml

    if len(path) > MAX_DEPTH:
        raise _error(node, path[:2], f"is nested more than {MAX_DEPTH} levels deep")
    numbers = numbers_of(node)
    if numbers is not None:
        return numbers
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, path)
    if id(node) in seen:
        raise _error(node, path, "reuses an anchor (*alias); aliases are not supported in a spec")
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        _plain_tag(node, path, "seq")
        out = []
        for i, item in enumerate(node.value):
            if item.tag == PLAIN_FLOAT_TAG:  # the common case, a matrix's number, without a call
                out.append(float(item.value))
            elif isinstance(item, yaml.ScalarNode) and not item.style \
                    and _SPACED_ROW.fullmatch(item.value):
                raise _error(item, (*path, i), f"is {item.value!r}, numbers apart by spaces"
                                               + NUMPY_HINT)
            else:
                out.append(_convert(item, (*path, i), seen))
        return out
    _plain_tag(node, path, "map")
    out = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _error(key_node, path, "has a key that is not a plain name")
        key = _scalar(key_node, path)
        if key in out:
            raise _error(key_node, (*path, key), "is given twice; every key may appear once")
        out[key] = _convert(value_node, (*path, key), seen)
    return out


def _scalar(node, path):
    try:
        return scalar_value(node.tag, node.value)
    except Invalid as e:
        raise _error(node, path, str(e)) from None


def _plain_tag(node, path, kind):
    if node.tag != PREFIX + kind:
        raise _error(node, path, f"has the tag {short_tag(node.tag)}; a spec holds only numbers, "
                                 "strings, lists and mappings")


def _error(node, path, message) -> SpecError:
    return SpecError(message, path=path, line=node.start_mark.line + 1)


def line_of(root, path: tuple) -> int | None:
    """The line (from 1) of the deepest node along ``path`` in the tree ``root``; within a
    lifted matrix, of the row."""
    import yaml

    node, line = root, None
    for key in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        row = row_line(node, key)
        if row is not None:
            return row
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value
                         if isinstance(k, yaml.ScalarNode) and k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) \
                and 0 <= key < len(node.value):
            node = node.value[key]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line

"""Read YAML as plain data only: mappings, lists, strings, numbers, booleans and null.

The text is composed into a node tree (libyaml's C parser when PyYAML has it; nodes only, so
no object is ever constructed from a tag), then converted here: any tag outside plain data is
refused, as are aliases, complex keys and duplicate keys. The node tree is kept so that an
error found later can be given the line of the value it concerns (``line_of``).

Numbers: YAML 1.1 as PyYAML reads them, plus plain decimal floats in the YAML 1.2 / JSON form
(``1e-3``, ``-.5``), which PyYAML alone would read as strings. A quoted number, or one tagged
``!!str``, stays a string.
"""

from __future__ import annotations

import functools
import re

from .errors import SpecError
from .yamlrows import PLAIN_FLOAT, lift, numbers_of, restore

_PREFIX = "tag:yaml.org,2002:"
_FLOAT = _PREFIX + "float"
MAX_DEPTH = 64
MAX_INDENT = 4 * MAX_DEPTH
_OPEN, _CLOSE = (ord("["), ord("{")), (ord("]"), ord("}"))
_INDENT = re.compile(r"(?m)^[ \-]{%d,}" % (MAX_INDENT + 1))


def parse(data: bytes, empty: str | None):
    """The node tree of YAML bytes (UTF-8, a BOM allowed); for an empty document, SpecError
    with the message ``empty``, or None when ``empty`` is None."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecError(f"is not UTF-8 text (byte {e.start} is {data[e.start]:#04x})") from None
    root = compose(text)
    if root is None and empty is not None:
        raise SpecError(empty)
    return root


def compose(text: str, lift_rows: bool = True):
    """The YAML node tree of ``text`` (None for an empty document); SpecError on bad YAML.

    The nesting is measured before libyaml parses anything (it has crashed on 30,000 nested
    brackets): ``depth_guard``. Rows of plain floats are read before it too (``yamlrows``);
    where that reading does not give back exactly one row node per row, or the lifted text is
    refused, the text is composed again as it is, and that tree or error stands. Without
    ``lift_rows``, every number is a node whose marks point into ``text`` (to patch it in place).
    """
    depth_guard(text)
    lifted, rows = lift(text) if lift_rows else (text, {})
    if rows:
        try:
            root = restore(_compose(lifted), rows)
        except SpecError:
            root = None
        if root is not None:
            return root
    return _compose(text)


def _compose(text: str):
    import yaml

    try:
        return yaml.compose(text, Loader=_loader())
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = e.problem or e.context or "invalid YAML"
        if "expected a single document" in str(e.context):
            what = "holds several YAML documents; a spec is one document"
        line = mark.line + 1 if mark else None
        col = f" (column {mark.column + 1})" if mark else ""
        raise SpecError(f"invalid YAML: {what}{col}", line=line) from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else None
        code = ord(e.character) if isinstance(e.character, str) else e.character
        raise SpecError(f"invalid YAML: the character U+{code:04X} is not allowed in YAML text",
                        line=line) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}".splitlines()[0]) from None


_PLAIN_FLOAT = re.compile(rf"(?:{PLAIN_FLOAT})\Z")
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")


@functools.cache
def _loader():
    """libyaml's safe loader (PyYAML's own if it lacks libyaml), resolving plain decimal
    numbers by two regexes before PyYAML's general resolver, which a big matrix would call
    once per number. The tags are those the general resolver gives, except that the YAML 1.2
    floats it leaves as strings (``1e-3``, ``-.5``) are floats. Made once per process."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    general, scalar = base.resolve, yaml.ScalarNode

    class Loader(base):
        def resolve(self, kind, value, implicit):
            if kind is scalar and implicit[0]:
                if _PLAIN_FLOAT.match(value):
                    return _FLOAT
                if _PLAIN_INT.match(value):
                    return _PREFIX + "int"
            return general(self, kind, value, implicit)
    return Loader


def depth_guard(text: str) -> None:
    """SpecError if brackets nest more than MAX_DEPTH deep, or a line is indented (spaces and
    ``- ``) more than MAX_INDENT columns, which block nesting that deep would need. Counted
    over the raw text in C-speed passes; brackets in comments and quotes count too, which can
    only make the guard stricter than the YAML, never looser."""
    import numpy as np

    raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    opens = (raw == _OPEN[0]) | (raw == _OPEN[1])
    at = np.flatnonzero(opens | (raw == _CLOSE[0]) | (raw == _CLOSE[1]))
    depth = np.cumsum(np.where(opens[at], 1, -1))
    if depth.size and depth.max() > MAX_DEPTH:
        first = int(at[np.argmax(depth > MAX_DEPTH)])
        line = raw[:first].tobytes().count(b"\n") + 1
        raise SpecError(f"nests brackets more than {MAX_DEPTH} levels deep", line=line)
    widest = max((m.end() - m.start() for m in _INDENT.finditer(text)), default=0)
    if widest > MAX_INDENT:
        line = next(text.count("\n", 0, m.start()) + 1 for m in _INDENT.finditer(text)
                    if m.end() - m.start() == widest)
        raise SpecError(f"is indented more than {MAX_INDENT} columns; a spec is never nested "
                        "that deep", line=line)


def to_python(node, path: tuple = ()):
    """Plain Python data from a node tree; SpecError names the path and line of anything else."""
    import yaml

    constructor = yaml.constructor.SafeConstructor()
    return _convert(node, path, constructor, set())


def _convert(node, path, constructor, seen):
    import yaml

    if len(path) > MAX_DEPTH:
        raise _error(node, path[:2], f"is nested more than {MAX_DEPTH} levels deep")
    numbers = numbers_of(node)
    if numbers is not None:
        return numbers
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, path, constructor)
    if id(node) in seen:
        raise _error(node, path, "reuses an anchor (*alias); aliases are not supported in a spec")
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        _plain_tag(node, path, "seq")
        out = []
        for i, item in enumerate(node.value):
            if item.tag == _FLOAT:  # the common case, a matrix's number, without a call
                try:
                    out.append(float(item.value))
                    continue
                except (ValueError, TypeError):
                    pass
            out.append(_convert(item, (*path, i), constructor, seen))
        return out
    _plain_tag(node, path, "map")
    out = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _error(key_node, path, "has a key that is not a plain name")
        key = _scalar(key_node, path, constructor)
        if key in out:
            raise _error(key_node, (*path, key), "is given twice; every key may appear once")
        out[key] = _convert(value_node, (*path, key), constructor, seen)
    return out


def _scalar(node, path, constructor):
    tag = node.tag
    if tag == _PREFIX + "str":
        return node.value
    if tag == _FLOAT:
        try:
            return float(node.value)
        except ValueError:
            pass
    builders = {"int": constructor.construct_yaml_int, "float": constructor.construct_yaml_float,
                "bool": constructor.construct_yaml_bool, "null": constructor.construct_yaml_null}
    kind = tag[len(_PREFIX):] if tag.startswith(_PREFIX) else None
    if kind not in builders:
        raise _error(node, path, f"{node.value!r} has the tag {_short(tag)}; a spec holds only "
                                 "numbers, strings, lists and mappings (quote it for a string)")
    try:
        return builders[kind](node)
    except (ValueError, TypeError, KeyError, OverflowError, ArithmeticError):
        raise _error(node, path, f"{node.value!r} is not a valid {kind}") from None


def _plain_tag(node, path, kind):
    if node.tag != _PREFIX + kind:
        raise _error(node, path, f"has the tag {_short(node.tag)}; a spec holds only numbers, "
                                 "strings, lists and mappings")


def _short(tag: str) -> str:
    return "!!" + tag[len(_PREFIX):] if tag.startswith(_PREFIX) else tag


def _error(node, path, message) -> SpecError:
    return SpecError(message, path=path, line=node.start_mark.line + 1)


def line_of(root, path: tuple) -> int | None:
    """The line (from 1) of the deepest node along ``path`` in the tree ``root``."""
    import yaml

    node, line = root, None
    for key in path:
        if node is None:
            break
        line = node.start_mark.line + 1
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

"""Read YAML as plain data only: mappings, lists, strings, numbers, booleans and null.

The text is composed into a node tree (libyaml's C parser when PyYAML has it; nodes only, so
no object is ever constructed from a tag), then converted here: any tag outside plain data is
refused, as are aliases, complex keys and duplicate keys. The node tree is kept so that an
error found later can be given the line of the value it concerns (``line_of``).

Scalars follow the YAML 1.2 core schema, resolved and built here, never by PyYAML's YAML 1.1
rules: null ``~ null Null NULL`` or nothing; bool ``true True TRUE false False FALSE``; int
``[-+]?[0-9]+`` (decimal: ``010`` is 10), ``0o17``, ``0x1F``; float ``1.5 -.5 1e3 .inf -.Inf
.nan``; anything else a string, and a quoted number or one tagged ``!!str`` stays one. The same
rules build ``!!int``, ``!!float``, ``!!bool`` and ``!!null``. A plain scalar that YAML 1.1 reads
as a number and 1.2 as a string (``0b11``, ``1:30``, ``1_000``, ``-0x1F``) is refused, with the
number it meant.
"""

from __future__ import annotations

import functools
import math
import re

from .errors import SpecError, quoted
from .yamlguard import MAX_DEPTH, depth_guard
from .yamlrows import PLAIN_FLOAT, lift, numbers_of, restore, row_line

_PREFIX = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT = (_PREFIX + k for k in ("str", "null", "bool", "int", "float"))
# The tags the resolver gives plain numbers and YAML 1.1 leftovers: a tag written in a document
# is a URI, which has no space, so none of these can be written there.
_PLAIN_FLOAT, _PLAIN_INT, _YAML11 = "plain float", "plain int", "plain YAML 1.1 number"
MAX_INT_DIGITS = 4300  # Python's own limit for int(str) since 3.11, on every version

_FLOAT_12 = re.compile(rf"(?:{PLAIN_FLOAT})\Z")  # the core schema's floats that are not ints
_DECIMAL = re.compile(r"[-+]?[0-9]+\Z")
_BASED = re.compile(r"0o[0-7]+\Z|0x[0-9a-fA-F]+\Z")
_SPECIAL = {**{sign + inf: float(sign + "inf") for sign in ("", "+", "-")
               for inf in (".inf", ".Inf", ".INF")},
            **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan)}
_BOOLS = {**dict.fromkeys(("true", "True", "TRUE"), True),
          **dict.fromkeys(("false", "False", "FALSE"), False)}
_NULLS = ("", "~", "null", "Null", "NULL")
_WORDS = {**dict.fromkeys(_NULLS, _NULL), **dict.fromkeys(_BOOLS, _BOOL),
          **dict.fromkeys(_SPECIAL, _FLOAT)}
_YAML11_NUMBER = re.compile(r"""(?x)  # PyYAML's YAML 1.1 int and float, less .inf and .nan
    [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
    | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+ | [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?
    | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)? | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*""")


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


def compose(text: str):
    """The YAML node tree of ``text`` (None for an empty document); SpecError on bad YAML."""
    return compose_rows(text)[0]


def compose_rows(text: str):
    """The node tree of ``text``, and the ``Lifted`` rows in it by name (to patch them in place).

    The nesting is measured before libyaml parses anything (it has crashed on 30,000 nested
    brackets): ``depth_guard``. Rows of plain floats are read before it too (``yamlrows``):
    whole blocks and matrices first, then single rows only; where a reading does not give back
    every row where it stood, or the lifted text is refused, the text is composed again as it
    is, and that tree or error stands (with no rows).
    """
    depth_guard(text)
    for whole in (True, False):
        lifted, rows = lift(text, whole)
        if not rows:
            break
        try:
            root = restore(_compose(lifted), rows)
        except SpecError:
            root = None
        if root is not None:
            return root, rows
        if all(row.kind == "row" for row in rows.values()):
            break  # lifting rows only would give the same text
    return _compose(text), {}


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


@functools.cache
def _loader():
    """libyaml's safe loader (PyYAML's own if it lacks libyaml), whose plain scalars are resolved
    by the YAML 1.2 core schema (``_plain``), decimal floats and ints first, since a big matrix
    calls the resolver once per number. Made once per process."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    general, scalar = base.resolve, yaml.ScalarNode

    class Loader(base):
        def resolve(self, kind, value, implicit):
            if kind is scalar:
                return _plain(value) if implicit[0] else _STR
            return general(self, kind, value, implicit)
    return Loader


def _plain(value: str) -> str:
    """The tag of a plain scalar, by the YAML 1.2 core schema."""
    if _FLOAT_12.match(value):
        return _PLAIN_FLOAT
    if _DECIMAL.match(value):
        return _PLAIN_INT
    tag = _WORDS.get(value)
    if tag is not None:
        return tag
    if _BASED.match(value):
        return _PLAIN_INT
    if value[0] in "+-.0123456789" and _YAML11_NUMBER.fullmatch(value):
        return _YAML11
    return _STR


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
            if item.tag == _PLAIN_FLOAT:  # the common case, a matrix's number, without a call
                out.append(float(item.value))
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


class _Invalid(ValueError):
    """A scalar that its tag's YAML 1.2 form does not allow, and why (or "" for no more)."""


def _scalar(node, path):
    tag, text = node.tag, node.value
    if tag == _STR:
        return text
    if tag == _PLAIN_FLOAT:
        return float(text)
    kind = _KINDS.get(tag)
    if kind is None:
        raise _error(node, path, f"{quoted(text)} has the tag {_short(tag)}; a spec holds only "
                                 "numbers, strings, lists and mappings (quote it for a string)")
    if kind == "YAML 1.1":
        raise _error(node, path, _yaml11(text))
    try:
        return _BUILD[kind](text)
    except (ValueError, KeyError) as e:  # _Invalid says why when it can
        why = isinstance(e, _Invalid) and str(e)
        why = why or f"{quoted(text)} is not a valid {kind}{_hint(kind, text)}"
        raise _error(node, path, why) from None


def _int(text: str) -> int:
    if _DECIMAL.match(text):
        digits = text.lstrip("+-").lstrip("0") or "0"
        size = len(digits)
        value = int(digits) * (-1 if text[0] == "-" else 1) if size <= MAX_INT_DIGITS else None
    elif _BASED.match(text):
        value = int(text[2:], 8 if text[1] == "o" else 16)
        size = int(value.bit_length() * math.log10(2)) + 1
    else:
        raise _Invalid
    if size > MAX_INT_DIGITS:
        raise _Invalid(f"{quoted(text)} is an integer of about {size:,} digits; nngrad reads "
                       f"integers of at most {MAX_INT_DIGITS:,} digits")
    return value


def _float(text: str) -> float:
    if _FLOAT_12.match(text) or _DECIMAL.match(text):
        return float(text)
    return _SPECIAL[text]


_BUILD = {"int": _int, "float": _float, "bool": _BOOLS.__getitem__,
          "null": dict.fromkeys(_NULLS).__getitem__}
_KINDS = {_PLAIN_INT: "int", _INT: "int", _FLOAT: "float", _BOOL: "bool", _NULL: "null",
          _YAML11: "YAML 1.1"}


def _hint(kind: str, text: str) -> str:
    if kind == "bool":
        return " (YAML 1.2 booleans are true and false)"
    if _YAML11_NUMBER.fullmatch(text):
        return "; it" + _yaml11(text)[len(quoted(text)):]
    return ""


def _yaml11(text: str) -> str:
    """Why a YAML 1.1 number is refused, and how to write it."""
    kind = ("binary number" if "0b" in text else "sexagesimal (base 60) number" if ":" in text
            else "number with _ between its digits" if "_" in text
            else "hexadecimal number with a sign")
    value = _yaml11_value(text)
    write = f"write {value}" if value is not None else "write it in decimal"
    return (f"{quoted(text)} is a YAML 1.1 {kind}; nngrad reads YAML 1.2: {write} "
            "(or quote it for a string)")


def _yaml11_value(text: str) -> str | None:
    """What YAML 1.1 reads a short number ``text`` as, written for YAML 1.2; else None."""
    if len(text) > 40:
        return None
    v = text.replace("_", "")
    sign, v = (-1, v[1:]) if v[:1] == "-" else (1, v.lstrip("+"))
    try:
        if ":" in v:
            x = 0
            for part in v.split(":"):
                x = x * 60 + (float(part) if "." in part else int(part))
        elif v[:2] in ("0b", "0x"):
            x = int(v[2:], 2 if v[1] == "b" else 16)
        elif "." in v:
            x = float(v)
        else:
            x = int(v, 8 if len(v) > 1 and v[0] == "0" else 10)
    except ValueError:
        return None
    return repr(sign * x)


def _plain_tag(node, path, kind):
    if node.tag != _PREFIX + kind:
        raise _error(node, path, f"has the tag {_short(node.tag)}; a spec holds only numbers, "
                                 "strings, lists and mappings")


def _short(tag: str) -> str:
    return "!!" + tag[len(_PREFIX):] if tag.startswith(_PREFIX) else tag


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

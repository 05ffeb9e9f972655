"""The YAML 1.2 core schema, for plain scalars and the tags ``!!int``, ``!!float``, ``!!bool``
and ``!!null``: which tag a plain scalar resolves to (``resolve``), and the value a scalar
builds (``scalar_value``), never by PyYAML's YAML 1.1 rules.

null ``~ null Null NULL`` or nothing; bool ``true True TRUE false False FALSE``; int
``[-+]?[0-9]+`` (decimal: ``010`` is 10), ``0o17``, ``0x1F``; float ``1.5 -.5 1e3 .inf -.Inf
.nan``; anything else a string. A plain scalar that YAML 1.1 reads as a number and 1.2 as a
string (``0b11``, ``1:30``, ``1_000``, ``-0x1F``) resolves to ``YAML11`` and is refused, with
the number it meant.
"""

from __future__ import annotations

import math
import re

from ..errors import quoted
from .yamlrows import PLAIN_FLOAT

PREFIX = "tag:yaml.org,2002:"
STR, NULL, BOOL, INT, FLOAT = (PREFIX + k for k in ("str", "null", "bool", "int", "float"))
# The tags the resolver gives plain numbers and YAML 1.1 leftovers: a tag written in a document
# is a URI, which has no space, so none of these can be written there.
PLAIN_FLOAT_TAG, PLAIN_INT, YAML11 = "plain float", "plain int", "plain YAML 1.1 number"
MAX_INT_DIGITS = 4300  # Python's own limit for int(str) since 3.11, on every version

_FLOAT_12 = re.compile(rf"(?:{PLAIN_FLOAT})\Z")  # the core schema's floats that are not ints
_DECIMAL = re.compile(r"[-+]?[0-9]+\Z")
_BASED = re.compile(r"0o[0-7]+\Z|0x[0-9a-fA-F]+\Z")
_SPECIAL = {**{sign + inf: float(sign + "inf") for sign in ("", "+", "-")
               for inf in (".inf", ".Inf", ".INF")},
            **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan)}
_BOOL_WORDS = {**dict.fromkeys(("true", "True", "TRUE"), True),
               **dict.fromkeys(("false", "False", "FALSE"), False)}
_NULL_WORDS = ("", "~", "null", "Null", "NULL")
_WORDS = {**dict.fromkeys(_NULL_WORDS, NULL), **dict.fromkeys(_BOOL_WORDS, BOOL),
          **dict.fromkeys(_SPECIAL, FLOAT)}
_NUMBER_11 = r"""(?x)  # PyYAML's YAML 1.1 int and float, less .inf and .nan; compiled on use
    [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
    | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+ | [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?
    | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)? | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"""


def resolve(value: str) -> str:
    """The tag of a plain scalar, by the YAML 1.2 core schema."""
    if _FLOAT_12.match(value):
        return PLAIN_FLOAT_TAG
    if _DECIMAL.match(value):
        return PLAIN_INT
    tag = _WORDS.get(value)
    if tag is not None:
        return tag
    if _BASED.match(value):
        return PLAIN_INT
    if value[0] in "+-.0123456789" and re.fullmatch(_NUMBER_11, value):  # re caches it
        return YAML11
    return STR


class Invalid(ValueError):
    """A scalar that its tag's YAML 1.2 form does not allow, and why (or "" for no more)."""


def scalar_value(tag: str, text: str):
    """The value of a scalar of ``tag`` (as ``resolve`` gives plain ones) and ``text``;
    ``Invalid`` with the whole reason when the tag or the text is refused."""
    if tag == STR:
        return text
    if tag == PLAIN_FLOAT_TAG:
        return float(text)
    kind = _KINDS.get(tag)
    if kind is None:
        raise Invalid(f"{quoted(text)} has the tag {short_tag(tag)}; a spec holds only numbers, "
                      "strings, lists and mappings (quote it for a string)")
    if kind == "YAML 1.1":
        raise Invalid(_yaml11(text))
    try:
        return _BUILD[kind](text)
    except (ValueError, KeyError) as e:  # Invalid says why when it can
        why = isinstance(e, Invalid) and str(e)
        raise Invalid(why or f"{quoted(text)} is not a valid {kind}{_hint(kind, text)}") from None


def _int(text: str) -> int:
    if _DECIMAL.match(text):
        digits = text.lstrip("+-").lstrip("0") or "0"
        size = len(digits)
        value = int(digits) * (-1 if text[0] == "-" else 1) if size <= MAX_INT_DIGITS else None
    elif _BASED.match(text):
        value = int(text[2:], 8 if text[1] == "o" else 16)
        size = int(value.bit_length() * math.log10(2)) + 1
    else:
        raise Invalid
    if size > MAX_INT_DIGITS:
        raise Invalid(f"{quoted(text)} is an integer of about {size:,} digits; nngrad reads "
                       f"integers of at most {MAX_INT_DIGITS:,} digits")
    return value


def _float(text: str) -> float:
    if _FLOAT_12.match(text) or _DECIMAL.match(text):
        return float(text)
    return _SPECIAL[text]


_BUILD = {"int": _int, "float": _float, "bool": _BOOL_WORDS.__getitem__,
          "null": dict.fromkeys(_NULL_WORDS).__getitem__}
_KINDS = {PLAIN_INT: "int", INT: "int", FLOAT: "float", BOOL: "bool", NULL: "null",
          YAML11: "YAML 1.1"}


def _hint(kind: str, text: str) -> str:
    """Why a tagged value is not a ``kind``: a YAML 1.1-only number, or another YAML 1.2 kind."""
    if kind == "bool":
        return " (YAML 1.2 booleans are true and false)"
    plain = resolve(text) if text else NULL
    if plain == YAML11:
        return "; it" + _yaml11(text)[len(quoted(text)):]
    other = {PLAIN_FLOAT_TAG: "float", PLAIN_INT: "int"}.get(plain)  # a number, untagged
    return f"; it is a YAML 1.2 {other}: leave out the tag !!{kind}" if other else ""


def _yaml11(text: str) -> str:
    """Why a YAML 1.1 number is refused, and how to write it."""
    kind = ("binary number" if "0b" in text else "sexagesimal (base 60) number" if ":" in text
            else "number with _ between its digits" if "_" in text
            else "hexadecimal number with a sign" if "0x" in text else "number")
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


def short_tag(tag: str) -> str:
    return "!!" + tag[len(PREFIX):] if tag.startswith(PREFIX) else tag

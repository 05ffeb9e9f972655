"""Plain scalars read by the YAML 1.2 core schema; YAML 1.1-only numbers refused with a hint."""

import math
import re
import textwrap

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import nngrad
from nngrad.settings import load_config
from nngrad.errors import QUOTED_MAX
from nngrad.specs.yamlread import compose, to_python

SPEC = textwrap.dedent("""\
    X: [[1.0, 2.0]]
    T: [[1.0]]
    loss: mse
    layers:
      - W: [[0.5], [VALUE]]
        activation: identity
    """)


def read(scalar: str):
    return to_python(compose(f"v: {scalar}\n"))["v"]


def refusal(text: str) -> str:
    with pytest.raises(nngrad.SpecError) as e:
        to_python(compose(text))
    return str(e.value)


@pytest.mark.parametrize("scalar,value", [
    ("010", 10), ("0o17", 15), ("0x1F", 31), ("0xff", 255), ("-17", -17), ("+1", 1), ("-0", 0),
    ("007", 7), ("09", 9), ("1.5", 1.5), ("-.5", -0.5), ("+.5e1", 5.0), ("1.", 1.0), ("1e3", 1000.0),
    ("1E-2", 0.01), ("00.5", 0.5), (".inf", math.inf), ("-.Inf", -math.inf), ("+.INF", math.inf),
    ("~", None), ("null", None), ("Null", None), ("NULL", None), ("true", True), ("TRUE", True),
    ("False", False),
])
def test_core_schema_values(scalar, value):
    got = read(scalar)
    assert type(got) is type(value) and got == value


@pytest.mark.parametrize("scalar", ["yes", "No", "on", "OFF", "y", "tRUE", "nULL", "2001-02-30",
                                    "0o8", "0x", "0O17", "0X1F", "-0o7", "1e", "e5", "1.2.3",
                                    "-.nan", ".NAN.", "<<", "=", "0x1G", "1,5"])
def test_everything_else_is_a_string(scalar):
    assert read(scalar) == scalar


def test_nan_and_the_empty_value():
    assert math.isnan(read(".NaN")) and to_python(compose("v:\n"))["v"] is None


@pytest.mark.parametrize("scalar,hint", [
    ("0b11", "'0b11' is a YAML 1.1 binary number; nngrad reads YAML 1.2: write 3"),
    ("-0b101", "binary number; nngrad reads YAML 1.2: write -5"),
    ("1:30", "'1:30' is a YAML 1.1 sexagesimal (base 60) number; nngrad reads YAML 1.2: write 90"),
    ("1:30.5", "sexagesimal (base 60) number; nngrad reads YAML 1.2: write 90.5"),
    ("1_000", "'1_000' is a YAML 1.1 number with _ between its digits; nngrad reads YAML 1.2: "
              "write 1000"),
    ("1_000.5", "write 1000.5"), ("0_17", "write 15"),  # YAML 1.1 octal
    ("-0x1F", "'-0x1F' is a YAML 1.1 hexadecimal number with a sign; nngrad reads YAML 1.2: "
              "write -31"),
])
def test_yaml11_only_numbers_are_refused_naming_place_line_and_the_number(tmp_path, scalar, hint):
    path = tmp_path / "net.yaml"
    path.write_text(SPEC.replace("VALUE", scalar))
    with pytest.raises(nngrad.SpecError) as e:
        nngrad.load(path)
    assert f"net.yaml:5: W1[1][0]: '{scalar}' is a YAML 1.1 " in str(e.value) and hint in str(e.value)


def test_a_yaml11_number_in_a_key_is_refused_too():
    assert "1:30" in refusal("m:\n  1:30: x\n") and ":2:" in refusal("m:\n  1:30: x\n")


@pytest.mark.parametrize("text,value", [
    ("!!int 0o17", 15), ("!!int 010", 10), ("!!float 1", 1.0), ("!!float -.inf", -math.inf),
    ("!!bool True", True), ("!!null ~", None), ("!!null ''", None), ("!!str 010", "010"),
    ("'010'", "010"), ('"1e3"', "1e3"),
])
def test_explicit_tags_are_built_by_the_same_rules(text, value):
    got = read(text)
    assert type(got) is type(value) and got == value


@pytest.mark.parametrize("text,fragment", [
    ("!!int 0b11", "'0b11' is not a valid int; it is a YAML 1.1 binary number"),
    ("!!int 1_000", "'1_000' is not a valid int; it is a YAML 1.1 number with _"),
    ("!!int ' 5'", "' 5' is not a valid int"),           # Python's int() would take these
    ("!!float 1_0.5", "'1_0.5' is not a valid float"),
    ("!!float infinity", "'infinity' is not a valid float"),
    ("!!float nan", "'nan' is not a valid float"),
    ("!!bool yes", "'yes' is not a valid bool (YAML 1.2 booleans are true and false)"),
    ("!!null x", "'x' is not a valid null"),
    ("!!int 1.5", "'1.5' is not a valid int; it is a YAML 1.2 float: leave out the tag !!int"),
    ("!!float 0x1F", "'0x1F' is not a valid float; it is a YAML 1.2 int: leave out the tag"),
])
def test_explicit_tags_refuse_what_yaml12_does_not_allow(text, fragment):
    assert fragment in refusal(f"v: {text}\n")


def test_an_explicit_float_in_a_matrix_is_checked_not_taken_as_a_plain_number():
    assert "'1_0' is not a valid float" in refusal("W: [[0.5, !!float 1_0]]\n")


@pytest.mark.parametrize("scalar,digits", [("9" * 5000, "5,000"), ("-" + "1" * 10000, "10,000"),
                                           ("0x" + "f" * 5000, "6,021")])
def test_an_integer_of_thousands_of_digits_is_a_clean_short_error(scalar, digits):
    message = refusal(f"v: {scalar}\n")
    assert f"is an integer of about {digits} digits; nngrad reads integers of at most 4,300" in message
    assert len(message) < 200


def test_an_integer_within_the_digit_limit_is_read_exactly():
    assert read("0" * 9000 + "7" * 4300) == int("7" * 4300)


@pytest.mark.parametrize("text", ["v: !Tag " + "a" * 100000 + "\n",
                                  "v: !!int " + "a" * 100000 + "\n",
                                  "v: " + "1_" * 50000 + "1\n"])
def test_a_long_value_is_cut_to_a_readable_length_in_the_message(text):
    message = refusal(text)
    assert re.search(r"\.\.\.[a1_]+' \(100,00[0-9] characters\)", message), message
    assert len(message) < QUOTED_MAX + 200


def test_the_bundled_settings_still_load():
    settings_ = load_config(None)
    assert settings_["tolerances"]["float64"] == {"rtol": 1e-5, "atol": 1e-8}
    assert type(settings_["limits"]["npz_bytes"]) is int and settings_["check"]["mode"] == "auto"


# --- the core schema's table, written out from the YAML 1.2.2 spec (10.3.2) ----------------------

def core_schema(s: str):
    if re.fullmatch(r"null|Null|NULL|~|", s):
        return None
    if re.fullmatch(r"true|True|TRUE|false|False|FALSE", s):
        return s.lower() == "true"
    if re.fullmatch(r"[-+]?[0-9]+", s):
        return int(s)
    if re.fullmatch(r"0o[0-7]+", s):
        return int(s[2:], 8)
    if re.fullmatch(r"0x[0-9a-fA-F]+", s):
        return int(s[2:], 16)
    if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", s):
        return float(s)
    if re.fullmatch(r"[-+]?(\.inf|\.Inf|\.INF)", s):
        return -math.inf if s[0] == "-" else math.inf
    if re.fullmatch(r"\.nan|\.NaN|\.NAN", s):
        return math.nan
    return s


def yaml11_number(s: str) -> bool:
    """PyYAML's own YAML 1.1 resolver takes ``s`` for an int or a float."""
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, s, (True, False))
    return tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789+-.eE_:xobfA", min_size=1, max_size=9))
def test_any_numeric_looking_plain_scalar_reads_as_the_core_schema_says(scalar):
    text = f"v: [{scalar}]\n"
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader).value[0][1].value[0]
    except yaml.YAMLError:  # not a plain scalar in YAML's syntax, for either reader
        assume(False)
    assume(isinstance(node, yaml.ScalarNode) and node.value == scalar and not node.style)
    want = core_schema(scalar)
    if isinstance(want, str) and yaml11_number(scalar):
        assert "is a YAML 1.1" in refusal(text), scalar
        return
    got = to_python(compose(text))["v"][0]
    assert type(got) is type(want) and repr(got) == repr(want), (scalar, got, want)

"""storage.keys: order-preserving tuple encoding."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudlet.storage import keys
from cloudlet.storage.keys import KeyEncodingError, pack, prefix_range, unpack

D = Decimal


def _cmp(a, b) -> int:
    return (a > b) - (a < b)


# ---------------------------------------------------------------- examples


@pytest.mark.parametrize(
    "value",
    [
        None, True, False,
        0, 1, -1, 19, 255, 256, -255, -256, -257, 4095, 4096, -4097, 2**63, -(2**63),
        2**64 - 1, 2**64, -(2**64), 10**100, -(10**100), 2**2100, -(2**2100),
        0.0, 1.5, -1.5, 1e308, -1e-308, float("inf"), float("-inf"),
        "", "a", "é€😀", "a\x00b", "\x00", "\x00\xff", "\ud800",
        b"", b"\x00", b"\xff", b"a\x00\x00b\xff",
        (), (None,), (1, None, (None, ()), "x"), ((),),
        D(0), D("1"), D("-1"), D("1E-130"), D("-1E-130"), D("9.9999E+125"), D("-9.9999E+125"),
        D("12345678901234567890123456789012345678"), D("-0.12345678901234567890123456789012345678"),
        D("Infinity"), D("-Infinity"), D("1E+999999"), D("1E-999999"),
    ],
)
def test_roundtrip_each_type(value):
    t = ("p", value, 7)
    out = unpack(pack(t))
    assert out == t
    assert type(out[1]) is type(value)


def test_typical_key_layout():
    b = pack(("sqs", "000000000000", "us-east-1", "q", "myqueue", 12345))
    assert b == b"\x02sqs\x00\x02000000000000\x00\x02us-east-1\x00\x02q\x00\x02myqueue\x00\x16\x30\x39"


def test_equal_values_encode_identically():
    assert pack((D("1.0"),)) == pack((D("1"),)) == pack((D("1.000E+0"),)) == pack((D("0.1E1"),))
    assert pack((D("1200"),)) == pack((D("1.2E+3"),))
    assert pack((D("-0"),)) == pack((D("0"),)) == pack((D("0E-10"),)) == pack((D("0.000"),))
    assert pack((-0.0,)) == pack((0.0,))
    assert pack((float("nan"),)) == pack((-float("nan"),))
    assert unpack(pack((D("1200"),))) == (D("1200"),)


def test_decimal_is_its_own_type():
    assert pack((D(1),)) != pack((1,))
    assert pack((True,)) != pack((1,))
    assert unpack(pack((True, 1))) == (True, 1)
    assert type(unpack(pack((True,)))[0]) is bool


def test_subclasses_encode_as_base_type():
    import enum

    class Color(str, enum.Enum):
        RED = "red"

    class Num(enum.IntEnum):
        ONE = 1

    assert pack((Color.RED, Num.ONE)) == pack(("red", 1))


def test_prefix_sorts_first_and_nested_tuples():
    assert pack(("a",)) < pack(("a", None)) < pack(("a", 0))
    assert pack(((),)) < pack(((None,),)) < pack(((None, None),)) < pack(((0,),))
    assert pack(("a",)) < pack(("a\x00",)) < pack(("a\x00\x00",)) < pack(("a\x01",))
    # a key followed by anything still sorts before the next str
    assert pack(("a", "zzz")) < pack(("a\x00",))


def test_prefix_range():
    lo, hi = prefix_range(("q", "a"))
    inside = [("q", "a"), ("q", "a", 1), ("q", "a", "zz", 3), ("q", "a", None), ("q", "a", b"\xff" * 5)]
    outside = [("q",), ("q", "ab"), ("q", "a\x00"), ("q", "b"), ("q", "", 1), ("r",)]
    for k in inside:
        assert lo <= pack(k) < hi, k
    for k in outside:
        assert not (lo <= pack(k) < hi), k
    assert prefix_range(()) == (b"", b"\xff")


def test_rejects():
    with pytest.raises(TypeError):
        pack(["a", 1])  # lists are not keys
    with pytest.raises(TypeError):
        pack("abc")
    with pytest.raises(TypeError):
        pack(({"a": 1},))
    with pytest.raises(ValueError):
        pack((D("NaN"),))
    for bad in [b"\x02abc", b"\x99", b"\x16\x01", b"\x05\x02a\x00", b"\x21\x00", b"\x43\x15\x01\x23", b"\x02\xff\x00"]:
        with pytest.raises(KeyEncodingError):
            unpack(bad)


def test_str_cache_stays_correct_when_full():
    many = [f"name-{i}" for i in range(keys._STR_CACHE_MAX * 2 + 10)]
    for s in many:
        assert unpack(pack((s,))) == (s,)
    assert len(keys._STR_CACHE) <= keys._STR_CACHE_MAX
    long = "x" * (keys._STR_CACHE_MAX_LEN + 1)
    assert unpack(pack((long,))) == (long,)
    assert long not in keys._STR_CACHE


def test_small_int_table_boundaries():
    for v in range(keys._SMALL_MIN - 300, keys._SMALL_MAX + 300):
        assert pack((v,)) == keys._int_bytes(v)
    vals = list(range(-70000, 70000, 7)) + [2**k + d for k in range(0, 130, 3) for d in (-1, 0, 1)]
    vals += [-v for v in vals]
    enc = sorted(vals, key=lambda v: pack((v,)))
    assert enc == sorted(vals)


def test_decimal_order_examples():
    vals = [
        D("-Infinity"), D("-9.9999E+125"), D("-1E+20"), D("-100"), D("-99.99"), D("-10"), D("-2"), D("-1.5"),
        D("-1.01"), D("-1"), D("-0.999"), D("-0.1"), D("-1E-130"), D("0"), D("1E-130"), D("1.00000000000000000000000000000000000001E-100"),
        D("0.001"), D("0.1"), D("0.10000000000000000000000000000000000001"), D("0.101"), D("0.11"), D("1"), D("1.01"), D("1.1"),
        D("2"), D("10"), D("10.5"), D("99.9999999999999999999999999999999999"), D("100"), D("1E+38"), D("9.9999E+125"), D("Infinity"),
    ]
    assert sorted(vals) == vals
    packed = [pack((v,)) for v in vals]
    assert sorted(packed) == packed


# ---------------------------------------------------------------- properties

def dynamodb_numbers():
    """Numbers as DynamoDB takes them: up to 38 significant digits, magnitude
    1E-130 .. 9.9999E+125, negative, zero."""

    def build(sign, digits, adjusted):
        digits = digits.lstrip("0") or "0"
        exp = adjusted - (len(digits) - 1)
        return Decimal((sign, tuple(int(c) for c in digits), exp))

    return st.one_of(
        st.just(D(0)),
        st.builds(
            build,
            st.integers(0, 1),
            st.text("0123456789", min_size=1, max_size=38).filter(lambda s: s.strip("0")),
            st.integers(-130, 125),
        ),
        st.integers(-(10**12), 10**12).map(Decimal),
        st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-1000, max_value=1000),
    )


LEAF = {
    "none": st.none(),
    "bool": st.booleans(),
    "int": st.one_of(st.integers(-300, 5000), st.integers(), st.integers(-(2**300), 2**300)),
    "float": st.floats(allow_nan=False),
    "decimal": st.one_of(dynamodb_numbers(), st.decimals(allow_nan=False)),
    "str": st.text(st.characters(codec="utf-8"), max_size=6) | st.sampled_from(["", "a", "a\x00", "\x00", "b"]),
    "bytes": st.binary(max_size=6) | st.sampled_from([b"", b"\x00", b"\x00\xff", b"\xff"]),
}

# A schema is a list of element types, one per position; nested tuples have
# their own schema. Tuples drawn for one schema use a prefix of it, so tuples of
# different lengths (prefixes of each other) are compared too.
schemas = st.recursive(
    st.sampled_from(sorted(LEAF)),
    lambda inner: st.lists(inner, min_size=0, max_size=3).map(tuple),
    max_leaves=6,
)
top_schema = st.lists(schemas, min_size=1, max_size=4)


def value_for(schema):
    if isinstance(schema, tuple):
        return st.integers(0, len(schema)).flatmap(
            lambda n: st.tuples(*[value_for(s) for s in schema[:n]])
        )
    return LEAF[schema]


def tuples_for(schema):
    return st.integers(0, len(schema)).flatmap(lambda n: st.tuples(*[value_for(s) for s in schema[:n]]))


@st.composite
def tuple_families(draw):
    schema = draw(top_schema)
    return draw(st.lists(tuples_for(schema), min_size=2, max_size=12))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tuple_families())
def test_byte_order_is_tuple_order(family):
    packed = [pack(t) for t in family]
    for t, b in zip(family, packed):
        assert unpack(b) == t
    for (a, pa), (b, pb) in itertools.combinations(zip(family, packed), 2):
        assert _cmp(a, b) == _cmp(pa, pb), (a, b, pa, pb)
    assert [pack(t) for t in sorted(family)] == sorted(packed)


@settings(max_examples=150, deadline=None)
@given(st.lists(dynamodb_numbers() | st.decimals(allow_nan=False), min_size=2, max_size=20))
def test_decimal_order_is_numeric(nums):
    for a, b in itertools.combinations(nums, 2):
        assert _cmp(a, b) == _cmp(pack((a,)), pack((b,)))
        if a == b:
            assert pack((a,)) == pack((b,))
    for n in nums:
        (back,) = unpack(pack((n,)))
        assert back == n and type(back) is Decimal


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(), min_size=2, max_size=20), st.lists(st.floats(allow_nan=False), min_size=2, max_size=20))
def test_int_and_float_order(ints, floats):
    assert sorted(ints, key=lambda v: pack((v,))) == sorted(ints)
    fs = sorted(floats, key=lambda v: pack((v,)))
    assert all(a <= b for a, b in zip(fs, fs[1:]))
    assert all(unpack(pack((v,))) == (v,) for v in ints + floats)


@settings(max_examples=200, deadline=None)
@given(tuple_families(), st.data())
def test_prefix_range_matches_tuple_prefix(family, data):
    p = data.draw(st.sampled_from(family))
    p = p[: data.draw(st.integers(0, len(p)))]
    lo, hi = prefix_range(p)
    for t in family:
        assert (lo <= pack(t) < hi) == (t[: len(p)] == p and len(t) >= len(p))


@given(st.lists(st.one_of(st.integers(), st.text(max_size=20)), min_size=1, max_size=5))
def test_elements_concatenate_to_the_packed_tuple(parts):
    """int_elem/str_elem build keys by concatenation (the SQS hot keys); they must be pack's bytes."""
    built = b"".join(keys.int_elem(p) if isinstance(p, int) else keys.str_elem(p) for p in parts)
    assert built == pack(tuple(parts))
    assert keys.int_elem(2**64 - 1) + keys.int_elem(-(2**70)) == pack((2**64 - 1, -(2**70)))

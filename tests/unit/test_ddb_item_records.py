"""The stored form of DynamoDB items: JSON ``[size,item]`` for items without
binary values, pickled ``(size, item)`` for the others, and both older forms
(pickled tuples, bare dicts) still read."""

from __future__ import annotations

import base64
import json

import orjson
from hypothesis import given, settings, strategies as st

from cloudlet.services.dynamodb import store as S, values as V
from cloudlet.storage import codec

names = st.text(max_size=8)
scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text()),
    st.builds(lambda n: {"N": str(n)}, st.integers(-10**6, 10**6)),
    st.builds(lambda b: {"B": b}, st.binary(max_size=16)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda s: {"SS": sorted(s)}, st.sets(st.text(), min_size=1, max_size=3)),
    st.builds(lambda s: {"BS": sorted(s)}, st.sets(st.binary(max_size=4), min_size=1, max_size=3)),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
    st.builds(lambda m: {"M": m}, st.dictionaries(names, inner, max_size=3))), max_leaves=10)
items = st.dictionaries(names, values, min_size=1, max_size=5)


def _wire(item) -> object:
    """The item as JSON on the wire (binary as base64), parsed back."""
    return json.loads(orjson.dumps(item, default=lambda b: base64.b64encode(b).decode()))


def _has_binary(value) -> bool:
    if isinstance(value, dict):
        return any(k in ("B", "BS") and not isinstance(v, dict) or _has_binary(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_binary(v) for v in value)
    return False


@settings(max_examples=300, deadline=None)
@given(items)
def test_round_trip(item):
    size = V.item_size(item)
    raw = S.dump_item(item, size)
    assert raw[:1] == (b"\x80" if _has_binary(item) else b"[")
    assert S.load_item(raw) == (item, size)
    whole, whole_size = S.load_item_json(raw)
    assert whole_size == size
    assert _wire({"Item": whole}) == {"Item": _wire(item)}  # what an answer carries


@settings(max_examples=100, deadline=None)
@given(items)
def test_older_records_are_read(item):
    size = V.item_size(item)
    for raw in (codec.dumps((size, item)), codec.dumps(item)):
        assert S.load_item(raw) == (item, size)
        whole, whole_size = S.load_item_json(raw)
        assert (whole, whole_size) == (item, size)


def test_json_record_layout():
    raw = S.dump_item({"pk": {"S": 'a,"b"'}, "n": {"N": "1"}}, 17)
    assert raw == b'[17,{"pk":{"S":"a,\\"b\\""},"n":{"N":"1"}}]'
    assert bytes(orjson.dumps(S.load_item_json(raw)[0])) == b'{"pk":{"S":"a,\\"b\\""},"n":{"N":"1"}}'

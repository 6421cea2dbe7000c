"""Unit tests of the pure Kinesis domain logic (services/kinesis/models.py)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlet.services.kinesis import models as m


def _stream(n=1, now=1000.0):
    s = m.new_stream("s", "123456789012", "us-east-1", now, shard_count=n, ready_at=now + 0.5)
    assert m.settle(s, now + 1, lambda i: -1) == "changed"
    return s


def _partition_ok(stream):
    shards = sorted(m.open_shards(stream), key=lambda s: s["start"])
    assert shards[0]["start"] == 0 and shards[-1]["end"] == m.MAX_HASH
    for a, b in zip(shards, shards[1:]):
        assert a["end"] + 1 == b["start"]


# ------------------------------------------------------------------ hashing, ids

def test_md5_partition_key_hash():
    assert m.hash_key("a") == int(hashlib.md5(b"a").hexdigest(), 16)
    assert m.hash_key("ü") == int(hashlib.md5("ü".encode()).hexdigest(), 16)


def test_even_ranges_match_aws():
    # the 3-shard layout AWS creates (kinesalite's createStream test against AWS)
    assert m.even_ranges(3) == [
        (0, 113427455640312821154458202477256070484),
        (113427455640312821154458202477256070485, 226854911280625642308916404954512140969),
        (226854911280625642308916404954512140970, 340282366920938463463374607431768211455),
    ]
    assert m.even_ranges(1) == [(0, m.MAX_HASH)]


@pytest.mark.parametrize("text,index", [
    ("shardId-000000000001", 1), ("shard-1", 1), ("1", 1), ("x-01", 1), ("-00002147483647", 2147483647),
    ("2147483648", None), ("shardId-002147483648", None), ("ABKLFD8", None), ("2.14E4", None), ("", None),
])
def test_parse_shard_id_is_as_lenient_as_aws(text, index):
    assert m.parse_shard_id(text) == index


def test_arns():
    arn = m.stream_arn("eu-west-1", "123456789012", "s.1")
    assert m.parse_stream_arn(arn) == ("eu-west-1", "123456789012", "s.1")
    c = m.consumer_arn(arn, "c", 1700000000.9)
    assert c.endswith("/consumer/c:1700000000")
    assert m.parse_consumer_arn(c) == ("eu-west-1", "123456789012", "s.1", "c", 1700000000)
    assert m.parse_stream_arn(c) is None and m.parse_consumer_arn(arn) is None


# ------------------------------------------------------------------ sequence numbers

@given(st.integers(0, (1 << 100) - 1), st.integers(0, m.MAX_SHARD_INDEX), st.integers(0, (1 << 52) - 1))
def test_sequence_numbers_round_trip_and_are_56_digits(counter, shard, tag):
    text = m.encode_seq(counter, shard, tag)
    assert len(text) == 56 and text.isdigit()
    assert m.decode_seq(text) == (counter, shard, tag)


@given(st.lists(st.integers(0, 10**17), min_size=2, max_size=30))
def test_sequence_numbers_order_like_counters(counters):
    counters = sorted(set(counters))
    seqs = [int(m.encode_seq(c, 7, 99)) for c in counters]
    assert seqs == sorted(seqs)


def test_decode_rejects_foreign_numbers():
    assert m.decode_seq("0") is None
    assert m.decode_seq("49590338271490256608559692538361571095921575989136588898") is not None  # shape only
    assert m.decode_seq("1" * 57) is None
    assert m.decode_seq("abc") is None


def test_next_counter_is_strictly_increasing_and_time_based():
    assert m.next_counter(-1, 10.0) == 10_000_000
    assert m.next_counter(10_000_000, 10.0) == 10_000_001
    assert m.next_counter(5, 10.0) == 10_000_000


# ------------------------------------------------------------------ resharding

def test_split_and_merge_lineage():
    s = _stream(2)
    s0, s1 = s["shards"]
    left, right = m.split(s, 0, 1000, 2000.0, lambda i: -1)
    assert (left["parent"], right["parent"]) == (0, 0)
    assert (left["start"], left["end"], right["start"], right["end"]) == (0, 999, 1000, s0["end"])
    assert s0["closed"] == 2000.0 and left["first"] > s0["last"]
    _partition_ok(s)
    child = m.merge(s, right["index"], 1, 3000.0, lambda i: -1)
    assert (child["parent"], child["adjacent"]) == (right["index"], 1)
    assert (child["start"], child["end"]) == (1000, m.MAX_HASH)
    _partition_ok(s)
    view = m.child_shards_view(s, 1)
    assert view == [{"ShardId": m.shard_id(child["index"]),
                     "ParentShards": [m.shard_id(right["index"]), "shardId-000000000001"],
                     "HashKeyRange": {"StartingHashKey": "1000", "EndingHashKey": str(m.MAX_HASH)}}]


def test_closing_puts_ending_sequence_past_records():
    s = _stream(1)
    last = m.micros(5000.0)  # a record stored "in the future" of the close time
    m.split(s, 0, 1 << 127, 2000.0, lambda i: last)
    assert s["shards"][0]["last"] == last + 1
    assert all(c["first"] > last for c in s["shards"][1:])


def test_adjacency_is_ordered():
    s = _stream(3)
    a, b, c = s["shards"]
    assert m.adjacent(a, b) and m.adjacent(b, c)
    assert not m.adjacent(b, a) and not m.adjacent(a, c)


@pytest.mark.parametrize("start,target,total", [(2, 4, 6), (4, 2, 6), (1, 2, 3), (3, 3, 3)])
def test_uniform_scaling_matches_aws_shard_counts(start, target, total):
    # kinesalite's updateShardCount tests against AWS: 2 -> 4 leaves 6 shards (2 closed),
    # 4 -> 2 leaves 6 shards (4 closed)
    s = _stream(start)
    m.uniform_scale(s, target, 2000.0, lambda i: -1)
    assert len(s["shards"]) == total
    opened = sorted(m.open_shards(s), key=lambda x: x["start"])
    assert [(x["start"], x["end"]) for x in opened] == m.even_ranges(target)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.data())
def test_uniform_scaling_any_allowed_target(start, data):
    target = data.draw(st.integers(max(1, (start + 1) // 2), 2 * start))
    s = _stream(start)
    m.uniform_scale(s, target, 2000.0, lambda i: -1)
    opened = sorted(m.open_shards(s), key=lambda x: x["start"])
    assert [(x["start"], x["end"]) for x in opened] == m.even_ranges(target)
    by_index = {x["index"]: x for x in s["shards"]}
    for shard in s["shards"]:
        parents = [p for p in (shard["parent"], shard["adjacent"]) if p is not None]
        assert len(parents) <= 2
        for p in parents:  # children cover only their parents' ranges and start after them
            parent = by_index[p]
            assert parent["closed"] is not None and shard["first"] > parent["last"]
        if parents:
            lo = min(by_index[p]["start"] for p in parents)
            hi = max(by_index[p]["end"] for p in parents)
            assert (shard["start"], shard["end"]) != (None, None)
            assert lo <= shard["start"] and shard["end"] <= hi


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 50), st.floats(0.01, 0.99)), max_size=25),
       st.lists(st.integers(0, m.MAX_HASH), min_size=1, max_size=20))
def test_random_resharding_keeps_a_partition_and_routes(ops, hashes):
    s = _stream(2)
    now = 2000.0
    for do_split, pick, frac in ops:
        now += 1
        opened = sorted(m.open_shards(s), key=lambda x: x["start"])
        shard = opened[pick % len(opened)]
        if do_split:
            width = shard["end"] - shard["start"]
            new_start = shard["start"] + 2 + int((width - 3) * frac) if width > 4 else None
            if new_start is not None and shard["start"] + 1 < new_start < shard["end"]:
                m.split(s, shard["index"], new_start, now, lambda i: -1)
        else:
            i = opened.index(shard)
            if i + 1 < len(opened):
                m.merge(s, shard["index"], opened[i + 1]["index"], now, lambda i: -1)
        _partition_ok(s)
    router = m.Router(s)
    for h in hashes:
        shard = router.route(h)
        assert shard["start"] <= h <= shard["end"] and shard["closed"] is None


# ------------------------------------------------------------------ transitions

def test_create_settles_to_active_with_shards():
    s = m.new_stream("s", "123456789012", "us-east-1", 100.0, shard_count=2, ready_at=100.5)
    assert s["status"] == "CREATING" and not s["activated"]
    assert m.settle(s, 100.2, lambda i: -1) is None
    assert m.settle(s, 100.6, lambda i: -1) == "changed"
    assert s["status"] == "ACTIVE" and s["activated"] and s["until"] is None
    assert all(x["first"] >= m.micros(100.6) for x in s["shards"])


def test_update_applies_action_at_end_and_delete_reports():
    s = _stream(1)
    m.begin(s, "UPDATING", {"op": "split", "shard": 0, "start": 1 << 127}, 2000.0)
    assert m.settle(s, 1999.0, lambda i: -1) is None and len(s["shards"]) == 1
    assert m.settle(s, 2000.0, lambda i: -1) == "changed"
    assert len(s["shards"]) == 3 and s["status"] == "ACTIVE"
    m.begin(s, "DELETING", None, 3000.0)
    assert m.settle(s, 3000.5, lambda i: -1) == "deleted"


def test_forced_settle_finishes_early():
    s = m.new_stream("s", "123456789012", "us-east-1", 100.0, shard_count=1, ready_at=10_000.0)
    assert m.settle(s, 101.0, lambda i: -1, force=True) == "changed"
    assert s["status"] == "ACTIVE"


def test_closed_shards_expire_after_retention():
    s = _stream(1)
    m.split(s, 0, 1 << 127, 2000.0, lambda i: -1)
    assert m.settle(s, 2000.0 + 23 * 3600, lambda i: -1) is None
    assert m.settle(s, 2001.0 + 24 * 3600, lambda i: -1) == "changed"
    assert [x["index"] for x in s["shards"]] == [1, 2]


# ------------------------------------------------------------------ ListShards filters

def test_list_shards_filters():
    s = _stream(1, now=0.0)  # created at 0, active at 1
    m.split(s, 0, 1 << 127, 1000.0, lambda i: -1)  # 0 closed at 1000; 1, 2 open from 1000
    ids = lambda shards: [x["index"] for x in shards]  # noqa: E731
    now = 2000.0
    assert ids(m.list_shards_filter(s, now, None, None, None)) == [0, 1, 2]
    assert ids(m.list_shards_filter(s, now, "FROM_TRIM_HORIZON", None, None)) == [0, 1, 2]
    assert ids(m.list_shards_filter(s, now, "AT_LATEST", None, None)) == [1, 2]
    assert ids(m.list_shards_filter(s, now, "AT_TRIM_HORIZON", None, None)) == [0]
    assert ids(m.list_shards_filter(s, now, "AFTER_SHARD_ID", 0, None)) == [1, 2]
    assert ids(m.list_shards_filter(s, now, "AT_TIMESTAMP", None, 500.0)) == [0]
    assert ids(m.list_shards_filter(s, now, "AT_TIMESTAMP", None, 1500.0)) == [1, 2]
    assert ids(m.list_shards_filter(s, now, "FROM_TIMESTAMP", None, 500.0)) == [0, 1, 2]
    assert ids(m.list_shards_filter(s, now, "FROM_TIMESTAMP", None, 1500.0)) == [1, 2]
    # a day later the trim horizon has moved past the split
    later = 1000.0 + 25 * 3600
    assert ids(m.list_shards_filter(s, later, "AT_TRIM_HORIZON", None, None)) == [1, 2]


# ------------------------------------------------------------------ tokens

def test_iterator_round_trip_and_tamper():
    token = m.encode_iterator("123456789012", "us-east-1", "123456789012:s", 3, (1 << 90) + 5, 1234.5)
    assert len(token) <= 512
    assert m.decode_iterator(token, "123456789012", "us-east-1") == ("123456789012:s", 3, (1 << 90) + 5, 1234.5)
    assert m.decode_iterator(token, "000000000000", "us-east-1") is None  # other account
    assert m.decode_iterator(token, "123456789012", "eu-west-1") is None
    bad = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert m.decode_iterator(bad, "123456789012", "us-east-1") is None
    assert m.decode_iterator("not an iterator", "123456789012", "us-east-1") is None
    long_name = "123456789012:" + "s" * 128
    assert len(m.encode_iterator("1", "r", long_name, 1, 1 << 99, 1.0)) <= 512


def test_page_token_round_trip():
    t = m.encode_page_token("a", "r", ["shards", "x", 1.5, None, 3])
    assert m.decode_page_token(t, "a", "r") == ["shards", "x", 1.5, None, 3]
    assert m.decode_page_token(t, "b", "r") is None
    assert m.decode_iterator(t, "a", "r") is None  # kinds do not mix


def test_aws_time_format():
    assert m.aws_time(0) == "Thu Jan 01 00:00:00 UTC 1970"


# ------------------------------------------------------------------ tags, throttling

@pytest.mark.parametrize("value,result", [
    ("ü0 _.", None), ("/=+-@:", None), ("abc;def", "chars"), ("abc\tdef", "chars"), ("a,b", "chars"),
    ("a%b", "percent"),
])
def test_tag_characters(value, result):
    assert m.invalid_tag_text([value]) == result


def test_bucket_admits_then_refills():
    b = m.Bucket(5, 0.0)
    for _ in range(5):
        assert b.can_take(1, 0.0)
        b.take(1, 0.0)
    assert not b.can_take(1, 0.0)
    assert b.can_take(1, 0.2)
    big = m.Bucket(100, 0.0)
    big.take(250, 0.0)  # debt
    assert not big.available(1.0) and big.available(2.6)

"""Kinesis Data Streams domain logic, pure: values in, values out, time passed in as ``now``.

Owns: hash-key ranges and partition-key hashing, shard ids, the sequence-number
layout, streams and shards as plain dicts (what ``store.py`` persists), status
transitions, resharding (split, merge, uniform scaling) with lineage, ListShards
filters, iterator and page-token encoding, tags, and the opt-in throughput
buckets. It must not know about storage keys, HTTP or asyncio.

Sequence numbers
----------------
AWS's are 56-digit decimals (observed: 49590338271490256608559692538361571095921575989136588898;
kinesalite's tests, run against AWS, check the length of 56). Ours are the
decimal of a 186-bit integer, so always 56 digits::

    bits 185..184  version, always 0b10 (hence the leading "4")
    bits 183..84   counter: microseconds since the epoch, made strictly increasing
                   per shard (max(previous + 1, now)); it is the record's arrival time
    bits  83..52   shard index
    bits  51..0    stream tag (from the stream id), so a number from another stream
                   or an earlier incarnation of the same name is recognised

Numeric order is arrival order within a shard and (almost) across a stream; a
child shard's numbers are all greater than its parents'; AT_TIMESTAMP is a seek
to ``counter >= timestamp`` and retention a cut at ``counter < now - retention``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import secrets
import string
import struct
from bisect import bisect_right
from datetime import datetime, timezone

# ------------------------------------------------------------------ limits

HASH_SPACE = 1 << 128
MAX_HASH = HASH_SPACE - 1
MAX_SHARD_INDEX = 2147483647

MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760  # 365 days (API reference, IncreaseStreamRetentionPeriod)
DEFAULT_RETENTION_HOURS = 24
DEFAULT_MAX_RECORD_KIB = 1024
PUT_RECORDS_MAX_RECORDS = 500
# "up to a limit of 5 MiB for the entire request, including partition keys"; the
# current API reference says 10 MiB now that records may be up to 10 MiB. We use
# 5 MiB for streams with the default 1 MiB records and 10 MiB for streams whose
# MaxRecordSizeInKiB was raised.
PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024
PUT_RECORDS_MAX_BYTES_LARGE = 10 * 1024 * 1024
GET_RECORDS_MAX_RECORDS = 10000
# Page sizes: "The default value is N. If you specify a value greater than N, at most N
# results are returned" (API reference: DescribeStream Limit, ListStreams Limit,
# ListStreamConsumers MaxResults: 100; ListShards MaxResults: 1000). The model lets
# clients send up to 10000, so the cap is applied here, not by validation.
DESCRIBE_STREAM_PAGE = 100
LIST_STREAMS_PAGE = 100
LIST_CONSUMERS_PAGE = 100
LIST_SHARDS_PAGE = 1000
GET_RECORDS_MAX_BYTES = 10 * 1024 * 1024
ITERATOR_TTL = 300.0  # seconds ("A shard iterator expires 5 minutes after it is returned")
NEXT_TOKEN_TTL = 300.0  # ListShards / ListStreamConsumers tokens
SUBSCRIPTION_TTL = 300.0  # SubscribeToShard: events "for up to 5 minutes"
SUBSCRIPTION_TAKEOVER = 5.0  # a second SubscribeToShard within 5 s -> ResourceInUseException
MAX_TAGS = 50
ON_DEMAND_INITIAL_SHARDS = 4
DEFAULT_SHARD_LIMIT = 500
ON_DEMAND_STREAM_LIMIT = 50
MAX_CONSUMERS = 20
MAX_CONSUMERS_ADVANTAGE = 50  # on-demand streams of an account in On-demand Advantage mode
MAX_CREATING_CONSUMERS = 5
SCALINGS_PER_DAY = 10  # UpdateShardCount "ten times per rolling 24-hour period per stream"
MAX_SHARDS_PER_STREAM = 10000
MAX_WARM_THROUGHPUT_MIBPS = 10240
METRICS = ("IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
           "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
           "IteratorAgeMilliseconds")

# opt-in throttling (CLOUDLET_KINESIS_THROTTLE=1): per shard, per second
WRITE_RECORDS_PER_SEC = 1000
WRITE_BYTES_PER_SEC = 1024 * 1024
READ_CALLS_PER_SEC = 5
READ_BYTES_PER_SEC = 2 * 1024 * 1024


# ------------------------------------------------------------------ hashing and ids

def hash_key(partition_key: str) -> int:
    """MD5 of the partition key (UTF-8) as an unsigned 128-bit integer."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8", "surrogatepass")).digest(), "big")


def even_ranges(n: int, start: int = 0, end: int = MAX_HASH) -> list[tuple[int, int]]:
    """``n`` contiguous ranges over ``[start, end]``, as AWS cuts them: boundaries at
    multiples of ``floor(size / n)``, the last range taking the remainder
    (3 shards: 0..113427455640312821154458202477256070484, ...)."""
    step = (end - start + 1) // n
    out = []
    for i in range(n):
        lo = start + i * step
        hi = start + (i + 1) * step - 1 if i < n - 1 else end
        out.append((lo, hi))
    return out


def shard_id(index: int) -> str:
    # Java's %012d: a negative index (only ever decoded from a foreign sequence number)
    # prints as shardId--02147483648
    return f"shardId-{index:012d}"


_SHARD_TAIL = re.compile(r"(?:^|-)([0-9]+)$")


def parse_shard_id(text: str) -> int | None:
    """AWS accepts any ShardId whose part after the last '-' (or the whole id) is a
    number up to 2^31-1: 'shardId-000000000001', 'shard-1', '1' and 'x-01' all name
    shard 1 (observed by kinesalite's tests against AWS). None for anything else."""
    m = _SHARD_TAIL.search(text)
    if not m:
        return None
    value = int(m.group(1))
    return value if value <= MAX_SHARD_INDEX else None


def new_stream_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20)) + "-" + \
        "".join(secrets.choice(alphabet) for _ in range(3))


def stream_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


def consumer_arn(stream_arn_: str, name: str, created: float) -> str:
    return f"{stream_arn_}/consumer/{name}:{int(created)}"


_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:([^:]*):(\d{12}):stream/([a-zA-Z0-9_.-]+)$")
_CONSUMER_ARN = re.compile(
    r"^arn:aws[a-z-]*:kinesis:([^:]*):(\d{12}):stream/([a-zA-Z0-9_.-]+)/consumer/([a-zA-Z0-9_.-]+):([0-9]+)$")


def parse_stream_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, stream name) or None."""
    m = _STREAM_ARN.match(arn)
    return (m.group(1), m.group(2), m.group(3)) if m else None


def parse_consumer_arn(arn: str) -> tuple[str, str, str, str, int] | None:
    """(region, account, stream name, consumer name, creation epoch seconds) or None."""
    m = _CONSUMER_ARN.match(arn)
    return (m.group(1), m.group(2), m.group(3), m.group(4), int(m.group(5))) if m else None


# ------------------------------------------------------------------ sequence numbers

_VERSION = 2
_TAG_BITS = 52
_SHARD_BITS = 32
_COUNTER_SHIFT = _TAG_BITS + _SHARD_BITS  # 84
_VERSION_SHIFT = 184
_COUNTER_MASK = (1 << (_VERSION_SHIFT - _COUNTER_SHIFT)) - 1


def stream_tag(stream_id: str) -> int:
    return int.from_bytes(hashlib.sha1(stream_id.encode()).digest()[:7], "big") >> (56 - _TAG_BITS)


def encode_seq(counter: int, shard_index: int, tag: int) -> str:
    return str((_VERSION << _VERSION_SHIFT) | (counter << _COUNTER_SHIFT) | (shard_index << _TAG_BITS) | tag)


def decode_seq(text: str) -> tuple[int, int, int] | None:
    """(counter, shard index, stream tag), or None if it is not one of ours."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        return None
    if value >> _VERSION_SHIFT != _VERSION:
        return None
    counter = (value >> _COUNTER_SHIFT) & _COUNTER_MASK
    shard = (value >> _TAG_BITS) & ((1 << _SHARD_BITS) - 1)
    tag = value & ((1 << _TAG_BITS) - 1)
    return counter, shard, tag


_LEGACY_LIMIT = 1 << 129  # AWS's version-0 numbers lie below 2^129
_LEGACY_BASE = 1 << 124  # ... and a shorter one is read as if 2^124 were added
_LEGACY_MAX_CREATE_SECS = 16025175000


def legacy_seq_shard(text: str) -> int | None:
    """The shard index a short, version-0 sequence number encodes (the 16 bits after
    hex digit 28 of ``2^124 + n``), as AWS reads it; None when the number is not of
    that form or its creation time (hex digits 1-9) is out of range. AWS answers
    'Invalid StartingSequenceNumber. It encodes shardId-000000000005, while it was used
    in a call to a shard with shardId-000000000000' for '5' (kinesalite's
    getShardIterator tests, run against AWS; the layout is kinesalite's parseSequence)."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        return None
    if not 0 <= value < _LEGACY_LIMIT:
        return None
    if value < _LEGACY_BASE:
        value += _LEGACY_BASE
    digits = format(value, "x")
    if int(digits[1:10], 16) >= _LEGACY_MAX_CREATE_SECS:
        return None
    return int(digits[28:32], 16)


_AWS_V2_LOW = 1 << 185
_AWS_V2_HIGH = 3 << 184
_OUR_EARLIEST_COUNTER = 1420070400 * 1_000_000  # 2015-01-01: no counter of ours is older


def plausible_counter(counter: int, now: float) -> bool:
    """Whether a decoded counter can be one of ours: an arrival time between 2015 and a
    minute from now (numbers of AWS's layout often decode to 0 or to centuries ahead)."""
    return _OUR_EARLIEST_COUNTER <= counter <= micros(now + 60)


def aws_ordering_number_ok(text: str, now: float) -> bool:
    """Whether AWS takes ``text`` as a PutRecord SequenceNumberForOrdering, read in AWS's
    own layout (kinesalite's parseSequence): version 2 (last hex digit) numbers in
    (2^185, 1.5 * 2^185) whose sequence index starts below 8 and whose time (hex digits
    29-37) is not in the future, version 1 likewise (time in digits 13-21). kinesalite's putRecord
    tests, run against AWS: 'all f', 'all 0', 'now' are taken; version 0/4 at 2^185,
    a leading 1 or 3, an 8 in the index, a future time and a too-large date are
    'ExclusiveMinimumSequenceNumber ... is invalid.' (version 3 is an InternalFailure)."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        return False
    if not _AWS_V2_LOW < value < _AWS_V2_HIGH:
        # version 0 (below 2^129): AWS's tests only show one refused (a too-large date), so
        # none is taken here
        return False
    digits = format(value, "x")
    version = int(digits[-1], 16)
    if version == 2:
        return int(digits[11], 16) <= 7 and int(digits[29:38], 16) <= now
    if version == 1:
        return int(digits[13:22], 16) <= now
    return False


def aws_seq_shard(text: str) -> int | None:
    """The shard index a sequence number of AWS's own layout encodes (hex digits 38-45 of
    a version 1 or 2 number, read as a signed 32-bit int; the low 16 bits of a version 0
    one: ``legacy_seq_shard``), or None when AWS finds it invalid (kinesalite's
    getShardIterator tests, run against AWS: an 8 starting the sequence index of a
    version 2 number is 'is invalid.', an 8 starting its shard index encodes
    'shardId--02147483648')."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        return None
    if not _AWS_V2_LOW < value < _AWS_V2_HIGH:
        return legacy_seq_shard(text)
    digits = format(value, "x")
    version = int(digits[-1], 16)
    if version not in (1, 2) or (version == 2 and int(digits[11], 16) > 7):
        return None
    shard = int(digits[38:46], 16)
    return shard - (1 << 32) if shard >= 1 << 31 else shard


def micros(t: float) -> int:
    return int(t * 1_000_000)


def next_counter(last: int, now: float) -> int:
    """A record's counter: its arrival time in microseconds, nudged past the previous one."""
    return max(last + 1, micros(now))


# ------------------------------------------------------------------ streams and shards

def new_shard(index: int, start_hash: int, end_hash: int, start_counter: int, now: float,
              parent: int | None = None, adjacent: int | None = None) -> dict:
    return {"index": index, "start": start_hash, "end": end_hash, "parent": parent, "adjacent": adjacent,
            "first": start_counter, "last": None, "created": now, "closed": None}


def new_stream(name: str, account: str, region: str, now: float, *, shard_count: int,
               mode: str = "PROVISIONED", tags: dict | None = None, max_record_kib: int | None = None,
               warm_mibps: int | None = None, ready_at: float) -> dict:
    sid = new_stream_id()
    start = micros(now)
    shards = [new_shard(i, lo, hi, start, now) for i, (lo, hi) in enumerate(even_ranges(shard_count))]
    return {
        "name": name, "arn": stream_arn(region, account, name), "id": sid, "tag": stream_tag(sid),
        "created": now, "status": "CREATING", "until": ready_at, "pending": [{"op": "activate"}],
        "mode": mode, "retention": DEFAULT_RETENTION_HOURS, "shards": shards, "next_shard": shard_count,
        "encryption": "NONE", "key_id": None, "metrics": [], "max_record_kib": max_record_kib or DEFAULT_MAX_RECORD_KIB,
        "warm_target": warm_mibps, "warm_current": None, "tags": dict(tags or {}), "policy": None,
        "scalings": [], "mode_changes": [], "activated": False,
    }


def open_shards(stream: dict) -> list[dict]:
    return [s for s in stream["shards"] if s["closed"] is None]


def find_shard(stream: dict, index: int) -> dict | None:
    for s in stream["shards"]:
        if s["index"] == index:
            return s
    return None


class Router:
    """Hash key -> open shard, by binary search over the open shards' start keys."""

    __slots__ = ("starts", "shards")

    def __init__(self, stream: dict):
        shards = sorted(open_shards(stream), key=lambda s: s["start"])
        self.shards = shards
        self.starts = [s["start"] for s in shards]

    def route(self, hash_value: int) -> dict:
        return self.shards[bisect_right(self.starts, hash_value) - 1]


def shard_view(shard: dict, tag: int) -> dict:
    """The API's Shard structure."""
    out = {"ShardId": shard_id(shard["index"])}
    if shard["parent"] is not None:
        out["ParentShardId"] = shard_id(shard["parent"])
    if shard["adjacent"] is not None:
        out["AdjacentParentShardId"] = shard_id(shard["adjacent"])
    out["HashKeyRange"] = {"StartingHashKey": str(shard["start"]), "EndingHashKey": str(shard["end"])}
    rng = {"StartingSequenceNumber": encode_seq(shard["first"], shard["index"], tag)}
    if shard["closed"] is not None:
        rng["EndingSequenceNumber"] = encode_seq(shard["last"], shard["index"], tag)
    out["SequenceNumberRange"] = rng
    return out


def children_of(stream: dict, index: int) -> list[dict]:
    return [s for s in stream["shards"] if s["parent"] == index or s["adjacent"] == index]


def child_shards_view(stream: dict, index: int) -> list[dict]:
    """ChildShards of a closed shard, as GetRecords and SubscribeToShard report them."""
    out = []
    for child in children_of(stream, index):
        parents = [shard_id(child["parent"])]
        if child["adjacent"] is not None:
            parents.append(shard_id(child["adjacent"]))
        out.append({"ShardId": shard_id(child["index"]), "ParentShards": parents,
                    "HashKeyRange": {"StartingHashKey": str(child["start"]), "EndingHashKey": str(child["end"])}})
    return out


def trim_horizon_counter(stream: dict, now: float) -> int:
    """Records below this counter have expired. ``floor`` keeps what expired before a
    retention increase expired ("it does not make previous, expired data ... accessible",
    IncreaseStreamRetentionPeriod)."""
    return max(micros(now - stream["retention"] * 3600), stream.get("floor", 0))


# ------------------------------------------------------------------ resharding

def close_shard(shard: dict, now: float, last_counter) -> int:
    """Close ``shard``; its EndingSequenceNumber lies past every record in it.
    ``last_counter(index)`` is the highest counter stored in the shard (or -1)."""
    end = max(micros(now), last_counter(shard["index"]) + 1, shard["first"])
    shard["last"] = end
    shard["closed"] = now
    return end


def split(stream: dict, index: int, new_start: int, now: float, last_counter) -> tuple[dict, dict]:
    parent = find_shard(stream, index)
    end = close_shard(parent, now, last_counter)
    i = stream["next_shard"]
    left = new_shard(i, parent["start"], new_start - 1, end + 1, now, parent=index)
    right = new_shard(i + 1, new_start, parent["end"], end + 1, now, parent=index)
    stream["shards"] += [left, right]
    stream["next_shard"] = i + 2
    return left, right


def merge(stream: dict, index: int, adjacent: int, now: float, last_counter) -> dict:
    a, b = find_shard(stream, index), find_shard(stream, adjacent)
    end = max(close_shard(a, now, last_counter), close_shard(b, now, last_counter))
    i = stream["next_shard"]
    child = new_shard(i, min(a["start"], b["start"]), max(a["end"], b["end"]), end + 1, now,
                      parent=index, adjacent=adjacent)
    stream["shards"].append(child)
    stream["next_shard"] = i + 1
    return child


def adjacent(a: dict, b: dict) -> bool:
    """MergeShards' rule: ShardToMerge's range followed immediately by AdjacentShardToMerge's
    (kinesalite's tests against AWS show the inverted order is refused)."""
    return a["end"] + 1 == b["start"]


def uniform_scale(stream: dict, target: int, now: float, last_counter) -> None:
    """UpdateShardCount UNIFORM_SCALING: reach ``target`` open shards of equal size by
    real splits and merges, so lineage stays a chain of one- or two-parent shards.
    First split every open shard at each target boundary inside it, then merge the
    pieces that fall into one target range. Intermediate shards are short-lived, as
    AWS documents ("This can cause short-lived shards to be created")."""
    bounds = [lo for lo, _ in even_ranges(target)][1:]
    for b in bounds:
        for s in open_shards(stream):
            if s["start"] < b <= s["end"]:
                split(stream, s["index"], b, now, last_counter)
                break
    for lo, hi in even_ranges(target):
        while True:
            inside = sorted((s for s in open_shards(stream) if lo <= s["start"] and s["end"] <= hi),
                            key=lambda s: s["start"])
            if len(inside) <= 1:
                break
            merge(stream, inside[0]["index"], inside[1]["index"], now, last_counter)


def expire_closed_shards(stream: dict, now: float) -> bool:
    """Drop closed shards whose records have all passed retention (ListShards 'does
    not list expired shards')."""
    keep = [s for s in stream["shards"]
            if s["closed"] is None or s["closed"] + stream["retention"] * 3600 > now]
    changed = len(keep) != len(stream["shards"])
    stream["shards"] = keep
    return changed


# ------------------------------------------------------------------ status transitions

def begin(stream: dict, status: str, action: dict | None, ready_at: float) -> None:
    """Enter a transitional status; ``action`` is applied when it ends."""
    stream["status"] = status
    stream["until"] = ready_at
    stream["pending"] = [action] if action else []


def due(stream: dict, now: float) -> bool:
    return stream["until"] is not None and now >= stream["until"]


def settle(stream: dict, now: float, last_counter, force: bool = False) -> str | None:
    """Finish a transition whose time has come. Returns 'deleted' when a DELETING
    stream is gone, 'changed' when the dict changed, None otherwise."""
    changed = expire_closed_shards(stream, now)
    if stream["until"] is None or (not force and now < stream["until"]):
        return "changed" if changed else None
    if stream["status"] == "DELETING":
        return "deleted"
    # applied at the moment it is noticed: records written in between went to the
    # old shards, and closing them now puts their EndingSequenceNumber past those
    for action in stream["pending"]:
        apply_action(stream, action, max(now, stream["created"]), last_counter)
    stream["status"] = "ACTIVE"
    stream["until"] = None
    stream["pending"] = []
    return "changed"


def apply_action(stream: dict, action: dict, now: float, last_counter) -> None:
    op = action["op"]
    if op == "activate":
        stream["activated"] = True
        start = micros(now)
        for s in stream["shards"]:
            s["first"] = max(s["first"], start)
            s["created"] = now
    elif op == "split":
        split(stream, action["shard"], action["start"], now, last_counter)
    elif op == "merge":
        merge(stream, action["shard"], action["adjacent"], now, last_counter)
    elif op == "scale":
        uniform_scale(stream, action["target"], now, last_counter)
    elif op == "encryption":
        stream["encryption"] = action["type"]
        stream["key_id"] = action["key"]
    elif op == "metrics":
        stream["metrics"] = action["metrics"]
    elif op == "mode":
        stream["mode"] = action["mode"]
        if action["mode"] == "ON_DEMAND":
            stream["warm_target"] = action.get("warm")
            stream["warm_current"] = action.get("warm")
        else:
            stream["warm_target"] = stream["warm_current"] = None
            stream.pop("distribution", None)  # provisioned streams route by partition key
    elif op == "warm":
        stream["warm_target"] = stream["warm_current"] = action["mibps"]
    elif op == "max_record":
        stream["max_record_kib"] = action["kib"]
    elif op == "retention":
        stream["retention"] = action["hours"]
    else:  # pragma: no cover - a bug, not user input
        raise ValueError(f"unknown pending action {op}")


def page_size(requested: int | None, cap: int) -> int:
    """The number of items a list call returns: the request's limit, at most ``cap``,
    which is also the default."""
    return min(requested or cap, cap)


def expand_metrics(metrics: list[str]) -> list[str]:
    if "ALL" in metrics:
        return list(METRICS)
    return [m for m in METRICS if m in metrics]


# ------------------------------------------------------------------ ListShards filters

def list_shards_filter(stream: dict, now: float, kind: str | None, after: int | None,
                       timestamp: float | None) -> list[dict]:
    """The shards ListShards returns for a ShardFilter (API reference, ShardFilter.Type)."""
    shards = sorted(stream["shards"], key=lambda s: s["index"])
    if not shards:
        return []
    horizon = max(now - stream["retention"] * 3600, min(s["created"] for s in shards))
    if after is not None:
        shards = [s for s in shards if s["index"] > after]
    if kind in (None, "FROM_TRIM_HORIZON", "AFTER_SHARD_ID"):
        return shards
    if kind == "AT_LATEST":
        return [s for s in shards if s["closed"] is None]
    if kind == "AT_TRIM_HORIZON":
        return [s for s in shards if _open_at(s, horizon)]
    t = max(timestamp if timestamp is not None else horizon, horizon)
    if kind == "AT_TIMESTAMP":
        return [s for s in shards if _open_at(s, t)]
    if kind == "FROM_TIMESTAMP":
        return [s for s in shards if s["closed"] is None or s["closed"] >= t]
    raise ValueError(kind)


def _open_at(shard: dict, t: float) -> bool:
    return shard["created"] <= t and (shard["closed"] is None or shard["closed"] >= t)


# ------------------------------------------------------------------ opaque tokens

_KEY = b"cloudlet-kinesis-token-v1"


def _seal(kind: bytes, body: bytes, account: str, region: str) -> str:
    mac = hmac.new(_KEY, kind + account.encode() + region.encode() + body, hashlib.blake2s).digest()[:10]
    return base64.b64encode(kind + body + mac).decode()


def _open(kind: bytes, token: str, account: str, region: str) -> bytes | None:
    try:
        raw = base64.b64decode(token, validate=True)
    except (ValueError, TypeError):
        return None
    if len(raw) < len(kind) + 10 or not raw.startswith(kind):
        return None
    body, mac = raw[len(kind):-10], raw[-10:]
    good = hmac.new(_KEY, kind + account.encode() + region.encode() + body, hashlib.blake2s).digest()[:10]
    return body if hmac.compare_digest(mac, good) else None


# issued ms, shard index, position counter (hi, lo), nonce. The nonce makes every iterator
# handed out a new one: AWS's GetRecords returns a NextShardIterator different from the
# iterator it was given even when nothing was read (LocalStack's AWS-validated
# test_get_records_next_shard_iterator); without it two calls in one millisecond at the same
# position gave the same token.
_ITER = struct.Struct(">QIQQI")
_ITER_KIND = b"\x02I"  # \x01I: the layout without the nonce
_nonce = random.getrandbits  # not secret (the MAC guards the token), and 10x cheaper than secrets


def encode_iterator(account: str, region: str, stream: str, shard_index: int, position: int, issued: float) -> str:
    """An opaque iterator: read ``shard_index`` of stream ``stream`` from the first
    record whose counter is >= ``position``."""
    body = _ITER.pack(int(issued * 1000), shard_index, position >> 64, position & ((1 << 64) - 1),
                      _nonce(32)) + stream.encode()
    return _seal(_ITER_KIND, body, account, region)


def decode_iterator(token: str, account: str, region: str) -> tuple[str, int, int, float] | None:
    """(stream name, shard index, position, issued epoch seconds) or None."""
    body = _open(_ITER_KIND, token, account, region)
    if body is None or len(body) < _ITER.size:
        return None
    issued_ms, shard, hi, lo, _ = _ITER.unpack_from(body)
    try:
        name = body[_ITER.size:].decode()
    except UnicodeDecodeError:
        return None
    return name, shard, (hi << 64) | lo, issued_ms / 1000


def encode_page_token(account: str, region: str, parts: list) -> str:
    import orjson  # local: only pagination needs it

    return _seal(b"\x01P", orjson.dumps(parts), account, region)


def decode_page_token(token: str, account: str, region: str) -> list | None:
    import orjson

    body = _open(b"\x01P", token, account, region)
    if body is None:
        return None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def aws_time(t: float) -> str:
    """How Kinesis prints instants in messages: 'Mon Jan 01 00:00:00 UTC 2024'."""
    return datetime.fromtimestamp(t, timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")


# ------------------------------------------------------------------ tags

# AWS: "Some tags contain invalid characters. Valid characters: Unicode letters,
# digits, white space, _ . / = + - % @ :." (kinesalite's tests, observed on AWS)
_TAG_CHARS = re.compile(r"^[\w\s.:/=+\-@%]*$", re.UNICODE)


def invalid_tag_text(values) -> str | None:
    """'chars' for characters outside the allowed set, 'percent' for '%', else None.
    Tabs and newlines count as invalid although they are white space."""
    for v in values:
        if any(c in "\t\n\r\x0b\x0c" for c in v) or not _TAG_CHARS.match(v):
            return "chars"
    for v in values:
        if "%" in v:
            return "percent"
    return None


# ------------------------------------------------------------------ throttling

class Bucket:
    """A token bucket that may go into debt: a request is admitted while the bucket
    is not empty, then charged in full (so one large read costs later calls)."""

    __slots__ = ("rate", "tokens", "at")

    def __init__(self, rate: float, now: float):
        self.rate = rate
        self.tokens = rate
        self.at = now

    def refill(self, now: float) -> None:
        if now > self.at:
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now

    def available(self, now: float) -> bool:
        self.refill(now)
        return self.tokens > 0

    def can_take(self, amount: float, now: float) -> bool:
        self.refill(now)
        return self.tokens >= amount

    def take(self, amount: float, now: float) -> None:
        self.refill(now)
        self.tokens -= amount

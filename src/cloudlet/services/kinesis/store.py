"""Kinesis persistence: key layout and record encoding over the ordered store.

Every key starts with ``("kinesis", account, region)``::

    (..., "stream", name)                      stream dict (models.new_stream), shards and tags inside
    (..., "rec", stream_id, shard, counter)    one record: flags | partition key length | key | data
    (..., "consumer", stream_id, name)         consumer dict
    (..., "gc", stream_id)                     records of a deleted stream still to be removed
    (..., "settings")                          account settings

Records are keyed by the stream's id, not its name, so a stream deleted and
created again under the same name starts empty while the old records are being
collected. Functions here take an open transaction and never await.
"""

from __future__ import annotations

import struct

from cloudlet.services.kinesis import models
from cloudlet.storage.codec import dumps, loads

_ROOT = "kinesis"
_REC_HEAD = struct.Struct(">BH")
ENCRYPTED = 1


def _base(account: str, region: str) -> tuple:
    return (_ROOT, account, region)


# ------------------------------------------------------------------ streams

def stream_key(account: str, region: str, name: str) -> tuple:
    return (_ROOT, account, region, "stream", name)


def load_stream(tx, account: str, region: str, name: str) -> dict | None:
    raw = tx.get(stream_key(account, region, name))
    return loads(raw) if raw is not None else None


def save_stream(tx, account: str, region: str, stream: dict) -> None:
    tx.put(stream_key(account, region, stream["name"]), dumps(stream))


def iter_streams(tx, account: str, region: str, after: str | None = None):
    prefix = (_ROOT, account, region, "stream")
    start = prefix + (after + "\x00",) if after is not None else None
    for _key, raw in tx.range(start=start, prefix=prefix):
        yield loads(raw)


def account_regions(tx):
    """Every (account, region) with Kinesis data, by skipping from one to the next
    rather than walking their records."""
    start = None
    while True:
        found = None
        for key, _raw in tx.range(start=start, prefix=(_ROOT,), limit=1):
            found = key
        if found is None:
            return
        account, region = found[1], found[2]
        yield account, region
        # strings end in 0x00 in the key encoding: region + "\x00" sorts after every key
        # of (account, region, ...)
        start = (_ROOT, account, region + "\x00")


def all_regions_with_streams(tx):
    """(account, region, stream name) of every stream in the store."""
    out = []
    for account, region in list(account_regions(tx)):
        for key, _raw in tx.range(prefix=(_ROOT, account, region, "stream")):
            out.append((account, region, key[4]))
    return out


def delete_stream(tx, account: str, region: str, stream: dict) -> None:
    """Remove the stream and its consumers now; leave its records to the collector."""
    tx.delete(stream_key(account, region, stream["name"]))
    tx.delete_range(prefix=(_ROOT, account, region, "consumer", stream["id"]))
    tx.put((_ROOT, account, region, "gc", stream["id"]), b"")


def settle_stream(tx, account: str, region: str, stream: dict, now: float, force: bool = False) -> dict | None:
    """Apply a due status transition (and expire old closed shards); None once deleted."""
    outcome = models.settle(stream, now, lambda i: last_counter(tx, account, region, stream["id"], i), force)
    if outcome == "deleted":
        delete_stream(tx, account, region, stream)
        return None
    if outcome == "changed":
        save_stream(tx, account, region, stream)
    return stream


def get_stream(tx, account: str, region: str, name: str, now: float) -> dict | None:
    stream = load_stream(tx, account, region, name)
    if stream is None:
        return None
    return settle_stream(tx, account, region, stream, now)


# ------------------------------------------------------------------ records

def records_prefix(account: str, region: str, stream_id: str, shard: int) -> tuple:
    return (_ROOT, account, region, "rec", stream_id, shard)


def encode_record(partition_key: str, data: bytes, flags: int) -> bytes:
    pk = partition_key.encode("utf-8", "surrogatepass")
    return _REC_HEAD.pack(flags, len(pk)) + pk + data


def decode_record(raw: bytes) -> tuple[str, bytes, int]:
    flags, n = _REC_HEAD.unpack_from(raw)
    start = _REC_HEAD.size
    return raw[start:start + n].decode("utf-8", "surrogatepass"), raw[start + n:], flags


def last_counter(tx, account: str, region: str, stream_id: str, shard: int) -> int:
    for key, _raw in tx.range(prefix=records_prefix(account, region, stream_id, shard), reverse=True, limit=1):
        return key[-1]
    return -1


def put_record(tx, account: str, region: str, stream_id: str, shard: int, counter: int,
               partition_key: str, data: bytes, flags: int) -> None:
    tx.put(records_prefix(account, region, stream_id, shard) + (counter,), encode_record(partition_key, data, flags))


def read_records(tx, account: str, region: str, stream_id: str, shard: int, start: int, limit: int):
    """Up to ``limit`` (counter, raw value) pairs from counter ``start`` on."""
    prefix = records_prefix(account, region, stream_id, shard)
    return [(key[-1], raw) for key, raw in tx.range(start=prefix + (start,), prefix=prefix, limit=limit)]


def first_counter_at_or_after(tx, account: str, region: str, stream_id: str, shard: int, start: int) -> int | None:
    for counter, _raw in read_records(tx, account, region, stream_id, shard, start, 1):
        return counter
    return None


def trim_records(tx, account: str, region: str, stream_id: str, shard: int, before: int, max_keys: int) -> int:
    """Delete up to ``max_keys`` records with counter < ``before``; how many went."""
    prefix = records_prefix(account, region, stream_id, shard)
    keys = [key for key, _ in tx.range(start=prefix, end=prefix + (before,), prefix=prefix, limit=max_keys)]
    for key in keys:
        tx.delete(key)
    return len(keys)


def pending_gc(tx, limit: int = 100):
    """(account, region, stream id) of deleted streams whose records remain."""
    out = []
    for account, region in list(account_regions(tx)):
        for key, _raw in tx.range(prefix=(_ROOT, account, region, "gc"), limit=limit - len(out)):
            out.append((account, region, key[4]))
        if len(out) >= limit:
            break
    return out


def collect(tx, account: str, region: str, stream_id: str, max_keys: int) -> bool:
    """Delete up to ``max_keys`` records of a deleted stream; True when none remain."""
    prefix = (_ROOT, account, region, "rec", stream_id)
    keys = [key for key, _ in tx.range(prefix=prefix, limit=max_keys)]
    for key in keys:
        tx.delete(key)
    if len(keys) < max_keys:
        tx.delete((_ROOT, account, region, "gc", stream_id))
        return True
    return False


# ------------------------------------------------------------------ consumers

def consumer_key(account: str, region: str, stream_id: str, name: str) -> tuple:
    return (_ROOT, account, region, "consumer", stream_id, name)


def load_consumer(tx, account: str, region: str, stream_id: str, name: str) -> dict | None:
    raw = tx.get(consumer_key(account, region, stream_id, name))
    return loads(raw) if raw is not None else None


def save_consumer(tx, account: str, region: str, stream_id: str, consumer: dict) -> None:
    tx.put(consumer_key(account, region, stream_id, consumer["name"]), dumps(consumer))


def delete_consumer(tx, account: str, region: str, stream_id: str, name: str) -> None:
    tx.delete(consumer_key(account, region, stream_id, name))


def settle_consumer(tx, account: str, region: str, stream_id: str, consumer: dict, now: float,
                    force: bool = False) -> dict | None:
    """CREATING -> ACTIVE and DELETING -> gone once their time has come."""
    if consumer["until"] is None or (not force and now < consumer["until"]):
        return consumer
    if consumer["status"] == "DELETING":
        delete_consumer(tx, account, region, stream_id, consumer["name"])
        return None
    consumer["status"] = "ACTIVE"
    consumer["until"] = None
    save_consumer(tx, account, region, stream_id, consumer)
    return consumer


def iter_consumers(tx, account: str, region: str, stream_id: str, now: float, after: str | None = None):
    prefix = (_ROOT, account, region, "consumer", stream_id)
    start = prefix + (after + "\x00",) if after is not None else None
    for _key, raw in tx.range(start=start, prefix=prefix):
        consumer = settle_consumer(tx, account, region, stream_id, loads(raw), now)
        if consumer is not None:
            yield consumer


# ------------------------------------------------------------------ account settings

def load_settings(tx, account: str, region: str) -> dict:
    raw = tx.get(_base(account, region) + ("settings",))
    return loads(raw) if raw is not None else {"commitment": "DISABLED"}


def save_settings(tx, account: str, region: str, settings: dict) -> None:
    tx.put(_base(account, region) + ("settings",), dumps(settings))

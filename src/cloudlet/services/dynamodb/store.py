"""DynamoDB persistence: where tables, items and index entries live in the store.

Layout (every key starts with account and region)::

    ("ddb", acct, region, "table", name)                                -> table record
    ("ddb", acct, region, "data", tid, "i", bucket, hk[, rk])           -> item record (size, item)
    ("ddb", acct, region, "data", tid, "x", index, bucket, ihk[, irk], hk[, rk]) -> item record (size, projected item)
    ("ddb", acct, region, "data", tid, "e", expiry, hk[, rk])           -> b""  (TTL queue)
    ("ddb", acct, region, "data", tid, "s")                             -> counters
    ("ddb", acct, region, "data", tid, "c", hk)                         -> item collection bytes (LSI tables)
    ("ddb", acct, region, "token", client_request_token)                -> TransactWriteItems result
    ("ddb", "tokx", expires, acct, region, client_request_token)        -> b"" (tokens by expiry, for pruning)
    ("ddb", "gc", acct, region, tid)                                    -> b"" (data awaiting deletion)
    ("ddb", "stream", acct, region, name, label)                        -> stream record (DynamoDB Streams)
    ("ddb", acct, region, "srec", name, label, seq)                     -> [size, stream record] (see "streams")

A global table (version 2019.11.21) is one table of the same name in each of
its regions; each replica's record lists the group's regions (``_Replicas``,
see "global tables" below).

``tid`` is the table's id (a UUID), so a deleted table's data can be removed
in the background while a new table of the same name is already in use.
``bucket`` is 4 bytes of a hash of the partition key: items are laid out in
hash order as DynamoDB's partitions are, which is what makes Scan's
``Segment``/``TotalSegments`` a contiguous key range each; within a partition
the order is the sort key's, by ``storage.keys`` (numbers numerically, strings
and binaries by unsigned bytes -- DynamoDB's order). GetItem is one point read
and a Query page one range read: O(log n + page).

Functions here take an open transaction; callers never hold one across an await.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timezone
from decimal import Decimal
from random import getrandbits

import orjson

from cloudlet.storage import codec, keys as keycodec
from cloudlet.services.dynamodb import history, values as V
from cloudlet.services.dynamodb.errors import ItemCollectionSizeLimitExceeded
from cloudlet.services.dynamodb.schema import Index, Schema, compile_schema

# Sorts after every S/N/B key part: an exclusive upper bound for "this value and
# anything extending it".
TOP = Decimal("Infinity")


@functools.lru_cache(maxsize=1 << 16, typed=True)
def bucket(part) -> bytes:
    """4 bytes of a hash of a partition key part (cached: a write reads and
    writes the same key, and hot keys repeat)."""
    return hashlib.md5(keycodec.pack((part,))).digest()[:4]


def table_key(acct: str, region: str, name: str) -> tuple:
    return ("ddb", acct, region, "table", name)


def tables_prefix(acct: str, region: str) -> tuple:
    return ("ddb", acct, region, "table")


def data_prefix(acct: str, region: str, tid: str) -> tuple:
    return ("ddb", acct, region, "data", tid)


def items_prefix(acct: str, region: str, tid: str) -> tuple:
    return ("ddb", acct, region, "data", tid, "i")


def item_key(acct: str, region: str, tid: str, parts: tuple) -> tuple:
    return ("ddb", acct, region, "data", tid, "i", bucket(parts[0])) + parts


@functools.lru_cache(maxsize=1024)
def _packed_items_prefix(acct: str, region: str, tid: str) -> bytes:
    return keycodec.pack(items_prefix(acct, region, tid))


@functools.lru_cache(maxsize=1 << 16)
def _bucket_elem(hk: bytes) -> bytes:
    """The packed ``bucket`` of a packed partition key part (``hk`` is ``pack((part,))``)."""
    return keycodec.bytes_elem(hashlib.md5(hk).digest()[:4])


@functools.lru_cache(maxsize=4096)
def packed_item_key(acct: str, region: str, tid: str, parts: tuple) -> bytes:
    """``item_key`` packed, remembered: a write reads the old item and writes
    the new one under the same key. (Key parts are str, bytes or Decimal, and
    equal Decimals pack alike, so equal arguments mean equal keys.) Built by
    concatenation, the partition key packed once for its bucket and the key:
    0.9 us (was 1.3) for a key whose bucket is remembered, 2.5 us (was 3.4) for
    one that is not (a large table's)."""
    hk = keycodec.pack(parts[:1])
    key = _packed_items_prefix(acct, region, tid) + _bucket_elem(hk) + hk
    return key + keycodec.pack(parts[1:]) if len(parts) > 1 else key


def partition_prefix(acct: str, region: str, tid: str, hk) -> tuple:
    return ("ddb", acct, region, "data", tid, "i", bucket(hk), hk)


def index_prefix(acct: str, region: str, tid: str, index: str) -> tuple:
    return ("ddb", acct, region, "data", tid, "x", index)


def index_partition_prefix(acct: str, region: str, tid: str, index: str, ihk) -> tuple:
    return ("ddb", acct, region, "data", tid, "x", index, bucket(ihk), ihk)


def index_key(acct, region, tid, index: str, iparts: tuple, tparts: tuple) -> tuple:
    return ("ddb", acct, region, "data", tid, "x", index, bucket(iparts[0])) + iparts + tparts


def ttl_prefix(acct, region, tid) -> tuple:
    return ("ddb", acct, region, "data", tid, "e")


@functools.lru_cache(maxsize=1024)
def stats_key(acct, region, tid) -> bytes:
    return keycodec.pack(("ddb", acct, region, "data", tid, "s"))


def collection_key(acct, region, tid, hk) -> tuple:
    return ("ddb", acct, region, "data", tid, "c", hk)


def token_key(acct, region, token: str) -> tuple:
    return ("ddb", acct, region, "token", token)


TOKEN_EXPIRY_PREFIX = ("ddb", "tokx")


def token_expiry_key(expires: float, acct, region, token: str) -> tuple:
    return ("ddb", "tokx", expires, acct, region, token)


def gc_key(acct, region, tid) -> tuple:
    return ("ddb", "gc", acct, region, tid)


GC_PREFIX = ("ddb", "gc")


def dumps(value) -> bytes:
    return codec.dumps(value)


def loads(data: bytes):
    return codec.loads(data)


class Tables:
    """Table records, with a per-process cache of the compiled schema keyed by
    the record's bytes (so it is never stale: a changed record has new bytes).
    With the server's app, a table's schema carries the sinks its writes feed
    (stream, PITR history, Kinesis destinations, replicas)."""

    def __init__(self, app=None) -> None:
        self._cache: dict[bytes, tuple[bytes, dict, Schema]] = {}  # by packed table key
        # the app's clock (streams, PITR) and the app itself (its Kinesis, for the
        # Kinesis streaming destinations); without an app no stream, history or Kinesis sink
        self.app = app
        self.clock = app.clock if app is not None else None

    def clear(self) -> None:
        self._cache.clear()

    def get(self, tx, acct: str, region: str, name: str) -> tuple[dict, Schema] | None:
        key = keycodec.pack_remembered(table_key(acct, region, name))
        raw = tx.get(key)
        if raw is None:
            return None
        hit = self._cache.get(key)
        if hit is not None and hit[0] == raw:
            return hit[1], hit[2]
        record = loads(raw)
        schema = compile_schema(record)
        if self.clock is not None and (record.get("StreamSpecification") or {}).get("StreamEnabled"):
            label = record["LatestStreamLabel"]
            schema.stream = StreamSink(acct, region, name, label, record["StreamSpecification"]["StreamViewType"],
                                       self.clock)
            if get_stream(tx, acct, region, name, label) is None:
                # enabled under a cloudlet that kept no stream records (an older data dir)
                open_stream(tx, acct, region, record, label_time(label), "ENABLED")
        group = record.get("_Replicas")
        if group:
            schema.replicas = ReplicaSink(self, acct, name, tuple(r for r in group if r != region))
        pitr = record.get("_Pitr")
        if self.clock is not None and pitr and pitr["enabled"]:
            schema.history = history.Sink(acct, region, schema.id, pitr["days"], self.clock)
        if self.app is not None and record.get("_KinesisDestinations"):
            from cloudlet.services.dynamodb.kinesis_destinations import sink_for

            schema.kinesis = sink_for(self.app, record)
        self._cache[key] = (raw, record, schema)
        return record, schema

    def put(self, tx, acct: str, region: str, record: dict) -> None:
        tx.put(table_key(acct, region, record["TableName"]), dumps(record))

    def delete(self, tx, acct: str, region: str, name: str) -> None:
        tx.delete(table_key(acct, region, name))
        self._cache.pop(keycodec.pack_remembered(table_key(acct, region, name)), None)


# ---------------------------------------------------------------- items
#
# An item, and an index entry, is stored with its size by AWS's rules, computed
# once when it is written: Query/Scan pages, consumed capacity and the table
# counters need it each time the item is read. The record is the JSON array
# ``[size,item]``, the item as DynamoDB JSON, as it goes on the wire: a read that
# returns the item whole (GetItem, a Query or Scan page without filter or
# projection) copies those bytes into the answer (``load_item_json``) instead of
# decoding and encoding the item again. An item with binary values (bytes here,
# base64 on the wire) is stored pickled, ``(size, item)``, as every item was
# before; and before that, items were bare dicts without a size. All three are read.

_ARRAY = 0x5B  # b"[" (a pickle starts with 0x80)


def _no_binary(value):
    raise TypeError  # orjson hands bytes, and only those, to ``default``


def dump_item(item: dict, size: int, _dumps=orjson.dumps) -> bytes:
    try:
        # Copied to a bytes object of its own size: orjson's result keeps the capacity
        # of its output buffer, and records live on in the store's value cache (the
        # SQLite server held 112 MB instead of 63 MB after the DynamoDB benchmarks).
        return memoryview(_dumps((size, item), default=_no_binary)).tobytes()
    except TypeError:  # orjson.JSONEncodeError is one
        return codec.dumps((size, item))


def load_item(raw: bytes, _loads=orjson.loads) -> tuple[dict, int]:
    """(item, size) of a stored item or index entry."""
    if raw[0] == _ARRAY:
        size, item = _loads(raw)
        return item, size
    value = codec.loads(raw)
    if type(value) is tuple:
        return value[1], value[0]
    return value, V.item_size(value)


def load_item_json(raw: bytes, _fragment=orjson.Fragment) -> tuple[object, int]:
    """(item, size) for an answer that returns the item whole: the stored JSON as
    an ``orjson.Fragment`` (the JSON protocol writes it out as it is), or for a
    pickled record the decoded item."""
    if raw[0] == _ARRAY:
        comma = raw.index(44)  # b","
        return _fragment(raw[comma + 1:-1]), int(raw[1:comma])
    return load_item(raw)


def get_item(tx, acct: str, region: str, schema: Schema, parts: tuple) -> dict | None:
    raw = tx.get(packed_item_key(acct, region, schema.id, parts))
    return None if raw is None else load_item(raw)[0]


def prefetch_items(tx, acct: str, region: str, items) -> None:
    """Tell the store that the items ``(schema, key parts)`` are about to be read
    (a batch or transaction: the SQLite store reads them in one query)."""
    tx.prefetch([packed_item_key(acct, region, schema.id, parts) for schema, parts in items])


def get_item_sized(tx, acct: str, region: str, schema: Schema, parts: tuple,
                   load=load_item) -> tuple[dict | None, int]:
    """(item, size), or (None, 0) when there is no such item (``load=load_item_json``
    for the item as it goes into an answer)."""
    raw = tx.get(packed_item_key(acct, region, schema.id, parts))
    return (None, 0) if raw is None else load(raw)


class Deltas:
    """What the writes of one store transaction change in tables' counters
    (ItemCount, TableSizeBytes, per index): ``{(acct, region, tid): [count,
    size, {index: [count, size]}]}``. A batch or transaction collects them
    and stores them once per table with ``apply_deltas``, in its transaction."""

    __slots__ = ("tables",)

    def __init__(self) -> None:
        self.tables: dict[tuple, list] = {}

    def entry(self, acct: str, region: str, tid: str) -> list:
        key = (acct, region, tid)
        e = self.tables.get(key)
        if e is None:
            e = self.tables[key] = [0, 0, {}]
        return e


def apply_deltas(tx, deltas: Deltas) -> None:
    for (acct, region, tid), (count, size, ix) in deltas.tables.items():
        if not count and not size and not any(c or sz for c, sz in ix.values()):
            continue
        key = stats_key(acct, region, tid)
        raw = tx.get(key)
        stats = loads(raw) if raw is not None else {"count": 0, "size": 0, "ix": {}}
        add_deltas(stats, [count, size, ix])
        tx.put(key, dumps(stats))


def add_deltas(stats: dict, entry: list) -> dict:
    """``stats`` (a stored counters record) plus one Deltas entry, in place."""
    count, size, ix = entry
    stats["count"] += count
    stats["size"] += size
    for name, (c, sz) in ix.items():
        ixs = stats["ix"].setdefault(name, {"count": 0, "size": 0})
        ixs["count"] += c
        ixs["size"] += sz
    return stats


def write_item(tx, acct: str, region: str, schema: Schema, parts: tuple,
               old: dict | None, new: dict | None, *, old_size: int | None = None, new_size: int | None = None,
               deltas: Deltas | None = None, collection_limit: int | None = None,
               identity: dict | None = None, replicated: bool = False) -> int | None:
    """Replace ``old`` by ``new`` (either may be None) and keep every index,
    the TTL queue, the table counters and the table's stream in step, in the
    caller's transaction. ``identity``: the stream record's ``userIdentity``
    (TTL deletions). A global table replica's write is applied to every other
    replica too (``ReplicaSink``), unless it is one of those copies (``replicated``).
    With ``deltas``, the counters change is collected there for the caller to
    store once (``apply_deltas``) after all its writes.
    ``old_size``/``new_size``: the items' sizes when the caller knows them.

    For a table with local secondary indexes, returns the size of the item
    collection (the partition's items and LSI entries) after the write, and
    raises ItemCollectionSizeLimitExceeded, before writing anything, when a
    write would grow it past ``collection_limit``."""
    tid = schema.id
    if old_size is None:
        old_size = V.item_size(old) if old is not None else 0
    if new_size is None:
        new_size = V.item_size(new) if new is not None else 0
    collection = None
    if schema.lsis:
        collection = _write_collection(tx, acct, region, schema, parts[0], old, new, old_size, new_size,
                                       collection_limit)
    key = packed_item_key(acct, region, tid, parts)
    if new is None:
        tx.delete(key)
    else:
        tx.put(key, dump_item(new, new_size))
    own = deltas is None
    if own:
        deltas = Deltas()
    e = deltas.entry(acct, region, tid)
    e[0] += (new is not None) - (old is not None)
    e[1] += new_size - old_size
    for index in schema.indexes.values():
        _write_index(tx, acct, region, schema, index, parts, old, new, old_size, new_size, e[2])
    if schema.ttl_attribute:
        _write_ttl(tx, acct, region, schema, parts, old, new)
    if schema.history is not None and old != new:
        schema.history.append(tx, parts, old)
    if schema.stream is not None:
        schema.stream.append(tx, region, schema, old, new, old_size, new_size, identity)
    if schema.kinesis is not None:
        schema.kinesis.append(tx, region, schema, old, new, old_size, new_size, identity)
    if schema.replicas is not None and not replicated:
        schema.replicas.apply(tx, parts, new, new_size, deltas)
    if own:
        apply_deltas(tx, deltas)
    return collection


# Bytes an LSI entry counts for beyond its projected attributes (developer
# guide, "Storage considerations for local secondary indexes").
LSI_ENTRY_OVERHEAD = 100


def collection_bytes(schema: Schema, item: dict | None, size: int | None = None) -> int:
    """What one item (of ``size`` bytes, when known) adds to its item
    collection: its size plus its LSI entries."""
    if item is None:
        return 0
    if size is None:
        size = V.item_size(item)
    total = size
    for index in schema.lsis:
        if schema.index_parts(index, item) is not None:
            entry = size if index.projection == "ALL" else V.item_size(index.project(item))
            total += entry + LSI_ENTRY_OVERHEAD
    return total


def collection_size(tx, acct, region, schema: Schema, hk) -> int:
    raw = tx.get(collection_key(acct, region, schema.id, hk))
    return loads(raw) if raw is not None else 0


def _write_collection(tx, acct, region, schema: Schema, hk, old, new, old_size, new_size, limit) -> int:
    key = collection_key(acct, region, schema.id, hk)
    raw = tx.get(key)
    current = loads(raw) if raw is not None else 0
    delta = collection_bytes(schema, new, new_size) - collection_bytes(schema, old, old_size)
    size = max(0, current + delta)
    if delta > 0 and limit is not None and size > limit:
        # Writes that shrink a collection are always allowed (AWS: "you can
        # still delete items or reduce their size").
        raise ItemCollectionSizeLimitExceeded()
    if size:
        tx.put(key, dumps(size))
    else:
        tx.delete(key)
    return size


def _write_index(tx, acct, region, schema: Schema, index: Index, parts, old, new, old_size, new_size,
                 ix: dict) -> None:
    old_ip = schema.index_parts(index, old) if old is not None else None
    new_ip = schema.index_parts(index, new) if new is not None else None
    if old_ip is None and new_ip is None:
        return  # sparse: in the index neither before nor after
    whole = index.projection == "ALL"
    old_entry = (old if whole else index.project(old)) if old_ip is not None else None
    new_entry = (new if whole else index.project(new)) if new_ip is not None else None
    if old_ip == new_ip and old_entry == new_entry:
        return  # the entry is the same: nothing to write
    d = ix.get(index.name)
    if d is None:
        d = ix[index.name] = [0, 0]
    if old_ip is not None:
        if old_ip != new_ip:
            tx.delete(index_key(acct, region, schema.id, index.name, old_ip, parts))
        d[0] -= 1
        d[1] -= old_size if whole else V.item_size(old_entry)
    if new_ip is not None:
        size = new_size if whole else V.item_size(new_entry)
        tx.put(index_key(acct, region, schema.id, index.name, new_ip, parts), dump_item(new_entry, size))
        d[0] += 1
        d[1] += size


def add_to_index(tx, acct, region, schema: Schema, index: Index, parts: tuple, item: dict) -> None:
    """Backfill one item into a new index (idempotent)."""
    ip = schema.index_parts(index, item)
    if ip is None:
        return
    key = index_key(acct, region, schema.id, index.name, ip, parts)
    if tx.get(key) is not None:
        return
    projected = index.project(item)
    size = V.item_size(projected)
    tx.put(key, dump_item(projected, size))
    adjust_index_stats(tx, acct, region, schema.id, index.name, 1, size)


def adjust_index_stats(tx, acct, region, tid, name, count, size) -> None:
    raw = tx.get(stats_key(acct, region, tid))
    stats = loads(raw) if raw is not None else {"count": 0, "size": 0, "ix": {}}
    ixs = stats["ix"].setdefault(name, {"count": 0, "size": 0})
    ixs["count"] += count
    ixs["size"] += size
    tx.put(stats_key(acct, region, tid), dumps(stats))


def drop_index_stats(tx, acct, region, tid, name) -> None:
    raw = tx.get(stats_key(acct, region, tid))
    if raw is None:
        return
    stats = loads(raw)
    stats["ix"].pop(name, None)
    tx.put(stats_key(acct, region, tid), dumps(stats))


def ttl_expiry(item: dict | None, attr: str):
    """The TTL attribute's epoch seconds when it is a number, else None."""
    if item is None:
        return None
    v = item.get(attr)
    if v is None or "N" not in v:
        return None
    return Decimal(v["N"])


def _write_ttl(tx, acct, region, schema: Schema, parts, old, new) -> None:
    a = schema.ttl_attribute
    old_e = ttl_expiry(old, a)
    new_e = ttl_expiry(new, a)
    if old_e == new_e:
        return
    if old_e is not None:
        tx.delete(ttl_prefix(acct, region, schema.id) + (old_e,) + parts)
    if new_e is not None:
        tx.put(ttl_prefix(acct, region, schema.id) + (new_e,) + parts, b"")


def get_stats(tx, acct, region, tid) -> dict:
    raw = tx.get(stats_key(acct, region, tid))
    return loads(raw) if raw is not None else {"count": 0, "size": 0, "ix": {}}


def unpack_item_key(key: tuple, schema: Schema) -> tuple:
    """Table key parts from an item key tuple."""
    return tuple(key[7:])


def unpack_index_key(key: tuple, schema: Schema, index: Index) -> tuple[tuple, tuple]:
    """(index parts, table parts) from an index key tuple."""
    n = 2 if index.range_name else 1
    rest = key[8:]
    return tuple(rest[:n]), tuple(rest[n:])


# ---------------------------------------------------------------- streams
#
# A table's stream (DynamoDB Streams) is the log of its item changes: each
# change appends a record in the transaction of the change (``write_item``).
# A stream outlives its table by 24 hours ("If you have DynamoDB Streams enabled
# on the table, then the corresponding stream on that table goes into the
# DISABLED state, and the stream is automatically deleted after 24 hours",
# DeleteTable in the API reference), so its keys name the table and the
# stream's label, not the table id. The stream record (what DescribeStream
# shows) lives under ("ddb", "stream") for the background sweeper
# (background.State.sweep_streams) to find every stream of every account.
#
# A stream has one shard. Sequence numbers are the record's time in ms times
# SEQ_SCALE (21 digits: AWS's are 21 or more) plus at least one, and at least
# one more than the shard's last: they increase in shard order, stay above the
# shard's StartingSequenceNumber, and a record's age can be read from its
# number, so the 24-hour trim point and AT_TIMESTAMP are key bounds.

SEQ_SCALE = 10 ** 8
RETENTION = 24 * 3600.0  # seconds a record (and a disabled stream) stays readable
STREAM_PREFIX = ("ddb", "stream")
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
_NEW_VIEWS = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
_OLD_VIEWS = ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")


def stream_key(acct: str, region: str, name: str, label: str) -> tuple:
    return ("ddb", "stream", acct, region, name, label)


def stream_records_prefix(acct: str, region: str, name: str, label: str) -> tuple:
    return ("ddb", acct, region, "srec", name, label)


def seq_at(t: float) -> int:
    """The lowest sequence number a record written at epoch second ``t`` can have."""
    return int(t * 1000) * SEQ_SCALE


last_seq = history.last_seq  # a stream's records are a log as the PITR history is


class StreamSink:
    """Where the writes of a table with an enabled stream append their records
    (``Schema.stream``)."""

    __slots__ = ("view", "prefix", "clock", "new", "old")

    def __init__(self, acct: str, region: str, name: str, label: str, view: str, clock) -> None:
        self.view = view
        self.prefix = keycodec.pack(stream_records_prefix(acct, region, name, label))
        self.clock = clock
        self.new = view in _NEW_VIEWS
        self.old = view in _OLD_VIEWS

    def append(self, tx, region: str, schema: Schema, old: dict | None, new: dict | None,
               old_size: int, new_size: int, identity: dict | None) -> None:
        if old == new:
            return  # a write that changes nothing leaves no record (a put of the same item)
        now = self.clock.now()
        item = new if new is not None else old
        keys = {n: item[n] for n in schema.key_names}
        size = V.item_size(keys)
        body = {"ApproximateCreationDateTime": int(now), "Keys": keys}  # whole seconds, as documented
        if new is not None and self.new:
            body["NewImage"] = new
            size += new_size
        if old is not None and self.old:
            body["OldImage"] = old
            size += old_size
        # above seq_at(now): a record of the stream's first millisecond comes after the shard's
        # StartingSequenceNumber (seq_at of its creation), as AWS's records do
        seq = history.next_seq(tx, self.prefix, seq_at(now) + 1)
        body["SequenceNumber"] = str(seq)
        body["SizeBytes"] = size
        body["StreamViewType"] = self.view
        record = {"eventID": "%032x" % getrandbits(128),
                  "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
                  "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": region, "dynamodb": body}
        if identity is not None:
            record["userIdentity"] = identity
        tx.put(self.prefix + keycodec.int_elem(seq), dump_item(record, size))


def label_time(label: str) -> float:
    """The epoch seconds a stream label (``2015-05-20T20:51:10.252``, UTC) names."""
    return datetime.strptime(label, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()


def open_stream(tx, acct: str, region: str, record: dict, now: float, status: str = "ENABLING") -> None:
    """Start the stream a table record names (``LatestStreamLabel``): ENABLING
    until the table's next transition (background.State.transition)."""
    label = record["LatestStreamLabel"]
    ms = int(now * 1000)
    tx.put(stream_key(acct, region, record["TableName"], label), dumps({
        "TableName": record["TableName"], "StreamLabel": label, "StreamArn": record["LatestStreamArn"],
        "StreamViewType": record["StreamSpecification"]["StreamViewType"], "KeySchema": record["KeySchema"],
        "CreationRequestDateTime": now, "StreamStatus": status,
        # AWS's shard ids: "shardId-00000001414562045508-2bac9cd2" (creation ms, 8 hex)
        "ShardId": f"shardId-{ms:020d}-{getrandbits(32):08x}", "Start": seq_at(now), "End": None,
        "DisabledAt": None, "Trimmed": 0}))


def get_stream(tx, acct: str, region: str, name: str, label: str) -> dict | None:
    raw = tx.get(stream_key(acct, region, name, label))
    return None if raw is None else loads(raw)


def close_stream(tx, acct: str, region: str, name: str, label: str | None, now: float) -> None:
    """Disable a table's stream (UpdateTable, DeleteTable): DISABLING until the
    table's next transition, its shard closed at the last record written."""
    meta = get_stream(tx, acct, region, name, label) if label else None
    if meta is None or meta["End"] is not None:
        return
    last = last_seq(tx, keycodec.pack(stream_records_prefix(acct, region, name, label)))
    # an empty shard ends where it starts (AWS's empty shards: Ending = Starting)
    meta["End"] = max(last or 0, meta["Trimmed"]) or meta["Start"]
    meta["DisabledAt"] = now
    meta["StreamStatus"] = "DISABLING"
    tx.put(stream_key(acct, region, name, label), dumps(meta))


_SETTLED = {"ENABLING": "ENABLED", "DISABLING": "DISABLED"}


def settle_stream(tx, acct: str, region: str, name: str, label: str | None) -> None:
    """ENABLING -> ENABLED, DISABLING -> DISABLED (the table's transition step)."""
    meta = get_stream(tx, acct, region, name, label) if label else None
    if meta is not None and meta["StreamStatus"] in _SETTLED:
        meta["StreamStatus"] = _SETTLED[meta["StreamStatus"]]
        tx.put(stream_key(acct, region, name, label), dumps(meta))


# ---------------------------------------------------------------- global tables
#
# The replicas of a global table (version 2019.11.21) are tables of the same
# name in several regions of one account; each one's record lists the regions
# of the group, its own included (``_Replicas``, absent on a table that is not
# global). cloudlet is one process with one store, so replication is
# synchronous: an item write in one replica is applied to every other replica
# in the same store transaction, and replicas are always equal (AWS replicates
# asynchronously, typically within a second, last writer wins).


class ReplicaSink:
    """Where the item writes of a global table replica are copied (``Schema.replicas``):
    the same new item (or deletion) is written to the table of the same name in each
    other region of the group, by that table's own ``write_item``, so its indexes,
    counters, TTL queue and stream records are its own. The write's condition was
    evaluated in the region written to only, as on AWS. A replica being deleted gets
    no more copies."""

    __slots__ = ("tables", "acct", "name", "regions")

    def __init__(self, tables: Tables, acct: str, name: str, regions: tuple) -> None:
        self.tables = tables
        self.acct = acct
        self.name = name
        self.regions = regions

    def apply(self, tx, parts: tuple, new: dict | None, new_size: int, deltas: Deltas) -> None:
        for region in self.regions:
            got = self.tables.get(tx, self.acct, region, self.name)
            if got is None or got[0]["TableStatus"] == "DELETING":
                continue
            schema = got[1]
            old, old_size = get_item_sized(tx, self.acct, region, schema, parts)
            if old is None and new is None:
                continue
            write_item(tx, self.acct, region, schema, parts, old, new, old_size=old_size, new_size=new_size,
                       deltas=deltas, replicated=True)


def group_of(record: dict) -> list:
    """The regions of a table's global table, its own included ([] when it is not one)."""
    return list(record.get("_Replicas") or ())


def set_group(record: dict, regions) -> None:
    """Record the group's regions in a replica's record (a copy); a group of one is no
    global table any more (AWS drops ``Replicas`` and ``GlobalTableVersion``, keeps the stream)."""
    regions = sorted(set(regions))
    if len(regions) > 1:
        record["_Replicas"] = regions
    else:
        record.pop("_Replicas", None)


def leave_group(tables: Tables, tx, acct: str, region: str, name: str, group: list) -> None:
    """Drop a replica that is gone (DeleteTable, ReplicaUpdates Delete) from the others' records."""
    rest = [r for r in group if r != region]
    for r in rest:
        got = tables.get(tx, acct, r, name)
        if got is None:
            continue
        record = dict(got[0])
        set_group(record, rest)
        tables.put(tx, acct, r, record)


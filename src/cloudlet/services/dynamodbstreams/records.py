"""GetShardIterator and GetRecords.

An iterator is what AWS's look like, ``<stream ARN>|1|<opaque>``, the opaque
part carrying the shard, the position (the lowest sequence number the next
read returns) and when it was issued, sealed with a MAC: a changed or made-up
iterator is refused instead of read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from random import getrandbits

from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodbstreams import errors
from cloudlet.services.dynamodbstreams.common import StreamRef, load_stream, parse_arn, trim_point
from cloudlet.services.dynamodbstreams.service import service
from cloudlet.storage import keys as keycodec

ITERATOR_AGE = 15 * 60.0  # "A shard iterator expires 15 minutes after it is returned to the requester."
MAX_RECORDS = 1000  # "GetRecords can retrieve a maximum of 1 MB of data or 1000 stream records"
MAX_BYTES = 1024 * 1024
_KEY = b"cloudlet-ddbstreams-iterator"
_MAC = 12
_DIGITS = re.compile(r"[0-9]+")


def encode_iterator(arn: str, shard: str, position: int, issued: float) -> str:
    body = f"{shard}|{position}|{int(issued * 1000)}|{getrandbits(32):08x}".encode()
    mac = hashlib.blake2s(arn.encode() + b"|" + body, digest_size=_MAC, key=_KEY).digest()
    return f"{arn}|1|{base64.b64encode(body + mac).decode()}"


def decode_iterator(token: str) -> tuple[StreamRef, str, int, float] | None:
    """(stream, shard id, position, issued epoch seconds), or None for anything we did not issue."""
    parts = token.rsplit("|", 2)
    if len(parts) != 3 or parts[1] != "1":
        return None
    arn = parts[0]
    try:
        raw = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError):
        return None
    body, mac = raw[:-_MAC], raw[-_MAC:]
    if len(raw) <= _MAC or hashlib.blake2s(arn.encode() + b"|" + body, digest_size=_MAC, key=_KEY).digest() != mac:
        return None
    shard, position, issued, _ = body.decode().split("|")
    return parse_arn(arn), shard, int(position), int(issued) / 1000


# Kinesis's words for the same mistakes (DynamoDB Streams answers in kind; not seen from it)
_EITHER = ("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and SequenceNumber or "
           "(2) TRIM_HORIZON or LATEST and no SequenceNumber. ")


def _check_request(kind: str, sequence: str | None, timestamp) -> None:
    """The checks that need no stream: which iterator types take which parameters."""
    if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        if sequence is None:
            raise errors.validation(_EITHER + f"Request specified {kind} and no SequenceNumber.")
        if _DIGITS.fullmatch(sequence) is None:
            raise errors.validation(f"Invalid SequenceNumber: {sequence}")
    elif sequence is not None:
        raise errors.validation(_EITHER + f"Request specified {kind} and also a SequenceNumber.")
    elif kind == "AT_TIMESTAMP" and timestamp is None:
        raise errors.validation("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                                "Current request has no timestamp parameter.")


def _position(tx, meta: dict, prefix: bytes, trim: int, kind: str, sequence: str | None, timestamp,
              now: float) -> int:
    """The lowest sequence number an iterator of ``kind`` reads first."""
    start = max(meta["Start"], trim + 1)
    if kind == "TRIM_HORIZON":
        return start
    if kind == "LATEST":
        return max(start, (S.last_seq(tx, prefix) or 0) + 1)
    if kind == "AT_TIMESTAMP":
        # "If the timestamp is older than the current trim horizon, the iterator points to the
        # oldest untrimmed stream record (TRIM_HORIZON). If the timestamp is in the future,
        # the request returns a ValidationException."
        t = timestamp.timestamp()
        if t > now:
            raise errors.validation("The timestampInMillis parameter cannot be greater than the "
                                    f"currentTimestampInMillis. timestampInMillis: {int(t * 1000)}, "
                                    f"currentTimestampInMillis: {int(now * 1000)}")
        return max(start, S.seq_at(t))
    number = int(sequence)
    if number < meta["Start"] or (meta["End"] is not None and number > meta["End"]):
        raise errors.validation(f"Invalid SequenceNumber: {sequence} is not in shard {meta['ShardId']}")
    position = number if kind == "AT_SEQUENCE_NUMBER" else number + 1
    if position <= trim:
        raise errors.trimmed()
    return position


@service.operation("GetShardIterator")
def get_shard_iterator(ctx: RequestContext, req: dict) -> dict:
    ref = parse_arn(req["StreamArn"])
    kind = req["ShardIteratorType"]
    _check_request(kind, req.get("SequenceNumber"), req.get("Timestamp"))
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        meta = load_stream(ctx, tx, ref)
        if req["ShardId"] != meta["ShardId"]:
            raise errors.shard_not_found()
        prefix = ref.records_prefix
        position = _position(tx, meta, prefix, trim_point(tx, meta, prefix, now), kind, req.get("SequenceNumber"),
                             req.get("Timestamp"), now)
    return {"ShardIterator": encode_iterator(meta["StreamArn"], meta["ShardId"], position, now)}


@service.operation("GetRecords")
def get_records(ctx: RequestContext, req: dict) -> dict:
    limit = req.get("Limit") or MAX_RECORDS
    if limit > MAX_RECORDS:
        raise errors.limit_above("Limit", limit, MAX_RECORDS)
    decoded = decode_iterator(req["ShardIterator"])
    if decoded is None:
        raise errors.invalid_iterator()
    ref, shard, position, issued = decoded
    now = ctx.clock.now()
    if now - issued > ITERATOR_AGE:
        raise errors.expired_iterator()
    with ctx.store.transaction() as tx:
        meta = load_stream(ctx, tx, ref)
        if shard != meta["ShardId"]:
            raise errors.shard_not_found()
        prefix = ref.records_prefix
        if position <= trim_point(tx, meta, prefix, now):
            # "You obtain a shard iterator, but before you use the iterator in a GetRecords
            # request, a stream record in the shard exceeds the 24 hour period and is trimmed."
            raise errors.trimmed()
        rows = list(tx.range(start=prefix + keycodec.int_elem(position), prefix=prefix, limit=limit + 1,
                             packed_keys=True))
    records = []
    size = 0
    for key, raw in rows[:limit]:
        record, n = S.load_item(raw)
        if records and size + n > MAX_BYTES:
            break
        records.append(record)
        size += n
        position = keycodec.unpack(key[len(prefix):])[0] + 1
    out: dict = {"Records": records}
    if meta["End"] is None or len(rows) > len(records):
        # a closed shard read to its end gives no next iterator ("set to null")
        out["NextShardIterator"] = encode_iterator(meta["StreamArn"], meta["ShardId"], position, now)
    return out

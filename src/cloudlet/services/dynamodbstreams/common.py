"""What the Streams handlers share: a stream named by its ARN, the stream a
request may see, and a shard's trim point."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodbstreams import errors
from cloudlet.storage import keys as keycodec

# arn:aws:dynamodb:us-west-2:111122223333:table/Forum/stream/2015-05-20T20:51:10.252
_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):(\d{12}):table/([a-zA-Z0-9_.-]{3,255})"
                  r"/stream/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})")


@dataclass(frozen=True, slots=True)
class StreamRef:
    account: str
    region: str
    table: str
    label: str
    arn: str

    @property
    def records_prefix(self) -> bytes:
        return keycodec.pack(S.stream_records_prefix(self.account, self.region, self.table, self.label))


def parse_arn(arn: str) -> StreamRef:
    m = _ARN.fullmatch(arn)
    if m is None:
        raise errors.invalid_arn(arn)
    return StreamRef(m.group(2), m.group(1), m.group(3), m.group(4), arn)


def visible(meta: dict, now: float) -> bool:
    """A disabled stream is readable for 24 hours, then gone (the sweeper deletes it)."""
    return meta["DisabledAt"] is None or now < meta["DisabledAt"] + S.RETENTION


def load_stream(ctx: RequestContext, tx, ref: StreamRef) -> dict:
    """The stream record, or AWS's not-found error (also for another account's or region's ARN)."""
    meta = None
    if ref.account == ctx.account and ref.region == ctx.region:
        meta = S.get_stream(tx, ref.account, ref.region, ref.table, ref.label)
    if meta is None or not visible(meta, ctx.clock.now()):
        raise errors.stream_not_found(ref.arn)
    return meta


def trim_point(tx, meta: dict, prefix: bytes, now: float) -> int:
    """The highest sequence number trimmed from the shard: by the sweeper, or
    (not swept yet) older than 24 hours. A position at or below it was lost."""
    older = S.last_seq(tx, prefix, below=S.seq_at(now - S.RETENTION))
    return max(meta["Trimmed"], older or 0)


def shard_of(meta: dict) -> dict:
    """The stream's one shard as DescribeStream shows it: open without an
    EndingSequenceNumber, closed (the stream disabled) with one."""
    numbers = {"StartingSequenceNumber": str(meta["Start"])}
    if meta["End"] is not None:
        numbers["EndingSequenceNumber"] = str(meta["End"])
    return {"ShardId": meta["ShardId"], "SequenceNumberRange": numbers}

"""Glue shared by the Kinesis handlers: which stream a request names, state checks."""

from __future__ import annotations

from dataclasses import dataclass

from cloudlet.services.base import RequestContext
from cloudlet.services.kinesis import errors, models, store
from cloudlet.services.kinesis.runtime import Runtime, runtime


@dataclass(slots=True, frozen=True)
class Ref:
    """A stream as a request names it: the account and region that own it, its name."""

    account: str
    region: str
    name: str


def stream_ref(ctx: RequestContext, req: dict) -> Ref:
    """From ``StreamName`` and/or ``StreamARN`` ("you must use either the StreamARN or
    the StreamName parameter, or both")."""
    name = req.get("StreamName")
    arn = req.get("StreamARN")
    if arn is None:
        if name is None:
            raise errors.InvalidArgument("Either StreamName or StreamARN must be provided.")
        return Ref(ctx.account, ctx.region, name)
    parsed = models.parse_stream_arn(arn)
    if parsed is None:
        raise errors.InvalidArgument(f"StreamARN {arn} is not a valid Kinesis stream ARN.")
    region, account, arn_name = parsed
    if name is not None and name != arn_name:
        raise errors.InvalidArgument(f"StreamARN {arn} and StreamName {name} do not refer to the same stream.")
    if region != ctx.region:
        raise errors.stream_not_found(arn_name, account)
    return Ref(account, region, arn_name)


def rt(ctx: RequestContext) -> Runtime:
    return runtime(ctx.app)


def load(tx, ctx: RequestContext, ref: Ref) -> dict:
    """The stream, with any due transition applied, or ResourceNotFoundException.
    A stream of another account is reachable by ARN only through a resource policy."""
    stream = store.get_stream(tx, ref.account, ref.region, ref.name, ctx.clock.now())
    if stream is None:
        raise errors.stream_not_found(ref.name, ref.account)
    if ref.account != ctx.account and not stream.get("policy"):
        raise errors.AccessDenied(
            f"User: arn:aws:iam::{ctx.account}:root is not authorized to perform: kinesis:{ctx.operation} "
            f"on resource: {stream['arn']} because no resource-based policy allows the kinesis:{ctx.operation} action")
    return stream


def require_active(stream: dict, ref: Ref) -> None:
    if stream["status"] != "ACTIVE":
        raise errors.stream_not_active(ref.name, ref.account, stream["status"])


def require_data(stream: dict, ref: Ref) -> None:
    """Reads and writes work on ACTIVE and UPDATING streams (and, as AWS warns, may go on
    while DELETING); a CREATING stream is not there yet."""
    if stream["status"] == "CREATING":
        raise errors.stream_not_found(ref.name, ref.account)


def require_provisioned(stream: dict, operation: str) -> None:
    if stream["mode"] != "PROVISIONED":
        # "This API is only supported for the data streams with the provisioned capacity mode."
        raise errors.Validation(f"{operation} is not supported for streams with the ON_DEMAND capacity mode. "
                                "This API is only supported for the data streams with the provisioned capacity mode.")


def begin(ctx: RequestContext, ref: Ref, tx, stream: dict, status: str, action: dict | None) -> None:
    r = rt(ctx)
    models.begin(stream, status, action, ctx.clock.now() + r.transition)
    store.save_stream(tx, ref.account, ref.region, stream)


def after_commit(ctx: RequestContext, ref: Ref, stream: dict) -> None:
    rt(ctx).track(ref.account, ref.region, stream)


def parse_shard(text: str, ref: Ref) -> int:
    index = models.parse_shard_id(text)
    if index is None:
        raise errors.shard_not_found(text, ref.name, ref.account)
    return index


def open_shard_count(tx, account: str, region: str, now: float) -> int:
    """Open shards of provisioned streams in the account+region (the shard quota)."""
    total = 0
    for stream in store.iter_streams(tx, account, region):
        if stream["mode"] == "PROVISIONED" and stream["status"] != "DELETING":
            total += len(models.open_shards(stream))
    return total

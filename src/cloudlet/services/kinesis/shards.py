"""Shards: ListShards, SplitShard, MergeShards, UpdateShardCount.

Resharding is asynchronous as in AWS: the call checks everything, puts the stream
in UPDATING and returns; the shards change when UPDATING ends (until then writes
keep going to the old shards, as kinesalite's tests against AWS show).
"""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.kinesis import errors, models
from cloudlet.services.kinesis.common import (
    Ref, after_commit, begin, load, open_shard_count, parse_shard, require_active, require_provisioned, rt,
    stream_ref,
)
from cloudlet.services.kinesis.service import service

_TOKEN_CONFLICTS = ("StreamName", "StreamARN", "ExclusiveStartShardId", "ShardFilter", "StreamCreationTimestamp")


@service.operation("ListShards")
def list_shards(ctx: RequestContext, req: dict) -> dict:
    now = ctx.clock.now()
    limit = models.page_size(req.get("MaxResults"), models.LIST_SHARDS_PAGE)
    token = req.get("NextToken")
    if token is not None:
        for member in _TOKEN_CONFLICTS:
            if req.get(member) is not None:
                # (observed) "NextToken and StreamName cannot be provided together." (also StreamARN,
                # ExclusiveStartShardId, ShardFilter)
                raise errors.InvalidArgument(f"NextToken and {member} cannot be provided together.")
        parts = models.decode_page_token(token, ctx.account, ctx.region)
        if not parts or parts[0] != "shards" or len(parts) != 8:
            raise errors.InvalidArgument("Invalid NextToken.")
        _, account, name, created, kind, timestamp, last, issued = parts
        if now - issued > models.NEXT_TOKEN_TTL:
            raise errors.ExpiredNextToken(f"The NextToken has expired. Tokens expire after "
                                          f"{int(models.NEXT_TOKEN_TTL)} seconds.")
        ref = Ref(account, ctx.region, name)
        after = last
    else:
        if req.get("StreamName") is None and req.get("StreamARN") is None:
            # (observed) kinesalite's listShards test against AWS
            raise errors.InvalidArgument("Either NextToken or StreamName should be provided.")
        ref = stream_ref(ctx, req)
        created = None
        flt = req.get("ShardFilter") or {}
        kind = flt.get("Type")
        timestamp = flt["Timestamp"].timestamp() if flt.get("Timestamp") is not None else None
        after = None
        if req.get("ExclusiveStartShardId"):
            after = models.parse_shard_id(req["ExclusiveStartShardId"])
        if kind == "AFTER_SHARD_ID":
            if not flt.get("ShardId"):
                raise errors.InvalidArgument("ShardId must be specified in the ShardFilter when its Type is "
                                             "AFTER_SHARD_ID.")
            after = models.parse_shard_id(flt["ShardId"])
        elif flt.get("ShardId"):
            raise errors.InvalidArgument(f"ShardId can only be specified in the ShardFilter when its Type is "
                                         f"AFTER_SHARD_ID, not {kind}.")
        if kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP") and timestamp is None:
            raise errors.InvalidArgument(f"Timestamp must be specified in the ShardFilter when its Type is {kind}.")
        if kind not in ("AT_TIMESTAMP", "FROM_TIMESTAMP") and timestamp is not None:
            raise errors.InvalidArgument(f"Timestamp can only be specified in the ShardFilter when its Type is "
                                         f"AT_TIMESTAMP or FROM_TIMESTAMP, not {kind}.")
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
    if created is not None and int(created * 1000) != int(stream["created"] * 1000):
        raise errors.ExpiredNextToken("The NextToken refers to a stream that no longer exists.")
    requested = req.get("StreamCreationTimestamp")
    if requested is not None and int(requested.timestamp()) != int(stream["created"]):
        raise errors.stream_not_found(ref.name, ref.account)
    if stream["status"] not in ("ACTIVE", "UPDATING"):
        # ListShards answers ResourceInUseException unless the stream is ACTIVE or UPDATING: the
        # KCL (KinesisShardDetector.listShards, 1.x and 2.x) reads that exception as "Stream is
        # not in Active/Updating status" and waits; a DELETING stream has no shards to list
        raise errors.stream_not_active(ref.name, ref.account, stream["status"])
    shards = models.list_shards_filter(stream, now, kind, after, timestamp)
    page = shards[:limit]
    out: dict = {"Shards": [models.shard_view(s, stream["tag"]) for s in page]}
    if len(shards) > limit:
        out["NextToken"] = models.encode_page_token(
            ctx.account, ctx.region,
            ["shards", ref.account, ref.name, stream["created"], kind, timestamp, page[-1]["index"], now])
    return out


def _open_shard(stream: dict, text: str, ref: Ref, operation: str) -> dict:
    index = parse_shard(text, ref)
    shard = models.find_shard(stream, index)
    if shard is None:
        raise errors.shard_not_found(models.shard_id(index), ref.name, ref.account)
    if shard["closed"] is not None:
        raise errors.InvalidArgument(
            f"Shard {models.shard_id(index)} in stream {ref.name} under account {ref.account} has already been "
            "merged or split, and thus is not eligible for merging or splitting.")
    return shard


@service.operation("SplitShard")
def split_shard(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    parse_shard(req["ShardToSplit"], ref)  # an id that names no shard at all fails before the stream lookup
    new_start = int(req["NewStartingHashKey"])
    r = rt(ctx)
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_provisioned(stream, "SplitShard")
        shard = _open_shard(stream, req["ShardToSplit"], ref, "SplitShard")
        require_active(stream, ref)
        if not (shard["start"] + 1 < new_start < shard["end"]):
            # (observed) kinesalite's splitShard tests against AWS
            raise errors.InvalidArgument(
                f"NewStartingHashKey {req['NewStartingHashKey']} used in SplitShard() on shard "
                f"{models.shard_id(shard['index'])} in stream {ref.name} under account {ref.account} is not both "
                f"greater than one plus the shard's StartingHashKey {shard['start']} and less than the shard's "
                f"EndingHashKey {shard['end']}.")
        current = open_shard_count(tx, ref.account, ref.region, now)
        if current + 1 > r.shard_limit:
            raise errors.shard_limit(ref.account, ref.region, current, r.shard_limit, 1)
        begin(ctx, ref, tx, stream, "UPDATING", {"op": "split", "shard": shard["index"], "start": new_start})
    after_commit(ctx, ref, stream)
    return {}


@service.operation("MergeShards")
def merge_shards(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    parse_shard(req["ShardToMerge"], ref)
    parse_shard(req["AdjacentShardToMerge"], ref)
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_provisioned(stream, "MergeShards")
        a = _open_shard(stream, req["ShardToMerge"], ref, "MergeShards")
        b = _open_shard(stream, req["AdjacentShardToMerge"], ref, "MergeShards")
        require_active(stream, ref)
        if not models.adjacent(a, b):
            # (observed) "Shards shardId-000000000000 and shardId-000000000002 in stream x under account y
            # are not an adjacent pair of shards eligible for merging"
            raise errors.InvalidArgument(
                f"Shards {models.shard_id(a['index'])} and {models.shard_id(b['index'])} in stream {ref.name} "
                f"under account {ref.account} are not an adjacent pair of shards eligible for merging")
        begin(ctx, ref, tx, stream, "UPDATING", {"op": "merge", "shard": a["index"], "adjacent": b["index"]})
    after_commit(ctx, ref, stream)
    return {}


@service.operation("UpdateShardCount")
def update_shard_count(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    target = req["TargetShardCount"]
    r = rt(ctx)
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_provisioned(stream, "UpdateShardCount")
        require_active(stream, ref)
        current = len(models.open_shards(stream))
        # the limits of the API reference; messages as kinesalite's tests observed them on AWS. The
        # shard limit is checked first: a 10-shard stream asked for 52 shards under a limit of 50
        # answers "Target shard count or number of open shards cannot be greater than 50", not the
        # doubling rule (kinesalite test/updateShardCount.js, run against AWS)
        account_open = open_shard_count(tx, ref.account, ref.region, now)
        if target > models.MAX_SHARDS_PER_STREAM or account_open - current + target > r.shard_limit:
            limit = min(models.MAX_SHARDS_PER_STREAM, r.shard_limit)
            raise errors.LimitExceeded(f"Target shard count or number of open shards cannot be greater than {limit}. "
                                       f"Current open shard count: {current}, Target shard count: {target}")
        if target > 2 * current:
            raise errors.LimitExceeded("UpdateShardCount cannot scale up over double your current open shard "
                                       f"count. Current open shard count: {current}, Target shard count: {target}")
        if 2 * target < current:
            raise errors.LimitExceeded("UpdateShardCount cannot scale down below half your current open shard "
                                       f"count. Current open shard count: {current}, Target shard count: {target}")
        recent = [t for t in stream.get("scalings", []) if t > now - 86400]
        if len(recent) >= models.SCALINGS_PER_DAY:
            raise errors.LimitExceeded(f"UpdateShardCount cannot be called more than {models.SCALINGS_PER_DAY} "
                                       f"times per rolling 24-hour period for stream {ref.name} under account "
                                       f"{ref.account}.")
        stream["scalings"] = recent + [now]
        begin(ctx, ref, tx, stream, "UPDATING", {"op": "scale", "target": target})
    after_commit(ctx, ref, stream)
    return {"StreamName": stream["name"], "StreamARN": stream["arn"], "CurrentShardCount": current,
            "TargetShardCount": target}


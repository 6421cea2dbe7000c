"""ListStreams and DescribeStream."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodbstreams import errors
from cloudlet.services.dynamodbstreams.common import load_stream, parse_arn, shard_of, visible
from cloudlet.services.dynamodbstreams.service import service

# "The upper limit is 100" (ListStreams and DescribeStream Limit); the model has no maximum.
MAX_LIMIT = 100


def _limit(req: dict) -> int:
    limit = req.get("Limit")
    if limit is None:
        return MAX_LIMIT
    if limit > MAX_LIMIT:
        raise errors.limit_above("Limit", limit, MAX_LIMIT)
    return limit


@service.operation("ListStreams")
def list_streams(ctx: RequestContext, req: dict) -> dict:
    limit = _limit(req)
    start = req.get("ExclusiveStartStreamArn")
    after = parse_arn(start) if start is not None else None
    name = req.get("TableName")
    now = ctx.clock.now()
    prefix = S.STREAM_PREFIX + (ctx.account, ctx.region) + ((name,) if name is not None else ())
    with ctx.store.transaction() as tx:
        metas = [m for m in (S.loads(raw) for _, raw in tx.range(prefix=prefix)) if visible(m, now)]
        if name is not None and not metas and tx.get(S.table_key(ctx.account, ctx.region, name)) is None:
            raise errors.table_not_found(name)
    # by table name, a table's newest stream first (as AWS's ListStreams example lists them)
    metas.sort(key=lambda m: m["StreamLabel"], reverse=True)
    metas.sort(key=lambda m: m["TableName"])
    if after is not None:
        metas = [m for m in metas if m["TableName"] > after.table
                 or (m["TableName"] == after.table and m["StreamLabel"] < after.label)]
    page = metas[:limit]
    out: dict = {"Streams": [{"StreamArn": m["StreamArn"], "TableName": m["TableName"],
                              "StreamLabel": m["StreamLabel"]} for m in page]}
    if len(metas) > limit:
        out["LastEvaluatedStreamArn"] = page[-1]["StreamArn"]
    return out


@service.operation("DescribeStream")
def describe_stream(ctx: RequestContext, req: dict) -> dict:
    ref = parse_arn(req["StreamArn"])
    limit = _limit(req)
    with ctx.store.transaction() as tx:
        meta = load_stream(ctx, tx, ref)
    shards = [shard_of(meta)]
    wanted = req.get("ShardFilter")
    if wanted is not None and wanted.get("Type") == "CHILD_SHARDS":
        # one shard a stream, never split: no shard has children
        shards = [s for s in shards if wanted.get("ShardId") is not None and s.get("ParentShardId") == wanted["ShardId"]]
    start = req.get("ExclusiveStartShardId")
    if start is not None:
        # shards are listed in id order; an unknown id is a position, not an error (as on AWS)
        shards = [s for s in shards if s["ShardId"] > start]
    page = shards[:limit]
    desc = {"StreamArn": meta["StreamArn"], "StreamLabel": meta["StreamLabel"], "StreamStatus": meta["StreamStatus"],
            "StreamViewType": meta["StreamViewType"], "CreationRequestDateTime": meta["CreationRequestDateTime"],
            "TableName": meta["TableName"], "KeySchema": meta["KeySchema"], "Shards": page}
    if len(shards) > limit:
        desc["LastEvaluatedShardId"] = page[-1]["ShardId"]
    return {"StreamDescription": desc}

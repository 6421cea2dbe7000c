"""UpdateTimeToLive / DescribeTimeToLive. Expired items are deleted by the
background sweeper (``background.State.sweep_ttl``) driven by the server clock;
until then an expired item is still returned, as on AWS."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import background as B
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodb.errors import validation
from cloudlet.services.dynamodb.service import service
from cloudlet.services.dynamodb.tables import load_table, name_of, state


# After a change AWS refuses another for a while (measured: about 31 minutes; the
# API reference says up to an hour); the checks on the request itself come first.
TTL_COOLDOWN = 31 * 60


@service.operation("UpdateTimeToLive")
def update_time_to_live(ctx: RequestContext, req: dict) -> dict:
    name = name_of(ctx, req["TableName"])
    spec = req["TimeToLiveSpecification"]
    enabled, attr = spec["Enabled"], spec["AttributeName"]
    st = state(ctx)
    with ctx.store.transaction() as tx:
        record, _ = load_table(ctx, tx, name)
        record = dict(record)
        current = record.get("TimeToLive") or {"TimeToLiveStatus": "DISABLED"}
        on = current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        if enabled and on:
            if current.get("AttributeName") != attr:
                raise validation("TimeToLive is active on a different AttributeName: current AttributeName is "
                                 f"{current.get('AttributeName')}")
            raise validation("TimeToLive is already enabled")
        if not enabled and not on:
            raise validation("TimeToLive is already disabled")
        if not enabled and current.get("AttributeName") != attr:
            raise validation("TimeToLive is active on a different AttributeName: current AttributeName is "
                             f"{current.get('AttributeName')}")
        now = ctx.clock.now()
        if now - record.get("_TtlChangedAt", float("-inf")) < TTL_COOLDOWN:
            raise validation("Time to live has been modified multiple times within a fixed interval")
        ttl = {"TimeToLiveStatus": "ENABLED", "AttributeName": attr} if enabled else {"TimeToLiveStatus": "DISABLED"}
        # TTL is one of the settings every replica of a global table shares (developer guide,
        # "Global tables: core concepts", settings synchronization)
        for region in S.group_of(record) or [ctx.region]:
            got = record if region == ctx.region else st.tables.get(tx, ctx.account, region, name)
            if got is None:
                continue
            replica = dict(got if region == ctx.region else got[0], TimeToLive=ttl, _TtlChangedAt=now)
            st.tables.put(tx, ctx.account, region, replica)
            B.ttl_table(tx, ctx.account, region, name, enabled)
            if enabled:
                B.backfill_ttl(tx, ctx.account, region, replica)
            else:
                tx.delete_range(prefix=S.ttl_prefix(ctx.account, region, replica["TableId"]))
    st._on_clock()  # sweep now: items may already be expired
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attr}}


@service.operation("DescribeTimeToLive")
def describe_time_to_live(ctx: RequestContext, req: dict) -> dict:
    name = name_of(ctx, req["TableName"])
    with ctx.store.transaction() as tx:
        record, _ = load_table(ctx, tx, name)
    ttl = record.get("TimeToLive") or {"TimeToLiveStatus": "DISABLED"}
    return {"TimeToLiveDescription": dict(ttl)}

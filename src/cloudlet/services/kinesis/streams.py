"""Stream control plane: create, delete, describe, list, retention, limits, monitoring,
encryption, capacity mode, record size, warm throughput, account settings."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.kinesis import errors, models, store
from cloudlet.services.kinesis.common import (
    Ref, after_commit, begin, load, open_shard_count, require_active, rt, stream_ref,
)
from cloudlet.services.kinesis.service import service
from cloudlet.services.kinesis.tags_policies import check_tags

COMMITMENT_MIN_SECONDS = 24 * 3600
DEFAULT_SHARD_COUNT = 4


def _mode(req: dict) -> str:
    return (req.get("StreamModeDetails") or {}).get("StreamMode") or "PROVISIONED"


def _check_on_demand_limit(tx, account: str, region: str) -> None:
    on_demand = sum(1 for s in store.iter_streams(tx, account, region) if s["mode"] == "ON_DEMAND")
    if on_demand >= models.ON_DEMAND_STREAM_LIMIT:
        # (observed, quoted from the console in hashicorp/terraform-provider-aws#38094) "This request
        # would exceed the limit on the number of On-Demand streams for the account xxx in region_name.
        # Current On-Demand streams count: XX. Limit: XX."
        raise errors.LimitExceeded(
            f"This request would exceed the limit on the number of On-Demand streams for the account {account} "
            f"in {region}. Current On-Demand streams count: {on_demand}. Limit: {models.ON_DEMAND_STREAM_LIMIT}.")


@service.operation("CreateStream")
def create_stream(ctx: RequestContext, req: dict) -> dict:
    name = req["StreamName"]
    ref = Ref(ctx.account, ctx.region, name)
    mode = _mode(req)
    count = req.get("ShardCount")
    warm = req.get("WarmThroughputMiBps")
    r = rt(ctx)
    now = ctx.clock.now()
    if mode == "PROVISIONED" and count is None:
        # ShardCount is optional: a CreateStream naming only the stream gives it 4 shards
        # (LocalStack's AWS-validated test_create_stream_without_shard_count; kinesis-mock,
        # which LocalStack runs, also keeps the PROVISIONED mode then)
        count = DEFAULT_SHARD_COUNT
    if mode == "ON_DEMAND":
        if count is not None:
            # (observed, through CloudFormation's resource handler: aws/aws-cdk#18247) the exception
            # type was not shown; InvalidArgumentException is what CreateStream documents for bad input
            raise errors.InvalidArgument("ShardCount is not expected when StreamMode=ON_DEMAND")
        count = models.ON_DEMAND_INITIAL_SHARDS
    elif warm is not None:
        raise errors.InvalidArgument("WarmThroughputMiBps can only be specified for ON_DEMAND streams.")
    distribution = req.get("RecordDistributionStrategy")
    if distribution == "AUTO" and mode != "ON_DEMAND":
        raise errors.InvalidArgument(_AUTO_ON_DEMAND_ONLY)
    if req.get("Tags"):
        check_tags(req["Tags"], "add tags to", "stream", name, ctx.account, existing={})
    with ctx.store.transaction() as tx:
        if store.get_stream(tx, ctx.account, ctx.region, name, now) is not None:
            # (observed) "Stream x under account y already exists."
            raise errors.ResourceInUse(f"Stream {name} under account {ctx.account} already exists.")
        if mode == "PROVISIONED":
            current = open_shard_count(tx, ctx.account, ctx.region, now)
            if current + count > r.shard_limit:
                raise errors.shard_limit(ctx.account, ctx.region, current, r.shard_limit, count)
        else:
            _check_on_demand_limit(tx, ctx.account, ctx.region)
            if warm is not None and store.load_settings(tx, ctx.account, ctx.region)["commitment"] == "DISABLED":
                raise errors.InvalidArgument(
                    "Warm throughput requires MinimumThroughputBillingCommitment to be enabled for the account.")
        stream = models.new_stream(name, ctx.account, ctx.region, now, shard_count=count, mode=mode,
                                   tags=req.get("Tags"), max_record_kib=req.get("MaxRecordSizeInKiB"),
                                   warm_mibps=warm, ready_at=now + r.transition)
        if distribution == "AUTO":
            stream["distribution"] = distribution
        store.save_stream(tx, ctx.account, ctx.region, stream)
    after_commit(ctx, ref, stream)
    return {}


@service.operation("DeleteStream")
def delete_stream(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        if stream["status"] not in ("ACTIVE", "CREATING"):
            raise errors.stream_not_active(ref.name, ref.account, stream["status"])
        consumers = [c for c in store.iter_consumers(tx, ref.account, ref.region, stream["id"], now)
                     if c["status"] != "DELETING"]
        if consumers and not req.get("EnforceConsumerDeletion"):
            raise errors.consumers_exist(ref.name, ref.account)
        for consumer in consumers:
            consumer["status"] = "DELETING"
            store.save_consumer(tx, ref.account, ref.region, stream["id"], consumer)
        begin(ctx, ref, tx, stream, "DELETING", None)
    after_commit(ctx, ref, stream)
    return {}


def _description_common(stream: dict) -> dict:
    out = {
        "StreamName": stream["name"],
        "StreamARN": stream["arn"],
        "StreamStatus": stream["status"],
        "StreamModeDetails": {"StreamMode": stream["mode"]},
        "RetentionPeriodHours": stream["retention"],
        "StreamCreationTimestamp": stream["created"],
        "EnhancedMonitoring": [{"ShardLevelMetrics": list(stream["metrics"])}],
        "EncryptionType": stream["encryption"],
    }
    if stream["encryption"] == "KMS":
        out["KeyId"] = stream["key_id"]
    return out


def _visible_shards(stream: dict) -> list[dict]:
    """A stream shows no shards until it has been ACTIVE once (kinesalite's tests against
    AWS: CREATING, and DELETING right after CREATING, list ``Shards: []``)."""
    if not stream["activated"]:
        return []
    return sorted(stream["shards"], key=lambda s: s["index"])


@service.operation("DescribeStream")
def describe_stream(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    limit = models.page_size(req.get("Limit"), models.DESCRIBE_STREAM_PAGE)
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
    shards = _visible_shards(stream)
    if req.get("ExclusiveStartShardId"):
        after = models.parse_shard_id(req["ExclusiveStartShardId"])
        shards = [s for s in shards if after is None or s["index"] > after]
    page = shards[:limit]
    desc = _description_common(stream)
    desc["Shards"] = [models.shard_view(s, stream["tag"]) for s in page]
    desc["HasMoreShards"] = len(shards) > limit
    return {"StreamDescription": desc}


@service.operation("DescribeStreamSummary")
def describe_stream_summary(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        consumers = sum(1 for _ in store.iter_consumers(tx, ref.account, ref.region, stream["id"], now))
    desc = _description_common(stream)
    # no StreamId: "Not Implemented. Reserved for future use." (StreamDescriptionSummary in the model)
    desc["OpenShardCount"] = len(models.open_shards(stream)) if _visible_shards(stream) else 0
    desc["ConsumerCount"] = consumers
    desc["MaxRecordSizeInKiB"] = stream["max_record_kib"]
    if stream["mode"] == "ON_DEMAND":
        # "This field is only present for streams that use the on-demand capacity mode."
        desc["RecordDistributionStrategy"] = stream.get("distribution") or "USER_PARTITION_KEY"
    if stream["mode"] == "ON_DEMAND" and stream.get("warm_target") is not None:
        desc["WarmThroughput"] = {"TargetMiBps": stream["warm_target"], "CurrentMiBps": stream["warm_current"] or 0}
    return {"StreamDescriptionSummary": desc}


@service.operation("ListStreams")
def list_streams(ctx: RequestContext, req: dict) -> dict:
    limit = models.page_size(req.get("Limit"), models.LIST_STREAMS_PAGE)
    after = req.get("ExclusiveStartStreamName")
    token = req.get("NextToken")
    now = ctx.clock.now()
    if token is not None:
        if after is not None:
            raise errors.InvalidArgument("NextToken and ExclusiveStartStreamName cannot be provided together.")
        parts = models.decode_page_token(token, ctx.account, ctx.region)
        if not parts or parts[0] != "streams":
            raise errors.InvalidArgument("Invalid NextToken.")
        if now - parts[2] > models.NEXT_TOKEN_TTL:
            raise errors.ExpiredNextToken("The NextToken has expired.")
        after = parts[1]
    with ctx.store.transaction() as tx:
        streams = []
        for stream in store.iter_streams(tx, ctx.account, ctx.region, after=after):
            stream = store.settle_stream(tx, ctx.account, ctx.region, stream, now)
            if stream is None:
                continue
            streams.append(stream)
            if len(streams) > limit:
                break
    page, more = streams[:limit], len(streams) > limit
    out = {
        "StreamNames": [s["name"] for s in page],
        "HasMoreStreams": more,
        "StreamSummaries": [{"StreamName": s["name"], "StreamARN": s["arn"], "StreamStatus": s["status"],
                             "StreamModeDetails": {"StreamMode": s["mode"]},
                             "StreamCreationTimestamp": s["created"]} for s in page],
    }
    if more:
        out["NextToken"] = models.encode_page_token(ctx.account, ctx.region, ["streams", page[-1]["name"], now])
    return out


@service.operation("IncreaseStreamRetentionPeriod")
def increase_retention(ctx: RequestContext, req: dict) -> dict:
    return _retention(ctx, req, increase=True)


@service.operation("DecreaseStreamRetentionPeriod")
def decrease_retention(ctx: RequestContext, req: dict) -> dict:
    return _retention(ctx, req, increase=False)


def _retention(ctx: RequestContext, req: dict, increase: bool) -> dict:
    ref = stream_ref(ctx, req)
    hours = req["RetentionPeriodHours"]
    # (observed) kinesalite's tests against AWS, with today's maximum of 8760 hours
    if hours < models.MIN_RETENTION_HOURS:
        raise errors.InvalidArgument(f"Minimum allowed retention period is {models.MIN_RETENTION_HOURS} hours. "
                                     f"Requested retention period ({hours} hours) is too short.")
    if hours > models.MAX_RETENTION_HOURS:
        raise errors.InvalidArgument(f"Maximum allowed retention period is {models.MAX_RETENTION_HOURS} hours. "
                                     f"Requested retention period ({hours} hours) is too long.")
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_active(stream, ref)
        current = stream["retention"]
        if increase and hours < current:
            raise errors.InvalidArgument(
                f"Requested retention period ({hours} hours) for stream {ref.name} can not be shorter than "
                f"existing retention period ({current} hours). Use DecreaseRetentionPeriod API.")
        if not increase and hours > current:
            raise errors.InvalidArgument(
                f"Requested retention period ({hours} hours) for stream {ref.name} can not be longer than "
                f"existing retention period ({current} hours). Use IncreaseRetentionPeriod API.")
        # what has expired under the current period stays expired, even if the sweeper has not
        # deleted it yet and the new period is longer (IncreaseStreamRetentionPeriod reference)
        stream["floor"] = models.trim_horizon_counter(stream, ctx.clock.now())
        stream["retention"] = hours
        store.save_stream(tx, ref.account, ref.region, stream)
    if not increase:
        kick = rt(ctx).kick
        if kick is not None:
            kick.set()  # trim what the shorter period expired
    return {}


@service.operation("DescribeLimits")
def describe_limits(ctx: RequestContext, req: dict) -> dict:
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        open_count = open_shard_count(tx, ctx.account, ctx.region, now)
        on_demand = sum(1 for s in store.iter_streams(tx, ctx.account, ctx.region) if s["mode"] == "ON_DEMAND")
    return {"ShardLimit": rt(ctx).shard_limit, "OpenShardCount": open_count,
            "OnDemandStreamCount": on_demand, "OnDemandStreamCountLimit": models.ON_DEMAND_STREAM_LIMIT}


@service.operation("EnableEnhancedMonitoring")
def enable_monitoring(ctx: RequestContext, req: dict) -> dict:
    return _monitoring(ctx, req, enable=True)


@service.operation("DisableEnhancedMonitoring")
def disable_monitoring(ctx: RequestContext, req: dict) -> dict:
    return _monitoring(ctx, req, enable=False)


def _monitoring(ctx: RequestContext, req: dict, enable: bool) -> dict:
    ref = stream_ref(ctx, req)
    asked = models.expand_metrics(req["ShardLevelMetrics"])
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_active(stream, ref)
        current = list(stream["metrics"])
        if enable:
            desired = [m for m in models.METRICS if m in current or m in asked]
        else:
            desired = [m for m in models.METRICS if m in current and m not in asked]
        begin(ctx, ref, tx, stream, "UPDATING", {"op": "metrics", "metrics": desired})
    after_commit(ctx, ref, stream)
    return {"StreamName": stream["name"], "StreamARN": stream["arn"],
            "CurrentShardLevelMetrics": current, "DesiredShardLevelMetrics": desired}


# (observed, StopStreamEncryption with EncryptionType NONE: quoted in terraform-provider-aws's
# internal/service/kinesis stream.go, "InvalidArgumentException: Encryption type cannot be NONE.");
# StartStreamEncryption is given the same answer
_ENCRYPTION_NONE = "Encryption type cannot be NONE."


@service.operation("StartStreamEncryption")
def start_encryption(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    if req["EncryptionType"] != "KMS":
        raise errors.InvalidArgument(_ENCRYPTION_NONE)
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_active(stream, ref)
        begin(ctx, ref, tx, stream, "UPDATING", {"op": "encryption", "type": "KMS", "key": req["KeyId"]})
    after_commit(ctx, ref, stream)
    return {}


@service.operation("StopStreamEncryption")
def stop_encryption(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    if req["EncryptionType"] != "KMS":
        raise errors.InvalidArgument(_ENCRYPTION_NONE)
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_active(stream, ref)
        begin(ctx, ref, tx, stream, "UPDATING", {"op": "encryption", "type": "NONE", "key": None})
    after_commit(ctx, ref, stream)
    return {}


@service.operation("UpdateStreamMode")
def update_stream_mode(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    mode = req["StreamModeDetails"]["StreamMode"]
    warm = req.get("WarmThroughputMiBps")
    now = ctx.clock.now()
    r = rt(ctx)
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_active(stream, ref)
        if stream["mode"] == mode:
            raise errors.InvalidArgument(f"Stream {ref.name} under account {ref.account} is already in {mode} mode.")
        if warm is not None and mode != "ON_DEMAND":
            raise errors.InvalidArgument("WarmThroughputMiBps can only be specified for ON_DEMAND streams.")
        if warm is not None and store.load_settings(tx, ref.account, ref.region)["commitment"] == "DISABLED":
            raise errors.InvalidArgument(
                "Warm throughput requires MinimumThroughputBillingCommitment to be enabled for the account.")
        changes = [t for t in stream.get("mode_changes", []) if t > now - 86400]
        if len(changes) >= 2:
            # "You can switch between on-demand and provisioned capacity mode twice within 24 hours"
            raise errors.LimitExceeded(f"Stream {ref.name} under account {ref.account} has already changed its "
                                       "capacity mode twice in the last 24 hours.")
        if mode == "PROVISIONED":
            current = open_shard_count(tx, ref.account, ref.region, now)
            extra = len(models.open_shards(stream))
            if current + extra > r.shard_limit:
                raise errors.shard_limit(ref.account, ref.region, current, r.shard_limit, extra)
        else:
            # the account's OnDemandStreamCountLimit (DescribeLimits) holds for streams switched to
            # on-demand as for streams created so
            _check_on_demand_limit(tx, ref.account, ref.region)
        stream["mode_changes"] = changes + [now]
        begin(ctx, ref, tx, stream, "UPDATING", {"op": "mode", "mode": mode, "warm": warm})
    after_commit(ctx, ref, stream)
    return {}


# Not seen from AWS: the API reference says setting AUTO on a provisioned stream is an
# InvalidArgumentException, without its text.
_AUTO_ON_DEMAND_ONLY = ("The record distribution strategy is only supported for streams with the ON_DEMAND "
                        "capacity mode.")


@service.operation("UpdateStreamRecordDistributionStrategy")
def update_record_distribution(ctx: RequestContext, req: dict) -> dict:
    """AUTO spreads new records evenly over the open shards whatever their partition keys;
    USER_PARTITION_KEY (the default) routes by partition key. At once, without UPDATING
    ("the change takes effect immediately"); records already written stay where they are."""
    ref = stream_ref(ctx, req)
    strategy = req["RecordDistributionStrategy"]
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_active(stream, ref)
        if stream["mode"] != "ON_DEMAND":
            raise errors.InvalidArgument(_AUTO_ON_DEMAND_ONLY)
        if strategy == "AUTO":
            stream["distribution"] = strategy
        else:
            stream.pop("distribution", None)
        store.save_stream(tx, ref.account, ref.region, stream)
    return {}


@service.operation("UpdateMaxRecordSize")
def update_max_record_size(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_active(stream, ref)
        begin(ctx, ref, tx, stream, "UPDATING", {"op": "max_record", "kib": req["MaxRecordSizeInKiB"]})
    after_commit(ctx, ref, stream)
    return {}


@service.operation("UpdateStreamWarmThroughput")
def update_warm_throughput(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    mibps = req["WarmThroughputMiBps"]
    if mibps > models.MAX_WARM_THROUGHPUT_MIBPS:
        # "you cannot ... Scale to more than 10 GiBps for an on-demand stream"
        raise errors.LimitExceeded(f"WarmThroughputMiBps {mibps} exceeds the limit of "
                                   f"{models.MAX_WARM_THROUGHPUT_MIBPS} MiBps for an on-demand stream.")
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_active(stream, ref)
        if stream["mode"] != "ON_DEMAND":
            raise errors.InvalidArgument("Warm throughput is only supported for streams with the ON_DEMAND "
                                         "capacity mode.")
        if store.load_settings(tx, ref.account, ref.region)["commitment"] == "DISABLED":
            raise errors.InvalidArgument(
                "Warm throughput requires MinimumThroughputBillingCommitment to be enabled for the account.")
        current = stream.get("warm_current")
        stream["warm_target"] = mibps
        begin(ctx, ref, tx, stream, "UPDATING", {"op": "warm", "mibps": mibps})
    after_commit(ctx, ref, stream)
    return {"StreamARN": stream["arn"], "StreamName": stream["name"],
            "WarmThroughput": {"TargetMiBps": mibps, "CurrentMiBps": current or 0}}


def _settings_view(settings: dict, now: float) -> dict:
    status = settings["commitment"]
    out: dict = {"Status": status}
    if status == "ENABLED_UNTIL_EARLIEST_ALLOWED_END" and now >= settings["earliest_end"]:
        out["Status"] = "DISABLED"
    for field, key in (("StartedAt", "started"), ("EndedAt", "ended"), ("EarliestAllowedEndAt", "earliest_end")):
        if settings.get(key) is not None:
            out[field] = settings[key]
    return out


@service.operation("DescribeAccountSettings")
def describe_account_settings(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        settings = store.load_settings(tx, ctx.account, ctx.region)
    return {"MinimumThroughputBillingCommitment": _settings_view(settings, ctx.clock.now())}


@service.operation("UpdateAccountSettings")
def update_account_settings(ctx: RequestContext, req: dict) -> dict:
    wanted = req["MinimumThroughputBillingCommitment"]["Status"]
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        settings = store.load_settings(tx, ctx.account, ctx.region)
        status = _settings_view(settings, now)["Status"]
        if wanted == "ENABLED" and status != "ENABLED":
            settings = {"commitment": "ENABLED", "started": now, "ended": None,
                        "earliest_end": now + COMMITMENT_MIN_SECONDS}
        elif wanted == "DISABLED" and status == "ENABLED":
            if now < settings["earliest_end"]:
                # the commitment runs until its earliest allowed end, then stops
                settings["commitment"] = "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
                settings["ended"] = settings["earliest_end"]
            else:
                settings["commitment"] = "DISABLED"
                settings["ended"] = now
        store.save_settings(tx, ctx.account, ctx.region, settings)
    return {"MinimumThroughputBillingCommitment": _settings_view(settings, now)}


"""Enhanced fan-out: stream consumers and SubscribeToShard.

SubscribeToShard answers with an ``application/vnd.amazon.eventstream`` body: an
``initial-response`` event, then ``SubscribeToShardEvent``s, pushed as soon as a
put wakes the shard's waiters (no polling), with a heartbeat event every few
seconds when nothing arrives, for up to five minutes. A closed shard read to its
end gets a last event carrying ChildShards and no ContinuationSequenceNumber (what
the KCL takes as the end of the shard), and the stream ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson

from cloudlet.gateway.http import Response
from cloudlet.protocol import cbor_protocol, eventstream, json_protocol
from cloudlet.protocol.model import service_model
from cloudlet.services.base import RequestContext
from cloudlet.services.kinesis import errors, models, store
from cloudlet.services.kinesis.common import Ref, load, parse_shard, rt, stream_ref
from cloudlet.services.kinesis.records import read_batch, start_position
from cloudlet.services.kinesis.runtime import Subscription
from cloudlet.services.kinesis.service import service

log = logging.getLogger("cloudlet.kinesis")

HEARTBEAT = 5.0  # seconds between events when no records arrive
EVENT_MAX_BYTES = 4 * 1024 * 1024  # data per event (base64 grows it by a third; botocore takes 16 MiB)


def _consumer_view(consumer: dict) -> dict:
    return {"ConsumerName": consumer["name"], "ConsumerARN": consumer["arn"],
            "ConsumerStatus": consumer["status"], "ConsumerCreationTimestamp": consumer["created"]}


def _find(tx, ctx: RequestContext, req: dict) -> tuple[Ref, dict, dict]:
    """(ref, stream, consumer) from ConsumerARN, or StreamARN + ConsumerName."""
    arn = req.get("ConsumerARN")
    name = req.get("ConsumerName")
    created = None
    if arn is not None:
        parsed = models.parse_consumer_arn(arn)
        if parsed is None:
            raise errors.InvalidArgument(f"ConsumerARN {arn} is not a valid consumer ARN.")
        region, account, stream_name, arn_name, created = parsed
        if name is not None and name != arn_name:
            raise errors.InvalidArgument(f"ConsumerARN {arn} and ConsumerName {name} do not match.")
        if req.get("StreamARN") is not None and models.parse_stream_arn(req["StreamARN"]) != \
                (region, account, stream_name):
            raise errors.InvalidArgument(f"ConsumerARN {arn} does not belong to stream {req['StreamARN']}.")
        ref, name = Ref(account, region, stream_name), arn_name
    else:
        if name is None or req.get("StreamARN") is None:
            raise errors.InvalidArgument("Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
        ref = stream_ref(ctx, {"StreamARN": req["StreamARN"]})
    stream = load(tx, ctx, ref)
    consumer = store.load_consumer(tx, ref.account, ref.region, stream["id"], name)
    if consumer is not None:
        consumer = store.settle_consumer(tx, ref.account, ref.region, stream["id"], consumer, ctx.clock.now())
    if consumer is None or (created is not None and int(consumer["created"]) != created):
        raise errors.ResourceNotFound(f"Consumer {arn or name} under stream {ref.name} and account {ref.account} "
                                      "not found.")
    return ref, stream, consumer


def _advantage(settings: dict, now: float) -> bool:
    """Whether the account is in On-demand Advantage mode (its billing commitment is on)."""
    status = settings["commitment"]
    return status == "ENABLED" or (status == "ENABLED_UNTIL_EARLIEST_ALLOWED_END" and now < settings["earliest_end"])


@service.operation("RegisterStreamConsumer")
def register_stream_consumer(ctx: RequestContext, req: dict) -> dict:
    from cloudlet.services.kinesis.tags_policies import check_tags

    ref = stream_ref(ctx, {"StreamARN": req["StreamARN"]})
    name = req["ConsumerName"]
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        if stream["status"] in ("CREATING", "DELETING"):
            raise errors.stream_not_active(ref.name, ref.account, stream["status"])
        if req.get("Tags"):
            check_tags(req["Tags"], "add tags to", "consumer", name, ref.account, existing={})
        consumers = list(store.iter_consumers(tx, ref.account, ref.region, stream["id"], now))
        if any(c["name"] == name for c in consumers):
            raise errors.ResourceInUse(f"Consumer {name} under stream {ref.name} and account {ref.account} "
                                       "already exists.")
        limit = models.MAX_CONSUMERS
        if stream["mode"] == "ON_DEMAND" and _advantage(store.load_settings(tx, ref.account, ref.region), now):
            # "With On-demand Advantage streams, you can register up to 50 consumers per stream ...
            # With On-demand Standard and Provisioned streams, ... up to 20" (RegisterStreamConsumer,
            # API reference); On-demand Advantage is the account's MinimumThroughputBillingCommitment
            limit = models.MAX_CONSUMERS_ADVANTAGE
        if len(consumers) >= limit:
            raise errors.LimitExceeded(f"Stream {ref.name} under account {ref.account} already has "
                                       f"{len(consumers)} registered consumers, the maximum allowed.")
        if sum(1 for c in consumers if c["status"] == "CREATING") >= models.MAX_CREATING_CONSUMERS:
            # "you cannot have more than 5 consumers in a CREATING status at the same time"
            raise errors.LimitExceeded(f"Stream {ref.name} under account {ref.account} already has "
                                       f"{models.MAX_CREATING_CONSUMERS} consumers in CREATING status.")
        consumer = {"name": name, "arn": models.consumer_arn(stream["arn"], name, now), "status": "CREATING",
                    "created": now, "until": now + rt(ctx).transition, "tags": dict(req.get("Tags") or {}),
                    "policy": None}
        store.save_consumer(tx, ref.account, ref.region, stream["id"], consumer)
    return {"Consumer": _consumer_view(consumer)}


@service.operation("DescribeStreamConsumer")
def describe_stream_consumer(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        _ref, stream, consumer = _find(tx, ctx, req)
    view = _consumer_view(consumer)
    view["StreamARN"] = stream["arn"]
    return {"ConsumerDescription": view}


@service.operation("ListStreamConsumers")
def list_stream_consumers(ctx: RequestContext, req: dict) -> dict:
    now = ctx.clock.now()
    limit = models.page_size(req.get("MaxResults"), models.LIST_CONSUMERS_PAGE)
    after = None
    token = req.get("NextToken")
    if token is not None:
        if req.get("StreamCreationTimestamp") is not None:
            raise errors.InvalidArgument("NextToken and StreamCreationTimestamp cannot be provided together.")
        parts = models.decode_page_token(token, ctx.account, ctx.region)
        if not parts or parts[0] != "consumers" or len(parts) != 4:
            raise errors.InvalidArgument("Invalid NextToken.")
        if now - parts[3] > models.NEXT_TOKEN_TTL:
            raise errors.ExpiredNextToken("The NextToken has expired.")
        if parts[1] != req["StreamARN"]:
            raise errors.InvalidArgument("The NextToken was issued for another stream.")
        after = parts[2]
    ref = stream_ref(ctx, {"StreamARN": req["StreamARN"]})
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        requested = req.get("StreamCreationTimestamp")
        if requested is not None and int(requested.timestamp()) != int(stream["created"]):
            raise errors.stream_not_found(ref.name, ref.account)
        consumers = []
        for consumer in store.iter_consumers(tx, ref.account, ref.region, stream["id"], now, after=after):
            consumers.append(consumer)
            if len(consumers) > limit:
                break
    page = consumers[:limit]
    out: dict = {"Consumers": [_consumer_view(c) for c in page]}
    if len(consumers) > limit:
        out["NextToken"] = models.encode_page_token(ctx.account, ctx.region,
                                                    ["consumers", req["StreamARN"], page[-1]["name"], now])
    return out


@service.operation("DeregisterStreamConsumer")
def deregister_stream_consumer(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        ref, stream, consumer = _find(tx, ctx, req)
        if consumer["status"] != "DELETING":
            consumer["status"] = "DELETING"
            consumer["until"] = ctx.clock.now() + rt(ctx).transition
            store.save_consumer(tx, ref.account, ref.region, stream["id"], consumer)
    rt(ctx).notify_stream(ref.account, ref.region, stream["id"])
    return {}


# ------------------------------------------------------------------ SubscribeToShard

_event_shape = None


def _event(value: dict, protocol: str) -> bytes:
    """A SubscribeToShardEvent message, its payload in the protocol of the request (the
    Java SDK and the KCL speak CBOR, the others JSON)."""
    global _event_shape
    if _event_shape is None:
        _event_shape = service_model("kinesis").shape_for("SubscribeToShardEvent")
    if protocol == "cbor":
        return eventstream.event("SubscribeToShardEvent", cbor_protocol.serialize_response(_event_shape, value),
                                 cbor_protocol.CONTENT_TYPE)
    return eventstream.event("SubscribeToShardEvent", json_protocol.serialize_response(_event_shape, value))


def _initial(protocol: str) -> bytes:
    if protocol == "cbor":
        return eventstream.event("initial-response", cbor_protocol.serialize_response(None, {}),
                                 cbor_protocol.CONTENT_TYPE)
    return eventstream.event("initial-response", b"{}")


def _exception(code: str, message: str, protocol: str) -> bytes:
    if protocol == "cbor":
        return eventstream.exception(code, cbor_protocol.serialize_response(None, {"message": message}),
                                     cbor_protocol.CONTENT_TYPE)
    return eventstream.exception(code, orjson.dumps({"message": message}))


@service.operation("SubscribeToShard")
async def subscribe_to_shard(ctx: RequestContext, req: dict) -> Response:
    arn = req["ConsumerARN"]
    r = rt(ctx)
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        ref, stream, consumer = _find(tx, ctx, {"ConsumerARN": arn})
        if consumer["status"] != "ACTIVE":
            raise errors.consumer_not_active_subscribe(consumer["name"], int(consumer["created"]), ref.name,
                                                       ref.account)
        index = parse_shard(req["ShardId"], ref)
        shard = models.find_shard(stream, index)
        if shard is None or stream["status"] == "CREATING":
            raise errors.shard_does_not_exist(models.shard_id(index), ref.name, ref.account)
        pos = req["StartingPosition"]
        position = start_position(tx, ctx, ref, stream, shard, pos["Type"], pos.get("SequenceNumber"),
                                  pos.get("Timestamp"), now, "SubscribeToShard")
    key = (consumer["arn"], index)
    current = r.subscriptions.get(key)
    if current is not None and not current.superseded and now - current.started < models.SUBSCRIPTION_TAKEOVER:
        # (observed) "ResourceInUseException: Another active subscription exists for this consumer"
        raise errors.ResourceInUse(f"Another active subscription exists for this consumer: {ref.account}:"
                                   f"{ref.name}:{models.shard_id(index)}:{consumer['name']}")
    if req.get("DryRun"):
        raise errors.dry_run()
    if current is not None:
        current.superseded = True  # "the second call takes over the subscription"
        r.notify_stream(ref.account, ref.region, stream["id"])
    sub = Subscription(now)
    r.subscriptions[key] = sub
    body = _events(ctx, ref, stream["id"], consumer, index, position, sub, key)
    return Response(200, headers=[("Content-Type", "application/vnd.amazon.eventstream"),
                                  ("x-amzn-RequestId", ctx.request_id)], stream=body)


async def _events(ctx: RequestContext, ref: Ref, stream_id: str, consumer: dict, index: int, position: int,
                  sub: Subscription, key: tuple):
    r = rt(ctx)
    clock = ctx.clock
    deadline = sub.started + models.SUBSCRIPTION_TTL
    wake_key = (ref.account, ref.region, stream_id, index)
    last_event = None
    try:
        yield _initial(ctx.protocol)
        while True:
            if sub.superseded:
                yield _exception("ResourceInUseException", "Another subscription for this consumer and shard "
                                                           "took over this one.", ctx.protocol)
                return
            now = clock.now()
            if now >= deadline:
                return  # the 5-minute lifetime is over; the client subscribes again
            waiter = r.register(wake_key)  # before reading: no put between read and wait is missed
            try:
                with ctx.store.transaction() as tx:
                    stream = store.get_stream(tx, ref.account, ref.region, ref.name, now)
                    live = None
                    if stream is not None and stream["id"] == stream_id:
                        live = store.load_consumer(tx, ref.account, ref.region, stream_id, consumer["name"])
                        if live is not None:
                            live = store.settle_consumer(tx, ref.account, ref.region, stream_id, live, now)
                    shard = models.find_shard(stream, index) if live is not None else None
                    if shard is None or live["status"] != "ACTIVE" or live["arn"] != consumer["arn"]:
                        batch = None
                    else:
                        batch = read_batch(tx, ref, stream, shard, position, models.GET_RECORDS_MAX_RECORDS, now,
                                           EVENT_MAX_BYTES)
                if batch is None:
                    r.unregister(wake_key, waiter)
                    yield _exception("ResourceNotFoundException",
                                     f"Consumer {consumer['arn']} or shard {models.shard_id(index)} no longer exists.",
                                     ctx.protocol)
                    return
                heartbeat_due = last_event is None or now - last_event >= HEARTBEAT
                if batch.records or batch.end_of_shard or heartbeat_due:
                    event: dict = {"Records": batch.records, "MillisBehindLatest": batch.millis_behind}
                    if batch.end_of_shard:
                        event["ChildShards"] = models.child_shards_view(stream, index)
                    else:
                        last_seq = batch.next_position - 1
                        event["ContinuationSequenceNumber"] = models.encode_seq(last_seq, index, stream["tag"])
                    position = batch.next_position
                    last_event = now
                    r.unregister(wake_key, waiter)
                    yield _event(event, ctx.protocol)
                    if batch.end_of_shard:
                        return
                    continue  # look again: more may be waiting, or have come while we yielded
                timeout = min(HEARTBEAT - (now - last_event), deadline - now)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(waiter.wait(), max(timeout, 0.001))
            finally:
                r.unregister(wake_key, waiter)
    finally:
        # A subscription the client closes within 5 s of its start still counts against the next
        # call: "If you call SubscribeToShard again with the same ConsumerARN and ShardId within 5
        # seconds of a successful call, you'll get a ResourceInUseException" (SubscribeToShard API
        # reference; daangn/kinesumer#19 met it resubscribing too fast). Later, it is forgotten.
        if r.subscriptions.get(key) is sub and clock.now() - sub.started >= models.SUBSCRIPTION_TAKEOVER:
            del r.subscriptions[key]

"""Tags (the stream APIs and the resource-ARN APIs) and resource-based policies."""

from __future__ import annotations

import orjson

from cloudlet.services.base import RequestContext
from cloudlet.services.kinesis import errors, models, store
from cloudlet.services.kinesis.common import Ref, load, require_active, stream_ref
from cloudlet.services.kinesis.service import service

_ALLOWED = "Unicode letters, digits, white space, _ . / = + - % @ :."
_LEGAL = "Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'."


def check_tags(tags: dict | list, verb: str, kind: str, name: str, account: str, existing: dict | None) -> None:
    """AWS's tag checks. ``verb`` 'add tags to' / 'remove tags from' goes into the message;
    ``existing`` (None for removals) counts toward the limit of 50 tags."""
    values = list(tags) + (list(tags.values()) if isinstance(tags, dict) else [])
    bad = models.invalid_tag_text(values)
    if bad == "chars":
        # (observed) kinesalite's tests against AWS
        raise errors.InvalidArgument(f"Some tags contain invalid characters. Valid characters: {_ALLOWED}")
    if bad == "percent":
        raise errors.InvalidArgument(f"Failed to {verb} {kind} {name} under account {account} because some tags "
                                     f"contained illegal characters. The allowed characters are {_LEGAL}")
    for key in tags:
        if not 1 <= len(key) <= 128:
            raise errors.InvalidArgument(f"Tag key {key!r} must be between 1 and 128 characters long.")
    if isinstance(tags, dict):
        for value in tags.values():
            if len(value) > 256:
                raise errors.InvalidArgument("Tag values must be at most 256 characters long.")
    if existing is not None and len(set(existing) | set(tags)) > models.MAX_TAGS:
        raise errors.InvalidArgument(
            f"Failed to {verb} {kind} {name} under account {account} because a given {kind} cannot have more "
            f"than {models.MAX_TAGS} tags associated with it.")


# ------------------------------------------------------------------ stream tag APIs

@service.operation("AddTagsToStream")
def add_tags_to_stream(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        check_tags(req["Tags"], "add tags to", "stream", ref.name, ref.account, existing=stream["tags"])
        require_active(stream, ref)
        stream["tags"].update(req["Tags"])
        store.save_stream(tx, ref.account, ref.region, stream)
    return {}


@service.operation("RemoveTagsFromStream")
def remove_tags_from_stream(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        check_tags(req["TagKeys"], "remove tags from", "stream", ref.name, ref.account, existing=None)
        require_active(stream, ref)
        for key in req["TagKeys"]:
            stream["tags"].pop(key, None)
        store.save_stream(tx, ref.account, ref.region, stream)
    return {}


@service.operation("ListTagsForStream")
def list_tags_for_stream(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
    keys = sorted(stream["tags"])
    start = req.get("ExclusiveStartTagKey")
    if start is not None:
        keys = [k for k in keys if k > start]
    limit = req.get("Limit") or models.MAX_TAGS
    page = keys[:limit]
    return {"Tags": [{"Key": k, "Value": stream["tags"][k]} for k in page], "HasMoreTags": len(keys) > limit}


# ------------------------------------------------------------------ resource ARNs (streams and consumers)

def _resource(tx, ctx: RequestContext, arn: str) -> tuple[Ref, dict, dict | None]:
    """(ref, stream, consumer or None) for a stream or consumer ARN."""
    parsed = models.parse_consumer_arn(arn)
    if parsed is not None:
        region, account, stream_name, consumer_name, created = parsed
        ref = Ref(account, region, stream_name)
        stream = load(tx, ctx, ref)
        consumer = store.load_consumer(tx, account, region, stream["id"], consumer_name)
        if consumer is not None:
            consumer = store.settle_consumer(tx, account, region, stream["id"], consumer, ctx.clock.now())
        if consumer is None or int(consumer["created"]) != created:
            raise errors.ResourceNotFound(f"Consumer {arn} not found.")
        return ref, stream, consumer
    parsed_stream = models.parse_stream_arn(arn)
    if parsed_stream is None:
        raise errors.InvalidArgument(f"ResourceARN {arn} is not a valid Kinesis stream or consumer ARN.")
    region, account, name = parsed_stream
    ref = Ref(account, region, name)
    return ref, load(tx, ctx, ref), None


def _save(tx, ref: Ref, stream: dict, consumer: dict | None) -> None:
    if consumer is None:
        store.save_stream(tx, ref.account, ref.region, stream)
    else:
        store.save_consumer(tx, ref.account, ref.region, stream["id"], consumer)


def _require_active(ref: Ref, stream: dict, consumer: dict | None) -> None:
    if consumer is None:
        require_active(stream, ref)
    elif consumer["status"] != "ACTIVE":
        raise errors.consumer_not_active(consumer["name"], int(consumer["created"]), ref.name, ref.account)


@service.operation("TagResource")
def tag_resource(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        ref, stream, consumer = _resource(tx, ctx, req["ResourceARN"])
        target = consumer if consumer is not None else stream
        kind = "consumer" if consumer is not None else "stream"
        check_tags(req["Tags"], "add tags to", kind, target["name"], ref.account, existing=target["tags"])
        _require_active(ref, stream, consumer)
        target["tags"].update(req["Tags"])
        _save(tx, ref, stream, consumer)
    return {}


@service.operation("UntagResource")
def untag_resource(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        ref, stream, consumer = _resource(tx, ctx, req["ResourceARN"])
        target = consumer if consumer is not None else stream
        kind = "consumer" if consumer is not None else "stream"
        check_tags(req["TagKeys"], "remove tags from", kind, target["name"], ref.account, existing=None)
        _require_active(ref, stream, consumer)
        for key in req["TagKeys"]:
            target["tags"].pop(key, None)
        _save(tx, ref, stream, consumer)
    return {}


@service.operation("ListTagsForResource")
def list_tags_for_resource(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        _ref, stream, consumer = _resource(tx, ctx, req["ResourceARN"])
    tags = (consumer if consumer is not None else stream)["tags"]
    return {"Tags": [{"Key": k, "Value": tags[k]} for k in sorted(tags)]}


# ------------------------------------------------------------------ resource policies

@service.operation("PutResourcePolicy")
def put_resource_policy(ctx: RequestContext, req: dict) -> dict:
    policy = req["Policy"]
    try:
        parsed = orjson.loads(policy)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise errors.InvalidArgument("Policy is not a valid resource-based policy document: it must be a JSON "
                                     "object with a Statement.")
    with ctx.store.transaction() as tx:
        ref, stream, consumer = _resource(tx, ctx, req["ResourceARN"])
        _require_active(ref, stream, consumer)
        (consumer if consumer is not None else stream)["policy"] = policy
        _save(tx, ref, stream, consumer)
    return {}


@service.operation("GetResourcePolicy")
def get_resource_policy(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        _ref, stream, consumer = _resource(tx, ctx, req["ResourceARN"])
    policy = (consumer if consumer is not None else stream).get("policy")
    return {"Policy": policy if policy is not None else "{}"}


@service.operation("DeleteResourcePolicy")
def delete_resource_policy(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        ref, stream, consumer = _resource(tx, ctx, req["ResourceARN"])
        target = consumer if consumer is not None else stream
        if target.get("policy") is None:
            raise errors.ResourceNotFound(f"No resource policy found for resource {req['ResourceARN']}.")
        _require_active(ref, stream, consumer)
        target["policy"] = None
        _save(tx, ref, stream, consumer)
    return {}

"""Cost-allocation tags: TagQueue, UntagQueue, ListQueueTags."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.sqs import service, store
from cloudlet.services.sqs.common import get_queue
from cloudlet.services.sqs.errors import missing_parameter
from cloudlet.services.sqs.models import validate_tags


@service.operation("TagQueue")
def tag_queue(ctx: RequestContext, req: dict) -> dict:
    tags = req["Tags"]
    with ctx.store.transaction() as tx:
        queue = get_queue(tx, ctx, req["QueueUrl"])
        if not tags:
            raise missing_parameter("Tags")
        validate_tags(tags, queue.tags)
        # A new tag with the key of an existing one overwrites it (API reference, TagQueue).
        queue.tags.update(tags)
        store.save_queue(tx, queue)
    return {}


@service.operation("UntagQueue")
def untag_queue(ctx: RequestContext, req: dict) -> dict:
    keys = req["TagKeys"]
    with ctx.store.transaction() as tx:
        queue = get_queue(tx, ctx, req["QueueUrl"])
        if not keys:
            raise missing_parameter("TagKeys")
        for key in keys:
            queue.tags.pop(key, None)
        store.save_queue(tx, queue)
    return {}


@service.operation("ListQueueTags")
def list_queue_tags(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        queue = get_queue(tx, ctx, req["QueueUrl"])
    return {"Tags": dict(queue.tags)} if queue.tags else {}

"""Glue shared by the handler modules: which queue a request names, the caller, the time."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.sqs import store
from cloudlet.services.sqs.errors import queue_does_not_exist
from cloudlet.services.sqs.models import Queue, parse_arn, parse_queue_url, queue_url


def now_ms(ctx: RequestContext) -> int:
    return int(ctx.clock.now() * 1000)


def queue_ref(ctx: RequestContext, url: str) -> tuple[str, str, str]:
    """(account, region, name) addressed by a queue URL; the region is the request's."""
    parsed = parse_queue_url(url, ctx.account)
    if parsed is None:
        raise queue_does_not_exist(ctx.protocol)
    return parsed[0], ctx.region, parsed[1]


def get_queue(tx, ctx: RequestContext, url: str) -> Queue:
    account, region, name = queue_ref(ctx, url)
    queue = store.load_queue(tx, account, region, name)
    if queue is None:
        raise queue_does_not_exist(ctx.protocol)
    return queue


def arn_lookup(tx):
    """A function from a queue ARN to the stored ``Queue`` (or None), for redrive checks."""
    def lookup(arn: str) -> Queue | None:
        parsed = parse_arn(arn)
        if parsed is None:
            return None
        region, account, name = parsed
        return store.load_queue(tx, account, region, name)
    return lookup


def url_of(ctx: RequestContext, queue: Queue) -> str:
    return queue_url(ctx.host, queue.account, queue.name)


def sender_id(ctx: RequestContext) -> str:
    """SenderId: AWS gives the IAM user/role id; here the caller's access key id."""
    return ctx.access_key or ctx.account

"""AddPermission / RemovePermission: statements in the queue's ``Policy`` attribute,
labelled by their ``Sid`` (the form AWS generates for AddPermission)."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.sqs import service, store
from cloudlet.services.sqs.common import get_queue
from cloudlet.services.sqs.models import add_permission as add_statement
from cloudlet.services.sqs.models import remove_permission as remove_statement


@service.operation("AddPermission")
def add_permission(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        queue = get_queue(tx, ctx, req["QueueUrl"])
        add_statement(queue, req["Label"], req["AWSAccountIds"], req["Actions"], ctx.clock.now())
        store.save_queue(tx, queue)
    return {}


@service.operation("RemovePermission")
def remove_permission(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        queue = get_queue(tx, ctx, req["QueueUrl"])
        remove_statement(queue, req["Label"], ctx.clock.now())
        store.save_queue(tx, queue)
    return {}

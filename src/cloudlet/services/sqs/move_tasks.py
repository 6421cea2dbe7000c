"""Dead-letter queue redrive: StartMessageMoveTask, ListMessageMoveTasks,
CancelMessageMoveTask, and the background worker that really moves the messages.

A task is a store record; the worker is one asyncio task per server that moves
messages of every RUNNING task in small transactions, so a restart (even after
``kill -9``) resumes where the last committed batch ended.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import uuid

from cloudlet.services.base import RequestContext
from cloudlet.services.sqs import service, store
from cloudlet.services.sqs.common import now_ms
from cloudlet.services.sqs.errors import error, invalid_parameter, invalid_value
from cloudlet.services.sqs.models import Queue, parse_arn
from cloudlet.services.sqs.runtime import runtime, waiter_key

log = logging.getLogger("cloudlet.sqs")

MAX_RATE = 500  # messages per second (API reference, StartMessageMoveTask)
_BATCH = 100  # messages per transaction when no rate is given

RUNNING, COMPLETED, CANCELLED, FAILED = "RUNNING", "COMPLETED", "CANCELLED", "FAILED"


def _not_found(what: str) -> Exception:
    return error("ResourceNotFoundException", f"The resource that you specified for the {what} parameter doesn't exist.")


def _queue_by_arn(tx, arn: str | None) -> Queue | None:
    parsed = parse_arn(arn or "")
    if parsed is None:
        return None
    region, account, name = parsed
    return store.load_queue(tx, account, region, name)


def _check_arn_format(name: str, arn: str | None) -> None:
    # An ARN that does not even have the six ARN fields is refused before any lookup
    # (LocalStack's ListMessageMoveTasks, from botocore's ArnParser; Inqnuam/local-aws-sqs
    # move-message-task tests for StartMessageMoveTask SourceArn "" and DestinationArn "invalid").
    parts = (arn or "").split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise invalid_parameter(f"You must use this format to specify the {name}: "
                                "arn:<partition>:<service>:<region>:<account-id>:<resource-id>")


def _handle(task: dict) -> str:
    # AWS's handles are base64 of a JSON document naming the task and its source queue
    # (LocalStack's AWS-validated test_basic_move_task_workflow decodes them so).
    doc = json.dumps({"taskId": task["id"], "sourceArn": task["source_arn"]}, separators=(",", ":"))
    return base64.b64encode(doc.encode()).decode()


def _decode_handle(handle: str) -> tuple[str, str] | None:
    """(task id, source ARN) of a handle, or None when it is not one."""
    try:
        doc = json.loads(base64.b64decode(handle.encode(), validate=True).decode())
    except (binascii.Error, ValueError, UnicodeError):
        return None
    if not isinstance(doc, dict):
        return None
    task_id, source_arn = doc.get("taskId"), doc.get("sourceArn")
    if not isinstance(task_id, str) or not isinstance(source_arn, str) or not task_id:
        return None
    return task_id, source_arn


def _is_dead_letter_queue(tx, queue: Queue) -> bool:
    return any((q.redrive or {}).get("deadLetterTargetArn") == queue.arn
               for q in store.list_queues(tx, queue.account, queue.region))


@service.operation("StartMessageMoveTask")
def start_message_move_task(ctx: RequestContext, req: dict) -> dict:
    rate = req.get("MaxNumberOfMessagesPerSecond")
    if rate is not None and not 1 <= rate <= MAX_RATE:
        raise invalid_value("MaxNumberOfMessagesPerSecond", rate, f"Must be between 1 and {MAX_RATE}, if provided.")
    _check_arn_format("SourceArn", req["SourceArn"])
    if req.get("DestinationArn") is not None:
        _check_arn_format("DestinationArn", req["DestinationArn"])
    now = now_ms(ctx)
    with ctx.store.transaction() as tx:
        source = _queue_by_arn(tx, req["SourceArn"])
        if source is None:
            raise _not_found("SourceArn")
        # Only dead-letter queues of other SQS queues can be redriven.
        if not _is_dead_letter_queue(tx, source):
            raise invalid_parameter("Source queue must be configured as a Dead Letter Queue.")
        dest_arn = req.get("DestinationArn")
        if dest_arn is not None:
            dest = _queue_by_arn(tx, dest_arn)
            if dest is None:
                raise _not_found("DestinationArn")
            if dest.fifo != source.fifo:
                # "you can also configure any other queue as the redrive destination if both
                # queues are the same type" (developer guide, "Learn how to configure a
                # dead-letter queue redrive"). AWS's text for this is not on record; the
                # reason is worded as RedrivePolicy's for a DLQ of the other type.
                raise invalid_parameter("The destination queue must be the same type of queue as the source.")
        if any(t["source_arn"] == source.arn and t["status"] == RUNNING for t in store.tasks(tx)):
            # The text AWS returns (floci-io/floci#910, validated against SQS).
            raise invalid_parameter("There is already a task running. Only one active task is allowed for a source "
                                    "queue arn at a given time.")
        data = store.QueueData(tx, source)
        data.sweep(now)
        task = {
            "id": str(uuid.uuid4()), "account": ctx.account, "region": ctx.region,
            "source_arn": source.arn, "dest_arn": dest_arn, "rate": rate, "status": RUNNING,
            "started_ms": now, "moved": 0, "to_move": data.counts(now)[0], "failure": None,
        }
        store.save_task(tx, task)
    runtime(ctx.app).wake_tasks()
    return {"TaskHandle": _handle(task)}


@service.operation("ListMessageMoveTasks")
def list_message_move_tasks(ctx: RequestContext, req: dict) -> dict:
    limit = req.get("MaxResults")
    if limit is None:
        limit = 1
    elif not 1 <= limit <= 10:
        raise invalid_value("MaxResults", limit, "Must be between 1 and 10, if provided.")
    _check_arn_format("SourceArn", req["SourceArn"])
    with ctx.store.transaction() as tx:
        source = _queue_by_arn(tx, req["SourceArn"])
        if source is None:
            raise _not_found("SourceArn")
        found = [t for t in store.tasks(tx, ctx.account, ctx.region) if t["source_arn"] == source.arn]
    found.sort(key=lambda t: t["started_ms"], reverse=True)
    results = []
    for task in found[:limit]:
        entry = {
            "Status": task["status"],
            "SourceArn": task["source_arn"],
            "ApproximateNumberOfMessagesMoved": task["moved"],
            "ApproximateNumberOfMessagesToMove": task["to_move"],
            "StartedTimestamp": task["started_ms"],
        }
        if task["status"] == RUNNING:  # only a running task can still be cancelled
            entry["TaskHandle"] = _handle(task)
        if task["dest_arn"]:
            entry["DestinationArn"] = task["dest_arn"]
        if task["rate"] is not None:
            entry["MaxNumberOfMessagesPerSecond"] = task["rate"]
        if task["failure"]:
            entry["FailureReason"] = task["failure"]
        results.append(entry)
    return {"Results": results} if results else {}


@service.operation("CancelMessageMoveTask")
def cancel_message_move_task(ctx: RequestContext, req: dict) -> dict:
    # As AWS answers (LocalStack's AWS-validated test_cancel_with_invalid_task_handle,
    # ..._invalid_source_arn_in_task_handle, ..._invalid_task_id_in_task_handle): a handle
    # that does not decode is InvalidParameterValue; one naming a missing queue or task
    # is ResourceNotFoundException.
    decoded = _decode_handle(req["TaskHandle"])
    if decoded is None:
        raise error("InvalidParameterValueException", "Value for parameter TaskHandle is invalid.")
    task_id, source_arn = decoded
    with ctx.store.transaction() as tx:
        source = _queue_by_arn(tx, source_arn)
        if source is None:
            raise _not_found("SourceArn")
        task = store.load_task(tx, source.account, source.region, task_id)
        if task is None or task["source_arn"] != source.arn:
            raise error("ResourceNotFoundException", "Task does not exist.")
        if task["status"] != RUNNING:
            # "A message movement can only be cancelled when the current status is RUNNING."
            raise error("ResourceNotFoundException", "Task does not exist.")
        task["status"] = CANCELLED
        store.save_task(tx, task)
    return {"ApproximateNumberOfMessagesMoved": task["moved"]}


# ---------------------------------------------------------------- the worker

def move_step(app) -> tuple[bool, set[tuple]]:
    """Move one batch for every running task; (any task still running, queues that received messages)."""
    now = int(app.clock.now() * 1000)
    touched: set[tuple] = set()
    running = False
    with app.store.transaction() as tx:
        for task in [t for t in store.tasks(tx) if t["status"] == RUNNING]:
            _advance(tx, task, now, touched)
            store.save_task(tx, task)
            running = running or task["status"] == RUNNING
    return running, touched


def _advance(tx, task: dict, now: int, touched: set[tuple]) -> None:
    source = _queue_by_arn(tx, task["source_arn"])
    if source is None:
        task["status"], task["failure"] = FAILED, "AWS.SimpleQueueService.NonExistentQueue"
        return
    fixed = _queue_by_arn(tx, task["dest_arn"]) if task["dest_arn"] else None
    if task["dest_arn"] and fixed is None:
        task["status"], task["failure"] = FAILED, "AWS.SimpleQueueService.NonExistentQueue"
        return
    budget = min(task["rate"] or _BATCH, task["to_move"] - task["moved"])
    src = store.QueueData(tx, source)
    moved = 0
    if budget > 0:
        for msg in src.available(now):
            if src.expired(msg, now):
                src.remove(msg)
                continue
            # Without a destination each message goes back to the queue it was
            # redriven from (API reference, StartMessageMoveTask DestinationArn).
            target = fixed or _queue_by_arn(tx, msg.dlq_source)
            if target is None:
                task["status"] = FAILED
                task["failure"] = "The original source queue of a message does not exist."
                return
            src.remove(msg)
            store.QueueData(tx, target).insert_moved(msg, now, None, keep_receives=False)
            touched.add(waiter_key(target.account, target.region, target.name))
            moved += 1
            if moved >= budget:
                break
    task["moved"] += moved
    if task["moved"] >= task["to_move"] or moved < budget:
        task["status"] = COMPLETED


async def worker(app) -> None:
    rt = runtime(app)
    rt.tasks_changed = asyncio.Event()
    while True:
        rt.tasks_changed.clear()
        try:
            running, touched = move_step(app)
        except Exception:  # noqa: BLE001 — keep the worker alive; the task stays RUNNING
            log.exception("message move task step failed")
            running, touched = True, set()
            await asyncio.sleep(1)
        for key in touched:
            rt.notify(key)
        if not running:
            await rt.tasks_changed.wait()
        else:
            # A rate-limited task moves its per-second quota, then waits out the second.
            await asyncio.sleep(1 if _rate_limited(app) else 0)


def _rate_limited(app) -> bool:
    with app.store.transaction() as tx:
        return any(t["status"] == RUNNING and t["rate"] for t in store.tasks(tx))

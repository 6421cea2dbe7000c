"""Messages: SendMessage(Batch), ReceiveMessage (long polling), DeleteMessage(Batch),
ChangeMessageVisibility(Batch)."""

from __future__ import annotations

import random

from cloudlet.protocol.errors import ServiceError
from cloudlet.services.base import RequestContext
from cloudlet.services.sqs import service, store
from cloudlet.services.sqs.common import arn_lookup, get_queue, now_ms, sender_id
from cloudlet.services.sqs.errors import error, failed_entry, invalid_value, missing_parameter, receipt_handle_invalid
from cloudlet.services.sqs.message import (
    Message,
    Outgoing,
    attribute_filter,
    check_batch_ids,
    check_fifo_batch,
    check_send,
    has_list_values,
    list_values_unsupported,
    md5_hex,
    parse_receipt_handle,
    receipt_handle,
    render,
)
from cloudlet.services.sqs.models import (
    MAX_BATCH_SIZE,
    MAX_VISIBILITY_TIMEOUT,
    MAX_WAIT_SECONDS,
    Queue,
)
from cloudlet.services.sqs.runtime import runtime, waiter_key

# a receive's nonce tells its receipt handle from earlier ones: unique, not secret
_nonce = random.getrandbits


def _key(queue: Queue) -> tuple:
    return waiter_key(queue.account, queue.region, queue.name)


# ---------------------------------------------------------------- sending

def _header_trace(ctx: RequestContext, out: Outgoing) -> bool:
    """Give ``out`` the X-Ray ``X-Amzn-Trace-Id`` header of the request as its AWSTraceHeader
    when the message sets none itself (True if it did). The header covers every message of a
    SendMessage or SendMessageBatch, and the system attribute overrides it (X-Ray developer
    guide, "Amazon SQS and AWS X-Ray"; LocalStack's AWS-validated test_aws_trace_header_propagation)."""
    if out.trace is None:
        value = ctx.headers.get("x-amzn-trace-id")
        if value:
            out.trace = value
            return True
    return False


def _enqueue(data: store.QueueData, out: Outgoing, sender: str, now: int, sys_digest: bool = True) -> dict:
    """Store one validated message (or recognise a FIFO duplicate); the SendMessage result.
    ``sys_digest``: the request sent the system attributes itself, so their digest is answered."""
    queue = data.queue
    result = {"MD5OfMessageBody": md5_hex(out.body.encode())}
    scope = previous = None
    if queue.fifo:
        scope = data.dedup_scope(out.group)
        previous = dup = data.dedup_record(scope, out.dedup)
        if dup is not None and dup["expires"] > now:
            # Accepted but not delivered again within the 5-minute window: the
            # original message's id and sequence number come back.
            result.update(MessageId=dup["id"], SequenceNumber=dup["seqnum"])
            if out.attrs:
                result["MD5OfMessageAttributes"] = dup["md5_attrs"]
            if dup.get("md5_sys") and sys_digest:
                result["MD5OfMessageSystemAttributes"] = dup["md5_sys"]
            return result
    msg = data.new_message(out.body, out.attrs, out.trace, sender, now, out.delay, out.group, out.dedup)
    if scope is not None:
        data.remember_dedup(scope, out.dedup, msg, now, previous)
    result["MessageId"] = msg.id
    if msg.md5_attrs:
        result["MD5OfMessageAttributes"] = msg.md5_attrs
    if msg.md5_sys and sys_digest:
        result["MD5OfMessageSystemAttributes"] = msg.md5_sys
    if msg.seqnum:
        result["SequenceNumber"] = msg.seqnum
    return result


@service.operation("SendMessage")
def send_message(ctx: RequestContext, req: dict) -> dict:
    now = now_ms(ctx)
    with ctx.store.transaction() as tx:
        queue = get_queue(tx, ctx, req["QueueUrl"])
        out = check_send(queue, req)
        from_header = _header_trace(ctx, out)
        result = _enqueue(store.QueueData(tx, queue), out, sender_id(ctx), now, not from_header)
    runtime(ctx.app).notify(_key(queue))
    return result


def _raw_size(entry: dict) -> int:
    """Size of an entry as sent (body and attributes), before validating it."""
    size = len((entry.get("MessageBody") or "").encode())
    for name, value in (entry.get("MessageAttributes") or {}).items():
        size += len(name.encode()) + len((value.get("DataType") or "").encode())
        size += len(value.get("BinaryValue") or b"") + len((value.get("StringValue") or "").encode())
    return size


@service.operation("SendMessageBatch")
def send_message_batch(ctx: RequestContext, req: dict) -> dict:
    entries = req["Entries"]
    check_batch_ids(entries, "SendMessageBatchRequestEntry")
    if has_list_values(entries):
        raise list_values_unsupported("SendMessageBatch")
    total = sum(_raw_size(e) for e in entries)
    if total > MAX_BATCH_SIZE:
        raise error("BatchRequestTooLong",
                    f"Batch requests cannot be longer than {MAX_BATCH_SIZE} bytes. You have sent {total} bytes.")
    now = now_ms(ctx)
    sender = sender_id(ctx)
    successful, failed = [], []
    with ctx.store.transaction() as tx:
        queue = get_queue(tx, ctx, req["QueueUrl"])
        if queue.fifo:
            check_fifo_batch(queue, entries)
        data = store.QueueData(tx, queue)
        for entry in entries:
            try:
                out = check_send(queue, entry, batch=True)
            except ServiceError as err:
                failed.append(failed_entry(entry["Id"], err))
                continue
            from_header = _header_trace(ctx, out)
            successful.append({"Id": entry["Id"], **_enqueue(data, out, sender, now, not from_header)})
    if successful:
        runtime(ctx.app).notify(_key(queue))
    return {"Successful": successful, "Failed": failed}


# ---------------------------------------------------------------- receiving

def _check_receive(req: dict) -> tuple[int, int | None, int | None]:
    count = req.get("MaxNumberOfMessages")
    if count is None:
        count = 1
    elif not 1 <= count <= 10:
        raise invalid_value("MaxNumberOfMessages", count, "Must be between 1 and 10, if provided.")
    visibility = req.get("VisibilityTimeout")
    if visibility is not None and not 0 <= visibility <= MAX_VISIBILITY_TIMEOUT:
        raise invalid_value("VisibilityTimeout", visibility,
                            f"Must be >= 0 and <= {MAX_VISIBILITY_TIMEOUT}, if provided.")
    wait = req.get("WaitTimeSeconds")
    if wait is not None and not 0 <= wait <= MAX_WAIT_SECONDS:
        raise invalid_value("WaitTimeSeconds", wait, f"Must be >= 0 and <= {MAX_WAIT_SECONDS}, if provided.")
    return count, visibility, wait


class _Redrive:
    """Where messages received too often go (the queue's RedrivePolicy), if anywhere."""

    def __init__(self, tx, queue: Queue):
        self.dlq: store.QueueData | None = None
        self.max_receives = 0
        policy = queue.redrive
        if policy:
            target = arn_lookup(tx)(policy["deadLetterTargetArn"])
            if target is not None:
                self.dlq = store.QueueData(tx, target)
                self.max_receives = int(policy["maxReceiveCount"])
        self.moved = False

    def should_move(self, msg: Message) -> bool:
        # Moved when the receive count would exceed maxReceiveCount.
        return self.dlq is not None and msg.receive_count >= self.max_receives


def _take(data: store.QueueData, redrive: _Redrive, msg: Message, now: int, visibility_ms: int) -> bool:
    """Hand ``msg`` out (True), or drop / redrive it on the way (False)."""
    if data.expired(msg, now):
        data.remove(msg)
        return False
    if redrive.should_move(msg):
        data.remove(msg)
        redrive.dlq.insert_moved(msg, now, data.queue.arn, keep_receives=True)
        redrive.moved = True
        return False
    data.deliver(msg, now, visibility_ms, "%016x" % _nonce(64))
    return True


def _receive_standard(data: store.QueueData, redrive: _Redrive, now: int, count: int,
                      visibility_ms: int) -> list[Message]:
    out: list[Message] = []
    for msg in data.candidates(now):
        if _take(data, redrive, msg, now, visibility_ms):
            out.append(msg)
            if len(out) >= count:
                break
    return out


def _receive_fifo(data: store.QueueData, redrive: _Redrive, now: int, count: int, visibility_ms: int,
                  attempt_id: str | None) -> list[Message]:
    if attempt_id:
        again = _retry_attempt(data, attempt_id, now, visibility_ms)
        if again is not None:
            return again
    out: list[Message] = []
    # Oldest group first; within a group strictly in order, and a group with a
    # message in flight is skipped entirely.
    for group in data.groups(now):
        for msg in data.group_messages(group):
            if msg.visible_at > now:
                break  # delayed: nothing behind it in the group may overtake it
            if _take(data, redrive, msg, now, visibility_ms):
                out.append(msg)
                if len(out) >= count:
                    break
        if len(out) >= count:
            break
    if attempt_id and out:
        data.remember_attempt(attempt_id, [(m.seq, m.nonce) for m in out], now)
    return out


def _retry_attempt(data: store.QueueData, attempt_id: str, now: int, visibility_ms: int) -> list[Message] | None:
    """A ReceiveRequestAttemptId retry within 5 minutes returns the same messages and
    receipt handles, if none of them was deleted or changed since, and resets their
    visibility timeout (API reference, ReceiveMessage)."""
    items = data.attempt(attempt_id, now)
    if not items:
        return None
    messages = []
    for seq, nonce in items:
        msg = data.get(seq)
        if msg is None or msg.nonce != nonce or msg.visible_at <= now:
            return None
        messages.append(msg)
    for msg in messages:
        msg.receipt_ms = now
        data.set_visible_at(msg, now + visibility_ms)
    return messages


@service.operation("ReceiveMessage")
async def receive_message(ctx: RequestContext, req: dict) -> dict:
    count, visibility, wait = _check_receive(req)
    system_names = set(req.get("MessageSystemAttributeNames") or ()) | set(req.get("AttributeNames") or ())
    wanted = attribute_filter(req.get("MessageAttributeNames"))
    attempt_id = req.get("ReceiveRequestAttemptId")
    rt = runtime(ctx.app)
    deadline = None
    while True:
        now = now_ms(ctx)
        with ctx.store.transaction() as tx:
            queue = get_queue(tx, ctx, req["QueueUrl"])
            data = store.QueueData(tx, queue)
            redrive = _Redrive(tx, queue)
            visibility_ms = (queue.visibility_timeout if visibility is None else visibility) * 1000
            if queue.fifo:
                got = _receive_fifo(data, redrive, now, count, visibility_ms, attempt_id)
            else:
                got = _receive_standard(data, redrive, now, count, visibility_ms)
            messages = [render(m, receipt_handle(queue, m.seq, m.nonce), system_names, wanted) for m in got]
            next_change = None if messages else data.next_change(now)
        if redrive.moved:
            rt.notify(_key(redrive.dlq.queue))
        if messages:
            return {"Messages": messages}
        if deadline is None:
            deadline = now + (queue.wait_seconds if wait is None else wait) * 1000
        if now >= deadline:
            return {}
        wake = deadline if next_change is None else min(deadline, next_change)
        await rt.wait(_key(queue), (wake - now) / 1000)


# ---------------------------------------------------------------- deleting

def _delete_one(data: store.QueueData, handle: str, now: int) -> None:
    receipt = parse_receipt_handle(handle)
    if receipt is None or not receipt.belongs_to(data.queue):
        raise receipt_handle_invalid(handle)
    msg = data.get(receipt.seq)
    if msg is None:
        return  # already deleted: DeleteMessage succeeds
    if data.queue.fifo and (msg.nonce != receipt.nonce or msg.visible_at <= now):
        # A FIFO receipt is only good while its visibility timeout runs.
        raise invalid_value("ReceiptHandle", handle, "The receipt handle has expired.")
    # Standard queues accept any receipt handle issued for the message, not only
    # the latest (verified against AWS by moto, getmoto/moto#4655).
    data.remove(msg)


@service.operation("DeleteMessage")
def delete_message(ctx: RequestContext, req: dict) -> dict:
    now = now_ms(ctx)
    with ctx.store.transaction() as tx:
        queue = get_queue(tx, ctx, req["QueueUrl"])
        _delete_one(store.QueueData(tx, queue), req["ReceiptHandle"], now)
    if queue.fifo:  # the group may be unblocked now
        runtime(ctx.app).notify(_key(queue))
    return {}


@service.operation("DeleteMessageBatch")
def delete_message_batch(ctx: RequestContext, req: dict) -> dict:
    queue, result = _per_entry(ctx, req, "DeleteMessageBatchRequestEntry",
                               lambda data, entry, now: _delete_one(data, entry["ReceiptHandle"], now),
                               removes_only=True)
    if queue.fifo and result["Successful"]:
        runtime(ctx.app).notify(_key(queue))
    return result


def _per_entry(ctx: RequestContext, req: dict, entry_name: str, apply, removes_only: bool = False) -> tuple:
    """A receipt-handle batch: ``apply(data, entry, now)`` per entry in one
    transaction; an entry's ServiceError becomes its ``Failed`` result.
    ``removes_only``: ``apply`` only removes messages (FIFO group heads are then
    found once per group at the end)."""
    entries = req["Entries"]
    check_batch_ids(entries, entry_name)
    now = now_ms(ctx)
    successful, failed = [], []
    with ctx.store.transaction() as tx:
        queue = get_queue(tx, ctx, req["QueueUrl"])
        data = store.QueueData(tx, queue)
        if removes_only:
            data.defer_heads()
        for entry in entries:
            try:
                apply(data, entry, now)
            except ServiceError as err:
                failed.append(failed_entry(entry["Id"], err))
            else:
                successful.append({"Id": entry["Id"]})
        data.settle_heads()
    return queue, {"Successful": successful, "Failed": failed}


# ---------------------------------------------------------------- visibility

def _change_one(data: store.QueueData, handle: str, timeout: int | None, now: int) -> None:
    if timeout is None:
        raise missing_parameter("VisibilityTimeout")
    if not 0 <= timeout <= MAX_VISIBILITY_TIMEOUT:
        raise invalid_value("VisibilityTimeout", timeout, f"Must be >= 0 and <= {MAX_VISIBILITY_TIMEOUT}.")
    receipt = parse_receipt_handle(handle)
    if receipt is None or not receipt.belongs_to(data.queue):
        raise receipt_handle_invalid(handle)
    msg = data.get(receipt.seq)
    if msg is None:
        raise invalid_value("ReceiptHandle", handle,
                            "Message does not exist or is not available for visibility timeout change.")
    if msg.nonce is None or msg.visible_at <= now:
        if not data.queue.fifo:
            # Its visibility timeout has already ended: AWS answers OK and changes
            # nothing, the message stays visible (AWS-validated, localstack#9598 / #9632).
            return
        raise error("MessageNotInflight", "The message referred to isn't in flight.")
    if data.queue.fifo and msg.nonce != receipt.nonce:
        raise invalid_value("ReceiptHandle", handle, "The receipt handle has expired.")
    # At most 12 hours from the receive that started this receipt (API reference,
    # ChangeMessageVisibility; the reason text as AWS returns it, localstack#3956).
    if now + timeout * 1000 - msg.receipt_ms > MAX_VISIBILITY_TIMEOUT * 1000:
        raise invalid_value("VisibilityTimeout", timeout,
                            f"Total VisibilityTimeout for the message is beyond the limit [{MAX_VISIBILITY_TIMEOUT} seconds]")
    data.set_visible_at(msg, now + timeout * 1000)


@service.operation("ChangeMessageVisibility")
def change_message_visibility(ctx: RequestContext, req: dict) -> dict:
    now = now_ms(ctx)
    with ctx.store.transaction() as tx:
        queue = get_queue(tx, ctx, req["QueueUrl"])
        _change_one(store.QueueData(tx, queue), req["ReceiptHandle"], req["VisibilityTimeout"], now)
    runtime(ctx.app).notify(_key(queue))
    return {}


@service.operation("ChangeMessageVisibilityBatch")
def change_message_visibility_batch(ctx: RequestContext, req: dict) -> dict:
    queue, result = _per_entry(
        ctx, req, "ChangeMessageVisibilityBatchRequestEntry",
        lambda data, entry, now: _change_one(data, entry["ReceiptHandle"], entry.get("VisibilityTimeout"), now))
    if result["Successful"]:
        runtime(ctx.app).notify(_key(queue))
    return result

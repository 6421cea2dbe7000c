"""Amazon SQS: all 23 operations of botocore's ``sqs`` model, over JSON and query.

Layout: ``models.py`` / ``message.py`` hold the domain rules (pure, ``now`` passed
in), ``store.py`` the key layout, ``queues.py`` / ``messages.py`` /
``move_tasks.py`` / ``permissions.py`` / ``tags.py`` the handlers, ``runtime.py``
the in-process waiters and background tasks, ``errors.py`` the error table.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from cloudlet.protocol.errors import SerializationException
from cloudlet.protocol.validate import serialization_message
from cloudlet.services.base import RequestContext, Service
from cloudlet.services.sqs.errors import (
    QUERY_ERROR_CODES,
    error,
    invalid_parameter,
    invalid_value,
    missing_parameter,
    unknown_attribute,
)
from cloudlet.services.sqs.message import SYSTEM_ATTRIBUTES
from cloudlet.services.sqs.models import READ_ONLY, SETTABLE
from cloudlet.services.sqs.query_compat import QUERY_NAMES, XML_NAMESPACE

service = Service("sqs")
service.query_error_codes = QUERY_ERROR_CODES
service.xml_namespace = XML_NAMESPACE
service.query_names = QUERY_NAMES
service.error_type_prefix = "com.amazonaws.sqs#"
# An action SQS does not know, at the root or at a queue URL: AWS says "endpoint" where
# EC2-era query services say "web service" (LocalStack's AWS-validated
# TestSqsQueryApi.test_invalid_action_raises_exception; the same text for an action the
# root endpoint refused in mirkokiefer/aws-lib#8). Read by the gateway's router.
service.invalid_action_message = "The action {action} is not valid for this endpoint."

# Handler modules register their operations on ``service``.
from cloudlet.services.sqs import messages, move_tasks, permissions, queues, tags  # noqa: E402,F401
from cloudlet.services.sqs.runtime import runtime  # noqa: E402
from cloudlet.services.sqs.sweeper import sweeper  # noqa: E402

# ---------------------------------------------------------------- request glue

_QUEUE_PATH = re.compile(r"^/(\d{12})/([^/?]+)/?$")
_WITHOUT_QUEUE_URL = {"CreateQueue", "GetQueueUrl", "ListQueues", "StartMessageMoveTask",
                      "ListMessageMoveTasks", "CancelMessageMoveTask"}


# Actions that are not about one queue cannot be sent to a queue URL (AWS answers
# InvalidAction, LocalStack's AWS-validated test_get_create_queue_fails / test_get_list_queues_fails).
_NOT_ON_A_QUEUE_URL = {"CreateQueue", "ListQueues"}


def preprocess(ctx: RequestContext, req: dict) -> None:
    if ctx.operation in _NOT_ON_A_QUEUE_URL and _QUEUE_PATH.match(ctx.path):
        raise error("InvalidAction", service.invalid_action_message.format(action=ctx.operation))
    # Query-protocol clients POST to the queue URL and leave QueueUrl out.
    if ctx.operation not in _WITHOUT_QUEUE_URL and not req.get("QueueUrl"):
        m = _QUEUE_PATH.match(ctx.path)
        if m:
            req["QueueUrl"] = f"http://{ctx.host}/{m.group(1)}/{m.group(2)}"
    if ctx.operation == "ReceiveMessage":
        # AttributeNames (deprecated) is modelled as a list of *queue* attribute
        # names but carries message system attribute names; SDKs send e.g.
        # "SentTimestamp" there. Check it as what it means.
        names = req.get("AttributeNames")
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            del req["AttributeNames"]
            # Queue attribute names there (the documented list even shows
            # SqsManagedSseEnabled) ask for nothing a message has: ignored.
            names = [n for n in names if n in SYSTEM_ATTRIBUTES or n == "All" or n not in SETTABLE + READ_ONLY]
            extra = req.get("MessageSystemAttributeNames")
            if extra is None:
                req["MessageSystemAttributeNames"] = names
            elif isinstance(extra, list):
                req["MessageSystemAttributeNames"] = extra + [n for n in names if n not in extra]


_ATTRIBUTE_LISTS = ("Attributes", "AttributeNames", "MessageSystemAttributeNames")
# Required members AWS names otherwise when they are missing: DeleteMessage without a
# ReceiptHandle is "The request must contain the parameter MessageHandle." (reproduced
# against SQS by the SDK team in aws/aws-sdk-js-v3#5478; also #6092).
# SetQueueAttributes without attributes: see queues.set_queue_attributes.
_MISSING_NAMES = {
    ("DeleteMessage", "receiptHandle"): "MessageHandle",
    ("SetQueueAttributes", "attributes"): "Attribute.Name",
}
_MISSING_TYPE = re.compile(r"(?:m|\.M)essageAttributes\.(.+)\.member\.dataType$")


def validation_error(operation: str, violations: list, protocol: str = "json"):
    """What SQS answers for requests the model rejects: over JSON a value of the
    wrong JSON type is a SerializationException from the deserializer ("STRING_VALUE
    can not be converted to an Integer", answered by sqs.eu-central-1 in
    async-aws/aws#1667); then MissingParameter for an absent required member ("The
    request must contain the parameter X."), InvalidAttributeName for unknown
    attribute names, InvalidParameterValue otherwise (SQS API reference, Common Errors)."""
    if protocol == "json":
        for v in violations:
            if v.kind == "type":
                return SerializationException(
                    message=serialization_message(v, "{token} can not be converted to {a} {type}"))
    for v in violations:
        if v.kind == "required":
            if v.path == "entries":
                # No entries at all (the query protocol cannot send an empty list).
                return error("EmptyBatchRequest",
                             f"There should be at least one {operation}RequestEntry in the request.")
            m = _MISSING_TYPE.search(v.path)
            if m:
                return invalid_parameter(
                    f"The message attribute '{m.group(1)}' must contain non-empty message attribute type.")
            return missing_parameter(_MISSING_NAMES.get((operation, v.path), v.member))
    for v in violations:
        if v.kind == "enum" and v.member in _ATTRIBUTE_LISTS:
            return unknown_attribute(v.value)
    v = violations[0]
    reason = v.constraint.replace("Member must", "Must")
    return invalid_value(v.member, v.value, reason + ".")


service.preprocess = preprocess
service.validation_error = validation_error

# ---------------------------------------------------------------- lifecycle


async def _start(app) -> None:
    rt = runtime(app)
    rt.background.append(asyncio.create_task(move_tasks.worker(app), name="sqs-move-tasks"))
    rt.background.append(asyncio.create_task(sweeper(app), name="sqs-retention"))


async def _stop(app) -> None:
    rt = runtime(app)
    for task in rt.background:
        task.cancel()
    for task in rt.background:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    rt.background.clear()
    rt.notify_all()


def _reset(app) -> None:
    # The store is wiped by the app; long polls re-check (and find their queue gone).
    runtime(app).notify_all()


service.startup.append(_start)
service.shutdown.append(_stop)
service.on_reset.append(_reset)

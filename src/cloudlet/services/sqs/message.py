"""Messages as values: validation of what a sender sends, digests, receipt handles,
the attributes a receiver asks for.

Pure functions and records only (callers pass ``now``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from operator import attrgetter

from cloudlet.protocol.errors import ServiceError
from cloudlet.services.sqs.errors import error, invalid_parameter, invalid_value, missing_parameter
from cloudlet.services.sqs.models import MAX_DELAY_SECONDS, Queue

# ---------------------------------------------------------------- the message record

@dataclass(slots=True)
class Message:
    seq: int  # position in the queue (send order); part of every index key
    id: str
    body: str
    md5_body: str
    attrs: dict  # message attributes as sent: {name: {"DataType", "StringValue" | "BinaryValue"}}
    md5_attrs: str | None
    trace: str | None  # the AWSTraceHeader system attribute
    md5_sys: str | None
    sent_ms: int
    sender: str
    group: str | None = None
    dedup: str | None = None
    seqnum: str | None = None  # FIFO SequenceNumber
    visible_at: int = 0  # epoch ms when it can next be received
    receive_count: int = 0
    first_receive_ms: int | None = None
    nonce: str | None = None  # identifies the current receipt handle
    receipt_ms: int | None = None  # when the current receipt was handed out (12-hour cap)
    dlq_source: str | None = None  # ARN of the queue a redrive moved it from
    enqueued_ms: int | None = None  # when retention starts, if not at sent_ms (FIFO dead-letter moves)

    def to_record(self) -> tuple:
        """The stored form: the fields in declaration order (a new field goes last,
        with a default, so records written before it still load)."""
        return _FIELDS(self)

    @classmethod
    def from_record(cls, r: tuple | dict) -> "Message":
        # dicts are records written before records became tuples (6x slower to load)
        return cls(*r) if type(r) is tuple else cls(**r)


_FIELDS = attrgetter(*Message.__slots__)


def enqueued(msg: Message) -> int:
    """Where the retention period of ``msg`` starts (epoch ms)."""
    return msg.enqueued_ms if msg.enqueued_ms is not None else msg.sent_ms


def retention_indexed(msg: Message) -> bool:
    """Whether ``msg`` needs a retention index entry: its seq (clock microseconds
    at the latest when it was stored) does not say when its retention started
    (see ``store``)."""
    return msg.seq // 1000 != enqueued(msg)


def vis_flag(msg: Message) -> bytes:
    """The visibility index value: what a message whose visible_at is still ahead is
    waiting for -- b"f" the end of a receipt (in flight), b"d" its delay."""
    if msg.nonce is not None:
        return b"f"
    return b"d" if msg.visible_at > enqueued(msg) else b"a"


# ---------------------------------------------------------------- digests

def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 — the protocol's checksum, not security


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_of_attributes(attrs: dict) -> str | None:
    """MD5OfMessageAttributes as the SQS developer guide specifies it.

    For each attribute, sorted by name: 4-byte big-endian length + UTF-8 name,
    length + UTF-8 data type, one transport byte (1 = String/Number, 2 = Binary),
    length + value (UTF-8 string or raw bytes). MD5 of the concatenation.
    """
    if not attrs:
        return None
    buf = bytearray()
    for name in sorted(attrs):
        value = attrs[name]
        dtype = value["DataType"]
        buf += _length_prefixed(name.encode())
        buf += _length_prefixed(dtype.encode())
        if dtype.startswith("Binary"):
            buf += b"\x02" + _length_prefixed(bytes(value["BinaryValue"]))
        else:
            buf += b"\x01" + _length_prefixed(value["StringValue"].encode())
    return md5_hex(bytes(buf))


# ---------------------------------------------------------------- what a sender may send

# XML 1.0 characters: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
_INVALID_CHARS = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
INVALID_CHARS_TEXT = ("Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
                      "#xE000 to #xFFFD | #x10000 to #x10FFFF")
# "Alphanumeric" as Java means it: letters and digits of any script ("attr.1øßä" is a valid
# name, LocalStack's AWS-validated test_send_message_with_invalid_string_attributes; "§" is not).
_ATTR_NAME = re.compile(r"[\w.-]{1,256}")
_DATA_TYPE = re.compile(r"(String|Number|Binary)(\..+)?", re.DOTALL)
_FIFO_TOKEN = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
MAX_MESSAGE_ATTRIBUTES = 10
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def has_invalid_chars(text: str) -> bool:
    return _INVALID_CHARS.search(text) is not None


def list_values_unsupported(operation: str) -> ServiceError:
    # The model reserves StringListValues/BinaryListValues ("Not implemented"); AWS refuses them
    # as UnsupportedOperation, for SendMessageBatch as the whole request's error
    # (ruby-shoryuken/shoryuken#769: "Message attribute list values in SendMessageBatch
    # operation are not supported. (Aws::SQS::Errors::UnsupportedOperation)").
    return error("UnsupportedOperation", f"Message attribute list values in {operation} operation are not supported.")


def has_list_values(entries: list[dict]) -> bool:
    return any(value.get("StringListValues") or value.get("BinaryListValues")
               for entry in entries for value in (entry.get("MessageAttributes") or {}).values())


def validate_message_attributes(attrs: dict) -> int:
    """Check message attributes; return their size in bytes (counted towards the message size)."""
    if len(attrs) > MAX_MESSAGE_ATTRIBUTES:
        raise invalid_parameter(
            f"Number of message attributes [{len(attrs)}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].")
    size = 0
    for name, value in attrs.items():
        if not name:
            raise invalid_parameter("The request must contain non-empty message attribute name.")
        lowered = name.lower()
        if (not _ATTR_NAME.fullmatch(name) or name.startswith(".") or name.endswith(".") or ".." in name
                or lowered.startswith("aws.") or lowered.startswith("amazon.")):
            raise invalid_parameter(f"Message (user) attribute name '{name}' is invalid. Message attribute names "
                                    "can contain alphanumeric characters, hyphens, underscores and periods, must "
                                    "not start or end with a period, and must not start with AWS. or Amazon.")
        dtype = value.get("DataType") or ""
        if not dtype:
            raise invalid_parameter(f"The message attribute '{name}' must contain non-empty message attribute type.")
        if not _DATA_TYPE.fullmatch(dtype) or len(dtype) > 256:
            raise invalid_parameter(f"The type of message (user) attribute '{name}' is invalid. You must use only the "
                                    "following supported type prefixes: Binary, Number, String.")
        if value.get("StringListValues") or value.get("BinaryListValues"):
            raise list_values_unsupported("SendMessage")
        if dtype.startswith("Binary"):
            blob = value.get("BinaryValue")
            if not blob:
                raise invalid_parameter(f"Message (user) attribute '{name}' must contain a non-empty value of type "
                                        "'Binary'.")
            size += len(blob)
        else:
            text = value.get("StringValue")
            if not text:
                raise invalid_parameter(f"Message (user) attribute '{name}' must contain a non-empty value of type "
                                        f"'{dtype.split('.')[0]}'.")
            if has_invalid_chars(text):
                raise invalid_parameter(INVALID_CHARS_TEXT)
            if dtype.startswith("Number"):
                # A plain decimal numeral, as Java's BigDecimal reads one: Python's Decimal()
                # would also take " 1", "1_000", "NaN" and "Infinity".
                if _DECIMAL.fullmatch(text) is None:
                    # SQS's text ("Could not cast ... value to number." is SNS's): a live boto3
                    # capture quoted in substrate's SQS attribute rules, and Inqnuam/local-aws-sqs.
                    raise invalid_parameter(f"Can't cast the value of message (user) attribute '{name}' to a number.")
            size += len(text.encode())
        size += len(name.encode()) + len(dtype.encode())
    return size


def clean_attributes(attrs: dict) -> dict:
    """The stored form: only DataType and the value member, as bytes / str."""
    out = {}
    for name, value in attrs.items():
        if value["DataType"].startswith("Binary"):
            out[name] = {"DataType": value["DataType"], "BinaryValue": bytes(value["BinaryValue"])}
        else:
            out[name] = {"DataType": value["DataType"], "StringValue": value["StringValue"]}
    return out


def trace_header(system_attrs: dict | None) -> str | None:
    """The AWSTraceHeader system attribute (the only one a sender may set)."""
    if not system_attrs:
        return None
    value = system_attrs.get("AWSTraceHeader")
    if value is None:
        raise invalid_parameter("Message system attribute name is invalid: only AWSTraceHeader is supported.")
    if value.get("DataType") != "String" or not value.get("StringValue"):
        raise invalid_parameter("The message system attribute 'AWSTraceHeader' must be of type 'String' with a "
                                "non-empty value.")
    return value["StringValue"]


@dataclass(slots=True)
class Outgoing:
    """A validated SendMessage (or batch entry), ready to be stored."""

    body: str
    attrs: dict
    trace: str | None
    delay: int
    group: str | None
    dedup: str | None  # explicit or content-based; None for standard queues


_WRONG_QUEUE_TYPE = "The request include parameter that is not valid for this queue type"


def _wrong_queue_type(name: str, value, batch: bool):
    # SendMessage names the parameter ("Value 2 for parameter DelaySeconds is invalid. Reason:
    # ... queue type.": LocalStack's AWS-validated test_fifo_queue_send_message_with_delay_seconds_fails);
    # a SendMessageBatch entry's Failed message is the bare reason, without the period, as AWS
    # answered a Lambda's batch (aws/aws-sdk-js#3187).
    return invalid_parameter(_WRONG_QUEUE_TYPE) if batch else invalid_value(name, value, _WRONG_QUEUE_TYPE + ".")


def check_send(queue: Queue, req: dict, batch: bool = False) -> Outgoing:
    """Every rule of SendMessage that does not need the store (order as AWS checks);
    ``batch``: ``req`` is a SendMessageBatch entry."""
    body = req.get("MessageBody")
    if not body:
        raise missing_parameter("MessageBody")
    if has_invalid_chars(body):
        raise error("InvalidMessageContents", INVALID_CHARS_TEXT)
    delay = req.get("DelaySeconds")
    if delay is not None:
        if queue.fifo and delay != 0:
            # FIFO queues only have a queue-level delay (an explicit 0 asks for nothing).
            raise _wrong_queue_type("DelaySeconds", delay, batch)
        if not 0 <= delay <= MAX_DELAY_SECONDS:
            raise invalid_value("DelaySeconds", delay, f"DelaySeconds must be >= 0 and <= {MAX_DELAY_SECONDS}.")
    attrs = req.get("MessageAttributes") or {}
    size = len(body.encode()) + validate_message_attributes(attrs)
    if size > queue.max_message_size:
        # A batch entry's Failed message words it otherwise: "One or more parameters cannot be
        # validated. Reason: ..." (LocalStack's AWS-validated test_send_batch_message_size, 2024).
        raise invalid_parameter(f"One or more parameters {'cannot be validated' if batch else 'are invalid'}. "
                                f"Reason: Message must be shorter than {queue.max_message_size} bytes.")
    trace = trace_header(req.get("MessageSystemAttributes"))
    group = req.get("MessageGroupId")
    dedup = req.get("MessageDeduplicationId")
    if queue.fifo:
        if not group:
            raise missing_parameter("MessageGroupId")
        if not _FIFO_TOKEN.fullmatch(group):
            raise invalid_value("MessageGroupId", group, "MessageGroupId can only include alphanumeric and "
                                "punctuation characters. 1 to 128 in length.")
        if dedup is None:
            if not queue.content_based_dedup:
                raise invalid_parameter("The queue should either have ContentBasedDeduplication enabled or "
                                        "MessageDeduplicationId provided explicitly")
            dedup = hashlib.sha256(body.encode()).hexdigest()
        elif not _FIFO_TOKEN.fullmatch(dedup):
            raise invalid_value("MessageDeduplicationId", dedup, "MessageDeduplicationId can only include "
                                "alphanumeric and punctuation characters. 1 to 128 in length.")
    else:
        if dedup is not None:
            raise _wrong_queue_type("MessageDeduplicationId", dedup, batch)
        # Since 2025 a MessageGroupId on a standard queue enables fair queues; it is kept and returned.
        if group is not None and not _FIFO_TOKEN.fullmatch(group):
            raise invalid_value("MessageGroupId", group, "MessageGroupId can only include alphanumeric and "
                                "punctuation characters. 1 to 128 in length.")
    if delay is None or queue.fifo:
        delay = queue.delay_seconds
    return Outgoing(body, clean_attributes(attrs), trace, delay,
                    group, dedup)


def check_fifo_batch(queue: Queue, entries: list[dict]) -> None:
    """A FIFO SendMessageBatch with an entry lacking its MessageGroupId (or its
    MessageDeduplicationId, without content-based deduplication) fails as a whole with
    InvalidParameterValue, not as a ``Failed`` entry (AWS-validated, LocalStack
    test_send_batch_missing_message_group_id_for_fifo_queue / ..._deduplication_id_...)."""
    for entry in entries:
        if not entry.get("MessageGroupId"):
            raise invalid_parameter("The request must contain the parameter MessageGroupId.")
        if entry.get("MessageDeduplicationId") is None and not queue.content_based_dedup:
            raise invalid_parameter("The queue should either have ContentBasedDeduplication enabled or "
                                    "MessageDeduplicationId provided explicitly")


def sequence_number(seq: int) -> str:
    """FIFO SequenceNumber: large, non-consecutive, strictly increasing per queue, 20 digits
    (seqs are microseconds since 1970, or small counters in data from earlier versions)."""
    return str(10**19 + seq)


# ---------------------------------------------------------------- receipt handles

def receipt_handle(queue: Queue, seq: int, nonce: str) -> str:
    """An opaque handle naming the queue (and which incarnation of that name: the
    creation time), the message and this particular receipt of it."""
    raw = f"{queue.account}\x1f{queue.region}\x1f{queue.name}\x1f{queue.created}\x1f{seq}\x1f{nonce}".encode()
    return base64.b64encode(raw).decode()


@dataclass(slots=True, frozen=True)
class Receipt:
    account: str
    region: str
    queue: str
    created: int
    seq: int
    nonce: str

    def belongs_to(self, queue: Queue) -> bool:
        return (self.account, self.region, self.queue, self.created) == (
            queue.account, queue.region, queue.name, queue.created)


def parse_receipt_handle(handle: str) -> Receipt | None:
    """The receipt a handle names, or None when it is not a handle cloudlet issued."""
    try:
        raw = base64.b64decode(handle.encode(), validate=True).decode()
        account, region, queue, created, seq, nonce = raw.split("\x1f")
        return Receipt(account, region, queue, int(created), int(seq), nonce)
    except (binascii.Error, ValueError, UnicodeError):
        return None


# ---------------------------------------------------------------- what a receiver asks for

SYSTEM_ATTRIBUTES = (
    "SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
    "SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "AWSTraceHeader", "DeadLetterQueueSourceArn",
)


def system_attributes(msg: Message, names: set[str]) -> dict[str, str]:
    if not names:
        return {}
    every = "All" in names
    values = {
        "SenderId": msg.sender,
        "SentTimestamp": str(msg.sent_ms),
        "ApproximateReceiveCount": str(msg.receive_count),
        "ApproximateFirstReceiveTimestamp": str(msg.first_receive_ms) if msg.first_receive_ms else None,
        "SequenceNumber": msg.seqnum,
        "MessageDeduplicationId": msg.dedup,
        "MessageGroupId": msg.group,
        "AWSTraceHeader": msg.trace,
        "DeadLetterQueueSourceArn": msg.dlq_source,
    }
    return {k: v for k, v in values.items() if v is not None and (every or k in names)}


def attribute_filter(names: list[str] | None):
    """A predicate over message attribute names for MessageAttributeNames:
    ``All`` / ``.*`` / ``*`` select all (``*`` as AWS answers it, LocalStack's AWS-validated
    test_receive_message_message_attribute_names_filters), ``prefix.*`` selects names
    starting with ``prefix`` (there ``Hel.*`` selects ``Hello`` and ``Help.Me``)."""
    if not names:
        return lambda name: False
    if "All" in names or ".*" in names or "*" in names:
        return lambda name: True
    exact = {n for n in names if not n.endswith(".*")}
    prefixes = tuple(n[:-2] for n in names if n.endswith(".*"))
    return lambda name: name in exact or (bool(prefixes) and name.startswith(prefixes))


def render(msg: Message, handle: str, sys_names: set[str], attr_filter) -> dict:
    """A ``Message`` of the ReceiveMessage output."""
    out = {"MessageId": msg.id, "ReceiptHandle": handle, "MD5OfBody": msg.md5_body, "Body": msg.body}
    attrs = system_attributes(msg, sys_names)
    if attrs:
        out["Attributes"] = attrs
    chosen = {k: v for k, v in msg.attrs.items() if attr_filter(k)}
    if chosen:
        out["MessageAttributes"] = chosen
        # The digest covers the attributes returned, so clients can verify what they got.
        out["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
    return out


def check_batch_ids(entries: list[dict], entry_name: str) -> None:
    """The request-level batch rules shared by the three batch operations."""
    if not entries:
        raise error("EmptyBatchRequest", f"There should be at least one {entry_name} in the request.")
    if len(entries) > 10:
        raise error("TooManyEntriesInBatchRequest",
                    f"Maximum number of entries per request are 10. You have sent {len(entries)}.")
    seen = set()
    for entry in entries:
        entry_id = entry.get("Id")
        if entry_id in seen:
            raise error("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
        seen.add(entry_id)
    for entry in entries:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", entry.get("Id") or ""):
            raise error("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens "
                        "and underscores. It can be at most 80 letters long.")


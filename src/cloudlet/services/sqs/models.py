"""Queues as values: names, URLs and ARNs, attributes and their rules, redrive and policies.

Pure functions and records only: no store, no clock (callers pass ``now``), no
I/O. Message-level rules live in ``message.py``.

Limits and defaults are those of the SQS API reference for CreateQueue /
SetQueueAttributes as shipped in botocore's model documentation (1.43): e.g.
MaximumMessageSize 1,024..1,048,576 bytes, default 1,048,576 (raised to 1 MiB in 2025).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cloudlet.services.sqs.errors import (
    error,
    invalid_attribute_value,
    invalid_parameter,
    invalid_value,
    missing_parameter,
    unknown_attribute,
)

# ---------------------------------------------------------------- limits

MAX_MESSAGE_SIZE = 1_048_576
MAX_BATCH_SIZE = 1_048_576  # sum of message sizes in one SendMessageBatch
MAX_BATCH_ENTRIES = 10
MAX_VISIBILITY_TIMEOUT = 43_200  # 12 hours, also the cap on one receipt's total
MAX_DELAY_SECONDS = 900
MAX_WAIT_SECONDS = 20
DEDUP_WINDOW_SECONDS = 300  # FIFO deduplication and ReceiveRequestAttemptId interval
PURGE_INTERVAL_SECONDS = 60
RECREATE_AFTER_DELETE_SECONDS = 60
MAX_TAGS = 50
MAX_POLICY_STATEMENTS = 20
MAX_LIST_QUEUES = 1000

# ---------------------------------------------------------------- attributes

_INT_RANGES = {
    "DelaySeconds": (0, MAX_DELAY_SECONDS),
    "MaximumMessageSize": (1024, MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, MAX_WAIT_SECONDS),
    "VisibilityTimeout": (0, MAX_VISIBILITY_TIMEOUT),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
_BOOLEANS = ("SqsManagedSseEnabled", "ContentBasedDeduplication", "FifoQueue")
_ENUMS = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
FIFO_ONLY = ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
READ_ONLY = (
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
)
SETTABLE = (
    "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "Policy", "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled", *FIFO_ONLY,
)
# Removable by setting the empty string.
_CLEARABLE = ("Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId")

STANDARD_DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": str(MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    # New queues get SSE-SQS by default since October 2022.
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS = {
    **STANDARD_DEFAULTS,
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}

# The order GetQueueAttributes(All) lists them in.
ALL_ATTRIBUTES = (
    "QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "VisibilityTimeout",
    "MaximumMessageSize", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds", "Policy",
    "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
)

# ---------------------------------------------------------------- names, URLs, ARNs

_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_JAVA_INT = re.compile(r"[+-]?[0-9]{1,10}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")
_ARN = re.compile(r"arn:aws[a-z-]*:sqs:([a-z0-9-]*):(\d{12}):([A-Za-z0-9_.-]{1,80})")


def validate_queue_name(name: str, fifo: bool) -> None:
    # Texts as AWS returns them (boto/botocore#3058; aws-marketplace-serverless-saas-integration#29).
    if fifo:
        if not _FIFO_NAME.fullmatch(name):
            raise invalid_parameter(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
                "must end with .fifo suffix and be 1 to 80 in length.")
    elif not _NAME.fullmatch(name):
        raise invalid_parameter("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")


def queue_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def parse_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of an SQS queue ARN, or None."""
    m = _ARN.fullmatch(arn or "")
    return (m.group(1), m.group(2), m.group(3)) if m else None


def queue_url(host: str, account: str, name: str) -> str:
    return f"http://{host}/{account}/{name}"


@functools.lru_cache(maxsize=4096)  # every request names its queue so; the same few URLs recur
def parse_queue_url(url: str, default_account: str) -> tuple[str, str] | None:
    """(account, name) from any queue URL form SDKs send.

    ``http(s)://<any host>[:port]/<account>/<name>`` (localhost, sqs.<region>.amazonaws.com,
    *.localhost.localstack.cloud, ...): the last two path segments decide. A bare
    queue name is accepted too, in the caller's account.
    """
    if not url:
        return None
    path = urlsplit(url).path if "://" in url else url
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and re.fullmatch(r"\d{12}", parts[-2]):
        return parts[-2], parts[-1]
    if len(parts) == 1 and "://" not in url:
        return default_account, parts[0]
    if len(parts) >= 2 and parts[-2] == "queue":  # LocalStack/ElasticMQ style /queue/<name>
        return default_account, parts[-1]
    return None


# ---------------------------------------------------------------- the queue record

@dataclass(slots=True)
class Queue:
    account: str
    region: str
    name: str
    fifo: bool
    attributes: dict[str, str]  # settable attributes, normalized strings, defaults included
    created: int  # epoch seconds
    modified: int
    tags: dict[str, str] = field(default_factory=dict)
    last_purge: float | None = None

    @property
    def arn(self) -> str:
        return queue_arn(self.region, self.account, self.name)

    def int_attr(self, name: str) -> int:
        return int(self.attributes[name])

    @property
    def visibility_timeout(self) -> int:
        return self.int_attr("VisibilityTimeout")

    @property
    def delay_seconds(self) -> int:
        return self.int_attr("DelaySeconds")

    @property
    def retention(self) -> int:
        return self.int_attr("MessageRetentionPeriod")

    @property
    def max_message_size(self) -> int:
        return self.int_attr("MaximumMessageSize")

    @property
    def wait_seconds(self) -> int:
        return self.int_attr("ReceiveMessageWaitTimeSeconds")

    @property
    def content_based_dedup(self) -> bool:
        return self.attributes.get("ContentBasedDeduplication") == "true"

    @property
    def dedup_per_group(self) -> bool:
        return self.attributes.get("DeduplicationScope") == "messageGroup"

    @property
    def redrive(self) -> dict | None:
        """{'deadLetterTargetArn': ..., 'maxReceiveCount': int} or None."""
        text = self.attributes.get("RedrivePolicy")
        return json.loads(text) if text else None

    def to_record(self) -> dict:
        return {"account": self.account, "region": self.region, "name": self.name, "fifo": self.fifo,
                "attributes": self.attributes, "created": self.created, "modified": self.modified,
                "tags": self.tags, "last_purge": self.last_purge}

    @classmethod
    def from_record(cls, r: dict) -> "Queue":
        # the dicts are copied: records are shared (store.load_queue keeps them) and queues get changed
        return cls(r["account"], r["region"], r["name"], r["fifo"], dict(r["attributes"]), r["created"],
                   r["modified"], dict(r.get("tags") or {}), r.get("last_purge"))


# ---------------------------------------------------------------- attribute rules

def new_queue(account: str, region: str, name: str, attrs: dict[str, str], tags: dict[str, str],
              now: float, dlq_lookup) -> Queue:
    """Validate a CreateQueue request and build the queue (not yet stored)."""
    fifo_value = attrs.get("FifoQueue")
    fifo = False
    if fifo_value is not None:
        low = fifo_value.lower()
        if low not in ("true", "false"):
            raise invalid_attribute_value("FifoQueue")
        fifo = low == "true"
        if not fifo:
            # AWS rejects FifoQueue=false as if the attribute did not exist for
            # standard queues (crossplane-contrib/provider-aws#457).
            raise unknown_attribute("FifoQueue")
    validate_queue_name(name, fifo)
    validate_tags(tags)
    defaults = FIFO_DEFAULTS if fifo else STANDARD_DEFAULTS
    normalized = normalize_attributes(attrs, fifo, name, account, region, dlq_lookup, creating=True)
    _check_high_throughput({**defaults, **normalized})
    queue = Queue(account, region, name, fifo, {**defaults, **normalized}, int(now), int(now), dict(tags))
    _apply_sse(queue.attributes, normalized)
    for key in [k for k, v in queue.attributes.items() if v == "" and k in _CLEARABLE]:
        del queue.attributes[key]
    return queue


def _apply_sse(target: dict, given: dict) -> None:
    # SSE-KMS and SSE-SQS exclude each other: a KMS key turns SSE-SQS off unless
    # the request says otherwise.
    if given.get("KmsMasterKeyId") and "SqsManagedSseEnabled" not in given:
        target["SqsManagedSseEnabled"] = "false"
    if target.get("KmsMasterKeyId"):
        target.setdefault("KmsDataKeyReusePeriodSeconds", "300")


def set_attributes(queue: Queue, attrs: dict[str, str], now: float, dlq_lookup) -> None:
    """Apply a SetQueueAttributes request to ``queue`` (validated as a whole first)."""
    normalized = normalize_attributes(attrs, queue.fifo, queue.name, queue.account, queue.region, dlq_lookup,
                                      creating=False)
    if queue.fifo:
        _check_high_throughput({**queue.attributes, **normalized})
    for key, value in normalized.items():
        if value == "" and key in _CLEARABLE:
            queue.attributes.pop(key, None)
        else:
            queue.attributes[key] = value
    _apply_sse(queue.attributes, normalized)
    queue.modified = int(now)


def _check_high_throughput(attrs: dict[str, str]) -> None:
    # "The perMessageGroupId value is allowed only when the value for DeduplicationScope is
    # messageGroup" (API reference, CreateQueue); the error as AWS answered a CreateQueue
    # (cloud-service-broker's SQS FIFO notes quote it).
    if attrs.get("FifoThroughputLimit") == "perMessageGroupId" and attrs.get("DeduplicationScope") != "messageGroup":
        raise invalid_attribute_value("FifoThroughputLimit", "To set FifoThroughputLimit to perMessageGroupId, the "
                                      "DeduplicationScope must be messageGroup.")


def normalize_attributes(attrs: dict[str, str], fifo: bool, name: str, account: str, region: str,
                         dlq_lookup, creating: bool) -> dict[str, str]:
    out = {}
    for key, value in attrs.items():
        if key in READ_ONLY or key == "All" or key not in SETTABLE:
            raise unknown_attribute(key)
        if key in FIFO_ONLY and not fifo:
            if key in _ENUMS:
                # As AWS answers CreateQueue for a standard queue (cloud-service-broker's SQS FIFO
                # notes quote it; the same text for SetQueueAttributes in cdk-deploy's notes).
                raise error("InvalidAttributeName", f"You can specify the {key} only when FifoQueue is set to true.")
            raise unknown_attribute(key)
        if not isinstance(value, str):
            raise invalid_attribute_value(key)
        out[key] = _normalize(key, value, fifo, creating)
    if out.get("KmsMasterKeyId") and out.get("SqsManagedSseEnabled") == "true":
        # SSE-KMS and SSE-SQS exclude each other (developer guide, "Encryption at rest";
        # the error as AWS returns it, recorded in LocalStack's AWS-validated snapshots).
        raise error("InvalidAttributeName", "You can use one type of server-side encryption (SSE) at one time. "
                    "You can either enable KMS SSE or SQS SSE.")
    if "RedrivePolicy" in out and out["RedrivePolicy"]:
        out["RedrivePolicy"] = _redrive_policy(out["RedrivePolicy"], fifo, queue_arn(region, account, name),
                                               dlq_lookup)
    if "RedriveAllowPolicy" in out and out["RedriveAllowPolicy"]:
        out["RedriveAllowPolicy"] = _redrive_allow_policy(out["RedriveAllowPolicy"])
    return out


def _normalize(key: str, value: str, fifo: bool, creating: bool) -> str:
    if key in _INT_RANGES:
        lo, hi = _INT_RANGES[key]
        # Parsed as Java's Integer.parseInt does: an optional sign and ASCII digits,
        # no blanks (" 2" is refused: Inqnuam/local-aws-sqs create-queue tests), none of
        # the underscores or non-ASCII digits Python's int() would take.
        if not _JAVA_INT.fullmatch(value):
            raise invalid_attribute_value(key)
        n = int(value)
        if not lo <= n <= hi:
            raise invalid_attribute_value(key)
        return str(n)
    if key in _BOOLEANS:
        low = value.lower()
        if low not in ("true", "false"):
            raise invalid_attribute_value(key)
        if key == "FifoQueue" and not creating:
            # The queue type is fixed at creation.
            raise invalid_attribute_value(key, "Modifying queue type is not supported.")
        return low
    if key in _ENUMS:
        if value not in _ENUMS[key]:
            raise invalid_attribute_value(key)
        return value
    if key == "Policy" and value:
        try:
            doc = json.loads(value)
        except ValueError:
            raise invalid_attribute_value(key) from None
        if not isinstance(doc, dict):
            raise invalid_attribute_value(key)
        statements = doc.get("Statement")
        if isinstance(statements, list) and len(statements) > MAX_POLICY_STATEMENTS:
            # Quota "Statements per policy: 20" (developer guide, quotas related to policies);
            # the OverLimit text as Inqnuam/local-aws-sqs records it, in the shape of
            # AddPermission's "N Actions were found, maximum allowed is 7."
            raise error("OverLimit", f"{len(statements)} statements were found in the submitted policy, "
                        f"max allowed is {MAX_POLICY_STATEMENTS}")
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action") if isinstance(statement, dict) else None
            if isinstance(actions, list) and len(actions) > MAX_ACTIONS_PER_STATEMENT:
                # Quota "Actions per statement: 7"; the text as AWS answered a Terraform
                # SetQueueAttributes (ministryofjustice/cloud-platform-environments#9082).
                raise error("OverLimit", f"{len(actions)} actions were found in a statement from the submitted "
                            f"policy, max allowed is {MAX_ACTIONS_PER_STATEMENT}")
        return value
    return value


def _redrive_policy(text: str, fifo: bool, own_arn: str, dlq_lookup) -> str:
    # Reasons as AWS words them for RedrivePolicy (InvalidParameterValue).
    try:
        policy = json.loads(text)
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        # InvalidAttributeValue, as AWS answered a Terraform SetQueueAttributes (RequestID
        # e6d23f69-01ee-5e11-8e0c-5d0f25d458c5, quoted in a published fix note; the same
        # text in Inqnuam/local-aws-sqs test/create-queue.test.ts).
        raise invalid_attribute_value("RedrivePolicy", "Redrive policy is not a valid JSON map.")
    target = policy.get("deadLetterTargetArn")
    count = policy.get("maxReceiveCount")
    if target is None or count is None:
        # maxReceiveCount is named first when both are missing: AWS answered
        # {"MaxReceiveCount":"4","DeadLetterTargetArn":...} so (rubyonjets/jets#101).
        raise invalid_value("RedrivePolicy", text,
                            "Redrive policy does not contain mandatory attribute: "
                            + ("maxReceiveCount." if count is None else "deadLetterTargetArn."))
    # A JSON number or a string of one ("5" is what the developer guide's examples send);
    # JSON true is no count, nor is " 5" (Python's int() would take both).
    if isinstance(count, bool) or (isinstance(count, str) and not _JAVA_INT.fullmatch(count)):
        n = 0
    else:
        try:
            n = int(count)
        except (TypeError, ValueError):
            n = 0
    if not 1 <= n <= 1000:
        shown = count if isinstance(count, str) else json.dumps(count)
        raise invalid_value("RedrivePolicy", text,
                            f"Invalid value for maxReceiveCount: {shown}, valid values are from 1 to 1000 both inclusive.")
    arn_parts = target.split(":", 5) if isinstance(target, str) else []
    if len(arn_parts) == 6 and arn_parts[0] == "arn" and arn_parts[2] != "sqs":
        # An ARN of another service (an SNS topic, say): AWS's own reason (Inqnuam/local-aws-sqs
        # create-queue tests; a CloudFormation lint rule quotes the same CreateQueue failure).
        raise invalid_value("RedrivePolicy", text, "Only SQS queues are valid resources for deadLetterTargetArn.")
    if not isinstance(target, str) or parse_arn(target) is None:
        # A malformed ARN is rejected before any lookup (AWS-validated, LocalStack
        # test_invalid_dead_letter_arn_rejected_before_lookup).
        raise invalid_value("RedrivePolicy", text, "Invalid value for deadLetterTargetArn.")
    dlq = dlq_lookup(target)
    if dlq is None:
        raise invalid_value("RedrivePolicy", text, "Dead letter target does not exist.")
    if dlq.fifo != fifo:
        raise invalid_value("RedrivePolicy", text, "Dead-letter queue must be same type of queue as the source.")
    if not redrive_allowed(dlq, own_arn):
        raise invalid_value("RedrivePolicy", text,
                            "Queue " + own_arn + " is not allowed to use " + target + " as a dead-letter queue.")
    return json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": n}, separators=(",", ":"))


def _redrive_allow_policy(text: str) -> str:
    try:
        policy = json.loads(text)
    except ValueError:
        policy = None
    reason = "Amazon SQS can't create the redrive allow policy, as it's in an unsupported format."
    if not isinstance(policy, dict):
        raise invalid_value("RedriveAllowPolicy", text, reason)
    permission = policy.get("redrivePermission")
    sources = policy.get("sourceQueueArns")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise invalid_value("RedriveAllowPolicy", text, reason)
    if permission == "byQueue":
        if not isinstance(sources, list) or not 1 <= len(sources) <= 10 or not all(isinstance(s, str) for s in sources):
            raise invalid_value("RedriveAllowPolicy", text, reason)
    elif sources is not None:
        raise invalid_value("RedriveAllowPolicy", text, reason)
    return json.dumps(policy, separators=(",", ":"))


def redrive_allowed(dlq: Queue, source_arn: str) -> bool:
    text = dlq.attributes.get("RedriveAllowPolicy")
    if not text:
        return True
    policy = json.loads(text)
    permission = policy.get("redrivePermission")
    if permission == "denyAll":
        return False
    if permission == "byQueue":
        return source_arn in policy.get("sourceQueueArns", [])
    return True


def creation_conflict(existing: Queue, attrs: dict[str, str], dlq_lookup) -> str | None:
    """The first requested attribute whose value differs from the existing queue's, or None.

    CreateQueue is idempotent: only attributes the request names are compared (a
    request without attributes matches any existing queue of that name).
    """
    normalized = normalize_attributes(attrs, existing.fifo, existing.name, existing.account, existing.region,
                                      dlq_lookup, creating=True)
    defaults = FIFO_DEFAULTS if existing.fifo else STANDARD_DEFAULTS
    for key, value in normalized.items():
        current = existing.attributes.get(key, defaults.get(key, ""))
        if key in ("Policy", "RedrivePolicy", "RedriveAllowPolicy") and value and current:
            if json.loads(value) != json.loads(current):
                return key
        elif value != current:
            return key
    return None


def visible_attributes(queue: Queue, names: list[str], counts: tuple[int, int, int]) -> dict[str, str]:
    """GetQueueAttributes output for ``names`` (``All`` expands); counts = (visible, in flight, delayed)."""
    wanted = ALL_ATTRIBUTES if "All" in names else names
    computed = {
        "QueueArn": queue.arn,
        "ApproximateNumberOfMessages": str(counts[0]),
        "ApproximateNumberOfMessagesNotVisible": str(counts[1]),
        "ApproximateNumberOfMessagesDelayed": str(counts[2]),
        "CreatedTimestamp": str(queue.created),
        "LastModifiedTimestamp": str(queue.modified),
    }
    out = {}
    attributes = queue.attributes
    for name in wanted:
        if name in computed:
            out[name] = computed[name]
        elif name in attributes:
            out[name] = attributes[name]
    if "KmsDataKeyReusePeriodSeconds" in out and not attributes.get("KmsMasterKeyId"):
        # Without a KMS key there is no data key to reuse: AWS leaves the period out, even one
        # just set (LocalStack's AWS-validated test_set_queue_attributes_default_values, 2025:
        # KmsMasterKeyId "" with KmsDataKeyReusePeriodSeconds "300" shows neither).
        del out["KmsDataKeyReusePeriodSeconds"]
    return out


# ---------------------------------------------------------------- tags

_RESERVED_TAG_PREFIX = "aws:"


def validate_tags(tags: dict[str, str], existing: dict[str, str] | None = None) -> None:
    """Tag limits from "Quotas related to queues": 50 tags, keys 1-128, values 0-256 characters."""
    for key, value in tags.items():
        if not key or len(key) > 128:
            raise invalid_parameter(f"Tag key must be between 1 and 128 characters: '{key}'.")
        if key.lower().startswith(_RESERVED_TAG_PREFIX):
            raise invalid_parameter(f"Tag keys must not start with '{_RESERVED_TAG_PREFIX}': '{key}'.")
        if value is None or len(value) > 256:
            raise invalid_parameter(f"Tag value must be between 0 and 256 characters for key '{key}'.")
    total = len(set(existing or {}) | set(tags))
    if total > MAX_TAGS:
        raise invalid_parameter(f"Too many tags added for queue. The maximum is {MAX_TAGS}, the request would make {total}.")


# ---------------------------------------------------------------- policy (AddPermission / RemovePermission)

_LABEL = re.compile(r"[A-Za-z0-9_-]{1,80}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# Actions AddPermission may grant ("*" or the name of any action); SendMessage,
# DeleteMessage and ChangeMessageVisibility also cover their batch forms.
PERMISSION_ACTIONS = (
    "*", "ChangeMessageVisibility", "DeleteMessage", "GetQueueAttributes", "GetQueueUrl",
    "ListDeadLetterSourceQueues", "PurgeQueue", "ReceiveMessage", "SendMessage", "ListQueueTags",
    "CancelMessageMoveTask", "ListMessageMoveTasks", "StartMessageMoveTask",
)
# SQS actions that exist but only the queue owner may call: not grantable.
_OWNER_ONLY_ACTIONS = (
    "AddPermission", "CreateQueue", "DeleteQueue", "ListQueues", "RemovePermission", "SetQueueAttributes",
    "TagQueue", "UntagQueue",
)
MAX_ACTIONS_PER_STATEMENT = 7


def _check_action(action: str) -> None:
    if action in PERMISSION_ACTIONS:
        return
    # AWS names the action as the policy would ("SQS:<action>"). Any other name, the
    # batch forms included, gets the WSDL reason (as AWS answered for
    # SQS:ChangeMessageVisibilityBatch: cloudtools/awacs#34, aws/aws-cdk#2381); an
    # owner-only action gets its own (Inqnuam/local-aws-sqs test/add-permission.test.ts).
    if action in _OWNER_ONLY_ACTIONS:
        raise invalid_value("ActionName", f"SQS:{action}", "Only the queue owner is allowed to invoke this action.")
    raise invalid_value("ActionName", f"SQS:{action}", "Please refer to the appropriate WSDL for a list of valid actions.")


def add_permission(queue: Queue, label: str, accounts: list[str], actions: list[str], now: float) -> None:
    if not _LABEL.fullmatch(label):
        raise invalid_value("Label", label,
                            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
    if not accounts:
        raise missing_parameter("AWSAccountIds")
    if not actions:
        raise missing_parameter("Actions")
    for action in actions:
        _check_action(action)
    if len(actions) > MAX_ACTIONS_PER_STATEMENT:
        raise error("OverLimit", f"{len(actions)} Actions were found, maximum allowed is {MAX_ACTIONS_PER_STATEMENT}.")
    for account in accounts:
        # Only account ids are principals here (API reference, AddPermission: "does not support
        # adding a non-account principal"); AWS's answer for anything else, e.g. an ARN or "*":
        # aws/aws-cli#7416 (2022; "Unable to verify." in 2014, aws-sdk-core-ruby#138).
        if not _ACCOUNT_ID.fullmatch(account):
            raise invalid_value("PrincipalId", f"[{account}]", "Unable to verify principal.")
    # The document AWS generates for AddPermission: version 2008-10-17, Id <arn>/SQSDefaultPolicy.
    policy = json.loads(queue.attributes["Policy"]) if queue.attributes.get("Policy") else {
        "Version": "2008-10-17",
        "Id": f"{queue.arn}/SQSDefaultPolicy",
        "Statement": [],
    }
    statements = policy.setdefault("Statement", [])
    if isinstance(statements, dict):
        statements = policy["Statement"] = [statements]
    if any(s.get("Sid") == label for s in statements if isinstance(s, dict)):
        raise invalid_value("Label", label, "Already exists.")
    if len(statements) >= MAX_POLICY_STATEMENTS:
        # OverLimit: "AddPermission returns this error if the maximum number of permissions
        # for the queue is reached" (botocore model, OverLimit); 20 statements per policy
        # (developer guide, policy quotas); the text in the shape of the 7-actions one.
        raise error("OverLimit", f"{len(statements) + 1} Statements were found, maximum allowed is "
                    f"{MAX_POLICY_STATEMENTS}.")
    principals = [f"arn:aws:iam::{a}:root" for a in accounts]
    granted = [f"SQS:{a}" for a in actions]
    statements.append({
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
        "Action": granted[0] if len(granted) == 1 else granted,
        "Resource": queue.arn,
    })
    queue.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
    queue.modified = int(now)


def remove_permission(queue: Queue, label: str, now: float) -> None:
    text = queue.attributes.get("Policy")
    policy = json.loads(text) if text else {}
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == label)]
    if len(kept) == len(statements):
        raise invalid_value("Label", label, "can't find label.")
    if kept:
        policy["Statement"] = kept
        queue.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
    else:
        queue.attributes.pop("Policy", None)
    queue.modified = int(now)

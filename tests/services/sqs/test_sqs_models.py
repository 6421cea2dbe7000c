"""The pure SQS rules (models.py, message.py): no server, no store."""

from __future__ import annotations

import hashlib
import json

import pytest

from cloudlet.protocol.errors import ServiceError
from cloudlet.services.sqs.message import (
    Message,
    attribute_filter,
    check_batch_ids,
    check_send,
    md5_of_attributes,
    parse_receipt_handle,
    receipt_handle,
    render,
    sequence_number,
    system_attributes,
)
from cloudlet.services.sqs.models import (
    FIFO_DEFAULTS,
    STANDARD_DEFAULTS,
    Queue,
    add_permission,
    creation_conflict,
    new_queue,
    parse_arn,
    parse_queue_url,
    remove_permission,
    set_attributes,
    validate_queue_name,
    validate_tags,
    visible_attributes,
)

ACCOUNT, REGION = "123456789012", "us-east-1"
NOW = 1_700_000_000.0

# The JSON shape names of SQS's common errors, as their (query-era) codes.
_COMMON = {"InvalidParameterValueException": "InvalidParameterValue",
           "MissingRequiredParameterException": "MissingParameter"}


def common_code(code: str) -> str:
    return _COMMON.get(code, code)


def no_dlq(arn):
    return None


def make(name="q", attrs=None, tags=None, lookup=no_dlq) -> Queue:
    return new_queue(ACCOUNT, REGION, name, attrs or {}, tags or {}, NOW, lookup)


def code_of(excinfo) -> str:
    return common_code(excinfo.value.code)


# ---------------------------------------------------------------- MD5 digests

# Vectors published with the npm package aws-md5-of-message-attributes (computed
# against SQS), an implementation independent of ours.
@pytest.mark.parametrize("attrs, digest", [
    ({"attribName1": {"DataType": "String", "StringValue": "attribValue 1"}}, "19e27d4e946b072f3f58da80d94fd778"),
    ({"customNumberTypeAttrib": {"DataType": "Number.float", "StringValue": "4563442423554324324264524243.32543234"}},
     "9fe1b90bbd9965bdf77bac517c7d2495"),
    ({"binaryAttribute": {"DataType": "Binary", "BinaryValue": b"Hello binary world!"}},
     "31a92b15d92f8db860eda32aceb656c3"),
    ({
        "attribName1": {"DataType": "String", "StringValue": "attribValue 1"},
        "customNumberTypeAttrib": {"DataType": "Number.float", "StringValue": "4563442423554324324264524243.32543234"},
        "binaryAttribute": {"DataType": "Binary", "BinaryValue": b"Hello binary world!"},
    }, "c932db14a896c663f83c260297d594ff"),
])
def test_md5_of_message_attributes_matches_published_vectors(attrs, digest):
    assert md5_of_attributes(attrs) == digest


def test_md5_of_no_attributes_is_absent():
    assert md5_of_attributes({}) is None


# ---------------------------------------------------------------- names, URLs, ARNs

@pytest.mark.parametrize("name, fifo, ok", [
    ("a", False, True), ("A-b_9", False, True), ("x" * 80, False, True), ("x" * 81, False, False),
    ("", False, False), ("has space", False, False), ("dot.name", False, False), ("q.fifo", False, False),
    ("q.fifo", True, True), ("q", True, False), ("x" * 75 + ".fifo", True, True), ("x" * 76 + ".fifo", True, False),
])
def test_queue_names(name, fifo, ok):
    if ok:
        validate_queue_name(name, fifo)
    else:
        with pytest.raises(ServiceError) as e:
            validate_queue_name(name, fifo)
        assert code_of(e) == "InvalidParameterValue"


@pytest.mark.parametrize("url, expected", [
    ("http://localhost:4566/000000000000/q1", ("000000000000", "q1")),
    ("https://sqs.us-east-1.amazonaws.com/123456789012/q1.fifo", ("123456789012", "q1.fifo")),
    ("http://sqs.eu-west-1.localhost.localstack.cloud:4566/123456789012/q", ("123456789012", "q")),
    ("http://127.0.0.1:1234/123456789012/q/", ("123456789012", "q")),
    ("https://queue.amazonaws.com/123456789012/q", ("123456789012", "q")),
    ("q-by-name", ("999999999999", "q-by-name")),
    ("http://localhost:4566/queue/q2", ("999999999999", "q2")),
    ("http://localhost:4566/", None),
    ("", None),
])
def test_queue_url_forms(url, expected):
    assert parse_queue_url(url, "999999999999") == expected


def test_arns():
    assert parse_arn("arn:aws:sqs:us-west-2:123456789012:my.fifo") == ("us-west-2", "123456789012", "my.fifo")
    assert parse_arn("arn:aws:sns:us-west-2:123456789012:t") is None
    assert parse_arn("nonsense") is None


# ---------------------------------------------------------------- attributes

def test_defaults_standard_and_fifo():
    q = make()
    assert q.attributes == STANDARD_DEFAULTS and not q.fifo
    f = make("f.fifo", {"FifoQueue": "true"})
    assert f.attributes == FIFO_DEFAULTS and f.fifo
    assert q.attributes["MaximumMessageSize"] == "1048576"


@pytest.mark.parametrize("attrs, code", [
    ({"VisibilityTimeout": "43201"}, "InvalidAttributeValue"),
    ({"VisibilityTimeout": "-1"}, "InvalidAttributeValue"),
    ({"VisibilityTimeout": "ten"}, "InvalidAttributeValue"),
    ({"DelaySeconds": "901"}, "InvalidAttributeValue"),
    ({"MaximumMessageSize": "1023"}, "InvalidAttributeValue"),
    ({"MaximumMessageSize": "1048577"}, "InvalidAttributeValue"),
    ({"MessageRetentionPeriod": "59"}, "InvalidAttributeValue"),
    ({"MessageRetentionPeriod": "1209601"}, "InvalidAttributeValue"),
    ({"ReceiveMessageWaitTimeSeconds": "21"}, "InvalidAttributeValue"),
    ({"KmsDataKeyReusePeriodSeconds": "59"}, "InvalidAttributeValue"),
    ({"SqsManagedSseEnabled": "yes"}, "InvalidAttributeValue"),
    ({"Policy": "{not json"}, "InvalidAttributeValue"),
    ({"FifoQueue": "false"}, "InvalidAttributeName"),
    ({"ContentBasedDeduplication": "true"}, "InvalidAttributeName"),
    ({"DeduplicationScope": "queue"}, "InvalidAttributeName"),
    ({"QueueArn": "x"}, "InvalidAttributeName"),
    ({"ApproximateNumberOfMessages": "1"}, "InvalidAttributeName"),
    ({"Nonsense": "1"}, "InvalidAttributeName"),
    ({"RedrivePolicy": "not json"}, "InvalidAttributeValue"),  # as AWS answers it
    ({"RedriveAllowPolicy": '{"redrivePermission": "sometimes"}'}, "InvalidParameterValue"),
])
def test_invalid_standard_attributes(attrs, code):
    with pytest.raises(ServiceError) as e:
        make(attrs=attrs)
    assert code_of(e) == code


def test_attribute_error_messages():
    with pytest.raises(ServiceError) as e:
        make(attrs={"VisibilityTimeout": "99999"})
    assert e.value.message == "Invalid value for the parameter VisibilityTimeout."
    with pytest.raises(ServiceError) as e:
        make(attrs={"ContentBasedDeduplication": "true"})
    assert e.value.message == "Unknown Attribute ContentBasedDeduplication."


def test_fifo_only_attributes_and_normalisation():
    f = make("f.fifo", {"FifoQueue": "TRUE", "ContentBasedDeduplication": "True", "DeduplicationScope": "messageGroup",
                        "FifoThroughputLimit": "perMessageGroupId", "VisibilityTimeout": "0060"})
    assert f.attributes["ContentBasedDeduplication"] == "true"
    assert f.attributes["VisibilityTimeout"] == "60"
    assert f.dedup_per_group
    with pytest.raises(ServiceError) as e:
        make("f.fifo", {"FifoQueue": "true", "DeduplicationScope": "everything"})
    assert code_of(e) == "InvalidAttributeValue"
    with pytest.raises(ServiceError) as e:
        make("plain", {"FifoQueue": "true"})
    assert "must end with .fifo suffix" in e.value.message


def test_set_attributes_changes_only_given_and_rejects_type_change():
    q = make()
    set_attributes(q, {"VisibilityTimeout": "5", "Policy": '{"Version": "2012-10-17"}'}, NOW + 10, no_dlq)
    assert q.attributes["VisibilityTimeout"] == "5" and q.modified == int(NOW + 10)
    set_attributes(q, {"Policy": ""}, NOW + 20, no_dlq)
    assert "Policy" not in q.attributes
    f = make("f.fifo", {"FifoQueue": "true"})
    with pytest.raises(ServiceError) as e:
        set_attributes(f, {"FifoQueue": "false"}, NOW, no_dlq)
    assert code_of(e) == "InvalidAttributeValue"


def test_kms_key_turns_off_sse_sqs():
    q = make(attrs={"KmsMasterKeyId": "alias/aws/sqs"})
    assert q.attributes["SqsManagedSseEnabled"] == "false"
    assert q.attributes["KmsDataKeyReusePeriodSeconds"] == "300"


def test_redrive_policy_rules():
    dlq = make("dlq")
    fifo_dlq = make("dlq.fifo", {"FifoQueue": "true"})
    queues = {dlq.arn: dlq, fifo_dlq.arn: fifo_dlq}
    q = make("src", {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "3"})},
             lookup=queues.get)
    assert q.redrive == {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3}
    bad = [
        ({"deadLetterTargetArn": dlq.arn}, "mandatory attribute: maxReceiveCount"),
        ({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 0}, "valid values are from 1 to 1000"),
        ({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1001}, "valid values are from 1 to 1000"),
        ({"deadLetterTargetArn": dlq.arn.replace("dlq", "nope"), "maxReceiveCount": 1}, "does not exist"),
        ({"deadLetterTargetArn": fifo_dlq.arn, "maxReceiveCount": 1}, "same type of queue"),
    ]
    for policy, reason in bad:
        with pytest.raises(ServiceError) as e:
            make("src", {"RedrivePolicy": json.dumps(policy)}, lookup=queues.get)
        assert common_code(e.value.code) == "InvalidParameterValue" and reason in e.value.message, policy
    set_attributes(dlq, {"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})}, NOW, no_dlq)
    with pytest.raises(ServiceError) as e:
        make("src2", {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})},
             lookup=queues.get)
    assert "not allowed" in e.value.message


def test_create_conflicts_compare_only_requested_attributes():
    q = make(attrs={"VisibilityTimeout": "60"})
    assert creation_conflict(q, {}, no_dlq) is None
    assert creation_conflict(q, {"VisibilityTimeout": "060"}, no_dlq) is None
    assert creation_conflict(q, {"VisibilityTimeout": "30"}, no_dlq) == "VisibilityTimeout"
    assert creation_conflict(q, {"DelaySeconds": "0"}, no_dlq) is None
    assert creation_conflict(q, {"DelaySeconds": "1"}, no_dlq) == "DelaySeconds"


def test_visible_attributes_all_and_selected():
    q = make()
    out = visible_attributes(q, ["All"], (1, 2, 3))
    assert out["ApproximateNumberOfMessages"] == "1"
    assert out["ApproximateNumberOfMessagesNotVisible"] == "2"
    assert out["ApproximateNumberOfMessagesDelayed"] == "3"
    assert out["QueueArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
    assert "FifoQueue" not in out and "Policy" not in out
    assert visible_attributes(q, ["VisibilityTimeout"], (0, 0, 0)) == {"VisibilityTimeout": "30"}


# ---------------------------------------------------------------- tags and policy

def test_tag_limits():
    validate_tags({"k": "v", "e": ""})
    with pytest.raises(ServiceError):
        validate_tags({"": "v"})
    with pytest.raises(ServiceError):
        validate_tags({"k" * 129: "v"})
    with pytest.raises(ServiceError):
        validate_tags({"k": "v" * 257})
    with pytest.raises(ServiceError):
        validate_tags({"aws:reserved": "v"})
    validate_tags({f"k{i}": "v" for i in range(50)})
    with pytest.raises(ServiceError):
        validate_tags({"one-more": "v"}, {f"k{i}": "v" for i in range(50)})
    validate_tags({"k0": "overwrite"}, {f"k{i}": "v" for i in range(50)})


def test_add_and_remove_permission_edit_the_policy():
    q = make()
    add_permission(q, "Send", ["111122223333"], ["SendMessage"], NOW)
    add_permission(q, "Both", ["111122223333", "444455556666"], ["ReceiveMessage", "DeleteMessage"], NOW)
    policy = json.loads(q.attributes["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["Send", "Both"]
    assert policy["Statement"][0] == {
        "Sid": "Send", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "SQS:SendMessage", "Resource": q.arn,
    }
    assert policy["Statement"][1]["Action"] == ["SQS:ReceiveMessage", "SQS:DeleteMessage"]
    with pytest.raises(ServiceError) as e:
        add_permission(q, "Send", ["111122223333"], ["SendMessage"], NOW)
    assert common_code(e.value.code) == "InvalidParameterValue"
    with pytest.raises(ServiceError) as e:
        add_permission(q, "x", ["111122223333"], ["Fly"], NOW)
    assert common_code(e.value.code) == "InvalidParameterValue"
    with pytest.raises(ServiceError) as e:
        add_permission(q, "many", ["111122223333"], ["SendMessage"] * 8, NOW)
    assert common_code(e.value.code) == "OverLimit"
    remove_permission(q, "Send", NOW)
    assert [s["Sid"] for s in json.loads(q.attributes["Policy"])["Statement"]] == ["Both"]
    with pytest.raises(ServiceError):
        remove_permission(q, "Send", NOW)
    remove_permission(q, "Both", NOW)
    assert "Policy" not in q.attributes


# ---------------------------------------------------------------- sending rules

def test_check_send_standard():
    q = make()
    out = check_send(q, {"MessageBody": "hi", "DelaySeconds": 5})
    assert out.delay == 5 and out.dedup is None
    assert check_send(q, {"MessageBody": "hi"}).delay == 0
    cases = [
        ({"MessageBody": ""}, "MissingParameter"),
        ({"MessageBody": "bad \x00 char"}, "InvalidMessageContents"),
        ({"MessageBody": "lone \ud800 surrogate"}, "InvalidMessageContents"),
        ({"MessageBody": "x", "DelaySeconds": 901}, "InvalidParameterValue"),
        ({"MessageBody": "x", "DelaySeconds": -1}, "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageDeduplicationId": "d"}, "InvalidParameterValue"),
        ({"MessageBody": "x" * 1_048_577}, "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {"a": {"DataType": "String", "StringValue": ""}}},
         "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {"a": {"DataType": "Float", "StringValue": "1"}}},
         "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "one"}}},
         "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {"AWS.x": {"DataType": "String", "StringValue": "v"}}},
         "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {f"a{i}": {"DataType": "String", "StringValue": "v"}
                                                     for i in range(11)}}, "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "Binary",
                                                                               "BinaryValue": b"x"}}},
         "InvalidParameterValue"),
    ]
    for req, code in cases:
        with pytest.raises(ServiceError) as e:
            check_send(q, req)
        assert common_code(e.value.code) == code, req


def test_message_size_counts_attributes():
    q = make(attrs={"MaximumMessageSize": "1024"})
    check_send(q, {"MessageBody": "x" * 1024})
    with pytest.raises(ServiceError) as e:
        check_send(q, {"MessageBody": "x" * 1000, "MessageAttributes": {
            "name": {"DataType": "String", "StringValue": "v" * 30}}})
    assert e.value.message == "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."


def test_check_send_fifo():
    f = make("f.fifo", {"FifoQueue": "true"})
    with pytest.raises(ServiceError) as e:
        check_send(f, {"MessageBody": "x", "MessageDeduplicationId": "d"})
    assert (common_code(e.value.code), e.value.message) == ("MissingParameter",
                                               "The request must contain the parameter MessageGroupId.")
    with pytest.raises(ServiceError) as e:
        check_send(f, {"MessageBody": "x", "MessageGroupId": "g"})
    assert "ContentBasedDeduplication" in e.value.message
    with pytest.raises(ServiceError) as e:
        check_send(f, {"MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d", "DelaySeconds": 5})
    assert "not valid for this queue type" in e.value.message
    assert check_send(f, {"MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d",
                          "DelaySeconds": 0}).delay == 0
    cbd = make("c.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    out = check_send(cbd, {"MessageBody": "body", "MessageGroupId": "g"})
    assert out.dedup == hashlib.sha256(b"body").hexdigest()
    assert check_send(cbd, {"MessageBody": "body", "MessageGroupId": "g", "MessageDeduplicationId": "mine"}).dedup == "mine"


def test_batch_ids():
    with pytest.raises(ServiceError) as e:
        check_batch_ids([], "SendMessageBatchRequestEntry")
    assert common_code(e.value.code) == "EmptyBatchRequest"
    with pytest.raises(ServiceError) as e:
        check_batch_ids([{"Id": str(i)} for i in range(11)], "X")
    assert (common_code(e.value.code), e.value.message) == ("TooManyEntriesInBatchRequest",
                                               "Maximum number of entries per request are 10. You have sent 11.")
    with pytest.raises(ServiceError) as e:
        check_batch_ids([{"Id": "a"}, {"Id": "b"}, {"Id": "a"}], "X")
    assert (common_code(e.value.code), e.value.message) == ("BatchEntryIdsNotDistinct", "Id a repeated.")
    for bad in ("has space", "x" * 81, ""):
        with pytest.raises(ServiceError) as e:
            check_batch_ids([{"Id": bad}], "X")
        assert common_code(e.value.code) == "InvalidBatchEntryId"


# ---------------------------------------------------------------- receiving

def test_receipt_handles_round_trip_and_reject_garbage():
    q = make()
    handle = receipt_handle(q, 42, "abc")
    receipt = parse_receipt_handle(handle)
    assert receipt.seq == 42 and receipt.nonce == "abc" and receipt.belongs_to(q)
    assert not receipt.belongs_to(make("other"))
    for garbage in ("", "not-base64!", "aGVsbG8=", "AQEB" + "x" * 10):
        assert parse_receipt_handle(garbage) is None


def test_attribute_filter():
    assert attribute_filter(None)("a") is False
    assert attribute_filter(["All"])("anything")
    assert attribute_filter([".*"])("anything")
    assert attribute_filter(["*"])("anything")
    f = attribute_filter(["exact", "bar.*"])
    assert f("exact") and f("bar.baz") and f("barn") and not f("ba") and not f("exactly") and not f("other")


def test_system_attributes_and_render():
    msg = Message(seq=1, id="id", body="b", md5_body="m", attrs={"a": {"DataType": "String", "StringValue": "v"},
                                                                  "b": {"DataType": "String", "StringValue": "w"}},
                  md5_attrs="x", trace="Root=1-abc", md5_sys=None, sent_ms=5, sender="AKID", group="g", dedup="d",
                  seqnum=sequence_number(1), receive_count=2, first_receive_ms=7)
    assert system_attributes(msg, {"All"}) == {
        "SenderId": "AKID", "SentTimestamp": "5", "ApproximateReceiveCount": "2",
        "ApproximateFirstReceiveTimestamp": "7", "SequenceNumber": sequence_number(1),
        "MessageDeduplicationId": "d", "MessageGroupId": "g", "AWSTraceHeader": "Root=1-abc",
    }
    assert system_attributes(msg, {"SentTimestamp"}) == {"SentTimestamp": "5"}
    out = render(msg, "h", set(), attribute_filter(["a"]))
    assert out["MessageAttributes"] == {"a": {"DataType": "String", "StringValue": "v"}}
    assert out["MD5OfMessageAttributes"] == md5_of_attributes({"a": {"DataType": "String", "StringValue": "v"}})
    assert "Attributes" not in out


def test_sequence_numbers_are_long_and_increasing():
    numbers = [sequence_number(i) for i in range(1, 1000)]
    assert all(len(n) == 20 for n in numbers)
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)

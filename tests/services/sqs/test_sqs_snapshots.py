"""SQS answers compared, case by case, with what AWS answered in LocalStack's recorded
snapshots (``localstack/localstack`` ``tests/aws/services/sqs/test_sqs.snapshot.json`` and
``test_sqs_move_task.snapshot.json``). Each test names the snapshot test that shows AWS's
answer; the tests are our own, run with boto3 against a real ``cloudlet serve``.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.services.sqs.test_sqs_fidelity import make_queue, sqs  # noqa: F401 (fixtures)


def _without_metadata(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


# ---------------------------------------------------------------- no empty maps over JSON
# The recordings of 14-11-2023 (the first over JSON) showed "Tags": {}, "Attributes": {} and
# "MessageAttributes": {} in the three cases below; AWS's answers recorded again on 30-04-2024
# have no such member at all. The newer ones are pinned here.

def test_list_queue_tags_of_a_queue_without_tags_has_no_tags_member(sqs, make_queue):
    # test_tag_untag_queue[sqs] (30-04-2024): "get-tag-after-untag" has no Tags member.
    url = make_queue("tags")
    sqs.tag_queue(QueueUrl=url, Tags={"tag1": "value1", "tag2": "value2", "tag3": ""})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tag1": "value1", "tag2": "value2", "tag3": ""}
    sqs.untag_queue(QueueUrl=url, TagKeys=["tag1", "tag3"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tag2": "value2"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["tag2"])
    assert _without_metadata(sqs.list_queue_tags(QueueUrl=url)) == {}


def test_permission_lifecycle(sqs, make_queue):
    # test_sqs_permission_lifecycle[sqs] (30-04-2024): once RemovePermission took the last
    # statement, GetQueueAttributes(Policy) has no Attributes member; a label in use is refused
    # ("Already exists."), and so is removing a label twice ("can't find label.").
    url = make_queue("perm")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    account = arn.split(":")[4]
    sqs.add_permission(QueueUrl=url, Label="crossaccountpermission", AWSAccountIds=[account],
                       Actions=["ReceiveMessage"])
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy == {"Version": "2008-10-17", "Id": f"{arn}/SQSDefaultPolicy", "Statement": [{
        "Sid": "crossaccountpermission", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "SQS:ReceiveMessage", "Resource": arn}]}
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="crossaccountpermission", AWSAccountIds=["668614515564"],
                           Actions=["ReceiveMessage"])
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (
        "InvalidParameterValue", "Value crossaccountpermission for parameter Label is invalid. Reason: Already exists.")
    sqs.remove_permission(QueueUrl=url, Label="crossaccountpermission")
    assert _without_metadata(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])) == {}
    with pytest.raises(ClientError) as e:
        sqs.remove_permission(QueueUrl=url, Label="crossaccountpermission")
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (
        "InvalidParameterValue",
        "Value crossaccountpermission for parameter Label is invalid. Reason: can't find label.")


@pytest.fixture
def message_with_attributes(sqs, make_queue):
    url = make_queue("filters")
    sqs.send_message(QueueUrl=url, MessageBody="msg", MessageAttributes={
        "Hello": {"DataType": "String", "StringValue": "There"},
        "General": {"DataType": "String", "StringValue": "Kenobi"},
        "Help.Me": {"DataType": "String", "StringValue": "Me"},
    })

    def receive(names):
        kwargs = {} if names is None else {"MessageAttributeNames": names}
        message = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, **kwargs)["Messages"][0]
        return {k: v for k, v in message.items() if k not in ("MessageId", "ReceiptHandle")}
    return receive


@pytest.mark.parametrize("names", [None, ["Foo", "Help"], ["AWS."], ["..foo"]])
def test_receive_selecting_no_attribute_has_no_message_attributes(message_with_attributes, names):
    # test_receive_message_message_attribute_names_filters[sqs] (30-04-2024): "empty_filter",
    # "only_non_existing_names", "illegal_name_1" and "illegal_name_2" have no MessageAttributes.
    assert message_with_attributes(names) == {"Body": "msg", "MD5OfBody": "6e2baaf3b97dbeef01c0043275f9a0e7"}


def test_receive_selecting_some_attributes_digests_those(message_with_attributes):
    # The same test, "existing_and_non_existing" and "prefix_filter".
    assert message_with_attributes(["Foo", "Hello"]) == {
        "Body": "msg", "MD5OfBody": "6e2baaf3b97dbeef01c0043275f9a0e7",
        "MD5OfMessageAttributes": "a311262e065454b75da111d535b8dacd",
        "MessageAttributes": {"Hello": {"DataType": "String", "StringValue": "There"}}}
    assert message_with_attributes(["Hel.*"])["MD5OfMessageAttributes"] == "83fee93c1bcd8b9a5a923ffacdc636c7"


# ---------------------------------------------------------------- message attribute names

def test_message_attribute_names_may_use_letters_of_any_script(sqs, make_queue):
    # test_send_message_with_invalid_string_attributes (AWS-validated): "attr.1øßä" is sent as
    # the valid base line; "!", '"', "§", "(" and "?" in a name are refused.
    url = make_queue("attrs")
    attrs = {"attr.1øßä": {"DataType": "String", "StringValue": "Valida"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes=attrs)
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert got["MessageAttributes"] == attrs
    assert got["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    for char in ["!", '"', "§", "(", "?"]:
        with pytest.raises(ClientError) as e:
            sqs.send_message(QueueUrl=url, MessageBody="refused",
                             MessageAttributes={f"Invalid-{char}-attr": {"DataType": "String", "StringValue": "V"}})
        assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got["ReceiptHandle"], VisibilityTimeout=0)
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in left] == ["test"]  # nothing refused was stored


# ---------------------------------------------------------------- batches

def test_oversized_batch_entry_fails_with_its_own_text(sqs, make_queue):
    # test_send_batch_message_size (AWS-validated, recorded 30-04-2024): with MaximumMessageSize
    # 1024 a 1024-byte entry is sent and a 1025-byte one fails with "One or more parameters
    # cannot be validated. ..." (SendMessage says "are invalid").
    url = make_queue("bsize", MaximumMessageSize=1024)
    result = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "fits", "MessageBody": "a" * 1024}, {"Id": "too-big", "MessageBody": "a" * 1025}])
    assert [e["Id"] for e in result["Successful"]] == ["fits"]
    assert result["Successful"][0]["MD5OfMessageBody"] == "c9a34cfc85d982698c6ac89f76071abd"
    assert result["Failed"] == [{
        "Id": "too-big", "SenderFault": True, "Code": "InvalidParameterValue",
        "Message": "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes."}]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [len(m["Body"]) for m in got] == [1024]  # the refused entry was not stored


# ---------------------------------------------------------------- message system attributes

_XRAY = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1"


def _with_trace_header(client, operation: str, value: str):
    def add(request, **_):
        request.headers["X-Amzn-Trace-Id"] = value
    client.meta.events.register(f"before-send.sqs.{operation}", add)
    return add


def test_xray_trace_header_becomes_aws_trace_header(sqs, make_queue):
    # test_aws_trace_header_propagation (AWS-validated, recorded 27-06-2025): a SendMessage with
    # the X-Amzn-Trace-Id HTTP header gives the message that AWSTraceHeader.
    url = make_queue("xray")
    hook = _with_trace_header(sqs, "SendMessage", _XRAY)
    try:
        sent = sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes={
            "timestamp": {"StringValue": "1493147359900", "DataType": "Number"}})
    finally:
        sqs.meta.events.unregister("before-send.sqs.SendMessage", hook)
    assert sent["MD5OfMessageAttributes"] == "235c5c510d26fb653d073faed50ae77c"
    got = sqs.receive_message(QueueUrl=url, AttributeNames=["SentTimestamp", "AWSTraceHeader"],
                              MessageAttributeNames=["All"])["Messages"][0]
    assert got["Attributes"]["AWSTraceHeader"] == _XRAY
    assert set(got["Attributes"]) == {"AWSTraceHeader", "SentTimestamp"}


def test_aws_trace_header_attribute_overrides_the_http_header(sqs, make_queue):
    # "If both tracing headers are set, the message system attribute overrides the HTTP trace
    # header", and the header covers every message of a SendMessageBatch (X-Ray developer
    # guide, "Amazon SQS and AWS X-Ray").
    url = make_queue("xray")
    own = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    hook = _with_trace_header(sqs, "SendMessageBatch", _XRAY)
    try:
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "own", "MessageBody": "own", "MessageSystemAttributes": {
                "AWSTraceHeader": {"DataType": "String", "StringValue": own}}},
            {"Id": "header", "MessageBody": "header"}])
    finally:
        sqs.meta.events.unregister("before-send.sqs.SendMessageBatch", hook)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["AWSTraceHeader"])
    assert {m["Body"]: m["Attributes"]["AWSTraceHeader"] for m in got["Messages"]} == {"own": own, "header": _XRAY}


# ---------------------------------------------------------------- queue attributes

def test_kms_data_key_reuse_period_is_shown_only_with_a_kms_key(sqs, make_queue):
    # test_set_queue_attributes_default_values (AWS-validated, recorded 10-12-2025): after
    # KmsMasterKeyId "testKeyId" + KmsDataKeyReusePeriodSeconds "6000" both are listed and SSE-SQS
    # is off; after KmsMasterKeyId "" + KmsDataKeyReusePeriodSeconds "300" neither is listed.
    url = make_queue("kms")

    def kms_and_sse():
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return {k: v for k, v in attrs.items() if k.startswith(("Kms", "SqsManagedSse"))}
    assert kms_and_sse() == {"SqsManagedSseEnabled": "true"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "testKeyId",
                                                       "KmsDataKeyReusePeriodSeconds": "6000"})
    assert kms_and_sse() == {"KmsMasterKeyId": "testKeyId", "KmsDataKeyReusePeriodSeconds": "6000",
                             "SqsManagedSseEnabled": "false"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "", "KmsDataKeyReusePeriodSeconds": "300"})
    assert kms_and_sse() == {"SqsManagedSseEnabled": "false"}
    # asked for by name too (test_sse_queue_attributes: an SSE-SQS queue answers only SqsManagedSseEnabled)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled"])["Attributes"] == {
        "SqsManagedSseEnabled": "false"}

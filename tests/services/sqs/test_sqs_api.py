"""SQS over the JSON protocol, the way current SDKs call it: boto3 against a real server.

Each error case checks the legacy code botocore reports (taken from the
``x-amzn-query-error`` header), the modelled shape (QueryErrorCode), the HTTP
status, and then reads the state back to show nothing was half-written.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from botocore.exceptions import ClientError

from cloudlet.services.sqs.message import md5_of_attributes


@pytest.fixture
def sqs(client_factory):
    return client_factory("sqs")


@pytest.fixture
def raw_sqs(client_factory):
    """A client that does not check parameters itself, to send what the server must reject."""
    return client_factory("sqs", parameter_validation=False)


@pytest.fixture
def queue(sqs, unique_name):
    def make(prefix="q", **attrs) -> str:
        name = unique_name(prefix)
        if attrs.get("FifoQueue") == "true":
            name += ".fifo"
        return sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]
    return make


def fails(call, code: str, shape: str | None = None, status: int = 400) -> ClientError:
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response["Error"]
    assert err["Code"] == code, err
    if shape is not None:
        assert err["QueryErrorCode"] == shape, err
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return e.value


def attrs(sqs, url, *names) -> dict:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"]).get("Attributes", {})


def counts(sqs, url) -> tuple[int, int, int]:
    a = attrs(sqs, url)
    return (int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"]),
            int(a["ApproximateNumberOfMessagesDelayed"]))


# ---------------------------------------------------------------- CreateQueue / GetQueueUrl / ListQueues / DeleteQueue

def test_create_get_list_delete(sqs, server, unique_name):
    name = unique_name("life")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"}, tags={"team": "a"})["QueueUrl"]
    assert url == f"{server.url}/000000000000/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="000000000000")["QueueUrl"] == url
    assert url in sqs.list_queues(QueueNamePrefix=name)["QueueUrls"]
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    sqs.delete_queue(QueueUrl=url)
    fails(lambda: sqs.get_queue_url(QueueName=name), "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=name)
    # AWS makes you wait 60 seconds before reusing the name.
    fails(lambda: sqs.create_queue(QueueName=name), "AWS.SimpleQueueService.QueueDeletedRecently",
          "QueueDeletedRecently")


def test_create_errors_leave_nothing_behind(sqs, raw_sqs, unique_name):
    name = unique_name("bad")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    e = fails(lambda: sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"}),
              "QueueAlreadyExists", "QueueNameExists")
    assert "VisibilityTimeout" in str(e)
    assert attrs(sqs, url, "VisibilityTimeout") == {"VisibilityTimeout": "45"}
    for bad_name in ("has space", "x" * 81, "dots.not.allowed"):
        fails(lambda: sqs.create_queue(QueueName=bad_name), "InvalidParameterValue")
    fails(lambda: sqs.create_queue(QueueName=name + "x", Attributes={"VisibilityTimeout": "43201"}),
          "InvalidAttributeValue", "InvalidAttributeValue")
    fails(lambda: raw_sqs.create_queue(QueueName=name + "y", Attributes={"Bogus": "1"}),
          "InvalidAttributeName", "InvalidAttributeName")
    fails(lambda: sqs.create_queue(QueueName=name + "z", Attributes={"FifoQueue": "true"}), "InvalidParameterValue")
    fails(lambda: sqs.create_queue(QueueName=name + "w", Attributes={"ContentBasedDeduplication": "true"}),
          "InvalidAttributeName")
    for suffix in ("x", "y", "z", "w"):
        assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=name + suffix)
    e = fails(lambda: raw_sqs.create_queue(), "MissingParameter")
    assert e.response["Error"]["Message"] == "The request must contain the parameter QueueName."


def test_list_queues_pagination(sqs, unique_name):
    prefix = unique_name("page")
    urls = [sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(5)]
    got, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, **kw)
        got += page.get("QueueUrls", [])
        token = page.get("NextToken")
        if not token:
            break
    assert got == urls
    paginator = sqs.get_paginator("list_queues")
    assert [u for p in paginator.paginate(QueueNamePrefix=prefix, PaginationConfig={"PageSize": 3})
            for u in p.get("QueueUrls", [])] == urls
    fails(lambda: sqs.list_queues(MaxResults=0), "InvalidParameterValue")


def test_accounts_are_isolated(client_factory, unique_name):
    mine = client_factory("sqs")
    theirs = client_factory("sqs", access_key="111122223333")
    name = unique_name("iso")
    url = mine.create_queue(QueueName=name)["QueueUrl"]
    assert "QueueUrls" not in theirs.list_queues(QueueNamePrefix=name)
    fails(lambda: theirs.get_queue_url(QueueName=name), "AWS.SimpleQueueService.NonExistentQueue")
    assert theirs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="000000000000")["QueueUrl"] == url
    other_region = client_factory("sqs", region="eu-west-1")
    assert "QueueUrls" not in other_region.list_queues(QueueNamePrefix=name)
    own = theirs.create_queue(QueueName=name)["QueueUrl"]
    assert "/111122223333/" in own


def test_queue_url_forms(sqs, queue):
    url = queue()
    path = url.split("/", 3)[3]
    for form in (url, f"https://sqs.us-east-1.amazonaws.com/{path}",
                 f"http://sqs.us-east-1.localhost.localstack.cloud:4566/{path}", url + "/"):
        sqs.send_message(QueueUrl=form, MessageBody="x")
    assert counts(sqs, url)[0] == 4
    fails(lambda: sqs.send_message(QueueUrl=url + "-nope", MessageBody="x"),
          "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


# ---------------------------------------------------------------- attributes

def test_get_and_set_attributes(sqs, queue):
    url = queue()
    a = attrs(sqs, url)
    assert a["VisibilityTimeout"] == "30" and a["MaximumMessageSize"] == "1048576"
    assert a["MessageRetentionPeriod"] == "345600" and a["DelaySeconds"] == "0"
    assert a["ReceiveMessageWaitTimeSeconds"] == "0" and a["SqsManagedSseEnabled"] == "true"
    assert a["QueueArn"].endswith(":" + url.rsplit("/", 1)[1]) and int(a["CreatedTimestamp"]) > 0
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5", "DelaySeconds": "2",
                                                       "KmsMasterKeyId": "alias/aws/sqs"})
    a = attrs(sqs, url)
    assert (a["VisibilityTimeout"], a["DelaySeconds"], a["KmsMasterKeyId"]) == ("5", "2", "alias/aws/sqs")
    assert a["SqsManagedSseEnabled"] == "false" and a["KmsDataKeyReusePeriodSeconds"] == "300"
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes") is None
    fails(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5", "DelaySeconds": "1000"}),
          "InvalidAttributeValue")
    assert attrs(sqs, url, "DelaySeconds") == {"DelaySeconds": "2"}  # nothing of the failed request applied
    fails(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"]), "InvalidAttributeName")
    fails(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"QueueArn": "x"}), "InvalidAttributeName")


def test_fifo_attributes(sqs, queue):
    url = queue("f", FifoQueue="true", ContentBasedDeduplication="true", DeduplicationScope="messageGroup",
                FifoThroughputLimit="perMessageGroupId")
    a = attrs(sqs, url)
    assert (a["FifoQueue"], a["ContentBasedDeduplication"], a["DeduplicationScope"], a["FifoThroughputLimit"]) == (
        "true", "true", "messageGroup", "perMessageGroupId")
    fails(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"}), "InvalidAttributeValue")


def test_purge(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)
    fails(lambda: sqs.purge_queue(QueueUrl=url), "AWS.SimpleQueueService.PurgeQueueInProgress",
          "PurgeQueueInProgress", 403)


# ---------------------------------------------------------------- messages

def test_send_receive_delete_with_attributes_and_digests(sqs, queue):
    url = queue()
    message_attributes = {
        "s": {"DataType": "String", "StringValue": "text ✓"},
        "n": {"DataType": "Number.int", "StringValue": "42"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        "other.x": {"DataType": "String", "StringValue": "y"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="héllo", MessageAttributes=message_attributes,
                            MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String",
                                                                        "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}})
    assert sent["MD5OfMessageBody"] == hashlib.md5("héllo".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(message_attributes)
    assert len(sent["MD5OfMessageSystemAttributes"]) == 32
    [msg] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"],
                                MessageSystemAttributeNames=["All"])["Messages"]
    assert msg["Body"] == "héllo" and msg["MessageId"] == sent["MessageId"]
    assert msg["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert msg["MessageAttributes"] == message_attributes
    assert msg["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    a = msg["Attributes"]
    assert a["SenderId"] == "test" and a["ApproximateReceiveCount"] == "1"
    assert int(a["SentTimestamp"]) <= int(a["ApproximateFirstReceiveTimestamp"])
    assert a["AWSTraceHeader"].startswith("Root=1-")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)


def test_message_attribute_name_filters(sqs, queue):
    url = queue(VisibilityTimeout=0)
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={
        "a": {"DataType": "String", "StringValue": "1"},
        "foo.bar": {"DataType": "String", "StringValue": "2"},
        "foo.baz": {"DataType": "String", "StringValue": "3"},
    })

    def names(**kw):
        [m] = sqs.receive_message(QueueUrl=url, **kw)["Messages"]
        return sorted(m.get("MessageAttributes", {}))

    assert names() == []
    assert names(MessageAttributeNames=[".*"]) == ["a", "foo.bar", "foo.baz"]
    assert names(MessageAttributeNames=["foo.*"]) == ["foo.bar", "foo.baz"]
    assert names(MessageAttributeNames=["a", "foo.baz"]) == ["a", "foo.baz"]
    [m] = sqs.receive_message(QueueUrl=url, AttributeNames=["SentTimestamp"])["Messages"]
    assert list(m["Attributes"]) == ["SentTimestamp"]
    # Queue attribute names in AttributeNames ask for nothing; unknown names are errors.
    [m] = sqs.receive_message(QueueUrl=url, AttributeNames=["SqsManagedSseEnabled", "ApproximateReceiveCount"],
                              MessageSystemAttributeNames=["SenderId"])["Messages"]
    assert sorted(m["Attributes"]) == ["ApproximateReceiveCount", "SenderId"]


def test_unknown_message_system_attribute(raw_sqs, queue):
    url = queue()
    e = fails(lambda: raw_sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["Bogus"]),
              "InvalidAttributeName")
    assert e.response["Error"]["Message"] == "Unknown Attribute Bogus."


def test_send_errors(sqs, raw_sqs, queue):
    url = queue()
    fails(lambda: sqs.send_message(QueueUrl=url, MessageBody=""), "MissingParameter")
    fails(lambda: sqs.send_message(QueueUrl=url, MessageBody="\x01"), "InvalidMessageContents")
    fails(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901), "InvalidParameterValue")
    fails(lambda: sqs.send_message(QueueUrl=url, MessageBody="x" * (1024 * 1024 + 1)), "InvalidParameterValue")
    fails(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d"), "InvalidParameterValue")
    fails(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={
        "a": {"DataType": "Weird", "StringValue": "1"}}), "InvalidParameterValue")
    e = fails(lambda: raw_sqs.send_message(QueueUrl=url), "MissingParameter")
    assert e.response["Error"]["Message"] == "The request must contain the parameter MessageBody."
    fails(lambda: raw_sqs.send_message(MessageBody="x"), "MissingParameter")
    # a string where the model has an integer fails AWS's JSON deserializer first
    e = fails(lambda: raw_sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds="soon"), "SerializationException")
    assert e.response["Error"]["Message"] == "STRING_VALUE can not be converted to an Integer"
    fails(lambda: raw_sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={"a": {"StringValue": "v"}}),
          "InvalidParameterValue")
    assert counts(sqs, url) == (0, 0, 0)
    sqs.send_message(QueueUrl=url, MessageBody="x" * (1024 * 1024))  # exactly the limit


def test_receive_errors_and_limits(sqs, queue):
    url = queue()
    for n in (0, 11):
        e = fails(lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n), "InvalidParameterValue")
        assert "Must be between 1 and 10, if provided." in str(e)
    fails(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21), "InvalidParameterValue")
    fails(lambda: sqs.receive_message(QueueUrl=url, VisibilityTimeout=43201), "InvalidParameterValue")
    for i in range(15):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 10
    assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1


def test_visibility_delay_and_clock(sqs, server, queue):
    url = queue(VisibilityTimeout=30)
    sqs.send_message(QueueUrl=url, MessageBody="now")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert counts(sqs, url) == (1, 0, 1)
    [msg] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert msg["Body"] == "now" and counts(sqs, url) == (0, 1, 1)
    server.advance_clock(31)
    assert counts(sqs, url) == (1, 0, 1)
    [again] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=100)["Messages"]
    assert again["ReceiptHandle"] != msg["ReceiptHandle"]
    server.advance_clock(30)
    [later] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert later["Body"] == "later"


def test_change_visibility(sqs, raw_sqs, server, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [m] = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    [m] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=10)["Messages"]
    fails(lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle="bogus", VisibilityTimeout=5),
          "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404)
    fails(lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                                VisibilityTimeout=43200),
          "InvalidParameterValue")
    fails(lambda: raw_sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"]),
          "MissingParameter")
    server.advance_clock(11)
    # No longer in flight: AWS answers OK and changes nothing (localstack#9632, AWS-validated).
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=5)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["MessageId"] == m["MessageId"]
    fifo = queue(FifoQueue="true")
    sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d")
    [m] = sqs.receive_message(QueueUrl=fifo, VisibilityTimeout=10)["Messages"]
    server.advance_clock(11)
    fails(lambda: sqs.change_message_visibility(QueueUrl=fifo, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=5),
          "AWS.SimpleQueueService.MessageNotInflight", "MessageNotInflight")


def test_delete_message_errors(sqs, queue):
    url = queue()
    fails(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle"), "ReceiptHandleIsInvalid",
          status=404)
    other = queue("other")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [m] = sqs.receive_message(QueueUrl=url)["Messages"]
    fails(lambda: sqs.delete_message(QueueUrl=other, ReceiptHandle=m["ReceiptHandle"]), "ReceiptHandleIsInvalid",
          status=404)
    assert counts(sqs, url) == (0, 1, 0)


def test_batches(sqs, raw_sqs, queue):
    url = queue()
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "1"},
        {"Id": "b", "MessageBody": "2", "DelaySeconds": 5},
        {"Id": "c", "MessageBody": ""},
    ])
    assert sorted(e["Id"] for e in out["Successful"]) == ["a", "b"]
    assert out["Failed"] == [{"Id": "c", "SenderFault": True, "Code": "MissingParameter",
                              "Message": "The request must contain the parameter MessageBody."}]
    fails(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[]), "AWS.SimpleQueueService.EmptyBatchRequest",
          "EmptyBatchRequest")
    fails(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)]),
          "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "TooManyEntriesInBatchRequest")
    fails(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "x", "MessageBody": "1"},
                                                               {"Id": "x", "MessageBody": "2"}]),
          "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "BatchEntryIdsNotDistinct")
    fails(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "bad id", "MessageBody": "1"}]),
          "AWS.SimpleQueueService.InvalidBatchEntryId", "InvalidBatchEntryId")
    fails(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x" * 600_000},
                                                               {"Id": "b", "MessageBody": "x" * 600_000}]),
          "AWS.SimpleQueueService.BatchRequestTooLong", "BatchRequestTooLong")
    assert counts(sqs, url) == (1, 0, 1)  # only the first successful batch landed
    [m] = sqs.receive_message(QueueUrl=url)["Messages"]
    out = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 60},
        {"Id": "bad", "ReceiptHandle": "nope", "VisibilityTimeout": 60},
    ])
    assert [e["Id"] for e in out["Successful"]] == ["ok"] and out["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    out = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "ReceiptHandle": m["ReceiptHandle"]},
        {"Id": "bad", "ReceiptHandle": "nope"},
    ])
    assert [e["Id"] for e in out["Successful"]] == ["ok"] and out["Failed"][0]["Id"] == "bad"
    fails(lambda: sqs.delete_message_batch(QueueUrl=url, Entries=[]), "AWS.SimpleQueueService.EmptyBatchRequest")
    fails(lambda: sqs.change_message_visibility_batch(QueueUrl=url, Entries=[]),
          "AWS.SimpleQueueService.EmptyBatchRequest")
    fails(lambda: raw_sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "x"}]), "MissingParameter")


# ---------------------------------------------------------------- FIFO

def test_fifo_send_receive(sqs, raw_sqs, queue):
    url = queue("f", FifoQueue="true")
    seqs = []
    for i in range(4):
        r = sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g" + str(i % 2),
                             MessageDeduplicationId=f"d{i}")
        assert len(r["SequenceNumber"]) >= 20
        seqs.append(int(r["SequenceNumber"]))
    assert seqs == sorted(seqs)
    dup = sqs.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="g0", MessageDeduplicationId="d0")
    assert int(dup["SequenceNumber"]) == seqs[0]
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in msgs] == ["m0", "m2", "m1", "m3"]
    assert msgs[0]["Attributes"]["MessageGroupId"] == "g0"
    assert msgs[0]["Attributes"]["MessageDeduplicationId"] == "d0"
    assert msgs[0]["Attributes"]["SequenceNumber"] == str(seqs[0])
    assert sqs.receive_message(QueueUrl=url).get("Messages") is None
    e = fails(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="z"), "MissingParameter")
    assert "MessageGroupId" in str(e)
    fails(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g"), "InvalidParameterValue")
    fails(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="q",
                                   DelaySeconds=1), "InvalidParameterValue")
    assert counts(sqs, url) == (0, 4, 0)


def test_fifo_content_based_dedup_and_attempt_id(sqs, queue):
    url = queue("c", FifoQueue="true", ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"]
    sqs.send_message(QueueUrl=url, MessageBody="different", MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt-1")["Messages"]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt-1")["Messages"]
    assert [m["ReceiptHandle"] for m in again] == [m["ReceiptHandle"] for m in first]
    assert [m["Body"] for m in first] == ["same", "different"]


# ---------------------------------------------------------------- dead-letter queues and redrive

def test_redrive_to_dlq_and_back(sqs, server, queue):
    dlq = queue("dlq")
    dlq_arn = attrs(sqs, dlq, "QueueArn")["QueueArn"]
    src = queue("src", VisibilityTimeout=5,
                RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    assert json.loads(attrs(sqs, src, "RedrivePolicy")["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    for i in range(3):
        sqs.send_message(QueueUrl=src, MessageBody=f"m{i}")
    assert len(sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)["Messages"]) == 3
    server.advance_clock(6)
    assert sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10).get("Messages") is None
    assert counts(sqs, dlq) == (3, 0, 0)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    for _ in range(100):  # the background worker moves them
        task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
        if task["Status"] != "RUNNING":
            break
        time.sleep(0.02)
    assert task["Status"] == "COMPLETED" and task["ApproximateNumberOfMessagesMoved"] == 3
    moved = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in moved) == ["m0", "m1", "m2"]
    fails(lambda: sqs.cancel_message_move_task(TaskHandle=handle), "ResourceNotFoundException",
          "ResourceNotFoundException", 404)
    fails(lambda: sqs.start_message_move_task(SourceArn=dlq_arn.replace(":dlq", ":nope")),
          "ResourceNotFoundException", status=404)
    fails(lambda: sqs.start_message_move_task(SourceArn=attrs(sqs, src, "QueueArn")["QueueArn"]),
          "InvalidParameterValue")
    bad = json.dumps({"deadLetterTargetArn": dlq_arn + "-missing", "maxReceiveCount": 1})
    fails(lambda: sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": bad}), "InvalidParameterValue")


# ---------------------------------------------------------------- tags and permissions

def test_tags(sqs, raw_sqs, queue):
    url = queue()
    sqs.tag_queue(QueueUrl=url, Tags={"a": "1", "b": "2"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["a"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"b": "2"}
    fails(lambda: sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(50)}), "InvalidParameterValue")
    fails(lambda: sqs.tag_queue(QueueUrl=url, Tags={"k" * 129: "v"}), "InvalidParameterValue")
    fails(lambda: raw_sqs.tag_queue(QueueUrl=url), "MissingParameter")
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"b": "2"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["b"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)


def test_permissions(sqs, queue):
    url = queue()
    sqs.add_permission(QueueUrl=url, Label="share", AWSAccountIds=["111122223333"],
                       Actions=["SendMessage", "ReceiveMessage"])
    policy = json.loads(attrs(sqs, url, "Policy")["Policy"])
    [statement] = policy["Statement"]
    assert statement["Sid"] == "share" and statement["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert statement["Action"] == ["SQS:SendMessage", "SQS:ReceiveMessage"]
    fails(lambda: sqs.add_permission(QueueUrl=url, Label="share", AWSAccountIds=["111122223333"],
                                     Actions=["SendMessage"]), "InvalidParameterValue")
    sqs.remove_permission(QueueUrl=url, Label="share")
    assert "Policy" not in attrs(sqs, url)
    fails(lambda: sqs.remove_permission(QueueUrl=url, Label="share"), "InvalidParameterValue")


# ---------------------------------------------------------------- every operation on a missing queue

@pytest.mark.parametrize("op, kw", [
    ("get_queue_attributes", {"AttributeNames": ["All"]}),
    ("set_queue_attributes", {"Attributes": {"DelaySeconds": "1"}}),
    ("delete_queue", {}),
    ("purge_queue", {}),
    ("send_message", {"MessageBody": "x"}),
    ("send_message_batch", {"Entries": [{"Id": "a", "MessageBody": "x"}]}),
    ("receive_message", {}),
    ("delete_message", {"ReceiptHandle": "x"}),
    ("delete_message_batch", {"Entries": [{"Id": "a", "ReceiptHandle": "x"}]}),
    ("change_message_visibility", {"ReceiptHandle": "x", "VisibilityTimeout": 1}),
    ("change_message_visibility_batch", {"Entries": [{"Id": "a", "ReceiptHandle": "x", "VisibilityTimeout": 1}]}),
    ("tag_queue", {"Tags": {"a": "b"}}),
    ("untag_queue", {"TagKeys": ["a"]}),
    ("list_queue_tags", {}),
    ("add_permission", {"Label": "l", "AWSAccountIds": ["111122223333"], "Actions": ["SendMessage"]}),
    ("remove_permission", {"Label": "l"}),
    ("list_dead_letter_source_queues", {}),
])
def test_missing_queue(sqs, server, op, kw):
    fails(lambda: getattr(sqs, op)(QueueUrl=f"{server.url}/000000000000/no-such-queue", **kw),
          "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def test_json_error_carries_query_error_header(sqs, server):
    with pytest.raises(ClientError) as e:
        sqs.get_queue_url(QueueName="no-such-queue-anywhere")
    headers = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert isinstance(e.value, sqs.exceptions.QueueDoesNotExist)

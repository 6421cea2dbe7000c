"""SQS as a user's test-suite sees it: black-box boto3 (client and resource API) against
a real ``cloudlet serve``, checking what AWS documents or was observed to answer.

Where a test pins behaviour that the API reference leaves implicit, the comment names
the source: the SQS API reference / developer guide, or responses recorded from AWS
(LocalStack's AWS-validated SQS snapshots, SDK issue threads).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import REGION

NS = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
AUTH = ("AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, "
        "SignedHeaders=host, Signature=abc")


@pytest.fixture
def sqs(client_factory):
    return client_factory("sqs")


@pytest.fixture
def resource(server):
    return boto3.resource("sqs", endpoint_url=server.url, region_name=REGION, aws_access_key_id="test",
                          aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}))


@pytest.fixture
def make_queue(sqs, unique_name):
    def make(prefix="fq", fifo=False, **attrs) -> str:
        name = unique_name(prefix) + (".fifo" if fifo else "")
        if fifo:
            attrs["FifoQueue"] = "true"
        return sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]
    return make


def error_of(excinfo) -> dict:
    return excinfo.value.response["Error"]


def arn_of(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def query(base: str, path: str = "/", **params) -> tuple[int, ET.Element]:
    """A signed-looking query-protocol POST, as older SDKs send it."""
    body = urllib.parse.urlencode({"Version": "2012-11-05", **{k: str(v) for k, v in params.items()}}).encode()
    req = urllib.request.Request(base + path, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": AUTH})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, ET.fromstring(r.read())
    except urllib.error.HTTPError as e:
        return e.code, ET.fromstring(e.read())


# ---------------------------------------------------------------- errors as boto3 reports them

def test_common_errors_carry_the_json_shape_names_aws_sends(sqs, make_queue):
    # Over JSON AWS names the common errors InvalidParameterValueException and
    # MissingRequiredParameterException; the legacy code stays in Error.Code.
    url = make_queue()
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert error_of(e) == {
        "Code": "InvalidParameterValue", "QueryErrorCode": "InvalidParameterValueException", "Type": "Sender",
        "Message": "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, "
                   "if provided."}
    fifo = make_queue(fifo=True)
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageDeduplicationId="d")
    assert error_of(e) == {"Code": "MissingParameter", "QueryErrorCode": "MissingRequiredParameterException",
                           "Type": "Sender", "Message": "The request must contain the parameter MessageGroupId."}


@pytest.mark.parametrize("params, message", [
    ({"MaxNumberOfMessages": "10"}, "STRING_VALUE can not be converted to an Integer"),
    ({"VisibilityTimeout": True}, "BOOLEAN_VALUE can not be converted to an Integer"),
    ({"AttributeNames": "All"}, "STRING_VALUE can not be converted to a List"),
])
def test_a_value_of_the_wrong_json_type_is_a_serialization_exception(server, sqs, make_queue, params, message):
    # AWS's JSON deserializer refuses it before any validation (sqs.eu-central-1 answering
    # a string VisibilityTimeout, async-aws/aws#1667); the queue is untouched.
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    body = json.dumps({"QueueUrl": url, **params}).encode()
    req = urllib.request.Request(server.url + "/", data=body, method="POST", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ReceiveMessage",
        "Authorization": AUTH})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400
    answer = json.loads(e.value.read())
    assert answer["__type"].endswith("#SerializationException") and answer["message"] == message
    # Over the query protocol every value is text: the same mistake is an invalid value there.
    status, root = query(server.url, Action="ReceiveMessage", QueueUrl=url, MaxNumberOfMessages="ten")
    assert status == 400 and root.find("q:Error/q:Code", NS).text == "InvalidParameterValue"
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url).get("Messages", [])] == ["kept"]


def test_modelled_exceptions_are_catchable(sqs, make_queue, unique_name):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName=unique_name("missing"))
    assert error_of(e)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert error_of(e)["Message"] == "The specified queue does not exist."
    url = make_queue()
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    with pytest.raises(sqs.exceptions.EmptyBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[])
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])


def test_query_protocol_non_existent_queue_says_wsdl_version(server, unique_name):
    # Over the query protocol AWS keeps the old text (LocalStack AWS-validated query tests).
    status, root = query(server.url, f"/000000000000/{unique_name('gone')}", Action="GetQueueAttributes",
                         **{"AttributeName.1": "QueueArn"})
    assert status == 400
    assert root.find("q:Error/q:Code", NS).text == "AWS.SimpleQueueService.NonExistentQueue"
    assert root.find("q:Error/q:Message", NS).text == "The specified queue does not exist for this wsdl version."


# ---------------------------------------------------------------- queues

def test_recreating_a_deleted_queue_too_soon(sqs, server, unique_name):
    name = unique_name("again")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDeletedRecently) as e:
        sqs.create_queue(QueueName=name)
    assert error_of(e)["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"
    assert error_of(e)["Message"] == ("You must wait 60 seconds after deleting a queue before you can create "
                                      "another with the same name.")


def test_sse_kms_and_sse_sqs_exclude_each_other(sqs, make_queue):
    url = make_queue()
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "alias/aws/sqs",
                                                           "SqsManagedSseEnabled": "true"})
    assert error_of(e)["Code"] == "InvalidAttributeName"
    assert error_of(e)["Message"] == ("You can use one type of server-side encryption (SSE) at one time. "
                                      "You can either enable KMS SSE or SQS SSE.")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "testKeyId",
                                                       "KmsDataKeyReusePeriodSeconds": "6000",
                                                       "SqsManagedSseEnabled": "false"})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
                                                                 "SqsManagedSseEnabled"])["Attributes"]
    assert got == {"KmsMasterKeyId": "testKeyId", "KmsDataKeyReusePeriodSeconds": "6000",
                   "SqsManagedSseEnabled": "false"}


def test_redrive_policy_with_a_malformed_arn(sqs, make_queue):
    policy = json.dumps({"deadLetterTargetArn": "dummy", "maxReceiveCount": 42})
    with pytest.raises(ClientError) as e:
        make_queue(RedrivePolicy=policy)
    assert error_of(e)["Code"] == "InvalidParameterValue"
    assert error_of(e)["Message"] == (f"Value {policy} for parameter RedrivePolicy is invalid. "
                                      "Reason: Invalid value for deadLetterTargetArn.")


def test_add_and_remove_permission_as_aws_writes_the_policy(sqs, make_queue):
    url = make_queue()
    arn = arn_of(sqs, url)
    sqs.add_permission(QueueUrl=url, Label="crossaccountpermission", AWSAccountIds=["000000000000", "668614515564"],
                       Actions=["ReceiveMessage"])
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy == {
        "Version": "2008-10-17", "Id": f"{arn}/SQSDefaultPolicy",
        "Statement": [{"Sid": "crossaccountpermission", "Effect": "Allow",
                       "Principal": {"AWS": ["arn:aws:iam::000000000000:root", "arn:aws:iam::668614515564:root"]},
                       "Action": "SQS:ReceiveMessage", "Resource": arn}]}
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="crossaccountpermission", AWSAccountIds=["668614515564"],
                           Actions=["ReceiveMessage"])
    assert error_of(e)["Message"] == ("Value crossaccountpermission for parameter Label is invalid. "
                                      "Reason: Already exists.")
    sqs.remove_permission(QueueUrl=url, Label="crossaccountpermission")
    with pytest.raises(ClientError) as e:
        sqs.remove_permission(QueueUrl=url, Label="crossaccountpermission")
    assert error_of(e)["Code"] == "InvalidParameterValue"
    assert error_of(e)["Message"] == ("Value crossaccountpermission for parameter Label is invalid. "
                                      "Reason: can't find label.")


# ---------------------------------------------------------------- messages

def test_message_attribute_name_filters(sqs, make_queue):
    url = make_queue(VisibilityTimeout=0)
    sqs.send_message(QueueUrl=url, MessageBody="msg", MessageAttributes={
        "Help.Me": {"DataType": "String", "StringValue": "Me"},
        "Hello": {"DataType": "String", "StringValue": "There"},
        "General": {"DataType": "String", "StringValue": "Kenobi"}})

    def names(filters):
        msg = sqs.receive_message(QueueUrl=url, MessageAttributeNames=filters)["Messages"][0]
        return sorted(msg.get("MessageAttributes", {}))

    assert names([]) == []
    every = ["General", "Hello", "Help.Me"]
    assert names(["All"]) == names(["*"]) == names([".*"]) == every
    assert names(["Hello", "General"]) == ["General", "Hello"]
    assert names(["Foo", "Hello"]) == ["Hello"]
    # A prefix filter matches on the text before ".*" (AWS returned Hello for "Hel.*").
    assert names(["Hel.*"]) == ["Hello", "Help.Me"]


def test_change_visibility_after_the_timeout_ended_is_a_no_op(sqs, server, make_queue):
    # AWS answers OK and the message stays visible (localstack#9598/#9632, AWS-validated).
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="m")
    [m] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"]
    server.advance_clock(2)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=30)
    [again] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert again["MessageId"] == m["MessageId"]
    # An older handle still changes the visibility of the message received again (verified
    # against AWS by moto, getmoto/moto#4655: test_change_message_visibility_on_old_message).
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["MessageId"] == m["MessageId"]


def test_change_visibility_on_a_deleted_message(sqs, make_queue):
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="m")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=42)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)  # again: still fine
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=42)
    assert error_of(e)["Code"] == "InvalidParameterValue"
    assert error_of(e)["Message"] == (f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does "
                                      "not exist or is not available for visibility timeout change.")


def test_an_older_receipt_handle_still_deletes_from_a_standard_queue(sqs, server, make_queue):
    # Verified against AWS by moto (getmoto/moto#4655: test_delete_message_using_old_receipt_handle,
    # test_delete_message_after_visibility_timeout); LocalStack found the same on AWS (#12442:
    # only FIFO refuses an expired handle). The API reference allows it: "If you use an old
    # ReceiptHandle, the request will succeed, but the message might not be deleted."
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="m")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]["ReceiptHandle"]
    server.advance_clock(2)
    second = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]["ReceiptHandle"]
    assert first != second
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first)
    server.advance_clock(2)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # gone, not just hidden
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first)  # again, and with the newer handle: still OK
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second)
    # A handle whose visibility timeout ran out (the message visible again) deletes too.
    sqs.send_message(QueueUrl=url, MessageBody="n")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]["ReceiptHandle"]
    server.advance_clock(2)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_a_fifo_receipt_handle_expires_with_its_visibility_timeout(sqs, server, make_queue):
    # AWS knowledge center "sqs-receipt-handle-error": for FIFO queues a receipt handle expires
    # after its visibility timeout; deleting with it answers InvalidParameterValue "... Reason:
    # The receipt handle has expired." (also LocalStack's AWS-validated test for #12278).
    url = make_queue(fifo=True)
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="d")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]["ReceiptHandle"]
    server.advance_clock(2)
    expired = f"Value {first} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
    with pytest.raises(ClientError) as e:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=first)
    assert (error_of(e)["Code"], error_of(e)["Message"]) == ("InvalidParameterValue", expired)
    second = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(ClientError) as e:  # received again: the first handle stays expired
        sqs.delete_message(QueueUrl=url, ReceiptHandle=first)
    assert error_of(e)["Message"] == expired
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


@pytest.mark.parametrize("missing, message", [
    ("MessageGroupId", "The request must contain the parameter MessageGroupId."),
    ("MessageDeduplicationId", "The queue should either have ContentBasedDeduplication enabled or "
                               "MessageDeduplicationId provided explicitly"),
])
def test_fifo_batch_without_group_or_dedup_id_fails_as_a_whole(sqs, make_queue, missing, message):
    url = make_queue(fifo=True)
    second = {"Id": "b", "MessageBody": "y", "MessageGroupId": "g", "MessageDeduplicationId": "d2"}
    del second[missing]
    with pytest.raises(ClientError) as e:
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d1"}, second])
    assert error_of(e)["Code"] == "InvalidParameterValue"
    assert error_of(e)["Message"] == message
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


# ---------------------------------------------------------------- FIFO group order (AWS-validated scenarios)

def _fifo_send(sqs, url, *items):
    for body in items:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=body.split("-")[0])


def _bodies(response) -> list[str]:
    return [m["Body"] for m in response.get("Messages", [])]


def test_fifo_groups_come_back_behind_waiting_groups(sqs, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    _fifo_send(sqs, url, "g1-m1", "g2-m1", "g2-m2", "g3-m1", "g1-m2")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=0)
    assert _bodies(got) == ["g1-m1", "g1-m2", "g2-m1"]
    # g3 waited; g1 and g2 became receivable again only when that receive ended.
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert _bodies(got) == ["g3-m1", "g1-m1", "g1-m2", "g2-m1", "g2-m2"]


def test_fifo_visibility_is_shared_by_the_group(sqs, server, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true", VisibilityTimeout=1)
    _fifo_send(sqs, url, "g1-m1", "g1-m2", "g1-m3", "g1-m4", "g2-m1", "g3-m1")
    assert _bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)) == ["g1-m1", "g1-m2"]
    assert _bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)) == ["g2-m1"]
    server.advance_clock(2)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert _bodies(got) == ["g3-m1", "g1-m1", "g1-m2", "g1-m3", "g1-m4", "g2-m1"]


def test_fifo_group_head_made_visible_again_is_received_before_the_rest(sqs, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true", VisibilityTimeout=30)
    _fifo_send(sqs, url, "g1-m1", "g1-m2", "g2-m1")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert [m["Body"] for m in got] == ["g1-m1", "g1-m2"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
    # g1-m2 is still in flight, but the head of g1 is visible again.
    assert _bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)) == ["g2-m1", "g1-m1"]


def test_fifo_group_after_delete_and_partial_delete(sqs, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    _fifo_send(sqs, url, "g1-m1", "g2-m1", "g1-m2", "g2-m2", "g1-m3", "g1-m4", "g3-m1")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert [m["Body"] for m in got] == ["g1-m1", "g1-m2"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    # g1-m2 is in flight at the head of g1: nothing of g1 may be received.
    assert _bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)) == [
        "g2-m1", "g2-m2", "g3-m1"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[1]["ReceiptHandle"])
    # g1 waited since its messages were sent; g2 and g3 came back from the last receive.
    assert _bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == [
        "g1-m3", "g1-m4", "g2-m1", "g2-m2", "g3-m1"]


# ---------------------------------------------------------------- dead-letter queues

@pytest.mark.parametrize("fifo", [False, True])
def test_dead_letter_retention_counts_from_the_move_only_for_fifo(sqs, server, make_queue, fifo):
    # Developer guide, "Setting-up dead-letter queue retention": standard queues keep
    # the original enqueue timestamp, FIFO queues reset it when the message is moved.
    dlq = make_queue("dlq", fifo=fifo, MessageRetentionPeriod=60)
    src = make_queue("src", fifo=fifo, RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1}))
    extra = {"MessageGroupId": "g", "MessageDeduplicationId": "d"} if fifo else {}
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison", **extra)
    server.advance_clock(50)
    assert sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)["Messages"][0]["MessageId"] == sent["MessageId"]
    assert "Messages" not in sqs.receive_message(QueueUrl=src)  # moved to the DLQ on this receive
    server.advance_clock(30)  # 80 s after the send, 30 s after the move

    def queued() -> int:
        attrs = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
        return sum(int(attrs[a]) for a in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                           "ApproximateNumberOfMessagesDelayed"))

    assert queued() == (1 if fifo else 0)  # the counters leave out what has expired, too
    got = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"], VisibilityTimeout=0).get("Messages", [])
    if fifo:
        assert [m["MessageId"] for m in got] == [sent["MessageId"]]
        assert got[0]["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(sqs, src)
    else:
        assert got == []
    server.advance_clock(31)  # 61 s after the move: gone from a FIFO dead-letter queue too
    assert queued() == 0
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq)


# ---------------------------------------------------------------- query protocol

@pytest.mark.parametrize("action, params", [("CreateQueue", {"QueueName": "other"}), ("ListQueues", {})])
def test_query_actions_that_are_not_about_a_queue_are_refused_on_a_queue_url(server, make_queue, action, params):
    url = make_queue()
    status, root = query(server.url, "/" + url.split("/", 3)[3], Action=action, **params)
    assert status == 400
    assert root.find("q:Error/q:Code", NS).text == "InvalidAction"
    assert root.find("q:Error/q:Message", NS).text == f"The action {action} is not valid for this endpoint."


def test_query_queue_url_parameter_wins_over_the_path(server, make_queue):
    first, second = make_queue("one"), make_queue("two")
    status, root = query(server.url, "/" + first.split("/", 3)[3], Action="GetQueueAttributes",
                         QueueUrl=second, **{"AttributeName.1": "QueueArn"})
    assert status == 200
    assert root.find("q:GetQueueAttributesResult/q:Attribute/q:Value", NS).text.endswith(second.rsplit("/", 1)[1])


# ---------------------------------------------------------------- user flows: resource API, URLs, pages

def test_resource_api_round_trip(resource, unique_name):
    queue = resource.create_queue(QueueName=unique_name("res"), Attributes={"VisibilityTimeout": "10"},
                                  tags={"team": "qa"})
    assert queue.attributes["VisibilityTimeout"] == "10"
    assert resource.get_queue_by_name(QueueName=queue.url.rsplit("/", 1)[1]).url == queue.url
    sent = queue.send_message(MessageBody="héllo 😀", MessageAttributes={
        "f": {"DataType": "Number.float", "StringValue": "1.5"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        "s": {"DataType": "String.custom", "StringValue": "x"}})
    batch = queue.send_messages(Entries=[{"Id": "1", "MessageBody": "one"}, {"Id": "2", "MessageBody": "two"}])
    assert sorted(e["Id"] for e in batch["Successful"]) == ["1", "2"]
    messages = queue.receive_messages(MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                      AttributeNames=["All"])  # boto3 checks every MD5 it gets
    by_body = {m.body: m for m in messages}
    assert set(by_body) == {"héllo 😀", "one", "two"}
    first = by_body["héllo 😀"]
    assert first.message_id == sent["MessageId"]
    assert first.message_attributes["b"] == {"DataType": "Binary", "BinaryValue": b"\x00\x01"}
    assert first.attributes["ApproximateReceiveCount"] == "1"
    assert first.attributes["SentTimestamp"].isdigit() and len(first.attributes["SentTimestamp"]) == 13
    first.change_visibility(VisibilityTimeout=0)
    first.delete()
    result = queue.delete_messages(Entries=[{"Id": "a", "ReceiptHandle": by_body["one"].receipt_handle},
                                            {"Id": "b", "ReceiptHandle": by_body["two"].receipt_handle}])
    assert sorted(e["Id"] for e in result["Successful"]) == ["a", "b"]
    again = queue.receive_messages(MaxNumberOfMessages=10)
    assert [m.body for m in again] == ["héllo 😀"] or again == []  # the change_visibility(0) put it back


def test_queue_url_forms_sdks_send(sqs, make_queue):
    url = make_queue()
    name = url.rsplit("/", 1)[1]
    for form in (f"https://sqs.us-east-1.amazonaws.com/000000000000/{name}",
                 f"http://localhost:4566/000000000000/{name}",
                 f"http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/{name}",
                 f"https://queue.amazonaws.com/000000000000/{name}"):
        sqs.send_message(QueueUrl=form, MessageBody=form)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 4


def test_get_queue_url_of_another_account(server, unique_name):
    owner = boto3.client("sqs", endpoint_url=server.url, region_name=REGION, aws_access_key_id="111122223333",
                         aws_secret_access_key="x")
    other = boto3.client("sqs", endpoint_url=server.url, region_name=REGION, aws_access_key_id="test",
                         aws_secret_access_key="x")
    name = unique_name("shared")
    url = owner.create_queue(QueueName=name)["QueueUrl"]
    assert url.endswith(f"/111122223333/{name}")
    assert other.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="111122223333")["QueueUrl"] == url
    with pytest.raises(other.exceptions.QueueDoesNotExist):
        other.get_queue_url(QueueName=name)
    other.send_message(QueueUrl=url, MessageBody="cross-account")
    assert owner.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "cross-account"


def test_list_queues_pages_with_the_paginator(sqs, unique_name):
    prefix = unique_name("page")
    urls = [sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(5)]
    pages = list(sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix,
                                                           PaginationConfig={"PageSize": 2}))
    assert [len(p["QueueUrls"]) for p in pages] == [2, 2, 1]
    assert sorted(u for p in pages for u in p["QueueUrls"]) == sorted(urls)
    assert "NextToken" not in pages[-1]
    assert sorted(sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]) == sorted(urls)
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique_name("none"))
    with pytest.raises(ClientError) as e:
        sqs.list_queues(MaxResults=1001)
    assert error_of(e)["Code"] == "InvalidParameterValue"


@pytest.mark.parametrize("name, value", [
    ("MessageRetentionPeriod", "59"), ("MessageRetentionPeriod", "1209601"), ("VisibilityTimeout", "43201"),
    ("VisibilityTimeout", "-1"), ("ReceiveMessageWaitTimeSeconds", "21"), ("DelaySeconds", "901"),
    ("MaximumMessageSize", "1023"), ("MaximumMessageSize", "1048577"), ("DelaySeconds", "soon"),
])
def test_attribute_bounds(sqs, make_queue, name, value):
    url = make_queue()
    with pytest.raises(sqs.exceptions.InvalidAttributeValue) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})
    assert error_of(e)["Message"] == f"Invalid value for the parameter {name}."


def test_attribute_round_trip_and_formats(sqs, make_queue):
    url = make_queue(VisibilityTimeout=45, MessageRetentionPeriod=1209600, MaximumMessageSize=1048576,
                     ReceiveMessageWaitTimeSeconds=20, DelaySeconds=900)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {k: attrs[k] for k in ("VisibilityTimeout", "MessageRetentionPeriod", "MaximumMessageSize",
                                  "ReceiveMessageWaitTimeSeconds", "DelaySeconds")} == {
        "VisibilityTimeout": "45", "MessageRetentionPeriod": "1209600", "MaximumMessageSize": "1048576",
        "ReceiveMessageWaitTimeSeconds": "20", "DelaySeconds": "900"}
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert len(attrs["CreatedTimestamp"]) == 10 and attrs["CreatedTimestamp"].isdigit()  # epoch seconds
    assert "FifoQueue" not in attrs and "Policy" not in attrs
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                       "Action": "sqs:SendMessage", "Resource": "*"}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    assert json.loads(got) == policy
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_message_size_limit_counts_attributes(sqs, make_queue):
    url = make_queue(MaximumMessageSize=1024)
    sqs.send_message(QueueUrl=url, MessageBody="a" * 1024)
    attrs = {"k": {"DataType": "String", "StringValue": "x"}}  # 1 + 6 + 1 bytes
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="a" * (1024 - 8 + 1), MessageAttributes=attrs)
    assert error_of(e)["Message"] == ("One or more parameters are invalid. Reason: Message must be shorter than "
                                      "1024 bytes.")
    big = make_queue()
    sqs.send_message(QueueUrl=big, MessageBody="a" * 1_048_576)  # the 1 MiB maximum itself is allowed


def test_trace_header_has_its_own_digest(sqs, make_queue):
    url = make_queue()
    attrs = {"timestamp": {"StringValue": "1493147359900", "DataType": "Number"}}
    trace = {"AWSTraceHeader": {"StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
                                               "Sampled=1", "DataType": "String"}}
    plain = sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes=attrs)
    traced = sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes=attrs,
                              MessageSystemAttributes=trace)
    assert plain["MD5OfMessageAttributes"] == traced["MD5OfMessageAttributes"]
    assert "MD5OfMessageSystemAttributes" not in plain
    assert traced["MD5OfMessageSystemAttributes"] == "5ae4d5d7636402d80f4eb6d213245a88"  # as AWS computes it


def test_tags_on_create_and_their_lifecycle(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("tags"), tags={"tag1": "value1", "tag3": ""})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tag1": "value1", "tag3": ""}
    sqs.tag_queue(QueueUrl=url, Tags={"tag1": "VALUE1", "MyTag": "a", "mytag": "b"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tag1": "VALUE1", "tag3": "", "MyTag": "a", "mytag": "b"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["tag3", "nope"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tag1": "VALUE1", "MyTag": "a", "mytag": "b"}

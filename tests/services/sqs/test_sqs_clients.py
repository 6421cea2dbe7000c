"""SQS as real clients use it (queue libraries, async SDKs, the AWS CLI), and the differences
from AWS that exercising it with them turned up.

Each fix is pinned through boto3 (or the CLI) against a real ``cloudlet serve``; where bad
input must leave the queue as it was, a following read proves it. Libraries outside the
test extras are skipped when missing (``pytest.importorskip``).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.services.sqs.test_sqs_fidelity import error_of, make_queue, sqs  # noqa: F401 (fixtures)


def _status(excinfo) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _policy(sqs, url: str) -> dict | None:
    text = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
    return json.loads(text) if text else None


# ---------------------------------------------------------------- AddPermission

@pytest.mark.parametrize("action, reason", [
    # What AWS answered for a batch action (cloudtools/awacs#34, aws/aws-cdk#2381).
    ("SendMessageBatch", "Please refer to the appropriate WSDL for a list of valid actions."),
    ("Fly", "Please refer to the appropriate WSDL for a list of valid actions."),
    ("CreateQueue", "Only the queue owner is allowed to invoke this action."),
])
def test_add_permission_with_an_action_that_cannot_be_granted(sqs, make_queue, action, reason):
    url = make_queue("perm")
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=["111122223333"], Actions=[action])
    assert error_of(e) == {**error_of(e), "Code": "InvalidParameterValue",
                           "Message": f"Value SQS:{action} for parameter ActionName is invalid. Reason: {reason}"}
    assert _policy(sqs, url) is None


@pytest.mark.parametrize("principal", ["*", "abc", "arn:aws:iam::111122223333:user/bob", "11112222333"])
def test_add_permission_takes_only_account_ids(sqs, make_queue, principal):
    # aws/aws-cli#7416: "Value [<arn>] for parameter PrincipalId is invalid. Reason: Unable to verify principal."
    url = make_queue("perm")
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=[principal], Actions=["SendMessage"])
    assert error_of(e)["Code"] == "InvalidParameterValue" and _status(e) == 400
    assert error_of(e)["Message"] == (f"Value [{principal}] for parameter PrincipalId is invalid. "
                                      "Reason: Unable to verify principal.")
    assert _policy(sqs, url) is None


def test_add_permission_stops_at_20_statements(sqs, make_queue):
    # OverLimit: "AddPermission returns this error if the maximum number of permissions for
    # the queue is reached" (botocore model); 20 statements per policy (SQS policy quotas).
    url = make_queue("perm")
    for i in range(20):
        sqs.add_permission(QueueUrl=url, Label=f"l{i}", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="l20", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    assert error_of(e)["Code"] == "OverLimit" and _status(e) == 403
    assert error_of(e)["Message"] == "21 Statements were found, maximum allowed is 20."
    assert len(_policy(sqs, url)["Statement"]) == 20


# ---------------------------------------------------------------- real clients

def test_kombu_producer_consumer_round_trip(server, unique_name):
    # kombu's SQS transport (what Celery uses): queue creation with its attributes,
    # publish, consume and ack, on a standard and a FIFO queue.
    kombu = pytest.importorskip("kombu")
    pytest.importorskip("kombu.transport.SQS")
    prefix = unique_name("kb") + "-"
    options = {"region": "us-east-1", "is_secure": False, "polling_interval": 0.1, "wait_time_seconds": 1,
               "visibility_timeout": 45, "queue_name_prefix": prefix}
    url = f"sqs://test:test@127.0.0.1:{server.port}"
    with kombu.Connection(url, transport_options=options) as conn:
        for name, extra in (("work", {}), ("jobs.fifo", {"MessageGroupId": "g1", "MessageDeduplicationId": "d1"})):
            queue = kombu.Queue(name, kombu.Exchange(name, type="direct"), routing_key=name)
            conn.Producer(serializer="json").publish({"n": name}, exchange=queue.exchange, routing_key=name,
                                                    declare=[queue], **extra)
            got = []

            def on_message(body, message, got=got):
                got.append(body)
                message.ack()

            with conn.Consumer(queue, callbacks=[on_message]):
                for _ in range(10):
                    if got:
                        break
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        pass
            assert got == [{"n": name}]
        client = conn.default_channel.sqs()
        url = client.get_queue_url(QueueName=prefix + "jobs.fifo")["QueueUrl"]
        attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs["FifoQueue"] == "true" and attrs["VisibilityTimeout"] == "45"
        assert attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_aiobotocore_send_long_poll_delete(server, unique_name):
    aiobotocore_session = pytest.importorskip("aiobotocore.session")

    async def run():
        session = aiobotocore_session.get_session()
        async with session.create_client("sqs", endpoint_url=server.url, region_name="us-east-1",
                                         aws_access_key_id="test", aws_secret_access_key="test") as c:
            url = (await c.create_queue(QueueName=unique_name("aio")))["QueueUrl"]
            sent = await c.send_message(QueueUrl=url, MessageBody="hi", MessageAttributes={
                "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}})

            async def later():
                await asyncio.sleep(0.3)
                await c.send_message(QueueUrl=url, MessageBody="late")

            first = await c.receive_message(QueueUrl=url, MessageAttributeNames=["All"])
            [msg] = first["Messages"]
            assert msg["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
            assert msg["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\xff"
            await c.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
            task = asyncio.create_task(later())
            second = await c.receive_message(QueueUrl=url, WaitTimeSeconds=5)
            await task
            assert [m["Body"] for m in second["Messages"]] == ["late"]
            await c.delete_message(QueueUrl=url, ReceiptHandle=second["Messages"][0]["ReceiptHandle"])
            with pytest.raises(ClientError) as e:
                await c.delete_message(QueueUrl=url, ReceiptHandle="garbage")
            assert e.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
            got = await c.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            assert got["Attributes"]["ApproximateNumberOfMessages"] == "0"

    asyncio.run(run())


# ---------------------------------------------------------------- message move tasks

def test_move_task_destination_of_the_other_queue_type_is_refused(sqs, make_queue):
    # Developer guide, "Learn how to configure a dead-letter queue redrive": any other queue
    # can be the destination "if both queues are the same type".
    dlq = make_queue("mvdlq")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    make_queue("mvsrc", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    fifo = make_queue("mvdest", fifo=True)
    fifo_arn = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=dlq, MessageBody="stays")
    with pytest.raises(ClientError) as e:
        sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=fifo_arn)
    assert error_of(e)["Code"] == "InvalidParameterValue" and _status(e) == 400
    assert "Results" not in sqs.list_message_move_tasks(SourceArn=dlq_arn)
    counts = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=fifo)


# ---------------------------------------------------------------- what a client leaves out

def test_delete_message_without_a_receipt_handle_names_the_message_handle(sqs, make_queue):
    # A JS SDK v3 caller passing ReceiptHandle: undefined (e.g. a Lambda record's lowercase
    # receiptHandle) sends no ReceiptHandle; AWS answers MissingParameter naming
    # "MessageHandle" (aws/aws-sdk-js-v3#5478, reproduced against SQS; #6092).
    url = make_queue("nohandle")
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    client = make_client("sqs", sqs.meta.endpoint_url, parameter_validation=False)
    with pytest.raises(ClientError) as e:
        client.delete_message(QueueUrl=url)
    assert error_of(e)["Code"] == "MissingParameter" and _status(e) == 400
    assert error_of(e)["Message"] == "The request must contain the parameter MessageHandle."
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "1"


def test_set_queue_attributes_without_attributes_is_missing_attribute_name(sqs, make_queue):
    # AWS answers an empty Attributes map (Go SDK v2 over JSON) with MissingParameter
    # "Attribute.Name" (pulumi/pulumi-aws#5959; madara-alliance/madara#836).
    url = make_queue("noattrs")
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["LastModifiedTimestamp"])["Attributes"]
    client = make_client("sqs", sqs.meta.endpoint_url, parameter_validation=False)
    for kwargs in ({"Attributes": {}}, {}):
        with pytest.raises(ClientError) as e:
            client.set_queue_attributes(QueueUrl=url, **kwargs)
        assert error_of(e)["Code"] == "MissingParameter" and _status(e) == 400
        assert error_of(e)["Message"] == "The request must contain the parameter Attribute.Name."
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["LastModifiedTimestamp"])["Attributes"] == before


# ---------------------------------------------------------------- batch entries

def test_batch_entry_with_a_parameter_not_for_the_queue_type_fails_with_the_bare_reason(sqs, make_queue):
    # A SendMessageBatch entry's Failed message is the reason alone (aws/aws-sdk-js#3187);
    # SendMessage names the parameter (test_fifo_queue_send_message_with_delay_seconds_fails).
    standard, fifo = make_queue("wtstd"), make_queue("wtfifo", fifo=True)
    cases = [(standard, {"MessageDeduplicationId": "d"}), (fifo, {"MessageGroupId": "g", "MessageDeduplicationId": "d",
                                                                  "DelaySeconds": 5})]
    for url, extra in cases:
        got = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "bad", "MessageBody": "x", **extra}])
        assert got.get("Successful", []) == []
        assert got["Failed"] == [{"Id": "bad", "SenderFault": True, "Code": "InvalidParameterValue",
                                  "Message": "The request include parameter that is not valid for this queue type"}]
        with pytest.raises(ClientError) as e:
            sqs.send_message(QueueUrl=url, MessageBody="x", **extra)
        name, value = ("DelaySeconds", 5) if "DelaySeconds" in extra else ("MessageDeduplicationId", "d")
        assert error_of(e)["Message"] == (f"Value {value} for parameter {name} is invalid. Reason: The request "
                                          "include parameter that is not valid for this queue type.")
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        assert counts["ApproximateNumberOfMessages"] == "0"


# ---------------------------------------------------------------- policies

def test_a_policy_statement_with_more_than_7_actions(sqs, make_queue):
    # "OverLimit: 10 actions were found in a statement from the submitted policy, max allowed
    # is 7", as AWS answered Terraform (ministryofjustice/cloud-platform-environments#9082).
    url = make_queue("pol")
    actions = [f"sqs:{a}" for a in ("SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
                                    "GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue",
                                    "ListQueueTags", "SetQueueAttributes")]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": actions,
                                                      "Resource": "*"}]}
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    assert error_of(e)["Code"] == "OverLimit" and _status(e) == 403
    assert error_of(e)["Message"] == "10 actions were found in a statement from the submitted policy, max allowed is 7"
    assert _policy(sqs, url) is None
    policy["Statement"][0]["Action"] = actions[:7]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    assert _policy(sqs, url) == policy


# ---------------------------------------------------------------- CreateQueue of an existing name

def test_create_queue_with_other_tags_than_the_existing_queue_conflicts(sqs, unique_name):
    # A create naming an existing queue with different tags (even when the queue has none)
    # fails instead of retagging (dramatiq_sqs#13, tried against AWS; awslabs/amazon-sqs-java-
    # temporary-queues-client#70). The same tags, or none, still answer the URL.
    name = unique_name("tagged")
    url = sqs.create_queue(QueueName=name, tags={"team": "a"})["QueueUrl"]
    assert sqs.create_queue(QueueName=name, tags={"team": "a"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    for tags in ({"team": "b"}, {"team": "a", "env": "dev"}):
        with pytest.raises(ClientError) as e:
            sqs.create_queue(QueueName=name, tags=tags)
        assert error_of(e)["Code"] == "QueueAlreadyExists" and _status(e) == 400
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
    untagged = sqs.create_queue(QueueName=unique_name("untagged"))["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=untagged.rsplit("/", 1)[1], tags={"team": "a"})
    assert error_of(e)["Code"] == "QueueAlreadyExists"
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=untagged)

"""More SQS fidelity checks (second QA pass): black-box boto3 and query-protocol requests
against a real ``cloudlet serve``, each pinned to what AWS was recorded answering.
"""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from tests.services.sqs.test_sqs_fidelity import arn_of, error_of, make_queue, query, sqs  # noqa: F401 (fixtures)


def _status(excinfo) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


# ---------------------------------------------------------------- message move tasks

def _dlq_with_source(sqs, make_queue):
    dlq = make_queue("mdlq")
    make_queue("msrc", RedrivePolicy=json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1}))
    return dlq, arn_of(sqs, dlq)


def test_move_task_handle_is_base64_json_of_task_and_source(sqs, make_queue):
    # LocalStack's AWS-validated test_basic_move_task_workflow decodes AWS's handle as
    # base64 of {"taskId": <uuid>, "sourceArn": <source queue ARN>}.
    dlq, dlq_arn = _dlq_with_source(sqs, make_queue)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    doc = json.loads(base64.b64decode(handle))
    assert doc["sourceArn"] == dlq_arn and len(doc["taskId"]) == 36


@pytest.mark.parametrize("handle, code, status, message", [
    # LocalStack's AWS-validated test_cancel_with_invalid_task_handle
    ("foobared", "InvalidParameterValue", 400, "Value for parameter TaskHandle is invalid."),
    # ... test_cancel_with_invalid_source_arn_in_task_handle
    (base64.b64encode(b'{"taskId":"10f57157-fc38-4da9-a113-4de7e12d05dd",'
                      b'"sourceArn":"arn:aws:sqs:us-east-1:878966065785:test-queue-doesnt-exist-123456"}').decode(),
     "ResourceNotFoundException", 404, "The resource that you specified for the SourceArn parameter doesn't exist."),
])
def test_cancel_move_task_with_a_bad_handle(sqs, handle, code, status, message):
    with pytest.raises(ClientError) as e:
        sqs.cancel_message_move_task(TaskHandle=handle)
    assert (error_of(e)["Code"], _status(e), error_of(e)["Message"]) == (code, status, message)


def test_cancel_move_task_with_an_unknown_task_id(sqs, make_queue):
    # LocalStack's AWS-validated test_cancel_with_invalid_task_id_in_task_handle
    source_arn = arn_of(sqs, make_queue("msrc"))
    doc = json.dumps({"taskId": "10f57157-fc38-4da9-a113-4de7e12d05aa", "sourceArn": source_arn})
    with pytest.raises(ClientError) as e:
        sqs.cancel_message_move_task(TaskHandle=base64.b64encode(doc.encode()).decode())
    assert (error_of(e)["Code"], _status(e), error_of(e)["Message"]) == (
        "ResourceNotFoundException", 404, "Task does not exist.")


@pytest.mark.parametrize("call, name", [
    (lambda sqs, arn: sqs.start_message_move_task(SourceArn="nope"), "SourceArn"),
    (lambda sqs, arn: sqs.start_message_move_task(SourceArn=""), "SourceArn"),
    (lambda sqs, arn: sqs.start_message_move_task(SourceArn=arn, DestinationArn="invalid"), "DestinationArn"),
    (lambda sqs, arn: sqs.list_message_move_tasks(SourceArn="nope"), "SourceArn"),
])
def test_move_task_arns_that_are_not_arns(sqs, make_queue, call, name):
    # An ARN without its six fields is InvalidParameterValue, not a missing resource
    # (LocalStack's ListMessageMoveTasks; Inqnuam/local-aws-sqs move-message-task tests).
    dlq, dlq_arn = _dlq_with_source(sqs, make_queue)
    with pytest.raises(ClientError) as e:
        call(sqs, dlq_arn)
    assert (error_of(e)["Code"], _status(e)) == ("InvalidParameterValue", 400)
    assert error_of(e)["Message"] == (f"You must use this format to specify the {name}: "
                                      "arn:<partition>:<service>:<region>:<account-id>:<resource-id>")
    assert "Results" not in sqs.list_message_move_tasks(SourceArn=dlq_arn)  # nothing was started


# ---------------------------------------------------------------- queue attributes

@pytest.mark.parametrize("value", [" 2", "2 ", "1_0", "\u0665", "2\n", "3.0", "0x10"])
def test_integer_attributes_are_parsed_as_java_does(sqs, make_queue, value):
    # AWS parses integer attributes strictly: " 2" is InvalidAttributeValue
    # (Inqnuam/local-aws-sqs test/create-queue.test.ts), as is anything Java's
    # Integer.parseInt refuses (Python's int() would take " 2", "1_0" and "\u0665").
    url = make_queue("ints", VisibilityTimeout=7)
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": value})
    assert (error_of(e)["Code"], error_of(e)["Message"]) == (
        "InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout.")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "7"}
    with pytest.raises(ClientError) as e:
        make_queue("ints", DelaySeconds=value)
    assert error_of(e)["Code"] == "InvalidAttributeValue"



@pytest.mark.parametrize("policy", ["not json", " ", "[1]", "4"])
def test_redrive_policy_that_is_not_a_json_map(sqs, make_queue, policy):
    # The code and text AWS answered (SetQueueAttributes RequestID
    # e6d23f69-01ee-5e11-8e0c-5d0f25d458c5, quoted in a published Terraform fix note).
    url = make_queue("rdp")
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})
    assert (error_of(e)["Code"], _status(e), error_of(e)["Message"]) == (
        "InvalidAttributeValue", 400,
        "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])


@pytest.mark.parametrize("policy", [{}, {"MaxReceiveCount": "4", "DeadLetterTargetArn": "x"}])
def test_redrive_policy_missing_both_members_names_max_receive_count(sqs, make_queue, policy):
    # AWS: 'Value {"MaxReceiveCount":"4","DeadLetterTargetArn":...} for parameter RedrivePolicy
    # is invalid. Reason: Redrive policy does not contain mandatory attribute: maxReceiveCount.'
    # (Error Code: InvalidParameterValue; quoted in rubyonjets/jets#101)
    text = json.dumps(policy, separators=(",", ":"))
    with pytest.raises(ClientError) as e:
        make_queue("rdp", RedrivePolicy=text)
    assert (error_of(e)["Code"], error_of(e)["Message"]) == (
        "InvalidParameterValue", f"Value {text} for parameter RedrivePolicy is invalid. "
        "Reason: Redrive policy does not contain mandatory attribute: maxReceiveCount.")


def test_redrive_policy_naming_another_services_arn(sqs, make_queue):
    text = json.dumps({"deadLetterTargetArn": "arn:aws:sns:us-east-1:123456789012:MyTopic", "maxReceiveCount": 5})
    url = make_queue("rdp")
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": text})
    assert (error_of(e)["Code"], error_of(e)["Message"]) == (
        "InvalidParameterValue", f"Value {text} for parameter RedrivePolicy is invalid. "
        "Reason: Only SQS queues are valid resources for deadLetterTargetArn.")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])


@pytest.mark.parametrize("count, shown", [(True, "true"), (" 5", " 5"), ("1_0", "1_0")])
def test_redrive_policy_max_receive_count_that_is_no_count(sqs, make_queue, count, shown):
    dlq = make_queue("rdq")
    text = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": count})
    with pytest.raises(ClientError) as e:
        make_queue("rdp", RedrivePolicy=text)
    assert (error_of(e)["Code"], error_of(e)["Message"]) == (
        "InvalidParameterValue", f"Value {text} for parameter RedrivePolicy is invalid. Reason: Invalid value for "
        f"maxReceiveCount: {shown}, valid values are from 1 to 1000 both inclusive.")


# ---------------------------------------------------------------- FIFO-only and high-throughput attributes

@pytest.mark.parametrize("name, value", [("DeduplicationScope", "messageGroup"), ("FifoThroughputLimit", "perQueue")])
def test_high_throughput_attributes_on_a_standard_queue(sqs, make_queue, name, value):
    # AWS's CreateQueue answer, quoted in cloud-service-broker's SQS FIFO notes:
    # 'InvalidAttributeName: You can specify the DeduplicationScope only when FifoQueue is set to true'.
    with pytest.raises(ClientError) as e:
        make_queue("std", **{name: value})
    assert (error_of(e)["Code"], error_of(e)["Message"]) == (
        "InvalidAttributeName", f"You can specify the {name} only when FifoQueue is set to true.")
    url = make_queue("std")
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})
    assert error_of(e)["Code"] == "InvalidAttributeName"
    # ContentBasedDeduplication keeps the plain text (LocalStack AWS-validated snapshots).
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "true"})
    assert error_of(e)["Message"] == "Unknown Attribute ContentBasedDeduplication."


PER_GROUP_NEEDS_GROUP_SCOPE = ("Invalid value for the parameter FifoThroughputLimit. Reason: To set "
                               "FifoThroughputLimit to perMessageGroupId, the DeduplicationScope must be messageGroup.")


def test_per_message_group_throughput_needs_message_group_dedup_scope(sqs, make_queue):
    # AWS's CreateQueue answer, quoted in cloud-service-broker's SQS FIFO notes; the reverse
    # (messageGroup scope with perQueue throughput) is allowed.
    for attrs in ({"FifoThroughputLimit": "perMessageGroupId"},
                  {"FifoThroughputLimit": "perMessageGroupId", "DeduplicationScope": "queue"}):
        with pytest.raises(ClientError) as e:
            make_queue("ht", fifo=True, **attrs)
        assert (error_of(e)["Code"], error_of(e)["Message"]) == ("InvalidAttributeValue", PER_GROUP_NEEDS_GROUP_SCOPE)
    url = make_queue("ht", fifo=True, DeduplicationScope="messageGroup")
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoThroughputLimit": "perMessageGroupId",
                                                           "DeduplicationScope": "queue"})
    assert (error_of(e)["Code"], error_of(e)["Message"]) == ("InvalidAttributeValue", PER_GROUP_NEEDS_GROUP_SCOPE)
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (got["DeduplicationScope"], got["FifoThroughputLimit"]) == ("messageGroup", "perQueue")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoThroughputLimit": "perMessageGroupId"})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (got["DeduplicationScope"], got["FifoThroughputLimit"]) == ("messageGroup", "perMessageGroupId")


def test_a_policy_with_more_than_20_statements(sqs, make_queue):
    url = make_queue("pol")
    arn = arn_of(sqs, url)
    statement = {"Effect": "Allow", "Principal": {"AWS": ["123456789012"]}, "Action": "sqs:SendMessage",
                 "Resource": arn}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [dict(statement, Sid=f"S{i}") for i in range(22)]})
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    assert (error_of(e)["Code"], _status(e), error_of(e)["Message"]) == (
        "OverLimit", 403, "22 statements were found in the submitted policy, max allowed is 20")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    twenty = json.dumps({"Version": "2012-10-17", "Statement": [dict(statement, Sid=f"S{i}") for i in range(20)]})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": twenty})


# ---------------------------------------------------------------- message attributes

@pytest.mark.parametrize("value", ["Hello", "1.2.3", "NaN", "Infinity", " 1", "1_000", "1e", "."])
def test_a_number_attribute_that_is_no_number(sqs, make_queue, value):
    # boto3 against live SQS: "An error occurred (InvalidParameterValue) when calling the
    # SendMessage operation: Can't cast the value of message (user) attribute 'Age' to a number."
    url = make_queue("num")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={"Age": {"DataType": "Number",
                                                                                   "StringValue": value}})
    assert (error_of(e)["Code"], error_of(e)["Message"]) == (
        "InvalidParameterValue", "Can't cast the value of message (user) attribute 'Age' to a number.")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


@pytest.mark.parametrize("value", ["1", "-1.5", "+.5", "7.", "1e3", "1E-3", "12345678901234567890"])
def test_number_attributes_that_are_numbers(sqs, make_queue, value):
    url = make_queue("num")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={"N": {"DataType": "Number.x",
                                                                            "StringValue": value}})
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert got["MessageAttributes"]["N"] == {"DataType": "Number.x", "StringValue": value}

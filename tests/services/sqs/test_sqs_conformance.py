"""SQS behaviours that emulator conformance checklists probe, pinned to what AWS answers.

Each test names where AWS's answer is recorded; rejected requests are followed by a read showing
that nothing changed.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.services.sqs.test_sqs_fidelity import error_of, make_queue, query, sqs  # noqa: F401 (fixtures)

_LIST_ATTRIBUTE = {"tags": {"DataType": "String", "StringListValues": ["a", "b"]}}


def _queued(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"]


@pytest.mark.parametrize("value", [
    {"DataType": "String", "StringListValues": ["a", "b"]},
    {"DataType": "Binary", "BinaryListValues": [b"\x00\x01"]},
])
def test_send_message_with_list_attribute_values_is_unsupported(sqs, make_queue, value):
    # The model reserves the list members ("Not implemented. Reserved for future use."); AWS
    # refuses them as UnsupportedOperation (ruby-shoryuken/shoryuken#769).
    url = make_queue("lists")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={"tags": value})
    assert error_of(e)["Code"] == "AWS.SimpleQueueService.UnsupportedOperation"
    assert error_of(e)["QueryErrorCode"] == "UnsupportedOperation"
    assert error_of(e)["Message"] == "Message attribute list values in SendMessage operation are not supported."
    assert _queued(sqs, url) == "0"


def test_send_message_batch_with_list_attribute_values_fails_as_a_whole(sqs, make_queue):
    # The whole batch fails (the Ruby SDK raised Aws::SQS::Errors::UnsupportedOperation for it,
    # shoryuken#769), not just the entry: no message of the batch is sent.
    url = make_queue("lists")
    with pytest.raises(ClientError) as e:
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "plain", "MessageBody": "fine"},
            {"Id": "listy", "MessageBody": "x", "MessageAttributes": _LIST_ATTRIBUTE},
        ])
    assert error_of(e)["Code"] == "AWS.SimpleQueueService.UnsupportedOperation"
    assert error_of(e)["Message"] == "Message attribute list values in SendMessageBatch operation are not supported."
    assert _queued(sqs, url) == "0"


def test_list_attribute_values_over_the_query_protocol(server, sqs, make_queue):
    url = make_queue("lists")
    status, root = query(server.url, Action="SendMessage", QueueUrl=url, MessageBody="x",
                         **{"MessageAttribute.1.Name": "tags", "MessageAttribute.1.Value.DataType": "String",
                            "MessageAttribute.1.Value.StringListValue.1": "a"})
    assert status == 400
    assert root.find(".//{*}Code").text == "AWS.SimpleQueueService.UnsupportedOperation"
    assert _queued(sqs, url) == "0"

"""SQS answers compared, case by case, with what AWS answered in LocalStack's recorded
snapshots (``localstack/localstack`` ``tests/aws/services/sqs/test_sqs.snapshot.json`` and
``test_sqs_move_task.snapshot.json``). Each test names the snapshot test that shows AWS's
answer; the tests are our own, run with boto3 against a real ``cloudlet serve``.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.services.sqs.test_sqs_fidelity import make_queue, sqs  # noqa: F401 (fixtures)


def _without_metadata(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


# ---------------------------------------------------------------- empty maps over JSON

def test_list_queue_tags_of_a_queue_without_tags_is_an_empty_map(sqs, make_queue):
    # test_tag_untag_queue (recorded 14-11-2023 over JSON): after the last tag is removed AWS
    # answers "get-tag-after-untag": {"Tags": {}}, not a response without Tags.
    url = make_queue("tags")
    assert _without_metadata(sqs.list_queue_tags(QueueUrl=url)) == {"Tags": {}}
    sqs.tag_queue(QueueUrl=url, Tags={"tag1": "value1", "tag2": "value2", "tag3": ""})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tag1": "value1", "tag2": "value2", "tag3": ""}
    sqs.untag_queue(QueueUrl=url, TagKeys=["tag1", "tag3"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tag2": "value2"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["tag2"])
    assert _without_metadata(sqs.list_queue_tags(QueueUrl=url)) == {"Tags": {}}


def test_get_queue_attributes_for_a_removed_policy_is_an_empty_map(sqs, make_queue):
    # test_sqs_permission_lifecycle: once RemovePermission took the last statement,
    # GetQueueAttributes(Policy) answers "get-queue-policy-attribute-after-removal":
    # {"Attributes": {}}; so does asking for a Policy never set.
    url = make_queue("perm")
    assert _without_metadata(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])) == {
        "Attributes": {}}
    sqs.add_permission(QueueUrl=url, Label="crossaccountpermission", AWSAccountIds=["668614515564"],
                       Actions=["ReceiveMessage"])
    assert "Policy" in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]
    sqs.remove_permission(QueueUrl=url, Label="crossaccountpermission")
    assert _without_metadata(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])) == {
        "Attributes": {}}
    # ... and a second removal of the label is refused ("get-queue-policy-attribute-delete-non-existent-label").
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


def test_receive_naming_only_attributes_the_message_lacks_gets_an_empty_map(message_with_attributes):
    # test_receive_message_message_attribute_names_filters, "only_non_existing_names" (recorded
    # 14-11-2023 over JSON): "MessageAttributes": {} and no MD5OfMessageAttributes.
    assert message_with_attributes(["Foo", "Help"]) == {
        "Body": "msg", "MD5OfBody": "6e2baaf3b97dbeef01c0043275f9a0e7", "MessageAttributes": {}}
    # "existing_and_non_existing": only the one that exists, with its own digest.
    assert message_with_attributes(["Foo", "Hello"]) == {
        "Body": "msg", "MD5OfBody": "6e2baaf3b97dbeef01c0043275f9a0e7",
        "MD5OfMessageAttributes": "a311262e065454b75da111d535b8dacd",
        "MessageAttributes": {"Hello": {"DataType": "String", "StringValue": "There"}}}


@pytest.mark.parametrize("names", [None, ["AWS."], ["..foo"]])
def test_receive_without_usable_attribute_names_has_no_message_attributes(message_with_attributes, names):
    # The same test: "empty_filter" (no names), "illegal_name_1" (AWS.) and "illegal_name_2"
    # (..foo) answer the message without a MessageAttributes member at all.
    assert message_with_attributes(names) == {"Body": "msg", "MD5OfBody": "6e2baaf3b97dbeef01c0043275f9a0e7"}


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

"""The model-driven validator produces AWS's ValidationException texts."""

from __future__ import annotations

import pytest

from cloudlet.protocol.model import service_model
from cloudlet.protocol.validate import validate, validation_message


def check(service: str, operation: str, request: dict):
    shape = service_model(service).operation_model(operation).input_shape
    return validate(shape, request)


def test_valid_request_has_no_violations():
    req, errors = check("dynamodb", "DescribeTable", {"TableName": "users"})
    assert errors == [] and req == {"TableName": "users"}


def test_missing_required_member():
    _, errors = check("dynamodb", "DescribeTable", {})
    assert validation_message(errors) == (
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_too_short_and_pattern_counted_and_joined():
    _, errors = check("dynamodb", "CreateBackup", {"TableName": "users", "BackupName": "a!"})
    msg = validation_message(errors)
    assert msg.startswith("2 validation errors detected: ")
    assert "Value 'a!' at 'backupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+" in msg
    assert "Value 'a!' at 'backupName' failed to satisfy constraint: Member must have length greater than or equal to 3" in msg
    assert msg.count("; ") == 1


def test_nested_list_member_path_and_enum():
    _, errors = check("dynamodb", "CreateTable", {
        "TableName": "users",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "PRIMARY"}],
    })
    assert validation_message(errors) == (
        "1 validation error detected: Value 'PRIMARY' at 'keySchema.1.member.keyType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [HASH, RANGE]"
    )


def test_list_length_and_number_range():
    _, errors = check("dynamodb", "ListTables", {"Limit": 0})
    assert validation_message(errors) == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    _, errors = check("dynamodb", "CreateTable", {
        "TableName": "users", "AttributeDefinitions": [], "KeySchema": [],
    })
    assert [e.path for e in errors] == ["keySchema"]
    assert errors[0].constraint == "Member must have length greater than or equal to 1"


@pytest.mark.parametrize("value", ["7", 7.5, True, [], {}])
def test_wrong_type_for_integer(value):
    _, errors = check("dynamodb", "ListTables", {"Limit": value})
    assert [e.kind for e in errors] == ["type"]


def test_blob_is_decoded_and_bad_base64_is_a_type_error():
    req, errors = check("kinesis", "PutRecord", {"StreamName": "s", "PartitionKey": "p", "Data": "aGk="})
    assert errors == [] and req["Data"] == b"hi"
    _, errors = check("kinesis", "PutRecord", {"StreamName": "s", "PartitionKey": "p", "Data": "***"})
    assert [e.kind for e in errors] == ["type"]


def test_timestamp_from_epoch_number():
    req, errors = check("kinesis", "GetShardIterator", {
        "StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": 1700000000.5})
    assert errors == []
    assert req["Timestamp"].timestamp() == 1700000000.5


def test_recursive_shapes_compile():
    item = {"a": {"M": {"b": {"L": [{"M": {"c": {"B": "aGk="}}}]}}}}
    req, errors = check("dynamodb", "PutItem", {"TableName": "users", "Item": item})
    assert errors == []
    assert req["Item"]["a"]["M"]["b"]["L"][0]["M"]["c"]["B"] == b"hi"


def test_sparse_structure_errors_in_shape_order_and_blobs_decoded():
    # an AttributeValue has ten members; a value with a few keys is walked by
    # its own keys, but violations still come in the shape's member order
    req, errors = check("dynamodb", "PutItem", {"TableName": "t", "Item": {
        "a": {"NULL": "yes", "S": 1}, "b": {"B": "AAE="}, "c": {"BS": ["AAE=", "AAI="], "X": None}}})
    assert [(e.member, e.kind) for e in errors] == [("S", "type"), ("NULL", "type")]
    assert req["Item"]["b"] == {"B": b"\x00\x01"}
    assert req["Item"]["c"] == {"BS": [b"\x00\x01", b"\x00\x02"], "X": None}
    req, errors = check("dynamodb", "PutItem", {"TableName": "t", "Item": {"b": {"B": "AAE="}, "c": {"L": [{"N": "1"}]}}})
    assert errors == [] and req["Item"] == {"b": {"B": b"\x00\x01"}, "c": {"L": [{"N": "1"}]}}

"""Item operations through the boto3 client and resource APIs: happy paths,
conditions, ReturnValues, legacy parameters, and error paths -- each error
followed by a read showing nothing was written."""

from __future__ import annotations

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from .conftest import error_of


def test_put_get_delete_resource_api(ddbr, make_table):
    t = ddbr.Table(make_table())
    t.put_item(Item={"pk": "a", "sk": "1", "n": 5, "l": [1, "x", {"m": True}], "ss": {"a", "b"}, "b": b"\x00\xff",
                     "nul": None, "e": ""})
    item = t.get_item(Key={"pk": "a", "sk": "1"})["Item"]
    assert item["n"] == 5 and item["l"][2] == {"m": True} and item["ss"] == {"a", "b"}
    assert item["b"].value == b"\x00\xff" and item["nul"] is None and item["e"] == ""
    assert t.get_item(Key={"pk": "a", "sk": "1"}, ProjectionExpression="l[2].m, n")["Item"] == {"l": [{"m": True}], "n": 5}
    old = t.delete_item(Key={"pk": "a", "sk": "1"}, ReturnValues="ALL_OLD")["Attributes"]
    assert old["n"] == 5
    assert "Item" not in t.get_item(Key={"pk": "a", "sk": "1"})


def test_numbers_are_normalized_and_checked(ddb, make_table):
    name = make_table()
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "b"}, "n": {"N": "0001.500"}, "e": {"N": "1e3"}})
    item = ddb.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "b"}})["Item"]
    assert item["n"] == {"N": "1.5"} and item["e"] == {"N": "1000"}
    for value, message in [
        ("1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("1e-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
        ("1.234567890123456789012345678901234567891", "Attempting to store more than 38 significant digits in a Number"),
        ("abc", "The parameter cannot be converted to a numeric value: abc"),
    ]:
        with pytest.raises(ClientError) as e:
            ddb.put_item(TableName=name, Item={"pk": {"S": "x"}, "sk": {"S": "y"}, "n": {"N": value}})
        assert error_of(e) == ("ValidationException", message)
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "x"}, "sk": {"S": "y"}})


@pytest.mark.parametrize("item, message", [
    ({"sk": {"S": "1"}}, "One or more parameter values were invalid: Missing the key pk in the item"),
    ({"pk": {"N": "1"}, "sk": {"S": "1"}},
     "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"),
    ({"pk": {"S": ""}, "sk": {"S": "1"}},
     "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty "
     "string value. Key: pk"),
    ({"pk": {"S": "x" * 2049}, "sk": {"S": "1"}},
     "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"),
    ({"pk": {"S": "k"}, "sk": {"S": "x" * 1025}},
     "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of "
     "1024 bytes"),
    ({"pk": {"S": "k"}, "sk": {"S": "1"}, "s": {"SS": []}},
     "One or more parameter values were invalid: An string set  may not be empty"),
    ({"pk": {"S": "k"}, "sk": {"S": "1"}, "s": {"NS": []}},
     "One or more parameter values were invalid: An number set  may not be empty"),
    ({"pk": {"S": "k"}, "sk": {"S": "1"}, "s": {"SS": ["a", "a"]}},
     "One or more parameter values were invalid: Input collection [a, a] contains duplicates."),
    ({"pk": {"S": "k"}, "sk": {"S": "1"}, "s": {}},
     "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
    ({"pk": {"S": "k"}, "sk": {"S": "1"}, "s": {"S": "a", "N": "1"}},
     "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"),
    ({"pk": {"S": "k"}, "sk": {"S": "1"}, "big": {"S": "x" * (400 * 1024)}},
     "Item size has exceeded the maximum allowed size"),
])
def test_put_item_validation(ddb, make_table, item, message):
    name = make_table()
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item=item)
    assert error_of(e) == ("ValidationException", message)
    assert ddb.scan(TableName=name)["Count"] == 0


def test_key_errors_and_missing_table(ddb, make_table):
    name = make_table()
    for key in ({"pk": {"S": "a"}}, {"pk": {"S": "a"}, "sk": {"N": "1"}},
                {"pk": {"S": "a"}, "sk": {"S": "1"}, "x": {"S": "1"}}):
        with pytest.raises(ClientError) as e:
            ddb.get_item(TableName=name, Key=key)
        assert error_of(e) == ("ValidationException", "The provided key element does not match the schema")
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName="no-such-table", Key={"pk": {"S": "a"}})
    assert error_of(e) == ("ResourceNotFoundException", "Requested resource not found")


def test_conditional_put_and_return_on_failure(ddb, make_table):
    name = make_table()
    item = {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}}
    ddb.put_item(TableName=name, Item=item, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={**item, "v": {"N": "2"}}, ConditionExpression="attribute_not_exists(pk)",
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert error_of(e) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert e.value.response["Item"] == item
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "1"}})["Item"]["v"] == {"N": "1"}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item=item, ReturnValues="ALL_NEW")
    assert error_of(e)[1] == "ReturnValues can only be ALL_OLD or NONE"


def test_update_item_expressions(ddbr, make_table):
    t = ddbr.Table(make_table())
    key = {"pk": "a", "sk": "1"}
    r = t.update_item(Key=key, UpdateExpression="SET c = if_not_exists(c, :z) + :one, l = list_append(if_not_exists(l, :e), :x) "
                                                  "ADD s :s", ExpressionAttributeValues={":z": 0, ":one": 1, ":e": [], ":x": ["a"], ":s": {"x"}},
                      ReturnValues="ALL_NEW")
    assert r["Attributes"] == {"pk": "a", "sk": "1", "c": 1, "l": ["a"], "s": {"x"}}
    r = t.update_item(Key=key, UpdateExpression="SET m = :m REMOVE l[0] DELETE s :s ADD c :two",
                      ExpressionAttributeValues={":m": {"deep": {"x": 1}}, ":s": {"x"}, ":two": 2}, ReturnValues="UPDATED_OLD")
    assert r["Attributes"] == {"c": 1, "l": ["a"], "s": {"x"}}
    r = t.update_item(Key=key, UpdateExpression="SET m.deep.x = :v", ExpressionAttributeValues={":v": 5},
                      ReturnValues="UPDATED_NEW")
    assert r["Attributes"] == {"m": {"deep": {"x": 5}}}
    assert t.get_item(Key=key)["Item"] == {"pk": "a", "sk": "1", "c": 3, "l": [], "m": {"deep": {"x": 5}}}
    with pytest.raises(ClientError) as e:
        t.update_item(Key=key, UpdateExpression="SET c = :v", ConditionExpression=Attr("c").eq(99),
                      ExpressionAttributeValues={":v": 1})
    assert error_of(e)[0] == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as e:
        t.update_item(Key=key, UpdateExpression="SET pk = :v", ExpressionAttributeValues={":v": "b"})
    assert error_of(e)[1] == "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
    with pytest.raises(ClientError) as e:
        t.update_item(Key=key, UpdateExpression="SET x = :v", ExpressionAttributeValues={":v": 1, ":w": 2})
    assert error_of(e)[1] == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
    with pytest.raises(ClientError) as e:
        t.update_item(Key=key, UpdateExpression="SET x = :undefined")
    assert error_of(e)[1].startswith("Invalid UpdateExpression: An expression attribute value used in expression is not defined")
    with pytest.raises(ClientError) as e:
        t.update_item(Key=key, UpdateExpression="SET x = :v,", ExpressionAttributeValues={":v": 1})
    assert error_of(e)[1].startswith("Invalid UpdateExpression: Syntax error; token: ")
    assert t.get_item(Key=key)["Item"] == {"pk": "a", "sk": "1", "c": 3, "l": [], "m": {"deep": {"x": 5}}}


def test_update_item_creates_and_size_limit(ddb, make_table):
    name = make_table()
    key = {"pk": {"S": "n"}, "sk": {"S": "1"}}
    ddb.update_item(TableName=name, Key=key)
    assert ddb.get_item(TableName=name, Key=key)["Item"] == key
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=name, Key=key, UpdateExpression="SET big = :b",
                        ExpressionAttributeValues={":b": {"S": "x" * (400 * 1024)}})
    assert error_of(e)[1] == "Item size to update has exceeded the maximum allowed size"
    assert ddb.get_item(TableName=name, Key=key)["Item"] == key


def test_legacy_parameters(ddb, make_table):
    name = make_table()
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=name, Item={**key, "v": {"N": "1"}}, Expected={"pk": {"Exists": False}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item=key, Expected={"pk": {"Exists": False}})
    assert error_of(e)[0] == "ConditionalCheckFailedException"
    ddb.update_item(TableName=name, Key=key, AttributeUpdates={"v": {"Action": "ADD", "Value": {"N": "2"}},
                                                               "w": {"Action": "PUT", "Value": {"S": "x"}}},
                    Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}})
    got = ddb.get_item(TableName=name, Key=key, AttributesToGet=["v", "w"])["Item"]
    assert got == {"v": {"N": "3"}, "w": {"S": "x"}}
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=name, Key=key, AttributesToGet=["v"], ProjectionExpression="v")
    assert error_of(e)[1] == ("Can not use both expression and non-expression parameters in the same request: "
                              "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=name, Key=key, ExpressionAttributeNames={"#a": "v"})
    assert error_of(e)[1] == "ExpressionAttributeNames can only be specified when using expressions"


def test_return_consumed_capacity(ddb, make_table):
    name = make_table()
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    r = ddb.put_item(TableName=name, Item={**key, "d": {"S": "x" * 3000}}, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["TableName"] == name and r["ConsumedCapacity"]["CapacityUnits"] == 3.0
    r = ddb.get_item(TableName=name, Key=key, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 0.5
    r = ddb.get_item(TableName=name, Key=key, ConsistentRead=True, ReturnConsumedCapacity="INDEXES")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 1.0 and r["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1.0

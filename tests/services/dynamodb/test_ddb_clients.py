"""Where cloudlet answered differently from AWS, found by driving it the way real clients
do (boto3's client and resource APIs, PynamoDB, the AWS SDK for JavaScript v3, the AWS CLI,
the calls Terraform's provider makes), and by comparing its error texts with AWS's.

Each test names where AWS's behaviour is recorded. "ack-api-quirks" is the catalogue of
DynamoDB responses observed live in us-east-1 and us-west-2 on 2026-10-09 (findings
DDB-TABLE-442 to -449: one catalogue per error code).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.services.dynamodb.conftest import error_of


def _refused(call, **kw) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        call(**kw)
    return error_of(e)


# ---------------------------------------------------------------- tags and resource policies

def test_tag_and_policy_lookups_name_what_aws_names(ddb, make_table):
    """ack-api-quirks DDB-TABLE-442/446: the tag operations answer a missing table with its
    ARN ('ResourceArn', spelt out), the policy operations with its name; an ARN of another
    region is invalid for ListTagsOfResource and the policy operations; a stream ARN with an
    unknown label is a missing stream."""
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    missing = arn.rsplit("/", 1)[0] + "/no-such-table"
    assert _refused(ddb.tag_resource, ResourceArn=missing, Tags=[{"Key": "k", "Value": "v"}]) == (
        "ResourceNotFoundException", f"Requested resource not found: ResourceArn: {missing} not found")
    assert _refused(ddb.get_resource_policy, ResourceArn=missing) == (
        "ResourceNotFoundException", "Requested resource not found: Table: no-such-table not found")
    elsewhere = arn.replace(":us-east-1:", ":us-west-2:")
    assert _refused(ddb.list_tags_of_resource, ResourceArn=elsewhere) == (
        "ValidationException", f"Invalid TableArn: Invalid ResourceArn provided as input {elsewhere}")
    assert _refused(ddb.get_resource_policy, ResourceArn=elsewhere) == (
        "ValidationException", f"One or more parameter values were invalid: Invalid resource Arn: {elsewhere}")
    ghost_stream = f"{arn}/stream/2026-01-01T00:00:00.000"
    policy = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": '
              '"arn:aws:iam::000000000000:root"}, "Action": "dynamodb:GetRecords", "Resource": "' + ghost_stream + '"}]}')
    assert _refused(ddb.put_resource_policy, ResourceArn=ghost_stream, Policy=policy) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Stream: 2026-01-01T00:00:00.000 not found for Table: {name}")
    # nothing was stored by the refusals
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
    assert _refused(ddb.get_resource_policy, ResourceArn=ghost_stream)[0] == "ResourceNotFoundException"


# ---------------------------------------------------------------- BatchWriteItem's list of writes

def test_batch_write_list_length_is_checked_as_a_map_value(ddb, ddb_raw, make_table):
    """A table's list of more than 25 writes (or none) is refused as the value of the RequestItems
    map, 'at requestItems', with both of the map value's constraints: boto3 issue 483, dtan4/valec
    PR 46, aws-cdk-dynamodb-seeder issue 3 (quoted from AWS), nubo-db/dynamodb-conformance tier3
    batchWriteItem (run against AWS). cloudlet said "at 'requestItems.<table>.member'" with one."""
    import re

    name = make_table()
    writes = [{"PutRequest": {"Item": {"pk": {"S": f"p{i}"}, "sk": {"S": "s"}}}} for i in range(26)]
    code, message = _refused(ddb.batch_write_item, RequestItems={name: writes})
    assert code == "ValidationException"
    assert re.fullmatch(
        r"1 validation error detected: Value '\{" + re.escape(name) + r"=\[.+\]\}' at 'requestItems' failed to "
        r"satisfy constraint: Map value must satisfy constraint: \[Member must have length less than or equal to "
        r"25, Member must have length greater than or equal to 1\]", message, re.S), message
    assert ddb.scan(TableName=name)["Count"] == 0
    assert _refused(ddb_raw.batch_write_item, RequestItems={name: []}) == (
        "ValidationException", f"1 validation error detected: Value '{{{name}=[]}}' at 'requestItems' failed to "
        "satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, "
        "Member must have length greater than or equal to 1]")


# ---------------------------------------------------------------- CreateTable / UpdateTable

INVALID = "One or more parameter values were invalid: "
KEY = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
       "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}
TABLE_CLASS = ("Invalid table-class parameter provided. Please try again with a valid table-class value: "
               "[STANDARD, STANDARD_INFREQUENT_ACCESS].")


@pytest.mark.parametrize("change, message", [
    ({"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}] * 2}, "Attribute Name is duplicated: pk"),
    ({"TableClass": "GLACIER"}, TABLE_CLASS),
    ({"SSESpecification": {"Enabled": False, "SSEType": "KMS"}}, INVALID + "SSEType can not be specified if Enabled is false"),
    ({"SSESpecification": {"Enabled": False, "KMSMasterKeyId": "alias/k"}},
     INVALID + "KMSMasterKeyId can not be specified if Enabled is false"),
    ({"SSESpecification": {"Enabled": True, "KMSMasterKeyId": "alias/k"}},
     INVALID + "SSEType KMS is required if KMSMasterKeyId is specified"),
    ({"SSESpecification": {"Enabled": True, "SSEType": "AES256"}}, INVALID + "SSEType AES256 is not supported"),
])
def test_create_table_refusals_in_aws_words(ddb_raw, change, message):
    """ack-api-quirks DDB-TABLE-442 (CreateTable): cloudlet accepted the SSE specifications, said
    'Duplicate AttributeName found in AttributeDefinitions' and checked TableClass as a model enum."""
    import uuid

    name = f"t-{uuid.uuid4().hex[:10]}"
    assert _refused(ddb_raw.create_table, TableName=name, **{**KEY, **change}) == ("ValidationException", message)
    assert name not in ddb_raw.list_tables()["TableNames"]


def test_update_table_refusals_in_aws_words(ddb, ddb_raw, make_table):
    """ack-api-quirks DDB-TABLE-442 (UpdateTable): a table class outside the set, turning the
    default encryption 'off' again, the KMS key it already has, two updates of one index."""
    gsi = {"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
           "Projection": {"ProjectionType": "KEYS_ONLY"}}
    name = make_table(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                            {"AttributeName": "sk", "AttributeType": "S"},
                                            {"AttributeName": "g", "AttributeType": "S"}],
                      GlobalSecondaryIndexes=[gsi])
    assert _refused(ddb_raw.update_table, TableName=name, TableClass="GLACIER") == ("ValidationException", TABLE_CLASS)
    assert _refused(ddb.update_table, TableName=name, SSESpecification={"Enabled": False}) == (
        "ValidationException", INVALID + "Table is already encrypted by default")
    assert _refused(ddb.update_table, TableName=name, GlobalSecondaryIndexUpdates=[
        {"Delete": {"IndexName": "by-g"}}, {"Delete": {"IndexName": "by-g"}}]) == (
        "ValidationException", INVALID + "Only one global secondary index update per index is allowed "
                                         "simultaneously. Index: by-g")
    table = ddb.describe_table(TableName=name)["Table"]
    assert "SSEDescription" not in table and "TableClassSummary" not in table
    assert [(ix["IndexName"], ix["IndexStatus"]) for ix in table["GlobalSecondaryIndexes"]] == [("by-g", "ACTIVE")]
    key = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"
    ddb.update_table(TableName=name, SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    assert _refused(ddb.update_table, TableName=name,
                    SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}) == (
        "ValidationException", INVALID + "Table is already encrypted with given KMSMasterKeyId. Use KMSMasterKeyId "
                                         "parameter if you want to change Master Key")
    assert ddb.describe_table(TableName=name)["Table"]["SSEDescription"]["KMSMasterKeyArn"] == key


# ---------------------------------------------------------------- contributor insights, backups, PITR

def test_contributor_insights_unknown_index_names_the_table(ddb, make_table):
    """ack-api-quirks DDB-TABLE-446: 'Requested resource not found: Index: <name> not found for
    table: <table>' (cloudlet left out the table)."""
    name = make_table()
    assert _refused(ddb.describe_contributor_insights, TableName=name, IndexName="ghost") == (
        "ResourceNotFoundException", f"Requested resource not found: Index: ghost not found for table: {name}")
    assert _refused(ddb.update_contributor_insights, TableName=name, IndexName="ghost",
                    ContributorInsightsAction="ENABLE")[1].endswith(f"for table: {name}")
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "DISABLED"


def test_backup_and_recovery_refusals_in_aws_words(ddb, make_table):
    """ack-api-quirks DDB-TABLE-442: disabling recovery with a period, a restore with no time, a
    backup listing whose range is upside down (cloudlet accepted the first and the last)."""
    import datetime

    name = make_table()
    assert _refused(ddb.update_continuous_backups, TableName=name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": False, "RecoveryPeriodInDays": 7}) == (
        "ValidationException", "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time "
                               "recovery.")
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    assert _refused(ddb.restore_table_to_point_in_time, SourceTableName=name, TargetTableName=name + "-r") == (
        "ValidationException", "Invalid Request: Either one of RestoreDateTime or UseLatestRestorableTime must be "
                               "specified, but not both")
    now = datetime.datetime.now(datetime.timezone.utc)
    assert _refused(ddb.list_backups, TimeRangeLowerBound=now, TimeRangeUpperBound=now - datetime.timedelta(hours=1)) == (
        "ValidationException", INVALID + "Time range lower bound must be less than or equal to upper bound")
    pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]
    assert (pitr["PointInTimeRecoveryStatus"], pitr["RecoveryPeriodInDays"]) == ("ENABLED", 35)
    assert name + "-r" not in ddb.list_tables()["TableNames"]


# ---------------------------------------------------------------- items

def test_batch_get_over_100_keys_names_the_path_without_a_value(ddb, make_table):
    """nubo-db/dynamodb-conformance tier3 batchGetItem (run against AWS): "Value at
    'RequestItems.<table>.member.Keys'", in the model's capitals and with no value shown."""
    name = make_table()
    keys = [{"pk": {"S": f"k{i}"}, "sk": {"S": "s"}} for i in range(101)]
    assert _refused(ddb.batch_get_item, RequestItems={name: {"Keys": keys}}) == (
        "ValidationException", f"1 validation error detected: Value at 'RequestItems.{name}.member.Keys' failed to "
                               "satisfy constraint: Member must have length less than or equal to 100")


def test_null_false_is_stored_as_null_true(ddb, make_table):
    """AWS now accepts {"NULL": false} and stores {"NULL": true} (nubo-db/dynamodb-conformance
    tier3 putItem, captured from AWS 2026-06-08); cloudlet refused it with the old text."""
    name = make_table()
    key = {"pk": {"S": "n"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=name, Item={**key, "a": {"NULL": False}, "m": {"M": {"x": {"NULL": False}}}})
    ddb.update_item(TableName=name, Key=key, UpdateExpression="SET b = :n", ExpressionAttributeValues={":n": {"NULL": False}})
    assert ddb.get_item(TableName=name, Key=key)["Item"] == {
        **key, "a": {"NULL": True}, "m": {"M": {"x": {"NULL": True}}}, "b": {"NULL": True}}


def test_table_class_changes_are_limited_to_two_in_30_days(ddb, make_table):
    """ack-api-quirks DDB-TABLE-443 (observed live): the third UpdateTable TableClass on a table
    within 30 days is a LimitExceededException, even when it would change nothing."""
    import time

    name = make_table()

    def settle():
        for _ in range(100):
            if ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE":
                return
            time.sleep(0.02)

    for table_class in ("STANDARD_INFREQUENT_ACCESS", "STANDARD"):
        ddb.update_table(TableName=name, TableClass=table_class)
        settle()
    for table_class in ("STANDARD_INFREQUENT_ACCESS", "STANDARD"):
        assert _refused(ddb.update_table, TableName=name, TableClass=table_class) == (
            "LimitExceededException", "Subscriber limit exceeded: Updates to TableClass are limited to 2 times in "
                                      "30 day(s).")
    assert ddb.describe_table(TableName=name)["Table"]["TableClassSummary"]["TableClass"] == "STANDARD"

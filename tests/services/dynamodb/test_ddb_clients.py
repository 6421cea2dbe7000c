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


def _table_with_gsi(make_table, projection: str) -> str:
    """A table (pk, sk) with one global secondary index, by-g, on the string attribute g."""
    gsi = {"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
           "Projection": {"ProjectionType": projection}}
    return make_table(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                            {"AttributeName": "sk", "AttributeType": "S"},
                                            {"AttributeName": "g", "AttributeType": "S"}],
                      GlobalSecondaryIndexes=[gsi])


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
    name = _table_with_gsi(make_table, "KEYS_ONLY")
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



def test_index_in_flight_blocks_table_delete_and_a_second_delete(ddb, make_table):
    """ack-api-quirks DDB-TABLE-444 (ResourceInUseException, observed live): DeleteTable while an
    index is being created, updated or deleted, and a Delete of an index already being deleted
    (cloudlet deleted the table, and answered the second Delete with LimitExceeded)."""
    import time

    name = _table_with_gsi(make_table, "KEYS_ONLY")
    ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}])
    # the index stays DELETING for about 0.3 s
    assert _refused(ddb.update_table, TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}]) == (
        "ResourceInUseException", f"Attempt to change a resource which is still in use: Index is being deleted. "
                                  f"Table: {name} Index: by-g")
    assert _refused(ddb.delete_table, TableName=name) == (
        "ResourceInUseException", "Attempt to change a resource which is still in use: Cannot delete table while "
                                  "indexes are being created, updated, or deleted.")
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    for _ in range(200):
        if "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=name)["Table"]:
            break
        time.sleep(0.02)
    assert ddb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"

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


def test_contributor_insights_wait_for_a_new_index(ddb, make_table):
    """ack-api-quirks DDB-TABLE-442/446: while a GSI is being created, insights cannot be
    enabled on it ('... IndexStatus must be ACTIVE to enable ContributorInsights.') and
    Describe does not find it; cloudlet enabled them at once."""
    name = make_table()
    ddb.update_table(TableName=name, AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {
                         "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                         "Projection": {"ProjectionType": "ALL"}}}])
    # the index stays CREATING for about 0.3 s (README)
    assert _refused(ddb.update_contributor_insights, TableName=name, IndexName="by-g",
                    ContributorInsightsAction="ENABLE") == (
        "ValidationException", "Table or Index is not in a valid state to update Key Access Insights: IndexStatus "
                               "must be ACTIVE to enable ContributorInsights.")
    assert _refused(ddb.describe_contributor_insights, TableName=name, IndexName="by-g") == (
        "ResourceNotFoundException", f"Requested resource not found: Index: by-g not found for table: {name}")
    assert [s.get("IndexName") for s in ddb.list_contributor_insights(TableName=name)[
        "ContributorInsightsSummaries"] if s["ContributorInsightsStatus"] != "DISABLED"] == []

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
    summary = ddb.describe_table(TableName=name)["Table"]["TableClassSummary"]
    assert summary["TableClass"] == "STANDARD"
    # an UpdateTable that changed the class leaves its time (scylladb's Alternator test_tableclass.py,
    # checked against DynamoDB); CreateTable does not
    assert "LastUpdateDateTime" in summary
    other = make_table(TableClass="STANDARD_INFREQUENT_ACCESS")
    assert ddb.describe_table(TableName=other)["Table"]["TableClassSummary"] == {
        "TableClass": "STANDARD_INFREQUENT_ACCESS"}


# ---------------------------------------------------------------- the clients themselves
# These drive cloudlet through real clients end to end; they found nothing wrong when written
# and keep it so. Each skips when its client is not installed.

def test_pynamodb_models_as_applications_use_them(server, monkeypatch):
    """PynamoDB: create_table(wait=True) with a KEYS_ONLY GSI and an INCLUDE LSI, the TTL
    attribute, optimistic locking, batch_write, rate-limited scan and query, a transaction
    whose cancellation reasons PynamoDB parses, a transactional get."""
    pytest.importorskip("pynamodb")
    import datetime
    import uuid

    from pynamodb.attributes import (NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute,
                                     VersionAttribute)
    from pynamodb.connection import Connection
    from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
    from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection, LocalSecondaryIndex
    from pynamodb.models import Model
    from pynamodb.transactions import TransactGet, TransactWrite

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")

    class ByCity(GlobalSecondaryIndex):
        class Meta:
            index_name = "by-city"
            projection = KeysOnlyProjection()
        city = UnicodeAttribute(hash_key=True)
        age = NumberAttribute(range_key=True)

    class ByAge(LocalSecondaryIndex):
        class Meta:
            index_name = "by-age"
            projection = IncludeProjection(["city"])
        email = UnicodeAttribute(hash_key=True)
        age = NumberAttribute(range_key=True)

    class Person(Model):
        class Meta:
            table_name = f"people-{uuid.uuid4().hex[:8]}"
            host = server.url
            region = "us-east-1"
        email = UnicodeAttribute(hash_key=True)
        n = NumberAttribute(range_key=True)
        city = UnicodeAttribute(null=True)
        age = NumberAttribute(null=True)
        tags = UnicodeSetAttribute(null=True)
        version = VersionAttribute()
        expires = TTLAttribute(null=True)
        by_city = ByCity()
        by_age = ByAge()

    Person.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    try:
        conn = Connection(host=server.url, region="us-east-1")
        ttl = conn.client.describe_time_to_live(TableName=Person.Meta.table_name)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
        p = Person("a", 1, city="Oslo", age=30, tags={"x"}, expires=datetime.timedelta(days=1))
        p.save()
        assert p.version == 1
        p.update(actions=[Person.age.add(1), Person.tags.add({"y"}), Person.city.remove()])
        got = Person.get("a", 1)
        assert (got.version, got.age, got.tags, got.city) == (2, 31, {"x", "y"}, None)
        stale = Person("a", 1, age=0)
        stale.version = 1
        with pytest.raises(PutError) as e:
            stale.save()
        assert e.value.cause_response_code == "ConditionalCheckFailedException"
        with pytest.raises(DeleteError):
            stale.delete()
        with Person.batch_write() as batch:
            for i in range(2, 40):
                batch.save(Person("a", i, city="Rome" if i % 2 else "Oslo", age=i))
        assert Person.count("a") == 39 and Person.count("a", Person.n > 30) == 9
        assert [(x.n, x.age) for x in Person.by_city.query("Oslo", Person.age < 7)] == [(2, 2), (4, 4), (6, 6)]
        assert [(x.n, x.city) for x in Person.by_age.query("a", Person.age.between(5, 6))] == [(5, "Rome"), (6, "Oslo")]
        assert len(list(Person.scan(Person.city.startswith("Ro"), page_size=4, rate_limit=1000))) == 19
        assert len(list(Person.query("a", filter_condition=Person.age.is_in(3, 5, 7), page_size=2,
                                     rate_limit=1000))) == 3
        with pytest.raises(TransactWriteError) as e:
            with TransactWrite(connection=conn) as tx:
                tx.save(Person("a", 2, age=99), condition=Person.email.does_not_exist())
                tx.update(Person.get("a", 3), actions=[Person.age.set(100)])
        reasons = e.value.cancellation_reasons
        assert [r.code if r else None for r in reasons] == ["ConditionalCheckFailed", None]
        with TransactGet(connection=conn) as tg:
            future = tg.get(Person, "a", 3)
        assert future.get().age == 3
    finally:
        Person.delete_table()


@pytest.mark.skipif(__import__("shutil").which("aws") is None, reason="AWS CLI not installed")
def test_aws_cli_query_and_paginated_scan(server, tmp_path):
    """AWS CLI v1: wait table-exists, put-item/get-item in JSON, query with
    --key-condition-expression, scan with --page-size/--max-items and --starting-token."""
    import json
    import os
    import subprocess
    import uuid

    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    name = f"cli-{uuid.uuid4().hex[:8]}"

    def run(*args):
        out = subprocess.run(["aws", "--endpoint-url", server.url, "dynamodb", *args, "--output", "json"],
                             env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout) if out.stdout.strip() else {}

    run("create-table", "--table-name", name, "--billing-mode", "PAY_PER_REQUEST",
        "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=N",
        "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE")
    try:
        run("wait", "table-exists", "--table-name", name)
        for i in range(12):
            run("put-item", "--table-name", name, "--item", json.dumps({"pk": {"S": "a"}, "sk": {"N": str(i)}}))
        assert run("get-item", "--table-name", name, "--key", '{"pk": {"S": "a"}, "sk": {"N": "3"}}')["Item"] == {
            "pk": {"S": "a"}, "sk": {"N": "3"}}
        got = run("query", "--table-name", name, "--key-condition-expression", "pk = :p AND sk > :s",
                  "--expression-attribute-values", '{":p": {"S": "a"}, ":s": {"N": "8"}}')
        assert [i["sk"]["N"] for i in got["Items"]] == ["9", "10", "11"]
        first = run("scan", "--table-name", name, "--page-size", "5", "--max-items", "7")
        assert len(first["Items"]) == 7 and first["NextToken"]
        rest = run("scan", "--table-name", name, "--page-size", "5", "--starting-token", first["NextToken"])
        assert len(rest["Items"]) == 5 and "NextToken" not in rest
        assert {i["sk"]["N"] for i in first["Items"] + rest["Items"]} == {str(i) for i in range(12)}
    finally:
        run("delete-table", "--table-name", name)
        run("wait", "table-not-exists", "--table-name", name)


JS_CLIENT = r"""
const { DynamoDBClient, CreateTableCommand, DeleteTableCommand, PutItemCommand, TransactWriteItemsCommand,
        waitUntilTableExists, waitUntilTableNotExists, ConditionalCheckFailedException,
        TransactionCanceledException } = require("@aws-sdk/client-dynamodb");
const { DynamoDBDocumentClient, PutCommand, GetCommand, BatchWriteCommand, paginateQuery } = require("@aws-sdk/lib-dynamodb");
(async () => {
  const client = new DynamoDBClient({ endpoint: process.env.ENDPOINT, region: "us-east-1", maxAttempts: 1,
                                      credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const doc = DynamoDBDocumentClient.from(client);
  const TableName = process.env.TABLE, out = {};
  await client.send(new CreateTableCommand({ TableName, BillingMode: "PAY_PER_REQUEST",
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "N" }] }));
  out.exists = (await waitUntilTableExists({ client, maxWaitTime: 20, minDelay: 1 }, { TableName })).state;
  await doc.send(new PutCommand({ TableName, Item: { pk: "a", sk: 0, ss: new Set(["x", "y"]), ns: new Set([1, 2]),
                                                    m: { l: [1, "b", null, true] } } }));
  const item = (await doc.send(new GetCommand({ TableName, Key: { pk: "a", sk: 0 } }))).Item;
  out.item = { ss: [...item.ss].sort(), ns: [...item.ns].sort(), m: item.m };
  await doc.send(new BatchWriteCommand({ RequestItems: { [TableName]: Array.from({ length: 20 }, (_, i) =>
    ({ PutRequest: { Item: { pk: "a", sk: i + 1 } } })) } }));
  out.pages = [];
  for await (const page of paginateQuery({ client: doc, pageSize: 8 }, { TableName, KeyConditionExpression: "pk = :p",
                                                                        ExpressionAttributeValues: { ":p": "a" } }))
    out.pages.push(page.Items.length);
  try {
    await client.send(new PutItemCommand({ TableName, Item: { pk: { S: "a" }, sk: { N: "0" } },
      ConditionExpression: "attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure: "ALL_OLD" }));
  } catch (e) { out.ccf = { cls: e instanceof ConditionalCheckFailedException, item: e.Item && e.Item.pk }; }
  try {
    await client.send(new TransactWriteItemsCommand({ TransactItems: [
      { Put: { TableName, Item: { pk: { S: "b" }, sk: { N: "1" } } } },
      { ConditionCheck: { TableName, Key: { pk: { S: "a" }, sk: { N: "1" } }, ConditionExpression: "attribute_not_exists(pk)",
                          ReturnValuesOnConditionCheckFailure: "ALL_OLD" } }] }));
  } catch (e) {
    out.tx = { cls: e instanceof TransactionCanceledException,
               reasons: e.CancellationReasons.map(r => [r.Code, r.Item ? r.Item.sk.N : null]) };
  }
  await client.send(new DeleteTableCommand({ TableName }));
  out.gone = (await waitUntilTableNotExists({ client, maxWaitTime: 20, minDelay: 1 }, { TableName })).state;
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
"""


def test_js_sdk_v3_client_and_document_client(server, tmp_path, node_modules):
    """AWS SDK for JavaScript v3: waiters, DocumentClient sets and nested values, BatchWrite,
    the Query paginator, ConditionalCheckFailedException with its Item, and a
    TransactionCanceledException's CancellationReasons (with the Item ALL_OLD asked for)."""
    import json
    import os
    import subprocess
    import uuid

    script = tmp_path / "client.cjs"
    script.write_text(JS_CLIENT)
    env = {**os.environ, "NODE_PATH": node_modules, "ENDPOINT": server.url, "TABLE": f"js-{uuid.uuid4().hex[:8]}",
           "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1"}
    done = subprocess.run(["node", str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["exists"] == "SUCCESS" and out["gone"] == "SUCCESS"
    assert out["item"] == {"ss": ["x", "y"], "ns": [1, 2], "m": {"l": [1, "b", None, True]}}
    assert out["pages"] == [8, 8, 5]
    assert out["ccf"] == {"cls": True, "item": {"S": "a"}}
    assert out["tx"] == {"cls": True, "reasons": [["None", None], ["ConditionalCheckFailed", "1"]]}



def test_restore_with_an_index_the_backup_lacks(ddb, make_table):
    """ack-api-quirks DDB-TABLE-442 (observed live): a restore override naming an index the
    source table did not have is 'Invalid Request: Index <name> does not match a secondary index
    that existed in the source table and cannot be created during the restore operation' (cloudlet's
    text was a guess); no table is made."""
    name = make_table()
    backup = ddb.create_backup(TableName=name, BackupName="bk1")["BackupDetails"]["BackupArn"]
    target = name + "-r"
    gsi = {"IndexName": "new-index", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
           "Projection": {"ProjectionType": "ALL"}}
    assert _refused(ddb.restore_table_from_backup, TargetTableName=target, BackupArn=backup,
                    GlobalSecondaryIndexOverride=[gsi]) == (
        "ValidationException", "Invalid Request: Index new-index does not match a secondary index that existed in "
                               "the source table and cannot be created during the restore operation")
    assert target not in ddb.list_tables()["TableNames"]
    ddb.delete_backup(BackupArn=backup)


def test_on_demand_maximums_checked_as_aws_checks_them(ddb, make_table):
    """ack-api-quirks DDB-TABLE-442 (observed live): OnDemandThroughput on a provisioned table,
    and a maximum below 1 (-1 clears it, in UpdateTable only); cloudlet accepted all of them."""
    import uuid

    odt_name = f"t-{uuid.uuid4().hex[:10]}"
    assert _refused(ddb.create_table, TableName=odt_name, **{**KEY, "OnDemandThroughput": {"MaxReadRequestUnits": 0}}) == (
        "ValidationException", INVALID + "Requested MaxReadRequestUnits for OnDemandThroughput for table is outside of "
                                         "valid range")
    assert _refused(ddb.create_table, TableName=odt_name, **{
        **KEY, "BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        "OnDemandThroughput": {"MaxWriteRequestUnits": 5}}) == (
        "ValidationException", INVALID + "MaxWriteRequestUnits for OnDemandThroughput cannot be specified when "
                                         "table BillingMode is PROVISIONED.")
    assert odt_name not in ddb.list_tables()["TableNames"]
    name = make_table(OnDemandThroughput={"MaxReadRequestUnits": 100})
    assert _refused(ddb.update_table, TableName=name, OnDemandThroughput={"MaxWriteRequestUnits": -2}) == (
        "ValidationException", INVALID + "Requested MaxWriteRequestUnits for OnDemandThroughput for table is outside of "
                                         "valid range")
    assert ddb.describe_table(TableName=name)["Table"]["OnDemandThroughput"] == {"MaxReadRequestUnits": 100}
    # a member given alone is merged, -1 clears one, and both cleared leave none (ack-api-quirks DDB-TABLE-051/178)
    ddb.update_table(TableName=name, OnDemandThroughput={"MaxWriteRequestUnits": 500})
    assert ddb.describe_table(TableName=name)["Table"]["OnDemandThroughput"] == {
        "MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 500}
    ddb.update_table(TableName=name, OnDemandThroughput={"MaxReadRequestUnits": -1})
    assert ddb.describe_table(TableName=name)["Table"]["OnDemandThroughput"] == {"MaxWriteRequestUnits": 500}
    ddb.update_table(TableName=name, OnDemandThroughput={"MaxWriteRequestUnits": -1})
    assert "OnDemandThroughput" not in ddb.describe_table(TableName=name)["Table"]
    provisioned = make_table(BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                                                "WriteCapacityUnits": 1})
    assert _refused(ddb.update_table, TableName=provisioned, OnDemandThroughput={"MaxReadRequestUnits": 5}) == (
        "ValidationException", INVALID + "MaxReadRequestUnits for OnDemandThroughput cannot be specified when the "
                                         "table BillingMode is PROVISIONED")  # UpdateTable's words (DDB-TABLE-059)


def test_restore_overrides_refused_in_aws_words(ddb, make_table):
    """ack-api-quirks DDB-TABLE-442 (RestoreTableFromBackup, observed live): throughput with an
    on-demand override, and an on-demand maximum below 1 (cloudlet gave CreateTable's text for the
    first and accepted the second); no table is made."""
    name = make_table()
    backup = ddb.create_backup(TableName=name, BackupName="bk1")["BackupDetails"]["BackupArn"]
    target = name + "-r"
    pt = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    assert _refused(ddb.restore_table_from_backup, TargetTableName=target, BackupArn=backup,
                    BillingModeOverride="PAY_PER_REQUEST", ProvisionedThroughputOverride=pt) == (
        "ValidationException", "Invalid Request: Cannot override ProvisionedThroughput if BillingMode is overridden "
                               "to PAY_PER_REQUEST")
    assert _refused(ddb.restore_table_from_backup, TargetTableName=target, BackupArn=backup,
                    OnDemandThroughputOverride={"MaxReadRequestUnits": 0}) == (
        "ValidationException", "Invalid Request: Requested MaxReadRequestUnits for OnDemandThroughput is outside of "
                               "valid range")
    assert target not in ddb.list_tables()["TableNames"]
    ddb.delete_backup(BackupArn=backup)


def test_warm_throughput_never_below_what_the_table_has(ddb, make_table):
    """ack-api-quirks DDB-TABLE-442 (observed live): UpdateTable may not lower a table's
    WarmThroughput, and CreateTable may not ask for less than the provisioned units (cloudlet
    accepted both)."""
    import uuid

    name = make_table(WarmThroughput={"ReadUnitsPerSecond": 20000})
    assert _refused(ddb.update_table, TableName=name, WarmThroughput={"ReadUnitsPerSecond": 15000}) == (
        "ValidationException", INVALID + "Requested ReadUnitsPerSecond for WarmThroughput for table is lower than "
                                         "current WarmThroughput, decreasing WarmThroughput is not supported")
    assert ddb.describe_table(TableName=name)["Table"]["WarmThroughput"]["ReadUnitsPerSecond"] == 20000
    other = f"t-{uuid.uuid4().hex[:10]}"
    assert _refused(ddb.create_table, TableName=other, **{
        **KEY, "BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 50, "WriteCapacityUnits": 5},
        "WarmThroughput": {"ReadUnitsPerSecond": 10}}) == (
        "ValidationException", INVALID + "Requested ReadUnitsPerSecond for WarmThroughput for table is lower than "
                                         "ReadCapacityUnits of ProvisionedThroughput")
    # on demand, not below what every on-demand table starts with (scylladb's Alternator
    # test_warm_throughput.py, checked against DynamoDB; the text from ack-api-quirks' probes)
    assert _refused(ddb.create_table, TableName=other, **{**KEY, "WarmThroughput": {
        "ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 3999}}) == (
        "ValidationException", INVALID + "Requested WriteUnitsPerSecond for WarmThroughput for table is lower than "
        "initial throughput for OnDemand. See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
        "on-demand-capacity-mode.html#on-demand-capacity-mode-initial")
    assert other not in ddb.list_tables()["TableNames"]


def test_throughput_above_the_per_table_maximum(ddb, make_table):
    """ack-api-quirks DDB-TABLE-443 (observed live): units above DescribeLimits' per-table maximum
    (40000) are a LimitExceededException (cloudlet accepted them); the table keeps its units."""
    import uuid

    limit = ddb.describe_limits()["TableMaxReadCapacityUnits"]
    big = {"ReadCapacityUnits": limit + 1, "WriteCapacityUnits": 5}
    other = f"t-{uuid.uuid4().hex[:10]}"
    message = (f"The requested ReadCapacityUnits, {limit + 1}, is above the per table maximum for the account in "
               f"us-east-1. Per table maximum: {limit}. Refer to the Amazon DynamoDB Developer Guide for current "
               "limits and how to request higher limits.")
    assert _refused(ddb.create_table, TableName=other, **{**KEY, "BillingMode": "PROVISIONED",
                                                          "ProvisionedThroughput": big}) == ("LimitExceededException", message)
    assert other not in ddb.list_tables()["TableNames"]
    name = make_table(BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert _refused(ddb.update_table, TableName=name, ProvisionedThroughput=big) == ("LimitExceededException", message)
    assert ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 5



def test_resource_policy_changes_once_in_15_seconds(ddb, make_table, server):
    """ack-api-quirks DDB-TABLE-445 (observed live): a second PutResourcePolicy or
    DeleteResourcePolicy within 15 s of the last change is a ThrottlingException naming the time to
    try again (cloudlet applied it); the policy stays as it was."""
    import json
    import re

    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]

    def policy(action):
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": action,
            "Resource": arn}]})

    ddb.put_resource_policy(ResourceArn=arn, Policy=policy("dynamodb:GetItem"))
    for call, kw in ((ddb.put_resource_policy, {"Policy": policy("dynamodb:PutItem")}), (ddb.delete_resource_policy, {})):
        code, message = _refused(call, ResourceArn=arn, **kw)
        assert code == "ThrottlingException"
        assert re.fullmatch(rf"Resource-based policy for table {name} modified within the previous 15000 "
                            r"milliseconds\. Please try again after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\.",
                            message), message
    assert "GetItem" in ddb.get_resource_policy(ResourceArn=arn)["Policy"]
    server.advance_clock(15)
    ddb.delete_resource_policy(ResourceArn=arn)


def test_query_and_scan_refusals_worded_apart(ddb, ddb_raw, make_table):
    """nubo-db/dynamodb-conformance tier3 query and scan (run against AWS; dynoxide issue 121):
    Select SPECIFIC_ATTRIBUTES with nothing to project is refused (cloudlet returned every
    attribute), by Query in the '1 validation error detected: ' envelope and by Scan bare; Query's
    Limit 0 names 'Limit' with no value, where Scan keeps "Value '0' at 'limit'"; a malformed
    ExclusiveStartKey gets Query's short text."""
    name = make_table()
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "x": {"S": "y"}})
    query = {"TableName": name, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}
    specific = "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"
    assert _refused(ddb.query, Select="SPECIFIC_ATTRIBUTES", **query) == (
        "ValidationException", "1 validation error detected: " + specific)
    assert _refused(ddb.scan, TableName=name, Select="SPECIFIC_ATTRIBUTES") == ("ValidationException", specific)
    assert ddb.query(Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="x", **query)["Items"] == [{"x": {"S": "y"}}]
    limit = "failed to satisfy constraint: Member must have value greater than or equal to 1"
    assert _refused(ddb_raw.query, Limit=0, **query) == (
        "ValidationException", f"1 validation error detected: Value at 'Limit' {limit}")
    assert _refused(ddb_raw.scan, TableName=name, Limit=0) == (
        "ValidationException", f"1 validation error detected: Value '0' at 'limit' {limit}")
    assert _refused(ddb.query, ExclusiveStartKey={"bad": {"S": "p"}}, **query) == (
        "ValidationException", "The provided starting key is invalid")
    assert _refused(ddb.scan, TableName=name, ExclusiveStartKey={"bad": {"S": "p"}}) == (
        "ValidationException", "The provided starting key is invalid: The provided key element does not match the schema")



def test_delete_cancels_a_backfilling_index(ddb, ddbr, make_table):
    """The API reference (GlobalSecondaryIndexDescription.Backfilling): 'You can delete an index
    that is being created during the Backfilling phase when IndexStatus is set to CREATING and
    Backfilling is true.' cloudlet's new indexes backfill from the start, and it refused the Delete
    with LimitExceeded; another index change meanwhile is still refused."""
    import time

    name = make_table()
    with ddbr.Table(name).batch_writer() as batch:
        for i in range(600):
            batch.put_item(Item={"pk": f"p{i}", "sk": "s", "g": f"g{i % 3}"})
    gsi = {"KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}
    ddb.update_table(TableName=name, AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "by-g", **gsi}}])
    index = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert (index["IndexStatus"], index["Backfilling"]) == ("CREATING", True)
    assert _refused(ddb.update_table, TableName=name, AttributeDefinitions=[
        {"AttributeName": "h", "AttributeType": "S"}], GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by-h", **gsi, "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}]}}])[0] == \
        "LimitExceededException"
    ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}])
    for _ in range(250):
        if "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=name)["Table"]:
            break
        time.sleep(0.02)
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=name)["Table"]
    assert _refused(ddb.query, TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "g1"}})[0] == "ValidationException"



def test_names_aws_checks_in_its_own_words(ddb, ddb_raw, make_table):
    """ack-api-quirks DDB-TABLE-457 (observed live): an IndexName, a restore's TargetTableName, a
    legacy global table name and a BackupArn that are too short are refused in AWS's own words,
    not the model's 'Value '' at ...' constraint text; a GSI's WarmThroughput may not be lowered."""
    name = _table_with_gsi(make_table, "ALL")
    index_text = "IndexName must be at least 3 characters long and at most 255 characters long"
    assert _refused(ddb_raw.describe_contributor_insights, TableName=name, IndexName="") == (
        "ValidationException", index_text)
    table_text = "TableName must be at least 3 characters long and at most 255 characters long"
    backup = ddb.create_backup(TableName=name, BackupName="bk1")["BackupDetails"]["BackupArn"]
    assert _refused(ddb_raw.restore_table_from_backup, TargetTableName="", BackupArn=backup) == (
        "ValidationException", table_text)
    assert _refused(ddb_raw.describe_global_table, GlobalTableName="") == ("ValidationException", table_text)
    assert _refused(ddb_raw.describe_backup, BackupArn="") == ("ValidationException", "Invalid Backup ARN")
    ddb.delete_backup(BackupArn=backup)
    assert _refused(ddb.update_table, TableName=name, GlobalSecondaryIndexUpdates=[
        {"Update": {"IndexName": "by-g", "WarmThroughput": {"ReadUnitsPerSecond": 100}}}]) == (
        "ValidationException", INVALID + "Requested ReadUnitsPerSecond for WarmThroughput for index by-g is lower than "
                                         "current WarmThroughput, decreasing WarmThroughput is not supported")
    index = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["WarmThroughput"]["ReadUnitsPerSecond"] == 12000 and index["IndexStatus"] == "ACTIVE"

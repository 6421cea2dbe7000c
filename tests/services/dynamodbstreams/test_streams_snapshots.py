"""DynamoDB Streams answers compared with AWS's recorded ones: LocalStack's AWS-validated
snapshots (tests/aws/services/dynamodb, dynamodbstreams) and nubo-db/dynamodb-conformance
tests/tier2/streams (run against AWS). Each test cites the case that shows AWS's answer."""

from __future__ import annotations

import uuid

from .conftest import iterator, read_all, shard_of


# LocalStack's AWS-validated test_dynamodb_stream_records_with_update_item (2024-06-26): on AWS the
# first record's SequenceNumber is greater than the shard's StartingSequenceNumber (the test checks
# '>' against AWS). Cloudlet gave a record written in the millisecond the stream was created the
# shard's starting number itself (about one table in four when the write follows CreateTable at
# once), so AFTER_SEQUENCE_NUMBER of the starting number skipped that record.
def test_records_come_after_the_shard_start(ddb, streams):
    for _ in range(50):
        name = f"t-{uuid.uuid4().hex[:10]}"
        arn = ddb.create_table(
            TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )["TableDescription"]["LatestStreamArn"]
        ddb.put_item(TableName=name, Item={"pk": {"S": "first"}})  # at once: often the same millisecond
        start = shard_of(streams, arn)["SequenceNumberRange"]["StartingSequenceNumber"]
        (record,) = read_all(streams, arn)
        assert int(record["dynamodb"]["SequenceNumber"]) > int(start)
        after = iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=start)
        assert [r["dynamodb"]["Keys"] for r in read_all(streams, arn, after)] == [{"pk": {"S": "first"}}]
        ddb.delete_table(TableName=name)

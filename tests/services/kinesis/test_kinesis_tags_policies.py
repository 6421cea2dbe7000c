"""Tags (AddTagsToStream & co. and TagResource & co.) and resource policies through boto3."""

from __future__ import annotations

import json

from tests.conftest import make_client
from tests.services.kinesis.conftest import error_of, make_stream, new_account, wait_consumer

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": ["kinesis:DescribeStreamSummary", "kinesis:GetRecords"], "Resource": "*"}]})


def _tags(client, name, **kw):
    return {t["Key"]: t["Value"] for t in client.list_tags_for_stream(StreamName=name, **kw)["Tags"]}


def test_stream_tags(kinesis, account):
    make_stream(kinesis, "tg", 1, Tags={"env": "test"})
    assert _tags(kinesis, "tg") == {"env": "test"}
    kinesis.add_tags_to_stream(StreamName="tg", Tags={"a": "1", "b": "2", "env": "prod", "ü0 _.": "x",
                                                      "/=+-@:": ""})
    assert _tags(kinesis, "tg") == {"a": "1", "b": "2", "env": "prod", "ü0 _.": "x", "/=+-@:": ""}
    page = kinesis.list_tags_for_stream(StreamName="tg", Limit=2)
    assert [t["Key"] for t in page["Tags"]] == ["/=+-@:", "a"] and page["HasMoreTags"] is True
    rest = kinesis.list_tags_for_stream(StreamName="tg", ExclusiveStartTagKey="a")
    assert [t["Key"] for t in rest["Tags"]] == ["b", "env", "ü0 _."] and rest["HasMoreTags"] is False
    kinesis.remove_tags_from_stream(StreamName="tg", TagKeys=["a", "missing"])
    assert "a" not in _tags(kinesis, "tg")
    code, msg = error_of(kinesis.add_tags_to_stream, StreamName="tg", Tags={"bad;key": "v"})
    assert (code, msg) == ("InvalidArgumentException", "Some tags contain invalid characters. Valid characters: "
                                                       "Unicode letters, digits, white space, _ . / = + - % @ :.")
    code, msg = error_of(kinesis.add_tags_to_stream, StreamName="tg", Tags={"a%b": "v"})
    assert msg.startswith(f"Failed to add tags to stream tg under account {account} because some tags contained "
                          "illegal characters.")
    code, msg = error_of(kinesis.remove_tags_from_stream, StreamName="tg", TagKeys=["a%b"])
    assert msg.startswith(f"Failed to remove tags from stream tg under account {account}")
    many = {f"k{i}": "v" for i in range(47)}
    code, msg = error_of(kinesis.add_tags_to_stream, StreamName="tg", Tags=many)  # 4 present + 47 > 50
    assert (code, msg) == ("InvalidArgumentException", f"Failed to add tags to stream tg under account {account} "
                                                       "because a given stream cannot have more than 50 tags "
                                                       "associated with it.")
    assert len(_tags(kinesis, "tg")) == 4
    kinesis.add_tags_to_stream(StreamName="tg", Tags={f"k{i}": "v" for i in range(46)})
    assert len(_tags(kinesis, "tg")) == 50
    assert error_of(kinesis.add_tags_to_stream, StreamName="none", Tags={"a": "b"})[0] == "ResourceNotFoundException"


def test_resource_tags_on_streams_and_consumers(kinesis):
    make_stream(kinesis, "rt", 1)
    arn = kinesis.describe_stream_summary(StreamName="rt")["StreamDescriptionSummary"]["StreamARN"]
    kinesis.tag_resource(ResourceARN=arn, Tags={"team": "data"})
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    assert _tags(kinesis, "rt") == {"team": "data"}  # one set of tags, two APIs
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c", Tags={"x": "1"})["Consumer"]
    carn = consumer["ConsumerARN"]
    assert kinesis.list_tags_for_resource(ResourceARN=carn)["Tags"] == [{"Key": "x", "Value": "1"}]
    wait_consumer(kinesis, carn)
    kinesis.tag_resource(ResourceARN=carn, Tags={"y": "2"})
    kinesis.untag_resource(ResourceARN=carn, TagKeys=["x"])
    assert kinesis.list_tags_for_resource(ResourceARN=carn)["Tags"] == [{"Key": "y", "Value": "2"}]
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    code, _ = error_of(kinesis.tag_resource, ResourceARN=carn[:-1] + "0", Tags={"a": "b"})
    assert code == "ResourceNotFoundException"
    code, _ = error_of(kinesis.tag_resource, ResourceARN=arn, Tags={f"k{i}": "v" for i in range(50)})
    assert code == "InvalidArgumentException"
    assert len(kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"]) == 1


def test_resource_policies(kinesis, server, account):
    make_stream(kinesis, "pol", 1)
    arn = kinesis.describe_stream_summary(StreamName="pol")["StreamDescriptionSummary"]["StreamARN"]
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"
    assert error_of(kinesis.put_resource_policy, ResourceARN=arn, Policy="not json")[0] == "InvalidArgumentException"
    assert error_of(kinesis.delete_resource_policy, ResourceARN=arn)[0] == "ResourceNotFoundException"
    other = make_client("kinesis", server.url, access_key=new_account())
    assert error_of(other.describe_stream_summary, StreamARN=arn)[0] == "AccessDeniedException"
    kinesis.put_resource_policy(ResourceARN=arn, Policy=POLICY)
    assert json.loads(kinesis.get_resource_policy(ResourceARN=arn)["Policy"]) == json.loads(POLICY)
    # with a resource policy another account reaches the stream by its ARN
    kinesis.put_record(StreamName="pol", Data=b"shared", PartitionKey="k")
    assert other.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamName"] == "pol"
    it = other.get_shard_iterator(StreamARN=arn, ShardId="shardId-000000000000",
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in other.get_records(ShardIterator=it, StreamARN=arn)["Records"]] == [b"shared"]
    kinesis.delete_resource_policy(ResourceARN=arn)
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"
    carn = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c")["Consumer"]["ConsumerARN"]
    code, _ = error_of(kinesis.put_resource_policy, ResourceARN=carn, Policy=POLICY)
    assert code == "ResourceInUseException"  # not ACTIVE yet
    wait_consumer(kinesis, carn)
    kinesis.put_resource_policy(ResourceARN=carn, Policy=POLICY)
    assert json.loads(kinesis.get_resource_policy(ResourceARN=carn)["Policy"]) == json.loads(POLICY)
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"

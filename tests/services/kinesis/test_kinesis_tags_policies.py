"""Tags (AddTagsToStream & co. and TagResource & co.) and resource policies through boto3."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ServerProcess, make_client
from tests.services.kinesis.conftest import error_of, make_stream, new_account, wait_active

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": ["kinesis:DescribeStreamSummary", "kinesis:GetRecords"], "Resource": "*"}]})


def _tags(client, name, **kw):
    return {t["Key"]: t["Value"] for t in client.list_tags_for_stream(StreamName=name, **kw)["Tags"]}


# Consumer tests run on a server whose CREATING / UPDATING / DELETING last until the test
# moves its clock: "not ACTIVE yet" and "ACTIVE now" are then facts, not races with the
# wall clock (on the shared server a transition ends 0.5 s after it starts, however loaded
# the machine is).
TRANSITION = 600


@pytest.fixture(scope="module")
def slow_server():
    srv = ServerProcess(env={"CLOUDLET_KINESIS_TRANSITION_SECONDS": str(TRANSITION)}).start()
    yield srv
    srv.stop()


@pytest.fixture
def slow(slow_server, account):
    return make_client("kinesis", slow_server.url, access_key=account)


def _settle(server) -> None:
    """End every transition under way (the next request sees it done)."""
    server.advance_clock(TRANSITION + 1)


def _stream_arn(client, server, name: str) -> str:
    client.create_stream(StreamName=name, ShardCount=1)
    _settle(server)
    return wait_active(client, name)["StreamARN"]


def _consumer_status(client, arn: str) -> str:
    return client.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]["ConsumerStatus"]


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


def test_resource_tags_on_streams_and_consumers(slow, slow_server):
    kinesis = slow
    arn = _stream_arn(kinesis, slow_server, "rt")
    kinesis.tag_resource(ResourceARN=arn, Tags={"team": "data"})
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    assert _tags(kinesis, "rt") == {"team": "data"}  # one set of tags, two APIs
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c", Tags={"x": "1"})["Consumer"]
    carn = consumer["ConsumerARN"]
    assert _consumer_status(kinesis, carn) == "CREATING"  # tags are readable while it is
    assert kinesis.list_tags_for_resource(ResourceARN=carn)["Tags"] == [{"Key": "x", "Value": "1"}]
    _settle(slow_server)
    assert _consumer_status(kinesis, carn) == "ACTIVE"
    kinesis.tag_resource(ResourceARN=carn, Tags={"y": "2"})
    kinesis.untag_resource(ResourceARN=carn, TagKeys=["x"])
    assert kinesis.list_tags_for_resource(ResourceARN=carn)["Tags"] == [{"Key": "y", "Value": "2"}]
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    # The same stream and consumer name with another creation time: no such consumer. (Not
    # carn[:-1] + "0": for a consumer created in a second ending in 0 that is carn itself.)
    base, created = carn.rsplit(":", 1)
    code, _ = error_of(kinesis.tag_resource, ResourceARN=f"{base}:{int(created) + 1}", Tags={"a": "b"})
    assert code == "ResourceNotFoundException"
    code, _ = error_of(kinesis.tag_resource, ResourceARN=arn, Tags={f"k{i}": "v" for i in range(50)})
    assert code == "InvalidArgumentException"
    assert len(kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"]) == 1


def test_resource_policies(slow, slow_server):
    kinesis = slow
    arn = _stream_arn(kinesis, slow_server, "pol")
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"
    assert error_of(kinesis.put_resource_policy, ResourceARN=arn, Policy="not json")[0] == "InvalidArgumentException"
    assert error_of(kinesis.delete_resource_policy, ResourceARN=arn)[0] == "ResourceNotFoundException"
    other = make_client("kinesis", slow_server.url, access_key=new_account())
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
    assert code == "ResourceInUseException" and _consumer_status(kinesis, carn) == "CREATING"  # not ACTIVE yet
    _settle(slow_server)
    assert _consumer_status(kinesis, carn) == "ACTIVE"
    kinesis.put_resource_policy(ResourceARN=carn, Policy=POLICY)
    assert json.loads(kinesis.get_resource_policy(ResourceARN=carn)["Policy"]) == json.loads(POLICY)
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"

"""Differences from AWS found by a QA pass, each pinned by the source that shows AWS's behaviour.

The server here has a shard quota of 50 (as kinesalite's tests against AWS use) and status
transitions that last until the test moves its clock, so "still UPDATING" is a fact.
"""

from __future__ import annotations

import pytest

from tests.conftest import ServerProcess, make_client
from tests.services.kinesis.conftest import SLOW_TRANSITION, error_of, new_account, settle

S0 = "shardId-000000000000"


@pytest.fixture(scope="module")
def srv():
    s = ServerProcess(env={"CLOUDLET_KINESIS_SHARD_LIMIT": "50",
                           "CLOUDLET_KINESIS_TRANSITION_SECONDS": str(SLOW_TRANSITION)}).start()
    yield s
    s.stop()


@pytest.fixture
def acct() -> str:
    return new_account()


@pytest.fixture
def k(srv, acct):
    return make_client("kinesis", srv.url, access_key=acct)


def create(client, server, name: str, shards: int = 1, **kw) -> dict:
    client.create_stream(StreamName=name, ShardCount=shards, **kw)
    settle(server)
    return client.describe_stream(StreamName=name)["StreamDescription"]


def test_update_shard_count_checks_the_shard_limit_before_the_doubling_rule(k, srv):
    # kinesalite test/updateShardCount.js, run against AWS: a 10-shard stream asked for
    # limit + 2 shards is refused by the shard limit, not by "cannot scale up over double"
    create(k, srv, "usc", 10)
    code, msg = error_of(k.update_shard_count, StreamName="usc", TargetShardCount=52, ScalingType="UNIFORM_SCALING")
    assert (code, msg) == ("LimitExceededException", "Target shard count or number of open shards cannot be "
                                                     "greater than 50. Current open shard count: 10, Target shard "
                                                     "count: 52")
    # nothing changed: still ACTIVE with its 10 shards, and the refused call used none of the
    # ten scalings a day
    d = k.describe_stream(StreamName="usc")["StreamDescription"]
    assert d["StreamStatus"] == "ACTIVE" and len(d["Shards"]) == 10
    for _ in range(10):
        k.update_shard_count(StreamName="usc", TargetShardCount=10, ScalingType="UNIFORM_SCALING")
        settle(srv)
    code, _ = error_of(k.update_shard_count, StreamName="usc", TargetShardCount=10, ScalingType="UNIFORM_SCALING")
    assert code == "LimitExceededException"

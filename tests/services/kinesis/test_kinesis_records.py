"""The data plane through boto3: PutRecord(s), iterators, GetRecords, ordering, retention."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import make_client
from tests.conftest import ServerProcess
from tests.services.kinesis.conftest import error_of, make_stream, new_account, read_all, server_now

MAX_HASH = (1 << 128) - 1
THIRD = (1 << 128) // 3
S0, S1, S2 = "shardId-000000000000", "shardId-000000000001", "shardId-000000000002"


def _shard_for(key: str, n: int = 3) -> str:
    h = int(hashlib.md5(key.encode()).hexdigest(), 16)
    return f"shardId-{min(h // ((1 << 128) // n), n - 1):012d}"


def test_partition_keys_hash_with_md5(kinesis):
    make_stream(kinesis, "md5", 3)
    for key in ["a", "b", "hello", "ü", "x" * 256]:
        assert kinesis.put_record(StreamName="md5", Data=b"d", PartitionKey=key)["ShardId"] == _shard_for(key)


@pytest.mark.parametrize("hash_key,shard", [
    ("0", S0), (str(THIRD - 1), S0), (str(THIRD), S1), (str(2 * THIRD - 1), S1), (str(2 * THIRD), S2),
    (str(MAX_HASH), S2),
])
def test_explicit_hash_key_boundaries(kinesis, hash_key, shard):
    make_stream(kinesis, "ehk", 3)
    out = kinesis.put_record(StreamName="ehk", Data=b"", PartitionKey="a", ExplicitHashKey=hash_key)
    assert out["ShardId"] == shard


def test_bad_puts_write_nothing(kinesis, raw, account):
    make_stream(kinesis, "bad", 1)
    code, msg = error_of(kinesis.put_record, StreamName="bad", Data=b"", PartitionKey="a",
                         ExplicitHashKey=str(1 << 128))
    assert (code, msg) == ("InvalidArgumentException", "Invalid ExplicitHashKey. ExplicitHashKey must be in the "
                                                       f"range: [0, 2^128-1]. Specified value was {1 << 128}")
    code, msg = error_of(kinesis.put_record, StreamName="bad", Data=b"", PartitionKey="a",
                         SequenceNumberForOrdering="12345")
    assert (code, msg) == ("InvalidArgumentException", "ExclusiveMinimumSequenceNumber 12345 used in PutRecord on "
                                                       f"stream bad under account {account} is invalid.")
    code, msg = error_of(raw.put_record, StreamName="bad", Data=b"", PartitionKey="k" * 257)
    assert code == "ValidationException" and "Member must have length less than or equal to 256" in msg
    code, msg = error_of(raw.put_record, StreamName="bad", Data=b"", PartitionKey="")
    assert code == "ValidationException" and "greater than or equal to 1" in msg
    code, msg = error_of(kinesis.put_record, StreamName="nope", Data=b"", PartitionKey="a")
    assert (code, msg) == ("ResourceNotFoundException", f"Stream nope under account {account} not found.")
    # PutRecords: whole-request errors write nothing
    code, msg = error_of(raw.put_records, StreamName="bad",
                         Records=[{"Data": b"x", "PartitionKey": "a"}] * 501)
    assert code == "ValidationException" and "Member must have length less than or equal to 500" in msg
    big = [{"Data": b"x" * (1024 * 1024 - 10), "PartitionKey": str(i)} for i in range(6)]
    code, msg = error_of(kinesis.put_records, StreamName="bad", Records=big)
    assert (code, msg) == ("InvalidArgumentException", "Records size exceeds 5 MB limit")
    code, _ = error_of(kinesis.put_records, StreamName="bad", Records=[
        {"Data": b"ok", "PartitionKey": "a"}, {"Data": b"", "PartitionKey": "a", "ExplicitHashKey": str(1 << 128)}])
    assert code == "InvalidArgumentException"
    code, msg = error_of(kinesis.put_records, StreamName="bad", Records=[
        {"Data": b"ok", "PartitionKey": "a"}, {"Data": b"x" * (1024 * 1024 + 1), "PartitionKey": "a"}])
    assert code == "ValidationException" and "at 'records.2.member.data'" in msg
    assert read_all(kinesis, "bad", S0) == []


def test_put_records_results_in_order(kinesis):
    make_stream(kinesis, "batch", 3)
    entries = [{"Data": f"r{i}".encode(), "PartitionKey": f"k{i}"} for i in range(500)]
    out = kinesis.put_records(StreamName="batch", Records=entries)
    assert out["FailedRecordCount"] == 0 and len(out["Records"]) == 500
    for entry, result in zip(entries, out["Records"]):
        assert result["ShardId"] == _shard_for(entry["PartitionKey"])
        assert len(result["SequenceNumber"]) == 56
    got = {}
    for shard in (S0, S1, S2):
        for rec in read_all(kinesis, "batch", shard):
            got[rec["PartitionKey"]] = (rec["Data"], rec["SequenceNumber"], shard)
    for entry, result in zip(entries, out["Records"]):
        assert got[entry["PartitionKey"]] == (entry["Data"], result["SequenceNumber"], result["ShardId"])
    # exactly 5 MiB including partition keys is allowed
    exact = [{"Data": b"y" * (1024 * 1024 - 1), "PartitionKey": "a"} for _ in range(5)]
    assert kinesis.put_records(StreamName="batch", Records=exact)["FailedRecordCount"] == 0


def test_sequence_numbers_increase_and_ordering_hint(kinesis):
    make_stream(kinesis, "seq", 2)
    seqs = []
    for i in range(50):
        kw = {"SequenceNumberForOrdering": seqs[-1]} if seqs else {}
        seqs.append(kinesis.put_record(StreamName="seq", Data=b"x", PartitionKey="same", **kw)["SequenceNumber"])
    assert [int(s) for s in seqs] == sorted(int(s) for s in seqs) and len(set(seqs)) == 50
    # an ordering hint from the other shard still yields a greater number
    other = kinesis.put_record(StreamName="seq", Data=b"x", PartitionKey="z",
                               ExplicitHashKey=str(MAX_HASH))["SequenceNumber"]
    nxt = kinesis.put_record(StreamName="seq", Data=b"x", PartitionKey="a", ExplicitHashKey="0",
                             SequenceNumberForOrdering=other)["SequenceNumber"]
    assert int(nxt) > int(other)


def test_iterator_types(kinesis, server):
    make_stream(kinesis, "its", 1)
    seqs = [kinesis.put_record(StreamName="its", Data=f"{i}".encode(), PartitionKey="k")["SequenceNumber"]
            for i in range(5)]
    latest = kinesis.get_shard_iterator(StreamName="its", ShardId=S0, ShardIteratorType="LATEST")["ShardIterator"]
    # boto3 sends timestamps in whole seconds: start the later records in a new second (of the
    # server's clock, which other tests may have moved)
    offset = server_now(server) - time.time()
    time.sleep(1.05 - (time.time() + offset) % 1)
    middle = datetime.fromtimestamp(int(time.time() + offset), timezone.utc)
    seqs += [kinesis.put_record(StreamName="its", Data=f"{i}".encode(), PartitionKey="k")["SequenceNumber"]
             for i in range(5, 8)]
    data = lambda recs: [r["Data"] for r in recs]  # noqa: E731
    assert data(read_all(kinesis, "its", S0)) == [f"{i}".encode() for i in range(8)]
    assert data(kinesis.get_records(ShardIterator=latest)["Records"]) == [b"5", b"6", b"7"]
    assert data(read_all(kinesis, "its", S0, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[3])) == \
        [f"{i}".encode() for i in range(3, 8)]
    assert data(read_all(kinesis, "its", S0, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[3])) == \
        [f"{i}".encode() for i in range(4, 8)]
    assert data(read_all(kinesis, "its", S0, "AT_TIMESTAMP", Timestamp=middle)) == [b"5", b"6", b"7"]
    assert data(read_all(kinesis, "its", S0, "AT_TIMESTAMP", Timestamp=datetime(2000, 1, 1))) == \
        [f"{i}".encode() for i in range(8)]
    # records stay after they are read, with their arrival times
    again = read_all(kinesis, "its", S0)
    assert data(again) == [f"{i}".encode() for i in range(8)]
    stamps = [r["ApproximateArrivalTimestamp"] for r in again]
    now = datetime.fromtimestamp(server_now(server), timezone.utc)
    assert stamps == sorted(stamps) and abs(stamps[-1] - now) < timedelta(seconds=30)
    assert [r["SequenceNumber"] for r in again] == seqs


def test_get_records_limit_next_iterator_and_lag(kinesis):
    make_stream(kinesis, "lim", 1)
    kinesis.put_records(StreamName="lim", Records=[{"Data": f"{i}".encode(), "PartitionKey": "k"}
                                                   for i in range(10)])
    time.sleep(0.2)
    it = kinesis.get_shard_iterator(StreamName="lim", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    first = kinesis.get_records(ShardIterator=it, Limit=4)
    assert [r["Data"] for r in first["Records"]] == [b"0", b"1", b"2", b"3"]
    assert first["MillisBehindLatest"] >= 150
    rest = kinesis.get_records(ShardIterator=first["NextShardIterator"], Limit=100)
    assert [r["Data"] for r in rest["Records"]] == [f"{i}".encode() for i in range(4, 10)]
    assert rest["MillisBehindLatest"] == 0
    empty = kinesis.get_records(ShardIterator=rest["NextShardIterator"])
    assert empty["Records"] == [] and empty["NextShardIterator"]
    kinesis.put_record(StreamName="lim", Data=b"late", PartitionKey="k")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=empty["NextShardIterator"])["Records"]] == [b"late"]
    # an old iterator can be used again: it is a position, not a cursor
    assert len(kinesis.get_records(ShardIterator=it)["Records"]) == 11


def test_get_records_caps_at_10000(kinesis):
    make_stream(kinesis, "many", 1)
    for i in range(21):
        kinesis.put_records(StreamName="many", Records=[{"Data": b"v", "PartitionKey": "k"}] * 500)
    it = kinesis.get_shard_iterator(StreamName="many", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    first = kinesis.get_records(ShardIterator=it)
    assert len(first["Records"]) == 10000
    assert len(kinesis.get_records(ShardIterator=first["NextShardIterator"])["Records"]) == 500


def test_iterator_errors(kinesis, raw, account, server):
    make_stream(kinesis, "ie", 2)
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="ie", ShardId=S0,
                         ShardIteratorType="AT_SEQUENCE_NUMBER")
    assert (code, msg) == ("InvalidArgumentException",
                           "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                           "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
                           "Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.")
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="ie", ShardId=S0, ShardIteratorType="LATEST",
                         StartingSequenceNumber="5")
    assert msg.endswith("Request specified LATEST and also a StartingSequenceNumber.")
    seq1 = kinesis.put_record(StreamName="ie", Data=b"", PartitionKey="a", ExplicitHashKey=str(MAX_HASH))
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="ie", ShardId=S0,
                         ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=seq1["SequenceNumber"])
    assert (code, msg) == ("InvalidArgumentException", "Invalid StartingSequenceNumber. It encodes "
                                                       f"{S1}, while it was used in a call to a shard with {S0}")
    # a number of no known layout ('5' is a short AWS number that encodes shard 5: see
    # test_kinesis_conformance)
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="ie", ShardId=S0,
                         ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=str(2 ** 140))
    assert msg == f"StartingSequenceNumber {2 ** 140} used in GetShardIterator on shard {S0} in stream ie under " \
                  f"account {account} is invalid."
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="ie", ShardId=S0, ShardIteratorType="AT_TIMESTAMP")
    assert code == "InvalidArgumentException" and "timestamp" in msg
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="ie", ShardId=S0, ShardIteratorType="AT_TIMESTAMP",
                         Timestamp=datetime.fromtimestamp(server_now(server) + 3600, timezone.utc))
    assert code == "InvalidArgumentException" and "cannot be greater than the currentTimestampInMillis" in msg
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="ie", ShardId="shardId-5", ShardIteratorType="LATEST")
    assert (code, msg) == ("ResourceNotFoundException",
                           f"Shard shardId-000000000005 in stream ie under account {account} does not exist")
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="nope", ShardId="7", ShardIteratorType="LATEST")
    assert msg == f"Shard shardId-000000000007 in stream nope under account {account} does not exist"
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="ie", ShardId="ABKLFD8", ShardIteratorType="LATEST")
    assert (code, msg) == ("ResourceNotFoundException",
                           f"Could not find shard ABKLFD8 in stream ie under account {account}.")
    assert kinesis.get_shard_iterator(StreamName="ie", ShardId="shard-1", ShardIteratorType="LATEST")["ShardIterator"]
    code, msg = error_of(kinesis.get_records, ShardIterator="bm90IGFuIGl0ZXJhdG9y")
    assert (code, msg) == ("InvalidArgumentException", "Invalid ShardIterator.")
    code, msg = error_of(raw.get_records, ShardIterator="x", Limit=10001)
    assert code == "ValidationException" and "less than or equal to 10000" in msg
    # a sequence number of an earlier stream of the same name is refused
    old = kinesis.put_record(StreamName="ie", Data=b"", PartitionKey="a", ExplicitHashKey="0")["SequenceNumber"]
    it = kinesis.get_shard_iterator(StreamName="ie", ShardId=S0, ShardIteratorType="LATEST")["ShardIterator"]
    kinesis.delete_stream(StreamName="ie")
    kinesis.get_waiter("stream_not_exists").wait(StreamName="ie", WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    code, msg = error_of(kinesis.get_records, ShardIterator=it)
    assert (code, msg) == ("ResourceNotFoundException",
                           f"Shard {S0} in stream ie under account {account} does not exist")
    make_stream(kinesis, "ie", 1)
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="ie", ShardId=S0,
                         ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=old)
    assert msg.endswith("is invalid because it did not come from this stream.")


def test_eight_producers_keep_per_key_order(kinesis, server, account):
    """8 threads write to 100 partition keys (PutRecords of all keys, and PutRecord to a
    slice of them, alternately): per key, each producer's records read back in the
    order written, none lost, none doubled."""
    make_stream(kinesis, "order", 4)
    rounds = 20
    errors = []

    def produce(worker: int):
        try:
            client = make_client("kinesis", server.url, access_key=account)
            for n in range(rounds):
                if n % 2 == 0:
                    client.put_records(StreamName="order", Records=[
                        {"Data": f"{worker}:{n}".encode(), "PartitionKey": f"key-{k}"} for k in range(100)])
                else:
                    for k in range(worker, 100, 8):
                        client.put_record(StreamName="order", Data=f"{worker}:{n}".encode(),
                                          PartitionKey=f"key-{k}")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seen: dict[tuple[str, int], list[int]] = {}
    for shard in range(4):
        records = read_all(kinesis, "order", f"shardId-{shard:012d}")
        seqs = [int(r["SequenceNumber"]) for r in records]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        for rec in records:
            worker, n = map(int, rec["Data"].decode().split(":"))
            assert _shard_for_n(rec["PartitionKey"], 4) == shard
            seen.setdefault((rec["PartitionKey"], worker), []).append(n)
    expected_total = 8 * (rounds // 2) * 100 + sum(len(range(w, 100, 8)) for w in range(8)) * (rounds // 2)
    assert sum(len(v) for v in seen.values()) == expected_total
    for (key, worker), ns in seen.items():
        k = int(key.split("-")[1])
        wanted = [n for n in range(rounds) if n % 2 == 0 or k % 8 == worker]
        assert ns == wanted, (key, worker)


def _shard_for_n(key: str, n: int) -> int:
    return int(_shard_for(key, n)[-12:])


@pytest.fixture
def clock_kinesis(own_server):
    return own_server, make_client("kinesis", own_server.url, access_key=new_account())


def test_iterators_expire_after_five_minutes(clock_kinesis):
    srv, k = clock_kinesis
    make_stream(k, "exp", 1)
    it = k.get_shard_iterator(StreamName="exp", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    srv.advance_clock(299)
    nxt = k.get_records(ShardIterator=it)["NextShardIterator"]
    srv.advance_clock(2)
    k.get_records(ShardIterator=nxt)  # a fresh iterator from GetRecords
    code, msg = error_of(k.get_records, ShardIterator=it)
    assert code == "ExpiredIteratorException"
    assert msg.startswith("Iterator expired. The iterator was created at time ")
    assert msg.endswith("which is further in the future than the tolerated delay of 300000 milliseconds.")


def test_retention_trims_with_the_clock(clock_kinesis):
    srv, k = clock_kinesis
    make_stream(k, "trim", 1)
    make_stream(k, "keep", 1)
    k.increase_stream_retention_period(StreamName="keep", RetentionPeriodHours=48)
    for name in ("trim", "keep"):
        k.put_records(StreamName=name, Records=[{"Data": b"old", "PartitionKey": "k"}] * 3)
    first_old = read_all(k, "trim", S0)[0]["SequenceNumber"]
    srv.advance_clock(23 * 3600)
    k.put_record(StreamName="trim", Data=b"new", PartitionKey="k")
    assert [r["Data"] for r in read_all(k, "trim", S0)] == [b"old"] * 3 + [b"new"]
    srv.advance_clock(3600 + 5)
    assert [r["Data"] for r in read_all(k, "trim", S0)] == [b"new"]
    # an iterator pointing at a trimmed record starts at the oldest one left
    assert [r["Data"] for r in read_all(k, "trim", S0, "AT_SEQUENCE_NUMBER",
                                        StartingSequenceNumber=first_old)] == [b"new"]
    assert [r["Data"] for r in read_all(k, "keep", S0)] == [b"old"] * 3
    k.decrease_stream_retention_period(StreamName="keep", RetentionPeriodHours=24)
    assert read_all(k, "keep", S0) == []


@pytest.mark.slow
def test_opt_in_throttling():
    srv = ServerProcess(extra_args=["--kinesis-throttle"]).start()
    try:
        account = new_account()
        k = make_client("kinesis", srv.url, access_key=account)
        make_stream(k, "hot", 1)
        out = k.put_records(StreamName="hot", Records=[{"Data": b"x" * 2500, "PartitionKey": "k"}] * 500)
        assert out["FailedRecordCount"] > 0
        failed = [r for r in out["Records"] if "ErrorCode" in r]
        assert failed[0]["ErrorCode"] == "ProvisionedThroughputExceededException"
        assert failed[0]["ErrorMessage"] == f"Rate exceeded for shard {S0} in stream hot under account {account}."
        assert len(out["Records"]) == 500 and out["Records"][0].get("SequenceNumber")
        code, msg = error_of(k.put_record, StreamName="hot", Data=b"x" * 300_000, PartitionKey="k")
        assert code == "ProvisionedThroughputExceededException"
        time.sleep(1.1)
        k.put_record(StreamName="hot", Data=b"x", PartitionKey="k")
        it = k.get_shard_iterator(StreamName="hot", ShardId=S0, ShardIteratorType="LATEST")["ShardIterator"]
        codes = []
        for _ in range(8):
            try:
                it = k.get_records(ShardIterator=it)["NextShardIterator"]
                codes.append("ok")
            except Exception as e:  # noqa: BLE001
                codes.append(e.response["Error"]["Code"])
        assert codes[:5] == ["ok"] * 5 and "ProvisionedThroughputExceededException" in codes[5:]
    finally:
        srv.stop()


def test_throttling_is_off_by_default(kinesis):
    make_stream(kinesis, "cold", 1)
    out = kinesis.put_records(StreamName="cold", Records=[{"Data": b"x" * 5000, "PartitionKey": "k"}] * 500)
    assert out["FailedRecordCount"] == 0

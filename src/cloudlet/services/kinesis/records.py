"""The data plane: PutRecord, PutRecords, GetShardIterator, GetRecords.

A record's counter (see ``models``) is its arrival time in microseconds made
strictly increasing per shard, so its sequence number, its store key and its
ApproximateArrivalTimestamp all come from one number.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import getrandbits

from cloudlet.protocol.validate import Violation, validation_message
from cloudlet.services.base import RequestContext
from cloudlet.services.kinesis import errors, models, store
from cloudlet.services.kinesis.common import Ref, load, parse_shard, require_data, rt, stream_ref
from cloudlet.services.kinesis.runtime import Runtime, runtime
from cloudlet.services.kinesis.service import service


def _explicit_hash(value: str) -> int:
    h = int(value)
    if h > models.MAX_HASH:
        # (observed) kinesalite's putRecord test against AWS
        raise errors.InvalidArgument("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
                                     f"[0, 2^128-1]. Specified value was {value}")
    return h


def _too_big(data: bytes, limit: int, path: str) -> errors.ServiceError:
    # (observed) "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048954
    # cap=1048954]' at 'data' failed to satisfy constraint: Member must have length less than or
    # equal to 1048576"; the limit is now the stream's MaxRecordSizeInKiB
    n = len(data)
    return errors.Validation(f"1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]' "
                             f"at '{path}' failed to satisfy constraint: Member must have length less than or "
                             f"equal to {limit}")


def _missing_partition_keys(paths: list[str]) -> errors.ServiceError:
    """A stream that routes by partition key (USER_PARTITION_KEY, every provisioned stream)
    needs one on every record. The model made PartitionKey optional for AUTO streams
    (botocore 1.44: "If the stream uses the USER_PARTITION_KEY record distribution strategy
    (the default), a partition key is required"); the answer is the one AWS gave while the
    model required it (kinesalite's putRecord test against AWS: "Value null at 'partitionKey'
    failed to satisfy constraint: Member must not be null")."""
    return errors.Validation(validation_message(
        [Violation(path, "PartitionKey", "required", "Member must not be null", None) for path in paths]))


def _check_size(data: bytes, partition_key: str, limit: int, path: str) -> None:
    if len(data) > limit:
        raise _too_big(data, limit, path)
    if len(data) + len(partition_key.encode("utf-8", "surrogatepass")) > limit:
        raise errors.InvalidArgument(f"Record size (data plus partition key) exceeds the maximum record size of "
                                     f"{limit // 1024} KiB.")


class _Writer:
    """Appends records to a stream's open shards inside one transaction."""

    def __init__(self, runtime: Runtime, tx, ref: Ref, stream: dict, now: float):
        self.tx, self.ref, self.stream, self.now = tx, ref, stream, now
        self.router = models.Router(stream)
        self.last: dict[int, int] = {}
        self.flags = store.ENCRYPTED if stream["encryption"] == "KMS" else 0
        self.runtime = runtime
        self.touched: set[int] = set()
        # AUTO (on-demand streams): records go evenly over the open shards, partition keys and
        # explicit hash keys ignored -- a random point of the hash space (the open shards split it)
        self.spread = stream.get("distribution") == "AUTO"

    def shard_for(self, partition_key: str, explicit: str | None) -> dict:
        h = _explicit_hash(explicit) if explicit is not None else None  # checked in either case
        if self.spread:
            return self.router.route(getrandbits(128))
        return self.router.route(h if h is not None else models.hash_key(partition_key))

    def admit(self, shard: dict, size: int) -> bool:
        if not self.runtime.throttle:
            return True
        key = (self.ref.account, self.ref.region, self.stream["id"], shard["index"])
        return self.runtime.admit_write(key, 1, size, self.now)

    def append(self, shard: dict, partition_key: str, data: bytes, after: int | None = None) -> str:
        index = shard["index"]
        last = self.last.get(index)
        if last is None:
            last = store.last_counter(self.tx, self.ref.account, self.ref.region, self.stream["id"], index)
        counter = models.next_counter(max(last, shard["first"] - 1), self.now)
        if after is not None and after >= counter:
            counter = after + 1
        store.put_record(self.tx, self.ref.account, self.ref.region, self.stream["id"], index, counter,
                         partition_key, data, self.flags)
        self.last[index] = counter
        self.touched.add(index)
        return models.encode_seq(counter, index, self.stream["tag"])

    def notify(self) -> None:
        for index in self.touched:
            self.runtime.notify((self.ref.account, self.ref.region, self.stream["id"], index))


def put_on_behalf(app, tx, account: str, region: str, name: str, entries: list[tuple[str, bytes]],
                  now: float) -> bool:
    """Append ``entries`` ((partition key, data) each) to stream ``name`` as another
    service does (DynamoDB's Kinesis streaming destination): in the caller's store
    transaction, routed and numbered as PutRecords does, no throughput limits.
    False when the stream does not exist or takes no records now."""
    stream = store.get_stream(tx, account, region, name, now)
    if stream is None or stream["status"] not in ("ACTIVE", "UPDATING"):
        return False
    writer = _Writer(runtime(app), tx, Ref(account, region, name), stream, now)
    for partition_key, data in entries:
        writer.append(writer.shard_for(partition_key, None), partition_key, data)
    writer.notify()
    return True


def _ordering(value: str | None, ref: Ref, now: float) -> int | None:
    """SequenceNumberForOrdering: the new record's number will be greater than it. A number
    of AWS's own layout that AWS takes (``models.aws_ordering_number_ok``) is taken too; it
    orders nothing here, every number cloudlet hands out being newer."""
    if value is None:
        return None
    decoded = models.decode_seq(value)
    if decoded is not None and models.plausible_counter(decoded[0], now):
        return decoded[0]
    if models.aws_ordering_number_ok(value, now):
        return None
    # (observed) "ExclusiveMinimumSequenceNumber x used in PutRecord on stream y under account z is invalid."
    raise errors.InvalidArgument(f"ExclusiveMinimumSequenceNumber {value} used in PutRecord on stream "
                                 f"{ref.name} under account {ref.account} is invalid.")


@service.operation("PutRecord")
def put_record(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    data, partition_key = req["Data"], req.get("PartitionKey")
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_data(stream, ref)
        if partition_key is None:
            # optional on AUTO streams only; stored as "" (a real key has at least one character)
            if stream.get("distribution") != "AUTO":
                raise _missing_partition_keys(["partitionKey"])
            partition_key = ""
        _check_size(data, partition_key, stream["max_record_kib"] * 1024, "data")
        writer = _Writer(rt(ctx), tx, ref, stream, now)
        shard = writer.shard_for(partition_key, req.get("ExplicitHashKey"))
        # after the stream and ExplicitHashKey checks, as AWS orders them (kinesalite's putRecord)
        after = _ordering(req.get("SequenceNumberForOrdering"), ref, now)
        if req.get("DryRun"):
            raise errors.dry_run()
        if not writer.admit(shard, len(data) + len(partition_key)):
            raise errors.write_throttled(models.shard_id(shard["index"]), ref.name, ref.account)
        seq = writer.append(shard, partition_key, data, after)
    writer.notify()
    out = {"ShardId": models.shard_id(shard["index"]), "SequenceNumber": seq}
    if writer.flags:
        out["EncryptionType"] = "KMS"
    return out


@service.operation("PutRecords")
def put_records(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    entries = req["Records"]
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        stream = load(tx, ctx, ref)
        require_data(stream, ref)
        limit = stream["max_record_kib"] * 1024
        request_limit = models.PUT_RECORDS_MAX_BYTES if limit <= models.DEFAULT_MAX_RECORD_KIB * 1024 \
            else models.PUT_RECORDS_MAX_BYTES_LARGE
        total = 0
        missing = []
        auto = stream.get("distribution") == "AUTO"
        for i, entry in enumerate(entries, 1):
            pk = entry.get("PartitionKey")
            if pk is None:
                # optional on AUTO streams only; stored as "" (a real key has at least one character)
                if not auto:
                    missing.append(f"records.{i}.member.partitionKey")
                pk = entry["PartitionKey"] = ""
            _check_size(entry["Data"], pk, limit, f"records.{i}.member.data")
            total += len(entry["Data"]) + len(pk.encode("utf-8", "surrogatepass"))
        if missing:
            raise _missing_partition_keys(missing)
        if total > request_limit:
            # (observed) "Records size exceeds 5 MB limit"
            raise errors.InvalidArgument(f"Records size exceeds {request_limit // (1024 * 1024)} MB limit")
        writer = _Writer(rt(ctx), tx, ref, stream, now)
        routed = [writer.shard_for(e["PartitionKey"], e.get("ExplicitHashKey")) for e in entries]
        if req.get("DryRun"):
            raise errors.dry_run()
        results, failed = [], 0
        for entry, shard in zip(entries, routed):
            if not writer.admit(shard, len(entry["Data"]) + len(entry["PartitionKey"])):
                failed += 1
                results.append({"ErrorCode": "ProvisionedThroughputExceededException",
                                "ErrorMessage": errors.write_throttled(models.shard_id(shard["index"]), ref.name,
                                                                       ref.account).message})
                continue
            seq = writer.append(shard, entry["PartitionKey"], entry["Data"])
            results.append({"SequenceNumber": seq, "ShardId": models.shard_id(shard["index"])})
    writer.notify()
    out = {"FailedRecordCount": failed, "Records": results}
    if writer.flags:
        out["EncryptionType"] = "KMS"
    return out


# ------------------------------------------------------------------ reading

_BOTH = ("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
         "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. ")


def _shard_mismatch(encoded: int, sid: str) -> str:
    # (observed) "Invalid StartingSequenceNumber. It encodes shardId-000000000005, while it was
    # used in a call to a shard with shardId-000000000000"
    return (f"Invalid StartingSequenceNumber. It encodes {models.shard_id(encoded)}, "
            f"while it was used in a call to a shard with {sid}")


def start_position(tx, ctx: RequestContext, ref: Ref, stream: dict, shard: dict, kind: str,
                   sequence: str | None, timestamp, now: float, operation: str) -> int:
    """The first counter an iterator (or a subscription) of ``kind`` reads from."""
    index = shard["index"]
    sid = models.shard_id(index)
    if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        if sequence is None:
            raise errors.InvalidArgument(_BOTH + f"Request specified {kind} and no StartingSequenceNumber.")
        decoded = models.decode_seq(sequence)
        if decoded is None or not models.plausible_counter(decoded[0], now):
            # not one of ours: read in AWS's layout for the shard it names
            foreign = models.aws_seq_shard(sequence)
            if foreign is not None and foreign != index:
                raise errors.InvalidArgument(_shard_mismatch(foreign, sid))
            # a short (version-0) one naming this shard is an InternalFailure (500) on AWS
            # (kinesalite's getShardIterator test); it names no record here, so it is invalid
            if foreign is None or models.legacy_seq_shard(sequence) is not None:
                raise errors.InvalidArgument(f"StartingSequenceNumber {sequence} used in {operation} on shard "
                                             f"{sid} in stream {ref.name} under account {ref.account} is invalid.")
            raise errors.InvalidArgument(f"StartingSequenceNumber {sequence} used in {operation} on shard {sid} "
                                         f"in stream {ref.name} under account {ref.account} is invalid because "
                                         "it did not come from this stream.")
        counter, seq_shard, tag = decoded
        if seq_shard != index:
            raise errors.InvalidArgument(_shard_mismatch(seq_shard, sid))
        if tag != stream["tag"]:
            raise errors.InvalidArgument(f"StartingSequenceNumber {sequence} used in {operation} on shard {sid} "
                                         f"in stream {ref.name} under account {ref.account} is invalid because "
                                         "it did not come from this stream.")
        return counter if kind == "AT_SEQUENCE_NUMBER" else counter + 1
    if sequence is not None:
        raise errors.InvalidArgument(_BOTH + f"Request specified {kind} and also a StartingSequenceNumber.")
    if kind == "TRIM_HORIZON":
        return shard["first"]
    if kind == "LATEST":
        if shard["closed"] is not None:
            return shard["last"]  # "a valid iterator for the last sequence number of the shard"
        last = store.last_counter(tx, ref.account, ref.region, stream["id"], index)
        return max(last + 1, shard["first"])
    # AT_TIMESTAMP
    if timestamp is None:
        raise errors.InvalidArgument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                                     "Current request has no timestamp parameter.")
    t = timestamp.timestamp()
    if t > now:
        ms, now_ms = int(t * 1000), int(now * 1000)
        raise errors.InvalidArgument("The timestampInMillis parameter cannot be greater than the "
                                     f"currentTimestampInMillis. timestampInMillis: {ms}, "
                                     f"currentTimestampInMillis: {now_ms}")
    return max(models.micros(t), shard["first"])


def _iterator_stream(ref: Ref) -> str:
    return f"{ref.account}:{ref.name}"


@service.operation("GetShardIterator")
def get_shard_iterator(ctx: RequestContext, req: dict) -> dict:
    ref = stream_ref(ctx, req)
    index = parse_shard(req["ShardId"], ref)
    sid = models.shard_id(index)
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        try:
            stream = load(tx, ctx, ref)
        except errors.ServiceError as e:
            if e.code != "ResourceNotFoundException":
                raise
            # (observed) GetShardIterator names the shard even when the stream is missing
            raise errors.shard_does_not_exist(sid, ref.name, ref.account) from None
        shard = models.find_shard(stream, index)
        if shard is None or stream["status"] == "CREATING":
            raise errors.shard_does_not_exist(sid, ref.name, ref.account)
        position = start_position(tx, ctx, ref, stream, shard, req["ShardIteratorType"],
                                  req.get("StartingSequenceNumber"), req.get("Timestamp"), now, "GetShardIterator")
    if req.get("DryRun"):
        raise errors.dry_run()
    token = models.encode_iterator(ctx.account, ctx.region, _iterator_stream(ref), index, position, now)
    return {"ShardIterator": token}


@dataclass(slots=True)
class Batch:
    records: list[dict]
    next_position: int
    size: int
    millis_behind: int
    end_of_shard: bool  # a closed shard read to its end: no more records will ever come


def read_batch(tx, ref: Ref, stream: dict, shard: dict, position: int, limit: int, now: float,
               max_bytes: int = models.GET_RECORDS_MAX_BYTES) -> Batch:
    """Records of ``shard`` from ``position``, at most ``limit`` and ``max_bytes`` (the
    first record always fits), skipping what retention has expired."""
    start = max(position, models.trim_horizon_counter(stream, now), shard["first"])
    if shard["closed"] is not None and start > shard["last"]:
        return Batch([], start, 0, 0, True)
    rows = store.read_records(tx, ref.account, ref.region, stream["id"], shard["index"], start, limit + 1)
    records, size, tag, index = [], 0, stream["tag"], shard["index"]
    next_position = start
    remaining_at = None
    for i, (counter, raw) in enumerate(rows):
        pk, data, flags = store.decode_record(raw)
        n = len(data) + len(pk)
        if i >= limit or (records and size + n > max_bytes):
            remaining_at = counter
            break
        rec = {"SequenceNumber": models.encode_seq(counter, index, tag),
               "ApproximateArrivalTimestamp": (counter // 1000) / 1000,
               "Data": data, "PartitionKey": pk}
        if not pk:
            # written to an AUTO stream without one: "this value is not returned if the producer
            # did not provide a partition key" (Record.PartitionKey, botocore 1.44)
            del rec["PartitionKey"]
        if flags & store.ENCRYPTED:
            rec["EncryptionType"] = "KMS"
        records.append(rec)
        size += n
        next_position = counter + 1
    behind = max(0, int(now * 1000) - remaining_at // 1000) if remaining_at is not None else 0
    end = shard["closed"] is not None and remaining_at is None
    return Batch(records, next_position, size, behind, end)


@service.operation("GetRecords")
def get_records(ctx: RequestContext, req: dict) -> dict:
    token = req["ShardIterator"]
    if token[:1] == '"' and token[-1:] == '"' and len(token) > 1:
        # AWS reads an iterator wrapped in double quotes (as a shell or a JSON tool may leave it)
        # as the iterator itself (LocalStack's AWS-validated
        # test_get_records_shard_iterator_with_surrounding_quotes)
        token = token[1:-1]
    decoded = models.decode_iterator(token, ctx.account, ctx.region)
    if decoded is None:
        # (observed) kinesalite's getRecords test against AWS
        raise errors.InvalidArgument("Invalid ShardIterator.")
    owner_name, index, position, issued = decoded
    account, _, name = owner_name.partition(":")
    ref = Ref(account, ctx.region, name)
    now = ctx.clock.now()
    if now - issued > models.ITERATOR_TTL:
        # (observed) "Iterator expired. The iterator was created at time Mon Jan 01 ... UTC 2024 while
        # right now it is ... which is further in the future than the tolerated delay of 300000 milliseconds."
        raise errors.ExpiredIterator(
            f"Iterator expired. The iterator was created at time {models.aws_time(issued)} while right now it is "
            f"{models.aws_time(now)} which is further in the future than the tolerated delay of "
            f"{int(models.ITERATOR_TTL * 1000)} milliseconds.")
    limit = req.get("Limit") or models.GET_RECORDS_MAX_RECORDS
    sid = models.shard_id(index)
    runtime = rt(ctx)
    with ctx.store.transaction() as tx:
        stream = store.get_stream(tx, ref.account, ref.region, ref.name, now)
        shard = models.find_shard(stream, index) if stream is not None else None
        if shard is None:
            raise errors.shard_does_not_exist(sid, ref.name, ref.account)
        key = (ref.account, ref.region, stream["id"], index)
        if req.get("DryRun"):
            raise errors.dry_run()
        if runtime.throttle and not runtime.admit_read(key, now):
            raise errors.read_throttled(sid, ref.name, ref.account)
        batch = read_batch(tx, ref, stream, shard, position, limit, now)
    if runtime.throttle:
        runtime.charge_read(key, batch.size, now)
    out: dict = {"Records": batch.records, "MillisBehindLatest": batch.millis_behind}
    if batch.end_of_shard:
        # "If set to null, the shard has been closed and the requested iterator does not return
        # any more data"; ChildShards "only when the end of the current shard is reached"
        out["ChildShards"] = models.child_shards_view(stream, index)
    else:
        out["NextShardIterator"] = models.encode_iterator(ctx.account, ctx.region, _iterator_stream(ref), index,
                                                          batch.next_position, now)
    return out

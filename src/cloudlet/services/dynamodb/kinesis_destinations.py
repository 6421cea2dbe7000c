"""Kinesis Data Streams for DynamoDB: Enable/Disable/Update/DescribeKinesisStreamingDestination.

A table streaming to a Kinesis data stream (of this account and region, served by
cloudlet's Kinesis in the same process) puts one record there per item change, in
the transaction of the change (``store.write_item`` through the table schema's
``KinesisSink``): the JSON AWS documents for it (``eventName``, ``dynamodb`` with
``Keys``, ``NewImage`` and ``OldImage``, ``ApproximateCreationDateTime`` in
milliseconds or microseconds as configured, ``SizeBytes``; ``recordFormat``
``application/json``, ``tableName``, ``userIdentity``), under a partition key made
from the item's key, so one item's changes stay in order on one shard.

The destinations are kept in the table record. An Enable answers ENABLING and an
Update UPDATING, as AWS does, and the change is complete by the next request; a
Disable answers DISABLING and the destination is listed DISABLED from then on.
"""

from __future__ import annotations

import hashlib
from random import getrandbits

import orjson

from cloudlet.protocol.errors import ServiceError
from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.errors import resource_not_found, validation
from cloudlet.services.dynamodb.service import service
from cloudlet.services.dynamodb.tables import load_table, name_of, state

_STREAMING = ("ACTIVE",)
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def _parse_stream_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, stream name) of a Kinesis stream ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "kinesis"] or not parts[5].startswith("stream/"):
        return None
    name = parts[5][len("stream/"):]
    return (parts[3], parts[4], name) if name and "/" not in name else None


class KinesisSink:
    """Where the writes of a table streaming to Kinesis put their records."""

    __slots__ = ("app", "table", "targets", "put")

    def __init__(self, app, table: str, destinations: list[dict]) -> None:
        from cloudlet.services.kinesis.records import put_on_behalf  # the Kinesis service, loaded by then

        self.put = put_on_behalf
        self.app = app
        self.table = table
        self.targets = []  # (account, region, stream name, microsecond precision?)
        for d in destinations:
            if d["Status"] in _STREAMING:
                region, account, name = _parse_stream_arn(d["StreamArn"])
                self.targets.append((account, region, name, d["Precision"] == "MICROSECOND"))

    def append(self, tx, region: str, schema, old: dict | None, new: dict | None, old_size: int, new_size: int,
               identity: dict | None) -> None:
        if old == new:
            return
        now = self.app.clock.now()
        item = new if new is not None else old
        keys = {n: item[n] for n in schema.key_names}
        size = V.item_size(keys) + (new_size if new is not None else 0) + (old_size if old is not None else 0)
        body: dict = {"Keys": keys}
        if new is not None:
            body["NewImage"] = new
        if old is not None:
            body["OldImage"] = old
        body["SizeBytes"] = size
        partition_key = hashlib.md5(orjson.dumps(keys, option=orjson.OPT_SORT_KEYS)).hexdigest()  # noqa: S324
        for account, stream_region, name, micro in self.targets:
            record = {
                "awsRegion": region,
                "eventID": "%032x" % getrandbits(128),
                "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
                "userIdentity": {"type": identity["Type"], "principalId": identity["PrincipalId"]}
                if identity else None,
                "recordFormat": "application/json",
                "tableName": self.table,
                "dynamodb": {"ApproximateCreationDateTime": int(now * 1_000_000) if micro else int(now * 1000),
                             "ApproximateCreationDateTimePrecision": "MICROSECOND" if micro else "MILLISECOND",
                             **body},
                "eventSource": "aws:dynamodb",
            }
            self.put(self.app, tx, account, stream_region, name, [(partition_key, orjson.dumps(record))], now)


def sink_for(app, record: dict) -> KinesisSink | None:
    """The sink of a table record that streams to Kinesis, else None."""
    destinations = record.get("_KinesisDestinations")
    if not destinations or not any(d["Status"] in _STREAMING for d in destinations):
        return None
    return KinesisSink(app, record["TableName"], destinations)


# ---------------------------------------------------------------- the operations

def _destination(record: dict, arn: str) -> dict | None:
    return next((d for d in record.get("_KinesisDestinations") or () if d["StreamArn"] == arn), None)


def _check_stream(ctx: RequestContext, tx, arn: str) -> None:
    """The stream must be a Kinesis stream of this account and region that exists."""
    from cloudlet.services.kinesis import store as kinesis_store

    parsed = _parse_stream_arn(arn)
    if parsed is None:
        # Not seen from AWS.
        raise validation(f"Invalid StreamArn: {arn}")
    region, account, name = parsed
    stream = None
    if (region, account) == (ctx.region, ctx.account):
        stream = kinesis_store.get_stream(tx, account, region, name, ctx.clock.now())
    if stream is None or stream["status"] == "DELETING":
        # Not seen from AWS: worded as the other not-found messages are.
        raise resource_not_found(f"Requested resource not found: Stream: {arn} not found")


def _save(ctx: RequestContext, tx, record: dict, destinations: list[dict]) -> None:
    state(ctx).tables.put(tx, ctx.account, ctx.region, dict(record, _KinesisDestinations=destinations))


def _precision(req: dict, member: str) -> str | None:
    return (req.get(member) or {}).get("ApproximateCreationDateTimePrecision")


def _streaming(record: dict, name: str, arn: str) -> dict:
    """The destination ``arn`` of a table that streams to it, or a ValidationException."""
    current = _destination(record, arn)
    if current is None or current["Status"] not in _STREAMING:
        # Not seen from AWS.
        raise validation(f"Table {name} is not streaming to {arn}")
    return current


def _answer(name: str, arn: str, status: str, config_member: str, precision: str | None) -> dict:
    out = {"TableName": name, "StreamArn": arn, "DestinationStatus": status}
    if precision is not None:
        out[config_member] = {"ApproximateCreationDateTimePrecision": precision}
    return out


@service.operation("EnableKinesisStreamingDestination")
def enable(ctx: RequestContext, req: dict) -> dict:
    name = name_of(ctx, req["TableName"])
    arn = req["StreamArn"]
    given = _precision(req, "EnableKinesisStreamingConfiguration")
    with ctx.store.transaction() as tx:
        record, _ = load_table(ctx, tx, name)
        if record["TableStatus"] != "ACTIVE":
            # Not seen from AWS.
            raise ServiceError("ResourceInUseException",
                               f"Attempt to change a resource which is still in use: Table {name} is "
                               f"{record['TableStatus']}")
        _check_stream(ctx, tx, arn)
        current = _destination(record, arn)
        if current is not None and current["Status"] in _STREAMING:
            # Not seen from AWS.
            raise ServiceError("ResourceInUseException", f"Table {name} is already streaming to {arn}")
        others = [d for d in record.get("_KinesisDestinations") or () if d["StreamArn"] != arn]
        precision = given or "MILLISECOND"
        _save(ctx, tx, record, others + [{"StreamArn": arn, "Status": "ACTIVE", "Precision": precision}])
    return _answer(name, arn, "ENABLING", "EnableKinesisStreamingConfiguration", given)


@service.operation("DisableKinesisStreamingDestination")
def disable(ctx: RequestContext, req: dict) -> dict:
    name = name_of(ctx, req["TableName"])
    arn = req["StreamArn"]
    with ctx.store.transaction() as tx:
        record, _ = load_table(ctx, tx, name)
        _streaming(record, name, arn)
        destinations = [dict(d, Status="DISABLED") if d["StreamArn"] == arn else d
                        for d in record["_KinesisDestinations"]]
        _save(ctx, tx, record, destinations)
    return _answer(name, arn, "DISABLING", "EnableKinesisStreamingConfiguration",
                   _precision(req, "EnableKinesisStreamingConfiguration"))


@service.operation("UpdateKinesisStreamingDestination")
def update(ctx: RequestContext, req: dict) -> dict:
    name = name_of(ctx, req["TableName"])
    arn = req["StreamArn"]
    given = _precision(req, "UpdateKinesisStreamingConfiguration")
    with ctx.store.transaction() as tx:
        record, _ = load_table(ctx, tx, name)
        current = _streaming(record, name, arn)
        if given is None or given == current["Precision"]:
            # Not seen from AWS.
            raise validation("The update configuration must change ApproximateCreationDateTimePrecision")
        destinations = [dict(d, Precision=given) if d["StreamArn"] == arn else d
                        for d in record["_KinesisDestinations"]]
        _save(ctx, tx, record, destinations)
    return _answer(name, arn, "UPDATING", "UpdateKinesisStreamingConfiguration", given)


@service.operation("DescribeKinesisStreamingDestination")
def describe(ctx: RequestContext, req: dict) -> dict:
    name = name_of(ctx, req["TableName"])
    with ctx.store.transaction() as tx:
        record, _ = load_table(ctx, tx, name)
    return {"TableName": name, "KinesisDataStreamDestinations": [
        {"StreamArn": d["StreamArn"], "DestinationStatus": d["Status"],
         "ApproximateCreationDateTimePrecision": d["Precision"]}
        for d in record.get("_KinesisDestinations") or ()]}

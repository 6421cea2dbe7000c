"""Tables and indexes as data: CreateTable/UpdateTable validation, the stored
table record, DescribeTable output, key extraction. Pure: ``now`` is passed in.

The stored record is a dict shaped like ``TableDescription`` (so describing is
mostly copying) plus a few private fields starting with ``_``. ``Schema`` is
the compiled, read-only view of a record that item operations use.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from cloudlet.protocol.validate import Violation, validation_message
from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.errors import invalid, key_mismatch, limit_exceeded, validation

MAX_GSI = 20
MAX_LSI = 5
MAX_PROJECTED_NON_KEY = 100  # across all indexes of a table
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")


# ---------------------------------------------------------------- names and ARNs

_VALID_NAMES: set[str] = set()  # names that passed check_table_name (bounded below)


def check_table_name(name: str, member: str = "tableName") -> str:
    if name in _VALID_NAMES:
        return name
    violations = []
    if _TABLE_NAME.fullmatch(name) is None:
        violations.append(Violation(member, "TableName", "pattern",
                                    "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name))
    if len(name) < 3:
        violations.append(Violation(member, "TableName", "length", "Member must have length greater than or equal to 3", name))
    if len(name) > 255:
        violations.append(Violation(member, "TableName", "length", "Member must have length less than or equal to 255", name))
    if violations:
        raise validation(validation_message(violations))
    if len(_VALID_NAMES) > 4096:
        _VALID_NAMES.clear()
    _VALID_NAMES.add(name)
    return name


def table_name_of(value: str, account: str, region: str, member: str = "tableName") -> str:
    """A TableName parameter may be a name or a table ARN."""
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) != 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
            raise validation(f"Invalid TableArn: {value}")
        name = check_table_name(parts[5].split("/")[1], member)
        if parts[3] != region or parts[4] != account:
            # A table of another account/region is not reachable from here:
            # a name no table can have (the pattern excludes spaces) -> not found.
            return name + " (" + parts[4] + "/" + parts[3] + ")"
        return name
    return check_table_name(value, member)


def table_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def parse_arn(arn: str) -> tuple[str, str, str] | None:
    """(account, region, table name) of a table (or index/stream) ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "dynamodb":
        return None
    res = parts[5].split("/")
    if len(res) < 2 or res[0] != "table":
        return None
    return parts[4], parts[3], res[1]


def java_date(ts: float) -> str:
    """How AWS words a time in its decrease-limit message: 'Friday, October 9, 2026 at
    1:21:34 AM Coordinated Universal Time'."""
    d = datetime.fromtimestamp(ts, timezone.utc)
    hour = d.hour % 12 or 12
    return (f"{d.strftime('%A, %B')} {d.day}, {d.year} at {hour}:{d.strftime('%M:%S')} "
            f"{'AM' if d.hour < 12 else 'PM'} Coordinated Universal Time")


def decreases_today(pt: dict, now: float) -> int:
    """NumberOfDecreasesToday: the count restarts at 00:00 UTC."""
    last = pt.get("LastDecreaseDateTime")
    if last is None or last // 86400 != now // 86400:
        return 0
    return pt.get("NumberOfDecreasesToday", 0)


def copy_record(record: dict) -> dict:
    """A table record to change: its lists and dicts copied one level down."""
    return {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v) for k, v in record.items()}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


# ---------------------------------------------------------------- compiled view

@dataclass(slots=True)
class Index:
    name: str
    kind: str  # "gsi" | "lsi"
    hash_name: str
    hash_type: str
    range_name: str | None
    range_type: str | None
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    include: tuple[str, ...]
    status: str
    key_names: tuple[str, ...]  # index keys then table keys, de-duplicated

    def project(self, item: dict) -> dict:
        if self.projection == "ALL":
            return item
        keep = set(self.key_names)
        keep.update(self.include)
        return {k: v for k, v in item.items() if k in keep}

    def projects(self, attr: str) -> bool:
        return self.projection == "ALL" or attr in self.key_names or attr in self.include


@dataclass(slots=True)
class Schema:
    name: str
    id: str
    hash_name: str
    hash_type: str
    range_name: str | None
    range_type: str | None
    indexes: dict[str, Index] = field(default_factory=dict)
    ttl_attribute: str | None = None
    lsis: tuple[Index, ...] = ()  # the local secondary indexes (item collections are tracked)
    # where writes append stream records: a store.StreamSink while the table's stream is
    # enabled (set by store.Tables, which knows the clock), else None
    stream: object | None = None
    # where writes are copied to: a store.ReplicaSink while the table is a global table
    # replica with other replicas (set by store.Tables), else None
    replicas: object | None = None
    # where writes append their old images for point-in-time recovery: a history.Sink
    # while it is enabled (set by store.Tables), else None
    history: object | None = None
    # where writes put their records for Kinesis streaming destinations: a
    # kinesis_destinations.KinesisSink while one is active (set by store.Tables), else None
    kinesis: object | None = None

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_name, self.range_name) if self.range_name else (self.hash_name,)

    # -- keys in requests and items

    def key_of_request(self, key: dict) -> dict:
        """Validate a ``Key`` parameter: exactly the table's key attributes, of the right types."""
        if not isinstance(key, dict) or len(key) != len(self.key_names):
            raise key_mismatch()
        checked = {}
        for name, type_ in ((self.hash_name, self.hash_type), (self.range_name, self.range_type)):
            if name is None:
                continue
            value = key.get(name)
            if value is None:
                raise key_mismatch()
            value = V.check_value(value)
            if V.value_type(value) != type_:
                raise key_mismatch()
            _check_key_value(name, value, name == self.hash_name)
            checked[name] = value
        return checked

    def key_of_item(self, item: dict, batch: bool = False) -> dict:
        """The key of an item being written; AWS's 'Missing the key' / 'Type mismatch' texts
        (a BatchWriteItem PutRequest gets 'The provided key element does not match the schema')."""
        key = {}
        for name, type_ in ((self.hash_name, self.hash_type), (self.range_name, self.range_type)):
            if name is None:
                continue
            value = item.get(name)
            if value is None:
                if batch:
                    raise key_mismatch()
                raise invalid(f"Missing the key {name} in the item")
            actual = V.value_type(value)
            if actual != type_:
                if batch:
                    raise key_mismatch()
                raise invalid(f"Type mismatch for key {name} expected: {type_} actual: {actual}")
            _check_key_value(name, value, name == self.hash_name)
            key[name] = value
        return key

    def key_parts(self, key: dict) -> tuple:
        if self.range_name is None:
            return (V.key_part(key[self.hash_name]),)
        return (V.key_part(key[self.hash_name]), V.key_part(key[self.range_name]))

    def key_from_parts(self, parts: tuple) -> dict:
        key = {self.hash_name: V.part_value(self.hash_type, parts[0])}
        if self.range_name is not None:
            key[self.range_name] = V.part_value(self.range_type, parts[1])
        return key

    def extract_key(self, item: dict) -> dict:
        return {n: item[n] for n in self.key_names}

    def check_index_keys(self, item: dict, update: bool = False) -> None:
        """Index key attributes present in an item must have the index's types
        and be non-empty (AWS rejects the write; an update gets its own text)."""
        for index in self.indexes.values():
            for name, type_ in ((index.hash_name, index.hash_type), (index.range_name, index.range_type)):
                if name is None or name in self.key_names:
                    continue
                value = item.get(name)
                if value is None:
                    continue
                actual = V.value_type(value)
                if actual != type_:
                    raise invalid(f"Type mismatch for Index Key {name} Expected: {type_} Actual: {actual} IndexName: {index.name}")
                if actual in ("S", "B") and len(value[actual]) == 0:
                    kind = "string" if actual == "S" else "binary"
                    if update:
                        raise validation(
                            "One or more parameter values are not valid. The update expression attempted to update "
                            "a secondary index key to a value that is not supported. The AttributeValue for a key "
                            f"attribute cannot contain an empty {kind} value.")
                    raise validation(
                        "One or more parameter values are not valid. A value specified for a secondary index key "
                        f"is not supported. The AttributeValue for a key attribute cannot contain an empty {kind} "
                        f"value. IndexName: {index.name}, IndexKey: {name}")
                _check_key_value(name, value, name == index.hash_name)

    def index_parts(self, index: Index, item: dict) -> tuple | None:
        """The index key parts of an item, or None when the item is not in the (sparse) index."""
        h = item.get(index.hash_name)
        if h is None or V.value_type(h) != index.hash_type:
            return None
        if index.range_name is None:
            return (V.key_part(h),)
        r = item.get(index.range_name)
        if r is None or V.value_type(r) != index.range_type:
            return None
        return (V.key_part(h), V.key_part(r))


def _check_key_value(name: str, value: dict, is_hash: bool) -> None:
    t = V.value_type(value)
    if t in ("S", "B") and len(value[t]) == 0:
        kind = "string" if t == "S" else "binary"
        raise validation("One or more parameter values are not valid. The AttributeValue for a key attribute "
                         f"cannot contain an empty {kind} value. Key: {name}")
    size = V.key_size(value)
    if is_hash and size > V.MAX_HASH_KEY_SIZE:
        raise invalid("Size of hashkey has exceeded the maximum size limit of2048 bytes")
    if not is_hash and size > V.MAX_RANGE_KEY_SIZE:
        raise invalid("Aggregated size of all range keys has exceeded the size limit of 1024 bytes")


def compile_schema(record: dict) -> Schema:
    types = {d["AttributeName"]: d["AttributeType"] for d in record["AttributeDefinitions"]}
    ks = record["KeySchema"]
    h = ks[0]["AttributeName"]
    r = ks[1]["AttributeName"] if len(ks) > 1 else None
    table_keys = (h, r) if r else (h,)
    schema = Schema(record["TableName"], record["TableId"], h, types[h], r, types.get(r) if r else None)
    for kind, key in (("lsi", "LocalSecondaryIndexes"), ("gsi", "GlobalSecondaryIndexes")):
        for ix in record.get(key) or ():
            iks = ix["KeySchema"]
            ih = iks[0]["AttributeName"]
            ir = iks[1]["AttributeName"] if len(iks) > 1 else None
            names = [ih] + ([ir] if ir else [])
            names += [n for n in table_keys if n not in names]
            proj = ix.get("Projection") or {}
            schema.indexes[ix["IndexName"]] = Index(
                ix["IndexName"], kind, ih, types[ih], ir, types.get(ir) if ir else None,
                proj.get("ProjectionType") or "ALL", tuple(proj.get("NonKeyAttributes") or ()),
                ix.get("IndexStatus", "ACTIVE"), tuple(names))
    # by name: an item that breaks several indexes is refused naming the first (as AWS does)
    schema.indexes = dict(sorted(schema.indexes.items()))
    schema.lsis = tuple(ix for ix in schema.indexes.values() if ix.kind == "lsi")
    ttl = record.get("TimeToLive") or {}
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        schema.ttl_attribute = ttl.get("AttributeName")
    return schema


# ---------------------------------------------------------------- CreateTable

def _key_schema(ks: list, defs: dict, where: str = "") -> None:
    if len(ks) > 2:
        raise validation(validation_message([Violation(
            where + "keySchema", "KeySchema", "length", "Member must have length less than or equal to 2",
            "[" + ", ".join("KeySchemaElement(attributeName=%s, keyType=%s)" % (k["AttributeName"], k["KeyType"]) for k in ks) + "]")]))
    names = [k["AttributeName"] for k in ks]
    if any(n not in defs for n in names):
        raise invalid("Some index key attributes are not defined in AttributeDefinitions. "
                      f"Keys: [{', '.join(names)}], AttributeDefinitions: [{', '.join(defs)}]")
    if len(names) == 2 and names[0] == names[1]:
        raise validation("Invalid KeySchema: Some index key attribute have no definition")
    if ks[0]["KeyType"] != "HASH":
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(ks) == 2 and ks[1]["KeyType"] != "RANGE":
        raise validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")


def _projection(ix: dict) -> dict:
    proj = ix.get("Projection") or {}
    ptype = proj.get("ProjectionType")
    if ptype is None:
        raise invalid("Unknown ProjectionType: null")
    nka = proj.get("NonKeyAttributes")
    if nka is not None and ptype != "INCLUDE":
        raise invalid(f"ProjectionType is {ptype}, but NonKeyAttributes is specified")
    if ptype == "INCLUDE" and not nka:
        raise invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    if nka is not None and len(set(nka)) != len(nka):
        dup = next(a for a in nka if nka.count(a) > 1)
        raise invalid(f"Duplicate element in NonKeyAttributes: {dup}")
    return {"ProjectionType": ptype, **({"NonKeyAttributes": list(nka)} if nka else {})}


def _throughput(pt: dict | None, billing: str, what: str) -> dict:
    if billing == "PAY_PER_REQUEST":
        return {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0}
    for unit in ("ReadCapacityUnits", "WriteCapacityUnits"):
        v = pt[unit]
        if v < 1:
            raise validation(validation_message([Violation(f"{what}.{unit[0].lower()}{unit[1:]}", unit, "range",
                                                            "Member must have value greater than or equal to 1", v)]))
        if v > 1_000_000_000_000:
            raise validation(f"Given value {v} for {unit} is out of bounds")
    return {"ReadCapacityUnits": pt["ReadCapacityUnits"], "WriteCapacityUnits": pt["WriteCapacityUnits"],
            "NumberOfDecreasesToday": 0}


TABLE_MAX_UNITS = 40000  # DescribeLimits' TableMaxReadCapacityUnits / TableMaxWriteCapacityUnits


def check_table_maximum(pt: dict, region: str) -> None:
    """A table's provisioned units above the account's per-table maximum: AWS's text, observed
    live (ack-api-quirks dynamodb DDB-TABLE-443)."""
    for unit in ("ReadCapacityUnits", "WriteCapacityUnits"):
        if pt[unit] > TABLE_MAX_UNITS:
            raise limit_exceeded(f"The requested {unit}, {pt[unit]}, is above the per table maximum for the account "
                                 f"in {region}. Per table maximum: {TABLE_MAX_UNITS}. Refer to the Amazon DynamoDB "
                                 "Developer Guide for current limits and how to request higher limits.")


def new_table(req: dict, name: str, account: str, region: str, now: float) -> dict:
    """Validate a CreateTable request; return the table record (status CREATING)."""
    defs_list = req["AttributeDefinitions"]
    defs: dict[str, str] = {}
    for d in defs_list:
        if d["AttributeName"] in defs:
            # AWS's text, observed live (ack-api-quirks dynamodb DDB-TABLE-442)
            raise validation(f"Attribute Name is duplicated: {d['AttributeName']}")
        defs[d["AttributeName"]] = d["AttributeType"]
    ks = req["KeySchema"]
    billing = req.get("BillingMode") or "PROVISIONED"
    pt = req.get("ProvisionedThroughput")
    if billing == "PAY_PER_REQUEST":
        if pt is not None:
            raise invalid("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
    elif pt is None:
        raise invalid("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
    _key_schema(ks, defs)
    used = {k["AttributeName"] for k in ks}
    lsis = req.get("LocalSecondaryIndexes")
    gsis = req.get("GlobalSecondaryIndexes")
    seen_names: set[str] = set()
    lsi_out, gsi_out = [], []
    arn = table_arn(account, region, name)
    if lsis is not None:
        if not lsis:
            raise invalid("List of LocalSecondaryIndexes is empty")
        if len(ks) != 2:
            raise invalid("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
        for ix in lsis:
            iks = ix["KeySchema"]
            _key_schema(iks, defs)
            if len(iks) != 2:
                raise invalid(f"Index KeySchema does not have a range key for index: {ix['IndexName']}")
            if iks[0]["AttributeName"] != ks[0]["AttributeName"]:
                raise invalid(f"Index KeySchema does not have the same leading hash key as table KeySchema for index: "
                              f"{ix['IndexName']}. index hash key: {iks[0]['AttributeName']}, table hash key: {ks[0]['AttributeName']}")
            proj = _projection(ix)
            if ix["IndexName"] in seen_names:
                raise invalid(f"Duplicate index name: {ix['IndexName']}")
            seen_names.add(ix["IndexName"])
            used.update(k["AttributeName"] for k in iks)
            lsi_out.append({"IndexName": ix["IndexName"], "KeySchema": iks, "Projection": proj,
                            "IndexArn": f"{arn}/index/{ix['IndexName']}"})
        if len(lsis) > MAX_LSI:
            raise invalid("Number of LocalSecondaryIndexes exceeds per-table limit of 5")
    if gsis is not None:
        if not gsis:
            raise invalid("List of GlobalSecondaryIndexes is empty")
        for ix in gsis:
            gsi_out.append(new_gsi(ix, defs, billing, arn))
            if ix["IndexName"] in seen_names:
                raise invalid(f"Duplicate index name: {ix['IndexName']}")
            seen_names.add(ix["IndexName"])
            used.update(k["AttributeName"] for k in ix["KeySchema"])
        if len(gsis) > MAX_GSI:
            raise invalid("GlobalSecondaryIndex count exceeds the per-table limit of 20")
    if set(defs) != used:
        if lsis is None and gsis is None:
            raise invalid("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
        raise invalid(f"Some AttributeDefinitions are not used. AttributeDefinitions: [{', '.join(defs)}], "
                      f"keys used: [{', '.join(sorted(used))}]")
    _check_projected_count(lsi_out + gsi_out)
    throughput = _throughput(pt, billing, "provisionedThroughput")
    if billing == "PROVISIONED":
        check_table_maximum(pt, region)
    record = {
        "TableName": name,
        "TableId": str(uuid.uuid4()),
        "TableArn": arn,
        "AttributeDefinitions": defs_list,
        "KeySchema": ks,
        "TableStatus": "CREATING",
        "CreationDateTime": now,
        "ProvisionedThroughput": throughput,
        "BillingMode": billing,
        "_BillingModeGiven": "BillingMode" in req,
        "DeletionProtectionEnabled": bool(req.get("DeletionProtectionEnabled", False)),
    }
    if lsi_out:
        record["LocalSecondaryIndexes"] = lsi_out
    if gsi_out:
        record["GlobalSecondaryIndexes"] = gsi_out
    if billing == "PAY_PER_REQUEST":
        record["LastUpdateToPayPerRequestDateTime"] = now
    stream = req.get("StreamSpecification")
    if stream is not None:
        if stream.get("StreamEnabled") and not stream.get("StreamViewType"):
            raise invalid("Table is being created with a stream enabled, UpdateViewType is required")
        if not stream.get("StreamEnabled") and stream.get("StreamViewType"):
            raise invalid("Table is being created with a stream disabled, UpdateViewType should not be specified")
        set_stream(record, stream, now)
    sse = req.get("SSESpecification")
    if sse is not None:
        check_sse(sse)
    if sse is not None and sse.get("Enabled"):
        record["SSEDescription"] = sse_description(sse, account, region)
    if req.get("TableClass"):
        record["TableClass"] = req["TableClass"]
    if req.get("OnDemandThroughput") is not None:
        check_on_demand(req["OnDemandThroughput"], billing)
    warm = req.get("WarmThroughput") or {}
    if billing == "PAY_PER_REQUEST":
        for k in ("ReadUnitsPerSecond", "WriteUnitsPerSecond"):
            if warm.get(k) is not None and warm[k] < ON_DEMAND_WARM[k]:
                # AWS's text, observed live (ack-api-quirks dynamodb DDB-TABLE-442 and its probes)
                raise invalid(f"Requested {k} for WarmThroughput for table is lower than initial throughput for "
                              "OnDemand. See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                              "on-demand-capacity-mode.html#on-demand-capacity-mode-initial")
    if billing == "PROVISIONED" and pt:
        for k, unit in (("ReadUnitsPerSecond", "ReadCapacityUnits"), ("WriteUnitsPerSecond", "WriteCapacityUnits")):
            if warm.get(k) is not None and warm[k] < pt[unit]:
                # AWS's text, observed live (ack-api-quirks dynamodb DDB-TABLE-442)
                raise invalid(f"Requested {k} for WarmThroughput for table is lower than {unit} of "
                              "ProvisionedThroughput")
    for extra in ("OnDemandThroughput", "WarmThroughput"):
        if req.get(extra) is not None:
            record[extra] = dict(req[extra])
    if req.get("Tags"):
        check_tags(req["Tags"])
        record["Tags"] = list(req["Tags"])
    if req.get("ResourcePolicy") is not None:
        check_policy(req["ResourcePolicy"])
    if req.get("ResourcePolicy"):
        record["ResourcePolicy"] = {"Policy": req["ResourcePolicy"], "RevisionId": str(int(now * 1000))}
    return record


def tag_text_ok(text: str) -> bool:
    """AWS's tag pattern: letters, digits and spaces of any script, and _ . : / = + - @."""
    return all(ch in "_.:/=+-@" or unicodedata.category(ch)[0] in "LNZ" for ch in text)


def check_tags(tags: list) -> None:
    """A tag list AWS accepts (TagResource, CreateTable); all or nothing."""
    seen = set()
    for t in tags:
        key, value = t["Key"], t["Value"]
        if not tag_text_ok(key):
            raise validation(f"The Tag Key provided is invalid, Key: {key}")
        if not tag_text_ok(value):
            raise validation(f"The Tag Value provided is invalid, Value: {value}")
        if key.startswith("aws:"):
            raise validation(f"Tag Key cannot be prefixed with aws:, Key: {key}")
        if key in seen:
            raise validation(f"Duplicate Tag Keys provided as input: Duplicate Tag Key found {key}")
        seen.add(key)


def check_policy(policy: str) -> None:
    """The document checks AWS makes before storing a policy (it never evaluates it)."""
    try:
        doc = json.loads(policy)
    except ValueError:
        raise invalid("Invalid policy document: This policy contains invalid Json") from None
    if doc is None:
        raise invalid("Invalid policy document: This text appears not to be a policy")
    if not isinstance(doc, dict):
        raise invalid("Invalid policy document: This policy contains invalid Json")
    if not doc:
        raise invalid("Invalid policy document: Syntax error at position (1,3)")
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if isinstance(statements, list):
        if not statements:
            raise invalid("Invalid policy document: Could not parse the policy: Statement is empty!")
        for st in statements:
            if isinstance(st, dict) and "Effect" not in st:
                raise invalid("Invalid policy document: Missing required field Effect")


def new_gsi(ix: dict, defs: dict, billing: str, table_arn_: str) -> dict:
    iks = ix["KeySchema"]
    _key_schema(iks, defs)
    proj = _projection(ix)
    pt = ix.get("ProvisionedThroughput")
    if billing == "PAY_PER_REQUEST" and pt is not None:
        raise invalid(f"ProvisionedThroughput should not be specified for index: {ix['IndexName']} when BillingMode is PAY_PER_REQUEST")
    if billing != "PAY_PER_REQUEST" and pt is None:
        raise invalid(f"ProvisionedThroughput is not specified for index: {ix['IndexName']}")
    out = {"IndexName": ix["IndexName"], "KeySchema": iks, "Projection": proj, "IndexStatus": "CREATING",
           "ProvisionedThroughput": _throughput(pt, billing, "provisionedThroughput"),
           "IndexArn": f"{table_arn_}/index/{ix['IndexName']}"}
    for extra in ("OnDemandThroughput", "WarmThroughput"):
        if ix.get(extra) is not None:
            out[extra] = dict(ix[extra])
    return out


def _check_projected_count(indexes: list) -> None:
    total = sum(len(ix["Projection"].get("NonKeyAttributes") or ()) for ix in indexes)
    if total > MAX_PROJECTED_NON_KEY:
        raise invalid(f"The number of projected attributes in all indexes exceeds the per-table limit of {MAX_PROJECTED_NON_KEY}")


def set_stream(record: dict, spec: dict, now: float) -> None:
    if spec.get("StreamEnabled"):
        label = iso(now)
        record["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec["StreamViewType"]}
        record["LatestStreamLabel"] = label
        record["LatestStreamArn"] = f"{record['TableArn']}/stream/{label}"
    else:
        record["StreamSpecification"] = {"StreamEnabled": False}


def check_on_demand(odt: dict, billing: str, clear_ok: bool = False) -> None:
    """A table's OnDemandThroughput (CreateTable, UpdateTable) in AWS's words (observed live:
    ack-api-quirks dynamodb DDB-TABLE-442): none on a provisioned table, and each maximum at
    least 1 (-1, no maximum, only where an UpdateTable clears it)."""
    for unit in ("MaxReadRequestUnits", "MaxWriteRequestUnits"):
        v = odt.get(unit)
        if v is None:
            continue
        if billing == "PROVISIONED":
            if not clear_ok:  # CreateTable words it a little differently (DDB-TABLE-024)
                raise invalid(f"{unit} for OnDemandThroughput cannot be specified when table BillingMode is "
                              "PROVISIONED.")
            raise invalid(f"{unit} for OnDemandThroughput cannot be specified when the table BillingMode is "
                          "PROVISIONED")
        if v < 1 and not (clear_ok and v == -1):
            raise invalid(f"Requested {unit} for OnDemandThroughput for table is outside of valid range")


def check_sse(sse: dict) -> None:
    """An SSESpecification's own rules (CreateTable, UpdateTable, restores), in AWS's words
    (observed live: ack-api-quirks dynamodb DDB-TABLE-442)."""
    if not sse.get("Enabled"):  # the AWS-owned key: nothing more may be said
        if sse.get("SSEType") is not None:
            raise invalid("SSEType can not be specified if Enabled is false")
        if sse.get("KMSMasterKeyId") is not None:
            raise invalid("KMSMasterKeyId can not be specified if Enabled is false")
    if sse.get("SSEType") == "AES256":
        raise invalid("SSEType AES256 is not supported")
    if sse.get("KMSMasterKeyId") is not None and sse.get("SSEType") != "KMS":
        raise invalid("SSEType KMS is required if KMSMasterKeyId is specified")


def sse_description(sse: dict, account: str, region: str) -> dict:
    key = sse.get("KMSMasterKeyId") or "alias/aws/dynamodb"
    if not key.startswith("arn:"):
        key = f"arn:aws:kms:{region}:{account}:key/{uuid.uuid5(uuid.NAMESPACE_URL, key)}"
    return {"Status": "ENABLED", "SSEType": sse.get("SSEType") or "KMS", "KMSMasterKeyArn": key}


# ---------------------------------------------------------------- DescribeTable

# What a new on-demand table or GSI can serve at once, described as its
# WarmThroughput until a higher value is asked for.
ON_DEMAND_WARM = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000}


def _warm_floor(billing: str, pt: dict | None, was_on_demand) -> dict:
    """What a table or GSI can serve without being asked: 12000/4000 on demand
    (kept after a switch back), else the highest units ever provisioned."""
    floor = dict(ON_DEMAND_WARM) if billing == "PAY_PER_REQUEST" or was_on_demand else {}
    if billing != "PAY_PER_REQUEST" and pt:
        for k, unit in (("ReadUnitsPerSecond", "ReadCapacityUnits"), ("WriteUnitsPerSecond", "WriteCapacityUnits")):
            floor[k] = max(floor.get(k, 0), pt.get(unit) or 0)
    return floor


def _warm(given: dict | None, floor: dict, status: str) -> dict | None:
    warm = {k: max(floor.get(k) or 0, (given or {}).get(k) or 0) for k in ON_DEMAND_WARM}
    if not any(warm.values()):
        return None
    warm["Status"] = status if status in ("CREATING", "UPDATING", "DELETING") else "ACTIVE"
    return warm


def index_warm(ix: dict, billing: str) -> dict:
    """A GSI's WarmThroughput as DescribeTable shows it (units only)."""
    return _warm(ix.get("WarmThroughput"), _warm_floor(billing, ix.get("ProvisionedThroughput"), None), "ACTIVE") or {}


def table_warm(record: dict) -> dict:
    """The table's WarmThroughput as DescribeTable shows it (units only)."""
    floor = _warm_floor(record.get("BillingMode", "PROVISIONED"),
                        record.get("_MaxProvisioned") or record.get("ProvisionedThroughput"),
                        record.get("LastUpdateToPayPerRequestDateTime"))
    return _warm(record.get("WarmThroughput"), floor, "ACTIVE") or {}


def describe(record: dict, stats: dict | None, now: float | None = None) -> dict:
    """TableDescription from the stored record and the live counters."""
    stats = stats or {}
    out = {k: v for k, v in record.items() if not k.startswith("_") and k not in (
        "BillingMode", "Tags", "TimeToLive", "ResourcePolicy", "LastUpdateToPayPerRequestDateTime", "TableClass")}
    out["ItemCount"] = stats.get("count", 0)
    out["TableSizeBytes"] = stats.get("size", 0)
    billing = record.get("BillingMode", "PROVISIONED")
    if now is not None and "ProvisionedThroughput" in out:
        out["ProvisionedThroughput"] = {**out["ProvisionedThroughput"],
                                        "NumberOfDecreasesToday": decreases_today(out["ProvisionedThroughput"], now)}
    # absent on a table that was never on demand, even when BillingMode PROVISIONED was given
    if billing == "PAY_PER_REQUEST" or record.get("LastUpdateToPayPerRequestDateTime"):
        summary = {"BillingMode": billing}
        if record.get("LastUpdateToPayPerRequestDateTime"):
            summary["LastUpdateToPayPerRequestDateTime"] = record["LastUpdateToPayPerRequestDateTime"]
        out["BillingModeSummary"] = summary
    if record.get("TableClass"):
        out["TableClassSummary"] = {"TableClass": record["TableClass"]}
        if record.get("_TableClassUpdatedAt") is not None:
            # set by an UpdateTable that changed it, not by CreateTable (scylladb's Alternator
            # test_tableclass.py, checked against DynamoDB)
            out["TableClassSummary"]["LastUpdateDateTime"] = record["_TableClassUpdatedAt"]
    for key in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if key in record:
            ixs = []
            for ix in record[key]:
                d = dict(ix)
                s = stats.get("ix", {}).get(ix["IndexName"], {})
                d["ItemCount"] = s.get("count", 0)
                d["IndexSizeBytes"] = s.get("size", 0)
                if key == "GlobalSecondaryIndexes":
                    if ix.get("IndexStatus") == "CREATING":
                        d["Backfilling"] = bool(ix.get("_Backfilling", False))
                    warm = _warm(ix.get("WarmThroughput"), _warm_floor(billing, ix.get("ProvisionedThroughput"), None),
                                 ix.get("IndexStatus", "ACTIVE"))
                    if warm:
                        d["WarmThroughput"] = warm
                ixs.append({k: v for k, v in d.items() if not k.startswith("_")})
            out[key] = ixs
    floor = _warm_floor(billing, record.get("_MaxProvisioned") or record.get("ProvisionedThroughput"),
                        record.get("LastUpdateToPayPerRequestDateTime"))
    warm = _warm(record.get("WarmThroughput"), floor, record.get("TableStatus", "ACTIVE"))
    if warm:
        out["WarmThroughput"] = warm
    if "StreamSpecification" in out and not out["StreamSpecification"].get("StreamEnabled"):
        # AWS omits a disabled stream spec but keeps the last stream's ARN/label.
        del out["StreamSpecification"]
    return out

"""Query and Scan, on tables and on secondary indexes.

A Query page is one range read of the store between bounds derived from the
key condition (O(log n + page)); a Scan segment is a contiguous range of the
partition-hash space (see ``store``). Both stop at ``Limit`` evaluated items or
1 MB of data read, whichever comes first, and return ``LastEvaluatedKey``
then -- as DynamoDB does, even when nothing follows.
"""

from __future__ import annotations

import functools

from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import capacity as C
from cloudlet.services.dynamodb import exprs as E
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.errors import invalid, validation
from cloudlet.services.dynamodb.expressions import parse_key_condition
from cloudlet.services.dynamodb.expressions.validate import java_hash_set_order
from cloudlet.services.dynamodb.items import Target, open_table, item_loader
from cloudlet.services.dynamodb.schema import Index
from cloudlet.services.dynamodb.service import service
from cloudlet.storage import keys as keycodec

PAGE_BYTES = 1024 * 1024
# Exclusive upper bounds for "begins with": a string/binary extended by these
# sorts after every realistic extension of the prefix.
_STR_TOP = "\U0010ffff" * 16
_BIN_TOP = b"\xff" * 64


class Source:
    """Where a read reads: the table or one of its indexes."""

    def __init__(self, target: Target, index: Index | None):
        self.target = target
        self.index = index
        schema = target.schema
        if index is None:
            self.hash_name, self.hash_type = schema.hash_name, schema.hash_type
            self.range_name, self.range_type = schema.range_name, schema.range_type
        else:
            self.hash_name, self.hash_type = index.hash_name, index.hash_type
            self.range_name, self.range_type = index.range_name, index.range_type

    def all_prefix(self, ctx) -> tuple:
        s = self.target.schema
        if self.index is None:
            return S.items_prefix(ctx.account, ctx.region, s.id)
        return S.index_prefix(ctx.account, ctx.region, s.id, self.index.name)

    def partition_prefix(self, ctx, hk) -> tuple:
        s = self.target.schema
        if self.index is None:
            return S.partition_prefix(ctx.account, ctx.region, s.id, hk)
        return S.index_partition_prefix(ctx.account, ctx.region, s.id, self.index.name, hk)

    def store_key(self, ctx, item_key: dict) -> tuple:
        """The store key of an ExclusiveStartKey / item."""
        s = self.target.schema
        tparts = s.key_parts(item_key)
        if self.index is None:
            return S.item_key(ctx.account, ctx.region, s.id, tparts)
        iparts = s.index_parts(self.index, item_key)
        return S.index_key(ctx.account, ctx.region, s.id, self.index.name, iparts, tparts)

    def last_key(self, item: dict) -> dict:
        s = self.target.schema
        names = list(s.key_names)
        if self.index is not None:
            names += [n for n in (self.index.hash_name, self.index.range_name) if n and n not in names]
        return {n: item[n] for n in names}

    def check_start_key(self, esk: dict, query: bool = False) -> dict:
        s = self.target.schema
        names = set(s.key_names)
        if self.index is not None:
            names.update(n for n in (self.index.hash_name, self.index.range_name) if n)
        if set(esk) != names:
            if query:  # Query says less than Scan (nubo-db/dynamodb-conformance tier3 query, run against AWS)
                raise validation("The provided starting key is invalid")
            raise validation("The provided starting key is invalid: The provided key element does not match the schema")
        checked = {}
        types = {s.hash_name: s.hash_type}
        if s.range_name:
            types[s.range_name] = s.range_type
        if self.index is not None:
            types[self.index.hash_name] = self.index.hash_type
            if self.index.range_name:
                types[self.index.range_name] = self.index.range_type
        for n, v in esk.items():
            v = V.check_value(v)
            if V.value_type(v) != types[n]:
                raise validation("The provided starting key is invalid: The provided key element does not match the schema")
            checked[n] = v
        return checked


def _source(ctx, tx, req: dict) -> Source:
    target = open_table(ctx, tx, req["TableName"])
    index_name = req.get("IndexName")
    if index_name is None:
        return Source(target, None)
    index = target.schema.indexes.get(index_name)
    if index is None:
        raise validation(f"The table does not have the specified index: {index_name}")
    if index.kind == "gsi" and index.status == "CREATING":
        raise validation(f"Cannot read from backfilling global secondary index: {index_name}")
    if index.kind == "gsi" and req.get("ConsistentRead"):
        raise validation("Consistent reads are not supported on global secondary indexes")
    return Source(target, index)


def _select(req: dict, source: Source, compiled: E.Compiled, query: bool = False) -> str:
    select = req.get("Select")
    has_projection = compiled.project is not None
    if select is None:
        select = "SPECIFIC_ATTRIBUTES" if has_projection else (
            "ALL_PROJECTED_ATTRIBUTES" if source.index is not None else "ALL_ATTRIBUTES")
    if select == "SPECIFIC_ATTRIBUTES" and not has_projection:
        # AWS refuses it, Query in its framework's envelope and Scan bare (nubo-db/dynamodb-conformance
        # tier3 query and scan, run against AWS; dynoxide issue 121)
        raise validation(("1 validation error detected: " if query else "")
                         + "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
                           "SPECIFIC_ATTRIBUTES")
    if select != "SPECIFIC_ATTRIBUTES" and has_projection:
        which = "ProjectionExpression" if req.get("ProjectionExpression") is not None else "AttributesToGet"
        raise validation(f"Cannot specify the {which} when choosing to get {select}")
    if select == "ALL_PROJECTED_ATTRIBUTES" and source.index is None:
        raise validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    index = source.index
    if index is not None and index.kind == "gsi" and select == "ALL_ATTRIBUTES" and index.projection != "ALL":
        raise invalid(f"Select type ALL_ATTRIBUTES is not supported for global secondary index {index.name} "
                      "because its projection type is not ALL")
    if select == "SPECIFIC_ATTRIBUTES" and index is not None and index.kind == "gsi":
        # A GSI can only return what it projects (an LSI fetches the rest from
        # the table). AWS lists the missing names as a Java HashSet prints them.
        missing = [a for a in compiled.projected_names if not index.projects(a)]
        if missing:
            shown = ", ".join(java_hash_set_order(missing, len(compiled.projected_names)))
            raise invalid(f"Global secondary index {index.name} does not project [{shown}]")
    return select


def _check_filter(req: dict, source: Source, compiled: E.Compiled) -> None:
    """A Query's filter may not name the key attributes of what it reads, nor
    (on an index) attributes the index does not project -- on a GSI or an LSI:
    ``Secondary index ix does not project one or more filter attributes: [a, b]``
    (names sorted), as DynamoDB Local words it and emulators checked against
    AWS confirm."""
    names = compiled.filter_names
    if not names:
        return
    for key in (source.hash_name, source.range_name):
        if key is not None and key in names:
            param = "Filter Expression" if req.get("FilterExpression") is not None else "QueryFilter"
            raise validation(f"{param} can only contain non-primary key attributes: Primary key attribute: {key}")
    index = source.index
    if index is not None and index.projection != "ALL":
        missing = sorted(a for a in names if not index.projects(a))
        if missing:
            raise invalid(f"Secondary index {index.name} does not project one or more filter attributes: "
                          f"[{', '.join(missing)}]")


# ---------------------------------------------------------------- key conditions

def range_bounds(prefix: tuple, cond, reverse: bool):
    """(start, end, predicate) for a sort-key condition under a partition prefix."""
    if cond is None:
        return None, None, None
    op, args = cond
    top = S.TOP
    if op == "=":
        v = args[0]
        return prefix + (v,), prefix + (v, top), None
    if op == "<":
        return None, prefix + (args[0],), None
    if op == "<=":
        return None, prefix + (args[0], top), None
    if op == ">":
        return prefix + (args[0], top), None, None
    if op == ">=":
        return prefix + (args[0],), None, None
    if op == "BETWEEN":
        lo, hi = args
        return prefix + (lo,), prefix + (hi, top), None
    # begins_with
    p = args[0]
    upper = p + (_BIN_TOP if isinstance(p, bytes) else _STR_TOP)
    return prefix + (p,), prefix + (upper,), (lambda part: part.startswith(p))


@functools.lru_cache(maxsize=1024)
def _key_schema(hash_name: str, hash_type: str, range_name: str | None, range_type: str | None) -> tuple:
    """(KeySchema, attribute types) of a table or index, for parse_key_condition
    (shared: not to be modified)."""
    schema = [{"AttributeName": hash_name, "KeyType": "HASH"}]
    types = {hash_name: hash_type}
    if range_name:
        schema.append({"AttributeName": range_name, "KeyType": "RANGE"})
        types[range_name] = range_type
    return schema, types


def _key_condition(source: Source, compiled: E.Compiled) -> tuple:
    """The key condition checked against the source's key schema (one
    implementation: ``expressions.parse_key_condition``): (hash part, range
    condition as (op, [key parts]) or None)."""
    ast, names, values, validated = compiled.key_condition
    schema, types = _key_schema(source.hash_name, source.hash_type, source.range_name, source.range_type)
    kc = parse_key_condition(ast, names, values, schema, types, validated=validated)
    rc = None
    if kc.range is not None:
        op, _, operands = kc.range
        rc = (op, [V.key_part(v) for v in operands])
    return V.key_part(kc.hash[1]), rc


def _check_start_in_bounds(source: Source, esk: dict, hk, rc) -> None:
    """A Query's ExclusiveStartKey must lie inside its key condition."""
    if rc is not None:
        op, args = rc
        part = V.key_part(esk[source.range_name])
        inside = {"=": lambda: part == args[0], "<": lambda: part < args[0], "<=": lambda: part <= args[0],
                  ">": lambda: part > args[0], ">=": lambda: part >= args[0],
                  "BETWEEN": lambda: args[0] <= part <= args[1]}.get(op, lambda: part.startswith(args[0]))()
        if not inside:
            raise validation("The provided starting key does not match the range key predicate")
    if V.key_part(esk[source.hash_name]) != hk:
        raise validation("The provided starting key is outside query boundaries based on provided conditions")


# ---------------------------------------------------------------- the read loop

def read_page(ctx, tx, source: Source, compiled: E.Compiled, req: dict, ranges, select: str,
              meter: C.Meter) -> dict:
    """Read items from ``ranges`` (a list of (start, end, prefix, predicate));
    apply Limit, the 1 MB page, the filter and the projection."""
    limit = req.get("Limit")
    reverse = req.get("ScanIndexForward") is False
    esk = req.get("ExclusiveStartKey")
    esk_key = None
    if esk is not None:
        esk = source.check_start_key(esk)
        esk_key = source.store_key(ctx, esk)
    schema = source.target.schema
    index = source.index
    fetch_table = index is not None and index.kind == "lsi" and index.projection != "ALL" and (
        select == "ALL_ATTRIBUTES" or (compiled.project is not None
                                       and any(not index.projects(a) for a in compiled.projected_names))
        or (compiled.filter is not None and any(not index.projects(a) for a in compiled.filter_names)))
    # Items that go into the answer whole are not decoded (S.load_item_json): the
    # stored entry is already the index's projection (ALL_PROJECTED_ATTRIBUTES).
    whole = (compiled.filter is None and compiled.project is None and not fetch_table
             and (select == "ALL_ATTRIBUTES" or select == "ALL_PROJECTED_ATTRIBUTES"))
    load = item_loader(ctx, whole)
    items: list[dict] = []
    scanned = 0
    count = 0
    read_bytes = 0
    last = None
    full = False
    range_pos = 0
    esk_packed = None if esk_key is None else keycodec.pack(esk_key)
    unpack = keycodec.unpack
    for start, end, prefix, predicate in ranges:
        if esk_packed is not None:
            if reverse:
                if end is None or keycodec.pack(end) > esk_packed:
                    end = esk_key
            elif start is None or keycodec.pack(start) <= esk_packed:
                start = esk_key
        # keys stay packed: most reads never look at them (decoding was a
        # fifth of a 10-item Query)
        for key, raw in tx.range(start=start, end=end, prefix=prefix, reverse=reverse, packed_keys=True):
            if key == esk_packed:
                continue
            if predicate is not None and not predicate(unpack(key)):
                if reverse:
                    continue
                break
            item, size = load(raw)
            if fetch_table:
                full_item = S.get_item(tx, ctx.account, ctx.region, schema,
                                       S.unpack_index_key(unpack(key), schema, index)[1])
                item = full_item or item
            scanned += 1
            read_bytes += size
            if compiled.filter is None or compiled.filter(item):
                count += 1
                if select != "COUNT":
                    if whole:
                        items.append(item)
                    elif compiled.project is not None:
                        items.append(compiled.project(item))
                    elif select == "ALL_PROJECTED_ATTRIBUTES" and index is not None:
                        items.append(index.project(item))
                    else:
                        items.append(item)
            if (limit is not None and scanned >= limit) or read_bytes >= PAGE_BYTES:
                last = source.last_key(item if type(item) is dict else S.load_item(raw)[0])
                full = True
                break
        range_pos += 1
        if full:
            break
    consistent = bool(req.get("ConsistentRead"))
    meter.read(source.target.name, C.read_units(read_bytes, consistent), index)
    out: dict = {"Count": count, "ScannedCount": scanned}
    if select != "COUNT":
        out["Items"] = items
    if last is not None:
        out["LastEvaluatedKey"] = last
    return meter.add_to(out)


@service.operation("Query")
def query(ctx: RequestContext, req: dict) -> dict:
    compiled = E.compile_request(req, key_condition=True, filter=True, projection=True)
    meter = C.Meter(req.get("ReturnConsumedCapacity"))
    with ctx.store.transaction() as tx:
        source = _source(ctx, tx, req)
        if compiled.key_condition is None:
            raise validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
        # AWS's order (as DynamoDB Local checks): key condition, filter, Select, projection.
        hk, rc = _key_condition(source, compiled)
        _check_filter(req, source, compiled)
        select = _select(req, source, compiled, query=True)
        if req.get("ExclusiveStartKey") is not None:
            _check_start_in_bounds(source, source.check_start_key(req["ExclusiveStartKey"], query=True), hk, rc)
        prefix = source.partition_prefix(ctx, hk)
        reverse = req.get("ScanIndexForward") is False
        start, end, pred = range_bounds(prefix, rc, reverse)
        n = len(prefix)
        predicate = (lambda key: pred(key[n])) if pred is not None else None
        return read_page(ctx, tx, source, compiled, req, [(start, end, keycodec.pack_remembered(prefix), predicate)], select, meter)


@service.operation("Scan")
def scan(ctx: RequestContext, req: dict) -> dict:
    segment, total = req.get("Segment"), req.get("TotalSegments")
    if segment is not None and total is None:
        raise validation("The TotalSegments parameter is required but was not present in the request when "
                         "Segment parameter is present")
    if total is not None and segment is None:
        raise validation("The Segment parameter is required but was not present in the request when parameter "
                         "TotalSegments is present")
    if segment is not None and segment >= total:
        raise validation(f"The Segment parameter is zero-based and must be less than parameter TotalSegments: "
                         f"Segment: {segment} is not less than TotalSegments: {total}")
    compiled = E.compile_request(req, filter=True, projection=True)
    meter = C.Meter(req.get("ReturnConsumedCapacity"))
    with ctx.store.transaction() as tx:
        source = _source(ctx, tx, req)
        select = _select(req, source, compiled)
        prefix = source.all_prefix(ctx)
        start = end = None
        if total is not None and total > 1:
            lo = segment * (1 << 32) // total
            hi = (segment + 1) * (1 << 32) // total
            start = prefix + (lo.to_bytes(4, "big"),)
            end = prefix + (hi.to_bytes(4, "big"),) if hi < (1 << 32) else None
        req = dict(req)
        req.pop("ScanIndexForward", None)
        return read_page(ctx, tx, source, compiled, req, [(start, end, prefix, None)], select, meter)


def segment_of(part) -> int:
    """The 32-bit hash position of a partition key (tests and diagnostics)."""
    return int.from_bytes(S.bucket(part), "big")



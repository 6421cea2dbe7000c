"""SELECT: a Query of the partitions its WHERE pins, else a Scan, through the
same page loop as Query and Scan (``reads.read_page``), with the whole WHERE as
the filter.

Pagination: ``Limit`` counts the items read, and a page stops at 1 MB, as in
Query/Scan. ``NextToken`` carries where the read stopped (the partition, the
last key) and a digest of the statement and its parameters, so a token is only
taken back with the request it came from. The answer carries the
``LastEvaluatedKey`` too, as the API reference documents.

A projection ``SELECT a.b[0], c`` answers each path under its last name (with
its list indexes), ``{"b[0]": ..., "c": ...}``: DynamoDB names the columns of a
projection so (DynamoDB Local refuses two paths with the same such name with
``Duplicate identifiers in select clause``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

import orjson

from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import capacity as C
from cloudlet.services.dynamodb import exprs as E
from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.errors import invalid, validation
from cloudlet.services.dynamodb.expressions.evaluator import evaluate_condition, get_path
from cloudlet.services.dynamodb.expressions.nodes import Name, Path, walk
from cloudlet.services.dynamodb.items import Target, open_table
from cloudlet.services.dynamodb.partiql import plan as P
from cloudlet.services.dynamodb.partiql.parser import Select, TableRef
from cloudlet.services.dynamodb.reads import Source, range_bounds, read_page
from cloudlet.storage import keys as keycodec

INVALID_TABLE_NAME = ("Table name should be within the length [3, 255] and only contain "
                      "'a-z', 'A-Z', '0-9', '-', '_', '.'.")
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}\Z")
INVALID_TOKEN = "Invalid NextToken"


def open_target(ctx: RequestContext, tx, ref: TableRef) -> Target:
    if not ref.name.startswith("arn:") and not _TABLE_NAME.match(ref.name):
        raise validation(INVALID_TABLE_NAME)
    return open_table(ctx, tx, ref.name)


def source_of(ctx: RequestContext, tx, ref: TableRef, consistent: bool) -> Source:
    target = open_target(ctx, tx, ref)
    if ref.index is None:
        return Source(target, None)
    index = target.schema.indexes.get(ref.index)
    if index is None:
        # Query names the index after this sentence; PartiQL does not (nubo-db/dynamodb-conformance
        # tests/tier3/error-messages/partiql.test.ts, pinned against AWS)
        raise validation("The table does not have the specified index")
    if index.kind == "gsi" and index.status == "CREATING":
        raise validation(f"Cannot read from backfilling global secondary index: {ref.index}")
    if index.kind == "gsi" and consistent:
        raise validation("Strongly consistent read is not supported on Global Secondary Indexes")
    return Source(target, index)


def column_name(path: Path) -> str:
    """A projected path's name in the answer: its last name and the list indexes after it."""
    name = ""
    for element in path.elements:
        name = element.name if isinstance(element, Name) else f"{name}[{element.index}]"
    return name


def projection(paths: tuple | None):
    """(project function, top-level names) of a SELECT list; (None, ()) for ``*``."""
    if paths is None:
        return None, ()
    columns, seen = [], set()
    for path in paths:
        name = column_name(path)
        if name in seen:
            raise validation(f"Duplicate identifiers in select clause: {name}")
        seen.add(name)
        columns.append((tuple(e.name if isinstance(e, Name) else e.index for e in path.elements), name))

    def project(item: dict) -> dict:
        out = {}
        for resolved, name in columns:
            value = get_path(item, resolved)
            if value is not None:
                out[name] = value
        return out

    return project, tuple(dict.fromkeys(p.elements[0].name for p in paths))


def compile_read(where, values: dict, paths: tuple | None) -> E.Compiled:
    """A SELECT's WHERE as a filter and its list as a projection, as Query/Scan take them."""
    project, names = projection(paths)
    out = E.Compiled(project=project, projected_names=names)  # in statement order
    cond = P.condition(where)
    if cond is not None:
        out.filter = lambda item: evaluate_condition(cond, item, None, values)
        out.filter_names = frozenset(n.elements[0].name for n in walk(where) if isinstance(n, Path))
    return out


def check_projected(source: Source, names: tuple) -> None:
    """A GSI answers only what it projects; AWS lists the others in statement order."""
    index = source.index
    if index is not None and index.kind == "gsi" and index.projection != "ALL":
        missing = [n for n in names if not index.projects(n)]
        if missing:
            raise invalid(f"Global secondary index {index.name} does not project [{', '.join(missing)}]")


def check_filtered(source: Source, names) -> None:
    """A WHERE on a secondary index, GSI or LSI, may only name what the index projects, in
    Query's words ('Secondary index ...' on both kinds; nubo-db/dynamodb-conformance
    tests/tier3/error-messages/partiql.test.ts, pinned against AWS)."""
    index = source.index
    if index is not None and index.projection != "ALL" and names:
        missing = sorted(n for n in names if not index.projects(n))
        if missing:
            raise invalid(f"Secondary index {index.name} does not project one or more filter attributes: "
                          f"[{', '.join(missing)}]")


# ---------------------------------------------------------------- NextToken

def _digest(statement: str, params: list) -> str:
    body = orjson.dumps([statement, params], default=lambda b: base64.b64encode(b).decode())
    return hashlib.sha256(body).hexdigest()[:24]


def _encode_key(key: dict) -> dict:
    out = {}
    for name, value in key.items():
        ((t, v),) = value.items()
        out[name] = [t, base64.b64encode(v).decode() if t == "B" else v]
    return out


def _decode_key(encoded: dict) -> dict:
    return {n: {t: base64.b64decode(v) if t == "B" else v} for n, (t, v) in encoded.items()}


def next_token(digest: str, position: int, key: dict | None) -> str:
    body = {"h": digest, "p": position, "k": None if key is None else _encode_key(key)}
    return base64.urlsafe_b64encode(orjson.dumps(body)).decode()


def read_token(token: str, digest: str) -> tuple[int, dict | None]:
    try:
        body = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        position, key, given = int(body["p"]), body["k"], body["h"]
        key = None if key is None else _decode_key(key)
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
        raise validation(INVALID_TOKEN) from None
    if given != digest:
        raise validation("NextToken does not match request")
    return position, key


# ---------------------------------------------------------------- the read

def _check_order(stmt: Select, source: Source, read: P.ReadPlan) -> tuple[bool, bool]:
    """AWS's ORDER BY rules; (partitions descending, sort keys descending)."""
    if not stmt.order:
        return False, False
    if stmt.where is None:
        raise validation("Must have WHERE clause in the statement when using ORDER BY clause.")
    if read.partitions is None:
        raise validation("Must have at least one non-optional hash key condition in WHERE clause when using "
                         "ORDER BY clause.")
    keys = {source.hash_name, source.range_name} - {None}
    for name, _ in stmt.order:
        if name not in keys:
            raise validation(f"Variable reference {name} in ORDER BY clause must be part of the primary key")
    by = dict(stmt.order)
    if len(read.partitions) > 1 and source.hash_name not in by:
        raise validation("Must have hash key in ORDER BY clause when more than one hash key condition "
                         "specified in WHERE clause.")
    return by.get(source.hash_name, False), by.get(source.range_name, False)


def _ranges(ctx: RequestContext, source: Source, read: P.ReadPlan, values: dict, order: tuple) -> list:
    """(start, end, prefix, predicate, reverse) of each range to read, in order."""
    if read.partitions is None:
        return [(None, None, source.all_prefix(ctx), None, False)]
    parts = [V.key_part(P.check_key_value(source.hash_name, values[n.name], source.hash_type))
             for n in read.partitions]
    parts = list(dict.fromkeys(parts))
    partitions_desc, sort_desc = order
    if order != (False, False) or len(parts) > 1:
        parts.sort(reverse=partitions_desc)
    rc = None
    if read.range is not None:
        op, nodes = read.range
        rc = (op, [V.key_part(P.check_key_value(source.range_name, values[n.name], source.range_type))
                   for n in nodes])
    out = []
    for hk in parts:
        prefix = source.partition_prefix(ctx, hk)
        start, end, pred = range_bounds(prefix, rc, sort_desc)
        n = len(prefix)
        predicate = (lambda key, _p=pred, _n=n: _p(key[_n])) if pred is not None else None
        out.append((start, end, keycodec.pack_remembered(prefix), predicate, sort_desc))
    return out


def select(ctx: RequestContext, tx, bound: P.Bound, req: dict, meter: C.Meter) -> dict:
    """One page of a SELECT's items: ``{"Items", "NextToken"?, "LastEvaluatedKey"?}``."""
    stmt: Select = bound.statement
    consistent = bool(req.get("ConsistentRead"))
    source = source_of(ctx, tx, stmt.table, consistent)
    compiled = compile_read(stmt.where, bound.values, stmt.projection)
    check_projected(source, compiled.projected_names)
    check_filtered(source, compiled.filter_names)
    read = P.read_plan(stmt.where, source.hash_name, source.range_name)
    order = _check_order(stmt, source, read)
    ranges = _ranges(ctx, source, read, bound.values, order)
    digest = _digest(req["Statement"], bound.params)
    position, start_key = 0, None
    if req.get("NextToken") is not None:
        position, start_key = read_token(req["NextToken"], digest)
        if not 0 <= position <= len(ranges):
            raise validation(INVALID_TOKEN)
    mode = "SPECIFIC_ATTRIBUTES" if compiled.project else (
        "ALL_PROJECTED_ATTRIBUTES" if source.index is not None else "ALL_ATTRIBUTES")
    limit = req.get("Limit")
    items: list = []
    out: dict = {"Items": items}
    for i in range(position, len(ranges)):
        start, end, prefix, predicate, reverse = ranges[i]
        page_req = {"ConsistentRead": consistent, "ScanIndexForward": not reverse}
        if limit is not None:
            page_req["Limit"] = limit
        if start_key is not None:
            page_req["ExclusiveStartKey"] = start_key
            start_key = None
        page = read_page(ctx, tx, source, compiled, page_req, [(start, end, prefix, predicate)], mode, meter)
        items.extend(page["Items"])
        last = page.get("LastEvaluatedKey")
        if limit is not None:
            limit -= page["ScannedCount"]
        if last is not None:
            # (read_page stops a page that reaches Limit on its last item too)
            out["NextToken"] = next_token(digest, i, last)
            out["LastEvaluatedKey"] = last
            break
    return out


__all__ = ["select", "open_target", "source_of", "compile_read", "check_projected", "check_filtered", "projection",
           "column_name"]

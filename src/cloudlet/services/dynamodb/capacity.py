"""Consumed capacity, computed with AWS's size rules. Pure.

Reads: one unit per 4 KB (rounded up) for a strongly consistent read, half for
an eventually consistent one, twice for a transactional one; a Query/Scan
rounds the *total* size of the items it read, not each item. Writes: one unit
per 1 KB of the larger of the old and new item, at least 1; twice in a
transaction. A GSI write costs like a table write of the projected item; a
change of the index key is a delete plus a put (developer guide: "Read/write
capacity mode" and "Provisioned throughput considerations for GSIs").
"""

from __future__ import annotations

import math

from cloudlet.services.dynamodb import values as V


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    if transactional:
        return float(units * 2)
    return float(units) if consistent else units / 2


def write_units(size: int, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 1024))
    return float(units * 2 if transactional else units)


def index_write_units(schema, old: dict | None, new: dict | None, transactional: bool = False) -> dict[str, float]:
    """Units consumed on each index by replacing ``old`` with ``new``."""
    out = {}
    mult = 2 if transactional else 1
    for index in schema.indexes.values():
        o = schema.index_parts(index, old) if old is not None else None
        n = schema.index_parts(index, new) if new is not None else None
        if o is None and n is None:
            continue
        units = 0
        if o is not None and n is not None and o == n:
            before, after = index.project(old), index.project(new)
            if before == after:
                # what the index stores is unchanged: AWS charges (and reports) nothing for it
                # (nubo-db/dynamodb-conformance tests/tier1/putItem/indexConsumedCapacity.test.ts,
                # measured in eu-west-2: an identical overwrite, a non-projected attribute)
                continue
            units = max(1, math.ceil(max(V.item_size(before), V.item_size(after)) / 1024))
        else:
            if o is not None:
                units += max(1, math.ceil(V.item_size(index.project(old)) / 1024))
            if n is not None:
                units += max(1, math.ceil(V.item_size(index.project(new)) / 1024))
        out[index.name] = float(units * mult)
    return out


class Meter:
    """Accumulates consumed capacity per table for one request. Only the transactions
    (``split``) report ReadCapacityUnits/WriteCapacityUnits beside CapacityUnits: AWS gives
    every other operation the aggregate alone, at the top, on Table and on the index arms
    (nubo-db/dynamodb-conformance tests/tier1/getItem/consumedCapacity.test.ts and
    putItem/consumedCapacity.test.ts, issue #69; tier2 transactions for the split)."""

    def __init__(self, mode: str | None, split: bool = False) -> None:
        self.mode = mode if mode in ("TOTAL", "INDEXES") else None
        self.split = split
        self.tables: dict[str, dict] = {}

    def _entry(self, table: str) -> dict:
        e = self.tables.get(table)
        if e is None:
            e = self.tables[table] = {"read": 0.0, "write": 0.0, "table_read": 0.0, "table_write": 0.0,
                                      "gsi": {}, "lsi": {}}
        return e

    def read(self, table: str, units: float, index=None) -> None:
        if self.mode is None:
            return
        e = self._entry(table)
        e["read"] += units
        if index is None:
            e["table_read"] += units
        else:
            kind = "gsi" if index.kind == "gsi" else "lsi"
            d = e[kind].setdefault(index.name, {"read": 0.0, "write": 0.0})
            d["read"] += units

    def read_item(self, table: str, size: int, consistent: bool, transactional: bool = False) -> None:
        """A single-item read of ``size`` bytes (nothing to do unless asked)."""
        if self.mode is not None:
            self.read(table, read_units(size, consistent, transactional))

    def write_item(self, table: str, old_size: int, new_size: int, schema, old, new,
                   transactional: bool = False) -> None:
        """Replacing ``old`` (``old_size`` bytes) by ``new``; index units too."""
        if self.mode is not None:
            self.write(table, write_units(max(old_size, new_size), transactional), schema, old, new, transactional)

    def write(self, table: str, units: float, schema=None, old=None, new=None, transactional=False) -> None:
        if self.mode is None:
            return
        e = self._entry(table)
        e["write"] += units
        e["table_write"] += units
        if schema is not None:
            for name, u in index_write_units(schema, old, new, transactional).items():
                kind = "gsi" if schema.indexes[name].kind == "gsi" else "lsi"
                d = e[kind].setdefault(name, {"read": 0.0, "write": 0.0})
                d["write"] += u
                e["write"] += u

    def entries(self) -> list[dict]:
        out = []
        for table, e in self.tables.items():
            split = self.split
            c = {"TableName": table, **_units(e["read"], e["write"], split)}
            if self.mode == "INDEXES":
                c["Table"] = _units(e["table_read"], e["table_write"], split)
                if e["gsi"]:
                    c["GlobalSecondaryIndexes"] = {n: _units(d["read"], d["write"], split)
                                                   for n, d in e["gsi"].items()}
                if e["lsi"]:
                    c["LocalSecondaryIndexes"] = {n: _units(d["read"], d["write"], split)
                                                  for n, d in e["lsi"].items()}
            out.append(c)
        return out

    def single(self) -> dict | None:
        """ConsumedCapacity for a single-table operation (None when not asked)."""
        if self.mode is None:
            return None
        entries = self.entries()
        return entries[0] if entries else None

    def add_to(self, response: dict, many: bool = False) -> dict:
        if self.mode is None:
            return response
        if many:
            response["ConsumedCapacity"] = self.entries()
        else:
            one = self.single()
            if one is not None:
                response["ConsumedCapacity"] = one
        return response


def _units(read: float, write: float, split: bool) -> dict:
    d = {"CapacityUnits": read + write}
    if not split:
        return d
    if read:
        d["ReadCapacityUnits"] = read
    if write:
        d["WriteCapacityUnits"] = write
    return d

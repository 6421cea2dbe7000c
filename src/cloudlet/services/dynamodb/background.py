"""Work that happens after a request returns: status transitions, index
backfills, the item copy into a new global table replica, background deletion
of dropped tables/indexes, TTL expiry.

Expired TransactWriteItems ClientRequestToken records are pruned by the same
sweeper as TTL.

Everything runs on the server's event loop as short synchronous steps (each
one store transaction, never spanning an await), scheduled with
``call_soon``/``call_later``. What must survive a crash is recorded in the
store before the request that started it returns, and resumed at start-up:

    ("ddb", "pending", acct, region, name) -> b""   a status transition is due
    ("ddb", "gc", acct, region, tid)       -> b""   data to delete
    ("ddb", "gcx", acct, region, tid, ix)  -> b""   a dropped index's entries to delete
    ("ddb", "ttl", acct, region, name)     -> b""   TTL is enabled on this table

Timing: table-level transitions (CREATING/UPDATING -> ACTIVE, DELETING ->
gone) are due at once, so that boto3's ``table_exists``/``table_not_exists``
waiters (first poll immediately, then every 20 s) pass on the first poll; the
CreateTable/DeleteTable/UpdateTable responses still show the transitional
status. Index creation and deletion stay CREATING/DELETING for
``INDEX_DELAY`` seconds plus the backfill, so they can be observed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from decimal import Decimal

from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodb.schema import compile_schema

log = logging.getLogger("cloudlet.dynamodb")

INDEX_DELAY = 0.3
CHUNK = 500  # keys per store transaction in background loops
TTL_INTERVAL = 1.0  # real seconds between TTL sweeps
TTL_MAX_AGE = 5 * 365 * 24 * 3600  # AWS ignores TTL values more than five years in the past
# The item collection limit of tables with LSIs (developer guide, "Item
# collection size limit": 10 GB); CLOUDLET_DYNAMODB_ITEM_COLLECTION_LIMIT
# (bytes) lowers it so tests can reach it.
ITEM_COLLECTION_LIMIT = 10 * 1024 ** 3
COLLECTION_LIMIT_ENV = "CLOUDLET_DYNAMODB_ITEM_COLLECTION_LIMIT"


def collection_limit_from(environ) -> int:
    raw = environ.get(COLLECTION_LIMIT_ENV)
    if not raw:
        return ITEM_COLLECTION_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{COLLECTION_LIMIT_ENV} must be a number of bytes, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{COLLECTION_LIMIT_ENV} must be positive, not {raw!r}")
    return value


def pending_key(acct, region, name):
    return ("ddb", "pending", acct, region, name)


def ttl_key(acct, region, name):
    return ("ddb", "ttl", acct, region, name)


def gcx_key(acct, region, tid, index):
    return ("ddb", "gcx", acct, region, tid, index)


class State:
    """Per-App DynamoDB state that is not in the store: caches and timers."""

    def __init__(self, app) -> None:
        self.app = app
        self.tables = S.Tables(app)
        self.collection_limit = collection_limit_from(os.environ)  # read once, at start
        self.handles: set = set()
        self.ttl_task: asyncio.Task | None = None
        self.ttl_wakeup: asyncio.Event | None = None
        self.running = False

    # -------------------------------------------------------------- lifecycle

    def start(self) -> None:
        self.running = True
        loop = asyncio.get_running_loop()
        self.ttl_wakeup = asyncio.Event()
        self.ttl_task = loop.create_task(self._ttl_loop())
        self.app.clock.on_advance(self._on_clock)
        self.resume()

    def stop(self) -> None:
        self.running = False
        for h in list(self.handles):
            h.cancel()
        self.handles.clear()
        if self.ttl_task is not None:
            self.ttl_task.cancel()

    def reset(self) -> None:
        for h in list(self.handles):
            h.cancel()
        self.handles.clear()
        self.tables.clear()

    def resume(self) -> None:
        """Finish what a previous process left (after restart or kill -9)."""
        store = self.app.store
        with store.transaction() as tx:
            pending = [k for k, _ in tx.range(prefix=("ddb", "pending"))]
            gcs = [k for k, _ in tx.range(prefix=("ddb", "gc"))]
            gcxs = [k for k, _ in tx.range(prefix=("ddb", "gcx"))]
        for k in pending:
            self.schedule(0, self.transition, k[2], k[3], k[4])
        for k in gcs:
            self.schedule(0, self.collect, k[2], k[3], k[4])
        for k in gcxs:
            self.schedule(0, self.collect_index, k[2], k[3], k[4], k[5])

    def schedule(self, delay: float, fn, *args) -> None:
        if not self.running:
            return
        loop = asyncio.get_event_loop()
        holder: list = []

        def run():
            self.handles.discard(holder[0])
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 — a background step must never kill the loop
                log.exception("dynamodb background step %s failed", getattr(fn, "__name__", fn))

        h = loop.call_soon(run) if delay <= 0 else loop.call_later(delay, run)
        holder.append(h)
        self.handles.add(h)

    # -------------------------------------------------------------- transitions

    def transition(self, acct: str, region: str, name: str) -> None:
        """Advance a table (and its indexes) one step towards a stable state."""
        store = self.app.store
        again = None
        with store.transaction() as tx:
            got = self.tables.get(tx, acct, region, name)
            if got is None:
                tx.delete(pending_key(acct, region, name))
                return
            record, schema = got
            record = dict(record)
            status = record["TableStatus"]
            S.settle_stream(tx, acct, region, name, record.get("LatestStreamLabel"))
            if status == "DELETING":
                self.tables.delete(tx, acct, region, name)
                # a global table replica: the other replicas list it no more
                S.leave_group(self.tables, tx, acct, region, name, S.group_of(record))
                tx.delete(ttl_key(acct, region, name))
                tx.put(S.gc_key(acct, region, record["TableId"]), b"")
                tx.delete(pending_key(acct, region, name))
                again = ("gc", record["TableId"])
            elif status == "CREATING" and record.get("_CopyFrom") is not None:
                again = ("copy",)  # a new global table replica: its items first (copy_replica)
            elif status == "UPDATING" and self._copying_from(tx, acct, region, name, record):
                pass  # UPDATING until the new replica has its items (copy_replica ends it)
            else:
                gsis = [dict(ix) for ix in record.get("GlobalSecondaryIndexes") or ()]
                busy = False
                if status == "CREATING":
                    for ix in gsis:  # created with the table: nothing to backfill
                        ix["IndexStatus"] = "ACTIVE"
                    if record.get("RestoreSummary"):  # restored (backups.py): its items are in already
                        record["RestoreSummary"] = {**record["RestoreSummary"], "RestoreInProgress": False}
                for ix in gsis:
                    if ix["IndexStatus"] == "CREATING":
                        busy = True
                        if not ix.get("_Backfilling"):
                            ix["_Backfilling"] = True
                            ix["_BackfillFrom"] = None
                            again = ("backfill", ix["IndexName"])
                    elif ix["IndexStatus"] == "DELETING":
                        busy = True
                        again = again or ("dropindex", ix["IndexName"])
                    elif ix["IndexStatus"] == "UPDATING":
                        ix["IndexStatus"] = "ACTIVE"
                record["GlobalSecondaryIndexes"] = gsis
                if not gsis:
                    record.pop("GlobalSecondaryIndexes")
                record["TableStatus"] = "ACTIVE"
                ttl = record.get("TimeToLive")
                if ttl and ttl.get("TimeToLiveStatus") in ("ENABLING", "DISABLING"):
                    ttl = dict(ttl)
                    ttl["TimeToLiveStatus"] = "ENABLED" if ttl["TimeToLiveStatus"] == "ENABLING" else "DISABLED"
                    record["TimeToLive"] = ttl
                self.tables.put(tx, acct, region, record)
                if not busy:
                    tx.delete(pending_key(acct, region, name))
        if again is None:
            return
        if again[0] == "gc":
            self.schedule(0, self.collect, acct, region, again[1])
        elif again[0] == "copy":
            self.schedule(0, self.copy_replica, acct, region, name)
        elif again[0] == "backfill":
            self.schedule(INDEX_DELAY, self.backfill, acct, region, name, again[1])
        else:
            self.schedule(INDEX_DELAY, self.drop_index, acct, region, name, again[1])

    def backfill(self, acct: str, region: str, name: str, index_name: str) -> None:
        """Copy existing items into a new GSI, CHUNK items per step; writes that
        happen meanwhile maintain the index themselves (it is in the schema)."""
        store = self.app.store
        with store.transaction() as tx:
            got = self.tables.get(tx, acct, region, name)
            if got is None:
                return
            record, schema = got
            gsis = [dict(ix) for ix in record.get("GlobalSecondaryIndexes") or ()]
            ix = next((i for i in gsis if i["IndexName"] == index_name), None)
            if ix is None or ix["IndexStatus"] != "CREATING":
                return
            index = schema.indexes[index_name]
            start = ix.get("_BackfillFrom")
            prefix = S.items_prefix(acct, region, schema.id)
            n = 0
            last = None
            for key, raw in tx.range(start=tuple(start) if start else None, prefix=prefix):
                if start is not None and tuple(key) == tuple(start):
                    continue
                S.add_to_index(tx, acct, region, schema, index, S.unpack_item_key(key, schema), S.load_item(raw)[0])
                last = key
                n += 1
                if n >= CHUNK:
                    break
            done = n < CHUNK
            if done:
                ix["IndexStatus"] = "ACTIVE"
                ix.pop("_Backfilling", None)
                ix.pop("_BackfillFrom", None)
            else:
                ix["_BackfillFrom"] = list(last)
            record = dict(record)
            record["GlobalSecondaryIndexes"] = gsis
            self.tables.put(tx, acct, region, record)
            if done and not any(i["IndexStatus"] != "ACTIVE" for i in gsis):
                tx.delete(pending_key(acct, region, name))
        if not done:
            self.schedule(0, self.backfill, acct, region, name, index_name)

    def copy_replica(self, acct: str, region: str, name: str) -> None:
        """Copy the items of a global table into its new replica (``_CopyFrom``: the
        region and table id it copies from, and the last key copied), CHUNK items per
        step, then let the replica go ACTIVE. Writes meanwhile reach the replica
        themselves (it is in the group from the start), so an item that is there and
        equal is left alone; the copies leave no stream records."""
        with self.app.store.transaction() as tx:
            got = self.tables.get(tx, acct, region, name)
            if got is None or got[0].get("_CopyFrom") is None or got[0]["TableStatus"] != "CREATING":
                return  # gone, done, or deleted before it was made
            record, schema = got
            source = dict(record["_CopyFrom"])
            src = self.tables.get(tx, acct, source["region"], name)
            n = 0
            if src is not None and src[0]["TableId"] == source["tid"]:
                target = dataclasses.replace(schema, stream=None, replicas=None)
                prefix = S.items_prefix(acct, source["region"], source["tid"])
                start = tuple(source["next"]) if source["next"] else None
                deltas = S.Deltas()
                for key, raw in tx.range(start=start, prefix=prefix, limit=CHUNK + 1):
                    if start is not None and tuple(key) == start:
                        continue
                    if n == CHUNK:
                        break
                    parts = S.unpack_item_key(key, schema)
                    item, size = S.load_item(raw)
                    old, old_size = S.get_item_sized(tx, acct, region, target, parts)
                    if old != item:
                        S.write_item(tx, acct, region, target, parts, old, item, old_size=old_size, new_size=size,
                                     deltas=deltas, replicated=True)
                    source["next"] = list(key)
                    n += 1
                S.apply_deltas(tx, deltas)
            record = dict(record)
            if n == CHUNK:
                record["_CopyFrom"] = source
            else:
                del record["_CopyFrom"]
            self.tables.put(tx, acct, region, record)
        if n == CHUNK:
            self.schedule(0, self.copy_replica, acct, region, name)
        else:
            self.transition(acct, region, name)
            self.transition(acct, source["region"], name)

    def _copying_from(self, tx, acct: str, region: str, name: str, record: dict) -> bool:
        """Whether a new replica of this global table is still copying its items from it."""
        for r in S.group_of(record):
            got = self.tables.get(tx, acct, r, name) if r != region else None
            if got is not None and got[0]["TableStatus"] == "CREATING" \
                    and (got[0].get("_CopyFrom") or {}).get("tid") == record["TableId"]:
                return True
        return False

    def drop_index(self, acct: str, region: str, name: str, index_name: str) -> None:
        store = self.app.store
        with store.transaction() as tx:
            got = self.tables.get(tx, acct, region, name)
            if got is None:
                return
            record, schema = got
            record = dict(record)
            gsis = [ix for ix in record.get("GlobalSecondaryIndexes") or () if ix["IndexName"] != index_name]
            if gsis:
                record["GlobalSecondaryIndexes"] = gsis
            else:
                record.pop("GlobalSecondaryIndexes", None)
            self.tables.put(tx, acct, region, record)
            S.drop_index_stats(tx, acct, region, schema.id, index_name)
            tx.put(gcx_key(acct, region, schema.id, index_name), b"")
            if not any(i["IndexStatus"] != "ACTIVE" for i in gsis):
                tx.delete(pending_key(acct, region, name))
        self.schedule(0, self.collect_index, acct, region, schema.id, index_name)

    # -------------------------------------------------------------- garbage

    def collect(self, acct: str, region: str, tid: str) -> None:
        """Delete a dropped table's data, CHUNK keys per step."""
        if self._delete_chunk(S.data_prefix(acct, region, tid)):
            self.schedule(0, self.collect, acct, region, tid)
        else:
            with self.app.store.transaction() as tx:
                tx.delete(S.gc_key(acct, region, tid))

    def collect_index(self, acct: str, region: str, tid: str, index: str) -> None:
        if self._delete_chunk(S.index_prefix(acct, region, tid, index)):
            self.schedule(0, self.collect_index, acct, region, tid, index)
        else:
            with self.app.store.transaction() as tx:
                tx.delete(gcx_key(acct, region, tid, index))

    def _delete_chunk(self, prefix: tuple) -> bool:
        with self.app.store.transaction() as tx:
            doomed = [k for k, _ in tx.range(prefix=prefix, limit=CHUNK)]
            for k in doomed:
                tx.delete(k)
        return len(doomed) == CHUNK

    # -------------------------------------------------------------- TTL

    def _on_clock(self) -> None:
        if self.ttl_wakeup is not None:
            self.ttl_wakeup.set()

    async def _ttl_loop(self) -> None:
        while self.running:
            try:
                await asyncio.wait_for(self.ttl_wakeup.wait(), TTL_INTERVAL)
            except asyncio.TimeoutError:
                pass
            self.ttl_wakeup.clear()
            try:
                while self.sweep_ttl():
                    await asyncio.sleep(0)  # let requests in between chunks
                while self.sweep_tokens():
                    await asyncio.sleep(0)
                while self.sweep_streams():
                    await asyncio.sleep(0)
            except Exception:  # noqa: BLE001
                log.exception("dynamodb TTL sweep failed")

    def sweep_ttl(self) -> bool:
        """Delete up to CHUNK expired items; True when more may remain."""
        store = self.app.store
        now = Decimal(repr(self.app.clock.now()))
        oldest = now - TTL_MAX_AGE
        deleted = 0
        with store.transaction() as tx:
            tables = [k for k, _ in tx.range(prefix=("ddb", "ttl"))]
            for k in tables:
                acct, region, name = k[2], k[3], k[4]
                got = self.tables.get(tx, acct, region, name)
                if got is None:
                    continue
                record, schema = got
                if not schema.ttl_attribute or record["TableStatus"] == "DELETING":
                    continue
                prefix = S.ttl_prefix(acct, region, schema.id)
                due = []
                for key, _ in tx.range(start=prefix + (oldest,), end=prefix + (now,), prefix=prefix,
                                       limit=CHUNK - deleted):
                    due.append(key)
                for key in due:
                    parts = tuple(key[len(prefix) + 1:])
                    old = S.get_item(tx, acct, region, schema, parts)
                    if old is None:
                        tx.delete(key)
                        continue
                    exp = S.ttl_expiry(old, schema.ttl_attribute)
                    if exp is None or exp >= now:
                        tx.delete(key)
                        continue
                    S.write_item(tx, acct, region, schema, parts, old, None, identity=S.TTL_IDENTITY)
                    deleted += 1
                if deleted >= CHUNK:
                    break
        return deleted >= CHUNK


    def sweep_tokens(self) -> bool:
        """Delete up to CHUNK expired ClientRequestToken records (TransactWriteItems
        idempotency lasts 10 minutes); True when more may remain."""
        now = self.app.clock.now()
        prefix = S.TOKEN_EXPIRY_PREFIX
        with self.app.store.transaction() as tx:
            due = [k for k, _ in tx.range(end=prefix + (now,), prefix=prefix, limit=CHUNK)]
            for key in due:
                expires, acct, region, token = key[2:]
                tx.delete(key)
                tx.delete(S.token_key(acct, region, token))
        return len(due) >= CHUNK

    def sweep_streams(self) -> bool:
        """Trim stream records older than 24 hours and drop the streams disabled
        more than 24 hours ago, up to CHUNK records; True when more may remain.
        (Readers do not wait for this: they treat older records as trimmed.)"""
        now = self.app.clock.now()
        cutoff = S.seq_at(now - S.RETENTION)
        deleted = 0
        with self.app.store.transaction() as tx:
            for key, raw in list(tx.range(prefix=S.STREAM_PREFIX)):
                meta = S.loads(raw)
                gone = meta["DisabledAt"] is not None and now >= meta["DisabledAt"] + S.RETENTION
                if not gone and meta["Start"] >= cutoff:
                    continue  # younger than a day: nothing to trim
                prefix = S.stream_records_prefix(*key[2:])
                doomed = [k for k, _ in tx.range(end=None if gone else prefix + (cutoff,), prefix=prefix,
                                                 limit=CHUNK - deleted)]
                for k in doomed:
                    tx.delete(k)
                deleted += len(doomed)
                if gone and deleted < CHUNK:
                    tx.delete(key)  # its last records went with this step
                elif doomed and not gone:
                    meta["Trimmed"] = max(meta["Trimmed"], doomed[-1][-1])
                    tx.put(key, S.dumps(meta))
                if deleted >= CHUNK:
                    break
        return deleted >= CHUNK


def get_state(app) -> State:
    state = getattr(app, "_dynamodb_state", None)
    if state is None:
        state = State(app)
        app._dynamodb_state = state
    return state


def ttl_table(tx, acct, region, name, enabled: bool) -> None:
    if enabled:
        tx.put(ttl_key(acct, region, name), b"")
    else:
        tx.delete(ttl_key(acct, region, name))


def backfill_ttl(tx, acct, region, record: dict) -> None:
    """Enter every existing item of a table into its TTL queue (UpdateTimeToLive)."""
    schema = compile_schema(record)
    if not schema.ttl_attribute:
        return
    prefix = S.items_prefix(acct, region, schema.id)
    tp = S.ttl_prefix(acct, region, schema.id)
    for key, raw in tx.range(prefix=prefix):
        e = S.ttl_expiry(S.load_item(raw)[0], schema.ttl_attribute)
        if e is not None:
            tx.put(tp + (e,) + S.unpack_item_key(key, schema), b"")

"""SQLite backend: one ``kv(k BLOB NOT NULL UNIQUE, v BLOB)`` table.

- WAL journal with ``synchronous=NORMAL``: a committed transaction is in the
  WAL file before ``COMMIT`` returns, so it survives ``kill -9`` of the
  process (not necessarily a power cut, which needs ``synchronous=FULL``).
- One owner (``exclusive=True``, the default): the store takes an ``flock``
  on ``<file>.lock`` and holds it while open, so a second process (or store)
  opening the same file fails at once with :class:`StoreLockedError` instead
  of interleaving writes with ours. Because nothing else writes the file, a
  transaction issues ``BEGIN`` only at its first write: read-only
  transactions cost no BEGIN/COMMIT round. ``exclusive=False`` lets other
  writers in (say a ``sqlite3`` shell); transactions then start with
  ``BEGIN IMMEDIATE`` and SQLite checkpoints inline every
  ``CHECKPOINT_PAGES``. Without ``flock`` (Windows, some network file
  systems) the owner uses ``locking_mode=EXCLUSIVE`` and inline checkpoints.
- Group commit (``group_commit=True``, what the server uses): transactions
  write into one long SQLite transaction; ``flush()`` COMMITs the whole batch.
  The server calls it once per event-loop turn and holds every answer until
  then, so nothing is acknowledged before it is durable, while 16 concurrent
  writers cost one COMMIT instead of 16. A transaction's writes are buffered
  and sent at its end (see ``SqliteTransaction``), so rolling one back is
  dropping its buffer; one that had to send writes early did so under a
  SAVEPOINT. Reads between flushes share one read transaction (see
  ``_hold_reads``): SQLite's shared locks cost a few syscalls per
  transaction, ~2 us a point read when taken per statement.
- Checkpoints off the event loop (owner with ``flock``): copying the WAL into
  the database file ends with an fsync, ~4 ms on the development machine,
  which every answer waiting on the COMMIT that ran it used to pay (inline,
  every 256 pages). A thread with its own connection runs PASSIVE checkpoints
  (they neither block nor wait for the writer; SQLite holds no GIL while it
  copies and syncs) at most every ``CHECKPOINT_EVERY`` s after a commit. The
  WAL only starts over when a write transaction begins with all of it copied,
  which never happens by itself under steady writes, so once it holds
  ``RESTART_FRAMES`` the owner runs one checkpoint itself after a COMMIT
  (copying what the thread has not: a few ms, every 32 MB of WAL). Measured
  (durable, 16 connections, ``python -m benchmarks run --durable``): FIFO
  SendMessage +31%, Kinesis PutRecords +21%, SendMessage +12%, UpdateItem +8%,
  and the p99 of single-item writes down (SendMessage 3.6 -> 2.3 ms).
- A value cache (owner only, ``CACHE_ENTRIES`` values of up to
  ``CACHE_VALUE_MAX`` bytes): ``get`` answers from it what SQLite holds
  outside the open transaction, so a record read or written by one request
  and read by the next (a message received and then deleted, an item read,
  written and read back) costs a dict lookup, not a query. Reads fill it; a
  transaction's final send updates the keys it holds (and adds none: most
  writes, index entries and records alike, are never read back); writes sent
  early drop their keys and their reads do not fill it; anything that may
  roll back a batch clears it.
- ``prefetch(keys)`` reads the keys a batch is about to get in one ``IN``
  query per ``PREFETCH_CHUNK`` into a per-transaction map that ``get``
  consults after the buffer (a send or ``delete_range`` drops what it may
  have made stale). BatchWriteItem of 25: ~5% less time on SQLite; for ten
  SQS records it was slower than ten point reads, so receives do not use it.
- Keys are compared by SQLite as BLOBs (memcmp, shorter first on a tie), the
  order ``storage.keys`` encodes for, so ``ORDER BY k`` is tuple order.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator

try:
    import fcntl
except ImportError:  # no flock (Windows): the connection locks the file itself (EXCLUSIVE)
    fcntl = None

from cloudlet.storage._common import MISSING, KeyDecoder, Scan, bounds, check_value, scan_iter
from cloudlet.storage.interface import Key, Store, Transaction
from cloudlet.storage.keys import pack, prefix_range

# Inline checkpoints (no checkpoint thread): every this many WAL pages (2 MB), not SQLite's
# default 1000. Measured at 16 connections (durable) when the server still checkpointed inline,
# 256 took the p99 of PutItem / UpdateItem / SendMessage from 8.0 / 6.4 / 7.8 ms to
# 4.5 / 3.5 / 4.0 ms for 2-5% of their rate; 128 gained no more p99 and lost up to 12%.
CHECKPOINT_PAGES = 256
# A range() over a transaction with more buffered writes than this sends them to
# SQLite first (under a SAVEPOINT) rather than overlaying them on the scan.
MERGE_MAX = 256
# A transaction holding this many buffered writes sends them (under a SAVEPOINT),
# so a very large transaction does not hold its whole write set in memory.
SEND_AT = 4096
# Values the owner keeps in memory (see SqliteStore._cache): the records a request reads
# soon after an earlier one wrote them (a message received, then deleted).
# At most CACHE_ENTRIES values of up to CACHE_VALUE_MAX bytes (32 MB), cleared when full.
CACHE_ENTRIES = 8192
PREFETCH_CHUNK = 250  # keys per prefetch query (SQLite allows 999 parameters at the least)
CACHE_VALUE_MAX = 4096
# How often (seconds) the checkpoint thread looks for new commits to copy into the database file.
CHECKPOINT_EVERY = 0.05
# The owner restarts the WAL from its start once it holds this many frames (32 MB of 8 KB
# pages): a checkpoint on its own connection copies what the thread has not yet, so the next
# write transaction finds the WAL fully copied and starts it over.
RESTART_FRAMES = 4096
# What a WAL file left bigger than this by a burst is cut back to when it restarts.
WAL_SIZE_LIMIT = 128 * 1024 * 1024

log = logging.getLogger("cloudlet")

_GET = "SELECT v FROM kv WHERE k = ?"
_PUT = "INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
_DELETE = "DELETE FROM kv WHERE k = ?"
_DELETE_RANGE = "DELETE FROM kv WHERE k >= ? AND k < ?"
_SCAN = "SELECT k, v FROM kv WHERE k >= ? AND k < ? ORDER BY k LIMIT ?"
_SCAN_REV = "SELECT k, v FROM kv WHERE k >= ? AND k < ? ORDER BY k DESC LIMIT ?"


class StoreLockedError(RuntimeError):
    """The database file is held by another process or store."""


class SqliteTransaction(Transaction):
    """Writes wait in ``_buf`` (packed key -> value, None for a delete) and reach
    SQLite in one ``executemany`` per kind when the transaction ends, or earlier
    when a ``delete_range()`` (or a ``range()`` over more than ``MERGE_MAX`` of
    them) needs the table to show them, or ``SEND_AT`` of them have piled up. Reads look in the buffer first, so a
    transaction sees its own writes: ``get`` there, ``range`` as an overlay
    (``_common.Scan``) over what SQLite holds. A
    transaction that rolls back before anything reached SQLite just drops the
    buffer; one that sent writes early opened a SAVEPOINT (group commit) or a
    BEGIN (otherwise) first and rolls back to it. In group commit, a
    transaction whose writes all go at the end needs no SAVEPOINT, which is
    most of them (measured: SAVEPOINT + RELEASE cost ~8 us of a ~23 us
    three-key write; the executemany saves ~1 us more)."""

    __slots__ = ("_store", "_cur", "_open", "_used", "_writing", "_scans", "_buf", "_sp", "_pre")

    def __init__(self, store: SqliteStore):
        self._store = store
        self._cur = store._cur
        self._open = False
        self._used = False
        self._writing = False  # this transaction has sent writes to SQLite (inside its BEGIN or SAVEPOINT)
        self._sp = False  # group commit: a SAVEPOINT guards what was sent
        self._scans: list[Scan] = []  # live range() iterations to notify of writes
        self._buf: dict[bytes, bytes | None] = {}
        # prefetch(): what SQLite held for keys this transaction has not sent writes for
        self._pre: dict[bytes, bytes | None] | None = None

    # -- context manager ------------------------------------------------------
    def __enter__(self) -> SqliteTransaction:
        store = self._store
        if store._active is not None:
            raise RuntimeError("nested transaction: a transaction is already open on this store")
        if store._conn is None:
            raise RuntimeError("store is closed")
        if self._used:
            raise RuntimeError("a transaction object can be entered only once")
        if not store._exclusive:
            self._cur.execute("BEGIN IMMEDIATE")
            self._writing = True
        store._active = self
        self._open = self._used = True
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        store = self._store
        cur = self._cur
        try:
            if exc_type is None:
                if self._buf:
                    self._send(final=True)
                if self._sp:
                    cur.execute("RELEASE tx")
                elif self._writing and not store._group:
                    cur.execute("COMMIT")
                    store._committed()
            elif self._sp:
                cur.execute("ROLLBACK TO tx")
                cur.execute("RELEASE tx")
            elif self._writing and not store._group and store._conn.in_transaction:
                cur.execute("ROLLBACK")
        except BaseException:
            # e.g. disk full: leave no half-written transaction behind
            self._abandon()
            raise
        finally:
            self._open = False
            self._writing = self._sp = False
            self._buf = {}
            self._pre = None
            self._scans.clear()
            store._active = None
        return False

    def _abandon(self) -> None:
        store = self._store
        store._cache_clear()
        conn = store._conn
        if self._sp:
            try:
                self._cur.execute("ROLLBACK TO tx")
                self._cur.execute("RELEASE tx")
                return
            except sqlite3.Error:
                pass
        if store._group and store.pending:
            # Our writes went straight into the batch and could not be taken out alone:
            # the whole batch goes, and flush() reports it lost (nothing of it was answered).
            store._lost = True
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        if store._group and store.pending:
            conn.execute("BEGIN")  # later transactions of this turn still group (and are lost with it)

    def _send(self, final: bool = False) -> None:
        """Send the buffered writes to SQLite. Early sends (``final`` false) in
        group commit first open a SAVEPOINT, so a rollback can take them back."""
        store = self._store
        cur = self._cur
        if store._group:
            if not store.pending:
                if not store._conn.in_transaction:  # else the reads of this turn began it
                    cur.execute("BEGIN")
                store.pending = True
                if store.on_pending is not None:
                    store.on_pending()
            if not final and not self._sp:
                cur.execute("SAVEPOINT tx")
                self._sp = True
        elif not self._writing:
            cur.execute("BEGIN")
        self._writing = True
        buf = self._buf
        if buf:
            self._buf = {}
            pre = self._pre
            if pre:
                for k in buf:
                    pre.pop(k, None)
            puts = [(k, v) for k, v in buf.items() if v is not None]
            if len(puts) < len(buf):
                cur.executemany(_DELETE, [(k,) for k, v in buf.items() if v is None])
            if puts:
                cur.executemany(_PUT, puts)
            cache = store._cache
            if cache:
                # Keys the cache holds keep up with a final send; written keys are not added
                # (most writes are never read back). Keys sent early, under a SAVEPOINT that
                # may yet roll back, leave it.
                for k, v in buf.items():
                    if k in cache:
                        if final and (v is None or len(v) <= CACHE_VALUE_MAX):
                            cache[k] = v
                        else:
                            del cache[k]

    def _note(self, k: bytes) -> None:
        """Give live scans the value ``k`` had when they started, before it is
        written: what SQLite holds, as a key buffered when a scan started is in
        its overlay already."""
        old = MISSING
        fetched = False
        for s in self._scans:
            if s.wants(k):
                if not fetched:
                    row = self._cur.execute(_GET, (k,)).fetchone()
                    old = MISSING if row is None else row[0]
                    fetched = True
                s.overlay[k] = old

    # -- operations -----------------------------------------------------------
    def get(self, key: Key) -> bytes | None:
        if not self._open:
            raise RuntimeError("transaction is not open")
        k = key if type(key) is bytes else pack(key)
        buf = self._buf
        if buf and k in buf:
            return buf[k]
        pre = self._pre
        if pre is not None:
            v = pre.get(k, MISSING)
            if v is not MISSING:
                return v
        store = self._store
        cache = store._cache
        if cache is not None:
            v = cache.get(k, MISSING)
            if v is not MISSING:
                return v
        store._begin_reads()
        row = self._cur.execute(_GET, (k,)).fetchone()
        v = None if row is None else row[0]
        # not what this transaction sent early: SQLite shows it before it is kept or rolled back
        if cache is not None and not self._writing and (v is None or len(v) <= CACHE_VALUE_MAX):
            if len(cache) >= CACHE_ENTRIES:
                cache.clear()
            cache[k] = v
        return v

    def prefetch(self, keys) -> None:
        """Read the values of ``keys`` that neither the buffer nor the value cache
        has in one query per ``PREFETCH_CHUNK`` (25 gets cost 25 queries)."""
        if not self._open:
            raise RuntimeError("transaction is not open")
        buf = self._buf
        cache = self._store._cache
        pre = self._pre
        wanted = [k for k in {k if type(k) is bytes else pack(k): None for k in keys}
                  if k not in buf and (cache is None or k not in cache) and (pre is None or k not in pre)]
        if len(wanted) < 2:
            return  # a single key costs the same either way
        if pre is None:
            pre = self._pre = {}
        self._store._begin_reads()
        for i in range(0, len(wanted), PREFETCH_CHUNK):
            chunk = wanted[i:i + PREFETCH_CHUNK]
            for k in chunk:
                pre[k] = None
            sql = f"SELECT k, v FROM kv WHERE k IN ({','.join('?' * len(chunk))})"
            for k, v in self._cur.execute(sql, chunk).fetchall():
                pre[k] = v

    def put(self, key: Key, value: bytes) -> None:
        if not self._open:
            raise RuntimeError("transaction is not open")
        if type(value) is not bytes:
            value = check_value(value)
        self._buffer(key if type(key) is bytes else pack(key), value)

    def delete(self, key: Key) -> None:
        if not self._open:
            raise RuntimeError("transaction is not open")
        self._buffer(key if type(key) is bytes else pack(key), None)

    def _buffer(self, k: bytes, value: bytes | None) -> None:
        """Buffer a put (``value``) or a delete (None) of packed key ``k``."""
        if self._scans:
            self._note(k)
        buf = self._buf
        buf[k] = value
        if len(buf) >= SEND_AT:
            self._send()

    def range(
        self,
        start: Key | None = None,
        end: Key | None = None,
        *,
        prefix: Key | None = None,
        reverse: bool = False,
        limit: int | None = None,
        packed_keys: bool = False,
    ) -> Iterator[tuple[Key, bytes]]:
        if not self._open:
            raise RuntimeError("transaction is not open")
        if limit is not None and limit <= 0:
            return iter(())
        lo, hi, p = bounds(start, end, prefix)
        if lo >= hi:
            return iter(())
        scan = Scan(lo, hi)
        buf = self._buf
        if buf:
            if len(buf) > MERGE_MAX:
                self._send()
            else:
                # the scan shows the buffered writes in its window as it shows the
                # writes made while it runs: an overlay over what SQLite holds
                overlay = scan.overlay
                for k, v in buf.items():
                    if lo <= k < hi:
                        overlay[k] = MISSING if v is None else v
        self._scans.append(scan)
        return scan_iter(self, self._scans, scan, self._fetch, reverse, limit, None if packed_keys else KeyDecoder(p))

    def _fetch(self, lo: bytes, hi: bytes, n: int, reverse: bool) -> list[tuple[bytes, bytes]]:
        # Each batch is one LIMITed query read in full: no SQLite statement
        # stays open across a yield, so writes in between are safe.
        self._store._begin_reads()  # in the turn's read transaction, as get (one shared lock a turn)
        return self._cur.execute(_SCAN_REV if reverse else _SCAN, (lo, hi, n)).fetchall()

    def delete_range(self, *, prefix: Key) -> int:
        if not self._open:
            raise RuntimeError("transaction is not open")
        self._send()
        self._store._cache_clear()
        self._pre = None
        lo, hi = prefix_range(prefix)
        cur = self._cur
        for s in self._scans:
            a = max(lo, s.lo)
            b = min(hi, s.hi)
            if a < b:
                overlay = s.overlay
                for k, v in cur.execute(_SCAN, (a, b, -1)).fetchall():
                    if k not in overlay:
                        overlay[k] = v
        return cur.execute(_DELETE_RANGE, (lo, hi)).rowcount


class _Checkpointer:
    """Copies committed WAL frames into the database file on a thread of its
    own, with a connection of its own: a PASSIVE checkpoint neither blocks nor
    waits for the writer, and SQLite runs it (page copies and both fsyncs)
    without holding the GIL. It runs at most every ``CHECKPOINT_EVERY`` seconds,
    and only after a commit (``dirty``, set by the owner after each COMMIT)."""

    def __init__(self, path: str):
        self.dirty = False
        self.frames = 0  # frames in the WAL at the last checkpoint
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cloudlet-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(CHECKPOINT_EVERY):
            if self.dirty:
                self.dirty = False
                try:
                    self.frames = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
                except sqlite3.Error:
                    log.exception("WAL checkpoint failed; the next one retries")
                    self.dirty = True

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()


def _locked(path: str) -> StoreLockedError:
    return StoreLockedError(f"{path} is in use by another process (is another cloudlet running on this data dir?)")


def _lock_file(path: str) -> int | None:
    """Take an exclusive ``flock`` on ``path``.lock (None where there is no
    ``fcntl`` or the file system has no flock); raise StoreLockedError if
    another store holds it."""
    if fcntl is None:
        return None
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise _locked(path) from None
    except OSError:  # a file system without flock: SQLite's own EXCLUSIVE lock instead
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


class SqliteStore(Store):
    def __init__(self, path: str, *, exclusive: bool = True, busy_timeout: float = 2.0, group_commit: bool = False):
        self.path = path
        self._exclusive = exclusive
        self._group = group_commit and exclusive
        self.pending = False
        self._lost = False  # the open batch was rolled back (a transaction failed mid-write)
        self._active: SqliteTransaction | None = None
        self._checkpointer: _Checkpointer | None = None
        # Group commit with a checkpoint thread: reads run inside a transaction (BEGIN at the
        # first read, ended by the next flush's COMMIT), so they take SQLite's shared locks
        # once per turn, not once per statement.
        self._hold_reads = False
        # Owner only: packed key -> value (None: no such key) as SQLite holds it outside the
        # open transaction's buffer. Filled by reads, kept up by transactions' final sends;
        # dropped for writes sent early, and cleared on anything that may roll back.
        self._cache: dict[bytes, bytes | None] | None = {} if exclusive else None
        # Owned (exclusive) with flock: a lock file keeps other stores out, SQLite locks
        # normally so the checkpoint thread's connection can share the file.
        self._lock_fd = _lock_file(path) if exclusive else None
        try:
            conn = sqlite3.connect(
                path,
                isolation_level=None,  # we issue BEGIN/COMMIT/ROLLBACK ourselves
                check_same_thread=False,  # a worker thread may use it, never concurrently
                timeout=busy_timeout,
            )
        except BaseException:
            self._unlock()
            raise
        try:
            if exclusive and self._lock_fd is None:
                conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("PRAGMA page_size=8192")  # takes effect only on a new file
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise RuntimeError(f"{path}: could not switch SQLite to WAL mode (got {mode!r})")
            conn.execute("PRAGMA synchronous=NORMAL")
            background = self._lock_fd is not None
            conn.execute(f"PRAGMA wal_autocheckpoint={0 if background else CHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            # A rowid table with a unique key index, not WITHOUT ROWID: values are often
            # 1 KB+ (items, messages, records), and WITHOUT ROWID B-trees degrade with rows
            # over ~1/20 of a page. Measured (100 x 1 KB per transaction / one 1.1 KB random
            # insert): 2,144 / 63 us as WITHOUT ROWID with 4 KB pages, 529 / 15 us like this.
            conn.execute("CREATE TABLE IF NOT EXISTS kv (k BLOB NOT NULL UNIQUE, v BLOB)")
            if background:
                self._checkpointer = _Checkpointer(path)
                self._hold_reads = self._group
        except sqlite3.OperationalError as e:
            conn.close()
            self._unlock()
            if "locked" in str(e) or "busy" in str(e):
                raise _locked(path) from None
            raise
        except BaseException:
            conn.close()
            self._unlock()
            raise
        self._conn: sqlite3.Connection | None = conn
        self._cur = conn.cursor()

    def _committed(self) -> None:
        """After a COMMIT, with a checkpoint thread: wake it, and once the WAL has grown to
        ``RESTART_FRAMES`` copy the rest here, so that the WAL starts over."""
        ck = self._checkpointer
        if ck is None:
            return
        ck.dirty = True
        if ck.frames >= RESTART_FRAMES:
            try:
                busy, log_frames, copied = self._cur.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:  # what was committed stays committed; the WAL just grows
                log.exception("WAL checkpoint failed; the next commit retries")
                return
            if not busy and copied == log_frames:  # else the thread was at it: next commit
                ck.frames = 0

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def transaction(self) -> SqliteTransaction:
        return SqliteTransaction(self)

    def flush(self) -> None:
        if not self.pending:
            return
        if self._active is not None:
            raise RuntimeError("flush() while a transaction is open")
        self.pending = False
        if self._lost:
            self._lost = False
            self._cache_clear()
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise sqlite3.OperationalError("a write failed; the batch of transactions it belonged to was rolled back")
        try:
            self._cur.execute("COMMIT")
        except BaseException:
            self._cache_clear()
            if self._conn.in_transaction:  # e.g. disk full: the batch is lost, say so
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise
        self._committed()

    def _cache_clear(self) -> None:
        if self._cache is not None:
            self._cache.clear()

    def _begin_reads(self) -> None:
        """With ``_hold_reads``: open the turn's read transaction if none is open."""
        if self._hold_reads and not self._conn.in_transaction:
            self._cur.execute("BEGIN")

    def _end_reads(self) -> None:
        """End the read transaction that ``_hold_reads`` may have left open."""
        if not self.pending and self._conn.in_transaction:
            self._cur.execute("COMMIT")

    def wipe(self) -> None:
        if self._active is not None:
            raise RuntimeError("wipe() while a transaction is open")
        self.flush()
        self._end_reads()
        self._cache_clear()
        self._cur.execute("DELETE FROM kv")
        self._committed()

    def close(self) -> None:
        if self._conn is None:
            return
        if self._active is not None:
            raise RuntimeError("close() while a transaction is open")
        self.flush()
        self._end_reads()
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        self._cur.close()
        self._conn.close()  # the last connection: checkpoints the WAL into the database file
        self._conn = None
        self._unlock()

    def __len__(self) -> int:
        return self._cur.execute("SELECT count(*) FROM kv").fetchone()[0]

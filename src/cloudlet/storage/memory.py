"""In-memory backend: a SortedDict of packed keys; writes are applied in place
with an undo log that a rollback replays backwards."""

from __future__ import annotations

from collections.abc import Iterator

from sortedcontainers import SortedDict

from cloudlet.storage._common import MISSING, KeyDecoder, Scan, bounds, check_value, scan_iter
from cloudlet.storage.interface import Key, Store, Transaction
from cloudlet.storage.keys import pack, prefix_range


class MemoryTransaction(Transaction):
    __slots__ = ("_store", "_d", "_undo", "_open", "_used", "_scans")

    def __init__(self, store: MemoryStore):
        self._store = store
        self._d = store._d
        self._undo: list[tuple[bytes, object]] = []
        self._open = False
        self._used = False
        self._scans: list[Scan] = []  # live range() iterations to notify of writes

    # -- context manager ------------------------------------------------------
    def __enter__(self) -> MemoryTransaction:
        store = self._store
        if store._active is not None:
            raise RuntimeError("nested transaction: a transaction is already open on this store")
        if store._closed:
            raise RuntimeError("store is closed")
        if self._used:
            raise RuntimeError("a transaction object can be entered only once")
        store._active = self
        self._open = self._used = True
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is not None:
                d = self._d
                for k, old in reversed(self._undo):
                    if old is MISSING:
                        d.pop(k, None)
                    else:
                        d[k] = old
        finally:
            self._open = False
            self._undo = []
            self._scans.clear()
            self._store._active = None
        return False

    def _closed(self):
        raise RuntimeError("transaction is not open")

    # -- operations -----------------------------------------------------------
    def get(self, key: Key) -> bytes | None:
        if not self._open:
            self._closed()
        return self._d.get(key if type(key) is bytes else pack(key))

    def put(self, key: Key, value: bytes) -> None:
        if not self._open:
            self._closed()
        if type(value) is not bytes:
            value = check_value(value)
        k = key if type(key) is bytes else pack(key)
        d = self._d
        old = d.get(k, MISSING)
        self._undo.append((k, old))
        if self._scans:
            for s in self._scans:
                s.note(k, old)
        d[k] = value

    def delete(self, key: Key) -> None:
        if not self._open:
            self._closed()
        k = key if type(key) is bytes else pack(key)
        old = self._d.pop(k, MISSING)
        if old is not MISSING:
            self._undo.append((k, old))
            if self._scans:
                for s in self._scans:
                    s.note(k, old)

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
            self._closed()
        if limit is not None and limit <= 0:
            return iter(())
        lo, hi, p = bounds(start, end, prefix)
        if lo >= hi:
            return iter(())
        scan = Scan(lo, hi)
        self._scans.append(scan)
        return scan_iter(self, self._scans, scan, self._fetch, reverse, limit, None if packed_keys else KeyDecoder(p))

    def _fetch(self, lo: bytes, hi: bytes, n: int, reverse: bool) -> list[tuple[bytes, bytes]]:
        d = self._d
        i = d.bisect_left(lo)
        j = d.bisect_left(hi)
        if reverse:
            ks = d.keys()[max(i, j - n) : j]
            ks.reverse()
        else:
            ks = d.keys()[i : min(j, i + n)]
        return [(k, d[k]) for k in ks]

    def delete_range(self, *, prefix: Key) -> int:
        if not self._open:
            self._closed()
        lo, hi = prefix_range(prefix)
        d = self._d
        i = d.bisect_left(lo)
        j = d.bisect_left(hi)
        if i >= j:
            return 0
        ks = d.keys()[i:j]
        undo = self._undo
        scans = self._scans
        for k in ks:
            old = d.pop(k)
            undo.append((k, old))
            for s in scans:
                s.note(k, old)
        return len(ks)


class MemoryStore(Store):
    def __init__(self) -> None:
        self._d: SortedDict = SortedDict()
        self._active: MemoryTransaction | None = None
        self._closed = False

    def transaction(self) -> MemoryTransaction:
        return MemoryTransaction(self)

    def wipe(self) -> None:
        if self._active is not None:
            raise RuntimeError("wipe() while a transaction is open")
        self._d.clear()

    def close(self) -> None:
        if self._active is not None:
            raise RuntimeError("close() while a transaction is open")
        self._closed = True

    def __len__(self) -> int:
        return len(self._d)

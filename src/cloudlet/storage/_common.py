"""Helpers shared by the backends: range bounds, value checks, key decoding,
and the snapshot range scan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import itemgetter

from cloudlet.storage.interface import Key
from cloudlet.storage.keys import pack, prefix_range, unpack

# A scan reads this many rows, yields them, then reads the next batch (4x
# larger, up to MAX_BATCH) after the last key: an early ``break`` reads little,
# and ``limit`` caps every read.
FIRST_BATCH = 16
MAX_BATCH = 1024

MISSING = object()  # "the key did not exist" in undo logs and scan overlays

_first = itemgetter(0)

# fetch(lo, hi, n, reverse) -> up to n (packed key, value) pairs in [lo, hi),
# in key order (descending with reverse), from the current state of the store
Fetch = Callable[[bytes, bytes, int, bool], list]


def bounds(start: Key | None, end: Key | None, prefix: Key | None) -> tuple[bytes, bytes, bytes]:
    """Packed ``[lo, hi)`` for a range call, plus the packed prefix (b'' for
    none) whose tuple every yielded key starts with. Each bound may come
    packed already (bytes)."""
    if prefix is not None:
        if type(prefix) is bytes:
            lo, hi = prefix, prefix + b"\xff"
        else:
            lo, hi = prefix_range(prefix)
        p = lo
    else:
        # every packed key starts with a type code below 0xFF
        lo, hi, p = b"", b"\xff", b""
    if start is not None:
        s = start if type(start) is bytes else pack(start)
        if s > lo:
            lo = s
    if end is not None:
        e = end if type(end) is bytes else pack(end)
        if e < hi:
            hi = e
    return lo, hi, p


def check_value(value) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"values are bytes (use storage.codec.dumps), got {type(value).__name__}")


_PREFIXES: dict[bytes, tuple] = {}


class KeyDecoder:
    """unpack() for keys known to start with one packed prefix: decode only the
    rest and prepend the prefix tuple (range scans over one queue or table)."""

    __slots__ = ("n", "prefix")

    def __init__(self, packed_prefix: bytes):
        self.n = len(packed_prefix)
        # decoded from the bytes, so values come back canonical (Decimal('1.0')
        # as Decimal('1'), -0.0 as 0.0) exactly as a full unpack would give
        # them; cached, as the same few prefixes (one per queue, table) recur
        prefix = _PREFIXES.get(packed_prefix)
        if prefix is None:
            prefix = unpack(packed_prefix) if packed_prefix else ()
            if len(_PREFIXES) >= 4096:
                _PREFIXES.clear()
            _PREFIXES[packed_prefix] = prefix
        self.prefix = prefix

    def __call__(self, k: bytes) -> Key:
        if self.n:
            return self.prefix + unpack(k[self.n :])
        return unpack(k)


class Scan:
    """One ``range()`` iteration: yields the pairs that were in ``[lo, hi)``
    when ``range()`` was called, whatever the transaction writes meanwhile.

    It reads in batches from the live store. ``[lo, hi)`` is the window not read
    yet; the transaction reports each write to a key in the window *before* it
    happens (:meth:`note`), and the scan keeps the key's original value (or
    MISSING) in ``overlay``. A batch read from the live store is corrected with
    the overlay entries it covers, which reconstructs the snapshot exactly: new
    keys are dropped, overwritten ones get their old value back, deleted ones
    reappear. Keys written ahead of the cursor are therefore never visited
    twice (no Halloween problem), and memory stays O(batch + writes ahead).
    """

    __slots__ = ("lo", "hi", "overlay")

    def __init__(self, lo: bytes, hi: bytes):
        self.lo = lo
        self.hi = hi
        self.overlay: dict[bytes, object] = {}

    def wants(self, k: bytes) -> bool:
        return self.lo <= k < self.hi and k not in self.overlay

    def note(self, k: bytes, old) -> None:
        if self.lo <= k < self.hi and k not in self.overlay:
            self.overlay[k] = old


def scan_iter(
    tx, scans: list[Scan], scan: Scan, fetch: Fetch, reverse: bool, limit: int | None, decode: KeyDecoder | None
) -> Iterator[tuple[Key, bytes]]:
    """The generator behind ``range()``; ``scan`` is already in ``scans`` (the
    transaction's list of scans to notify) and is removed when done."""
    try:
        remaining = limit
        batch = FIRST_BATCH
        while True:
            # With a limit, fetch enough to make up for the rows the overlay may
            # drop (keys this transaction deleted): a limit-1 probe of a group
            # whose first ten rows were just deleted reads once, not eleven times.
            n = batch if remaining is None else min(batch, remaining + len(scan.overlay))
            lo, hi = scan.lo, scan.hi
            rows = fetch(lo, hi, n, reverse)
            full = len(rows) == n
            # Move the window past what this batch covers before yielding: the
            # batch itself is a snapshot of those keys, later writes to them do
            # not concern us.
            if full:
                last = rows[-1][0]
                if reverse:
                    scan.hi = last  # covered: [last, hi)
                else:
                    scan.lo = last + b"\x00"  # covered: [lo, last]
            else:
                scan.lo = scan.hi = hi  # covered: [lo, hi), the whole window
            overlay = scan.overlay
            if overlay:
                if not full:
                    covered = list(overlay)
                elif reverse:
                    covered = [k for k in overlay if k >= last]
                else:
                    covered = [k for k in overlay if k <= last]
                if covered:
                    rows = [r for r in rows if r[0] not in overlay]
                    for k in covered:
                        old = overlay.pop(k)
                        if old is not MISSING:
                            rows.append((k, old))
                    rows.sort(key=_first, reverse=reverse)
            if remaining is not None and len(rows) > remaining:
                rows = rows[:remaining]
            for k, v in rows:
                if not tx._open:
                    raise RuntimeError("range iterator used after its transaction ended")
                yield (k if decode is None else decode(k)), v
            if remaining is not None:
                remaining -= len(rows)
                if remaining <= 0:
                    return
            if not full:
                return
            if batch < MAX_BATCH:
                batch <<= 2
    finally:
        try:
            scans.remove(scan)
        except ValueError:
            pass

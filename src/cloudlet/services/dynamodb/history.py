"""Point-in-time recovery: the change history RestoreTableToPointInTime reads.

While a table's point-in-time recovery is enabled, every item change appends one
entry, in the transaction of the change (``store.write_item`` through
``Schema.history``), under the table's data prefix:

    ("ddb", acct, region, "data", tid, "h", seq) -> (epoch seconds, key parts, old item or None)

``seq`` is the change's time in microseconds, made strictly increasing. The table
as it was at time T is the table now with every change after T undone, which for
each item changed since is the old image of its first change after T. Entries go
when they leave the recovery period (checked every ``TRIM_EVERY`` appends), when
recovery is disabled, and with the table's data when it is deleted.
"""

from __future__ import annotations

from collections.abc import Iterator

from cloudlet.storage import codec
from cloudlet.storage import keys as keycodec

TRIM_EVERY = 1000

# packed log prefix -> the last seq this process gave an entry there
_LAST: dict[bytes, int] = {}


def last_seq(tx, prefix: bytes, below: int | None = None) -> int | None:
    """The highest seq stored in the log under the packed ``prefix`` (keys
    ``prefix + int_elem(seq)``; below ``below``), or None."""
    end = None if below is None else prefix + keycodec.int_elem(below)
    for key, _ in tx.range(end=end, prefix=prefix, reverse=True, limit=1, packed_keys=True):
        return keycodec.unpack(key[len(prefix):])[0]
    return None


def next_seq(tx, prefix: bytes, floor: int) -> int:
    """The seq of a new entry of the log under the packed ``prefix``: at least
    ``floor``, above every seq given there. The last one is kept in memory (read
    from the store once a process): a lookup, not a range read, per entry. An
    entry rolled back leaves a gap, never a repeat."""
    last = _LAST.get(prefix)
    if last is None:
        last = last_seq(tx, prefix) or 0
    seq = _LAST[prefix] = max(last + 1, floor)
    return seq


def history_prefix(acct: str, region: str, tid: str) -> tuple:
    return ("ddb", acct, region, "data", tid, "h")


class Sink:
    """Where a PITR-enabled table's writes append their old images (``Schema.history``)."""

    __slots__ = ("prefix", "clock", "window", "count")

    def __init__(self, acct: str, region: str, tid: str, days: int, clock) -> None:
        self.prefix = keycodec.pack(history_prefix(acct, region, tid))
        self.clock = clock
        self.window = days * 86400
        self.count = 0

    def append(self, tx, parts: tuple, old: dict | None) -> None:
        now = self.clock.now()
        seq = next_seq(tx, self.prefix, int(now * 1_000_000))
        tx.put(self.prefix + keycodec.int_elem(seq), codec.dumps((now, parts, old)))
        self.count += 1
        if self.count % TRIM_EVERY == 0:
            trim(tx, self.prefix, now - self.window)


def trim(tx, prefix: bytes, before: float) -> None:
    """Drop (some of) the entries of changes made before ``before``: no restore can reach
    them. At most twice ``TRIM_EVERY`` a call, so the appends outpace nothing."""
    end = prefix + keycodec.int_elem(max(1, int(before * 1_000_000)))
    for key, _ in list(tx.range(None, end, prefix=prefix, limit=2 * TRIM_EVERY, packed_keys=True)):
        tx.delete(key)


def drop(tx, acct: str, region: str, tid: str) -> None:
    """Forget a table's history (recovery disabled); its seqs go on rising."""
    tx.delete_range(prefix=history_prefix(acct, region, tid))


def state_at(tx, acct: str, region: str, tid: str, t: float) -> dict[tuple, dict | None]:
    """Key parts -> the item as it was at ``t`` (None: it did not exist), for every item
    changed after ``t``; items not in the answer are as they are now."""
    prefix = keycodec.pack(history_prefix(acct, region, tid))
    before: dict[tuple, dict | None] = {}
    start = prefix + keycodec.int_elem(int(t * 1_000_000) + 1)
    for _, raw in tx.range(start, None, prefix=prefix, packed_keys=True):
        _, parts, old = codec.loads(raw)
        if parts not in before:
            before[parts] = old
    return before


def items_at(tx, acct: str, region: str, tid: str, items_prefix: tuple, t: float,
             load) -> Iterator[tuple[tuple, dict]]:
    """(key parts, item) of every item of the table as it was at ``t``; ``load`` decodes
    a stored item record to (item, size)."""
    before = state_at(tx, acct, region, tid, t)
    n = len(items_prefix)
    for key, raw in tx.range(prefix=items_prefix):
        parts = tuple(key[n + 1:])  # after the bucket
        if parts in before:
            old = before.pop(parts)
            if old is not None:
                yield parts, old
            continue
        yield parts, load(raw)[0]
    for parts, old in before.items():  # deleted since
        if old is not None:
            yield parts, old

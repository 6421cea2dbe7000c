"""Group commit on the SQLite store: transactions write into one batch (buffered to their end, or under a
SAVEPOINT when sent early), flush() makes them durable."""

from __future__ import annotations

import sqlite3

import pytest

from cloudlet.storage.sqlite import SqliteStore


def test_batch_commits_on_flush_and_rolls_back_one_transaction_only(tmp_path):
    path = str(tmp_path / "s.sqlite3")
    started = []
    store = SqliteStore(path, group_commit=True)
    store.on_pending = lambda: started.append(1)
    with store.transaction() as tx:
        tx.put(("a",), b"1")
    assert store.pending and started == [1]
    with pytest.raises(ValueError):
        with store.transaction() as tx:
            tx.put(("b",), b"2")
            raise ValueError
    with store.transaction() as tx:
        tx.put(("c",), b"3")
        assert tx.get(("a",)) == b"1" and tx.get(("b",)) is None
    assert started == [1]  # one batch, one notification
    store.flush()
    assert not store.pending
    store.close()
    reopened = SqliteStore(path)
    with reopened.transaction() as tx:
        assert [k for k, _ in tx.range(prefix=())] == [("a",), ("c",)]
    reopened.close()


def _store_with_kept(path: str) -> SqliteStore:
    """A group-commit store holding ("kept",) -> b"1", flushed."""
    store = SqliteStore(path, group_commit=True)
    with store.transaction() as tx:
        tx.put(("kept",), b"1")
    store.flush()
    return store


def test_unflushed_batch_is_not_durable(tmp_path):
    path = str(tmp_path / "s.sqlite3")
    store = _store_with_kept(path)
    with store.transaction() as tx:
        tx.put(("lost",), b"2")
    # what kill -9 leaves behind: the batch was never committed, the lock file is free
    store._cur.close()
    store._conn.close()
    store._checkpointer.close()
    store._unlock()
    reopened = SqliteStore(path)
    with reopened.transaction() as tx:
        assert [k for k, _ in tx.range(prefix=())] == [("kept",)]
    reopened.close()


def test_reads_do_not_start_a_batch(tmp_path):
    store = SqliteStore(str(tmp_path / "s.sqlite3"), group_commit=True)
    with store.transaction() as tx:
        tx.get(("x",))
        list(tx.range(prefix=()))
    assert not store.pending
    store.close()


def test_writes_sent_early_for_a_range_roll_back_with_their_transaction(tmp_path):
    """A range() sends the buffered writes to SQLite under a SAVEPOINT; a rollback
    then takes back those and the later ones, and only those."""
    path = str(tmp_path / "s.sqlite3")
    store = SqliteStore(path, group_commit=True)
    with store.transaction() as tx:
        tx.put(("a",), b"1")
    with pytest.raises(ValueError):
        with store.transaction() as tx:
            tx.put(("b",), b"2")
            tx.delete(("a",))
            assert [k for k, _ in tx.range(prefix=())] == [("b",)]  # its own writes, sent early
            tx.put(("c",), b"3")
            raise ValueError
    with store.transaction() as tx:
        assert [(k, v) for k, v in tx.range(prefix=())] == [(("a",), b"1")]
    store.flush()
    store.close()
    reopened = SqliteStore(path)
    with reopened.transaction() as tx:
        assert [(k, v) for k, v in tx.range(prefix=())] == [(("a",), b"1")]
    reopened.close()


def test_reads_see_buffered_writes_and_deletes(tmp_path):
    store = SqliteStore(str(tmp_path / "s.sqlite3"), group_commit=True)
    with store.transaction() as tx:
        tx.put(("a",), b"1")
        tx.put(("b",), b"2")
    store.flush()
    with store.transaction() as tx:
        tx.delete(("a",))
        tx.put(("b",), b"22")
        tx.put(("c",), b"3")
        assert tx.get(("a",)) is None and tx.get(("b",)) == b"22" and tx.get(("c",)) == b"3"
        tx.put(("a",), b"11")
        assert tx.get(("a",)) == b"11"
    with store.transaction() as tx:
        assert list(tx.range(prefix=())) == [(("a",), b"11"), (("b",), b"22"), (("c",), b"3")]
    store.close()


class _FailingCursor:
    """A cursor whose writes fail, as on a full disk (the error SQLite raises)."""

    def __init__(self, cur):
        self._cur = cur

    def executemany(self, sql, rows):
        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name):
        return getattr(self._cur, name)


def test_a_write_that_fails_at_commit_loses_its_batch_and_says_so(tmp_path):
    """A transaction's writes go to SQLite at its end, straight into the open batch
    (no SAVEPOINT): if that fails half-way the batch cannot keep the rest, so the
    whole batch is rolled back, flush() raises (the server then answers none of it)
    and the store goes on working."""
    path = str(tmp_path / "s.sqlite3")
    store = _store_with_kept(path)
    with store.transaction() as tx:
        tx.put(("batched",), b"2")
    real = store._cur
    store._cur = _FailingCursor(real)
    with pytest.raises(sqlite3.OperationalError):
        with store.transaction() as tx:
            tx.put(("failing",), b"3")
    store._cur = real
    with store.transaction() as tx:
        tx.put(("same turn",), b"4")
    with pytest.raises(sqlite3.OperationalError):
        store.flush()
    assert not store.pending
    with store.transaction() as tx:
        assert [k for k, _ in tx.range(prefix=())] == [("kept",)]
        tx.put(("after",), b"5")
    store.flush()
    store.close()
    reopened = SqliteStore(path)
    with reopened.transaction() as tx:
        assert [k for k, _ in tx.range(prefix=())] == [("after",), ("kept",)]
    reopened.close()


@pytest.mark.parametrize("buffered", [3, 300])  # overlaid on the scan / sent to SQLite first (MERGE_MAX)
def test_range_shows_buffered_writes_and_keeps_its_snapshot(tmp_path, buffered):
    store = SqliteStore(str(tmp_path / "s.sqlite3"), group_commit=True)
    with store.transaction() as tx:
        for i in range(0, 40, 2):
            tx.put(("k", i), b"old")
    store.flush()
    with store.transaction() as tx:
        tx.delete(("k", 0))
        tx.put(("k", 1), b"new")
        tx.put(("k", 2), b"new")
        for i in range(buffered - 3):
            tx.put(("other", i), b"x")
        seen = []
        for key, value in tx.range(prefix=("k",)):
            seen.append((key[1], value))
            tx.put(("k", key[1] + 1), b"during")  # ahead of the cursor: not seen
            tx.delete(("k", 38))
        expected = [(1, b"new"), (2, b"new")] + [(i, b"old") for i in range(4, 40, 2)]
        assert seen == expected
        assert tx.get(("k", 38)) is None and tx.get(("k", 5)) == b"during"
    with pytest.raises(ValueError):
        with store.transaction() as tx:
            tx.put(("k", 100), b"gone")
            assert [k[1] for k, _ in tx.range(prefix=("k",))][-1] == 100
            raise ValueError
    with store.transaction() as tx:
        keys = [k[1] for k, _ in tx.range(prefix=("k",))]
    assert 0 not in keys and 38 not in keys and 100 not in keys and 5 in keys
    store.close()


def test_a_large_transaction_sends_its_writes_as_it_goes_and_still_rolls_back(tmp_path):
    from cloudlet.storage import sqlite as backend

    store = SqliteStore(str(tmp_path / "s.sqlite3"), group_commit=True)
    with store.transaction() as tx:
        tx.put(("before",), b"1")
    n = backend.SEND_AT * 2 + 5
    with pytest.raises(ValueError):
        with store.transaction() as tx:
            for i in range(n):
                tx.put(("big", i), b"x")
            assert len(tx._buf) < backend.SEND_AT  # most of it is in SQLite already
            assert sum(1 for _ in tx.range(prefix=("big",))) == n
            raise ValueError
    with store.transaction() as tx:
        for i in range(n):
            tx.put(("big", i), b"y")
    with store.transaction() as tx:
        assert tx.get(("before",)) == b"1"
        assert sum(1 for _, v in tx.range(prefix=("big",)) if v == b"y") == n
    store.close()

"""Group commit on the SQLite store: transactions are savepoints in one batch, flush() makes them durable."""

from __future__ import annotations

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


def test_unflushed_batch_is_not_durable(tmp_path):
    path = str(tmp_path / "s.sqlite3")
    store = SqliteStore(path, group_commit=True)
    with store.transaction() as tx:
        tx.put(("kept",), b"1")
    store.flush()
    with store.transaction() as tx:
        tx.put(("lost",), b"2")
    store._conn.close()  # what kill -9 leaves behind: the batch was never committed
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

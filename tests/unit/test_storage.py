"""storage backends: one conformance suite over MemoryStore and SqliteStore,
plus model-based (hypothesis stateful) tests against a plain dict."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import sqlite3
import tempfile
import threading
import time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cloudlet import storage
from cloudlet.storage import _common, codec, open_store
from cloudlet.storage.memory import MemoryStore
from cloudlet.storage.sqlite import SqliteStore, StoreLockedError

SRC = os.path.dirname(os.path.dirname(os.path.abspath(storage.__file__)))


def make_store(kind: str, path: str):
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(os.path.join(path, "store.sqlite3"))
    if kind == "sqlite-shared":  # locking_mode NORMAL, BEGIN IMMEDIATE per transaction
        return SqliteStore(os.path.join(path, "store.sqlite3"), exclusive=False)
    if kind == "sqlite-group":  # group commit: SAVEPOINT per transaction, COMMIT on flush()
        return SqliteStore(os.path.join(path, "store.sqlite3"), group_commit=True)
    raise ValueError(kind)


@pytest.fixture(params=["memory", "sqlite", "sqlite-shared", "sqlite-group"])
def store(request, tmp_path):
    s = make_store(request.param, str(tmp_path))
    yield s
    s.close()


def contents(store) -> list:
    with store.transaction() as tx:
        return list(tx.range())


def fill(store, keys, value=lambda k: repr(k).encode()):
    with store.transaction() as tx:
        for k in keys:
            tx.put(k, value(k))


class Boom(Exception):
    pass


# ---------------------------------------------------------------- basics


def test_get_put_delete(store):
    with store.transaction() as tx:
        assert tx.get(("a",)) is None
        tx.put(("a",), b"1")
        tx.put(("b", 2), b"")
        tx.put(("c", Decimal("1.0")), bytearray(b"ba"))
    with store.transaction() as tx:
        assert tx.get(("a",)) == b"1"
        assert tx.get(("b", 2)) == b""
        assert tx.get(("c", Decimal("1"))) == b"ba"
        assert type(tx.get(("c", Decimal("1")))) is bytes
        tx.put(("a",), b"2")
        tx.delete(("b", 2))
        tx.delete(("never",))  # missing: not an error
    with store.transaction() as tx:
        assert tx.get(("a",)) == b"2"
        assert tx.get(("b", 2)) is None


def test_big_values_and_codec(store):
    record = {"body": "x" * 300_000, "attrs": [1, 2.5, None, True, b"\x00bin"], "n": Decimal("-1.2E-50"), "t": (1, "a")}
    with store.transaction() as tx:
        tx.put(("rec",), codec.dumps(record))
    with store.transaction() as tx:
        back = codec.loads(tx.get(("rec",)))
    assert back == record and type(back["t"]) is tuple and type(back["attrs"][4]) is bytes


def test_bad_keys_and_values(store):
    with store.transaction() as tx:
        with pytest.raises(TypeError):
            tx.put(("a",), "not bytes")
        with pytest.raises(TypeError):
            tx.put(["a"], b"x")
        with pytest.raises(TypeError):
            tx.get("a")
    assert contents(store) == []


KEYS = [("q", "a"), ("q", "a", 1), ("q", "a", 2), ("q", "a", 10), ("q", "a", 10, "x"), ("q", "ab", 1),
        ("q", "b", 1), ("q", "b", 2), ("r",), ("p", 1)]


def test_range_order_and_bounds(store):
    fill(store, reversed(KEYS))
    with store.transaction() as tx:
        everything = [k for k, _ in tx.range()]
        assert everything == sorted(KEYS)
        assert [k for k, _ in tx.range(reverse=True)] == sorted(KEYS, reverse=True)
        # the prefix itself is included, siblings sharing a string prefix are not
        assert [k for k, _ in tx.range(prefix=("q", "a"))] == [("q", "a"), ("q", "a", 1), ("q", "a", 2), ("q", "a", 10), ("q", "a", 10, "x")]
        assert [k for k, _ in tx.range(prefix=("q", "a"), reverse=True, limit=2)] == [("q", "a", 10, "x"), ("q", "a", 10)]
        assert [k for k, _ in tx.range(prefix=("q", "a"), limit=2)] == [("q", "a"), ("q", "a", 1)]
        assert [k for k, _ in tx.range(("q", "a", 2), ("q", "b", 2))] == [("q", "a", 2), ("q", "a", 10), ("q", "a", 10, "x"), ("q", "ab", 1), ("q", "b", 1)]
        # start/end narrow a prefix; bounds outside the prefix are clipped
        assert [k for k, _ in tx.range(("q", "a", 2), None, prefix=("q", "a"))] == [("q", "a", 2), ("q", "a", 10), ("q", "a", 10, "x")]
        assert [k for k, _ in tx.range(None, ("q", "a", 10), prefix=("q", "a"), reverse=True)] == [("q", "a", 2), ("q", "a", 1), ("q", "a")]
        assert [k for k, _ in tx.range(("a",), ("z",), prefix=("q", "b"))] == [("q", "b", 1), ("q", "b", 2)]
        assert list(tx.range(("q", "b"), ("q", "a"))) == []
        assert list(tx.range(prefix=("q", "a"), limit=0)) == []
        assert list(tx.range(prefix=("nothing",))) == []
        assert dict(tx.range(prefix=("r",))) == {("r",): repr(("r",)).encode()}


def test_range_packed_keys(store):
    from cloudlet.storage.keys import pack, unpack
    fill(store, reversed(KEYS))
    with store.transaction() as tx:
        got = list(tx.range(prefix=("q", "a"), reverse=True, packed_keys=True))
        assert [k for k, _ in got] == [pack(k) for k in sorted(KEYS, reverse=True) if k[:2] == ("q", "a")]
        assert [unpack(k) for k, _ in got] == [k for k, _ in tx.range(prefix=("q", "a"), reverse=True)]
        assert [v for _, v in got] == [v for _, v in tx.range(prefix=("q", "a"), reverse=True)]


def test_packed_bytes_keys_are_the_same_keys(store):
    from cloudlet.storage.keys import pack
    with store.transaction() as tx:
        tx.put(pack(("t", 1)), b"one")
        tx.put(("t", 2), b"two")
        assert tx.get(("t", 1)) == b"one" and tx.get(pack(("t", 2))) == b"two"
        tx.delete(pack(("t", 2)))
    assert contents(store) == [(("t", 1), b"one")]


def test_range_over_many_keys_crosses_batches(store):
    fill(store, [("m", i) for i in range(3000)], value=lambda k: b"%d" % k[1])
    with store.transaction() as tx:
        got = list(tx.range(prefix=("m",)))
        assert [k[1] for k, _ in got] == list(range(3000))
        assert all(v == b"%d" % k[1] for k, v in got)
        assert [k[1] for k, _ in tx.range(prefix=("m",), reverse=True)] == list(range(2999, -1, -1))
        assert [k[1] for k, _ in tx.range(("m", 100), ("m", 2900), limit=1500)] == list(range(100, 1600))
        assert [k[1] for k, _ in tx.range(("m", 100), ("m", 2900), limit=1500, reverse=True)] == list(range(2899, 1399, -1))


def test_delete_range(store):
    fill(store, KEYS)
    with store.transaction() as tx:
        assert tx.delete_range(prefix=("q", "a")) == 5
        assert tx.delete_range(prefix=("q", "a")) == 0
        assert tx.get(("q", "ab", 1)) is not None
    assert [k for k, _ in contents(store)] == sorted(set(KEYS) - {k for k in KEYS if k[:2] == ("q", "a")})
    with store.transaction() as tx:
        assert tx.delete_range(prefix=()) == 5
    assert contents(store) == []


def test_rollback_on_exception_leaves_nothing(store):
    fill(store, KEYS)
    before = contents(store)
    with pytest.raises(Boom):
        with store.transaction() as tx:
            tx.put(("new",), b"x")
            tx.put(("q", "a"), b"changed")
            tx.delete(("r",))
            tx.delete_range(prefix=("q", "b"))
            tx.put(("q", "b", 1), b"back again")
            assert tx.get(("q", "b", 1)) == b"back again"
            raise Boom
    assert contents(store) == before
    # BaseException too (KeyboardInterrupt, CancelledError, GeneratorExit)
    with pytest.raises(KeyboardInterrupt):
        with store.transaction() as tx:
            tx.put(("new",), b"x")
            raise KeyboardInterrupt
    assert contents(store) == before
    # a read-only transaction that fails is harmless too
    with pytest.raises(Boom):
        with store.transaction() as tx:
            tx.get(("r",))
            raise Boom
    assert contents(store) == before


def test_own_writes_visible(store):
    with store.transaction() as tx:
        tx.put(("x", 1), b"1")
        tx.put(("x", 2), b"2")
        assert tx.get(("x", 1)) == b"1"
        assert list(tx.range(prefix=("x",))) == [(("x", 1), b"1"), (("x", 2), b"2")]
        tx.delete(("x", 1))
        assert tx.get(("x", 1)) is None
        assert tx.delete_range(prefix=("x",)) == 1
        assert list(tx.range()) == []


def test_nested_transaction_raises(store):
    with store.transaction() as tx:
        tx.put(("a",), b"1")
        with pytest.raises(RuntimeError):
            with store.transaction():
                pass
        tx.put(("b",), b"2")  # the outer one is unharmed
    assert [k for k, _ in contents(store)] == [("a",), ("b",)]


def test_transaction_unusable_after_exit(store):
    fill(store, [("a", i) for i in range(40)])
    with store.transaction() as tx:
        it = tx.range(prefix=("a",))
        next(it)
    for call in (lambda: tx.get(("a", 1)), lambda: tx.put(("a", 1), b""), lambda: tx.delete(("a", 1)),
                 lambda: tx.range(), lambda: tx.delete_range(prefix=("a",)), lambda: next(it)):
        with pytest.raises(RuntimeError):
            call()
    with pytest.raises(RuntimeError):  # a transaction object is entered once
        with tx:
            pass
    with store.transaction() as tx2:  # the store is fine
        assert tx2.get(("a", 1)) == repr(("a", 1)).encode()


def test_wipe(store):
    fill(store, KEYS)
    with store.transaction():
        with pytest.raises(RuntimeError):
            store.wipe()
    store.wipe()
    assert contents(store) == []
    fill(store, KEYS[:2])
    assert len(contents(store)) == 2


# ---------------------------------------------------------------- iteration under writes


def test_range_is_a_snapshot_no_halloween(store):
    """Re-keying entries forward while scanning them (a visibility index) must
    visit each original entry exactly once."""
    fill(store, [("v", t, seq) for seq, t in enumerate(range(0, 50))], value=lambda k: b"%d" % k[1])
    with store.transaction() as tx:
        seen = []
        for (_, t, seq), v in tx.range(prefix=("v",)):
            seen.append(seq)
            assert v == b"%d" % t
            tx.delete(("v", t, seq))
            tx.put(("v", t + 1000, seq), b"moved")
        assert seen == list(range(50))
        assert len(list(tx.range(prefix=("v",)))) == 50


def test_range_snapshot_sees_originals_of_changed_keys(store):
    fill(store, [("k", i) for i in range(100)], value=lambda k: b"old%d" % k[1])
    with store.transaction() as tx:
        it = tx.range(prefix=("k",))
        tx.put(("k", 0), b"new0")  # before the first next(): the snapshot is taken at range()
        tx.put(("k", 5, "inserted"), b"new")
        got = []
        for k, v in it:
            got.append((k, v))
            if k == ("k", 3):
                tx.delete(("k", 50))
                tx.put(("k", 60), b"new60")
                tx.delete_range(prefix=("k", 70))
                tx.put(("k", 70), b"new70")
                tx.put(("k", 200), b"new200")
        assert got == [(("k", i), b"old%d" % i) for i in range(100)]
        assert tx.get(("k", 60)) == b"new60" and tx.get(("k", 50)) is None
        after = dict(tx.range(prefix=("k",)))
        assert after[("k", 70)] == b"new70" and after[("k", 200)] == b"new200" and ("k", 50) not in after


def test_range_snapshot_reverse_with_limit_and_two_iterators(store):
    fill(store, [("k", i) for i in range(60)])
    with store.transaction() as tx:
        a = tx.range(prefix=("k",), reverse=True, limit=25)
        b = tx.range(prefix=("k",))
        got_a, got_b = [], []
        for (ka, _), (kb, _) in zip(a, b):
            got_a.append(ka[1])
            got_b.append(kb[1])
            tx.delete(("k", 59 - ka[1]))  # deletes ahead of b
            tx.delete(("k", ka[1] - 20))  # deletes ahead of a
        got_b += [k[1] for k, _ in b]
        assert got_a == list(range(59, 34, -1))
        assert got_b == list(range(60))


@pytest.mark.parametrize("reverse", [False, True])
def test_limited_range_over_keys_this_transaction_deleted(store, reverse):
    # The overlay hides the deleted rows; a limited range still yields exactly
    # ``limit`` rows that remain (and deletes beyond them change nothing).
    fill(store, [("k", i) for i in range(40)])
    order = list(range(40))[::-1] if reverse else list(range(40))
    with store.transaction() as tx:
        for i in order[:10] + order[25:30]:
            tx.delete(("k", i))
        for limit in (1, 3, 16, 17):
            got = [k[1] for k, _ in tx.range(prefix=("k",), reverse=reverse, limit=limit)]
            assert got == [i for i in order if i not in order[:10] + order[25:30]][:limit]


def test_prefetch_is_only_a_hint(store, monkeypatch):
    # What get() answers after prefetch() is what it answers without: for missing
    # keys, after buffered writes, after writes sent early and after delete_range.
    from cloudlet.storage import sqlite as sqlite_store
    monkeypatch.setattr(sqlite_store, "PREFETCH_CHUNK", 3)  # several queries
    monkeypatch.setattr(sqlite_store, "SEND_AT", 2)  # writes reach SQLite two at a time
    fill(store, [("k", i) for i in range(10)], value=lambda k: b"v")
    keys = [("k", i) for i in range(12)]
    with store.transaction() as tx:
        tx.prefetch(keys)
        assert [tx.get(k) for k in keys] == [b"v"] * 10 + [None, None]
        tx.put(("k", 1), b"new")
        tx.delete(("k", 2))
        tx.put(("k", 11), b"made")
        assert [tx.get(("k", i)) for i in (1, 2, 11)] == [b"new", None, b"made"]
        tx.delete_range(prefix=("k", 3))  # sends the buffer first
        assert [tx.get(("k", i)) for i in (1, 2, 3, 4, 11)] == [b"new", None, None, b"v", b"made"]
        tx.prefetch(keys)
        assert [tx.get(k) for k in keys] == [b"v", b"new", None, None] + [b"v"] * 6 + [None, b"made"]
    with store.transaction() as tx:
        assert [tx.get(k) for k in keys] == [b"v", b"new", None, None] + [b"v"] * 6 + [None, b"made"]


def test_scan_snapshot_small_world_exhaustive(store, monkeypatch):
    """Every single write (put over, put new, delete, delete_range) at every
    point of every scan shape, with batches of 2 so that every batch boundary
    is hit: the scan yields the snapshot as of range()."""
    monkeypatch.setattr(_common, "FIRST_BATCH", 2)
    monkeypatch.setattr(_common, "MAX_BATCH", 2)
    base = {("k", i): b"v%d" % i for i in range(0, 14, 2)}  # 7 keys, gaps for new ones
    fill(store, base, value=base.__getitem__)
    targets = [("k", i) for i in range(-1, 15)]
    writes = [("put", k, b"new") for k in targets] + [("delete", k) for k in targets[1::2]]
    writes += [("delete_range", k) for k in targets[1::2]]
    shapes = [dict(prefix=("k",), reverse=r, limit=lim) for r in (False, True) for lim in (None, 1, 2, 3, 5)]
    shapes += [dict(start=("k", 3), end=("k", 10), reverse=r) for r in (False, True)]
    for shape in shapes:
        for w in writes:
            for at in range(-1, 7):
                work = dict(base)
                with pytest.raises(Boom):
                    with store.transaction() as tx:
                        run_scan(tx, work, shape, [(at, w)])
                        raise Boom  # keep the store at base for the next round


def test_abandoned_iterator_stops_tracking(store):
    fill(store, [("k", i) for i in range(10)])
    with store.transaction() as tx:
        for _ in tx.range(prefix=("k",)):
            break
        assert tx._scans == []  # the generator's cleanup unregistered it
        tx.put(("k", 5), b"x")


# ---------------------------------------------------------------- SQLite specifics


def test_sqlite_reopen_keeps_committed(tmp_path):
    path = str(tmp_path / "s.sqlite3")
    s = SqliteStore(path)
    fill(s, KEYS)
    with pytest.raises(Boom):
        with s.transaction() as tx:
            tx.put(("uncommitted",), b"x")
            raise Boom
    s.close()
    s.close()  # idempotent
    s = SqliteStore(path)
    assert [k for k, _ in contents(s)] == sorted(KEYS)
    s.close()


def test_sqlite_second_open_is_refused(tmp_path):
    path = str(tmp_path / "s.sqlite3")
    s = SqliteStore(path)
    fill(s, KEYS[:1])
    with pytest.raises(StoreLockedError):
        SqliteStore(path, busy_timeout=0.05)
    s.close()
    SqliteStore(path).close()  # free again once closed


def _kill_9_after_first_line(child: str, first_line):
    """Run ``child`` (Python source), pass its first line of output to ``first_line``,
    kill -9 it; returns what ``first_line`` returned."""
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE)
    try:
        seen = first_line(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return seen


def test_sqlite_survives_kill_9(tmp_path):
    path = str(tmp_path / "s.sqlite3")
    child = f"""
import sys, time
sys.path.insert(0, {SRC!r})
from cloudlet.storage.sqlite import SqliteStore
s = SqliteStore({path!r})
for i in range(50):
    with s.transaction() as tx:
        tx.put(("k", i), b"v%d" % i)
tx = s.transaction()
tx.__enter__()
tx.put(("uncommitted",), b"x")
print("ready", flush=True)
time.sleep(60)
"""
    def check(first_line):
        assert first_line == b"ready\n"
        assert os.path.exists(path + "-wal")  # the commits are (only) in the WAL

    _kill_9_after_first_line(child, check)
    s = SqliteStore(path)
    with s.transaction() as tx:
        assert [(k, v) for k, v in tx.range()] == [(("k", i), b"v%d" % i) for i in range(50)]
    s.close()


def test_sqlite_group_commit_survives_kill_9_across_wal_restarts(tmp_path):
    """The server's set-up: group commit, a checkpoint thread copying the WAL into the
    database file, the WAL starting over every RESTART_FRAMES (made small here, so it
    starts over many times). Everything flushed is there after kill -9."""
    path = str(tmp_path / "s.sqlite3")
    child = f"""
import os, sys, time
sys.path.insert(0, {SRC!r})
from cloudlet.storage import sqlite
sqlite.RESTART_FRAMES = 32
sqlite.CHECKPOINT_EVERY = 0.002
s = sqlite.SqliteStore({path!r}, group_commit=True)
for i in range(8000):
    with s.transaction() as tx:
        tx.put(("k", i % 500), b"%d:" % i + b"x" * 1000)
        tx.get(("k", (i * 7) % 500))
    if i % 10 == 9:
        s.flush()
with s.transaction() as tx:
    tx.put(("unflushed",), b"x")
print(os.path.getsize({path!r} + "-wal"), flush=True)
time.sleep(60)
"""
    wal_size = _kill_9_after_first_line(child, int)
    # ~8 MB of values went through a WAL that kept starting over. The file keeps its
    # high-water mark: a restart the checkpoint thread delays (a busy machine: 7.9 MB seen
    # with three CPU hogs beside the test) leaves it larger than the usual 2-5 MB.
    assert wal_size < 10_000_000  # without restarts: ~14 MB
    s = SqliteStore(path)
    with s.transaction() as tx:
        got = dict(tx.range())
    s.close()
    assert got == {("k", j): b"%d:" % (7500 + j) + b"x" * 1000 for j in range(500)}


def test_sqlite_checkpoint_thread_copies_the_wal_and_stops_on_close(tmp_path, monkeypatch):
    from cloudlet.storage import sqlite

    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 0.005)
    path = str(tmp_path / "s.sqlite3")
    s = SqliteStore(path, group_commit=True)
    empty = os.path.getsize(path)
    for i in range(20):
        with s.transaction() as tx:
            tx.put(("k", i), b"x" * 10_000)
        s.flush()
    deadline = time.monotonic() + 10
    while os.path.getsize(path) < empty + 200_000:  # the thread copied the pages into the file
        assert time.monotonic() < deadline, "no checkpoint reached the database file"
        time.sleep(0.01)
    # with the store open, another connection reads what was committed
    other = sqlite3.connect(path)
    try:
        assert other.execute("SELECT count(*) FROM kv").fetchone()[0] == 20
    finally:
        other.close()
    s.close()
    assert not [t for t in threading.enumerate() if t.name == "cloudlet-checkpoint"]
    assert not os.path.exists(path + "-wal")  # the last connection checkpointed and removed it


@pytest.mark.parametrize("group", [False, True])
def test_sqlite_value_cache_follows_rollbacks(tmp_path, group):
    """The owner's value cache never shows what a rolled-back transaction wrote, also
    when the writes reached SQLite early (a range over many buffered writes)."""
    from cloudlet.storage import sqlite

    s = SqliteStore(str(tmp_path / "s.sqlite3"), group_commit=group)
    many = [("m", i) for i in range(sqlite.MERGE_MAX + 10)]
    fill(s, [("k",)] + many, value=lambda k: b"old")
    s.flush()
    with s.transaction() as tx:
        assert tx.get(("k",)) == b"old" and tx.get(("m", 3)) == b"old"  # now cached
    for early in (False, True):
        with pytest.raises(Boom):
            with s.transaction() as tx:
                tx.put(("k",), b"new")
                for k in many:
                    tx.put(k, b"new")
                if early:
                    assert sum(1 for _ in tx.range(prefix=("m",))) == len(many)  # sends them early
                assert tx.get(("k",)) == b"new" and tx.get(("m", 3)) == b"new"
                raise Boom
        with s.transaction() as tx:
            assert tx.get(("k",)) == b"old" and tx.get(("m", 3)) == b"old"
    with s.transaction() as tx:
        tx.put(("k",), b"kept")
        tx.delete(("m", 3))
    with s.transaction() as tx:
        assert tx.get(("k",)) == b"kept" and tx.get(("m", 3)) is None
    s.close()
    s = SqliteStore(str(tmp_path / "s.sqlite3"))
    with s.transaction() as tx:
        assert tx.get(("k",)) == b"kept" and tx.get(("m", 3)) is None and tx.get(("m", 4)) == b"old"
    s.close()


def test_open_store(tmp_path):
    m = open_store(None)
    assert isinstance(m, MemoryStore)
    m.close()
    s = open_store(str(tmp_path))
    assert isinstance(s, SqliteStore)
    assert s.path == os.path.join(str(tmp_path), "store.sqlite3")
    fill(s, KEYS[:1])
    s.close()
    assert os.path.exists(tmp_path / "store.sqlite3")


# ---------------------------------------------------------------- model-based

key_st = st.one_of(
    st.tuples(st.sampled_from(["a", "b", "c"])),
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 5)),
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 5), st.sampled_from([b"", b"\x00", b"x", b"\xff"])),
)
# deletes mostly hit narrow prefixes (so the store does not keep emptying); ranges use any
narrow_prefix_st = key_st.flatmap(lambda k: st.integers(max(1, len(k) - 1), len(k)).map(lambda n: k[:n]))
prefix_st = st.one_of(st.just(()), narrow_prefix_st, key_st.map(lambda k: k[:1]))
value_st = st.binary(max_size=3)
range_st = st.fixed_dictionaries(
    {
        "start": st.none() | st.none() | key_st,
        "end": st.none() | st.none() | key_st,
        "prefix": st.none() | prefix_st,
        "reverse": st.booleans(),
        "limit": st.none() | st.integers(0, 6),
    }
)
put_st = st.tuples(st.just("put"), key_st, value_st)
write_st = st.one_of(
    put_st,
    put_st,
    st.tuples(st.just("delete"), key_st),
    st.tuples(st.just("delete_range"), narrow_prefix_st),
)
op_st = st.one_of(
    write_st,
    put_st,
    st.tuples(st.just("get"), key_st),
    st.tuples(st.just("prefetch"), st.lists(key_st, max_size=6)),
    st.tuples(st.just("range"), range_st),
    # iterate a range, doing writes after the given number of items (-1: before the first)
    st.tuples(st.just("scan"), range_st, st.lists(st.tuples(st.integers(-1, 8), write_st), max_size=6)),
)


def model_range(model: dict, start=None, end=None, prefix=None, reverse=False, limit=None) -> list:
    items = sorted(model.items(), reverse=reverse)
    out = [
        (k, v)
        for k, v in items
        if (start is None or k >= start) and (end is None or k < end) and (prefix is None or k[: len(prefix)] == prefix)
    ]
    return out if limit is None else out[:limit]


_serial = itertools.count()


def apply_write(tx, model: dict, w) -> None:
    if w[0] == "put":
        value = w[2] + b"#%d" % next(_serial)  # every write visible, even "same value" ones
        tx.put(w[1], value)
        model[w[1]] = value
    elif w[0] == "delete":
        tx.delete(w[1])
        model.pop(w[1], None)
    else:
        p = w[1]
        doomed = [k for k in model if k[: len(p)] == p]
        assert tx.delete_range(prefix=p) == len(doomed)
        for k in doomed:
            del model[k]


def run_scan(tx, model: dict, args: dict, writes: list) -> None:
    """Iterate ``tx.range(**args)`` doing ``writes`` as (after how many items,
    write) -- -1 is between range() and the first next(); the iteration must
    yield exactly the model's range as of the range() call."""
    expected = model_range(model, **args)
    it = tx.range(**args)
    for at, w in writes:
        if at == -1:
            apply_write(tx, model, w)
    got = []
    for i, item in enumerate(it):
        got.append(item)
        for at, w in writes:
            if at == i:
                apply_write(tx, model, w)
    assert got == expected


class StoreModel(RuleBasedStateMachine):
    kind = "memory"

    def __init__(self):
        super().__init__()
        # tiny scan batches, so that batch boundaries are crossed all the time
        self.batches = (_common.FIRST_BATCH, _common.MAX_BATCH)
        _common.FIRST_BATCH, _common.MAX_BATCH = 2, 4
        self.dir = tempfile.mkdtemp(prefix="cloudlet-storage-")
        self.store = make_store(self.kind, self.dir)
        self.model: dict = {}
        self.seen: set = set()  # every key the model has held

    def teardown(self):
        _common.FIRST_BATCH, _common.MAX_BATCH = self.batches
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(keys=st.lists(key_st, min_size=1, max_size=25), value=value_st)
    def fill(self, keys, value):
        with self.store.transaction() as tx:
            for k in keys:
                tx.put(k, value)
                self.model[k] = value

    def attempt(self, body, fail: bool) -> None:
        """``body(tx, work)`` in one transaction on a copy of the model, which becomes
        the model if the transaction commits; with ``fail`` it raises at the end instead."""
        work = dict(self.model)
        try:
            with self.store.transaction() as tx:
                body(tx, work)
                if fail:
                    raise Boom
        except Boom:
            pass
        else:
            self.model = work

    @rule(ops=st.lists(op_st, max_size=8), fail=st.booleans())
    def transaction(self, ops, fail):
        def body(tx, work):
            for op in ops:
                kind = op[0]
                if kind == "get":
                    assert tx.get(op[1]) == work.get(op[1])
                elif kind == "prefetch":
                    tx.prefetch(op[1])  # a hint: no get after it may answer differently
                elif kind == "range":
                    assert list(tx.range(**op[1])) == model_range(work, **op[1])
                elif kind == "scan":
                    run_scan(tx, work, op[1], op[2])
                else:
                    apply_write(tx, work, op)
        self.attempt(body, fail)

    @precondition(lambda self: len(self.model) >= 4)
    @rule(data=st.data())
    def scan_under_writes(self, data):
        """A range iteration with writes aimed at the keys it covers."""
        args = data.draw(range_st)
        covered = [k for k, _ in model_range(self.model, **{**args, "limit": None})]
        target = st.sampled_from(covered) | key_st if covered else key_st
        write = st.one_of(
            st.tuples(st.just("put"), target, value_st),
            st.tuples(st.just("delete"), target),
            st.tuples(st.just("delete_range"), target.flatmap(lambda k: st.integers(1, len(k)).map(lambda n: k[:n]))),
        )
        writes = data.draw(st.lists(st.tuples(st.integers(-1, 6), write), max_size=8))
        self.attempt(lambda tx, work: run_scan(tx, work, args, writes), data.draw(st.booleans()))

    @rule(keys=st.lists(key_st, min_size=1, max_size=6), prefix=narrow_prefix_st, fail=st.booleans())
    def early_send_then_read(self, keys, prefix, fail):
        """Writes that reach SQLite before the transaction ends (delete_range sends the
        buffer first), read back, written again, then kept or rolled back."""
        before = list(self.model)[:5]

        def body(tx, work):
            tx.prefetch(keys + before)  # what it read must not outlive the writes
            for k in keys:
                apply_write(tx, work, ("put", k, b"e"))
            apply_write(tx, work, ("delete_range", prefix))
            for k in keys + before:
                assert tx.get(k) == work.get(k)
            for k in keys[:2]:
                apply_write(tx, work, ("put", k, b"f"))
        self.attempt(body, fail)

    @precondition(lambda self: len(self.model) > 30)
    @rule()
    def wipe(self):
        self.store.wipe()
        self.model = {}

    @invariant()
    def matches_model(self):
        assert contents(self.store) == model_range(self.model)
        # get() too: it has its own path (the SQLite owner answers it from a value cache)
        self.seen.update(self.model)
        with self.store.transaction() as tx:
            assert {k: tx.get(k) for k in self.seen} == {k: self.model.get(k) for k in self.seen}


class SqliteStoreModel(StoreModel):
    kind = "sqlite"

    @precondition(lambda self: len(self.model) > 10)
    @rule()
    def reopen(self):
        self.store.close()
        self.store = make_store(self.kind, self.dir)


class GroupCommitStoreModel(SqliteStoreModel):
    kind = "sqlite-group"

    @rule()
    def flush(self):
        self.store.flush()


model_settings = settings(
    max_examples=35, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestMemoryStoreModel = StoreModel.TestCase
TestMemoryStoreModel.settings = model_settings
TestSqliteStoreModel = SqliteStoreModel.TestCase
TestSqliteStoreModel.settings = model_settings
TestGroupCommitStoreModel = GroupCommitStoreModel.TestCase
TestGroupCommitStoreModel.settings = model_settings

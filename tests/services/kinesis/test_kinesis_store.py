"""services/kinesis/store.py over each storage backend."""

from __future__ import annotations

import pytest

from cloudlet.services.kinesis import store
from cloudlet.storage import open_store


@pytest.fixture(params=["memory", "sqlite"])
def st(request, tmp_path):
    s = open_store(None if request.param == "memory" else str(tmp_path))
    yield s
    s.close()


def test_account_regions_skip_over_records(st):
    with st.transaction() as tx:
        for a in ("111111111111", "222222222222"):
            for r in ("eu-west-1", "us-east-1", "us-east-1x"):
                tx.put(("kinesis", a, r, "stream", "s1"), b"x")
                for i in range(50):
                    tx.put(("kinesis", a, r, "rec", "id", 0, i), b"")
                tx.put(("kinesis", a, r, "gc", "old"), b"")
    with st.transaction() as tx:
        pairs = list(store.account_regions(tx))
        assert pairs == [(a, r) for a in ("111111111111", "222222222222")
                         for r in ("eu-west-1", "us-east-1", "us-east-1x")]
        assert len(store.all_regions_with_streams(tx)) == 6
        assert len(store.pending_gc(tx, 4)) == 4


def test_records_round_trip_and_trim(st):
    with st.transaction() as tx:
        assert store.last_counter(tx, "a", "r", "sid", 0) == -1
        for c in (10, 20, 30, 1 << 70):
            store.put_record(tx, "a", "r", "sid", 0, c, f"pk{c}", bytes([c % 256]) * 3, store.ENCRYPTED if c == 20 else 0)
        store.put_record(tx, "a", "r", "sid", 1, 5, "other", b"", 0)
    with st.transaction() as tx:
        assert store.last_counter(tx, "a", "r", "sid", 0) == 1 << 70
        rows = store.read_records(tx, "a", "r", "sid", 0, 15, 10)
        assert [c for c, _ in rows] == [20, 30, 1 << 70]
        assert store.decode_record(rows[0][1]) == ("pk20", b"\x14\x14\x14", store.ENCRYPTED)
        assert store.trim_records(tx, "a", "r", "sid", 0, 30, 100) == 2
    with st.transaction() as tx:
        assert [c for c, _ in store.read_records(tx, "a", "r", "sid", 0, 0, 10)] == [30, 1 << 70]
        assert store.read_records(tx, "a", "r", "sid", 1, 0, 10)[0][0] == 5


def test_unicode_partition_keys(st):
    with st.transaction() as tx:
        store.put_record(tx, "a", "r", "sid", 0, 1, "ключ-\ud800", b"data", 0)
        (_, raw), = store.read_records(tx, "a", "r", "sid", 0, 0, 1)
        assert store.decode_record(raw) == ("ключ-\ud800", b"data", 0)

"""Storage: an ordered key-value store with transactions (see ``interface``).

``open_store(None)`` keeps everything in memory; ``open_store(data_dir)`` uses
one SQLite file, ``<data_dir>/store.sqlite3``.
"""

from __future__ import annotations

import os

from cloudlet.storage.interface import Key, Store, Transaction

__all__ = ["Key", "Store", "Transaction", "open_store"]


def open_store(data_dir: str | None, *, group_commit: bool = False) -> Store:
    if data_dir is None:
        from cloudlet.storage.memory import MemoryStore

        return MemoryStore()
    from cloudlet.storage.sqlite import SqliteStore

    return SqliteStore(os.path.join(data_dir, "store.sqlite3"), group_commit=group_commit)

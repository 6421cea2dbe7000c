"""The storage contract every backend implements.

An ordered key-value store with atomic multi-key transactions, the model that
FoundationDB, TiKV and CockroachDB expose. Keys are tuples (encoded
order-preservingly by ``storage.keys``), values are ``bytes``. Services turn
their records into bytes with ``storage.codec``.

Rules:
- All access happens inside ``with store.transaction() as tx:``. Leaving the
  block normally commits; an exception rolls back every change and propagates.
- A transaction never spans an ``await``: the server is single-threaded asyncio,
  so a transaction that does not yield is serializable by construction.
- Nested ``store.transaction()`` while one is open raises ``RuntimeError``.
- Reads inside a transaction see that transaction's own writes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager

Key = tuple  # or the bytes ``storage.keys.pack`` made of one (get/put/delete, range bounds and prefix)


class Transaction(ABC):
    @abstractmethod
    def get(self, key: Key) -> bytes | None: ...

    @abstractmethod
    def put(self, key: Key, value: bytes) -> None: ...

    @abstractmethod
    def delete(self, key: Key) -> None:
        """Delete ``key``; deleting a missing key is not an error."""

    @abstractmethod
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
        """Yield ``(key, value)`` in key order (descending with ``reverse``).

        ``start`` is inclusive, ``end`` exclusive. With ``prefix`` only keys that
        extend the prefix tuple are yielded (``start``/``end`` then narrow it
        further). The iterator must be consumed before the transaction ends;
        mutating keys in the range while iterating is allowed and does not
        disturb the iteration (backends materialise or snapshot as needed).
        With ``packed_keys`` the keys come as ``storage.keys.pack`` bytes
        (``unpack`` gives the tuple): for callers that decode few of them.
        """

    @abstractmethod
    def delete_range(self, *, prefix: Key) -> int:
        """Delete every key under ``prefix``; return how many were deleted."""

    def prefetch(self, keys) -> None:
        """A hint: ``get`` will soon be called for these keys (tuples or packed), e.g. the
        items of a batch. A backend whose reads cost a query each may read them
        all in one; what ``get`` returns is the same either way."""


class Store(ABC):
    """Group commit: a backend may make committed transactions durable in
    batches. ``pending`` is true while some committed transaction is not yet
    durable; ``flush()`` makes everything durable; the backend calls
    ``on_pending()`` (when set) as a batch starts, so its owner can schedule a
    flush. Backends without a durability step are never pending."""

    on_pending = None  # Callable[[], None] | None
    pending = False

    def flush(self) -> None:
        """Make every committed transaction durable."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Transaction]: ...

    @abstractmethod
    def wipe(self) -> None:
        """Delete everything (``POST /_cloudlet/reset``)."""

    @abstractmethod
    def close(self) -> None: ...

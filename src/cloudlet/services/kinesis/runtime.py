"""In-process state of the Kinesis service: wake-ups, timers, throttle buckets, subscriptions.

Nothing here is durable (the store is); it is rebuilt on start-up and dropped on
reset. One ``Runtime`` per ``App``, reached through ``runtime(app)``.

- SubscribeToShard readers wait on an ``asyncio.Event`` per shard; a put
  ``notify``s the shards it wrote to, a finished transition (a shard closing)
  notifies the whole stream, a clock advance notifies everyone.
- Status transitions (CREATING, UPDATING, DELETING) end at a time stored on the
  stream. Every request settles a due transition lazily; a timer settles it on
  time even when no request comes (so a subscriber sees its shard close), and a
  clock advance settles everything due at once.
- One background task trims records past retention and collects the records of
  deleted streams, in small transactions so the event loop never stalls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from cloudlet.services.kinesis import models, store

log = logging.getLogger("cloudlet.kinesis")

TRIM_INTERVAL = 30.0  # seconds of real time between retention sweeps
TRIM_BATCH = 2000  # keys deleted per transaction


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class Subscription:
    __slots__ = ("started", "superseded")

    def __init__(self, started: float):
        self.started = started
        self.superseded = False


class Runtime:
    def __init__(self, app) -> None:
        self.app = app
        # Opt-in throughput limits. The foundation's Config has no flag for it yet,
        # so it comes from the environment (or a future ``config.kinesis_throttle``).
        self.throttle = bool(getattr(app.config, "kinesis_throttle", False)) or _flag("CLOUDLET_KINESIS_THROTTLE")
        # How long CREATING / UPDATING / DELETING last (seconds of server clock).
        self.transition = float(os.environ.get("CLOUDLET_KINESIS_TRANSITION_SECONDS", "0.5"))
        self.shard_limit = int(os.environ.get("CLOUDLET_KINESIS_SHARD_LIMIT", models.DEFAULT_SHARD_LIMIT))
        self.waiters: dict[tuple, set[asyncio.Event]] = {}
        self.write_buckets: dict[tuple, tuple[models.Bucket, models.Bucket]] = {}
        self.read_buckets: dict[tuple, tuple[models.Bucket, models.Bucket]] = {}
        self.subscriptions: dict[tuple, Subscription] = {}
        self.pending: set[tuple[str, str, str]] = set()  # streams with a transition under way
        self.timers: dict[tuple, asyncio.TimerHandle] = {}
        self.background: asyncio.Task | None = None
        self.kick: asyncio.Event | None = None

    # ------------------------------------------------------------ wake-ups

    def notify(self, key: tuple) -> None:
        for event in self.waiters.pop(key, ()):
            event.set()

    def notify_stream(self, account: str, region: str, stream_id: str) -> None:
        for key in [k for k in self.waiters if k[:3] == (account, region, stream_id)]:
            self.notify(key)

    def notify_all(self) -> None:
        waiters, self.waiters = self.waiters, {}
        for events in waiters.values():
            for event in events:
                event.set()

    def register(self, key: tuple) -> asyncio.Event:
        """Register interest before looking, then ``await`` the event: no wake-up is lost
        between a read that found nothing and the wait."""
        event = asyncio.Event()
        self.waiters.setdefault(key, set()).add(event)
        return event

    def unregister(self, key: tuple, event: asyncio.Event) -> None:
        waiting = self.waiters.get(key)
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                del self.waiters[key]

    # ------------------------------------------------------------ transitions

    def track(self, account: str, region: str, stream: dict) -> None:
        """Called after a commit that left ``stream`` in a transition: settle it on time."""
        key = (account, region, stream["name"])
        if stream.get("until") is None:
            self.pending.discard(key)
            return
        self.pending.add(key)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        old = self.timers.pop(key, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, stream["until"] - self.app.clock.now()) + 0.001
        self.timers[key] = loop.call_later(delay, self._settle_one, key)

    def _settle_one(self, key: tuple, force: bool = False) -> None:
        self.timers.pop(key, None)
        account, region, name = key
        now = self.app.clock.now()
        try:
            with self.app.store.transaction() as tx:
                stream = store.load_stream(tx, account, region, name)
                before = stream["status"] if stream else None
                settled = store.settle_stream(tx, account, region, stream, now, force) if stream else None
        except Exception:  # noqa: BLE001 — a timer must not die silently
            log.exception("kinesis: settling stream %s failed", name)
            return
        if stream is not None:
            self.notify_stream(account, region, stream["id"])
        if settled is None or settled.get("until") is None:
            self.pending.discard(key)
        elif settled is not None:
            self.track(account, region, settled)
        if before == "DELETING" and settled is None and self.kick is not None:
            self.kick.set()  # collect its records

    def settle_due(self) -> None:
        for key in list(self.pending):
            self._settle_one(key)

    def on_clock_advance(self) -> None:
        self.settle_due()
        self.notify_all()
        if self.kick is not None:
            self.kick.set()

    # ------------------------------------------------------------ throttling

    def admit_write(self, key: tuple, records: int, size: int, now: float) -> bool:
        """Charge a shard's write buckets; False when over 1,000 records/s or 1 MiB/s."""
        buckets = self.write_buckets.get(key)
        if buckets is None:
            buckets = (models.Bucket(models.WRITE_RECORDS_PER_SEC, now), models.Bucket(models.WRITE_BYTES_PER_SEC, now))
            self.write_buckets[key] = buckets
        count, volume = buckets
        if not (count.can_take(records, now) and volume.can_take(size, now)):
            return False
        count.take(records, now)
        volume.take(size, now)
        return True

    def admit_read(self, key: tuple, now: float) -> bool:
        """One GetRecords call against 5 calls/s and the 2 MiB/s volume (charged after)."""
        buckets = self.read_buckets.get(key)
        if buckets is None:
            buckets = (models.Bucket(models.READ_CALLS_PER_SEC, now), models.Bucket(models.READ_BYTES_PER_SEC, now))
            self.read_buckets[key] = buckets
        calls, volume = buckets
        if not (calls.can_take(1, now) and volume.available(now)):
            return False
        calls.take(1, now)
        return True

    def charge_read(self, key: tuple, size: int, now: float) -> None:
        buckets = self.read_buckets.get(key)
        if buckets is not None:
            buckets[1].take(size, now)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Finish transitions left by the previous process (a restart takes longer than
        any of them), then start the retention sweeper."""
        now = self.app.clock.now()
        with self.app.store.transaction() as tx:
            names = list(store.all_regions_with_streams(tx))
        for account, region, name in names:
            with self.app.store.transaction() as tx:
                stream = store.load_stream(tx, account, region, name)
                if stream is not None and stream.get("until") is not None:
                    store.settle_stream(tx, account, region, stream, now, force=True)
        self.kick = asyncio.Event()
        self.background = asyncio.get_running_loop().create_task(self._sweeper())

    async def stop(self) -> None:
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
        if self.background is not None:
            self.background.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.background
            self.background = None
        self.notify_all()

    def reset(self) -> None:
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
        self.pending.clear()
        self.write_buckets.clear()
        self.read_buckets.clear()
        for sub in self.subscriptions.values():
            sub.superseded = True
        self.subscriptions.clear()
        self.notify_all()

    async def _sweeper(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("kinesis: retention sweep failed")
            self.kick.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.kick.wait(), TRIM_INTERVAL)

    async def sweep(self) -> None:
        """Trim records past retention, expire old closed shards, collect deleted streams."""
        st = self.app.store
        with st.transaction() as tx:
            names = list(store.all_regions_with_streams(tx))
        for account, region, name in names:
            now = self.app.clock.now()
            with st.transaction() as tx:
                stream = store.get_stream(tx, account, region, name, now)
            if stream is None:
                continue
            before = models.trim_horizon_counter(stream, now)
            for shard in stream["shards"]:
                while True:
                    with st.transaction() as tx:
                        n = store.trim_records(tx, account, region, stream["id"], shard["index"], before, TRIM_BATCH)
                    await asyncio.sleep(0)
                    if n < TRIM_BATCH:
                        break
        while True:
            with st.transaction() as tx:
                todo = store.pending_gc(tx)
            if not todo:
                break
            for account, region, stream_id in todo:
                while True:
                    with st.transaction() as tx:
                        done = store.collect(tx, account, region, stream_id, TRIM_BATCH)
                    await asyncio.sleep(0)
                    if done:
                        break


def runtime(app) -> Runtime:
    rt = app.state.get("kinesis")
    if rt is None:
        rt = app.state["kinesis"] = Runtime(app)
        app.clock.on_advance(rt.on_clock_advance)
    return rt

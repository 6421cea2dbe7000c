"""The one place things are wired together: config, store, clock, services, gateway."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import pkgutil

from cloudlet import DATA_FORMAT, __version__
from cloudlet.clock import Clock
from cloudlet.config import Config
from cloudlet.gateway.dispatch import Gateway
from cloudlet import storage

log = logging.getLogger("cloudlet")


class StartupError(Exception):
    """A problem the user must fix; printed as one line, exit code 1."""


def all_services():
    """Every package under ``cloudlet.services`` that exposes ``service``: adding a
    service is adding a package (some packages hold several, as ``services``)."""
    import cloudlet.services as pkg

    found = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"cloudlet.services.{info.name}")
        found.extend(getattr(module, "services", None) or [getattr(module, "service")])
    return found


def prepare_data_dir(path: str) -> None:
    """Create the data dir, refuse one written by an incompatible version."""
    try:
        os.makedirs(path, exist_ok=True)
        marker = os.path.join(path, "cloudlet.json")
        if os.path.exists(marker):
            with open(marker) as f:
                info = json.load(f)
            if info.get("format") != DATA_FORMAT:
                raise StartupError(
                    f"data dir {path} was written by an incompatible cloudlet "
                    f"(data format {info.get('format')}, this version {__version__} reads format {DATA_FORMAT}); "
                    f"use another --data-dir or remove it"
                )
        else:
            with open(marker, "w") as f:
                json.dump({"format": DATA_FORMAT, "created_by": __version__}, f)
        probe = os.path.join(path, ".write-test")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except (OSError, ValueError) as e:
        if isinstance(e, StartupError):
            raise
        raise StartupError(f"data dir {path} is not usable: {getattr(e, 'strerror', None) or e}") from None


class App:
    def __init__(self, config: Config):
        self.config = config
        self.clock = Clock()
        if not config.in_memory:
            prepare_data_dir(config.data_dir)
        from cloudlet.storage.sqlite import StoreLockedError

        try:
            self.store = storage.open_store(None if config.in_memory else config.data_dir, group_commit=True)
        except StoreLockedError:
            raise StartupError(f"data dir {config.data_dir} is in use by another cloudlet process") from None
        except OSError as e:
            raise StartupError(f"data dir {config.data_dir} is not usable: {e.strerror or e}") from None
        self._after_commit: list = []
        # In-process state of each service (waiters, background tasks), by service name.
        self.state: dict[str, object] = {}
        self._load_clock()
        self.clock.on_advance(self._save_clock)
        self.services = all_services()
        self.gateway = Gateway(self, self.services)

    # ------------------------------------------------------------ group commit

    def durable(self, fn) -> None:
        """Call ``fn(ok)`` once everything committed so far is durable: at once
        when nothing is pending, else after the next flush. The server sends
        every answer through here, so no answer reveals a write that a crash
        could still lose."""
        if self.store.pending:
            self._after_commit.append(fn)
        else:
            fn(True)

    def _schedule_flush(self) -> None:
        asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        ok = True
        try:
            self.store.flush()
        except Exception:  # noqa: BLE001 — e.g. disk full: the batch's answers must not claim success
            log.exception("could not commit to the data dir; dropping the connections that waited on it")
            ok = False
        waiting, self._after_commit = self._after_commit, []
        for fn in waiting:
            fn(ok)

    _CLOCK_KEY = ("_cloudlet", "clock_offset")

    def _load_clock(self) -> None:
        """A moved clock stays moved across restarts: deadlines stored under it keep their meaning."""
        with self.store.transaction() as tx:
            raw = tx.get(self._CLOCK_KEY)
        if raw is not None:
            self.clock.offset = float(raw.decode())

    def _save_clock(self) -> None:
        with self.store.transaction() as tx:
            tx.put(self._CLOCK_KEY, repr(self.clock.offset).encode())

    async def start(self) -> None:
        for service in self.services:
            for hook in service.startup:
                await _maybe_await(hook(self))
        # From here on a batch of commits is flushed once per event-loop turn.
        self.store.on_pending = self._schedule_flush
        self.flush()

    async def stop(self) -> None:
        for service in self.services:
            for hook in service.shutdown:
                try:
                    await _maybe_await(hook(self))
                except Exception:  # noqa: BLE001
                    log.exception("error stopping %s", service.name)
        self.flush()
        self.store.close()

    def reset(self) -> None:
        self.store.wipe()
        self.clock.reset()  # the wiped store holds no offset either
        for service in self.services:
            for hook in service.on_reset:
                hook(self)


async def _maybe_await(value):
    if hasattr(value, "__await__"):
        return await value
    return value

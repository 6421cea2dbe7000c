"""Retention in the background: drop messages older than their queue's
MessageRetentionPeriod and expired FIFO deduplication records.

Reads never depend on it (receive and the counters check expiry themselves);
it only gives the space back for queues nobody reads.
"""

from __future__ import annotations

import asyncio
import logging

from cloudlet.services.sqs import store

log = logging.getLogger("cloudlet.sqs")

INTERVAL_SECONDS = 10.0


def sweep_all(app) -> int:
    now = int(app.clock.now() * 1000)
    removed = 0
    with app.store.transaction() as tx:
        for queue in list(store.all_queues(tx)):
            removed += store.QueueData(tx, queue).sweep(now)
    return removed


async def sweeper(app) -> None:
    while True:
        await asyncio.sleep(INTERVAL_SECONDS)
        try:
            sweep_all(app)
        except Exception:  # noqa: BLE001 — the next round tries again
            log.exception("SQS retention sweep failed")

"""Amazon Kinesis Data Streams: every operation of botocore's ``kinesis`` model.

Layout: ``models.py`` holds the domain rules (pure, ``now`` passed in: hashing,
sequence numbers, shards and resharding, transitions, tokens); ``store.py`` the
key layout; ``streams.py`` / ``records.py`` / ``shards.py`` / ``consumers.py`` /
``tags_policies.py`` the handlers by family; ``runtime.py`` the in-process
wake-ups, timers, throttle buckets and the retention sweeper; ``errors.py`` the
error messages.

Settings (environment, read at start-up):
- ``CLOUDLET_KINESIS_THROTTLE=1``: enforce per-shard throughput (1 MiB/s and 1,000
  records/s written, 5 GetRecords/s and 2 MiB/s read) with
  ``ProvisionedThroughputExceededException``; off by default.
- ``CLOUDLET_KINESIS_TRANSITION_SECONDS`` (default 0.5): how long CREATING,
  UPDATING and DELETING last.
- ``CLOUDLET_KINESIS_SHARD_LIMIT`` (default 500): the account's shard quota.
"""

from __future__ import annotations

from cloudlet.services.kinesis.service import service

# Handler modules register their operations on ``service``.
from cloudlet.services.kinesis import consumers, records, shards, streams, tags_policies  # noqa: E402,F401
from cloudlet.services.kinesis.runtime import runtime  # noqa: E402


async def _start(app) -> None:
    await runtime(app).start()


async def _stop(app) -> None:
    await runtime(app).stop()


def _reset(app) -> None:
    runtime(app).reset()


service.startup.append(_start)
service.shutdown.append(_stop)
service.on_reset.append(_reset)

__all__ = ["service"]

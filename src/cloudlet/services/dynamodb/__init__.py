"""DynamoDB: tables, items, queries, indexes, batches, transactions, PartiQL, TTL, tags,
point-in-time recovery, on-demand backups, global tables, stream records (the
DynamoDB Streams API is the dynamodbstreams service), Kinesis streaming
destinations, contributor insights settings.

Handlers are split by family (tables, replicas, items, reads, batch, transactions,
partiql, ttl, tags_policies, continuous_backups, backups, kinesis_destinations,
contributor_insights); pure domain logic lives in values/schema/capacity,
persistence in store (with the change history of ``history``), after-the-request
work (status transitions, backfills, TTL) in background. Importing this package
registers every handler on ``service``.
"""

from cloudlet.services.dynamodb.service import service
from cloudlet.services.dynamodb import background as _background
from cloudlet.services.dynamodb.validation import validation_error as _validation_error
from cloudlet.services.dynamodb import (  # noqa: F401  (importing registers the handlers)
    backups,
    batch,
    continuous_backups,
    contributor_insights,
    kinesis_destinations,
    items,
    partiql,
    reads,
    tables,
    tags_policies,
    transactions,
    ttl,
)


def _startup(app) -> None:
    _background.get_state(app).start()


def _shutdown(app) -> None:
    _background.get_state(app).stop()


def _reset(app) -> None:
    _background.get_state(app).reset()


service.startup.append(_startup)
service.shutdown.append(_shutdown)
service.on_reset.append(_reset)
service.validation_error = _validation_error

__all__ = ["service"]

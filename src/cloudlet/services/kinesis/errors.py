"""Kinesis errors with the messages AWS sends.

Messages marked (observed) are quoted in SDK issue threads or asserted by
kinesalite's tests, which were run against AWS; the others follow their pattern.
"""

from __future__ import annotations

from cloudlet.protocol.errors import ServiceError

__all__ = ["ServiceError"]


def _err(code: str):
    def make(message: str, **fields) -> ServiceError:
        return ServiceError(code, message, **fields)
    make.__name__ = code
    return make


InvalidArgument = _err("InvalidArgumentException")
ResourceInUse = _err("ResourceInUseException")
ResourceNotFound = _err("ResourceNotFoundException")
LimitExceeded = _err("LimitExceededException")
ExpiredIterator = _err("ExpiredIteratorException")
ExpiredNextToken = _err("ExpiredNextTokenException")
Throughput = _err("ProvisionedThroughputExceededException")
Validation = _err("ValidationException")
AccessDenied = _err("AccessDeniedException")


def dry_run() -> ServiceError:
    """A request with ``DryRun`` that would have succeeded (the model's text for the error)."""
    return ServiceError("DryRunOperationException", "The request was rejected because the DryRun parameter was specified.")


def stream_not_found(name: str, account: str) -> ServiceError:
    # (observed) "Stream tpmsstag under account 000000000000 not found."
    return ResourceNotFound(f"Stream {name} under account {account} not found.")


def stream_not_active(name: str, account: str, status: str) -> ServiceError:
    # (observed) "Stream x under account y not ACTIVE, instead in state UPDATING"
    return ResourceInUse(f"Stream {name} under account {account} not ACTIVE, instead in state {status}")


def shard_not_found(shard: str, name: str, account: str) -> ServiceError:
    # (observed, SplitShard/MergeShards) "Could not find shard shardId-000000000005 in stream x under account y."
    return ResourceNotFound(f"Could not find shard {shard} in stream {name} under account {account}.")


def shard_does_not_exist(shard: str, name: str, account: str) -> ServiceError:
    # (observed, GetShardIterator/GetRecords) "Shard shardId-000000000001 in stream x under account y does not exist"
    return ResourceNotFound(f"Shard {shard} in stream {name} under account {account} does not exist")


def shard_limit(account: str, region: str, current: int, limit: int, extra: int) -> ServiceError:
    # (observed) kinesalite's createStream/splitShard tests
    return LimitExceeded(
        f"This request would exceed the shard limit for the account {account} in {region}. "
        f"Current shard count for the account: {current}. Limit: {limit}. "
        f"Number of additional shards that would have resulted from this request: {extra}. "
        "Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) "
        "for current limits and how to request higher limits.")


def write_throttled(shard: str, name: str, account: str) -> ServiceError:
    # (observed) "Rate exceeded for shard shardId-000000000000 in stream x under account y."
    return Throughput(f"Rate exceeded for shard {shard} in stream {name} under account {account}.")


def read_throttled(shard: str, name: str, account: str) -> ServiceError:
    # (observed) "Rate exceeded for Shard - 477594640287/eth-erc20-event/shardId-000000000000"
    return Throughput(f"Rate exceeded for Shard - {account}/{name}/{shard}")


def consumer_not_active(name: str, created: int, stream: str, account: str) -> ServiceError:
    # (observed, PutResourcePolicy on a consumer: aws-cloudformation/cloudformation-coverage-roadmap#2442)
    # "Consumer test-consumer with creation timestamp xxxx under stream test-stream and account xxx
    # is not in ACTIVE status."
    return ResourceInUse(f"Consumer {name} with creation timestamp {created} under stream {stream} "
                         f"and account {account} is not in ACTIVE status.")


def consumer_not_active_subscribe(name: str, created: int, stream: str, account: str) -> ServiceError:
    # (observed, SubscribeToShard: awslabs/kinesis-hot-shard-advisor#37) "Consumer khs-062D... with
    # creation timestamp 1731291806 under stream: test2 , account .... is not in ACTIVE status."
    return ResourceInUse(f"Consumer {name} with creation timestamp {created} under stream: {stream} , "
                         f"account {account} is not in ACTIVE status.")


def consumers_exist(name: str, account: str) -> ServiceError:
    # (observed: hashicorp/terraform-provider-aws#8420, rebuy-de/aws-nuke#497, aws/aws-cli#3580)
    # "DeleteStream can't delete 168482979755:103-poc-kinesis-stream because there are consumers
    # associated with this data stream. To delete 103-poc-kinesis-stream anyway, set the
    # EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are
    # associated with it."
    return ResourceInUse(f"DeleteStream can't delete {account}:{name} because there are consumers associated "
                         f"with this data stream. To delete {name} anyway, set the EnforceConsumerDeletion "
                         "parameter to true to force the deletion of all the consumers that are associated with it.")

"""DynamoDB Streams' errors, with the texts AWS sends where they are known.

Known from AWS responses quoted in SDK and tool issue threads: the missing stream
(``Requested resource not found: Stream: <arn> not found``), the missing shard
(``Requested resource not found: Shard does not exist``) and the trimmed read.
The expired iterator's text is the one the API model documents for the
exception's message. The rest (malformed ARNs and iterators, sequence numbers
that do not fit the iterator type) are ValidationExceptions in Kinesis's words,
which DynamoDB Streams mirrors: best guesses, listed in the README.
"""

from __future__ import annotations

from cloudlet.protocol.errors import ServiceError, ValidationException
from cloudlet.protocol.validate import Violation, validation_message


def validation(message: str) -> ServiceError:
    return ValidationException(message=message)


def stream_not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found")


def shard_not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "Requested resource not found: Shard does not exist")


def table_not_found(name: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")


def trimmed() -> ServiceError:
    return ServiceError("TrimmedDataAccessException", "The data you are trying to access has been trimmed")


def expired_iterator() -> ServiceError:
    return ServiceError("ExpiredIteratorException", "The provided iterator exceeds the maximum age allowed.")


def invalid_arn(arn: str) -> ServiceError:
    return validation(f"Invalid StreamArn: {arn}")


def invalid_iterator() -> ServiceError:
    return validation("Invalid ShardIterator")


def limit_above(member: str, value: int, top: int) -> ServiceError:
    """The documented upper limits the model does not carry (ListStreams and
    DescribeStream 100, GetRecords 1000): AWS answers them as the model's own."""
    return validation(validation_message([Violation(
        member[0].lower() + member[1:], member, "range", f"Member must have value less than or equal to {top}",
        value)]))

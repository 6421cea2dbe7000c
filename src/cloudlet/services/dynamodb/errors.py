"""DynamoDB's errors as values, with the texts AWS sends.

Only the error *codes* live here, plus constructors for messages used in more
than one place. Messages were checked against the DynamoDB API reference and
observed responses quoted in SDK / emulator issue threads (see the README's
DynamoDB section for the list of sources).
"""

from __future__ import annotations

from cloudlet.protocol.errors import ServiceError, ValidationException

INVALID = "One or more parameter values were invalid: "
# A key in a request (GetItem Key, ExclusiveStartKey, ...) whose attributes are
# not exactly the table's key attributes, or have the wrong type.
KEY_SCHEMA_MISMATCH = "The provided key element does not match the schema"
NON_EXISTENT_TABLE = "Requested resource not found"


def validation(message: str) -> ServiceError:
    return ValidationException(message=message)


def invalid(message: str) -> ServiceError:
    """'One or more parameter values were invalid: ...'"""
    return ValidationException(message=INVALID + message)


def resource_not_found(message: str = "Requested resource not found") -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def table_not_found(name: str) -> ServiceError:
    """DescribeTable / DeleteTable / UpdateTable of a missing table."""
    return ServiceError("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")


def table_not_found_exception(name: str) -> ServiceError:
    """The backup operations' missing table (TableNotFoundException, not
    ResourceNotFound): the text AWS sends (quoted in terraform-provider-aws issue 26577)."""
    return ServiceError("TableNotFoundException", f"Table not found: {name}")


def no_such_table() -> ServiceError:
    """Item operations on a missing table."""
    return ServiceError("ResourceNotFoundException", NON_EXISTENT_TABLE)


def resource_in_use(message: str) -> ServiceError:
    return ServiceError("ResourceInUseException", message)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceededException", message)


def conditional_check_failed(item: dict | None = None) -> ServiceError:
    fields = {"Item": item} if item is not None else {}
    return ServiceError("ConditionalCheckFailedException", "The conditional request failed", **fields)


def key_mismatch() -> ServiceError:
    return ValidationException(message=KEY_SCHEMA_MISMATCH)


# The cancellation-reason text AWS documents for this case (TransactWriteItems);
# used for the exception too.
COLLECTION_SIZE_EXCEEDED = "Collection size exceeded."


class ItemCollectionSizeLimitExceeded(ServiceError):
    """An LSI table's item collection (one partition key: items plus LSI
    entries) would grow past the limit (10 GB; see background.State)."""

    def __init__(self) -> None:
        super().__init__("ItemCollectionSizeLimitExceededException", COLLECTION_SIZE_EXCEEDED)

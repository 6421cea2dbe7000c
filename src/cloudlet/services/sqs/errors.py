"""SQS errors: the model's error shapes, their legacy query codes and HTTP statuses.

SQS is ``awsQueryCompatible``: the JSON body names the shape
(``com.amazonaws.sqs#QueueDoesNotExist``), the ``x-amzn-query-error`` header and
query-protocol ``<Code>`` carry the legacy code. Codes and statuses are the
``aws.protocols#awsQueryError`` / ``smithy.api#httpError`` traits of the SQS
Smithy model (aws-sdk-go-v2 / aws-sdk-js-v3 ``codegen/sdk-codegen/aws-models/sqs.json``);
shapes without the trait keep their own name as the code.
Common errors (``MissingParameter``, ``InvalidParameterValue``) are not shapes of
the model; they are listed in the SQS API reference "Common Errors" page. Over
JSON AWS names them ``InvalidParameterValueException`` / ``MissingRequiredParameterException``
(``__type``; botocore's ``QueryErrorCode``) with the legacy code in ``x-amzn-query-error``,
as recorded from AWS in LocalStack's AWS-validated SQS snapshots (Nov 2023).
"""

from __future__ import annotations

from cloudlet.protocol.errors import ServiceError

# shape name -> (legacy query code, HTTP status)
_TABLE: dict[str, tuple[str, int]] = {
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
    "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 404),
    "ResourceNotFoundException": ("ResourceNotFoundException", 404),
    "InvalidAddress": ("InvalidAddress", 404),
    "InvalidSecurity": ("InvalidSecurity", 403),
    "OverLimit": ("OverLimit", 403),
    "RequestThrottled": ("RequestThrottled", 403),
    "KmsAccessDenied": ("KMS.AccessDeniedException", 400),
    "KmsDisabled": ("KMS.DisabledException", 400),
    "KmsInvalidKeyUsage": ("KMS.InvalidKeyUsageException", 400),
    "KmsInvalidState": ("KMS.InvalidStateException", 400),
    "KmsNotFound": ("KMS.NotFoundException", 400),
    "KmsOptInRequired": ("KMS.OptInRequired", 403),
    "KmsThrottled": ("KMS.ThrottlingException", 400),
    # No awsQueryError trait: the code is the shape name.
    "InvalidAttributeName": ("InvalidAttributeName", 400),
    "InvalidAttributeValue": ("InvalidAttributeValue", 400),
    "InvalidIdFormat": ("InvalidIdFormat", 400),
    "InvalidMessageContents": ("InvalidMessageContents", 400),
    # Common errors (not shapes of the model): the JSON shape name -> the legacy code.
    "InvalidParameterValueException": ("InvalidParameterValue", 400),
    "MissingRequiredParameterException": ("MissingParameter", 400),
    "InvalidAction": ("InvalidAction", 400),
}

QUERY_ERROR_CODES: dict[str, str] = {shape: code for shape, (code, _) in _TABLE.items()}


def error(code: str, message: str = "") -> ServiceError:
    """A ``ServiceError`` for the shape ``code`` with the status AWS uses for it."""
    return ServiceError(code=code, message=message, status=_TABLE.get(code, (code, 400))[1])


def legacy_code(code: str) -> str:
    """The code as it appears in batch ``Failed`` entries (query-era spelling)."""
    return QUERY_ERROR_CODES.get(code, code)


# ---------------------------------------------------------------- common shapes

def queue_does_not_exist(protocol: str = "json") -> ServiceError:
    # Text of the SQS developer guide's JSON error example ("sqs-json-api-responses");
    # over the query protocol AWS still says "... for this wsdl version."
    text = "The specified queue does not exist."
    if protocol == "query":
        text = "The specified queue does not exist for this wsdl version."
    return error("QueueDoesNotExist", text)


def invalid_parameter(message: str) -> ServiceError:
    return error("InvalidParameterValueException", message)


def invalid_value(name: str, value, reason: str) -> ServiceError:
    """AWS's usual shape: 'Value 15 for parameter MaxNumberOfMessages is invalid. Reason: ...'."""
    return error("InvalidParameterValueException", f"Value {value} for parameter {name} is invalid. Reason: {reason}")


def missing_parameter(name: str) -> ServiceError:
    return error("MissingRequiredParameterException", f"The request must contain the parameter {name}.")


def unknown_attribute(name: str) -> ServiceError:
    return error("InvalidAttributeName", f"Unknown Attribute {name}.")


def invalid_attribute_value(name: str, reason: str = "") -> ServiceError:
    text = f"Invalid value for the parameter {name}."
    return error("InvalidAttributeValue", f"{text} Reason: {reason}" if reason else text)


def receipt_handle_invalid(handle: str) -> ServiceError:
    return error("ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.')


def failed_entry(entry_id: str, err: ServiceError) -> dict:
    """One ``BatchResultErrorEntry``: a batch entry's failure is data, not an error response."""
    return {"Id": entry_id, "SenderFault": err.sender_fault, "Code": legacy_code(err.code), "Message": err.message}

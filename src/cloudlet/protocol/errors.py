"""Errors are values: service code raises them, the protocol layer serializes them.

A ``ServiceError`` carries the error *code* as the service's model names it
(for JSON services the shape name, e.g. ``ResourceNotFoundException`` or
``QueueDoesNotExist``), the message, the HTTP status and whether the sender is
at fault. Extra keyword fields become extra members of the error body (for
example DynamoDB's ``CancellationReasons`` or ``Item``).
"""

from __future__ import annotations


class ServiceError(Exception):
    code = "InternalFailure"
    status = 400
    sender_fault = True

    def __init__(self, code: str | None = None, message: str = "", status: int | None = None,
                 sender_fault: bool | None = None, **fields):
        super().__init__(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if sender_fault is not None:
            self.sender_fault = sender_fault
        self.message = message
        self.fields = fields

    def __repr__(self) -> str:
        return f"ServiceError({self.code!r}, {self.message!r}, status={self.status})"


class ValidationException(ServiceError):
    code = "ValidationException"


class SerializationException(ServiceError):
    code = "SerializationException"


class UnknownOperationException(ServiceError):
    code = "UnknownOperationException"


class InternalFailure(ServiceError):
    code = "InternalFailure"
    status = 500
    sender_fault = False


class NotImplementedOperation(ServiceError):
    """An operation the model has but cloudlet does not implement yet."""
    code = "NotImplemented"
    status = 501
    sender_fault = False

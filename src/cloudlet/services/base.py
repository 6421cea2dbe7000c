"""What a service is: a model name, a table of operation handlers, hooks.

A handler is a plain function (sync or ``async``) from ``(ctx, request)`` to a
response dict, with the model's member names as keys. It raises
``ServiceError`` values for AWS errors. It never sees HTTP, XML, JSON, CBOR or
base64: blobs arrive as ``bytes``, timestamps as timezone-aware ``datetime``;
it may return timestamps as ``datetime`` or epoch seconds (int/float), blobs as
``bytes``.

    sqs = Service("sqs")

    @sqs.operation("SendMessage")
    def send_message(ctx: RequestContext, req: dict) -> dict: ...

The table is checked against the model when the app starts (every handler
names a real operation).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from random import getrandbits
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloudlet.app import App
    from cloudlet.protocol.validate import Violation
    from cloudlet.protocol.errors import ServiceError


def new_id() -> str:
    """A random version-4 UUID as text (request ids, message ids): what
    ``str(uuid.uuid4())`` gives, in a third of its time. Not for secrets."""
    h = "%032x" % getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


@dataclass(slots=True)
class RequestContext:
    """Everything a handler may know about the request besides its parameters."""

    app: "App"
    service: str
    operation: str
    account: str
    region: str
    request_id: str
    host: str  # the Host header as the client sent it, e.g. "localhost:4566"
    headers: dict[str, str]
    protocol: str  # "json", "query", "cbor", ...
    path: str = "/"
    access_key: str = ""  # the SigV4 credential's access key id

    @property
    def store(self):
        return self.app.store

    @property
    def clock(self):
        return self.app.clock

    @property
    def config(self):
        return self.app.config


Handler = Callable[[RequestContext, dict], Any]


@dataclass
class Service:
    """One AWS service: its botocore model name and its handlers."""

    name: str  # botocore model name, e.g. "sqs", "dynamodb"
    handlers: dict[str, Handler] = field(default_factory=dict)
    is_async: dict[str, bool] = field(default_factory=dict)
    # Turns the validator's violations into the error this service returns.
    # None: the generic ValidationException ("N validation errors detected: ...").
    # (operation, violations, protocol) -> the error to answer for a request the model rejects
    validation_error: Callable[[str, list["Violation"], str], "ServiceError"] | None = None
    # Called before validation with (ctx, request) to fill in what the wire
    # protocol leaves implicit (e.g. SQS query requests POSTed to the queue URL).
    preprocess: Callable[[RequestContext, dict], None] | None = None
    # For awsQueryCompatible services (SQS): error shape name -> legacy query
    # code, e.g. "QueueDoesNotExist" -> "AWS.SimpleQueueService.NonExistentQueue".
    # Used for the query protocol's <Code> and the JSON x-amzn-query-error header.
    query_error_codes: dict[str, str] = field(default_factory=dict)
    # Query protocol support for a JSON service that also speaks query
    # (awsQueryCompatible): the XML namespace and the QueryNames table (see
    # protocol/query_protocol.py) botocore's current model no longer carries.
    xml_namespace: str | None = None
    query_names: dict | None = None
    # Prefix of the JSON "__type" of errors, e.g. "com.amazonaws.sqs#".
    error_type_prefix: str = ""
    # Query protocol: InvalidAction's message ("{action}" is filled in); None
    # for the common "The action X is not valid for this web service."
    invalid_action_message: str | None = None
    # Called with the App once the server runs / before it stops / on reset.
    startup: list[Callable] = field(default_factory=list)
    shutdown: list[Callable] = field(default_factory=list)
    on_reset: list[Callable] = field(default_factory=list)

    def operation(self, name: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if name in self.handlers:
                raise ValueError(f"{self.name}: {name} registered twice")
            self.handlers[name] = fn
            self.is_async[name] = inspect.iscoroutinefunction(fn)
            return fn

        return register

"""Which service and operation a request is for, and in which wire protocol.

Tables are built once from the registered services' models:
- ``X-Amz-Target: <targetPrefix>.<Operation>``  -> JSON services
- ``Action=<Operation>`` (query string or form body) -> query services, told
  apart by the SigV4 signing name (``.../sqs/aws4_request``), else by the URL
  (an SQS queue URL path), else by which model has the action.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cloudlet.gateway.http import Request
from cloudlet.protocol.model import service_model
from cloudlet.protocol.query_protocol import parse_form
from cloudlet.services.base import Service

_QUEUE_PATH = re.compile(r"^/(\d{12})/[\w-]+(\.fifo)?/?$")


@dataclass(slots=True)
class ServiceEntry:
    service: Service
    model: object  # botocore ServiceModel
    json_protocol: bool
    query_protocol: bool
    xmlns: str
    signing_name: str
    # InvalidAction's message for the query protocol ("{action}" is filled in). A service
    # that words it differently sets ``Service.invalid_action_message`` (SQS: "... for this endpoint.").
    invalid_action: str = "The action {action} is not valid for this web service."


@dataclass(slots=True)
class Route:
    entry: ServiceEntry | None
    operation: str | None
    protocol: str  # "json" | "cbor" (CBOR-JSON) | "query"
    params: dict | None = None  # decoded query parameters for the query protocol


class Router:
    def __init__(self, services: list[Service]):
        self.by_target: dict[str, ServiceEntry] = {}
        self.by_signing: dict[str, list[ServiceEntry]] = {}
        self.by_action: dict[str, list[ServiceEntry]] = {}
        self.entries: dict[str, ServiceEntry] = {}
        for service in services:
            model = service_model(service.name)
            meta = model.metadata
            protocols = set(meta.get("protocols") or [meta["protocol"]])
            query = "query" in protocols or "awsQueryCompatible" in meta
            entry = ServiceEntry(
                service=service,
                model=model,
                json_protocol="json" in protocols,
                query_protocol=query,
                xmlns=service.xml_namespace or meta.get("xmlNamespace") or "",
                signing_name=meta.get("signingName") or meta.get("endpointPrefix") or service.name,
            )
            if service.invalid_action_message:
                entry.invalid_action = service.invalid_action_message
            self.entries[service.name] = entry
            if meta.get("targetPrefix"):
                self.by_target[meta["targetPrefix"]] = entry
            self.by_signing.setdefault(entry.signing_name, []).append(entry)
            if service.name != entry.signing_name:
                self.by_signing.setdefault(service.name, []).append(entry)
            if query:
                for op in model.operation_names:
                    self.by_action.setdefault(op, []).append(entry)

    def route(self, request: Request, signing_name: str | None) -> Route:
        headers = request.headers
        target = headers.get("x-amz-target")
        if target:
            prefix, _, op = target.rpartition(".")
            entry = self.by_target.get(prefix)
            protocol = "cbor" if headers.get("content-type", "").startswith("application/x-amz-cbor") else "json"
            if entry is None:
                return Route(self._json_entry_for(signing_name), None, protocol)
            return Route(entry, op, protocol)
        ctype = headers.get("content-type", "")
        params = None
        if request.method == "GET" or ctype.startswith("application/x-www-form-urlencoded") or (
            request.query_string and "Action=" in request.query_string
        ):
            params = parse_form(request.body if request.method != "GET" else b"", request.query_string)
        action = params.get("Action") if params else None
        if action is None:
            if params is not None:
                # A query request (GET or form POST) that names no action, for a service
                # that speaks query: the gateway answers it (see dispatch), signed or not.
                entry = next((e for e in self.by_signing.get(signing_name or "", []) if e.query_protocol), None)
                if entry is None and _QUEUE_PATH.match(request.path):
                    entry = self.entries.get("sqs")
                if entry is not None:
                    return Route(entry, None, "query", params)
            entry = self._json_entry_for(signing_name)
            if entry is not None:
                return Route(entry, None, "json")
            candidates = self.by_signing.get(signing_name or "", [])
            return Route(candidates[0] if candidates else None, None, "query")
        candidates = self.by_action.get(action, [])
        entry: ServiceEntry | None = None
        if signing_name:
            entry = next((e for e in self.by_signing.get(signing_name, []) if e.query_protocol), None)
        if entry is None and _QUEUE_PATH.match(request.path):
            entry = self.entries.get("sqs")
        if entry is None and len(candidates) == 1:
            entry = candidates[0]
        return Route(entry, action, "query", params)

    def _json_entry_for(self, signing_name: str | None) -> ServiceEntry | None:
        for entry in self.by_signing.get(signing_name or "", []):
            if entry.json_protocol:
                return entry
        return None

"""The AWS query protocol: form-encoded requests, XML responses.

Used by RDS, ElastiCache, CloudWatch (legacy) and older SQS clients. Request
parameters are flat keys (``Attribute.1.Name``, ``Tags.member.2.Key``) that the
model's list/map/flattened/locationName traits turn back into a structure.
Responses are ``<OpResponse><OpResult>...</OpResult><ResponseMetadata>``.

Services whose model lost its query serialization names (SQS moved to JSON in
2023 and botocore dropped the ``locationName`` traits) pass a ``QueryNames``
table: list shape -> member element name, map shape -> (entry, key, value).
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.model import Shape

from cloudlet.protocol.errors import ServiceError
from cloudlet.protocol.validate import parse_timestamp

QueryNames = dict[str, Any]


def parse_form(body: bytes, query_string: str = "") -> dict[str, str]:
    params = dict(parse_qsl(query_string, keep_blank_values=True)) if query_string else {}
    if body:
        params.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return params


class _Names:
    def __init__(self, table: QueryNames | None):
        self.table = table or {}

    def member_name(self, shape: Shape, default: str) -> str:
        """The element / parameter name of a structure member."""
        if shape.type_name in ("list", "map") and self.flattened(shape):
            entry = self.entry_name(shape)
            if entry:
                return entry
        return shape.serialization.get("name", default)

    def flattened(self, shape: Shape) -> bool:
        return bool(shape.serialization.get("flattened"))

    def entry_name(self, shape: Shape) -> str | None:
        spec = self.table.get(shape.name)
        if shape.type_name == "list":
            if isinstance(spec, str):
                return spec
            return shape.member.serialization.get("name")
        if isinstance(spec, tuple):
            return spec[0]
        return None

    def map_names(self, shape: Shape) -> tuple[str, str]:
        spec = self.table.get(shape.name)
        if isinstance(spec, tuple):
            return spec[1], spec[2]
        return shape.key.serialization.get("name", "key"), shape.value.serialization.get("name", "value")


# ---------------------------------------------------------------- requests

def parse_request(shape: Shape | None, params: dict[str, str], names: QueryNames | None = None) -> dict:
    if shape is None:
        return {}
    return _Parser(_Names(names), params).structure(shape, "") or {}


class _Parser:
    def __init__(self, names: _Names, params: dict[str, str]):
        self.names = names
        self.params = params
        # Prefixes present, to skip absent members without scanning every key.
        self.prefixes = set()
        for key in params:
            parts = key.split(".")
            for i in range(1, len(parts) + 1):
                self.prefixes.add(".".join(parts[:i]))

    def value(self, shape: Shape, prefix: str):
        t = shape.type_name
        if t == "structure":
            return self.structure(shape, prefix)
        if t == "list":
            return self.list(shape, prefix)
        if t == "map":
            return self.map(shape, prefix)
        raw = self.params.get(prefix)
        if raw is None:
            return None
        return _scalar(t, raw)

    def structure(self, shape: Shape, prefix: str):
        out = {}
        for name, mshape in shape.members.items():
            key = self.names.member_name(mshape, name)
            full = f"{prefix}.{key}" if prefix else key
            if full not in self.prefixes:
                continue
            v = self.value(mshape, full)
            if v is not None:
                out[name] = v
        return out if (out or prefix == "" or prefix in self.params) else None

    def list(self, shape: Shape, prefix: str):
        if self.names.flattened(shape):
            base = prefix
        else:
            base = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        if prefix in self.params and self.params[prefix] == "":
            return []  # an explicitly empty list
        out = []
        i = 1
        while f"{base}.{i}" in self.prefixes:
            out.append(self.value(shape.member, f"{base}.{i}"))
            i += 1
        return out

    def map(self, shape: Shape, prefix: str):
        base = prefix if self.names.flattened(shape) else f"{prefix}.entry"
        kname, vname = self.names.map_names(shape)
        out = {}
        i = 1
        while f"{base}.{i}" in self.prefixes:
            k = self.params.get(f"{base}.{i}.{kname}")
            if k is not None:
                out[k] = self.value(shape.value, f"{base}.{i}.{vname}")
            i += 1
        return out


def _scalar(type_name: str, raw: str):
    try:
        if type_name in ("integer", "long"):
            return int(raw)
        if type_name in ("float", "double"):
            return float(raw)
        if type_name == "boolean":
            low = raw.lower()
            if low in ("true", "false"):
                return low == "true"
            return raw
        if type_name == "blob":
            return base64.b64decode(raw)
        if type_name == "timestamp":
            return parse_timestamp(raw)
    except ValueError:
        return raw  # left as text: the validator reports the type violation
    return raw


# ---------------------------------------------------------------- responses

def _iso(value) -> str:
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class _Writer:
    def __init__(self, names: _Names):
        self.names = names
        self.out: list[str] = []

    def element(self, name: str, shape: Shape, value) -> None:
        t = shape.type_name
        w = self.out.append
        if t == "structure":
            w(f"<{name}>")
            self.members(shape, value)
            w(f"</{name}>")
        elif t == "list":
            if self.names.flattened(shape):
                for item in value:
                    self.element(name, shape.member, item)
            else:
                inner = shape.member.serialization.get("name", "member")
                w(f"<{name}>")
                for item in value:
                    self.element(inner, shape.member, item)
                w(f"</{name}>")
        elif t == "map":
            kname, vname = self.names.map_names(shape)
            flat = self.names.flattened(shape)
            if not flat:
                w(f"<{name}>")
            for k, v in value.items():
                w(f"<{name}>" if flat else "<entry>")
                w(f"<{kname}>{escape(str(k))}</{kname}>")
                self.element(vname, shape.value, v)
                w(f"</{name}>" if flat else "</entry>")
            if not flat:
                w(f"</{name}>")
        else:
            w(f"<{name}>{_text(t, value)}</{name}>")

    def members(self, shape: Shape, value: dict) -> None:
        for mname, mshape in shape.members.items():
            v = value.get(mname)
            if v is None:
                continue
            self.element(self.names.member_name(mshape, mname), mshape, v)


_XML_ESCAPES = {"\r": "&#xD;", '"': "&quot;"}


def _text(type_name: str, value) -> str:
    if type_name == "boolean":
        return "true" if value else "false"
    if type_name == "timestamp":
        return _iso(value)
    if type_name == "blob":
        if isinstance(value, str):
            value = value.encode()
        return base64.b64encode(value).decode()
    if isinstance(value, float) and value.is_integer() and type_name in ("integer", "long"):
        value = int(value)
    if isinstance(value, Decimal):
        value = str(value)
    return escape(str(value), _XML_ESCAPES)


def serialize_response(operation: str, output_shape: Shape | None, result: dict | None, xmlns: str,
                       request_id: str, names: QueryNames | None = None, wrapper: str | None = None) -> bytes:
    writer = _Writer(_Names(names))
    w = writer.out.append
    w(f'<?xml version="1.0"?>\n<{operation}Response xmlns="{xmlns}">')
    if output_shape is not None:
        wrap = wrapper or f"{operation}Result"
        w(f"<{wrap}>")
        start = len(writer.out)
        writer.members(output_shape, result or {})
        if len(writer.out) == start:  # nothing to say: <ReceiveMessageResult/>, as AWS writes it
            writer.out[-1] = f"<{wrap}/>"
        else:
            w(f"</{wrap}>")
    w(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>")
    return "".join(writer.out).encode()


def error_body(code: str, err: ServiceError, xmlns: str, request_id: str) -> bytes:
    kind = "Sender" if err.sender_fault else "Receiver"
    return (
        f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{xmlns}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(err.message)}</Message><Detail/></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()

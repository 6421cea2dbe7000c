"""The protocol layer checked against a second implementation: botocore itself.

Requests: botocore's client serializer encodes random parameters for every
operation of several models; our parser + validator must give back the same
values. Responses: our serializer encodes random results; botocore's response
parser must read back the same values. Covers json (1.0/1.1) and query, every
shape kind (nested structures, lists, maps, flattened, blobs, timestamps).
"""

from __future__ import annotations

import copy
import random
from datetime import datetime, timezone

import pytest
from botocore import parsers, serialize
from botocore.model import ServiceModel

from cloudlet.protocol import json_protocol, query_protocol
from cloudlet.protocol.model import service_model
from cloudlet.protocol.query_protocol import parse_form
from cloudlet.protocol.validate import compile_input
from cloudlet.services.sqs.query_compat import QUERY_NAMES, XML_NAMESPACE

SERVICES = ["dynamodb", "sqs", "kinesis", "dynamodbstreams", "rds", "elasticache"]


def gen(shape, rnd: random.Random, depth=0, ms=True):
    t = shape.type_name
    if t == "structure":
        if shape.metadata.get("document") or shape.metadata.get("union"):
            members = list(shape.members.items())
            if not members or shape.metadata.get("document"):
                return None
            name, m = rnd.choice(members)
            v = gen(m, rnd, depth + 1, ms)
            return {name: v} if v is not None else None
        out = {}
        for name, m in shape.members.items():
            if m.serialization.get("location") or m.metadata.get("eventstream"):
                continue
            if name in shape.required_members or (depth < 3 and rnd.random() < 0.6):
                v = gen(m, rnd, depth + 1, ms)
                if v is not None:
                    out[name] = v
        # an empty structure has no query encoding (nothing is sent for it)
        return out if out or depth == 0 else None
    if t == "list":
        if depth > 4:
            return []
        items = [gen(shape.member, rnd, depth + 1, ms) for _ in range(rnd.randint(1, 3))]
        return [i for i in items if i is not None]
    if t == "map":
        if depth > 4:
            return {}
        out = {}
        for _ in range(rnd.randint(1, 3)):
            v = gen(shape.value, rnd, depth + 1, ms)
            if v is not None:
                k = rnd.choice(shape.key.enum) if shape.key.enum else f"k{rnd.randint(0, 999)}"
                out[k] = v
        return out
    if t == "string":
        if shape.enum:
            return rnd.choice(shape.enum)
        return rnd.choice(["a", "hello world", "x&y<z>\"'", "ünïcødé ✓", "a=b+c/d?e"]) + str(rnd.randint(0, 99))
    if t in ("integer", "long"):
        return rnd.randint(-5, 100000)
    if t in ("float", "double"):
        return rnd.choice([0.5, 1.25, 100.0, -3.75])
    if t == "boolean":
        return rnd.random() < 0.5
    if t == "blob":
        return bytes(rnd.randint(0, 255) for _ in range(rnd.randint(1, 20)))
    if t == "timestamp":
        return datetime(2024, 1, 2, 3, 4, 5, rnd.randint(0, 999) * 1000 * ms, tzinfo=timezone.utc)
    return None


def operations():
    for name in SERVICES:
        model = service_model(name)
        for op in model.operation_names:
            yield name, op


def _query_model(name: str) -> ServiceModel:
    """SQS's model lost its query names; rebuild a query variant from our table
    so botocore's query serializer/parser speak the dialect old SDKs used."""
    model = service_model(name)
    if model.protocol == "query":
        return model
    raw = copy.deepcopy(model._service_description)
    raw["metadata"]["protocol"] = "query"
    raw["metadata"]["protocols"] = ["query"]
    raw["metadata"]["xmlNamespace"] = XML_NAMESPACE
    for shape_name, spec in QUERY_NAMES.items():
        shape = raw["shapes"][shape_name]
        if isinstance(spec, str):
            shape["member"]["locationName"] = spec
        else:
            shape["key"]["locationName"], shape["value"]["locationName"] = spec[1], spec[2]
    for op_name, op in raw["operations"].items():
        if "output" in op:
            op["output"]["resultWrapper"] = f"{op_name}Result"
    # a flattened list/map member takes its entry name
    for shape in raw["shapes"].values():
        for member in shape.get("members", {}).values():
            spec = QUERY_NAMES.get(member["shape"])
            if spec is not None:
                member["locationName"] = spec if isinstance(spec, str) else spec[0]
    return ServiceModel(raw, service_name=name)


@pytest.mark.parametrize("service,operation", list(operations()))
def test_request_roundtrip(service, operation):
    model = service_model(service)
    op = model.operation_model(operation)
    if op.input_shape is None or any(m.serialization.get("location") for m in op.input_shape.members.values()):
        pytest.skip("no body input")
    for seed in range(3):
        # botocore sends JSON request timestamps as whole epoch seconds
        params = gen(op.input_shape, random.Random(f"{operation}{seed}"), ms=False)
        errors: list = []
        if model.protocol == "json" and "json" in (model.metadata.get("protocols") or ["json"]):
            wire = serialize.create_serializer("json", include_validation=False).serialize_to_request(params, op)
            parsed = json_protocol.parse_body(wire["body"])
            parsed = compile_input(op.input_shape)(parsed, "", "", errors)
            assert [e for e in errors if e.kind == "type"] == []
            assert parsed == params
        qmodel = _query_model(service) if service == "sqs" else (model if model.protocol == "query" else None)
        if qmodel is None:
            continue
        qop = qmodel.operation_model(operation)
        wire = serialize.create_serializer("query", include_validation=False).serialize_to_request(params, qop)
        body = wire["body"] if isinstance(wire["body"], (bytes, str)) else _encode(wire["body"])
        form = parse_form(body.encode() if isinstance(body, str) else body)
        names = QUERY_NAMES if service == "sqs" else None
        parsed = query_protocol.parse_request(op.input_shape, form, names)
        errors = []
        parsed = compile_input(op.input_shape)(parsed, "", "", errors)
        assert [e for e in errors if e.kind == "type"] == []
        assert parsed == params


def _encode(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


@pytest.mark.parametrize("service,operation", list(operations()))
def test_response_roundtrip(service, operation):
    model = service_model(service)
    op = model.operation_model(operation)
    if op.output_shape is None or op.has_event_stream_output:
        pytest.skip("no body output")
    if any(m.serialization.get("location") for m in op.output_shape.members.values()):
        pytest.skip("headers output")
    for seed in range(3):
        result = gen(op.output_shape, random.Random(f"out{operation}{seed}"))
        if model.protocol == "json":
            body = json_protocol.serialize_response(op.output_shape, copy.deepcopy(result))
            parsed = parsers.create_parser("json").parse(
                {"status_code": 200, "headers": {}, "body": body}, op.output_shape)
            parsed.pop("ResponseMetadata", None)
            assert parsed == result
        qmodel = _query_model(service) if service == "sqs" else (model if model.protocol == "query" else None)
        if qmodel is None:
            continue
        qop = qmodel.operation_model(operation)
        names = QUERY_NAMES if service == "sqs" else None
        wrapper = qop.output_shape.serialization.get("resultWrapper")
        body = query_protocol.serialize_response(operation, op.output_shape, copy.deepcopy(result), "urn:x",
                                                 "req-1", names, wrapper)
        parsed = parsers.create_parser("query").parse({"status_code": 200, "headers": {}, "body": body},
                                                      qop.output_shape)
        parsed.pop("ResponseMetadata", None)
        assert parsed == result

"""The gateway over a real socket: routing, auth, protocol errors, internal endpoints."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

AUTH = "AWS4-HMAC-SHA256 Credential={key}/20240101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=abc"


def call(url, body=b"", headers=None, method="POST"):
    req = urllib.request.Request(url, data=body if method != "GET" else None, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def json_call(server, target, body=b"{}", key="test", service="dynamodb", auth=True):
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
    if auth:
        headers["Authorization"] = AUTH.format(key=key, region="us-east-1", service=service)
    return call(server.url + "/", body, headers)


def test_health_reports_version_and_services(server):
    status, headers, body = call(server.url + "/_cloudlet/health", method="GET")
    info = json.loads(body)
    assert status == 200
    assert info["version"]
    assert info["services"]["sqs"] == "running"


def test_unknown_internal_endpoint_is_404(server):
    status, _, _ = call(server.url + "/_cloudlet/nope", method="GET")
    assert status == 404


def test_unknown_json_operation(server):
    status, _, body = json_call(server, "AmazonSQS.DoSomethingElse", service="sqs")
    assert status == 400
    assert json.loads(body)["__type"].endswith("UnknownOperationException")


def test_unknown_query_action(server):
    headers = {"Authorization": AUTH.format(key="test", region="us-east-1", service="sqs"),
               "Content-Type": "application/x-www-form-urlencoded"}
    status, _, body = call(server.url + "/", b"Action=DoSomethingElse&Version=2012-11-05", headers)
    assert status == 400
    assert b"<Code>InvalidAction</Code>" in body
    # SQS's wording (the only query service so far); the text is per service.
    assert b"The action DoSomethingElse is not valid for this endpoint." in body


def test_query_request_without_an_action(server):
    # Names no operation at all: a bare 404 <UnknownOperationException/>, as AWS's front end
    # answers; a JSON request without X-Amz-Target still gets the JSON error.
    auth = {"Authorization": AUTH.format(key="test", region="us-east-1", service="sqs")}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for method, body, extra in (("GET", b"", {}), ("POST", b"Version=2012-11-05", form)):
        headers = dict(auth, **extra)
        status, got, raw = call(server.url + "/", body, headers, method=method)
        assert (status, raw, got.get("Content-Type")) == (404, b"<UnknownOperationException/>\n", None)
    status, _, body = call(server.url + "/", b"{}", dict(auth, **{"Content-Type": "application/x-amz-json-1.0"}))
    assert status == 400 and json.loads(body)["__type"].endswith("UnknownOperationException")


def test_unknown_service_is_a_clear_400(server):
    status, _, body = call(server.url + "/", b"hello", {"Content-Type": "text/plain"})
    assert status == 400
    assert b"UnknownServiceException" in body


def test_malformed_json_is_serialization_exception(server):
    status, _, body = json_call(server, "AmazonSQS.ListQueues", body=b"{not json", service="sqs")
    assert status == 400
    assert json.loads(body)["__type"].endswith("SerializationException")


def test_missing_authentication(server):
    status, _, body = json_call(server, "AmazonSQS.ListQueues", service="sqs", auth=False)
    assert status == 400
    assert json.loads(body)["__type"].endswith("MissingAuthenticationTokenException")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, body = call(server.url + "/", b"Action=ListQueues&Version=2012-11-05", headers)
    assert status == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in body


def test_incomplete_signature(server):
    headers = {"X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0",
               "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request"}
    status, _, body = call(server.url + "/", b"{}", headers)
    assert status == 400
    err = json.loads(body)
    assert err["__type"].endswith("IncompleteSignatureException")
    assert "Authorization header requires 'Signature' parameter." in err["message"]


def test_presigned_query_auth_is_accepted(server):
    qs = ("Action=ListQueues&Version=2012-11-05&X-Amz-Algorithm=AWS4-HMAC-SHA256"
          "&X-Amz-Credential=123456789012%2F20240101%2Fus-east-1%2Fsqs%2Faws4_request"
          "&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=abc")
    status, _, body = call(server.url + "/?" + qs, method="GET")
    assert status == 200, body
    assert b"<ListQueuesResponse" in body


def test_accounts_and_regions_are_isolated(client_factory, unique_name):
    name = unique_name("iso")
    a = client_factory("sqs", access_key="111111111111")
    b = client_factory("sqs", access_key="222222222222")
    west = client_factory("sqs", access_key="111111111111", region="us-west-2")
    url = a.create_queue(QueueName=name)["QueueUrl"]
    assert "/111111111111/" in url
    for other in (b, west):
        with pytest.raises(ClientError) as e:
            other.get_queue_url(QueueName=name)
        assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_non_numeric_access_key_uses_default_account(client_factory, unique_name):
    url = client_factory("sqs", access_key="AKIDEXAMPLE").create_queue(QueueName=unique_name("acct"))["QueueUrl"]
    assert "/000000000000/" in url


def test_answers_carry_a_date_header(server):
    import email.utils
    import time

    status, headers, _ = json_call(server, "DynamoDB_20120810.ListTables")
    assert status == 200
    sent = email.utils.parsedate_to_datetime(headers["Date"]).timestamp()
    assert abs(sent - time.time()) < 5


def test_request_id_header(client_factory):
    meta = client_factory("sqs").list_queues()["ResponseMetadata"]
    assert len(meta["RequestId"]) == 36
    assert meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"]


def test_pipelined_requests_answer_in_order(server):
    import socket

    host, port = "127.0.0.1", server.port
    reqs = b""
    for i in range(5):
        path = "/_cloudlet/health" if i % 2 == 0 else "/_cloudlet/nope"
        reqs += f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(reqs)
        data = b""
        while data.count(b"HTTP/1.1 ") < 5:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
    assert statuses == [b"200", b"404", b"200", b"404", b"200"]


def test_reset_wipes_everything(tmp_path):
    from tests.conftest import ServerProcess, make_client

    srv = ServerProcess().start()
    try:
        c1 = make_client("sqs", srv.url, access_key="111111111111")
        c2 = make_client("sqs", srv.url, region="eu-west-1")
        c1.create_queue(QueueName="a")
        c2.create_queue(QueueName="b")
        srv.post("/_cloudlet/reset")
        assert c1.list_queues().get("QueueUrls", []) == []
        assert c2.list_queues().get("QueueUrls", []) == []
    finally:
        srv.stop()


def test_clock_endpoint_moves_time_forward():
    from tests.conftest import ServerProcess

    server = ServerProcess().start()
    try:
        _check_clock(server)
    finally:
        server.stop()


def _check_clock(server):
    status, _, body = call(server.url + "/_cloudlet/clock", method="GET")
    before = json.loads(body)["now"]
    status, _, body = call(server.url + "/_cloudlet/clock", b'{"advance": 3600}')
    assert status == 200
    assert json.loads(body)["now"] >= before + 3600
    status, _, _ = call(server.url + "/_cloudlet/clock", b'{"advance": -5}')
    assert status == 400


def test_clock_offset_survives_restart(durable_server):
    durable_server.advance_clock(1000)
    durable_server.restart()
    status, _, body = call(durable_server.url + "/_cloudlet/clock", method="GET")
    assert json.loads(body)["offset"] >= 1000


@pytest.mark.parametrize("service,target,body,message", [
    # DynamoDB's deserializer, quoted from AWS in localstack/localstack#9412
    ("dynamodb", "DynamoDB_20120810.PutItem", {"TableName": "t", "Item": {"pk": {"S": 5}}},
     "NUMBER_VALUE cannot be converted to String"),
    ("dynamodb", "DynamoDB_20120810.Scan", {"TableName": "ttt", "Limit": "x"}, "STRING_VALUE cannot be converted to Integer"),
    ("dynamodb", "DynamoDB_20120810.Scan", {"TableName": ["ttt"]}, "Start of list found where not expected."),
    ("kinesis", "Kinesis_20131202.CreateStream", {"StreamName": "s", "ShardCount": "x"},
     "STRING_VALUE cannot be converted to Integer"),
    ("kinesis", "Kinesis_20131202.ListStreams", {"Limit": {"a": 1}}, "Start of structure or map found where not expected."),
])
def test_wrong_json_types_are_serialization_exceptions(server, service, target, body, message):
    status, _, raw = json_call(server, target, json.dumps(body).encode(), service=service)
    answer = json.loads(raw)
    assert status == 400 and answer["__type"].endswith("SerializationException"), answer
    assert answer["message"] == message


def test_cors_preflight_allows_any_origin(server):
    """A browser's preflight (the AWS SDK for JavaScript in a web page) is answered for every path."""
    for path in ("/", "/000000000000/some-queue", "/_cloudlet/health"):
        status, headers, body = call(server.url + path, method="OPTIONS", headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-amz-date,x-amz-target,amz-sdk-request",
        })
        assert status == 200
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in headers["Access-Control-Allow-Methods"]
        assert headers["Access-Control-Allow-Headers"] == \
            "authorization,content-type,x-amz-date,x-amz-target,amz-sdk-request"
        assert body == b""


def test_cors_headers_on_answers_to_browsers(client_factory, unique_name):
    name = unique_name()
    ddb = client_factory("dynamodb")

    def add_origin(request, **kwargs):
        request.headers["Origin"] = "http://localhost:3000"

    ddb.meta.events.register("before-send.dynamodb", add_origin)
    seen = ddb.list_tables()["ResponseMetadata"]["HTTPHeaders"]
    assert seen["access-control-allow-origin"] == "*"
    assert "x-amzn-requestid" in seen["access-control-expose-headers"].lower()
    with pytest.raises(ClientError) as e:  # errors too: the page must be able to read them
        ddb.describe_table(TableName=name)
    headers = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert headers["access-control-allow-origin"] == "*"
    # Without an Origin (every SDK outside a browser) nothing is added.
    plain = client_factory("dynamodb").list_tables()["ResponseMetadata"]["HTTPHeaders"]
    assert "access-control-allow-origin" not in plain


def test_cors_headers_on_long_polls(client_factory, unique_name):
    sqs = client_factory("sqs")
    url = sqs.create_queue(QueueName=unique_name())["QueueUrl"]

    def add_origin(request, **kwargs):
        request.headers["Origin"] = "http://localhost:3000"

    sqs.meta.events.register("before-send.sqs", add_origin)
    answer = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert answer["ResponseMetadata"]["HTTPHeaders"]["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("body, code", [
    (b'{"QueueUrl": "http://localhost/000000000000/q", "MaxNumberOfMessages": 20}', "InvalidParameterValue"),
    (b'{"QueueUrl": "http://localhost/000000000000/q"}', "MissingParameter"),
])
def test_sqs_common_errors_have_coral_json_types(server, client_factory, body, code):
    """SQS's common errors are not shapes of its model: over JSON AWS names them in coral's namespace."""
    client_factory("sqs").create_queue(QueueName="q")
    target = "AmazonSQS.ReceiveMessage" if code == "InvalidParameterValue" else "AmazonSQS.SendMessage"
    status, headers, raw = call(server.url + "/", body, {
        "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0",
        "Authorization": AUTH.format(key="test", region="us-east-1", service="sqs")})
    shape = "InvalidParameterValueException" if code == "InvalidParameterValue" else "MissingRequiredParameterException"
    assert status == 400
    assert json.loads(raw)["__type"] == f"com.amazon.coral.service#{shape}"
    assert headers["x-amzn-query-error"] == f"{code};Sender"

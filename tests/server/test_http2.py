"""HTTP/2 cleartext on the same port as HTTP/1.1, for every service."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import httpx
import pytest

AUTH = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=abc"
NODE_DIR = os.path.join(os.path.dirname(__file__), "..", "node")


def h2_call(client: httpx.Client, url: str, service: str, target: str, body: dict, version: str = "1.0"):
    return client.post(url + "/", content=json.dumps(body).encode(), headers={
        "X-Amz-Target": target, "Content-Type": f"application/x-amz-json-{version}",
        "Authorization": AUTH.format(service=service)})


@pytest.fixture
def h2(server):
    with httpx.Client(http1=False, http2=True, timeout=10) as client:  # prior knowledge
        yield client


def test_sqs_over_http2(server, h2):
    name = f"h2-{uuid.uuid4().hex[:8]}"
    r = h2_call(h2, server.url, "sqs", "AmazonSQS.CreateQueue", {"QueueName": name})
    assert r.http_version == "HTTP/2" and r.status_code == 200
    url = r.json()["QueueUrl"]
    r = h2_call(h2, server.url, "sqs", "AmazonSQS.SendMessage", {"QueueUrl": url, "MessageBody": "over h2"})
    assert r.status_code == 200
    r = h2_call(h2, server.url, "sqs", "AmazonSQS.ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 1})
    assert [m["Body"] for m in r.json()["Messages"]] == ["over h2"]
    r = h2_call(h2, server.url, "sqs", "AmazonSQS.GetQueueUrl", {"QueueName": name + "-missing"})
    assert r.status_code == 400 and r.headers["x-amzn-query-error"].startswith("AWS.SimpleQueueService.NonExistentQueue")


def test_dynamodb_over_http2(server, h2):
    table = f"h2-{uuid.uuid4().hex[:8]}"
    r = h2_call(h2, server.url, "dynamodb", "DynamoDB_20120810.CreateTable", {
        "TableName": table, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})
    assert r.http_version == "HTTP/2" and r.status_code == 200, r.text
    r = h2_call(h2, server.url, "dynamodb", "DynamoDB_20120810.DescribeTable", {"TableName": table})
    assert r.json()["Table"]["TableName"] == table


def test_kinesis_over_http2(server, h2):
    stream = f"h2-{uuid.uuid4().hex[:8]}"
    r = h2_call(h2, server.url, "kinesis", "Kinesis_20131202.CreateStream", {"StreamName": stream, "ShardCount": 1}, "1.1")
    assert r.http_version == "HTTP/2" and r.status_code == 200, r.text
    r = h2_call(h2, server.url, "kinesis", "Kinesis_20131202.DescribeStreamSummary", {"StreamName": stream}, "1.1")
    assert r.json()["StreamDescriptionSummary"]["StreamName"] == stream


def test_multiplexed_long_polls_do_not_block_each_other(server, h2):
    import concurrent.futures
    import time

    url = h2_call(h2, server.url, "sqs", "AmazonSQS.CreateQueue", {"QueueName": f"h2mux-{uuid.uuid4().hex[:8]}"}).json()["QueueUrl"]
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        polls = [pool.submit(h2_call, h2, server.url, "sqs", "AmazonSQS.ReceiveMessage",
                             {"QueueUrl": url, "WaitTimeSeconds": 1}) for _ in range(6)]
        statuses = [p.result().status_code for p in polls]
    assert statuses == [200] * 6
    assert time.monotonic() - t0 < 3.0  # six 1-second polls on one connection ran side by side


def test_upgrade_h2c_from_http11(server):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl not installed")
    out = subprocess.run([curl, "-s", "-i", "--http2", server.url + "/_cloudlet/health"], capture_output=True, timeout=10)
    text = out.stdout.decode(errors="replace")
    assert "HTTP/1.1 101 Switching Protocols" in text
    assert "HTTP/2 200" in text


def test_http11_still_served(server):
    with httpx.Client(http1=True, http2=False) as client:
        r = client.get(server.url + "/_cloudlet/health")
    assert r.http_version == "HTTP/1.1" and r.status_code == 200


@pytest.mark.slow
def test_javascript_sdk_v3_kinesis_default_client(server, node_modules):
    stream = f"js-{uuid.uuid4().hex[:8]}"
    out = subprocess.run(["node", "kinesis_http2.mjs", server.url, stream], cwd=NODE_DIR, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"failed": 0, "data": ["record-0", "record-1", "record-2"]}

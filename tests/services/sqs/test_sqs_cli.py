"""The AWS CLI (``aws sqs ... --endpoint-url``) against a real server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest


def _cli(server, *args: str) -> subprocess.CompletedProcess:
    """``aws sqs <args> --endpoint-url <server>`` with test credentials."""
    exe = shutil.which("aws")
    cmd = [exe] if exe else [sys.executable, "-m", "awscli"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}
    env.pop("AWS_PROFILE", None)
    return subprocess.run(cmd + ["sqs", *args, "--endpoint-url", server.url], capture_output=True, text=True,
                          env=env, timeout=60)


def aws(server, *args: str) -> dict:
    r = _cli(server, *args, "--output", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout) if r.stdout.strip() else {}


def test_cli_create_send_receive_delete(server, unique_name):
    if not shutil.which("aws"):
        pytest.importorskip("awscli")
    name = unique_name("cli")
    url = aws(server, "create-queue", "--queue-name", name)["QueueUrl"]
    assert url.endswith(f"/000000000000/{name}")
    sent = aws(server, "send-message", "--queue-url", url, "--message-body", "from the cli",
               "--message-attributes", '{"k": {"DataType": "String", "StringValue": "v"}}')
    assert sent["MessageId"] and sent["MD5OfMessageAttributes"]
    got = aws(server, "receive-message", "--queue-url", url, "--message-attribute-names", "All",
              "--attribute-names", "All")
    [msg] = got["Messages"]
    assert msg["Body"] == "from the cli" and msg["MessageAttributes"]["k"]["StringValue"] == "v"
    aws(server, "delete-message", "--queue-url", url, "--receipt-handle", msg["ReceiptHandle"])
    attrs = aws(server, "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert url in aws(server, "list-queues", "--queue-name-prefix", name)["QueueUrls"]
    aws(server, "delete-queue", "--queue-url", url)


def aws_fails(server, *args: str) -> str:
    """Run a CLI command that must fail; its stderr."""
    r = _cli(server, *args)
    assert r.returncode != 0, r.stdout
    return r.stderr


def test_cli_shorthand_attributes_batches_and_errors(server, unique_name):
    if not shutil.which("aws"):
        pytest.importorskip("awscli")
    url = aws(server, "create-queue", "--queue-name", unique_name("cli"),
              "--attributes", "VisibilityTimeout=40,DelaySeconds=0", "--tags", "team=a")["QueueUrl"]
    sent = aws(server, "send-message", "--queue-url", url, "--message-body", "x", "--message-attributes",
               "f={DataType=Number.float,StringValue=1.5},s={DataType=String.x,StringValue=hi},"
               "b={DataType=Binary.gz,BinaryValue=abc}")
    batch = aws(server, "send-message-batch", "--queue-url", url, "--entries",
                "Id=a,MessageBody=one,MessageAttributes={k={DataType=String,StringValue=v}}", "Id=b,MessageBody=two")
    assert [e["Id"] for e in batch["Successful"]] == ["a", "b"]
    got = aws(server, "receive-message", "--queue-url", url, "--max-number-of-messages", "10",
              "--message-attribute-names", "All", "--attribute-names", "All")["Messages"]
    by_body = {m["Body"]: m for m in got}
    assert by_body["x"]["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert by_body["one"]["MD5OfMessageAttributes"] == batch["Successful"][0]["MD5OfMessageAttributes"]
    assert "MessageAttributes" not in by_body["two"]
    assert aws(server, "list-queue-tags", "--queue-url", url)["Tags"] == {"team": "a"}
    # AWS's answer for a batch action name (cloudtools/awacs#34).
    err = aws_fails(server, "add-permission", "--queue-url", url, "--label", "L", "--aws-account-ids",
                    "111122223333", "--actions", "SendMessageBatch")
    assert ("(InvalidParameterValue) when calling the AddPermission operation: Value SQS:SendMessageBatch for "
            "parameter ActionName is invalid. Reason: Please refer to the appropriate WSDL for a list of valid "
            "actions.") in err
    assert "Policy" not in aws(server, "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")[
        "Attributes"]

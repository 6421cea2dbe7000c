"""The AWS CLI (``aws sqs ... --endpoint-url``) against a real server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest


def aws(server, *args: str) -> dict:
    exe = shutil.which("aws")
    cmd = [exe] if exe else [sys.executable, "-m", "awscli"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}
    env.pop("AWS_PROFILE", None)
    r = subprocess.run(cmd + ["sqs", *args, "--endpoint-url", server.url, "--output", "json"],
                       capture_output=True, text=True, env=env, timeout=60)
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

"""The load generator's fast SigV4 signer agrees with botocore's."""

from __future__ import annotations

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from benchmarks.sigv4 import sign


def test_signature_matches_botocore():
    body = b'{"TableName": "t"}'
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.DescribeTable"}
    req = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body, headers=dict(headers))
    req.headers["X-Amz-Content-Sha256"] = __import__("hashlib").sha256(body).hexdigest()
    SigV4Auth(Credentials("AKID", "secret"), "dynamodb", "us-east-1").add_auth(req)
    ours = sign("POST", "127.0.0.1:4566", "/", "", headers, body, service="dynamodb", region="us-east-1",
                access_key="AKID", secret_key="secret", amz_date=req.headers["X-Amz-Date"])
    assert ours["Authorization"] == req.headers["Authorization"]

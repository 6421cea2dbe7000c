"""SQS as real clients use it (queue libraries, async SDKs, the AWS CLI), and the differences
from AWS that exercising it with them turned up.

Each fix is pinned through boto3 (or the CLI) against a real ``cloudlet serve``; where bad
input must leave the queue as it was, a following read proves it. Libraries outside the
test extras are skipped when missing (``pytest.importorskip``).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from botocore.exceptions import ClientError

from tests.services.sqs.test_sqs_fidelity import error_of, make_queue, sqs  # noqa: F401 (fixtures)


def _status(excinfo) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _policy(sqs, url: str) -> dict | None:
    text = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
    return json.loads(text) if text else None


# ---------------------------------------------------------------- AddPermission

@pytest.mark.parametrize("action, reason", [
    # What AWS answered for a batch action (cloudtools/awacs#34, aws/aws-cdk#2381).
    ("SendMessageBatch", "Please refer to the appropriate WSDL for a list of valid actions."),
    ("Fly", "Please refer to the appropriate WSDL for a list of valid actions."),
    ("CreateQueue", "Only the queue owner is allowed to invoke this action."),
])
def test_add_permission_with_an_action_that_cannot_be_granted(sqs, make_queue, action, reason):
    url = make_queue("perm")
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=["111122223333"], Actions=[action])
    assert error_of(e) == {**error_of(e), "Code": "InvalidParameterValue",
                           "Message": f"Value SQS:{action} for parameter ActionName is invalid. Reason: {reason}"}
    assert _policy(sqs, url) is None


@pytest.mark.parametrize("principal", ["*", "abc", "arn:aws:iam::111122223333:user/bob", "11112222333"])
def test_add_permission_takes_only_account_ids(sqs, make_queue, principal):
    # aws/aws-cli#7416: "Value [<arn>] for parameter PrincipalId is invalid. Reason: Unable to verify principal."
    url = make_queue("perm")
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=[principal], Actions=["SendMessage"])
    assert error_of(e)["Code"] == "InvalidParameterValue" and _status(e) == 400
    assert error_of(e)["Message"] == (f"Value [{principal}] for parameter PrincipalId is invalid. "
                                      "Reason: Unable to verify principal.")
    assert _policy(sqs, url) is None


def test_add_permission_stops_at_20_statements(sqs, make_queue):
    # OverLimit: "AddPermission returns this error if the maximum number of permissions for
    # the queue is reached" (botocore model); 20 statements per policy (SQS policy quotas).
    url = make_queue("perm")
    for i in range(20):
        sqs.add_permission(QueueUrl=url, Label=f"l{i}", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="l20", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    assert error_of(e)["Code"] == "OverLimit" and _status(e) == 403
    assert error_of(e)["Message"] == "21 Statements were found, maximum allowed is 20."
    assert len(_policy(sqs, url)["Statement"]) == 20

"""The credential scope read from the Authorization header, with the parse of a
header's unchanging head remembered between requests."""

from __future__ import annotations

import pytest

from cloudlet.gateway.sigv4 import AuthError, credential_from

HEAD = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/sqs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, ")


def cred(auth: str):
    return credential_from({"authorization": auth}, "")


@pytest.mark.parametrize("repeat", [1, 2, 3])  # first parse, then the remembered head
def test_a_repeated_head_gives_the_same_credential(repeat):
    for i in range(repeat):
        c = cred(HEAD + f"Signature={i:064x}")
        assert (c.access_key, c.region, c.service) == ("AKIDEXAMPLE", "eu-west-1", "sqs")


@pytest.mark.parametrize("tail", ["Signature=", "Signature=, SignedHeaders="])
def test_a_remembered_head_does_not_excuse_a_bad_signature(tail):
    cred(HEAD + "Signature=" + "a" * 64)  # remembered
    with pytest.raises(AuthError) as e:
        cred(HEAD + tail)
    assert e.value.kind == "incomplete"


def test_signature_before_signed_headers_is_still_parsed_in_full():
    auth = ("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, "
            "Signature=abc, SignedHeaders=host")
    assert cred(auth).service == "dynamodb"
    with pytest.raises(AuthError):
        cred(auth.replace("SignedHeaders=host", "SignedHeaders="))

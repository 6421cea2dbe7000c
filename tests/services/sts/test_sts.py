"""STS against a real server: caller identity and temporary credentials, as SDKs, the CLI and
credential providers use them."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import REGION, make_client

ROLE = "arn:aws:iam::111111111111:role/team/deployer"


def _client_with(server, creds: dict, service: str = "sts"):
    return boto3.client(service, endpoint_url=server.url, region_name=REGION,
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"], config=Config(retries={"max_attempts": 0}))


def _error(excinfo) -> tuple[str, str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_caller_identity_of_long_term_keys(server):
    assert make_client("sts", server.url).get_caller_identity() | {"ResponseMetadata": None} == {
        "UserId": "000000000000", "Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root",
        "ResponseMetadata": None}
    other = make_client("sts", server.url, access_key="222222222222").get_caller_identity()
    assert other["Account"] == "222222222222" and other["Arn"] == "arn:aws:iam::222222222222:root"


def test_assume_role_credentials_act_as_the_role_in_its_account(server, unique_name):
    sts = make_client("sts", server.url)
    answer = sts.assume_role(RoleArn=ROLE, RoleSessionName="ci-run", DurationSeconds=900, SourceIdentity="me")
    creds, user = answer["Credentials"], answer["AssumedRoleUser"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40 and creds["SessionToken"]
    assert user["Arn"] == "arn:aws:sts::111111111111:assumed-role/deployer/ci-run"
    assert user["AssumedRoleId"].startswith("AROA") and user["AssumedRoleId"].endswith(":ci-run")
    assert answer["SourceIdentity"] == "me"
    # The same role gets the same role id; the session name tells sessions apart.
    again = sts.assume_role(RoleArn=ROLE, RoleSessionName="other")["AssumedRoleUser"]["AssumedRoleId"]
    assert again.split(":")[0] == user["AssumedRoleId"].split(":")[0]

    me = _client_with(server, creds).get_caller_identity()
    assert me["Account"] == "111111111111"
    assert me["Arn"] == user["Arn"] and me["UserId"] == user["AssumedRoleId"]

    # What the role's credentials create lives in the role's account.
    url = _client_with(server, creds, "sqs").create_queue(QueueName=unique_name())["QueueUrl"]
    assert "/111111111111/" in url
    assert url not in make_client("sqs", server.url).list_queues().get("QueueUrls", [])
    assert url in make_client("sqs", server.url, access_key="111111111111").list_queues()["QueueUrls"]


def test_assume_role_expiration_follows_duration(server):
    sts = make_client("sts", server.url)
    short = sts.assume_role(RoleArn=ROLE, RoleSessionName="a1", DurationSeconds=900)["Credentials"]["Expiration"]
    default = sts.assume_role(RoleArn=ROLE, RoleSessionName="a1")["Credentials"]["Expiration"]
    assert 2690 <= (default - short).total_seconds() <= 2710  # 3600 s by default


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::1111:role/too-short-account",
    "arn:aws:iam::111111111111:user/not-a-role",
    "arn:aws:s3:::bucket-name-is-not-a-role",
    "this-is-not-an-arn-at-all",
])
def test_assume_role_with_a_bad_arn(server, arn):
    with pytest.raises(ClientError) as e:
        make_client("sts", server.url).assume_role(RoleArn=arn, RoleSessionName="s1")
    assert _error(e) == ("ValidationError", "Request ARN is invalid", 400)


def test_assume_role_validation_errors(server):
    sts = make_client("sts", server.url, parameter_validation=False)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=ROLE, RoleSessionName="s" * 65)
    assert _error(e) == ("ValidationError", f"1 validation error detected: Value '{'s' * 65}' at 'roleSessionName' "
                         "failed to satisfy constraint: Member must have length less than or equal to 64", 400)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=ROLE, RoleSessionName="team/me")
    code, message, _ = _error(e)
    assert code == "ValidationError"
    assert "Value 'team/me' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular " \
           "expression pattern: [\\w+=,.@-]*" in message
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=ROLE, RoleSessionName="s1", DurationSeconds=60)
    assert _error(e)[0] == "ValidationError"
    assert "Member must have value greater than or equal to 900" in _error(e)[1]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=ROLE)
    assert _error(e) == ("ValidationError", "1 validation error detected: Value null at 'roleSessionName' "
                         "failed to satisfy constraint: Member must not be null", 400)


def test_assume_role_with_web_identity(server):
    token = _jwt({"sub": "system:serviceaccount:ns:app", "aud": "sts.amazonaws.com",
                  "iss": "https://oidc.example.com/id/ABC"})
    # Called without credentials, as the SDKs' web identity providers do.
    unsigned = boto3.client("sts", endpoint_url=server.url, region_name=REGION,
                            config=Config(signature_version=UNSIGNED, retries={"max_attempts": 0}))
    answer = unsigned.assume_role_with_web_identity(
        RoleArn=ROLE, RoleSessionName="pod", WebIdentityToken=token)
    assert answer["SubjectFromWebIdentityToken"] == "system:serviceaccount:ns:app"
    assert answer["Audience"] == "sts.amazonaws.com"
    assert answer["Provider"] == "arn:aws:iam::111111111111:oidc-provider/oidc.example.com/id/ABC"
    assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111111111111:assumed-role/deployer/pod"
    with pytest.raises(ClientError) as e:
        make_client("sts", server.url).assume_role_with_web_identity(
            RoleArn=ROLE, RoleSessionName="pod", WebIdentityToken="not-a-jwt-token")
    assert _error(e)[0] == "InvalidIdentityToken" and _error(e)[2] == 400


def test_session_and_federation_tokens(server):
    sts = make_client("sts", server.url, access_key="333333333333")
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    me = _client_with(server, creds).get_caller_identity()
    assert me["Account"] == "333333333333" and me["Arn"] == "arn:aws:iam::333333333333:root"
    with pytest.raises(ClientError) as e:  # session credentials cannot get another session token
        _client_with(server, creds).get_session_token()
    assert _error(e)[0] == "AccessDenied" and _error(e)[2] == 403

    fed = sts.get_federation_token(Name="bob")
    assert fed["FederatedUser"] == {"FederatedUserId": "333333333333:bob",
                                    "Arn": "arn:aws:sts::333333333333:federated-user/bob"}
    assert _client_with(server, fed["Credentials"]).get_caller_identity()["Arn"] == fed["FederatedUser"]["Arn"]


def test_access_key_info(server):
    sts = make_client("sts", server.url)
    assert sts.get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")["Account"] == "000000000000"
    key = sts.assume_role(RoleArn=ROLE, RoleSessionName="s1")["Credentials"]["AccessKeyId"]
    assert sts.get_access_key_info(AccessKeyId=key)["Account"] == "111111111111"


def _env(server, tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION=REGION, AWS_PAGER="", AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"), **extra)
    return env


def test_sdk_assume_role_profile_and_cli(server, tmp_path):
    """A profile with role_arn: the SDK calls AssumeRole itself and signs with what it gets."""
    (tmp_path / "credentials").write_text("[base]\naws_access_key_id = test\naws_secret_access_key = test\n")
    (tmp_path / "config").write_text(
        "[profile dev]\nrole_arn = arn:aws:iam::222222222222:role/dev\nsource_profile = base\n"
        "role_session_name = laptop\nregion = us-east-1\n")
    env = _env(server, tmp_path)
    env.pop("AWS_ACCESS_KEY_ID"), env.pop("AWS_SECRET_ACCESS_KEY")
    script = ("import boto3; s = boto3.Session(profile_name='dev'); "
              "print(s.client('sts').get_caller_identity()['Arn'])")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "arn:aws:sts::222222222222:assumed-role/dev/laptop"
    exe = shutil.which("aws")
    cmd = [exe] if exe else [sys.executable, "-m", "awscli"]
    r = subprocess.run(cmd + ["sts", "get-caller-identity", "--profile", "dev", "--output", "json"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Account"] == "222222222222"


def test_sdk_web_identity_provider(server, tmp_path):
    """AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (EKS, GitHub Actions OIDC): the SDK's provider."""
    token_file = tmp_path / "token"
    token_file.write_text(_jwt({"sub": "repo:org/app:ref:refs/heads/main", "aud": "sts.amazonaws.com"}))
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    env = _env(server, tmp_path, AWS_ROLE_ARN="arn:aws:iam::555555555555:role/gha",
               AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file), AWS_ROLE_SESSION_NAME="run-1")
    env.pop("AWS_ACCESS_KEY_ID"), env.pop("AWS_SECRET_ACCESS_KEY")
    script = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "arn:aws:sts::555555555555:assumed-role/gha/run-1"


def test_operations_not_built_say_so(server):
    with pytest.raises(ClientError) as e:
        make_client("sts", server.url).get_delegated_access_token(TradeInToken="x" * 8)
    assert _error(e)[2] == 501


@pytest.mark.parametrize("message", [base64.b64encode(b'{"allowed": false}').decode(), "not-valid-base64!!!"])
def test_decode_authorization_message_decodes_only_what_aws_encoded(server, message):
    """Only AWS's own encrypted AccessDenied details decode; cloudlet encodes none."""
    with pytest.raises(ClientError) as e:
        make_client("sts", server.url).decode_authorization_message(EncodedMessage=message)
    assert _error(e)[0] == "InvalidAuthorizationMessageException" and _error(e)[2] == 400


# ---------------------------------------------------------------- behaviours checked against AWS's documentation

_POLICY = json.dumps({"Version": "2012-10-17",
                      "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def test_web_identity_provider_is_the_oidc_provider_arn(server):
    """An OpenID Connect token's Provider is the IAM OIDC provider for its issuer, in the role's account
    (as every published EKS IRSA answer shows), whatever ProviderId says."""
    token = _jwt({"sub": "sub-123456", "aud": "my-client", "iss": "https://issuer.example.net/tenant"})
    sts = make_client("sts", server.url)
    answer = sts.assume_role_with_web_identity(RoleArn=ROLE, RoleSessionName="oidc", WebIdentityToken=token,
                                               ProviderId="issuer.example.net")
    assert answer["Provider"] == "arn:aws:iam::111111111111:oidc-provider/issuer.example.net/tenant"
    assert answer["SubjectFromWebIdentityToken"] == "sub-123456" and answer["Audience"] == "my-client"
    # A built-in provider (no IAM identity provider behind it) is named by its host.
    google = _jwt({"sub": "1234567890", "aud": "client.apps.googleusercontent.com",
                   "iss": "https://accounts.google.com"})
    answer = sts.assume_role_with_web_identity(RoleArn=ROLE, RoleSessionName="oidc", WebIdentityToken=google)
    assert answer["Provider"] == "accounts.google.com"


@pytest.mark.parametrize("kwargs", [
    {"Policy": _POLICY},
    {"PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]},
    {"Tags": [{"Key": "team", "Value": "data"}], "TransitiveTagKeys": ["team"]},
])
def test_session_policies_and_tags_report_packed_size(server, kwargs):
    """PackedPolicySize: the packed size of the session policies and tags passed, as a percentage."""
    sts = make_client("sts", server.url)
    size = sts.assume_role(RoleArn=ROLE, RoleSessionName="packed", **kwargs)["PackedPolicySize"]
    assert 0 < size <= 100
    if "Tags" not in kwargs:  # web identity sessions take their tags from the token, not the request
        token = _jwt({"sub": "sub-123456", "aud": "a", "iss": "https://issuer.example.net"})
        web = sts.assume_role_with_web_identity(RoleArn=ROLE, RoleSessionName="packed", WebIdentityToken=token,
                                                **kwargs)
        assert 0 < web["PackedPolicySize"] <= 100
    federation = {k: v for k, v in kwargs.items() if k != "TransitiveTagKeys"}
    assert 0 < sts.get_federation_token(Name="fed-user", **federation)["PackedPolicySize"] <= 100
    # Without session policies or tags there is nothing packed and no PackedPolicySize.
    assert "PackedPolicySize" not in sts.assume_role(RoleArn=ROLE, RoleSessionName="plain")
    assert "PackedPolicySize" not in sts.get_federation_token(Name="fed-user")


def test_a_session_policy_that_is_not_json_is_malformed(server):
    sts = make_client("sts", server.url)
    calls = {
        "AssumeRole": lambda p: sts.assume_role(RoleArn=ROLE, RoleSessionName="bad", Policy=p),
        "AssumeRoleWithWebIdentity": lambda p: sts.assume_role_with_web_identity(
            RoleArn=ROLE, RoleSessionName="bad", Policy=p,
            WebIdentityToken=_jwt({"sub": "sub-123456", "aud": "a", "iss": "https://issuer.example.net"})),
        "GetFederationToken": lambda p: sts.get_federation_token(Name="fed-user", Policy=p),
    }
    for operation, call in calls.items():
        for policy in ("not-valid-json{", '["a list"]'):
            with pytest.raises(ClientError) as e:
                call(policy)
            code, _, status = _error(e)
            assert (operation, code, status) == (operation, "MalformedPolicyDocument", 400)


def test_account_root_sessions_last_at_most_an_hour(server):
    """Long-term keys are the account's root user here; AWS cuts its GetSessionToken and GetFederationToken
    sessions to one hour instead of refusing a longer duration (API reference, DurationSeconds)."""
    sts = make_client("sts", server.url)
    # Measured against a 15-minute session's expiration: the server's clock may be moved by other tests.
    def longer_than_15_minutes(answer) -> float:
        short = sts.get_session_token(DurationSeconds=900)["Credentials"]["Expiration"]
        return (answer["Credentials"]["Expiration"] - short).total_seconds()

    for answer in (sts.get_session_token(), sts.get_session_token(DurationSeconds=86400),
                   sts.get_federation_token(Name="fed-user"),
                   sts.get_federation_token(Name="fed-user", DurationSeconds=43200)):
        assert 2690 <= longer_than_15_minutes(answer) <= 2710


def test_role_chaining_is_limited_to_one_hour(server):
    """Temporary credentials (an assumed role's, or GetSessionToken's) assuming a role: DurationSeconds
    over an hour fails with AWS's ValidationError (API reference, AssumeRole; aws-vault#263)."""
    sts = make_client("sts", server.url)
    for creds in (sts.assume_role(RoleArn=ROLE, RoleSessionName="first")["Credentials"],
                  sts.get_session_token(DurationSeconds=900)["Credentials"]):
        chained = _client_with(server, creds)
        with pytest.raises(ClientError) as e:
            chained.assume_role(RoleArn=ROLE, RoleSessionName="second", DurationSeconds=3601)
        assert _error(e) == ("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit "
                             "for roles assumed by role chaining.", 400)
        answer = chained.assume_role(RoleArn=ROLE, RoleSessionName="second", DurationSeconds=3600)
        assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111111111111:assumed-role/deployer/second"
    # Long-term keys may ask for up to 12 hours.
    assert sts.assume_role(RoleArn=ROLE, RoleSessionName="long", DurationSeconds=43200)["Credentials"]


def _saml_response(session: str | None = "jane@example.com", name_format: str | None =
                   "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", source: str | None = None) -> str:
    """A base64 SAML 2.0 Response as an IdP posts it to AWS sign-in (unsigned: nothing checks it)."""
    attributes = {"https://aws.amazon.com/SAML/Attributes/Role":
                  "arn:aws:iam::111111111111:role/team/deployer,arn:aws:iam::111111111111:saml-provider/Corp"}
    if session is not None:
        attributes["https://aws.amazon.com/SAML/Attributes/RoleSessionName"] = session
    if source is not None:
        attributes["https://aws.amazon.com/SAML/Attributes/SourceIdentity"] = source
    statements = "".join(f'<saml:Attribute Name="{k}"><saml:AttributeValue>{v}</saml:AttributeValue></saml:Attribute>'
                         for k, v in attributes.items())
    fmt = f' Format="{name_format}"' if name_format else ""
    xml = (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Version="2.0" ID="_r1">'
        '<saml:Issuer>https://idp.example.com/saml</saml:Issuer>'
        '<saml:Assertion Version="2.0" ID="_a1"><saml:Issuer>https://idp.example.com/saml</saml:Issuer>'
        f'<saml:Subject><saml:NameID{fmt}>user-4711</saml:NameID>'
        '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        '<saml:SubjectConfirmationData Recipient="https://signin.aws.amazon.com/saml"/>'
        '</saml:SubjectConfirmation></saml:Subject>'
        f'<saml:AttributeStatement>{statements}</saml:AttributeStatement></saml:Assertion></samlp:Response>')
    return base64.b64encode(xml.encode()).decode()


_SAML_PROVIDER = "arn:aws:iam::111111111111:saml-provider/Corp"


def test_assume_role_with_saml(server):
    """AWS reads the session name, subject, issuer and recipient from the assertion (API reference,
    AssumeRoleWithSAML); called without credentials, as SAML CLI tools do."""
    unsigned = boto3.client("sts", endpoint_url=server.url, region_name=REGION,
                            config=Config(signature_version=UNSIGNED, retries={"max_attempts": 0}))
    answer = unsigned.assume_role_with_saml(RoleArn=ROLE, PrincipalArn=_SAML_PROVIDER,
                                            SAMLAssertion=_saml_response(source="jane"), Policy=_POLICY)
    assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111111111111:assumed-role/deployer/jane@example.com"
    assert answer["Subject"] == "user-4711" and answer["SubjectType"] == "persistent"
    assert answer["Issuer"] == "https://idp.example.com/saml"
    assert answer["Audience"] == "https://signin.aws.amazon.com/saml"
    # BASE64(SHA1(issuer + account + "/" + provider name)), the API reference's recipe.
    assert answer["NameQualifier"] == base64.b64encode(
        hashlib.sha1(b"https://idp.example.com/saml111111111111/Corp").digest()).decode()
    assert answer["SourceIdentity"] == "jane" and 0 < answer["PackedPolicySize"] <= 100
    me = _client_with(server, answer["Credentials"]).get_caller_identity()
    assert me["Arn"] == answer["AssumedRoleUser"]["Arn"] and me["Account"] == "111111111111"
    # A Format outside the SAML 2.0 name-id formats comes back unchanged; none is SAML's "unspecified".
    other = unsigned.assume_role_with_saml(RoleArn=ROLE, PrincipalArn=_SAML_PROVIDER,
                                           SAMLAssertion=_saml_response(name_format=None))
    assert other["SubjectType"] == "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"


@pytest.mark.parametrize("assertion, message", [
    (_saml_response(session=None), "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"),
    (_saml_response(session="a b"), "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"),
    (base64.b64encode(b"This is not a SAML response").decode(), None),
    ("%%%% not base64 %%%%", None),
])
def test_assume_role_with_saml_refuses_what_it_cannot_read(server, assertion, message):
    with pytest.raises(ClientError) as e:
        make_client("sts", server.url).assume_role_with_saml(
            RoleArn=ROLE, PrincipalArn=_SAML_PROVIDER, SAMLAssertion=assertion)
    code, text, status = _error(e)
    assert (code, status) == ("InvalidIdentityToken", 400)
    if message:
        assert text == message

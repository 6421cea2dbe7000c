"""AWS STS: who the caller is, and temporary credentials (query protocol).

What tools ask before anything else: ``aws sts get-caller-identity``, the
Terraform AWS provider's account lookup, an SDK's assume-role credential
provider (a profile's ``role_arn``, ``AWS_ROLE_ARN`` + ``AWS_WEB_IDENTITY_TOKEN_FILE``), SAML
sign-in tools (AssumeRoleWithSAML).

cloudlet has no IAM, so every caller may assume every role and nothing is
signed or checked (web identity tokens and SAML assertions are read, not verified). Credentials are still meaningful: a temporary access key id
carries the account of the role it was issued for (``ASIA`` + the 12-digit
account + 4 characters; ``gateway.sigv4.account_for`` reads it back), so a
client using an assumed role's credentials works in that role's account, as
on AWS; the session token names the role and session, so
GetCallerIdentity answers the assumed-role ARN for them. Nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import secrets
import string
import zlib
from xml.etree import ElementTree

import orjson

from cloudlet.gateway.sigv4 import account_for
from cloudlet.protocol.errors import ServiceError
from cloudlet.protocol.validate import Violation, validation_message
from cloudlet.services.base import RequestContext, Service

service = Service("sts")

# arn:<partition>:iam::<account>:role/<optional path/><name>
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]+)")
_TOKEN_PREFIX = "CLDT"  # a session token of ours: prefix + base64url(JSON) of who it is for
_KEY_ALPHABET = string.ascii_uppercase + "234567"  # what AWS access key ids are made of
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
# AWS account root users get sessions of at most one hour from GetSessionToken and
# GetFederationToken; a longer request is cut to an hour, not refused (API reference,
# GetSessionToken and GetFederationToken, DurationSeconds). Long-term keys are root here.
_ROOT_SESSION_SECONDS = 3600
# Web identity providers a role may trust without an IAM identity provider (IAM User Guide,
# "Identity providers and federation": the Federated principals of Amazon, Facebook, Google, Cognito).
_BUILT_IN_PROVIDERS = frozenset({"www.amazon.com", "graph.facebook.com", "accounts.google.com",
                                 "cognito-identity.amazonaws.com"})
# What the packed session policies and tags are measured against (see _session_policy_size).
_PACKED_ALLOWANCE = 2048


def _validation_error(operation: str, violations: list[Violation], protocol: str) -> ServiceError:
    return ServiceError("ValidationError", validation_message(violations))


service.validation_error = _validation_error


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def temporary_access_key(account: str) -> str:
    """A temporary access key id that says which account its requests act in (see the module doc)."""
    return f"ASIA{account}{_random(_KEY_ALPHABET, 4)}"


def _unique_id(prefix: str, name: str) -> str:
    """The stable id AWS gives a principal (AROA... for a role): derived from its ARN here."""
    digest = base64.b32encode(binascii.crc32(name.encode()).to_bytes(4, "big") * 3).decode()
    return prefix + digest[:17]


def _credentials(ctx: RequestContext, account: str, seconds: int, identity: dict) -> dict:
    key = temporary_access_key(account)
    token = _TOKEN_PREFIX + base64.urlsafe_b64encode(orjson.dumps({**identity, "key": key})).decode().rstrip("=")
    return {
        "AccessKeyId": key,
        "SecretAccessKey": _random(_SECRET_ALPHABET, 40),
        "SessionToken": token,
        "Expiration": int(ctx.clock.now()) + seconds,
    }


def _session_identity(ctx: RequestContext) -> dict | None:
    """What the caller's session token (if one of ours, for the key it signs with) says it is."""
    token = ctx.headers.get("x-amz-security-token")
    if not token or not token.startswith(_TOKEN_PREFIX):
        return None
    raw = token[len(_TOKEN_PREFIX):]
    try:
        identity = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(identity, dict) or identity.get("key") != ctx.access_key:
        return None
    return identity


def _session_policy_size(req: dict) -> dict:
    """``PackedPolicySize`` for a request that passes session policies or tags, else nothing.

    AWS answers it whenever session policies or tags are passed: "a percentage value that
    indicates the packed size of the session policies and session tags combined" (API reference,
    AssumeRole / AssumeRoleWithWebIdentity / GetFederationToken). Its packed binary format is not
    published; the share of 2048 bytes that the compressed policy, ARNs and tags take stands in.
    An inline policy that is not JSON is MalformedPolicyDocument (the operations' documented error).
    """
    policy, arns, tags = req.get("Policy"), req.get("PolicyArns") or [], req.get("Tags") or []
    if policy is None and not arns and not tags:
        return {}
    packed = b""
    if policy is not None:
        try:
            document = orjson.loads(policy)
        except orjson.JSONDecodeError:
            document = None
        if not isinstance(document, dict):
            raise ServiceError("MalformedPolicyDocument", "The policy is not in the valid JSON format.")
        packed += orjson.dumps(document)
    packed += "".join(a.get("arn", "") for a in arns).encode()
    packed += "".join(f"{t.get('Key', '')}={t.get('Value', '')}" for t in tags).encode()
    return {"PackedPolicySize": max(1, math.ceil(100 * len(zlib.compress(packed)) / _PACKED_ALLOWANCE))}


def _root_seconds(req: dict) -> int:
    return min(req.get("DurationSeconds", _ROOT_SESSION_SECONDS), _ROOT_SESSION_SECONDS)


def _role(role_arn: str) -> tuple[str, str]:
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise ServiceError("ValidationError", "Request ARN is invalid")
    return match.group(1), match.group(2)


def _assumed_role(ctx: RequestContext, req: dict, extra: dict | None = None) -> dict:
    account, name = _role(req["RoleArn"])
    session = req["RoleSessionName"]
    role_id = _unique_id("AROA", req["RoleArn"])
    arn = f"arn:aws:sts::{account}:assumed-role/{name}/{session}"
    identity = {"arn": arn, "user": f"{role_id}:{session}", "account": account}
    packed = _session_policy_size(req)
    answer = {
        "Credentials": _credentials(ctx, account, req.get("DurationSeconds", 3600), identity),
        "AssumedRoleUser": {"AssumedRoleId": f"{role_id}:{session}", "Arn": arn},
        **packed,
    }
    if req.get("SourceIdentity"):
        answer["SourceIdentity"] = req["SourceIdentity"]
    return {**answer, **(extra or {})}


@service.operation("GetCallerIdentity")
def get_caller_identity(ctx: RequestContext, req: dict) -> dict:
    identity = _session_identity(ctx)
    if identity is not None:
        return {"UserId": identity["user"], "Account": identity["account"], "Arn": identity["arn"]}
    # No IAM users: a long-term key is its account's root user.
    return {"UserId": ctx.account, "Account": ctx.account, "Arn": f"arn:aws:iam::{ctx.account}:root"}


@service.operation("AssumeRole")
def assume_role(ctx: RequestContext, req: dict) -> dict:
    if req.get("DurationSeconds", 0) > _ROOT_SESSION_SECONDS and _session_identity(ctx) is not None:
        # Role chaining (temporary credentials assuming a role) is limited to one hour and a
        # longer DurationSeconds fails (API reference, AssumeRole); AWS's answer, also for
        # GetSessionToken credentials: mmmorris1975/aws-runas#11, 99designs/aws-vault#263.
        raise ServiceError("ValidationError",
                           "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
                           "role chaining.")
    return _assumed_role(ctx, req)


@service.operation("AssumeRoleWithWebIdentity")
def assume_role_with_web_identity(ctx: RequestContext, req: dict) -> dict:
    claims = _jwt_claims(req["WebIdentityToken"])
    audience = claims.get("aud")
    if isinstance(audience, list):
        audience = audience[0] if audience else None
    extra = {"SubjectFromWebIdentityToken": str(claims.get("sub", "")), "Audience": str(audience or "")}
    issuer = claims.get("iss")
    if issuer:
        # For an OpenID Connect ID token, the IAM OIDC provider that trusts its issuer: AWS
        # answers its ARN, in the role's account ("arn:aws:iam::<account>:oidc-provider/
        # oidc.eks.<region>.amazonaws.com/id/<id>" in every published EKS IRSA answer, e.g. the
        # Wiz EKS challenge write-ups); ProviderId is for OAuth 2.0 access tokens (API reference).
        # The built-in providers need no IAM identity provider and are named as they are (the
        # API reference's example answers <Provider>www.amazon.com</Provider>).
        account, _ = _role(req["RoleArn"])
        host = str(issuer).removeprefix("https://")
        extra["Provider"] = host if host in _BUILT_IN_PROVIDERS else f"arn:aws:iam::{account}:oidc-provider/{host}"
    elif req.get("ProviderId"):
        extra["Provider"] = req["ProviderId"]
    return _assumed_role(ctx, req, extra)


def _jwt_claims(token: str) -> dict:
    """The claims of an OpenID Connect ID token (not verified: there is no identity provider to ask)."""
    parts = token.split(".")
    if len(parts) == 3:
        try:
            claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
            if isinstance(claims, dict):
                return claims
        except (ValueError, binascii.Error):
            pass
    raise ServiceError("InvalidIdentityToken", "The ID Token provided is not a valid JWT. "
                                               "(You may see this error if you sent an Access Token)")


# SAML 2.0 (OASIS saml-core-2.0-os) and the attributes AWS reads from an assertion (IAM User
# Guide, "Configure SAML assertions for the authentication response").
_SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
_AWS_SAML_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/"
_NAME_ID_FORMAT_PREFIX = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
_UNSPECIFIED_NAME_ID = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"  # no Format: SAML core 8.3.1
_SAML_SESSION_NAME = re.compile(r"[a-zA-Z_0-9+=,.@-]{2,64}")


@service.operation("AssumeRoleWithSAML")
def assume_role_with_saml(ctx: RequestContext, req: dict) -> dict:
    """Credentials for a SAML 2.0 authentication response, read as AWS reads it; like web identity
    tokens, its signature is not checked (there is no identity provider to trust)."""
    assertion = _saml_assertion(req["SAMLAssertion"])
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.iter(f"{_SAML}Attribute"):
        values = [(v.text or "").strip() for v in attribute.iter(f"{_SAML}AttributeValue")]
        attributes.setdefault(attribute.get("Name", ""), []).extend(values)
    session = (attributes.get(_AWS_SAML_ATTRIBUTE + "RoleSessionName") or [""])[0]
    if not _SAML_SESSION_NAME.fullmatch(session):
        # AWS's text for a missing or malformed RoleSessionName attribute (MicrosoftDocs/azure-docs#45025).
        raise ServiceError("InvalidIdentityToken",
                           "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}")
    issuer = (assertion.findtext(f"{_SAML}Issuer") or "").strip()
    name_id = assertion.find(f"{_SAML}Subject/{_SAML}NameID")
    recipient = assertion.find(f"{_SAML}Subject/{_SAML}SubjectConfirmation/{_SAML}SubjectConfirmationData")
    account, _ = _role(req["RoleArn"])
    provider = req["PrincipalArn"].rsplit("/", 1)[-1]
    # The response members as the API reference defines them: Subject is the NameID, SubjectType its
    # Format without the SAML 2.0 name-id prefix, Audience the Recipient of SubjectConfirmationData,
    # NameQualifier BASE64(SHA1(Issuer + account id + "/" + the SAML provider's name)).
    name_format = (name_id.get("Format") if name_id is not None else None) or _UNSPECIFIED_NAME_ID
    extra = {
        "Subject": (name_id.text or "").strip() if name_id is not None else "",
        "SubjectType": name_format.removeprefix(_NAME_ID_FORMAT_PREFIX),
        "Issuer": issuer,
        "Audience": recipient.get("Recipient", "") if recipient is not None else "",
        "NameQualifier": base64.b64encode(hashlib.sha1(f"{issuer}{account}/{provider}".encode()).digest()).decode(),
    }
    source = (attributes.get(_AWS_SAML_ATTRIBUTE + "SourceIdentity") or [None])[0]
    return _assumed_role(ctx, {**req, "RoleSessionName": session, "SourceIdentity": source}, extra)


def _saml_assertion(encoded: str) -> ElementTree.Element:
    """The Assertion of a base64-encoded SAML Response (or a bare Assertion)."""
    try:
        root = ElementTree.fromstring(base64.b64decode(encoded, validate=False))
    except (ValueError, binascii.Error, ElementTree.ParseError):
        root = None
    if root is not None:
        assertion = root if root.tag == f"{_SAML}Assertion" else root.find(f"{_SAML}Assertion")
        if assertion is not None:
            return assertion
    # AWS's text for an assertion it cannot read is not on record; this one is a guess.
    raise ServiceError("InvalidIdentityToken", "Invalid SAML response: no SAML 2.0 Assertion could be read.")


@service.operation("GetSessionToken")
def get_session_token(ctx: RequestContext, req: dict) -> dict:
    identity = _session_identity(ctx)
    if identity is not None:  # AWS: temporary credentials cannot get a session token
        raise ServiceError("AccessDenied", "Cannot call GetSessionToken with session credentials", status=403)
    me = {"arn": f"arn:aws:iam::{ctx.account}:root", "user": ctx.account, "account": ctx.account}
    return {"Credentials": _credentials(ctx, ctx.account, _root_seconds(req), me)}


@service.operation("GetFederationToken")
def get_federation_token(ctx: RequestContext, req: dict) -> dict:
    name = req["Name"]
    arn = f"arn:aws:sts::{ctx.account}:federated-user/{name}"
    user = f"{ctx.account}:{name}"
    identity = {"arn": arn, "user": user, "account": ctx.account}
    packed = _session_policy_size(req)
    return {
        "Credentials": _credentials(ctx, ctx.account, _root_seconds(req), identity),
        "FederatedUser": {"FederatedUserId": user, "Arn": arn},
        **packed,
    }


@service.operation("DecodeAuthorizationMessage")
def decode_authorization_message(ctx: RequestContext, req: dict) -> dict:
    # Only messages AWS encrypted into its own AccessDenied answers decode ("the message is encoded
    # because the details of the authorization status can contain privileged information", API
    # reference); cloudlet checks no access and encodes none, so none it is given can be one.
    # The operation's documented error; its text is a guess.
    raise ServiceError("InvalidAuthorizationMessageException", "The encoded authorization message is not valid.")


@service.operation("GetAccessKeyInfo")
def get_access_key_info(ctx: RequestContext, req: dict) -> dict:
    return {"Account": account_for(req["AccessKeyId"], ctx.config.default_account)}

"""Who is calling and where: account and region from AWS Signature V4.

The credential scope (``Credential=AKID/20240101/us-east-1/sqs/aws4_request``)
names the access key, the region and the signing service, in the
``Authorization`` header or, for presigned URLs, the ``X-Amz-Credential`` query
parameter. Signatures are not verified yet; ``verify`` is where that goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs


@dataclass(slots=True, frozen=True)
class Credential:
    access_key: str
    region: str
    service: str


class AuthError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # "missing" | "incomplete"
        self.message = message


def _parse_scope(scope: str) -> Credential | None:
    parts = scope.split("/")
    if len(parts) != 5 or not parts[0] or parts[4] != "aws4_request":
        return None
    return Credential(parts[0], parts[2], parts[3])


# Authorization header up to its last "Signature=" -> the credential it names. A client
# sends the same head on every request (only the signature changes; the date is in
# X-Amz-Date), so a request whose head was parsed before, and whose signature is a
# plain non-empty token at the end, has that credential.
_BY_HEAD: dict[str, Credential] = {}
_BY_HEAD_MAX = 1024


def credential_from(headers: dict[str, str], query_string: str) -> Credential:
    auth = headers.get("authorization")
    if auth is not None:
        i = auth.rfind("Signature=")
        sig = auth[i + 10:]
        if i <= 0 or not sig or "," in sig or " " in sig:
            return _parse_header(auth)
        head = auth[:i]
        cred = _BY_HEAD.get(head)
        if cred is None:
            cred = _parse_header(auth)
            if len(_BY_HEAD) >= _BY_HEAD_MAX:
                _BY_HEAD.clear()
            _BY_HEAD[head] = cred
        return cred
    if "X-Amz-Credential" in query_string:
        values = parse_qs(query_string).get("X-Amz-Credential")
        cred = _parse_scope(values[0]) if values else None
        if cred is None:
            raise AuthError("incomplete", "X-Amz-Credential is malformed")
        return cred
    raise AuthError("missing", "Request is missing Authentication Token")


def _parse_header(auth: str) -> Credential:
    algorithm, _, rest = auth.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        if algorithm == "AWS":  # SigV2-style "AWS AKID:signature"
            key = rest.split(":", 1)[0].strip()
            if key:
                return Credential(key, "us-east-1", "")
        raise AuthError("incomplete", f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={auth[:64]}")
    fields = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if not fields.get(n)]
    if missing:
        texts = " ".join(f"Authorization header requires '{n}' parameter." for n in missing)
        raise AuthError("incomplete", f"{texts} Authorization={auth}")
    cred = _parse_scope(fields["Credential"])
    if cred is None:
        raise AuthError("incomplete", f"Credential should be scoped to a valid region. Authorization={auth}")
    return cred


def account_for(access_key: str, default_account: str) -> str:
    """A 12-digit access key id is the account id, and so are the 12 digits after ``ASIA`` of a
    temporary key id cloudlet's STS issued (``services.sts.temporary_access_key``); anything else
    is the default account."""
    n = len(access_key)
    if n == 12 and access_key.isdigit():
        return access_key
    if n == 20 and access_key.startswith("ASIA") and access_key[4:16].isdigit():
        return access_key[4:16]
    return default_account

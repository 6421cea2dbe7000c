"""The plain values handed between the HTTP server and the gateway."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import formatdate


@dataclass(slots=True)
class Request:
    method: str
    path: str  # without the query string, percent-decoding not applied
    query_string: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    http_version: str = "1.1"


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # A streamed body (event streams): chunks written as they come; ``body`` is ignored.
    stream: AsyncIterator[bytes] | None = None


_date = [0, ""]  # the second it was made for, the Date header's value


def http_date() -> str:
    """The ``Date`` header of an answer (RFC 9110 asks a server with a clock for it; SDKs use it to
    correct clock skew), made once a second."""
    now = int(time.time())
    if now != _date[0]:
        _date[0], _date[1] = now, formatdate(now, usegmt=True)
    return _date[1]

"""The plain values handed between the HTTP server and the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field


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

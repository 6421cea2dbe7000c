"""HTTP/1.1 server: a thin asyncio protocol over httptools, no framework on the hot path.

HTTP/2 (h2c, prior knowledge or ``Upgrade: h2c``) is detected on a
connection's first bytes and handed to ``server_h2``; the HTTP/1.1 path pays
one flag check per read for it. Requests on one HTTP/1.1 connection are answered in order. Synchronous handlers answer
inline from ``data_received``; an awaitable answer (long poll, event stream)
pauses the connection's queue until it completes. Streamed bodies use chunked
transfer encoding.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from http import HTTPStatus

import httptools

from cloudlet.gateway.http import Request, Response, http_date

def _h2(gateway, transport):
    """The HTTP/2 side, imported on the first HTTP/2 connection (the h2
    library costs start-up time most users never need)."""
    from cloudlet.server_h2 import H2Connection

    return H2Connection(gateway, transport)


log = logging.getLogger("cloudlet.server")

_REASONS = {s.value: s.phrase for s in HTTPStatus}
_NAMES: dict[bytes, str] = {}  # header names as sent -> lower-case str (the same few recur)


def _head(status: int, headers: list[tuple[str, str]], length: int | None, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}", f"Date: {http_date()}"]
    for k, v in headers:
        lines.append(f"{k}: {v}")
    if length is None:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {length}")
    if not keep_alive:
        lines.append("Connection: close")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


class HttpProtocol(asyncio.Protocol):
    __slots__ = ("gateway", "transport", "parser", "url", "headers", "body", "queue", "busy", "closed",
                 "fresh", "h2", "pending", "durable")

    def __init__(self, gateway):
        self.gateway = gateway
        self.durable = gateway.app.durable
        self.transport = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.queue: deque = deque()
        self.busy = False
        self.closed = False
        self.fresh = True  # no byte received yet: may still turn out to be HTTP/2
        self.h2 = None
        self.pending: asyncio.Task | None = None  # the awaited answer (long poll, event stream)

    # -------------------------------------------------------- asyncio callbacks

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True
        if self.h2 is not None:
            self.h2.connection_lost()
        if self.pending is not None and not self.pending.done():
            self.pending.cancel()  # nobody is left to read it: end long polls and streams now

    def data_received(self, data: bytes):
        if self.h2 is not None:
            self.h2.data_received(data)
            return
        if self.fresh:
            self.fresh = False
            if data.startswith(b"PRI "):  # the HTTP/2 connection preface (prior knowledge)
                self.h2 = _h2(self.gateway, self.transport)
                self.h2.start(data)
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as e:
            if self.h2 is not None:  # upgraded to h2c: the rest of the bytes are HTTP/2
                rest = data[e.args[0]:] if e.args and isinstance(e.args[0], int) else b""
                if rest:
                    self.h2.data_received(rest)
        except httptools.HttpParserError:
            self._reply_now(Response(400, b"malformed HTTP request"), False)

    # -------------------------------------------------------- parser callbacks

    def on_message_begin(self):
        self.url = b""
        self.headers = {}
        self.body = []

    def on_url(self, url: bytes):
        self.url += url

    def on_header(self, name: bytes, value: bytes):
        key = _NAMES.get(name)
        if key is None:
            key = name.decode("latin-1").lower()
            if len(_NAMES) < 1024:
                _NAMES[name] = key
        text = value.decode("latin-1")
        if key in self.headers:
            self.headers[key] += ", " + text
        else:
            self.headers[key] = text

    def on_headers_complete(self):
        if self.headers.get("expect", "").lower() == "100-continue":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes):
        self.body.append(body)

    def on_message_complete(self):
        url = self.url.decode("latin-1")
        path, _, query = url.partition("?")
        request = Request(
            method=self.parser.get_method().decode(),
            path=path,
            query_string=query,
            headers=self.headers,
            body=b"".join(self.body),
            http_version=self.parser.get_http_version(),
        )
        keep_alive = self.parser.should_keep_alive()
        if self.parser.should_upgrade() and "h2c" in self.headers.get("upgrade", "").lower() \
                and "http2-settings" in self.headers and not self.busy:
            self.h2 = _h2(self.gateway, self.transport)
            self.h2.start_upgraded(self.headers["http2-settings"], request)
            return
        if self.busy:
            self.queue.append((request, keep_alive))
            return
        self._dispatch(request, keep_alive)

    # -------------------------------------------------------- answering

    def _dispatch(self, request: Request, keep_alive: bool):
        result = self.gateway.handle(request)
        if isinstance(result, Response) and result.stream is None:
            self._reply_now(result, keep_alive)
            return
        self.busy = True
        self.transport.pause_reading()
        self.pending = asyncio.ensure_future(self._reply_later(result, keep_alive))

    def _reply_now(self, response: Response, keep_alive: bool):
        if self.closed:
            return
        body = response.body
        self._write(_head(response.status, response.headers, len(body), keep_alive) + body, not keep_alive)

    def _write(self, data: bytes, close: bool = False):
        """Write once every store write so far is durable (group commit)."""
        def write(ok: bool):
            if self.closed:
                return
            if not ok:  # the commit failed: do not acknowledge, let the client retry
                self.transport.close()
                return
            self.transport.write(data)
            if close:
                self.transport.close()
        self.durable(write)

    async def _reply_later(self, pending, keep_alive: bool):
        try:
            response = pending if isinstance(pending, Response) else await pending
            if response.stream is not None:
                await self._stream(response, keep_alive)
            else:
                self._reply_now(response, keep_alive)
        except asyncio.CancelledError:
            return
        except Exception:  # noqa: BLE001
            log.exception("error writing response")
            self.transport.close()
            return
        finally:
            self.busy = False
            self.pending = None
        if self.closed:
            return
        self.transport.resume_reading()
        while self.queue and not self.busy and not self.closed:
            request, keep = self.queue.popleft()
            self._dispatch(request, keep)

    async def _stream(self, response: Response, keep_alive: bool):
        self._write(_head(response.status, response.headers, None, keep_alive))
        stream = response.stream
        try:
            async for chunk in stream:
                if self.closed:
                    break
                if chunk:
                    self._write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        if not self.closed:
            self._write(b"0\r\n\r\n", not keep_alive)

"""The load generator's HTTP/1.1 client: keep-alive connections, httptools response parsing."""

from __future__ import annotations

import asyncio

import httptools
import orjson

from benchmarks.sigv4 import sign


class _Parser:
    __slots__ = ("body", "done", "status", "close")

    def __init__(self):
        self.body = []
        self.done = False
        self.status = 0
        self.close = False

    def on_header(self, name, value):
        # httptools' should_keep_alive() is False once the message is complete,
        # so the Connection header is read here
        if len(name) == 10 and name.lower() == b"connection" and value.strip().lower() == b"close":
            self.close = True

    def on_body(self, b):
        self.body.append(b)

    def on_message_complete(self):
        self.done = True


class Connection(asyncio.Protocol):
    """One keep-alive connection; ``await request(raw)`` -> (status, body).

    A server that answers ``Connection: close`` (moto's Werkzeug does, every time)
    or closes between two requests gets a new connection before the next request,
    as an HTTP client library would do; ``reconnects`` counts them."""

    def __init__(self):
        self.transport = None
        self.address: tuple[str, int] | None = None
        self.open = False
        self.reconnects = 0
        self.waiter: asyncio.Future | None = None
        self.state = _Parser()
        self.parser = httptools.HttpResponseParser(self.state)

    def connection_made(self, transport):
        self.transport = transport
        self.open = True

    def data_received(self, data):
        parser = self.parser
        parser.feed_data(data)
        if self.state.done:
            state = self.state
            status = parser.get_status_code()
            if state.close or parser.get_http_version() == "1.0":
                self.open = False
                self.transport.set_protocol(asyncio.Protocol())  # its connection_lost is not ours
                self.transport.close()
            self.state = _Parser()
            self.parser = httptools.HttpResponseParser(self.state)
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result((status, b"".join(state.body)))

    def connection_lost(self, exc):
        self.open = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    async def request(self, raw: bytes):
        if not self.open:
            await self._reopen()
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter

    async def _reopen(self):
        self.reconnects += 1
        self.state = _Parser()
        self.parser = httptools.HttpResponseParser(self.state)
        await asyncio.get_running_loop().create_connection(lambda: self, *self.address)


async def connect(host: str, port: int) -> Connection:
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(Connection, host, port)
    conn.address = (host, port)
    return conn


class Signer:
    """Builds signed raw requests for one endpoint."""

    def __init__(self, host: str, port: int, region: str = "us-east-1", access_key: str = "test", secret: str = "test"):
        self.host = host
        self.port = port
        self.hostport = f"{host}:{port}"
        self.region = region
        self.access_key = access_key
        self.secret = secret

    def json(self, service: str, target: str, payload, version: str = "1.0") -> bytes:
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        headers = sign("POST", self.hostport, "/", "", {
            "Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": target,
        }, body, service=service, region=self.region, access_key=self.access_key, secret_key=self.secret)
        return self.raw("POST", "/", headers, body)

    def get(self, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\nHost: {self.hostport}\r\n\r\n".encode()

    @staticmethod
    def raw(method: str, path: str, headers: dict, body: bytes) -> bytes:
        head = [f"{method} {path} HTTP/1.1"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

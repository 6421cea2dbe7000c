"""HTTP/2 cleartext (h2c) on the same port as HTTP/1.1.

The AWS SDK for JavaScript v3 sends Kinesis requests over HTTP/2 with prior
knowledge, also to ``http://`` endpoints; the Java SDK v2 uses HTTP/2 for
SubscribeToShard. ``HttpProtocol`` hands a connection over to ``H2Connection``
when its first bytes are the HTTP/2 preface, or after an ``Upgrade: h2c``
request. Streams are multiplexed: each request is dispatched as it completes;
responses respect HTTP/2 flow control.
"""

from __future__ import annotations

import asyncio
import logging

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from cloudlet.gateway.http import Request, Response, http_date

log = logging.getLogger("cloudlet.server")


class _Stream:
    __slots__ = ("headers", "body", "window")

    def __init__(self, headers):
        self.headers = headers
        self.body = []
        self.window = asyncio.Event()


class H2Connection:
    def __init__(self, gateway, transport):
        self.gateway = gateway
        self.transport = transport
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding=None, validate_inbound_headers=False))
        self.streams: dict[int, _Stream] = {}
        self.closed = False
        self.tasks: set[asyncio.Task] = set()

    def start(self, data: bytes = b"") -> None:
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 256})
        self.flush()
        if data:
            self.data_received(data)

    def start_upgraded(self, settings_header: str, request: Request) -> None:
        """After ``Upgrade: h2c``: the upgrading request becomes stream 1."""
        self.transport.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
        self.conn.initiate_upgrade_connection(settings_header)
        self.flush()
        self._dispatch(1, request)

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.closed:
            self.gateway.app.durable(lambda ok: self._write(data, ok))

    def _write(self, data: bytes, ok: bool) -> None:
        """Called once the store writes so far are durable (group commit)."""
        if self.closed:
            return
        if ok:
            self.transport.write(data)
        else:
            self.transport.close()

    def connection_lost(self) -> None:
        self.closed = True
        for stream in self.streams.values():
            stream.window.set()
        for task in self.tasks:
            task.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.flush()
            self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self.streams[event.stream_id] = _Stream(event.headers)
                if event.stream_ended:
                    self._complete(event.stream_id)
            elif isinstance(event, h2.events.DataReceived):
                stream = self.streams.get(event.stream_id)
                if stream is not None:
                    stream.body.append(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                if event.stream_ended:
                    self._complete(event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self._complete(event.stream_id)
            elif isinstance(event, h2.events.WindowUpdated):
                targets = self.streams.values() if event.stream_id == 0 else [self.streams.get(event.stream_id)]
                for stream in targets:
                    if stream is not None:
                        stream.window.set()
            elif isinstance(event, h2.events.StreamReset):
                stream = self.streams.pop(event.stream_id, None)
                if stream is not None:
                    stream.window.set()
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.flush()
                self.transport.close()
                return
        self.flush()

    def _complete(self, stream_id: int) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.headers is None:
            return
        headers = {}
        pseudo = {}
        for name, value in stream.headers:
            name = name.decode("latin-1") if isinstance(name, bytes) else name
            value = value.decode("latin-1") if isinstance(value, bytes) else value
            if name.startswith(":"):
                pseudo[name] = value
            elif name in headers:
                headers[name] += ", " + value
            else:
                headers[name] = value
        if ":authority" in pseudo and "host" not in headers:
            headers["host"] = pseudo[":authority"]
        path, _, query = pseudo.get(":path", "/").partition("?")
        request = Request(pseudo.get(":method", "GET"), path, query, headers, b"".join(stream.body), "2")
        stream.headers = None  # completed once
        self._dispatch(stream_id, request)

    def _dispatch(self, stream_id: int, request: Request) -> None:
        if stream_id not in self.streams:
            self.streams[stream_id] = _Stream(None)
        result = self.gateway.handle(request)
        if isinstance(result, Response) and result.stream is None and self._fits(stream_id, len(result.body)):
            self._send_headers(stream_id, result, end=not result.body)
            if result.body:
                self.conn.send_data(stream_id, result.body, end_stream=True)
            self.streams.pop(stream_id, None)
            self.flush()
            return
        task = asyncio.ensure_future(self._respond(stream_id, result))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _fits(self, stream_id: int, size: int) -> bool:
        return size <= min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)

    def _send_headers(self, stream_id: int, response: Response, end: bool) -> None:
        headers = [(":status", str(response.status)), ("date", http_date())]
        headers += [(k.lower(), v) for k, v in response.headers if k.lower() not in ("connection", "transfer-encoding")]
        if response.stream is None:
            headers.append(("content-length", str(len(response.body))))
        self.conn.send_headers(stream_id, headers, end_stream=end)

    async def _respond(self, stream_id: int, pending) -> None:
        try:
            response = pending if isinstance(pending, Response) else await pending
            if self.closed or stream_id not in self.streams:
                return
            self._send_headers(stream_id, response, end=False)
            self.flush()
            if response.stream is None:
                await self._send(stream_id, response.body)
            else:
                try:
                    async for chunk in response.stream:
                        if self.closed or stream_id not in self.streams:
                            break
                        await self._send(stream_id, chunk)
                finally:
                    aclose = getattr(response.stream, "aclose", None)
                    if aclose is not None:
                        await aclose()
            if not self.closed and stream_id in self.streams:
                self.conn.end_stream(stream_id)
                self.flush()
        except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            pass
        except Exception:  # noqa: BLE001
            log.exception("error answering HTTP/2 stream %s", stream_id)
        finally:
            self.streams.pop(stream_id, None)

    async def _send(self, stream_id: int, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.closed:
            stream = self.streams.get(stream_id)
            if stream is None:
                return
            size = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size, len(view))
            if size <= 0:
                stream.window.clear()
                await stream.window.wait()
                continue
            self.conn.send_data(stream_id, bytes(view[:size]))
            self.flush()
            view = view[size:]

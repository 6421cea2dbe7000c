"""cloudlet's own endpoints under ``/_cloudlet/`` (``/_localstack/`` is an alias).

- ``GET  /_cloudlet/health``  version and each service's state
- ``POST /_cloudlet/reset``   wipe all state: every service, account and region
- ``POST /_cloudlet/clock``   ``{"advance": seconds}`` moves the server clock forward
"""

from __future__ import annotations

import orjson

from cloudlet import __version__
from cloudlet.gateway.http import Request, Response


def _json(status: int, value) -> Response:
    return Response(status, orjson.dumps(value), [("Content-Type", "application/json")])


def handle(app, request: Request) -> Response:
    name = request.path.split("/", 2)[2].rstrip("/")
    if name in ("health", "info") and request.method in ("GET", "HEAD"):
        return _json(200, {
            "version": __version__,
            "edition": "cloudlet",
            "services": {s.name: "running" for s in app.services},
            "data_dir": app.config.data_dir,
            "persistence": not app.config.in_memory,
            "clock_offset_seconds": app.clock.offset,
        })
    if name == "reset" and request.method == "POST":
        app.reset()
        return _json(200, {"reset": True})
    if name == "clock" and request.method == "POST":
        try:
            body = orjson.loads(request.body or b"{}")
            seconds = float(body.get("advance", 0))
            if seconds < 0:
                raise ValueError
        except (orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
            return _json(400, {"error": 'expected {"advance": <non-negative seconds>}'})
        app.clock.advance(seconds)
        return _json(200, {"offset": app.clock.offset, "now": app.clock.now()})
    if name == "clock" and request.method == "GET":
        return _json(200, {"offset": app.clock.offset, "now": app.clock.now()})
    return _json(404, {"error": f"no such cloudlet endpoint: {request.method} {request.path}"})

"""``cloudlet serve`` and friends."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sys

from cloudlet import __version__


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudlet", description="AWS data services on your own machine.")
    parser.add_argument("--version", action="version", version=f"cloudlet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", default=_env("CLOUDLET_HOST", "127.0.0.1"), help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=int(_env("CLOUDLET_PORT", "4566")), help="port (default 4566)")
    serve.add_argument("--data-dir", default=_env("CLOUDLET_DATA_DIR", ".cloudlet"),
                       help="where state lives (default ./.cloudlet, env CLOUDLET_DATA_DIR)")
    serve.add_argument("--in-memory", action="store_true", default=_env("CLOUDLET_IN_MEMORY", "") in ("1", "true"),
                       help="keep state in memory only (lost on exit)")
    serve.add_argument("--default-account", default=_env("CLOUDLET_DEFAULT_ACCOUNT", "000000000000"),
                       help="account for access keys that are not 12-digit ids (env CLOUDLET_DEFAULT_ACCOUNT)")
    serve.add_argument("--kinesis-throttle", action="store_true",
                       default=_env("CLOUDLET_KINESIS_THROTTLE", "") in ("1", "true"),
                       help="enforce Kinesis per-shard write/read limits (env CLOUDLET_KINESIS_THROTTLE=1)")
    serve.add_argument("--log-level", default=_env("CLOUDLET_LOG_LEVEL", "info"),
                       choices=["debug", "info", "warning", "error"], help="log level (default info)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


def serve(args) -> int:
    from cloudlet.app import StartupError
    from cloudlet.config import Config

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not (len(args.default_account) == 12 and args.default_account.isdigit()):
        print(f"cloudlet: --default-account must be a 12-digit account id, got {args.default_account!r}", file=sys.stderr)
        return 2
    config = Config(
        host=args.host,
        port=args.port,
        data_dir=os.path.abspath(args.data_dir),
        in_memory=args.in_memory,
        default_account=args.default_account,
        log_level=args.log_level,
        kinesis_throttle=args.kinesis_throttle,
    )
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        return asyncio.run(_serve(config))
    except StartupError as e:
        print(f"cloudlet: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


async def _serve(config) -> int:
    from cloudlet.app import App, StartupError
    from cloudlet.server import HttpProtocol

    app = App(config)
    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(lambda: HttpProtocol(app.gateway), config.host, config.port,
                                          reuse_address=True, backlog=1024)
    except OSError as e:
        app.store.close()
        if e.errno == errno.EADDRINUSE:
            raise StartupError(f"port {config.port} on {config.host} is already in use") from None
        raise StartupError(f"cannot listen on {config.host}:{config.port}: {e.strerror or e}") from None
    await app.start()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    where = "in memory" if config.in_memory else f"data in {config.data_dir}"
    print(f"cloudlet {__import__('cloudlet').__version__} ready on http://{config.host}:{config.port} ({where})", flush=True)
    await stop.wait()
    server.close()
    await app.stop()
    return 0

"""Named peers for ``--compare``: other emulators the runner starts on a free port,
measures beside cloudlet and stops at the end.

This module owns the table of peers — how each is found on this machine, the
command line that starts it, which services it serves and how to install it —
and nothing about workloads or reporting. A peer that is not installed is
skipped with its one-line install hint (``PeerUnavailable``), never a traceback.

Where peers are looked for:
- Python peers (moto, ministack, localstack): importable in this Python, else in
  one of the virtualenvs listed in ``$CLOUDLET_BENCH_VENV`` (colon-separated; they
  live apart because ministack and LocalStack pin their own botocore, and
  LocalStack needs Python 3.13), else their console script on ``PATH``.
- Node peers (dynalite, kinesalite): ``$CLOUDLET_BENCH_NODE_PATH/<name>/cli.js``
  (a node_modules directory), else the executable on ``PATH``.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Callable

ALL = frozenset({"dynamodb", "sqs", "kinesis"})


class PeerUnavailable(Exception):
    """The peer is unknown or not installed; the message says how to install it."""


@dataclass(frozen=True)
class Command:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    version: str | None = None


@dataclass(frozen=True)
class Peer:
    name: str
    services: frozenset[str]
    install: str  # one line: how to install it so the runner finds it
    locate: Callable[[], list[str] | None]  # argv prefix that runs the peer, or None when not installed
    args: Callable[[int], list[str]]  # the rest of the command line for a port
    env: Callable[[int], dict[str, str]] = lambda port: {}
    version: Callable[[list[str]], str | None] = lambda argv: None
    ready_path: str = "/"  # any HTTP answer here counts as started
    start_timeout: float = 30.0


# ------------------------------------------------------------------ finding things

def _dist_info(root: str, dist: str) -> str | None:
    """The version of ``dist`` installed in the virtualenv at ``root``, if it is."""
    found = glob.glob(os.path.join(root, "lib", "python*", "site-packages", f"{dist.replace('-', '_')}-*.dist-info"))
    return os.path.basename(found[0])[len(dist) + 1:-len(".dist-info")] if found else None


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _venvs() -> list[str]:
    return [v for v in os.environ.get("CLOUDLET_BENCH_VENV", "").split(os.pathsep) if v]


def _python_peer(module: str, dist: str, script: str | None = None, *needs: str) -> Callable[[], list[str] | None]:
    """``python -m module`` with this Python when importable here, else with a listed
    virtualenv's Python that has ``dist``, else the peer's console script on PATH."""
    def locate():
        if all(_importable(m) for m in (module.split(".")[0], *needs)):
            return [sys.executable, "-m", module]
        for venv in _venvs():
            python = os.path.join(venv, "bin", "python")
            if os.access(python, os.X_OK) and _dist_info(venv, dist):
                return [python, "-m", module]
        path = shutil.which(script) if script else None
        return [path] if path else None
    return locate


def _node_peer(package: str) -> Callable[[], list[str] | None]:
    def locate():
        node_path = os.environ.get("CLOUDLET_BENCH_NODE_PATH")
        node = shutil.which("node")
        if node_path and node:
            cli = os.path.join(node_path, package, "cli.js")
            if os.path.isfile(cli):
                return [node, cli]
        path = shutil.which(package)
        return [path] if path else None
    return locate


def _python_version(dist: str) -> Callable[[list[str]], str | None]:
    def version(argv):
        if argv[0] == sys.executable:
            import importlib.metadata as md
            try:
                return md.version(dist)
            except md.PackageNotFoundError:
                return None
        # a virtualenv's python or console script: its site-packages is beside its bin/
        # (no realpath: a virtualenv's python is a link to the base interpreter)
        return _dist_info(os.path.dirname(os.path.dirname(argv[0])), dist)
    return version


def _node_version(package: str) -> Callable[[list[str]], str | None]:
    def version(argv):
        script = os.path.realpath(argv[-1])
        try:
            with open(os.path.join(os.path.dirname(script), "package.json")) as f:
                return json.load(f).get("version")
        except OSError:
            return None
    return version


def _node_install(package: str) -> str:
    return (f"mkdir -p /tmp/peers && cd /tmp/peers && npm install {package} && "
            "export CLOUDLET_BENCH_NODE_PATH=/tmp/peers/node_modules")


def _path(disk: bool, prefix: str) -> list[str]:
    """In memory, or (``-disk`` peers, beside cloudlet's durable store) LevelDB in a fresh temporary directory."""
    return ["--path", tempfile.mkdtemp(prefix=prefix)] if disk else []


def _dynalite(name: str, disk: bool) -> Peer:
    # tables are ACTIVE at once rather than after 500 ms
    return Peer(name, frozenset({"dynamodb"}), _node_install("dynalite"), _node_peer("dynalite"),
                lambda port: ["--host", "127.0.0.1", "--port", str(port), *_path(disk, "dynalite-"),
                              "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"],
                version=_node_version("dynalite"))


def _kinesalite(name: str, disk: bool) -> Peer:
    # listens on every interface (it has no --host); streams ACTIVE at once
    return Peer(name, frozenset({"kinesis"}), _node_install("kinesalite"), _node_peer("kinesalite"),
                lambda port: ["--port", str(port), *_path(disk, "kinesalite-"), "--createStreamMs", "0",
                              "--deleteStreamMs", "0", "--updateStreamMs", "0", "--shardLimit", "1000"],
                version=_node_version("kinesalite"))


# ------------------------------------------------------------------ the table

PEERS: dict[str, Peer] = {p.name: p for p in [
    Peer("moto", ALL, "pip install 'moto[server]'",
         _python_peer("moto.server", "moto", "moto_server", "flask"),
         lambda port: ["-H", "127.0.0.1", "-p", str(port)],
         version=_python_version("moto")),
    # A LocalStack-like emulator on hypercorn; SERVICES limits it to what we compare.
    Peer("ministack", ALL,
         "python -m venv /tmp/peers/ministack && /tmp/peers/ministack/bin/pip install ministack && "
         "export CLOUDLET_BENCH_VENV=/tmp/peers/ministack  (its own venv: it pins botocore; list several with :)",
         _python_peer("ministack", "ministack", "ministack"),
         lambda port: [],
         env=lambda port: {"GATEWAY_PORT": str(port), "BIND_HOST": "127.0.0.1", "SERVICES": "dynamodb,sqs,kinesis",
                           "LOG_LEVEL": "WARNING"},
         version=_python_version("ministack"), ready_path="/_ministack/health"),
    _dynalite("dynalite", disk=False),
    _dynalite("dynalite-disk", disk=True),
    _kinesalite("kinesalite", disk=False),
    _kinesalite("kinesalite-disk", disk=True),
    # LocalStack's runtime in host mode (no Docker), its own Python 3.13 venv (2026.3 uses 3.13's
    # warnings.deprecated and cbor2 5's internals, and pyOpenSSL < 24.3 to make its TLS cert). SQS is its own
    # Python; Kinesis runs kinesis-mock, which it installs from npm at first use. DynamoDB is
    # left out: it runs DynamoDB Local on a Java that it downloads from outside the package
    # registries. In memory, no request log, streams ACTIVE at once, no DNS server.
    Peer("localstack", frozenset({"sqs", "kinesis"}),
         "python3.13 -m venv /tmp/peers/localstack && /tmp/peers/localstack/bin/pip install 'localstack-core[runtime]' && "
         "/tmp/peers/localstack/bin/pip install 'cbor2<6' 'cryptography<44' 'pyopenssl<24.3' 'service_identity<25' && "
         "export CLOUDLET_BENCH_VENV=/tmp/peers/localstack  (its own venv: Python 3.13, pinned deps)",
         _python_peer("localstack.runtime.main", "localstack-core"),
         lambda port: [],
         env=lambda port: {"GATEWAY_LISTEN": f"127.0.0.1:{port}", "LOCALSTACK_HOST": f"127.0.0.1:{port}",
                           "SERVICES": "sqs,kinesis", "SKIP_SSL_CERT_DOWNLOAD": "1", "DNS_ADDRESS": "0",
                           "LS_LOG": "warn", "KINESIS_LATENCY": "0", "KINESIS_PERSISTENCE": "0",
                           "SQS_ENDPOINT_STRATEGY": "path", "DISABLE_EVENTS": "1"},
         version=_python_version("localstack-core"), ready_path="/_localstack/health", start_timeout=60),
]}


def resolve(name: str) -> tuple[Peer, list[str]]:
    """The peer called ``name`` and the argv prefix that runs it; PeerUnavailable if unknown or not installed."""
    peer = PEERS.get(name)
    if peer is None:
        raise PeerUnavailable(f"unknown peer {name!r}: use one of {', '.join(PEERS)}, or a URL (NAME=URL to name it)")
    prefix = peer.locate()
    if prefix is None:
        raise PeerUnavailable(f"{name} is not installed; to use it: {peer.install}")
    return peer, prefix


def command(peer: Peer, prefix: list[str], port: int) -> Command:
    return Command(prefix + peer.args(port), peer.env(port), peer.version(prefix))


def describe() -> str:
    """The peers table for --help: name, services, how to install."""
    lines = ["named peers:"]
    width = max(len(p.name) for p in PEERS.values())
    for p in PEERS.values():
        services = ", ".join(sorted(p.services))
        lines.append(f"  {p.name:<{width}} {services:<23} {p.install}")
    return "\n".join(lines)

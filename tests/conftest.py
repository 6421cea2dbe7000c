"""Shared fixtures: a real ``cloudlet serve`` process on a free port, and boto3 clients for it.

Tests talk to the server the way users do: over a socket, with boto3.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """A ``cloudlet serve`` child process; ``start``/``kill``/``stop``/``restart``."""

    def __init__(self, data_dir: str | None = None, extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.extra_args = extra_args or []
        self.extra_env = env or {}
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> "ServerProcess":
        args = [sys.executable, "-m", "cloudlet", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        args += ["--data-dir", self.data_dir] if self.data_dir else ["--in-memory"]
        args += self.extra_args
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDLET_")}
        env.update(self.extra_env)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace")
                raise RuntimeError(f"cloudlet exited with {self.proc.returncode}: {out}")
            try:
                with urllib.request.urlopen(self.url + "/_cloudlet/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("cloudlet did not become healthy in time")

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode if self.proc else 0

    def restart(self) -> "ServerProcess":
        self.stop()
        return self.start()

    def post(self, path: str, body: bytes = b"{}") -> bytes:
        req = urllib.request.Request(self.url + path, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def advance_clock(self, seconds: float) -> None:
        self.post("/_cloudlet/clock", f'{{"advance": {seconds}}}'.encode())


def make_client(service: str, endpoint: str, region: str = REGION, access_key: str = "test", **config):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, **config),
    )


@pytest.fixture(scope="session")
def server():
    """One in-memory server shared by a test session (tests use unique resource names)."""
    srv = ServerProcess().start()
    yield srv
    srv.stop()


@pytest.fixture
def endpoint(server) -> str:
    return server.url


@pytest.fixture
def client_factory(server):
    def factory(service: str, **kw):
        return make_client(service, server.url, **kw)
    return factory


@pytest.fixture
def unique_name():
    def make(prefix: str = "t") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"
    return make


@pytest.fixture
def durable_server(tmp_path):
    """A server with a data dir of its own, for restart and kill -9 tests."""
    srv = ServerProcess(data_dir=str(tmp_path / "data")).start()
    yield srv
    srv.stop()


NODE_DIR = os.path.join(os.path.dirname(__file__), "node")


@pytest.fixture(scope="session")
def node_modules() -> str:
    """tests/node/node_modules with the AWS SDK for JavaScript v3 clients of tests/node/package.json,
    installed once (one npm install across xdist workers); skips where node or npm is missing."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node/npm not installed: the JS SDK tests need them")
    with open(os.path.join(NODE_DIR, "package.json")) as f:
        wanted = list(__import__("json").load(f)["dependencies"])
    modules = os.path.join(NODE_DIR, "node_modules")
    with open(os.path.join(NODE_DIR, ".install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all(os.path.isdir(os.path.join(modules, name)) for name in wanted):
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                           check=True, timeout=600)
    return os.path.abspath(modules)

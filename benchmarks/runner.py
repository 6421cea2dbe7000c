"""Runs workloads against a target and reports rates, latencies, client CPU and server memory."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlparse

from benchmarks import peers
from benchmarks.client import Signer, connect
from benchmarks.workloads import WORKLOADS, Env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int, field_name: str = "VmRSS") -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Target:
    name: str
    url: str
    proc: subprocess.Popen | None = None
    start_seconds: float | None = None
    idle_rss_kb: int | None = None
    services: set[str] = field(default_factory=set)
    version: str | None = None
    log: object = None  # the server's stderr (a temporary file), for the reason it died

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.terminate()  # peers that fork helpers (LocalStack's kinesis-mock) stop them on SIGTERM
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def log_tail(self, n: int = 400) -> str:
        if self.log is None:
            return ""
        self.log.seek(0, os.SEEK_END)
        size = self.log.tell()
        self.log.seek(max(0, size - n))
        return self.log.read().decode(errors="replace").strip()


def _wait_http(url: str, proc: subprocess.Popen | None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s")


def _start(name: str, argv: list[str], port: int, ready_path: str, services: set[str], env: dict | None = None,
           timeout: float = 30, version: str | None = None) -> Target:
    """Start a server, time it to its first HTTP answer, let it settle and take its idle RSS."""
    log = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    target = Target(name, url, proc, services=set(services), version=version, log=log)
    try:
        _wait_http(url + ready_path, proc, timeout)
    except RuntimeError as e:
        target.stop()
        tail = target.log_tail()
        raise RuntimeError(f"{name}: {e}" + (f"; its last words: {tail}" if tail else "")) from None
    target.start_seconds = time.perf_counter() - t0
    time.sleep(0.5)
    target.idle_rss_kb = rss_kb(proc.pid)
    return target


def _compile_cloudlet() -> None:
    """Give cloudlet's modules their bytecode, as a user's server has from its second
    start on (or at once, from a wheel: pip compiles at install). Where bytecode is not
    written (PYTHONDONTWRITEBYTECODE, as on the development machine) every start would
    otherwise compile the sources first: ~70 ms of the time to the first answer."""
    import compileall

    import cloudlet

    compileall.compile_dir(os.path.dirname(cloudlet.__file__), quiet=1)


def start_cloudlet(durable_dir: str | None = None) -> Target:
    _compile_cloudlet()
    port = free_port()
    args = [sys.executable, "-m", "cloudlet", "serve", "--port", str(port), "--log-level", "warning"]
    args += ["--data-dir", durable_dir] if durable_dir else ["--in-memory"]
    target = _start("cloudlet" + ("-durable" if durable_dir else ""), args, port, "/_cloudlet/health", set())
    target.services = cloudlet_services(target.url) or set()
    return target


def cloudlet_services(url: str) -> set[str] | None:
    """The services a cloudlet at ``url`` serves, or None when it is not a cloudlet."""
    try:
        with urllib.request.urlopen(url + "/_cloudlet/health", timeout=5) as r:
            return set(json.loads(r.read())["services"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def start_trivial() -> Target:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.trivial", str(port)], stdout=subprocess.PIPE)
    proc.stdout.readline()
    return Target("trivial", f"http://127.0.0.1:{port}", proc, services={"none"})


def split_url(spec: str) -> tuple[str | None, str] | None:
    """``URL`` -> (None, url), ``NAME=URL`` -> (name, url); None when ``spec`` is not a URL (a peer's name)."""
    name, sep, url = spec.partition("=")
    if not sep or "://" in name:
        name, url = None, spec
    if not url.startswith(("http://", "https://")):
        return None
    return name, url.rstrip("/")


def subject_target(spec: str) -> Target:
    """``--target URL`` (or NAME=URL): a cloudlet, asked for its services, or any other endpoint."""
    name, url = split_url(spec) or (None, spec.rstrip("/"))
    services = cloudlet_services(url)
    return Target(name or ("cloudlet" if services is not None else "target"), url,
                  services=services if services is not None else set(peers.ALL))


def start_peer(spec: str, needed: set[str]) -> Target:
    """A ``--compare`` peer: a URL (NAME=URL) used as it is, or a named peer started on a free port.
    Raises PeerUnavailable (unknown, not installed, or serving nothing that ``needed`` asks for)
    or RuntimeError (it did not start)."""
    named = split_url(spec)
    if named:
        _wait_http(named[1] + "/", None, 5)
        return Target(named[0] or named[1], named[1], services=set(peers.ALL))
    peer, prefix = peers.resolve(spec)
    if not peer.services & needed:
        raise peers.PeerUnavailable(f"{spec} serves {', '.join(sorted(peer.services))}: no selected workload uses it")
    port = free_port()
    cmd = peers.command(peer, prefix, port)
    return _start(peer.name, cmd.argv, port, peer.ready_path, set(peer.services), cmd.env, peer.start_timeout,
                  cmd.version)


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


async def _run_once(env: Env, worker, host: str, port: int) -> dict:
    latencies: list[float] = []
    counts = {"requests": 0, "items": 0, "errors": 0}

    def rec(latency, items, ok):
        latencies.append(latency)
        counts["requests"] += 1
        if ok:  # a failed request did no work, however fast its error (a peer may refuse an operation)
            counts["items"] += items
        else:
            counts["errors"] += 1

    conns = [await connect(host, port) for _ in range(env.concurrency)]
    deadline = time.perf_counter() + env.seconds

    def stop():
        return time.perf_counter() >= deadline

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    try:  # a server that stops answering must not hang the run; long polls wait 5 s at most
        await asyncio.wait_for(asyncio.gather(*(worker(c, i, rec, stop) for i, c in enumerate(conns))),
                               env.seconds + 30)
    except asyncio.TimeoutError:
        raise RuntimeError(f"no answer within {env.seconds + 30:.0f} s") from None
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    for c in conns:
        c.transport.close()
    latencies.sort()
    n = max(counts["requests"], 1)
    return {
        "seconds": elapsed,
        **counts,
        "req_per_s": counts["requests"] / elapsed,
        "items_per_s": counts["items"] / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "client_cpu_us_per_req": cpu / n * 1e6,
    }


def run_workload(target: Target, name: str, seconds: float, concurrency: int, repeat: int) -> dict:
    import boto3
    from botocore.config import Config

    workload = WORKLOADS[name]
    u = urlparse(target.url)
    signer = Signer(u.hostname, u.port)

    def boto(service):
        return boto3.client(service, endpoint_url=target.url, region_name="us-east-1", aws_access_key_id="test",
                            aws_secret_access_key="test", config=Config(retries={"max_attempts": 3}))

    env = Env(signer=signer, seconds=seconds, concurrency=concurrency, boto=boto, repeat=repeat)
    worker = workload.setup(env)
    reps = []
    for _ in range(repeat):
        before = getattr(worker, "before_each", None)  # e.g. top a queue up to the same depth
        if before is not None:
            before()
        reps.append(asyncio.run(_run_once(env, worker, u.hostname, u.port)))
    best = max(reps, key=lambda r: r["items_per_s"])
    return {"workload": name, "target": target.name, "unit": workload.unit, "best": best, "repetitions": reps,
            **env.extras}


def machine_info() -> dict:
    import importlib.metadata as md

    versions = {}
    for pkg in ("cloudlet", "botocore", "orjson", "uvloop", "httptools", "moto"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
            "processor": platform.processor(), "versions": versions}


def format_table(results: list[dict]) -> str:
    rows = [("workload", "target", "req/s", "items/s", "p50 ms", "p99 ms", "errors", "client µs/req")]
    for r in results:
        b = r["best"]
        rows.append((r["workload"], r["target"], f"{b['req_per_s']:,.0f}", f"{b['items_per_s']:,.0f} {r['unit']}",
                     f"{b['p50_ms']:.2f}", f"{b['p99_ms']:.2f}", str(b["errors"]), f"{b['client_cpu_us_per_req']:.0f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows)

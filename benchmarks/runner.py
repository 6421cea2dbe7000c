"""Runs workloads against a target and reports rates, latencies, client CPU and server memory."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlparse

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

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


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
    raise RuntimeError(f"{url} did not answer")


def start_cloudlet(durable_dir: str | None = None) -> Target:
    port = free_port()
    args = [sys.executable, "-m", "cloudlet", "serve", "--port", str(port), "--log-level", "warning"]
    args += ["--data-dir", durable_dir] if durable_dir else ["--in-memory"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_http(url + "/_cloudlet/health", proc)
    started = time.perf_counter() - t0
    time.sleep(0.5)
    target = Target("cloudlet" + ("-durable" if durable_dir else ""), url, proc, started, rss_kb(proc.pid))
    with urllib.request.urlopen(url + "/_cloudlet/health") as r:
        target.services = set(json.loads(r.read())["services"])
    return target


def start_trivial() -> Target:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.trivial", str(port)], stdout=subprocess.PIPE)
    proc.stdout.readline()
    return Target("trivial", f"http://127.0.0.1:{port}", proc, services={"none"})


def start_moto() -> Target:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_http(url + "/", proc)
    return Target("moto", url, proc, services={"dynamodb", "sqs", "kinesis"})


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
        counts["items"] += items
        if not ok:
            counts["errors"] += 1

    conns = [await connect(host, port) for _ in range(env.concurrency)]
    deadline = time.perf_counter() + env.seconds

    def stop():
        return time.perf_counter() >= deadline

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c, i, rec, stop) for i, c in enumerate(conns)))
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
    reps = [asyncio.run(_run_once(env, worker, u.hostname, u.port)) for _ in range(repeat)]
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

"""``cloudlet`` the command: start-up, options, and one-line errors instead of tracebacks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import ServerProcess, free_port, make_client

CLOUDLET = [sys.executable, "-m", "cloudlet"]


def run(args, **kw):
    return subprocess.run(CLOUDLET + args, capture_output=True, text=True, timeout=30, **kw)


def test_version():
    from cloudlet import __version__

    r = run(["--version"])
    assert r.returncode == 0
    assert r.stdout.strip() == f"cloudlet {__version__}"


def test_port_in_use_is_one_line_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run(["serve", "--in-memory", "--port", str(port)])
    assert r.returncode != 0
    assert r.stderr.strip() == f"cloudlet: port {port} on 127.0.0.1 is already in use"
    assert "Traceback" not in r.stderr + r.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; covered by the file-in-the-way case")
def test_unwritable_data_dir(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    r = run(["serve", "--data-dir", str(d), "--port", str(free_port())])
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_data_dir_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = run(["serve", "--data-dir", str(f), "--port", str(free_port())])
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cloudlet: data dir {f} is not usable")
    assert "Traceback" not in r.stderr


def test_incompatible_data_dir(tmp_path):
    d = tmp_path / "old"
    d.mkdir()
    (d / "cloudlet.json").write_text(json.dumps({"format": 999}))
    r = run(["serve", "--data-dir", str(d), "--port", str(free_port())])
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "incompatible" in lines[0]


def test_bad_default_account():
    r = run(["serve", "--in-memory", "--default-account", "abc"])
    assert r.returncode == 2 and "12-digit" in r.stderr


def test_starts_fast_prints_one_line_and_stops_cleanly_on_sigterm(tmp_path):
    srv = ServerProcess(data_dir=str(tmp_path / "d"))
    t0 = time.monotonic()
    srv.start()
    elapsed = time.monotonic() - t0
    assert elapsed < 3.0  # process start + imports + first answer; typically well under 1 s
    assert srv.stop() == 0
    out = srv.proc.stdout.read().decode()
    ready = [l for l in out.splitlines() if "ready on" in l]
    assert ready == [f"cloudlet {__import__('cloudlet').__version__} ready on http://127.0.0.1:{srv.port} (data in {tmp_path / 'd'})"]


def test_default_account_option(tmp_path):
    srv = ServerProcess(extra_args=["--default-account", "123456789012"]).start()
    try:
        url = make_client("sqs", srv.url, access_key="test").create_queue(QueueName="q")["QueueUrl"]
        assert url.endswith("/123456789012/q")
    finally:
        srv.stop()


def test_data_dir_from_environment(tmp_path):
    port = free_port()
    env = {**os.environ, "CLOUDLET_DATA_DIR": str(tmp_path / "envdir")}
    proc = subprocess.Popen(CLOUDLET + ["serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not (tmp_path / "envdir" / "cloudlet.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "envdir" / "cloudlet.json").exists()
    finally:
        proc.terminate()
        proc.wait(10)


def test_second_server_on_the_same_data_dir_is_refused(durable_server):
    r = run(["serve", "--data-dir", durable_server.data_dir, "--port", str(free_port())])
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert lines == [f"cloudlet: data dir {durable_server.data_dir} is in use by another cloudlet process"]

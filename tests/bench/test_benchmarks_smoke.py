"""The benchmark suite keeps working: every workload but the 10^6-item scale fills, for one second each."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.workloads import WORKLOADS

HEAVY = {"ddb-get-scale", "ddb-query-scale", "kinesis-get-scale"}  # fill 10^6 items: run by hand


@pytest.mark.slow
def test_benchmark_smoke(tmp_path):
    names = [n for n in WORKLOADS if n not in HEAVY]
    out = tmp_path / "results.json"
    r = subprocess.run([sys.executable, "-m", "benchmarks", "run", "--start", "--seconds", "1", "--repeat", "1",
                        "--concurrency", "4", "--workload", ",".join(names), "--out", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(out.read_text())
    done = {res["workload"] for res in data["results"] if "best" in res}
    assert done == set(names)
    for res in data["results"]:
        assert res["best"]["errors"] == 0 and res["best"]["requests"] > 0, res
    server = data["servers"]["cloudlet"]
    assert server["start_to_first_answer_s"] < 5 and server["idle_rss_mb"] > 0


def test_inproc_smoke():
    """``python -m benchmarks inproc`` measures every workload on both stores."""
    from benchmarks.inproc import WORKLOADS as INPROC

    r = subprocess.run([sys.executable, "-m", "benchmarks", "inproc", "--durable", "--requests", "160",
                        "--repeat", "1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {line.split()[0]: line.split()[1:] for line in r.stdout.splitlines()[1:] if line.strip()}
    assert set(rows) == set(INPROC), r.stdout
    for name, cells in rows.items():
        assert len(cells) == 2 and all(float(c) > 0 for c in cells), (name, cells)

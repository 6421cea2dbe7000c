"""python -m benchmarks run [--target URL | --start] [--workload a,b] [--seconds 10] [--concurrency 16] [--repeat 3]"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from benchmarks import runner
from benchmarks.workloads import WORKLOADS


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run workloads")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--target", help="endpoint URL of a running server")
    where.add_argument("--start", action="store_true", help="start cloudlet serve --in-memory (the default)")
    run.add_argument("--durable", action="store_true", help="with --start: also run on the SQLite store")
    run.add_argument("--workload", default="all", help=f"comma-separated: {', '.join(WORKLOADS)}")
    run.add_argument("--seconds", type=float, default=10)
    run.add_argument("--concurrency", type=int, default=16)
    run.add_argument("--repeat", type=int, default=3)
    run.add_argument("--compare", action="append", default=[], help="also run against: moto, or a URL")
    run.add_argument("--out", help="JSON results file (default benchmarks/results/<time>.json)")
    args = p.parse_args(argv)

    names = list(WORKLOADS) if args.workload == "all" else args.workload.split(",")
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        print(f"unknown workloads: {unknown}", file=sys.stderr)
        return 2
    targets = []
    tmp = None
    if args.target:
        targets.append(runner.Target("target", args.target.rstrip("/"), services={"dynamodb", "sqs", "kinesis"}))
    elif any(n != "baseline" for n in names):
        targets.append(runner.start_cloudlet())
        if args.durable:
            tmp = tempfile.mkdtemp(prefix="cloudlet-bench-")
            targets.append(runner.start_cloudlet(durable_dir=tmp))
    for other in args.compare:
        targets.append(runner.start_moto() if other == "moto" else runner.Target(other, other.rstrip("/"),
                                                                                  services={"dynamodb", "sqs", "kinesis"}))
    trivial = runner.start_trivial() if "baseline" in names else None
    results = []
    procs = {}
    try:
        for name in names:
            wl = WORKLOADS[name]
            for target in ([trivial] if name == "baseline" else targets):
                if wl.service not in target.services:
                    print(f"skip {name} on {target.name}: service not available", file=sys.stderr)
                    continue
                try:
                    res = runner.run_workload(target, name, args.seconds, args.concurrency, args.repeat)
                except Exception as e:  # noqa: BLE001 — report and go on with the next workload
                    print(f"{name} on {target.name} failed: {e!r}", file=sys.stderr)
                    results.append({"workload": name, "target": target.name, "failed": repr(e)})
                    continue
                results.append(res)
                print(runner.format_table([res]).splitlines()[-1], flush=True)
        for t in targets:
            if t.proc is not None:
                procs[t.name] = {"start_to_first_answer_s": t.start_seconds, "idle_rss_mb": (t.idle_rss_kb or 0) / 1024,
                                 "final_rss_mb": (runner.rss_kb(t.proc.pid) or 0) / 1024,
                                 "peak_rss_mb": (runner.rss_kb(t.proc.pid, "VmHWM") or 0) / 1024}
    finally:
        for t in targets + ([trivial] if trivial else []):
            t.stop()
    ok = [r for r in results if "best" in r]
    print()
    print(runner.format_table(ok))
    for name, info in procs.items():
        print(f"{name}: start to first answer {info['start_to_first_answer_s']:.3f} s, idle RSS {info['idle_rss_mb']:.1f} MB, "
              f"peak RSS {info['peak_rss_mb']:.1f} MB, final RSS {info['final_rss_mb']:.1f} MB")
    out = args.out or os.path.join(os.path.dirname(__file__), "results", time.strftime("%Y%m%d-%H%M%S") + ".json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"machine": runner.machine_info(), "args": vars(args), "servers": procs, "results": results}, f, indent=1)
    print(f"results: {out}")
    failed = [r for r in results if "failed" in r or r["best"]["errors"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""python -m benchmarks run [--target URL | --start] [--durable] [--workload a,b] [--seconds 10]
                          [--concurrency 16] [--repeat 3] [--compare PEER|URL|NAME=URL ...] [--passes N]
                          [--out FILE]
python -m benchmarks inproc [--workload a,b] [--durable] [--requests 4000] [--profile N]
                          (the server's own cost per request, without sockets: see benchmarks/inproc.py)

Runs each workload against cloudlet (started here, or the endpoint given with --target)
and against every --compare peer in the same run, prints a table and, for each
workload measured on more than one target, ``ratio cloudlet/<peer>: <x>`` (items/s,
best repetition; also stored as "ratios" in the JSON).

Peers (--compare NAME, repeatable or comma-separated): each is started on a free
port, timed to its first answer, measured for RSS like cloudlet and stopped at the
end; workloads of services a peer does not serve are skipped on it, and a workload a
peer cannot do is reported as failed with the reason. A peer that is not installed
is skipped with how to install it. Install them outside the repo, e.g.:

  pip install 'moto[server]'                                   # moto: in this Python
  python -m venv /tmp/peers/ministack && /tmp/peers/ministack/bin/pip install ministack
  cd /tmp/peers && npm install dynalite kinesalite
  export CLOUDLET_BENCH_NODE_PATH=/tmp/peers/node_modules CLOUDLET_BENCH_VENV=/tmp/peers/ministack

Python peers are found importable in this Python, in one of the virtualenvs listed in
$CLOUDLET_BENCH_VENV (colon-separated; ministack and LocalStack pin their own
botocore) or on PATH; Node peers in $CLOUDLET_BENCH_NODE_PATH (a node_modules
directory) or on PATH. Any running endpoint can be a peer as a URL, named with
NAME=URL (--compare other=http://127.0.0.1:4566); it is taken to serve all three
services. Fills that a slow peer cannot finish in max(60 s, 5 x the timed seconds)
stop there and the workload runs on what went in (noted as "fill" in the JSON).

With --passes N the whole list of workloads runs N times against the same servers,
and the RSS of every server started here is taken after each pass: on the SQLite
store (--durable), where data lives on disk, it should stay flat (no leak).

The exit status is 1 when a workload failed or had errors on cloudlet (or --target);
what peers fail is reported, not fatal.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time

from benchmarks import inproc as inproc_mod
from benchmarks import peers, ratios, runner, select_workloads
from benchmarks.workloads import WORKLOADS


def main(argv=None) -> int:
    doc = dict(description=__doc__.split("\n\n", 1)[1], epilog=peers.describe(),
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p = argparse.ArgumentParser(prog="python -m benchmarks", **doc)
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run workloads", **doc)
    where = run.add_mutually_exclusive_group()
    where.add_argument("--target", help="endpoint URL (or NAME=URL) of a running server to measure instead of starting one")
    where.add_argument("--start", action="store_true", help="start cloudlet serve --in-memory (the default)")
    run.add_argument("--durable", action="store_true", help="with --start: also run on the SQLite store")
    run.add_argument(
        "--workload", action="append", help=f"comma-separated, repeatable (default all): {', '.join(WORKLOADS)}"
    )
    run.add_argument("--seconds", type=float, default=10)
    run.add_argument("--concurrency", type=int, default=16)
    run.add_argument("--repeat", type=int, default=3)
    run.add_argument("--compare", action="append", default=[],
                     help=f"also run against a peer ({', '.join(peers.PEERS)}), a URL or NAME=URL; "
                          "repeatable or comma-separated")
    run.add_argument("--passes", type=int, default=1, help="run the whole workload list this many times "
                     "against the same servers, taking their RSS after each pass (leak check)")
    run.add_argument("--out", help="JSON results file (default benchmarks/results/<time>.json)")
    inproc = sub.add_parser("inproc", help="the server's own cost per request, without sockets",
                            description=inproc_mod.__doc__.split("\n\n", 1)[1],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    inproc_mod.add_arguments(inproc)
    args = p.parse_args(argv)
    if args.cmd == "inproc":
        return inproc_mod.run(args)

    names, unknown = select_workloads(args.workload, WORKLOADS)
    if unknown:
        print(f"unknown workloads: {unknown}", file=sys.stderr)
        return 2
    needed = {WORKLOADS[n].service for n in names} - {"none"}
    subjects: list[runner.Target] = []
    others: list[runner.Target] = []
    peers_skipped = []
    trivial = None
    results = []
    procs = {}
    try:
        if args.target:
            subjects.append(runner.subject_target(args.target))
        elif needed:
            subjects.append(runner.start_cloudlet())
            if args.durable:
                subjects.append(runner.start_cloudlet(durable_dir=tempfile.mkdtemp(prefix="cloudlet-bench-")))
        for spec in (s for arg in args.compare for s in arg.split(",") if s):
            try:
                others.append(runner.start_peer(spec, needed))
            except (peers.PeerUnavailable, RuntimeError) as e:
                print(f"skip peer {spec}: {e}", file=sys.stderr, flush=True)
                peers_skipped.append({"peer": spec, "reason": str(e)})
        targets = subjects + others
        trivial = runner.start_trivial() if "baseline" in names else None
        told = set()
        rss_after_pass: dict[str, list[float]] = {t.name: [] for t in targets if t.proc is not None}
        for pass_no, name in ((i, n) for i in range(1, max(1, args.passes) + 1) for n in names):
            if pass_no > 1 and name == names[0]:
                _take_rss(targets, rss_after_pass)
            wl = WORKLOADS[name]
            for target in ([trivial] if name == "baseline" else targets):
                if wl.service not in target.services:
                    if (target.name, wl.service) not in told:
                        told.add((target.name, wl.service))
                        print(f"skip {wl.service} workloads on {target.name}: it does not serve {wl.service}",
                              file=sys.stderr)
                    results.append({"workload": name, "target": target.name, "skipped": f"no {wl.service}"})
                    continue
                try:
                    res = runner.run_workload(target, name, args.seconds, args.concurrency, args.repeat)
                except Exception as e:  # noqa: BLE001 — report and go on with the next workload
                    reason = f"{type(e).__name__}: {e}"[:500]
                    print(f"{name} on {target.name} failed: {reason}", file=sys.stderr, flush=True)
                    results.append({"workload": name, "target": target.name, "failed": reason, "pass": pass_no})
                    continue
                res["pass"] = pass_no
                results.append(res)
                print(runner.format_table([res]).splitlines()[-1], flush=True)
        _take_rss(targets, rss_after_pass)
        for t in targets:
            if t.proc is not None:
                procs[t.name] = {"version": t.version, "start_to_first_answer_s": t.start_seconds,
                                 "rss_after_pass_mb": rss_after_pass.get(t.name, []),
                                 "idle_rss_mb": (t.idle_rss_kb or 0) / 1024,
                                 "final_rss_mb": (runner.rss_kb(t.proc.pid) or 0) / 1024,
                                 "peak_rss_mb": (runner.rss_kb(t.proc.pid, "VmHWM") or 0) / 1024}
    finally:
        for t in subjects + others + ([trivial] if trivial else []):
            t.stop()
    ok = [r for r in results if "best" in r]
    print()
    print(runner.format_table(ok))
    for name, info in procs.items():
        print(f"{name}{' ' + info['version'] if info['version'] else ''}: start to first answer "
              f"{info['start_to_first_answer_s']:.3f} s, idle RSS {info['idle_rss_mb']:.1f} MB, "
              f"peak RSS {info['peak_rss_mb']:.1f} MB, final RSS {info['final_rss_mb']:.1f} MB")
        if len(info["rss_after_pass_mb"]) > 1:
            print(f"{name}: RSS after each pass " + ", ".join(f"{mb:.1f}" for mb in info["rss_after_pass_mb"]) + " MB")
    compared = ratios.compute([r for r in results if r.get("pass", 1) == 1], [t.name for t in subjects],
                              [t.name for t in others])
    if compared:
        print("\nitems/s, best repetition:")
        print("\n".join(ratios.format_lines(compared)))
    for skipped in peers_skipped:
        print(f"not compared: {skipped['peer']} ({skipped['reason']})")
    out = args.out or os.path.join(os.path.dirname(__file__), "results", time.strftime("%Y%m%d-%H%M%S") + ".json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"machine": runner.machine_info(), "args": vars(args), "servers": procs, "results": results,
                   "ratios": compared, "peers_skipped": peers_skipped}, f, indent=1)
    print(f"results: {out}")
    mine = {t.name for t in subjects} | {"trivial"}
    failed = [r for r in results if r["target"] in mine and ("failed" in r or r.get("best", {}).get("errors"))]
    return 1 if failed else 0


def _take_rss(targets, rss_after_pass: dict) -> None:
    for t in targets:
        if t.proc is not None:
            rss_after_pass[t.name].append((runner.rss_kb(t.proc.pid) or 0) / 1024)


if __name__ == "__main__":
    # SIGTERM (a timeout, a kill) unwinds like Ctrl-C, so the servers started here are stopped too
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    sys.exit(main())

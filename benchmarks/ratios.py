"""Ratios of one run's results: each subject (cloudlet) over each peer, per workload.

Pure functions over the runner's result dicts ({workload, target, unit, best} for a
measured workload, {workload, target, failed|skipped} otherwise); no servers, no I/O.
A ratio is items/s of the best repetition, subject over peer; it is None, with a
reason, when either side failed or the peer did no items at all. For the
``*-latency`` workloads, whose point is the wait rather than the rate, the line
also gives the peer's median latency over the subject's (``p50_ratio``).
"""

from __future__ import annotations


def compute(results: list[dict], subjects: list[str], peers: list[str]) -> list[dict]:
    """One entry per workload run on a subject and a peer: {workload, target, peer, ratio[, reason, peer_errors]}."""
    by = {(r["workload"], r["target"]): r for r in results}
    out = []
    for workload in dict.fromkeys(r["workload"] for r in results):
        for subject in subjects:
            mine = by.get((workload, subject))
            if mine is None or "skipped" in mine:
                continue
            for peer in peers:
                theirs = by.get((workload, peer))
                if theirs is None or "skipped" in theirs:
                    continue
                entry = {"workload": workload, "target": subject, "peer": peer, "ratio": None}
                if "failed" in mine:
                    entry["reason"] = f"{subject} failed"
                elif "failed" in theirs:
                    entry["reason"] = f"{peer} failed: {theirs['failed']}"
                elif theirs["best"]["items_per_s"] <= 0:
                    entry["reason"] = f"{peer} did no {theirs.get('unit', 'items')}"
                else:
                    entry["ratio"] = mine["best"]["items_per_s"] / theirs["best"]["items_per_s"]
                    if mine["best"]["p50_ms"] > 0:
                        entry["p50_ratio"] = theirs["best"]["p50_ms"] / mine["best"]["p50_ms"]
                if "best" in theirs and theirs["best"]["errors"]:
                    entry["peer_errors"] = theirs["best"]["errors"]
                out.append(entry)
    return out


def format_lines(ratios: list[dict], width: int = 120) -> list[str]:
    """``<workload>  ratio cloudlet/<peer>: <x>`` for each entry; ``n/a (<reason>)`` when there is none."""
    pad = max((len(r["workload"]) for r in ratios), default=0)
    lines = []
    for r in ratios:
        value = f"{r['ratio']:.2f}" if r["ratio"] is not None else f"n/a ({r['reason']})"
        if r["workload"].endswith("-latency") and r.get("p50_ratio") is not None:
            value += f", p50 latency {r['peer']}/{r['target']}: {r['p50_ratio']:.2f}"
        if r.get("peer_errors"):
            value += f" ({r['peer']} had {r['peer_errors']} errors)"
        line = f"{r['workload'].ljust(pad)}  ratio {r['target']}/{r['peer']}: {value}"
        lines.append(line if len(line) <= width else line[:width - 1] + "…")
    return lines

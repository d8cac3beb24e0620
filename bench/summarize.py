#!/usr/bin/env python3
"""Summarises confab-bench JSON lines: medians per workload and server, ratios, and the bar.

    summarize.py --brief < one-json-line          one short line for a progress log
    summarize.py --dir DIR [--workloads w1,..] [--servers confab,..]
                                                  reads DIR/<workload>-<server>.jsonl and
                                                  prints a Markdown table and the verdicts
"""

import argparse
import json
import os
import statistics
import sys

WORKLOADS = {
    "w1": "100 clients, 16 in flight",
    "w2": "1,000 clients, 16 in flight",
    "w3": "100 clients, 1 in flight",
    "w4": "10,000 clients, 16 in flight",
}


def brief(run):
    if "error" in run:
        return "could not run: " + run["error"]
    server = run.get("server") or {}
    verdict = "ok" if run.get("ok") else "FAILED"
    return (
        f"{verdict} {run['throughput']:,.0f} msg/s, "
        f"{server.get('cpu_us_per_msg', float('nan')):.3f} us/msg server CPU, "
        f"p99 {run['latency_us']['p99']:,.0f} us, connect {run['connect_secs']:.2f} s"
    )


def load(path):
    runs = []
    if not os.path.exists(path):
        return runs
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    runs.append(json.loads(line))
                except json.JSONDecodeError:
                    runs.append({"ok": False, "error": "unreadable output: " + line[:80]})
    return runs


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


class Stats:
    """Medians over the runs that passed; a run that failed is counted, not averaged in."""

    def __init__(self, runs):
        self.total = len(runs)
        self.good = [r for r in runs if r.get("ok")]
        self.errors = [r.get("error") for r in runs if "error" in r]
        self.failed = [r for r in runs if not r.get("ok") and "error" not in r]
        g = self.good
        self.throughput = median([r["throughput"] for r in g])
        self.cpu = median([(r.get("server") or {}).get("cpu_us_per_msg") for r in g])
        self.p50 = median([r["latency_us"]["p50"] for r in g])
        self.p99 = median([r["latency_us"]["p99"] for r in g])
        self.hwm = median([(r.get("server") or {}).get("hwm_kib") for r in g])
        self.rss = median([(r.get("server") or {}).get("rss_kib_connected") for r in g])
        self.connect = median([r["connect_secs"] for r in g])
        self.bench_share = median(
            [r["bench_cpu_secs"] / r["duration_secs"] for r in g if r["duration_secs"] > 0]
        )

    def ok(self):
        return self.total > 0 and len(self.good) == self.total


def fmt(v, spec, unit=""):
    return "n/a" if v is None else format(v, spec) + unit


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def table(dirname, workloads, servers):
    out = []
    verdicts = []
    stats = {}
    for w in workloads:
        out.append(f"\n### {w}: {WORKLOADS.get(w, w)}, 32-byte texts, random\n")
        out.append(
            "| server | runs ok | throughput (msg/s) | server CPU (us/msg) | p50 (us) "
            "| p99 (us) | connect (s) | RSS named / peak (MiB) | generator CPU |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|")
        for s in servers:
            runs = load(os.path.join(dirname, f"{w}-{s}.jsonl"))
            if not runs:
                continue
            st = Stats(runs)
            stats[(w, s)] = st
            mem = (
                "n/a"
                if st.rss is None
                else f"{st.rss / 1024:.1f} / {fmt(st.hwm and st.hwm / 1024, '.1f')}"
            )
            note = ""
            if st.errors:
                note = f" ({len(st.errors)} could not run: {st.errors[0]})"
            elif st.failed:
                note = f" ({len(st.failed)} failed checks)"
            out.append(
                f"| {s} | {len(st.good)}/{st.total}{note} | {fmt(st.throughput, ',.0f')} "
                f"| {fmt(st.cpu, '.3f')} | {fmt(st.p50, ',.0f')} | {fmt(st.p99, ',.0f')} "
                f"| {fmt(st.connect, '.3f')} | {mem} | {fmt(st.bench_share, '.0%')} |"
            )

    def get(w, s):
        return stats.get((w, s))

    def check(name, passed, detail):
        verdicts.append(f"| {name} | {'met' if passed else 'MISSED'} | {detail} |")

    for variant in ("confab", "confab-mt"):
        tag = "" if variant == "confab" else f" [{variant}]"
        for w in ("w1", "w2"):
            c, r, p = get(w, variant), get(w, "redis"), get(w, "python")
            if c and r:
                t = ratio(c.throughput, r.throughput)
                check(
                    f"{w}{tag}: throughput >= Redis",
                    t is not None and t >= 1.0,
                    f"confab/Redis = {fmt(t, '.2f')}x",
                )
                cpu = ratio(c.cpu, r.cpu)
                check(
                    f"{w}{tag}: server CPU/msg <= 2/3 of Redis",
                    cpu is not None and cpu <= 2 / 3,
                    f"confab/Redis = {fmt(cpu, '.2f')} (target <= 0.67)",
                )
            if w == "w2" and c and p:
                t = ratio(c.throughput, p.throughput)
                detail = f"confab/Python = {fmt(t, '.1f')}x"
                if not p.ok():
                    detail += " (the Python baseline did not complete every run)"
                check(f"w2{tag}: throughput >= 10x Python", t is not None and t >= 10, detail)
        c, r = get("w3", variant), get("w3", "redis")
        if c and r:
            q = ratio(c.p99, r.p99)
            check(
                f"w3{tag}: p99 <= Redis",
                q is not None and q <= 1.0,
                f"confab {fmt(c.p99, ',.0f')} us vs Redis {fmt(r.p99, ',.0f')} us "
                f"({fmt(q, '.2f')}x)",
            )
        c = get("w4", variant)
        if c:
            check(f"w4{tag}: nothing lost", c.ok(), f"{len(c.good)}/{c.total} runs clean")
            peak = c.hwm and c.hwm / 1024
            check(
                f"w4{tag}: server RSS < 100 MB",
                peak is not None and peak * 1.048576 < 100,
                f"peak {fmt(peak, '.1f')} MiB",
            )
            check(
                f"w4{tag}: connect and name < 5 s",
                c.connect is not None and c.connect < 5,
                f"{fmt(c.connect, '.3f')} s",
            )
    all_ok = [
        (w, s) for (w, s), st in stats.items() if s.startswith("confab") and not st.ok()
    ]
    check(
        "every confab run clean",
        not all_ok,
        "all clean" if not all_ok else "failed: " + ", ".join(f"{w} {s}" for w, s in all_ok),
    )
    out.append("\n### The bar\n")
    out.append("| target | verdict | measured |")
    out.append("|---|---|---|")
    out.extend(verdicts)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brief", action="store_true", help="summarise one JSON line from stdin")
    ap.add_argument("--dir", help="directory of <workload>-<server>.jsonl files")
    ap.add_argument("--workloads", default="w1,w2,w3,w4")
    ap.add_argument("--servers", default="confab,confab-mt,redis,python")
    args = ap.parse_args()
    if args.brief:
        line = sys.stdin.read().strip()
        try:
            print(brief(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError):
            print("unreadable output: " + line[:80])
        return 0
    if not args.dir:
        ap.error("give --brief or --dir")
    print(table(args.dir, args.workloads.split(","), args.servers.split(",")))
    return 0


if __name__ == "__main__":
    sys.exit(main())

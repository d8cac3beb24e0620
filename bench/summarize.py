#!/usr/bin/env python3
"""Summarises confab-bench JSON lines: medians per workload, batch setting and server, and the bar.

    summarize.py --brief < one-json-line          one short line for a progress log
    summarize.py --dir DIR [--workloads w1,..] [--servers confab,..] [--batch 1,unbounded]
                                                  reads DIR/<workload>-b<batch>-<server>.jsonl
                                                  and prints Markdown tables and the verdicts

The bar is judged on the server called "confab" (confab-server with its default flags), at
every batch setting; "confab-1t" (--threads 1) and "confab-nopace" (--pace 0, no round
pacing) are measured against the same targets for the record. A target that was not measured (no runs of a server it compares with) is MISSED, with
the reason: a verdict is never "met" without figures.
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
    "w5": "1,000 clients, 1 in flight",
    "w6": "10,000 clients, 1 % talking (16 in flight), the rest idle",
}

# The bar. Ratios are confab's figure over the other server's; nothing here is ever loosened.
THROUGHPUT_VS_REDIS = 1.5  # w1, w2: throughput >= 1.5x Redis's
CPU_VS_REDIS = 0.67  # w1, w2: server CPU per delivered message <= 0.67x Redis's
P99_VS_REDIS = 0.8  # w3, w5: p99 latency <= 0.8x Redis's
THROUGHPUT_VS_PYTHON = 10.0  # w2: throughput >= 10x the Python baseline's
RSS_LIMIT_MB = 100.0  # w4: server peak RSS < 100 MB (10^6 bytes)
CONNECT_LIMIT_S = 5.0  # w4: connect and name every client in < 5 s
IDLE_RSS_LIMIT_BYTES = 2 * 1024  # w6: <= 2 KiB of server RSS per idle connection

JUDGED = "confab"
FOR_THE_RECORD = ("confab-1t", "confab-nopace", "confab-before")


def brief(run):
    if "error" in run:
        return "could not run: " + run["error"]
    server = run.get("server") or {}
    verdict = "ok" if run.get("ok") else "FAILED"
    per_client = server.get("rss_bytes_per_client")
    mem = "" if per_client is None else f", {per_client:,.0f} B RSS/client"
    return (
        f"{verdict} {run['throughput']:,.0f} msg/s, "
        f"{server.get('cpu_us_per_msg', float('nan')):.3f} us/msg server CPU, "
        f"p99 {run['latency_us']['p99']:,.0f} us, connect {run['connect_secs']:.2f} s"
        f"{mem}, {run.get('writes_per_message', float('nan')):.2f} writes/msg"
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

        def server(key):
            return median([(r.get("server") or {}).get(key) for r in g])

        self.throughput = median([r["throughput"] for r in g])
        self.cpu = server("cpu_us_per_msg")
        self.p50 = median([r["latency_us"]["p50"] for r in g])
        self.p99 = median([r["latency_us"]["p99"] for r in g])
        self.hwm = server("hwm_kib")
        self.rss = server("rss_kib_connected")
        self.per_client = server("rss_bytes_per_client")
        self.connect = median([r["connect_secs"] for r in g])
        self.writes = median([r.get("writes_per_message") for r in g])
        self.bench_share = median(
            [r["bench_cpu_secs"] / r["duration_secs"] for r in g if r["duration_secs"] > 0]
        )

    def ok(self):
        return self.total > 0 and len(self.good) == self.total


def fmt(v, spec, unit=""):
    return "n/a" if v is None else format(v, spec) + unit


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def batch_name(b):
    return "unbounded batch" if b == "unbounded" else f"--max-batch {b}"


class Bar:
    """Verdict rows for one server, for the workloads that were run."""

    def __init__(self, stats, workloads, batches, variant):
        self.stats = stats
        self.rows = []
        for b in batches:
            for w in workloads:
                self.judge(w, b, variant)
        bad = [f"{w} b{b}" for (w, b, s), st in stats.items() if s == variant and not st.ok()]
        name = f"every {variant} run clean"
        if not any(k[2] == variant for k in stats):
            self.absent(name, f"no {variant} runs")
        else:
            self.check(name, not bad, "all clean" if not bad else "failed: " + ", ".join(bad))

    def check(self, name, passed, detail):
        self.rows.append(f"| {name} | {'met' if passed else 'MISSED'} | {detail} |")

    def absent(self, name, why):
        self.check(name, False, f"not measured: {why}")

    def judge(self, w, b, v):
        def get(s):
            return self.stats.get((w, b, s))

        def missing(names, *servers):
            gone = [s for s in servers if not get(s)]
            for n in names if gone else ():
                self.absent(n, "no " + " or ".join(gone) + " runs")
            return bool(gone)

        tag = f"{w} [{batch_name(b)}]"
        c = get(v)
        if w in ("w1", "w2"):
            names = (
                f"{tag}: throughput >= {THROUGHPUT_VS_REDIS}x Redis",
                f"{tag}: server CPU/msg <= {CPU_VS_REDIS}x Redis",
            )
            if not missing(names, v, "redis"):
                r = get("redis")
                t = ratio(c.throughput, r.throughput)
                self.check(
                    names[0],
                    t is not None and t >= THROUGHPUT_VS_REDIS,
                    f"{fmt(c.throughput, ',.0f')} vs {fmt(r.throughput, ',.0f')} msg/s: "
                    f"{fmt(t, '.3f')}x",
                )
                q = ratio(c.cpu, r.cpu)
                self.check(
                    names[1],
                    q is not None and q <= CPU_VS_REDIS,
                    f"{fmt(c.cpu, '.3f')} vs {fmt(r.cpu, '.3f')} us: {fmt(q, '.3f')}x",
                )
        if w == "w2":
            name = f"{tag}: throughput >= {THROUGHPUT_VS_PYTHON:g}x Python"
            if not missing([name], v, "python"):
                p = get("python")
                t = ratio(c.throughput, p.throughput)
                detail = (
                    f"{fmt(c.throughput, ',.0f')} vs {fmt(p.throughput, ',.0f')} msg/s: "
                    f"{fmt(t, '.2f')}x"
                )
                if not p.ok():
                    detail += " (the Python baseline did not complete every run)"
                self.check(name, t is not None and t >= THROUGHPUT_VS_PYTHON, detail)
        if w in ("w3", "w5"):
            name = f"{tag}: p99 <= {P99_VS_REDIS}x Redis"
            if not missing([name], v, "redis"):
                r = get("redis")
                q = ratio(c.p99, r.p99)
                self.check(
                    name,
                    q is not None and q <= P99_VS_REDIS,
                    f"{fmt(c.p99, ',.0f')} vs {fmt(r.p99, ',.0f')} us: {fmt(q, '.3f')}x",
                )
        if w == "w4":
            names = (
                f"{tag}: nothing lost",
                f"{tag}: server RSS < {RSS_LIMIT_MB:g} MB",
                f"{tag}: connect and name < {CONNECT_LIMIT_S:g} s",
            )
            if not missing(names, v):
                self.check(names[0], c.ok(), f"{len(c.good)}/{c.total} runs clean")
                mb = None if c.hwm is None else c.hwm * 1024 / 1e6
                self.check(
                    names[1],
                    mb is not None and mb < RSS_LIMIT_MB,
                    f"peak {fmt(mb, '.1f')} MB ({fmt(c.hwm and c.hwm / 1024, '.1f')} MiB)",
                )
                self.check(
                    names[2],
                    c.connect is not None and c.connect < CONNECT_LIMIT_S,
                    f"{fmt(c.connect, '.3f')} s",
                )
        if w == "w6":
            name = f"{tag}: RSS per idle connection <= {IDLE_RSS_LIMIT_BYTES // 1024} KiB"
            if not missing([name], v):
                pc = c.per_client
                self.check(
                    name,
                    pc is not None and pc <= IDLE_RSS_LIMIT_BYTES,
                    f"{fmt(pc, ',.0f')} bytes, (RSS named - RSS before) / clients "
                    f"({fmt(ratio(pc, IDLE_RSS_LIMIT_BYTES), '.3f')}x the limit)",
                )


def table(dirname, workloads, servers, batches):
    out = []
    stats = {}
    for w in workloads:
        for b in batches:
            out.append(f"\n### {w}, {batch_name(b)}: {WORKLOADS.get(w, w)}, 32-byte texts, random\n")
            out.append(
                "| server | runs ok | throughput (msg/s) | server CPU (us/msg) | p50 (us) "
                "| p99 (us) | connect (s) | RSS named / peak (MiB) | RSS per client (B) "
                "| writes/msg | generator CPU |"
            )
            out.append("|---|---|---|---|---|---|---|---|---|---|---|")
            for s in servers:
                runs = load(os.path.join(dirname, f"{w}-b{b}-{s}.jsonl"))
                if not runs:
                    continue
                st = Stats(runs)
                stats[(w, b, s)] = st
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
                    f"| {fmt(st.connect, '.3f')} | {mem} | {fmt(st.per_client, ',.0f')} "
                    f"| {fmt(st.writes, '.2f')} | {fmt(st.bench_share, '.0%')} |"
                )

    out.append(f"\n### The bar ({JUDGED}: confab-server, default flags)\n")
    unjudged = [w for w in WORKLOADS if w not in workloads]
    if unjudged:
        out.append(f"Not run here, so not judged: {', '.join(unjudged)}.\n")
    out.append("| target | verdict | measured |")
    out.append("|---|---|---|")
    out.extend(Bar(stats, workloads, batches, JUDGED).rows)
    for variant in FOR_THE_RECORD:
        if variant in servers and any(k[2] == variant for k in stats):
            out.append(f"\n### For the record: {variant} against the same targets (not the bar)\n")
            out.append("| target | verdict | measured |")
            out.append("|---|---|---|")
            out.extend(Bar(stats, workloads, batches, variant).rows)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brief", action="store_true", help="summarise one JSON line from stdin")
    ap.add_argument("--dir", help="directory of <workload>-b<batch>-<server>.jsonl files")
    ap.add_argument("--workloads", default="w1,w2,w3,w4,w5,w6")
    ap.add_argument("--servers", default="confab,confab-1t,redis,python")
    ap.add_argument("--batch", default="1,unbounded", help="batch settings, as compare.sh's")
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
    print(
        table(
            args.dir,
            args.workloads.split(","),
            args.servers.split(","),
            args.batch.split(","),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Counts the system calls confab-server makes per delivered message, with perf's syscall
# tracepoints (counts, not times: they do not depend on what else the machine is doing).
#
#   bench/syscalls.sh [--clients N] [--inflight K] [--messages M] [--batch 1,unbounded]
#                     [--servers confab,confab-1t,confab-nopace]
#
# Each run starts a fresh server under `perf stat` (so that every thread it ever has is
# counted), runs confab-bench against it once, stops it and divides each count by the
# messages delivered. The counts include starting the server and connecting and naming the
# clients (a few hundred calls): keep clients x messages large for them not to matter.
# Needs perf (apt-get install linux-perf) and permission for tracepoints
# (/proc/sys/kernel/perf_event_paranoid, or root).
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=100
INFLIGHT=16
MESSAGES=2000
BATCHES=1,unbounded
SERVERS=confab,confab-1t

while (($#)); do
    case "$1" in
        --clients) CLIENTS="$2"; shift 2 ;;
        --inflight) INFLIGHT="$2"; shift 2 ;;
        --messages) MESSAGES="$2"; shift 2 ;;
        --batch) BATCHES="$2"; shift 2 ;;
        --servers) SERVERS="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "syscalls.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

if ! command -v perf >/dev/null; then
    echo "syscalls.sh: perf not found (apt-get install linux-perf)" >&2
    exit 2
fi

cargo build --release --bin confab-server --bin confab-bench >&2
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BENCH=$TARGET_DIR/release/confab-bench
CONFAB=$TARGET_DIR/release/confab-server
SCRATCH=$(mktemp -d)
PERF_PID=
server=
cleanup() {
    if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; fi
    if [ -n "$PERF_PID" ]; then wait "$PERF_PID" 2>/dev/null || true; fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

CALLS=(read write readv writev recvfrom sendto recvmsg sendmsg epoll_wait epoll_pwait
       epoll_pwait2 futex sched_yield)
EVENTS=$(printf 'syscalls:sys_enter_%s,' "${CALLS[@]}")raw_syscalls:sys_enter,context-switches

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "| server | batch | delivered | reads | writes | epoll_wait | futex | sched_yield | all syscalls | context switches |"
echo "|---|---|---|---|---|---|---|---|---|---|"
IFS=, read -r -a servers <<<"$SERVERS"
IFS=, read -r -a batches <<<"$BATCHES"
for kind in "${servers[@]}"; do
    case "$kind" in
        confab) flags=() ;;
        confab-1t) flags=(--threads 1) ;;
        confab-nopace) flags=(--pace 0) ;;
        *) echo "syscalls.sh: unknown server $kind (confab, confab-1t or confab-nopace)" >&2; exit 2 ;;
    esac
    for b in "${batches[@]}"; do
        case "$b" in
            unbounded) bflags=() ;;
            *) bflags=(--max-batch "$b") ;;
        esac
        port=$(free_port)
        perf stat -x, -o "$SCRATCH/perf.csv" -e "$EVENTS" -- \
            "$CONFAB" --listen "127.0.0.1:$port" "${flags[@]}" >"$SCRATCH/server.log" 2>&1 &
        PERF_PID=$!
        server=
        for _ in $(seq 1 100); do
            server=$(pgrep -P "$PERF_PID" -x confab-server || true)
            if [ -n "$server" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
            sleep 0.05
        done
        if [ -z "$server" ]; then
            echo "syscalls.sh: the server did not start; its log:" >&2
            cat "$SCRATCH/server.log" >&2
            exit 1
        fi
        line=$("$BENCH" --json --addr "127.0.0.1:$port" --clients "$CLIENTS" \
            --inflight "$INFLIGHT" --messages "$MESSAGES" --size 32 --pattern random \
            "${bflags[@]}")
        kill -TERM "$server"
        wait "$PERF_PID" || true
        PERF_PID=
        server=
        python3 - "$kind" "$b" "$line" "$SCRATCH/perf.csv" <<'EOF'
import json, sys
kind, batch, line, path = sys.argv[1:5]
run = json.loads(line)
if not run.get("ok"):
    sys.exit(f"syscalls.sh: the run failed: {line}")
counts = {}
for row in open(path):
    fields = row.strip().split(",")
    if len(fields) < 3 or not fields[0].replace(".", "").isdigit():
        continue
    counts[fields[2].split(":")[-1].removeprefix("sys_enter_")] = float(fields[0])
n = run["delivered"]
def per(*names):
    return f"{sum(counts.get(x, 0) for x in names) / n:.3f}"
print(
    f"| {kind} | {batch} | {n:,} | {per('read', 'readv', 'recvfrom', 'recvmsg')} "
    f"| {per('write', 'writev', 'sendto', 'sendmsg')} "
    f"| {per('epoll_wait', 'epoll_pwait', 'epoll_pwait2')} | {per('futex')} "
    f"| {per('sched_yield')} | {per('sys_enter')} | {per('context-switches')} |"
)
EOF
    done
done

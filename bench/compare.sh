#!/usr/bin/env bash
# Runs the workloads of BENCHMARKS.md against confab-server, Redis (pub/sub) and the Python select()
# baseline, in turn and repeated, and prints a table of medians and ratios against the bar.
#
#   bench/compare.sh [--reps N] [--servers confab,confab-mt,redis,python]
#                    [--workloads w1,w2,w3,w4] [--scale F] [--out DIR]
#
# Servers: confab (confab-server --threads 1: one worker, as Redis has one thread; on this
# 2-core machine the generator needs the other core), confab-mt (confab-server with its
# default of one worker per CPU), redis (redis-server, pub/sub, no persistence), python
# (bench/python_server.py, the select() baseline). The bar is judged on confab; confab-mt is
# shown so that the effect of the worker count is on the record.
#
# Workloads (32-byte texts, pattern random):
#   w1  100 clients, 16 in flight         throughput and server CPU per message vs Redis
#   w2  1,000 clients, 16 in flight       the same, and 10x the Python baseline's throughput
#   w3  100 clients, 1 in flight          p99 latency vs Redis
#   w4  10,000 clients, 16 in flight      nothing lost, server RSS < 100 MB, connect < 5 s
#                                         (not run on Redis: 20,000 sockets in one generator)
#
# Every server is started fresh for each workload, on loopback, on a free port; the repetitions
# of a workload go round the servers in turn, so that background load is shared out. Raw JSON
# lines go to DIR (default target/bench-compare), the table to stdout and DIR/summary.md.
# --scale multiplies every workload's message count (0.1 for a quick look).
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=5
SERVERS=confab,confab-mt,redis,python
WORKLOADS=w1,w2,w3,w4
SCALE=1
OUT=target/bench-compare

while (($#)); do
    case "$1" in
        --reps) REPS="$2"; shift 2 ;;
        --servers) SERVERS="$2"; shift 2 ;;
        --workloads) WORKLOADS="$2"; shift 2 ;;
        --scale) SCALE="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

# name clients inflight messages
workload() {
    case "$1" in
        w1) echo "100 16 10000" ;;
        w2) echo "1000 16 1000" ;;
        w3) echo "100 1 1000" ;;
        w4) echo "10000 16 100" ;;
        *) echo "compare.sh: unknown workload $1" >&2; exit 2 ;;
    esac
}

step() { printf '\n==> %s\n' "$*" >&2; }

step "building release binaries"
cargo build --release --bin confab-server --bin confab-bench >&2
BENCH=target/release/confab-bench
CONFAB=target/release/confab-server

# python3 runs this script's helpers; redis-server only the Redis comparison, which is skipped
# (visibly) without it, unless CONFAB_REQUIRE_TOOLS=1 makes that an error.
if ! command -v python3 >/dev/null; then
    echo "compare.sh: python3 not found (apt-get install python3)" >&2
    exit 2
fi
if [[ ",$SERVERS," == *",redis,"* ]] && ! command -v redis-server >/dev/null; then
    if [ "${CONFAB_REQUIRE_TOOLS:-}" = 1 ]; then
        echo "compare.sh: redis-server not found (apt-get install redis-server)" >&2
        exit 2
    fi
    echo "SKIP redis: redis-server not found (apt-get install redis-server)" >&2
    SERVERS=$(tr ',' '\n' <<<"$SERVERS" | grep -vx redis | paste -sd, -)
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_listening() { # port pid
    for _ in $(seq 1 100); do
        if ! kill -0 "$2" 2>/dev/null; then return 1; fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}

declare -A PID PORT

start_server() { # kind
    local kind=$1 port
    port=$(free_port)
    case "$kind" in
        confab) "$CONFAB" --listen "127.0.0.1:$port" --threads 1 >"$OUT/$kind.log" 2>&1 & ;;
        confab-mt) "$CONFAB" --listen "127.0.0.1:$port" >"$OUT/$kind.log" 2>&1 & ;;
        redis) redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
                   >"$OUT/$kind.log" 2>&1 & ;;
        python) python3 bench/python_server.py --port "$port" >"$OUT/$kind.log" 2>&1 & ;;
        *) echo "compare.sh: unknown server $kind" >&2; exit 2 ;;
    esac
    PID[$kind]=$!
    PORT[$kind]=$port
    if ! wait_listening "$port" "${PID[$kind]}"; then
        echo "compare.sh: $kind did not start; its log:" >&2
        cat "$OUT/$kind.log" >&2
        exit 1
    fi
}

stop_servers() {
    for kind in "${!PID[@]}"; do
        kill "${PID[$kind]}" 2>/dev/null || true
        wait "${PID[$kind]}" 2>/dev/null || true
        unset "PID[$kind]"
    done
}
trap stop_servers EXIT

mkdir -p "$OUT"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
    echo "kernel: $(uname -r)"
    echo "memory: $(free -h | awk '/Mem:/ {print $2}')"
    echo "redis: $(redis-server --version 2>/dev/null | cut -d' ' -f3 || echo none)"
    echo "python: $(python3 --version 2>&1)"
    echo "rustc: $(rustc --version)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "reps: $REPS, scale: $SCALE"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

IFS=, read -r -a servers <<<"$SERVERS"
IFS=, read -r -a workloads <<<"$WORKLOADS"

for w in "${workloads[@]}"; do
    read -r clients inflight messages <<<"$(workload "$w")"
    messages=$(python3 -c "print(max(1, round($messages * $SCALE)))")
    here=()
    for kind in "${servers[@]}"; do
        # Redis would need 20,000 sockets in the generator for w4: over the open-file limit.
        if [ "$w" = w4 ] && [ "$kind" = redis ]; then continue; fi
        here+=("$kind")
        : >"$OUT/$w-$kind.jsonl"
    done
    step "$w: $clients clients, $inflight in flight, $messages messages each: ${here[*]}"
    for kind in "${here[@]}"; do start_server "$kind"; done
    for rep in $(seq 1 "$REPS"); do
        for kind in "${here[@]}"; do
            [ -n "${PID[$kind]:-}" ] || continue
            target=confab
            [ "$kind" = redis ] && target=redis
            set +e
            line=$("$BENCH" --json --target "$target" --addr "127.0.0.1:${PORT[$kind]}" \
                --server-pid "${PID[$kind]}" --clients "$clients" --inflight "$inflight" \
                --messages "$messages" --size 32 --pattern random)
            status=$?
            set -e
            echo "$line" >>"$OUT/$w-$kind.jsonl"
            printf '  %s rep %s: exit %s %s\n' "$kind" "$rep" "$status" \
                "$(python3 bench/summarize.py --brief <<<"$line")" >&2
            # A server that could not take the workload (or died) is not tried again.
            if [ "$status" = 3 ] || ! kill -0 "${PID[$kind]}" 2>/dev/null; then
                kill "${PID[$kind]}" 2>/dev/null || true
                wait "${PID[$kind]}" 2>/dev/null || true
                unset "PID[$kind]"
            fi
        done
    done
    stop_servers
done

python3 bench/summarize.py --dir "$OUT" --workloads "$WORKLOADS" --servers "$SERVERS" \
    | tee "$OUT/summary.md"

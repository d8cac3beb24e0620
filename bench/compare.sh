#!/usr/bin/env bash
# Runs the workloads of BENCHMARKS.md against confab-server, Redis (pub/sub) and the Python select()
# baseline, each at every batch setting, servers taking turns, repeated, and prints tables of
# medians and the bar's verdicts.
#
#   bench/compare.sh [--reps N] [--servers confab,confab-1t,confab-nopace,confab-before,redis,python]
#                    [--workloads w1,w2,w3,w4,w5,w6] [--batch 1,unbounded] [--scale F]
#                    [--out DIR]
#
# Servers: confab (confab-server with its DEFAULT flags: the bar is judged on it), confab-1t
# (confab-server --threads 1, shown for the record), confab-nopace (confab-server --pace 0:
# no round pacing, POLICY-8; for the record, not run unless named), confab-before (the
# confab-server binary that CONFAB_BEFORE names, with its default flags: an earlier build, to
# measure a change before and after in the same runs; not run unless named), redis
# (redis-server, pub/sub, no persistence), python (bench/python_server.py, the select()
# baseline).
#
# Workloads (32-byte texts, pattern random):
#   w1  100 clients, 16 in flight          throughput >= 1.5x Redis, server CPU/msg <= 0.67x
#   w2  1,000 clients, 16 in flight        the same, and throughput >= 10x the Python baseline
#   w3  100 clients, 1 in flight           p99 latency <= 0.8x Redis's
#   w4  10,000 clients, 16 in flight       nothing lost, server RSS < 100 MB, connect < 5 s
#   w5  1,000 clients, 1 in flight         p99 latency <= 0.8x Redis's (latency-bound)
#   w6  10,000 clients, 100 talking (1 %)  <= 2 KiB of server RSS per idle connection
# A workload is not run on Redis when its sockets (2 per client) would pass the generator's
# open-file limit (ulimit -Hn, 20,000 here): w4 and w6; the script says so.
#
# Batch settings (--batch): 1 runs the generator with --max-batch 1 (every message its own
# write, as a person typing sends it), unbounded without it (a client writes all its window
# allows at once), N with --max-batch N. Every workload runs at each setting.
#
# Every run gets a fresh server (so that memory figures do not inherit a previous run's
# heap), on loopback, on a free port; the repetitions go round the servers in turn, so that
# background load is shared out. Raw JSON lines go to DIR/<workload>-b<batch>-<server>.jsonl
# (DIR defaults to target/bench-compare), the tables to stdout and DIR/summary.md.
# --scale multiplies every workload's message count (0.1 for a quick look).
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=5
SERVERS=confab,confab-1t,redis,python
WORKLOADS=w1,w2,w3,w4,w5,w6
BATCHES=1,unbounded
SCALE=1
OUT=target/bench-compare

while (($#)); do
    case "$1" in
        --reps) REPS="$2"; shift 2 ;;
        --servers) SERVERS="$2"; shift 2 ;;
        --workloads) WORKLOADS="$2"; shift 2 ;;
        --batch) BATCHES="$2"; shift 2 ;;
        --scale) SCALE="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

# name -> clients inflight messages talkers
workload() {
    case "$1" in
        w1) echo "100 16 10000 100" ;;
        w2) echo "1000 16 1000 1000" ;;
        w3) echo "100 1 1000 100" ;;
        w4) echo "10000 16 100 10000" ;;
        w5) echo "1000 1 200 1000" ;;
        w6) echo "10000 16 1000 100" ;;
        *) echo "compare.sh: unknown workload $1" >&2; exit 2 ;;
    esac
}

# The generator's flags for a batch setting.
batch_flags() {
    case "$1" in
        unbounded) ;;
        *[!0-9]*|''|0) echo "compare.sh: --batch takes positive numbers and 'unbounded', not '$1'" >&2
                       exit 2 ;;
        *) echo "--max-batch $1" ;;
    esac
}

step() { printf '\n==> %s\n' "$*" >&2; }

IFS=, read -r -a servers <<<"$SERVERS"
IFS=, read -r -a workloads <<<"$WORKLOADS"
IFS=, read -r -a batches <<<"$BATCHES"
for w in "${workloads[@]}"; do workload "$w" >/dev/null; done
for b in "${batches[@]}"; do batch_flags "$b" >/dev/null; done
for kind in "${servers[@]}"; do
    case "$kind" in
        confab|confab-1t|confab-nopace|redis|python) ;;
        confab-before)
            if [ ! -x "${CONFAB_BEFORE:-}" ]; then
                echo "compare.sh: confab-before needs CONFAB_BEFORE=<path of a confab-server binary>" \
                     "(got '${CONFAB_BEFORE:-}')" >&2
                exit 2
            fi ;;
        *) echo "compare.sh: unknown server $kind" >&2; exit 2 ;;
    esac
done

step "building release binaries"
cargo build --release --bin confab-server --bin confab-bench >&2
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BENCH=$TARGET_DIR/release/confab-bench
CONFAB=$TARGET_DIR/release/confab-server

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
    IFS=, read -r -a servers <<<"$SERVERS"
fi

# The generator raises its soft open-file limit up to this (see confab-bench).
FD_LIMIT=$(ulimit -Hn)

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

SERVER_PID=
SERVER_PORT=

start_server() { # kind log
    local kind=$1 log=$2
    SERVER_PORT=$(free_port)
    case "$kind" in
        confab) "$CONFAB" --listen "127.0.0.1:$SERVER_PORT" >"$log" 2>&1 & ;;
        confab-1t) "$CONFAB" --listen "127.0.0.1:$SERVER_PORT" --threads 1 >"$log" 2>&1 & ;;
        confab-nopace) "$CONFAB" --listen "127.0.0.1:$SERVER_PORT" --pace 0 >"$log" 2>&1 & ;;
        confab-before) "$CONFAB_BEFORE" --listen "127.0.0.1:$SERVER_PORT" >"$log" 2>&1 & ;;
        redis) redis-server --bind 127.0.0.1 --port "$SERVER_PORT" --save '' --appendonly no \
                   >"$log" 2>&1 & ;;
        python) python3 bench/python_server.py --port "$SERVER_PORT" >"$log" 2>&1 & ;;
    esac
    SERVER_PID=$!
    if ! wait_listening "$SERVER_PORT" "$SERVER_PID"; then
        echo "compare.sh: $kind did not start; its log:" >&2
        cat "$log" >&2
        exit 1
    fi
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

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
    echo "reps: $REPS, scale: $SCALE, batch settings: $BATCHES, open-file limit: $FD_LIMIT"
    if [[ ",$SERVERS," == *",confab-before,"* ]]; then
        echo "confab-before: $CONFAB_BEFORE"
    fi
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

for w in "${workloads[@]}"; do
    read -r clients inflight messages talkers <<<"$(workload "$w")"
    messages=$(python3 -c "print(max(1, round($messages * $SCALE)))")
    here=()
    for kind in "${servers[@]}"; do
        # Redis needs two sockets per client in the generator, plus its own few.
        if [ "$kind" = redis ] && ((2 * clients + 64 > FD_LIMIT)); then
            echo "NOT RUN $w on redis: $((2 * clients)) sockets in the generator would pass" \
                "its open-file limit ($FD_LIMIT)" >&2
            continue
        fi
        here+=("$kind")
    done
    for b in "${batches[@]}"; do
        read -r -a bflags <<<"$(batch_flags "$b")"
        for kind in "${here[@]}"; do : >"$OUT/$w-b$b-$kind.jsonl"; done
        step "$w, batch $b: $clients clients ($talkers talking), $inflight in flight," \
            "$messages messages each: ${here[*]}"
        declare -A given_up=()
        for rep in $(seq 1 "$REPS"); do
            for kind in "${here[@]}"; do
                [ -z "${given_up[$kind]:-}" ] || continue
                target=confab
                [ "$kind" = redis ] && target=redis
                start_server "$kind" "$OUT/$w-b$b-$kind.log"
                set +e
                line=$("$BENCH" --json --target "$target" --addr "127.0.0.1:$SERVER_PORT" \
                    --server-pid "$SERVER_PID" --clients "$clients" --talkers "$talkers" \
                    --inflight "$inflight" --messages "$messages" --size 32 --pattern random \
                    "${bflags[@]}")
                status=$?
                set -e
                echo "$line" >>"$OUT/$w-b$b-$kind.jsonl"
                printf '  %s rep %s: exit %s %s\n' "$kind" "$rep" "$status" \
                    "$(python3 bench/summarize.py --brief <<<"$line")" >&2
                # A server that could not take the workload (or died) is not tried again.
                if [ "$status" = 3 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
                    given_up[$kind]=1
                fi
                stop_server
            done
        done
        unset given_up
    done
done

python3 bench/summarize.py --dir "$OUT" --workloads "$WORKLOADS" --servers "$SERVERS" \
    --batch "$BATCHES" | tee "$OUT/summary.md"

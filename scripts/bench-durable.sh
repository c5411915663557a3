#!/usr/bin/env bash
# Durable publish throughput and acknowledgement latency, with and without group commit
# (docs/benchmarks.md). Starts `lattice serve` on a fresh data directory pinned to core 0,
# marks a channel durable, and runs `lattice bench fanout` (pinned to core 1) against it and
# against an ephemeral channel for comparison. Prints one JSON line per run.
# Usage: scripts/bench-durable.sh [LATTICE_BINARY] [SECONDS] [PUBLISHERS] [RATE]
# RATE is events per second in total, or `max` (each publisher keeps 128 unacknowledged).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/lattice}
SECONDS_PER_RUN=${2:-10}
PUBLISHERS=${3:-4}
RATE=${4:-max}
PORT=9171
DATA=$(mktemp -d /tmp/lattice-bench-durable.XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT

start_server() {  # extra flags...
  taskset -c 0 "$BIN" serve --port "$PORT" --threads 1 --ping-interval 0 --web-root /nonexistent \
    --data-dir "$DATA" --rate-messages 0 --rate-bytes 0 "$@" > "$DATA/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$DATA/serve.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "server did not start:" >&2; cat "$DATA/serve.log" >&2; exit 1
}
stop_server() {
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}
run() {  # label stream
  local out
  out=$(LATTICE_TOKEN=$TOKEN taskset -c 1 "$BIN" bench fanout --url "ws://127.0.0.1:$PORT/ws" --subscribers 1 \
    --publishers "$PUBLISHERS" --size 64 --rate "$RATE" --in-flight 128 --duration "$SECONDS_PER_RUN" --stream "$2" --json | tail -n 1)
  echo "{\"run\":\"$1\",${out#\{}"
}

start_server
ADMIN=$(grep -o 'admin token[^:]*: lat_[A-Za-z0-9_-]*' "$DATA/serve.log" | grep -o 'lat_.*')
TOKEN=$("$BIN" admin token create --data-dir "$DATA" --workspace demo --role editor --name bench)
for name in durable-gc durable-nogc; do
  curl -sf -X PUT -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d '{"durable":true}' "http://127.0.0.1:$PORT/api/workspaces/demo/channels/$name" > /dev/null
done
stop_server

start_server
run ephemeral channel/demo/ephemeral
run durable-group-commit channel/demo/durable-gc
stop_server

start_server --no-group-commit
run durable-no-group-commit channel/demo/durable-nogc
stop_server

#!/usr/bin/env bash
# Server memory per idle, authenticated WebSocket connection (docs/benchmarks.md).
# Starts `lattice serve` (pinned to core 0) on a fresh data directory, warms it up with 500
# connections (this opens the store's reader connections, a fixed ~5 MB), then holds 10,000 and
# 20,000 idle connections (scripts/idle_connections.py, pinned to core 1) and prints VmRSS:
# per connection at 10,000 ((RSS at 10k - RSS after warm-up) / 10,000) and the slope from 10k
# to 20k. Needs `ulimit -n` of at least 20,500.
# Usage: scripts/idle_memory.sh [LATTICE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/lattice}
PORT=9164
PY=${LATTICE_PYTHON:-.venv/bin/python}
D=$(mktemp -d /tmp/lattice-idle.XXXXXX)
SP=
cleanup() { if [ -n "$SP" ]; then kill "$SP" 2>/dev/null || true; wait "$SP" 2>/dev/null || true; fi; rm -rf "$D"; }
trap cleanup EXIT
rss() { awk '/VmRSS/ {print $2}' "/proc/$SP/status"; }
wait_for() { for _ in $(seq 1 60); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 1; done; echo "timed out waiting for $2 in $1" >&2; exit 1; }

taskset -c 0 "$BIN" serve --port "$PORT" --threads 1 --ping-interval 0 --web-root /nonexistent --data-dir "$D" \
  --max-connections-per-address 0 > "$D/serve.log" 2>&1 &
SP=$!
wait_for "$D/serve.log" "listening on"
TOKEN=$("$BIN" admin token create --data-dir "$D" --workspace demo --role editor --name idle)
taskset -c 1 "$PY" scripts/idle_connections.py "$PORT" 500 "/ws?token=$TOKEN" 1 > /dev/null
sleep 2
BEFORE=$(rss)
taskset -c 1 "$PY" scripts/idle_connections.py "$PORT" 10000 "/ws?token=$TOKEN" 40 > "$D/first.log" &
FIRST=$!
wait_for "$D/first.log" connected; sleep 3
AT10K=$(rss)
taskset -c 1 "$PY" scripts/idle_connections.py "$PORT" 10000 "/ws?token=$TOKEN" 15 > "$D/second.log" &
SECOND=$!
wait_for "$D/second.log" connected; sleep 3
AT20K=$(rss)
echo "{\"rss_after_warmup_kb\":$BEFORE,\"rss_10k_kb\":$AT10K,\"rss_20k_kb\":$AT20K,\"bytes_per_connection_10k\":$(( (AT10K - BEFORE) * 1024 / 10000 )),\"bytes_per_connection_slope\":$(( (AT20K - AT10K) * 1024 / 10000 ))}"
wait "$FIRST" "$SECOND"

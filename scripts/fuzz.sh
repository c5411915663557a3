#!/usr/bin/env bash
# Fuzzes the WebSocket frame parser and message assembler with libFuzzer.
#
#   scripts/fuzz.sh [SECONDS]        (default 60)
#
# Builds the NIOCore target (and the targets it depends on) with SwiftPM in
# .build-fuzz, then compiles Fuzz/FrameParserFuzz with the pure LatticeWebSocket sources as one
# module with -sanitize=fuzzer,address, and runs it for SECONDS on one core.
# Corpus: .build-fuzz/corpus (seeded from a few valid frames on first run).
# Crashes: fuzz-artifacts/ (gitignored). See docs/fuzzing.md.
set -euo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in
    -h|--help) usage; exit 0 ;;
esac
if [ $# -gt 1 ] || { [ $# -eq 1 ] && ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; }; then
    echo "fuzz.sh: SECONDS must be a positive whole number (got: $*)" >&2
    usage >&2
    exit 64
fi
DURATION="${1:-60}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SCRATCH="$ROOT/.build-fuzz"
BINARY="$SCRATCH/frame-parser-fuzz"
CORPUS="$SCRATCH/corpus"
ARTIFACTS="$ROOT/fuzz-artifacts"

# 1. NIOCore and its dependencies, built by SwiftPM (debug is enough: the fuzz
#    target inlines ByteBuffer's @inlinable code itself).
swift build --scratch-path "$SCRATCH" --target NIOCore >&2
BIN="$(swift build --scratch-path "$SCRATCH" --show-bin-path)"

# Objects of NIOCore and of the targets it depends on (from SwiftPM's build description).
DEPS="$(python3 - "$BIN/description.json" <<'PY'
import json, sys
deps = json.load(open(sys.argv[1]))["targetDependencyMap"]
seen, todo = set(), ["NIOCore"]
while todo:
    t = todo.pop()
    if t not in seen:
        seen.add(t)
        todo += deps.get(t, [])
print("\n".join(sorted(seen)))
PY
)"
OBJECTS=()
for target in $DEPS; do
    while IFS= read -r -d '' o; do OBJECTS+=("$o"); done < <(find "$BIN/$target.build" -name '*.o' -print0)
done

# Clang module maps of the C targets (generated ones and those shipped in include/ dirs).
MODULEMAP_FLAGS=()
while IFS= read -r -d '' m; do MODULEMAP_FLAGS+=(-Xcc "-fmodule-map-file=$m"); done < <(
    { find "$BIN" -maxdepth 2 -name module.modulemap -print0
      find "$SCRATCH/checkouts" -path '*/Sources/*/include/module.modulemap' -print0; })

# 2. The engine sources the fuzz target exercises (no handshake/NIOHTTP1 code).
ENGINE=(
    DeflateCodec PerMessageDeflateParameters UTF8Validator WebSocketCloseCode WebSocketExtensionHeader
    WebSocketFrame WebSocketFrameEncoder WebSocketFrameParser WebSocketMaskKey WebSocketMessageAssembler
    WebSocketOpcode WebSocketProtocolError
)
SOURCES=("$ROOT/Fuzz/FrameParserFuzz/FrameParserFuzz.swift")
for s in "${ENGINE[@]}"; do SOURCES+=("$ROOT/Sources/LatticeWebSocket/$s.swift"); done

swiftc -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 \
    -module-name LatticeFrameParserFuzz \
    -I "$BIN/Modules" -I "$ROOT/Sources/CZlib" "${MODULEMAP_FLAGS[@]}" \
    "${SOURCES[@]}" "${OBJECTS[@]}" -lz \
    -o "$BINARY" > "$SCRATCH/fuzz-build.log" 2>&1 || { cat "$SCRATCH/fuzz-build.log" >&2; exit 1; }
# (ld.gold warns "Cannot export local symbol '__asan_…'" for every ASan helper: harmless.)

# 3. Seed corpus: first byte = options (see FuzzOptions), then frames.
if [ ! -d "$CORPUS" ] || [ -z "$(ls -A "$CORPUS")" ]; then
    mkdir -p "$CORPUS"
    seed() { printf "$2" > "$CORPUS/$1"; }
    # Masked "Hello" (RFC 6455 §5.7), options 0x7C: no RSV, 1 MiB frames and messages.
    seed masked-hello '\x7c\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58'
    # Unmasked fragmented "Hel" + ping + "lo".
    seed fragmented '\x7c\x01\x03\x48\x65\x6c\x89\x00\x80\x02\x6c\x6f'
    # Compressed "Hello" (RFC 7692 §7.2.3.1) twice, deflate allowed.
    seed deflate-hello '\x7d\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00\xc1\x05\xf2\x00\x11\x00\x00'
    # 16-bit length binary frame, masked, and a close frame.
    seed len16 "\\x7c\\x82\\xfe\\x00\\x7e\\x01\\x02\\x03\\x04$(printf 'a%.0s' $(seq 1 126))\\x88\\x82\\x01\\x02\\x03\\x04\\x02\\xea"
    # 64-bit length header and a masked close.
    seed len64 '\x7c\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00\x88\x80\x00\x00\x00\x00'
    # Text with a multi-byte character split over two fragments.
    seed utf8-split '\x7c\x01\x02\x41\xe2\x80\x02\x82\xac'
fi

mkdir -p "$ARTIFACTS"
# 4. Run in this one process, bounded in time. (No -jobs/-workers: with -jobs=1
#    libFuzzer would fork a child and send its output to ./fuzz-0.log.)
exec "$BINARY" "$CORPUS" \
    -max_total_time="$DURATION" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$ARTIFACTS/" -print_final_stats=1

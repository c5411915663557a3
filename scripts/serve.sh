#!/usr/bin/env bash
# Starts the server on a fresh machine: installs the one system library the build
# needs (zlib), builds in release mode and runs `lattice serve` with any extra flags.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-zlib.sh
swift build -c release --product lattice
exec .build/release/lattice serve "$@"

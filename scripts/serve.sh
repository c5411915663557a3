#!/usr/bin/env bash
# Starts the server on a fresh machine: installs the system libraries the build
# needs (zlib, libcrypto, SQLite), builds in release mode and runs `lattice serve` with any extra flags.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-libs.sh
swift build -c release --product lattice
exec .build/release/lattice serve "$@"

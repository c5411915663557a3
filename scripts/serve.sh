#!/usr/bin/env bash
# Starts the server on a fresh machine: installs the one system library the build
# needs (zlib), builds in release mode and runs `lattice serve` with any extra flags.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s zlib1g-dev >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zlib1g-dev
  else
    echo "zlib1g-dev is missing: sudo apt-get install zlib1g-dev" >&2; exit 1
  fi
fi
swift build -c release --product lattice
exec .build/release/lattice serve "$@"

#!/usr/bin/env bash
# The whole test suite: installs what the tests need, builds everything, runs every test.
# Usage: scripts/test.sh   (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

# System libraries the build links against (zlib, libcrypto, SQLite).
source scripts/ensure-libs.sh

# Python interop peers (websockets), pinned, in a project virtualenv.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import websockets" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r Tests/interop/requirements.txt
fi
export LATTICE_PYTHON="$PWD/.venv/bin/python"

# Build every target first (the integration tests start the real `lattice` binary).
swift build --build-tests
# Autobahn|Testsuite fuzzing cases 1-13 against `lattice echo` (the wire's conformance bar).
# The Python test client is the bottleneck, so the debug build is as fast as release here.
AUTOBAHN_SERVER_CMD="$PWD/.build/debug/lattice echo --host {host} --port {port}" scripts/autobahn.sh

# Swift Testing only: the closing line is the real summary.
swift test --skip-build --disable-xctest

#!/usr/bin/env bash
# Autobahn|Testsuite fuzzingclient harness for `lattice echo`.
#
#   scripts/autobahn.sh                 # install (once), build lattice, run cases 1.*-13.*, summarize
#   scripts/autobahn.sh --python-echo   # same against the Python stand-in (scripts/autobahn/python_echo.py)
#   scripts/autobahn.sh --no-deflate    # pass --no-deflate to the server; UNIMPLEMENTED is then allowed
#   scripts/autobahn.sh --install-only  # only set up .venv-autobahn/
#
# Environment:
#   AUTOBAHN_SERVER_CMD   server command (shell string); {host} and {port} are substituted,
#                         $AUTOBAHN_HOST / $AUTOBAHN_PORT are exported too. Setting it skips the
#                         Swift build. Default: .build-autobahn/release/lattice echo --host {host} --port {port}
#   AUTOBAHN_SERVER_ARGS  extra arguments appended to the server command (e.g. --no-deflate)
#   AUTOBAHN_CASES        JSON list of case patterns (default: ["1.*", ..., "13.*"])
#   AUTOBAHN_EXCLUDE      JSON list of case patterns to exclude (default: [])
#   AUTOBAHN_TIMEOUT      seconds for the whole fuzzingclient run (default 1800)
#   AUTOBAHN_PORT         port to use (default: a free port picked on 127.0.0.1)
#   AUTOBAHN_STARTUP_TIMEOUT  seconds to wait for the server to listen (default 60)
#   AUTOBAHN_OUTDIR       report directory (default: reports/autobahn under the repo)
#   AUTOBAHN_AGENT        agent name in the report (default: lattice, or python-echo)
#   AUTOBAHN_PYTHON2      path of a Python 2.7 interpreter (default: pyenv's 2.7.x)
#   AUTOBAHN_ALLOW_UNIMPLEMENTED=1  do not count UNIMPLEMENTED as failing
#   AUTOBAHN_SKIP_APT=1   never call apt-get
#
# Exit status: 0 all selected cases ran and none failed; 1 a case failed or is missing;
# 2 setup/build/server/timeout problem. Network: loopback only (127.0.0.1).
set -Eeuo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$REPO/scripts/autobahn"
VENV="$REPO/.venv-autobahn"
PY3VENV="$VENV/py3"
WSVENV="$VENV/wstest"
SCRATCH="$REPO/.build-autobahn"
HOST=127.0.0.1
OUTDIR="${AUTOBAHN_OUTDIR:-$REPO/reports/autobahn}"
RUNDIR="$OUTDIR/run"
TIMEOUT="${AUTOBAHN_TIMEOUT:-1800}"
STARTUP_TIMEOUT="${AUTOBAHN_STARTUP_TIMEOUT:-60}"
DEFAULT_CASES='["1.*","2.*","3.*","4.*","5.*","6.*","7.*","8.*","9.*","10.*","11.*","12.*","13.*"]'
CASES="${AUTOBAHN_CASES:-$DEFAULT_CASES}"
EXCLUDE="${AUTOBAHN_EXCLUDE:-[]}"
ALLOW_UNIMPLEMENTED="${AUTOBAHN_ALLOW_UNIMPLEMENTED:-0}"
SERVER_ARGS="${AUTOBAHN_SERVER_ARGS:-}"

# Exact pins of what this script installs from Debian when missing (bookworm versions).
APT_PINS=(
  "build-essential=12.9"        # gcc/make/libc headers: C extensions of the wstest deps
  "zlib1g-dev=1:1.2.13.dfsg-1"  # CZlib for the lattice build (permessage-deflate)
)
WSTEST_REQ="$HERE/requirements-wstest.txt"
PY3_REQ="$HERE/requirements-py3.txt"

MODE=run
PYTHON_ECHO=0
for arg in "$@"; do
  case "$arg" in
    --install-only) MODE=install ;;
    --python-echo)  PYTHON_ECHO=1 ;;
    --no-deflate)   SERVER_ARGS="$SERVER_ARGS --no-deflate"; ALLOW_UNIMPLEMENTED=1 ;;
    -h|--help)      sed -n '2,/^set -E/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "autobahn: unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done

log()  { printf '[autobahn %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die()  { printf '[autobahn] ERROR: %s\n' "$*" >&2; exit 2; }

# ---------------------------------------------------------------- apt (only if missing)
apt_ensure() {
  # apt_ensure "pkg=version" ... : install the pinned packages that are not installed yet.
  local want=() spec name
  for spec in "$@"; do
    name="${spec%%=*}"
    dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed' || want+=("$spec")
  done
  [[ ${#want[@]} -eq 0 ]] && return 0
  [[ "${AUTOBAHN_SKIP_APT:-0}" == 1 ]] && die "missing Debian packages (AUTOBAHN_SKIP_APT=1): ${want[*]}"
  local SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  log "apt-get install ${want[*]}"
  $SUDO apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"; then
    # Debian drops superseded versions from its archive; keep going with the current one, loudly.
    log "WARNING: pinned versions not installable; installing the current candidates instead"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]%%=*}"
  fi
}

# ---------------------------------------------------------------- interpreters
find_python2() {
  local c cands=()
  if [[ -n "${AUTOBAHN_PYTHON2:-}" ]]; then
    cands=("$AUTOBAHN_PYTHON2")
  else
    local roots=()
    command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root)")
    roots+=("${PYENV_ROOT:-$HOME/.pyenv}" /root/.pyenv)
    for r in "${roots[@]}"; do
      for c in "$r"/versions/2.7*/bin/python2.7; do [[ -x "$c" ]] && cands+=("$c"); done
    done
    # On PATH (a pyenv shim fails here unless a 2.7 version is selected, which the check catches).
    for c in python2.7 python2; do command -v "$c" >/dev/null 2>&1 && cands+=("$(command -v "$c")"); done
  fi
  for c in "${cands[@]}"; do
    if "$c" -c 'import sys, ssl, zlib; sys.exit(0 if sys.version_info[:2] == (2, 7) else 1)' >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  return 1
}

find_python3() {
  local c
  for c in "${AUTOBAHN_PYTHON3:-}" python3; do
    [[ -n "$c" ]] || continue
    if "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 9) else 1)' >/dev/null 2>&1; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

install_env() {
  local py3 py2 stamp
  py3="$(find_python3)" || die "need python3 >= 3.9 with the venv module"
  py2="$(find_python2)" || die "no Python 2.7 interpreter found.
  autobahntestsuite (all releases, incl. 25.10.1) is Python-2-only and Debian 12 ships no python2/pypy2.
  Expected pyenv's 2.7.x (e.g. /root/.pyenv/versions/2.7.18/bin/python2.7); set AUTOBAHN_PYTHON2 to one."

  command -v gcc >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || apt_ensure "${APT_PINS[0]}"

  # Python 3 helper venv: virtualenv (to create the 2.7 venv) + websockets (stand-in server).
  stamp="$(stamp_of "$PY3_REQ" <(echo "$py3"; "$py3" -V 2>&1))"
  if [[ ! -f "$PY3VENV/.stamp" || "$(cat "$PY3VENV/.stamp")" != "$stamp" ]]; then
    log "creating $PY3VENV with $py3 ($("$py3" -V 2>&1))"
    rm -rf "$PY3VENV"
    "$py3" -m venv "$PY3VENV"
    "$PY3VENV/bin/python" -m pip install -q --no-cache-dir --disable-pip-version-check -r "$PY3_REQ"
    echo "$stamp" > "$PY3VENV/.stamp"
  fi

  # Python 2.7 venv with wstest. virtualenv 20.21.1 seeds pip 20.3.4 / setuptools 44.1.1 / wheel 0.37.1
  # from wheels embedded in itself (no download).
  stamp="$(stamp_of "$WSTEST_REQ" <(echo "$py2"; "$py2" -V 2>&1))"
  if [[ ! -f "$WSVENV/.stamp" || "$(cat "$WSVENV/.stamp")" != "$stamp" ]]; then
    log "creating $WSVENV with $py2 ($("$py2" -V 2>&1))"
    rm -rf "$WSVENV"
    "$PY3VENV/bin/virtualenv" -q --no-periodic-update -p "$py2" "$WSVENV"
    PYTHONWARNINGS=ignore "$WSVENV/bin/python" -m pip install -q --no-cache-dir --disable-pip-version-check \
      --no-python-version-warning -r "$WSTEST_REQ"
    PYTHONWARNINGS=ignore "$WSVENV/bin/python" -m pip check --no-python-version-warning >/dev/null \
      || die "pip check failed in $WSVENV"
    echo "$stamp" > "$WSVENV/.stamp"
  fi
  "$WSVENV/bin/wstest" --autobahnversion 2>/dev/null | sed 's/^/[autobahn] /' || die "wstest does not run"
}

# ---------------------------------------------------------------- server
SERVER_PID=""
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local pid="$SERVER_PID" i rc
  SERVER_PID=""
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "WARNING: server (pid $pid) did not stop within 10 s of SIGTERM; sending SIGKILL to its process group"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rc=0; wait "$pid" 2>/dev/null || rc=$?
  log "server (pid $pid) stopped, exit status $rc"
  SERVER_RC=$rc
}
WSTEST_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$WSTEST_PID" ]] && kill -0 "$WSTEST_PID" 2>/dev/null; then kill -TERM "$WSTEST_PID" 2>/dev/null || true; fi
  stop_server
  exit "$rc"
}

pick_port() {
  "$PY3VENV/bin/python" - <<'EOF'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
EOF
}

wait_listening() {
  # wait_listening PORT DEADLINE_SECONDS
  local port=$1 deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    if "$PY3VENV/bin/python" -c "import socket,sys; socket.create_connection(('$HOST', $port), 0.5).close()" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# ---------------------------------------------------------------- main
cd "$REPO"
install_env
[[ "$MODE" == install ]] && { log "install done: $WSVENV/bin/wstest"; exit 0; }

if [[ "$PYTHON_ECHO" == 1 && -z "${AUTOBAHN_SERVER_CMD:-}" ]]; then
  AUTOBAHN_SERVER_CMD="'$PY3VENV/bin/python' '$HERE/python_echo.py' --host {host} --port {port}"
  AGENT="${AUTOBAHN_AGENT:-python-echo}"
fi
AGENT="${AGENT:-${AUTOBAHN_AGENT:-lattice}}"

if [[ -z "${AUTOBAHN_SERVER_CMD:-}" ]]; then
  apt_ensure "${APT_PINS[1]}"
  log "building lattice (release, scratch path .build-autobahn)"
  t0=$SECONDS
  swift build -c release --scratch-path "$SCRATCH" --product lattice || die "swift build failed"
  BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/lattice"
  [[ -x "$BIN" ]] || die "no executable at $BIN"
  log "build done in $((SECONDS - t0)) s"
  AUTOBAHN_SERVER_CMD="'$BIN' echo --host {host} --port {port}"
fi

PORT="${AUTOBAHN_PORT:-$(pick_port)}"
export AUTOBAHN_HOST="$HOST" AUTOBAHN_PORT="$PORT"
CMD="${AUTOBAHN_SERVER_CMD//\{host\}/$HOST}"
CMD="${CMD//\{port\}/$PORT}"
[[ -n "$SERVER_ARGS" ]] && CMD="$CMD $SERVER_ARGS"

# Fresh report directory (only the suite's own file types are removed).
mkdir -p "$OUTDIR" "$RUNDIR"
find "$OUTDIR" -maxdepth 2 -type f \( -name '*.json' -o -name '*.html' -o -name '*.log' -o -name 'summary.txt' \) -delete

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting server: $CMD"
# setsid: the server leads its own process group (so a SIGKILL fallback reaches its children);
# exec keeps the PID we record the server's own.
setsid bash -c "exec $CMD" >"$RUNDIR/server.log" 2>&1 < /dev/null &
SERVER_PID=$!
if ! wait_listening "$PORT" "$STARTUP_TIMEOUT"; then
  echo "----- server log ($RUNDIR/server.log) -----" >&2; tail -n 30 "$RUNDIR/server.log" >&2 || true
  die "server did not listen on $HOST:$PORT within ${STARTUP_TIMEOUT}s (or exited)"
fi
log "server pid $SERVER_PID listening on $HOST:$PORT ($(head -n1 "$RUNDIR/server.log" 2>/dev/null))"

SPEC="$RUNDIR/fuzzingclient.json"
"$PY3VENV/bin/python" - "$SPEC" "$OUTDIR" "$AGENT" "ws://$HOST:$PORT" "$CASES" "$EXCLUDE" <<'EOF' \
  || die "cannot write the spec: AUTOBAHN_CASES / AUTOBAHN_EXCLUDE must be JSON lists of strings"
import json, sys
spec_path, outdir, agent, url, cases, exclude = sys.argv[1:]
spec = {
    "options": {"failByDrop": False},
    "outdir": outdir,
    "servers": [{"agent": agent, "url": url}],
    "cases": json.loads(cases),
    "exclude-cases": json.loads(exclude),
    "exclude-agent-cases": {},
}
with open(spec_path, "w") as f:
    json.dump(spec, f, indent=2)
EOF
EXPECTED="$RUNDIR/expected-cases.json"
n_sel="$("$WSVENV/bin/python" "$HERE/list_cases.py" "$SPEC" "$EXPECTED")" || die "bad case selection: $CASES"
log "$n_sel; fuzzingclient -> ws://$HOST:$PORT (timeout ${TIMEOUT}s, log $RUNDIR/wstest.log)"

t0=$(date +%s.%N)
wrc=0
# Run from RUNDIR: wstest resolves nothing relative to cwd except the spec path we give it.
( cd "$RUNDIR" && exec timeout --kill-after=15 "$TIMEOUT" "$WSVENV/bin/wstest" -m fuzzingclient -s "$SPEC" ) \
  >"$RUNDIR/wstest.log" 2>&1 &
WSTEST_PID=$!
# Progress line every AUTOBAHN_PROGRESS seconds (default 60) from wstest's "Running test case ID" lines.
n_total="${n_sel%% *}"; next=$((SECONDS + ${AUTOBAHN_PROGRESS:-60}))
while kill -0 "$WSTEST_PID" 2>/dev/null; do
  sleep 1
  if ((SECONDS >= next)); then
    next=$((SECONDS + ${AUTOBAHN_PROGRESS:-60}))
    last="$(grep -o 'Running test case ID [0-9.]*' "$RUNDIR/wstest.log" 2>/dev/null | tail -n1 | awk '{print $5}')"
    log "progress: $(grep -c 'Running test case ID' "$RUNDIR/wstest.log" 2>/dev/null || true)/$n_total cases started${last:+, now $last}"
  fi
done
wait "$WSTEST_PID" || wrc=$?
WSTEST_PID=""
WALL="$("$PY3VENV/bin/python" -c "print('%.1f' % ($(date +%s.%N) - $t0))")"
log "fuzzingclient finished in ${WALL%.*} s, exit status $wrc"

SERVER_RC=""
stop_server
if [[ "$wrc" == 124 || "$wrc" == 137 ]]; then
  log "ERROR: fuzzingclient timed out after ${TIMEOUT}s (AUTOBAHN_TIMEOUT)"
fi
if [[ "$wrc" != 0 ]]; then
  echo "----- wstest log tail ($RUNDIR/wstest.log) -----"; tail -n 20 "$RUNDIR/wstest.log" || true
fi

sargs=("$OUTDIR" --agent "$AGENT" --expected "$EXPECTED" --wall-seconds "$WALL")
[[ "$ALLOW_UNIMPLEMENTED" == 1 ]] && sargs+=(--allow-unimplemented)
src=0
"$PY3VENV/bin/python" "$HERE/summarize.py" "${sargs[@]}" || src=$?
[[ -n "$SERVER_RC" && "$SERVER_RC" != 0 ]] && log "NOTE: server exit status after SIGTERM was $SERVER_RC (expected 0)"

if [[ "$wrc" != 0 ]]; then exit 2; fi
exit "$src"

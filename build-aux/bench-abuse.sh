#!/usr/bin/env bash
# The attacks of "The relay and the partner under attack and faults", run
# against a baseline build and this one in the same invocation, with the same
# settings: the before/after figures of findings 1-5.
#
#   build-aux/bench-abuse.sh BASELINE_BUILD_DIR [BUILD_DIR] [SCENARIO...]
#
# BASELINE_BUILD_DIR is a build of the commit to compare with, for example:
#   git worktree add /tmp/latchkey-base c84d8e7
#   meson setup /tmp/latchkey-base/_build /tmp/latchkey-base -Dapp=false -Dtests=false
#   meson compile -C /tmp/latchkey-base/_build
#   build-aux/bench-abuse.sh /tmp/latchkey-base/_build
# BUILD_DIR defaults to _build. SCENARIO is any of lockout sigterm slowloris
# partial-bodies waiters challenges (default: all).
#
# Each scenario starts a fresh relay (or partner) with its defaults, plus
# --trust-forwarded-for where the attack comes from forwarded addresses.
# The attacks come from loopback addresses (127.0.0.0/8) and need as many
# descriptors as connections: the hard limit of `ulimit -n` must be 20,000 or
# more for the 12,500 slow connections (client and relay each hold them).
#
# Prints key=value figures per scenario and build; build-aux/bench/abuse.py
# explains each. Nothing here is a pass/fail check: tests/abuse-slow.py is.

set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -ge 1 ] || { sed -n '2,20p' "$0" >&2; exit 2; }
baseline=$(cd "$1" && pwd)
build=$(cd "${2:-$here/_build}" && pwd)
shift $(( $# >= 2 ? 2 : 1 ))
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(lockout sigterm slowloris partial-bodies waiters challenges)
abuse=$here/build-aux/bench/abuse.py

ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-bench-abuse.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT

machine() {
  echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ulimit -n $(ulimit -n)"
  echo "== busiest other processes:"
  ps -eo pcpu,comm --sort=-pcpu | sed -n '2,6p' | sed 's/^/   /'
}

# Starts SERVER from build $1 with arguments; sets url and pid.
start() {
  local dir=$1 binary=$2 line
  shift 2
  local data
  data=$(mktemp -d "$tmp/data.XXXXXX")
  coproc server { exec "$dir/src/$binary/latchkey-$binary" --port 0 --data-dir "$data" "$@" 2>"$data.log"; }
  pid=$server_PID
  pids+=("$pid")
  read -r line <&"${server[0]}"
  url=${line##* }
}

stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

run() {
  local scenario=$1 name dir
  for name in baseline build; do
    [ "$name" = baseline ] && dir=$baseline || dir=$build
    echo "-- $scenario, $name ($dir)"
    machine
    case $scenario in
      lockout)
        start "$dir" relay --trust-forwarded-for
        python3 "$abuse" lockout "$url" --max-requests 110000 --max-seconds 300
        stop ;;
      sigterm)
        python3 "$abuse" sigterm "$dir/src/relay/latchkey-relay" --runs 5 ;;
      slowloris)
        start "$dir" relay
        python3 "$abuse" slowloris "$url" --connections 12500 --duration 30
        stop ;;
      partial-bodies)
        start "$dir" relay
        python3 "$abuse" partial-bodies "$url" --pid "$pid" --connections 7500 --sources 7500
        echo "relay_log_lines=$(cat "$tmp"/data.*.log | wc -l)"
        rm -f "$tmp"/data.*.log
        stop ;;
      waiters)
        start "$dir" relay --trust-forwarded-for
        python3 "$abuse" waiters "$url" --addresses 24 --per-address 600
        stop ;;
      challenges)
        start "$dir" partner
        python3 "$abuse" challenges "$url" --count 10000
        stop ;;
      *) echo "unknown scenario $scenario" >&2; exit 2 ;;
    esac
  done
}

for scenario in "${scenarios[@]}"; do
  run "$scenario"
done

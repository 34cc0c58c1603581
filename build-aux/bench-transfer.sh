#!/bin/bash
# Times shares on loopback: from share to the credential stored on the
# receiving side, per vertical, and from one side's write to the other
# side's wake-up. Prints figures; it is not a test.
#
#   build-aux/bench-transfer.sh [ROUNDS]
#
# With BENCH_SIZES_ONLY=1, only the keyring-size sweep: share → stored (home)
# with 10, 100 and 1,000 items in the keyring, in the same run.
#
# A release build in _build-bench; a relay and a partner on loopback; the
# sender and receiver inside a private session with a real gnome-keyring.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
rounds=${1:-20}

if [ ! -f _build-bench/meson-private/coredata.dat ]; then
  rm -rf _build-bench
  meson setup _build-bench --buildtype=release -Dapp=false -Dtests=false -Dbenchmarks=true >/dev/null
else
  meson setup --reconfigure _build-bench -Dbenchmarks=true >/dev/null
fi
meson compile -C _build-bench >/dev/null

tmp=$(mktemp -d)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# Starts a server and sets url once it serves; not in a subshell, so that
# the EXIT trap knows its PID.
start() {
  local name=$1 line
  shift
  mkfifo "$tmp/$name.fifo"
  "$@" --port 0 --data-dir "$tmp/$name" >"$tmp/$name.fifo" 2>"$tmp/$name.log" &
  pids+=($!)
  read -r line <"$tmp/$name.fifo"
  url=${line##* }
}

# Every request comes from 127.0.0.1: per-client limits off.
start relay _build-bench/src/relay/latchkey-relay --rate 0 --max-mailboxes-per-client 0 --max-bytes-per-client 0
relay=$url
start partner _build-bench/src/partner/latchkey-partner --rate 0
partner=$url

echo "latchkey transfer benchmark: $(nproc) CPUs, $(uname -r), release build, relay and partner on loopback"
echo "relay $relay, partner $partner; keyring: gnome-keyring in a private session"
echo
LATCHKEY_RELAY_URL=$relay LATCHKEY_PARTNER_URL=$partner GIO_USE_PROXY_RESOLVER=dummy \
  build-aux/headless-session.sh _build-bench/tests/bench/bench-transfer "$rounds" ${BENCH_SIZES_ONLY:+--sizes-only} 2> >(grep -v "fd limit" >&2)

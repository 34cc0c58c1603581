#!/usr/bin/env bash
# Instructions per relay request, counted by callgrind: a figure that does
# not depend on the machine's load, to compare builds with.
#
#   build-aux/bench-relay-instructions.sh [COUNT [RELAY_BINARY...]]
#
# COUNT requests per phase (default 1000). Without binaries, the release
# build of this tree (_build-bench, as bench-relay.sh makes it) is built and
# measured; given several binaries (other checkouts' _build-bench relays),
# each is measured in turn and the table compares them with the first.
#
# Phases (build-aux/bench/instructions.py): sequential creates of
# bench-relay.sh's 4 KiB body, one per commit; reads of a 4 KiB mailbox;
# creates over 16 connections, so that commits take several. The counts
# cover every thread of the relay in user space (libmicrohttpd, JSON,
# SQLite, logging...), not the kernel's work (system calls, fsync).
#
# Environment: TMPDIR for the relay's database (a real disk), and
# BENCH_LOG_DIR to keep the callgrind files (for callgrind_annotate).

set -Eeuo pipefail
trap 'printf "bench-relay-instructions: error: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

COUNT=${1:-1000}
shift || true
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=/usr/bin/python3

die() { printf 'bench-relay-instructions: error: %s\n' "$*" >&2; exit 1; }

[[ $COUNT =~ ^[1-9][0-9]*$ ]] && ((COUNT >= 16)) || die "usage: $0 [COUNT (>= 16) [RELAY_BINARY...]]"
for tool in valgrind callgrind_control "$PYTHON" meson; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install valgrind python3 meson)"
done

RELAYS=("$@")
if ((${#RELAYS[@]} == 0)); then
  BUILDDIR=$SRCDIR/_build-bench
  if [[ ! -f $BUILDDIR/meson-private/coredata.dat ]]; then
    meson setup "$BUILDDIR" --buildtype=release -Dapp=false -Dtests=false >&2
  fi
  meson compile -C "$BUILDDIR" src/relay/latchkey-relay:executable >/dev/null ||
    die "build failed (meson compile -C $BUILDDIR)"
  RELAYS=("$BUILDDIR/src/relay/latchkey-relay")
fi
for relay in "${RELAYS[@]}"; do
  [[ -x $relay ]] || die "$relay is not an executable"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-instr.XXXXXX")
RELAY_PID=
cleanup() {
  local rc=$?
  set +e
  if [[ -n $RELAY_PID ]]; then
    kill -TERM "$RELAY_PID" 2>/dev/null
    wait "$RELAY_PID" 2>/dev/null
  fi
  if [[ -n ${BENCH_LOG_DIR:-} ]]; then
    mkdir -p "$BENCH_LOG_DIR" && cp -rf "$TMP"/run-* "$BENCH_LOG_DIR"/ 2>/dev/null
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Sum of the "totals:" (or "summary:") lines of one phase's dumps.
phase_total() {
  local dir=$1 phase=$2
  grep -l "^desc: Trigger: Client Request: $phase\$\|^desc: Trigger: .*$phase\$" "$dir"/callgrind.out.* 2>/dev/null |
    xargs -r awk '/^summary:/ { s += $2 } END { printf "%d", s }'
}

declare -a RESULTS
i=0
for relay in "${RELAYS[@]}"; do
  run=$TMP/run-$i
  mkdir -p "$run/data"
  # Per-client limits off, as in bench-relay.sh (every request is from
  # 127.0.0.1); older relays lack some of these options.
  options=(--port 0 --data-dir "$run/data" --rate 0)
  help=$("$relay" --help 2>&1 || true)
  for option in --max-mailboxes-per-client --max-bytes-per-client --max-connections-per-client \
                --max-waiters-per-client; do
    [[ $help == *"$option"* ]] && options+=("$option" 0)
  done
  valgrind --tool=callgrind --callgrind-out-file="$run/callgrind.out.%p" --dump-instr=no \
    --compress-strings=no --compress-pos=no "$relay" "${options[@]}" \
    </dev/null >"$run/relay.out" 2>"$run/relay.err" &
  RELAY_PID=$!
  url=
  for ((t = 0; t < 600; t++)); do
    url=$(sed -n 's/^latchkey-relay listening on \(http:\/\/[^ ]*\)$/\1/p' "$run/relay.out")
    [[ -n $url ]] && break
    kill -0 "$RELAY_PID" 2>/dev/null || { cat "$run/relay.err" >&2; die "$relay exited"; }
    sleep 0.1
  done
  [[ -n $url ]] || die "$relay did not start"

  printf '%s\n' "$relay" >&2
  "$PYTHON" "$SRCDIR/build-aux/bench/instructions.py" --port "${url##*:}" --pid "$RELAY_PID" \
    --count "$COUNT" >"$run/client.out" || { cat "$run/client.out" "$run/relay.err" >&2; die "client failed"; }
  sed 's/^/  /' "$run/client.out" >&2
  grep -q "statuses={200: $COUNT}" "$run/client.out" || die "not every request answered 200 (see above)"
  kill -TERM "$RELAY_PID"
  wait "$RELAY_PID" || true
  RELAY_PID=

  n16=$((COUNT / 16 * 16))
  RESULTS[i]="$(phase_total "$run" create) $(phase_total "$run" read) $(phase_total "$run" create16) $n16"
  i=$((i + 1))
done

echo
echo "Instructions per request (callgrind, user space, all threads), $COUNT requests per phase"
printf '%-4s %14s %14s %14s  %s\n' "" "create" "read" "create x16" relay
base=(${RESULTS[0]})
for ((j = 0; j < i; j++)); do
  r=(${RESULTS[j]})
  per() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.0f", t / n }'; }
  rel() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
  c=$(per "${r[0]}" "$COUNT"); rd=$(per "${r[1]}" "$COUNT"); c16=$(per "${r[2]}" "${r[3]}")
  if ((j == 0)); then
    printf '%-4s %14s %14s %14s  %s\n' "$j" "$c" "$rd" "$c16" "${RELAYS[j]}"
  else
    bc=$(per "${base[0]}" "$COUNT"); br=$(per "${base[1]}" "$COUNT"); b16=$(per "${base[2]}" "${base[3]}")
    printf '%-4s %14s %14s %14s  %s\n' "$j" "$c ($(rel "$c" "$bc")x)" "$rd ($(rel "$rd" "$br")x)" \
      "$c16 ($(rel "$c16" "$b16")x)" "${RELAYS[j]}"
  fi
done

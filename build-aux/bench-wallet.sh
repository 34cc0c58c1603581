#!/usr/bin/env bash
# The app with a host's wallet: launch to first frame, and launch to the
# wallet painted with its keys, for 3 keys and for 1,000, in the same run.
#
#   build-aux/bench-wallet.sh [RUNS]          (default 5)
#
# Target: with 1,000 keys, each median at most 1.5 × the one with 3.
# Prints figures and PASS/MISS; a MISS is not a failure.
#
# Method: a release build in _build-bench-wallet (app, CLI, servers and the
# benchmark helpers); one private session (build-aux/headless-session.sh:
# Xvfb, D-Bus, an unlocked gnome-keyring, fresh XDG directories) with a
# relay and a partner on loopback. Three demo keys are enrolled with
# latchkey-cli (car, home, generic); the app is launched RUNS times after one
# warm-up, by build-aux/bench/app-firstframe.c, which takes CLOCK_MONOTONIC
# before the fork and times the first frame with X DAMAGE. Then the wallet is
# topped up to 1,000 keys (tests/bench/bench-fill-wallet.c: copies of the
# three under new ids and titles, written through LkStore) and the same is
# measured again, and so are "latchkey-cli list" and "latchkey-cli status
# --porcelain" (whole process, wall clock). "Wallet shown": with LATCHKEY_BENCH_WALLET set, the app
# prints CLOCK_MONOTONIC at the first frame painted after its wallet list was
# filled (latchkey-window.c); minus the launch time.

set -Eeuo pipefail

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILDDIR=$SRCDIR/_build-bench-wallet

log() { printf '%s\n' "$*" >&2; }
die() { printf 'bench-wallet: error: %s\n' "$*" >&2; exit 1; }

if [[ -n ${_BENCH_WALLET_INNER:-} ]]; then
  TMP=$_BENCH_WALLET_TMP
  RUNS=$_BENCH_WALLET_RUNS
  pids=()
  trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

  start_server() {
    local name=$1 bin=$2 url="" i
    mkdir -p "$TMP/$name-data"
    "$bin" --port 0 --data-dir "$TMP/$name-data" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
    pids+=($!)
    for ((i = 0; i < 150; i++)); do
      url=$(sed -n 's/^.* listening on \(http:\/\/[^ ]*\)$/\1/p' "$TMP/$name.out")
      [[ -n $url ]] && break
      sleep 0.1
    done
    [[ -n $url ]] || { cat "$TMP/$name.err" >&2; die "$name did not start"; }
    SERVER_URL=$url
  }
  start_server relay "$BUILDDIR/src/relay/latchkey-relay"
  export LATCHKEY_RELAY_URL=$SERVER_URL
  start_server partner "$BUILDDIR/src/partner/latchkey-partner"
  export LATCHKEY_PARTNER_URL=$SERVER_URL

  for kind in car home generic; do
    "$BUILDDIR/src/cli/latchkey-cli" enroll "$kind" </dev/null >>"$TMP/enroll.log" 2>&1 ||
      { cat "$TMP/enroll.log" >&2; die "latchkey-cli enroll $kind failed"; }
  done

  export GDK_BACKEND=x11 GSK_RENDERER=cairo GSETTINGS_SCHEMA_DIR=$BUILDDIR/data LATCHKEY_BENCH_WALLET=1
  unset GTK_DEBUG GDK_DEBUG GSK_DEBUG G_MESSAGES_DEBUG

  measure() {
    local keys=$1 index=$2 line shown
    : >"$TMP/app.log"
    sleep 0.5
    line=$("$TMP/app-firstframe" --timeout=30000 --min-idle=1000 --stable=300 --max-idle=60000 \
             --wait-log="latchkey-bench: wallet shown" \
             --log="$TMP/app.log" -- "$BUILDDIR/src/app/latchkey") ||
      { tail -20 "$TMP/app.log" >&2; die "could not measure the app ($keys keys, run $index)"; }
    shown=$(sed -n 's/^latchkey-bench: wallet shown keys=\([0-9]*\) at_ms=\([0-9.]*\)$/\1 \2/p' "$TMP/app.log" | head -1)
    if [[ -z $shown ]]; then
      # Within --max-idle: the wallet never showed (an error page instead).
      log "  the app did not show its wallet ($keys keys, run $index):"
      grep -v "^$" "$TMP/app.log" | tail -3 >&2 || true
      shown="0 never"
    fi
    printf '%s %s %s shown_keys=%s shown_at_ms=%s\n' "$keys" "$index" "$line" ${shown} >>"$TMP/results"
    log "  $keys keys #$index: $(tail -1 "$TMP/results")"
  }

  for keys in 3 1000; do
    if ((keys > 3)); then
      "$BUILDDIR/tests/bench/bench-fill-wallet" "$keys" || die "could not fill the wallet"
    fi
    # latchkey-cli list and status --porcelain over the same wallet.
    for ((run = 0; run <= RUNS; run++)); do
      for cmd in list status; do
        start=$(date +%s%N)
        if [[ $cmd == list ]]; then
          "$BUILDDIR/src/cli/latchkey-cli" list </dev/null >/dev/null 2>&1 || die "latchkey-cli list failed"
        else
          "$BUILDDIR/src/cli/latchkey-cli" status --porcelain </dev/null >/dev/null 2>&1 || die "latchkey-cli status failed"
        fi
        ((run == 0)) || printf 'cli-%s %s %s ms=%s\n' "$cmd" "$keys" "$run" \
          "$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')" >>"$TMP/results"
      done
    done
    log "The app with $keys keys: 1 warm-up, $RUNS runs"
    for ((run = 0; run <= RUNS; run++)); do
      measure "$keys" "$run"
    done
  done
  exit 0
fi

RUNS=${1:-5}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [RUNS]"

cd "$SRCDIR"
if [[ ! -f $BUILDDIR/meson-private/coredata.dat ]]; then
  meson setup "$BUILDDIR" --buildtype=release -Dtests=false -Dbenchmarks=true >/dev/null
fi
meson compile -C "$BUILDDIR" >"${TMPDIR:-/tmp}/bench-wallet-build.$$.log" 2>&1 ||
  { cat "${TMPDIR:-/tmp}/bench-wallet-build.$$.log" >&2; die "build failed"; }
rm -f "${TMPDIR:-/tmp}/bench-wallet-build.$$.log"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-wallet.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -Werror -o "$TMP/app-firstframe" "$SRCDIR/build-aux/bench/app-firstframe.c" \
  $(pkg-config --cflags --libs x11 xdamage xfixes) || die "cannot compile app-firstframe.c"

_BENCH_WALLET_INNER=1 _BENCH_WALLET_TMP=$TMP _BENCH_WALLET_RUNS=$RUNS \
  "$SRCDIR/build-aux/headless-session.sh" "$SRCDIR/build-aux/bench-wallet.sh" 2> >(grep -v "fd limit" >&2) ||
  die "the session failed"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
# values KEYS FIELD: over the measured runs (not the warm-up).
values() { awk -v k="$1" '$1 == k && $2 != 0' "$TMP/results" | field "$2"; }
shown() {
  awk -v k="$1" '$1 == k && $2 != 0 && !/shown_at_ms=never/' "$TMP/results" |
    awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } printf "%.1f\n", v["shown_at_ms"] - v["launch_ms"] }'
}
never() { awk -v k="$1" '$1 == k && $2 != 0 && /shown_at_ms=never/' "$TMP/results" | wc -l; }
# "median p90" of numbers on stdin.
stats() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    p = v[int((NR * 9 + 9) / 10)]; if (p == "") p = v[NR]
    printf "%.1f %.1f\n", m, p }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" 'BEGIN { print (r <= 1.5) ? "PASS" : "MISS" }'; }

read -r ff3 ff3p < <(values 3 first_frame_ms | stats)
read -r ff1k ff1kp < <(values 1000 first_frame_ms | stats)
read -r sh3 sh3p < <(shown 3 | stats)
read -r sh1k sh1kp < <(shown 1000 | stats)
keys3=$(values 3 shown_keys | sort -g | tail -1)
keys1k=$(values 1000 shown_keys | sort -g | tail -1)

cat <<REPORT

== Latchkey app with a host's wallet ==
Machine:  $(nproc) CPUs, Linux $(uname -r); Latchkey $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo '?'), release build
Session:  Xvfb, private D-Bus, gnome-keyring, GDK_BACKEND=x11 GSK_RENDERER=cairo, relay and partner on loopback
Runs:     $RUNS each after 1 warm-up; the wallet showed $keys3 and $keys1k keys

                              3 keys             1,000 keys        ratio of medians
                         median     p90     median     p90        (target <= 1.5)
REPORT
r_ff=$(ratio "$ff1k" "$ff3")
r_sh=$(ratio "$sh1k" "$sh3")
printf '%-22s %8.1f %7.1f   %8.1f %7.1f        %s  %s\n' "first frame (ms)" "$ff3" "$ff3p" "$ff1k" "$ff1kp" "$r_ff" "$(verdict "$r_ff")"
printf '%-22s %8.1f %7.1f   %8.1f %7.1f        %s  %s\n' "wallet shown (ms)" "$sh3" "$sh3p" "$sh1k" "$sh1kp" "$r_sh" "$(verdict "$r_sh")"
cli() { awk -v c="cli-$1" -v k="$2" '$1 == c && $2 == k' "$TMP/results" | field ms; }
read -r l3 l3p < <(cli list 3 | stats)
read -r l1k l1kp < <(cli list 1000 | stats)
read -r s3 s3p < <(cli status 3 | stats)
read -r s1k s1kp < <(cli status 1000 | stats)
printf '%-22s %8.1f %7.1f   %8.1f %7.1f        %s\n' "latchkey-cli list" "$l3" "$l3p" "$l1k" "$l1kp" "$(ratio "$l1k" "$l3")"
printf '%-22s %8.1f %7.1f   %8.1f %7.1f        %s\n' "… status --porcelain" "$s3" "$s3p" "$s1k" "$s1kp" "$(ratio "$s1k" "$s3")"
n3=$(never 3)
n1k=$(never 1000)
if ((n3 + n1k > 0)); then
  printf '\nThe wallet never showed in %s of %s runs with 3 keys and %s of %s with 1,000 (not in the figures above).\n' \
    "$n3" "$RUNS" "$n1k" "$RUNS"
fi

#!/usr/bin/env bash
# Benchmark the Latchkey app against gnome-text-editor, in the same run.
#
#   build-aux/bench-app.sh [RUNS]          (default 10)
#
# Environment (optional):
#   BENCH_LOG_DIR  if set, the raw per-run lines and the apps', relay's and
#                  partner's logs are copied there
#   BENCH_SHOT     if set to a file name, a PNG screenshot of the screen is
#                  taken there while the last Latchkey run's window is shown
#                  (…-latchkey.png) and the last text editor's (…-editor.png)
#
# Figures, for "The Latchkey app" (targets: ratio ≤ 1.0 for each):
#   - time from launch to the first frame
#   - resident memory once the wallet is shown and the app is idle
# both measured the same way for gnome-text-editor (Debian's package), in the
# same private session and the same invocation, runs interleaved
# (latchkey, text editor, latchkey, …) after one unmeasured warm-up of each.
#
# Method (see build-aux/bench/app-firstframe.c for the details):
#   A small X client, compiled here, watches the root window of a private
#   Xvfb (SubstructureNotify), takes CLOCK_MONOTONIC just before it
#   forks/execs the app, puts a DAMAGE object on every top-level window the
#   moment it is created, and takes the app's window (the first top-level
#   window mapped whose _NET_WM_PID is the child) and then the first
#   DamageNotify on it after the map whose pixels are not all one colour:
#   that is the first frame (the server's own fill of the new window with
#   its black background, reported at the map, is thus passed over).  Then it samples VmRSS from /proc/PID/status
#   every 50 ms until at least 1.5 s have passed and VmRSS has not moved by
#   more than 64 KiB for 500 ms (at most 10 s), reads VmRSS and PSS
#   (/proc/PID/smaps_rollup), and stops the app (SIGTERM, SIGKILL after 3 s).
#   The session: Xvfb 1280x1024x24 (-displayfd, no TCP), a private D-Bus
#   session bus, a fresh gnome-keyring login collection unlocked without a
#   prompt, fresh XDG directories (build-aux/headless-session.sh), and for
#   both apps GDK_BACKEND=x11 and GSK_RENDERER=cairo (there is no GPU; GL
#   would be llvmpipe with cold shader caches, which measures Mesa).  No
#   window manager runs, so nothing is decorated or placed by one.
#   Latchkey: the release build in _build-bench-app, with a relay and a
#   partner running on loopback and three demo keys (car, home, generic)
#   enrolled into the keyring with latchkey-cli before the first launch.
#   The text editor: gnome-text-editor --standalone (its own instance, no
#   session restore), which shows an empty "New Document" window.
#
# This prints figures and PASS/MISS against the targets; a MISS is not a
# failure.  The exit status is non-zero only when something broke (build,
# startup, a run that could not be measured).
#
# It installs missing packages with apt-get (root), builds its own release
# build in _build-bench-app, and leaves no process or temporary file behind.

# shellcheck disable=SC2317  # functions called from traps
set -Eeuo pipefail

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILDDIR=$SRCDIR/_build-bench-app
BENCHDIR=$SRCDIR/build-aux/bench
APP=$BUILDDIR/src/app/latchkey
CLI=$BUILDDIR/src/cli/latchkey-cli
RELAY=$BUILDDIR/src/relay/latchkey-relay
PARTNER=$BUILDDIR/src/partner/latchkey-partner
EDITOR_BIN=gnome-text-editor

log() { printf '%s\n' "$*" >&2; }
die() { printf 'bench-app: error: %s\n' "$*" >&2; exit 1; }

# ===========================================================================
# Inside the private session (build-aux/headless-session.sh runs us again).
# ===========================================================================

if [[ -n ${_BENCH_APP_INNER:-} ]]; then
  trap 'printf "bench-app (session): error: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR
  TMP=$_BENCH_APP_TMP
  RUNS=$_BENCH_APP_RUNS
  TOOL=$TMP/app-firstframe
  RELAY_PID="" PARTNER_PID=""

  stop_pid() {
    local pid=$1 i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null && log "bench-app: PID $pid ignored SIGTERM for 5 s, killed"
    wait "$pid" 2>/dev/null || true
  }
  inner_cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM ERR
    stop_pid "$RELAY_PID"
    stop_pid "$PARTNER_PID"
    exit "$rc"
  }
  trap inner_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  # start_server NAME BINARY: runs it on a free loopback port; prints its URL.
  start_server() {
    local name=$1 bin=$2 url="" i pid
    mkdir -p "$TMP/$name-data"
    "$bin" --port 0 --data-dir "$TMP/$name-data" </dev/null >"$TMP/logs/$name.out" 2>"$TMP/logs/$name.err" &
    pid=$!
    for ((i = 0; i < 150; i++)); do
      url=$(sed -n 's/^.* listening on \(http:\/\/[^ ]*\)$/\1/p' "$TMP/logs/$name.out")
      [[ -n $url ]] && break
      kill -0 "$pid" 2>/dev/null || { cat "$TMP/logs/$name.err" >&2; die "$name exited"; }
      sleep 0.1
    done
    [[ -n $url ]] || { cat "$TMP/logs/$name.err" >&2; kill "$pid"; die "$name did not start"; }
    SERVER_PID=$pid SERVER_URL=$url
  }

  start_server relay "$RELAY"
  RELAY_PID=$SERVER_PID
  export LATCHKEY_RELAY_URL=$SERVER_URL
  start_server partner "$PARTNER"
  PARTNER_PID=$SERVER_PID
  export LATCHKEY_PARTNER_URL=$SERVER_URL

  for kind in car home generic; do
    "$CLI" enroll "$kind" </dev/null >>"$TMP/logs/enroll.log" 2>&1 ||
      { cat "$TMP/logs/enroll.log" >&2; die "latchkey-cli enroll $kind failed"; }
  done
  "$CLI" list </dev/null >"$TMP/logs/list.txt" 2>&1 || { cat "$TMP/logs/list.txt" >&2; die "latchkey-cli list failed"; }
  grep -v '^[[:space:]]*$' "$TMP/logs/list.txt" >"$TMP/wallet" || true

  # Both apps see exactly this environment.
  export GDK_BACKEND=x11 GSK_RENDERER=cairo GSETTINGS_SCHEMA_DIR=$BUILDDIR/data
  unset GTK_DEBUG GDK_DEBUG GSK_DEBUG G_MESSAGES_DEBUG

  # measure APP INDEX: one launch; appends "APP INDEX key=value…" to results.
  measure() {
    local app=$1 index=$2 line
    local -a cmd shot=()
    case $app in
      latchkey) cmd=("$APP") ;;
      editor) cmd=("$EDITOR_BIN" --standalone) ;;
    esac
    # The editor keeps no state between runs with --standalone; remove
    # whatever it may write anyway so every run starts as the first.
    # (It writes a personal spelling dictionary under enchant/.)
    rm -rf "$XDG_DATA_HOME/gnome-text-editor" "$XDG_CONFIG_HOME/gnome-text-editor" \
           "$XDG_CACHE_HOME/gnome-text-editor" "$XDG_DATA_HOME/recently-used.xbel" \
           "$XDG_CONFIG_HOME/enchant"
    sleep 0.5                     # let the previous app's exit settle
    if [[ -n ${BENCH_SHOT:-} && $index == "$RUNS" ]]; then
      shot=(--shot-cmd="import -window root '$TMP/shot-$app.png'")
    fi
    if ! line=$("$TOOL" --timeout=20000 --min-idle=1500 --stable=500 --tolerance=64 \
                  --max-idle=10000 --log="$TMP/logs/$app-$index.log" \
                  "${shot[@]}" -- "${cmd[@]}"); then
      tail -20 "$TMP/logs/$app-$index.log" >&2
      die "could not measure $app (run $index)"
    fi
    printf '%s %s %s\n' "$app" "$index" "$line" >>"$TMP/results"
    log "  $app #$index: $line"
  }

  log "Warm-up (not counted)"
  measure latchkey 0
  measure editor 0
  log "Measuring $RUNS runs of each, interleaved"
  for ((run = 1; run <= RUNS; run++)); do
    measure latchkey "$run"
    measure editor "$run"
  done
  exit 0
fi

# ===========================================================================
# Outside: packages, build, the session, the report.
# ===========================================================================

trap 'printf "bench-app: error: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

RUNS=${1:-10}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [RUNS]"

install_missing() {
  local missing=() pkg
  for pkg in gnome-text-editor xvfb xauth dbus gnome-keyring libsecret-tools libglib2.0-bin \
             dconf-gsettings-backend at-spi2-core x11-utils procps \
             gcc g++ libc6-dev pkgconf libx11-dev libxext-dev libxfixes-dev libxdamage-dev \
             meson ninja-build gettext libglib2.0-dev libgtk-4-dev libadwaita-1-dev \
             libgnutls28-dev libjson-glib-dev libsimdjson-dev libsoup-3.0-dev libsecret-1-dev \
             libmicrohttpd-dev libsqlite3-dev libqrencode-dev; do
    if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  if [[ -n ${BENCH_SHOT:-} ]] && ! command -v import >/dev/null 2>&1; then
    missing+=(imagemagick)
  fi
  ((${#missing[@]} == 0)) && return 0
  [[ $EUID -eq 0 ]] || die "missing packages (${missing[*]}); run as root or install them"
  log "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
}

install_missing
for tool in Xvfb dbus-run-session gnome-keyring-daemon gdbus secret-tool "$EDITOR_BIN" meson cc pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done

# --- build -----------------------------------------------------------------

cd "$SRCDIR"
if [[ ! -f $BUILDDIR/meson-private/coredata.dat ]]; then
  log "Configuring $BUILDDIR (release)"
  meson setup "$BUILDDIR" --buildtype=release -Dtests=false >&2
fi
log "Building"
BUILD_LOG=$(mktemp)
if ! meson compile -C "$BUILDDIR" >"$BUILD_LOG" 2>&1; then
  cat "$BUILD_LOG" >&2
  rm -f "$BUILD_LOG"
  die "build failed"
fi
rm -f "$BUILD_LOG"
for bin in "$APP" "$CLI" "$RELAY" "$PARTNER"; do
  [[ -x $bin ]] || die "$bin was not built"
done
[[ -f $BUILDDIR/data/gschemas.compiled ]] || die "$BUILDDIR/data/gschemas.compiled was not built"

# --- temporary state, clean-up ----------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-app.XXXXXX")
mkdir -p "$TMP/logs"
# Every process of ours, down to D-Bus-activated services, inherits this.
TOKEN=bench-app-$$-$RANDOM$RANDOM
export _BENCH_APP_TOKEN=$TOKEN

# PIDs of processes still carrying our token (never this shell).
our_processes() {
  local dir pid
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    if grep -qzx "_BENCH_APP_TOKEN=$TOKEN" "$dir/environ" 2>/dev/null; then
      echo "$pid"
    fi
  done
}

LEFTOVERS=
cleanup() {
  local rc=$? pids pid
  set +e
  trap - EXIT INT TERM ERR
  if [[ -n $SESSION_PID ]]; then
    kill -TERM "$SESSION_PID" 2>/dev/null
    wait "$SESSION_PID" 2>/dev/null
  fi
  # The session's bus takes the keyring, AT-SPI and dconf with it; give
  # them a moment, then stop whatever of ours is left, by PID.
  for _ in $(seq 30); do
    pids=$(our_processes)
    [[ -z $pids ]] && break
    sleep 0.1
  done
  if [[ -n $pids ]]; then
    LEFTOVERS=$(ps -o pid=,comm= -p "${pids//$'\n'/,}" 2>/dev/null | tr '\n' ';')
    log "bench-app: WARNING: left running, now killed: $LEFTOVERS"
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
  fi
  if [[ -n ${BENCH_LOG_DIR:-} ]]; then
    mkdir -p "$BENCH_LOG_DIR" && cp -rf "$TMP/logs" "$TMP/results" "$BENCH_LOG_DIR"/ 2>/dev/null
  fi
  rm -rf "$TMP"
  exit "$rc"
}
SESSION_PID=
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the measuring tool ------------------------------------------------------

# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -Werror -o "$TMP/app-firstframe" "$BENCHDIR/app-firstframe.c" \
  $(pkg-config --cflags --libs x11 xdamage xfixes) >"$TMP/logs/cc.log" 2>&1 ||
  { cat "$TMP/logs/cc.log" >&2; die "cannot compile app-firstframe.c"; }

# --- the session --------------------------------------------------------------

log "Running $RUNS runs of each app (plus one warm-up) in a private session"
_BENCH_APP_INNER=1 _BENCH_APP_TMP=$TMP _BENCH_APP_RUNS=$RUNS BENCH_SHOT=${BENCH_SHOT:-} \
  "$SRCDIR/build-aux/headless-session.sh" "$SRCDIR/build-aux/bench-app.sh" >&2 &
SESSION_PID=$!
session_rc=0
wait "$SESSION_PID" || session_rc=$?
SESSION_PID=
((session_rc == 0)) || die "the session failed (exit $session_rc)"

if [[ -n ${BENCH_SHOT:-} ]]; then
  for app in latchkey editor; do
    if [[ -f $TMP/shot-$app.png ]]; then
      cp -f "$TMP/shot-$app.png" "${BENCH_SHOT%.png}-$app.png"
    fi
  done
fi

# --- the report -----------------------------------------------------------------

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
# values APP FIELD: that field over the measured runs (not the warm-up), one a line.
values() { awk -v a="$1" '$1 == a && $2 != 0' "$TMP/results" | field "$2"; }
# stats: "median min max" of numbers on stdin.
stats() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan nan"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.6g %.6g %.6g\n", m, v[1], v[NR] }'
}
mib() { awk '{ printf "%.1f\n", $1 / 1024 }'; }

n_lk=$(values latchkey first_frame_ms | wc -l)
n_ed=$(values editor first_frame_ms | wc -l)
((n_lk == RUNS && n_ed == RUNS)) || die "expected $RUNS runs of each, got $n_lk and $n_ed"

read -r lk_ff lk_ff_min lk_ff_max < <(values latchkey first_frame_ms | stats)
read -r ed_ff ed_ff_min ed_ff_max < <(values editor first_frame_ms | stats)
read -r lk_map lk_map_min lk_map_max < <(values latchkey map_ms | stats)
read -r ed_map ed_map_min ed_map_max < <(values editor map_ms | stats)
read -r lk_rss lk_rss_min lk_rss_max < <(values latchkey rss_kb | mib | stats)
read -r ed_rss ed_rss_min ed_rss_max < <(values editor rss_kb | mib | stats)
read -r lk_pss lk_pss_min lk_pss_max < <(values latchkey pss_kb | mib | stats)
read -r ed_pss ed_pss_min ed_pss_max < <(values editor pss_kb | mib | stats)
lk_size=$(values latchkey width | head -1)x$(values latchkey height | head -1)
ed_size=$(values editor width | head -1)x$(values editor height | head -1)
unsettled=$(awk '$2 != 0' "$TMP/results" | grep -c 'settled=0' || true)
# Damage reports on a window still all one colour, passed over: one a run,
# the server filling the new window with its black background at the map.
blank=$(awk '$2 != 0' "$TMP/results" | field blank_damage | awk '{ n += $1 } END { print n + 0 }')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" 'BEGIN { print (r <= 1.0) ? "PASS" : "MISS" }'; }
r_time=$(ratio "$lk_ff" "$ed_ff")
r_rss=$(ratio "$lk_rss" "$ed_rss")
r_pss=$(ratio "$lk_pss" "$ed_pss")

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
editor_version=$("$EDITOR_BIN" --version 2>/dev/null | head -1)
editor_pkg=$(dpkg-query -W -f='${Version}' gnome-text-editor 2>/dev/null || echo '?')
wallet_lines=$(wc -l <"$TMP/wallet")
wallet_kinds=$(awk '{ print $2 }' "$TMP/wallet" | sort | paste -sd, -)

cat <<EOF

== Latchkey app: launch to first frame, resident memory ==
Machine:   $(nproc) CPUs ($cpu), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)
Versions:  GTK $(pkg-config --modversion gtk4), libadwaita $(pkg-config --modversion libadwaita-1), GLib $(pkg-config --modversion glib-2.0)
           Latchkey $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo '?') (release build, $BUILDDIR)
           $editor_version (Debian package $editor_pkg)
Session:   Xvfb 1280x1024x24, private D-Bus session bus, gnome-keyring (unlocked),
           no window manager, GDK_BACKEND=x11 GSK_RENDERER=cairo for both apps
Wallet:    3 demo keys enrolled (car, home, generic) with latchkey-cli, relay
           and partner on loopback ("latchkey-cli list" shows $wallet_lines: $wallet_kinds)
Method:    launch (CLOCK_MONOTONIC just before fork/exec) -> first DamageNotify
           with content on the app's top-level window after its MapNotify (X
           DAMAGE, watched from outside the app; the server's own background
           fill at the map is passed over: $blank in all).  Then idle (>= 1.5 s
           after the frame and VmRSS within 64 KiB for 500 ms; at most 10 s):
           VmRSS and PSS of the app's process.  $RUNS runs each, interleaved
           (latchkey, editor, ...), after 1 unmeasured warm-up each.
Windows:   latchkey $lk_size, gnome-text-editor $ed_size

                         first frame (ms)          mapped (ms)       RSS (MiB)              PSS (MiB)
app                  median    min    max   median   min   max  median   min   max  median   min   max
EOF
printf '%-18s %8.1f %6.1f %6.1f %8.1f %5.1f %5.1f %7.1f %5.1f %5.1f %7.1f %5.1f %5.1f\n' \
  latchkey "$lk_ff" "$lk_ff_min" "$lk_ff_max" "$lk_map" "$lk_map_min" "$lk_map_max" \
  "$lk_rss" "$lk_rss_min" "$lk_rss_max" "$lk_pss" "$lk_pss_min" "$lk_pss_max"
printf '%-18s %8.1f %6.1f %6.1f %8.1f %5.1f %5.1f %7.1f %5.1f %5.1f %7.1f %5.1f %5.1f\n' \
  gnome-text-editor "$ed_ff" "$ed_ff_min" "$ed_ff_max" "$ed_map" "$ed_map_min" "$ed_map_max" \
  "$ed_rss" "$ed_rss_min" "$ed_rss_max" "$ed_pss" "$ed_pss_min" "$ed_pss_max"
cat <<EOF

Ratios latchkey / gnome-text-editor (medians; target <= 1.0):
  first frame   $r_time   $(verdict "$r_time")
  RSS           $r_rss   $(verdict "$r_rss")
  (PSS          $r_pss, for information: shared libraries counted pro rata)
EOF
if ((unsettled > 0)); then
  printf '\nNote: in %s run(s) VmRSS had not settled within 10 s; read anyway.\n' "$unsettled"
fi
if ((blank > 2 * RUNS)); then
  printf '\nNote: %s damage reports on a still blank window were passed over (2 expected:\n' "$blank"
  printf 'one background fill at the map per run and app).\n'
fi
if ((wallet_lines < 3)); then
  printf '\nNote: latchkey-cli list printed fewer than 3 lines after enrolling 3 keys.\n'
fi

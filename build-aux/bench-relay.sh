#!/usr/bin/env bash
# Benchmark latchkey-relay, on its SQLite store and on its Redis Cluster store
# (one and two instances), against nginx and redis-benchmark baselines run in
# the same invocation.
#
#   build-aux/bench-relay.sh [DURATION_SECONDS]     (default 10)
#
# Environment (optional):
#   BENCH_STORES       the stores to measure: "sqlite redis" (default), "sqlite"
#                      or "redis"
#   BENCH_CONNECTIONS  wrk and redis-benchmark connections (default 50; one wrk
#                      thread; the two-instance runs split them between two wrk)
#   BENCH_WAITERS      waiting readers to park (default 10000)
#   BENCH_REDIS_WORKERS  the relays' --redis-workers (default: the relay's)
#   BENCH_LOG_DIR      if set, the raw wrk and redis-benchmark outputs and the
#                      relays', nginx's and the Redis nodes' logs are copied there
#   TMPDIR             where the temporary directory (relay database, Redis
#                      AOF files, nginx prefix) goes; it should be a real disk,
#                      not tmpfs, or the durable-create figures mean nothing
#
# Runs (wrk -t1 -cN, keep-alive, --latency):
#   A  nginx: GET of a 4 KiB static file (sendfile on)
#   B  nginx: POST of a 4 KiB body, body read and discarded, 204
#   SQLite store (sqlite):
#   C  relay: create of a mailbox with a 4 KiB body (durable before the 200)
#   Cr the same, each create with its own Mailbox-Request-ID and its own
#      Mailbox-Device-Claim, as Latchkey's clients send them (no goal;
#      before 12-04 23:30 UTC one claim for all)
#   Cm the same with the database on tmpfs (/dev/shm), where a write costs
#      no disk: not durable, no goal; it separates the disk's share of C
#      from the CPU's
#   R  relay: read of a 4 KiB mailbox by its bound recipient
#   W  relay: the same read with BENCH_WAITERS waiting reads parked
#   S  the store alone: the same creates (body, one creator, N in flight)
#      submitted to the SQLite store directly, without HTTP or JSON
#      (tests/bench/bench-relay-store.c): C can be no faster; no goal
#   Sm the same on tmpfs: what the store's CPU allows; no goal
#   Redis store (redis): a Redis Cluster of the script's own, 3 primaries and
#   3 replicas on loopback, appendonly yes, appendfsync always:
#   D   redis-benchmark -t set -d 4096 -cN -P 1 against the one primary that
#       owns its key (plain SET, no WAIT): the durable write an operator
#       would otherwise use
#   Dc  the same with --cluster, over the 3 primaries (for comparison)
#   C1, C1r, R1, W1  as C, Cr, R, W through one relay instance on that
#               cluster
#   C2, R2      create and read through two instances at once (one wrk
#               against each, N/2 connections each, requests/s summed)
#   S1  the Redis store alone, as S (one process, as one instance); no goal
#   Dn  redis-benchmark --cluster -t set -d 4096 -r 100000000: every SET
#       adds a new 4 KiB key, as a create does, with no WAIT, no count and
#       no relay; no goal (after the relay's runs: it fills the cluster)
# (C runs first so that R and W see the same database, back to back.)
#
# And, for the SQLite creates, what bounds them: the disk's write rate next
# to the database (256 KiB writes, each followed by fdatasync, for as long
# as a run) and the bytes a create made the relay write (/proc/PID/io
# write_bytes over run C).
#
# And what a request costs in CPU (user + system time of nginx's worker, the
# relay, the Redis nodes over a run, by its requests), with the cores the
# create targets' rates would take at that cost.
#
# This prints one table and PASS/MISS against the targets (issue 14); a MISS
# is not a failure.  The exit status is non-zero only when something broke
# (build, startup, a run that could not be made).
#
# It installs missing packages with apt-get (root), builds its own release
# build in _build-bench, and leaves no process or temporary file behind.

set -Eeuo pipefail
trap 'printf "bench-relay: error: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

DURATION=${1:-10}
STARTED=$SECONDS
CONNECTIONS=${BENCH_CONNECTIONS:-50}
WAITERS=${BENCH_WAITERS:-10000}
STORES=${BENCH_STORES:-sqlite redis}
WAIT_SECONDS=30                 # Prefer: wait= of the parked reads
MAX_WAITER_RUN=15               # the run with waiters must end well within WAIT_SECONDS
REDIS_NODES=6                   # 3 primaries, 3 replicas

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILDDIR=$SRCDIR/_build-bench
BENCHDIR=$SRCDIR/build-aux/bench
RELAY=$BUILDDIR/src/relay/latchkey-relay
STORE_BENCH=$BUILDDIR/tests/bench/bench-relay-store
PYTHON=/usr/bin/python3

log() { printf '%s\n' "$*" >&2; }
warn() { printf 'bench-relay: WARNING: %s\n' "$*" >&2; WARNINGS+=("$*"); }
die() { printf 'bench-relay: error: %s\n' "$*" >&2; exit 1; }

WARNINGS=()

[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [DURATION_SECONDS]"
[[ $CONNECTIONS =~ ^[1-9][0-9]*$ ]] || die "BENCH_CONNECTIONS must be a positive integer"
[[ $WAITERS =~ ^[1-9][0-9]*$ ]] || die "BENCH_WAITERS must be a positive integer"
WANT_SQLITE=0 WANT_REDIS=0
for store in $STORES; do
  case $store in
    sqlite) WANT_SQLITE=1 ;;
    redis) WANT_REDIS=1 ;;
    *) die "BENCH_STORES: unknown store '$store' (sqlite, redis)" ;;
  esac
done
((WANT_SQLITE + WANT_REDIS > 0)) || die "BENCH_STORES names no store (sqlite, redis)"

# ---------------------------------------------------------------------------
# Packages

install_missing() {
  local missing=() pkg pkgs
  command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
  pkgs=(wrk curl python3 meson ninja-build gcc g++ pkgconf libmicrohttpd-dev libsqlite3-dev libhiredis-dev
        libglib2.0-dev libjson-glib-dev libsimdjson-dev libgnutls28-dev libsoup-3.0-dev libzbar-dev libgdk-pixbuf-2.0-dev)
  # The Redis store's runs: the cluster's nodes, redis-cli and redis-benchmark.
  ((WANT_REDIS)) && pkgs+=(redis-server redis-tools)
  for pkg in "${pkgs[@]}"; do
    if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
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
tools=(nginx wrk curl "$PYTHON" meson)
((WANT_REDIS)) && tools+=(redis-server redis-cli redis-benchmark)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
# ---------------------------------------------------------------------------
# Build

cd "$SRCDIR"
if [[ ! -f $BUILDDIR/meson-private/coredata.dat ]]; then
  log "Configuring $BUILDDIR (release)"
  meson setup "$BUILDDIR" --buildtype=release -Dapp=false -Dcli=false -Dtests=false -Dbenchmarks=true >&2
fi
# A build directory made before S existed.
meson configure "$BUILDDIR" -Dbenchmarks=true >/dev/null
log "Building"
BUILD_LOG=$(mktemp)
if ! meson compile -C "$BUILDDIR" >"$BUILD_LOG" 2>&1; then
  cat "$BUILD_LOG" >&2
  rm -f "$BUILD_LOG"
  die "build failed"
fi
rm -f "$BUILD_LOG"
[[ -x $RELAY ]] || die "$RELAY was not built"

# ---------------------------------------------------------------------------
# Descriptors: each side of the waiter benchmark holds WAITERS sockets.

hard=$(ulimit -Hn)
if [[ $hard == unlimited ]] || ((hard >= 65536)); then
  ulimit -n 65536
else
  ulimit -n "$hard"
fi
(($(ulimit -n) >= WAITERS + 1024)) ||
  die "open-file limit $(ulimit -n) is too low for $WAITERS waiters (need $((WAITERS + 1024)))"

# ---------------------------------------------------------------------------
# Temporary state and clean-up

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-relay.XXXXXX")
chmod 755 "$TMP"                # nginx workers (nobody) read the static file
NGINX_PID= RELAY_PID= RELAY2_PID= WAITER_PID= WRK_PID_A= WRK_PID_B=
REDIS_PIDS=()

# Stop one process we started, by PID: TERM, then KILL after 5 s.
stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -KILL "$pid" 2>/dev/null; then
    log "bench-relay: PID $pid ignored SIGTERM for 5 s, killed"
  fi
  wait "$pid" 2>/dev/null || true
}

stop_nginx() {
  local workers
  [[ -n $NGINX_PID ]] || return 0
  workers=$(pgrep -P "$NGINX_PID" 2>/dev/null || true)
  stop_pid "$NGINX_PID"
  for pid in $workers; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  NGINX_PID=
}

# The Redis nodes we started (each our own child, by its PID).
stop_redis() {
  local pid
  for pid in "${REDIS_PIDS[@]}"; do
    stop_pid "$pid"
  done
  REDIS_PIDS=()
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_pid "$WRK_PID_A"; WRK_PID_A=
  stop_pid "$WRK_PID_B"; WRK_PID_B=
  stop_pid "$WAITER_PID"; WAITER_PID=
  stop_pid "$RELAY2_PID"; RELAY2_PID=
  stop_pid "$RELAY_PID"; RELAY_PID=
  stop_redis
  stop_nginx
  if [[ -n ${BENCH_LOG_DIR:-} ]]; then
    mkdir -p "$BENCH_LOG_DIR" &&
      cp -f "$TMP"/wrk-*.txt "$TMP"/redis-benchmark-*.txt "$TMP"/relay*.out "$TMP"/relay*.err \
            "$TMP"/waiters-*.out "$TMP"/waiters-*.err "$TMP"/nginx/error.log "$BENCH_LOG_DIR"/ 2>/dev/null
    for dir in "$TMP"/redis/n*; do
      [[ -f $dir/log ]] && cp -f "$dir/log" "$BENCH_LOG_DIR/redis-${dir##*/}.log"
    done
  fi
  [[ -n ${SHM_DIR:-} ]] && rm -rf "$SHM_DIR"
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# free_redis_ports N: N ports, each with its cluster bus port (+10000) free now.
free_redis_ports() {
  "$PYTHON" - "$1" <<'PY'
import random, socket, sys
count, ports, port = int(sys.argv[1]), [], random.randint(20000, 40000)
while len(ports) < count:
    ok = True
    for p in (port, port + 10000):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        s.close()
    if ok:
        ports.append(port)
    port = 20000 if port >= 40000 else port + 1
print(" ".join(map(str, ports)))
PY
}

uuid() { cat /proc/sys/kernel/random/uuid; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------------------
# Request bodies: a 4 KiB static file, a ~4 KiB create body.

mkdir -p "$TMP/www" "$TMP/nginx"
head -c 4096 /dev/urandom >"$TMP/www/static.bin"
# 2970 random bytes are 3960 base64 characters (no padding): the body is 4094 bytes.
printf '{"payload":{"type":"AEAD_AES_256_GCM","data":"%s"},"displayInformation":{"title":"Bench"},"mailboxConfiguration":{"accessRights":"RWD"}}' \
  "$(head -c 2970 /dev/urandom | base64 -w0)" >"$TMP/create.json"
chmod 644 "$TMP/www/static.bin" "$TMP/create.json"
chmod 755 "$TMP/www"

# ---------------------------------------------------------------------------
# wrk and redis-benchmark

declare -A RPS P50 P99 REQS NON2XX SOCKERR
# CPU time over a run, in µs: of the server measured (nginx's worker, the
# relay) and of the Redis nodes, set through CPU_SERVER_PIDS and
# CPU_REDIS_PIDS before the run; what a request costs, for the capacity
# lines of the report.
declare -A CPU_SERVER CPU_REDIS
CPU_SERVER_PIDS=() CPU_REDIS_PIDS=()
CLK_TCK=$(getconf CLK_TCK)

# cpu_us PID...: user + system CPU of these processes, their live children
# (nginx's worker) and the children they waited for (Redis's rewrites), in µs.
cpu_us() {
  local pid p ticks=0
  for pid in "$@"; do
    for p in "$pid" $(pgrep -P "$pid" 2>/dev/null || true); do
      # Fields after the command name, which may hold spaces: utime,
      # stime, cutime and cstime are the 12th to the 15th of them.
      ticks=$((ticks + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }' || echo 0)))
    done
  done
  echo $((ticks * 1000000 / CLK_TCK))
}
cpu_begin() {
  CPU_AT_SERVER=$( ((${#CPU_SERVER_PIDS[@]})) && cpu_us "${CPU_SERVER_PIDS[@]}" || echo 0)
  CPU_AT_REDIS=$( ((${#CPU_REDIS_PIDS[@]})) && cpu_us "${CPU_REDIS_PIDS[@]}" || echo 0)
}
cpu_end() {
  ((${#CPU_SERVER_PIDS[@]})) && CPU_SERVER[$1]=$(( $(cpu_us "${CPU_SERVER_PIDS[@]}") - CPU_AT_SERVER ))
  ((${#CPU_REDIS_PIDS[@]})) && CPU_REDIS[$1]=$(( $(cpu_us "${CPU_REDIS_PIDS[@]}") - CPU_AT_REDIS ))
  return 0
}

# parse_wrk KEY LABEL OUT: fills the arrays from one wrk output.
parse_wrk() {
  local key=$1 label=$2 out=$3 line
  line=$(grep '^BENCH ' "$out" || true)
  [[ -n $line ]] || { cat "$out" >&2; die "no summary from wrk for $label"; }
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  RPS[$key]=$(field rps)
  P50[$key]=$(field p50_us)
  P99[$key]=$(field p99_us)
  REQS[$key]=$(field requests)
  NON2XX[$key]=$(field status_errors)
  SOCKERR[$key]=$(( $(field connect_errors) + $(field read_errors) + $(field write_errors) + $(field timeouts) ))
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    warn "$label: wrk reports $(grep 'Non-2xx or 3xx responses' "$out" | sed 's/^ *//')"
  fi
  if grep -q 'Socket errors' "$out"; then
    warn "$label: wrk reports $(grep 'Socket errors' "$out" | sed 's/^ *//')"
  fi
  ((REQS[$key] > 0)) || warn "$label: no request completed"
}

# run_wrk KEY LABEL URL DURATION [VAR=VALUE...]: one wrk run; fills the arrays.
run_wrk() {
  local key=$1 label=$2 url=$3 duration=$4 out
  shift 4
  out=$TMP/wrk-$key.txt
  log "[$key] $label: wrk -t1 -c$CONNECTIONS -d${duration}s"
  sleep 1                       # let the previous step settle
  cpu_begin
  if ! env "$@" wrk -t1 -c"$CONNECTIONS" -d"${duration}s" --latency \
         -s "$BENCHDIR/request.lua" "$url" >"$out" 2>&1; then
    cat "$out" >&2
    die "wrk failed for $label"
  fi
  cpu_end "$key"
  parse_wrk "$key" "$label" "$out"
}

# run_wrk_pair KEY LABEL URL1 URL2 DURATION [VAR=VALUE...]: one wrk against
# each of two relay instances at once, half the connections each; the
# requests/s are summed, p50 and p99 are the higher of the two.
run_wrk_pair() {
  local key=$1 label=$2 url1=$3 url2=$4 duration=$5 half rc_a=0 rc_b=0
  shift 5
  half=$(( (CONNECTIONS + 1) / 2 ))
  log "[$key] $label: two wrk -t1 -c$half -d${duration}s at once"
  sleep 1
  env "$@" wrk -t1 -c"$half" -d"${duration}s" --latency -s "$BENCHDIR/request.lua" "$url1" \
    </dev/null >"$TMP/wrk-$key-a.txt" 2>&1 &
  WRK_PID_A=$!
  env "$@" wrk -t1 -c"$half" -d"${duration}s" --latency -s "$BENCHDIR/request.lua" "$url2" \
    </dev/null >"$TMP/wrk-$key-b.txt" 2>&1 &
  WRK_PID_B=$!
  wait "$WRK_PID_A" || rc_a=$?
  WRK_PID_A=
  wait "$WRK_PID_B" || rc_b=$?
  WRK_PID_B=
  ((rc_a == 0)) || { cat "$TMP/wrk-$key-a.txt" >&2; die "wrk failed for $label (instance 1)"; }
  ((rc_b == 0)) || { cat "$TMP/wrk-$key-b.txt" >&2; die "wrk failed for $label (instance 2)"; }
  parse_wrk "$key-a" "$label (instance 1)" "$TMP/wrk-$key-a.txt"
  parse_wrk "$key-b" "$label (instance 2)" "$TMP/wrk-$key-b.txt"
  RPS[$key]=$(awk -v a="${RPS[$key-a]}" -v b="${RPS[$key-b]}" 'BEGIN { printf "%.1f", a + b }')
  big() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
  P50[$key]=$(big "${P50[$key-a]}" "${P50[$key-b]}")
  P99[$key]=$(big "${P99[$key-a]}" "${P99[$key-b]}")
  REQS[$key]=$(( REQS[$key-a] + REQS[$key-b] ))
  NON2XX[$key]=$(( NON2XX[$key-a] + NON2XX[$key-b] ))
  SOCKERR[$key]=$(( SOCKERR[$key-a] + SOCKERR[$key-b] ))
}

# run_redis_benchmark KEY LABEL PORT [OPTION...]: redis-benchmark -t set -d 4096
# -cN -P 1 for about DURATION s (a first run of 1,000 SETs sizes -n); fills
# the arrays (NON2XX: "-", redis-benchmark has no such count).
run_redis_benchmark() {
  local key=$1 label=$2 port=$3 out line n
  shift 3
  out=$TMP/redis-benchmark-$key.txt
  sleep 1
  redis-benchmark -h 127.0.0.1 -p "$port" "$@" -t set -d 4096 -c "$CONNECTIONS" -n 1000 -P 1 --csv \
    </dev/null >"$out" 2>&1 || true
  line=$(grep '^"SET"' "$out" || true)
  [[ -n $line ]] || { cat "$out" >&2; die "redis-benchmark failed for $label"; }
  n=$(awk -F'"' -v d="$DURATION" '{ n = int($4 * d); print (n < 1000 ? 1000 : n) }' <<<"$line")
  REDIS_BENCHMARK_N[$key]=$n
  log "[$key] $label: redis-benchmark -t set -d 4096 -c$CONNECTIONS -n $n -P 1 $*"
  cpu_begin
  redis-benchmark -h 127.0.0.1 -p "$port" "$@" -t set -d 4096 -c "$CONNECTIONS" -n "$n" -P 1 --csv \
    </dev/null >"$out" 2>&1 || true
  cpu_end "$key"
  line=$(grep '^"SET"' "$out" || true)
  [[ -n $line ]] || { cat "$out" >&2; die "redis-benchmark failed for $label"; }
  grep -qi 'error' "$out" && warn "$label: $(grep -i -m1 'error' "$out")"
  # "SET","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  RPS[$key]=$(awk -F'"' '{ print $4 }' <<<"$line")
  P50[$key]=$(awk -F'"' '{ printf "%d", $10 * 1000 }' <<<"$line")
  P99[$key]=$(awk -F'"' '{ printf "%d", $14 * 1000 }' <<<"$line")
  REQS[$key]=$n
  NON2XX[$key]=-
}
declare -A REDIS_BENCHMARK_N

# run_store KEY LABEL STORE TARGET: bench-relay-store for DURATION s with
# CONNECTIONS creates in flight; fills the arrays (no latencies: "-";
# NON2XX: the creates the store failed).
run_store() {
  local key=$1 label=$2 store=$3 target=$4 out line
  out=$TMP/store-$key.txt
  log "[$key] $label: bench-relay-store --seconds $DURATION --in-flight $CONNECTIONS $store"
  sleep 1
  "$STORE_BENCH" --seconds "$DURATION" --in-flight "$CONNECTIONS" "$store" "$target" </dev/null >"$out" 2>&1 ||
    { cat "$out" >&2; die "bench-relay-store failed for $label"; }
  line=$(grep '^BENCH ' "$out" || true)
  [[ -n $line ]] || { cat "$out" >&2; die "no summary from bench-relay-store for $label"; }
  RPS[$key]=$(sed -n 's/.* rps=\([^ ]*\).*/\1/p' <<<"$line")
  REQS[$key]=$(sed -n 's/.* creates=\([^ ]*\).*/\1/p' <<<"$line")
  NON2XX[$key]=$(sed -n 's/.* failed=\([^ ]*\).*/\1/p' <<<"$line")
  P50[$key]=-
  P99[$key]=-
  ((NON2XX[$key] == 0)) || warn "$label: the store failed ${NON2XX[$key]} creates"
}

# ---------------------------------------------------------------------------
# nginx baselines

NGINX_PORT=$(free_port)
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;

events {
  worker_connections 4096;
}

http {
  access_log off;
  sendfile on;
  keepalive_timeout 75s;
  keepalive_requests 10000000;
  default_type application/octet-stream;
  client_body_temp_path $TMP/nginx/client_body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;

  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/www;

    location = /static.bin {
    }

    # A 204 makes nginx read and discard the request body (it has to, to
    # keep the connection alive); checked with a keep-alive pair below.
    location = /post {
      client_max_body_size 64k;
      client_body_buffer_size 64k;
      return 204;
    }
  }
}
EOF

nginx -t -q -e "$TMP/nginx/error.log" -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" ||
  { cat "$TMP/nginx/error.log" >&2; die "nginx configuration rejected"; }
nginx -e "$TMP/nginx/error.log" -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" \
  </dev/null >"$TMP/nginx/stdout" 2>&1 &
NGINX_PID=$!
NGINX_URL=http://127.0.0.1:$NGINX_PORT
for ((i = 0; i < 100; i++)); do
  curl -s -o /dev/null --max-time 1 "$NGINX_URL/static.bin" && break
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMP/nginx/error.log" >&2; die "nginx exited"; }
  sleep 0.1
done

check=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$NGINX_URL/static.bin" || true)
[[ $check == "200 4096" ]] || die "nginx static check failed: $check"
# Two POSTs on one connection: both 204 and the second reuses the connection
# (num_connects 0), so nginx consumed the first 4 KiB body off the socket.
check=$(curl -s -o /dev/null -w '%{http_code}/%{num_connects} ' -X POST \
          -H 'Content-Type: application/json' --data-binary "@$TMP/create.json" \
          "$NGINX_URL/post" "$NGINX_URL/post" || true)
[[ $check == "204/1 204/0 " ]] || die "nginx POST keep-alive check failed: $check"

CPU_SERVER_PIDS=("$NGINX_PID")
run_wrk A "nginx static GET 4 KiB" "$NGINX_URL/static.bin" "$DURATION"
run_wrk B "nginx POST 4 KiB -> 204" "$NGINX_URL/post" "$DURATION" \
  BENCH_METHOD=POST BENCH_BODY_FILE="$TMP/create.json" BENCH_CONTENT_TYPE=application/json
CPU_SERVER_PIDS=()
stop_nginx

# ---------------------------------------------------------------------------
# Relay

# Every instance gets the same flags. Every request comes from 127.0.0.1:
# per-client limits off.
RELAY_ARGS=(--rate 0 --max-mailboxes-per-client 0 --max-bytes-per-client 0
            --max-connections-per-client 0 --max-waiters-per-client 0
            --max-connections 20000 --max-waiters 12000 --connection-timeout 60)

# start_relay PID_VAR URL_VAR NAME DATA_DIR [OPTION...]: starts one instance
# (its PID in PID_VAR at once, for the clean-up) and waits for its URL.
start_relay() {
  local pid_var=$1 url_var=$2 name=$3 data_dir=$4 pid url= i
  shift 4
  mkdir -p "$data_dir"
  # Made here, so that the loop below never reads a file that the child's
  # redirection has not opened yet.
  : >"$TMP/$name.out"
  : >"$TMP/$name.err"
  "$RELAY" --port 0 --data-dir "$data_dir" "${RELAY_ARGS[@]}" "$@" \
    </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
  pid=$!
  printf -v "$pid_var" '%s' "$pid"
  for ((i = 0; i < 300; i++)); do
    url=$(sed -n 's/^latchkey-relay listening on \(http:\/\/[^ ]*\)$/\1/p' "$TMP/$name.out")
    [[ -n $url ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$TMP/$name.err" >&2; die "latchkey-relay ($name) exited"; }
    sleep 0.1
  done
  [[ -n $url ]] || { cat "$TMP/$name.err" >&2; die "latchkey-relay ($name) did not start"; }
  printf -v "$url_var" '%s' "$url"
}

# metric NAME [URL]: one figure of an instance's /metrics (default RELAY_URL).
metric() {
  { curl -s --max-time 5 "${2:-$RELAY_URL}/metrics" || true; } | awk -v k="$1" '$1 == k { print $2 }'
}
relay_errors() {
  local a b
  a=$(metric 'latchkey_relay_responses_total{class="4xx"}' "${1:-$RELAY_URL}")
  b=$(metric 'latchkey_relay_responses_total{class="5xx"}' "${1:-$RELAY_URL}")
  echo $(( ${a:-0} + ${b:-0} ))
}

# setup_mailbox: the mailbox to read, created once through RELAY_URL, the
# recipient bound by a first read; sets INITIATOR, RECIPIENT, MAILBOX_PATH,
# MAILBOX_URL, READ_BYTES and ETAG.
setup_mailbox() {
  local created link check headers
  INITIATOR=$(uuid)
  RECIPIENT=$(uuid)
  created=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
              -H "Mailbox-Device-Claim: $INITIATOR" --data-binary "@$TMP/create.json" \
              "$RELAY_URL/v1/m" || true)
  [[ ${created##*$'\n'} == 200 ]] || die "relay create check failed: $created"
  link=$(sed -n 's/.*"urlLink":"\([^"]*\)".*/\1/p' <<<"${created%$'\n'*}")
  MAILBOX_PATH=$(sed 's#^https\{0,1\}://[^/]*##' <<<"$link")
  [[ $MAILBOX_PATH == /v1/m/* ]] || die "unexpected urlLink: $link"
  MAILBOX_URL=$RELAY_URL$MAILBOX_PATH

  check=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Mailbox-Device-Claim: $RECIPIENT" "$MAILBOX_URL" || true)
  [[ $check == 200 ]] || die "relay recipient binding failed: $check"
  headers=$(curl -s -D - -o "$TMP/read.json" -w '%{http_code} %{size_download}' -X POST \
              -H "Mailbox-Device-Claim: $RECIPIENT" "$MAILBOX_URL" || true)
  check=${headers##*$'\n'}
  [[ $check == "200 "* ]] || die "relay read check failed: $check"
  READ_BYTES=${check#200 }
  grep -q "$(sed -n 's/.*"data":"\([^"]\{1,64\}\).*/\1/p' "$TMP/create.json")" "$TMP/read.json" ||
    die "relay read does not return the payload"
  ETAG=$(tr -d '\r' <<<"$headers" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')
  [[ $ETAG =~ ^\"[0-9]+\"$ ]] || die "unexpected ETag: '$ETAG'"
}

# check_errors LABEL BEFORE [URL]: a warning if the instance answered 4xx/5xx.
check_errors() {
  local after
  after=$(relay_errors "${3:-$RELAY_URL}")
  ((after == $2)) || warn "$1: the relay answered $((after - $2)) 4xx/5xx"
}

WAITER_DURATION=$DURATION
if ((WAITER_DURATION > MAX_WAITER_RUN)); then
  WAITER_DURATION=$MAX_WAITER_RUN
  log "The runs with waiters last ${WAITER_DURATION}s (they must end well within wait=$WAIT_SECONDS)"
fi

# write_bytes PID: the bytes the process has had written to the disk so far.
write_bytes() { awk '/^write_bytes:/ { print $2 }' "/proc/$1/io"; }

declare -A WRITTEN MAILBOXES READ_SIZE RSS_BEFORE RSS_WITH RSS_AFTER_W PARK_SECONDS STILL_PARKED WAITER_SPAN \
           WAITER_SUMMARY RELEASED

# bench_relay STORE NAME LABEL CKEY RKEY WKEY: create, read and read with
# waiters through the instance at RELAY_URL (RELAY_PID, its output in
# TMP/NAME.*), after setup_mailbox.
bench_relay() {
  local store=$1 name=$2 label=$3 ckey=$4 rkey=$5 wkey=$6 errors written parked released i waiters_started waiters_parked waiters_done

  # --- create ---------------------------------------------------------------
  errors=$(relay_errors)
  written=$(write_bytes "$RELAY_PID")
  run_wrk "$ckey" "relay create 4 KiB, $label" "$RELAY_URL/v1/m" "$DURATION" \
    BENCH_METHOD=POST BENCH_BODY_FILE="$TMP/create.json" BENCH_CONTENT_TYPE=application/json \
    BENCH_CLAIM="$INITIATOR"
  WRITTEN[$store]=$(( $(write_bytes "$RELAY_PID") - written ))
  check_errors "relay create, $label" "$errors"
  errors=$(relay_errors)
  run_wrk "${ckey}r" "relay create 4 KiB with request ids, $label" "$RELAY_URL/v1/m" "$DURATION" \
    BENCH_METHOD=POST BENCH_BODY_FILE="$TMP/create.json" BENCH_CONTENT_TYPE=application/json \
    BENCH_CLAIM="$INITIATOR" BENCH_REQUEST_IDS=1 BENCH_NEW_CLAIMS=1
  check_errors "relay create with request ids, $label" "$errors"
  MAILBOXES[$store]=$(metric latchkey_relay_mailboxes)
  READ_SIZE[$store]=$READ_BYTES

  # --- read -----------------------------------------------------------------
  errors=$(relay_errors)
  run_wrk "$rkey" "relay read 4 KiB, $label" "$MAILBOX_URL" "$DURATION" \
    BENCH_METHOD=POST BENCH_CLAIM="$RECIPIENT"
  check_errors "relay read, $label" "$errors"

  # --- waiting readers ------------------------------------------------------
  RSS_BEFORE[$store]=$(rss_kb "$RELAY_PID")
  log "Parking $WAITERS waiting reads ($label)"
  waiters_started=$(date +%s.%N)
  "$PYTHON" "$BENCHDIR/waiters.py" --port "${RELAY_URL##*:}" --path "$MAILBOX_PATH" \
    --claim "$RECIPIENT" --etag "$ETAG" --count "$WAITERS" --wait "$WAIT_SECONDS" \
    </dev/null >"$TMP/waiters-$store.out" 2>"$TMP/waiters-$store.err" &
  WAITER_PID=$!

  parked=0
  for ((i = 0; i < 240; i++)); do         # at most about a minute
    parked=$(metric latchkey_relay_waiters)
    parked=${parked:-0}
    ((parked >= WAITERS)) && break
    kill -0 "$WAITER_PID" 2>/dev/null || break
    sleep 0.25
  done
  waiters_parked=$(date +%s.%N)
  if ((parked < WAITERS)); then
    cat "$TMP/waiters-$store.out" "$TMP/waiters-$store.err" >&2
    tail -5 "$TMP/$name.err" >&2 || true
    die "only $parked of $WAITERS waiting reads parked ($label)"
  fi
  PARK_SECONDS[$store]=$(awk -v a="$waiters_started" -v b="$waiters_parked" 'BEGIN { printf "%.1f", b - a }')
  RSS_WITH[$store]=$(rss_kb "$RELAY_PID")

  errors=$(relay_errors)
  run_wrk "$wkey" "relay read 4 KiB, $label, $WAITERS waiting" "$MAILBOX_URL" "$WAITER_DURATION" \
    BENCH_METHOD=POST BENCH_CLAIM="$RECIPIENT"
  check_errors "relay read with waiters, $label" "$errors"
  RSS_AFTER_W[$store]=$(rss_kb "$RELAY_PID")
  STILL_PARKED[$store]=$(metric latchkey_relay_waiters)
  STILL_PARKED[$store]=${STILL_PARKED[$store]:-0}
  waiters_done=$(date +%s.%N)
  WAITER_SPAN[$store]=$(awk -v a="$waiters_started" -v b="$waiters_done" 'BEGIN { printf "%.1f", b - a }')
  ((STILL_PARKED[$store] == WAITERS)) ||
    warn "$label: only ${STILL_PARKED[$store]} of $WAITERS waiters still parked after the run"
  awk -v s="${WAITER_SPAN[$store]}" -v w="$WAIT_SECONDS" 'BEGIN { exit !(s >= w) }' &&
    warn "$label: the run with waiters ended ${WAITER_SPAN[$store]}s after they were sent (wait=$WAIT_SECONDS)"

  stop_pid "$WAITER_PID"; WAITER_PID=
  WAITER_SUMMARY[$store]=$(grep '^done ' "$TMP/waiters-$store.out" || echo "done (no summary)")
  [[ ${WAITER_SUMMARY[$store]} == *"responses=none"* ]] ||
    warn "$label: waiter client: early responses: ${WAITER_SUMMARY[$store]}"
  # The client closed its sockets; see whether the relay lets the waits go.
  for ((i = 0; i < 30; i++)); do
    released=$(metric latchkey_relay_waiters)
    released=${released:-0}
    ((released == 0)) && break
    sleep 0.1
  done
  RELEASED[$store]=$released
}

DATA_FS=$(findmnt -n -o FSTYPE -T "$TMP" 2>/dev/null || echo '?')
[[ $DATA_FS == tmpfs ]] &&
  warn "relay database and Redis AOF files on tmpfs: fsync is free, create figures are not durable ones"

# --- SQLite -----------------------------------------------------------------

if ((WANT_SQLITE)); then
  start_relay RELAY_PID RELAY_URL relay-sqlite "$TMP/relay-sqlite"
  setup_mailbox
  CPU_SERVER_PIDS=("$RELAY_PID")
  bench_relay sqlite relay-sqlite SQLite C R W
  CPU_SERVER_PIDS=()
  stop_pid "$RELAY_PID"; RELAY_PID=
  mkdir -p "$TMP/store-sqlite"
  run_store S "SQLite store alone, $CONNECTIONS creates in flight" sqlite "$TMP/store-sqlite/relay.sqlite"
  rm -rf "$TMP/store-sqlite"

  # What the disk takes of C: the same creates with no disk under them, in
  # memory: about 350 MB a second of run (a 4 KiB mailbox takes 8 KB on disk).
  shm_free=$(df --output=avail -B1M /dev/shm 2>/dev/null | tail -1 | tr -d ' ')
  if [[ $(stat -f -c %T /dev/shm 2>/dev/null) != tmpfs ]]; then
    warn "/dev/shm is not tmpfs: no run Cm or Sm"
  elif ((${shm_free:-0} < DURATION * 400)); then
    warn "/dev/shm has ${shm_free:-0} MB free, under the $((DURATION * 400)) MB run Cm (then Sm) needs: no run Cm or Sm"
  else
    SHM_DIR=$(mktemp -d /dev/shm/bench-relay.XXXXXX)
    start_relay RELAY_PID RELAY_URL relay-tmpfs "$SHM_DIR/relay"
    INITIATOR=$(uuid)
    errors=$(relay_errors)
    CPU_SERVER_PIDS=("$RELAY_PID")
    run_wrk Cm "relay create 4 KiB, SQLite on tmpfs" "$RELAY_URL/v1/m" "$DURATION" \
      BENCH_METHOD=POST BENCH_BODY_FILE="$TMP/create.json" BENCH_CONTENT_TYPE=application/json \
      BENCH_CLAIM="$INITIATOR"
    check_errors "relay create, SQLite on tmpfs" "$errors"
    CPU_SERVER_PIDS=()
    stop_pid "$RELAY_PID"; RELAY_PID=
    rm -rf "$SHM_DIR/relay"
    mkdir -p "$SHM_DIR/store"
    run_store Sm "SQLite store alone on tmpfs" sqlite "$SHM_DIR/store/relay.sqlite"
    rm -rf "$SHM_DIR"; SHM_DIR=
  fi

  # The disk's own rate where the database was, as the relay writes: for as
  # long as run C, 256 KiB at a time (a group commit's size) with an
  # fdatasync after each, random bytes (zeros can be cheaper for a virtual
  # disk), the file cut back to its start every 1 GiB.
  DISK_MBS=$("$PYTHON" - "$TMP/disk.test" "$DURATION" <<'PY'
import os, sys, time
path, duration = sys.argv[1], float(sys.argv[2])
chunk, wrap = 256 * 1024, 1 << 30
blocks = [os.urandom(chunk) for _ in range(16)]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
written, offset, start = 0, 0, time.monotonic()
while time.monotonic() - start < duration:
    os.pwrite(fd, blocks[(written // chunk) % 16], offset)
    os.fdatasync(fd)
    written += chunk
    offset = (offset + chunk) % wrap
elapsed = time.monotonic() - start
os.close(fd)
os.unlink(path)
print("%.0f" % (written / elapsed / 1e6))
PY
)
fi

# --- Redis Cluster ----------------------------------------------------------

redis_cli() { redis-cli -h 127.0.0.1 -p "$@" 2>/dev/null || true; }

# all_nodes_say COMMAND EXPECTED: whether every node's answer contains it.
all_nodes_say() {
  local port
  for port in "${REDIS_PORTS[@]}"; do
    # shellcheck disable=SC2086
    [[ $(redis_cli "$port" $1) == *"$2"* ]] || return 1
  done
}

# wait_nodes COMMAND EXPECTED: polls until all_nodes_say, a minute at most.
wait_nodes() {
  local i pid
  for ((i = 0; i < 600; i++)); do
    all_nodes_say "$1" "$2" && return 0
    for pid in "${REDIS_PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null || die "a Redis node exited (logs in $TMP/redis)"
    done
    sleep 0.1
  done
  die "the Redis nodes did not all answer '$2' to $1"
}

start_cluster() {
  local port dir up i nodes=()
  read -r -a REDIS_PORTS <<<"$(free_redis_ports "$REDIS_NODES")"
  log "Starting a Redis Cluster of $REDIS_NODES nodes on ports ${REDIS_PORTS[*]}"
  for port in "${REDIS_PORTS[@]}"; do
    dir=$TMP/redis/n$port
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --cluster-enabled yes \
      --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
      --appendonly yes --appendfsync always --save '' --daemonize no --logfile "$dir/log" \
      --repl-diskless-sync-delay 0 </dev/null >/dev/null 2>&1 &
    REDIS_PIDS+=($!)
  done
  wait_nodes PING PONG
  for port in "${REDIS_PORTS[@]}"; do
    nodes+=("127.0.0.1:$port")
  done
  redis-cli --cluster create "${nodes[@]}" \
    --cluster-replicas 1 --cluster-yes </dev/null >"$TMP/redis/create.log" 2>&1 ||
    { cat "$TMP/redis/create.log" >&2; die "redis-cli --cluster create failed"; }
  wait_nodes "CLUSTER INFO" cluster_state:ok
  # Every replica's link up, or a relay's WAIT 1 would time out.
  for ((i = 0; i < 600; i++)); do
    up=0
    for port in "${REDIS_PORTS[@]}"; do
      [[ $(redis_cli "$port" INFO replication) == *master_link_status:up* ]] && up=$((up + 1))
    done
    ((up == REDIS_NODES / 2)) && break
    sleep 0.1
  done
  ((up == REDIS_NODES / 2)) || die "only $up of $((REDIS_NODES / 2)) Redis replicas are linked"
  REDIS_NODE_LIST=$(printf '127.0.0.1:%s,' "${REDIS_PORTS[@]}")
  REDIS_NODE_LIST=${REDIS_NODE_LIST%,}
}

# wait_replicas_in_sync: polls until every primary's replicas have all it
# wrote (offset == master_repl_offset), two minutes at most. After
# redis-benchmark's runs a replica is hundreds of MB behind, and a relay's
# WAIT 1 would time out on it: that would measure the baseline's backlog.
wait_replicas_in_sync() {
  local i port info behind
  for ((i = 0; i < 1200; i++)); do
    behind=0
    for port in "${REDIS_PORTS[@]}"; do
      info=$(redis_cli "$port" INFO replication)
      [[ $info == *role:master* ]] || continue
      awk -F'[:=,\r]' '
        $1 == "master_repl_offset" { want = $2 }
        $1 ~ /^slave[0-9]+$/ { for (i = 2; i < NF; i += 2) if ($i == "offset") got[++n] = $(i + 1) }
        END { if (n == 0) exit 1; for (j = 1; j <= n; j++) if (got[j] != want) exit 1 }' <<<"$info" ||
        behind=$((behind + 1))
    done
    ((behind == 0)) && return 0
    sleep 0.1
  done
  die "the Redis replicas did not catch up with their primaries in 2 minutes"
}

# The primary that owns redis-benchmark's key for -t set without -r.
primary_of() {
  local slot
  slot=$(redis_cli "${REDIS_PORTS[0]}" CLUSTER KEYSLOT "$1")
  [[ $slot =~ ^[0-9]+$ ]] || die "CLUSTER KEYSLOT failed: '$slot'"
  redis_cli "${REDIS_PORTS[0]}" CLUSTER NODES | awk -v s="$slot" '
    $3 ~ /master/ {
      for (i = 9; i <= NF; i++) {
        n = split($i, r, "-"); lo = r[1]; hi = (n > 1 ? r[2] : r[1])
        if (s >= lo && s <= hi) { split($2, a, "[:@]"); print a[2]; exit }
      }
    }'
}

if ((WANT_REDIS)); then
  start_cluster
  D_PORT=$(primary_of 'key:__rand_int__')
  [[ $D_PORT =~ ^[0-9]+$ ]] || die "no primary found for redis-benchmark's key"
  CPU_REDIS_PIDS=("${REDIS_PIDS[@]}")
  run_redis_benchmark D "redis-benchmark SET 4 KiB, 1 primary" "$D_PORT"
  run_redis_benchmark Dc "redis-benchmark --cluster SET 4 KiB" "${REDIS_PORTS[0]}" --cluster
  wait_replicas_in_sync

  REDIS_ARGS=(--store redis --redis-nodes "$REDIS_NODE_LIST")
  [[ -n ${BENCH_REDIS_WORKERS:-} ]] && REDIS_ARGS+=(--redis-workers "$BENCH_REDIS_WORKERS")
  start_relay RELAY_PID RELAY_URL relay-redis-1 "$TMP/relay-redis-1" "${REDIS_ARGS[@]}"
  setup_mailbox
  CPU_SERVER_PIDS=("$RELAY_PID")
  bench_relay redis relay-redis-1 "Redis, 1 instance" C1 R1 W1
  CPU_SERVER_PIDS=()

  # A second instance on the same cluster, with the first one's limiter key.
  mkdir -p "$TMP/relay-redis-2"
  cp -p "$TMP/relay-redis-1/limiter.key" "$TMP/relay-redis-2/limiter.key"
  start_relay RELAY2_PID RELAY2_URL relay-redis-2 "$TMP/relay-redis-2" "${REDIS_ARGS[@]}"
  check=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Mailbox-Device-Claim: $RECIPIENT" \
            "$RELAY2_URL$MAILBOX_PATH" || true)
  [[ $check == 200 ]] || die "read through the second instance failed: $check"

  errors1=$(relay_errors) errors2=$(relay_errors "$RELAY2_URL")
  run_wrk_pair C2 "relay create 4 KiB, Redis, 2 instances" "$RELAY_URL/v1/m" "$RELAY2_URL/v1/m" "$DURATION" \
    BENCH_METHOD=POST BENCH_BODY_FILE="$TMP/create.json" BENCH_CONTENT_TYPE=application/json \
    BENCH_CLAIM="$INITIATOR"
  check_errors "relay create, Redis instance 1 of 2" "$errors1"
  check_errors "relay create, Redis instance 2 of 2" "$errors2" "$RELAY2_URL"
  MAILBOXES[redis]=$(metric latchkey_relay_mailboxes)

  errors1=$(relay_errors) errors2=$(relay_errors "$RELAY2_URL")
  run_wrk_pair R2 "relay read 4 KiB, Redis, 2 instances" "$MAILBOX_URL" "$RELAY2_URL$MAILBOX_PATH" "$DURATION" \
    BENCH_METHOD=POST BENCH_CLAIM="$RECIPIENT"
  check_errors "relay read, Redis instance 1 of 2" "$errors1"
  check_errors "relay read, Redis instance 2 of 2" "$errors2" "$RELAY2_URL"
  RSS_PAIR1=$(rss_kb "$RELAY_PID")
  RSS_PAIR2=$(rss_kb "$RELAY2_PID")

  stop_pid "$RELAY2_PID"; RELAY2_PID=
  stop_pid "$RELAY_PID"; RELAY_PID=

  wait_replicas_in_sync
  run_store S1 "Redis store alone, $CONNECTIONS creates in flight" redis "$REDIS_NODE_LIST"
  wait_replicas_in_sync
  run_redis_benchmark Dn "redis-benchmark --cluster SET 4 KiB, new keys" "${REDIS_PORTS[0]}" --cluster -r 100000000
  CPU_REDIS_PIDS=()
  stop_redis
fi

# ---------------------------------------------------------------------------
# Report

ms() { if [[ $1 == - ]]; then echo -; else awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; fi; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB (%.1f MiB)", k * 1024 / 1e6, k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", (b > 0 ? a / b : 0) }'; }
fmt_x() { awk -v r="$1" 'BEGIN { printf "%.2fx", r }'; }
percent() { awk -v r="$1" 'BEGIN { printf "%.1f%%", r * 100 }'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
  ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "PASS" : "MISS" }'; }
kb_to_mb() { awk -v k="$1" 'BEGIN { print k * 1024 / 1e6 }'; }

label_of() {
  case $1 in
    A) echo "A   nginx static GET 4 KiB" ;;
    B) echo "B   nginx POST 4 KiB -> 204" ;;
    D) echo "D   redis-benchmark SET 4 KiB, 1 primary" ;;
    Dc) echo "Dc  redis-benchmark SET 4 KiB, --cluster" ;;
    R) echo "R   relay read 4 KiB, SQLite" ;;
    W) echo "W   relay read, SQLite, $WAITERS waiting" ;;
    C) echo "C   relay create 4 KiB, SQLite (fsync)" ;;
    Cr) echo "Cr  the same, as Latchkey sends (no goal)" ;;
    Cm) echo "Cm  the same, database on tmpfs (no goal)" ;;
    S) echo "S   SQLite store alone, no HTTP (no goal)" ;;
    Sm) echo "Sm  the same on tmpfs (no goal)" ;;
    S1) echo "S1  Redis store alone, no HTTP (no goal)" ;;
    Dn) echo "Dn  redis-benchmark SET, new keys, --cluster" ;;
    R1) echo "R1  relay read 4 KiB, Redis, 1 instance" ;;
    W1) echo "W1  relay read, Redis, $WAITERS waiting" ;;
    C1) echo "C1  relay create 4 KiB, Redis, 1 instance" ;;
    C1r) echo "C1r the same, as Latchkey sends (no goal)" ;;
    R2) echo "R2  relay read, Redis, 2 instances" ;;
    C2) echo "C2  relay create, Redis, 2 instances" ;;
  esac
}

# target LABEL VALUE GOAL VERDICT
target() { printf '%-52s %-10s %-10s %s\n' "$@"; }

wrk_version=$( (wrk -v 2>&1 || true) | head -1 | sed 's/ Copyright.*//')
nginx_version=$(nginx -v 2>&1 | sed 's/^nginx version: //')
relay_rev=$(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$SRCDIR" diff --quiet HEAD -- src 2>/dev/null || relay_rev="$relay_rev+local changes"
keys=(A B)
((WANT_REDIS)) && keys+=(D Dc)
((WANT_SQLITE)) && keys+=(R W C Cr)
((WANT_SQLITE)) && [[ -n ${RPS[Cm]:-} ]] && keys+=(Cm)
((WANT_SQLITE)) && keys+=(S)
((WANT_SQLITE)) && [[ -n ${RPS[Sm]:-} ]] && keys+=(Sm)
((WANT_REDIS)) && keys+=(R1 W1 C1 C1r R2 C2 S1 Dn)

echo
echo "latchkey-relay benchmark"
echo "========================"
printf '%-12s %s\n' machine "$(nproc) CPUs, $(uname -srm), load at end $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %s\n' cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
printf '%-12s %s\n' nginx "$nginx_version"
printf '%-12s %s\n' wrk "$wrk_version"
printf '%-12s %s\n' relay "$relay_rev, release build, libmicrohttpd $(pkg-config --modversion libmicrohttpd), sqlite $(pkg-config --modversion sqlite3), hiredis $(pkg-config --modversion hiredis), data on $DATA_FS"
printf '%-12s %s\n' stores "$STORES"
if ((WANT_REDIS)); then
  printf '%-12s %s\n' redis "$(redis-server --version | sed 's/^Redis server v=\([^ ]*\).*/\1/'), a cluster of 3 primaries + 3 replicas on loopback, appendonly yes, appendfsync always, on $DATA_FS"
  printf '%-12s %s\n' "" "D: redis-benchmark (no --cluster) -t set -d 4096 -c$CONNECTIONS -n ${REDIS_BENCHMARK_N[D]} -P 1 against the primary that owns its one key (port $D_PORT, cluster mode, with its replica; no WAIT)"
  printf '%-12s %s\n' "" "Dc: redis-benchmark --cluster -t set -d 4096 -c$CONNECTIONS -n ${REDIS_BENCHMARK_N[Dc]} -P 1, its clients spread over the 3 primaries"
  printf '%-12s %s\n' "" "Dn: as Dc with -r 100000000 (-n ${REDIS_BENCHMARK_N[Dn]}): each SET a new key, after the relay's runs"
  printf '%-12s %s\n' "" "relay on Redis: every create is scripts on up to 3 primaries and WAIT 1 500 (PROTOCOL.md 6.10)"
fi
printf '%-12s %s\n' runs "wrk -t1 -c$CONNECTIONS keep-alive, ${DURATION}s each (W: ${WAITER_DURATION}s); R2, C2: two wrk -t1 -c$(( (CONNECTIONS + 1) / 2 )) at once, one per instance, requests/s summed, p50/p99 the higher"
printf '%-12s %s\n' sizes "static 4096 B, POST body $(stat -c %s "$TMP/create.json") B, SET value 4096 B, relay read response ${READ_SIZE[sqlite]:-${READ_SIZE[redis]:-?}} B"
echo
printf '%-44s %12s %10s %10s %9s\n' run "requests/s" p50 p99 "non-2xx"
printf '%-44s %12s %10s %10s %9s\n' "--------------------------------------------" "----------" "--------" "--------" "-------"
for key in "${keys[@]}"; do
  printf '%-44s %12.0f %10s %10s %9s\n' "$(label_of "$key")" "${RPS[$key]}" \
    "$(ms "${P50[$key]}")" "$(ms "${P99[$key]}")" "${NON2XX[$key]}"
done
if ((WANT_REDIS)); then
  printf '%-44s %12.0f / %.0f\n' "    R2 per instance" "${RPS[R2-a]}" "${RPS[R2-b]}"
  printf '%-44s %12.0f / %.0f\n' "    C2 per instance" "${RPS[C2-a]}" "${RPS[C2-b]}"
fi
echo
for store in sqlite redis; do
  [[ -n ${RSS_WITH[$store]:-} ]] || continue
  per_waiter=$(awk -v a="${RSS_WITH[$store]}" -v b="${RSS_BEFORE[$store]}" -v n="$WAITERS" 'BEGIN { printf "%.1f KiB", (a - b) / n }')
  echo "$store, one instance:"
  echo "  waiting readers: $WAITERS parked in ${PARK_SECONDS[$store]}s; ${STILL_PARKED[$store]} still parked after the run with waiters (${WAITER_SPAN[$store]}s after the first was sent)"
  echo "  relay RSS:       before waiters $(mb "${RSS_BEFORE[$store]}"); with $WAITERS parked $(mb "${RSS_WITH[$store]}"); after the run $(mb "${RSS_AFTER_W[$store]}"); ~$per_waiter per waiter"
  echo "  waiter client:   ${WAITER_SUMMARY[$store]#done }"
  echo "  after the waiter client closed its sockets: ${RELEASED[$store]} waits still counted 3 s later"
  echo "  mailboxes at end: ${MAILBOXES[$store]:-?}"
done
if ((WANT_REDIS)); then
  echo "redis, two instances: RSS after R2 $(mb "$RSS_PAIR1") and $(mb "$RSS_PAIR2")"
fi
if ((WANT_SQLITE)) && ((REQS[C] > 0)); then
  awk -v w="${WRITTEN[sqlite]}" -v n="${REQS[C]}" -v d="${DISK_MBS:-0}" -v b="${RPS[B]}" \
      -v c="${RPS[C]}" -v m="${RPS[Cm]:-0}" -v fs="$DATA_FS" 'BEGIN {
    per = w / n
    printf "sqlite creates and the disk:\n"
    printf "  written per create (run C): %.1f KB (WAL and checkpoint), %.0f MB/s at C'"'"'s rate\n", per / 1e3, per * c / 1e6
    printf "  disk (%s, where the database is): 256 KiB writes, each then fdatasync: %.0f MB/s\n", fs, d
    if (d > 0 && per > 0)
      printf "  so the disk allows about %.0f creates/s, %.2fx nginx POST (C is %.2fx)\n", d * 1e6 / per, d * 1e6 / per / b, c / b
    if (m > 0)
      printf "  with no disk (Cm, tmpfs): %.0f creates/s, %.2fx nginx POST: what the CPU allows\n", m, m / b
  }'
fi
# What a request cost in CPU, and so how many cores a target's rate takes.
per_request() { awk -v c="${1:-}" -v n="${2:-0}" 'BEGIN { if (c == "" || n <= 0) print ""; else printf "%.1f", c / n }'; }
if ((WANT_SQLITE)) || ((WANT_REDIS)); then
  echo "CPU per request (user + system time of the processes named over the run, by its requests):"
  b_us=$(per_request "${CPU_SERVER[B]:-}" "${REQS[B]}")
  printf '  %-4s %-34s %s\n' B "nginx (its worker)" "${b_us:-?} us"
  for key in C Cm; do
    [[ -n ${CPU_SERVER[$key]:-} ]] || continue
    printf '  %-4s %-34s %s\n' "$key" "the relay, SQLite" "$(per_request "${CPU_SERVER[$key]}" "${REQS[$key]}") us"
  done
  for key in D Dc Dn; do
    [[ -n ${CPU_REDIS[$key]:-} ]] || continue
    printf '  %-4s %-34s %s\n' "$key" "the Redis nodes" "$(per_request "${CPU_REDIS[$key]}" "${REQS[$key]}") us"
  done
  if [[ -n ${CPU_SERVER[C1]:-} ]]; then
    printf '  %-4s %-34s %s\n' C1 "the relay; the Redis nodes" \
      "$(per_request "${CPU_SERVER[C1]}" "${REQS[C1]}") us; $(per_request "${CPU_REDIS[C1]}" "${REQS[C1]}") us"
  fi
  if [[ -n ${CPU_SERVER[C]:-} ]]; then
    awk -v c="$(per_request "${CPU_SERVER[C]}" "${REQS[C]}")" -v b="${RPS[B]}" -v cores="$(nproc)" 'BEGIN {
      printf "  so 0.3x nginx POST (%.0f creates/s) takes %.1f cores of the relay alone (C), on a machine of %d shared with wrk\n",
        0.3 * b, 0.3 * b * c / 1e6, cores }'
  fi
  if [[ -n ${CPU_SERVER[C1]:-} ]]; then
    awk -v r="$(per_request "${CPU_SERVER[C1]}" "${REQS[C1]}")" -v x="$(per_request "${CPU_REDIS[C1]}" "${REQS[C1]}")" \
        -v d="${RPS[D]}" -v cores="$(nproc)" 'BEGIN {
      printf "  so 0.5x D (%.0f creates/s) takes %.1f cores of Redis and %.1f of the relay (C1), on a machine of %d shared with wrk\n",
        0.5 * d, 0.5 * d * x / 1e6, 0.5 * d * r / 1e6, cores }'
  fi
fi
echo
target target value goal verdict
target "----------------------------------------------------" "----------" "----------" "-------"
if ((WANT_SQLITE)); then
  read_ratio=$(ratio "${RPS[R]}" "${RPS[A]}")
  create_ratio=$(ratio "${RPS[C]}" "${RPS[B]}")
  waiter_ratio=$(ratio "${RPS[W]}" "${RPS[R]}")
  rss=$(kb_to_mb "${RSS_WITH[sqlite]}")
  target "SQLite: read / nginx static (R/A)" "$(fmt_x "$read_ratio")" ">= 0.70x" "$(verdict "$read_ratio" 0.7 '>=')"
  target "SQLite: create / nginx POST (C/B)" "$(fmt_x "$create_ratio")" ">= 0.30x" "$(verdict "$create_ratio" 0.3 '>=')"
  target "SQLite: RSS with $WAITERS waiting readers" "$(awk -v m="$rss" 'BEGIN { printf "%.1f MB", m }')" "<= 100 MB" "$(verdict "$rss" 100 '<=')"
  target "SQLite: read with waiters / without (W/R)" "$(percent "$waiter_ratio")" ">= 90%" "$(verdict "$waiter_ratio" 0.9 '>=')"
  target "(no goal) SQLite create, as Latchkey / C (Cr/C)" "$(fmt_x "$(ratio "${RPS[Cr]}" "${RPS[C]}")")" "" ""
  target "(no goal) SQLite store alone / nginx POST (S/B)" "$(fmt_x "$(ratio "${RPS[S]}" "${RPS[B]}")")" "" ""
  target "(no goal) SQLite create / store alone (C/S)" "$(fmt_x "$(ratio "${RPS[C]}" "${RPS[S]}")")" "" ""
  [[ -n ${RPS[Sm]:-} ]] &&
    target "(no goal) SQLite store alone, tmpfs / nginx POST (Sm/B)" "$(fmt_x "$(ratio "${RPS[Sm]}" "${RPS[B]}")")" "" ""
fi
if ((WANT_REDIS)); then
  read_ratio=$(ratio "${RPS[R1]}" "${RPS[A]}")
  create_ratio=$(ratio "${RPS[C1]}" "${RPS[D]}")
  waiter_ratio=$(ratio "${RPS[W1]}" "${RPS[R1]}")
  rss=$(kb_to_mb "${RSS_WITH[redis]}")
  target "Redis: read / nginx static (R1/A)" "$(fmt_x "$read_ratio")" ">= 0.70x" "$(verdict "$read_ratio" 0.7 '>=')"
  target "Redis: create / redis-benchmark SET (C1/D)" "$(fmt_x "$create_ratio")" ">= 0.50x" "$(verdict "$create_ratio" 0.5 '>=')"
  target "Redis: RSS with $WAITERS waiting readers, 1 instance" "$(awk -v m="$rss" 'BEGIN { printf "%.1f MB", m }')" "<= 100 MB" "$(verdict "$rss" 100 '<=')"
  target "Redis: read with waiters / without (W1/R1)" "$(percent "$waiter_ratio")" ">= 90%" "$(verdict "$waiter_ratio" 0.9 '>=')"
  target "Redis, 2 instances: read / nginx static (R2/A)" "$(fmt_x "$(ratio "${RPS[R2]}" "${RPS[A]}")")" ">= 0.70x" "$(verdict "$(ratio "${RPS[R2]}" "${RPS[A]}")" 0.7 '>=')"
  target "Redis, 2 instances: create / redis-benchmark (C2/D)" "$(fmt_x "$(ratio "${RPS[C2]}" "${RPS[D]}")")" ">= 0.50x" "$(verdict "$(ratio "${RPS[C2]}" "${RPS[D]}")" 0.5 '>=')"
  target "(no goal) Redis create, as Latchkey / C1 (C1r/C1)" "$(fmt_x "$(ratio "${RPS[C1r]}" "${RPS[C1]}")")" "" ""
  target "(no goal) Redis create / --cluster SET (C1/Dc)" "$(fmt_x "$(ratio "${RPS[C1]}" "${RPS[Dc]}")")" "" ""
  target "(no goal) Redis store alone / SET (S1/D)" "$(fmt_x "$(ratio "${RPS[S1]}" "${RPS[D]}")")" "" ""
  target "(no goal) Redis create / store alone (C1/S1)" "$(fmt_x "$(ratio "${RPS[C1]}" "${RPS[S1]}")")" "" ""
  target "(no goal) SET of new keys / of one key (Dn/D)" "$(fmt_x "$(ratio "${RPS[Dn]}" "${RPS[D]}")")" "" ""
  target "(no goal) 2 instances / 1: create (C2/C1)" "$(fmt_x "$(ratio "${RPS[C2]}" "${RPS[C1]}")")" "" ""
  target "(no goal) 2 instances / 1: read (R2/R1)" "$(fmt_x "$(ratio "${RPS[R2]}" "${RPS[R1]}")")" "" ""
fi
((WAITERS < 10000)) &&
  echo "(the RSS goal is for 10,000 waiting readers; this run parked $WAITERS)"

echo
echo "total time: $((SECONDS - STARTED)) s"
if ((${#WARNINGS[@]})); then
  echo
  echo "warnings:"
  printf '  - %s\n' "${WARNINGS[@]}"
fi
exit 0

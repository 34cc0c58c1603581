#!/bin/bash
# The two Quick start commands of the README.
#
#   build-aux/latchkey-dev.sh run    install what is missing, build, start a
#                                    local relay and partner, launch the app
#   build-aux/latchkey-dev.sh test   install what is missing, build, run the
#                                    whole suite headless, three times: a gcc
#                                    build, a clang AddressSanitizer +
#                                    UndefinedBehaviorSanitizer build, and a
#                                    build of the servers alone
#
# Both are idempotent and leave no process behind. Run them as root or as a
# user who may sudo: only apt-get is run through sudo.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

build_packages=(
  gcc g++ clang libclang-rt-14-dev llvm libc6-dev pkgconf meson ninja-build gettext
  libglib2.0-dev libglib2.0-dev-bin libgtk-4-dev libadwaita-1-dev libsoup-3.0-dev
  libsecret-1-dev libjson-glib-dev libsimdjson-dev libgnutls28-dev libqrencode-dev libzbar-dev libgdk-pixbuf-2.0-dev
  libsqlite3-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libmicrohttpd-dev libhiredis-dev libportal-gtk4-dev desktop-file-utils appstream libglib2.0-bin systemd
)
run_packages=(
  dbus gnome-keyring glib-networking librsvg2-common libgl1-mesa-dri
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-pipewire
)
test_packages=(
  xvfb xauth weston mutter dbus gnome-keyring libsecret-tools glib-networking libgl1-mesa-dri
  librsvg2-common openssl curl zbar-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  python3-gi python3-dogtail python3-pyatspi gir1.2-atspi-2.0 at-spi2-core x11-utils
  flatpak-builder nginx redis-server redis-tools
)

install_missing() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "Installing: ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# meson setup only once; later runs let ninja reconfigure as needed.
setup() {
  local dir=$1; shift
  if [ ! -f "$dir/meson-private/coredata.dat" ]; then
    rm -rf "$dir"
    meson setup "$dir" "$@"
  fi
  meson compile -C "$dir"
}

# Starts a service from the build on loopback and sets service_url once it
# serves. Not in a subshell, so that the EXIT trap knows its PID.
start_service() {
  local binary=$1 data=$2 fifo line
  shift 2
  mkdir -p "$data"
  fifo=$(mktemp -u "${TMPDIR:-/tmp}/latchkey-dev.XXXXXX")
  mkfifo "$fifo"
  "$binary" --port 0 --data-dir "$data" "$@" >"$fifo" &
  service_pids+=($!)
  read -r line <"$fifo"
  rm -f "$fifo"
  service_url=${line##* }
}

cmd_run() {
  install_missing "${build_packages[@]}" "${run_packages[@]}"
  setup _build

  service_pids=()
  trap 'kill "${service_pids[@]}" 2>/dev/null; wait' EXIT
  start_service _build/src/relay/latchkey-relay _build/dev-data/relay
  export LATCHKEY_RELAY_URL=$service_url
  start_service _build/src/partner/latchkey-partner _build/dev-data/partner
  export LATCHKEY_PARTNER_URL=$service_url
  echo "Relay: $LATCHKEY_RELAY_URL  Partner: $LATCHKEY_PARTNER_URL" >&2

  export GSETTINGS_SCHEMA_DIR="$here/_build/data"
  "$here/_build/src/app/latchkey" "$@"
}

cmd_test() {
  install_missing "${build_packages[@]}" "${test_packages[@]}"
  local jobs rc=0
  jobs=$(nproc)

  # The benchmarks are built (not run) too, so that a change that breaks
  # build-aux/bench-*.sh fails here rather than when someone measures.
  setup _build -Dbenchmarks=true
  CC=clang CXX=clang++ setup _build-sanitize -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args='-fno-sanitize-recover=all -fno-omit-frame-pointer' \
    -Dcpp_args='-fno-sanitize-recover=all -fno-omit-frame-pointer'
  # What an operator builds (docs/architecture.md): the servers, without
  # GTK, libsoup, libsecret, zbar or qrencode; its layout test checks that.
  setup _build-servers -Dapp=false -Dcli=false -Dbenchmarks=true

  echo "== gcc build ==" >&2
  meson test -C _build --print-errorlogs --num-processes "$jobs" || rc=1

  echo "== clang ASan+UBSan build ==" >&2
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C _build-sanitize --print-errorlogs --num-processes "$jobs" || rc=1

  echo "== the servers alone (-Dapp=false -Dcli=false) ==" >&2
  meson test -C _build-servers --print-errorlogs --num-processes "$jobs" || rc=1

  [ $rc -eq 0 ] && echo "All tests passed in the three builds." >&2
  return $rc
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

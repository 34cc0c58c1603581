#!/bin/bash
# Runs a command in a private headless desktop session: its own Xvfb, its own
# D-Bus session bus, its own XDG directories and a real gnome-keyring with an
# unlocked "login" collection. Several can run at once without interfering.
#
#   build-aux/headless-session.sh COMMAND [ARG…]
#
# With LATCHKEY_HEADLESS_DISPLAY=wayland the display is a headless Weston
# compositor instead of Xvfb (GNOME runs on Wayland): GDK_BACKEND=wayland,
# no DISPLAY, so nothing can fall back to X11. With, in addition,
# LATCHKEY_HEADLESS_COMPOSITOR=mutter it is GNOME's own compositor, Mutter
# (`mutter --headless --wayland --no-x11`), started on the session's bus:
# tests that type keys without X (XTest) do it through its
# org.gnome.Mutter.RemoteDesktop interface (tests/ui/lkui.py).
#
# The exit status is the command's. Nothing is left running afterwards.
set -euo pipefail

# Stops a display server or compositor at the end of the session; never
# fails (see cleanup).
stop_server() {
  local pid=$1 status=0
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  wait "$pid" 2>/dev/null || status=$?
  # 143: ended by the SIGTERM just sent, as it should.
  if [ "$status" -ne 0 ] && [ "$status" -ne 143 ]; then
    echo "headless-session: the display server ended with status $status when stopped (ignored)" >&2
  fi
  return 0
}

if [ -z "${_LATCHKEY_HEADLESS_INNER:-}" ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-headless.XXXXXX")
  display_pid=
  # How the display server ends is not the command's result: one that
  # dies badly on SIGTERM (seen of Mutter: status 134) must neither change
  # the exit status nor, through set -e in this trap, skip the rm.
  cleanup() {
    stop_server "$display_pid"
    rm -rf "$tmp"
  }
  trap cleanup EXIT
  mkdir -m 700 "$tmp/run" "$tmp/data" "$tmp/config" "$tmp/cache"

  if [ "${LATCHKEY_HEADLESS_DISPLAY:-x11}" = wayland ] && [ "${LATCHKEY_HEADLESS_COMPOSITOR:-weston}" = mutter ]; then
    # Mutter needs the session bus (its RemoteDesktop and DisplayConfig
    # services live there), so it starts inside it, below.
    export XDG_RUNTIME_DIR="$tmp/run" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
           XDG_CACHE_HOME="$tmp/cache" GDK_BACKEND=wayland _LATCHKEY_HEADLESS_INNER=1 \
           _LATCHKEY_HEADLESS_MUTTER_LOG="$tmp/mutter.log"
    unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS
    rc=0
    dbus-run-session -- "$0" "$@" || rc=$?
    exit $rc
  elif [ "${LATCHKEY_HEADLESS_DISPLAY:-x11}" = wayland ]; then
    # Weston 10's headless backend, software rendering; the socket lives
    # in the session's own runtime directory, so parallel sessions never
    # meet. --idle-time=0: no screen blanking in a long test.
    XDG_RUNTIME_DIR="$tmp/run" weston --backend=headless-backend.so --socket=wayland-latchkey \
      --use-pixman --idle-time=0 --width=1280 --height=1024 >"$tmp/weston.log" 2>&1 &
    display_pid=$!
    for _ in $(seq 1200); do
      [ -S "$tmp/run/wayland-latchkey" ] && break
      kill -0 "$display_pid" 2>/dev/null || { cat "$tmp/weston.log" >&2; exit 1; }
      sleep 0.025
    done
    [ -S "$tmp/run/wayland-latchkey" ] || { echo "weston did not start" >&2; cat "$tmp/weston.log" >&2; exit 1; }
    export WAYLAND_DISPLAY=wayland-latchkey XDG_RUNTIME_DIR="$tmp/run" XDG_DATA_HOME="$tmp/data" \
           XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" \
           GDK_BACKEND=wayland _LATCHKEY_HEADLESS_INNER=1
    unset DISPLAY DBUS_SESSION_BUS_ADDRESS
    rc=0
    dbus-run-session -- "$0" "$@" || rc=$?
    exit $rc
  fi

  # -displayfd lets the server pick a free display itself; xvfb-run -a races
  # when tests start in parallel. Even so, with many servers starting at
  # once Xvfb has been seen to hang on a display another one took ("server
  # already running"), never printing its number: then it is stopped and
  # started again, up to three times.
  display=
  for attempt in 1 2 3; do
    exec {fd}<> <(:)
    Xvfb -displayfd "$fd" -screen 0 1280x1024x24 -nolisten tcp -nolisten unix \
         -auth /dev/null >"$tmp/xvfb.log" 2>&1 &
    display_pid=$!
    buf= part=
    # Generous: a loaded machine (parallel sanitizer builds) can take seconds.
    # A read that times out between the digits and the newline keeps what it
    # read in part: carry it over, or the display number is lost.
    for _ in $(seq 400); do
      if read -r -t 0.05 -u "$fd" part 2>/dev/null; then
        display=$buf$part
        [ -n "$display" ] && break
      fi
      buf+=$part
      part=
      kill -0 "$display_pid" 2>/dev/null || break
    done
    exec {fd}<&-
    [ -n "$display" ] && break
    echo "headless-session: Xvfb did not start (attempt $attempt):" >&2
    cat "$tmp/xvfb.log" >&2
    { kill "$display_pid" && wait "$display_pid"; } 2>/dev/null || true
    display_pid=
  done
  [ -n "$display" ] || { echo "Xvfb did not start" >&2; exit 1; }

  # Exported before dbus-run-session so that D-Bus-activated services (the
  # keyring, AT-SPI, dconf) see the same private directories.
  export DISPLAY=":$display" XDG_RUNTIME_DIR="$tmp/run" XDG_DATA_HOME="$tmp/data" \
         XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" \
         GDK_BACKEND=x11 _LATCHKEY_HEADLESS_INNER=1
  unset WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS
  rc=0
  dbus-run-session -- "$0" "$@" || rc=$?
  exit $rc
fi

# Inside the private bus. A fresh XDG_DATA_HOME means the login keyring is
# created here, with this password, unlocked: no prompt can appear.
printf '%s' "${LATCHKEY_TEST_KEYRING_PASSWORD:-latchkey-test}" |
  gnome-keyring-daemon --unlock --components=secrets >/dev/null

owned() {
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true
}
# The daemon forks; wait for its bus name (usually 10-60 ms).
for _ in $(seq 200); do owned org.freedesktop.secrets && break; sleep 0.025; done
gdbus call --session --dest org.freedesktop.secrets \
  --object-path /org/freedesktop/secrets/collection/login \
  --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked |
  grep -q false || { echo "headless-session: the login keyring is not unlocked" >&2; exit 1; }

if [ -z "${_LATCHKEY_HEADLESS_MUTTER_LOG:-}" ]; then
  exec "$@"
fi

# Mutter, headless, one virtual monitor, no Xwayland. Its socket is the
# event that it is up; its RemoteDesktop name the one that it takes input.
mutter --headless --wayland --no-x11 --virtual-monitor 1280x800 --wayland-display=wayland-latchkey \
  >"$_LATCHKEY_HEADLESS_MUTTER_LOG" 2>&1 &
mutter_pid=$!
stop_mutter() { stop_server "$mutter_pid"; }
trap stop_mutter EXIT
for _ in $(seq 1200); do
  [ -S "$XDG_RUNTIME_DIR/wayland-latchkey" ] && owned org.gnome.Mutter.RemoteDesktop && break
  kill -0 "$mutter_pid" 2>/dev/null || { cat "$_LATCHKEY_HEADLESS_MUTTER_LOG" >&2; exit 1; }
  sleep 0.025
done
[ -S "$XDG_RUNTIME_DIR/wayland-latchkey" ] ||
  { echo "mutter did not start" >&2; cat "$_LATCHKEY_HEADLESS_MUTTER_LOG" >&2; exit 1; }
export WAYLAND_DISPLAY=wayland-latchkey
unset _LATCHKEY_HEADLESS_MUTTER_LOG
rc=0
"$@" || rc=$?
exit $rc

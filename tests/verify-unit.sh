#!/bin/sh
# systemd-analyze verify exits 0 on unknown keys and other warnings: treat
# any message as a failure, so a misspelt hardening option cannot slip by.
set -eu
out=$(systemd-analyze verify --man=no "$@" 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
if [ -n "$out" ]; then
  printf '%s\n' "$out" >&2
  exit 1
fi

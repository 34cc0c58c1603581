#!/bin/sh
# Usage: verify-unit.sh UNIT...
#
# systemd-analyze verify exits 0 on unknown keys and other warnings: treat
# any message as a failure, so a misspelt hardening option cannot slip by.
#
# Then systemd's own rating of the sandbox, offline: an overall exposure
# above 1.0 (on systemd's 0-10 scale; both units score 0.9) fails, so that
# dropping a hardening option is noticed. Raise it here only for a reason
# written next to the option that needs it.
set -eu
max_exposure=10   # tenths: 1.0

out=$(systemd-analyze verify --man=no "$@" 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
if [ -n "$out" ]; then
  printf '%s\n' "$out" >&2
  exit 1
fi

for unit in "$@"; do
  if ! out=$(systemd-analyze security --offline=true --no-pager --threshold="$max_exposure" "$unit" 2>&1); then
    printf '%s\n' "$out" >&2
    printf '%s: the exposure is above %s tenths\n' "$unit" "$max_exposure" >&2
    exit 1
  fi
done

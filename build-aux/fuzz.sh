#!/bin/bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined)
# and runs each for a bounded time. Not part of the default test run.
#
#   build-aux/fuzz.sh [SECONDS-PER-TARGET] [TARGET…]
#
# Targets: json, share-link, message, relay-request. Crashes go to _build-fuzz/artifacts/
# and make the script exit non-zero. The growing corpus lives in _build-fuzz/corpus-*.
# The targets that read JSON get tests/fuzz/json.dict (comments, quotes, escapes,
# surrogates, nesting).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json share-link message relay-request)

if [ ! -f _build-fuzz/meson-private/coredata.dat ]; then
  rm -rf _build-fuzz
  CC=clang CXX=clang++ meson setup _build-fuzz -Dfuzzing=true -Dapp=false -Dcli=false -Dtests=false \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer' \
    -Dcpp_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer'
fi
meson compile -C _build-fuzz

mkdir -p _build-fuzz/artifacts
rc=0
for target in "${targets[@]}"; do
  corpus=_build-fuzz/corpus-$target
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  log=_build-fuzz/fuzz-$target.log
  dict=()
  case $target in
    json|message|relay-request) dict=(-dict=tests/fuzz/json.dict) ;;
  esac
  echo "== fuzz-$target for ${seconds}s ${dict[*]} ==" >&2
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "_build-fuzz/tests/fuzz/fuzz-$target" -max_total_time="$seconds" -print_final_stats=1 \
      -max_len=8192 -timeout=10 -rss_limit_mb=2048 "${dict[@]}" \
      -artifact_prefix=_build-fuzz/artifacts/"$target"- "$corpus" >"$log" 2>&1 || rc=1
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|SUMMARY|ERROR' "$log" >&2 || true
  echo "corpus: $(ls "$corpus" | wc -l) inputs" >&2
done

[ $rc -eq 0 ] && echo "No crashes." >&2
exit $rc

#!/bin/sh
# Checks that one translation is valid and covers the current sources.
#
# Usage: check-translation.sh LANG PO POT WORKDIR MSGFMT MSGMERGE MSGATTRIB [DESKTOP METAINFO]
#
# POT is the template made from the sources at build time. The .po is merged
# with it into WORKDIR (under the build directory; the .po itself is never
# written) and the check fails when a message of the template is untranslated
# or fuzzy there, listing each one. With DESKTOP and METAINFO, it also checks
# that the merged desktop file and metainfo carry the language.
set -u

if [ $# -ne 7 ] && [ $# -ne 9 ]; then
  echo "usage: $0 LANG PO POT WORKDIR MSGFMT MSGMERGE MSGATTRIB [DESKTOP METAINFO]" >&2
  exit 2
fi
lang=$1 po=$2 pot=$3 work=$4 msgfmt=$5 msgmerge=$6 msgattrib=$7
status=0

rm -rf "$work"
mkdir -p "$work" || exit 2

# The file as written: syntax, header, plural forms, formats, mnemonics.
if ! "$msgfmt" --check --check-accelerators=_ -o /dev/null "$po"; then
  echo "FAIL: $po does not pass msgfmt --check"
  status=1
fi

# The file against the current template.
if ! "$msgmerge" --quiet --previous -o "$work/merged.po" "$po" "$pot"; then
  echo "FAIL: msgmerge could not merge $po with $pot"
  exit 1
fi
"$msgattrib" --untranslated --no-obsolete -o "$work/untranslated.po" "$work/merged.po" || exit 2
"$msgattrib" --only-fuzzy --no-obsolete -o "$work/fuzzy.po" "$work/merged.po" || exit 2
untranslated=$(grep -c '^msgid ' "$work/untranslated.po" 2>/dev/null || true)
fuzzy=$(grep -c '^msgid ' "$work/fuzzy.po" 2>/dev/null || true)
# Each non-empty output also holds the header entry (its first paragraph).
[ "${untranslated:-0}" -gt 0 ] && untranslated=$((untranslated - 1))
[ "${fuzzy:-0}" -gt 0 ] && fuzzy=$((fuzzy - 1))

echo "$lang: $("$msgfmt" --statistics -o /dev/null "$work/merged.po" 2>&1)"
if [ "${untranslated:-0}" -gt 0 ]; then
  echo "FAIL: $untranslated message(s) of the current sources are not translated in $po:"
  awk 'BEGIN { RS = ""; ORS = "\n\n" } NR > 1' "$work/untranslated.po"
  status=1
fi
if [ "${fuzzy:-0}" -gt 0 ]; then
  echo "FAIL: $fuzzy message(s) changed in the sources and are fuzzy in $po:"
  awk 'BEGIN { RS = ""; ORS = "\n\n" } NR > 1' "$work/fuzzy.po"
  status=1
fi
if [ $status -ne 0 ]; then
  echo "Update the translation with: ninja -C <builddir> latchkey-update-po, then translate the messages above."
fi
if ! "$msgfmt" --check -o /dev/null "$work/merged.po"; then
  echo "FAIL: $po merged with the current template does not pass msgfmt --check"
  status=1
fi

if [ $# -eq 9 ]; then
  desktop=$8 metainfo=$9
  for key in Comment Keywords; do
    if ! grep -q "^$key\\[$lang\\]=" "$desktop"; then
      echo "FAIL: $desktop has no $key[$lang]"
      status=1
    fi
  done
  if ! grep -q "xml:lang=\"$lang\"" "$metainfo"; then
    echo "FAIL: $metainfo has nothing in $lang"
    status=1
  fi
fi

[ $status -eq 0 ] && echo "$lang: complete"
exit $status

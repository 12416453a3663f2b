#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a test on Mesa 25's lavapipe, unpacked by scripts/fetch-mesa25.sh into
# a project folder (never installed: Debian 12's Mesa 22.3.6 stays the system
# driver). Label mesa25 (ctest -L mesa25).
#
#   run_with_mesa25.sh <mesa25 folder> [--preload <lib>] [--gtest] <command...>
#
# Without the folder the test is skipped (exit 77) with the reason, so a
# developer build works without it; with KMT_REQUIRE_MESA25=1 (CI) a missing
# folder fails the test instead, so CI cannot pass by skipping.
# --preload  adds <lib> to LD_PRELOAD (the madvise shim)
# --gtest    the command is a GoogleTest program: it must also report at least
#            one passed test (a filter that matches nothing is a failure)
set -uo pipefail
dir="$1"
shift
preload="" gtest=0
while [ $# -gt 0 ]; do
  case "$1" in
    --preload) preload="$2"; shift 2 ;;
    --gtest) gtest=1; shift ;;
    *) break ;;
  esac
done

icd="$dir/lvp_icd.json"
lib="$(sed -n 's/.*"library_path": *"\([^"]*\)".*/\1/p' "$icd" 2>/dev/null)"
if [ ! -f "$icd" ] || [ ! -f "$lib" ]; then
  reason="Mesa 25 lavapipe not found in $dir (scripts/fetch-mesa25.sh unpacks it; scripts/install-deps.sh runs that)"
  if [ "${KMT_REQUIRE_MESA25:-0}" = 1 ]; then
    echo "FAIL: $reason, and KMT_REQUIRE_MESA25=1 (CI) requires it"
    exit 1
  fi
  echo "SKIPPED: $reason"
  exit 77
fi

export KMT_TEST_ICD="$icd" VK_DRIVER_FILES="$icd"
export LD_LIBRARY_PATH="$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# KMT_PRELOAD_FIRST: a sanitizer runtime that must come before the shim.
[ -n "$preload" ] && export LD_PRELOAD="${KMT_PRELOAD_FIRST:+$KMT_PRELOAD_FIRST:}$preload${LD_PRELOAD:+:$LD_PRELOAD}"
echo "driver: $(grep mesa-vulkan-drivers "$dir/VERSION" 2>/dev/null) ($icd)"

if [ "$gtest" = 0 ]; then
  exec "$@"
fi
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || exit "$rc"
if ! grep -Eq '^\[  PASSED  \] [1-9][0-9]* tests?\.' "$out"; then
  echo "FAIL: no test ran (check the --gtest_filter)"
  exit 1
fi

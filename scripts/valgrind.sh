#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# valgrind memcheck over a subset of the tests: every unit test, the fuzz
# harness on its corpus plus some random inputs, and end-to-end tests that
# cover the layer's main paths through the real loader, validation, the test
# driver and lavapipe (round trip, GPU discard fill, and device creation,
# memory allocation, binding and a deferred offer failing at every host
# allocation, i.e. the error paths), and the trace and the messages (names,
# LOG_FILE, STATS) of a known sequence. Any memcheck error or leak
# (definite/possible) fails the run.
# The only suppression is tests/valgrind.supp (glibc's is_dst false
# positive, shared/reference/LOADER-NOTES.md).
#
#   scripts/valgrind.sh [BUILD_DIR]     (default: build; a build without sanitizers)
#
# Environment: KMT_VALGRIND_E2E_FILTER replaces the end-to-end --gtest_filter.
# About 75 s on 2 cores; each end-to-end test costs ~6 s under valgrind
# (loading validation and LLVM), so the subset stays small.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
for t in tests/kmt_unit_tests tests/fuzz/kmt_fuzz_offer_replay tests/kmt_e2e_tests; do
    [[ -x $BUILD_DIR/$t ]] || { echo "valgrind.sh: $BUILD_DIR/$t missing: build the tree first" >&2; exit 2; }
done
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }

E2E_FILTER=${KMT_VALGRIND_E2E_FILTER:-'Smoke.*:GpuFill.ReplacesTheBytesOfDeviceOnlyMemoryAfterTheAppsEarlierWork:FailureInjection.CreateDeviceFailsCleanlyOrWorksAtEveryN:FailureInjection.AllocateMemoryIsAllOrNothingAtEveryN:FailureInjection.BindBufferMemoryIsAllOrNothingAtEveryN:FailureInjection.DeferredOfferStillWaitsForEarlierWorkAtEveryN:Trace.HoldsEveryStateChangeOfAKnownSequenceWithItsReasonFencesAndCounters:LogFile.GetsEveryMessageAlsoWhenAMessengerTakesThem'}
VG=(valgrind --tool=memcheck --error-exitcode=1 --leak-check=full --num-callers=40
    --suppressions=tests/valgrind.supp --gen-suppressions=all -q)

start=$(date +%s)
step() {
    local name=$1; shift
    local t0=$(date +%s)
    echo "=== valgrind: $name"
    "${VG[@]}" "$@"
    echo "=== valgrind: $name clean ($(( $(date +%s) - t0 )) s)"
}
step "unit tests" "$BUILD_DIR/tests/kmt_unit_tests" --gtest_brief=1
step "fuzz harness (corpus + 300 random inputs)" \
    "$BUILD_DIR/tests/fuzz/kmt_fuzz_offer_replay" -runs=300 -seed=11 tests/fuzz/corpus
step "end-to-end subset" "$BUILD_DIR/tests/kmt_e2e_tests" --gtest_brief=1 "--gtest_filter=$E2E_FILTER"
echo "=== valgrind: all clean in $(( $(date +%s) - start )) s"

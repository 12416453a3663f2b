#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One command for a fresh Debian 12 machine: install the packages, build, and
# watch the layer work. The streaming sample (samples/streaming.c) runs
# through the layer on lavapipe, loaded implicitly from the build tree
# (nothing is installed system-wide): a level's textures are offered, the
# next level is loaded over a 64 MiB budget, and the pressure policy
# decommits and discards offered textures, LOW before NORMAL before HIGH;
# walking back, the reclaims report NOT_COMMITTED, DISCARDED and OK. The
# sample prints a table; the layer writes a trace of every state change
# (VK_KMT_OFFER_RECLAIM_TRACE) and tools/kmt-plot draws it.
#
# Environment:
#   KMT_DEMO_SKIP_INSTALL=1   do not run scripts/install-deps.sh (packages already there)
#   KMT_DEMO_OUT=<dir>        where the trace and the plot go (default: build/demo)
#   VK_KMT_OFFER_RECLAIM_*    any layer setting (e.g. BUDGET_MB=128, LOG_LEVEL=verbose)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [[ "${KMT_DEMO_SKIP_INSTALL:-0}" != 1 ]]; then
  bash scripts/install-deps.sh
fi
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake --preset default
fi
cmake --build build --target VkLayer_kmt_offer_reclaim streaming

OUT=${KMT_DEMO_OUT:-$ROOT/build/demo}
mkdir -p "$OUT"
TRACE="$OUT/streaming-trace.json"
PLOT="$OUT/streaming-heap0.png"
rm -f "$TRACE" "$PLOT"

echo
echo "=== samples/streaming through VK_LAYER_KMT_offer_reclaim (lavapipe, DISCARD=pressure, 64 MiB budget)"
echo
XDG_DATA_HOME="$ROOT/build/vkdata/implicit" VK_KMT_OFFER_RECLAIM_ENABLE=1 \
VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json NODEVICE_SELECT=1 \
VK_KMT_OFFER_RECLAIM_TRACE="$TRACE" \
  ./build/samples/streaming

echo
echo "=== the trace, drawn"
/usr/bin/python3 tools/kmt-plot "$TRACE" -o "$PLOT" \
  --title "samples/streaming on lavapipe: DISCARD=pressure, ${VK_KMT_OFFER_RECLAIM_BUDGET_MB:-64} MiB budget" >/dev/null
cat <<EOF
trace: $TRACE
       (open it in https://ui.perfetto.dev or chrome://tracing: a span per offer/reclaim call,
        an instant per state change with its reason, the fills, counter tracks per heap)
plot:  $PLOT
       (bytes resident / offered / discarded / decommitted over time against the budget;
        tools/kmt-plot <trace> draws any trace)
more:  VK_KMT_OFFER_RECLAIM_LOG_LEVEL=verbose says why each change happened, as messages.
EOF

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One command for a fresh Debian 12 machine: install the packages, build, and
# run the offer_reclaim sample through the layer, loaded implicitly from the
# build tree (nothing is installed system-wide).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset default
cmake --build --preset default
XDG_DATA_HOME="$PWD/build/vkdata/implicit" VK_KMT_OFFER_RECLAIM_ENABLE=1 \
VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json \
  ./build/samples/offer_reclaim

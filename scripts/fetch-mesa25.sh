#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unpacks Mesa 25's lavapipe from Debian's bookworm-backports into a project
# folder (default: .deps/mesa25), with an ICD manifest whose library_path is
# absolute. Nothing is installed: Debian 12's own Mesa 22.3.6 stays the
# system's driver (the driver without pageable memory), and Mesa 25 (with
# VK_EXT_memory_priority, VK_EXT_pageable_device_local_memory and
# VK_EXT_memory_budget; a priority below 0.3 becomes madvise(MADV_COLD), 0.6 and
# above MADV_WILLNEED) is used only by the tests labelled mesa25 (README
# "Decisions": two lavapipes on one CI machine).
#
#   scripts/fetch-mesa25.sh [folder]
#
# Needs the bookworm-backports suite in apt's sources (scripts/install-deps.sh
# adds it) and runs as any user: `apt-get download` only fetches the .debs.
# Afterwards:
#   <folder>/lvp_icd.json   VK_DRIVER_FILES (or KMT_TEST_ICD) for Mesa 25's lavapipe
#   <folder>/lib            LD_LIBRARY_PATH (its libdrm, newer than Debian 12's)
#   <folder>/VERSION        the package versions unpacked
set -euo pipefail
root_dir="$(cd "$(dirname "$0")/.." && pwd)"
dest="$(realpath -m "${1:-$root_dir/.deps/mesa25}")" # absolute: the ICD manifest names it
suite=bookworm-backports
# The driver and the libraries its package depends on at versions newer than
# Debian 12's (libdrm >= 2.4.121); everything else it needs is in Debian 12.
packages=(mesa-vulkan-drivers libdrm2 libdrm-amdgpu1)
arch_dir=x86_64-linux-gnu

if [[ "$(apt-cache policy mesa-vulkan-drivers)" != *"$suite"* ]]; then
  echo "fetch-mesa25: apt knows no $suite suite; run scripts/install-deps.sh (it adds the suite)" >&2
  exit 1
fi

# Already unpacked at the suite's current version: nothing to do.
want="$(apt-cache madison mesa-vulkan-drivers | awk -F'|' -v s="$suite" '!done && $3 ~ s {gsub(/ /, "", $2); print $2; done = 1}')"
if [ -f "$dest/lvp_icd.json" ] && grep -qx "mesa-vulkan-drivers $want" "$dest/VERSION" 2>/dev/null; then
  echo "fetch-mesa25: mesa-vulkan-drivers $want already in $dest"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # apt's _apt user writes the downloads here when run as root
(cd "$work" && apt-get download -q "${packages[@]/%//$suite}")

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp/root"
: > "$dest.tmp/VERSION"
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$dest.tmp/root"
  dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >> "$dest.tmp/VERSION"
done
lib="$dest/root/usr/lib/$arch_dir"
ln -s "root/usr/lib/$arch_dir" "$dest.tmp/lib"
api_version="$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$dest.tmp/root/usr/share/vulkan/icd.d/lvp_icd.json")"
cat > "$dest.tmp/lvp_icd.json" <<EOF
{
    "file_format_version": "1.0.0",
    "ICD": {
        "library_path": "$lib/libvulkan_lvp.so",
        "api_version": "$api_version"
    }
}
EOF
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch-mesa25: $(grep mesa-vulkan-drivers "$dest/VERSION") in $dest (ICD $dest/lvp_icd.json, API $api_version)"

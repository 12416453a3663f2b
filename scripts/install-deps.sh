#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages the project builds and tests with.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# apt-get update exits 100 when one index is caught mid-sync on the mirror
# ("File has unexpected size ... Mirror sync in progress?"): CI once failed on
# that after 3 s. Retry with a pause; if an index still fails, go on with the
# lists apt did get (it says which it ignored) and let apt-get install be the
# judge: it fails clearly if a package we name is really unavailable.
apt_update() {
  local try
  for try in 1 2 3 4; do
    if $SUDO apt-get -o Acquire::Retries=3 update; then return 0; fi
    echo "install-deps: apt-get update failed (try $try of 4); retrying in $((try * 15)) s" >&2
    sleep $((try * 15))
  done
  echo "install-deps: apt-get update still reports failed indexes; continuing with the lists it fetched" >&2
}
# --- i386 multiarch (the 32-bit layer build; packages installed below) ---
# dpkg must know the architecture before apt-get update fetches its lists.
$SUDO dpkg --add-architecture i386
# --- end i386 multiarch ---
apt_update
$SUDO apt-get install -y --no-install-recommends \
  build-essential cmake pkg-config clang libclang-rt-14-dev valgrind python3 \
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-validationlayers-dev vulkan-tools \
  libgtest-dev libbenchmark-dev nlohmann-json3-dev python3-matplotlib \
  xvfb xauth vkd3d-demos mesa-utils xdotool

# ---- Mesa 25's lavapipe for the mesa25 tests (a real pageable driver) -------
# Debian's bookworm-backports suite is added to apt's sources at its default
# priority (100: nothing installs from it unless asked by name), and Mesa 25 is
# only unpacked into .deps/mesa25 (scripts/fetch-mesa25.sh), never installed:
# Debian 12's Mesa 22.3.6 stays the system driver (README "Decisions").
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf '%s\n' "Types: deb" "URIs: http://deb.debian.org/debian" "Suites: bookworm-backports" "Components: main" \
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
    $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources > /dev/null
  apt_update
fi
bash "$(dirname "$0")/fetch-mesa25.sh"
# --- i386: the 32-bit layer, built and checked in CI, never run there (the
# kernel cannot execute 32-bit programs): the multilib compilers and the i386
# Vulkan loader and validation-layer utilities it links. Checked on Debian 12
# with apt-get -s: they install beside the amd64 set above (Multi-Arch: same,
# same versions) and remove or replace nothing. Running the i386 tests on a
# machine that can needs mesa-vulkan-drivers:i386 libgtest-dev:i386
# libbenchmark-dev:i386 too (README, "32-bit"); set KMT_I386_TESTS=1 for them.
$SUDO apt-get install -y --no-install-recommends \
  gcc-multilib g++-multilib libvulkan-dev:i386 vulkan-validationlayers-dev:i386
if [ "${KMT_I386_TESTS:-0}" = 1 ]; then
  $SUDO apt-get install -y --no-install-recommends \
    mesa-vulkan-drivers:i386 libgtest-dev:i386 libbenchmark-dev:i386
fi
# --- end i386 ---

#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds and tests with.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# --- i386 multiarch (the 32-bit layer build; packages installed below) ---
# dpkg must know the architecture before apt-get update fetches its lists.
$SUDO dpkg --add-architecture i386
# --- end i386 multiarch ---
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  build-essential cmake pkg-config clang libclang-rt-14-dev valgrind \
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-validationlayers-dev vulkan-tools \
  libgtest-dev libbenchmark-dev \
  xvfb xauth vkd3d-demos mesa-utils xdotool

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

#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds and tests with.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  build-essential cmake pkg-config clang libclang-rt-14-dev valgrind \
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-validationlayers-dev vulkan-tools \
  libgtest-dev libbenchmark-dev nlohmann-json3-dev python3-matplotlib \
  xvfb xauth vkd3d-demos mesa-utils xdotool

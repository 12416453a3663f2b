#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds and tests with.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  build-essential cmake pkg-config clang libclang-rt-14-dev valgrind python3 \
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-validationlayers-dev vulkan-tools \
  libgtest-dev libbenchmark-dev \
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
  $SUDO apt-get update
fi
bash "$(dirname "$0")/fetch-mesa25.sh"

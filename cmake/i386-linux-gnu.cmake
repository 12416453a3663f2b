# SPDX-License-Identifier: MIT
# Toolchain for a 32-bit x86 (i386) build on a 64-bit Debian machine with
# multiarch: gcc-multilib / g++-multilib compile with -m32, and the i386
# packages (libvulkan-dev:i386, vulkan-validationlayers-dev:i386) live in
# /usr/lib/i386-linux-gnu. Used by the i386 preset (CMakePresets.json).
# CMAKE_SYSTEM_NAME makes CMake treat the build as a cross build: the build
# machine may be unable to run its programs (kernels without IA32 emulation).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_CXX_COMPILER g++)
set(CMAKE_C_FLAGS_INIT "-m32")
set(CMAKE_CXX_FLAGS_INIT "-m32")
# Debian's triplet: find_library looks in /usr/lib/i386-linux-gnu first, and
# cmake/KmtInstallDirs.cmake installs the layer to lib/i386-linux-gnu, where
# glibc's $LIB points in a 32-bit process.
set(CMAKE_LIBRARY_ARCHITECTURE i386-linux-gnu)

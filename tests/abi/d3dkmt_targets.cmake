# SPDX-License-Identifier: MIT
# abi.d3dkmt_targets: compiles d3dkmt_layout.c (C11) and d3dkmt_layout.cpp
# (C++17) with clang for targets this machine cannot run, -fsyntax-only: the
# static asserts in vk_kmt/d3dkmt.h and in the two files then check the WDK
# layouts and tag names on each. -ffreestanding keeps clang on its own
# <stddef.h> / <stdint.h>, so no C library of the target is needed; the
# Vulkan headers come through a folder that holds only them.
#   CLANG SOURCE_DIR VULKAN_INCLUDE_DIR WORK_DIR
cmake_minimum_required(VERSION 3.25)
if(NOT CLANG)
  message(STATUS "clang not found: cross-target layout checks skipped")
  return() # SKIP_REGULAR_EXPRESSION matches the line above
endif()

# Target triple -> the layout it must have (for the log; the asserts decide).
set(targets
  "x86_64-linux-gnu=x64"
  "i686-linux-gnu=x64 (WDK fixed D3DKMT_PTR outside Windows)"
  "aarch64-linux-gnu=x64"
  "arm-linux-gnueabihf=x64 (WDK fixed D3DKMT_PTR outside Windows)"
  "x86_64-pc-windows-msvc=x64"
  "i686-pc-windows-msvc=x86 (natural pointers, WOW64)"
  "i686-w64-windows-gnu=x86 (MinGW)")

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/include")
foreach(dir vulkan vk_video)
  if(EXISTS "${VULKAN_INCLUDE_DIR}/${dir}")
    file(CREATE_LINK "${VULKAN_INCLUDE_DIR}/${dir}" "${WORK_DIR}/include/${dir}" SYMBOLIC)
  endif()
endforeach()

set(failures "")
foreach(entry IN LISTS targets)
  string(REGEX MATCH "^([^=]+)=(.*)$" m "${entry}")
  set(triple "${CMAKE_MATCH_1}")
  set(layout "${CMAKE_MATCH_2}")
  foreach(lang c c++)
    if(lang STREQUAL "c")
      set(std -std=c11)
      set(file "${SOURCE_DIR}/tests/abi/d3dkmt_layout.c")
    else()
      set(std -std=c++17)
      set(file "${SOURCE_DIR}/tests/abi/d3dkmt_layout.cpp")
    endif()
    execute_process(
      COMMAND "${CLANG}" --target=${triple} -ffreestanding -x ${lang} ${std} -fsyntax-only
              -Wall -Wextra -Werror -I${SOURCE_DIR}/include -I${WORK_DIR}/include "${file}"
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(rc EQUAL 0)
      message(STATUS "${triple} (${lang}): WDK layout ${layout}: OK")
    else()
      list(APPEND failures "${triple} (${lang}):\n${out}")
    endif()
  endforeach()
endforeach()
if(failures)
  list(JOIN failures "\n" text)
  message(FATAL_ERROR "vk_kmt/d3dkmt.h does not match the WDK on:\n${text}")
endif()

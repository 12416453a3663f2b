# SPDX-License-Identifier: MIT
# docs/SETTINGS.md (committed, read on the web) must equal what
# kmt_settings_gen writes from KMT_SETTINGS now.   GENERATED SOURCE
cmake_minimum_required(VERSION 3.25)
file(READ "${GENERATED}" want)
if(EXISTS "${SOURCE}")
  file(READ "${SOURCE}" have)
else()
  set(have "")
endif()
if(NOT want STREQUAL have)
  message(FATAL_ERROR "${SOURCE} is out of date with KMT_SETTINGS (layer/settings.h).\n"
                      "Refresh it: cmake --build <build> --target kmt_update_settings_docs")
endif()
message(STATUS "${SOURCE} is up to date")

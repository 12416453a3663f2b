# SPDX-License-Identifier: MIT
# Every source file of the tree carries the license line (the MIT SPDX
# identifier, see `tag` below) in its first three lines (after a #! line):
# C and C++ sources and headers,
# generated .inc fragments, linker version scripts, CMake files, shell
# scripts, Python. JSON (manifests, presets), Markdown and data files have no
# comment syntax or are not code, and are left alone.
#
#   cmake -DSOURCE_DIR=<tree> -DMODE=check -P tests/install/spdx.cmake   (ctest: install.spdx)
#   cmake -DSOURCE_DIR=<tree> -DMODE=fix   -P tests/install/spdx.cmake   (adds the line where missing)
#
# fix inserts one comment line in the file's own syntax, first (or right
# after a #! line), and changes nothing else: run it after merging branches
# that add files.
cmake_minimum_required(VERSION 3.25)
if(NOT MODE MATCHES "^(check|fix)$")
  message(FATAL_ERROR "MODE must be check or fix")
endif()
get_filename_component(SOURCE_DIR "${SOURCE_DIR}" ABSOLUTE)

file(GLOB_RECURSE candidates RELATIVE "${SOURCE_DIR}"
     "${SOURCE_DIR}/*.c" "${SOURCE_DIR}/*.h" "${SOURCE_DIR}/*.inc"
     "${SOURCE_DIR}/*.cpp" "${SOURCE_DIR}/*.hpp"
     "${SOURCE_DIR}/*.map"
     "${SOURCE_DIR}/*.cmake" "${SOURCE_DIR}/*.cmake.in" "${SOURCE_DIR}/*CMakeLists.txt"
     "${SOURCE_DIR}/*.sh" "${SOURCE_DIR}/*.py" "${SOURCE_DIR}/.ci/run")
set(files "")
foreach(f IN LISTS candidates)
  # Build trees, hidden folders (.git, caches) and shared/ are not the source.
  if(f MATCHES "^(build[^/]*|shared|\\.[^/]+)/" AND NOT f MATCHES "^\\.ci/")
    continue()
  endif()
  if(f MATCHES "(^|/)CMakeFiles/|/_CPack_Packages/")
    continue()
  endif()
  list(APPEND files "${f}")
endforeach()

set(tag "SPDX-License-Identifier: MIT")
set(missing "")
set(fixed 0)
foreach(f IN LISTS files)
  set(path "${SOURCE_DIR}/${f}")
  file(STRINGS "${path}" head LIMIT_COUNT 3)
  string(FIND "${head}" "${tag}" at)
  if(NOT at EQUAL -1)
    continue()
  endif()
  if(MODE STREQUAL "check")
    list(APPEND missing "${f}")
    continue()
  endif()
  if(f MATCHES "\\.(c|h|inc|map)$")
    set(line "/* ${tag} */")
  elseif(f MATCHES "\\.(cpp|hpp)$")
    set(line "// ${tag}")
  else()
    set(line "# ${tag}")
  endif()
  file(READ "${path}" text)
  if(text MATCHES "^#!")
    string(FIND "${text}" "\n" eol)
    math(EXPR rest_at "${eol} + 1")
    string(SUBSTRING "${text}" 0 ${rest_at} shebang)
    string(SUBSTRING "${text}" ${rest_at} -1 rest)
    set(text "${shebang}${line}\n${rest}")
  else()
    set(text "${line}\n${text}")
  endif()
  file(WRITE "${path}" "${text}")
  math(EXPR fixed "${fixed} + 1")
endforeach()

list(LENGTH files n)
if(missing)
  list(LENGTH missing m)
  list(JOIN missing "\n  " text)
  message(FATAL_ERROR "${m} of ${n} source files lack '${tag}' in their first lines "
                      "(add it: cmake -DSOURCE_DIR=<tree> -DMODE=fix -P tests/install/spdx.cmake):\n  ${text}")
endif()
if(MODE STREQUAL "fix")
  message(STATUS "added '${tag}' to ${fixed} of ${n} source files")
else()
  message(STATUS "all ${n} source files carry '${tag}'")
endif()

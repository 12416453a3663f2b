# SPDX-License-Identifier: MIT
# kmt_settings_gen for a cross build (included from manifests/CMakeLists.txt
# instead of tools/): the build machine cannot run the target's programs (a
# kernel without 32-bit support cannot run the i386 build's), so the manifests
# and settings docs are written by the kmt_settings_gen of a native build of
# the same source. What it writes does not depend on the target ABI (the
# settings list is plain data), so the i386 manifests equal the 64-bit ones.
# Mirrors what tools/CMakeLists.txt defines for a native build.
set(KMT_HOST_BUILD_DIR "" CACHE PATH
    "A native build of this source (e.g. <source>/build); its tools/kmt_settings_gen runs for this cross build")
set(KMT_HOST_SETTINGS_GEN "${KMT_HOST_BUILD_DIR}/tools/kmt_settings_gen")
if(NOT KMT_HOST_BUILD_DIR OR NOT EXISTS "${KMT_HOST_SETTINGS_GEN}")
  message(FATAL_ERROR
    "A cross build runs the native kmt_settings_gen, not found at '${KMT_HOST_SETTINGS_GEN}'.\n"
    "Build it first (cmake --preset default && cmake --build --preset default --target kmt_settings_gen) "
    "and set KMT_HOST_BUILD_DIR to that build folder (the i386 preset uses <source>/build).")
endif()
add_executable(kmt_settings_gen IMPORTED GLOBAL)
set_target_properties(kmt_settings_gen PROPERTIES IMPORTED_LOCATION "${KMT_HOST_SETTINGS_GEN}")

set(KMT_SETTINGS_MD "${PROJECT_BINARY_DIR}/docs/SETTINGS.md" CACHE INTERNAL "")
set(KMT_SETTINGS_TXT "${PROJECT_BINARY_DIR}/docs/vk_layer_settings.txt" CACHE INTERNAL "")
add_custom_command(
  OUTPUT "${KMT_SETTINGS_MD}" "${KMT_SETTINGS_TXT}"
  COMMAND ${CMAKE_COMMAND} -E make_directory "${PROJECT_BINARY_DIR}/docs"
  COMMAND kmt_settings_gen markdown "${KMT_SETTINGS_MD}"
  COMMAND kmt_settings_gen settings-txt "${KMT_SETTINGS_TXT}"
  DEPENDS "${KMT_HOST_SETTINGS_GEN}"
  COMMENT "Writing docs/SETTINGS.md and vk_layer_settings.txt with the native kmt_settings_gen"
  VERBATIM)
add_custom_target(kmt_settings_docs ALL DEPENDS "${KMT_SETTINGS_MD}" "${KMT_SETTINGS_TXT}")

# SPDX-License-Identifier: MIT
# Helpers that write loader manifests. Build-tree copies carry an absolute
# library_path ($<TARGET_FILE:...>), installed copies a bare file name.
#
# Every manifest of the layer carries the settings description Vulkan
# Configurator reads ("features": {"settings": [...]}, manifest format 1.2.0),
# written from KMT_SETTINGS (layer/settings.h) by kmt_settings_gen
# (tools/kmt_settings_gen.c) at build time: the template's @KMT_FEATURES@
# survives configure_file and file(GENERATE) and is replaced by the tool.

set(KMT_MANIFEST_DIR "${PROJECT_SOURCE_DIR}/manifests")
set(KMT_IMPLICIT_ENV_BLOCK ",
        \"enable_environment\": { \"VK_KMT_OFFER_RECLAIM_ENABLE\": \"1\" },
        \"disable_environment\": { \"VK_KMT_OFFER_RECLAIM_DISABLE\": \"1\" }")

# kmt_layer_manifest(<output> <library path or genex> IMPLICIT|EXPLICIT)
# Adds a target (built by default, and before the layer) that writes <output>.
function(kmt_layer_manifest output library kind)
  set(KMT_LIBRARY_PATH "${library}")
  if(kind STREQUAL "IMPLICIT")
    set(KMT_ENV_BLOCK "${KMT_IMPLICIT_ENV_BLOCK}")
  else()
    set(KMT_ENV_BLOCK "")
  endif()
  set(KMT_FEATURES "@KMT_FEATURES@") # left for kmt_settings_gen
  get_filename_component(name "${output}" NAME)
  get_filename_component(dir "${output}" DIRECTORY)
  string(MD5 tag "${output}")
  set(stage "${CMAKE_CURRENT_BINARY_DIR}/manifest-stage/${kind}-${name}.${tag}")
  configure_file("${KMT_MANIFEST_DIR}/VkLayer_kmt_offer_reclaim.json.in" "${stage}.in" @ONLY)
  file(GENERATE OUTPUT "${stage}.json" INPUT "${stage}.in")
  file(MAKE_DIRECTORY "${dir}")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND kmt_settings_gen manifest "${stage}.json" "${output}"
    DEPENDS kmt_settings_gen "${stage}.json"
    COMMENT "Writing ${name} (${kind}) with the settings of KMT_SETTINGS"
    VERBATIM)
  string(SUBSTRING "${tag}" 0 10 short)
  add_custom_target(kmt_manifest_${short} ALL DEPENDS "${output}")
  # Whatever depends on the layer (the tests) finds its manifests written.
  if(TARGET VkLayer_kmt_offer_reclaim)
    add_dependencies(VkLayer_kmt_offer_reclaim kmt_manifest_${short})
  endif()
endfunction()

# kmt_meta_manifest(<output> <meta layer name> <component>...)
function(kmt_meta_manifest output name)
  set(KMT_META_NAME "${name}")
  list(TRANSFORM ARGN PREPEND "\"")
  list(TRANSFORM ARGN APPEND "\"")
  list(JOIN ARGN ", " KMT_META_COMPONENTS)
  configure_file("${KMT_MANIFEST_DIR}/VkLayer_kmt_meta.json.in" "${output}" @ONLY)
endfunction()

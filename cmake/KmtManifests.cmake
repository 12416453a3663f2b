# Helpers that write loader manifests. Build-tree copies carry an absolute
# library_path ($<TARGET_FILE:...>), installed copies a bare file name.

set(KMT_MANIFEST_DIR "${PROJECT_SOURCE_DIR}/manifests")
set(KMT_IMPLICIT_ENV_BLOCK ",
        \"enable_environment\": { \"VK_KMT_OFFER_RECLAIM_ENABLE\": \"1\" },
        \"disable_environment\": { \"VK_KMT_OFFER_RECLAIM_DISABLE\": \"1\" }")

# kmt_layer_manifest(<output> <library path or genex> IMPLICIT|EXPLICIT)
function(kmt_layer_manifest output library kind)
  set(KMT_LIBRARY_PATH "${library}")
  if(kind STREQUAL "IMPLICIT")
    set(KMT_ENV_BLOCK "${KMT_IMPLICIT_ENV_BLOCK}")
  else()
    set(KMT_ENV_BLOCK "")
  endif()
  get_filename_component(name "${output}" NAME)
  set(stage "${CMAKE_CURRENT_BINARY_DIR}/manifest-stage/${kind}-${name}")
  string(MD5 tag "${output}")
  configure_file("${KMT_MANIFEST_DIR}/VkLayer_kmt_offer_reclaim.json.in" "${stage}.${tag}" @ONLY)
  file(GENERATE OUTPUT "${output}" INPUT "${stage}.${tag}")
endfunction()

# kmt_meta_manifest(<output> <meta layer name> <component>...)
function(kmt_meta_manifest output name)
  set(KMT_META_NAME "${name}")
  list(TRANSFORM ARGN PREPEND "\"")
  list(TRANSFORM ARGN APPEND "\"")
  list(JOIN ARGN ", " KMT_META_COMPONENTS)
  configure_file("${KMT_MANIFEST_DIR}/VkLayer_kmt_meta.json.in" "${output}" @ONLY)
endfunction()

# SPDX-License-Identifier: MIT
# The install, end to end (tests/install/CMakeLists.txt passes the -D values):
#  1. cmake --install <build> --prefix <work>/prefix
#  2. every file is where it should be (the layer in its $LIB folder, the
#     implicit manifest naming it "<prefix>/$LIB/..." (or its absolute path
#     where $LIB is unknown), the parked explicit variant, headers identical to
#     the source, CMake package, pkg-config file, license, docs and the samples
#     they link to, every relative link of the installed docs resolving), both
#     manifests parse and list every setting;
#  3. the INSTALLED layer loads in a fresh process with no library path set
#     (XDG_DATA_DIRS=<prefix>/share:/usr/share, VK_KMT_OFFER_RECLAIM_ENABLE=1,
#     no LD_LIBRARY_PATH, no ldconfig): the consumer program sees
#     VK_KMT_offer_reclaim, enables it, and vkOfferAllocationsKMT is non-NULL
#     and lives in <prefix>/<layer libdir>/libVkLayer_...so; vulkaninfo's
#     loader log says the layer was inserted from the manifest's path; without
#     ENABLE the extension is absent; the explicit variant works by name;
#  4. a consumer project configures and builds against the installed package
#     with find_package(vk-offer-reclaim CONFIG) and with pkg-config;
#  5. DESTDIR staging (what packagers and CPack do) writes the final prefix,
#     not the staging folder, into the manifest.
#
#   BUILD_DIR SOURCE_DIR WORK_DIR GEN LVP_ICD VERSION LAYER_LIBDIR LIBRARY_STYLE
#   INCLUDEDIR DATADIR DOCDIR INSTALLED_DOCS PARKED_DIR MANIFEST_KIND PACKAGE
#   VULKANINFO (may be empty) PRELOAD (may be empty)
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/check_manifest.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/check_links.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/loader_check.cmake")

set(problems "")
macro(problem text)
  list(APPEND problems "${text}")
  message(STATUS "PROBLEM: ${text}")
endmacro()

# Runs a command; output in <out_var>, exit status in <out_var>_rc.
function(kmt_run out_var)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${out_var}_rc "${rc}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
file(MAKE_DIRECTORY "${WORK_DIR}/empty" "${WORK_DIR}/config" "${WORK_DIR}/runtime")
file(CHMOD "${WORK_DIR}/runtime" DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)

# ---- 1. install ----------------------------------------------------------------------
kmt_run(out "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
if(NOT out_rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${out_rc}):\n${out}")
endif()

# ---- 2. the files --------------------------------------------------------------------
if(MANIFEST_KIND STREQUAL "IMPLICIT")
  set(loader_manifest "${prefix}/${DATADIR}/vulkan/implicit_layer.d/VkLayer_kmt_offer_reclaim.json")
  set(parked_manifest "${prefix}/${PARKED_DIR}/explicit_layer.d/VkLayer_kmt_offer_reclaim.json")
  set(parked_kind EXPLICIT)
else()
  set(loader_manifest "${prefix}/${DATADIR}/vulkan/explicit_layer.d/VkLayer_kmt_offer_reclaim.json")
  set(parked_manifest "${prefix}/${PARKED_DIR}/implicit_layer.d/VkLayer_kmt_offer_reclaim.json")
  set(parked_kind IMPLICIT)
endif()
set(expected_files
  "${LAYER_LIBDIR}/libVkLayer_kmt_offer_reclaim.so"
  "${INCLUDEDIR}/vulkan/vk_kmt_offer_reclaim.h"
  "${INCLUDEDIR}/vk_kmt/d3dkmt.h"
  "${DATADIR}/pkgconfig/${PACKAGE}.pc"
  "${DATADIR}/cmake/${PACKAGE}/${PACKAGE}Config.cmake"
  "${DATADIR}/cmake/${PACKAGE}/${PACKAGE}ConfigVersion.cmake"
  "${DATADIR}/cmake/${PACKAGE}/${PACKAGE}Targets.cmake"
  "${DOCDIR}/LICENSE"
  "${DOCDIR}/docs/SETTINGS.md"
  "${DOCDIR}/vk_layer_settings.txt"
  "${DOCDIR}/samples/offer_reclaim.c")
foreach(doc IN LISTS INSTALLED_DOCS)
  list(APPEND expected_files "${DOCDIR}/${doc}")
endforeach()
foreach(f IN LISTS expected_files)
  if(NOT EXISTS "${prefix}/${f}")
    problem("not installed: ${f}")
  endif()
endforeach()
# Exactly one manifest where the loader looks (two would list the layer twice).
file(GLOB_RECURSE loader_manifests "${prefix}/${DATADIR}/vulkan/*.json")
if(NOT loader_manifests STREQUAL loader_manifest)
  problem("manifests in ${DATADIR}/vulkan: '${loader_manifests}', expected only '${loader_manifest}'")
endif()
foreach(h vulkan/vk_kmt_offer_reclaim.h vk_kmt/d3dkmt.h)
  file(SHA256 "${SOURCE_DIR}/include/${h}" want)
  file(SHA256 "${prefix}/${INCLUDEDIR}/${h}" got)
  if(NOT want STREQUAL got)
    problem("${INCLUDEDIR}/${h} differs from include/${h}")
  endif()
endforeach()
# The manifests name the library so that it loads from this prefix without a
# library path: through glibc's $LIB (one manifest for 32- and 64-bit), or by
# its absolute path where $LIB's expansion is unknown.
if(LIBRARY_STYLE STREQUAL "LIB_TOKEN")
  set(manifest_library "${prefix}/$LIB/libVkLayer_kmt_offer_reclaim.so")
else()
  set(manifest_library "${prefix}/${LAYER_LIBDIR}/libVkLayer_kmt_offer_reclaim.so")
endif()
kmt_settings_list("${GEN}" settings)
kmt_check_manifest("${loader_manifest}" "${MANIFEST_KIND}" "${manifest_library}" "${settings}" problems)
kmt_check_manifest("${parked_manifest}" "${parked_kind}" "${manifest_library}" "${settings}" problems)
file(READ "${prefix}/${DATADIR}/pkgconfig/${PACKAGE}.pc" pc)
if(NOT pc MATCHES "\nRequires: vulkan\n" OR NOT pc MATCHES "\nCflags: -I\\$\\{includedir\\}\n")
  problem("${PACKAGE}.pc lacks 'Requires: vulkan' or 'Cflags: -I\${includedir}':\n${pc}")
endif()
# Every relative link of the installed docs leads to an installed file.
file(GLOB_RECURSE installed_docs "${prefix}/${DOCDIR}/*.md")
kmt_check_markdown_links("${installed_docs}" problems)

# ---- 3. the installed layer in a fresh process ------------------------------------------
# Build the consumer first (4.), then run it under a loader environment made of
# the installed files only.
set(consumer_src "${SOURCE_DIR}/tests/install/consumer")
foreach(mode config pkgconfig)
  set(dir "${WORK_DIR}/consumer-${mode}")
  kmt_run(out "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${prefix}/${DATADIR}/pkgconfig" --unset=PKG_CONFIG_LIBDIR
          "${CMAKE_COMMAND}" -S "${consumer_src}" -B "${dir}" -DKMT_CONSUMER_MODE=${mode}
          "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  if(NOT out_rc EQUAL 0)
    problem("consumer (${mode}) does not configure:\n${out}")
    continue()
  endif()
  # The package found must be the one just installed, not a system-wide one.
  if(mode STREQUAL "config")
    string(REGEX MATCH "kmt-consumer: package at ([^,]*), version ([^\n]*)" m "${out}")
    file(REAL_PATH "${CMAKE_MATCH_1}" found)
    file(REAL_PATH "${prefix}/${DATADIR}/cmake/${PACKAGE}" want)
    if(NOT found STREQUAL want OR NOT CMAKE_MATCH_2 STREQUAL VERSION)
      problem("find_package found '${CMAKE_MATCH_1}' version '${CMAKE_MATCH_2}', expected ${want} ${VERSION}")
    endif()
  else()
    string(REGEX MATCH "kmt-consumer: pkg-config include dirs ([^,]*), version ([^\n]*)" m "${out}")
    file(REAL_PATH "${CMAKE_MATCH_1}" found)
    file(REAL_PATH "${prefix}/${INCLUDEDIR}" want)
    if(NOT found STREQUAL want OR NOT CMAKE_MATCH_2 STREQUAL VERSION)
      problem("pkg-config gave include dir '${CMAKE_MATCH_1}' version '${CMAKE_MATCH_2}', expected ${want} ${VERSION}")
    endif()
  endif()
  kmt_run(out "${CMAKE_COMMAND}" --build "${dir}")
  if(NOT out_rc EQUAL 0)
    problem("consumer (${mode}) does not build:\n${out}")
  endif()
endforeach()

set(clean_env
  --unset=VK_ICD_FILENAMES --unset=VK_ADD_DRIVER_FILES --unset=VK_LAYER_PATH --unset=VK_ADD_LAYER_PATH
  --unset=VK_INSTANCE_LAYERS --unset=VK_LOADER_LAYERS_ENABLE --unset=VK_LOADER_LAYERS_DISABLE
  --unset=VK_KMT_OFFER_RECLAIM_ENABLE --unset=VK_KMT_OFFER_RECLAIM_DISABLE --unset=VK_LAYER_SETTINGS_PATH
  --unset=LD_LIBRARY_PATH --unset=DISPLAY --unset=WAYLAND_DISPLAY
  "XDG_CONFIG_HOME=${WORK_DIR}/config" "XDG_RUNTIME_DIR=${WORK_DIR}/runtime" "VK_DRIVER_FILES=${LVP_ICD}"
  NODEVICE_SELECT=1)
if(PRELOAD)
  list(APPEND clean_env "LD_PRELOAD=${PRELOAD}" "ASAN_OPTIONS=detect_leaks=0")
endif()
set(consumer "${WORK_DIR}/consumer-config/kmt_consumer")
file(REAL_PATH "${prefix}/${LAYER_LIBDIR}/libVkLayer_kmt_offer_reclaim.so" installed_layer)

# 3a. The installed manifest, found as a user's would be (the prefix's share
# folder in XDG_DATA_DIRS, before the system's), enabled through its variable.
set(found "XDG_DATA_HOME=${WORK_DIR}/empty" "XDG_DATA_DIRS=${prefix}/${DATADIR}:/usr/share")
if(MANIFEST_KIND STREQUAL "IMPLICIT")
  set(enable ${found} VK_KMT_OFFER_RECLAIM_ENABLE=1)
  set(not_enabled ${found})
  set(by_name "XDG_DATA_HOME=${WORK_DIR}/empty" "XDG_DATA_DIRS=/usr/share"
      "VK_ADD_LAYER_PATH=${prefix}/${PARKED_DIR}/explicit_layer.d" VK_INSTANCE_LAYERS=VK_LAYER_KMT_offer_reclaim)
else()
  set(enable ${found} VK_INSTANCE_LAYERS=VK_LAYER_KMT_offer_reclaim)
  set(not_enabled ${found})
  set(by_name ${enable})
endif()
if(EXISTS "${consumer}")
  foreach(run enabled not_enabled by_name)
    if(run STREQUAL "enabled")
      set(vars ${enable})
    elseif(run STREQUAL "not_enabled")
      set(vars ${not_enabled})
    else()
      set(vars ${by_name})
    endif()
    kmt_run(out "${CMAKE_COMMAND}" -E env ${clean_env} ${vars} "${consumer}")
    message(STATUS "consumer, ${run}: exit ${out_rc}\n${out}")
    if(run STREQUAL "not_enabled")
      if(NOT out_rc EQUAL 2)
        problem("without VK_KMT_OFFER_RECLAIM_ENABLE the consumer should not see the extension (exit ${out_rc}):\n${out}")
      endif()
      continue()
    endif()
    string(REGEX MATCH "library: ([^\n]*)" m "${out}")
    set(library "${CMAKE_MATCH_1}")
    if(library)
      file(REAL_PATH "${library}" library)
    endif()
    if(NOT out_rc EQUAL 0 OR NOT library STREQUAL installed_layer)
      problem("${run}: the consumer should find VK_KMT_offer_reclaim in ${installed_layer} (exit ${out_rc}, library '${library}'):\n${out}")
    endif()
  endforeach()
endif()

set(pkg_consumer "${WORK_DIR}/consumer-pkgconfig/kmt_consumer")
if(EXISTS "${pkg_consumer}")
  kmt_run(out "${CMAKE_COMMAND}" -E env ${clean_env} ${enable} "${pkg_consumer}")
  if(NOT out_rc EQUAL 0)
    problem("the pkg-config consumer fails with the installed layer (exit ${out_rc}):\n${out}")
  endif()
endif()

# 3b. vulkaninfo, an app nobody here wrote: the loader's own log shows the
# layer inserted from the manifest's library_path.
if(VULKANINFO)
  kmt_vulkaninfo_loads_layer("${VULKANINFO}" "${manifest_library}" "${WORK_DIR}/vulkaninfo.txt" problems
                             ${clean_env} ${enable})
endif()

# ---- 5. DESTDIR staging ----------------------------------------------------------------
set(stage "${WORK_DIR}/stage")
set(final_prefix "/opt/${PACKAGE}")
kmt_run(out "${CMAKE_COMMAND}" -E env "DESTDIR=${stage}" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${final_prefix}")
if(NOT out_rc EQUAL 0)
  problem("DESTDIR=${stage} cmake --install --prefix ${final_prefix} failed:\n${out}")
else()
  string(REPLACE "${prefix}" "${final_prefix}" staged_library "${manifest_library}")
  string(REPLACE "${prefix}" "${stage}${final_prefix}" staged_manifest "${loader_manifest}")
  kmt_check_manifest("${staged_manifest}" "${MANIFEST_KIND}" "${staged_library}" "${settings}" problems)
  if(NOT EXISTS "${stage}${final_prefix}/${LAYER_LIBDIR}/libVkLayer_kmt_offer_reclaim.so")
    problem("DESTDIR staging: no ${stage}${final_prefix}/${LAYER_LIBDIR}/libVkLayer_kmt_offer_reclaim.so")
  endif()
endif()

list(FILTER problems EXCLUDE REGEX "^$")
if(problems)
  list(LENGTH problems n)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "install test: ${n} problem(s):\n  ${text}")
endif()
message(STATUS "install test passed: ${prefix}")

# SPDX-License-Identifier: MIT
# abi.multilib_install (i386 preset): the native (64-bit) and the cross
# (32-bit) build installed to ONE prefix, as a distribution's two
# architectures of the package would be:
#  1. each build's layer lands in its own $LIB folder (lib/x86_64-linux-gnu,
#     lib/i386-linux-gnu), with the ELF class of its ABI;
#  2. both installs write the same manifest, byte for byte: one manifest, in
#     share/vulkan/implicit_layer.d, names "<prefix>/$LIB/libVkLayer_kmt_offer_reclaim.so";
#  3. a 64-bit vulkaninfo run with XDG_DATA_DIRS=<prefix>/share:/usr/share,
#     VK_KMT_OFFER_RECLAIM_ENABLE=1 and no LD_LIBRARY_PATH loads the 64-bit
#     layer through it. (A 32-bit process cannot run on this machine; that
#     $LIB reaches lib/i386-linux-gnu there is glibc's rule, which step 1
#     matches.)
#   HOST_BUILD_DIR CROSS_BUILD_DIR CROSS_LIBDIR DATADIR READELF VULKANINFO LVP_ICD WORK_DIR
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/../install/loader_check.cmake")
load_cache("${HOST_BUILD_DIR}" READ_WITH_PREFIX host_ KMT_LAYER_INSTALL_LIBDIR KMT_LAYER_MANIFEST)

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(manifest "${prefix}/${DATADIR}/vulkan/implicit_layer.d/VkLayer_kmt_offer_reclaim.json")
set(problems "")

foreach(build host cross)
  if(build STREQUAL "host")
    set(dir "${HOST_BUILD_DIR}")
  else()
    set(dir "${CROSS_BUILD_DIR}")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --install "${dir}" --prefix "${prefix}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake --install ${dir} failed:\n${out}")
  endif()
  if(NOT EXISTS "${manifest}")
    message(FATAL_ERROR "${build} build installed no ${manifest} (KMT_LAYER_MANIFEST=${host_KMT_LAYER_MANIFEST}?)")
  endif()
  file(READ "${manifest}" manifest_${build})
endforeach()

# 1. One layer per ABI, each in its $LIB folder.
foreach(pair "${host_KMT_LAYER_INSTALL_LIBDIR}=ELF64" "${CROSS_LIBDIR}=ELF32")
  string(REGEX MATCH "^(.*)=(.*)$" m "${pair}")
  set(lib "${prefix}/${CMAKE_MATCH_1}/libVkLayer_kmt_offer_reclaim.so")
  set(class "${CMAKE_MATCH_2}")
  if(NOT EXISTS "${lib}")
    list(APPEND problems "not installed: ${lib}")
    continue()
  endif()
  execute_process(COMMAND "${READELF}" -h "${lib}" OUTPUT_VARIABLE elf)
  if(NOT elf MATCHES "Class:[ \t]+${class}")
    list(APPEND problems "${lib} is not ${class}")
  endif()
endforeach()
if(host_KMT_LAYER_INSTALL_LIBDIR STREQUAL CROSS_LIBDIR)
  list(APPEND problems "both layers went to ${CROSS_LIBDIR}: the second overwrote the first")
endif()

# 2. One manifest for both.
if(NOT manifest_host STREQUAL manifest_cross)
  list(APPEND problems "the 64- and 32-bit installs write different manifests to ${manifest}")
endif()
string(JSON path ERROR_VARIABLE err GET "${manifest_cross}" layer library_path)
if(NOT path STREQUAL "${prefix}/$LIB/libVkLayer_kmt_offer_reclaim.so")
  list(APPEND problems "library_path is '${path}', expected '${prefix}/$LIB/libVkLayer_kmt_offer_reclaim.so'")
endif()
file(GLOB manifests "${prefix}/${DATADIR}/vulkan/*/*.json")
list(LENGTH manifests n)
if(NOT n EQUAL 1)
  list(APPEND problems "${n} manifests where the loader looks, expected 1: ${manifests}")
endif()

# 3. The shared manifest loads the 64-bit layer, with no library path set.
if(VULKANINFO)
  file(MAKE_DIRECTORY "${WORK_DIR}/home" "${WORK_DIR}/config" "${WORK_DIR}/runtime")
  file(CHMOD "${WORK_DIR}/runtime" DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
  kmt_vulkaninfo_loads_layer("${VULKANINFO}" "${path}" "${WORK_DIR}/vulkaninfo.txt" problems
    --unset=LD_LIBRARY_PATH --unset=LD_PRELOAD --unset=VK_LAYER_PATH --unset=VK_ADD_LAYER_PATH
    --unset=VK_INSTANCE_LAYERS --unset=VK_LOADER_LAYERS_ENABLE --unset=VK_LOADER_LAYERS_DISABLE
    --unset=VK_KMT_OFFER_RECLAIM_DISABLE --unset=DISPLAY --unset=WAYLAND_DISPLAY
    "XDG_DATA_DIRS=${prefix}/${DATADIR}:/usr/share" "XDG_DATA_HOME=${WORK_DIR}/home"
    "XDG_CONFIG_HOME=${WORK_DIR}/config" "XDG_RUNTIME_DIR=${WORK_DIR}/runtime"
    "VK_DRIVER_FILES=${LVP_ICD}" NODEVICE_SELECT=1 VK_KMT_OFFER_RECLAIM_ENABLE=1)
else()
  message(STATUS "vulkaninfo not installed: the load through the shared manifest is not checked")
endif()

if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "multilib install:\n  ${text}")
endif()
message(STATUS "64- and 32-bit layers share ${manifest} (library_path ${path})")

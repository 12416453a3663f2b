# SPDX-License-Identifier: MIT
# The Debian package, as a MangoHud or vkBasalt user meets it (run by .ci/run
# as root; it installs into /usr and removes what it installed):
#  1. cpack -G DEB in <build> makes vk-offer-reclaim_<version>_<arch>.deb;
#  2. dpkg -i installs it: the layer in /usr/lib/<triplet>, the implicit
#     manifest in /usr/share/vulkan/implicit_layer.d naming
#     "/usr/$LIB/libVkLayer_kmt_offer_reclaim.so";
#  3. vulkaninfo with VK_KMT_OFFER_RECLAIM_ENABLE=1: the loader inserts the
#     layer from that path and the device lists VK_KMT_offer_reclaim; without
#     the variable the device does not; the offer_reclaim sample (an app that
#     calls the extension) runs through the installed layer;
#  4. dpkg --purge removes it, every file with it, and its dpkg record.
# Refuses to run when vk-offer-reclaim is already installed (it would replace
# and then remove someone's package).
#   cmake -DBUILD_DIR=<build> [-DLVP_ICD=<icd json>] -P tests/install/deb_test.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/loader_check.cmake")
get_filename_component(BUILD_DIR "${BUILD_DIR}" ABSOLUTE)
if(NOT LVP_ICD)
  set(LVP_ICD "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json")
endif()
load_cache("${BUILD_DIR}" READ_WITH_PREFIX build_ CMAKE_PROJECT_NAME KMT_LAYER_INSTALL_LIBDIR)
set(package "${build_CMAKE_PROJECT_NAME}")
set(work "${BUILD_DIR}/deb-test")
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}/home" "${work}/config" "${work}/runtime")
file(CHMOD "${work}/runtime" DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)

function(kmt_must)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "${cmd} failed (${rc}):\n${out}")
  endif()
endfunction()

execute_process(COMMAND dpkg-query -W -f=\${Status} "${package}" OUTPUT_VARIABLE status ERROR_QUIET)
if(status MATCHES "installed")
  message(FATAL_ERROR "${package} is installed already ('${status}'): not touching it")
endif()

# 1. The package.
kmt_must(cpack -G DEB -B "${work}" WORKING_DIRECTORY "${BUILD_DIR}")
file(GLOB debs "${work}/${package}_*.deb")
list(LENGTH debs n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected one ${package}_*.deb in ${work}, found: ${debs}")
endif()
message(STATUS "package: ${debs}")

# 2. Installed.
kmt_must(dpkg -i "${debs}")
set(problems "")
set(manifest "/usr/share/vulkan/implicit_layer.d/VkLayer_kmt_offer_reclaim.json")
set(library "/usr/${build_KMT_LAYER_INSTALL_LIBDIR}/libVkLayer_kmt_offer_reclaim.so")
execute_process(COMMAND dpkg -L "${package}" OUTPUT_VARIABLE listed)
foreach(f "${manifest}" "${library}" /usr/include/vk_kmt/d3dkmt.h /usr/share/pkgconfig/${package}.pc
          /usr/share/doc/${package}/LICENSE /usr/share/doc/${package}/docs/PORTING.md)
  string(FIND "${listed}" "${f}\n" at)
  if(at EQUAL -1 OR NOT EXISTS "${f}")
    list(APPEND problems "the package did not install ${f}")
  endif()
endforeach()
set(path "")
if(EXISTS "${manifest}")
  file(READ "${manifest}" json)
  string(JSON path ERROR_VARIABLE err GET "${json}" layer library_path)
endif()
if(NOT path STREQUAL "/usr/$LIB/libVkLayer_kmt_offer_reclaim.so")
  list(APPEND problems "the installed manifest's library_path is '${path}', expected '/usr/$LIB/libVkLayer_kmt_offer_reclaim.so'")
endif()

# 3. Through the installed package only: no build-tree manifest, no library path.
set(env --unset=LD_LIBRARY_PATH --unset=LD_PRELOAD --unset=VK_LAYER_PATH --unset=VK_ADD_LAYER_PATH
        --unset=VK_INSTANCE_LAYERS --unset=VK_LOADER_LAYERS_ENABLE --unset=VK_LOADER_LAYERS_DISABLE
        --unset=VK_KMT_OFFER_RECLAIM_ENABLE --unset=VK_KMT_OFFER_RECLAIM_DISABLE --unset=DISPLAY --unset=WAYLAND_DISPLAY
        "XDG_DATA_HOME=${work}/home" "XDG_DATA_DIRS=/usr/share" "XDG_CONFIG_HOME=${work}/config"
        "XDG_RUNTIME_DIR=${work}/runtime" "VK_DRIVER_FILES=${LVP_ICD}" NODEVICE_SELECT=1)
find_program(VULKANINFO vulkaninfo)
if(NOT VULKANINFO)
  list(APPEND problems "vulkaninfo not found (Debian: vulkan-tools)")
else()
  kmt_vulkaninfo_loads_layer("${VULKANINFO}" "/usr/$LIB/libVkLayer_kmt_offer_reclaim.so"
                             "${work}/vulkaninfo-enabled.txt" problems ${env} VK_KMT_OFFER_RECLAIM_ENABLE=1)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env ${env} "${VULKANINFO}" OUTPUT_VARIABLE out ERROR_QUIET TIMEOUT 60)
  if(out MATCHES "\nDevice Extensions:[^\n]*\n([ \t]+[^\n]*\n)*[ \t]+VK_KMT_offer_reclaim ")
    list(APPEND problems "without VK_KMT_OFFER_RECLAIM_ENABLE the device lists VK_KMT_offer_reclaim")
  endif()
endif()
if(EXISTS "${BUILD_DIR}/samples/offer_reclaim")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env ${env} VK_KMT_OFFER_RECLAIM_ENABLE=1 "${BUILD_DIR}/samples/offer_reclaim"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out TIMEOUT 60)
  if(NOT rc EQUAL 0)
    list(APPEND problems "samples/offer_reclaim through the installed package exited ${rc}:\n${out}")
  endif()
endif()

# 4. Removed, whatever happened above.
kmt_must(dpkg --purge "${package}")
foreach(f "${manifest}" "${library}")
  if(EXISTS "${f}")
    list(APPEND problems "dpkg --purge left ${f} behind")
  endif()
endforeach()
execute_process(COMMAND dpkg-query -W -f=\${Status} "${package}" OUTPUT_VARIABLE status ERROR_QUIET)
if(NOT status STREQUAL "")
  list(APPEND problems "after dpkg --purge, dpkg still records ${package}: '${status}'")
endif()

if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "Debian package:\n  ${text}")
endif()
message(STATUS "${debs}: installed, loaded by vulkaninfo and the sample from /usr/$LIB, removed")

# SPDX-License-Identifier: MIT
# vulkaninfo (vulkan-tools) with the build tree's implicit manifest
# (XDG_DATA_HOME=<build>/vkdata/implicit) on lavapipe:
#  - enabled (VK_KMT_OFFER_RECLAIM_ENABLE=1): exit 0, the layer in the layer
#    list, VK_KMT_offer_reclaim among the device's extensions and among the
#    layer's own device extensions;
#  - not enabled: the layer is still listed (implicit layers always are), the
#    device does not list the extension.
#   VULKANINFO VKDATA_DIR LVP_ICD WORK_DIR PRELOAD (may be empty)
cmake_minimum_required(VERSION 3.25)
if(NOT VULKANINFO)
  message(STATUS "vulkaninfo not installed (Debian: vulkan-tools): skipped")
  return() # the test's SKIP_REGULAR_EXPRESSION matches the line above
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/config")
file(MAKE_DIRECTORY "${WORK_DIR}/runtime")
file(CHMOD "${WORK_DIR}/runtime" DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)

set(env
  --unset=VK_ICD_FILENAMES --unset=VK_ADD_DRIVER_FILES --unset=VK_LAYER_PATH --unset=VK_ADD_LAYER_PATH
  --unset=VK_INSTANCE_LAYERS --unset=VK_LOADER_LAYERS_ENABLE --unset=VK_LOADER_LAYERS_DISABLE
  --unset=VK_KMT_OFFER_RECLAIM_ENABLE --unset=VK_KMT_OFFER_RECLAIM_DISABLE --unset=DISPLAY --unset=WAYLAND_DISPLAY
  "VK_DRIVER_FILES=${LVP_ICD}" "XDG_DATA_HOME=${VKDATA_DIR}/implicit" "XDG_CONFIG_HOME=${WORK_DIR}/config"
  "XDG_RUNTIME_DIR=${WORK_DIR}/runtime" NODEVICE_SELECT=1)
if(PRELOAD)
  list(APPEND env "LD_PRELOAD=${PRELOAD}" "ASAN_OPTIONS=detect_leaks=0")
endif()

set(problems "")
foreach(run enabled not_enabled)
  set(vars "")
  if(run STREQUAL "enabled")
    set(vars VK_KMT_OFFER_RECLAIM_ENABLE=1)
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env ${env} ${vars} "${VULKANINFO}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 45)
  file(WRITE "${WORK_DIR}/vulkaninfo-${run}.txt" "${out}\n--- stderr ---\n${err}")
  if(NOT rc EQUAL 0)
    list(APPEND problems "${run}: vulkaninfo exited with '${rc}' (output in ${WORK_DIR}/vulkaninfo-${run}.txt)\n${err}")
    continue()
  endif()
  # Layers section: "VK_LAYER_KMT_offer_reclaim (WDDM offer/reclaim ...) Vulkan version ..."
  if(NOT out MATCHES "\nVK_LAYER_KMT_offer_reclaim \\(")
    list(APPEND problems "${run}: the layer is not in vulkaninfo's layer list")
  endif()
  # The device's own list: "Device Extensions: count = N", then one indented
  # line per extension ("\tVK_..._name   : extension revision R").
  string(FIND "${out}" "\nDevice Extensions:" at)
  set(device_extensions "")
  if(at GREATER -1)
    string(SUBSTRING "${out}" ${at} -1 rest)
    string(REGEX MATCH "\nDevice Extensions:[^\n]*\n([ \t]+[^\n]*\n)*" device_extensions "${rest}")
  endif()
  if(device_extensions STREQUAL "")
    list(APPEND problems "${run}: no 'Device Extensions' section in vulkaninfo's output")
    continue()
  endif()
  string(REGEX MATCH "[ \t]VK_KMT_offer_reclaim +: extension revision 1" listed "${device_extensions}")
  string(REGEX MATCH "[ \t]VK_KMT_residency +: extension revision 1" residency_listed "${device_extensions}")
  if(run STREQUAL "enabled")
    if(NOT listed)
      list(APPEND problems "enabled: VK_KMT_offer_reclaim (revision 1) is not among the device extensions")
    endif()
    if(NOT residency_listed)
      list(APPEND problems "enabled: VK_KMT_residency (revision 1) is not among the device extensions")
    endif()
    # The layer's own device extensions, under its entry in the layer list.
    if(NOT out MATCHES "\nVK_LAYER_KMT_offer_reclaim \\([^\n]*\n([ \t]+[^\n]*\n)*[ \t]+Layer-Device Extensions: count = 2\n[ \t]+VK_KMT_offer_reclaim +: extension revision 1\n[ \t]+VK_KMT_residency +: extension revision 1")
      list(APPEND problems "enabled: vulkaninfo does not show VK_KMT_offer_reclaim and VK_KMT_residency as the layer's device extensions")
    endif()
  elseif(listed OR residency_listed)
    list(APPEND problems "not enabled: VK_KMT_offer_reclaim or VK_KMT_residency is listed although the layer is off")
  endif()
endforeach()

if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "vulkaninfo test:\n  ${text}")
endif()
message(STATUS "vulkaninfo lists VK_LAYER_KMT_offer_reclaim, VK_KMT_offer_reclaim and VK_KMT_residency")

# SPDX-License-Identifier: MIT
# kmt_vulkaninfo_loads_layer(<vulkaninfo> <library> <log file> <problems var> <VAR=value>...)
# Runs vulkaninfo with the given environment plus VK_LOADER_DEBUG=layer and
# checks that the layer REALLY loaded from <library>, not only that the loader
# read its manifest (loader 1.3.239 lists a manifest's device extension even
# when the library cannot be opened: LOADER-NOTES):
#  - vulkaninfo exits 0;
#  - the loader says: Inserted device layer "VK_LAYER_KMT_offer_reclaim" (<library>);
#  - the device's "Device Extensions" section lists VK_KMT_offer_reclaim.
# The whole output goes to <log file>; one line per problem is appended to
# <problems var>.
function(kmt_vulkaninfo_loads_layer vulkaninfo library log problems_var)
  set(found "")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env ${ARGN} VK_LOADER_DEBUG=layer "${vulkaninfo}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 60)
  file(WRITE "${log}" "${out}\n--- stderr ---\n${err}")
  set(all "${out}\n${err}")
  if(NOT rc EQUAL 0)
    list(APPEND found "vulkaninfo exited with '${rc}' (output in ${log})")
  endif()
  string(FIND "${all}" "Inserted device layer \"VK_LAYER_KMT_offer_reclaim\" (${library})" at)
  if(at EQUAL -1)
    string(REGEX MATCHALL "[^\n]*VK_LAYER_KMT_offer_reclaim[^\n]*(library|Library|open|Open)[^\n]*" hints "${all}")
    list(JOIN hints "\n    " hint_text)
    list(APPEND found "the loader did not insert VK_LAYER_KMT_offer_reclaim from ${library} (output in ${log}):\n    ${hint_text}")
  endif()
  string(FIND "${out}" "\nDevice Extensions:" at)
  set(device_extensions "")
  if(at GREATER -1)
    string(SUBSTRING "${out}" ${at} -1 rest)
    string(REGEX MATCH "\nDevice Extensions:[^\n]*\n([ \t]+[^\n]*\n)*" device_extensions "${rest}")
  endif()
  if(NOT device_extensions MATCHES "[ \t]VK_KMT_offer_reclaim +: extension revision 1")
    list(APPEND found "VK_KMT_offer_reclaim is not among the device's extensions (output in ${log})")
  endif()
  set(${problems_var} ${${problems_var}} ${found} PARENT_SCOPE)
endfunction()

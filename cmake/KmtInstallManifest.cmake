# SPDX-License-Identifier: MIT
# Runs at INSTALL time (install(CODE) in manifests/CMakeLists.txt): writes a
# layer manifest whose library_path names the library where this very install
# puts it. CMAKE_INSTALL_PREFIX is then the prefix being installed to
# (`cmake --install --prefix`, or CPack's packaging prefix with
# CPACK_SET_DESTDIR); file(INSTALL) adds $ENV{DESTDIR} to the destination but
# the path inside the manifest stays the final one, as packagers need.
#
# kmt_install_manifest(<built manifest> <stage folder> <destination below prefix>
#                      <layer libdir below prefix> <LIB_TOKEN|ABSOLUTE> <library file name>)
# The built manifest (manifests/CMakeLists.txt) carries the placeholder
# @KMT_INSTALLED_LIBRARY_PATH@ where the path goes.
function(kmt_install_manifest built stage destination libdir style file_name)
  get_filename_component(prefix "${CMAKE_INSTALL_PREFIX}" ABSOLUTE)
  string(REGEX REPLACE "/+$" "" prefix "${prefix}") # "/" -> "", "/usr/" -> "/usr"
  if(style STREQUAL "LIB_TOKEN")
    # glibc's dlopen expands $LIB per process ABI (cmake/KmtInstallDirs.cmake).
    set(path "${prefix}/$LIB/${file_name}")
  elseif(IS_ABSOLUTE "${libdir}")
    set(path "${libdir}/${file_name}")
  else()
    set(path "${prefix}/${libdir}/${file_name}")
  endif()
  # A JSON string: escape what JSON requires (a prefix may hold either).
  string(REPLACE "\\" "\\\\" json_path "${path}")
  string(REPLACE "\"" "\\\"" json_path "${json_path}")

  file(READ "${built}" text)
  string(FIND "${text}" "@KMT_INSTALLED_LIBRARY_PATH@" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${built} has no @KMT_INSTALLED_LIBRARY_PATH@ placeholder")
  endif()
  string(REPLACE "@KMT_INSTALLED_LIBRARY_PATH@" "${json_path}" text "${text}")
  get_filename_component(name "${built}" NAME)
  file(MAKE_DIRECTORY "${stage}")
  file(WRITE "${stage}/${name}" "${text}")
  file(INSTALL DESTINATION "${prefix}/${destination}" TYPE FILE FILES "${stage}/${name}")
endfunction()

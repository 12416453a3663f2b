# SPDX-License-Identifier: MIT
# Where `cmake --install` puts the layer, and how the installed manifests name
# it, so that an install to ANY prefix loads without LD_LIBRARY_PATH or
# ldconfig (a bare library_path would be resolved by the dynamic linker only,
# and loader 1.3.239 lists the manifest's extension even when the library
# cannot be opened; see shared/reference/LOADER-NOTES.md).
#
# The manifests name the library as MangoHud and vkBasalt do:
#     "<prefix>/$LIB/libVkLayer_kmt_offer_reclaim.so"
# glibc's dlopen expands $LIB to the library folder of the calling process's
# ABI (Debian: lib/x86_64-linux-gnu in a 64-bit process, lib/i386-linux-gnu in
# a 32-bit one), so ONE manifest serves the 64- and the 32-bit layer installed
# to the same prefix. For that, the layer must sit in exactly that folder for
# every prefix: GNUInstallDirs uses the multiarch folder only for the /usr
# prefix (plain `lib` for /usr/local, ~/.local, /opt/...), so the layer gets
# its own KMT_LAYER_INSTALL_LIBDIR, which defaults to $LIB's expansion.
#
#   KMT_GLIBC_LIB             what $LIB expands to for the target ABI, or ""
#                             where this file cannot tell (non-multiarch distros)
#   KMT_LAYER_INSTALL_LIBDIR  (cache) the layer's folder below the prefix
#   KMT_LAYER_FILE_NAME       libVkLayer_kmt_offer_reclaim.so
#
# When KMT_LAYER_INSTALL_LIBDIR equals KMT_GLIBC_LIB the manifests use $LIB;
# otherwise (a distro this file does not know, or a folder chosen by hand) the
# absolute path of the installed file. Either way the path is written at
# install time from the prefix being installed to (cmake/KmtInstallManifest.cmake),
# so `cmake --install --prefix <any>`, DESTDIR staging and CPack all agree.
include(GNUInstallDirs)

set(KMT_LAYER_FILE_NAME "${CMAKE_SHARED_LIBRARY_PREFIX}VkLayer_kmt_offer_reclaim${CMAKE_SHARED_LIBRARY_SUFFIX}")

# Debian/Ubuntu multiarch: glibc is built with $LIB = lib/<triplet>, the same
# triplet CMake reports for the compiler's ABI (i386-linux-gnu with -m32).
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(KMT_GLIBC_LIB "lib/${CMAKE_LIBRARY_ARCHITECTURE}")
else()
  set(KMT_GLIBC_LIB "")
endif()

if(KMT_GLIBC_LIB)
  set(kmt_default_layer_libdir "${KMT_GLIBC_LIB}")
else()
  set(kmt_default_layer_libdir "${CMAKE_INSTALL_LIBDIR}")
endif()
set(KMT_LAYER_INSTALL_LIBDIR "${kmt_default_layer_libdir}" CACHE STRING
    "Folder of the installed layer below the prefix (default: what glibc's \$LIB expands to, so the manifest can say <prefix>/\$LIB/...)")

if(KMT_GLIBC_LIB AND KMT_LAYER_INSTALL_LIBDIR STREQUAL KMT_GLIBC_LIB)
  set(KMT_MANIFEST_LIBRARY_STYLE "LIB_TOKEN")
else()
  set(KMT_MANIFEST_LIBRARY_STYLE "ABSOLUTE")
endif()
message(STATUS "Layer installs to <prefix>/${KMT_LAYER_INSTALL_LIBDIR}; installed manifests name it "
               "${KMT_MANIFEST_LIBRARY_STYLE} (glibc \$LIB = '${KMT_GLIBC_LIB}')")

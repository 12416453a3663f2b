# SPDX-License-Identifier: MIT
# The Debian package, with CMake's own CPack (no debian/ folder to keep):
#
#   cmake --build build && (cd build && cpack -G DEB)
#   sudo dpkg -i build/vk-offer-reclaim_0.1.0_amd64.deb
#
# It holds what `cmake --install` installs, below /usr: the layer in
# /usr/lib/<triplet>, the implicit manifest in /usr/share/vulkan/implicit_layer.d
# naming it "/usr/$LIB/libVkLayer_kmt_offer_reclaim.so" (the DEB generator
# installs with DESTDIR and CMAKE_INSTALL_PREFIX=/usr, so the install-time
# manifest writer, cmake/KmtInstallManifest.cmake, sees the final prefix), the
# headers, the CMake and pkg-config files, the license and docs.
# `.ci/run` builds it, installs it with dpkg, runs vulkaninfo through it and
# removes it (tests/install/deb_test.sh).
set(CPACK_PACKAGE_NAME "${PROJECT_NAME}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "The vk-offer-reclaim authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Vulkan layer giving applications the WDDM offer/reclaim contract (VK_KMT_offer_reclaim)")
set(CPACK_PACKAGE_DESCRIPTION
    "VK_LAYER_KMT_offer_reclaim is an implicit Vulkan layer, enabled per process with VK_KMT_OFFER_RECLAIM_ENABLE=1, that adds the device extension VK_KMT_offer_reclaim: D3DKMTOfferAllocations / D3DKMTReclaimAllocations2 for Vulkan. Also ships the extension's header, the single-header D3DKMT library vk_kmt/d3dkmt.h, and CMake / pkg-config files for building against them.")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(KMT_DEB_MAINTAINER "vk-offer-reclaim maintainers <maintainers@vk-offer-reclaim.invalid>" CACHE STRING
    "Maintainer field of the Debian package (set it when you distribute one)")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${KMT_DEB_MAINTAINER}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # vk-offer-reclaim_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "libs")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# libc6, libstdc++6, libgcc-s1 from the layer's NEEDED entries (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The loader loads the layer (the layer never links it); the headers need Vulkan's.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libvulkan1")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libvulkan-dev, vulkan-tools")
# dpkg's name for the target ABI (a cross build's, not the build machine's).
if(CMAKE_LIBRARY_ARCHITECTURE STREQUAL "i386-linux-gnu")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "i386")
elseif(CMAKE_LIBRARY_ARCHITECTURE STREQUAL "x86_64-linux-gnu")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "amd64")
elseif(CMAKE_LIBRARY_ARCHITECTURE STREQUAL "aarch64-linux-gnu")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "arm64")
endif()

include(CPack)

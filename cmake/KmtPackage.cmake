# SPDX-License-Identifier: MIT
# What `cmake --install` gives besides the layer and its manifest (those are
# installed by layer/ and manifests/): the public headers, a CMake package
# (find_package(vk-offer-reclaim) -> vk-offer-reclaim::headers), a pkg-config
# file (vk-offer-reclaim.pc), the license and the user docs. Everything here is
# architecture-independent (headers only), so the package files go below
# ${CMAKE_INSTALL_DATADIR}, as header-only packages do, and a 32-bit install to
# the same prefix writes the same files.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# vk-offer-reclaim::headers: the include folder, Vulkan's headers, and the
# threads the single-header D3DKMT implementation (vk_kmt/d3dkmt.h) uses.
add_library(vk_offer_reclaim_headers INTERFACE)
add_library(vk-offer-reclaim::headers ALIAS vk_offer_reclaim_headers)
set_target_properties(vk_offer_reclaim_headers PROPERTIES EXPORT_NAME headers)
target_include_directories(vk_offer_reclaim_headers INTERFACE
  "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>"
  "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
target_link_libraries(vk_offer_reclaim_headers INTERFACE Vulkan::Headers Threads::Threads)
install(TARGETS vk_offer_reclaim_headers EXPORT vk_offer_reclaim_targets)

set(KMT_CMAKE_PACKAGE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/${PROJECT_NAME}")
install(EXPORT vk_offer_reclaim_targets
        NAMESPACE ${PROJECT_NAME}::
        FILE ${PROJECT_NAME}Targets.cmake
        DESTINATION "${KMT_CMAKE_PACKAGE_DIR}")
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/${PROJECT_NAME}Config.cmake.in"
  "${PROJECT_BINARY_DIR}/package/${PROJECT_NAME}Config.cmake"
  INSTALL_DESTINATION "${KMT_CMAKE_PACKAGE_DIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/package/${PROJECT_NAME}ConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion # 0.x: a minor version may break the API
  ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/package/${PROJECT_NAME}Config.cmake"
              "${PROJECT_BINARY_DIR}/package/${PROJECT_NAME}ConfigVersion.cmake"
        DESTINATION "${KMT_CMAKE_PACKAGE_DIR}")

# pkg-config: relocatable (prefix found from the .pc file's own folder), so
# `cmake --install --prefix <any>` and DESTDIR staging give a working file.
set(KMT_PC_DIR "${CMAKE_INSTALL_DATADIR}/pkgconfig")
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(KMT_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
  set(KMT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH KMT_PC_TO_PREFIX "/prefix/${KMT_PC_DIR}" "/prefix")
  string(REGEX REPLACE "/$" "" KMT_PC_TO_PREFIX "${KMT_PC_TO_PREFIX}")
  set(KMT_PC_PREFIX "\${pcfiledir}/${KMT_PC_TO_PREFIX}")
  set(KMT_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/${PROJECT_NAME}.pc.in"
               "${PROJECT_BINARY_DIR}/package/${PROJECT_NAME}.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/package/${PROJECT_NAME}.pc" DESTINATION "${KMT_PC_DIR}")

# The license and the docs for users and porters, in the source tree's own
# layout (docs/, samples/) below the doc folder, so every relative link in
# them works where they are installed too (tests/install checks each one):
#   share/doc/vk-offer-reclaim/LICENSE
#   share/doc/vk-offer-reclaim/vk_layer_settings.txt   every setting at its default
#   share/doc/vk-offer-reclaim/docs/{USING,PORTING,ARCHITECTURE,SETTINGS}.md
#   share/doc/vk-offer-reclaim/samples/*.c             what PORTING.md links to
# SETTINGS.md and vk_layer_settings.txt are written from KMT_SETTINGS (tools/).
set(KMT_INSTALLED_DOCS docs/USING.md docs/PORTING.md docs/ARCHITECTURE.md CACHE INTERNAL "")
install(FILES LICENSE "${KMT_SETTINGS_TXT}" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(FILES ${KMT_INSTALLED_DOCS} "${KMT_SETTINGS_MD}" DESTINATION "${CMAKE_INSTALL_DOCDIR}/docs")
install(FILES samples/offer_reclaim.c samples/d3dkmt_port.c samples/pressure.c
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/samples")

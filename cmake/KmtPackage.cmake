# What `cmake --install` gives besides the layer and its manifest (those are
# installed by layer/ and manifests/): the public headers, a CMake package
# (find_package(vk_offer_reclaim) -> vk_offer_reclaim::headers), a pkg-config
# file (vk-offer-reclaim.pc), and the user docs. Everything here is
# architecture-independent (headers only), so the package files go below
# ${CMAKE_INSTALL_DATADIR}, as header-only packages do.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# vk_offer_reclaim::headers: the include folder, Vulkan's headers, and the
# threads the single-header D3DKMT implementation (vk_kmt/d3dkmt.h) uses.
add_library(vk_offer_reclaim_headers INTERFACE)
add_library(vk_offer_reclaim::headers ALIAS vk_offer_reclaim_headers)
set_target_properties(vk_offer_reclaim_headers PROPERTIES EXPORT_NAME headers)
target_include_directories(vk_offer_reclaim_headers INTERFACE
  "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>"
  "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
target_link_libraries(vk_offer_reclaim_headers INTERFACE Vulkan::Headers Threads::Threads)
install(TARGETS vk_offer_reclaim_headers EXPORT vk_offer_reclaim_targets)

set(KMT_CMAKE_PACKAGE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/vk_offer_reclaim")
install(EXPORT vk_offer_reclaim_targets
        NAMESPACE vk_offer_reclaim::
        FILE vk_offer_reclaimTargets.cmake
        DESTINATION "${KMT_CMAKE_PACKAGE_DIR}")
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/vk_offer_reclaimConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/package/vk_offer_reclaimConfig.cmake"
  INSTALL_DESTINATION "${KMT_CMAKE_PACKAGE_DIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/package/vk_offer_reclaimConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion # 0.x: a minor version may break the API
  ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/package/vk_offer_reclaimConfig.cmake"
              "${PROJECT_BINARY_DIR}/package/vk_offer_reclaimConfigVersion.cmake"
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
configure_file("${PROJECT_SOURCE_DIR}/cmake/vk-offer-reclaim.pc.in"
               "${PROJECT_BINARY_DIR}/package/vk-offer-reclaim.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/package/vk-offer-reclaim.pc" DESTINATION "${KMT_PC_DIR}")

# User docs, with the settings table and an example vk_layer_settings.txt
# written from KMT_SETTINGS (tools/).
install(FILES docs/USING.md "${KMT_SETTINGS_MD}" "${KMT_SETTINGS_TXT}" DESTINATION "${CMAKE_INSTALL_DOCDIR}")

// SPDX-License-Identifier: MIT
// Unit tests of the device extensions allowed beside VK_KMT_offer_reclaim
// (layer/extensions.[ch]): with the extension on, the app holds the layer's
// VkDeviceMemory handles, so an extension that carries one and that the
// layer does not translate is refused at vkCreateDevice.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "extensions.h"
#include "memory_commands.h"

namespace {

// The generated list (known to carry no VkDeviceMemory) and the translated
// ones, as the layer has them.
const char *const kKnown[] = {
#include "known_extensions.inc"
};
#define KMT_TEST_NAME(name) name,
const char *const kTranslated[] = {KMT_TRANSLATED_EXTENSIONS(KMT_TEST_NAME)};
#undef KMT_TEST_NAME

TEST(Extensions, PlainExtensionsAreAllowed)
{
    for (const char *name : {"VK_KHR_swapchain", "VK_KHR_maintenance1", "VK_KHR_dedicated_allocation",
                             "VK_EXT_memory_budget", "VK_EXT_memory_priority", "VK_KHR_timeline_semaphore",
                             "VK_KHR_external_memory", "VK_KHR_swapchain_mutable_format"})
        EXPECT_TRUE(kmt_extension_allowed(name)) << name;
}

TEST(Extensions, TheLayersOwnAndTheTranslatedExtensionsAreAllowed)
{
    EXPECT_TRUE(kmt_extension_allowed("VK_KMT_offer_reclaim"));
    ASSERT_GT(sizeof(kTranslated) / sizeof(kTranslated[0]), 0u);
    for (const char *name : kTranslated)
        EXPECT_TRUE(kmt_extension_allowed(name)) << name;
    for (const char *name : {"VK_KHR_bind_memory2", "VK_KHR_external_memory_fd", "VK_KHR_map_memory2",
                             "VK_EXT_pageable_device_local_memory", "VK_KHR_buffer_device_address"})
        EXPECT_TRUE(kmt_extension_allowed(name)) << name;
}

// Extensions whose commands or structures carry a VkDeviceMemory the layer
// does not translate, and names no registry has.
TEST(Extensions, UntranslatedMemoryExtensionsAndUnknownNamesAreRefused)
{
    for (const char *name :
         {"VK_KHR_external_memory_win32", "VK_EXT_device_memory_report", "VK_NV_external_memory_win32",
          "VK_ANDROID_external_memory_android_hardware_buffer", "VK_FUCHSIA_external_memory",
          "VK_KMT_made_up_extension", "VK_KHR_swapchainX", "VK_KHR_swap", "vk_khr_swapchain", "", "VK_KMT_offer",
          "VK_KMT_offer_reclaim2"})
        EXPECT_FALSE(kmt_extension_allowed(name)) << "'" << name << "'";
}

// The layer looks names up by binary search: the generated list must be in
// strcmp order, with no duplicate, and every entry of it must be found.
TEST(Extensions, EveryGeneratedNameIsFoundAndTheListIsSorted)
{
    const size_t count = sizeof(kKnown) / sizeof(kKnown[0]);
    ASSERT_GT(count, 300u);
    for (size_t i = 0; i < count; i++) {
        EXPECT_TRUE(kmt_extension_allowed(kKnown[i])) << kKnown[i];
        if (i) {
            EXPECT_LT(std::strcmp(kKnown[i - 1], kKnown[i]), 0) << kKnown[i - 1] << " / " << kKnown[i];
        }
    }
    // The translated extensions carry memory: the generator must not have
    // listed them as carrying none.
    for (const char *translated : kTranslated)
        for (const char *known : kKnown)
            EXPECT_STRNE(translated, known);
}

TEST(Extensions, FirstRefusedExtensionIsTheFirstRefusedOne)
{
    const char *allowed[] = {"VK_KHR_swapchain", "VK_KMT_offer_reclaim", "VK_KHR_bind_memory2"};
    EXPECT_EQ(kmt_first_refused_extension(3, allowed), nullptr);
    EXPECT_EQ(kmt_first_refused_extension(0, nullptr), nullptr);

    const char *mixed[] = {"VK_KHR_swapchain", "VK_EXT_device_memory_report", "VK_KMT_offer_reclaim",
                           "VK_KHR_external_memory_win32"};
    EXPECT_EQ(kmt_first_refused_extension(4, mixed), mixed[1]) << "the pointer the app passed";
    EXPECT_EQ(kmt_first_refused_extension(1, mixed), nullptr) << "only `count` names are read";
    const char *refused_last[] = {"VK_KHR_swapchain", "VK_KMT_offer_reclaim", "VK_FOO_bar"};
    EXPECT_EQ(kmt_first_refused_extension(3, refused_last), refused_last[2]);
    std::string copy = "VK_KHR_external_memory_win32"; // not a string literal: compared by content
    const char *dynamic[] = {copy.c_str()};
    EXPECT_EQ(kmt_first_refused_extension(1, dynamic), copy.c_str());
    std::string swapchain = "VK_KHR_swapchain";
    const char *dynamic_ok[] = {swapchain.c_str()};
    EXPECT_EQ(kmt_first_refused_extension(1, dynamic_ok), nullptr);
}

} // namespace

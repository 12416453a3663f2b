/* SPDX-License-Identifier: MIT */
/*
 * vvl_utils.h -- C entry points into the Vulkan-ValidationLayers utilities
 * (libVkLayer_utils.a, C++), wrapped in vvl_utils.cpp. Used where behaving
 * exactly like the Khronos layers is the point: the deep copy of create-info
 * chains, the enumeration count/VK_INCOMPLETE dance. (The settings file is
 * read by settings_file.c: VVL 1.3.239's reader cannot list keys and reads
 * /dev/zero or a FIFO without end.)
 */
#ifndef KMT_VVL_UTILS_H
#define KMT_VVL_UTILS_H

#include <stdint.h>
#include <vulkan/vulkan_core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Deep copy of a pNext chain (every Vulkan struct VVL knows, plus the
 * loader's link structs); NULL for an empty chain. */
void *kmt_copy_pnext_chain(const void *chain);
void kmt_free_pnext_chain(void *chain);
/* Copies `count` extension properties into the app's array with the count
 * and VK_INCOMPLETE rules of vkEnumerate*ExtensionProperties. */
VkResult kmt_return_extensions(uint32_t count, const VkExtensionProperties *extensions, uint32_t *pCount,
                               VkExtensionProperties *pProperties);

#ifdef __cplusplus
}
#endif

#endif

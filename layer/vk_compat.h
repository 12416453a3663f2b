/* SPDX-License-Identifier: MIT */
/*
 * vk_compat.h -- Vulkan names newer than the headers the layer is built with
 * (Debian 12 ships 1.3.239). Each block is declared only where the headers
 * lack it, with the registry's names and values, so that newer headers take
 * over unchanged.
 */
#ifndef KMT_VK_COMPAT_H
#define KMT_VK_COMPAT_H

#include <vulkan/vulkan_core.h>

#ifndef VK_API_VERSION_1_4
#define VK_API_VERSION_1_4 VK_MAKE_API_VERSION(0, 1, 4, 0)
#endif

/* VK_KHR_map_memory2 (extension 272), core in Vulkan 1.4 as vkMapMemory2. */
#ifndef VK_KHR_map_memory2
#define VK_KHR_map_memory2 1
#define VK_KHR_MAP_MEMORY_2_EXTENSION_NAME "VK_KHR_map_memory2"
#define VK_STRUCTURE_TYPE_MEMORY_MAP_INFO_KHR ((VkStructureType)1000271000)
#define VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO_KHR ((VkStructureType)1000271001)
typedef VkFlags VkMemoryUnmapFlagsKHR;
typedef struct VkMemoryMapInfoKHR {
    VkStructureType sType;
    const void *pNext;
    VkMemoryMapFlags flags;
    VkDeviceMemory memory;
    VkDeviceSize offset;
    VkDeviceSize size;
} VkMemoryMapInfoKHR;
typedef struct VkMemoryUnmapInfoKHR {
    VkStructureType sType;
    const void *pNext;
    VkMemoryUnmapFlagsKHR flags;
    VkDeviceMemory memory;
} VkMemoryUnmapInfoKHR;
typedef VkResult(VKAPI_PTR *PFN_vkMapMemory2KHR)(VkDevice device, const VkMemoryMapInfoKHR *pMemoryMapInfo,
                                                 void **ppData);
typedef VkResult(VKAPI_PTR *PFN_vkUnmapMemory2KHR)(VkDevice device, const VkMemoryUnmapInfoKHR *pMemoryUnmapInfo);
#endif

#ifndef VK_VERSION_1_4
typedef VkMemoryMapInfoKHR VkMemoryMapInfo;
typedef VkMemoryUnmapInfoKHR VkMemoryUnmapInfo;
typedef PFN_vkMapMemory2KHR PFN_vkMapMemory2;
typedef PFN_vkUnmapMemory2KHR PFN_vkUnmapMemory2;
#endif

#endif

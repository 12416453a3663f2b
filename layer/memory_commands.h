/* SPDX-License-Identifier: MIT */
/*
 * memory_commands.h -- every command and structure that carries a
 * VkDeviceMemory, and what the layer does with it on a device that enabled
 * VK_KMT_offer_reclaim (where the app holds the layer's own handles and
 * everything below the layer holds the driver's: DESIGN.md, "Memory handles").
 *
 * tests/registry (tools/vk_memory_registry.py check) walks the installed
 * Vulkan registry and fails when it has a command or structure that carries
 * a VkDeviceMemory that is not listed here and does not belong only to an
 * extension the layer refuses at vkCreateDevice (extensions.c). The hook
 * table (hooks.c) is built from KMT_MEMORY_COMMANDS, so whatever is listed is
 * intercepted.
 */
#ifndef KMT_MEMORY_COMMANDS_H
#define KMT_MEMORY_COMMANDS_H

/* Commands the layer intercepts and translates: X(name as in the registry,
 * hook). Aliases are listed with the hook of the command they alias. */
#define KMT_MEMORY_COMMANDS(X)                                                  \
    X(vkAllocateMemory, AllocateMemory)                                         \
    X(vkFreeMemory, FreeMemory)                                                 \
    X(vkMapMemory, MapMemory)                                                   \
    X(vkUnmapMemory, UnmapMemory)                                               \
    X(vkMapMemory2, MapMemory2)                                                 \
    X(vkMapMemory2KHR, MapMemory2)                                              \
    X(vkUnmapMemory2, UnmapMemory2)                                             \
    X(vkUnmapMemory2KHR, UnmapMemory2)                                          \
    X(vkFlushMappedMemoryRanges, FlushMappedMemoryRanges)                       \
    X(vkInvalidateMappedMemoryRanges, InvalidateMappedMemoryRanges)             \
    X(vkGetDeviceMemoryCommitment, GetDeviceMemoryCommitment)                   \
    X(vkBindBufferMemory, BindBufferMemory)                                     \
    X(vkBindImageMemory, BindImageMemory)                                       \
    X(vkBindBufferMemory2, BindBufferMemory2)                                   \
    X(vkBindBufferMemory2KHR, BindBufferMemory2)                                \
    X(vkBindImageMemory2, BindImageMemory2)                                     \
    X(vkBindImageMemory2KHR, BindImageMemory2)                                  \
    X(vkQueueBindSparse, QueueBindSparse)                                       \
    X(vkGetDeviceMemoryOpaqueCaptureAddress, GetDeviceMemoryOpaqueCaptureAddress) \
    X(vkGetDeviceMemoryOpaqueCaptureAddressKHR, GetDeviceMemoryOpaqueCaptureAddress) \
    X(vkSetDeviceMemoryPriorityEXT, SetDeviceMemoryPriorityEXT)                 \
    X(vkGetMemoryFdKHR, GetMemoryFdKHR)                                         \
    X(vkGetMemoryRemoteAddressNV, GetMemoryRemoteAddressNV)                     \
    X(vkBindVideoSessionMemoryKHR, BindVideoSessionMemoryKHR)                   \
    X(vkBindAccelerationStructureMemoryNV, BindAccelerationStructureMemoryNV)   \
    X(vkSetDebugUtilsObjectNameEXT, SetDebugUtilsObjectNameEXT)                 \
    X(vkSetDebugUtilsObjectTagEXT, SetDebugUtilsObjectTagEXT)                   \
    X(vkDebugMarkerSetObjectNameEXT, DebugMarkerSetObjectNameEXT)               \
    X(vkDebugMarkerSetObjectTagEXT, DebugMarkerSetObjectTagEXT)                 \
    X(vkSetPrivateData, SetPrivateData)                                         \
    X(vkSetPrivateDataEXT, SetPrivateData)                                      \
    X(vkGetPrivateData, GetPrivateData)                                         \
    X(vkGetPrivateDataEXT, GetPrivateData)

/* Structures the hooks above translate wherever the app passes them:
 * X(name). */
#define KMT_MEMORY_STRUCTS(X)                                                   \
    X(VkMappedMemoryRange)                                                      \
    X(VkMemoryMapInfo)                                                          \
    X(VkMemoryUnmapInfo)                                                        \
    X(VkBindBufferMemoryInfo)                                                   \
    X(VkBindImageMemoryInfo)                                                    \
    X(VkBindSparseInfo)                                                         \
    X(VkSparseBufferMemoryBindInfo)                                             \
    X(VkSparseImageOpaqueMemoryBindInfo)                                        \
    X(VkSparseImageMemoryBindInfo)                                              \
    X(VkSparseMemoryBind)                                                       \
    X(VkSparseImageMemoryBind)                                                  \
    X(VkDeviceMemoryOpaqueCaptureAddressInfo)                                   \
    X(VkMemoryGetFdInfoKHR)                                                     \
    X(VkMemoryGetRemoteAddressInfoNV)                                           \
    X(VkBindVideoSessionMemoryInfoKHR)                                          \
    X(VkBindAccelerationStructureMemoryInfoNV)                                  \
    X(VkDebugUtilsObjectNameInfoEXT)                                            \
    X(VkDebugUtilsObjectTagInfoEXT)                                             \
    X(VkDebugMarkerObjectNameInfoEXT)                                           \
    X(VkDebugMarkerObjectTagInfoEXT)

/* Carry a memory handle but need no translation, with why: X(name).
 * - vkSubmitDebugUtilsMessageEXT, vkDebugReportMessageEXT: the app's own
 *   messages; handles in them are only printed, never used, and the app's
 *   messenger should see the handles the app knows.
 * - VkDebugUtilsMessengerCallbackDataEXT: messages from layers below the
 *   layer (validation, drivers) name the driver's handles; translating them
 *   back would need a reverse map the layer does not keep (README). */
#define KMT_MEMORY_EXEMPT(X)                                                    \
    X(vkSubmitDebugUtilsMessageEXT)                                             \
    X(vkDebugReportMessageEXT)                                                  \
    X(VkDebugUtilsMessengerCallbackDataEXT)

/* Device extensions that carry a VkDeviceMemory and that the layer
 * translates: an app may enable them beside VK_KMT_offer_reclaim. Every
 * other extension that carries one is refused at vkCreateDevice
 * (VK_ERROR_EXTENSION_NOT_PRESENT and a message naming it). X(name). */
#define KMT_TRANSLATED_EXTENSIONS(X)                                            \
    X("VK_KHR_bind_memory2")                                                    \
    X("VK_KHR_buffer_device_address")                                           \
    X("VK_KHR_map_memory2")                                                     \
    X("VK_KHR_external_memory_fd")                                              \
    X("VK_KHR_video_queue")                                                     \
    X("VK_EXT_pageable_device_local_memory")                                    \
    X("VK_EXT_private_data")                                                    \
    X("VK_EXT_debug_marker")                                                    \
    X("VK_NV_external_memory_rdma")                                             \
    X("VK_NV_ray_tracing")

#endif

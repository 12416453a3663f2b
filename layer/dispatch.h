/*
 * dispatch.h -- the next layer's functions this layer calls, one X-macro list
 * per level (the shader_object/vkBasalt pattern): the struct members and the
 * code that fills them come from the same list.
 *
 * Core names are resolved first, aliases first for apps below the version
 * that made them core, and a NULL result falls back to the other name.
 */
#ifndef KMT_DISPATCH_H
#define KMT_DISPATCH_H

#include <stdbool.h>
#include <vulkan/vulkan_core.h>
#include <vulkan/vk_layer.h>

/* X(member, alias name or 0, API version that made it core or 0) */
#define KMT_INSTANCE_FUNCTIONS(X)                                                        \
    X(GetInstanceProcAddr, 0, 0)                                                            \
    X(DestroyInstance, 0, 0)                                                                \
    X(EnumeratePhysicalDevices, 0, 0)                                                       \
    X(EnumeratePhysicalDeviceGroups, "vkEnumeratePhysicalDeviceGroupsKHR", VK_API_VERSION_1_1) \
    X(EnumerateDeviceExtensionProperties, 0, 0)                                             \
    X(GetPhysicalDeviceProperties, 0, 0)                                                    \
    X(GetPhysicalDeviceFeatures2, "vkGetPhysicalDeviceFeatures2KHR", VK_API_VERSION_1_1)                     \
    X(GetPhysicalDeviceMemoryProperties, 0, 0)                                              \
    X(GetPhysicalDeviceMemoryProperties2, "vkGetPhysicalDeviceMemoryProperties2KHR", VK_API_VERSION_1_1)     \
    X(GetPhysicalDeviceQueueFamilyProperties, 0, 0)                                         \
    X(CreateDebugUtilsMessengerEXT, 0, 0)                                                   \
    X(DestroyDebugUtilsMessengerEXT, 0, 0)                                                  \
    X(SubmitDebugUtilsMessageEXT, 0, 0)

#define KMT_DEVICE_FUNCTIONS(X)                                                          \
    X(GetDeviceProcAddr, 0, 0)                                                              \
    X(DestroyDevice, 0, 0)                                                                  \
    X(GetDeviceQueue, 0, 0)                                                                 \
    X(GetDeviceQueue2, 0, 0)                                                                \
    X(AllocateMemory, 0, 0)                                                                 \
    X(FreeMemory, 0, 0)                                                                     \
    X(MapMemory, 0, 0)                                                                      \
    X(UnmapMemory, 0, 0)                                                                    \
    X(FlushMappedMemoryRanges, 0, 0)                                                        \
    X(BindBufferMemory, 0, 0)                                                               \
    X(BindBufferMemory2, "vkBindBufferMemory2KHR", VK_API_VERSION_1_1)                                       \
    X(BindImageMemory, 0, 0)                                                                \
    X(BindImageMemory2, "vkBindImageMemory2KHR", VK_API_VERSION_1_1)                                         \
    X(CreateBuffer, 0, 0)                                                                   \
    X(DestroyBuffer, 0, 0)                                                                  \
    X(DestroyImage, 0, 0)                                                                   \
    X(GetBufferMemoryRequirements, 0, 0)                                                    \
    X(SetDeviceMemoryPriorityEXT, 0, 0)                                                     \
    X(CreateSemaphore, 0, 0)                                                                \
    X(DestroySemaphore, 0, 0)                                                               \
    X(GetSemaphoreCounterValue, "vkGetSemaphoreCounterValueKHR", VK_API_VERSION_1_2)                         \
    X(WaitSemaphores, "vkWaitSemaphoresKHR", VK_API_VERSION_1_2)                                             \
    X(QueueSubmit, 0, 0)                                                                    \
    X(QueueSubmit2, "vkQueueSubmit2KHR", VK_API_VERSION_1_3)                                                 \
    X(QueueBindSparse, 0, 0)                                                                \
    X(QueueWaitIdle, 0, 0)                                                                  \
    X(DeviceWaitIdle, 0, 0)                                                                 \
    X(WaitForFences, 0, 0)                                                                  \
    X(GetFenceStatus, 0, 0)                                                                 \
    X(ResetFences, 0, 0)                                                                    \
    X(DestroyFence, 0, 0)                                                                   \
    X(QueuePresentKHR, 0, 0)                                                                \
    X(CreateCommandPool, 0, 0)                                                              \
    X(DestroyCommandPool, 0, 0)                                                             \
    X(AllocateCommandBuffers, 0, 0)                                                         \
    X(FreeCommandBuffers, 0, 0)                                                             \
    X(BeginCommandBuffer, 0, 0)                                                             \
    X(EndCommandBuffer, 0, 0)                                                               \
    X(CmdFillBuffer, 0, 0)                                                                  \
    X(SetDebugUtilsObjectNameEXT, 0, 0)

#define KMT_DECLARE_MEMBER(name, alias, version) PFN_vk##name name;

struct kmt_instance_dispatch {
    KMT_INSTANCE_FUNCTIONS(KMT_DECLARE_MEMBER)
};

struct kmt_device_dispatch {
    KMT_DEVICE_FUNCTIONS(KMT_DECLARE_MEMBER)
};

/* api_version: the app's (instance) or the effective (device) version; below
 * the version that made a command core its alias is resolved first. */
void kmt_fill_instance_dispatch(struct kmt_instance_dispatch *table, VkInstance instance, PFN_vkGetInstanceProcAddr gipa,
                                uint32_t api_version);
void kmt_fill_device_dispatch(struct kmt_device_dispatch *table, VkDevice device, PFN_vkGetDeviceProcAddr gdpa,
                              uint32_t api_version);

#endif

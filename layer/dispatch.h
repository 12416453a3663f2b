/*
 * dispatch.h -- the next layer's functions this layer calls, one X-macro list
 * per level (the shader_object/vkBasalt pattern): the struct members and the
 * code that fills them come from the same list.
 *
 * Core names are resolved first; a NULL result falls back to the KHR/EXT alias
 * so apps at apiVersion 1.0 that enabled the extension work too.
 */
#ifndef KMT_DISPATCH_H
#define KMT_DISPATCH_H

#include <vulkan/vulkan_core.h>
#include <vulkan/vk_layer.h>

/* X(member, core name suffix, alias suffix or 0) */
#define KMT_INSTANCE_FUNCTIONS(X)                                                        \
    X(GetInstanceProcAddr, 0)                                                            \
    X(DestroyInstance, 0)                                                                \
    X(EnumeratePhysicalDevices, 0)                                                       \
    X(EnumerateDeviceExtensionProperties, 0)                                             \
    X(GetPhysicalDeviceProperties, 0)                                                    \
    X(GetPhysicalDeviceFeatures2, "vkGetPhysicalDeviceFeatures2KHR")                     \
    X(GetPhysicalDeviceMemoryProperties, 0)                                              \
    X(GetPhysicalDeviceMemoryProperties2, "vkGetPhysicalDeviceMemoryProperties2KHR")     \
    X(GetPhysicalDeviceQueueFamilyProperties, 0)                                         \
    X(CreateDebugUtilsMessengerEXT, 0)                                                   \
    X(DestroyDebugUtilsMessengerEXT, 0)                                                  \
    X(SubmitDebugUtilsMessageEXT, 0)

#define KMT_DEVICE_FUNCTIONS(X)                                                          \
    X(GetDeviceProcAddr, 0)                                                              \
    X(DestroyDevice, 0)                                                                  \
    X(GetDeviceQueue, 0)                                                                 \
    X(GetDeviceQueue2, 0)                                                                \
    X(AllocateMemory, 0)                                                                 \
    X(FreeMemory, 0)                                                                     \
    X(MapMemory, 0)                                                                      \
    X(UnmapMemory, 0)                                                                    \
    X(FlushMappedMemoryRanges, 0)                                                        \
    X(BindBufferMemory, 0)                                                               \
    X(BindBufferMemory2, "vkBindBufferMemory2KHR")                                       \
    X(BindImageMemory, 0)                                                                \
    X(BindImageMemory2, "vkBindImageMemory2KHR")                                         \
    X(CreateBuffer, 0)                                                                   \
    X(DestroyBuffer, 0)                                                                  \
    X(DestroyImage, 0)                                                                   \
    X(GetBufferMemoryRequirements, 0)                                                    \
    X(SetDeviceMemoryPriorityEXT, 0)                                                     \
    X(CreateSemaphore, 0)                                                                \
    X(DestroySemaphore, 0)                                                               \
    X(GetSemaphoreCounterValue, "vkGetSemaphoreCounterValueKHR")                         \
    X(WaitSemaphores, "vkWaitSemaphoresKHR")                                             \
    X(QueueSubmit, 0)                                                                    \
    X(QueueSubmit2, "vkQueueSubmit2KHR")                                                 \
    X(QueueBindSparse, 0)                                                                \
    X(QueueWaitIdle, 0)                                                                  \
    X(DeviceWaitIdle, 0)                                                                 \
    X(WaitForFences, 0)                                                                  \
    X(GetFenceStatus, 0)                                                                 \
    X(QueuePresentKHR, 0)                                                                \
    X(CreateCommandPool, 0)                                                              \
    X(DestroyCommandPool, 0)                                                             \
    X(AllocateCommandBuffers, 0)                                                         \
    X(FreeCommandBuffers, 0)                                                             \
    X(BeginCommandBuffer, 0)                                                             \
    X(EndCommandBuffer, 0)                                                               \
    X(CmdFillBuffer, 0)

#define KMT_DECLARE_MEMBER(name, alias) PFN_vk##name name;

struct kmt_instance_dispatch {
    KMT_INSTANCE_FUNCTIONS(KMT_DECLARE_MEMBER)
};

struct kmt_device_dispatch {
    KMT_DEVICE_FUNCTIONS(KMT_DECLARE_MEMBER)
};

void kmt_fill_instance_dispatch(struct kmt_instance_dispatch *table, VkInstance instance, PFN_vkGetInstanceProcAddr gipa);
void kmt_fill_device_dispatch(struct kmt_device_dispatch *table, VkDevice device, PFN_vkGetDeviceProcAddr gdpa);

#endif

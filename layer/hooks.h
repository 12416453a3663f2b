/* SPDX-License-Identifier: MIT */
/*
 * hooks.h -- what the device hooks of a device that enabled the extension
 * share: the device lock's helpers, deferred messages, and the translation of
 * the app's VkDeviceMemory handles into the driver's.
 *
 * Translation rule (DESIGN.md, "Memory handles"): every command that carries
 * a VkDeviceMemory resolves each handle before calling down. A handle that is
 * not a live allocation of the device (freed, stale, another device's, never
 * one), or one whose memory was decommitted where the driver would need it,
 * is never passed down: the hook reports it (a message naming the command,
 * the element and the handle) and fails the call (or, for a void command,
 * does nothing).
 */
#ifndef KMT_HOOKS_H
#define KMT_HOOKS_H

#include <vulkan/vulkan_core.h>

#include "device.h"
#include "vk_compat.h"

/* A message built under the device lock and sent after it is released
 * (a message may reach the app's callback, which may call back into us). */
struct kmt_pending_message {
    enum kmt_log_level level;
    const char *id; /* NULL: nothing to send */
    VkObjectType object_type;
    uint64_t object;
    char text[512];
};

void kmt_emit(const struct kmt_device *d, const struct kmt_pending_message *message);

/* The extensions a command belongs to (kmt_command_device). */
#define KMT_EXT_OFFER_RECLAIM 0x1u
#define KMT_EXT_RESIDENCY 0x2u
/* The device of an extension command, with its deferred messages flushed;
 * NULL when it is not a device of this layer or did not enable any of
 * `extensions`. */
struct kmt_device *kmt_command_device(VkDevice device, unsigned extensions);
/* A tracker error as a message naming the element (sent after the lock is
 * dropped), the VkResult for it, and the NULL-pointer / wrong-sType rejection. */
void kmt_note_error(struct kmt_pending_message *m, const struct kmt_error_info *error, const char *command,
                    const struct kmt_handle_list *list);
VkResult kmt_error_result(enum kmt_error e);
VkResult kmt_reject_info(struct kmt_device *d, const char *command, enum kmt_error code, uint64_t stype);
/* A command's info pointer: NULL or a wrong sType is reported (naming the
 * command) and returns VK_ERROR_VALIDATION_FAILED_EXT; else VK_SUCCESS. */
VkResult kmt_check_info(struct kmt_device *d, const char *command, const void *info, VkStructureType stype);

/* The device of a hooked call (every hooked device is registered). */
static inline struct kmt_device *
kmt_hooked_device(VkDevice device)
{
    return kmt_device_from_handle(device);
}

/* The device of a hooked queue. */
static inline struct kmt_device *
kmt_queue_device(VkQueue queue)
{
    return kmt_queue_from_handle(queue)->device;
}

/* The driver's handle for an app handle; on failure reports why (unknown or
 * decommitted) as "<command>: <what> (0x...) ..." and returns 0. Lock-free. */
uint64_t kmt_translate_memory(struct kmt_device *d, const char *command, const char *what, uint64_t memory);

/* Deferred offers that may take effect, finished fills, and the pressure
 * policy; cheap when there is nothing to do. Caller holds the lock. */
void kmt_promote_locked(struct kmt_device *d);
void kmt_relieve_locked(struct kmt_device *d);
/* The driver's budgets for the pressure policy (outside the lock). */
void kmt_refresh_budgets(struct kmt_device *d);

/* The hooks, by the names in memory_commands.h and hooks.c. */
VKAPI_ATTR VkResult VKAPI_CALL kmt_AllocateMemory(VkDevice device, const VkMemoryAllocateInfo *pInfo,
                                                  const VkAllocationCallbacks *pAllocator, VkDeviceMemory *pMemory);
VKAPI_ATTR void VKAPI_CALL kmt_FreeMemory(VkDevice device, VkDeviceMemory memory,
                                          const VkAllocationCallbacks *pAllocator);
VKAPI_ATTR VkResult VKAPI_CALL kmt_MapMemory(VkDevice device, VkDeviceMemory memory, VkDeviceSize offset,
                                             VkDeviceSize size, VkMemoryMapFlags flags, void **ppData);
VKAPI_ATTR void VKAPI_CALL kmt_UnmapMemory(VkDevice device, VkDeviceMemory memory);
VKAPI_ATTR VkResult VKAPI_CALL kmt_MapMemory2(VkDevice device, const VkMemoryMapInfo *pInfo, void **ppData);
VKAPI_ATTR VkResult VKAPI_CALL kmt_UnmapMemory2(VkDevice device, const VkMemoryUnmapInfo *pInfo);
VKAPI_ATTR VkResult VKAPI_CALL kmt_FlushMappedMemoryRanges(VkDevice device, uint32_t count,
                                                           const VkMappedMemoryRange *pRanges);
VKAPI_ATTR VkResult VKAPI_CALL kmt_InvalidateMappedMemoryRanges(VkDevice device, uint32_t count,
                                                                const VkMappedMemoryRange *pRanges);
VKAPI_ATTR void VKAPI_CALL kmt_GetDeviceMemoryCommitment(VkDevice device, VkDeviceMemory memory,
                                                         VkDeviceSize *pCommitted);
VKAPI_ATTR uint64_t VKAPI_CALL kmt_GetDeviceMemoryOpaqueCaptureAddress(
    VkDevice device, const VkDeviceMemoryOpaqueCaptureAddressInfo *pInfo);
VKAPI_ATTR void VKAPI_CALL kmt_SetDeviceMemoryPriorityEXT(VkDevice device, VkDeviceMemory memory, float priority);
VKAPI_ATTR VkResult VKAPI_CALL kmt_GetMemoryFdKHR(VkDevice device, const VkMemoryGetFdInfoKHR *pInfo, int *pFd);
VKAPI_ATTR VkResult VKAPI_CALL kmt_GetMemoryRemoteAddressNV(VkDevice device,
                                                            const VkMemoryGetRemoteAddressInfoNV *pInfo,
                                                            VkRemoteAddressNV *pAddress);

VKAPI_ATTR VkResult VKAPI_CALL kmt_BindBufferMemory(VkDevice device, VkBuffer buffer, VkDeviceMemory memory,
                                                    VkDeviceSize offset);
VKAPI_ATTR VkResult VKAPI_CALL kmt_BindImageMemory(VkDevice device, VkImage image, VkDeviceMemory memory,
                                                   VkDeviceSize offset);
VKAPI_ATTR VkResult VKAPI_CALL kmt_BindBufferMemory2(VkDevice device, uint32_t count,
                                                     const VkBindBufferMemoryInfo *pInfos);
VKAPI_ATTR VkResult VKAPI_CALL kmt_BindImageMemory2(VkDevice device, uint32_t count,
                                                    const VkBindImageMemoryInfo *pInfos);
VKAPI_ATTR VkResult VKAPI_CALL kmt_QueueBindSparse(VkQueue queue, uint32_t count, const VkBindSparseInfo *pInfo,
                                                   VkFence fence);
VKAPI_ATTR VkResult VKAPI_CALL kmt_BindVideoSessionMemoryKHR(VkDevice device, VkVideoSessionKHR session,
                                                             uint32_t count,
                                                             const VkBindVideoSessionMemoryInfoKHR *pInfos);
VKAPI_ATTR VkResult VKAPI_CALL kmt_BindAccelerationStructureMemoryNV(
    VkDevice device, uint32_t count, const VkBindAccelerationStructureMemoryInfoNV *pInfos);
VKAPI_ATTR void VKAPI_CALL kmt_DestroyBuffer(VkDevice device, VkBuffer buffer,
                                             const VkAllocationCallbacks *pAllocator);
VKAPI_ATTR void VKAPI_CALL kmt_DestroyImage(VkDevice device, VkImage image, const VkAllocationCallbacks *pAllocator);

VKAPI_ATTR VkResult VKAPI_CALL kmt_SetDebugUtilsObjectNameEXT(VkDevice device,
                                                              const VkDebugUtilsObjectNameInfoEXT *pInfo);
VKAPI_ATTR VkResult VKAPI_CALL kmt_SetDebugUtilsObjectTagEXT(VkDevice device,
                                                             const VkDebugUtilsObjectTagInfoEXT *pInfo);
VKAPI_ATTR VkResult VKAPI_CALL kmt_DebugMarkerSetObjectNameEXT(VkDevice device,
                                                               const VkDebugMarkerObjectNameInfoEXT *pInfo);
VKAPI_ATTR VkResult VKAPI_CALL kmt_DebugMarkerSetObjectTagEXT(VkDevice device,
                                                              const VkDebugMarkerObjectTagInfoEXT *pInfo);
VKAPI_ATTR VkResult VKAPI_CALL kmt_SetPrivateData(VkDevice device, VkObjectType type, uint64_t handle,
                                                  VkPrivateDataSlot slot, uint64_t data);
VKAPI_ATTR void VKAPI_CALL kmt_GetPrivateData(VkDevice device, VkObjectType type, uint64_t handle,
                                              VkPrivateDataSlot slot, uint64_t *pData);

/* The driver's handle for an object named by (type, handle): a
 * VkDeviceMemory is translated (0 when it is not live), anything else is
 * returned as is. */
uint64_t kmt_driver_object(struct kmt_device *d, VkObjectType type, uint64_t handle);

#endif

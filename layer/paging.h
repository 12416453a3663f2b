/*
 * paging.h -- submission tracking, the paging timeline semaphore and the
 * queue hooks of a device that enabled the extension.
 *
 * Every submission (vkQueueSubmit, vkQueueSubmit2, vkQueueBindSparse) gets a
 * device-wide serial and one extra batch that signals the queue's tracking
 * timeline semaphore with it. Signal operations "additionally include all
 * commands that occur earlier in submission order", so when the semaphore
 * reaches serial s every earlier submission on that queue is done; no app
 * pNext chain is touched. An offer made when the last serial was S becomes
 * effective once every queue has completed S or is idle.
 */
#ifndef KMT_PAGING_H
#define KMT_PAGING_H

#include <vulkan/vulkan_core.h>

#include "device.h"

VkResult kmt_paging_setup(struct kmt_device *device);
void kmt_paging_teardown(struct kmt_device *device);

/* The last serial handed out: what an offer made now must wait for. */
uint64_t kmt_last_serial(struct kmt_device *device);
/* Every submission with a serial <= the result has completed (UINT64_MAX:
 * nothing is pending). Polls the tracking semaphores; never blocks. */
uint64_t kmt_completed_serial(struct kmt_device *device);
/* The paging semaphore's current value. */
uint64_t kmt_paging_completed(struct kmt_device *device);

/* Queues a GPU fill of non-host-visible memory on the paging queue (caller
 * holds the device lock); returns the paging value it signals, 0 if none. */
uint64_t kmt_gpu_fill(struct kmt_device *device, uint64_t memory, VkDeviceSize size, uint32_t type_index,
                      uint32_t pattern);
/* Frees the fills whose paging value is <= completed (caller holds the lock). */
void kmt_reap_fills(struct kmt_device *device, uint64_t completed);
/* The highest paging value of a fill of `memory` still tracked, or 0. */
uint64_t kmt_pending_fill_value(const struct kmt_device *device, uint64_t memory);

VKAPI_ATTR void VKAPI_CALL kmt_GetDeviceQueue(VkDevice device, uint32_t family, uint32_t index, VkQueue *pQueue);
VKAPI_ATTR void VKAPI_CALL kmt_GetDeviceQueue2(VkDevice device, const VkDeviceQueueInfo2 *pInfo, VkQueue *pQueue);
VKAPI_ATTR VkResult VKAPI_CALL kmt_QueueSubmit(VkQueue queue, uint32_t count, const VkSubmitInfo *pSubmits,
                                               VkFence fence);
VKAPI_ATTR VkResult VKAPI_CALL kmt_QueueSubmit2(VkQueue queue, uint32_t count, const VkSubmitInfo2 *pSubmits,
                                                VkFence fence);
VKAPI_ATTR VkResult VKAPI_CALL kmt_QueueBindSparse(VkQueue queue, uint32_t count, const VkBindSparseInfo *pInfo,
                                                   VkFence fence);
VKAPI_ATTR VkResult VKAPI_CALL kmt_QueueWaitIdle(VkQueue queue);
VKAPI_ATTR VkResult VKAPI_CALL kmt_QueuePresentKHR(VkQueue queue, const VkPresentInfoKHR *pInfo);
VKAPI_ATTR VkResult VKAPI_CALL kmt_DeviceWaitIdle(VkDevice device);
VKAPI_ATTR VkResult VKAPI_CALL kmt_WaitForFences(VkDevice device, uint32_t count, const VkFence *pFences,
                                                 VkBool32 waitAll, uint64_t timeout);
VKAPI_ATTR VkResult VKAPI_CALL kmt_GetFenceStatus(VkDevice device, VkFence fence);
VKAPI_ATTR VkResult VKAPI_CALL kmt_WaitSemaphores(VkDevice device, const VkSemaphoreWaitInfo *pInfo,
                                                  uint64_t timeout);
VKAPI_ATTR VkResult VKAPI_CALL kmt_GetSemaphoreCounterValue(VkDevice device, VkSemaphore semaphore,
                                                            uint64_t *pValue);

#endif

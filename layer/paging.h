/*
 * paging.h -- submission tracking, the paging timeline semaphore, GPU fills
 * and the queue hooks of a device that enabled the extension.
 *
 * The app's submissions go down untouched; the queue hook only counts them
 * (and remembers which fence ends which), under the queue lock. When an offer
 * without OFFER_IMMEDIATELY must wait for earlier work, the layer submits one
 * empty "marker" batch on each queue with work not known to be done, which
 * signals that queue's tracking timeline semaphore with a device-wide serial:
 * a signal operation "additionally includes all commands that occur earlier
 * in submission order", so when it lands every earlier submission is done.
 * Work is also known done when the app's fence wait, vkQueueWaitIdle or
 * vkDeviceWaitIdle succeeds. An offer made when the last marker serial was S
 * becomes effective once every queue has reached S or is known idle.
 */
#ifndef KMT_PAGING_H
#define KMT_PAGING_H

#include <vulkan/vulkan_core.h>

#include "device.h"

VkResult kmt_paging_setup(struct kmt_device *device);
void kmt_paging_teardown(struct kmt_device *device);

/* What an offer made now must wait for, in *wait_serial: 0 when every
 * queue's earlier work is known done, else the serial of the markers
 * submitted for it (never blocks). Fails when a marker could not be
 * submitted (out of memory, device lost). */
VkResult kmt_mark_earlier_work(struct kmt_device *device, uint64_t *wait_serial);
/* Every marker with a serial <= the result has landed or covers only work
 * known done (UINT64_MAX: nothing is pending). Polls; never blocks. */
uint64_t kmt_completed_serial(struct kmt_device *device);
/* The paging semaphore's current value. */
uint64_t kmt_paging_completed(struct kmt_device *device);

/* Queues a GPU fill of non-host-visible memory on the paging queue (caller
 * holds the device lock); returns the paging value it signals, or
 * KMT_FILL_FAILED. */
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
/* vkQueueBindSparse with infos already translated (bind_hooks.c): counted
 * like a submission. */
VkResult kmt_submit_bind_sparse(VkQueue queue, uint32_t count, const VkBindSparseInfo *pInfo, VkFence fence);
VKAPI_ATTR VkResult VKAPI_CALL kmt_QueueWaitIdle(VkQueue queue);
VKAPI_ATTR VkResult VKAPI_CALL kmt_QueuePresentKHR(VkQueue queue, const VkPresentInfoKHR *pInfo);
VKAPI_ATTR VkResult VKAPI_CALL kmt_DeviceWaitIdle(VkDevice device);
VKAPI_ATTR VkResult VKAPI_CALL kmt_WaitForFences(VkDevice device, uint32_t count, const VkFence *pFences,
                                                 VkBool32 waitAll, uint64_t timeout);
VKAPI_ATTR VkResult VKAPI_CALL kmt_GetFenceStatus(VkDevice device, VkFence fence);
VKAPI_ATTR VkResult VKAPI_CALL kmt_ResetFences(VkDevice device, uint32_t count, const VkFence *pFences);
VKAPI_ATTR void VKAPI_CALL kmt_DestroyFence(VkDevice device, VkFence fence, const VkAllocationCallbacks *pAllocator);
VKAPI_ATTR VkResult VKAPI_CALL kmt_WaitSemaphores(VkDevice device, const VkSemaphoreWaitInfo *pInfo,
                                                  uint64_t timeout);
VKAPI_ATTR VkResult VKAPI_CALL kmt_GetSemaphoreCounterValue(VkDevice device, VkSemaphore semaphore,
                                                            uint64_t *pValue);

#endif

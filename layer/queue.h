/* SPDX-License-Identifier: MIT */
/*
 * queue.h -- the queue records of a device that enabled the extension, and
 * how the layer knows the app's GPU work is done (submission tracking).
 *
 * Every queue gets its record at vkCreateDevice (the queues of the app's
 * pQueueCreateInfos and the layer's own paging queue), so no queue handle the
 * app can get is without one, and the device's queue list never changes until
 * vkDestroyDevice.
 *
 * The app's submissions go down untouched; the submit hooks only count them
 * per queue (and remember which fence ends which), under the queue lock.
 * Submissions on a queue are known done up to a count when:
 *   - a marker landed: an empty batch the layer submitted after them, which
 *     signals the queue's tracking timeline semaphore with a device-wide
 *     serial (a signal operation "additionally includes all commands that
 *     occur earlier in submission order");
 *   - vkQueueWaitIdle / vkDeviceWaitIdle returned VK_SUCCESS: the submissions
 *     counted when the wait began;
 *   - vkWaitForFences (all fences, or one) / vkGetFenceStatus returned
 *     VK_SUCCESS for a fence: the submission that fence belonged to when the
 *     call began, as the layer counted it (with every earlier one on its
 *     queue). The layer relies on the external-synchronisation rules here: a
 *     fence reset and resubmitted while another thread waits on it (an app
 *     error validation 1.3.239 misses in most runs) proves only the older
 *     submission done, never the newer one.
 * Markers are submitted only when an offer without OFFER_IMMEDIATELY finds
 * work not known done; an offer made when the last serial was S takes effect
 * once every queue has reached S or is known done.
 *
 * Locks: the device lock is taken before a queue lock; no lock is held across
 * a wait. While an idle wait is in progress on a queue (the app's, or its
 * vkDeviceWaitIdle) that queue is the app's alone (external synchronisation):
 * the layer submits nothing on it. A marker needed meanwhile is owed -- the
 * wait itself proves the work done -- and submitted later only if the wait
 * fails; a GPU fill needed meanwhile fails (the memory stays OFFERED).
 */
#ifndef KMT_QUEUE_H
#define KMT_QUEUE_H

#include <vulkan/vulkan_core.h>

#include "device.h"

/* Makes the record of the queue (family, index) the driver returned as
 * `handle` (at vkCreateDevice only). Returns it, or NULL when out of memory. */
struct kmt_queue *kmt_track_queue(struct kmt_device *device, VkQueue handle, uint32_t family, uint32_t index);
/* Makes the records of every queue the app asked for (vkCreateDevice fails
 * with the result when one cannot be made). */
VkResult kmt_track_device_queues(struct kmt_device *device, const VkDeviceCreateInfo *app_info);
/* Waits for the layer's markers still in flight, then frees every queue
 * record and tracking semaphore (vkDestroyDevice, or a failed vkCreateDevice). */
void kmt_queues_teardown(struct kmt_device *device);

/* Submits a batch of the layer's own (a GPU fill) on `queue`, under its lock.
 * VK_NOT_READY (nothing submitted) while the app waits for that queue to go
 * idle: the queue is the app's alone then. */
VkResult kmt_queue_submit_own(struct kmt_queue *queue, const VkSubmitInfo *submit);

/* What an offer made now must wait for, in *wait_serial: 0 when every
 * queue's earlier work is known done, else the serial of the markers
 * submitted (or owed) for it. Never blocks. Fails when a marker could not be
 * submitted (out of memory, device lost). Caller holds the device lock. */
VkResult kmt_mark_earlier_work(struct kmt_device *device, uint64_t *wait_serial);
/* Every marker with a serial <= the result has landed or covers only work
 * known done (UINT64_MAX: nothing is pending). Polls, and submits markers
 * owed by an idle wait that failed; never blocks. Caller holds the device lock. */
uint64_t kmt_completed_serial(struct kmt_device *device);

VKAPI_ATTR void VKAPI_CALL kmt_GetDeviceQueue(VkDevice device, uint32_t family, uint32_t index, VkQueue *pQueue);
VKAPI_ATTR void VKAPI_CALL kmt_GetDeviceQueue2(VkDevice device, const VkDeviceQueueInfo2 *pInfo, VkQueue *pQueue);
VKAPI_ATTR VkResult VKAPI_CALL kmt_QueueSubmit(VkQueue queue, uint32_t count, const VkSubmitInfo *pSubmits,
                                               VkFence fence);
VKAPI_ATTR VkResult VKAPI_CALL kmt_QueueSubmit2(VkQueue queue, uint32_t count, const VkSubmitInfo2 *pSubmits,
                                                VkFence fence);
/* vkQueueBindSparse with infos already translated to the driver's memory
 * handles (bind_hooks.c): counted like a submission. */
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

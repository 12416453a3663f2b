/* SPDX-License-Identifier: MIT */
/*
 * paging.h -- the paging timeline semaphore (vkGetPagingFenceKMT), the paging
 * queue and the GPU fills that make a reported discard true; the queue hooks
 * and submission tracking are in queue.h (included here).
 *
 * GPU fills run on the paging queue: a spare queue of the layer's own when
 * the app's family had one, else the app's queue, shared under its lock. A
 * fill signals the paging semaphore with the next value; reclaim hands that
 * value out as the paging fence. While the app waits for the paging queue to
 * go idle (vkQueueWaitIdle on a shared queue, vkDeviceWaitIdle) the queue is
 * the app's alone: a fill needed then fails, and the memory stays OFFERED.
 *
 * A discard (and so a fill) happens only to OFFERED memory, whose earlier GPU
 * work is known done. What "known done" relies on -- markers that landed,
 * idle waits and fence waits for the submissions counted when the wait
 * began, never a fence's later reuse -- is listed in queue.h.
 */
#ifndef KMT_PAGING_H
#define KMT_PAGING_H

#include <vulkan/vulkan_core.h>

#include "device.h"
#include "queue.h"

/* The paging semaphore and the paging queue's record (vkCreateDevice). */
VkResult kmt_paging_setup(struct kmt_device *device);
/* Waits for the layer's fills and markers, then frees what setup, the fills
 * and the queue records hold. */
void kmt_paging_teardown(struct kmt_device *device);

/* The paging semaphore's current value. */
uint64_t kmt_paging_completed(struct kmt_device *device);

/* Queues a GPU fill of non-host-visible memory on the paging queue (caller
 * holds the device lock); returns the paging value it signals, or
 * KMT_FILL_FAILED (no paging queue, memory a buffer cannot alias -- its type
 * index >= 32 included --, out of memory, or the paging queue inside the
 * app's idle wait). */
uint64_t kmt_gpu_fill(struct kmt_device *device, uint64_t memory, VkDeviceSize size, uint32_t type_index,
                      uint32_t pattern);
/* Frees the fills whose paging value is <= completed (caller holds the lock). */
void kmt_reap_fills(struct kmt_device *device, uint64_t completed);
/* The highest paging value of a fill of `memory` still tracked, or 0. */
uint64_t kmt_pending_fill_value(const struct kmt_device *device, uint64_t memory);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * events.h -- what a device's state changes turn into: a verbose message per
 * change (LOG_LEVEL=verbose) and the trace (TRACE=<path>), for a device that
 * enabled VK_KMT_offer_reclaim.
 *
 * The tracker reports each state change through ops.transition while the
 * device lock is held. The hook here only copies it, with the time, the
 * thread and the heap's usage and budget, into the device's queue: no I/O,
 * no Vulkan call, no app callback under the lock. Each command, once it has
 * released the lock, calls kmt_events_flush: the queue is taken (under the
 * lock, briefly) and turned into messages and trace events outside it. The
 * offer and reclaim commands also record their call as a span
 * (kmt_events_offer_done / kmt_events_reclaim_done).
 *
 * Free when off: without LOG_LEVEL=verbose and TRACE the device has no
 * events (device->events NULL), the tracker's ops.transition is NULL (one
 * predictable branch in the tracker), and every function here is one
 * predictable branch. Built with KMT_TRACING=0 (CMake option KMT_TRACING=OFF)
 * they are empty: the benchmark's no-trace build.
 *
 * The trace, per device: a span per offer/reclaim call (count, first handles
 * with their names, priority, flags, paging fence, result); an instant per
 * state change (memory, name, size, heap, old and new status, reason and its
 * details); a fill event per discard fill (CPU, or GPU with its paging-fence
 * value); an instant when the paging fence is seen to reach a fill's value;
 * a "free" instant when memory that is not resident is freed; counter tracks
 * per heap ("heap N": offered, discarded, decommitted, resident, usage,
 * budget bytes) and for the paging fence. See trace.h for the file.
 */
#ifndef KMT_EVENTS_H
#define KMT_EVENTS_H

#include <stdint.h>
#include <vulkan/vulkan_core.h>
#include <vulkan/vk_kmt_offer_reclaim.h>

#include "device.h"

#ifndef KMT_TRACING
#define KMT_TRACING 1
#endif

typedef void (*kmt_transition_hook)(void *ctx, const struct kmt_transition *change);

#if KMT_TRACING

/* Creates the device's events when LOG_LEVEL=verbose or TRACE is set (after
 * its settings and memory properties are known) and returns the hook for the
 * tracker's ops.transition, whose ctx must be the device; NULL otherwise. */
kmt_transition_hook kmt_events_setup(struct kmt_device *device);
/* Flushes what is left (the loader holds its lock: messages go direct),
 * writes the trace file and frees the events. Before the tracker and the
 * paging semaphore go. */
void kmt_events_teardown(struct kmt_device *device);

void kmt_events_flush_slow(struct kmt_device *device);
/* After a command released the device lock. */
static inline void
kmt_events_flush(struct kmt_device *device)
{
    if (__builtin_expect(device->events != NULL, 0))
        kmt_events_flush_slow(device);
}

uint64_t kmt_events_clock(void); /* CLOCK_MONOTONIC, ns */
/* The start of a command's span (0 without events). */
static inline uint64_t
kmt_events_now(const struct kmt_device *device)
{
    return __builtin_expect(device->events != NULL, 0) ? kmt_events_clock() : 0;
}

void kmt_events_call_slow(struct kmt_device *device, const char *command, uint64_t start, uint32_t count,
                          const VkDeviceMemory *memories, const VkOfferResourceKMT *resources, uint32_t priority,
                          uint32_t flags, const uint64_t *fence, VkResult result);
/* The end of vkOfferAllocationsKMT / vkReclaimAllocationsKMT (after the lock
 * is released): the call's span, then kmt_events_flush. */
static inline void
kmt_events_offer_done(struct kmt_device *device, uint64_t start, const VkOfferAllocationsInfoKMT *info,
                      VkResult result)
{
    if (__builtin_expect(device->events != NULL, 0))
        kmt_events_call_slow(device, "vkOfferAllocationsKMT", start, info->allocationCount, info->pMemories,
                             info->pResources, info->priority, info->flags, NULL, result);
}
static inline void
kmt_events_reclaim_done(struct kmt_device *device, uint64_t start, const VkReclaimAllocationsInfoKMT *info,
                        uint64_t fence, VkResult result)
{
    if (__builtin_expect(device->events != NULL, 0))
        kmt_events_call_slow(device, "vkReclaimAllocationsKMT", start, info->allocationCount, info->pMemories,
                             info->pResources, 0, 0, &fence, result);
}

/* vkFreeMemory (from kmt_object_destroyed): memory that was not resident
 * leaves the offered / discarded / decommitted counters. */
void kmt_events_memory_freed(struct kmt_device *device, uint64_t memory);

#else /* !KMT_TRACING: nothing at all */

static inline kmt_transition_hook
kmt_events_setup(struct kmt_device *device)
{
    (void)device;
    return NULL;
}
static inline void
kmt_events_teardown(struct kmt_device *device)
{
    (void)device;
}
static inline void
kmt_events_flush(struct kmt_device *device)
{
    (void)device;
}
static inline uint64_t
kmt_events_now(const struct kmt_device *device)
{
    (void)device;
    return 0;
}
static inline void
kmt_events_offer_done(struct kmt_device *device, uint64_t start, const VkOfferAllocationsInfoKMT *info,
                      VkResult result)
{
    (void)device, (void)start, (void)info, (void)result;
}
static inline void
kmt_events_reclaim_done(struct kmt_device *device, uint64_t start, const VkReclaimAllocationsInfoKMT *info,
                        uint64_t fence, VkResult result)
{
    (void)device, (void)start, (void)info, (void)fence, (void)result;
}
static inline void
kmt_events_memory_freed(struct kmt_device *device, uint64_t memory)
{
    (void)device, (void)memory;
}

#endif

#endif

/* SPDX-License-Identifier: MIT */
#ifndef KMT_TEST_DRIVER_H
#define KMT_TEST_DRIVER_H

/*
 * VK_LAYER_KMT_test_driver: an explicit layer placed at the bottom of the test
 * stack (below VK_LAYER_KHRONOS_validation) that adds to lavapipe what it lacks
 * for this project: VK_EXT_memory_priority, VK_EXT_pageable_device_local_memory
 * and VK_EXT_memory_budget, a device-local-only memory type, recorded driver
 * priorities and a device-loss switch. It strips everything it adds before
 * calling lavapipe.
 *
 * Tests steer it through one plain struct, in the manner of Vulkan-Loader's
 * test layer: look up kmt_test_driver_control() with
 * dlopen(KMT_TEST_DRIVER_PATH, RTLD_NOW | RTLD_NOLOAD) + dlsym while an
 * instance exists (the loader unloads layers at vkDestroyInstance). Knobs that
 * must hold before vkCreateInstance come from environment variables, read at
 * every vkCreateInstance into the knobs below:
 *   KMT_TEST_DRIVER_HIDE=all|pageable|budget|priority   (comma list)
 *   KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE=1
 *   KMT_TEST_DRIVER_BUDGET_MB=<n>
 *   KMT_TEST_DRIVER_OPAQUE_EXTENSION=1  advertise VK_KMT_test_opaque_extension, a
 *       device extension no registry knows (stripped before lavapipe): what an
 *       extension newer than the layer looks like
 *   KMT_TEST_DRIVER_QUEUE_COUNT=<n>
 * Knob semantics:
 *  - hide_*: the extension is neither enumerated (NULL or own layer name) nor
 *    its feature reported (set to VK_FALSE); vkCreateDevice naming a hidden
 *    extension returns VK_ERROR_EXTENSION_NOT_PRESENT, like a driver without it
 *    (the loader lets it through because the manifest lists it).
 *  - device_local_only_type: the added type's index is lavapipe's
 *    memoryTypeCount (1). It breaks the spec's ordering rule (a type whose flags
 *    are a strict subset must come first); nothing checks that. Validation caches
 *    memory properties at vkCreateDevice: set this knob through the environment.
 *  - queue_count (environment only: validation reads the queue families once):
 *    every queue family reports at least n queues. Queues lavapipe does not
 *    have (it has one per family) are emulated: vkGetDeviceQueue(2) hands out
 *    a handle of the test driver's own whose vkQueueSubmit, vkQueueSubmit2 and
 *    vkQueueWaitIdle go to the family's real queue 0 (submissions serialised
 *    under one lock). That queue runs everything in submission order, so the
 *    queues are not independent: work on one waits for earlier work on the
 *    others, and so does a wait-idle (a fence submitted after the queue's
 *    work). Other commands taking a VkQueue (debug labels, sparse binds,
 *    present) must not be given an emulated queue.
 *  - fence_wait_hold: once the driver's vkWaitForFences returned (counted in
 *    fence_waits_returned), the call does not return to the layers above
 *    while the knob is set (read atomically): a test reuses the fence in that
 *    window, then clears the knob -- deterministically inside the waiter's call.
 *  - heap_budget, hide_*, lose_device, fence_wait_hold in the struct take
 *    effect at the next call.
 *    heap_budget and reported_heap_usage are read under `lock` (the layer's
 *    budget notification thread reads them while a test runs): change them
 *    with kmt_td_set_heap_budget / kmt_td_set_heap_usage, and the layer's
 *    next poll (or vkQueryVideoMemoryInfoKMT) sees the new value.
 *  - lose_device is cleared when the first live instance is created.
 * kmt_test_driver_reset(): clears the priority, device, instance and fence-wait
 * records and returns the knobs to their environment values (lose_device =
 * false, fence_wait_hold = false).
 * heap_usage / allocation_count are live state, not records: never reset; a
 * destroyed device's leftover allocations are dropped from them.
 */

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <vulkan/vulkan_core.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KMT_TD_MAX_PRIORITY_RECORDS 65536
#define KMT_TD_MAX_EXTENSIONS 64

enum kmt_td_priority_source {
    KMT_TD_PRIORITY_AT_ALLOCATE = 0, /* VkMemoryPriorityAllocateInfoEXT (or 0.5 when absent) */
    KMT_TD_PRIORITY_SET = 1,         /* vkSetDeviceMemoryPriorityEXT */
};

struct kmt_td_priority_record {
    uint64_t memory; /* the VkDeviceMemory the driver saw */
    float priority;
    enum kmt_td_priority_source source;
};

struct kmt_test_driver_control {
    pthread_mutex_t lock; /* guards the records; knobs are plain fields */

    /* knobs */
    bool hide_memory_priority;    /* VK_EXT_memory_priority not advertised */
    bool hide_pageable;           /* VK_EXT_pageable_device_local_memory not advertised */
    bool hide_memory_budget;      /* VK_EXT_memory_budget not advertised */
    bool device_local_only_type;  /* expose memory type 1: DEVICE_LOCAL only, heap 0 */
    uint64_t heap_budget;         /* reported heapBudget[0]; 0 = heap size */
    uint64_t reported_heap_usage; /* reported heapUsage[0] instead of the live bytes; 0 = the live bytes */
    bool lose_device;             /* submits and waits return VK_ERROR_DEVICE_LOST from now on */
    bool opaque_extension;        /* VK_KMT_test_opaque_extension advertised */
    uint32_t queue_count;         /* queues reported per family (0: lavapipe's own count) */
    bool fence_wait_hold;         /* vkWaitForFences holds after the driver's wait until cleared */

    /* records, reset by kmt_test_driver_reset() */
    uint32_t priority_record_count;
    struct kmt_td_priority_record priority_records[KMT_TD_MAX_PRIORITY_RECORDS];
    uint32_t fence_waits_entered; /* vkWaitForFences calls that reached the test driver */
    uint32_t fence_waits_returned; /* ... whose driver wait returned (atomic) */
    /* Calls that reached the test driver, counted atomically (read them with
     * __atomic_load_n): vkQueueSubmit/vkQueueSubmit2(KHR), vkWaitSemaphores(KHR). */
    uint64_t queue_submits;
    uint64_t semaphore_waits;
    uint64_t heap_usage;          /* bytes live through vkAllocateMemory/vkFreeMemory */
    uint32_t allocation_count;    /* live allocations */
    uint64_t last_allocated_memory; /* the VkDeviceMemory the driver made last (the layer's own handles
                                       differ from it: tests map the two through this) */

    /* what the last vkCreateDevice passed down to lavapipe's level */
    uint32_t created_device_count;
    uint32_t last_device_extension_count;
    char last_device_extensions[KMT_TD_MAX_EXTENSIONS][VK_MAX_EXTENSION_NAME_SIZE];
    bool last_device_timeline_semaphore;     /* feature enabled (any struct form) */
    bool last_device_memory_priority;        /* feature enabled */
    bool last_device_pageable;               /* feature enabled */
    uint32_t last_instance_api_version;      /* VkApplicationInfo::apiVersion seen (0 = none) */
    uint32_t last_instance_extension_count;
    char last_instance_extensions[KMT_TD_MAX_EXTENSIONS][VK_MAX_EXTENSION_NAME_SIZE];
};

/* Knobs the layer may read from its own thread: changed under the lock. */
static inline void
kmt_td_set_heap_budget(struct kmt_test_driver_control *c, uint64_t bytes)
{
    pthread_mutex_lock(&c->lock);
    c->heap_budget = bytes;
    pthread_mutex_unlock(&c->lock);
}

static inline void
kmt_td_set_heap_usage(struct kmt_test_driver_control *c, uint64_t bytes)
{
    pthread_mutex_lock(&c->lock);
    c->reported_heap_usage = bytes;
    pthread_mutex_unlock(&c->lock);
}

typedef struct kmt_test_driver_control *(*PFN_kmt_test_driver_control)(void);
typedef void (*PFN_kmt_test_driver_reset)(void);

#ifdef __cplusplus
}
#endif

#endif

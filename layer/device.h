/* SPDX-License-Identifier: MIT */
/*
 * device.h -- the layer's per-instance, per-physical-device, per-device and
 * per-queue state, and the global tables that find it from a handle.
 *
 * LOADER-NOTES: dispatch keys are not final inside vkCreateInstance /
 * vkCreateDevice, so state is keyed by the handle values themselves (the app
 * and the layer see the same VkInstance / VkDevice / VkQueue values), and
 * physical devices by the handles the layer's own enumerate hook returns.
 */
#ifndef KMT_DEVICE_H
#define KMT_DEVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>
#include <vulkan/vk_layer.h>

#include "dispatch.h"
#include "log.h"
#include "notify.h"
#include "offer.h"
#include "policy.h"
#include "segments.h"
#include "settings.h"
#include "settings_app.h"

#define KMT_LAYER_NAME "VK_LAYER_KMT_offer_reclaim"

/* Attached to a VkInstance. */
struct kmt_instance {
    VkInstance handle;
    struct kmt_instance_dispatch next;
    struct kmt_logger logger;
    uint32_t api_version;        /* the app's VkApplicationInfo::apiVersion (1.0 when absent) */
    VkAllocationCallbacks allocator;
    bool has_allocator;
    struct kmt_app_settings app_settings; /* what the app passed in VkLayerSettingsCreateInfoEXT */
};

/* Attached to a VkPhysicalDevice: what the driver underneath supports. */
struct kmt_physical_device {
    VkPhysicalDevice handle;
    struct kmt_instance *instance;
    bool probed;
    uint32_t api_version;        /* effective: min(instance, device) */
    bool timeline_extension;     /* VK_KHR_timeline_semaphore listed */
    bool timeline;               /* timelineSemaphore feature */
    bool memory_priority;        /* VK_EXT_memory_priority + feature */
    bool pageable;               /* VK_EXT_pageable_device_local_memory + feature */
    bool memory_budget;          /* VK_EXT_memory_budget */
};

struct kmt_device;
struct kmt_events;
struct kmt_names;

/* A GPU discard fill in flight (memory that is not host-visible). */
struct kmt_fill_job {
    uint64_t value;          /* paging-fence value its submission signals */
    uint64_t memory;         /* the VkDeviceMemory it writes */
    VkBuffer buffer;         /* temporary buffer aliasing the memory */
    VkCommandBuffer command_buffer;
    /* The memory was decommitted while the fill was pending: the driver's
     * memory is freed once the fill is done (VUID-vkFreeMemory-memory-00677). */
    bool free_memory;
    bool has_allocator;
    VkAllocationCallbacks allocator; /* the app's, when it allocated with some */
    struct kmt_fill_job *next;
};

#define KMT_FENCE_RING 16

/* Attached to a VkQueue of a device that enabled the extension; made at
 * vkCreateDevice (queue.h). */
struct kmt_queue {
    VkQueue handle;
    struct kmt_device *device;
    uint32_t family, index;
    /* Serialises submissions on this queue: the app's and the layer's own
     * (markers, paging fills) share it when the family has no spare queue.
     * Never held across a wait. */
    pthread_mutex_t lock;
    uint64_t submissions;              /* the app's submissions so far (under lock) */
    _Atomic uint64_t known_done;       /* of which are known complete (fence or idle waits) */
    uint32_t idle_waits;               /* vkQueueWaitIdle/vkDeviceWaitIdle in progress (under lock) */
    uint64_t wait_covers;              /* submissions the first of them covers (under lock) */
    struct {                           /* recent fenced submissions (under lock) */
        VkFence fence;
        uint64_t upto;                 /* its fence signals: submissions <= upto are done */
    } fences[KMT_FENCE_RING];
    uint32_t fence_next;
    /* Markers: written under this lock and the device lock. */
    VkSemaphore tracking;              /* timeline the markers signal, made by the first one */
    _Atomic uint64_t marker_serial;    /* serial of the last marker, submitted or owed */
    _Atomic uint64_t marker_covers;    /* submissions that marker comes after */
    uint64_t marker_submitted;         /* serial of the last marker submitted (teardown waits for it) */
    _Atomic uint64_t completed;        /* highest tracking value seen */
    struct kmt_queue *next_queue;
};

/* Attached to a VkDevice. */
struct kmt_device {
    VkDevice handle;
    struct kmt_instance *instance;
    struct kmt_physical_device *physical;
    struct kmt_device_dispatch next;
    PFN_vkSetDeviceLoaderData set_loader_data;
    VkAllocationCallbacks allocator;
    bool has_allocator;
    const VkAllocationCallbacks *pallocator; /* &allocator or NULL */

    bool enabled;                 /* the app enabled VK_KMT_offer_reclaim or VK_KMT_residency (or both): the
                                     layer hands out its own memory handles and tracks them */
    bool offer_reclaim;           /* the app enabled VK_KMT_offer_reclaim */
    bool residency;               /* the app enabled VK_KMT_residency */
    bool app_pageable;            /* the app itself enabled VK_EXT_pageable_device_local_memory */
    bool app_timeline_khr;        /* the app itself enabled VK_KHR_timeline_semaphore */
    bool pageable, memory_priority, memory_budget; /* enabled underneath (by the app or the layer) */

    struct kmt_settings settings;
    VkPhysicalDeviceMemoryProperties memory_properties;
    struct kmt_log_buffer startup_log; /* messages from inside vkCreateDevice */

    /* The queue GPU fills run on: one of the layer's own when the family had
     * a spare queue, else the app's queue shared under its lock. */
    uint32_t paging_family, paging_index;
    bool paging_dedicated;

    /* Every queue of the device, made at vkCreateDevice: the list never
     * changes until vkDestroyDevice, so it is walked without a lock. */
    struct kmt_queue *queues;

    /* Guards the tracker and everything below. Never held across a wait. */
    pthread_mutex_t lock;
    struct kmt_tracker tracker;
    struct kmt_policy policy;
    VkSemaphore paging;           /* the paging fence (vkGetPagingFenceKMT) */
    uint64_t paging_value;        /* last value a paging operation signals */
    struct kmt_queue *paging_queue;
    VkCommandPool paging_pool;
    struct kmt_fill_job *fill_jobs; /* GPU fills in flight, newest first */
    /* The app's VkAllocationCallbacks of each allocation made with some (the
     * app's handle -> a copy): a decommit frees the driver's memory with them. */
    struct kmt_handle_map memory_allocators;

    _Atomic uint64_t submit_serial; /* last serial handed to a marker (submitted or owed) */
    atomic_bool lost;               /* a call returned VK_ERROR_DEVICE_LOST */

    /* What the layer tells about the device (events.h, names.h): NULL unless
     * LOG_LEVEL=verbose or TRACE is set / until the app names an object. */
    struct kmt_events *events;
    struct kmt_names *_Atomic names;

    /* VK_KMT_residency only. */
    struct kmt_segments segments;     /* budgets and reservations (under lock) */
    _Atomic uint64_t segments_read_ns; /* when they were read (CLOCK_MONOTONIC), for a lock-free staleness check */
    struct kmt_notifier notifier;     /* budget notifications; its own lock, never held with this one */
};

/* Global tables. */
bool kmt_register_instance(struct kmt_instance *instance);
struct kmt_instance *kmt_unregister_instance(VkInstance instance);
struct kmt_instance *kmt_instance_from_handle(VkInstance instance);

bool kmt_register_physical_device(VkPhysicalDevice handle, struct kmt_instance *instance);
struct kmt_physical_device *kmt_physical_from_handle(VkPhysicalDevice handle);
void kmt_unregister_physical_devices_of(struct kmt_instance *instance);

bool kmt_register_device(struct kmt_device *device);
struct kmt_device *kmt_unregister_device(VkDevice device);
struct kmt_device *kmt_device_from_handle(VkDevice device);

bool kmt_register_queue(struct kmt_queue *queue);
void kmt_unregister_queue(VkQueue queue);
struct kmt_queue *kmt_queue_from_handle(VkQueue queue);

/* Probes the driver's support once (extensions, features, API version). */
void kmt_probe_physical_device(struct kmt_physical_device *physical);

/* Records a VK_ERROR_DEVICE_LOST returned by any call of the device. */
static inline VkResult
kmt_note_result(struct kmt_device *device, VkResult result)
{
    if (result == VK_ERROR_DEVICE_LOST)
        atomic_store(&device->lost, true);
    return result;
}

#endif

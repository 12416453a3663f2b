/* SPDX-License-Identifier: MIT */
/*
 * residency.h -- VK_KMT_residency's state machine (pure C): residency counts,
 * residency priorities, make-resident / evict / set-priority with
 * all-or-nothing validation, and the budget check of make-resident.
 *
 *   RESIDENT (count n >= 1) --evict--> count n - 1; at 0: EVICTED
 *   EVICTED (count 0) --make resident--> RESIDENT (count 1)
 *   RESIDENT --make resident--> count n + 1
 *
 * Rules kept here (vk_kmt_residency.h has the full list):
 * - Every allocation starts RESIDENT with count 1. EVICTED memory keeps its
 *   contents; its driver priority is 0.0 and its bytes leave the heap's
 *   tracked usage (config.accounting, which a residency tracker always has).
 * - Evicting at count 0 is KMT_ERROR_EVICT_UNDERFLOW. A residency call on
 *   offered memory (OFFER_PENDING, OFFERED, DISCARDED) is
 *   KMT_ERROR_RESIDENCY_OFFERED, on decommitted memory KMT_ERROR_DECOMMITTED;
 *   offer/reclaim of EVICTED memory is KMT_ERROR_OFFER_EVICTED (validate.c).
 * - A call is validated completely before anything changes; an over-budget
 *   make-resident without MUST_SUCCEED changes nothing either.
 * - Driver priority of resident memory: the residency priority's mapping
 *   (kmt_residency_driver_priority) once one is set, else the app's own
 *   (VK_EXT_memory_priority); the app's vkSetDeviceMemoryPriorityEXT clears
 *   the residency priority (the later of the two wins).
 *
 * Memory: the count and priority (8 bytes per slot) live in a side array
 * parallel to the slot table, allocated only for a tracker created with
 * config.residency. The hot record (32 bytes, what the offer/reclaim loops
 * touch) and the cold one do not grow, and a device that did not enable
 * VK_KMT_residency pays one NULL pointer per tracker. The side array grows
 * when an allocation is tracked, under the caller's lock (a residency tracker
 * has accounting on, so allocations never take the lock-free path).
 */
#ifndef KMT_RESIDENCY_H
#define KMT_RESIDENCY_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>
#include <vulkan/vk_kmt_residency.h>

#include "offer.h"
#include "segments.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KMT_RESIDENCY_PRIORITY_SET 0x80000000u /* struct kmt_residency::count: a residency priority was set */
#define KMT_RESIDENCY_COUNT_MASK 0x7fffffffu   /* the count itself (its most) */

/* Per allocation, parallel to the slot table. */
struct kmt_residency {
    uint32_t count;    /* residency count | KMT_RESIDENCY_PRIORITY_SET */
    uint32_t priority; /* the residency priority, when set */
};

/* Chunks of KMT_SLOT_CHUNK entries, chunk i for slots [i * KMT_SLOT_CHUNK, ...). */
struct kmt_residency_table {
    struct kmt_residency **chunks;
    uint32_t chunk_count, chunk_room;
};

/* Called by kmt_tracker_init / _finish for a tracker with config.residency. */
bool kmt_residency_init(struct kmt_tracker *t);
void kmt_residency_finish(struct kmt_tracker *t);
/* A new allocation in slot `index`: count 1, no priority. False when out of
 * host memory (nothing changed). */
bool kmt_residency_track(struct kmt_tracker *t, uint32_t index);

static inline struct kmt_residency *
kmt_residency_of(const struct kmt_tracker *t, uint32_t index)
{
    return &t->residency->chunks[index >> KMT_SLOT_CHUNK_SHIFT][index & (KMT_SLOT_CHUNK - 1)];
}

/* Residency priority -> driver priority: monotonic, MINIMUM 0.01, LOW 0.25,
 * NORMAL 0.5, HIGH 0.7, MAXIMUM 1.0, linear in between, 0.001 at 0, 1.0 above
 * MAXIMUM; always above 0.0 (an evicted allocation's). */
float kmt_residency_driver_priority(uint32_t priority);
/* The driver priority resident memory in slot `index` should have. */
float kmt_resident_priority(const struct kmt_tracker *t, uint32_t index);

/* Arguments of one residency call (the info structs, flattened). */
struct kmt_residency_args {
    uint32_t count;
    const VkDeviceMemory *memories;
    const uint32_t *priorities; /* optional for make-resident, required for set-priority */
    uint32_t flags;             /* VkMakeResidentFlagsKMT / VkEvictFlagsKMT */
};

/* What a successful make-resident or evict leaves for the caller. */
struct kmt_residency_outcome {
    bool over_budget;          /* make-resident: refused, nothing changed (VK_ERROR_OUT_OF_DEVICE_MEMORY) */
    VkDeviceSize bytes_to_trim; /* over budget: the excess; else how far over its segments now are */
    uint32_t became_resident;  /* allocations that left EVICTED */
    uint32_t evicted;          /* allocations that became EVICTED */
};

/* vkMakeResidentKMT. After a successful call t->scratch[i].memory /
 * .index name element i's record (the glue looks for pending paging work). */
enum kmt_error kmt_make_resident(struct kmt_tracker *t, const struct kmt_residency_args *args,
                                 const struct kmt_segments *segments, struct kmt_error_info *error,
                                 struct kmt_residency_outcome *outcome);
/* vkEvictKMT. */
enum kmt_error kmt_evict(struct kmt_tracker *t, const struct kmt_residency_args *args,
                         const struct kmt_segments *segments, struct kmt_error_info *error,
                         struct kmt_residency_outcome *outcome);
/* vkSetResidencyPriorityKMT. */
enum kmt_error kmt_set_residency_priority(struct kmt_tracker *t, const struct kmt_residency_args *args,
                                          struct kmt_error_info *error);

/* VkAllocationResidencyKMT of slot `index`. */
void kmt_fill_residency(const struct kmt_tracker *t, uint32_t index, VkAllocationResidencyKMT *out);
/* Fills every VkAllocationResidencyKMT in a VkAllocationStateKMT's pNext chain. */
void kmt_fill_residency_chain(const struct kmt_tracker *t, uint32_t index, void *chain);

#ifdef __cplusplus
}
#endif

#endif

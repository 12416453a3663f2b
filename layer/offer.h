/* SPDX-License-Identifier: MIT */
/*
 * offer.h -- the offer/reclaim state machine of one device (pure C: no Vulkan
 * calls; the glue passes in what the driver must do as callbacks).
 *
 * Per VkDeviceMemory (DESIGN.md, "Semantics"):
 *
 *   RESIDENT --offer--> OFFER_PENDING --earlier GPU work done--> OFFERED
 *   RESIDENT --offer IMMEDIATELY (or nothing pending)-----------> OFFERED
 *   OFFER_PENDING, OFFERED --reclaim--> RESIDENT, result OK
 *   OFFERED --policy--> DISCARDED, or DECOMMITTED when offered ALLOW_DECOMMIT
 *   DISCARDED --reclaim--> RESIDENT, result DISCARDED (reported once)
 *   DECOMMITTED --reclaim--> DECOMMITTED, result NOT_COMMITTED (until freed)
 *
 * Rules kept here:
 * - A call is validated completely before anything changes (all-or-nothing);
 *   the first offending element is named in struct kmt_error_info.
 * - Offering offered memory re-prioritises it (counted in *reoffered).
 * - The driver priority drops to the offered priority when memory becomes
 *   OFFERED and goes back to the app's own priority at reclaim; a priority the
 *   app sets while its memory is offered is remembered for that moment.
 * - A discard only ever hits OFFERED memory, never OFFER_PENDING. A decommit
 *   frees the driver's memory at once (ops.decommit); the app's handle stays
 *   valid until vkFreeMemory, which then releases only the record.
 * - The app sees the layer's own handles (handles.h); resources keep the
 *   driver's. A freed, stale or foreign handle is KMT_ERROR_UNKNOWN_MEMORY.
 *
 * Lean by construction (issue 12): no lists are walked on the hot path. An
 * offer stamps its memory with an offer sequence number and bumps per-level
 * counts; the pressure order (LOW before NORMAL before HIGH, oldest offer
 * first) is searched for only when the policy really discards. Deferred
 * offers wait in a FIFO ring in submission-serial order. Counters are summed
 * per call; under `never` no per-element callback is made.
 *
 * The caller serialises all calls on one tracker (the device lock); only
 * kmt_find_memory / kmt_driver_memory may run without it.
 */
#ifndef KMT_OFFER_H
#define KMT_OFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>
#include <vulkan/vk_kmt_offer_reclaim.h>

#include "handles.h"
#include "memory.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KMT_OFFER_LEVELS 3
#define KMT_FILL_FAILED UINT64_MAX /* LOW, NORMAL, HIGH: AUTO resolves to one of them */

/* Tracked per VkBuffer / VkImage bound to tracked memory (buffers and images
 * keep the driver's handles). */
struct kmt_resource {
    uint64_t handle;
    uint64_t memory;       /* the app's handle of the bound memory: resolves to nothing once it is freed */
    uint32_t call_stamp;
    uint32_t object_type;  /* VK_OBJECT_TYPE_BUFFER or VK_OBJECT_TYPE_IMAGE */
};

/* One element of a call, resolved once. The single-pass loops of memory
 * lists also keep what they changed, to undo it when a later element turns
 * out invalid (all-or-nothing). */
struct kmt_ref {
    struct kmt_memory *memory;
    union {
        uint32_t index;       /* the two-pass loops: its slot */
        uint32_t offer_order; /* single pass (plain.c): the record's fields before the call */
    };
    uint8_t status, offer_priority, bits, reserved;
};

/* A deferred offer waiting for earlier GPU work: memory that left
 * OFFER_PENDING since (reclaimed, freed, offered again) no longer matches
 * and is skipped. */
struct kmt_pending_entry {
    uint64_t wait_serial;
    uint32_t index, generation, offer_order, reserved;
};

/* Why an allocation changed state (messages and the trace say it). */
enum kmt_reason {
    KMT_REASON_OFFER = 1,       /* vkOfferAllocationsKMT (RESIDENT -> OFFER_PENDING or OFFERED) */
    KMT_REASON_REOFFER,         /* offered again: new priority/flags, new place in the order */
    KMT_REASON_PROMOTED,        /* OFFER_PENDING -> OFFERED: the GPU work before the offer completed */
    KMT_REASON_DISCARD_ALWAYS,  /* DISCARD=always */
    KMT_REASON_DISCARD_RANDOM,  /* DISCARD=random */
    KMT_REASON_DISCARD_PRESSURE,/* DISCARD=pressure: the heap was over budget */
    KMT_REASON_DISCARD_REQUEST, /* kmt_discard called directly (tests, tools) */
    KMT_REASON_RECLAIM,         /* vkReclaimAllocationsKMT */
    KMT_REASON_EVICT,           /* VK_KMT_residency: count reached 0 */
    KMT_REASON_MAKE_RESIDENT,   /* VK_KMT_residency: count left 0 */
};

/* Why the policy discards (kmt_discard_as); the tracker copies it into the
 * transition it reports. */
struct kmt_discard_why {
    enum kmt_reason reason;
    uint32_t order;           /* pressure: 1 for the first victim of this relief, 2 for the next, ... */
    VkDeviceSize heap_usage;  /* the heap's tracked usage when the policy decided */
    VkDeviceSize heap_budget; /* and its budget */
};

/* One state change of one allocation, reported to ops.transition while the
 * caller holds the device lock: a consumer copies what it needs and does no
 * I/O and no Vulkan call there. Independent of the record layout. */
struct kmt_transition {
    uint64_t memory;          /* the app's VkDeviceMemory */
    VkDeviceSize size;
    uint32_t heap_index;
    uint8_t from, to;         /* VkAllocationStatusKMT */
    uint8_t reason;           /* enum kmt_reason */
    uint8_t offer_priority;   /* resolved VkOfferPriorityKMT (0 when resident) */
    uint32_t offer_flags;
    uint64_t wait_serial;     /* OFFER_PENDING: the submission serial it waits for */
    uint64_t fence_value;     /* discard: the fill's paging-fence value (0 = none or CPU fill); reclaim: the fence returned for it */
    uint32_t result;          /* reclaim: VkReclaimResultKMT reported */
    uint32_t order;           /* see struct kmt_discard_why */
    VkDeviceSize heap_usage, heap_budget; /* see struct kmt_discard_why */
};

/* What the state machine asks of the driver (the glue implements them).
 * Memory is named by the driver's handle here: the glue calls down with it. */
struct kmt_fill_request {
    uint64_t driver;       /* the driver's VkDeviceMemory */
    VkDeviceSize size;
    uint32_t type_index;
    bool host_visible;
    bool dedicated;
};

struct kmt_tracker_ops {
    void *ctx;
    /* Called only when the device has pageable memory. */
    void (*set_priority)(void *ctx, uint64_t driver_memory, float priority);
    /* Replace the contents of memory about to be discarded (DISCARD_FILL).
     * Returns the paging-fence value the fill signals when it was queued as
     * GPU work, 0 when it completed before returning (or there was nothing to
     * fill), or KMT_FILL_FAILED when the contents could not be replaced: the
     * memory then stays OFFERED, since a reported discard is never a lie. */
    uint64_t (*fill)(void *ctx, const struct kmt_fill_request *request);
    /* Free the driver's memory of an allocation being decommitted (DESIGN.md
     * "Decommit is real"); the app's handle stays valid. NULL: nothing to free. */
    void (*decommit)(void *ctx, uint64_t memory, uint64_t driver_memory);
    /* Every state change (NULL: nobody listens; one predictable branch). */
    void (*transition)(void *ctx, const struct kmt_transition *change);
};

struct kmt_tracker;

struct kmt_tracker_config {
    bool pageable;          /* the driver can change priorities (VK_EXT_pageable_device_local_memory) */
    float offered_priority; /* setting OFFERED_PRIORITY */
    uint32_t salt;          /* first generation of the handle table (distinct per device) */
    /* Keep heap_usage and offered_bytes per heap up to date (the discard
     * policies and messages need them). Off -- DISCARD=never without a
     * listener, the production default -- allocating and freeing resident
     * memory touch only their own slot and take no lock (the glue's fast
     * paths), and kmt_heap_usage() counts on demand. */
    bool accounting;
    /* VK_KMT_residency: residency counts and priorities in a side array
     * (residency.h); implies accounting. */
    bool residency;
    uint8_t type_heap[VK_MAX_MEMORY_TYPES]; /* heap of each memory type */
    /* Called whenever memory becomes OFFERED (the always/random policies'
     * hook; NULL under the others, so the hot path makes no call). */
    void (*on_offered)(void *ctx, struct kmt_tracker *tracker, uint32_t index);
    void *on_offered_ctx;
};

struct kmt_counters {
    uint64_t offers;           /* allocations offered (a re-offer counts again) */
    uint64_t reoffers;
    uint64_t reclaims;         /* allocations reclaimed */
    uint64_t discards;         /* allocations discarded */
    uint64_t decommits;        /* allocations decommitted */
    uint64_t bytes_offered;
    uint64_t bytes_discarded;  /* includes decommitted bytes */
    uint64_t rejected_calls;   /* offer/reclaim calls that failed validation */
};

struct kmt_residency_table;

struct kmt_tracker {
    struct kmt_tracker_config config;
    struct kmt_tracker_ops ops;
    struct kmt_slot_table slots;     /* the app's VkDeviceMemory handles -> records */
    struct kmt_handle_map resources; /* VkBuffer/VkImage -> struct kmt_resource */
    struct kmt_pool resource_pool;
    void *reserved_resources;        /* pool records set aside by kmt_reserve_bindings */
    uint32_t reserved_count;
    /* OFFER_PENDING in wait_serial order: a ring of entries [head, tail). */
    struct kmt_pending_entry *pending;
    uint32_t pending_head, pending_tail, pending_capacity; /* capacity: a power of two */
    uint32_t pending_count;                      /* memories OFFER_PENDING now */
    uint64_t pending_newest;                     /* highest wait_serial queued since the ring was last empty */
    uint32_t offered_count;                      /* memories OFFERED now */
    VkDeviceSize offered_bytes[VK_MAX_MEMORY_HEAPS]; /* OFFERED bytes per heap (with config.accounting) */
    uint32_t call_stamp;
    struct kmt_ref *scratch; /* one call's elements, resolved once */
    uint32_t scratch_capacity;
    uint32_t next_offer_order;
    VkDeviceSize heap_usage[VK_MAX_MEMORY_HEAPS]; /* tracked bytes that still hold a payload and are not
                                                     evicted (with config.accounting) */
    struct kmt_counters counters;
    struct kmt_residency_table *residency;        /* NULL unless config.residency (residency.h) */
};

enum kmt_error {
    KMT_OK = 0,
    KMT_ERROR_NULL_INFO,        /* the info pointer is NULL */
    KMT_ERROR_STYPE,            /* wrong sType */
    KMT_ERROR_COUNT_ZERO,
    KMT_ERROR_ARRAYS,           /* both or neither of pResources / pMemories */
    KMT_ERROR_PRIORITY,         /* outside 1..4 */
    KMT_ERROR_FLAGS,            /* unknown flag bits */
    KMT_ERROR_UNKNOWN_MEMORY,   /* not a live allocation of this device (freed, stale, foreign or never one) */
    KMT_ERROR_RESOURCE_TYPE,    /* objectType is not BUFFER or IMAGE */
    KMT_ERROR_UNKNOWN_RESOURCE, /* not a buffer/image bound to tracked memory */
    KMT_ERROR_RESOURCE_MEMORY_FREED, /* its memory was freed */
    KMT_ERROR_DUPLICATE,        /* listed twice */
    KMT_ERROR_MAPPED,           /* memory is mapped */
    KMT_ERROR_DECOMMITTED,      /* decommitted memory can only be freed */
    KMT_ERROR_SHARED_MEMORY,    /* its memory backs resources not in this call */
    KMT_ERROR_OUT_OF_HOST_MEMORY,
    /* VK_KMT_residency (residency.h) */
    KMT_ERROR_NULL_ARRAY,          /* pMemories (other 0) or pPriorities (other 1) is NULL */
    KMT_ERROR_RESIDENCY_FLAGS,     /* unknown make-resident / evict flag bits */
    KMT_ERROR_MUST_SUCCEED,        /* MUST_SUCCEED without CANT_TRIM_FURTHER */
    KMT_ERROR_EVICT_UNDERFLOW,     /* evicting memory whose residency count is 0 */
    KMT_ERROR_RESIDENCY_OVERFLOW,  /* the residency count is at its most */
    KMT_ERROR_RESIDENCY_OFFERED,   /* a residency call on offered memory (other: its status) */
    KMT_ERROR_OFFER_EVICTED,       /* offer or reclaim of evicted memory */
    KMT_ERROR_SEGMENT_GROUP,       /* not a VkMemorySegmentGroupKMT */
};

struct kmt_error_info {
    enum kmt_error code;
    uint32_t index;  /* offending element, where there is one */
    uint64_t handle; /* its handle */
    uint64_t other;  /* extra detail: the value, or the memory behind a resource */
};

/* Arguments shared by offer and reclaim: exactly one array is non-NULL. */
struct kmt_handle_list {
    uint32_t count;
    const VkDeviceMemory *memories;
    const VkOfferResourceKMT *resources;
};

bool kmt_tracker_init(struct kmt_tracker *t, const struct kmt_tracker_config *config,
                      const struct kmt_tracker_ops *ops, const VkAllocationCallbacks *allocator);
void kmt_tracker_finish(struct kmt_tracker *t);

/* vkAllocateMemory: records the driver's allocation and returns the app's
 * handle for it, or 0 when out of host memory (nothing tracked). */
#define KMT_TRACK_HOST_VISIBLE 0x1u
#define KMT_TRACK_DEDICATED 0x2u
#define KMT_TRACK_APP_ALLOCATOR 0x4u /* the app passed VkAllocationCallbacks (a decommit must free with them) */
uint64_t kmt_track_memory(struct kmt_tracker *t, uint64_t driver_memory, VkDeviceSize size, uint32_t type_index,
                          uint32_t track_flags, float app_priority);
/* vkFreeMemory: forgets the allocation; *driver_memory gets what the glue
 * must free below (0 once decommitted). False for a handle that is not a
 * live allocation of this tracker (nothing changed). */
bool kmt_untrack_memory(struct kmt_tracker *t, uint64_t memory, uint64_t *driver_memory);

/* The live record of an app handle (with its slot in *index, may be NULL), or NULL. */
static inline struct kmt_memory *
kmt_find_memory(const struct kmt_tracker *t, uint64_t memory, uint32_t *index)
{
    return kmt_resolve(&t->slots, memory, index);
}
/* The driver's handle behind an app handle: 0 for an unknown handle or
 * decommitted memory. Lock-free (see kmt_resolve). */
static inline uint64_t
kmt_driver_memory(const struct kmt_tracker *t, uint64_t memory)
{
    struct kmt_memory *m = kmt_resolve(&t->slots, memory, NULL);
    return m ? __atomic_load_n(&m->driver, __ATOMIC_RELAXED) : 0;
}
static inline uint32_t
kmt_heap_of(const struct kmt_tracker *t, const struct kmt_memory *m)
{
    return m->type_index < VK_MAX_MEMORY_TYPES ? t->config.type_heap[m->type_index] : 0;
}

/* vkBind{Buffer,Image}Memory(2) / vkDestroy{Buffer,Image}. Binds happen in
 * three steps so that a bind is never half done: kmt_reserve_bindings sets
 * aside room for `count` bindings before the driver binds (counting what
 * other threads set aside and have not used yet); then kmt_track_binding,
 * which cannot fail, for each element the driver bound; and
 * kmt_unreserve_bindings for what was set aside and not used (the driver
 * failed). */
bool kmt_reserve_bindings(struct kmt_tracker *t, uint32_t count);
void kmt_track_binding(struct kmt_tracker *t, uint32_t object_type, uint64_t resource, uint64_t memory);
void kmt_unreserve_bindings(struct kmt_tracker *t, uint32_t count);
void kmt_untrack_resource(struct kmt_tracker *t, uint64_t resource);
/* The live memory a resource is bound to (its app handle), or 0. */
uint64_t kmt_resource_memory(const struct kmt_tracker *t, uint64_t resource);

/* vkSetDeviceMemoryPriorityEXT by the app: remembered; returns the driver's
 * handle when the driver should get it now (the memory is not demoted), 0
 * otherwise (unknown handle, or demoted: applied at reclaim). */
uint64_t kmt_set_app_priority(struct kmt_tracker *t, uint64_t memory, float priority);

/* vkOfferAllocationsKMT. wait_serial: the submissions the offer must wait for
 * (0: none pending; ignored with VK_OFFER_IMMEDIATELY_BIT_KMT). */
enum kmt_error kmt_offer(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t priority,
                         uint32_t flags, uint64_t wait_serial, struct kmt_error_info *error,
                         uint32_t *reoffered);

/* vkReclaimAllocationsKMT. results / discarded may be NULL. fill_completed:
 * the paging fence's current value; *fence_value gets the highest pending
 * fill value among the reclaimed allocations, or 0. With device_lost every
 * result is DISCARDED and states are left alone. */
enum kmt_error kmt_reclaim(struct kmt_tracker *t, const struct kmt_handle_list *list, VkReclaimResultKMT *results,
                           VkBool32 *discarded, uint64_t fill_completed, bool device_lost,
                           struct kmt_error_info *error, uint64_t *fence_value);

/* OFFER_PENDING memory whose wait_serial <= completed_serial becomes OFFERED,
 * in the order the offers were made. An offer queued with a wait_serial
 * below one queued earlier (and still pending) waits for that one too:
 * waiting longer is always safe, and the glue's serials only grow. A
 * re-offer of OFFER_PENDING memory waits for its new wait_serial (0: it
 * becomes OFFERED at once). Returns how many became OFFERED. */
uint32_t kmt_promote_pending(struct kmt_tracker *t, uint64_t completed_serial);
/* The oldest wait_serial still pending (0: none): nothing to promote below it. */
uint64_t kmt_next_pending_serial(const struct kmt_tracker *t);

/* Discards one OFFERED allocation (slot `index`), or decommits it when it was
 * offered with ALLOW_DECOMMIT (the driver's memory is freed): the policy's
 * only way to destroy contents. Nothing happens when the fill fails
 * (KMT_FILL_FAILED). why: the reason reported (NULL: a direct request).
 * Returns whether it did. */
bool kmt_discard_as(struct kmt_tracker *t, uint32_t index, const struct kmt_discard_why *why);
static inline bool
kmt_discard(struct kmt_tracker *t, uint32_t index)
{
    return kmt_discard_as(t, index, NULL);
}

/* Tracked bytes of `heap` that still hold a payload (counted on demand
 * without config.accounting). */
VkDeviceSize kmt_heap_usage(const struct kmt_tracker *t, uint32_t heap);

/* vkGetAllocationStateKMT. */
void kmt_fill_state(const struct kmt_tracker *t, uint32_t index, VkAllocationStateKMT *state);

/* The resolved offer priority for AUTO: from the app's priority. */
VkOfferPriorityKMT kmt_resolve_priority(uint32_t priority, float app_priority);

/* Test hook: `next` is the last offer sequence number handed out; the next
 * offer gets next + 1 (to exercise the wrap-around, which renumbers every
 * offered allocation in order). */
void kmt_set_next_offer_order(struct kmt_tracker *t, uint32_t next);

/* Stable message ID ("KMT-...") and a sentence naming the offending element. */
const char *kmt_error_id(enum kmt_error code);
void kmt_format_error(const struct kmt_error_info *error, const char *command, const struct kmt_handle_list *list,
                      char *buffer, size_t size);

#ifdef __cplusplus
}
#endif

#endif

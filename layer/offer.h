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
 * - A discard only ever hits OFFERED memory, never OFFER_PENDING.
 *
 * The caller serialises all calls on one tracker (the device lock).
 */
#ifndef KMT_OFFER_H
#define KMT_OFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>
#include <vulkan/vk_kmt_offer_reclaim.h>

#include "memory.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KMT_OFFER_LEVELS 3
#define KMT_FILL_FAILED UINT64_MAX /* LOW, NORMAL, HIGH: AUTO resolves to one of them */

/* Tracked per VkDeviceMemory. */
struct kmt_memory {
    struct kmt_memory *prev, *next; /* in the pending list or one offered list */
    uint64_t handle;
    uint64_t serial;       /* unique per allocation: a resource bound to freed memory never aliases new memory */
    VkDeviceSize size;
    uint64_t offer_order;  /* when it was (re-)offered: oldest first under pressure */
    union {
        uint64_t wait_serial; /* OFFER_PENDING: submissions up to this serial must complete */
        uint64_t fill_value;  /* DISCARDED: paging-fence value of its queued GPU fill, 0 = none */
    };
    float app_priority;    /* VkMemoryPriorityAllocateInfoEXT, or the app's last vkSetDeviceMemoryPriorityEXT, or 0.5 */
    float driver_priority; /* what the driver was last given */
    uint32_t discard_count;
    uint32_t resource_count; /* buffers and images bound to it */
    uint32_t call_stamp;     /* the last call that listed it */
    uint32_t call_resources; /* how many of its resources that call listed */
    uint8_t type_index;
    uint8_t heap_index;
    uint8_t status;          /* VkAllocationStatusKMT */
    uint8_t offer_priority;  /* resolved VkOfferPriorityKMT, 0 when resident */
    uint8_t offer_flags;
    bool mapped;
    bool host_visible;
    bool dedicated;          /* VkMemoryDedicatedAllocateInfo: no other resource may alias it */
};

/* Tracked per VkBuffer / VkImage bound to tracked memory. */
struct kmt_resource {
    uint64_t handle;
    struct kmt_memory *record; /* bound memory's record: pool records outlive frees */
    uint64_t memory;           /* bound VkDeviceMemory (for messages) */
    uint64_t memory_serial;    /* the record's serial at bind time; 0 once freed */
    uint32_t call_stamp;
    uint32_t object_type;      /* VK_OBJECT_TYPE_BUFFER or VK_OBJECT_TYPE_IMAGE */
};

struct kmt_list {
    struct kmt_memory *head, *tail;
    uint32_t count;
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

/* What the state machine asks of the driver (the glue implements them). */
struct kmt_tracker_ops {
    void *ctx;
    /* Called only when the device has pageable memory. */
    void (*set_priority)(void *ctx, uint64_t memory, float priority);
    /* Replace the contents of memory about to be discarded (DISCARD_FILL).
     * Returns the paging-fence value the fill signals when it was queued as
     * GPU work, 0 when it completed before returning (or there was nothing to
     * fill), or KMT_FILL_FAILED when the contents could not be replaced: the
     * memory then stays OFFERED, since a reported discard is never a lie. */
    uint64_t (*fill)(void *ctx, const struct kmt_memory *memory);
    /* Every state change (NULL: nobody listens; one predictable branch). */
    void (*transition)(void *ctx, const struct kmt_transition *change);
};

struct kmt_tracker;

struct kmt_tracker_config {
    bool pageable;          /* the driver can change priorities (VK_EXT_pageable_device_local_memory) */
    float offered_priority; /* setting OFFERED_PRIORITY */
    /* Called whenever memory becomes OFFERED (the discard policy's hook). */
    void (*on_offered)(void *ctx, struct kmt_tracker *tracker, struct kmt_memory *memory);
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

struct kmt_tracker {
    struct kmt_tracker_config config;
    struct kmt_tracker_ops ops;
    struct kmt_handle_map memories;  /* VkDeviceMemory -> struct kmt_memory */
    struct kmt_handle_map resources; /* VkBuffer/VkImage -> struct kmt_resource */
    struct kmt_pool memory_pool, resource_pool;
    struct kmt_list pending;                   /* OFFER_PENDING, by wait_serial */
    struct kmt_list offered[KMT_OFFER_LEVELS]; /* OFFERED, oldest offer first */
    uint32_t call_stamp;
    struct kmt_memory **scratch; /* one call's elements, resolved once */
    uint32_t scratch_capacity;
    uint64_t next_serial;
    uint64_t next_offer_order;
    VkDeviceSize heap_usage[VK_MAX_MEMORY_HEAPS]; /* tracked bytes that still hold a payload */
    struct kmt_counters counters;
};

enum kmt_error {
    KMT_OK = 0,
    KMT_ERROR_NULL_INFO,        /* the info pointer is NULL */
    KMT_ERROR_STYPE,            /* wrong sType */
    KMT_ERROR_COUNT_ZERO,
    KMT_ERROR_ARRAYS,           /* both or neither of pResources / pMemories */
    KMT_ERROR_PRIORITY,         /* outside 1..4 */
    KMT_ERROR_FLAGS,            /* unknown flag bits */
    KMT_ERROR_UNKNOWN_MEMORY,   /* not a live allocation of this device */
    KMT_ERROR_RESOURCE_TYPE,    /* objectType is not BUFFER or IMAGE */
    KMT_ERROR_UNKNOWN_RESOURCE, /* not a buffer/image bound to tracked memory */
    KMT_ERROR_RESOURCE_MEMORY_FREED, /* its memory was freed */
    KMT_ERROR_DUPLICATE,        /* listed twice */
    KMT_ERROR_MAPPED,           /* memory is mapped */
    KMT_ERROR_DECOMMITTED,      /* decommitted memory can only be freed */
    KMT_ERROR_SHARED_MEMORY,    /* its memory backs resources not in this call */
    KMT_ERROR_OUT_OF_HOST_MEMORY,
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

/* vkAllocateMemory / vkFreeMemory. Tracking returns false when out of host
 * memory (nothing tracked). */
bool kmt_track_memory(struct kmt_tracker *t, uint64_t memory, VkDeviceSize size, uint32_t type_index,
                      uint32_t heap_index, bool host_visible, float app_priority);
void kmt_untrack_memory(struct kmt_tracker *t, uint64_t memory);
struct kmt_memory *kmt_find_memory(const struct kmt_tracker *t, uint64_t memory);

/* vkBind{Buffer,Image}Memory(2) / vkDestroy{Buffer,Image}. */
bool kmt_track_binding(struct kmt_tracker *t, uint32_t object_type, uint64_t resource, uint64_t memory);
void kmt_untrack_resource(struct kmt_tracker *t, uint64_t resource);
/* Makes room for `count` kmt_track_binding calls that then cannot fail: the
 * glue reserves before the driver binds, so a bind is never half done. */
bool kmt_reserve_bindings(struct kmt_tracker *t, uint32_t count);
/* The live memory a resource is bound to, or NULL. */
struct kmt_memory *kmt_resource_memory(const struct kmt_tracker *t, uint64_t resource);

/* vkSetDeviceMemoryPriorityEXT by the app: remembered; returns true when the
 * driver should get it now (the memory is not demoted). */
bool kmt_set_app_priority(struct kmt_tracker *t, uint64_t memory, float priority);

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

/* OFFER_PENDING memory whose wait_serial <= completed_serial becomes OFFERED.
 * Returns how many did. */
uint32_t kmt_promote_pending(struct kmt_tracker *t, uint64_t completed_serial);

/* Discards one OFFERED allocation (DECOMMITTED when it was offered with
 * ALLOW_DECOMMIT): the policy's only way to destroy contents. Nothing
 * happens when the fill fails (KMT_FILL_FAILED). Returns whether it did. */
bool kmt_discard_as(struct kmt_tracker *t, struct kmt_memory *memory, const struct kmt_discard_why *why);
static inline bool
kmt_discard(struct kmt_tracker *t, struct kmt_memory *memory)
{
    return kmt_discard_as(t, memory, NULL);
}

/* vkGetAllocationStateKMT. */
void kmt_fill_state(const struct kmt_tracker *t, const struct kmt_memory *memory, VkAllocationStateKMT *state);

/* The resolved offer priority for AUTO: from the app's priority. */
VkOfferPriorityKMT kmt_resolve_priority(uint32_t priority, float app_priority);

/* Stable message ID ("KMT-...") and a sentence naming the offending element. */
const char *kmt_error_id(enum kmt_error code);
void kmt_format_error(const struct kmt_error_info *error, const char *command, const struct kmt_handle_list *list,
                      char *buffer, size_t size);

#ifdef __cplusplus
}
#endif

#endif

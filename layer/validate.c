/* SPDX-License-Identifier: MIT */
/*
 * validate.c -- all-or-nothing validation of offer and reclaim calls, and the
 * messages that name the first offending element (rules in offer.h).
 *
 * A call is checked completely before anything changes. Elements are
 * resolved in order, each once, into t->scratch (grown as elements resolve,
 * never sized from allocationCount up front: a huge count with a short array
 * reaches its first bad element instead of a huge allocation). Resolution
 * stops at the first element that is not valid; the shared-memory rule of
 * resource offers is judged once every element resolved.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offer_internal.h"

uint32_t
kmt_next_call_stamp(struct kmt_tracker *t)
{
    if (++t->call_stamp == 0) {
        /* Wrapped after 2^32 calls: forget every old stamp so none can look
         * like this call's. */
        for (uint32_t i = 0; i < __atomic_load_n(&t->slots.capacity, __ATOMIC_ACQUIRE); i++)
            __atomic_store_n(&kmt_slot(&t->slots, i)->call_stamp, 0, __ATOMIC_RELAXED);
        for (uint32_t i = 0; i <= t->resources.mask; i++)
            if (t->resources.keys[i])
                ((struct kmt_resource *)t->resources.values[i])->call_stamp = 0;
        t->call_stamp = 1;
    }
    return t->call_stamp;
}

enum kmt_error
kmt_fail(struct kmt_error_info *error, enum kmt_error code, uint32_t index, uint64_t handle, uint64_t other)
{
    if (error) {
        error->code = code;
        error->index = index;
        error->handle = handle;
        error->other = other;
    }
    return code;
}

enum kmt_error
kmt_check_list_shape(const struct kmt_handle_list *list, struct kmt_error_info *error)
{
    if (list->count == 0)
        return kmt_fail(error, KMT_ERROR_COUNT_ZERO, 0, 0, 0);
    if ((list->memories == NULL) == (list->resources == NULL))
        return kmt_fail(error, KMT_ERROR_ARRAYS, 0, 0, list->memories ? 2 : 0);
    return KMT_OK;
}

/* Room for element i in the scratch array, doubling as elements resolve. */
bool
kmt_grow_scratch(struct kmt_tracker *t)
{
    uint64_t capacity = t->scratch_capacity ? (uint64_t)t->scratch_capacity * 2 : 64;
    if (capacity > UINT32_MAX)
        capacity = UINT32_MAX;
    struct kmt_ref *scratch =
        kmt_alloc(t->slots.allocator, (size_t)capacity * sizeof(*scratch), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!scratch)
        return false;
    if (t->scratch_capacity)
        memcpy(scratch, t->scratch, (size_t)t->scratch_capacity * sizeof(*scratch));
    kmt_free(t->slots.allocator, t->scratch);
    t->scratch = scratch;
    t->scratch_capacity = (uint32_t)capacity;
    return true;
}

/* Why element i of a memory list did not resolve (the slow path). */
enum kmt_error
kmt_memory_error(const struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t i, uint32_t stamp,
             struct kmt_error_info *error)
{
    uint64_t handle = (uint64_t)list->memories[i];
    const struct kmt_memory *m = kmt_resolve(&t->slots, handle, NULL);
    if (!m)
        return kmt_fail(error, KMT_ERROR_UNKNOWN_MEMORY, i, handle, 0);
    if (m->call_stamp == stamp)
        return kmt_fail(error, KMT_ERROR_DUPLICATE, i, handle, 0);
    if (m->status == VK_ALLOCATION_STATUS_EVICTED_KMT)
        return kmt_fail(error, KMT_ERROR_OFFER_EVICTED, i, handle, handle);
    if (m->bits & KMT_MEM_MAPPED)
        return kmt_fail(error, KMT_ERROR_MAPPED, i, handle, handle);
    return kmt_fail(error, KMT_ERROR_DECOMMITTED, i, handle, handle);
}

/* A memory list: every element a live handle of this device, listed once,
 * and (offering) neither mapped nor decommitted. The hot loop of offer and
 * reclaim by memory: an array index, a generation compare and a stamp per
 * element, element i's record into scratch[i].memory (its slot is the
 * handle's low half - 1); the details of a failure are worked out only when
 * one happens. A valid list names each live allocation at most once, so
 * scratch room for min(count, live) elements is made first; a longer list
 * must hold a bad element, and grows the scratch as it is read (a huge
 * count never sizes an allocation). */
static inline __attribute__((always_inline)) enum kmt_error
resolve_memories(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t stamp, bool offering,
                 struct kmt_error_info *error)
{
    const VkDeviceMemory *handles = list->memories;
    const uint32_t count = list->count;
    /* Allocations may grow the table meanwhile (they take no device lock):
     * the capacity first, then a directory at least that large. */
    const uint32_t capacity = __atomic_load_n(&t->slots.capacity, __ATOMIC_ACQUIRE);
    struct kmt_slot_chunk *const *directory = __atomic_load_n(&t->slots.directory, __ATOMIC_ACQUIRE);
    const uint8_t refuse = offering ? KMT_MEM_MAPPED : 0;
    const uint8_t decommitted = offering ? VK_ALLOCATION_STATUS_DECOMMITTED_KMT : KMT_STATUS_FREE;
    /* VK_KMT_residency: evicted memory is neither offered nor reclaimed (a
     * status only a residency tracker has; the plain loops never see one). */
    const uint8_t evicted = t->residency ? VK_ALLOCATION_STATUS_EVICTED_KMT : KMT_STATUS_FREE;
    const uint32_t slots = kmt_slots_capacity(&t->slots);
    const uint32_t likely = count < slots ? count : slots;
    while (t->scratch_capacity < likely)
        if (!kmt_grow_scratch(t))
            return kmt_fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0);
    struct kmt_ref *scratch = t->scratch;
    uint32_t room = t->scratch_capacity;
    for (uint32_t i = 0; i < count; i++) {
        if (i == room) {
            if (!kmt_grow_scratch(t))
                return kmt_fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, i, 0, 0);
            scratch = t->scratch;
            room = t->scratch_capacity;
        }
        const uint64_t handle = (uint64_t)handles[i];
        const uint32_t index = (uint32_t)handle - 1;
        if (index >= capacity)
            return kmt_memory_error(t, list, i, stamp, error);
        struct kmt_memory *m = &directory[index >> KMT_SLOT_CHUNK_SHIFT]->hot[index & (KMT_SLOT_CHUNK - 1)];
        const uint8_t status = m->status;
        if (m->generation != (uint32_t)(handle >> 32) || status == KMT_STATUS_FREE || status == decommitted ||
            status == evicted || m->call_stamp == stamp || (m->bits & refuse))
            return kmt_memory_error(t, list, i, stamp, error);
        m->call_stamp = stamp;
        scratch[i].memory = m;
    }
    return KMT_OK;
}

/* Element i of a resource list: a buffer or image bound to live memory,
 * listed once (its memory may be named by several elements). */
static enum kmt_error
resolve_resource(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t i, uint32_t stamp,
                 struct kmt_error_info *error)
{
    const VkOfferResourceKMT *res = &list->resources[i];
    if (res->objectType != VK_OBJECT_TYPE_BUFFER && res->objectType != VK_OBJECT_TYPE_IMAGE)
        return kmt_fail(error, KMT_ERROR_RESOURCE_TYPE, i, res->objectHandle, (uint64_t)res->objectType);
    struct kmt_resource *r = kmt_map_get(&t->resources, res->objectHandle);
    if (!r || r->object_type != (uint32_t)res->objectType)
        return kmt_fail(error, KMT_ERROR_UNKNOWN_RESOURCE, i, res->objectHandle, (uint64_t)res->objectType);
    if (r->call_stamp == stamp)
        return kmt_fail(error, KMT_ERROR_DUPLICATE, i, res->objectHandle, 0);
    r->call_stamp = stamp;
    uint32_t index;
    struct kmt_memory *m = kmt_resolve(&t->slots, r->memory, &index);
    if (!m)
        return kmt_fail(error, KMT_ERROR_RESOURCE_MEMORY_FREED, i, res->objectHandle, r->memory);
    m->call_stamp = stamp;
    t->scratch[i] = (struct kmt_ref){.memory = m, .index = index};
    return KMT_OK;
}

/* A resource list, resolved in order; stops at the first invalid element. */
static enum kmt_error
resolve_resources(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t stamp, bool offering,
                  struct kmt_error_info *error)
{
    for (uint32_t i = 0; i < list->count; i++) {
        if (i == t->scratch_capacity && !kmt_grow_scratch(t))
            return kmt_fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, i, 0, 0);
        enum kmt_error e = resolve_resource(t, list, i, stamp, error);
        if (e)
            return e;
        const struct kmt_ref *ref = &t->scratch[i];
        if (ref->memory->status == VK_ALLOCATION_STATUS_EVICTED_KMT)
            return kmt_fail(error, KMT_ERROR_OFFER_EVICTED, i, list->resources[i].objectHandle,
                            kmt_make_handle(ref->index, ref->memory->generation));
        if (offering && (ref->memory->bits & KMT_MEM_MAPPED))
            return kmt_fail(error, KMT_ERROR_MAPPED, i, list->resources[i].objectHandle,
                            kmt_make_handle(ref->index, ref->memory->generation));
        if (offering && ref->memory->status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT)
            return kmt_fail(error, KMT_ERROR_DECOMMITTED, i, list->resources[i].objectHandle,
                            kmt_make_handle(ref->index, ref->memory->generation));
    }
    return KMT_OK;
}

/* Two instances of the memory loop, each with its checks known. */
static enum kmt_error
resolve_memories_to_offer(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t stamp,
                          struct kmt_error_info *error)
{
    return resolve_memories(t, list, stamp, true, error);
}

static enum kmt_error
resolve_memories_to_reclaim(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t stamp,
                            struct kmt_error_info *error)
{
    return resolve_memories(t, list, stamp, false, error);
}

static enum kmt_error
resolve_all(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t stamp, bool offering,
            struct kmt_error_info *error)
{
    if (list->memories)
        return offering ? resolve_memories_to_offer(t, list, stamp, error)
                        : resolve_memories_to_reclaim(t, list, stamp, error);
    return resolve_resources(t, list, stamp, offering, error);
}

struct listed {
    uint32_t index;   /* memory slot */
    uint32_t element; /* first element naming it */
};

static int
compare_listed(const void *a, const void *b)
{
    const struct listed *x = a, *y = b;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->element < y->element ? -1 : x->element > y->element;
}

/* A resource offer acts on the whole memory: every resource bound to it
 * must be in the call, or the others would lose their contents unasked.
 * Memories with one resource need no counting (the resource is listed);
 * the others are counted by sorting the elements that name them. Returns
 * the first element (in call order) whose memory has unlisted resources,
 * or UINT32_MAX; *oom on host-memory failure. */
static uint32_t
first_shared_element(struct kmt_tracker *t, uint32_t count, bool *oom)
{
    uint32_t shared = 0;
    for (uint32_t i = 0; i < count; i++)
        shared += kmt_cold(&t->slots, t->scratch[i].index)->resource_count > 1;
    if (!shared)
        return UINT32_MAX;
    struct listed *items =
        kmt_alloc(t->slots.allocator, (size_t)shared * sizeof(*items), VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
    if (!items) {
        *oom = true;
        return UINT32_MAX;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < count; i++)
        if (kmt_cold(&t->slots, t->scratch[i].index)->resource_count > 1)
            items[n++] = (struct listed){t->scratch[i].index, i};
    qsort(items, n, sizeof(*items), compare_listed);
    uint32_t first = UINT32_MAX;
    for (uint32_t start = 0, end; start < n; start = end) {
        for (end = start; end < n && items[end].index == items[start].index; end++) {
        }
        if (end - start < kmt_cold(&t->slots, items[start].index)->resource_count && items[start].element < first)
            first = items[start].element;
    }
    kmt_free(t->slots.allocator, items);
    return first;
}

enum kmt_error
kmt_check_offer_arguments(const struct kmt_handle_list *list, uint32_t priority, uint32_t flags,
                          struct kmt_error_info *error)
{
    enum kmt_error e = kmt_check_list_shape(list, error);
    if (e)
        return e;
    if (priority < VK_OFFER_PRIORITY_LOW_KMT || priority > VK_OFFER_PRIORITY_AUTO_KMT)
        return kmt_fail(error, KMT_ERROR_PRIORITY, 0, 0, priority);
    if (flags & ~(uint32_t)(VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT))
        return kmt_fail(error, KMT_ERROR_FLAGS, 0, 0, flags);
    return KMT_OK;
}

enum kmt_error
kmt_validate_offer(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t priority, uint32_t flags,
                   uint32_t stamp, struct kmt_error_info *error)
{
    enum kmt_error e = kmt_check_offer_arguments(list, priority, flags, error);
    if (e)
        return e;
    e = resolve_all(t, list, stamp, true, error);
    if (e || !list->resources)
        return e;
    bool oom = false;
    uint32_t i = first_shared_element(t, list->count, &oom);
    if (oom)
        return kmt_fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0);
    if (i != UINT32_MAX)
        return kmt_fail(error, KMT_ERROR_SHARED_MEMORY, i, list->resources[i].objectHandle,
                        kmt_make_handle(t->scratch[i].index, t->scratch[i].memory->generation));
    return KMT_OK;
}

enum kmt_error
kmt_validate_reclaim(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t stamp,
                     struct kmt_error_info *error)
{
    enum kmt_error e = kmt_check_list_shape(list, error);
    return e ? e : resolve_all(t, list, stamp, false, error);
}

/* ---- messages -------------------------------------------------------------------- */

const char *
kmt_error_id(enum kmt_error code)
{
    switch (code) {
    case KMT_OK: return "KMT-ok";
    case KMT_ERROR_NULL_INFO: return "KMT-null-info";
    case KMT_ERROR_STYPE: return "KMT-wrong-stype";
    case KMT_ERROR_COUNT_ZERO: return "KMT-count-zero";
    case KMT_ERROR_ARRAYS: return "KMT-handle-arrays";
    case KMT_ERROR_PRIORITY: return "KMT-offer-priority";
    case KMT_ERROR_FLAGS: return "KMT-offer-flags";
    case KMT_ERROR_UNKNOWN_MEMORY: return "KMT-unknown-memory";
    case KMT_ERROR_RESOURCE_TYPE: return "KMT-resource-type";
    case KMT_ERROR_UNKNOWN_RESOURCE: return "KMT-unknown-resource";
    case KMT_ERROR_RESOURCE_MEMORY_FREED: return "KMT-resource-memory-freed";
    case KMT_ERROR_DUPLICATE: return "KMT-duplicate-handle";
    case KMT_ERROR_MAPPED: return "KMT-offer-mapped-memory";
    case KMT_ERROR_DECOMMITTED: return "KMT-offer-decommitted-memory";
    case KMT_ERROR_SHARED_MEMORY: return "KMT-offer-shared-memory";
    case KMT_ERROR_OUT_OF_HOST_MEMORY: return "KMT-out-of-host-memory";
    case KMT_ERROR_NULL_ARRAY: return "KMT-null-array";
    case KMT_ERROR_RESIDENCY_FLAGS: return "KMT-residency-flags";
    case KMT_ERROR_MUST_SUCCEED: return "KMT-must-succeed-flags";
    case KMT_ERROR_EVICT_UNDERFLOW: return "KMT-evict-underflow";
    case KMT_ERROR_RESIDENCY_OVERFLOW: return "KMT-residency-count-overflow";
    case KMT_ERROR_RESIDENCY_OFFERED: return "KMT-residency-offered-memory";
    case KMT_ERROR_OFFER_EVICTED: return "KMT-offer-evicted-memory";
    case KMT_ERROR_SEGMENT_GROUP: return "KMT-segment-group";
    }
    return "KMT-unknown-error";
}

void
kmt_format_error(const struct kmt_error_info *error, const char *command, const struct kmt_handle_list *list,
                 char *buffer, size_t size)
{
    const char *array = list && list->resources ? "pResources" : "pMemories";
    const char *what = list && list->resources ? ".objectHandle" : "";
    uint32_t i = error->index;
    uint64_t h = error->handle;
    switch (error->code) {
    case KMT_ERROR_NULL_INFO:
        snprintf(buffer, size, "%s: the info pointer is NULL.", command);
        return;
    case KMT_ERROR_STYPE:
        snprintf(buffer, size, "%s: info->sType is %" PRIu64 ", not the command's VK_STRUCTURE_TYPE_*_KMT value.",
                 command, error->other);
        return;
    case KMT_ERROR_COUNT_ZERO:
        snprintf(buffer, size, "%s: allocationCount is 0; it must be at least 1.", command);
        return;
    case KMT_ERROR_ARRAYS:
        snprintf(buffer, size, "%s: exactly one of pResources and pMemories must be non-NULL (%s).", command,
                 error->other ? "both are set" : "both are NULL");
        return;
    case KMT_ERROR_PRIORITY:
        snprintf(buffer, size, "%s: priority %" PRIu64 " is not a VkOfferPriorityKMT (1 LOW .. 4 AUTO).", command,
                 error->other);
        return;
    case KMT_ERROR_FLAGS:
        snprintf(buffer, size, "%s: flags 0x%" PRIx64 " has unknown bits 0x%" PRIx64 ".", command, error->other,
                 error->other & ~(uint64_t)3);
        return;
    case KMT_ERROR_UNKNOWN_MEMORY:
        snprintf(buffer, size, "%s: pMemories[%u] (0x%" PRIx64 ") is not a live VkDeviceMemory of this device (never allocated "
                 "here, already freed, or another device's).",
                 command, i, h);
        return;
    case KMT_ERROR_RESOURCE_TYPE:
        snprintf(buffer, size,
                 "%s: pResources[%u].objectType is %" PRIu64 "; it must be VK_OBJECT_TYPE_BUFFER or VK_OBJECT_TYPE_IMAGE.",
                 command, i, error->other);
        return;
    case KMT_ERROR_UNKNOWN_RESOURCE:
        snprintf(buffer, size,
                 "%s: pResources[%u] (%s 0x%" PRIx64 ") is not a buffer or image of this device bound to memory.",
                 command, i, error->other == VK_OBJECT_TYPE_IMAGE ? "VkImage" : "VkBuffer", h);
        return;
    case KMT_ERROR_RESOURCE_MEMORY_FREED:
        snprintf(buffer, size, "%s: pResources[%u] (0x%" PRIx64 ") is bound to VkDeviceMemory 0x%" PRIx64
                 ", which was freed.", command, i, h, error->other);
        return;
    case KMT_ERROR_DUPLICATE:
        snprintf(buffer, size, "%s: %s[%u]%s (0x%" PRIx64 ") is listed more than once.", command, array, i, what, h);
        return;
    case KMT_ERROR_MAPPED:
        snprintf(buffer, size, "%s: %s[%u]%s (0x%" PRIx64 ") uses VkDeviceMemory 0x%" PRIx64
                 ", which is mapped; unmap it before offering.", command, array, i, what, h, error->other);
        return;
    case KMT_ERROR_DECOMMITTED:
        snprintf(buffer, size, "%s: %s[%u]%s (0x%" PRIx64 ") uses VkDeviceMemory 0x%" PRIx64
                 ", which was decommitted; free it and allocate anew.", command, array, i, what, h, error->other);
        return;
    case KMT_ERROR_SHARED_MEMORY:
        snprintf(buffer, size, "%s: pResources[%u] (0x%" PRIx64 ") is bound to VkDeviceMemory 0x%" PRIx64
                 ", which also backs resources that are not in this call; offer them together or offer the memory.",
                 command, i, h, error->other);
        return;
    case KMT_ERROR_OUT_OF_HOST_MEMORY:
        snprintf(buffer, size, "%s: out of host memory.", command);
        return;
    case KMT_ERROR_NULL_ARRAY:
        snprintf(buffer, size, "%s: %s is NULL; it must point to allocationCount elements.", command,
                 error->other ? "pPriorities" : "pMemories");
        return;
    case KMT_ERROR_RESIDENCY_FLAGS:
        snprintf(buffer, size, "%s: flags 0x%" PRIx64 " has unknown bits 0x%" PRIx64 " (known: 0x3).", command,
                 error->other, error->other & ~(uint64_t)3);
        return;
    case KMT_ERROR_MUST_SUCCEED:
        snprintf(buffer, size,
                 "%s: flags 0x%" PRIx64 " sets VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT without "
                 "VK_MAKE_RESIDENT_CANT_TRIM_FURTHER_BIT_KMT (MustSucceed may only be set with CantTrimFurther).",
                 command, error->other);
        return;
    case KMT_ERROR_EVICT_UNDERFLOW:
        snprintf(buffer, size, "%s: pMemories[%u] (0x%" PRIx64 ") is already evicted (residency count 0): "
                 "evict underflow, more evicts than make-residents.", command, i, h);
        return;
    case KMT_ERROR_RESIDENCY_OVERFLOW:
        snprintf(buffer, size, "%s: pMemories[%u] (0x%" PRIx64 ") has the largest residency count (%" PRIu64
                 "); evict it before making it resident again.", command, i, h, error->other);
        return;
    case KMT_ERROR_RESIDENCY_OFFERED:
        snprintf(buffer, size, "%s: pMemories[%u] (0x%" PRIx64 ") is offered (%s); reclaim it "
                 "(vkReclaimAllocationsKMT) before making it resident, evicting it or setting its priority.",
                 command, i, h,
                 error->other == VK_ALLOCATION_STATUS_OFFER_PENDING_KMT ? "pending"
                 : error->other == VK_ALLOCATION_STATUS_DISCARDED_KMT  ? "and discarded"
                                                                       : "demoted");
        return;
    case KMT_ERROR_OFFER_EVICTED:
        snprintf(buffer, size, "%s: %s[%u]%s (0x%" PRIx64 ") uses VkDeviceMemory 0x%" PRIx64
                 ", which is evicted; make it resident (vkMakeResidentKMT) before offering or reclaiming it.",
                 command, array, i, what, h, error->other);
        return;
    case KMT_ERROR_SEGMENT_GROUP:
        snprintf(buffer, size, "%s: segmentGroup %" PRIu64 " is not a VkMemorySegmentGroupKMT (0 LOCAL, 1 NON_LOCAL).",
                 command, error->other);
        return;
    case KMT_OK:
        break;
    }
    snprintf(buffer, size, "%s: no error.", command);
}

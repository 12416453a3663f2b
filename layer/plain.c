/* SPDX-License-Identifier: MIT */
/*
 * plain.c -- the hot path of offer and reclaim (issue 12): a list of
 * memories on a tracker that calls nothing per element (no transition
 * listener, no always/random hook, no pageable driver, no heap accounting),
 * an offer that takes effect now at one priority.
 *
 * Two tight passes per call: the first resolves and checks every element (an
 * array index and a generation compare: handles.h) and keeps its record in
 * the scratch array; only when all are valid does the second change them
 * and write the outputs, so the call is all-or-nothing and a rejected call
 * writes nothing. Invariants live in locals (the records' byte-sized stores
 * could alias anything), counts are summed and committed once. The rules are
 * offer.c's; the fuzzer compares both paths with one model.
 */
#include "offer_internal.h"

/* Room for every element the first pass can reach: a valid list names each
 * live allocation at most once, so among any slots + 1 elements one is
 * invalid or a duplicate and stops the pass there. Bounded by the table,
 * never sized from the count. */
static bool
scratch_for(struct kmt_tracker *t, uint32_t count)
{
    const uint64_t slots = kmt_slots_capacity(&t->slots);
    const uint64_t reach = count < slots + 1 ? count : slots + 1;
    while (t->scratch_capacity < reach)
        if (!kmt_grow_scratch(t))
            return false;
    return true;
}

/* The plain loops keep plain pointers in the scratch array (half its room). */
static inline struct kmt_memory **
records(struct kmt_tracker *t)
{
    return (struct kmt_memory **)(void *)t->scratch;
}

/* The first pass: element i's record into records(t)[i], stamped; the
 * first element that is not a live allocation listed once (and, offering,
 * neither mapped nor decommitted) stops it. */
static inline __attribute__((always_inline)) enum kmt_error
resolve_memories(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t stamp, bool offering,
                 struct kmt_error_info *error)
{
    const VkDeviceMemory *handles = list->memories;
    /* Allocations may grow the table meanwhile (they take no device lock):
     * the capacity first, then a directory at least that large. */
    const uint32_t count = list->count, capacity = __atomic_load_n(&t->slots.capacity, __ATOMIC_ACQUIRE);
    struct kmt_slot_chunk *const *directory = __atomic_load_n(&t->slots.directory, __ATOMIC_ACQUIRE);
    struct kmt_memory **refs = records(t);
    for (uint32_t i = 0; i < count; i++) {
        const uint64_t handle = (uint64_t)handles[i];
        const uint32_t index = (uint32_t)handle - 1;
        if (index >= capacity)
            return kmt_memory_error(t, list, i, stamp, error);
        struct kmt_memory *m = &directory[index >> KMT_SLOT_CHUNK_SHIFT]->hot[index & (KMT_SLOT_CHUNK - 1)];
        const uint8_t status = m->status;
        if (m->generation != (uint32_t)(handle >> 32) || status == KMT_STATUS_FREE || m->call_stamp == stamp ||
            (offering && ((m->bits & KMT_MEM_MAPPED) || status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT)))
            return kmt_memory_error(t, list, i, stamp, error);
        m->call_stamp = stamp;
        refs[i] = m;
    }
    return KMT_OK;
}

/* Commits a change of the OFFER_PENDING count (the ring empties with it). */
static void
leave_pending(struct kmt_tracker *t, uint32_t leaving)
{
    if (!leaving)
        return;
    t->pending_count -= leaving;
    if (t->pending_count == 0) {
        t->pending_head = t->pending_tail = 0;
        t->pending_newest = 0;
    }
}

enum kmt_error
kmt_offer_plain(struct kmt_tracker *t, const struct kmt_handle_list *list, uint8_t level, uint32_t flags,
                uint32_t stamp, uint32_t most, struct kmt_error_info *error, uint32_t *reoffered)
{
    if (!scratch_for(t, list->count))
        return kmt_fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0);
    enum kmt_error e = resolve_memories(t, list, stamp, true, error);
    if (e)
        return e;
    /* Only a valid call may renumber the offered allocations (the sequence
     * numbers' wrap-around): a rejected one changes nothing. */
    if (!kmt_reserve_offer_orders(t, most))
        return kmt_fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0);
    struct kmt_memory *const *refs = records(t);
    const uint32_t count = list->count;
    const uint8_t offer_bits = (uint8_t)(flags & KMT_MEM_OFFER_FLAGS);
    uint32_t order = t->next_offer_order, reoffers = 0, offered = 0, unoffered = 0, leaving_pending = 0;
    VkDeviceSize bytes = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct kmt_memory *m = refs[i];
        const uint8_t from = m->status;
        bytes += m->size;
        if (__builtin_expect(from == VK_ALLOCATION_STATUS_RESIDENT_KMT, 1)) {
            m->status = VK_ALLOCATION_STATUS_OFFERED_KMT;
            offered++;
        } else {
            reoffers++;
            unoffered += from == VK_ALLOCATION_STATUS_OFFERED_KMT;
            leaving_pending += from == VK_ALLOCATION_STATUS_OFFER_PENDING_KMT;
            if (from != VK_ALLOCATION_STATUS_DISCARDED_KMT) { /* DISCARDED: the bookkeeping only */
                m->status = VK_ALLOCATION_STATUS_OFFERED_KMT;
                offered++;
            }
        }
        m->offer_priority = level;
        m->bits = (uint8_t)((m->bits & ~KMT_MEM_OFFER_FLAGS) | offer_bits);
        m->offer_order = ++order;
    }
    t->next_offer_order = order;
    t->offered_count += offered - unoffered;
    leave_pending(t, leaving_pending);
    t->counters.offers += count;
    t->counters.reoffers += reoffers;
    t->counters.bytes_offered += bytes;
    if (reoffered)
        *reoffered = reoffers;
    return KMT_OK;
}

/* What reclaim reports for each status (VkAllocationStatusKMT order). */
static const uint8_t result_of_status[8] = {
    [VK_ALLOCATION_STATUS_DISCARDED_KMT] = VK_RECLAIM_RESULT_DISCARDED_KMT,
    [VK_ALLOCATION_STATUS_DECOMMITTED_KMT] = VK_RECLAIM_RESULT_NOT_COMMITTED_KMT,
};

/* A discarded allocation comes back: its GPU fill, if not complete yet, is
 * what the caller waits for (no heap accounting on this path). */
static uint64_t
undiscard(struct kmt_tracker *t, uint64_t handle, uint64_t fill_completed)
{
    const uint64_t fill = kmt_cold(&t->slots, (uint32_t)handle - 1)->fill_value;
    return fill > fill_completed ? fill : 0;
}

enum kmt_error
kmt_reclaim_plain(struct kmt_tracker *t, const struct kmt_handle_list *list, VkReclaimResultKMT *results,
                  VkBool32 *discarded, uint64_t fill_completed, uint32_t stamp, struct kmt_error_info *error,
                  uint64_t *fence_value)
{
    if (!scratch_for(t, list->count))
        return kmt_fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0);
    enum kmt_error e = resolve_memories(t, list, stamp, false, error);
    if (e)
        return e;
    struct kmt_memory *const *refs = records(t);
    const uint32_t count = list->count;
    uint32_t unoffered = 0, leaving_pending = 0;
    uint64_t fence = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct kmt_memory *m = refs[i];
        const uint8_t from = m->status;
        const VkReclaimResultKMT result = (VkReclaimResultKMT)result_of_status[from & 7];
        if (results)
            results[i] = result;
        if (discarded)
            discarded[i] = result != VK_RECLAIM_RESULT_OK_KMT;
        if (__builtin_expect(from == VK_ALLOCATION_STATUS_OFFERED_KMT, 1)) {
            unoffered++;
        } else if (from == VK_ALLOCATION_STATUS_OFFER_PENDING_KMT) {
            leaving_pending++;
        } else if (from == VK_ALLOCATION_STATUS_DISCARDED_KMT) {
            const uint64_t wait = undiscard(t, (uint64_t)list->memories[i], fill_completed);
            fence = wait > fence ? wait : fence;
        } else {
            continue; /* RESIDENT: nothing to do; DECOMMITTED: stays */
        }
        m->status = VK_ALLOCATION_STATUS_RESIDENT_KMT;
        m->offer_priority = 0;
        m->bits &= (uint8_t)~KMT_MEM_OFFER_FLAGS;
    }
    t->offered_count -= unoffered;
    leave_pending(t, leaving_pending);
    t->counters.reclaims += count;
    *fence_value = fence;
    return KMT_OK;
}

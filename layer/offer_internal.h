/* SPDX-License-Identifier: MIT */
/*
 * offer_internal.h -- what offer.c, validate.c, bindings.c and policy.c share
 * inside the state machine (not for the glue).
 */
#ifndef KMT_OFFER_INTERNAL_H
#define KMT_OFFER_INTERNAL_H

#include "offer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reports a state change to ops.transition (which must be set). */
void kmt_report(struct kmt_tracker *t, uint32_t index, const struct kmt_memory *m, uint8_t from,
                enum kmt_reason reason, const struct kmt_transition *extra);

/* One predictable branch when nobody listens. */
#define KMT_REPORT(t, index, m, from, reason, extra)                                                            \
    do {                                                                                                        \
        if ((t)->ops.transition)                                                                                \
            kmt_report((t), (index), (m), (from), (reason), (extra));                                           \
    } while (0)

/* Whether memory counts in its heap's tracked usage: it holds contents
 * (not discarded, not decommitted) and is not evicted (VK_KMT_residency). */
static inline bool
kmt_holds_payload(const struct kmt_memory *m)
{
    return m->status != VK_ALLOCATION_STATUS_DISCARDED_KMT && m->status != VK_ALLOCATION_STATUS_DECOMMITTED_KMT &&
           m->status != VK_ALLOCATION_STATUS_EVICTED_KMT;
}

/* Gives the driver `priority` for memory in slot `index` (only with pageable
 * memory; remembered in the cold record). */
void kmt_set_driver_priority(struct kmt_tracker *t, uint32_t index, struct kmt_memory *m, float priority);

/* Memory enters / leaves OFFERED or leaves OFFER_PENDING (counts only; the
 * caller sets the new status). Inline: they are on the offer/reclaim path. */
static inline void
kmt_enter_offered(struct kmt_tracker *t, const struct kmt_memory *m)
{
    t->offered_count++;
    if (t->config.accounting)
        t->offered_bytes[kmt_heap_of(t, m)] += m->size;
}

static inline void
kmt_leave_offered(struct kmt_tracker *t, const struct kmt_memory *m)
{
    t->offered_count--;
    if (t->config.accounting)
        t->offered_bytes[kmt_heap_of(t, m)] -= m->size;
}

/* Whether anything OFFERED could relieve `heap` (exact with accounting). */
static inline bool
kmt_offered_in_heap(const struct kmt_tracker *t, uint32_t heap)
{
    if (t->config.accounting)
        return t->offered_bytes[heap] != 0;
    return t->offered_count != 0;
}

static inline void
kmt_leave_pending(struct kmt_tracker *t)
{
    /* The ring entry stays behind, stale; an empty state empties the ring. */
    if (--t->pending_count == 0) {
        t->pending_head = t->pending_tail = 0;
        t->pending_newest = 0;
    }
}

/* Room for `count` deferred offers / offer sequence numbers, made before a
 * call changes anything. */
bool kmt_reserve_pending(struct kmt_tracker *t, uint32_t count);
bool kmt_reserve_offer_orders(struct kmt_tracker *t, uint32_t count);

/* validate.c: a fresh stamp per call (duplicates are stamped twice). */
uint32_t kmt_next_call_stamp(struct kmt_tracker *t);
enum kmt_error kmt_fail(struct kmt_error_info *error, enum kmt_error code, uint32_t index, uint64_t handle,
                        uint64_t other);
/* The checks of a call's arguments before any element. */
enum kmt_error kmt_check_list_shape(const struct kmt_handle_list *list, struct kmt_error_info *error);
enum kmt_error kmt_check_offer_arguments(const struct kmt_handle_list *list, uint32_t priority, uint32_t flags,
                                         struct kmt_error_info *error);

/* plain.c: the offer/reclaim of memory lists when nothing is called per
 * element (see there); they validate, then change. `most`: the offer sequence
 * numbers to reserve once the list is valid. */
enum kmt_error kmt_offer_plain(struct kmt_tracker *t, const struct kmt_handle_list *list, uint8_t level,
                               uint32_t flags, uint32_t stamp, uint32_t most, struct kmt_error_info *error,
                               uint32_t *reoffered);
enum kmt_error kmt_reclaim_plain(struct kmt_tracker *t, const struct kmt_handle_list *list,
                                 VkReclaimResultKMT *results, VkBool32 *discarded, uint64_t fill_completed,
                                 uint32_t stamp, struct kmt_error_info *error, uint64_t *fence_value);

/* Doubles the scratch array (false when out of host memory). */
bool kmt_grow_scratch(struct kmt_tracker *t);
/* Why element i of a memory list is invalid, as found with the records as
 * they were before the call (stamps aside). */
enum kmt_error kmt_memory_error(const struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t i,
                                uint32_t stamp, struct kmt_error_info *error);
/* Validate a whole call, resolving element i into t->scratch[i]. Nothing
 * changes state. */
enum kmt_error kmt_validate_offer(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t priority,
                                  uint32_t flags, uint32_t stamp, struct kmt_error_info *error);
enum kmt_error kmt_validate_reclaim(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t stamp,
                                    struct kmt_error_info *error);

#ifdef __cplusplus
}
#endif

#endif

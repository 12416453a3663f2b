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

static inline bool
kmt_holds_payload(const struct kmt_memory *m)
{
    return m->status != VK_ALLOCATION_STATUS_DISCARDED_KMT && m->status != VK_ALLOCATION_STATUS_DECOMMITTED_KMT;
}

/* Memory leaves OFFERED / OFFER_PENDING (counts only; the caller sets the
 * new status). */
void kmt_leave_offered(struct kmt_tracker *t, const struct kmt_memory *m);
void kmt_leave_pending(struct kmt_tracker *t);

/* Room for `count` deferred offers / offer sequence numbers, made before a
 * call changes anything. */
bool kmt_reserve_pending(struct kmt_tracker *t, uint32_t count);
bool kmt_reserve_offer_orders(struct kmt_tracker *t, uint32_t count);

/* validate.c: a fresh stamp per call (duplicates are stamped twice). */
uint32_t kmt_next_call_stamp(struct kmt_tracker *t);
enum kmt_error kmt_fail(struct kmt_error_info *error, enum kmt_error code, uint32_t index, uint64_t handle,
                        uint64_t other);
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

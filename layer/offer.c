/* SPDX-License-Identifier: MIT */
/*
 * offer.c -- the offer/reclaim state machine (rules in offer.h): the
 * transitions, deferred offers, offer and reclaim. Validation and messages
 * live in validate.c, bindings in bindings.c.
 */
#include "offer.h"

#include <stdlib.h>
#include <string.h>

#include "offer_internal.h"
#include "residency.h"

/* ---- transitions reported to ops.transition --------------------------------- */

void
kmt_report(struct kmt_tracker *t, uint32_t index, const struct kmt_memory *m, uint8_t from, enum kmt_reason reason,
           const struct kmt_transition *extra)
{
    struct kmt_transition c = extra ? *extra : (struct kmt_transition){0};
    c.memory = kmt_make_handle(index, m->generation);
    c.size = m->size;
    c.heap_index = kmt_heap_of(t, m);
    c.from = from;
    c.to = m->status;
    c.reason = (uint8_t)reason;
    c.offer_priority = m->offer_priority;
    c.offer_flags = m->bits & KMT_MEM_OFFER_FLAGS;
    t->ops.transition(t->ops.ctx, &c);
}

/* ---- setup -------------------------------------------------------------- */

bool
kmt_tracker_init(struct kmt_tracker *t, const struct kmt_tracker_config *config,
                 const struct kmt_tracker_ops *ops, const VkAllocationCallbacks *allocator)
{
    memset(t, 0, sizeof(*t));
    t->config = *config;
    /* Residency needs the per-heap usage (budget checks, evicted bytes). */
    t->config.accounting |= config->residency;
    if (ops)
        t->ops = *ops;
    kmt_slots_init(&t->slots, config->salt, allocator);
    if (!kmt_map_init(&t->resources, 64, allocator))
        return false;
    if (config->residency && !kmt_residency_init(t))
        return false;
    kmt_pool_init(&t->resource_pool, sizeof(struct kmt_resource), 256, allocator);
    return true;
}

void
kmt_tracker_finish(struct kmt_tracker *t)
{
    const VkAllocationCallbacks *allocator = t->slots.allocator;
    kmt_free(allocator, t->scratch);
    kmt_free(allocator, t->pending);
    kmt_residency_finish(t);
    kmt_slots_finish(&t->slots);
    kmt_map_finish(&t->resources);
    kmt_pool_finish(&t->resource_pool);
}

/* ---- allocations --------------------------------------------------------------- */

uint64_t
kmt_track_memory(struct kmt_tracker *t, uint64_t driver, VkDeviceSize size, uint32_t type_index, uint32_t track_flags,
                 float app_priority)
{
    uint32_t index;
    struct kmt_memory *m;
    uint64_t handle = kmt_slots_take(&t->slots, &index, &m);
    if (!handle)
        return 0;
    if (t->residency && !kmt_residency_track(t, index)) {
        kmt_slots_release(&t->slots, index);
        return 0;
    }
    /* Relaxed atomics where another thread may look at this slot meanwhile:
     * one that lost the race for it reads its link, a scan of the table
     * (kmt_heap_usage) its size and type. Plain moves on the machines we
     * run on. */
    __atomic_store_n(&m->driver, driver, __ATOMIC_RELAXED);
    __atomic_store_n(&m->size, size, __ATOMIC_RELAXED);
    /* A memoryTypeIndex is < VK_MAX_MEMORY_TYPES, but some drivers accept
     * more (lavapipe 22.3): kept (saturated at 255) so that nothing treats
     * such memory as a type it is not -- no fill can target it (paging.c),
     * and its heap counts as heap 0. */
    __atomic_store_n(&m->type_index, (uint8_t)(type_index < 255 ? type_index : 255), __ATOMIC_RELAXED);
    m->bits = (uint8_t)(((track_flags & KMT_TRACK_HOST_VISIBLE) ? KMT_MEM_HOST_VISIBLE : 0) |
                        ((track_flags & KMT_TRACK_DEDICATED) ? KMT_MEM_DEDICATED : 0) |
                        ((track_flags & KMT_TRACK_APP_ALLOCATOR) ? KMT_MEM_APP_ALLOCATOR : 0));
    struct kmt_memory_cold *cold = kmt_cold(&t->slots, index);
    cold->app_priority = app_priority;
    cold->driver_priority = app_priority;
    if (t->config.accounting)
        t->heap_usage[kmt_heap_of(t, m)] += size;
    /* Live last: a scan of the table under the device lock (the policy,
     * kmt_heap_usage) may run while a lock-free allocation fills the slot. */
    __atomic_store_n(&m->status, VK_ALLOCATION_STATUS_RESIDENT_KMT, __ATOMIC_RELEASE);
    return handle;
}

bool
kmt_untrack_memory(struct kmt_tracker *t, uint64_t memory, uint64_t *driver)
{
    uint32_t index;
    struct kmt_memory *m = kmt_resolve(&t->slots, memory, &index);
    if (!m)
        return false;
    switch (m->status) {
    case VK_ALLOCATION_STATUS_OFFER_PENDING_KMT:
        kmt_leave_pending(t);
        break;
    case VK_ALLOCATION_STATUS_OFFERED_KMT:
        kmt_leave_offered(t, m);
        break;
    default:
        break;
    }
    if (t->config.accounting && kmt_holds_payload(m))
        t->heap_usage[kmt_heap_of(t, m)] -= m->size;
    *driver = m->driver;
    /* Resources still bound to it find a stale handle from now on. */
    kmt_slots_release(&t->slots, index);
    return true;
}

/* ---- priorities ---------------------------------------------------------- */

static bool
is_demoted(const struct kmt_memory *m)
{
    return m->status == VK_ALLOCATION_STATUS_OFFERED_KMT || m->status == VK_ALLOCATION_STATUS_DISCARDED_KMT ||
           m->status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT || m->status == VK_ALLOCATION_STATUS_EVICTED_KMT;
}

/* Only with pageable memory: the cold record is not touched otherwise. */
void
kmt_set_driver_priority(struct kmt_tracker *t, uint32_t index, struct kmt_memory *m, float priority)
{
    if (!t->config.pageable || !m->driver)
        return;
    struct kmt_memory_cold *cold = kmt_cold(&t->slots, index);
    if (cold->driver_priority == priority)
        return;
    cold->driver_priority = priority;
    if (t->ops.set_priority)
        t->ops.set_priority(t->ops.ctx, m->driver, priority);
}

uint64_t
kmt_set_app_priority(struct kmt_tracker *t, uint64_t memory, float priority)
{
    uint32_t index;
    struct kmt_memory *m = kmt_resolve(&t->slots, memory, &index);
    if (!m)
        return 0;
    struct kmt_memory_cold *cold = kmt_cold(&t->slots, index);
    cold->app_priority = priority;
    /* VK_KMT_residency: the later of the two priorities wins. */
    if (t->residency)
        kmt_residency_of(t, index)->count &= ~KMT_RESIDENCY_PRIORITY_SET;
    if (is_demoted(m))
        return 0;
    cold->driver_priority = priority;
    return m->driver;
}

VkOfferPriorityKMT
kmt_resolve_priority(uint32_t priority, float app_priority)
{
    if (priority != VK_OFFER_PRIORITY_AUTO_KMT)
        return (VkOfferPriorityKMT)priority;
    /* AUTO: VidMm derives it from the eviction priority; here the app's
     * memory priority in thirds. */
    if (app_priority < 1.0f / 3.0f)
        return VK_OFFER_PRIORITY_LOW_KMT;
    if (app_priority < 2.0f / 3.0f)
        return VK_OFFER_PRIORITY_NORMAL_KMT;
    return VK_OFFER_PRIORITY_HIGH_KMT;
}

/* ---- deferred offers: a FIFO ring in wait_serial order ------------------------ */

static bool
entry_is_live(const struct kmt_tracker *t, const struct kmt_pending_entry *e)
{
    const struct kmt_memory *m = kmt_slot(&t->slots, e->index);
    return m->generation == e->generation && m->status == VK_ALLOCATION_STATUS_OFFER_PENDING_KMT &&
           m->offer_order == e->offer_order;
}

static uint32_t
pending_used(const struct kmt_tracker *t)
{
    return t->pending_tail - t->pending_head;
}

static void
reverse_entries(struct kmt_pending_entry *e, uint32_t from, uint32_t to)
{
    while (from + 1 < to) {
        struct kmt_pending_entry swap = e[from];
        e[from++] = e[--to];
        e[to] = swap;
    }
}

/* Drops stale entries, keeping the order. A wrapped ring is first rotated in
 * place so that its oldest entry sits at 0 (three reversals); then entries
 * move only towards the front, never over one not read yet. */
static void
compact_pending(struct kmt_tracker *t)
{
    const uint32_t capacity = t->pending_capacity, used = pending_used(t);
    const uint32_t head = t->pending_head & (capacity - 1);
    if (head) {
        reverse_entries(t->pending, 0, capacity);
        reverse_entries(t->pending, 0, capacity - head);
        reverse_entries(t->pending, capacity - head, capacity);
    }
    uint32_t out = 0;
    for (uint32_t i = 0; i < used; i++) {
        struct kmt_pending_entry e = t->pending[i];
        if (entry_is_live(t, &e))
            t->pending[out++] = e;
    }
    t->pending_head = 0;
    t->pending_tail = out;
}

bool
kmt_reserve_pending(struct kmt_tracker *t, uint32_t count)
{
    if (t->pending_capacity - pending_used(t) >= count)
        return true;
    if (t->pending_capacity)
        compact_pending(t);
    if (t->pending_capacity - pending_used(t) >= count)
        return true;
    uint64_t needed = (uint64_t)pending_used(t) + count;
    uint64_t capacity = t->pending_capacity ? t->pending_capacity : 64;
    while (capacity < needed)
        capacity *= 2;
    if (capacity > UINT32_MAX / 2 + 1)
        return false;
    struct kmt_pending_entry *ring =
        kmt_alloc(t->slots.allocator, (size_t)capacity * sizeof(*ring), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!ring)
        return false;
    uint32_t mask = t->pending_capacity - 1, n = 0;
    for (uint32_t i = t->pending_head; i != t->pending_tail; i++)
        ring[n++] = t->pending[i & mask];
    kmt_free(t->slots.allocator, t->pending);
    t->pending = ring;
    t->pending_capacity = (uint32_t)capacity;
    t->pending_head = 0;
    t->pending_tail = n;
    return true;
}

/* Room was reserved by kmt_reserve_pending. A wait_serial below the highest
 * one queued since the ring was last empty is raised to it: waiting longer
 * is always safe, and the ring stays in order (the glue's serials only grow,
 * so this never happens through the layer). */
static uint64_t
push_pending(struct kmt_tracker *t, uint32_t index, const struct kmt_memory *m, uint64_t wait_serial)
{
    uint32_t mask = t->pending_capacity - 1;
    if (wait_serial < t->pending_newest)
        wait_serial = t->pending_newest;
    t->pending_newest = wait_serial;
    struct kmt_pending_entry *e = &t->pending[t->pending_tail++ & mask];
    e->wait_serial = wait_serial;
    e->index = index;
    e->generation = m->generation;
    e->offer_order = m->offer_order;
    e->reserved = 0;
    return wait_serial;
}

static inline void become_offered(struct kmt_tracker *t, uint32_t index, struct kmt_memory *m,
                                  enum kmt_reason reason);

uint32_t
kmt_promote_pending(struct kmt_tracker *t, uint64_t completed_serial)
{
    uint32_t promoted = 0;
    uint32_t mask = t->pending_capacity - 1;
    while (t->pending_count && t->pending_head != t->pending_tail &&
           t->pending[t->pending_head & mask].wait_serial <= completed_serial) {
        struct kmt_pending_entry e = t->pending[t->pending_head++ & mask];
        if (!entry_is_live(t, &e))
            continue;
        kmt_leave_pending(t);
        become_offered(t, e.index, kmt_slot(&t->slots, e.index), KMT_REASON_PROMOTED);
        promoted++;
    }
    return promoted;
}

uint64_t
kmt_next_pending_serial(const struct kmt_tracker *t)
{
    if (!t->pending_count || t->pending_head == t->pending_tail)
        return 0;
    return t->pending[t->pending_head & (t->pending_capacity - 1)].wait_serial;
}

/* ---- transitions --------------------------------------------------------- */

static inline void
become_offered(struct kmt_tracker *t, uint32_t index, struct kmt_memory *m, enum kmt_reason reason)
{
    uint8_t from = m->status;
    m->status = VK_ALLOCATION_STATUS_OFFERED_KMT;
    kmt_enter_offered(t, m);
    if (t->config.pageable)
        kmt_set_driver_priority(t, index, m, t->config.offered_priority);
    KMT_REPORT(t, index, m, from, reason, NULL);
    if (t->config.on_offered)
        t->config.on_offered(t->config.on_offered_ctx, t, index);
}

bool
kmt_discard_as(struct kmt_tracker *t, uint32_t index, const struct kmt_discard_why *why)
{
    struct kmt_memory *m = kmt_slot(&t->slots, index);
    if (m->status != VK_ALLOCATION_STATUS_OFFERED_KMT)
        return false;
    bool decommit = (m->bits & KMT_MEM_OFFER_DECOMMIT) != 0;
    /* Fill first: when the contents cannot be replaced the memory stays
     * OFFERED and reclaim truthfully reports OK. A decommit needs no fill:
     * the memory is gone. */
    uint64_t fill_value = 0;
    if (!decommit && t->ops.fill) {
        struct kmt_fill_request request = {
            .driver = m->driver,
            .size = m->size,
            .type_index = m->type_index,
            .host_visible = (m->bits & KMT_MEM_HOST_VISIBLE) != 0,
            .dedicated = (m->bits & KMT_MEM_DEDICATED) != 0,
        };
        fill_value = t->ops.fill(t->ops.ctx, &request);
        if (fill_value == KMT_FILL_FAILED)
            return false;
    }
    kmt_leave_offered(t, m);
    struct kmt_memory_cold *cold = kmt_cold(&t->slots, index);
    m->status = decommit ? VK_ALLOCATION_STATUS_DECOMMITTED_KMT : VK_ALLOCATION_STATUS_DISCARDED_KMT;
    cold->discard_count++;
    if (t->config.accounting)
        t->heap_usage[kmt_heap_of(t, m)] -= m->size;
    t->counters.bytes_discarded += m->size;
    if (decommit) {
        /* The app's handle stays; the driver's memory goes now. Cleared
         * first so that a lock-free translation never passes it down. */
        uint64_t driver = m->driver;
        __atomic_store_n(&m->driver, 0, __ATOMIC_RELAXED);
        if (t->ops.decommit && driver)
            t->ops.decommit(t->ops.ctx, kmt_make_handle(index, m->generation), driver);
        t->counters.decommits++;
    } else {
        cold->fill_value = fill_value;
        t->counters.discards++;
    }
    if (t->ops.transition) {
        struct kmt_transition extra = {.fence_value = fill_value};
        if (why) {
            extra.order = why->order;
            extra.heap_usage = why->heap_usage;
            extra.heap_budget = why->heap_budget;
        }
        kmt_report(t, index, m, VK_ALLOCATION_STATUS_OFFERED_KMT, why ? why->reason : KMT_REASON_DISCARD_REQUEST,
                   &extra);
    }
    return true;
}

/* Reclaimed: RESIDENT again, the app's priority back. `from` is not RESIDENT
 * or DECOMMITTED. */
static inline void
become_resident(struct kmt_tracker *t, uint32_t index, struct kmt_memory *m, uint8_t from, uint32_t result,
                 uint64_t fence)
{
    switch (from) {
    case VK_ALLOCATION_STATUS_OFFERED_KMT:
        kmt_leave_offered(t, m);
        break;
    case VK_ALLOCATION_STATUS_OFFER_PENDING_KMT:
        kmt_leave_pending(t);
        break;
    default: /* DISCARDED: the contents count again */
        if (t->config.accounting)
            t->heap_usage[kmt_heap_of(t, m)] += m->size;
        kmt_cold(&t->slots, index)->fill_value = 0;
        break;
    }
    m->status = VK_ALLOCATION_STATUS_RESIDENT_KMT;
    m->offer_priority = 0;
    m->bits &= (uint8_t)~KMT_MEM_OFFER_FLAGS;
    if (t->config.pageable)
        kmt_set_driver_priority(t, index, m, kmt_resident_priority(t, index));
    if (t->ops.transition) {
        struct kmt_transition extra = {.result = result, .fence_value = fence};
        kmt_report(t, index, m, from, KMT_REASON_RECLAIM, &extra);
    }
}

/* ---- offer sequence numbers -------------------------------------------------- */

struct order_key {
    uint32_t order, index;
};

static int
compare_order(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* After ~4 billion offers the 32-bit sequence would wrap: every offered or
 * pending allocation gets a new number from 1, in the same order (pending
 * ring entries follow). False (nothing changed) when out of host memory. */
static bool
renumber_offers(struct kmt_tracker *t)
{
    uint32_t count = 0, capacity = __atomic_load_n(&t->slots.capacity, __ATOMIC_ACQUIRE);
    struct order_key *keys = capacity ? kmt_alloc(t->slots.allocator, (size_t)capacity * sizeof(*keys),
                                                  VK_SYSTEM_ALLOCATION_SCOPE_COMMAND)
                                      : NULL;
    if (capacity && !keys)
        return false;
    if (t->pending_capacity)
        compact_pending(t); /* only live entries: they follow their memory below */
    for (uint32_t i = 0; i < capacity; i++) {
        const struct kmt_memory *m = kmt_slot(&t->slots, i);
        const uint8_t status = __atomic_load_n(&m->status, __ATOMIC_ACQUIRE); /* slots come and go lock-free */
        if (status != KMT_STATUS_FREE && status != VK_ALLOCATION_STATUS_RESIDENT_KMT &&
            status != VK_ALLOCATION_STATUS_DECOMMITTED_KMT && status != VK_ALLOCATION_STATUS_EVICTED_KMT)
            keys[count++] = (struct order_key){m->offer_order, i};
    }
    qsort(keys, count, sizeof(*keys), compare_order);
    for (uint32_t k = 0; k < count; k++)
        kmt_slot(&t->slots, keys[k].index)->offer_order = k + 1;
    for (uint32_t i = t->pending_head; i != t->pending_tail; i++) {
        struct kmt_pending_entry *e = &t->pending[i & (t->pending_capacity - 1)];
        e->offer_order = kmt_slot(&t->slots, e->index)->offer_order;
    }
    t->next_offer_order = count;
    kmt_free(t->slots.allocator, keys);
    return true;
}

bool
kmt_reserve_offer_orders(struct kmt_tracker *t, uint32_t count)
{
    if (t->next_offer_order <= UINT32_MAX - count)
        return true;
    return renumber_offers(t) && t->next_offer_order <= UINT32_MAX - count;
}

void
kmt_set_next_offer_order(struct kmt_tracker *t, uint32_t next)
{
    t->next_offer_order = next;
}

/* ---- offer and reclaim --------------------------------------------------- */

struct offer_totals {
    uint32_t reoffers;
    VkDeviceSize bytes;
};

/* One memory's offer. `level`: the resolved priority (AUTO already
 * resolved); `now`: IMMEDIATELY, or no earlier work to wait for (which also
 * covers what an earlier deferred offer of the same memory waited for). */
static inline void
offer_one(struct kmt_tracker *t, struct kmt_memory *m, uint32_t index, uint8_t level, uint32_t flags,
          uint64_t wait_serial, bool now, struct offer_totals *totals)
{
    uint8_t from = m->status;
    totals->bytes += m->size;
    if (from == VK_ALLOCATION_STATUS_OFFERED_KMT)
        kmt_leave_offered(t, m);
    m->offer_priority = level;
    m->bits = (uint8_t)((m->bits & ~KMT_MEM_OFFER_FLAGS) | (flags & KMT_MEM_OFFER_FLAGS));
    m->offer_order = ++t->next_offer_order;
    if (from == VK_ALLOCATION_STATUS_RESIDENT_KMT) {
        if (now) {
            become_offered(t, index, m, KMT_REASON_OFFER);
            return;
        }
        t->pending_count++;
    } else {
        totals->reoffers++;
        if (from == VK_ALLOCATION_STATUS_OFFERED_KMT) {
            /* Re-prioritised: a new offer for the "oldest first" order. */
            kmt_enter_offered(t, m);
            KMT_REPORT(t, index, m, from, KMT_REASON_REOFFER, NULL);
            return;
        }
        if (from != VK_ALLOCATION_STATUS_OFFER_PENDING_KMT) {
            /* DISCARDED: nothing left to protect, only the bookkeeping. */
            KMT_REPORT(t, index, m, from, KMT_REASON_REOFFER, NULL);
            return;
        }
        if (now) {
            kmt_leave_pending(t);
            become_offered(t, index, m, KMT_REASON_REOFFER);
            return;
        }
    }
    /* A new deferred offer, or a re-offer that now waits for the newer work
     * too (its old ring entry no longer matches). */
    m->status = VK_ALLOCATION_STATUS_OFFER_PENDING_KMT;
    uint64_t waits_for = push_pending(t, index, m, wait_serial);
    if (t->ops.transition) {
        struct kmt_transition extra = {.wait_serial = waits_for};
        kmt_report(t, index, m, from, from == VK_ALLOCATION_STATUS_RESIDENT_KMT ? KMT_REASON_OFFER : KMT_REASON_REOFFER,
                   &extra);
    }
}

/* Element i's slot: a memory list names it in the handle's low half. */
static inline uint32_t
ref_index(const struct kmt_handle_list *list, const struct kmt_ref *refs, uint32_t i)
{
    return list->memories ? (uint32_t)(uint64_t)list->memories[i] - 1 : refs[i].index;
}

/* Whether a transition does more than change the record and the counts (a
 * listener, the always/random hook, a pageable driver, the per-heap index):
 * then the general loops run, else the single-pass ones (plain.c). */
static inline bool
plain_reclaim(const struct kmt_tracker *t)
{
    return !t->ops.transition && !t->config.pageable && !t->config.accounting;
}

static inline bool
plain_offer(const struct kmt_tracker *t)
{
    return plain_reclaim(t) && !t->config.on_offered;
}

static inline uint8_t
level_of(const struct kmt_tracker *t, uint32_t priority, uint32_t index)
{
    return (uint8_t)(priority == VK_OFFER_PRIORITY_AUTO_KMT
                         ? kmt_resolve_priority(priority, kmt_cold(&t->slots, index)->app_priority)
                         : priority);
}

enum kmt_error
kmt_offer(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t priority, uint32_t flags,
          uint64_t wait_serial, struct kmt_error_info *error, uint32_t *reoffered)
{
    uint32_t stamp = kmt_next_call_stamp(t);
    bool now = (flags & VK_OFFER_IMMEDIATELY_BIT_KMT) || wait_serial == 0;
    /* A valid call offers each live allocation at most once. */
    const uint32_t slots = kmt_slots_capacity(&t->slots);
    uint32_t most = list->count < slots ? list->count : slots;
    enum kmt_error e;
    if (list->memories && now && priority != VK_OFFER_PRIORITY_AUTO_KMT && plain_offer(t)) {
        e = kmt_check_offer_arguments(list, priority, flags, error);
        if (!e)
            e = kmt_offer_plain(t, list, (uint8_t)priority, flags, stamp, most, error, reoffered);
        if (e) {
            t->counters.rejected_calls++;
            return e;
        }
        if (error)
            error->code = KMT_OK;
        return KMT_OK;
    }
    e = kmt_validate_offer(t, list, priority, flags, stamp, error);
    /* Room for what the changes below need, before any change. */
    if (!e && ((!now && !kmt_reserve_pending(t, most)) || !kmt_reserve_offer_orders(t, most)))
        e = kmt_fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0);
    if (e) {
        t->counters.rejected_calls++;
        return e;
    }
    struct offer_totals totals = {0};
    uint32_t offers = 0;
    const struct kmt_ref *refs = t->scratch;
    for (uint32_t i = 0; i < list->count; i++) {
        struct kmt_memory *m = refs[i].memory;
        /* Resources: each memory once, however many of its resources are
         * listed (clearing the stamp marks it done). */
        if (list->resources) {
            if (m->call_stamp != stamp)
                continue;
            m->call_stamp = 0;
        }
        uint32_t index = ref_index(list, refs, i);
        offer_one(t, m, index, level_of(t, priority, index), flags, wait_serial, now, &totals);
        offers++;
    }
    t->counters.offers += offers;
    t->counters.reoffers += totals.reoffers;
    t->counters.bytes_offered += totals.bytes;
    if (reoffered)
        *reoffered = totals.reoffers;
    if (error)
        error->code = KMT_OK;
    return KMT_OK;
}

/* What reclaim reports for each status (VkAllocationStatusKMT order; the
 * low three bits of a live record's status index it). */
static const uint8_t reclaim_results[8] = {
    [VK_ALLOCATION_STATUS_RESIDENT_KMT] = VK_RECLAIM_RESULT_OK_KMT,
    [VK_ALLOCATION_STATUS_OFFER_PENDING_KMT] = VK_RECLAIM_RESULT_OK_KMT,
    [VK_ALLOCATION_STATUS_OFFERED_KMT] = VK_RECLAIM_RESULT_OK_KMT,
    [VK_ALLOCATION_STATUS_DISCARDED_KMT] = VK_RECLAIM_RESULT_DISCARDED_KMT,
    [VK_ALLOCATION_STATUS_DECOMMITTED_KMT] = VK_RECLAIM_RESULT_NOT_COMMITTED_KMT,
};

static inline VkReclaimResultKMT
reclaim_result(const struct kmt_memory *m)
{
    return (VkReclaimResultKMT)reclaim_results[m->status & 7];
}

static inline void
write_result(VkReclaimResultKMT *results, VkBool32 *discarded, uint32_t i, VkReclaimResultKMT result)
{
    if (results)
        results[i] = result;
    if (discarded)
        discarded[i] = result != VK_RECLAIM_RESULT_OK_KMT;
}

/* The paging-fence value the caller must wait for before using the memory:
 * its GPU fill, if that has not completed yet. */
static inline uint64_t
fill_to_wait_for(const struct kmt_tracker *t, const struct kmt_memory *m, uint32_t index, uint64_t fill_completed)
{
    if (m->status != VK_ALLOCATION_STATUS_DISCARDED_KMT)
        return 0;
    uint64_t value = kmt_cold(&t->slots, index)->fill_value;
    return value > fill_completed ? value : 0;
}

/* One memory's reclaim: RESIDENT unless decommitted (which stays, and says
 * NOT_COMMITTED until freed) or RESIDENT already (nothing to do). */
static inline void
reclaim_one(struct kmt_tracker *t, struct kmt_memory *m, uint32_t index, VkReclaimResultKMT result, uint64_t fence)
{
    uint8_t from = m->status;
    if (from == VK_ALLOCATION_STATUS_RESIDENT_KMT)
        return;
    if (from != VK_ALLOCATION_STATUS_DECOMMITTED_KMT) {
        become_resident(t, index, m, from, (uint32_t)result, fence);
    } else if (t->ops.transition) {
        struct kmt_transition extra = {.result = (uint32_t)result, .fence_value = fence};
        kmt_report(t, index, m, from, KMT_REASON_RECLAIM, &extra);
    }
}

enum kmt_error
kmt_reclaim(struct kmt_tracker *t, const struct kmt_handle_list *list, VkReclaimResultKMT *results,
            VkBool32 *discarded, uint64_t fill_completed, bool device_lost, struct kmt_error_info *error,
            uint64_t *fence_value)
{
    uint32_t stamp = kmt_next_call_stamp(t);
    enum kmt_error e;
    uint64_t fence = 0;
    if (list->memories && !device_lost && plain_reclaim(t)) {
        e = kmt_check_list_shape(list, error);
        if (!e)
            e = kmt_reclaim_plain(t, list, results, discarded, fill_completed, stamp, error, &fence);
        if (e) {
            t->counters.rejected_calls++;
            return e;
        }
        if (fence_value)
            *fence_value = fence;
        if (error)
            error->code = KMT_OK;
        return KMT_OK;
    }
    e = kmt_validate_reclaim(t, list, stamp, error);
    if (e) {
        t->counters.rejected_calls++;
        return e;
    }
    const struct kmt_ref *refs = t->scratch;
    if (device_lost) {
        for (uint32_t i = 0; i < list->count; i++)
            write_result(results, discarded, i, VK_RECLAIM_RESULT_DISCARDED_KMT);
    } else if (list->memories) {
        /* Each element its own memory: result and transition in one pass. */
        for (uint32_t i = 0; i < list->count; i++) {
            struct kmt_memory *m = refs[i].memory;
            const uint32_t index = ref_index(list, refs, i);
            VkReclaimResultKMT result = reclaim_result(m);
            uint64_t wait = 0;
            if (result == VK_RECLAIM_RESULT_DISCARDED_KMT) {
                wait = fill_to_wait_for(t, m, index, fill_completed);
                fence = wait > fence ? wait : fence;
            }
            write_result(results, discarded, i, result);
            reclaim_one(t, m, index, result, wait);
        }
        t->counters.reclaims += list->count;
    } else {
        /* Results first, from the states before the call (two resources of
         * one memory both report its outcome), then each memory once. */
        for (uint32_t i = 0; i < list->count; i++) {
            uint64_t wait = fill_to_wait_for(t, refs[i].memory, refs[i].index, fill_completed);
            fence = wait > fence ? wait : fence;
            write_result(results, discarded, i, reclaim_result(refs[i].memory));
        }
        for (uint32_t i = 0; i < list->count; i++) {
            struct kmt_memory *m = refs[i].memory;
            if (m->call_stamp != stamp)
                continue;
            m->call_stamp = 0;
            t->counters.reclaims++;
            reclaim_one(t, m, refs[i].index, reclaim_result(m),
                        fill_to_wait_for(t, m, refs[i].index, fill_completed));
        }
    }
    if (fence_value)
        *fence_value = fence;
    if (error)
        error->code = KMT_OK;
    return KMT_OK;
}

/* ---- queries ------------------------------------------------------------------ */

static uint32_t
heap_of_type(const struct kmt_tracker *t, uint8_t type_index)
{
    return type_index < VK_MAX_MEMORY_TYPES ? t->config.type_heap[type_index] : 0;
}

VkDeviceSize
kmt_heap_usage(const struct kmt_tracker *t, uint32_t heap)
{
    if (t->config.accounting)
        return t->heap_usage[heap];
    VkDeviceSize sum = 0;
    const uint32_t capacity = __atomic_load_n(&t->slots.capacity, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < capacity; i++) {
        const struct kmt_memory *m = kmt_slot(&t->slots, i);
        const uint8_t status = __atomic_load_n(&m->status, __ATOMIC_ACQUIRE);
        if (status != KMT_STATUS_FREE && status != VK_ALLOCATION_STATUS_DISCARDED_KMT &&
            status != VK_ALLOCATION_STATUS_DECOMMITTED_KMT && status != VK_ALLOCATION_STATUS_EVICTED_KMT &&
            heap_of_type(t, __atomic_load_n(&m->type_index, __ATOMIC_RELAXED)) == heap)
            sum += __atomic_load_n(&m->size, __ATOMIC_RELAXED);
    }
    return sum;
}

void
kmt_fill_state(const struct kmt_tracker *t, uint32_t index, VkAllocationStateKMT *state)
{
    const struct kmt_memory *m = kmt_slot(&t->slots, index);
    const struct kmt_memory_cold *cold = kmt_cold(&t->slots, index);
    state->status = (VkAllocationStatusKMT)m->status;
    state->offerPriority = (VkOfferPriorityKMT)m->offer_priority;
    state->offerFlags = m->bits & KMT_MEM_OFFER_FLAGS;
    state->driverPriority = cold->driver_priority;
    state->driverPriorityApplied = t->config.pageable ? VK_TRUE : VK_FALSE;
    state->size = m->size;
    state->memoryTypeIndex = m->type_index;
    state->heapIndex = kmt_heap_of(t, m);
    state->discardCount = cold->discard_count;
}

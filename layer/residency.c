/* SPDX-License-Identifier: MIT */
/*
 * residency.c -- VK_KMT_residency's state machine (rules in residency.h):
 * the side array, priority mapping, validation and the three calls.
 */
#include "residency.h"

#include <string.h>

#include "offer_internal.h"

/* ---- the side array ----------------------------------------------------------- */

bool
kmt_residency_init(struct kmt_tracker *t)
{
    t->residency = kmt_alloc(t->slots.allocator, sizeof(*t->residency), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!t->residency)
        return false;
    memset(t->residency, 0, sizeof(*t->residency));
    return true;
}

void
kmt_residency_finish(struct kmt_tracker *t)
{
    struct kmt_residency_table *r = t->residency;
    if (!r)
        return;
    for (uint32_t i = 0; i < r->chunk_count; i++)
        kmt_free(t->slots.allocator, r->chunks[i]);
    kmt_free(t->slots.allocator, r->chunks);
    kmt_free(t->slots.allocator, r);
    t->residency = NULL;
}

/* Chunks up to the one holding `index`. */
static bool
cover(struct kmt_tracker *t, uint32_t index)
{
    struct kmt_residency_table *r = t->residency;
    const uint32_t needed = (index >> KMT_SLOT_CHUNK_SHIFT) + 1;
    if (needed <= r->chunk_count)
        return true;
    if (needed > r->chunk_room) {
        uint32_t room = r->chunk_room ? r->chunk_room * 2 : 8;
        while (room < needed)
            room *= 2;
        struct kmt_residency **chunks =
            kmt_alloc(t->slots.allocator, (size_t)room * sizeof(*chunks), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
        if (!chunks)
            return false;
        if (r->chunk_count)
            memcpy(chunks, r->chunks, (size_t)r->chunk_count * sizeof(*chunks));
        kmt_free(t->slots.allocator, r->chunks);
        r->chunks = chunks;
        r->chunk_room = room;
    }
    while (r->chunk_count < needed) {
        struct kmt_residency *chunk = kmt_alloc(t->slots.allocator, KMT_SLOT_CHUNK * sizeof(*chunk),
                                                VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
        if (!chunk)
            return false;
        r->chunks[r->chunk_count++] = chunk;
    }
    return true;
}

bool
kmt_residency_track(struct kmt_tracker *t, uint32_t index)
{
    if (!cover(t, index))
        return false;
    *kmt_residency_of(t, index) = (struct kmt_residency){.count = 1, .priority = 0};
    return true;
}

/* ---- priorities ------------------------------------------------------------------ */

float
kmt_residency_driver_priority(uint32_t priority)
{
    /* The D3D12 bands, and where each lands (NORMAL/HIGH/MAXIMUM/MINIMUM as
     * DESIGN.md says, LOW halfway below NORMAL); linear between neighbours. */
    static const struct {
        double at, value;
    } anchors[] = {
        {0.0, 0.001},
        {VK_RESIDENCY_PRIORITY_MINIMUM_KMT, 0.01},
        {VK_RESIDENCY_PRIORITY_LOW_KMT, 0.25},
        {VK_RESIDENCY_PRIORITY_NORMAL_KMT, 0.5},
        {VK_RESIDENCY_PRIORITY_HIGH_KMT, 0.7},
        {VK_RESIDENCY_PRIORITY_MAXIMUM_KMT, 1.0},
    };
    const double p = priority;
    if (p >= VK_RESIDENCY_PRIORITY_MAXIMUM_KMT)
        return 1.0f;
    uint32_t k = 1;
    while (p > anchors[k].at)
        k++;
    const double t = (p - anchors[k - 1].at) / (anchors[k].at - anchors[k - 1].at);
    return (float)(anchors[k - 1].value + t * (anchors[k].value - anchors[k - 1].value));
}

float
kmt_resident_priority(const struct kmt_tracker *t, uint32_t index)
{
    if (t->residency) {
        const struct kmt_residency *r = kmt_residency_of(t, index);
        if (r->count & KMT_RESIDENCY_PRIORITY_SET)
            return kmt_residency_driver_priority(r->priority);
    }
    return kmt_cold(&t->slots, index)->app_priority;
}

/* ---- validation ---------------------------------------------------------------- */

enum residency_call { CALL_MAKE_RESIDENT, CALL_EVICT, CALL_SET_PRIORITY };

static enum kmt_error
check_shape(const struct kmt_residency_args *a, enum residency_call call, struct kmt_error_info *error)
{
    if (a->count == 0)
        return kmt_fail(error, KMT_ERROR_COUNT_ZERO, 0, 0, 0);
    if (!a->memories)
        return kmt_fail(error, KMT_ERROR_NULL_ARRAY, 0, 0, 0);
    if (call == CALL_SET_PRIORITY && !a->priorities)
        return kmt_fail(error, KMT_ERROR_NULL_ARRAY, 0, 0, 1);
    if (call != CALL_SET_PRIORITY && (a->flags & ~(uint32_t)3u))
        return kmt_fail(error, KMT_ERROR_RESIDENCY_FLAGS, 0, 0, a->flags);
    if (call == CALL_MAKE_RESIDENT && (a->flags & VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT) &&
        !(a->flags & VK_MAKE_RESIDENT_CANT_TRIM_FURTHER_BIT_KMT))
        return kmt_fail(error, KMT_ERROR_MUST_SUCCEED, 0, 0, a->flags);
    return KMT_OK;
}

/* Why element i is not fit for the call (the slow path, worked out only
 * once one is found): a live allocation of this tracker, listed once,
 * resident or evicted (never offered), with a count the call can change. */
static enum kmt_error
element_error(const struct kmt_tracker *t, const struct kmt_residency_args *a, enum residency_call call, uint32_t i,
              uint32_t stamp, struct kmt_error_info *error)
{
    const uint64_t handle = (uint64_t)a->memories[i];
    uint32_t index;
    const struct kmt_memory *m = kmt_resolve(&t->slots, handle, &index);
    if (!m)
        return kmt_fail(error, KMT_ERROR_UNKNOWN_MEMORY, i, handle, 0);
    if (m->call_stamp == stamp)
        return kmt_fail(error, KMT_ERROR_DUPLICATE, i, handle, 0);
    if (m->status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT)
        return kmt_fail(error, KMT_ERROR_DECOMMITTED, i, handle, handle);
    if (m->status != VK_ALLOCATION_STATUS_RESIDENT_KMT && m->status != VK_ALLOCATION_STATUS_EVICTED_KMT)
        return kmt_fail(error, KMT_ERROR_RESIDENCY_OFFERED, i, handle, m->status);
    const uint32_t count = kmt_residency_of(t, index)->count & KMT_RESIDENCY_COUNT_MASK;
    if (call == CALL_EVICT && count == 0)
        return kmt_fail(error, KMT_ERROR_EVICT_UNDERFLOW, i, handle, 0);
    return kmt_fail(error, KMT_ERROR_RESIDENCY_OVERFLOW, i, handle, count);
}

/* What validation learns on the way for make-resident's budget check. */
struct segment_tally {
    VkDeviceSize incoming[KMT_SEGMENT_GROUPS]; /* bytes leaving EVICTED */
    uint32_t groups;                          /* bit g: the call names memory of group g */
};

/* The whole call, element i's record into t->scratch[i] (.memory, .index);
 * nothing changes but the call stamps. One tight loop: an array index, a
 * generation compare, the status and the count per element; the slot table
 * is read as the plain offer loops read it (capacity, then a directory at
 * least that large), the side array under the caller's lock, invariants in
 * locals (the records' byte stores could alias anything). Always inlined
 * with a constant `call`, so each call gets its own loop. */
static inline __attribute__((always_inline)) enum kmt_error
validate(struct kmt_tracker *t, const struct kmt_residency_args *a, enum residency_call call,
         const struct kmt_segments *s, struct segment_tally *tally, struct kmt_error_info *error)
{
    enum kmt_error e = check_shape(a, call, error);
    if (e)
        return e;
    const uint32_t stamp = kmt_next_call_stamp(t);
    const uint32_t count = a->count, capacity = __atomic_load_n(&t->slots.capacity, __ATOMIC_ACQUIRE);
    struct kmt_slot_chunk *const *directory = __atomic_load_n(&t->slots.directory, __ATOMIC_ACQUIRE);
    struct kmt_residency *const *chunks = t->residency->chunks;
    const VkDeviceMemory *handles = a->memories;
    /* A valid call names each live allocation once: room for min(count,
     * slots) first, more only as a longer list is read (never sized from
     * the count). */
    const uint32_t likely = count < capacity ? count : capacity;
    while (t->scratch_capacity < likely)
        if (!kmt_grow_scratch(t))
            return kmt_fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0);
    struct kmt_ref *scratch = t->scratch;
    uint32_t room = t->scratch_capacity;
    /* A type's group: its heap's (heap_group is 0 past heap_count). */
    const uint8_t *type_heap = t->config.type_heap;
    const uint8_t *heap_group = s ? s->heap_group : NULL;
    /* Two scalars, not an array: a sum in memory would chain every element
     * to the previous one's store. */
    VkDeviceSize local_in = 0, non_local_in = 0;
    uint32_t groups = 0;
    const uint32_t edge = call == CALL_EVICT ? 0 : KMT_RESIDENCY_COUNT_MASK;
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
            return element_error(t, a, call, i, stamp, error);
        struct kmt_memory *m = &directory[index >> KMT_SLOT_CHUNK_SHIFT]->hot[index & (KMT_SLOT_CHUNK - 1)];
        const uint8_t status = m->status;
        if (m->generation != (uint32_t)(handle >> 32) || m->call_stamp == stamp ||
            (status != VK_ALLOCATION_STATUS_RESIDENT_KMT && status != VK_ALLOCATION_STATUS_EVICTED_KMT) ||
            (call != CALL_SET_PRIORITY && (chunks[index >> KMT_SLOT_CHUNK_SHIFT][index & (KMT_SLOT_CHUNK - 1)].count &
                                           KMT_RESIDENCY_COUNT_MASK) == edge))
            return element_error(t, a, call, i, stamp, error);
        m->call_stamp = stamp;
        scratch[i].memory = m;
        scratch[i].index = index;
        if (tally) {
            const uint32_t g =
                heap_group[type_heap[m->type_index & (VK_MAX_MEMORY_TYPES - 1)] & (VK_MAX_MEMORY_HEAPS - 1)];
            groups |= 1u << g;
            if (call == CALL_MAKE_RESIDENT) {
                const VkDeviceSize bytes = status == VK_ALLOCATION_STATUS_EVICTED_KMT ? m->size : 0;
                local_in += g ? 0 : bytes;
                non_local_in += g ? bytes : 0;
            }
        }
    }
    if (tally) {
        tally->groups = groups;
        tally->incoming[VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT] = local_in;
        tally->incoming[VK_MEMORY_SEGMENT_GROUP_NON_LOCAL_KMT] = non_local_in;
    }
    return KMT_OK;
}

/* ---- the calls -------------------------------------------------------------------- */

/* How far over budget the groups marked in `groups` are now (bit g: group g). */
static VkDeviceSize
excess_of(const struct kmt_tracker *t, const struct kmt_segments *s, uint32_t groups)
{
    VkDeviceSize excess = 0;
    for (uint32_t g = 0; g < KMT_SEGMENT_GROUPS; g++)
        if (groups & (1u << g))
            excess += kmt_segment_excess(s, t, g);
    return excess;
}

/* Bytes entering or leaving the heaps' usage in one call, committed once:
 * the common case (every allocation in one heap) adds up in a register
 * instead of a read-modify-write of the tracker per element. */
struct usage_delta {
    uint32_t heap;     /* the first heap seen, UINT32_MAX: none yet */
    VkDeviceSize bytes; /* its bytes */
};

static inline void
add_usage(struct kmt_tracker *t, struct usage_delta *d, uint32_t heap, VkDeviceSize bytes, bool entering)
{
    if (d->heap == heap || d->heap == UINT32_MAX) {
        d->heap = heap;
        d->bytes += bytes;
    } else if (entering) {
        t->heap_usage[heap] += bytes;
    } else {
        t->heap_usage[heap] -= bytes;
    }
}

static inline void
commit_usage(struct kmt_tracker *t, const struct usage_delta *d, bool entering)
{
    if (d->heap == UINT32_MAX)
        return;
    if (entering)
        t->heap_usage[d->heap] += d->bytes;
    else
        t->heap_usage[d->heap] -= d->bytes;
}

/* The driver and the listener hear of a transition only when there is a
 * pageable driver / a listener (hoisted out of the loops: `loud`). */
static void
report_evicted(struct kmt_tracker *t, uint32_t index, struct kmt_memory *m)
{
    if (t->config.pageable)
        kmt_set_driver_priority(t, index, m, 0.0f);
    KMT_REPORT(t, index, m, VK_ALLOCATION_STATUS_RESIDENT_KMT, KMT_REASON_EVICT, NULL);
}

static void
report_resident(struct kmt_tracker *t, uint32_t index, struct kmt_memory *m)
{
    if (t->config.pageable)
        kmt_set_driver_priority(t, index, m, kmt_resident_priority(t, index));
    KMT_REPORT(t, index, m, VK_ALLOCATION_STATUS_EVICTED_KMT, KMT_REASON_MAKE_RESIDENT, NULL);
}

static void
set_priority(struct kmt_residency *r, uint32_t priority)
{
    r->priority = priority;
    r->count |= KMT_RESIDENCY_PRIORITY_SET;
}

enum kmt_error
kmt_make_resident(struct kmt_tracker *t, const struct kmt_residency_args *a, const struct kmt_segments *s,
                  struct kmt_error_info *error, struct kmt_residency_outcome *out)
{
    memset(out, 0, sizeof(*out));
    struct segment_tally tally = {{0}, 0};
    enum kmt_error e = validate(t, a, CALL_MAKE_RESIDENT, s, &tally, error);
    if (e) {
        t->counters.rejected_calls++;
        return e;
    }
    const VkDeviceSize *incoming = tally.incoming;
    const uint32_t groups = tally.groups;
    if (!(a->flags & VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT)) {
        for (uint32_t g = 0; g < KMT_SEGMENT_GROUPS; g++) {
            const VkDeviceSize usage = kmt_segment_usage(s, t, g), budget = kmt_segment_budget(s, g);
            if (incoming[g] && usage + incoming[g] > budget)
                out->bytes_to_trim += usage + incoming[g] - budget;
        }
        if (out->bytes_to_trim) {
            out->over_budget = true;
            return KMT_OK;
        }
    }
    const struct kmt_ref *refs = t->scratch;
    struct kmt_residency *const *chunks = t->residency->chunks;
    const uint8_t *type_heap = t->config.type_heap;
    const uint32_t *priorities = a->priorities;
    const bool loud = t->config.pageable || t->ops.transition;
    struct usage_delta delta = {UINT32_MAX, 0};
    uint32_t became = 0;
    for (uint32_t i = 0, count = a->count; i < count; i++) {
        struct kmt_memory *m = refs[i].memory;
        const uint32_t index = refs[i].index;
        struct kmt_residency *r = &chunks[index >> KMT_SLOT_CHUNK_SHIFT][index & (KMT_SLOT_CHUNK - 1)];
        if (priorities)
            set_priority(r, priorities[i]);
        r->count++;
        if (m->status == VK_ALLOCATION_STATUS_EVICTED_KMT) {
            m->status = VK_ALLOCATION_STATUS_RESIDENT_KMT;
            add_usage(t, &delta, type_heap[m->type_index & (VK_MAX_MEMORY_TYPES - 1)], m->size, true);
            if (loud)
                report_resident(t, index, m);
            became++;
        } else if (priorities && t->config.pageable) {
            kmt_set_driver_priority(t, index, m, kmt_residency_driver_priority(priorities[i]));
        }
    }
    commit_usage(t, &delta, true);
    out->became_resident = became;
    out->bytes_to_trim = excess_of(t, s, groups);
    if (error)
        error->code = KMT_OK;
    return KMT_OK;
}

enum kmt_error
kmt_evict(struct kmt_tracker *t, const struct kmt_residency_args *a, const struct kmt_segments *s,
          struct kmt_error_info *error, struct kmt_residency_outcome *out)
{
    memset(out, 0, sizeof(*out));
    struct segment_tally tally = {{0}, 0};
    enum kmt_error e = validate(t, a, CALL_EVICT, s, &tally, error);
    if (e) {
        t->counters.rejected_calls++;
        return e;
    }
    const struct kmt_ref *refs = t->scratch;
    struct kmt_residency *const *chunks = t->residency->chunks;
    const uint8_t *type_heap = t->config.type_heap;
    const bool loud = t->config.pageable || t->ops.transition;
    struct usage_delta delta = {UINT32_MAX, 0};
    uint32_t evicted = 0;
    for (uint32_t i = 0, count = a->count; i < count; i++) {
        const uint32_t index = refs[i].index;
        struct kmt_residency *r = &chunks[index >> KMT_SLOT_CHUNK_SHIFT][index & (KMT_SLOT_CHUNK - 1)];
        if ((--r->count & KMT_RESIDENCY_COUNT_MASK) == 0) {
            struct kmt_memory *m = refs[i].memory;
            m->status = VK_ALLOCATION_STATUS_EVICTED_KMT;
            add_usage(t, &delta, type_heap[m->type_index & (VK_MAX_MEMORY_TYPES - 1)], m->size, false);
            if (loud)
                report_evicted(t, index, m);
            evicted++;
        }
    }
    commit_usage(t, &delta, false);
    out->evicted = evicted;
    const uint32_t groups = tally.groups;
    out->bytes_to_trim = excess_of(t, s, groups);
    if (error)
        error->code = KMT_OK;
    return KMT_OK;
}

enum kmt_error
kmt_set_residency_priority(struct kmt_tracker *t, const struct kmt_residency_args *a, struct kmt_error_info *error)
{
    enum kmt_error e = validate(t, a, CALL_SET_PRIORITY, NULL, NULL, error);
    if (e) {
        t->counters.rejected_calls++;
        return e;
    }
    for (uint32_t i = 0; i < a->count; i++) {
        struct kmt_memory *m = t->scratch[i].memory;
        const uint32_t index = t->scratch[i].index;
        set_priority(kmt_residency_of(t, index), a->priorities[i]);
        /* Evicted memory keeps 0.0 until it is made resident. */
        if (m->status == VK_ALLOCATION_STATUS_RESIDENT_KMT && t->config.pageable)
            kmt_set_driver_priority(t, index, m, kmt_residency_driver_priority(a->priorities[i]));
    }
    if (error)
        error->code = KMT_OK;
    return KMT_OK;
}

void
kmt_fill_residency(const struct kmt_tracker *t, uint32_t index, VkAllocationResidencyKMT *out)
{
    const struct kmt_residency *r = kmt_residency_of(t, index);
    out->residencyCount = r->count & KMT_RESIDENCY_COUNT_MASK;
    out->residencyPriority = (r->count & KMT_RESIDENCY_PRIORITY_SET) ? r->priority : 0;
}

void
kmt_fill_residency_chain(const struct kmt_tracker *t, uint32_t index, void *chain)
{
    for (VkBaseOutStructure *s = chain; s; s = s->pNext)
        if (s->sType == VK_STRUCTURE_TYPE_ALLOCATION_RESIDENCY_KMT)
            kmt_fill_residency(t, index, (VkAllocationResidencyKMT *)s);
}

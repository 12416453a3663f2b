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

/* Element i: a live allocation of this tracker, listed once, resident or
 * evicted (never offered), and fit for the call. */
static enum kmt_error
resolve_element(struct kmt_tracker *t, const struct kmt_residency_args *a, enum residency_call call, uint32_t i,
                uint32_t stamp, struct kmt_error_info *error)
{
    const uint64_t handle = (uint64_t)a->memories[i];
    uint32_t index;
    struct kmt_memory *m = kmt_resolve(&t->slots, handle, &index);
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
    if (call == CALL_MAKE_RESIDENT && count == KMT_RESIDENCY_COUNT_MASK)
        return kmt_fail(error, KMT_ERROR_RESIDENCY_OVERFLOW, i, handle, count);
    m->call_stamp = stamp;
    t->scratch[i] = (struct kmt_ref){.memory = m, .index = index, .status = m->status};
    return KMT_OK;
}

/* The whole call, element i resolved into t->scratch[i]; nothing changes. */
static enum kmt_error
validate(struct kmt_tracker *t, const struct kmt_residency_args *a, enum residency_call call,
         struct kmt_error_info *error)
{
    enum kmt_error e = check_shape(a, call, error);
    if (e)
        return e;
    const uint32_t stamp = kmt_next_call_stamp(t);
    for (uint32_t i = 0; i < a->count; i++) {
        /* Grown as elements resolve, never sized from the count. */
        if (i == t->scratch_capacity && !kmt_grow_scratch(t))
            return kmt_fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, i, 0, 0);
        e = resolve_element(t, a, call, i, stamp, error);
        if (e)
            return e;
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

static uint32_t
group_of(const struct kmt_tracker *t, const struct kmt_segments *s, const struct kmt_memory *m)
{
    const uint32_t heap = kmt_heap_of(t, m);
    return heap < s->heap_count ? s->heap_group[heap] : 0;
}

static void
become_evicted(struct kmt_tracker *t, uint32_t index, struct kmt_memory *m)
{
    m->status = VK_ALLOCATION_STATUS_EVICTED_KMT;
    t->heap_usage[kmt_heap_of(t, m)] -= m->size;
    kmt_set_driver_priority(t, index, m, 0.0f);
    KMT_REPORT(t, index, m, VK_ALLOCATION_STATUS_RESIDENT_KMT, KMT_REASON_EVICT, NULL);
}

static void
leave_evicted(struct kmt_tracker *t, uint32_t index, struct kmt_memory *m)
{
    m->status = VK_ALLOCATION_STATUS_RESIDENT_KMT;
    t->heap_usage[kmt_heap_of(t, m)] += m->size;
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
    enum kmt_error e = validate(t, a, CALL_MAKE_RESIDENT, error);
    if (e) {
        t->counters.rejected_calls++;
        return e;
    }
    /* The budget check: bytes leaving EVICTED, per group. */
    VkDeviceSize incoming[KMT_SEGMENT_GROUPS] = {0};
    uint32_t groups = 0;
    for (uint32_t i = 0; i < a->count; i++) {
        const struct kmt_memory *m = t->scratch[i].memory;
        const uint32_t g = group_of(t, s, m);
        groups |= 1u << g;
        if (m->status == VK_ALLOCATION_STATUS_EVICTED_KMT)
            incoming[g] += m->size;
    }
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
    for (uint32_t i = 0; i < a->count; i++) {
        struct kmt_memory *m = t->scratch[i].memory;
        const uint32_t index = t->scratch[i].index;
        struct kmt_residency *r = kmt_residency_of(t, index);
        if (a->priorities)
            set_priority(r, a->priorities[i]);
        r->count++;
        if (m->status == VK_ALLOCATION_STATUS_EVICTED_KMT) {
            leave_evicted(t, index, m);
            out->became_resident++;
        } else if (a->priorities) {
            kmt_set_driver_priority(t, index, m, kmt_residency_driver_priority(a->priorities[i]));
        }
    }
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
    enum kmt_error e = validate(t, a, CALL_EVICT, error);
    if (e) {
        t->counters.rejected_calls++;
        return e;
    }
    uint32_t groups = 0;
    for (uint32_t i = 0; i < a->count; i++) {
        struct kmt_memory *m = t->scratch[i].memory;
        const uint32_t index = t->scratch[i].index;
        groups |= 1u << group_of(t, s, m);
        struct kmt_residency *r = kmt_residency_of(t, index);
        if ((--r->count & KMT_RESIDENCY_COUNT_MASK) == 0) {
            become_evicted(t, index, m);
            out->evicted++;
        }
    }
    out->bytes_to_trim = excess_of(t, s, groups);
    if (error)
        error->code = KMT_OK;
    return KMT_OK;
}

enum kmt_error
kmt_set_residency_priority(struct kmt_tracker *t, const struct kmt_residency_args *a, struct kmt_error_info *error)
{
    enum kmt_error e = validate(t, a, CALL_SET_PRIORITY, error);
    if (e) {
        t->counters.rejected_calls++;
        return e;
    }
    for (uint32_t i = 0; i < a->count; i++) {
        struct kmt_memory *m = t->scratch[i].memory;
        const uint32_t index = t->scratch[i].index;
        set_priority(kmt_residency_of(t, index), a->priorities[i]);
        /* Evicted memory keeps 0.0 until it is made resident. */
        if (m->status == VK_ALLOCATION_STATUS_RESIDENT_KMT)
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

/*
 * offer.c -- the offer/reclaim state machine (rules in offer.h).
 */
#include "offer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- intrusive lists ---------------------------------------------------- */

static void
list_append(struct kmt_list *list, struct kmt_memory *m)
{
    m->next = NULL;
    m->prev = list->tail;
    if (list->tail)
        list->tail->next = m;
    else
        list->head = m;
    list->tail = m;
    list->count++;
}

static void
list_unlink(struct kmt_list *list, struct kmt_memory *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        list->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        list->tail = m->prev;
    m->prev = m->next = NULL;
    list->count--;
}

static struct kmt_list *
offered_list(struct kmt_tracker *t, const struct kmt_memory *m)
{
    return &t->offered[m->offer_priority - VK_OFFER_PRIORITY_LOW_KMT];
}

/* The list a memory sits in for its state, or NULL. */
static struct kmt_list *
list_of(struct kmt_tracker *t, const struct kmt_memory *m)
{
    switch (m->status) {
    case VK_ALLOCATION_STATUS_OFFER_PENDING_KMT:
        return &t->pending;
    case VK_ALLOCATION_STATUS_OFFERED_KMT:
        return offered_list(t, m);
    default:
        return NULL;
    }
}

static void
leave_list(struct kmt_tracker *t, struct kmt_memory *m)
{
    struct kmt_list *list = list_of(t, m);
    if (list)
        list_unlink(list, m);
}

/* ---- transitions reported to ops.transition --------------------------------- */

static void
report(struct kmt_tracker *t, const struct kmt_memory *m, uint8_t from, enum kmt_reason reason,
       const struct kmt_transition *extra)
{
    struct kmt_transition c = extra ? *extra : (struct kmt_transition){0};
    c.memory = m->handle;
    c.size = m->size;
    c.heap_index = m->heap_index;
    c.from = from;
    c.to = m->status;
    c.reason = (uint8_t)reason;
    c.offer_priority = m->offer_priority;
    c.offer_flags = m->offer_flags;
    t->ops.transition(t->ops.ctx, &c);
}

/* One predictable branch when nobody listens. */
#define REPORT(t, m, from, reason, extra)                                                                  \
    do {                                                                                                   \
        if ((t)->ops.transition)                                                                           \
            report((t), (m), (from), (reason), (extra));                                                   \
    } while (0)

/* ---- setup -------------------------------------------------------------- */

bool
kmt_tracker_init(struct kmt_tracker *t, const struct kmt_tracker_config *config,
                 const struct kmt_tracker_ops *ops, const VkAllocationCallbacks *allocator)
{
    memset(t, 0, sizeof(*t));
    t->config = *config;
    if (ops)
        t->ops = *ops;
    if (!kmt_map_init(&t->memories, 256, allocator))
        return false;
    if (!kmt_map_init(&t->resources, 256, allocator)) {
        kmt_map_finish(&t->memories);
        return false;
    }
    kmt_pool_init(&t->memory_pool, sizeof(struct kmt_memory), 1024, allocator);
    kmt_pool_init(&t->resource_pool, sizeof(struct kmt_resource), 1024, allocator);
    return true;
}

void
kmt_tracker_finish(struct kmt_tracker *t)
{
    kmt_free(t->memories.allocator, t->scratch);
    kmt_map_finish(&t->memories);
    kmt_map_finish(&t->resources);
    kmt_pool_finish(&t->memory_pool);
    kmt_pool_finish(&t->resource_pool);
}

/* ---- allocations and bindings ------------------------------------------- */

static bool
holds_payload(const struct kmt_memory *m)
{
    return m->status != VK_ALLOCATION_STATUS_DISCARDED_KMT && m->status != VK_ALLOCATION_STATUS_DECOMMITTED_KMT;
}

/* Releases a record no longer in the map. Serial 0 tells resources still
 * bound to it (the record goes back to the pool, never to the system) that
 * their memory is gone. */
static void
forget_memory(struct kmt_tracker *t, struct kmt_memory *m)
{
    leave_list(t, m);
    if (holds_payload(m))
        t->heap_usage[m->heap_index] -= m->size;
    m->serial = 0;
    kmt_pool_put(&t->memory_pool, m);
}

bool
kmt_track_memory(struct kmt_tracker *t, uint64_t memory, VkDeviceSize size, uint32_t type_index,
                 uint32_t heap_index, bool host_visible, float app_priority)
{
    struct kmt_memory *m = kmt_pool_get(&t->memory_pool);
    if (!m)
        return false;
    m->handle = memory;
    m->serial = ++t->next_serial;
    m->size = size;
    m->type_index = (uint8_t)type_index;
    m->heap_index = (uint8_t)(heap_index < VK_MAX_MEMORY_HEAPS ? heap_index : 0);
    m->host_visible = host_visible;
    m->app_priority = app_priority;
    m->driver_priority = app_priority;
    m->status = VK_ALLOCATION_STATUS_RESIDENT_KMT;
    void *old = NULL;
    if (!kmt_map_exchange(&t->memories, memory, m, &old)) {
        kmt_pool_put(&t->memory_pool, m);
        return false;
    }
    if (old) /* a handle value the driver reused: drop the record we missed freeing */
        forget_memory(t, old);
    t->heap_usage[m->heap_index] += size;
    return true;
}

void
kmt_untrack_memory(struct kmt_tracker *t, uint64_t memory)
{
    struct kmt_memory *m = kmt_map_remove(&t->memories, memory);
    if (m)
        forget_memory(t, m);
}

struct kmt_memory *
kmt_find_memory(const struct kmt_tracker *t, uint64_t memory)
{
    return kmt_map_get(&t->memories, memory);
}

/* The live memory behind a resource record, or NULL once it was freed. */
static struct kmt_memory *
bound_memory(const struct kmt_resource *r)
{
    return r->record->serial == r->memory_serial ? r->record : NULL;
}

struct kmt_memory *
kmt_resource_memory(const struct kmt_tracker *t, uint64_t resource)
{
    const struct kmt_resource *r = kmt_map_get(&t->resources, resource);
    return r ? bound_memory(r) : NULL;
}

bool
kmt_track_binding(struct kmt_tracker *t, uint32_t object_type, uint64_t resource, uint64_t memory)
{
    kmt_untrack_resource(t, resource);
    struct kmt_memory *m = kmt_map_get(&t->memories, memory);
    if (!m)
        return true; /* untracked memory: nothing to remember */
    struct kmt_resource *r = kmt_pool_get(&t->resource_pool);
    if (!r)
        return false;
    r->handle = resource;
    r->record = m;
    r->memory = memory;
    r->memory_serial = m->serial;
    r->object_type = object_type;
    if (!kmt_map_put(&t->resources, resource, r)) {
        kmt_pool_put(&t->resource_pool, r);
        return false;
    }
    m->resource_count++;
    return true;
}

bool
kmt_reserve_bindings(struct kmt_tracker *t, uint32_t count)
{
    if (!kmt_map_reserve(&t->resources, count))
        return false;
    /* Take `count` records and give them back: they wait on the free list,
     * chained through their first word as the pool itself does. */
    void *chain = NULL;
    uint32_t taken = 0;
    for (; taken < count; taken++) {
        void *r = kmt_pool_get(&t->resource_pool);
        if (!r)
            break;
        *(void **)r = chain;
        chain = r;
    }
    while (chain) {
        void *next = *(void **)chain;
        kmt_pool_put(&t->resource_pool, chain);
        chain = next;
    }
    return taken == count;
}

void
kmt_untrack_resource(struct kmt_tracker *t, uint64_t resource)
{
    struct kmt_resource *r = kmt_map_remove(&t->resources, resource);
    if (!r)
        return;
    struct kmt_memory *m = bound_memory(r);
    if (m && m->resource_count)
        m->resource_count--;
    kmt_pool_put(&t->resource_pool, r);
}

/* ---- priorities ---------------------------------------------------------- */

static bool
is_demoted(const struct kmt_memory *m)
{
    return m->status == VK_ALLOCATION_STATUS_OFFERED_KMT || m->status == VK_ALLOCATION_STATUS_DISCARDED_KMT ||
           m->status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT;
}

static void
set_driver_priority(struct kmt_tracker *t, struct kmt_memory *m, float priority)
{
    if (!t->config.pageable || m->driver_priority == priority)
        return;
    m->driver_priority = priority;
    if (t->ops.set_priority)
        t->ops.set_priority(t->ops.ctx, m->handle, priority);
}

bool
kmt_set_app_priority(struct kmt_tracker *t, uint64_t memory, float priority)
{
    struct kmt_memory *m = kmt_map_get(&t->memories, memory);
    if (!m)
        return true;
    m->app_priority = priority;
    if (is_demoted(m))
        return false;
    m->driver_priority = priority;
    return true;
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

/* ---- transitions --------------------------------------------------------- */

static uint64_t
offer_order_of(const struct kmt_memory *m)
{
    return m->offer_order;
}

static uint64_t
wait_serial_of(const struct kmt_memory *m)
{
    return m->wait_serial;
}

/* Inserts m after the last member whose key is not greater: an offered list
 * stays in offer order (a deferred offer promoted late goes before immediate
 * offers made after it) and the pending list in wait_serial order. Walks from
 * the tail, where nearly every insertion lands. */
static void
list_insert_sorted(struct kmt_list *list, struct kmt_memory *m, uint64_t (*key)(const struct kmt_memory *))
{
    struct kmt_memory *after = list->tail;
    while (after && key(after) > key(m))
        after = after->prev;
    m->prev = after;
    m->next = after ? after->next : list->head;
    if (m->next)
        m->next->prev = m;
    else
        list->tail = m;
    if (after)
        after->next = m;
    else
        list->head = m;
    list->count++;
}

static void
become_offered(struct kmt_tracker *t, struct kmt_memory *m, enum kmt_reason reason)
{
    uint8_t from = m->status;
    m->status = VK_ALLOCATION_STATUS_OFFERED_KMT;
    m->fill_value = 0;
    list_insert_sorted(offered_list(t, m), m, offer_order_of);
    set_driver_priority(t, m, t->config.offered_priority);
    REPORT(t, m, from, reason, NULL);
    if (t->config.on_offered)
        t->config.on_offered(t->config.on_offered_ctx, t, m);
}

uint32_t
kmt_promote_pending(struct kmt_tracker *t, uint64_t completed_serial)
{
    uint32_t promoted = 0;
    while (t->pending.head && t->pending.head->wait_serial <= completed_serial) {
        struct kmt_memory *m = t->pending.head;
        list_unlink(&t->pending, m);
        become_offered(t, m, KMT_REASON_PROMOTED);
        promoted++;
    }
    return promoted;
}

bool
kmt_discard_as(struct kmt_tracker *t, struct kmt_memory *m, const struct kmt_discard_why *why)
{
    if (m->status != VK_ALLOCATION_STATUS_OFFERED_KMT)
        return false;
    bool decommit = (m->offer_flags & VK_OFFER_ALLOW_DECOMMIT_BIT_KMT) != 0;
    /* Fill first: when the contents cannot be replaced the memory stays
     * OFFERED and reclaim truthfully reports OK. */
    uint64_t fill_value = (!decommit && t->ops.fill) ? t->ops.fill(t->ops.ctx, m) : 0;
    if (fill_value == KMT_FILL_FAILED)
        return false;
    list_unlink(offered_list(t, m), m);
    m->status = decommit ? VK_ALLOCATION_STATUS_DECOMMITTED_KMT : VK_ALLOCATION_STATUS_DISCARDED_KMT;
    m->discard_count++;
    t->heap_usage[m->heap_index] -= m->size;
    t->counters.bytes_discarded += m->size;
    if (decommit)
        t->counters.decommits++;
    else
        t->counters.discards++;
    m->fill_value = fill_value;
    if (t->ops.transition) {
        struct kmt_transition extra = {.fence_value = fill_value};
        if (why) {
            extra.order = why->order;
            extra.heap_usage = why->heap_usage;
            extra.heap_budget = why->heap_budget;
        }
        report(t, m, VK_ALLOCATION_STATUS_OFFERED_KMT, why ? why->reason : KMT_REASON_DISCARD_REQUEST, &extra);
    }
    return true;
}

static void
become_resident(struct kmt_tracker *t, struct kmt_memory *m, const struct kmt_transition *extra)
{
    uint8_t from = m->status;
    leave_list(t, m);
    if (!holds_payload(m))
        t->heap_usage[m->heap_index] += m->size;
    m->status = VK_ALLOCATION_STATUS_RESIDENT_KMT;
    m->offer_priority = 0;
    m->offer_flags = 0;
    m->fill_value = 0;
    set_driver_priority(t, m, m->app_priority);
    REPORT(t, m, from, KMT_REASON_RECLAIM, extra);
}

/* ---- validation ---------------------------------------------------------- */

static uint32_t
next_call_stamp(struct kmt_tracker *t)
{
    if (++t->call_stamp == 0) {
        /* Wrapped after 2^32 calls: forget every old stamp so none can look
         * like this call's. */
        for (uint32_t i = 0; i <= t->memories.mask; i++)
            if (t->memories.keys[i])
                ((struct kmt_memory *)t->memories.values[i])->call_stamp = 0;
        for (uint32_t i = 0; i <= t->resources.mask; i++)
            if (t->resources.keys[i])
                ((struct kmt_resource *)t->resources.values[i])->call_stamp = 0;
        t->call_stamp = 1;
    }
    return t->call_stamp;
}

static enum kmt_error
fail(struct kmt_error_info *error, enum kmt_error code, uint32_t index, uint64_t handle, uint64_t other)
{
    if (error) {
        error->code = code;
        error->index = index;
        error->handle = handle;
        error->other = other;
    }
    return code;
}

static enum kmt_error
check_list_shape(const struct kmt_handle_list *list, struct kmt_error_info *error)
{
    if (list->count == 0)
        return fail(error, KMT_ERROR_COUNT_ZERO, 0, 0, 0);
    if ((list->memories == NULL) == (list->resources == NULL))
        return fail(error, KMT_ERROR_ARRAYS, 0, 0, list->memories ? 2 : 0);
    return KMT_OK;
}

/* Resolves element i to its memory, stamping what the call lists, and checks
 * the per-element rules shared by offer and reclaim. */
static enum kmt_error
resolve_element(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t i, uint32_t stamp,
                struct kmt_memory **out, struct kmt_error_info *error)
{
    if (list->memories) {
        uint64_t handle = (uint64_t)list->memories[i];
        struct kmt_memory *m = kmt_map_get(&t->memories, handle);
        if (!m)
            return fail(error, KMT_ERROR_UNKNOWN_MEMORY, i, handle, 0);
        if (m->call_stamp == stamp)
            return fail(error, KMT_ERROR_DUPLICATE, i, handle, 0);
        m->call_stamp = stamp;
        *out = m;
        return KMT_OK;
    }
    const VkOfferResourceKMT *res = &list->resources[i];
    if (res->objectType != VK_OBJECT_TYPE_BUFFER && res->objectType != VK_OBJECT_TYPE_IMAGE)
        return fail(error, KMT_ERROR_RESOURCE_TYPE, i, res->objectHandle, (uint64_t)res->objectType);
    struct kmt_resource *r = kmt_map_get(&t->resources, res->objectHandle);
    if (!r || r->object_type != (uint32_t)res->objectType)
        return fail(error, KMT_ERROR_UNKNOWN_RESOURCE, i, res->objectHandle, (uint64_t)res->objectType);
    if (r->call_stamp == stamp)
        return fail(error, KMT_ERROR_DUPLICATE, i, res->objectHandle, 0);
    r->call_stamp = stamp;
    struct kmt_memory *m = bound_memory(r);
    if (!m)
        return fail(error, KMT_ERROR_RESOURCE_MEMORY_FREED, i, res->objectHandle, r->memory);
    if (m->call_stamp != stamp) {
        m->call_stamp = stamp;
        m->call_resources = 0;
    }
    m->call_resources++;
    *out = m;
    return KMT_OK;
}

static uint64_t
element_handle(const struct kmt_handle_list *list, uint32_t i)
{
    return list->memories ? (uint64_t)list->memories[i] : list->resources[i].objectHandle;
}

/* Room to resolve every element of a call once (t->scratch[i] is element
 * i's memory). Grown before anything changes, so failing keeps the call
 * all-or-nothing. */
static bool
reserve_scratch(struct kmt_tracker *t, uint32_t count)
{
    if (count <= t->scratch_capacity)
        return true;
    uint32_t capacity = t->scratch_capacity ? t->scratch_capacity : 64;
    while (capacity < count)
        capacity = capacity > UINT32_MAX / 2 ? count : capacity * 2;
    struct kmt_memory **scratch = kmt_alloc(t->memories.allocator, (size_t)capacity * sizeof(*scratch),
                                            VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!scratch)
        return false;
    kmt_free(t->memories.allocator, t->scratch);
    t->scratch = scratch;
    t->scratch_capacity = capacity;
    return true;
}

/* Resolves every element into t->scratch (each memory stamped with this
 * call) and keeps the first failure: every element is resolved so that each
 * memory's listed resources are all counted. */
static enum kmt_error
resolve_all(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t stamp, bool offering,
            struct kmt_error_info *first)
{
    first->code = KMT_OK;
    first->index = list->count;
    for (uint32_t i = 0; i < list->count; i++) {
        struct kmt_memory *m = NULL;
        struct kmt_error_info here;
        enum kmt_error e = resolve_element(t, list, i, stamp, &m, &here);
        if (!e && offering && m->mapped)
            e = fail(&here, KMT_ERROR_MAPPED, i, element_handle(list, i), m->handle);
        if (!e && offering && m->status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT)
            e = fail(&here, KMT_ERROR_DECOMMITTED, i, element_handle(list, i), m->handle);
        t->scratch[i] = e ? NULL : m;
        if (e && first->code == KMT_OK)
            *first = here;
    }
    return first->code;
}

static enum kmt_error
validate_offer(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t priority, uint32_t flags,
               uint32_t stamp, struct kmt_error_info *error)
{
    enum kmt_error e = check_list_shape(list, error);
    if (e)
        return e;
    if (priority < VK_OFFER_PRIORITY_LOW_KMT || priority > VK_OFFER_PRIORITY_AUTO_KMT)
        return fail(error, KMT_ERROR_PRIORITY, 0, 0, priority);
    if (flags & ~(uint32_t)(VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT))
        return fail(error, KMT_ERROR_FLAGS, 0, 0, flags);
    if (!reserve_scratch(t, list->count))
        return fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0);
    struct kmt_error_info first;
    resolve_all(t, list, stamp, true, &first);
    /* A resource offer acts on the whole memory: every resource bound to it
     * must be in the call, or the others would lose their contents unasked. */
    for (uint32_t i = 0; list->resources && i < first.index; i++) {
        struct kmt_memory *m = t->scratch[i];
        if (m->call_resources < m->resource_count)
            return fail(error, KMT_ERROR_SHARED_MEMORY, i, list->resources[i].objectHandle, m->handle);
    }
    if (first.code != KMT_OK)
        return fail(error, first.code, first.index, first.handle, first.other);
    return KMT_OK;
}

/* ---- offer and reclaim --------------------------------------------------- */

static void
offer_one(struct kmt_tracker *t, struct kmt_memory *m, uint32_t priority, uint32_t flags, uint64_t wait_serial,
          uint32_t *reoffered)
{
    bool immediately = (flags & VK_OFFER_IMMEDIATELY_BIT_KMT) || wait_serial == 0;
    uint8_t resolved = (uint8_t)kmt_resolve_priority(priority, m->app_priority);
    t->counters.offers++;
    t->counters.bytes_offered += m->size;
    m->offer_order = ++t->next_offer_order;
    m->offer_flags = (uint8_t)flags;

    switch (m->status) {
    case VK_ALLOCATION_STATUS_RESIDENT_KMT:
        m->offer_priority = resolved;
        if (immediately) {
            become_offered(t, m, KMT_REASON_OFFER);
        } else {
            m->status = VK_ALLOCATION_STATUS_OFFER_PENDING_KMT;
            m->wait_serial = wait_serial;
            list_insert_sorted(&t->pending, m, wait_serial_of);
            struct kmt_transition extra = {.wait_serial = wait_serial};
            REPORT(t, m, VK_ALLOCATION_STATUS_RESIDENT_KMT, KMT_REASON_OFFER, &extra);
        }
        return;
    case VK_ALLOCATION_STATUS_OFFER_PENDING_KMT:
        (*reoffered)++;
        m->offer_priority = resolved;
        if (flags & VK_OFFER_IMMEDIATELY_BIT_KMT) {
            list_unlink(&t->pending, m);
            become_offered(t, m, KMT_REASON_REOFFER);
        } else {
            struct kmt_transition extra = {.wait_serial = m->wait_serial};
            REPORT(t, m, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT, KMT_REASON_REOFFER, &extra);
        }
        return;
    case VK_ALLOCATION_STATUS_OFFERED_KMT:
        /* Re-prioritised: a new offer for the "oldest first" order. */
        (*reoffered)++;
        list_unlink(offered_list(t, m), m);
        m->offer_priority = resolved;
        list_append(offered_list(t, m), m);
        REPORT(t, m, VK_ALLOCATION_STATUS_OFFERED_KMT, KMT_REASON_REOFFER, NULL);
        return;
    default: /* DISCARDED: nothing left to protect, only the bookkeeping */
        (*reoffered)++;
        m->offer_priority = resolved;
        REPORT(t, m, m->status, KMT_REASON_REOFFER, NULL);
        return;
    }
}

enum kmt_error
kmt_offer(struct kmt_tracker *t, const struct kmt_handle_list *list, uint32_t priority, uint32_t flags,
          uint64_t wait_serial, struct kmt_error_info *error, uint32_t *reoffered)
{
    uint32_t stamp = next_call_stamp(t);
    uint32_t reoffer_count = 0;
    enum kmt_error e = validate_offer(t, list, priority, flags, stamp, error);
    if (e) {
        t->counters.rejected_calls++;
        return e;
    }
    /* Each memory once, however many of its resources are listed: clearing
     * the stamp marks it done. */
    for (uint32_t i = 0; i < list->count; i++) {
        struct kmt_memory *m = t->scratch[i];
        if (m->call_stamp != stamp)
            continue;
        m->call_stamp = 0;
        offer_one(t, m, priority, flags, wait_serial, &reoffer_count);
    }
    t->counters.reoffers += reoffer_count;
    if (reoffered)
        *reoffered = reoffer_count;
    if (error)
        error->code = KMT_OK;
    return KMT_OK;
}

static VkReclaimResultKMT
reclaim_result(const struct kmt_memory *m)
{
    switch (m->status) {
    case VK_ALLOCATION_STATUS_DISCARDED_KMT:
        return VK_RECLAIM_RESULT_DISCARDED_KMT;
    case VK_ALLOCATION_STATUS_DECOMMITTED_KMT:
        return VK_RECLAIM_RESULT_NOT_COMMITTED_KMT;
    default:
        return VK_RECLAIM_RESULT_OK_KMT;
    }
}

static void
write_result(VkReclaimResultKMT *results, VkBool32 *discarded, uint32_t i, VkReclaimResultKMT result)
{
    if (results)
        results[i] = result;
    if (discarded)
        discarded[i] = result != VK_RECLAIM_RESULT_OK_KMT;
}

enum kmt_error
kmt_reclaim(struct kmt_tracker *t, const struct kmt_handle_list *list, VkReclaimResultKMT *results,
            VkBool32 *discarded, uint64_t fill_completed, bool device_lost, struct kmt_error_info *error,
            uint64_t *fence_value)
{
    uint32_t stamp = next_call_stamp(t);
    enum kmt_error e = check_list_shape(list, error);
    if (!e && !reserve_scratch(t, list->count))
        e = fail(error, KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0);
    struct kmt_error_info first;
    if (!e && resolve_all(t, list, stamp, false, &first))
        e = fail(error, first.code, first.index, first.handle, first.other);
    if (e) {
        t->counters.rejected_calls++;
        return e;
    }
    uint64_t fence = 0;
    /* Results first, from the states before the call (two resources of one
     * memory both report its outcome), then each memory's transition once. */
    for (uint32_t i = 0; i < list->count; i++) {
        struct kmt_memory *m = t->scratch[i];
        write_result(results, discarded, i, device_lost ? VK_RECLAIM_RESULT_DISCARDED_KMT : reclaim_result(m));
        if (m->status == VK_ALLOCATION_STATUS_DISCARDED_KMT && m->fill_value > fill_completed &&
            m->fill_value > fence)
            fence = m->fill_value;
    }
    if (!device_lost) {
        for (uint32_t i = 0; i < list->count; i++) {
            struct kmt_memory *m = t->scratch[i];
            if (m->call_stamp != stamp)
                continue;
            m->call_stamp = 0;
            t->counters.reclaims++;
            struct kmt_transition extra = {
                .result = (uint32_t)reclaim_result(m),
                .fence_value = m->status == VK_ALLOCATION_STATUS_DISCARDED_KMT && m->fill_value > fill_completed
                                   ? m->fill_value
                                   : 0,
            };
            if (m->status != VK_ALLOCATION_STATUS_DECOMMITTED_KMT)
                become_resident(t, m, &extra);
            else
                REPORT(t, m, m->status, KMT_REASON_RECLAIM, &extra);
        }
    }
    if (fence_value)
        *fence_value = device_lost ? 0 : fence;
    if (error)
        error->code = KMT_OK;
    return KMT_OK;
}

/* ---- queries and messages ------------------------------------------------ */

void
kmt_fill_state(const struct kmt_tracker *t, const struct kmt_memory *m, VkAllocationStateKMT *state)
{
    state->status = (VkAllocationStatusKMT)m->status;
    state->offerPriority = (VkOfferPriorityKMT)m->offer_priority;
    state->offerFlags = m->offer_flags;
    state->driverPriority = m->driver_priority;
    state->driverPriorityApplied = t->config.pageable ? VK_TRUE : VK_FALSE;
    state->size = m->size;
    state->memoryTypeIndex = m->type_index;
    state->heapIndex = m->heap_index;
    state->discardCount = m->discard_count;
}

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
        snprintf(buffer, size, "%s: pMemories[%u] (0x%" PRIx64 ") is not a live VkDeviceMemory of this device.",
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
    case KMT_OK:
        break;
    }
    snprintf(buffer, size, "%s: no error.", command);
}

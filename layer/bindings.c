/* SPDX-License-Identifier: MIT */
/*
 * bindings.c -- which buffer or image is bound to which tracked memory
 * (resource offers act on the memory behind each resource).
 *
 * Buffers and images keep the driver's handles; each bound one has a record
 * in a handle map naming its memory by the app's handle, so a resource whose
 * memory was freed finds a stale handle (KMT_ERROR_RESOURCE_MEMORY_FREED)
 * rather than a stranger's record.
 *
 * A bind is never half done: room for the records (map slots and pool
 * records) is set aside before the driver binds, counting what concurrent
 * binds set aside and have not used yet, so recording what the driver bound
 * cannot fail afterwards.
 */
#include "offer_internal.h"

static void
put_record(struct kmt_tracker *t, struct kmt_resource *r)
{
    kmt_pool_put(&t->resource_pool, r);
}

bool
kmt_reserve_bindings(struct kmt_tracker *t, uint32_t count)
{
    if (!kmt_map_reserve(&t->resources, t->reserved_count + count))
        return false;
    /* Set `count` pool records aside, chained through their first word in
     * front of those set aside already. */
    void *chain = t->reserved_resources;
    uint32_t taken = 0;
    for (; taken < count; taken++) {
        void *r = kmt_pool_get(&t->resource_pool);
        if (!r)
            break;
        *(void **)r = chain;
        chain = r;
    }
    if (taken < count) {
        for (uint32_t i = 0; i < taken; i++) {
            void *next = *(void **)chain;
            kmt_pool_put(&t->resource_pool, chain);
            chain = next;
        }
        return false;
    }
    t->reserved_resources = chain;
    t->reserved_count += count;
    return true;
}

/* One record from the set-aside chain. */
static struct kmt_resource *
take_reserved(struct kmt_tracker *t)
{
    void *r = t->reserved_resources;
    t->reserved_resources = *(void **)r;
    t->reserved_count--;
    return r;
}

void
kmt_unreserve_bindings(struct kmt_tracker *t, uint32_t count)
{
    for (uint32_t i = 0; i < count && t->reserved_count; i++)
        put_record(t, take_reserved(t));
}

static struct kmt_memory *
bound_memory(const struct kmt_tracker *t, const struct kmt_resource *r, uint32_t *index)
{
    return kmt_resolve(&t->slots, r->memory, index);
}

void
kmt_untrack_resource(struct kmt_tracker *t, uint64_t resource)
{
    struct kmt_resource *r = kmt_map_remove(&t->resources, resource);
    if (!r)
        return;
    uint32_t index;
    if (bound_memory(t, r, &index)) {
        struct kmt_memory_cold *cold = kmt_cold(&t->slots, index);
        if (cold->resource_count)
            cold->resource_count--;
    }
    put_record(t, r);
}

void
kmt_track_binding(struct kmt_tracker *t, uint32_t object_type, uint64_t resource, uint64_t memory)
{
    /* Every call was preceded by kmt_reserve_bindings: one set-aside record
     * and one map slot are this element's, used or given back. */
    struct kmt_resource *r = take_reserved(t);
    if (resource == 0) {
        /* VK_NULL_HANDLE is the map's empty key and names no resource: the
         * validation layers report such a bind; we keep no count for it. */
        put_record(t, r);
        return;
    }
    kmt_untrack_resource(t, resource);
    uint32_t index;
    if (!kmt_resolve(&t->slots, memory, &index)) {
        put_record(t, r); /* untracked memory: nothing to remember */
        return;
    }
    r->handle = resource;
    r->memory = memory;
    r->call_stamp = 0;
    r->object_type = object_type;
    /* Cannot grow: room was reserved for this insertion. */
    kmt_map_put(&t->resources, resource, r);
    kmt_cold(&t->slots, index)->resource_count++;
}

uint64_t
kmt_resource_memory(const struct kmt_tracker *t, uint64_t resource)
{
    const struct kmt_resource *r = kmt_map_get(&t->resources, resource);
    return r && bound_memory(t, r, NULL) ? r->memory : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * policy.c -- see policy.h.
 */
#include "policy.h"

#include <stdlib.h>

#include <string.h>

#include "offer_internal.h"

void
kmt_policy_init(struct kmt_policy *p, const struct kmt_settings *s)
{
    memset(p, 0, sizeof(*p));
    p->kind = s->discard;
    p->rate_per_mille = s->discard_rate;
    p->rng = s->discard_seed;
}

void
kmt_policy_set_budgets(struct kmt_policy *p, const struct kmt_settings *s, uint32_t heap_count,
                       const VkDeviceSize *heap_sizes, const VkDeviceSize *driver_budgets)
{
    p->heap_count = heap_count < VK_MAX_MEMORY_HEAPS ? heap_count : VK_MAX_MEMORY_HEAPS;
    for (uint32_t i = 0; i < p->heap_count; i++) {
        if (s->budget_mb)
            p->heap_budget[i] = (VkDeviceSize)s->budget_mb << 20;
        else if (driver_budgets && driver_budgets[i])
            p->heap_budget[i] = driver_budgets[i];
        else
            p->heap_budget[i] = heap_sizes[i] / 5 * 4;
    }
}

/* splitmix64: tiny, seedable with any value (0 included), good enough for
 * reproducible test decisions. */
static uint64_t
next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t
kmt_policy_draw(struct kmt_policy *p)
{
    return (uint32_t)(next_random(&p->rng) % 1000);
}

bool
kmt_policy_hook(const struct kmt_policy *p)
{
    return p->kind == KMT_DISCARD_ALWAYS || p->kind == KMT_DISCARD_RANDOM;
}

void
kmt_policy_on_offered(void *ctx, struct kmt_tracker *t, uint32_t index)
{
    struct kmt_policy *p = ctx;
    if (p->kind == KMT_DISCARD_RANDOM && kmt_policy_draw(p) >= p->rate_per_mille)
        return;
    if (p->kind != KMT_DISCARD_ALWAYS && p->kind != KMT_DISCARD_RANDOM)
        return;
    uint32_t heap = kmt_heap_of(t, kmt_slot(&t->slots, index));
    struct kmt_discard_why why = {
        .reason = p->kind == KMT_DISCARD_ALWAYS ? KMT_REASON_DISCARD_ALWAYS : KMT_REASON_DISCARD_RANDOM,
        .heap_usage = t->heap_usage[heap],
        .heap_budget = p->heap_budget[heap],
    };
    kmt_discard_as(t, index, &why);
}

bool
kmt_policy_over_budget(const struct kmt_policy *p, const struct kmt_tracker *t)
{
    if (p->kind != KMT_DISCARD_PRESSURE)
        return false;
    for (uint32_t heap = 0; heap < p->heap_count; heap++)
        if (t->heap_usage[heap] > p->heap_budget[heap] && kmt_offered_in_heap(t, heap))
            return true;
    return false;
}

/* A victim candidate: its place in the pressure order and its slot. */
struct victim {
    uint8_t level;
    uint32_t order, index;
};

static int
compare_victims(const void *a, const void *b)
{
    const struct victim *x = a, *y = b;
    if (x->level != y->level)
        return x->level < y->level ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The OFFERED allocations of `heap`, in the order they are discarded. NULL
 * when out of host memory. */
static struct victim *
collect_victims(const struct kmt_tracker *t, uint32_t heap, uint32_t *count)
{
    uint32_t n = 0, candidates = t->offered_count;
    struct victim *v = kmt_alloc(t->slots.allocator, (size_t)(candidates ? candidates : 1) * sizeof(*v),
                                 VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
    if (!v)
        return NULL;
    for (uint32_t i = 0; i < __atomic_load_n(&t->slots.capacity, __ATOMIC_ACQUIRE) && n < candidates; i++) {
        const struct kmt_memory *m = kmt_slot(&t->slots, i);
        if (__atomic_load_n(&m->status, __ATOMIC_ACQUIRE) == VK_ALLOCATION_STATUS_OFFERED_KMT &&
            kmt_heap_of(t, m) == heap)
            v[n++] = (struct victim){m->offer_priority, m->offer_order, i};
    }
    qsort(v, n, sizeof(*v), compare_victims);
    *count = n;
    return v;
}

static uint32_t
relieve_heap(struct kmt_tracker *t, uint32_t heap, VkDeviceSize budget)
{
    uint32_t count = 0, discarded = 0;
    struct victim *v = collect_victims(t, heap, &count);
    if (!v)
        return 0; /* out of host memory: try again at the next call */
    for (uint32_t k = 0; k < count && t->heap_usage[heap] > budget; k++) {
        struct kmt_discard_why why = {.reason = KMT_REASON_DISCARD_PRESSURE, .order = discarded + 1,
                                      .heap_usage = t->heap_usage[heap], .heap_budget = budget};
        if (kmt_discard_as(t, v[k].index, &why))
            discarded++; /* a failed fill leaves it OFFERED: not counted */
    }
    kmt_free(t->slots.allocator, v);
    return discarded;
}

uint32_t
kmt_policy_relieve(struct kmt_policy *p, struct kmt_tracker *t)
{
    if (p->kind != KMT_DISCARD_PRESSURE)
        return 0;
    uint32_t discarded = 0;
    for (uint32_t heap = 0; heap < p->heap_count; heap++)
        if (t->heap_usage[heap] > p->heap_budget[heap] && kmt_offered_in_heap(t, heap))
            discarded += relieve_heap(t, heap, p->heap_budget[heap]);
    return discarded;
}

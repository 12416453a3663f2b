/*
 * policy.c -- see policy.h.
 */
#include "policy.h"

#include <string.h>

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

void
kmt_policy_on_offered(void *ctx, struct kmt_tracker *t, struct kmt_memory *m)
{
    struct kmt_policy *p = ctx;
    switch (p->kind) {
    case KMT_DISCARD_ALWAYS: {
        struct kmt_discard_why why = {.reason = KMT_REASON_DISCARD_ALWAYS, .heap_usage = t->heap_usage[m->heap_index],
                                      .heap_budget = p->heap_budget[m->heap_index]};
        kmt_discard_as(t, m, &why);
        break;
    }
    case KMT_DISCARD_RANDOM:
        if (kmt_policy_draw(p) < p->rate_per_mille) {
            struct kmt_discard_why why = {.reason = KMT_REASON_DISCARD_RANDOM,
                                          .heap_usage = t->heap_usage[m->heap_index],
                                          .heap_budget = p->heap_budget[m->heap_index]};
            kmt_discard_as(t, m, &why);
        }
        break;
    default:
        break;
    }
}

static uint32_t
relieve_heap(struct kmt_tracker *t, uint32_t heap, VkDeviceSize budget)
{
    uint32_t discarded = 0;
    for (uint32_t level = 0; level < KMT_OFFER_LEVELS && t->heap_usage[heap] > budget; level++) {
        struct kmt_memory *m = t->offered[level].head;
        while (m && t->heap_usage[heap] > budget) {
            struct kmt_memory *next = m->next; /* kmt_discard unlinks m */
            struct kmt_discard_why why = {.reason = KMT_REASON_DISCARD_PRESSURE, .order = discarded + 1,
                                          .heap_usage = t->heap_usage[heap], .heap_budget = budget};
            if (m->heap_index == heap && kmt_discard_as(t, m, &why))
                discarded++; /* a failed fill leaves it OFFERED: not counted */
            m = next;
        }
    }
    return discarded;
}

uint32_t
kmt_policy_relieve(struct kmt_policy *p, struct kmt_tracker *t)
{
    if (p->kind != KMT_DISCARD_PRESSURE)
        return 0;
    uint32_t discarded = 0;
    for (uint32_t heap = 0; heap < p->heap_count; heap++)
        if (t->heap_usage[heap] > p->heap_budget[heap])
            discarded += relieve_heap(t, heap, p->heap_budget[heap]);
    return discarded;
}

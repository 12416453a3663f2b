/* SPDX-License-Identifier: MIT */
/*
 * policy.h -- discard policies and the budget model (pure C).
 *
 * Vulkan has no discard primitive: demoted memory keeps its contents, so the
 * production default `never` reports OK truthfully. The other policies
 * reproduce VidMm so that ported DISCARDED / NOT_COMMITTED paths can run:
 *   always    every allocation that becomes OFFERED is discarded at once;
 *   random    each one is discarded with probability DISCARD_RATE / 1000,
 *             from a generator seeded with DISCARD_SEED (same seed and the
 *             same sequence of offers: the same decisions);
 *   pressure  while a heap's tracked usage exceeds its budget, OFFERED
 *             allocations of that heap are discarded LOW before NORMAL before
 *             HIGH, oldest offer first, until it is back under budget.
 * Memory offered with ALLOW_DECOMMIT is decommitted instead (kmt_discard).
 * Only OFFERED memory is ever touched, never OFFER_PENDING.
 */
#ifndef KMT_POLICY_H
#define KMT_POLICY_H

#include <stdint.h>
#include <vulkan/vulkan_core.h>

#include "offer.h"
#include "settings.h"

#ifdef __cplusplus
extern "C" {
#endif

struct kmt_policy {
    enum kmt_discard_policy kind;
    uint32_t rate_per_mille;
    uint64_t rng;                                  /* splitmix64 state */
    uint32_t heap_count;
    VkDeviceSize heap_budget[VK_MAX_MEMORY_HEAPS]; /* bytes; the pressure policy's limit */
};

void kmt_policy_init(struct kmt_policy *policy, const struct kmt_settings *settings);

/* Budgets: BUDGET_MB when set, else the driver's (VK_EXT_memory_budget; pass
 * NULL without it), else 80% of each heap. */
void kmt_policy_set_budgets(struct kmt_policy *policy, const struct kmt_settings *settings, uint32_t heap_count,
                            const VkDeviceSize *heap_sizes, const VkDeviceSize *driver_budgets);

/* The tracker's hook for always / random: memory in slot `index` just became
 * OFFERED. kmt_policy_hook says whether the policy needs it at all (under
 * never and pressure the tracker makes no per-element call). */
void kmt_policy_on_offered(void *policy, struct kmt_tracker *tracker, uint32_t index);
bool kmt_policy_hook(const struct kmt_policy *policy);

/* The pressure policy: discards until every heap is under budget (or nothing
 * offered is left there). The LOW -> NORMAL -> HIGH, oldest-offer-first
 * order is searched for here, and only for a heap that is over budget and
 * has offered bytes: the offer path keeps counts, never lists. Returns how
 * many allocations it discarded. */
uint32_t kmt_policy_relieve(struct kmt_policy *policy, struct kmt_tracker *tracker);
/* Whether kmt_policy_relieve could discard anything now (cheap: counts only). */
bool kmt_policy_over_budget(const struct kmt_policy *policy, const struct kmt_tracker *tracker);

/* The next value of the policy's generator, as a per-mille draw (0..999). */
uint32_t kmt_policy_draw(struct kmt_policy *policy);

#ifdef __cplusplus
}
#endif

#endif

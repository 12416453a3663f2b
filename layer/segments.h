/* SPDX-License-Identifier: MIT */
/*
 * segments.h -- VK_KMT_residency's budget model (pure C): segment groups,
 * their budgets, usage and reservations, and when a budget notification is
 * due.
 *
 * A segment group is a set of heaps: LOCAL = the DEVICE_LOCAL heaps,
 * NON_LOCAL = the others (DXGI_MEMORY_SEGMENT_GROUP). Per heap the budget is
 * the BUDGET_MB setting when set, else VK_EXT_memory_budget's heapBudget, else
 * 80% of the heap's size; a group's budget is the sum over its heaps. Usage
 * follows the budget's source: the driver's heapUsage when the budget is the
 * driver's, else the tracker's own count (config.accounting: bytes of live
 * allocations that hold contents and are not evicted). A reservation is kept
 * as set and reported capped at the budget.
 *
 * Notifications (struct kmt_budget_watch, one per registered callback): a
 * callback hears about a group when its budget moved by more than 1/64 since
 * the budget it last heard of (or saw at registration), and -- once per poll
 * -- while the group's usage is over its budget and has grown since the last
 * notification it got (at registration it has heard of no usage, so a group
 * already over budget is reported at the first poll). One notification per
 * group and poll carries both: bytesToTrim is the excess, 0 when under budget.
 */
#ifndef KMT_SEGMENTS_H
#define KMT_SEGMENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KMT_SEGMENT_GROUPS 2 /* VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT, _NON_LOCAL_KMT */

struct kmt_tracker;

struct kmt_segments {
    uint32_t heap_count;
    uint8_t heap_group[VK_MAX_MEMORY_HEAPS];           /* the group of each heap */
    VkDeviceSize heap_budget[VK_MAX_MEMORY_HEAPS];
    VkDeviceSize driver_usage[VK_MAX_MEMORY_HEAPS];    /* heapUsage, when driver_budget */
    bool driver_budget;                                /* budgets and usage are the driver's */
    VkDeviceSize reservation[KMT_SEGMENT_GROUPS];      /* as the app set it */
    uint64_t read_ns;                                  /* when the budgets were read (the caller's clock) */
};

/* What the driver said (VK_EXT_memory_budget), or NULL arrays without it. */
struct kmt_heap_report {
    uint32_t heap_count;
    const VkMemoryHeap *heaps;
    const VkDeviceSize *budget; /* NULL: the driver has no VK_EXT_memory_budget */
    const VkDeviceSize *usage;
};

/* Reads budgets (and, with the driver's budget, usage) per heap; budget_mb
 * is the BUDGET_MB setting (0: none). Reservations are kept. */
void kmt_segments_read(struct kmt_segments *s, uint64_t budget_mb, const struct kmt_heap_report *report,
                       uint64_t now_ns);

VkDeviceSize kmt_segment_budget(const struct kmt_segments *s, uint32_t group);
/* Usage of a group: the driver's, or the tracker's count (caller holds the
 * tracker's lock then). */
VkDeviceSize kmt_segment_usage(const struct kmt_segments *s, const struct kmt_tracker *t, uint32_t group);
VkDeviceSize kmt_segment_reservation(const struct kmt_segments *s, uint32_t group);
/* max(0, usage - budget). */
VkDeviceSize kmt_segment_excess(const struct kmt_segments *s, const struct kmt_tracker *t, uint32_t group);

/* One group at one poll: what a notification reports. */
struct kmt_segment_sample {
    VkDeviceSize budget, usage;
};

/* What one callback last heard, per group. */
struct kmt_budget_watch {
    VkDeviceSize budget[KMT_SEGMENT_GROUPS]; /* the budget it last heard of (at registration: the budget then) */
    VkDeviceSize usage[KMT_SEGMENT_GROUPS];  /* the usage it last heard of while over budget (0 at registration) */
};

void kmt_budget_watch_init(struct kmt_budget_watch *w, const struct kmt_segment_sample *samples);
/* Whether group `group`'s sample is news for this watch; if so, updates the
 * watch and sets *bytes_to_trim (the excess, 0 under budget). */
bool kmt_budget_watch_step(struct kmt_budget_watch *w, uint32_t group, const struct kmt_segment_sample *sample,
                           VkDeviceSize *bytes_to_trim);

#ifdef __cplusplus
}
#endif

#endif

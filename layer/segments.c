/* SPDX-License-Identifier: MIT */
/*
 * segments.c -- see segments.h.
 */
#include "segments.h"

#include <string.h>

#include "offer.h"

void
kmt_segments_read(struct kmt_segments *s, uint64_t budget_mb, const struct kmt_heap_report *r, uint64_t now_ns)
{
    s->heap_count = r->heap_count < VK_MAX_MEMORY_HEAPS ? r->heap_count : VK_MAX_MEMORY_HEAPS;
    s->driver_budget = !budget_mb && r->budget != NULL;
    for (uint32_t h = 0; h < VK_MAX_MEMORY_HEAPS; h++) {
        if (h >= s->heap_count) {
            s->heap_group[h] = 0;
            s->heap_budget[h] = s->driver_usage[h] = 0;
            continue;
        }
        s->heap_group[h] = (r->heaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? 0 : 1;
        if (budget_mb)
            s->heap_budget[h] = (VkDeviceSize)budget_mb << 20;
        else if (r->budget)
            s->heap_budget[h] = r->budget[h];
        else
            s->heap_budget[h] = r->heaps[h].size / 5 * 4;
        s->driver_usage[h] = s->driver_budget && r->usage ? r->usage[h] : 0;
    }
    s->read_ns = now_ns;
}

VkDeviceSize
kmt_segment_budget(const struct kmt_segments *s, uint32_t group)
{
    VkDeviceSize sum = 0;
    for (uint32_t h = 0; h < s->heap_count; h++)
        if (s->heap_group[h] == group)
            sum += s->heap_budget[h];
    return sum;
}

VkDeviceSize
kmt_segment_usage(const struct kmt_segments *s, const struct kmt_tracker *t, uint32_t group)
{
    VkDeviceSize sum = 0;
    for (uint32_t h = 0; h < s->heap_count; h++)
        if (s->heap_group[h] == group)
            sum += s->driver_budget ? s->driver_usage[h] : kmt_heap_usage(t, h);
    return sum;
}

VkDeviceSize
kmt_segment_reservation(const struct kmt_segments *s, uint32_t group)
{
    VkDeviceSize budget = kmt_segment_budget(s, group);
    return s->reservation[group] < budget ? s->reservation[group] : budget;
}

VkDeviceSize
kmt_segment_excess(const struct kmt_segments *s, const struct kmt_tracker *t, uint32_t group)
{
    VkDeviceSize usage = kmt_segment_usage(s, t, group), budget = kmt_segment_budget(s, group);
    return usage > budget ? usage - budget : 0;
}

/* ---- notifications -------------------------------------------------------- */

void
kmt_budget_watch_init(struct kmt_budget_watch *w, const struct kmt_segment_sample *samples)
{
    memset(w, 0, sizeof(*w));
    for (uint32_t g = 0; g < KMT_SEGMENT_GROUPS; g++)
        w->budget[g] = samples[g].budget;
}

/* More than 1/64 of the budget last heard of (any change from 0). */
static bool
budget_moved(VkDeviceSize heard, VkDeviceSize now)
{
    VkDeviceSize delta = now > heard ? now - heard : heard - now;
    return delta > heard / 64 && delta != 0;
}

bool
kmt_budget_watch_step(struct kmt_budget_watch *w, uint32_t group, const struct kmt_segment_sample *sample,
                      VkDeviceSize *bytes_to_trim)
{
    const bool over = sample->usage > sample->budget;
    const bool moved = budget_moved(w->budget[group], sample->budget);
    const bool grew = over && sample->usage > w->usage[group];
    if (!over)
        w->usage[group] = 0; /* the over-budget episode (if any) ended: the next one is news again */
    if (!moved && !grew)
        return false;
    w->budget[group] = sample->budget;
    if (over)
        w->usage[group] = sample->usage;
    *bytes_to_trim = over ? sample->usage - sample->budget : 0;
    return true;
}

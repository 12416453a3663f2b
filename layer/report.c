/* SPDX-License-Identifier: MIT */
/*
 * report.c -- see report.h.
 *
 * The only file besides commands.c that reads the tracker's and the policy's
 * fields (kmt_heap_usage_locked, kmt_heap_budget_locked, the counters in
 * kmt_report_stats): the trace and the messages go through these.
 */
#include "report.h"

#include "settings_file.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "describe.h"
#include "policy.h"
#include "vvl_utils.h"

/* ---- heaps ---------------------------------------------------------------------- */

static void
memory_properties_of(const struct kmt_device *d, VkPhysicalDeviceMemoryProperties *out)
{
    if (d->enabled)
        *out = d->memory_properties;
    else
        d->instance->next.GetPhysicalDeviceMemoryProperties(d->physical->handle, out);
}

uint32_t
kmt_heap_budgets(const struct kmt_device *d, const struct kmt_settings *settings,
                 VkDeviceSize budgets[VK_MAX_MEMORY_HEAPS], enum kmt_budget_source *source)
{
    VkPhysicalDeviceMemoryProperties props;
    memory_properties_of(d, &props);
    VkDeviceSize sizes[VK_MAX_MEMORY_HEAPS] = {0};
    for (uint32_t i = 0; i < props.memoryHeapCount; i++)
        sizes[i] = props.memoryHeaps[i].size;

    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 props2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                                .pNext = &budget};
    bool has_budget = d->enabled ? d->memory_budget : d->physical->memory_budget;
    bool driver = has_budget && !settings->budget_mb && d->instance->next.GetPhysicalDeviceMemoryProperties2;
    if (driver)
        d->instance->next.GetPhysicalDeviceMemoryProperties2(d->physical->handle, &props2);

    struct kmt_policy policy;
    kmt_policy_init(&policy, settings);
    kmt_policy_set_budgets(&policy, settings, props.memoryHeapCount, sizes, driver ? budget.heapBudget : NULL);
    for (uint32_t i = 0; i < VK_MAX_MEMORY_HEAPS; i++)
        budgets[i] = i < policy.heap_count ? policy.heap_budget[i] : 0;
    if (source)
        *source = settings->budget_mb ? KMT_BUDGET_SETTING : driver ? KMT_BUDGET_DRIVER : KMT_BUDGET_HEAP_SHARE;
    return policy.heap_count;
}

VkDeviceSize
kmt_heap_usage_locked(const struct kmt_device *d, uint32_t heap)
{
    return heap < VK_MAX_MEMORY_HEAPS ? d->tracker.heap_usage[heap] : 0;
}

VkDeviceSize
kmt_heap_budget_locked(const struct kmt_device *d, uint32_t heap, VkDeviceSize fallback)
{
    /* Only the pressure policy keeps budgets (refreshed at its calls). */
    if (d->policy.kind == KMT_DISCARD_PRESSURE && heap < d->policy.heap_count)
        return d->policy.heap_budget[heap];
    return fallback;
}

/* ---- text -------------------------------------------------------------------------- */

struct text {
    char buffer[sizeof(((struct kmt_log_entry *)0)->text)];
    size_t used;
};

static void
add(struct text *t, const char *fmt, ...)
{
    if (t->used + 1 >= sizeof(t->buffer))
        return;
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(t->buffer + t->used, sizeof(t->buffer) - t->used, fmt, args);
    va_end(args);
    if (n > 0)
        t->used = t->used + (size_t)n < sizeof(t->buffer) ? t->used + (size_t)n : sizeof(t->buffer) - 1;
}

static const char *
yes_no(bool v)
{
    return v ? "yes" : "no";
}

static void
add_heaps(struct text *t, const struct kmt_device *d, const struct kmt_settings *settings)
{
    static const char *const sources[] = {"BUDGET_MB", "VK_EXT_memory_budget", "80% of the heap"};
    VkPhysicalDeviceMemoryProperties props;
    memory_properties_of(d, &props);
    VkDeviceSize budgets[VK_MAX_MEMORY_HEAPS];
    enum kmt_budget_source source;
    uint32_t count = kmt_heap_budgets(d, settings, budgets, &source);
    add(t, " Heaps:");
    for (uint32_t i = 0; i < count; i++) {
        char size[32], budget[32];
        kmt_bytes_text(props.memoryHeaps[i].size, size, sizeof(size));
        kmt_bytes_text(budgets[i], budget, sizeof(budget));
        add(t, "%s heap %u: %s%s, budget %s", i ? ";" : "", i, size,
            (props.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? " device-local" : "", budget);
    }
    add(t, " (budget from %s).", sources[source]);
}

void
kmt_report_device(struct kmt_device *d)
{
    const struct kmt_logger *logger = &d->instance->logger;
    if (!kmt_log_wants(logger, KMT_LOG_INFO))
        return;
    const struct kmt_physical_device *p = d->physical;
    if (!d->enabled)
        kmt_settings_read(&d->settings, &d->instance->app_settings, NULL, NULL);
    const struct kmt_settings *s = &d->settings;
    struct text t = {.used = 0};
    t.buffer[0] = '\0';
    if (d->enabled)
        add(&t,
            "%s enabled: pageable memory %s, memory priority %s, memory budget %s, "
            "paging queue %s (family %u); discard policy %s, fill %s, offered priority %.2f.",
            d->offer_reclaim && d->residency ? "VK_KMT_offer_reclaim and VK_KMT_residency"
            : d->residency                   ? "VK_KMT_residency"
                                             : "VK_KMT_offer_reclaim",
            d->tracker.config.pageable ? "yes" : "no (offers and evictions cannot demote memory)",
            yes_no(d->memory_priority),
            yes_no(d->memory_budget), d->paging_dedicated ? "dedicated" : "shared with the app", d->paging_family,
            kmt_discard_policy_name(s->discard), kmt_discard_fill_name(s->discard_fill), (double)s->offered_priority);
    else
        add(&t,
            "pass-through: the app enabled neither VK_KMT_offer_reclaim nor VK_KMT_residency, so the layer tracks "
            "nothing and intercepts "
            "no call of this device. The driver has: timeline semaphores %s, pageable memory %s, memory priority %s, "
            "memory budget %s.",
            yes_no(p->timeline), yes_no(p->pageable), yes_no(p->memory_priority), yes_no(p->memory_budget));

    VkPhysicalDeviceProperties props;
    d->instance->next.GetPhysicalDeviceProperties(p->handle, &props);
    add(&t, " Device: \"%s\", Vulkan %u.%u.%u.", props.deviceName, VK_API_VERSION_MAJOR(props.apiVersion),
        VK_API_VERSION_MINOR(props.apiVersion), VK_API_VERSION_PATCH(props.apiVersion));
    add_heaps(&t, d, s);
    char settings[sizeof(t.buffer)];
    kmt_settings_describe(s, settings, sizeof(settings));
    add(&t, " Settings: %s.", settings);
    kmt_log_defer(&d->startup_log, logger, KMT_LOG_INFO, "KMT-startup", VK_OBJECT_TYPE_DEVICE,
                  (uint64_t)(uintptr_t)d->handle, "%s", t.buffer);
}

void
kmt_report_stats(struct kmt_device *d)
{
    VkDeviceSize fallback[VK_MAX_MEMORY_HEAPS], usage[VK_MAX_MEMORY_HEAPS], budget[VK_MAX_MEMORY_HEAPS];
    uint32_t count = kmt_heap_budgets(d, &d->settings, fallback, NULL);
    pthread_mutex_lock(&d->lock);
    struct kmt_counters c = d->tracker.counters;
    for (uint32_t i = 0; i < count; i++) {
        usage[i] = kmt_heap_usage_locked(d, i);
        budget[i] = kmt_heap_budget_locked(d, i, fallback[i]);
    }
    pthread_mutex_unlock(&d->lock);

    struct text t = {.used = 0};
    t.buffer[0] = '\0';
    add(&t,
        "offers %" PRIu64 " (re-offers %" PRIu64 "), reclaims %" PRIu64 ", discards %" PRIu64 ", decommits %" PRIu64
        ", bytes offered %" PRIu64 ", bytes discarded %" PRIu64 ", rejected calls %" PRIu64 ";",
        c.offers, c.reoffers, c.reclaims, c.discards, c.decommits, c.bytes_offered, c.bytes_discarded,
        c.rejected_calls);
    for (uint32_t i = 0; i < count; i++) {
        char u[32], b[32];
        kmt_bytes_text(usage[i], u, sizeof(u));
        kmt_bytes_text(budget[i], b, sizeof(b));
        add(&t, " heap %u: usage %" PRIu64 " (%s) of budget %" PRIu64 " (%s)%s", i, usage[i], u, budget[i], b,
            i + 1 < count ? ";" : ".");
    }
    struct kmt_log_object device = {VK_OBJECT_TYPE_DEVICE, (uint64_t)(uintptr_t)d->handle, NULL};
    kmt_log_send_unfiltered(&d->instance->logger, KMT_LOG_INFO, "KMT-stats", 1, &device, t.buffer, true);
}

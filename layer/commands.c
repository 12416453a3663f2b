/* SPDX-License-Identifier: MIT */
/*
 * commands.c -- vkOfferAllocationsKMT, vkReclaimAllocationsKMT,
 * vkGetPagingFenceKMT, vkGetAllocationStateKMT,
 * vkGetOfferReclaimStatisticsKMT, what the tracker asks of the driver
 * (priorities, fills, decommits), and the per-device setup. State changes
 * happen in offer.c under the device lock; this file turns Vulkan calls into
 * tracker calls and tracker errors into messages.
 *
 * The device lock is held across vkSetDeviceMemoryPriorityEXT and the
 * vkFreeMemory of a decommit (called from the tracker): neither waits, and
 * holding it keeps the driver in step with the state when threads offer and
 * reclaim the same memory. It is never held while a message reaches the
 * app's callback.
 *
 * Hot paths (issue 12): one device lookup per call; deferred offers,
 * finished fills, budgets and the pressure policy are looked at only when a
 * count or the policy says there is something to do.
 */
#include "commands.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "hooks.h"
#include "names.h"
#include "paging.h"
#include "report.h"
#include "residency.h"
#include "settings_file.h"

/* ---- messages --------------------------------------------------------------- */

void
kmt_emit(const struct kmt_device *d, const struct kmt_pending_message *m)
{
    if (!m->id)
        return;
    if (m->object) /* with the app's name of it, where it gave one */
        kmt_device_log(d, m->level, m->id, m->object_type, m->object, m->text);
    else
        kmt_device_log(d, m->level, m->id, VK_OBJECT_TYPE_DEVICE, (uint64_t)(uintptr_t)d->handle, m->text);
}

void
kmt_note_error(struct kmt_pending_message *m, const struct kmt_error_info *error, const char *command,
           const struct kmt_handle_list *list)
{
    m->level = KMT_LOG_ERROR;
    m->id = kmt_error_id(error->code);
    m->object_type = list && list->resources && error->code >= KMT_ERROR_RESOURCE_TYPE
                         ? (VkObjectType)(list->resources[error->index].objectType)
                         : VK_OBJECT_TYPE_DEVICE_MEMORY;
    m->object = error->handle;
    kmt_format_error(error, command, list, m->text, sizeof(m->text));
}

/* Out of host memory is the app's to handle as such; every other tracker
 * error is a usage error. */
VkResult
kmt_error_result(enum kmt_error e)
{
    return e == KMT_ERROR_OUT_OF_HOST_MEMORY ? VK_ERROR_OUT_OF_HOST_MEMORY : VK_ERROR_VALIDATION_FAILED_EXT;
}

VkResult
kmt_reject_info(struct kmt_device *d, const char *command, enum kmt_error code, uint64_t stype)
{
    struct kmt_pending_message m = {0};
    struct kmt_error_info error = {.code = code, .other = stype};
    kmt_note_error(&m, &error, command, NULL);
    m.object_type = VK_OBJECT_TYPE_DEVICE;
    m.object = (uint64_t)(uintptr_t)d->handle;
    kmt_emit(d, &m);
    return VK_ERROR_VALIDATION_FAILED_EXT;
}

VkResult
kmt_check_info(struct kmt_device *d, const char *command, const void *info, VkStructureType stype)
{
    if (!info)
        return kmt_reject_info(d, command, KMT_ERROR_NULL_INFO, 0);
    const VkStructureType got = ((const VkBaseInStructure *)info)->sType;
    if (got != stype)
        return kmt_reject_info(d, command, KMT_ERROR_STYPE, (uint64_t)got);
    return VK_SUCCESS;
}

uint64_t
kmt_translate_memory(struct kmt_device *d, const char *command, const char *what, uint64_t memory)
{
    struct kmt_memory *m = kmt_find_memory(&d->tracker, memory, NULL);
    uint64_t driver = m ? __atomic_load_n(&m->driver, __ATOMIC_RELAXED) : 0;
    if (driver)
        return driver;
    kmt_log(&d->instance->logger, KMT_LOG_ERROR, m ? "KMT-memory-decommitted" : "KMT-unknown-memory",
            VK_OBJECT_TYPE_DEVICE_MEMORY, memory, "%s: %s (0x%" PRIx64 ") %s", command, what, memory,
            m ? "was decommitted: it can only be freed (vkFreeMemory) and allocated anew."
              : "is not a live VkDeviceMemory of this device (never allocated here, already freed, or another "
                "device's); the call was not made.");
    return 0;
}

/* ---- tracker callbacks ---------------------------------------------------------- */

static void
driver_set_priority(void *ctx, uint64_t driver, float priority)
{
    struct kmt_device *d = ctx;
    d->next.SetDeviceMemoryPriorityEXT(d->handle, (VkDeviceMemory)driver, priority);
}

#define KMT_POISON 0xDEADBEEFu

/* The tracker's fill callback: make a reported discard true. Host-visible
 * memory is filled here on the CPU (nothing of the app's can be using it: it
 * is OFFERED, so its earlier GPU work is done, and it is not mapped); other
 * memory gets a GPU fill on the paging queue. */
static uint64_t
fill_discarded(void *ctx, const struct kmt_fill_request *r)
{
    struct kmt_device *d = ctx;
    if (d->settings.discard_fill == KMT_FILL_NONE)
        return 0;
    uint32_t pattern = d->settings.discard_fill == KMT_FILL_ZERO ? 0 : KMT_POISON;
    /* A dedicated allocation may not be aliased by the fill's buffer. */
    if (!r->host_visible)
        return r->dedicated ? KMT_FILL_FAILED : kmt_gpu_fill(d, r->driver, r->size, r->type_index, pattern);
    void *data = NULL;
    if (d->next.MapMemory(d->handle, (VkDeviceMemory)r->driver, 0, VK_WHOLE_SIZE, 0, &data) != VK_SUCCESS)
        return KMT_FILL_FAILED;
    unsigned char *bytes = data;
    for (VkDeviceSize i = 0; i < r->size; i++)
        bytes[i] = (unsigned char)(pattern >> (8 * (i & 3)));
    VkMappedMemoryRange range = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = (VkDeviceMemory)r->driver,
        .size = VK_WHOLE_SIZE,
    };
    if (!(d->memory_properties.memoryTypes[r->type_index].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
        d->next.FlushMappedMemoryRanges(d->handle, 1, &range);
    d->next.UnmapMemory(d->handle, (VkDeviceMemory)r->driver);
    return 0;
}

/* The tracker's decommit callback: the driver's memory goes now (DESIGN.md,
 * "Decommit is real"); the app's handle stays until vkFreeMemory. The
 * memory is OFFERED, so no earlier GPU work of the app's uses it, and no
 * fill of the layer's is pending on it (decommits are never filled). */
static void
decommit_memory(void *ctx, uint64_t memory, uint64_t driver)
{
    struct kmt_device *d = ctx;
    const VkAllocationCallbacks *allocator = kmt_map_get(&d->memory_allocators, memory);
    /* A fill from an earlier discard may still be writing it: the newest
     * such fill frees it when done. */
    for (struct kmt_fill_job *job = d->fill_jobs; job; job = job->next) {
        if (job->memory == driver) {
            job->free_memory = true;
            job->has_allocator = allocator != NULL;
            if (allocator)
                job->allocator = *allocator;
            return;
        }
    }
    d->next.FreeMemory(d->handle, (VkDeviceMemory)driver, allocator);
}

/* ---- per-call upkeep ------------------------------------------------------------- */

void
kmt_refresh_budgets(struct kmt_device *d)
{
    if (d->settings.discard != KMT_DISCARD_PRESSURE)
        return;
    VkDeviceSize sizes[VK_MAX_MEMORY_HEAPS];
    for (uint32_t i = 0; i < d->memory_properties.memoryHeapCount; i++)
        sizes[i] = d->memory_properties.memoryHeaps[i].size;
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                               .pNext = &budget};
    bool driver = d->memory_budget && !d->settings.budget_mb && d->instance->next.GetPhysicalDeviceMemoryProperties2;
    if (driver)
        d->instance->next.GetPhysicalDeviceMemoryProperties2(d->physical->handle, &props);
    pthread_mutex_lock(&d->lock);
    kmt_policy_set_budgets(&d->policy, &d->settings, d->memory_properties.memoryHeapCount, sizes,
                           driver ? budget.heapBudget : NULL);
    pthread_mutex_unlock(&d->lock);
}

void
kmt_relieve_locked(struct kmt_device *d)
{
    if (d->policy.kind == KMT_DISCARD_PRESSURE && kmt_policy_over_budget(&d->policy, &d->tracker))
        kmt_policy_relieve(&d->policy, &d->tracker);
}

void
kmt_promote_locked(struct kmt_device *d)
{
    bool promoted = d->tracker.pending_count && kmt_promote_pending(&d->tracker, kmt_completed_serial(d)) > 0;
    if (d->fill_jobs)
        kmt_reap_fills(d, kmt_paging_completed(d));
    if (promoted)
        kmt_relieve_locked(d);
}

/* ---- the extension's commands ------------------------------------------------------ */

struct kmt_device *
kmt_command_device(VkDevice device, unsigned extensions)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    if (!d || !d->enabled)
        return NULL;
    /* Reached through a loader trampoline, a command may be called on a
     * device that did not enable its extension. */
    if (!(((extensions & KMT_EXT_OFFER_RECLAIM) && d->offer_reclaim) ||
          ((extensions & KMT_EXT_RESIDENCY) && d->residency)))
        return NULL;
    kmt_log_flush(&d->startup_log, &d->instance->logger);
    return d;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_OfferAllocationsKMT(VkDevice device, const VkOfferAllocationsInfoKMT *pInfo)
{
    static const char command[] = "vkOfferAllocationsKMT";
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_OFFER_RECLAIM);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    uint64_t start = kmt_events_now(d);
    if (atomic_load(&d->lost))
        return VK_ERROR_DEVICE_LOST;
    VkResult checked = kmt_check_info(d, command, pInfo, VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT);
    if (checked != VK_SUCCESS)
        return checked;

    struct kmt_handle_list list = {pInfo->allocationCount, pInfo->pMemories, pInfo->pResources};
    struct kmt_error_info error = {0};
    struct kmt_pending_message message; /* filled only on error */
    message.id = NULL;
    uint32_t reoffered = 0;

    kmt_refresh_budgets(d);
    pthread_mutex_lock(&d->lock);
    kmt_promote_locked(d);
    /* Markers follow earlier work not known done (none when it all is). */
    uint64_t wait_serial = 0;
    VkResult marked = (pInfo->flags & VK_OFFER_IMMEDIATELY_BIT_KMT) ? VK_SUCCESS : kmt_mark_earlier_work(d, &wait_serial);
    if (marked != VK_SUCCESS) {
        pthread_mutex_unlock(&d->lock);
        return marked;
    }
    enum kmt_error e = kmt_offer(&d->tracker, &list, pInfo->priority, pInfo->flags, wait_serial, &error, &reoffered);
    if (e)
        kmt_note_error(&message, &error, command, &list);
    else
        kmt_relieve_locked(d);
    pthread_mutex_unlock(&d->lock);
    kmt_events_offer_done(d, start, pInfo, e ? kmt_error_result(e) : VK_SUCCESS);

    if (e) {
        kmt_emit(d, &message);
        return kmt_error_result(e);
    }
    if (reoffered)
        kmt_log(&d->instance->logger, KMT_LOG_WARNING, "KMT-reoffer", VK_OBJECT_TYPE_DEVICE,
                (uint64_t)(uintptr_t)device,
                "%s: %u of %u allocations were already offered; they were re-prioritised.", command, reoffered,
                list.count);
    return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_ReclaimAllocationsKMT(VkDevice device, const VkReclaimAllocationsInfoKMT *pInfo, uint64_t *pPagingFenceValue)
{
    static const char command[] = "vkReclaimAllocationsKMT";
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_OFFER_RECLAIM);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    uint64_t start = kmt_events_now(d);
    VkResult checked = kmt_check_info(d, command, pInfo, VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT);
    if (checked != VK_SUCCESS)
        return checked;

    struct kmt_handle_list list = {pInfo->allocationCount, pInfo->pMemories, pInfo->pResources};
    struct kmt_error_info error = {0};
    struct kmt_pending_message message; /* filled only on error */
    message.id = NULL;
    uint64_t fence = 0;

    pthread_mutex_lock(&d->lock);
    bool lost = atomic_load(&d->lost);
    if (!lost)
        kmt_promote_locked(d);
    uint64_t fill_completed = d->paging_value ? kmt_paging_completed(d) : 0;
    enum kmt_error e = kmt_reclaim(&d->tracker, &list, pInfo->pResults, pInfo->pDiscarded, fill_completed, lost,
                                   &error, &fence);
    if (e)
        kmt_note_error(&message, &error, command, &list);
    else if (!lost)
        kmt_relieve_locked(d); /* contents came back: usage grew */
    pthread_mutex_unlock(&d->lock);
    kmt_events_reclaim_done(d, start, pInfo, fence, e ? kmt_error_result(e) : lost ? VK_ERROR_DEVICE_LOST : VK_SUCCESS);

    if (e) {
        kmt_emit(d, &message);
        return kmt_error_result(e);
    }
    if (pPagingFenceValue)
        *pPagingFenceValue = fence;
    return lost ? VK_ERROR_DEVICE_LOST : VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetPagingFenceKMT(VkDevice device, VkSemaphore *pTimelineSemaphore)
{
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_OFFER_RECLAIM | KMT_EXT_RESIDENCY);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    if (!pTimelineSemaphore)
        return kmt_reject_info(d, "vkGetPagingFenceKMT", KMT_ERROR_NULL_INFO, 0);
    *pTimelineSemaphore = d->paging;
    return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetAllocationStateKMT(VkDevice device, VkDeviceMemory memory, VkAllocationStateKMT *pState)
{
    static const char command[] = "vkGetAllocationStateKMT";
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_OFFER_RECLAIM | KMT_EXT_RESIDENCY);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    VkResult checked = kmt_check_info(d, command, pState, VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT);
    if (checked != VK_SUCCESS)
        return checked;

    pthread_mutex_lock(&d->lock);
    kmt_promote_locked(d);
    uint32_t index;
    struct kmt_memory *m = kmt_find_memory(&d->tracker, (uint64_t)memory, &index);
    if (m) {
        kmt_fill_state(&d->tracker, index, pState);
        if (d->residency)
            kmt_fill_residency_chain(&d->tracker, index, pState->pNext);
    }
    pthread_mutex_unlock(&d->lock);
    kmt_events_flush(d);
    if (!m) {
        kmt_log(&d->instance->logger, KMT_LOG_ERROR, kmt_error_id(KMT_ERROR_UNKNOWN_MEMORY),
                VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)memory,
                "%s: memory (0x%" PRIx64 ") is not a live VkDeviceMemory of this device (never allocated here, "
                "already freed, or another device's).",
                command, (uint64_t)memory);
        return VK_ERROR_VALIDATION_FAILED_EXT;
    }
    return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetOfferReclaimStatisticsKMT(VkDevice device, VkOfferReclaimStatisticsKMT *pStatistics)
{
    static const char command[] = "vkGetOfferReclaimStatisticsKMT";
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_OFFER_RECLAIM);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    VkResult checked = kmt_check_info(d, command, pStatistics, VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT);
    if (checked != VK_SUCCESS)
        return checked;
    kmt_refresh_budgets(d);
    pthread_mutex_lock(&d->lock);
    kmt_promote_locked(d);
    const struct kmt_tracker *t = &d->tracker;
    const struct kmt_counters *c = &t->counters;
    pStatistics->offerCount = c->offers;
    pStatistics->reofferCount = c->reoffers;
    pStatistics->reclaimCount = c->reclaims;
    pStatistics->discardCount = c->discards;
    pStatistics->decommitCount = c->decommits;
    pStatistics->bytesOffered = c->bytes_offered;
    pStatistics->bytesDiscarded = c->bytes_discarded;
    pStatistics->rejectedCallCount = c->rejected_calls;
    pStatistics->pendingCount = t->pending_count;
    pStatistics->offeredCount = t->offered_count;
    pStatistics->trackedCount = kmt_slots_live(&t->slots);
    pStatistics->heapCount = d->memory_properties.memoryHeapCount;
    for (uint32_t i = 0; i < VK_MAX_MEMORY_HEAPS; i++) {
        pStatistics->heapUsage[i] = i < pStatistics->heapCount ? kmt_heap_usage(t, i) : 0;
        pStatistics->heapBudget[i] = i < pStatistics->heapCount ? d->policy.heap_budget[i] : 0;
    }
    pthread_mutex_unlock(&d->lock);
    kmt_events_flush(d);
    return VK_SUCCESS;
}

/* ---- the extension's commands by name -------------------------------------------- */

struct named_command {
    const char *name;
    PFN_vkVoidFunction function;
};

#define KMT_COMMAND(name) {"vk" #name, (PFN_vkVoidFunction)kmt_##name}

static const struct named_command extension_commands[] = {
    KMT_COMMAND(OfferAllocationsKMT),
    KMT_COMMAND(ReclaimAllocationsKMT),
    KMT_COMMAND(GetPagingFenceKMT),
    KMT_COMMAND(GetAllocationStateKMT),
    KMT_COMMAND(GetOfferReclaimStatisticsKMT),
};

PFN_vkVoidFunction
kmt_extension_command(const char *name)
{
    for (size_t i = 0; i < sizeof(extension_commands) / sizeof(extension_commands[0]); i++)
        if (strcmp(extension_commands[i].name, name) == 0)
            return extension_commands[i].function;
    return kmt_residency_command(name);
}

PFN_vkVoidFunction
kmt_device_command(const struct kmt_device *d, const char *name)
{
    /* The state query (VkAllocationResidencyKMT) and the paging fence
     * (make-resident's paging fence values) serve both extensions. */
    if (strcmp(name, "vkGetAllocationStateKMT") == 0)
        return (PFN_vkVoidFunction)kmt_GetAllocationStateKMT;
    if (strcmp(name, "vkGetPagingFenceKMT") == 0)
        return (PFN_vkVoidFunction)kmt_GetPagingFenceKMT;
    if (d->offer_reclaim)
        for (size_t i = 0; i < sizeof(extension_commands) / sizeof(extension_commands[0]); i++)
            if (strcmp(extension_commands[i].name, name) == 0)
                return extension_commands[i].function;
    return d->residency ? kmt_residency_command(name) : NULL;
}

/* ---- device setup ------------------------------------------------------------------------ */

static void
complain_setting(void *ctx, const char *id, const char *text)
{
    struct kmt_device *d = ctx;
    kmt_log_defer(&d->startup_log, &d->instance->logger, KMT_LOG_WARNING, id, VK_OBJECT_TYPE_DEVICE,
                  (uint64_t)(uintptr_t)d->handle, "%s", text);
}

/* Distinct per device, so that one device's handles do not resolve on another. */
static uint32_t
handle_salt(const struct kmt_device *d)
{
    static _Atomic uint32_t devices;
    uint64_t x = (uint64_t)(uintptr_t)d ^ ((uint64_t)atomic_fetch_add(&devices, 1) << 40);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

VkResult
kmt_device_setup(struct kmt_device *d, const VkDeviceCreateInfo *app_info)
{
    (void)app_info;
    kmt_settings_read(&d->settings, &d->instance->app_settings, complain_setting, d);
    d->instance->next.GetPhysicalDeviceMemoryProperties(d->physical->handle, &d->memory_properties);

    kmt_policy_init(&d->policy, &d->settings);
    struct kmt_tracker_config config = {
        .pageable = d->pageable && d->next.SetDeviceMemoryPriorityEXT != NULL,
        .offered_priority = d->settings.offered_priority,
        .salt = handle_salt(d),
        .accounting = d->settings.discard != KMT_DISCARD_NEVER || d->residency,
        .residency = d->residency,
        .on_offered = kmt_policy_hook(&d->policy) ? kmt_policy_on_offered : NULL,
        .on_offered_ctx = &d->policy,
    };
    for (uint32_t i = 0; i < d->memory_properties.memoryTypeCount && i < VK_MAX_MEMORY_TYPES; i++)
        config.type_heap[i] = (uint8_t)d->memory_properties.memoryTypes[i].heapIndex;
    struct kmt_tracker_ops ops = {
        .ctx = d,
        .set_priority = driver_set_priority,
        .fill = fill_discarded,
        .decommit = decommit_memory,
        .transition = kmt_events_setup(d),
    };
    /* Messages and the trace report heap usage with each change. */
    config.accounting |= ops.transition != NULL;
    if (!kmt_tracker_init(&d->tracker, &config, &ops, d->pallocator))
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    if (!kmt_map_init(&d->memory_allocators, 16, d->pallocator)) {
        kmt_tracker_finish(&d->tracker);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    VkResult result = kmt_paging_setup(d);
    if (result != VK_SUCCESS) {
        kmt_paging_teardown(d);
        kmt_map_finish(&d->memory_allocators);
        kmt_tracker_finish(&d->tracker);
        return result;
    }
    kmt_refresh_budgets(d);
    if (d->residency && (result = kmt_residency_setup(d)) != VK_SUCCESS) {
        kmt_paging_teardown(d);
        kmt_map_finish(&d->memory_allocators);
        kmt_tracker_finish(&d->tracker);
        return result;
    }
    kmt_report_device(d);
    return VK_SUCCESS;
}

void
kmt_device_teardown(struct kmt_device *d)
{
    kmt_events_teardown(d);
    if (d->settings.stats)
        kmt_report_stats(d);
    kmt_names_destroy(d);
    if (d->residency)
        kmt_residency_teardown(d);
    kmt_paging_teardown(d);
    /* Allocations the app never freed: their copies of the app's callbacks. */
    for (uint32_t i = 0; d->memory_allocators.keys && i <= d->memory_allocators.mask; i++)
        if (d->memory_allocators.keys[i])
            kmt_free(d->pallocator, d->memory_allocators.values[i]);
    kmt_map_finish(&d->memory_allocators);
    kmt_tracker_finish(&d->tracker);
}

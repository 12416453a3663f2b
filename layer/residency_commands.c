/* SPDX-License-Identifier: MIT */
/*
 * residency_commands.c -- VK_KMT_residency's commands: vkMakeResidentKMT,
 * vkEvictKMT, vkSetResidencyPriorityKMT, vkQueryVideoMemoryInfoKMT,
 * vkSetVideoMemoryReservationKMT, vkRegisterBudgetNotificationKMT and
 * vkUnregisterBudgetNotificationKMT; reading the budgets; the device's
 * residency setup. State changes happen in residency.c under the device lock;
 * budgets are read from the driver outside it; callbacks run on notify.c's
 * thread with no lock of the layer held.
 *
 * Budgets are read (VK_EXT_memory_budget) by vkQueryVideoMemoryInfoKMT and
 * vkRegisterBudgetNotificationKMT, at every poll of the notification thread,
 * and by make-resident / evict when the last read is older than
 * BUDGET_POLL_MS: a make-resident checks against the budget as last read, so
 * it never pays a driver query per call.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "hooks.h"
#include "paging.h"
#include "residency.h"

/* ---- budgets ------------------------------------------------------------------ */

/* The coarse clock is enough for a staleness check against BUDGET_POLL_MS
 * (its tick is a few milliseconds) and costs a fraction of the fine one. */
static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether budgets can change at all: only the driver's do (BUDGET_MB and 80%
 * of a heap are constants). */
static bool
budget_from_driver(const struct kmt_device *d)
{
    return d->memory_budget && !d->settings.budget_mb && d->instance->next.GetPhysicalDeviceMemoryProperties2;
}

/* Reads budgets (and the driver's usage) outside the device lock, stores
 * them under it. Without `force`, only when they come from the driver and
 * the last read is older than the poll interval: make-resident and evict
 * pay no clock read on a synthetic budget. */
static void
refresh_segments(struct kmt_device *d, bool force)
{
    if (!force && !budget_from_driver(d))
        return;
    const uint64_t now = now_ns();
    const uint64_t period = (uint64_t)d->settings.budget_poll_ms * 1000000u;
    if (!force && now - atomic_load(&d->segments_read_ns) < period)
        return;
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                               .pNext = &budget};
    const bool driver = budget_from_driver(d);
    if (driver)
        d->instance->next.GetPhysicalDeviceMemoryProperties2(d->physical->handle, &props);
    const struct kmt_heap_report report = {
        .heap_count = d->memory_properties.memoryHeapCount,
        .heaps = d->memory_properties.memoryHeaps,
        .budget = driver ? budget.heapBudget : NULL,
        .usage = driver ? budget.heapUsage : NULL,
    };
    pthread_mutex_lock(&d->lock);
    kmt_segments_read(&d->segments, d->settings.budget_mb, &report, now);
    pthread_mutex_unlock(&d->lock);
    atomic_store(&d->segments_read_ns, now);
}

static void
sample_locked(struct kmt_device *d, struct kmt_segment_sample samples[KMT_SEGMENT_GROUPS])
{
    for (uint32_t g = 0; g < KMT_SEGMENT_GROUPS; g++) {
        samples[g].budget = kmt_segment_budget(&d->segments, g);
        samples[g].usage = kmt_segment_usage(&d->segments, &d->tracker, g);
    }
}

/* The notifier's sampler: runs on its thread with no notifier lock held. */
static void
sample_segments(void *ctx, struct kmt_segment_sample samples[KMT_SEGMENT_GROUPS])
{
    struct kmt_device *d = ctx;
    refresh_segments(d, true);
    pthread_mutex_lock(&d->lock);
    sample_locked(d, samples);
    pthread_mutex_unlock(&d->lock);
}

VkResult
kmt_residency_setup(struct kmt_device *d)
{
    refresh_segments(d, true);
    if (!kmt_notifier_init(&d->notifier, d->settings.budget_poll_ms, sample_segments, d, d->pallocator))
        return VK_ERROR_INITIALIZATION_FAILED;
    return VK_SUCCESS;
}

void
kmt_residency_teardown(struct kmt_device *d)
{
    kmt_notifier_finish(&d->notifier);
}

/* ---- make resident, evict, priorities --------------------------------------------- */

static const char *
group_name(uint32_t group)
{
    return group ? "NON_LOCAL" : "LOCAL";
}

static VkResult
reject_group(struct kmt_device *d, const char *command, VkMemorySegmentGroupKMT group)
{
    struct kmt_pending_message m = {0};
    struct kmt_error_info error = {.code = KMT_ERROR_SEGMENT_GROUP, .other = (uint64_t)(uint32_t)group};
    kmt_note_error(&m, &error, command, NULL);
    m.object_type = VK_OBJECT_TYPE_DEVICE;
    m.object = (uint64_t)(uintptr_t)d->handle;
    kmt_emit(d, &m);
    return VK_ERROR_VALIDATION_FAILED_EXT;
}

/* The highest paging-fence value of GPU work still queued on any of the
 * call's allocations (a discard fill from before a reclaim), 0 when none:
 * the paging-fence rule of make-resident. Caller holds the lock. */
static uint64_t
pending_paging_locked(struct kmt_device *d, uint32_t count)
{
    uint64_t fence = 0;
    if (!d->fill_jobs)
        return 0;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t value = kmt_pending_fill_value(d, d->tracker.scratch[i].memory->driver);
        fence = value > fence ? value : fence;
    }
    return fence;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_MakeResidentKMT(VkDevice device, const VkMakeResidentInfoKMT *pInfo, uint64_t *pPagingFenceValue,
                    VkDeviceSize *pBytesToTrim)
{
    static const char command[] = "vkMakeResidentKMT";
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_RESIDENCY);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    if (atomic_load(&d->lost))
        return VK_ERROR_DEVICE_LOST;
    VkResult checked = kmt_check_info(d, command, pInfo, VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT);
    if (checked != VK_SUCCESS)
        return checked;

    const struct kmt_residency_args args = {pInfo->allocationCount, pInfo->pMemories, pInfo->pPriorities,
                                            pInfo->flags};
    const struct kmt_handle_list list = {args.count, args.memories, NULL};
    struct kmt_error_info error = {0};
    struct kmt_residency_outcome out;
    struct kmt_pending_message message; /* filled only on error */
    message.id = NULL;
    uint64_t fence = 0;

    refresh_segments(d, false);
    pthread_mutex_lock(&d->lock);
    kmt_promote_locked(d);
    enum kmt_error e = kmt_make_resident(&d->tracker, &args, &d->segments, &error, &out);
    if (e) {
        kmt_note_error(&message, &error, command, &list);
    } else if (!out.over_budget) {
        fence = pending_paging_locked(d, args.count);
        if (out.became_resident)
            kmt_relieve_locked(d); /* usage grew: the pressure policy may act */
    }
    pthread_mutex_unlock(&d->lock);

    if (e) {
        kmt_emit(d, &message);
        return kmt_error_result(e);
    }
    if (pBytesToTrim)
        *pBytesToTrim = out.bytes_to_trim;
    if (pPagingFenceValue)
        *pPagingFenceValue = fence;
    if (out.over_budget) {
        kmt_log(&d->instance->logger, KMT_LOG_INFO, "KMT-over-budget", VK_OBJECT_TYPE_DEVICE,
                (uint64_t)(uintptr_t)device,
                "%s: making %u allocations resident would exceed the budget by %" PRIu64
                " bytes; nothing changed (evict that much first, or pass MUST_SUCCEED with CANT_TRIM_FURTHER).",
                command, args.count, (uint64_t)out.bytes_to_trim);
        return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    }
    return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_EvictKMT(VkDevice device, const VkEvictInfoKMT *pInfo, VkDeviceSize *pBytesToTrim)
{
    static const char command[] = "vkEvictKMT";
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_RESIDENCY);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    if (atomic_load(&d->lost))
        return VK_ERROR_DEVICE_LOST;
    VkResult checked = kmt_check_info(d, command, pInfo, VK_STRUCTURE_TYPE_EVICT_INFO_KMT);
    if (checked != VK_SUCCESS)
        return checked;

    const struct kmt_residency_args args = {pInfo->allocationCount, pInfo->pMemories, NULL, pInfo->flags};
    const struct kmt_handle_list list = {args.count, args.memories, NULL};
    struct kmt_error_info error = {0};
    struct kmt_residency_outcome out;
    struct kmt_pending_message message;
    message.id = NULL;

    refresh_segments(d, false);
    pthread_mutex_lock(&d->lock);
    kmt_promote_locked(d);
    enum kmt_error e = kmt_evict(&d->tracker, &args, &d->segments, &error, &out);
    if (e)
        kmt_note_error(&message, &error, command, &list);
    pthread_mutex_unlock(&d->lock);

    if (e) {
        kmt_emit(d, &message);
        return kmt_error_result(e);
    }
    if (pBytesToTrim)
        *pBytesToTrim = out.bytes_to_trim;
    return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_SetResidencyPriorityKMT(VkDevice device, uint32_t count, const VkDeviceMemory *pMemories,
                            const uint32_t *pPriorities)
{
    static const char command[] = "vkSetResidencyPriorityKMT";
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_RESIDENCY);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    if (atomic_load(&d->lost))
        return VK_ERROR_DEVICE_LOST;
    const struct kmt_residency_args args = {count, pMemories, pPriorities, 0};
    const struct kmt_handle_list list = {count, pMemories, NULL};
    struct kmt_error_info error = {0};
    struct kmt_pending_message message;
    message.id = NULL;

    pthread_mutex_lock(&d->lock);
    kmt_promote_locked(d);
    enum kmt_error e = kmt_set_residency_priority(&d->tracker, &args, &error);
    if (e)
        kmt_note_error(&message, &error, command, &list);
    pthread_mutex_unlock(&d->lock);
    if (e) {
        kmt_emit(d, &message);
        return kmt_error_result(e);
    }
    return VK_SUCCESS;
}

/* ---- the budget query and reservation ------------------------------------------------ */

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueryVideoMemoryInfoKMT(VkDevice device, VkMemorySegmentGroupKMT group, VkVideoMemoryInfoKMT *pInfo)
{
    static const char command[] = "vkQueryVideoMemoryInfoKMT";
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_RESIDENCY);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    if ((uint32_t)group >= KMT_SEGMENT_GROUPS)
        return reject_group(d, command, group);
    VkResult checked = kmt_check_info(d, command, pInfo, VK_STRUCTURE_TYPE_VIDEO_MEMORY_INFO_KMT);
    if (checked != VK_SUCCESS)
        return checked;
    refresh_segments(d, true);
    pthread_mutex_lock(&d->lock);
    pInfo->budget = kmt_segment_budget(&d->segments, group);
    pInfo->currentUsage = kmt_segment_usage(&d->segments, &d->tracker, group);
    pInfo->availableForReservation = pInfo->budget;
    pInfo->currentReservation = kmt_segment_reservation(&d->segments, group);
    pthread_mutex_unlock(&d->lock);
    return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_SetVideoMemoryReservationKMT(VkDevice device, VkMemorySegmentGroupKMT group, VkDeviceSize reservation)
{
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_RESIDENCY);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    if ((uint32_t)group >= KMT_SEGMENT_GROUPS)
        return reject_group(d, "vkSetVideoMemoryReservationKMT", group);
    pthread_mutex_lock(&d->lock);
    d->segments.reservation[group] = reservation;
    pthread_mutex_unlock(&d->lock);
    kmt_log(&d->instance->logger, KMT_LOG_VERBOSE, "KMT-reservation", VK_OBJECT_TYPE_DEVICE,
            (uint64_t)(uintptr_t)device, "vkSetVideoMemoryReservationKMT: %s reservation %" PRIu64 " bytes.",
            group_name(group), (uint64_t)reservation);
    return VK_SUCCESS;
}

/* ---- notifications ------------------------------------------------------------------- */

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_RegisterBudgetNotificationKMT(VkDevice device, PFN_vkBudgetNotificationCallbackKMT pfnCallback, void *pUserData,
                                  uint64_t *pCookie)
{
    static const char command[] = "vkRegisterBudgetNotificationKMT";
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_RESIDENCY);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    if (!pfnCallback || !pCookie) {
        kmt_log(&d->instance->logger, KMT_LOG_ERROR, "KMT-null-argument", VK_OBJECT_TYPE_DEVICE,
                (uint64_t)(uintptr_t)device, "%s: %s is NULL; nothing was registered.", command,
                pfnCallback ? "pCookie" : "pfnCallback");
        return VK_ERROR_VALIDATION_FAILED_EXT;
    }
    /* The watch starts from the budgets now: registering is not news. */
    struct kmt_segment_sample now[KMT_SEGMENT_GROUPS];
    refresh_segments(d, true);
    pthread_mutex_lock(&d->lock);
    sample_locked(d, now);
    pthread_mutex_unlock(&d->lock);
    *pCookie = 0;
    VkResult result = kmt_notifier_register(&d->notifier, pfnCallback, pUserData, now, pCookie);
    if (result != VK_SUCCESS)
        kmt_log(&d->instance->logger, KMT_LOG_ERROR, "KMT-notifier-thread", VK_OBJECT_TYPE_DEVICE,
                (uint64_t)(uintptr_t)device, "%s: %s.", command,
                result == VK_ERROR_OUT_OF_HOST_MEMORY ? "out of host memory"
                                                      : "the notification thread could not be started");
    return result;
}

static VKAPI_ATTR void VKAPI_CALL
kmt_UnregisterBudgetNotificationKMT(VkDevice device, uint64_t cookie)
{
    struct kmt_device *d = kmt_command_device(device, KMT_EXT_RESIDENCY);
    if (!d)
        return;
    if (!kmt_notifier_unregister(&d->notifier, cookie))
        kmt_log(&d->instance->logger, KMT_LOG_ERROR, "KMT-unknown-cookie", VK_OBJECT_TYPE_DEVICE,
                (uint64_t)(uintptr_t)device,
                "vkUnregisterBudgetNotificationKMT: cookie %" PRIu64 " is not a registered budget notification of "
                "this device (never registered, or unregistered already).",
                cookie);
}

/* ---- by name ----------------------------------------------------------------------------- */

struct named_command {
    const char *name;
    PFN_vkVoidFunction function;
};

#define KMT_COMMAND(name) {"vk" #name, (PFN_vkVoidFunction)kmt_##name}

static const struct named_command residency_commands[] = {
    KMT_COMMAND(MakeResidentKMT),
    KMT_COMMAND(EvictKMT),
    KMT_COMMAND(SetResidencyPriorityKMT),
    KMT_COMMAND(QueryVideoMemoryInfoKMT),
    KMT_COMMAND(SetVideoMemoryReservationKMT),
    KMT_COMMAND(RegisterBudgetNotificationKMT),
    KMT_COMMAND(UnregisterBudgetNotificationKMT),
};

PFN_vkVoidFunction
kmt_residency_command(const char *name)
{
    for (size_t i = 0; i < sizeof(residency_commands) / sizeof(residency_commands[0]); i++)
        if (strcmp(residency_commands[i].name, name) == 0)
            return residency_commands[i].function;
    return NULL;
}

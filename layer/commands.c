/*
 * commands.c -- vkOfferAllocationsKMT, vkReclaimAllocationsKMT,
 * vkGetPagingFenceKMT, vkGetAllocationStateKMT, and the memory hooks that
 * keep the tracker in step with the app (allocate, free, map, bind, destroy,
 * priorities). State changes happen in offer.c under the device lock; this
 * file turns Vulkan calls into tracker calls and tracker errors into messages.
 *
 * The device lock is held across vkSetDeviceMemoryPriorityEXT (called from
 * the tracker): it never waits, and holding it keeps the driver's priority in
 * step with the state when threads offer and reclaim the same memory. It is
 * never held while a message reaches the app's callback.
 */
#include "commands.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "names.h"
#include "paging.h"
#include "report.h"
#include "vvl_utils.h"

/* ---- messages --------------------------------------------------------------- */

struct pending_message {
    enum kmt_log_level level;
    const char *id;
    VkObjectType object_type;
    uint64_t object;
    char text[512];
};

static void
emit(const struct kmt_device *d, const struct pending_message *m)
{
    if (!m->id)
        return;
    if (m->object) /* with the app's name of it, where it gave one */
        kmt_device_log(d, m->level, m->id, m->object_type, m->object, m->text);
    else
        kmt_device_log(d, m->level, m->id, VK_OBJECT_TYPE_DEVICE, (uint64_t)(uintptr_t)d->handle, m->text);
}

static void
note_error(struct pending_message *m, const struct kmt_error_info *error, const char *command,
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
static VkResult
error_result(enum kmt_error e)
{
    return e == KMT_ERROR_OUT_OF_HOST_MEMORY ? VK_ERROR_OUT_OF_HOST_MEMORY : VK_ERROR_VALIDATION_FAILED_EXT;
}

static VkResult
reject_info(struct kmt_device *d, const char *command, enum kmt_error code, uint64_t stype)
{
    struct pending_message m = {0};
    struct kmt_error_info error = {.code = code, .other = stype};
    note_error(&m, &error, command, NULL);
    m.object_type = VK_OBJECT_TYPE_DEVICE;
    m.object = (uint64_t)(uintptr_t)d->handle;
    emit(d, &m);
    return VK_ERROR_VALIDATION_FAILED_EXT;
}

/* ---- tracker callbacks ---------------------------------------------------------- */

static void
driver_set_priority(void *ctx, uint64_t memory, float priority)
{
    struct kmt_device *d = ctx;
    d->next.SetDeviceMemoryPriorityEXT(d->handle, (VkDeviceMemory)memory, priority);
}

#define KMT_POISON 0xDEADBEEFu

/* The tracker's fill callback: make a reported discard true. Host-visible
 * memory is filled here on the CPU (nothing of the app's can be using it: it
 * is OFFERED, so its earlier GPU work is done, and it is not mapped); other
 * memory gets a GPU fill on the paging queue. */
static uint64_t
fill_discarded(void *ctx, const struct kmt_memory *m)
{
    struct kmt_device *d = ctx;
    if (d->settings.discard_fill == KMT_FILL_NONE)
        return 0;
    uint32_t pattern = d->settings.discard_fill == KMT_FILL_ZERO ? 0 : KMT_POISON;
    /* A dedicated allocation may not be aliased by the fill's buffer. */
    if (!m->host_visible)
        return m->dedicated ? KMT_FILL_FAILED : kmt_gpu_fill(d, m->handle, m->size, m->type_index, pattern);
    void *data = NULL;
    if (d->next.MapMemory(d->handle, (VkDeviceMemory)m->handle, 0, VK_WHOLE_SIZE, 0, &data) != VK_SUCCESS)
        return KMT_FILL_FAILED;
    unsigned char *bytes = data;
    for (VkDeviceSize i = 0; i < m->size; i++)
        bytes[i] = (unsigned char)(pattern >> (8 * (i & 3)));
    VkMappedMemoryRange range = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = (VkDeviceMemory)m->handle,
        .size = VK_WHOLE_SIZE,
    };
    if (!(d->memory_properties.memoryTypes[m->type_index].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
        d->next.FlushMappedMemoryRanges(d->handle, 1, &range);
    d->next.UnmapMemory(d->handle, (VkDeviceMemory)m->handle);
    return 0;
}

/* The driver's current budgets, for the pressure policy (outside the lock:
 * an instance-level query). */
static void
refresh_budgets(struct kmt_device *d)
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

/* The pressure policy looks at the heaps (a no-op for the other policies). */
static inline void
relieve_locked(struct kmt_device *d)
{
    if (d->policy.kind == KMT_DISCARD_PRESSURE)
        kmt_policy_relieve(&d->policy, &d->tracker);
}

/* Offers waiting for earlier GPU work take effect once it is done; checked
 * without blocking whenever the layer is called. Finished GPU fills are
 * released, and the pressure policy looks at the heaps. Caller holds the lock. */
static void
promote_locked(struct kmt_device *d)
{
    bool promoted = d->tracker.pending.count && kmt_promote_pending(&d->tracker, kmt_completed_serial(d)) > 0;
    if (d->fill_jobs)
        kmt_reap_fills(d, kmt_paging_completed(d));
    if (promoted)
        relieve_locked(d);
}

/* ---- the extension's commands ------------------------------------------------------ */

static struct kmt_device *
enabled_device(VkDevice device)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    if (!d || !d->enabled)
        return NULL;
    kmt_log_flush(&d->startup_log, &d->instance->logger);
    return d;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_OfferAllocationsKMT(VkDevice device, const VkOfferAllocationsInfoKMT *pInfo)
{
    static const char command[] = "vkOfferAllocationsKMT";
    struct kmt_device *d = enabled_device(device);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    uint64_t start = kmt_events_now(d);
    if (atomic_load(&d->lost))
        return VK_ERROR_DEVICE_LOST;
    if (!pInfo)
        return reject_info(d, command, KMT_ERROR_NULL_INFO, 0);
    if (pInfo->sType != VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT)
        return reject_info(d, command, KMT_ERROR_STYPE, (uint64_t)pInfo->sType);

    struct kmt_handle_list list = {pInfo->allocationCount, pInfo->pMemories, pInfo->pResources};
    struct kmt_error_info error = {0};
    struct pending_message message; /* filled only on error */
    message.id = NULL;
    uint32_t reoffered = 0;

    refresh_budgets(d);
    pthread_mutex_lock(&d->lock);
    promote_locked(d);
    /* Markers follow earlier work not known done (none when it all is). */
    uint64_t wait_serial = 0;
    VkResult marked = (pInfo->flags & VK_OFFER_IMMEDIATELY_BIT_KMT) ? VK_SUCCESS : kmt_mark_earlier_work(d, &wait_serial);
    if (marked != VK_SUCCESS) {
        pthread_mutex_unlock(&d->lock);
        return marked;
    }
    enum kmt_error e = kmt_offer(&d->tracker, &list, pInfo->priority, pInfo->flags, wait_serial, &error, &reoffered);
    if (e)
        note_error(&message, &error, command, &list);
    else
        relieve_locked(d);
    pthread_mutex_unlock(&d->lock);
    kmt_events_offer_done(d, start, pInfo, e ? error_result(e) : VK_SUCCESS);

    if (e) {
        emit(d, &message);
        return error_result(e);
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
    struct kmt_device *d = enabled_device(device);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    uint64_t start = kmt_events_now(d);
    if (!pInfo)
        return reject_info(d, command, KMT_ERROR_NULL_INFO, 0);
    if (pInfo->sType != VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT)
        return reject_info(d, command, KMT_ERROR_STYPE, (uint64_t)pInfo->sType);

    struct kmt_handle_list list = {pInfo->allocationCount, pInfo->pMemories, pInfo->pResources};
    struct kmt_error_info error = {0};
    struct pending_message message; /* filled only on error */
    message.id = NULL;
    uint64_t fence = 0;

    pthread_mutex_lock(&d->lock);
    bool lost = atomic_load(&d->lost);
    if (!lost)
        promote_locked(d);
    uint64_t fill_completed = d->paging_value ? kmt_paging_completed(d) : 0;
    enum kmt_error e = kmt_reclaim(&d->tracker, &list, pInfo->pResults, pInfo->pDiscarded, fill_completed, lost,
                                   &error, &fence);
    if (e)
        note_error(&message, &error, command, &list);
    else if (!lost)
        relieve_locked(d); /* contents came back: usage grew */
    pthread_mutex_unlock(&d->lock);
    kmt_events_reclaim_done(d, start, pInfo, fence, e ? error_result(e) : lost ? VK_ERROR_DEVICE_LOST : VK_SUCCESS);

    if (e) {
        emit(d, &message);
        return error_result(e);
    }
    if (pPagingFenceValue)
        *pPagingFenceValue = fence;
    return lost ? VK_ERROR_DEVICE_LOST : VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetPagingFenceKMT(VkDevice device, VkSemaphore *pTimelineSemaphore)
{
    struct kmt_device *d = enabled_device(device);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    if (!pTimelineSemaphore)
        return reject_info(d, "vkGetPagingFenceKMT", KMT_ERROR_NULL_INFO, 0);
    *pTimelineSemaphore = d->paging;
    return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetAllocationStateKMT(VkDevice device, VkDeviceMemory memory, VkAllocationStateKMT *pState)
{
    static const char command[] = "vkGetAllocationStateKMT";
    struct kmt_device *d = enabled_device(device);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    if (!pState)
        return reject_info(d, command, KMT_ERROR_NULL_INFO, 0);
    if (pState->sType != VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT)
        return reject_info(d, command, KMT_ERROR_STYPE, (uint64_t)pState->sType);

    pthread_mutex_lock(&d->lock);
    promote_locked(d);
    struct kmt_memory *m = kmt_find_memory(&d->tracker, (uint64_t)memory);
    if (m)
        kmt_fill_state(&d->tracker, m, pState);
    pthread_mutex_unlock(&d->lock);
    kmt_events_flush(d);
    if (!m) {
        kmt_log(&d->instance->logger, KMT_LOG_ERROR, kmt_error_id(KMT_ERROR_UNKNOWN_MEMORY),
                VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)memory,
                "%s: memory (0x%" PRIx64 ") is not a live VkDeviceMemory of this device.", command,
                (uint64_t)memory);
        return VK_ERROR_VALIDATION_FAILED_EXT;
    }
    return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetOfferReclaimStatisticsKMT(VkDevice device, VkOfferReclaimStatisticsKMT *pStatistics)
{
    static const char command[] = "vkGetOfferReclaimStatisticsKMT";
    struct kmt_device *d = enabled_device(device);
    if (!d)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    if (!pStatistics)
        return reject_info(d, command, KMT_ERROR_NULL_INFO, 0);
    if (pStatistics->sType != VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT)
        return reject_info(d, command, KMT_ERROR_STYPE, (uint64_t)pStatistics->sType);
    refresh_budgets(d);
    pthread_mutex_lock(&d->lock);
    promote_locked(d);
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
    pStatistics->pendingCount = t->pending.count;
    pStatistics->offeredCount = 0;
    for (uint32_t i = 0; i < KMT_OFFER_LEVELS; i++)
        pStatistics->offeredCount += t->offered[i].count;
    pStatistics->trackedCount = t->memories.count;
    pStatistics->heapCount = d->memory_properties.memoryHeapCount;
    for (uint32_t i = 0; i < VK_MAX_MEMORY_HEAPS; i++) {
        pStatistics->heapUsage[i] = i < pStatistics->heapCount ? t->heap_usage[i] : 0;
        pStatistics->heapBudget[i] = i < pStatistics->heapCount ? d->policy.heap_budget[i] : 0;
    }
    pthread_mutex_unlock(&d->lock);
    kmt_events_flush(d);
    return VK_SUCCESS;
}

/* ---- memory hooks ------------------------------------------------------------------------ */

static uint32_t
heap_of(const struct kmt_device *d, uint32_t type_index)
{
    return type_index < d->memory_properties.memoryTypeCount ? d->memory_properties.memoryTypes[type_index].heapIndex
                                                             : 0;
}

static bool
type_is_host_visible(const struct kmt_device *d, uint32_t type_index)
{
    return type_index < d->memory_properties.memoryTypeCount &&
           (d->memory_properties.memoryTypes[type_index].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_AllocateMemory(VkDevice device, const VkMemoryAllocateInfo *pInfo, const VkAllocationCallbacks *pAllocator,
                   VkDeviceMemory *pMemory)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    VkResult result = d->next.AllocateMemory(device, pInfo, pAllocator, pMemory);
    if (result != VK_SUCCESS)
        return result;
    /* The app's own priority, which reclaim restores; 0.5 is Vulkan's default. */
    float priority = 0.5f;
    bool dedicated = false;
    for (const VkBaseInStructure *s = pInfo->pNext; s; s = s->pNext) {
        if (s->sType == VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT)
            priority = ((const VkMemoryPriorityAllocateInfoEXT *)s)->priority;
        if (s->sType == VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO) {
            const VkMemoryDedicatedAllocateInfo *info = (const VkMemoryDedicatedAllocateInfo *)s;
            dedicated = info->image != VK_NULL_HANDLE || info->buffer != VK_NULL_HANDLE;
        }
    }

    refresh_budgets(d);
    pthread_mutex_lock(&d->lock);
    bool tracked = kmt_track_memory(&d->tracker, (uint64_t)*pMemory, pInfo->allocationSize, pInfo->memoryTypeIndex,
                                    heap_of(d, pInfo->memoryTypeIndex),
                                    type_is_host_visible(d, pInfo->memoryTypeIndex), priority);
    if (tracked) {
        kmt_find_memory(&d->tracker, (uint64_t)*pMemory)->dedicated = dedicated;
        promote_locked(d);
        relieve_locked(d); /* usage grew: the pressure policy may act */
    }
    pthread_mutex_unlock(&d->lock);
    kmt_events_flush(d);
    if (!tracked) {
        d->next.FreeMemory(device, *pMemory, pAllocator);
        *pMemory = VK_NULL_HANDLE;
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL
kmt_FreeMemory(VkDevice device, VkDeviceMemory memory, const VkAllocationCallbacks *pAllocator)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    /* Untracked before the driver may hand the handle out again. */
    pthread_mutex_lock(&d->lock);
    kmt_untrack_memory(&d->tracker, (uint64_t)memory);
    uint64_t fill = kmt_pending_fill_value(d, (uint64_t)memory);
    pthread_mutex_unlock(&d->lock);
    kmt_object_destroyed(d, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)memory);
    /* A GPU fill of the layer's may still write it: memory must not be freed
     * under pending work (VUID-vkFreeMemory-memory-00677). Wait unlocked. */
    if (fill) {
        VkSemaphoreWaitInfo wait = {
            .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
            .semaphoreCount = 1,
            .pSemaphores = &d->paging,
            .pValues = &fill,
        };
        kmt_note_result(d, d->next.WaitSemaphores(device, &wait, UINT64_MAX));
        pthread_mutex_lock(&d->lock);
        kmt_reap_fills(d, fill);
        pthread_mutex_unlock(&d->lock);
    }
    d->next.FreeMemory(device, memory, pAllocator);
}

static const char *
status_name(uint8_t status)
{
    switch (status) {
    case VK_ALLOCATION_STATUS_OFFER_PENDING_KMT: return "offered (pending)";
    case VK_ALLOCATION_STATUS_OFFERED_KMT: return "offered";
    case VK_ALLOCATION_STATUS_DISCARDED_KMT: return "offered and discarded";
    case VK_ALLOCATION_STATUS_DECOMMITTED_KMT: return "decommitted";
    default: return "resident";
    }
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_MapMemory(VkDevice device, VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size, VkMemoryMapFlags flags,
              void **ppData)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    /* Marked mapped before the call so that a concurrent offer sees it. */
    pthread_mutex_lock(&d->lock);
    struct kmt_memory *m = kmt_find_memory(&d->tracker, (uint64_t)memory);
    uint8_t status = m ? m->status : VK_ALLOCATION_STATUS_RESIDENT_KMT;
    if (m && status == VK_ALLOCATION_STATUS_RESIDENT_KMT)
        m->mapped = true;
    pthread_mutex_unlock(&d->lock);
    if (status != VK_ALLOCATION_STATUS_RESIDENT_KMT) {
        kmt_log(&d->instance->logger, KMT_LOG_ERROR, "KMT-map-not-resident", VK_OBJECT_TYPE_DEVICE_MEMORY,
                (uint64_t)memory,
                "vkMapMemory: memory (0x%" PRIx64 ") is %s; reclaim it before mapping it.", (uint64_t)memory,
                status_name(status));
        return VK_ERROR_MEMORY_MAP_FAILED;
    }
    VkResult result = d->next.MapMemory(device, memory, offset, size, flags, ppData);
    if (result != VK_SUCCESS && m) {
        pthread_mutex_lock(&d->lock);
        m = kmt_find_memory(&d->tracker, (uint64_t)memory);
        if (m)
            m->mapped = false;
        pthread_mutex_unlock(&d->lock);
    }
    return result;
}

static VKAPI_ATTR void VKAPI_CALL
kmt_UnmapMemory(VkDevice device, VkDeviceMemory memory)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    d->next.UnmapMemory(device, memory);
    pthread_mutex_lock(&d->lock);
    struct kmt_memory *m = kmt_find_memory(&d->tracker, (uint64_t)memory);
    if (m)
        m->mapped = false;
    pthread_mutex_unlock(&d->lock);
}

/* Binding decommitted memory is refused (it can only be freed); binding
 * offered memory is allowed but reported, since the app must reclaim before
 * use. Returns false when the bind must not reach the driver. */
static bool
check_bind_locked(struct kmt_device *d, const char *command, uint32_t index, uint64_t memory,
                  struct pending_message *message)
{
    struct kmt_memory *m = kmt_find_memory(&d->tracker, memory);
    if (!m || m->status == VK_ALLOCATION_STATUS_RESIDENT_KMT)
        return true;
    bool refuse = m->status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT;
    if (!message->id) {
        message->level = refuse ? KMT_LOG_ERROR : KMT_LOG_WARNING;
        message->id = refuse ? "KMT-bind-decommitted" : "KMT-bind-offered";
        message->object_type = VK_OBJECT_TYPE_DEVICE_MEMORY;
        message->object = memory;
        snprintf(message->text, sizeof(message->text),
                 "%s: element %u binds memory (0x%" PRIx64 ") that is %s%s", command, index, memory,
                 status_name(m->status),
                 refuse ? "; it can only be freed." : "; reclaim it before the GPU uses it.");
    }
    return !refuse;
}

struct bind_item {
    uint64_t resource, memory;
    uint32_t object_type;
};

/* The shared body of the four bind hooks: check every element, call down,
 * then remember what is bound where. */
static VkResult
bind_tracked(struct kmt_device *d, const char *command, uint32_t count, const struct bind_item *items,
             VkResult (*call_down)(struct kmt_device *d, const void *args), const void *args)
{
    struct pending_message message; /* filled only on error */
    message.id = NULL;
    bool allowed = true;
    pthread_mutex_lock(&d->lock);
    for (uint32_t i = 0; i < count; i++)
        allowed &= check_bind_locked(d, command, i, items[i].memory, &message);
    bool room = allowed && kmt_reserve_bindings(&d->tracker, count);
    pthread_mutex_unlock(&d->lock);
    emit(d, &message);
    if (!allowed)
        return VK_ERROR_VALIDATION_FAILED_EXT;
    if (!room)
        return VK_ERROR_OUT_OF_HOST_MEMORY; /* before the driver binds anything */

    VkResult result = call_down(d, args);
    if (result != VK_SUCCESS)
        return result;
    bool tracked = true;
    pthread_mutex_lock(&d->lock);
    for (uint32_t i = 0; i < count; i++)
        tracked &= kmt_track_binding(&d->tracker, items[i].object_type, items[i].resource, items[i].memory);
    pthread_mutex_unlock(&d->lock);
    return tracked ? VK_SUCCESS : VK_ERROR_OUT_OF_HOST_MEMORY;
}

struct bind_args {
    VkDevice device;
    uint64_t object, memory;
    VkDeviceSize offset;
    uint32_t count;
    const void *infos;
};

static VkResult
call_bind_buffer(struct kmt_device *d, const void *p)
{
    const struct bind_args *a = p;
    return d->next.BindBufferMemory(a->device, (VkBuffer)a->object, (VkDeviceMemory)a->memory, a->offset);
}

static VkResult
call_bind_image(struct kmt_device *d, const void *p)
{
    const struct bind_args *a = p;
    return d->next.BindImageMemory(a->device, (VkImage)a->object, (VkDeviceMemory)a->memory, a->offset);
}

static VkResult
call_bind_buffer2(struct kmt_device *d, const void *p)
{
    const struct bind_args *a = p;
    return d->next.BindBufferMemory2(a->device, a->count, a->infos);
}

static VkResult
call_bind_image2(struct kmt_device *d, const void *p)
{
    const struct bind_args *a = p;
    return d->next.BindImageMemory2(a->device, a->count, a->infos);
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_BindBufferMemory(VkDevice device, VkBuffer buffer, VkDeviceMemory memory, VkDeviceSize offset)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    struct bind_item item = {(uint64_t)buffer, (uint64_t)memory, VK_OBJECT_TYPE_BUFFER};
    struct bind_args args = {device, (uint64_t)buffer, (uint64_t)memory, offset, 0, NULL};
    return bind_tracked(d, "vkBindBufferMemory", 1, &item, call_bind_buffer, &args);
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_BindImageMemory(VkDevice device, VkImage image, VkDeviceMemory memory, VkDeviceSize offset)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    struct bind_item item = {(uint64_t)image, (uint64_t)memory, VK_OBJECT_TYPE_IMAGE};
    struct bind_args args = {device, (uint64_t)image, (uint64_t)memory, offset, 0, NULL};
    return bind_tracked(d, "vkBindImageMemory", 1, &item, call_bind_image, &args);
}

#define KMT_BIND_ITEMS_ON_STACK 16

/* vkBind{Buffer,Image}Memory2: the infos differ only in the resource member. */
static VkResult
bind2_tracked(VkDevice device, const char *command, uint32_t count, const void *infos, uint32_t object_type)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    struct bind_item stack[KMT_BIND_ITEMS_ON_STACK];
    struct bind_item *items = count <= KMT_BIND_ITEMS_ON_STACK ? stack : kmt_alloc(NULL, count * sizeof(*items), 0);
    if (!items)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    for (uint32_t i = 0; i < count; i++) {
        if (object_type == VK_OBJECT_TYPE_BUFFER) {
            const VkBindBufferMemoryInfo *info = (const VkBindBufferMemoryInfo *)infos + i;
            items[i] = (struct bind_item){(uint64_t)info->buffer, (uint64_t)info->memory, object_type};
        } else {
            const VkBindImageMemoryInfo *info = (const VkBindImageMemoryInfo *)infos + i;
            items[i] = (struct bind_item){(uint64_t)info->image, (uint64_t)info->memory, object_type};
        }
    }
    struct bind_args args = {device, 0, 0, 0, count, infos};
    VkResult result = bind_tracked(d, command, count, items,
                                   object_type == VK_OBJECT_TYPE_BUFFER ? call_bind_buffer2 : call_bind_image2, &args);
    if (items != stack)
        kmt_free(NULL, items);
    return result;
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_BindBufferMemory2(VkDevice device, uint32_t count, const VkBindBufferMemoryInfo *pInfos)
{
    return bind2_tracked(device, "vkBindBufferMemory2", count, pInfos, VK_OBJECT_TYPE_BUFFER);
}

static VKAPI_ATTR VkResult VKAPI_CALL
kmt_BindImageMemory2(VkDevice device, uint32_t count, const VkBindImageMemoryInfo *pInfos)
{
    return bind2_tracked(device, "vkBindImageMemory2", count, pInfos, VK_OBJECT_TYPE_IMAGE);
}

static VKAPI_ATTR void VKAPI_CALL
kmt_DestroyBuffer(VkDevice device, VkBuffer buffer, const VkAllocationCallbacks *pAllocator)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    pthread_mutex_lock(&d->lock);
    kmt_untrack_resource(&d->tracker, (uint64_t)buffer);
    pthread_mutex_unlock(&d->lock);
    kmt_object_destroyed(d, VK_OBJECT_TYPE_BUFFER, (uint64_t)buffer);
    d->next.DestroyBuffer(device, buffer, pAllocator);
}

static VKAPI_ATTR void VKAPI_CALL
kmt_DestroyImage(VkDevice device, VkImage image, const VkAllocationCallbacks *pAllocator)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    pthread_mutex_lock(&d->lock);
    kmt_untrack_resource(&d->tracker, (uint64_t)image);
    pthread_mutex_unlock(&d->lock);
    kmt_object_destroyed(d, VK_OBJECT_TYPE_IMAGE, (uint64_t)image);
    d->next.DestroyImage(device, image, pAllocator);
}

static VKAPI_ATTR void VKAPI_CALL
kmt_SetDeviceMemoryPriorityEXT(VkDevice device, VkDeviceMemory memory, float priority)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    /* While the memory is offered the app's wish is remembered for reclaim. */
    pthread_mutex_lock(&d->lock);
    if (kmt_set_app_priority(&d->tracker, (uint64_t)memory, priority))
        d->next.SetDeviceMemoryPriorityEXT(device, memory, priority);
    pthread_mutex_unlock(&d->lock);
}

/* ---- the one list of intercepted device commands ---------------------------------- */

struct named_function {
    const char *name;
    PFN_vkVoidFunction function;
};

#define KMT_FN(name) {"vk" #name, (PFN_vkVoidFunction)kmt_##name}
#define KMT_ALIAS(alias, name) {alias, (PFN_vkVoidFunction)kmt_##name}

static const struct named_function extension_commands[] = {
    KMT_FN(OfferAllocationsKMT),
    KMT_FN(ReclaimAllocationsKMT),
    KMT_FN(GetPagingFenceKMT),
    KMT_FN(GetAllocationStateKMT),
    KMT_FN(GetOfferReclaimStatisticsKMT),
};

static const struct named_function device_hooks[] = {
    KMT_FN(GetDeviceQueue),
    KMT_FN(GetDeviceQueue2),
    KMT_FN(AllocateMemory),
    KMT_FN(FreeMemory),
    KMT_FN(MapMemory),
    KMT_FN(UnmapMemory),
    KMT_FN(BindBufferMemory),
    KMT_FN(BindBufferMemory2),
    KMT_ALIAS("vkBindBufferMemory2KHR", BindBufferMemory2),
    KMT_FN(BindImageMemory),
    KMT_FN(BindImageMemory2),
    KMT_ALIAS("vkBindImageMemory2KHR", BindImageMemory2),
    KMT_FN(DestroyBuffer),
    KMT_FN(DestroyImage),
    KMT_FN(SetDeviceMemoryPriorityEXT),
    KMT_FN(QueueSubmit),
    KMT_FN(QueueSubmit2),
    KMT_ALIAS("vkQueueSubmit2KHR", QueueSubmit2),
    KMT_FN(QueueBindSparse),
    KMT_FN(QueueWaitIdle),
    KMT_FN(QueuePresentKHR),
    KMT_FN(DeviceWaitIdle),
    KMT_FN(WaitForFences),
    KMT_FN(GetFenceStatus),
    KMT_FN(ResetFences),
    KMT_FN(DestroyFence),
    KMT_FN(WaitSemaphores),
    KMT_ALIAS("vkWaitSemaphoresKHR", WaitSemaphores),
    KMT_FN(GetSemaphoreCounterValue),
    KMT_ALIAS("vkGetSemaphoreCounterValueKHR", GetSemaphoreCounterValue),
    KMT_FN(SetDebugUtilsObjectNameEXT),
};

static PFN_vkVoidFunction
find_function(const struct named_function *list, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].name, name) == 0)
            return list[i].function;
    return NULL;
}

PFN_vkVoidFunction
kmt_extension_command(const char *name)
{
    return find_function(extension_commands, sizeof(extension_commands) / sizeof(extension_commands[0]), name);
}

PFN_vkVoidFunction
kmt_device_hook(const char *name)
{
    return find_function(device_hooks, sizeof(device_hooks) / sizeof(device_hooks[0]), name);
}

/* ---- device setup ------------------------------------------------------------------------ */

static void
complain_setting(void *ctx, const char *name, const char *text)
{
    struct kmt_device *d = ctx;
    (void)name;
    kmt_log_defer(&d->startup_log, &d->instance->logger, KMT_LOG_WARNING, "KMT-bad-setting", VK_OBJECT_TYPE_DEVICE,
                  (uint64_t)(uintptr_t)d->handle, "%s", text);
}

VkResult
kmt_device_setup(struct kmt_device *d, const VkDeviceCreateInfo *app_info)
{
    (void)app_info;
    kmt_settings_load(&d->settings, kmt_layer_option, complain_setting, d);
    d->instance->next.GetPhysicalDeviceMemoryProperties(d->physical->handle, &d->memory_properties);

    kmt_policy_init(&d->policy, &d->settings);
    struct kmt_tracker_config config = {
        .pageable = d->pageable && d->next.SetDeviceMemoryPriorityEXT != NULL,
        .offered_priority = d->settings.offered_priority,
        .on_offered = kmt_policy_on_offered,
        .on_offered_ctx = &d->policy,
    };
    struct kmt_tracker_ops ops = {
        .ctx = d, .set_priority = driver_set_priority, .fill = fill_discarded, .transition = kmt_events_setup(d)};
    if (!kmt_tracker_init(&d->tracker, &config, &ops, d->pallocator))
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    VkResult result = kmt_paging_setup(d);
    if (result != VK_SUCCESS) {
        kmt_paging_teardown(d);
        kmt_tracker_finish(&d->tracker);
        return result;
    }
    refresh_budgets(d);
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
    kmt_paging_teardown(d);
    kmt_tracker_finish(&d->tracker);
}

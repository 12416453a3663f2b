/* SPDX-License-Identifier: MIT */
/*
 * memory_hooks.c -- the VkDeviceMemory commands of a device that enabled the
 * extension: allocate and free (the app gets the layer's own handle, the
 * driver keeps its own: handles.h), map and unmap (also vkMapMemory2 /
 * vkUnmapMemory2 and their KHR aliases), flush/invalidate, commitment,
 * opaque capture address, priorities, fd export.
 *
 * Every handle is translated before the call goes down (rules in hooks.h);
 * a handle that is not live never reaches the driver. Mapping memory that
 * is not RESIDENT fails with VK_ERROR_MEMORY_MAP_FAILED and a message; a
 * decommitted allocation answers queries (commitment 0) and can be freed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "hooks.h"
#include "names.h"
#include "paging.h"

/* ---- allocate and free ------------------------------------------------------- */

static void
read_allocate_chain(const VkMemoryAllocateInfo *info, float *priority, bool *dedicated)
{
    /* The app's own priority, which reclaim restores; 0.5 is Vulkan's default. */
    *priority = 0.5f;
    *dedicated = false;
    for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
        if (s->sType == VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT)
            *priority = ((const VkMemoryPriorityAllocateInfoEXT *)s)->priority;
        if (s->sType == VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO) {
            const VkMemoryDedicatedAllocateInfo *dedicated_info = (const VkMemoryDedicatedAllocateInfo *)s;
            *dedicated = dedicated_info->image != VK_NULL_HANDLE || dedicated_info->buffer != VK_NULL_HANDLE;
        }
    }
}

static bool
type_is_host_visible(const struct kmt_device *d, uint32_t type_index)
{
    return type_index < d->memory_properties.memoryTypeCount &&
           (d->memory_properties.memoryTypes[type_index].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_AllocateMemory(VkDevice device, const VkMemoryAllocateInfo *pInfo, const VkAllocationCallbacks *pAllocator,
                   VkDeviceMemory *pMemory)
{
    struct kmt_device *d = kmt_hooked_device(device);
    VkDeviceMemory driver = VK_NULL_HANDLE;
    VkResult result = d->next.AllocateMemory(device, pInfo, pAllocator, &driver);
    if (result != VK_SUCCESS)
        return result;
    float priority;
    bool dedicated;
    read_allocate_chain(pInfo, &priority, &dedicated);
    uint32_t flags = (type_is_host_visible(d, pInfo->memoryTypeIndex) ? KMT_TRACK_HOST_VISIBLE : 0) |
                     (dedicated ? KMT_TRACK_DEDICATED : 0);
    /* The fast path (DISCARD=never, no listener: no heap accounting): the
     * slot table is lock-free, so an allocation takes no device lock. */
    if (!d->tracker.config.accounting && !pAllocator) {
        uint64_t handle = kmt_track_memory(&d->tracker, (uint64_t)driver, pInfo->allocationSize,
                                           pInfo->memoryTypeIndex, flags, priority);
        if (!handle) {
            d->next.FreeMemory(device, driver, pAllocator);
            return VK_ERROR_OUT_OF_HOST_MEMORY;
        }
        *pMemory = (VkDeviceMemory)handle;
        return VK_SUCCESS;
    }
    /* A decommit frees the driver's memory with the callbacks it was made with. */
    VkAllocationCallbacks *callbacks = NULL;
    if (pAllocator) {
        callbacks = kmt_alloc(d->pallocator, sizeof(*callbacks), VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
        if (!callbacks) {
            d->next.FreeMemory(device, driver, pAllocator);
            return VK_ERROR_OUT_OF_HOST_MEMORY;
        }
        *callbacks = *pAllocator;
    }
    flags |= callbacks ? KMT_TRACK_APP_ALLOCATOR : 0;

    kmt_refresh_budgets(d);
    pthread_mutex_lock(&d->lock);
    uint64_t handle =
        kmt_track_memory(&d->tracker, (uint64_t)driver, pInfo->allocationSize, pInfo->memoryTypeIndex, flags, priority);
    if (handle && callbacks && !kmt_map_put(&d->memory_allocators, handle, callbacks)) {
        uint64_t ignored;
        kmt_untrack_memory(&d->tracker, handle, &ignored);
        handle = 0;
    }
    if (handle) {
        kmt_promote_locked(d);
        kmt_relieve_locked(d); /* usage grew: the pressure policy may act */
    }
    pthread_mutex_unlock(&d->lock);
    kmt_events_flush(d); /* the pressure policy may have discarded something */
    if (!handle) {
        kmt_free(d->pallocator, callbacks);
        d->next.FreeMemory(device, driver, pAllocator);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    *pMemory = (VkDeviceMemory)handle;
    return VK_SUCCESS;
}

/* Waits, without the lock, until no GPU fill of the layer's still writes the
 * driver's memory (VUID-vkFreeMemory-memory-00677). */
static void
wait_for_fill(struct kmt_device *d, uint64_t fill)
{
    VkSemaphoreWaitInfo wait = {
        .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
        .semaphoreCount = 1,
        .pSemaphores = &d->paging,
        .pValues = &fill,
    };
    kmt_note_result(d, d->next.WaitSemaphores(d->handle, &wait, UINT64_MAX));
    pthread_mutex_lock(&d->lock);
    kmt_reap_fills(d, fill);
    pthread_mutex_unlock(&d->lock);
}

VKAPI_ATTR void VKAPI_CALL
kmt_FreeMemory(VkDevice device, VkDeviceMemory memory, const VkAllocationCallbacks *pAllocator)
{
    if (memory == VK_NULL_HANDLE)
        return;
    struct kmt_device *d = kmt_hooked_device(device);
    uint64_t driver = 0, fill = 0;
    VkAllocationCallbacks *callbacks = NULL;
    /* The fast path: resident memory of a device without heap accounting
     * (DISCARD=never: no discard, no decommit, no fill) touches only its own
     * slot, lock-free. The app owns the handle (vkFreeMemory's external
     * sync), so nothing changes its state meanwhile. */
    uint32_t index;
    struct kmt_memory *fast =
        d->tracker.config.accounting ? NULL : kmt_find_memory(&d->tracker, (uint64_t)memory, &index);
    if (fast && fast->status == VK_ALLOCATION_STATUS_RESIDENT_KMT && !(fast->bits & KMT_MEM_APP_ALLOCATOR)) {
        driver = fast->driver;
        kmt_slots_release(&d->tracker.slots, index); /* resident, not accounted: nothing else to undo */
        d->next.FreeMemory(device, (VkDeviceMemory)driver, pAllocator);
        kmt_object_destroyed(d, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)memory);
        return;
    }
    pthread_mutex_lock(&d->lock);
    struct kmt_memory *m = kmt_find_memory(&d->tracker, (uint64_t)memory, NULL);
    if (m && (m->bits & KMT_MEM_APP_ALLOCATOR))
        callbacks = kmt_map_remove(&d->memory_allocators, (uint64_t)memory);
    bool live = m && kmt_untrack_memory(&d->tracker, (uint64_t)memory, &driver);
    if (driver && d->fill_jobs)
        fill = kmt_pending_fill_value(d, driver);
    pthread_mutex_unlock(&d->lock);
    kmt_free(d->pallocator, callbacks);
    if (!live) {
        kmt_translate_memory(d, "vkFreeMemory", "memory", (uint64_t)memory); /* reports it */
        return;
    }
    if (fill)
        wait_for_fill(d, fill);
    /* Decommitted memory has nothing left below: only the record goes. */
    if (driver)
        d->next.FreeMemory(device, (VkDeviceMemory)driver, pAllocator);
    kmt_object_destroyed(d, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)memory);
}

/* ---- map and unmap ----------------------------------------------------------- */

static const char *
status_name(uint8_t status)
{
    switch (status) {
    case VK_ALLOCATION_STATUS_OFFER_PENDING_KMT: return "offered (pending)";
    case VK_ALLOCATION_STATUS_OFFERED_KMT: return "offered";
    case VK_ALLOCATION_STATUS_DISCARDED_KMT: return "offered and discarded";
    case VK_ALLOCATION_STATUS_DECOMMITTED_KMT: return "decommitted";
    case VK_ALLOCATION_STATUS_EVICTED_KMT: return "evicted";
    default: return "resident";
    }
}

/* Marks memory mapped before the driver maps it, so that a concurrent offer
 * sees it; returns the driver's handle, or 0 (reported) when the memory is
 * unknown or not RESIDENT. */
static uint64_t
begin_map(struct kmt_device *d, const char *command, uint64_t memory)
{
    pthread_mutex_lock(&d->lock);
    struct kmt_memory *m = kmt_find_memory(&d->tracker, memory, NULL);
    uint8_t status = m ? m->status : VK_ALLOCATION_STATUS_RESIDENT_KMT;
    uint64_t driver = m && status == VK_ALLOCATION_STATUS_RESIDENT_KMT ? m->driver : 0;
    if (driver)
        m->bits |= KMT_MEM_MAPPED;
    pthread_mutex_unlock(&d->lock);
    if (!m)
        kmt_translate_memory(d, command, "memory", memory); /* reports it */
    else if (!driver)
        kmt_log(&d->instance->logger, KMT_LOG_ERROR, "KMT-map-not-resident", VK_OBJECT_TYPE_DEVICE_MEMORY, memory,
                "%s: memory (0x%" PRIx64 ") is %s; %s it before mapping it.", command, memory,
                status_name(status), status == VK_ALLOCATION_STATUS_EVICTED_KMT ? "make resident" : "reclaim");
    return driver;
}

/* The map flag goes once the driver unmapped (or failed to map). */
static void
end_map(struct kmt_device *d, uint64_t memory)
{
    pthread_mutex_lock(&d->lock);
    struct kmt_memory *m = kmt_find_memory(&d->tracker, memory, NULL);
    if (m)
        m->bits &= (uint8_t)~KMT_MEM_MAPPED;
    pthread_mutex_unlock(&d->lock);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_MapMemory(VkDevice device, VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size, VkMemoryMapFlags flags,
              void **ppData)
{
    struct kmt_device *d = kmt_hooked_device(device);
    uint64_t driver = begin_map(d, "vkMapMemory", (uint64_t)memory);
    if (!driver)
        return VK_ERROR_MEMORY_MAP_FAILED;
    VkResult result = d->next.MapMemory(device, (VkDeviceMemory)driver, offset, size, flags, ppData);
    if (result != VK_SUCCESS)
        end_map(d, (uint64_t)memory);
    return result;
}

VKAPI_ATTR void VKAPI_CALL
kmt_UnmapMemory(VkDevice device, VkDeviceMemory memory)
{
    struct kmt_device *d = kmt_hooked_device(device);
    uint64_t driver = kmt_translate_memory(d, "vkUnmapMemory", "memory", (uint64_t)memory);
    if (!driver)
        return;
    d->next.UnmapMemory(device, (VkDeviceMemory)driver);
    end_map(d, (uint64_t)memory);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_MapMemory2(VkDevice device, const VkMemoryMapInfo *pInfo, void **ppData)
{
    struct kmt_device *d = kmt_hooked_device(device);
    uint64_t driver = begin_map(d, "vkMapMemory2", (uint64_t)pInfo->memory);
    if (!driver)
        return VK_ERROR_MEMORY_MAP_FAILED;
    VkMemoryMapInfo info = *pInfo;
    info.memory = (VkDeviceMemory)driver;
    VkResult result = d->next.MapMemory2(device, &info, ppData);
    if (result != VK_SUCCESS)
        end_map(d, (uint64_t)pInfo->memory);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_UnmapMemory2(VkDevice device, const VkMemoryUnmapInfo *pInfo)
{
    struct kmt_device *d = kmt_hooked_device(device);
    uint64_t driver = kmt_translate_memory(d, "vkUnmapMemory2", "pMemoryUnmapInfo->memory", (uint64_t)pInfo->memory);
    if (!driver)
        return VK_ERROR_VALIDATION_FAILED_EXT;
    VkMemoryUnmapInfo info = *pInfo;
    info.memory = (VkDeviceMemory)driver;
    VkResult result = d->next.UnmapMemory2(device, &info);
    if (result == VK_SUCCESS)
        end_map(d, (uint64_t)pInfo->memory);
    return result;
}

/* ---- flush and invalidate ---------------------------------------------------- */

#define KMT_RANGES_ON_STACK 16

typedef VkResult(VKAPI_PTR *ranges_fn)(VkDevice, uint32_t, const VkMappedMemoryRange *);

/* Copies the ranges with the driver's handles, then calls down. */
static VkResult
call_with_ranges(struct kmt_device *d, const char *command, ranges_fn next, uint32_t count,
                 const VkMappedMemoryRange *ranges)
{
    VkMappedMemoryRange stack[KMT_RANGES_ON_STACK];
    VkMappedMemoryRange *copy = count <= KMT_RANGES_ON_STACK
                                    ? stack
                                    : kmt_alloc(d->pallocator, (size_t)count * sizeof(*copy),
                                                VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
    if (!copy)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    VkResult result = VK_SUCCESS;
    for (uint32_t i = 0; i < count && result == VK_SUCCESS; i++) {
        char what[48];
        snprintf(what, sizeof(what), "pMemoryRanges[%u].memory", i);
        copy[i] = ranges[i];
        copy[i].memory = (VkDeviceMemory)kmt_translate_memory(d, command, what, (uint64_t)ranges[i].memory);
        if (!copy[i].memory)
            result = VK_ERROR_VALIDATION_FAILED_EXT;
    }
    if (result == VK_SUCCESS)
        result = next(d->handle, count, copy);
    if (copy != stack)
        kmt_free(d->pallocator, copy);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_FlushMappedMemoryRanges(VkDevice device, uint32_t count, const VkMappedMemoryRange *pRanges)
{
    struct kmt_device *d = kmt_hooked_device(device);
    return call_with_ranges(d, "vkFlushMappedMemoryRanges", d->next.FlushMappedMemoryRanges, count, pRanges);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_InvalidateMappedMemoryRanges(VkDevice device, uint32_t count, const VkMappedMemoryRange *pRanges)
{
    struct kmt_device *d = kmt_hooked_device(device);
    return call_with_ranges(d, "vkInvalidateMappedMemoryRanges", d->next.InvalidateMappedMemoryRanges, count,
                            pRanges);
}

/* ---- queries, priorities, export --------------------------------------------- */

VKAPI_ATTR void VKAPI_CALL
kmt_GetDeviceMemoryCommitment(VkDevice device, VkDeviceMemory memory, VkDeviceSize *pCommitted)
{
    struct kmt_device *d = kmt_hooked_device(device);
    struct kmt_memory *m = kmt_find_memory(&d->tracker, (uint64_t)memory, NULL);
    uint64_t driver = m ? __atomic_load_n(&m->driver, __ATOMIC_RELAXED) : 0;
    *pCommitted = 0; /* a decommitted allocation has nothing committed */
    if (driver)
        d->next.GetDeviceMemoryCommitment(device, (VkDeviceMemory)driver, pCommitted);
    else if (!m)
        kmt_translate_memory(d, "vkGetDeviceMemoryCommitment", "memory", (uint64_t)memory); /* reports it */
}

VKAPI_ATTR uint64_t VKAPI_CALL
kmt_GetDeviceMemoryOpaqueCaptureAddress(VkDevice device, const VkDeviceMemoryOpaqueCaptureAddressInfo *pInfo)
{
    struct kmt_device *d = kmt_hooked_device(device);
    VkDeviceMemoryOpaqueCaptureAddressInfo info = *pInfo;
    info.memory = (VkDeviceMemory)kmt_translate_memory(d, "vkGetDeviceMemoryOpaqueCaptureAddress", "pInfo->memory",
                                                       (uint64_t)pInfo->memory);
    return info.memory ? d->next.GetDeviceMemoryOpaqueCaptureAddress(device, &info) : 0;
}

VKAPI_ATTR void VKAPI_CALL
kmt_SetDeviceMemoryPriorityEXT(VkDevice device, VkDeviceMemory memory, float priority)
{
    struct kmt_device *d = kmt_hooked_device(device);
    /* While the memory is offered the app's wish is remembered for reclaim. */
    pthread_mutex_lock(&d->lock);
    bool live = kmt_find_memory(&d->tracker, (uint64_t)memory, NULL) != NULL;
    uint64_t driver = kmt_set_app_priority(&d->tracker, (uint64_t)memory, priority);
    if (driver)
        d->next.SetDeviceMemoryPriorityEXT(device, (VkDeviceMemory)driver, priority);
    pthread_mutex_unlock(&d->lock);
    if (!live)
        kmt_translate_memory(d, "vkSetDeviceMemoryPriorityEXT", "memory", (uint64_t)memory); /* reports it */
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetMemoryFdKHR(VkDevice device, const VkMemoryGetFdInfoKHR *pInfo, int *pFd)
{
    struct kmt_device *d = kmt_hooked_device(device);
    VkMemoryGetFdInfoKHR info = *pInfo;
    info.memory =
        (VkDeviceMemory)kmt_translate_memory(d, "vkGetMemoryFdKHR", "pGetFdInfo->memory", (uint64_t)pInfo->memory);
    return info.memory ? d->next.GetMemoryFdKHR(device, &info, pFd) : VK_ERROR_VALIDATION_FAILED_EXT;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetMemoryRemoteAddressNV(VkDevice device, const VkMemoryGetRemoteAddressInfoNV *pInfo,
                             VkRemoteAddressNV *pAddress)
{
    struct kmt_device *d = kmt_hooked_device(device);
    VkMemoryGetRemoteAddressInfoNV info = *pInfo;
    info.memory = (VkDeviceMemory)kmt_translate_memory(d, "vkGetMemoryRemoteAddressNV",
                                                       "pMemoryGetRemoteAddressInfo->memory", (uint64_t)pInfo->memory);
    return info.memory ? d->next.GetMemoryRemoteAddressNV(device, &info, pAddress) : VK_ERROR_VALIDATION_FAILED_EXT;
}

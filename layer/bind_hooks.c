/* SPDX-License-Identifier: MIT */
/*
 * bind_hooks.c -- the commands that bind memory (buffers, images, sparse,
 * video sessions, NV acceleration structures) and destroy bound resources,
 * on a device that enabled the extension.
 *
 * Each element's memory is translated to the driver's handle (hooks.h). For
 * buffers and images the layer also remembers what is bound where (resource
 * offers act on the memory behind a resource): binding decommitted memory is
 * refused (it can only be freed), binding offered memory is reported and
 * allowed (the app must reclaim before the GPU uses it), and room for the
 * records is set aside before the driver binds, so that a bind is never half
 * done (bindings.c).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "names.h"
#include "paging.h"

/* ---- translating arrays of structures ------------------------------------------ */

#define KMT_ITEMS_ON_STACK 16

/* A copy of `count` structures of `stride` bytes whose VkDeviceMemory member
 * at `member` holds the driver's handle (VK_NULL_HANDLE stays: binds may
 * name none). NULL with *result set when a handle is not live (reported as
 * "<command>: <array>[i].memory ...") or out of host memory. Free with
 * free_copy. */
static void *
translated_copy(struct kmt_device *d, const char *command, const char *array, uint32_t count, const void *src,
                size_t stride, size_t member, void *stack, size_t stack_size, VkResult *result)
{
    size_t bytes = (size_t)count * stride;
    void *copy = bytes <= stack_size ? stack : kmt_alloc(d->pallocator, bytes, VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
    if (!copy) {
        *result = VK_ERROR_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    if (bytes)
        memcpy(copy, src, bytes);
    for (uint32_t i = 0; i < count; i++) {
        VkDeviceMemory *memory = (VkDeviceMemory *)((char *)copy + i * stride + member);
        if (*memory == VK_NULL_HANDLE)
            continue;
        char what[64];
        snprintf(what, sizeof(what), "%s[%u].memory", array, i);
        *memory = (VkDeviceMemory)kmt_translate_memory(d, command, what, (uint64_t)*memory);
        if (*memory == VK_NULL_HANDLE) {
            if (copy != stack)
                kmt_free(d->pallocator, copy);
            *result = VK_ERROR_VALIDATION_FAILED_EXT;
            return NULL;
        }
    }
    *result = VK_SUCCESS;
    return copy;
}

static void
free_copy(struct kmt_device *d, void *copy, void *stack)
{
    if (copy != stack)
        kmt_free(d->pallocator, copy);
}

/* ---- buffers and images ---------------------------------------------------------- */

struct bind_item {
    uint64_t resource, memory; /* memory: the app's handle (0: none) */
    uint32_t object_type;
};

/* Checks one element under the lock: its driver handle in *driver, false
 * when the bind must not reach the driver. Keeps the first message. */
static bool
check_bind_locked(struct kmt_device *d, const char *command, uint32_t index, const struct bind_item *item,
                  uint64_t *driver, struct kmt_pending_message *message)
{
    *driver = 0;
    if (!item->memory)
        return true;
    struct kmt_memory *m = kmt_find_memory(&d->tracker, item->memory, NULL);
    /* Binding is no GPU use: evicted memory may be bound (D3D12 places
     * resources in evicted heaps too); it is made resident before use. */
    if (m && (m->status == VK_ALLOCATION_STATUS_RESIDENT_KMT || m->status == VK_ALLOCATION_STATUS_EVICTED_KMT)) {
        *driver = m->driver;
        return true;
    }
    bool refuse = !m || m->status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT;
    if (!message->id) {
        message->level = refuse ? KMT_LOG_ERROR : KMT_LOG_WARNING;
        message->id = !m ? "KMT-unknown-memory" : refuse ? "KMT-bind-decommitted" : "KMT-bind-offered";
        message->object_type = VK_OBJECT_TYPE_DEVICE_MEMORY;
        message->object = item->memory;
        snprintf(message->text, sizeof(message->text), "%s: element %u binds memory (0x%" PRIx64 ") that %s",
                 command, index, item->memory,
                 !m ? "is not a live VkDeviceMemory of this device (never allocated here, already freed, or another "
                      "device's); nothing was bound."
                 : refuse ? "was decommitted; it can only be freed."
                          : "is offered; reclaim it before the GPU uses it.");
    }
    if (!refuse)
        *driver = m->driver;
    return !refuse;
}

typedef VkResult (*bind_call)(struct kmt_device *d, const void *args, const uint64_t *drivers);

/* The shared body of the four bind hooks: check every element, set room
 * aside, call down with the driver's handles, then remember what is bound
 * where. */
static VkResult
bind_tracked(struct kmt_device *d, const char *command, uint32_t count, const struct bind_item *items,
             bind_call call_down, const void *args)
{
    uint64_t stack[KMT_ITEMS_ON_STACK];
    uint64_t *drivers = count <= KMT_ITEMS_ON_STACK ? stack
                                                    : kmt_alloc(d->pallocator, (size_t)count * sizeof(*drivers),
                                                                VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
    if (!drivers)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    struct kmt_pending_message message; /* filled only when there is something to say */
    message.id = NULL;
    bool allowed = true;
    pthread_mutex_lock(&d->lock);
    for (uint32_t i = 0; i < count; i++)
        allowed &= check_bind_locked(d, command, i, &items[i], &drivers[i], &message);
    bool room = allowed && kmt_reserve_bindings(&d->tracker, count);
    pthread_mutex_unlock(&d->lock);
    kmt_emit(d, &message);
    VkResult result = !allowed ? VK_ERROR_VALIDATION_FAILED_EXT
                      : !room  ? VK_ERROR_OUT_OF_HOST_MEMORY /* before the driver binds anything */
                               : call_down(d, args, drivers);
    if (allowed && room) {
        pthread_mutex_lock(&d->lock);
        if (result == VK_SUCCESS)
            for (uint32_t i = 0; i < count; i++)
                kmt_track_binding(&d->tracker, items[i].object_type, items[i].resource, items[i].memory);
        else
            kmt_unreserve_bindings(&d->tracker, count);
        pthread_mutex_unlock(&d->lock);
    }
    if (drivers != stack)
        kmt_free(d->pallocator, drivers);
    return result;
}

struct bind_args {
    VkDevice device;
    uint64_t object;
    VkDeviceSize offset;
    uint32_t count;
    const void *infos;
};

static VkResult
call_bind_buffer(struct kmt_device *d, const void *p, const uint64_t *drivers)
{
    const struct bind_args *a = p;
    return d->next.BindBufferMemory(a->device, (VkBuffer)a->object, (VkDeviceMemory)drivers[0], a->offset);
}

static VkResult
call_bind_image(struct kmt_device *d, const void *p, const uint64_t *drivers)
{
    const struct bind_args *a = p;
    return d->next.BindImageMemory(a->device, (VkImage)a->object, (VkDeviceMemory)drivers[0], a->offset);
}

/* vkBind{Buffer,Image}Memory2: a copy of the infos with the driver's handles. */
static VkResult
call_bind2(struct kmt_device *d, const void *p, const uint64_t *drivers, bool buffers)
{
    const struct bind_args *a = p;
    size_t stride = buffers ? sizeof(VkBindBufferMemoryInfo) : sizeof(VkBindImageMemoryInfo);
    size_t member = buffers ? offsetof(VkBindBufferMemoryInfo, memory) : offsetof(VkBindImageMemoryInfo, memory);
    VkBindImageMemoryInfo stack[KMT_ITEMS_ON_STACK];
    size_t bytes = (size_t)a->count * stride;
    char *copy = bytes <= sizeof(stack) ? (char *)stack
                                        : kmt_alloc(d->pallocator, bytes, VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
    if (!copy)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    memcpy(copy, a->infos, bytes);
    for (uint32_t i = 0; i < a->count; i++)
        *(VkDeviceMemory *)(copy + i * stride + member) = (VkDeviceMemory)drivers[i];
    VkResult result = buffers ? d->next.BindBufferMemory2(a->device, a->count, (const VkBindBufferMemoryInfo *)copy)
                              : d->next.BindImageMemory2(a->device, a->count, (const VkBindImageMemoryInfo *)copy);
    free_copy(d, copy, stack);
    return result;
}

static VkResult
call_bind_buffer2(struct kmt_device *d, const void *p, const uint64_t *drivers)
{
    return call_bind2(d, p, drivers, true);
}

static VkResult
call_bind_image2(struct kmt_device *d, const void *p, const uint64_t *drivers)
{
    return call_bind2(d, p, drivers, false);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_BindBufferMemory(VkDevice device, VkBuffer buffer, VkDeviceMemory memory, VkDeviceSize offset)
{
    struct kmt_device *d = kmt_hooked_device(device);
    struct bind_item item = {(uint64_t)buffer, (uint64_t)memory, VK_OBJECT_TYPE_BUFFER};
    struct bind_args args = {device, (uint64_t)buffer, offset, 1, NULL};
    /* vkBindBufferMemory names no NULL memory: a 0 is reported as unknown. */
    if (!memory)
        item.memory = ~(uint64_t)0;
    return bind_tracked(d, "vkBindBufferMemory", 1, &item, call_bind_buffer, &args);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_BindImageMemory(VkDevice device, VkImage image, VkDeviceMemory memory, VkDeviceSize offset)
{
    struct kmt_device *d = kmt_hooked_device(device);
    struct bind_item item = {(uint64_t)image, (uint64_t)memory, VK_OBJECT_TYPE_IMAGE};
    struct bind_args args = {device, (uint64_t)image, offset, 1, NULL};
    if (!memory)
        item.memory = ~(uint64_t)0;
    return bind_tracked(d, "vkBindImageMemory", 1, &item, call_bind_image, &args);
}

/* vkBind{Buffer,Image}Memory2: the infos differ only in the resource member.
 * An image info may name no memory (VkBindImageMemorySwapchainInfoKHR). */
static VkResult
bind2_tracked(VkDevice device, const char *command, uint32_t count, const void *infos, uint32_t object_type)
{
    struct kmt_device *d = kmt_hooked_device(device);
    struct bind_item stack[KMT_ITEMS_ON_STACK];
    struct bind_item *items = count <= KMT_ITEMS_ON_STACK ? stack
                                                          : kmt_alloc(d->pallocator, count * sizeof(*items),
                                                                      VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
    if (!items)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    for (uint32_t i = 0; i < count; i++) {
        if (object_type == VK_OBJECT_TYPE_BUFFER) {
            const VkBindBufferMemoryInfo *info = (const VkBindBufferMemoryInfo *)infos + i;
            items[i] = (struct bind_item){(uint64_t)info->buffer, (uint64_t)info->memory, object_type};
            if (!info->memory)
                items[i].memory = ~(uint64_t)0;
        } else {
            const VkBindImageMemoryInfo *info = (const VkBindImageMemoryInfo *)infos + i;
            items[i] = (struct bind_item){(uint64_t)info->image, (uint64_t)info->memory, object_type};
        }
    }
    struct bind_args args = {device, 0, 0, count, infos};
    VkResult result = bind_tracked(d, command, count, items,
                                   object_type == VK_OBJECT_TYPE_BUFFER ? call_bind_buffer2 : call_bind_image2, &args);
    free_copy(d, items, stack);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_BindBufferMemory2(VkDevice device, uint32_t count, const VkBindBufferMemoryInfo *pInfos)
{
    return bind2_tracked(device, "vkBindBufferMemory2", count, pInfos, VK_OBJECT_TYPE_BUFFER);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_BindImageMemory2(VkDevice device, uint32_t count, const VkBindImageMemoryInfo *pInfos)
{
    return bind2_tracked(device, "vkBindImageMemory2", count, pInfos, VK_OBJECT_TYPE_IMAGE);
}

VKAPI_ATTR void VKAPI_CALL
kmt_DestroyBuffer(VkDevice device, VkBuffer buffer, const VkAllocationCallbacks *pAllocator)
{
    struct kmt_device *d = kmt_hooked_device(device);
    pthread_mutex_lock(&d->lock);
    kmt_untrack_resource(&d->tracker, (uint64_t)buffer);
    pthread_mutex_unlock(&d->lock);
    d->next.DestroyBuffer(device, buffer, pAllocator);
    kmt_object_destroyed(d, VK_OBJECT_TYPE_BUFFER, (uint64_t)buffer);
}

VKAPI_ATTR void VKAPI_CALL
kmt_DestroyImage(VkDevice device, VkImage image, const VkAllocationCallbacks *pAllocator)
{
    struct kmt_device *d = kmt_hooked_device(device);
    pthread_mutex_lock(&d->lock);
    kmt_untrack_resource(&d->tracker, (uint64_t)image);
    pthread_mutex_unlock(&d->lock);
    d->next.DestroyImage(device, image, pAllocator);
    kmt_object_destroyed(d, VK_OBJECT_TYPE_IMAGE, (uint64_t)image);
}

/* ---- sparse binds ------------------------------------------------------------------ */

/* Sizes of the arrays a deep copy of the bind infos needs. */
struct sparse_counts {
    size_t buffer_infos, opaque_infos, image_infos, memory_binds, image_binds;
};

static struct sparse_counts
count_sparse(uint32_t count, const VkBindSparseInfo *infos)
{
    struct sparse_counts c = {0};
    for (uint32_t i = 0; i < count; i++) {
        c.buffer_infos += infos[i].bufferBindCount;
        c.opaque_infos += infos[i].imageOpaqueBindCount;
        c.image_infos += infos[i].imageBindCount;
        for (uint32_t j = 0; j < infos[i].bufferBindCount; j++)
            c.memory_binds += infos[i].pBufferBinds[j].bindCount;
        for (uint32_t j = 0; j < infos[i].imageOpaqueBindCount; j++)
            c.memory_binds += infos[i].pImageOpaqueBinds[j].bindCount;
        for (uint32_t j = 0; j < infos[i].imageBindCount; j++)
            c.image_binds += infos[i].pImageBinds[j].bindCount;
    }
    return c;
}

/* Translates one sparse bind's memory (VK_NULL_HANDLE unbinds: kept). */
static bool
translate_sparse(struct kmt_device *d, VkDeviceMemory *memory, const char *kind, uint32_t info, uint32_t array,
                 uint32_t bind)
{
    if (*memory == VK_NULL_HANDLE)
        return true;
    char what[96];
    snprintf(what, sizeof(what), "pBindInfo[%u].%s[%u].pBinds[%u].memory", info, kind, array, bind);
    *memory = (VkDeviceMemory)kmt_translate_memory(d, "vkQueueBindSparse", what, (uint64_t)*memory);
    return *memory != VK_NULL_HANDLE;
}

/* Deep copy of the infos with the driver's handles, in one allocation. */
static VkBindSparseInfo *
copy_sparse(struct kmt_device *d, uint32_t count, const VkBindSparseInfo *src, VkResult *result)
{
    struct sparse_counts c = count_sparse(count, src);
    size_t bytes = count * sizeof(VkBindSparseInfo) + c.buffer_infos * sizeof(VkSparseBufferMemoryBindInfo) +
                   c.opaque_infos * sizeof(VkSparseImageOpaqueMemoryBindInfo) +
                   c.image_infos * sizeof(VkSparseImageMemoryBindInfo) + c.memory_binds * sizeof(VkSparseMemoryBind) +
                   c.image_binds * sizeof(VkSparseImageMemoryBind);
    char *block = kmt_alloc(d->pallocator, bytes ? bytes : 1, VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
    if (!block) {
        *result = VK_ERROR_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    VkBindSparseInfo *infos = (VkBindSparseInfo *)block;
    VkSparseBufferMemoryBindInfo *buffers = (VkSparseBufferMemoryBindInfo *)(infos + count);
    VkSparseImageOpaqueMemoryBindInfo *opaques = (VkSparseImageOpaqueMemoryBindInfo *)(buffers + c.buffer_infos);
    VkSparseImageMemoryBindInfo *images = (VkSparseImageMemoryBindInfo *)(opaques + c.opaque_infos);
    VkSparseMemoryBind *memory_binds = (VkSparseMemoryBind *)(images + c.image_infos);
    VkSparseImageMemoryBind *image_binds = (VkSparseImageMemoryBind *)(memory_binds + c.memory_binds);
    bool ok = true;
    for (uint32_t i = 0; i < count && ok; i++) {
        infos[i] = src[i];
        infos[i].pBufferBinds = buffers;
        for (uint32_t j = 0; j < src[i].bufferBindCount && ok; j++, buffers++) {
            *buffers = src[i].pBufferBinds[j];
            buffers->pBinds = memory_binds;
            for (uint32_t k = 0; k < buffers->bindCount && ok; k++, memory_binds++) {
                *memory_binds = src[i].pBufferBinds[j].pBinds[k];
                ok = translate_sparse(d, &memory_binds->memory, "pBufferBinds", i, j, k);
            }
        }
        infos[i].pImageOpaqueBinds = opaques;
        for (uint32_t j = 0; j < src[i].imageOpaqueBindCount && ok; j++, opaques++) {
            *opaques = src[i].pImageOpaqueBinds[j];
            opaques->pBinds = memory_binds;
            for (uint32_t k = 0; k < opaques->bindCount && ok; k++, memory_binds++) {
                *memory_binds = src[i].pImageOpaqueBinds[j].pBinds[k];
                ok = translate_sparse(d, &memory_binds->memory, "pImageOpaqueBinds", i, j, k);
            }
        }
        infos[i].pImageBinds = images;
        for (uint32_t j = 0; j < src[i].imageBindCount && ok; j++, images++) {
            *images = src[i].pImageBinds[j];
            images->pBinds = image_binds;
            for (uint32_t k = 0; k < images->bindCount && ok; k++, image_binds++) {
                *image_binds = src[i].pImageBinds[j].pBinds[k];
                ok = translate_sparse(d, &image_binds->memory, "pImageBinds", i, j, k);
            }
        }
    }
    if (!ok) {
        kmt_free(d->pallocator, block);
        *result = VK_ERROR_VALIDATION_FAILED_EXT;
        return NULL;
    }
    *result = VK_SUCCESS;
    return infos;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueueBindSparse(VkQueue queue, uint32_t count, const VkBindSparseInfo *pInfo, VkFence fence)
{
    struct kmt_device *d = kmt_queue_device(queue);
    VkResult result;
    VkBindSparseInfo *infos = copy_sparse(d, count, pInfo, &result);
    if (!infos)
        return result;
    result = kmt_submit_bind_sparse(queue, count, infos, fence);
    kmt_free(d->pallocator, infos);
    return result;
}

/* ---- video sessions and NV acceleration structures ------------------------------- */

VKAPI_ATTR VkResult VKAPI_CALL
kmt_BindVideoSessionMemoryKHR(VkDevice device, VkVideoSessionKHR session, uint32_t count,
                              const VkBindVideoSessionMemoryInfoKHR *pInfos)
{
    struct kmt_device *d = kmt_hooked_device(device);
    VkBindVideoSessionMemoryInfoKHR stack[KMT_ITEMS_ON_STACK];
    VkResult result;
    VkBindVideoSessionMemoryInfoKHR *copy =
        translated_copy(d, "vkBindVideoSessionMemoryKHR", "pBindSessionMemoryInfos", count, pInfos, sizeof(*pInfos),
                        offsetof(VkBindVideoSessionMemoryInfoKHR, memory), stack, sizeof(stack), &result);
    if (!copy)
        return result;
    result = d->next.BindVideoSessionMemoryKHR(device, session, count, copy);
    free_copy(d, copy, stack);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_BindAccelerationStructureMemoryNV(VkDevice device, uint32_t count,
                                      const VkBindAccelerationStructureMemoryInfoNV *pInfos)
{
    struct kmt_device *d = kmt_hooked_device(device);
    VkBindAccelerationStructureMemoryInfoNV stack[KMT_ITEMS_ON_STACK];
    VkResult result;
    VkBindAccelerationStructureMemoryInfoNV *copy =
        translated_copy(d, "vkBindAccelerationStructureMemoryNV", "pBindInfos", count, pInfos, sizeof(*pInfos),
                        offsetof(VkBindAccelerationStructureMemoryInfoNV, memory), stack, sizeof(stack), &result);
    if (!copy)
        return result;
    result = d->next.BindAccelerationStructureMemoryNV(device, count, copy);
    free_copy(d, copy, stack);
    return result;
}

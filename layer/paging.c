/*
 * paging.c -- see paging.h.
 */
#include "paging.h"

#include <stdlib.h>
#include <string.h>

static VkResult
create_timeline(struct kmt_device *d, VkSemaphore *semaphore)
{
    VkSemaphoreTypeCreateInfo type = {
        .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
        .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
        .initialValue = 0,
    };
    VkSemaphoreCreateInfo info = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &type};
    return d->next.CreateSemaphore(d->handle, &info, d->pallocator, semaphore);
}

VkResult
kmt_paging_setup(struct kmt_device *d)
{
    return create_timeline(d, &d->paging);
}

void
kmt_paging_teardown(struct kmt_device *d)
{
    struct kmt_queue *q = d->queues;
    while (q) {
        struct kmt_queue *next = q->next_queue;
        kmt_unregister_queue(q->handle);
        d->next.DestroySemaphore(d->handle, q->tracking, d->pallocator);
        pthread_mutex_destroy(&q->lock);
        kmt_free(d->pallocator, q);
        q = next;
    }
    d->queues = NULL;
    if (d->paging)
        d->next.DestroySemaphore(d->handle, d->paging, d->pallocator);
    d->paging = VK_NULL_HANDLE;
}

uint64_t
kmt_last_serial(struct kmt_device *d)
{
    return atomic_load(&d->submit_serial);
}

uint64_t
kmt_completed_serial(struct kmt_device *d)
{
    uint64_t watermark = UINT64_MAX;
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue) {
        uint64_t last = atomic_load(&q->last_serial);
        uint64_t done = atomic_load(&q->completed);
        if (done >= last)
            continue;
        uint64_t value = 0;
        if (kmt_note_result(d, d->next.GetSemaphoreCounterValue(d->handle, q->tracking, &value)) == VK_SUCCESS &&
            value > done) {
            atomic_store(&q->completed, value);
            done = value;
        }
        if (done < last && done < watermark)
            watermark = done;
    }
    return watermark;
}

uint64_t
kmt_paging_completed(struct kmt_device *d)
{
    uint64_t value = 0;
    kmt_note_result(d, d->next.GetSemaphoreCounterValue(d->handle, d->paging, &value));
    return value;
}

/* ---- queues -------------------------------------------------------------- */

static void
track_queue(struct kmt_device *d, VkQueue handle, uint32_t family, uint32_t index)
{
    if (!handle || kmt_queue_from_handle(handle))
        return;
    struct kmt_queue *q = kmt_alloc(d->pallocator, sizeof(*q), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!q)
        return;
    memset(q, 0, sizeof(*q));
    q->handle = handle;
    q->device = d;
    q->family = family;
    q->index = index;
    pthread_mutex_init(&q->lock, NULL);
    if (create_timeline(d, &q->tracking) != VK_SUCCESS) {
        pthread_mutex_destroy(&q->lock);
        kmt_free(d->pallocator, q);
        return;
    }
    pthread_mutex_lock(&d->lock);
    if (!kmt_register_queue(q)) {
        pthread_mutex_unlock(&d->lock);
        d->next.DestroySemaphore(d->handle, q->tracking, d->pallocator);
        pthread_mutex_destroy(&q->lock);
        kmt_free(d->pallocator, q);
        return;
    }
    q->next_queue = d->queues;
    d->queues = q;
    pthread_mutex_unlock(&d->lock);
}

VKAPI_ATTR void VKAPI_CALL
kmt_GetDeviceQueue(VkDevice device, uint32_t family, uint32_t index, VkQueue *pQueue)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    d->next.GetDeviceQueue(device, family, index, pQueue);
    track_queue(d, *pQueue, family, index);
}

VKAPI_ATTR void VKAPI_CALL
kmt_GetDeviceQueue2(VkDevice device, const VkDeviceQueueInfo2 *pInfo, VkQueue *pQueue)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    d->next.GetDeviceQueue2(device, pInfo, pQueue);
    track_queue(d, *pQueue, pInfo->queueFamilyIndex, pInfo->queueIndex);
}

/* ---- submissions ---------------------------------------------------------- */

/* Room for the app's batches plus ours; small submits stay on the stack. */
#define KMT_STACK_BATCHES 8

static void *
batch_copy(const void *batches, uint32_t count, size_t size, void *stack, VkResult *result)
{
    void *copy = count + 1 <= KMT_STACK_BATCHES ? stack : malloc((count + 1) * size);
    if (!copy) {
        *result = VK_ERROR_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    if (count)
        memcpy(copy, batches, count * size);
    return copy;
}

/* Hands out the next serial under the queue lock; revert_serial undoes it
 * when the driver refused the submission (nothing was queued after it, the
 * lock is still held). */
static uint64_t
next_serial(struct kmt_queue *q, uint64_t *previous)
{
    uint64_t serial = atomic_fetch_add(&q->device->submit_serial, 1) + 1;
    *previous = atomic_load(&q->last_serial);
    atomic_store(&q->last_serial, serial);
    return serial;
}

static VkResult
finish_submit(struct kmt_queue *q, VkResult result, uint64_t previous)
{
    if (result != VK_SUCCESS)
        atomic_store(&q->last_serial, previous);
    pthread_mutex_unlock(&q->lock);
    return kmt_note_result(q->device, result);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueueSubmit(VkQueue queue, uint32_t count, const VkSubmitInfo *pSubmits, VkFence fence)
{
    struct kmt_queue *q = kmt_queue_from_handle(queue);
    VkSubmitInfo stack[KMT_STACK_BATCHES];
    VkResult result = VK_SUCCESS;
    VkSubmitInfo *batches = batch_copy(pSubmits, count, sizeof(*pSubmits), stack, &result);
    if (!batches)
        return result;

    pthread_mutex_lock(&q->lock);
    uint64_t previous, serial = next_serial(q, &previous);
    VkTimelineSemaphoreSubmitInfo values = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
        .signalSemaphoreValueCount = 1,
        .pSignalSemaphoreValues = &serial,
    };
    batches[count] = (VkSubmitInfo){
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .pNext = &values,
        .signalSemaphoreCount = 1,
        .pSignalSemaphores = &q->tracking,
    };
    result = q->device->next.QueueSubmit(queue, count + 1, batches, fence);
    result = finish_submit(q, result, previous);
    if (batches != stack)
        free(batches);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueueSubmit2(VkQueue queue, uint32_t count, const VkSubmitInfo2 *pSubmits, VkFence fence)
{
    struct kmt_queue *q = kmt_queue_from_handle(queue);
    VkSubmitInfo2 stack[KMT_STACK_BATCHES];
    VkResult result = VK_SUCCESS;
    VkSubmitInfo2 *batches = batch_copy(pSubmits, count, sizeof(*pSubmits), stack, &result);
    if (!batches)
        return result;

    pthread_mutex_lock(&q->lock);
    uint64_t previous, serial = next_serial(q, &previous);
    VkSemaphoreSubmitInfo signal = {
        .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO,
        .semaphore = q->tracking,
        .value = serial,
        .stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
    };
    batches[count] = (VkSubmitInfo2){
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2,
        .signalSemaphoreInfoCount = 1,
        .pSignalSemaphoreInfos = &signal,
    };
    result = q->device->next.QueueSubmit2(queue, count + 1, batches, fence);
    result = finish_submit(q, result, previous);
    if (batches != stack)
        free(batches);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueueBindSparse(VkQueue queue, uint32_t count, const VkBindSparseInfo *pInfo, VkFence fence)
{
    struct kmt_queue *q = kmt_queue_from_handle(queue);
    VkBindSparseInfo stack[KMT_STACK_BATCHES];
    VkResult result = VK_SUCCESS;
    VkBindSparseInfo *batches = batch_copy(pInfo, count, sizeof(*pInfo), stack, &result);
    if (!batches)
        return result;

    pthread_mutex_lock(&q->lock);
    uint64_t previous, serial = next_serial(q, &previous);
    VkTimelineSemaphoreSubmitInfo values = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
        .signalSemaphoreValueCount = 1,
        .pSignalSemaphoreValues = &serial,
    };
    batches[count] = (VkBindSparseInfo){
        .sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO,
        .pNext = &values,
        .signalSemaphoreCount = 1,
        .pSignalSemaphores = &q->tracking,
    };
    result = q->device->next.QueueBindSparse(queue, count + 1, batches, fence);
    result = finish_submit(q, result, previous);
    if (batches != stack)
        free(batches);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueuePresentKHR(VkQueue queue, const VkPresentInfoKHR *pInfo)
{
    struct kmt_queue *q = kmt_queue_from_handle(queue);
    pthread_mutex_lock(&q->lock);
    VkResult result = q->device->next.QueuePresentKHR(queue, pInfo);
    pthread_mutex_unlock(&q->lock);
    return kmt_note_result(q->device, result);
}

/* ---- waits: pass through, remembering device loss ---------------------------- */

VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueueWaitIdle(VkQueue queue)
{
    struct kmt_queue *q = kmt_queue_from_handle(queue);
    return kmt_note_result(q->device, q->device->next.QueueWaitIdle(queue));
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_DeviceWaitIdle(VkDevice device)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    return kmt_note_result(d, d->next.DeviceWaitIdle(device));
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_WaitForFences(VkDevice device, uint32_t count, const VkFence *pFences, VkBool32 waitAll, uint64_t timeout)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    return kmt_note_result(d, d->next.WaitForFences(device, count, pFences, waitAll, timeout));
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetFenceStatus(VkDevice device, VkFence fence)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    return kmt_note_result(d, d->next.GetFenceStatus(device, fence));
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_WaitSemaphores(VkDevice device, const VkSemaphoreWaitInfo *pInfo, uint64_t timeout)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    return kmt_note_result(d, d->next.WaitSemaphores(device, pInfo, timeout));
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetSemaphoreCounterValue(VkDevice device, VkSemaphore semaphore, uint64_t *pValue)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    return kmt_note_result(d, d->next.GetSemaphoreCounterValue(device, semaphore, pValue));
}

/* SPDX-License-Identifier: MIT */
/*
 * queue.c -- see queue.h: queue records, submission counting, markers, idle
 * waits and fence waits.
 */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

/* ---- records ----------------------------------------------------------------- */

struct kmt_queue *
kmt_track_queue(struct kmt_device *d, VkQueue handle, uint32_t family, uint32_t index)
{
    struct kmt_queue *q = kmt_queue_from_handle(handle);
    if (q)
        return q; /* asked for twice (the paging queue is also an app queue) */
    q = kmt_alloc(d->pallocator, sizeof(*q), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!q)
        return NULL;
    memset(q, 0, sizeof(*q));
    q->handle = handle;
    q->device = d;
    q->family = family;
    q->index = index;
    pthread_mutex_init(&q->lock, NULL);
    if (!kmt_register_queue(q)) {
        pthread_mutex_destroy(&q->lock);
        kmt_free(d->pallocator, q);
        return NULL;
    }
    q->next_queue = d->queues;
    d->queues = q;
    return q;
}

/* The driver's queue (family, index) of a create info, with the loader's
 * dispatch pointer written into it (the layer fetched it itself). */
static VkQueue
fetch_queue(struct kmt_device *d, const VkDeviceQueueCreateInfo *info, uint32_t index)
{
    VkQueue queue = VK_NULL_HANDLE;
    if (!info->flags) {
        d->next.GetDeviceQueue(d->handle, info->queueFamilyIndex, index, &queue);
    } else if (d->next.GetDeviceQueue2) { /* queues with flags: only vkGetDeviceQueue2 may fetch them */
        VkDeviceQueueInfo2 info2 = {
            .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2,
            .flags = info->flags,
            .queueFamilyIndex = info->queueFamilyIndex,
            .queueIndex = index,
        };
        d->next.GetDeviceQueue2(d->handle, &info2, &queue);
    }
    if (queue && d->set_loader_data)
        d->set_loader_data(d->handle, queue);
    return queue;
}

VkResult
kmt_track_device_queues(struct kmt_device *d, const VkDeviceCreateInfo *app_info)
{
    for (uint32_t i = 0; i < app_info->queueCreateInfoCount; i++) {
        const VkDeviceQueueCreateInfo *info = &app_info->pQueueCreateInfos[i];
        for (uint32_t index = 0; index < info->queueCount; index++) {
            VkQueue queue = fetch_queue(d, info, index);
            if (queue && !kmt_track_queue(d, queue, info->queueFamilyIndex, index))
                return VK_ERROR_OUT_OF_HOST_MEMORY;
        }
    }
    return VK_SUCCESS;
}

/* The markers submitted may still be pending in the driver, even when the
 * app has waited for all of its own work: wait for them before their
 * semaphores go. */
static void
wait_for_markers(struct kmt_device *d)
{
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue) {
        if (!q->tracking || !q->marker_submitted)
            continue;
        VkSemaphoreWaitInfo wait = {
            .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
            .semaphoreCount = 1,
            .pSemaphores = &q->tracking,
            .pValues = &q->marker_submitted,
        };
        kmt_note_result(d, d->next.WaitSemaphores(d->handle, &wait, UINT64_MAX));
    }
}

void
kmt_queues_teardown(struct kmt_device *d)
{
    wait_for_markers(d);
    struct kmt_queue *q = d->queues;
    while (q) {
        struct kmt_queue *next = q->next_queue;
        kmt_unregister_queue(q->handle);
        if (q->tracking)
            d->next.DestroySemaphore(d->handle, q->tracking, d->pallocator);
        pthread_mutex_destroy(&q->lock);
        kmt_free(d->pallocator, q);
        q = next;
    }
    d->queues = NULL;
}

/* Every queue handle the app can get has a record (made at vkCreateDevice). A
 * queue the app's VkDeviceCreateInfo did not ask for -- none at all, or the
 * layer's own paging queue -- is refused: the app gets VK_NULL_HANDLE and a
 * message, not a handle whose hooks would find no record. */
static void
check_tracked(struct kmt_device *d, const char *command, uint32_t family, uint32_t index, VkQueue *pQueue)
{
    if (!*pQueue)
        return;
    const struct kmt_queue *q = kmt_queue_from_handle(*pQueue);
    if (q && !(q == d->paging_queue && d->paging_dedicated))
        return;
    kmt_log(&d->instance->logger, KMT_LOG_ERROR, "KMT-unknown-queue", VK_OBJECT_TYPE_DEVICE,
            (uint64_t)(uintptr_t)d->handle,
            "%s: queue %u of family %u was not requested in this device's VkDeviceCreateInfo; "
            "VK_NULL_HANDLE returned.",
            command, index, family);
    *pQueue = VK_NULL_HANDLE;
}

VKAPI_ATTR void VKAPI_CALL
kmt_GetDeviceQueue(VkDevice device, uint32_t family, uint32_t index, VkQueue *pQueue)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    kmt_log_flush(&d->startup_log, &d->instance->logger);
    d->next.GetDeviceQueue(device, family, index, pQueue);
    check_tracked(d, "vkGetDeviceQueue", family, index, pQueue);
}

VKAPI_ATTR void VKAPI_CALL
kmt_GetDeviceQueue2(VkDevice device, const VkDeviceQueueInfo2 *pInfo, VkQueue *pQueue)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    kmt_log_flush(&d->startup_log, &d->instance->logger);
    d->next.GetDeviceQueue2(device, pInfo, pQueue);
    check_tracked(d, "vkGetDeviceQueue2", pInfo->queueFamilyIndex, pInfo->queueIndex, pQueue);
}

/* ---- markers ------------------------------------------------------------------- */

/* Work up to `upto` submissions is done (a fence wait or an idle wait said so). */
static void
note_done(struct kmt_queue *q, uint64_t upto)
{
    uint64_t done = atomic_load(&q->known_done);
    while (upto > done && !atomic_compare_exchange_weak(&q->known_done, &done, upto)) {
    }
}

/* A queue's last marker still matters while it has not landed and the work
 * before it is not known done otherwise. */
static bool
marker_pending(struct kmt_queue *q)
{
    return atomic_load(&q->completed) < atomic_load(&q->marker_serial) &&
           atomic_load(&q->known_done) < atomic_load(&q->marker_covers);
}

static VkResult
create_timeline(struct kmt_device *d, VkSemaphore *semaphore)
{
    VkSemaphoreTypeCreateInfo type = {
        .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
        .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
    };
    VkSemaphoreCreateInfo info = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &type};
    return d->next.CreateSemaphore(d->handle, &info, d->pallocator, semaphore);
}

/* Makes marker `serial` follow the app's submissions so far: an empty batch
 * signalling the queue's tracking semaphore with it -- or, while an idle wait
 * that covers those submissions holds the queue, owed (that wait proves the
 * same). Serials only grow, so the semaphore's values do too. Caller holds
 * the queue lock and the device lock. */
static VkResult
submit_marker_locked(struct kmt_queue *q, uint64_t serial)
{
    struct kmt_device *d = q->device;
    if (q->idle_waits && q->submissions <= q->wait_covers) {
        atomic_store(&q->marker_covers, q->submissions);
        atomic_store(&q->marker_serial, serial);
        return VK_SUCCESS;
    }
    if (!q->tracking) {
        VkResult made = create_timeline(d, &q->tracking);
        if (made != VK_SUCCESS)
            return made;
    }
    VkTimelineSemaphoreSubmitInfo values = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
        .signalSemaphoreValueCount = 1,
        .pSignalSemaphoreValues = &serial,
    };
    VkSubmitInfo marker = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .pNext = &values,
        .signalSemaphoreCount = 1,
        .pSignalSemaphores = &q->tracking,
    };
    VkResult result = kmt_note_result(d, d->next.QueueSubmit(q->handle, 1, &marker, VK_NULL_HANDLE));
    if (result == VK_SUCCESS) {
        atomic_store(&q->marker_covers, q->submissions);
        atomic_store(&q->marker_serial, serial);
        q->marker_submitted = serial;
    }
    return result;
}

VkResult
kmt_mark_earlier_work(struct kmt_device *d, uint64_t *wait_serial)
{
    /* A queue whose work cannot be followed by a marker would let the offer
     * take effect too early: the offer fails instead (nothing changed yet). */
    VkResult result = VK_SUCCESS;
    for (struct kmt_queue *q = d->queues; q && result == VK_SUCCESS; q = q->next_queue) {
        pthread_mutex_lock(&q->lock);
        if (q->submissions > atomic_load(&q->known_done) && q->submissions > atomic_load(&q->marker_covers))
            result = submit_marker_locked(q, atomic_fetch_add(&d->submit_serial, 1) + 1);
        pthread_mutex_unlock(&q->lock);
    }
    uint64_t last = atomic_load(&d->submit_serial);
    *wait_serial = kmt_completed_serial(d) >= last ? 0 : last;
    return result;
}

/* A marker owed by an idle wait that did not succeed: submitted now, with the
 * serial the offers wait for. */
static void
submit_owed_marker(struct kmt_queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t serial = atomic_load(&q->marker_serial);
    if (!q->idle_waits && serial > q->marker_submitted && marker_pending(q))
        (void)submit_marker_locked(q, serial); /* on failure still owed: tried again next time */
    pthread_mutex_unlock(&q->lock);
}

uint64_t
kmt_completed_serial(struct kmt_device *d)
{
    uint64_t watermark = UINT64_MAX;
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue) {
        if (!marker_pending(q))
            continue;
        if (atomic_load(&q->marker_serial) > q->marker_submitted)
            submit_owed_marker(q);
        uint64_t value = 0;
        if (q->tracking && q->marker_submitted > atomic_load(&q->completed) &&
            kmt_note_result(d, d->next.GetSemaphoreCounterValue(d->handle, q->tracking, &value)) == VK_SUCCESS &&
            value > atomic_load(&q->completed))
            atomic_store(&q->completed, value);
        if (marker_pending(q) && atomic_load(&q->completed) < watermark)
            watermark = atomic_load(&q->completed);
    }
    return watermark;
}

VkResult
kmt_queue_submit_own(struct kmt_queue *q, const VkSubmitInfo *submit)
{
    pthread_mutex_lock(&q->lock);
    VkResult result = q->idle_waits
                          ? VK_NOT_READY
                          : kmt_note_result(q->device, q->device->next.QueueSubmit(q->handle, 1, submit, VK_NULL_HANDLE));
    pthread_mutex_unlock(&q->lock);
    return result;
}

/* ---- submissions: passed down untouched, counted --------------------------------- */

/* Counts a submission the driver accepted and remembers its fence. Caller
 * holds the queue lock. */
static VkResult
count_submission_locked(struct kmt_queue *q, VkResult result, VkFence fence)
{
    if (result != VK_SUCCESS)
        return kmt_note_result(q->device, result);
    q->submissions++;
    if (fence != VK_NULL_HANDLE) {
        q->fences[q->fence_next].fence = fence;
        q->fences[q->fence_next].upto = q->submissions;
        q->fence_next = (q->fence_next + 1) % KMT_FENCE_RING;
    }
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueueSubmit(VkQueue queue, uint32_t count, const VkSubmitInfo *pSubmits, VkFence fence)
{
    struct kmt_queue *q = kmt_queue_from_handle(queue);
    pthread_mutex_lock(&q->lock);
    VkResult result = count_submission_locked(q, q->device->next.QueueSubmit(queue, count, pSubmits, fence), fence);
    pthread_mutex_unlock(&q->lock);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueueSubmit2(VkQueue queue, uint32_t count, const VkSubmitInfo2 *pSubmits, VkFence fence)
{
    struct kmt_queue *q = kmt_queue_from_handle(queue);
    pthread_mutex_lock(&q->lock);
    VkResult result = count_submission_locked(q, q->device->next.QueueSubmit2(queue, count, pSubmits, fence), fence);
    pthread_mutex_unlock(&q->lock);
    return result;
}

VkResult
kmt_submit_bind_sparse(VkQueue queue, uint32_t count, const VkBindSparseInfo *pInfo, VkFence fence)
{
    struct kmt_queue *q = kmt_queue_from_handle(queue);
    pthread_mutex_lock(&q->lock);
    VkResult result = count_submission_locked(q, q->device->next.QueueBindSparse(queue, count, pInfo, fence), fence);
    pthread_mutex_unlock(&q->lock);
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

/* ---- idle waits: the real call alone, no lock held ------------------------------ */

#define KMT_COVERS_OF_FIRST_WAIT UINT64_MAX

/* From here until idle_wait_end the queue is the app's: the layer submits
 * nothing on it. Returns the submissions the wait covers. */
static uint64_t
idle_wait_begin(struct kmt_queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t covers = q->submissions;
    if (q->idle_waits++ == 0)
        q->wait_covers = covers;
    pthread_mutex_unlock(&q->lock);
    return covers;
}

/* A successful wait proves `covers` submissions done (KMT_COVERS_OF_FIRST_WAIT:
 * those of the first wait in progress, which began no later than this one). */
static void
idle_wait_end(struct kmt_queue *q, VkResult result, uint64_t covers)
{
    pthread_mutex_lock(&q->lock);
    if (result == VK_SUCCESS)
        note_done(q, covers == KMT_COVERS_OF_FIRST_WAIT ? q->wait_covers : covers);
    q->idle_waits--;
    pthread_mutex_unlock(&q->lock);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueueWaitIdle(VkQueue queue)
{
    struct kmt_queue *q = kmt_queue_from_handle(queue);
    uint64_t covers = idle_wait_begin(q);
    VkResult result = kmt_note_result(q->device, q->device->next.QueueWaitIdle(queue));
    idle_wait_end(q, result, covers);
    return result;
}

/* vkDeviceWaitIdle covers every queue, the layer's paging queue included. */
VKAPI_ATTR VkResult VKAPI_CALL
kmt_DeviceWaitIdle(VkDevice device)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue)
        (void)idle_wait_begin(q);
    VkResult result = kmt_note_result(d, d->next.DeviceWaitIdle(device));
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue)
        idle_wait_end(q, result, KMT_COVERS_OF_FIRST_WAIT);
    return result;
}

/* ---- fences: what a signal proves is fixed when the wait begins ----------------- */

/* The fenced submission a fence's signal proves done, as counted now. */
struct fence_capture {
    struct kmt_queue *queue; /* NULL: the fence ends no submission the layer knows */
    uint64_t upto;
};

static struct fence_capture
capture_fence(struct kmt_device *d, VkFence fence)
{
    struct fence_capture c = {NULL, 0};
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue) {
        pthread_mutex_lock(&q->lock);
        for (uint32_t i = 0; i < KMT_FENCE_RING; i++) {
            if (q->fences[i].fence == fence && q->fences[i].upto > c.upto) {
                c.queue = q;
                c.upto = q->fences[i].upto;
            }
        }
        pthread_mutex_unlock(&q->lock);
    }
    return c;
}

/* A fence reset or destroyed no longer says anything about its old submission. */
static void
forget_fence(struct kmt_device *d, VkFence fence)
{
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue) {
        pthread_mutex_lock(&q->lock);
        for (uint32_t i = 0; i < KMT_FENCE_RING; i++)
            if (q->fences[i].fence == fence)
                q->fences[i].fence = VK_NULL_HANDLE;
        pthread_mutex_unlock(&q->lock);
    }
}

#define KMT_STACK_CAPTURES 8

/* Only a wait for all fences (or one) proves each of them signalled. The
 * captures are made before the call down: a fence reset and resubmitted while
 * the wait runs proves only its older submission done. */
VKAPI_ATTR VkResult VKAPI_CALL
kmt_WaitForFences(VkDevice device, uint32_t count, const VkFence *pFences, VkBool32 waitAll, uint64_t timeout)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    struct fence_capture stack_captures[KMT_STACK_CAPTURES];
    struct fence_capture *captures = NULL;
    if (waitAll || count == 1)
        captures = count <= KMT_STACK_CAPTURES ? stack_captures : malloc(count * sizeof(*captures));
    for (uint32_t i = 0; captures && i < count; i++)
        captures[i] = capture_fence(d, pFences[i]);
    VkResult result = kmt_note_result(d, d->next.WaitForFences(device, count, pFences, waitAll, timeout));
    for (uint32_t i = 0; captures && result == VK_SUCCESS && i < count; i++)
        if (captures[i].queue)
            note_done(captures[i].queue, captures[i].upto);
    if (captures != stack_captures)
        free(captures); /* out of memory: nothing is noted, which is always safe */
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetFenceStatus(VkDevice device, VkFence fence)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    struct fence_capture c = capture_fence(d, fence);
    VkResult result = kmt_note_result(d, d->next.GetFenceStatus(device, fence));
    if (result == VK_SUCCESS && c.queue)
        note_done(c.queue, c.upto);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_ResetFences(VkDevice device, uint32_t count, const VkFence *pFences)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    for (uint32_t i = 0; i < count; i++)
        forget_fence(d, pFences[i]);
    return d->next.ResetFences(device, count, pFences);
}

VKAPI_ATTR void VKAPI_CALL
kmt_DestroyFence(VkDevice device, VkFence fence, const VkAllocationCallbacks *pAllocator)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    if (fence != VK_NULL_HANDLE)
        forget_fence(d, fence);
    d->next.DestroyFence(device, fence, pAllocator);
}

/* ---- semaphore waits: pass through, remembering device loss ------------------------ */

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

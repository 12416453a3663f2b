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

static bool track_queue(struct kmt_device *d, VkQueue handle, uint32_t family, uint32_t index);

VkResult
kmt_paging_setup(struct kmt_device *d)
{
    VkResult result = create_timeline(d, &d->paging);
    if (result != VK_SUCCESS)
        return result;
    /* The paging queue: a queue the layer fetched itself, so the loader's
     * dispatch pointer is written into it before anything below sees it. */
    VkQueue queue = VK_NULL_HANDLE;
    d->next.GetDeviceQueue(d->handle, d->paging_family, d->paging_index, &queue);
    if (queue && d->set_loader_data)
        d->set_loader_data(d->handle, queue);
    /* Out of host memory here fails vkCreateDevice: a device must not come
     * out of creation unable to fill what it discards. */
    if (queue && !track_queue(d, queue, d->paging_family, d->paging_index))
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    d->paging_queue = queue ? kmt_queue_from_handle(queue) : NULL;
    /* Without it GPU fills are unavailable: discards of device-only memory
     * are then not filled. Its command pool is made at the first fill. */
    return VK_SUCCESS;
}

/* The paging queue's command pool, created when the first GPU fill needs it
 * (device creation stays as cheap as the app's own). Caller holds the lock. */
static bool
paging_pool_locked(struct kmt_device *d)
{
    if (d->paging_pool)
        return true;
    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = d->paging_family,
    };
    return d->next.CreateCommandPool(d->handle, &pool, d->pallocator, &d->paging_pool) == VK_SUCCESS;
}

static void
free_fill_job(struct kmt_device *d, struct kmt_fill_job *job)
{
    d->next.DestroyBuffer(d->handle, job->buffer, d->pallocator);
    if (job->free_memory)
        d->next.FreeMemory(d->handle, (VkDeviceMemory)job->memory, job->has_allocator ? &job->allocator : NULL);
    d->next.FreeCommandBuffers(d->handle, d->paging_pool, 1, &job->command_buffer);
    kmt_free(d->pallocator, job);
}

void
kmt_reap_fills(struct kmt_device *d, uint64_t completed)
{
    struct kmt_fill_job **link = &d->fill_jobs;
    while (*link) {
        struct kmt_fill_job *job = *link;
        if (job->value <= completed) {
            *link = job->next;
            free_fill_job(d, job);
        } else {
            link = &job->next;
        }
    }
}

void
kmt_paging_teardown(struct kmt_device *d)
{
    /* The app has waited for its own work; the layer's fills it cannot see. */
    if (d->fill_jobs && d->paging_value) {
        VkSemaphoreWaitInfo wait = {
            .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
            .semaphoreCount = 1,
            .pSemaphores = &d->paging,
            .pValues = &d->paging_value,
        };
        d->next.WaitSemaphores(d->handle, &wait, UINT64_MAX);
    }
    kmt_reap_fills(d, UINT64_MAX);
    if (d->paging_pool)
        d->next.DestroyCommandPool(d->handle, d->paging_pool, d->pallocator);
    d->paging_pool = VK_NULL_HANDLE;
    d->paging_queue = NULL;
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
    if (d->paging)
        d->next.DestroySemaphore(d->handle, d->paging, d->pallocator);
    d->paging = VK_NULL_HANDLE;
}

/* A queue's last marker still matters while it has not landed and the work
 * before it is not known done otherwise. */
static bool
marker_pending(struct kmt_queue *q)
{
    return atomic_load(&q->completed) < atomic_load(&q->marker_serial) &&
           atomic_load(&q->known_done) < atomic_load(&q->marker_covers);
}

uint64_t
kmt_completed_serial(struct kmt_device *d)
{
    uint64_t watermark = UINT64_MAX;
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue) {
        if (!marker_pending(q))
            continue;
        uint64_t value = 0;
        if (kmt_note_result(d, d->next.GetSemaphoreCounterValue(d->handle, q->tracking, &value)) == VK_SUCCESS &&
            value > atomic_load(&q->completed))
            atomic_store(&q->completed, value);
        if (marker_pending(q) && atomic_load(&q->completed) < watermark)
            watermark = atomic_load(&q->completed);
    }
    return watermark;
}

/* Submits an empty batch signalling the queue's tracking semaphore after all
 * the app's submissions so far. Caller holds the queue lock. */
static VkResult
submit_marker_locked(struct kmt_queue *q)
{
    struct kmt_device *d = q->device;
    /* The queue's tracking semaphore is made by its first marker. */
    if (!q->tracking) {
        VkResult made = create_timeline(d, &q->tracking);
        if (made != VK_SUCCESS)
            return made;
    }
    uint64_t serial = atomic_fetch_add(&d->submit_serial, 1) + 1;
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
    }
    return result;
}

/* Makes sure a marker follows every app submission not known done. */
static VkResult
mark_queue_locked(struct kmt_queue *q)
{
    if (q->submissions > atomic_load(&q->known_done) && q->submissions > atomic_load(&q->marker_covers))
        return submit_marker_locked(q);
    return VK_SUCCESS;
}

VkResult
kmt_mark_earlier_work(struct kmt_device *d, uint64_t *wait_serial)
{
    /* A queue whose work cannot be followed by a marker would let the offer
     * take effect too early: the offer fails instead (nothing changed yet). */
    VkResult result = VK_SUCCESS;
    for (struct kmt_queue *q = d->queues; q && result == VK_SUCCESS; q = q->next_queue) {
        pthread_mutex_lock(&q->lock);
        result = mark_queue_locked(q);
        pthread_mutex_unlock(&q->lock);
    }
    uint64_t last = atomic_load(&d->submit_serial);
    *wait_serial = kmt_completed_serial(d) >= last ? 0 : last;
    return result;
}

/* Work up to `upto` submissions is done (a fence wait or an idle wait said so). */
static void
note_done(struct kmt_queue *q, uint64_t upto)
{
    uint64_t done = atomic_load(&q->known_done);
    while (upto > done && !atomic_compare_exchange_weak(&q->known_done, &done, upto)) {
    }
}

uint64_t
kmt_paging_completed(struct kmt_device *d)
{
    uint64_t value = 0;
    kmt_note_result(d, d->next.GetSemaphoreCounterValue(d->handle, d->paging, &value));
    return value;
}

/* ---- queues -------------------------------------------------------------- */

static bool
track_queue(struct kmt_device *d, VkQueue handle, uint32_t family, uint32_t index)
{
    if (!handle || kmt_queue_from_handle(handle))
        return true;
    struct kmt_queue *q = kmt_alloc(d->pallocator, sizeof(*q), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!q)
        return false;
    memset(q, 0, sizeof(*q));
    q->handle = handle;
    q->device = d;
    q->family = family;
    q->index = index;
    pthread_mutex_init(&q->lock, NULL);
    pthread_mutex_lock(&d->lock);
    if (!kmt_register_queue(q)) {
        pthread_mutex_unlock(&d->lock);
        pthread_mutex_destroy(&q->lock);
        kmt_free(d->pallocator, q);
        return false;
    }
    q->next_queue = d->queues;
    d->queues = q;
    pthread_mutex_unlock(&d->lock);
    return true;
}

VKAPI_ATTR void VKAPI_CALL
kmt_GetDeviceQueue(VkDevice device, uint32_t family, uint32_t index, VkQueue *pQueue)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    kmt_log_flush(&d->instance->deferred_log, &d->instance->logger);
    kmt_log_flush(&d->startup_log, &d->instance->logger);
    d->next.GetDeviceQueue(device, family, index, pQueue);
    /* Out of host memory leaves the queue untracked (known gap: its hooks
     * then find no record); vkGetDeviceQueue cannot report it. */
    (void)track_queue(d, *pQueue, family, index);
}

VKAPI_ATTR void VKAPI_CALL
kmt_GetDeviceQueue2(VkDevice device, const VkDeviceQueueInfo2 *pInfo, VkQueue *pQueue)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    kmt_log_flush(&d->startup_log, &d->instance->logger);
    d->next.GetDeviceQueue2(device, pInfo, pQueue);
    (void)track_queue(d, *pQueue, pInfo->queueFamilyIndex, pInfo->queueIndex);
}

/* ---- submissions ---------------------------------------------------------- */

/* Records and submits a fill of `memory` on the paging queue, signalling the
 * paging semaphore with the next value. Caller holds the device lock (so the
 * values reach the queue in increasing order). Returns the value, or
 * KMT_FILL_FAILED when no fill could be queued (no discard then). */
uint64_t
kmt_gpu_fill(struct kmt_device *d, uint64_t memory, VkDeviceSize size, uint32_t type_index, uint32_t pattern)
{
    struct kmt_queue *q = d->paging_queue;
    if (!q || size < 4 || !paging_pool_locked(d))
        return KMT_FILL_FAILED;
    struct kmt_fill_job *job = kmt_alloc(d->pallocator, sizeof(*job), VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
    if (!job)
        return KMT_FILL_FAILED;
    memset(job, 0, sizeof(*job));
    job->memory = memory;

    /* A transfer destination aliasing the whole allocation, where the
     * memory type allows a buffer at all. */
    VkBufferCreateInfo buffer_info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
    };
    VkMemoryRequirements requirements;
    VkCommandBufferAllocateInfo cb_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = d->paging_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    if (d->next.CreateBuffer(d->handle, &buffer_info, d->pallocator, &job->buffer) != VK_SUCCESS) {
        kmt_free(d->pallocator, job);
        return KMT_FILL_FAILED;
    }
    d->next.GetBufferMemoryRequirements(d->handle, job->buffer, &requirements);
    if (!(requirements.memoryTypeBits & (1u << type_index)) || requirements.size > size ||
        d->next.BindBufferMemory(d->handle, job->buffer, (VkDeviceMemory)memory, 0) != VK_SUCCESS ||
        d->next.AllocateCommandBuffers(d->handle, &cb_info, &job->command_buffer) != VK_SUCCESS) {
        d->next.DestroyBuffer(d->handle, job->buffer, d->pallocator);
        kmt_free(d->pallocator, job);
        return KMT_FILL_FAILED;
    }
    if (d->set_loader_data)
        d->set_loader_data(d->handle, job->command_buffer);
    d->next.BeginCommandBuffer(job->command_buffer, &begin);
    d->next.CmdFillBuffer(job->command_buffer, job->buffer, 0, VK_WHOLE_SIZE, pattern);
    if (d->next.EndCommandBuffer(job->command_buffer) != VK_SUCCESS) {
        free_fill_job(d, job);
        return KMT_FILL_FAILED;
    }

    uint64_t value = d->paging_value + 1;
    VkTimelineSemaphoreSubmitInfo timeline = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
        .signalSemaphoreValueCount = 1,
        .pSignalSemaphoreValues = &value,
    };
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .pNext = &timeline,
        .commandBufferCount = 1,
        .pCommandBuffers = &job->command_buffer,
        .signalSemaphoreCount = 1,
        .pSignalSemaphores = &d->paging,
    };
    pthread_mutex_lock(&q->lock);
    VkResult result = kmt_note_result(d, d->next.QueueSubmit(q->handle, 1, &submit, VK_NULL_HANDLE));
    pthread_mutex_unlock(&q->lock);
    if (result != VK_SUCCESS) {
        free_fill_job(d, job);
        return KMT_FILL_FAILED;
    }
    d->paging_value = value;
    job->value = value;
    job->next = d->fill_jobs;
    d->fill_jobs = job;
    return value;
}

uint64_t
kmt_pending_fill_value(const struct kmt_device *d, uint64_t memory)
{
    uint64_t value = 0;
    for (const struct kmt_fill_job *job = d->fill_jobs; job; job = job->next)
        if (job->memory == memory && job->value > value)
            value = job->value;
    return value;
}

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

/* ---- waits: pass through, remembering device loss ---------------------------- */

/* Waits, without holding the queue lock (no lock is held across a wait; the
 * layer may need the queue for paging work meanwhile), for a marker after the
 * app's submissions; then the real call runs under the lock, by now without
 * waiting, so layers below see the queue go idle. */
VKAPI_ATTR VkResult VKAPI_CALL
kmt_QueueWaitIdle(VkQueue queue)
{
    struct kmt_queue *q = kmt_queue_from_handle(queue);
    struct kmt_device *d = q->device;
    pthread_mutex_lock(&q->lock);
    uint64_t covers = q->submissions;
    (void)mark_queue_locked(q); /* without a marker the real call below does the wait */
    uint64_t serial = marker_pending(q) ? atomic_load(&q->marker_serial) : 0;
    pthread_mutex_unlock(&q->lock);
    if (serial) {
        VkSemaphoreWaitInfo wait = {
            .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
            .semaphoreCount = 1,
            .pSemaphores = &q->tracking,
            .pValues = &serial,
        };
        VkResult result = kmt_note_result(d, d->next.WaitSemaphores(d->handle, &wait, UINT64_MAX));
        if (result != VK_SUCCESS)
            return result;
    }
    pthread_mutex_lock(&q->lock);
    VkResult result = kmt_note_result(d, d->next.QueueWaitIdle(queue));
    pthread_mutex_unlock(&q->lock);
    if (result == VK_SUCCESS)
        note_done(q, covers);
    return result;
}

static void
lock_all_queues(struct kmt_device *d, bool lock)
{
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue) {
        if (lock)
            pthread_mutex_lock(&q->lock);
        else
            pthread_mutex_unlock(&q->lock);
    }
}

/* vkDeviceWaitIdle = vkQueueWaitIdle on every queue, plus the layer's fills. */
VKAPI_ATTR VkResult VKAPI_CALL
kmt_DeviceWaitIdle(VkDevice device)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    VkSemaphore stack_semaphores[8];
    uint64_t stack_values[8];
    VkSemaphore *semaphores = stack_semaphores;
    uint64_t *values = stack_values;
    uint32_t count = 0, needed = 1; /* every queue's tracking semaphore + the paging semaphore */

    pthread_mutex_lock(&d->lock);
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue)
        needed++;
    if (needed > 8) {
        semaphores = malloc(needed * sizeof(*semaphores));
        values = malloc(needed * sizeof(*values));
    }
    if (!semaphores || !values) {
        pthread_mutex_unlock(&d->lock);
        if (semaphores != stack_semaphores)
            free(semaphores);
        if (values != stack_values)
            free(values);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue) {
        pthread_mutex_lock(&q->lock);
        (void)mark_queue_locked(q); /* without a marker the real call below does the wait */
        if (marker_pending(q)) {
            semaphores[count] = q->tracking;
            values[count++] = atomic_load(&q->marker_serial);
        }
        pthread_mutex_unlock(&q->lock);
    }
    if (d->paging_value) {
        semaphores[count] = d->paging;
        values[count++] = d->paging_value;
    }
    pthread_mutex_unlock(&d->lock);

    VkResult result = VK_SUCCESS;
    if (count) {
        VkSemaphoreWaitInfo wait = {
            .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
            .semaphoreCount = count,
            .pSemaphores = semaphores,
            .pValues = values,
        };
        result = kmt_note_result(d, d->next.WaitSemaphores(device, &wait, UINT64_MAX));
    }
    if (semaphores != stack_semaphores) {
        free(semaphores);
        free(values);
    }
    if (result != VK_SUCCESS)
        return result;
    /* As in kmt_QueueWaitIdle: the real call, now without waiting. Queues are
     * locked in list order (the only place that takes more than one). */
    pthread_mutex_lock(&d->lock);
    lock_all_queues(d, true);
    result = kmt_note_result(d, d->next.DeviceWaitIdle(device));
    for (struct kmt_queue *q = d->queues; q && result == VK_SUCCESS; q = q->next_queue)
        note_done(q, q->submissions);
    lock_all_queues(d, false);
    pthread_mutex_unlock(&d->lock);
    return result;
}

/* A signalled fence of a submission means every earlier submission on its
 * queue is done too (fence signals include all earlier commands). */
static void
note_fence_signalled(struct kmt_device *d, VkFence fence)
{
    pthread_mutex_lock(&d->lock);
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue) {
        uint64_t upto = 0;
        pthread_mutex_lock(&q->lock);
        for (uint32_t i = 0; i < KMT_FENCE_RING; i++)
            if (q->fences[i].fence == fence && q->fences[i].upto > upto)
                upto = q->fences[i].upto;
        pthread_mutex_unlock(&q->lock);
        note_done(q, upto);
    }
    pthread_mutex_unlock(&d->lock);
}

/* A fence reset or destroyed no longer says anything about its old submission. */
static void
forget_fence(struct kmt_device *d, VkFence fence)
{
    pthread_mutex_lock(&d->lock);
    for (struct kmt_queue *q = d->queues; q; q = q->next_queue) {
        pthread_mutex_lock(&q->lock);
        for (uint32_t i = 0; i < KMT_FENCE_RING; i++)
            if (q->fences[i].fence == fence)
                q->fences[i].fence = VK_NULL_HANDLE;
        pthread_mutex_unlock(&q->lock);
    }
    pthread_mutex_unlock(&d->lock);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_WaitForFences(VkDevice device, uint32_t count, const VkFence *pFences, VkBool32 waitAll, uint64_t timeout)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    VkResult result = kmt_note_result(d, d->next.WaitForFences(device, count, pFences, waitAll, timeout));
    if (result == VK_SUCCESS && (waitAll || count == 1))
        for (uint32_t i = 0; i < count; i++)
            note_fence_signalled(d, pFences[i]);
    return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_GetFenceStatus(VkDevice device, VkFence fence)
{
    struct kmt_device *d = kmt_device_from_handle(device);
    VkResult result = kmt_note_result(d, d->next.GetFenceStatus(device, fence));
    if (result == VK_SUCCESS)
        note_fence_signalled(d, fence);
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

/* SPDX-License-Identifier: MIT */
/*
 * paging.c -- see paging.h: the paging semaphore, the paging queue and GPU
 * fills.
 */
#include "paging.h"

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
     * out of creation unable to fill what it discards. Without a queue GPU
     * fills are unavailable: discards of device-only memory are then not
     * filled. Its command pool is made at the first fill. */
    if (queue && !(d->paging_queue = kmt_track_queue(d, queue, d->paging_family, d->paging_index)))
        return VK_ERROR_OUT_OF_HOST_MEMORY;
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
    /* The app has waited for its own work; the layer's fills (and markers,
     * in kmt_queues_teardown) it cannot see. */
    if (d->fill_jobs && d->paging_value) {
        VkSemaphoreWaitInfo wait = {
            .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
            .semaphoreCount = 1,
            .pSemaphores = &d->paging,
            .pValues = &d->paging_value,
        };
        kmt_note_result(d, d->next.WaitSemaphores(d->handle, &wait, UINT64_MAX));
    }
    kmt_reap_fills(d, UINT64_MAX);
    if (d->paging_pool)
        d->next.DestroyCommandPool(d->handle, d->paging_pool, d->pallocator);
    d->paging_pool = VK_NULL_HANDLE;
    d->paging_queue = NULL;
    kmt_queues_teardown(d);
    if (d->paging)
        d->next.DestroySemaphore(d->handle, d->paging, d->pallocator);
    d->paging = VK_NULL_HANDLE;
}

uint64_t
kmt_paging_completed(struct kmt_device *d)
{
    uint64_t value = 0;
    kmt_note_result(d, d->next.GetSemaphoreCounterValue(d->handle, d->paging, &value));
    return value;
}

/* ---- GPU fills ---------------------------------------------------------------- */

/* Whether memory of type `type_index` may back a buffer with these type
 * bits. An index of 32 or more (which lavapipe accepts from the app) is in
 * no 32-bit mask: never. */
static bool
type_allowed(uint32_t type_bits, uint32_t type_index)
{
    return type_index < 32 && (type_bits & (1u << type_index));
}

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
    if (!type_allowed(requirements.memoryTypeBits, type_index) || requirements.size > size ||
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
    /* Not while the app waits for the paging queue to go idle (it is the
     * app's alone then): the fill fails and the memory stays OFFERED. */
    if (kmt_queue_submit_own(q, &submit) != VK_SUCCESS) {
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


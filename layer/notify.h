/* SPDX-License-Identifier: MIT */
/*
 * notify.h -- VK_KMT_residency's budget notifications: registered callbacks
 * and the one thread per device that polls the budgets and calls them (pure
 * C and POSIX threads; what a poll reads comes from the caller's sampler).
 *
 * Rules (vk_kmt_residency.h):
 * - The thread exists only while a callback is registered: the first
 *   registration starts it, the last unregistration stops it (joined, or --
 *   when that unregistration runs inside a callback on the thread itself --
 *   ending on its own right after the callback returns and joined by the
 *   next registration or kmt_notifier_finish).
 * - Every BUDGET_POLL_MS the thread samples each segment group (the sampler
 *   is called with no notifier lock held) and asks each registration's watch
 *   (segments.h) whether the sample is news; each notification is one call.
 * - No lock of the layer is held while a callback runs: the notifier's own
 *   lock is dropped around each call, and the sampler releases the device's.
 * - Once kmt_notifier_unregister returns, the callback is not running and
 *   will not run again: a call in progress is waited for, unless the
 *   unregistration comes from inside a callback on the notifier's thread
 *   (waiting there would deadlock; the callback is not called again after it
 *   returns).
 */
#ifndef KMT_NOTIFY_H
#define KMT_NOTIFY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>
#include <vulkan/vk_kmt_residency.h>

#include "segments.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fills one sample per segment group (VkMemorySegmentGroupKMT order). */
typedef void (*kmt_segment_sampler)(void *ctx, struct kmt_segment_sample samples[KMT_SEGMENT_GROUPS]);

struct kmt_budget_registration;

struct kmt_notifier {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the thread's poll wait: stop */
    pthread_cond_t done; /* a callback returned, or a join finished */
    struct kmt_budget_registration *first, *last; /* in cookie order */
    uint64_t next_cookie;
    uint64_t calling;    /* the cookie whose callback runs now, 0: none */
    pthread_t thread;
    bool running;        /* a thread exists that nobody joined yet */
    bool stop;           /* it is to end (or ends once its callback returns) */
    bool joining;        /* someone is joining it */
    uint32_t poll_ms;
    kmt_segment_sampler sample;
    void *sample_ctx;
    const VkAllocationCallbacks *allocator;
    uint64_t polls;      /* polls made since init (statistics, tests) */
};

bool kmt_notifier_init(struct kmt_notifier *n, uint32_t poll_ms, kmt_segment_sampler sample, void *sample_ctx,
                       const VkAllocationCallbacks *allocator);
/* Drops every registration and ends the thread. Not from inside a callback. */
void kmt_notifier_finish(struct kmt_notifier *n);

/* Registers a callback (its watch starts from `now`, the groups' current
 * samples); *cookie is never 0. VK_ERROR_OUT_OF_HOST_MEMORY, or
 * VK_ERROR_INITIALIZATION_FAILED when the thread could not be started. */
VkResult kmt_notifier_register(struct kmt_notifier *n, PFN_vkBudgetNotificationCallbackKMT callback, void *user,
                               const struct kmt_segment_sample now[KMT_SEGMENT_GROUPS], uint64_t *cookie);
/* False when the cookie is not registered (nothing changes). */
bool kmt_notifier_unregister(struct kmt_notifier *n, uint64_t cookie);

/* Whether the thread exists now (tests). */
bool kmt_notifier_thread_alive(struct kmt_notifier *n);

#ifdef __cplusplus
}
#endif

#endif

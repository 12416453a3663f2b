/* SPDX-License-Identifier: MIT */
/*
 * notify.c -- budget notifications (rules in notify.h).
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "notify.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "memory.h"

struct kmt_budget_registration {
    uint64_t cookie;
    PFN_vkBudgetNotificationCallbackKMT callback;
    void *user;
    struct kmt_budget_watch watch;
    struct kmt_budget_registration *next;
};

bool
kmt_notifier_init(struct kmt_notifier *n, uint32_t poll_ms, kmt_segment_sampler sample, void *sample_ctx,
                  const VkAllocationCallbacks *allocator)
{
    memset(n, 0, sizeof(*n));
    n->poll_ms = poll_ms ? poll_ms : 1;
    n->sample = sample;
    n->sample_ctx = sample_ctx;
    n->allocator = allocator;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr))
        return false;
    /* Poll deadlines on the monotonic clock: a wall-clock step must not
     * stall or hurry the polls. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    bool ok = pthread_mutex_init(&n->lock, NULL) == 0;
    ok = ok && pthread_cond_init(&n->wake, &attr) == 0;
    ok = ok && pthread_cond_init(&n->done, NULL) == 0;
    pthread_condattr_destroy(&attr);
    return ok;
}

static bool
on_thread_locked(const struct kmt_notifier *n)
{
    return n->running && pthread_equal(pthread_self(), n->thread);
}

/* Joins the thread (caller holds the lock, is not the thread, and the
 * thread was told to stop). One joiner at a time; others wait for it. */
static void
join_locked(struct kmt_notifier *n)
{
    while (n->joining)
        pthread_cond_wait(&n->done, &n->lock);
    if (!n->running)
        return;
    n->joining = true;
    pthread_t thread = n->thread;
    pthread_mutex_unlock(&n->lock);
    pthread_join(thread, NULL);
    pthread_mutex_lock(&n->lock);
    n->running = false;
    n->joining = false;
    pthread_cond_broadcast(&n->done);
}

static void
stop_locked(struct kmt_notifier *n)
{
    if (!n->running)
        return;
    n->stop = true;
    pthread_cond_signal(&n->wake);
    if (!on_thread_locked(n))
        join_locked(n);
}

void
kmt_notifier_finish(struct kmt_notifier *n)
{
    pthread_mutex_lock(&n->lock);
    while (n->first) {
        struct kmt_budget_registration *r = n->first;
        n->first = r->next;
        kmt_free(n->allocator, r);
    }
    n->last = NULL;
    stop_locked(n);
    pthread_mutex_unlock(&n->lock);
    pthread_cond_destroy(&n->done);
    pthread_cond_destroy(&n->wake);
    pthread_mutex_destroy(&n->lock);
}

/* ---- the thread ------------------------------------------------------------------ */

static struct kmt_budget_registration *
find_locked(struct kmt_notifier *n, uint64_t cookie)
{
    for (struct kmt_budget_registration *r = n->first; r; r = r->next)
        if (r->cookie == cookie)
            return r;
    return NULL;
}

/* The first registration with a cookie above `after` (registrations made
 * during a poll are visited in it too). */
static struct kmt_budget_registration *
next_locked(struct kmt_notifier *n, uint64_t after)
{
    for (struct kmt_budget_registration *r = n->first; r; r = r->next)
        if (r->cookie > after)
            return r;
    return NULL;
}

/* One poll's notifications. The lock is dropped around each callback; a
 * registration is looked up again after every call (the callback, or
 * another thread, may have unregistered it). */
static void
deliver_locked(struct kmt_notifier *n, const struct kmt_segment_sample *samples)
{
    uint64_t cookie = 0;
    struct kmt_budget_registration *r;
    while ((r = next_locked(n, cookie)) != NULL) {
        cookie = r->cookie;
        for (uint32_t g = 0; g < KMT_SEGMENT_GROUPS && (r = find_locked(n, cookie)) != NULL; g++) {
            VkBudgetNotificationKMT note = {
                .sType = VK_STRUCTURE_TYPE_BUDGET_NOTIFICATION_KMT,
                .segmentGroup = (VkMemorySegmentGroupKMT)g,
                .budget = samples[g].budget,
                .currentUsage = samples[g].usage,
            };
            if (!kmt_budget_watch_step(&r->watch, g, &samples[g], &note.bytesToTrim))
                continue;
            PFN_vkBudgetNotificationCallbackKMT callback = r->callback;
            void *user = r->user;
            n->calling = cookie;
            pthread_mutex_unlock(&n->lock);
            callback(&note, user);
            pthread_mutex_lock(&n->lock);
            n->calling = 0;
            pthread_cond_broadcast(&n->done);
        }
    }
}

static void *
notifier_main(void *arg)
{
    struct kmt_notifier *n = arg;
    pthread_mutex_lock(&n->lock);
    while (!n->stop) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += n->poll_ms / 1000;
        deadline.tv_nsec += (long)(n->poll_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        while (!n->stop && pthread_cond_timedwait(&n->wake, &n->lock, &deadline) != ETIMEDOUT) {
        }
        if (n->stop)
            break;
        pthread_mutex_unlock(&n->lock);
        struct kmt_segment_sample samples[KMT_SEGMENT_GROUPS];
        memset(samples, 0, sizeof(samples));
        n->sample(n->sample_ctx, samples); /* no notifier lock held: it takes the device's */
        pthread_mutex_lock(&n->lock);
        n->polls++;
        deliver_locked(n, samples);
    }
    pthread_mutex_unlock(&n->lock);
    return NULL;
}

/* ---- registrations -------------------------------------------------------------------- */

VkResult
kmt_notifier_register(struct kmt_notifier *n, PFN_vkBudgetNotificationCallbackKMT callback, void *user,
                      const struct kmt_segment_sample now[KMT_SEGMENT_GROUPS], uint64_t *cookie)
{
    struct kmt_budget_registration *r = kmt_alloc(n->allocator, sizeof(*r), VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
    if (!r)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    memset(r, 0, sizeof(*r));
    r->callback = callback;
    r->user = user;
    kmt_budget_watch_init(&r->watch, now);

    pthread_mutex_lock(&n->lock);
    const bool self = on_thread_locked(n);
    /* A thread that is ending on its own (its last callback unregistered
     * itself) is joined before a new one starts. */
    while (!self && n->running && n->stop)
        join_locked(n);
    r->cookie = ++n->next_cookie;
    if (n->last)
        n->last->next = r;
    else
        n->first = r;
    n->last = r;
    if (!n->running) {
        n->stop = false;
        if (pthread_create(&n->thread, NULL, notifier_main, n) != 0) {
            /* Unlink it again: it is the last one. */
            struct kmt_budget_registration **p = &n->first;
            while (*p != r)
                p = &(*p)->next;
            *p = NULL;
            n->last = NULL;
            for (struct kmt_budget_registration *q = n->first; q; q = q->next)
                n->last = q;
            pthread_mutex_unlock(&n->lock);
            kmt_free(n->allocator, r);
            return VK_ERROR_INITIALIZATION_FAILED;
        }
        /* Named before anyone can look: what tests and debuggers see. */
        pthread_setname_np(n->thread, "kmt-budget");
        n->running = true;
    } else if (self) {
        n->stop = false; /* registered from inside a callback after the last one left: keep polling */
    }
    *cookie = r->cookie;
    pthread_mutex_unlock(&n->lock);
    return VK_SUCCESS;
}

bool
kmt_notifier_unregister(struct kmt_notifier *n, uint64_t cookie)
{
    pthread_mutex_lock(&n->lock);
    struct kmt_budget_registration **p = &n->first, *prev = NULL;
    while (*p && (*p)->cookie != cookie) {
        prev = *p;
        p = &(*p)->next;
    }
    struct kmt_budget_registration *r = *p;
    if (!r) {
        pthread_mutex_unlock(&n->lock);
        return false;
    }
    *p = r->next;
    if (n->last == r)
        n->last = prev;
    /* From now on the thread does not find it; a call already under way is
     * waited for, unless it is this very call's caller. */
    if (!on_thread_locked(n))
        while (n->calling == cookie)
            pthread_cond_wait(&n->done, &n->lock);
    if (!n->first)
        stop_locked(n);
    pthread_mutex_unlock(&n->lock);
    kmt_free(n->allocator, r);
    return true;
}

bool
kmt_notifier_thread_alive(struct kmt_notifier *n)
{
    pthread_mutex_lock(&n->lock);
    bool alive = n->running && !n->stop;
    pthread_mutex_unlock(&n->lock);
    return alive;
}

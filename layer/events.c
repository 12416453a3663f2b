/* SPDX-License-Identifier: MIT */
/*
 * events.c -- see events.h.
 *
 * Locks: the hook runs under the device lock and touches only the queue. The
 * output side (messages, trace, the per-heap byte counts) runs under
 * flush_lock, which is taken before the device lock (to take the queue) and
 * never under it; the app's callbacks run under flush_lock, so messages come
 * out in the order the changes happened.
 */
#define _GNU_SOURCE /* syscall(SYS_gettid) */
#include "events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "describe.h"
#include "names.h"
#include "paging.h"
#include "report.h"
#include "trace.h"

#if KMT_TRACING /* else events.h has empty inline functions */

/* One state change as the hook saw it. */
struct kmt_event {
    uint64_t ns;
    uint32_t tid;
    struct kmt_transition change;
    VkDeviceSize usage, budget; /* its heap's, at that moment */
};

/* Bytes per heap by what they hold, from the state changes seen. */
struct heap_bytes {
    VkDeviceSize offered; /* OFFER_PENDING and OFFERED */
    VkDeviceSize discarded, decommitted;
    VkDeviceSize usage, budget; /* last sampled */
    bool sampled;
};

/* Memory that is not resident: what its free takes out of the counts. */
struct away {
    uint64_t memory; /* 0: empty slot */
    VkDeviceSize size;
    uint64_t wait_serial; /* of its deferred offer: its promotion names it */
    uint8_t status, heap;
};

#define KMT_EVENTS_QUEUE_MAX (1u << 20) /* changes waiting for a flush; more are counted as lost */

struct kmt_events {
    const VkAllocationCallbacks *allocator; /* the device's */
    bool verbose;
    struct kmt_trace *trace;
    uint32_t pid;
    enum kmt_discard_fill fill;
    uint32_t heap_count;
    VkDeviceSize budgets[VK_MAX_MEMORY_HEAPS]; /* for policies that keep none */

    /* The hook's side, under the device lock. */
    struct kmt_event *queue;
    uint32_t count, capacity;
    uint64_t lost;

    /* The output side, under flush_lock. */
    pthread_mutex_t flush_lock;
    struct kmt_event *batch;
    uint32_t batch_capacity;
    uint64_t lost_reported;
    struct heap_bytes heaps[VK_MAX_MEMORY_HEAPS];
    struct away *away;
    uint32_t away_mask, away_count;
    uint64_t fill_value; /* highest paging value a GPU fill signals */
    uint64_t fence_seen; /* paging fence value last seen */
};

uint64_t
kmt_events_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t
thread_id(void)
{
    static _Thread_local uint32_t tid;
    if (!tid)
        tid = (uint32_t)syscall(SYS_gettid);
    return tid;
}

/* ---- the hook (device lock held) ---------------------------------------------------- */

static void
on_transition(void *ctx, const struct kmt_transition *change)
{
    struct kmt_device *d = ctx;
    struct kmt_events *ev = d->events;
    if (!ev)
        return; /* torn down: only the tracker's own teardown could report now */
    if (ev->count == ev->capacity) {
        uint32_t capacity = ev->capacity ? ev->capacity * 2 : 64;
        struct kmt_event *bigger = capacity <= KMT_EVENTS_QUEUE_MAX
                                       ? kmt_alloc(d->pallocator, capacity * sizeof(*bigger),
                                                   VK_SYSTEM_ALLOCATION_SCOPE_DEVICE)
                                       : NULL;
        if (!bigger) {
            ev->lost++;
            return;
        }
        if (ev->count)
            memcpy(bigger, ev->queue, ev->count * sizeof(*bigger));
        kmt_free(d->pallocator, ev->queue);
        ev->queue = bigger;
        ev->capacity = capacity;
    }
    struct kmt_event *e = &ev->queue[ev->count++];
    e->ns = kmt_events_clock();
    e->tid = thread_id();
    e->change = *change;
    uint32_t heap = change->heap_index < ev->heap_count ? change->heap_index : 0;
    e->usage = kmt_heap_usage_locked(d, heap);
    e->budget = kmt_heap_budget_locked(d, heap, ev->budgets[heap]);
}

/* ---- what is not resident ------------------------------------------------------------ */

static uint32_t
away_slot(const struct kmt_events *ev, uint64_t memory)
{
    return (uint32_t)((memory * 0x9e3779b97f4a7c15ull) >> 32) & ev->away_mask;
}

static struct away *
away_find(struct kmt_events *ev, uint64_t memory)
{
    if (!ev->away)
        return NULL;
    for (uint32_t i = away_slot(ev, memory);; i = (i + 1) & ev->away_mask) {
        if (ev->away[i].memory == memory)
            return &ev->away[i];
        if (!ev->away[i].memory)
            return NULL;
    }
}

static void
away_remove(struct kmt_events *ev, struct away *a)
{
    uint32_t hole = (uint32_t)(a - ev->away);
    ev->away[hole].memory = 0;
    ev->away_count--;
    for (uint32_t i = (hole + 1) & ev->away_mask; ev->away[i].memory; i = (i + 1) & ev->away_mask) {
        uint32_t home = away_slot(ev, ev->away[i].memory);
        if (((i - home) & ev->away_mask) >= ((i - hole) & ev->away_mask)) {
            ev->away[hole] = ev->away[i];
            ev->away[i].memory = 0;
            hole = i;
        }
    }
}

static bool
away_grow(struct kmt_events *ev)
{
    uint32_t capacity = ev->away ? (ev->away_mask + 1) * 2 : 64;
    struct away *slots = kmt_alloc(ev->allocator, capacity * sizeof(*slots), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!slots)
        return false;
    memset(slots, 0, capacity * sizeof(*slots));
    struct away *old = ev->away;
    uint32_t old_capacity = old ? ev->away_mask + 1 : 0;
    ev->away = slots;
    ev->away_mask = capacity - 1;
    for (uint32_t i = 0; i < old_capacity; i++) {
        if (!old[i].memory)
            continue;
        uint32_t j = away_slot(ev, old[i].memory);
        while (slots[j].memory)
            j = (j + 1) & ev->away_mask;
        slots[j] = old[i];
    }
    kmt_free(ev->allocator, old);
    return true;
}

static VkDeviceSize *
bucket(struct heap_bytes *h, uint32_t status)
{
    switch (status) {
    case VK_ALLOCATION_STATUS_OFFER_PENDING_KMT:
    case VK_ALLOCATION_STATUS_OFFERED_KMT: return &h->offered;
    case VK_ALLOCATION_STATUS_DISCARDED_KMT: return &h->discarded;
    case VK_ALLOCATION_STATUS_DECOMMITTED_KMT: return &h->decommitted;
    default: return NULL;
    }
}

static void
take(VkDeviceSize *from, VkDeviceSize size)
{
    if (from)
        *from = *from > size ? *from - size : 0; /* changes lost to a full queue: never below 0 */
}

/* The counts follow one change. */
static void
account(struct kmt_events *ev, const struct kmt_transition *c)
{
    struct heap_bytes *h = &ev->heaps[c->heap_index < ev->heap_count ? c->heap_index : 0];
    take(bucket(h, c->from), c->size);
    VkDeviceSize *to = bucket(h, c->to);
    if (to)
        *to += c->size;
    struct away *a = away_find(ev, c->memory);
    if (!to) {
        if (a)
            away_remove(ev, a);
        return;
    }
    if (!a) {
        if ((ev->away_count + 1) * 4 > (ev->away ? ev->away_mask + 1 : 0) * 3 && !away_grow(ev))
            return; /* out of host memory: its free will not be counted */
        uint32_t i = away_slot(ev, c->memory);
        while (ev->away[i].memory)
            i = (i + 1) & ev->away_mask;
        a = &ev->away[i];
        a->memory = c->memory;
        ev->away_count++;
    }
    a->size = c->size;
    if (c->to == VK_ALLOCATION_STATUS_OFFER_PENDING_KMT)
        a->wait_serial = c->wait_serial;
    a->status = c->to;
    a->heap = (uint8_t)c->heap_index;
}

/* ---- trace events ------------------------------------------------------------------- */

static void
trace_counter(struct kmt_events *ev, uint32_t heap, uint64_t ns, VkDeviceSize usage, VkDeviceSize budget)
{
    struct heap_bytes *h = &ev->heaps[heap];
    h->usage = usage;
    h->budget = budget;
    h->sampled = true;
    if (!ev->trace)
        return;
    char name[32];
    snprintf(name, sizeof(name), "heap %u", heap);
    struct kmt_trace_event e;
    kmt_trace_event_begin(&e, name, "memory", 'C', ns, ev->pid, 0);
    kmt_trace_arg_u64(&e, "offered", h->offered);
    kmt_trace_arg_u64(&e, "discarded", h->discarded);
    kmt_trace_arg_u64(&e, "decommitted", h->decommitted);
    kmt_trace_arg_u64(&e, "resident", usage > h->offered ? usage - h->offered : 0);
    kmt_trace_arg_u64(&e, "usage", usage);
    kmt_trace_arg_u64(&e, "budget", budget);
    kmt_trace_event_end(ev->trace, &e);
}

static void
trace_transition(struct kmt_events *ev, const struct kmt_event *event, const char *name)
{
    const struct kmt_transition *c = &event->change;
    char flags[48];
    kmt_offer_flags_text(c->offer_flags, flags, sizeof(flags));
    struct kmt_trace_event e;
    kmt_trace_event_begin(&e, kmt_transition_event_name(c), "state", 'i', event->ns, ev->pid, event->tid);
    kmt_trace_arg_handle(&e, "memory", c->memory);
    kmt_trace_arg_str(&e, "name", name);
    kmt_trace_arg_u64(&e, "size", c->size);
    kmt_trace_arg_u64(&e, "heap", c->heap_index);
    kmt_trace_arg_str(&e, "from", kmt_status_name(c->from));
    kmt_trace_arg_str(&e, "to", kmt_status_name(c->to));
    kmt_trace_arg_str(&e, "reason", kmt_reason_name(c->reason));
    kmt_trace_arg_str(&e, "priority", kmt_priority_name(c->offer_priority));
    kmt_trace_arg_str(&e, "flags", flags);
    switch (c->reason) {
    case KMT_REASON_OFFER:
    case KMT_REASON_REOFFER:
    case KMT_REASON_PROMOTED: kmt_trace_arg_u64(&e, "wait_serial", c->wait_serial); break;
    case KMT_REASON_RECLAIM:
        kmt_trace_arg_str(&e, "result", kmt_reclaim_result_name(c->result));
        kmt_trace_arg_u64(&e, "paging_fence", c->fence_value);
        break;
    default: /* a discard */
        kmt_trace_arg_u64(&e, "order", c->order);
        kmt_trace_arg_u64(&e, "heap_usage", c->heap_usage);
        kmt_trace_arg_u64(&e, "heap_budget", c->heap_budget);
        kmt_trace_arg_u64(&e, "paging_fence", c->fence_value);
        break;
    }
    kmt_trace_event_end(ev->trace, &e);
}

/* A discard replaced the contents (DISCARD_FILL zero or poison): on the GPU
 * when it signals a paging-fence value, else on the CPU before returning. */
static void
report_fill(struct kmt_device *d, struct kmt_events *ev, const struct kmt_event *event, const char *name, bool direct)
{
    const struct kmt_transition *c = &event->change;
    const char *pattern = kmt_discard_fill_name(ev->fill);
    const char *where = c->fence_value ? "GPU" : "CPU";
    if (c->fence_value > ev->fill_value)
        ev->fill_value = c->fence_value;
    if (ev->trace) {
        struct kmt_trace_event e;
        kmt_trace_event_begin(&e, "fill", "paging", 'i', event->ns, ev->pid, event->tid);
        kmt_trace_arg_handle(&e, "memory", c->memory);
        kmt_trace_arg_str(&e, "name", name);
        kmt_trace_arg_u64(&e, "size", c->size);
        kmt_trace_arg_str(&e, "pattern", pattern);
        kmt_trace_arg_str(&e, "where", where);
        kmt_trace_arg_u64(&e, "paging_fence", c->fence_value);
        kmt_trace_event_end(ev->trace, &e);
    }
    if (ev->verbose) {
        char text[512], bytes[32];
        kmt_bytes_text(c->size, bytes, sizeof(bytes));
        if (c->fence_value)
            snprintf(text, sizeof(text),
                     "memory 0x%" PRIx64 "%s%s%s: %s filled with %s on the GPU (paging queue); the fill signals "
                     "paging fence value %" PRIu64 ".",
                     c->memory, *name ? " \"" : "", name, *name ? "\"" : "", bytes, pattern, c->fence_value);
        else
            snprintf(text, sizeof(text),
                     "memory 0x%" PRIx64 "%s%s%s: %s filled with %s on the CPU before the call returned "
                     "(host-visible memory; nothing to wait for).",
                     c->memory, *name ? " \"" : "", name, *name ? "\"" : "", bytes, pattern);
        struct kmt_log_object subject = {VK_OBJECT_TYPE_DEVICE_MEMORY, c->memory, *name ? name : NULL};
        kmt_log_send(&d->instance->logger, KMT_LOG_VERBOSE, "KMT-fill", 1, &subject, text, direct);
    }
}

static bool
filled(const struct kmt_events *ev, const struct kmt_transition *c)
{
    return c->to == VK_ALLOCATION_STATUS_DISCARDED_KMT && c->from == VK_ALLOCATION_STATUS_OFFERED_KMT &&
           ev->fill != KMT_FILL_NONE;
}

static void
handle(struct kmt_device *d, struct kmt_events *ev, struct kmt_event *event, bool direct)
{
    struct kmt_transition *c = &event->change;
    if (c->reason == KMT_REASON_PROMOTED && !c->wait_serial) {
        /* The tracker does not repeat what the promoted offer waited for. */
        const struct away *a = away_find(ev, c->memory);
        c->wait_serial = a ? a->wait_serial : 0;
    }
    char name[KMT_NAME_MAX];
    kmt_object_name(d, VK_OBJECT_TYPE_DEVICE_MEMORY, c->memory, name, sizeof(name));
    if (ev->verbose) {
        char text[1024];
        kmt_transition_text(c, name, text, sizeof(text));
        struct kmt_log_object subject = {VK_OBJECT_TYPE_DEVICE_MEMORY, c->memory, *name ? name : NULL};
        kmt_log_send(&d->instance->logger, KMT_LOG_VERBOSE, kmt_transition_id(c), 1, &subject, text, direct);
    }
    account(ev, c);
    if (ev->trace)
        trace_transition(ev, event, name);
    if (filled(ev, c))
        report_fill(d, ev, event, name, direct);
    trace_counter(ev, c->heap_index < ev->heap_count ? c->heap_index : 0, event->ns, event->usage, event->budget);
}

/* The paging fence reached the value of a fill: seen now (polled, never waited for). */
static void
check_fence(struct kmt_device *d, struct kmt_events *ev)
{
    if (ev->fill_value <= ev->fence_seen || !d->paging)
        return;
    uint64_t value = kmt_paging_completed(d);
    if (value <= ev->fence_seen)
        return;
    ev->fence_seen = value;
    if (!ev->trace)
        return;
    uint64_t ns = kmt_events_clock();
    struct kmt_trace_event e;
    kmt_trace_event_begin(&e, "paging fence", "paging", 'i', ns, ev->pid, thread_id());
    kmt_trace_arg_u64(&e, "value", value);
    kmt_trace_event_end(ev->trace, &e);
    kmt_trace_event_begin(&e, "paging fence", "paging", 'C', ns, ev->pid, 0);
    kmt_trace_arg_u64(&e, "value", value);
    kmt_trace_event_end(ev->trace, &e);
}

/* Caller holds flush_lock (or is vkDestroyDevice: see kmt_events_teardown). */
static void
flush_locked(struct kmt_device *d, struct kmt_events *ev, bool direct)
{
    VkDeviceSize usage[VK_MAX_MEMORY_HEAPS], budget[VK_MAX_MEMORY_HEAPS];
    pthread_mutex_lock(&d->lock);
    struct kmt_event *batch = ev->queue;
    uint32_t count = ev->count, capacity = ev->capacity;
    ev->queue = ev->batch;
    ev->capacity = ev->batch_capacity;
    ev->count = 0;
    uint64_t lost = ev->lost;
    for (uint32_t h = 0; h < ev->heap_count; h++) {
        usage[h] = kmt_heap_usage_locked(d, h);
        budget[h] = kmt_heap_budget_locked(d, h, ev->budgets[h]);
    }
    pthread_mutex_unlock(&d->lock);
    ev->batch = batch;
    ev->batch_capacity = capacity;

    for (uint32_t i = 0; i < count; i++)
        handle(d, ev, &batch[i], direct);
    /* Allocations and frees move usage without a state change. */
    uint64_t ns = kmt_events_clock();
    for (uint32_t h = 0; h < ev->heap_count; h++)
        if (!ev->heaps[h].sampled || ev->heaps[h].usage != usage[h] || ev->heaps[h].budget != budget[h])
            trace_counter(ev, h, ns, usage[h], budget[h]);
    if (lost > ev->lost_reported) {
        char text[160];
        snprintf(text, sizeof(text), "%" PRIu64 " state changes were not reported (out of host memory).",
                 lost - ev->lost_reported);
        kmt_log_send(&d->instance->logger, KMT_LOG_WARNING, "KMT-events-lost", 0, NULL, text, direct);
        ev->lost_reported = lost;
    }
    check_fence(d, ev);
}

void
kmt_events_flush_slow(struct kmt_device *d)
{
    struct kmt_events *ev = d->events;
    pthread_mutex_lock(&ev->flush_lock);
    flush_locked(d, ev, false);
    pthread_mutex_unlock(&ev->flush_lock);
}

/* ---- calls and frees ------------------------------------------------------------------ */

void
kmt_events_call_slow(struct kmt_device *d, const char *command, uint64_t start, uint32_t count,
                     const VkDeviceMemory *memories, const VkOfferResourceKMT *resources, uint32_t priority,
                     uint32_t flags, const uint64_t *fence, VkResult result)
{
    struct kmt_events *ev = d->events;
    uint64_t end = kmt_events_clock();
    pthread_mutex_lock(&ev->flush_lock);
    if (ev->trace && start) {
        /* The first handles, with their names: ["0x55d0 \"albedo\"", ...]. */
        char first[640], item[KMT_NAME_MAX + 48], quoted[2 * KMT_NAME_MAX + 100];
        size_t used = 0;
        first[used++] = '[';
        for (uint32_t i = 0; i < count && i < 4 && (memories || resources); i++) {
            uint64_t handle = memories ? (uint64_t)memories[i] : resources[i].objectHandle;
            VkObjectType type = memories ? VK_OBJECT_TYPE_DEVICE_MEMORY : (VkObjectType)resources[i].objectType;
            char name[KMT_NAME_MAX];
            kmt_object_name(d, type, handle, name, sizeof(name));
            snprintf(item, sizeof(item), *name ? "0x%" PRIx64 " \"%s\"" : "0x%" PRIx64 "%s", handle, name);
            size_t n = kmt_json_quote(item, quoted, sizeof(quoted));
            if (!n || used + n + 2 >= sizeof(first))
                break;
            if (used > 1)
                first[used++] = ',';
            memcpy(first + used, quoted, n);
            used += n;
        }
        first[used++] = ']';
        first[used] = '\0';
        char flag_text[48];
        kmt_offer_flags_text(flags, flag_text, sizeof(flag_text));
        struct kmt_trace_event e;
        kmt_trace_event_begin(&e, command, "call", 'X', start, ev->pid, thread_id());
        kmt_trace_event_duration(&e, end - start);
        kmt_trace_arg_u64(&e, "count", count);
        kmt_trace_arg_str(&e, "objects", memories ? "memory" : "resources");
        kmt_trace_arg_raw(&e, "first", first);
        if (fence) {
            kmt_trace_arg_u64(&e, "paging_fence", *fence);
        } else {
            kmt_trace_arg_str(&e, "priority", kmt_priority_name(priority));
            kmt_trace_arg_str(&e, "flags", flag_text);
        }
        kmt_trace_arg_str(&e, "result", kmt_result_name(result));
        kmt_trace_event_end(ev->trace, &e);
    }
    flush_locked(d, ev, false);
    pthread_mutex_unlock(&ev->flush_lock);
}

void
kmt_events_memory_freed(struct kmt_device *d, uint64_t memory)
{
    struct kmt_events *ev = d->events;
    if (!ev)
        return;
    pthread_mutex_lock(&ev->flush_lock);
    flush_locked(d, ev, false); /* its last changes first */
    struct away *a = away_find(ev, memory);
    if (a) {
        struct heap_bytes *h = &ev->heaps[a->heap < ev->heap_count ? a->heap : 0];
        take(bucket(h, a->status), a->size);
        if (ev->trace) {
            char name[KMT_NAME_MAX];
            kmt_object_name(d, VK_OBJECT_TYPE_DEVICE_MEMORY, memory, name, sizeof(name));
            uint64_t ns = kmt_events_clock();
            struct kmt_trace_event e;
            kmt_trace_event_begin(&e, "free", "state", 'i', ns, ev->pid, thread_id());
            kmt_trace_arg_handle(&e, "memory", memory);
            kmt_trace_arg_str(&e, "name", name);
            kmt_trace_arg_u64(&e, "size", a->size);
            kmt_trace_arg_u64(&e, "heap", a->heap);
            kmt_trace_arg_str(&e, "from", kmt_status_name(a->status));
            kmt_trace_event_end(ev->trace, &e);
            trace_counter(ev, a->heap < ev->heap_count ? a->heap : 0, ns, h->usage, h->budget);
        }
        away_remove(ev, a);
    }
    pthread_mutex_unlock(&ev->flush_lock);
}

/* ---- life ------------------------------------------------------------------------------ */

static void
trace_metadata(struct kmt_device *d, struct kmt_events *ev)
{
    VkPhysicalDeviceProperties props;
    d->instance->next.GetPhysicalDeviceProperties(d->physical->handle, &props);
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE + 96];
    snprintf(name, sizeof(name), "VK_LAYER_KMT_offer_reclaim: VkDevice 0x%" PRIx64 " (%s)",
             (uint64_t)(uintptr_t)d->handle, props.deviceName);
    struct kmt_trace_event e;
    kmt_trace_event_begin(&e, "process_name", "__metadata", 'M', 0, ev->pid, 0);
    kmt_trace_arg_str(&e, "name", name);
    kmt_trace_metadata_end(ev->trace, &e);
    kmt_trace_event_begin(&e, "thread_name", "__metadata", 'M', 0, ev->pid, 0);
    kmt_trace_arg_str(&e, "name", "device counters");
    kmt_trace_metadata_end(ev->trace, &e);
}

kmt_transition_hook
kmt_events_setup(struct kmt_device *d)
{
    bool verbose = kmt_log_wants(&d->instance->logger, KMT_LOG_VERBOSE);
    if (!verbose && !d->settings.trace[0])
        return NULL;
    struct kmt_events *ev = kmt_alloc(d->pallocator, sizeof(*ev), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!ev)
        return NULL;
    memset(ev, 0, sizeof(*ev));
    ev->allocator = d->pallocator;
    pthread_mutex_init(&ev->flush_lock, NULL);
    ev->verbose = verbose;
    ev->pid = (uint32_t)getpid();
    ev->fill = d->settings.discard_fill;
    ev->heap_count = kmt_heap_budgets(d, &d->settings, ev->budgets, NULL);
    if (d->settings.trace[0]) {
        ev->trace = kmt_trace_create(d->settings.trace, (uint64_t)d->settings.trace_max_mb << 20, ev->pid,
                                     d->pallocator);
        if (ev->trace)
            trace_metadata(d, ev);
        /* Written once now: a path that cannot be written is said at once. */
        if (!ev->trace || !kmt_trace_write(ev->trace)) {
            kmt_log_defer(&d->startup_log, &d->instance->logger, KMT_LOG_WARNING, "KMT-trace-file",
                          VK_OBJECT_TYPE_DEVICE, (uint64_t)(uintptr_t)d->handle,
                          "TRACE \"%s\" %s; this device is not traced.", d->settings.trace,
                          ev->trace ? "cannot be written" : "needs host memory that is not there");
            kmt_trace_destroy(ev->trace);
            ev->trace = NULL;
        } else if (strcmp(kmt_trace_path(ev->trace), d->settings.trace) != 0) {
            kmt_log_defer(&d->startup_log, &d->instance->logger, KMT_LOG_INFO, "KMT-trace-file",
                          VK_OBJECT_TYPE_DEVICE, (uint64_t)(uintptr_t)d->handle,
                          "TRACE \"%s\" is written by another device of this process; this device's trace goes "
                          "to \"%s\".",
                          d->settings.trace, kmt_trace_path(ev->trace));
        }
    }
    if (!ev->verbose && !ev->trace) {
        pthread_mutex_destroy(&ev->flush_lock);
        kmt_free(d->pallocator, ev);
        return NULL;
    }
    for (uint32_t h = 0; h < ev->heap_count; h++)
        trace_counter(ev, h, kmt_events_clock(), 0, ev->budgets[h]);
    d->events = ev;
    return on_transition;
}

void
kmt_events_teardown(struct kmt_device *d)
{
    struct kmt_events *ev = d->events;
    if (!ev)
        return;
    /* Without flush_lock: vkDestroyDevice may not run while any other call
     * on the device does (the app synchronises it), and the loader holds its
     * lock here, which a flush elsewhere may take under flush_lock (to send a
     * message down the chain): taking flush_lock would order the two locks
     * both ways. */
    flush_locked(d, ev, true);
    d->events = NULL;
    kmt_trace_destroy(ev->trace);
    kmt_free(ev->allocator, ev->queue);
    kmt_free(ev->allocator, ev->batch);
    kmt_free(ev->allocator, ev->away);
    pthread_mutex_destroy(&ev->flush_lock);
    kmt_free(ev->allocator, ev);
}

#endif /* KMT_TRACING */

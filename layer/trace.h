/* SPDX-License-Identifier: MIT */
/*
 * trace.h -- a Chrome trace-event JSON file (the "JSON Object Format" that
 * Perfetto and chrome://tracing open), kept in memory and written whole
 * (pure C: no Vulkan calls; tests/unit/trace_test.cpp).
 *
 * The file is
 *   {"displayTimeUnit":"ms","otherData":{...},"traceEvents":[
 *     metadata events (process and thread names: never dropped),
 *     the events, oldest first,
 *     {"name":"trace end",...,"args":{"events":N,"dropped_events":D,...}}]}
 * and it is valid JSON whenever it is written: at kmt_trace_write (the
 * layer's vkDestroyDevice), and at process exit for every trace still alive
 * (a destructor of the library: an app that calls exit() without
 * vkDestroyDevice still gets a complete file). It goes to "<path>.tmp" first and is then renamed,
 * so a reader never sees half a file.
 *
 * Memory is bounded: events live in chunks of at most max_bytes / 16; when
 * a new event would take the events past max_bytes the oldest chunk goes,
 * and the final event counts what went (dropped_events, dropped_bytes).
 *
 * Thread safety: a trace has its own lock (a leaf: nothing else is taken
 * under it). Events are formatted by the caller (struct kmt_trace_event)
 * before the lock is taken.
 */
#ifndef KMT_TRACE_H
#define KMT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kmt_trace;

/* A trace that will be written to path, the whole file at most max_bytes.
 * pid names the process in the viewer. While another live trace of the
 * process writes path, this one writes "<stem>.<n><extension>" (n = 2, 3,
 * ...; kmt_trace_path says which). Memory comes from allocator (the
 * device's; NULL: libc), which must outlive the trace. NULL when out of memory. */
struct kmt_trace *kmt_trace_create(const char *path, uint64_t max_bytes, uint32_t pid,
                                   const VkAllocationCallbacks *allocator);
/* Writes the file one last time and frees the trace. */
void kmt_trace_destroy(struct kmt_trace *trace);
/* Writes the complete file now; false (and errno) when it could not be written. */
bool kmt_trace_write(struct kmt_trace *trace);
const char *kmt_trace_path(const struct kmt_trace *trace);

/* Figures for tests and the final event. */
struct kmt_trace_stats {
    uint64_t events;         /* appended since creation (metadata excluded) */
    uint64_t dropped_events; /* of which were dropped to keep within max_bytes */
    uint64_t dropped_bytes;
    uint64_t kept_bytes;
};
struct kmt_trace_stats kmt_trace_get_stats(struct kmt_trace *trace);

/* One event being formatted: a JSON object. Text that does not fit is
 * dropped whole (the event is then not appended). */
#define KMT_TRACE_EVENT_MAX 2048
struct kmt_trace_event {
    char text[KMT_TRACE_EVENT_MAX];
    size_t len;
    bool overflow;
    bool has_args;
};

/* {"name":name,"cat":cat,"ph":ph,"ts":us,"pid":pid,"tid":tid ... ph 'i'
 * instants get "s":"t" (thread scope). ts_ns: CLOCK_MONOTONIC nanoseconds. */
void kmt_trace_event_begin(struct kmt_trace_event *event, const char *name, const char *cat, char ph, uint64_t ts_ns,
                           uint32_t pid, uint32_t tid);
/* ,"dur":us (ph 'X'). */
void kmt_trace_event_duration(struct kmt_trace_event *event, uint64_t dur_ns);
/* One member of "args": a string (escaped), an unsigned number, a handle as
 * "0x..." text, or raw JSON text the caller formatted. */
void kmt_trace_arg_str(struct kmt_trace_event *event, const char *key, const char *value);
void kmt_trace_arg_u64(struct kmt_trace_event *event, const char *key, uint64_t value);
void kmt_trace_arg_handle(struct kmt_trace_event *event, const char *key, uint64_t handle);
void kmt_trace_arg_raw(struct kmt_trace_event *event, const char *key, const char *json);
/* Closes the object and appends it to the trace (metadata: kept apart, never dropped). */
void kmt_trace_event_end(struct kmt_trace *trace, struct kmt_trace_event *event);
void kmt_trace_metadata_end(struct kmt_trace *trace, struct kmt_trace_event *event);

/* JSON string escaping of text into out (with the quotes); returns the length
 * written, 0 when it does not fit. */
size_t kmt_json_quote(const char *text, char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif

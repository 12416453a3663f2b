/* SPDX-License-Identifier: MIT */
/*
 * trace.c -- see trace.h.
 */
#include "trace.h"

#include "memory.h" /* kmt_alloc */

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Events of one chunk, each NUL-terminated, oldest first. */
struct chunk {
    struct chunk *next;
    uint64_t events;
    size_t used, capacity;
    char data[];
};

struct kmt_trace {
    pthread_mutex_t lock;
    const VkAllocationCallbacks *allocator;
    char *path;
    uint32_t pid;
    uint64_t limit;       /* the file's bound (TRACE_MAX_MB) */
    uint64_t max_bytes;   /* what events may take of it */
    size_t chunk_size;
    struct chunk *head, *tail;
    uint64_t kept_bytes;  /* events in the chunks, separators included */
    char *metadata;       /* metadata events, ",\n"-joined */
    size_t metadata_len;
    struct kmt_trace_stats stats;
    struct kmt_trace *next_live;
};

/* What the file holds besides events: header, footer and the final event. */
#define KMT_TRACE_RESERVE 1024
#define KMT_TRACE_SEPARATOR 2 /* ",\n" */

/* ---- traces alive in the process (written at exit) --------------------------------- */

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kmt_trace *live;

/* An app that calls exit() without vkDestroyDevice still gets complete
 * files. A destructor of the layer's library rather than an atexit handler:
 * it runs at exit() while the library is loaded, and at its dlclose (when
 * every trace is gone) -- an atexit handler can outlive the library (the
 * loader unloads it at vkDestroyInstance; TSan's atexit is not bound to the
 * library) and then jumps into unmapped code at exit. */
__attribute__((destructor)) static void
write_live_traces(void)
{
    pthread_mutex_lock(&live_lock);
    for (struct kmt_trace *t = live; t; t = t->next_live)
        kmt_trace_write(t);
    pthread_mutex_unlock(&live_lock);
}

static bool
path_in_use_locked(const char *path)
{
    for (const struct kmt_trace *t = live; t; t = t->next_live)
        if (strcmp(t->path, path) == 0)
            return true;
    return false;
}

/* path, or "<stem>.<n><extension>" (n = 2, 3, ...) while a live trace of
 * the process writes path: two devices alive at once never share a file. */
static char *
unique_path_locked(const char *path, const VkAllocationCallbacks *allocator)
{
    size_t len = strlen(path);
    char *out = kmt_alloc(allocator, len + 16, VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!out)
        return NULL;
    memcpy(out, path, len + 1);
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t stem = dot && (!slash || dot > slash + 1) ? (size_t)(dot - path) : len;
    for (unsigned n = 2; path_in_use_locked(out) && n < 100000; n++)
        snprintf(out, len + 16, "%.*s.%u%s", (int)stem, path, n, path + stem);
    return out;
}

struct kmt_trace *
kmt_trace_create(const char *path, uint64_t max_bytes, uint32_t pid, const VkAllocationCallbacks *allocator)
{
    struct kmt_trace *t = kmt_alloc(allocator, sizeof(*t), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!t)
        return NULL;
    memset(t, 0, sizeof(*t));
    t->allocator = allocator;
    pthread_mutex_init(&t->lock, NULL);
    t->pid = pid;
    t->limit = max_bytes;
    t->max_bytes = max_bytes > 2 * KMT_TRACE_RESERVE ? max_bytes - KMT_TRACE_RESERVE : KMT_TRACE_RESERVE;
    t->chunk_size = (size_t)(t->max_bytes / 16);
    if (t->chunk_size > (1u << 20))
        t->chunk_size = 1u << 20;
    if (t->chunk_size < 4 * KMT_TRACE_EVENT_MAX)
        t->chunk_size = 4 * KMT_TRACE_EVENT_MAX;
    pthread_mutex_lock(&live_lock);
    t->path = unique_path_locked(path, allocator);
    if (t->path) {
        t->next_live = live;
        live = t;
    }
    pthread_mutex_unlock(&live_lock);
    if (!t->path) {
        pthread_mutex_destroy(&t->lock);
        kmt_free(allocator, t);
        return NULL;
    }
    return t;
}

void
kmt_trace_destroy(struct kmt_trace *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&live_lock);
    for (struct kmt_trace **link = &live; *link; link = &(*link)->next_live) {
        if (*link == t) {
            *link = t->next_live;
            break;
        }
    }
    pthread_mutex_unlock(&live_lock);
    kmt_trace_write(t);
    for (struct chunk *c = t->head; c;) {
        struct chunk *next = c->next;
        kmt_free(t->allocator, c);
        c = next;
    }
    kmt_free(t->allocator, t->metadata);
    kmt_free(t->allocator, t->path);
    pthread_mutex_destroy(&t->lock);
    kmt_free(t->allocator, t);
}

const char *
kmt_trace_path(const struct kmt_trace *t)
{
    return t->path;
}

struct kmt_trace_stats
kmt_trace_get_stats(struct kmt_trace *t)
{
    pthread_mutex_lock(&t->lock);
    struct kmt_trace_stats s = t->stats;
    s.kept_bytes = t->kept_bytes;
    pthread_mutex_unlock(&t->lock);
    return s;
}

/* ---- events ------------------------------------------------------------------ */

size_t
kmt_json_quote(const char *text, char *out, size_t size)
{
    size_t n = 0;
#define PUT(c)                                                                                               \
    do {                                                                                                     \
        if (n + 1 >= size)                                                                                   \
            return 0;                                                                                        \
        out[n++] = (c);                                                                                      \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\') {
            PUT('\\');
            PUT((char)*p);
        } else if (*p < 0x20) {
            static const char hex[] = "0123456789abcdef";
            PUT('\\');
            PUT('u');
            PUT('0');
            PUT('0');
            PUT(hex[*p >> 4]);
            PUT(hex[*p & 15]);
        } else {
            PUT((char)*p);
        }
    }
    PUT('"');
#undef PUT
    out[n] = '\0';
    return n;
}

/* Appenders (no printf: formatting is most of an event's cost). Text that
 * does not fit marks the event as overflowed; it is then not appended. */
static void
put_bytes(struct kmt_trace_event *e, const char *text, size_t n)
{
    if (e->overflow || n >= sizeof(e->text) - e->len) {
        e->overflow = true;
        return;
    }
    memcpy(e->text + e->len, text, n);
    e->len += n;
    e->text[e->len] = '\0';
}

static void
put(struct kmt_trace_event *e, const char *text)
{
    put_bytes(e, text, strlen(text));
}

static void
put_u64(struct kmt_trace_event *e, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_bytes(e, digits + sizeof(digits) - n, n);
}

static void
put_hex(struct kmt_trace_event *e, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    char digits[18];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = hex[v & 15];
        v >>= 4;
    } while (v);
    digits[sizeof(digits) - 1 - n++] = 'x';
    digits[sizeof(digits) - 1 - n++] = '0';
    put_bytes(e, digits + sizeof(digits) - n, n);
}

static void
put_quoted(struct kmt_trace_event *e, const char *text)
{
    if (e->overflow)
        return;
    size_t n = kmt_json_quote(text, e->text + e->len, sizeof(e->text) - e->len);
    if (!n)
        e->overflow = true;
    e->len += n;
}

/* Microseconds with the nanoseconds as three decimals. */
static void
put_us(struct kmt_trace_event *e, const char *key, uint64_t ns)
{
    char fraction[5] = {'.', (char)('0' + ns / 100 % 10), (char)('0' + ns / 10 % 10), (char)('0' + ns % 10), 0};
    put(e, key);
    put_u64(e, ns / 1000);
    put_bytes(e, fraction, 4);
}

void
kmt_trace_event_begin(struct kmt_trace_event *e, const char *name, const char *cat, char ph, uint64_t ts_ns,
                      uint32_t pid, uint32_t tid)
{
    char phase[] = ",\"ph\":\"?\"";
    phase[7] = ph;
    e->len = 0;
    e->overflow = false;
    e->has_args = false;
    put(e, "{\"name\":");
    put_quoted(e, name);
    put(e, ",\"cat\":");
    put_quoted(e, cat);
    put(e, phase);
    put_us(e, ",\"ts\":", ts_ns);
    put(e, ",\"pid\":");
    put_u64(e, pid);
    put(e, ",\"tid\":");
    put_u64(e, tid);
    if (ph == 'i')
        put(e, ",\"s\":\"t\"");
}

void
kmt_trace_event_duration(struct kmt_trace_event *e, uint64_t dur_ns)
{
    put_us(e, ",\"dur\":", dur_ns);
}

/* Keys are the layer's own identifiers: nothing to escape. */
static void
arg_key(struct kmt_trace_event *e, const char *key)
{
    put(e, e->has_args ? ",\"" : ",\"args\":{\"");
    e->has_args = true;
    put(e, key);
    put(e, "\":");
}

void
kmt_trace_arg_str(struct kmt_trace_event *e, const char *key, const char *value)
{
    arg_key(e, key);
    put_quoted(e, value ? value : "");
}

void
kmt_trace_arg_u64(struct kmt_trace_event *e, const char *key, uint64_t value)
{
    arg_key(e, key);
    put_u64(e, value);
}

void
kmt_trace_arg_handle(struct kmt_trace_event *e, const char *key, uint64_t handle)
{
    arg_key(e, key);
    put(e, "\"");
    put_hex(e, handle);
    put(e, "\"");
}

void
kmt_trace_arg_raw(struct kmt_trace_event *e, const char *key, const char *json)
{
    arg_key(e, key);
    put(e, json);
}

static bool
close_event(struct kmt_trace_event *e)
{
    if (e->has_args)
        put(e, "}");
    put(e, "}");
    return !e->overflow;
}

static void
drop_oldest_locked(struct kmt_trace *t)
{
    struct chunk *c = t->head;
    t->head = c->next;
    if (!t->head)
        t->tail = NULL;
    /* Each event holds its text and a NUL here, its text and a separator in the file. */
    uint64_t bytes = c->used - c->events + c->events * KMT_TRACE_SEPARATOR;
    t->kept_bytes -= bytes;
    t->stats.dropped_events += c->events;
    t->stats.dropped_bytes += bytes;
    kmt_free(t->allocator, c);
}

void
kmt_trace_event_end(struct kmt_trace *t, struct kmt_trace_event *e)
{
    if (!close_event(e))
        return;
    size_t need = e->len + 1; /* with its NUL */
    uint64_t cost = e->len + KMT_TRACE_SEPARATOR;
    pthread_mutex_lock(&t->lock);
    t->stats.events++;
    while (t->head && t->kept_bytes + cost > t->max_bytes)
        drop_oldest_locked(t);
    if (!t->tail || t->tail->used + need > t->tail->capacity) {
        size_t capacity = t->chunk_size > need ? t->chunk_size : need;
        struct chunk *c = kmt_alloc(t->allocator, sizeof(*c) + capacity, VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
        if (!c) {
            t->stats.dropped_events++;
            t->stats.dropped_bytes += cost;
            pthread_mutex_unlock(&t->lock);
            return;
        }
        c->next = NULL;
        c->events = 0;
        c->used = 0;
        c->capacity = capacity;
        if (t->tail)
            t->tail->next = c;
        else
            t->head = c;
        t->tail = c;
    }
    memcpy(t->tail->data + t->tail->used, e->text, need);
    t->tail->used += need;
    t->tail->events++;
    t->kept_bytes += cost;
    pthread_mutex_unlock(&t->lock);
}

void
kmt_trace_metadata_end(struct kmt_trace *t, struct kmt_trace_event *e)
{
    if (!close_event(e))
        return;
    pthread_mutex_lock(&t->lock);
    char *bigger = kmt_alloc(t->allocator, t->metadata_len + e->len + KMT_TRACE_SEPARATOR + 1,
                             VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (bigger) {
        if (t->metadata_len)
            memcpy(bigger, t->metadata, t->metadata_len + 1);
        kmt_free(t->allocator, t->metadata);
        t->metadata = bigger;
        if (t->metadata_len)
            t->metadata_len += (size_t)sprintf(t->metadata + t->metadata_len, ",\n");
        memcpy(t->metadata + t->metadata_len, e->text, e->len + 1);
        t->metadata_len += e->len;
        /* Metadata is never dropped: it comes out of the events' share. */
        t->max_bytes = t->max_bytes > e->len + KMT_TRACE_SEPARATOR ? t->max_bytes - e->len - KMT_TRACE_SEPARATOR : 0;
    }
    pthread_mutex_unlock(&t->lock);
}

/* ---- the file ------------------------------------------------------------------ */

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool
kmt_trace_write(struct kmt_trace *t)
{
    size_t tmp_len = strlen(t->path) + 5;
    char *tmp = kmt_alloc(t->allocator, tmp_len, VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
    if (!tmp)
        return false;
    snprintf(tmp, tmp_len, "%s.tmp", t->path);
    pthread_mutex_lock(&t->lock);
    FILE *f = fopen(tmp, "w");
    bool ok = f != NULL;
    if (f) {
        fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"source\":\"VK_LAYER_KMT_offer_reclaim\"},"
              "\"traceEvents\":[\n",
              f);
        bool first = true;
        if (t->metadata_len) {
            fwrite(t->metadata, 1, t->metadata_len, f);
            first = false;
        }
        for (const struct chunk *c = t->head; c; c = c->next) {
            for (size_t at = 0; at < c->used;) {
                size_t len = strlen(c->data + at);
                if (!first)
                    fputs(",\n", f);
                fwrite(c->data + at, 1, len, f);
                first = false;
                at += len + 1;
            }
        }
        struct kmt_trace_event end;
        kmt_trace_event_begin(&end, "trace end", "trace", 'i', now_ns(), t->pid, 0);
        kmt_trace_arg_u64(&end, "events", t->stats.events);
        kmt_trace_arg_u64(&end, "dropped_events", t->stats.dropped_events);
        kmt_trace_arg_u64(&end, "dropped_bytes", t->stats.dropped_bytes);
        kmt_trace_arg_u64(&end, "max_bytes", t->limit);
        close_event(&end);
        fprintf(f, "%s%s\n]}\n", first ? "" : ",\n", end.text);
        ok = !ferror(f);
        ok &= fclose(f) == 0;
        ok = ok && rename(tmp, t->path) == 0;
    }
    pthread_mutex_unlock(&t->lock);
    kmt_free(t->allocator, tmp);
    return ok;
}

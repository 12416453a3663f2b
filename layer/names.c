/* SPDX-License-Identifier: MIT */
/*
 * names.c -- see names.h.
 */
#include "names.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

struct name_entry {
    uint64_t handle; /* 0: empty slot */
    uint32_t type;
    char name[KMT_NAME_MAX];
};

/* Linear probing with backward-shift deletion: no tombstones, however many
 * objects come and go. */
struct kmt_names {
    pthread_mutex_t lock;
    const VkAllocationCallbacks *allocator; /* the device's */
    struct name_entry *slots;
    uint32_t mask, count;
};

static bool
kept_type(VkObjectType type)
{
    switch (type) {
    case VK_OBJECT_TYPE_DEVICE_MEMORY:
    case VK_OBJECT_TYPE_BUFFER:
    case VK_OBJECT_TYPE_IMAGE:
    case VK_OBJECT_TYPE_DEVICE:
    case VK_OBJECT_TYPE_QUEUE: return true;
    default: return false;
    }
}

static uint32_t
slot_of(const struct kmt_names *t, uint32_t type, uint64_t handle)
{
    uint64_t h = (handle ^ ((uint64_t)type << 56)) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32) & t->mask;
}

static struct name_entry *
find_locked(const struct kmt_names *t, uint32_t type, uint64_t handle)
{
    if (!t->slots)
        return NULL;
    for (uint32_t i = slot_of(t, type, handle);; i = (i + 1) & t->mask) {
        struct name_entry *e = &t->slots[i];
        if (!e->handle)
            return NULL;
        if (e->handle == handle && e->type == type)
            return e;
    }
}

static bool
grow_locked(struct kmt_names *t)
{
    uint32_t capacity = t->slots ? (t->mask + 1) * 2 : 16;
    struct name_entry *slots = kmt_alloc(t->allocator, capacity * sizeof(*slots), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!slots)
        return false;
    memset(slots, 0, capacity * sizeof(*slots));
    struct name_entry *old = t->slots;
    uint32_t old_capacity = old ? t->mask + 1 : 0;
    t->slots = slots;
    t->mask = capacity - 1;
    for (uint32_t i = 0; i < old_capacity; i++) {
        if (!old[i].handle)
            continue;
        uint32_t j = slot_of(t, old[i].type, old[i].handle);
        while (slots[j].handle)
            j = (j + 1) & t->mask;
        slots[j] = old[i];
    }
    kmt_free(t->allocator, old);
    return true;
}

static void
remove_locked(struct kmt_names *t, struct name_entry *e)
{
    uint32_t hole = (uint32_t)(e - t->slots);
    t->slots[hole].handle = 0;
    t->count--;
    /* Shift back later members of the probe run that may move into the hole. */
    for (uint32_t i = (hole + 1) & t->mask; t->slots[i].handle; i = (i + 1) & t->mask) {
        uint32_t home = slot_of(t, t->slots[i].type, t->slots[i].handle);
        if (((i - home) & t->mask) >= ((i - hole) & t->mask)) {
            t->slots[hole] = t->slots[i];
            t->slots[i].handle = 0;
            hole = i;
        }
    }
}

static void
set_locked(struct kmt_names *t, uint32_t type, uint64_t handle, const char *name)
{
    struct name_entry *e = find_locked(t, type, handle);
    if (!name || !*name) {
        if (e)
            remove_locked(t, e);
        return;
    }
    if (!e) {
        if ((t->count + 1) * 4 > (t->slots ? t->mask + 1 : 0) * 3 && !grow_locked(t))
            return; /* out of host memory: the object stays unnamed in messages */
        uint32_t i = slot_of(t, type, handle);
        while (t->slots[i].handle)
            i = (i + 1) & t->mask;
        e = &t->slots[i];
        e->handle = handle;
        e->type = type;
        t->count++;
    }
    snprintf(e->name, sizeof(e->name), "%s", name);
}

/* The device's table, created at the first name (two threads naming at once
 * race on the exchange; the loser frees its copy). */
static struct kmt_names *
names_of(struct kmt_device *d)
{
    struct kmt_names *t = atomic_load_explicit(&d->names, memory_order_acquire);
    if (t)
        return t;
    struct kmt_names *fresh = kmt_alloc(d->pallocator, sizeof(*fresh), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!fresh)
        return NULL;
    memset(fresh, 0, sizeof(*fresh));
    fresh->allocator = d->pallocator;
    pthread_mutex_init(&fresh->lock, NULL);
    if (atomic_compare_exchange_strong(&d->names, &t, fresh))
        return fresh;
    pthread_mutex_destroy(&fresh->lock);
    kmt_free(d->pallocator, fresh);
    return t;
}

/* ---- the hook ----------------------------------------------------------------- */

void
kmt_names_record(struct kmt_device *d, const VkDebugUtilsObjectNameInfoEXT *pNameInfo)
{
    if (!kept_type(pNameInfo->objectType) || !pNameInfo->objectHandle)
        return;
    struct kmt_names *t = names_of(d);
    if (t) {
        pthread_mutex_lock(&t->lock);
        set_locked(t, (uint32_t)pNameInfo->objectType, pNameInfo->objectHandle, pNameInfo->pObjectName);
        pthread_mutex_unlock(&t->lock);
    }
}

/* ---- lookups -------------------------------------------------------------------- */

bool
kmt_object_name(const struct kmt_device *d, VkObjectType type, uint64_t handle, char *out, size_t size)
{
    out[0] = '\0';
    struct kmt_names *t = atomic_load_explicit(&((struct kmt_device *)d)->names, memory_order_acquire);
    if (!t || !handle)
        return false;
    pthread_mutex_lock(&t->lock);
    const struct name_entry *e = find_locked(t, (uint32_t)type, handle);
    if (e)
        snprintf(out, size, "%s", e->name);
    pthread_mutex_unlock(&t->lock);
    return e != NULL;
}

void
kmt_object_destroyed_slow(struct kmt_device *d, VkObjectType type, uint64_t handle)
{
    if (type == VK_OBJECT_TYPE_DEVICE_MEMORY)
        kmt_events_memory_freed(d, handle); /* before the name goes: the trace names it */
    struct kmt_names *t = atomic_load_explicit(&d->names, memory_order_acquire);
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    set_locked(t, (uint32_t)type, handle, NULL);
    pthread_mutex_unlock(&t->lock);
}

void
kmt_names_destroy(struct kmt_device *d)
{
    struct kmt_names *t = atomic_exchange(&d->names, NULL);
    if (!t)
        return;
    kmt_free(t->allocator, t->slots);
    pthread_mutex_destroy(&t->lock);
    kmt_free(t->allocator, t);
}

/* ---- messages ------------------------------------------------------------------- */

static const char *
type_word(VkObjectType type)
{
    switch (type) {
    case VK_OBJECT_TYPE_DEVICE_MEMORY: return "memory";
    case VK_OBJECT_TYPE_BUFFER: return "buffer";
    case VK_OBJECT_TYPE_IMAGE: return "image";
    case VK_OBJECT_TYPE_DEVICE: return "device";
    case VK_OBJECT_TYPE_QUEUE: return "queue";
    default: return "object";
    }
}

void
kmt_device_log(const struct kmt_device *d, enum kmt_log_level level, const char *id, VkObjectType object_type,
               uint64_t object, const char *text)
{
    const struct kmt_logger *logger = &d->instance->logger;
    if (!kmt_log_wants(logger, level))
        return;
    char name[KMT_NAME_MAX];
    struct kmt_log_object subject = {object_type, object, NULL};
    if (!kmt_object_name(d, object_type, object, name, sizeof(name))) {
        kmt_log_send(logger, level, id, 1, &subject, text, false);
        return;
    }
    subject.name = name;
    char quoted[KMT_NAME_MAX + 2];
    snprintf(quoted, sizeof(quoted), "\"%s\"", name);
    if (strstr(text, quoted)) {
        kmt_log_send(logger, level, id, 1, &subject, text, false);
        return;
    }
    char named[1280];
    snprintf(named, sizeof(named), "%s [%s 0x%" PRIx64 " is %s]", text, type_word(object_type), object, quoted);
    kmt_log_send(logger, level, id, 1, &subject, named, false);
}

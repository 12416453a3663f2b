/* SPDX-License-Identifier: MIT */
/*
 * device.c -- the global handle -> state tables and physical-device probing.
 *
 * One reader-writer lock guards the four hash tables; creation and
 * destruction take it exclusively. Every hooked call looks a handle up, so the
 * first few entries of each table are mirrored in a small array read without
 * any lock (written under the lock, keys published last): apps have one or
 * two devices and a few queues, and a lookup is then a short scan of atomics.
 * The tables live as long as they hold something, so nothing is left behind
 * when the loader unloads the layer.
 */
#include "device.h"

#include <stdlib.h>
#include <string.h>

#define KMT_FAST_SLOTS 32

struct table {
    struct kmt_handle_map map;
    _Atomic uint64_t fast_keys[KMT_FAST_SLOTS];
    void *_Atomic fast_values[KMT_FAST_SLOTS];
};

static pthread_rwlock_t tables_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct table instances, physical_devices, devices, queues;

static bool
table_put(struct table *t, uint64_t key, void *value)
{
    pthread_rwlock_wrlock(&tables_lock);
    bool ok = (t->map.keys || kmt_map_init(&t->map, 16, NULL)) && kmt_map_put(&t->map, key, value);
    for (int i = 0; ok && i < KMT_FAST_SLOTS; i++) {
        if (atomic_load_explicit(&t->fast_keys[i], memory_order_relaxed) == 0) {
            atomic_store_explicit(&t->fast_values[i], value, memory_order_relaxed);
            atomic_store_explicit(&t->fast_keys[i], key, memory_order_release);
            break;
        }
    }
    pthread_rwlock_unlock(&tables_lock);
    return ok;
}

static void *
table_get(struct table *t, uint64_t key)
{
    if (key == 0)
        return NULL; /* empty fast slots hold 0 */
    /* Relaxed loads while searching (a plain load on the machines we run
     * on); the hit is confirmed with acquire below. */
    for (int i = 0; i < KMT_FAST_SLOTS; i++) {
        if (atomic_load_explicit(&t->fast_keys[i], memory_order_relaxed) == key &&
            atomic_load_explicit(&t->fast_keys[i], memory_order_acquire) == key) {
            void *value = atomic_load_explicit(&t->fast_values[i], memory_order_acquire);
            /* The slot could have been recycled in between: only when the app
             * destroys an object while using it, but then this is no match. */
            if (atomic_load_explicit(&t->fast_keys[i], memory_order_acquire) == key)
                return value;
        }
    }
    pthread_rwlock_rdlock(&tables_lock);
    void *value = kmt_map_get(&t->map, key);
    pthread_rwlock_unlock(&tables_lock);
    return value;
}

static void *
table_remove_locked(struct table *t, uint64_t key)
{
    for (int i = 0; i < KMT_FAST_SLOTS; i++)
        if (atomic_load_explicit(&t->fast_keys[i], memory_order_relaxed) == key)
            atomic_store_explicit(&t->fast_keys[i], 0, memory_order_release);
    void *value = kmt_map_remove(&t->map, key);
    if (t->map.keys && t->map.count == 0)
        kmt_map_finish(&t->map);
    return value;
}

static void *
table_remove(struct table *t, uint64_t key)
{
    pthread_rwlock_wrlock(&tables_lock);
    void *value = table_remove_locked(t, key);
    pthread_rwlock_unlock(&tables_lock);
    return value;
}

bool
kmt_register_instance(struct kmt_instance *instance)
{
    return table_put(&instances, (uint64_t)(uintptr_t)instance->handle, instance);
}

struct kmt_instance *
kmt_unregister_instance(VkInstance instance)
{
    return table_remove(&instances, (uint64_t)(uintptr_t)instance);
}

struct kmt_instance *
kmt_instance_from_handle(VkInstance instance)
{
    return table_get(&instances, (uint64_t)(uintptr_t)instance);
}

bool
kmt_register_physical_device(VkPhysicalDevice handle, struct kmt_instance *instance)
{
    if (table_get(&physical_devices, (uint64_t)(uintptr_t)handle))
        return true;
    struct kmt_physical_device *p = calloc(1, sizeof(*p));
    if (!p)
        return false;
    p->handle = handle;
    p->instance = instance;
    if (!table_put(&physical_devices, (uint64_t)(uintptr_t)handle, p)) {
        free(p);
        return false;
    }
    return true;
}

struct kmt_physical_device *
kmt_physical_from_handle(VkPhysicalDevice handle)
{
    return table_get(&physical_devices, (uint64_t)(uintptr_t)handle);
}

void
kmt_unregister_physical_devices_of(struct kmt_instance *instance)
{
    pthread_rwlock_wrlock(&tables_lock);
    struct kmt_handle_map *map = &physical_devices.map;
    for (uint32_t i = 0; map->keys && i <= map->mask; i++) {
        struct kmt_physical_device *p = map->values[i];
        if (map->keys[i] && p->instance == instance) {
            table_remove_locked(&physical_devices, map->keys[i]);
            free(p);
            i = (uint32_t)-1; /* removal shifts entries: rescan */
            if (!map->keys)
                break;
        }
    }
    pthread_rwlock_unlock(&tables_lock);
}

bool
kmt_register_device(struct kmt_device *device)
{
    return table_put(&devices, (uint64_t)(uintptr_t)device->handle, device);
}

/* Each thread remembers the last device it looked up: every hooked call
 * starts with this lookup, and apps call one device from many threads. The
 * epoch changes whenever a device goes, so a remembered device is never
 * used after its vkDestroyDevice (nor a new device mistaken for one that
 * had the same handle). Initial-exec TLS: a fixed offset, no call. */
static _Atomic uint64_t device_epoch = 1;
static __thread struct {
    VkDevice handle;
    struct kmt_device *device;
    uint64_t epoch;
} last_device __attribute__((tls_model("initial-exec")));

struct kmt_device *
kmt_unregister_device(VkDevice device)
{
    struct kmt_device *d = table_remove(&devices, (uint64_t)(uintptr_t)device);
    atomic_fetch_add_explicit(&device_epoch, 1, memory_order_release);
    return d;
}

struct kmt_device *
kmt_device_from_handle(VkDevice device)
{
    const uint64_t epoch = atomic_load_explicit(&device_epoch, memory_order_acquire);
    if (last_device.handle == device && last_device.epoch == epoch && device)
        return last_device.device;
    struct kmt_device *d = table_get(&devices, (uint64_t)(uintptr_t)device);
    if (d) {
        last_device.handle = device;
        last_device.device = d;
        last_device.epoch = epoch;
    }
    return d;
}

bool
kmt_register_queue(struct kmt_queue *queue)
{
    return table_put(&queues, (uint64_t)(uintptr_t)queue->handle, queue);
}

void
kmt_unregister_queue(VkQueue queue)
{
    table_remove(&queues, (uint64_t)(uintptr_t)queue);
}

struct kmt_queue *
kmt_queue_from_handle(VkQueue queue)
{
    return table_get(&queues, (uint64_t)(uintptr_t)queue);
}

static bool
has_extension(const VkExtensionProperties *list, uint32_t count, const char *name)
{
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(list[i].extensionName, name) == 0)
            return true;
    return false;
}

void
kmt_probe_physical_device(struct kmt_physical_device *p)
{
    if (p->probed)
        return;
    const struct kmt_instance_dispatch *next = &p->instance->next;

    VkPhysicalDeviceProperties props;
    next->GetPhysicalDeviceProperties(p->handle, &props);
    uint32_t api = p->instance->api_version;
    p->api_version = props.apiVersion < api ? props.apiVersion : api;

    uint32_t count = 0;
    VkExtensionProperties *exts = NULL;
    if (next->EnumerateDeviceExtensionProperties(p->handle, NULL, &count, NULL) == VK_SUCCESS && count) {
        exts = calloc(count, sizeof(*exts));
        if (exts && next->EnumerateDeviceExtensionProperties(p->handle, NULL, &count, exts) < 0)
            count = 0;
    }
    if (!exts)
        count = 0;
    p->timeline_extension = has_extension(exts, count, VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME);
    bool has_priority = has_extension(exts, count, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME);
    bool has_pageable = has_priority && has_extension(exts, count, VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME);
    p->memory_budget = has_extension(exts, count, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    free(exts);

    VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT};
    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT};
    VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    void **tail = &features.pNext;
    bool timeline_known = p->api_version >= VK_API_VERSION_1_2 || p->timeline_extension;
    if (timeline_known) {
        *tail = &timeline;
        tail = &timeline.pNext;
    }
    if (has_priority) {
        *tail = &priority;
        tail = &priority.pNext;
    }
    if (has_pageable)
        *tail = &pageable;
    if (next->GetPhysicalDeviceFeatures2)
        next->GetPhysicalDeviceFeatures2(p->handle, &features);
    p->timeline = timeline_known && timeline.timelineSemaphore;
    p->memory_priority = has_priority && priority.memoryPriority;
    p->pageable = p->memory_priority && has_pageable && pageable.pageableDeviceLocalMemory;
    p->probed = true;
}

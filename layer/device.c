/*
 * device.c -- the global handle -> state tables and physical-device probing.
 *
 * One reader-writer lock guards the four tables: lookups (every hooked call)
 * share it, creation and destruction take it exclusively. The tables live as
 * long as they hold something, so nothing is left behind when the loader
 * unloads the layer.
 */
#include "device.h"

#include <stdlib.h>
#include <string.h>

static pthread_rwlock_t tables_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct kmt_handle_map instances, physical_devices, devices, queues;

static bool
table_put(struct kmt_handle_map *map, uint64_t key, void *value)
{
    pthread_rwlock_wrlock(&tables_lock);
    bool ok = (map->keys || kmt_map_init(map, 16, NULL)) && kmt_map_put(map, key, value);
    pthread_rwlock_unlock(&tables_lock);
    return ok;
}

static void *
table_get(struct kmt_handle_map *map, uint64_t key)
{
    pthread_rwlock_rdlock(&tables_lock);
    void *value = kmt_map_get(map, key);
    pthread_rwlock_unlock(&tables_lock);
    return value;
}

static void *
table_remove_locked(struct kmt_handle_map *map, uint64_t key)
{
    void *value = kmt_map_remove(map, key);
    if (map->keys && map->count == 0)
        kmt_map_finish(map);
    return value;
}

static void *
table_remove(struct kmt_handle_map *map, uint64_t key)
{
    pthread_rwlock_wrlock(&tables_lock);
    void *value = table_remove_locked(map, key);
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
    for (uint32_t i = 0; physical_devices.keys && i <= physical_devices.mask; i++) {
        struct kmt_physical_device *p = physical_devices.values[i];
        if (physical_devices.keys[i] && p->instance == instance) {
            table_remove_locked(&physical_devices, physical_devices.keys[i]);
            free(p);
            i = (uint32_t)-1; /* removal shifts entries: rescan */
            if (!physical_devices.keys)
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

struct kmt_device *
kmt_unregister_device(VkDevice device)
{
    return table_remove(&devices, (uint64_t)(uintptr_t)device);
}

struct kmt_device *
kmt_device_from_handle(VkDevice device)
{
    return table_get(&devices, (uint64_t)(uintptr_t)device);
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

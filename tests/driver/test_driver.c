/* SPDX-License-Identifier: MIT */
/*
 * VK_LAYER_KMT_test_driver: the bottom layer of the test stack. It adds to
 * lavapipe what this project's tests need (see test_driver.h) and strips all of
 * it again before calling lavapipe.
 *
 * Loader facts this file relies on (shared/reference/LOADER-NOTES.md):
 *  - only static functions are handed to the loader; the exported
 *    vkGetInstanceProcAddr & co are thin wrappers (exported-GIPA deadlock);
 *  - next-layer instance functions are resolved inside vkCreateInstance;
 *  - dispatch keys are not final during creation: instances and devices are
 *    keyed by handle value, queues by the handle vkGetDeviceQueue(2) returns,
 *    physical devices by their dispatch key computed lazily after creation.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#define VK_NO_PROTOTYPES 1

#include "test_driver.h"

#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TD_EXPORT __attribute__((visibility("default")))
#define TD_LAYER_NAME "VK_LAYER_KMT_test_driver"
#define TD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TD_MAX_QUEUES 64
#define TD_MAX_FAMILIES 16

/* ------------------------------------------------------------------------- */
/* Control struct and knobs                                                  */

static struct kmt_test_driver_control g_control = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The knob values read from the environment at the last vkCreateInstance:
 * kmt_test_driver_reset() returns the knobs to these. */
static struct {
    bool hide_memory_priority, hide_pageable, hide_memory_budget, device_local_only_type, opaque_extension;
    uint64_t heap_budget;
    uint32_t queue_count;
} g_env_knobs;

static bool td_env_flag(const char *name) {
    const char *v = getenv(name);
    return v && v[0] && strcmp(v, "0") != 0;
}

static bool td_list_has(const char *list, const char *word) {
    size_t n = strlen(word);
    const char *p = list;
    while (p && *p) {
        while (*p == ',' || *p == ' ') p++;
        size_t len = strcspn(p, ", ");
        if (len == n && strncmp(p, word, n) == 0) return true;
        p += len;
    }
    return false;
}

static void td_read_env_knobs(void) {
    const char *hide = getenv("KMT_TEST_DRIVER_HIDE");
    bool all = hide && td_list_has(hide, "all");
    g_env_knobs.hide_memory_priority = all || (hide && td_list_has(hide, "priority"));
    g_env_knobs.hide_pageable = all || (hide && td_list_has(hide, "pageable"));
    g_env_knobs.hide_memory_budget = all || (hide && td_list_has(hide, "budget"));
    g_env_knobs.device_local_only_type = td_env_flag("KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE");
    g_env_knobs.opaque_extension = td_env_flag("KMT_TEST_DRIVER_OPAQUE_EXTENSION");
    const char *mb = getenv("KMT_TEST_DRIVER_BUDGET_MB");
    g_env_knobs.heap_budget = (mb && mb[0]) ? (uint64_t)strtoull(mb, NULL, 10) << 20 : 0;
    const char *queues = getenv("KMT_TEST_DRIVER_QUEUE_COUNT");
    g_env_knobs.queue_count = (queues && queues[0]) ? (uint32_t)strtoul(queues, NULL, 10) : 0;
    if (g_env_knobs.queue_count > TD_MAX_QUEUES / 2) g_env_knobs.queue_count = TD_MAX_QUEUES / 2;
}

static void td_apply_env_knobs(void) {
    g_control.hide_memory_priority = g_env_knobs.hide_memory_priority;
    g_control.hide_pageable = g_env_knobs.hide_pageable;
    g_control.hide_memory_budget = g_env_knobs.hide_memory_budget;
    g_control.device_local_only_type = g_env_knobs.device_local_only_type;
    g_control.opaque_extension = g_env_knobs.opaque_extension;
    g_control.heap_budget = g_env_knobs.heap_budget;
    g_control.queue_count = g_env_knobs.queue_count;
    __atomic_store_n(&g_control.fence_wait_hold, false, __ATOMIC_RELAXED);
    g_control.reported_heap_usage = 0;
}

static void td_copy_name(char dst[VK_MAX_EXTENSION_NAME_SIZE], const char *src) {
    strncpy(dst, src, VK_MAX_EXTENSION_NAME_SIZE - 1);
    dst[VK_MAX_EXTENSION_NAME_SIZE - 1] = '\0';
}

/* ------------------------------------------------------------------------- */
/* Live allocations: VkDeviceMemory -> size (for heap_usage)                 */

struct td_allocation {
    uint64_t memory;
    VkDevice device;
    VkDeviceSize size;
    struct td_allocation *next;
};
#define TD_ALLOC_BUCKETS 1024
static struct td_allocation *g_allocations[TD_ALLOC_BUCKETS]; /* guarded by g_control.lock */

static size_t td_alloc_bucket(uint64_t memory) {
    return (size_t)((memory * 0x9E3779B97F4A7C15ull) >> 54) % TD_ALLOC_BUCKETS;
}

/* Caller holds g_control.lock. */
static void td_allocation_add(VkDevice device, uint64_t memory, VkDeviceSize size) {
    struct td_allocation *a = malloc(sizeof(*a));
    if (!a) return;
    size_t b = td_alloc_bucket(memory);
    a->memory = memory;
    a->device = device;
    a->size = size;
    a->next = g_allocations[b];
    g_allocations[b] = a;
    g_control.heap_usage += size;
    g_control.allocation_count++;
}

/* Caller holds g_control.lock. */
static void td_allocation_remove(uint64_t memory) {
    for (struct td_allocation **p = &g_allocations[td_alloc_bucket(memory)]; *p; p = &(*p)->next) {
        if ((*p)->memory == memory) {
            struct td_allocation *a = *p;
            *p = a->next;
            g_control.heap_usage -= a->size;
            g_control.allocation_count--;
            free(a);
            return;
        }
    }
}

/* Caller holds g_control.lock. A destroyed device's memory is gone with it. */
static void td_allocation_remove_device(VkDevice device) {
    for (size_t b = 0; b < TD_ALLOC_BUCKETS; b++) {
        for (struct td_allocation **p = &g_allocations[b]; *p;) {
            if ((*p)->device == device) {
                struct td_allocation *a = *p;
                *p = a->next;
                g_control.heap_usage -= a->size;
                g_control.allocation_count--;
                free(a);
            } else {
                p = &(*p)->next;
            }
        }
    }
}

/* Caller holds g_control.lock. */
static void td_record_priority(uint64_t memory, float priority, enum kmt_td_priority_source source) {
    uint32_t i = g_control.priority_record_count++;
    if (i < KMT_TD_MAX_PRIORITY_RECORDS) {
        g_control.priority_records[i].memory = memory;
        g_control.priority_records[i].priority = priority;
        g_control.priority_records[i].source = source;
    }
}

/* ------------------------------------------------------------------------- */
/* Instances and devices                                                     */

struct td_instance {
    VkInstance handle;
    void *key; /* final dispatch key, computed lazily; NULL until then */
    PFN_vkGetInstanceProcAddr gipa;
    PFN_vkDestroyInstance DestroyInstance;
    PFN_vkCreateDevice CreateDevice;
    PFN_vkEnumerateDeviceExtensionProperties EnumerateDeviceExtensionProperties;
    PFN_vkGetPhysicalDeviceFeatures2 GetPhysicalDeviceFeatures2;
    PFN_vkGetPhysicalDeviceFeatures2 GetPhysicalDeviceFeatures2KHR;
    PFN_vkGetPhysicalDeviceMemoryProperties GetPhysicalDeviceMemoryProperties;
    PFN_vkGetPhysicalDeviceMemoryProperties2 GetPhysicalDeviceMemoryProperties2;
    PFN_vkGetPhysicalDeviceMemoryProperties2 GetPhysicalDeviceMemoryProperties2KHR;
    PFN_vkGetPhysicalDeviceQueueFamilyProperties GetPhysicalDeviceQueueFamilyProperties;
    PFN_vkGetPhysicalDeviceQueueFamilyProperties2 GetPhysicalDeviceQueueFamilyProperties2;
    PFN_vkGetPhysicalDeviceQueueFamilyProperties2 GetPhysicalDeviceQueueFamilyProperties2KHR;
    struct td_instance *next;
};

/* A queue lavapipe does not have (queue_count knob): the layers above see
 * this object as the VkQueue; its work goes to `real`, the family's queue 0. */
struct td_emulated_queue {
    void *loader_data; /* the dispatchable handle's first word: the loader writes its dispatch pointer here */
    VkQueue real;
    uint32_t family, index;
    VkDeviceQueueCreateFlags flags;
};

struct td_device {
    VkDevice handle;
    void *key; /* final dispatch key, computed lazily */
    PFN_vkGetDeviceProcAddr gdpa;
    uint32_t native_type_count; /* lavapipe's memoryTypeCount: index of the added device-local-only type */
    uint32_t queue_count;
    VkQueue queues[TD_MAX_QUEUES];
    /* queue_count knob (at vkCreateDevice): lavapipe's queues per family (all 0
     * without the knob), and the emulated queues */
    uint32_t native_queues[TD_MAX_FAMILIES];
    uint32_t emulated_count;
    struct td_emulated_queue *emulated[TD_MAX_QUEUES];
    pthread_mutex_t real_queue_lock; /* serialises the real queues' use by emulated and real handles */

    PFN_vkDestroyDevice DestroyDevice;
    PFN_vkGetDeviceQueue GetDeviceQueue;
    PFN_vkGetDeviceQueue2 GetDeviceQueue2;
    PFN_vkAllocateMemory AllocateMemory;
    PFN_vkFreeMemory FreeMemory;
    PFN_vkGetBufferMemoryRequirements GetBufferMemoryRequirements;
    PFN_vkGetBufferMemoryRequirements2 GetBufferMemoryRequirements2;
    PFN_vkGetBufferMemoryRequirements2 GetBufferMemoryRequirements2KHR;
    PFN_vkGetImageMemoryRequirements GetImageMemoryRequirements;
    PFN_vkGetImageMemoryRequirements2 GetImageMemoryRequirements2;
    PFN_vkGetImageMemoryRequirements2 GetImageMemoryRequirements2KHR;
    PFN_vkGetDeviceBufferMemoryRequirements GetDeviceBufferMemoryRequirements;
    PFN_vkGetDeviceBufferMemoryRequirements GetDeviceBufferMemoryRequirementsKHR;
    PFN_vkGetDeviceImageMemoryRequirements GetDeviceImageMemoryRequirements;
    PFN_vkGetDeviceImageMemoryRequirements GetDeviceImageMemoryRequirementsKHR;
    PFN_vkQueueSubmit QueueSubmit;
    PFN_vkQueueSubmit2 QueueSubmit2;
    PFN_vkQueueSubmit2 QueueSubmit2KHR;
    PFN_vkQueueWaitIdle QueueWaitIdle;
    PFN_vkDeviceWaitIdle DeviceWaitIdle;
    PFN_vkWaitSemaphores WaitSemaphores;
    PFN_vkWaitSemaphores WaitSemaphoresKHR;
    PFN_vkGetSemaphoreCounterValue GetSemaphoreCounterValue;
    PFN_vkGetSemaphoreCounterValue GetSemaphoreCounterValueKHR;
    PFN_vkWaitForFences WaitForFences;
    PFN_vkGetFenceStatus GetFenceStatus;
    PFN_vkCreateFence CreateFence;
    PFN_vkDestroyFence DestroyFence;

    struct td_device *next;
};

static pthread_mutex_t g_state_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the two lists */
static struct td_instance *g_instances;
static struct td_device *g_devices;

/* The first word of a dispatchable handle, once the loader has written it
 * (during creation it still holds the handle's own address). */
static void *td_final_key(const void *handle) {
    void *key = *(void *const *)handle;
    return key == handle ? NULL : key;
}

static struct td_instance *td_instance_by_handle(VkInstance instance) {
    struct td_instance *found = NULL;
    pthread_mutex_lock(&g_state_lock);
    for (struct td_instance *i = g_instances; i; i = i->next)
        if (i->handle == instance) found = i;
    pthread_mutex_unlock(&g_state_lock);
    return found;
}

static struct td_instance *td_instance_by_physical_device(VkPhysicalDevice pd) {
    void *key = *(void **)pd;
    struct td_instance *found = NULL;
    unsigned count = 0;
    pthread_mutex_lock(&g_state_lock);
    for (struct td_instance *i = g_instances; i && !found; i = i->next) {
        count++;
        if (!i->key) i->key = td_final_key(i->handle);
        if (i->key == key) found = i;
    }
    if (!found && count == 1) found = g_instances; /* key not final yet: the only instance */
    pthread_mutex_unlock(&g_state_lock);
    return found;
}

static struct td_device *td_device_by_handle(VkDevice device) {
    struct td_device *found = NULL;
    pthread_mutex_lock(&g_state_lock);
    for (struct td_device *d = g_devices; d; d = d->next)
        if (d->handle == device) found = d;
    pthread_mutex_unlock(&g_state_lock);
    return found;
}

static struct td_device *td_device_by_queue(VkQueue queue) {
    struct td_device *found = NULL;
    unsigned count = 0;
    pthread_mutex_lock(&g_state_lock);
    for (struct td_device *d = g_devices; d && !found; d = d->next) {
        count++;
        for (uint32_t q = 0; q < d->queue_count; q++)
            if (d->queues[q] == queue) found = d;
    }
    if (!found) { /* not fetched through vkGetDeviceQueue(2) here: compare dispatch keys */
        void *key = *(void **)queue;
        for (struct td_device *d = g_devices; d && !found; d = d->next) {
            if (!d->key) d->key = td_final_key(d->handle);
            if (d->key == key) found = d;
        }
    }
    if (!found && count == 1) found = g_devices;
    pthread_mutex_unlock(&g_state_lock);
    return found;
}

static void td_device_add_queue(struct td_device *d, VkQueue queue) {
    if (!queue) return;
    pthread_mutex_lock(&g_state_lock);
    bool known = false;
    for (uint32_t q = 0; q < d->queue_count; q++)
        if (d->queues[q] == queue) known = true;
    if (!known && d->queue_count < TD_MAX_QUEUES) d->queues[d->queue_count++] = queue;
    pthread_mutex_unlock(&g_state_lock);
}

/* ------------------------------------------------------------------------- */
/* pNext chains                                                              */

static size_t td_struct_size(VkStructureType type) {
    switch (type) {
#define TD_STRUCT(stype, name) \
    case stype:                \
        return sizeof(name);
#include "td_struct_sizes.inc"
#undef TD_STRUCT
    case VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO:
        return sizeof(VkLayerDeviceCreateInfo);
    default:
        return 0;
    }
}

static bool td_type_in(VkStructureType type, const VkStructureType *types, uint32_t count) {
    for (uint32_t i = 0; i < count; i++)
        if (types[i] == type) return true;
    return false;
}

static const void *td_find_struct(const void *chain, VkStructureType type) {
    for (const VkBaseInStructure *p = chain; p; p = p->pNext)
        if (p->sType == type) return p;
    return NULL;
}

#define TD_MAX_COPIES 64
struct td_chain_copy {
    uint32_t count;
    void *blocks[TD_MAX_COPIES];
};

static void td_chain_copy_free(struct td_chain_copy *copy) {
    for (uint32_t i = 0; i < copy->count; i++) free(copy->blocks[i]);
    copy->count = 0;
}

/* A chain equal to `head` without the structs of the given types. The caller's
 * structs are never written: the structs in front of the last dropped one are
 * copied (into `copy`), the rest is shared. Where a struct that would need
 * copying has an unknown size, `head` comes back unchanged (lavapipe ignores
 * structs it does not know). */
static const void *td_strip_chain(const void *head, const VkStructureType *drop, uint32_t ndrop,
                                  struct td_chain_copy *copy) {
    const VkBaseInStructure *last = NULL;
    for (const VkBaseInStructure *p = head; p; p = p->pNext)
        if (td_type_in(p->sType, drop, ndrop)) last = p;
    if (!last) return head;

    const void *new_head = NULL;
    VkBaseOutStructure *tail = NULL;
    for (const VkBaseInStructure *p = head; p != last; p = p->pNext) {
        if (td_type_in(p->sType, drop, ndrop)) continue;
        size_t size = td_struct_size(p->sType);
        void *c = (size && copy->count < TD_MAX_COPIES) ? malloc(size) : NULL;
        if (!c) {
            td_chain_copy_free(copy);
            return head;
        }
        copy->blocks[copy->count++] = c;
        memcpy(c, p, size);
        ((VkBaseOutStructure *)c)->pNext = NULL;
        if (tail)
            tail->pNext = c;
        else
            new_head = c;
        tail = c;
    }
    if (tail)
        tail->pNext = (VkBaseOutStructure *)last->pNext;
    else
        new_head = last->pNext;
    return new_head;
}

/* In-place unlinking for output chains the app handed us (Features2,
 * MemoryProperties2): unlink, call down, relink. */
#define TD_MAX_UNLINKED 8
struct td_unlinked {
    uint32_t count;
    VkBaseOutStructure *prev[TD_MAX_UNLINKED];
    VkBaseOutStructure *node[TD_MAX_UNLINKED];
};

static void td_unlink(void *root, const VkStructureType *drop, uint32_t ndrop, struct td_unlinked *u) {
    u->count = 0;
    VkBaseOutStructure *prev = root;
    VkBaseOutStructure *p = prev->pNext;
    while (p) {
        if (td_type_in(p->sType, drop, ndrop) && u->count < TD_MAX_UNLINKED) {
            u->prev[u->count] = prev;
            u->node[u->count] = p;
            u->count++;
            prev->pNext = p->pNext;
        } else {
            prev = p;
        }
        p = p->pNext;
    }
}

static void td_relink(struct td_unlinked *u) {
    for (uint32_t i = u->count; i-- > 0;) u->prev[i]->pNext = u->node[i];
}

/* ------------------------------------------------------------------------- */
/* Extensions                                                                */

static const VkExtensionProperties td_extensions[] = {
    {VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME, 1},
    {VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME, 1},
    {VK_EXT_MEMORY_BUDGET_EXTENSION_NAME, 1},
    {"VK_KMT_test_opaque_extension", 1},
};

static bool td_extension_hidden(uint32_t index) {
    switch (index) {
    case 0: return g_control.hide_memory_priority;
    case 1: return g_control.hide_pageable;
    case 2: return g_control.hide_memory_budget;
    default: return !g_control.opaque_extension;
    }
}

static bool td_is_own_extension(const char *name) {
    for (uint32_t i = 0; i < TD_ARRAY_SIZE(td_extensions); i++)
        if (strcmp(name, td_extensions[i].extensionName) == 0) return true;
    return false;
}

static VkResult td_copy_extensions(const VkExtensionProperties *src, uint32_t count, uint32_t *pCount,
                                   VkExtensionProperties *pProps) {
    if (!pProps) {
        *pCount = count;
        return VK_SUCCESS;
    }
    uint32_t n = *pCount < count ? *pCount : count;
    if (n) memcpy(pProps, src, n * sizeof(*src));
    *pCount = n;
    return n < count ? VK_INCOMPLETE : VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL td_EnumerateDeviceExtensionProperties(VkPhysicalDevice pd, const char *pLayerName,
                                                                            uint32_t *pCount,
                                                                            VkExtensionProperties *pProps) {
    if (pLayerName && strcmp(pLayerName, TD_LAYER_NAME) == 0) {
        VkExtensionProperties own[TD_ARRAY_SIZE(td_extensions)];
        uint32_t n = 0;
        for (uint32_t i = 0; i < TD_ARRAY_SIZE(td_extensions); i++)
            if (!td_extension_hidden(i)) own[n++] = td_extensions[i];
        return td_copy_extensions(own, n, pCount, pProps);
    }
    struct td_instance *inst = td_instance_by_physical_device(pd);
    if (!inst) return VK_ERROR_INITIALIZATION_FAILED;
    if (pLayerName) return inst->EnumerateDeviceExtensionProperties(pd, pLayerName, pCount, pProps);

    VkExtensionProperties *all = NULL;
    uint32_t count = 0;
    VkResult r;
    do {
        r = inst->EnumerateDeviceExtensionProperties(pd, NULL, &count, NULL);
        if (r != VK_SUCCESS) {
            free(all);
            return r;
        }
        VkExtensionProperties *grown = realloc(all, (count + TD_ARRAY_SIZE(td_extensions)) * sizeof(*all));
        if (!grown) {
            free(all);
            return VK_ERROR_OUT_OF_HOST_MEMORY;
        }
        all = grown;
        r = inst->EnumerateDeviceExtensionProperties(pd, NULL, &count, all);
    } while (r == VK_INCOMPLETE);
    if (r != VK_SUCCESS) {
        free(all);
        return r;
    }
    uint32_t total = count;
    for (uint32_t i = 0; i < TD_ARRAY_SIZE(td_extensions); i++) {
        if (td_extension_hidden(i)) continue;
        bool present = false;
        for (uint32_t j = 0; j < count; j++)
            if (strcmp(all[j].extensionName, td_extensions[i].extensionName) == 0) present = true;
        if (!present) all[total++] = td_extensions[i];
    }
    r = td_copy_extensions(all, total, pCount, pProps);
    free(all);
    return r;
}

/* ------------------------------------------------------------------------- */
/* Physical device queries                                                   */

static const VkStructureType td_feature_structs[] = {
    VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT,
    VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT,
};

static void td_features2(PFN_vkGetPhysicalDeviceFeatures2 next, VkPhysicalDevice pd,
                         VkPhysicalDeviceFeatures2 *features) {
    struct td_unlinked u;
    td_unlink(features, td_feature_structs, TD_ARRAY_SIZE(td_feature_structs), &u);
    next(pd, features);
    td_relink(&u);
    for (VkBaseOutStructure *p = features->pNext; p; p = p->pNext) {
        if (p->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT)
            ((VkPhysicalDeviceMemoryPriorityFeaturesEXT *)p)->memoryPriority =
                g_control.hide_memory_priority ? VK_FALSE : VK_TRUE;
        else if (p->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT)
            ((VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT *)p)->pageableDeviceLocalMemory =
                g_control.hide_pageable ? VK_FALSE : VK_TRUE;
    }
}

static VKAPI_ATTR void VKAPI_CALL td_GetPhysicalDeviceFeatures2(VkPhysicalDevice pd,
                                                                VkPhysicalDeviceFeatures2 *features) {
    struct td_instance *inst = td_instance_by_physical_device(pd);
    if (inst) td_features2(inst->GetPhysicalDeviceFeatures2, pd, features);
}

static VKAPI_ATTR void VKAPI_CALL td_GetPhysicalDeviceFeatures2KHR(VkPhysicalDevice pd,
                                                                   VkPhysicalDeviceFeatures2 *features) {
    struct td_instance *inst = td_instance_by_physical_device(pd);
    if (inst) td_features2(inst->GetPhysicalDeviceFeatures2KHR, pd, features);
}

static void td_add_memory_type(VkPhysicalDeviceMemoryProperties *props) {
    if (!g_control.device_local_only_type || props->memoryTypeCount >= VK_MAX_MEMORY_TYPES) return;
    VkMemoryType *t = &props->memoryTypes[props->memoryTypeCount++];
    t->propertyFlags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    t->heapIndex = 0;
}

static VKAPI_ATTR void VKAPI_CALL td_GetPhysicalDeviceMemoryProperties(VkPhysicalDevice pd,
                                                                       VkPhysicalDeviceMemoryProperties *props) {
    struct td_instance *inst = td_instance_by_physical_device(pd);
    if (!inst) return;
    inst->GetPhysicalDeviceMemoryProperties(pd, props);
    td_add_memory_type(props);
}

static void td_memory_properties2(PFN_vkGetPhysicalDeviceMemoryProperties2 next, VkPhysicalDevice pd,
                                  VkPhysicalDeviceMemoryProperties2 *props) {
    static const VkStructureType drop[] = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    struct td_unlinked u;
    td_unlink(props, drop, 1, &u);
    next(pd, props);
    td_relink(&u);
    td_add_memory_type(&props->memoryProperties);

    VkPhysicalDeviceMemoryBudgetPropertiesEXT *budget = (VkPhysicalDeviceMemoryBudgetPropertiesEXT *)td_find_struct(
        props->pNext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT);
    if (!budget || g_control.hide_memory_budget) return;
    const VkPhysicalDeviceMemoryProperties *mp = &props->memoryProperties;
    pthread_mutex_lock(&g_control.lock);
    for (uint32_t h = 0; h < VK_MAX_MEMORY_HEAPS; h++) {
        if (h >= mp->memoryHeapCount) {
            budget->heapBudget[h] = 0;
            budget->heapUsage[h] = 0;
        } else if (h == 0) {
            budget->heapBudget[h] = g_control.heap_budget ? g_control.heap_budget : mp->memoryHeaps[h].size;
            budget->heapUsage[h] = g_control.reported_heap_usage ? g_control.reported_heap_usage : g_control.heap_usage;
        } else {
            budget->heapBudget[h] = mp->memoryHeaps[h].size;
            budget->heapUsage[h] = 0;
        }
    }
    pthread_mutex_unlock(&g_control.lock);
}

static VKAPI_ATTR void VKAPI_CALL td_GetPhysicalDeviceMemoryProperties2(VkPhysicalDevice pd,
                                                                        VkPhysicalDeviceMemoryProperties2 *props) {
    struct td_instance *inst = td_instance_by_physical_device(pd);
    if (inst) td_memory_properties2(inst->GetPhysicalDeviceMemoryProperties2, pd, props);
}

static VKAPI_ATTR void VKAPI_CALL td_GetPhysicalDeviceMemoryProperties2KHR(VkPhysicalDevice pd,
                                                                           VkPhysicalDeviceMemoryProperties2 *props) {
    struct td_instance *inst = td_instance_by_physical_device(pd);
    if (inst) td_memory_properties2(inst->GetPhysicalDeviceMemoryProperties2KHR, pd, props);
}

/* queue_count knob: every family reports at least that many queues. */
static void td_raise_queue_count(VkQueueFamilyProperties *family) {
    if (family->queueCount < g_control.queue_count) family->queueCount = g_control.queue_count;
}

static VKAPI_ATTR void VKAPI_CALL td_GetPhysicalDeviceQueueFamilyProperties(VkPhysicalDevice pd, uint32_t *pCount,
                                                                            VkQueueFamilyProperties *props) {
    struct td_instance *inst = td_instance_by_physical_device(pd);
    if (!inst) return;
    inst->GetPhysicalDeviceQueueFamilyProperties(pd, pCount, props);
    for (uint32_t i = 0; props && i < *pCount; i++) td_raise_queue_count(&props[i]);
}

static void td_queue_family_properties2(PFN_vkGetPhysicalDeviceQueueFamilyProperties2 next, VkPhysicalDevice pd,
                                        uint32_t *pCount, VkQueueFamilyProperties2 *props) {
    next(pd, pCount, props);
    for (uint32_t i = 0; props && i < *pCount; i++) td_raise_queue_count(&props[i].queueFamilyProperties);
}

static VKAPI_ATTR void VKAPI_CALL td_GetPhysicalDeviceQueueFamilyProperties2(VkPhysicalDevice pd, uint32_t *pCount,
                                                                             VkQueueFamilyProperties2 *props) {
    struct td_instance *inst = td_instance_by_physical_device(pd);
    if (inst) td_queue_family_properties2(inst->GetPhysicalDeviceQueueFamilyProperties2, pd, pCount, props);
}

static VKAPI_ATTR void VKAPI_CALL td_GetPhysicalDeviceQueueFamilyProperties2KHR(VkPhysicalDevice pd, uint32_t *pCount,
                                                                                VkQueueFamilyProperties2 *props) {
    struct td_instance *inst = td_instance_by_physical_device(pd);
    if (inst) td_queue_family_properties2(inst->GetPhysicalDeviceQueueFamilyProperties2KHR, pd, pCount, props);
}

/* ------------------------------------------------------------------------- */
/* Instance                                                                  */

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL td_GetInstanceProcAddr(VkInstance instance, const char *name);
static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL td_GetDeviceProcAddr(VkDevice device, const char *name);

static VKAPI_ATTR VkResult VKAPI_CALL td_CreateInstance(const VkInstanceCreateInfo *pCreateInfo,
                                                        const VkAllocationCallbacks *pAllocator,
                                                        VkInstance *pInstance) {
    VkLayerInstanceCreateInfo *link = (VkLayerInstanceCreateInfo *)pCreateInfo->pNext;
    while (link && !(link->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && link->function == VK_LAYER_LINK_INFO))
        link = (VkLayerInstanceCreateInfo *)link->pNext;
    if (!link) return VK_ERROR_INITIALIZATION_FAILED;
    PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    PFN_vkCreateInstance next_create = (PFN_vkCreateInstance)next_gipa(VK_NULL_HANDLE, "vkCreateInstance");
    if (!next_create) return VK_ERROR_INITIALIZATION_FAILED;
    link->u.pLayerInfo = link->u.pLayerInfo->pNext;

    pthread_mutex_lock(&g_state_lock);
    bool first = g_instances == NULL;
    pthread_mutex_unlock(&g_state_lock);
    td_read_env_knobs();
    td_apply_env_knobs();
    if (first) g_control.lose_device = false;

    pthread_mutex_lock(&g_control.lock);
    g_control.last_instance_api_version =
        pCreateInfo->pApplicationInfo ? pCreateInfo->pApplicationInfo->apiVersion : 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < pCreateInfo->enabledExtensionCount && n < KMT_TD_MAX_EXTENSIONS; i++)
        td_copy_name(g_control.last_instance_extensions[n++], pCreateInfo->ppEnabledExtensionNames[i]);
    g_control.last_instance_extension_count = n;
    pthread_mutex_unlock(&g_control.lock);

    VkResult r = next_create(pCreateInfo, pAllocator, pInstance);
    if (r != VK_SUCCESS) return r;

    struct td_instance *inst = calloc(1, sizeof(*inst));
    if (!inst) {
        PFN_vkDestroyInstance destroy = (PFN_vkDestroyInstance)next_gipa(*pInstance, "vkDestroyInstance");
        if (destroy) destroy(*pInstance, pAllocator);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    VkInstance h = *pInstance;
    inst->handle = h;
    inst->gipa = next_gipa;
#define TD_RESOLVE(field, name) inst->field = (__typeof__(inst->field))next_gipa(h, name)
    TD_RESOLVE(DestroyInstance, "vkDestroyInstance");
    TD_RESOLVE(CreateDevice, "vkCreateDevice");
    TD_RESOLVE(EnumerateDeviceExtensionProperties, "vkEnumerateDeviceExtensionProperties");
    TD_RESOLVE(GetPhysicalDeviceFeatures2, "vkGetPhysicalDeviceFeatures2");
    TD_RESOLVE(GetPhysicalDeviceFeatures2KHR, "vkGetPhysicalDeviceFeatures2KHR");
    TD_RESOLVE(GetPhysicalDeviceMemoryProperties, "vkGetPhysicalDeviceMemoryProperties");
    TD_RESOLVE(GetPhysicalDeviceMemoryProperties2, "vkGetPhysicalDeviceMemoryProperties2");
    TD_RESOLVE(GetPhysicalDeviceMemoryProperties2KHR, "vkGetPhysicalDeviceMemoryProperties2KHR");
    TD_RESOLVE(GetPhysicalDeviceQueueFamilyProperties, "vkGetPhysicalDeviceQueueFamilyProperties");
    TD_RESOLVE(GetPhysicalDeviceQueueFamilyProperties2, "vkGetPhysicalDeviceQueueFamilyProperties2");
    TD_RESOLVE(GetPhysicalDeviceQueueFamilyProperties2KHR, "vkGetPhysicalDeviceQueueFamilyProperties2KHR");
#undef TD_RESOLVE
    pthread_mutex_lock(&g_state_lock);
    inst->next = g_instances;
    g_instances = inst;
    pthread_mutex_unlock(&g_state_lock);
    return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL td_DestroyInstance(VkInstance instance, const VkAllocationCallbacks *pAllocator) {
    if (!instance) return;
    struct td_instance *inst = NULL;
    pthread_mutex_lock(&g_state_lock);
    for (struct td_instance **p = &g_instances; *p; p = &(*p)->next) {
        if ((*p)->handle == instance) {
            inst = *p;
            *p = inst->next;
            break;
        }
    }
    pthread_mutex_unlock(&g_state_lock);
    if (!inst) return;
    inst->DestroyInstance(instance, pAllocator);
    free(inst);
}

/* ------------------------------------------------------------------------- */
/* Device creation                                                           */

static void td_record_device(const VkDeviceCreateInfo *ci) {
    bool timeline = false, priority = false, pageable = false;
    for (const VkBaseInStructure *p = ci->pNext; p; p = p->pNext) {
        switch (p->sType) {
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES:
            timeline |= ((const VkPhysicalDeviceTimelineSemaphoreFeatures *)p)->timelineSemaphore != VK_FALSE;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES:
            timeline |= ((const VkPhysicalDeviceVulkan12Features *)p)->timelineSemaphore != VK_FALSE;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT:
            priority |= ((const VkPhysicalDeviceMemoryPriorityFeaturesEXT *)p)->memoryPriority != VK_FALSE;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT:
            pageable |=
                ((const VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT *)p)->pageableDeviceLocalMemory != VK_FALSE;
            break;
        default:
            break;
        }
    }
    pthread_mutex_lock(&g_control.lock);
    g_control.created_device_count++;
    uint32_t n = 0;
    for (uint32_t i = 0; i < ci->enabledExtensionCount && n < KMT_TD_MAX_EXTENSIONS; i++)
        td_copy_name(g_control.last_device_extensions[n++], ci->ppEnabledExtensionNames[i]);
    g_control.last_device_extension_count = n;
    g_control.last_device_timeline_semaphore = timeline;
    g_control.last_device_memory_priority = priority;
    g_control.last_device_pageable = pageable;
    pthread_mutex_unlock(&g_control.lock);
}

static VKAPI_ATTR VkResult VKAPI_CALL td_CreateDevice(VkPhysicalDevice pd, const VkDeviceCreateInfo *pCreateInfo,
                                                      const VkAllocationCallbacks *pAllocator, VkDevice *pDevice) {
    VkLayerDeviceCreateInfo *link = (VkLayerDeviceCreateInfo *)pCreateInfo->pNext;
    while (link && !(link->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && link->function == VK_LAYER_LINK_INFO))
        link = (VkLayerDeviceCreateInfo *)link->pNext;
    if (!link) return VK_ERROR_INITIALIZATION_FAILED;
    PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    PFN_vkGetDeviceProcAddr next_gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
    link->u.pLayerInfo = link->u.pLayerInfo->pNext; /* the loader's link struct: advanced in place, as expected */

    struct td_instance *inst = td_instance_by_physical_device(pd);
    PFN_vkCreateDevice next_create =
        inst ? inst->CreateDevice : (PFN_vkCreateDevice)next_gipa(VK_NULL_HANDLE, "vkCreateDevice");
    if (!next_create) return VK_ERROR_INITIALIZATION_FAILED;

    td_record_device(pCreateInfo);

    /* A hidden extension behaves as one the driver lacks (the loader lets it
     * through because the manifest lists it). */
    for (uint32_t i = 0; i < pCreateInfo->enabledExtensionCount; i++)
        for (uint32_t e = 0; e < TD_ARRAY_SIZE(td_extensions); e++)
            if (td_extension_hidden(e) && strcmp(pCreateInfo->ppEnabledExtensionNames[i], td_extensions[e].extensionName) == 0)
                return VK_ERROR_EXTENSION_NOT_PRESENT;

    /* A copy without our extension names and feature structs. */
    VkDeviceCreateInfo ci = *pCreateInfo;
    const char **names = calloc(pCreateInfo->enabledExtensionCount + 1, sizeof(*names));
    if (!names) return VK_ERROR_OUT_OF_HOST_MEMORY;
    uint32_t n = 0;
    for (uint32_t i = 0; i < pCreateInfo->enabledExtensionCount; i++)
        if (!td_is_own_extension(pCreateInfo->ppEnabledExtensionNames[i]))
            names[n++] = pCreateInfo->ppEnabledExtensionNames[i];
    ci.enabledExtensionCount = n;
    ci.ppEnabledExtensionNames = n ? names : NULL;
    struct td_chain_copy copy = {0};
    ci.pNext = td_strip_chain(pCreateInfo->pNext, td_feature_structs, TD_ARRAY_SIZE(td_feature_structs), &copy);

    VkPhysicalDeviceMemoryProperties native = {0};
    if (inst && inst->GetPhysicalDeviceMemoryProperties) inst->GetPhysicalDeviceMemoryProperties(pd, &native);

    /* queue_count knob: lavapipe is asked for the queues it has; the rest are emulated. */
    uint32_t native_queues[TD_MAX_FAMILIES] = {0};
    VkDeviceQueueCreateInfo *queues = NULL;
    if (g_control.queue_count && inst && inst->GetPhysicalDeviceQueueFamilyProperties) {
        VkQueueFamilyProperties families[TD_MAX_FAMILIES];
        uint32_t family_count = TD_MAX_FAMILIES;
        inst->GetPhysicalDeviceQueueFamilyProperties(pd, &family_count, families);
        for (uint32_t f = 0; f < family_count; f++) native_queues[f] = families[f].queueCount;
        queues = calloc(ci.queueCreateInfoCount ? ci.queueCreateInfoCount : 1, sizeof(*queues));
        if (!queues) {
            td_chain_copy_free(&copy);
            free(names);
            return VK_ERROR_OUT_OF_HOST_MEMORY;
        }
        for (uint32_t i = 0; i < ci.queueCreateInfoCount; i++) {
            queues[i] = ci.pQueueCreateInfos[i];
            uint32_t f = queues[i].queueFamilyIndex;
            if (f < TD_MAX_FAMILIES && native_queues[f] && queues[i].queueCount > native_queues[f])
                queues[i].queueCount = native_queues[f];
        }
        ci.pQueueCreateInfos = queues;
    }

    VkResult r = next_create(pd, &ci, pAllocator, pDevice);
    td_chain_copy_free(&copy);
    free(names);
    free(queues);
    if (r != VK_SUCCESS) return r;

    struct td_device *dev = calloc(1, sizeof(*dev));
    VkDevice h = *pDevice;
    if (!dev) {
        PFN_vkDestroyDevice destroy = (PFN_vkDestroyDevice)next_gdpa(h, "vkDestroyDevice");
        if (destroy) destroy(h, pAllocator);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    dev->handle = h;
    dev->gdpa = next_gdpa;
    dev->native_type_count = native.memoryTypeCount;
    memcpy(dev->native_queues, native_queues, sizeof(native_queues));
    pthread_mutex_init(&dev->real_queue_lock, NULL);
#define TD_RESOLVE(field, name) dev->field = (__typeof__(dev->field))next_gdpa(h, name)
    TD_RESOLVE(DestroyDevice, "vkDestroyDevice");
    TD_RESOLVE(GetDeviceQueue, "vkGetDeviceQueue");
    TD_RESOLVE(GetDeviceQueue2, "vkGetDeviceQueue2");
    TD_RESOLVE(AllocateMemory, "vkAllocateMemory");
    TD_RESOLVE(FreeMemory, "vkFreeMemory");
    TD_RESOLVE(GetBufferMemoryRequirements, "vkGetBufferMemoryRequirements");
    TD_RESOLVE(GetBufferMemoryRequirements2, "vkGetBufferMemoryRequirements2");
    TD_RESOLVE(GetBufferMemoryRequirements2KHR, "vkGetBufferMemoryRequirements2KHR");
    TD_RESOLVE(GetImageMemoryRequirements, "vkGetImageMemoryRequirements");
    TD_RESOLVE(GetImageMemoryRequirements2, "vkGetImageMemoryRequirements2");
    TD_RESOLVE(GetImageMemoryRequirements2KHR, "vkGetImageMemoryRequirements2KHR");
    TD_RESOLVE(GetDeviceBufferMemoryRequirements, "vkGetDeviceBufferMemoryRequirements");
    TD_RESOLVE(GetDeviceBufferMemoryRequirementsKHR, "vkGetDeviceBufferMemoryRequirementsKHR");
    TD_RESOLVE(GetDeviceImageMemoryRequirements, "vkGetDeviceImageMemoryRequirements");
    TD_RESOLVE(GetDeviceImageMemoryRequirementsKHR, "vkGetDeviceImageMemoryRequirementsKHR");
    TD_RESOLVE(QueueSubmit, "vkQueueSubmit");
    TD_RESOLVE(QueueSubmit2, "vkQueueSubmit2");
    TD_RESOLVE(QueueSubmit2KHR, "vkQueueSubmit2KHR");
    TD_RESOLVE(QueueWaitIdle, "vkQueueWaitIdle");
    TD_RESOLVE(DeviceWaitIdle, "vkDeviceWaitIdle");
    TD_RESOLVE(WaitSemaphores, "vkWaitSemaphores");
    TD_RESOLVE(WaitSemaphoresKHR, "vkWaitSemaphoresKHR");
    TD_RESOLVE(GetSemaphoreCounterValue, "vkGetSemaphoreCounterValue");
    TD_RESOLVE(GetSemaphoreCounterValueKHR, "vkGetSemaphoreCounterValueKHR");
    TD_RESOLVE(WaitForFences, "vkWaitForFences");
    TD_RESOLVE(GetFenceStatus, "vkGetFenceStatus");
    TD_RESOLVE(CreateFence, "vkCreateFence");
    TD_RESOLVE(DestroyFence, "vkDestroyFence");
#undef TD_RESOLVE
    pthread_mutex_lock(&g_state_lock);
    dev->next = g_devices;
    g_devices = dev;
    pthread_mutex_unlock(&g_state_lock);
    return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL td_DestroyDevice(VkDevice device, const VkAllocationCallbacks *pAllocator) {
    if (!device) return;
    struct td_device *dev = NULL;
    pthread_mutex_lock(&g_state_lock);
    for (struct td_device **p = &g_devices; *p; p = &(*p)->next) {
        if ((*p)->handle == device) {
            dev = *p;
            *p = dev->next;
            break;
        }
    }
    pthread_mutex_unlock(&g_state_lock);
    if (!dev) return;
    dev->DestroyDevice(device, pAllocator);
    for (uint32_t i = 0; i < dev->emulated_count; i++) free(dev->emulated[i]);
    pthread_mutex_destroy(&dev->real_queue_lock);
    free(dev);
    pthread_mutex_lock(&g_control.lock);
    td_allocation_remove_device(device);
    pthread_mutex_unlock(&g_control.lock);
}

/* ------------------------------------------------------------------------- */
/* Device commands                                                           */

/* Whether (family, index) is a queue the test driver emulates. */
static bool td_is_emulated(const struct td_device *dev, uint32_t family, uint32_t index) {
    return family < TD_MAX_FAMILIES && dev->native_queues[family] && index >= dev->native_queues[family];
}

/* The emulated queue (family, index, flags), made on first use; its real
 * queue is the family's queue 0. NULL when out of room. */
static VkQueue td_emulated_queue(struct td_device *dev, uint32_t family, uint32_t index,
                                 VkDeviceQueueCreateFlags flags, VkQueue real) {
    struct td_emulated_queue *found = NULL;
    pthread_mutex_lock(&g_state_lock);
    for (uint32_t i = 0; i < dev->emulated_count && !found; i++) {
        struct td_emulated_queue *e = dev->emulated[i];
        if (e->family == family && e->index == index && e->flags == flags) found = e;
    }
    if (!found && real && dev->emulated_count < TD_MAX_QUEUES && (found = calloc(1, sizeof(*found)))) {
        found->real = real;
        found->family = family;
        found->index = index;
        found->flags = flags;
        dev->emulated[dev->emulated_count++] = found;
    }
    pthread_mutex_unlock(&g_state_lock);
    return (VkQueue)found;
}

/* The queue lavapipe knows for a handle the layers above use. */
static VkQueue td_real_queue(struct td_device *dev, VkQueue queue) {
    VkQueue real = queue;
    pthread_mutex_lock(&g_state_lock);
    for (uint32_t i = 0; i < dev->emulated_count; i++)
        if ((VkQueue)dev->emulated[i] == queue) real = dev->emulated[i]->real;
    pthread_mutex_unlock(&g_state_lock);
    return real;
}

static VKAPI_ATTR void VKAPI_CALL td_GetDeviceQueue(VkDevice device, uint32_t family, uint32_t index, VkQueue *pQueue) {
    struct td_device *dev = td_device_by_handle(device);
    if (!dev) return;
    if (td_is_emulated(dev, family, index)) {
        VkQueue real = VK_NULL_HANDLE;
        dev->GetDeviceQueue(device, family, 0, &real);
        *pQueue = td_emulated_queue(dev, family, index, 0, real);
    } else {
        dev->GetDeviceQueue(device, family, index, pQueue);
    }
    td_device_add_queue(dev, *pQueue);
}

static VKAPI_ATTR void VKAPI_CALL td_GetDeviceQueue2(VkDevice device, const VkDeviceQueueInfo2 *info, VkQueue *pQueue) {
    struct td_device *dev = td_device_by_handle(device);
    if (!dev) return;
    if (td_is_emulated(dev, info->queueFamilyIndex, info->queueIndex)) {
        VkDeviceQueueInfo2 first = *info;
        first.queueIndex = 0;
        VkQueue real = VK_NULL_HANDLE;
        dev->GetDeviceQueue2(device, &first, &real);
        *pQueue = td_emulated_queue(dev, info->queueFamilyIndex, info->queueIndex, info->flags, real);
    } else {
        dev->GetDeviceQueue2(device, info, pQueue);
    }
    td_device_add_queue(dev, *pQueue);
}

static VKAPI_ATTR VkResult VKAPI_CALL td_AllocateMemory(VkDevice device, const VkMemoryAllocateInfo *pInfo,
                                                        const VkAllocationCallbacks *pAllocator,
                                                        VkDeviceMemory *pMemory) {
    struct td_device *dev = td_device_by_handle(device);
    if (!dev) return VK_ERROR_INITIALIZATION_FAILED;
    const VkMemoryPriorityAllocateInfoEXT *prio =
        td_find_struct(pInfo->pNext, VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT);
    const float priority = prio ? prio->priority : 0.5f;

    static const VkStructureType drop[] = {VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT};
    VkMemoryAllocateInfo info = *pInfo;
    struct td_chain_copy copy = {0};
    info.pNext = td_strip_chain(pInfo->pNext, drop, 1, &copy);
    if (g_control.device_local_only_type && info.memoryTypeIndex == dev->native_type_count) info.memoryTypeIndex = 0;

    VkResult r = dev->AllocateMemory(device, &info, pAllocator, pMemory);
    td_chain_copy_free(&copy);
    if (r != VK_SUCCESS) return r;
    pthread_mutex_lock(&g_control.lock);
    td_record_priority((uint64_t)*pMemory, priority, KMT_TD_PRIORITY_AT_ALLOCATE);
    td_allocation_add(device, (uint64_t)*pMemory, pInfo->allocationSize);
    g_control.last_allocated_memory = (uint64_t)*pMemory;
    pthread_mutex_unlock(&g_control.lock);
    return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL td_FreeMemory(VkDevice device, VkDeviceMemory memory,
                                                const VkAllocationCallbacks *pAllocator) {
    struct td_device *dev = td_device_by_handle(device);
    if (!dev) return;
    if (memory) {
        pthread_mutex_lock(&g_control.lock);
        td_allocation_remove((uint64_t)memory);
        pthread_mutex_unlock(&g_control.lock);
    }
    dev->FreeMemory(device, memory, pAllocator);
}

static VKAPI_ATTR void VKAPI_CALL td_SetDeviceMemoryPriorityEXT(VkDevice device, VkDeviceMemory memory,
                                                                float priority) {
    (void)device;
    pthread_mutex_lock(&g_control.lock);
    td_record_priority((uint64_t)memory, priority, KMT_TD_PRIORITY_SET);
    pthread_mutex_unlock(&g_control.lock);
}

/* Memory requirements: the added type accepts whatever lavapipe's type 0 accepts. */
static void td_fix_bits(const struct td_device *dev, uint32_t *bits) {
    if (g_control.device_local_only_type && (*bits & 1u) && dev->native_type_count < 32)
        *bits |= 1u << dev->native_type_count;
}

static VKAPI_ATTR void VKAPI_CALL td_GetBufferMemoryRequirements(VkDevice device, VkBuffer buffer,
                                                                 VkMemoryRequirements *req) {
    struct td_device *dev = td_device_by_handle(device);
    if (!dev) return;
    dev->GetBufferMemoryRequirements(device, buffer, req);
    td_fix_bits(dev, &req->memoryTypeBits);
}

static VKAPI_ATTR void VKAPI_CALL td_GetImageMemoryRequirements(VkDevice device, VkImage image,
                                                                VkMemoryRequirements *req) {
    struct td_device *dev = td_device_by_handle(device);
    if (!dev) return;
    dev->GetImageMemoryRequirements(device, image, req);
    td_fix_bits(dev, &req->memoryTypeBits);
}

#define TD_REQ2(fn, field, InfoType)                                                                        \
    static VKAPI_ATTR void VKAPI_CALL td_##fn(VkDevice device, const InfoType *info,                       \
                                              VkMemoryRequirements2 *req) {                                \
        struct td_device *dev = td_device_by_handle(device);                                                \
        if (!dev) return;                                                                                   \
        dev->field(device, info, req);                                                                      \
        td_fix_bits(dev, &req->memoryRequirements.memoryTypeBits);                                          \
    }
TD_REQ2(GetBufferMemoryRequirements2, GetBufferMemoryRequirements2, VkBufferMemoryRequirementsInfo2)
TD_REQ2(GetBufferMemoryRequirements2KHR, GetBufferMemoryRequirements2KHR, VkBufferMemoryRequirementsInfo2)
TD_REQ2(GetImageMemoryRequirements2, GetImageMemoryRequirements2, VkImageMemoryRequirementsInfo2)
TD_REQ2(GetImageMemoryRequirements2KHR, GetImageMemoryRequirements2KHR, VkImageMemoryRequirementsInfo2)
TD_REQ2(GetDeviceBufferMemoryRequirements, GetDeviceBufferMemoryRequirements, VkDeviceBufferMemoryRequirements)
TD_REQ2(GetDeviceBufferMemoryRequirementsKHR, GetDeviceBufferMemoryRequirementsKHR, VkDeviceBufferMemoryRequirements)
TD_REQ2(GetDeviceImageMemoryRequirements, GetDeviceImageMemoryRequirements, VkDeviceImageMemoryRequirements)
TD_REQ2(GetDeviceImageMemoryRequirementsKHR, GetDeviceImageMemoryRequirementsKHR, VkDeviceImageMemoryRequirements)
#undef TD_REQ2

/* Device loss: these return VK_ERROR_DEVICE_LOST without calling down while the knob is set. */
/* Submissions reach lavapipe's queue; with emulated queues, serialised (one
 * real queue stands for several). */
#define TD_SUBMIT(fn, InfoType)                                                                             \
    static VKAPI_ATTR VkResult VKAPI_CALL td_##fn(VkQueue queue, uint32_t count, const InfoType *submits,  \
                                                  VkFence fence) {                                          \
        if (g_control.lose_device) return VK_ERROR_DEVICE_LOST;                                             \
        __atomic_fetch_add(&g_control.queue_submits, 1, __ATOMIC_RELAXED);                                  \
        struct td_device *dev = td_device_by_queue(queue);                                                  \
        if (!dev) return VK_ERROR_DEVICE_LOST;                                                              \
        if (!dev->emulated_count) return dev->fn(queue, count, submits, fence);                             \
        VkQueue real = td_real_queue(dev, queue);                                                           \
        pthread_mutex_lock(&dev->real_queue_lock);                                                          \
        VkResult r = dev->fn(real, count, submits, fence);                                                  \
        pthread_mutex_unlock(&dev->real_queue_lock);                                                        \
        return r;                                                                                           \
    }
TD_SUBMIT(QueueSubmit, VkSubmitInfo)
TD_SUBMIT(QueueSubmit2, VkSubmitInfo2)
TD_SUBMIT(QueueSubmit2KHR, VkSubmitInfo2)
#undef TD_SUBMIT

/* With emulated queues a wait-idle waits for a fence submitted after the
 * queue's work, holding no lock meanwhile. The real queue runs everything in
 * submission order: this also waits for other queues' earlier work. */
static VKAPI_ATTR VkResult VKAPI_CALL td_QueueWaitIdle(VkQueue queue) {
    if (g_control.lose_device) return VK_ERROR_DEVICE_LOST;
    struct td_device *dev = td_device_by_queue(queue);
    if (!dev) return VK_ERROR_DEVICE_LOST;
    if (!dev->emulated_count) return dev->QueueWaitIdle(queue);
    VkFenceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence = VK_NULL_HANDLE;
    VkResult r = dev->CreateFence(dev->handle, &info, NULL, &fence);
    if (r != VK_SUCCESS) return r;
    VkSubmitInfo empty = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO};
    pthread_mutex_lock(&dev->real_queue_lock);
    r = dev->QueueSubmit(td_real_queue(dev, queue), 1, &empty, fence);
    pthread_mutex_unlock(&dev->real_queue_lock);
    if (r == VK_SUCCESS) r = dev->WaitForFences(dev->handle, 1, &fence, VK_TRUE, UINT64_MAX);
    dev->DestroyFence(dev->handle, fence, NULL);
    return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL td_DeviceWaitIdle(VkDevice device) {
    if (g_control.lose_device) return VK_ERROR_DEVICE_LOST;
    struct td_device *dev = td_device_by_handle(device);
    return dev ? dev->DeviceWaitIdle(device) : VK_ERROR_DEVICE_LOST;
}

static VKAPI_ATTR VkResult VKAPI_CALL td_WaitSemaphores(VkDevice device, const VkSemaphoreWaitInfo *info,
                                                        uint64_t timeout) {
    if (g_control.lose_device) return VK_ERROR_DEVICE_LOST;
    __atomic_fetch_add(&g_control.semaphore_waits, 1, __ATOMIC_RELAXED);
    struct td_device *dev = td_device_by_handle(device);
    return dev ? dev->WaitSemaphores(device, info, timeout) : VK_ERROR_DEVICE_LOST;
}

static VKAPI_ATTR VkResult VKAPI_CALL td_WaitSemaphoresKHR(VkDevice device, const VkSemaphoreWaitInfo *info,
                                                           uint64_t timeout) {
    if (g_control.lose_device) return VK_ERROR_DEVICE_LOST;
    __atomic_fetch_add(&g_control.semaphore_waits, 1, __ATOMIC_RELAXED);
    struct td_device *dev = td_device_by_handle(device);
    return dev ? dev->WaitSemaphoresKHR(device, info, timeout) : VK_ERROR_DEVICE_LOST;
}

static VKAPI_ATTR VkResult VKAPI_CALL td_GetSemaphoreCounterValue(VkDevice device, VkSemaphore semaphore,
                                                                  uint64_t *value) {
    if (g_control.lose_device) return VK_ERROR_DEVICE_LOST;
    struct td_device *dev = td_device_by_handle(device);
    return dev ? dev->GetSemaphoreCounterValue(device, semaphore, value) : VK_ERROR_DEVICE_LOST;
}

static VKAPI_ATTR VkResult VKAPI_CALL td_GetSemaphoreCounterValueKHR(VkDevice device, VkSemaphore semaphore,
                                                                     uint64_t *value) {
    if (g_control.lose_device) return VK_ERROR_DEVICE_LOST;
    struct td_device *dev = td_device_by_handle(device);
    return dev ? dev->GetSemaphoreCounterValueKHR(device, semaphore, value) : VK_ERROR_DEVICE_LOST;
}

static VKAPI_ATTR VkResult VKAPI_CALL td_WaitForFences(VkDevice device, uint32_t count, const VkFence *fences,
                                                       VkBool32 wait_all, uint64_t timeout) {
    if (g_control.lose_device) return VK_ERROR_DEVICE_LOST;
    struct td_device *dev = td_device_by_handle(device);
    if (!dev) return VK_ERROR_DEVICE_LOST;
    pthread_mutex_lock(&g_control.lock);
    g_control.fence_waits_entered++;
    pthread_mutex_unlock(&g_control.lock);
    VkResult r = dev->WaitForFences(device, count, fences, wait_all, timeout);
    __atomic_add_fetch(&g_control.fence_waits_returned, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&g_control.fence_wait_hold, __ATOMIC_SEQ_CST)) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 1000000L};
        nanosleep(&ts, NULL);
    }
    return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL td_GetFenceStatus(VkDevice device, VkFence fence) {
    if (g_control.lose_device) return VK_ERROR_DEVICE_LOST;
    struct td_device *dev = td_device_by_handle(device);
    return dev ? dev->GetFenceStatus(device, fence) : VK_ERROR_DEVICE_LOST;
}

/* ------------------------------------------------------------------------- */
/* Proc addresses                                                            */

#define TD_ALWAYS ((size_t)-1)
struct td_entry {
    const char *name;
    PFN_vkVoidFunction fn;
    size_t next_offset; /* offsetof the next pointer that must be non-NULL, or TD_ALWAYS */
};

#define TD_DEV(name) {"vk" #name, (PFN_vkVoidFunction)td_##name, offsetof(struct td_device, name)}
static const struct td_entry td_device_entries[] = {
    {"vkGetDeviceProcAddr", (PFN_vkVoidFunction)td_GetDeviceProcAddr, TD_ALWAYS},
    {"vkSetDeviceMemoryPriorityEXT", (PFN_vkVoidFunction)td_SetDeviceMemoryPriorityEXT, TD_ALWAYS},
    TD_DEV(DestroyDevice),
    TD_DEV(GetDeviceQueue),
    TD_DEV(GetDeviceQueue2),
    TD_DEV(AllocateMemory),
    TD_DEV(FreeMemory),
    TD_DEV(GetBufferMemoryRequirements),
    TD_DEV(GetBufferMemoryRequirements2),
    TD_DEV(GetBufferMemoryRequirements2KHR),
    TD_DEV(GetImageMemoryRequirements),
    TD_DEV(GetImageMemoryRequirements2),
    TD_DEV(GetImageMemoryRequirements2KHR),
    TD_DEV(GetDeviceBufferMemoryRequirements),
    TD_DEV(GetDeviceBufferMemoryRequirementsKHR),
    TD_DEV(GetDeviceImageMemoryRequirements),
    TD_DEV(GetDeviceImageMemoryRequirementsKHR),
    TD_DEV(QueueSubmit),
    TD_DEV(QueueSubmit2),
    TD_DEV(QueueSubmit2KHR),
    TD_DEV(QueueWaitIdle),
    TD_DEV(DeviceWaitIdle),
    TD_DEV(WaitSemaphores),
    TD_DEV(WaitSemaphoresKHR),
    TD_DEV(GetSemaphoreCounterValue),
    TD_DEV(GetSemaphoreCounterValueKHR),
    TD_DEV(WaitForFences),
    TD_DEV(GetFenceStatus),
};
#undef TD_DEV

#define TD_INST(name) {"vk" #name, (PFN_vkVoidFunction)td_##name, offsetof(struct td_instance, name)}
static const struct td_entry td_instance_entries[] = {
    {"vkGetInstanceProcAddr", (PFN_vkVoidFunction)td_GetInstanceProcAddr, TD_ALWAYS},
    {"vkCreateInstance", (PFN_vkVoidFunction)td_CreateInstance, TD_ALWAYS},
    TD_INST(DestroyInstance),
    TD_INST(CreateDevice),
    TD_INST(EnumerateDeviceExtensionProperties),
    TD_INST(GetPhysicalDeviceFeatures2),
    TD_INST(GetPhysicalDeviceFeatures2KHR),
    TD_INST(GetPhysicalDeviceMemoryProperties),
    TD_INST(GetPhysicalDeviceMemoryProperties2),
    TD_INST(GetPhysicalDeviceMemoryProperties2KHR),
    TD_INST(GetPhysicalDeviceQueueFamilyProperties),
    TD_INST(GetPhysicalDeviceQueueFamilyProperties2),
    TD_INST(GetPhysicalDeviceQueueFamilyProperties2KHR),
};
#undef TD_INST

static const struct td_entry *td_find_entry(const struct td_entry *entries, size_t count, const char *name) {
    for (size_t i = 0; i < count; i++)
        if (strcmp(entries[i].name, name) == 0) return &entries[i];
    return NULL;
}

static bool td_next_present(const void *table, const struct td_entry *e) {
    if (e->next_offset == TD_ALWAYS || !table) return true;
    PFN_vkVoidFunction next;
    memcpy(&next, (const char *)table + e->next_offset, sizeof(next));
    return next != NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL td_GetDeviceProcAddr(VkDevice device, const char *name) {
    if (!name) return NULL;
    struct td_device *dev = device ? td_device_by_handle(device) : NULL;
    const struct td_entry *e = td_find_entry(td_device_entries, TD_ARRAY_SIZE(td_device_entries), name);
    if (e) return td_next_present(dev, e) ? e->fn : NULL;
    return dev ? dev->gdpa(device, name) : NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL td_GetInstanceProcAddr(VkInstance instance, const char *name) {
    if (!name) return NULL;
    struct td_instance *inst = instance ? td_instance_by_handle(instance) : NULL;
    const struct td_entry *e = td_find_entry(td_instance_entries, TD_ARRAY_SIZE(td_instance_entries), name);
    if (e) return td_next_present(inst, e) ? e->fn : NULL;
    /* Device commands through GIPA: the device-level intercepts (they look their device up by handle). */
    e = td_find_entry(td_device_entries, TD_ARRAY_SIZE(td_device_entries), name);
    if (e) return e->fn;
    return inst ? inst->gipa(instance, name) : NULL;
}

/* ------------------------------------------------------------------------- */
/* Exports                                                                   */

TD_EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *pVersion);
TD_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance instance, const char *name);
TD_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device, const char *name);
TD_EXPORT struct kmt_test_driver_control *kmt_test_driver_control(void);
TD_EXPORT void kmt_test_driver_reset(void);

TD_EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *pVersion) {
    if (!pVersion || pVersion->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT) return VK_ERROR_INITIALIZATION_FAILED;
    if (pVersion->loaderLayerInterfaceVersion > 2) pVersion->loaderLayerInterfaceVersion = 2;
    if (pVersion->loaderLayerInterfaceVersion < 2) return VK_ERROR_INITIALIZATION_FAILED;
    pVersion->pfnGetInstanceProcAddr = td_GetInstanceProcAddr;
    pVersion->pfnGetDeviceProcAddr = td_GetDeviceProcAddr;
    pVersion->pfnGetPhysicalDeviceProcAddr = NULL;
    return VK_SUCCESS;
}

TD_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance instance, const char *name) {
    return td_GetInstanceProcAddr(instance, name);
}

TD_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device, const char *name) {
    return td_GetDeviceProcAddr(device, name);
}

TD_EXPORT struct kmt_test_driver_control *kmt_test_driver_control(void) { return &g_control; }

TD_EXPORT void kmt_test_driver_reset(void) {
    pthread_mutex_lock(&g_control.lock);
    g_control.priority_record_count = 0;
    memset(g_control.priority_records, 0, sizeof(g_control.priority_records));
    g_control.created_device_count = 0;
    g_control.last_device_extension_count = 0;
    memset(g_control.last_device_extensions, 0, sizeof(g_control.last_device_extensions));
    g_control.last_device_timeline_semaphore = false;
    g_control.last_device_memory_priority = false;
    g_control.last_device_pageable = false;
    g_control.last_instance_api_version = 0;
    g_control.last_instance_extension_count = 0;
    memset(g_control.last_instance_extensions, 0, sizeof(g_control.last_instance_extensions));
    g_control.fence_waits_entered = 0;
    __atomic_store_n(&g_control.fence_waits_returned, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_control.queue_submits, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_control.semaphore_waits, 0, __ATOMIC_RELAXED);
    td_apply_env_knobs();
    g_control.lose_device = false;
    pthread_mutex_unlock(&g_control.lock);
}

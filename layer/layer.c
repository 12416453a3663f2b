/* SPDX-License-Identifier: MIT */
/*
 * layer.c -- loader negotiation, vkGet*ProcAddr, and the life of instances,
 * physical devices and devices.
 *
 * Rules this file keeps:
 * - Only three symbols are exported, as thin wrappers over static functions
 *   (LOADER-NOTES: taking the address of an exported vkGetInstanceProcAddr
 *   inside the layer hands out the loader's own and deadlocks it).
 * - VK_KMT_offer_reclaim and VK_KMT_residency are advertised where the driver
 *   has timeline semaphores, stripped from vkCreateDevice before calling
 *   down (a device may enable either or both: one set of handles), and what it
 *   needs (timeline semaphores, VK_EXT_memory_priority, ..._pageable_...,
 *   VK_EXT_memory_budget) is enabled underneath on a deep copy of the app's
 *   create info: the app's own structs are never written.
 * - A device that did not enable the extension gets the next layer's
 *   functions from vkGetDeviceProcAddr for everything but vkDestroyDevice and
 *   vkGetDeviceProcAddr: it is never tracked and its hot paths never see us.
 * - Functions of extensions the layer enabled underneath stay hidden from an
 *   app that did not enable them.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "device.h"
#include "extensions.h"
#include "paging.h"
#include "settings_file.h"
#include "names.h"
#include "report.h"
#include "vvl_utils.h"

#define KMT_EXPORT __attribute__((visibility("default")))

static PFN_vkVoidFunction layer_GetInstanceProcAddr(VkInstance instance, const char *name);
static PFN_vkVoidFunction layer_GetDeviceProcAddr(VkDevice device, const char *name);

/* The device extensions this layer implements (one set of handles, either or both enabled). */
#define KMT_OWN_EXTENSIONS 2
static const VkExtensionProperties kmt_extensions[KMT_OWN_EXTENSIONS] = {
    {.extensionName = VK_KMT_OFFER_RECLAIM_EXTENSION_NAME, .specVersion = VK_KMT_OFFER_RECLAIM_SPEC_VERSION},
    {.extensionName = VK_KMT_RESIDENCY_EXTENSION_NAME, .specVersion = VK_KMT_RESIDENCY_SPEC_VERSION},
};

static bool
is_own_extension(const char *name)
{
    for (uint32_t i = 0; i < KMT_OWN_EXTENSIONS; i++)
        if (strcmp(name, kmt_extensions[i].extensionName) == 0)
            return true;
    return false;
}

/* ---- helpers ------------------------------------------------------------- */

static bool
name_in(const char *name, uint32_t count, const char *const *names)
{
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void *
find_in_chain_mut(void *chain, VkStructureType type)
{
    for (VkBaseOutStructure *s = chain; s; s = s->pNext)
        if (s->sType == type)
            return s;
    return NULL;
}

static VkLayerInstanceCreateInfo *
instance_chain_info(const VkInstanceCreateInfo *info, VkLayerFunction function)
{
    for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
        VkLayerInstanceCreateInfo *c = (VkLayerInstanceCreateInfo *)s;
        if (s->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && c->function == function)
            return c;
    }
    return NULL;
}

static VkLayerDeviceCreateInfo *
device_chain_info(const void *chain, VkLayerFunction function)
{
    for (const VkBaseInStructure *s = chain; s; s = s->pNext) {
        VkLayerDeviceCreateInfo *c = (VkLayerDeviceCreateInfo *)s;
        if (s->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && c->function == function)
            return c;
    }
    return NULL;
}

/* ---- instances ----------------------------------------------------------- */

static VkResult VKAPI_CALL
layer_CreateInstance(const VkInstanceCreateInfo *pCreateInfo, const VkAllocationCallbacks *pAllocator,
                     VkInstance *pInstance)
{
    VkLayerInstanceCreateInfo *link = instance_chain_info(pCreateInfo, VK_LAYER_LINK_INFO);
    if (!link || !link->u.pLayerInfo)
        return VK_ERROR_INITIALIZATION_FAILED;
    PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    PFN_vkCreateInstance next_create = (PFN_vkCreateInstance)next_gipa(VK_NULL_HANDLE, "vkCreateInstance");
    if (!next_create)
        return VK_ERROR_INITIALIZATION_FAILED;

    struct kmt_instance *inst = kmt_alloc(pAllocator, sizeof(*inst), VK_SYSTEM_ALLOCATION_SCOPE_INSTANCE);
    if (!inst)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    memset(inst, 0, sizeof(*inst));
    inst->api_version = pCreateInfo->pApplicationInfo && pCreateInfo->pApplicationInfo->apiVersion
                            ? pCreateInfo->pApplicationInfo->apiVersion
                            : VK_API_VERSION_1_0;
    if (pAllocator) {
        inst->allocator = *pAllocator;
        inst->has_allocator = true;
    }
    /* VK_EXT_layer_settings: kept for the devices, which read every source
     * (settings.h); the struct stays in the chain for the layers below. */
    if (kmt_app_settings_init(&inst->app_settings, pCreateInfo->pNext, inst->has_allocator ? &inst->allocator : NULL) !=
        VK_SUCCESS) {
        kmt_free(pAllocator, inst);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }

    /* An app at 1.0 gets VK_KHR_get_physical_device_properties2 underneath:
     * without it the loader's Features2 emulation drops the pNext chains the
     * layer needs (LOADER-NOTES). */
    VkInstanceCreateInfo info = *pCreateInfo;
    const char **names = NULL;
    if (inst->api_version < VK_API_VERSION_1_1 &&
        !name_in(VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME, info.enabledExtensionCount,
                 info.ppEnabledExtensionNames)) {
        names = kmt_alloc(pAllocator, (info.enabledExtensionCount + 1) * sizeof(char *),
                          VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
        if (!names) {
            kmt_app_settings_finish(&inst->app_settings);
            kmt_free(pAllocator, inst);
            return VK_ERROR_OUT_OF_HOST_MEMORY;
        }
        if (info.enabledExtensionCount)
            memcpy(names, info.ppEnabledExtensionNames, info.enabledExtensionCount * sizeof(char *));
        names[info.enabledExtensionCount] = VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME;
        info.ppEnabledExtensionNames = names;
        info.enabledExtensionCount++;
    }
    bool debug_utils = name_in(VK_EXT_DEBUG_UTILS_EXTENSION_NAME, pCreateInfo->enabledExtensionCount,
                               pCreateInfo->ppEnabledExtensionNames);

    link->u.pLayerInfo = link->u.pLayerInfo->pNext;
    VkResult result = next_create(&info, pAllocator, pInstance);
    kmt_free(pAllocator, names);
    if (result != VK_SUCCESS) {
        kmt_app_settings_finish(&inst->app_settings);
        kmt_free(pAllocator, inst);
        return result;
    }

    inst->handle = *pInstance;
    kmt_fill_instance_dispatch(&inst->next, *pInstance, next_gipa, inst->api_version);
    /* Problems are reported by the devices, which have a messenger to report to. */
    struct kmt_settings settings;
    kmt_settings_read(&settings, &inst->app_settings, NULL, NULL);
    kmt_logger_init(&inst->logger, *pInstance, debug_utils ? inst->next.SubmitDebugUtilsMessageEXT : NULL, &settings,
                    inst->has_allocator ? &inst->allocator : NULL);
    if (!kmt_register_instance(inst)) {
        kmt_logger_finish(&inst->logger);
        inst->next.DestroyInstance(*pInstance, pAllocator);
        kmt_app_settings_finish(&inst->app_settings);
        kmt_free(pAllocator, inst);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    return VK_SUCCESS;
}

static void VKAPI_CALL
layer_DestroyInstance(VkInstance instance, const VkAllocationCallbacks *pAllocator)
{
    struct kmt_instance *inst = kmt_unregister_instance(instance);
    if (!inst)
        return;
    kmt_unregister_physical_devices_of(inst);
    inst->next.DestroyInstance(instance, pAllocator);
    kmt_app_settings_finish(&inst->app_settings);
    kmt_logger_finish(&inst->logger);
    kmt_free(inst->has_allocator ? &inst->allocator : NULL, inst);
}

static VkResult VKAPI_CALL
layer_EnumeratePhysicalDevices(VkInstance instance, uint32_t *pCount, VkPhysicalDevice *pDevices)
{
    struct kmt_instance *inst = kmt_instance_from_handle(instance);
    VkResult result = inst->next.EnumeratePhysicalDevices(instance, pCount, pDevices);
    if (pDevices && result >= 0) {
        for (uint32_t i = 0; i < *pCount; i++)
            if (!kmt_register_physical_device(pDevices[i], inst))
                return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    return result;
}

static VkResult VKAPI_CALL
layer_EnumeratePhysicalDeviceGroups(VkInstance instance, uint32_t *pCount, VkPhysicalDeviceGroupProperties *pGroups)
{
    struct kmt_instance *inst = kmt_instance_from_handle(instance);
    /* Resolved in vkCreateInstance: looked up now, a layer at the bottom of
     * the chain gets the top of the chain back and recurses (LOADER-NOTES). */
    PFN_vkEnumeratePhysicalDeviceGroups next = inst->next.EnumeratePhysicalDeviceGroups;
    if (!next)
        return VK_ERROR_INITIALIZATION_FAILED;
    VkResult result = next(instance, pCount, pGroups);
    if (pGroups && result >= 0) {
        for (uint32_t g = 0; g < *pCount; g++)
            for (uint32_t i = 0; i < pGroups[g].physicalDeviceCount; i++)
                if (!kmt_register_physical_device(pGroups[g].physicalDevices[i], inst))
                    return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    return result;
}

/* The layer sees every physical device through its enumerate hooks; one an
 * app got some other way (there is none today) is not ours to extend. */
static struct kmt_physical_device *
physical_for(VkPhysicalDevice handle)
{
    struct kmt_physical_device *p = kmt_physical_from_handle(handle);
    if (p)
        kmt_probe_physical_device(p);
    return p;
}

static VkResult VKAPI_CALL
layer_EnumerateDeviceExtensionProperties(VkPhysicalDevice physicalDevice, const char *pLayerName, uint32_t *pCount,
                                         VkExtensionProperties *pProperties)
{
    struct kmt_physical_device *p = physical_for(physicalDevice);
    bool supported = p && p->timeline;
    if (pLayerName && strcmp(pLayerName, KMT_LAYER_NAME) == 0)
        return kmt_return_extensions(supported ? KMT_OWN_EXTENSIONS : 0, kmt_extensions, pCount, pProperties);
    if (!p)
        return VK_ERROR_INITIALIZATION_FAILED;
    const struct kmt_instance_dispatch *next = &p->instance->next;
    if (pLayerName || !supported)
        return next->EnumerateDeviceExtensionProperties(physicalDevice, pLayerName, pCount, pProperties);

    /* Ask below first, then append ours unless they are already listed. */
    uint32_t count = 0;
    VkResult result = next->EnumerateDeviceExtensionProperties(physicalDevice, NULL, &count, NULL);
    if (result != VK_SUCCESS)
        return result;
    VkExtensionProperties *all = calloc(count + KMT_OWN_EXTENSIONS, sizeof(*all));
    if (!all)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    result = next->EnumerateDeviceExtensionProperties(physicalDevice, NULL, &count, all);
    if (result < 0) {
        free(all);
        return result;
    }
    const uint32_t below = count;
    for (uint32_t k = 0; k < KMT_OWN_EXTENSIONS; k++) {
        bool listed = false;
        for (uint32_t i = 0; i < below; i++)
            listed |= strcmp(all[i].extensionName, kmt_extensions[k].extensionName) == 0;
        if (!listed)
            all[count++] = kmt_extensions[k];
    }
    result = kmt_return_extensions(count, all, pCount, pProperties);
    free(all);
    return result;
}

static VkResult VKAPI_CALL
layer_CreateDebugUtilsMessengerEXT(VkInstance instance, const VkDebugUtilsMessengerCreateInfoEXT *pCreateInfo,
                                   const VkAllocationCallbacks *pAllocator, VkDebugUtilsMessengerEXT *pMessenger)
{
    struct kmt_instance *inst = kmt_instance_from_handle(instance);
    VkResult result = inst->next.CreateDebugUtilsMessengerEXT(instance, pCreateInfo, pAllocator, pMessenger);
    if (result == VK_SUCCESS)
        kmt_logger_add_messenger(&inst->logger, *pMessenger, pCreateInfo);
    return result;
}

static void VKAPI_CALL
layer_DestroyDebugUtilsMessengerEXT(VkInstance instance, VkDebugUtilsMessengerEXT messenger,
                                    const VkAllocationCallbacks *pAllocator)
{
    struct kmt_instance *inst = kmt_instance_from_handle(instance);
    if (messenger != VK_NULL_HANDLE)
        kmt_logger_remove_messenger(&inst->logger, messenger);
    inst->next.DestroyDebugUtilsMessengerEXT(instance, messenger, pAllocator);
}

/* ---- devices -------------------------------------------------------------- */

/* What vkCreateDevice passes down for a device that enabled the extension. */
struct device_create_copy {
    VkDeviceCreateInfo info;
    void *chain;                  /* deep copy of the app's pNext (VVL utilities) */
    const char **names;
    VkPhysicalDeviceTimelineSemaphoreFeatures timeline;
    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority;
    VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable;
    VkDeviceQueueCreateInfo *queues; /* the app's, one family asking for a queue more */
    float *priorities;
};

#define KMT_MAX_FAMILIES 64

/* Picks the queue GPU fills run on: a spare queue of the first family the app
 * uses that can transfer (the layer then asks for one more), else queue 0 of
 * that family, shared with the app under the queue lock. Lavapipe has one
 * queue: the shared path is the one CI runs. */
static VkResult
choose_paging_queue(struct kmt_device *d, const VkDeviceCreateInfo *app, struct device_create_copy *c)
{
    VkQueueFamilyProperties families[KMT_MAX_FAMILIES];
    uint32_t family_count = KMT_MAX_FAMILIES;
    d->instance->next.GetPhysicalDeviceQueueFamilyProperties(d->physical->handle, &family_count, families);
    const VkQueueFlags transfer = VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT | VK_QUEUE_TRANSFER_BIT;
    int chosen = -1;
    bool spare = false;
    for (uint32_t i = 0; i < app->queueCreateInfoCount; i++) {
        const VkDeviceQueueCreateInfo *q = &app->pQueueCreateInfos[i];
        if (q->flags || q->queueFamilyIndex >= family_count || !(families[q->queueFamilyIndex].queueFlags & transfer))
            continue;
        bool has_spare = families[q->queueFamilyIndex].queueCount > q->queueCount;
        if (chosen < 0 || (has_spare && !spare)) {
            chosen = (int)i;
            spare = has_spare;
        }
    }
    if (chosen < 0) {
        d->paging_family = app->queueCreateInfoCount ? app->pQueueCreateInfos[0].queueFamilyIndex : 0;
        d->paging_index = 0;
        return VK_SUCCESS;
    }
    const VkDeviceQueueCreateInfo *q = &app->pQueueCreateInfos[chosen];
    d->paging_family = q->queueFamilyIndex;
    d->paging_index = spare ? q->queueCount : 0;
    d->paging_dedicated = spare;
    if (!spare)
        return VK_SUCCESS;
    c->queues = malloc(app->queueCreateInfoCount * sizeof(*c->queues));
    c->priorities = malloc((q->queueCount + 1) * sizeof(float));
    if (!c->queues || !c->priorities)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    memcpy(c->queues, app->pQueueCreateInfos, app->queueCreateInfoCount * sizeof(*c->queues));
    memcpy(c->priorities, q->pQueuePriorities, q->queueCount * sizeof(float));
    c->priorities[q->queueCount] = 0.5f;
    c->queues[chosen].queueCount++;
    c->queues[chosen].pQueuePriorities = c->priorities;
    c->info.pQueueCreateInfos = c->queues;
    return VK_SUCCESS;
}

static void
add_name(const char **names, uint32_t *count, const char *name)
{
    if (!name_in(name, *count, names))
        names[(*count)++] = name;
}

static void
prepend(struct device_create_copy *c, void *node)
{
    ((VkBaseOutStructure *)node)->pNext = (VkBaseOutStructure *)(uintptr_t)c->info.pNext;
    c->info.pNext = node;
}

/* Builds the create info passed down: our extension stripped; timeline
 * semaphores, memory priority, pageable memory and the budget enabled when the
 * driver has them. Features the app left off are switched on in the copy. */
static VkResult
build_device_create_info(struct kmt_device *d, const VkDeviceCreateInfo *app, struct device_create_copy *c)
{
    struct kmt_physical_device *p = d->physical;
    memset(c, 0, sizeof(*c));
    c->info = *app;
    c->chain = kmt_copy_pnext_chain(app->pNext);
    if (app->pNext && !c->chain)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    c->info.pNext = c->chain;
    c->names = malloc((app->enabledExtensionCount + 4) * sizeof(char *));
    if (!c->names)
        return VK_ERROR_OUT_OF_HOST_MEMORY;

    uint32_t count = 0;
    for (uint32_t i = 0; i < app->enabledExtensionCount; i++)
        if (!is_own_extension(app->ppEnabledExtensionNames[i]))
            add_name(c->names, &count, app->ppEnabledExtensionNames[i]);
    d->app_pageable = name_in(VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME, count, c->names);
    d->app_timeline_khr = name_in(VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME, count, c->names);
    if (p->api_version < VK_API_VERSION_1_2)
        add_name(c->names, &count, VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME);
    if (p->memory_priority)
        add_name(c->names, &count, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME);
    if (p->pageable)
        add_name(c->names, &count, VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME);
    if (p->memory_budget)
        add_name(c->names, &count, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    c->info.enabledExtensionCount = count;
    c->info.ppEnabledExtensionNames = c->names;

    /* Timeline semaphores: in VkPhysicalDeviceVulkan12Features when the app
     * chains one (a second struct would be invalid, VUID 02830), else in a
     * VkPhysicalDeviceTimelineSemaphoreFeatures. */
    VkPhysicalDeviceVulkan12Features *f12 =
        find_in_chain_mut(c->chain, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
    VkPhysicalDeviceTimelineSemaphoreFeatures *tl =
        find_in_chain_mut(c->chain, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES);
    if (f12) {
        f12->timelineSemaphore = VK_TRUE;
    } else if (tl) {
        tl->timelineSemaphore = VK_TRUE;
    } else {
        c->timeline.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES;
        c->timeline.timelineSemaphore = VK_TRUE;
        prepend(c, &c->timeline);
    }
    if (p->memory_priority) {
        VkPhysicalDeviceMemoryPriorityFeaturesEXT *mp =
            find_in_chain_mut(c->chain, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT);
        if (mp) {
            mp->memoryPriority = VK_TRUE;
        } else {
            c->priority.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT;
            c->priority.memoryPriority = VK_TRUE;
            prepend(c, &c->priority);
        }
    }
    if (p->pageable) {
        VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT *pg =
            find_in_chain_mut(c->chain, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT);
        if (pg) {
            pg->pageableDeviceLocalMemory = VK_TRUE;
        } else {
            c->pageable.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT;
            c->pageable.pageableDeviceLocalMemory = VK_TRUE;
            prepend(c, &c->pageable);
        }
    }
    d->memory_priority = p->memory_priority;
    d->pageable = p->pageable;
    d->memory_budget = p->memory_budget;
    return choose_paging_queue(d, app, c);
}

static void
free_device_create_info(struct device_create_copy *c)
{
    kmt_free_pnext_chain(c->chain);
    free(c->names);
    free(c->queues);
    free(c->priorities);
}

/* An extension that may carry VkDeviceMemory handles the layer cannot
 * translate (extensions.c). Inside vkCreateDevice the loader holds the lock
 * vkSubmitDebugUtilsMessageEXT takes (LOADER-NOTES), so the message goes
 * straight to the app's messengers (log.h), else to stderr. */
static void
report_refused_extension(struct kmt_instance *inst, const char *name)
{
    char text[KMT_LOG_TEXT_MAX];
    snprintf(text, sizeof(text),
             "vkCreateDevice: %s may carry VkDeviceMemory handles that VK_LAYER_KMT_offer_reclaim cannot translate "
             "(it hands out its own handles on devices that enable VK_KMT_offer_reclaim); the device was not "
             "created. Create it without VK_KMT_offer_reclaim, or without %s.",
             name, name);
    const struct kmt_log_object object = {VK_OBJECT_TYPE_INSTANCE, (uint64_t)(uintptr_t)inst->handle, NULL};
    kmt_log_send(&inst->logger, KMT_LOG_ERROR, "KMT-extension-refused", 1, &object, text, true);
}

static void
free_device_record(struct kmt_device *d)
{
    pthread_mutex_destroy(&d->lock);
    kmt_free(d->pallocator, d);
}

static VkResult VKAPI_CALL
layer_CreateDevice(VkPhysicalDevice physicalDevice, const VkDeviceCreateInfo *pCreateInfo,
                   const VkAllocationCallbacks *pAllocator, VkDevice *pDevice)
{
    struct kmt_physical_device *p = physical_for(physicalDevice);
    VkLayerDeviceCreateInfo *link = device_chain_info(pCreateInfo->pNext, VK_LAYER_LINK_INFO);
    VkLayerDeviceCreateInfo *loader_data = device_chain_info(pCreateInfo->pNext, VK_LOADER_DATA_CALLBACK);
    if (!p || !link || !link->u.pLayerInfo)
        return VK_ERROR_INITIALIZATION_FAILED;
    PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    PFN_vkGetDeviceProcAddr next_gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
    PFN_vkCreateDevice next_create = (PFN_vkCreateDevice)next_gipa(p->instance->handle, "vkCreateDevice");
    if (!next_create)
        return VK_ERROR_INITIALIZATION_FAILED;

    struct kmt_device *d = kmt_alloc(pAllocator, sizeof(*d), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!d)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    memset(d, 0, sizeof(*d));
    if (pAllocator) {
        d->allocator = *pAllocator;
        d->has_allocator = true;
        d->pallocator = &d->allocator;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->instance = p->instance;
    d->physical = p;
    d->set_loader_data = loader_data ? loader_data->u.pfnSetDeviceLoaderData : NULL;
    d->offer_reclaim = name_in(VK_KMT_OFFER_RECLAIM_EXTENSION_NAME, pCreateInfo->enabledExtensionCount,
                               pCreateInfo->ppEnabledExtensionNames);
    d->residency = name_in(VK_KMT_RESIDENCY_EXTENSION_NAME, pCreateInfo->enabledExtensionCount,
                           pCreateInfo->ppEnabledExtensionNames);
    d->enabled = d->offer_reclaim || d->residency;
    if (d->enabled && !p->timeline) {
        free_device_record(d);
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    }
    const char *refused = d->enabled ? kmt_first_refused_extension(pCreateInfo->enabledExtensionCount,
                                                                   pCreateInfo->ppEnabledExtensionNames)
                                     : NULL;
    if (refused) {
        report_refused_extension(p->instance, refused);
        free_device_record(d);
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    }

    link->u.pLayerInfo = link->u.pLayerInfo->pNext;
    VkResult result;
    if (d->enabled) {
        struct device_create_copy copy;
        result = build_device_create_info(d, pCreateInfo, &copy);
        if (result == VK_SUCCESS)
            result = next_create(physicalDevice, &copy.info, pAllocator, pDevice);
        free_device_create_info(&copy);
    } else {
        result = next_create(physicalDevice, pCreateInfo, pAllocator, pDevice);
    }
    if (result != VK_SUCCESS) {
        free_device_record(d);
        return result;
    }

    d->handle = *pDevice;
    kmt_fill_device_dispatch(&d->next, *pDevice, next_gdpa, p->api_version);
    result = d->enabled ? kmt_device_setup(d, pCreateInfo) : VK_SUCCESS;
    /* Every queue's record now, so that no queue the app gets lacks one. */
    if (result == VK_SUCCESS && d->enabled)
        result = kmt_track_device_queues(d, pCreateInfo);
    if (!d->enabled)
        kmt_report_device(d); /* LOG_LEVEL=info: the user sees the layer is there */
    if (result == VK_SUCCESS && !kmt_register_device(d))
        result = VK_ERROR_OUT_OF_HOST_MEMORY;
    if (result != VK_SUCCESS) {
        if (d->enabled)
            kmt_device_teardown(d);
        d->next.DestroyDevice(*pDevice, pAllocator);
        free_device_record(d);
        *pDevice = VK_NULL_HANDLE;
        return result;
    }
    /* The loader holds its lock here: the startup messages go straight to
     * the app's messengers (log.h), not down the chain. */
    kmt_log_flush_direct(&d->startup_log, &d->instance->logger);
    return VK_SUCCESS;
}

static void VKAPI_CALL
layer_DestroyDevice(VkDevice device, const VkAllocationCallbacks *pAllocator)
{
    struct kmt_device *d = kmt_unregister_device(device);
    if (!d)
        return;
    if (d->enabled)
        kmt_device_teardown(d);
    d->next.DestroyDevice(device, pAllocator);
    free_device_record(d);
}

/* ---- proc addr --------------------------------------------------------------- */

struct hook {
    const char *name;
    PFN_vkVoidFunction function;
};

#define KMT_HOOK(name) {"vk" #name, (PFN_vkVoidFunction)layer_##name}

static const struct hook instance_hooks[] = {
    KMT_HOOK(GetInstanceProcAddr),
    KMT_HOOK(CreateInstance),
    KMT_HOOK(DestroyInstance),
    KMT_HOOK(EnumeratePhysicalDevices),
    KMT_HOOK(EnumeratePhysicalDeviceGroups),
    {"vkEnumeratePhysicalDeviceGroupsKHR", (PFN_vkVoidFunction)layer_EnumeratePhysicalDeviceGroups},
    KMT_HOOK(EnumerateDeviceExtensionProperties),
    KMT_HOOK(CreateDevice),
    KMT_HOOK(CreateDebugUtilsMessengerEXT),
    KMT_HOOK(DestroyDebugUtilsMessengerEXT),
};

static PFN_vkVoidFunction
find_hook(const struct hook *hooks, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(hooks[i].name, name) == 0)
            return hooks[i].function;
    return NULL;
}

/* Entry points of extensions the layer enabled underneath but the app did
 * not: they must stay NULL for the app. */
static bool
hidden_from_app(const struct kmt_device *d, const char *name)
{
    if (!d->enabled)
        return false;
    if (!d->app_pageable && strcmp(name, "vkSetDeviceMemoryPriorityEXT") == 0)
        return true;
    if (!d->app_timeline_khr && d->physical->api_version < VK_API_VERSION_1_2 &&
        (strcmp(name, "vkGetSemaphoreCounterValueKHR") == 0 || strcmp(name, "vkWaitSemaphoresKHR") == 0 ||
         strcmp(name, "vkSignalSemaphoreKHR") == 0))
        return true;
    return false;
}

static PFN_vkVoidFunction
layer_GetDeviceProcAddr(VkDevice device, const char *name)
{
    if (strcmp(name, "vkGetDeviceProcAddr") == 0)
        return (PFN_vkVoidFunction)layer_GetDeviceProcAddr;
    struct kmt_device *d = kmt_device_from_handle(device);
    if (!d)
        return NULL;
    if (strcmp(name, "vkDestroyDevice") == 0)
        return (PFN_vkVoidFunction)layer_DestroyDevice;
    if (!d->enabled)
        return d->next.GetDeviceProcAddr(device, name);
    PFN_vkVoidFunction own = kmt_device_command(d, name);
    if (own)
        return own;
    if (hidden_from_app(d, name))
        return NULL;
    PFN_vkVoidFunction next = d->next.GetDeviceProcAddr(device, name);
    PFN_vkVoidFunction hook = next ? kmt_device_hook(name) : NULL;
    return hook ? hook : next;
}

static PFN_vkVoidFunction
layer_GetInstanceProcAddr(VkInstance instance, const char *name)
{
    PFN_vkVoidFunction hook = find_hook(instance_hooks, sizeof(instance_hooks) / sizeof(instance_hooks[0]), name);
    if (hook)
        return hook;
    if (strcmp(name, "vkGetDeviceProcAddr") == 0)
        return (PFN_vkVoidFunction)layer_GetDeviceProcAddr;
    if (strcmp(name, "vkDestroyDevice") == 0)
        return (PFN_vkVoidFunction)layer_DestroyDevice;
    if (!instance)
        return NULL;
    PFN_vkVoidFunction own = kmt_extension_command(name);
    if (own)
        return own;
    /* Device hooks are handed out only through vkGetDeviceProcAddr, to
     * devices that enabled the extension; the loader builds device dispatch
     * tables from vkGetDeviceProcAddr -- except VK_EXT_debug_utils' object
     * commands, which it takes from here for every device (their hooks pass
     * through for devices that did not enable the extension). */
    struct kmt_instance *inst = kmt_instance_from_handle(instance);
    PFN_vkVoidFunction next = inst ? inst->next.GetInstanceProcAddr(instance, name) : NULL;
    if (next && (strcmp(name, "vkSetDebugUtilsObjectNameEXT") == 0 || strcmp(name, "vkSetDebugUtilsObjectTagEXT") == 0))
        return kmt_device_hook(name);
    return next;
}

/* ---- exports ------------------------------------------------------------------ */

KMT_EXPORT VKAPI_ATTR VkResult VKAPI_CALL
vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *pVersionStruct)
{
    if (!pVersionStruct || pVersionStruct->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT)
        return VK_ERROR_INITIALIZATION_FAILED;
    if (pVersionStruct->loaderLayerInterfaceVersion < 2)
        return VK_ERROR_INITIALIZATION_FAILED;
    pVersionStruct->loaderLayerInterfaceVersion = 2;
    pVersionStruct->pfnGetInstanceProcAddr = layer_GetInstanceProcAddr;
    pVersionStruct->pfnGetDeviceProcAddr = layer_GetDeviceProcAddr;
    pVersionStruct->pfnGetPhysicalDeviceProcAddr = NULL;
    return VK_SUCCESS;
}

KMT_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL
vkGetInstanceProcAddr(VkInstance instance, const char *pName)
{
    return layer_GetInstanceProcAddr(instance, pName);
}

KMT_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL
vkGetDeviceProcAddr(VkDevice device, const char *pName)
{
    return layer_GetDeviceProcAddr(device, pName);
}

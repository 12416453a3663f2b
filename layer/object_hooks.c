/* SPDX-License-Identifier: MIT */
/*
 * object_hooks.c -- commands that name any object by (type, handle): object
 * names and tags (VK_EXT_debug_utils, VK_EXT_debug_marker) and private data
 * (Vulkan 1.3, VK_EXT_private_data). On a device that enabled the extension
 * a VK_OBJECT_TYPE_DEVICE_MEMORY handle is the layer's own and is translated
 * before the call goes down; every other object passes untouched.
 *
 * Decommitted memory has no driver object left: naming or tagging it is
 * accepted and goes no further (the layer's messages still use the name);
 * private data cannot be stored on it (reported, VK_ERROR_VALIDATION_FAILED_EXT)
 * and reads as 0 -- the app may only free such memory.
 */
#include <inttypes.h>

#include "hooks.h"
#include "names.h"

uint64_t
kmt_driver_object(struct kmt_device *d, VkObjectType type, uint64_t handle)
{
    if (type != VK_OBJECT_TYPE_DEVICE_MEMORY)
        return handle;
    return kmt_driver_memory(&d->tracker, handle);
}

/* The driver's handle of a named object; *skip when it is decommitted memory
 * (accepted, nothing to call), 0 and a message when it is no live memory. */
static uint64_t
object_for_driver(struct kmt_device *d, const char *command, VkObjectType type, uint64_t handle, bool *skip)
{
    *skip = false;
    if (type != VK_OBJECT_TYPE_DEVICE_MEMORY || handle == 0)
        return handle;
    struct kmt_memory *m = kmt_find_memory(&d->tracker, handle, NULL);
    if (m && !__atomic_load_n(&m->driver, __ATOMIC_RELAXED)) {
        *skip = true;
        return 0;
    }
    return kmt_translate_memory(d, command, "objectHandle", handle);
}

/* The loader (1.3.239) fills the two VK_EXT_debug_utils object commands of
 * every device's dispatch table through vkGetInstanceProcAddr, so they reach
 * the layer for devices that did not enable the extension too: those pass
 * straight through. */
VKAPI_ATTR VkResult VKAPI_CALL
kmt_SetDebugUtilsObjectNameEXT(VkDevice device, const VkDebugUtilsObjectNameInfoEXT *pInfo)
{
    struct kmt_device *d = kmt_hooked_device(device);
    if (!d || !d->next.SetDebugUtilsObjectNameEXT)
        return VK_SUCCESS; /* as the loader does when nothing below implements it */
    if (!d->enabled || !pInfo)
        return d->next.SetDebugUtilsObjectNameEXT(device, pInfo);
    kmt_names_record(d, pInfo); /* messages and the trace quote it */
    bool skip;
    VkDebugUtilsObjectNameInfoEXT info = *pInfo;
    info.objectHandle = object_for_driver(d, "vkSetDebugUtilsObjectNameEXT", pInfo->objectType,
                                          pInfo->objectHandle, &skip);
    if (skip)
        return VK_SUCCESS;
    if (!info.objectHandle && pInfo->objectHandle)
        return VK_ERROR_VALIDATION_FAILED_EXT;
    return d->next.SetDebugUtilsObjectNameEXT(device, &info);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_SetDebugUtilsObjectTagEXT(VkDevice device, const VkDebugUtilsObjectTagInfoEXT *pInfo)
{
    struct kmt_device *d = kmt_hooked_device(device);
    if (!d->enabled)
        return d->next.SetDebugUtilsObjectTagEXT(device, pInfo);
    bool skip;
    VkDebugUtilsObjectTagInfoEXT info = *pInfo;
    info.objectHandle =
        object_for_driver(d, "vkSetDebugUtilsObjectTagEXT", pInfo->objectType, pInfo->objectHandle, &skip);
    if (skip)
        return VK_SUCCESS;
    if (!info.objectHandle && pInfo->objectHandle)
        return VK_ERROR_VALIDATION_FAILED_EXT;
    return d->next.SetDebugUtilsObjectTagEXT(device, &info);
}

/* VK_EXT_debug_marker names objects by VkDebugReportObjectTypeEXT. */
static VkObjectType
object_type_of(VkDebugReportObjectTypeEXT type)
{
    return type == VK_DEBUG_REPORT_OBJECT_TYPE_DEVICE_MEMORY_EXT ? VK_OBJECT_TYPE_DEVICE_MEMORY
                                                                  : VK_OBJECT_TYPE_UNKNOWN;
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_DebugMarkerSetObjectNameEXT(VkDevice device, const VkDebugMarkerObjectNameInfoEXT *pInfo)
{
    struct kmt_device *d = kmt_hooked_device(device);
    bool skip;
    VkDebugMarkerObjectNameInfoEXT info = *pInfo;
    info.object = object_for_driver(d, "vkDebugMarkerSetObjectNameEXT", object_type_of(pInfo->objectType),
                                    pInfo->object, &skip);
    if (skip)
        return VK_SUCCESS;
    if (!info.object && pInfo->object)
        return VK_ERROR_VALIDATION_FAILED_EXT;
    return d->next.DebugMarkerSetObjectNameEXT(device, &info);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_DebugMarkerSetObjectTagEXT(VkDevice device, const VkDebugMarkerObjectTagInfoEXT *pInfo)
{
    struct kmt_device *d = kmt_hooked_device(device);
    bool skip;
    VkDebugMarkerObjectTagInfoEXT info = *pInfo;
    info.object = object_for_driver(d, "vkDebugMarkerSetObjectTagEXT", object_type_of(pInfo->objectType),
                                    pInfo->object, &skip);
    if (skip)
        return VK_SUCCESS;
    if (!info.object && pInfo->object)
        return VK_ERROR_VALIDATION_FAILED_EXT;
    return d->next.DebugMarkerSetObjectTagEXT(device, &info);
}

VKAPI_ATTR VkResult VKAPI_CALL
kmt_SetPrivateData(VkDevice device, VkObjectType type, uint64_t handle, VkPrivateDataSlot slot, uint64_t data)
{
    struct kmt_device *d = kmt_hooked_device(device);
    bool skip;
    uint64_t object = object_for_driver(d, "vkSetPrivateData", type, handle, &skip);
    if (skip) {
        kmt_log(&d->instance->logger, KMT_LOG_ERROR, "KMT-memory-decommitted", VK_OBJECT_TYPE_DEVICE_MEMORY, handle,
                "vkSetPrivateData: objectHandle (0x%" PRIx64 ") was decommitted: it can only be freed.", handle);
        return VK_ERROR_VALIDATION_FAILED_EXT;
    }
    if (!object && handle)
        return VK_ERROR_VALIDATION_FAILED_EXT;
    return d->next.SetPrivateData(device, type, object, slot, data);
}

VKAPI_ATTR void VKAPI_CALL
kmt_GetPrivateData(VkDevice device, VkObjectType type, uint64_t handle, VkPrivateDataSlot slot, uint64_t *pData)
{
    struct kmt_device *d = kmt_hooked_device(device);
    bool skip;
    uint64_t object = object_for_driver(d, "vkGetPrivateData", type, handle, &skip);
    *pData = 0;
    if (!skip && (object || !handle))
        d->next.GetPrivateData(device, type, object, slot, pData);
}

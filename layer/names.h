/* SPDX-License-Identifier: MIT */
/*
 * names.h -- the names an app gives objects with vkSetDebugUtilsObjectNameEXT,
 * so that the layer's messages and trace can say "albedo" rather than
 * 0x55d0c3a1b2c0.
 *
 * Kept per device that enabled VK_KMT_offer_reclaim, keyed by (object type,
 * the app's handle), for the objects the layer talks about: memory, buffers,
 * images, the device and its queues. A NULL or empty name removes the entry,
 * as does freeing / destroying the object (kmt_object_destroyed). The table
 * is created at the first name, so a device whose app names nothing pays
 * one NULL test on vkFreeMemory / vkDestroyBuffer / vkDestroyImage.
 *
 * Lookups copy the name out under the table's own lock, a leaf lock: it is
 * never held while taking another lock or calling anything.
 */
#ifndef KMT_NAMES_H
#define KMT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>

#include "device.h"

#define KMT_NAME_MAX 128 /* longer names are cut (messages and the trace quote the start) */

/* Remembers the name the app gives an object, keyed by the app's handle
 * (vkSetDebugUtilsObjectNameEXT's hook, object_hooks.c, calls it on devices
 * that enabled the extension before translating the handle and calling down). */
void kmt_names_record(struct kmt_device *device, const VkDebugUtilsObjectNameInfoEXT *pNameInfo);

/* Copies the app's name of the object into out (size >= 1); false and out ""
 * when it has none. */
bool kmt_object_name(const struct kmt_device *device, VkObjectType type, uint64_t handle, char *out, size_t size);

/* The object is gone (vkFreeMemory, vkDestroyBuffer, vkDestroyImage): its
 * name is dropped, and the event pipeline hears of a freed memory. Inline:
 * nothing happens unless names or events are in use. */
void kmt_object_destroyed_slow(struct kmt_device *device, VkObjectType type, uint64_t handle);
static inline void
kmt_object_destroyed(struct kmt_device *device, VkObjectType type, uint64_t handle)
{
    if (atomic_load_explicit(&device->names, memory_order_relaxed) || device->events)
        kmt_object_destroyed_slow(device, type, handle);
}

/* Frees the table (vkDestroyDevice). */
void kmt_names_destroy(struct kmt_device *device);

/* A message about one object of the device, with the app's name of it in
 * pObjects and appended to the text (`: memory "albedo"`) when the text
 * does not say it yet. */
void kmt_device_log(const struct kmt_device *device, enum kmt_log_level level, const char *id,
                    VkObjectType object_type, uint64_t object, const char *text);

#endif

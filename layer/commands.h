/* SPDX-License-Identifier: MIT */
/*
 * commands.h -- the VK_KMT_offer_reclaim commands and the device hooks of a
 * device that enabled the extension.
 */
#ifndef KMT_COMMANDS_H
#define KMT_COMMANDS_H

#include <vulkan/vulkan_core.h>

#include "device.h"

/* vkOfferAllocationsKMT & co. by name, or NULL. */
PFN_vkVoidFunction kmt_extension_command(const char *name);
/* The layer's hook for a device command by name (core or alias), or NULL. */
PFN_vkVoidFunction kmt_device_hook(const char *name);

/* Per-device state of a device that enabled the extension, created after the
 * driver's device exists and destroyed before it goes. */
VkResult kmt_device_setup(struct kmt_device *device, const VkDeviceCreateInfo *app_info);
void kmt_device_teardown(struct kmt_device *device);

#endif

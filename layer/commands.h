/* SPDX-License-Identifier: MIT */
/*
 * commands.h -- the VK_KMT_offer_reclaim commands and the device hooks of a
 * device that enabled the extension.
 */
#ifndef KMT_COMMANDS_H
#define KMT_COMMANDS_H

#include <vulkan/vulkan_core.h>

#include "device.h"

/* Any command of VK_KMT_offer_reclaim or VK_KMT_residency by name, or NULL
 * (vkGetInstanceProcAddr hands them to the loader for its trampolines). */
PFN_vkVoidFunction kmt_extension_command(const char *name);
/* The commands a device may get from vkGetDeviceProcAddr: those of the
 * extensions it enabled (vkGetAllocationStateKMT with either), or NULL. */
PFN_vkVoidFunction kmt_device_command(const struct kmt_device *device, const char *name);
/* VK_KMT_residency's commands by name (residency_commands.c), or NULL. */
PFN_vkVoidFunction kmt_residency_command(const char *name);
/* The layer's hook for a device command by name (core or alias), or NULL. */
PFN_vkVoidFunction kmt_device_hook(const char *name);

/* Per-device state of a device that enabled the extension, created after the
 * driver's device exists and destroyed before it goes. */
VkResult kmt_device_setup(struct kmt_device *device, const VkDeviceCreateInfo *app_info);
void kmt_device_teardown(struct kmt_device *device);

/* VK_KMT_residency's part of the device: budgets and the notifier. */
VkResult kmt_residency_setup(struct kmt_device *device);
void kmt_residency_teardown(struct kmt_device *device);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * report.h -- what the layer says about a whole device: the startup line
 * (LOG_LEVEL=info) and the statistics (STATS=1), and the per-heap figures
 * both and the trace use.
 *
 * The startup line, message KMT-startup, one per device, also for a device
 * that did not enable VK_KMT_offer_reclaim ("pass-through"), so that a user
 * sees the layer is there: the physical device, what the driver supports
 * (timeline semaphores, memory priority, pageable memory, memory budget), the
 * paging queue, every setting (NAME=value), and each heap's size and budget
 * with where the budget comes from. Raised inside vkCreateDevice, it is
 * collected in device->startup_log and sent direct once the device exists.
 *
 * The statistics, message KMT-stats at vkDestroyDevice, whatever LOG_LEVEL
 * says (STATS=1 asked for them): the device counters and each heap's usage
 * and budget, through the app's messengers (direct: the loader holds its lock
 * in vkDestroyDevice), else stderr, and the LOG_FILE.
 */
#ifndef KMT_REPORT_H
#define KMT_REPORT_H

#include <stdint.h>
#include <vulkan/vulkan_core.h>

#include "device.h"

/* Where a heap's budget comes from, in the order the pressure policy uses. */
enum kmt_budget_source {
    KMT_BUDGET_SETTING,    /* BUDGET_MB */
    KMT_BUDGET_DRIVER,     /* VK_EXT_memory_budget */
    KMT_BUDGET_HEAP_SHARE, /* 80% of the heap */
};

/* Each heap's budget as the pressure policy computes it (kmt_policy_set_budgets)
 * for this device and its settings; returns the heap count. May call the
 * driver (vkGetPhysicalDeviceMemoryProperties2): not under the device lock. */
uint32_t kmt_heap_budgets(const struct kmt_device *device, const struct kmt_settings *settings,
                          VkDeviceSize budgets[VK_MAX_MEMORY_HEAPS], enum kmt_budget_source *source);

/* The tracker's bytes on a heap that still hold contents (resident, pending
 * and offered): the pressure policy's usage. Caller holds the device lock. */
VkDeviceSize kmt_heap_usage_locked(const struct kmt_device *device, uint32_t heap);
/* The budget the pressure policy works against now, else `fallback`.
 * Caller holds the device lock. */
VkDeviceSize kmt_heap_budget_locked(const struct kmt_device *device, uint32_t heap, VkDeviceSize fallback);

/* Collects the startup line in device->startup_log (enabled devices from
 * kmt_device_setup, pass-through devices from vkCreateDevice). */
void kmt_report_device(struct kmt_device *device);

/* STATS=1: the statistics message (vkDestroyDevice, before the tracker goes). */
void kmt_report_stats(struct kmt_device *device);

#endif

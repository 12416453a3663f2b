/* SPDX-License-Identifier: MIT */
/*
 * settings_app.h -- the settings an app passes in vkCreateInstance through
 * VK_EXT_layer_settings (VkLayerSettingsCreateInfoEXT in
 * VkInstanceCreateInfo::pNext; several such structs may be chained). The
 * instance keeps what the app passed for this layer, as text, because
 * pValues lives only during vkCreateInstance; the device reads it with the
 * other sources (settings.h: environment > file > app > default).
 *
 * Entries are this layer's when pLayerName is VK_LAYER_KMT_offer_reclaim;
 * pSettingName is the key without prefix ("discard", "budget_mb"),
 * case-insensitive. Every value is turned into text and parsed like an
 * environment variable: STRING for any setting; BOOL32, INT32, INT64, UINT32,
 * UINT64, FLOAT32, FLOAT64 where the number makes sense (a float for
 * DISCARD_RATE is a bad value). Exactly one value per setting. A later entry
 * wins over an earlier one. Unknown names, wrong counts and unknown types are
 * kept as problems and reported with the device's other settings messages.
 */
#ifndef KMT_SETTINGS_APP_H
#define KMT_SETTINGS_APP_H

#include <vulkan/vulkan_core.h>

#include "settings.h"

#ifdef __cplusplus
extern "C" {
#endif

/* VK_EXT_layer_settings (Vulkan 1.3.261) is newer than Debian 12's headers
 * (1.3.239): declared here as the registry defines it, and only where the
 * headers lack it. */
#ifndef VK_EXT_layer_settings
#define VK_EXT_layer_settings 1
#define VK_EXT_LAYER_SETTINGS_SPEC_VERSION 2
#define VK_EXT_LAYER_SETTINGS_EXTENSION_NAME "VK_EXT_layer_settings"
#define VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT ((VkStructureType)1000496000)
typedef enum VkLayerSettingTypeEXT {
    VK_LAYER_SETTING_TYPE_BOOL32_EXT = 0,
    VK_LAYER_SETTING_TYPE_INT32_EXT = 1,
    VK_LAYER_SETTING_TYPE_INT64_EXT = 2,
    VK_LAYER_SETTING_TYPE_UINT32_EXT = 3,
    VK_LAYER_SETTING_TYPE_UINT64_EXT = 4,
    VK_LAYER_SETTING_TYPE_FLOAT32_EXT = 5,
    VK_LAYER_SETTING_TYPE_FLOAT64_EXT = 6,
    VK_LAYER_SETTING_TYPE_STRING_EXT = 7,
    VK_LAYER_SETTING_TYPE_MAX_ENUM_EXT = 0x7FFFFFFF
} VkLayerSettingTypeEXT;
typedef struct VkLayerSettingEXT {
    const char *pLayerName;
    const char *pSettingName;
    VkLayerSettingTypeEXT type;
    uint32_t valueCount;
    const void *pValues;
} VkLayerSettingEXT;
typedef struct VkLayerSettingsCreateInfoEXT {
    VkStructureType sType;
    const void *pNext;
    uint32_t settingCount;
    const VkLayerSettingEXT *pSettings;
} VkLayerSettingsCreateInfoEXT;
#endif

#define KMT_APP_SETTINGS_MAX_PROBLEMS 4

/* Attached to a kmt_instance. */
struct kmt_app_settings {
    struct kmt_setting_texts texts; /* the app's text per setting; NULL where it set none */
    char *owned[KMT_SETTING_COUNT]; /* what texts point to */
    uint32_t problem_count;         /* problems found, reported up to the max */
    char *problems[KMT_APP_SETTINGS_MAX_PROBLEMS];
    const char *problem_ids[KMT_APP_SETTINGS_MAX_PROBLEMS];
    const VkAllocationCallbacks *allocator;
};

/* Keeps this layer's entries of every VkLayerSettingsCreateInfoEXT in
 * `chain` (an instance create info's pNext). `allocator` (may be NULL) must
 * outlive `app`. VK_ERROR_OUT_OF_HOST_MEMORY leaves nothing to release. */
VkResult kmt_app_settings_init(struct kmt_app_settings *app, const void *chain, const VkAllocationCallbacks *allocator);
void kmt_app_settings_finish(struct kmt_app_settings *app);
/* Reports the kept problems ("KMT-unknown-setting", "KMT-bad-setting"). */
void kmt_app_settings_report(const struct kmt_app_settings *app, kmt_settings_complaint complain, void *ctx);

#ifdef __cplusplus
}
#endif

#endif

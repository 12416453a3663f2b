/* SPDX-License-Identifier: MIT */
/*
 * settings_app.c -- VkLayerSettingsCreateInfoEXT, kept as text (settings_app.h).
 */
#include "settings_app.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "memory.h"

static char *
copy_text(const VkAllocationCallbacks *allocator, const char *text)
{
    size_t n = strlen(text) + 1;
    char *copy = kmt_alloc(allocator, n, VK_SYSTEM_ALLOCATION_SCOPE_INSTANCE);
    if (copy)
        memcpy(copy, text, n);
    return copy;
}

static const char *
type_name(VkLayerSettingTypeEXT type)
{
    switch (type) {
    case VK_LAYER_SETTING_TYPE_BOOL32_EXT: return "BOOL32";
    case VK_LAYER_SETTING_TYPE_INT32_EXT: return "INT32";
    case VK_LAYER_SETTING_TYPE_INT64_EXT: return "INT64";
    case VK_LAYER_SETTING_TYPE_UINT32_EXT: return "UINT32";
    case VK_LAYER_SETTING_TYPE_UINT64_EXT: return "UINT64";
    case VK_LAYER_SETTING_TYPE_FLOAT32_EXT: return "FLOAT32";
    case VK_LAYER_SETTING_TYPE_FLOAT64_EXT: return "FLOAT64";
    case VK_LAYER_SETTING_TYPE_STRING_EXT: return "STRING";
    default: return NULL;
    }
}

/* The value as text in `out`, or a problem (a static phrase). */
static const char *
value_text(const VkLayerSettingEXT *setting, char *out, size_t size, const char **text)
{
    *text = out;
    if (!type_name(setting->type))
        return "has an unknown VkLayerSettingTypeEXT";
    if (setting->valueCount != 1 || !setting->pValues)
        return "must have exactly one value (valueCount 1, pValues set)";
    const void *v = setting->pValues;
    switch (setting->type) {
    case VK_LAYER_SETTING_TYPE_BOOL32_EXT: snprintf(out, size, "%" PRIu32, *(const VkBool32 *)v); break;
    case VK_LAYER_SETTING_TYPE_INT32_EXT: snprintf(out, size, "%" PRId32, *(const int32_t *)v); break;
    case VK_LAYER_SETTING_TYPE_INT64_EXT: snprintf(out, size, "%" PRId64, *(const int64_t *)v); break;
    case VK_LAYER_SETTING_TYPE_UINT32_EXT: snprintf(out, size, "%" PRIu32, *(const uint32_t *)v); break;
    case VK_LAYER_SETTING_TYPE_UINT64_EXT: snprintf(out, size, "%" PRIu64, *(const uint64_t *)v); break;
    case VK_LAYER_SETTING_TYPE_FLOAT32_EXT: snprintf(out, size, "%.9g", (double)*(const float *)v); break;
    case VK_LAYER_SETTING_TYPE_FLOAT64_EXT: snprintf(out, size, "%.17g", *(const double *)v); break;
    default:
        *text = *(const char *const *)v;
        if (!*text)
            return "has a NULL string";
        break;
    }
    return NULL;
}

static VkResult __attribute__((format(printf, 3, 4)))
add_problem(struct kmt_app_settings *app, const char *id, const char *fmt, ...)
{
    uint32_t slot = app->problem_count++;
    if (slot >= KMT_APP_SETTINGS_MAX_PROBLEMS)
        return VK_SUCCESS; /* counted; kmt_app_settings_report says how many more */
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    app->problem_ids[slot] = id;
    app->problems[slot] = copy_text(app->allocator, message);
    return app->problems[slot] ? VK_SUCCESS : VK_ERROR_OUT_OF_HOST_MEMORY;
}

static VkResult
keep_one(struct kmt_app_settings *app, const VkLayerSettingEXT *setting)
{
    const char *name = setting->pSettingName ? setting->pSettingName : "(null)";
    enum kmt_setting_id id = kmt_setting_find(setting->pSettingName);
    if (id == KMT_SETTING_COUNT) {
        char list[512];
        kmt_setting_list(false, list, sizeof(list));
        return add_problem(app, "KMT-unknown-setting",
                           "VkLayerSettingEXT \"%s\" of " KMT_SETTINGS_LAYER_NAME
                           " is not a setting of this layer and is ignored; the settings are %s.",
                           name, list);
    }
    char number[64];
    const char *text;
    const char *problem = value_text(setting, number, sizeof(number), &text);
    if (problem) {
        const char *type = type_name(setting->type);
        return add_problem(app, "KMT-bad-setting",
                           "VkLayerSettingEXT %s (type %s, valueCount %u) %s; using the default, %s.", name,
                           type ? type : "unknown", setting->valueCount, problem, kmt_setting_default(id));
    }
    char *copy = copy_text(app->allocator, text);
    if (!copy)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    kmt_free(app->allocator, app->owned[id]); /* a later entry wins */
    app->owned[id] = copy;
    app->texts.text[id] = copy;
    return VK_SUCCESS;
}

VkResult
kmt_app_settings_init(struct kmt_app_settings *app, const void *chain, const VkAllocationCallbacks *allocator)
{
    memset(app, 0, sizeof(*app));
    app->allocator = allocator;
    app->texts.origin = "VkLayerSettingsCreateInfoEXT";
    for (const VkBaseInStructure *s = chain; s; s = s->pNext) {
        if (s->sType != VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT)
            continue;
        const VkLayerSettingsCreateInfoEXT *info = (const VkLayerSettingsCreateInfoEXT *)s;
        for (uint32_t i = 0; info->pSettings && i < info->settingCount; i++) {
            const VkLayerSettingEXT *setting = &info->pSettings[i];
            if (!setting->pLayerName || strcmp(setting->pLayerName, KMT_SETTINGS_LAYER_NAME) != 0)
                continue;
            if (keep_one(app, setting) != VK_SUCCESS) {
                kmt_app_settings_finish(app);
                return VK_ERROR_OUT_OF_HOST_MEMORY;
            }
        }
    }
    return VK_SUCCESS;
}

void
kmt_app_settings_finish(struct kmt_app_settings *app)
{
    for (int i = 0; i < KMT_SETTING_COUNT; i++)
        kmt_free(app->allocator, app->owned[i]);
    for (int i = 0; i < KMT_APP_SETTINGS_MAX_PROBLEMS; i++)
        kmt_free(app->allocator, app->problems[i]);
    const VkAllocationCallbacks *allocator = app->allocator;
    memset(app, 0, sizeof(*app));
    app->allocator = allocator;
}

void
kmt_app_settings_report(const struct kmt_app_settings *app, kmt_settings_complaint complain, void *ctx)
{
    if (!app || !complain)
        return;
    for (uint32_t i = 0; i < app->problem_count && i < KMT_APP_SETTINGS_MAX_PROBLEMS; i++) {
        if (app->problems[i])
            complain(ctx, app->problem_ids[i], app->problems[i]);
    }
    if (app->problem_count > KMT_APP_SETTINGS_MAX_PROBLEMS) {
        char message[160];
        snprintf(message, sizeof(message), "%u more problems in VkLayerSettingsCreateInfoEXT are not shown.",
                 app->problem_count - KMT_APP_SETTINGS_MAX_PROBLEMS);
        complain(ctx, "KMT-bad-setting", message);
    }
}

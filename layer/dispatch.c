/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c -- fills the next layer's function tables (see dispatch.h).
 * Called once, inside vkCreateInstance / vkCreateDevice: LOADER-NOTES found
 * that resolving next-layer functions later can hand back the top of the chain.
 */
#include "dispatch.h"

#include <stddef.h>

/* Below the API version that made a command core, its extension alias is
 * the one to call: validation reports a core 1.1+ entry point used by a 1.0
 * app as an API-version violation. */
static bool
below(uint32_t api_version, uint32_t core_version)
{
    return api_version < core_version;
}

#define KMT_RESOLVE(gpa, handle, name, alias, version)                             \
    table->name = NULL;                                                            \
    if (alias && below(api_version, version))                                      \
        table->name = (PFN_vk##name)gpa(handle, (const char *)(alias + 0));        \
    if (!table->name)                                                              \
        table->name = (PFN_vk##name)gpa(handle, "vk" #name);                       \
    if (!table->name && alias)                                                     \
        table->name = (PFN_vk##name)gpa(handle, (const char *)(alias + 0));

#define KMT_RESOLVE_INSTANCE(name, alias, version) KMT_RESOLVE(gipa, instance, name, alias, version)
#define KMT_RESOLVE_DEVICE(name, alias, version) KMT_RESOLVE(gdpa, device, name, alias, version)

void
kmt_fill_instance_dispatch(struct kmt_instance_dispatch *table, VkInstance instance, PFN_vkGetInstanceProcAddr gipa,
                           uint32_t api_version)
{
    KMT_INSTANCE_FUNCTIONS(KMT_RESOLVE_INSTANCE)
    table->GetInstanceProcAddr = gipa;
}

void
kmt_fill_device_dispatch(struct kmt_device_dispatch *table, VkDevice device, PFN_vkGetDeviceProcAddr gdpa,
                         uint32_t api_version)
{
    KMT_DEVICE_FUNCTIONS(KMT_RESOLVE_DEVICE)
    table->GetDeviceProcAddr = gdpa;
}

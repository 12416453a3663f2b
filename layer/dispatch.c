/*
 * dispatch.c -- fills the next layer's function tables (see dispatch.h).
 * Called once, inside vkCreateInstance / vkCreateDevice: LOADER-NOTES found
 * that resolving next-layer functions later can hand back the top of the chain.
 */
#include "dispatch.h"

#include <stddef.h>

#define KMT_RESOLVE_INSTANCE(name, alias)                                          \
    table->name = (PFN_vk##name)gipa(instance, "vk" #name);                        \
    if (!table->name && alias)                                                     \
        table->name = (PFN_vk##name)gipa(instance, (const char *)(alias + 0));

#define KMT_RESOLVE_DEVICE(name, alias)                                            \
    table->name = (PFN_vk##name)gdpa(device, "vk" #name);                          \
    if (!table->name && alias)                                                     \
        table->name = (PFN_vk##name)gdpa(device, (const char *)(alias + 0));

void
kmt_fill_instance_dispatch(struct kmt_instance_dispatch *table, VkInstance instance, PFN_vkGetInstanceProcAddr gipa)
{
    KMT_INSTANCE_FUNCTIONS(KMT_RESOLVE_INSTANCE)
    table->GetInstanceProcAddr = gipa;
}

void
kmt_fill_device_dispatch(struct kmt_device_dispatch *table, VkDevice device, PFN_vkGetDeviceProcAddr gdpa)
{
    KMT_DEVICE_FUNCTIONS(KMT_RESOLVE_DEVICE)
    table->GetDeviceProcAddr = gdpa;
}

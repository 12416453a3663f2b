/* SPDX-License-Identifier: MIT */
/*
 * hooks.c -- the one list of device commands the layer intercepts on a
 * device that enabled the extension (a device that did not gets the next
 * layer's functions: layer.c). The memory commands come from
 * memory_commands.h, which the registry test checks against vk.xml; the
 * queue and wait hooks (paging.c) follow submissions for deferred offers.
 */
#include <string.h>

#include "commands.h"
#include "hooks.h"
#include "memory_commands.h"
#include "paging.h"

struct named_function {
    const char *name;
    PFN_vkVoidFunction function;
};

#define KMT_MEMORY_HOOK(name, hook) {#name, (PFN_vkVoidFunction)kmt_##hook},
#define KMT_FN(name) {"vk" #name, (PFN_vkVoidFunction)kmt_##name}
#define KMT_ALIAS(alias, name) {alias, (PFN_vkVoidFunction)kmt_##name}

static const struct named_function device_hooks[] = {
    KMT_MEMORY_COMMANDS(KMT_MEMORY_HOOK)
    KMT_FN(DestroyBuffer),
    KMT_FN(DestroyImage),
    KMT_FN(GetDeviceQueue),
    KMT_FN(GetDeviceQueue2),
    KMT_FN(QueueSubmit),
    KMT_FN(QueueSubmit2),
    KMT_ALIAS("vkQueueSubmit2KHR", QueueSubmit2),
    KMT_FN(QueueWaitIdle),
    KMT_FN(QueuePresentKHR),
    KMT_FN(DeviceWaitIdle),
    KMT_FN(WaitForFences),
    KMT_FN(GetFenceStatus),
    KMT_FN(ResetFences),
    KMT_FN(DestroyFence),
    KMT_FN(WaitSemaphores),
    KMT_ALIAS("vkWaitSemaphoresKHR", WaitSemaphores),
    KMT_FN(GetSemaphoreCounterValue),
    KMT_ALIAS("vkGetSemaphoreCounterValueKHR", GetSemaphoreCounterValue),
};

PFN_vkVoidFunction
kmt_device_hook(const char *name)
{
    for (size_t i = 0; i < sizeof(device_hooks) / sizeof(device_hooks[0]); i++)
        if (strcmp(device_hooks[i].name, name) == 0)
            return device_hooks[i].function;
    return NULL;
}

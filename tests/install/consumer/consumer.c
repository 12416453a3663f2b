/* SPDX-License-Identifier: MIT */
/*
 * kmt_consumer -- an app built against the installed headers. It looks for
 * VK_KMT_offer_reclaim on the first physical device, enables it, fetches
 * vkOfferAllocationsKMT and prints which library that function lives in (the
 * installed layer, when the test's environment is right).
 *
 * Output lines the install test reads:
 *   extension: listed | not listed
 *   library: <path of the .so that implements vkOfferAllocationsKMT>
 * Exit: 0 listed and enabled, 2 not listed, 1 anything else failed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>
#include <vulkan/vk_kmt_offer_reclaim.h>
#include <vk_kmt/d3dkmt.h>

int
main(void)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkInstance instance;
    if (vkCreateInstance(&ici, NULL, &instance) != VK_SUCCESS) {
        fprintf(stderr, "vkCreateInstance failed\n");
        return 1;
    }
    uint32_t count = 1;
    VkPhysicalDevice physical = VK_NULL_HANDLE;
    VkResult r = vkEnumeratePhysicalDevices(instance, &count, &physical);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || count == 0) {
        fprintf(stderr, "no physical device\n");
        return 1;
    }
    uint32_t extension_count = 0;
    vkEnumerateDeviceExtensionProperties(physical, NULL, &extension_count, NULL);
    VkExtensionProperties *extensions = calloc(extension_count ? extension_count : 1, sizeof(*extensions));
    vkEnumerateDeviceExtensionProperties(physical, NULL, &extension_count, extensions);
    int listed = 0;
    for (uint32_t i = 0; i < extension_count; i++)
        listed |= strcmp(extensions[i].extensionName, VK_KMT_OFFER_RECLAIM_EXTENSION_NAME) == 0;
    free(extensions);
    printf("extension: %s\n", listed ? "listed" : "not listed");
    if (!listed) {
        vkDestroyInstance(instance, NULL);
        return 2;
    }

    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = 0,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
    const char *names[] = {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &queue,
                              .enabledExtensionCount = 1,
                              .ppEnabledExtensionNames = names};
    VkDevice device;
    if (vkCreateDevice(physical, &dci, NULL, &device) != VK_SUCCESS) {
        fprintf(stderr, "vkCreateDevice with %s failed\n", VK_KMT_OFFER_RECLAIM_EXTENSION_NAME);
        return 1;
    }
    PFN_vkOfferAllocationsKMT offer = (PFN_vkOfferAllocationsKMT)vkGetDeviceProcAddr(device, "vkOfferAllocationsKMT");
    Dl_info info;
    memset(&info, 0, sizeof(info));
    if (!offer || !dladdr((void *)(uintptr_t)offer, &info) || !info.dli_fname) {
        fprintf(stderr, "vkOfferAllocationsKMT not found\n");
        return 1;
    }
    printf("library: %s\n", info.dli_fname);

    /* The D3DKMT registry links and runs (the thunks need a device handle). */
    D3DKMT_HANDLE handle = 0;
    NTSTATUS status = VkKmtOpenDevice(device, vkGetDeviceProcAddr, &handle);
    printf("d3dkmt: VkKmtOpenDevice status 0x%08x\n", (unsigned)status);
    if (status == STATUS_SUCCESS)
        VkKmtCloseDevice(handle);
    vkDestroyDevice(device, NULL);
    vkDestroyInstance(instance, NULL);
    return status == STATUS_SUCCESS ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/*
 * offer_reclaim -- the VK_KMT_offer_reclaim extension in plain Vulkan.
 *
 * What a porting engineer reads first: enable the extension, upload a few
 * textures, offer them at different priorities when they are not needed,
 * reclaim them before use, re-upload the ones whose contents were discarded,
 * and make the next submission wait on the paging fence value reclaim
 * returned. Run it with the layer enabled, e.g. (from the build tree)
 *
 *   XDG_DATA_HOME=build/vkdata/implicit VK_KMT_OFFER_RECLAIM_ENABLE=1 build/samples/offer_reclaim
 *
 * and with VK_KMT_OFFER_RECLAIM_DISCARD=always to see the discard path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>
#include <vulkan/vk_kmt_offer_reclaim.h>

#define TEXTURES 3
#define SIZE 64

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        VkResult r_ = (call);                                                                        \
        if (r_ != VK_SUCCESS) {                                                                      \
            fprintf(stderr, "offer_reclaim: %s failed: %d (line %d)\n", #call, (int)r_, __LINE__);   \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

struct texture {
    VkImage image;
    VkDeviceMemory memory;
    VkOfferPriorityKMT priority;
    const char *name;
};

struct app {
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t family;
    VkCommandPool pool;
    VkBuffer staging;
    VkDeviceMemory staging_memory;
    PFN_vkOfferAllocationsKMT offer;
    PFN_vkReclaimAllocationsKMT reclaim;
    PFN_vkGetPagingFenceKMT get_paging_fence;
    PFN_vkGetAllocationStateKMT get_state;
};

static uint32_t
memory_type(struct app *a, uint32_t bits, VkMemoryPropertyFlags want)
{
    VkPhysicalDeviceMemoryProperties props;
    vkGetPhysicalDeviceMemoryProperties(a->physical, &props);
    for (uint32_t i = 0; i < props.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (props.memoryTypes[i].propertyFlags & want) == want)
            return i;
    fprintf(stderr, "offer_reclaim: no suitable memory type\n");
    exit(1);
}

static int
create_device(struct app *a)
{
    VkApplicationInfo app_info = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app_info};
    CHECK(vkCreateInstance(&ici, NULL, &a->instance));
    uint32_t count = 1;
    VkResult r = vkEnumeratePhysicalDevices(a->instance, &count, &a->physical);
    if (r < 0 || count == 0)
        return 0;

    /* 1. Is the extension there? (The layer adds it where timeline semaphores exist.) */
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(a->physical, NULL, &n, NULL);
    VkExtensionProperties *exts = calloc(n, sizeof(*exts));
    vkEnumerateDeviceExtensionProperties(a->physical, NULL, &n, exts);
    int found = 0;
    for (uint32_t i = 0; i < n; i++)
        found |= strcmp(exts[i].extensionName, VK_KMT_OFFER_RECLAIM_EXTENSION_NAME) == 0;
    free(exts);
    if (!found) {
        printf("VK_KMT_offer_reclaim is not available: enable VK_LAYER_KMT_offer_reclaim "
               "(VK_KMT_OFFER_RECLAIM_ENABLE=1).\n");
        return 0;
    }

    /* 2. Enable it like any device extension; timeline semaphores for waiting on
     *    the paging fence come with Vulkan 1.2+. */
    float priority = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                   .queueFamilyIndex = 0, .queueCount = 1, .pQueuePriorities = &priority};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .timelineSemaphore = VK_TRUE};
    const char *names[] = {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f12,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = 1, .ppEnabledExtensionNames = names};
    CHECK(vkCreateDevice(a->physical, &dci, NULL, &a->device));
    a->family = 0;
    vkGetDeviceQueue(a->device, 0, 0, &a->queue);

    /* 3. The commands come from vkGetDeviceProcAddr. */
    a->offer = (PFN_vkOfferAllocationsKMT)vkGetDeviceProcAddr(a->device, "vkOfferAllocationsKMT");
    a->reclaim = (PFN_vkReclaimAllocationsKMT)vkGetDeviceProcAddr(a->device, "vkReclaimAllocationsKMT");
    a->get_paging_fence = (PFN_vkGetPagingFenceKMT)vkGetDeviceProcAddr(a->device, "vkGetPagingFenceKMT");
    a->get_state = (PFN_vkGetAllocationStateKMT)vkGetDeviceProcAddr(a->device, "vkGetAllocationStateKMT");
    return a->offer && a->reclaim && a->get_paging_fence && a->get_state;
}

static void
create_texture(struct app *a, struct texture *t)
{
    VkImageCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO, .imageType = VK_IMAGE_TYPE_2D,
                             .format = VK_FORMAT_R8G8B8A8_UNORM, .extent = {SIZE, SIZE, 1}, .mipLevels = 1,
                             .arrayLayers = 1, .samples = VK_SAMPLE_COUNT_1_BIT, .tiling = VK_IMAGE_TILING_OPTIMAL,
                             .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT};
    CHECK(vkCreateImage(a->device, &ici, NULL, &t->image));
    VkMemoryRequirements req;
    vkGetImageMemoryRequirements(a->device, t->image, &req);
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                .memoryTypeIndex = memory_type(a, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)};
    CHECK(vkAllocateMemory(a->device, &mai, NULL, &t->memory));
    CHECK(vkBindImageMemory(a->device, t->image, t->memory, 0));
}

/* Records an upload of the staging buffer into the texture. A discarded
 * texture is a new texture: its layout starts from UNDEFINED again. */
static void
record_upload(VkCommandBuffer cb, struct app *a, struct texture *t)
{
    VkImageMemoryBarrier to_dst = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                                   .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                   .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                                   .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                   .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                   .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED, .image = t->image,
                                   .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0, NULL,
                         1, &to_dst);
    VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                .imageExtent = {SIZE, SIZE, 1}};
    vkCmdCopyBufferToImage(cb, a->staging, t->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
}

/* Submits one command buffer; waits first for the paging fence value a
 * reclaim returned (0 needs no wait), then for completion. */
static void
submit(struct app *a, VkCommandBuffer cb, VkSemaphore paging, uint64_t paging_value)
{
    CHECK(vkEndCommandBuffer(cb));
    VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
    VkTimelineSemaphoreSubmitInfo values = {.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                            .waitSemaphoreValueCount = 1, .pWaitSemaphoreValues = &paging_value};
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
    if (paging_value) {
        si.pNext = &values;
        si.waitSemaphoreCount = 1;
        si.pWaitSemaphores = &paging;
        si.pWaitDstStageMask = &stage;
    }
    CHECK(vkQueueSubmit(a->queue, 1, &si, VK_NULL_HANDLE));
    /* Wait idle rather than on a fence: the layer then knows at once that the
     * work is done, so the offers below are not deferred (OFFER_PENDING) behind
     * it (docs/PORTING.md, "Testing the discard paths"). */
    CHECK(vkQueueWaitIdle(a->queue));
}

static VkCommandBuffer
begin(struct app *a)
{
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = a->pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1};
    VkCommandBuffer cb;
    CHECK(vkAllocateCommandBuffers(a->device, &cai, &cb));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    CHECK(vkBeginCommandBuffer(cb, &bi));
    return cb;
}

static const char *
status_name(VkAllocationStatusKMT s)
{
    static const char *const names[] = {"RESIDENT", "OFFER_PENDING", "OFFERED", "DISCARDED", "DECOMMITTED"};
    return (unsigned)s < 5 ? names[s] : "?";
}

static const char *
result_name(VkReclaimResultKMT r)
{
    static const char *const names[] = {"OK", "DISCARDED", "NOT_COMMITTED"};
    return (unsigned)r < 3 ? names[r] : "?";
}

int
main(void)
{
    struct app a = {0};
    if (!create_device(&a))
        return 1;

    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .queueFamilyIndex = a.family};
    CHECK(vkCreateCommandPool(a.device, &pci, NULL, &a.pool));
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = SIZE * SIZE * 4,
                              .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT};
    CHECK(vkCreateBuffer(a.device, &bci, NULL, &a.staging));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(a.device, a.staging, &req);
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                .memoryTypeIndex = memory_type(&a, req.memoryTypeBits,
                                                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                                   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)};
    CHECK(vkAllocateMemory(a.device, &mai, NULL, &a.staging_memory));
    CHECK(vkBindBufferMemory(a.device, a.staging, a.staging_memory, 0));
    void *data;
    CHECK(vkMapMemory(a.device, a.staging_memory, 0, VK_WHOLE_SIZE, 0, &data));
    memset(data, 0x7f, SIZE * SIZE * 4);
    vkUnmapMemory(a.device, a.staging_memory);

    struct texture textures[TEXTURES] = {
        {.priority = VK_OFFER_PRIORITY_LOW_KMT, .name = "shadow cache"},
        {.priority = VK_OFFER_PRIORITY_NORMAL_KMT, .name = "mip chain"},
        {.priority = VK_OFFER_PRIORITY_HIGH_KMT, .name = "baked lightmap"},
    };
    VkCommandBuffer cb = begin(&a);
    for (int i = 0; i < TEXTURES; i++) {
        create_texture(&a, &textures[i]);
        record_upload(cb, &a, &textures[i]);
    }
    VkSemaphore paging;
    CHECK(a.get_paging_fence(a.device, &paging));
    submit(&a, cb, paging, 0);

    /* Not needed for a while: offer each at its priority (LOW is discarded
     * first). Offers never block; without VK_OFFER_IMMEDIATELY_BIT_KMT they
     * take effect once the GPU work submitted before them is done. */
    for (int i = 0; i < TEXTURES; i++) {
        VkOfferResourceKMT resource = {VK_OBJECT_TYPE_IMAGE, (uint64_t)textures[i].image};
        VkOfferAllocationsInfoKMT info = {.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT,
                                          .allocationCount = 1, .pResources = &resource,
                                          .priority = textures[i].priority};
        CHECK(a.offer(a.device, &info));
    }
    printf("%-16s %-8s %-14s %-14s %s\n", "texture", "offered", "state", "reclaim", "driver priority");
    VkAllocationStatusKMT offered_state[TEXTURES];
    for (int i = 0; i < TEXTURES; i++) {
        VkAllocationStateKMT st = {.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT};
        CHECK(a.get_state(a.device, textures[i].memory, &st));
        offered_state[i] = st.status;
    }

    /* Needed again: reclaim them all in one call. */
    VkOfferResourceKMT resources[TEXTURES];
    VkReclaimResultKMT results[TEXTURES];
    for (int i = 0; i < TEXTURES; i++)
        resources[i] = (VkOfferResourceKMT){VK_OBJECT_TYPE_IMAGE, (uint64_t)textures[i].image};
    VkReclaimAllocationsInfoKMT rinfo = {.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT,
                                         .allocationCount = TEXTURES, .pResources = resources, .pResults = results};
    uint64_t paging_value = 0;
    CHECK(a.reclaim(a.device, &rinfo, &paging_value));

    /* DISCARDED: the contents are gone; upload again before use. The next
     * submission waits for the paging fence value (0: nothing to wait for). */
    cb = begin(&a);
    int reuploads = 0;
    for (int i = 0; i < TEXTURES; i++) {
        VkAllocationStateKMT st = {.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT};
        CHECK(a.get_state(a.device, textures[i].memory, &st));
        printf("%-16s %-8s %-14s %-14s %.2f%s\n", textures[i].name,
               textures[i].priority == VK_OFFER_PRIORITY_LOW_KMT      ? "LOW"
               : textures[i].priority == VK_OFFER_PRIORITY_NORMAL_KMT ? "NORMAL"
                                                                      : "HIGH",
               status_name(offered_state[i]), result_name(results[i]), (double)st.driverPriority,
               st.driverPriorityApplied ? "" : " (driver has no pageable memory)");
        if (results[i] == VK_RECLAIM_RESULT_DISCARDED_KMT) {
            record_upload(cb, &a, &textures[i]);
            reuploads++;
        }
    }
    submit(&a, cb, paging, paging_value);
    printf("paging fence value %llu; %d texture(s) uploaded again\n", (unsigned long long)paging_value, reuploads);

    vkDeviceWaitIdle(a.device);
    for (int i = 0; i < TEXTURES; i++) {
        vkDestroyImage(a.device, textures[i].image, NULL);
        vkFreeMemory(a.device, textures[i].memory, NULL);
    }
    vkDestroyBuffer(a.device, a.staging, NULL);
    vkFreeMemory(a.device, a.staging_memory, NULL);
    vkDestroyCommandPool(a.device, a.pool, NULL);
    vkDestroyDevice(a.device, NULL);
    vkDestroyInstance(a.instance, NULL);
    return 0;
}

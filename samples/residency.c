/* SPDX-License-Identifier: MIT */
/*
 * residency -- a residency manager in the style of the D3D12 Residency
 * Starter Library (DirectX-Graphics-Samples, Libraries/D3DX12Residency), on
 * VK_KMT_residency.
 *
 * An app whose working set is larger than its video memory budget keeps
 * every frame's resources resident and lets the others go:
 *
 *  1. each frame names the resources it uses (its "residency set");
 *  2. before the frame is submitted, the manager computes the bytes the set
 *     needs made resident; while usage + those bytes exceed the budget
 *     (vkQueryVideoMemoryInfoKMT), it evicts the least recently used resident
 *     resource that the frame does not use -- first waiting, if the GPU may
 *     still be using it, for the frame that last did (evicting memory the GPU
 *     uses is illegal, as on Windows);
 *  3. it makes the set resident (vkMakeResidentKMT) and honours the paging
 *     fence: a non-zero value is waited for by the frame's submission
 *     (VkTimelineSemaphoreSubmitInfo on vkGetPagingFenceKMT's semaphore);
 *  4. the frame is submitted, signalling its number on a timeline semaphore;
 *     the set's resources are marked used by that frame.
 *
 * Here: 12 "textures" of 4 MiB each (48 MiB) against a 24 MiB budget, eight
 * frames of five textures each, sliding by two. Each frame's GPU work writes
 * its number into the last word of every texture it uses. At the end every
 * texture is made resident again and read back: evicted memory keeps its
 * contents, and the last word says which frame used it last.
 *
 * The budget: unless VK_KMT_OFFER_RECLAIM_BUDGET_MB is set, the sample sets it
 * to 24 (a synthetic budget: usage is then the layer's own count of resident
 * bytes, the same on every driver). Run it from the build tree:
 *
 *   XDG_DATA_HOME=build/vkdata/implicit VK_KMT_OFFER_RECLAIM_ENABLE=1 build/samples/residency
 *
 * Prints what it evicted and why, and "residency: done" on success; exits 1
 * when VK_KMT_residency is missing or a call fails.
 */
#define _POSIX_C_SOURCE 200112L /* setenv */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>
#include <vulkan/vk_kmt_residency.h>

#define TEXTURES 12
#define FRAMES 8
#define SET_SIZE 5
#define TEXTURE_BYTES (4u << 20)
#define MIB (1u << 20)

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        VkResult r_ = (call);                                                                        \
        if (r_ != VK_SUCCESS) {                                                                      \
            fprintf(stderr, "residency: %s failed: %d (line %d)\n", #call, (int)r_, __LINE__);       \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

/* A managed object (D3DX12Residency's ManagedObject). */
struct texture {
    char name[8];
    VkDeviceMemory memory;
    VkBuffer buffer;
    int resident;        /* as the manager believes: it made it so */
    uint64_t last_used;  /* the frame-timeline value of the last frame that used it; 0: never */
    uint64_t lru;        /* when it was last made resident or used: the LRU order */
    uint32_t pattern;    /* its contents */
};

struct app {
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t family;
    VkCommandPool pool;
    VkSemaphore frames;  /* timeline: frame f signals f + 1 */
    VkSemaphore paging;  /* the layer's paging fence */
    PFN_vkMakeResidentKMT make_resident;
    PFN_vkEvictKMT evict;
    PFN_vkQueryVideoMemoryInfoKMT query;
    PFN_vkGetPagingFenceKMT get_paging_fence;
    struct texture textures[TEXTURES];
    VkDeviceSize budget, peak;
    unsigned evictions, made_resident;
    uint64_t clock;      /* the LRU clock */
};

static VkVideoMemoryInfoKMT
video_memory(struct app *a)
{
    VkVideoMemoryInfoKMT info = {.sType = VK_STRUCTURE_TYPE_VIDEO_MEMORY_INFO_KMT};
    CHECK(a->query(a->device, VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT, &info));
    return info;
}

static uint64_t
frames_completed(struct app *a)
{
    uint64_t value = 0;
    CHECK(vkGetSemaphoreCounterValue(a->device, a->frames, &value));
    return value;
}

static void
wait_frames(struct app *a, uint64_t value)
{
    VkSemaphoreWaitInfo wait = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                                .semaphoreCount = 1,
                                .pSemaphores = &a->frames,
                                .pValues = &value};
    CHECK(vkWaitSemaphores(a->device, &wait, UINT64_MAX));
}

static int
in_set(const int *set, int count, int t)
{
    for (int i = 0; i < count; i++)
        if (set[i] == t)
            return 1;
    return 0;
}

/* The least recently used resident texture outside the set (ties: the
 * oldest created), or -1. */
static int
least_recently_used(struct app *a, const int *set, int count)
{
    int best = -1;
    for (int t = 0; t < TEXTURES; t++) {
        const struct texture *x = &a->textures[t];
        if (!x->resident || in_set(set, count, t))
            continue;
        if (best < 0 || x->lru < a->textures[best].lru)
            best = t;
    }
    return best;
}

/* Evicts LRU textures outside the set until `needed` more bytes fit. */
static void
trim_to_budget(struct app *a, const int *set, int count, VkDeviceSize needed)
{
    for (;;) {
        VkVideoMemoryInfoKMT info = video_memory(a);
        if (info.currentUsage + needed <= info.budget)
            return;
        int victim = least_recently_used(a, set, count);
        if (victim < 0) {
            fprintf(stderr, "residency: the frame alone does not fit the budget\n");
            exit(1);
        }
        struct texture *v = &a->textures[victim];
        char why[48];
        if (v->last_used)
            snprintf(why, sizeof(why), "last used by frame %" PRIu64, v->last_used - 1);
        else
            snprintf(why, sizeof(why), "never used");
        /* The GPU may still use it: wait for the frame that last did. */
        if (v->last_used > frames_completed(a)) {
            wait_frames(a, v->last_used);
            printf("  waited for frame %" PRIu64 " to finish with %s\n", v->last_used - 1, v->name);
        }
        VkEvictInfoKMT evict = {.sType = VK_STRUCTURE_TYPE_EVICT_INFO_KMT, .allocationCount = 1,
                                .pMemories = &v->memory};
        VkDeviceSize over = 0;
        CHECK(a->evict(a->device, &evict, &over));
        v->resident = 0;
        a->evictions++;
        printf("  evict %s (least recently used: %s): usage %" PRIu64 " MiB + %" PRIu64
               " MiB to make resident > budget %" PRIu64 " MiB\n",
               v->name, why, (uint64_t)info.currentUsage / MIB, (uint64_t)needed / MIB, (uint64_t)info.budget / MIB);
    }
}

/* Makes a frame's set resident (D3DX12Residency's MakeResident step of
 * ExecuteCommandLists); returns the paging fence value to wait for. */
static uint64_t
make_set_resident(struct app *a, const int *set, int count)
{
    VkDeviceMemory evicted[TEXTURES];
    uint32_t n = 0;
    VkDeviceSize needed = 0;
    char names[TEXTURES * 8] = "";
    for (int i = 0; i < count; i++) {
        struct texture *x = &a->textures[set[i]];
        if (x->resident)
            continue;
        evicted[n++] = x->memory;
        needed += TEXTURE_BYTES;
        strcat(names, " ");
        strcat(names, x->name);
    }
    trim_to_budget(a, set, count, needed);
    if (!n) {
        for (int i = 0; i < count; i++)
            a->textures[set[i]].lru = ++a->clock;
        printf("  make resident: nothing (the whole set is resident)\n");
        return 0;
    }
    VkMakeResidentInfoKMT info = {.sType = VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT, .allocationCount = n,
                                  .pMemories = evicted};
    uint64_t fence = 0;
    VkDeviceSize over = 0;
    VkResult r = a->make_resident(a->device, &info, &fence, &over);
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
        /* The budget moved since the query: trim that much more and retry. */
        trim_to_budget(a, set, count, needed + over);
        r = a->make_resident(a->device, &info, &fence, &over);
    }
    CHECK(r);
    for (int i = 0; i < count; i++) {
        a->textures[set[i]].resident = 1;
        a->textures[set[i]].lru = ++a->clock; /* to the tail of the LRU list */
    }
    a->made_resident += n;
    printf("  make resident:%s; paging fence %" PRIu64 "%s\n", names, fence,
           fence ? " (the frame waits for it)" : " (nothing to wait for)");
    return fence;
}

/* The frame's GPU work: writes the frame number into the last word of every
 * texture of the set, after the paging fence, signalling frame + 1. */
static void
submit_frame(struct app *a, uint64_t frame, const int *set, int count, uint64_t paging_fence)
{
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = a->pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1};
    VkCommandBuffer cb;
    CHECK(vkAllocateCommandBuffers(a->device, &cai, &cb));
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    CHECK(vkBeginCommandBuffer(cb, &begin));
    for (int i = 0; i < count; i++)
        vkCmdFillBuffer(cb, a->textures[set[i]].buffer, TEXTURE_BYTES - 4, 4, (uint32_t)frame);
    CHECK(vkEndCommandBuffer(cb));

    const uint64_t signal = frame + 1;
    const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    VkTimelineSemaphoreSubmitInfo values = {.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                            .waitSemaphoreValueCount = paging_fence ? 1 : 0,
                                            .pWaitSemaphoreValues = &paging_fence,
                                            .signalSemaphoreValueCount = 1,
                                            .pSignalSemaphoreValues = &signal};
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .pNext = &values,
                           .waitSemaphoreCount = paging_fence ? 1 : 0,
                           .pWaitSemaphores = &a->paging,
                           .pWaitDstStageMask = &stage,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &cb,
                           .signalSemaphoreCount = 1,
                           .pSignalSemaphores = &a->frames};
    CHECK(vkQueueSubmit(a->queue, 1, &submit, VK_NULL_HANDLE));
    for (int i = 0; i < count; i++)
        a->textures[set[i]].last_used = signal;
}

/* ---- setup ------------------------------------------------------------------ */

static void
create_device(struct app *a)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "residency",
                             .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    CHECK(vkCreateInstance(&ici, NULL, &a->instance));
    uint32_t count = 1;
    VkResult r = vkEnumeratePhysicalDevices(a->instance, &count, &a->physical);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || count == 0) {
        fprintf(stderr, "residency: no Vulkan device\n");
        exit(1);
    }
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(a->physical, NULL, &n, NULL);
    VkExtensionProperties *exts = calloc(n ? n : 1, sizeof(*exts));
    vkEnumerateDeviceExtensionProperties(a->physical, NULL, &n, exts);
    int found = 0;
    for (uint32_t i = 0; i < n; i++)
        found |= strcmp(exts[i].extensionName, VK_KMT_RESIDENCY_EXTENSION_NAME) == 0;
    free(exts);
    if (!found) {
        fprintf(stderr, "residency: %s is not available (is VK_LAYER_KMT_offer_reclaim enabled?)\n",
                VK_KMT_RESIDENCY_EXTENSION_NAME);
        exit(1);
    }
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = 0,
                                   .queueCount = 1, .pQueuePriorities = &priority};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .timelineSemaphore = VK_TRUE};
    const char *names[] = {VK_KMT_RESIDENCY_EXTENSION_NAME};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f12, .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci, .enabledExtensionCount = 1, .ppEnabledExtensionNames = names};
    CHECK(vkCreateDevice(a->physical, &dci, NULL, &a->device));
    vkGetDeviceQueue(a->device, 0, 0, &a->queue);
    a->make_resident = (PFN_vkMakeResidentKMT)vkGetDeviceProcAddr(a->device, "vkMakeResidentKMT");
    a->evict = (PFN_vkEvictKMT)vkGetDeviceProcAddr(a->device, "vkEvictKMT");
    a->query = (PFN_vkQueryVideoMemoryInfoKMT)vkGetDeviceProcAddr(a->device, "vkQueryVideoMemoryInfoKMT");
    a->get_paging_fence = (PFN_vkGetPagingFenceKMT)vkGetDeviceProcAddr(a->device, "vkGetPagingFenceKMT");
    if (!a->make_resident || !a->evict || !a->query || !a->get_paging_fence) {
        fprintf(stderr, "residency: the extension's commands are missing\n");
        exit(1);
    }
    CHECK(a->get_paging_fence(a->device, &a->paging));
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .queueFamilyIndex = 0};
    CHECK(vkCreateCommandPool(a->device, &pci, NULL, &a->pool));
    VkSemaphoreTypeCreateInfo type = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                      .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE};
    VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &type};
    CHECK(vkCreateSemaphore(a->device, &sci, NULL, &a->frames));
}

static uint32_t
host_visible_type(struct app *a, uint32_t bits)
{
    VkPhysicalDeviceMemoryProperties props;
    vkGetPhysicalDeviceMemoryProperties(a->physical, &props);
    for (uint32_t i = 0; i < props.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            (props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
            return i;
    fprintf(stderr, "residency: no host-visible coherent memory type\n");
    exit(1);
}

/* A texture: a buffer in its own memory, filled with its pattern (the
 * "upload"); new objects are resident, as in D3D12. */
static void
create_texture(struct app *a, int t)
{
    struct texture *x = &a->textures[t];
    snprintf(x->name, sizeof(x->name), "tex%02d", t);
    x->pattern = 0x7e570000u | (uint32_t)t;
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = TEXTURE_BYTES,
                              .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT, .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    CHECK(vkCreateBuffer(a->device, &bci, NULL, &x->buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(a->device, x->buffer, &req);
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                .memoryTypeIndex = host_visible_type(a, req.memoryTypeBits)};
    CHECK(vkAllocateMemory(a->device, &mai, NULL, &x->memory));
    CHECK(vkBindBufferMemory(a->device, x->buffer, x->memory, 0));
    uint32_t *words;
    CHECK(vkMapMemory(a->device, x->memory, 0, VK_WHOLE_SIZE, 0, (void **)&words));
    for (size_t i = 0; i < TEXTURE_BYTES / 4; i++)
        words[i] = x->pattern;
    vkUnmapMemory(a->device, x->memory);
    x->resident = 1;
}

/* Its pattern everywhere but the last word, which holds the last frame. */
static int
intact(struct app *a, const struct texture *x)
{
    uint32_t *words;
    CHECK(vkMapMemory(a->device, x->memory, 0, VK_WHOLE_SIZE, 0, (void **)&words));
    int ok = 1;
    for (size_t i = 0; i + 1 < TEXTURE_BYTES / 4; i++)
        ok &= words[i] == x->pattern;
    ok &= x->last_used ? words[TEXTURE_BYTES / 4 - 1] == (uint32_t)(x->last_used - 1)
                       : words[TEXTURE_BYTES / 4 - 1] == x->pattern;
    vkUnmapMemory(a->device, x->memory);
    return ok;
}

int
main(void)
{
    if (!getenv("VK_KMT_OFFER_RECLAIM_BUDGET_MB") || !*getenv("VK_KMT_OFFER_RECLAIM_BUDGET_MB")) {
        setenv("VK_KMT_OFFER_RECLAIM_BUDGET_MB", "24", 1);
        printf("BUDGET_MB was not set; using 24\n");
    }
    struct app a;
    memset(&a, 0, sizeof(a));
    create_device(&a);
    for (int t = 0; t < TEXTURES; t++)
        create_texture(&a, t);
    a.budget = video_memory(&a).budget;
    printf("residency: budget %" PRIu64 " MiB, %d textures of %u MiB = %u MiB working set, %d per frame\n",
           (uint64_t)a.budget / MIB, TEXTURES, TEXTURE_BYTES / MIB, TEXTURES * (TEXTURE_BYTES / MIB), SET_SIZE);

    for (uint64_t frame = 0; frame < FRAMES; frame++) {
        int set[SET_SIZE];
        for (int k = 0; k < SET_SIZE; k++)
            set[k] = (int)((2 * frame + (uint64_t)k) % TEXTURES);
        printf("frame %" PRIu64 " uses %s..%s\n", frame, a.textures[set[0]].name, a.textures[set[SET_SIZE - 1]].name);
        uint64_t fence = make_set_resident(&a, set, SET_SIZE);
        VkVideoMemoryInfoKMT info = video_memory(&a);
        if (info.currentUsage > a.peak)
            a.peak = info.currentUsage;
        submit_frame(&a, frame, set, SET_SIZE, fence);
    }
    CHECK(vkQueueWaitIdle(a.queue));

    /* Read every texture back, one at a time through the manager. */
    int good = 0;
    for (int t = 0; t < TEXTURES; t++) {
        int one[1] = {t};
        if (!a.textures[t].resident) {
            printf("readback of %s:\n", a.textures[t].name);
            make_set_resident(&a, one, 1);
        }
        good += intact(&a, &a.textures[t]);
    }
    printf("residency: %u evictions, %u made resident again, peak usage %" PRIu64 " MiB <= budget %" PRIu64
           " MiB: %s\n",
           a.evictions, a.made_resident, (uint64_t)a.peak / MIB, (uint64_t)a.budget / MIB,
           a.peak <= a.budget ? "yes" : "NO");
    printf("contents kept: %d/%d textures intact after eviction\n", good, TEXTURES);

    for (int t = 0; t < TEXTURES; t++) {
        vkDestroyBuffer(a.device, a.textures[t].buffer, NULL);
        vkFreeMemory(a.device, a.textures[t].memory, NULL);
    }
    vkDestroySemaphore(a.device, a.frames, NULL);
    vkDestroyCommandPool(a.device, a.pool, NULL);
    vkDestroyDevice(a.device, NULL);
    vkDestroyInstance(a.instance, NULL);
    if (good != TEXTURES || a.peak > a.budget)
        return 1;
    printf("residency: done\n");
    return 0;
}

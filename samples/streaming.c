/* SPDX-License-Identifier: MIT */
/*
 * streaming -- a game streams textures through a heap budget, frame by
 * frame, and the layer's pressure policy decides what goes: the scenario of
 * scripts/demo.sh, which runs it with a trace (VK_KMT_OFFER_RECLAIM_TRACE)
 * and plots it (tools/kmt-plot).
 *
 * With VK_KMT_OFFER_RECLAIM_DISCARD=pressure and a budget B
 * (VK_KMT_OFFER_RECLAIM_BUDGET_MB, 64 unless set), textures are B/8 each:
 *
 *   frames 1-6    level A loads: six textures, one a frame (6/8 of B);
 *   frame 8       the player leaves: five of them are offered -- two streaming
 *                 caches at LOW with ALLOW_DECOMMIT, one LOW, one NORMAL, one
 *                 HIGH (the sixth stays in use);
 *   frames 10-15  level B loads, one texture a frame: from the third one the
 *                 heap is over budget and each load costs one offered texture,
 *                 LOW before NORMAL before HIGH, oldest first: the two caches
 *                 are decommitted, the LOW and the NORMAL textures discarded;
 *   frames 17-19  the player walks back: level B is freed, level A reclaimed;
 *                 NOT_COMMITTED textures are freed and created again,
 *                 DISCARDED ones uploaded again, the HIGH one kept its bytes.
 *
 * Every texture is named (vkSetDebugUtilsObjectNameEXT, where VK_EXT_debug_utils
 * is there), so messages and the trace say "level A #3", and each frame
 * prints what changed; a table sums it up at the end. Frames are ~10 ms
 * apart so the trace has a time axis worth plotting.
 *
 *   XDG_DATA_HOME=build/vkdata/implicit VK_KMT_OFFER_RECLAIM_ENABLE=1 build/samples/streaming
 *
 * Prints "streaming: done" and exits 0 on success; 1 when the extension is
 * missing or a call fails.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, nanosleep */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vulkan/vulkan.h>
#include <vulkan/vk_kmt_offer_reclaim.h>

#define LEVEL 6
#define OFFERED 5
#define PATTERN 0x5eed0000u

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        VkResult r_ = (call);                                                                        \
        if (r_ != VK_SUCCESS) {                                                                      \
            fprintf(stderr, "streaming: %s failed: %d (line %d)\n", #call, (int)r_, __LINE__);       \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

struct texture {
    char name[32];
    VkDeviceMemory memory;
    VkOfferPriorityKMT priority; /* 0: not offered */
    VkOfferFlagsKMT flags;
    VkAllocationStatusKMT seen;  /* last status printed */
    int lost_at;                 /* frame that discarded / decommitted it */
    VkReclaimResultKMT result;
    const char *action;
};

struct app {
    VkInstance instance;
    VkDevice device;
    uint32_t type;
    VkDeviceSize size;
    PFN_vkSetDebugUtilsObjectNameEXT set_name;
    PFN_vkOfferAllocationsKMT offer;
    PFN_vkReclaimAllocationsKMT reclaim;
    PFN_vkGetAllocationStateKMT get_state;
    PFN_vkGetOfferReclaimStatisticsKMT get_statistics;
};

static const char *
priority_name(VkOfferPriorityKMT p)
{
    static const char *const names[] = {"-", "LOW", "NORMAL", "HIGH"};
    return p <= VK_OFFER_PRIORITY_HIGH_KMT ? names[p] : "?";
}

static const char *
result_name(VkReclaimResultKMT r)
{
    static const char *const names[] = {"OK", "DISCARDED", "NOT_COMMITTED"};
    return r <= VK_RECLAIM_RESULT_NOT_COMMITTED_KMT ? names[r] : "?";
}

static void
next_frame(void)
{
    struct timespec t = {0, 10 * 1000 * 1000};
    nanosleep(&t, NULL);
}

/* "Uploads" a texture: a pattern that the reclaim checks. */
static void
upload(struct app *a, struct texture *t)
{
    uint32_t *words;
    CHECK(vkMapMemory(a->device, t->memory, 0, VK_WHOLE_SIZE, 0, (void **)&words));
    for (VkDeviceSize i = 0; i < a->size / 4; i++)
        words[i] = PATTERN + (uint32_t)i;
    vkUnmapMemory(a->device, t->memory);
}

/* Allocates, names and uploads a texture. */
static void
create_texture(struct app *a, struct texture *t)
{
    VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = a->size,
                                 .memoryTypeIndex = a->type};
    CHECK(vkAllocateMemory(a->device, &info, NULL, &t->memory));
    if (a->set_name) {
        VkDebugUtilsObjectNameInfoEXT name = {.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
                                              .objectType = VK_OBJECT_TYPE_DEVICE_MEMORY,
                                              .objectHandle = (uint64_t)t->memory, .pObjectName = t->name};
        CHECK(a->set_name(a->device, &name));
    }
    upload(a, t);
}

static int
contents_intact(struct app *a, struct texture *t)
{
    uint32_t *words;
    CHECK(vkMapMemory(a->device, t->memory, 0, VK_WHOLE_SIZE, 0, (void **)&words));
    int ok = 1;
    for (VkDeviceSize i = 0; i < a->size / 4 && ok; i++)
        ok = words[i] == PATTERN + (uint32_t)i;
    vkUnmapMemory(a->device, t->memory);
    return ok;
}

/* Prints what the layer did to the offered textures since the last frame. */
static void
report_changes(struct app *a, struct texture *level, int frame)
{
    for (int i = 0; i < LEVEL; i++) {
        struct texture *t = &level[i];
        if (!t->priority)
            continue;
        VkAllocationStateKMT state = {.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT};
        CHECK(a->get_state(a->device, t->memory, &state));
        if (state.status == t->seen)
            continue;
        t->seen = state.status;
        if (state.status == VK_ALLOCATION_STATUS_DISCARDED_KMT ||
            state.status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT) {
            t->lost_at = frame;
            printf("           -> %s (%s) %s\n", t->name, priority_name(t->priority),
                   state.status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT ? "decommitted" : "discarded");
        }
    }
}

static void
print_heap(struct app *a, int frame, const char *what)
{
    VkOfferReclaimStatisticsKMT st = {.sType = VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT};
    CHECK(a->get_statistics(a->device, &st));
    printf("frame %2d  %-44s heap 0: %5.1f of %5.1f MiB\n", frame, what, (double)st.heapUsage[0] / (1 << 20),
           (double)st.heapBudget[0] / (1 << 20));
}

static void
setup(struct app *a)
{
    if (!getenv("VK_KMT_OFFER_RECLAIM_DISCARD"))
        setenv("VK_KMT_OFFER_RECLAIM_DISCARD", "pressure", 1);
    if (!getenv("VK_KMT_OFFER_RECLAIM_BUDGET_MB"))
        setenv("VK_KMT_OFFER_RECLAIM_BUDGET_MB", "64", 1);

    /* VK_EXT_debug_utils for names, where the loader has it. */
    uint32_t n = 0;
    vkEnumerateInstanceExtensionProperties(NULL, &n, NULL);
    VkExtensionProperties *exts = calloc(n ? n : 1, sizeof(*exts));
    vkEnumerateInstanceExtensionProperties(NULL, &n, exts);
    int debug_utils = 0;
    for (uint32_t i = 0; i < n; i++)
        debug_utils |= strcmp(exts[i].extensionName, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) == 0;
    free(exts);
    const char *instance_ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "streaming",
                             .apiVersion = VK_API_VERSION_1_3};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app,
                                .enabledExtensionCount = debug_utils ? 1 : 0, .ppEnabledExtensionNames = &instance_ext};
    CHECK(vkCreateInstance(&ici, NULL, &a->instance));
    uint32_t count = 1;
    VkPhysicalDevice physical;
    VkResult r = vkEnumeratePhysicalDevices(a->instance, &count, &physical);
    if (r < 0 || count == 0) {
        fprintf(stderr, "streaming: no Vulkan device\n");
        exit(1);
    }

    float queue_priority = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = 0,
                                   .queueCount = 1, .pQueuePriorities = &queue_priority};
    const char *names[] = {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci, .enabledExtensionCount = 1,
                              .ppEnabledExtensionNames = names};
    r = vkCreateDevice(physical, &dci, NULL, &a->device);
    if (r != VK_SUCCESS) {
        fprintf(stderr, "streaming: vkCreateDevice with VK_KMT_offer_reclaim failed (%d): enable "
                        "VK_LAYER_KMT_offer_reclaim (VK_KMT_OFFER_RECLAIM_ENABLE=1)\n", (int)r);
        exit(1);
    }
    a->offer = (PFN_vkOfferAllocationsKMT)vkGetDeviceProcAddr(a->device, "vkOfferAllocationsKMT");
    a->reclaim = (PFN_vkReclaimAllocationsKMT)vkGetDeviceProcAddr(a->device, "vkReclaimAllocationsKMT");
    a->get_state = (PFN_vkGetAllocationStateKMT)vkGetDeviceProcAddr(a->device, "vkGetAllocationStateKMT");
    a->get_statistics =
        (PFN_vkGetOfferReclaimStatisticsKMT)vkGetDeviceProcAddr(a->device, "vkGetOfferReclaimStatisticsKMT");
    if (debug_utils)
        a->set_name = (PFN_vkSetDebugUtilsObjectNameEXT)vkGetInstanceProcAddr(a->instance,
                                                                             "vkSetDebugUtilsObjectNameEXT");
    if (!a->offer || !a->reclaim || !a->get_state || !a->get_statistics) {
        fprintf(stderr, "streaming: the extension's commands are missing\n");
        exit(1);
    }

    /* Host-visible memory of heap 0, so the sample can check the bytes. */
    VkPhysicalDeviceMemoryProperties props;
    vkGetPhysicalDeviceMemoryProperties(physical, &props);
    a->type = props.memoryTypeCount;
    for (uint32_t i = 0; i < props.memoryTypeCount && a->type == props.memoryTypeCount; i++)
        if (props.memoryTypes[i].heapIndex == 0 &&
            (props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            (props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
            a->type = i;
    VkOfferReclaimStatisticsKMT st = {.sType = VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT};
    CHECK(a->get_statistics(a->device, &st));
    if (a->type == props.memoryTypeCount || st.heapBudget[0] == 0 || st.heapUsage[0] != 0) {
        fprintf(stderr, "streaming: needs DISCARD=pressure, an empty heap 0 and a host-visible type on it\n");
        exit(1);
    }
    a->size = st.heapBudget[0] / 8;
    printf("streaming: heap 0 budget %.1f MiB (DISCARD=%s); textures of %.1f MiB%s\n\n",
           (double)st.heapBudget[0] / (1 << 20), getenv("VK_KMT_OFFER_RECLAIM_DISCARD"),
           (double)a->size / (1 << 20), a->set_name ? ", named with VK_EXT_debug_utils" : "");
}

int
main(void)
{
    struct app a = {0};
    setup(&a);
    struct texture level_a[LEVEL] = {0}, level_b[LEVEL] = {0};
    int frame = 0;

    for (int i = 0; i < LEVEL; i++, frame++) {
        snprintf(level_a[i].name, sizeof(level_a[i].name), "level A #%d", i + 1);
        create_texture(&a, &level_a[i]);
        char what[64];
        snprintf(what, sizeof(what), "loaded %.31s", level_a[i].name);
        print_heap(&a, frame + 1, what);
        next_frame();
    }
    next_frame();
    frame++;

    /* The player leaves level A: what is behind them is offered, oldest first. */
    const VkOfferPriorityKMT priorities[OFFERED] = {VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_PRIORITY_LOW_KMT,
                                                    VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_PRIORITY_NORMAL_KMT,
                                                    VK_OFFER_PRIORITY_HIGH_KMT};
    for (int i = 0; i < OFFERED; i++) {
        struct texture *t = &level_a[i];
        t->priority = priorities[i];
        t->flags = i < 2 ? VK_OFFER_ALLOW_DECOMMIT_BIT_KMT : 0; /* streaming caches: recreated if lost */
        t->seen = VK_ALLOCATION_STATUS_OFFERED_KMT;
        VkOfferAllocationsInfoKMT info = {.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT,
                                          .allocationCount = 1, .pMemories = &t->memory,
                                          .priority = t->priority, .flags = t->flags};
        CHECK(a.offer(a.device, &info));
    }
    print_heap(&a, ++frame, "offered level A #1-#5 (LOW x3, NORMAL, HIGH)");
    next_frame();
    next_frame();
    frame++;

    for (int i = 0; i < LEVEL; i++) {
        snprintf(level_b[i].name, sizeof(level_b[i].name), "level B #%d", i + 1);
        create_texture(&a, &level_b[i]);
        char what[64];
        snprintf(what, sizeof(what), "loaded %.31s", level_b[i].name);
        print_heap(&a, ++frame, what);
        report_changes(&a, level_a, frame);
        next_frame();
    }
    next_frame();
    frame++;

    /* Back to level A: level B goes, level A's offered textures come back. */
    for (int i = 0; i < LEVEL; i++) {
        vkFreeMemory(a.device, level_b[i].memory, NULL);
        if (i % 3 == 2) {
            print_heap(&a, ++frame, i < 3 ? "freed level B #1-#3" : "freed level B #4-#6");
            next_frame();
        }
    }
    VkDeviceMemory memories[OFFERED];
    VkReclaimResultKMT results[OFFERED];
    for (int i = 0; i < OFFERED; i++)
        memories[i] = level_a[i].memory;
    VkReclaimAllocationsInfoKMT info = {.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT,
                                        .allocationCount = OFFERED, .pMemories = memories, .pResults = results};
    uint64_t paging_fence = 0;
    CHECK(a.reclaim(a.device, &info, &paging_fence));
    for (int i = 0; i < OFFERED; i++) {
        struct texture *t = &level_a[i];
        t->result = results[i];
        if (t->result == VK_RECLAIM_RESULT_NOT_COMMITTED_KMT) {
            vkFreeMemory(a.device, t->memory, NULL); /* gone: free and create it again */
            create_texture(&a, t);
            t->action = "freed, created and uploaded again";
        } else if (t->result == VK_RECLAIM_RESULT_DISCARDED_KMT) {
            upload(&a, t); /* the memory is ours again; its contents are not */
            t->action = "uploaded again";
        } else {
            t->action = contents_intact(&a, t) ? "kept its bytes" : "BYTES CHANGED";
        }
    }
    print_heap(&a, ++frame, "reclaimed level A #1-#5");
    next_frame();

    printf("\n%-12s %-8s %-15s %-10s %-14s %s\n", "texture", "offered", "flags", "lost at", "reclaim", "then");
    int all_ok = paging_fence == 0; /* host-visible memory: fills ran on the CPU */
    for (int i = 0; i < OFFERED; i++) {
        struct texture *t = &level_a[i];
        char lost[16] = "-";
        if (t->lost_at)
            snprintf(lost, sizeof(lost), "frame %d", t->lost_at);
        printf("%-12s %-8s %-15s %-10s %-14s %s\n", t->name, priority_name(t->priority),
               t->flags ? "ALLOW_DECOMMIT" : "-", lost, result_name(t->result), t->action);
        all_ok &= strcmp(t->action, "BYTES CHANGED") != 0;
    }
    VkOfferReclaimStatisticsKMT st = {.sType = VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT};
    CHECK(a.get_statistics(a.device, &st));
    printf("\ncounters: offers %" PRIu64 ", reclaims %" PRIu64 ", discards %" PRIu64 ", decommits %" PRIu64
           "; paging fence value %" PRIu64 "\n",
           st.offerCount, st.reclaimCount, st.discardCount, st.decommitCount, paging_fence);

    for (int i = 0; i < LEVEL; i++)
        vkFreeMemory(a.device, level_a[i].memory, NULL);
    vkDestroyDevice(a.device, NULL);
    vkDestroyInstance(a.instance, NULL);
    if (!all_ok) {
        fprintf(stderr, "streaming: a texture reported OK lost its bytes\n");
        return 1;
    }
    printf("streaming: done\n");
    return 0;
}

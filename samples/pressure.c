/* SPDX-License-Identifier: MIT */
/*
 * pressure -- the layer's "pressure" discard policy: which offered allocation
 * goes first when a heap runs over its budget.
 *
 * VidMm discards offered allocations LOW before NORMAL before HIGH, and within
 * one priority the oldest offer first. The layer reproduces that with
 * VK_KMT_OFFER_RECLAIM_DISCARD=pressure and a heap budget
 * (VK_KMT_OFFER_RECLAIM_BUDGET_MB). This sample:
 *
 *  1. offers six allocations of budget/8 + budget/64 each, in a mixed order of
 *     priorities (6 x 9/64 of the budget: under it, nothing is discarded);
 *  2. allocates six more of the same size, one at a time ("the next level is
 *     loading"); from the second one on, every allocation pushes the heap over
 *     budget and the layer discards exactly one offered allocation;
 *  3. frees the new ones, reclaims the offered ones, and prints a table per
 *     allocation and the device counters (vkGetOfferReclaimStatisticsKMT);
 *  4. shows that a decommit gives memory back: a large host-visible
 *     allocation, touched page by page, is offered with ALLOW_DECOMMIT; the
 *     pressure policy decommits it, the layer frees the driver's memory at
 *     once, and the process's resident memory drops by its size (on lavapipe,
 *     where "device memory" is the process's own; a GPU shows it in the
 *     driver's heap usage instead). Reclaim then reports NOT_COMMITTED.
 *
 * Expected: LOW (oldest first), then NORMAL (oldest first), then the oldest
 * HIGH; the newest HIGH survives and its reclaim reports OK.
 *
 * Settings: unless they are already set, the sample sets
 * VK_KMT_OFFER_RECLAIM_DISCARD=pressure and VK_KMT_OFFER_RECLAIM_BUDGET_MB=16
 * with setenv() before vkCreateInstance (the layer reads its settings when the
 * device is created; the environment wins over vk_layer_settings.txt). The
 * sizes follow whatever budget the layer reports, so another BUDGET_MB works
 * too (the sample allocates about 12/8 of it). Run it from the build tree:
 *
 *   XDG_DATA_HOME=build/vkdata/implicit VK_KMT_OFFER_RECLAIM_ENABLE=1 build/samples/pressure
 *
 * Prints "pressure: done" and exits 0 on success; exits 1 when the extension
 * is missing or a call fails.
 */
#define _POSIX_C_SOURCE 200112L /* setenv */
#include <unistd.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>
#include <vulkan/vk_kmt_offer_reclaim.h>

#define OFFERED 6
#define LOADED 6

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        VkResult r_ = (call);                                                                        \
        if (r_ != VK_SUCCESS) {                                                                      \
            fprintf(stderr, "pressure: %s failed: %d (line %d)\n", #call, (int)r_, __LINE__);        \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

struct allocation {
    const char *name;
    VkOfferPriorityKMT priority;
    VkDeviceMemory memory;
    int offer_order;  /* 1 = offered first */
    int rank;         /* which priority-mates were offered before it, 1-based */
    int discarded_at; /* the allocation step that discarded it; 0: never */
    int discard_rank; /* 1 = discarded first */
    VkReclaimResultKMT result;
};

static const char *
priority_name(VkOfferPriorityKMT p)
{
    switch (p) {
    case VK_OFFER_PRIORITY_LOW_KMT: return "LOW";
    case VK_OFFER_PRIORITY_NORMAL_KMT: return "NORMAL";
    case VK_OFFER_PRIORITY_HIGH_KMT: return "HIGH";
    default: return "?";
    }
}

static const char *
result_name(VkReclaimResultKMT r)
{
    switch (r) {
    case VK_RECLAIM_RESULT_OK_KMT: return "OK";
    case VK_RECLAIM_RESULT_DISCARDED_KMT: return "DISCARDED";
    case VK_RECLAIM_RESULT_NOT_COMMITTED_KMT: return "NOT_COMMITTED";
    default: return "?";
    }
}

/* Resident memory of this process, MiB (/proc/self/statm); -1 if unknown. */
static double
resident_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    int n = f ? fscanf(f, "%lu %lu", &size, &resident) : 0;
    if (f)
        fclose(f);
    return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) / (1 << 20) : -1.0;
}

/* Step 4: a decommit frees the driver's memory at once (DESIGN.md, "Decommit
 * is real"). Returns 0 on success. */
static int
show_decommit(VkDevice device, const VkPhysicalDeviceMemoryProperties *props, VkDeviceSize budget,
              PFN_vkOfferAllocationsKMT offer, PFN_vkReclaimAllocationsKMT reclaim)
{
    uint32_t type = props->memoryTypeCount;
    for (uint32_t i = 0; i < props->memoryTypeCount && type == props->memoryTypeCount; i++)
        if (props->memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
            type = i;
    if (type == props->memoryTypeCount) {
        printf("decommit: no host-visible memory type to touch; skipped\n");
        return 0;
    }
    VkDeviceSize size = budget * 8; /* far over the budget: the policy acts as soon as it is offered */
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size,
                                .memoryTypeIndex = type};
    VkDeviceMemory big;
    CHECK(vkAllocateMemory(device, &mai, NULL, &big));
    void *data = NULL;
    CHECK(vkMapMemory(device, big, 0, VK_WHOLE_SIZE, 0, &data));
    memset(data, 0x5a, (size_t)size); /* every page resident */
    vkUnmapMemory(device, big);
    double before = resident_mib();
    VkOfferAllocationsInfoKMT info = {.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT, .allocationCount = 1,
                                      .pMemories = &big, .priority = VK_OFFER_PRIORITY_LOW_KMT,
                                      .flags = VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT};
    CHECK(offer(device, &info));
    double after = resident_mib();
    VkReclaimResultKMT result = VK_RECLAIM_RESULT_OK_KMT;
    VkReclaimAllocationsInfoKMT rinfo = {.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT,
                                         .allocationCount = 1, .pMemories = &big, .pResults = &result};
    uint64_t fence = 0;
    CHECK(reclaim(device, &rinfo, &fence));
    printf("\ndecommit: %.0f MiB offered with ALLOW_DECOMMIT over a %.0f MiB budget -> reclaim %s\n",
           (double)size / (1 << 20), (double)budget / (1 << 20), result_name(result));
    printf("decommit: resident memory %.0f MiB -> %.0f MiB: %.0f MiB given back\n", before, after, before - after);
    vkFreeMemory(device, big, NULL); /* only the layer's record is left to free */
    return result == VK_RECLAIM_RESULT_NOT_COMMITTED_KMT ? 0 : 1;
}

static void
default_env(const char *name, const char *value)
{
    if (!getenv(name)) {
        setenv(name, value, 1);
        printf("pressure: %s was not set; using %s\n", name, value);
    }
}

int
main(void)
{
    default_env("VK_KMT_OFFER_RECLAIM_DISCARD", "pressure");
    default_env("VK_KMT_OFFER_RECLAIM_BUDGET_MB", "16");

    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "pressure",
                             .apiVersion = VK_API_VERSION_1_3};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkInstance instance;
    CHECK(vkCreateInstance(&ici, NULL, &instance));
    uint32_t count = 1;
    VkPhysicalDevice physical;
    VkResult r = vkEnumeratePhysicalDevices(instance, &count, &physical);
    if (r < 0 || count == 0) {
        fprintf(stderr, "pressure: no Vulkan device\n");
        return 1;
    }
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(physical, NULL, &n, NULL);
    VkExtensionProperties *exts = calloc(n ? n : 1, sizeof(*exts));
    vkEnumerateDeviceExtensionProperties(physical, NULL, &n, exts);
    int found = 0;
    for (uint32_t i = 0; i < n; i++)
        found |= strcmp(exts[i].extensionName, VK_KMT_OFFER_RECLAIM_EXTENSION_NAME) == 0;
    free(exts);
    if (!found) {
        fprintf(stderr, "pressure: VK_KMT_offer_reclaim is not available: enable VK_LAYER_KMT_offer_reclaim "
                        "(VK_KMT_OFFER_RECLAIM_ENABLE=1)\n");
        vkDestroyInstance(instance, NULL);
        return 1;
    }

    float queue_priority = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = 0,
                                   .queueCount = 1, .pQueuePriorities = &queue_priority};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .timelineSemaphore = VK_TRUE};
    const char *names[] = {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f12,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci, .enabledExtensionCount = 1,
                              .ppEnabledExtensionNames = names};
    VkDevice device;
    CHECK(vkCreateDevice(physical, &dci, NULL, &device));
    PFN_vkOfferAllocationsKMT offer = (PFN_vkOfferAllocationsKMT)vkGetDeviceProcAddr(device, "vkOfferAllocationsKMT");
    PFN_vkReclaimAllocationsKMT reclaim =
        (PFN_vkReclaimAllocationsKMT)vkGetDeviceProcAddr(device, "vkReclaimAllocationsKMT");
    PFN_vkGetPagingFenceKMT get_paging_fence =
        (PFN_vkGetPagingFenceKMT)vkGetDeviceProcAddr(device, "vkGetPagingFenceKMT");
    PFN_vkGetAllocationStateKMT get_state =
        (PFN_vkGetAllocationStateKMT)vkGetDeviceProcAddr(device, "vkGetAllocationStateKMT");
    PFN_vkGetOfferReclaimStatisticsKMT get_statistics =
        (PFN_vkGetOfferReclaimStatisticsKMT)vkGetDeviceProcAddr(device, "vkGetOfferReclaimStatisticsKMT");
    if (!offer || !reclaim || !get_paging_fence || !get_state || !get_statistics) {
        fprintf(stderr, "pressure: the extension's commands are missing\n");
        return 1;
    }

    /* "Video memory": device-local, preferably not host-visible. */
    VkPhysicalDeviceMemoryProperties props;
    vkGetPhysicalDeviceMemoryProperties(physical, &props);
    uint32_t type = props.memoryTypeCount;
    for (uint32_t i = 0; i < props.memoryTypeCount && type == props.memoryTypeCount; i++)
        if ((props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) &&
            !(props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
            type = i;
    for (uint32_t i = 0; i < props.memoryTypeCount && type == props.memoryTypeCount; i++)
        if (props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)
            type = i;
    if (type == props.memoryTypeCount)
        type = 0;
    uint32_t heap = props.memoryTypes[type].heapIndex;

    /* The budget the pressure policy uses for that heap; sizes follow it. */
    VkOfferReclaimStatisticsKMT st = {.sType = VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT};
    CHECK(get_statistics(device, &st));
    VkDeviceSize budget = st.heapBudget[heap];
    if (budget == 0) { /* the layer models budgets only for the pressure policy */
        fprintf(stderr, "pressure: the layer reports no budget: VK_KMT_OFFER_RECLAIM_DISCARD is not \"pressure\"\n");
        return 1;
    }
    VkDeviceSize size = (budget / 8 + budget / 64 + 0xffff) & ~(VkDeviceSize)0xffff;
    printf("heap %u: budget %.2f MiB, in use %.2f MiB; allocations of %.2f MiB (memory type %u)\n", heap,
           (double)budget / (1 << 20), (double)st.heapUsage[heap] / (1 << 20), (double)size / (1 << 20), type);
    if (size == 0 || size * (OFFERED + 1) + st.heapUsage[heap] > budget || size > props.memoryHeaps[heap].size / 4) {
        fprintf(stderr, "pressure: the budget (%.2f MiB) does not fit this demo; set VK_KMT_OFFER_RECLAIM_BUDGET_MB "
                        "to a small value such as 16\n",
                (double)budget / (1 << 20));
        return 1;
    }

    /* 1. Offer six allocations in a mixed order of priorities. */
    struct allocation a[OFFERED] = {
        {.name = "ui atlas", .priority = VK_OFFER_PRIORITY_HIGH_KMT},
        {.name = "decoded video", .priority = VK_OFFER_PRIORITY_NORMAL_KMT},
        {.name = "shader cache", .priority = VK_OFFER_PRIORITY_LOW_KMT},
        {.name = "terrain tiles", .priority = VK_OFFER_PRIORITY_HIGH_KMT},
        {.name = "shadow maps", .priority = VK_OFFER_PRIORITY_NORMAL_KMT},
        {.name = "scratch", .priority = VK_OFFER_PRIORITY_LOW_KMT},
    };
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size,
                                .memoryTypeIndex = type};
    for (int i = 0; i < OFFERED; i++)
        CHECK(vkAllocateMemory(device, &mai, NULL, &a[i].memory));
    printf("offering (one call each, oldest first):");
    for (int i = 0; i < OFFERED; i++) {
        a[i].offer_order = i + 1;
        for (int j = 0; j <= i; j++)
            a[i].rank += a[j].priority == a[i].priority;
        /* By memory (the D3DKMT HandleList form): no resources needed. */
        VkOfferAllocationsInfoKMT info = {.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT,
                                          .allocationCount = 1, .pMemories = &a[i].memory,
                                          .priority = a[i].priority};
        CHECK(offer(device, &info));
        printf(" %s#%d", priority_name(a[i].priority), a[i].rank);
    }
    printf("\n");

    /* 2. Load "the next level": each allocation may push the heap over budget. */
    VkDeviceMemory loaded[LOADED];
    int discards = 0;
    for (int step = 1; step <= LOADED; step++) {
        CHECK(vkAllocateMemory(device, &mai, NULL, &loaded[step - 1]));
        CHECK(get_statistics(device, &st));
        printf("step %d: allocated %.2f MiB, heap now %.2f / %.2f MiB; discarded:", step, (double)size / (1 << 20),
               (double)st.heapUsage[heap] / (1 << 20), (double)st.heapBudget[heap] / (1 << 20));
        int none = 1;
        for (int i = 0; i < OFFERED; i++) {
            VkAllocationStateKMT state = {.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT};
            CHECK(get_state(device, a[i].memory, &state));
            if (!a[i].discarded_at && (state.status == VK_ALLOCATION_STATUS_DISCARDED_KMT ||
                                       state.status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT)) {
                a[i].discarded_at = step;
                a[i].discard_rank = ++discards;
                printf(" %s#%d (%s)", priority_name(a[i].priority), a[i].rank, a[i].name);
                none = 0;
            }
        }
        printf("%s\n", none ? " nothing" : "");
    }

    /* 3. Back to the old level: free the new one, reclaim everything offered. */
    for (int i = 0; i < LOADED; i++)
        vkFreeMemory(device, loaded[i], NULL);
    VkDeviceMemory memories[OFFERED];
    VkReclaimResultKMT results[OFFERED];
    for (int i = 0; i < OFFERED; i++)
        memories[i] = a[i].memory;
    VkReclaimAllocationsInfoKMT rinfo = {.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT,
                                         .allocationCount = OFFERED, .pMemories = memories, .pResults = results};
    uint64_t paging_value = 0;
    CHECK(reclaim(device, &rinfo, &paging_value));
    if (paging_value) {
        /* GPU discard fills are queued: wait before the GPU (or, here, the
         * teardown) uses the memory. A real app would put this value in the
         * VkTimelineSemaphoreSubmitInfo of its next submission instead. */
        VkSemaphore paging;
        CHECK(get_paging_fence(device, &paging));
        VkSemaphoreWaitInfo wait = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO, .semaphoreCount = 1,
                                    .pSemaphores = &paging, .pValues = &paging_value};
        CHECK(vkWaitSemaphores(device, &wait, UINT64_MAX));
    }
    printf("reclaimed all six: paging fence value %" PRIu64 "\n\n", paging_value);

    printf("%-14s %-8s %-7s %-10s %-13s %-13s %s\n", "allocation", "priority", "offered", "size MiB", "discarded at",
           "discard order", "reclaim");
    for (int i = 0; i < OFFERED; i++) {
        a[i].result = results[i];
        char at[16] = "-", order[16] = "-";
        if (a[i].discarded_at) {
            snprintf(at, sizeof(at), "step %d", a[i].discarded_at);
            snprintf(order, sizeof(order), "%d", a[i].discard_rank);
        }
        char prio[16];
        snprintf(prio, sizeof(prio), "%s#%d", priority_name(a[i].priority), a[i].rank);
        printf("%-14s %-8s %-7d %-10.2f %-13s %-13s %s\n", a[i].name, prio, a[i].offer_order,
               (double)size / (1 << 20), at, order, result_name(a[i].result));
    }

    /* Did the layer follow VidMm's order? The expected order sorts by
     * (priority, offer order); compare it with what was observed. */
    int expected[OFFERED], e = 0;
    for (int p = VK_OFFER_PRIORITY_LOW_KMT; p <= VK_OFFER_PRIORITY_HIGH_KMT; p++)
        for (int i = 0; i < OFFERED; i++)
            if ((int)a[i].priority == p)
                expected[e++] = i;
    int in_order = discards > 0;
    printf("\ndiscard order:");
    for (int k = 0; k < discards; k++) {
        int i = 0;
        while (i < OFFERED && a[i].discard_rank != k + 1)
            i++;
        printf(" %s#%d", priority_name(a[i].priority), a[i].rank);
        in_order &= i == expected[k];
    }
    for (int i = 0; i < OFFERED; i++) /* discarded means DISCARDED; kept means OK */
        in_order &= (a[i].discarded_at != 0) == (a[i].result == VK_RECLAIM_RESULT_DISCARDED_KMT);
    printf("%s\n", discards ? "" : " none (is VK_KMT_OFFER_RECLAIM_DISCARD=pressure?)");
    printf("LOW before NORMAL before HIGH, oldest first: %s\n", in_order ? "yes" : "NO");

    CHECK(get_statistics(device, &st));
    printf("\ndevice counters (vkGetOfferReclaimStatisticsKMT):\n"
           "  offers %" PRIu64 " (re-offers %" PRIu64 "), reclaims %" PRIu64 ", discards %" PRIu64
           ", decommits %" PRIu64 "\n"
           "  bytes offered %" PRIu64 ", bytes discarded %" PRIu64 ", rejected calls %" PRIu64 "\n"
           "  now: pending %u, offered %u, tracked %u; heap %u usage %" PRIu64 " of budget %" PRIu64 " bytes\n",
           st.offerCount, st.reofferCount, st.reclaimCount, st.discardCount, st.decommitCount, st.bytesOffered,
           st.bytesDiscarded, st.rejectedCallCount, st.pendingCount, st.offeredCount, st.trackedCount, heap,
           (uint64_t)st.heapUsage[heap], (uint64_t)st.heapBudget[heap]);

    for (int i = 0; i < OFFERED; i++)
        vkFreeMemory(device, a[i].memory, NULL);
    if (show_decommit(device, &props, budget, offer, reclaim))
        return 1;
    vkDestroyDevice(device, NULL);
    vkDestroyInstance(instance, NULL);
    printf("pressure: done\n");
    return 0;
}

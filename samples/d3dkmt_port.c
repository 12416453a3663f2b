/* SPDX-License-Identifier: MIT */
/*
 * d3dkmt_port -- DXGI offer / reclaim, ported the way DXVK or Wine would port it:
 * IDXGIDevice4::OfferResources1 / ReclaimResources1 (and the DXGI 1.2
 * OfferResources / ReclaimResources) written over the D3DKMT thunks of
 * <vk_kmt/d3dkmt.h>, which call the VK_KMT_offer_reclaim device extension.
 *
 * What it shows, in the order a porting engineer meets it:
 *  1. Open a D3DKMT device on the VkDevice (VkKmtOpenDevice), make a paging
 *     queue (D3DKMTCreatePagingQueue) and register each resource as a D3D
 *     "runtime resource" handle (VkKmtRegisterImage / VkKmtRegisterBuffer).
 *  2. DXGI -> D3DKMT translation: DXGI_OFFER_RESOURCE_PRIORITY ->
 *     D3DKMT_OFFER_PRIORITY, DXGI_OFFER_RESOURCE_FLAG_ALLOW_DECOMMIT (0x1) ->
 *     D3DKMT_OFFER_FLAGS.AllowDecommit (bit 1!), D3DDDI_RECLAIM_RESULT ->
 *     DXGI_RECLAIM_RESOURCE_RESULTS, NTSTATUS -> HRESULT.
 *  3. The three reclaim outcomes: OK (use it), DISCARDED (a new resource:
 *     regenerate, images from VK_IMAGE_LAYOUT_UNDEFINED), NOT_COMMITTED (gone:
 *     release it and create it again).
 *  4. The paging fence: the next submission waits for PagingFenceValue on the
 *     paging queue's sync object (VkTimelineSemaphoreSubmitInfo).
 *  5. The fallback when the extension is absent: offers are accepted and do
 *     nothing, every reclaim reports OK (Windows 7 Platform Update behaviour).
 *
 * Run it from the build tree through the layer. Default policy (never): every
 * reclaim is OK. To see the discard and NOT_COMMITTED paths, give the layer a
 * 16 MiB budget and the pressure policy; the sample's 12 MiB of offered
 * resources plus a 10 MiB allocation of "another client" then go over budget
 * and the layer discards LOW (decommitted: ALLOW_DECOMMIT) and NORMAL:
 *
 *   XDG_DATA_HOME=build/vkdata/implicit VK_KMT_OFFER_RECLAIM_ENABLE=1 \
 *   VK_KMT_OFFER_RECLAIM_DISCARD=pressure VK_KMT_OFFER_RECLAIM_BUDGET_MB=16 \
 *     build/samples/d3dkmt_port
 *
 * (VK_KMT_OFFER_RECLAIM_DISCARD=always shows every non-OK path at once.)
 * Prints one line per resource per step, a summary line, and "d3dkmt_port:
 * done" on success (exit 0); any failure prints why and exits 1. The porting
 * guide that goes with it: docs/PORTING.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>

#define VK_KMT_D3DKMT_IMPLEMENTATION
#include <vk_kmt/d3dkmt.h>

/* ------------------------------------------------------------------------- */
/* What <dxgi1_5.h> and <winerror.h> give a Windows build (values from the   */
/* Windows SDK). d3dkmt.h already has UINT, BOOL, NTSTATUS and STATUS_*.     */
/* ------------------------------------------------------------------------- */

typedef int32_t HRESULT; /* a Windows LONG */
#define S_OK ((HRESULT)0)
#define E_FAIL ((HRESULT)0x80004005)
#define E_INVALIDARG ((HRESULT)0x80070057)
#define E_OUTOFMEMORY ((HRESULT)0x8007000E)
#define DXGI_ERROR_DEVICE_REMOVED ((HRESULT)0x887A0005)

typedef enum DXGI_OFFER_RESOURCE_PRIORITY { /* DXGI 1.2: no AUTO, no 0 */
    DXGI_OFFER_RESOURCE_PRIORITY_LOW = 1,
    DXGI_OFFER_RESOURCE_PRIORITY_NORMAL = 2,
    DXGI_OFFER_RESOURCE_PRIORITY_HIGH = 3
} DXGI_OFFER_RESOURCE_PRIORITY;

typedef enum DXGI_OFFER_RESOURCE_FLAGS { /* DXGI 1.5 */
    DXGI_OFFER_RESOURCE_FLAG_ALLOW_DECOMMIT = 0x1
} DXGI_OFFER_RESOURCE_FLAGS;

typedef enum DXGI_RECLAIM_RESOURCE_RESULTS { /* DXGI 1.5 */
    DXGI_RECLAIM_RESOURCE_RESULT_OK = 0,
    DXGI_RECLAIM_RESOURCE_RESULT_DISCARDED = 1,
    DXGI_RECLAIM_RESOURCE_RESULT_NOT_COMMITTED = 2
} DXGI_RECLAIM_RESOURCE_RESULTS;

/* ------------------------------------------------------------------------- */
/* The "runtime": a device and its resources                                 */
/* ------------------------------------------------------------------------- */

#define TEXTURE_SIZE 1024u                              /* 1024 x 1024 RGBA8: 4 MiB */
#define BUFFER_SIZE ((VkDeviceSize)4 << 20)             /* 4 MiB */
#define PRESSURE_SIZE ((VkDeviceSize)10 << 20)          /* "another client" */
#define READBACK_SLOT 16u                               /* bytes per resource in the readback buffer */
#define RESOURCES 3

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        VkResult r_ = (call);                                                                        \
        if (r_ != VK_SUCCESS) {                                                                      \
            fprintf(stderr, "d3dkmt_port: %s failed: %d (line %d)\n", #call, (int)r_, __LINE__);     \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

#define CHECK_NT(call)                                                                               \
    do {                                                                                             \
        NTSTATUS s_ = (call);                                                                        \
        if (!NT_SUCCESS(s_)) {                                                                       \
            fprintf(stderr, "d3dkmt_port: %s failed: NTSTATUS 0x%08" PRIX32 " (line %d)\n", #call,  \
                    (uint32_t)s_, __LINE__);                                                         \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

#define CHECK_HR(call)                                                                               \
    do {                                                                                             \
        HRESULT h_ = (call);                                                                         \
        if (h_ != S_OK) {                                                                            \
            fprintf(stderr, "d3dkmt_port: %s failed: HRESULT 0x%08" PRIX32 " (line %d)\n", #call,   \
                    (uint32_t)h_, __LINE__);                                                         \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

/* What a D3D runtime keeps per IDXGIResource. */
struct resource {
    const char *name;
    int is_texture;             /* VkImage (a Texture2D) or VkBuffer */
    uint32_t pattern;           /* what its contents should be */
    VkImage image;
    VkBuffer buffer;
    VkDeviceMemory memory;
    D3DKMT_HANDLE hResource;    /* D3DKMT runtime resource handle (pResources) */
    VkImageLayout layout;       /* UNDEFINED when new, and again after a discard */
    int offered;
};

/* Stands in for IDXGIDevice4 on top of a VkDevice. */
struct device {
    VkInstance instance;
    VkPhysicalDevice physical;
    VkPhysicalDeviceMemoryProperties memory_properties;
    VkDevice device;
    VkQueue queue;
    VkCommandPool pool;
    VkBuffer readback;
    VkDeviceMemory readback_memory;
    PFN_vkGetOfferReclaimStatisticsKMT get_statistics;

    int kmt;                    /* VK_KMT_offer_reclaim enabled; 0: the fallback */
    D3DKMT_HANDLE hDevice;      /* VkKmtOpenDevice */
    D3DKMT_HANDLE hPagingQueue; /* D3DKMTCreatePagingQueue */
    D3DKMT_HANDLE hSyncObject;  /* its monitored fence */
    VkSemaphore paging;         /* the timeline semaphore behind hSyncObject */
    UINT64 paging_wait;         /* highest PagingFenceValue the next submission must wait for */
};

static const char *
result_name(DXGI_RECLAIM_RESOURCE_RESULTS r)
{
    switch (r) {
    case DXGI_RECLAIM_RESOURCE_RESULT_OK: return "OK";
    case DXGI_RECLAIM_RESOURCE_RESULT_DISCARDED: return "DISCARDED";
    case DXGI_RECLAIM_RESOURCE_RESULT_NOT_COMMITTED: return "NOT_COMMITTED";
    }
    return "?";
}

static const char *
priority_name(DXGI_OFFER_RESOURCE_PRIORITY p)
{
    switch (p) {
    case DXGI_OFFER_RESOURCE_PRIORITY_LOW: return "LOW";
    case DXGI_OFFER_RESOURCE_PRIORITY_NORMAL: return "NORMAL";
    case DXGI_OFFER_RESOURCE_PRIORITY_HIGH: return "HIGH";
    }
    return "?";
}

/* ------------------------------------------------------------------------- */
/* DXGI -> D3DKMT translation                                                */
/* ------------------------------------------------------------------------- */

static HRESULT
hresult_from_ntstatus(NTSTATUS status)
{
    switch (status) {
    case STATUS_SUCCESS: return S_OK;
    case STATUS_INVALID_PARAMETER: return E_INVALIDARG;
    case STATUS_NO_MEMORY: return E_OUTOFMEMORY;
    case STATUS_DEVICE_REMOVED: return DXGI_ERROR_DEVICE_REMOVED;
    default: return E_FAIL;
    }
}

/* DXGI_OFFER_RESOURCE_PRIORITY -> D3DKMT_OFFER_PRIORITY. The values happen to
 * be equal (1..3), but DXGI has no AUTO and neither level has a valid 0:
 * translate explicitly and reject anything else (DXGI: E_INVALIDARG). */
static int
kmt_priority(DXGI_OFFER_RESOURCE_PRIORITY priority, D3DKMT_OFFER_PRIORITY *out)
{
    switch (priority) {
    case DXGI_OFFER_RESOURCE_PRIORITY_LOW: *out = D3DKMT_OFFER_PRIORITY_LOW; return 1;
    case DXGI_OFFER_RESOURCE_PRIORITY_NORMAL: *out = D3DKMT_OFFER_PRIORITY_NORMAL; return 1;
    case DXGI_OFFER_RESOURCE_PRIORITY_HIGH: *out = D3DKMT_OFFER_PRIORITY_HIGH; return 1;
    }
    return 0;
}

/*
 * DXGI offer flags -> D3DKMT_OFFER_FLAGS. THE BIT-POSITION TRAP:
 *
 *   DXGI_OFFER_RESOURCE_FLAG_ALLOW_DECOMMIT        0x1  (API, dxgi1_5.h)
 *   D3DDDI_OFFER_FLAGS.AllowDecommit               bit 0 (UMD, d3dukmdt.h; what
 *                                                  DXGI_DDI_ARG_OFFERRESOURCES1 carries)
 *   D3DKMT_OFFER_FLAGS.OfferImmediately            bit 0 (KMT, d3dkmthk.h)
 *   D3DKMT_OFFER_FLAGS.AllowDecommit               bit 1 = 0x2
 *
 * Copying the DXGI/UMD word into D3DKMT_OFFER_FLAGS.Value would ask for an
 * immediate offer (which may discard memory the GPU is still using) and would
 * NOT allow decommit. Translate field by field, never the whole word.
 * OfferImmediately stays 0: DXGI offers are deferred until earlier GPU work is
 * done, which is what the layer does without it.
 */
static D3DKMT_OFFER_FLAGS
kmt_offer_flags(UINT dxgi_flags)
{
    D3DKMT_OFFER_FLAGS flags;
    flags.Value = 0;
    flags.AllowDecommit = (dxgi_flags & DXGI_OFFER_RESOURCE_FLAG_ALLOW_DECOMMIT) ? 1u : 0u;
    return flags;
}

/* D3DDDI_RECLAIM_RESULT -> DXGI_RECLAIM_RESOURCE_RESULTS (same values; an
 * unknown value is never reported as "contents kept"). */
static DXGI_RECLAIM_RESOURCE_RESULTS
dxgi_reclaim_result(D3DDDI_RECLAIM_RESULT result)
{
    switch (result) {
    case D3DDDI_RECLAIM_RESULT_OK: return DXGI_RECLAIM_RESOURCE_RESULT_OK;
    case D3DDDI_RECLAIM_RESULT_DISCARDED: return DXGI_RECLAIM_RESOURCE_RESULT_DISCARDED;
    case D3DDDI_RECLAIM_RESULT_NOT_COMMITTED: return DXGI_RECLAIM_RESOURCE_RESULT_NOT_COMMITTED;
    }
    return DXGI_RECLAIM_RESOURCE_RESULT_DISCARDED;
}

/* IDXGIDevice4::OfferResources1. */
static HRESULT
OfferResources1(struct device *dev, UINT NumResources, struct resource *const *ppResources,
                DXGI_OFFER_RESOURCE_PRIORITY Priority, UINT Flags)
{
    D3DKMT_HANDLE handles[RESOURCES];
    D3DKMT_OFFER_PRIORITY priority;
    UINT i;

    if (NumResources == 0 || NumResources > RESOURCES || !ppResources || !kmt_priority(Priority, &priority) ||
        (Flags & ~(UINT)DXGI_OFFER_RESOURCE_FLAG_ALLOW_DECOMMIT))
        return E_INVALIDARG;
    for (i = 0; i < NumResources; i++) {
        if (!ppResources[i] || ppResources[i]->offered)
            return E_INVALIDARG;
        handles[i] = ppResources[i]->hResource;
    }

    if (dev->kmt) {
        D3DKMT_OFFERALLOCATIONS args;
        memset(&args, 0, sizeof(args));
        args.hDevice = dev->hDevice;
        args.pResources = handles; /* runtime resources, not HandleList */
        args.NumAllocations = NumResources;
        args.Priority = priority;
        args.Flags = kmt_offer_flags(Flags);
        HRESULT hr = hresult_from_ntstatus(D3DKMTOfferAllocations(&args));
        if (hr != S_OK)
            return hr;
        for (i = 0; i < NumResources; i++)
            printf("  offer   %-12s DXGI priority %-6s -> D3DKMT_OFFER_PRIORITY %d, "
                   "DXGI flags 0x%x -> D3DKMT_OFFER_FLAGS.Value 0x%x%s\n",
                   ppResources[i]->name, priority_name(Priority), (int)priority, Flags, args.Flags.Value,
                   args.Flags.AllowDecommit ? " (AllowDecommit)" : "");
    } else {
        /* Fallback: validated, accepted, nothing given up. */
        for (i = 0; i < NumResources; i++)
            printf("  offer   %-12s %-6s accepted (fallback: nothing is offered)\n", ppResources[i]->name,
                   priority_name(Priority));
    }
    for (i = 0; i < NumResources; i++)
        ppResources[i]->offered = 1;
    return S_OK;
}

/* IDXGIDevice4::ReclaimResources1. pResults may be NULL (the caller then
 * overwrites every resource); the runtime asks the kernel for results anyway,
 * because it must know which resources lost their memory. */
static HRESULT
ReclaimResources1(struct device *dev, UINT NumResources, struct resource *const *ppResources,
                  DXGI_RECLAIM_RESOURCE_RESULTS *pResults)
{
    D3DKMT_HANDLE handles[RESOURCES];
    D3DDDI_RECLAIM_RESULT results[RESOURCES];
    UINT i;

    if (NumResources == 0 || NumResources > RESOURCES || !ppResources)
        return E_INVALIDARG;
    for (i = 0; i < NumResources; i++) {
        if (!ppResources[i])
            return E_INVALIDARG;
        handles[i] = ppResources[i]->hResource;
        results[i] = D3DDDI_RECLAIM_RESULT_OK; /* the fallback's answer: nothing was given up */
    }

    if (dev->kmt) {
        D3DKMT_RECLAIMALLOCATIONS2 args;
        memset(&args, 0, sizeof(args));
        args.hPagingQueue = dev->hPagingQueue; /* a paging queue, not the device */
        args.NumAllocations = NumResources;
        args.pResources = handles;
        args.pResults = results; /* the D3DDDI_RECLAIM_RESULT member of the union */
        NTSTATUS status = D3DKMTReclaimAllocations2(&args);
        if (status == STATUS_DEVICE_REMOVED) {
            /* Every result is DISCARDED: the contents are gone with the device. */
            for (i = 0; i < NumResources; i++) {
                ppResources[i]->offered = 0;
                ppResources[i]->layout = VK_IMAGE_LAYOUT_UNDEFINED;
                if (pResults)
                    pResults[i] = DXGI_RECLAIM_RESOURCE_RESULT_DISCARDED;
            }
            return DXGI_ERROR_DEVICE_REMOVED;
        }
        if (!NT_SUCCESS(status))
            return hresult_from_ntstatus(status);
        /* D3D12-style paging fence: GPU work that uses these resources waits for
         * PagingFenceValue on hSyncObject (0: nothing to wait for). The CPU
         * may map them at once. */
        if (args.PagingFenceValue > dev->paging_wait)
            dev->paging_wait = args.PagingFenceValue;
        printf("  reclaim: PagingFenceValue %" PRIu64 "\n", (uint64_t)args.PagingFenceValue);
    }
    for (i = 0; i < NumResources; i++) {
        DXGI_RECLAIM_RESOURCE_RESULTS r = dxgi_reclaim_result(results[i]);
        ppResources[i]->offered = 0;
        if (r == DXGI_RECLAIM_RESOURCE_RESULT_DISCARDED)
            ppResources[i]->layout = VK_IMAGE_LAYOUT_UNDEFINED; /* a new resource now */
        if (pResults)
            pResults[i] = r;
    }
    return S_OK;
}

/* IDXGIDevice2::OfferResources / ReclaimResources (DXGI 1.2): the same without
 * flags and with the BOOL form. (An app must not mix the two generations on one
 * resource; the runtime here would not notice.) */
static HRESULT
OfferResources(struct device *dev, UINT NumResources, struct resource *const *ppResources,
               DXGI_OFFER_RESOURCE_PRIORITY Priority)
{
    return OfferResources1(dev, NumResources, ppResources, Priority, 0);
}

static HRESULT
ReclaimResources(struct device *dev, UINT NumResources, struct resource *const *ppResources, BOOL *pDiscarded)
{
    DXGI_RECLAIM_RESOURCE_RESULTS results[RESOURCES];
    HRESULT hr = ReclaimResources1(dev, NumResources, ppResources, results);
    if (pDiscarded && (hr == S_OK || hr == DXGI_ERROR_DEVICE_REMOVED))
        for (UINT i = 0; i < NumResources; i++)
            pDiscarded[i] = results[i] != DXGI_RECLAIM_RESOURCE_RESULT_OK; /* no decommit without flags */
    return hr;
}

/* ------------------------------------------------------------------------- */
/* Vulkan plumbing                                                           */
/* ------------------------------------------------------------------------- */

/* "Video memory": device-local and, where there is such a type, not
 * host-visible (what a D3D default-usage resource gets). */
static uint32_t
memory_type(const struct device *dev, uint32_t bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid)
{
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < dev->memory_properties.memoryTypeCount; i++) {
            VkMemoryPropertyFlags f = dev->memory_properties.memoryTypes[i].propertyFlags;
            if ((bits & (1u << i)) && (f & want) == want && (pass == 1 || !(f & avoid)))
                return i;
        }
    fprintf(stderr, "d3dkmt_port: no suitable memory type\n");
    exit(1);
}

static int
has_extension(VkPhysicalDevice physical, const char *name)
{
    uint32_t n = 0;
    int found = 0;
    vkEnumerateDeviceExtensionProperties(physical, NULL, &n, NULL);
    VkExtensionProperties *exts = calloc(n ? n : 1, sizeof(*exts));
    if (!exts)
        return 0;
    vkEnumerateDeviceExtensionProperties(physical, NULL, &n, exts);
    for (uint32_t i = 0; i < n; i++)
        found |= strcmp(exts[i].extensionName, name) == 0;
    free(exts);
    return found;
}

static void
create_device(struct device *dev)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "d3dkmt_port",
                             .apiVersion = VK_API_VERSION_1_3};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    CHECK(vkCreateInstance(&ici, NULL, &dev->instance));
    uint32_t count = 1;
    VkResult r = vkEnumeratePhysicalDevices(dev->instance, &count, &dev->physical);
    if (r < 0 || count == 0) {
        fprintf(stderr, "d3dkmt_port: no Vulkan device\n");
        exit(1);
    }
    vkGetPhysicalDeviceMemoryProperties(dev->physical, &dev->memory_properties);

    /* Enable the extension where the layer offers it; otherwise fall back. */
    dev->kmt = has_extension(dev->physical, VK_KMT_OFFER_RECLAIM_EXTENSION_NAME);
    float priority = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = 0,
                                   .queueCount = 1, .pQueuePriorities = &priority};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .timelineSemaphore = VK_TRUE};
    const char *names[] = {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f12,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = dev->kmt ? 1u : 0u, .ppEnabledExtensionNames = names};
    CHECK(vkCreateDevice(dev->physical, &dci, NULL, &dev->device));
    vkGetDeviceQueue(dev->device, 0, 0, &dev->queue);
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .queueFamilyIndex = 0};
    CHECK(vkCreateCommandPool(dev->device, &pci, NULL, &dev->pool));

    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = READBACK_SLOT * RESOURCES,
                              .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    CHECK(vkCreateBuffer(dev->device, &bci, NULL, &dev->readback));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, dev->readback, &req);
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
        .memoryTypeIndex = memory_type(dev, req.memoryTypeBits,
                                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0)};
    CHECK(vkAllocateMemory(dev->device, &mai, NULL, &dev->readback_memory));
    CHECK(vkBindBufferMemory(dev->device, dev->readback, dev->readback_memory, 0));

    if (!dev->kmt) {
        printf("d3dkmt_port: VK_KMT_offer_reclaim is absent: fallback (offers are accepted and do nothing, "
               "every reclaim reports OK)\n");
        return;
    }
    /* The D3DKMT side: a device handle for the VkDevice, a paging queue, and
     * the timeline semaphore behind its sync object. */
    CHECK_NT(VkKmtOpenDevice(dev->device, vkGetDeviceProcAddr, &dev->hDevice));
    D3DKMT_CREATEPAGINGQUEUE cq;
    memset(&cq, 0, sizeof(cq));
    cq.hDevice = dev->hDevice;
    cq.Priority = D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL;
    cq.PhysicalAdapterIndex = 0;
    CHECK_NT(D3DKMTCreatePagingQueue(&cq));
    dev->hPagingQueue = cq.hPagingQueue;
    dev->hSyncObject = cq.hSyncObject;
    CHECK_NT(VkKmtGetSyncObjectSemaphore(dev->hSyncObject, &dev->paging));
    dev->get_statistics =
        (PFN_vkGetOfferReclaimStatisticsKMT)vkGetDeviceProcAddr(dev->device, "vkGetOfferReclaimStatisticsKMT");
    printf("d3dkmt_port: VK_KMT_offer_reclaim enabled; hDevice 0x%08x, hPagingQueue 0x%08x, hSyncObject 0x%08x\n",
           dev->hDevice, dev->hPagingQueue, dev->hSyncObject);
}

/* Creates (or re-creates) a resource's Vulkan objects and D3DKMT handle. */
static void
create_resource(struct device *dev, struct resource *res)
{
    VkMemoryRequirements req;
    if (res->is_texture) {
        VkImageCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO, .imageType = VK_IMAGE_TYPE_2D,
                                 .format = VK_FORMAT_R8G8B8A8_UINT, .extent = {TEXTURE_SIZE, TEXTURE_SIZE, 1},
                                 .mipLevels = 1, .arrayLayers = 1, .samples = VK_SAMPLE_COUNT_1_BIT,
                                 .tiling = VK_IMAGE_TILING_OPTIMAL,
                                 .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
                                          VK_IMAGE_USAGE_SAMPLED_BIT};
        CHECK(vkCreateImage(dev->device, &ici, NULL, &res->image));
        vkGetImageMemoryRequirements(dev->device, res->image, &req);
    } else {
        VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = BUFFER_SIZE,
                                  .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                           VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
        CHECK(vkCreateBuffer(dev->device, &bci, NULL, &res->buffer));
        vkGetBufferMemoryRequirements(dev->device, res->buffer, &req);
    }
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                .memoryTypeIndex = memory_type(dev, req.memoryTypeBits,
                                                               VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)};
    CHECK(vkAllocateMemory(dev->device, &mai, NULL, &res->memory));
    if (res->is_texture) {
        CHECK(vkBindImageMemory(dev->device, res->image, res->memory, 0));
        if (dev->kmt)
            CHECK_NT(VkKmtRegisterImage(dev->hDevice, res->image, &res->hResource));
    } else {
        CHECK(vkBindBufferMemory(dev->device, res->buffer, res->memory, 0));
        if (dev->kmt)
            CHECK_NT(VkKmtRegisterBuffer(dev->hDevice, res->buffer, &res->hResource));
    }
    res->layout = VK_IMAGE_LAYOUT_UNDEFINED;
    res->offered = 0;
}

/* NOT_COMMITTED: the resource can only be released. Close the D3DKMT handle
 * before the Vulkan objects go (their values may be reused). */
static void
release_resource(struct device *dev, struct resource *res)
{
    if (res->hResource)
        CHECK_NT(VkKmtCloseHandle(res->hResource));
    res->hResource = 0;
    if (res->image)
        vkDestroyImage(dev->device, res->image, NULL);
    if (res->buffer)
        vkDestroyBuffer(dev->device, res->buffer, NULL);
    vkFreeMemory(dev->device, res->memory, NULL);
    res->image = VK_NULL_HANDLE;
    res->buffer = VK_NULL_HANDLE;
    res->memory = VK_NULL_HANDLE;
}

static VkCommandBuffer
begin(struct device *dev)
{
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = dev->pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1};
    VkCommandBuffer cb;
    CHECK(vkAllocateCommandBuffers(dev->device, &cai, &cb));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    CHECK(vkBeginCommandBuffer(cb, &bi));
    return cb;
}

/* Submits and waits for completion. The first submission after a reclaim waits on the GPU for
 * the paging fence value it returned (the D3D12 MakeResident / paging-fence
 * pattern), with a VkTimelineSemaphoreSubmitInfo. */
static void
submit(struct device *dev, VkCommandBuffer cb)
{
    CHECK(vkEndCommandBuffer(cb));
    uint64_t wait_value = dev->paging_wait;
    VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
    VkTimelineSemaphoreSubmitInfo values = {.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                            .waitSemaphoreValueCount = 1, .pWaitSemaphoreValues = &wait_value};
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
    if (wait_value) {
        si.pNext = &values;
        si.waitSemaphoreCount = 1;
        si.pWaitSemaphores = &dev->paging;
        si.pWaitDstStageMask = &stage;
        printf("  submit waits for paging fence value %" PRIu64 " on hSyncObject\n", wait_value);
        dev->paging_wait = 0;
    }
    CHECK(vkQueueSubmit(dev->queue, 1, &si, VK_NULL_HANDLE));
    /* Wait idle rather than on a fence: the layer then knows at once that the
     * work is done, so the next offers are not deferred (OFFER_PENDING) behind
     * it (docs/PORTING.md, "Testing the discard paths"). */
    CHECK(vkQueueWaitIdle(dev->queue));
    vkFreeCommandBuffers(dev->device, dev->pool, 1, &cb);
}

static void
image_barrier(VkCommandBuffer cb, VkImage image, VkImageLayout from, VkImageLayout to, VkAccessFlags src_access,
              VkAccessFlags dst_access)
{
    VkImageMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER, .srcAccessMask = src_access,
                              .dstAccessMask = dst_access, .oldLayout = from, .newLayout = to,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED, .image = image,
                              .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0, NULL, 0,
                         NULL, 1, &b);
}

/* Writes a resource's contents. A texture's old layout is whatever the runtime
 * tracked: UNDEFINED for a new or DISCARDED one (its contents are undefined). */
static void
record_generate(VkCommandBuffer cb, struct resource *res)
{
    if (res->is_texture) {
        image_barrier(cb, res->image, res->layout, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_ACCESS_SHADER_READ_BIT,
                      VK_ACCESS_TRANSFER_WRITE_BIT);
        VkClearColorValue color = {.uint32 = {res->pattern & 0xff, (res->pattern >> 8) & 0xff,
                                              (res->pattern >> 16) & 0xff, res->pattern >> 24}};
        VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
        vkCmdClearColorImage(cb, res->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &color, 1, &range);
        image_barrier(cb, res->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                      VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT);
        res->layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
    } else {
        vkCmdFillBuffer(cb, res->buffer, 0, VK_WHOLE_SIZE, res->pattern);
        VkBufferMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                                   .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                   .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT,
                                   .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                   .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED, .buffer = res->buffer,
                                   .size = VK_WHOLE_SIZE};
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0, NULL, 1,
                             &b, 0, NULL);
    }
}

/* Reads the first texel / word of each resource back and compares it with
 * what the runtime believes it holds. Returns how many match. */
static int
verify(struct device *dev, struct resource *res, int count)
{
    VkCommandBuffer cb = begin(dev);
    for (int i = 0; i < count; i++) {
        VkDeviceSize offset = (VkDeviceSize)i * READBACK_SLOT;
        if (res[i].is_texture) {
            image_barrier(cb, res[i].image, res[i].layout, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                          VK_ACCESS_SHADER_READ_BIT, VK_ACCESS_TRANSFER_READ_BIT);
            VkBufferImageCopy region = {.bufferOffset = offset,
                                        .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                        .imageExtent = {1, 1, 1}};
            vkCmdCopyImageToBuffer(cb, res[i].image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, dev->readback, 1,
                                   &region);
            image_barrier(cb, res[i].image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, res[i].layout,
                          VK_ACCESS_TRANSFER_READ_BIT, VK_ACCESS_SHADER_READ_BIT);
        } else {
            VkBufferCopy region = {.srcOffset = 0, .dstOffset = offset, .size = 4};
            vkCmdCopyBuffer(cb, res[i].buffer, dev->readback, 1, &region);
        }
    }
    VkMemoryBarrier host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                            .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &host, 0, NULL, 0,
                         NULL);
    submit(dev, cb);

    void *data;
    int good = 0;
    CHECK(vkMapMemory(dev->device, dev->readback_memory, 0, VK_WHOLE_SIZE, 0, &data));
    for (int i = 0; i < count; i++) {
        uint32_t word;
        memcpy(&word, (const unsigned char *)data + (size_t)i * READBACK_SLOT, sizeof(word));
        if (word == res[i].pattern)
            good++;
        else
            printf("  %-12s holds 0x%08" PRIx32 ", expected 0x%08" PRIx32 "\n", res[i].name, word, res[i].pattern);
    }
    vkUnmapMemory(dev->device, dev->readback_memory);
    return good;
}

static void
print_heap(struct device *dev, const char *when)
{
    if (!dev->get_statistics)
        return;
    VkOfferReclaimStatisticsKMT st = {.sType = VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT};
    CHECK(dev->get_statistics(dev->device, &st));
    char budget[48] = "no budget: DISCARD is not pressure";
    if (st.heapBudget[0])
        snprintf(budget, sizeof(budget), "budget %.1f MiB", (double)st.heapBudget[0] / (1 << 20));
    printf("  %s: heap 0 holds %.1f MiB (%s); discards %" PRIu64 ", decommits %" PRIu64 "\n", when,
           (double)st.heapUsage[0] / (1 << 20), budget, st.discardCount, st.decommitCount);
}

/* ------------------------------------------------------------------------- */
/* The "application"                                                         */
/* ------------------------------------------------------------------------- */

int
main(void)
{
    struct device dev;
    memset(&dev, 0, sizeof(dev));
    create_device(&dev);

    /* Three resources an app would offer when it goes to the background. */
    struct resource res[RESOURCES] = {
        {.name = "glyph cache", .is_texture = 1, .pattern = 0x11223344u},
        {.name = "frame pool", .is_texture = 0, .pattern = 0x55667788u},
        {.name = "ui atlas", .is_texture = 1, .pattern = 0x99aabbccu},
    };
    struct resource *glyphs = &res[0], *frames = &res[1], *atlas = &res[2];
    VkCommandBuffer cb = begin(&dev);
    for (int i = 0; i < RESOURCES; i++) {
        create_resource(&dev, &res[i]);
        record_generate(cb, &res[i]);
    }
    submit(&dev, cb);
    printf("created and filled: glyph cache (texture, 4 MiB), frame pool (buffer, 4 MiB), ui atlas (texture, 4 MiB)\n");

    /* --- Round 1, DXGI 1.5: the app is minimised; offer what it can rebuild. --- */
    printf("round 1: IDXGIDevice4::OfferResources1 / ReclaimResources1\n");
    CHECK_HR(OfferResources1(&dev, 1, &glyphs, DXGI_OFFER_RESOURCE_PRIORITY_LOW,
                             DXGI_OFFER_RESOURCE_FLAG_ALLOW_DECOMMIT)); /* cheap to rebuild, may go entirely */
    CHECK_HR(OfferResources1(&dev, 1, &frames, DXGI_OFFER_RESOURCE_PRIORITY_NORMAL, 0));
    CHECK_HR(OfferResources1(&dev, 1, &atlas, DXGI_OFFER_RESOURCE_PRIORITY_HIGH, 0));
    print_heap(&dev, "after the offers");

    /* Memory pressure: on Windows another process's allocation makes VidMm
     * take offered memory back; here the layer's pressure policy sees this
     * process's heap usage go over BUDGET_MB. */
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = PRESSURE_SIZE,
                                .memoryTypeIndex = memory_type(&dev, ~0u, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)};
    VkDeviceMemory pressure;
    CHECK(vkAllocateMemory(dev.device, &mai, NULL, &pressure));
    print_heap(&dev, "another client allocated 10 MiB");
    vkFreeMemory(dev.device, pressure, NULL);

    /* Back in the foreground: reclaim everything in one call. */
    struct resource *all[RESOURCES] = {glyphs, frames, atlas};
    DXGI_RECLAIM_RESOURCE_RESULTS results[RESOURCES];
    CHECK_HR(ReclaimResources1(&dev, RESOURCES, all, results));
    int counts[3] = {0, 0, 0}, recreated = 0;
    cb = begin(&dev);
    for (int i = 0; i < RESOURCES; i++) {
        const char *action = "contents intact, used as is";
        counts[results[i]]++;
        switch (results[i]) {
        case DXGI_RECLAIM_RESOURCE_RESULT_OK:
            break;
        case DXGI_RECLAIM_RESOURCE_RESULT_DISCARDED:
            /* The memory is back, the contents are not: a new resource. */
            record_generate(cb, all[i]);
            action = "contents regenerated (image from VK_IMAGE_LAYOUT_UNDEFINED)";
            break;
        case DXGI_RECLAIM_RESOURCE_RESULT_NOT_COMMITTED:
            /* Gone: no map, bind or reclaim will ever succeed. Release it and
             * create it again (the DXGI docs' sample recreates the texture). */
            release_resource(&dev, all[i]);
            create_resource(&dev, all[i]);
            record_generate(cb, all[i]);
            recreated++;
            action = "released and recreated, contents regenerated";
            break;
        }
        printf("  %-12s %-14s -> %s\n", all[i]->name, result_name(results[i]), action);
    }
    submit(&dev, cb);
    int good1 = verify(&dev, res, RESOURCES);
    printf("  verified %d/%d resources hold their contents\n", good1, RESOURCES);

    /* --- Round 2, DXGI 1.2: the BOOL form. Each offer is reclaimed with the
     * call of its own generation (DXGI forbids mixing them). --- */
    printf("round 2: IDXGIDevice2::OfferResources / ReclaimResources\n");
    CHECK_HR(OfferResources(&dev, RESOURCES, all, DXGI_OFFER_RESOURCE_PRIORITY_NORMAL));
    BOOL discarded[RESOURCES];
    CHECK_HR(ReclaimResources(&dev, RESOURCES, all, discarded));
    int discarded2 = 0;
    cb = begin(&dev);
    for (int i = 0; i < RESOURCES; i++) {
        printf("  %-12s pDiscarded %s\n", all[i]->name, discarded[i] ? "TRUE  -> contents regenerated" : "FALSE");
        if (discarded[i]) {
            record_generate(cb, all[i]);
            discarded2++;
        }
    }
    submit(&dev, cb);
    int good2 = verify(&dev, res, RESOURCES);
    printf("  verified %d/%d resources hold their contents\n", good2, RESOURCES);

    if (dev.kmt && counts[0] == RESOURCES)
        printf("(every reclaim was OK: run with VK_KMT_OFFER_RECLAIM_DISCARD=pressure "
               "VK_KMT_OFFER_RECLAIM_BUDGET_MB=16 to see DISCARDED and NOT_COMMITTED)\n");
    printf("summary: %s ok=%d discarded=%d not_committed=%d recreated=%d verified=%d/%d round2_discarded=%d "
           "verified2=%d/%d\n",
           dev.kmt ? "extension" : "fallback", counts[0], counts[1], counts[2], recreated, good1, RESOURCES,
           discarded2, good2, RESOURCES);

    /* Teardown: the paging queue waits for its last fence value; closing the
     * device closes every handle it owns. Both before vkDestroyDevice. */
    if (dev.kmt) {
        D3DDDI_DESTROYPAGINGQUEUE dq = {dev.hPagingQueue};
        CHECK_NT(D3DKMTDestroyPagingQueue(&dq));
        CHECK_NT(VkKmtCloseDevice(dev.hDevice));
    }
    for (int i = 0; i < RESOURCES; i++) {
        res[i].hResource = 0; /* closed with the device */
        release_resource(&dev, &res[i]);
    }
    vkDestroyBuffer(dev.device, dev.readback, NULL);
    vkFreeMemory(dev.device, dev.readback_memory, NULL);
    vkDestroyCommandPool(dev.device, dev.pool, NULL);
    vkDestroyDevice(dev.device, NULL);
    vkDestroyInstance(dev.instance, NULL);
    if (good1 != RESOURCES || good2 != RESOURCES) {
        fprintf(stderr, "d3dkmt_port: a resource does not hold what the runtime believes it holds\n");
        return 1;
    }
    printf("d3dkmt_port: done\n");
    return 0;
}

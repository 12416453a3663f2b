/* SPDX-License-Identifier: MIT */
#ifndef VK_KMT_OFFER_RECLAIM_H_
#define VK_KMT_OFFER_RECLAIM_H_ 1

/*
 * VK_KMT_offer_reclaim -- the WDDM "offer / reclaim" contract
 * (D3DKMTOfferAllocations / D3DKMTReclaimAllocations2) as a Vulkan device
 * extension, implemented by the implicit layer VK_LAYER_KMT_offer_reclaim.
 *
 * Enable it in VkDeviceCreateInfo::ppEnabledExtensionNames and fetch the
 * commands with vkGetDeviceProcAddr. Every numeric value below equals its
 * D3DKMT / D3DDDI counterpart so ported code can cast between them.
 *
 * Private VkStructureType block: 1000999000 + n (no Khronos extension uses it):
 *   1000999000  VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT
 *   1000999001  VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT
 *   1000999002  VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT
 *   1000999003  VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT
 * VK_KMT_residency (vk_kmt_residency.h) continues it from 1000999004.
 */

#include <vulkan/vulkan_core.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VK_KMT_offer_reclaim 1
#define VK_KMT_OFFER_RECLAIM_SPEC_VERSION 1
#define VK_KMT_OFFER_RECLAIM_EXTENSION_NAME "VK_KMT_offer_reclaim"

#define VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT   ((VkStructureType)1000999000)
#define VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT ((VkStructureType)1000999001)
#define VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT         ((VkStructureType)1000999002)
#define VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT ((VkStructureType)1000999003)

/* How valuable offered contents are (= D3DKMT_OFFER_PRIORITY). LOW is discarded
 * first; AUTO lets the layer choose LOW/NORMAL/HIGH from the memory's own
 * (VK_EXT_memory_priority) priority: < 1/3 LOW, < 2/3 NORMAL, else HIGH. */
typedef enum VkOfferPriorityKMT {
    VK_OFFER_PRIORITY_LOW_KMT = 1,
    VK_OFFER_PRIORITY_NORMAL_KMT = 2,
    VK_OFFER_PRIORITY_HIGH_KMT = 3,
    VK_OFFER_PRIORITY_AUTO_KMT = 4,
    VK_OFFER_PRIORITY_MAX_ENUM_KMT = 0x7FFFFFFF
} VkOfferPriorityKMT;

/* Offer flags (= the bit positions of D3DKMT_OFFER_FLAGS, not of the UMD's
 * D3DDDI_OFFER_FLAGS). IMMEDIATELY: take effect now, without waiting for GPU
 * work submitted earlier. ALLOW_DECOMMIT: the layer may decommit the memory
 * under pressure; reclaim then reports NOT_COMMITTED. */
typedef enum VkOfferFlagBitsKMT {
    VK_OFFER_IMMEDIATELY_BIT_KMT = 0x00000001,
    VK_OFFER_ALLOW_DECOMMIT_BIT_KMT = 0x00000002,
    VK_OFFER_FLAG_BITS_MAX_ENUM_KMT = 0x7FFFFFFF
} VkOfferFlagBitsKMT;
typedef VkFlags VkOfferFlagsKMT;

/* Per-allocation outcome of a reclaim (= D3DDDI_RECLAIM_RESULT). */
typedef enum VkReclaimResultKMT {
    VK_RECLAIM_RESULT_OK_KMT = 0,            /* contents survived */
    VK_RECLAIM_RESULT_DISCARDED_KMT = 1,     /* contents are undefined; treat as new */
    VK_RECLAIM_RESULT_NOT_COMMITTED_KMT = 2, /* gone: free and recreate it */
    VK_RECLAIM_RESULT_MAX_ENUM_KMT = 0x7FFFFFFF
} VkReclaimResultKMT;

/* A D3D "runtime resource": a buffer or an image, acted on through the memory
 * bound to it. */
typedef struct VkOfferResourceKMT {
    VkObjectType objectType;   /* VK_OBJECT_TYPE_BUFFER or VK_OBJECT_TYPE_IMAGE */
    uint64_t     objectHandle; /* the VkBuffer / VkImage as uint64_t */
} VkOfferResourceKMT;

/* Arguments of vkOfferAllocationsKMT (= D3DKMT_OFFERALLOCATIONS). Exactly one of
 * pResources and pMemories is non-NULL, with allocationCount entries. */
typedef struct VkOfferAllocationsInfoKMT {
    VkStructureType           sType; /* VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT */
    const void*               pNext;
    uint32_t                  allocationCount;
    const VkOfferResourceKMT* pResources;
    const VkDeviceMemory*     pMemories;
    VkOfferPriorityKMT        priority;
    VkOfferFlagsKMT           flags;
} VkOfferAllocationsInfoKMT;

/* Arguments of vkReclaimAllocationsKMT (= D3DKMT_RECLAIMALLOCATIONS2). pResults
 * and pDiscarded are optional outputs of allocationCount entries; with both
 * NULL the caller must treat the contents as lost. */
typedef struct VkReclaimAllocationsInfoKMT {
    VkStructureType           sType; /* VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT */
    const void*               pNext;
    uint32_t                  allocationCount;
    const VkOfferResourceKMT* pResources;
    const VkDeviceMemory*     pMemories;
    VkReclaimResultKMT*       pResults;
    VkBool32*                 pDiscarded; /* VK_TRUE for DISCARDED and NOT_COMMITTED */
} VkReclaimAllocationsInfoKMT;

/* Where one VkDeviceMemory stands in the offer/reclaim state machine. */
typedef enum VkAllocationStatusKMT {
    VK_ALLOCATION_STATUS_RESIDENT_KMT = 0,
    VK_ALLOCATION_STATUS_OFFER_PENDING_KMT = 1, /* GPU work from before the offer may still run */
    VK_ALLOCATION_STATUS_OFFERED_KMT = 2,       /* demoted; the discard policy may act */
    VK_ALLOCATION_STATUS_DISCARDED_KMT = 3,
    VK_ALLOCATION_STATUS_DECOMMITTED_KMT = 4,
    VK_ALLOCATION_STATUS_EVICTED_KMT = 5,       /* VK_KMT_residency: residency count 0, contents kept */
    VK_ALLOCATION_STATUS_MAX_ENUM_KMT = 0x7FFFFFFF
} VkAllocationStatusKMT;

/* Output of vkGetAllocationStateKMT. */
typedef struct VkAllocationStateKMT {
    VkStructureType       sType; /* VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT */
    void*                 pNext;
    VkAllocationStatusKMT status;
    VkOfferPriorityKMT    offerPriority; /* 0 when not offered; AUTO is reported resolved */
    VkOfferFlagsKMT       offerFlags;
    float                 driverPriority;        /* the priority the driver has now */
    VkBool32              driverPriorityApplied; /* VK_FALSE where the driver lacks pageable memory */
    VkDeviceSize          size;
    uint32_t              memoryTypeIndex;
    uint32_t              heapIndex;
    uint32_t              discardCount; /* how many times its contents were discarded */
} VkAllocationStateKMT;

/* Output of vkGetOfferReclaimStatisticsKMT: the device's counters since
 * vkCreateDevice, what is offered now, and the budget model per heap. */
typedef struct VkOfferReclaimStatisticsKMT {
    VkStructureType sType; /* VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT */
    void*           pNext;
    uint64_t        offerCount;      /* allocations offered (a re-offer counts again) */
    uint64_t        reofferCount;    /* of which were already offered */
    uint64_t        reclaimCount;    /* allocations reclaimed */
    uint64_t        discardCount;    /* allocations whose contents were discarded */
    uint64_t        decommitCount;   /* allocations decommitted */
    uint64_t        bytesOffered;
    uint64_t        bytesDiscarded;  /* discarded and decommitted bytes */
    uint64_t        rejectedCallCount; /* offer/reclaim calls that failed validation */
    uint32_t        pendingCount;    /* allocations OFFER_PENDING now */
    uint32_t        offeredCount;    /* allocations OFFERED now */
    uint32_t        trackedCount;    /* live allocations the layer tracks */
    uint32_t        heapCount;
    VkDeviceSize    heapUsage[VK_MAX_MEMORY_HEAPS];  /* tracked bytes that still hold contents */
    VkDeviceSize    heapBudget[VK_MAX_MEMORY_HEAPS]; /* the pressure policy's budget */
} VkOfferReclaimStatisticsKMT;

/* Offers allocations: their contents may be paged out or discarded until they
 * are reclaimed. All-or-nothing: on VK_ERROR_VALIDATION_FAILED_EXT nothing
 * changed and a message names the first offending element. Never blocks. */
typedef VkResult (VKAPI_PTR *PFN_vkOfferAllocationsKMT)(VkDevice device, const VkOfferAllocationsInfoKMT* pOfferInfo);

/* Reclaims allocations. Writes per-allocation results and, in
 * *pPagingFenceValue, the value of the device's paging timeline semaphore
 * (vkGetPagingFenceKMT) to wait for on the GPU before using them; 0 when no
 * paging work was queued. pPagingFenceValue may be NULL. */
typedef VkResult (VKAPI_PTR *PFN_vkReclaimAllocationsKMT)(VkDevice device, const VkReclaimAllocationsInfoKMT* pReclaimInfo, uint64_t* pPagingFenceValue);

/* Returns the device's paging timeline semaphore. The layer owns it: the app
 * may wait on it but must not signal or destroy it. Also available to a
 * device that enabled only VK_KMT_residency (make-resident's fence values). */
typedef VkResult (VKAPI_PTR *PFN_vkGetPagingFenceKMT)(VkDevice device, VkSemaphore* pTimelineSemaphore);

/* Reads the state of one allocation. Also available to a device that enabled
 * only VK_KMT_residency (chain a VkAllocationResidencyKMT to read its
 * residency count and priority). */
typedef VkResult (VKAPI_PTR *PFN_vkGetAllocationStateKMT)(VkDevice device, VkDeviceMemory memory, VkAllocationStateKMT* pState);

/* Reads the device's counters (see VkOfferReclaimStatisticsKMT). */
typedef VkResult (VKAPI_PTR *PFN_vkGetOfferReclaimStatisticsKMT)(VkDevice device, VkOfferReclaimStatisticsKMT* pStatistics);

#ifndef VK_NO_PROTOTYPES
VKAPI_ATTR VkResult VKAPI_CALL vkOfferAllocationsKMT(VkDevice device, const VkOfferAllocationsInfoKMT* pOfferInfo);
VKAPI_ATTR VkResult VKAPI_CALL vkReclaimAllocationsKMT(VkDevice device, const VkReclaimAllocationsInfoKMT* pReclaimInfo, uint64_t* pPagingFenceValue);
VKAPI_ATTR VkResult VKAPI_CALL vkGetPagingFenceKMT(VkDevice device, VkSemaphore* pTimelineSemaphore);
VKAPI_ATTR VkResult VKAPI_CALL vkGetAllocationStateKMT(VkDevice device, VkDeviceMemory memory, VkAllocationStateKMT* pState);
VKAPI_ATTR VkResult VKAPI_CALL vkGetOfferReclaimStatisticsKMT(VkDevice device, VkOfferReclaimStatisticsKMT* pStatistics);
#endif

#ifdef __cplusplus
}
#endif

#endif /* VK_KMT_OFFER_RECLAIM_H_ */

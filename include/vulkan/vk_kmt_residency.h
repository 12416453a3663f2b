/* SPDX-License-Identifier: MIT */
#ifndef VK_KMT_RESIDENCY_H_
#define VK_KMT_RESIDENCY_H_ 1

/*
 * VK_KMT_residency -- the WDDM residency contract (ID3D12Device::MakeResident
 * / Evict / SetResidencyPriority, IDXGIAdapter3::QueryVideoMemoryInfo and
 * SetVideoMemoryReservation, D3DKMTMakeResident / D3DKMTEvict /
 * D3DKMTSetAllocationPriority / D3DKMTQueryVideoMemoryInfo and the budget /
 * trim notifications) as a Vulkan device extension, implemented by the
 * implicit layer VK_LAYER_KMT_offer_reclaim beside VK_KMT_offer_reclaim.
 *
 * Enable it in VkDeviceCreateInfo::ppEnabledExtensionNames (alone or with
 * VK_KMT_offer_reclaim) and fetch the commands with vkGetDeviceProcAddr. The
 * allocations are the same VkDeviceMemory handles; their state is read with
 * vkGetAllocationStateKMT (declared in vk_kmt_offer_reclaim.h, available to a
 * device that enabled either extension) with a VkAllocationResidencyKMT
 * chained to VkAllocationStateKMT::pNext, and make-resident's paging fence
 * values refer to the semaphore of vkGetPagingFenceKMT (also available to
 * either). Every numeric value equals its
 * D3DKMT / D3DDDI / DXGI / D3D12 counterpart so ported code can cast.
 *
 * Rules (each one a test; README "Decisions" says why where Windows is silent):
 *  - Every allocation starts resident with a residency count of 1.
 *    vkEvictKMT decrements it; at 0 the allocation is EVICTED: the driver
 *    priority drops to 0.0 (below every residency priority), its bytes leave
 *    the segment's usage, and its contents are kept. vkMakeResidentKMT
 *    increments it; 0 -> 1 makes it RESIDENT again with its residency
 *    priority. Evicting an allocation whose count is 0 ("evict underflow") is
 *    a validation error.
 *  - Offer/reclaim and residency calls do not mix on one allocation: evicted
 *    memory cannot be offered or reclaimed, and offered memory (OFFER_PENDING,
 *    OFFERED, DISCARDED, DECOMMITTED) cannot be made resident, evicted or
 *    given a residency priority until it is reclaimed (decommitted memory
 *    never again).
 *  - Validation is all-or-nothing: on VK_ERROR_VALIDATION_FAILED_EXT nothing
 *    changed and a message names the first offending element. A handle listed
 *    twice in one call is an error, as for offers.
 *  - Residency priority -> driver priority (VK_EXT_pageable_device_local_memory),
 *    monotonic: MINIMUM 0.01, LOW 0.25, NORMAL 0.5, HIGH 0.7, MAXIMUM 1.0,
 *    linear between them, 0.001 at 0 and 1.0 above MAXIMUM. Until a residency
 *    priority is set, the memory's own VK_EXT_memory_priority value applies;
 *    whichever of vkSetResidencyPriorityKMT / pPriorities and
 *    vkSetDeviceMemoryPriorityEXT came last wins.
 *  - Budgets: VK_EXT_memory_budget's heapBudget, or the layer setting
 *    BUDGET_MB per heap, or 80% of each heap; a segment group is the sum of its
 *    heaps (LOCAL: DEVICE_LOCAL heaps, NON_LOCAL: the others). Usage is the
 *    driver's heapUsage when the budget is the driver's, else the layer's
 *    count of bytes in live allocations that hold contents and are not evicted.
 *
 * Private VkStructureType values (continuing vk_kmt_offer_reclaim.h's block):
 *   1000999004  VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT
 *   1000999005  VK_STRUCTURE_TYPE_EVICT_INFO_KMT
 *   1000999006  VK_STRUCTURE_TYPE_VIDEO_MEMORY_INFO_KMT
 *   1000999007  VK_STRUCTURE_TYPE_BUDGET_NOTIFICATION_KMT
 *   1000999008  VK_STRUCTURE_TYPE_ALLOCATION_RESIDENCY_KMT
 */

#include <vulkan/vulkan_core.h>
#include <vulkan/vk_kmt_offer_reclaim.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VK_KMT_residency 1
#define VK_KMT_RESIDENCY_SPEC_VERSION 1
#define VK_KMT_RESIDENCY_EXTENSION_NAME "VK_KMT_residency"

#define VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT      ((VkStructureType)1000999004)
#define VK_STRUCTURE_TYPE_EVICT_INFO_KMT              ((VkStructureType)1000999005)
#define VK_STRUCTURE_TYPE_VIDEO_MEMORY_INFO_KMT       ((VkStructureType)1000999006)
#define VK_STRUCTURE_TYPE_BUDGET_NOTIFICATION_KMT     ((VkStructureType)1000999007)
#define VK_STRUCTURE_TYPE_ALLOCATION_RESIDENCY_KMT    ((VkStructureType)1000999008)

/* Residency priorities (= D3D12_RESIDENCY_PRIORITY = D3DDDI_ALLOCATIONPRIORITY).
 * Any 32-bit value is legal: the low 16 bits of e.g. HIGH + n order
 * allocations within a band. Plain uint32_t values (HIGH and MAXIMUM do not
 * fit a C enum). */
#define VK_RESIDENCY_PRIORITY_MINIMUM_KMT 0x28000000u
#define VK_RESIDENCY_PRIORITY_LOW_KMT     0x50000000u
#define VK_RESIDENCY_PRIORITY_NORMAL_KMT  0x78000000u
#define VK_RESIDENCY_PRIORITY_HIGH_KMT    0xa0000000u
#define VK_RESIDENCY_PRIORITY_MAXIMUM_KMT 0xc8000000u

/* Make-resident flags (= D3DDDI_MAKERESIDENT_FLAGS bit positions).
 * MUST_SUCCEED: make the memory resident even over budget; as in the WDK it
 * may only be set together with CANT_TRIM_FURTHER (a validation error
 * otherwise). CANT_TRIM_FURTHER alone changes nothing here: an over-budget
 * request fails with VK_ERROR_OUT_OF_DEVICE_MEMORY either way. */
typedef enum VkMakeResidentFlagBitsKMT {
    VK_MAKE_RESIDENT_CANT_TRIM_FURTHER_BIT_KMT = 0x00000001,
    VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT = 0x00000002,
    VK_MAKE_RESIDENT_FLAG_BITS_MAX_ENUM_KMT = 0x7FFFFFFF
} VkMakeResidentFlagBitsKMT;
typedef VkFlags VkMakeResidentFlagsKMT;

/* Evict flags (= D3DDDI_EVICT_FLAGS bit positions). Both are hints and are
 * accepted: ONLY_IF_NECESSARY is what a demoted pageable allocation already
 * is (the driver pages it out only under pressure); NOT_WRITTEN_TO would let
 * Windows drop the contents, but evicted memory here always keeps them. */
typedef enum VkEvictFlagBitsKMT {
    VK_EVICT_ONLY_IF_NECESSARY_BIT_KMT = 0x00000001,
    VK_EVICT_NOT_WRITTEN_TO_BIT_KMT = 0x00000002,
    VK_EVICT_FLAG_BITS_MAX_ENUM_KMT = 0x7FFFFFFF
} VkEvictFlagBitsKMT;
typedef VkFlags VkEvictFlagsKMT;

/* = DXGI_MEMORY_SEGMENT_GROUP = D3DKMT_MEMORY_SEGMENT_GROUP. LOCAL: the
 * DEVICE_LOCAL heaps; NON_LOCAL: the other heaps. */
typedef enum VkMemorySegmentGroupKMT {
    VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT = 0,
    VK_MEMORY_SEGMENT_GROUP_NON_LOCAL_KMT = 1,
    VK_MEMORY_SEGMENT_GROUP_MAX_ENUM_KMT = 0x7FFFFFFF
} VkMemorySegmentGroupKMT;

/* Arguments of vkMakeResidentKMT (= D3DDDI_MAKERESIDENT). pPriorities is
 * optional (allocationCount residency priorities, set before the memory is
 * made resident). */
typedef struct VkMakeResidentInfoKMT {
    VkStructureType        sType; /* VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT */
    const void*            pNext;
    uint32_t               allocationCount;
    const VkDeviceMemory*  pMemories;
    const uint32_t*        pPriorities;
    VkMakeResidentFlagsKMT flags;
} VkMakeResidentInfoKMT;

/* Arguments of vkEvictKMT (= D3DKMT_EVICT). */
typedef struct VkEvictInfoKMT {
    VkStructureType       sType; /* VK_STRUCTURE_TYPE_EVICT_INFO_KMT */
    const void*           pNext;
    uint32_t              allocationCount;
    const VkDeviceMemory* pMemories;
    VkEvictFlagsKMT       flags;
} VkEvictInfoKMT;

/* Output of vkQueryVideoMemoryInfoKMT (= DXGI_QUERY_VIDEO_MEMORY_INFO, same
 * field order; D3DKMT_QUERYVIDEOMEMORYINFO swaps the last two). */
typedef struct VkVideoMemoryInfoKMT {
    VkStructureType sType; /* VK_STRUCTURE_TYPE_VIDEO_MEMORY_INFO_KMT */
    void*           pNext;
    VkDeviceSize    budget;
    VkDeviceSize    currentUsage;
    VkDeviceSize    availableForReservation; /* = budget: the layer balances no other process */
    VkDeviceSize    currentReservation;      /* as set, capped at the budget */
} VkVideoMemoryInfoKMT;

/* What a budget notification callback receives (= D3DKMT_TRIMNOTIFICATION
 * and D3DKMT_BUDGETCHANGENOTIFICATION in one). bytesToTrim is how far the
 * segment's usage is over its budget, 0 for a budget change alone. Valid only
 * during the call. */
typedef struct VkBudgetNotificationKMT {
    VkStructureType         sType; /* VK_STRUCTURE_TYPE_BUDGET_NOTIFICATION_KMT */
    const void*             pNext;
    VkMemorySegmentGroupKMT segmentGroup;
    VkDeviceSize            budget;
    VkDeviceSize            currentUsage;
    VkDeviceSize            bytesToTrim;
} VkBudgetNotificationKMT;

/* Chained to VkAllocationStateKMT::pNext (vkGetAllocationStateKMT) on a
 * device that enabled VK_KMT_residency; a device without it leaves the
 * struct untouched, as it would any unknown struct. */
typedef struct VkAllocationResidencyKMT {
    VkStructureType sType; /* VK_STRUCTURE_TYPE_ALLOCATION_RESIDENCY_KMT */
    void*           pNext;
    uint32_t        residencyCount;    /* 0: EVICTED */
    uint32_t        residencyPriority; /* as last set; 0 when none was (the memory's own priority applies) */
} VkAllocationResidencyKMT;

/* Called on a layer thread (one per device, running only while a callback is
 * registered; setting BUDGET_POLL_MS, default 500 ms) when a segment's budget
 * changes by more than 1/64, and once per poll interval while the segment's
 * usage is over its budget and has grown since the last notification. Never
 * with a layer lock held (the callback may call any command, vkUnregister-
 * BudgetNotificationKMT included), never after vkUnregisterBudgetNotificationKMT
 * of its cookie returned. */
typedef void (VKAPI_PTR *PFN_vkBudgetNotificationCallbackKMT)(const VkBudgetNotificationKMT* pNotification,
                                                              void* pUserData);

/* Increments the residency count of each allocation (0 -> 1: RESIDENT again).
 * If a segment's usage plus the bytes that would become resident exceeds its
 * budget and MUST_SUCCEED is not set: VK_ERROR_OUT_OF_DEVICE_MEMORY, the
 * excess in *pBytesToTrim, nothing changed. Otherwise VK_SUCCESS and
 * *pBytesToTrim = how far over budget the segments of the allocations now are
 * (0 if under). *pPagingFenceValue: 0 when no paging work is queued for these
 * allocations, else the value of the paging timeline semaphore
 * (vkGetPagingFenceKMT) to wait for before GPU use. Both outputs may be NULL. */
typedef VkResult (VKAPI_PTR *PFN_vkMakeResidentKMT)(VkDevice device, const VkMakeResidentInfoKMT* pMakeResidentInfo,
                                                    uint64_t* pPagingFenceValue, VkDeviceSize* pBytesToTrim);

/* Decrements the residency count of each allocation (-> 0: EVICTED).
 * *pBytesToTrim (may be NULL): how far over budget the segments of the
 * allocations still are. */
typedef VkResult (VKAPI_PTR *PFN_vkEvictKMT)(VkDevice device, const VkEvictInfoKMT* pEvictInfo,
                                             VkDeviceSize* pBytesToTrim);

/* Sets residency priorities (applied to the driver now for resident memory,
 * at make-resident for evicted memory). */
typedef VkResult (VKAPI_PTR *PFN_vkSetResidencyPriorityKMT)(VkDevice device, uint32_t allocationCount,
                                                            const VkDeviceMemory* pMemories,
                                                            const uint32_t* pPriorities);

/* Budget, usage and reservation of a segment group (budgets re-read now). */
typedef VkResult (VKAPI_PTR *PFN_vkQueryVideoMemoryInfoKMT)(VkDevice device, VkMemorySegmentGroupKMT segmentGroup,
                                                            VkVideoMemoryInfoKMT* pVideoMemoryInfo);

/* Sets the segment group's reservation (a hint, reported capped at the budget). */
typedef VkResult (VKAPI_PTR *PFN_vkSetVideoMemoryReservationKMT)(VkDevice device, VkMemorySegmentGroupKMT segmentGroup,
                                                                 VkDeviceSize reservation);

/* Registers a budget notification callback; *pCookie (never 0) unregisters it. */
typedef VkResult (VKAPI_PTR *PFN_vkRegisterBudgetNotificationKMT)(VkDevice device,
                                                                  PFN_vkBudgetNotificationCallbackKMT pfnCallback,
                                                                  void* pUserData, uint64_t* pCookie);

/* Unregisters a callback. When it returns the callback is not running and
 * will not run again: a call in progress on the layer's thread is waited
 * for, except when this is called from inside that callback (it then returns
 * at once, and the callback is not called again after it returns). */
typedef void (VKAPI_PTR *PFN_vkUnregisterBudgetNotificationKMT)(VkDevice device, uint64_t cookie);

#ifndef VK_NO_PROTOTYPES
VKAPI_ATTR VkResult VKAPI_CALL vkMakeResidentKMT(VkDevice device, const VkMakeResidentInfoKMT* pMakeResidentInfo,
                                                 uint64_t* pPagingFenceValue, VkDeviceSize* pBytesToTrim);
VKAPI_ATTR VkResult VKAPI_CALL vkEvictKMT(VkDevice device, const VkEvictInfoKMT* pEvictInfo, VkDeviceSize* pBytesToTrim);
VKAPI_ATTR VkResult VKAPI_CALL vkSetResidencyPriorityKMT(VkDevice device, uint32_t allocationCount,
                                                         const VkDeviceMemory* pMemories, const uint32_t* pPriorities);
VKAPI_ATTR VkResult VKAPI_CALL vkQueryVideoMemoryInfoKMT(VkDevice device, VkMemorySegmentGroupKMT segmentGroup,
                                                         VkVideoMemoryInfoKMT* pVideoMemoryInfo);
VKAPI_ATTR VkResult VKAPI_CALL vkSetVideoMemoryReservationKMT(VkDevice device, VkMemorySegmentGroupKMT segmentGroup,
                                                              VkDeviceSize reservation);
VKAPI_ATTR VkResult VKAPI_CALL vkRegisterBudgetNotificationKMT(VkDevice device,
                                                               PFN_vkBudgetNotificationCallbackKMT pfnCallback,
                                                               void* pUserData, uint64_t* pCookie);
VKAPI_ATTR void VKAPI_CALL vkUnregisterBudgetNotificationKMT(VkDevice device, uint64_t cookie);
#endif

#ifdef __cplusplus
}
#endif

#endif /* VK_KMT_RESIDENCY_H_ */

/* SPDX-License-Identifier: MIT */
/*
 * The WDK layouts of the offer / reclaim structs, written as plain integers,
 * for d3dkmt_layout.c / .cpp to compare vk_kmt/d3dkmt.h with, field by field,
 * on whatever target they are compiled for.
 *
 * Source: the WDK headers as Microsoft publishes them for Linux (libdxg's
 * d3dkmthk.h / d3dukmdt.h) and the learn.microsoft.com syntax blocks. Every
 * pointer field there is D3DKMT_PTR(Type, Name): outside Windows a union with
 * an 8-aligned UINT64, so the layout is the x64 one on 32-bit targets too
 * (kmt_wdk_fixed_*); on Windows a plain pointer, which a 32-bit build lays out
 * with 4 bytes (kmt_wdk_x86_*). PagingFenceValue is D3DKMT_ALIGN64 in both.
 * The pointer-sized fields: OFFERALLOCATIONS pResources, HandleList;
 * RECLAIMALLOCATIONS pResources, HandleList, pDiscarded; RECLAIMALLOCATIONS2
 * pResources, HandleList, pDiscarded/pResults; CREATEPAGINGQUEUE
 * FenceValueCPUVirtualAddress.
 */
#ifndef KMT_WDK_REFERENCE_H
#define KMT_WDK_REFERENCE_H

#include <stdint.h>

#ifdef __cplusplus
#define KMT_ALIGN8 alignas(8)
#else
#define KMT_ALIGN8 _Alignas(8)
#endif

/* Fixed layout: a pointer field is an 8-aligned 64-bit slot. */
struct kmt_wdk_fixed_offerallocations {
    uint32_t hDevice;
    KMT_ALIGN8 uint64_t pResources;
    KMT_ALIGN8 uint64_t HandleList;
    uint32_t NumAllocations;
    int32_t Priority;
    uint32_t Flags;
};
struct kmt_wdk_fixed_reclaimallocations {
    uint32_t hDevice;
    KMT_ALIGN8 uint64_t pResources;
    KMT_ALIGN8 uint64_t HandleList;
    KMT_ALIGN8 uint64_t pDiscarded;
    uint32_t NumAllocations;
};
struct kmt_wdk_fixed_reclaimallocations2 {
    uint32_t hPagingQueue;
    uint32_t NumAllocations;
    KMT_ALIGN8 uint64_t pResources;
    KMT_ALIGN8 uint64_t HandleList;
    KMT_ALIGN8 uint64_t pResults; /* union { pDiscarded; pResults; AlignUnionTo64 } */
    KMT_ALIGN8 uint64_t PagingFenceValue;
};
struct kmt_wdk_fixed_createpagingqueue {
    uint32_t hDevice;
    int32_t Priority;
    uint32_t hPagingQueue;
    uint32_t hSyncObject;
    KMT_ALIGN8 uint64_t FenceValueCPUVirtualAddress;
    uint32_t PhysicalAdapterIndex;
};

/* 32-bit Windows: 4-byte pointers. */
struct kmt_wdk_x86_offerallocations {
    uint32_t hDevice;
    uint32_t pResources;
    uint32_t HandleList;
    uint32_t NumAllocations;
    int32_t Priority;
    uint32_t Flags;
};
struct kmt_wdk_x86_reclaimallocations {
    uint32_t hDevice;
    uint32_t pResources;
    uint32_t HandleList;
    uint32_t pDiscarded;
    uint32_t NumAllocations;
};
struct kmt_wdk_x86_reclaimallocations2 {
    uint32_t hPagingQueue;
    uint32_t NumAllocations;
    uint32_t pResources;
    uint32_t HandleList;
    uint32_t pResults;
    KMT_ALIGN8 uint64_t PagingFenceValue;
};
struct kmt_wdk_x86_createpagingqueue {
    uint32_t hDevice;
    int32_t Priority;
    uint32_t hPagingQueue;
    uint32_t hSyncObject;
    uint32_t FenceValueCPUVirtualAddress;
    uint32_t PhysicalAdapterIndex;
};

/* The layout this target must have: the x64 / fixed one wherever pointers
 * are 64-bit or the WDK's fixed D3DKMT_PTR applies, else the x86 one. */
#if VK_KMT_D3DKMT_FIXED_LAYOUT || UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
#define KMT_WDK(name) struct kmt_wdk_fixed_##name
#define KMT_WDK_POINTER_SLOT 8
#else
#define KMT_WDK(name) struct kmt_wdk_x86_##name
#define KMT_WDK_POINTER_SLOT 4
#endif

/* KMT_SAME(type, name, field): vk_kmt/d3dkmt.h's <type>::<field> sits where
 * the WDK's does. KMT_SAME_SIZE(type, name): same size. */
#define KMT_SAME(type, name, field)                                      \
    KMT_STATIC_ASSERT(offsetof(type, field) == offsetof(KMT_WDK(name), field), \
                      #type "::" #field " is not where the WDK has it")
#define KMT_SAME_SIZE(type, name) \
    KMT_STATIC_ASSERT(sizeof(type) == sizeof(KMT_WDK(name)), "sizeof(" #type ") differs from the WDK")

/* Every struct, every field. */
#define KMT_CHECK_WDK_LAYOUTS()                                                     \
    KMT_SAME_SIZE(D3DKMT_OFFERALLOCATIONS, offerallocations);                       \
    KMT_SAME(D3DKMT_OFFERALLOCATIONS, offerallocations, hDevice);                   \
    KMT_SAME(D3DKMT_OFFERALLOCATIONS, offerallocations, pResources);                \
    KMT_SAME(D3DKMT_OFFERALLOCATIONS, offerallocations, HandleList);                \
    KMT_SAME(D3DKMT_OFFERALLOCATIONS, offerallocations, NumAllocations);            \
    KMT_SAME(D3DKMT_OFFERALLOCATIONS, offerallocations, Priority);                  \
    KMT_SAME(D3DKMT_OFFERALLOCATIONS, offerallocations, Flags);                     \
    KMT_SAME_SIZE(D3DKMT_RECLAIMALLOCATIONS, reclaimallocations);                   \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS, reclaimallocations, hDevice);               \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS, reclaimallocations, pResources);            \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS, reclaimallocations, HandleList);            \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS, reclaimallocations, pDiscarded);            \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS, reclaimallocations, NumAllocations);        \
    KMT_SAME_SIZE(D3DKMT_RECLAIMALLOCATIONS2, reclaimallocations2);                 \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS2, reclaimallocations2, hPagingQueue);        \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS2, reclaimallocations2, NumAllocations);      \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS2, reclaimallocations2, pResources);          \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS2, reclaimallocations2, HandleList);          \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS2, reclaimallocations2, pResults);            \
    KMT_STATIC_ASSERT(offsetof(D3DKMT_RECLAIMALLOCATIONS2, pDiscarded) ==           \
                      offsetof(KMT_WDK(reclaimallocations2), pResults), "pDiscarded"); \
    KMT_SAME(D3DKMT_RECLAIMALLOCATIONS2, reclaimallocations2, PagingFenceValue);    \
    KMT_SAME_SIZE(D3DKMT_CREATEPAGINGQUEUE, createpagingqueue);                     \
    KMT_SAME(D3DKMT_CREATEPAGINGQUEUE, createpagingqueue, hDevice);                 \
    KMT_SAME(D3DKMT_CREATEPAGINGQUEUE, createpagingqueue, Priority);                \
    KMT_SAME(D3DKMT_CREATEPAGINGQUEUE, createpagingqueue, hPagingQueue);            \
    KMT_SAME(D3DKMT_CREATEPAGINGQUEUE, createpagingqueue, hSyncObject);             \
    KMT_SAME(D3DKMT_CREATEPAGINGQUEUE, createpagingqueue, FenceValueCPUVirtualAddress); \
    KMT_SAME(D3DKMT_CREATEPAGINGQUEUE, createpagingqueue, PhysicalAdapterIndex);    \
    KMT_STATIC_ASSERT(sizeof(D3DDDI_DESTROYPAGINGQUEUE) == 4, "D3DDDI_DESTROYPAGINGQUEUE"); \
    KMT_STATIC_ASSERT(sizeof(D3DKMT_OFFER_FLAGS) == 4 && sizeof(D3DDDI_OFFER_FLAGS) == 4, "offer flags"); \
    KMT_STATIC_ASSERT(sizeof(D3DKMT_OFFER_PRIORITY) == 4 && sizeof(D3DDDI_OFFER_PRIORITY) == 4 &&   \
                      sizeof(D3DDDI_PAGINGQUEUE_PRIORITY) == 4 && sizeof(D3DDDI_RECLAIM_RESULT) == 4, \
                      "enums are 32 bits")

/* In the fixed layout every pointer field is the WDK's union: the pointer and
 * an 8-byte Name##_Align member at the same offset. */
#define KMT_SAME_SLOT(type, field)                                                        \
    KMT_STATIC_ASSERT(offsetof(type, field##_Align) == offsetof(type, field) &&            \
                      sizeof(((type*)0)->field##_Align) == 8, #type "::" #field "_Align")
#define KMT_CHECK_WDK_POINTER_SLOTS()                                         \
    KMT_SAME_SLOT(D3DKMT_OFFERALLOCATIONS, pResources);                       \
    KMT_SAME_SLOT(D3DKMT_OFFERALLOCATIONS, HandleList);                       \
    KMT_SAME_SLOT(D3DKMT_RECLAIMALLOCATIONS, pResources);                     \
    KMT_SAME_SLOT(D3DKMT_RECLAIMALLOCATIONS, HandleList);                     \
    KMT_SAME_SLOT(D3DKMT_RECLAIMALLOCATIONS, pDiscarded);                     \
    KMT_SAME_SLOT(D3DKMT_RECLAIMALLOCATIONS2, pResources);                    \
    KMT_SAME_SLOT(D3DKMT_RECLAIMALLOCATIONS2, HandleList);                    \
    KMT_STATIC_ASSERT(offsetof(D3DKMT_RECLAIMALLOCATIONS2, AlignUnionTo64) ==  \
                      offsetof(D3DKMT_RECLAIMALLOCATIONS2, pResults), "AlignUnionTo64"); \
    KMT_SAME_SLOT(D3DKMT_CREATEPAGINGQUEUE, FenceValueCPUVirtualAddress)

#endif

/* SPDX-License-Identifier: MIT */
/*
 * vk_kmt/d3dkmt.h -- D3DKMT offer/reclaim for code ported from Windows, on top
 * of the VK_KMT_offer_reclaim Vulkan device extension.
 *
 * A single-header library (C11; the declarations also compile as C++):
 *
 *   #include <vk_kmt/d3dkmt.h>                 everywhere: types + declarations
 *
 *   #define VK_KMT_D3DKMT_IMPLEMENTATION       in exactly ONE C (or C++) file
 *   #include <vk_kmt/d3dkmt.h>                 of the program: the code
 *
 * The implementation uses POSIX threads: build and link with -pthread (CMake:
 * Threads::Threads). It calls Vulkan only through the PFN_vkGetDeviceProcAddr
 * handed to VkKmtOpenDevice, so it needs no libvulkan symbols and works with
 * VK_NO_PROTOTYPES.
 *
 * What it gives ported code (DXVK, Wine, vkd3d-proton ...):
 *
 *  1. The WDK names (struct and enum tags included), field orders, types and
 *     numeric values of the offer / reclaim / paging-queue part of
 *     d3dkmthk.h and d3dukmdt.h, with the UMD-level D3DDDI_OFFER_PRIORITY and
 *     D3DDDI_OFFER_FLAGS for ported drivers. Pointer fields follow the WDK's
 *     D3DKMT_PTR: on every non-Windows target, 32-bit ones included, the
 *     structs have the Windows x64 sizes and offsets (which are also the fixed
 *     layouts of the WSL dxgkrnl uapi); on 32-bit Windows the x86 ones.
 *     Static asserts after the type section check every size and offset.
 *
 *  2. A process-wide, thread-safe handle registry (the VkKmt* functions) that
 *     hands out 32-bit D3DKMT_HANDLEs for a VkDevice, its VkDeviceMemory
 *     ("allocations"), VkBuffer / VkImage ("runtime resources"), and the
 *     paging queues / sync objects D3DKMTCreatePagingQueue makes.
 *
 *  3. D3DKMTOfferAllocations, D3DKMTReclaimAllocations,
 *     D3DKMTReclaimAllocations2, D3DKMTCreatePagingQueue and
 *     D3DKMTDestroyPagingQueue, implemented with vkOfferAllocationsKMT,
 *     vkReclaimAllocationsKMT, vkGetPagingFenceKMT and vkWaitSemaphores.
 *
 *  4. Residency (its own section, over VK_KMT_residency): D3DDDI_MAKERESIDENT,
 *     D3DKMT_EVICT, D3DKMT_SETALLOCATIONPRIORITY, D3DKMT_QUERYVIDEOMEMORYINFO,
 *     the trim and budget-change notification structs, and D3DKMTMakeResident,
 *     D3DKMTEvict, D3DKMTSetAllocationPriority, D3DKMTQueryVideoMemoryInfo,
 *     D3DKMTRegister/UnregisterTrimNotification and
 *     D3DKMTRegister/UnregisterBudgetChangeNotification.
 *
 * Opting out where the build already has the Windows types (Wine, MinGW, the
 * WDK). Define before including:
 *   VK_KMT_D3DKMT_NO_BASE_TYPES  do not typedef UINT, BOOL, UINT64 (skipped
 *                                automatically when <windef.h> was included,
 *                                i.e. when _WINDEF_ is defined);
 *   VK_KMT_D3DKMT_NO_NTSTATUS    do not typedef NTSTATUS (automatic when
 *                                _NTDEF_ is defined);
 *   VK_KMT_D3DKMT_NO_TYPES       do not define any D3DKMT_* / D3DDDI_* type
 *                                or constant (use the ones of an earlier
 *                                <d3dkmthk.h>; the layout asserts still run);
 *   VK_KMT_D3DKMT_PREFIXED_NAMES name the five thunks VkKmtD3DKMTOfferAllocations
 *                                etc. instead of D3DKMTOfferAllocations, so they
 *                                cannot clash with gdi32's exports (Wine);
 *   VK_KMT_D3DKMT_FIXED_LAYOUT   1: pointer fields take 8 bytes on every target
 *                                (the WDK's non-Windows D3DKMT_PTR), 0: natural
 *                                pointers. Default 1, 0 when _WIN32 is defined,
 *                                as in the WDK. Set it to 0 with
 *                                VK_KMT_D3DKMT_NO_TYPES when a 32-bit non-Windows
 *                                build brings natural-layout types of its own
 *                                (headers written for Windows), so the layout
 *                                asserts check the layout it uses.
 * The STATUS_* and TRUE / FALSE macros are each defined only if not defined yet.
 *
 * Windows rules followed, and the decisions taken where Windows is silent, are
 * written next to each function below. In short:
 *  - Validation is done here first, with the WSL guest's rules (count 1..10240,
 *    exactly one of pResources / HandleList, every handle live, of the right
 *    kind and owned by the call's device), plus priority 1..4 and no reserved
 *    flag bits; anything else the layer rejects (a memory listed twice, mapped
 *    memory ...) comes back as STATUS_INVALID_PARAMETER too. Nothing changes
 *    when a call fails validation.
 *  - VkResult -> NTSTATUS: VK_SUCCESS -> STATUS_SUCCESS;
 *    VK_ERROR_VALIDATION_FAILED_EXT -> STATUS_INVALID_PARAMETER;
 *    VK_ERROR_DEVICE_LOST -> STATUS_DEVICE_REMOVED;
 *    VK_ERROR_OUT_OF_HOST_MEMORY / VK_ERROR_OUT_OF_DEVICE_MEMORY (and this
 *    library's own allocation failures) -> STATUS_NO_MEMORY;
 *    VK_ERROR_FEATURE_NOT_PRESENT / VK_ERROR_EXTENSION_NOT_PRESENT ->
 *    STATUS_NOT_SUPPORTED; anything else -> STATUS_UNSUCCESSFUL.
 */
#ifndef VK_KMT_D3DKMT_H_
#define VK_KMT_D3DKMT_H_ 1

#include <stddef.h>
#include <stdint.h>

#include <vulkan/vulkan_core.h>
#include <vulkan/vk_kmt_offer_reclaim.h>
#include <vulkan/vk_kmt_residency.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/* Windows base types                                                        */
/* ------------------------------------------------------------------------- */

#if !defined(VK_KMT_D3DKMT_NO_BASE_TYPES) && !defined(_WINDEF_)
typedef unsigned int UINT;  /* 32 bits on every Windows and Linux ABI */
typedef int BOOL;           /* Windows BOOL: a 32-bit int, not C's bool */
typedef uint64_t UINT64;
#endif
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#if !defined(VK_KMT_D3DKMT_NO_NTSTATUS) && !defined(_NTDEF_)
/* NTSTATUS is a Windows LONG: 32 bits, also where C's long has 64. The
 * typedef is the one Windows uses, so repeating it is legal C11 / C++. */
#ifdef _WIN32
typedef long NTSTATUS;
#else
typedef int32_t NTSTATUS;
#endif
#endif

/* Success and informational codes are >= 0, warnings and errors < 0. */
#ifndef NT_SUCCESS
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#endif

/* The NTSTATUS values the thunks return (ntstatus.h). STATUS_PENDING: only
 * D3DKMTMakeResident returns it (a paging fence value to wait for). */
#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#endif
#ifndef STATUS_PENDING
#define STATUS_PENDING ((NTSTATUS)0x00000103L)
#endif
#ifndef STATUS_UNSUCCESSFUL
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001L)
#endif
#ifndef STATUS_INVALID_PARAMETER
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000DL)
#endif
#ifndef STATUS_NO_MEMORY
#define STATUS_NO_MEMORY ((NTSTATUS)0xC0000017L)
#endif
#ifndef STATUS_NOT_SUPPORTED
#define STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)
#endif
#ifndef STATUS_DEVICE_REMOVED
#define STATUS_DEVICE_REMOVED ((NTSTATUS)0xC00002B6L)
#endif

/* UINT64 fields the WDK marks D3DKMT_ALIGN64 are 8-aligned on 32-bit targets
 * too (natural on 64-bit ones). */
#ifdef __cplusplus
#define VK_KMT_D3DKMT_ALIGN64 alignas(8)
#else
#define VK_KMT_D3DKMT_ALIGN64 _Alignas(8)
#endif

/* Pointer fields, as the WDK's D3DKMT_PTR(Type, Name) declares them
 * (d3dukmdt.h): outside Windows, a union of the pointer with an 8-aligned
 * UINT64 named Name##_Align, so that a 32-bit process fills the same x64
 * layout a 64-bit kernel (WSL's dxgkrnl) reads, with no thunking layer; on
 * Windows a plain pointer (WOW64 translates). Decision: this header follows
 * the WDK rather than the natural i386 layout, so one struct layout serves
 * 32- and 64-bit Linux processes. Assign the pointer member by name after
 * zeroing the struct (a positional brace initializer sets the UINT64 member,
 * as the WDK warns); the implementation below zeroes all 8 bytes it writes. */
#ifndef VK_KMT_D3DKMT_FIXED_LAYOUT
#ifdef _WIN32
#define VK_KMT_D3DKMT_FIXED_LAYOUT 0
#else
#define VK_KMT_D3DKMT_FIXED_LAYOUT 1
#endif
#endif
#if VK_KMT_D3DKMT_FIXED_LAYOUT
#define VK_KMT_D3DKMT_PTR_HELPER(Name) VK_KMT_D3DKMT_ALIGN64 UINT64 Name;
#define VK_KMT_D3DKMT_PTR(Type, Name)      \
    union {                                \
        VK_KMT_D3DKMT_PTR_HELPER(Name##_Align) \
        Type Name;                         \
    }
#else
#define VK_KMT_D3DKMT_PTR_HELPER(Name)
#define VK_KMT_D3DKMT_PTR(Type, Name) Type Name
#endif

/* Most handles one offer / reclaim may name: the WSL guest's
 * D3DKMT_MAKERESIDENT_ALLOC_MAX (Windows publishes no limit). */
#ifndef D3DKMT_MAKERESIDENT_ALLOC_MAX
#define D3DKMT_MAKERESIDENT_ALLOC_MAX (1024 * 10)
#endif

#ifndef VK_KMT_D3DKMT_NO_TYPES

/* ------------------------------------------------------------------------- */
/* WDK types (d3dkmthk.h / d3dukmdt.h), Windows 10 layouts                   */
/* ------------------------------------------------------------------------- */

/* A kernel-mode handle: a 32-bit UINT, 0 is the null handle. Here it names a
 * registry entry (see VkKmtOpenDevice); its bits are not a contract. */
typedef UINT D3DKMT_HANDLE;

/* How valuable offered contents are; LOW is discarded first. 0 is not a
 * member (the UMD's D3DDDI_OFFER_PRIORITY_NONE is not valid at this level).
 * Same values as VkOfferPriorityKMT. */
typedef enum _D3DKMT_OFFER_PRIORITY {
    D3DKMT_OFFER_PRIORITY_LOW = 1,    /* content has no useful value */
    D3DKMT_OFFER_PRIORITY_NORMAL = 2, /* useful but easy to regenerate */
    D3DKMT_OFFER_PRIORITY_HIGH = 3,   /* useful and hard to regenerate */
    D3DKMT_OFFER_PRIORITY_AUTO = 4    /* chosen from the allocation's own priority */
} D3DKMT_OFFER_PRIORITY;

/* The UMD-level priority (d3dukmdt.h) that a ported user-mode driver passes
 * to pfnOfferAllocationsCb: the KMT values plus NONE = 0 ("do not offer"),
 * which an offer must not use (the thunks reject priority 0). LOW..AUTO equal
 * the D3DKMT_OFFER_PRIORITY values, so a UMD passes them on unchanged. */
typedef enum _D3DDDI_OFFER_PRIORITY {
    D3DDDI_OFFER_PRIORITY_NONE = 0,   /* do not offer */
    D3DDDI_OFFER_PRIORITY_LOW = 1,    /* content has no useful value */
    D3DDDI_OFFER_PRIORITY_NORMAL = 2, /* useful but easy to regenerate */
    D3DDDI_OFFER_PRIORITY_HIGH = 3,   /* useful and hard to regenerate */
    D3DDDI_OFFER_PRIORITY_AUTO = 4    /* let the memory manager decide */
} D3DDDI_OFFER_PRIORITY;

/* Offer flags, KMT bit positions. Same bits as VkOfferFlagBitsKMT:
 * OfferImmediately = take effect now, without waiting for GPU work submitted
 * before the offer; AllowDecommit = the allocation may be decommitted, and a
 * reclaim may then report D3DDDI_RECLAIM_RESULT_NOT_COMMITTED. Reserved bits
 * must be 0 (STATUS_INVALID_PARAMETER otherwise). */
typedef struct _D3DKMT_OFFER_FLAGS {
    union {
        struct {
            UINT OfferImmediately : 1; /* bit 0 */
            UINT AllowDecommit : 1;    /* bit 1 */
            UINT Reserved : 30;
        };
        UINT Value;
    };
} D3DKMT_OFFER_FLAGS;

/* The UMD-level offer flags (d3dukmdt.h, WDDM 2.1): AllowDecommit is bit 0
 * here but bit 1 in D3DKMT_OFFER_FLAGS, and there is no OfferImmediately.
 * Translate field by field, never by Value (docs/PORTING.md, "The
 * bit-position trap"). The WDK's tag has no leading underscore. */
typedef struct D3DDDI_OFFER_FLAGS {
    union {
        struct {
            UINT AllowDecommit : 1; /* bit 0 */
            UINT Reserved : 31;
        };
        UINT Value;
    };
} D3DDDI_OFFER_FLAGS;

/* Per-allocation outcome of a reclaim. FALSE / TRUE of the older BOOL form
 * equal OK / DISCARDED. Same values as VkReclaimResultKMT. */
typedef enum _D3DDDI_RECLAIM_RESULT {
    D3DDDI_RECLAIM_RESULT_OK = 0,           /* contents survived */
    D3DDDI_RECLAIM_RESULT_DISCARDED = 1,    /* contents undefined: regenerate them */
    D3DDDI_RECLAIM_RESULT_NOT_COMMITTED = 2 /* gone: free and recreate the object */
} D3DDDI_RECLAIM_RESULT;

/* Scheduling priority of a paging queue among its device's queues. The WDK's
 * tag has no leading underscore. */
typedef enum D3DDDI_PAGINGQUEUE_PRIORITY {
    D3DDDI_PAGINGQUEUE_PRIORITY_BELOW_NORMAL = -1,
    D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL = 0,
    D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL = 1
} D3DDDI_PAGINGQUEUE_PRIORITY;

/* Argument of D3DKMTOfferAllocations. Exactly one of pResources (runtime
 * resource handles: VkKmtRegisterBuffer / VkKmtRegisterImage) and HandleList
 * (allocation handles: VkKmtRegisterMemory) is non-NULL, with NumAllocations
 * entries. Offsets: fixed / x64 layout, then natural x86 (32-bit Windows). */
typedef struct _D3DKMT_OFFERALLOCATIONS {
    D3DKMT_HANDLE hDevice;                                 /*  0  0 in: device that owns the handles */
    VK_KMT_D3DKMT_PTR(D3DKMT_HANDLE*, pResources);         /*  8  4 in */
    VK_KMT_D3DKMT_PTR(const D3DKMT_HANDLE*, HandleList);   /* 16  8 in */
    UINT NumAllocations;                                   /* 24 12 in */
    D3DKMT_OFFER_PRIORITY Priority;                        /* 28 16 in */
    D3DKMT_OFFER_FLAGS Flags;                              /* 32 20 in (Windows 10; absent in Windows 8) */
} D3DKMT_OFFERALLOCATIONS;                                 /* 40 24 bytes */

/* Argument of D3DKMTReclaimAllocations (Windows 8 form). */
typedef struct _D3DKMT_RECLAIMALLOCATIONS {
    D3DKMT_HANDLE hDevice;                                 /*  0  0 in */
    VK_KMT_D3DKMT_PTR(D3DKMT_HANDLE*, pResources);         /*  8  4 in */
    VK_KMT_D3DKMT_PTR(const D3DKMT_HANDLE*, HandleList);   /* 16  8 in */
    VK_KMT_D3DKMT_PTR(BOOL*, pDiscarded);                  /* 24 12 out, optional: TRUE = contents lost */
    UINT NumAllocations;                                   /* 32 16 in */
} D3DKMT_RECLAIMALLOCATIONS;                               /* 40 20 bytes */

/* Argument of D3DKMTReclaimAllocations2 (Windows 10). hPagingQueue is a paging
 * queue (the DDI page's "handle to the device" is a doc error). */
typedef struct _D3DKMT_RECLAIMALLOCATIONS2 {
    D3DKMT_HANDLE hPagingQueue;                            /*  0  0 in */
    UINT NumAllocations;                                   /*  4  4 in */
    VK_KMT_D3DKMT_PTR(D3DKMT_HANDLE*, pResources);         /*  8  8 in */
    VK_KMT_D3DKMT_PTR(const D3DKMT_HANDLE*, HandleList);   /* 16 12 in */
    union {                                                /* 24 16 out, optional */
        BOOL* pDiscarded;
        D3DDDI_RECLAIM_RESULT* pResults;
        VK_KMT_D3DKMT_PTR_HELPER(AlignUnionTo64)
    };
    VK_KMT_D3DKMT_ALIGN64 UINT64 PagingFenceValue;         /* 32 24 out */
} D3DKMT_RECLAIMALLOCATIONS2;                              /* 40 32 bytes */

/* Argument of D3DKMTCreatePagingQueue. */
typedef struct _D3DKMT_CREATEPAGINGQUEUE {
    D3DKMT_HANDLE hDevice;                                 /*  0  0 in */
    D3DDDI_PAGINGQUEUE_PRIORITY Priority;                  /*  4  4 in */
    D3DKMT_HANDLE hPagingQueue;                            /*  8  8 out */
    D3DKMT_HANDLE hSyncObject;                             /* 12 12 out: the queue's monitored fence */
    VK_KMT_D3DKMT_PTR(void*, FenceValueCPUVirtualAddress); /* 16 16 out: always NULL here, see below */
    UINT PhysicalAdapterIndex;                             /* 24 20 in: must be 0 */
} D3DKMT_CREATEPAGINGQUEUE;                                /* 32 24 bytes */

/* Argument of D3DKMTDestroyPagingQueue. 4 bytes. The WDK's tag has no leading
 * underscore. */
typedef struct D3DDDI_DESTROYPAGINGQUEUE {
    D3DKMT_HANDLE hPagingQueue; /* in */
} D3DDDI_DESTROYPAGINGQUEUE;

#endif /* VK_KMT_D3DKMT_NO_TYPES */

/* ------------------------------------------------------------------------- */
/* Layout checks: every size and offset, per target                          */
/* ------------------------------------------------------------------------- */

#ifdef __cplusplus
#define VK_KMT_D3DKMT_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define VK_KMT_D3DKMT_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_HANDLE) == 4, "D3DKMT_HANDLE is a 32-bit UINT");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(NTSTATUS) == 4, "NTSTATUS is a 32-bit LONG");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(BOOL) == 4, "BOOL is a 32-bit int");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(UINT64) == 8, "UINT64");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(BOOL) == sizeof(D3DDDI_RECLAIM_RESULT), "pDiscarded/pResults union");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_OFFER_FLAGS) == 4, "D3DKMT_OFFER_FLAGS is one UINT");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_OFFER_PRIORITY) == 4, "enum is 32 bits");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DDDI_PAGINGQUEUE_PRIORITY) == 4, "enum is 32 bits");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DDDI_DESTROYPAGINGQUEUE) == 4, "D3DDDI_DESTROYPAGINGQUEUE");
VK_KMT_D3DKMT_STATIC_ASSERT(offsetof(D3DKMT_RECLAIMALLOCATIONS2, PagingFenceValue) % 8 == 0, "ALIGN64");

/* VK_KMT_D3DKMT_ASSERT_AT(type, field, offset): field sits at offset. */
#define VK_KMT_D3DKMT_ASSERT_AT(type, field, offset) \
    VK_KMT_D3DKMT_STATIC_ASSERT(offsetof(type, field) == (offset), #type "::" #field " at " #offset)

#if VK_KMT_D3DKMT_FIXED_LAYOUT || UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
/* The x64 layout: every 64-bit target, and every target with the WDK's fixed
 * (non-Windows) D3DKMT_PTR, where each pointer field takes 8 bytes at an
 * 8-aligned offset whatever the pointer size. */
/* D3DKMT_OFFERALLOCATIONS = WSL struct d3dkmt_offerallocations:
 * {u32 device; u32 pad; u64 resources; u64 allocations; u32 allocation_count;
 *  u32 priority; u32 flags; u32 pad}. */
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_OFFERALLOCATIONS) == 40, "OFFERALLOCATIONS size");
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, hDevice, 0);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, pResources, 8);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, HandleList, 16);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, NumAllocations, 24);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, Priority, 28);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, Flags, 32);
/* D3DKMT_RECLAIMALLOCATIONS (Windows 8): natural x64 alignment. */
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_RECLAIMALLOCATIONS) == 40, "RECLAIMALLOCATIONS size");
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS, hDevice, 0);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS, pResources, 8);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS, HandleList, 16);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS, pDiscarded, 24);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS, NumAllocations, 32);
/* D3DKMT_RECLAIMALLOCATIONS2 = WSL struct d3dkmt_reclaimallocations2:
 * {u32 paging_queue; u32 allocation_count; u64 resources; u64 allocations;
 *  u64 discarded_or_results; u64 paging_fence_value}. */
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_RECLAIMALLOCATIONS2) == 40, "RECLAIMALLOCATIONS2 size");
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, hPagingQueue, 0);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, NumAllocations, 4);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, pResources, 8);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, HandleList, 16);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, pDiscarded, 24);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, pResults, 24);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, PagingFenceValue, 32);
/* D3DKMT_CREATEPAGINGQUEUE = WSL struct d3dkmt_createpagingqueue:
 * {u32 device; u32 priority; u32 paging_queue; u32 sync_object;
 *  u64 fence_cpu_virtual_address; u32 physical_adapter_index; u32 pad}. */
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_CREATEPAGINGQUEUE) == 32, "CREATEPAGINGQUEUE size");
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, hDevice, 0);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, Priority, 4);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, hPagingQueue, 8);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, hSyncObject, 12);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, FenceValueCPUVirtualAddress, 16);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, PhysicalAdapterIndex, 24);
#elif UINTPTR_MAX == 0xFFFFFFFFu
/* The natural x86 layout (32-bit Windows, where WOW64 translates; or a
 * natural-layout build with VK_KMT_D3DKMT_FIXED_LAYOUT 0): 4-byte pointers,
 * PagingFenceValue 8-aligned (D3DKMT_ALIGN64, and MSVC's own alignment). */
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_OFFERALLOCATIONS) == 24, "OFFERALLOCATIONS size");
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, hDevice, 0);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, pResources, 4);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, HandleList, 8);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, NumAllocations, 12);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, Priority, 16);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_OFFERALLOCATIONS, Flags, 20);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_RECLAIMALLOCATIONS) == 20, "RECLAIMALLOCATIONS size");
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS, hDevice, 0);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS, pResources, 4);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS, HandleList, 8);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS, pDiscarded, 12);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS, NumAllocations, 16);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_RECLAIMALLOCATIONS2) == 32, "RECLAIMALLOCATIONS2 size");
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, hPagingQueue, 0);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, NumAllocations, 4);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, pResources, 8);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, HandleList, 12);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, pDiscarded, 16);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, pResults, 16);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_RECLAIMALLOCATIONS2, PagingFenceValue, 24);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_CREATEPAGINGQUEUE) == 24, "CREATEPAGINGQUEUE size");
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, hDevice, 0);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, Priority, 4);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, hPagingQueue, 8);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, hSyncObject, 12);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, FenceValueCPUVirtualAddress, 16);
VK_KMT_D3DKMT_ASSERT_AT(D3DKMT_CREATEPAGINGQUEUE, PhysicalAdapterIndex, 20);
#else
#error "vk_kmt/d3dkmt.h: no WDK layout known for this pointer size"
#endif

#ifndef VK_KMT_D3DKMT_NO_TYPES
/* The UMD-level types, checked where this header defines them (a build with
 * its own d3dkmthk.h need not have d3dukmdt.h's). LOW..AUTO are the KMT
 * priorities. */
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DDDI_OFFER_FLAGS) == 4, "D3DDDI_OFFER_FLAGS is one UINT");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DDDI_OFFER_PRIORITY) == 4, "enum is 32 bits");
VK_KMT_D3DKMT_STATIC_ASSERT((int)D3DDDI_OFFER_PRIORITY_NONE == 0 &&
                            (int)D3DDDI_OFFER_PRIORITY_LOW == (int)D3DKMT_OFFER_PRIORITY_LOW &&
                            (int)D3DDDI_OFFER_PRIORITY_NORMAL == (int)D3DKMT_OFFER_PRIORITY_NORMAL &&
                            (int)D3DDDI_OFFER_PRIORITY_HIGH == (int)D3DKMT_OFFER_PRIORITY_HIGH &&
                            (int)D3DDDI_OFFER_PRIORITY_AUTO == (int)D3DKMT_OFFER_PRIORITY_AUTO,
                            "UMD and KMT offer priorities");
#endif

/* The WDK values equal the Vulkan extension's, so code may cast between them. */
VK_KMT_D3DKMT_STATIC_ASSERT((int)D3DKMT_OFFER_PRIORITY_LOW == (int)VK_OFFER_PRIORITY_LOW_KMT &&
                            (int)D3DKMT_OFFER_PRIORITY_NORMAL == (int)VK_OFFER_PRIORITY_NORMAL_KMT &&
                            (int)D3DKMT_OFFER_PRIORITY_HIGH == (int)VK_OFFER_PRIORITY_HIGH_KMT &&
                            (int)D3DKMT_OFFER_PRIORITY_AUTO == (int)VK_OFFER_PRIORITY_AUTO_KMT,
                            "offer priorities");
VK_KMT_D3DKMT_STATIC_ASSERT((int)D3DDDI_RECLAIM_RESULT_OK == (int)VK_RECLAIM_RESULT_OK_KMT &&
                            (int)D3DDDI_RECLAIM_RESULT_DISCARDED == (int)VK_RECLAIM_RESULT_DISCARDED_KMT &&
                            (int)D3DDDI_RECLAIM_RESULT_NOT_COMMITTED == (int)VK_RECLAIM_RESULT_NOT_COMMITTED_KMT,
                            "reclaim results");

/* ------------------------------------------------------------------------- */
/* The handle registry                                                       */
/* ------------------------------------------------------------------------- */

/*
 * Windows hands out D3DKMT handles in the kernel; here a process-wide table
 * does. Every handle is a 32-bit value (never 0) made of a 20-bit slot index
 * and a 12-bit generation. Closing a handle bumps its slot's generation, so
 * the closed value is stale for good: any use of it is
 * STATUS_INVALID_PARAMETER. A slot whose generation is used up is retired,
 * never reused, so no handle value is ever handed out twice in a process and
 * a stale handle can never alias a newer object. At most 2^20 - 1 handles live
 * at once (STATUS_NO_MEMORY beyond).
 *
 * Each handle has a kind and (except devices) an owning device handle. A
 * handle of the wrong kind (an allocation handle in pResources, a device
 * handle where a paging queue is expected ...) or owned by another device is
 * STATUS_INVALID_PARAMETER.
 *
 * Registering does not create or take ownership of the Vulkan object, and
 * closing a handle does not destroy it. Close handles (or the device) before
 * destroying the Vulkan objects; a handle whose object was destroyed is
 * rejected by the layer (STATUS_INVALID_PARAMETER), but Vulkan may reuse the
 * object's value for a new object.
 *
 * All VkKmt* functions and D3DKMT* thunks may be called from any thread at
 * once. One mutex guards the table; it is never held across a Vulkan call.
 */

/* What a registry handle names. */
typedef enum VkKmtHandleKind {
    VK_KMT_HANDLE_KIND_INVALID = 0,      /* not a live handle */
    VK_KMT_HANDLE_KIND_DEVICE = 1,       /* VkKmtOpenDevice */
    VK_KMT_HANDLE_KIND_ALLOCATION = 2,   /* VkKmtRegisterMemory: a VkDeviceMemory */
    VK_KMT_HANDLE_KIND_BUFFER = 3,       /* VkKmtRegisterBuffer: a runtime resource */
    VK_KMT_HANDLE_KIND_IMAGE = 4,        /* VkKmtRegisterImage: a runtime resource */
    VK_KMT_HANDLE_KIND_PAGING_QUEUE = 5, /* D3DKMTCreatePagingQueue hPagingQueue */
    VK_KMT_HANDLE_KIND_SYNC_OBJECT = 6,  /* D3DKMTCreatePagingQueue hSyncObject */
    VK_KMT_HANDLE_KIND_MAX_ENUM = 0x7FFFFFFF
} VkKmtHandleKind;

/* What VkKmtGetHandleInfo reports about a live handle. */
typedef struct VkKmtHandleInfo {
    VkKmtHandleKind kind;
    D3DKMT_HANDLE hDevice; /* the owning device; the handle itself for a device */
    /* The Vulkan object, as uint64_t: the VkDevice (pointer value), the
     * VkDeviceMemory / VkBuffer / VkImage, or the device's paging timeline
     * VkSemaphore for a paging queue and its sync object. */
    uint64_t object;
} VkKmtHandleInfo;

/*
 * Opens a registry device for a VkDevice. getDeviceProcAddr is the
 * vkGetDeviceProcAddr to fetch the device's commands with (the loader's, or
 * the next one in a layer chain); only it is called, now, and nothing else.
 *
 * The device must have enabled VK_KMT_offer_reclaim or VK_KMT_residency (or
 * both) and be able to call vkWaitSemaphores (Vulkan 1.2, or
 * vkWaitSemaphoresKHR of VK_KHR_timeline_semaphore): if neither extension's
 * commands, vkGetPagingFenceKMT or both wait functions are missing, this fails
 * with STATUS_INVALID_PARAMETER and nothing is registered. The thunks of the
 * extension the device did not enable return STATUS_NOT_SUPPORTED. (Decision: failing here,
 * at the one place where the VkDevice comes in, is easier to diagnose than
 * failing every later thunk.)
 *
 * Opening the same VkDevice twice gives two independent devices whose handles
 * do not mix. Close with VkKmtCloseDevice before vkDestroyDevice.
 * Returns STATUS_SUCCESS, STATUS_INVALID_PARAMETER (NULL argument, extension
 * missing) or STATUS_NO_MEMORY.
 */
NTSTATUS VkKmtOpenDevice(VkDevice device, PFN_vkGetDeviceProcAddr getDeviceProcAddr, D3DKMT_HANDLE* phDevice);

/*
 * Closes a device and, with it, every handle it owns: allocations, resources,
 * paging queues and their sync objects (as destroying a Windows device
 * destroys its paging queues). It first waits, like D3DKMTDestroyPagingQueue,
 * for the highest paging fence value any of its paging queues returned, so
 * call it while the VkDevice is still alive. Returns STATUS_SUCCESS, or
 * STATUS_INVALID_PARAMETER if hDevice is not a live device handle.
 */
NTSTATUS VkKmtCloseDevice(D3DKMT_HANDLE hDevice);

/*
 * Register a VkDeviceMemory as a kernel "allocation" (for HandleList), or a
 * VkBuffer / VkImage as a runtime "resource" (for pResources: the layer acts on
 * the memory bound to it). The object must belong to hDevice's VkDevice; that
 * is checked by the layer when the handle is used, not here. Registering one
 * object twice gives two handles; naming both in one call is then the layer's
 * "listed twice" error (STATUS_INVALID_PARAMETER).
 * Returns STATUS_SUCCESS, STATUS_INVALID_PARAMETER (hDevice not a live device,
 * VK_NULL_HANDLE object, NULL out pointer) or STATUS_NO_MEMORY.
 */
NTSTATUS VkKmtRegisterMemory(D3DKMT_HANDLE hDevice, VkDeviceMemory memory, D3DKMT_HANDLE* phAllocation);
NTSTATUS VkKmtRegisterBuffer(D3DKMT_HANDLE hDevice, VkBuffer buffer, D3DKMT_HANDLE* phResource);
NTSTATUS VkKmtRegisterImage(D3DKMT_HANDLE hDevice, VkImage image, D3DKMT_HANDLE* phResource);

/*
 * Closes an allocation or resource handle (not the Vulkan object). Device
 * handles close with VkKmtCloseDevice, paging queues with
 * D3DKMTDestroyPagingQueue, and sync objects only with their queue: any of
 * those here is STATUS_INVALID_PARAMETER, as is a stale or unknown handle.
 */
NTSTATUS VkKmtCloseHandle(D3DKMT_HANDLE handle);

/*
 * Describes a live handle of any kind. STATUS_INVALID_PARAMETER (and
 * pInfo->kind = VK_KMT_HANDLE_KIND_INVALID) for a stale or unknown handle.
 */
NTSTATUS VkKmtGetHandleInfo(D3DKMT_HANDLE handle, VkKmtHandleInfo* pInfo);

/*
 * The VkSemaphore behind a paging queue's hSyncObject (or behind the paging
 * queue handle itself): the device's paging timeline semaphore. Wait for a
 * PagingFenceValue on it with VkTimelineSemaphoreSubmitInfo (GPU) or
 * vkWaitSemaphores (CPU), and read its current value with
 * vkGetSemaphoreCounterValue (there is no CPU mapping, see
 * D3DKMTCreatePagingQueue). The layer owns it: never signal or destroy it.
 */
NTSTATUS VkKmtGetSyncObjectSemaphore(D3DKMT_HANDLE hSyncObject, VkSemaphore* pSemaphore);

/* ------------------------------------------------------------------------- */
/* The D3DKMT thunks                                                         */
/* ------------------------------------------------------------------------- */

#ifdef VK_KMT_D3DKMT_PREFIXED_NAMES
#define VK_KMT_D3DKMT_NAME(name) VkKmt##name
#else
#define VK_KMT_D3DKMT_NAME(name) name
#endif

/*
 * D3DKMTOfferAllocations -> vkOfferAllocationsKMT.
 *
 * Windows: offered allocations may be paged out or their contents discarded
 * until they are reclaimed; the offer takes effect once GPU work submitted
 * before it has completed (OfferImmediately: at once); it never blocks.
 * Returns STATUS_SUCCESS, STATUS_INVALID_PARAMETER or STATUS_DEVICE_REMOVED.
 *
 * Checked here before the layer is called (all-or-nothing, nothing changes on
 * failure): pData non-NULL; hDevice a live device handle; NumAllocations
 * 1..D3DKMT_MAKERESIDENT_ALLOC_MAX; exactly one of pResources / HandleList
 * (the WSL guest's rules); every HandleList entry a live allocation handle and
 * every pResources entry a live buffer or image handle, owned by hDevice;
 * Priority 1..4 (Windows validates it on the host; 0 / NONE is rejected);
 * Flags.Reserved == 0.
 * Offering an already-offered allocation re-prioritises it (the layer's rule;
 * Windows does not say).
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTOfferAllocations)(const D3DKMT_OFFERALLOCATIONS* pData);

/*
 * D3DKMTReclaimAllocations (Windows 8) -> vkReclaimAllocationsKMT.
 *
 * Same handle rules as the offer (count, exactly one array, kinds, owner).
 * pDiscarded may be NULL (the caller then treats every content as lost);
 * otherwise pDiscarded[i] is TRUE (1) when the contents of entry i were
 * discarded or the allocation is no longer committed, FALSE (0) when they
 * survived. Reclaiming an allocation that was never offered reports FALSE.
 *
 * Decision: this form has no paging fence, so it is synchronous. When the
 * layer queued paging work (a GPU discard fill) this thunk waits on the CPU for
 * the device's paging fence value before returning, so the allocations are
 * usable by the GPU at once, as on Windows 8.
 * On STATUS_DEVICE_REMOVED every pDiscarded entry is TRUE; on other failures
 * pDiscarded is not written.
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTReclaimAllocations)(D3DKMT_RECLAIMALLOCATIONS* pData);

/*
 * D3DKMTReclaimAllocations2 (Windows 10) -> vkReclaimAllocationsKMT.
 *
 * hPagingQueue must be a live paging-queue handle (a device handle is
 * STATUS_INVALID_PARAMETER, as in the WSL guest); the handles must be owned by
 * the queue's device. Otherwise validated like the offer.
 *
 * Decisions where Windows is silent (SEMANTICS section 7):
 *  - Always STATUS_SUCCESS on success, never STATUS_PENDING, even when
 *    PagingFenceValue is non-zero: the fence value alone says whether to wait.
 *    PagingFenceValue is the layer's value: 0 when nothing was queued (the
 *    Windows rule for work completed at once), else the value the paging
 *    timeline semaphore (VkKmtGetSyncObjectSemaphore(hSyncObject)) reaches
 *    when the allocations may be used by the GPU. CPU access (mapping) is
 *    valid at once, without waiting, as on Windows. On failure it is 0.
 *  - The union is written as D3DDDI_RECLAIM_RESULT values whichever member
 *    the caller named: OK = 0 = FALSE, DISCARDED = 1 = TRUE, so the BOOL form
 *    reads correctly; NOT_COMMITTED = 2 only follows an offer with
 *    AllowDecommit, and is non-zero (true) for BOOL readers too.
 *  - The pointer may be NULL (WSL allows it; the WDK's "[in] Required" is a
 *    doc error): the caller then treats every content as lost.
 *  - On STATUS_DEVICE_REMOVED every result is DISCARDED; on other failures the
 *    results are not written.
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTReclaimAllocations2)(D3DKMT_RECLAIMALLOCATIONS2* pData);

/*
 * D3DKMTCreatePagingQueue -> vkGetPagingFenceKMT.
 *
 * Makes a paging-queue handle on hDevice and a sync-object handle for its
 * monitored fence, which is the device's paging timeline semaphore.
 * Decisions where Vulkan cannot follow Windows:
 *  - A VkDevice has one paging timeline, so every queue of a device shares
 *    one semaphore (each queue still has its own hSyncObject handle) and
 *    Priority only has to be valid (BELOW_NORMAL, NORMAL or ABOVE_NORMAL).
 *  - FenceValueCPUVirtualAddress is set to NULL: Vulkan has no CPU mapping of
 *    a timeline semaphore's value. Read it with vkGetSemaphoreCounterValue on
 *    VkKmtGetSyncObjectSemaphore(hSyncObject).
 *  - PhysicalAdapterIndex must be 0 (one physical device per VkDevice here).
 * Returns STATUS_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_NO_MEMORY or
 * STATUS_DEVICE_REMOVED.
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTCreatePagingQueue)(D3DKMT_CREATEPAGINGQUEUE* pData);

/*
 * D3DKMTDestroyPagingQueue: waits (vkWaitSemaphores, no timeout) until the
 * paging timeline reaches the highest PagingFenceValue that
 * D3DKMTReclaimAllocations2 returned through this queue, then invalidates the
 * queue and its hSyncObject (Windows: waits for all operations queued on the
 * queue, then destroys it and its sync object).
 * Returns STATUS_SUCCESS, or STATUS_INVALID_PARAMETER for a NULL pData or a
 * handle that is not a live paging queue. Decision: if the device is lost the
 * wait ends at once and the queue is still destroyed with STATUS_SUCCESS (the
 * loss is reported by the offer / reclaim thunks).
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTDestroyPagingQueue)(const D3DDDI_DESTROYPAGINGQUEUE* pData);

/* ========================================================================= */
/* Residency (VK_KMT_residency): MakeResident, Evict, priorities, the video  */
/* memory query, trim and budget-change notifications.                       */
/*                                                                           */
/* A section of its own: types and asserts, registry rules and thunks. The   */
/* thunks run over vkMakeResidentKMT & co. (vk_kmt_residency.h) of a device  */
/* opened with VkKmtOpenDevice that enabled VK_KMT_residency.                */
/*                                                                           */
/* Its types follow VK_KMT_D3DKMT_NO_TYPES like the others (a build with the */
/* WDK's d3dkmthk.h has them all; HANDLE and LUID come from <windef.h> then). */
/* A build whose own header lacks them defines VK_KMT_D3DKMT_NO_RESIDENCY to */
/* leave this whole section out (types, asserts and thunks).                 */
/* ========================================================================= */
#ifndef VK_KMT_D3DKMT_NO_RESIDENCY

/* Pointer fields use VK_KMT_D3DKMT_PTR, defined at the top of this header. */

/* Windows base types the residency structs use (winnt.h). */
#if !defined(VK_KMT_D3DKMT_NO_BASE_TYPES) && !defined(_WINDEF_)
typedef void* HANDLE;
typedef struct _LUID {
    UINT LowPart;
    int32_t HighPart;
} LUID;
#endif
#ifndef APIENTRY
#define APIENTRY
#endif

#ifndef VK_KMT_D3DKMT_NO_TYPES

/* MakeResident flags (d3dukmdt.h). MustSucceed may only be set with
 * CantTrimFurther (the WDK's rule; STATUS_INVALID_PARAMETER otherwise). Same
 * bits as VkMakeResidentFlagBitsKMT. */
typedef struct D3DDDI_MAKERESIDENT_FLAGS {
    union {
        struct {
            UINT CantTrimFurther : 1; /* bit 0 */
            UINT MustSucceed : 1;     /* bit 1 */
            UINT Reserved : 30;
        };
        UINT Value;
    };
} D3DDDI_MAKERESIDENT_FLAGS;

/* Argument of D3DKMTMakeResident (d3dukmdt.h). Offsets: fixed / x64 layout,
 * then natural x86 (32-bit Windows). */
typedef struct D3DDDI_MAKERESIDENT {
    D3DKMT_HANDLE hPagingQueue;                              /*  0  0 in: a paging queue of the allocations' device */
    UINT NumAllocations;                                     /*  4  4 in; out: how many were made resident */
    VK_KMT_D3DKMT_PTR(const D3DKMT_HANDLE*, AllocationList); /*  8  8 in */
    VK_KMT_D3DKMT_PTR(const UINT*, PriorityList);            /* 16 12 in, optional: D3DDDI_ALLOCATIONPRIORITY_* */
    D3DDDI_MAKERESIDENT_FLAGS Flags;                         /* 24 16 in */
    VK_KMT_D3DKMT_ALIGN64 UINT64 PagingFenceValue;           /* 32 24 out: STATUS_PENDING: wait for it */
    VK_KMT_D3DKMT_ALIGN64 UINT64 NumBytesToTrim;             /* 40 32 out: STATUS_NO_MEMORY: the excess */
} D3DDDI_MAKERESIDENT;                                       /* 48 40 bytes */

/* Evict flags (d3dukmdt.h): hints (see D3DKMTEvict). Same bits as
 * VkEvictFlagBitsKMT. */
typedef struct D3DDDI_EVICT_FLAGS {
    union {
        struct {
            UINT EvictOnlyIfNecessary : 1; /* bit 0 */
            UINT NotWrittenTo : 1;         /* bit 1 */
            UINT Reserved : 30;
        };
        UINT Value;
    };
} D3DDDI_EVICT_FLAGS;

/* Argument of D3DKMTEvict (d3dkmthk.h). */
typedef struct _D3DKMT_EVICT {
    D3DKMT_HANDLE hDevice;                                   /*  0  0 in */
    UINT NumAllocations;                                     /*  4  4 in */
    VK_KMT_D3DKMT_PTR(const D3DKMT_HANDLE*, AllocationList); /*  8  8 in */
    D3DDDI_EVICT_FLAGS Flags;                                /* 16 12 in */
    VK_KMT_D3DKMT_ALIGN64 UINT64 NumBytesToTrim;             /* 24 16 out */
} D3DKMT_EVICT;                                              /* 32 24 bytes */

/* Residency priorities (d3dukmdt.h) = D3D12_RESIDENCY_PRIORITY = the
 * VK_RESIDENCY_PRIORITY_*_KMT values; any UINT is legal. */
#ifndef D3DDDI_ALLOCATIONPRIORITY_MINIMUM
#define D3DDDI_ALLOCATIONPRIORITY_MINIMUM 0x28000000
#define D3DDDI_ALLOCATIONPRIORITY_LOW 0x50000000
#define D3DDDI_ALLOCATIONPRIORITY_NORMAL 0x78000000
#define D3DDDI_ALLOCATIONPRIORITY_HIGH 0xa0000000
#define D3DDDI_ALLOCATIONPRIORITY_MAXIMUM 0xc8000000
#endif

/* Argument of D3DKMTSetAllocationPriority (d3dkmthk.h). */
typedef struct _D3DKMT_SETALLOCATIONPRIORITY {
    D3DKMT_HANDLE hDevice;                                     /*  0  0 in */
    D3DKMT_HANDLE hResource;                                   /*  4  4 in: not supported here (0) */
    VK_KMT_D3DKMT_PTR(const D3DKMT_HANDLE*, phAllocationList); /*  8  8 in */
    UINT AllocationCount;                                      /* 16 12 in */
    VK_KMT_D3DKMT_PTR(const UINT*, pPriorities);               /* 24 16 in */
} D3DKMT_SETALLOCATIONPRIORITY;                                /* 32 20 bytes */

/* = DXGI_MEMORY_SEGMENT_GROUP = VkMemorySegmentGroupKMT. */
typedef enum _D3DKMT_MEMORY_SEGMENT_GROUP {
    D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL = 0,
    D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL = 1
} D3DKMT_MEMORY_SEGMENT_GROUP;

/* Argument of D3DKMTQueryVideoMemoryInfo (d3dkmthk.h). Note the order of the
 * last two outputs: CurrentReservation before AvailableForReservation
 * (DXGI_QUERY_VIDEO_MEMORY_INFO and VkVideoMemoryInfoKMT swap them). */
typedef struct _D3DKMT_QUERYVIDEOMEMORYINFO {
    VK_KMT_D3DKMT_PTR(HANDLE, hProcess);                  /*  0  0 in: NULL (this process) */
    D3DKMT_HANDLE hAdapter;                               /*  8  4 in: a device handle here (see below) */
    D3DKMT_MEMORY_SEGMENT_GROUP MemorySegmentGroup;       /* 12  8 in */
    VK_KMT_D3DKMT_ALIGN64 UINT64 Budget;                  /* 16 16 out */
    VK_KMT_D3DKMT_ALIGN64 UINT64 CurrentUsage;            /* 24 24 out */
    VK_KMT_D3DKMT_ALIGN64 UINT64 CurrentReservation;      /* 32 32 out */
    VK_KMT_D3DKMT_ALIGN64 UINT64 AvailableForReservation; /* 40 40 out */
    UINT PhysicalAdapterIndex;                            /* 48 48 in: must be 0 */
} D3DKMT_QUERYVIDEOMEMORYINFO;                            /* 56 56 bytes */

/* Trim notifications (d3dukmdt.h / d3dkmthk.h). Here only TrimToBudget is
 * ever set: the layer reports over-budget usage, not periodic trims. */
typedef struct D3DDDI_TRIMRESIDENCYSET_FLAGS {
    union {
        struct {
            UINT PeriodicTrim : 1;        /* bit 0 */
            UINT RestartPeriodicTrim : 1; /* bit 1 */
            UINT TrimToBudget : 1;        /* bit 2 */
            UINT Reserved : 29;
        };
        UINT Value;
    };
} D3DDDI_TRIMRESIDENCYSET_FLAGS;

typedef struct _D3DKMT_TRIMNOTIFICATION {
    VK_KMT_D3DKMT_PTR(void*, Context);           /*  0  0 the Context given at registration */
    D3DDDI_TRIMRESIDENCYSET_FLAGS Flags;         /*  8  4 */
    VK_KMT_D3DKMT_ALIGN64 UINT64 NumBytesToTrim; /* 16  8 */
} D3DKMT_TRIMNOTIFICATION;                       /* 24 16 bytes */

typedef void(APIENTRY* PFND3DKMT_TRIMNOTIFICATIONCALLBACK)(D3DKMT_TRIMNOTIFICATION*);

/* The WDK declares Callback a plain pointer here (Context and Handle with
 * D3DKMT_PTR), so the fixed 32-bit layout differs from x64 in this struct;
 * the asserts below check all three layouts. */
typedef struct _D3DKMT_REGISTERTRIMNOTIFICATION {
    LUID AdapterLuid;                           /*  0  0  0 in: not checked (hDevice names the device) */
    D3DKMT_HANDLE hDevice;                      /*  8  8  8 in */
    PFND3DKMT_TRIMNOTIFICATIONCALLBACK Callback; /* 16 12 12 in */
    VK_KMT_D3DKMT_PTR(void*, Context);          /* 24 16 16 in */
    VK_KMT_D3DKMT_PTR(void*, Handle);           /* 32 24 20 out */
} D3DKMT_REGISTERTRIMNOTIFICATION;              /* 40 32 24 bytes: x64, fixed 32-bit, natural x86 */

typedef struct _D3DKMT_UNREGISTERTRIMNOTIFICATION {
    VK_KMT_D3DKMT_PTR(void*, Handle);            /*  0  0  0 in */
    PFND3DKMT_TRIMNOTIFICATIONCALLBACK Callback; /*  8  8  4 in: the one registered with Handle */
} D3DKMT_UNREGISTERTRIMNOTIFICATION;             /* 16 16  8 bytes */

typedef struct _D3DKMT_BUDGETCHANGENOTIFICATION {
    VK_KMT_D3DKMT_PTR(void*, Context);   /*  0  0 */
    VK_KMT_D3DKMT_ALIGN64 UINT64 Budget; /*  8  8 the LOCAL segment group's new budget */
} D3DKMT_BUDGETCHANGENOTIFICATION;       /* 16 16 bytes */

typedef void(APIENTRY* PFND3DKMT_BUDGETCHANGENOTIFICATIONCALLBACK)(D3DKMT_BUDGETCHANGENOTIFICATION*);

typedef struct _D3DKMT_REGISTERBUDGETCHANGENOTIFICATION {
    D3DKMT_HANDLE hDevice;                                                 /*  0  0 in */
    VK_KMT_D3DKMT_PTR(PFND3DKMT_BUDGETCHANGENOTIFICATIONCALLBACK, Callback); /*  8  4 in */
    VK_KMT_D3DKMT_PTR(void*, Context);                                     /* 16  8 in */
    VK_KMT_D3DKMT_PTR(void*, Handle);                                      /* 24 12 out */
} D3DKMT_REGISTERBUDGETCHANGENOTIFICATION;                                 /* 32 16 bytes */

typedef struct _D3DKMT_UNREGISTERBUDGETCHANGENOTIFICATION {
    VK_KMT_D3DKMT_PTR(void*, Handle); /* 0 0 in */
} D3DKMT_UNREGISTERBUDGETCHANGENOTIFICATION; /* 8 4 bytes */

#endif /* VK_KMT_D3DKMT_NO_TYPES */

/* ---- layout checks, per target ------------------------------------------- */

#define VK_KMT_D3DKMT_RES_AT(type, field, offset) \
    VK_KMT_D3DKMT_STATIC_ASSERT(offsetof(type, field) == (offset), #type "::" #field " at " #offset)

VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DDDI_MAKERESIDENT_FLAGS) == 4, "D3DDDI_MAKERESIDENT_FLAGS is one UINT");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DDDI_EVICT_FLAGS) == 4, "D3DDDI_EVICT_FLAGS is one UINT");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DDDI_TRIMRESIDENCYSET_FLAGS) == 4, "D3DDDI_TRIMRESIDENCYSET_FLAGS is one UINT");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_MEMORY_SEGMENT_GROUP) == 4, "enum is 32 bits");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(LUID) == 8, "LUID");

#if VK_KMT_D3DKMT_FIXED_LAYOUT || UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
/* x64, and every target with the fixed (non-Windows) D3DKMT_PTR. */
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DDDI_MAKERESIDENT) == 48, "D3DDDI_MAKERESIDENT size");
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, NumAllocations, 4);
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, AllocationList, 8);
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, PriorityList, 16);
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, Flags, 24);
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, PagingFenceValue, 32);
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, NumBytesToTrim, 40);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_EVICT) == 32, "D3DKMT_EVICT size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_EVICT, AllocationList, 8);
VK_KMT_D3DKMT_RES_AT(D3DKMT_EVICT, Flags, 16);
VK_KMT_D3DKMT_RES_AT(D3DKMT_EVICT, NumBytesToTrim, 24);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_SETALLOCATIONPRIORITY) == 32, "D3DKMT_SETALLOCATIONPRIORITY size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_SETALLOCATIONPRIORITY, hResource, 4);
VK_KMT_D3DKMT_RES_AT(D3DKMT_SETALLOCATIONPRIORITY, phAllocationList, 8);
VK_KMT_D3DKMT_RES_AT(D3DKMT_SETALLOCATIONPRIORITY, AllocationCount, 16);
VK_KMT_D3DKMT_RES_AT(D3DKMT_SETALLOCATIONPRIORITY, pPriorities, 24);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_QUERYVIDEOMEMORYINFO) == 56, "D3DKMT_QUERYVIDEOMEMORYINFO size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, hAdapter, 8);
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, MemorySegmentGroup, 12);
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, Budget, 16);
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, CurrentUsage, 24);
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, CurrentReservation, 32);
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, AvailableForReservation, 40);
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, PhysicalAdapterIndex, 48);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_TRIMNOTIFICATION) == 24, "D3DKMT_TRIMNOTIFICATION size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_TRIMNOTIFICATION, Flags, 8);
VK_KMT_D3DKMT_RES_AT(D3DKMT_TRIMNOTIFICATION, NumBytesToTrim, 16);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_BUDGETCHANGENOTIFICATION) == 16, "D3DKMT_BUDGETCHANGENOTIFICATION size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_BUDGETCHANGENOTIFICATION, Budget, 8);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_REGISTERBUDGETCHANGENOTIFICATION) == 32,
                            "D3DKMT_REGISTERBUDGETCHANGENOTIFICATION size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERBUDGETCHANGENOTIFICATION, Callback, 8);
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERBUDGETCHANGENOTIFICATION, Context, 16);
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERBUDGETCHANGENOTIFICATION, Handle, 24);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_UNREGISTERBUDGETCHANGENOTIFICATION) == 8,
                            "D3DKMT_UNREGISTERBUDGETCHANGENOTIFICATION size");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_UNREGISTERTRIMNOTIFICATION) == 16, "D3DKMT_UNREGISTERTRIMNOTIFICATION size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_UNREGISTERTRIMNOTIFICATION, Callback, 8);
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERTRIMNOTIFICATION, hDevice, 8);
#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_REGISTERTRIMNOTIFICATION) == 40, "D3DKMT_REGISTERTRIMNOTIFICATION size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERTRIMNOTIFICATION, Callback, 16);
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERTRIMNOTIFICATION, Context, 24);
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERTRIMNOTIFICATION, Handle, 32);
#else /* fixed layout, 32-bit pointers: the plain Callback takes 4 bytes */
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_REGISTERTRIMNOTIFICATION) == 32, "D3DKMT_REGISTERTRIMNOTIFICATION size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERTRIMNOTIFICATION, Callback, 12);
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERTRIMNOTIFICATION, Context, 16);
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERTRIMNOTIFICATION, Handle, 24);
#endif
#elif UINTPTR_MAX == 0xFFFFFFFFu
/* Natural x86 (32-bit Windows, or VK_KMT_D3DKMT_FIXED_LAYOUT 0). */
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DDDI_MAKERESIDENT) == 40, "D3DDDI_MAKERESIDENT size");
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, AllocationList, 8);
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, PriorityList, 12);
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, Flags, 16);
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, PagingFenceValue, 24);
VK_KMT_D3DKMT_RES_AT(D3DDDI_MAKERESIDENT, NumBytesToTrim, 32);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_EVICT) == 24, "D3DKMT_EVICT size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_EVICT, Flags, 12);
VK_KMT_D3DKMT_RES_AT(D3DKMT_EVICT, NumBytesToTrim, 16);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_SETALLOCATIONPRIORITY) == 20, "D3DKMT_SETALLOCATIONPRIORITY size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_SETALLOCATIONPRIORITY, AllocationCount, 12);
VK_KMT_D3DKMT_RES_AT(D3DKMT_SETALLOCATIONPRIORITY, pPriorities, 16);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_QUERYVIDEOMEMORYINFO) == 56, "D3DKMT_QUERYVIDEOMEMORYINFO size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, hAdapter, 4);
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, MemorySegmentGroup, 8);
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, Budget, 16);
VK_KMT_D3DKMT_RES_AT(D3DKMT_QUERYVIDEOMEMORYINFO, PhysicalAdapterIndex, 48);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_TRIMNOTIFICATION) == 16, "D3DKMT_TRIMNOTIFICATION size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_TRIMNOTIFICATION, NumBytesToTrim, 8);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_REGISTERTRIMNOTIFICATION) == 24, "D3DKMT_REGISTERTRIMNOTIFICATION size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERTRIMNOTIFICATION, Context, 16);
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERTRIMNOTIFICATION, Handle, 20);
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_UNREGISTERTRIMNOTIFICATION) == 8, "D3DKMT_UNREGISTERTRIMNOTIFICATION size");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_BUDGETCHANGENOTIFICATION) == 16, "D3DKMT_BUDGETCHANGENOTIFICATION size");
VK_KMT_D3DKMT_STATIC_ASSERT(sizeof(D3DKMT_REGISTERBUDGETCHANGENOTIFICATION) == 16,
                            "D3DKMT_REGISTERBUDGETCHANGENOTIFICATION size");
VK_KMT_D3DKMT_RES_AT(D3DKMT_REGISTERBUDGETCHANGENOTIFICATION, Handle, 12);
#else
#error "vk_kmt/d3dkmt.h: no WDK layout known for this pointer size"
#endif

/* The WDK values equal the Vulkan extension's. */
VK_KMT_D3DKMT_STATIC_ASSERT(D3DDDI_ALLOCATIONPRIORITY_MINIMUM == VK_RESIDENCY_PRIORITY_MINIMUM_KMT &&
                            D3DDDI_ALLOCATIONPRIORITY_LOW == VK_RESIDENCY_PRIORITY_LOW_KMT &&
                            D3DDDI_ALLOCATIONPRIORITY_NORMAL == VK_RESIDENCY_PRIORITY_NORMAL_KMT &&
                            D3DDDI_ALLOCATIONPRIORITY_HIGH == VK_RESIDENCY_PRIORITY_HIGH_KMT &&
                            D3DDDI_ALLOCATIONPRIORITY_MAXIMUM == VK_RESIDENCY_PRIORITY_MAXIMUM_KMT,
                            "residency priorities");
VK_KMT_D3DKMT_STATIC_ASSERT((int)D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL == (int)VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT &&
                            (int)D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL == (int)VK_MEMORY_SEGMENT_GROUP_NON_LOCAL_KMT,
                            "segment groups");

/* ---- the residency thunks --------------------------------------------------
 *
 * Common rules: the device (a VkKmtOpenDevice handle, or the owner of the
 * paging queue) must have enabled VK_KMT_residency, else STATUS_NOT_SUPPORTED;
 * handles are checked as for the offer thunks (count 1..
 * D3DKMT_MAKERESIDENT_ALLOC_MAX, every one a live allocation handle of the
 * device), then the layer validates the rest all-or-nothing (an allocation
 * listed twice, evict underflow, offered memory ...: STATUS_INVALID_PARAMETER,
 * nothing changed). VK_ERROR_DEVICE_LOST -> STATUS_DEVICE_REMOVED.
 */

/*
 * D3DKMTMakeResident -> vkMakeResidentKMT.
 * STATUS_SUCCESS: every allocation is resident and usable at once
 * (PagingFenceValue 0). STATUS_PENDING: resident, but paging work is still
 * queued: wait for PagingFenceValue on the paging queue's sync object
 * (VkKmtGetSyncObjectSemaphore) before GPU use; D3DKMTDestroyPagingQueue
 * waits for it too. STATUS_NO_MEMORY: over budget; NumBytesToTrim is the
 * excess and nothing changed. NumAllocations is left as passed on success
 * (all were made resident) and set to 0 on any failure. PriorityList, which
 * Windows ignores today, is honoured when not NULL (residency priorities).
 * Flags.MustSucceed needs Flags.CantTrimFurther; Flags.Reserved must be 0.
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTMakeResident)(D3DDDI_MAKERESIDENT* pData);

/*
 * D3DKMTEvict -> vkEvictKMT. NumBytesToTrim: how far over budget the
 * allocations' segments still are (0 under). Both flags are accepted hints;
 * evicted memory always keeps its contents. Flags.Reserved must be 0.
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTEvict)(D3DKMT_EVICT* pData);

/*
 * D3DKMTSetAllocationPriority -> vkSetResidencyPriorityKMT, for
 * phAllocationList / AllocationCount / pPriorities (all three required).
 * Decision: hResource must be 0 (STATUS_NOT_SUPPORTED otherwise): a runtime
 * resource here is a VkBuffer / VkImage, and Vulkan cannot tell which memory
 * is bound to one; pass that memory's allocation handle instead.
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTSetAllocationPriority)(const D3DKMT_SETALLOCATIONPRIORITY* pData);

/*
 * D3DKMTQueryVideoMemoryInfo -> vkQueryVideoMemoryInfoKMT. Decisions: there
 * are no adapter handles here, so hAdapter is a device handle (the device
 * stands for its adapter); hProcess must be NULL (this process) and
 * PhysicalAdapterIndex 0, MemorySegmentGroup LOCAL or NON_LOCAL, else
 * STATUS_INVALID_PARAMETER.
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTQueryVideoMemoryInfo)(D3DKMT_QUERYVIDEOMEMORYINFO* pData);

/*
 * D3DKMTRegisterTrimNotification / D3DKMTUnregisterTrimNotification over
 * vkRegisterBudgetNotificationKMT: the callback runs on the layer's
 * notification thread whenever a segment group's usage is over its budget
 * and has grown since the last notification, with Flags.TrimToBudget set and
 * NumBytesToTrim = the excess (PeriodicTrim is never reported). AdapterLuid
 * is not checked. Handle is this library's; unregistering needs the same
 * Callback (STATUS_INVALID_PARAMETER otherwise), waits for a callback in
 * progress unless called from inside it, and after it returns the callback
 * never runs again. Unregister before VkKmtCloseDevice / vkDestroyDevice.
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTRegisterTrimNotification)(D3DKMT_REGISTERTRIMNOTIFICATION* pData);
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTUnregisterTrimNotification)(D3DKMT_UNREGISTERTRIMNOTIFICATION* pData);

/*
 * D3DKMTRegisterBudgetChangeNotification / ...Unregister... over
 * vkRegisterBudgetNotificationKMT: the callback gets the LOCAL segment
 * group's new budget each time it moves by more than 1/64 (the layer's rule);
 * over-budget notifications alone do not call it. Unregistering follows the
 * trim rules.
 */
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTRegisterBudgetChangeNotification)(D3DKMT_REGISTERBUDGETCHANGENOTIFICATION* pData);
NTSTATUS VK_KMT_D3DKMT_NAME(D3DKMTUnregisterBudgetChangeNotification)(
    const D3DKMT_UNREGISTERBUDGETCHANGENOTIFICATION* pData);

#endif /* VK_KMT_D3DKMT_NO_RESIDENCY */

#ifdef __cplusplus
}
#endif

#endif /* VK_KMT_D3DKMT_H_ */

/* ========================================================================= */
/* Implementation                                                            */
/* ========================================================================= */

#if defined(VK_KMT_D3DKMT_IMPLEMENTATION) && !defined(VK_KMT_D3DKMT_IMPLEMENTATION_DONE)
#define VK_KMT_D3DKMT_IMPLEMENTATION_DONE 1

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Non-dispatchable Vulkan handles are pointers on 64-bit targets and
 * uint64_t elsewhere. */
#if VK_USE_64_BIT_PTR_DEFINES == 1
#define VK_KMT_TO_U64(h) ((uint64_t)(uintptr_t)(h))
#define VK_KMT_FROM_U64(type, v) ((type)(uintptr_t)(v))
#else
#define VK_KMT_TO_U64(h) ((uint64_t)(h))
#define VK_KMT_FROM_U64(type, v) ((type)(v))
#endif

/* Handle bits: [31..20] generation (1..4095), [19..0] slot index. */
#define VK_KMT_INDEX_BITS 20u
#define VK_KMT_INDEX_MASK ((1u << VK_KMT_INDEX_BITS) - 1u)
#define VK_KMT_MAX_SLOTS (1u << VK_KMT_INDEX_BITS)
#define VK_KMT_GENERATION_MAX ((1u << (32u - VK_KMT_INDEX_BITS)) - 1u)
#define VK_KMT_NO_SLOT UINT32_MAX
/* Handle arrays up to this many entries are translated on the stack. */
#define VK_KMT_STACK_ENTRIES 32u

/* The device commands a registry device calls (fetched once, at open). */
struct vk_kmt_device_fns {
    VkDevice device;
    PFN_vkOfferAllocationsKMT offer;
    PFN_vkReclaimAllocationsKMT reclaim;
    PFN_vkGetPagingFenceKMT get_paging_fence;
    PFN_vkWaitSemaphores wait_semaphores; /* or vkWaitSemaphoresKHR: same signature */
    /* VK_KMT_residency (NULL on a device without it) */
    PFN_vkMakeResidentKMT make_resident;
    PFN_vkEvictKMT evict;
    PFN_vkSetResidencyPriorityKMT set_residency_priority;
    PFN_vkQueryVideoMemoryInfoKMT query_video_memory;
    PFN_vkRegisterBudgetNotificationKMT register_notification;
    PFN_vkUnregisterBudgetNotificationKMT unregister_notification;
};

/* One registry entry. A slot is live when kind != INVALID. */
struct vk_kmt_slot {
    uint32_t generation;    /* of the live handle, or of the next one when free */
    VkKmtHandleKind kind;
    D3DKMT_HANDLE owner;    /* owning device; the handle itself for a device */
    D3DKMT_HANDLE peer;     /* paging queue <-> its sync object */
    uint32_t next_free;     /* free-list link */
    /* Every non-device slot is on its owner's list of owned slots (so closing
     * a device costs what it owns, not the table size); a device slot holds
     * the head. */
    uint32_t owned_prev, owned_next, owned_head;
    uint64_t object;        /* see VkKmtHandleInfo::object */
    uint64_t fence;         /* paging queue: highest fence value returned through it */
    struct vk_kmt_device_fns* fns; /* device: its commands */
};

static pthread_mutex_t vk_kmt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vk_kmt_slot* vk_kmt_slots;
static uint32_t vk_kmt_slot_count; /* slots ever used */
static uint32_t vk_kmt_slot_capacity;
/* FIFO free list: the slot freed longest ago is reused first, which spreads
 * generations over all slots and postpones retirement. */
static uint32_t vk_kmt_free_head = VK_KMT_NO_SLOT;
static uint32_t vk_kmt_free_tail = VK_KMT_NO_SLOT;

static NTSTATUS
vk_kmt_status_from_vk(VkResult result)
{
    switch (result) {
    case VK_SUCCESS:
        return STATUS_SUCCESS;
    case VK_ERROR_VALIDATION_FAILED_EXT:
        return STATUS_INVALID_PARAMETER;
    case VK_ERROR_DEVICE_LOST:
        return STATUS_DEVICE_REMOVED;
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
        return STATUS_NO_MEMORY;
    case VK_ERROR_FEATURE_NOT_PRESENT:
    case VK_ERROR_EXTENSION_NOT_PRESENT:
        return STATUS_NOT_SUPPORTED;
    default:
        return STATUS_UNSUCCESSFUL;
    }
}

static D3DKMT_HANDLE
vk_kmt_make_handle(uint32_t index, uint32_t generation)
{
    return (D3DKMT_HANDLE)((generation << VK_KMT_INDEX_BITS) | index);
}

/* The live slot a handle names, of any kind, or NULL. */
static struct vk_kmt_slot*
vk_kmt_lookup_locked(D3DKMT_HANDLE handle)
{
    uint32_t index = (uint32_t)handle & VK_KMT_INDEX_MASK;
    uint32_t generation = (uint32_t)handle >> VK_KMT_INDEX_BITS;
    struct vk_kmt_slot* slot;

    if (handle == 0 || index >= vk_kmt_slot_count)
        return NULL;
    slot = &vk_kmt_slots[index];
    if (slot->kind == VK_KMT_HANDLE_KIND_INVALID || slot->generation != generation)
        return NULL;
    return slot;
}

static struct vk_kmt_slot*
vk_kmt_lookup_kind_locked(D3DKMT_HANDLE handle, VkKmtHandleKind kind)
{
    struct vk_kmt_slot* slot = vk_kmt_lookup_locked(handle);
    return slot && slot->kind == kind ? slot : NULL;
}

/* Takes a free slot, making the table bigger if needed. Returns its handle,
 * or 0 when out of memory or out of slots. */
static D3DKMT_HANDLE
vk_kmt_alloc_slot_locked(VkKmtHandleKind kind, D3DKMT_HANDLE owner, uint64_t object)
{
    uint32_t index;
    struct vk_kmt_slot* slot;

    if (vk_kmt_free_head != VK_KMT_NO_SLOT) {
        index = vk_kmt_free_head;
        vk_kmt_free_head = vk_kmt_slots[index].next_free;
        if (vk_kmt_free_head == VK_KMT_NO_SLOT)
            vk_kmt_free_tail = VK_KMT_NO_SLOT;
    } else {
        if (vk_kmt_slot_count == vk_kmt_slot_capacity) {
            uint32_t capacity = vk_kmt_slot_capacity ? vk_kmt_slot_capacity * 2u : 256u;
            struct vk_kmt_slot* slots;
            if (capacity > VK_KMT_MAX_SLOTS)
                capacity = VK_KMT_MAX_SLOTS;
            if (capacity == vk_kmt_slot_count)
                return 0;
            slots = (struct vk_kmt_slot*)realloc(vk_kmt_slots, capacity * sizeof(*slots));
            if (!slots)
                return 0;
            vk_kmt_slots = slots;
            vk_kmt_slot_capacity = capacity;
        }
        index = vk_kmt_slot_count++;
        vk_kmt_slots[index].generation = 1;
    }
    slot = &vk_kmt_slots[index];
    slot->kind = kind;
    slot->owner = owner;
    slot->peer = 0;
    slot->next_free = VK_KMT_NO_SLOT;
    slot->owned_prev = slot->owned_next = slot->owned_head = VK_KMT_NO_SLOT;
    slot->object = object;
    slot->fence = 0;
    slot->fns = NULL;
    if (kind != VK_KMT_HANDLE_KIND_DEVICE) {
        /* The caller checked that owner is a live device. */
        struct vk_kmt_slot* device = &vk_kmt_slots[owner & VK_KMT_INDEX_MASK];
        slot->owned_next = device->owned_head;
        if (device->owned_head != VK_KMT_NO_SLOT)
            vk_kmt_slots[device->owned_head].owned_prev = index;
        device->owned_head = index;
    }
    return vk_kmt_make_handle(index, slot->generation);
}

/* Invalidates a live slot: its handle goes stale for good. */
static void
vk_kmt_free_slot_locked(struct vk_kmt_slot* slot)
{
    uint32_t index = (uint32_t)(slot - vk_kmt_slots);

    if (slot->kind != VK_KMT_HANDLE_KIND_DEVICE) {
        struct vk_kmt_slot* device = &vk_kmt_slots[slot->owner & VK_KMT_INDEX_MASK];
        if (slot->owned_prev != VK_KMT_NO_SLOT)
            vk_kmt_slots[slot->owned_prev].owned_next = slot->owned_next;
        else
            device->owned_head = slot->owned_next;
        if (slot->owned_next != VK_KMT_NO_SLOT)
            vk_kmt_slots[slot->owned_next].owned_prev = slot->owned_prev;
    }
    free(slot->fns);
    slot->fns = NULL;
    slot->kind = VK_KMT_HANDLE_KIND_INVALID;
    slot->next_free = VK_KMT_NO_SLOT;
    if (slot->generation == VK_KMT_GENERATION_MAX)
        return; /* retired: reusing it would bring back an old handle value */
    slot->generation++;
    if (vk_kmt_free_tail == VK_KMT_NO_SLOT)
        vk_kmt_free_head = index;
    else
        vk_kmt_slots[vk_kmt_free_tail].next_free = index;
    vk_kmt_free_tail = index;
}

NTSTATUS
VkKmtOpenDevice(VkDevice device, PFN_vkGetDeviceProcAddr getDeviceProcAddr, D3DKMT_HANDLE* phDevice)
{
    struct vk_kmt_device_fns* fns;
    D3DKMT_HANDLE handle;

    if (phDevice)
        *phDevice = 0;
    if (device == VK_NULL_HANDLE || !getDeviceProcAddr || !phDevice)
        return STATUS_INVALID_PARAMETER;

    fns = (struct vk_kmt_device_fns*)calloc(1, sizeof(*fns));
    if (!fns)
        return STATUS_NO_MEMORY;
    fns->device = device;
    fns->offer = (PFN_vkOfferAllocationsKMT)getDeviceProcAddr(device, "vkOfferAllocationsKMT");
    fns->reclaim = (PFN_vkReclaimAllocationsKMT)getDeviceProcAddr(device, "vkReclaimAllocationsKMT");
    fns->get_paging_fence = (PFN_vkGetPagingFenceKMT)getDeviceProcAddr(device, "vkGetPagingFenceKMT");
    fns->wait_semaphores = (PFN_vkWaitSemaphores)getDeviceProcAddr(device, "vkWaitSemaphores");
    if (!fns->wait_semaphores)
        fns->wait_semaphores = (PFN_vkWaitSemaphores)getDeviceProcAddr(device, "vkWaitSemaphoresKHR");
    fns->make_resident = (PFN_vkMakeResidentKMT)getDeviceProcAddr(device, "vkMakeResidentKMT");
    fns->evict = (PFN_vkEvictKMT)getDeviceProcAddr(device, "vkEvictKMT");
    fns->set_residency_priority = (PFN_vkSetResidencyPriorityKMT)getDeviceProcAddr(device, "vkSetResidencyPriorityKMT");
    fns->query_video_memory = (PFN_vkQueryVideoMemoryInfoKMT)getDeviceProcAddr(device, "vkQueryVideoMemoryInfoKMT");
    fns->register_notification =
        (PFN_vkRegisterBudgetNotificationKMT)getDeviceProcAddr(device, "vkRegisterBudgetNotificationKMT");
    fns->unregister_notification =
        (PFN_vkUnregisterBudgetNotificationKMT)getDeviceProcAddr(device, "vkUnregisterBudgetNotificationKMT");
    /* Either extension (or both); the thunks of one the device lacks return
     * STATUS_NOT_SUPPORTED. */
    if (!(fns->offer && fns->reclaim) && !(fns->make_resident && fns->evict && fns->set_residency_priority &&
                                           fns->query_video_memory && fns->register_notification &&
                                           fns->unregister_notification)) {
        free(fns);
        return STATUS_INVALID_PARAMETER;
    }
    if (!fns->get_paging_fence || !fns->wait_semaphores) {
        free(fns);
        return STATUS_INVALID_PARAMETER;
    }

    pthread_mutex_lock(&vk_kmt_lock);
    handle = vk_kmt_alloc_slot_locked(VK_KMT_HANDLE_KIND_DEVICE, 0, (uint64_t)(uintptr_t)device);
    if (handle) {
        struct vk_kmt_slot* slot = &vk_kmt_slots[handle & VK_KMT_INDEX_MASK];
        slot->owner = handle;
        slot->fns = fns;
    }
    pthread_mutex_unlock(&vk_kmt_lock);
    if (!handle) {
        free(fns);
        return STATUS_NO_MEMORY;
    }
    *phDevice = handle;
    return STATUS_SUCCESS;
}

/* Waits until the device's paging timeline reaches value (0: no wait). */
static VkResult
vk_kmt_wait_paging(const struct vk_kmt_device_fns* fns, VkSemaphore semaphore, uint64_t value)
{
    VkSemaphoreWaitInfo info;

    if (value == 0)
        return VK_SUCCESS;
    memset(&info, 0, sizeof(info));
    info.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO;
    info.semaphoreCount = 1;
    info.pSemaphores = &semaphore;
    info.pValues = &value;
    return fns->wait_semaphores(fns->device, &info, UINT64_MAX);
}

NTSTATUS
VkKmtCloseDevice(D3DKMT_HANDLE hDevice)
{
    struct vk_kmt_slot* slot;
    struct vk_kmt_device_fns fns;
    uint64_t fence = 0;
    VkSemaphore semaphore = VK_NULL_HANDLE;
    uint32_t i;

    pthread_mutex_lock(&vk_kmt_lock);
    slot = vk_kmt_lookup_kind_locked(hDevice, VK_KMT_HANDLE_KIND_DEVICE);
    if (!slot) {
        pthread_mutex_unlock(&vk_kmt_lock);
        return STATUS_INVALID_PARAMETER;
    }
    fns = *slot->fns;
    for (i = slot->owned_head; i != VK_KMT_NO_SLOT; i = vk_kmt_slots[i].owned_next) {
        const struct vk_kmt_slot* s = &vk_kmt_slots[i];
        if (s->kind == VK_KMT_HANDLE_KIND_PAGING_QUEUE && s->fence > fence) {
            fence = s->fence;
            semaphore = VK_KMT_FROM_U64(VkSemaphore, s->object);
        }
    }
    pthread_mutex_unlock(&vk_kmt_lock);

    /* Outside the lock: the wait may take long. A lost device ends it. */
    (void)vk_kmt_wait_paging(&fns, semaphore, fence);

    pthread_mutex_lock(&vk_kmt_lock);
    slot = vk_kmt_lookup_kind_locked(hDevice, VK_KMT_HANDLE_KIND_DEVICE);
    if (!slot) { /* another thread closed it meanwhile */
        pthread_mutex_unlock(&vk_kmt_lock);
        return STATUS_INVALID_PARAMETER;
    }
    while (slot->owned_head != VK_KMT_NO_SLOT)
        vk_kmt_free_slot_locked(&vk_kmt_slots[slot->owned_head]);
    vk_kmt_free_slot_locked(slot);
    pthread_mutex_unlock(&vk_kmt_lock);
    return STATUS_SUCCESS;
}

static NTSTATUS
vk_kmt_register(D3DKMT_HANDLE hDevice, VkKmtHandleKind kind, uint64_t object, D3DKMT_HANDLE* phOut)
{
    D3DKMT_HANDLE handle;

    if (phOut)
        *phOut = 0;
    if (object == 0 || !phOut)
        return STATUS_INVALID_PARAMETER;
    pthread_mutex_lock(&vk_kmt_lock);
    if (!vk_kmt_lookup_kind_locked(hDevice, VK_KMT_HANDLE_KIND_DEVICE)) {
        pthread_mutex_unlock(&vk_kmt_lock);
        return STATUS_INVALID_PARAMETER;
    }
    handle = vk_kmt_alloc_slot_locked(kind, hDevice, object);
    pthread_mutex_unlock(&vk_kmt_lock);
    if (!handle)
        return STATUS_NO_MEMORY;
    *phOut = handle;
    return STATUS_SUCCESS;
}

NTSTATUS
VkKmtRegisterMemory(D3DKMT_HANDLE hDevice, VkDeviceMemory memory, D3DKMT_HANDLE* phAllocation)
{
    return vk_kmt_register(hDevice, VK_KMT_HANDLE_KIND_ALLOCATION, VK_KMT_TO_U64(memory), phAllocation);
}

NTSTATUS
VkKmtRegisterBuffer(D3DKMT_HANDLE hDevice, VkBuffer buffer, D3DKMT_HANDLE* phResource)
{
    return vk_kmt_register(hDevice, VK_KMT_HANDLE_KIND_BUFFER, VK_KMT_TO_U64(buffer), phResource);
}

NTSTATUS
VkKmtRegisterImage(D3DKMT_HANDLE hDevice, VkImage image, D3DKMT_HANDLE* phResource)
{
    return vk_kmt_register(hDevice, VK_KMT_HANDLE_KIND_IMAGE, VK_KMT_TO_U64(image), phResource);
}

NTSTATUS
VkKmtCloseHandle(D3DKMT_HANDLE handle)
{
    struct vk_kmt_slot* slot;
    NTSTATUS status = STATUS_INVALID_PARAMETER;

    pthread_mutex_lock(&vk_kmt_lock);
    slot = vk_kmt_lookup_locked(handle);
    if (slot && (slot->kind == VK_KMT_HANDLE_KIND_ALLOCATION || slot->kind == VK_KMT_HANDLE_KIND_BUFFER ||
                 slot->kind == VK_KMT_HANDLE_KIND_IMAGE)) {
        vk_kmt_free_slot_locked(slot);
        status = STATUS_SUCCESS;
    }
    pthread_mutex_unlock(&vk_kmt_lock);
    return status;
}

NTSTATUS
VkKmtGetHandleInfo(D3DKMT_HANDLE handle, VkKmtHandleInfo* pInfo)
{
    const struct vk_kmt_slot* slot;
    NTSTATUS status = STATUS_INVALID_PARAMETER;

    if (!pInfo)
        return STATUS_INVALID_PARAMETER;
    memset(pInfo, 0, sizeof(*pInfo));
    pthread_mutex_lock(&vk_kmt_lock);
    slot = vk_kmt_lookup_locked(handle);
    if (slot) {
        pInfo->kind = slot->kind;
        pInfo->hDevice = slot->owner;
        pInfo->object = slot->object;
        status = STATUS_SUCCESS;
    }
    pthread_mutex_unlock(&vk_kmt_lock);
    return status;
}

NTSTATUS
VkKmtGetSyncObjectSemaphore(D3DKMT_HANDLE hSyncObject, VkSemaphore* pSemaphore)
{
    const struct vk_kmt_slot* slot;
    NTSTATUS status = STATUS_INVALID_PARAMETER;

    if (!pSemaphore)
        return STATUS_INVALID_PARAMETER;
    *pSemaphore = VK_NULL_HANDLE;
    pthread_mutex_lock(&vk_kmt_lock);
    slot = vk_kmt_lookup_locked(hSyncObject);
    if (slot && (slot->kind == VK_KMT_HANDLE_KIND_SYNC_OBJECT || slot->kind == VK_KMT_HANDLE_KIND_PAGING_QUEUE)) {
        *pSemaphore = VK_KMT_FROM_U64(VkSemaphore, slot->object);
        status = STATUS_SUCCESS;
    }
    pthread_mutex_unlock(&vk_kmt_lock);
    return status;
}

/* ---- offer / reclaim ---- */

/* The handles of one offer / reclaim, translated for the layer. */
struct vk_kmt_request {
    struct vk_kmt_device_fns fns;
    uint32_t count;
    VkOfferResourceKMT* resources; /* or */
    VkDeviceMemory* memories;
    VkOfferResourceKMT resource_storage[VK_KMT_STACK_ENTRIES];
    VkDeviceMemory memory_storage[VK_KMT_STACK_ENTRIES];
};

static void
vk_kmt_request_finish(struct vk_kmt_request* req)
{
    if (req->resources && req->resources != req->resource_storage)
        free(req->resources);
    if (req->memories && req->memories != req->memory_storage)
        free(req->memories);
}

/*
 * Validates the handle part of an offer / reclaim and translates it. hOwner
 * is the device every handle must belong to (already checked to be a live
 * device by the caller, under the same lock). Returns STATUS_SUCCESS,
 * STATUS_INVALID_PARAMETER or STATUS_NO_MEMORY.
 */
static NTSTATUS
vk_kmt_translate_locked(struct vk_kmt_request* req, D3DKMT_HANDLE hOwner, const D3DKMT_HANDLE* pResources,
                        const D3DKMT_HANDLE* HandleList, UINT NumAllocations)
{
    uint32_t i;

    if (NumAllocations == 0 || NumAllocations > D3DKMT_MAKERESIDENT_ALLOC_MAX)
        return STATUS_INVALID_PARAMETER;
    if ((pResources == NULL) == (HandleList == NULL))
        return STATUS_INVALID_PARAMETER;
    req->count = NumAllocations;

    if (HandleList) {
        req->memories = req->memory_storage;
        if (NumAllocations > VK_KMT_STACK_ENTRIES) {
            req->memories = (VkDeviceMemory*)malloc(NumAllocations * sizeof(VkDeviceMemory));
            if (!req->memories)
                return STATUS_NO_MEMORY;
        }
        for (i = 0; i < NumAllocations; i++) {
            const struct vk_kmt_slot* slot = vk_kmt_lookup_kind_locked(HandleList[i], VK_KMT_HANDLE_KIND_ALLOCATION);
            if (!slot || slot->owner != hOwner)
                return STATUS_INVALID_PARAMETER;
            req->memories[i] = VK_KMT_FROM_U64(VkDeviceMemory, slot->object);
        }
    } else {
        req->resources = req->resource_storage;
        if (NumAllocations > VK_KMT_STACK_ENTRIES) {
            req->resources = (VkOfferResourceKMT*)malloc(NumAllocations * sizeof(VkOfferResourceKMT));
            if (!req->resources)
                return STATUS_NO_MEMORY;
        }
        for (i = 0; i < NumAllocations; i++) {
            const struct vk_kmt_slot* slot = vk_kmt_lookup_locked(pResources[i]);
            if (!slot || slot->owner != hOwner)
                return STATUS_INVALID_PARAMETER;
            if (slot->kind == VK_KMT_HANDLE_KIND_BUFFER)
                req->resources[i].objectType = VK_OBJECT_TYPE_BUFFER;
            else if (slot->kind == VK_KMT_HANDLE_KIND_IMAGE)
                req->resources[i].objectType = VK_OBJECT_TYPE_IMAGE;
            else
                return STATUS_INVALID_PARAMETER;
            req->resources[i].objectHandle = slot->object;
        }
    }
    return STATUS_SUCCESS;
}

/* Looks up hDevice (a device handle), validates and translates the handles. */
static NTSTATUS
vk_kmt_begin_request(struct vk_kmt_request* req, D3DKMT_HANDLE hDevice, const D3DKMT_HANDLE* pResources,
                     const D3DKMT_HANDLE* HandleList, UINT NumAllocations)
{
    const struct vk_kmt_slot* device;
    NTSTATUS status;

    memset(req, 0, sizeof(*req));
    pthread_mutex_lock(&vk_kmt_lock);
    device = vk_kmt_lookup_kind_locked(hDevice, VK_KMT_HANDLE_KIND_DEVICE);
    if (!device) {
        pthread_mutex_unlock(&vk_kmt_lock);
        return STATUS_INVALID_PARAMETER;
    }
    req->fns = *device->fns;
    status = vk_kmt_translate_locked(req, hDevice, pResources, HandleList, NumAllocations);
    pthread_mutex_unlock(&vk_kmt_lock);
    if (!NT_SUCCESS(status))
        vk_kmt_request_finish(req);
    return status;
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTOfferAllocations)(const D3DKMT_OFFERALLOCATIONS* pData)
{
    struct vk_kmt_request req;
    VkOfferAllocationsInfoKMT info;
    NTSTATUS status;
    VkResult result;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    /* Compared as an integer: the caller may pass any 32-bit value. */
    if ((UINT)pData->Priority - 1u > 3u) /* not LOW..AUTO (1..4) */
        return STATUS_INVALID_PARAMETER;
    if (pData->Flags.Value & ~(UINT)(VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT))
        return STATUS_INVALID_PARAMETER;
    status = vk_kmt_begin_request(&req, pData->hDevice, pData->pResources, pData->HandleList,
                                  pData->NumAllocations);
    if (!NT_SUCCESS(status))
        return status;

    memset(&info, 0, sizeof(info));
    info.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT;
    info.allocationCount = req.count;
    info.pResources = req.resources;
    info.pMemories = req.memories;
    info.priority = (VkOfferPriorityKMT)pData->Priority;
    info.flags = (VkOfferFlagsKMT)pData->Flags.Value;
    /* A device with VK_KMT_residency alone has no offers. */
    result = req.fns.offer ? req.fns.offer(req.fns.device, &info) : VK_ERROR_EXTENSION_NOT_PRESENT;
    vk_kmt_request_finish(&req);
    return vk_kmt_status_from_vk(result);
}

/*
 * Calls vkReclaimAllocationsKMT for a translated request. results (count
 * entries, may be NULL) receives D3DDDI_RECLAIM_RESULT values; it is written
 * on success and, as all DISCARDED, on device loss.
 */
static VkResult
vk_kmt_reclaim(struct vk_kmt_request* req, D3DDDI_RECLAIM_RESULT* results, BOOL* discarded, uint64_t* fence)
{
    VkReclaimAllocationsInfoKMT info;
    VkReclaimResultKMT storage[VK_KMT_STACK_ENTRIES];
    VkReclaimResultKMT* vk_results = NULL;
    VkResult result;
    uint32_t i;

    *fence = 0;
    if (!req->fns.reclaim)
        return VK_ERROR_EXTENSION_NOT_PRESENT; /* VK_KMT_residency alone: STATUS_NOT_SUPPORTED */
    if (results || discarded) {
        vk_results = storage;
        if (req->count > VK_KMT_STACK_ENTRIES) {
            vk_results = (VkReclaimResultKMT*)malloc(req->count * sizeof(VkReclaimResultKMT));
            if (!vk_results)
                return VK_ERROR_OUT_OF_HOST_MEMORY;
        }
        /* What a lost device reports, whether or not the layer writes. */
        for (i = 0; i < req->count; i++)
            vk_results[i] = VK_RECLAIM_RESULT_DISCARDED_KMT;
    }

    memset(&info, 0, sizeof(info));
    info.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT;
    info.allocationCount = req->count;
    info.pResources = req->resources;
    info.pMemories = req->memories;
    info.pResults = vk_results;
    result = req->fns.reclaim(req->fns.device, &info, fence);
    if (result != VK_SUCCESS)
        *fence = 0;

    if (vk_results && (result == VK_SUCCESS || result == VK_ERROR_DEVICE_LOST)) {
        for (i = 0; i < req->count; i++) {
            VkReclaimResultKMT r = vk_results[i];
            if (r != VK_RECLAIM_RESULT_OK_KMT && r != VK_RECLAIM_RESULT_DISCARDED_KMT &&
                r != VK_RECLAIM_RESULT_NOT_COMMITTED_KMT)
                r = VK_RECLAIM_RESULT_DISCARDED_KMT; /* never report an unknown value as "kept" */
            if (results)
                results[i] = (D3DDDI_RECLAIM_RESULT)r;
            if (discarded)
                discarded[i] = r == VK_RECLAIM_RESULT_OK_KMT ? FALSE : TRUE;
        }
    }
    if (vk_results && vk_results != storage)
        free(vk_results);
    return result;
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTReclaimAllocations)(D3DKMT_RECLAIMALLOCATIONS* pData)
{
    struct vk_kmt_request req;
    NTSTATUS status;
    VkResult result;
    uint64_t fence = 0;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    status = vk_kmt_begin_request(&req, pData->hDevice, pData->pResources, pData->HandleList,
                                  pData->NumAllocations);
    if (!NT_SUCCESS(status))
        return status;
    result = vk_kmt_reclaim(&req, NULL, pData->pDiscarded, &fence);
    vk_kmt_request_finish(&req);

    if (result == VK_SUCCESS && fence != 0) {
        /* Windows 8 reclaim is synchronous: wait for the paging work. */
        VkSemaphore semaphore = VK_NULL_HANDLE;
        result = req.fns.get_paging_fence(req.fns.device, &semaphore);
        if (result == VK_SUCCESS)
            result = vk_kmt_wait_paging(&req.fns, semaphore, fence);
        if (result == VK_ERROR_DEVICE_LOST && pData->pDiscarded) {
            UINT i;
            for (i = 0; i < pData->NumAllocations; i++)
                pData->pDiscarded[i] = TRUE;
        }
    }
    return vk_kmt_status_from_vk(result);
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTReclaimAllocations2)(D3DKMT_RECLAIMALLOCATIONS2* pData)
{
    struct vk_kmt_request req;
    const struct vk_kmt_slot* queue;
    struct vk_kmt_slot* slot;
    D3DKMT_HANDLE hDevice;
    NTSTATUS status;
    VkResult result;
    uint64_t fence = 0;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    pData->PagingFenceValue = 0;

    memset(&req, 0, sizeof(req));
    pthread_mutex_lock(&vk_kmt_lock);
    queue = vk_kmt_lookup_kind_locked(pData->hPagingQueue, VK_KMT_HANDLE_KIND_PAGING_QUEUE);
    if (!queue) {
        pthread_mutex_unlock(&vk_kmt_lock);
        return STATUS_INVALID_PARAMETER;
    }
    hDevice = queue->owner;
    req.fns = *vk_kmt_lookup_kind_locked(hDevice, VK_KMT_HANDLE_KIND_DEVICE)->fns;
    status = vk_kmt_translate_locked(&req, hDevice, pData->pResources, pData->HandleList, pData->NumAllocations);
    pthread_mutex_unlock(&vk_kmt_lock);
    if (!NT_SUCCESS(status)) {
        vk_kmt_request_finish(&req);
        return status;
    }

    /* Results are always written in D3DDDI_RECLAIM_RESULT form (see the doc). */
    result = vk_kmt_reclaim(&req, pData->pResults, NULL, &fence);
    vk_kmt_request_finish(&req);
    if (result != VK_SUCCESS)
        return vk_kmt_status_from_vk(result);

    pData->PagingFenceValue = fence;
    if (fence != 0) {
        /* Remember it for D3DKMTDestroyPagingQueue (if the queue still lives). */
        pthread_mutex_lock(&vk_kmt_lock);
        slot = vk_kmt_lookup_kind_locked(pData->hPagingQueue, VK_KMT_HANDLE_KIND_PAGING_QUEUE);
        if (slot && slot->fence < fence)
            slot->fence = fence;
        pthread_mutex_unlock(&vk_kmt_lock);
    }
    return STATUS_SUCCESS;
}

/* ---- paging queues ---- */

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTCreatePagingQueue)(D3DKMT_CREATEPAGINGQUEUE* pData)
{
    const struct vk_kmt_slot* device;
    struct vk_kmt_device_fns fns;
    VkSemaphore semaphore = VK_NULL_HANDLE;
    D3DKMT_HANDLE queue, sync = 0;
    VkResult result;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    pData->hPagingQueue = 0;
    pData->hSyncObject = 0;
    /* All of the field: 8 bytes in the fixed layout, also for a 32-bit
     * pointer (the WDK's D3DKMT_PTR union), so a 64-bit reader sees NULL. */
    memset(&pData->FenceValueCPUVirtualAddress, 0,
           VK_KMT_D3DKMT_FIXED_LAYOUT ? sizeof(UINT64) : sizeof(pData->FenceValueCPUVirtualAddress));
    if ((int)pData->Priority < -1 || (int)pData->Priority > 1 /* BELOW_NORMAL..ABOVE_NORMAL */ ||
        pData->PhysicalAdapterIndex != 0)
        return STATUS_INVALID_PARAMETER;

    pthread_mutex_lock(&vk_kmt_lock);
    device = vk_kmt_lookup_kind_locked(pData->hDevice, VK_KMT_HANDLE_KIND_DEVICE);
    if (device)
        fns = *device->fns;
    pthread_mutex_unlock(&vk_kmt_lock);
    if (!device)
        return STATUS_INVALID_PARAMETER;

    result = fns.get_paging_fence(fns.device, &semaphore);
    if (result != VK_SUCCESS)
        return vk_kmt_status_from_vk(result);
    if (semaphore == VK_NULL_HANDLE)
        return STATUS_UNSUCCESSFUL;

    pthread_mutex_lock(&vk_kmt_lock);
    if (!vk_kmt_lookup_kind_locked(pData->hDevice, VK_KMT_HANDLE_KIND_DEVICE)) {
        pthread_mutex_unlock(&vk_kmt_lock); /* closed by another thread meanwhile */
        return STATUS_INVALID_PARAMETER;
    }
    queue = vk_kmt_alloc_slot_locked(VK_KMT_HANDLE_KIND_PAGING_QUEUE, pData->hDevice, VK_KMT_TO_U64(semaphore));
    if (queue)
        sync = vk_kmt_alloc_slot_locked(VK_KMT_HANDLE_KIND_SYNC_OBJECT, pData->hDevice, VK_KMT_TO_U64(semaphore));
    if (!sync) {
        if (queue)
            vk_kmt_free_slot_locked(vk_kmt_lookup_locked(queue));
        pthread_mutex_unlock(&vk_kmt_lock);
        return STATUS_NO_MEMORY;
    }
    vk_kmt_lookup_locked(queue)->peer = sync;
    vk_kmt_lookup_locked(sync)->peer = queue;
    pthread_mutex_unlock(&vk_kmt_lock);

    pData->hPagingQueue = queue;
    pData->hSyncObject = sync;
    return STATUS_SUCCESS;
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTDestroyPagingQueue)(const D3DDDI_DESTROYPAGINGQUEUE* pData)
{
    struct vk_kmt_slot* queue;
    struct vk_kmt_slot* sync;
    struct vk_kmt_device_fns fns;
    VkSemaphore semaphore;
    uint64_t waited = 0, fence;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    for (;;) {
        pthread_mutex_lock(&vk_kmt_lock);
        queue = vk_kmt_lookup_kind_locked(pData->hPagingQueue, VK_KMT_HANDLE_KIND_PAGING_QUEUE);
        if (!queue) {
            pthread_mutex_unlock(&vk_kmt_lock);
            return STATUS_INVALID_PARAMETER;
        }
        fence = queue->fence;
        if (fence <= waited)
            break; /* still locked: nothing new was queued while we waited */
        fns = *vk_kmt_lookup_kind_locked(queue->owner, VK_KMT_HANDLE_KIND_DEVICE)->fns;
        semaphore = VK_KMT_FROM_U64(VkSemaphore, queue->object);
        pthread_mutex_unlock(&vk_kmt_lock);

        if (vk_kmt_wait_paging(&fns, semaphore, fence) != VK_SUCCESS)
            fence = UINT64_MAX; /* lost (or broken) device: the work will never finish */
        waited = fence;
    }
    sync = vk_kmt_lookup_kind_locked(queue->peer, VK_KMT_HANDLE_KIND_SYNC_OBJECT);
    if (sync)
        vk_kmt_free_slot_locked(sync);
    vk_kmt_free_slot_locked(queue);
    pthread_mutex_unlock(&vk_kmt_lock);
    return STATUS_SUCCESS;
}

/* ========================================================================= */
/* Residency (VK_KMT_residency): the thunks declared in the residency section */
/* ========================================================================= */
#ifndef VK_KMT_D3DKMT_NO_RESIDENCY

/* The device behind hDevice with its commands, under the lock. */
static const struct vk_kmt_slot*
vk_kmt_device_locked(D3DKMT_HANDLE hDevice, struct vk_kmt_device_fns* fns)
{
    const struct vk_kmt_slot* device = vk_kmt_lookup_kind_locked(hDevice, VK_KMT_HANDLE_KIND_DEVICE);
    if (device)
        *fns = *device->fns;
    return device;
}

static VkDeviceMemory*
vk_kmt_residency_memories(struct vk_kmt_request* req)
{
    return req->memories;
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTMakeResident)(D3DDDI_MAKERESIDENT* pData)
{
    struct vk_kmt_request req;
    const struct vk_kmt_slot* queue;
    struct vk_kmt_slot* slot;
    VkMakeResidentInfoKMT info;
    NTSTATUS status;
    VkResult result;
    uint64_t fence = 0;
    VkDeviceSize trim = 0;
    UINT count;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    count = pData->NumAllocations;
    pData->NumAllocations = 0;
    pData->PagingFenceValue = 0;
    pData->NumBytesToTrim = 0;
    if (pData->Flags.Value & ~(UINT)(VK_MAKE_RESIDENT_CANT_TRIM_FURTHER_BIT_KMT | VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT))
        return STATUS_INVALID_PARAMETER;
    if (pData->Flags.MustSucceed && !pData->Flags.CantTrimFurther)
        return STATUS_INVALID_PARAMETER;

    memset(&req, 0, sizeof(req));
    pthread_mutex_lock(&vk_kmt_lock);
    queue = vk_kmt_lookup_kind_locked(pData->hPagingQueue, VK_KMT_HANDLE_KIND_PAGING_QUEUE);
    if (!queue) {
        pthread_mutex_unlock(&vk_kmt_lock);
        return STATUS_INVALID_PARAMETER;
    }
    vk_kmt_device_locked(queue->owner, &req.fns);
    status = req.fns.make_resident ? vk_kmt_translate_locked(&req, queue->owner, NULL, pData->AllocationList, count)
                                   : STATUS_NOT_SUPPORTED;
    pthread_mutex_unlock(&vk_kmt_lock);
    if (!NT_SUCCESS(status)) {
        vk_kmt_request_finish(&req);
        return status;
    }

    memset(&info, 0, sizeof(info));
    info.sType = VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT;
    info.allocationCount = req.count;
    info.pMemories = vk_kmt_residency_memories(&req);
    info.pPriorities = pData->PriorityList;
    info.flags = (VkMakeResidentFlagsKMT)pData->Flags.Value;
    result = req.fns.make_resident(req.fns.device, &info, &fence, &trim);
    vk_kmt_request_finish(&req);
    if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
        pData->NumBytesToTrim = trim; /* nothing changed */
        return STATUS_NO_MEMORY;
    }
    if (result != VK_SUCCESS)
        return vk_kmt_status_from_vk(result);
    pData->NumAllocations = count;
    pData->NumBytesToTrim = trim;
    pData->PagingFenceValue = fence;
    if (fence == 0)
        return STATUS_SUCCESS;
    /* Paging work is queued: D3DKMTDestroyPagingQueue waits for it too. */
    pthread_mutex_lock(&vk_kmt_lock);
    slot = vk_kmt_lookup_kind_locked(pData->hPagingQueue, VK_KMT_HANDLE_KIND_PAGING_QUEUE);
    if (slot && slot->fence < fence)
        slot->fence = fence;
    pthread_mutex_unlock(&vk_kmt_lock);
    return STATUS_PENDING;
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTEvict)(D3DKMT_EVICT* pData)
{
    struct vk_kmt_request req;
    VkEvictInfoKMT info;
    NTSTATUS status;
    VkResult result;
    VkDeviceSize trim = 0;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    pData->NumBytesToTrim = 0;
    if (pData->Flags.Reserved)
        return STATUS_INVALID_PARAMETER;
    status = vk_kmt_begin_request(&req, pData->hDevice, NULL, pData->AllocationList, pData->NumAllocations);
    if (!NT_SUCCESS(status))
        return status;
    if (!req.fns.evict) {
        vk_kmt_request_finish(&req);
        return STATUS_NOT_SUPPORTED;
    }
    memset(&info, 0, sizeof(info));
    info.sType = VK_STRUCTURE_TYPE_EVICT_INFO_KMT;
    info.allocationCount = req.count;
    info.pMemories = vk_kmt_residency_memories(&req);
    info.flags = (VkEvictFlagsKMT)pData->Flags.Value;
    result = req.fns.evict(req.fns.device, &info, &trim);
    vk_kmt_request_finish(&req);
    if (result == VK_SUCCESS)
        pData->NumBytesToTrim = trim;
    return vk_kmt_status_from_vk(result);
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTSetAllocationPriority)(const D3DKMT_SETALLOCATIONPRIORITY* pData)
{
    struct vk_kmt_request req;
    NTSTATUS status;
    VkResult result;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    if (pData->hResource != 0)
        return STATUS_NOT_SUPPORTED; /* see the declaration */
    if (!pData->pPriorities)
        return STATUS_INVALID_PARAMETER;
    status = vk_kmt_begin_request(&req, pData->hDevice, NULL, pData->phAllocationList, pData->AllocationCount);
    if (!NT_SUCCESS(status))
        return status;
    if (!req.fns.set_residency_priority) {
        vk_kmt_request_finish(&req);
        return STATUS_NOT_SUPPORTED;
    }
    result = req.fns.set_residency_priority(req.fns.device, req.count, vk_kmt_residency_memories(&req),
                                            pData->pPriorities);
    vk_kmt_request_finish(&req);
    return vk_kmt_status_from_vk(result);
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTQueryVideoMemoryInfo)(D3DKMT_QUERYVIDEOMEMORYINFO* pData)
{
    struct vk_kmt_device_fns fns;
    VkVideoMemoryInfoKMT info;
    const struct vk_kmt_slot* device;
    VkResult result;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    if (pData->hProcess != NULL || pData->PhysicalAdapterIndex != 0 ||
        (UINT)pData->MemorySegmentGroup > (UINT)D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL)
        return STATUS_INVALID_PARAMETER;
    pthread_mutex_lock(&vk_kmt_lock);
    device = vk_kmt_device_locked(pData->hAdapter, &fns);
    pthread_mutex_unlock(&vk_kmt_lock);
    if (!device)
        return STATUS_INVALID_PARAMETER;
    if (!fns.query_video_memory)
        return STATUS_NOT_SUPPORTED;
    memset(&info, 0, sizeof(info));
    info.sType = VK_STRUCTURE_TYPE_VIDEO_MEMORY_INFO_KMT;
    result = fns.query_video_memory(fns.device, (VkMemorySegmentGroupKMT)pData->MemorySegmentGroup, &info);
    if (result != VK_SUCCESS)
        return vk_kmt_status_from_vk(result);
    pData->Budget = info.budget;
    pData->CurrentUsage = info.currentUsage;
    pData->CurrentReservation = info.currentReservation;
    pData->AvailableForReservation = info.availableForReservation;
    return STATUS_SUCCESS;
}

/* ---- trim and budget-change notifications ---- */

/* One D3DKMT registration over one vkRegisterBudgetNotificationKMT cookie. Its
 * address is the D3DKMT Handle; live ones are listed so that a stale or
 * foreign Handle is rejected, never dereferenced. */
struct vk_kmt_notification {
    int budget_change; /* 0: trim notifications */
    PFND3DKMT_TRIMNOTIFICATIONCALLBACK trim;
    PFND3DKMT_BUDGETCHANGENOTIFICATIONCALLBACK budget;
    void* context;
    VkDevice device;
    PFN_vkUnregisterBudgetNotificationKMT unregister;
    uint64_t cookie;
    uint64_t last_budget; /* budget change: the LOCAL budget last delivered (the notification thread's) */
    struct vk_kmt_notification* next;
};

static struct vk_kmt_notification* vk_kmt_notifications; /* under vk_kmt_lock */

/* Runs on the layer's notification thread. Everything it needs is read
 * before the app's callback, which may unregister (and free) the record. */
static void VKAPI_PTR
vk_kmt_notify(const VkBudgetNotificationKMT* n, void* user)
{
    struct vk_kmt_notification* r = (struct vk_kmt_notification*)user;
    if (r->budget_change) {
        D3DKMT_BUDGETCHANGENOTIFICATION note;
        PFND3DKMT_BUDGETCHANGENOTIFICATIONCALLBACK callback = r->budget;
        if (n->segmentGroup != VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT || n->budget == r->last_budget)
            return; /* an over-budget notice, or the other group */
        r->last_budget = n->budget;
        memset(&note, 0, sizeof(note));
        note.Context = r->context;
        note.Budget = n->budget;
        callback(&note);
    } else {
        D3DKMT_TRIMNOTIFICATION note;
        PFND3DKMT_TRIMNOTIFICATIONCALLBACK callback = r->trim;
        if (n->bytesToTrim == 0)
            return; /* a budget change alone is no trim */
        memset(&note, 0, sizeof(note));
        note.Context = r->context;
        note.Flags.TrimToBudget = 1;
        note.NumBytesToTrim = n->bytesToTrim;
        callback(&note);
    }
}

static NTSTATUS
vk_kmt_notification_register(D3DKMT_HANDLE hDevice, struct vk_kmt_notification* proto, void** phandle)
{
    struct vk_kmt_device_fns fns;
    struct vk_kmt_notification* r;
    const struct vk_kmt_slot* device;
    VkResult result;

    pthread_mutex_lock(&vk_kmt_lock);
    device = vk_kmt_device_locked(hDevice, &fns);
    pthread_mutex_unlock(&vk_kmt_lock);
    if (!device)
        return STATUS_INVALID_PARAMETER;
    if (!fns.register_notification || !fns.query_video_memory)
        return STATUS_NOT_SUPPORTED;
    r = (struct vk_kmt_notification*)calloc(1, sizeof(*r));
    if (!r)
        return STATUS_NO_MEMORY;
    *r = *proto;
    r->device = fns.device;
    r->unregister = fns.unregister_notification;
    if (r->budget_change) {
        /* The budget now is not news. */
        VkVideoMemoryInfoKMT info;
        memset(&info, 0, sizeof(info));
        info.sType = VK_STRUCTURE_TYPE_VIDEO_MEMORY_INFO_KMT;
        if (fns.query_video_memory(fns.device, VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT, &info) == VK_SUCCESS)
            r->last_budget = info.budget;
    }
    result = fns.register_notification(fns.device, vk_kmt_notify, r, &r->cookie);
    if (result != VK_SUCCESS) {
        free(r);
        return vk_kmt_status_from_vk(result);
    }
    pthread_mutex_lock(&vk_kmt_lock);
    r->next = vk_kmt_notifications;
    vk_kmt_notifications = r;
    pthread_mutex_unlock(&vk_kmt_lock);
    *phandle = r;
    return STATUS_SUCCESS;
}

static NTSTATUS
vk_kmt_notification_unregister(void* handle, int budget_change, PFND3DKMT_TRIMNOTIFICATIONCALLBACK trim)
{
    struct vk_kmt_notification** p;
    struct vk_kmt_notification* r = NULL;

    pthread_mutex_lock(&vk_kmt_lock);
    for (p = &vk_kmt_notifications; *p; p = &(*p)->next) {
        if (*p == handle) {
            r = *p;
            break;
        }
    }
    if (!r || r->budget_change != budget_change || (!budget_change && r->trim != trim)) {
        pthread_mutex_unlock(&vk_kmt_lock);
        return STATUS_INVALID_PARAMETER;
    }
    *p = r->next;
    pthread_mutex_unlock(&vk_kmt_lock);
    /* Waits for a callback in progress, unless this is inside it. */
    r->unregister(r->device, r->cookie);
    free(r);
    return STATUS_SUCCESS;
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTRegisterTrimNotification)(D3DKMT_REGISTERTRIMNOTIFICATION* pData)
{
    struct vk_kmt_notification proto;
    void* handle = NULL;
    NTSTATUS status;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    memset(&pData->Handle, 0, VK_KMT_D3DKMT_FIXED_LAYOUT ? sizeof(UINT64) : sizeof(pData->Handle));
    if (!pData->Callback)
        return STATUS_INVALID_PARAMETER;
    memset(&proto, 0, sizeof(proto));
    proto.trim = pData->Callback;
    proto.context = pData->Context;
    status = vk_kmt_notification_register(pData->hDevice, &proto, &handle);
    if (NT_SUCCESS(status))
        pData->Handle = handle;
    return status;
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTUnregisterTrimNotification)(D3DKMT_UNREGISTERTRIMNOTIFICATION* pData)
{
    if (!pData || !pData->Callback)
        return STATUS_INVALID_PARAMETER;
    return vk_kmt_notification_unregister(pData->Handle, 0, pData->Callback);
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTRegisterBudgetChangeNotification)(D3DKMT_REGISTERBUDGETCHANGENOTIFICATION* pData)
{
    struct vk_kmt_notification proto;
    void* handle = NULL;
    NTSTATUS status;

    if (!pData)
        return STATUS_INVALID_PARAMETER;
    memset(&pData->Handle, 0, VK_KMT_D3DKMT_FIXED_LAYOUT ? sizeof(UINT64) : sizeof(pData->Handle));
    if (!pData->Callback)
        return STATUS_INVALID_PARAMETER;
    memset(&proto, 0, sizeof(proto));
    proto.budget_change = 1;
    proto.budget = pData->Callback;
    proto.context = pData->Context;
    status = vk_kmt_notification_register(pData->hDevice, &proto, &handle);
    if (NT_SUCCESS(status))
        pData->Handle = handle;
    return status;
}

NTSTATUS
VK_KMT_D3DKMT_NAME(D3DKMTUnregisterBudgetChangeNotification)(const D3DKMT_UNREGISTERBUDGETCHANGENOTIFICATION* pData)
{
    if (!pData)
        return STATUS_INVALID_PARAMETER;
    return vk_kmt_notification_unregister(pData->Handle, 1, NULL);
}

#endif /* VK_KMT_D3DKMT_NO_RESIDENCY */

#ifdef __cplusplus
}
#endif

#endif /* VK_KMT_D3DKMT_IMPLEMENTATION */

// SPDX-License-Identifier: MIT
// The opt-outs of vk_kmt/d3dkmt.h for builds that already have the Windows
// types (Wine, MinGW, the WDK): this translation unit plays such a build. It
// declares the base types and the WDK structs itself, the way Wine's
// <windef.h> / <ddk/d3dkmthk.h> do, then includes the header with
// VK_KMT_D3DKMT_NO_TYPES and VK_KMT_D3DKMT_PREFIXED_NAMES. It compiles only if
// the header defines nothing twice, and the header's layout asserts then check
// the foreign definitions.
#define VK_KMT_D3DKMT_NO_RESIDENCY 1 /* this build's header has no residency types (see the header) */
#define _WINDEF_ 1 /* what <windef.h> defines */
#define _NTDEF_ 1  /* what <ntdef.h> defines */
typedef int LONG;  /* Wine's LONG on LP64 targets */
typedef unsigned int UINT;
typedef int BOOL;
typedef unsigned long long UINT64;
typedef LONG NTSTATUS;
#define STATUS_SUCCESS ((NTSTATUS)0x00000000)
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000D)

typedef UINT D3DKMT_HANDLE;
typedef enum _D3DKMT_OFFER_PRIORITY {
  D3DKMT_OFFER_PRIORITY_LOW = 1,
  D3DKMT_OFFER_PRIORITY_NORMAL,
  D3DKMT_OFFER_PRIORITY_HIGH,
  D3DKMT_OFFER_PRIORITY_AUTO,
} D3DKMT_OFFER_PRIORITY;
typedef struct _D3DKMT_OFFER_FLAGS {
  union {
    struct {
      UINT OfferImmediately : 1;
      UINT AllowDecommit : 1;
      UINT Reserved : 30;
    };
    UINT Value;
  };
} D3DKMT_OFFER_FLAGS;
typedef enum _D3DDDI_RECLAIM_RESULT {
  D3DDDI_RECLAIM_RESULT_OK = 0,
  D3DDDI_RECLAIM_RESULT_DISCARDED = 1,
  D3DDDI_RECLAIM_RESULT_NOT_COMMITTED = 2,
} D3DDDI_RECLAIM_RESULT;
typedef enum _D3DDDI_PAGINGQUEUE_PRIORITY {
  D3DDDI_PAGINGQUEUE_PRIORITY_BELOW_NORMAL = -1,
  D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL = 0,
  D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL = 1,
} D3DDDI_PAGINGQUEUE_PRIORITY;
typedef struct _D3DKMT_OFFERALLOCATIONS {
  D3DKMT_HANDLE hDevice;
  D3DKMT_HANDLE* pResources;
  const D3DKMT_HANDLE* HandleList;
  UINT NumAllocations;
  D3DKMT_OFFER_PRIORITY Priority;
  D3DKMT_OFFER_FLAGS Flags;
} D3DKMT_OFFERALLOCATIONS;
typedef struct _D3DKMT_RECLAIMALLOCATIONS {
  D3DKMT_HANDLE hDevice;
  D3DKMT_HANDLE* pResources;
  const D3DKMT_HANDLE* HandleList;
  BOOL* pDiscarded;
  UINT NumAllocations;
} D3DKMT_RECLAIMALLOCATIONS;
typedef struct _D3DKMT_RECLAIMALLOCATIONS2 {
  D3DKMT_HANDLE hPagingQueue;
  UINT NumAllocations;
  D3DKMT_HANDLE* pResources;
  const D3DKMT_HANDLE* HandleList;
  union {
    BOOL* pDiscarded;
    D3DDDI_RECLAIM_RESULT* pResults;
  };
  alignas(8) UINT64 PagingFenceValue; /* the WDK's D3DKMT_ALIGN64 (MSVC's own alignment) */
} D3DKMT_RECLAIMALLOCATIONS2;
typedef struct _D3DKMT_CREATEPAGINGQUEUE {
  D3DKMT_HANDLE hDevice;
  D3DDDI_PAGINGQUEUE_PRIORITY Priority;
  D3DKMT_HANDLE hPagingQueue;
  D3DKMT_HANDLE hSyncObject;
  void* FenceValueCPUVirtualAddress;
  UINT PhysicalAdapterIndex;
} D3DKMT_CREATEPAGINGQUEUE;
typedef struct _D3DDDI_DESTROYPAGINGQUEUE {
  D3DKMT_HANDLE hPagingQueue;
} D3DDDI_DESTROYPAGINGQUEUE;

#define VK_KMT_D3DKMT_NO_TYPES
#define VK_KMT_D3DKMT_PREFIXED_NAMES
// The definitions above have natural pointers, as headers written for Windows
// do: a 32-bit build that uses them says so, and the header then asserts the
// x86 layout instead of the WDK's fixed non-Windows one.
#include <stdint.h>
#if UINTPTR_MAX == 0xFFFFFFFFu
#define VK_KMT_D3DKMT_FIXED_LAYOUT 0
#endif
#include <vk_kmt/d3dkmt.h>

#include <gtest/gtest.h>

#include <type_traits>

// The thunks got the VkKmt prefix (so they cannot clash with gdi32's
// D3DKMT* exports) and keep the WDK signatures. Only declared here: this test
// binary compiles the implementation with the WDK names.
static_assert(std::is_same<decltype(&VkKmtD3DKMTOfferAllocations), NTSTATUS (*)(const D3DKMT_OFFERALLOCATIONS*)>::value,
              "");
static_assert(std::is_same<decltype(&VkKmtD3DKMTReclaimAllocations2), NTSTATUS (*)(D3DKMT_RECLAIMALLOCATIONS2*)>::value,
              "");
static_assert(std::is_same<decltype(&VkKmtD3DKMTDestroyPagingQueue),
                           NTSTATUS (*)(const D3DDDI_DESTROYPAGINGQUEUE*)>::value,
              "");

TEST(D3dkmtOptOut, ForeignDefinitionsAreKeptAndMissingOnesAdded) {
  // Kept: the build's own macro (no L suffix, no cast beyond the one given).
  EXPECT_EQ(STATUS_INVALID_PARAMETER, (NTSTATUS)0xC000000D);
  // Added by the header, because the build lacked them.
  EXPECT_EQ((uint32_t)STATUS_DEVICE_REMOVED, 0xC00002B6u);
  EXPECT_EQ((uint32_t)STATUS_NO_MEMORY, 0xC0000017u);
  EXPECT_EQ(D3DKMT_MAKERESIDENT_ALLOC_MAX, 10240);
  EXPECT_TRUE(NT_SUCCESS(STATUS_SUCCESS));
}

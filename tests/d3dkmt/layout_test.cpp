// SPDX-License-Identifier: MIT
// (a) vk_kmt/d3dkmt.h as C++ sees it: this translation unit includes the
// header WITHOUT VK_KMT_D3DKMT_IMPLEMENTATION, which proves the declarations
// compile as C++17, and checks every WDK name (tags included), value, size and
// offset against the Windows x64 / WSL uapi layouts (SEMANTICS.md sections
// 1-3), which the WDK's D3DKMT_PTR gives every non-Windows target, 32-bit
// ones too, and against what the C compiler measured in d3dkmt_impl.c.
// tests/abi checks the same layouts at compile time for other targets.
#include <vk_kmt/d3dkmt.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>

#include "d3dkmt_c_layout.h"

#ifdef VK_KMT_D3DKMT_IMPLEMENTATION_DONE
#error "layout_test.cpp must include the header without its implementation"
#endif

// --- compile-time checks (C++) ---------------------------------------------

static_assert(std::is_same<D3DKMT_HANDLE, UINT>::value, "D3DKMT_HANDLE is a UINT");
static_assert(sizeof(D3DKMT_HANDLE) == 4 && std::is_unsigned<D3DKMT_HANDLE>::value, "32-bit unsigned");
static_assert(sizeof(NTSTATUS) == 4 && std::is_signed<NTSTATUS>::value, "NTSTATUS is a signed 32-bit LONG");
static_assert(sizeof(BOOL) == 4 && std::is_signed<BOOL>::value, "BOOL is int32");
static_assert(sizeof(UINT64) == 8, "UINT64");
static_assert(std::is_standard_layout<D3DKMT_OFFERALLOCATIONS>::value, "C layout");
static_assert(std::is_trivially_copyable<D3DKMT_RECLAIMALLOCATIONS2>::value, "C layout");

#if VK_KMT_D3DKMT_FIXED_LAYOUT || UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
static_assert(sizeof(D3DKMT_OFFERALLOCATIONS) == 40, "");
static_assert(offsetof(D3DKMT_OFFERALLOCATIONS, Flags) == 32, "");
static_assert(sizeof(D3DKMT_RECLAIMALLOCATIONS) == 40, "");
static_assert(offsetof(D3DKMT_RECLAIMALLOCATIONS, NumAllocations) == 32, "");
static_assert(sizeof(D3DKMT_RECLAIMALLOCATIONS2) == 40, "");
static_assert(offsetof(D3DKMT_RECLAIMALLOCATIONS2, PagingFenceValue) == 32, "");
static_assert(sizeof(D3DKMT_CREATEPAGINGQUEUE) == 32, "");
static_assert(offsetof(D3DKMT_CREATEPAGINGQUEUE, FenceValueCPUVirtualAddress) == 16, "");
#endif
static_assert(sizeof(D3DDDI_DESTROYPAGINGQUEUE) == 4, "");
static_assert(sizeof(D3DDDI_OFFER_FLAGS) == 4 && sizeof(D3DDDI_OFFER_PRIORITY) == 4, "");

// The typedefs name the WDK's tags, spelled as d3dkmthk.h / d3dukmdt.h spell
// them (some with a leading underscore, some without).
static_assert(std::is_same<D3DKMT_OFFER_PRIORITY, enum _D3DKMT_OFFER_PRIORITY>::value, "");
static_assert(std::is_same<D3DDDI_OFFER_PRIORITY, enum _D3DDDI_OFFER_PRIORITY>::value, "");
static_assert(std::is_same<D3DKMT_OFFER_FLAGS, struct _D3DKMT_OFFER_FLAGS>::value, "");
static_assert(std::is_same<D3DDDI_OFFER_FLAGS, struct D3DDDI_OFFER_FLAGS>::value, "");
static_assert(std::is_same<D3DDDI_RECLAIM_RESULT, enum _D3DDDI_RECLAIM_RESULT>::value, "");
static_assert(std::is_same<D3DDDI_PAGINGQUEUE_PRIORITY, enum D3DDDI_PAGINGQUEUE_PRIORITY>::value, "");
static_assert(std::is_same<D3DKMT_OFFERALLOCATIONS, struct _D3DKMT_OFFERALLOCATIONS>::value, "");
static_assert(std::is_same<D3DKMT_RECLAIMALLOCATIONS, struct _D3DKMT_RECLAIMALLOCATIONS>::value, "");
static_assert(std::is_same<D3DKMT_RECLAIMALLOCATIONS2, struct _D3DKMT_RECLAIMALLOCATIONS2>::value, "");
static_assert(std::is_same<D3DKMT_CREATEPAGINGQUEUE, struct _D3DKMT_CREATEPAGINGQUEUE>::value, "");
static_assert(std::is_same<D3DDDI_DESTROYPAGINGQUEUE, struct D3DDDI_DESTROYPAGINGQUEUE>::value, "");

// Field types, as the WDK declares them.
static_assert(std::is_same<decltype(D3DKMT_OFFERALLOCATIONS::pResources), D3DKMT_HANDLE*>::value, "");
static_assert(std::is_same<decltype(D3DKMT_OFFERALLOCATIONS::HandleList), const D3DKMT_HANDLE*>::value, "");
static_assert(std::is_same<decltype(D3DKMT_OFFERALLOCATIONS::Priority), D3DKMT_OFFER_PRIORITY>::value, "");
static_assert(std::is_same<decltype(D3DKMT_OFFERALLOCATIONS::Flags), D3DKMT_OFFER_FLAGS>::value, "");
static_assert(std::is_same<decltype(D3DKMT_RECLAIMALLOCATIONS::pDiscarded), BOOL*>::value, "");
static_assert(std::is_same<decltype(D3DKMT_RECLAIMALLOCATIONS2::pDiscarded), BOOL*>::value, "");
static_assert(std::is_same<decltype(D3DKMT_RECLAIMALLOCATIONS2::pResults), D3DDDI_RECLAIM_RESULT*>::value, "");
static_assert(std::is_same<decltype(D3DKMT_RECLAIMALLOCATIONS2::PagingFenceValue), UINT64>::value, "");
static_assert(std::is_same<decltype(D3DKMT_CREATEPAGINGQUEUE::Priority), D3DDDI_PAGINGQUEUE_PRIORITY>::value, "");
static_assert(std::is_same<decltype(D3DKMT_CREATEPAGINGQUEUE::FenceValueCPUVirtualAddress), void*>::value, "");

// The thunks have the WDK signatures.
static_assert(std::is_same<decltype(&D3DKMTOfferAllocations), NTSTATUS (*)(const D3DKMT_OFFERALLOCATIONS*)>::value, "");
static_assert(std::is_same<decltype(&D3DKMTReclaimAllocations), NTSTATUS (*)(D3DKMT_RECLAIMALLOCATIONS*)>::value, "");
static_assert(std::is_same<decltype(&D3DKMTReclaimAllocations2), NTSTATUS (*)(D3DKMT_RECLAIMALLOCATIONS2*)>::value, "");
static_assert(std::is_same<decltype(&D3DKMTCreatePagingQueue), NTSTATUS (*)(D3DKMT_CREATEPAGINGQUEUE*)>::value, "");
static_assert(std::is_same<decltype(&D3DKMTDestroyPagingQueue), NTSTATUS (*)(const D3DDDI_DESTROYPAGINGQUEUE*)>::value,
              "");

namespace {

struct Row {
  const char* type;
  const char* field;
  size_t size;
  size_t offset;
};

#define ROW(type, field) Row{#type, #field, sizeof(type), offsetof(type, field)}

// C++'s view, in the same order as d3dkmt_impl.c's table.
const Row kCxxRows[] = {
    ROW(D3DKMT_OFFER_FLAGS, Value),
    ROW(D3DDDI_OFFER_FLAGS, Value),
    ROW(D3DKMT_OFFERALLOCATIONS, hDevice),
    ROW(D3DKMT_OFFERALLOCATIONS, pResources),
    ROW(D3DKMT_OFFERALLOCATIONS, HandleList),
    ROW(D3DKMT_OFFERALLOCATIONS, NumAllocations),
    ROW(D3DKMT_OFFERALLOCATIONS, Priority),
    ROW(D3DKMT_OFFERALLOCATIONS, Flags),
    ROW(D3DKMT_RECLAIMALLOCATIONS, hDevice),
    ROW(D3DKMT_RECLAIMALLOCATIONS, pResources),
    ROW(D3DKMT_RECLAIMALLOCATIONS, HandleList),
    ROW(D3DKMT_RECLAIMALLOCATIONS, pDiscarded),
    ROW(D3DKMT_RECLAIMALLOCATIONS, NumAllocations),
    ROW(D3DKMT_RECLAIMALLOCATIONS2, hPagingQueue),
    ROW(D3DKMT_RECLAIMALLOCATIONS2, NumAllocations),
    ROW(D3DKMT_RECLAIMALLOCATIONS2, pResources),
    ROW(D3DKMT_RECLAIMALLOCATIONS2, HandleList),
    ROW(D3DKMT_RECLAIMALLOCATIONS2, pDiscarded),
    ROW(D3DKMT_RECLAIMALLOCATIONS2, pResults),
    ROW(D3DKMT_RECLAIMALLOCATIONS2, PagingFenceValue),
    ROW(D3DKMT_CREATEPAGINGQUEUE, hDevice),
    ROW(D3DKMT_CREATEPAGINGQUEUE, Priority),
    ROW(D3DKMT_CREATEPAGINGQUEUE, hPagingQueue),
    ROW(D3DKMT_CREATEPAGINGQUEUE, hSyncObject),
    ROW(D3DKMT_CREATEPAGINGQUEUE, FenceValueCPUVirtualAddress),
    ROW(D3DKMT_CREATEPAGINGQUEUE, PhysicalAdapterIndex),
    ROW(D3DDDI_DESTROYPAGINGQUEUE, hPagingQueue),
};

// The Windows x64 layouts (= the WSL dxgkrnl uapi structs), written out.
const Row kWindowsX64[] = {
    {"D3DKMT_OFFER_FLAGS", "Value", 4, 0},
    {"D3DDDI_OFFER_FLAGS", "Value", 4, 0},
    {"D3DKMT_OFFERALLOCATIONS", "hDevice", 40, 0},
    {"D3DKMT_OFFERALLOCATIONS", "pResources", 40, 8},
    {"D3DKMT_OFFERALLOCATIONS", "HandleList", 40, 16},
    {"D3DKMT_OFFERALLOCATIONS", "NumAllocations", 40, 24},
    {"D3DKMT_OFFERALLOCATIONS", "Priority", 40, 28},
    {"D3DKMT_OFFERALLOCATIONS", "Flags", 40, 32},
    {"D3DKMT_RECLAIMALLOCATIONS", "hDevice", 40, 0},
    {"D3DKMT_RECLAIMALLOCATIONS", "pResources", 40, 8},
    {"D3DKMT_RECLAIMALLOCATIONS", "HandleList", 40, 16},
    {"D3DKMT_RECLAIMALLOCATIONS", "pDiscarded", 40, 24},
    {"D3DKMT_RECLAIMALLOCATIONS", "NumAllocations", 40, 32},
    {"D3DKMT_RECLAIMALLOCATIONS2", "hPagingQueue", 40, 0},
    {"D3DKMT_RECLAIMALLOCATIONS2", "NumAllocations", 40, 4},
    {"D3DKMT_RECLAIMALLOCATIONS2", "pResources", 40, 8},
    {"D3DKMT_RECLAIMALLOCATIONS2", "HandleList", 40, 16},
    {"D3DKMT_RECLAIMALLOCATIONS2", "pDiscarded", 40, 24},
    {"D3DKMT_RECLAIMALLOCATIONS2", "pResults", 40, 24},
    {"D3DKMT_RECLAIMALLOCATIONS2", "PagingFenceValue", 40, 32},
    {"D3DKMT_CREATEPAGINGQUEUE", "hDevice", 32, 0},
    {"D3DKMT_CREATEPAGINGQUEUE", "Priority", 32, 4},
    {"D3DKMT_CREATEPAGINGQUEUE", "hPagingQueue", 32, 8},
    {"D3DKMT_CREATEPAGINGQUEUE", "hSyncObject", 32, 12},
    {"D3DKMT_CREATEPAGINGQUEUE", "FenceValueCPUVirtualAddress", 32, 16},
    {"D3DKMT_CREATEPAGINGQUEUE", "PhysicalAdapterIndex", 32, 24},
    {"D3DDDI_DESTROYPAGINGQUEUE", "hPagingQueue", 4, 0},
};

static_assert(sizeof(kCxxRows) / sizeof(kCxxRows[0]) == sizeof(kWindowsX64) / sizeof(kWindowsX64[0]), "");

}  // namespace

TEST(D3dkmtLayout, EveryStructHasTheWindowsX64SizeAndOffsets) {
  if (!VK_KMT_D3DKMT_FIXED_LAYOUT && sizeof(void*) != 8)
    GTEST_SKIP() << "natural-layout 32-bit build (32-bit Windows): the x86 layout applies";
  for (size_t i = 0; i < sizeof(kCxxRows) / sizeof(kCxxRows[0]); ++i) {
    SCOPED_TRACE(std::string(kCxxRows[i].type) + "::" + kCxxRows[i].field);
    EXPECT_STREQ(kCxxRows[i].type, kWindowsX64[i].type);
    EXPECT_STREQ(kCxxRows[i].field, kWindowsX64[i].field);
    EXPECT_EQ(kCxxRows[i].size, kWindowsX64[i].size);
    EXPECT_EQ(kCxxRows[i].offset, kWindowsX64[i].offset);
  }
}

TEST(D3dkmtLayout, CAndCxxAgreeOnEveryStruct) {
  size_t count = 0;
  const kmt_c_layout_row* c_rows = kmt_c_layout(&count);
  ASSERT_EQ(count, sizeof(kCxxRows) / sizeof(kCxxRows[0]));
  for (size_t i = 0; i < count; ++i) {
    SCOPED_TRACE(std::string(c_rows[i].type) + "::" + c_rows[i].field);
    EXPECT_STREQ(c_rows[i].type, kCxxRows[i].type);
    EXPECT_STREQ(c_rows[i].field, kCxxRows[i].field);
    EXPECT_EQ(c_rows[i].size, kCxxRows[i].size);
    EXPECT_EQ(c_rows[i].offset, kCxxRows[i].offset);
  }
}

TEST(D3dkmtLayout, OfferFlagsBitsAreTheKmtPositions) {
  D3DKMT_OFFER_FLAGS f;
  f.Value = 0;
  f.OfferImmediately = 1;
  EXPECT_EQ(f.Value, 0x1u);
  f.Value = 0;
  f.AllowDecommit = 1;
  EXPECT_EQ(f.Value, 0x2u);  // bit 1 at the KMT level (bit 0 in the UMD's D3DDDI_OFFER_FLAGS)
  f.Value = 0;
  f.Reserved = 0x3FFFFFFF;
  EXPECT_EQ(f.Value, 0xFFFFFFFCu);
  f.Value = 0x3;
  EXPECT_EQ(f.OfferImmediately, 1u);
  EXPECT_EQ(f.AllowDecommit, 1u);
  EXPECT_EQ(f.Reserved, 0u);
  // Same bits as the Vulkan extension's flags, and as C packs them.
  EXPECT_EQ(static_cast<UINT>(VK_OFFER_IMMEDIATELY_BIT_KMT), 0x1u);
  EXPECT_EQ(static_cast<UINT>(VK_OFFER_ALLOW_DECOMMIT_BIT_KMT), 0x2u);
  EXPECT_EQ(kmt_c_offer_flags_value(1, 0, 0), 0x1u);
  EXPECT_EQ(kmt_c_offer_flags_value(0, 1, 0), 0x2u);
  EXPECT_EQ(kmt_c_offer_flags_value(0, 0, 0x3FFFFFFF), 0xFFFFFFFCu);
}

TEST(D3dkmtLayout, EnumValuesAreTheWdkValues) {
  EXPECT_EQ(D3DKMT_OFFER_PRIORITY_LOW, 1);
  EXPECT_EQ(D3DKMT_OFFER_PRIORITY_NORMAL, 2);
  EXPECT_EQ(D3DKMT_OFFER_PRIORITY_HIGH, 3);
  EXPECT_EQ(D3DKMT_OFFER_PRIORITY_AUTO, 4);
  EXPECT_EQ(D3DDDI_RECLAIM_RESULT_OK, 0);
  EXPECT_EQ(D3DDDI_RECLAIM_RESULT_DISCARDED, 1);
  EXPECT_EQ(D3DDDI_RECLAIM_RESULT_NOT_COMMITTED, 2);
  EXPECT_EQ(D3DDDI_PAGINGQUEUE_PRIORITY_BELOW_NORMAL, -1);
  EXPECT_EQ(D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL, 0);
  EXPECT_EQ(D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL, 1);
  EXPECT_EQ(D3DKMT_MAKERESIDENT_ALLOC_MAX, 10240);
  // FALSE / TRUE of the BOOL form equal OK / DISCARDED (the union's premise).
  EXPECT_EQ(FALSE, static_cast<int>(D3DDDI_RECLAIM_RESULT_OK));
  EXPECT_EQ(TRUE, static_cast<int>(D3DDDI_RECLAIM_RESULT_DISCARDED));
}

TEST(D3dkmtLayout, StatusValuesAreTheNtstatusValues) {
  EXPECT_EQ(static_cast<uint32_t>(STATUS_SUCCESS), 0x00000000u);
  EXPECT_EQ(static_cast<uint32_t>(STATUS_PENDING), 0x00000103u);
  EXPECT_EQ(static_cast<uint32_t>(STATUS_UNSUCCESSFUL), 0xC0000001u);
  EXPECT_EQ(static_cast<uint32_t>(STATUS_INVALID_PARAMETER), 0xC000000Du);
  EXPECT_EQ(static_cast<uint32_t>(STATUS_NO_MEMORY), 0xC0000017u);
  EXPECT_EQ(static_cast<uint32_t>(STATUS_NOT_SUPPORTED), 0xC00000BBu);
  EXPECT_EQ(static_cast<uint32_t>(STATUS_DEVICE_REMOVED), 0xC00002B6u);
  // Every error is negative as an NTSTATUS; success and STATUS_PENDING are not.
  EXPECT_TRUE(NT_SUCCESS(STATUS_SUCCESS));
  EXPECT_TRUE(NT_SUCCESS(STATUS_PENDING));
  EXPECT_FALSE(NT_SUCCESS(STATUS_UNSUCCESSFUL));
  EXPECT_FALSE(NT_SUCCESS(STATUS_INVALID_PARAMETER));
  EXPECT_FALSE(NT_SUCCESS(STATUS_NO_MEMORY));
  EXPECT_FALSE(NT_SUCCESS(STATUS_NOT_SUPPORTED));
  EXPECT_FALSE(NT_SUCCESS(STATUS_DEVICE_REMOVED));
  EXPECT_LT(STATUS_DEVICE_REMOVED, 0);
}

TEST(D3dkmtLayout, ReclaimUnionMembersShareStorage) {
  D3DKMT_RECLAIMALLOCATIONS2 r;
  std::memset(&r, 0, sizeof(r));
  D3DDDI_RECLAIM_RESULT results[2] = {};
  r.pResults = results;
  EXPECT_EQ(static_cast<void*>(r.pDiscarded), static_cast<void*>(results));
}

TEST(D3dkmtLayout, UmdOfferPriorityIsTheKmtPriorityPlusNone) {
  EXPECT_EQ(D3DDDI_OFFER_PRIORITY_NONE, 0);
  EXPECT_EQ(D3DDDI_OFFER_PRIORITY_LOW, 1);
  EXPECT_EQ(D3DDDI_OFFER_PRIORITY_NORMAL, 2);
  EXPECT_EQ(D3DDDI_OFFER_PRIORITY_HIGH, 3);
  EXPECT_EQ(D3DDDI_OFFER_PRIORITY_AUTO, 4);
  // A UMD passes LOW..AUTO on unchanged.
  EXPECT_EQ(static_cast<int>(D3DDDI_OFFER_PRIORITY_LOW), static_cast<int>(D3DKMT_OFFER_PRIORITY_LOW));
  EXPECT_EQ(static_cast<int>(D3DDDI_OFFER_PRIORITY_AUTO), static_cast<int>(D3DKMT_OFFER_PRIORITY_AUTO));
}

TEST(D3dkmtLayout, UmdOfferFlagsHaveAllowDecommitAtBitZero) {
  D3DDDI_OFFER_FLAGS ddi;
  ddi.Value = 0;
  ddi.AllowDecommit = 1;
  EXPECT_EQ(ddi.Value, 0x1u);  // bit 0 at the UMD level ...
  D3DKMT_OFFER_FLAGS kmt;
  kmt.Value = 0;
  kmt.AllowDecommit = ddi.AllowDecommit;  // ... translated field by field (PORTING.md, the bit-position trap)
  EXPECT_EQ(kmt.Value, 0x2u);             // bit 1 at the KMT level
  ddi.Value = 0;
  ddi.Reserved = 0x7FFFFFFF;
  EXPECT_EQ(ddi.Value, 0xFFFFFFFEu);
  EXPECT_EQ(ddi.AllowDecommit, 0u);
  // As C packs them.
  EXPECT_EQ(kmt_c_ddi_offer_flags_value(1, 0), 0x1u);
  EXPECT_EQ(kmt_c_ddi_offer_flags_value(0, 0x7FFFFFFF), 0xFFFFFFFEu);
}

#if VK_KMT_D3DKMT_FIXED_LAYOUT
TEST(D3dkmtLayout, PointerFieldsAreEightBytesAsTheWdksD3dkmtPtr) {
  // The pointer and its _Align twin share the slot; all 8 bytes are the
  // field, whatever the pointer size, so a 32-bit process fills the x64
  // layout (the high half stays as the caller zeroed it).
  D3DKMT_OFFERALLOCATIONS o;
  std::memset(&o, 0, sizeof(o));
  D3DKMT_HANDLE handles[1] = {1};
  o.HandleList = handles;
  EXPECT_EQ(o.HandleList_Align, static_cast<UINT64>(reinterpret_cast<uintptr_t>(handles)));
  EXPECT_EQ(sizeof(o.HandleList_Align), 8u);
  EXPECT_EQ(offsetof(D3DKMT_OFFERALLOCATIONS, HandleList_Align), offsetof(D3DKMT_OFFERALLOCATIONS, HandleList));
  EXPECT_EQ(offsetof(D3DKMT_RECLAIMALLOCATIONS2, AlignUnionTo64), offsetof(D3DKMT_RECLAIMALLOCATIONS2, pResults));
}

TEST(D3dkmtLayout, CreatePagingQueueClearsAllEightBytesOfTheFenceAddress) {
  // The thunk writes FenceValueCPUVirtualAddress = NULL as the whole 8-byte
  // field, so a reader of the fixed layout sees 0 also in a 32-bit process
  // (where the pointer is only the low half). Rejected arguments (adapter
  // index 1) still leave the outputs cleared, before any device is needed.
  D3DKMT_CREATEPAGINGQUEUE q;
  std::memset(&q, 0xFF, sizeof(q));
  q.hDevice = 0;
  q.Priority = D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL;
  q.PhysicalAdapterIndex = 1;
  EXPECT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(q.FenceValueCPUVirtualAddress_Align, 0u);
  EXPECT_EQ(q.hPagingQueue, 0u);
  EXPECT_EQ(q.hSyncObject, 0u);
}
#endif

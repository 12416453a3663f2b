/* SPDX-License-Identifier: MIT */
/*
 * The one translation unit of kmt_d3dkmt_tests that compiles the header's
 * implementation, as C11 (with the project's -Wall -Wextra [-Werror]). It also
 * measures the WDK structs as C sees them, so layout_test.cpp can check that
 * C and C++ agree byte for byte.
 */
#define VK_KMT_D3DKMT_IMPLEMENTATION
#include <vk_kmt/d3dkmt.h>

#include "d3dkmt_c_layout.h"

/* The same layout facts, asserted by a C compiler (the header asserts them for
 * whichever language includes it; these spell out the C view once more). */
_Static_assert(sizeof(D3DKMT_HANDLE) == 4, "D3DKMT_HANDLE");
_Static_assert(sizeof(D3DKMT_OFFER_FLAGS) == sizeof(UINT), "D3DKMT_OFFER_FLAGS");
_Static_assert(sizeof(D3DDDI_OFFER_FLAGS) == sizeof(UINT), "D3DDDI_OFFER_FLAGS");
#if VK_KMT_D3DKMT_FIXED_LAYOUT || UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
_Static_assert(sizeof(D3DKMT_OFFERALLOCATIONS) == 40, "D3DKMT_OFFERALLOCATIONS");
_Static_assert(sizeof(D3DKMT_RECLAIMALLOCATIONS) == 40, "D3DKMT_RECLAIMALLOCATIONS");
_Static_assert(sizeof(D3DKMT_RECLAIMALLOCATIONS2) == 40, "D3DKMT_RECLAIMALLOCATIONS2");
_Static_assert(sizeof(D3DKMT_CREATEPAGINGQUEUE) == 32, "D3DKMT_CREATEPAGINGQUEUE");
_Static_assert(offsetof(D3DKMT_RECLAIMALLOCATIONS2, pResults) == 24, "pResults");
_Static_assert(offsetof(D3DKMT_CREATEPAGINGQUEUE, PhysicalAdapterIndex) == 24, "PhysicalAdapterIndex");
#endif

#define KMT_LAYOUT_ROW(type, field) {#type, #field, sizeof(type), offsetof(type, field)}

static const struct kmt_c_layout_row kmt_c_layout_rows[] = {
    KMT_LAYOUT_ROW(D3DKMT_OFFER_FLAGS, Value),
    KMT_LAYOUT_ROW(D3DDDI_OFFER_FLAGS, Value),
    KMT_LAYOUT_ROW(D3DKMT_OFFERALLOCATIONS, hDevice),
    KMT_LAYOUT_ROW(D3DKMT_OFFERALLOCATIONS, pResources),
    KMT_LAYOUT_ROW(D3DKMT_OFFERALLOCATIONS, HandleList),
    KMT_LAYOUT_ROW(D3DKMT_OFFERALLOCATIONS, NumAllocations),
    KMT_LAYOUT_ROW(D3DKMT_OFFERALLOCATIONS, Priority),
    KMT_LAYOUT_ROW(D3DKMT_OFFERALLOCATIONS, Flags),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS, hDevice),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS, pResources),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS, HandleList),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS, pDiscarded),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS, NumAllocations),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS2, hPagingQueue),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS2, NumAllocations),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS2, pResources),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS2, HandleList),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS2, pDiscarded),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS2, pResults),
    KMT_LAYOUT_ROW(D3DKMT_RECLAIMALLOCATIONS2, PagingFenceValue),
    KMT_LAYOUT_ROW(D3DKMT_CREATEPAGINGQUEUE, hDevice),
    KMT_LAYOUT_ROW(D3DKMT_CREATEPAGINGQUEUE, Priority),
    KMT_LAYOUT_ROW(D3DKMT_CREATEPAGINGQUEUE, hPagingQueue),
    KMT_LAYOUT_ROW(D3DKMT_CREATEPAGINGQUEUE, hSyncObject),
    KMT_LAYOUT_ROW(D3DKMT_CREATEPAGINGQUEUE, FenceValueCPUVirtualAddress),
    KMT_LAYOUT_ROW(D3DKMT_CREATEPAGINGQUEUE, PhysicalAdapterIndex),
    KMT_LAYOUT_ROW(D3DDDI_DESTROYPAGINGQUEUE, hPagingQueue),
};

const struct kmt_c_layout_row*
kmt_c_layout(size_t* count)
{
    *count = sizeof(kmt_c_layout_rows) / sizeof(kmt_c_layout_rows[0]);
    return kmt_c_layout_rows;
}

unsigned int
kmt_c_offer_flags_value(unsigned int offer_immediately, unsigned int allow_decommit, unsigned int reserved)
{
    D3DKMT_OFFER_FLAGS flags;
    flags.Value = 0;
    flags.OfferImmediately = offer_immediately & 1u;
    flags.AllowDecommit = allow_decommit & 1u;
    flags.Reserved = reserved & 0x3FFFFFFFu;
    return flags.Value;
}

unsigned int
kmt_c_ddi_offer_flags_value(unsigned int allow_decommit, unsigned int reserved)
{
    D3DDDI_OFFER_FLAGS flags;
    flags.Value = 0;
    flags.AllowDecommit = allow_decommit & 1u;
    flags.Reserved = reserved & 0x7FFFFFFFu;
    return flags.Value;
}

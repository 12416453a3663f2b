/* SPDX-License-Identifier: MIT */
/*
 * vk_kmt/d3dkmt.h against the WDK, at compile time, as C11: this file fails
 * to compile on any target where a struct, field offset or tag name differs
 * from the WDK's. Compiled by every build (the i386 cross build too, with
 * -m32) and, with clang, for further targets by tests/abi/d3dkmt_targets.cmake
 * (32- and 64-bit Linux and Windows).
 */
#include <stddef.h>

#include <vk_kmt/d3dkmt.h>

#define KMT_STATIC_ASSERT(c, m) _Static_assert(c, m)
#include "wdk_reference.h"

KMT_CHECK_WDK_LAYOUTS();
#if VK_KMT_D3DKMT_FIXED_LAYOUT
KMT_CHECK_WDK_POINTER_SLOTS();
#endif

/* The typedefs name the WDK's tags: with or without the leading underscore,
 * exactly as d3dkmthk.h / d3dukmdt.h spell them (learn.microsoft.com syntax
 * blocks; libdxg's headers). A tag a ported file names (struct
 * D3DDDI_DESTROYPAGINGQUEUE) must be the type the thunks take. */
#define KMT_TAG(type, tagged) \
    _Static_assert(_Generic((type*)0, tagged*: 1, default: 0), #type " is not " #tagged)
KMT_TAG(D3DKMT_OFFER_PRIORITY, enum _D3DKMT_OFFER_PRIORITY);
KMT_TAG(D3DDDI_OFFER_PRIORITY, enum _D3DDDI_OFFER_PRIORITY);
KMT_TAG(D3DKMT_OFFER_FLAGS, struct _D3DKMT_OFFER_FLAGS);
KMT_TAG(D3DDDI_OFFER_FLAGS, struct D3DDDI_OFFER_FLAGS);
KMT_TAG(D3DDDI_RECLAIM_RESULT, enum _D3DDDI_RECLAIM_RESULT);
KMT_TAG(D3DDDI_PAGINGQUEUE_PRIORITY, enum D3DDDI_PAGINGQUEUE_PRIORITY);
KMT_TAG(D3DKMT_OFFERALLOCATIONS, struct _D3DKMT_OFFERALLOCATIONS);
KMT_TAG(D3DKMT_RECLAIMALLOCATIONS, struct _D3DKMT_RECLAIMALLOCATIONS);
KMT_TAG(D3DKMT_RECLAIMALLOCATIONS2, struct _D3DKMT_RECLAIMALLOCATIONS2);
KMT_TAG(D3DKMT_CREATEPAGINGQUEUE, struct _D3DKMT_CREATEPAGINGQUEUE);
KMT_TAG(D3DDDI_DESTROYPAGINGQUEUE, struct D3DDDI_DESTROYPAGINGQUEUE);

/* The WDK's values. */
_Static_assert(D3DDDI_OFFER_PRIORITY_NONE == 0 && D3DDDI_OFFER_PRIORITY_LOW == 1 &&
                   D3DDDI_OFFER_PRIORITY_NORMAL == 2 && D3DDDI_OFFER_PRIORITY_HIGH == 3 &&
                   D3DDDI_OFFER_PRIORITY_AUTO == 4,
               "D3DDDI_OFFER_PRIORITY values");
_Static_assert(D3DKMT_OFFER_PRIORITY_LOW == 1 && D3DKMT_OFFER_PRIORITY_AUTO == 4, "D3DKMT_OFFER_PRIORITY values");
_Static_assert(D3DDDI_PAGINGQUEUE_PRIORITY_BELOW_NORMAL == -1 && D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL == 1,
               "D3DDDI_PAGINGQUEUE_PRIORITY values");

/* Something to link, so the object is not empty. */
int kmt_abi_d3dkmt_layout_c(void);
int
kmt_abi_d3dkmt_layout_c(void)
{
    return (int)sizeof(D3DKMT_RECLAIMALLOCATIONS2);
}

// SPDX-License-Identifier: MIT
// vk_kmt/d3dkmt.h against the WDK, at compile time, as C++17 (the header's
// declarations are meant to compile as C++): the same layout checks as
// d3dkmt_layout.c, and the tag names through type identity. Uses no standard
// library header, so clang can compile it for targets whose C++ library is
// not installed here (tests/abi/d3dkmt_targets.cmake).
#include <stddef.h>

#include <vk_kmt/d3dkmt.h>

#define KMT_STATIC_ASSERT(c, m) static_assert(c, m)
#include "wdk_reference.h"

namespace {
template <typename A, typename B>
struct same {
  static constexpr bool value = false;
};
template <typename A>
struct same<A, A> {
  static constexpr bool value = true;
};
}  // namespace

KMT_CHECK_WDK_LAYOUTS();
#if VK_KMT_D3DKMT_FIXED_LAYOUT
KMT_CHECK_WDK_POINTER_SLOTS();
#endif

#define KMT_TAG(type, tagged) static_assert(same<type, tagged>::value, #type " is not " #tagged)
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

// The pointer members keep their WDK types inside the D3DKMT_PTR unions.
static_assert(same<decltype(D3DKMT_OFFERALLOCATIONS::pResources), D3DKMT_HANDLE*>::value, "pResources");
static_assert(same<decltype(D3DKMT_OFFERALLOCATIONS::HandleList), const D3DKMT_HANDLE*>::value, "HandleList");
static_assert(same<decltype(D3DKMT_RECLAIMALLOCATIONS::pDiscarded), BOOL*>::value, "pDiscarded");
static_assert(same<decltype(D3DKMT_RECLAIMALLOCATIONS2::pResults), D3DDDI_RECLAIM_RESULT*>::value, "pResults");
static_assert(same<decltype(D3DKMT_CREATEPAGINGQUEUE::FenceValueCPUVirtualAddress), void*>::value,
              "FenceValueCPUVirtualAddress");

extern "C" int kmt_abi_d3dkmt_layout_cxx(void);
int kmt_abi_d3dkmt_layout_cxx(void) { return static_cast<int>(sizeof(D3DKMT_CREATEPAGINGQUEUE)); }

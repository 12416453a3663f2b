/* SPDX-License-Identifier: MIT */
/* Struct layouts of vk_kmt/d3dkmt.h as measured by the C compiler
 * (d3dkmt_impl.c), for layout_test.cpp to compare with C++'s view. */
#ifndef KMT_D3DKMT_C_LAYOUT_H
#define KMT_D3DKMT_C_LAYOUT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kmt_c_layout_row {
    const char* type;
    const char* field;
    size_t size;   /* sizeof(type) */
    size_t offset; /* offsetof(type, field) */
};

/* Every (struct, field) row, in declaration order. */
const struct kmt_c_layout_row* kmt_c_layout(size_t* count);

/* D3DKMT_OFFER_FLAGS{OfferImmediately, AllowDecommit, Reserved}.Value, as C
 * packs the bitfields. */
unsigned int kmt_c_offer_flags_value(unsigned int offer_immediately, unsigned int allow_decommit,
                                     unsigned int reserved);

/* D3DDDI_OFFER_FLAGS{AllowDecommit, Reserved}.Value, as C packs the bitfields. */
unsigned int kmt_c_ddi_offer_flags_value(unsigned int allow_decommit, unsigned int reserved);

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: MIT */
/*
 * madvise_shim.h -- what madvise_shim.c records (see there).
 */
#ifndef KMT_MADVISE_SHIM_H
#define KMT_MADVISE_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KMT_MADVISE_MAX_CALLS 65536

struct kmt_madvise_call {
    void *addr;
    size_t length;
    int advice;
    int result; /* what the real madvise returned */
};

/* Every call so far (the first KMT_MADVISE_MAX_CALLS), oldest first. */
typedef unsigned (*PFN_kmt_madvise_calls)(const struct kmt_madvise_call **calls);

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: MIT */
/*
 * madvise_shim.c -- LD_PRELOAD library for the mesa25 tests: records every
 * madvise() that reaches libc through the PLT (Mesa 25's lavapipe turns a
 * memory priority below 0.3 into madvise(MADV_COLD) over the allocation's
 * pages and 0.6 or above into MADV_WILLNEED), then makes the real call. The
 * test reads the record through kmt_madvise_calls (dlsym(RTLD_DEFAULT, ...)).
 * So an offer is followed from the app to the kernel without strace.
 */
#define _GNU_SOURCE
#include "madvise_shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>

#define KMT_EXPORT __attribute__((visibility("default")))

static struct kmt_madvise_call calls[KMT_MADVISE_MAX_CALLS];
static atomic_uint recorded;

KMT_EXPORT int
madvise(void *addr, size_t length, int advice)
{
    static int (*real)(void *, size_t, int);
    if (!real)
        real = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "madvise");
    int result = real ? real(addr, length, advice) : (errno = ENOSYS, -1);
    unsigned slot = atomic_fetch_add(&recorded, 1);
    if (slot < KMT_MADVISE_MAX_CALLS)
        calls[slot] = (struct kmt_madvise_call){.addr = addr, .length = length, .advice = advice, .result = result};
    return result;
}

KMT_EXPORT unsigned
kmt_madvise_calls(const struct kmt_madvise_call **out)
{
    unsigned n = atomic_load(&recorded);
    *out = calls;
    return n < KMT_MADVISE_MAX_CALLS ? n : KMT_MADVISE_MAX_CALLS;
}

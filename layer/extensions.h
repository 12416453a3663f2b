/* SPDX-License-Identifier: MIT */
/*
 * extensions.h -- device extensions allowed beside VK_KMT_offer_reclaim
 * (see extensions.c).
 */
#ifndef KMT_EXTENSIONS_H
#define KMT_EXTENSIONS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Whether an app may enable `name` on a device that enables VK_KMT_offer_reclaim. */
bool kmt_extension_allowed(const char *name);
/* The first of `names` that is not allowed, or NULL. */
const char *kmt_first_refused_extension(uint32_t count, const char *const *names);

#ifdef __cplusplus
}
#endif

#endif

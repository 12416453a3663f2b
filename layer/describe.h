/* SPDX-License-Identifier: MIT */
/*
 * describe.h -- the words the layer's messages and trace use for its states,
 * reasons, and the sentence of each state change (pure C: no
 * Vulkan calls, unit-tested in tests/unit/describe_test.cpp).
 *
 * The verbose message of a state change names the allocation (handle and the
 * app's name), its size and heap, the old and new status, and why:
 *   offered     priority, flags, and what it waits for (the submission serial
 *               of the layer's marker) or that it took effect at once;
 *   promoted    the GPU work submitted before the offer completed;
 *   discarded / decommitted
 *               which policy; the heap's usage and budget when it decided;
 *               for pressure, the place in the LOW -> NORMAL -> HIGH,
 *               oldest-offer-first order of this relief;
 *   reclaimed   the result reported and the paging fence value to wait for.
 */
#ifndef KMT_DESCRIBE_H
#define KMT_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>

#include "offer.h"
#include "settings.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "RESIDENT", "OFFER_PENDING", "OFFERED", "DISCARDED", "DECOMMITTED" ("?" otherwise). */
const char *kmt_status_name(uint32_t status);
/* "LOW", "NORMAL", "HIGH", "AUTO", "none" for 0. */
const char *kmt_priority_name(uint32_t priority);
/* "offer", "re-offer", "promote", "discard (always)", "discard (random)",
 * "discard (pressure)", "discard (request)", "reclaim", "evict", "make resident". */
const char *kmt_reason_name(uint32_t reason);
/* "OK", "DISCARDED", "NOT_COMMITTED". */
const char *kmt_reclaim_result_name(uint32_t result);
/* The VkResult's enumerant name, or "VkResult(<n>)". */
const char *kmt_result_name(VkResult result);

/* "IMMEDIATELY|ALLOW_DECOMMIT", or "none". */
void kmt_offer_flags_text(uint32_t flags, char *out, size_t size);
/* 1536 -> "1.5 KiB", 16777216 -> "16.0 MiB", 0 -> "0 B". */
void kmt_bytes_text(uint64_t bytes, char *out, size_t size);

/* The message ID of a state change: "KMT-state-offered", "-reoffered",
 * "-promoted", "-discarded", "-decommitted", "-reclaimed", "-evicted",
 * "-resident". */
const char *kmt_transition_id(const struct kmt_transition *change);
/* The name the trace gives the event: "offer", "re-offer", "promote",
 * "discard", "decommit", "reclaim", "evict", "make resident". */
const char *kmt_transition_event_name(const struct kmt_transition *change);
/* The verbose message of a state change. name: the app's name of the memory
 * or NULL. */
void kmt_transition_text(const struct kmt_transition *change, const char *name, char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif

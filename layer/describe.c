/* SPDX-License-Identifier: MIT */
/*
 * describe.c -- see describe.h.
 */
#include "describe.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* EVICTED (VK_KMT_residency) is named ahead of the header that will define it. */
#define KMT_STATUS_EVICTED 5u

const char *
kmt_status_name(uint32_t status)
{
    static const char *const names[] = {"RESIDENT", "OFFER_PENDING", "OFFERED", "DISCARDED", "DECOMMITTED", "EVICTED"};
    return status <= KMT_STATUS_EVICTED ? names[status] : "?";
}

const char *
kmt_priority_name(uint32_t priority)
{
    static const char *const names[] = {"none", "LOW", "NORMAL", "HIGH", "AUTO"};
    return priority <= VK_OFFER_PRIORITY_AUTO_KMT ? names[priority] : "?";
}

const char *
kmt_reason_name(uint32_t reason)
{
    switch (reason) {
    case KMT_REASON_OFFER: return "offer";
    case KMT_REASON_REOFFER: return "re-offer";
    case KMT_REASON_PROMOTED: return "promote";
    case KMT_REASON_DISCARD_ALWAYS: return "discard (always)";
    case KMT_REASON_DISCARD_RANDOM: return "discard (random)";
    case KMT_REASON_DISCARD_PRESSURE: return "discard (pressure)";
    case KMT_REASON_DISCARD_REQUEST: return "discard (request)";
    case KMT_REASON_RECLAIM: return "reclaim";
    case KMT_REASON_EVICT: return "evict";
    case KMT_REASON_MAKE_RESIDENT: return "make resident";
    default: return "?";
    }
}

const char *
kmt_reclaim_result_name(uint32_t result)
{
    static const char *const names[] = {"OK", "DISCARDED", "NOT_COMMITTED"};
    return result <= VK_RECLAIM_RESULT_NOT_COMMITTED_KMT ? names[result] : "?";
}

const char *
kmt_result_name(VkResult result)
{
    switch (result) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_VALIDATION_FAILED_EXT: return "VK_ERROR_VALIDATION_FAILED_EXT";
    default: {
        static _Thread_local char text[32];
        snprintf(text, sizeof(text), "VkResult(%d)", (int)result);
        return text;
    }
    }
}

void
kmt_offer_flags_text(uint32_t flags, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s%s", flags ? "" : "none", (flags & VK_OFFER_IMMEDIATELY_BIT_KMT) ? "IMMEDIATELY" : "",
             (flags & VK_OFFER_IMMEDIATELY_BIT_KMT) && (flags & VK_OFFER_ALLOW_DECOMMIT_BIT_KMT) ? "|" : "",
             (flags & VK_OFFER_ALLOW_DECOMMIT_BIT_KMT) ? "ALLOW_DECOMMIT" : "");
}

void
kmt_bytes_text(uint64_t bytes, char *out, size_t size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(out, size, "%" PRIu64 " B", bytes);
        return;
    }
    double v = (double)bytes / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 3) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, size, "%.1f %s", v, units[u]);
}

/* Appends to out[*used], never past size (snprintf-style truncation). */
static void
append(char *out, size_t size, size_t *used, const char *fmt, ...)
{
    if (*used >= size)
        return;
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(out + *used, size - *used, fmt, args);
    va_end(args);
    if (n > 0)
        *used = *used + (size_t)n < size ? *used + (size_t)n : size - 1;
}

/* ---- state changes -------------------------------------------------------------- */

static bool
is_discard(uint32_t reason)
{
    return reason == KMT_REASON_DISCARD_ALWAYS || reason == KMT_REASON_DISCARD_RANDOM ||
           reason == KMT_REASON_DISCARD_PRESSURE || reason == KMT_REASON_DISCARD_REQUEST;
}

const char *
kmt_transition_id(const struct kmt_transition *c)
{
    switch (c->reason) {
    case KMT_REASON_OFFER: return "KMT-state-offered";
    case KMT_REASON_REOFFER: return "KMT-state-reoffered";
    case KMT_REASON_PROMOTED: return "KMT-state-promoted";
    case KMT_REASON_RECLAIM: return "KMT-state-reclaimed";
    case KMT_REASON_EVICT: return "KMT-state-evicted";
    case KMT_REASON_MAKE_RESIDENT: return "KMT-state-resident";
    default:
        return c->to == VK_ALLOCATION_STATUS_DECOMMITTED_KMT ? "KMT-state-decommitted" : "KMT-state-discarded";
    }
}

const char *
kmt_transition_event_name(const struct kmt_transition *c)
{
    if (is_discard(c->reason))
        return c->to == VK_ALLOCATION_STATUS_DECOMMITTED_KMT ? "decommit" : "discard";
    return kmt_reason_name(c->reason);
}

static const char *
policy_of(uint32_t reason)
{
    switch (reason) {
    case KMT_REASON_DISCARD_ALWAYS: return "the always policy (DISCARD=always)";
    case KMT_REASON_DISCARD_RANDOM: return "the random policy (DISCARD=random)";
    case KMT_REASON_DISCARD_PRESSURE: return "the pressure policy (DISCARD=pressure)";
    default: return "a direct request";
    }
}

static void
describe_why(const struct kmt_transition *c, char *out, size_t size, size_t *used)
{
    char flags[48], usage[32], budget[32];
    kmt_offer_flags_text(c->offer_flags, flags, sizeof(flags));
    switch (c->reason) {
    case KMT_REASON_OFFER:
    case KMT_REASON_REOFFER:
        append(out, size, used, " at priority %s, flags %s", kmt_priority_name(c->offer_priority), flags);
        if (c->to == VK_ALLOCATION_STATUS_OFFER_PENDING_KMT)
            append(out, size, used,
                   "; queued behind submission serial %" PRIu64
                   " (the layer's marker after the GPU work submitted before the offer): it takes effect when "
                   "that work completes",
                   c->wait_serial);
        else
            append(out, size, used, "; in effect at once (%s)",
                   (c->offer_flags & VK_OFFER_IMMEDIATELY_BIT_KMT) ? "OFFER_IMMEDIATELY"
                                                                  : "no earlier GPU work was pending");
        break;
    case KMT_REASON_PROMOTED:
        append(out, size, used, " (priority %s): the GPU work submitted before the offer (serial %" PRIu64 ") completed",
               kmt_priority_name(c->offer_priority), c->wait_serial);
        break;
    case KMT_REASON_RECLAIM:
        append(out, size, used, ": result %s, paging fence value %" PRIu64 "%s", kmt_reclaim_result_name(c->result),
               c->fence_value,
               c->fence_value ? " (wait for it on the GPU before use)" : " (nothing to wait for)");
        break;
    default:
        if (!is_discard(c->reason))
            break;
        kmt_bytes_text(c->heap_usage, usage, sizeof(usage));
        kmt_bytes_text(c->heap_budget, budget, sizeof(budget));
        append(out, size, used, " by %s; heap %u usage %s, budget %s", policy_of(c->reason), c->heap_index, usage,
               budget);
        if (c->reason == KMT_REASON_DISCARD_PRESSURE)
            append(out, size, used, "; victim %u of this relief in LOW -> NORMAL -> HIGH, oldest-offer-first order "
                                    "(offered at %s)",
                   c->order, kmt_priority_name(c->offer_priority));
        else
            append(out, size, used, " (offered at %s)", kmt_priority_name(c->offer_priority));
        if (c->to == VK_ALLOCATION_STATUS_DECOMMITTED_KMT)
            append(out, size, used, "; offered with ALLOW_DECOMMIT, so it is decommitted: reclaim reports "
                                    "NOT_COMMITTED and the app must free it");
        else if (c->fence_value)
            append(out, size, used, "; its fill signals paging fence value %" PRIu64, c->fence_value);
        break;
    }
}

void
kmt_transition_text(const struct kmt_transition *c, const char *name, char *out, size_t size)
{
    static const char *const verbs[] = {
        [KMT_REASON_OFFER] = "offered",          [KMT_REASON_REOFFER] = "re-offered",
        [KMT_REASON_PROMOTED] = "promoted to OFFERED", [KMT_REASON_RECLAIM] = "reclaimed",
        [KMT_REASON_EVICT] = "evicted",          [KMT_REASON_MAKE_RESIDENT] = "made resident",
    };
    size_t used = 0;
    char bytes[32];
    kmt_bytes_text(c->size, bytes, sizeof(bytes));
    out[0] = '\0';
    append(out, size, &used, "memory 0x%" PRIx64, c->memory);
    if (name && *name)
        append(out, size, &used, " \"%s\"", name);
    const char *verb = is_discard(c->reason)
                           ? (c->to == VK_ALLOCATION_STATUS_DECOMMITTED_KMT ? "decommitted" : "discarded")
                           : (c->reason < sizeof(verbs) / sizeof(verbs[0]) && verbs[c->reason] ? verbs[c->reason]
                                                                                                : "changed state");
    append(out, size, &used, " (%s, heap %u) %s, %s -> %s", bytes, c->heap_index, verb, kmt_status_name(c->from),
           kmt_status_name(c->to));
    describe_why(c, out, size, &used);
    append(out, size, &used, ".");
}

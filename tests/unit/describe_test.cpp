// SPDX-License-Identifier: MIT
// Unit tests of layer/describe.[ch]: the words and sentences of the layer's
// messages and trace.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "describe.h"

namespace {

std::string Text(const kmt_transition& c, const char* name = nullptr)
{
    char out[1024];
    kmt_transition_text(&c, name, out, sizeof(out));
    return out;
}

kmt_transition Change(uint8_t from, uint8_t to, kmt_reason reason)
{
    kmt_transition c{};
    c.memory = 0xabc0;
    c.size = 16u << 20;
    c.heap_index = 1;
    c.from = from;
    c.to = to;
    c.reason = static_cast<uint8_t>(reason);
    c.offer_priority = VK_OFFER_PRIORITY_LOW_KMT;
    return c;
}

TEST(Describe, OfferQueuedBehindASubmissionSaysWhichOne)
{
    kmt_transition c = Change(VK_ALLOCATION_STATUS_RESIDENT_KMT, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT,
                              KMT_REASON_OFFER);
    c.offer_flags = VK_OFFER_ALLOW_DECOMMIT_BIT_KMT;
    c.wait_serial = 42;
    const std::string t = Text(c, "albedo");
    EXPECT_STREQ(kmt_transition_id(&c), "KMT-state-offered");
    EXPECT_NE(t.find("memory 0xabc0 \"albedo\" (16.0 MiB, heap 1) offered, RESIDENT -> OFFER_PENDING"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("priority LOW, flags ALLOW_DECOMMIT"), std::string::npos) << t;
    EXPECT_NE(t.find("queued behind submission serial 42"), std::string::npos) << t;
}

TEST(Describe, ImmediateOfferSaysItTookEffectAtOnce)
{
    kmt_transition c = Change(VK_ALLOCATION_STATUS_RESIDENT_KMT, VK_ALLOCATION_STATUS_OFFERED_KMT, KMT_REASON_OFFER);
    c.offer_flags = VK_OFFER_IMMEDIATELY_BIT_KMT;
    const std::string t = Text(c);
    EXPECT_NE(t.find("in effect at once (OFFER_IMMEDIATELY)"), std::string::npos) << t;
    EXPECT_EQ(t.find('"'), std::string::npos) << "no name, no quotes: " << t;
}

TEST(Describe, PressureDiscardSaysPolicyUsageBudgetAndPlaceInTheOrder)
{
    kmt_transition c = Change(VK_ALLOCATION_STATUS_OFFERED_KMT, VK_ALLOCATION_STATUS_DISCARDED_KMT,
                              KMT_REASON_DISCARD_PRESSURE);
    c.order = 2;
    c.heap_usage = 48u << 20;
    c.heap_budget = 32u << 20;
    c.fence_value = 7;
    const std::string t = Text(c);
    EXPECT_STREQ(kmt_transition_id(&c), "KMT-state-discarded");
    EXPECT_STREQ(kmt_transition_event_name(&c), "discard");
    EXPECT_NE(t.find("discarded, OFFERED -> DISCARDED by the pressure policy (DISCARD=pressure)"), std::string::npos)
        << t;
    EXPECT_NE(t.find("heap 1 usage 48.0 MiB, budget 32.0 MiB"), std::string::npos) << t;
    EXPECT_NE(t.find("victim 2 of this relief in LOW -> NORMAL -> HIGH, oldest-offer-first order (offered at LOW)"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("paging fence value 7"), std::string::npos) << t;
}

TEST(Describe, DecommitSaysTheAppMustFreeIt)
{
    kmt_transition c = Change(VK_ALLOCATION_STATUS_OFFERED_KMT, VK_ALLOCATION_STATUS_DECOMMITTED_KMT,
                              KMT_REASON_DISCARD_ALWAYS);
    c.offer_flags = VK_OFFER_ALLOW_DECOMMIT_BIT_KMT;
    const std::string t = Text(c);
    EXPECT_STREQ(kmt_transition_id(&c), "KMT-state-decommitted");
    EXPECT_STREQ(kmt_transition_event_name(&c), "decommit");
    EXPECT_NE(t.find("by the always policy (DISCARD=always)"), std::string::npos) << t;
    EXPECT_NE(t.find("NOT_COMMITTED"), std::string::npos) << t;
}

TEST(Describe, ReclaimSaysResultAndFence)
{
    kmt_transition c = Change(VK_ALLOCATION_STATUS_DISCARDED_KMT, VK_ALLOCATION_STATUS_RESIDENT_KMT,
                              KMT_REASON_RECLAIM);
    c.result = VK_RECLAIM_RESULT_DISCARDED_KMT;
    c.fence_value = 3;
    const std::string t = Text(c, "gbuffer");
    EXPECT_STREQ(kmt_transition_id(&c), "KMT-state-reclaimed");
    EXPECT_NE(t.find("reclaimed, DISCARDED -> RESIDENT: result DISCARDED, paging fence value 3 (wait for it"),
              std::string::npos)
        << t;
}

TEST(Describe, WordsForEveryValue)
{
    EXPECT_STREQ(kmt_status_name(VK_ALLOCATION_STATUS_OFFER_PENDING_KMT), "OFFER_PENDING");
    EXPECT_STREQ(kmt_status_name(99), "?");
    EXPECT_STREQ(kmt_priority_name(0), "none");
    EXPECT_STREQ(kmt_priority_name(VK_OFFER_PRIORITY_HIGH_KMT), "HIGH");
    EXPECT_STREQ(kmt_reason_name(KMT_REASON_PROMOTED), "promote");
    EXPECT_STREQ(kmt_reason_name(KMT_REASON_DISCARD_RANDOM), "discard (random)");
    EXPECT_STREQ(kmt_reclaim_result_name(VK_RECLAIM_RESULT_NOT_COMMITTED_KMT), "NOT_COMMITTED");
    EXPECT_STREQ(kmt_result_name(VK_ERROR_VALIDATION_FAILED_EXT), "VK_ERROR_VALIDATION_FAILED_EXT");
    EXPECT_STREQ(kmt_result_name(static_cast<VkResult>(-12345)), "VkResult(-12345)");
    char text[64];
    kmt_offer_flags_text(VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT, text, sizeof(text));
    EXPECT_STREQ(text, "IMMEDIATELY|ALLOW_DECOMMIT");
    kmt_offer_flags_text(0, text, sizeof(text));
    EXPECT_STREQ(text, "none");
    kmt_bytes_text(1536, text, sizeof(text));
    EXPECT_STREQ(text, "1.5 KiB");
    kmt_bytes_text(1000, text, sizeof(text));
    EXPECT_STREQ(text, "1000 B");
    kmt_bytes_text(3ull << 30, text, sizeof(text));
    EXPECT_STREQ(text, "3.0 GiB");
}

}  // namespace

// The tracker reports every state change through ops.transition, with its
// reason (layer/offer.h): messages and the trace are built on it.
#include <gtest/gtest.h>

#include <vector>

#include "offer.h"

namespace {

std::vector<kmt_transition> g_seen;

void Record(void *, const kmt_transition *change) { g_seen.push_back(*change); }

VkDeviceMemory Mem(uint64_t h) { return reinterpret_cast<VkDeviceMemory>(static_cast<uintptr_t>(h)); }

class Transitions : public ::testing::Test {
  protected:
    void SetUp() override
    {
        g_seen.clear();
        kmt_tracker_config config{};
        config.pageable = true;
        kmt_tracker_ops ops{};
        ops.transition = Record;
        ASSERT_TRUE(kmt_tracker_init(&t, &config, &ops, nullptr));
        ASSERT_TRUE(kmt_track_memory(&t, 0x10, 4096, 0, 0, true, 0.5f));
    }
    void TearDown() override { kmt_tracker_finish(&t); }

    kmt_error Offer(uint32_t flags, uint64_t wait_serial, uint32_t priority = VK_OFFER_PRIORITY_LOW_KMT)
    {
        VkDeviceMemory m = Mem(0x10);
        kmt_handle_list list{1, &m, nullptr};
        kmt_error_info error{};
        return kmt_offer(&t, &list, priority, flags, wait_serial, &error, nullptr);
    }
    kmt_error Reclaim(VkReclaimResultKMT *result)
    {
        VkDeviceMemory m = Mem(0x10);
        kmt_handle_list list{1, &m, nullptr};
        kmt_error_info error{};
        uint64_t fence = 0;
        return kmt_reclaim(&t, &list, result, nullptr, 0, false, &error, &fence);
    }
    kmt_tracker t{};
};

TEST_F(Transitions, DeferredOfferPromotionDiscardAndReclaimAreEachReportedWithTheirReason)
{
    ASSERT_EQ(Offer(0, 7), KMT_OK);
    ASSERT_EQ(kmt_promote_pending(&t, 7), 1u);
    kmt_discard_why why{KMT_REASON_DISCARD_PRESSURE, 1, 8192, 4096};
    ASSERT_TRUE(kmt_discard_as(&t, kmt_find_memory(&t, 0x10), &why));
    VkReclaimResultKMT result = VK_RECLAIM_RESULT_MAX_ENUM_KMT;
    ASSERT_EQ(Reclaim(&result), KMT_OK);
    ASSERT_EQ(result, VK_RECLAIM_RESULT_DISCARDED_KMT);

    ASSERT_EQ(g_seen.size(), 4u);
    EXPECT_EQ(g_seen[0].reason, KMT_REASON_OFFER);
    EXPECT_EQ(g_seen[0].from, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(g_seen[0].to, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    EXPECT_EQ(g_seen[0].wait_serial, 7u);
    EXPECT_EQ(g_seen[0].offer_priority, VK_OFFER_PRIORITY_LOW_KMT);
    EXPECT_EQ(g_seen[0].memory, 0x10u);
    EXPECT_EQ(g_seen[0].size, 4096u);

    EXPECT_EQ(g_seen[1].reason, KMT_REASON_PROMOTED);
    EXPECT_EQ(g_seen[1].to, VK_ALLOCATION_STATUS_OFFERED_KMT);

    EXPECT_EQ(g_seen[2].reason, KMT_REASON_DISCARD_PRESSURE);
    EXPECT_EQ(g_seen[2].from, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(g_seen[2].to, VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(g_seen[2].order, 1u);
    EXPECT_EQ(g_seen[2].heap_usage, 8192u);
    EXPECT_EQ(g_seen[2].heap_budget, 4096u);

    EXPECT_EQ(g_seen[3].reason, KMT_REASON_RECLAIM);
    EXPECT_EQ(g_seen[3].from, VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(g_seen[3].to, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(g_seen[3].result, static_cast<uint32_t>(VK_RECLAIM_RESULT_DISCARDED_KMT));
}

TEST_F(Transitions, ImmediateOfferAndReofferAreReported)
{
    ASSERT_EQ(Offer(VK_OFFER_IMMEDIATELY_BIT_KMT, 0), KMT_OK);
    ASSERT_EQ(Offer(VK_OFFER_IMMEDIATELY_BIT_KMT, 0, VK_OFFER_PRIORITY_HIGH_KMT), KMT_OK);
    ASSERT_EQ(g_seen.size(), 2u);
    EXPECT_EQ(g_seen[0].reason, KMT_REASON_OFFER);
    EXPECT_EQ(g_seen[0].to, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(g_seen[1].reason, KMT_REASON_REOFFER);
    EXPECT_EQ(g_seen[1].offer_priority, VK_OFFER_PRIORITY_HIGH_KMT);
}

TEST_F(Transitions, ARejectedCallReportsNothing)
{
    ASSERT_EQ(Offer(0x80, 0), KMT_ERROR_FLAGS);
    EXPECT_TRUE(g_seen.empty());
}

}  // namespace

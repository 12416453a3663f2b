// SPDX-License-Identifier: MIT
// The tracker reports every state change through ops.transition, with its
// reason (layer/offer.h): messages and the trace are built on it. Transitions
// name the app's handle (the layer's own), never the driver's.
#include <gtest/gtest.h>

#include <vector>

#include "offer.h"

namespace {

std::vector<kmt_transition> g_seen;

void Record(void *, const kmt_transition *change) { g_seen.push_back(*change); }

VkDeviceMemory Mem(uint64_t h) { return reinterpret_cast<VkDeviceMemory>(static_cast<uintptr_t>(h)); }

constexpr uint64_t kDriverHandle = 0x10;

class Transitions : public ::testing::Test {
  protected:
    void SetUp() override
    {
        g_seen.clear();
        kmt_tracker_config config{};
        config.pageable = true;
        config.type_heap[3] = 1;
        kmt_tracker_ops ops{};
        ops.transition = Record;
        ASSERT_TRUE(kmt_tracker_init(&t, &config, &ops, nullptr));
        memory = kmt_track_memory(&t, kDriverHandle, 4096, 3, KMT_TRACK_HOST_VISIBLE, 0.5f);
        ASSERT_NE(memory, 0u);
        EXPECT_TRUE(g_seen.empty()) << "tracking is not a state change";
    }
    void TearDown() override { kmt_tracker_finish(&t); }

    kmt_error Offer(uint32_t flags, uint64_t wait_serial, uint32_t priority = VK_OFFER_PRIORITY_LOW_KMT,
                    uint64_t handle = 0)
    {
        VkDeviceMemory m = Mem(handle ? handle : memory);
        kmt_handle_list list{1, &m, nullptr};
        kmt_error_info error{};
        return kmt_offer(&t, &list, priority, flags, wait_serial, &error, nullptr);
    }
    kmt_error Reclaim(VkReclaimResultKMT *result)
    {
        VkDeviceMemory m = Mem(memory);
        kmt_handle_list list{1, &m, nullptr};
        kmt_error_info error{};
        uint64_t fence = 0;
        return kmt_reclaim(&t, &list, result, nullptr, 0, false, &error, &fence);
    }
    uint32_t Index()
    {
        uint32_t index = UINT32_MAX;
        EXPECT_NE(kmt_find_memory(&t, memory, &index), nullptr);
        return index;
    }
    kmt_tracker t{};
    uint64_t memory = 0; // the app's handle
};

TEST_F(Transitions, DeferredOfferPromotionDiscardAndReclaimAreEachReportedWithTheirReason)
{
    ASSERT_EQ(Offer(0, 7), KMT_OK);
    ASSERT_EQ(kmt_promote_pending(&t, 7), 1u);
    kmt_discard_why why{KMT_REASON_DISCARD_PRESSURE, 1, 8192, 4096};
    ASSERT_TRUE(kmt_discard_as(&t, Index(), &why));
    VkReclaimResultKMT result = VK_RECLAIM_RESULT_MAX_ENUM_KMT;
    ASSERT_EQ(Reclaim(&result), KMT_OK);
    ASSERT_EQ(result, VK_RECLAIM_RESULT_DISCARDED_KMT);

    ASSERT_EQ(g_seen.size(), 4u);
    EXPECT_EQ(g_seen[0].reason, KMT_REASON_OFFER);
    EXPECT_EQ(g_seen[0].from, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(g_seen[0].to, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    EXPECT_EQ(g_seen[0].wait_serial, 7u);
    EXPECT_EQ(g_seen[0].offer_priority, VK_OFFER_PRIORITY_LOW_KMT);
    EXPECT_EQ(g_seen[0].memory, memory) << "the app's handle";
    EXPECT_NE(g_seen[0].memory, kDriverHandle);
    EXPECT_EQ(g_seen[0].size, 4096u);
    EXPECT_EQ(g_seen[0].heap_index, 1u) << "from the memory type";

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
    EXPECT_EQ(g_seen[0].offer_flags, static_cast<uint32_t>(VK_OFFER_IMMEDIATELY_BIT_KMT));
    EXPECT_EQ(g_seen[1].reason, KMT_REASON_REOFFER);
    EXPECT_EQ(g_seen[1].from, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(g_seen[1].offer_priority, VK_OFFER_PRIORITY_HIGH_KMT);
}

TEST_F(Transitions, ARejectedCallReportsNothing)
{
    ASSERT_EQ(Offer(0x80, 0), KMT_ERROR_FLAGS);
    ASSERT_EQ(Offer(0, 0, VK_OFFER_PRIORITY_LOW_KMT, kDriverHandle), KMT_ERROR_UNKNOWN_MEMORY)
        << "the driver's handle is not the app's";
    EXPECT_TRUE(g_seen.empty());
}

// Behaviour change (issue 12): reclaiming RESIDENT memory (never offered, or
// reclaimed already) changes nothing and reports no transition; the reclaim
// is still counted.
TEST_F(Transitions, ReclaimingResidentMemoryReportsNoTransition)
{
    VkReclaimResultKMT result = VK_RECLAIM_RESULT_MAX_ENUM_KMT;
    ASSERT_EQ(Reclaim(&result), KMT_OK);
    EXPECT_EQ(result, VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_TRUE(g_seen.empty());
    EXPECT_EQ(t.counters.reclaims, 1u);
    ASSERT_EQ(Offer(VK_OFFER_IMMEDIATELY_BIT_KMT, 0), KMT_OK);
    ASSERT_EQ(Reclaim(&result), KMT_OK);
    ASSERT_EQ(Reclaim(&result), KMT_OK);
    ASSERT_EQ(g_seen.size(), 2u) << "the offer and the first reclaim";
    EXPECT_EQ(g_seen[1].reason, KMT_REASON_RECLAIM);
    EXPECT_EQ(t.counters.reclaims, 3u);
}

// A deferred offer's transition reports the serial it really waits for: the
// FIFO raises a lower serial to the highest one queued before it.
TEST_F(Transitions, ADeferredOfferReportsTheSerialItReallyWaitsFor)
{
    const uint64_t second = kmt_track_memory(&t, 0x11, 4096, 0, 0, 0.5f);
    ASSERT_NE(second, 0u);
    ASSERT_EQ(Offer(0, 9), KMT_OK);
    ASSERT_EQ(Offer(0, 5, VK_OFFER_PRIORITY_LOW_KMT, second), KMT_OK);
    ASSERT_EQ(Offer(0, 12, VK_OFFER_PRIORITY_HIGH_KMT), KMT_OK); // a re-offer of pending memory
    ASSERT_EQ(g_seen.size(), 3u);
    EXPECT_EQ(g_seen[0].wait_serial, 9u);
    EXPECT_EQ(g_seen[1].memory, second);
    EXPECT_EQ(g_seen[1].wait_serial, 9u) << "asked for 5, waits for 9";
    EXPECT_EQ(g_seen[2].reason, KMT_REASON_REOFFER);
    EXPECT_EQ(g_seen[2].from, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    EXPECT_EQ(g_seen[2].to, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    EXPECT_EQ(g_seen[2].wait_serial, 12u);
}

// Decommit is real: the transition says DECOMMITTED and names the app's
// handle; reclaims after it report NOT_COMMITTED without leaving the state.
TEST_F(Transitions, DecommitIsReportedAndLaterReclaimsReportNotCommitted)
{
    ASSERT_EQ(Offer(VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT, 0), KMT_OK);
    ASSERT_TRUE(kmt_discard(&t, Index()));
    VkReclaimResultKMT result = VK_RECLAIM_RESULT_MAX_ENUM_KMT;
    ASSERT_EQ(Reclaim(&result), KMT_OK);
    EXPECT_EQ(result, VK_RECLAIM_RESULT_NOT_COMMITTED_KMT);
    ASSERT_EQ(g_seen.size(), 3u);
    EXPECT_EQ(g_seen[1].reason, KMT_REASON_DISCARD_REQUEST);
    EXPECT_EQ(g_seen[1].to, VK_ALLOCATION_STATUS_DECOMMITTED_KMT);
    EXPECT_EQ(g_seen[1].memory, memory);
    EXPECT_EQ(g_seen[2].reason, KMT_REASON_RECLAIM);
    EXPECT_EQ(g_seen[2].from, VK_ALLOCATION_STATUS_DECOMMITTED_KMT);
    EXPECT_EQ(g_seen[2].to, VK_ALLOCATION_STATUS_DECOMMITTED_KMT);
    EXPECT_EQ(g_seen[2].result, static_cast<uint32_t>(VK_RECLAIM_RESULT_NOT_COMMITTED_KMT));
}

}  // namespace

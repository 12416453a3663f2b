// SPDX-License-Identifier: MIT
// Smoke: the full stack comes up and one offer/reclaim round trip works.
#include "kmt_calls.hpp"

namespace kmt {
namespace {

class Smoke : public StackTest {};

TEST_F(Smoke, OfferThenReclaimByMemoryRoundTrips)
{
    ASSERT_EQ(stack->result(), VK_SUCCESS) << stack->failed_step();
    ASSERT_NE(stack->offer, nullptr);
    VkDeviceMemory memory = stack->allocate(1 << 16);
    ASSERT_EQ(offer(*stack, {memory}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
    VkAllocationStateKMT state = state_of(*stack, memory);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(state.driverPriorityApplied, VK_TRUE);
    EXPECT_EQ(state.driverPriority, 0.0f);
    Reclaimed r = reclaim(*stack, std::vector<VkDeviceMemory>{memory});
    ASSERT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(r.fence, 0u);
    state = state_of(*stack, memory);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(state.driverPriority, 0.5f);
}

}  // namespace
}  // namespace kmt

// SPDX-License-Identifier: MIT
// Unit tests of real decommit (DESIGN.md "Decommit is real"; layer/offer.c):
// when OFFERED memory offered with ALLOW_DECOMMIT is discarded, the tracker
// asks the glue to free the driver's memory at once (ops.decommit, with the
// app's and the driver's handle), forgets the driver's handle, and keeps the
// app's handle valid until vkFreeMemory, which then frees nothing below.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "policy.h"
#include "tracker_fixture.h"

namespace {

using namespace kmt_test;

class Decommit : public TrackerTest {
  protected:
    void SetUp() override
    {
        TrackerTest::SetUp();
        t.ops.decommit = &Decommit::Record;
        t.ops.ctx = this;
        t.ops.set_priority = [](void *ctx, uint64_t memory, float priority) {
            Driver::SetPriority(&static_cast<Decommit *>(ctx)->driver, memory, priority);
        };
        t.ops.fill = [](void *ctx, const kmt_fill_request *request) {
            return Driver::Fill(&static_cast<Decommit *>(ctx)->driver, request);
        };
    }
    struct Seen {
        uint64_t app, driver_memory;
        uint64_t translated; // kmt_driver_memory(app) while the callback ran
        uint8_t status;
    };
    static void Record(void *ctx, uint64_t memory, uint64_t driver_memory)
    {
        auto *self = static_cast<Decommit *>(ctx);
        const kmt_memory *m = kmt_find_memory(&self->t, memory, nullptr);
        self->seen.push_back({memory, driver_memory, kmt_driver_memory(&self->t, memory),
                              static_cast<uint8_t>(m ? m->status : 0xff)});
        Driver::Decommit(&self->driver, memory, driver_memory);
    }
    std::vector<Seen> seen;
};

TEST_F(Decommit, FreesTheDriversMemoryOnceWithBothHandles)
{
    Track(0x10, 4 * MiB);
    Track(0x11, 4 * MiB);
    ASSERT_EQ(Offer({0x10}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
    ASSERT_EQ(Offer({0x11}), KMT_OK);
    ASSERT_TRUE(Discard(0x10));
    ASSERT_TRUE(Discard(0x11)); // without ALLOW_DECOMMIT: a discard, the driver's memory stays
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].app, H(0x10));
    EXPECT_EQ(seen[0].driver_memory, 0x10u);
    EXPECT_EQ(seen[0].translated, 0u) << "cleared before the callback: a lock-free translation never passes it down";
    EXPECT_EQ(seen[0].status, DECOMMITTED);
    EXPECT_EQ(M(0x10)->driver, 0u);
    EXPECT_EQ(kmt_driver_memory(&t, H(0x10)), 0u);
    EXPECT_EQ(kmt_driver_memory(&t, H(0x11)), 0x11u);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), P(0x11, kOfferedPriority), D(H(0x10), 0x10), F(0x11)}))
        << "a decommit needs no fill";

    EXPECT_FALSE(Discard(0x10)) << "decommitted once";
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_NOT_COMMITTED);
    EXPECT_EQ(seen.size(), 1u);
}

TEST_F(Decommit, TheAppsHandleStaysValidUntilFreedAndThenFreesNothingBelow)
{
    Track(0x10, 4 * MiB, 0.7f, 2);
    ASSERT_EQ(Offer({0x10}, HIGH, IMMEDIATELY | DECOMMIT), KMT_OK);
    ASSERT_TRUE(Discard(0x10));
    ASSERT_NE(kmt_find_memory(&t, H(0x10), nullptr), nullptr);
    VkAllocationStateKMT state{};
    kmt_fill_state(&t, Idx(0x10), &state);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_DECOMMITTED_KMT);
    EXPECT_EQ(state.size, 4 * MiB);
    EXPECT_EQ(state.heapIndex, 2u);
    EXPECT_EQ(state.discardCount, 1u);
    EXPECT_EQ(t.heap_usage[2], 0u) << "the bytes are given back at once";
    EXPECT_EQ(t.counters.decommits, 1u);
    EXPECT_EQ(t.counters.bytes_discarded, 4 * MiB);

    // No priority for memory the driver no longer has.
    const size_t calls = driver.calls.size();
    EXPECT_EQ(kmt_set_app_priority(&t, H(0x10), 0.2f), 0u);
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(driver.calls.size(), calls);

    uint64_t driver_memory = 0xbad;
    EXPECT_TRUE(kmt_untrack_memory(&t, H(0x10), &driver_memory));
    EXPECT_EQ(driver_memory, 0u) << "vkFreeMemory releases only the record";
    EXPECT_EQ(kmt_find_memory(&t, H(0x10), nullptr), nullptr);
    EXPECT_EQ(t.heap_usage[2], 0u);
    EXPECT_EQ(seen.size(), 1u);
}

// The pressure policy decommits what was offered with ALLOW_DECOMMIT, and
// counts the bytes as gone: it stops as soon as the heap is under budget.
TEST_F(Decommit, ThePressurePolicyDecommitsAndCountsTheBytesAsGivenBack)
{
    Track(0x1, 4 * MiB);
    Track(0x2, 4 * MiB);
    Track(0x3, 4 * MiB);
    ASSERT_EQ(Offer({0x1, 0x2}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
    ASSERT_EQ(Offer({0x3}, HIGH, IMMEDIATELY | DECOMMIT), KMT_OK);
    kmt_settings settings{};
    kmt_settings_defaults(&settings);
    settings.discard = KMT_DISCARD_PRESSURE;
    settings.budget_mb = 9; // 12 MiB tracked: one 4 MiB decommit is enough
    kmt_policy policy{};
    kmt_policy_init(&policy, &settings);
    const VkDeviceSize heap_size = 1024 * MiB;
    kmt_policy_set_budgets(&policy, &settings, 1, &heap_size, nullptr);
    EXPECT_TRUE(kmt_policy_over_budget(&policy, &t));
    EXPECT_EQ(kmt_policy_relieve(&policy, &t), 1u);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].app, H(0x1)) << "LOW, oldest first";
    EXPECT_EQ(seen[0].driver_memory, 0x1u);
    EXPECT_EQ(Status(0x2), OFFERED);
    EXPECT_EQ(Status(0x3), OFFERED);
    EXPECT_EQ(t.heap_usage[0], 8 * MiB);
    EXPECT_FALSE(kmt_policy_over_budget(&policy, &t));
}

} // namespace

// SPDX-License-Identifier: MIT
// Unit tests of the offer sequence number (layer/offer.c): every offer
// stamps its memory with the next 32-bit number, the pressure policy
// discards LOW before NORMAL before HIGH, oldest number first. After ~4
// billion offers the sequence would wrap: every offered or pending
// allocation is renumbered from 1 in the same order, pending ring entries
// following their memory.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "policy.h"
#include "tracker_fixture.h"

namespace {

using namespace kmt_test;

class OfferOrder : public TrackerTest {
  protected:
    // Runs the pressure policy with a budget of 0: every OFFERED allocation
    // goes, in the policy's order; returns the fills in that order.
    Calls RelieveEverything()
    {
        kmt_settings settings{};
        kmt_settings_defaults(&settings);
        settings.discard = KMT_DISCARD_PRESSURE;
        kmt_policy policy{};
        kmt_policy_init(&policy, &settings);
        const VkDeviceSize heap_size = 1024 * MiB;
        kmt_policy_set_budgets(&policy, &settings, 1, &heap_size, nullptr);
        policy.heap_budget[0] = 0;
        driver.calls.clear();
        kmt_policy_relieve(&policy, &t);
        Calls fills;
        for (const DriverCall &c : driver.calls)
            if (c.kind == 'F')
                fills.push_back(c);
        return fills;
    }
};

TEST_F(OfferOrder, PressureDiscardsLowBeforeNormalBeforeHighOldestFirst)
{
    for (uint64_t h = 1; h <= 6; h++)
        Track(h);
    ASSERT_EQ(Offer({1}, HIGH), KMT_OK);
    ASSERT_EQ(Offer({2}, LOW), KMT_OK);
    ASSERT_EQ(Offer({3}, NORMAL), KMT_OK);
    ASSERT_EQ(Offer({4}, LOW, 0, 5), KMT_OK); // deferred: keeps its place when promoted
    ASSERT_EQ(Offer({5}, LOW), KMT_OK);
    ASSERT_EQ(Offer({6}, HIGH), KMT_OK);
    ASSERT_EQ(Offer({2}, LOW), KMT_OK); // re-offered: the newest LOW now
    ASSERT_EQ(kmt_promote_pending(&t, 5), 1u);
    EXPECT_EQ(RelieveEverything(), Calls({F(4), F(5), F(2), F(3), F(1), F(6)}));
}

// The wrap: offers keep the pressure order across the renumbering, and a
// deferred offer queued before it is still promoted after it.
TEST_F(OfferOrder, WrapAroundKeepsThePressureOrderAndPendingPromotion)
{
    for (uint64_t h : {0xa, 0xb, 0xc, 0xd, 0xe})
        Track(h);
    kmt_set_next_offer_order(&t, UINT32_MAX - 3);
    ASSERT_EQ(Offer({0xd}, LOW, 0, 5), KMT_OK); // UINT32_MAX - 2, deferred
    ASSERT_EQ(Offer({0xa}, LOW), KMT_OK);       // UINT32_MAX - 1
    ASSERT_EQ(Offer({0xb}, HIGH), KMT_OK);      // UINT32_MAX
    EXPECT_EQ(M(0xb)->offer_order, UINT32_MAX);
    ASSERT_EQ(Offer({0xc}, NORMAL), KMT_OK); // no number left: 0xd, 0xa, 0xb renumbered 1, 2, 3
    ASSERT_EQ(Offer({0xe}, LOW), KMT_OK);
    EXPECT_LT(t.next_offer_order, 10u) << "renumbered from 1";
    EXPECT_LT(M(0xd)->offer_order, M(0xa)->offer_order);
    EXPECT_LT(M(0xa)->offer_order, M(0xb)->offer_order);
    EXPECT_LT(M(0xb)->offer_order, M(0xc)->offer_order);
    EXPECT_LT(M(0xc)->offer_order, M(0xe)->offer_order);

    EXPECT_EQ(Pending(), std::vector<uint64_t>{0xd}) << "its ring entry followed the renumbering";
    EXPECT_EQ(kmt_promote_pending(&t, 5), 1u);
    EXPECT_EQ(Status(0xd), OFFERED);
    EXPECT_EQ(Offered(LOW), std::vector<uint64_t>({0xd, 0xa, 0xe}));
    EXPECT_EQ(RelieveEverything(), Calls({F(0xd), F(0xa), F(0xe), F(0xc), F(0xb)}));
}

// One call whose elements need more numbers than are left renumbers first,
// then numbers them in call order, after what was offered before.
TEST_F(OfferOrder, ACallThatCrossesTheWrapIsNumberedInCallOrder)
{
    for (uint64_t h : {0x1, 0x2, 0xa, 0xb, 0xc})
        Track(h);
    ASSERT_EQ(Offer({0x1}), KMT_OK);
    ASSERT_EQ(Offer({0x2}), KMT_OK);
    kmt_set_next_offer_order(&t, UINT32_MAX - 1);
    ASSERT_EQ(Offer({0xc, 0xa, 0xb}), KMT_OK);
    EXPECT_EQ(Offered(LOW), std::vector<uint64_t>({0x1, 0x2, 0xc, 0xa, 0xb}));
    EXPECT_EQ(t.next_offer_order, 5u);
    EXPECT_EQ(RelieveEverything(), Calls({F(0x1), F(0x2), F(0xc), F(0xa), F(0xb)}));
}

// A rejected call changes nothing, not even the sequence numbers: it must not
// renumber at the wrap (found by the fuzzer's reference model, which compares
// every allocation's state after a rejected call). Both the general path
// (heap accounting on) and the lean plain path (off).
TEST_F(OfferOrder, ARejectedCallAtTheWrapRenumbersNothing)
{
    for (bool with_accounting : {true, false}) {
        SCOPED_TRACE(with_accounting ? "general path" : "plain path");
        accounting = with_accounting;
        Reinit(false);
        for (uint64_t h : {0x1, 0x2, 0xa})
            Track(h);
        ASSERT_EQ(Offer({0x1}), KMT_OK);
        ASSERT_EQ(Offer({0x2}), KMT_OK);
        const uint32_t order1 = M(0x1)->offer_order, order2 = M(0x2)->offer_order;
        kmt_set_next_offer_order(&t, UINT32_MAX);
        EXPECT_EQ(Offer({0xa, 0x1, 0xa}), KMT_ERROR_DUPLICATE);
        EXPECT_EQ(t.next_offer_order, UINT32_MAX) << "no renumbering";
        EXPECT_EQ(M(0x1)->offer_order, order1);
        EXPECT_EQ(M(0x2)->offer_order, order2);
        EXPECT_EQ(Status(0xa), RESIDENT);
        ASSERT_EQ(Offer({0xa}), KMT_OK) << "the valid call renumbers";
        EXPECT_EQ(t.next_offer_order, 3u);
    }
}

// Renumbering skips what is not offered any more and drops stale ring
// entries: a reclaimed deferred offer stays reclaimed, a live one is
// promoted, and discarded memory keeps a number (it may be offered again).
TEST_F(OfferOrder, RenumberingDropsStaleRingEntriesAndKeepsLiveOnes)
{
    for (uint64_t h : {0x1, 0x2, 0x3, 0x4})
        Track(h);
    ASSERT_EQ(Offer({0x1}, LOW, 0, 5), KMT_OK);
    ASSERT_EQ(Offer({0x2}, LOW, 0, 6), KMT_OK);
    ASSERT_EQ(Offer({0x3}), KMT_OK);
    ASSERT_TRUE(Discard(0x3));
    ASSERT_EQ(Reclaim({0x1}), KMT_OK); // its ring entry is stale now
    kmt_set_next_offer_order(&t, UINT32_MAX);
    ASSERT_EQ(Offer({0x4}), KMT_OK);
    EXPECT_EQ(t.next_offer_order, 3u) << "0x2 (pending) and 0x3 (discarded) renumbered, then 0x4";
    EXPECT_EQ(RingEntries(t).size(), 1u) << "the stale entry was dropped";
    EXPECT_EQ(Pending(), std::vector<uint64_t>{0x2});
    EXPECT_EQ(kmt_promote_pending(&t, 6), 1u);
    EXPECT_EQ(Status(0x1), RESIDENT);
    EXPECT_EQ(Status(0x2), OFFERED);
    EXPECT_EQ(RelieveEverything(), Calls({F(0x2), F(0x4)}));
}

// Renumbering compacts the pending ring too; with a ring that has wrapped it
// must keep every deferred offer (regression test, see
// OfferStateMachine.AFullWrappedPendingRingKeepsEveryEntryWhenItMakesRoom:
// 0x41..0x4a were lost and never promoted before 7c5cf72).
TEST_F(OfferOrder, RenumberingKeepsEveryDeferredOfferOfAWrappedRing)
{
    for (uint64_t h = 1; h <= 75; h++)
        Track(h);
    for (uint64_t h = 1; h <= 64; h++)
        ASSERT_EQ(Offer({h}, LOW, 0, h), KMT_OK);
    ASSERT_EQ(kmt_promote_pending(&t, 10), 10u);
    for (uint64_t h = 65; h <= 74; h++) // wrap to the ring's first slots
        ASSERT_EQ(Offer({h}, LOW, 0, h), KMT_OK);
    kmt_set_next_offer_order(&t, UINT32_MAX);
    ASSERT_EQ(Offer({75}), KMT_OK); // renumbers
    std::vector<uint64_t> expected;
    for (uint64_t h = 11; h <= 74; h++)
        expected.push_back(h);
    EXPECT_EQ(Pending(), expected);
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 64u);
    for (uint64_t h = 1; h <= 75; h++)
        EXPECT_EQ(Status(h), OFFERED) << h;
}

} // namespace

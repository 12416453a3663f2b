// SPDX-License-Identifier: MIT
// Unit tests of the offer/reclaim state machine (layer/offer.[ch]).
//
// The driver is a kmt_tracker_ops whose callbacks append to a log, so each
// test asserts the exact sequence of priorities the driver would be given.
// Allocations are named by small integers, which are their driver handles
// (tracker_fixture.h); H(name) is the app's handle the tracker returned.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "offer.h"
#include "policy.h"
#include "tracker_fixture.h"

namespace {

using namespace kmt_test;

using OfferStateMachine = TrackerTest;

// ---- RESIDENT -> OFFER_PENDING -> OFFERED -------------------------------------

TEST_F(OfferStateMachine, TrackedMemoryStartsResidentWithTheAppPriority)
{
    Track(0x10, 3 * MiB, 0.75f, 1, true);
    kmt_memory *m = M(0x10);
    ASSERT_NE(m, nullptr);
    EXPECT_NE(H(0x10), 0x10u) << "the app gets the layer's own handle, not the driver's";
    EXPECT_EQ(m->driver, 0x10u);
    EXPECT_EQ(kmt_driver_memory(&t, H(0x10)), 0x10u);
    EXPECT_EQ(m->status, RESIDENT);
    EXPECT_EQ(m->offer_priority, 0);
    EXPECT_EQ(Cold(0x10)->app_priority, 0.75f);
    EXPECT_EQ(Cold(0x10)->driver_priority, 0.75f);
    EXPECT_EQ(m->type_index, 1);
    EXPECT_EQ(kmt_heap_of(&t, m), 1u);
    EXPECT_TRUE(m->bits & KMT_MEM_HOST_VISIBLE);
    EXPECT_EQ(t.heap_usage[1], 3 * MiB);
    EXPECT_TRUE(driver.calls.empty());
}

TEST_F(OfferStateMachine, OfferImmediatelyMakesMemoryOfferedAndDemotesIt)
{
    Track(0x10);
    EXPECT_EQ(Offer({0x10}, NORMAL, IMMEDIATELY, 42), KMT_OK);
    EXPECT_EQ(error.code, KMT_OK);
    EXPECT_EQ(reoffered, 0u);
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(M(0x10)->offer_priority, NORMAL);
    EXPECT_EQ(Flags(0x10), IMMEDIATELY);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority)}));
    EXPECT_EQ(Offered(NORMAL), std::vector<uint64_t>{0x10});
    EXPECT_EQ(t.counters.offers, 1u);
    EXPECT_EQ(t.counters.bytes_offered, MiB);
    EXPECT_EQ(t.heap_usage[0], MiB) << "offered memory still holds its payload";
    EXPECT_TRUE(Pending().empty()) << "IMMEDIATELY ignores the wait serial";
}

TEST_F(OfferStateMachine, OfferWithNothingPendingMakesMemoryOfferedAtOnce)
{
    Track(0x10);
    EXPECT_EQ(Offer({0x10}, LOW, 0, /*wait_serial*/ 0), KMT_OK);
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority)}));
}

TEST_F(OfferStateMachine, OfferWithAWaitSerialLeavesMemoryPendingAndItsPriorityAlone)
{
    Track(0x10);
    EXPECT_EQ(Offer({0x10}, HIGH, 0, 7), KMT_OK);
    EXPECT_EQ(Status(0x10), PENDING);
    EXPECT_EQ(PendingSerials(), (std::vector<std::pair<uint64_t, uint64_t>>{{0x10, 7}}));
    EXPECT_EQ(kmt_next_pending_serial(&t), 7u);
    EXPECT_EQ(M(0x10)->offer_priority, HIGH);
    EXPECT_TRUE(driver.calls.empty());
    EXPECT_EQ(t.counters.offers, 1u);
}

TEST_F(OfferStateMachine, PromotePendingOffersWhatHasCompletedInOfferOrder)
{
    Track(0xa);
    Track(0xb);
    Track(0xc);
    ASSERT_EQ(Offer({0xa}, LOW, 0, 5), KMT_OK);
    ASSERT_EQ(Offer({0xb}, LOW, 0, 7), KMT_OK);
    ASSERT_EQ(Offer({0xc}, LOW, 0, 9), KMT_OK);
    EXPECT_EQ(Pending(), std::vector<uint64_t>({0xa, 0xb, 0xc}));
    EXPECT_EQ(kmt_promote_pending(&t, 4), 0u);
    EXPECT_TRUE(driver.calls.empty());
    EXPECT_EQ(kmt_promote_pending(&t, 7), 2u) << "wait_serial <= completed: 5 and 7";
    EXPECT_EQ(driver.calls, Calls({P(0xa, kOfferedPriority), P(0xb, kOfferedPriority)}));
    EXPECT_EQ(Status(0xa), OFFERED);
    EXPECT_EQ(Status(0xb), OFFERED);
    EXPECT_EQ(Status(0xc), PENDING);
    EXPECT_EQ(kmt_next_pending_serial(&t), 9u);
    EXPECT_EQ(Offered(LOW), std::vector<uint64_t>({0xa, 0xb}));
    EXPECT_EQ(kmt_promote_pending(&t, 8), 0u);
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 1u);
    EXPECT_EQ(Status(0xc), OFFERED);
    EXPECT_EQ(t.pending_count, 0u);
    EXPECT_EQ(kmt_next_pending_serial(&t), 0u);
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 0u);
    EXPECT_EQ(driver.calls.size(), 3u);
}

// Behaviour change (issue 12): deferred offers wait in a FIFO ring, so an
// offer queued with a LOWER wait_serial than an earlier, still pending offer
// now waits for the earlier one too. Waiting longer is always safe (the
// memory only becomes OFFERED later than it could), and the glue's serials
// only grow, so through the layer this never happens. Round 1 promoted 0xb at
// serial 5 here.
TEST_F(OfferStateMachine, PromotePendingHonoursWaitSerialsOfferedOutOfOrder)
{
    Track(0xa);
    Track(0xb);
    ASSERT_EQ(Offer({0xa}, LOW, 0, 9), KMT_OK);
    ASSERT_EQ(Offer({0xb}, LOW, 0, 5), KMT_OK);
    EXPECT_EQ(PendingSerials(), (std::vector<std::pair<uint64_t, uint64_t>>{{0xa, 9}, {0xb, 9}}))
        << "0xb's serial is raised to the newest queued";
    EXPECT_EQ(kmt_promote_pending(&t, 5), 0u) << "0xb waits behind 0xa";
    EXPECT_EQ(Status(0xb), PENDING);
    EXPECT_EQ(Status(0xa), PENDING);
    EXPECT_EQ(kmt_promote_pending(&t, 9), 2u);
    EXPECT_EQ(Status(0xa), OFFERED);
    EXPECT_EQ(Status(0xb), OFFERED);
    EXPECT_EQ(driver.calls, Calls({P(0xa, kOfferedPriority), P(0xb, kOfferedPriority)})) << "in offer order";
}

// Once the ring is empty the raise is forgotten: a later, lower serial is
// honoured again.
TEST_F(OfferStateMachine, AnEmptiedRingForgetsTheHighestSerialQueued)
{
    Track(0xa);
    Track(0xb);
    ASSERT_EQ(Offer({0xa}, LOW, 0, 9), KMT_OK);
    ASSERT_EQ(Reclaim({0xa}), KMT_OK);
    ASSERT_EQ(Offer({0xb}, LOW, 0, 5), KMT_OK);
    EXPECT_EQ(PendingSerials(), (std::vector<std::pair<uint64_t, uint64_t>>{{0xb, 5}}));
    EXPECT_EQ(kmt_promote_pending(&t, 5), 1u);
    EXPECT_EQ(Status(0xb), OFFERED);
}

// A ring entry left behind by memory that left OFFER_PENDING (reclaimed,
// freed, its slot reused) is skipped, never promotes the wrong allocation.
TEST_F(OfferStateMachine, StaleRingEntriesAreSkipped)
{
    Track(0xa);
    Track(0xb);
    Track(0xc);
    ASSERT_EQ(Offer({0xa}, LOW, 0, 3), KMT_OK);
    ASSERT_EQ(Offer({0xb}, LOW, 0, 4), KMT_OK);
    ASSERT_EQ(Offer({0xc}, LOW, 0, 6), KMT_OK);
    ASSERT_EQ(Reclaim({0xa}), KMT_OK);
    const uint32_t b_slot = Idx(0xb);
    Free(0xb);
    Track(0xd); // the freed slot again (LIFO), a new generation
    EXPECT_EQ(Idx(0xd), b_slot);
    EXPECT_EQ(Pending(), std::vector<uint64_t>({0xc}));
    EXPECT_EQ(kmt_promote_pending(&t, 5), 0u) << "0xa's and 0xb's entries are stale";
    EXPECT_EQ(Status(0xa), RESIDENT);
    EXPECT_EQ(Status(0xd), RESIDENT);
    EXPECT_EQ(kmt_promote_pending(&t, 6), 1u);
    EXPECT_EQ(Status(0xc), OFFERED);
    EXPECT_EQ(driver.calls, Calls({P(0xc, kOfferedPriority)}));
}

// More deferred offers than the ring's first capacity (64): it grows and
// keeps the order.
TEST_F(OfferStateMachine, ThePendingRingGrowsKeepingTheOrder)
{
    for (uint64_t h = 1; h <= 200; h++)
        Track(h);
    for (uint64_t h = 1; h <= 200; h++)
        ASSERT_EQ(Offer({h}, LOW, 0, h), KMT_OK);
    EXPECT_GE(t.pending_capacity, 200u);
    EXPECT_EQ(kmt_promote_pending(&t, 150), 150u);
    for (uint64_t h = 1; h <= 200; h++)
        EXPECT_EQ(Status(h), h <= 150 ? OFFERED : PENDING) << h;
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 50u);
    ASSERT_EQ(driver.calls.size(), 200u);
    for (uint64_t h = 1; h <= 200; h++)
        EXPECT_EQ(driver.calls[h - 1], P(h, kOfferedPriority));
}

// The ring is a power-of-two circular buffer: after promotions free its
// front, new entries wrap to its start. When it is full again, making room
// must keep every live entry. Regression test: compact_pending used to copy
// entries down to index 0 in place, reading slot (head + k) & mask and
// writing slot k, so once the ring had wrapped the newest entries (at slots
// 0..) were overwritten by the oldest before they were read -- here
// 0x0b..0x14 over 0x41..0x4a, ten offers that stayed OFFER_PENDING forever
// (fixed in 7c5cf72: the ring is rotated in place first).
TEST_F(OfferStateMachine, AFullWrappedPendingRingKeepsEveryEntryWhenItMakesRoom)
{
    for (uint64_t h = 1; h <= 75; h++)
        Track(h);
    for (uint64_t h = 1; h <= 64; h++) // fills the first ring (64 entries)
        ASSERT_EQ(Offer({h}, LOW, 0, h), KMT_OK);
    ASSERT_EQ(t.pending_capacity, 64u);
    ASSERT_EQ(kmt_promote_pending(&t, 10), 10u); // frees its first 10 entries
    for (uint64_t h = 65; h <= 74; h++)          // these wrap to slots 0..9
        ASSERT_EQ(Offer({h}, LOW, 0, h), KMT_OK);
    ASSERT_EQ(t.pending_capacity, 64u) << "the ring was full but not grown yet";
    ASSERT_EQ(Offer({75}, LOW, 0, 75), KMT_OK); // needs room: compaction, then growth
    std::vector<uint64_t> expected;
    for (uint64_t h = 11; h <= 75; h++)
        expected.push_back(h);
    EXPECT_EQ(Pending(), expected);
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 65u);
    for (uint64_t h = 1; h <= 75; h++)
        EXPECT_EQ(Status(h), OFFERED) << h;
    EXPECT_EQ(t.pending_count, 0u);
}

// ---- reclaim -----------------------------------------------------------------

TEST_F(OfferStateMachine, ReclaimingNeverOfferedMemoryReturnsOkAndFenceZero)
{
    Track(0x10);
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(error.code, KMT_OK);
    EXPECT_EQ(results[0], RES_OK);
    EXPECT_EQ(discarded[0], VK_FALSE);
    EXPECT_EQ(fence, 0u);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_TRUE(driver.calls.empty());
    EXPECT_EQ(t.counters.reclaims, 1u);
}

TEST_F(OfferStateMachine, ReclaimingPendingMemoryReturnsOkWithoutPriorityCalls)
{
    Track(0x10, MiB, 0.9f);
    ASSERT_EQ(Offer({0x10}, LOW, 0, 3), KMT_OK);
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_OK);
    EXPECT_EQ(discarded[0], VK_FALSE);
    EXPECT_EQ(fence, 0u);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_EQ(M(0x10)->offer_priority, 0);
    EXPECT_EQ(t.pending_count, 0u);
    EXPECT_TRUE(Pending().empty());
    EXPECT_TRUE(driver.calls.empty()) << "the driver never saw the demotion, so nothing to restore";
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 0u) << "a reclaimed offer is not promoted later";
    EXPECT_EQ(Status(0x10), RESIDENT);
}

TEST_F(OfferStateMachine, ReclaimingOfferedMemoryRestoresTheAppPriority)
{
    Track(0x10, MiB, 0.8f);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_OK);
    EXPECT_EQ(fence, 0u);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_EQ(M(0x10)->offer_priority, 0);
    EXPECT_EQ(Flags(0x10), 0u);
    EXPECT_EQ(Cold(0x10)->driver_priority, 0.8f);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), P(0x10, 0.8f)}));
    EXPECT_EQ(OfferedTotal(t.offered_count), 0u);
    EXPECT_EQ(t.offered_bytes[0], 0u);
}

// kmt_set_app_priority returns the driver handle to forward the app's call
// with, or 0 (nothing to forward: demoted now, applied at reclaim).
TEST_F(OfferStateMachine, AppPrioritySetWhileOfferedIsRememberedAndRestoredOnReclaim)
{
    Track(0x10, MiB, 0.5f);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    EXPECT_EQ(kmt_set_app_priority(&t, H(0x10), 0.9f), 0u) << "the driver must not get it while demoted";
    EXPECT_EQ(Cold(0x10)->app_priority, 0.9f);
    EXPECT_EQ(Cold(0x10)->driver_priority, kOfferedPriority);
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), P(0x10, 0.9f)}));
    EXPECT_EQ(Cold(0x10)->driver_priority, 0.9f);
}

TEST_F(OfferStateMachine, AppPrioritySetWhileDiscardedIsRememberedToo)
{
    Track(0x10, MiB, 0.5f);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    ASSERT_TRUE(Discard(0x10));
    EXPECT_EQ(kmt_set_app_priority(&t, H(0x10), 0.3f), 0u);
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), F(0x10), P(0x10, 0.3f)}));
}

// Behaviour change (issue 12): an unknown handle used to be passed through
// (true); the app now holds the layer's own handles, so an unknown one has no
// driver handle to forward: 0.
TEST_F(OfferStateMachine, AppPrioritySetWhileResidentOrPendingGoesToTheDriverAtOnce)
{
    Track(0x10, MiB, 0.5f);
    EXPECT_EQ(kmt_set_app_priority(&t, H(0x10), 0.7f), 0x10u) << "forwarded with the driver's handle";
    EXPECT_EQ(Cold(0x10)->driver_priority, 0.7f);
    ASSERT_EQ(Offer({0x10}, LOW, 0, 5), KMT_OK);
    EXPECT_EQ(kmt_set_app_priority(&t, H(0x10), 0.6f), 0x10u) << "pending memory is not demoted yet";
    EXPECT_EQ(Cold(0x10)->driver_priority, 0.6f);
    EXPECT_TRUE(driver.calls.empty()) << "the glue forwards the app's own call, not the tracker";
    ASSERT_EQ(kmt_promote_pending(&t, 5), 1u);
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), P(0x10, 0.6f)}));
    EXPECT_EQ(kmt_set_app_priority(&t, 0xdead, 0.1f), 0u) << "unknown handle: nothing to forward";
    EXPECT_EQ(kmt_set_app_priority(&t, 0x10, 0.1f), 0u) << "the driver's handle is not the app's";
}

// ---- re-offer -------------------------------------------------------------------

TEST_F(OfferStateMachine, ReofferingOfferedMemoryReprioritisesAndCountsIt)
{
    Track(0xa);
    Track(0xb);
    Track(0xc);
    ASSERT_EQ(Offer({0xa, 0xb, 0xc}, LOW), KMT_OK);
    EXPECT_EQ(Offered(LOW), std::vector<uint64_t>({0xa, 0xb, 0xc}));
    const size_t calls = driver.calls.size();

    EXPECT_EQ(Offer({0xa}, LOW), KMT_OK);
    EXPECT_EQ(reoffered, 1u);
    EXPECT_EQ(Offered(LOW), std::vector<uint64_t>({0xb, 0xc, 0xa})) << "a new offer is the newest";

    EXPECT_EQ(Offer({0xb, 0x0c}, HIGH, DECOMMIT), KMT_OK);
    EXPECT_EQ(reoffered, 2u);
    EXPECT_EQ(Status(0xb), OFFERED) << "re-offering never re-pends offered memory";
    EXPECT_EQ(M(0xb)->offer_priority, HIGH);
    EXPECT_EQ(Flags(0xb), DECOMMIT);
    EXPECT_EQ(Offered(LOW), std::vector<uint64_t>({0xa}));
    EXPECT_EQ(Offered(HIGH), std::vector<uint64_t>({0xb, 0xc}));

    EXPECT_EQ(driver.calls.size(), calls) << "already demoted: no priority call";
    EXPECT_EQ(t.counters.offers, 6u);
    EXPECT_EQ(t.counters.reoffers, 3u);
    EXPECT_EQ(t.counters.bytes_offered, 6 * MiB);
    EXPECT_GT(M(0xc)->offer_order, M(0xb)->offer_order);
    EXPECT_GT(M(0xb)->offer_order, M(0xa)->offer_order);
}

// Behaviour change (issue 12): a re-offer of OFFER_PENDING memory without
// IMMEDIATELY waits for the NEW wait_serial -- the ring is FIFO, so that
// covers the old offer's work as well as the new one's (round 1 kept the old
// serial). IMMEDIATELY still offers it at once.
TEST_F(OfferStateMachine, ReofferingPendingMemoryCountsAndImmediatelyOffersItNow)
{
    Track(0x10);
    ASSERT_EQ(Offer({0x10}, LOW, 0, 5), KMT_OK);
    EXPECT_EQ(Offer({0x10}, NORMAL, 0, 8), KMT_OK);
    EXPECT_EQ(reoffered, 1u);
    EXPECT_EQ(Status(0x10), PENDING);
    EXPECT_EQ(M(0x10)->offer_priority, NORMAL);
    EXPECT_EQ(PendingSerials(), (std::vector<std::pair<uint64_t, uint64_t>>{{0x10, 8}}))
        << "one live entry: the new offer's";
    EXPECT_EQ(t.pending_count, 1u);
    EXPECT_EQ(kmt_promote_pending(&t, 5), 0u) << "the new work (serial 8) may still use it";
    EXPECT_EQ(Status(0x10), PENDING);
    EXPECT_TRUE(driver.calls.empty());
    EXPECT_EQ(Offer({0x10}, NORMAL, IMMEDIATELY), KMT_OK);
    EXPECT_EQ(reoffered, 1u);
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(t.pending_count, 0u);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority)}));
    EXPECT_EQ(t.counters.reoffers, 2u);
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 0u) << "the old entries are stale";
}

// Behaviour change (issue 12): a re-offer with a lower wait_serial than the
// pending offer's waits for both (the old serial, which the FIFO raises it
// to).
TEST_F(OfferStateMachine, ReofferingPendingMemoryWithALowerSerialWaitsForBoth)
{
    Track(0x10);
    ASSERT_EQ(Offer({0x10}, LOW, 0, 9), KMT_OK);
    ASSERT_EQ(Offer({0x10}, HIGH, 0, 5), KMT_OK);
    EXPECT_EQ(PendingSerials(), (std::vector<std::pair<uint64_t, uint64_t>>{{0x10, 9}}));
    EXPECT_EQ(kmt_promote_pending(&t, 5), 0u);
    EXPECT_EQ(Status(0x10), PENDING);
    EXPECT_EQ(kmt_promote_pending(&t, 9), 1u);
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(M(0x10)->offer_priority, HIGH);
}

// Behaviour change (issue 12): wait_serial 0 says every earlier submission is
// done -- which covers what the pending offer waited for -- so a re-offer of
// OFFER_PENDING memory with serial 0 makes it OFFERED at once.
TEST_F(OfferStateMachine, ReofferingPendingMemoryWithSerialZeroOffersItAtOnce)
{
    Track(0x10);
    ASSERT_EQ(Offer({0x10}, LOW, 0, 5), KMT_OK);
    EXPECT_EQ(Offer({0x10}, NORMAL, 0, 0), KMT_OK);
    EXPECT_EQ(reoffered, 1u);
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(t.pending_count, 0u);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority)}));
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 0u);
}

TEST_F(OfferStateMachine, ReofferingDiscardedMemoryKeepsItDiscarded)
{
    Track(0x10);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    ASSERT_TRUE(Discard(0x10));
    EXPECT_EQ(Offer({0x10}, HIGH, DECOMMIT), KMT_OK);
    EXPECT_EQ(reoffered, 1u);
    EXPECT_EQ(Status(0x10), DISCARDED);
    EXPECT_EQ(M(0x10)->offer_priority, HIGH);
    EXPECT_FALSE(Discard(0x10)) << "nothing left to discard or decommit";
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_DISCARDED) << "the discard is still reported";
}

// ---- AUTO and validation of priority/flags ---------------------------------------------

TEST_F(OfferStateMachine, AutoPriorityResolvesFromTheAppPriorityInThirds)
{
    const struct {
        float app;
        VkOfferPriorityKMT expected;
    } cases[] = {{0.0f, VK_OFFER_PRIORITY_LOW_KMT},      {0.33f, VK_OFFER_PRIORITY_LOW_KMT},
                 {1.0f / 3.0f, VK_OFFER_PRIORITY_NORMAL_KMT}, {0.5f, VK_OFFER_PRIORITY_NORMAL_KMT},
                 {0.66f, VK_OFFER_PRIORITY_NORMAL_KMT},  {2.0f / 3.0f, VK_OFFER_PRIORITY_HIGH_KMT},
                 {1.0f, VK_OFFER_PRIORITY_HIGH_KMT}};
    for (const auto &c : cases)
        EXPECT_EQ(kmt_resolve_priority(AUTO, c.app), c.expected) << "app priority " << c.app;
    for (uint32_t p : {LOW, NORMAL, HIGH})
        for (float app : {0.0f, 0.5f, 1.0f})
            EXPECT_EQ(kmt_resolve_priority(p, app), static_cast<VkOfferPriorityKMT>(p));
}

TEST_F(OfferStateMachine, AutoOfferIsStoredAndReportedResolved)
{
    Track(0xa, MiB, 0.1f);
    Track(0xb, MiB, 0.5f);
    Track(0xc, MiB, 0.9f);
    ASSERT_EQ(Offer({0xa, 0xb, 0xc}, AUTO), KMT_OK);
    EXPECT_EQ(M(0xa)->offer_priority, LOW);
    EXPECT_EQ(M(0xb)->offer_priority, NORMAL);
    EXPECT_EQ(M(0xc)->offer_priority, HIGH);
    VkAllocationStateKMT state{};
    kmt_fill_state(&t, Idx(0xc), &state);
    EXPECT_EQ(state.offerPriority, VK_OFFER_PRIORITY_HIGH_KMT);
    EXPECT_EQ(Offered(LOW), std::vector<uint64_t>{0xa});
    EXPECT_EQ(Offered(NORMAL), std::vector<uint64_t>{0xb});
    EXPECT_EQ(Offered(HIGH), std::vector<uint64_t>{0xc});
}

TEST_F(OfferStateMachine, PriorityOutsideOneToFourIsRejected)
{
    Track(0x10);
    for (uint32_t bad : {0u, 5u, 0x7fffffffu, 0xffffffffu}) {
        Snapshot before = Snap();
        EXPECT_EQ(Offer({0x10}, bad), KMT_ERROR_PRIORITY) << bad;
        EXPECT_EQ(error.code, KMT_ERROR_PRIORITY);
        EXPECT_EQ(error.other, bad);
        ExpectUnchangedExceptRejection(before);
    }
    for (uint32_t good : {LOW, NORMAL, HIGH, AUTO}) {
        EXPECT_EQ(Offer({0x10}, good), KMT_OK) << good;
        ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    }
}

TEST_F(OfferStateMachine, UnknownFlagBitsAreRejected)
{
    Track(0x10);
    for (uint32_t bad : {0x4u, 0x7u, 0x80000000u}) {
        Snapshot before = Snap();
        EXPECT_EQ(Offer({0x10}, LOW, bad), KMT_ERROR_FLAGS) << bad;
        EXPECT_EQ(error.other, bad);
        ExpectUnchangedExceptRejection(before);
        char unknown[32];
        snprintf(unknown, sizeof(unknown), "unknown bits 0x%x", bad & ~3u);
        EXPECT_NE(Message("vkOfferAllocationsKMT").find(unknown), std::string::npos) << Message("x");
    }
    EXPECT_EQ(Offer({0x10}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
}

// ---- the shape of the call -------------------------------------------------------------

TEST_F(OfferStateMachine, CountZeroIsRejected)
{
    Track(0x10);
    VkDeviceMemory mem = Mem(H(0x10));
    list = {0, &mem, nullptr};
    Snapshot before = Snap();
    EXPECT_EQ(CallOffer(LOW, IMMEDIATELY, 0), KMT_ERROR_COUNT_ZERO);
    ExpectUnchangedExceptRejection(before);
    before = Snap();
    EXPECT_EQ(CallReclaim(0, false), KMT_ERROR_COUNT_ZERO);
    ExpectUnchangedExceptRejection(before);
    EXPECT_NE(Message("vkReclaimAllocationsKMT").find("allocationCount"), std::string::npos);
}

TEST_F(OfferStateMachine, BothOrNeitherHandleArrayIsRejected)
{
    Track(0x10);
    Bind(0x20, 0x10);
    VkDeviceMemory mem = Mem(H(0x10));
    VkOfferResourceKMT res = Buf(0x20);
    const kmt_handle_list bad[] = {{1, &mem, &res}, {1, nullptr, nullptr}};
    for (const auto &b : bad) {
        list = b;
        Snapshot before = Snap();
        EXPECT_EQ(CallOffer(LOW, IMMEDIATELY, 0), KMT_ERROR_ARRAYS);
        ExpectUnchangedExceptRejection(before);
        std::string msg = Message("vkOfferAllocationsKMT");
        EXPECT_NE(msg.find(b.memories ? "both are set" : "both are NULL"), std::string::npos) << msg;
        before = Snap();
        EXPECT_EQ(CallReclaim(0, false), KMT_ERROR_ARRAYS);
        ExpectUnchangedExceptRejection(before);
    }
}

// ---- per-element validation -------------------------------------------------------------

TEST_F(OfferStateMachine, UnknownMemoryIsRejectedAtItsIndex)
{
    Track(0xa);
    Track(0xb);
    Snapshot before = Snap();
    EXPECT_EQ(Offer({0xa, 0xb, 0xdead}), KMT_ERROR_UNKNOWN_MEMORY);
    EXPECT_EQ(error.index, 2u);
    EXPECT_EQ(error.handle, 0xdeadu);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("vkOfferAllocationsKMT"), std::string::npos) << msg;
    EXPECT_NE(msg.find("pMemories[2]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("0xdead"), std::string::npos) << msg;

    before = Snap();
    EXPECT_EQ(Reclaim({0xdead, 0xa}), KMT_ERROR_UNKNOWN_MEMORY);
    EXPECT_EQ(error.index, 0u);
    ExpectUnchangedExceptRejection(before);
}

// The app's handles are the layer's: the driver's handle, a freed handle, a
// handle of the same slot with another generation, another device's handle
// and 0 are all unknown memory.
TEST_F(OfferStateMachine, DriverFreedStaleAndForeignHandlesAreUnknownMemory)
{
    Track(0xa);
    Track(0xb);
    const uint64_t freed = H(0xb);
    Free(0xb);
    Track(0xc); // reuses 0xb's slot with a new generation
    ASSERT_EQ(static_cast<uint32_t>(H(0xc)), static_cast<uint32_t>(freed)) << "the same slot";

    kmt_tracker other{};
    kmt_tracker_config config{};
    config.salt = kSalt + 1;
    ASSERT_TRUE(kmt_tracker_init(&other, &config, nullptr, nullptr));
    const uint64_t foreign = kmt_track_memory(&other, 0xa, MiB, 0, 0, 0.5f);
    ASSERT_NE(foreign, 0u);
    ASSERT_EQ(static_cast<uint32_t>(foreign), static_cast<uint32_t>(H(0xa))) << "the same slot index";

    const uint64_t other_generation = H(0xa) ^ (uint64_t{0x40} << 32);
    for (uint64_t bad : {uint64_t{0xa}, freed, other_generation, foreign, uint64_t{0}}) {
        SCOPED_TRACE(Hex(bad));
        VkDeviceMemory mems[] = {Mem(H(0xa)), Mem(bad)};
        list = {2, mems, nullptr};
        Snapshot before = Snap();
        EXPECT_EQ(CallOffer(LOW, IMMEDIATELY, 0), KMT_ERROR_UNKNOWN_MEMORY);
        EXPECT_EQ(error.index, 1u);
        EXPECT_EQ(error.handle, bad);
        ExpectUnchangedExceptRejection(before);
        before = Snap();
        EXPECT_EQ(CallReclaim(0, false), KMT_ERROR_UNKNOWN_MEMORY);
        ExpectUnchangedExceptRejection(before);
        EXPECT_EQ(kmt_find_memory(&t, bad, nullptr), nullptr);
        EXPECT_EQ(kmt_driver_memory(&t, bad), 0u);
    }
    kmt_tracker_finish(&other);
}

TEST_F(OfferStateMachine, DuplicateMemoryIsRejectedAtItsSecondListing)
{
    Track(0xa);
    Track(0xb);
    Snapshot before = Snap();
    EXPECT_EQ(Offer({0xa, 0xb, 0xa}), KMT_ERROR_DUPLICATE);
    EXPECT_EQ(error.index, 2u);
    EXPECT_EQ(error.handle, H(0xa));
    ExpectUnchangedExceptRejection(before);
    EXPECT_NE(Message("vkOfferAllocationsKMT").find("pMemories[2]"), std::string::npos);

    ASSERT_EQ(Offer({0xa, 0xb}), KMT_OK);
    before = Snap();
    EXPECT_EQ(Reclaim({0xb, 0xb}), KMT_ERROR_DUPLICATE);
    EXPECT_EQ(error.index, 1u);
    ExpectUnchangedExceptRejection(before);
    EXPECT_EQ(Status(0xb), OFFERED);
}

TEST_F(OfferStateMachine, DuplicateResourceIsRejected)
{
    Track(0x10);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10, VK_OBJECT_TYPE_IMAGE);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20), Img(0x21), Buf(0x20)}), KMT_ERROR_DUPLICATE);
    EXPECT_EQ(error.index, 2u);
    EXPECT_EQ(error.handle, 0x20u);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pResources[2]"), std::string::npos) << msg;

    before = Snap();
    EXPECT_EQ(ReclaimResources({Img(0x21), Img(0x21)}), KMT_ERROR_DUPLICATE);
    EXPECT_EQ(error.index, 1u);
    ExpectUnchangedExceptRejection(before);
}

TEST_F(OfferStateMachine, TwoResourcesOfOneMemoryInOneCallOfferTheMemoryOnce)
{
    Track(0x10, 2 * MiB);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10, VK_OBJECT_TYPE_IMAGE);
    EXPECT_EQ(OfferResources({Buf(0x20), Img(0x21)}), KMT_OK);
    EXPECT_EQ(reoffered, 0u) << "listing two of its resources is not a re-offer";
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(t.counters.offers, 1u);
    EXPECT_EQ(t.counters.bytes_offered, 2 * MiB);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority)}));
    EXPECT_EQ(OfferedTotal(t.offered_count), 1u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), H(0x10)) << "resources name their memory by the app's handle";

    ASSERT_TRUE(Discard(0x10));
    EXPECT_EQ(ReclaimResources({Img(0x21), Buf(0x20)}), KMT_OK);
    EXPECT_EQ(results[0], RES_DISCARDED) << "both resources report the memory's outcome";
    EXPECT_EQ(results[1], RES_DISCARDED);
    EXPECT_EQ(t.counters.reclaims, 1u) << "the memory is reclaimed once";
    EXPECT_EQ(Status(0x10), RESIDENT);
}

TEST_F(OfferStateMachine, ResourceWithAnObjectTypeOtherThanBufferOrImageIsRejected)
{
    Track(0x10);
    Bind(0x20, 0x10);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20), {VK_OBJECT_TYPE_DEVICE_MEMORY, H(0x10)}}), KMT_ERROR_RESOURCE_TYPE);
    EXPECT_EQ(error.index, 1u);
    EXPECT_EQ(error.other, static_cast<uint64_t>(VK_OBJECT_TYPE_DEVICE_MEMORY));
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pResources[1]"), std::string::npos) << msg;

    before = Snap();
    EXPECT_EQ(ReclaimResources({{VK_OBJECT_TYPE_UNKNOWN, 0x20}}), KMT_ERROR_RESOURCE_TYPE);
    EXPECT_EQ(error.index, 0u);
    ExpectUnchangedExceptRejection(before);
}

TEST_F(OfferStateMachine, ResourceListedWithTheOtherTypeIsUnknown)
{
    Track(0x10);
    Bind(0x20, 0x10); // a buffer
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Img(0x20)}), KMT_ERROR_UNKNOWN_RESOURCE);
    EXPECT_EQ(error.index, 0u);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pResources[0]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("VkImage"), std::string::npos) << msg;
}

TEST_F(OfferStateMachine, UnknownResourceIsRejected)
{
    Track(0x10);
    Bind(0x20, 0x10);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20), Buf(0xbeef)}), KMT_ERROR_UNKNOWN_RESOURCE);
    EXPECT_EQ(error.index, 1u);
    EXPECT_EQ(error.handle, 0xbeefu);
    ExpectUnchangedExceptRejection(before);
    before = Snap();
    EXPECT_EQ(ReclaimResources({Buf(0xbeef)}), KMT_ERROR_UNKNOWN_RESOURCE);
    ExpectUnchangedExceptRejection(before);
    // Binding to untracked memory tracks nothing, and gives its reservation back.
    ASSERT_TRUE(kmt_reserve_bindings(&t, 1));
    kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x30, 0x999);
    EXPECT_EQ(t.reserved_count, 0u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x30), 0u);
    before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x30)}), KMT_ERROR_UNKNOWN_RESOURCE);
    ExpectUnchangedExceptRejection(before);
}

TEST_F(OfferStateMachine, ResourceWhoseMemoryWasFreedIsRejected)
{
    Track(0x10);
    Track(0x11);
    Bind(0x20, 0x10);
    Bind(0x21, 0x11);
    EXPECT_EQ(Free(0x10), 0x10u) << "the glue frees the driver's memory";
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), 0u);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x21), Buf(0x20)}), KMT_ERROR_RESOURCE_MEMORY_FREED);
    EXPECT_EQ(error.index, 1u);
    EXPECT_EQ(error.handle, 0x20u);
    EXPECT_EQ(error.other, H(0x10)) << "the app's (now stale) handle of the freed memory";
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pResources[1]"), std::string::npos) << msg;
    EXPECT_NE(msg.find(Hex(H(0x10))), std::string::npos) << msg;
    before = Snap();
    EXPECT_EQ(ReclaimResources({Buf(0x20)}), KMT_ERROR_RESOURCE_MEMORY_FREED);
    ExpectUnchangedExceptRejection(before);
}

// The driver may hand out a freed driver handle again; the app's handle of
// the new allocation is a new one (the freed slot with a new generation), so
// old resources do not alias it.
TEST_F(OfferStateMachine, NewAllocationReusingAFreedHandleIsNotAliasedByOldResources)
{
    Track(0x10);
    Bind(0x20, 0x10);
    const uint64_t old_handle = H(0x10);
    Free(0x10);
    Track(0x10); // the driver hands out the same handle again
    EXPECT_NE(H(0x10), old_handle);
    EXPECT_EQ(static_cast<uint32_t>(H(0x10)), static_cast<uint32_t>(old_handle)) << "the slot is reused (LIFO)";
    EXPECT_EQ(kmt_find_memory(&t, old_handle, nullptr), nullptr);
    EXPECT_EQ(Cold(0x10)->resource_count, 0u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), 0u) << "the old buffer must not alias the new memory";

    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20)}), KMT_ERROR_RESOURCE_MEMORY_FREED);
    ExpectUnchangedExceptRejection(before);

    Bind(0x21, 0x10);
    EXPECT_EQ(Cold(0x10)->resource_count, 1u);
    kmt_untrack_resource(&t, 0x20); // the stale buffer is destroyed
    EXPECT_EQ(Cold(0x10)->resource_count, 1u) << "destroying the stale buffer must not touch the new memory";
    EXPECT_EQ(OfferResources({Buf(0x21)}), KMT_OK) << "the shared-memory rule sees only the real resource";
    EXPECT_EQ(Status(0x10), OFFERED);
}

// Behaviour change (issue 12): round 1 keyed records by the driver's handle,
// so tracking a live handle again replaced its record (a free the layer had
// missed). Records are now slots: tracking the same driver handle twice makes
// two independent allocations with two app handles, and neither disturbs the
// other.
TEST_F(OfferStateMachine, TrackingALiveHandleAgainReplacesItsRecord)
{
    Track(0x10, 4 * MiB);
    const uint64_t first = H(0x10);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    Track(0x10, MiB);
    const uint64_t second = H(0x10);
    EXPECT_NE(first, second);
    ASSERT_NE(kmt_find_memory(&t, first, nullptr), nullptr);
    EXPECT_EQ(kmt_find_memory(&t, first, nullptr)->status, OFFERED);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_EQ(OfferedTotal(t.offered_count), 1u);
    EXPECT_EQ(t.heap_usage[0], 5 * MiB);
    uint64_t driver_memory = 0;
    EXPECT_TRUE(kmt_untrack_memory(&t, first, &driver_memory));
    EXPECT_EQ(driver_memory, 0x10u);
    EXPECT_EQ(OfferedTotal(t.offered_count), 0u);
    EXPECT_EQ(t.heap_usage[0], MiB);
}

TEST_F(OfferStateMachine, MappedMemoryOfferIsRejected)
{
    Track(0xa);
    Track(0xb);
    Bind(0x20, 0xb);
    M(0xb)->bits |= KMT_MEM_MAPPED;
    Snapshot before = Snap();
    EXPECT_EQ(Offer({0xa, 0xb}), KMT_ERROR_MAPPED);
    EXPECT_EQ(error.index, 1u);
    EXPECT_EQ(error.other, H(0xb));
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pMemories[1]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("mapped"), std::string::npos) << msg;

    before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20)}), KMT_ERROR_MAPPED);
    ExpectUnchangedExceptRejection(before);
    EXPECT_NE(Message("vkOfferAllocationsKMT").find("pResources[0].objectHandle"), std::string::npos);

    M(0xb)->bits &= static_cast<uint8_t>(~KMT_MEM_MAPPED);
    EXPECT_EQ(Offer({0xa, 0xb}), KMT_OK);
}

TEST_F(OfferStateMachine, DecommittedMemoryOfferIsRejected)
{
    Track(0xa);
    Track(0xb);
    ASSERT_EQ(Offer({0xb}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
    ASSERT_TRUE(Discard(0xb));
    ASSERT_EQ(Status(0xb), DECOMMITTED);
    Snapshot before = Snap();
    EXPECT_EQ(Offer({0xa, 0xb}), KMT_ERROR_DECOMMITTED);
    EXPECT_EQ(error.index, 1u);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pMemories[1]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("decommitted"), std::string::npos) << msg;
}

TEST_F(OfferStateMachine, ResourceOfferMustListEveryResourceBoundToItsMemory)
{
    Track(0x10);
    Track(0x11);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10, VK_OBJECT_TYPE_IMAGE);
    Bind(0x22, 0x10);
    Bind(0x30, 0x11);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x30), Buf(0x20), Img(0x21)}), KMT_ERROR_SHARED_MEMORY);
    EXPECT_EQ(error.index, 1u) << "the first listed resource of the shared memory";
    EXPECT_EQ(error.handle, 0x20u);
    EXPECT_EQ(error.other, H(0x10));
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pResources[1]"), std::string::npos) << msg;
    EXPECT_NE(msg.find(Hex(H(0x10))), std::string::npos) << msg;

    // All three together, or the memory itself, are fine.
    EXPECT_EQ(OfferResources({Buf(0x22), Buf(0x30), Buf(0x20), Img(0x21)}), KMT_OK);
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(Status(0x11), OFFERED);
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(Offer({0x10}), KMT_OK) << "offering the memory offers all its resources";
    // Reclaim does not need the whole set.
    EXPECT_EQ(ReclaimResources({Buf(0x22)}), KMT_OK);
    EXPECT_EQ(Status(0x10), RESIDENT);
    // Once the others are destroyed a single resource is the whole set.
    kmt_untrack_resource(&t, 0x21);
    kmt_untrack_resource(&t, 0x22);
    EXPECT_EQ(OfferResources({Buf(0x20)}), KMT_OK);
}

// ---- all-or-nothing and the first offending element -------------------------------------

// A call with several bad elements names the first; valid elements before it
// (including memory in every state) are untouched.
TEST_F(OfferStateMachine, RejectedCallsChangeNothingAndNameTheFirstOffendingIndex)
{
    Track(0x1);                       // resident
    Track(0x2);                       // offered
    Track(0x3);                       // pending
    Track(0x4);                       // discarded
    Track(0x5);                       // decommitted
    Track(0x6);                       // mapped
    Track(0x7);                       // backs buffers 0x70 and 0x71
    Track(0x8);                       // backs image 0x80
    Track(0x9);                       // freed; buffer 0x90 was bound to it
    Bind(0x70, 0x7);
    Bind(0x71, 0x7);
    Bind(0x80, 0x8, VK_OBJECT_TYPE_IMAGE);
    Bind(0x90, 0x9);
    Free(0x9);
    ASSERT_EQ(Offer({0x2}, NORMAL), KMT_OK);
    ASSERT_EQ(Offer({0x3}, HIGH, 0, 11), KMT_OK);
    ASSERT_EQ(Offer({0x4, 0x5}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
    ASSERT_EQ(Offer({0x4}, LOW), KMT_OK); // without DECOMMIT: discarded, not decommitted
    ASSERT_TRUE(Discard(0x4));
    ASSERT_TRUE(Discard(0x5));
    M(0x6)->bits |= KMT_MEM_MAPPED;
    ASSERT_EQ(Status(0x4), DISCARDED);
    ASSERT_EQ(Status(0x5), DECOMMITTED);

    struct Case {
        const char *name;
        bool offer;
        std::vector<uint64_t> memories;
        std::vector<VkOfferResourceKMT> resources;
        kmt_error code;
        uint32_t index = 0;
        const char *text; // in the message
    };
    const Case cases[] = {
        {"offer unknown then duplicate", true, {0x1, 0x2, 0x3, 0x4, 0xdead, 0x1}, {}, KMT_ERROR_UNKNOWN_MEMORY, 4,
         "pMemories[4]"},
        {"offer duplicate then unknown", true, {0x1, 0x2, 0x1, 0xdead}, {}, KMT_ERROR_DUPLICATE, 2, "pMemories[2]"},
        {"offer freed memory", true, {0x1, 0x9}, {}, KMT_ERROR_UNKNOWN_MEMORY, 1, "pMemories[1]"},
        {"offer mapped then decommitted", true, {0x3, 0x2, 0x6, 0x5}, {}, KMT_ERROR_MAPPED, 2, "pMemories[2]"},
        {"offer decommitted then mapped", true, {0x4, 0x5, 0x6}, {}, KMT_ERROR_DECOMMITTED, 1, "pMemories[1]"},
        {"offer freed-memory resource", true, {}, {Img(0x80), Buf(0x90), Buf(0xbad)}, KMT_ERROR_RESOURCE_MEMORY_FREED,
         1, "pResources[1]"},
        {"offer resource type", true, {}, {Img(0x80), {VK_OBJECT_TYPE_SAMPLER, 0x80}, Buf(0x90)},
         KMT_ERROR_RESOURCE_TYPE, 1, "pResources[1]"},
        {"offer unknown resource", true, {}, {Img(0x80), Buf(0x70), Buf(0x71), Buf(0xbad)},
         KMT_ERROR_UNKNOWN_RESOURCE, 3, "pResources[3]"},
        {"offer duplicate resource", true, {}, {Buf(0x70), Buf(0x71), Img(0x80), Buf(0x70)}, KMT_ERROR_DUPLICATE, 3,
         "pResources[3]"},
        {"offer shared memory", true, {}, {Img(0x80), Buf(0x71)}, KMT_ERROR_SHARED_MEMORY, 1, "pResources[1]"},
        {"reclaim unknown", false, {0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0xdead}, {}, KMT_ERROR_UNKNOWN_MEMORY, 6,
         "pMemories[6]"},
        {"reclaim duplicate", false, {0x2, 0x3, 0x4, 0x5, 0x2, 0xdead}, {}, KMT_ERROR_DUPLICATE, 4, "pMemories[4]"},
        {"reclaim freed-memory resource", false, {}, {Buf(0x70), Img(0x80), Buf(0x90)},
         KMT_ERROR_RESOURCE_MEMORY_FREED, 2, "pResources[2]"},
        {"reclaim unknown resource", false, {}, {Buf(0x70), Buf(0x8)}, KMT_ERROR_UNKNOWN_RESOURCE, 1,
         "pResources[1]"},
        {"reclaim duplicate resource", false, {}, {Img(0x80), Img(0x80)}, KMT_ERROR_DUPLICATE, 1, "pResources[1]"},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        Snapshot before = Snap();
        kmt_error e;
        if (c.offer)
            e = c.memories.empty() ? OfferResources(c.resources) : Offer(c.memories);
        else
            e = c.memories.empty() ? ReclaimResources(c.resources) : Reclaim(c.memories);
        EXPECT_EQ(e, c.code);
        EXPECT_EQ(error.code, c.code);
        EXPECT_EQ(error.index, c.index);
        ExpectUnchangedExceptRejection(before);
        if (!c.offer) {
            for (size_t i = 0; i < results.size(); i++) {
                EXPECT_EQ(results[i], static_cast<VkReclaimResultKMT>(0x7777)) << "pResults written";
                EXPECT_EQ(discarded[i], 0x5555u) << "pDiscarded written";
            }
            EXPECT_EQ(fence, 0xfeedu) << "fence value written";
        } else {
            EXPECT_EQ(reoffered, 0xdeadu) << "reoffered written";
        }
        const char *command = c.offer ? "vkOfferAllocationsKMT" : "vkReclaimAllocationsKMT";
        std::string msg = Message(command);
        EXPECT_NE(msg.find(c.text), std::string::npos) << msg;
        EXPECT_NE(msg.find(command), std::string::npos) << msg;
        EXPECT_EQ(std::string(kmt_error_id(c.code)).rfind("KMT-", 0), 0u);
    }
    // The state survived every rejection: the valid calls still behave.
    EXPECT_EQ(Offer({0x1}, LOW), KMT_OK);
    EXPECT_EQ(Reclaim({0x1, 0x2, 0x3, 0x4, 0x5}), KMT_OK);
    EXPECT_EQ(std::vector<VkReclaimResultKMT>(results.begin(), results.end()),
              std::vector<VkReclaimResultKMT>({RES_OK, RES_OK, RES_OK, RES_DISCARDED, RES_NOT_COMMITTED}));
}

// Behaviour change (issue 12, deliberate per layer/validate.c): resolution
// stops at the first element that is not valid, and the shared-memory rule
// is judged only once every element resolved. So an element that breaks a
// per-element rule (here element 1: mapped) is named even though an earlier
// element (0: its memory also backs 0x21, not listed) breaks the
// shared-memory rule. Round 1 named element 0 (SHARED_MEMORY), DESIGN.md's
// "the first offending element"; see the report to the lead.
TEST_F(OfferStateMachine, SharedMemoryViolationBeforeAMappedElementIsTheOneNamed)
{
    Track(0x10);
    Track(0x11);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10);
    Bind(0x30, 0x11);
    M(0x11)->bits |= KMT_MEM_MAPPED;
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20), Buf(0x30)}), KMT_ERROR_MAPPED);
    EXPECT_EQ(error.index, 1u);
    ExpectUnchangedExceptRejection(before);
    // Without the mapped element the shared-memory rule names element 0.
    M(0x11)->bits &= static_cast<uint8_t>(~KMT_MEM_MAPPED);
    before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20), Buf(0x30)}), KMT_ERROR_SHARED_MEMORY);
    EXPECT_EQ(error.index, 0u);
    ExpectUnchangedExceptRejection(before);
}

// Behaviour change (issue 12): validation stops at the first element it
// cannot resolve -- a huge allocationCount with a short array reaches its
// first bad element instead of reading (or allocating) past it -- so an
// earlier element's shared-memory violation is not judged.
TEST_F(OfferStateMachine, ValidationStopsAtTheFirstUnresolvableElement)
{
    Track(0x10);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20), Buf(0xbad), Buf(0x21)}), KMT_ERROR_UNKNOWN_RESOURCE);
    EXPECT_EQ(error.index, 1u);
    ExpectUnchangedExceptRejection(before);
    before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20), Buf(0xbad)}), KMT_ERROR_UNKNOWN_RESOURCE)
        << "element 0 breaks the shared-memory rule, but element 1 stops validation first";
    EXPECT_EQ(error.index, 1u);
    ExpectUnchangedExceptRejection(before);
}

TEST_F(OfferStateMachine, ErrorIdsAreStableAndDistinct)
{
    std::map<std::string, int> seen;
    for (int c = KMT_OK; c <= KMT_ERROR_OUT_OF_HOST_MEMORY; c++) {
        std::string id = kmt_error_id(static_cast<kmt_error>(c));
        EXPECT_EQ(id.rfind("KMT-", 0), 0u) << id;
        EXPECT_EQ(seen[id]++, 0) << id << " used twice";
    }
    EXPECT_STREQ(kmt_error_id(KMT_ERROR_SHARED_MEMORY), "KMT-offer-shared-memory");
    EXPECT_STREQ(kmt_error_id(KMT_ERROR_DUPLICATE), "KMT-duplicate-handle");
}

TEST_F(OfferStateMachine, FormatErrorFitsAnyBufferAndHandlesEveryCode)
{
    for (int c = KMT_OK; c <= KMT_ERROR_OUT_OF_HOST_MEMORY; c++) {
        kmt_error_info info{static_cast<kmt_error>(c), 3, 0x1234, 2};
        char big[512];
        kmt_format_error(&info, "vkOfferAllocationsKMT", nullptr, big, sizeof(big));
        EXPECT_EQ(std::string(big).rfind("vkOfferAllocationsKMT", 0), 0u) << big;
        char small[8];
        std::memset(small, 'x', sizeof(small));
        kmt_format_error(&info, "vkOfferAllocationsKMT", nullptr, small, sizeof(small));
        EXPECT_EQ(small[7], '\0');
    }
}

// ---- discard, decommit and reclaim results --------------------------------------------

TEST_F(OfferStateMachine, AFailedFillLeavesTheMemoryOfferedAndReclaimReportsOk)
{
    Track(0x7);
    ASSERT_EQ(Offer({0x7}), KMT_OK);
    driver.fill_values[0x7] = KMT_FILL_FAILED;
    EXPECT_FALSE(Discard(0x7));
    EXPECT_EQ(Status(0x7), OFFERED) << "a discard is only reported once the contents are really replaced";
    EXPECT_EQ(t.counters.discards, 0u);
    EXPECT_EQ(Cold(0x7)->discard_count, 0u);
    EXPECT_EQ(t.offered_bytes[0], MiB);
    ASSERT_EQ(Reclaim({0x7}), KMT_OK);
    EXPECT_EQ(results[0], RES_OK);
}

TEST_F(OfferStateMachine, DiscardOnlyActsOnOfferedMemory)
{
    Track(0x1);
    Track(0x2);
    Track(0x3, 2 * MiB, 0.5f, 3, true);
    ASSERT_EQ(Offer({0x2}, LOW, 0, 5), KMT_OK);
    ASSERT_EQ(Offer({0x3}), KMT_OK);
    driver.calls.clear();
    EXPECT_FALSE(Discard(0x1));
    EXPECT_FALSE(Discard(0x2));
    EXPECT_EQ(Status(0x1), RESIDENT);
    EXPECT_EQ(Status(0x2), PENDING) << "a pending offer's earlier GPU work may still use it";
    EXPECT_TRUE(driver.calls.empty()) << "no fill for memory that was not discarded";
    EXPECT_TRUE(Discard(0x3));
    EXPECT_EQ(Status(0x3), DISCARDED);
    EXPECT_FALSE(Discard(0x3)); // again: no-op
    EXPECT_EQ(driver.calls, Calls({F(0x3)}));
    // The fill runs before the state changes: a failed fill changes nothing.
    EXPECT_EQ(driver.fill_saw_status, std::vector<uint8_t>{OFFERED});
    // The fill is asked for with the driver's handle and what it needs to know.
    ASSERT_EQ(driver.fill_requests.size(), 1u);
    EXPECT_EQ(driver.fill_requests[0].driver, 0x3u);
    EXPECT_EQ(driver.fill_requests[0].size, 2 * MiB);
    EXPECT_EQ(driver.fill_requests[0].type_index, 3u);
    EXPECT_TRUE(driver.fill_requests[0].host_visible);
    EXPECT_FALSE(driver.fill_requests[0].dedicated);
    EXPECT_EQ(Cold(0x3)->discard_count, 1u);
    EXPECT_EQ(t.counters.discards, 1u);
    EXPECT_EQ(t.counters.decommits, 0u);
    EXPECT_EQ(t.counters.bytes_discarded, 2 * MiB);
    EXPECT_EQ(OfferedTotal(t.offered_count), 0u);
}

TEST_F(OfferStateMachine, DiscardedMemoryReportsDiscardedExactlyOnceThenOk)
{
    Track(0x10, MiB, 0.6f);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    ASSERT_TRUE(Discard(0x10));
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_DISCARDED);
    EXPECT_EQ(discarded[0], VK_TRUE);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_OK) << "a discard is reported once";
    EXPECT_EQ(discarded[0], VK_FALSE);
    // Offer and reclaim again without a discard: OK, and the history is kept.
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_OK);
    EXPECT_EQ(Cold(0x10)->discard_count, 1u);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), F(0x10), P(0x10, 0.6f), P(0x10, kOfferedPriority),
                                   P(0x10, 0.6f)}));
}

// Decommit is real (issue 12): the driver's memory is freed at once through
// ops.decommit; the app's handle stays valid until vkFreeMemory.
TEST_F(OfferStateMachine, AllowDecommitMakesDiscardDecommitAndReclaimReportsNotCommittedForever)
{
    Track(0x10, 2 * MiB, 0.6f);
    ASSERT_EQ(Offer({0x10}, NORMAL, IMMEDIATELY | DECOMMIT), KMT_OK);
    ASSERT_TRUE(Discard(0x10));
    EXPECT_EQ(Status(0x10), DECOMMITTED);
    EXPECT_EQ(t.counters.decommits, 1u);
    EXPECT_EQ(t.counters.discards, 0u);
    EXPECT_EQ(t.counters.bytes_discarded, 2 * MiB);
    EXPECT_EQ(Cold(0x10)->discard_count, 1u);
    EXPECT_EQ(M(0x10)->driver, 0u);
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(Reclaim({0x10}), KMT_OK);
        EXPECT_EQ(results[0], RES_NOT_COMMITTED) << "reclaim " << i;
        EXPECT_EQ(discarded[0], VK_TRUE);
        EXPECT_EQ(fence, 0u);
        EXPECT_EQ(Status(0x10), DECOMMITTED);
    }
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), D(H(0x10), 0x10)}))
        << "no fill, no restore for decommitted memory; the driver's memory freed once";
    EXPECT_EQ(t.heap_usage[0], 0u);
    EXPECT_EQ(kmt_set_app_priority(&t, H(0x10), 0.9f), 0u);
    EXPECT_EQ(Free(0x10), 0u) << "nothing left for the glue to free";
    EXPECT_EQ(t.heap_usage[0], 0u) << "freeing decommitted memory gives nothing back twice";
}

TEST_F(OfferStateMachine, DiscardedOutputIsTrueForDiscardedAndNotCommittedOnly)
{
    Track(0x1);
    Track(0x2);
    Track(0x3);
    Track(0x4);
    ASSERT_EQ(Offer({0x1, 0x2}), KMT_OK);
    ASSERT_EQ(Offer({0x3}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
    ASSERT_TRUE(Discard(0x2));
    ASSERT_TRUE(Discard(0x3));
    EXPECT_EQ(Reclaim({0x1, 0x2, 0x3, 0x4}), KMT_OK);
    EXPECT_EQ(results, std::vector<VkReclaimResultKMT>({RES_OK, RES_DISCARDED, RES_NOT_COMMITTED, RES_OK}));
    EXPECT_EQ(discarded, std::vector<VkBool32>({VK_FALSE, VK_TRUE, VK_TRUE, VK_FALSE}));
}

TEST_F(OfferStateMachine, ResultsAndDiscardedMayBeNull)
{
    Track(0x1);
    Track(0x2);
    ASSERT_EQ(Offer({0x1, 0x2}), KMT_OK);
    ASSERT_TRUE(Discard(0x2));
    VkDeviceMemory mems[] = {Mem(H(0x1)), Mem(H(0x2))};
    kmt_handle_list l{2, mems, nullptr};
    EXPECT_EQ(kmt_reclaim(&t, &l, nullptr, nullptr, 0, false, nullptr, nullptr), KMT_OK);
    EXPECT_EQ(Status(0x1), RESIDENT);
    EXPECT_EQ(Status(0x2), RESIDENT);
    // Either one alone works too.
    ASSERT_EQ(Offer({0x1, 0x2}), KMT_OK);
    ASSERT_TRUE(Discard(0x1));
    VkBool32 d[2] = {7, 7};
    EXPECT_EQ(kmt_reclaim(&t, &l, nullptr, d, 0, false, nullptr, nullptr), KMT_OK);
    EXPECT_EQ(d[0], VK_TRUE);
    EXPECT_EQ(d[1], VK_FALSE);
    ASSERT_EQ(Offer({0x1, 0x2}), KMT_OK);
    ASSERT_TRUE(Discard(0x2));
    VkReclaimResultKMT r[2] = {};
    EXPECT_EQ(kmt_reclaim(&t, &l, r, nullptr, 0, false, nullptr, nullptr), KMT_OK);
    EXPECT_EQ(r[0], RES_OK);
    EXPECT_EQ(r[1], RES_DISCARDED);
    // And offer takes NULL error / reoffered.
    EXPECT_EQ(kmt_offer(&t, &l, LOW, IMMEDIATELY, 0, nullptr, nullptr), KMT_OK);
    EXPECT_EQ(kmt_offer(&t, &l, LOW, IMMEDIATELY, 0, nullptr, nullptr), KMT_OK);
    EXPECT_EQ(t.counters.reoffers, 2u);
    EXPECT_EQ(kmt_offer(&t, &l, 9, IMMEDIATELY, 0, nullptr, nullptr), KMT_ERROR_PRIORITY);
}

TEST_F(OfferStateMachine, DeviceLostReportsEveryResultDiscardedAndLeavesStatesAlone)
{
    Track(0x1);
    Track(0x2);
    Track(0x3);
    Track(0x4);
    Bind(0x40, 0x4);
    driver.fill_values[0x2] = 9;
    ASSERT_EQ(Offer({0x1}, LOW, 0, 5), KMT_OK);
    ASSERT_EQ(Offer({0x2, 0x3}), KMT_OK);
    ASSERT_TRUE(Discard(0x2));
    Snapshot before = Snap();
    EXPECT_EQ(Reclaim({0x1, 0x2, 0x3, 0x4}, 0, /*device_lost*/ true), KMT_OK);
    EXPECT_EQ(results, std::vector<VkReclaimResultKMT>(4, RES_DISCARDED));
    EXPECT_EQ(discarded, std::vector<VkBool32>(4, VK_TRUE));
    EXPECT_EQ(fence, 0u) << "nothing to wait for on a lost device";
    Snapshot after = Snap();
    ExpectSameState(before, after);
    EXPECT_EQ(after.counters.reclaims, before.counters.reclaims);
    EXPECT_EQ(ReclaimResources({Buf(0x40)}, 0, true), KMT_OK);
    EXPECT_EQ(results[0], RES_DISCARDED);
    EXPECT_EQ(Status(0x4), RESIDENT);
    // Validation still applies.
    EXPECT_EQ(Reclaim({0xdead}, 0, true), KMT_ERROR_UNKNOWN_MEMORY);
}

TEST_F(OfferStateMachine, FenceValueIsTheHighestFillValueAboveFillCompleted)
{
    for (uint64_t h : {0x1, 0x2, 0x3, 0x4})
        Track(h);
    driver.fill_values = {{0x1, 5}, {0x2, 9}, {0x3, 3}}; // 0x4: filled on the CPU (0)
    auto discard_all = [&]() {
        ASSERT_EQ(Offer({0x1, 0x2, 0x3, 0x4}), KMT_OK);
        for (uint64_t h : {0x1, 0x2, 0x3, 0x4})
            ASSERT_TRUE(Discard(h));
        EXPECT_EQ(Cold(0x2)->fill_value, 9u);
    };
    discard_all();
    EXPECT_EQ(Reclaim({0x3, 0x1, 0x2, 0x4}, 4), KMT_OK);
    EXPECT_EQ(fence, 9u);
    EXPECT_EQ(Reclaim({0x1, 0x2}, 0), KMT_OK) << "reclaimed: no fill pending any more";
    EXPECT_EQ(fence, 0u);

    discard_all();
    EXPECT_EQ(Reclaim({0x1, 0x3, 0x4}, 2), KMT_OK);
    EXPECT_EQ(fence, 5u) << "only the listed allocations count";
    EXPECT_EQ(Reclaim({0x2}, 9), KMT_OK);
    EXPECT_EQ(fence, 0u) << "fill value 9 already reached";

    discard_all();
    EXPECT_EQ(Reclaim({0x4}, 0), KMT_OK);
    EXPECT_EQ(fence, 0u) << "a CPU fill needs no wait";
    EXPECT_EQ(Reclaim({0x1, 0x2, 0x3}, 100), KMT_OK);
    EXPECT_EQ(fence, 0u);

    // Decommitted memory is never filled and never needs a wait.
    driver.fill_values[0x1] = 50;
    ASSERT_EQ(Offer({0x1}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
    ASSERT_TRUE(Discard(0x1));
    EXPECT_EQ(Reclaim({0x1}, 0), KMT_OK);
    EXPECT_EQ(fence, 0u);
}

// Behaviour change (issue 12): kmt_untrack_memory says whether the handle was
// a live allocation (false for a second free: nothing changes).
TEST_F(OfferStateMachine, HeapUsageCountsOnlyAllocationsThatHoldTheirContents)
{
    Track(0x1, 1 * MiB, 0.5f, 0);
    Track(0x2, 2 * MiB, 0.5f, 1);
    Track(0x3, 4 * MiB, 0.5f, 1);
    Track(0x4, 8 * MiB, 0.5f, 99); // out-of-range memory type: kept as is (no fill may target it), heap 0
    EXPECT_EQ(M(0x4)->type_index, 99);
    EXPECT_EQ(kmt_heap_of(&t, M(0x4)), 0u);
    EXPECT_EQ(t.heap_usage[0], 9 * MiB);
    EXPECT_EQ(t.heap_usage[1], 6 * MiB);
    ASSERT_EQ(Offer({0x1, 0x2}, LOW, 0, 5), KMT_OK);
    ASSERT_EQ(Offer({0x3}), KMT_OK);
    EXPECT_EQ(t.heap_usage[1], 6 * MiB) << "offering keeps the payload";
    EXPECT_EQ(t.offered_bytes[1], 4 * MiB);
    ASSERT_TRUE(Discard(0x3));
    EXPECT_EQ(t.heap_usage[1], 2 * MiB) << "discard subtracts";
    ASSERT_EQ(Reclaim({0x3}), KMT_OK);
    EXPECT_EQ(t.heap_usage[1], 6 * MiB) << "reclaim adds back";
    ASSERT_EQ(Offer({0x3}), KMT_OK);
    ASSERT_TRUE(Discard(0x3));
    Free(0x3);
    EXPECT_EQ(t.heap_usage[1], 2 * MiB) << "freeing discarded memory subtracts nothing more";
    Free(0x2); // pending
    EXPECT_EQ(t.heap_usage[1], 0u);
    EXPECT_EQ(t.pending_count, 1u);
    Free(0x1);
    Free(0x4);
    EXPECT_EQ(t.heap_usage[0], 0u);
    EXPECT_EQ(t.pending_count, 0u);
    uint64_t driver_memory = 0x1234;
    EXPECT_FALSE(kmt_untrack_memory(&t, H(0x4), &driver_memory)) << "twice: unknown";
    EXPECT_EQ(driver_memory, 0x1234u) << "nothing written";
    EXPECT_FALSE(kmt_untrack_memory(&t, 0xdead, &driver_memory));
    EXPECT_FALSE(kmt_untrack_memory(&t, 0, &driver_memory));
    EXPECT_EQ(t.heap_usage[0], 0u);
    EXPECT_EQ(LiveSlots(t.slots), 0u);
}

// ---- priorities and state queries -------------------------------------------------------

TEST_F(OfferStateMachine, WithoutPageableMemoryNoPriorityIsEverSet)
{
    Reinit(false);
    Track(0x1, MiB, 0.7f);
    Track(0x2, MiB, 0.2f);
    ASSERT_EQ(Offer({0x1}), KMT_OK);
    ASSERT_EQ(Offer({0x2}, LOW, 0, 4), KMT_OK);
    ASSERT_EQ(kmt_promote_pending(&t, 4), 1u);
    EXPECT_EQ(kmt_set_app_priority(&t, H(0x1), 0.9f), 0u);
    ASSERT_EQ(Offer({0x1}, HIGH), KMT_OK);
    ASSERT_TRUE(Discard(0x2));
    ASSERT_EQ(Reclaim({0x1, 0x2}), KMT_OK);
    EXPECT_EQ(results, std::vector<VkReclaimResultKMT>({RES_OK, RES_DISCARDED}));
    EXPECT_EQ(driver.calls, Calls({F(0x2)})) << "fills still happen, priorities never";
    VkAllocationStateKMT state{};
    kmt_fill_state(&t, Idx(0x1), &state);
    EXPECT_EQ(state.driverPriorityApplied, VK_FALSE);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

TEST_F(OfferStateMachine, OfferedPrioritySettingIsWhatTheDriverGets)
{
    Reinit(true, 0.25f);
    Track(0x1, MiB, 0.25f);
    Track(0x2, MiB, 0.75f);
    ASSERT_EQ(Offer({0x1, 0x2}), KMT_OK);
    EXPECT_EQ(driver.calls, Calls({P(0x2, 0.25f)})) << "0x1 already has 0.25: no redundant call";
    ASSERT_EQ(Reclaim({0x1, 0x2}), KMT_OK);
    EXPECT_EQ(driver.calls, Calls({P(0x2, 0.25f), P(0x2, 0.75f)}));
}

TEST_F(OfferStateMachine, FillStateReportsTheDriverPriorityAndTheOffer)
{
    Track(0x10, 5 * MiB, 0.6f, 2);
    VkAllocationStateKMT state{};
    state.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
    kmt_fill_state(&t, Idx(0x10), &state);
    EXPECT_EQ(state.sType, VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT) << "sType/pNext are the caller's";
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(state.offerPriority, 0);
    EXPECT_EQ(state.offerFlags, 0u);
    EXPECT_EQ(state.driverPriority, 0.6f);
    EXPECT_EQ(state.driverPriorityApplied, VK_TRUE);
    EXPECT_EQ(state.size, 5 * MiB);
    EXPECT_EQ(state.heapIndex, 2u);
    EXPECT_EQ(state.memoryTypeIndex, 2u) << "the fixture maps type i to heap i";
    EXPECT_EQ(state.discardCount, 0u);

    ASSERT_EQ(Offer({0x10}, HIGH, 0, 3), KMT_OK);
    kmt_fill_state(&t, Idx(0x10), &state);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    EXPECT_EQ(state.offerPriority, VK_OFFER_PRIORITY_HIGH_KMT);
    EXPECT_EQ(state.driverPriority, 0.6f) << "pending: not demoted yet";

    kmt_promote_pending(&t, 3);
    kmt_fill_state(&t, Idx(0x10), &state);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(state.driverPriority, kOfferedPriority);

    ASSERT_TRUE(Discard(0x10));
    kmt_fill_state(&t, Idx(0x10), &state);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(state.discardCount, 1u);

    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    kmt_fill_state(&t, Idx(0x10), &state);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(state.offerPriority, 0);
    EXPECT_EQ(state.driverPriority, 0.6f);
    EXPECT_EQ(state.discardCount, 1u);
}

// ---- bindings ---------------------------------------------------------------------------

TEST_F(OfferStateMachine, BindingAResourceAgainRebindsIt)
{
    Track(0x10);
    Track(0x11);
    Bind(0x20, 0x10);
    EXPECT_EQ(Cold(0x10)->resource_count, 1u);
    Bind(0x20, 0x11);
    EXPECT_EQ(Cold(0x10)->resource_count, 0u);
    EXPECT_EQ(Cold(0x11)->resource_count, 1u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), H(0x11));
    Bind(0x20, 0x11, VK_OBJECT_TYPE_IMAGE); // the same binding again, now as an image handle
    EXPECT_EQ(Cold(0x11)->resource_count, 1u);
    EXPECT_EQ(OfferResources({Img(0x20)}), KMT_OK);
    EXPECT_EQ(Status(0x11), OFFERED);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_EQ(t.resources.count, 1u);
}

TEST_F(OfferStateMachine, UntrackResourceDecrementsResourceCount)
{
    Track(0x10);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10);
    EXPECT_EQ(Cold(0x10)->resource_count, 2u);
    kmt_untrack_resource(&t, 0x20);
    EXPECT_EQ(Cold(0x10)->resource_count, 1u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), 0u);
    kmt_untrack_resource(&t, 0x20); // twice: ignored
    kmt_untrack_resource(&t, 0xbeef);
    EXPECT_EQ(Cold(0x10)->resource_count, 1u);
    kmt_untrack_resource(&t, 0x21);
    EXPECT_EQ(Cold(0x10)->resource_count, 0u);
    EXPECT_EQ(t.resources.count, 0u);
}

// ---- the call stamp ---------------------------------------------------------------------

TEST_F(OfferStateMachine, CallStampWraparoundKeepsDuplicateDetectionExact)
{
    Track(0x1);
    Track(0x2);
    Bind(0x10, 0x1);
    Bind(0x11, 0x1);
    Bind(0x20, 0x2, VK_OBJECT_TYPE_IMAGE);
    t.call_stamp = UINT32_MAX - 1;
    for (int round = 0; round < 6; round++) {
        SCOPED_TRACE("round " + std::to_string(round) + ", stamp " + std::to_string(t.call_stamp));
        EXPECT_EQ(Offer({0x1, 0x2, 0xdead}), KMT_ERROR_UNKNOWN_MEMORY); // leaves 0x1, 0x2 stamped
        EXPECT_EQ(Offer({0x1, 0x2}), KMT_OK) << "no false duplicate";
        EXPECT_EQ(Offer({0x2, 0x1, 0x2}), KMT_ERROR_DUPLICATE);
        EXPECT_EQ(error.index, 2u);
        EXPECT_EQ(Reclaim({0x2, 0x1}), KMT_OK);
        EXPECT_EQ(ReclaimResources({Buf(0x10), Img(0x20), Buf(0x10)}), KMT_ERROR_DUPLICATE);
        EXPECT_EQ(error.index, 2u);
        EXPECT_EQ(OfferResources({Buf(0x11), Img(0x20), Buf(0x10)}), KMT_OK) << "no false duplicate";
        EXPECT_EQ(ReclaimResources({Buf(0x10), Buf(0x11), Img(0x20)}), KMT_OK);
        EXPECT_EQ(Status(0x1), RESIDENT);
        EXPECT_EQ(Status(0x2), RESIDENT);
    }
    EXPECT_LT(t.call_stamp, 100u) << "the stamp wrapped";
    EXPECT_NE(t.call_stamp, 0u) << "0 is never a call's stamp";
}

// A record stamped by a call 2^32 calls ago must not look like a duplicate of
// the first call after the wrap (whose stamp is 1 again).
TEST_F(OfferStateMachine, CallStampWraparoundForgetsStampsFromBeforeTheWrap)
{
    Track(0x1);
    Track(0x2);
    Bind(0x10, 0x1);
    kmt_resource *r = static_cast<kmt_resource *>(kmt_map_get(&t.resources, 0x10));
    ASSERT_NE(r, nullptr);
    // Stamps 1 and 2 left over from the calls 2^32 calls ago.
    M(0x1)->call_stamp = 1;
    M(0x2)->call_stamp = 2;
    r->call_stamp = 2;
    t.call_stamp = UINT32_MAX;
    EXPECT_EQ(Offer({0x1}), KMT_OK) << "the first call after the wrap has stamp 1";
    EXPECT_EQ(t.call_stamp, 1u);
    EXPECT_EQ(Offer({0x2}), KMT_OK) << "stamp 2";
    EXPECT_EQ(t.call_stamp, 2u);
    M(0x1)->call_stamp = 0;
    r->call_stamp = 0;
    EXPECT_EQ(Reclaim({0x1, 0x2}), KMT_OK);
    // The same for a resource stamped before the wrap.
    r->call_stamp = 2;
    t.call_stamp = UINT32_MAX;
    EXPECT_EQ(Reclaim({0x2}), KMT_OK);
    EXPECT_EQ(OfferResources({Buf(0x10)}), KMT_OK) << "stamp 2 again, on a resource";
}

// ---- offer order (the pressure policy's "oldest offer first") ---------------------------

// offer.h: the pressure order is "LOW before NORMAL before HIGH, oldest offer
// first", and kmt_memory::offer_order is "when it was (re-)offered". A
// deferred offer keeps the place of its offer when it is promoted, ahead of
// later immediate offers (round 1 appended it to the offered list at
// promotion, behind them; the test asserted the offer order then too).
TEST_F(OfferStateMachine, OfferedListsStayInOfferOrderWhenDeferredOffersArePromoted)
{
    Track(0xa);
    Track(0xb);
    ASSERT_EQ(Offer({0xa}, LOW, 0, 5), KMT_OK);        // older, deferred
    ASSERT_EQ(Offer({0xb}, LOW, IMMEDIATELY), KMT_OK); // newer, immediate
    ASSERT_EQ(kmt_promote_pending(&t, 5), 1u);
    EXPECT_LT(M(0xa)->offer_order, M(0xb)->offer_order);
    EXPECT_EQ(Offered(LOW), std::vector<uint64_t>({0xa, 0xb}));

    // And the pressure policy discards in that order.
    kmt_settings settings{};
    kmt_settings_defaults(&settings);
    settings.discard = KMT_DISCARD_PRESSURE;
    kmt_policy policy{};
    kmt_policy_init(&policy, &settings);
    const VkDeviceSize heap_size = 64 * MiB;
    kmt_policy_set_budgets(&policy, &settings, 1, &heap_size, nullptr);
    policy.heap_budget[0] = 0; // everything offered must go
    driver.calls.clear();
    EXPECT_EQ(kmt_policy_relieve(&policy, &t), 2u);
    EXPECT_EQ(driver.calls, Calls({F(0xa), F(0xb)}));
}

// ---- host memory -----------------------------------------------------------------------

TEST(OfferTracker, InitWithoutOpsAndFinishWithLiveRecordsIsFine)
{
    kmt_tracker t{};
    kmt_tracker_config config{};
    config.pageable = true;
    ASSERT_TRUE(kmt_tracker_init(&t, &config, nullptr, nullptr));
    const uint64_t a = kmt_track_memory(&t, 0x1, 64, 0, 0, 0.5f);
    const uint64_t b = kmt_track_memory(&t, 0x3, 64, 0, 0, 0.5f);
    ASSERT_NE(a, 0u);
    ASSERT_NE(b, 0u);
    ASSERT_TRUE(kmt_reserve_bindings(&t, 1));
    kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x2, a);
    VkDeviceMemory ma = Mem(a), mb = Mem(b);
    kmt_handle_list la{1, &ma, nullptr}, lb{1, &mb, nullptr};
    EXPECT_EQ(kmt_offer(&t, &la, LOW, IMMEDIATELY, 0, nullptr, nullptr), KMT_OK) << "NULL callbacks are skipped";
    EXPECT_EQ(kmt_offer(&t, &lb, LOW, IMMEDIATELY | DECOMMIT, 0, nullptr, nullptr), KMT_OK);
    uint32_t ia = 0, ib = 0;
    ASSERT_NE(kmt_find_memory(&t, a, &ia), nullptr);
    ASSERT_NE(kmt_find_memory(&t, b, &ib), nullptr);
    EXPECT_TRUE(kmt_discard(&t, ia)) << "a discard without ops.fill";
    EXPECT_TRUE(kmt_discard(&t, ib)) << "a decommit without ops.decommit";
    EXPECT_EQ(kmt_driver_memory(&t, a), 0x1u);
    EXPECT_EQ(kmt_driver_memory(&t, b), 0u);
    uint64_t fence = 1;
    EXPECT_EQ(kmt_reclaim(&t, &la, nullptr, nullptr, 0, false, nullptr, &fence), KMT_OK);
    EXPECT_EQ(fence, 0u);
    kmt_tracker_finish(&t);
}

} // namespace

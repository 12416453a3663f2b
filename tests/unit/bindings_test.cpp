// SPDX-License-Identifier: MIT
// Unit tests of resource bindings (layer/bindings.c): a bind is never half
// done. kmt_reserve_bindings sets room aside before the driver binds,
// counting what other threads set aside and have not used yet;
// kmt_track_binding, which cannot fail, then records what the driver bound;
// kmt_unreserve_bindings gives back what was not used.
#include <gtest/gtest.h>

#include <cstdint>

#include "tracker_fixture.h"

namespace {

using namespace kmt_test;

using Bindings = TrackerTest;

// Two binds reserve one record each before either driver call returns (two
// threads, the device lock taken around each step). The second reservation
// must count the first one's: with 31 resources the map (64 slots, at most
// half full) has room for exactly one more, so it grows at the second
// reservation -- not at the second kmt_track_binding, where an allocation
// could fail and lose a binding the driver made.
TEST_F(Bindings, ReservationsCountWhatOthersReservedAndNeverAllocateLater)
{
    Track(0x1);
    for (uint64_t r = 1; r <= 31; r++)
        Bind(0x100 + r, 0x1);
    ASSERT_EQ(t.resources.mask + 1, 64u);
    ASSERT_TRUE(kmt_reserve_bindings(&t, 1)); // thread A
    EXPECT_EQ(t.resources.mask + 1, 64u) << "room for one more";
    ASSERT_TRUE(kmt_reserve_bindings(&t, 1)); // thread B
    EXPECT_EQ(t.resources.mask + 1, 128u) << "the second reservation counts the first";
    EXPECT_EQ(t.reserved_count, 2u);

    alloc.FailAll();
    const uint64_t allocations = alloc.allocations(), failures = alloc.failures();
    kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x200, H(0x1)); // thread A's driver bound
    kmt_track_binding(&t, VK_OBJECT_TYPE_IMAGE, 0x201, H(0x1));  // thread B's
    EXPECT_EQ(alloc.allocations(), allocations);
    EXPECT_EQ(alloc.failures(), failures) << "no allocation was even tried";
    EXPECT_EQ(kmt_resource_memory(&t, 0x200), H(0x1));
    EXPECT_EQ(kmt_resource_memory(&t, 0x201), H(0x1));
    EXPECT_EQ(Cold(0x1)->resource_count, 33u);
    EXPECT_EQ(t.reserved_count, 0u);
}

// The same across a record-pool chunk (256 records): the second reservation
// takes the new chunk, not the second binding.
TEST_F(Bindings, ReservationsSetPoolRecordsAsideAcrossAChunk)
{
    Track(0x1);
    for (uint64_t r = 1; r <= 255; r++)
        Bind(0x100 + r, 0x1);
    ASSERT_EQ(t.resource_pool.chunk_count, 1u);
    ASSERT_TRUE(kmt_reserve_bindings(&t, 1)); // the chunk's last record
    EXPECT_EQ(t.resource_pool.chunk_count, 1u);
    ASSERT_TRUE(kmt_reserve_bindings(&t, 1)); // a new chunk
    EXPECT_EQ(t.resource_pool.chunk_count, 2u);
    alloc.FailAll();
    const uint64_t failures = alloc.failures();
    kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x1000, H(0x1));
    kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x1001, H(0x1));
    EXPECT_EQ(alloc.failures(), failures);
    EXPECT_EQ(Cold(0x1)->resource_count, 257u);
    EXPECT_EQ(t.resources.count, 257u);
}

// The driver failed to bind: what was set aside goes back, and is what the
// next reservation uses (no allocation).
TEST_F(Bindings, UnreservingGivesTheRecordsBack)
{
    Track(0x1);
    ASSERT_TRUE(kmt_reserve_bindings(&t, 5));
    EXPECT_EQ(t.reserved_count, 5u);
    kmt_unreserve_bindings(&t, 5);
    EXPECT_EQ(t.reserved_count, 0u);
    EXPECT_EQ(t.resources.count, 0u);

    alloc.FailAll();
    ASSERT_TRUE(kmt_reserve_bindings(&t, 5)) << "the records given back are reused";
    kmt_unreserve_bindings(&t, 5);
    alloc.Succeed();

    // A bind of three where the driver bound one: the other two go back.
    ASSERT_TRUE(kmt_reserve_bindings(&t, 3));
    kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x20, H(0x1));
    kmt_unreserve_bindings(&t, 2);
    EXPECT_EQ(t.reserved_count, 0u);
    EXPECT_EQ(t.resources.count, 1u);
    EXPECT_EQ(Cold(0x1)->resource_count, 1u);

    // Giving back more than was set aside gives back what there is.
    ASSERT_TRUE(kmt_reserve_bindings(&t, 2));
    kmt_unreserve_bindings(&t, 7);
    EXPECT_EQ(t.reserved_count, 0u);
    kmt_unreserve_bindings(&t, 1);
    EXPECT_EQ(t.reserved_count, 0u);
}

// A reservation that cannot get all its records gives back those it took:
// nothing is set aside, nothing leaks, and the record it had is reused.
TEST_F(Bindings, AFailedReservationSetsNothingAside)
{
    Track(0x1);
    for (uint64_t r = 1; r <= 255; r++)
        Bind(0x100 + r, 0x1);
    // The map (512 slots, 255 entries) grows for 257 entries: keys and values,
    // two allocations; then the pool's last record is taken and its next
    // chunk fails.
    alloc.FailAfter(2);
    EXPECT_FALSE(kmt_reserve_bindings(&t, 2));
    EXPECT_EQ(t.reserved_count, 0u);
    EXPECT_EQ(t.resources.count, 255u);
    EXPECT_EQ(t.resource_pool.chunk_count, 1u);
    alloc.FailAll();
    ASSERT_TRUE(kmt_reserve_bindings(&t, 1)) << "the record given back, and the grown map";
    kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x900, H(0x1));
    EXPECT_EQ(Cold(0x1)->resource_count, 256u);
}

// A bind of VK_NULL_HANDLE (which the validation layers report) keeps no
// count: 0 is the map's empty key, so recording it would corrupt the map and
// count a resource that can never be unbound (found by the fuzzer).
TEST_F(Bindings, ANullResourceKeepsNoCount)
{
    Track(0x1);
    Bind(0, 0x1);
    EXPECT_EQ(Cold(0x1)->resource_count, 0u);
    EXPECT_EQ(t.resources.count, 0u);
    EXPECT_EQ(t.reserved_count, 0u) << "its set-aside record went back";
    EXPECT_EQ(kmt_resource_memory(&t, 0), 0u);
    Bind(0x20, 0x1);
    EXPECT_EQ(Cold(0x1)->resource_count, 1u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), H(0x1));
}

} // namespace

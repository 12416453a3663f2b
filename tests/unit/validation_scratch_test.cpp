// SPDX-License-Identifier: MIT
// Unit tests of how a call's elements are resolved (layer/validate.c): into a
// scratch array that grows as elements resolve, never sized from
// allocationCount up front, so a huge count with a short array reaches its
// first bad element instead of a huge allocation.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tracker_fixture.h"

namespace {

using namespace kmt_test;

using ValidationScratch = TrackerTest;

constexpr size_t kOneMiB = 1024 * 1024;

// allocationCount = UINT32_MAX, an array of 4 whose element 3 is bad: the
// call names element 3, allocates nothing large, reads nothing past it and
// changes nothing.
TEST_F(ValidationScratch, AHugeCountWithABadElementReportsItWithoutAHugeAllocation)
{
    Track(0x1);
    Track(0x2);
    Track(0x3);
    Track(0x4);
    M(0x4)->bits |= KMT_MEM_MAPPED;
    Bind(0x10, 0x1);
    Bind(0x20, 0x2);
    Bind(0x30, 0x3);

    struct Case {
        const char *name;
        bool offer;
        std::vector<uint64_t> memories; // names
        std::vector<VkOfferResourceKMT> resources;
        kmt_error code;
    };
    const Case cases[] = {
        {"offer unknown memory", true, {0x1, 0x2, 0x3, 0xdead}, {}, KMT_ERROR_UNKNOWN_MEMORY},
        {"offer duplicate memory", true, {0x1, 0x2, 0x3, 0x2}, {}, KMT_ERROR_DUPLICATE},
        {"offer mapped memory", true, {0x1, 0x2, 0x3, 0x4}, {}, KMT_ERROR_MAPPED},
        {"reclaim unknown memory", false, {0x1, 0x2, 0x3, 0xdead}, {}, KMT_ERROR_UNKNOWN_MEMORY},
        {"offer unknown resource", true, {}, {Buf(0x10), Buf(0x20), Buf(0x30), Buf(0xbad)},
         KMT_ERROR_UNKNOWN_RESOURCE},
        {"offer resource type", true, {}, {Buf(0x10), Buf(0x20), Buf(0x30), {VK_OBJECT_TYPE_SAMPLER, 0x10}},
         KMT_ERROR_RESOURCE_TYPE},
        {"reclaim duplicate resource", false, {}, {Buf(0x10), Buf(0x20), Buf(0x30), Buf(0x10)}, KMT_ERROR_DUPLICATE},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        Snapshot before = Snap();
        if (c.memories.empty()) {
            res_args = c.resources;
            list = {UINT32_MAX, nullptr, res_args.data()};
        } else {
            mem_args.clear();
            for (uint64_t h : c.memories)
                mem_args.push_back(Mem(H(h)));
            list = {UINT32_MAX, mem_args.data(), nullptr};
        }
        kmt_error e;
        if (c.offer) {
            e = CallOffer(LOW, IMMEDIATELY, 0);
        } else {
            // The outputs are as long as the array the test owns: a rejected
            // call writes none of them.
            std::vector<VkReclaimResultKMT> r(4, static_cast<VkReclaimResultKMT>(0x7777));
            error = {};
            uint64_t f = 0xfeed;
            e = kmt_reclaim(&t, &list, r.data(), nullptr, 0, false, &error, &f);
            EXPECT_EQ(r, std::vector<VkReclaimResultKMT>(4, static_cast<VkReclaimResultKMT>(0x7777)));
            EXPECT_EQ(f, 0xfeedu);
        }
        EXPECT_EQ(e, c.code);
        EXPECT_EQ(error.index, 3u);
        ExpectUnchangedExceptRejection(before);
        const std::string msg = Message(c.offer ? "vkOfferAllocationsKMT" : "vkReclaimAllocationsKMT");
        EXPECT_NE(msg.find("[3]"), std::string::npos) << msg;
        EXPECT_LE(alloc.largest(), kOneMiB) << "an allocation was sized from allocationCount";
        EXPECT_LE(t.scratch_capacity, t.slots.capacity) << "bounded by the slots that exist, never by the count";
    }
}

// The scratch grows by doubling as elements resolve, and is kept for the
// next call.
TEST_F(ValidationScratch, TheScratchGrowsAsElementsResolve)
{
    std::vector<uint64_t> names;
    for (uint64_t h = 1; h <= 300; h++) {
        Track(h);
        names.push_back(h);
    }
    EXPECT_EQ(t.scratch_capacity, 0u) << "nothing before the first call";
    ASSERT_EQ(Offer({1, 2}), KMT_OK);
    EXPECT_GE(t.scratch_capacity, 2u);
    EXPECT_LE(t.scratch_capacity, 64u);
    ASSERT_EQ(Offer(names), KMT_OK);
    EXPECT_GE(t.scratch_capacity, 300u);
    EXPECT_LT(t.scratch_capacity, 1024u) << "doubling, not sized far beyond the call";
    const uint32_t grown = t.scratch_capacity;
    for (uint64_t h : names)
        EXPECT_EQ(Status(h), OFFERED) << h;
    ASSERT_EQ(Reclaim(names), KMT_OK);
    EXPECT_EQ(t.scratch_capacity, grown) << "kept";
    for (uint64_t h : names)
        EXPECT_EQ(Status(h), RESIDENT) << h;
}

} // namespace

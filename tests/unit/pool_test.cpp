// SPDX-License-Identifier: MIT
// Unit tests of kmt_pool (layer/memory.[ch]).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "memory.h"
#include "test_allocator.h"

namespace {

struct Record {
    uint64_t a, b, c; // 24 bytes, like a small tracked record
};

bool AllZero(const void *p, size_t n)
{
    const unsigned char *b = static_cast<const unsigned char *>(p);
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

TEST(Pool, RecordSizeKeepsEightByteAlignmentAndRoomForTheFreeLink)
{
    const struct {
        size_t in, out;
    } cases[] = {{1, 8}, {4, 8}, {8, 8}, {9, 16}, {12, 16}, {16, 16}, {24, 24}, {25, 32}};
    for (const auto &c : cases) {
        kmt_pool p{};
        kmt_pool_init(&p, c.in, 4, nullptr);
        EXPECT_EQ(p.record_size, c.out) << "record_size " << c.in;
        kmt_pool_finish(&p);
    }
}

TEST(Pool, RecordsAreZeroedAlignedAndDistinct)
{
    kmt_pool p{};
    kmt_pool_init(&p, sizeof(Record), 4, nullptr);
    std::set<void *> seen;
    for (int i = 0; i < 10; i++) {
        void *r = kmt_pool_get(&p);
        ASSERT_NE(r, nullptr);
        EXPECT_TRUE(AllZero(r, p.record_size));
        EXPECT_EQ(reinterpret_cast<uintptr_t>(r) % 8, 0u);
        EXPECT_TRUE(seen.insert(r).second) << "handed out twice";
        std::memset(r, 0xab, sizeof(Record));
    }
    EXPECT_EQ(p.chunk_count, 3u);
    kmt_pool_finish(&p);
}

TEST(Pool, FreedRecordsAreReusedLastInFirstOutAndZeroedAgain)
{
    kmt_pool p{};
    kmt_pool_init(&p, sizeof(Record), 4, nullptr);
    void *r1 = kmt_pool_get(&p);
    void *r2 = kmt_pool_get(&p);
    void *r3 = kmt_pool_get(&p);
    std::memset(r1, 0xcd, sizeof(Record));
    std::memset(r2, 0xcd, sizeof(Record));
    kmt_pool_put(&p, r1);
    kmt_pool_put(&p, r2);
    kmt_pool_put(&p, nullptr); // ignored
    const uint32_t chunks = p.chunk_count;
    EXPECT_EQ(kmt_pool_get(&p), r2);
    EXPECT_TRUE(AllZero(r2, p.record_size)) << "the free-list link and old contents are cleared";
    EXPECT_EQ(kmt_pool_get(&p), r1);
    EXPECT_TRUE(AllZero(r1, p.record_size));
    EXPECT_EQ(p.chunk_count, chunks) << "reuse needs no new chunk";
    void *r4 = kmt_pool_get(&p);
    EXPECT_NE(r4, r1);
    EXPECT_NE(r4, r2);
    EXPECT_NE(r4, r3);
    kmt_pool_finish(&p);
}

TEST(Pool, RecordPointersStayValidWhileThePoolGrows)
{
    kmt_pool p{};
    kmt_pool_init(&p, sizeof(Record), 3, nullptr);
    std::vector<Record *> records;
    for (uint64_t i = 0; i < 1000; i++) {
        auto *r = static_cast<Record *>(kmt_pool_get(&p));
        ASSERT_NE(r, nullptr);
        r->a = i;
        r->b = ~i;
        r->c = i * 3;
        records.push_back(r);
    }
    EXPECT_GT(p.chunk_capacity, 8u) << "the chunk array itself grew";
    for (uint64_t i = 0; i < records.size(); i++) {
        ASSERT_EQ(records[i]->a, i);
        ASSERT_EQ(records[i]->b, ~i);
        ASSERT_EQ(records[i]->c, i * 3);
    }
    // Free every other one and allocate again: the survivors are untouched.
    for (size_t i = 0; i < records.size(); i += 2)
        kmt_pool_put(&p, records[i]);
    const uint32_t chunks = p.chunk_count;
    std::set<void *> freed;
    for (size_t i = 0; i < records.size(); i += 2)
        freed.insert(records[i]);
    for (size_t i = 0; i < records.size(); i += 2) {
        void *r = kmt_pool_get(&p);
        ASSERT_EQ(freed.count(r), 1u) << "freed records come back before new ones";
        freed.erase(r);
    }
    EXPECT_EQ(p.chunk_count, chunks);
    for (uint64_t i = 1; i < records.size(); i += 2)
        ASSERT_EQ(records[i]->a, i);
    kmt_pool_finish(&p);
}

TEST(Pool, FootprintCountsChunksAndTheChunkArray)
{
    kmt_pool p{};
    kmt_pool_init(&p, sizeof(Record), 4, nullptr);
    EXPECT_EQ(kmt_pool_footprint(&p), 0u);
    kmt_pool_get(&p);
    EXPECT_EQ(kmt_pool_footprint(&p), 4 * sizeof(Record) + 8 * sizeof(void *));
    for (int i = 0; i < 4; i++)
        kmt_pool_get(&p);
    EXPECT_EQ(kmt_pool_footprint(&p), 2 * 4 * sizeof(Record) + 8 * sizeof(void *));
    kmt_pool_finish(&p);
}

TEST(PoolAllocator, UsesTheCallbacksAndFreesEverything)
{
    TestAllocator alloc;
    kmt_pool p{};
    kmt_pool_init(&p, sizeof(Record), 2, alloc.callbacks());
    for (int i = 0; i < 40; i++)
        ASSERT_NE(kmt_pool_get(&p), nullptr);
    EXPECT_EQ(alloc.live(), 20u + 1u) << "20 chunks and the chunk array";
    EXPECT_EQ(alloc.last_alignment(), 16u);
    kmt_pool_finish(&p);
    EXPECT_EQ(alloc.live(), 0u);
    EXPECT_EQ(alloc.bad_frees(), 0u);
}

TEST(PoolAllocator, OutOfHostMemoryReturnsNullAndRecovers)
{
    // n = 0: the chunk array fails; n = 1: the chunk itself fails.
    for (long n = 0; n < 2; n++) {
        SCOPED_TRACE(n);
        TestAllocator alloc;
        kmt_pool p{};
        kmt_pool_init(&p, sizeof(Record), 4, alloc.callbacks());
        alloc.FailAfter(n);
        EXPECT_EQ(kmt_pool_get(&p), nullptr);
        EXPECT_EQ(p.chunk_count, 0u);
        EXPECT_EQ(kmt_pool_get(&p), nullptr) << "still no memory";
        alloc.Succeed();
        void *r = kmt_pool_get(&p);
        ASSERT_NE(r, nullptr);
        EXPECT_TRUE(AllZero(r, p.record_size));
        kmt_pool_finish(&p);
        EXPECT_EQ(alloc.live(), 0u);
        EXPECT_EQ(alloc.bad_frees(), 0u);
    }
}

TEST(PoolAllocator, FailureWhenTheChunkArrayMustGrowKeepsEarlierRecords)
{
    TestAllocator alloc;
    kmt_pool p{};
    kmt_pool_init(&p, sizeof(Record), 1, alloc.callbacks());
    std::vector<Record *> records;
    for (uint64_t i = 0; i < 8; i++) {
        auto *r = static_cast<Record *>(kmt_pool_get(&p));
        ASSERT_NE(r, nullptr);
        r->a = i + 100;
        records.push_back(r);
    }
    ASSERT_EQ(p.chunk_capacity, 8u);
    alloc.FailAll();
    EXPECT_EQ(kmt_pool_get(&p), nullptr);
    EXPECT_EQ(p.chunk_count, 8u);
    EXPECT_EQ(p.chunk_capacity, 8u);
    // A freed record is still handed out without host memory.
    kmt_pool_put(&p, records[3]);
    EXPECT_EQ(kmt_pool_get(&p), records[3]);
    alloc.Succeed();
    ASSERT_NE(kmt_pool_get(&p), nullptr);
    EXPECT_EQ(p.chunk_count, 9u);
    for (uint64_t i = 0; i < 8; i++)
        if (i != 3) {
            EXPECT_EQ(records[i]->a, i + 100);
        }
    kmt_pool_finish(&p);
    EXPECT_EQ(alloc.live(), 0u);
    EXPECT_EQ(alloc.bad_frees(), 0u);
}

} // namespace

// SPDX-License-Identifier: MIT
// Unit tests of kmt_handle_map (layer/memory.[ch]).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "memory.h"
#include "test_allocator.h"

namespace {

void *V(uint64_t x) { return reinterpret_cast<void *>(static_cast<uintptr_t>(x)); }

// The map's hash (memory.c, MurmurHash3 finaliser), to build keys with chosen
// home slots: the probe runs that backward-shift deletion must repair.
uint32_t HomeHash(uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    key ^= key >> 33;
    return static_cast<uint32_t>(key);
}

uint32_t Capacity(const kmt_handle_map &m) { return m.mask + 1; }

// Every stored key is reachable from its home slot without crossing an empty
// slot, and count matches the occupied slots.
void ExpectProbeInvariant(const kmt_handle_map &m)
{
    uint32_t occupied = 0;
    for (uint32_t i = 0; i <= m.mask; i++) {
        if (!m.keys[i])
            continue;
        occupied++;
        for (uint32_t j = HomeHash(m.keys[i]) & m.mask; j != i; j = (j + 1) & m.mask)
            ASSERT_NE(m.keys[j], 0u) << "key 0x" << std::hex << m.keys[i] << " unreachable from its home";
    }
    EXPECT_EQ(occupied, m.count);
}

class HandleMap : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(kmt_map_init(&map_, 0, nullptr)); }
    void TearDown() override { kmt_map_finish(&map_); }
    kmt_handle_map map_{};
};

TEST_F(HandleMap, EmptyMapFindsNothing)
{
    EXPECT_EQ(map_.count, 0u);
    EXPECT_EQ(kmt_map_get(&map_, 1), nullptr);
    EXPECT_EQ(kmt_map_remove(&map_, 1), nullptr);
    EXPECT_EQ(map_.count, 0u);
}

TEST_F(HandleMap, InsertGetReplaceRemove)
{
    EXPECT_TRUE(kmt_map_put(&map_, 0x1000, V(1)));
    EXPECT_TRUE(kmt_map_put(&map_, 0x2000, V(2)));
    EXPECT_EQ(map_.count, 2u);
    EXPECT_EQ(kmt_map_get(&map_, 0x1000), V(1));
    EXPECT_EQ(kmt_map_get(&map_, 0x2000), V(2));
    EXPECT_EQ(kmt_map_get(&map_, 0x3000), nullptr);

    EXPECT_TRUE(kmt_map_put(&map_, 0x1000, V(11)));
    EXPECT_EQ(map_.count, 2u) << "replacing must not add an entry";
    EXPECT_EQ(kmt_map_get(&map_, 0x1000), V(11));

    EXPECT_EQ(kmt_map_remove(&map_, 0x1000), V(11));
    EXPECT_EQ(map_.count, 1u);
    EXPECT_EQ(kmt_map_get(&map_, 0x1000), nullptr);
    EXPECT_EQ(kmt_map_remove(&map_, 0x1000), nullptr) << "second remove finds nothing";
    EXPECT_EQ(kmt_map_get(&map_, 0x2000), V(2));
    EXPECT_EQ(map_.count, 1u);
}

TEST_F(HandleMap, NullValueIsStoredLikeAnyOther)
{
    EXPECT_TRUE(kmt_map_put(&map_, 7, nullptr));
    EXPECT_EQ(map_.count, 1u);
    EXPECT_EQ(kmt_map_get(&map_, 7), nullptr);
    EXPECT_EQ(kmt_map_remove(&map_, 7), nullptr);
    EXPECT_EQ(map_.count, 0u);
}

TEST_F(HandleMap, KeyZeroIsRejected)
{
    EXPECT_FALSE(kmt_map_put(&map_, 0, V(1)));
    EXPECT_EQ(map_.count, 0u);
    EXPECT_EQ(kmt_map_get(&map_, 0), nullptr);
    EXPECT_EQ(kmt_map_remove(&map_, 0), nullptr);
    for (uint32_t i = 0; i <= map_.mask; i++)
        EXPECT_EQ(map_.keys[i], 0u);
}

TEST_F(HandleMap, InitialCapacityIsAPowerOfTwoOfAtLeastSixteen)
{
    EXPECT_EQ(Capacity(map_), 16u);
    kmt_handle_map m{};
    ASSERT_TRUE(kmt_map_init(&m, 100, nullptr));
    EXPECT_EQ(Capacity(m), 128u);
    kmt_map_finish(&m);
    ASSERT_TRUE(kmt_map_init(&m, 256, nullptr));
    EXPECT_EQ(Capacity(m), 256u);
    kmt_map_finish(&m);
}

TEST_F(HandleMap, GrowsKeepingEveryEntryAndLoadAtMostHalf)
{
    const uint64_t n = 5000;
    uint32_t last_capacity = Capacity(map_);
    int growths = 0;
    for (uint64_t k = 1; k <= n; k++) {
        // Pointer-like keys: aligned, neighbours differ only in middle bits.
        ASSERT_TRUE(kmt_map_put(&map_, k << 12, V(k)));
        EXPECT_LE(2ull * map_.count, Capacity(map_));
        if (Capacity(map_) != last_capacity) {
            EXPECT_EQ(Capacity(map_), last_capacity * 2);
            last_capacity = Capacity(map_);
            growths++;
        }
    }
    EXPECT_GT(growths, 5);
    EXPECT_EQ(map_.count, n);
    for (uint64_t k = 1; k <= n; k++)
        ASSERT_EQ(kmt_map_get(&map_, k << 12), V(k));
    ExpectProbeInvariant(map_);
}

TEST_F(HandleMap, FootprintIsSixteenBytesPerSlot)
{
    EXPECT_EQ(kmt_map_footprint(&map_), 16u * 16u);
    for (uint64_t k = 1; k <= 9; k++)
        ASSERT_TRUE(kmt_map_put(&map_, k, V(k)));
    EXPECT_EQ(Capacity(map_), 32u);
    EXPECT_EQ(kmt_map_footprint(&map_), 32u * 16u);
}

TEST_F(HandleMap, ReserveMakesRoomWithoutLaterRehash)
{
    ASSERT_TRUE(kmt_map_put(&map_, 42, V(42)));
    ASSERT_TRUE(kmt_map_reserve(&map_, 1000));
    EXPECT_GE(Capacity(map_), 2u * 1001u);
    EXPECT_EQ(kmt_map_get(&map_, 42), V(42)) << "reserve keeps entries";
    const uint64_t *keys = map_.keys;
    const uint32_t capacity = Capacity(map_);
    for (uint64_t k = 1; k <= 1000; k++)
        ASSERT_TRUE(kmt_map_put(&map_, 0x100000 + k, V(k)));
    EXPECT_EQ(map_.keys, keys) << "no rehash within the reserved room";
    EXPECT_EQ(Capacity(map_), capacity);
    EXPECT_EQ(map_.count, 1001u);
    // Reserving what already fits changes nothing.
    ASSERT_TRUE(kmt_map_reserve(&map_, 0));
    EXPECT_EQ(map_.keys, keys);
}

// Keys packed into a 16-slot table around the wrap point (homes 13, 14, 15,
// 0): every removal order must leave the others reachable.
TEST_F(HandleMap, BackwardShiftDeletionRepairsWrappedProbeRuns)
{
    std::vector<uint64_t> keys;
    const uint32_t homes[] = {14, 14, 15, 13, 14, 0, 15, 1};
    std::vector<bool> used(1 << 16);
    for (uint32_t home : homes) {
        for (uint64_t k = 1;; k++) {
            if (!used[k] && (HomeHash(k) & 15) == home) {
                used[k] = true;
                keys.push_back(k);
                break;
            }
        }
    }
    std::vector<int> order(keys.size());
    for (size_t i = 0; i < order.size(); i++)
        order[i] = static_cast<int>(i);
    int permutations = 0;
    do {
        kmt_handle_map m{};
        ASSERT_TRUE(kmt_map_init(&m, 16, nullptr));
        for (size_t i = 0; i < keys.size(); i++)
            ASSERT_TRUE(kmt_map_put(&m, keys[i], V(i + 1)));
        ASSERT_EQ(Capacity(m), 16u) << "the test needs the runs to stay in 16 slots";
        std::vector<bool> gone(keys.size());
        for (int r : order) {
            ASSERT_EQ(kmt_map_remove(&m, keys[r]), V(r + 1));
            gone[r] = true;
            for (size_t i = 0; i < keys.size(); i++)
                ASSERT_EQ(kmt_map_get(&m, keys[i]), gone[i] ? nullptr : V(i + 1))
                    << "permutation " << permutations << ", key index " << i;
        }
        ASSERT_EQ(m.count, 0u);
        for (uint32_t i = 0; i < 16; i++)
            ASSERT_EQ(m.keys[i], 0u);
        kmt_map_finish(&m);
        permutations++;
    } while (std::next_permutation(order.begin(), order.end()));
    EXPECT_EQ(permutations, 40320);
}

// 1e5 random operations against std::unordered_map (fixed seed).
TEST_F(HandleMap, MatchesUnorderedMapUnderRandomInsertAndRemove)
{
    std::mt19937_64 rng(0x5eed1234u);
    std::unordered_map<uint64_t, void *> ref;
    auto random_key = [&]() -> uint64_t {
        switch (rng() % 3) {
        case 0: return 1 + rng() % 3000;                 // dense counters
        case 1: return (1 + rng() % 3000) << 16;         // pointer-like
        default: return 0xffff000000000000ull | (rng() % 3000); // high bits set
        }
    };
    const int ops = 100000;
    for (int op = 0; op < ops; op++) {
        uint64_t key = random_key();
        unsigned what = static_cast<unsigned>(rng() % 100);
        if (what < 50) {
            void *value = V(static_cast<uint64_t>(op) + 1);
            ASSERT_TRUE(kmt_map_put(&map_, key, value));
            ref[key] = value;
        } else if (what < 85) {
            auto it = ref.find(key);
            void *expected = it == ref.end() ? nullptr : it->second;
            ASSERT_EQ(kmt_map_remove(&map_, key), expected) << "op " << op;
            if (it != ref.end())
                ref.erase(it);
        } else {
            auto it = ref.find(key);
            ASSERT_EQ(kmt_map_get(&map_, key), it == ref.end() ? nullptr : it->second) << "op " << op;
        }
        ASSERT_EQ(map_.count, ref.size());
        if (op % 4999 == 0 || op == ops - 1) {
            for (const auto &kv : ref)
                ASSERT_EQ(kmt_map_get(&map_, kv.first), kv.second) << "op " << op;
            ASSERT_NO_FATAL_FAILURE(ExpectProbeInvariant(map_));
        }
    }
    // Drain everything: the table must end empty.
    std::vector<uint64_t> left;
    for (const auto &kv : ref)
        left.push_back(kv.first);
    std::sort(left.begin(), left.end());
    for (uint64_t k : left)
        ASSERT_EQ(kmt_map_remove(&map_, k), ref[k]);
    EXPECT_EQ(map_.count, 0u);
    for (uint32_t i = 0; i <= map_.mask; i++)
        ASSERT_EQ(map_.keys[i], 0u);
}

TEST(HandleMapAllocator, UsesTheCallbacksAndFreesEverything)
{
    TestAllocator alloc;
    {
        kmt_handle_map m{};
        ASSERT_TRUE(kmt_map_init(&m, 0, alloc.callbacks()));
        EXPECT_EQ(alloc.live(), 2u) << "keys and values";
        for (uint64_t k = 1; k <= 1000; k++)
            ASSERT_TRUE(kmt_map_put(&m, k, V(k)));
        EXPECT_EQ(alloc.live(), 2u) << "growth frees the old slots";
        kmt_map_finish(&m);
    }
    EXPECT_EQ(alloc.live(), 0u);
    EXPECT_EQ(alloc.bad_frees(), 0u);
}

TEST(HandleMapAllocator, InitFailsCleanlyWithoutHostMemory)
{
    for (long n = 0; n < 2; n++) {
        TestAllocator alloc;
        alloc.FailAfter(n);
        kmt_handle_map m{};
        EXPECT_FALSE(kmt_map_init(&m, 0, alloc.callbacks()));
        EXPECT_EQ(alloc.live(), 0u) << "a half-made table is freed (n=" << n << ")";
        kmt_map_finish(&m);
        EXPECT_EQ(alloc.bad_frees(), 0u);
    }
}

// Growth fails on the first (keys) or the second (values) allocation: put
// returns false and the map is exactly as before.
TEST(HandleMapAllocator, FailedGrowthLeavesTheMapUnchanged)
{
    for (long n = 0; n < 2; n++) {
        SCOPED_TRACE(n == 0 ? "keys allocation fails" : "values allocation fails");
        TestAllocator alloc;
        kmt_handle_map m{};
        ASSERT_TRUE(kmt_map_init(&m, 16, alloc.callbacks()));
        for (uint64_t k = 1; k <= 8; k++)
            ASSERT_TRUE(kmt_map_put(&m, k * 0x40, V(k)));
        ASSERT_EQ(Capacity(m), 16u);
        std::vector<uint64_t> keys(m.keys, m.keys + 16);
        std::vector<void *> values(m.values, m.values + 16);
        const uint64_t *keys_ptr = m.keys;

        alloc.FailAfter(n);
        EXPECT_FALSE(kmt_map_put(&m, 0x9999, V(99))) << "a ninth entry needs a bigger table";
        EXPECT_FALSE(kmt_map_reserve(&m, 100));
        EXPECT_EQ(m.count, 8u);
        EXPECT_EQ(Capacity(m), 16u);
        EXPECT_EQ(m.keys, keys_ptr);
        EXPECT_EQ(std::vector<uint64_t>(m.keys, m.keys + 16), keys);
        for (uint32_t i = 0; i < 16; i++)
            if (keys[i]) {
                EXPECT_EQ(m.values[i], values[i]);
            }
        EXPECT_EQ(kmt_map_get(&m, 0x9999), nullptr);
        for (uint64_t k = 1; k <= 8; k++)
            EXPECT_EQ(kmt_map_get(&m, k * 0x40), V(k));
        EXPECT_EQ(alloc.live(), 2u) << "the half-made table was freed";

        // Replacing needs no room, so it still works without host memory.
        alloc.FailAll();
        EXPECT_TRUE(kmt_map_put(&m, 0x40, V(100)));
        EXPECT_EQ(kmt_map_get(&m, 0x40), V(100));
        EXPECT_EQ(kmt_map_remove(&m, 0x80), V(2));

        // Memory is back: growth works again.
        alloc.Succeed();
        EXPECT_TRUE(kmt_map_put(&m, 0x9999, V(99)));
        EXPECT_TRUE(kmt_map_put(&m, 0x8888, V(88)));
        EXPECT_TRUE(kmt_map_put(&m, 0x7777, V(77)));
        EXPECT_EQ(Capacity(m), 32u);
        EXPECT_EQ(kmt_map_get(&m, 0x9999), V(99));
        EXPECT_EQ(kmt_map_get(&m, 0x40), V(100));
        kmt_map_finish(&m);
        EXPECT_EQ(alloc.live(), 0u);
        EXPECT_EQ(alloc.bad_frees(), 0u);
    }
}

} // namespace

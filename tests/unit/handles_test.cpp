// SPDX-License-Identifier: MIT
// Unit tests of the layer's own VkDeviceMemory handles (layer/handles.[ch]):
// the slot table behind them -- encoding, what never resolves, LIFO reuse
// with a new generation, growth that never moves a record, the footprint per
// allocation (issue 12's goal: <= 64 B), and the lock-free resolve.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "core_view.h"
#include "handles.h"
#include "offer.h"
#include "test_allocator.h"

namespace {

static_assert(sizeof(kmt_memory) == 32, "the hot record is half a cache line");
static_assert(sizeof(kmt_memory_cold) == 24, "the cold record");

constexpr uint32_t kSalt = 0x1234abcdu;

class SlotTable : public ::testing::Test {
  protected:
    void SetUp() override { kmt_slots_init(&table, kSalt, alloc.callbacks()); }
    void TearDown() override
    {
        kmt_slots_finish(&table);
        EXPECT_EQ(alloc.live(), 0u) << "the table leaked host memory";
        EXPECT_EQ(alloc.bad_frees(), 0u);
    }
    // Takes a slot as the tracker does (its status set to a live one).
    uint64_t Take(uint32_t *index = nullptr, kmt_memory **memory = nullptr)
    {
        uint32_t i = UINT32_MAX;
        kmt_memory *m = nullptr;
        uint64_t handle = kmt_slots_take(&table, &i, &m);
        EXPECT_NE(handle, 0u);
        if (m)
            m->status = VK_ALLOCATION_STATUS_RESIDENT_KMT;
        if (index)
            *index = i;
        if (memory)
            *memory = m;
        return handle;
    }
    kmt_memory *Resolve(uint64_t handle, uint32_t *index = nullptr) { return kmt_resolve(&table, handle, index); }

    TestAllocator alloc;
    kmt_slot_table table{};
};

TEST_F(SlotTable, AnEmptyTableResolvesNothingAndHoldsNothing)
{
    for (uint64_t h : {uint64_t{0}, uint64_t{1}, kmt_make_handle(0, 0), kmt_make_handle(0, kSalt), ~uint64_t{0}})
        EXPECT_EQ(Resolve(h), nullptr) << std::hex << h;
    EXPECT_EQ(kmt_slots_footprint(&table), 0u);
    EXPECT_EQ(alloc.allocations(), 0u) << "nothing is allocated before the first take";
}

TEST_F(SlotTable, HandlesAreNonZeroAndEncodeIndexAndGeneration)
{
    std::set<uint64_t> seen;
    for (uint32_t n = 0; n < 3 * KMT_SLOT_CHUNK; n++) {
        uint32_t index;
        kmt_memory *m;
        const uint64_t handle = Take(&index, &m);
        ASSERT_NE(handle, 0u);
        EXPECT_EQ(index, n) << "a fresh table hands out slots in index order";
        EXPECT_EQ(static_cast<uint32_t>(handle), index + 1) << "low half: slot index + 1";
        EXPECT_EQ(static_cast<uint32_t>(handle >> 32), m->generation) << "high half: the generation";
        EXPECT_EQ(kmt_make_handle(index, m->generation), handle);
        uint32_t resolved = UINT32_MAX;
        EXPECT_EQ(Resolve(handle, &resolved), m);
        EXPECT_EQ(resolved, index);
        EXPECT_EQ(kmt_slot(&table, index), m);
        EXPECT_TRUE(seen.insert(handle).second) << "handle handed out twice";
    }
    EXPECT_EQ(kmt_test::LiveSlots(table), 3 * KMT_SLOT_CHUNK);
    EXPECT_EQ(table.capacity, 3 * KMT_SLOT_CHUNK);
}

TEST_F(SlotTable, TakenRecordsAreZeroedButForTheirGeneration)
{
    uint32_t index;
    kmt_memory *m;
    Take(&index, &m);
    *m = kmt_memory{0x1111, 0x2222, m->generation, 3, 4, 2, 3, 5, 0xff};
    *kmt_cold(&table, index) = kmt_memory_cold{7, 0.25f, 0.75f, 9, 10};
    kmt_slots_release(&table, index);
    const uint64_t again = Take(&index, &m);
    EXPECT_EQ(m->driver, 0u);
    EXPECT_EQ(m->size, 0u);
    EXPECT_EQ(m->call_stamp, 0u);
    EXPECT_EQ(m->offer_order, 0u);
    EXPECT_EQ(m->offer_priority, 0);
    EXPECT_EQ(m->type_index, 0);
    EXPECT_EQ(m->bits, 0);
    EXPECT_EQ(m->generation, static_cast<uint32_t>(again >> 32));
    const kmt_memory_cold *cold = kmt_cold(&table, index);
    EXPECT_EQ(cold->fill_value, 0u);
    EXPECT_EQ(cold->app_priority, 0.0f);
    EXPECT_EQ(cold->driver_priority, 0.0f);
    EXPECT_EQ(cold->resource_count, 0u);
    EXPECT_EQ(cold->discard_count, 0u);
}

TEST_F(SlotTable, SlotsAreReusedLastInFirstOutWithANewGeneration)
{
    uint32_t ia, ib, ic;
    kmt_memory *ma, *mb, *mc;
    const uint64_t a = Take(&ia, &ma), b = Take(&ib, &mb), c = Take(&ic, &mc);
    const uint32_t ga = ma->generation, gb = mb->generation, gc = mc->generation;
    kmt_slots_release(&table, ia);
    kmt_slots_release(&table, ib);
    kmt_slots_release(&table, ic);
    EXPECT_EQ(kmt_test::LiveSlots(table), 0u);
    for (uint64_t h : {a, b, c})
        EXPECT_EQ(Resolve(h), nullptr) << "a freed handle resolves to nothing";

    uint32_t i1, i2, i3;
    const uint64_t h1 = Take(&i1), h2 = Take(&i2), h3 = Take(&i3);
    EXPECT_EQ(i1, ic) << "the last freed slot first";
    EXPECT_EQ(i2, ib);
    EXPECT_EQ(i3, ia);
    EXPECT_EQ(static_cast<uint32_t>(h1 >> 32), gc + 1);
    EXPECT_EQ(static_cast<uint32_t>(h2 >> 32), gb + 1);
    EXPECT_EQ(static_cast<uint32_t>(h3 >> 32), ga + 1);
    for (uint64_t h : {a, b, c})
        EXPECT_EQ(Resolve(h), nullptr) << "the old handle does not resolve to the slot's next allocation";
    EXPECT_EQ(Resolve(h1), mc);
    EXPECT_EQ(Resolve(h2), mb);
    EXPECT_EQ(Resolve(h3), ma);

    // Many cycles of one slot: every old handle stays stale.
    std::vector<uint64_t> old;
    uint32_t index = i1;
    uint64_t handle = h1;
    for (int n = 0; n < 1000; n++) {
        old.push_back(handle);
        kmt_slots_release(&table, index);
        uint32_t again;
        handle = Take(&again);
        ASSERT_EQ(again, index);
    }
    for (uint64_t h : old)
        ASSERT_EQ(Resolve(h), nullptr);
    EXPECT_EQ(Resolve(handle), mc);
    EXPECT_EQ(table.capacity, KMT_SLOT_CHUNK) << "reuse never grows the table";
}

// What must never resolve: a freed handle, a handle of a live slot with
// another generation, another table's handle (another salt), 0, a handle
// whose low half is 0, random 64-bit values, and driver handles that are
// pointers (lavapipe's VkDeviceMemory is a heap pointer).
TEST_F(SlotTable, FreedStaleForeignZeroRandomAndPointerHandlesNeverResolve)
{
    std::vector<uint64_t> live, freed;
    std::vector<uint32_t> indices;
    for (uint32_t n = 0; n < 3 * KMT_SLOT_CHUNK; n++) {
        uint32_t index;
        live.push_back(Take(&index));
        indices.push_back(index);
    }
    for (size_t k = 0; k < live.size(); k += 3) {
        kmt_slots_release(&table, indices[k]);
        freed.push_back(live[k]);
        live[k] = 0;
    }
    for (uint64_t h : freed)
        ASSERT_EQ(Resolve(h), nullptr) << std::hex << h;
    for (uint64_t h : live) {
        if (!h)
            continue;
        ASSERT_NE(Resolve(h), nullptr);
        for (uint64_t flip : {uint64_t{1}, uint64_t{2}, uint64_t{0x80000000}, uint64_t{0xffffffff}})
            ASSERT_EQ(Resolve(h ^ (flip << 32)), nullptr) << "another generation of a live slot";
    }

    kmt_slot_table other{};
    kmt_slots_init(&other, kSalt + 1, nullptr);
    for (uint32_t n = 0; n < 3 * KMT_SLOT_CHUNK; n++) {
        uint32_t index;
        kmt_memory *m;
        const uint64_t foreign = kmt_slots_take(&other, &index, &m);
        m->status = VK_ALLOCATION_STATUS_RESIDENT_KMT;
        ASSERT_EQ(Resolve(foreign), nullptr) << "another table's handle, slot " << index;
        if (live[n]) {
            ASSERT_EQ(kmt_resolve(&other, live[n], nullptr), nullptr) << "ours in the other table";
        }
    }
    kmt_slots_finish(&other);

    EXPECT_EQ(Resolve(0), nullptr);
    for (uint64_t high : {uint64_t{0}, uint64_t{1}, uint64_t{kSalt}, uint64_t{0xffffffff}})
        EXPECT_EQ(Resolve(high << 32), nullptr) << "low half 0";

    std::mt19937_64 random(12345);
    for (int n = 0; n < 200000; n++)
        ASSERT_EQ(Resolve(random()), nullptr);
    // Random generations on slots that exist: only the slot's own one resolves.
    for (int n = 0; n < 200000; n++) {
        const uint32_t index = static_cast<uint32_t>(random() % table.capacity);
        const uint32_t generation = static_cast<uint32_t>(random());
        if (generation == kmt_slot(&table, index)->generation)
            continue;
        ASSERT_EQ(Resolve(kmt_make_handle(index, generation)), nullptr);
    }
    // Pointer-like driver handles: real heap pointers and typical x86-64
    // user-space addresses (16-byte aligned, high half 0x5555..0x7fff).
    std::vector<std::unique_ptr<char[]>> blocks;
    for (int n = 0; n < 1000; n++) {
        blocks.emplace_back(new char[64 + n]);
        ASSERT_EQ(Resolve(reinterpret_cast<uintptr_t>(blocks.back().get())), nullptr);
    }
    for (int n = 0; n < 100000; n++) {
        const uint64_t high = 0x5555 + random() % (0x7fff - 0x5555 + 1);
        const uint64_t pointer = high << 32 | (random() & 0xfffffff0u);
        ASSERT_EQ(Resolve(pointer), nullptr) << std::hex << pointer;
    }
}

// Chunks never move: a record's address taken before the table grew past
// several chunks (and replaced its chunk directory) stays its address, and
// every earlier handle keeps resolving to it.
TEST_F(SlotTable, GrowthNeverMovesARecordAndKeepsResolvingEarlierHandles)
{
    struct Taken {
        uint64_t handle;
        uint32_t index;
        kmt_memory *hot;
        kmt_memory_cold *cold;
    };
    std::vector<Taken> taken;
    const uint32_t count = 10 * KMT_SLOT_CHUNK + 1;
    for (uint32_t n = 0; n < count; n++) {
        Taken k{};
        k.handle = Take(&k.index, &k.hot);
        k.cold = kmt_cold(&table, k.index);
        k.hot->driver = 0x1000000ull + n; // a marker that must survive growth
        k.hot->size = n;
        k.cold->discard_count = n;
        taken.push_back(k);
        if (n % KMT_SLOT_CHUNK == 0) {
            for (const Taken &e : taken)
                ASSERT_EQ(Resolve(e.handle), e.hot) << "after growing to " << table.chunk_count << " chunks";
        }
    }
    EXPECT_EQ(table.chunk_count, 11u);
    EXPECT_GE(table.retired_count, 2u) << "the directory was replaced (4 -> 8 -> 16 chunks)";
    for (uint32_t n = 0; n < count; n++) {
        const Taken &k = taken[n];
        uint32_t index;
        ASSERT_EQ(Resolve(k.handle, &index), k.hot);
        ASSERT_EQ(index, k.index);
        ASSERT_EQ(kmt_cold(&table, index), k.cold);
        ASSERT_EQ(k.hot->driver, 0x1000000ull + n);
        ASSERT_EQ(k.hot->size, n);
        ASSERT_EQ(k.cold->discard_count, n);
    }
}

TEST_F(SlotTable, OutOfHostMemoryTakesNothingAndRecovers)
{
    for (uint32_t n = 0; n < 4 * KMT_SLOT_CHUNK; n++)
        Take();
    const uint64_t first = kmt_make_handle(0, kmt_slot(&table, 0)->generation);
    // Growing now needs a new directory (and its retired list) and a chunk:
    // each of those allocations may fail.
    for (long n = 0; n < 3; n++) {
        alloc.FailAfter(n);
        uint32_t index = 7;
        kmt_memory *m = nullptr;
        EXPECT_EQ(kmt_slots_take(&table, &index, &m), 0u) << "n=" << n;
        EXPECT_EQ(kmt_test::LiveSlots(table), 4 * KMT_SLOT_CHUNK);
        EXPECT_EQ(table.capacity, 4 * KMT_SLOT_CHUNK);
        EXPECT_EQ(Resolve(first), kmt_slot(&table, 0));
        alloc.Succeed();
    }
    Take();
    EXPECT_EQ(table.capacity, 5 * KMT_SLOT_CHUNK);
}

// ---- footprint ---------------------------------------------------------------

// Counts the bytes a tracker holds on the heap (the app's allocator).
class ByteCounter {
  public:
    ByteCounter()
    {
        callbacks_.pUserData = this;
        callbacks_.pfnAllocation = [](void *user, size_t size, size_t, VkSystemAllocationScope) -> void * {
            auto *self = static_cast<ByteCounter *>(user);
            void *p = std::malloc(size ? size : 1);
            if (p) {
                self->sizes_[p] = size;
                self->live_bytes_ += size;
            }
            return p;
        };
        callbacks_.pfnReallocation = [](void *, void *, size_t, size_t, VkSystemAllocationScope) -> void * {
            return nullptr;
        };
        callbacks_.pfnFree = [](void *user, void *p) {
            auto *self = static_cast<ByteCounter *>(user);
            if (!p)
                return;
            self->live_bytes_ -= self->sizes_[p];
            self->sizes_.erase(p);
            std::free(p);
        };
    }
    const VkAllocationCallbacks *callbacks() const { return &callbacks_; }
    size_t live_bytes() const { return live_bytes_; }

  private:
    VkAllocationCallbacks callbacks_{};
    std::map<void *, size_t> sizes_;
    size_t live_bytes_ = 0;
};

// Issue 12's goal: <= 64 bytes of layer heap per tracked allocation, at
// 10^3 .. 10^6 live. Measured twice: what the slot table says it holds
// (kmt_slots_footprint), and every byte a tracker holding only those
// allocations has on the heap (its allocator's count: tables, resource map,
// ring, scratch).
TEST(SlotTableFootprint, AtMostSixtyFourBytesPerLiveAllocation)
{
    for (uint32_t live : {1000u, 10000u, 100000u, 1000000u}) {
        SCOPED_TRACE(live);
        kmt_slot_table table{};
        kmt_slots_init(&table, kSalt, nullptr);
        for (uint32_t n = 0; n < live; n++) {
            uint32_t index;
            kmt_memory *m;
            ASSERT_NE(kmt_slots_take(&table, &index, &m), 0u);
        }
        const double table_bytes = static_cast<double>(kmt_slots_footprint(&table)) / live;
        kmt_slots_finish(&table);

        ByteCounter counter;
        kmt_tracker t{};
        kmt_tracker_config config{};
        config.salt = kSalt;
        ASSERT_TRUE(kmt_tracker_init(&t, &config, nullptr, counter.callbacks()));
        for (uint32_t n = 0; n < live; n++)
            ASSERT_NE(kmt_track_memory(&t, 0x1000 + n, 256, 0, 0, 0.5f), 0u);
        const double tracker_bytes = static_cast<double>(counter.live_bytes()) / live;
        kmt_tracker_finish(&t);
        EXPECT_EQ(counter.live_bytes(), 0u);

        std::printf("[ footprint ] %7u live: slot table %.2f B per allocation, whole tracker heap %.2f B\n", live,
                    table_bytes, tracker_bytes);
        ::testing::Test::RecordProperty("table_bytes_per_allocation_" + std::to_string(live),
                                        std::to_string(table_bytes));
        ::testing::Test::RecordProperty("tracker_bytes_per_allocation_" + std::to_string(live),
                                        std::to_string(tracker_bytes));
        EXPECT_LE(table_bytes, 64.0);
        EXPECT_LE(tracker_bytes, 64.0);
    }
}

// ---- the lock-free resolve ----------------------------------------------------

// handles.h: resolving needs no lock -- chunks never move, the directory is
// replaced by a bigger copy and the old one kept. One thread takes slots and
// fills their records under a mutex (as the glue's vkAllocateMemory does
// under the device lock), growing the table through many chunks and several
// directory replacements; another resolves the handles published so far,
// without the lock, and must always find the complete record it was
// published with, never a torn or stale one. The writer waits for the
// reader at every new chunk, so the two really interleave with growth.
TEST(SlotTableConcurrency, AReaderNeverSeesATornRecordWhileTheTableGrows)
{
    constexpr uint32_t kCount = 24 * KMT_SLOT_CHUNK;
    constexpr uint64_t kChecksPerChunk = 200;
    kmt_slot_table table{};
    kmt_slots_init(&table, kSalt, nullptr);
    std::mutex device_lock;
    std::vector<uint64_t> handles(kCount);
    std::atomic<uint32_t> published{0};
    std::atomic<uint64_t> checks{0};
    std::atomic<bool> done{false};
    auto driver_of = [](uint32_t index) { return 0xd0000000ull + index * 16ull; };
    auto size_of = [](uint32_t index) { return 4096ull * (index % 97 + 1); };

    std::thread writer([&] {
        for (uint32_t n = 0; n < kCount; n++) {
            {
                std::lock_guard<std::mutex> lock(device_lock);
                uint32_t index;
                kmt_memory *m;
                const uint64_t handle = kmt_slots_take(&table, &index, &m);
                if (!handle)
                    break;
                m->driver = driver_of(index);
                m->size = size_of(index);
                m->type_index = static_cast<uint8_t>(index % 32);
                kmt_memory_cold *cold = kmt_cold(&table, index);
                cold->fill_value = driver_of(index) + 1;
                cold->discard_count = index;
                __atomic_store_n(&m->status, VK_ALLOCATION_STATUS_RESIDENT_KMT, __ATOMIC_RELEASE);
                handles[n] = handle;
            }
            published.store(n + 1, std::memory_order_release);
            if (n % KMT_SLOT_CHUNK == 0) { // a chunk was just added: let the reader at it
                const uint64_t target = checks.load() + kChecksPerChunk;
                while (checks.load() < target)
                    std::this_thread::yield();
            }
        }
        done.store(true, std::memory_order_release);
    });

    uint64_t torn = 0, misses = 0;
    std::mt19937 random(7);
    while (!done.load(std::memory_order_acquire)) {
        const uint32_t n = published.load(std::memory_order_acquire);
        if (n == 0)
            continue;
        // Mostly the newest records (those in the chunk just added), some old.
        const uint32_t k = random() % 4 ? n - 1 - random() % (n < 64 ? n : 64) : random() % n;
        const uint64_t handle = handles[k];
        uint32_t index = UINT32_MAX;
        const kmt_memory *m = kmt_resolve(&table, handle, &index);
        if (!m) {
            misses++;
        } else {
            const kmt_memory_cold *cold = kmt_cold(&table, index);
            if (index != static_cast<uint32_t>(handle) - 1 ||
                m->generation != static_cast<uint32_t>(handle >> 32) || m->driver != driver_of(index) ||
                m->size != size_of(index) || m->type_index != index % 32 ||
                cold->fill_value != driver_of(index) + 1 || cold->discard_count != index)
                torn++;
        }
        // The same slot with another generation (a freed or foreign handle)
        // resolves to nothing while the table grows.
        if (kmt_resolve(&table, handle ^ (uint64_t{1} << 32), nullptr))
            torn++;
        checks.fetch_add(1);
    }
    writer.join();
    EXPECT_EQ(published.load(), kCount);
    EXPECT_EQ(torn, 0u);
    EXPECT_EQ(misses, 0u) << "a published handle always resolves";
    EXPECT_GE(checks.load(), kChecksPerChunk * (kCount / KMT_SLOT_CHUNK));
    EXPECT_GE(table.retired_count, 3u) << "the directory was replaced while the reader ran";
    std::printf("[ lock-free ] %llu resolves checked while the table grew to %u chunks\n",
                static_cast<unsigned long long>(checks.load()), table.chunk_count);
    kmt_slots_finish(&table);
}

// Taking and releasing slots is lock-free too (the glue's allocation fast
// path): several threads taking and releasing at once, and growing the
// table, never get the same slot, and afterwards the free list holds every
// slot exactly once.
TEST(SlotTableConcurrency, ThreadsTakingAndReleasingWithoutALockNeverShareASlot)
{
    constexpr int kThreads = 4, kRounds = 1500;
    kmt_slot_table table{};
    kmt_slots_init(&table, kSalt, nullptr);
    std::atomic<uint64_t> shared{0}, unresolved{0}, failed{0};
    std::atomic<int> ready{0}, finished{0}, released{0};
    uint32_t peak_chunks = 0;
    auto worker = [&](uint32_t id) {
        std::mt19937 random(id);
        struct Held {
            uint64_t handle;
            uint32_t index, mark;
        };
        std::vector<Held> kept; // one slot per round stays taken: the table grows meanwhile
        ready.fetch_add(1);
        while (ready.load() < kThreads)
            std::this_thread::yield();
        auto take = [&](uint32_t mark, std::vector<Held> &into) {
            uint32_t index;
            kmt_memory *m;
            const uint64_t handle = kmt_slots_take(&table, &index, &m);
            if (!handle) {
                failed++;
                return;
            }
            kmt_cold(&table, index)->discard_count = mark; // only the slot's owner writes its cold record
            __atomic_store_n(&m->status, VK_ALLOCATION_STATUS_RESIDENT_KMT, __ATOMIC_RELEASE);
            into.push_back({handle, index, mark});
        };
        auto owned = [&](const Held &h) {
            uint32_t index = UINT32_MAX;
            if (kmt_resolve(&table, h.handle, &index) == nullptr || index != h.index)
                unresolved++;
            if (kmt_cold(&table, h.index)->discard_count != h.mark)
                shared++;
        };
        for (uint32_t r = 0; r < kRounds; r++) {
            std::vector<Held> round;
            const uint32_t mark = id << 24 | r;
            for (uint32_t k = 1 + random() % 8; k; k--)
                take(mark, round);
            take(mark, kept);
            std::this_thread::yield();
            for (const Held &h : round)
                owned(h);
            for (const Held &h : round)
                kmt_slots_release(&table, h.index);
        }
        // All kept slots live at once, then released by all threads at once.
        finished.fetch_add(1);
        while (finished.load() < kThreads)
            std::this_thread::yield();
        for (const Held &h : kept)
            owned(h);
        if (id == 1)
            peak_chunks = table.chunk_count;
        released.fetch_add(1);
        while (released.load() < kThreads) // nobody releases before thread 1 read the peak
            std::this_thread::yield();
        for (const Held &h : kept)
            kmt_slots_release(&table, h.index);
    };
    std::vector<std::thread> threads;
    for (uint32_t id = 1; id <= kThreads; id++)
        threads.emplace_back(worker, id);
    for (std::thread &thread : threads)
        thread.join();
    EXPECT_EQ(failed.load(), 0u);
    EXPECT_EQ(shared.load(), 0u) << "a slot was handed to two owners at once";
    EXPECT_EQ(unresolved.load(), 0u);
    EXPECT_EQ(kmt_test::LiveSlots(table), 0u);
    EXPECT_GE(peak_chunks, (kThreads * kRounds + KMT_SLOT_CHUNK - 1) / KMT_SLOT_CHUNK)
        << "the table grew while the threads ran (every kept slot was live at once)";

    const uint32_t capacity = table.capacity;
    std::vector<bool> seen(capacity);
    for (uint32_t k = 0; k < capacity; k++) {
        uint32_t index;
        kmt_memory *m;
        ASSERT_NE(kmt_slots_take(&table, &index, &m), 0u);
        ASSERT_LT(index, capacity);
        ASSERT_FALSE(seen[index]) << "slot " << index << " was on the free list twice";
        seen[index] = true;
    }
    EXPECT_EQ(table.capacity, capacity) << "no slot was lost: all were found without growing";
    kmt_slots_finish(&table);
}

} // namespace

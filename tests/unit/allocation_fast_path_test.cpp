// SPDX-License-Identifier: MIT
// The allocation fast path (layer/offer.c, handles.c): without heap
// accounting (DISCARD=never and no listener, the production default),
// kmt_track_memory and kmt_untrack_memory of resident memory touch only
// their own slot and take no device lock, and kmt_heap_usage counts on
// demand. Several threads allocate and free at once while another asks for
// the heap usage; every handle names its own allocation, and the counts come
// out exact once they stop.
//
// Under ThreadSanitizer (a build with -DKMT_SANITIZE=thread) this test
// reports data races in the core as of d5fbd15 -- plain and atomic accesses
// to the same fields from the lock-free paths, benign on x86-64 but
// undefined in C11 (reported to the lead; relaxed atomics would cost
// nothing): kmt_track_memory's plain `m->driver = driver` against the link a
// losing kmt_slots_take reads atomically; kmt_slots_take's plain
// `m->type_index = 0` against kmt_heap_usage's kmt_heap_of; and
// kmt_slots_release's plain `generation++` against kmt_resolve's plain read
// of a freed handle of the same slot. The default and valgrind runs pass.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "core_view.h"
#include "offer.h"

namespace {

TEST(AllocationFastPath, ThreadsTrackAndFreeWithoutALockWhileTheDeviceCountsUsage)
{
    constexpr uint32_t kThreads = 4, kRounds = 1500;
    kmt_tracker t{};
    kmt_tracker_config config{};
    config.salt = 0xfa57;
    kmt_test::SetAccounting(config, false);
    for (uint32_t i = 0; i < VK_MAX_MEMORY_TYPES; i++)
        config.type_heap[i] = static_cast<uint8_t>(i % 4);
    ASSERT_TRUE(kmt_tracker_init(&t, &config, nullptr, nullptr));
    ASSERT_FALSE(kmt_test::KeepsAccounting(t.config));

    auto size_of = [](uint32_t id) { return VkDeviceSize{4096} * id; };
    std::atomic<uint64_t> wrong{0}, failed{0};
    std::atomic<uint32_t> running{kThreads};
    std::atomic<bool> go{false};
    std::vector<std::vector<uint64_t>> kept(kThreads + 1);
    auto worker = [&](uint32_t id) {
        while (!go.load())
            std::this_thread::yield();
        uint64_t serial = 0;
        for (uint32_t r = 0; r < kRounds; r++) {
            std::vector<std::pair<uint64_t, uint64_t>> round; // (app handle, driver handle)
            for (uint32_t k = 0; k < 1 + r % 5; k++) {
                const uint64_t driver = uint64_t{id} << 40 | ++serial;
                const uint64_t handle = kmt_track_memory(&t, driver, size_of(id), id - 1, 0, 0.5f);
                if (!handle) {
                    failed++;
                    continue;
                }
                round.push_back({handle, driver});
            }
            for (const auto &p : round)
                if (kmt_driver_memory(&t, p.first) != p.second)
                    wrong++;
            // One per round stays allocated (the table grows meanwhile).
            if (!round.empty()) {
                kept[id].push_back(round.back().first);
                round.pop_back();
            }
            for (const auto &p : round) {
                uint64_t driver = 0;
                if (!kmt_untrack_memory(&t, p.first, &driver) || driver != p.second)
                    wrong++;
                if (kmt_find_memory(&t, p.first, nullptr))
                    wrong++; // a freed handle resolves to nothing
            }
        }
        running--;
    };
    std::vector<std::thread> threads;
    for (uint32_t id = 1; id <= kThreads; id++)
        threads.emplace_back(worker, id);
    // The device's view meanwhile (under its lock in the glue: one thread).
    uint64_t scans = 0;
    go.store(true);
    do {
        for (uint32_t h = 0; h < 4; h++)
            (void)kmt_heap_usage(&t, h);
        scans++;
        std::this_thread::yield();
    } while (running.load() > 0);
    for (std::thread &thread : threads)
        thread.join();

    EXPECT_EQ(failed.load(), 0u);
    EXPECT_EQ(wrong.load(), 0u);
    EXPECT_GT(scans, 0u);
    for (uint32_t id = 1; id <= kThreads; id++) {
        EXPECT_EQ(kmt_heap_usage(&t, id - 1), size_of(id) * kept[id].size()) << "heap " << id - 1;
        for (uint64_t handle : kept[id]) {
            const kmt_memory *m = kmt_find_memory(&t, handle, nullptr);
            ASSERT_NE(m, nullptr);
            EXPECT_EQ(m->driver >> 40, id);
            EXPECT_EQ(m->size, size_of(id));
        }
    }
    EXPECT_EQ(kmt_test::LiveSlots(t.slots), kThreads * kRounds);
    for (uint32_t id = 1; id <= kThreads; id++) {
        for (uint64_t handle : kept[id]) {
            uint64_t driver = 0;
            EXPECT_TRUE(kmt_untrack_memory(&t, handle, &driver));
        }
    }
    for (uint32_t h = 0; h < 4; h++)
        EXPECT_EQ(kmt_heap_usage(&t, h), 0u);
    EXPECT_EQ(kmt_test::LiveSlots(t.slots), 0u);
    kmt_tracker_finish(&t);
}

} // namespace

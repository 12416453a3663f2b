// SPDX-License-Identifier: MIT
// Thread safety (DESIGN.md): any number of threads may call any command on
// the same device at once. Eight threads mix offer, reclaim, allocate, free,
// state queries and submissions on shared and private memory; afterwards
// every allocation's state and driver priority must be consistent and the
// paging fence values monotonic. Also run under TSan (the tsan preset runs
// the tests whose names contain "Concurren", "Thread" or "Stress").
#include <atomic>
#include <random>
#include <thread>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

#ifndef KMT_STRESS_ROUNDS
#define KMT_STRESS_ROUNDS 300
#endif

class ConcurrencyStress : public testing::TestWithParam<const char*> {};

TEST_P(ConcurrencyStress, EightThreadsKeepEveryAllocationConsistent)
{
    StackOptions options;
    options.env = {{"VK_KMT_OFFER_RECLAIM_DISCARD", GetParam()},
                   {"VK_KMT_OFFER_RECLAIM_DISCARD_RATE", "300"},
                   {"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "1"},
                   {"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}};
    VulkanStack s(options);
    ASSERT_EQ(s.result(), VK_SUCCESS);
    const uint32_t device_only =
        s.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    constexpr int kThreads = 8, kShared = 16;
    std::vector<VkDeviceMemory> shared;
    for (int i = 0; i < kShared; i++)
        shared.push_back(s.allocate(64 * 1024, i % 2 ? device_only : UINT32_MAX));

    std::atomic<int> failures{0};
    std::atomic<uint64_t> submits{0};
    std::atomic<uint64_t> max_fence{0}; // the highest paging fence value any reclaim returned
    std::mutex queue_lock; // the app's own external synchronisation of its queue
    auto worker = [&](int id) {
        std::mt19937 rng(1234 + id);
        std::vector<VkDeviceMemory> mine;
        for (int round = 0; round < KMT_STRESS_ROUNDS; round++) {
            int op = rng() % 7;
            VkDeviceMemory pick = shared[rng() % kShared];
            switch (op) {
            case 0: { // allocate a private one
                VkMemoryAllocateInfo info = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, nullptr, 16 * 1024,
                                             rng() % 2 ? device_only : 0};
                VkDeviceMemory m;
                if (vkAllocateMemory(s.device, &info, nullptr, &m) == VK_SUCCESS)
                    mine.push_back(m);
                else
                    failures++;
                break;
            }
            case 1: // free a private one (offered or not)
                if (!mine.empty()) {
                    vkFreeMemory(s.device, mine.back(), nullptr);
                    mine.pop_back();
                }
                break;
            case 2: { // offer shared (may already be offered: re-prioritised)
                const std::vector<VkDeviceMemory> list = {pick}; // outlives the info that points into it
                VkOfferAllocationsInfoKMT info = offer_info(list, (VkOfferPriorityKMT)(1 + rng() % 4), rng() % 4);
                VkResult r = s.offer(s.device, &info);
                // Decommitted memory can only be freed; offering it is refused.
                // DECOMMITTED is final, so this check cannot race.
                if (r != VK_SUCCESS &&
                    !(r == VK_ERROR_VALIDATION_FAILED_EXT && status_of(s, pick) == VK_ALLOCATION_STATUS_DECOMMITTED_KMT))
                    failures++;
                break;
            }
            case 3: { // reclaim shared
                Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{pick});
                if (r.result != VK_SUCCESS)
                    failures++;
                uint64_t seen = max_fence.load();
                while (r.fence > seen && !max_fence.compare_exchange_weak(seen, r.fence)) {
                }
                break;
            }
            case 4: // offer and reclaim a private one
                if (!mine.empty()) {
                    VkDeviceMemory m = mine[rng() % mine.size()];
                    if (offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT, rng() % 2) != VK_SUCCESS)
                        failures++;
                    if (reclaim(s, std::vector<VkDeviceMemory>{m}).result != VK_SUCCESS)
                        failures++;
                }
                break;
            case 5: { // the app submits work on the queue the layer shares
                VkSubmitInfo submit = {};
                submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
                std::lock_guard<std::mutex> guard(queue_lock);
                if (vkQueueSubmit(s.queue, 1, &submit, VK_NULL_HANDLE) != VK_SUCCESS)
                    failures++;
                submits++;
                break;
            }
            default: { // query
                VkAllocationStateKMT st = {};
                st.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
                if (s.get_state(s.device, pick, &st) != VK_SUCCESS || st.status > VK_ALLOCATION_STATUS_DECOMMITTED_KMT)
                    failures++;
                break;
            }
            }
        }
        for (VkDeviceMemory m : mine)
            vkFreeMemory(s.device, m, nullptr);
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++)
        threads.emplace_back(worker, t);
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(failures.load(), 0) << describe(s.messages_with_id("KMT-"));
    ASSERT_EQ(vkDeviceWaitIdle(s.device), VK_SUCCESS);
    VkSemaphore paging;
    ASSERT_EQ(s.get_paging_fence(s.device, &paging), VK_SUCCESS);
    uint64_t reached = 0;
    ASSERT_EQ(vkGetSemaphoreCounterValue(s.device, paging, &reached), VK_SUCCESS);
    EXPECT_LE(max_fence.load(), reached) << "every fence value handed out was signalled";

    // Invariants: every shared allocation is in a state consistent with its
    // driver priority, and reclaiming all of them brings them back.
    for (VkDeviceMemory m : shared) {
        VkAllocationStateKMT st = state_of(s, m);
        bool demoted = st.status == VK_ALLOCATION_STATUS_OFFERED_KMT || st.status == VK_ALLOCATION_STATUS_DISCARDED_KMT ||
                       st.status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT;
        EXPECT_EQ(st.driverPriority, demoted ? 0.0f : 0.5f) << "status " << st.status;
        // A decommit freed the driver's memory: its handle may have been
        // reused by another allocation since, so its records say nothing.
        if (st.status == VK_ALLOCATION_STATUS_DECOMMITTED_KMT)
            continue;
        std::vector<float> recorded = driver_priorities(s, m);
        float last_recorded = recorded.empty() ? 0.5f : recorded.back(); // 0.5 from the allocation
        EXPECT_EQ(last_recorded, st.driverPriority) << "the driver's last priority matches the state";
        EXPECT_NE(st.status, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT) << "all work is done: nothing pending";
    }
    Reclaimed all = reclaim(s, shared);
    EXPECT_EQ(all.result, VK_SUCCESS);
    for (size_t i = 0; i < shared.size(); i++) {
        VkAllocationStatusKMT status = status_of(s, shared[i]);
        VkAllocationStatusKMT expected = all.results[i] == VK_RECLAIM_RESULT_NOT_COMMITTED_KMT
                                             ? VK_ALLOCATION_STATUS_DECOMMITTED_KMT
                                             : VK_ALLOCATION_STATUS_RESIDENT_KMT;
        EXPECT_EQ(status, expected);
    }
    auto stats_fn = reinterpret_cast<PFN_vkGetOfferReclaimStatisticsKMT>(s.device_proc("vkGetOfferReclaimStatisticsKMT"));
    VkOfferReclaimStatisticsKMT stats = {};
    stats.sType = VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT;
    ASSERT_EQ(stats_fn(s.device, &stats), VK_SUCCESS);
    EXPECT_EQ(stats.trackedCount, (uint32_t)kShared + 0u) << "every private allocation was freed: no leak";
    EXPECT_EQ(stats.pendingCount, 0u);
    EXPECT_GT(submits.load(), 0u);
    s.destroy();
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

INSTANTIATE_TEST_SUITE_P(Policies, ConcurrencyStress, testing::Values("never", "random", "pressure", "always"));

}  // namespace
}  // namespace kmt

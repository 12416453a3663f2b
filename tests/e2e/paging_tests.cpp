// SPDX-License-Identifier: MIT
// The paging engine (DESIGN.md "Deferred offers", "Paging fence", "Discard
// policies"): fills that really replace bytes, GPU fills ordered by the
// paging fence, policies, budgets, decommit, statistics.
#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

constexpr uint32_t kPoison = 0xDEADBEEFu;

StackOptions
with_env(std::vector<std::pair<std::string, std::string>> env, Stack stack = Stack::Full)
{
    StackOptions o;
    o.stack = stack;
    o.env = std::move(env);
    return o;
}

void
write_words(VulkanStack& s, VkDeviceMemory m, VkDeviceSize size, uint32_t word)
{
    void* data = nullptr;
    ASSERT_EQ(vkMapMemory(s.device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    std::fill_n(static_cast<uint32_t*>(data), size / 4, word);
    vkUnmapMemory(s.device, m);
}

std::vector<uint32_t>
read_words(VulkanStack& s, VkDeviceMemory m, VkDeviceSize size)
{
    void* data = nullptr;
    std::vector<uint32_t> out(size / 4);
    EXPECT_EQ(vkMapMemory(s.device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    if (data) {
        std::memcpy(out.data(), data, size);
        vkUnmapMemory(s.device, m);
    }
    return out;
}

bool
all_equal(const std::vector<uint32_t>& words, uint32_t value)
{
    return !words.empty() && std::all_of(words.begin(), words.end(), [&](uint32_t w) { return w == value; });
}

VkOfferReclaimStatisticsKMT
statistics(VulkanStack& s)
{
    auto fn = reinterpret_cast<PFN_vkGetOfferReclaimStatisticsKMT>(s.device_proc("vkGetOfferReclaimStatisticsKMT"));
    VkOfferReclaimStatisticsKMT st = {};
    st.sType = VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT;
    EXPECT_NE(fn, nullptr);
    if (fn) {
        EXPECT_EQ(fn(s.device, &st), VK_SUCCESS);
    }
    return st;
}

// ---- the always policy and host-visible fills -------------------------------------------------

TEST(DiscardAlways, ADiscardIsReportedExactlyOnceThenOk)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkDeviceMemory m = s.allocate(4096);
    ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
    VkAllocationStateKMT st = state_of(s, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(st.discardCount, 1u);
    Reclaimed first = reclaim(s, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(first.results[0], VK_RECLAIM_RESULT_DISCARDED_KMT);
    EXPECT_EQ(first.discarded[0], VK_TRUE);
    EXPECT_EQ(first.fence, 0u) << "host-visible memory is filled on the CPU";
    Reclaimed second = reclaim(s, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(second.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(driver_priorities(s, m), (std::vector<float>{0.0f, 0.5f}));
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

class HostFill : public testing::TestWithParam<std::pair<const char*, uint32_t>> {};

TEST_P(HostFill, ReplacesTheBytesOfHostVisibleMemoryBeforeReclaimReturns)
{
    auto [fill, expected] = GetParam();
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"}, {"VK_KMT_OFFER_RECLAIM_DISCARD_FILL", fill}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkDeviceMemory m = s.allocate(1 << 16);
    write_words(s, m, 1 << 16, 0x12345678u);
    ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
    Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_DISCARDED_KMT);
    EXPECT_TRUE(all_equal(read_words(s, m, 1 << 16), expected)) << fill;
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

INSTANTIATE_TEST_SUITE_P(Fills, HostFill,
                         testing::Values(std::make_pair("poison", kPoison), std::make_pair("zero", 0u),
                                         std::make_pair("none", 0x12345678u)),
                         [](const auto& info) { return std::string(info.param.first); });

TEST(DiscardNever, ContentsAlwaysSurvive)
{
    VulkanStack s;
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkDeviceMemory m = s.allocate(4096);
    write_words(s, m, 4096, 0xabcdef01u);
    for (int i = 0; i < 10; i++) {
        ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
        Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{m});
        ASSERT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    }
    EXPECT_TRUE(all_equal(read_words(s, m, 4096), 0xabcdef01u));
    EXPECT_EQ(statistics(s).discardCount, 0u);
}

// ---- GPU fills of device-only memory and the paging fence --------------------------------------

class GpuFill : public testing::Test {
 protected:
    void SetUp() override
    {
        s = std::make_unique<VulkanStack>(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"},
                                                    {"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}}));
        ASSERT_EQ(s->result(), VK_SUCCESS);
        device_only = s->memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
        ASSERT_NE(device_only, UINT32_MAX);
        readback_memory = s->create_bound_buffer(kSize, &readback);
    }
    void TearDown() override
    {
        EXPECT_TRUE(s->validation_errors().empty()) << describe(s->validation_errors());
    }

    // A buffer over the whole of `m` for the app's own copies and fills.
    VkBuffer view(VkDeviceMemory m)
    {
        VkBuffer b = s->create_buffer(kSize);
        EXPECT_EQ(vkBindBufferMemory(s->device, b, m, 0), VK_SUCCESS);
        return b;
    }

    // Records "fill `target` with word, then copy it to the readback buffer".
    VkCommandBuffer write_and_copy(VkBuffer target, uint32_t word)
    {
        VkCommandBuffer cb = s->begin_commands();
        vkCmdFillBuffer(cb, target, 0, VK_WHOLE_SIZE, word);
        barrier(cb);
        VkBufferCopy region = {0, 0, kSize};
        vkCmdCopyBuffer(cb, target, readback, 1, &region);
        return cb;
    }

    VkCommandBuffer copy_to_readback(VkBuffer source)
    {
        VkCommandBuffer cb = s->begin_commands();
        VkBufferCopy region = {0, 0, kSize};
        vkCmdCopyBuffer(cb, source, readback, 1, &region);
        return cb;
    }

    static void barrier(VkCommandBuffer cb)
    {
        VkMemoryBarrier b = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_TRANSFER_WRITE_BIT,
                             VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &b, 0, nullptr,
                             0, nullptr);
    }

    // Submits cb (already ended) waiting for the paging fence value (0 = no wait).
    void submit_waiting_for(VkCommandBuffer cb, uint64_t fence)
    {
        VkSemaphore paging;
        ASSERT_EQ(s->get_paging_fence(s->device, &paging), VK_SUCCESS);
        VkTimelineSemaphoreSubmitInfo values = {};
        values.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
        values.waitSemaphoreValueCount = 1;
        values.pWaitSemaphoreValues = &fence;
        VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
        VkSubmitInfo submit = {};
        submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
        submit.commandBufferCount = 1;
        submit.pCommandBuffers = &cb;
        if (fence) {
            submit.pNext = &values;
            submit.waitSemaphoreCount = 1;
            submit.pWaitSemaphores = &paging;
            submit.pWaitDstStageMask = &stage;
        }
        ASSERT_EQ(vkQueueSubmit(s->queue, 1, &submit, VK_NULL_HANDLE), VK_SUCCESS);
    }

    static constexpr VkDeviceSize kSize = 1 << 16;
    std::unique_ptr<VulkanStack> s;
    uint32_t device_only = UINT32_MAX;
    VkBuffer readback = VK_NULL_HANDLE;
    VkDeviceMemory readback_memory = VK_NULL_HANDLE;
};

TEST_F(GpuFill, ReplacesTheBytesOfDeviceOnlyMemoryAfterTheAppsEarlierWork)
{
    VkDeviceMemory m = s->allocate(kSize, device_only);
    VkBuffer target = view(m);
    // The app's last write before the offer runs behind a gate.
    VkCommandBuffer write = s->begin_commands();
    vkCmdFillBuffer(write, target, 0, VK_WHOLE_SIZE, 0x11111111u);
    QueueGate gate(*s, write);

    ASSERT_EQ(offer(*s, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
    EXPECT_EQ(status_of(*s, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT) << "no discard while pending";
    gate.open();

    Reclaimed r = reclaim(*s, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_DISCARDED_KMT);
    VkCommandBuffer copy = copy_to_readback(target);
    ASSERT_EQ(vkEndCommandBuffer(copy), VK_SUCCESS);
    submit_waiting_for(copy, r.fence);
    ASSERT_EQ(vkQueueWaitIdle(s->queue), VK_SUCCESS);
    EXPECT_TRUE(all_equal(read_words(*s, readback_memory, kSize), kPoison)) << "the fill ran after the app's write";
}

TEST_F(GpuFill, ReclaimReturnsThePendingFenceAndTheAppsWaitOrdersItsWriteAfterTheFill)
{
    VkDeviceMemory m = s->allocate(kSize, device_only);
    VkBuffer target = view(m);
    QueueGate gate(*s); // holds the (shared) paging queue so the fill stays pending

    ASSERT_EQ(offer(*s, {m}, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT), VK_SUCCESS);
    Reclaimed r = reclaim(*s, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_DISCARDED_KMT);
    EXPECT_GT(r.fence, 0u) << "the fill is queued behind the gate";

    // Write-after-fill: the app's write waits for the fence and must win.
    VkCommandBuffer cb = write_and_copy(target, 0x22222222u);
    ASSERT_EQ(vkEndCommandBuffer(cb), VK_SUCCESS);
    submit_waiting_for(cb, r.fence);
    gate.open();
    VkSemaphore paging;
    ASSERT_EQ(s->get_paging_fence(s->device, &paging), VK_SUCCESS);
    uint64_t reached = 0;
    ASSERT_EQ(vkGetSemaphoreCounterValue(s->device, paging, &reached), VK_SUCCESS);
    EXPECT_GE(reached, r.fence);
    EXPECT_TRUE(all_equal(read_words(*s, readback_memory, kSize), 0x22222222u));

    // Once the fill is done, a new discard+reclaim of finished work reports 0.
    ASSERT_EQ(offer(*s, {m}, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT), VK_SUCCESS);
    ASSERT_EQ(vkDeviceWaitIdle(s->device), VK_SUCCESS);
    Reclaimed later = reclaim(*s, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(later.results[0], VK_RECLAIM_RESULT_DISCARDED_KMT);
    EXPECT_EQ(later.fence, 0u) << "complete: nothing to wait for";
}

TEST_F(GpuFill, FenceValuesStrictlyIncreaseUnderEightThreads)
{
    constexpr int kThreads = 8, kRounds = 20;
    std::vector<std::vector<uint64_t>> fences(kThreads);
    std::vector<VkDeviceMemory> memories; // allocated here: the fixture's bookkeeping is single-threaded
    for (int t = 0; t < kThreads; t++)
        memories.push_back(s->allocate(4096, device_only));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
        threads.emplace_back([&, t] {
            VkDeviceMemory m = memories[t];
            for (int i = 0; i < kRounds; i++) {
                if (offer(*s, {m}, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT) != VK_SUCCESS)
                    return;
                Reclaimed r = reclaim(*s, std::vector<VkDeviceMemory>{m});
                if (r.result != VK_SUCCESS || r.results[0] != VK_RECLAIM_RESULT_DISCARDED_KMT)
                    return;
                fences[t].push_back(r.fence);
            }
        });
    }
    for (auto& th : threads)
        th.join();
    std::set<uint64_t> seen;
    for (int t = 0; t < kThreads; t++) {
        ASSERT_EQ(fences[t].size(), (size_t)kRounds) << "thread " << t << " saw an unexpected result";
        uint64_t previous = 0;
        for (uint64_t f : fences[t]) {
            if (f == 0)
                continue; /* already complete */
            EXPECT_GT(f, previous) << "thread " << t;
            EXPECT_TRUE(seen.insert(f).second) << "fence value " << f << " handed out twice";
            previous = f;
        }
    }
    ASSERT_EQ(vkDeviceWaitIdle(s->device), VK_SUCCESS);
    VkSemaphore paging;
    ASSERT_EQ(s->get_paging_fence(s->device, &paging), VK_SUCCESS);
    uint64_t value = 0;
    ASSERT_EQ(vkGetSemaphoreCounterValue(s->device, paging, &value), VK_SUCCESS);
    EXPECT_EQ(value, (uint64_t)kThreads * kRounds) << "one paging value per fill";
}

TEST(PagingFence, ReclaimOfIntactMemoryQueuesNoGpuWork)
{
    VulkanStack s(with_env({{"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    uint32_t device_only = s.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    VkDeviceMemory m = s.allocate(1 << 16, device_only);
    ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(r.fence, 0u);
    VkSemaphore paging;
    ASSERT_EQ(s.get_paging_fence(s.device, &paging), VK_SUCCESS);
    uint64_t value = 1;
    ASSERT_EQ(vkGetSemaphoreCounterValue(s.device, paging, &value), VK_SUCCESS);
    EXPECT_EQ(value, 0u) << "no paging work was ever queued";
}

// ---- the random policy -----------------------------------------------------------------------

std::vector<bool>
random_decisions(const char* seed, const char* rate, int count)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "random"},
                            {"VK_KMT_OFFER_RECLAIM_DISCARD_SEED", seed},
                            {"VK_KMT_OFFER_RECLAIM_DISCARD_RATE", rate}}));
    EXPECT_EQ(s.result(), VK_SUCCESS);
    std::vector<bool> out;
    VkDeviceMemory m = s.allocate(256);
    for (int i = 0; i < count; i++) {
        EXPECT_EQ(offer(s, {m}), VK_SUCCESS);
        out.push_back(reclaim(s, std::vector<VkDeviceMemory>{m}).results[0] == VK_RECLAIM_RESULT_DISCARDED_KMT);
    }
    EXPECT_TRUE(s.validation_errors().empty());
    return out;
}

TEST(DiscardRandom, TheSameSeedGivesTheSameDecisions)
{
    std::vector<bool> a = random_decisions("42", "500", 64), b = random_decisions("42", "500", 64);
    std::vector<bool> c = random_decisions("43", "500", 64);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    size_t discarded = std::count(a.begin(), a.end(), true);
    EXPECT_GT(discarded, 16u);
    EXPECT_LT(discarded, 48u);
}

TEST(DiscardRandom, RateZeroNeverDiscardsAndRateThousandAlwaysDoes)
{
    std::vector<bool> none = random_decisions("7", "0", 32), all = random_decisions("7", "1000", 32);
    EXPECT_EQ(std::count(none.begin(), none.end(), true), 0);
    EXPECT_EQ(std::count(all.begin(), all.end(), true), 32);
}

// ---- the pressure policy, decommit and budgets ---------------------------------------------------

TEST(DiscardPressure, DiscardsLowBeforeNormalBeforeHighOldestFirstUntilUnderBudget)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"}, {"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "2"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    constexpr VkDeviceSize kHalf = 512 * 1024;
    VkDeviceMemory a = s.allocate(kHalf), b = s.allocate(kHalf), c = s.allocate(kHalf), d = s.allocate(kHalf);
    ASSERT_EQ(offer(s, {a}, VK_OFFER_PRIORITY_NORMAL_KMT), VK_SUCCESS);
    ASSERT_EQ(offer(s, {b}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    ASSERT_EQ(offer(s, {c}, VK_OFFER_PRIORITY_HIGH_KMT), VK_SUCCESS);
    ASSERT_EQ(offer(s, {d}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    for (VkDeviceMemory m : {a, b, c, d})
        EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_OFFERED_KMT) << "at budget, not over it";

    s.allocate(2 * kHalf); // 3 MiB tracked: the two LOW ones go, oldest first
    EXPECT_EQ(status_of(s, b), VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(status_of(s, d), VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(status_of(s, a), VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(status_of(s, c), VK_ALLOCATION_STATUS_OFFERED_KMT);

    s.allocate(kHalf); // then NORMAL
    EXPECT_EQ(status_of(s, a), VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(status_of(s, c), VK_ALLOCATION_STATUS_OFFERED_KMT);
    s.allocate(kHalf); // then HIGH
    EXPECT_EQ(status_of(s, c), VK_ALLOCATION_STATUS_DISCARDED_KMT);

    VkOfferReclaimStatisticsKMT st = statistics(s);
    EXPECT_EQ(st.discardCount, 4u);
    EXPECT_EQ(st.heapBudget[0], 2u << 20);
    EXPECT_LE(st.heapUsage[0], st.heapBudget[0]);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST(DiscardPressure, OldestOfferOfALevelGoesFirst)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"}, {"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "1"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    constexpr VkDeviceSize kQuarter = 256 * 1024;
    VkDeviceMemory m[4];
    for (VkDeviceMemory& x : m)
        x = s.allocate(kQuarter);
    for (int i : {2, 0, 3, 1})
        ASSERT_EQ(offer(s, {m[i]}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    s.allocate(kQuarter);
    EXPECT_EQ(status_of(s, m[2]), VK_ALLOCATION_STATUS_DISCARDED_KMT) << "offered first";
    for (int i : {0, 1, 3})
        EXPECT_EQ(status_of(s, m[i]), VK_ALLOCATION_STATUS_OFFERED_KMT);
}

TEST(DiscardPressure, PendingOffersAreNeverDiscarded)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"}, {"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "1"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkDeviceMemory m = s.allocate(1 << 20);
    QueueGate gate(s);
    ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
    s.allocate(1 << 20); // over budget, but the only offer is still pending
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    gate.open();
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_DISCARDED_KMT) << "once offered, pressure acts";
}

TEST(Decommit, AllowDecommitUnderPressureIsNotCommittedUntilFreed)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"}, {"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "1"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkBuffer buffer;
    VkDeviceMemory m = s.create_bound_buffer(1 << 20, &buffer);
    ASSERT_EQ(offer(s, {buffer_resource(buffer)}, VK_OFFER_PRIORITY_LOW_KMT,
                    VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT),
              VK_SUCCESS);
    s.allocate(1 << 19);
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_DECOMMITTED_KMT);
    for (int i = 0; i < 2; i++) {
        Reclaimed r = reclaim(s, std::vector<VkOfferResourceKMT>{buffer_resource(buffer)});
        EXPECT_EQ(r.result, VK_SUCCESS);
        EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_NOT_COMMITTED_KMT);
        EXPECT_EQ(r.discarded[0], VK_TRUE);
        EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_DECOMMITTED_KMT) << "it stays decommitted";
    }
    void* data = nullptr;
    EXPECT_EQ(vkMapMemory(s.device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_ERROR_MEMORY_MAP_FAILED);
    VkBuffer other = s.create_buffer(1024);
    EXPECT_EQ(vkBindBufferMemory(s.device, other, m, 0), VK_ERROR_VALIDATION_FAILED_EXT);
    EXPECT_EQ(s.messages_with_id("KMT-bind-decommitted").size(), 1u);
    EXPECT_EQ(offer(s, {m}), VK_ERROR_VALIDATION_FAILED_EXT);
    EXPECT_EQ(s.messages_with_id("KMT-offer-decommitted-memory").size(), 1u);
    EXPECT_EQ(statistics(s).decommitCount, 1u);
    // The app frees and recreates it; the tracked usage goes down.
    s.destroy_buffer(buffer);
    s.free_memory(m);
    EXPECT_EQ(statistics(s).trackedCount, 1u);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST(Budget, ComesFromVkExtMemoryBudgetWhenNoSettingOverridesIt)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"}, {"KMT_TEST_DRIVER_BUDGET_MB", "3"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    EXPECT_EQ(statistics(s).heapBudget[0], 3u << 20);
}

TEST(Budget, IsEightyPercentOfTheHeapWithoutTheBudgetExtension)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"}, {"KMT_TEST_DRIVER_HIDE", "budget"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkDeviceSize heap = s.memory_properties().memoryHeaps[0].size;
    EXPECT_EQ(statistics(s).heapBudget[0], heap / 5 * 4);
}

// ---- statistics and settings --------------------------------------------------------------------

TEST(Statistics, CountOffersReclaimsDiscardsAndRejectedCalls)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkDeviceMemory a = s.allocate(4096), b = s.allocate(8192);
    ASSERT_EQ(offer(s, std::vector<VkDeviceMemory>{a, b}), VK_SUCCESS);
    ASSERT_EQ(offer(s, std::vector<VkDeviceMemory>{a}), VK_SUCCESS);
    reclaim(s, std::vector<VkDeviceMemory>{a, b});
    EXPECT_EQ(offer(s, std::vector<VkDeviceMemory>{a, a}), VK_ERROR_VALIDATION_FAILED_EXT);
    VkOfferReclaimStatisticsKMT st = statistics(s);
    EXPECT_EQ(st.offerCount, 3u);
    EXPECT_EQ(st.reofferCount, 1u);
    EXPECT_EQ(st.reclaimCount, 2u);
    EXPECT_EQ(st.discardCount, 2u);
    EXPECT_EQ(st.bytesOffered, 4096u + 8192u + 4096u);
    EXPECT_EQ(st.bytesDiscarded, 4096u + 8192u);
    EXPECT_EQ(st.rejectedCallCount, 1u);
    EXPECT_EQ(st.trackedCount, 2u);
    EXPECT_EQ(st.offeredCount, 0u);
    s.clear_messages();
}

TEST(Statistics, AreReportedThroughTheMessengerAtDeviceDestructionWhenStatsIsSet)
{
    // The test driver reports a 64 MiB budget (VK_EXT_memory_budget).
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_STATS", "1"}, {"KMT_TEST_DRIVER_BUDGET_MB", "64"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkDeviceMemory m = s.allocate(4096);
    ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
    EXPECT_TRUE(s.messages_with_id("KMT-stats").empty()) << "only at vkDestroyDevice";
    s.destroy();
    // Whatever LOG_LEVEL says (default: warning), STATS=1 asked for them.
    auto stats = s.messages_with_id("KMT-stats");
    ASSERT_EQ(stats.size(), 1u) << describe(s.messages());
    EXPECT_EQ(stats[0].severity, VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT);
    EXPECT_NE(stats[0].text.find("offers 1 (re-offers 0), reclaims 0, discards 0"), std::string::npos)
        << stats[0].text;
    // Per heap: what the tracker holds (nothing: the app freed its memory
    // before vkDestroyDevice) and the driver's budget.
    EXPECT_NE(stats[0].text.find("heap 0: usage 0 (0 B) of budget 67108864 (64.0 MiB)"), std::string::npos)
        << stats[0].text;
}

TEST(Statistics, GoToStderrWithoutAMessenger)
{
    testing::internal::CaptureStderr();
    {
        StackOptions o = with_env({{"VK_KMT_OFFER_RECLAIM_STATS", "1"}});
        o.debug_utils = false;
        VulkanStack s(o);
        ASSERT_EQ(s.result(), VK_SUCCESS);
        VkDeviceMemory m = s.allocate(4096);
        ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
    }
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("VK_LAYER_KMT_offer_reclaim info [KMT-stats]: offers 1"), std::string::npos) << err;
}

TEST(Settings, ABadValueIsReportedAndTheDefaultUsed)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "sometimes"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    auto warnings = s.messages_with_id("KMT-bad-setting");
    ASSERT_EQ(warnings.size(), 1u) << describe(s.messages());
    EXPECT_NE(warnings[0].text.find("VK_KMT_OFFER_RECLAIM_DISCARD=\"sometimes\""), std::string::npos)
        << warnings[0].text;
    VkDeviceMemory m = s.allocate(4096);
    ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_OFFERED_KMT) << "default policy: never";
}

}  // namespace
}  // namespace kmt

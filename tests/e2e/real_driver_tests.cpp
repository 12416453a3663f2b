// SPDX-License-Identifier: MIT
// The layer on whatever driver is underneath, without the test driver layer
// (Stack::Lvp = layer -> validation -> driver). In CI that is lavapipe (no
// pageable memory, no budget, one queue); on a machine with a GPU run them
// with KMT_TEST_ICD=<the vendor's ICD json> to exercise real priorities,
// budgets and a dedicated paging queue. Every assertion follows what the
// driver reports, so the same tests hold on both.
#include <algorithm>
#include <cstring>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

StackOptions
real(std::vector<std::pair<std::string, std::string>> env = {})
{
    StackOptions o;
    o.stack = Stack::Lvp;
    o.env = std::move(env);
    o.env.push_back({"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "info"});
    return o;
}

struct DriverSupport {
    bool pageable = false, budget = false;
    std::string name;
};

DriverSupport
support_of(VulkanStack& s)
{
    DriverSupport out;
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(s.physical_device, nullptr, &n, nullptr);
    std::vector<VkExtensionProperties> exts(n);
    vkEnumerateDeviceExtensionProperties(s.physical_device, nullptr, &n, exts.data());
    for (auto& e : exts) {
        out.pageable |= strcmp(e.extensionName, VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME) == 0;
        out.budget |= strcmp(e.extensionName, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) == 0;
    }
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(s.physical_device, &props);
    out.name = props.deviceName;
    return out;
}

VkOfferReclaimStatisticsKMT
stats_of(VulkanStack& s)
{
    auto fn = reinterpret_cast<PFN_vkGetOfferReclaimStatisticsKMT>(s.device_proc("vkGetOfferReclaimStatisticsKMT"));
    VkOfferReclaimStatisticsKMT st = {};
    st.sType = VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT;
    EXPECT_EQ(fn(s.device, &st), VK_SUCCESS);
    return st;
}

TEST(RealDriver, StartupLineSaysWhatTheDriverSupports)
{
    VulkanStack s(real());
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    DriverSupport d = support_of(s);
    VkDeviceMemory m = s.allocate(4096); // any call after creation sends the startup line
    (void)m;
    auto startup = s.messages_with_id("KMT-startup");
    ASSERT_EQ(startup.size(), 1u) << describe(s.messages_with_id("KMT-"));
    std::printf("[ driver   ] %s: %s\n", d.name.c_str(), startup[0].text.c_str());
    EXPECT_NE(startup[0].text.find(d.pageable ? "pageable memory yes" : "pageable memory no"), std::string::npos);
    EXPECT_NE(startup[0].text.find(d.budget ? "memory budget yes" : "memory budget no"), std::string::npos);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST(RealDriver, OfferDemotesExactlyWhenTheDriverHasPageableMemory)
{
    VulkanStack s(real());
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    DriverSupport d = support_of(s);
    uint32_t local = s.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    VkDeviceMemory m = s.allocate(1 << 20, local);
    ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    VkAllocationStateKMT st = state_of(s, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(st.driverPriorityApplied, d.pageable ? VK_TRUE : VK_FALSE);
    EXPECT_EQ(st.driverPriority, d.pageable ? 0.0f : 0.5f);
    Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(r.fence, 0u);
    EXPECT_EQ(state_of(s, m).driverPriority, 0.5f);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST(RealDriver, TheBudgetComesFromTheDriverWhenItHasOne)
{
    VulkanStack s(real({{"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    DriverSupport d = support_of(s);
    VkPhysicalDeviceMemoryProperties props = s.memory_properties();
    VkOfferReclaimStatisticsKMT st = stats_of(s);
    ASSERT_EQ(st.heapCount, props.memoryHeapCount);
    for (uint32_t i = 0; i < st.heapCount; i++) {
        EXPECT_GT(st.heapBudget[i], 0u);
        EXPECT_LE(st.heapBudget[i], props.memoryHeaps[i].size);
        if (!d.budget) {
            EXPECT_EQ(st.heapBudget[i], props.memoryHeaps[i].size / 5 * 4);
        }
        std::printf("[ budget   ] heap %u: size %llu MiB, budget %llu MiB\n", i,
                    (unsigned long long)(props.memoryHeaps[i].size >> 20), (unsigned long long)(st.heapBudget[i] >> 20));
    }
}

TEST(RealDriver, PressureDiscardsLowBeforeHighInDeviceLocalMemory)
{
    VulkanStack s(real({{"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"}, {"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "8"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    uint32_t local = s.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    const uint32_t heap = s.memory_properties().memoryTypes[local].heapIndex;
    std::vector<VkDeviceMemory> low, high;
    for (int i = 0; i < 2; i++) {
        low.push_back(s.allocate(2 << 20, local));
        high.push_back(s.allocate(2 << 20, local));
    }
    ASSERT_EQ(offer(s, high, VK_OFFER_PRIORITY_HIGH_KMT), VK_SUCCESS);
    ASSERT_EQ(offer(s, low, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    s.allocate(2 << 20, local); // 10 MiB tracked in the heap, budget 8: one LOW goes
    EXPECT_EQ(status_of(s, low[0]), VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(status_of(s, low[1]), VK_ALLOCATION_STATUS_OFFERED_KMT);
    for (VkDeviceMemory m : high)
        EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_LE(stats_of(s).heapUsage[heap], 8u << 20);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST(RealDriver, DiscardedDeviceOnlyMemoryIsFilledBeforeTheFenceSignals)
{
    VulkanStack s(real({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    uint32_t type = s.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    if (type == UINT32_MAX)
        GTEST_SKIP() << "the driver has no device-local memory that is not host-visible (lavapipe)";
    constexpr VkDeviceSize kSize = 1 << 20;
    VkDeviceMemory m = s.allocate(kSize, type);
    VkBuffer target = s.create_buffer(kSize);
    ASSERT_EQ(vkBindBufferMemory(s.device, target, m, 0), VK_SUCCESS);
    VkBuffer readback;
    VkDeviceMemory readback_memory = s.create_bound_buffer(kSize, &readback);

    VkCommandBuffer write = s.begin_commands();
    vkCmdFillBuffer(write, target, 0, VK_WHOLE_SIZE, 0x11111111u);
    ASSERT_EQ(s.submit_and_wait(write), VK_SUCCESS);
    ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
    Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{m});
    ASSERT_EQ(r.results[0], VK_RECLAIM_RESULT_DISCARDED_KMT);
    std::printf("[ fence    ] reclaim returned paging fence value %llu\n", (unsigned long long)r.fence);

    VkSemaphore paging;
    ASSERT_EQ(s.get_paging_fence(s.device, &paging), VK_SUCCESS);
    VkCommandBuffer copy = s.begin_commands();
    VkBufferCopy region = {0, 0, kSize};
    vkCmdCopyBuffer(copy, target, readback, 1, &region);
    ASSERT_EQ(vkEndCommandBuffer(copy), VK_SUCCESS);
    VkTimelineSemaphoreSubmitInfo values = {};
    values.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
    values.waitSemaphoreValueCount = 1;
    values.pWaitSemaphoreValues = &r.fence;
    VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    VkSubmitInfo submit = {};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &copy;
    if (r.fence) {
        submit.pNext = &values;
        submit.waitSemaphoreCount = 1;
        submit.pWaitSemaphores = &paging;
        submit.pWaitDstStageMask = &stage;
    }
    ASSERT_EQ(vkQueueSubmit(s.queue, 1, &submit, VK_NULL_HANDLE), VK_SUCCESS);
    ASSERT_EQ(vkQueueWaitIdle(s.queue), VK_SUCCESS);
    void* data = nullptr;
    ASSERT_EQ(vkMapMemory(s.device, readback_memory, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    const uint32_t* words = static_cast<const uint32_t*>(data);
    EXPECT_TRUE(std::all_of(words, words + kSize / 4, [](uint32_t w) { return w == 0xDEADBEEFu; }));
    vkUnmapMemory(s.device, readback_memory);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

}  // namespace
}  // namespace kmt

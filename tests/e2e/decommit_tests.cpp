// SPDX-License-Identifier: MIT
// Decommit is real (DESIGN.md): when the policy decommits an allocation that
// was offered with ALLOW_DECOMMIT, the driver's memory is freed at once; the
// app's handle stays valid for queries and vkFreeMemory; reclaim reports
// NOT_COMMITTED; map and bind fail with a message; the pressure policy counts
// the bytes as given back. Shown for real: the driver's allocation goes away
// and the process's resident memory drops by the allocation's size.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

constexpr VkDeviceSize MiB = 1024 * 1024;

// Resident bytes of this process (/proc/self/statm, second field).
uint64_t resident_bytes()
{
    std::ifstream statm("/proc/self/statm");
    uint64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * uint64_t(sysconf(_SC_PAGESIZE));
}

StackOptions pressure(const char* budget_mb)
{
    StackOptions o;
    o.env = {{"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"}, {"VK_KMT_OFFER_RECLAIM_BUDGET_MB", budget_mb}};
    return o;
}

VkOfferReclaimStatisticsKMT statistics(VulkanStack& s)
{
    auto fn = reinterpret_cast<PFN_vkGetOfferReclaimStatisticsKMT>(s.device_proc("vkGetOfferReclaimStatisticsKMT"));
    VkOfferReclaimStatisticsKMT out = {};
    out.sType = VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT;
    EXPECT_EQ(fn(s.device, &out), VK_SUCCESS);
    return out;
}

TEST(Decommit, FreesTheDriversMemoryAndTheProcessResidentSetDrops)
{
    VulkanStack s(pressure("64"));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    const VkDeviceSize size = 256 * MiB;
    VkDeviceMemory big = s.allocate(size);
    ASSERT_TRUE(big);
    void* data = nullptr;
    ASSERT_EQ(vkMapMemory(s.device, big, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    std::memset(data, 0x7e, size); // touch every page: resident now
    vkUnmapMemory(s.device, big);
    const uint64_t before = resident_bytes();
    const uint32_t driver_allocations = s.driver()->allocation_count;
    const VkDeviceSize usage_before = statistics(s).heapUsage[0];

    ASSERT_EQ(offer(s, {big}, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT),
              VK_SUCCESS);
    EXPECT_EQ(status_of(s, big), VK_ALLOCATION_STATUS_DECOMMITTED_KMT) << "256 MiB over a 64 MiB budget";
    const uint64_t after = resident_bytes();
    EXPECT_GE(before - std::min(before, after), size - 16 * MiB)
        << "resident " << before / MiB << " MiB -> " << after / MiB << " MiB";
    EXPECT_EQ(s.driver()->allocation_count, driver_allocations - 1) << "the driver's memory was freed";
    VkOfferReclaimStatisticsKMT stats = statistics(s);
    EXPECT_EQ(stats.decommitCount, 1u);
    EXPECT_EQ(stats.heapUsage[0], usage_before - size) << "the pressure policy counts the bytes as given back";
    EXPECT_EQ(stats.trackedCount, 1u) << "the app's handle is still tracked";

    // The handle keeps working for queries, reclaim and free; map and bind fail.
    VkAllocationStateKMT st = state_of(s, big);
    EXPECT_EQ(st.size, size);
    EXPECT_EQ(st.discardCount, 1u);
    Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{big});
    EXPECT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_NOT_COMMITTED_KMT);
    EXPECT_EQ(r.discarded[0], VK_TRUE);
    EXPECT_EQ(status_of(s, big), VK_ALLOCATION_STATUS_DECOMMITTED_KMT);
    s.clear_messages();
    EXPECT_EQ(vkMapMemory(s.device, big, 0, VK_WHOLE_SIZE, 0, &data), VK_ERROR_MEMORY_MAP_FAILED);
    EXPECT_EQ(s.messages_with_id("KMT-map-not-resident").size(), 1u) << describe(s.messages());
    VkBuffer buffer = s.create_buffer(4096);
    EXPECT_EQ(vkBindBufferMemory(s.device, buffer, big, 0), VK_ERROR_VALIDATION_FAILED_EXT);
    EXPECT_EQ(s.messages_with_id("KMT-bind-decommitted").size(), 1u) << describe(s.messages());
    EXPECT_EQ(offer(s, {big}), VK_ERROR_VALIDATION_FAILED_EXT) << "decommitted memory can only be freed";
    s.free_memory(big);
    EXPECT_EQ(s.driver()->allocation_count, driver_allocations - 1) << "vkFreeMemory released only the record";
    EXPECT_EQ(statistics(s).trackedCount, 0u);
    s.destroy();
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST(Decommit, WithoutAllowDecommitTheSameOfferIsDiscardedAndKeepsItsMemory)
{
    VulkanStack s(pressure("1"));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkDeviceMemory m = s.allocate(8 * MiB);
    const uint32_t driver_allocations = s.driver()->allocation_count;
    ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(s.driver()->allocation_count, driver_allocations) << "a discard keeps the allocation";
    EXPECT_EQ(reclaim(s, std::vector<VkDeviceMemory>{m}).results[0], VK_RECLAIM_RESULT_DISCARDED_KMT);
}

// A decommit frees the driver's memory with the callbacks the app gave at
// vkAllocateMemory (VUID-vkFreeMemory-memory-00678).
struct CountingAllocator {
    VkAllocationCallbacks callbacks{};
    int allocations = 0, frees = 0;
    CountingAllocator()
    {
        callbacks.pUserData = this;
        callbacks.pfnAllocation = [](void* user, size_t size, size_t align, VkSystemAllocationScope) -> void* {
            static_cast<CountingAllocator*>(user)->allocations++;
            void* p = nullptr;
            return posix_memalign(&p, align < sizeof(void*) ? sizeof(void*) : align, size ? size : 1) == 0 ? p
                                                                                                           : nullptr;
        };
        callbacks.pfnReallocation = [](void*, void* p, size_t size, size_t, VkSystemAllocationScope) -> void* {
            return realloc(p, size);
        };
        callbacks.pfnFree = [](void* user, void* p) {
            if (p)
                static_cast<CountingAllocator*>(user)->frees++;
            free(p);
        };
    }
};

TEST(Decommit, UsesTheAppsAllocationCallbacks)
{
    VulkanStack s(pressure("1"));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    CountingAllocator app;
    VkMemoryAllocateInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    info.allocationSize = 4 * MiB;
    info.memoryTypeIndex = s.memory_type(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    VkDeviceMemory m;
    ASSERT_EQ(vkAllocateMemory(s.device, &info, &app.callbacks, &m), VK_SUCCESS);
    const int frees_before = app.frees;
    ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT),
              VK_SUCCESS);
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_DECOMMITTED_KMT);
    EXPECT_GT(app.frees, frees_before) << "the driver freed its memory object through the app's callbacks";
    vkFreeMemory(s.device, m, &app.callbacks);
    s.destroy();
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

// A GPU fill from an earlier discard may still be writing the memory when it
// is decommitted: the driver's memory goes only once the fill is done
// (validation: VUID-vkFreeMemory-memory-00677 otherwise).
TEST(Decommit, WaitsForAPendingFillBeforeFreeingTheDriversMemory)
{
    StackOptions o;
    o.env = {{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"}, {"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}};
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS);
    const uint32_t device_only = s.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    ASSERT_NE(device_only, UINT32_MAX);
    VkDeviceMemory m = s.allocate(1 * MiB, device_only);
    const uint32_t live = s.driver()->allocation_count;
    {
        QueueGate gate(s); // the paging queue is the app's: the fill waits behind the gate
        ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
        EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_DISCARDED_KMT);
        Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{m});
        EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_DISCARDED_KMT);
        EXPECT_GT(r.fence, 0u) << "a GPU fill is pending";
        ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT,
                        VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT),
                  VK_SUCCESS);
        EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_DECOMMITTED_KMT);
        EXPECT_EQ(s.driver()->allocation_count, live) << "still written by the pending fill: not freed yet";
        gate.open();
    }
    (void)status_of(s, m); // any call reaps finished fills
    EXPECT_EQ(s.driver()->allocation_count, live - 1) << "freed once the fill was done";
    s.destroy();
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

}  // namespace
}  // namespace kmt

// SPDX-License-Identifier: MIT
// VK_KMT_residency through the real loader, validation, the test driver and
// lavapipe (DESIGN.md, "Residency"): the extension's plumbing, residency
// counts and EVICTED, priorities down to the driver, the budget check of
// make-resident, the video memory query and reservation, the paging fence.
// Validation and mixed use: residency_validation_tests.cpp; notifications:
// budget_notification_tests.cpp.
#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "residency_calls.hpp"

namespace kmt {
namespace {

constexpr VkDeviceSize kMiB = 1 << 20;

bool
lists_extension(VkPhysicalDevice physical, const char* layer, const char* name, int* times = nullptr)
{
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(physical, layer, &n, nullptr);
    std::vector<VkExtensionProperties> exts(n);
    vkEnumerateDeviceExtensionProperties(physical, layer, &n, exts.data());
    int found = 0;
    for (auto& e : exts) found += strcmp(e.extensionName, name) == 0;
    if (times) *times = found;
    return found > 0;
}

void
write_words(VulkanStack& s, VkDeviceMemory m, VkDeviceSize size, uint32_t word)
{
    void* data = nullptr;
    ASSERT_EQ(vkMapMemory(s.device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    std::fill_n(static_cast<uint32_t*>(data), size / 4, word);
    vkUnmapMemory(s.device, m);
}

bool
holds_word(VulkanStack& s, VkDeviceMemory m, VkDeviceSize size, uint32_t word)
{
    void* data = nullptr;
    if (vkMapMemory(s.device, m, 0, VK_WHOLE_SIZE, 0, &data) != VK_SUCCESS) return false;
    const uint32_t* words = static_cast<const uint32_t*>(data);
    bool all = std::all_of(words, words + size / 4, [&](uint32_t w) { return w == word; });
    vkUnmapMemory(s.device, m);
    return all;
}

// ---- the extension -----------------------------------------------------------------------

TEST(ResidencyExtension, IsAdvertisedOnceBesideOfferReclaim)
{
    VulkanStack s(residency_options());
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    int times = 0;
    EXPECT_TRUE(lists_extension(s.physical_device, nullptr, VK_KMT_RESIDENCY_EXTENSION_NAME, &times));
    EXPECT_EQ(times, 1);
    EXPECT_TRUE(lists_extension(s.physical_device, "VK_LAYER_KMT_offer_reclaim", VK_KMT_RESIDENCY_EXTENSION_NAME));
    EXPECT_TRUE(lists_extension(s.physical_device, nullptr, VK_KMT_OFFER_RECLAIM_EXTENSION_NAME));
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST(ResidencyExtension, ADeviceMayEnableItAlone)
{
    VulkanStack s(residency_options({}, /*offer_reclaim=*/false));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    EXPECT_TRUE(ResidencyApi(s).complete());
    EXPECT_EQ(s.device_proc("vkOfferAllocationsKMT"), nullptr) << "VK_KMT_offer_reclaim was not enabled";
    EXPECT_EQ(s.device_proc("vkReclaimAllocationsKMT"), nullptr);
    EXPECT_NE(s.device_proc("vkGetPagingFenceKMT"), nullptr) << "make-resident's fence values need it";
    EXPECT_NE(s.device_proc("vkGetAllocationStateKMT"), nullptr);
    // The layer's own handles: the app's handle is not the driver's.
    VkDeviceMemory m = s.allocate(4096);
    EXPECT_NE(reinterpret_cast<uint64_t>(m), s.driver_memory(m));
    ResidencyState st = residency_of(s, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(st.count, 1u);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST(ResidencyExtension, OfferReclaimAloneHasNoResidencyCommandsAndLeavesTheStructAlone)
{
    StackOptions o;
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS);
    EXPECT_EQ(s.device_proc("vkMakeResidentKMT"), nullptr);
    EXPECT_EQ(s.device_proc("vkEvictKMT"), nullptr);
    EXPECT_EQ(s.device_proc("vkRegisterBudgetNotificationKMT"), nullptr);
    VkDeviceMemory m = s.allocate(4096);
    VkAllocationResidencyKMT residency = {};
    residency.sType = VK_STRUCTURE_TYPE_ALLOCATION_RESIDENCY_KMT;
    residency.residencyCount = 77;
    VkAllocationStateKMT state = {};
    state.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
    state.pNext = &residency;
    ASSERT_EQ(s.get_state(s.device, m, &state), VK_SUCCESS);
    EXPECT_EQ(residency.residencyCount, 77u) << "a device without VK_KMT_residency ignores the struct";
}

TEST(ResidencyExtension, ADeviceThatEnablesNeitherIsAPurePassThrough)
{
    StackOptions none;
    none.enable_extension = false;
    VulkanStack p(none);
    ASSERT_EQ(p.result(), VK_SUCCESS);
    for (const char* name : {"vkMakeResidentKMT", "vkEvictKMT", "vkSetResidencyPriorityKMT",
                             "vkQueryVideoMemoryInfoKMT", "vkSetVideoMemoryReservationKMT",
                             "vkRegisterBudgetNotificationKMT", "vkUnregisterBudgetNotificationKMT",
                             "vkGetAllocationStateKMT"})
        EXPECT_EQ(p.device_proc(name), nullptr) << name;
    VkDeviceMemory m = p.allocate(4096);
    EXPECT_EQ(reinterpret_cast<uint64_t>(m), p.driver_memory(m)) << "the driver's own handle";
}

// ---- counts, EVICTED, contents ----------------------------------------------------------------

class Residency : public StackTest {
 protected:
    // A synthetic budget: usage is the layer's own count.
    StackOptions options() const override { return residency_options({{"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "64"}}); }
    void SetUp() override
    {
        StackTest::SetUp();
        ASSERT_EQ(stack->result(), VK_SUCCESS) << stack->failed_step();
        ASSERT_TRUE(ResidencyApi(*stack).complete());
    }
};

TEST_F(Residency, EveryAllocationStartsResidentWithCountOneAndNoResidencyPriority)
{
    VkDeviceMemory m = stack->allocate(4096);
    ResidencyState st = residency_of(*stack, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(st.count, 1u);
    EXPECT_EQ(st.priority, 0u);
}

TEST_F(Residency, EvictAtCountOneEvictsDropsThePriorityAndTheUsageAndKeepsTheContents)
{
    const float own = 0.8f;
    VkDeviceMemory m = stack->allocate(kMiB, UINT32_MAX, &own);
    write_words(*stack, m, kMiB, 0x5eed1234u);
    const VkDeviceSize before = video_memory(*stack).currentUsage;

    Evicted e = evict(*stack, {m});
    ASSERT_EQ(e.result, VK_SUCCESS);
    EXPECT_EQ(e.bytes_to_trim, 0u);
    ResidencyState st = residency_of(*stack, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_EVICTED_KMT);
    EXPECT_EQ(st.count, 0u);
    EXPECT_EQ(st.driver_priority, 0.0f);
    EXPECT_EQ(driver_priorities(*stack, m), std::vector<float>{0.0f}) << "the driver was told";
    EXPECT_EQ(video_memory(*stack).currentUsage, before - kMiB) << "evicted bytes leave the usage";

    MadeResident r = make_resident(*stack, {m});
    ASSERT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(r.fence, 0u) << "no paging work was queued";
    st = residency_of(*stack, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(st.count, 1u);
    EXPECT_EQ(driver_priorities(*stack, m), (std::vector<float>{0.0f, own})) << "the app's own priority is back";
    EXPECT_EQ(video_memory(*stack).currentUsage, before);
    EXPECT_TRUE(holds_word(*stack, m, kMiB, 0x5eed1234u)) << "evicted memory keeps its contents";
}

TEST_F(Residency, CountsAreReferenceCountsOnlyZeroEvicts)
{
    VkDeviceMemory m = stack->allocate(4096);
    ASSERT_EQ(make_resident(*stack, {m}).result, VK_SUCCESS);
    ASSERT_EQ(make_resident(*stack, {m}).result, VK_SUCCESS);
    EXPECT_EQ(residency_of(*stack, m).count, 3u);
    ASSERT_EQ(evict(*stack, {m}).result, VK_SUCCESS);
    ASSERT_EQ(evict(*stack, {m}).result, VK_SUCCESS);
    ResidencyState st = residency_of(*stack, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(st.count, 1u);
    EXPECT_TRUE(driver_priorities(*stack, m).empty()) << "no driver call while the count stays above 0";
    ASSERT_EQ(evict(*stack, {m}).result, VK_SUCCESS);
    EXPECT_EQ(residency_of(*stack, m).status, VK_ALLOCATION_STATUS_EVICTED_KMT);
}

TEST_F(Residency, EvictedMemoryCannotBeMappedUntilMadeResident)
{
    VkDeviceMemory m = stack->allocate(4096);
    ASSERT_EQ(evict(*stack, {m}).result, VK_SUCCESS);
    stack->clear_messages();
    void* data = nullptr;
    EXPECT_EQ(vkMapMemory(stack->device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_ERROR_MEMORY_MAP_FAILED);
    auto messages = stack->messages_with_id("KMT-map-not-resident");
    ASSERT_EQ(messages.size(), 1u) << describe(stack->messages());
    EXPECT_NE(messages[0].text.find("evicted"), std::string::npos) << messages[0].text;
    ASSERT_EQ(make_resident(*stack, {m}).result, VK_SUCCESS);
    ASSERT_EQ(vkMapMemory(stack->device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    vkUnmapMemory(stack->device, m);
}

TEST_F(Residency, EvictedMemoryMayBeBoundAndFreed)
{
    VkDeviceMemory m = stack->allocate(1 << 16);
    ASSERT_EQ(evict(*stack, {m}).result, VK_SUCCESS);
    VkBuffer b = stack->create_buffer(4096);
    stack->clear_messages();
    EXPECT_EQ(vkBindBufferMemory(stack->device, b, m, 0), VK_SUCCESS);
    EXPECT_TRUE(stack->messages_with_id("KMT-").empty()) << describe(stack->messages());
    const VkDeviceSize before = video_memory(*stack).currentUsage;
    stack->destroy_buffer(b);
    stack->free_memory(m);
    EXPECT_EQ(video_memory(*stack).currentUsage, before) << "evicted bytes were already out of the usage";
}

TEST_F(Residency, EvictFlagsAreHintsThatKeepTheContents)
{
    VkDeviceMemory m = stack->allocate(4096);
    write_words(*stack, m, 4096, 0x0badf00du);
    ASSERT_EQ(evict(*stack, {m}, VK_EVICT_ONLY_IF_NECESSARY_BIT_KMT | VK_EVICT_NOT_WRITTEN_TO_BIT_KMT).result,
              VK_SUCCESS);
    EXPECT_EQ(residency_of(*stack, m).status, VK_ALLOCATION_STATUS_EVICTED_KMT);
    ASSERT_EQ(make_resident(*stack, {m}).result, VK_SUCCESS);
    EXPECT_TRUE(holds_word(*stack, m, 4096, 0x0badf00du));
}

// ---- priorities ------------------------------------------------------------------------------

TEST_F(Residency, PriorityBandsMapMonotonicallyOntoTheDriverPriority)
{
    const uint32_t bands[] = {0u,
                              VK_RESIDENCY_PRIORITY_MINIMUM_KMT,
                              VK_RESIDENCY_PRIORITY_LOW_KMT,
                              VK_RESIDENCY_PRIORITY_NORMAL_KMT,
                              VK_RESIDENCY_PRIORITY_HIGH_KMT,
                              VK_RESIDENCY_PRIORITY_HIGH_KMT + 0x8000u,
                              VK_RESIDENCY_PRIORITY_MAXIMUM_KMT,
                              0xffffffffu};
    std::vector<float> seen;
    const float own = 0.123f;  // not any band's value: every band is a change the driver hears of
    for (uint32_t band : bands) {
        VkDeviceMemory m = stack->allocate(4096, UINT32_MAX, &own);
        ASSERT_EQ(set_residency_priority(*stack, {m}, {band}), VK_SUCCESS);
        std::vector<float> recorded = driver_priorities(*stack, m);
        ASSERT_EQ(recorded.size(), 1u) << "band 0x" << std::hex << band;
        EXPECT_EQ(residency_of(*stack, m).priority, band);
        seen.push_back(recorded[0]);
    }
    EXPECT_GT(seen[0], 0.0f) << "every residency priority is above an evicted allocation's 0.0";
    EXPECT_GT(seen[1], 0.0f);
    EXPECT_LT(seen[1], 0.05f) << "MINIMUM: just above 0.0";
    EXPECT_FLOAT_EQ(seen[3], 0.5f) << "NORMAL";
    EXPECT_FLOAT_EQ(seen[4], 0.7f) << "HIGH";
    EXPECT_FLOAT_EQ(seen[6], 1.0f) << "MAXIMUM";
    EXPECT_FLOAT_EQ(seen[7], 1.0f);
    for (size_t i = 1; i < seen.size(); i++) EXPECT_LE(seen[i - 1], seen[i]) << "monotonic at " << i;
    EXPECT_LT(seen[4], seen[5]) << "HIGH + n orders within the band";
    EXPECT_LT(seen[2], seen[3]);
}

TEST(ResidencyPriority, TheAppsOwnPriorityAppliesUntilAResidencyPriorityIsSetAndTheLaterOneWins)
{
    StackOptions o = residency_options();
    o.device_extensions.push_back(VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME);
    o.device_extensions.push_back(VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME);
    VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable = {};
    pageable.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT;
    pageable.pageableDeviceLocalMemory = VK_TRUE;
    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority = {};
    priority.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT;
    priority.pNext = &pageable;
    priority.memoryPriority = VK_TRUE;
    o.device_pnext = &priority;
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    auto set_app = reinterpret_cast<PFN_vkSetDeviceMemoryPriorityEXT>(s.device_proc("vkSetDeviceMemoryPriorityEXT"));
    ASSERT_NE(set_app, nullptr);

    const float own = 0.9f;
    VkDeviceMemory m = s.allocate(4096, UINT32_MAX, &own);
    ASSERT_EQ(evict(s, {m}).result, VK_SUCCESS);
    ASSERT_EQ(make_resident(s, {m}).result, VK_SUCCESS);
    EXPECT_EQ(driver_priorities(s, m), (std::vector<float>{0.0f, own})) << "no residency priority yet: the app's";

    ASSERT_EQ(set_residency_priority(s, {m}, {VK_RESIDENCY_PRIORITY_NORMAL_KMT}), VK_SUCCESS);
    EXPECT_EQ(driver_priorities(s, m).back(), 0.5f);
    set_app(s.device, m, 0.3f);
    EXPECT_EQ(driver_priorities(s, m).back(), 0.3f) << "the app's later priority wins";
    EXPECT_EQ(residency_of(s, m).priority, 0u);
    ASSERT_EQ(evict(s, {m}).result, VK_SUCCESS);
    ASSERT_EQ(make_resident(s, {m}).result, VK_SUCCESS);
    EXPECT_EQ(driver_priorities(s, m).back(), 0.3f) << "and comes back after an eviction";
    ASSERT_EQ(set_residency_priority(s, {m}, {VK_RESIDENCY_PRIORITY_HIGH_KMT}), VK_SUCCESS);
    EXPECT_EQ(driver_priorities(s, m).back(), 0.7f) << "a later residency priority wins again";
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST_F(Residency, APriorityGivenWhileEvictedAppliesAtMakeResident)
{
    VkDeviceMemory m = stack->allocate(4096);
    ASSERT_EQ(evict(*stack, {m}).result, VK_SUCCESS);
    ASSERT_EQ(set_residency_priority(*stack, {m}, {VK_RESIDENCY_PRIORITY_HIGH_KMT}), VK_SUCCESS);
    EXPECT_EQ(driver_priorities(*stack, m), std::vector<float>{0.0f}) << "evicted memory stays at 0.0";
    EXPECT_EQ(residency_of(*stack, m).priority, VK_RESIDENCY_PRIORITY_HIGH_KMT);
    ASSERT_EQ(make_resident(*stack, {m}).result, VK_SUCCESS);
    EXPECT_EQ(driver_priorities(*stack, m), (std::vector<float>{0.0f, 0.7f}));
}

TEST_F(Residency, MakeResidentSetsItsPrioritiesFirst)
{
    const float own = 0.25f;
    VkDeviceMemory a = stack->allocate(4096, UINT32_MAX, &own), b = stack->allocate(4096, UINT32_MAX, &own);
    ASSERT_EQ(evict(*stack, {a}).result, VK_SUCCESS);
    ASSERT_EQ(make_resident(*stack, {a, b}, 0, {VK_RESIDENCY_PRIORITY_MAXIMUM_KMT, VK_RESIDENCY_PRIORITY_NORMAL_KMT})
                  .result,
              VK_SUCCESS);
    EXPECT_EQ(driver_priorities(*stack, a), (std::vector<float>{0.0f, 1.0f})) << "evicted: made resident at MAXIMUM";
    EXPECT_EQ(driver_priorities(*stack, b), std::vector<float>{0.5f}) << "resident: re-prioritised";
    EXPECT_EQ(residency_of(*stack, b).count, 2u);
}

// ---- the budget ------------------------------------------------------------------------------

class ResidencyBudget : public StackTest {
 protected:
    StackOptions options() const override { return residency_options({{"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "2"}}); }
    void SetUp() override
    {
        StackTest::SetUp();
        ASSERT_EQ(stack->result(), VK_SUCCESS) << stack->failed_step();
        // Three 1 MiB allocations against a 2 MiB budget: the first two fit.
        for (auto& m : mem) m = stack->allocate(kMiB);
        ASSERT_EQ(video_memory(*stack).budget, 2 * kMiB * local_heaps());
    }
    uint32_t local_heaps() const
    {
        VkPhysicalDeviceMemoryProperties p = stack->memory_properties();
        uint32_t n = 0;
        for (uint32_t h = 0; h < p.memoryHeapCount; h++) n += (p.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
        return n;
    }
    VkDeviceMemory mem[3] = {};
};

TEST_F(ResidencyBudget, EvictReportsHowFarOverBudgetTheSegmentStillIs)
{
    ASSERT_EQ(local_heaps(), 1u) << "the figures below assume one device-local heap (lavapipe)";
    EXPECT_EQ(video_memory(*stack).currentUsage, 3 * kMiB);
    Evicted e = evict(*stack, {mem[0]});
    ASSERT_EQ(e.result, VK_SUCCESS);
    EXPECT_EQ(e.bytes_to_trim, 0u) << "2 MiB left: at the budget";
    ASSERT_EQ(make_resident(*stack, {mem[0]}, VK_MAKE_RESIDENT_CANT_TRIM_FURTHER_BIT_KMT |
                                                  VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT)
                  .result,
              VK_SUCCESS);
    ASSERT_EQ(make_resident(*stack, {mem[1]}).result, VK_SUCCESS) << "count 1 -> 2 adds no bytes";
    e = evict(*stack, {mem[1]});
    EXPECT_EQ(e.bytes_to_trim, kMiB) << "still resident (count 1): 1 MiB over";
}

TEST_F(ResidencyBudget, OverBudgetMakeResidentFailsWithTheExcessAndChangesNothing)
{
    ASSERT_EQ(local_heaps(), 1u);
    ASSERT_EQ(evict(*stack, {mem[1], mem[2]}).result, VK_SUCCESS);
    MadeResident r = make_resident(*stack, {mem[1]});
    ASSERT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(r.bytes_to_trim, 0u) << "2 MiB of 2";
    stack->clear_messages();
    r = make_resident(*stack, {mem[2], mem[0]}, 0, {VK_RESIDENCY_PRIORITY_HIGH_KMT, VK_RESIDENCY_PRIORITY_HIGH_KMT});
    EXPECT_EQ(r.result, VK_ERROR_OUT_OF_DEVICE_MEMORY);
    EXPECT_EQ(r.bytes_to_trim, kMiB);
    EXPECT_EQ(r.fence, 0u);
    ResidencyState st = residency_of(*stack, mem[2]);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_EVICTED_KMT);
    EXPECT_EQ(st.count, 0u);
    EXPECT_EQ(st.priority, 0u) << "not even the priorities were set";
    EXPECT_EQ(residency_of(*stack, mem[0]).count, 1u);
    EXPECT_EQ(video_memory(*stack).currentUsage, 2 * kMiB);
    EXPECT_TRUE(stack->validation_errors().empty());
}

TEST_F(ResidencyBudget, MustSucceedGoesOverBudgetAndReportsTheExcess)
{
    ASSERT_EQ(local_heaps(), 1u);
    ASSERT_EQ(evict(*stack, {mem[2]}).result, VK_SUCCESS);
    MadeResident r = make_resident(*stack, {mem[2]}, VK_MAKE_RESIDENT_CANT_TRIM_FURTHER_BIT_KMT |
                                                       VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT);
    ASSERT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(r.bytes_to_trim, kMiB);
    EXPECT_EQ(residency_of(*stack, mem[2]).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    ASSERT_EQ(evict(*stack, {mem[2]}).result, VK_SUCCESS);
    r = make_resident(*stack, {mem[2]}, VK_MAKE_RESIDENT_CANT_TRIM_FURTHER_BIT_KMT);
    EXPECT_EQ(r.result, VK_ERROR_OUT_OF_DEVICE_MEMORY) << "CANT_TRIM_FURTHER alone does not go over budget";
}

// ---- the query and the reservation -------------------------------------------------------------

VkDeviceSize
heap_sum(const VulkanStack& s, bool local, bool eighty_percent)
{
    VkPhysicalDeviceMemoryProperties p = s.memory_properties();
    VkDeviceSize sum = 0;
    for (uint32_t h = 0; h < p.memoryHeapCount; h++)
        if (((p.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0) == local)
            sum += eighty_percent ? p.memoryHeaps[h].size / 5 * 4 : p.memoryHeaps[h].size;
    return sum;
}

TEST(ResidencyQuery, BudgetAndUsageAreTheDriversWhenItHasVkExtMemoryBudget)
{
    VulkanStack s(residency_options({{"KMT_TEST_DRIVER_BUDGET_MB", "48"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    kmt_test_driver_control* td = s.driver();
    ASSERT_NE(td, nullptr);
    kmt_td_set_heap_usage(td, 12345);
    VkVideoMemoryInfoKMT info = video_memory(s);
    EXPECT_EQ(info.budget, 48 * kMiB);
    EXPECT_EQ(info.currentUsage, 12345u) << "the driver's heapUsage";
    EXPECT_EQ(info.availableForReservation, info.budget);
    EXPECT_EQ(info.currentReservation, 0u);
    // A change the app makes in between is seen by the next query.
    kmt_td_set_heap_budget(td, 40 * kMiB);
    EXPECT_EQ(video_memory(s).budget, 40 * kMiB);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST(ResidencyQuery, WithoutTheBudgetExtensionTheBudgetIsEightyPercentAndUsageTheLayersCount)
{
    VulkanStack s(residency_options({{"KMT_TEST_DRIVER_HIDE", "budget"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkVideoMemoryInfoKMT info = video_memory(s);
    EXPECT_EQ(info.budget, heap_sum(s, true, true));
    EXPECT_EQ(info.currentUsage, 0u);
    VkDeviceMemory m = s.allocate(3 * kMiB);
    EXPECT_EQ(video_memory(s).currentUsage, 3 * kMiB);
    ASSERT_EQ(evict(s, {m}).result, VK_SUCCESS);
    EXPECT_EQ(video_memory(s).currentUsage, 0u);
    VkVideoMemoryInfoKMT non_local = video_memory(s, VK_MEMORY_SEGMENT_GROUP_NON_LOCAL_KMT);
    EXPECT_EQ(non_local.budget, heap_sum(s, false, true));
}

TEST(ResidencyQuery, TheBudgetSettingOverridesTheDriverAndUsageIsTheLayersCount)
{
    VulkanStack s(residency_options({{"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "7"}, {"KMT_TEST_DRIVER_BUDGET_MB", "48"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    kmt_td_set_heap_usage(s.driver(), 999999);
    VkDeviceMemory m = s.allocate(kMiB);
    (void)m;
    VkVideoMemoryInfoKMT info = video_memory(s);
    EXPECT_EQ(info.budget, 7 * kMiB);
    EXPECT_EQ(info.currentUsage, kMiB);
}

TEST(ResidencyQuery, TheReservationIsKeptAndReportedCappedAtTheBudget)
{
    VulkanStack s(residency_options({{"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "8"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    ResidencyApi api(s);
    ASSERT_EQ(api.set_reservation(s.device, VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT, 3 * kMiB), VK_SUCCESS);
    EXPECT_EQ(video_memory(s).currentReservation, 3 * kMiB);
    ASSERT_EQ(api.set_reservation(s.device, VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT, 100 * kMiB), VK_SUCCESS);
    EXPECT_EQ(video_memory(s).currentReservation, 8 * kMiB);
    EXPECT_EQ(video_memory(s, VK_MEMORY_SEGMENT_GROUP_NON_LOCAL_KMT).currentReservation, 0u);
}

TEST(ResidencyQuery, AnUnknownSegmentGroupIsAValidationError)
{
    VulkanStack s(residency_options());
    ASSERT_EQ(s.result(), VK_SUCCESS);
    ResidencyApi api(s);
    VkVideoMemoryInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_VIDEO_MEMORY_INFO_KMT;
    info.budget = 42;
    s.clear_messages();
    EXPECT_EQ(api.query(s.device, static_cast<VkMemorySegmentGroupKMT>(7), &info), VK_ERROR_VALIDATION_FAILED_EXT);
    EXPECT_EQ(info.budget, 42u);
    EXPECT_EQ(api.set_reservation(s.device, static_cast<VkMemorySegmentGroupKMT>(2), 1), VK_ERROR_VALIDATION_FAILED_EXT);
    auto messages = s.messages_with_id("KMT-segment-group");
    ASSERT_EQ(messages.size(), 2u) << describe(s.messages());
    EXPECT_NE(messages[0].text.find("segmentGroup 7"), std::string::npos) << messages[0].text;
    info.sType = VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT;
    EXPECT_EQ(api.query(s.device, VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT, &info), VK_ERROR_VALIDATION_FAILED_EXT);
    EXPECT_EQ(api.query(s.device, VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT, nullptr), VK_ERROR_VALIDATION_FAILED_EXT);
}

// ---- the paging fence ------------------------------------------------------------------------

TEST(ResidencyPagingFence, MakeResidentReturnsTheFenceOfPagingWorkStillQueuedElseZero)
{
    VulkanStack s(residency_options({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"},
                                     {"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    const uint32_t device_only = s.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    ASSERT_NE(device_only, UINT32_MAX);
    VkDeviceMemory m = s.allocate(1 << 16, device_only);
    uint64_t queued = 0;
    {
        QueueGate gate(s);  // holds the (shared) paging queue: the discard's GPU fill stays queued
        ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT), VK_SUCCESS);
        Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{m});
        ASSERT_EQ(r.results[0], VK_RECLAIM_RESULT_DISCARDED_KMT);
        ASSERT_GT(r.fence, 0u);
        queued = r.fence;
        ASSERT_EQ(evict(s, {m}).result, VK_SUCCESS);
        MadeResident made = make_resident(s, {m});
        ASSERT_EQ(made.result, VK_SUCCESS);
        EXPECT_EQ(made.fence, queued) << "the fill is still queued: the app must wait for it";
    }
    ASSERT_EQ(vkDeviceWaitIdle(s.device), VK_SUCCESS);
    ASSERT_EQ(evict(s, {m}).result, VK_SUCCESS);
    EXPECT_EQ(make_resident(s, {m}).fence, 0u) << "nothing queued any more";
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

// ---- on lavapipe alone (no test driver) ----------------------------------------------------------

TEST(ResidencyRealDriver, CountsBudgetAndContentsOnTheDriverItself)
{
    StackOptions o = residency_options({}, true, Stack::Lvp);
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    VkDeviceMemory m = s.allocate(kMiB);
    write_words(s, m, kMiB, 0x77777777u);
    ASSERT_EQ(evict(s, {m}).result, VK_SUCCESS);
    ResidencyState st = residency_of(s, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_EVICTED_KMT);
    ASSERT_EQ(make_resident(s, {m}).result, VK_SUCCESS);
    EXPECT_TRUE(holds_word(s, m, kMiB, 0x77777777u));
    VkVideoMemoryInfoKMT info = video_memory(s);
    EXPECT_GT(info.budget, 0u);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

}  // namespace
}  // namespace kmt

// SPDX-License-Identifier: MIT
// The offer/reclaim contract of DESIGN.md ("Semantics"), one test per rule,
// through the real loader, the layer, validation, the test driver and lavapipe.
#include <dlfcn.h>

#include <functional>
#include <string>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

class OfferReclaim : public StackTest {
 protected:
    VkDeviceMemory memory(VkDeviceSize size = 4096) { return stack->allocate(size); }
};

// ---- states and driver priorities -------------------------------------------------

TEST_F(OfferReclaim, OfferByMemoryDemotesAndReclaimRestoresTheDefaultPriority)
{
    VkDeviceMemory m = memory();
    ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    VkAllocationStateKMT st = state_of(*stack, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(st.offerPriority, VK_OFFER_PRIORITY_LOW_KMT);
    EXPECT_EQ(st.offerFlags, (VkOfferFlagsKMT)VK_OFFER_IMMEDIATELY_BIT_KMT);
    EXPECT_EQ(st.driverPriority, 0.0f);
    EXPECT_EQ(st.driverPriorityApplied, VK_TRUE);
    EXPECT_EQ(st.size, 4096u);

    Reclaimed r = reclaim(*stack, std::vector<VkDeviceMemory>{m});
    ASSERT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(r.discarded[0], VK_FALSE);
    EXPECT_EQ(r.fence, 0u);
    st = state_of(*stack, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(st.offerPriority, 0);
    EXPECT_EQ(st.driverPriority, 0.5f);
    EXPECT_EQ(driver_priorities(*stack, m), (std::vector<float>{0.0f, 0.5f}));
}

TEST_F(OfferReclaim, OfferByBufferActsOnItsBoundMemory)
{
    VkBuffer buffer;
    VkDeviceMemory m = stack->create_bound_buffer(4096, &buffer);
    ASSERT_EQ(offer(*stack, {buffer_resource(buffer)}, VK_OFFER_PRIORITY_HIGH_KMT), VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(state_of(*stack, m).offerPriority, VK_OFFER_PRIORITY_HIGH_KMT);
    Reclaimed r = reclaim(*stack, std::vector<VkOfferResourceKMT>{buffer_resource(buffer)});
    ASSERT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(driver_priorities(*stack, m), (std::vector<float>{0.0f, 0.5f}));
}

TEST_F(OfferReclaim, OfferByImageActsOnItsBoundMemory)
{
    VkImage image;
    VkDeviceMemory m = stack->create_bound_image(16, 16, &image);
    ASSERT_EQ(offer(*stack, {image_resource(image)}, VK_OFFER_PRIORITY_NORMAL_KMT), VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    Reclaimed r = reclaim(*stack, std::vector<VkOfferResourceKMT>{image_resource(image)});
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

TEST_F(OfferReclaim, ResourcesSharingOneMemoryAreOfferedTogetherOnce)
{
    VkDeviceMemory m = memory(1 << 16);
    VkBuffer a = stack->create_buffer(1024), b = stack->create_buffer(1024);
    ASSERT_EQ(vkBindBufferMemory(stack->device, a, m, 0), VK_SUCCESS);
    ASSERT_EQ(vkBindBufferMemory(stack->device, b, m, 4096), VK_SUCCESS);
    ASSERT_EQ(offer(*stack, {buffer_resource(a), buffer_resource(b)}), VK_SUCCESS);
    EXPECT_TRUE(stack->messages_with_id("KMT-reoffer").empty()) << "one memory listed twice through resources";
    EXPECT_EQ(driver_priorities(*stack, m), (std::vector<float>{0.0f}));
    Reclaimed r = reclaim(*stack, std::vector<VkOfferResourceKMT>{buffer_resource(a), buffer_resource(b)});
    EXPECT_EQ(r.results, (std::vector<VkReclaimResultKMT>{VK_RECLAIM_RESULT_OK_KMT, VK_RECLAIM_RESULT_OK_KMT}));
    EXPECT_EQ(driver_priorities(*stack, m), (std::vector<float>{0.0f, 0.5f}));
}

TEST_F(OfferReclaim, ReclaimingASubsetOfSharingResourcesMakesTheMemoryResident)
{
    VkDeviceMemory m = memory(1 << 16);
    VkBuffer a = stack->create_buffer(1024), b = stack->create_buffer(1024);
    ASSERT_EQ(vkBindBufferMemory(stack->device, a, m, 0), VK_SUCCESS);
    ASSERT_EQ(vkBindBufferMemory(stack->device, b, m, 4096), VK_SUCCESS);
    ASSERT_EQ(offer(*stack, {buffer_resource(a), buffer_resource(b)}), VK_SUCCESS);
    Reclaimed r = reclaim(*stack, std::vector<VkOfferResourceKMT>{buffer_resource(b)});
    EXPECT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

TEST_F(OfferReclaim, ReclaimOfMemoryNeverOfferedIsOkWithFenceZero)
{
    VkDeviceMemory m = memory();
    Reclaimed r = reclaim(*stack, std::vector<VkDeviceMemory>{m});
    ASSERT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(r.discarded[0], VK_FALSE);
    EXPECT_EQ(r.fence, 0u);
    EXPECT_TRUE(driver_priorities(*stack, m).empty()) << "nothing to restore";
}

TEST_F(OfferReclaim, ReofferReprioritisesWithAWarning)
{
    VkDeviceMemory m = memory();
    ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_HIGH_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT),
              VK_SUCCESS);
    VkAllocationStateKMT st = state_of(*stack, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(st.offerPriority, VK_OFFER_PRIORITY_HIGH_KMT);
    EXPECT_EQ(st.offerFlags, (VkOfferFlagsKMT)(VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT));
    auto warnings = stack->messages_with_id("KMT-reoffer");
    ASSERT_EQ(warnings.size(), 1u) << describe(stack->messages());
    EXPECT_EQ(warnings[0].severity, VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT);
    EXPECT_EQ(driver_priorities(*stack, m), (std::vector<float>{0.0f})) << "demoted once";
}

TEST_F(OfferReclaim, OfferWithoutImmediatelyTakesEffectAtOnceWhenNoWorkIsPending)
{
    VkDeviceMemory m = memory();
    ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_NORMAL_KMT, 0), VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
}

TEST_F(OfferReclaim, DeferredOfferWaitsForEarlierGpuWorkWithoutBlocking)
{
    VkDeviceMemory m = memory();
    QueueGate gate(*stack);
    ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_NORMAL_KMT, 0), VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    EXPECT_EQ(state_of(*stack, m).driverPriority, 0.5f) << "not demoted while pending";
    EXPECT_TRUE(driver_priorities(*stack, m).empty());
    gate.open();
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(driver_priorities(*stack, m), (std::vector<float>{0.0f}));
}

TEST_F(OfferReclaim, OfferImmediatelyIgnoresPendingWork)
{
    VkDeviceMemory m = memory();
    QueueGate gate(*stack);
    ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_NORMAL_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT), VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    gate.open();
}

TEST_F(OfferReclaim, ReclaimOfAPendingOfferIsOkAndNeverTouchesTheDriverPriority)
{
    VkDeviceMemory m = memory();
    QueueGate gate(*stack);
    ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_NORMAL_KMT, 0), VK_SUCCESS);
    Reclaimed r = reclaim(*stack, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(r.fence, 0u);
    gate.open();
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_RESIDENT_KMT) << "completion must not re-offer it";
    EXPECT_TRUE(driver_priorities(*stack, m).empty());
}

TEST_F(OfferReclaim, ResultArraysAreOptional)
{
    VkDeviceMemory m = memory();
    ASSERT_EQ(offer(*stack, {m}), VK_SUCCESS);
    VkReclaimAllocationsInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT;
    info.allocationCount = 1;
    info.pMemories = &m;
    EXPECT_EQ(stack->reclaim(stack->device, &info, nullptr), VK_SUCCESS) << "both outputs and the fence may be NULL";
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_RESIDENT_KMT);

    ASSERT_EQ(offer(*stack, {m}), VK_SUCCESS);
    VkBool32 discarded = 7;
    info.pDiscarded = &discarded;
    uint64_t fence = 5;
    EXPECT_EQ(stack->reclaim(stack->device, &info, &fence), VK_SUCCESS);
    EXPECT_EQ(discarded, VK_FALSE) << "the older BOOL form alone";
    EXPECT_EQ(fence, 0u);
}

TEST_F(OfferReclaim, PagingFenceIsATimelineSemaphoreOwnedByTheLayer)
{
    VkSemaphore paging = VK_NULL_HANDLE;
    ASSERT_EQ(stack->get_paging_fence(stack->device, &paging), VK_SUCCESS);
    ASSERT_NE(paging, VK_NULL_HANDLE);
    uint64_t value = UINT64_MAX;
    EXPECT_EQ(vkGetSemaphoreCounterValue(stack->device, paging, &value), VK_SUCCESS);
    EXPECT_EQ(value, 0u);
    VkSemaphore again = VK_NULL_HANDLE;
    EXPECT_EQ(stack->get_paging_fence(stack->device, &again), VK_SUCCESS);
    EXPECT_EQ(again, paging);
}

TEST_F(OfferReclaim, MappingOfferedMemoryIsRefusedAndReported)
{
    VkDeviceMemory m = memory();
    ASSERT_EQ(offer(*stack, {m}), VK_SUCCESS);
    void* data = nullptr;
    EXPECT_EQ(vkMapMemory(stack->device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_ERROR_MEMORY_MAP_FAILED);
    auto errors = stack->messages_with_id("KMT-map-not-resident");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].text.find("reclaim"), std::string::npos);
    reclaim(*stack, std::vector<VkDeviceMemory>{m});
    ASSERT_EQ(vkMapMemory(stack->device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    vkUnmapMemory(stack->device, m);
}

TEST_F(OfferReclaim, BindingOfferedMemoryIsReportedButAllowed)
{
    VkDeviceMemory m = memory(1 << 16);
    ASSERT_EQ(offer(*stack, {m}), VK_SUCCESS);
    VkBuffer b = stack->create_buffer(1024);
    EXPECT_EQ(vkBindBufferMemory(stack->device, b, m, 0), VK_SUCCESS);
    auto warnings = stack->messages_with_id("KMT-bind-offered");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0].severity, VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT);
}

TEST_F(OfferReclaim, UnmappingMakesMemoryOfferableAgain)
{
    VkDeviceMemory m = memory();
    void* data = nullptr;
    ASSERT_EQ(vkMapMemory(stack->device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    EXPECT_EQ(offer(*stack, {m}), VK_ERROR_VALIDATION_FAILED_EXT);
    vkUnmapMemory(stack->device, m);
    EXPECT_EQ(offer(*stack, {m}), VK_SUCCESS);
}

TEST_F(OfferReclaim, FreeingOfferedMemoryWorks)
{
    VkDeviceMemory m = memory();
    ASSERT_EQ(offer(*stack, {m}), VK_SUCCESS);
    stack->free_memory(m);
    VkDeviceMemory n = memory();
    EXPECT_EQ(status_of(*stack, n), VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

// ---- the app's own priority ----------------------------------------------------------

class OfferReclaimAppPriority : public StackTest {
 protected:
    StackOptions options() const override
    {
        StackOptions o;
        o.device_extensions = {VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME, VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME};
        return o;
    }
    void set_priority(VkDeviceMemory m, float p)
    {
        auto fn = reinterpret_cast<PFN_vkSetDeviceMemoryPriorityEXT>(stack->device_proc("vkSetDeviceMemoryPriorityEXT"));
        ASSERT_NE(fn, nullptr);
        fn(stack->device, m, p);
    }
};

TEST_F(OfferReclaimAppPriority, ReclaimRestoresThePriorityGivenAtAllocation)
{
    float p = 0.8f;
    VkDeviceMemory m = stack->allocate(4096, UINT32_MAX, &p);
    ASSERT_EQ(offer(*stack, {m}), VK_SUCCESS);
    reclaim(*stack, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(driver_priorities(*stack, m, true), (std::vector<float>{0.8f, 0.0f, 0.8f}));
    EXPECT_EQ(state_of(*stack, m).driverPriority, 0.8f);
}

TEST_F(OfferReclaimAppPriority, APrioritySetWhileOfferedIsRememberedAndAppliedAtReclaim)
{
    VkDeviceMemory m = stack->allocate(4096);
    set_priority(m, 0.3f);
    ASSERT_EQ(offer(*stack, {m}), VK_SUCCESS);
    set_priority(m, 0.9f);
    EXPECT_EQ(state_of(*stack, m).driverPriority, 0.0f) << "still demoted";
    reclaim(*stack, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(driver_priorities(*stack, m), (std::vector<float>{0.3f, 0.0f, 0.9f}));
    EXPECT_EQ(state_of(*stack, m).driverPriority, 0.9f);
}

TEST_F(OfferReclaimAppPriority, AutoPriorityFollowsTheAppPriority)
{
    float low = 0.1f, normal = 0.5f, high = 0.9f;
    VkDeviceMemory a = stack->allocate(4096, UINT32_MAX, &low);
    VkDeviceMemory b = stack->allocate(4096, UINT32_MAX, &normal);
    VkDeviceMemory c = stack->allocate(4096, UINT32_MAX, &high);
    ASSERT_EQ(offer(*stack, {a, b, c}, VK_OFFER_PRIORITY_AUTO_KMT), VK_SUCCESS);
    EXPECT_EQ(state_of(*stack, a).offerPriority, VK_OFFER_PRIORITY_LOW_KMT);
    EXPECT_EQ(state_of(*stack, b).offerPriority, VK_OFFER_PRIORITY_NORMAL_KMT);
    EXPECT_EQ(state_of(*stack, c).offerPriority, VK_OFFER_PRIORITY_HIGH_KMT);
}

TEST_F(OfferReclaimAppPriority, OfferedPrioritySettingIsWhatTheDriverGets)
{
    stack.reset();
    StackOptions o = options();
    o.env = {{"VK_KMT_OFFER_RECLAIM_OFFERED_PRIORITY", "0.25"}};
    stack = std::make_unique<VulkanStack>(o);
    ASSERT_EQ(stack->result(), VK_SUCCESS);
    VkDeviceMemory m = stack->allocate(4096);
    ASSERT_EQ(offer(*stack, {m}), VK_SUCCESS);
    reclaim(*stack, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(driver_priorities(*stack, m), (std::vector<float>{0.25f, 0.5f}));
}

TEST_F(OfferReclaimAppPriority, SetDeviceMemoryPriorityIsHiddenFromAppsThatDidNotEnableIt)
{
    VulkanStack other;  // default options: only VK_KMT_offer_reclaim
    ASSERT_EQ(other.result(), VK_SUCCESS);
    EXPECT_EQ(other.device_proc("vkSetDeviceMemoryPriorityEXT"), nullptr);
    EXPECT_NE(stack->device_proc("vkSetDeviceMemoryPriorityEXT"), nullptr);
}

// ---- drivers without pageable memory -----------------------------------------------------

class OfferReclaimWithoutPageable : public StackTest {
 protected:
    StackOptions options() const override
    {
        StackOptions o;
        o.env = {{"KMT_TEST_DRIVER_HIDE", "pageable"}};
        return o;
    }
};

TEST_F(OfferReclaimWithoutPageable, EverythingWorksAndTheStateSaysDemotionIsUnavailable)
{
    VkDeviceMemory m = stack->allocate(4096);
    ASSERT_EQ(offer(*stack, {m}), VK_SUCCESS);
    VkAllocationStateKMT st = state_of(*stack, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(st.driverPriorityApplied, VK_FALSE);
    EXPECT_EQ(st.driverPriority, 0.5f) << "the driver kept its allocation priority";
    Reclaimed r = reclaim(*stack, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_TRUE(driver_priorities(*stack, m).empty());
}

TEST(OfferReclaimOnLavapipe, WorksWithoutTheTestDriver)
{
    StackOptions o;
    o.stack = Stack::Lvp;
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    VkDeviceMemory m = s.allocate(4096);
    ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
    VkAllocationStateKMT st = state_of(s, m);
    EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(st.driverPriorityApplied, VK_FALSE);
    Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

// ---- device loss ----------------------------------------------------------------------------

TEST_F(OfferReclaim, AfterDeviceLossOfferAndReclaimReturnItAndEveryResultIsDiscarded)
{
    VkDeviceMemory a = memory(), b = memory();
    ASSERT_EQ(offer(*stack, {a}), VK_SUCCESS);
    stack->driver()->lose_device = true;
    VkSubmitInfo submit = {};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    EXPECT_EQ(vkQueueSubmit(stack->queue, 1, &submit, VK_NULL_HANDLE), VK_ERROR_DEVICE_LOST);
    EXPECT_EQ(offer(*stack, {b}), VK_ERROR_DEVICE_LOST);
    Reclaimed r = reclaim(*stack, std::vector<VkDeviceMemory>{a, b});
    EXPECT_EQ(r.result, VK_ERROR_DEVICE_LOST);
    EXPECT_EQ(r.results, (std::vector<VkReclaimResultKMT>{VK_RECLAIM_RESULT_DISCARDED_KMT,
                                                          VK_RECLAIM_RESULT_DISCARDED_KMT}));
    EXPECT_EQ(r.discarded, (std::vector<VkBool32>{VK_TRUE, VK_TRUE}));
    stack->driver()->lose_device = false;
}

// ---- pass-through ---------------------------------------------------------------------------

static std::string
library_of(PFN_vkVoidFunction fn)
{
    Dl_info info = {};
    if (!fn || !dladdr(reinterpret_cast<void*>(fn), &info) || !info.dli_fname)
        return "";
    return info.dli_fname;
}

TEST(PassThrough, ADeviceWithoutTheExtensionGetsTheNextLayersFunctions)
{
    StackOptions o;
    o.enable_extension = false;
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS);
    for (const char* name : {"vkQueueSubmit", "vkAllocateMemory", "vkFreeMemory", "vkMapMemory",
                             "vkBindBufferMemory", "vkCmdDraw", "vkCmdCopyBuffer", "vkQueueSubmit2"}) {
        std::string lib = library_of(s.device_proc(name));
        EXPECT_NE(lib, "") << name;
        EXPECT_EQ(lib.find("libVkLayer_kmt_offer_reclaim"), std::string::npos) << name << " comes from " << lib;
    }
    for (const char* name : {"vkOfferAllocationsKMT", "vkReclaimAllocationsKMT", "vkGetPagingFenceKMT",
                             "vkGetAllocationStateKMT"})
        EXPECT_EQ(s.device_proc(name), nullptr) << name;
}

TEST(PassThrough, AnEnabledDeviceHooksMemoryAndSubmitsButNeverCommandRecording)
{
    VulkanStack s;
    ASSERT_EQ(s.result(), VK_SUCCESS);
    for (const char* name : {"vkQueueSubmit", "vkAllocateMemory", "vkFreeMemory", "vkOfferAllocationsKMT"})
        EXPECT_NE(library_of(s.device_proc(name)).find("libVkLayer_kmt_offer_reclaim"), std::string::npos) << name;
    for (const char* name : {"vkCmdDraw", "vkCmdCopyBuffer", "vkBeginCommandBuffer", "vkCmdPipelineBarrier"})
        EXPECT_EQ(library_of(s.device_proc(name)).find("libVkLayer_kmt_offer_reclaim"), std::string::npos) << name;
}

}  // namespace
}  // namespace kmt

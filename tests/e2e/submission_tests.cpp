// SPDX-License-Identifier: MIT
// Submission tracking (DESIGN.md "Deferred offers", README "Decisions"): every
// vkQueueSubmit, vkQueueSubmit2 and vkQueueBindSparse of a device that enabled
// the extension goes down untouched and is counted; a deferred offer makes the
// layer submit a marker batch after it. The app's own semaphores, values and
// fences behave exactly as without the layer, and every kind of submission
// makes a deferred offer wait. (Idle waits, fence reuse, several queues and
// teardown: reliability_tests.cpp.)
#include "kmt_calls.hpp"

namespace kmt {
namespace {

VkSemaphore
make_semaphore(VulkanStack& s, VkSemaphoreType type)
{
    VkSemaphoreTypeCreateInfo t = {VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO, nullptr, type, 0};
    VkSemaphoreCreateInfo info = {VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, &t, 0};
    VkSemaphore sem = VK_NULL_HANDLE;
    EXPECT_EQ(vkCreateSemaphore(s.device, &info, nullptr, &sem), VK_SUCCESS);
    return sem;
}

class Submission : public StackTest {
 protected:
    // An offer made now stays pending until the host signals `gate` to 1.
    void expect_pending_until_signalled(VkSemaphore gate)
    {
        VkDeviceMemory m = stack->allocate(4096);
        ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
        EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
        VkSemaphoreSignalInfo signal = {VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO, nullptr, gate, 1};
        ASSERT_EQ(vkSignalSemaphore(stack->device, &signal), VK_SUCCESS);
        ASSERT_EQ(vkQueueWaitIdle(stack->queue), VK_SUCCESS);
        EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
        vkDestroySemaphore(stack->device, gate, nullptr);
    }
};

TEST_F(Submission, TheAppsTimelineAndBinarySemaphoresKeepTheirValues)
{
    VkSemaphore timeline = make_semaphore(*stack, VK_SEMAPHORE_TYPE_TIMELINE);
    VkSemaphore binary = make_semaphore(*stack, VK_SEMAPHORE_TYPE_BINARY);
    // Batch 1 signals timeline=5 and the binary; batch 2 waits both, signals 7.
    uint64_t signal1[] = {5, 0};
    VkSemaphore signals1[] = {timeline, binary};
    VkTimelineSemaphoreSubmitInfo v1 = {};
    v1.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
    v1.signalSemaphoreValueCount = 2;
    v1.pSignalSemaphoreValues = signal1;
    uint64_t wait2[] = {5, 0}, signal2 = 7;
    VkSemaphore waits2[] = {timeline, binary};
    VkPipelineStageFlags stages[] = {VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT};
    VkTimelineSemaphoreSubmitInfo v2 = {};
    v2.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
    v2.waitSemaphoreValueCount = 2;
    v2.pWaitSemaphoreValues = wait2;
    v2.signalSemaphoreValueCount = 1;
    v2.pSignalSemaphoreValues = &signal2;
    VkSubmitInfo batches[2] = {};
    batches[0].sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    batches[0].pNext = &v1;
    batches[0].signalSemaphoreCount = 2;
    batches[0].pSignalSemaphores = signals1;
    batches[1].sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    batches[1].pNext = &v2;
    batches[1].waitSemaphoreCount = 2;
    batches[1].pWaitSemaphores = waits2;
    batches[1].pWaitDstStageMask = stages;
    batches[1].signalSemaphoreCount = 1;
    batches[1].pSignalSemaphores = &timeline;
    VkFenceCreateInfo fci = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, nullptr, 0};
    VkFence fence;
    ASSERT_EQ(vkCreateFence(stack->device, &fci, nullptr, &fence), VK_SUCCESS);
    ASSERT_EQ(vkQueueSubmit(stack->queue, 2, batches, fence), VK_SUCCESS);
    ASSERT_EQ(vkWaitForFences(stack->device, 1, &fence, VK_TRUE, UINT64_MAX), VK_SUCCESS);
    uint64_t value = 0;
    ASSERT_EQ(vkGetSemaphoreCounterValue(stack->device, timeline, &value), VK_SUCCESS);
    EXPECT_EQ(value, 7u);
    vkDestroyFence(stack->device, fence, nullptr);
    vkDestroySemaphore(stack->device, timeline, nullptr);
    vkDestroySemaphore(stack->device, binary, nullptr);
}

TEST_F(Submission, AnEmptySubmitWithOnlyAFenceStillSignalsIt)
{
    VkFenceCreateInfo fci = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, nullptr, 0};
    VkFence fence;
    ASSERT_EQ(vkCreateFence(stack->device, &fci, nullptr, &fence), VK_SUCCESS);
    ASSERT_EQ(vkQueueSubmit(stack->queue, 0, nullptr, fence), VK_SUCCESS);
    EXPECT_EQ(vkWaitForFences(stack->device, 1, &fence, VK_TRUE, 5'000'000'000ull), VK_SUCCESS);
    VkDeviceMemory m = stack->allocate(4096);
    ASSERT_EQ(vkQueueWaitIdle(stack->queue), VK_SUCCESS);
    ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    vkDestroyFence(stack->device, fence, nullptr);
}

class Submission2 : public Submission {
 protected:
    StackOptions options() const override
    {
        StackOptions o;
        o.device_pnext = &features13;
        return o;
    }
    static VkPhysicalDeviceVulkan13Features features13;
};

VkPhysicalDeviceVulkan13Features Submission2::features13 = [] {
    VkPhysicalDeviceVulkan13Features f = {};
    f.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES;
    f.synchronization2 = VK_TRUE;
    return f;
}();

TEST_F(Submission2, QueueSubmit2IsTrackedForDeferredOffers)
{
    VkSemaphore gate = make_semaphore(*stack, VK_SEMAPHORE_TYPE_TIMELINE);
    VkSemaphoreSubmitInfo wait = {};
    wait.sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO;
    wait.semaphore = gate;
    wait.value = 1;
    wait.stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT;
    VkSubmitInfo2 submit = {};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2;
    submit.waitSemaphoreInfoCount = 1;
    submit.pWaitSemaphoreInfos = &wait;
    ASSERT_EQ(vkQueueSubmit2(stack->queue, 1, &submit, VK_NULL_HANDLE), VK_SUCCESS);
    expect_pending_until_signalled(gate);
}

// An app at 1.0 has no timeline semaphores of its own: the layer enables
// VK_KHR_timeline_semaphore underneath for its tracking. The gate here is an
// event the host sets.
TEST(SubmissionAtApi10, DeferredOffersWaitForEarlierWork)
{
    StackOptions o;
    o.api_version = VK_API_VERSION_1_0;
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    VkEventCreateInfo eci = {VK_STRUCTURE_TYPE_EVENT_CREATE_INFO, nullptr, 0};
    VkEvent event;
    ASSERT_EQ(vkCreateEvent(s.device, &eci, nullptr, &event), VK_SUCCESS);
    VkCommandBuffer cb = s.begin_commands();
    vkCmdWaitEvents(cb, 1, &event, VK_PIPELINE_STAGE_HOST_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, nullptr, 0, nullptr,
                    0, nullptr);
    ASSERT_EQ(vkEndCommandBuffer(cb), VK_SUCCESS);
    VkSubmitInfo submit = {};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &cb;
    ASSERT_EQ(vkQueueSubmit(s.queue, 1, &submit, VK_NULL_HANDLE), VK_SUCCESS);
    VkDeviceMemory m = s.allocate(4096);
    ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    ASSERT_EQ(vkSetEvent(s.device, event), VK_SUCCESS);
    ASSERT_EQ(vkQueueWaitIdle(s.queue), VK_SUCCESS);
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    vkDestroyEvent(s.device, event, nullptr);
    s.destroy();
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST_F(Submission, BindSparseIsTrackedWhereTheQueueSupportsIt)
{
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(stack->physical_device, &count, nullptr);
    std::vector<VkQueueFamilyProperties> families(count);
    vkGetPhysicalDeviceQueueFamilyProperties(stack->physical_device, &count, families.data());
    if (!(families[stack->queue_family].queueFlags & VK_QUEUE_SPARSE_BINDING_BIT))
        GTEST_SKIP() << "the queue has no sparse binding (lavapipe)";
    VkSemaphore gate = make_semaphore(*stack, VK_SEMAPHORE_TYPE_TIMELINE);
    uint64_t one = 1;
    VkTimelineSemaphoreSubmitInfo values = {};
    values.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
    values.waitSemaphoreValueCount = 1;
    values.pWaitSemaphoreValues = &one;
    VkBindSparseInfo bind = {};
    bind.sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO;
    bind.pNext = &values;
    bind.waitSemaphoreCount = 1;
    bind.pWaitSemaphores = &gate;
    ASSERT_EQ(vkQueueBindSparse(stack->queue, 1, &bind, VK_NULL_HANDLE), VK_SUCCESS);
    expect_pending_until_signalled(gate);
}

}  // namespace
}  // namespace kmt

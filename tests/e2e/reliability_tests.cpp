// SPDX-License-Identifier: MIT
// Reliability of submission tracking (issue 16 items 1, 2, 6 and 7; issue 12
// item 4): legal sequences and app mistakes that must neither crash, leave
// the layer's own GPU work pending at teardown, nor make a deferred offer take
// effect before the GPU work it waits for is done.
//
//   Teardown      vkDestroyDevice right after a deferred offer: the layer's
//                 marker batch must not be pending when its semaphore goes.
//   MultipleQueues  a family with two queues (the test driver emulates the
//                 second one on lavapipe, KMT_TEST_DRIVER_QUEUE_COUNT=2): every
//                 queue is tracked from vkCreateDevice on, whichever host
//                 allocation fails.
//   IdleWaits     vkQueueWaitIdle / vkDeviceWaitIdle add no driver call when
//                 no offer waits (counted by the test driver).
//   FillTypeIndex a memoryTypeIndex >= 32 that the driver accepted.
//   FenceReuse    a fence reset and resubmitted while another thread waits on it.
#include <vulkan/vk_enum_string_helper.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

// ---- host allocation callbacks that fail the N-th call --------------------

class FailingAllocator {
 public:
    FailingAllocator()
    {
        callbacks_.pUserData = this;
        callbacks_.pfnAllocation = &Allocate;
        callbacks_.pfnReallocation = &Reallocate;
        callbacks_.pfnFree = &Free;
    }
    const VkAllocationCallbacks* callbacks() const { return &callbacks_; }
    // The n-th allocation from now (0-based) fails; n < 0: none.
    void fail_at(long n)
    {
        std::lock_guard<std::mutex> g(lock_);
        countdown_ = n;
        failed_ = false;
    }
    bool failed() const
    {
        std::lock_guard<std::mutex> g(lock_);
        return failed_;
    }
    size_t live() const
    {
        std::lock_guard<std::mutex> g(lock_);
        return live_.size();
    }

 private:
    bool fails_now()
    {
        if (countdown_ == 0) {
            countdown_ = -1;
            failed_ = true;
            return true;
        }
        if (countdown_ > 0)
            countdown_--;
        return false;
    }
    void* take(size_t size, size_t alignment)
    {
        void* p = nullptr;
        if (posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment, size ? size : 1) != 0)
            return nullptr;
        live_[p] = size;
        return p;
    }
    static void* VKAPI_PTR Allocate(void* user, size_t size, size_t alignment, VkSystemAllocationScope)
    {
        auto* self = static_cast<FailingAllocator*>(user);
        std::lock_guard<std::mutex> g(self->lock_);
        return self->fails_now() ? nullptr : self->take(size, alignment);
    }
    static void* VKAPI_PTR Reallocate(void* user, void* original, size_t size, size_t alignment,
                                      VkSystemAllocationScope)
    {
        auto* self = static_cast<FailingAllocator*>(user);
        std::lock_guard<std::mutex> g(self->lock_);
        if (original && size == 0) {
            self->release(original);
            return nullptr;
        }
        if (self->fails_now())
            return nullptr;
        void* p = self->take(size, alignment);
        auto it = original ? self->live_.find(original) : self->live_.end();
        if (p && it != self->live_.end()) {
            std::memcpy(p, original, std::min(size, it->second));
            self->release(original);
        }
        return p;
    }
    static void VKAPI_PTR Free(void* user, void* p)
    {
        auto* self = static_cast<FailingAllocator*>(user);
        std::lock_guard<std::mutex> g(self->lock_);
        if (p)
            self->release(p);
    }
    void release(void* p)
    {
        auto it = live_.find(p);
        if (it == live_.end())
            return;
        live_.erase(it);
        std::free(p);
    }

    VkAllocationCallbacks callbacks_{};
    mutable std::mutex lock_;
    std::unordered_map<void*, size_t> live_;
    long countdown_ = -1;
    bool failed_ = false;
};

// ---- a device the test makes itself -----------------------------------------

struct OwnDevice {
    VkDevice device = VK_NULL_HANDLE;
    std::vector<VkQueue> queues;
    PFN_vkOfferAllocationsKMT offer = nullptr;
    PFN_vkGetAllocationStateKMT get_state = nullptr;
};

// vkCreateDevice with VK_KMT_offer_reclaim and `queue_count` queues of the
// stack's family, then vkGetDeviceQueue for each.
VkResult create_device(const VulkanStack& s, uint32_t queue_count, const VkAllocationCallbacks* allocator,
                       OwnDevice* out)
{
    const std::vector<float> priorities(queue_count, 1.0f);
    VkDeviceQueueCreateInfo q = {};
    q.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
    q.queueFamilyIndex = s.queue_family;
    q.queueCount = queue_count;
    q.pQueuePriorities = priorities.data();
    const char* extension = VK_KMT_OFFER_RECLAIM_EXTENSION_NAME;
    VkDeviceCreateInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    info.queueCreateInfoCount = 1;
    info.pQueueCreateInfos = &q;
    info.enabledExtensionCount = 1;
    info.ppEnabledExtensionNames = &extension;
    *out = OwnDevice{};
    VkResult r = vkCreateDevice(s.physical_device, &info, allocator, &out->device);
    if (r != VK_SUCCESS)
        return r;
    out->queues.assign(queue_count, VK_NULL_HANDLE);
    for (uint32_t i = 0; i < queue_count; i++)
        vkGetDeviceQueue(out->device, s.queue_family, i, &out->queues[i]);
    out->offer = reinterpret_cast<PFN_vkOfferAllocationsKMT>(vkGetDeviceProcAddr(out->device, "vkOfferAllocationsKMT"));
    out->get_state =
        reinterpret_cast<PFN_vkGetAllocationStateKMT>(vkGetDeviceProcAddr(out->device, "vkGetAllocationStateKMT"));
    return VK_SUCCESS;
}

VkAllocationStatusKMT status_on(const OwnDevice& d, VkDeviceMemory m)
{
    VkAllocationStateKMT st = {};
    st.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
    EXPECT_EQ(d.get_state(d.device, m, &st), VK_SUCCESS);
    return st.status;
}

VkResult deferred_offer(const OwnDevice& d, VkDeviceMemory m)
{
    const std::vector<VkDeviceMemory> list = {m};
    VkOfferAllocationsInfoKMT info = offer_info(list, VK_OFFER_PRIORITY_LOW_KMT, 0);
    return d.offer(d.device, &info);
}

VkSemaphore timeline_semaphore(VkDevice device)
{
    VkSemaphoreTypeCreateInfo type = {VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO, nullptr,
                                      VK_SEMAPHORE_TYPE_TIMELINE, 0};
    VkSemaphoreCreateInfo info = {VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, &type, 0};
    VkSemaphore semaphore = VK_NULL_HANDLE;
    EXPECT_EQ(vkCreateSemaphore(device, &info, nullptr, &semaphore), VK_SUCCESS);
    return semaphore;
}

// A batch on `queue` that waits until the host signals `gate` to `value`
// (optionally running `cb` then), signalling `fence`.
VkResult submit_gated(VkQueue queue, VkSemaphore gate, uint64_t value, VkCommandBuffer cb = VK_NULL_HANDLE,
                      VkFence fence = VK_NULL_HANDLE)
{
    VkTimelineSemaphoreSubmitInfo values = {};
    values.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
    values.waitSemaphoreValueCount = 1;
    values.pWaitSemaphoreValues = &value;
    VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
    VkSubmitInfo submit = {};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    submit.pNext = &values;
    submit.waitSemaphoreCount = 1;
    submit.pWaitSemaphores = &gate;
    submit.pWaitDstStageMask = &stage;
    submit.commandBufferCount = cb ? 1 : 0;
    submit.pCommandBuffers = &cb;
    return vkQueueSubmit(queue, 1, &submit, fence);
}

VkResult signal(VkDevice device, VkSemaphore semaphore, uint64_t value)
{
    VkSemaphoreSignalInfo info = {VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO, nullptr, semaphore, value};
    return vkSignalSemaphore(device, &info);
}

VkResult submit_empty(VkQueue queue, VkFence fence = VK_NULL_HANDLE)
{
    VkSubmitInfo submit = {};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    return vkQueueSubmit(queue, 1, &submit, fence);
}

VkDeviceMemory allocate_on(const OwnDevice& d, uint32_t type, const VkAllocationCallbacks* allocator = nullptr)
{
    VkMemoryAllocateInfo info = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, nullptr, 4096, type};
    VkDeviceMemory m = VK_NULL_HANDLE;
    EXPECT_EQ(vkAllocateMemory(d.device, &info, allocator, &m), VK_SUCCESS);
    return m;
}

// An instance (no device of its own) for tests that make their devices.
std::unique_ptr<VulkanStack> instance_only(std::vector<std::pair<std::string, std::string>> env = {})
{
    StackOptions o;
    o.create_device = false;
    o.env = std::move(env);
    auto s = std::make_unique<VulkanStack>(o);
    EXPECT_EQ(s->result(), VK_SUCCESS) << s->failed_step();
    return s;
}

void expect_no_validation_errors(VulkanStack& s)
{
    const auto errors = s.validation_errors();
    EXPECT_TRUE(errors.empty()) << errors.size() << " validation error(s):\n" << describe(errors);
}

// ---- 1. teardown with the layer's marker in flight ---------------------------------

// Issue 16 item 1: the app waits for its own work (the fence), not for the
// marker batch the layer queued after it for a deferred offer. vkDestroyDevice
// must wait for that marker before it destroys the semaphore the marker
// signals (validation below the layer reported
// VUID-vkDestroySemaphore-semaphore-01137 in every iteration before).
TEST(Teardown, DestroyDeviceRightAfterADeferredOfferWaitsForTheLayersMarker)
{
    auto s = instance_only();
    ASSERT_EQ(s->result(), VK_SUCCESS);
    const uint32_t host_visible = s->memory_type(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    constexpr int kIterations = 60;
    int with_errors = 0;
    for (int i = 0; i < kIterations && !testing::Test::HasFatalFailure(); i++) {
        const size_t before = s->validation_errors().size();
        OwnDevice d;
        ASSERT_EQ(create_device(*s, 1, nullptr, &d), VK_SUCCESS);
        VkFenceCreateInfo fci = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, nullptr, 0};
        VkFence fence;
        ASSERT_EQ(vkCreateFence(d.device, &fci, nullptr, &fence), VK_SUCCESS);
        VkDeviceMemory m = allocate_on(d, host_visible);
        ASSERT_EQ(submit_empty(d.queues[0], fence), VK_SUCCESS);
        ASSERT_EQ(deferred_offer(d, m), VK_SUCCESS);  // the layer queues its marker now
        ASSERT_EQ(vkWaitForFences(d.device, 1, &fence, VK_TRUE, UINT64_MAX), VK_SUCCESS);
        vkFreeMemory(d.device, m, nullptr);
        vkDestroyFence(d.device, fence, nullptr);
        vkDestroyDevice(d.device, nullptr);
        if (s->validation_errors().size() != before)
            with_errors++;
    }
    EXPECT_EQ(with_errors, 0) << "of " << kIterations << " iterations";
    s->destroy();
    expect_no_validation_errors(*s);
}

// ---- 2. every queue is tracked from vkCreateDevice on -----------------------------------

const std::vector<std::pair<std::string, std::string>> kTwoQueues = {{"KMT_TEST_DRIVER_QUEUE_COUNT", "2"}};

// Each queue takes submissions and idle waits, and a deferred offer waits
// for work on every queue: knowing the first queue's work done (its fence)
// is not enough while the last queue's work waits for a gate. (The emulated
// queues run in one submission order: the first queue's fenced work is
// submitted before the gated work, or its fence would wait for the gate.)
void expect_every_queue_works(const OwnDevice& d, uint32_t type, const VkAllocationCallbacks* allocator, long n)
{
    for (VkQueue q : d.queues) {
        EXPECT_EQ(submit_empty(q), VK_SUCCESS) << "N=" << n;
        EXPECT_EQ(vkQueueWaitIdle(q), VK_SUCCESS) << "N=" << n;
    }
    VkSemaphore gate = timeline_semaphore(d.device);
    VkFenceCreateInfo fci = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, nullptr, 0};
    VkFence fence = VK_NULL_HANDLE;
    ASSERT_EQ(vkCreateFence(d.device, &fci, nullptr, &fence), VK_SUCCESS);
    VkDeviceMemory m = allocate_on(d, type, allocator);
    ASSERT_EQ(submit_empty(d.queues.front(), fence), VK_SUCCESS) << "N=" << n;
    ASSERT_EQ(submit_gated(d.queues.back(), gate, 1), VK_SUCCESS) << "N=" << n;
    ASSERT_EQ(deferred_offer(d, m), VK_SUCCESS) << "N=" << n;
    EXPECT_EQ(status_on(d, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT) << "N=" << n;
    EXPECT_EQ(vkWaitForFences(d.device, 1, &fence, VK_TRUE, UINT64_MAX), VK_SUCCESS) << "N=" << n;
    EXPECT_EQ(status_on(d, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT)
        << "N=" << n << ": the other queue's work is still waiting";
    EXPECT_EQ(signal(d.device, gate, 1), VK_SUCCESS);
    EXPECT_EQ(vkDeviceWaitIdle(d.device), VK_SUCCESS) << "N=" << n;
    EXPECT_EQ(status_on(d, m), VK_ALLOCATION_STATUS_OFFERED_KMT) << "N=" << n;
    vkFreeMemory(d.device, m, allocator);
    vkDestroyFence(d.device, fence, nullptr);
    vkDestroySemaphore(d.device, gate, nullptr);
}

TEST(MultipleQueues, TheFamilyReportsTwoQueuesAndBothAreDistinct)
{
    auto s = instance_only(kTwoQueues);
    ASSERT_EQ(s->result(), VK_SUCCESS);
    OwnDevice d;
    ASSERT_EQ(create_device(*s, 2, nullptr, &d), VK_SUCCESS);
    ASSERT_NE(d.queues[0], VK_NULL_HANDLE);
    ASSERT_NE(d.queues[1], VK_NULL_HANDLE);
    EXPECT_NE(d.queues[0], d.queues[1]);
    expect_every_queue_works(d, s->memory_type(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT), nullptr, -1);
    vkDestroyDevice(d.device, nullptr);
    s->destroy();
    expect_no_validation_errors(*s);
}

// Issue 16 item 2: the record of a queue other than the paging queue was
// made at vkGetDeviceQueue, and when that host allocation failed the submit
// and wait hooks dereferenced NULL. Now vkCreateDevice makes every queue's
// record, failing cleanly. Sweeps N over vkCreateDevice and both
// vkGetDeviceQueue calls.
TEST(MultipleQueues, CreateDeviceFailsCleanlyOrEveryQueueWorksAtEveryN)
{
    auto s = instance_only(kTwoQueues);
    ASSERT_EQ(s->result(), VK_SUCCESS);
    const uint32_t host_visible = s->memory_type(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    FailingAllocator allocator;
    long n = 0, failed_creations = 0;
    for (; n < 4000 && !testing::Test::HasFatalFailure(); n++) {
        const size_t before = allocator.live();
        allocator.fail_at(n);
        OwnDevice d;
        const VkResult r = create_device(*s, 2, allocator.callbacks(), &d);  // includes vkGetDeviceQueue
        const bool hit = allocator.failed();
        allocator.fail_at(-1);
        if (r != VK_SUCCESS) {
            failed_creations++;
            EXPECT_TRUE(r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
                        r == VK_ERROR_INITIALIZATION_FAILED)
                << "N=" << n << ": " << string_VkResult(r);
            EXPECT_EQ(allocator.live(), before) << "N=" << n << ": a failed vkCreateDevice leaked";
            continue;
        }
        expect_every_queue_works(d, host_visible, allocator.callbacks(), n);
        vkDestroyDevice(d.device, allocator.callbacks());
        EXPECT_EQ(allocator.live(), before) << "N=" << n << ": vkDestroyDevice left blocks";
        if (!hit)
            break;  // past the last allocation
    }
    std::printf("[ sweep    ] vkCreateDevice + 2 x vkGetDeviceQueue: N in 0..%ld, %ld creations failed cleanly\n",
                n, failed_creations);
    EXPECT_GT(failed_creations, 0);
    EXPECT_LT(n, 4000) << "the sweep did not converge";
    s->destroy();
    expect_no_validation_errors(*s);
}

// A family with a queue the app did not ask for: the layer's GPU fills run
// on it (the layer's own queue), and they complete.
TEST(MultipleQueues, DiscardFillsRunOnTheSpareQueue)
{
    auto s = instance_only({{"KMT_TEST_DRIVER_QUEUE_COUNT", "2"},
                            {"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"},
                            {"VK_KMT_OFFER_RECLAIM_DISCARD", "always"},
                            {"VK_KMT_OFFER_RECLAIM_DISCARD_FILL", "zero"},
                            {"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "info"}});
    ASSERT_EQ(s->result(), VK_SUCCESS);
    const uint32_t device_only =
        s->memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    ASSERT_NE(device_only, UINT32_MAX);
    OwnDevice d;
    ASSERT_EQ(create_device(*s, 1, nullptr, &d), VK_SUCCESS);
    auto get_paging_fence =
        reinterpret_cast<PFN_vkGetPagingFenceKMT>(vkGetDeviceProcAddr(d.device, "vkGetPagingFenceKMT"));
    VkSemaphore paging = VK_NULL_HANDLE;
    ASSERT_EQ(get_paging_fence(d.device, &paging), VK_SUCCESS);
    bool dedicated = false;
    for (const Message& m : s->messages_with_id("KMT-startup"))
        dedicated |= m.text.find("paging queue dedicated") != std::string::npos;
    EXPECT_TRUE(dedicated) << describe(s->messages_with_id("KMT-startup"));
    VkDeviceMemory m = allocate_on(d, device_only);
    ASSERT_EQ(submit_empty(d.queues[0]), VK_SUCCESS);
    ASSERT_EQ(vkDeviceWaitIdle(d.device), VK_SUCCESS);
    const std::vector<VkDeviceMemory> list = {m};
    VkOfferAllocationsInfoKMT info = offer_info(list, VK_OFFER_PRIORITY_LOW_KMT, 0);
    ASSERT_EQ(d.offer(d.device, &info), VK_SUCCESS);
    EXPECT_EQ(status_on(d, m), VK_ALLOCATION_STATUS_DISCARDED_KMT);
    ASSERT_EQ(vkDeviceWaitIdle(d.device), VK_SUCCESS);
    uint64_t value = 0;
    EXPECT_EQ(vkGetSemaphoreCounterValue(d.device, paging, &value), VK_SUCCESS);
    EXPECT_GE(value, 1u) << "the fill signalled the paging fence";
    vkFreeMemory(d.device, m, nullptr);
    vkDestroyDevice(d.device, nullptr);
    s->destroy();
    expect_no_validation_errors(*s);
}

// The layer's own queue (index 1 here, the app asked for one queue) is not the
// app's to get: vkGetDeviceQueue returns VK_NULL_HANDLE with a message rather
// than a queue the layer submits fills on unsynchronised with the app.
TEST(MultipleQueues, TheLayersOwnPagingQueueIsNotHandedToTheApp)
{
    auto s = instance_only(kTwoQueues);
    ASSERT_EQ(s->result(), VK_SUCCESS);
    OwnDevice d;
    ASSERT_EQ(create_device(*s, 1, nullptr, &d), VK_SUCCESS);
    VkQueue spare = reinterpret_cast<VkQueue>(uintptr_t(1));
    vkGetDeviceQueue(d.device, s->queue_family, 1, &spare);
    EXPECT_EQ(spare, VK_NULL_HANDLE);
    const auto messages = s->messages_with_id("KMT-unknown-queue");
    ASSERT_EQ(messages.size(), 1u) << describe(s->messages());
    EXPECT_NE(messages[0].text.find("queue 1 of family"), std::string::npos) << messages[0].text;
    EXPECT_EQ(submit_empty(d.queues[0]), VK_SUCCESS);
    EXPECT_EQ(vkQueueWaitIdle(d.queues[0]), VK_SUCCESS);
    vkDestroyDevice(d.device, nullptr);
    s->destroy();
    expect_no_validation_errors(*s);
}

// ---- 5. idle waits without an offer waiting ---------------------------------------------

class IdleWaits : public StackTest {
 protected:
    uint64_t submits() const { return __atomic_load_n(&stack->driver()->queue_submits, __ATOMIC_RELAXED); }
    uint64_t semaphore_waits() const
    {
        return __atomic_load_n(&stack->driver()->semaphore_waits, __ATOMIC_RELAXED);
    }
};

// Issue 12 item 4: the app's vkQueueWaitIdle / vkDeviceWaitIdle reach the
// driver alone: no marker batch, no semaphore wait, when no offer waits.
TEST_F(IdleWaits, WithNoOfferWaitingAddNoSubmissionAndNoWait)
{
    ASSERT_NE(stack->driver(), nullptr);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(submit_empty(stack->queue), VK_SUCCESS);
    const uint64_t submits_before = submits(), waits_before = semaphore_waits();
    ASSERT_EQ(vkQueueWaitIdle(stack->queue), VK_SUCCESS);
    EXPECT_EQ(submits(), submits_before) << "vkQueueWaitIdle submitted a batch of the layer's";
    EXPECT_EQ(semaphore_waits(), waits_before) << "vkQueueWaitIdle waited on a semaphore first";
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(submit_empty(stack->queue), VK_SUCCESS);
    const uint64_t submits_mid = submits(), waits_mid = semaphore_waits();
    ASSERT_EQ(vkDeviceWaitIdle(stack->device), VK_SUCCESS);
    EXPECT_EQ(submits(), submits_mid) << "vkDeviceWaitIdle submitted a batch of the layer's";
    EXPECT_EQ(semaphore_waits(), waits_mid) << "vkDeviceWaitIdle waited on a semaphore first";
}

// With an offer waiting, the idle wait itself is what proves the work done:
// still no extra submission or wait, and the offer takes effect.
TEST_F(IdleWaits, AnIdleWaitEndsAWaitingOfferWithoutAnotherMarker)
{
    ASSERT_NE(stack->driver(), nullptr);
    VkSemaphore gate = timeline_semaphore(stack->device);
    ASSERT_EQ(submit_gated(stack->queue, gate, 1), VK_SUCCESS);
    VkDeviceMemory m = stack->allocate(4096);
    ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    ASSERT_EQ(signal(stack->device, gate, 1), VK_SUCCESS);
    const uint64_t submits_before = submits(), waits_before = semaphore_waits();
    ASSERT_EQ(vkQueueWaitIdle(stack->queue), VK_SUCCESS);
    EXPECT_EQ(submits(), submits_before);
    EXPECT_EQ(semaphore_waits(), waits_before);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    vkDestroySemaphore(stack->device, gate, nullptr);
}

// An offer made while another thread is inside vkQueueWaitIdle on the same
// queue: the layer may not submit its marker on that queue then (the app's
// wait has it); the offer waits for the work all the same and takes effect
// when the wait has returned.
TEST_F(IdleWaits, AnOfferMadeWhileAnotherThreadWaitsIdleWaitsForTheWork)
{
    VkSemaphore gate = timeline_semaphore(stack->device);
    ASSERT_EQ(submit_gated(stack->queue, gate, 1), VK_SUCCESS);
    VkDeviceMemory m = stack->allocate(4096);
    std::thread waiter([&] { EXPECT_EQ(vkQueueWaitIdle(stack->queue), VK_SUCCESS); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // usually inside the wait by now
    ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    ASSERT_EQ(signal(stack->device, gate, 1), VK_SUCCESS);
    waiter.join();
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    vkDestroySemaphore(stack->device, gate, nullptr);
}

// ---- 6. memory type index >= 32 -------------------------------------------------------------

// Issue 16 item 6: lavapipe accepts a memoryTypeIndex beyond the type count.
// A GPU fill cannot tell whether its buffer may use such memory (the type
// bits have 32), so the fill is impossible: the memory is never reported
// DISCARDED. Before, `1u << 32` was undefined behaviour (UBSan aborts) and on
// x86 let the fill run. The stack has no validation layer: validation 1.3.239
// itself crashes on such an index (it reads memoryTypes[index]).
TEST(FillTypeIndex, MemoryOfATypeIndexAbove31IsNeverFilledOrDiscarded)
{
    StackOptions o;
    o.stack = Stack::Implicit;  // the layer directly on lavapipe
    o.env = {{"VK_KMT_OFFER_RECLAIM_ENABLE", "1"},
             {"VK_KMT_OFFER_RECLAIM_DISCARD", "always"},
             {"VK_KMT_OFFER_RECLAIM_DISCARD_FILL", "poison"}};
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    for (uint32_t type : {32u, 33u, 40u}) {
        VkMemoryAllocateInfo info = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, nullptr, 4096, type};
        VkDeviceMemory m = VK_NULL_HANDLE;
        const VkResult r = vkAllocateMemory(s.device, &info, nullptr, &m);
        if (r != VK_SUCCESS)
            GTEST_SKIP() << "the driver refuses memoryTypeIndex " << type << ": " << string_VkResult(r);
        ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT), VK_SUCCESS);
        EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_OFFERED_KMT) << "type " << type;
        Reclaimed back = reclaim(s, std::vector<VkDeviceMemory>{m});
        EXPECT_EQ(back.result, VK_SUCCESS);
        EXPECT_EQ(back.results[0], VK_RECLAIM_RESULT_OK_KMT) << "type " << type;
        vkFreeMemory(s.device, m, nullptr);
    }
    s.destroy();
}

// ---- 7. a fence reused while another thread waits on it -----------------------------------

// Issue 16 item 7: thread W waits on fence F (submission #1). Meanwhile the
// main thread sees F signalled, resets it and submits #2 with F (writing a
// buffer once a gate opens), then offers the buffer's memory: the offer must
// wait for #2. When W's wait returns it says #1 is done, not #2: under
// DISCARD=always the memory must still be OFFER_PENDING, and a later DISCARDED
// report must mean the memory holds the fill's bytes, not #2's. The test
// driver holds W's vkWaitForFences after the driver's wait returned until the
// main thread has reused the fence (fence_wait_hold), so that the reuse falls
// inside W's call every time -- and never before W's driver wait saw #1 done,
// which would leave W waiting for #2, whose gate opens only after W returned.
//
// The stack has no validation layer (the benchmarks' bench_layer stack: the
// layer on the test driver on lavapipe): once the reuse falls inside W's call,
// validation 1.3.239 reports the app's error (UNASSIGNED-Threading-
// MultipleThreads on vkResetFences) and then, its fence tracking misled, waits
// 10 s per iteration for the reused fence (UNASSIGNED-VkFence-state-timeout).
class FenceReuse : public StackTest {
 protected:
    StackOptions options() const override
    {
        StackOptions o;
        o.env = {{"XDG_DATA_HOME", std::string(KMT_VKDATA_DIR) + "/bench_layer"},
                 {"VK_KMT_OFFER_RECLAIM_DISCARD", "always"},
                 {"VK_KMT_OFFER_RECLAIM_DISCARD_FILL", "poison"}};
        return o;
    }
    uint32_t fence_waits_returned() const
    {
        return __atomic_load_n(&stack->driver()->fence_waits_returned, __ATOMIC_SEQ_CST);
    }
};

TEST_F(FenceReuse, AFenceReusedWhileAnotherThreadWaitsOnItDoesNotEndADeferredOfferEarly)
{
    kmt_test_driver_control* td = stack->driver();
    ASSERT_NE(td, nullptr);
    constexpr VkDeviceSize kSize = 4096;
    constexpr uint32_t kWritten = 0xABABABABu, kPoison = 0xDEADBEEFu;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory m = stack->create_bound_buffer(kSize, &buffer);
    ASSERT_NE(m, VK_NULL_HANDLE);
    VkSemaphore gate = timeline_semaphore(stack->device);
    VkFenceCreateInfo fci = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, nullptr, 0};
    VkFence fence;
    ASSERT_EQ(vkCreateFence(stack->device, &fci, nullptr, &fence), VK_SUCCESS);

    constexpr int kIterations = 8;
    for (int i = 0; i < kIterations && !HasFatalFailure(); i++) {
        const uint64_t gate_value = uint64_t(i) + 1;
        VkCommandBuffer cb = stack->begin_commands();
        vkCmdFillBuffer(cb, buffer, 0, VK_WHOLE_SIZE, kWritten);
        ASSERT_EQ(vkEndCommandBuffer(cb), VK_SUCCESS);

        ASSERT_EQ(submit_empty(stack->queue, fence), VK_SUCCESS);  // #1
        const uint32_t returned = fence_waits_returned();
        __atomic_store_n(&td->fence_wait_hold, true, __ATOMIC_SEQ_CST);
        std::thread waiter(
            [&] { EXPECT_EQ(vkWaitForFences(stack->device, 1, &fence, VK_TRUE, UINT64_MAX), VK_SUCCESS); });
        {
            // Whatever fails below, W is let go and joined.
            struct Release {
                kmt_test_driver_control* td;
                std::thread& waiter;
                ~Release()
                {
                    __atomic_store_n(&td->fence_wait_hold, false, __ATOMIC_SEQ_CST);
                    waiter.join();
                }
            } release{td, waiter};
            while (fence_waits_returned() == returned)  // W's driver wait saw #1 done; W is held inside its call
                std::this_thread::yield();
            ASSERT_EQ(vkGetFenceStatus(stack->device, fence), VK_SUCCESS);
            ASSERT_EQ(vkResetFences(stack->device, 1, &fence), VK_SUCCESS);
            ASSERT_EQ(submit_gated(stack->queue, gate, gate_value, cb, fence), VK_SUCCESS);  // #2 writes the buffer
            ASSERT_EQ(offer(*stack, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
            EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT) << "iteration " << i;
        }
        EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_OFFER_PENDING_KMT)
            << "iteration " << i << ": W's wait (for #1) ended the offer while #2 still waits for its gate";

        ASSERT_EQ(signal(stack->device, gate, gate_value), VK_SUCCESS);
        ASSERT_EQ(vkWaitForFences(stack->device, 1, &fence, VK_TRUE, UINT64_MAX), VK_SUCCESS);
        Reclaimed back = reclaim(*stack, std::vector<VkDeviceMemory>{m});
        ASSERT_EQ(back.result, VK_SUCCESS);
        void* data = nullptr;
        ASSERT_EQ(vkMapMemory(stack->device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
        uint32_t first = 0;
        std::memcpy(&first, data, sizeof(first));
        vkUnmapMemory(stack->device, m);
        if (back.results[0] == VK_RECLAIM_RESULT_DISCARDED_KMT)
            EXPECT_EQ(first, kPoison) << "iteration " << i << ": reported DISCARDED, but holds #2's bytes";
        else
            EXPECT_EQ(first, kWritten) << "iteration " << i;
        ASSERT_EQ(vkResetFences(stack->device, 1, &fence), VK_SUCCESS);
    }
    vkDestroyFence(stack->device, fence, nullptr);
    vkDestroySemaphore(stack->device, gate, nullptr);
}

}  // namespace
}  // namespace kmt

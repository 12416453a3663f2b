// SPDX-License-Identifier: MIT
// Small wrappers over the VK_KMT_offer_reclaim commands for the end-to-end
// tests: build the info structs, call through the pointers the fixture got
// from vkGetDeviceProcAddr, and return what an app observes.
#pragma once

#include <vector>

#include "fixture.hpp"

namespace kmt {

inline VkOfferAllocationsInfoKMT
offer_info(const std::vector<VkDeviceMemory>& memories, VkOfferPriorityKMT priority, VkOfferFlagsKMT flags = 0)
{
    VkOfferAllocationsInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT;
    info.allocationCount = static_cast<uint32_t>(memories.size());
    info.pMemories = memories.empty() ? nullptr : memories.data();
    info.priority = priority;
    info.flags = flags;
    return info;
}

inline VkOfferAllocationsInfoKMT
offer_info(const std::vector<VkOfferResourceKMT>& resources, VkOfferPriorityKMT priority, VkOfferFlagsKMT flags = 0)
{
    VkOfferAllocationsInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT;
    info.allocationCount = static_cast<uint32_t>(resources.size());
    info.pResources = resources.empty() ? nullptr : resources.data();
    info.priority = priority;
    info.flags = flags;
    return info;
}

inline VkResult
offer(VulkanStack& s, const std::vector<VkDeviceMemory>& memories,
      VkOfferPriorityKMT priority = VK_OFFER_PRIORITY_NORMAL_KMT, VkOfferFlagsKMT flags = VK_OFFER_IMMEDIATELY_BIT_KMT)
{
    VkOfferAllocationsInfoKMT info = offer_info(memories, priority, flags);
    return s.offer(s.device, &info);
}

inline VkResult
offer(VulkanStack& s, const std::vector<VkOfferResourceKMT>& resources,
      VkOfferPriorityKMT priority = VK_OFFER_PRIORITY_NORMAL_KMT, VkOfferFlagsKMT flags = VK_OFFER_IMMEDIATELY_BIT_KMT)
{
    VkOfferAllocationsInfoKMT info = offer_info(resources, priority, flags);
    return s.offer(s.device, &info);
}

inline VkOfferResourceKMT
buffer_resource(VkBuffer buffer)
{
    return {VK_OBJECT_TYPE_BUFFER, reinterpret_cast<uint64_t>(buffer)};
}

inline VkOfferResourceKMT
image_resource(VkImage image)
{
    return {VK_OBJECT_TYPE_IMAGE, reinterpret_cast<uint64_t>(image)};
}

struct Reclaimed {
    VkResult result = VK_ERROR_UNKNOWN;
    std::vector<VkReclaimResultKMT> results;
    std::vector<VkBool32> discarded;
    uint64_t fence = UINT64_MAX;
};

template <typename Handle>
inline Reclaimed
reclaim(VulkanStack& s, const std::vector<Handle>& handles)
{
    Reclaimed out;
    out.results.assign(handles.size(), VK_RECLAIM_RESULT_MAX_ENUM_KMT);
    out.discarded.assign(handles.size(), 7u);
    VkReclaimAllocationsInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT;
    info.allocationCount = static_cast<uint32_t>(handles.size());
    if constexpr (std::is_same_v<Handle, VkDeviceMemory>)
        info.pMemories = handles.data();
    else
        info.pResources = handles.data();
    info.pResults = out.results.data();
    info.pDiscarded = out.discarded.data();
    out.result = s.reclaim(s.device, &info, &out.fence);
    return out;
}

inline VkAllocationStateKMT
state_of(VulkanStack& s, VkDeviceMemory memory)
{
    VkAllocationStateKMT state = {};
    state.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
    EXPECT_EQ(s.get_state(s.device, memory, &state), VK_SUCCESS);
    return state;
}

inline VkAllocationStatusKMT
status_of(VulkanStack& s, VkDeviceMemory memory)
{
    return state_of(s, memory).status;
}

// The priorities the test driver recorded for one memory, in order.
inline std::vector<float>
driver_priorities(VulkanStack& s, VkDeviceMemory memory, bool include_allocation = false)
{
    std::vector<float> out;
    kmt_test_driver_control* c = s.driver();
    if (!c)
        return out;
    const uint64_t driver_memory = s.driver_memory(memory);
    pthread_mutex_lock(&c->lock);
    uint32_t n = c->priority_record_count < KMT_TD_MAX_PRIORITY_RECORDS ? c->priority_record_count
                                                                        : KMT_TD_MAX_PRIORITY_RECORDS;
    for (uint32_t i = 0; i < n; i++) {
        const kmt_td_priority_record& r = c->priority_records[i];
        if (r.memory == driver_memory &&
            (include_allocation || r.source == KMT_TD_PRIORITY_SET))
            out.push_back(r.priority);
    }
    pthread_mutex_unlock(&c->lock);
    return out;
}

// App-visible snapshot of what a rejected call must leave alone.
struct Snapshot {
    std::vector<VkAllocationStatusKMT> status;
    std::vector<uint32_t> priority;
    std::vector<float> driver_priority;
    uint32_t driver_records = 0;

    bool operator==(const Snapshot& o) const
    {
        return status == o.status && priority == o.priority && driver_priority == o.driver_priority &&
               driver_records == o.driver_records;
    }
};

inline Snapshot
snapshot(VulkanStack& s, const std::vector<VkDeviceMemory>& memories)
{
    Snapshot out;
    for (VkDeviceMemory m : memories) {
        VkAllocationStateKMT st = state_of(s, m);
        out.status.push_back(st.status);
        out.priority.push_back(st.offerPriority);
        out.driver_priority.push_back(st.driverPriority);
    }
    if (s.driver())
        out.driver_records = s.driver()->priority_record_count;
    return out;
}

// Holds a queue: submits a batch (optionally with a command buffer) that waits
// for a timeline semaphore only the host signals, in open(). Lets tests keep
// GPU work pending for as long as they need.
class QueueGate {
 public:
    explicit QueueGate(VulkanStack& s, VkCommandBuffer cb = VK_NULL_HANDLE) : s_(s)
    {
        VkSemaphoreTypeCreateInfo type = {VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO, nullptr,
                                          VK_SEMAPHORE_TYPE_TIMELINE, 0};
        VkSemaphoreCreateInfo info = {VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, &type, 0};
        EXPECT_EQ(vkCreateSemaphore(s.device, &info, nullptr, &semaphore), VK_SUCCESS);
        uint64_t one = 1;
        VkTimelineSemaphoreSubmitInfo values = {};
        values.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
        values.waitSemaphoreValueCount = 1;
        values.pWaitSemaphoreValues = &one;
        VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
        VkSubmitInfo submit = {};
        submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
        submit.pNext = &values;
        submit.waitSemaphoreCount = 1;
        submit.pWaitSemaphores = &semaphore;
        submit.pWaitDstStageMask = &stage;
        if (cb) {
            EXPECT_EQ(vkEndCommandBuffer(cb), VK_SUCCESS);
            submit.commandBufferCount = 1;
            submit.pCommandBuffers = &cb;
        }
        EXPECT_EQ(vkQueueSubmit(s.queue, 1, &submit, VK_NULL_HANDLE), VK_SUCCESS);
    }
    // Signals the gate on the host and waits for the queue to drain.
    void open()
    {
        if (opened_)
            return;
        opened_ = true;
        VkSemaphoreSignalInfo signal = {VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO, nullptr, semaphore, 1};
        EXPECT_EQ(vkSignalSemaphore(s_.device, &signal), VK_SUCCESS);
        EXPECT_EQ(vkQueueWaitIdle(s_.queue), VK_SUCCESS);
    }
    ~QueueGate()
    {
        open();
        vkDestroySemaphore(s_.device, semaphore, nullptr);
    }
    QueueGate(const QueueGate&) = delete;
    QueueGate& operator=(const QueueGate&) = delete;

    VkSemaphore semaphore = VK_NULL_HANDLE;

 private:
    VulkanStack& s_;
    bool opened_ = false;
};

}  // namespace kmt

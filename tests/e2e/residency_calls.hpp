// SPDX-License-Identifier: MIT
// Wrappers over the VK_KMT_residency commands for the end-to-end tests: the
// commands from vkGetDeviceProcAddr, the info structs built, and what an app
// observes returned.
#pragma once

#include <vulkan/vk_kmt_residency.h>

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "kmt_calls.hpp"

namespace kmt {

struct ResidencyApi {
    PFN_vkMakeResidentKMT make_resident = nullptr;
    PFN_vkEvictKMT evict = nullptr;
    PFN_vkSetResidencyPriorityKMT set_priority = nullptr;
    PFN_vkQueryVideoMemoryInfoKMT query = nullptr;
    PFN_vkSetVideoMemoryReservationKMT set_reservation = nullptr;
    PFN_vkRegisterBudgetNotificationKMT register_notification = nullptr;
    PFN_vkUnregisterBudgetNotificationKMT unregister_notification = nullptr;
    PFN_vkGetAllocationStateKMT get_state = nullptr;

    explicit ResidencyApi(const VulkanStack& s)
    {
        make_resident = reinterpret_cast<PFN_vkMakeResidentKMT>(s.device_proc("vkMakeResidentKMT"));
        evict = reinterpret_cast<PFN_vkEvictKMT>(s.device_proc("vkEvictKMT"));
        set_priority = reinterpret_cast<PFN_vkSetResidencyPriorityKMT>(s.device_proc("vkSetResidencyPriorityKMT"));
        query = reinterpret_cast<PFN_vkQueryVideoMemoryInfoKMT>(s.device_proc("vkQueryVideoMemoryInfoKMT"));
        set_reservation =
            reinterpret_cast<PFN_vkSetVideoMemoryReservationKMT>(s.device_proc("vkSetVideoMemoryReservationKMT"));
        register_notification =
            reinterpret_cast<PFN_vkRegisterBudgetNotificationKMT>(s.device_proc("vkRegisterBudgetNotificationKMT"));
        unregister_notification =
            reinterpret_cast<PFN_vkUnregisterBudgetNotificationKMT>(s.device_proc("vkUnregisterBudgetNotificationKMT"));
        get_state = reinterpret_cast<PFN_vkGetAllocationStateKMT>(s.device_proc("vkGetAllocationStateKMT"));
    }
    bool complete() const
    {
        return make_resident && evict && set_priority && query && set_reservation && register_notification &&
               unregister_notification && get_state;
    }
};

// The options of a stack whose device enables VK_KMT_residency (and, with
// offer_reclaim, VK_KMT_offer_reclaim too).
inline StackOptions
residency_options(std::vector<std::pair<std::string, std::string>> env = {}, bool offer_reclaim = true,
                  Stack stack = Stack::Full)
{
    StackOptions o;
    o.stack = stack;
    o.enable_extension = offer_reclaim;
    o.device_extensions = {VK_KMT_RESIDENCY_EXTENSION_NAME};
    o.env = std::move(env);
    return o;
}

struct MadeResident {
    VkResult result = VK_ERROR_UNKNOWN;
    uint64_t fence = UINT64_MAX;
    VkDeviceSize bytes_to_trim = UINT64_MAX;
};

inline MadeResident
make_resident(VulkanStack& s, const std::vector<VkDeviceMemory>& memories, VkMakeResidentFlagsKMT flags = 0,
              const std::vector<uint32_t>& priorities = {})
{
    ResidencyApi api(s);
    VkMakeResidentInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT;
    info.allocationCount = static_cast<uint32_t>(memories.size());
    info.pMemories = memories.empty() ? nullptr : memories.data();
    info.pPriorities = priorities.empty() ? nullptr : priorities.data();
    info.flags = flags;
    MadeResident out;
    out.result = api.make_resident(s.device, &info, &out.fence, &out.bytes_to_trim);
    return out;
}

struct Evicted {
    VkResult result = VK_ERROR_UNKNOWN;
    VkDeviceSize bytes_to_trim = UINT64_MAX;
};

inline Evicted
evict(VulkanStack& s, const std::vector<VkDeviceMemory>& memories, VkEvictFlagsKMT flags = 0)
{
    ResidencyApi api(s);
    VkEvictInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_EVICT_INFO_KMT;
    info.allocationCount = static_cast<uint32_t>(memories.size());
    info.pMemories = memories.empty() ? nullptr : memories.data();
    info.flags = flags;
    Evicted out;
    out.result = api.evict(s.device, &info, &out.bytes_to_trim);
    return out;
}

inline VkResult
set_residency_priority(VulkanStack& s, const std::vector<VkDeviceMemory>& memories,
                       const std::vector<uint32_t>& priorities)
{
    return ResidencyApi(s).set_priority(s.device, static_cast<uint32_t>(memories.size()), memories.data(),
                                        priorities.data());
}

struct ResidencyState {
    VkAllocationStatusKMT status = VK_ALLOCATION_STATUS_MAX_ENUM_KMT;
    uint32_t count = UINT32_MAX, priority = UINT32_MAX;
    float driver_priority = -1.0f;
};

inline ResidencyState
residency_of(VulkanStack& s, VkDeviceMemory memory)
{
    ResidencyApi api(s);
    VkAllocationResidencyKMT residency = {};
    residency.sType = VK_STRUCTURE_TYPE_ALLOCATION_RESIDENCY_KMT;
    residency.residencyCount = UINT32_MAX;
    residency.residencyPriority = UINT32_MAX;
    VkAllocationStateKMT state = {};
    state.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
    state.pNext = &residency;
    EXPECT_EQ(api.get_state(s.device, memory, &state), VK_SUCCESS);
    return {state.status, residency.residencyCount, residency.residencyPriority, state.driverPriority};
}

inline VkVideoMemoryInfoKMT
video_memory(VulkanStack& s, VkMemorySegmentGroupKMT group = VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT)
{
    VkVideoMemoryInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_VIDEO_MEMORY_INFO_KMT;
    EXPECT_EQ(ResidencyApi(s).query(s.device, group, &info), VK_SUCCESS);
    return info;
}

// The number of threads of this process whose name is `name` (the layer
// names its notification thread "kmt-budget").
inline int
threads_named(const std::string& name)
{
    int count = 0;
    DIR* dir = opendir("/proc/self/task");
    if (!dir)
        return -1;
    while (dirent* e = readdir(dir)) {
        if (e->d_name[0] == '.')
            continue;
        std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
        std::string line;
        std::getline(comm, line);
        count += line == name;
    }
    closedir(dir);
    return count;
}

// Polls `done` every millisecond for up to `limit`; whether it came true.
inline bool
eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::milliseconds(3000))
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
}

}  // namespace kmt

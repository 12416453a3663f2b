// SPDX-License-Identifier: MIT
// Minimal Vulkan stacks for the benchmarks (no gtest, no debug messenger, no
// validation): each instance is created with XDG_DATA_HOME pointing at one
// folder under <build>/vkdata, so several stacks can live in one process (the
// loader reads the environment at each vkCreateInstance):
//   bench_layer  VK_LAYER_KMT_offer_reclaim -> test_driver -> lavapipe
//   bench_floor  test_driver -> lavapipe            (the layer absent)
#pragma once

#include <vulkan/vulkan.h>
#include <vulkan/vk_kmt_offer_reclaim.h>
#include <vulkan/vk_kmt_residency.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kmtb {

// Sets the loader environment for instances created from now on: XDG_DATA_HOME
// = <build>/vkdata/<folder>, lavapipe only, no Mesa device-select layer, and
// every variable that would change which layers load cleared.
void prepare_environment(const char* folder);

struct Instance {
  VkInstance handle = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  uint32_t family = 0;
  VkPhysicalDeviceMemoryProperties memory{};

  // Empty string on success, else what failed. create() calls
  // prepare_environment(folder) first; create_prepared() leaves the
  // environment as the caller set it (folder only names errors).
  std::string create(const char* folder);
  std::string create_prepared(const char* folder);
  void destroy();
  ~Instance() { destroy(); }
};

// Device-level entry points, all from vkGetDeviceProcAddr (what DXVK-style
// apps call: no loader trampoline in the way).
struct Device {
  VkDevice handle = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t host_type = 0;  // first HOST_VISIBLE|HOST_COHERENT type

  PFN_vkDestroyDevice destroy_device = nullptr;
  PFN_vkAllocateMemory allocate_memory = nullptr;
  PFN_vkFreeMemory free_memory = nullptr;
  PFN_vkCreateBuffer create_buffer = nullptr;
  PFN_vkDestroyBuffer destroy_buffer = nullptr;
  PFN_vkGetBufferMemoryRequirements buffer_requirements = nullptr;
  PFN_vkBindBufferMemory bind_buffer = nullptr;
  PFN_vkQueueSubmit queue_submit = nullptr;
  PFN_vkQueueWaitIdle queue_wait_idle = nullptr;
  PFN_vkDeviceWaitIdle device_wait_idle = nullptr;
  PFN_vkCreateCommandPool create_command_pool = nullptr;
  PFN_vkDestroyCommandPool destroy_command_pool = nullptr;
  PFN_vkAllocateCommandBuffers allocate_command_buffers = nullptr;
  PFN_vkBeginCommandBuffer begin_command_buffer = nullptr;
  PFN_vkEndCommandBuffer end_command_buffer = nullptr;
  PFN_vkSetDeviceMemoryPriorityEXT set_priority = nullptr;  // only when VK_EXT_pageable_device_local_memory is enabled
  PFN_vkOfferAllocationsKMT offer = nullptr;                // only when VK_KMT_offer_reclaim is enabled
  PFN_vkReclaimAllocationsKMT reclaim = nullptr;
  PFN_vkGetPagingFenceKMT get_paging_fence = nullptr;
  PFN_vkMakeResidentKMT make_resident = nullptr;             // only when VK_KMT_residency is enabled
  PFN_vkEvictKMT evict = nullptr;

  // Empty string on success, else what failed.
  std::string create(const Instance& instance, const std::vector<const char*>& extensions);
  void destroy();
  ~Device() { destroy(); }

  VkDeviceMemory allocate(VkDeviceSize size);  // host-visible; VK_NULL_HANDLE on failure
};

// Bytes the C heap holds (mallinfo2: arena in use + mmapped chunks).
size_t heap_in_use();
// Resident set size of the process, bytes (/proc/self/statm).
size_t resident_bytes();

}  // namespace kmtb

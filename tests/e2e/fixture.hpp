// SPDX-License-Identifier: MIT
// End-to-end test fixture: the real loader, the build tree's layer manifests,
// validation, the test driver layer and lavapipe (see tests/CMakeLists.txt for
// the stacks and shared/reference/LOADER-NOTES.md for why they look like this).
#pragma once

#include <vulkan/vulkan.h>
#include <vulkan/vk_kmt_offer_reclaim.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "test_driver.h"

namespace kmt {

// Which <build>/vkdata/<folder> is XDG_DATA_HOME:
//   Full      stack:    offer_reclaim -> validation -> test_driver -> lavapipe
//   Lvp       lvp:      offer_reclaim -> validation -> lavapipe
//   Baseline  baseline: validation -> test_driver -> lavapipe
//   Bare      bare:     test_driver -> lavapipe
//   Implicit  implicit: the layer's implicit manifest alone (tests enable it via opts.env)
enum class Stack { Full, Lvp, Baseline, Bare, Implicit };
const char* stack_folder(Stack stack);

// Sets (value != nullptr) or unsets (nullptr) one environment variable and
// restores the previous state on destruction.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value /* nullptr = unset */);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

struct Message {
  VkDebugUtilsMessageSeverityFlagBitsEXT severity;
  std::string id;    // pMessageIdName ("" when absent)
  std::string text;  // pMessage
  std::vector<uint64_t> objects;
  // Additions: messageIdNumber, and per object its type and pObjectName ("" when NULL).
  int32_t id_number = 0;
  std::vector<VkObjectType> object_types;
  std::vector<std::string> object_names;
};

struct StackOptions {
  Stack stack = Stack::Full;
  uint32_t api_version = VK_API_VERSION_1_3;
  bool enable_extension = true;                           // add VK_KMT_offer_reclaim to the device
  std::vector<std::string> device_extensions;             // more device extensions to enable
  std::vector<std::pair<std::string, std::string>> env;   // set for the stack's lifetime, before vkCreateInstance
  bool debug_utils = true;                                // enable VK_EXT_debug_utils + install the messenger
  const VkAllocationCallbacks* allocator = nullptr;       // passed to instance/device create/destroy
  const void* device_pnext = nullptr;                     // chained into VkDeviceCreateInfo::pNext
  bool enable_features12_timeline = false;                // chain VkPhysicalDeviceVulkan12Features{timelineSemaphore}
  // Additions:
  std::vector<std::string> instance_extensions;           // more instance extensions to enable
  bool create_device = true;                              // false: stop after instance + physical device
  bool verbose_messages = false;                          // the messenger also takes VERBOSE severity
};

class VulkanStack {
 public:
  explicit VulkanStack(const StackOptions& opts = {});
  ~VulkanStack();  // destroy(), then restores the environment
  // Destroys tracked objects, device, messenger and instance now; messages() stay readable. Idempotent.
  // Clears the test driver's lose_device knob first and waits for the device to go idle.
  void destroy();
  VulkanStack(const VulkanStack&) = delete;
  VulkanStack& operator=(const VulkanStack&) = delete;

  // VK_SUCCESS when instance+device were created; otherwise the failing VkResult.
  VkResult result() const { return result_; }
  // Which step failed ("vkCreateInstance", "vkCreateDevice", ...); "" on success.
  const std::string& failed_step() const { return failed_step_; }
  const StackOptions& options() const { return opts_; }

  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t queue_family = 0;
  PFN_vkOfferAllocationsKMT offer = nullptr;
  PFN_vkReclaimAllocationsKMT reclaim = nullptr;
  PFN_vkGetPagingFenceKMT get_paging_fence = nullptr;
  PFN_vkGetAllocationStateKMT get_state = nullptr;

  // The test driver's control struct; nullptr for stacks without the test driver.
  kmt_test_driver_control* driver() const;
  // kmt_test_driver_reset() of the loaded test driver (no-op without it).
  void reset_driver() const;

  std::vector<Message> messages() const;
  std::vector<Message> messages_with_id(const std::string& prefix) const;
  std::vector<Message> validation_errors() const;  // severity ERROR, id "VUID-*" or "UNASSIGNED-*"
  // Severity ERROR from the loader itself (id "Loader Message"), e.g. a layer it skipped because
  // its library lacks vkGetInstanceProcAddr: the stack is then silently incomplete.
  std::vector<Message> loader_errors() const;
  void clear_messages();

  PFN_vkVoidFunction device_proc(const char* name) const;    // vkGetDeviceProcAddr(device, name)
  PFN_vkVoidFunction instance_proc(const char* name) const;  // vkGetInstanceProcAddr(instance, name)
  uint32_t memory_type(VkMemoryPropertyFlags required, VkMemoryPropertyFlags excluded = 0) const;  // UINT32_MAX if none
  VkPhysicalDeviceMemoryProperties memory_properties() const;

  // type_index UINT32_MAX = first host-visible type. EXPECTs success (returns VK_NULL_HANDLE otherwise).
  VkDeviceMemory allocate(VkDeviceSize size, uint32_t type_index = UINT32_MAX, const float* priority = nullptr);
  VkBuffer create_buffer(VkDeviceSize size,
                         VkBufferUsageFlags usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT);
  // Dedicated memory (VkMemoryDedicatedAllocateInfo where the API version allows it) bound to a new buffer.
  // type_index UINT32_MAX = first host-visible type the buffer accepts.
  VkDeviceMemory create_bound_buffer(VkDeviceSize size, VkBuffer* out_buffer, uint32_t type_index = UINT32_MAX);
  VkImage create_image(uint32_t width, uint32_t height);  // RGBA8, OPTIMAL, TRANSFER_SRC|DST|SAMPLED, unbound
  // Addition: like create_bound_buffer, for create_image's image.
  VkDeviceMemory create_bound_image(uint32_t width, uint32_t height, VkImage* out_image, uint32_t type_index = UINT32_MAX);

  VkCommandBuffer begin_commands();              // from a fixture-owned pool on queue_family
  // End, submit with a fence, wait, free. When the submit or the wait fails
  // (VK_ERROR_DEVICE_LOST), the fence and command buffer are kept until
  // wait_idle() or destroy(): validation still counts them as pending.
  VkResult submit_and_wait(VkCommandBuffer cb);
  // vkDeviceWaitIdle; on success frees what failed submit_and_wait calls kept.
  VkResult wait_idle();

  // The VkDeviceMemory the driver below made for an allocation of this
  // stack: on a device that enabled VK_KMT_offer_reclaim the app holds the
  // layer's own handles, and the test driver records the driver's. Known for
  // allocations made through this fixture and those passed to
  // learn_driver_memory() right after the test's own vkAllocateMemory
  // (single-threaded); the app's handle itself without a test driver.
  uint64_t driver_memory(VkDeviceMemory memory) const;
  void learn_driver_memory(VkDeviceMemory memory);

  void destroy_buffer(VkBuffer buffer);
  void destroy_image(VkImage image);
  void free_memory(VkDeviceMemory memory);

 private:
  VkResult create(const std::vector<std::string>& extra_device_extensions);
  void fail(VkResult result, const char* step);
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT types,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data, void* user);

  StackOptions opts_;
  std::vector<std::unique_ptr<ScopedEnv>> env_;  // first member destroyed last: restored after teardown
  VkResult result_ = VK_SUCCESS;
  std::string failed_step_;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  std::vector<VkBuffer> buffers_;
  std::vector<VkImage> images_;
  std::vector<VkDeviceMemory> memories_;
  std::map<VkDeviceMemory, uint64_t> driver_memories_;
  std::vector<VkFence> deferred_fences_;
  std::vector<VkCommandBuffer> deferred_command_buffers_;
  void release_deferred();
  mutable std::mutex messages_lock_;
  std::vector<Message> messages_;
};

// A zeroed Vulkan struct with sType (and pNext) set. `T x{sType}` trips
// -Wmissing-field-initializers (-Wextra -Werror); use vk_struct<T>(sType) instead.
template <typename T>
T vk_struct(VkStructureType type, const void* next = nullptr) {
  T t{};
  t.sType = type;
  t.pNext = (decltype(t.pNext))next;
  return t;
}

// Prints each message (severity, id, text) for failure output.
std::string describe(const std::vector<Message>& messages);

// Base for tests: owns a default VulkanStack (created in SetUp with options()),
// and in TearDown EXPECTs zero validation errors and zero loader errors (printing each one).
class StackTest : public ::testing::Test {
 protected:
  virtual StackOptions options() const { return {}; }
  void SetUp() override;
  void TearDown() override;
  std::unique_ptr<VulkanStack> stack;
};

}  // namespace kmt

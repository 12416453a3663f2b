// SPDX-License-Identifier: MIT
// Tests of VK_LAYER_KMT_test_driver alone (no offer_reclaim layer): Baseline
// (validation -> test_driver -> lavapipe) and Bare (test_driver -> lavapipe).
#include "fixture.hpp"

#include <vulkan/vk_enum_string_helper.h>

#include <cstring>
#include <string>
#include <vector>

namespace kmt {
namespace {

const char* const kOwnExtensions[] = {
    VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME,
    VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME,
    VK_EXT_MEMORY_BUDGET_EXTENSION_NAME,
};

StackOptions driver_options(Stack stack, std::vector<std::pair<std::string, std::string>> env = {}) {
  StackOptions o;
  o.stack = stack;
  o.enable_extension = false;
  o.env = std::move(env);
  return o;
}

// Destroys the stack and EXPECTs that validation reported nothing.
void expect_clean_teardown(VulkanStack& stack) {
  stack.destroy();
  const auto errors = stack.validation_errors();
  EXPECT_TRUE(errors.empty()) << errors.size() << " validation error(s):\n" << describe(errors);
  const auto loader = stack.loader_errors();
  EXPECT_TRUE(loader.empty()) << loader.size() << " loader error(s):\n" << describe(loader);
}

std::vector<VkExtensionProperties> device_extensions(const VulkanStack& stack, const char* layer = nullptr) {
  uint32_t count = 0;
  EXPECT_EQ(vkEnumerateDeviceExtensionProperties(stack.physical_device, layer, &count, nullptr), VK_SUCCESS);
  std::vector<VkExtensionProperties> props(count);
  EXPECT_EQ(vkEnumerateDeviceExtensionProperties(stack.physical_device, layer, &count, props.data()), VK_SUCCESS);
  props.resize(count);
  return props;
}

int count_extension(const std::vector<VkExtensionProperties>& props, const char* name) {
  int n = 0;
  for (const auto& p : props)
    if (strcmp(p.extensionName, name) == 0) ++n;
  return n;
}

struct Features {
  VkPhysicalDeviceMemoryPriorityFeaturesEXT priority = vk_struct<VkPhysicalDeviceMemoryPriorityFeaturesEXT>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT);
  VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable = vk_struct<VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT);
  VkPhysicalDeviceTimelineSemaphoreFeatures timeline = vk_struct<VkPhysicalDeviceTimelineSemaphoreFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES);
  VkPhysicalDeviceFeatures2 features2 = vk_struct<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
  // features2 -> priority -> timeline -> pageable (the driver's structs around one of lavapipe's)
  Features() {
    features2.pNext = &priority;
    priority.pNext = &timeline;
    timeline.pNext = &pageable;
  }
};

// Options for a device with the three extensions and both features enabled.
struct MemoryExtensionsDevice {
  VkPhysicalDeviceMemoryPriorityFeaturesEXT priority = vk_struct<VkPhysicalDeviceMemoryPriorityFeaturesEXT>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT);
  VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable = vk_struct<VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT);
  MemoryExtensionsDevice() {
    priority.memoryPriority = VK_TRUE;
    pageable.pageableDeviceLocalMemory = VK_TRUE;
    priority.pNext = &pageable;
  }
  StackOptions options(Stack stack, std::vector<std::pair<std::string, std::string>> env = {}) const {
    StackOptions o = driver_options(stack, std::move(env));
    o.device_extensions = {kOwnExtensions[0], kOwnExtensions[1], kOwnExtensions[2]};
    o.device_pnext = &priority;
    return o;
  }
};

// ---------------------------------------------------------------------------

TEST(TestDriver, ListsEachExtensionOnce) {
  for (Stack s : {Stack::Baseline, Stack::Bare}) {
    VulkanStack stack(driver_options(s));
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << ": " << string_VkResult(stack.result());
    const auto all = device_extensions(stack);
    for (const char* name : kOwnExtensions) EXPECT_EQ(count_extension(all, name), 1) << name;
    // Lavapipe's own extensions are still there.
    EXPECT_EQ(count_extension(all, VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME), 1);

    const auto own = device_extensions(stack, "VK_LAYER_KMT_test_driver");
    ASSERT_EQ(own.size(), 3u);
    for (const char* name : kOwnExtensions) EXPECT_EQ(count_extension(own, name), 1) << name;
    expect_clean_teardown(stack);
  }
}

TEST(TestDriver, EnumerationHonoursIncomplete) {
  VulkanStack stack(driver_options(Stack::Bare));
  ASSERT_EQ(stack.result(), VK_SUCCESS);
  const auto all = device_extensions(stack);
  ASSERT_GE(all.size(), 4u);
  std::vector<VkExtensionProperties> part(all.size() - 1);
  uint32_t count = static_cast<uint32_t>(part.size());
  EXPECT_EQ(vkEnumerateDeviceExtensionProperties(stack.physical_device, nullptr, &count, part.data()), VK_INCOMPLETE);
  EXPECT_EQ(count, all.size() - 1);
  std::vector<VkExtensionProperties> one(1);
  count = 1;
  EXPECT_EQ(vkEnumerateDeviceExtensionProperties(stack.physical_device, "VK_LAYER_KMT_test_driver", &count, one.data()),
            VK_INCOMPLETE);
  EXPECT_EQ(count, 1u);
  expect_clean_teardown(stack);
}

TEST(TestDriver, ReportsFeatures) {
  VulkanStack stack(driver_options(Stack::Baseline));
  ASSERT_EQ(stack.result(), VK_SUCCESS);
  Features f;
  vkGetPhysicalDeviceFeatures2(stack.physical_device, &f.features2);
  EXPECT_TRUE(f.priority.memoryPriority);
  EXPECT_TRUE(f.pageable.pageableDeviceLocalMemory);
  EXPECT_TRUE(f.timeline.timelineSemaphore);  // lavapipe's struct, reached through the stripped chain
  // The app's chain is intact afterwards.
  EXPECT_EQ(f.features2.pNext, &f.priority);
  EXPECT_EQ(f.priority.pNext, &f.timeline);
  EXPECT_EQ(f.timeline.pNext, &f.pageable);
  EXPECT_EQ(f.pageable.pNext, nullptr);
  expect_clean_teardown(stack);
}

TEST(TestDriver, ReportsFeaturesThroughKhrEntryPointAtApi10) {
  StackOptions o = driver_options(Stack::Baseline);
  o.api_version = VK_API_VERSION_1_0;
  o.instance_extensions = {VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME};
  VulkanStack stack(o);
  ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
  auto get_features2 =
      reinterpret_cast<PFN_vkGetPhysicalDeviceFeatures2KHR>(stack.instance_proc("vkGetPhysicalDeviceFeatures2KHR"));
  ASSERT_NE(get_features2, nullptr);
  Features f;
  f.timeline.pNext = nullptr;  // core-1.2 struct: drop it at 1.0
  f.priority.pNext = &f.pageable;
  get_features2(stack.physical_device, &f.features2);
  EXPECT_TRUE(f.priority.memoryPriority);
  EXPECT_TRUE(f.pageable.pageableDeviceLocalMemory);
  expect_clean_teardown(stack);
}

TEST(TestDriver, HideAllHidesExtensionsAndFeatures) {
  VulkanStack stack(driver_options(Stack::Bare, {{"KMT_TEST_DRIVER_HIDE", "all"}}));
  ASSERT_EQ(stack.result(), VK_SUCCESS);
  const auto all = device_extensions(stack);
  for (const char* name : kOwnExtensions) EXPECT_EQ(count_extension(all, name), 0) << name;
  EXPECT_TRUE(device_extensions(stack, "VK_LAYER_KMT_test_driver").empty());
  Features f;
  f.priority.memoryPriority = VK_TRUE;
  f.pageable.pageableDeviceLocalMemory = VK_TRUE;
  vkGetPhysicalDeviceFeatures2(stack.physical_device, &f.features2);
  EXPECT_FALSE(f.priority.memoryPriority);
  EXPECT_FALSE(f.pageable.pageableDeviceLocalMemory);
  ASSERT_NE(stack.driver(), nullptr);
  EXPECT_TRUE(stack.driver()->hide_memory_priority);
  EXPECT_TRUE(stack.driver()->hide_pageable);
  EXPECT_TRUE(stack.driver()->hide_memory_budget);
  expect_clean_teardown(stack);
}

TEST(TestDriver, HideListHidesOnlyTheNamedOnes) {
  VulkanStack stack(driver_options(Stack::Baseline, {{"KMT_TEST_DRIVER_HIDE", "pageable,budget"}}));
  ASSERT_EQ(stack.result(), VK_SUCCESS);
  const auto all = device_extensions(stack);
  EXPECT_EQ(count_extension(all, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME), 1);
  EXPECT_EQ(count_extension(all, VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME), 0);
  EXPECT_EQ(count_extension(all, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME), 0);
  VkPhysicalDeviceMemoryPriorityFeaturesEXT priority = vk_struct<VkPhysicalDeviceMemoryPriorityFeaturesEXT>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT);
  VkPhysicalDeviceFeatures2 features2 = vk_struct<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &priority);
  vkGetPhysicalDeviceFeatures2(stack.physical_device, &features2);
  EXPECT_TRUE(priority.memoryPriority);
  expect_clean_teardown(stack);
}

TEST(TestDriver, HideKnobInStructTakesEffectAtOnce) {
  VulkanStack stack(driver_options(Stack::Bare));
  ASSERT_EQ(stack.result(), VK_SUCCESS);
  ASSERT_NE(stack.driver(), nullptr);
  stack.driver()->hide_memory_budget = true;
  const auto all = device_extensions(stack);
  EXPECT_EQ(count_extension(all, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME), 0);
  EXPECT_EQ(count_extension(all, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME), 1);
  stack.reset_driver();  // back to the environment's knobs
  EXPECT_FALSE(stack.driver()->hide_memory_budget);
  EXPECT_EQ(count_extension(device_extensions(stack), VK_EXT_MEMORY_BUDGET_EXTENSION_NAME), 1);
  expect_clean_teardown(stack);
}

TEST(TestDriver, HiddenExtensionCannotBeEnabled) {
  // The manifest still lists the extensions, so the loader (and validation
  // 1.3.239) let vkCreateDevice through; the driver then answers like a driver
  // without the extension.
  for (Stack s : {Stack::Bare, Stack::Baseline}) {
    MemoryExtensionsDevice dev;
    VulkanStack stack(dev.options(s, {{"KMT_TEST_DRIVER_HIDE", "pageable"}}));
    EXPECT_EQ(stack.result(), VK_ERROR_EXTENSION_NOT_PRESENT) << string_VkResult(stack.result());
    EXPECT_EQ(stack.failed_step(), "vkCreateDevice");
    EXPECT_TRUE(stack.validation_errors().empty()) << describe(stack.validation_errors());
    // Any failed vkCreateDevice makes the loader log "Failed to create device chain" as an error.
    const auto loader = stack.loader_errors();
    ASSERT_EQ(loader.size(), 1u) << describe(loader);
    EXPECT_NE(loader[0].text.find("Failed to create device chain"), std::string::npos);
    stack.clear_messages();
    expect_clean_teardown(stack);
  }
}

TEST(TestDriver, DeviceLocalOnlyTypeExistsAndWorks) {
  VulkanStack stack(driver_options(Stack::Baseline, {{"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}}));
  ASSERT_EQ(stack.result(), VK_SUCCESS) << describe(stack.messages());
  const VkPhysicalDeviceMemoryProperties props = stack.memory_properties();
  ASSERT_EQ(props.memoryTypeCount, 2u);
  EXPECT_EQ(props.memoryTypes[1].propertyFlags, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  EXPECT_EQ(props.memoryTypes[1].heapIndex, 0u);
  EXPECT_TRUE(props.memoryTypes[0].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  const uint32_t local = stack.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  ASSERT_EQ(local, 1u);

  // Properties2 agrees.
  VkPhysicalDeviceMemoryProperties2 props2 = vk_struct<VkPhysicalDeviceMemoryProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2);
  vkGetPhysicalDeviceMemoryProperties2(stack.physical_device, &props2);
  EXPECT_EQ(props2.memoryProperties.memoryTypeCount, 2u);

  // A plain allocation from it.
  EXPECT_NE(stack.allocate(1 << 20, local), VK_NULL_HANDLE);

  // GPU round trip: fill a buffer in the device-local-only type, copy it to a host-visible one.
  const VkDeviceSize size = 4096;
  VkBuffer gpu = VK_NULL_HANDLE, host = VK_NULL_HANDLE;
  VkDeviceMemory gpu_mem = stack.create_bound_buffer(size, &gpu, local);
  VkDeviceMemory host_mem = stack.create_bound_buffer(size, &host);
  ASSERT_NE(gpu_mem, VK_NULL_HANDLE);
  ASSERT_NE(host_mem, VK_NULL_HANDLE);
  VkCommandBuffer cb = stack.begin_commands();
  vkCmdFillBuffer(cb, gpu, 0, size, 0xC0FFEE11u);
  VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_ACCESS_TRANSFER_READ_BIT};
  vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &barrier, 0, nullptr,
                       0, nullptr);
  VkBufferCopy region{0, 0, size};
  vkCmdCopyBuffer(cb, gpu, host, 1, &region);
  VkMemoryBarrier to_host{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_ACCESS_HOST_READ_BIT};
  vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, nullptr, 0,
                       nullptr);
  ASSERT_EQ(stack.submit_and_wait(cb), VK_SUCCESS);
  void* mapped = nullptr;
  ASSERT_EQ(vkMapMemory(stack.device, host_mem, 0, VK_WHOLE_SIZE, 0, &mapped), VK_SUCCESS);
  const uint32_t* words = static_cast<const uint32_t*>(mapped);
  for (VkDeviceSize i = 0; i < size / 4; ++i) ASSERT_EQ(words[i], 0xC0FFEE11u) << "word " << i;
  vkUnmapMemory(stack.device, host_mem);

  // Images accept it too.
  VkImage image = VK_NULL_HANDLE;
  EXPECT_NE(stack.create_bound_image(64, 64, &image, local), VK_NULL_HANDLE);
  expect_clean_teardown(stack);
}

TEST(TestDriver, MemoryRequirementsGainTheDeviceLocalOnlyType) {
  for (bool knob : {false, true}) {
    SCOPED_TRACE(knob ? "device-local-only type on" : "off");
    std::vector<std::pair<std::string, std::string>> env;
    if (knob) env.push_back({"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"});
    VulkanStack stack(driver_options(Stack::Baseline, env));
    ASSERT_EQ(stack.result(), VK_SUCCESS);
    const uint32_t expected = knob ? 0x3u : 0x1u;
    VkBuffer buffer = stack.create_buffer(1024);
    VkImage image = stack.create_image(16, 16);

    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(stack.device, buffer, &req);
    EXPECT_EQ(req.memoryTypeBits, expected);
    vkGetImageMemoryRequirements(stack.device, image, &req);
    EXPECT_EQ(req.memoryTypeBits, expected);

    VkMemoryRequirements2 req2 = vk_struct<VkMemoryRequirements2>(VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2);
    VkBufferMemoryRequirementsInfo2 binfo{VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2, nullptr, buffer};
    vkGetBufferMemoryRequirements2(stack.device, &binfo, &req2);
    EXPECT_EQ(req2.memoryRequirements.memoryTypeBits, expected);
    VkImageMemoryRequirementsInfo2 iinfo{VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2, nullptr, image};
    vkGetImageMemoryRequirements2(stack.device, &iinfo, &req2);
    EXPECT_EQ(req2.memoryRequirements.memoryTypeBits, expected);

    VkBufferCreateInfo bci = vk_struct<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
    bci.size = 1024;
    bci.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    VkDeviceBufferMemoryRequirements dbreq{VK_STRUCTURE_TYPE_DEVICE_BUFFER_MEMORY_REQUIREMENTS, nullptr, &bci};
    vkGetDeviceBufferMemoryRequirements(stack.device, &dbreq, &req2);
    EXPECT_EQ(req2.memoryRequirements.memoryTypeBits, expected);

    VkImageCreateInfo ici = vk_struct<VkImageCreateInfo>(VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO);
    ici.imageType = VK_IMAGE_TYPE_2D;
    ici.format = VK_FORMAT_R8G8B8A8_UNORM;
    ici.extent = {16, 16, 1};
    ici.mipLevels = 1;
    ici.arrayLayers = 1;
    ici.samples = VK_SAMPLE_COUNT_1_BIT;
    ici.tiling = VK_IMAGE_TILING_OPTIMAL;
    ici.usage = VK_IMAGE_USAGE_SAMPLED_BIT;
    VkDeviceImageMemoryRequirements direq{VK_STRUCTURE_TYPE_DEVICE_IMAGE_MEMORY_REQUIREMENTS, nullptr, &ici,
                                          static_cast<VkImageAspectFlagBits>(0)};
    vkGetDeviceImageMemoryRequirements(stack.device, &direq, &req2);
    EXPECT_EQ(req2.memoryRequirements.memoryTypeBits, expected);
    expect_clean_teardown(stack);
  }
}

void query_budget(const VulkanStack& stack, VkPhysicalDeviceMemoryProperties2* props,
                  VkPhysicalDeviceMemoryBudgetPropertiesEXT* budget) {
  memset(budget, 0xAB, sizeof(*budget));
  budget->sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT;
  budget->pNext = nullptr;
  *props = vk_struct<VkPhysicalDeviceMemoryProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2, budget);
  vkGetPhysicalDeviceMemoryProperties2(stack.physical_device, props);
  EXPECT_EQ(props->pNext, budget);  // chain restored
}

TEST(TestDriver, BudgetIsFilledAndTracksAllocations) {
  VulkanStack stack(driver_options(Stack::Baseline));
  ASSERT_EQ(stack.result(), VK_SUCCESS);
  ASSERT_NE(stack.driver(), nullptr);
  VkPhysicalDeviceMemoryProperties2 props;
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget;
  query_budget(stack, &props, &budget);
  const uint32_t heaps = props.memoryProperties.memoryHeapCount;
  ASSERT_GE(heaps, 1u);
  EXPECT_EQ(budget.heapBudget[0], props.memoryProperties.memoryHeaps[0].size);
  const VkDeviceSize usage0 = budget.heapUsage[0];
  EXPECT_EQ(usage0, stack.driver()->heap_usage);
  for (uint32_t h = 1; h < heaps; ++h) EXPECT_EQ(budget.heapBudget[h], props.memoryProperties.memoryHeaps[h].size);
  for (uint32_t h = heaps; h < VK_MAX_MEMORY_HEAPS; ++h) {
    EXPECT_EQ(budget.heapBudget[h], 0u) << "heap " << h;
    EXPECT_EQ(budget.heapUsage[h], 0u) << "heap " << h;
  }

  const uint32_t count0 = stack.driver()->allocation_count;
  VkDeviceMemory a = stack.allocate(3 << 20);
  VkDeviceMemory b = stack.allocate(1 << 20);
  ASSERT_NE(a, VK_NULL_HANDLE);
  ASSERT_NE(b, VK_NULL_HANDLE);
  query_budget(stack, &props, &budget);
  EXPECT_EQ(budget.heapUsage[0], usage0 + (4u << 20));
  EXPECT_EQ(stack.driver()->allocation_count, count0 + 2);
  stack.free_memory(a);
  query_budget(stack, &props, &budget);
  EXPECT_EQ(budget.heapUsage[0], usage0 + (1u << 20));
  EXPECT_EQ(stack.driver()->allocation_count, count0 + 1);
  stack.free_memory(b);
  EXPECT_EQ(stack.driver()->heap_usage, usage0);
  expect_clean_teardown(stack);
}

TEST(TestDriver, BudgetKnobSetsHeapBudget) {
  VulkanStack stack(driver_options(Stack::Baseline, {{"KMT_TEST_DRIVER_BUDGET_MB", "64"}}));
  ASSERT_EQ(stack.result(), VK_SUCCESS);
  VkPhysicalDeviceMemoryProperties2 props;
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget;
  query_budget(stack, &props, &budget);
  EXPECT_EQ(budget.heapBudget[0], 64u << 20);
  ASSERT_NE(stack.driver(), nullptr);
  stack.driver()->heap_budget = 8u << 20;  // knobs in the struct take effect at once
  query_budget(stack, &props, &budget);
  EXPECT_EQ(budget.heapBudget[0], 8u << 20);
  expect_clean_teardown(stack);
}

class TestDriverPriority : public StackTest {
 protected:
  StackOptions options() const override { return device_.options(Stack::Baseline); }
  MemoryExtensionsDevice device_;
};

TEST_F(TestDriverPriority, RecordsAllocateAndSetPriorities) {
  kmt_test_driver_control* td = stack->driver();
  ASSERT_NE(td, nullptr);
  stack->reset_driver();
  EXPECT_EQ(td->priority_record_count, 0u);

  VkDeviceMemory plain = stack->allocate(65536);
  const float high = 0.875f;
  VkDeviceMemory prioritized = stack->allocate(65536, UINT32_MAX, &high);
  auto set_priority =
      reinterpret_cast<PFN_vkSetDeviceMemoryPriorityEXT>(stack->device_proc("vkSetDeviceMemoryPriorityEXT"));
  ASSERT_NE(set_priority, nullptr);
  set_priority(stack->device, plain, 0.25f);

  ASSERT_EQ(td->priority_record_count, 3u);
  EXPECT_EQ(td->priority_records[0].memory, reinterpret_cast<uint64_t>(plain));  // unique handles off
  EXPECT_EQ(td->priority_records[0].priority, 0.5f);
  EXPECT_EQ(td->priority_records[0].source, KMT_TD_PRIORITY_AT_ALLOCATE);
  EXPECT_EQ(td->priority_records[1].memory, reinterpret_cast<uint64_t>(prioritized));
  EXPECT_EQ(td->priority_records[1].priority, 0.875f);
  EXPECT_EQ(td->priority_records[1].source, KMT_TD_PRIORITY_AT_ALLOCATE);
  EXPECT_EQ(td->priority_records[2].memory, reinterpret_cast<uint64_t>(plain));
  EXPECT_EQ(td->priority_records[2].priority, 0.25f);
  EXPECT_EQ(td->priority_records[2].source, KMT_TD_PRIORITY_SET);
}

TEST_F(TestDriverPriority, PriorityStructAlongsideDedicatedAllocation) {
  // VkMemoryPriorityAllocateInfoEXT behind another struct: the driver strips it from a copy.
  kmt_test_driver_control* td = stack->driver();
  ASSERT_NE(td, nullptr);
  VkBuffer buffer = stack->create_buffer(4096);
  VkMemoryRequirements req{};
  vkGetBufferMemoryRequirements(stack->device, buffer, &req);
  VkMemoryPriorityAllocateInfoEXT priority{VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT, nullptr, 0.125f};
  VkMemoryDedicatedAllocateInfo dedicated{VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO, &priority, VK_NULL_HANDLE,
                                          buffer};
  VkMemoryAllocateInfo info{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, &dedicated, req.size,
                            stack->memory_type(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)};
  const uint32_t before = td->priority_record_count;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  ASSERT_EQ(vkAllocateMemory(stack->device, &info, nullptr, &memory), VK_SUCCESS);
  EXPECT_EQ(dedicated.pNext, &priority);  // the app's chain is untouched
  ASSERT_EQ(td->priority_record_count, before + 1);
  EXPECT_EQ(td->priority_records[before].memory, reinterpret_cast<uint64_t>(memory));
  EXPECT_EQ(td->priority_records[before].priority, 0.125f);
  EXPECT_EQ(vkBindBufferMemory(stack->device, buffer, memory, 0), VK_SUCCESS);
  stack->destroy_buffer(buffer);
  vkFreeMemory(stack->device, memory, nullptr);
}

TEST_F(TestDriverPriority, RecordsCreatedDevice) {
  kmt_test_driver_control* td = stack->driver();
  ASSERT_NE(td, nullptr);
  EXPECT_EQ(td->created_device_count, 1u);
  std::vector<std::string> names;
  for (uint32_t i = 0; i < td->last_device_extension_count; ++i) names.emplace_back(td->last_device_extensions[i]);
  for (const char* name : kOwnExtensions)
    EXPECT_EQ(std::count(names.begin(), names.end(), name), 1) << name;
  EXPECT_TRUE(td->last_device_memory_priority);
  EXPECT_TRUE(td->last_device_pageable);
  EXPECT_FALSE(td->last_device_timeline_semaphore);
  EXPECT_EQ(td->last_instance_api_version, VK_API_VERSION_1_3);
  bool debug_utils = false;
  for (uint32_t i = 0; i < td->last_instance_extension_count; ++i)
    debug_utils |= strcmp(td->last_instance_extensions[i], VK_EXT_DEBUG_UTILS_EXTENSION_NAME) == 0;
  EXPECT_TRUE(debug_utils);
  // The app's feature chain was not modified.
  EXPECT_EQ(device_.priority.pNext, &device_.pageable);
  EXPECT_EQ(device_.pageable.pNext, nullptr);
}

TEST(TestDriver, RecordsFeaturesFromEveryStructForm) {
  // Vulkan12Features (timeline) -> Features2 -> priority -> pageable, with the three extensions.
  MemoryExtensionsDevice dev;
  VkPhysicalDeviceFeatures2 features2 = vk_struct<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &dev.priority);
  StackOptions o = dev.options(Stack::Baseline);
  o.device_pnext = &features2;
  o.enable_features12_timeline = true;
  VulkanStack stack(o);
  ASSERT_EQ(stack.result(), VK_SUCCESS) << describe(stack.messages());
  kmt_test_driver_control* td = stack.driver();
  ASSERT_NE(td, nullptr);
  EXPECT_TRUE(td->last_device_timeline_semaphore);
  EXPECT_TRUE(td->last_device_memory_priority);
  EXPECT_TRUE(td->last_device_pageable);
  EXPECT_EQ(features2.pNext, &dev.priority);
  expect_clean_teardown(stack);

  // Dedicated timeline struct, no memory extensions, at 1.2.
  VkPhysicalDeviceTimelineSemaphoreFeatures timeline{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
                                                     nullptr, VK_TRUE};
  StackOptions o2 = driver_options(Stack::Baseline);
  o2.api_version = VK_API_VERSION_1_2;
  o2.device_pnext = &timeline;
  VulkanStack stack2(o2);
  ASSERT_EQ(stack2.result(), VK_SUCCESS) << describe(stack2.messages());
  td = stack2.driver();
  ASSERT_NE(td, nullptr);
  EXPECT_TRUE(td->last_device_timeline_semaphore);
  EXPECT_FALSE(td->last_device_memory_priority);
  EXPECT_FALSE(td->last_device_pageable);
  EXPECT_EQ(td->last_device_extension_count, 0u);
  EXPECT_EQ(td->last_instance_api_version, VK_API_VERSION_1_2);
  expect_clean_teardown(stack2);
}

TEST(TestDriver, SetPriorityWorksWithoutValidation) {
  MemoryExtensionsDevice dev;
  VulkanStack stack(dev.options(Stack::Bare));
  ASSERT_EQ(stack.result(), VK_SUCCESS);
  auto set_priority =
      reinterpret_cast<PFN_vkSetDeviceMemoryPriorityEXT>(stack.device_proc("vkSetDeviceMemoryPriorityEXT"));
  ASSERT_NE(set_priority, nullptr);
  kmt_test_driver_control* td = stack.driver();
  ASSERT_NE(td, nullptr);
  VkDeviceMemory memory = stack.allocate(4096);
  const uint32_t before = td->priority_record_count;
  set_priority(stack.device, memory, 1.0f);
  ASSERT_EQ(td->priority_record_count, before + 1);
  EXPECT_EQ(td->priority_records[before].memory, reinterpret_cast<uint64_t>(memory));
  EXPECT_EQ(td->priority_records[before].priority, 1.0f);
  EXPECT_EQ(td->priority_records[before].source, KMT_TD_PRIORITY_SET);
  expect_clean_teardown(stack);
}

class TestDriverLoss : public StackTest {
 protected:
  StackOptions options() const override {
    StackOptions o = driver_options(Stack::Baseline);
    o.enable_features12_timeline = true;
    o.device_pnext = &features13_;
    return o;
  }
  VkPhysicalDeviceVulkan13Features features13_ = [] {
    auto f = vk_struct<VkPhysicalDeviceVulkan13Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES);
    f.synchronization2 = VK_TRUE;
    return f;
  }();
};

TEST_F(TestDriverLoss, LoseDeviceFailsSubmitsAndWaits) {
  kmt_test_driver_control* td = stack->driver();
  ASSERT_NE(td, nullptr);
  // Healthy first.
  ASSERT_EQ(stack->submit_and_wait(stack->begin_commands()), VK_SUCCESS);

  VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO, nullptr, VK_SEMAPHORE_TYPE_TIMELINE, 0};
  VkSemaphoreCreateInfo sci = vk_struct<VkSemaphoreCreateInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, &type);
  VkSemaphore timeline = VK_NULL_HANDLE;
  ASSERT_EQ(vkCreateSemaphore(stack->device, &sci, nullptr, &timeline), VK_SUCCESS);
  VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, nullptr, VK_FENCE_CREATE_SIGNALED_BIT};
  VkFence fence = VK_NULL_HANDLE;
  ASSERT_EQ(vkCreateFence(stack->device, &fci, nullptr, &fence), VK_SUCCESS);

  td->lose_device = true;
  EXPECT_EQ(stack->submit_and_wait(stack->begin_commands()), VK_ERROR_DEVICE_LOST);
  VkSubmitInfo2 submit2 = vk_struct<VkSubmitInfo2>(VK_STRUCTURE_TYPE_SUBMIT_INFO_2);
  EXPECT_EQ(vkQueueSubmit2(stack->queue, 1, &submit2, VK_NULL_HANDLE), VK_ERROR_DEVICE_LOST);
  EXPECT_EQ(vkQueueWaitIdle(stack->queue), VK_ERROR_DEVICE_LOST);
  EXPECT_EQ(vkDeviceWaitIdle(stack->device), VK_ERROR_DEVICE_LOST);
  uint64_t value = 0;
  EXPECT_EQ(vkGetSemaphoreCounterValue(stack->device, timeline, &value), VK_ERROR_DEVICE_LOST);
  VkSemaphoreWaitInfo wait{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO, nullptr, 0, 1, &timeline, &value};
  EXPECT_EQ(vkWaitSemaphores(stack->device, &wait, 0), VK_ERROR_DEVICE_LOST);
  EXPECT_EQ(vkWaitForFences(stack->device, 1, &fence, VK_TRUE, 0), VK_ERROR_DEVICE_LOST);
  EXPECT_EQ(vkGetFenceStatus(stack->device, fence), VK_ERROR_DEVICE_LOST);

  td->lose_device = false;
  EXPECT_EQ(stack->wait_idle(), VK_SUCCESS);  // lets validation retire the "submitted" work
  EXPECT_EQ(vkGetFenceStatus(stack->device, fence), VK_SUCCESS);
  EXPECT_EQ(vkGetSemaphoreCounterValue(stack->device, timeline, &value), VK_SUCCESS);
  vkDestroyFence(stack->device, fence, nullptr);
  vkDestroySemaphore(stack->device, timeline, nullptr);
}

TEST_F(TestDriverLoss, TeardownWhileLostIsClean) {
  ASSERT_NE(stack->driver(), nullptr);
  stack->driver()->lose_device = true;
  EXPECT_EQ(stack->submit_and_wait(stack->begin_commands()), VK_ERROR_DEVICE_LOST);
  // TearDown: destroy() clears the knob, waits, frees; no validation error.
}

TEST(TestDriver, ValidationSeesTheDriversMemoryTypes) {
  // Validation sits above the test driver: mapping the device-local-only type is an error it reports,
  // and the fixture's validation_errors() picks it up.
  VulkanStack stack(driver_options(Stack::Baseline, {{"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}}));
  ASSERT_EQ(stack.result(), VK_SUCCESS);
  VkDeviceMemory memory = stack.allocate(4096, 1);
  ASSERT_NE(memory, VK_NULL_HANDLE);
  EXPECT_TRUE(stack.validation_errors().empty()) << describe(stack.validation_errors());
  void* mapped = nullptr;
  vkMapMemory(stack.device, memory, 0, VK_WHOLE_SIZE, 0, &mapped);
  if (mapped) vkUnmapMemory(stack.device, memory);
  const auto errors = stack.validation_errors();
  ASSERT_EQ(errors.size(), 1u) << describe(stack.messages());
  EXPECT_EQ(errors[0].id, "VUID-vkMapMemory-memory-00682");
  EXPECT_FALSE(errors[0].objects.empty());
  stack.clear_messages();
  expect_clean_teardown(stack);
}

TEST(TestDriver, TwoInstancesAtOnce) {
  // Both instances go through one copy of the library: lookups by physical
  // device / queue must find the right instance / device.
  MemoryExtensionsDevice dev;
  VulkanStack a(dev.options(Stack::Baseline));
  VulkanStack b(driver_options(Stack::Baseline));
  ASSERT_EQ(a.result(), VK_SUCCESS);
  ASSERT_EQ(b.result(), VK_SUCCESS);
  ASSERT_EQ(a.driver(), b.driver());
  kmt_test_driver_control* td = a.driver();
  ASSERT_NE(td, nullptr);
  EXPECT_EQ(td->created_device_count, 2u);
  EXPECT_FALSE(td->last_device_memory_priority);  // b's device was created last
  for (VulkanStack* s : {&a, &b}) {
    EXPECT_EQ(count_extension(device_extensions(*s), VK_EXT_MEMORY_BUDGET_EXTENSION_NAME), 1);
    Features f;
    vkGetPhysicalDeviceFeatures2(s->physical_device, &f.features2);
    EXPECT_TRUE(f.pageable.pageableDeviceLocalMemory);
    const uint64_t before = td->heap_usage;
    VkDeviceMemory m = s->allocate(1 << 20);
    EXPECT_EQ(td->heap_usage, before + (1u << 20));
    s->free_memory(m);
    EXPECT_EQ(s->submit_and_wait(s->begin_commands()), VK_SUCCESS);
  }
  td->lose_device = true;
  EXPECT_EQ(vkQueueWaitIdle(b.queue), VK_ERROR_DEVICE_LOST);
  td->lose_device = false;
  EXPECT_EQ(vkQueueWaitIdle(a.queue), VK_SUCCESS);
  EXPECT_EQ(b.wait_idle(), VK_SUCCESS);
  expect_clean_teardown(b);
  EXPECT_EQ(a.submit_and_wait(a.begin_commands()), VK_SUCCESS);
  expect_clean_teardown(a);
}

TEST(TestDriver, DestroyingADeviceDropsItsLiveAllocations) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "leaks a VkDeviceMemory on purpose: LeakSanitizer reports lavapipe's allocation";
#endif
  VulkanStack keeper(driver_options(Stack::Bare));  // keeps the library (and its counters) loaded
  ASSERT_EQ(keeper.result(), VK_SUCCESS);
  kmt_test_driver_control* td = keeper.driver();
  ASSERT_NE(td, nullptr);
  const uint64_t usage = td->heap_usage;
  const uint32_t count = td->allocation_count;
  {
    VulkanStack leaky(driver_options(Stack::Bare));  // no validation: leaking memory is not reported
    ASSERT_EQ(leaky.result(), VK_SUCCESS);
    VkMemoryAllocateInfo info = vk_struct<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
    info.allocationSize = 1 << 20;
    info.memoryTypeIndex = 0;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    ASSERT_EQ(vkAllocateMemory(leaky.device, &info, nullptr, &memory), VK_SUCCESS);
    EXPECT_EQ(td->heap_usage, usage + (1u << 20));
    EXPECT_EQ(td->allocation_count, count + 1);
  }
  EXPECT_EQ(td->heap_usage, usage);
  EXPECT_EQ(td->allocation_count, count);
  expect_clean_teardown(keeper);
}

TEST(TestDriver, DriverIsAbsentFromStacksWithoutIt) {
  VulkanStack with(driver_options(Stack::Bare));
  ASSERT_EQ(with.result(), VK_SUCCESS);
  EXPECT_NE(with.driver(), nullptr);
  expect_clean_teardown(with);
  EXPECT_EQ(with.driver(), nullptr);  // no instance any more
}

}  // namespace
}  // namespace kmt

// SPDX-License-Identifier: MIT
#include "fixture.hpp"

#include <vulkan/vk_enum_string_helper.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace kmt {

const char* stack_folder(Stack stack) {
  switch (stack) {
    case Stack::Full: return "stack";
    case Stack::Lvp: return "lvp";
    case Stack::Baseline: return "baseline";
    case Stack::Bare: return "bare";
    case Stack::Implicit: return "implicit";
  }
  return "stack";
}

static bool has_test_driver(Stack stack) {
  return stack == Stack::Full || stack == Stack::Baseline || stack == Stack::Bare;
}

// ---------------------------------------------------------------------------
// ScopedEnv

ScopedEnv::ScopedEnv(const char* name, const char* value) : name_(name) {
  if (const char* old = getenv(name)) old_ = std::string(old);
  if (value)
    setenv(name, value, 1);
  else
    unsetenv(name);
}

ScopedEnv::~ScopedEnv() {
  if (old_)
    setenv(name_.c_str(), old_->c_str(), 1);
  else
    unsetenv(name_.c_str());
}

// ---------------------------------------------------------------------------
// VulkanStack

// Variables that would change which layers load or how the test driver
// behaves: unset for every stack unless opts.env sets them.
static const char* const kClearedVariables[] = {
    "VK_ICD_FILENAMES",          "VK_ADD_DRIVER_FILES",          "VK_LAYER_PATH",
    "VK_ADD_LAYER_PATH",         "VK_INSTANCE_LAYERS",           "VK_LOADER_LAYERS_ENABLE",
    "VK_LOADER_LAYERS_DISABLE",  "VK_KMT_OFFER_RECLAIM_ENABLE",  "VK_KMT_OFFER_RECLAIM_DISABLE",
    "VK_KMT_TEST_STACK_DISABLE", "KMT_TEST_DRIVER_HIDE",         "KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE",
    "KMT_TEST_DRIVER_BUDGET_MB", "KMT_TEST_DRIVER_QUEUE_COUNT", "VK_KMT_OFFER_RECLAIM_LOG_FILE",
    "VK_KMT_OFFER_RECLAIM_TRACE", "VK_KMT_OFFER_RECLAIM_TRACE_MAX_MB",
};

VulkanStack::VulkanStack(const StackOptions& opts) : opts_(opts) {
  const std::string data_home = std::string(KMT_VKDATA_DIR) + "/" + stack_folder(opts.stack);
  for (const char* name : kClearedVariables) env_.push_back(std::make_unique<ScopedEnv>(name, nullptr));
  env_.push_back(std::make_unique<ScopedEnv>("XDG_DATA_HOME", data_home.c_str()));
  // KMT_TEST_ICD points the suites at another driver (e.g. NVIDIA's, for the
  // RealDriver tests on a machine with a GPU); lavapipe otherwise.
  const char* icd = getenv("KMT_TEST_ICD");
  env_.push_back(std::make_unique<ScopedEnv>("VK_DRIVER_FILES", icd && *icd ? icd : KMT_LVP_ICD));
  env_.push_back(std::make_unique<ScopedEnv>("NODEVICE_SELECT", "1"));
  env_.push_back(
      std::make_unique<ScopedEnv>("VK_LAYER_DISABLES", "VK_VALIDATION_FEATURE_DISABLE_UNIQUE_HANDLES_EXT"));
  for (const auto& [name, value] : opts.env) env_.push_back(std::make_unique<ScopedEnv>(name.c_str(), value.c_str()));

  std::vector<std::string> device_extensions = opts.device_extensions;
  if (opts.enable_extension) device_extensions.push_back(VK_KMT_OFFER_RECLAIM_EXTENSION_NAME);
  result_ = create(device_extensions);
}

VulkanStack::~VulkanStack() { destroy(); }

void VulkanStack::fail(VkResult result, const char* step) {
  if (result_ == VK_SUCCESS) {
    result_ = result;
    failed_step_ = step;
  }
}

VkResult VulkanStack::create(const std::vector<std::string>& device_extensions) {
  VkApplicationInfo app = {};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "kmt_e2e_tests";
  app.pEngineName = "kmt";
  app.apiVersion = opts_.api_version;

  std::vector<const char*> instance_extensions;
  if (opts_.debug_utils) instance_extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  for (const auto& e : opts_.instance_extensions) instance_extensions.push_back(e.c_str());

  // Chained into the instance create info too, so messages from
  // vkCreateInstance / vkDestroyInstance are caught.
  VkDebugUtilsMessengerCreateInfoEXT messenger_info = {};
  messenger_info.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
  messenger_info.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT |
                                   VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                                   VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  if (opts_.verbose_messages) messenger_info.messageSeverity |= VK_DEBUG_UTILS_MESSAGE_SEVERITY_VERBOSE_BIT_EXT;
  messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger_info.pfnUserCallback = &VulkanStack::on_message;
  messenger_info.pUserData = this;

  VkInstanceCreateInfo ici = {};
  ici.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  ici.pNext = opts_.debug_utils ? &messenger_info : nullptr;
  ici.pApplicationInfo = &app;
  ici.enabledExtensionCount = static_cast<uint32_t>(instance_extensions.size());
  ici.ppEnabledExtensionNames = instance_extensions.data();
  VkResult r = vkCreateInstance(&ici, opts_.allocator, &instance);
  if (r != VK_SUCCESS) {
    instance = VK_NULL_HANDLE;
    fail(r, "vkCreateInstance");
    return r;
  }

  if (opts_.debug_utils) {
    auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
    if (!create_messenger) {
      fail(VK_ERROR_EXTENSION_NOT_PRESENT, "vkGetInstanceProcAddr(vkCreateDebugUtilsMessengerEXT)");
      return result_;
    }
    r = create_messenger(instance, &messenger_info, nullptr, &messenger_);
    if (r != VK_SUCCESS) {
      messenger_ = VK_NULL_HANDLE;
      fail(r, "vkCreateDebugUtilsMessengerEXT");
      return r;
    }
  }

  uint32_t count = 0;
  r = vkEnumeratePhysicalDevices(instance, &count, nullptr);
  if (r != VK_SUCCESS || count == 0) {
    fail(r != VK_SUCCESS ? r : VK_ERROR_INITIALIZATION_FAILED, "vkEnumeratePhysicalDevices");
    return result_;
  }
  std::vector<VkPhysicalDevice> physical_devices(count);
  r = vkEnumeratePhysicalDevices(instance, &count, physical_devices.data());
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
    fail(r, "vkEnumeratePhysicalDevices");
    return r;
  }
  physical_device = physical_devices[0];

  uint32_t family_count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &family_count, nullptr);
  std::vector<VkQueueFamilyProperties> families(family_count);
  vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &family_count, families.data());
  queue_family = 0;
  for (uint32_t i = 0; i < family_count; ++i) {
    if (families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) {
      queue_family = i;
      break;
    }
  }

  if (!opts_.create_device) return VK_SUCCESS;

  const float queue_priority = 1.0f;
  VkDeviceQueueCreateInfo qci = {};
  qci.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  qci.queueFamilyIndex = queue_family;
  qci.queueCount = 1;
  qci.pQueuePriorities = &queue_priority;

  std::vector<const char*> extension_names;
  for (const auto& e : device_extensions) extension_names.push_back(e.c_str());

  VkPhysicalDeviceVulkan12Features features12 = {};
  features12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  features12.pNext = const_cast<void*>(opts_.device_pnext);
  features12.timelineSemaphore = VK_TRUE;

  VkDeviceCreateInfo dci = {};
  dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  dci.pNext = opts_.enable_features12_timeline ? &features12 : opts_.device_pnext;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = static_cast<uint32_t>(extension_names.size());
  dci.ppEnabledExtensionNames = extension_names.data();
  r = vkCreateDevice(physical_device, &dci, opts_.allocator, &device);
  if (r != VK_SUCCESS) {
    device = VK_NULL_HANDLE;
    fail(r, "vkCreateDevice");
    return r;
  }
  vkGetDeviceQueue(device, queue_family, 0, &queue);

  offer = reinterpret_cast<PFN_vkOfferAllocationsKMT>(device_proc("vkOfferAllocationsKMT"));
  reclaim = reinterpret_cast<PFN_vkReclaimAllocationsKMT>(device_proc("vkReclaimAllocationsKMT"));
  get_paging_fence = reinterpret_cast<PFN_vkGetPagingFenceKMT>(device_proc("vkGetPagingFenceKMT"));
  get_state = reinterpret_cast<PFN_vkGetAllocationStateKMT>(device_proc("vkGetAllocationStateKMT"));
  return VK_SUCCESS;
}

void VulkanStack::destroy() {
  if (device) {
    // A simulated device loss ends here, so that the wait below lets validation
    // retire what was "submitted" while the device was lost.
    if (kmt_test_driver_control* td = driver()) td->lose_device = false;
    vkDeviceWaitIdle(device);
    release_deferred();
    for (VkBuffer b : buffers_) vkDestroyBuffer(device, b, nullptr);
    for (VkImage i : images_) vkDestroyImage(device, i, nullptr);
    for (VkDeviceMemory m : memories_) vkFreeMemory(device, m, nullptr);
    if (pool_) vkDestroyCommandPool(device, pool_, nullptr);
    vkDestroyDevice(device, opts_.allocator);
  }
  buffers_.clear();
  images_.clear();
  memories_.clear();
  pool_ = VK_NULL_HANDLE;
  device = VK_NULL_HANDLE;
  queue = VK_NULL_HANDLE;
  offer = nullptr;
  reclaim = nullptr;
  get_paging_fence = nullptr;
  get_state = nullptr;
  if (messenger_) {
    auto destroy_messenger = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy_messenger) destroy_messenger(instance, messenger_, nullptr);
    messenger_ = VK_NULL_HANDLE;
  }
  if (instance) vkDestroyInstance(instance, opts_.allocator);
  instance = VK_NULL_HANDLE;
  physical_device = VK_NULL_HANDLE;
}

VKAPI_ATTR VkBool32 VKAPI_CALL VulkanStack::on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                       VkDebugUtilsMessageTypeFlagsEXT,
                                                       const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                       void* user) {
  auto* self = static_cast<VulkanStack*>(user);
  Message m;
  m.severity = severity;
  m.id = data->pMessageIdName ? data->pMessageIdName : "";
  m.text = data->pMessage ? data->pMessage : "";
  m.id_number = data->messageIdNumber;
  for (uint32_t i = 0; i < data->objectCount; ++i) {
    m.objects.push_back(data->pObjects[i].objectHandle);
    m.object_types.push_back(data->pObjects[i].objectType);
    m.object_names.push_back(data->pObjects[i].pObjectName ? data->pObjects[i].pObjectName : "");
  }
  std::lock_guard<std::mutex> guard(self->messages_lock_);
  self->messages_.push_back(std::move(m));
  return VK_FALSE;
}

kmt_test_driver_control* VulkanStack::driver() const {
  if (!instance || !has_test_driver(opts_.stack)) return nullptr;
  // RTLD_NOLOAD: only the copy the loader holds for this instance. The extra
  // reference is dropped at once; the loader keeps the library until
  // vkDestroyInstance, so the pointer is good for this stack's lifetime.
  void* lib = dlopen(KMT_TEST_DRIVER_PATH, RTLD_NOW | RTLD_NOLOAD);
  if (!lib) return nullptr;
  auto fn = reinterpret_cast<PFN_kmt_test_driver_control>(dlsym(lib, "kmt_test_driver_control"));
  kmt_test_driver_control* control = fn ? fn() : nullptr;
  dlclose(lib);
  return control;
}

void VulkanStack::reset_driver() const {
  if (!instance || !has_test_driver(opts_.stack)) return;
  void* lib = dlopen(KMT_TEST_DRIVER_PATH, RTLD_NOW | RTLD_NOLOAD);
  if (!lib) return;
  auto fn = reinterpret_cast<PFN_kmt_test_driver_reset>(dlsym(lib, "kmt_test_driver_reset"));
  if (fn) fn();
  dlclose(lib);
}

std::vector<Message> VulkanStack::messages() const {
  std::lock_guard<std::mutex> guard(messages_lock_);
  return messages_;
}

std::vector<Message> VulkanStack::messages_with_id(const std::string& prefix) const {
  std::vector<Message> out;
  std::lock_guard<std::mutex> guard(messages_lock_);
  for (const auto& m : messages_)
    if (m.id.compare(0, prefix.size(), prefix) == 0) out.push_back(m);
  return out;
}

std::vector<Message> VulkanStack::validation_errors() const {
  std::vector<Message> out;
  std::lock_guard<std::mutex> guard(messages_lock_);
  for (const auto& m : messages_) {
    if (m.severity != VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) continue;
    if (m.id.rfind("VUID-", 0) == 0 || m.id.rfind("UNASSIGNED-", 0) == 0) out.push_back(m);
  }
  return out;
}

std::vector<Message> VulkanStack::loader_errors() const {
  std::vector<Message> out;
  std::lock_guard<std::mutex> guard(messages_lock_);
  for (const auto& m : messages_)
    if (m.severity == VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT && m.id == "Loader Message") out.push_back(m);
  return out;
}

void VulkanStack::clear_messages() {
  std::lock_guard<std::mutex> guard(messages_lock_);
  messages_.clear();
}

PFN_vkVoidFunction VulkanStack::device_proc(const char* name) const {
  return device ? vkGetDeviceProcAddr(device, name) : nullptr;
}

PFN_vkVoidFunction VulkanStack::instance_proc(const char* name) const {
  return instance ? vkGetInstanceProcAddr(instance, name) : nullptr;
}

VkPhysicalDeviceMemoryProperties VulkanStack::memory_properties() const {
  VkPhysicalDeviceMemoryProperties props = {};
  if (physical_device) vkGetPhysicalDeviceMemoryProperties(physical_device, &props);
  return props;
}

uint32_t VulkanStack::memory_type(VkMemoryPropertyFlags required, VkMemoryPropertyFlags excluded) const {
  const VkPhysicalDeviceMemoryProperties props = memory_properties();
  for (uint32_t i = 0; i < props.memoryTypeCount; ++i) {
    const VkMemoryPropertyFlags f = props.memoryTypes[i].propertyFlags;
    if ((f & required) == required && (f & excluded) == 0) return i;
  }
  return UINT32_MAX;
}

static uint32_t first_type_in(const VkPhysicalDeviceMemoryProperties& props, uint32_t bits,
                              VkMemoryPropertyFlags required) {
  for (uint32_t i = 0; i < props.memoryTypeCount; ++i)
    if ((bits & (1u << i)) && (props.memoryTypes[i].propertyFlags & required) == required) return i;
  return UINT32_MAX;
}

VkDeviceMemory VulkanStack::allocate(VkDeviceSize size, uint32_t type_index, const float* priority) {
  if (type_index == UINT32_MAX) type_index = memory_type(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  VkMemoryPriorityAllocateInfoEXT priority_info = {};
  priority_info.sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT;
  priority_info.priority = priority ? *priority : 0.5f;
  VkMemoryAllocateInfo info = {};
  info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  info.pNext = priority ? &priority_info : nullptr;
  info.allocationSize = size;
  info.memoryTypeIndex = type_index;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  const VkResult r = vkAllocateMemory(device, &info, nullptr, &memory);
  EXPECT_EQ(r, VK_SUCCESS) << "vkAllocateMemory(" << size << ", type " << type_index << "): " << string_VkResult(r);
  if (r != VK_SUCCESS) return VK_NULL_HANDLE;
  memories_.push_back(memory);
  learn_driver_memory(memory);
  return memory;
}

void VulkanStack::learn_driver_memory(VkDeviceMemory memory) {
  if (kmt_test_driver_control* c = driver()) {
    pthread_mutex_lock(&c->lock);
    driver_memories_[memory] = c->last_allocated_memory;
    pthread_mutex_unlock(&c->lock);
  }
}

uint64_t VulkanStack::driver_memory(VkDeviceMemory memory) const {
  auto it = driver_memories_.find(memory);
  return it == driver_memories_.end() ? reinterpret_cast<uint64_t>(memory) : it->second;
}

VkBuffer VulkanStack::create_buffer(VkDeviceSize size, VkBufferUsageFlags usage) {
  VkBufferCreateInfo info = {};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = size;
  info.usage = usage;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer buffer = VK_NULL_HANDLE;
  const VkResult r = vkCreateBuffer(device, &info, nullptr, &buffer);
  EXPECT_EQ(r, VK_SUCCESS) << "vkCreateBuffer: " << string_VkResult(r);
  if (r != VK_SUCCESS) return VK_NULL_HANDLE;
  buffers_.push_back(buffer);
  return buffer;
}

static bool uses_dedicated_allocation(const StackOptions& opts) {
  if (VK_API_VERSION_MINOR(opts.api_version) >= 1 || VK_API_VERSION_MAJOR(opts.api_version) > 1) return true;
  return std::find(opts.device_extensions.begin(), opts.device_extensions.end(),
                   VK_KHR_DEDICATED_ALLOCATION_EXTENSION_NAME) != opts.device_extensions.end();
}

VkDeviceMemory VulkanStack::create_bound_buffer(VkDeviceSize size, VkBuffer* out_buffer, uint32_t type_index) {
  if (out_buffer) *out_buffer = VK_NULL_HANDLE;
  VkBuffer buffer = create_buffer(size);
  if (!buffer) return VK_NULL_HANDLE;
  VkMemoryRequirements req = {};
  vkGetBufferMemoryRequirements(device, buffer, &req);
  if (type_index == UINT32_MAX)
    type_index = first_type_in(memory_properties(), req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  EXPECT_NE(type_index, UINT32_MAX) << "no host-visible type in memoryTypeBits " << req.memoryTypeBits;
  EXPECT_TRUE(req.memoryTypeBits & (1u << type_index)) << "type " << type_index << " not in " << req.memoryTypeBits;

  VkMemoryDedicatedAllocateInfo dedicated = {};
  dedicated.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
  dedicated.buffer = buffer;
  VkMemoryAllocateInfo info = {};
  info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  info.pNext = uses_dedicated_allocation(opts_) ? &dedicated : nullptr;
  info.allocationSize = req.size;
  info.memoryTypeIndex = type_index;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkResult r = vkAllocateMemory(device, &info, nullptr, &memory);
  EXPECT_EQ(r, VK_SUCCESS) << "vkAllocateMemory (dedicated buffer): " << string_VkResult(r);
  if (r != VK_SUCCESS) return VK_NULL_HANDLE;
  memories_.push_back(memory);
  learn_driver_memory(memory);
  r = vkBindBufferMemory(device, buffer, memory, 0);
  EXPECT_EQ(r, VK_SUCCESS) << "vkBindBufferMemory: " << string_VkResult(r);
  if (out_buffer) *out_buffer = buffer;
  return memory;
}

VkImage VulkanStack::create_image(uint32_t width, uint32_t height) {
  VkImageCreateInfo info = {};
  info.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO;
  info.imageType = VK_IMAGE_TYPE_2D;
  info.format = VK_FORMAT_R8G8B8A8_UNORM;
  info.extent = {width, height, 1};
  info.mipLevels = 1;
  info.arrayLayers = 1;
  info.samples = VK_SAMPLE_COUNT_1_BIT;
  info.tiling = VK_IMAGE_TILING_OPTIMAL;
  info.usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  VkImage image = VK_NULL_HANDLE;
  const VkResult r = vkCreateImage(device, &info, nullptr, &image);
  EXPECT_EQ(r, VK_SUCCESS) << "vkCreateImage: " << string_VkResult(r);
  if (r != VK_SUCCESS) return VK_NULL_HANDLE;
  images_.push_back(image);
  return image;
}

VkDeviceMemory VulkanStack::create_bound_image(uint32_t width, uint32_t height, VkImage* out_image,
                                               uint32_t type_index) {
  if (out_image) *out_image = VK_NULL_HANDLE;
  VkImage image = create_image(width, height);
  if (!image) return VK_NULL_HANDLE;
  VkMemoryRequirements req = {};
  vkGetImageMemoryRequirements(device, image, &req);
  if (type_index == UINT32_MAX)
    type_index = first_type_in(memory_properties(), req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  EXPECT_NE(type_index, UINT32_MAX) << "no host-visible type in memoryTypeBits " << req.memoryTypeBits;
  EXPECT_TRUE(req.memoryTypeBits & (1u << type_index)) << "type " << type_index << " not in " << req.memoryTypeBits;

  VkMemoryDedicatedAllocateInfo dedicated = {};
  dedicated.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
  dedicated.image = image;
  VkMemoryAllocateInfo info = {};
  info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  info.pNext = uses_dedicated_allocation(opts_) ? &dedicated : nullptr;
  info.allocationSize = req.size;
  info.memoryTypeIndex = type_index;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkResult r = vkAllocateMemory(device, &info, nullptr, &memory);
  EXPECT_EQ(r, VK_SUCCESS) << "vkAllocateMemory (dedicated image): " << string_VkResult(r);
  if (r != VK_SUCCESS) return VK_NULL_HANDLE;
  memories_.push_back(memory);
  learn_driver_memory(memory);
  r = vkBindImageMemory(device, image, memory, 0);
  EXPECT_EQ(r, VK_SUCCESS) << "vkBindImageMemory: " << string_VkResult(r);
  if (out_image) *out_image = image;
  return memory;
}

VkCommandBuffer VulkanStack::begin_commands() {
  if (!pool_) {
    VkCommandPoolCreateInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    info.queueFamilyIndex = queue_family;
    const VkResult r = vkCreateCommandPool(device, &info, nullptr, &pool_);
    EXPECT_EQ(r, VK_SUCCESS) << "vkCreateCommandPool: " << string_VkResult(r);
    if (r != VK_SUCCESS) {
      pool_ = VK_NULL_HANDLE;
      return VK_NULL_HANDLE;
    }
  }
  VkCommandBufferAllocateInfo alloc = {};
  alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  alloc.commandPool = pool_;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  VkCommandBuffer cb = VK_NULL_HANDLE;
  VkResult r = vkAllocateCommandBuffers(device, &alloc, &cb);
  EXPECT_EQ(r, VK_SUCCESS) << "vkAllocateCommandBuffers: " << string_VkResult(r);
  if (r != VK_SUCCESS) return VK_NULL_HANDLE;
  VkCommandBufferBeginInfo begin = {};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  r = vkBeginCommandBuffer(cb, &begin);
  EXPECT_EQ(r, VK_SUCCESS) << "vkBeginCommandBuffer: " << string_VkResult(r);
  return cb;
}

VkResult VulkanStack::submit_and_wait(VkCommandBuffer cb) {
  VkResult r = vkEndCommandBuffer(cb);
  if (r == VK_SUCCESS) {
    VkFenceCreateInfo fence_info = {};
    fence_info.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    VkFence fence = VK_NULL_HANDLE;
    r = vkCreateFence(device, &fence_info, nullptr, &fence);
    if (r == VK_SUCCESS) {
      VkSubmitInfo submit = {};
      submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
      submit.commandBufferCount = 1;
      submit.pCommandBuffers = &cb;
      r = vkQueueSubmit(queue, 1, &submit, fence);
      if (r == VK_SUCCESS) r = vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX);
      if (r != VK_SUCCESS) {
        // Validation counts a submission as pending even when vkQueueSubmit
        // failed (VK_ERROR_DEVICE_LOST from the lose_device knob) and retires
        // it only at a successful wait: freeing now would be reported as
        // VUID-vkFreeCommandBuffers-pCommandBuffers-00047 / VUID-vkDestroyFence-fence-01120.
        deferred_fences_.push_back(fence);
        deferred_command_buffers_.push_back(cb);
        return r;
      }
      vkDestroyFence(device, fence, nullptr);
    }
  }
  vkFreeCommandBuffers(device, pool_, 1, &cb);
  return r;
}

void VulkanStack::release_deferred() {
  for (VkFence f : deferred_fences_) vkDestroyFence(device, f, nullptr);
  if (!deferred_command_buffers_.empty())
    vkFreeCommandBuffers(device, pool_, static_cast<uint32_t>(deferred_command_buffers_.size()),
                         deferred_command_buffers_.data());
  deferred_fences_.clear();
  deferred_command_buffers_.clear();
}

VkResult VulkanStack::wait_idle() {
  if (!device) return VK_ERROR_INITIALIZATION_FAILED;
  const VkResult r = vkDeviceWaitIdle(device);
  if (r == VK_SUCCESS) release_deferred();
  return r;
}

template <typename T>
static bool erase_handle(std::vector<T>& v, T h) {
  auto it = std::find(v.begin(), v.end(), h);
  if (it == v.end()) return false;
  v.erase(it);
  return true;
}

void VulkanStack::destroy_buffer(VkBuffer buffer) {
  erase_handle(buffers_, buffer);
  vkDestroyBuffer(device, buffer, nullptr);
}

void VulkanStack::destroy_image(VkImage image) {
  erase_handle(images_, image);
  vkDestroyImage(device, image, nullptr);
}

void VulkanStack::free_memory(VkDeviceMemory memory) {
  erase_handle(memories_, memory);
  vkFreeMemory(device, memory, nullptr);
}

// ---------------------------------------------------------------------------

static const char* severity_name(VkDebugUtilsMessageSeverityFlagBitsEXT s) {
  switch (s) {
    case VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT: return "ERROR";
    case VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT: return "WARNING";
    case VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT: return "INFO";
    default: return "VERBOSE";
  }
}

std::string describe(const std::vector<Message>& messages) {
  std::ostringstream out;
  for (const auto& m : messages) out << "  [" << severity_name(m.severity) << "] " << m.id << ": " << m.text << "\n";
  return out.str();
}

void StackTest::SetUp() {
  stack = std::make_unique<VulkanStack>(options());
  ASSERT_EQ(stack->result(), VK_SUCCESS) << stack->failed_step() << " failed: " << string_VkResult(stack->result())
                                         << "\n" << describe(stack->messages());
}

void StackTest::TearDown() {
  if (!stack) return;
  stack->destroy();  // errors reported while destroying count too
  const auto errors = stack->validation_errors();
  EXPECT_TRUE(errors.empty()) << errors.size() << " validation error(s):\n" << describe(errors);
  const auto loader = stack->loader_errors();
  EXPECT_TRUE(loader.empty()) << loader.size() << " loader error(s):\n" << describe(loader);
  stack.reset();
}

}  // namespace kmt

// SPDX-License-Identifier: MIT
#include "bench_stack.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kmtb {

// Variables that would change which layers load, how the test driver behaves
// or what the layer does: cleared so that every run measures the same stack.
static const char* const kCleared[] = {
    "VK_ICD_FILENAMES",
    "VK_ADD_DRIVER_FILES",
    "VK_LAYER_PATH",
    "VK_ADD_LAYER_PATH",
    "VK_INSTANCE_LAYERS",
    "VK_LOADER_LAYERS_ENABLE",
    "VK_LOADER_LAYERS_DISABLE",
    "VK_LAYER_SETTINGS_PATH",
    "VK_KMT_OFFER_RECLAIM_ENABLE",
    "VK_KMT_OFFER_RECLAIM_DISABLE",
    "VK_KMT_OFFER_RECLAIM_DISCARD",
    "VK_KMT_OFFER_RECLAIM_DISCARD_RATE",
    "VK_KMT_OFFER_RECLAIM_DISCARD_SEED",
    "VK_KMT_OFFER_RECLAIM_DISCARD_FILL",
    "VK_KMT_OFFER_RECLAIM_BUDGET_MB",
    "VK_KMT_OFFER_RECLAIM_OFFERED_PRIORITY",
    "VK_KMT_OFFER_RECLAIM_STATS",
    "VK_KMT_OFFER_RECLAIM_LOG_LEVEL",
    "VK_KMT_OFFER_RECLAIM_LOG_FILE",
    "VK_KMT_OFFER_RECLAIM_TRACE",
    "VK_KMT_OFFER_RECLAIM_TRACE_MAX_MB",
    "VK_KMT_TEST_STACK_DISABLE",
    "KMT_TEST_DRIVER_HIDE",
    "KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE",
    "KMT_TEST_DRIVER_BUDGET_MB",
};

void prepare_environment(const char* folder) {
  for (const char* name : kCleared) unsetenv(name);
  const std::string home = std::string(KMT_VKDATA_DIR) + "/" + folder;
  setenv("XDG_DATA_HOME", home.c_str(), 1);
  // KMT_TEST_ICD: another driver (a vendor's, on a machine with a GPU); lavapipe otherwise.
  const char* icd = getenv("KMT_TEST_ICD");
  setenv("VK_DRIVER_FILES", icd && *icd ? icd : KMT_LVP_ICD, 1);
  setenv("NODEVICE_SELECT", "1", 1);
}

std::string Instance::create(const char* folder) {
  prepare_environment(folder);
  return create_prepared(folder);
}

std::string Instance::create_prepared(const char* folder) {
  VkApplicationInfo app = {};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "kmt_benchmarks";
  app.apiVersion = VK_API_VERSION_1_3;
  VkInstanceCreateInfo ici = {};
  ici.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  ici.pApplicationInfo = &app;
  VkResult r = vkCreateInstance(&ici, nullptr, &handle);
  if (r != VK_SUCCESS) {
    handle = VK_NULL_HANDLE;
    return "vkCreateInstance(" + std::string(folder) + ") = " + std::to_string(r);
  }
  uint32_t count = 1;
  r = vkEnumeratePhysicalDevices(handle, &count, &physical);
  if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || count == 0) return "vkEnumeratePhysicalDevices";
  uint32_t family_count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &family_count, nullptr);
  std::vector<VkQueueFamilyProperties> families(family_count);
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &family_count, families.data());
  for (uint32_t i = 0; i < family_count; ++i) {
    if (families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) {
      family = i;
      break;
    }
  }
  vkGetPhysicalDeviceMemoryProperties(physical, &memory);
  return "";
}

void Instance::destroy() {
  if (handle) vkDestroyInstance(handle, nullptr);
  handle = VK_NULL_HANDLE;
}

template <typename T>
static void load(VkDevice device, T& out, const char* name) {
  out = reinterpret_cast<T>(vkGetDeviceProcAddr(device, name));
}

std::string Device::create(const Instance& instance, const std::vector<const char*>& extensions) {
  const float queue_priority = 1.0f;
  VkDeviceQueueCreateInfo qci = {};
  qci.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  qci.queueFamilyIndex = instance.family;
  qci.queueCount = 1;
  qci.pQueuePriorities = &queue_priority;

  bool pageable = false;
  for (const char* e : extensions)
    if (std::strcmp(e, VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME) == 0) pageable = true;
  VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable_features = {};
  pageable_features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT;
  pageable_features.pageableDeviceLocalMemory = VK_TRUE;
  VkPhysicalDeviceMemoryPriorityFeaturesEXT priority_features = {};
  priority_features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT;
  priority_features.pNext = &pageable_features;
  priority_features.memoryPriority = VK_TRUE;

  VkDeviceCreateInfo dci = {};
  dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  dci.pNext = pageable ? &priority_features : nullptr;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  dci.ppEnabledExtensionNames = extensions.data();
  VkResult r = vkCreateDevice(instance.physical, &dci, nullptr, &handle);
  if (r != VK_SUCCESS) {
    handle = VK_NULL_HANDLE;
    return "vkCreateDevice = " + std::to_string(r);
  }
  load(handle, destroy_device, "vkDestroyDevice");
  load(handle, allocate_memory, "vkAllocateMemory");
  load(handle, free_memory, "vkFreeMemory");
  load(handle, create_buffer, "vkCreateBuffer");
  load(handle, destroy_buffer, "vkDestroyBuffer");
  load(handle, buffer_requirements, "vkGetBufferMemoryRequirements");
  load(handle, bind_buffer, "vkBindBufferMemory");
  load(handle, queue_submit, "vkQueueSubmit");
  load(handle, queue_wait_idle, "vkQueueWaitIdle");
  load(handle, device_wait_idle, "vkDeviceWaitIdle");
  load(handle, create_command_pool, "vkCreateCommandPool");
  load(handle, destroy_command_pool, "vkDestroyCommandPool");
  load(handle, allocate_command_buffers, "vkAllocateCommandBuffers");
  load(handle, begin_command_buffer, "vkBeginCommandBuffer");
  load(handle, end_command_buffer, "vkEndCommandBuffer");
  load(handle, set_priority, "vkSetDeviceMemoryPriorityEXT");
  load(handle, offer, "vkOfferAllocationsKMT");
  load(handle, reclaim, "vkReclaimAllocationsKMT");
  load(handle, get_paging_fence, "vkGetPagingFenceKMT");
  load(handle, make_resident, "vkMakeResidentKMT");
  load(handle, evict, "vkEvictKMT");
  PFN_vkGetDeviceQueue get_queue = nullptr;
  load(handle, get_queue, "vkGetDeviceQueue");
  get_queue(handle, instance.family, 0, &queue);

  host_type = UINT32_MAX;
  const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  for (uint32_t i = 0; i < instance.memory.memoryTypeCount; ++i) {
    if ((instance.memory.memoryTypes[i].propertyFlags & want) == want) {
      host_type = i;
      break;
    }
  }
  if (host_type == UINT32_MAX) return "no host-visible memory type";
  return "";
}

void Device::destroy() {
  if (handle) destroy_device(handle, nullptr);
  handle = VK_NULL_HANDLE;
}

VkDeviceMemory Device::allocate(VkDeviceSize size) {
  VkMemoryAllocateInfo info = {};
  info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  info.allocationSize = size;
  info.memoryTypeIndex = host_type;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  return allocate_memory(handle, &info, nullptr, &memory) == VK_SUCCESS ? memory : VK_NULL_HANDLE;
}

size_t heap_in_use() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

size_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace kmtb

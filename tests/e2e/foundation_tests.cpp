// SPDX-License-Identifier: MIT
// Foundation: how the layer is found and enabled, what it advertises, what it
// enables underneath (and what it hides), and that it leaves the app's create
// info and devices that did not enable the extension alone. Through the real
// loader, with validation in every stack (below the layer) and zero
// validation errors.
#include <vulkan/vk_enum_string_helper.h>
#include <vulkan/vk_kmt_residency.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

using Env = std::vector<std::pair<std::string, std::string>>;

const char* const kUnderneath[] = {
    VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME,
    VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME,
    VK_EXT_MEMORY_BUDGET_EXTENSION_NAME,
};

// The layer's own implicit manifest (XDG_DATA_HOME=<build>/vkdata/implicit),
// with validation enabled explicitly: an implicit layer sits above explicit
// ones, so validation is below the layer and checks what it passes down.
StackOptions
implicit_options(Env env, bool enable_extension)
{
    StackOptions o;
    o.stack = Stack::Implicit;
    o.enable_extension = enable_extension;
    o.env = std::move(env);
    o.env.emplace_back("VK_INSTANCE_LAYERS", "VK_LAYER_KHRONOS_validation");
    return o;
}

StackOptions
full_options(uint32_t api_version, bool enable_extension = true)
{
    StackOptions o;
    o.api_version = api_version;
    o.enable_extension = enable_extension;
    return o;
}

// What StackTest::TearDown checks, for tests that own their stacks.
void
expect_clean_teardown(VulkanStack& stack)
{
    stack.destroy();
    const auto errors = stack.validation_errors();
    EXPECT_TRUE(errors.empty()) << errors.size() << " validation error(s):\n" << describe(errors);
    const auto loader = stack.loader_errors();
    EXPECT_TRUE(loader.empty()) << loader.size() << " loader error(s):\n" << describe(loader);
}

std::vector<VkExtensionProperties>
device_extensions(VkPhysicalDevice physical_device, const char* layer = nullptr)
{
    uint32_t count = 0;
    EXPECT_EQ(vkEnumerateDeviceExtensionProperties(physical_device, layer, &count, nullptr), VK_SUCCESS);
    std::vector<VkExtensionProperties> props(count);
    EXPECT_EQ(vkEnumerateDeviceExtensionProperties(physical_device, layer, &count, props.data()), VK_SUCCESS);
    props.resize(count);
    return props;
}

int
count_extension(const std::vector<VkExtensionProperties>& props, const char* name)
{
    return static_cast<int>(std::count_if(props.begin(), props.end(), [name](const VkExtensionProperties& p) {
        return strcmp(p.extensionName, name) == 0;
    }));
}

bool
instance_layer_listed(const char* name)
{
    uint32_t count = 0;
    EXPECT_EQ(vkEnumerateInstanceLayerProperties(&count, nullptr), VK_SUCCESS);
    std::vector<VkLayerProperties> layers(count);
    EXPECT_EQ(vkEnumerateInstanceLayerProperties(&count, layers.data()), VK_SUCCESS);
    layers.resize(count);
    return std::any_of(layers.begin(), layers.end(),
                       [name](const VkLayerProperties& l) { return strcmp(l.layerName, name) == 0; });
}

std::vector<std::string>
driver_device_extensions(kmt_test_driver_control* td)
{
    std::vector<std::string> out;
    for (uint32_t i = 0; i < td->last_device_extension_count && i < KMT_TD_MAX_EXTENSIONS; i++)
        out.emplace_back(td->last_device_extensions[i]);
    return out;
}

std::vector<std::string>
driver_instance_extensions(kmt_test_driver_control* td)
{
    std::vector<std::string> out;
    for (uint32_t i = 0; i < td->last_instance_extension_count && i < KMT_TD_MAX_EXTENSIONS; i++)
        out.emplace_back(td->last_instance_extensions[i]);
    return out;
}

long
count_name(const std::vector<std::string>& names, const char* name)
{
    return std::count(names.begin(), names.end(), std::string(name));
}

// The layer is loaded and the extension works on this stack's device.
void
expect_layer_active(VulkanStack& stack)
{
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << ": " << string_VkResult(stack.result()) << "\n"
                                          << describe(stack.messages());
    EXPECT_EQ(count_extension(device_extensions(stack.physical_device), VK_KMT_OFFER_RECLAIM_EXTENSION_NAME), 1);
    EXPECT_TRUE(instance_layer_listed("VK_LAYER_KMT_offer_reclaim"));
    ASSERT_NE(stack.offer, nullptr);
    ASSERT_NE(stack.reclaim, nullptr);
    ASSERT_NE(stack.get_paging_fence, nullptr);
    ASSERT_NE(stack.get_state, nullptr);
    VkDeviceMemory m = stack.allocate(4096);
    ASSERT_EQ(offer(stack, {m}), VK_SUCCESS);
    EXPECT_EQ(status_of(stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    Reclaimed r = reclaim(stack, std::vector<VkDeviceMemory>{m});
    EXPECT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
}

// The layer is not loaded: the extension is not listed and a device asking
// for it fails the way a missing extension does. `stack` was built with
// enable_extension = true.
void
expect_layer_absent(VulkanStack& stack)
{
    EXPECT_EQ(stack.result(), VK_ERROR_EXTENSION_NOT_PRESENT) << string_VkResult(stack.result());
    EXPECT_EQ(stack.failed_step(), "vkCreateDevice");
    ASSERT_NE(stack.physical_device, VK_NULL_HANDLE) << stack.failed_step();
    EXPECT_EQ(count_extension(device_extensions(stack.physical_device), VK_KMT_OFFER_RECLAIM_EXTENSION_NAME), 0);
    EXPECT_EQ(stack.device, VK_NULL_HANDLE);
    // The loader reports the unsupported extension as an error: expected here.
    stack.clear_messages();
}

// ---- loading ------------------------------------------------------------------------

TEST(Foundation, TheLayerLoadsImplicitlyWhenItsEnableVariableIsOne)
{
    VulkanStack stack(implicit_options({{"VK_KMT_OFFER_RECLAIM_ENABLE", "1"}}, true));
    expect_layer_active(stack);
    expect_clean_teardown(stack);
}

TEST(Foundation, TheLayerIsAbsentWithoutItsEnableVariable)
{
    VulkanStack stack(implicit_options({}, true));
    expect_layer_absent(stack);
    expect_clean_teardown(stack);
}

TEST(Foundation, TheLayerIsAbsentWhenItsEnableVariableIsNotExactlyOne)
{
    VulkanStack stack(implicit_options({{"VK_KMT_OFFER_RECLAIM_ENABLE", "true"}}, true));
    expect_layer_absent(stack);
    expect_clean_teardown(stack);
}

TEST(Foundation, TheDisableVariableWinsOverTheEnableVariable)
{
    VulkanStack stack(
        implicit_options({{"VK_KMT_OFFER_RECLAIM_ENABLE", "1"}, {"VK_KMT_OFFER_RECLAIM_DISABLE", "1"}}, true));
    expect_layer_absent(stack);
    expect_clean_teardown(stack);
}

TEST(Foundation, LoaderLayersEnableForceEnablesTheLayerWithoutItsEnableVariable)
{
    VulkanStack stack(implicit_options({{"VK_LOADER_LAYERS_ENABLE", "VK_LAYER_KMT_offer_reclaim"}}, true));
    expect_layer_active(stack);
    expect_clean_teardown(stack);
}

TEST(Foundation, ADeviceWithoutTheExtensionWorksWhileTheLayerIsLoadedImplicitly)
{
    VulkanStack stack(implicit_options({{"VK_KMT_OFFER_RECLAIM_ENABLE", "1"}}, false));
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    EXPECT_EQ(stack.offer, nullptr);
    EXPECT_EQ(stack.reclaim, nullptr);
    VkCommandBuffer cb = stack.begin_commands();
    EXPECT_EQ(stack.submit_and_wait(cb), VK_SUCCESS);
    expect_clean_teardown(stack);
}

// ---- what is advertised ---------------------------------------------------------------

void
expect_listed_once_and_by_layer_name(VulkanStack& stack)
{
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    EXPECT_EQ(count_extension(device_extensions(stack.physical_device), VK_KMT_OFFER_RECLAIM_EXTENSION_NAME), 1);
    EXPECT_EQ(count_extension(device_extensions(stack.physical_device), VK_KMT_RESIDENCY_EXTENSION_NAME), 1);
    std::vector<VkExtensionProperties> own = device_extensions(stack.physical_device, "VK_LAYER_KMT_offer_reclaim");
    ASSERT_EQ(own.size(), 2u) << "VK_KMT_offer_reclaim and VK_KMT_residency";
    EXPECT_STREQ(own[0].extensionName, VK_KMT_OFFER_RECLAIM_EXTENSION_NAME);
    EXPECT_EQ(own[0].specVersion, 1u);
    EXPECT_EQ(own[0].specVersion, static_cast<uint32_t>(VK_KMT_OFFER_RECLAIM_SPEC_VERSION));
    EXPECT_STREQ(own[1].extensionName, VK_KMT_RESIDENCY_EXTENSION_NAME);
    EXPECT_EQ(own[1].specVersion, static_cast<uint32_t>(VK_KMT_RESIDENCY_SPEC_VERSION));
}

TEST(Foundation, TheExtensionsAreListedOnceAndAreTheLayersOwnInTheTestStack)
{
    VulkanStack stack(full_options(VK_API_VERSION_1_3, false));
    expect_listed_once_and_by_layer_name(stack);
    expect_clean_teardown(stack);
}

TEST(Foundation, TheExtensionsAreListedOnceAndAreTheLayersOwnWhenLoadedImplicitly)
{
    VulkanStack stack(implicit_options({{"VK_KMT_OFFER_RECLAIM_ENABLE", "1"}}, false));
    expect_listed_once_and_by_layer_name(stack);
    expect_clean_teardown(stack);
}

TEST(Foundation, EnumeratingDeviceExtensionsHonoursIncomplete)
{
    VulkanStack stack(full_options(VK_API_VERSION_1_3, false));
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step();
    const std::vector<VkExtensionProperties> all = device_extensions(stack.physical_device);
    ASSERT_GE(all.size(), 2u);

    // Every short count: VK_INCOMPLETE, exactly that many written, a prefix of the full list.
    for (uint32_t want : {static_cast<uint32_t>(all.size() - 1), 1u}) {
        std::vector<VkExtensionProperties> some(all.size());
        memset(some.data(), 0xAB, some.size() * sizeof(some[0]));
        uint32_t count = want;
        EXPECT_EQ(vkEnumerateDeviceExtensionProperties(stack.physical_device, nullptr, &count, some.data()),
                  VK_INCOMPLETE);
        EXPECT_EQ(count, want);
        for (uint32_t i = 0; i < want; i++)
            EXPECT_STREQ(some[i].extensionName, all[i].extensionName) << i;
        unsigned char untouched[sizeof(VkExtensionProperties)];
        memset(untouched, 0xAB, sizeof(untouched));
        EXPECT_EQ(memcmp(&some[want], untouched, sizeof(untouched)), 0) << "element " << want << " was written";
    }

    // The layer's own list has two elements: asking for fewer is VK_INCOMPLETE.
    VkExtensionProperties own[2];
    memset(own, 0xAB, sizeof(own));
    uint32_t count = 0;
    EXPECT_EQ(vkEnumerateDeviceExtensionProperties(stack.physical_device, "VK_LAYER_KMT_offer_reclaim", &count, own),
              VK_INCOMPLETE);
    EXPECT_EQ(count, 0u);
    count = 1;
    EXPECT_EQ(vkEnumerateDeviceExtensionProperties(stack.physical_device, "VK_LAYER_KMT_offer_reclaim", &count, own),
              VK_INCOMPLETE);
    EXPECT_EQ(count, 1u);
    EXPECT_STREQ(own[0].extensionName, VK_KMT_OFFER_RECLAIM_EXTENSION_NAME);
    count = 2;
    EXPECT_EQ(vkEnumerateDeviceExtensionProperties(stack.physical_device, "VK_LAYER_KMT_offer_reclaim", &count, own),
              VK_SUCCESS);
    EXPECT_EQ(count, 2u);
    EXPECT_STREQ(own[1].extensionName, VK_KMT_RESIDENCY_EXTENSION_NAME);
    expect_clean_teardown(stack);
}

// ---- what reaches the driver -------------------------------------------------------------

void
expect_enabled_underneath(uint32_t api_version)
{
    VulkanStack stack(full_options(api_version));
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    kmt_test_driver_control* td = stack.driver();
    ASSERT_NE(td, nullptr);
    const std::vector<std::string> names = driver_device_extensions(td);
    EXPECT_EQ(count_name(names, VK_KMT_OFFER_RECLAIM_EXTENSION_NAME), 0) << "the layer's own extension reached the driver";
    for (const char* name : kUnderneath)
        EXPECT_EQ(count_name(names, name), 1) << name;
    EXPECT_TRUE(td->last_device_timeline_semaphore);
    EXPECT_TRUE(td->last_device_memory_priority);
    EXPECT_TRUE(td->last_device_pageable);
    EXPECT_EQ(td->last_instance_api_version, api_version);
    const std::vector<std::string> instance_names = driver_instance_extensions(td);
    const long timeline_khr = api_version < VK_API_VERSION_1_2 ? 1 : 0;  // core since 1.2
    EXPECT_EQ(count_name(names, VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME), timeline_khr);
    if (api_version < VK_API_VERSION_1_1) {
        EXPECT_EQ(count_name(instance_names, VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME), 1);
    }
    // Only ours plus what the layer adds: nothing else, nothing twice.
    EXPECT_EQ(names.size(), 3u + (api_version < VK_API_VERSION_1_2 ? 1u : 0u));
    expect_clean_teardown(stack);
}

TEST(Foundation, TheExtensionNeverReachesTheDriverAndItsNeedsAreEnabledUnderneathAtApi10)
{
    expect_enabled_underneath(VK_API_VERSION_1_0);
}

TEST(Foundation, TheExtensionNeverReachesTheDriverAndItsNeedsAreEnabledUnderneathAtApi12)
{
    expect_enabled_underneath(VK_API_VERSION_1_2);
}

TEST(Foundation, TheExtensionNeverReachesTheDriverAndItsNeedsAreEnabledUnderneathAtApi13)
{
    expect_enabled_underneath(VK_API_VERSION_1_3);
}

TEST(Foundation, AnAppVulkan12FeaturesStructWithTimelineOffStillGetsTimelineUnderneath)
{
    VkPhysicalDeviceVulkan12Features f12 =
        vk_struct<VkPhysicalDeviceVulkan12Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
    f12.timelineSemaphore = VK_FALSE;
    StackOptions o = full_options(VK_API_VERSION_1_3);
    o.device_pnext = &f12;
    VulkanStack stack(o);
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    kmt_test_driver_control* td = stack.driver();
    ASSERT_NE(td, nullptr);
    EXPECT_TRUE(td->last_device_timeline_semaphore);
    EXPECT_TRUE(td->last_device_memory_priority);
    EXPECT_TRUE(td->last_device_pageable);
    EXPECT_EQ(f12.timelineSemaphore, VK_FALSE) << "the app's struct was written";
    EXPECT_TRUE(stack.messages_with_id("VUID-VkDeviceCreateInfo-pNext-02830").empty());
    expect_clean_teardown(stack);  // zero validation errors, 02830 included
}

TEST(Foundation, AnAppTimelineFeaturesStructWithTimelineOffStillGetsTimelineUnderneath)
{
    VkPhysicalDeviceTimelineSemaphoreFeatures timeline =
        vk_struct<VkPhysicalDeviceTimelineSemaphoreFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES);
    StackOptions o = full_options(VK_API_VERSION_1_2);
    o.device_pnext = &timeline;
    VulkanStack stack(o);
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    kmt_test_driver_control* td = stack.driver();
    ASSERT_NE(td, nullptr);
    EXPECT_TRUE(td->last_device_timeline_semaphore);
    EXPECT_EQ(timeline.timelineSemaphore, VK_FALSE);
    expect_clean_teardown(stack);
}

// ---- the app's create info -------------------------------------------------------------------

// Byte copies of a struct, checked later.
struct Bytes {
    const void* where;
    std::vector<unsigned char> bytes;
    std::string what;
};

template <typename T>
Bytes
bytes_of(const T& t, const char* what)
{
    const auto* p = reinterpret_cast<const unsigned char*>(&t);
    return {&t, std::vector<unsigned char>(p, p + sizeof(T)), what};
}

Bytes
bytes_of_string(const char* s)
{
    return {s, std::vector<unsigned char>(s, s + strlen(s) + 1), std::string("string ") + s};
}

void
expect_unchanged(const std::vector<Bytes>& saved)
{
    for (const Bytes& b : saved)
        EXPECT_EQ(memcmp(b.where, b.bytes.data(), b.bytes.size()), 0) << b.what << " was modified";
}

// Creates a device on `stack` (made with create_device = false) from `info`,
// checking that every byte the app handed in is the same afterwards.
void
create_device_and_compare(VulkanStack& stack, const VkDeviceCreateInfo& info, std::vector<Bytes> saved)
{
    saved.push_back(bytes_of(info, "VkDeviceCreateInfo"));
    for (uint32_t i = 0; i < info.queueCreateInfoCount; i++) {
        saved.push_back(bytes_of(info.pQueueCreateInfos[i], "VkDeviceQueueCreateInfo"));
        saved.push_back(bytes_of(info.pQueueCreateInfos[i].pQueuePriorities[0], "queue priority"));
    }
    const auto* names = reinterpret_cast<const unsigned char*>(info.ppEnabledExtensionNames);
    saved.push_back({info.ppEnabledExtensionNames,
                     std::vector<unsigned char>(names, names + info.enabledExtensionCount * sizeof(char*)),
                     "ppEnabledExtensionNames"});
    for (uint32_t i = 0; i < info.enabledExtensionCount; i++)
        saved.push_back(bytes_of_string(info.ppEnabledExtensionNames[i]));

    VkDevice device = VK_NULL_HANDLE;
    ASSERT_EQ(vkCreateDevice(stack.physical_device, &info, nullptr, &device), VK_SUCCESS)
        << describe(stack.messages());
    expect_unchanged(saved);
    kmt_test_driver_control* td = stack.driver();
    ASSERT_NE(td, nullptr);
    EXPECT_TRUE(td->last_device_timeline_semaphore);
    EXPECT_TRUE(td->last_device_memory_priority);
    EXPECT_TRUE(td->last_device_pageable);
    EXPECT_NE(vkGetDeviceProcAddr(device, "vkOfferAllocationsKMT"), nullptr);
    vkDestroyDevice(device, nullptr);
    expect_unchanged(saved);
}

StackOptions
instance_only(uint32_t api_version)
{
    StackOptions o = full_options(api_version);
    o.create_device = false;
    return o;
}

TEST(Foundation, TheAppsCreateInfoWithVulkan12FeaturesIsNeverModified)
{
    VulkanStack stack(instance_only(VK_API_VERSION_1_3));
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step();

    // Vulkan12Features{timeline off} -> priority{off} -> pageable{off}
    VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT pageable =
        vk_struct<VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT>(
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PAGEABLE_DEVICE_LOCAL_MEMORY_FEATURES_EXT);
    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority = vk_struct<VkPhysicalDeviceMemoryPriorityFeaturesEXT>(
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT, &pageable);
    VkPhysicalDeviceVulkan12Features f12 =
        vk_struct<VkPhysicalDeviceVulkan12Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, &priority);
    const float queue_priority = 1.0f;
    VkDeviceQueueCreateInfo queue = vk_struct<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
    queue.queueFamilyIndex = stack.queue_family;
    queue.queueCount = 1;
    queue.pQueuePriorities = &queue_priority;
    // The feature structs belong to extensions the app enables itself (else validation objects to them).
    const char* names[] = {VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME, VK_KMT_OFFER_RECLAIM_EXTENSION_NAME,
                           VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME};
    VkDeviceCreateInfo info = vk_struct<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &f12);
    info.queueCreateInfoCount = 1;
    info.pQueueCreateInfos = &queue;
    info.enabledExtensionCount = 3;
    info.ppEnabledExtensionNames = names;

    create_device_and_compare(stack, info,
                              {bytes_of(f12, "VkPhysicalDeviceVulkan12Features"),
                               bytes_of(priority, "VkPhysicalDeviceMemoryPriorityFeaturesEXT"),
                               bytes_of(pageable, "VkPhysicalDevicePageableDeviceLocalMemoryFeaturesEXT")});
    expect_clean_teardown(stack);
}

TEST(Foundation, TheAppsCreateInfoWithFeatures2AndTimelineStructIsNeverModifiedAtApi10)
{
    StackOptions o = instance_only(VK_API_VERSION_1_0);
    o.instance_extensions = {VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME};  // for Features2 at 1.0
    VulkanStack stack(o);
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step();

    // Features2 -> timeline{off} -> priority{off}, with the KHR timeline extension enabled by the app.
    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority =
        vk_struct<VkPhysicalDeviceMemoryPriorityFeaturesEXT>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT);
    VkPhysicalDeviceTimelineSemaphoreFeatures timeline = vk_struct<VkPhysicalDeviceTimelineSemaphoreFeatures>(
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES, &priority);
    VkPhysicalDeviceFeatures2 features2 =
        vk_struct<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &timeline);
    const float queue_priority = 0.5f;
    VkDeviceQueueCreateInfo queue = vk_struct<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
    queue.queueFamilyIndex = stack.queue_family;
    queue.queueCount = 1;
    queue.pQueuePriorities = &queue_priority;
    const char* names[] = {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME, VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME,
                           VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME};
    VkDeviceCreateInfo info = vk_struct<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &features2);
    info.queueCreateInfoCount = 1;
    info.pQueueCreateInfos = &queue;
    info.enabledExtensionCount = 3;
    info.ppEnabledExtensionNames = names;

    create_device_and_compare(stack, info,
                              {bytes_of(features2, "VkPhysicalDeviceFeatures2"),
                               bytes_of(timeline, "VkPhysicalDeviceTimelineSemaphoreFeatures"),
                               bytes_of(priority, "VkPhysicalDeviceMemoryPriorityFeaturesEXT")});
    expect_clean_teardown(stack);
}

TEST(Foundation, TheAppsCreateInfoWithoutFeatureStructsIsNeverModified)
{
    VulkanStack stack(instance_only(VK_API_VERSION_1_2));
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step();
    const float queue_priority = 1.0f;
    VkDeviceQueueCreateInfo queue = vk_struct<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
    queue.queueFamilyIndex = stack.queue_family;
    queue.queueCount = 1;
    queue.pQueuePriorities = &queue_priority;
    const char* names[] = {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME};
    VkDeviceCreateInfo info = vk_struct<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
    info.queueCreateInfoCount = 1;
    info.pQueueCreateInfos = &queue;
    info.enabledExtensionCount = 1;
    info.ppEnabledExtensionNames = names;
    create_device_and_compare(stack, info, {});
    expect_clean_teardown(stack);
}

// ---- devices that did not enable the extension ---------------------------------------------------

void
expect_untouched(uint32_t api)
{
    VulkanStack stack(full_options(api, false));
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    kmt_test_driver_control* td = stack.driver();
    ASSERT_NE(td, nullptr);
    EXPECT_EQ(td->created_device_count, 1u);
    EXPECT_EQ(driver_device_extensions(td), std::vector<std::string>{}) << "the layer added extensions";
    EXPECT_FALSE(td->last_device_timeline_semaphore);
    EXPECT_FALSE(td->last_device_memory_priority);
    EXPECT_FALSE(td->last_device_pageable);
    EXPECT_EQ(stack.offer, nullptr);
    EXPECT_EQ(stack.reclaim, nullptr);
    EXPECT_EQ(stack.get_paging_fence, nullptr);
    EXPECT_EQ(stack.get_state, nullptr);
    // Its submissions pass through: allocate, submit, wait.
    VkDeviceMemory m = stack.allocate(4096);
    EXPECT_NE(m, VK_NULL_HANDLE);
    VkCommandBuffer cb = stack.begin_commands();
    EXPECT_EQ(stack.submit_and_wait(cb), VK_SUCCESS);
    expect_clean_teardown(stack);
}

TEST(Foundation, ADeviceThatDidNotEnableTheExtensionIsNotTouchedAtApi10)
{
    expect_untouched(VK_API_VERSION_1_0);
}

TEST(Foundation, ADeviceThatDidNotEnableTheExtensionIsNotTouchedAtApi13)
{
    expect_untouched(VK_API_VERSION_1_3);
}

TEST(Foundation, ADeviceThatDidNotEnableTheExtensionGetsOnlyWhatTheAppAskedFor)
{
    StackOptions o = full_options(VK_API_VERSION_1_3, false);
    o.device_extensions = {VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME};
    VulkanStack stack(o);
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    kmt_test_driver_control* td = stack.driver();
    ASSERT_NE(td, nullptr);
    EXPECT_EQ(driver_device_extensions(td), std::vector<std::string>{VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME});
    EXPECT_FALSE(td->last_device_memory_priority) << "the app did not enable the feature";
    EXPECT_FALSE(td->last_device_pageable);
    EXPECT_FALSE(td->last_device_timeline_semaphore);
    EXPECT_EQ(stack.device_proc("vkSetDeviceMemoryPriorityEXT"), nullptr);
    expect_clean_teardown(stack);
}

// ---- end to end at each API version ------------------------------------------------------------

void
expect_end_to_end(const StackOptions& o)
{
    VulkanStack stack(o);
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    ASSERT_NE(stack.offer, nullptr);
    VkDeviceMemory m = stack.allocate(1 << 16);
    ASSERT_NE(m, VK_NULL_HANDLE);

    // An empty batch with a fence.
    VkFenceCreateInfo fence_info = vk_struct<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
    VkFence fence = VK_NULL_HANDLE;
    ASSERT_EQ(vkCreateFence(stack.device, &fence_info, nullptr, &fence), VK_SUCCESS);
    VkSubmitInfo submit = vk_struct<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
    EXPECT_EQ(vkQueueSubmit(stack.queue, 1, &submit, fence), VK_SUCCESS);
    EXPECT_EQ(vkWaitForFences(stack.device, 1, &fence, VK_TRUE, UINT64_MAX), VK_SUCCESS);
    vkDestroyFence(stack.device, fence, nullptr);

    // A command buffer, then a deferred offer (takes effect once that work is done) and a reclaim.
    VkCommandBuffer cb = stack.begin_commands();
    EXPECT_EQ(stack.submit_and_wait(cb), VK_SUCCESS);
    // Lavapipe (Mesa 22.3) signals a submission's fence before the timeline
    // semaphores of the same submission advance (observed without any layer:
    // the counter lagged the fence in ~45% of 2000 tries), so after a fence
    // wait the layer may still see the work as running. vkQueueWaitIdle is
    // exact: the layer waits for its own tracking semaphore there.
    EXPECT_EQ(vkQueueWaitIdle(stack.queue), VK_SUCCESS);
    ASSERT_EQ(offer(stack, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
    EXPECT_EQ(status_of(stack, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    Reclaimed r = reclaim(stack, std::vector<VkDeviceMemory>{m});
    ASSERT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(r.discarded[0], VK_FALSE);
    EXPECT_EQ(r.fence, 0u);
    EXPECT_EQ(status_of(stack, m), VK_ALLOCATION_STATUS_RESIDENT_KMT);
    VkSemaphore paging = VK_NULL_HANDLE;
    EXPECT_EQ(stack.get_paging_fence(stack.device, &paging), VK_SUCCESS);
    EXPECT_NE(paging, VK_NULL_HANDLE);
    EXPECT_EQ(stack.wait_idle(), VK_SUCCESS);
    expect_clean_teardown(stack);
}

TEST(Foundation, OfferAndReclaimWorkEndToEndAtApi10)
{
    expect_end_to_end(full_options(VK_API_VERSION_1_0));
}

TEST(Foundation, OfferAndReclaimWorkEndToEndAtApi12)
{
    expect_end_to_end(full_options(VK_API_VERSION_1_2));
}

TEST(Foundation, OfferAndReclaimWorkEndToEndAtApi13)
{
    expect_end_to_end(full_options(VK_API_VERSION_1_3));
}

TEST(Foundation, OfferAndReclaimWorkOnPlainLavapipeWithoutTheTestDriver)
{
    StackOptions o = full_options(VK_API_VERSION_1_3);
    o.stack = Stack::Lvp;
    {
        VulkanStack stack(o);
        ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
        EXPECT_EQ(stack.driver(), nullptr);
        EXPECT_EQ(count_extension(device_extensions(stack.physical_device), VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME),
                  0)
            << "lavapipe has no pageable memory";
        VkDeviceMemory m = stack.allocate(4096);
        ASSERT_EQ(offer(stack, {m}), VK_SUCCESS);
        VkAllocationStateKMT st = state_of(stack, m);
        EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_OFFERED_KMT);
        EXPECT_EQ(st.driverPriorityApplied, VK_FALSE) << "no pageable support underneath";
        expect_clean_teardown(stack);
    }
    expect_end_to_end(o);
}

TEST(Foundation, OfferAndReclaimWorkEndToEndWhenLoadedImplicitly)
{
    StackOptions o = implicit_options({{"VK_KMT_OFFER_RECLAIM_ENABLE", "1"}}, true);
    o.api_version = VK_API_VERSION_1_0;
    expect_end_to_end(o);
}

// Regression: up to e599604 the layer resolved core names first, so at
// apiVersion 1.0 it called core vkGetPhysicalDeviceFeatures2 (physical-device
// probe) and vkGetPhysicalDeviceMemoryProperties2 (pressure budgets) below
// itself: validation reported UNASSIGNED-API-Version-Violation in every 1.0 test
// here and in vkcube / vkd3d (fixed by "alias-first dispatch below the core version").
TEST(Foundation, ThePressurePolicyWorksEndToEndAtApi10)
{
    StackOptions o = full_options(VK_API_VERSION_1_0);
    o.env = {{"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"}};
    expect_end_to_end(o);
}

TEST(Foundation, TheLayerCallsNoCore11FunctionForAnApi10App)
{
    // Probing the physical device (first vkEnumerateDeviceExtensionProperties)
    // is where the layer looks at features; at 1.0 it must use the KHR alias.
    VulkanStack stack(instance_only(VK_API_VERSION_1_0));
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step();
    EXPECT_EQ(count_extension(device_extensions(stack.physical_device), VK_KMT_OFFER_RECLAIM_EXTENSION_NAME), 1);
    expect_clean_teardown(stack);
}

// ---- what stays hidden --------------------------------------------------------------------------

TEST(Foundation, TimelineKhrFunctionsTheLayerEnabledUnderneathStayHiddenAtApi10)
{
    VulkanStack stack(full_options(VK_API_VERSION_1_0));
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    EXPECT_EQ(stack.device_proc("vkWaitSemaphoresKHR"), nullptr);
    EXPECT_EQ(stack.device_proc("vkSignalSemaphoreKHR"), nullptr);
    EXPECT_EQ(stack.device_proc("vkGetSemaphoreCounterValueKHR"), nullptr);
    EXPECT_EQ(stack.device_proc("vkSetDeviceMemoryPriorityEXT"), nullptr);
    EXPECT_NE(stack.device_proc("vkOfferAllocationsKMT"), nullptr);
    expect_clean_teardown(stack);
}

TEST(Foundation, TimelineKhrFunctionsAreThereWhenTheAppEnabledTheExtensionAtApi10)
{
    StackOptions o = full_options(VK_API_VERSION_1_0);
    o.device_extensions = {VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME,
                           VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME};
    VulkanStack stack(o);
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    EXPECT_NE(stack.device_proc("vkWaitSemaphoresKHR"), nullptr);
    EXPECT_NE(stack.device_proc("vkSignalSemaphoreKHR"), nullptr);
    EXPECT_NE(stack.device_proc("vkGetSemaphoreCounterValueKHR"), nullptr);
    EXPECT_NE(stack.device_proc("vkSetDeviceMemoryPriorityEXT"), nullptr);
    kmt_test_driver_control* td = stack.driver();
    ASSERT_NE(td, nullptr);
    const std::vector<std::string> names = driver_device_extensions(td);
    EXPECT_EQ(count_name(names, VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME), 1) << "listed twice?";
    EXPECT_EQ(count_name(names, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME), 1);
    expect_clean_teardown(stack);
}

TEST(Foundation, CoreTimelineFunctionsAreThereAtApi12)
{
    VulkanStack stack(full_options(VK_API_VERSION_1_2));
    ASSERT_EQ(stack.result(), VK_SUCCESS) << stack.failed_step() << "\n" << describe(stack.messages());
    EXPECT_NE(stack.device_proc("vkWaitSemaphores"), nullptr);
    EXPECT_NE(stack.device_proc("vkSignalSemaphore"), nullptr);
    EXPECT_EQ(stack.device_proc("vkSetDeviceMemoryPriorityEXT"), nullptr);
    expect_clean_teardown(stack);
}

}  // namespace
}  // namespace kmt

// SPDX-License-Identifier: MIT
// VK_EXT_layer_settings end to end: an app chains VkLayerSettingsCreateInfoEXT
// into vkCreateInstance and the layer takes its values, below the settings
// file and the environment (settings.h). The effect is observed as an app
// would: under DISCARD=always an offered allocation is DISCARDED at once.
//
// VulkanStack has no way to chain a struct into VkInstanceCreateInfo, so
// AppStack below creates its own instance (and device) on the same stack
// folders with the same environment rules.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <vulkan/vk_enum_string_helper.h>

#include "fixture.hpp"
#include "settings_app.h"

namespace kmt {
namespace {

constexpr const char* kLayer = "VK_LAYER_KMT_offer_reclaim";

VkLayerSettingEXT setting(const char* name, VkLayerSettingTypeEXT type, const void* value) {
  VkLayerSettingEXT s = {};
  s.pLayerName = kLayer;
  s.pSettingName = name;
  s.type = type;
  s.valueCount = 1;
  s.pValues = value;
  return s;
}

class AppStack {
 public:
  AppStack(const std::vector<VkLayerSettingEXT>& settings, const std::vector<std::pair<std::string, std::string>>& env,
           Stack stack = Stack::Full) {
    const std::string data_home = std::string(KMT_VKDATA_DIR) + "/" + stack_folder(stack);
    const char* icd = getenv("KMT_TEST_ICD");
    set("XDG_DATA_HOME", data_home.c_str());
    set("VK_DRIVER_FILES", icd && *icd ? icd : KMT_LVP_ICD);
    set("NODEVICE_SELECT", "1");
    set("VK_LAYER_DISABLES", "VK_VALIDATION_FEATURE_DISABLE_UNIQUE_HANDLES_EXT");
    for (const char* name : {"VK_ICD_FILENAMES", "VK_ADD_DRIVER_FILES", "VK_LAYER_PATH", "VK_ADD_LAYER_PATH",
                             "VK_INSTANCE_LAYERS", "VK_LOADER_LAYERS_ENABLE", "VK_LOADER_LAYERS_DISABLE",
                             "VK_KMT_OFFER_RECLAIM_DISABLE", "VK_KMT_TEST_STACK_DISABLE", "VK_LAYER_SETTINGS_PATH",
                             "VK_KMT_OFFER_RECLAIM_DISCARD", "VK_KMT_OFFER_RECLAIM_DISCARD_FILL",
                             "VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "KMT_TEST_DRIVER_HIDE"})
      set(name, nullptr);
    for (const auto& [name, value] : env) set(name.c_str(), value.c_str());
    result_ = create_instance(settings);
  }
  ~AppStack() {
    for (VkDeviceMemory m : memories_) vkFreeMemory(device, m, nullptr);
    if (device) vkDestroyDevice(device, nullptr);
    if (messenger_) {
      auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
          vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
      destroy(instance, messenger_, nullptr);
    }
    if (instance) vkDestroyInstance(instance, nullptr);
  }
  AppStack(const AppStack&) = delete;
  AppStack& operator=(const AppStack&) = delete;

  // vkCreateInstance's result.
  VkResult result() const { return result_; }
  // A device that enables VK_KMT_offer_reclaim on the first physical device.
  VkResult create_device();

  // Offers one host-visible allocation (IMMEDIATELY) and returns its status.
  VkAllocationStatusKMT status_after_offer() {
    VkMemoryAllocateInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    info.allocationSize = 4096;
    VkDeviceMemory m = VK_NULL_HANDLE;
    EXPECT_EQ(vkAllocateMemory(device, &info, nullptr, &m), VK_SUCCESS);
    memories_.push_back(m);
    VkOfferAllocationsInfoKMT offer_info = {};
    offer_info.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT;
    offer_info.allocationCount = 1;
    offer_info.pMemories = &m;
    offer_info.priority = VK_OFFER_PRIORITY_NORMAL_KMT;
    offer_info.flags = VK_OFFER_IMMEDIATELY_BIT_KMT;
    EXPECT_EQ(offer_(device, &offer_info), VK_SUCCESS);
    VkAllocationStateKMT state = {};
    state.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
    EXPECT_EQ(get_state_(device, m, &state), VK_SUCCESS);
    return state.status;
  }

  std::vector<Message> messages_with_id(const std::string& prefix) const {
    std::vector<Message> out;
    for (const auto& m : messages_)
      if (m.id.compare(0, prefix.size(), prefix) == 0) out.push_back(m);
    return out;
  }
  // Validation errors, but for the one VVL 1.3.239 (below the layer here)
  // raises for any struct newer than its headers: VK_EXT_layer_settings is
  // 1.3.261. The layer leaves the struct in the chain on purpose: it is meant
  // for every layer, and newer validation layers read their own settings
  // from it.
  std::vector<Message> validation_errors() const {
    std::vector<Message> out;
    for (const auto& m : messages_) {
      if (m.severity != VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) continue;
      if (m.id.rfind("VUID-", 0) != 0 && m.id.rfind("UNASSIGNED-", 0) != 0) continue;
      const bool too_new_for_vvl_1_3_239 = m.id == "VUID-VkInstanceCreateInfo-pNext-pNext" &&
                                           m.text.find("unknown VkStructureType (1000496000)") != std::string::npos;
      if (!too_new_for_vvl_1_3_239) out.push_back(m);
    }
    return out;
  }
  const std::vector<Message>& messages() const { return messages_; }

  VkInstance instance = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;

 private:
  void set(const char* name, const char* value) { env_.push_back(std::make_unique<ScopedEnv>(name, value)); }

  static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
    Message m;
    m.severity = severity;
    m.id = data->pMessageIdName ? data->pMessageIdName : "";
    m.text = data->pMessage ? data->pMessage : "";
    static_cast<AppStack*>(user)->messages_.push_back(std::move(m));
    return VK_FALSE;
  }

  VkResult create_instance(const std::vector<VkLayerSettingEXT>& settings) {
    VkLayerSettingsCreateInfoEXT layer_settings = {};
    layer_settings.sType = VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT;
    layer_settings.settingCount = static_cast<uint32_t>(settings.size());
    layer_settings.pSettings = settings.data();
    VkDebugUtilsMessengerCreateInfoEXT messenger_info = {};
    messenger_info.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
    messenger_info.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT |
                                     VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                                     VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                 VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                 VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    messenger_info.pfnUserCallback = &AppStack::on_message;
    messenger_info.pUserData = this;
    VkDebugUtilsMessengerCreateInfoEXT chained = messenger_info;
    chained.pNext = &layer_settings;

    VkApplicationInfo app = {};
    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    app.apiVersion = VK_API_VERSION_1_3;
    const char* debug_utils = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkInstanceCreateInfo ici = {};
    ici.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    ici.pNext = &chained;
    ici.pApplicationInfo = &app;
    ici.enabledExtensionCount = 1;
    ici.ppEnabledExtensionNames = &debug_utils;
    VkResult r = vkCreateInstance(&ici, nullptr, &instance);
    if (r != VK_SUCCESS) {
      instance = VK_NULL_HANDLE;
      return r;
    }
    auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
    return create_messenger(instance, &messenger_info, nullptr, &messenger_);
  }

  std::vector<std::unique_ptr<ScopedEnv>> env_;  // destroyed last: restored after teardown
  VkResult result_ = VK_ERROR_UNKNOWN;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  PFN_vkOfferAllocationsKMT offer_ = nullptr;
  PFN_vkGetAllocationStateKMT get_state_ = nullptr;
  std::vector<VkDeviceMemory> memories_;
  std::vector<Message> messages_;
};

VkResult AppStack::create_device() {
  if (result_ != VK_SUCCESS) return result_;
  uint32_t count = 1;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkResult r = vkEnumeratePhysicalDevices(instance, &count, &physical);
  if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || !physical) return r != VK_SUCCESS ? r : VK_ERROR_INITIALIZATION_FAILED;
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo qci = {};
  qci.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;
  const char* extension = VK_KMT_OFFER_RECLAIM_EXTENSION_NAME;
  VkDeviceCreateInfo dci = {};
  dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = 1;
  dci.ppEnabledExtensionNames = &extension;
  r = vkCreateDevice(physical, &dci, nullptr, &device);
  if (r != VK_SUCCESS) {
    device = VK_NULL_HANDLE;
    return r;
  }
  offer_ = reinterpret_cast<PFN_vkOfferAllocationsKMT>(vkGetDeviceProcAddr(device, "vkOfferAllocationsKMT"));
  get_state_ = reinterpret_cast<PFN_vkGetAllocationStateKMT>(vkGetDeviceProcAddr(device, "vkGetAllocationStateKMT"));
  return offer_ && get_state_ ? VK_SUCCESS : VK_ERROR_EXTENSION_NOT_PRESENT;
}

// A vk_layer_settings.txt in a private folder.
class SettingsFileIn {
 public:
  explicit SettingsFileIn(const std::string& contents) {
    char pattern[] = "/tmp/kmt-layer-settings-XXXXXX";
    const char* dir = mkdtemp(pattern);
    EXPECT_NE(dir, nullptr);
    if (dir) folder_ = dir;
    std::ofstream(file()) << contents;
  }
  ~SettingsFileIn() {
    std::remove(file().c_str());
    if (!folder_.empty()) rmdir(folder_.c_str());
  }
  std::string file() const { return folder_ + "/vk_layer_settings.txt"; }

 private:
  std::string folder_;
};

const char* const kAlways = "always";
const char* const kNever = "never";
const char* const kInfo = "info";

TEST(LayerSettings, AnAppsSettingTakesEffect) {
  AppStack s({setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &kAlways)}, {});
  ASSERT_EQ(s.create_device(), VK_SUCCESS) << describe(s.messages());
  EXPECT_EQ(s.status_after_offer(), VK_ALLOCATION_STATUS_DISCARDED_KMT);
  EXPECT_TRUE(s.messages_with_id("KMT-bad-setting").empty()) << describe(s.messages());
  EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

TEST(LayerSettings, SettingNamesAreCaseInsensitiveAndNumbersMayBeNumbers) {
  const uint32_t rate = 1000;
  const char* random = "random";
  AppStack s({setting("Discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &random),
              setting("DISCARD_RATE", VK_LAYER_SETTING_TYPE_UINT32_EXT, &rate),
              setting("log_level", VK_LAYER_SETTING_TYPE_STRING_EXT, &kInfo)},
             {});
  ASSERT_EQ(s.create_device(), VK_SUCCESS) << describe(s.messages());
  EXPECT_EQ(s.status_after_offer(), VK_ALLOCATION_STATUS_DISCARDED_KMT) << "random at 1000 per mille";
  auto startup = s.messages_with_id("KMT-startup");
  ASSERT_EQ(startup.size(), 1u) << describe(s.messages());
  EXPECT_NE(startup[0].text.find("discard=random (app), discard_rate=1000 (app)"), std::string::npos)
      << startup[0].text;
  EXPECT_NE(startup[0].text.find("log_level=info (app)"), std::string::npos) << startup[0].text;
}

TEST(LayerSettings, TheSettingsFileWinsOverTheApp) {
  SettingsFileIn file("kmt_offer_reclaim.discard = never\n");
  AppStack s({setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &kAlways)},
             {{"VK_LAYER_SETTINGS_PATH", file.file()}});
  ASSERT_EQ(s.create_device(), VK_SUCCESS) << describe(s.messages());
  EXPECT_EQ(s.status_after_offer(), VK_ALLOCATION_STATUS_OFFERED_KMT);
}

TEST(LayerSettings, TheEnvironmentWinsOverTheFileAndTheApp) {
  SettingsFileIn file("kmt_offer_reclaim.discard = never\nkmt_offer_reclaim.log_level = info\n");
  AppStack s({setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &kNever)},
             {{"VK_LAYER_SETTINGS_PATH", file.file()}, {"VK_KMT_OFFER_RECLAIM_DISCARD", "always"}});
  ASSERT_EQ(s.create_device(), VK_SUCCESS) << describe(s.messages());
  EXPECT_EQ(s.status_after_offer(), VK_ALLOCATION_STATUS_DISCARDED_KMT);
  auto startup = s.messages_with_id("KMT-startup");
  ASSERT_EQ(startup.size(), 1u) << describe(s.messages());
  EXPECT_NE(startup[0].text.find("discard=always (environment)"), std::string::npos) << startup[0].text;
  EXPECT_NE(startup[0].text.find("log_level=info (file)"), std::string::npos) << startup[0].text;
  EXPECT_NE(startup[0].text.find("stats=0 (default)"), std::string::npos) << startup[0].text;
}

TEST(LayerSettings, AnotherLayersEntriesAreNotTaken) {
  VkLayerSettingEXT other = setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &kAlways);
  other.pLayerName = "VK_LAYER_KHRONOS_validation";
  AppStack s({other}, {});
  ASSERT_EQ(s.create_device(), VK_SUCCESS) << describe(s.messages());
  EXPECT_EQ(s.status_after_offer(), VK_ALLOCATION_STATUS_OFFERED_KMT);
  EXPECT_TRUE(s.messages_with_id("KMT-unknown-setting").empty()) << describe(s.messages());
}

TEST(LayerSettings, AnUnknownNameAndABadValueAreReportedAndChangeNothing) {
  const VkBool32 yes = VK_TRUE;
  AppStack s({setting("discrad", VK_LAYER_SETTING_TYPE_STRING_EXT, &kAlways),
              setting("discard", VK_LAYER_SETTING_TYPE_BOOL32_EXT, &yes)},
             {});
  ASSERT_EQ(s.create_device(), VK_SUCCESS) << describe(s.messages());
  EXPECT_EQ(s.status_after_offer(), VK_ALLOCATION_STATUS_OFFERED_KMT) << "default policy: never";
  auto unknown = s.messages_with_id("KMT-unknown-setting");
  ASSERT_EQ(unknown.size(), 1u) << describe(s.messages());
  EXPECT_NE(unknown[0].text.find("VkLayerSettingEXT \"discrad\""), std::string::npos) << unknown[0].text;
  auto bad = s.messages_with_id("KMT-bad-setting");
  ASSERT_EQ(bad.size(), 1u) << describe(s.messages());
  EXPECT_NE(bad[0].text.find("VkLayerSettingEXT discard=\"1\""), std::string::npos) << bad[0].text;
  EXPECT_NE(bad[0].text.find("expected one of never, always, random, pressure; using the default, never."),
            std::string::npos)
      << bad[0].text;
}

TEST(LayerSettings, TheValuesOutliveTheAppsArrays) {
  // pValues is only valid during vkCreateInstance: the instance keeps copies,
  // and the device, created after the app's string changed, reads them.
  std::string text = "always";
  const char* value = text.c_str();
  AppStack s({setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &value)}, {});
  ASSERT_EQ(s.result(), VK_SUCCESS);
  text.assign("garbage!");
  ASSERT_EQ(s.create_device(), VK_SUCCESS) << describe(s.messages());
  EXPECT_EQ(s.status_after_offer(), VK_ALLOCATION_STATUS_DISCARDED_KMT);
}

}  // namespace
}  // namespace kmt

// Settings from a vk_layer_settings.txt (DESIGN.md "Configuration"): the file
// the Khronos layers read, found through VK_LAYER_SETTINGS_PATH (the file
// itself, or the folder holding it), with entries kmt_offer_reclaim.<name>.
// The environment variable VK_KMT_OFFER_RECLAIM_<NAME> wins over the file.
// The effect is observed as an app would: under DISCARD=always an offered
// allocation is DISCARDED at once (vkGetAllocationStateKMT).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

// A private folder holding one vk_layer_settings.txt; removed afterwards.
class SettingsFolder {
 public:
  explicit SettingsFolder(const std::string& contents) {
    char pattern[] = "/tmp/kmt-settings-XXXXXX";
    const char* dir = mkdtemp(pattern);
    EXPECT_NE(dir, nullptr);
    if (dir) folder_ = dir;
    std::ofstream(file()) << contents;
  }
  ~SettingsFolder() {
    std::remove(file().c_str());
    if (!folder_.empty()) rmdir(folder_.c_str());
  }
  SettingsFolder(const SettingsFolder&) = delete;
  SettingsFolder& operator=(const SettingsFolder&) = delete;

  const std::string& folder() const { return folder_; }
  std::string file() const { return folder_ + "/vk_layer_settings.txt"; }

 private:
  std::string folder_;
};

StackOptions with_env(std::vector<std::pair<std::string, std::string>> env) {
  StackOptions o;
  o.env = std::move(env);
  // A VK_KMT_OFFER_RECLAIM_DISCARD from the caller's environment would win over
  // the file: set it to "" (the layer treats an empty variable as unset) unless
  // the test sets it.
  bool discard_set = false;
  for (const auto& [name, value] : o.env) discard_set |= name == "VK_KMT_OFFER_RECLAIM_DISCARD";
  if (!discard_set) o.env.emplace_back("VK_KMT_OFFER_RECLAIM_DISCARD", "");
  return o;
}

// Offers one host-visible allocation (IMMEDIATELY) and returns its status.
VkAllocationStatusKMT status_after_offer(VulkanStack& s) {
  VkDeviceMemory m = s.allocate(4096);
  EXPECT_NE(m, VK_NULL_HANDLE);
  EXPECT_EQ(offer(s, {m}), VK_SUCCESS);
  return status_of(s, m);
}

const char kAlways[] = "# written by settings_file_tests\nkmt_offer_reclaim.discard = always\n";

TEST(SettingsFile, AnEntryFoundThroughVkLayerSettingsPathNamingTheFileTakesEffect) {
  SettingsFolder settings(kAlways);
  VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", settings.file()}}));
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  EXPECT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_DISCARDED_KMT);
  EXPECT_TRUE(s.messages_with_id("KMT-bad-setting").empty()) << describe(s.messages());
}

TEST(SettingsFile, AnEntryFoundThroughVkLayerSettingsPathNamingTheFolderTakesEffect) {
  SettingsFolder settings(kAlways);
  VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", settings.folder()}}));
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  EXPECT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_DISCARDED_KMT);
}

TEST(SettingsFile, TheEnvironmentVariableWinsOverTheFile) {
  SettingsFolder settings(kAlways);
  VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", settings.file()}, {"VK_KMT_OFFER_RECLAIM_DISCARD", "never"}}));
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  EXPECT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_OFFERED_KMT);
}

TEST(SettingsFile, EverySettingOfTheListIsReadFromTheFile) {
  // One line per KMT_SETTINGS entry at a non-default value; a value the layer
  // rejected would be reported as KMT-bad-setting naming the file's key.
  SettingsFolder settings(
      "kmt_offer_reclaim.discard = random\n"
      "kmt_offer_reclaim.discard_rate = 1000\n"
      "kmt_offer_reclaim.discard_seed = 7\n"
      "kmt_offer_reclaim.discard_fill = zero\n"
      "kmt_offer_reclaim.budget_mb = 64\n"
      "kmt_offer_reclaim.offered_priority = 0.25\n"
      "kmt_offer_reclaim.log_level = info\n"
      "kmt_offer_reclaim.stats = false\n");
  const std::string log = settings.folder() + "/kmt.log", trace = settings.folder() + "/trace.json";
  std::ofstream(settings.file(), std::ios::app) << "kmt_offer_reclaim.log_file = " << log << "\n"
                                                 << "kmt_offer_reclaim.trace = " << trace << "\n"
                                                 << "kmt_offer_reclaim.trace_max_mb = 8\n";
  {
    VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", settings.file()}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    EXPECT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_DISCARDED_KMT) << "random at 1000 per mille";
    EXPECT_TRUE(s.messages_with_id("KMT-bad-setting").empty()) << describe(s.messages());
    // LOG_LEVEL=info from the file lets the startup message through; it names
    // what the file chose.
    auto startup = s.messages_with_id("KMT-startup");
    ASSERT_EQ(startup.size(), 1u) << describe(s.messages());
    EXPECT_NE(startup[0].text.find("discard policy random, fill zero, offered priority 0.25"), std::string::npos)
        << startup[0].text;
    for (const std::string& setting : {"LOG_FILE=" + log, "TRACE=" + trace, std::string("TRACE_MAX_MB=8")})
      EXPECT_NE(startup[0].text.find(setting), std::string::npos) << setting << ": " << startup[0].text;
  }
  EXPECT_EQ(access(log.c_str(), R_OK), 0) << "LOG_FILE from the file is written";
  EXPECT_EQ(access(trace.c_str(), R_OK), 0) << "TRACE from the file is written";
  std::remove(log.c_str());
  std::remove(trace.c_str());
}

TEST(SettingsFile, ABadValueInTheFileIsReportedWithItsKeyAndTheDefaultUsed) {
  SettingsFolder settings("kmt_offer_reclaim.discard = sometimes\n");
  VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", settings.file()}}));
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  EXPECT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_OFFERED_KMT) << "default policy: never";
  auto warnings = s.messages_with_id("KMT-bad-setting");
  ASSERT_EQ(warnings.size(), 1u) << describe(s.messages());
  EXPECT_NE(warnings[0].text.find("kmt_offer_reclaim.discard=\"sometimes\""), std::string::npos) << warnings[0].text;
}

TEST(SettingsFile, NothingIsCarriedOverToTheNextInstance) {
  // The loader unloads the layer at vkDestroyInstance; a later instance reading
  // another file must not see the earlier one's values.
  {
    SettingsFolder settings(kAlways);
    VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", settings.file()}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    ASSERT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_DISCARDED_KMT);
  }
  SettingsFolder empty("# nothing set\n");
  VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", empty.file()}}));
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  EXPECT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_OFFERED_KMT);
}

}  // namespace
}  // namespace kmt

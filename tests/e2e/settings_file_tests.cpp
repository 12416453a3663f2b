// SPDX-License-Identifier: MIT
// Settings from a vk_layer_settings.txt (DESIGN.md "Configuration"): the file
// the Khronos layers read, found through VK_LAYER_SETTINGS_PATH (the file
// itself, or the folder holding it), with entries kmt_offer_reclaim.<name>.
// The environment variable VK_KMT_OFFER_RECLAIM_<NAME> wins over the file.
// The effect is observed as an app would: under DISCARD=always an offered
// allocation is DISCARDED at once (vkGetAllocationStateKMT).
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

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
    // LOG_LEVEL=info from the file lets the startup message through; it lists
    // every setting, what the file chose and that the file chose it.
    auto startup = s.messages_with_id("KMT-startup");
    ASSERT_EQ(startup.size(), 1u) << describe(s.messages());
    EXPECT_NE(startup[0].text.find("discard=random (file), discard_rate=1000 (file), discard_seed=7 (file), "
                                   "discard_fill=zero (file), budget_mb=64 (file), offered_priority=0.25 (file), "
                                   "log_level=info (file), stats=false (file)"),
              std::string::npos)
        << startup[0].text;
    for (const std::string& setting :
         {"log_file=" + log + " (file)", "trace=" + trace + " (file)", std::string("trace_max_mb=8 (file)")})
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

TEST(SettingsFile, KeysAreCaseInsensitive) {
  SettingsFolder settings("KMT_OFFER_RECLAIM.DISCARD = Always\n");
  VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", settings.file()}}));
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  EXPECT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_DISCARDED_KMT);
  EXPECT_TRUE(s.messages_with_id("KMT-").empty()) << describe(s.messages_with_id("KMT-"));
}

TEST(SettingsFile, AnUnknownKeyOfThisLayerIsReportedAndAnotherLayersIsNot) {
  SettingsFolder settings(
      "khronos_validation.enables = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT\n"
      "kmt_offer_reclaim.discard = always\n"
      "kmt_offer_reclaim.discard_polcy = never\n");
  VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", settings.file()}}));
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  EXPECT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_DISCARDED_KMT) << "the known key still applies";
  auto unknown = s.messages_with_id("KMT-unknown-setting");
  ASSERT_EQ(unknown.size(), 1u) << describe(s.messages_with_id("KMT-"));
  EXPECT_NE(unknown[0].text.find("kmt_offer_reclaim.discard_polcy (" + settings.file() + " line 3) is not a setting"),
            std::string::npos)
      << unknown[0].text;
  EXPECT_EQ(unknown[0].severity, VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT);
}

TEST(SettingsFile, AnUnknownEnvironmentVariableIsReported) {
  VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD_POLICY", "always"}}));
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  EXPECT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_OFFERED_KMT);
  auto unknown = s.messages_with_id("KMT-unknown-setting");
  ASSERT_EQ(unknown.size(), 1u) << describe(s.messages_with_id("KMT-"));
  EXPECT_NE(unknown[0].text.find("VK_KMT_OFFER_RECLAIM_DISCARD_POLICY is not a setting"), std::string::npos)
      << unknown[0].text;
}

TEST(SettingsFile, AFileFullOfTyposDoesNotCrowdOutTheStartupLine) {
  std::string text = "kmt_offer_reclaim.log_level = info\n";
  for (int i = 0; i < 20; i++) text += "kmt_offer_reclaim.typo" + std::to_string(i) + " = 1\n";
  SettingsFolder settings(text);
  VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", settings.file()}}));
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  s.allocate(4096);  // any call after creation sends the deferred messages
  EXPECT_EQ(s.messages_with_id("KMT-unknown-setting").size(), 5u) << describe(s.messages_with_id("KMT-"));
  auto more = s.messages_with_id("KMT-bad-setting");
  ASSERT_EQ(more.size(), 1u) << describe(s.messages_with_id("KMT-"));
  EXPECT_EQ(more[0].text, "15 more settings problems are not shown.");
  EXPECT_EQ(s.messages_with_id("KMT-startup").size(), 1u) << describe(s.messages_with_id("KMT-"));
}

TEST(SettingsFile, ABadValueNamesTheValidValuesAndTheDefault) {
  SettingsFolder settings("kmt_offer_reclaim.discard_rate = 2000\n");
  VulkanStack s(with_env({{"VK_LAYER_SETTINGS_PATH", settings.file()}}));
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  auto warnings = s.messages_with_id("KMT-bad-setting");
  ASSERT_EQ(warnings.size(), 1u) << describe(s.messages());
  EXPECT_EQ(warnings[0].text, "kmt_offer_reclaim.discard_rate=\"2000\" (in " + settings.file() +
                                  ") is not a valid value: expected an integer from 0 to 1000; using the default, 500.");
}

// Issue 16 item 4: VK_LAYER_SETTINGS_PATH=/dev/zero made vkCreateInstance eat
// 7 GB in 60 s inside the settings reader, and a FIFO blocks a reader that
// opens it for ever. The layer alone on the driver (the implicit manifest):
// the validation layer 1.3.239 reads the same path with the same reader and
// would hang itself. A watchdog ends the process if creation does not return.
class SettingsPathThatIsNotAFile : public ::testing::TestWithParam<const char*> {};

long resident_mib() {
  long pages = 0, resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * sysconf(_SC_PAGESIZE) / (1 << 20);
}

TEST_P(SettingsPathThatIsNotAFile, IsNotReadAndSaysSoWithoutHangingOrGrowing) {
  std::string path = GetParam();
  char folder[] = "/tmp/kmt-fifo-XXXXXX";
  if (path == "fifo") {
    ASSERT_NE(mkdtemp(folder), nullptr);
    path = std::string(folder) + "/vk_layer_settings.txt";
    ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  }
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 300 && !done; i++) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!done) {
      std::fprintf(stderr, "FAILED: vkCreateInstance/vkCreateDevice with VK_LAYER_SETTINGS_PATH=%s did not return "
                           "in 30 s\n", path.c_str());
      std::_Exit(1);
    }
  });
  const long before = resident_mib();
  const auto start = std::chrono::steady_clock::now();
  {
    StackOptions o;
    o.stack = Stack::Implicit;
    o.env = {{"VK_KMT_OFFER_RECLAIM_ENABLE", "1"}, {"VK_LAYER_SETTINGS_PATH", path},
             {"VK_KMT_OFFER_RECLAIM_DISCARD", ""}};
    VulkanStack s(o);
    done = true;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    EXPECT_LT(seconds, 10.0);
    EXPECT_LT(resident_mib() - before, 256) << "MiB resident added by instance + device creation";
    EXPECT_EQ(status_after_offer(s), VK_ALLOCATION_STATUS_OFFERED_KMT) << "defaults in force";
    auto file = s.messages_with_id("KMT-settings-file");
    ASSERT_EQ(file.size(), 1u) << describe(s.messages_with_id("KMT-"));
    EXPECT_NE(file[0].text.find("Settings file " + path + " is a"), std::string::npos) << file[0].text;
    EXPECT_NE(file[0].text.find("not a regular file: it is not read"), std::string::npos) << file[0].text;
  }
  done = true;
  watchdog.join();
  if (std::string(GetParam()) == "fifo") {
    std::remove(path.c_str());
    rmdir(folder);
  }
}

INSTANTIATE_TEST_SUITE_P(DevZeroAndFifo, SettingsPathThatIsNotAFile, ::testing::Values("/dev/zero", "fifo"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param) == "fifo" ? "Fifo" : "DevZero";
                         });

}  // namespace
}  // namespace kmt

// SPDX-License-Identifier: MIT
// ASan builds keep the Vulkan driver loaded (tests/pin_driver.c, issue 16
// item 8) so LeakSanitizer does not report lavapipe's global buffer once the
// loader has unloaded it. That must not hide the layer's own leaks: the
// driver stays, the layers go; and other builds pin nothing. Checked with
// dlopen(RTLD_NOLOAD) after the instance is destroyed (the loader unloads
// layers and drivers at vkDestroyInstance).
#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "fixture.hpp"

namespace kmt {
namespace {

// The library_path of the ICD manifest the fixture uses.
std::string driver_library() {
  const char* icd = getenv("KMT_TEST_ICD");
  std::FILE* f = std::fopen(icd && *icd ? icd : KMT_LVP_ICD, "r");
  if (!f) return "";
  char text[4096] = {};
  const size_t n = std::fread(text, 1, sizeof(text) - 1, f);
  std::fclose(f);
  const std::string json(text, n);
  const size_t key = json.find("\"library_path\"");
  const size_t open = key == std::string::npos ? key : json.find('"', key + 14);
  const size_t close = open == std::string::npos ? open : json.find('"', open + 1);
  return close == std::string::npos ? "" : json.substr(open + 1, close - open - 1);
}

bool loaded(const std::string& library) {
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle) dlclose(handle);
  return handle != nullptr;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPinned = true;
#else
constexpr bool kPinned = false;  // other builds see the loader's own unloading, as apps do
#endif

TEST(LeakChecking, TheDriverIsKeptLoadedOnlyUnderAsanAndTheLayersNever) {
  const std::string driver = driver_library();
  ASSERT_FALSE(driver.empty());
  EXPECT_EQ(loaded(driver), kPinned) << driver << " before any instance (tests/pin_driver.c)";
  {
    VulkanStack s;
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    ASSERT_TRUE(loaded(driver));
    ASSERT_TRUE(loaded(KMT_LAYER_PATH));
  }
  EXPECT_EQ(loaded(driver), kPinned) << "after vkDestroyInstance";
  EXPECT_FALSE(loaded(KMT_LAYER_PATH)) << "the layer is never pinned: its leaks must be reported";
  EXPECT_FALSE(loaded(KMT_TEST_DRIVER_PATH)) << "nor the test driver layer";
}

}  // namespace
}  // namespace kmt

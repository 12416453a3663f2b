// SPDX-License-Identifier: MIT
// Follows an offer from the app to the kernel (issue 14): on Mesa 25's
// lavapipe, which turns a memory priority below 0.3 into madvise(MADV_COLD)
// over the allocation's pages and 0.6 or above into MADV_WILLNEED, an offer
// must reach the kernel as MADV_COLD over exactly the allocation, and a
// reclaim as the allocation's own priority again (MADV_WILLNEED for a high
// one). madvise_shim.so (LD_PRELOAD) records the calls; the test checks
// address and length against the allocation's mapping and size.
//
// Run by ctest through run_with_mesa25.sh (label mesa25), which points
// KMT_TEST_ICD at the unpacked Mesa 25 and preloads the shim. The stack is
// layer -> validation -> Mesa 25 (Stack::Lvp); validation errors fail.
#include <dlfcn.h>
#include <sys/mman.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "kmt_calls.hpp"
#include "madvise_shim.h"

namespace kmt {
namespace {

constexpr VkDeviceSize kSize = 16u << 20;

std::string advice_name(int advice) {
  switch (advice) {
    case MADV_COLD: return "MADV_COLD";
    case MADV_WILLNEED: return "MADV_WILLNEED";
    case MADV_DONTNEED: return "MADV_DONTNEED";
    case MADV_PAGEOUT: return "MADV_PAGEOUT";
    default: return std::to_string(advice);
  }
}

std::string describe(const std::vector<kmt_madvise_call>& calls) {
  std::ostringstream out;
  for (const auto& c : calls)
    out << "  madvise(" << c.addr << ", " << c.length << ", " << advice_name(c.advice) << ") = " << c.result << "\n";
  return out.str();
}

class FollowAnOffer : public ::testing::Test {
 protected:
  void SetUp() override {
    calls_ = reinterpret_cast<PFN_kmt_madvise_calls>(dlsym(RTLD_DEFAULT, "kmt_madvise_calls"));
    ASSERT_NE(calls_, nullptr) << "madvise_shim.so is not preloaded: run these tests with ctest -L mesa25";
    StackOptions o;
    o.stack = Stack::Lvp;
    stack_ = std::make_unique<VulkanStack>(o);
    ASSERT_EQ(stack_->result(), VK_SUCCESS) << stack_->failed_step() << "\n" << kmt::describe(stack_->messages());
    ASSERT_TRUE(driver_has_pageable_memory())
        << "KMT_TEST_ICD=" << (getenv("KMT_TEST_ICD") ? getenv("KMT_TEST_ICD") : "(unset)")
        << " is not a driver with VK_EXT_pageable_device_local_memory (Mesa 25 lavapipe expected)";
  }
  void TearDown() override {
    if (!stack_) return;
    stack_->destroy();
    EXPECT_TRUE(stack_->validation_errors().empty()) << kmt::describe(stack_->validation_errors());
  }

  bool driver_has_pageable_memory() const {
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(stack_->physical_device, nullptr, &n, nullptr);
    std::vector<VkExtensionProperties> exts(n);
    vkEnumerateDeviceExtensionProperties(stack_->physical_device, nullptr, &n, exts.data());
    for (const auto& e : exts)
      if (std::strcmp(e.extensionName, VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME) == 0) return true;
    return false;
  }

  unsigned now() const {
    const kmt_madvise_call* all = nullptr;
    return calls_(&all);
  }
  // The calls since `from` that touch [base, base + size).
  std::vector<kmt_madvise_call> calls_on(unsigned from, const void* base, VkDeviceSize size) const {
    const kmt_madvise_call* all = nullptr;
    const unsigned n = calls_(&all);
    const auto lo = reinterpret_cast<uintptr_t>(base), hi = lo + size;
    std::vector<kmt_madvise_call> out;
    for (unsigned i = from; i < n; i++) {
      const auto a = reinterpret_cast<uintptr_t>(all[i].addr);
      if (a < hi && a + all[i].length > lo) out.push_back(all[i]);
    }
    return out;
  }

  // Device-local memory at `priority` (VK_EXT_memory_priority), its address
  // from vkMapMemory (lavapipe's memory is host memory: the pages madvise sees).
  VkDeviceMemory allocate(float priority, void** address) {
    VulkanStack& s = *stack_;
    const uint32_t type = s.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    EXPECT_NE(type, UINT32_MAX);
    VkDeviceMemory m = s.allocate(kSize, type, &priority);
    *address = nullptr;
    EXPECT_EQ(vkMapMemory(s.device, m, 0, VK_WHOLE_SIZE, 0, address), VK_SUCCESS);
    std::memset(*address, 0x5a, kSize);
    vkUnmapMemory(s.device, m);
    return m;
  }

  void expect_one(const std::vector<kmt_madvise_call>& calls, int advice, const void* address) const {
    ASSERT_EQ(calls.size(), 1u) << "expected one " << advice_name(advice) << " over the allocation, got:\n"
                                << describe(calls);
    EXPECT_EQ(calls[0].advice, advice) << describe(calls);
    EXPECT_EQ(calls[0].addr, address) << "the allocation's pages, from its start";
    EXPECT_EQ(calls[0].length, kSize) << "the whole allocation, nothing more";
    EXPECT_EQ(calls[0].result, 0) << "the kernel accepted it";
  }

  PFN_kmt_madvise_calls calls_ = nullptr;
  std::unique_ptr<VulkanStack> stack_;
};

TEST_F(FollowAnOffer, OfferedMemoryIsAdvisedColdAndReclaimedMemoryWillNeed) {
  VulkanStack& s = *stack_;
  void* address = nullptr;
  VkDeviceMemory m = allocate(1.0f, &address);
  ASSERT_NE(address, nullptr);

  const unsigned before_offer = now();
  ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
  expect_one(calls_on(before_offer, address, kSize), MADV_COLD, address);
  VkAllocationStateKMT st = state_of(s, m);
  EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_OFFERED_KMT);
  EXPECT_TRUE(st.driverPriorityApplied);
  EXPECT_EQ(st.driverPriority, 0.0f);

  const unsigned before_reclaim = now();
  Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{m});
  ASSERT_EQ(r.results[0], VK_RECLAIM_RESULT_OK_KMT);
  expect_one(calls_on(before_reclaim, address, kSize), MADV_WILLNEED, address);
  EXPECT_EQ(state_of(s, m).driverPriority, 1.0f) << "the allocation's own priority again";

  void* data = nullptr;
  ASSERT_EQ(vkMapMemory(s.device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
  EXPECT_EQ(data, address);
  const auto* bytes = static_cast<const unsigned char*>(data);
  EXPECT_TRUE(std::all_of(bytes, bytes + kSize, [](unsigned char b) { return b == 0x5a; }))
      << "MADV_COLD keeps the contents (DISCARD=never)";
  vkUnmapMemory(s.device, m);
}

TEST_F(FollowAnOffer, ReclaimRestoresTheAllocationsOwnPriorityNotAHighOne) {
  // 0.5 is Mesa's middle band: no advice. An offer still goes cold; the
  // reclaim asks for nothing more than the app did.
  VulkanStack& s = *stack_;
  void* address = nullptr;
  VkDeviceMemory m = allocate(0.5f, &address);
  const unsigned before_offer = now();
  ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_NORMAL_KMT), VK_SUCCESS);
  expect_one(calls_on(before_offer, address, kSize), MADV_COLD, address);
  const unsigned before_reclaim = now();
  ASSERT_EQ(reclaim(s, std::vector<VkDeviceMemory>{m}).results[0], VK_RECLAIM_RESULT_OK_KMT);
  EXPECT_TRUE(calls_on(before_reclaim, address, kSize).empty()) << describe(calls_on(before_reclaim, address, kSize));
  EXPECT_EQ(state_of(s, m).driverPriority, 0.5f);
}

TEST_F(FollowAnOffer, AnOfferWaitsForTheGpuBeforeTheKernelHearsOfIt) {
  // Without OFFER_IMMEDIATELY the memory may be demoted only once the work
  // submitted before the offer is done (DESIGN.md): nothing reaches the
  // kernel while a batch waits on a gate, MADV_COLD once it has run.
  VulkanStack& s = *stack_;
  void* address = nullptr;
  VkDeviceMemory m = allocate(1.0f, &address);
  const unsigned before_offer = now();
  {
    QueueGate gate(s);
    ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
    EXPECT_EQ(state_of(s, m).status, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    EXPECT_TRUE(calls_on(before_offer, address, kSize).empty()) << describe(calls_on(before_offer, address, kSize));
    gate.open();
  }
  EXPECT_EQ(state_of(s, m).status, VK_ALLOCATION_STATUS_OFFERED_KMT);  // the layer's next call promotes it
  expect_one(calls_on(before_offer, address, kSize), MADV_COLD, address);
}

}  // namespace
}  // namespace kmt

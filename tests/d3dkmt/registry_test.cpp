// SPDX-License-Identifier: MIT
// (b) The handle registry of vk_kmt/d3dkmt.h and the validation the thunks do
// before they call the layer, with no Vulkan device at all.
//
// A fake vkGetDeviceProcAddr is used ONLY so that VkKmtOpenDevice can open a
// registry device: the "commands" it hands out never stand in for the layer.
// They count their calls and fail loudly; every test here asserts they were
// never called (what the layer does is tested in e2e_test.cpp).
#include <vk_kmt/d3dkmt.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <unordered_set>
#include <vector>

namespace {

std::atomic<int> g_layer_calls{0};

VKAPI_ATTR VkResult VKAPI_CALL must_not_offer(VkDevice, const VkOfferAllocationsInfoKMT*) {
  ++g_layer_calls;
  ADD_FAILURE() << "vkOfferAllocationsKMT reached: the thunk should have rejected the call";
  return VK_ERROR_UNKNOWN;
}
VKAPI_ATTR VkResult VKAPI_CALL must_not_reclaim(VkDevice, const VkReclaimAllocationsInfoKMT*, uint64_t*) {
  ++g_layer_calls;
  ADD_FAILURE() << "vkReclaimAllocationsKMT reached: the thunk should have rejected the call";
  return VK_ERROR_UNKNOWN;
}
VKAPI_ATTR VkResult VKAPI_CALL must_not_get_fence(VkDevice, VkSemaphore*) {
  ++g_layer_calls;
  ADD_FAILURE() << "vkGetPagingFenceKMT reached: the thunk should have rejected the call";
  return VK_ERROR_UNKNOWN;
}
VKAPI_ATTR VkResult VKAPI_CALL must_not_wait(VkDevice, const VkSemaphoreWaitInfo*, uint64_t) {
  ++g_layer_calls;
  ADD_FAILURE() << "vkWaitSemaphores reached: nothing was queued";
  return VK_ERROR_UNKNOWN;
}

// Which names the fake vkGetDeviceProcAddr answers.
bool g_has_offer = true, g_has_wait = true, g_has_wait_khr = false;

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL fake_gdpa(VkDevice, const char* name) {
  if (!strcmp(name, "vkOfferAllocationsKMT")) return g_has_offer ? (PFN_vkVoidFunction)must_not_offer : nullptr;
  if (!strcmp(name, "vkReclaimAllocationsKMT")) return (PFN_vkVoidFunction)must_not_reclaim;
  if (!strcmp(name, "vkGetPagingFenceKMT")) return (PFN_vkVoidFunction)must_not_get_fence;
  if (!strcmp(name, "vkWaitSemaphores")) return g_has_wait ? (PFN_vkVoidFunction)must_not_wait : nullptr;
  if (!strcmp(name, "vkWaitSemaphoresKHR")) return g_has_wait_khr ? (PFN_vkVoidFunction)must_not_wait : nullptr;
  return nullptr;
}

// A VkDevice value no driver made: only ever compared, never dereferenced.
VkDevice fake_device(uintptr_t n) { return reinterpret_cast<VkDevice>(0x1000 + n * 0x10); }
VkDeviceMemory fake_memory(uint64_t n) { return (VkDeviceMemory)(uintptr_t)(0x100000 + n); }
VkBuffer fake_buffer(uint64_t n) { return (VkBuffer)(uintptr_t)(0x200000 + n); }
VkImage fake_image(uint64_t n) { return (VkImage)(uintptr_t)(0x300000 + n); }

class Registry : public ::testing::Test {
 protected:
  void SetUp() override {
    g_layer_calls = 0;
    g_has_offer = true;
    g_has_wait = true;
    g_has_wait_khr = false;
    ASSERT_EQ(VkKmtOpenDevice(fake_device(1), fake_gdpa, &dev), STATUS_SUCCESS);
    ASSERT_EQ(VkKmtOpenDevice(fake_device(2), fake_gdpa, &other), STATUS_SUCCESS);
    ASSERT_EQ(VkKmtRegisterMemory(dev, fake_memory(1), &mem), STATUS_SUCCESS);
    ASSERT_EQ(VkKmtRegisterMemory(dev, fake_memory(2), &mem2), STATUS_SUCCESS);
    ASSERT_EQ(VkKmtRegisterBuffer(dev, fake_buffer(1), &buf), STATUS_SUCCESS);
    ASSERT_EQ(VkKmtRegisterImage(dev, fake_image(1), &img), STATUS_SUCCESS);
    ASSERT_EQ(VkKmtRegisterMemory(other, fake_memory(1), &other_mem), STATUS_SUCCESS);
    ASSERT_EQ(VkKmtRegisterBuffer(other, fake_buffer(1), &other_buf), STATUS_SUCCESS);
  }
  void TearDown() override {
    if (dev) {
      EXPECT_EQ(VkKmtCloseDevice(dev), STATUS_SUCCESS);
    }
    if (other) {
      EXPECT_EQ(VkKmtCloseDevice(other), STATUS_SUCCESS);
    }
    EXPECT_EQ(g_layer_calls.load(), 0) << "a thunk called the layer for a call it had to reject";
  }

  D3DKMT_OFFERALLOCATIONS offer_by_handles(const D3DKMT_HANDLE* list, UINT n) const {
    D3DKMT_OFFERALLOCATIONS o;
    std::memset(&o, 0, sizeof(o));
    o.hDevice = dev;
    o.HandleList = list;
    o.NumAllocations = n;
    o.Priority = D3DKMT_OFFER_PRIORITY_LOW;
    return o;
  }

  D3DKMT_HANDLE dev = 0, other = 0, mem = 0, mem2 = 0, buf = 0, img = 0, other_mem = 0, other_buf = 0;
};

VkKmtHandleKind kind_of(D3DKMT_HANDLE h) {
  VkKmtHandleInfo info;
  VkKmtGetHandleInfo(h, &info);
  return info.kind;
}

// --- opening devices ---------------------------------------------------------

TEST(RegistryOpen, RejectsNullArguments) {
  D3DKMT_HANDLE h = 123;
  EXPECT_EQ(VkKmtOpenDevice(VK_NULL_HANDLE, fake_gdpa, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(h, 0u);
  EXPECT_EQ(VkKmtOpenDevice(fake_device(1), nullptr, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtOpenDevice(fake_device(1), fake_gdpa, nullptr), STATUS_INVALID_PARAMETER);
}

TEST(RegistryOpen, FailsWhenTheDeviceLacksTheExtensionCommands) {
  g_has_offer = false;  // what vkGetDeviceProcAddr answers when VK_KMT_offer_reclaim is not enabled
  D3DKMT_HANDLE h = 123;
  EXPECT_EQ(VkKmtOpenDevice(fake_device(1), fake_gdpa, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(h, 0u);
  g_has_offer = true;
}

TEST(RegistryOpen, NeedsVkWaitSemaphoresOrItsKhrAlias) {
  D3DKMT_HANDLE h = 0;
  g_has_wait = false;
  g_has_wait_khr = false;
  EXPECT_EQ(VkKmtOpenDevice(fake_device(1), fake_gdpa, &h), STATUS_INVALID_PARAMETER);
  g_has_wait_khr = true;
  ASSERT_EQ(VkKmtOpenDevice(fake_device(1), fake_gdpa, &h), STATUS_SUCCESS);
  EXPECT_EQ(VkKmtCloseDevice(h), STATUS_SUCCESS);
  g_has_wait = true;
  g_has_wait_khr = false;
}

// --- handles -----------------------------------------------------------------

TEST_F(Registry, HandlesAreNonZeroDistinctAndDescribeTheirObject) {
  std::set<D3DKMT_HANDLE> all = {dev, other, mem, mem2, buf, img, other_mem, other_buf};
  EXPECT_EQ(all.size(), 8u);
  EXPECT_EQ(all.count(0u), 0u);

  VkKmtHandleInfo info;
  ASSERT_EQ(VkKmtGetHandleInfo(dev, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.kind, VK_KMT_HANDLE_KIND_DEVICE);
  EXPECT_EQ(info.hDevice, dev);
  EXPECT_EQ(info.object, (uint64_t)(uintptr_t)fake_device(1));

  ASSERT_EQ(VkKmtGetHandleInfo(mem, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.kind, VK_KMT_HANDLE_KIND_ALLOCATION);
  EXPECT_EQ(info.hDevice, dev);
  EXPECT_EQ(info.object, (uint64_t)(uintptr_t)fake_memory(1));

  ASSERT_EQ(VkKmtGetHandleInfo(buf, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.kind, VK_KMT_HANDLE_KIND_BUFFER);
  EXPECT_EQ(info.object, (uint64_t)(uintptr_t)fake_buffer(1));

  ASSERT_EQ(VkKmtGetHandleInfo(img, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.kind, VK_KMT_HANDLE_KIND_IMAGE);
  EXPECT_EQ(info.object, (uint64_t)(uintptr_t)fake_image(1));

  ASSERT_EQ(VkKmtGetHandleInfo(other_mem, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.hDevice, other);  // same VkDeviceMemory value, other device: another handle
  EXPECT_NE(other_mem, mem);
}

TEST_F(Registry, NullAndGarbageHandlesAreInvalid) {
  VkKmtHandleInfo info;
  EXPECT_EQ(VkKmtGetHandleInfo(0, &info), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(info.kind, VK_KMT_HANDLE_KIND_INVALID);
  EXPECT_EQ(VkKmtGetHandleInfo(0xFFFFFFFFu, &info), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtGetHandleInfo(mem ^ 0x80000000u, &info), STATUS_INVALID_PARAMETER);  // same slot, other generation
  EXPECT_EQ(VkKmtGetHandleInfo(mem, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtCloseHandle(0), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtCloseDevice(0), STATUS_INVALID_PARAMETER);
}

TEST_F(Registry, RegisteringNeedsALiveDeviceAndARealObject) {
  D3DKMT_HANDLE h = 77;
  EXPECT_EQ(VkKmtRegisterMemory(dev, VK_NULL_HANDLE, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(h, 0u);
  EXPECT_EQ(VkKmtRegisterBuffer(dev, VK_NULL_HANDLE, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtRegisterImage(dev, VK_NULL_HANDLE, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtRegisterMemory(dev, fake_memory(9), nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtRegisterMemory(0, fake_memory(9), &h), STATUS_INVALID_PARAMETER);
  // Only a device handle owns objects.
  EXPECT_EQ(VkKmtRegisterMemory(mem, fake_memory(9), &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtRegisterImage(buf, fake_image(9), &h), STATUS_INVALID_PARAMETER);
}

TEST_F(Registry, AClosedHandleIsStaleForGoodAndNeverReissued) {
  const D3DKMT_HANDLE closed = mem;
  ASSERT_EQ(VkKmtCloseHandle(closed), STATUS_SUCCESS);
  mem = 0;
  EXPECT_EQ(kind_of(closed), VK_KMT_HANDLE_KIND_INVALID);
  EXPECT_EQ(VkKmtCloseHandle(closed), STATUS_INVALID_PARAMETER);  // closing twice

  // Register and close many times: each value is new, and the closed one stays
  // stale. 100000 cycles run one slot through its 4095 generations ~25 times, so
  // slot retirement is exercised too.
  std::unordered_set<D3DKMT_HANDLE> seen = {closed, dev, other, mem2, buf, img, other_mem, other_buf};
  for (uint32_t i = 0; i < 100000; ++i) {
    D3DKMT_HANDLE h = 0;
    ASSERT_EQ(VkKmtRegisterMemory(dev, fake_memory(1000 + i), &h), STATUS_SUCCESS);
    ASSERT_TRUE(seen.insert(h).second) << "handle 0x" << std::hex << h << " handed out twice";
    ASSERT_EQ(VkKmtCloseHandle(h), STATUS_SUCCESS);
  }
  EXPECT_EQ(kind_of(closed), VK_KMT_HANDLE_KIND_INVALID);

  // The survivors still name their own objects.
  VkKmtHandleInfo info;
  ASSERT_EQ(VkKmtGetHandleInfo(mem2, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.object, (uint64_t)(uintptr_t)fake_memory(2));
}

TEST_F(Registry, CloseHandleTakesOnlyAllocationsAndResources) {
  EXPECT_EQ(VkKmtCloseHandle(dev), STATUS_INVALID_PARAMETER);  // devices: VkKmtCloseDevice
  EXPECT_EQ(kind_of(dev), VK_KMT_HANDLE_KIND_DEVICE);
  EXPECT_EQ(VkKmtCloseDevice(mem), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtCloseDevice(buf), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(kind_of(mem), VK_KMT_HANDLE_KIND_ALLOCATION);
  EXPECT_EQ(VkKmtCloseHandle(buf), STATUS_SUCCESS);
  EXPECT_EQ(VkKmtCloseHandle(img), STATUS_SUCCESS);
  buf = img = 0;
}

TEST_F(Registry, ClosingADeviceClosesWhatItOwnsAndNothingElse) {
  const D3DKMT_HANDLE d = dev, m = mem, m2 = mem2, b = buf, i = img;
  ASSERT_EQ(VkKmtCloseDevice(d), STATUS_SUCCESS);
  dev = 0;
  for (D3DKMT_HANDLE h : {d, m, m2, b, i}) EXPECT_EQ(kind_of(h), VK_KMT_HANDLE_KIND_INVALID) << std::hex << h;
  EXPECT_EQ(VkKmtCloseDevice(d), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtCloseHandle(m), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(kind_of(other), VK_KMT_HANDLE_KIND_DEVICE);
  EXPECT_EQ(kind_of(other_mem), VK_KMT_HANDLE_KIND_ALLOCATION);
  EXPECT_EQ(kind_of(other_buf), VK_KMT_HANDLE_KIND_BUFFER);
  // A stale device handle cannot be used to register either.
  D3DKMT_HANDLE h = 0;
  EXPECT_EQ(VkKmtRegisterMemory(d, fake_memory(5), &h), STATUS_INVALID_PARAMETER);
}

TEST_F(Registry, SyncObjectSemaphoreNeedsASyncObjectOrPagingQueue) {
  VkSemaphore s = (VkSemaphore)(uintptr_t)0x55;
  EXPECT_EQ(VkKmtGetSyncObjectSemaphore(mem, &s), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(s, VK_NULL_HANDLE);
  EXPECT_EQ(VkKmtGetSyncObjectSemaphore(dev, &s), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtGetSyncObjectSemaphore(0, &s), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtGetSyncObjectSemaphore(dev, nullptr), STATUS_INVALID_PARAMETER);
}

TEST_F(Registry, TableFullIsNoMemoryAndRecovers) {
  // Fill every free slot (2^20 in all), then expect STATUS_NO_MEMORY.
  std::vector<D3DKMT_HANDLE> handles;
  handles.reserve(1u << 20);
  NTSTATUS status = STATUS_SUCCESS;
  for (uint32_t i = 0; i < (1u << 20) + 1; ++i) {
    D3DKMT_HANDLE h = 0;
    status = VkKmtRegisterBuffer(dev, fake_buffer(i + 10), &h);
    if (status != STATUS_SUCCESS) {
      EXPECT_EQ(h, 0u);
      break;
    }
    handles.push_back(h);
  }
  EXPECT_EQ(status, STATUS_NO_MEMORY);
  EXPECT_LE(handles.size(), (size_t)(1u << 20));
  ASSERT_FALSE(handles.empty());
  ASSERT_EQ(VkKmtCloseHandle(handles.back()), STATUS_SUCCESS);
  const D3DKMT_HANDLE closed = handles.back();
  handles.pop_back();
  D3DKMT_HANDLE h = 0;
  ASSERT_EQ(VkKmtRegisterBuffer(dev, fake_buffer(1), &h), STATUS_SUCCESS);
  EXPECT_NE(h, closed);
  // Closing the device frees them all at once.
  ASSERT_EQ(VkKmtCloseDevice(dev), STATUS_SUCCESS);
  dev = 0;
  EXPECT_EQ(kind_of(h), VK_KMT_HANDLE_KIND_INVALID);
  EXPECT_EQ(kind_of(handles.front()), VK_KMT_HANDLE_KIND_INVALID);
  ASSERT_EQ(VkKmtOpenDevice(fake_device(3), fake_gdpa, &dev), STATUS_SUCCESS);
}

// --- threads -----------------------------------------------------------------

TEST_F(Registry, EightThreadsRegisterAndCloseWithoutAliasing) {
  constexpr int kThreads = 8, kRounds = 20, kPerRound = 250;
  std::vector<std::vector<D3DKMT_HANDLE>> issued(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<D3DKMT_HANDLE> live;
      for (int r = 0; r < kRounds; ++r) {
        for (int i = 0; i < kPerRound; ++i) {
          const uint64_t tag = ((uint64_t)(t + 1) << 32) | (uint64_t)(r * kPerRound + i);
          D3DKMT_HANDLE h = 0;
          NTSTATUS s = (i % 3 == 0)   ? VkKmtRegisterImage(dev, (VkImage)(uintptr_t)tag, &h)
                       : (i % 3 == 1) ? VkKmtRegisterBuffer(dev, (VkBuffer)(uintptr_t)tag, &h)
                                      : VkKmtRegisterMemory(dev, (VkDeviceMemory)(uintptr_t)tag, &h);
          if (s != STATUS_SUCCESS) ++failures;
          issued[t].push_back(h);
          live.push_back(h);
        }
        // Every live handle still names this thread's object.
        for (size_t i = 0; i < live.size(); ++i) {
          VkKmtHandleInfo info;
          if (VkKmtGetHandleInfo(live[i], &info) != STATUS_SUCCESS || info.hDevice != dev ||
              (info.object >> 32) != (uint64_t)(t + 1))
            ++failures;
        }
        // Close every other one; closed ones go stale at once.
        std::vector<D3DKMT_HANDLE> keep;
        for (size_t i = 0; i < live.size(); ++i) {
          if (i % 2) {
            keep.push_back(live[i]);
            continue;
          }
          if (VkKmtCloseHandle(live[i]) != STATUS_SUCCESS) ++failures;
          VkKmtHandleInfo info;
          if (VkKmtGetHandleInfo(live[i], &info) != STATUS_INVALID_PARAMETER) ++failures;
        }
        live.swap(keep);
      }
      for (D3DKMT_HANDLE h : live)
        if (VkKmtCloseHandle(h) != STATUS_SUCCESS) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);

  std::vector<D3DKMT_HANDLE> all;
  for (const auto& v : issued) all.insert(all.end(), v.begin(), v.end());
  EXPECT_EQ(all.size(), (size_t)kThreads * kRounds * kPerRound);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a handle value was handed out twice";
  for (D3DKMT_HANDLE h : all) ASSERT_EQ(kind_of(h), VK_KMT_HANDLE_KIND_INVALID);
}

TEST_F(Registry, ConcurrentClosesOfOneHandleSucceedExactlyOnce) {
  for (int round = 0; round < 200; ++round) {
    D3DKMT_HANDLE h = 0;
    ASSERT_EQ(VkKmtRegisterMemory(dev, fake_memory(round + 50), &h), STATUS_SUCCESS);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        if (VkKmtCloseHandle(h) == STATUS_SUCCESS) ++ok;
      });
    for (auto& th : threads) th.join();
    ASSERT_EQ(ok.load(), 1);
  }
}

TEST(RegistryThreads, DevicesOpenedAndClosedConcurrentlyKeepTheirHandles) {
  constexpr int kThreads = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        D3DKMT_HANDLE d = 0, m = 0;
        if (VkKmtOpenDevice(fake_device(100 + t), fake_gdpa, &d) != STATUS_SUCCESS) ++failures;
        if (VkKmtRegisterMemory(d, fake_memory(t), &m) != STATUS_SUCCESS) ++failures;
        VkKmtHandleInfo info;
        if (VkKmtGetHandleInfo(m, &info) != STATUS_SUCCESS || info.hDevice != d ||
            info.object != (uint64_t)(uintptr_t)fake_memory(t))
          ++failures;
        if (VkKmtCloseDevice(d) != STATUS_SUCCESS) ++failures;
        if (VkKmtGetHandleInfo(m, &info) != STATUS_INVALID_PARAMETER) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// --- validation in the thunks, before the layer -------------------------------

TEST_F(Registry, OfferRejectsBadCountsAndArrays) {
  D3DKMT_HANDLE list[2] = {mem, mem2};
  EXPECT_EQ(D3DKMTOfferAllocations(nullptr), STATUS_INVALID_PARAMETER);

  D3DKMT_OFFERALLOCATIONS o = offer_by_handles(list, 0);
  EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER);  // count 0
  o.NumAllocations = D3DKMT_MAKERESIDENT_ALLOC_MAX + 1;
  EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER);  // count > 10240
  o.NumAllocations = 0xFFFFFFFFu;
  EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER);

  o = offer_by_handles(list, 2);
  D3DKMT_HANDLE res[1] = {buf};
  o.pResources = res;  // both arrays
  EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER);
  o.pResources = nullptr;
  o.HandleList = nullptr;  // neither
  EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER);
}

TEST_F(Registry, OfferRejectsPrioritiesOutsideOneToFourAndReservedFlags) {
  D3DKMT_HANDLE list[1] = {mem};
  D3DKMT_OFFERALLOCATIONS o = offer_by_handles(list, 1);
  for (int p : {0, 5, -1, 0x7FFFFFFF}) {
    o.Priority = static_cast<D3DKMT_OFFER_PRIORITY>(p);
    EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER) << "priority " << p;
  }
  o.Priority = D3DKMT_OFFER_PRIORITY_NORMAL;
  for (UINT bits : {0x4u, 0x80000000u, 0xFFFFFFFFu}) {
    o.Flags.Value = bits;
    EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER) << "flags 0x" << std::hex << bits;
  }
}

TEST_F(Registry, OfferRejectsUnknownStaleForeignAndWrongKindHandles) {
  D3DKMT_HANDLE stale = 0;
  ASSERT_EQ(VkKmtRegisterMemory(dev, fake_memory(7), &stale), STATUS_SUCCESS);
  ASSERT_EQ(VkKmtCloseHandle(stale), STATUS_SUCCESS);

  // HandleList takes allocation handles of hDevice only.
  for (D3DKMT_HANDLE bad : {(D3DKMT_HANDLE)0, stale, buf, img, dev, other, other_mem, 0xFFFFFFFFu}) {
    D3DKMT_HANDLE list[2] = {mem, bad};
    D3DKMT_OFFERALLOCATIONS o = offer_by_handles(list, 2);
    EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER) << "HandleList entry 0x" << std::hex << bad;
  }
  // pResources takes buffer / image handles of hDevice only.
  for (D3DKMT_HANDLE bad : {(D3DKMT_HANDLE)0, stale, mem, dev, other_buf}) {
    D3DKMT_HANDLE res[2] = {buf, bad};
    D3DKMT_OFFERALLOCATIONS o = offer_by_handles(nullptr, 2);
    o.pResources = res;
    EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER) << "pResources entry 0x" << std::hex << bad;
  }
  // hDevice must be a live device handle.
  for (D3DKMT_HANDLE bad : {(D3DKMT_HANDLE)0, mem, buf}) {
    D3DKMT_HANDLE list[1] = {mem};
    D3DKMT_OFFERALLOCATIONS o = offer_by_handles(list, 1);
    o.hDevice = bad;
    EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER) << "hDevice 0x" << std::hex << bad;
  }
  // Allocations of device A used with device B.
  D3DKMT_HANDLE list[1] = {mem};
  D3DKMT_OFFERALLOCATIONS o = offer_by_handles(list, 1);
  o.hDevice = other;
  EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER);
}

TEST_F(Registry, OfferValidatesAllTenThousandEntries) {
  // A large, valid-looking request whose very last handle is wrong.
  std::vector<D3DKMT_HANDLE> list(D3DKMT_MAKERESIDENT_ALLOC_MAX, mem);
  list.back() = other_mem;
  D3DKMT_OFFERALLOCATIONS o = offer_by_handles(list.data(), (UINT)list.size());
  EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER);
}

TEST_F(Registry, ReclaimRejectsWhatOfferRejects) {
  BOOL discarded[2] = {7, 7};
  D3DKMT_RECLAIMALLOCATIONS r;
  std::memset(&r, 0, sizeof(r));
  EXPECT_EQ(D3DKMTReclaimAllocations(nullptr), STATUS_INVALID_PARAMETER);

  D3DKMT_HANDLE list[2] = {mem, mem2};
  r.hDevice = dev;
  r.HandleList = list;
  r.pDiscarded = discarded;
  r.NumAllocations = 0;
  EXPECT_EQ(D3DKMTReclaimAllocations(&r), STATUS_INVALID_PARAMETER);
  r.NumAllocations = D3DKMT_MAKERESIDENT_ALLOC_MAX + 1;
  EXPECT_EQ(D3DKMTReclaimAllocations(&r), STATUS_INVALID_PARAMETER);
  r.NumAllocations = 2;
  D3DKMT_HANDLE res[2] = {buf, img};
  r.pResources = res;  // both
  EXPECT_EQ(D3DKMTReclaimAllocations(&r), STATUS_INVALID_PARAMETER);
  r.HandleList = nullptr;
  r.pResources = nullptr;  // neither
  EXPECT_EQ(D3DKMTReclaimAllocations(&r), STATUS_INVALID_PARAMETER);

  D3DKMT_HANDLE wrong_kind[2] = {mem, buf};
  r.HandleList = wrong_kind;
  EXPECT_EQ(D3DKMTReclaimAllocations(&r), STATUS_INVALID_PARAMETER);
  r.HandleList = nullptr;
  D3DKMT_HANDLE wrong_res[2] = {buf, mem};  // an allocation handle in pResources
  r.pResources = wrong_res;
  EXPECT_EQ(D3DKMTReclaimAllocations(&r), STATUS_INVALID_PARAMETER);
  r.pResources = nullptr;
  r.HandleList = list;
  r.hDevice = other;  // device B, allocations of A
  EXPECT_EQ(D3DKMTReclaimAllocations(&r), STATUS_INVALID_PARAMETER);
  r.hDevice = mem;
  EXPECT_EQ(D3DKMTReclaimAllocations(&r), STATUS_INVALID_PARAMETER);

  EXPECT_EQ(discarded[0], 7);  // never written on a rejected call
  EXPECT_EQ(discarded[1], 7);
}

TEST_F(Registry, Reclaim2NeedsAPagingQueueNotADevice) {
  D3DKMT_HANDLE list[1] = {mem};
  D3DDDI_RECLAIM_RESULT results[1] = {static_cast<D3DDDI_RECLAIM_RESULT>(3) /* unwritten marker inside the enum range */};
  D3DKMT_RECLAIMALLOCATIONS2 r;
  std::memset(&r, 0, sizeof(r));
  r.HandleList = list;
  r.NumAllocations = 1;
  r.pResults = results;
  r.PagingFenceValue = 99;
  for (D3DKMT_HANDLE bad : {(D3DKMT_HANDLE)0, dev, mem, buf, 0xFFFFFFFFu}) {
    r.hPagingQueue = bad;
    EXPECT_EQ(D3DKMTReclaimAllocations2(&r), STATUS_INVALID_PARAMETER) << "hPagingQueue 0x" << std::hex << bad;
    EXPECT_EQ(r.PagingFenceValue, 0u);
  }
  EXPECT_EQ(results[0], static_cast<D3DDDI_RECLAIM_RESULT>(3) /* unwritten marker inside the enum range */);
  EXPECT_EQ(D3DKMTReclaimAllocations2(nullptr), STATUS_INVALID_PARAMETER);
}

TEST_F(Registry, CreatePagingQueueValidatesBeforeTheLayer) {
  D3DKMT_CREATEPAGINGQUEUE q;
  std::memset(&q, 0, sizeof(q));
  EXPECT_EQ(D3DKMTCreatePagingQueue(nullptr), STATUS_INVALID_PARAMETER);

  q.hDevice = dev;
  q.Priority = static_cast<D3DDDI_PAGINGQUEUE_PRIORITY>(2);
  q.hPagingQueue = q.hSyncObject = 0xAAAA;
  q.FenceValueCPUVirtualAddress = &q;
  EXPECT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(q.hPagingQueue, 0u);
  EXPECT_EQ(q.hSyncObject, 0u);
  EXPECT_EQ(q.FenceValueCPUVirtualAddress, nullptr);
  q.Priority = static_cast<D3DDDI_PAGINGQUEUE_PRIORITY>(-2);
  EXPECT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_INVALID_PARAMETER);
  q.Priority = D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL;
  q.PhysicalAdapterIndex = 1;
  EXPECT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_INVALID_PARAMETER);
  q.PhysicalAdapterIndex = 0;
  for (D3DKMT_HANDLE bad : {(D3DKMT_HANDLE)0, mem, buf, 0xFFFFFFFFu}) {
    q.hDevice = bad;
    EXPECT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_INVALID_PARAMETER) << "hDevice 0x" << std::hex << bad;
  }
}

TEST_F(Registry, DestroyPagingQueueRejectsEverythingButAPagingQueue) {
  EXPECT_EQ(D3DKMTDestroyPagingQueue(nullptr), STATUS_INVALID_PARAMETER);
  for (D3DKMT_HANDLE bad : {(D3DKMT_HANDLE)0, dev, mem, buf, img, 0xFFFFFFFFu}) {
    D3DDDI_DESTROYPAGINGQUEUE d = {bad};
    EXPECT_EQ(D3DKMTDestroyPagingQueue(&d), STATUS_INVALID_PARAMETER) << "0x" << std::hex << bad;
  }
  EXPECT_EQ(kind_of(dev), VK_KMT_HANDLE_KIND_DEVICE);
  EXPECT_EQ(kind_of(mem), VK_KMT_HANDLE_KIND_ALLOCATION);
}

}  // namespace

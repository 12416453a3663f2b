// SPDX-License-Identifier: MIT
// The residency thunks of vk_kmt/d3dkmt.h (D3DKMTMakeResident, D3DKMTEvict,
// D3DKMTSetAllocationPriority, D3DKMTQueryVideoMemoryInfo, the trim and
// budget-change notifications) end to end over VK_KMT_residency: the real
// loader, the layer, validation, the test driver and lavapipe. Every status a
// thunk returns is reached through the real layer, STATUS_PENDING and
// STATUS_NO_MEMORY included. Notification tests hold "Thread" in their names
// (the TSan preset runs them).
#include <vk_kmt/d3dkmt.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <mutex>
#include <vector>

#include "residency_calls.hpp"

namespace {

using kmt::StackOptions;
using kmt::VulkanStack;

constexpr VkDeviceSize kMiB = 1 << 20;

class D3dkmtResidency : public kmt::StackTest {
 protected:
  StackOptions options() const override {
    return kmt::residency_options({{"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "2"}});
  }
  void SetUp() override {
    kmt::StackTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(VkKmtOpenDevice(stack->device, vkGetDeviceProcAddr, &dev), STATUS_SUCCESS);
  }
  void TearDown() override {
    if (dev) {
      EXPECT_EQ(VkKmtCloseDevice(dev), STATUS_SUCCESS);
    }
    kmt::StackTest::TearDown();
  }
  D3DKMT_HANDLE reg(VkDeviceMemory m) {
    D3DKMT_HANDLE h = 0;
    EXPECT_EQ(VkKmtRegisterMemory(dev, m, &h), STATUS_SUCCESS);
    return h;
  }
  D3DKMT_HANDLE queue() {
    D3DKMT_CREATEPAGINGQUEUE q;
    std::memset(&q, 0, sizeof(q));
    q.hDevice = dev;
    EXPECT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_SUCCESS);
    return q.hPagingQueue;
  }
  NTSTATUS make_resident(D3DKMT_HANDLE q, const std::vector<D3DKMT_HANDLE>& h, UINT flags = 0,
                         const UINT* priorities = nullptr, D3DDDI_MAKERESIDENT* out = nullptr) {
    D3DDDI_MAKERESIDENT mr;
    std::memset(&mr, 0, sizeof(mr));
    mr.hPagingQueue = q;
    mr.NumAllocations = (UINT)h.size();
    mr.AllocationList = h.data();
    mr.PriorityList = priorities;
    mr.Flags.Value = flags;
    mr.PagingFenceValue = 0xBAD;
    mr.NumBytesToTrim = 0xBAD;
    NTSTATUS status = D3DKMTMakeResident(&mr);
    if (out) *out = mr;
    return status;
  }
  NTSTATUS evict(const std::vector<D3DKMT_HANDLE>& h, UINT flags = 0, UINT64* trim = nullptr) {
    D3DKMT_EVICT e;
    std::memset(&e, 0, sizeof(e));
    e.hDevice = dev;
    e.NumAllocations = (UINT)h.size();
    e.AllocationList = h.data();
    e.Flags.Value = flags;
    NTSTATUS status = D3DKMTEvict(&e);
    if (trim) *trim = e.NumBytesToTrim;
    return status;
  }
  D3DKMT_HANDLE dev = 0;
};

TEST_F(D3dkmtResidency, EvictAndMakeResidentRoundTripWithBytesToTrim) {
  VkDeviceMemory m[3] = {stack->allocate(kMiB), stack->allocate(kMiB), stack->allocate(kMiB)};
  const std::vector<D3DKMT_HANDLE> h = {reg(m[0]), reg(m[1]), reg(m[2])};
  const D3DKMT_HANDLE q = queue();
  UINT64 trim = 7;
  ASSERT_EQ(evict({h[0]}, 0, &trim), STATUS_SUCCESS);
  EXPECT_EQ(trim, 0u) << "3 MiB - 1 MiB against a 2 MiB budget";
  EXPECT_EQ(kmt::residency_of(*stack, m[0]).status, VK_ALLOCATION_STATUS_EVICTED_KMT);

  D3DDDI_MAKERESIDENT out;
  EXPECT_EQ(make_resident(q, {h[0]}, 0, nullptr, &out), STATUS_NO_MEMORY);
  EXPECT_EQ(out.NumBytesToTrim, kMiB);
  EXPECT_EQ(out.NumAllocations, 0u);
  EXPECT_EQ(out.PagingFenceValue, 0u);
  EXPECT_EQ(kmt::residency_of(*stack, m[0]).status, VK_ALLOCATION_STATUS_EVICTED_KMT) << "nothing changed";

  ASSERT_EQ(evict({h[1]}), STATUS_SUCCESS);
  ASSERT_EQ(make_resident(q, {h[0], h[2]}, 0, nullptr, &out), STATUS_SUCCESS);
  EXPECT_EQ(out.NumAllocations, 2u);
  EXPECT_EQ(out.PagingFenceValue, 0u);
  EXPECT_EQ(out.NumBytesToTrim, 0u);
  EXPECT_EQ(kmt::residency_of(*stack, m[2]).count, 2u);

  // MustSucceed (with CantTrimFurther) goes over budget.
  ASSERT_EQ(make_resident(q, {h[1]}, 0x3, nullptr, &out), STATUS_SUCCESS);
  EXPECT_EQ(out.NumBytesToTrim, kMiB);
}

TEST_F(D3dkmtResidency, BadArgumentsAreInvalidParameterAndChangeNothing) {
  VkDeviceMemory m = stack->allocate(4096);
  const D3DKMT_HANDLE h = reg(m), q = queue();
  EXPECT_EQ(D3DKMTMakeResident(nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(make_resident(q, {h}, 0x4), STATUS_INVALID_PARAMETER) << "reserved flag bits";
  EXPECT_EQ(make_resident(q, {h}, 0x2), STATUS_INVALID_PARAMETER) << "MustSucceed without CantTrimFurther";
  EXPECT_EQ(make_resident(dev, {h}), STATUS_INVALID_PARAMETER) << "a device handle is not a paging queue";
  EXPECT_EQ(make_resident(q, {}), STATUS_INVALID_PARAMETER) << "no allocations";
  EXPECT_EQ(make_resident(q, {h, h}), STATUS_INVALID_PARAMETER) << "the layer: listed twice";
  EXPECT_EQ(evict({h, q}), STATUS_INVALID_PARAMETER) << "a paging queue is not an allocation";
  EXPECT_EQ(evict({h}, 0x8), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(kmt::residency_of(*stack, m).count, 1u);
  ASSERT_EQ(evict({h}), STATUS_SUCCESS);
  stack->clear_messages();
  EXPECT_EQ(evict({h}), STATUS_INVALID_PARAMETER) << "evict underflow";
  EXPECT_EQ(stack->messages_with_id("KMT-evict-underflow").size(), 1u);
  D3DKMT_HANDLE stale = reg(m);
  ASSERT_EQ(VkKmtCloseHandle(stale), STATUS_SUCCESS);
  EXPECT_EQ(make_resident(q, {h, stale}), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(kmt::residency_of(*stack, m).status, VK_ALLOCATION_STATUS_EVICTED_KMT);
}

TEST_F(D3dkmtResidency, SetAllocationPriorityReachesTheLayer) {
  VkDeviceMemory a = stack->allocate(4096), b = stack->allocate(4096);
  const std::vector<D3DKMT_HANDLE> h = {reg(a), reg(b)};
  const UINT priorities[] = {D3DDDI_ALLOCATIONPRIORITY_HIGH, D3DDDI_ALLOCATIONPRIORITY_MINIMUM + 5};
  D3DKMT_SETALLOCATIONPRIORITY p;
  std::memset(&p, 0, sizeof(p));
  p.hDevice = dev;
  p.phAllocationList = h.data();
  p.AllocationCount = 2;
  p.pPriorities = priorities;
  ASSERT_EQ(D3DKMTSetAllocationPriority(&p), STATUS_SUCCESS);
  EXPECT_EQ(kmt::residency_of(*stack, a).priority, (uint32_t)D3DDDI_ALLOCATIONPRIORITY_HIGH);
  EXPECT_EQ(kmt::residency_of(*stack, b).priority, (uint32_t)D3DDDI_ALLOCATIONPRIORITY_MINIMUM + 5);
  EXPECT_FLOAT_EQ(kmt::residency_of(*stack, a).driver_priority, 0.7f);
  p.hResource = h[0];
  EXPECT_EQ(D3DKMTSetAllocationPriority(&p), STATUS_NOT_SUPPORTED) << "resources: see the header";
  p.hResource = 0;
  p.pPriorities = nullptr;
  EXPECT_EQ(D3DKMTSetAllocationPriority(&p), STATUS_INVALID_PARAMETER);
}

TEST_F(D3dkmtResidency, QueryVideoMemoryInfoReportsTheLayersFigures) {
  VkDeviceMemory m = stack->allocate(kMiB);
  (void)m;
  ASSERT_EQ(kmt::ResidencyApi(*stack).set_reservation(stack->device, VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT, kMiB / 2),
            VK_SUCCESS);
  D3DKMT_QUERYVIDEOMEMORYINFO info;
  std::memset(&info, 0, sizeof(info));
  info.hAdapter = dev;
  info.MemorySegmentGroup = D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL;
  ASSERT_EQ(D3DKMTQueryVideoMemoryInfo(&info), STATUS_SUCCESS);
  const VkVideoMemoryInfoKMT vk = kmt::video_memory(*stack);
  EXPECT_EQ(info.Budget, vk.budget);
  EXPECT_EQ(info.CurrentUsage, kMiB);
  EXPECT_EQ(info.CurrentReservation, kMiB / 2);
  EXPECT_EQ(info.AvailableForReservation, vk.availableForReservation);
  info.MemorySegmentGroup = (D3DKMT_MEMORY_SEGMENT_GROUP)2;
  EXPECT_EQ(D3DKMTQueryVideoMemoryInfo(&info), STATUS_INVALID_PARAMETER);
  info.MemorySegmentGroup = D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL;
  info.PhysicalAdapterIndex = 1;
  EXPECT_EQ(D3DKMTQueryVideoMemoryInfo(&info), STATUS_INVALID_PARAMETER);
  info.PhysicalAdapterIndex = 0;
  info.hProcess = &info;
  EXPECT_EQ(D3DKMTQueryVideoMemoryInfo(&info), STATUS_INVALID_PARAMETER) << "another process";
  info.hProcess = nullptr;
  info.hAdapter = dev + 1;
  EXPECT_EQ(D3DKMTQueryVideoMemoryInfo(&info), STATUS_INVALID_PARAMETER);
}

TEST(D3dkmtResidencyDevices, EitherExtensionOpensAndTheOtherOnesThunksAreNotSupported) {
  VulkanStack residency_only(kmt::residency_options({}, /*offer_reclaim=*/false));
  ASSERT_EQ(residency_only.result(), VK_SUCCESS);
  D3DKMT_HANDLE dev = 0;
  ASSERT_EQ(VkKmtOpenDevice(residency_only.device, vkGetDeviceProcAddr, &dev), STATUS_SUCCESS);
  D3DKMT_HANDLE h = 0;
  ASSERT_EQ(VkKmtRegisterMemory(dev, residency_only.allocate(4096), &h), STATUS_SUCCESS);
  D3DKMT_OFFERALLOCATIONS o;
  std::memset(&o, 0, sizeof(o));
  o.hDevice = dev;
  o.HandleList = &h;
  o.NumAllocations = 1;
  o.Priority = D3DKMT_OFFER_PRIORITY_LOW;
  EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_NOT_SUPPORTED);
  D3DKMT_CREATEPAGINGQUEUE q;
  std::memset(&q, 0, sizeof(q));
  q.hDevice = dev;
  ASSERT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_SUCCESS) << "the paging fence serves residency too";
  D3DKMT_EVICT e;
  std::memset(&e, 0, sizeof(e));
  e.hDevice = dev;
  e.NumAllocations = 1;
  e.AllocationList = &h;
  EXPECT_EQ(D3DKMTEvict(&e), STATUS_SUCCESS);
  EXPECT_EQ(VkKmtCloseDevice(dev), STATUS_SUCCESS);

  StackOptions offer_only;
  VulkanStack other(offer_only);
  ASSERT_EQ(other.result(), VK_SUCCESS);
  ASSERT_EQ(VkKmtOpenDevice(other.device, vkGetDeviceProcAddr, &dev), STATUS_SUCCESS);
  ASSERT_EQ(VkKmtRegisterMemory(dev, other.allocate(4096), &h), STATUS_SUCCESS);
  e.hDevice = dev;
  EXPECT_EQ(D3DKMTEvict(&e), STATUS_NOT_SUPPORTED);
  D3DKMT_QUERYVIDEOMEMORYINFO info;
  std::memset(&info, 0, sizeof(info));
  info.hAdapter = dev;
  EXPECT_EQ(D3DKMTQueryVideoMemoryInfo(&info), STATUS_NOT_SUPPORTED);
  EXPECT_EQ(VkKmtCloseDevice(dev), STATUS_SUCCESS);
}

// ---- STATUS_PENDING: paging work still queued ---------------------------------

TEST(D3dkmtResidencyPending, MakeResidentIsPendingWhileAFillIsQueued) {
  VulkanStack s(kmt::residency_options({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"},
                                        {"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}}));
  ASSERT_EQ(s.result(), VK_SUCCESS);
  D3DKMT_HANDLE dev = 0;
  ASSERT_EQ(VkKmtOpenDevice(s.device, vkGetDeviceProcAddr, &dev), STATUS_SUCCESS);
  const uint32_t type = s.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  ASSERT_NE(type, UINT32_MAX);
  D3DKMT_HANDLE h = 0;
  ASSERT_EQ(VkKmtRegisterMemory(dev, s.allocate(65536, type), &h), STATUS_SUCCESS);
  D3DKMT_CREATEPAGINGQUEUE q;
  std::memset(&q, 0, sizeof(q));
  q.hDevice = dev;
  ASSERT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_SUCCESS);
  {
    kmt::QueueGate gate(s);  // the discard's GPU fill stays queued
    D3DKMT_OFFERALLOCATIONS o;
    std::memset(&o, 0, sizeof(o));
    o.hDevice = dev;
    o.HandleList = &h;
    o.NumAllocations = 1;
    o.Priority = D3DKMT_OFFER_PRIORITY_LOW;
    o.Flags.OfferImmediately = 1;
    ASSERT_EQ(D3DKMTOfferAllocations(&o), STATUS_SUCCESS);
    D3DDDI_RECLAIM_RESULT result = D3DDDI_RECLAIM_RESULT_OK;
    D3DKMT_RECLAIMALLOCATIONS2 r;
    std::memset(&r, 0, sizeof(r));
    r.hPagingQueue = q.hPagingQueue;
    r.HandleList = &h;
    r.NumAllocations = 1;
    r.pResults = &result;
    ASSERT_EQ(D3DKMTReclaimAllocations2(&r), STATUS_SUCCESS);
    ASSERT_NE(r.PagingFenceValue, 0u);
    D3DKMT_EVICT e;
    std::memset(&e, 0, sizeof(e));
    e.hDevice = dev;
    e.NumAllocations = 1;
    e.AllocationList = &h;
    ASSERT_EQ(D3DKMTEvict(&e), STATUS_SUCCESS);
    D3DDDI_MAKERESIDENT mr;
    std::memset(&mr, 0, sizeof(mr));
    mr.hPagingQueue = q.hPagingQueue;
    mr.NumAllocations = 1;
    mr.AllocationList = &h;
    EXPECT_EQ(D3DKMTMakeResident(&mr), STATUS_PENDING);
    EXPECT_EQ(mr.PagingFenceValue, r.PagingFenceValue) << "wait for the queued fill";
    EXPECT_EQ(mr.NumAllocations, 1u) << "made resident all the same";
  }
  // DestroyPagingQueue waits for that fence; then a make-resident with
  // nothing queued is STATUS_SUCCESS.
  D3DDDI_DESTROYPAGINGQUEUE destroy = {q.hPagingQueue};
  ASSERT_EQ(D3DKMTDestroyPagingQueue(&destroy), STATUS_SUCCESS);
  std::memset(&q, 0, sizeof(q));
  q.hDevice = dev;
  ASSERT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_SUCCESS);
  D3DKMT_EVICT e;
  std::memset(&e, 0, sizeof(e));
  e.hDevice = dev;
  e.NumAllocations = 1;
  e.AllocationList = &h;
  ASSERT_EQ(D3DKMTEvict(&e), STATUS_SUCCESS);
  D3DDDI_MAKERESIDENT mr;
  std::memset(&mr, 0, sizeof(mr));
  mr.hPagingQueue = q.hPagingQueue;
  mr.NumAllocations = 1;
  mr.AllocationList = &h;
  EXPECT_EQ(D3DKMTMakeResident(&mr), STATUS_SUCCESS);
  EXPECT_EQ(mr.PagingFenceValue, 0u);
  EXPECT_EQ(VkKmtCloseDevice(dev), STATUS_SUCCESS);
  EXPECT_TRUE(s.validation_errors().empty()) << kmt::describe(s.validation_errors());
}

// ---- trim and budget-change notifications ---------------------------------------

struct Heard {
  std::mutex lock;
  std::vector<UINT64> trims, budgets;
  std::vector<void*> contexts;
  std::atomic<int> calls{0};
  static void APIENTRY trim(D3DKMT_TRIMNOTIFICATION* n) {
    auto* self = static_cast<Heard*>(n->Context);
    std::lock_guard<std::mutex> guard(self->lock);
    EXPECT_TRUE(n->Flags.TrimToBudget);
    EXPECT_FALSE(n->Flags.PeriodicTrim);
    self->trims.push_back(n->NumBytesToTrim);
    self->calls++;
  }
  static void APIENTRY budget(D3DKMT_BUDGETCHANGENOTIFICATION* n) {
    auto* self = static_cast<Heard*>(n->Context);
    std::lock_guard<std::mutex> guard(self->lock);
    self->budgets.push_back(n->Budget);
    self->calls++;
  }
  size_t trim_count() {
    std::lock_guard<std::mutex> guard(lock);
    return trims.size();
  }
  size_t budget_count() {
    std::lock_guard<std::mutex> guard(lock);
    return budgets.size();
  }
};

class D3dkmtNotificationThread : public D3dkmtResidency {
 protected:
  StackOptions options() const override {
    return kmt::residency_options({{"VK_KMT_OFFER_RECLAIM_BUDGET_POLL_MS", "5"}});
  }
};

TEST_F(D3dkmtNotificationThread, TrimNotificationsCarryTheExcessAndStopAtUnregister) {
  kmt_test_driver_control* td = stack->driver();
  ASSERT_NE(td, nullptr);
  Heard heard;
  D3DKMT_REGISTERTRIMNOTIFICATION reg;
  std::memset(&reg, 0, sizeof(reg));
  reg.hDevice = dev;
  reg.Callback = &Heard::trim;
  reg.Context = &heard;
  ASSERT_EQ(D3DKMTRegisterTrimNotification(&reg), STATUS_SUCCESS);
  ASSERT_NE(reg.Handle, nullptr);
  kmt_td_set_heap_budget(td, 64 * kMiB);  // a budget change alone is no trim
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_EQ(heard.calls.load(), 0);
  kmt_td_set_heap_usage(td, 80 * kMiB);
  ASSERT_TRUE(kmt::eventually([&] { return heard.trim_count() >= 1; }));
  EXPECT_EQ(heard.trims[0], 16 * kMiB);

  D3DKMT_UNREGISTERTRIMNOTIFICATION unreg;
  std::memset(&unreg, 0, sizeof(unreg));
  unreg.Handle = reg.Handle;
  unreg.Callback = reinterpret_cast<PFND3DKMT_TRIMNOTIFICATIONCALLBACK>(&Heard::budget);
  EXPECT_EQ(D3DKMTUnregisterTrimNotification(&unreg), STATUS_INVALID_PARAMETER) << "another callback";
  unreg.Callback = &Heard::trim;
  ASSERT_EQ(D3DKMTUnregisterTrimNotification(&unreg), STATUS_SUCCESS);
  const int calls = heard.calls.load();
  kmt_td_set_heap_usage(td, 120 * kMiB);
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_EQ(heard.calls.load(), calls) << "called after unregister";
  EXPECT_EQ(D3DKMTUnregisterTrimNotification(&unreg), STATUS_INVALID_PARAMETER) << "stale handle";
}

TEST_F(D3dkmtNotificationThread, BudgetChangeNotificationsCarryTheNewBudgetOnly) {
  kmt_test_driver_control* td = stack->driver();
  ASSERT_NE(td, nullptr);
  Heard heard;
  D3DKMT_REGISTERBUDGETCHANGENOTIFICATION reg;
  std::memset(&reg, 0, sizeof(reg));
  reg.hDevice = dev;
  reg.Callback = &Heard::budget;
  reg.Context = &heard;
  ASSERT_EQ(D3DKMTRegisterBudgetChangeNotification(&reg), STATUS_SUCCESS);
  kmt_td_set_heap_usage(td, 100 * kMiB);
  kmt_td_set_heap_budget(td, 64 * kMiB);
  ASSERT_TRUE(kmt::eventually([&] { return heard.budget_count() >= 1; }));
  kmt_td_set_heap_usage(td, 200 * kMiB);  // over budget and growing: not a budget change
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  ASSERT_EQ(heard.budget_count(), 1u);
  EXPECT_EQ(heard.budgets[0], 64 * kMiB);
  D3DKMT_UNREGISTERBUDGETCHANGENOTIFICATION unreg;
  std::memset(&unreg, 0, sizeof(unreg));
  unreg.Handle = reg.Handle;
  ASSERT_EQ(D3DKMTUnregisterBudgetChangeNotification(&unreg), STATUS_SUCCESS);
  EXPECT_EQ(D3DKMTUnregisterBudgetChangeNotification(&unreg), STATUS_INVALID_PARAMETER);
  D3DKMT_REGISTERBUDGETCHANGENOTIFICATION bad;
  std::memset(&bad, 0, sizeof(bad));
  bad.hDevice = dev;
  EXPECT_EQ(D3DKMTRegisterBudgetChangeNotification(&bad), STATUS_INVALID_PARAMETER) << "no callback";
}

// ---- layouts (this build's target; vk_kmt/d3dkmt.h asserts all three) --------------

static_assert(std::is_standard_layout<D3DDDI_MAKERESIDENT>::value, "C layout");
#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
static_assert(sizeof(D3DDDI_MAKERESIDENT) == 48 && offsetof(D3DDDI_MAKERESIDENT, NumBytesToTrim) == 40, "");
static_assert(sizeof(D3DKMT_EVICT) == 32 && offsetof(D3DKMT_EVICT, NumBytesToTrim) == 24, "");
static_assert(sizeof(D3DKMT_SETALLOCATIONPRIORITY) == 32, "");
static_assert(sizeof(D3DKMT_QUERYVIDEOMEMORYINFO) == 56 &&
                  offsetof(D3DKMT_QUERYVIDEOMEMORYINFO, AvailableForReservation) == 40,
              "");
static_assert(sizeof(D3DKMT_REGISTERTRIMNOTIFICATION) == 40 && offsetof(D3DKMT_REGISTERTRIMNOTIFICATION, Handle) == 32,
              "");
static_assert(sizeof(D3DKMT_REGISTERBUDGETCHANGENOTIFICATION) == 32, "");
#endif

TEST(D3dkmtResidencyLayout, FlagBitsAreTheVulkanExtensionsBits) {
  D3DDDI_MAKERESIDENT_FLAGS f;
  f.Value = 0;
  f.CantTrimFurther = 1;
  EXPECT_EQ(f.Value, (UINT)VK_MAKE_RESIDENT_CANT_TRIM_FURTHER_BIT_KMT);
  f.Value = 0;
  f.MustSucceed = 1;
  EXPECT_EQ(f.Value, (UINT)VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT);
  D3DDDI_EVICT_FLAGS e;
  e.Value = 0;
  e.EvictOnlyIfNecessary = 1;
  EXPECT_EQ(e.Value, (UINT)VK_EVICT_ONLY_IF_NECESSARY_BIT_KMT);
  e.Value = 0;
  e.NotWrittenTo = 1;
  EXPECT_EQ(e.Value, (UINT)VK_EVICT_NOT_WRITTEN_TO_BIT_KMT);
  D3DDDI_TRIMRESIDENCYSET_FLAGS t;
  t.Value = 0;
  t.TrimToBudget = 1;
  EXPECT_EQ(t.Value, 4u);
}

}  // namespace

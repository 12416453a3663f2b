// SPDX-License-Identifier: MIT
// (c) The D3DKMT thunks of vk_kmt/d3dkmt.h end to end: the real loader, the
// offer_reclaim layer, validation, the test driver layer and lavapipe
// (kmt::VulkanStack, Stack::Full). Every STATUS_* the thunks return is reached
// through the real layer here; only STATUS_NO_MEMORY is not (the layer does
// not allocate per offer / reclaim), see registry_test.cpp for the registry's
// own STATUS_NO_MEMORY.
#include <vk_kmt/d3dkmt.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"

namespace {

// Marks result slots the call must not write. 3 is outside the three
// D3DDDI_RECLAIM_RESULT values but inside the enum's range (0..3): larger
// values would be undefined behaviour in C++ (UBSan reports them).
const D3DDDI_RECLAIM_RESULT kUnwritten = static_cast<D3DDDI_RECLAIM_RESULT>(3);

using kmt::StackOptions;
using kmt::VulkanStack;

VkAllocationStateKMT state_of(const VulkanStack& s, VkDeviceMemory m) {
  VkAllocationStateKMT st;
  std::memset(&st, 0, sizeof(st));
  st.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
  EXPECT_NE(s.get_state, nullptr);
  if (s.get_state) {
    EXPECT_EQ(s.get_state(s.device, m, &st), VK_SUCCESS);
  }
  return st;
}

bool is_offered(VkAllocationStatusKMT status) {
  return status == VK_ALLOCATION_STATUS_OFFERED_KMT || status == VK_ALLOCATION_STATUS_OFFER_PENDING_KMT;
}

class D3dkmt : public kmt::StackTest {
 protected:
  void SetUp() override {
    kmt::StackTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(VkKmtOpenDevice(stack->device, vkGetDeviceProcAddr, &dev), STATUS_SUCCESS);
    ASSERT_NE(dev, 0u);
  }
  void TearDown() override {
    if (dev) {
      EXPECT_EQ(VkKmtCloseDevice(dev), STATUS_SUCCESS);
    }
    kmt::StackTest::TearDown();
  }

  D3DKMT_HANDLE reg_memory(VkDeviceMemory m) {
    D3DKMT_HANDLE h = 0;
    EXPECT_EQ(VkKmtRegisterMemory(dev, m, &h), STATUS_SUCCESS);
    return h;
  }
  D3DKMT_HANDLE reg_buffer(VkBuffer b) {
    D3DKMT_HANDLE h = 0;
    EXPECT_EQ(VkKmtRegisterBuffer(dev, b, &h), STATUS_SUCCESS);
    return h;
  }
  D3DKMT_HANDLE reg_image(VkImage i) {
    D3DKMT_HANDLE h = 0;
    EXPECT_EQ(VkKmtRegisterImage(dev, i, &h), STATUS_SUCCESS);
    return h;
  }

  NTSTATUS offer(const std::vector<D3DKMT_HANDLE>& allocations, D3DKMT_OFFER_PRIORITY priority = D3DKMT_OFFER_PRIORITY_LOW,
                 UINT flags = 0) {
    D3DKMT_OFFERALLOCATIONS o;
    std::memset(&o, 0, sizeof(o));
    o.hDevice = dev;
    o.HandleList = allocations.data();
    o.NumAllocations = (UINT)allocations.size();
    o.Priority = priority;
    o.Flags.Value = flags;
    return D3DKMTOfferAllocations(&o);
  }
  NTSTATUS offer_resources(std::vector<D3DKMT_HANDLE> resources, D3DKMT_OFFER_PRIORITY priority = D3DKMT_OFFER_PRIORITY_LOW,
                           UINT flags = 0) {
    D3DKMT_OFFERALLOCATIONS o;
    std::memset(&o, 0, sizeof(o));
    o.hDevice = dev;
    o.pResources = resources.data();
    o.NumAllocations = (UINT)resources.size();
    o.Priority = priority;
    o.Flags.Value = flags;
    return D3DKMTOfferAllocations(&o);
  }

  D3DKMT_HANDLE create_queue(D3DKMT_HANDLE* sync = nullptr,
                             D3DDDI_PAGINGQUEUE_PRIORITY priority = D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL) {
    D3DKMT_CREATEPAGINGQUEUE q;
    std::memset(&q, 0, sizeof(q));
    q.hDevice = dev;
    q.Priority = priority;
    EXPECT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_SUCCESS);
    if (sync) *sync = q.hSyncObject;
    return q.hPagingQueue;
  }

  // Reclaim2 by allocation handles, results in D3DDDI_RECLAIM_RESULT form.
  NTSTATUS reclaim2(D3DKMT_HANDLE queue, const std::vector<D3DKMT_HANDLE>& allocations,
                    std::vector<D3DDDI_RECLAIM_RESULT>* results, UINT64* fence) {
    D3DKMT_RECLAIMALLOCATIONS2 r;
    std::memset(&r, 0, sizeof(r));
    r.hPagingQueue = queue;
    r.HandleList = allocations.data();
    r.NumAllocations = (UINT)allocations.size();
    if (results) {
      results->assign(allocations.size(), kUnwritten);
      r.pResults = results->data();
    }
    r.PagingFenceValue = 0xBADBADu;
    const NTSTATUS status = D3DKMTReclaimAllocations2(&r);
    if (fence) *fence = r.PagingFenceValue;
    return status;
  }

  VkSemaphore paging_semaphore() {
    VkSemaphore s = VK_NULL_HANDLE;
    EXPECT_EQ(stack->get_paging_fence(stack->device, &s), VK_SUCCESS);
    return s;
  }
  uint64_t paging_value() {
    uint64_t v = 0;
    auto get = reinterpret_cast<PFN_vkGetSemaphoreCounterValue>(stack->device_proc("vkGetSemaphoreCounterValue"));
    EXPECT_EQ(get(stack->device, paging_semaphore(), &v), VK_SUCCESS);
    return v;
  }

  D3DKMT_HANDLE dev = 0;
};

// --- opening -----------------------------------------------------------------

TEST(D3dkmtOpen, FailsForADeviceWithoutTheExtension) {
  StackOptions opts;
  opts.enable_extension = false;
  VulkanStack s(opts);
  ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
  D3DKMT_HANDLE h = 5;
  EXPECT_EQ(VkKmtOpenDevice(s.device, vkGetDeviceProcAddr, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(h, 0u);
}

// --- offer / reclaim ----------------------------------------------------------

TEST_F(D3dkmt, OfferByHandleListThenReclaim2ReportsOkAndFenceZero) {
  VkDeviceMemory m1 = stack->allocate(4096), m2 = stack->allocate(8192);
  const std::vector<D3DKMT_HANDLE> h = {reg_memory(m1), reg_memory(m2)};
  const D3DKMT_HANDLE queue = create_queue();

  ASSERT_EQ(offer(h, D3DKMT_OFFER_PRIORITY_NORMAL), STATUS_SUCCESS);
  EXPECT_TRUE(is_offered(state_of(*stack, m1).status));  // the thunk really reached the layer
  EXPECT_EQ(state_of(*stack, m2).offerPriority, VK_OFFER_PRIORITY_NORMAL_KMT);

  std::vector<D3DDDI_RECLAIM_RESULT> results;
  UINT64 fence = 1;
  ASSERT_EQ(reclaim2(queue, h, &results, &fence), STATUS_SUCCESS);
  EXPECT_EQ(results[0], D3DDDI_RECLAIM_RESULT_OK);  // default policy "never": contents survive
  EXPECT_EQ(results[1], D3DDDI_RECLAIM_RESULT_OK);
  EXPECT_EQ(fence, 0u);  // nothing was paged: the Windows rule for work completed at once
  EXPECT_EQ(state_of(*stack, m1).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

TEST_F(D3dkmt, OfferByResourcesThenWin8ReclaimByResources) {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkImage image = VK_NULL_HANDLE;
  VkDeviceMemory bm = stack->create_bound_buffer(65536, &buffer);
  VkDeviceMemory im = stack->create_bound_image(64, 64, &image);
  ASSERT_TRUE(bm && im);
  std::vector<D3DKMT_HANDLE> res = {reg_buffer(buffer), reg_image(image)};

  ASSERT_EQ(offer_resources(res, D3DKMT_OFFER_PRIORITY_HIGH), STATUS_SUCCESS);
  EXPECT_TRUE(is_offered(state_of(*stack, bm).status));
  EXPECT_TRUE(is_offered(state_of(*stack, im).status));

  BOOL discarded[2] = {7, 7};
  D3DKMT_RECLAIMALLOCATIONS r;
  std::memset(&r, 0, sizeof(r));
  r.hDevice = dev;
  r.pResources = res.data();
  r.pDiscarded = discarded;
  r.NumAllocations = 2;
  ASSERT_EQ(D3DKMTReclaimAllocations(&r), STATUS_SUCCESS);
  EXPECT_EQ(discarded[0], FALSE);
  EXPECT_EQ(discarded[1], FALSE);
  EXPECT_EQ(state_of(*stack, bm).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
  EXPECT_EQ(state_of(*stack, im).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

TEST_F(D3dkmt, Reclaim2AcceptsTheBoolFormAndNoResults) {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory bm = stack->create_bound_buffer(4096, &buffer);
  ASSERT_TRUE(bm);
  std::vector<D3DKMT_HANDLE> res = {reg_buffer(buffer)};
  const D3DKMT_HANDLE queue = create_queue();

  // pDiscarded member of the union, by resource handle.
  ASSERT_EQ(offer_resources(res), STATUS_SUCCESS);
  BOOL discarded[1] = {7};
  D3DKMT_RECLAIMALLOCATIONS2 r;
  std::memset(&r, 0, sizeof(r));
  r.hPagingQueue = queue;
  r.pResources = res.data();
  r.NumAllocations = 1;
  r.pDiscarded = discarded;
  ASSERT_EQ(D3DKMTReclaimAllocations2(&r), STATUS_SUCCESS);
  EXPECT_EQ(discarded[0], FALSE);

  // No results at all: legal (the caller treats the contents as lost).
  ASSERT_EQ(offer_resources(res), STATUS_SUCCESS);
  r.pDiscarded = nullptr;
  ASSERT_EQ(D3DKMTReclaimAllocations2(&r), STATUS_SUCCESS);
  EXPECT_EQ(r.PagingFenceValue, 0u);
  EXPECT_EQ(state_of(*stack, bm).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

TEST_F(D3dkmt, ReclaimOfNeverOfferedMemoryIsOkWithFenceZero) {
  const std::vector<D3DKMT_HANDLE> h = {reg_memory(stack->allocate(4096))};
  std::vector<D3DDDI_RECLAIM_RESULT> results;
  UINT64 fence = 1;
  ASSERT_EQ(reclaim2(create_queue(), h, &results, &fence), STATUS_SUCCESS);
  EXPECT_EQ(results[0], D3DDDI_RECLAIM_RESULT_OK);
  EXPECT_EQ(fence, 0u);
}

TEST_F(D3dkmt, PriorityAndFlagsReachTheLayerUnchanged) {
  VkDeviceMemory m = stack->allocate(4096);
  const std::vector<D3DKMT_HANDLE> h = {reg_memory(m)};
  D3DKMT_OFFER_FLAGS flags;
  flags.Value = 0;
  flags.OfferImmediately = 1;
  ASSERT_EQ(offer(h, D3DKMT_OFFER_PRIORITY_HIGH, flags.Value), STATUS_SUCCESS);
  VkAllocationStateKMT st = state_of(*stack, m);
  EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_OFFERED_KMT);  // immediately: no deferral
  EXPECT_EQ(st.offerPriority, VK_OFFER_PRIORITY_HIGH_KMT);
  EXPECT_EQ(st.offerFlags, (VkOfferFlagsKMT)VK_OFFER_IMMEDIATELY_BIT_KMT);

  // Offering again re-prioritises (success), with both flags this time.
  ASSERT_EQ(offer(h, D3DKMT_OFFER_PRIORITY_LOW, 0x3), STATUS_SUCCESS);
  st = state_of(*stack, m);
  EXPECT_EQ(st.offerPriority, VK_OFFER_PRIORITY_LOW_KMT);
  EXPECT_EQ(st.offerFlags, (VkOfferFlagsKMT)(VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT));
  EXPECT_EQ(reclaim2(create_queue(), h, nullptr, nullptr), STATUS_SUCCESS);
}

TEST_F(D3dkmt, AutoPriorityIsAccepted) {
  VkDeviceMemory m = stack->allocate(4096);
  ASSERT_EQ(offer({reg_memory(m)}, D3DKMT_OFFER_PRIORITY_AUTO), STATUS_SUCCESS);
  EXPECT_TRUE(is_offered(state_of(*stack, m).status));
}

TEST_F(D3dkmt, LayerRejectionsAreInvalidParameterAndChangeNothing) {
  VkDeviceMemory m1 = stack->allocate(4096), m2 = stack->allocate(4096);
  const D3DKMT_HANDLE h1 = reg_memory(m1), h2 = reg_memory(m2);

  // Two handles for the same VkDeviceMemory: the layer sees it listed twice.
  const D3DKMT_HANDLE h1_again = reg_memory(m1);
  EXPECT_EQ(offer({h2, h1, h1_again}), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(state_of(*stack, m2).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);  // all-or-nothing

  // Mapped memory cannot be offered.
  void* p = nullptr;
  ASSERT_EQ(vkMapMemory(stack->device, m1, 0, VK_WHOLE_SIZE, 0, &p), VK_SUCCESS);
  EXPECT_EQ(offer({h2, h1}), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(state_of(*stack, m2).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
  vkUnmapMemory(stack->device, m1);
  EXPECT_EQ(offer({h2, h1}), STATUS_SUCCESS);

  // A handle whose VkDeviceMemory was freed is unknown to the layer.
  VkDeviceMemory gone = stack->allocate(4096);
  const D3DKMT_HANDLE hg = reg_memory(gone);
  stack->free_memory(gone);
  EXPECT_EQ(offer({hg}), STATUS_INVALID_PARAMETER);
  std::vector<D3DDDI_RECLAIM_RESULT> results;
  EXPECT_EQ(reclaim2(create_queue(), {hg}, &results, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(results[0], kUnwritten);  // not written on failure
}

TEST_F(D3dkmt, ResourceRejectionsOfTheLayerAreInvalidParameter) {
  // An image with no memory bound is not a resource the layer can act on.
  const D3DKMT_HANDLE unbound = reg_image(stack->create_image(16, 16));
  EXPECT_EQ(offer_resources({unbound}), STATUS_INVALID_PARAMETER);

  // One VkDeviceMemory behind two buffers: offering only one of them is
  // rejected, offering both is fine.
  VkBuffer b1 = stack->create_buffer(256), b2 = stack->create_buffer(256);
  VkDeviceMemory shared = stack->allocate(65536);
  ASSERT_TRUE(b1 && b2 && shared);
  ASSERT_EQ(vkBindBufferMemory(stack->device, b1, shared, 0), VK_SUCCESS);
  ASSERT_EQ(vkBindBufferMemory(stack->device, b2, shared, 4096), VK_SUCCESS);
  const D3DKMT_HANDLE r1 = reg_buffer(b1), r2 = reg_buffer(b2);
  EXPECT_EQ(offer_resources({r1}), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(state_of(*stack, shared).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
  EXPECT_EQ(offer_resources({r1, r2}), STATUS_SUCCESS);
  EXPECT_TRUE(is_offered(state_of(*stack, shared).status));
}

TEST_F(D3dkmt, StaleAndForeignHandlesNeverReachTheLayer) {
  VkDeviceMemory m = stack->allocate(4096);
  const D3DKMT_HANDLE h = reg_memory(m);
  ASSERT_EQ(VkKmtCloseHandle(h), STATUS_SUCCESS);
  EXPECT_EQ(offer({h}), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(state_of(*stack, m).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);

  // A second registry device on the same VkDevice: its handles do not mix.
  D3DKMT_HANDLE dev2 = 0, h2 = 0;
  ASSERT_EQ(VkKmtOpenDevice(stack->device, vkGetDeviceProcAddr, &dev2), STATUS_SUCCESS);
  ASSERT_EQ(VkKmtRegisterMemory(dev2, m, &h2), STATUS_SUCCESS);
  EXPECT_EQ(offer({h2}), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(state_of(*stack, m).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
  EXPECT_EQ(VkKmtCloseDevice(dev2), STATUS_SUCCESS);
}

// --- paging queues -------------------------------------------------------------

TEST_F(D3dkmt, PagingQueueHandlesAndTheirSemaphore) {
  D3DKMT_CREATEPAGINGQUEUE q;
  std::memset(&q, 0, sizeof(q));
  q.hDevice = dev;
  q.Priority = D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL;
  q.FenceValueCPUVirtualAddress = &q;
  ASSERT_EQ(D3DKMTCreatePagingQueue(&q), STATUS_SUCCESS);
  EXPECT_NE(q.hPagingQueue, 0u);
  EXPECT_NE(q.hSyncObject, 0u);
  EXPECT_NE(q.hPagingQueue, q.hSyncObject);
  EXPECT_EQ(q.FenceValueCPUVirtualAddress, nullptr);  // no CPU mapping of a timeline value

  VkKmtHandleInfo info;
  ASSERT_EQ(VkKmtGetHandleInfo(q.hPagingQueue, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.kind, VK_KMT_HANDLE_KIND_PAGING_QUEUE);
  EXPECT_EQ(info.hDevice, dev);
  ASSERT_EQ(VkKmtGetHandleInfo(q.hSyncObject, &info), STATUS_SUCCESS);
  EXPECT_EQ(info.kind, VK_KMT_HANDLE_KIND_SYNC_OBJECT);
  EXPECT_EQ(info.hDevice, dev);

  VkSemaphore s = VK_NULL_HANDLE;
  ASSERT_EQ(VkKmtGetSyncObjectSemaphore(q.hSyncObject, &s), STATUS_SUCCESS);
  EXPECT_EQ(s, paging_semaphore());

  // A second queue shares the device's one paging timeline, with its own handles.
  D3DKMT_HANDLE sync2 = 0;
  const D3DKMT_HANDLE queue2 = create_queue(&sync2, D3DDDI_PAGINGQUEUE_PRIORITY_BELOW_NORMAL);
  EXPECT_NE(queue2, q.hPagingQueue);
  VkSemaphore s2 = VK_NULL_HANDLE;
  ASSERT_EQ(VkKmtGetSyncObjectSemaphore(sync2, &s2), STATUS_SUCCESS);
  EXPECT_EQ(s2, s);

  // Wrong kinds.
  const std::vector<D3DKMT_HANDLE> h = {reg_memory(stack->allocate(4096))};
  EXPECT_EQ(reclaim2(q.hSyncObject, h, nullptr, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reclaim2(dev, h, nullptr, nullptr), STATUS_INVALID_PARAMETER);
  D3DDDI_DESTROYPAGINGQUEUE d = {q.hSyncObject};
  EXPECT_EQ(D3DKMTDestroyPagingQueue(&d), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtCloseHandle(q.hPagingQueue), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtCloseHandle(q.hSyncObject), STATUS_INVALID_PARAMETER);
  D3DKMT_OFFERALLOCATIONS o;
  std::memset(&o, 0, sizeof(o));
  o.hDevice = q.hPagingQueue;  // a paging queue where a device is expected
  o.HandleList = h.data();
  o.NumAllocations = 1;
  o.Priority = D3DKMT_OFFER_PRIORITY_LOW;
  EXPECT_EQ(D3DKMTOfferAllocations(&o), STATUS_INVALID_PARAMETER);

  // Destroy: both handles go stale; the other queue lives on.
  d.hPagingQueue = q.hPagingQueue;
  ASSERT_EQ(D3DKMTDestroyPagingQueue(&d), STATUS_SUCCESS);
  EXPECT_EQ(VkKmtGetHandleInfo(q.hPagingQueue, &info), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(VkKmtGetHandleInfo(q.hSyncObject, &info), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(D3DKMTDestroyPagingQueue(&d), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reclaim2(q.hPagingQueue, h, nullptr, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(reclaim2(queue2, h, nullptr, nullptr), STATUS_SUCCESS);
}

TEST_F(D3dkmt, ClosingTheDeviceDestroysItsPagingQueues) {
  D3DKMT_HANDLE sync = 0;
  const D3DKMT_HANDLE queue = create_queue(&sync);
  const D3DKMT_HANDLE h = reg_memory(stack->allocate(4096));
  ASSERT_EQ(VkKmtCloseDevice(dev), STATUS_SUCCESS);
  dev = 0;
  VkKmtHandleInfo info;
  for (D3DKMT_HANDLE stale : {queue, sync, h}) EXPECT_EQ(VkKmtGetHandleInfo(stale, &info), STATUS_INVALID_PARAMETER);
}

// --- discards, decommits and the paging fence ----------------------------------

// DISCARD=always with a zero fill, and the test driver's device-local-only
// memory type so that the layer's GPU fill path (and a non-zero fence) runs.
//
// The layer reports fence 0 for a fill that has already completed (nothing to
// wait for), so a test that needs a non-zero fence first blocks the queue: it
// submits an empty batch that waits on a timeline semaphore only the host
// signals. Fills queued after it cannot complete until the test releases it.
class D3dkmtDiscard : public D3dkmt {
 protected:
  StackOptions options() const override {
    StackOptions o;
    o.enable_features12_timeline = true;
    o.env = {{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"},
             {"VK_KMT_OFFER_RECLAIM_DISCARD_FILL", "zero"},
             {"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}};
    return o;
  }
  void TearDown() override {
    release_queue();  // never leave the queue blocked: teardown waits for idle
    D3dkmt::TearDown();
  }

  VkDeviceMemory device_local_memory() {
    const uint32_t type = stack->memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    EXPECT_NE(type, UINT32_MAX) << "the test driver's device-local-only type is missing";
    return type == UINT32_MAX ? VK_NULL_HANDLE : stack->allocate(65536, type);
  }

  // Submits a batch that waits for blocker_ to reach 1.
  void block_queue() {
    VkSemaphoreTypeCreateInfo type = {};
    type.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO;
    type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
    VkSemaphoreCreateInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO;
    info.pNext = &type;
    ASSERT_EQ(vkCreateSemaphore(stack->device, &info, nullptr, &blocker_), VK_SUCCESS);
    const uint64_t one = 1;
    const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
    VkTimelineSemaphoreSubmitInfo timeline = {};
    timeline.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
    timeline.waitSemaphoreValueCount = 1;
    timeline.pWaitSemaphoreValues = &one;
    VkSubmitInfo submit = {};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    submit.pNext = &timeline;
    submit.waitSemaphoreCount = 1;
    submit.pWaitSemaphores = &blocker_;
    submit.pWaitDstStageMask = &stage;
    ASSERT_EQ(vkQueueSubmit(stack->queue, 1, &submit, VK_NULL_HANDLE), VK_SUCCESS);
  }
  // Signals blocker_ from the host (once); the queue runs on.
  void release_queue() {
    if (!blocker_ || released_.exchange(true)) return;
    VkSemaphoreSignalInfo signal = {};
    signal.sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO;
    signal.semaphore = blocker_;
    signal.value = 1;
    EXPECT_EQ(vkSignalSemaphore(stack->device, &signal), VK_SUCCESS);
    vkQueueWaitIdle(stack->queue);
    vkDestroySemaphore(stack->device, blocker_, nullptr);
  }
  // Releases the queue from another thread after a delay; *released turns true
  // just before.
  std::thread release_later(std::atomic<bool>* released) {
    return std::thread([this, released] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      released->store(true);
      release_queue();
    });
  }

  bool paging_reached(uint64_t value, uint64_t timeout_ns) {
    VkSemaphore s = paging_semaphore();
    VkSemaphoreWaitInfo wait = {};
    wait.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO;
    wait.semaphoreCount = 1;
    wait.pSemaphores = &s;
    wait.pValues = &value;
    return vkWaitSemaphores(stack->device, &wait, timeout_ns) == VK_SUCCESS;
  }

  VkSemaphore blocker_ = VK_NULL_HANDLE;
  std::atomic<bool> released_{false};
};

TEST_F(D3dkmtDiscard, Reclaim2ReportsDiscardedWithAFenceAndStatusSuccess) {
  VkDeviceMemory m = device_local_memory();
  ASSERT_TRUE(m);
  const std::vector<D3DKMT_HANDLE> h = {reg_memory(m)};
  D3DKMT_HANDLE sync = 0;
  const D3DKMT_HANDLE queue = create_queue(&sync);
  block_queue();
  ASSERT_EQ(offer(h, D3DKMT_OFFER_PRIORITY_LOW, 0x1 /* OfferImmediately */), STATUS_SUCCESS);

  std::vector<D3DDDI_RECLAIM_RESULT> results;
  UINT64 fence = 0;
  // Decision: never STATUS_PENDING; the non-zero fence alone says "wait".
  ASSERT_EQ(reclaim2(queue, h, &results, &fence), STATUS_SUCCESS);
  EXPECT_EQ(results[0], D3DDDI_RECLAIM_RESULT_DISCARDED);
  ASSERT_NE(fence, 0u) << "the GPU fill of device-local memory is still queued: paging work";

  // The fence is a value of the semaphore behind hSyncObject: not reached while
  // the queue is blocked, reached once it runs.
  VkSemaphore s = VK_NULL_HANDLE;
  ASSERT_EQ(VkKmtGetSyncObjectSemaphore(sync, &s), STATUS_SUCCESS);
  EXPECT_EQ(s, paging_semaphore());
  EXPECT_FALSE(paging_reached(fence, 0));
  release_queue();
  EXPECT_TRUE(paging_reached(fence, 10ull * 1000 * 1000 * 1000));

  // A discard is reported exactly once: reclaiming again (no new offer) is OK.
  ASSERT_EQ(reclaim2(queue, h, &results, &fence), STATUS_SUCCESS);
  EXPECT_EQ(results[0], D3DDDI_RECLAIM_RESULT_OK);
  EXPECT_EQ(fence, 0u);
}

TEST_F(D3dkmtDiscard, DestroyPagingQueueWaitsForTheLastFence) {
  VkDeviceMemory m = device_local_memory();
  ASSERT_TRUE(m);
  const std::vector<D3DKMT_HANDLE> h = {reg_memory(m)};
  const D3DKMT_HANDLE queue = create_queue();
  block_queue();
  ASSERT_EQ(offer(h, D3DKMT_OFFER_PRIORITY_LOW, 0x1), STATUS_SUCCESS);
  UINT64 fence = 0;
  ASSERT_EQ(reclaim2(queue, h, nullptr, &fence), STATUS_SUCCESS);
  ASSERT_NE(fence, 0u);

  std::atomic<bool> released{false};
  std::thread releaser = release_later(&released);
  D3DDDI_DESTROYPAGINGQUEUE d = {queue};
  const NTSTATUS status = D3DKMTDestroyPagingQueue(&d);
  const bool returned_after_release = released.load();
  releaser.join();
  EXPECT_EQ(status, STATUS_SUCCESS);
  EXPECT_TRUE(returned_after_release) << "D3DKMTDestroyPagingQueue returned before its paging work could finish";
  EXPECT_TRUE(paging_reached(fence, 0));
}

TEST_F(D3dkmtDiscard, Win8ReclaimIsSynchronous) {
  VkDeviceMemory m = device_local_memory();
  ASSERT_TRUE(m);
  const std::vector<D3DKMT_HANDLE> h = {reg_memory(m)};
  block_queue();
  ASSERT_EQ(offer(h, D3DKMT_OFFER_PRIORITY_LOW, 0x1), STATUS_SUCCESS);

  // Windows 8's reclaim has no paging fence: the thunk waits for the fill.
  std::atomic<bool> released{false};
  std::thread releaser = release_later(&released);
  BOOL discarded[1] = {7};
  D3DKMT_RECLAIMALLOCATIONS r;
  std::memset(&r, 0, sizeof(r));
  r.hDevice = dev;
  r.HandleList = h.data();
  r.pDiscarded = discarded;
  r.NumAllocations = 1;
  const NTSTATUS status = D3DKMTReclaimAllocations(&r);
  const bool returned_after_release = released.load();
  releaser.join();
  EXPECT_EQ(status, STATUS_SUCCESS);
  EXPECT_EQ(discarded[0], TRUE);
  EXPECT_TRUE(returned_after_release) << "D3DKMTReclaimAllocations returned before the discard fill was done";
}

TEST_F(D3dkmtDiscard, HostVisibleMemoryIsFilledOnTheCpuWithFenceZero) {
  VkDeviceMemory m = stack->allocate(4096);  // host-visible
  const std::vector<D3DKMT_HANDLE> h = {reg_memory(m)};
  ASSERT_EQ(offer(h, D3DKMT_OFFER_PRIORITY_LOW, 0x1), STATUS_SUCCESS);
  std::vector<D3DDDI_RECLAIM_RESULT> results;
  UINT64 fence = 1;
  ASSERT_EQ(reclaim2(create_queue(), h, &results, &fence), STATUS_SUCCESS);
  EXPECT_EQ(results[0], D3DDDI_RECLAIM_RESULT_DISCARDED);
  EXPECT_EQ(fence, 0u);
}

TEST_F(D3dkmtDiscard, AllowDecommitLeadsToNotCommitted) {
  VkDeviceMemory m1 = stack->allocate(4096), m2 = stack->allocate(4096);
  const std::vector<D3DKMT_HANDLE> h1 = {reg_memory(m1)}, h2 = {reg_memory(m2)};
  const UINT immediately_and_decommit = 0x3;
  ASSERT_EQ(offer(h1, D3DKMT_OFFER_PRIORITY_LOW, immediately_and_decommit), STATUS_SUCCESS);
  ASSERT_EQ(offer(h2, D3DKMT_OFFER_PRIORITY_LOW, immediately_and_decommit), STATUS_SUCCESS);

  const D3DKMT_HANDLE queue = create_queue();
  std::vector<D3DDDI_RECLAIM_RESULT> results;
  ASSERT_EQ(reclaim2(queue, h1, &results, nullptr), STATUS_SUCCESS);
  EXPECT_EQ(results[0], D3DDDI_RECLAIM_RESULT_NOT_COMMITTED);
  // It stays decommitted: reclaim says so again, and it cannot be offered.
  ASSERT_EQ(reclaim2(queue, h1, &results, nullptr), STATUS_SUCCESS);
  EXPECT_EQ(results[0], D3DDDI_RECLAIM_RESULT_NOT_COMMITTED);
  EXPECT_EQ(offer(h1), STATUS_INVALID_PARAMETER);

  // The BOOL form reads NOT_COMMITTED as "discarded" (TRUE).
  BOOL discarded[1] = {7};
  D3DKMT_RECLAIMALLOCATIONS r;
  std::memset(&r, 0, sizeof(r));
  r.hDevice = dev;
  r.HandleList = h2.data();
  r.pDiscarded = discarded;
  r.NumAllocations = 1;
  ASSERT_EQ(D3DKMTReclaimAllocations(&r), STATUS_SUCCESS);
  EXPECT_EQ(discarded[0], TRUE);
}

// --- device loss -----------------------------------------------------------------

TEST_F(D3dkmt, DeviceLossIsStatusDeviceRemoved) {
  kmt_test_driver_control* driver = stack->driver();
  ASSERT_NE(driver, nullptr);
  VkDeviceMemory m1 = stack->allocate(4096), m2 = stack->allocate(4096);
  const std::vector<D3DKMT_HANDLE> h = {reg_memory(m1), reg_memory(m2)};
  const D3DKMT_HANDLE queue = create_queue();
  ASSERT_EQ(offer(h), STATUS_SUCCESS);

  driver->lose_device = true;
  VkCommandBuffer cb = stack->begin_commands();
  ASSERT_TRUE(cb);
  ASSERT_EQ(stack->submit_and_wait(cb), VK_ERROR_DEVICE_LOST);

  EXPECT_EQ(offer(h), STATUS_DEVICE_REMOVED);

  std::vector<D3DDDI_RECLAIM_RESULT> results;
  UINT64 fence = 1;
  EXPECT_EQ(reclaim2(queue, h, &results, &fence), STATUS_DEVICE_REMOVED);
  EXPECT_EQ(results[0], D3DDDI_RECLAIM_RESULT_DISCARDED);  // contents are lost with the device
  EXPECT_EQ(results[1], D3DDDI_RECLAIM_RESULT_DISCARDED);
  EXPECT_EQ(fence, 0u);

  BOOL discarded[2] = {7, 7};
  D3DKMT_RECLAIMALLOCATIONS r;
  std::memset(&r, 0, sizeof(r));
  r.hDevice = dev;
  r.HandleList = h.data();
  r.pDiscarded = discarded;
  r.NumAllocations = 2;
  EXPECT_EQ(D3DKMTReclaimAllocations(&r), STATUS_DEVICE_REMOVED);
  EXPECT_EQ(discarded[0], TRUE);
  EXPECT_EQ(discarded[1], TRUE);

  // Tearing down still works: the queue is destroyed, the device closed.
  D3DDDI_DESTROYPAGINGQUEUE d = {queue};
  EXPECT_EQ(D3DKMTDestroyPagingQueue(&d), STATUS_SUCCESS);
  EXPECT_EQ(VkKmtCloseDevice(dev), STATUS_SUCCESS);
  dev = 0;
}

// --- threads ---------------------------------------------------------------------

TEST_F(D3dkmt, ThreadsOfferAndReclaimTheirOwnAllocationsConcurrently) {
  constexpr int kThreads = 8, kIterations = 100;
  std::vector<std::vector<D3DKMT_HANDLE>> handles(kThreads);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < 4; ++i) handles[t].push_back(reg_memory(stack->allocate(4096)));
  const D3DKMT_HANDLE queue = create_queue();

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::vector<D3DDDI_RECLAIM_RESULT> results(handles[t].size());
      for (int i = 0; i < kIterations; ++i) {
        D3DKMT_OFFERALLOCATIONS o;
        std::memset(&o, 0, sizeof(o));
        o.hDevice = dev;
        o.HandleList = handles[t].data();
        o.NumAllocations = (UINT)handles[t].size();
        o.Priority = static_cast<D3DKMT_OFFER_PRIORITY>(1 + i % 4);
        if (D3DKMTOfferAllocations(&o) != STATUS_SUCCESS) ++failures;
        D3DKMT_RECLAIMALLOCATIONS2 r;
        std::memset(&r, 0, sizeof(r));
        r.hPagingQueue = queue;
        r.HandleList = handles[t].data();
        r.NumAllocations = (UINT)handles[t].size();
        r.pResults = results.data();
        if (D3DKMTReclaimAllocations2(&r) != STATUS_SUCCESS) ++failures;
        for (auto res : results)
          if (res != D3DDDI_RECLAIM_RESULT_OK) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace

// SPDX-License-Identifier: MIT
// kmt_benchmarks: the cost of VK_LAYER_KMT_offer_reclaim against a floor
// measured in the same process, the same benchmark and the same iteration.
//
// Every comparison is *paired*: one benchmark iteration runs a block of the
// layer variant and a block of each reference variant back to back (the order
// rotates between iterations), each block timed on its own. Counters carry
// ns per operation for each variant (median block) and the ratio (median over
// iterations of the per-iteration ratio), so a ratio never mixes two runs and
// drift or a scheduler hiccup hits both sides alike. The benchmark's own time
// (manual time) is the layer variant's. Clocks: blocks whose work all runs
// on the calling thread (offer_reclaim, alloc_free) are timed in thread CPU
// time, creation (milliseconds, spread over lavapipe's threads) in process CPU
// time, so that preemption on a shared machine does not bias a ratio; submits
// (blocks of ~10 us) in wall-clock time, the latency the app sees.
//
// Stacks (tests/bench/CMakeLists.txt; no validation layer, which would hide
// the layer's cost):
//   bench_layer  VK_LAYER_KMT_offer_reclaim -> VK_LAYER_KMT_test_driver -> lavapipe
//   bench_floor  VK_LAYER_KMT_test_driver -> lavapipe
//   bench_lvp    VK_LAYER_KMT_offer_reclaim -> lavapipe
// Devices:
//   floor  bench_floor, VK_EXT_memory_priority + VK_EXT_pageable_device_local_memory (P1 floor)
//   plain  bench_floor, no extension (P2 floor)
//   twin   bench_floor, no extension: an identical second floor device; its
//          ratio to plain (an A/A comparison) shows how much two layer-less
//          lavapipe devices differ, the noise any P2 ratio carries
//   on     bench_layer, VK_KMT_offer_reclaim enabled
//   np     bench_lvp (the layer straight on lavapipe: no pageable memory), VK_KMT_offer_reclaim enabled
//   npr    bench_lvp, VK_KMT_residency enabled (residency against the same bookkeeping floor)
//   off    bench_layer, extension not enabled (the layer must be a pure pass-through)
//
// Families (scripts/bench_report.py reads these names):
//   create/instance_device/{cold,warm,implicit}  P2: vkCreateInstance + vkCreateDevice, layer vs not
//   pass_through/alloc_free                  P2: vkAllocateMemory + vkFreeMemory
//   pass_through/submit_empty, submit_1cb    P2: vkQueueSubmit (64 per block; the drain is not timed)
//   pass_through/submit_empty_wait64         P2: 64 empty vkQueueSubmit + vkQueueWaitIdle, all timed
//   footprint/tracker/live:N                 P3: bytes per tracked allocation (kmt_core, exact)
//   offer_reclaim/{memory,resource}/batch:B/live:N   against the bookkeeping floor (issue 12), B 1/64/4096,
//                                            N 10^3..10^6, layer device without pageable memory
//   offer_reclaim_priority/memory/batch:B/live:N     against the priority floor (issue 8), pageable devices
//   trace/offer_reclaim/batch:B/live:N       tracing compiled out vs off vs on (bench_trace.cpp)
//   residency/{evict_make_resident,make_resident_evict}/batch:B/live:N   VK_KMT_residency against the
//                                            bookkeeping floor (issue 15): the EVICTED round trip (count 1 -> 0 -> 1)
//                                            and the reference-count round trip (1 -> 2 -> 1), layer device `npr`
//
// Own flag (removed before Google Benchmark sees the arguments):
//   --kmt_max_live=N   skip offer_reclaim/footprint benchmarks above N live allocations
#include <benchmark/benchmark.h>

#include <vulkan/vulkan.h>
#include <vulkan/vk_kmt_offer_reclaim.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_stack.hpp"
#include "bench_trace.hpp"
#include "offer.h"

namespace {

using Clock = std::chrono::steady_clock;
using kmtb::Device;
using kmtb::Instance;

constexpr uint32_t kMaxBatch = 4096;
constexpr uint32_t kAllocsPerBlock = 4096;  // offer_reclaim: allocations per timed block
constexpr VkDeviceSize kLiveSize = 64;      // bytes per live allocation (the layer never looks at it)

double ns_since(Clock::time_point start) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

// CPU time of the calling thread, ns. The P1 and alloc/free blocks run all
// their work on the calling thread (nothing is handed to the GPU or another
// thread), so on a shared machine this is what they cost: a wall-clock block
// that the scheduler preempts would bias the ratio against the longer block.
double thread_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// CPU time of the whole process (every thread), ns: instance/device creation
// spreads over lavapipe's threads and takes milliseconds, long enough for the
// scheduler of a shared machine to preempt it.
double process_ns() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// Per-iteration block times. Medians, not sums: a block that a scheduler
// hiccup stretched (2 shared cores) must not move a ratio.
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  return v[mid];
}

// Median over iterations of a[i] / b[i]: the paired ratio.
double median_ratio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r(a.size());
  for (size_t i = 0; i < a.size(); ++i) r[i] = a[i] / b[i];
  return median(std::move(r));
}

// The paired loop of the offer/reclaim and residency benchmarks: each
// iteration times a layer block and a floor block back to back, the order
// alternating, until the benchmark ends or `stop()` says a block failed.
// `per_block`: elements per block (the items processed).
struct PairedTimes {
  std::vector<double> layer_ns, floor_ns;
};

template <typename LayerBlock, typename FloorBlock, typename Stop>
PairedTimes run_paired(benchmark::State& state, double per_block, LayerBlock&& layer_block, FloorBlock&& floor_block,
                       Stop&& stop) {
  PairedTimes t;
  uint64_t iteration = 0;
  for (auto _ : state) {
    double l, f;
    if (iteration++ & 1) {
      f = floor_block();
      l = layer_block();
    } else {
      l = layer_block();
      f = floor_block();
    }
    t.layer_ns.push_back(l);
    t.floor_ns.push_back(f);
    state.SetIterationTime(l * 1e-9);
    if (stop()) break;
  }
  state.SetItemsProcessed(int64_t(double(t.layer_ns.size()) * per_block));
  return t;
}

// Per-element medians and the paired ratio of run_paired's times.
void record_paired(benchmark::State& state, const PairedTimes& t, double per_block, uint32_t batch, uint32_t live) {
  state.counters["layer_ns"] = median(t.layer_ns) / per_block;
  state.counters["floor_ns"] = median(t.floor_ns) / per_block;
  state.counters["ratio"] = median_ratio(t.layer_ns, t.floor_ns);
  state.counters["batch"] = batch;
  state.counters["live"] = live;
}

// Any benchmark that could not measure what it should makes the process fail
// (Google Benchmark itself exits 0 after SkipWithError), so the ctest smoke
// run catches a broken stack.
bool g_failed = false;

void skip(benchmark::State& state, const std::string& why) {
  g_failed = true;
  state.SkipWithError(why.c_str());
}

// ---------------------------------------------------------------------------
// The devices, created on first use and kept until the end.

struct World {
  Instance floor_instance, layer_instance, np_instance;
  Device floor, plain, twin, on, off, np, npr;
  ~World() {
    npr.destroy();
    np.destroy();
    np_instance.destroy();
    off.destroy();
    on.destroy();
    layer_instance.destroy();
    twin.destroy();
    plain.destroy();
    floor.destroy();
    floor_instance.destroy();
  }
};

std::unique_ptr<World> g_world;
std::string g_world_error;

World* world() {
  if (g_world || !g_world_error.empty()) return g_world.get();
  auto w = std::make_unique<World>();
  std::string e = w->floor_instance.create("bench_floor");
  if (e.empty())
    e = w->floor.create(w->floor_instance,
                        {VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME, VK_EXT_PAGEABLE_DEVICE_LOCAL_MEMORY_EXTENSION_NAME});
  if (e.empty()) e = w->plain.create(w->floor_instance, {});
  if (e.empty()) e = w->twin.create(w->floor_instance, {});
  if (e.empty()) e = w->layer_instance.create("bench_layer");
  if (e.empty()) e = w->on.create(w->layer_instance, {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME});
  if (e.empty()) e = w->off.create(w->layer_instance, {});
  if (e.empty()) e = w->np_instance.create("bench_lvp");
  if (e.empty()) e = w->np.create(w->np_instance, {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME});
  if (e.empty() && w->np.set_priority) e = "bench_lvp device has pageable memory: not the bookkeeping comparison";
  if (e.empty()) e = w->npr.create(w->np_instance, {VK_KMT_RESIDENCY_EXTENSION_NAME});
  if (e.empty() && (!w->npr.make_resident || !w->npr.evict)) e = "residency device: vkMakeResidentKMT missing";
  if (e.empty() && !w->floor.set_priority) e = "floor device: vkSetDeviceMemoryPriorityEXT missing";
  if (e.empty() && (!w->on.offer || !w->on.reclaim)) e = "layer device: vkOfferAllocationsKMT missing";
  if (e.empty() && w->off.offer) e = "pass-through device exposes vkOfferAllocationsKMT";
  if (!e.empty()) {
    g_world_error = "stack setup failed: " + e;
    return nullptr;
  }
  g_world = std::move(w);
  return g_world.get();
}

// ---------------------------------------------------------------------------
// Live allocations: n on the floor device (its handles key both floors' maps),
// n on the bookkeeping comparison's layer device `np` (and, for the resource
// benchmarks, n buffers each bound to its own np allocation), and -- only when
// a benchmark against the priority floor asks -- n on the pageable layer
// device `on`. Benchmarks visit them in one shuffled order, a window of
// `batch` at a time.

struct FloorRecord {
  float priority;
  uint32_t state;
};

struct LiveSet {
  uint32_t n = 0;
  std::vector<VkDeviceMemory> floor_memory, np_memory, on_memory, npr_memory;
  std::vector<VkBuffer> buffers;
  // The shuffled order, n + kMaxBatch long so that any window [c, c + batch)
  // with c < n and batch <= n is contiguous and holds distinct handles.
  std::vector<uint32_t> order;
  std::vector<VkDeviceMemory> floor_window, np_window, on_window, npr_window;
  std::vector<VkOfferResourceKMT> resource_window;
  std::unordered_map<uint64_t, FloorRecord> floor_map;
  std::vector<FloorRecord*> floor_found;  // the bookkeeping floor's "reclaim" writes through these
  // Heap bytes per allocation while building (mallinfo2), each device.
  double floor_heap_per_alloc = 0, on_heap_per_alloc = 0, buffer_heap_per_alloc = 0;
  double floor_rss_per_alloc = 0, on_rss_per_alloc = 0;
  std::string error;

  ~LiveSet() {
    World* w = g_world.get();
    if (!w) return;
    // Reverse creation order: the test driver keeps allocations in bucket
    // lists (newest first), so freeing newest first stays O(1).
    for (size_t i = buffers.size(); i-- > 0;) w->np.destroy_buffer(w->np.handle, buffers[i], nullptr);
    for (size_t i = on_memory.size(); i-- > 0;) w->on.free_memory(w->on.handle, on_memory[i], nullptr);
    for (size_t i = npr_memory.size(); i-- > 0;) w->npr.free_memory(w->npr.handle, npr_memory[i], nullptr);
    for (size_t i = np_memory.size(); i-- > 0;) w->np.free_memory(w->np.handle, np_memory[i], nullptr);
    for (size_t i = floor_memory.size(); i-- > 0;) w->floor.free_memory(w->floor.handle, floor_memory[i], nullptr);
  }

  std::vector<VkDeviceMemory> window_of(const std::vector<VkDeviceMemory>& memory) const {
    std::vector<VkDeviceMemory> window(order.size());
    for (size_t k = 0; k < order.size(); ++k) window[k] = memory[order[k]];
    return window;
  }

  bool build(World* w, uint32_t count) {
    n = count;
    floor_memory.reserve(n);
    np_memory.reserve(n);
    size_t heap = kmtb::heap_in_use(), rss = kmtb::resident_bytes();
    for (uint32_t i = 0; i < n; ++i) {
      VkDeviceMemory m = w->floor.allocate(kLiveSize);
      if (!m) return fail("vkAllocateMemory (floor) failed");
      floor_memory.push_back(m);
    }
    floor_heap_per_alloc = (double(kmtb::heap_in_use()) - double(heap)) / n;
    floor_rss_per_alloc = (double(kmtb::resident_bytes()) - double(rss)) / n;
    for (uint32_t i = 0; i < n; ++i) {
      VkDeviceMemory m = w->np.allocate(kLiveSize);
      if (!m) return fail("vkAllocateMemory (layer, no pageable memory) failed");
      np_memory.push_back(m);
    }

    order.resize(n);
    for (uint32_t i = 0; i < n; ++i) order[i] = i;
    std::mt19937_64 rng(0x6b6d74);  // fixed: every run visits the same order
    std::shuffle(order.begin(), order.end(), rng);
    for (uint32_t i = 0; i < kMaxBatch; ++i) order.push_back(order[i % n]);
    floor_window = window_of(floor_memory);
    np_window = window_of(np_memory);
    floor_map.reserve(n);
    for (uint32_t i = 0; i < n; ++i)
      floor_map.emplace(reinterpret_cast<uint64_t>(floor_memory[i]), FloorRecord{0.5f, 0});
    floor_found.resize(kMaxBatch);
    return true;
  }

  // The pageable layer device's set, for the priority floor; the layer's heap
  // per allocation is its growth minus the floor's (same test driver and
  // lavapipe below both).
  bool ensure_pageable(World* w) {
    if (!on_memory.empty()) return true;
    on_memory.reserve(n);
    size_t heap = kmtb::heap_in_use(), rss = kmtb::resident_bytes();
    for (uint32_t i = 0; i < n; ++i) {
      VkDeviceMemory m = w->on.allocate(kLiveSize);
      if (!m) return fail("vkAllocateMemory (layer) failed");
      on_memory.push_back(m);
    }
    on_heap_per_alloc = (double(kmtb::heap_in_use()) - double(heap)) / n;
    on_rss_per_alloc = (double(kmtb::resident_bytes()) - double(rss)) / n;
    on_window = window_of(on_memory);
    return true;
  }

  // The residency device's set (VK_KMT_residency enabled, no pageable memory).
  bool ensure_residency(World* w) {
    if (!npr_memory.empty()) return true;
    npr_memory.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      VkDeviceMemory m = w->npr.allocate(kLiveSize);
      if (!m) return fail("vkAllocateMemory (residency device) failed");
      npr_memory.push_back(m);
    }
    npr_window = window_of(npr_memory);
    return true;
  }

  bool ensure_buffers(World* w) {
    if (!buffers.empty()) return true;
    buffers.reserve(n);
    VkBufferCreateInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    info.size = kLiveSize;
    info.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    const size_t heap = kmtb::heap_in_use();
    for (uint32_t i = 0; i < n; ++i) {
      VkBuffer b = VK_NULL_HANDLE;
      if (w->np.create_buffer(w->np.handle, &info, nullptr, &b) != VK_SUCCESS) return fail("vkCreateBuffer failed");
      buffers.push_back(b);
      if (i == 0) {
        VkMemoryRequirements req;
        w->np.buffer_requirements(w->np.handle, b, &req);
        if (req.size > kLiveSize || !(req.memoryTypeBits & (1u << w->np.host_type)))
          return fail("buffer does not fit its live allocation");
      }
      if (w->np.bind_buffer(w->np.handle, b, np_memory[i], 0) != VK_SUCCESS) return fail("vkBindBufferMemory failed");
    }
    buffer_heap_per_alloc = (double(kmtb::heap_in_use()) - double(heap)) / n;
    resource_window.resize(order.size());
    for (size_t k = 0; k < order.size(); ++k)
      resource_window[k] = VkOfferResourceKMT{VK_OBJECT_TYPE_BUFFER, reinterpret_cast<uint64_t>(buffers[order[k]])};
    return true;
  }

  bool fail(const char* what) {
    error = what;
    return false;
  }
};

std::unique_ptr<LiveSet> g_live;

enum class Floor { Bookkeeping, Priority, Residency };

LiveSet* live_set(World* w, uint32_t n, bool resources, Floor floor, std::string* error) {
  if (!g_live || g_live->n != n) {
    g_live.reset();  // frees the previous set first: one set alive at a time
    g_live = std::make_unique<LiveSet>();
    if (!g_live->build(w, n)) {
      *error = g_live->error;
      g_live.reset();
      return nullptr;
    }
  }
  if ((resources && !g_live->ensure_buffers(w)) || (floor == Floor::Priority && !g_live->ensure_pageable(w)) ||
      (floor == Floor::Residency && !g_live->ensure_residency(w))) {
    *error = g_live->error;
    g_live.reset();
    return nullptr;
  }
  return g_live.get();
}

// ---------------------------------------------------------------------------
// P1 / P3: offer + reclaim of `batch` allocations over `live` live ones
// (OFFER_IMMEDIATELY, results requested), against one of two floors in the
// same iteration:
//   bookkeeping  the layer on a driver without pageable memory (no driver
//                calls) against the least any tracker does: per allocation
//                one std::unordered_map<uint64_t, small struct>::find and a
//                field write for the offer, and a field write through the
//                found record for the reclaim (issue 12's floor);
//   priority     the layer on a pageable driver against, per allocation,
//                demote + restore through vkSetDeviceMemoryPriorityEXT on the
//                layer-less device plus one find (issue 8's floor).

void BM_OfferReclaim(benchmark::State& state, bool resources, uint32_t batch, uint32_t live, Floor floor_kind) {
  World* w = world();
  if (!w) return skip(state, g_world_error);
  std::string error;
  LiveSet* s = live_set(w, live, resources, floor_kind, &error);
  if (!s) return skip(state, error);
  if (batch > live) return skip(state, "batch larger than the live set");

  const bool bookkeeping = floor_kind == Floor::Bookkeeping;
  const uint32_t reps = std::max<uint32_t>(1, kAllocsPerBlock / batch);
  std::vector<VkReclaimResultKMT> results(batch);
  Device& layer = bookkeeping ? w->np : w->on;
  VkDevice on = layer.handle, floor = w->floor.handle;
  PFN_vkOfferAllocationsKMT offer = layer.offer;
  PFN_vkReclaimAllocationsKMT reclaim = layer.reclaim;
  PFN_vkSetDeviceMemoryPriorityEXT set_priority = w->floor.set_priority;
  const std::vector<VkDeviceMemory>& layer_window = bookkeeping ? s->np_window : s->on_window;
  uint32_t layer_cursor = 0, floor_cursor = 0;
  VkResult failure = VK_SUCCESS;
  bool bad_result = false;

  auto layer_block = [&] {
    const double t0 = thread_ns();
    for (uint32_t r = 0; r < reps; ++r) {
      VkOfferAllocationsInfoKMT oi = {};
      oi.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT;
      oi.allocationCount = batch;
      VkReclaimAllocationsInfoKMT ri = {};
      ri.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT;
      ri.allocationCount = batch;
      ri.pResults = results.data();
      if (resources) {
        oi.pResources = ri.pResources = &s->resource_window[layer_cursor];
      } else {
        oi.pMemories = ri.pMemories = &layer_window[layer_cursor];
      }
      oi.priority = VK_OFFER_PRIORITY_LOW_KMT;
      oi.flags = VK_OFFER_IMMEDIATELY_BIT_KMT;
      uint64_t fence = 0;
      VkResult a = offer(on, &oi);
      VkResult b = reclaim(on, &ri, &fence);
      if (a != VK_SUCCESS || b != VK_SUCCESS) failure = a != VK_SUCCESS ? a : b;
      if (fence != 0 || results[0] != VK_RECLAIM_RESULT_OK_KMT || results[batch - 1] != VK_RECLAIM_RESULT_OK_KMT)
        bad_result = true;
      layer_cursor = (layer_cursor + batch) % live;
    }
    return thread_ns() - t0;
  };
  auto priority_floor_block = [&] {
    const double t0 = thread_ns();
    for (uint32_t r = 0; r < reps; ++r) {
      const VkDeviceMemory* window = &s->floor_window[floor_cursor];
      // Pass 1 (the "offer"): one lookup and a demotion per allocation.
      for (uint32_t i = 0; i < batch; ++i) {
        auto it = s->floor_map.find(reinterpret_cast<uint64_t>(window[i]));
        benchmark::DoNotOptimize(it->second.priority);
        set_priority(floor, window[i], 0.0f);
      }
      // Pass 2 (the "reclaim"): restore the priority.
      for (uint32_t i = 0; i < batch; ++i) set_priority(floor, window[i], 0.5f);
      floor_cursor = (floor_cursor + batch) % live;
    }
    return thread_ns() - t0;
  };
  auto bookkeeping_floor_block = [&] {
    const double t0 = thread_ns();
    for (uint32_t r = 0; r < reps; ++r) {
      const VkDeviceMemory* window = &s->floor_window[floor_cursor];
      FloorRecord** found = s->floor_found.data();
      // The "offer": one find and a field write per allocation.
      for (uint32_t i = 0; i < batch; ++i) {
        FloorRecord& record = s->floor_map.find(reinterpret_cast<uint64_t>(window[i]))->second;
        record.state = 1;
        found[i] = &record;
      }
      // The "reclaim": a field write through what the find gave.
      for (uint32_t i = 0; i < batch; ++i) found[i]->state = 0;
      benchmark::ClobberMemory();
      floor_cursor = (floor_cursor + batch) % live;
    }
    return thread_ns() - t0;
  };
  auto floor_block = [&] { return bookkeeping ? bookkeeping_floor_block() : priority_floor_block(); };

  const double per_block = double(reps) * batch;
  const PairedTimes times = run_paired(state, per_block, layer_block, floor_block,
                                       [&] { return failure != VK_SUCCESS || bad_result; });
  if (failure != VK_SUCCESS) return skip(state, "offer/reclaim failed: " + std::to_string(failure));
  if (bad_result) return skip(state, "reclaim of intact memory reported a discard or a paging fence");
  record_paired(state, times, per_block, batch, live);
  state.counters["floor_heap_B"] = s->floor_heap_per_alloc;
  state.counters["floor_rss_B"] = s->floor_rss_per_alloc;
  if (!bookkeeping) {
    // Memory per live allocation while the set was built (the layer's share
    // is the difference: both devices sit on the same test driver and lavapipe).
    state.counters["layer_heap_B"] = s->on_heap_per_alloc - s->floor_heap_per_alloc;
    state.counters["layer_rss_B"] = s->on_rss_per_alloc - s->floor_rss_per_alloc;
  }
  if (resources) state.counters["buffer_heap_B"] = s->buffer_heap_per_alloc;
}

// ---------------------------------------------------------------------------
// Residency (issue 15): make-resident + evict of `batch` allocations over
// `live` live ones on the residency device `npr` (the layer on lavapipe
// without pageable memory: no driver call), against the same bookkeeping
// floor as offer_reclaim (one find and a field write, then a write through
// what the find gave), paired in the same iteration. Two round trips:
//   evict_make_resident  evict (count 1 -> 0: EVICTED, usage down) then make
//                        resident (0 -> 1, the budget check): the transitions
//                        a residency manager makes;
//   make_resident_evict  make resident (1 -> 2) then evict (2 -> 1): the
//                        reference counts alone.

void BM_Residency(benchmark::State& state, bool transitions, uint32_t batch, uint32_t live) {
  World* w = world();
  if (!w) return skip(state, g_world_error);
  std::string error;
  LiveSet* s = live_set(w, live, false, Floor::Residency, &error);
  if (!s) return skip(state, error);
  if (batch > live) return skip(state, "batch larger than the live set");

  const uint32_t reps = std::max<uint32_t>(1, kAllocsPerBlock / batch);
  VkDevice device = w->npr.handle;
  PFN_vkMakeResidentKMT make_resident = w->npr.make_resident;
  PFN_vkEvictKMT evict = w->npr.evict;
  uint32_t layer_cursor = 0, floor_cursor = 0;
  VkResult failure = VK_SUCCESS;
  bool bad_result = false;

  auto layer_block = [&] {
    const double t0 = thread_ns();
    for (uint32_t r = 0; r < reps; ++r) {
      VkMakeResidentInfoKMT mi = {};
      mi.sType = VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT;
      mi.allocationCount = batch;
      mi.pMemories = &s->npr_window[layer_cursor];
      VkEvictInfoKMT ei = {};
      ei.sType = VK_STRUCTURE_TYPE_EVICT_INFO_KMT;
      ei.allocationCount = batch;
      ei.pMemories = &s->npr_window[layer_cursor];
      uint64_t fence = 0;
      VkDeviceSize trim_a = 0, trim_b = 0;
      VkResult a, b;
      if (transitions) {
        a = evict(device, &ei, &trim_a);
        b = make_resident(device, &mi, &fence, &trim_b);
      } else {
        a = make_resident(device, &mi, &fence, &trim_a);
        b = evict(device, &ei, &trim_b);
      }
      if (a != VK_SUCCESS || b != VK_SUCCESS) failure = a != VK_SUCCESS ? a : b;
      if (fence != 0 || trim_a != 0 || trim_b != 0) bad_result = true;
      layer_cursor = (layer_cursor + batch) % live;
    }
    return thread_ns() - t0;
  };
  auto floor_block = [&] {
    const double t0 = thread_ns();
    for (uint32_t r = 0; r < reps; ++r) {
      const VkDeviceMemory* window = &s->floor_window[floor_cursor];
      FloorRecord** found = s->floor_found.data();
      for (uint32_t i = 0; i < batch; ++i) {
        FloorRecord& record = s->floor_map.find(reinterpret_cast<uint64_t>(window[i]))->second;
        record.state = 1;
        found[i] = &record;
      }
      for (uint32_t i = 0; i < batch; ++i) found[i]->state = 0;
      benchmark::ClobberMemory();
      floor_cursor = (floor_cursor + batch) % live;
    }
    return thread_ns() - t0;
  };

  const double per_block = double(reps) * batch;
  const PairedTimes times = run_paired(state, per_block, layer_block, floor_block,
                                       [&] { return failure != VK_SUCCESS || bad_result; });
  if (failure != VK_SUCCESS) return skip(state, "make-resident/evict failed: " + std::to_string(failure));
  if (bad_result) return skip(state, "a paging fence or bytes to trim under an 80% budget");
  record_paired(state, times, per_block, batch, live);
}

// ---------------------------------------------------------------------------
// P3: the layer's memory per tracked allocation, exactly: the tracker's tables
// (kmt_core, the code the layer runs) after tracking N allocations, and N
// buffers bound to them.

void BM_Footprint(benchmark::State& state, uint32_t live) {
  double memory_bytes = 0, resource_bytes = 0, track_ns = 0;
  for (auto _ : state) {
    struct kmt_tracker tracker;
    struct kmt_tracker_config config{};
    config.pageable = true;
    config.salt = 0x6b6d74;
    struct kmt_tracker_ops ops{};
    if (!kmt_tracker_init(&tracker, &config, &ops, nullptr)) return skip(state, "kmt_tracker_init failed");
    // Driver handles like a driver's: pointers 64 bytes apart.
    const uint64_t base = 0x7f0000000000ull;
    std::vector<uint64_t> handles(live);
    const double t0 = thread_ns();
    bool ok = true;
    for (uint32_t i = 0; i < live; ++i) {
      handles[i] = kmt_track_memory(&tracker, base + 64ull * (i + 1), kLiveSize, 0, KMT_TRACK_HOST_VISIBLE, 0.5f);
      ok &= handles[i] != 0;
    }
    track_ns = (thread_ns() - t0) / live;
    ok &= kmt_reserve_bindings(&tracker, live);
    for (uint32_t i = 0; ok && i < live; ++i)
      kmt_track_binding(&tracker, VK_OBJECT_TYPE_BUFFER, base + 0x100000000000ull + 64ull * (i + 1), handles[i]);
    memory_bytes = double(kmt_slots_footprint(&tracker.slots)) / live;
    resource_bytes =
        double(kmt_map_footprint(&tracker.resources) + kmt_pool_footprint(&tracker.resource_pool)) / live;
    kmt_tracker_finish(&tracker);
    if (!ok) return skip(state, "tracking failed");
  }
  state.counters["memory_B"] = memory_bytes;
  state.counters["resource_B"] = resource_bytes;
  state.counters["memory_record_B"] = double(sizeof(struct kmt_memory) + sizeof(struct kmt_memory_cold));
  state.counters["resource_record_B"] = double(sizeof(struct kmt_resource));
  state.counters["track_ns"] = track_ns;
  state.counters["live"] = live;
}

// ---------------------------------------------------------------------------
// P2: pass-through. Four devices in one loop, all created with no extension
// of their own: floor ("plain": bench_floor, the layer absent), twin (a second
// such device: the A/A noise), off (layer loaded, extension not enabled) and
// on (VK_KMT_offer_reclaim enabled).

constexpr uint32_t kVariants = 4;  // floor, twin, off, on
const char* const kVariantNames[kVariants] = {"floor", "twin", "off", "on"};

template <typename Block>
void four_way(benchmark::State& state, uint64_t ops_per_block, Block&& block) {
  World* w = world();
  if (!w) return skip(state, g_world_error);
  Device* devices[kVariants] = {&w->plain, &w->twin, &w->off, &w->on};
  std::vector<double> ns[kVariants];
  uint64_t blocks = 0;
  bool ok = true;
  for (auto _ : state) {
    // Rotate which device goes first.
    double iteration_ns[kVariants] = {0, 0, 0, 0};
    for (uint32_t k = 0; k < kVariants; ++k) {
      const uint32_t d = uint32_t((k + blocks) % kVariants);
      iteration_ns[d] = block(*devices[d], d, ok);
    }
    for (uint32_t d = 0; d < kVariants; ++d) ns[d].push_back(iteration_ns[d]);
    ++blocks;
    state.SetIterationTime(iteration_ns[3] * 1e-9);
    if (!ok) break;
  }
  if (!ok) return skip(state, "a Vulkan call failed");
  state.SetItemsProcessed(int64_t(blocks * ops_per_block));
  for (uint32_t d = 0; d < kVariants; ++d) {
    state.counters[std::string(kVariantNames[d]) + "_ns"] = median(ns[d]) / double(ops_per_block);
    if (d) state.counters[std::string("ratio_") + kVariantNames[d]] = median_ratio(ns[d], ns[0]);
  }
}

void BM_AllocFree(benchmark::State& state) {
  constexpr uint32_t kPerBlock = 256;
  four_way(state, kPerBlock, [](Device& d, uint32_t, bool& ok) {
    VkMemoryAllocateInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    info.allocationSize = 4096;
    info.memoryTypeIndex = d.host_type;
    const double t0 = thread_ns();  // all on this thread (see thread_ns)
    for (uint32_t i = 0; i < kPerBlock; ++i) {
      VkDeviceMemory m = VK_NULL_HANDLE;
      if (d.allocate_memory(d.handle, &info, nullptr, &m) != VK_SUCCESS) ok = false;
      d.free_memory(d.handle, m, nullptr);
    }
    return thread_ns() - t0;
  });
}

struct SubmitResources {
  VkCommandPool pool[kVariants] = {};
  VkCommandBuffer cb[kVariants] = {};
};

// A block: 64 submits (empty, or one command buffer each), then
// vkQueueWaitIdle -- timed with the submits when `timed_wait` (the layer's
// idle-wait hook is then part of the cost: it must add no driver call when no
// offer waits), else only draining the block.
void BM_Submit(benchmark::State& state, bool with_command_buffer, bool timed_wait) {
  constexpr uint32_t kPerBlock = 64;
  World* w = world();
  if (!w) return skip(state, g_world_error);
  Device* devices[kVariants] = {&w->plain, &w->twin, &w->off, &w->on};
  SubmitResources r;
  for (uint32_t d = 0; d < kVariants; ++d) {
    Device& dev = *devices[d];
    VkCommandPoolCreateInfo pci = {};
    pci.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    pci.queueFamilyIndex = (d < 2 ? w->floor_instance : w->layer_instance).family;
    if (dev.create_command_pool(dev.handle, &pci, nullptr, &r.pool[d]) != VK_SUCCESS)
      return skip(state, "vkCreateCommandPool failed");
    VkCommandBufferAllocateInfo cai = {};
    cai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    cai.commandPool = r.pool[d];
    cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    cai.commandBufferCount = 1;
    if (dev.allocate_command_buffers(dev.handle, &cai, &r.cb[d]) != VK_SUCCESS)
      return skip(state, "vkAllocateCommandBuffers failed");
    VkCommandBufferBeginInfo bi = {};
    bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    bi.flags = VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT;
    dev.begin_command_buffer(r.cb[d], &bi);
    dev.end_command_buffer(r.cb[d]);
  }
  four_way(state, kPerBlock, [&](Device& d, uint32_t index, bool& ok) {
    VkSubmitInfo si = {};
    si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    si.commandBufferCount = 1;
    si.pCommandBuffers = &r.cb[index];
    const uint32_t count = with_command_buffer ? 1 : 0;
    const Clock::time_point t0 = Clock::now();
    for (uint32_t i = 0; i < kPerBlock; ++i)
      if (d.queue_submit(d.queue, count, with_command_buffer ? &si : nullptr, VK_NULL_HANDLE) != VK_SUCCESS) ok = false;
    double ns = ns_since(t0);
    if (d.queue_wait_idle(d.queue) != VK_SUCCESS) ok = false;
    if (timed_wait) ns = ns_since(t0);
    return ns;
  });
  for (uint32_t d = 0; d < kVariants; ++d) {
    devices[d]->device_wait_idle(devices[d]->handle);
    devices[d]->destroy_command_pool(devices[d]->handle, r.pool[d], nullptr);
  }
}

// P2: instance + device creation, floor vs off vs on.
//   cold      meta-layer stacks (bench_floor / bench_layer), no other instance
//             alive: each creation loads lavapipe (and the layer) anew, as a
//             process start does.
//   warm      the same stacks while the benchmark world keeps the libraries loaded.
//   implicit  production packaging: the layer's own implicit manifest
//             (<build>/vkdata/implicit), VK_KMT_OFFER_RECLAIM_DISABLE=1 for the
//             floor vs VK_KMT_OFFER_RECLAIM_ENABLE=1; lavapipe directly below
//             (no test driver), libraries kept loaded.
enum class CreateMode { Cold, Warm, Implicit };

struct Times {
  double cpu, wall;
};

Times create_once(const char* folder, const char* env, std::vector<const char*> extensions, bool& ok) {
  kmtb::prepare_environment(folder);
  if (env) setenv(env, "1", 1);
  const double c0 = process_ns();
  const Clock::time_point t0 = Clock::now();
  Times t;
  {
    Instance instance;
    Device device;
    std::string e = instance.create_prepared(folder);
    if (e.empty()) e = device.create(instance, extensions);
    t.wall = ns_since(t0);
    t.cpu = process_ns() - c0;
    if (!e.empty()) ok = false;
  }  // destroyed untimed
  if (env) unsetenv(env);
  return t;
}

void BM_Create(benchmark::State& state, CreateMode mode) {
  if (mode != CreateMode::Cold && !world()) return skip(state, g_world_error);
  if (mode == CreateMode::Cold) {
    // Cold means no instance keeps the libraries loaded: drop the world (it
    // is rebuilt by the next benchmark that needs it).
    g_live.reset();
    g_world.reset();
  }
  const bool implicit = mode == CreateMode::Implicit;
  const char* floor_folder = implicit ? "implicit" : "bench_floor";
  const char* layer_folder = implicit ? "implicit" : "bench_layer";
  const char* floor_env = implicit ? "VK_KMT_OFFER_RECLAIM_DISABLE" : nullptr;
  const char* layer_env = implicit ? "VK_KMT_OFFER_RECLAIM_ENABLE" : nullptr;
  std::vector<double> ns[3], wall[3];
  uint64_t count = 0;
  bool ok = true;
  for (auto _ : state) {
    Times it[3] = {};
    for (uint32_t k = 0; k < 3; ++k) {
      const uint32_t d = uint32_t((k + count) % 3);
      if (d == 0)
        it[0] = create_once(floor_folder, floor_env, {}, ok);
      else if (d == 1)
        it[1] = create_once(layer_folder, layer_env, {}, ok);
      else
        it[2] = create_once(layer_folder, layer_env, {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME}, ok);
    }
    for (uint32_t d = 0; d < 3; ++d) {
      ns[d].push_back(it[d].cpu);
      wall[d].push_back(it[d].wall);
    }
    ++count;
    state.SetIterationTime(it[2].wall * 1e-9);
    if (!ok) break;
  }
  if (!ok) return skip(state, "instance/device creation failed");
  // Ratios from process CPU time (robust on a shared machine); wall-clock
  // medians alongside.
  state.counters["floor_ns"] = median(ns[0]);
  state.counters["off_ns"] = median(ns[1]);
  state.counters["on_ns"] = median(ns[2]);
  state.counters["ratio_off"] = median_ratio(ns[1], ns[0]);
  state.counters["ratio_on"] = median_ratio(ns[2], ns[0]);
  state.counters["floor_wall_ns"] = median(wall[0]);
  state.counters["on_wall_ns"] = median(wall[2]);
  state.counters["ratio_on_wall"] = median_ratio(wall[2], wall[0]);
}

// ---------------------------------------------------------------------------

void register_all(uint32_t max_live) {
  benchmark::RegisterBenchmark("create/instance_device/cold", BM_Create, CreateMode::Cold)
      ->UseManualTime()
      ->MinTime(0.3);
  benchmark::RegisterBenchmark("create/instance_device/warm", BM_Create, CreateMode::Warm)
      ->UseManualTime()
      ->MinTime(0.3);
  benchmark::RegisterBenchmark("create/instance_device/implicit", BM_Create, CreateMode::Implicit)
      ->UseManualTime()
      ->MinTime(0.3);
  benchmark::RegisterBenchmark("pass_through/alloc_free", BM_AllocFree)->UseManualTime();
  benchmark::RegisterBenchmark("pass_through/submit_empty", BM_Submit, false, false)->UseManualTime();
  benchmark::RegisterBenchmark("pass_through/submit_empty_wait64", BM_Submit, false, true)->UseManualTime();
  benchmark::RegisterBenchmark("pass_through/submit_1cb", BM_Submit, true, false)->UseManualTime();

  const uint32_t lives[] = {1000, 10000, 100000, 1000000};
  for (uint32_t live : lives) {
    if (live > max_live) continue;
    benchmark::RegisterBenchmark(("footprint/tracker/live:" + std::to_string(live)).c_str(), BM_Footprint, live)
        ->Iterations(1)
        ->Repetitions(1);  // exact, not a timing
  }
  // Grouped by live count (each group builds its live set once): batches 1,
  // 64 and 4096 from 10^3 to 10^6 (a batch never larger than the live set),
  // by memory and by resource against the bookkeeping floor, and by memory
  // against the priority floor.
  for (uint32_t live : lives) {
    if (live > max_live) continue;
    std::vector<uint32_t> batches;
    for (uint32_t batch : {1u, 64u, 4096u})
      if (batch <= live) batches.push_back(batch);
    for (uint32_t batch : batches) {
      for (bool resources : {false, true}) {
        const std::string name = std::string("offer_reclaim/") + (resources ? "resource" : "memory") +
                                 "/batch:" + std::to_string(batch) + "/live:" + std::to_string(live);
        benchmark::RegisterBenchmark(name.c_str(), BM_OfferReclaim, resources, batch, live, Floor::Bookkeeping)
            ->UseManualTime();
      }
    }
    for (uint32_t batch : batches) {
      const std::string name =
          "offer_reclaim_priority/memory/batch:" + std::to_string(batch) + "/live:" + std::to_string(live);
      benchmark::RegisterBenchmark(name.c_str(), BM_OfferReclaim, false, batch, live, Floor::Priority)
          ->UseManualTime();
    }
    for (uint32_t batch : batches) {
      for (bool transitions : {true, false}) {
        const std::string name = std::string("residency/") +
                                 (transitions ? "evict_make_resident" : "make_resident_evict") +
                                 "/batch:" + std::to_string(batch) + "/live:" + std::to_string(live);
        benchmark::RegisterBenchmark(name.c_str(), BM_Residency, transitions, batch, live)->UseManualTime();
      }
    }
  }
  kmtb::register_trace_benchmarks(max_live);
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t max_live = 1000000;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--kmt_max_live=", 15) == 0)
      max_live = uint32_t(std::strtoul(argv[i] + 15, nullptr, 10));
    else
      args.push_back(argv[i]);
  }
  int count = int(args.size());
  args.push_back(nullptr);
  benchmark::AddCustomContext("kmt_stack_layer", "VK_LAYER_KMT_offer_reclaim -> VK_LAYER_KMT_test_driver -> lavapipe");
  benchmark::AddCustomContext("kmt_stack_floor", "VK_LAYER_KMT_test_driver -> lavapipe");
  {
    // The device for the context (a throwaway instance: the benchmark world
    // must not exist before the cold-creation benchmark).
    Instance probe;
    if (probe.create("bench_floor").empty()) {
      VkPhysicalDeviceProperties props;
      vkGetPhysicalDeviceProperties(probe.physical, &props);
      benchmark::AddCustomContext("kmt_vulkan_device", props.deviceName);
      char version[64];
      std::snprintf(version, sizeof(version), "%u.%u.%u", VK_API_VERSION_MAJOR(props.apiVersion),
                    VK_API_VERSION_MINOR(props.apiVersion), VK_API_VERSION_PATCH(props.apiVersion));
      benchmark::AddCustomContext("kmt_vulkan_api", version);
    }
  }
  register_all(max_live);
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_live.reset();
  g_world.reset();
  if (!kmtb::release_trace_benchmarks()) g_failed = true;
  if (g_failed) std::fprintf(stderr, "kmt_benchmarks: at least one benchmark failed (see error_message)\n");
  return g_failed ? 1 : 0;
}

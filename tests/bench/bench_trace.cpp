// SPDX-License-Identifier: MIT
// trace/* benchmarks: what the state-change pipeline (layer/events.h) costs
// offer + reclaim, paired as in bench_main.cpp (one iteration times a block of
// each variant back to back, order rotating; thread CPU time; medians).
//
// Devices, all with VK_KMT_offer_reclaim enabled over the test driver and
// lavapipe:
//   notrace  bench_notrace: the layer built with KMT_TRACING=OFF (the floor)
//   twin     a second notrace device: its ratio to notrace (A/A) is the
//            resolution of these ratios
//   off      bench_layer: the layer as shipped, TRACE unset (the goal:
//            off / notrace <= 1.02)
//   on       bench_layer with TRACE=<file> (TRACE_MAX_MB=16: the trace is
//            full and drops its oldest events, as in a long run)
// Counters: <variant>_ns per allocation; ratio_off, ratio_on, ratio_twin
// against notrace; change_ns = (on - off) per state change (each offer and
// each reclaim of an allocation is one, with its counter sample and its share
// of the call's span and flush); event_ns = (on - off) per trace event
// (2 state changes + 2 counter samples per allocation, 2 spans per batch).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_stack.hpp"
#include "bench_trace.hpp"

namespace kmtb {
namespace {

constexpr uint32_t kVariants = 4;
const char* const kNames[kVariants] = {"notrace", "twin", "off", "on"};
constexpr uint32_t kAllocsPerBlock = 4096;
constexpr VkDeviceSize kSize = 64;

bool g_trace_failed = false;

double thread_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  return v[mid];
}

double median_ratio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r(a.size());
  for (size_t i = 0; i < a.size(); ++i) r[i] = a[i] / b[i];
  return median(std::move(r));
}

struct TraceWorld {
  Instance notrace_instance, layer_instance;
  Device devices[kVariants];
  std::string trace_path;
  uint32_t live = 0;
  std::vector<VkDeviceMemory> memory[kVariants];  // [variant][i], each in the same shuffled order
  std::string error;

  ~TraceWorld() {
    release();
    for (Device& d : devices) d.destroy();  // the "on" device writes its trace here
    layer_instance.destroy();
    notrace_instance.destroy();
    if (!trace_path.empty()) std::remove(trace_path.c_str());
  }

  void release() {
    for (uint32_t v = 0; v < kVariants; ++v) {
      for (VkDeviceMemory m : memory[v]) devices[v].free_memory(devices[v].handle, m, nullptr);
      memory[v].clear();
    }
    live = 0;
  }

  bool create() {
    const std::vector<const char*> ext = {VK_KMT_OFFER_RECLAIM_EXTENSION_NAME};
    error = notrace_instance.create("bench_notrace");
    if (error.empty()) error = devices[0].create(notrace_instance, ext);
    if (error.empty()) error = devices[1].create(notrace_instance, ext);
    if (error.empty()) error = layer_instance.create("bench_layer");
    if (error.empty()) error = devices[2].create(layer_instance, ext);
    if (error.empty()) {
      // The layer reads its settings at vkCreateDevice: only this device traces.
      trace_path = "/tmp/kmt_bench_trace." + std::to_string(getpid()) + ".json";
      setenv("VK_KMT_OFFER_RECLAIM_TRACE", trace_path.c_str(), 1);
      setenv("VK_KMT_OFFER_RECLAIM_TRACE_MAX_MB", "16", 1);
      error = devices[3].create(layer_instance, ext);
      unsetenv("VK_KMT_OFFER_RECLAIM_TRACE");
      unsetenv("VK_KMT_OFFER_RECLAIM_TRACE_MAX_MB");
    }
    for (uint32_t v = 0; error.empty() && v < kVariants; ++v)
      if (!devices[v].offer || !devices[v].reclaim) error = std::string(kNames[v]) + ": vkOfferAllocationsKMT missing";
    if (error.empty() && access(trace_path.c_str(), F_OK) != 0) error = "the traced device wrote no trace file";
    return error.empty();
  }

  bool ensure_live(uint32_t n) {
    if (live == n) return true;
    release();
    std::vector<uint32_t> order(n);
    for (uint32_t i = 0; i < n; ++i) order[i] = i;
    std::mt19937_64 rng(0x74726163);
    std::shuffle(order.begin(), order.end(), rng);
    for (uint32_t v = 0; v < kVariants; ++v) {
      std::vector<VkDeviceMemory> made(n);
      for (uint32_t i = 0; i < n; ++i) {
        made[i] = devices[v].allocate(kSize);
        if (!made[i]) {
          error = "vkAllocateMemory failed";
          return false;
        }
      }
      memory[v].resize(n);
      for (uint32_t i = 0; i < n; ++i) memory[v][i] = made[order[i]];
    }
    live = n;
    return true;
  }
};

std::unique_ptr<TraceWorld> g_trace_world;

TraceWorld* trace_world(std::string* error) {
  if (!g_trace_world) {
    auto w = std::make_unique<TraceWorld>();
    if (!w->create()) {
      *error = "trace stack setup failed: " + w->error;
      return nullptr;
    }
    g_trace_world = std::move(w);
  }
  return g_trace_world.get();
}

void BM_TraceCost(benchmark::State& state, uint32_t batch, uint32_t live) {
  std::string error;
  TraceWorld* w = trace_world(&error);
  if (!w || !w->ensure_live(live)) {
    g_trace_failed = true;
    state.SkipWithError((w ? w->error : error).c_str());
    return;
  }
  const uint32_t reps = std::max<uint32_t>(1, kAllocsPerBlock / batch);
  std::vector<VkReclaimResultKMT> results(batch);
  uint32_t cursor[kVariants] = {0, 0, 0, 0};
  std::vector<double> ns[kVariants];
  VkResult failure = VK_SUCCESS;
  uint64_t iteration = 0;

  auto block = [&](uint32_t v) {
    Device& d = w->devices[v];
    const double t0 = thread_ns();
    for (uint32_t r = 0; r < reps; ++r) {
      const VkDeviceMemory* window = &w->memory[v][cursor[v]];
      VkOfferAllocationsInfoKMT oi = {};
      oi.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT;
      oi.allocationCount = batch;
      oi.pMemories = window;
      oi.priority = VK_OFFER_PRIORITY_LOW_KMT;
      VkReclaimAllocationsInfoKMT ri = {};
      ri.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT;
      ri.allocationCount = batch;
      ri.pMemories = window;
      ri.pResults = results.data();
      uint64_t fence = 0;
      VkResult a = d.offer(d.handle, &oi);
      VkResult b = d.reclaim(d.handle, &ri, &fence);
      if (a != VK_SUCCESS || b != VK_SUCCESS) failure = a != VK_SUCCESS ? a : b;
      cursor[v] = (cursor[v] + batch) % (live - batch + 1);  // contiguous windows of distinct handles
    }
    return thread_ns() - t0;
  };

  for (auto _ : state) {
    double t[kVariants];
    for (uint32_t k = 0; k < kVariants; ++k) {
      const uint32_t v = uint32_t((k + iteration) % kVariants);
      t[v] = block(v);
    }
    for (uint32_t v = 0; v < kVariants; ++v) ns[v].push_back(t[v]);
    ++iteration;
    // All four blocks: Google Benchmark's min time then bounds the run's length
    // (the traced block is ~30x the others).
    state.SetIterationTime((t[0] + t[1] + t[2] + t[3]) * 1e-9);
    if (failure != VK_SUCCESS) break;
  }
  if (failure != VK_SUCCESS) {
    g_trace_failed = true;
    state.SkipWithError(("offer/reclaim failed: " + std::to_string(failure)).c_str());
    return;
  }
  const double per_block = double(reps) * batch;
  state.SetItemsProcessed(int64_t(iteration * reps * batch));
  for (uint32_t v = 0; v < kVariants; ++v) state.counters[std::string(kNames[v]) + "_ns"] = median(ns[v]) / per_block;
  state.counters["ratio_twin"] = median_ratio(ns[1], ns[0]);
  state.counters["ratio_off"] = median_ratio(ns[2], ns[0]);
  state.counters["ratio_on"] = median_ratio(ns[3], ns[0]);
  const double extra = (median(ns[3]) - median(ns[2])) / per_block;  // per allocation
  state.counters["change_ns"] = extra / 2;
  state.counters["event_ns"] = extra / (4.0 + 2.0 / batch);
  state.counters["batch"] = batch;
  state.counters["live"] = live;
}

}  // namespace

void register_trace_benchmarks(uint32_t max_live) {
  for (uint32_t live : {1000u, 10000u}) {
    if (live > max_live) continue;
    for (uint32_t batch : {1u, 64u}) {
      const std::string name = "trace/offer_reclaim/batch:" + std::to_string(batch) + "/live:" + std::to_string(live);
      // Enough paired iterations for the medians whatever --benchmark_min_time says.
      benchmark::RegisterBenchmark(name.c_str(), BM_TraceCost, batch, live)->UseManualTime()->MinTime(1.5);
    }
  }
}

bool release_trace_benchmarks() {
  g_trace_world.reset();
  return !g_trace_failed;
}

}  // namespace kmtb

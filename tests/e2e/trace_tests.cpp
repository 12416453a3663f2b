// SPDX-License-Identifier: MIT
// TRACE=<path> (DESIGN.md "Seeing what the layer did"): the trace of a known
// sequence holds exactly its state changes with their reasons, the fills and
// paging-fence values, the call spans and the per-heap counters; the file is
// valid after vkDestroyDevice, after exit() without it, and within
// TRACE_MAX_MB.
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

using nlohmann::json;

class TraceDir {
  public:
    TraceDir()
    {
        char tmpl[] = "/tmp/kmt_trace_e2e.XXXXXX";
        const char* made = mkdtemp(tmpl);
        dir_ = made ? made : "/tmp";
    }
    ~TraceDir() { std::system(("rm -rf '" + dir_ + "'").c_str()); }
    std::string path(const std::string& name = "trace.json") const { return dir_ + "/" + name; }

  private:
    std::string dir_;
};

json
load(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());  // throws (the test fails) unless valid JSON
}

off_t
file_size(const std::string& path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

std::string
hex(VkDeviceMemory m)
{
    char text[32];
    std::snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(reinterpret_cast<uint64_t>(m)));
    return text;
}

void
set_name(VulkanStack& s, VkDeviceMemory m, const char* name)
{
    auto fn = reinterpret_cast<PFN_vkSetDebugUtilsObjectNameEXT>(s.instance_proc("vkSetDebugUtilsObjectNameEXT"));
    ASSERT_NE(fn, nullptr);
    VkDebugUtilsObjectNameInfoEXT info = vk_struct<VkDebugUtilsObjectNameInfoEXT>(
        VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT);
    info.objectType = VK_OBJECT_TYPE_DEVICE_MEMORY;
    info.objectHandle = reinterpret_cast<uint64_t>(m);
    info.pObjectName = name;
    ASSERT_EQ(fn(s.device, &info), VK_SUCCESS);
}

VkDeviceMemory
allocate(VulkanStack& s, VkDeviceSize size, uint32_t type)
{
    VkMemoryAllocateInfo info = vk_struct<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
    info.allocationSize = size;
    info.memoryTypeIndex = type;
    VkDeviceMemory m = VK_NULL_HANDLE;
    EXPECT_EQ(vkAllocateMemory(s.device, &info, nullptr, &m), VK_SUCCESS);
    return m;
}

std::vector<json>
events_of(const json& doc, const std::string& cat)
{
    std::vector<json> out;
    for (const json& e : doc["traceEvents"])
        if (e.value("cat", "") == cat) out.push_back(e);
    return out;
}

// The counter sample that follows the index-th event of the file.
json
counter_after(const json& doc, const json& event)
{
    const json& all = doc["traceEvents"];
    for (size_t i = 0; i < all.size(); ++i) {
        if (all[i] != event) continue;
        for (size_t j = i + 1; j < all.size(); ++j)
            if (all[j]["ph"] == "C" && all[j]["name"] == "heap 0") return all[j]["args"];
    }
    return json();
}

// ---- a known sequence, exactly -------------------------------------------------------------------

// Pressure with a 1 MiB budget on device-only memory (GPU fills on the paging
// queue). albedo (LOW, deferred behind a submission) and normals (NORMAL,
// IMMEDIATELY|ALLOW_DECOMMIT) are offered; a third allocation takes the heap
// over budget (albedo discarded, GPU poison fill: paging fence 1); a fourth
// does again (normals decommitted); the paging fence is waited for; both are
// reclaimed (DISCARDED, NOT_COMMITTED); normals and the fourth are freed;
// scratch is offered and reclaimed (OK).
TEST(Trace, HoldsEveryStateChangeOfAKnownSequenceWithItsReasonFencesAndCounters)
{
    TraceDir dir;
    const VkDeviceSize half = 512 * 1024;
    const uint64_t budget = 1 << 20;
    VkDeviceMemory albedo, normals, scratch, extra;
    uint64_t reclaim_fence = UINT64_MAX;
    {
        StackOptions o;
        o.env = {{"VK_KMT_OFFER_RECLAIM_TRACE", dir.path()},
                 {"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"},
                 {"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "1"},
                 {"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}};
        VulkanStack s(o);
        ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
        const uint32_t device_only = s.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                                   VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
        ASSERT_NE(device_only, UINT32_MAX);
        albedo = allocate(s, half, device_only);
        normals = allocate(s, half, device_only);
        set_name(s, albedo, "albedo");
        set_name(s, normals, "normals");

        {
            QueueGate gate(s);  // GPU work that cannot finish before the offer
            ASSERT_EQ(offer(s, {albedo}, VK_OFFER_PRIORITY_LOW_KMT, 0), VK_SUCCESS);
        }  // opened: the work completes
        ASSERT_EQ(status_of(s, albedo), VK_ALLOCATION_STATUS_OFFERED_KMT);  // promoted here
        ASSERT_EQ(offer(s, {normals}, VK_OFFER_PRIORITY_NORMAL_KMT,
                        VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT),
                  VK_SUCCESS);
        scratch = allocate(s, half, device_only);  // 1.5 MiB: albedo goes
        extra = allocate(s, half, device_only);    // 1.5 MiB again: normals goes
        ASSERT_EQ(status_of(s, albedo), VK_ALLOCATION_STATUS_DISCARDED_KMT);
        ASSERT_EQ(status_of(s, normals), VK_ALLOCATION_STATUS_DECOMMITTED_KMT);

        VkSemaphore paging;
        ASSERT_EQ(s.get_paging_fence(s.device, &paging), VK_SUCCESS);
        const uint64_t one = 1;
        VkSemaphoreWaitInfo wait = vk_struct<VkSemaphoreWaitInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO);
        wait.semaphoreCount = 1;
        wait.pSemaphores = &paging;
        wait.pValues = &one;
        ASSERT_EQ(vkWaitSemaphores(s.device, &wait, UINT64_MAX), VK_SUCCESS);

        Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{albedo, normals});
        ASSERT_EQ(r.result, VK_SUCCESS);
        ASSERT_EQ(r.results[0], VK_RECLAIM_RESULT_DISCARDED_KMT);
        ASSERT_EQ(r.results[1], VK_RECLAIM_RESULT_NOT_COMMITTED_KMT);
        reclaim_fence = r.fence;
        EXPECT_EQ(reclaim_fence, 0u) << "the fill was waited for";
        vkFreeMemory(s.device, normals, nullptr);
        vkFreeMemory(s.device, extra, nullptr);  // back to 1 MiB: scratch's offer stays

        ASSERT_EQ(offer(s, {scratch}, VK_OFFER_PRIORITY_HIGH_KMT, 0), VK_SUCCESS);
        Reclaimed r2 = reclaim(s, std::vector<VkDeviceMemory>{scratch});
        ASSERT_EQ(r2.results[0], VK_RECLAIM_RESULT_OK_KMT);
        EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
        vkFreeMemory(s.device, albedo, nullptr);
        vkFreeMemory(s.device, scratch, nullptr);
    }  // vkDestroyDevice writes the file

    json doc = load(dir.path());
    ASSERT_TRUE(doc["traceEvents"].is_array());

    // The state changes, in order, each with its reason and details.
    struct Expected {
        std::string name, memory, memory_name, from, to, reason, priority, flags;
    };
    const std::vector<Expected> expected = {
        {"offer", hex(albedo), "albedo", "RESIDENT", "OFFER_PENDING", "offer", "LOW", "none"},
        {"promote", hex(albedo), "albedo", "OFFER_PENDING", "OFFERED", "promote", "LOW", "none"},
        {"offer", hex(normals), "normals", "RESIDENT", "OFFERED", "offer", "NORMAL", "IMMEDIATELY|ALLOW_DECOMMIT"},
        {"discard", hex(albedo), "albedo", "OFFERED", "DISCARDED", "discard (pressure)", "LOW", "none"},
        {"decommit", hex(normals), "normals", "OFFERED", "DECOMMITTED", "discard (pressure)", "NORMAL",
         "IMMEDIATELY|ALLOW_DECOMMIT"},
        {"reclaim", hex(albedo), "albedo", "DISCARDED", "RESIDENT", "reclaim", "none", "none"},
        {"reclaim", hex(normals), "normals", "DECOMMITTED", "DECOMMITTED", "reclaim", "NORMAL",
         "IMMEDIATELY|ALLOW_DECOMMIT"},
        {"free", hex(normals), "normals", "DECOMMITTED", "", "", "", ""},
        {"offer", hex(scratch), "", "RESIDENT", "OFFERED", "offer", "HIGH", "none"},
        {"reclaim", hex(scratch), "", "OFFERED", "RESIDENT", "reclaim", "none", "none"},
    };
    std::vector<json> states = events_of(doc, "state");
    ASSERT_EQ(states.size(), expected.size()) << doc.dump(1);
    for (size_t i = 0; i < expected.size(); ++i) {
        const json& a = states[i]["args"];
        SCOPED_TRACE("state event " + std::to_string(i) + ": " + states[i].dump());
        EXPECT_EQ(states[i]["ph"], "i");
        EXPECT_EQ(states[i]["name"], expected[i].name);
        EXPECT_EQ(a["memory"], expected[i].memory);
        EXPECT_EQ(a["name"], expected[i].memory_name);
        EXPECT_EQ(a["size"], half);
        EXPECT_EQ(a["heap"], 0);
        EXPECT_EQ(a["from"], expected[i].from);
        if (expected[i].name == "free") continue;
        EXPECT_EQ(a["to"], expected[i].to);
        EXPECT_EQ(a["reason"], expected[i].reason);
        EXPECT_EQ(a["priority"], expected[i].priority);
        EXPECT_EQ(a["flags"], expected[i].flags);
    }
    // The deferred offer waited behind the layer's marker; its promotion names the same serial.
    EXPECT_GT(states[0]["args"]["wait_serial"].get<uint64_t>(), 0u);
    EXPECT_EQ(states[1]["args"]["wait_serial"], states[0]["args"]["wait_serial"]);
    EXPECT_EQ(states[2]["args"]["wait_serial"], 0);
    // The policy's decisions: first victim of each relief, usage over budget.
    EXPECT_EQ(states[3]["args"]["order"], 1);
    EXPECT_EQ(states[3]["args"]["heap_usage"], 3 * half);
    EXPECT_EQ(states[3]["args"]["heap_budget"], budget);
    EXPECT_EQ(states[3]["args"]["paging_fence"], 1) << "the first paging operation of the device";
    EXPECT_EQ(states[4]["args"]["order"], 1);
    EXPECT_EQ(states[4]["args"]["heap_usage"], 3 * half);
    EXPECT_EQ(states[4]["args"]["paging_fence"], 0) << "decommitted memory is not filled";
    EXPECT_EQ(states[5]["args"]["result"], "DISCARDED");
    EXPECT_EQ(states[5]["args"]["paging_fence"], reclaim_fence);
    EXPECT_EQ(states[6]["args"]["result"], "NOT_COMMITTED");
    EXPECT_EQ(states[9]["args"]["result"], "OK");

    // One GPU fill (albedo's), signalling paging fence 1, and the fence seen reaching 1.
    std::vector<json> paging = events_of(doc, "paging");
    ASSERT_GE(paging.size(), 2u) << doc.dump(1);
    EXPECT_EQ(paging[0]["name"], "fill");
    EXPECT_EQ(paging[0]["args"]["memory"], hex(albedo));
    EXPECT_EQ(paging[0]["args"]["where"], "GPU");
    EXPECT_EQ(paging[0]["args"]["pattern"], "poison");
    EXPECT_EQ(paging[0]["args"]["paging_fence"], 1);
    int fills = 0, signals = 0;
    for (const json& e : paging) {
        fills += e["name"] == "fill";
        if (e["name"] == "paging fence" && e["ph"] == "i") {
            ++signals;
            EXPECT_EQ(e["args"]["value"], 1);
        }
    }
    EXPECT_EQ(fills, 1);
    EXPECT_EQ(signals, 1);

    // The per-heap counters after each change.
    json c = counter_after(doc, states[2]);  // both offered
    EXPECT_EQ(c["offered"], 2 * half);
    EXPECT_EQ(c["usage"], 2 * half);
    EXPECT_EQ(c["resident"], 0);
    EXPECT_EQ(c["budget"], budget);
    c = counter_after(doc, states[3]);  // albedo discarded
    EXPECT_EQ(c["offered"], half);
    EXPECT_EQ(c["discarded"], half);
    EXPECT_EQ(c["usage"], 2 * half);
    EXPECT_EQ(c["resident"], half);
    c = counter_after(doc, states[4]);  // normals decommitted
    EXPECT_EQ(c["offered"], 0);
    EXPECT_EQ(c["discarded"], half);
    EXPECT_EQ(c["decommitted"], half);
    EXPECT_EQ(c["usage"], 2 * half);
    c = counter_after(doc, states[5]);  // albedo back
    EXPECT_EQ(c["discarded"], 0);
    EXPECT_EQ(c["usage"], 3 * half);
    c = counter_after(doc, states[7]);  // normals freed
    EXPECT_EQ(c["decommitted"], 0);
    c = counter_after(doc, states[9]);  // the end: albedo and scratch resident
    EXPECT_EQ(c["offered"], 0);
    EXPECT_EQ(c["discarded"], 0);
    EXPECT_EQ(c["decommitted"], 0);
    EXPECT_EQ(c["resident"], 2 * half);
    EXPECT_EQ(c["usage"], 2 * half);

    // A span per offer / reclaim call, with counts and the first handles.
    std::vector<json> calls = events_of(doc, "call");
    ASSERT_EQ(calls.size(), 5u) << doc.dump(1);
    const char* names[] = {"vkOfferAllocationsKMT", "vkOfferAllocationsKMT", "vkReclaimAllocationsKMT",
                           "vkOfferAllocationsKMT", "vkReclaimAllocationsKMT"};
    for (size_t i = 0; i < calls.size(); ++i) {
        EXPECT_EQ(calls[i]["name"], names[i]) << i;
        EXPECT_EQ(calls[i]["ph"], "X");
        EXPECT_GE(calls[i]["dur"].get<double>(), 0.0);
        EXPECT_EQ(calls[i]["args"]["result"], "VK_SUCCESS");
    }
    EXPECT_EQ(calls[0]["args"]["count"], 1);
    EXPECT_EQ(calls[0]["args"]["first"], json::array({hex(albedo) + " \"albedo\""}));
    EXPECT_EQ(calls[0]["args"]["priority"], "LOW");
    EXPECT_EQ(calls[2]["args"]["count"], 2);
    EXPECT_EQ(calls[2]["args"]["first"], json::array({hex(albedo) + " \"albedo\"", hex(normals) + " \"normals\""}));
    EXPECT_EQ(calls[2]["args"]["paging_fence"], reclaim_fence);

    // Spans and instants are in time order on the thread that made them.
    EXPECT_LE(calls[0]["ts"].get<double>(), states[0]["ts"].get<double>());
    EXPECT_EQ(calls[0]["tid"], states[0]["tid"]);

    const json& end = doc["traceEvents"].back();
    EXPECT_EQ(end["name"], "trace end");
    EXPECT_EQ(end["args"]["dropped_events"], 0);
}

// ---- the file survives an app that never destroys its device ------------------------------------

// Runs in a child process: creates a traced device, offers, and exits
// without vkDestroyDevice or vkDestroyInstance.
void
offer_and_exit(const std::string& path)
{
    StackOptions o;
    o.env = {{"VK_KMT_OFFER_RECLAIM_TRACE", path}, {"VK_KMT_OFFER_RECLAIM_DISCARD", "always"}};
    auto* s = new VulkanStack(o);  // never destroyed
    if (s->result() != VK_SUCCESS) std::exit(2);
    VkDeviceMemory m = s->allocate(4096);
    if (offer(*s, {m}) != VK_SUCCESS) std::exit(3);
    std::exit(0);
}

TEST(Trace, IsCompleteAndValidWhenTheAppCallsExitWithoutDestroyingTheDevice)
{
    // "threadsafe": the child is a fresh process running this test again up
    // to EXPECT_EXIT, not a fork of this one (lavapipe's threads); the path
    // reaches it through the environment.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const char* inherited = std::getenv("KMT_TRACE_EXIT_TEST_PATH");
    const std::string path =
        inherited ? inherited : "/tmp/kmt_trace_exit_test." + std::to_string(getpid()) + ".json";
    ScopedEnv env("KMT_TRACE_EXIT_TEST_PATH", path.c_str());
    std::remove(path.c_str());
    EXPECT_EXIT(offer_and_exit(path), testing::ExitedWithCode(0), "");
    json doc = load(path);
    std::remove(path.c_str());
    std::vector<json> states = events_of(doc, "state");
    ASSERT_EQ(states.size(), 2u) << doc.dump(1);
    EXPECT_EQ(states[0]["name"], "offer");
    EXPECT_EQ(states[1]["name"], "discard");
    EXPECT_EQ(states[1]["args"]["reason"], "discard (always)");
    EXPECT_EQ(doc["traceEvents"].back()["name"], "trace end");
}

// ---- TRACE_MAX_MB ----------------------------------------------------------------------------------

TEST(Trace, TraceMaxMbBoundsTheFileDroppingTheOldestEventsAndCountingThem)
{
    TraceDir dir;
    const int cycles = 6000;  // ~6 events a cycle, well over 1 MiB of JSON
    {
        StackOptions o;
        o.env = {{"VK_KMT_OFFER_RECLAIM_TRACE", dir.path()}, {"VK_KMT_OFFER_RECLAIM_TRACE_MAX_MB", "1"}};
        VulkanStack s(o);
        ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
        VkDeviceMemory m = s.allocate(4096);
        for (int i = 0; i < cycles; ++i) {
            ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
            ASSERT_EQ(reclaim(s, std::vector<VkDeviceMemory>{m}).result, VK_SUCCESS);
        }
    }
    EXPECT_LE(file_size(dir.path()), 1 << 20);
    json doc = load(dir.path());
    const json& end = doc["traceEvents"].back();
    ASSERT_EQ(end["name"], "trace end");
    EXPECT_GT(end["args"]["dropped_events"].get<uint64_t>(), 0u);
    EXPECT_EQ(end["args"]["max_bytes"], 1 << 20);
    // The newest survive: the last call of the run is there, the first is not.
    std::vector<json> calls = events_of(doc, "call");
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.back()["name"], "vkReclaimAllocationsKMT");
    std::vector<json> states = events_of(doc, "state");
    ASSERT_FALSE(states.empty());
    EXPECT_EQ(states.back()["name"], "reclaim");
    EXPECT_LT(states.size(), 2u * cycles);
    // Metadata is never dropped.
    EXPECT_EQ(doc["traceEvents"][0]["ph"], "M");
    EXPECT_EQ(end["args"]["events"].get<uint64_t>(),
              end["args"]["dropped_events"].get<uint64_t>() + doc["traceEvents"].size() - 3)
        << "every event is either in the file or counted as dropped";
}

// ---- threads ---------------------------------------------------------------------------------------

// Also run under TSan (the tsan preset runs tests whose names contain "Concurren").
TEST(TraceConcurrency, FourThreadsLoseNoStateChangeAndKeepEachAllocationsOrder)
{
    TraceDir dir;
    constexpr int kThreads = 4, kCycles = 150, kEach = 3;
    std::map<std::string, int> offered_messages;
    std::vector<std::string> handles;
    {
        StackOptions o;
        o.env = {{"VK_KMT_OFFER_RECLAIM_TRACE", dir.path()}, {"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "verbose"}};
        o.verbose_messages = true;
        VulkanStack s(o);
        ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
        std::vector<std::vector<VkDeviceMemory>> mine(kThreads);
        for (int t = 0; t < kThreads; ++t)
            for (int i = 0; i < kEach; ++i) {
                mine[t].push_back(s.allocate(4096));
                handles.push_back(hex(mine[t].back()));
                set_name(s, mine[t].back(), ("thread " + std::to_string(t)).c_str());
            }
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int c = 0; c < kCycles; ++c) {
                    EXPECT_EQ(offer(s, mine[t], VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
                    EXPECT_EQ(reclaim(s, mine[t]).result, VK_SUCCESS);
                }
            });
        for (std::thread& t : threads) t.join();
        for (const Message& m : s.messages_with_id("KMT-state-offered")) offered_messages[m.object_names[0]]++;
        s.clear_messages();
    }
    json doc = load(dir.path());
    std::map<std::string, std::vector<std::string>> by_memory;
    for (const json& e : events_of(doc, "state")) {
        if (e["name"] == "free") continue;
        by_memory[e["args"]["memory"]].push_back(e["name"]);
        EXPECT_EQ(e["args"]["name"].get<std::string>().rfind("thread ", 0), 0u) << e.dump();
    }
    ASSERT_EQ(by_memory.size(), handles.size());
    for (const std::string& h : handles) {
        const std::vector<std::string>& seq = by_memory[h];
        ASSERT_EQ(seq.size(), 2u * kCycles) << h;
        for (size_t i = 0; i < seq.size(); ++i) ASSERT_EQ(seq[i], i % 2 ? "reclaim" : "offer") << h << " #" << i;
    }
    EXPECT_EQ(events_of(doc, "call").size(), 2u * kThreads * kCycles);
    for (int t = 0; t < kThreads; ++t)
        EXPECT_EQ(offered_messages["thread " + std::to_string(t)], kEach * kCycles) << "messages of thread " << t;
    EXPECT_EQ(doc["traceEvents"].back()["args"]["dropped_events"], 0);
}

// ---- off and pass-through ---------------------------------------------------------------------------

TEST(Trace, IsNotWrittenWithoutTheSettingNorForAPassThroughDevice)
{
    TraceDir dir;
    {
        VulkanStack s;
        ASSERT_EQ(s.result(), VK_SUCCESS);
        VkDeviceMemory m = s.allocate(4096);
        ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
    }
    {
        StackOptions o;
        o.enable_extension = false;
        o.env = {{"VK_KMT_OFFER_RECLAIM_TRACE", dir.path()}};
        VulkanStack s(o);
        ASSERT_EQ(s.result(), VK_SUCCESS);
    }
    EXPECT_EQ(file_size(dir.path()), -1);
}

TEST(Trace, AnUnwritablePathIsReportedAndTheDeviceWorks)
{
    StackOptions o;
    o.env = {{"VK_KMT_OFFER_RECLAIM_TRACE", "/nonexistent-dir/trace.json"}};
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS);
    auto warnings = s.messages_with_id("KMT-trace-file");
    ASSERT_EQ(warnings.size(), 1u) << describe(s.messages());
    EXPECT_NE(warnings[0].text.find("/nonexistent-dir/trace.json\" cannot be written"), std::string::npos)
        << warnings[0].text;
    VkDeviceMemory m = s.allocate(4096);
    EXPECT_EQ(offer(s, {m}), VK_SUCCESS);
}

TEST(Trace, TwoDevicesAliveAtOnceWriteTwoFiles)
{
    TraceDir dir;
    {
        StackOptions o;
        o.env = {{"VK_KMT_OFFER_RECLAIM_TRACE", dir.path("t.json")}};
        VulkanStack a(o);
        VulkanStack b(o);
        ASSERT_EQ(a.result(), VK_SUCCESS);
        ASSERT_EQ(b.result(), VK_SUCCESS);
        ASSERT_EQ(offer(a, {a.allocate(4096)}), VK_SUCCESS);
        ASSERT_EQ(offer(b, {b.allocate(8192)}), VK_SUCCESS);
        EXPECT_EQ(b.messages_with_id("KMT-trace-file").size(), 0u) << "info level only";
    }
    // Each holds its own device's offer (then the free of the offered memory).
    json first = load(dir.path("t.json")), second = load(dir.path("t.2.json"));
    ASSERT_EQ(events_of(first, "state").size(), 2u) << first.dump(1);
    ASSERT_EQ(events_of(second, "state").size(), 2u) << second.dump(1);
    EXPECT_EQ(events_of(first, "state")[0]["name"], "offer");
    EXPECT_EQ(events_of(first, "state")[0]["args"]["size"], 4096);
    EXPECT_EQ(events_of(second, "state")[0]["args"]["size"], 8192);
    EXPECT_EQ(events_of(second, "state")[1]["name"], "free");
}

}  // namespace
}  // namespace kmt

// SPDX-License-Identifier: MIT
// Unit tests of layer/trace.[ch]: the trace file is valid Chrome trace-event
// JSON, bounded, oldest events dropped first and counted.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <vulkan/vulkan_core.h>

#include "trace.h"

namespace {

using nlohmann::json;

class TempDir {
  public:
    TempDir()
    {
        char tmpl[] = "/tmp/kmt_trace_test.XXXXXX";
        const char* made = mkdtemp(tmpl);
        path_ = made ? made : "";
    }
    ~TempDir()
    {
        if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
    }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

json Load(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str()); // throws on invalid JSON: the test fails
}

off_t FileSize(const std::string& path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

void Instant(kmt_trace* t, uint64_t index, const char* name = "offer")
{
    kmt_trace_event e;
    kmt_trace_event_begin(&e, name, "state", 'i', 1000 * (index + 1), 42, 7);
    kmt_trace_arg_u64(&e, "index", index);
    kmt_trace_arg_handle(&e, "memory", 0x1000 + index);
    kmt_trace_arg_str(&e, "padding", "................................................................");
    kmt_trace_event_end(t, &e);
}

TEST(Trace, FileIsValidTraceEventJsonWithMetadataEventsAndAFinalCount)
{
    TempDir dir;
    const std::string path = dir.file("t.json");
    kmt_trace* t = kmt_trace_create(path.c_str(), 1 << 20, 42, nullptr);
    ASSERT_NE(t, nullptr);
    kmt_trace_event e;
    kmt_trace_event_begin(&e, "process_name", "__metadata", 'M', 0, 42, 0);
    kmt_trace_arg_str(&e, "name", "a device");
    kmt_trace_metadata_end(t, &e);
    for (uint64_t i = 0; i < 3; ++i) Instant(t, i);
    kmt_trace_event_begin(&e, "vkOfferAllocationsKMT", "call", 'X', 5500, 42, 7);
    kmt_trace_event_duration(&e, 1250);
    kmt_trace_arg_raw(&e, "first", "[\"0x1\",\"0x2\"]");
    kmt_trace_event_end(t, &e);
    ASSERT_TRUE(kmt_trace_write(t));

    json doc = Load(path);
    ASSERT_TRUE(doc["traceEvents"].is_array());
    const json& ev = doc["traceEvents"];
    ASSERT_EQ(ev.size(), 6u) << doc.dump(1);
    EXPECT_EQ(ev[0]["ph"], "M");
    EXPECT_EQ(ev[0]["args"]["name"], "a device");
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(ev[1 + i]["name"], "offer");
        EXPECT_EQ(ev[1 + i]["ph"], "i");
        EXPECT_EQ(ev[1 + i]["s"], "t");
        EXPECT_EQ(ev[1 + i]["pid"], 42);
        EXPECT_EQ(ev[1 + i]["tid"], 7);
        EXPECT_EQ(ev[1 + i]["args"]["index"], i);
        EXPECT_DOUBLE_EQ(ev[1 + i]["ts"].get<double>(), 1.0 * (i + 1));  // ns -> us
    }
    EXPECT_EQ(ev[1]["args"]["memory"], "0x1000");
    EXPECT_EQ(ev[4]["ph"], "X");
    EXPECT_DOUBLE_EQ(ev[4]["ts"].get<double>(), 5.5);
    EXPECT_DOUBLE_EQ(ev[4]["dur"].get<double>(), 1.25);
    EXPECT_EQ(ev[4]["args"]["first"], json::array({"0x1", "0x2"}));
    EXPECT_EQ(ev[5]["name"], "trace end");
    EXPECT_EQ(ev[5]["args"]["events"], 4);
    EXPECT_EQ(ev[5]["args"]["dropped_events"], 0);
    kmt_trace_destroy(t);
    EXPECT_EQ(Load(path)["traceEvents"].size(), 6u) << "destroy writes it once more";
    EXPECT_EQ(FileSize(path + ".tmp"), -1) << "the temporary file is renamed over the trace";
}

TEST(Trace, StringsAreEscaped)
{
    TempDir dir;
    const std::string path = dir.file("t.json");
    kmt_trace* t = kmt_trace_create(path.c_str(), 1 << 20, 1, nullptr);
    ASSERT_NE(t, nullptr);
    const std::string nasty = "quote\" backslash\\ newline\n tab\t bell\x07 caf\xc3\xa9";
    kmt_trace_event e;
    kmt_trace_event_begin(&e, nasty.c_str(), "state", 'i', 1, 1, 1);
    kmt_trace_arg_str(&e, "name", nasty.c_str());
    kmt_trace_event_end(t, &e);
    kmt_trace_destroy(t);
    json doc = Load(path);
    EXPECT_EQ(doc["traceEvents"][0]["name"], nasty);
    EXPECT_EQ(doc["traceEvents"][0]["args"]["name"], nasty);
}

TEST(Trace, AnEventTooLargeToFormatIsLeftOutAndTheFileStaysValid)
{
    TempDir dir;
    const std::string path = dir.file("t.json");
    kmt_trace* t = kmt_trace_create(path.c_str(), 1 << 20, 1, nullptr);
    ASSERT_NE(t, nullptr);
    const std::string huge(KMT_TRACE_EVENT_MAX, 'x');
    kmt_trace_event e;
    kmt_trace_event_begin(&e, "big", "state", 'i', 1, 1, 1);
    kmt_trace_arg_str(&e, "name", huge.c_str());
    EXPECT_TRUE(e.overflow);
    kmt_trace_event_end(t, &e);
    Instant(t, 0);
    kmt_trace_destroy(t);
    json doc = Load(path);
    ASSERT_EQ(doc["traceEvents"].size(), 2u);
    EXPECT_EQ(doc["traceEvents"][0]["name"], "offer");
}

TEST(Trace, MaxBytesBoundsTheFileAndTheOldestEventsAreDroppedFirstAndCounted)
{
    TempDir dir;
    const std::string path = dir.file("t.json");
    const uint64_t limit = 256 * 1024;
    kmt_trace* t = kmt_trace_create(path.c_str(), limit, 1, nullptr);
    ASSERT_NE(t, nullptr);
    const uint64_t n = 20000;  // ~200 bytes each: ~4 MB offered to a 256 KiB trace
    for (uint64_t i = 0; i < n; ++i) Instant(t, i);
    kmt_trace_stats st = kmt_trace_get_stats(t);
    EXPECT_EQ(st.events, n);
    EXPECT_GT(st.dropped_events, 0u);
    EXPECT_LE(st.kept_bytes, limit);
    ASSERT_TRUE(kmt_trace_write(t));
    EXPECT_LE(FileSize(path), static_cast<off_t>(limit));
    EXPECT_GT(FileSize(path), static_cast<off_t>(limit / 2)) << "most of the budget is used";

    json doc = Load(path);
    const json& ev = doc["traceEvents"];
    const json& end = ev.back();
    EXPECT_EQ(end["name"], "trace end");
    EXPECT_EQ(end["args"]["events"], n);
    EXPECT_EQ(end["args"]["dropped_events"], st.dropped_events);
    EXPECT_EQ(end["args"]["max_bytes"], limit);
    // What is kept is the newest events, in order, with nothing missing between.
    ASSERT_EQ(ev.size() - 1, n - st.dropped_events);
    for (size_t k = 0; k + 1 < ev.size(); ++k) ASSERT_EQ(ev[k]["args"]["index"], st.dropped_events + k) << k;
    kmt_trace_destroy(t);
}

TEST(Trace, TwoLiveTracesOnOnePathWriteTwoFiles)
{
    TempDir dir;
    const std::string path = dir.file("t.json");
    kmt_trace* a = kmt_trace_create(path.c_str(), 1 << 20, 1, nullptr);
    kmt_trace* b = kmt_trace_create(path.c_str(), 1 << 20, 1, nullptr);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(std::string(kmt_trace_path(a)), path);
    EXPECT_EQ(std::string(kmt_trace_path(b)), dir.file("t.2.json"));
    Instant(a, 1);
    Instant(b, 2);
    kmt_trace_destroy(a);
    kmt_trace_destroy(b);
    EXPECT_EQ(Load(path)["traceEvents"][0]["args"]["index"], 1);
    EXPECT_EQ(Load(dir.file("t.2.json"))["traceEvents"][0]["args"]["index"], 2);
    // Once the first is gone its path is free again.
    kmt_trace* c = kmt_trace_create(path.c_str(), 1 << 20, 1, nullptr);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(std::string(kmt_trace_path(c)), path);
    kmt_trace_destroy(c);
}

// Counts what goes through the app's allocation callbacks; fails every
// allocation once `budget` of them were made.
struct CountingAllocator {
    int live = 0, made = 0, budget = 1 << 30;
    static void* Alloc(void* self, size_t size, size_t align, VkSystemAllocationScope)
    {
        auto* c = static_cast<CountingAllocator*>(self);
        if (c->made >= c->budget) return nullptr;
        void* p = nullptr;
        if (posix_memalign(&p, align < sizeof(void*) ? sizeof(void*) : align, size) != 0) return nullptr;
        c->made++;
        c->live++;
        return p;
    }
    static void Free(void* self, void* p)
    {
        if (!p) return;
        static_cast<CountingAllocator*>(self)->live--;
        std::free(p);
    }
    VkAllocationCallbacks callbacks()
    {
        VkAllocationCallbacks cb{};
        cb.pUserData = this;
        cb.pfnAllocation = Alloc;
        cb.pfnFree = Free;
        return cb;
    }
};

TEST(Trace, MemoryComesFromTheAppsCallbacksAndAllOfItGoesBack)
{
    TempDir dir;
    const std::string path = dir.file("t.json");
    CountingAllocator counter;
    VkAllocationCallbacks cb = counter.callbacks();
    kmt_trace* t = kmt_trace_create(path.c_str(), 256 * 1024, 1, &cb);
    ASSERT_NE(t, nullptr);
    for (uint64_t i = 0; i < 5000; ++i) Instant(t, i);
    EXPECT_GT(counter.made, 4) << "chunks come from the callbacks";
    kmt_trace_destroy(t);
    EXPECT_EQ(counter.live, 0);
}

TEST(Trace, OutOfHostMemoryDropsEventsCountsThemAndTheFileStaysValid)
{
    TempDir dir;
    const std::string path = dir.file("t.json");
    CountingAllocator counter;
    VkAllocationCallbacks cb = counter.callbacks();
    kmt_trace* t = kmt_trace_create(path.c_str(), 1 << 20, 1, &cb);
    ASSERT_NE(t, nullptr);
    Instant(t, 0);  // the first chunk
    counter.budget = counter.made;  // nothing more
    for (uint64_t i = 1; i < 2000; ++i) Instant(t, i);
    kmt_trace_stats st = kmt_trace_get_stats(t);
    EXPECT_EQ(st.events, 2000u);
    EXPECT_GT(st.dropped_events, 0u) << "the first chunk fills up; no second one";
    kmt_trace_destroy(t);  // the file needs a temporary path: refused too, the last write is lost
    EXPECT_EQ(counter.live, 0);
    counter.budget = 1 << 30;
    t = kmt_trace_create(path.c_str(), 1 << 20, 1, &cb);
    ASSERT_NE(t, nullptr);
    Instant(t, 0);
    counter.budget = counter.made;
    for (uint64_t i = 1; i < 2000; ++i) Instant(t, i);
    counter.budget = 1 << 30;  // writing works again
    ASSERT_TRUE(kmt_trace_write(t));
    json doc = Load(path);
    EXPECT_EQ(doc["traceEvents"].back()["args"]["dropped_events"], kmt_trace_get_stats(t).dropped_events);
    EXPECT_EQ(doc["traceEvents"].size() - 1, 2000u - kmt_trace_get_stats(t).dropped_events);
    kmt_trace_destroy(t);
    EXPECT_EQ(counter.live, 0);
}

TEST(Trace, AnUnwritablePathIsReported)
{
    kmt_trace* t = kmt_trace_create("/nonexistent-dir/t.json", 1 << 20, 1, nullptr);
    ASSERT_NE(t, nullptr);
    EXPECT_FALSE(kmt_trace_write(t));
    kmt_trace_destroy(t);
}

}  // namespace

// SPDX-License-Identifier: MIT
// Unit tests of VK_KMT_residency's pure-C core (layer/residency.h,
// layer/segments.h, layer/notify.h): counts and EVICTED, validation,
// priorities, the budget check, the segment model, the notification watch
// and the notifier's thread rules. No Vulkan loader involved.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "notify.h"
#include "offer.h"
#include "offer_internal.h"
#include "residency.h"
#include "segments.h"
#include "test_allocator.h"

namespace {

constexpr VkDeviceSize MiB = 1 << 20;

struct Call {
    uint64_t driver;
    float priority;
};

// A tracker with residency on: pageable memory, one device-local heap (0)
// and one host heap (1); memory type i lives in heap i.
class ResidencyCore : public ::testing::Test {
  protected:
    void SetUp() override { Init(true); }
    void TearDown() override
    {
        kmt_tracker_finish(&t);
        EXPECT_EQ(allocator.live(), 0u) << "leaked host memory";
    }
    void Init(bool residency)
    {
        kmt_tracker_config config = {};
        config.pageable = true;
        config.salt = 0x1234;
        config.residency = residency;
        config.type_heap[0] = 0;
        config.type_heap[1] = 1;
        kmt_tracker_ops ops = {};
        ops.ctx = this;
        ops.set_priority = [](void* ctx, uint64_t driver, float priority) {
            static_cast<ResidencyCore*>(ctx)->calls.push_back({driver, priority});
        };
        ops.transition = [](void* ctx, const kmt_transition* c) {
            static_cast<ResidencyCore*>(ctx)->transitions.push_back(*c);
        };
        ASSERT_TRUE(kmt_tracker_init(&t, &config, &ops, allocator.callbacks()));
        VkMemoryHeap heaps[2] = {{64 * MiB, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT}, {64 * MiB, 0}};
        kmt_heap_report report = {2, heaps, nullptr, nullptr};
        kmt_segments_read(&segments, budget_mb, &report, 0);
    }
    uint64_t Track(uint64_t driver, VkDeviceSize size = MiB, uint32_t type = 0, float priority = 0.5f)
    {
        uint64_t h = kmt_track_memory(&t, driver, size, type, 0, priority);
        EXPECT_NE(h, 0u);
        return h;
    }
    kmt_error MakeResident(std::vector<uint64_t> handles, uint32_t flags = 0, std::vector<uint32_t> priorities = {},
                           kmt_residency_outcome* out = nullptr)
    {
        std::vector<VkDeviceMemory> m(handles.size());
        for (size_t i = 0; i < handles.size(); i++) m[i] = reinterpret_cast<VkDeviceMemory>(handles[i]);
        kmt_residency_args args = {uint32_t(m.size()), m.data(), priorities.empty() ? nullptr : priorities.data(),
                                   flags};
        kmt_residency_outcome local;
        error = {};
        return kmt_make_resident(&t, &args, &segments, &error, out ? out : &local);
    }
    kmt_error Evict(std::vector<uint64_t> handles, kmt_residency_outcome* out = nullptr)
    {
        std::vector<VkDeviceMemory> m(handles.size());
        for (size_t i = 0; i < handles.size(); i++) m[i] = reinterpret_cast<VkDeviceMemory>(handles[i]);
        kmt_residency_args args = {uint32_t(m.size()), m.data(), nullptr, 0};
        kmt_residency_outcome local;
        error = {};
        return kmt_evict(&t, &args, &segments, &error, out ? out : &local);
    }
    VkAllocationResidencyKMT Residency(uint64_t h)
    {
        uint32_t index = 0;
        EXPECT_NE(kmt_find_memory(&t, h, &index), nullptr);
        VkAllocationResidencyKMT r = {};
        kmt_fill_residency(&t, index, &r);
        return r;
    }
    uint8_t Status(uint64_t h) { return kmt_find_memory(&t, h, nullptr)->status; }

    TestAllocator allocator;
    kmt_tracker t;
    kmt_segments segments = {};
    uint64_t budget_mb = 0;
    kmt_error_info error = {};
    std::vector<Call> calls;
    std::vector<kmt_transition> transitions;
};

TEST(ResidencyRecords, TheHotRecordDoesNotGrow)
{
    static_assert(sizeof(kmt_memory) == 32, "the offer/reclaim hot record stays 32 bytes");
    static_assert(sizeof(kmt_memory_cold) == 24, "the cold record stays 24 bytes");
    static_assert(sizeof(kmt_residency) == 8, "residency state: 8 bytes in a side array");
}

TEST_F(ResidencyCore, ADeviceWithoutResidencyPaysOnlyANullPointer)
{
    kmt_tracker_finish(&t);
    Init(false);
    EXPECT_EQ(t.residency, nullptr);
    EXPECT_FALSE(t.config.accounting) << "no residency: no forced accounting either";
    for (int i = 0; i < 3000; i++) Track(i + 1);
    const size_t without = allocator.live();
    kmt_tracker_finish(&t);
    Init(true);
    for (int i = 0; i < 3000; i++) Track(i + 1);
    EXPECT_GT(allocator.live(), without) << "the side array exists only with residency";
}

TEST_F(ResidencyCore, TheSideArrayCoversEverySlotAcrossChunks)
{
    ASSERT_NE(t.residency, nullptr);
    EXPECT_TRUE(t.config.accounting) << "residency implies heap accounting";
    std::vector<uint64_t> h;
    for (uint32_t i = 0; i < 2 * KMT_SLOT_CHUNK + 5; i++) h.push_back(Track(i + 1, 4096));
    EXPECT_GE(t.residency->chunk_count, 3u);
    EXPECT_EQ(MakeResident({h.back(), h[KMT_SLOT_CHUNK]}), KMT_OK);
    EXPECT_EQ(Residency(h.back()).residencyCount, 2u);
    EXPECT_EQ(Residency(h[KMT_SLOT_CHUNK]).residencyCount, 2u);
    EXPECT_EQ(Residency(h[0]).residencyCount, 1u);
}

TEST_F(ResidencyCore, OutOfHostMemoryWhileTrackingFailsTheAllocationCleanly)
{
    for (uint32_t i = 0; i < KMT_SLOT_CHUNK; i++) Track(i + 1, 4096);
    // The next slot needs a new slot chunk and a new side-array chunk (and
    // directories): fail each allocation in turn until one goes through.
    uint64_t h = 0;
    for (long k = 0; k < 16 && !h; k++) {
        allocator.FailAfter(k);
        h = kmt_track_memory(&t, 0x9999, 4096, 0, 0, 0.5f);
        allocator.Succeed();
        if (!h) {
            EXPECT_EQ(kmt_heap_usage(&t, 0), KMT_SLOT_CHUNK * 4096u) << "nothing tracked after failure " << k;
            EXPECT_EQ(kmt_slots_live(&t.slots), uint32_t(KMT_SLOT_CHUNK));
        }
    }
    ASSERT_NE(h, 0u);
    EXPECT_GT(allocator.failures(), 1u) << "more than one failure point was exercised";
    EXPECT_EQ(Residency(h).residencyCount, 1u);
    EXPECT_EQ(MakeResident({h}), KMT_OK);
}

TEST_F(ResidencyCore, EvictAtZeroDemotesAndLeavesTheUsageMakeResidentRestores)
{
    uint64_t a = Track(0xa, MiB, 0, 0.8f);
    EXPECT_EQ(kmt_heap_usage(&t, 0), MiB);
    ASSERT_EQ(MakeResident({a}), KMT_OK);
    ASSERT_EQ(Evict({a}), KMT_OK);
    EXPECT_EQ(Status(a), VK_ALLOCATION_STATUS_RESIDENT_KMT) << "count 2 -> 1";
    EXPECT_TRUE(calls.empty());
    kmt_residency_outcome out;
    ASSERT_EQ(Evict({a}, &out), KMT_OK);
    EXPECT_EQ(out.evicted, 1u);
    EXPECT_EQ(Status(a), VK_ALLOCATION_STATUS_EVICTED_KMT);
    EXPECT_EQ(kmt_heap_usage(&t, 0), 0u);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].priority, 0.0f);
    ASSERT_EQ(MakeResident({a}, 0, {}, &out), KMT_OK);
    EXPECT_EQ(out.became_resident, 1u);
    EXPECT_EQ(kmt_heap_usage(&t, 0), MiB);
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[1].priority, 0.8f) << "the app's own priority";
    ASSERT_EQ(transitions.size(), 2u);
    EXPECT_EQ(transitions[0].reason, KMT_REASON_EVICT);
    EXPECT_EQ(transitions[0].to, VK_ALLOCATION_STATUS_EVICTED_KMT);
    EXPECT_EQ(transitions[1].reason, KMT_REASON_MAKE_RESIDENT);
    EXPECT_EQ(transitions[1].from, VK_ALLOCATION_STATUS_EVICTED_KMT);
}

TEST_F(ResidencyCore, FreeingEvictedMemoryDoesNotCountItsBytesTwice)
{
    uint64_t a = Track(0xa), b = Track(0xb);
    ASSERT_EQ(Evict({a}), KMT_OK);
    uint64_t driver = 0;
    ASSERT_TRUE(kmt_untrack_memory(&t, a, &driver));
    EXPECT_EQ(kmt_heap_usage(&t, 0), MiB);
    (void)b;
}

TEST_F(ResidencyCore, ValidationIsAllOrNothingAndNamesTheFirstOffender)
{
    uint64_t a = Track(0xa), b = Track(0xb), c = Track(0xc);
    ASSERT_EQ(Evict({b}), KMT_OK);
    calls.clear();
    EXPECT_EQ(Evict({a, c, b}), KMT_ERROR_EVICT_UNDERFLOW);
    EXPECT_EQ(error.index, 2u);
    EXPECT_EQ(error.handle, b);
    EXPECT_EQ(Status(a), VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(Residency(a).residencyCount, 1u);
    EXPECT_EQ(MakeResident({b, a, b}), KMT_ERROR_DUPLICATE);
    EXPECT_EQ(error.index, 2u);
    EXPECT_EQ(MakeResident({b, 0xdead}), KMT_ERROR_UNKNOWN_MEMORY);
    EXPECT_EQ(error.index, 1u);
    EXPECT_EQ(Status(b), VK_ALLOCATION_STATUS_EVICTED_KMT);
    EXPECT_EQ(MakeResident({}), KMT_ERROR_COUNT_ZERO);
    EXPECT_EQ(MakeResident({a}, 0x4), KMT_ERROR_RESIDENCY_FLAGS);
    EXPECT_EQ(MakeResident({a}, VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT), KMT_ERROR_MUST_SUCCEED);
    EXPECT_TRUE(calls.empty());
    EXPECT_TRUE(transitions.size() == 1u) << "only the first, valid eviction";
    EXPECT_EQ(t.counters.rejected_calls, 6u);
}

TEST_F(ResidencyCore, OfferAndResidencyDoNotMixOnOneAllocation)
{
    uint64_t a = Track(0xa), b = Track(0xb);
    ASSERT_EQ(Evict({b}), KMT_OK);
    VkDeviceMemory list[] = {reinterpret_cast<VkDeviceMemory>(a), reinterpret_cast<VkDeviceMemory>(b)};
    kmt_handle_list offer = {2, list, nullptr};
    EXPECT_EQ(kmt_offer(&t, &offer, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT, 0, &error, nullptr),
              KMT_ERROR_OFFER_EVICTED);
    EXPECT_EQ(error.index, 1u);
    EXPECT_EQ(Status(a), VK_ALLOCATION_STATUS_RESIDENT_KMT) << "all or nothing";
    kmt_handle_list reclaim = {1, &list[1], nullptr};
    uint64_t fence = 0;
    EXPECT_EQ(kmt_reclaim(&t, &reclaim, nullptr, nullptr, 0, false, &error, &fence), KMT_ERROR_OFFER_EVICTED);

    kmt_handle_list only_a = {1, &list[0], nullptr};
    ASSERT_EQ(kmt_offer(&t, &only_a, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT, 0, &error, nullptr),
              KMT_OK);
    EXPECT_EQ(MakeResident({a}), KMT_ERROR_RESIDENCY_OFFERED);
    EXPECT_EQ(error.other, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(Evict({a}), KMT_ERROR_RESIDENCY_OFFERED);
    ASSERT_EQ(kmt_reclaim(&t, &only_a, nullptr, nullptr, 0, false, &error, &fence), KMT_OK);
    EXPECT_EQ(Evict({a}), KMT_OK);
}

TEST_F(ResidencyCore, ReclaimRestoresTheResidencyPriorityOnceOneIsSet)
{
    uint64_t a = Track(0xa, MiB, 0, 0.3f);
    VkDeviceMemory m = reinterpret_cast<VkDeviceMemory>(a);
    uint32_t high = VK_RESIDENCY_PRIORITY_HIGH_KMT;
    kmt_residency_args args = {1, &m, &high, 0};
    ASSERT_EQ(kmt_set_residency_priority(&t, &args, &error), KMT_OK);
    kmt_handle_list list = {1, &m, nullptr};
    ASSERT_EQ(kmt_offer(&t, &list, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT, 0, &error, nullptr), KMT_OK);
    uint64_t fence = 0;
    ASSERT_EQ(kmt_reclaim(&t, &list, nullptr, nullptr, 0, false, &error, &fence), KMT_OK);
    ASSERT_EQ(calls.size(), 3u);  // HIGH, offered, back
    EXPECT_FLOAT_EQ(calls[0].priority, 0.7f);
    EXPECT_FLOAT_EQ(calls[2].priority, 0.7f) << "reclaim gives back the residency priority, not the app's";
    // The app's own priority set later wins, and clears the residency priority.
    EXPECT_EQ(kmt_set_app_priority(&t, a, 0.4f), 0xau);
    EXPECT_EQ(Residency(a).residencyPriority, 0u);
}

TEST_F(ResidencyCore, TheBudgetCheckRefusesOverBudgetUnlessMustSucceed)
{
    kmt_tracker_finish(&t);
    budget_mb = 2;
    Init(true);
    uint64_t a = Track(0xa), b = Track(0xb), c = Track(0xc), host = Track(0xd, MiB, 1);
    EXPECT_EQ(kmt_segment_usage(&segments, &t, 0), 3 * MiB);
    EXPECT_EQ(kmt_segment_usage(&segments, &t, 1), MiB);
    kmt_residency_outcome out;
    ASSERT_EQ(Evict({a, b}, &out), KMT_OK);
    EXPECT_EQ(out.bytes_to_trim, 0u);
    ASSERT_EQ(MakeResident({a, host}, 0, {}, &out), KMT_OK);
    EXPECT_FALSE(out.over_budget);
    ASSERT_EQ(MakeResident({b}, 0, {}, &out), KMT_OK);
    EXPECT_TRUE(out.over_budget);
    EXPECT_EQ(out.bytes_to_trim, MiB);
    EXPECT_EQ(Status(b), VK_ALLOCATION_STATUS_EVICTED_KMT) << "nothing changed";
    ASSERT_EQ(MakeResident({b}, VK_MAKE_RESIDENT_CANT_TRIM_FURTHER_BIT_KMT | VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT, {},
                           &out),
              KMT_OK);
    EXPECT_FALSE(out.over_budget);
    EXPECT_EQ(out.bytes_to_trim, MiB) << "now 1 MiB over";
    ASSERT_EQ(Evict({c}, &out), KMT_OK);
    EXPECT_EQ(out.bytes_to_trim, 0u);
}

// ---- priorities --------------------------------------------------------------------------------

TEST(ResidencyPriorities, BandsLandWhereTheContractSaysAndTheMappingIsMonotonic)
{
    EXPECT_FLOAT_EQ(kmt_residency_driver_priority(VK_RESIDENCY_PRIORITY_NORMAL_KMT), 0.5f);
    EXPECT_FLOAT_EQ(kmt_residency_driver_priority(VK_RESIDENCY_PRIORITY_HIGH_KMT), 0.7f);
    EXPECT_FLOAT_EQ(kmt_residency_driver_priority(VK_RESIDENCY_PRIORITY_MAXIMUM_KMT), 1.0f);
    EXPECT_FLOAT_EQ(kmt_residency_driver_priority(VK_RESIDENCY_PRIORITY_LOW_KMT), 0.25f);
    const float minimum = kmt_residency_driver_priority(VK_RESIDENCY_PRIORITY_MINIMUM_KMT);
    EXPECT_GT(minimum, 0.0f);
    EXPECT_LT(minimum, 0.05f);
    EXPECT_GT(kmt_residency_driver_priority(0), 0.0f);
    EXPECT_FLOAT_EQ(kmt_residency_driver_priority(0xffffffffu), 1.0f);
    float previous = 0.0f;
    for (uint64_t p = 0; p <= 0xffffffffull; p += 0x00100003ull) {
        const float v = kmt_residency_driver_priority(uint32_t(p));
        EXPECT_GE(v, previous) << std::hex << p;
        EXPECT_GT(v, 0.0f);
        EXPECT_LE(v, 1.0f);
        previous = v;
    }
    EXPECT_LT(kmt_residency_driver_priority(VK_RESIDENCY_PRIORITY_HIGH_KMT),
              kmt_residency_driver_priority(VK_RESIDENCY_PRIORITY_HIGH_KMT + 0xffff))
        << "the low 16 bits order within a band";
}

// ---- segments and the notification watch ------------------------------------------------------

TEST(Segments, BudgetsComeFromTheSettingTheDriverOrEightyPercent)
{
    VkMemoryHeap heaps[3] = {{100 * MiB, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT}, {50 * MiB, 0},
                             {10 * MiB, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT}};
    VkDeviceSize budget[3] = {60 * MiB, 20 * MiB, 5 * MiB}, usage[3] = {7, 8, 9};
    kmt_segments s = {};
    kmt_heap_report driver = {3, heaps, budget, usage};
    kmt_segments_read(&s, 0, &driver, 1);
    EXPECT_TRUE(s.driver_budget);
    EXPECT_EQ(kmt_segment_budget(&s, 0), 65 * MiB);
    EXPECT_EQ(kmt_segment_budget(&s, 1), 20 * MiB);
    EXPECT_EQ(kmt_segment_usage(&s, nullptr, 0), 16u) << "the driver's usage";
    kmt_segments_read(&s, 4, &driver, 2);
    EXPECT_FALSE(s.driver_budget) << "BUDGET_MB overrides the driver";
    EXPECT_EQ(kmt_segment_budget(&s, 0), 8 * MiB);
    kmt_heap_report none = {3, heaps, nullptr, nullptr};
    kmt_segments_read(&s, 0, &none, 3);
    EXPECT_EQ(kmt_segment_budget(&s, 0), 80 * MiB + 8 * MiB);
    s.reservation[0] = 1000 * MiB;
    EXPECT_EQ(kmt_segment_reservation(&s, 0), 88 * MiB) << "capped at the budget";
}

TEST(BudgetWatch, ABudgetChangeIsNewsWhenItMovesMoreThanOneSixtyFourth)
{
    kmt_segment_sample now[2] = {{6400, 0}, {0, 0}};
    kmt_budget_watch w;
    kmt_budget_watch_init(&w, now);
    VkDeviceSize trim = 99;
    kmt_segment_sample s = {6400, 10};
    EXPECT_FALSE(kmt_budget_watch_step(&w, 0, &s, &trim)) << "nothing moved";
    s.budget = 6500;  // 100 = 1/64 exactly: not more
    EXPECT_FALSE(kmt_budget_watch_step(&w, 0, &s, &trim));
    s.budget = 6501;
    EXPECT_TRUE(kmt_budget_watch_step(&w, 0, &s, &trim));
    EXPECT_EQ(trim, 0u);
    EXPECT_FALSE(kmt_budget_watch_step(&w, 0, &s, &trim)) << "once";
    s.budget = 6501 - 6501 / 64 + 1;  // a drift smaller than 1/64 of the budget last heard of
    EXPECT_FALSE(kmt_budget_watch_step(&w, 0, &s, &trim));
    kmt_segment_sample empty = {0, 0};
    EXPECT_FALSE(kmt_budget_watch_step(&w, 1, &empty, &trim)) << "a group without heaps is never news";
    kmt_segment_sample appears = {1, 0};
    EXPECT_TRUE(kmt_budget_watch_step(&w, 1, &appears, &trim)) << "any change from 0";
}

TEST(BudgetWatch, OverBudgetIsNewsOnlyWhileGrowingAndAgainAfterAnEpisodeEnds)
{
    kmt_segment_sample now[2] = {{100, 120}, {0, 0}};
    kmt_budget_watch w;
    kmt_budget_watch_init(&w, now);
    VkDeviceSize trim = 0;
    kmt_segment_sample s = {100, 120};
    EXPECT_TRUE(kmt_budget_watch_step(&w, 0, &s, &trim)) << "over budget at registration: news at the first poll";
    EXPECT_EQ(trim, 20u);
    EXPECT_FALSE(kmt_budget_watch_step(&w, 0, &s, &trim));
    s.usage = 110;
    EXPECT_FALSE(kmt_budget_watch_step(&w, 0, &s, &trim)) << "shrinking";
    s.usage = 119;
    EXPECT_FALSE(kmt_budget_watch_step(&w, 0, &s, &trim)) << "not above the last notified usage";
    s.usage = 125;
    EXPECT_TRUE(kmt_budget_watch_step(&w, 0, &s, &trim));
    EXPECT_EQ(trim, 25u);
    s.usage = 90;
    EXPECT_FALSE(kmt_budget_watch_step(&w, 0, &s, &trim)) << "under budget";
    s.usage = 101;
    EXPECT_TRUE(kmt_budget_watch_step(&w, 0, &s, &trim)) << "a new episode";
    EXPECT_EQ(trim, 1u);
}

// ---- the notifier ----------------------------------------------------------------------------------

struct FakeSegments {
    std::mutex lock;
    kmt_segment_sample samples[2] = {{1000, 0}, {0, 0}};
    std::atomic<int> sampled{0};
    static void sample(void* ctx, kmt_segment_sample out[2])
    {
        auto* self = static_cast<FakeSegments*>(ctx);
        std::lock_guard<std::mutex> guard(self->lock);
        out[0] = self->samples[0];
        out[1] = self->samples[1];
        self->sampled++;
    }
    void set_budget(VkDeviceSize b)
    {
        std::lock_guard<std::mutex> guard(lock);
        samples[0].budget = b;
    }
};

struct Counter {
    std::atomic<int> calls{0};
    std::atomic<VkDeviceSize> last_budget{0};
    static void VKAPI_PTR callback(const VkBudgetNotificationKMT* n, void* user)
    {
        auto* self = static_cast<Counter*>(user);
        self->last_budget = n->budget;
        self->calls++;
    }
};

bool
eventually(const std::function<bool()>& f)
{
    for (int i = 0; i < 3000; i++) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return f();
}

TEST(NotifierThread, RunsOnlyWhileRegisteredAndDeliversEachChangeOnce)
{
    FakeSegments fake;
    kmt_notifier n;
    ASSERT_TRUE(kmt_notifier_init(&n, 2, &FakeSegments::sample, &fake, nullptr));
    EXPECT_FALSE(kmt_notifier_thread_alive(&n));
    Counter counter;
    uint64_t cookie = 0;
    ASSERT_EQ(kmt_notifier_register(&n, &Counter::callback, &counter, fake.samples, &cookie), VK_SUCCESS);
    EXPECT_NE(cookie, 0u);
    EXPECT_TRUE(kmt_notifier_thread_alive(&n));
    ASSERT_TRUE(eventually([&] { return fake.sampled.load() >= 3; }));
    EXPECT_EQ(counter.calls.load(), 0);
    fake.set_budget(500);
    ASSERT_TRUE(eventually([&] { return counter.calls.load() == 1; }));
    const int polls = fake.sampled.load();
    ASSERT_TRUE(eventually([&] { return fake.sampled.load() >= polls + 5; }));
    EXPECT_EQ(counter.calls.load(), 1);
    EXPECT_EQ(counter.last_budget.load(), 500u);
    EXPECT_TRUE(kmt_notifier_unregister(&n, cookie));
    EXPECT_FALSE(kmt_notifier_thread_alive(&n));
    EXPECT_FALSE(kmt_notifier_unregister(&n, cookie)) << "unknown cookie";
    kmt_notifier_finish(&n);
}

struct Blocking {
    std::atomic<bool> inside{false};
    std::atomic<bool> release{false};
    std::atomic<int> calls{0};
    FakeSegments* fake = nullptr;
    static void VKAPI_PTR callback(const VkBudgetNotificationKMT* n, void* user)
    {
        auto* self = static_cast<Blocking*>(user);
        self->calls++;
        self->inside = true;
        self->fake->set_budget(n->budget == 500 ? 1000 : 500);  // the next poll is news again
        while (!self->release) std::this_thread::sleep_for(std::chrono::microseconds(100));
        self->inside = false;
    }
};

TEST(NotifierThread, UnregisterWaitsForTheCallbackInProgressThenItIsNeverCalledAgain)
{
    FakeSegments fake;
    kmt_notifier n;
    ASSERT_TRUE(kmt_notifier_init(&n, 1, &FakeSegments::sample, &fake, nullptr));
    Blocking b;
    b.fake = &fake;
    uint64_t cookie = 0;
    ASSERT_EQ(kmt_notifier_register(&n, &Blocking::callback, &b, fake.samples, &cookie), VK_SUCCESS);
    fake.set_budget(500);
    ASSERT_TRUE(eventually([&] { return b.inside.load(); }));
    std::atomic<bool> returned{false};
    std::thread unregistering([&] {
        kmt_notifier_unregister(&n, cookie);
        returned = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(returned.load()) << "returned while the callback still ran";
    b.release = true;
    unregistering.join();
    EXPECT_FALSE(b.inside.load());
    const int calls = b.calls.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(b.calls.load(), calls);
    kmt_notifier_finish(&n);
}

}  // namespace

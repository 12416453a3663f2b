// SPDX-License-Identifier: MIT
// Regression tests from the model-based fuzzer (tests/fuzz/fuzz_offer.cpp).
//
// The fuzzer's long runs found no divergence of the core from the reference
// model; these pin down, as plain readable sequences, the paths it is the
// only other test of: host-allocation failure inside the core (every call is
// all-or-nothing, nothing leaks, argument errors are reported before it),
// the init / teardown pair after a failed init (what the glue does when
// vkCreateDevice fails), and first-offending-element cases. A divergence the
// fuzzer finds later is added here as the minimal event sequence it printed
// (KMT_FUZZ_TRACE=1).
//
// Allocations are named by small integers passed as the driver's handle; the
// fixture keeps the app's handle the tracker returned for each.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <vector>

#include "core_view.h"
#include "offer.h"
#include "policy.h"
#include "test_allocator.h"

namespace {

using kmt_test::OfferedTotal;

constexpr uint32_t LOW = VK_OFFER_PRIORITY_LOW_KMT;
constexpr uint32_t IMMEDIATELY = VK_OFFER_IMMEDIATELY_BIT_KMT;
constexpr uint8_t RESIDENT = VK_ALLOCATION_STATUS_RESIDENT_KMT;
constexpr uint8_t OFFERED = VK_ALLOCATION_STATUS_OFFERED_KMT;

VkDeviceMemory Mem(uint64_t h) { return reinterpret_cast<VkDeviceMemory>(static_cast<uintptr_t>(h)); }

class FuzzRegression : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(Init()); }
    void TearDown() override
    {
        alloc.Succeed();
        kmt_tracker_finish(&t);
        EXPECT_EQ(alloc.live(), 0u) << "the tracker leaked host memory";
        EXPECT_EQ(alloc.bad_frees(), 0u);
    }
    bool Init()
    {
        kmt_tracker_config config{};
        config.pageable = true;
        config.salt = 0x1234;
        return kmt_tracker_init(&t, &config, nullptr, alloc.callbacks());
    }
    uint64_t H(uint64_t name) const
    {
        auto it = names.find(name);
        return it == names.end() ? name : it->second;
    }
    void Track(uint64_t name, VkDeviceSize size = 4096)
    {
        uint64_t handle = kmt_track_memory(&t, name, size, 0, 0, 0.5f);
        ASSERT_NE(handle, 0u) << std::hex << name;
        names[name] = handle;
    }
    void Bind(uint32_t type, uint64_t resource, uint64_t name)
    {
        ASSERT_TRUE(kmt_reserve_bindings(&t, 1));
        kmt_track_binding(&t, type, resource, H(name));
    }
    kmt_error Offer(const std::vector<uint64_t> &hs, uint32_t priority = LOW)
    {
        mems.clear();
        for (uint64_t h : hs)
            mems.push_back(Mem(H(h)));
        kmt_handle_list list{static_cast<uint32_t>(mems.size()), mems.data(), nullptr};
        error = {};
        return kmt_offer(&t, &list, priority, IMMEDIATELY, 0, &error, nullptr);
    }
    kmt_error Reclaim(const std::vector<uint64_t> &hs)
    {
        mems.clear();
        for (uint64_t h : hs)
            mems.push_back(Mem(H(h)));
        kmt_handle_list list{static_cast<uint32_t>(mems.size()), mems.data(), nullptr};
        results.assign(hs.size(), static_cast<VkReclaimResultKMT>(0x7777));
        fence = 0xfeed;
        error = {};
        return kmt_reclaim(&t, &list, results.data(), nullptr, 0, false, &error, &fence);
    }
    kmt_memory *Find(uint64_t name) { return kmt_find_memory(&t, H(name), nullptr); }
    uint8_t Status(uint64_t name)
    {
        const kmt_memory *m = Find(name);
        return m ? m->status : 0xff;
    }
    uint32_t ResourceCount(uint64_t name)
    {
        uint32_t index = 0;
        if (!kmt_find_memory(&t, H(name), &index)) {
            ADD_FAILURE() << "memory " << name << " is not tracked";
            return UINT32_MAX;
        }
        return kmt_cold(&t.slots, index)->resource_count;
    }

    TestAllocator alloc;
    kmt_tracker t{};
    std::map<uint64_t, uint64_t> names; // name (the driver's handle) -> the app's handle
    std::vector<VkDeviceMemory> mems;
    std::vector<VkReclaimResultKMT> results;
    uint64_t fence = 0;
    kmt_error_info error{};
};

TEST_F(FuzzRegression, OfferOutOfHostMemoryChangesNothing)
{
    Track(0x1);
    Track(0x2);
    alloc.FailAll(); // the first offer needs the per-call scratch
    EXPECT_EQ(Offer({0x1, 0x2}), KMT_ERROR_OUT_OF_HOST_MEMORY);
    EXPECT_EQ(error.code, KMT_ERROR_OUT_OF_HOST_MEMORY);
    EXPECT_EQ(error.index, 0u);
    EXPECT_EQ(Status(0x1), RESIDENT);
    EXPECT_EQ(Status(0x2), RESIDENT);
    EXPECT_EQ(t.counters.offers, 0u);
    EXPECT_EQ(t.counters.rejected_calls, 1u);
    EXPECT_EQ(OfferedTotal(t.offered_count), 0u);
    alloc.Succeed();
    EXPECT_EQ(Offer({0x1, 0x2}), KMT_OK);
    EXPECT_EQ(Status(0x1), OFFERED);
}

// A deferred offer needs room in the pending ring before anything changes.
TEST_F(FuzzRegression, DeferredOfferOutOfHostMemoryChangesNothing)
{
    Track(0x1);
    Track(0x2);
    ASSERT_EQ(Offer({0x1}), KMT_OK); // the scratch exists now
    ASSERT_EQ(Reclaim({0x1}), KMT_OK);
    alloc.FailAll(); // the first deferred offer needs the ring
    VkDeviceMemory both[] = {Mem(H(0x1)), Mem(H(0x2))};
    kmt_handle_list list{2, both, nullptr};
    EXPECT_EQ(kmt_offer(&t, &list, LOW, 0, 5, &error, nullptr), KMT_ERROR_OUT_OF_HOST_MEMORY);
    EXPECT_EQ(Status(0x1), RESIDENT);
    EXPECT_EQ(Status(0x2), RESIDENT);
    EXPECT_EQ(t.pending_count, 0u);
    EXPECT_EQ(t.counters.offers, 1u);
    EXPECT_EQ(t.counters.rejected_calls, 1u);
    alloc.Succeed();
    EXPECT_EQ(kmt_offer(&t, &list, LOW, 0, 5, &error, nullptr), KMT_OK);
    EXPECT_EQ(kmt_promote_pending(&t, 5), 2u);
}

TEST_F(FuzzRegression, ArgumentErrorsAreReportedBeforeOutOfHostMemory)
{
    Track(0x1);
    alloc.FailAll();
    EXPECT_EQ(Offer({0x1}, 9), KMT_ERROR_PRIORITY) << "the arguments are checked before anything is allocated";
    EXPECT_EQ(Offer({}), KMT_ERROR_COUNT_ZERO);
    EXPECT_EQ(Reclaim({}), KMT_ERROR_COUNT_ZERO);
    EXPECT_EQ(alloc.failures(), 0u);
}

TEST_F(FuzzRegression, ReclaimOutOfHostMemoryWritesNothingAndChangesNothing)
{
    // Offers of up to 64 elements leave a 64-entry scratch; reclaiming 100
    // at once must grow it.
    std::vector<uint64_t> hs;
    for (uint64_t h = 1; h <= 100; h++) {
        Track(h);
        hs.push_back(h);
    }
    ASSERT_EQ(Offer(std::vector<uint64_t>(hs.begin(), hs.begin() + 50)), KMT_OK);
    ASSERT_EQ(Offer(std::vector<uint64_t>(hs.begin() + 50, hs.end())), KMT_OK);
    alloc.FailAll();
    EXPECT_EQ(Reclaim(hs), KMT_ERROR_OUT_OF_HOST_MEMORY);
    EXPECT_EQ(results, std::vector<VkReclaimResultKMT>(100, static_cast<VkReclaimResultKMT>(0x7777)));
    EXPECT_EQ(fence, 0xfeedu);
    for (uint64_t h : hs)
        EXPECT_EQ(Status(h), OFFERED) << h;
    EXPECT_EQ(t.counters.reclaims, 0u);
    alloc.Succeed();
    EXPECT_EQ(Reclaim(hs), KMT_OK);
    EXPECT_EQ(Status(100), RESIDENT);
}

// The handle table grows by chunks of KMT_SLOT_CHUNK slots (round 1: a hash
// table that doubled). A track that needs a new chunk fails cleanly; a freed
// slot is reused without any allocation.
TEST_F(FuzzRegression, TrackingFailsCleanlyWhenTheHandleTableCannotGrow)
{
    for (uint64_t h = 1; h <= KMT_SLOT_CHUNK; h++)
        Track(h);
    const VkDeviceSize usage = kmt_heap_usage(&t, 0);
    const uint64_t allocations = alloc.allocations();
    alloc.FailAll();
    EXPECT_EQ(kmt_track_memory(&t, 0x10000, 4096, 0, 0, 0.5f), 0u);
    EXPECT_EQ(kmt_test::LiveSlots(t.slots), KMT_SLOT_CHUNK);
    EXPECT_EQ(t.slots.capacity, KMT_SLOT_CHUNK);
    EXPECT_EQ(kmt_heap_usage(&t, 0), usage);
    // A freed slot is taken again without growing.
    uint64_t driver_memory = 0;
    ASSERT_TRUE(kmt_untrack_memory(&t, H(0x7), &driver_memory));
    EXPECT_EQ(driver_memory, 0x7u);
    const uint64_t again = kmt_track_memory(&t, 0x7, 8192, 0, 0, 0.5f);
    ASSERT_NE(again, 0u);
    EXPECT_NE(again, H(0x7)) << "a new generation";
    EXPECT_EQ(kmt_find_memory(&t, again, nullptr)->size, 8192u);
    EXPECT_EQ(kmt_heap_usage(&t, 0), usage + 4096);
    EXPECT_EQ(alloc.allocations(), allocations) << "nothing was allocated";
    alloc.Succeed();
    const uint64_t grown = kmt_track_memory(&t, 0x10000, 4096, 0, 0, 0.5f);
    ASSERT_NE(grown, 0u);
    EXPECT_EQ(t.slots.capacity, 2 * KMT_SLOT_CHUNK);
    for (uint64_t h = 1; h <= KMT_SLOT_CHUNK; h++) {
        if (h != 0x7) {
            ASSERT_NE(Find(h), nullptr) << h;
        }
    }
}

// Growth that must also replace the chunk directory (its first size is 4
// chunks) fails cleanly at every allocation it makes.
TEST_F(FuzzRegression, TrackingFailsCleanlyWhenTheChunkDirectoryCannotGrow)
{
    for (uint64_t h = 1; h <= 4 * KMT_SLOT_CHUNK; h++)
        Track(h);
    ASSERT_EQ(t.slots.directory_size, 4u);
    for (long n = 0; n < 3; n++) {
        alloc.FailAfter(n);
        EXPECT_EQ(kmt_track_memory(&t, 0x100000 + n, 4096, 0, 0, 0.5f), 0u) << "n=" << n;
        EXPECT_EQ(kmt_test::LiveSlots(t.slots), 4 * KMT_SLOT_CHUNK) << "n=" << n;
        EXPECT_EQ(t.slots.capacity, 4 * KMT_SLOT_CHUNK) << "n=" << n;
        alloc.Succeed();
    }
    Track(0x200000);
    EXPECT_EQ(t.slots.capacity, 5 * KMT_SLOT_CHUNK);
    for (uint64_t h = 1; h <= 4 * KMT_SLOT_CHUNK; h++)
        ASSERT_NE(Find(h), nullptr) << h;
}

// Round 1's kmt_track_binding could fail; now kmt_reserve_bindings does,
// before the driver binds, and changes nothing when it does.
TEST_F(FuzzRegression, BindingFailsCleanlyWhenTheHandleTableCannotGrow)
{
    Track(0x1);
    for (uint64_t r = 1; r <= 128; r++)
        Bind(VK_OBJECT_TYPE_BUFFER, 0x100 + r, 0x1);
    alloc.FailAll();
    EXPECT_FALSE(kmt_reserve_bindings(&t, 1)) << "the 129th entry needs the resource table to grow";
    EXPECT_EQ(t.reserved_count, 0u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x900), 0u);
    EXPECT_EQ(ResourceCount(0x1), 128u);
    EXPECT_EQ(t.resources.count, 128u);
    alloc.Succeed();
    ASSERT_TRUE(kmt_reserve_bindings(&t, 2));
    alloc.FailAll();
    const uint64_t failures = alloc.failures();
    kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x900, H(0x1));
    // Rebinding a tracked resource uses its reservation too, and cannot fail.
    kmt_track_binding(&t, VK_OBJECT_TYPE_IMAGE, 0x101, H(0x1));
    EXPECT_EQ(ResourceCount(0x1), 129u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x900), H(0x1));
    EXPECT_EQ(t.reserved_count, 0u);
    EXPECT_EQ(alloc.failures(), failures) << "a reserved binding never allocates";
}

TEST_F(FuzzRegression, BindingsAReservationCoversCannotFail)
{
    // kmt_reserve_bindings is what the glue calls before the driver binds:
    // the next `count` bindings then succeed even with every allocation
    // failing -- across the resource table's growth (129th entry) and a new
    // record chunk.
    Track(0x1);
    for (uint64_t r = 1; r <= 120; r++)
        Bind(VK_OBJECT_TYPE_BUFFER, 0x100 + r, 0x1);
    ASSERT_TRUE(kmt_reserve_bindings(&t, 20));
    alloc.FailAll();
    for (uint64_t r = 121; r <= 140; r++)
        kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x100 + r, H(0x1));
    EXPECT_EQ(ResourceCount(0x1), 140u);
    EXPECT_EQ(alloc.failures(), 0u);
    EXPECT_FALSE(kmt_reserve_bindings(&t, 1000)) << "1000 more need a new chunk";
    EXPECT_EQ(ResourceCount(0x1), 140u) << "a failed reservation changes nothing";
    EXPECT_EQ(t.reserved_count, 0u);
    alloc.Succeed();
    EXPECT_TRUE(kmt_reserve_bindings(&t, 1000));
    alloc.FailAll();
    const uint64_t failures = alloc.failures();
    for (uint64_t r = 141; r <= 1140; r++)
        kmt_track_binding(&t, VK_OBJECT_TYPE_IMAGE, 0x100 + r, H(0x1));
    EXPECT_EQ(ResourceCount(0x1), 1140u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x100 + 1140), H(0x1));
    EXPECT_EQ(alloc.failures(), failures) << "a reserved binding never allocates";
}

TEST_F(FuzzRegression, FailedInitLeaksNothingAndFinishingItIsHarmless)
{
    // vkCreateDevice's error path tears down the tracker whatever init did.
    // Init makes a few allocations (the slot table makes none until the first
    // track); every one of them may fail.
    long needed = 0;
    for (long n = 0; n < 16; n++) {
        kmt_tracker other{};
        TestAllocator a;
        a.FailAfter(n);
        kmt_tracker_config config{};
        const bool ok = kmt_tracker_init(&other, &config, nullptr, a.callbacks());
        if (ok && !needed)
            needed = n;
        EXPECT_EQ(ok, a.failures() == 0) << "n=" << n;
        kmt_tracker_finish(&other);
        if (!ok)
            kmt_tracker_finish(&other); // twice after a failed init: harmless
        EXPECT_EQ(a.live(), 0u) << "n=" << n;
        EXPECT_EQ(a.bad_frees(), 0u) << "n=" << n;
    }
    EXPECT_GT(needed, 0) << "init allocates (the resource table)";
}

// Behaviour change (issue 12): validation stops at the first element that is
// not valid, so the elements after it are not read (a huge allocationCount
// with a short array) -- the first error is still element 1 here.
TEST_F(FuzzRegression, ResourcesListedAfterTheFirstErrorStillCountForTheSharedMemoryRule)
{
    // Memory 0x1 backs buffers 0x10 and 0x11; both are in the call, so
    // element 0 is fine and the first offending element is 1 (unknown).
    Track(0x1);
    Bind(VK_OBJECT_TYPE_BUFFER, 0x10, 0x1);
    Bind(VK_OBJECT_TYPE_BUFFER, 0x11, 0x1);
    const VkOfferResourceKMT res[] = {
        {VK_OBJECT_TYPE_BUFFER, 0x10}, {VK_OBJECT_TYPE_BUFFER, 0x99}, {VK_OBJECT_TYPE_BUFFER, 0x11}};
    kmt_handle_list list{3, nullptr, res};
    EXPECT_EQ(kmt_offer(&t, &list, LOW, IMMEDIATELY, 0, &error, nullptr), KMT_ERROR_UNKNOWN_RESOURCE);
    EXPECT_EQ(error.index, 1u);
    // A duplicate listing does not count twice -- 0x10 twice is not 0x10 +
    // 0x11 -- and the duplicate (element 1) now stops validation before the
    // shared-memory rule would name element 0 (round 1 did).
    const VkOfferResourceKMT dup[] = {{VK_OBJECT_TYPE_BUFFER, 0x10}, {VK_OBJECT_TYPE_BUFFER, 0x10}};
    kmt_handle_list dup_list{2, nullptr, dup};
    EXPECT_EQ(kmt_offer(&t, &dup_list, LOW, IMMEDIATELY, 0, &error, nullptr), KMT_ERROR_DUPLICATE);
    EXPECT_EQ(error.index, 1u);
    // Listed once, 0x10 alone breaks the shared-memory rule.
    kmt_handle_list one{1, nullptr, dup};
    EXPECT_EQ(kmt_offer(&t, &one, LOW, IMMEDIATELY, 0, &error, nullptr), KMT_ERROR_SHARED_MEMORY);
    EXPECT_EQ(error.index, 0u);
    EXPECT_EQ(Status(0x1), RESIDENT);
}

TEST_F(FuzzRegression, PendingOffersWithEqualWaitSerialsBecomeOfferedInOfferOrder)
{
    std::vector<uint64_t> order;
    kmt_tracker_finish(&t);
    kmt_tracker_config config{};
    config.pageable = true;
    kmt_tracker_ops ops{};
    ops.ctx = &order;
    ops.set_priority = [](void *ctx, uint64_t memory, float) {
        static_cast<std::vector<uint64_t> *>(ctx)->push_back(memory);
    };
    ASSERT_TRUE(kmt_tracker_init(&t, &config, &ops, alloc.callbacks()));
    for (uint64_t h : {0x3, 0x1, 0x2})
        Track(h);
    for (uint64_t h : {0x3, 0x1, 0x2}) {
        VkDeviceMemory m = Mem(H(h));
        kmt_handle_list list{1, &m, nullptr};
        ASSERT_EQ(kmt_offer(&t, &list, LOW, 0, 5, &error, nullptr), KMT_OK);
    }
    EXPECT_EQ(kmt_promote_pending(&t, 5), 3u);
    EXPECT_EQ(order, (std::vector<uint64_t>{0x3, 0x1, 0x2})) << "the driver's handles, in offer order";
}

// Found by the fuzzer (corpus/regression-relieve-counts-failed-fills: pressure
// policy, every other fill failing, 55 allocations, three offered HIGH,
// relieve): kmt_policy_relieve returned 2 with one allocation discarded.
// Since a failed fill leaves the memory OFFERED (a discard is never a lie),
// relieve_heap (layer/policy.c) counts every kmt_discard it calls, not the
// discards that happened.
TEST(FuzzRegressionPolicy, RelieveCountsOnlyWhatItDiscarded)
{
    struct Fills {
        int calls = 0;
        static uint64_t Fill(void *ctx, const kmt_fill_request *)
        {
            return static_cast<Fills *>(ctx)->calls++ % 2 ? 7 : KMT_FILL_FAILED; // the first fails
        }
    } fills;
    kmt_settings settings{};
    kmt_settings_defaults(&settings);
    settings.discard = KMT_DISCARD_PRESSURE;
    settings.budget_mb = 1;
    kmt_policy policy{};
    kmt_policy_init(&policy, &settings);
    const VkDeviceSize heap_size = 64u << 20;
    kmt_policy_set_budgets(&policy, &settings, 1, &heap_size, nullptr);
    kmt_tracker t{};
    kmt_tracker_config config{};
    kmt_test::SetAccounting(config, true); // what the glue asks for under DISCARD=pressure
    kmt_tracker_ops ops{};
    ops.ctx = &fills;
    ops.fill = &Fills::Fill;
    ASSERT_TRUE(kmt_tracker_init(&t, &config, &ops, nullptr));
    const VkDeviceSize MiB = 1u << 20;
    const uint64_t m1 = kmt_track_memory(&t, 0x1, 2 * MiB, 0, 0, 0.5f);
    const uint64_t m2 = kmt_track_memory(&t, 0x2, 2 * MiB, 0, 0, 0.5f);
    ASSERT_NE(m1, 0u);
    ASSERT_NE(m2, 0u);
    const VkDeviceMemory both[] = {Mem(m1), Mem(m2)};
    kmt_handle_list list{2, both, nullptr};
    kmt_error_info error{};
    ASSERT_EQ(kmt_offer(&t, &list, LOW, IMMEDIATELY, 0, &error, nullptr), KMT_OK);

    // 4 MiB over a 1 MiB budget: 0x1's fill fails (it stays OFFERED), 0x2 is
    // discarded, 2 MiB remain -- still over budget, nothing left to discard.
    EXPECT_EQ(kmt_policy_relieve(&policy, &t), 1u) << "one allocation was discarded";
    EXPECT_EQ(kmt_find_memory(&t, m1, nullptr)->status, OFFERED);
    EXPECT_EQ(kmt_find_memory(&t, m2, nullptr)->status, VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(t.counters.discards, 1u);
    EXPECT_EQ(t.heap_usage[0], 2 * MiB);
    kmt_tracker_finish(&t);
}

} // namespace

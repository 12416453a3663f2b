// Regression tests from the model-based fuzzer (tests/fuzz/fuzz_offer.cpp).
//
// The fuzzer's long runs found no divergence of the core from the reference
// model; these pin down, as plain readable sequences, the paths it is the
// only other test of: host-allocation failure inside the core (every call is
// all-or-nothing, nothing leaks, argument errors are reported before it),
// the init / teardown pair after a failed init (what the glue does when
// vkCreateDevice fails), and first-offending-element cases that need the
// whole list resolved. A divergence the fuzzer finds later is added here as
// the minimal event sequence it printed (KMT_FUZZ_TRACE=1).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "offer.h"
#include "policy.h"
#include "test_allocator.h"

namespace {

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
        return kmt_tracker_init(&t, &config, nullptr, alloc.callbacks());
    }
    void Track(uint64_t h, VkDeviceSize size = 4096)
    {
        ASSERT_TRUE(kmt_track_memory(&t, h, size, 0, 0, false, 0.5f)) << std::hex << h;
    }
    kmt_error Offer(const std::vector<uint64_t> &hs, uint32_t priority = LOW)
    {
        mems.clear();
        for (uint64_t h : hs)
            mems.push_back(Mem(h));
        kmt_handle_list list{static_cast<uint32_t>(mems.size()), mems.data(), nullptr};
        error = {};
        return kmt_offer(&t, &list, priority, IMMEDIATELY, 0, &error, nullptr);
    }
    kmt_error Reclaim(const std::vector<uint64_t> &hs)
    {
        mems.clear();
        for (uint64_t h : hs)
            mems.push_back(Mem(h));
        kmt_handle_list list{static_cast<uint32_t>(mems.size()), mems.data(), nullptr};
        results.assign(hs.size(), static_cast<VkReclaimResultKMT>(0x7777));
        fence = 0xfeed;
        error = {};
        return kmt_reclaim(&t, &list, results.data(), nullptr, 0, false, &error, &fence);
    }
    uint8_t Status(uint64_t h)
    {
        const kmt_memory *m = kmt_find_memory(&t, h);
        return m ? m->status : 0xff;
    }

    TestAllocator alloc;
    kmt_tracker t{};
    std::vector<VkDeviceMemory> mems;
    std::vector<VkReclaimResultKMT> results;
    uint64_t fence = 0;
    kmt_error_info error{};
};

TEST_F(FuzzRegression, OfferOutOfHostMemoryChangesNothing)
{
    Track(0x1);
    Track(0x2);
    alloc.FailAll();  // the first offer needs the per-call scratch
    EXPECT_EQ(Offer({0x1, 0x2}), KMT_ERROR_OUT_OF_HOST_MEMORY);
    EXPECT_EQ(error.code, KMT_ERROR_OUT_OF_HOST_MEMORY);
    EXPECT_EQ(error.index, 0u);
    EXPECT_EQ(Status(0x1), RESIDENT);
    EXPECT_EQ(Status(0x2), RESIDENT);
    EXPECT_EQ(t.counters.offers, 0u);
    EXPECT_EQ(t.counters.rejected_calls, 1u);
    EXPECT_EQ(t.offered[0].count, 0u);
    alloc.Succeed();
    EXPECT_EQ(Offer({0x1, 0x2}), KMT_OK);
    EXPECT_EQ(Status(0x1), OFFERED);
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

TEST_F(FuzzRegression, TrackingFailsCleanlyWhenTheHandleTableCannotGrow)
{
    // 128 entries fill the 256-slot table to half; the 129th needs it to grow.
    for (uint64_t h = 1; h <= 128; h++)
        Track(h);
    const VkDeviceSize usage = t.heap_usage[0];
    alloc.FailAll();
    EXPECT_FALSE(kmt_track_memory(&t, 0x1000, 4096, 0, 0, false, 0.5f));
    EXPECT_EQ(kmt_find_memory(&t, 0x1000), nullptr);
    EXPECT_EQ(t.memories.count, 128u);
    EXPECT_EQ(t.heap_usage[0], usage);
    // A handle the driver reuses replaces its record without growing.
    EXPECT_TRUE(kmt_track_memory(&t, 0x7, 8192, 0, 0, false, 0.5f));
    EXPECT_EQ(kmt_find_memory(&t, 0x7)->size, 8192u);
    EXPECT_EQ(t.heap_usage[0], usage + 4096);
    alloc.Succeed();
    EXPECT_TRUE(kmt_track_memory(&t, 0x1000, 4096, 0, 0, false, 0.5f));
}

TEST_F(FuzzRegression, BindingFailsCleanlyWhenTheHandleTableCannotGrow)
{
    Track(0x1);
    for (uint64_t r = 1; r <= 128; r++)
        ASSERT_TRUE(kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x100 + r, 0x1));
    alloc.FailAll();
    EXPECT_FALSE(kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x900, 0x1));
    EXPECT_EQ(kmt_resource_memory(&t, 0x900), nullptr);
    EXPECT_EQ(kmt_find_memory(&t, 0x1)->resource_count, 128u);
    // Rebinding a tracked resource frees its slot first: it cannot fail.
    EXPECT_TRUE(kmt_track_binding(&t, VK_OBJECT_TYPE_IMAGE, 0x101, 0x1));
    EXPECT_EQ(kmt_find_memory(&t, 0x1)->resource_count, 128u);
}

TEST_F(FuzzRegression, BindingsAReservationCoversCannotFail)
{
    // kmt_reserve_bindings is what the glue calls before the driver binds:
    // the next `count` bindings then succeed even with every allocation
    // failing -- across the resource table's growth (129th entry) and a new
    // record chunk.
    Track(0x1);
    for (uint64_t r = 1; r <= 120; r++)
        ASSERT_TRUE(kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x100 + r, 0x1));
    ASSERT_TRUE(kmt_reserve_bindings(&t, 20));
    alloc.FailAll();
    for (uint64_t r = 121; r <= 140; r++)
        EXPECT_TRUE(kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x100 + r, 0x1)) << r;
    EXPECT_EQ(kmt_find_memory(&t, 0x1)->resource_count, 140u);
    EXPECT_FALSE(kmt_reserve_bindings(&t, 1000)) << "1000 more need a new chunk";
    EXPECT_EQ(kmt_find_memory(&t, 0x1)->resource_count, 140u) << "a failed reservation changes nothing";
    alloc.Succeed();
    EXPECT_TRUE(kmt_reserve_bindings(&t, 1000));
    alloc.FailAll();
    for (uint64_t r = 141; r <= 1140; r++)
        ASSERT_TRUE(kmt_track_binding(&t, VK_OBJECT_TYPE_IMAGE, 0x100 + r, 0x1)) << r;
}

TEST_F(FuzzRegression, FailedInitLeaksNothingAndFinishingItIsHarmless)
{
    // vkCreateDevice's error path tears down the tracker whatever init did.
    for (long n = 0; n < 4; n++) {
        kmt_tracker other{};
        TestAllocator a;
        a.FailAfter(n);
        kmt_tracker_config config{};
        EXPECT_FALSE(kmt_tracker_init(&other, &config, nullptr, a.callbacks())) << "n=" << n;
        kmt_tracker_finish(&other);
        kmt_tracker_finish(&other);
        EXPECT_EQ(a.live(), 0u) << "n=" << n;
        EXPECT_EQ(a.bad_frees(), 0u) << "n=" << n;
    }
}

TEST_F(FuzzRegression, ResourcesListedAfterTheFirstErrorStillCountForTheSharedMemoryRule)
{
    // Memory 0x1 backs buffers 0x10 and 0x11; both are in the call, so
    // element 0 is fine and the first offending element is 1 (unknown).
    Track(0x1);
    ASSERT_TRUE(kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x10, 0x1));
    ASSERT_TRUE(kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x11, 0x1));
    const VkOfferResourceKMT res[] = {
        {VK_OBJECT_TYPE_BUFFER, 0x10}, {VK_OBJECT_TYPE_BUFFER, 0x99}, {VK_OBJECT_TYPE_BUFFER, 0x11}};
    kmt_handle_list list{3, nullptr, res};
    EXPECT_EQ(kmt_offer(&t, &list, LOW, IMMEDIATELY, 0, &error, nullptr), KMT_ERROR_UNKNOWN_RESOURCE);
    EXPECT_EQ(error.index, 1u);
    // A duplicate listing does not count twice: 0x10 twice is not 0x10 + 0x11.
    const VkOfferResourceKMT dup[] = {{VK_OBJECT_TYPE_BUFFER, 0x10}, {VK_OBJECT_TYPE_BUFFER, 0x10}};
    kmt_handle_list dup_list{2, nullptr, dup};
    EXPECT_EQ(kmt_offer(&t, &dup_list, LOW, IMMEDIATELY, 0, &error, nullptr), KMT_ERROR_SHARED_MEMORY);
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
        VkDeviceMemory m = Mem(h);
        kmt_handle_list list{1, &m, nullptr};
        ASSERT_EQ(kmt_offer(&t, &list, LOW, 0, 5, &error, nullptr), KMT_OK);
    }
    EXPECT_EQ(kmt_promote_pending(&t, 5), 3u);
    EXPECT_EQ(order, (std::vector<uint64_t>{0x3, 0x1, 0x2}));
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
        static uint64_t Fill(void *ctx, const kmt_memory *)
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
    kmt_tracker_ops ops{};
    ops.ctx = &fills;
    ops.fill = &Fills::Fill;
    ASSERT_TRUE(kmt_tracker_init(&t, &config, &ops, nullptr));
    const VkDeviceSize MiB = 1u << 20;
    ASSERT_TRUE(kmt_track_memory(&t, 0x1, 2 * MiB, 0, 0, false, 0.5f));
    ASSERT_TRUE(kmt_track_memory(&t, 0x2, 2 * MiB, 0, 0, false, 0.5f));
    const VkDeviceMemory both[] = {Mem(0x1), Mem(0x2)};
    kmt_handle_list list{2, both, nullptr};
    kmt_error_info error{};
    ASSERT_EQ(kmt_offer(&t, &list, LOW, IMMEDIATELY, 0, &error, nullptr), KMT_OK);

    // 4 MiB over a 1 MiB budget: 0x1's fill fails (it stays OFFERED), 0x2 is
    // discarded, 2 MiB remain -- still over budget, nothing left to discard.
    EXPECT_EQ(kmt_policy_relieve(&policy, &t), 1u) << "one allocation was discarded";
    EXPECT_EQ(kmt_find_memory(&t, 0x1)->status, OFFERED);
    EXPECT_EQ(kmt_find_memory(&t, 0x2)->status, VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(t.counters.discards, 1u);
    EXPECT_EQ(t.heap_usage[0], 2 * MiB);
    kmt_tracker_finish(&t);
}

} // namespace

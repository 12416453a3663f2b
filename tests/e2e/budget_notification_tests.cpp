// SPDX-License-Identifier: MIT
// VK_KMT_residency's budget notifications through the real stack: the budget
// and usage come from the test driver (its knobs changed while the app runs),
// the layer's thread polls them every BUDGET_POLL_MS. Every test name holds
// "Thread" or "Concurren" so that the TSan preset runs them all.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "residency_calls.hpp"

namespace kmt {
namespace {

using std::chrono::milliseconds;

constexpr VkDeviceSize kMiB = 1 << 20;
constexpr int kPollMs = 10;
const char kThreadName[] = "kmt-budget";

StackOptions
notifying(int poll_ms = kPollMs)
{
    return residency_options({{"VK_KMT_OFFER_RECLAIM_BUDGET_POLL_MS", std::to_string(poll_ms)}});
}

// Records what a callback received.
struct Recorder {
    std::mutex lock;
    std::vector<VkBudgetNotificationKMT> seen;
    std::atomic<int> calls{0};

    static void VKAPI_PTR callback(const VkBudgetNotificationKMT* n, void* user)
    {
        auto* self = static_cast<Recorder*>(user);
        std::lock_guard<std::mutex> guard(self->lock);
        self->seen.push_back(*n);
        self->calls++;
    }
    std::vector<VkBudgetNotificationKMT> local()
    {
        std::lock_guard<std::mutex> guard(lock);
        std::vector<VkBudgetNotificationKMT> out;
        for (auto& n : seen)
            if (n.segmentGroup == VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT) out.push_back(n);
        return out;
    }
};

void
wait_polls(int polls)
{
    std::this_thread::sleep_for(milliseconds(polls * kPollMs));
}

class BudgetNotificationThread : public StackTest {
 protected:
    StackOptions options() const override { return notifying(); }
    void SetUp() override
    {
        StackTest::SetUp();
        ASSERT_EQ(stack->result(), VK_SUCCESS) << stack->failed_step();
        api = std::make_unique<ResidencyApi>(*stack);
        ASSERT_TRUE(api->complete());
        td = stack->driver();
        ASSERT_NE(td, nullptr);
        initial_budget = video_memory(*stack).budget;
        ASSERT_GT(initial_budget, 256 * kMiB);
    }
    uint64_t register_recorder(Recorder& r)
    {
        uint64_t cookie = 0;
        EXPECT_EQ(api->register_notification(stack->device, &Recorder::callback, &r, &cookie), VK_SUCCESS);
        EXPECT_NE(cookie, 0u);
        return cookie;
    }
    std::unique_ptr<ResidencyApi> api;
    kmt_test_driver_control* td = nullptr;
    VkDeviceSize initial_budget = 0;
};

TEST_F(BudgetNotificationThread, ExistsOnlyWhileACallbackIsRegistered)
{
    Recorder r;
    EXPECT_EQ(threads_named(kThreadName), 0);
    uint64_t first = register_recorder(r);
    EXPECT_EQ(threads_named(kThreadName), 1);
    uint64_t second = register_recorder(r);
    EXPECT_EQ(threads_named(kThreadName), 1) << "one thread per device";
    api->unregister_notification(stack->device, first);
    EXPECT_EQ(threads_named(kThreadName), 1) << "a callback is still registered";
    api->unregister_notification(stack->device, second);
    EXPECT_EQ(threads_named(kThreadName), 0) << "joined before the last unregister returned";
    // And again: a new registration starts a new thread.
    uint64_t third = register_recorder(r);
    EXPECT_EQ(threads_named(kThreadName), 1);
    api->unregister_notification(stack->device, third);
    EXPECT_EQ(threads_named(kThreadName), 0);
}

TEST_F(BudgetNotificationThread, ABudgetChangeIsDeliveredOnceSmallChangesNever)
{
    Recorder r;
    uint64_t cookie = register_recorder(r);
    wait_polls(5);
    EXPECT_EQ(r.calls.load(), 0) << "registering is not news";

    const VkDeviceSize halved = initial_budget / 2;
    kmt_td_set_heap_budget(td, halved);
    ASSERT_TRUE(eventually([&] { return r.calls.load() >= 1; })) << "no notification after the budget halved";
    wait_polls(8);
    auto seen = r.local();
    ASSERT_EQ(seen.size(), 1u) << "exactly once per change";
    EXPECT_EQ(seen[0].sType, VK_STRUCTURE_TYPE_BUDGET_NOTIFICATION_KMT);
    EXPECT_EQ(seen[0].budget, halved);
    EXPECT_EQ(seen[0].bytesToTrim, 0u) << "a budget change alone";
    EXPECT_LT(seen[0].currentUsage, halved);

    // Less than 1/64 of the budget: not news.
    kmt_td_set_heap_budget(td, halved + halved / 128);
    wait_polls(8);
    EXPECT_EQ(r.local().size(), 1u);
    // More than 1/64 of the budget last heard of: news.
    kmt_td_set_heap_budget(td, halved + halved / 32);
    ASSERT_TRUE(eventually([&] { return r.local().size() >= 2; }));
    wait_polls(5);
    seen = r.local();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1].budget, halved + halved / 32);
    api->unregister_notification(stack->device, cookie);
}

TEST_F(BudgetNotificationThread, OverBudgetIsReportedOncePerGrowthWithTheExcess)
{
    Recorder r;
    uint64_t cookie = register_recorder(r);
    // Usage first (still under the big budget: no news), then the budget
    // below it: one poll sees both, one notification.
    kmt_td_set_heap_usage(td, 100 * kMiB);
    wait_polls(3);
    EXPECT_EQ(r.calls.load(), 0);
    kmt_td_set_heap_budget(td, 64 * kMiB);
    ASSERT_TRUE(eventually([&] { return r.calls.load() >= 1; }));
    wait_polls(8);
    auto seen = r.local();
    ASSERT_EQ(seen.size(), 1u) << "over budget but not growing: once";
    EXPECT_EQ(seen[0].budget, 64 * kMiB);
    EXPECT_EQ(seen[0].currentUsage, 100 * kMiB);
    EXPECT_EQ(seen[0].bytesToTrim, 36 * kMiB);

    kmt_td_set_heap_usage(td, 110 * kMiB);
    ASSERT_TRUE(eventually([&] { return r.local().size() >= 2; }));
    wait_polls(8);
    seen = r.local();
    ASSERT_EQ(seen.size(), 2u) << "grew once: one more";
    EXPECT_EQ(seen[1].bytesToTrim, 46 * kMiB);

    kmt_td_set_heap_usage(td, 105 * kMiB);  // trimmed a little, still over: not grown
    wait_polls(8);
    EXPECT_EQ(r.local().size(), 2u);
    kmt_td_set_heap_usage(td, 50 * kMiB);  // under budget: the episode ends quietly
    wait_polls(8);
    EXPECT_EQ(r.local().size(), 2u);
    kmt_td_set_heap_usage(td, 70 * kMiB);  // over again: news
    ASSERT_TRUE(eventually([&] { return r.local().size() >= 3; }));
    EXPECT_EQ(r.local()[2].bytesToTrim, 6 * kMiB);
    api->unregister_notification(stack->device, cookie);
}

// A callback that takes its time and makes every poll news again.
struct Slow {
    std::atomic<bool> inside{false};
    std::atomic<int> calls{0};
    std::atomic<int> after_unregister{0};
    std::atomic<bool> unregistered{false};
    kmt_test_driver_control* td = nullptr;
    VkDeviceSize a = 0, b = 0;

    static void VKAPI_PTR callback(const VkBudgetNotificationKMT* n, void* user)
    {
        auto* self = static_cast<Slow*>(user);
        self->inside = true;
        if (self->unregistered) self->after_unregister++;
        self->calls++;
        kmt_td_set_heap_budget(self->td, n->budget == self->a ? self->b : self->a);
        std::this_thread::sleep_for(milliseconds(15));
        self->inside = false;
    }
};

TEST_F(BudgetNotificationThread, NeverCalledAfterUnregisterReturnsWhichWaitsForACallInProgress)
{
    Slow slow;
    slow.td = td;
    slow.a = initial_budget / 2;
    slow.b = initial_budget / 4;
    for (int round = 0; round < 5; round++) {
        uint64_t cookie = 0;
        slow.unregistered = false;
        ASSERT_EQ(api->register_notification(stack->device, &Slow::callback, &slow, &cookie), VK_SUCCESS);
        kmt_td_set_heap_budget(td, slow.a);
        ASSERT_TRUE(eventually([&] { return slow.inside.load(); })) << "round " << round;
        api->unregister_notification(stack->device, cookie);
        slow.unregistered = true;
        EXPECT_FALSE(slow.inside.load()) << "unregister returned while the callback ran";
        const int calls = slow.calls.load();
        wait_polls(6);
        EXPECT_EQ(slow.calls.load(), calls) << "called after unregister returned";
        EXPECT_EQ(threads_named(kThreadName), 0);
    }
    EXPECT_EQ(slow.after_unregister.load(), 0);
}

struct SelfRemoving {
    std::atomic<uint64_t> cookie{0};
    std::atomic<int> calls{0};
    std::atomic<bool> returned{false};
    PFN_vkUnregisterBudgetNotificationKMT unregister = nullptr;
    VkDevice device = VK_NULL_HANDLE;

    static void VKAPI_PTR callback(const VkBudgetNotificationKMT*, void* user)
    {
        auto* self = static_cast<SelfRemoving*>(user);
        self->calls++;
        self->unregister(self->device, self->cookie.load());  // must not wait for itself
        self->returned = true;
    }
};

TEST_F(BudgetNotificationThread, UnregisterFromInsideTheCallbackReturnsAtOnceAndTheThreadEnds)
{
    SelfRemoving self;
    self.unregister = api->unregister_notification;
    self.device = stack->device;
    uint64_t cookie = 0;
    ASSERT_EQ(api->register_notification(stack->device, &SelfRemoving::callback, &self, &cookie), VK_SUCCESS);
    self.cookie = cookie;
    kmt_td_set_heap_budget(td, initial_budget / 2);
    ASSERT_TRUE(eventually([&] { return self.returned.load(); })) << "the callback's unregister deadlocked";
    kmt_td_set_heap_budget(td, initial_budget / 4);
    wait_polls(8);
    EXPECT_EQ(self.calls.load(), 1);
    EXPECT_TRUE(eventually([&] { return threads_named(kThreadName) == 0; })) << "the thread ends on its own";
    // A new registration after that works (joins the ended thread first).
    Recorder r;
    uint64_t again = register_recorder(r);
    EXPECT_EQ(threads_named(kThreadName), 1);
    api->unregister_notification(stack->device, again);
    EXPECT_TRUE(stack->messages_with_id("KMT-unknown-cookie").empty());
}

struct CallsTheLayer {
    VulkanStack* stack = nullptr;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    std::atomic<int> calls{0};
    std::atomic<bool> ok{true};

    static void VKAPI_PTR callback(const VkBudgetNotificationKMT* n, void* user)
    {
        auto* self = static_cast<CallsTheLayer*>(user);
        // Would deadlock if the layer held one of its locks here.
        VkVideoMemoryInfoKMT info = video_memory(*self->stack);
        if (info.budget != n->budget) self->ok = false;
        if (evict(*self->stack, {self->memory}).result != VK_SUCCESS) self->ok = false;
        if (make_resident(*self->stack, {self->memory}).result != VK_SUCCESS) self->ok = false;
        self->calls++;
    }
};

TEST_F(BudgetNotificationThread, CallbacksMayCallTheLayer)
{
    CallsTheLayer c;
    c.stack = stack.get();
    c.memory = stack->allocate(4096);
    uint64_t cookie = 0;
    ASSERT_EQ(api->register_notification(stack->device, &CallsTheLayer::callback, &c, &cookie), VK_SUCCESS);
    kmt_td_set_heap_budget(td, initial_budget / 2);
    ASSERT_TRUE(eventually([&] { return c.calls.load() >= 1; }));
    api->unregister_notification(stack->device, cookie);
    EXPECT_TRUE(c.ok.load());
    EXPECT_EQ(residency_of(*stack, c.memory).count, 1u);
}

TEST_F(BudgetNotificationThread, BadRegistrationsAndUnknownCookiesAreReported)
{
    uint64_t cookie = 0;
    stack->clear_messages();
    EXPECT_EQ(api->register_notification(stack->device, nullptr, nullptr, &cookie), VK_ERROR_VALIDATION_FAILED_EXT);
    Recorder r;
    EXPECT_EQ(api->register_notification(stack->device, &Recorder::callback, &r, nullptr),
              VK_ERROR_VALIDATION_FAILED_EXT);
    auto messages = stack->messages_with_id("KMT-null-argument");
    ASSERT_EQ(messages.size(), 2u) << describe(stack->messages());
    EXPECT_NE(messages[0].text.find("pfnCallback"), std::string::npos);
    EXPECT_NE(messages[1].text.find("pCookie"), std::string::npos);
    EXPECT_EQ(threads_named(kThreadName), 0);
    api->unregister_notification(stack->device, 12345);
    EXPECT_EQ(stack->messages_with_id("KMT-unknown-cookie").size(), 1u);
    cookie = register_recorder(r);
    api->unregister_notification(stack->device, cookie);
    api->unregister_notification(stack->device, cookie);
    EXPECT_EQ(stack->messages_with_id("KMT-unknown-cookie").size(), 2u) << "unregistered twice";
}

TEST(BudgetNotificationThreadLife, DestroyingTheDeviceEndsTheThread)
{
    VulkanStack s(notifying());
    ASSERT_EQ(s.result(), VK_SUCCESS);
    ResidencyApi api(s);
    Recorder r;
    uint64_t cookie = 0;
    ASSERT_EQ(api.register_notification(s.device, &Recorder::callback, &r, &cookie), VK_SUCCESS);
    EXPECT_EQ(threads_named(kThreadName), 1);
    s.destroy();
    EXPECT_EQ(threads_named(kThreadName), 0);
}

// ---- concurrency -------------------------------------------------------------------------------

TEST(BudgetNotificationConcurrency, ResidencyCallsOnManyThreadsWhileNotificationsRun)
{
    VulkanStack s(notifying(1));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    ResidencyApi api(s);
    kmt_test_driver_control* td = s.driver();
    ASSERT_NE(td, nullptr);
    const VkDeviceSize budget = video_memory(s).budget;
    constexpr int kThreads = 4, kPerThread = 16, kRounds = 200;
    std::vector<std::vector<VkDeviceMemory>> owned(kThreads);
    for (auto& list : owned)
        for (int i = 0; i < kPerThread; i++) list.push_back(s.allocate(4096));
    Recorder r;
    uint64_t cookie = 0;
    ASSERT_EQ(api.register_notification(s.device, &Recorder::callback, &r, &cookie), VK_SUCCESS);

    std::atomic<bool> failed{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; t++) {
        workers.emplace_back([&, t] {
            const std::vector<VkDeviceMemory>& mine = owned[t];
            for (int round = 0; round < kRounds; round++) {
                if (evict(s, mine).result != VK_SUCCESS) failed = true;
                if (make_resident(s, mine).result != VK_SUCCESS) failed = true;
                VkVideoMemoryInfoKMT info = {};
                info.sType = VK_STRUCTURE_TYPE_VIDEO_MEMORY_INFO_KMT;
                if (api.query(s.device, VK_MEMORY_SEGMENT_GROUP_LOCAL_KMT, &info) != VK_SUCCESS) failed = true;
            }
        });
    }
    // Meanwhile the budget moves, so the callback keeps being called.
    for (int i = 0; i < 50; i++) {
        kmt_td_set_heap_budget(td, (i & 1) ? budget / 2 : budget / 3);
        std::this_thread::sleep_for(milliseconds(2));
    }
    for (auto& w : workers) w.join();
    api.unregister_notification(s.device, cookie);
    EXPECT_FALSE(failed.load());
    EXPECT_GT(r.calls.load(), 0);
    for (auto& list : owned)
        for (VkDeviceMemory m : list) {
            ResidencyState st = residency_of(s, m);
            EXPECT_EQ(st.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
            EXPECT_EQ(st.count, 1u);
        }
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

}  // namespace
}  // namespace kmt

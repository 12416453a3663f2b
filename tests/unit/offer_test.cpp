// Unit tests of the offer/reclaim state machine (layer/offer.[ch]).
//
// The driver is a kmt_tracker_ops whose callbacks append to a log, so each
// test asserts the exact sequence of priorities the driver would be given.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "offer.h"

namespace {

constexpr uint32_t LOW = VK_OFFER_PRIORITY_LOW_KMT;
constexpr uint32_t NORMAL = VK_OFFER_PRIORITY_NORMAL_KMT;
constexpr uint32_t HIGH = VK_OFFER_PRIORITY_HIGH_KMT;
constexpr uint32_t AUTO = VK_OFFER_PRIORITY_AUTO_KMT;
constexpr uint32_t IMMEDIATELY = VK_OFFER_IMMEDIATELY_BIT_KMT;
constexpr uint32_t DECOMMIT = VK_OFFER_ALLOW_DECOMMIT_BIT_KMT;

constexpr uint8_t RESIDENT = VK_ALLOCATION_STATUS_RESIDENT_KMT;
constexpr uint8_t PENDING = VK_ALLOCATION_STATUS_OFFER_PENDING_KMT;
constexpr uint8_t OFFERED = VK_ALLOCATION_STATUS_OFFERED_KMT;
constexpr uint8_t DISCARDED = VK_ALLOCATION_STATUS_DISCARDED_KMT;
constexpr uint8_t DECOMMITTED = VK_ALLOCATION_STATUS_DECOMMITTED_KMT;

constexpr VkReclaimResultKMT RES_OK = VK_RECLAIM_RESULT_OK_KMT;
constexpr VkReclaimResultKMT RES_DISCARDED = VK_RECLAIM_RESULT_DISCARDED_KMT;
constexpr VkReclaimResultKMT RES_NOT_COMMITTED = VK_RECLAIM_RESULT_NOT_COMMITTED_KMT;

constexpr float kOfferedPriority = 0.0f; // the OFFERED_PRIORITY default
constexpr VkDeviceSize MiB = 1024 * 1024;

// ---- the recording driver ---------------------------------------------------

struct DriverCall {
    char kind; // 'P' set_priority, 'F' fill
    uint64_t memory;
    float priority;
    bool operator==(const DriverCall &o) const
    {
        return kind == o.kind && memory == o.memory && (kind != 'P' || priority == o.priority);
    }
};
std::ostream &operator<<(std::ostream &os, const DriverCall &c)
{
    if (c.kind == 'P')
        return os << "set_priority(0x" << std::hex << c.memory << std::dec << ", " << c.priority << ")";
    return os << "fill(0x" << std::hex << c.memory << std::dec << ")";
}
DriverCall P(uint64_t memory, float priority) { return {'P', memory, priority}; }
DriverCall F(uint64_t memory) { return {'F', memory, 0.0f}; }
using Calls = std::vector<DriverCall>;

struct Driver {
    Calls calls;
    std::map<uint64_t, uint64_t> fill_values; // what fill() returns per memory (default 0)
    std::vector<uint8_t> fill_saw_status;

    static void SetPriority(void *ctx, uint64_t memory, float priority)
    {
        static_cast<Driver *>(ctx)->calls.push_back(P(memory, priority));
    }
    static uint64_t Fill(void *ctx, const kmt_memory *m)
    {
        auto *d = static_cast<Driver *>(ctx);
        d->calls.push_back(F(m->handle));
        d->fill_saw_status.push_back(m->status);
        auto it = d->fill_values.find(m->handle);
        return it == d->fill_values.end() ? 0 : it->second;
    }
};

VkDeviceMemory Mem(uint64_t h) { return reinterpret_cast<VkDeviceMemory>(static_cast<uintptr_t>(h)); }
VkOfferResourceKMT Buf(uint64_t h) { return {VK_OBJECT_TYPE_BUFFER, h}; }
VkOfferResourceKMT Img(uint64_t h) { return {VK_OBJECT_TYPE_IMAGE, h}; }

// ---- a snapshot of everything a rejected call must leave alone ---------------

struct MemorySnap {
    uint8_t status, offer_priority, offer_flags;
    float app_priority, driver_priority;
    uint32_t discard_count, resource_count;
    uint64_t wait_serial, offer_order, serial;
    VkDeviceSize size;
    bool operator==(const MemorySnap &o) const
    {
        return status == o.status && offer_priority == o.offer_priority && offer_flags == o.offer_flags &&
               app_priority == o.app_priority && driver_priority == o.driver_priority &&
               discard_count == o.discard_count && resource_count == o.resource_count &&
               wait_serial == o.wait_serial && offer_order == o.offer_order && serial == o.serial && size == o.size;
    }
};
std::ostream &operator<<(std::ostream &os, const MemorySnap &s)
{
    return os << "{status " << int(s.status) << ", offer " << int(s.offer_priority) << "/" << int(s.offer_flags)
              << ", app " << s.app_priority << ", driver " << s.driver_priority << ", discards " << s.discard_count
              << ", resources " << s.resource_count << ", wait " << s.wait_serial << ", order " << s.offer_order
              << "}";
}

struct Snapshot {
    std::map<uint64_t, MemorySnap> memories;
    std::map<uint64_t, uint64_t> resources; // resource -> memory
    std::vector<std::vector<uint64_t>> lists; // pending, offered LOW, NORMAL, HIGH in order
    std::vector<VkDeviceSize> heap_usage;
    kmt_counters counters;
    size_t driver_calls;
    uint64_t next_offer_order;
};

std::vector<uint64_t> ListHandles(const kmt_list &l)
{
    std::vector<uint64_t> v;
    for (const kmt_memory *m = l.head; m; m = m->next)
        v.push_back(m->handle);
    return v;
}

// ---- the fixture ------------------------------------------------------------

class OfferStateMachine : public ::testing::Test {
  protected:
    void SetUp() override { Init(true); }
    void TearDown() override
    {
        CheckInvariants();
        kmt_tracker_finish(&t);
    }

    void Init(bool pageable, float offered_priority = kOfferedPriority)
    {
        kmt_tracker_config config{};
        config.pageable = pageable;
        config.offered_priority = offered_priority;
        kmt_tracker_ops ops{};
        ops.ctx = &driver;
        ops.set_priority = &Driver::SetPriority;
        ops.fill = &Driver::Fill;
        ASSERT_TRUE(kmt_tracker_init(&t, &config, &ops, nullptr));
    }
    void Reinit(bool pageable, float offered_priority = kOfferedPriority)
    {
        kmt_tracker_finish(&t);
        driver = Driver{};
        Init(pageable, offered_priority);
    }

    // Lists hold exactly the memories in their state, are well linked and
    // pending is in wait_serial order; heap_usage is the payload-holding bytes.
    void CheckInvariants()
    {
        std::map<uint8_t, uint32_t> in_state;
        VkDeviceSize usage[VK_MAX_MEMORY_HEAPS] = {};
        for (uint32_t i = 0; i <= t.memories.mask; i++) {
            if (!t.memories.keys[i])
                continue;
            const auto *m = static_cast<const kmt_memory *>(t.memories.values[i]);
            EXPECT_EQ(m->handle, t.memories.keys[i]);
            if (m->status == OFFERED)
                in_state[static_cast<uint8_t>(10 + m->offer_priority)]++;
            else
                in_state[m->status]++;
            if (m->status != DISCARDED && m->status != DECOMMITTED)
                usage[m->heap_index] += m->size;
        }
        for (uint32_t h = 0; h < VK_MAX_MEMORY_HEAPS; h++)
            EXPECT_EQ(t.heap_usage[h], usage[h]) << "heap " << h;
        auto check_list = [&](const kmt_list &l, uint8_t status, uint8_t priority, const char *name) {
            uint32_t n = 0;
            const kmt_memory *prev = nullptr;
            for (const kmt_memory *m = l.head; m; m = m->next, n++) {
                EXPECT_EQ(m->prev, prev) << name;
                EXPECT_EQ(m->status, status) << name;
                if (priority) {
                    EXPECT_EQ(m->offer_priority, priority) << name;
                }
                if (status == PENDING && prev) {
                    EXPECT_LE(prev->wait_serial, m->wait_serial) << name << " out of wait_serial order";
                }
                EXPECT_EQ(kmt_find_memory(&t, m->handle), m) << name << " holds a freed record";
                prev = m;
            }
            EXPECT_EQ(l.tail, prev) << name;
            EXPECT_EQ(l.count, n) << name;
            return n;
        };
        EXPECT_EQ(check_list(t.pending, PENDING, 0, "pending"), in_state[PENDING]);
        const char *names[] = {"offered LOW", "offered NORMAL", "offered HIGH"};
        for (uint8_t p = 0; p < KMT_OFFER_LEVELS; p++)
            EXPECT_EQ(check_list(t.offered[p], OFFERED, static_cast<uint8_t>(p + 1), names[p]),
                      in_state[static_cast<uint8_t>(10 + p + 1)]);
    }

    // -- setup helpers
    void Track(uint64_t memory, VkDeviceSize size = MiB, float app_priority = 0.5f, uint32_t heap = 0,
               bool host_visible = false)
    {
        ASSERT_TRUE(kmt_track_memory(&t, memory, size, 0, heap, host_visible, app_priority));
    }
    void Bind(uint64_t resource, uint64_t memory, VkObjectType type = VK_OBJECT_TYPE_BUFFER)
    {
        ASSERT_TRUE(kmt_track_binding(&t, type, resource, memory));
    }
    kmt_memory *M(uint64_t memory)
    {
        kmt_memory *m = kmt_find_memory(&t, memory);
        EXPECT_NE(m, nullptr) << "memory 0x" << std::hex << memory << " is not tracked";
        return m;
    }
    uint8_t Status(uint64_t memory)
    {
        kmt_memory *m = M(memory);
        return m ? m->status : 0xff;
    }

    // -- calls
    kmt_error Offer(const std::vector<uint64_t> &memories, uint32_t priority = LOW, uint32_t flags = IMMEDIATELY,
                    uint64_t wait_serial = 0)
    {
        mem_args.clear();
        for (uint64_t h : memories)
            mem_args.push_back(Mem(h));
        list = {static_cast<uint32_t>(mem_args.size()), mem_args.data(), nullptr};
        return CallOffer(priority, flags, wait_serial);
    }
    kmt_error OfferResources(const std::vector<VkOfferResourceKMT> &resources, uint32_t priority = LOW,
                             uint32_t flags = IMMEDIATELY, uint64_t wait_serial = 0)
    {
        res_args = resources;
        list = {static_cast<uint32_t>(res_args.size()), nullptr, res_args.data()};
        return CallOffer(priority, flags, wait_serial);
    }
    kmt_error CallOffer(uint32_t priority, uint32_t flags, uint64_t wait_serial)
    {
        error = {};
        error.code = static_cast<kmt_error>(-1);
        reoffered = 0xdead;
        return kmt_offer(&t, &list, priority, flags, wait_serial, &error, &reoffered);
    }

    kmt_error Reclaim(const std::vector<uint64_t> &memories, uint64_t fill_completed = 0, bool device_lost = false)
    {
        mem_args.clear();
        for (uint64_t h : memories)
            mem_args.push_back(Mem(h));
        list = {static_cast<uint32_t>(mem_args.size()), mem_args.data(), nullptr};
        return CallReclaim(fill_completed, device_lost);
    }
    kmt_error ReclaimResources(const std::vector<VkOfferResourceKMT> &resources, uint64_t fill_completed = 0,
                               bool device_lost = false)
    {
        res_args = resources;
        list = {static_cast<uint32_t>(res_args.size()), nullptr, res_args.data()};
        return CallReclaim(fill_completed, device_lost);
    }
    kmt_error CallReclaim(uint64_t fill_completed, bool device_lost)
    {
        // Sentinels: a rejected call must not write any output.
        results.assign(list.count ? list.count : 1, static_cast<VkReclaimResultKMT>(0x7777));
        discarded.assign(list.count ? list.count : 1, 0x5555);
        fence = 0xfeedu;
        error = {};
        error.code = static_cast<kmt_error>(-1);
        return kmt_reclaim(&t, &list, results.data(), discarded.data(), fill_completed, device_lost, &error, &fence);
    }

    Snapshot Snap()
    {
        Snapshot s;
        for (uint32_t i = 0; i <= t.memories.mask; i++) {
            if (!t.memories.keys[i])
                continue;
            const auto *m = static_cast<const kmt_memory *>(t.memories.values[i]);
            s.memories[m->handle] = {m->status,        m->offer_priority, m->offer_flags,    m->app_priority,
                                     m->driver_priority, m->discard_count,  m->resource_count, m->wait_serial,
                                     m->offer_order,   m->serial,         m->size};
        }
        for (uint32_t i = 0; i <= t.resources.mask; i++) {
            if (!t.resources.keys[i])
                continue;
            const auto *r = static_cast<const kmt_resource *>(t.resources.values[i]);
            s.resources[r->handle] = r->memory;
        }
        s.lists.push_back(ListHandles(t.pending));
        for (const auto &l : t.offered)
            s.lists.push_back(ListHandles(l));
        s.heap_usage.assign(t.heap_usage, t.heap_usage + VK_MAX_MEMORY_HEAPS);
        s.counters = t.counters;
        s.driver_calls = driver.calls.size();
        s.next_offer_order = t.next_offer_order;
        return s;
    }
    void ExpectUnchangedExceptRejection(const Snapshot &before)
    {
        Snapshot after = Snap();
        EXPECT_EQ(after.memories, before.memories);
        EXPECT_EQ(after.resources, before.resources);
        EXPECT_EQ(after.lists, before.lists);
        EXPECT_EQ(after.heap_usage, before.heap_usage);
        EXPECT_EQ(after.driver_calls, before.driver_calls) << "the driver was called by a rejected call";
        EXPECT_EQ(after.next_offer_order, before.next_offer_order);
        kmt_counters expected = before.counters;
        expected.rejected_calls++;
        EXPECT_EQ(std::memcmp(&after.counters, &expected, sizeof(expected)), 0)
            << "counters other than rejected_calls changed";
        EXPECT_EQ(after.counters.rejected_calls, before.counters.rejected_calls + 1);
    }

    std::string Message(const char *command)
    {
        char buffer[512];
        kmt_format_error(&error, command, &list, buffer, sizeof(buffer));
        return buffer;
    }

    Driver driver;
    kmt_tracker t{};
    std::vector<VkDeviceMemory> mem_args;
    std::vector<VkOfferResourceKMT> res_args;
    kmt_handle_list list{};
    kmt_error_info error{};
    uint32_t reoffered = 0;
    std::vector<VkReclaimResultKMT> results;
    std::vector<VkBool32> discarded;
    uint64_t fence = 0;
};

// ---- RESIDENT -> OFFER_PENDING -> OFFERED -------------------------------------

TEST_F(OfferStateMachine, TrackedMemoryStartsResidentWithTheAppPriority)
{
    Track(0x10, 3 * MiB, 0.75f, 1, true);
    kmt_memory *m = M(0x10);
    EXPECT_EQ(m->status, RESIDENT);
    EXPECT_EQ(m->offer_priority, 0);
    EXPECT_EQ(m->app_priority, 0.75f);
    EXPECT_EQ(m->driver_priority, 0.75f);
    EXPECT_EQ(m->heap_index, 1);
    EXPECT_TRUE(m->host_visible);
    EXPECT_EQ(t.heap_usage[1], 3 * MiB);
    EXPECT_TRUE(driver.calls.empty());
}

TEST_F(OfferStateMachine, OfferImmediatelyMakesMemoryOfferedAndDemotesIt)
{
    Track(0x10);
    EXPECT_EQ(Offer({0x10}, NORMAL, IMMEDIATELY, 42), KMT_OK);
    EXPECT_EQ(error.code, KMT_OK);
    EXPECT_EQ(reoffered, 0u);
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(M(0x10)->offer_priority, NORMAL);
    EXPECT_EQ(M(0x10)->offer_flags, IMMEDIATELY);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority)}));
    EXPECT_EQ(ListHandles(t.offered[NORMAL - 1]), std::vector<uint64_t>{0x10});
    EXPECT_EQ(t.counters.offers, 1u);
    EXPECT_EQ(t.counters.bytes_offered, MiB);
    EXPECT_EQ(t.heap_usage[0], MiB) << "offered memory still holds its payload";
}

TEST_F(OfferStateMachine, OfferWithNothingPendingMakesMemoryOfferedAtOnce)
{
    Track(0x10);
    EXPECT_EQ(Offer({0x10}, LOW, 0, /*wait_serial*/ 0), KMT_OK);
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority)}));
}

TEST_F(OfferStateMachine, OfferWithAWaitSerialLeavesMemoryPendingAndItsPriorityAlone)
{
    Track(0x10);
    EXPECT_EQ(Offer({0x10}, HIGH, 0, 7), KMT_OK);
    EXPECT_EQ(Status(0x10), PENDING);
    EXPECT_EQ(M(0x10)->wait_serial, 7u);
    EXPECT_EQ(M(0x10)->offer_priority, HIGH);
    EXPECT_TRUE(driver.calls.empty());
    EXPECT_EQ(ListHandles(t.pending), std::vector<uint64_t>{0x10});
    EXPECT_EQ(t.counters.offers, 1u);
}

TEST_F(OfferStateMachine, PromotePendingOffersWhatHasCompletedInOfferOrder)
{
    Track(0xa);
    Track(0xb);
    Track(0xc);
    ASSERT_EQ(Offer({0xa}, LOW, 0, 5), KMT_OK);
    ASSERT_EQ(Offer({0xb}, LOW, 0, 7), KMT_OK);
    ASSERT_EQ(Offer({0xc}, LOW, 0, 9), KMT_OK);
    EXPECT_EQ(kmt_promote_pending(&t, 4), 0u);
    EXPECT_TRUE(driver.calls.empty());
    EXPECT_EQ(kmt_promote_pending(&t, 7), 2u) << "wait_serial <= completed: 5 and 7";
    EXPECT_EQ(driver.calls, Calls({P(0xa, kOfferedPriority), P(0xb, kOfferedPriority)}));
    EXPECT_EQ(Status(0xa), OFFERED);
    EXPECT_EQ(Status(0xb), OFFERED);
    EXPECT_EQ(Status(0xc), PENDING);
    EXPECT_EQ(ListHandles(t.offered[0]), std::vector<uint64_t>({0xa, 0xb}));
    EXPECT_EQ(kmt_promote_pending(&t, 8), 0u);
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 1u);
    EXPECT_EQ(Status(0xc), OFFERED);
    EXPECT_EQ(t.pending.count, 0u);
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 0u);
    EXPECT_EQ(driver.calls.size(), 3u);
}

// The header promises "OFFER_PENDING memory whose wait_serial <=
// completed_serial becomes OFFERED", but the pending list is appended in call
// order and promotion stops at the first entry not yet complete.
TEST_F(OfferStateMachine, PromotePendingHonoursWaitSerialsOfferedOutOfOrder)
{
    Track(0xa);
    Track(0xb);
    ASSERT_EQ(Offer({0xa}, LOW, 0, 9), KMT_OK);
    ASSERT_EQ(Offer({0xb}, LOW, 0, 5), KMT_OK);
    EXPECT_EQ(kmt_promote_pending(&t, 5), 1u);
    EXPECT_EQ(Status(0xb), OFFERED);
    EXPECT_EQ(Status(0xa), PENDING);
}

// ---- reclaim -----------------------------------------------------------------

TEST_F(OfferStateMachine, ReclaimingNeverOfferedMemoryReturnsOkAndFenceZero)
{
    Track(0x10);
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(error.code, KMT_OK);
    EXPECT_EQ(results[0], RES_OK);
    EXPECT_EQ(discarded[0], VK_FALSE);
    EXPECT_EQ(fence, 0u);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_TRUE(driver.calls.empty());
    EXPECT_EQ(t.counters.reclaims, 1u);
}

TEST_F(OfferStateMachine, ReclaimingPendingMemoryReturnsOkWithoutPriorityCalls)
{
    Track(0x10, MiB, 0.9f);
    ASSERT_EQ(Offer({0x10}, LOW, 0, 3), KMT_OK);
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_OK);
    EXPECT_EQ(discarded[0], VK_FALSE);
    EXPECT_EQ(fence, 0u);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_EQ(M(0x10)->offer_priority, 0);
    EXPECT_EQ(t.pending.count, 0u);
    EXPECT_TRUE(driver.calls.empty()) << "the driver never saw the demotion, so nothing to restore";
    EXPECT_EQ(kmt_promote_pending(&t, UINT64_MAX), 0u) << "a reclaimed offer is not promoted later";
    EXPECT_EQ(Status(0x10), RESIDENT);
}

TEST_F(OfferStateMachine, ReclaimingOfferedMemoryRestoresTheAppPriority)
{
    Track(0x10, MiB, 0.8f);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_OK);
    EXPECT_EQ(fence, 0u);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_EQ(M(0x10)->offer_priority, 0);
    EXPECT_EQ(M(0x10)->offer_flags, 0);
    EXPECT_EQ(M(0x10)->driver_priority, 0.8f);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), P(0x10, 0.8f)}));
    EXPECT_EQ(t.offered[0].count, 0u);
}

TEST_F(OfferStateMachine, AppPrioritySetWhileOfferedIsRememberedAndRestoredOnReclaim)
{
    Track(0x10, MiB, 0.5f);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    EXPECT_FALSE(kmt_set_app_priority(&t, 0x10, 0.9f)) << "the driver must not get it while demoted";
    EXPECT_EQ(M(0x10)->app_priority, 0.9f);
    EXPECT_EQ(M(0x10)->driver_priority, kOfferedPriority);
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), P(0x10, 0.9f)}));
    EXPECT_EQ(M(0x10)->driver_priority, 0.9f);
}

TEST_F(OfferStateMachine, AppPrioritySetWhileDiscardedIsRememberedToo)
{
    Track(0x10, MiB, 0.5f);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    kmt_discard(&t, M(0x10));
    EXPECT_FALSE(kmt_set_app_priority(&t, 0x10, 0.3f));
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), F(0x10), P(0x10, 0.3f)}));
}

TEST_F(OfferStateMachine, AppPrioritySetWhileResidentOrPendingGoesToTheDriverAtOnce)
{
    Track(0x10, MiB, 0.5f);
    EXPECT_TRUE(kmt_set_app_priority(&t, 0x10, 0.7f));
    EXPECT_EQ(M(0x10)->driver_priority, 0.7f);
    ASSERT_EQ(Offer({0x10}, LOW, 0, 5), KMT_OK);
    EXPECT_TRUE(kmt_set_app_priority(&t, 0x10, 0.6f)) << "pending memory is not demoted yet";
    EXPECT_EQ(M(0x10)->driver_priority, 0.6f);
    EXPECT_TRUE(driver.calls.empty()) << "the glue forwards the app's own call, not the tracker";
    ASSERT_EQ(kmt_promote_pending(&t, 5), 1u);
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), P(0x10, 0.6f)}));
    EXPECT_TRUE(kmt_set_app_priority(&t, 0xdead, 0.1f)) << "untracked memory: pass it through";
}

// ---- re-offer -------------------------------------------------------------------

TEST_F(OfferStateMachine, ReofferingOfferedMemoryReprioritisesAndCountsIt)
{
    Track(0xa);
    Track(0xb);
    Track(0xc);
    ASSERT_EQ(Offer({0xa, 0xb, 0xc}, LOW), KMT_OK);
    EXPECT_EQ(ListHandles(t.offered[0]), std::vector<uint64_t>({0xa, 0xb, 0xc}));
    const size_t calls = driver.calls.size();

    EXPECT_EQ(Offer({0xa}, LOW), KMT_OK);
    EXPECT_EQ(reoffered, 1u);
    EXPECT_EQ(ListHandles(t.offered[0]), std::vector<uint64_t>({0xb, 0xc, 0xa})) << "a new offer is the newest";

    EXPECT_EQ(Offer({0xb, 0x0c}, HIGH, DECOMMIT), KMT_OK);
    EXPECT_EQ(reoffered, 2u);
    EXPECT_EQ(Status(0xb), OFFERED) << "re-offering never re-pends offered memory";
    EXPECT_EQ(M(0xb)->offer_priority, HIGH);
    EXPECT_EQ(M(0xb)->offer_flags, DECOMMIT);
    EXPECT_EQ(ListHandles(t.offered[0]), std::vector<uint64_t>({0xa}));
    EXPECT_EQ(ListHandles(t.offered[2]), std::vector<uint64_t>({0xb, 0xc}));

    EXPECT_EQ(driver.calls.size(), calls) << "already demoted: no priority call";
    EXPECT_EQ(t.counters.offers, 6u);
    EXPECT_EQ(t.counters.reoffers, 3u);
    EXPECT_EQ(t.counters.bytes_offered, 6 * MiB);
    EXPECT_GT(M(0xc)->offer_order, M(0xb)->offer_order);
    EXPECT_GT(M(0xb)->offer_order, M(0xa)->offer_order);
}

TEST_F(OfferStateMachine, ReofferingPendingMemoryCountsAndImmediatelyOffersItNow)
{
    Track(0x10);
    ASSERT_EQ(Offer({0x10}, LOW, 0, 5), KMT_OK);
    EXPECT_EQ(Offer({0x10}, NORMAL, 0, 8), KMT_OK);
    EXPECT_EQ(reoffered, 1u);
    EXPECT_EQ(Status(0x10), PENDING);
    EXPECT_EQ(M(0x10)->offer_priority, NORMAL);
    EXPECT_TRUE(driver.calls.empty());
    EXPECT_EQ(Offer({0x10}, NORMAL, IMMEDIATELY), KMT_OK);
    EXPECT_EQ(reoffered, 1u);
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(t.pending.count, 0u);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority)}));
    EXPECT_EQ(t.counters.reoffers, 2u);
}

TEST_F(OfferStateMachine, ReofferingDiscardedMemoryKeepsItDiscarded)
{
    Track(0x10);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    kmt_discard(&t, M(0x10));
    EXPECT_EQ(Offer({0x10}, HIGH, DECOMMIT), KMT_OK);
    EXPECT_EQ(reoffered, 1u);
    EXPECT_EQ(Status(0x10), DISCARDED);
    EXPECT_EQ(M(0x10)->offer_priority, HIGH);
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_DISCARDED) << "the discard is still reported";
}

// ---- AUTO and validation of priority/flags ---------------------------------------------

TEST_F(OfferStateMachine, AutoPriorityResolvesFromTheAppPriorityInThirds)
{
    const struct {
        float app;
        VkOfferPriorityKMT expected;
    } cases[] = {{0.0f, VK_OFFER_PRIORITY_LOW_KMT},      {0.33f, VK_OFFER_PRIORITY_LOW_KMT},
                 {1.0f / 3.0f, VK_OFFER_PRIORITY_NORMAL_KMT}, {0.5f, VK_OFFER_PRIORITY_NORMAL_KMT},
                 {0.66f, VK_OFFER_PRIORITY_NORMAL_KMT},  {2.0f / 3.0f, VK_OFFER_PRIORITY_HIGH_KMT},
                 {1.0f, VK_OFFER_PRIORITY_HIGH_KMT}};
    for (const auto &c : cases)
        EXPECT_EQ(kmt_resolve_priority(AUTO, c.app), c.expected) << "app priority " << c.app;
    for (uint32_t p : {LOW, NORMAL, HIGH})
        for (float app : {0.0f, 0.5f, 1.0f})
            EXPECT_EQ(kmt_resolve_priority(p, app), static_cast<VkOfferPriorityKMT>(p));
}

TEST_F(OfferStateMachine, AutoOfferIsStoredAndReportedResolved)
{
    Track(0xa, MiB, 0.1f);
    Track(0xb, MiB, 0.5f);
    Track(0xc, MiB, 0.9f);
    ASSERT_EQ(Offer({0xa, 0xb, 0xc}, AUTO), KMT_OK);
    EXPECT_EQ(M(0xa)->offer_priority, LOW);
    EXPECT_EQ(M(0xb)->offer_priority, NORMAL);
    EXPECT_EQ(M(0xc)->offer_priority, HIGH);
    VkAllocationStateKMT state{};
    kmt_fill_state(&t, M(0xc), &state);
    EXPECT_EQ(state.offerPriority, VK_OFFER_PRIORITY_HIGH_KMT);
    EXPECT_EQ(ListHandles(t.offered[0]), std::vector<uint64_t>{0xa});
    EXPECT_EQ(ListHandles(t.offered[1]), std::vector<uint64_t>{0xb});
    EXPECT_EQ(ListHandles(t.offered[2]), std::vector<uint64_t>{0xc});
}

TEST_F(OfferStateMachine, PriorityOutsideOneToFourIsRejected)
{
    Track(0x10);
    for (uint32_t bad : {0u, 5u, 0x7fffffffu, 0xffffffffu}) {
        Snapshot before = Snap();
        EXPECT_EQ(Offer({0x10}, bad), KMT_ERROR_PRIORITY) << bad;
        EXPECT_EQ(error.code, KMT_ERROR_PRIORITY);
        EXPECT_EQ(error.other, bad);
        ExpectUnchangedExceptRejection(before);
    }
    for (uint32_t good : {LOW, NORMAL, HIGH, AUTO}) {
        EXPECT_EQ(Offer({0x10}, good), KMT_OK) << good;
        ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    }
}

TEST_F(OfferStateMachine, UnknownFlagBitsAreRejected)
{
    Track(0x10);
    for (uint32_t bad : {0x4u, 0x7u, 0x80000000u}) {
        Snapshot before = Snap();
        EXPECT_EQ(Offer({0x10}, LOW, bad), KMT_ERROR_FLAGS) << bad;
        EXPECT_EQ(error.other, bad);
        ExpectUnchangedExceptRejection(before);
        char unknown[32];
        snprintf(unknown, sizeof(unknown), "unknown bits 0x%x", bad & ~3u);
        EXPECT_NE(Message("vkOfferAllocationsKMT").find(unknown), std::string::npos) << Message("x");
    }
    EXPECT_EQ(Offer({0x10}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
}

// ---- the shape of the call -------------------------------------------------------------

TEST_F(OfferStateMachine, CountZeroIsRejected)
{
    Track(0x10);
    VkDeviceMemory mem = Mem(0x10);
    list = {0, &mem, nullptr};
    Snapshot before = Snap();
    EXPECT_EQ(CallOffer(LOW, IMMEDIATELY, 0), KMT_ERROR_COUNT_ZERO);
    ExpectUnchangedExceptRejection(before);
    before = Snap();
    EXPECT_EQ(CallReclaim(0, false), KMT_ERROR_COUNT_ZERO);
    ExpectUnchangedExceptRejection(before);
    EXPECT_NE(Message("vkReclaimAllocationsKMT").find("allocationCount"), std::string::npos);
}

TEST_F(OfferStateMachine, BothOrNeitherHandleArrayIsRejected)
{
    Track(0x10);
    Bind(0x20, 0x10);
    VkDeviceMemory mem = Mem(0x10);
    VkOfferResourceKMT res = Buf(0x20);
    const kmt_handle_list bad[] = {{1, &mem, &res}, {1, nullptr, nullptr}};
    for (const auto &b : bad) {
        list = b;
        Snapshot before = Snap();
        EXPECT_EQ(CallOffer(LOW, IMMEDIATELY, 0), KMT_ERROR_ARRAYS);
        ExpectUnchangedExceptRejection(before);
        std::string msg = Message("vkOfferAllocationsKMT");
        EXPECT_NE(msg.find(b.memories ? "both are set" : "both are NULL"), std::string::npos) << msg;
        before = Snap();
        EXPECT_EQ(CallReclaim(0, false), KMT_ERROR_ARRAYS);
        ExpectUnchangedExceptRejection(before);
    }
}

// ---- per-element validation -------------------------------------------------------------

TEST_F(OfferStateMachine, UnknownMemoryIsRejectedAtItsIndex)
{
    Track(0xa);
    Track(0xb);
    Snapshot before = Snap();
    EXPECT_EQ(Offer({0xa, 0xb, 0xdead}), KMT_ERROR_UNKNOWN_MEMORY);
    EXPECT_EQ(error.index, 2u);
    EXPECT_EQ(error.handle, 0xdeadu);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("vkOfferAllocationsKMT"), std::string::npos) << msg;
    EXPECT_NE(msg.find("pMemories[2]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("0xdead"), std::string::npos) << msg;

    before = Snap();
    EXPECT_EQ(Reclaim({0xdead, 0xa}), KMT_ERROR_UNKNOWN_MEMORY);
    EXPECT_EQ(error.index, 0u);
    ExpectUnchangedExceptRejection(before);
}

TEST_F(OfferStateMachine, DuplicateMemoryIsRejectedAtItsSecondListing)
{
    Track(0xa);
    Track(0xb);
    Snapshot before = Snap();
    EXPECT_EQ(Offer({0xa, 0xb, 0xa}), KMT_ERROR_DUPLICATE);
    EXPECT_EQ(error.index, 2u);
    EXPECT_EQ(error.handle, 0xau);
    ExpectUnchangedExceptRejection(before);
    EXPECT_NE(Message("vkOfferAllocationsKMT").find("pMemories[2]"), std::string::npos);

    ASSERT_EQ(Offer({0xa, 0xb}), KMT_OK);
    before = Snap();
    EXPECT_EQ(Reclaim({0xb, 0xb}), KMT_ERROR_DUPLICATE);
    EXPECT_EQ(error.index, 1u);
    ExpectUnchangedExceptRejection(before);
    EXPECT_EQ(Status(0xb), OFFERED);
}

TEST_F(OfferStateMachine, DuplicateResourceIsRejected)
{
    Track(0x10);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10, VK_OBJECT_TYPE_IMAGE);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20), Img(0x21), Buf(0x20)}), KMT_ERROR_DUPLICATE);
    EXPECT_EQ(error.index, 2u);
    EXPECT_EQ(error.handle, 0x20u);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pResources[2]"), std::string::npos) << msg;

    before = Snap();
    EXPECT_EQ(ReclaimResources({Img(0x21), Img(0x21)}), KMT_ERROR_DUPLICATE);
    EXPECT_EQ(error.index, 1u);
    ExpectUnchangedExceptRejection(before);
}

TEST_F(OfferStateMachine, TwoResourcesOfOneMemoryInOneCallOfferTheMemoryOnce)
{
    Track(0x10, 2 * MiB);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10, VK_OBJECT_TYPE_IMAGE);
    EXPECT_EQ(OfferResources({Buf(0x20), Img(0x21)}), KMT_OK);
    EXPECT_EQ(reoffered, 0u) << "listing two of its resources is not a re-offer";
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(t.counters.offers, 1u);
    EXPECT_EQ(t.counters.bytes_offered, 2 * MiB);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority)}));
    EXPECT_EQ(t.offered[0].count, 1u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), M(0x10));

    kmt_discard(&t, M(0x10));
    EXPECT_EQ(ReclaimResources({Img(0x21), Buf(0x20)}), KMT_OK);
    EXPECT_EQ(results[0], RES_DISCARDED) << "both resources report the memory's outcome";
    EXPECT_EQ(results[1], RES_DISCARDED);
    EXPECT_EQ(t.counters.reclaims, 1u) << "the memory is reclaimed once";
    EXPECT_EQ(Status(0x10), RESIDENT);
}

TEST_F(OfferStateMachine, ResourceWithAnObjectTypeOtherThanBufferOrImageIsRejected)
{
    Track(0x10);
    Bind(0x20, 0x10);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20), {VK_OBJECT_TYPE_DEVICE_MEMORY, 0x10}}), KMT_ERROR_RESOURCE_TYPE);
    EXPECT_EQ(error.index, 1u);
    EXPECT_EQ(error.other, static_cast<uint64_t>(VK_OBJECT_TYPE_DEVICE_MEMORY));
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pResources[1]"), std::string::npos) << msg;

    before = Snap();
    EXPECT_EQ(ReclaimResources({{VK_OBJECT_TYPE_UNKNOWN, 0x20}}), KMT_ERROR_RESOURCE_TYPE);
    EXPECT_EQ(error.index, 0u);
    ExpectUnchangedExceptRejection(before);
}

TEST_F(OfferStateMachine, ResourceListedWithTheOtherTypeIsUnknown)
{
    Track(0x10);
    Bind(0x20, 0x10); // a buffer
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Img(0x20)}), KMT_ERROR_UNKNOWN_RESOURCE);
    EXPECT_EQ(error.index, 0u);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pResources[0]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("VkImage"), std::string::npos) << msg;
}

TEST_F(OfferStateMachine, UnknownResourceIsRejected)
{
    Track(0x10);
    Bind(0x20, 0x10);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20), Buf(0xbeef)}), KMT_ERROR_UNKNOWN_RESOURCE);
    EXPECT_EQ(error.index, 1u);
    EXPECT_EQ(error.handle, 0xbeefu);
    ExpectUnchangedExceptRejection(before);
    before = Snap();
    EXPECT_EQ(ReclaimResources({Buf(0xbeef)}), KMT_ERROR_UNKNOWN_RESOURCE);
    ExpectUnchangedExceptRejection(before);
    // Binding to untracked memory tracks nothing.
    EXPECT_TRUE(kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x30, 0x999));
    EXPECT_EQ(kmt_resource_memory(&t, 0x30), nullptr);
    before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x30)}), KMT_ERROR_UNKNOWN_RESOURCE);
    ExpectUnchangedExceptRejection(before);
}

TEST_F(OfferStateMachine, ResourceWhoseMemoryWasFreedIsRejected)
{
    Track(0x10);
    Track(0x11);
    Bind(0x20, 0x10);
    Bind(0x21, 0x11);
    kmt_untrack_memory(&t, 0x10);
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), nullptr);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x21), Buf(0x20)}), KMT_ERROR_RESOURCE_MEMORY_FREED);
    EXPECT_EQ(error.index, 1u);
    EXPECT_EQ(error.handle, 0x20u);
    EXPECT_EQ(error.other, 0x10u);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pResources[1]"), std::string::npos) << msg;
    before = Snap();
    EXPECT_EQ(ReclaimResources({Buf(0x20)}), KMT_ERROR_RESOURCE_MEMORY_FREED);
    ExpectUnchangedExceptRejection(before);
}

TEST_F(OfferStateMachine, NewAllocationReusingAFreedHandleIsNotAliasedByOldResources)
{
    Track(0x10);
    Bind(0x20, 0x10);
    const uint64_t old_serial = M(0x10)->serial;
    kmt_untrack_memory(&t, 0x10);
    Track(0x10); // the driver hands out the same handle again
    EXPECT_NE(M(0x10)->serial, old_serial);
    EXPECT_EQ(M(0x10)->resource_count, 0u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), nullptr) << "the old buffer must not alias the new memory";

    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20)}), KMT_ERROR_RESOURCE_MEMORY_FREED);
    ExpectUnchangedExceptRejection(before);

    Bind(0x21, 0x10);
    EXPECT_EQ(M(0x10)->resource_count, 1u);
    kmt_untrack_resource(&t, 0x20); // the stale buffer is destroyed
    EXPECT_EQ(M(0x10)->resource_count, 1u) << "destroying the stale buffer must not touch the new memory";
    EXPECT_EQ(OfferResources({Buf(0x21)}), KMT_OK) << "the shared-memory rule sees only the real resource";
    EXPECT_EQ(Status(0x10), OFFERED);
}

TEST_F(OfferStateMachine, TrackingALiveHandleAgainReplacesItsRecord)
{
    Track(0x10, 4 * MiB);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    Track(0x10, MiB); // a free the layer missed
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_EQ(t.offered[0].count, 0u);
    EXPECT_EQ(t.heap_usage[0], MiB);
}

TEST_F(OfferStateMachine, MappedMemoryOfferIsRejected)
{
    Track(0xa);
    Track(0xb);
    Bind(0x20, 0xb);
    M(0xb)->mapped = true;
    Snapshot before = Snap();
    EXPECT_EQ(Offer({0xa, 0xb}), KMT_ERROR_MAPPED);
    EXPECT_EQ(error.index, 1u);
    EXPECT_EQ(error.other, 0xbu);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pMemories[1]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("mapped"), std::string::npos) << msg;

    before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x20)}), KMT_ERROR_MAPPED);
    ExpectUnchangedExceptRejection(before);
    EXPECT_NE(Message("vkOfferAllocationsKMT").find("pResources[0].objectHandle"), std::string::npos);

    M(0xb)->mapped = false;
    EXPECT_EQ(Offer({0xa, 0xb}), KMT_OK);
}

TEST_F(OfferStateMachine, DecommittedMemoryOfferIsRejected)
{
    Track(0xa);
    Track(0xb);
    ASSERT_EQ(Offer({0xb}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
    kmt_discard(&t, M(0xb));
    ASSERT_EQ(Status(0xb), DECOMMITTED);
    Snapshot before = Snap();
    EXPECT_EQ(Offer({0xa, 0xb}), KMT_ERROR_DECOMMITTED);
    EXPECT_EQ(error.index, 1u);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pMemories[1]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("decommitted"), std::string::npos) << msg;
}

TEST_F(OfferStateMachine, ResourceOfferMustListEveryResourceBoundToItsMemory)
{
    Track(0x10);
    Track(0x11);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10, VK_OBJECT_TYPE_IMAGE);
    Bind(0x22, 0x10);
    Bind(0x30, 0x11);
    Snapshot before = Snap();
    EXPECT_EQ(OfferResources({Buf(0x30), Buf(0x20), Img(0x21)}), KMT_ERROR_SHARED_MEMORY);
    EXPECT_EQ(error.index, 1u) << "the first listed resource of the shared memory";
    EXPECT_EQ(error.handle, 0x20u);
    EXPECT_EQ(error.other, 0x10u);
    ExpectUnchangedExceptRejection(before);
    std::string msg = Message("vkOfferAllocationsKMT");
    EXPECT_NE(msg.find("pResources[1]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("0x10"), std::string::npos) << msg;

    // All three together, or the memory itself, are fine.
    EXPECT_EQ(OfferResources({Buf(0x22), Buf(0x30), Buf(0x20), Img(0x21)}), KMT_OK);
    EXPECT_EQ(Status(0x10), OFFERED);
    EXPECT_EQ(Status(0x11), OFFERED);
    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(Offer({0x10}), KMT_OK) << "offering the memory offers all its resources";
    // Reclaim does not need the whole set.
    EXPECT_EQ(ReclaimResources({Buf(0x22)}), KMT_OK);
    EXPECT_EQ(Status(0x10), RESIDENT);
    // Once the others are destroyed a single resource is the whole set.
    kmt_untrack_resource(&t, 0x21);
    kmt_untrack_resource(&t, 0x22);
    EXPECT_EQ(OfferResources({Buf(0x20)}), KMT_OK);
}

// ---- all-or-nothing and the first offending element -------------------------------------

// A call with several bad elements names the first; valid elements before it
// (including memory in every state) are untouched.
TEST_F(OfferStateMachine, RejectedCallsChangeNothingAndNameTheFirstOffendingIndex)
{
    Track(0x1);                       // resident
    Track(0x2);                       // offered
    Track(0x3);                       // pending
    Track(0x4);                       // discarded
    Track(0x5);                       // decommitted
    Track(0x6);                       // mapped
    Track(0x7);                       // backs buffers 0x70 and 0x71
    Track(0x8);                       // backs image 0x80
    Track(0x9);                       // freed; buffer 0x90 was bound to it
    Bind(0x70, 0x7);
    Bind(0x71, 0x7);
    Bind(0x80, 0x8, VK_OBJECT_TYPE_IMAGE);
    Bind(0x90, 0x9);
    kmt_untrack_memory(&t, 0x9);
    ASSERT_EQ(Offer({0x2}, NORMAL), KMT_OK);
    ASSERT_EQ(Offer({0x3}, HIGH, 0, 11), KMT_OK);
    ASSERT_EQ(Offer({0x4, 0x5}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
    ASSERT_EQ(Offer({0x4}, LOW), KMT_OK); // without DECOMMIT: discarded, not decommitted
    kmt_discard(&t, M(0x4));
    kmt_discard(&t, M(0x5));
    M(0x6)->mapped = true;
    ASSERT_EQ(Status(0x4), DISCARDED);
    ASSERT_EQ(Status(0x5), DECOMMITTED);

    struct Case {
        const char *name;
        bool offer;
        std::vector<uint64_t> memories;
        std::vector<VkOfferResourceKMT> resources;
        kmt_error code;
        uint32_t index;
        const char *text; // in the message
    };
    const Case cases[] = {
        {"offer unknown then duplicate", true, {0x1, 0x2, 0x3, 0x4, 0xdead, 0x1}, {}, KMT_ERROR_UNKNOWN_MEMORY, 4,
         "pMemories[4]"},
        {"offer duplicate then unknown", true, {0x1, 0x2, 0x1, 0xdead}, {}, KMT_ERROR_DUPLICATE, 2, "pMemories[2]"},
        {"offer mapped then decommitted", true, {0x3, 0x2, 0x6, 0x5}, {}, KMT_ERROR_MAPPED, 2, "pMemories[2]"},
        {"offer decommitted then mapped", true, {0x4, 0x5, 0x6}, {}, KMT_ERROR_DECOMMITTED, 1, "pMemories[1]"},
        {"offer freed-memory resource", true, {}, {Img(0x80), Buf(0x90), Buf(0xbad)}, KMT_ERROR_RESOURCE_MEMORY_FREED,
         1, "pResources[1]"},
        {"offer resource type", true, {}, {Img(0x80), {VK_OBJECT_TYPE_SAMPLER, 0x80}, Buf(0x90)},
         KMT_ERROR_RESOURCE_TYPE, 1, "pResources[1]"},
        {"offer unknown resource", true, {}, {Img(0x80), Buf(0x70), Buf(0x71), Buf(0xbad)},
         KMT_ERROR_UNKNOWN_RESOURCE, 3, "pResources[3]"},
        {"offer duplicate resource", true, {}, {Buf(0x70), Buf(0x71), Img(0x80), Buf(0x70)}, KMT_ERROR_DUPLICATE, 3,
         "pResources[3]"},
        {"offer shared memory", true, {}, {Img(0x80), Buf(0x71)}, KMT_ERROR_SHARED_MEMORY, 1, "pResources[1]"},
        {"reclaim unknown", false, {0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0xdead}, {}, KMT_ERROR_UNKNOWN_MEMORY, 6,
         "pMemories[6]"},
        {"reclaim duplicate", false, {0x2, 0x3, 0x4, 0x5, 0x2, 0xdead}, {}, KMT_ERROR_DUPLICATE, 4, "pMemories[4]"},
        {"reclaim freed-memory resource", false, {}, {Buf(0x70), Img(0x80), Buf(0x90)},
         KMT_ERROR_RESOURCE_MEMORY_FREED, 2, "pResources[2]"},
        {"reclaim unknown resource", false, {}, {Buf(0x70), Buf(0x8)}, KMT_ERROR_UNKNOWN_RESOURCE, 1,
         "pResources[1]"},
        {"reclaim duplicate resource", false, {}, {Img(0x80), Img(0x80)}, KMT_ERROR_DUPLICATE, 1, "pResources[1]"},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        Snapshot before = Snap();
        kmt_error e;
        if (c.offer)
            e = c.memories.empty() ? OfferResources(c.resources) : Offer(c.memories);
        else
            e = c.memories.empty() ? ReclaimResources(c.resources) : Reclaim(c.memories);
        EXPECT_EQ(e, c.code);
        EXPECT_EQ(error.code, c.code);
        EXPECT_EQ(error.index, c.index);
        ExpectUnchangedExceptRejection(before);
        if (!c.offer) {
            for (size_t i = 0; i < results.size(); i++) {
                EXPECT_EQ(results[i], static_cast<VkReclaimResultKMT>(0x7777)) << "pResults written";
                EXPECT_EQ(discarded[i], 0x5555u) << "pDiscarded written";
            }
            EXPECT_EQ(fence, 0xfeedu) << "fence value written";
        } else {
            EXPECT_EQ(reoffered, 0xdeadu) << "reoffered written";
        }
        const char *command = c.offer ? "vkOfferAllocationsKMT" : "vkReclaimAllocationsKMT";
        std::string msg = Message(command);
        EXPECT_NE(msg.find(c.text), std::string::npos) << msg;
        EXPECT_NE(msg.find(command), std::string::npos) << msg;
        EXPECT_EQ(std::string(kmt_error_id(c.code)).rfind("KMT-", 0), 0u);
    }
    // The state survived every rejection: the valid calls still behave.
    EXPECT_EQ(Offer({0x1}, LOW), KMT_OK);
    EXPECT_EQ(Reclaim({0x1, 0x2, 0x3, 0x4, 0x5}), KMT_OK);
    EXPECT_EQ(std::vector<VkReclaimResultKMT>(results.begin(), results.end()),
              std::vector<VkReclaimResultKMT>({RES_OK, RES_OK, RES_OK, RES_DISCARDED, RES_NOT_COMMITTED}));
}

// DESIGN.md: "a message names the first offending element". The shared-memory
// rule is checked in a second pass, so an earlier element that breaks it
// loses to a later element that breaks a per-element rule.
TEST_F(OfferStateMachine, SharedMemoryViolationBeforeAMappedElementIsTheOneNamed)
{
    Track(0x10);
    Track(0x11);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10);
    Bind(0x30, 0x11);
    M(0x11)->mapped = true;
    EXPECT_EQ(OfferResources({Buf(0x20), Buf(0x30)}), KMT_ERROR_SHARED_MEMORY);
    EXPECT_EQ(error.index, 0u);
}

TEST_F(OfferStateMachine, ErrorIdsAreStableAndDistinct)
{
    std::map<std::string, int> seen;
    for (int c = KMT_OK; c <= KMT_ERROR_OUT_OF_HOST_MEMORY; c++) {
        std::string id = kmt_error_id(static_cast<kmt_error>(c));
        EXPECT_EQ(id.rfind("KMT-", 0), 0u) << id;
        EXPECT_EQ(seen[id]++, 0) << id << " used twice";
    }
    EXPECT_STREQ(kmt_error_id(KMT_ERROR_SHARED_MEMORY), "KMT-offer-shared-memory");
    EXPECT_STREQ(kmt_error_id(KMT_ERROR_DUPLICATE), "KMT-duplicate-handle");
}

TEST_F(OfferStateMachine, FormatErrorFitsAnyBufferAndHandlesEveryCode)
{
    for (int c = KMT_OK; c <= KMT_ERROR_OUT_OF_HOST_MEMORY; c++) {
        kmt_error_info info{static_cast<kmt_error>(c), 3, 0x1234, 2};
        char big[512];
        kmt_format_error(&info, "vkOfferAllocationsKMT", nullptr, big, sizeof(big));
        EXPECT_EQ(std::string(big).rfind("vkOfferAllocationsKMT", 0), 0u) << big;
        char small[8];
        std::memset(small, 'x', sizeof(small));
        kmt_format_error(&info, "vkOfferAllocationsKMT", nullptr, small, sizeof(small));
        EXPECT_EQ(small[7], '\0');
    }
}

// ---- discard, decommit and reclaim results --------------------------------------------

TEST_F(OfferStateMachine, AFailedFillLeavesTheMemoryOfferedAndReclaimReportsOk)
{
    Track(0x7);
    ASSERT_EQ(Offer({0x7}), KMT_OK);
    driver.fill_values[0x7] = KMT_FILL_FAILED;
    kmt_discard(&t, M(0x7));
    EXPECT_EQ(Status(0x7), OFFERED) << "a discard is only reported once the contents are really replaced";
    EXPECT_EQ(t.counters.discards, 0u);
    EXPECT_EQ(M(0x7)->discard_count, 0u);
    ASSERT_EQ(Reclaim({0x7}), KMT_OK);
    EXPECT_EQ(results[0], RES_OK);
}

TEST_F(OfferStateMachine, DiscardOnlyActsOnOfferedMemory)
{
    Track(0x1);
    Track(0x2);
    Track(0x3);
    ASSERT_EQ(Offer({0x2}, LOW, 0, 5), KMT_OK);
    ASSERT_EQ(Offer({0x3}), KMT_OK);
    driver.calls.clear();
    for (uint64_t h : {0x1, 0x2})
        kmt_discard(&t, M(h));
    EXPECT_EQ(Status(0x1), RESIDENT);
    EXPECT_EQ(Status(0x2), PENDING) << "a pending offer's earlier GPU work may still use it";
    EXPECT_TRUE(driver.calls.empty()) << "no fill for memory that was not discarded";
    kmt_discard(&t, M(0x3));
    EXPECT_EQ(Status(0x3), DISCARDED);
    kmt_discard(&t, M(0x3)); // again: no-op
    EXPECT_EQ(driver.calls, Calls({F(0x3)}));
    // The fill runs before the state changes: a failed fill changes nothing.
    EXPECT_EQ(driver.fill_saw_status, std::vector<uint8_t>{OFFERED});
    EXPECT_EQ(M(0x3)->discard_count, 1u);
    EXPECT_EQ(t.counters.discards, 1u);
    EXPECT_EQ(t.counters.decommits, 0u);
    EXPECT_EQ(t.counters.bytes_discarded, MiB);
    EXPECT_EQ(t.offered[0].count, 0u);
}

TEST_F(OfferStateMachine, DiscardedMemoryReportsDiscardedExactlyOnceThenOk)
{
    Track(0x10, MiB, 0.6f);
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    kmt_discard(&t, M(0x10));
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_DISCARDED);
    EXPECT_EQ(discarded[0], VK_TRUE);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_OK) << "a discard is reported once";
    EXPECT_EQ(discarded[0], VK_FALSE);
    // Offer and reclaim again without a discard: OK, and the history is kept.
    ASSERT_EQ(Offer({0x10}), KMT_OK);
    EXPECT_EQ(Reclaim({0x10}), KMT_OK);
    EXPECT_EQ(results[0], RES_OK);
    EXPECT_EQ(M(0x10)->discard_count, 1u);
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority), F(0x10), P(0x10, 0.6f), P(0x10, kOfferedPriority),
                                   P(0x10, 0.6f)}));
}

TEST_F(OfferStateMachine, AllowDecommitMakesDiscardDecommitAndReclaimReportsNotCommittedForever)
{
    Track(0x10, 2 * MiB, 0.6f);
    ASSERT_EQ(Offer({0x10}, NORMAL, IMMEDIATELY | DECOMMIT), KMT_OK);
    kmt_discard(&t, M(0x10));
    EXPECT_EQ(Status(0x10), DECOMMITTED);
    EXPECT_EQ(t.counters.decommits, 1u);
    EXPECT_EQ(t.counters.discards, 0u);
    EXPECT_EQ(t.counters.bytes_discarded, 2 * MiB);
    EXPECT_EQ(M(0x10)->discard_count, 1u);
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(Reclaim({0x10}), KMT_OK);
        EXPECT_EQ(results[0], RES_NOT_COMMITTED) << "reclaim " << i;
        EXPECT_EQ(discarded[0], VK_TRUE);
        EXPECT_EQ(fence, 0u);
        EXPECT_EQ(Status(0x10), DECOMMITTED);
    }
    EXPECT_EQ(driver.calls, Calls({P(0x10, kOfferedPriority)})) << "no fill, no restore for decommitted memory";
    EXPECT_EQ(t.heap_usage[0], 0u);
    EXPECT_FALSE(kmt_set_app_priority(&t, 0x10, 0.9f));
    kmt_untrack_memory(&t, 0x10);
    EXPECT_EQ(t.heap_usage[0], 0u) << "freeing decommitted memory gives nothing back twice";
}

TEST_F(OfferStateMachine, DiscardedOutputIsTrueForDiscardedAndNotCommittedOnly)
{
    Track(0x1);
    Track(0x2);
    Track(0x3);
    Track(0x4);
    ASSERT_EQ(Offer({0x1, 0x2}), KMT_OK);
    ASSERT_EQ(Offer({0x3}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
    kmt_discard(&t, M(0x2));
    kmt_discard(&t, M(0x3));
    EXPECT_EQ(Reclaim({0x1, 0x2, 0x3, 0x4}), KMT_OK);
    EXPECT_EQ(results, std::vector<VkReclaimResultKMT>({RES_OK, RES_DISCARDED, RES_NOT_COMMITTED, RES_OK}));
    EXPECT_EQ(discarded, std::vector<VkBool32>({VK_FALSE, VK_TRUE, VK_TRUE, VK_FALSE}));
}

TEST_F(OfferStateMachine, ResultsAndDiscardedMayBeNull)
{
    Track(0x1);
    Track(0x2);
    ASSERT_EQ(Offer({0x1, 0x2}), KMT_OK);
    kmt_discard(&t, M(0x2));
    VkDeviceMemory mems[] = {Mem(0x1), Mem(0x2)};
    kmt_handle_list l{2, mems, nullptr};
    EXPECT_EQ(kmt_reclaim(&t, &l, nullptr, nullptr, 0, false, nullptr, nullptr), KMT_OK);
    EXPECT_EQ(Status(0x1), RESIDENT);
    EXPECT_EQ(Status(0x2), RESIDENT);
    // Either one alone works too.
    ASSERT_EQ(Offer({0x1, 0x2}), KMT_OK);
    kmt_discard(&t, M(0x1));
    VkBool32 d[2] = {7, 7};
    EXPECT_EQ(kmt_reclaim(&t, &l, nullptr, d, 0, false, nullptr, nullptr), KMT_OK);
    EXPECT_EQ(d[0], VK_TRUE);
    EXPECT_EQ(d[1], VK_FALSE);
    ASSERT_EQ(Offer({0x1, 0x2}), KMT_OK);
    kmt_discard(&t, M(0x2));
    VkReclaimResultKMT r[2] = {};
    EXPECT_EQ(kmt_reclaim(&t, &l, r, nullptr, 0, false, nullptr, nullptr), KMT_OK);
    EXPECT_EQ(r[0], RES_OK);
    EXPECT_EQ(r[1], RES_DISCARDED);
    // And offer takes NULL error / reoffered.
    EXPECT_EQ(kmt_offer(&t, &l, LOW, IMMEDIATELY, 0, nullptr, nullptr), KMT_OK);
    EXPECT_EQ(kmt_offer(&t, &l, LOW, IMMEDIATELY, 0, nullptr, nullptr), KMT_OK);
    EXPECT_EQ(t.counters.reoffers, 2u);
    EXPECT_EQ(kmt_offer(&t, &l, 9, IMMEDIATELY, 0, nullptr, nullptr), KMT_ERROR_PRIORITY);
}

TEST_F(OfferStateMachine, DeviceLostReportsEveryResultDiscardedAndLeavesStatesAlone)
{
    Track(0x1);
    Track(0x2);
    Track(0x3);
    Track(0x4);
    Bind(0x40, 0x4);
    driver.fill_values[0x2] = 9;
    ASSERT_EQ(Offer({0x1}, LOW, 0, 5), KMT_OK);
    ASSERT_EQ(Offer({0x2, 0x3}), KMT_OK);
    kmt_discard(&t, M(0x2));
    Snapshot before = Snap();
    EXPECT_EQ(Reclaim({0x1, 0x2, 0x3, 0x4}, 0, /*device_lost*/ true), KMT_OK);
    EXPECT_EQ(results, std::vector<VkReclaimResultKMT>(4, RES_DISCARDED));
    EXPECT_EQ(discarded, std::vector<VkBool32>(4, VK_TRUE));
    EXPECT_EQ(fence, 0u) << "nothing to wait for on a lost device";
    Snapshot after = Snap();
    EXPECT_EQ(after.memories, before.memories);
    EXPECT_EQ(after.lists, before.lists);
    EXPECT_EQ(after.driver_calls, before.driver_calls);
    EXPECT_EQ(after.counters.reclaims, before.counters.reclaims);
    EXPECT_EQ(ReclaimResources({Buf(0x40)}, 0, true), KMT_OK);
    EXPECT_EQ(results[0], RES_DISCARDED);
    EXPECT_EQ(Status(0x4), RESIDENT);
    // Validation still applies.
    EXPECT_EQ(Reclaim({0xdead}, 0, true), KMT_ERROR_UNKNOWN_MEMORY);
}

TEST_F(OfferStateMachine, FenceValueIsTheHighestFillValueAboveFillCompleted)
{
    for (uint64_t h : {0x1, 0x2, 0x3, 0x4})
        Track(h);
    driver.fill_values = {{0x1, 5}, {0x2, 9}, {0x3, 3}}; // 0x4: filled on the CPU (0)
    auto discard_all = [&]() {
        ASSERT_EQ(Offer({0x1, 0x2, 0x3, 0x4}), KMT_OK);
        for (uint64_t h : {0x1, 0x2, 0x3, 0x4})
            kmt_discard(&t, M(h));
        EXPECT_EQ(M(0x2)->fill_value, 9u);
    };
    discard_all();
    EXPECT_EQ(Reclaim({0x3, 0x1, 0x2, 0x4}, 4), KMT_OK);
    EXPECT_EQ(fence, 9u);
    EXPECT_EQ(Reclaim({0x1, 0x2}, 0), KMT_OK) << "reclaimed: no fill pending any more";
    EXPECT_EQ(fence, 0u);

    discard_all();
    EXPECT_EQ(Reclaim({0x1, 0x3, 0x4}, 2), KMT_OK);
    EXPECT_EQ(fence, 5u) << "only the listed allocations count";
    EXPECT_EQ(Reclaim({0x2}, 9), KMT_OK);
    EXPECT_EQ(fence, 0u) << "fill value 9 already reached";

    discard_all();
    EXPECT_EQ(Reclaim({0x4}, 0), KMT_OK);
    EXPECT_EQ(fence, 0u) << "a CPU fill needs no wait";
    EXPECT_EQ(Reclaim({0x1, 0x2, 0x3}, 100), KMT_OK);
    EXPECT_EQ(fence, 0u);

    // Decommitted memory is never filled and never needs a wait.
    driver.fill_values[0x1] = 50;
    ASSERT_EQ(Offer({0x1}, LOW, IMMEDIATELY | DECOMMIT), KMT_OK);
    kmt_discard(&t, M(0x1));
    EXPECT_EQ(Reclaim({0x1}, 0), KMT_OK);
    EXPECT_EQ(fence, 0u);
}

TEST_F(OfferStateMachine, HeapUsageCountsOnlyAllocationsThatHoldTheirContents)
{
    Track(0x1, 1 * MiB, 0.5f, 0);
    Track(0x2, 2 * MiB, 0.5f, 1);
    Track(0x3, 4 * MiB, 0.5f, 1);
    Track(0x4, 8 * MiB, 0.5f, 99); // out-of-range heap index: counted on heap 0
    EXPECT_EQ(M(0x4)->heap_index, 0);
    EXPECT_EQ(t.heap_usage[0], 9 * MiB);
    EXPECT_EQ(t.heap_usage[1], 6 * MiB);
    ASSERT_EQ(Offer({0x1, 0x2}, LOW, 0, 5), KMT_OK);
    ASSERT_EQ(Offer({0x3}), KMT_OK);
    EXPECT_EQ(t.heap_usage[1], 6 * MiB) << "offering keeps the payload";
    kmt_discard(&t, M(0x3));
    EXPECT_EQ(t.heap_usage[1], 2 * MiB) << "discard subtracts";
    ASSERT_EQ(Reclaim({0x3}), KMT_OK);
    EXPECT_EQ(t.heap_usage[1], 6 * MiB) << "reclaim adds back";
    ASSERT_EQ(Offer({0x3}), KMT_OK);
    kmt_discard(&t, M(0x3));
    kmt_untrack_memory(&t, 0x3);
    EXPECT_EQ(t.heap_usage[1], 2 * MiB) << "freeing discarded memory subtracts nothing more";
    kmt_untrack_memory(&t, 0x2); // pending
    EXPECT_EQ(t.heap_usage[1], 0u);
    EXPECT_EQ(t.pending.count, 1u);
    kmt_untrack_memory(&t, 0x1);
    kmt_untrack_memory(&t, 0x4);
    EXPECT_EQ(t.heap_usage[0], 0u);
    EXPECT_EQ(t.pending.count, 0u);
    kmt_untrack_memory(&t, 0x4); // twice: ignored
    EXPECT_EQ(t.heap_usage[0], 0u);
}

// ---- priorities and state queries -------------------------------------------------------

TEST_F(OfferStateMachine, WithoutPageableMemoryNoPriorityIsEverSet)
{
    Reinit(false);
    Track(0x1, MiB, 0.7f);
    Track(0x2, MiB, 0.2f);
    ASSERT_EQ(Offer({0x1}), KMT_OK);
    ASSERT_EQ(Offer({0x2}, LOW, 0, 4), KMT_OK);
    ASSERT_EQ(kmt_promote_pending(&t, 4), 1u);
    EXPECT_FALSE(kmt_set_app_priority(&t, 0x1, 0.9f));
    ASSERT_EQ(Offer({0x1}, HIGH), KMT_OK);
    kmt_discard(&t, M(0x2));
    ASSERT_EQ(Reclaim({0x1, 0x2}), KMT_OK);
    EXPECT_EQ(results, std::vector<VkReclaimResultKMT>({RES_OK, RES_DISCARDED}));
    EXPECT_EQ(driver.calls, Calls({F(0x2)})) << "fills still happen, priorities never";
    VkAllocationStateKMT state{};
    kmt_fill_state(&t, M(0x1), &state);
    EXPECT_EQ(state.driverPriorityApplied, VK_FALSE);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

TEST_F(OfferStateMachine, OfferedPrioritySettingIsWhatTheDriverGets)
{
    Reinit(true, 0.25f);
    Track(0x1, MiB, 0.25f);
    Track(0x2, MiB, 0.75f);
    ASSERT_EQ(Offer({0x1, 0x2}), KMT_OK);
    EXPECT_EQ(driver.calls, Calls({P(0x2, 0.25f)})) << "0x1 already has 0.25: no redundant call";
    ASSERT_EQ(Reclaim({0x1, 0x2}), KMT_OK);
    EXPECT_EQ(driver.calls, Calls({P(0x2, 0.25f), P(0x2, 0.75f)}));
}

TEST_F(OfferStateMachine, FillStateReportsTheDriverPriorityAndTheOffer)
{
    Track(0x10, 5 * MiB, 0.6f, 2);
    VkAllocationStateKMT state{};
    state.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
    kmt_fill_state(&t, M(0x10), &state);
    EXPECT_EQ(state.sType, VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT) << "sType/pNext are the caller's";
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(state.offerPriority, 0);
    EXPECT_EQ(state.offerFlags, 0u);
    EXPECT_EQ(state.driverPriority, 0.6f);
    EXPECT_EQ(state.driverPriorityApplied, VK_TRUE);
    EXPECT_EQ(state.size, 5 * MiB);
    EXPECT_EQ(state.heapIndex, 2u);
    EXPECT_EQ(state.memoryTypeIndex, 0u);
    EXPECT_EQ(state.discardCount, 0u);

    ASSERT_EQ(Offer({0x10}, HIGH, 0, 3), KMT_OK);
    kmt_fill_state(&t, M(0x10), &state);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT);
    EXPECT_EQ(state.offerPriority, VK_OFFER_PRIORITY_HIGH_KMT);
    EXPECT_EQ(state.driverPriority, 0.6f) << "pending: not demoted yet";

    kmt_promote_pending(&t, 3);
    kmt_fill_state(&t, M(0x10), &state);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(state.driverPriority, kOfferedPriority);

    kmt_discard(&t, M(0x10));
    kmt_fill_state(&t, M(0x10), &state);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_DISCARDED_KMT);
    EXPECT_EQ(state.discardCount, 1u);

    ASSERT_EQ(Reclaim({0x10}), KMT_OK);
    kmt_fill_state(&t, M(0x10), &state);
    EXPECT_EQ(state.status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(state.offerPriority, 0);
    EXPECT_EQ(state.driverPriority, 0.6f);
    EXPECT_EQ(state.discardCount, 1u);
}

// ---- bindings ---------------------------------------------------------------------------

TEST_F(OfferStateMachine, BindingAResourceAgainRebindsIt)
{
    Track(0x10);
    Track(0x11);
    Bind(0x20, 0x10);
    EXPECT_EQ(M(0x10)->resource_count, 1u);
    Bind(0x20, 0x11);
    EXPECT_EQ(M(0x10)->resource_count, 0u);
    EXPECT_EQ(M(0x11)->resource_count, 1u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), M(0x11));
    Bind(0x20, 0x11, VK_OBJECT_TYPE_IMAGE); // the same binding again, now as an image handle
    EXPECT_EQ(M(0x11)->resource_count, 1u);
    EXPECT_EQ(OfferResources({Img(0x20)}), KMT_OK);
    EXPECT_EQ(Status(0x11), OFFERED);
    EXPECT_EQ(Status(0x10), RESIDENT);
    EXPECT_EQ(t.resources.count, 1u);
}

TEST_F(OfferStateMachine, UntrackResourceDecrementsResourceCount)
{
    Track(0x10);
    Bind(0x20, 0x10);
    Bind(0x21, 0x10);
    EXPECT_EQ(M(0x10)->resource_count, 2u);
    kmt_untrack_resource(&t, 0x20);
    EXPECT_EQ(M(0x10)->resource_count, 1u);
    EXPECT_EQ(kmt_resource_memory(&t, 0x20), nullptr);
    kmt_untrack_resource(&t, 0x20); // twice: ignored
    kmt_untrack_resource(&t, 0xbeef);
    EXPECT_EQ(M(0x10)->resource_count, 1u);
    kmt_untrack_resource(&t, 0x21);
    EXPECT_EQ(M(0x10)->resource_count, 0u);
    EXPECT_EQ(t.resources.count, 0u);
}

// ---- the call stamp ---------------------------------------------------------------------

TEST_F(OfferStateMachine, CallStampWraparoundKeepsDuplicateDetectionExact)
{
    Track(0x1);
    Track(0x2);
    Bind(0x10, 0x1);
    Bind(0x11, 0x1);
    Bind(0x20, 0x2, VK_OBJECT_TYPE_IMAGE);
    t.call_stamp = UINT32_MAX - 1;
    for (int round = 0; round < 6; round++) {
        SCOPED_TRACE("round " + std::to_string(round) + ", stamp " + std::to_string(t.call_stamp));
        EXPECT_EQ(Offer({0x1, 0x2, 0xdead}), KMT_ERROR_UNKNOWN_MEMORY); // leaves 0x1, 0x2 stamped
        EXPECT_EQ(Offer({0x1, 0x2}), KMT_OK) << "no false duplicate";
        EXPECT_EQ(Offer({0x2, 0x1, 0x2}), KMT_ERROR_DUPLICATE);
        EXPECT_EQ(error.index, 2u);
        EXPECT_EQ(Reclaim({0x2, 0x1}), KMT_OK);
        EXPECT_EQ(ReclaimResources({Buf(0x10), Img(0x20), Buf(0x10)}), KMT_ERROR_DUPLICATE);
        EXPECT_EQ(error.index, 2u);
        EXPECT_EQ(OfferResources({Buf(0x11), Img(0x20), Buf(0x10)}), KMT_OK) << "no false duplicate";
        EXPECT_EQ(ReclaimResources({Buf(0x10), Buf(0x11), Img(0x20)}), KMT_OK);
        EXPECT_EQ(Status(0x1), RESIDENT);
        EXPECT_EQ(Status(0x2), RESIDENT);
    }
    EXPECT_LT(t.call_stamp, 100u) << "the stamp wrapped";
    EXPECT_NE(t.call_stamp, 0u) << "0 is never a call's stamp";
}

// A record stamped by a call 2^32 calls ago must not look like a duplicate of
// the first call after the wrap (whose stamp is 1 again).
TEST_F(OfferStateMachine, CallStampWraparoundForgetsStampsFromBeforeTheWrap)
{
    Track(0x1);
    Track(0x2);
    Bind(0x10, 0x1);
    kmt_resource *r = static_cast<kmt_resource *>(kmt_map_get(&t.resources, 0x10));
    ASSERT_NE(r, nullptr);
    // Stamps 1 and 2 left over from the calls 2^32 calls ago.
    M(0x1)->call_stamp = 1;
    M(0x2)->call_stamp = 2;
    r->call_stamp = 2;
    t.call_stamp = UINT32_MAX;
    EXPECT_EQ(Offer({0x1}), KMT_OK) << "the first call after the wrap has stamp 1";
    EXPECT_EQ(t.call_stamp, 1u);
    EXPECT_EQ(Offer({0x2}), KMT_OK) << "stamp 2";
    EXPECT_EQ(t.call_stamp, 2u);
    M(0x1)->call_stamp = 0;
    r->call_stamp = 0;
    EXPECT_EQ(Reclaim({0x1, 0x2}), KMT_OK);
    // The same for a resource stamped before the wrap.
    r->call_stamp = 2;
    t.call_stamp = UINT32_MAX;
    EXPECT_EQ(Reclaim({0x2}), KMT_OK);
    EXPECT_EQ(OfferResources({Buf(0x10)}), KMT_OK) << "stamp 2 again, on a resource";
}

// ---- offered-list order (the pressure policy's "oldest offer first") ---------------------

// offer.h: offered lists are "oldest offer first" and kmt_memory::offer_order
// is "when it was (re-)offered: oldest first under pressure". A deferred offer
// is appended when it is promoted, behind later immediate offers.
TEST_F(OfferStateMachine, OfferedListsStayInOfferOrderWhenDeferredOffersArePromoted)
{
    Track(0xa);
    Track(0xb);
    ASSERT_EQ(Offer({0xa}, LOW, 0, 5), KMT_OK);    // older, deferred
    ASSERT_EQ(Offer({0xb}, LOW, IMMEDIATELY), KMT_OK); // newer, immediate
    ASSERT_EQ(kmt_promote_pending(&t, 5), 1u);
    EXPECT_LT(M(0xa)->offer_order, M(0xb)->offer_order);
    EXPECT_EQ(ListHandles(t.offered[0]), std::vector<uint64_t>({0xa, 0xb}));
}

// ---- host memory -----------------------------------------------------------------------

TEST(OfferTracker, InitWithoutOpsAndFinishWithLiveRecordsIsFine)
{
    kmt_tracker t{};
    kmt_tracker_config config{};
    config.pageable = true;
    ASSERT_TRUE(kmt_tracker_init(&t, &config, nullptr, nullptr));
    ASSERT_TRUE(kmt_track_memory(&t, 0x1, 64, 0, 0, false, 0.5f));
    ASSERT_TRUE(kmt_track_binding(&t, VK_OBJECT_TYPE_BUFFER, 0x2, 0x1));
    VkDeviceMemory m = Mem(0x1);
    kmt_handle_list l{1, &m, nullptr};
    EXPECT_EQ(kmt_offer(&t, &l, LOW, IMMEDIATELY, 0, nullptr, nullptr), KMT_OK) << "NULL callbacks are skipped";
    kmt_discard(&t, kmt_find_memory(&t, 0x1));
    uint64_t fence = 1;
    EXPECT_EQ(kmt_reclaim(&t, &l, nullptr, nullptr, 0, false, nullptr, &fence), KMT_OK);
    EXPECT_EQ(fence, 0u);
    kmt_tracker_finish(&t);
}

} // namespace

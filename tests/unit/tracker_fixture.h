/* SPDX-License-Identifier: MIT */
// tracker_fixture.h -- the unit tests' view of one tracker (layer/offer.h).
//
// Tests name allocations by small integers. The name is passed to
// kmt_track_memory as the DRIVER's handle, so the recording driver (which
// sees driver handles) logs the names, and the fixture keeps name -> the
// app's handle the tracker returned (H). A name never tracked is passed on
// as a raw handle (0xdead: no slot of this tracker). config.type_heap[i] = i,
// so a test's "heap" argument is passed as the memory type index.
//
// The tracker keeps no lists: the order helpers derive them from the slots
// (OFFERED records of a level sorted by offer_order; pending ring entries
// that are still live), and Snapshot scans the whole slot table.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core_view.h"
#include "offer.h"
#include "test_allocator.h"

namespace kmt_test {

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
constexpr uint32_t kSalt = 0x5eed1234u;

inline std::string Hex(uint64_t v)
{
    char buffer[32];
    snprintf(buffer, sizeof(buffer), "0x%" PRIx64, v);
    return buffer;
}

inline VkDeviceMemory Mem(uint64_t h) { return reinterpret_cast<VkDeviceMemory>(static_cast<uintptr_t>(h)); }
inline VkOfferResourceKMT Buf(uint64_t h) { return {VK_OBJECT_TYPE_BUFFER, h}; }
inline VkOfferResourceKMT Img(uint64_t h) { return {VK_OBJECT_TYPE_IMAGE, h}; }

// Replicates offer.c's entry_is_live: a ring entry still names the deferred
// offer of its memory.
inline bool PendingEntryIsLive(const kmt_tracker &t, const kmt_pending_entry &e)
{
    if (e.index >= t.slots.capacity)
        return false;
    const kmt_memory *m = kmt_slot(&t.slots, e.index);
    return m->generation == e.generation && m->status == VK_ALLOCATION_STATUS_OFFER_PENDING_KMT &&
           m->offer_order == e.offer_order;
}

// Every ring entry in [head, tail), in ring order, live or stale.
inline std::vector<kmt_pending_entry> RingEntries(const kmt_tracker &t)
{
    std::vector<kmt_pending_entry> v;
    for (uint32_t i = t.pending_head; i != t.pending_tail; i++)
        v.push_back(t.pending[i & (t.pending_capacity - 1)]);
    return v;
}

// ---- the recording driver ---------------------------------------------------

struct DriverCall {
    char kind; // 'P' set_priority, 'F' fill, 'D' decommit
    uint64_t memory; // the driver's handle (the test's name)
    float priority;
    uint64_t app; // 'D': the app's handle it was given
    bool operator==(const DriverCall &o) const
    {
        return kind == o.kind && memory == o.memory && (kind != 'P' || priority == o.priority) &&
               (kind != 'D' || app == o.app);
    }
};
inline std::ostream &operator<<(std::ostream &os, const DriverCall &c)
{
    if (c.kind == 'P')
        return os << "set_priority(" << Hex(c.memory) << ", " << c.priority << ")";
    if (c.kind == 'D')
        return os << "decommit(app " << Hex(c.app) << ", driver " << Hex(c.memory) << ")";
    return os << "fill(" << Hex(c.memory) << ")";
}
inline DriverCall P(uint64_t memory, float priority) { return {'P', memory, priority, 0}; }
inline DriverCall F(uint64_t memory) { return {'F', memory, 0.0f, 0}; }
inline DriverCall D(uint64_t app, uint64_t memory) { return {'D', memory, 0.0f, app}; }
using Calls = std::vector<DriverCall>;

struct Driver {
    Calls calls;
    std::map<uint64_t, uint64_t> fill_values; // what fill() returns per driver handle (default 0)
    std::vector<uint8_t> fill_saw_status;     // the memory's status when its fill ran
    std::vector<kmt_fill_request> fill_requests;
    const kmt_tracker *tracker = nullptr;

    static void SetPriority(void *ctx, uint64_t memory, float priority)
    {
        static_cast<Driver *>(ctx)->calls.push_back(P(memory, priority));
    }
    static uint64_t Fill(void *ctx, const kmt_fill_request *request)
    {
        auto *d = static_cast<Driver *>(ctx);
        d->calls.push_back(F(request->driver));
        d->fill_requests.push_back(*request);
        d->fill_saw_status.push_back(d->StatusOfDriverHandle(request->driver));
        auto it = d->fill_values.find(request->driver);
        return it == d->fill_values.end() ? 0 : it->second;
    }
    static void Decommit(void *ctx, uint64_t memory, uint64_t driver_memory)
    {
        static_cast<Driver *>(ctx)->calls.push_back(D(memory, driver_memory));
    }
    uint8_t StatusOfDriverHandle(uint64_t driver) const
    {
        for (uint32_t i = 0; tracker && i < tracker->slots.capacity; i++) {
            const kmt_memory *m = kmt_slot(&tracker->slots, i);
            if (m->status != KMT_STATUS_FREE && m->driver == driver)
                return m->status;
        }
        return 0xff;
    }
};

// ---- a snapshot of everything a rejected call must leave alone ---------------

struct MemorySnap {
    uint64_t driver;
    VkDeviceSize size;
    uint32_t offer_order;
    uint8_t status, offer_priority, type_index, bits;
    float app_priority, driver_priority;
    uint32_t resource_count, discard_count;
    uint64_t fill_value;
    bool operator==(const MemorySnap &o) const
    {
        return driver == o.driver && size == o.size && offer_order == o.offer_order && status == o.status &&
               offer_priority == o.offer_priority && type_index == o.type_index && bits == o.bits &&
               app_priority == o.app_priority && driver_priority == o.driver_priority &&
               resource_count == o.resource_count && discard_count == o.discard_count && fill_value == o.fill_value;
    }
};
inline std::ostream &operator<<(std::ostream &os, const MemorySnap &s)
{
    return os << "{driver " << Hex(s.driver) << ", status " << int(s.status) << ", offer " << int(s.offer_priority)
              << ", bits " << Hex(s.bits) << ", app " << s.app_priority << ", driver prio " << s.driver_priority
              << ", discards " << s.discard_count << ", resources " << s.resource_count << ", order "
              << s.offer_order << "}";
}

struct Snapshot {
    std::map<uint64_t, MemorySnap> memories; // app handle -> record (hot + cold)
    std::map<uint64_t, uint64_t> resources;  // resource -> app handle of its memory
    std::vector<std::pair<uint64_t, uint64_t>> pending; // live ring entries: (app handle, wait_serial)
    std::vector<uint32_t> offered_count;
    std::vector<VkDeviceSize> offered_bytes, heap_usage;
    uint32_t pending_count, live, reserved_count;
    uint64_t pending_newest;
    kmt_counters counters;
    size_t driver_calls;
    uint32_t next_offer_order;
};

// ---- the fixture ------------------------------------------------------------

class TrackerTest : public ::testing::Test {
  protected:
    void SetUp() override { Init(true); }
    void TearDown() override
    {
        CheckInvariants();
        alloc.Succeed();
        kmt_tracker_finish(&t);
        EXPECT_EQ(alloc.live(), 0u) << "the tracker leaked host memory";
        EXPECT_EQ(alloc.bad_frees(), 0u);
    }

    void Init(bool pageable, float offered_priority = kOfferedPriority)
    {
        kmt_tracker_config config{};
        config.pageable = pageable;
        config.offered_priority = offered_priority;
        config.salt = kSalt;
        SetAccounting(config, accounting);
        for (uint32_t i = 0; i < VK_MAX_MEMORY_TYPES; i++)
            config.type_heap[i] = static_cast<uint8_t>(i % VK_MAX_MEMORY_HEAPS);
        kmt_tracker_ops ops{};
        ops.ctx = &driver;
        ops.set_priority = &Driver::SetPriority;
        ops.fill = &Driver::Fill;
        ops.decommit = &Driver::Decommit;
        driver.tracker = &t;
        ASSERT_TRUE(kmt_tracker_init(&t, &config, &ops, alloc.callbacks()));
    }
    void Reinit(bool pageable, float offered_priority = kOfferedPriority)
    {
        kmt_tracker_finish(&t);
        driver = Driver{};
        names.clear();
        Init(pageable, offered_priority);
    }

    // The tracker's bookkeeping agrees with its slots: counts per state and
    // level, OFFERED bytes and payload bytes per heap, one live ring entry per
    // OFFER_PENDING memory with the ring in wait_serial order, resource counts,
    // distinct offer sequence numbers, and every live slot resolvable.
    void CheckInvariants()
    {
        uint32_t pending = 0, offered_total = 0;
        std::vector<uint32_t> offered(KMT_OFFER_LEVELS, 0);
        VkDeviceSize usage[VK_MAX_MEMORY_HEAPS] = {}, offered_bytes[VK_MAX_MEMORY_HEAPS] = {};
        std::map<uint32_t, uint32_t> resources_of; // slot -> resources bound to it
        for (uint32_t i = 0; i <= t.resources.mask; i++) {
            if (!t.resources.keys[i])
                continue;
            const auto *r = static_cast<const kmt_resource *>(t.resources.values[i]);
            EXPECT_EQ(r->handle, t.resources.keys[i]);
            uint32_t index = 0;
            if (kmt_find_memory(&t, r->memory, &index))
                resources_of[index]++;
        }
        std::set<uint32_t> orders;
        for (uint32_t i = 0; i < t.slots.capacity; i++) {
            const kmt_memory *m = kmt_slot(&t.slots, i);
            if (m->status == KMT_STATUS_FREE)
                continue;
            const kmt_memory_cold *cold = kmt_cold(&t.slots, i);
            const uint32_t heap = kmt_heap_of(&t, m);
            EXPECT_EQ(kmt_find_memory(&t, kmt_make_handle(i, m->generation), nullptr), m) << "slot " << i;
            EXPECT_LE(m->status, DECOMMITTED) << "slot " << i;
            EXPECT_EQ(m->driver == 0, m->status == DECOMMITTED) << "slot " << i << ": driver handle once decommitted only";
            EXPECT_EQ(cold->resource_count, resources_of[i]) << "slot " << i;
            if (m->status == RESIDENT) {
                EXPECT_EQ(m->offer_priority, 0) << "slot " << i;
                EXPECT_EQ(m->bits & KMT_MEM_OFFER_FLAGS, 0) << "slot " << i;
            }
            if (m->status == PENDING)
                pending++;
            if (m->status == OFFERED) {
                EXPECT_GE(m->offer_priority, LOW) << "slot " << i;
                EXPECT_LE(m->offer_priority, HIGH) << "slot " << i;
                if (m->offer_priority >= LOW && m->offer_priority <= HIGH)
                    offered[m->offer_priority - LOW]++;
                offered_total++;
                offered_bytes[heap] += m->size;
            }
            if (m->status == PENDING || m->status == OFFERED) {
                EXPECT_TRUE(orders.insert(m->offer_order).second) << "slot " << i << ": offer_order used twice";
                EXPECT_LE(m->offer_order, t.next_offer_order) << "slot " << i;
            }
            if (m->status != DISCARDED && m->status != DECOMMITTED)
                usage[heap] += m->size;
        }
        EXPECT_EQ(t.pending_count, pending);
        EXPECT_EQ(OfferedTotal(t.offered_count), offered_total);
        if (OfferedCounts(t.offered_count).size() == KMT_OFFER_LEVELS) {
            EXPECT_EQ(OfferedCounts(t.offered_count), offered) << "per level";
        }
        for (uint32_t h = 0; h < VK_MAX_MEMORY_HEAPS; h++) {
            EXPECT_EQ(kmt_heap_usage(&t, h), usage[h]) << "heap " << h;
            if (KeepsAccounting(t.config)) {
                EXPECT_EQ(t.heap_usage[h], usage[h]) << "heap " << h;
                EXPECT_EQ(t.offered_bytes[h], offered_bytes[h]) << "heap " << h;
            }
        }
        // The ring: FIFO in wait_serial order, one live entry per pending memory.
        std::map<uint32_t, uint32_t> live_entries;
        uint64_t previous = 0;
        for (const kmt_pending_entry &e : RingEntries(t)) {
            EXPECT_LE(previous, e.wait_serial) << "ring out of wait_serial order";
            EXPECT_LE(e.wait_serial, t.pending_newest);
            previous = e.wait_serial;
            if (PendingEntryIsLive(t, e))
                live_entries[e.index]++;
        }
        uint32_t live_total = 0;
        for (const auto &kv : live_entries) {
            EXPECT_EQ(kv.second, 1u) << "slot " << kv.first << " has several live ring entries";
            live_total++;
        }
        EXPECT_EQ(live_total, pending) << "every OFFER_PENDING memory is in the ring once";
        EXPECT_EQ(t.reserved_count, reserved_expected) << "binding reservations left over";
    }

    // -- names and handles
    uint64_t H(uint64_t name) const
    {
        auto it = names.find(name);
        return it == names.end() ? name : it->second;
    }
    uint64_t Name(uint64_t handle) const
    {
        for (const auto &kv : names)
            if (kv.second == handle)
                return kv.first;
        return handle;
    }

    // -- setup helpers
    void Track(uint64_t name, VkDeviceSize size = MiB, float app_priority = 0.5f, uint32_t heap = 0,
               bool host_visible = false)
    {
        uint64_t handle = kmt_track_memory(&t, name, size, heap, host_visible ? KMT_TRACK_HOST_VISIBLE : 0,
                                           app_priority);
        ASSERT_NE(handle, 0u) << "tracking " << Hex(name);
        names[name] = handle;
    }
    // vkFreeMemory; returns the driver handle the glue must free (0 once
    // decommitted). The name keeps its (now stale) app handle.
    uint64_t Free(uint64_t name)
    {
        uint64_t driver_memory = 0xbad;
        EXPECT_TRUE(kmt_untrack_memory(&t, H(name), &driver_memory)) << Hex(name);
        return driver_memory;
    }
    void Bind(uint64_t resource, uint64_t name, VkObjectType type = VK_OBJECT_TYPE_BUFFER)
    {
        ASSERT_TRUE(kmt_reserve_bindings(&t, 1));
        kmt_track_binding(&t, type, resource, H(name));
    }
    kmt_memory *M(uint64_t name)
    {
        kmt_memory *m = kmt_find_memory(&t, H(name), nullptr);
        EXPECT_NE(m, nullptr) << "memory " << Hex(name) << " is not tracked";
        return m;
    }
    uint32_t Idx(uint64_t name)
    {
        uint32_t index = UINT32_MAX;
        EXPECT_NE(kmt_find_memory(&t, H(name), &index), nullptr) << "memory " << Hex(name) << " is not tracked";
        return index;
    }
    kmt_memory_cold *Cold(uint64_t name)
    {
        static kmt_memory_cold none;
        const uint32_t index = Idx(name);
        if (index == UINT32_MAX) {
            none = {};
            return &none; // the failure is reported by Idx
        }
        return kmt_cold(&t.slots, index);
    }
    uint8_t Status(uint64_t name)
    {
        kmt_memory *m = M(name);
        return m ? m->status : 0xff;
    }
    uint32_t Flags(uint64_t name) { return M(name)->bits & KMT_MEM_OFFER_FLAGS; }
    bool Discard(uint64_t name)
    {
        const uint32_t index = Idx(name);
        return index != UINT32_MAX && kmt_discard(&t, index);
    }

    // -- the orders the tracker keeps implicitly
    // OFFERED memories of one level, oldest offer first (the pressure order).
    std::vector<uint64_t> Offered(uint32_t level) const
    {
        std::vector<std::pair<uint32_t, uint64_t>> v;
        for (uint32_t i = 0; i < t.slots.capacity; i++) {
            const kmt_memory *m = kmt_slot(&t.slots, i);
            if (m->status == OFFERED && m->offer_priority == level)
                v.push_back({m->offer_order, Name(kmt_make_handle(i, m->generation))});
        }
        std::sort(v.begin(), v.end());
        std::vector<uint64_t> names_in_order;
        for (const auto &p : v)
            names_in_order.push_back(p.second);
        return names_in_order;
    }
    // Deferred offers still waiting, in the order they will be promoted.
    std::vector<uint64_t> Pending() const
    {
        std::vector<uint64_t> v;
        for (const auto &p : PendingSerials())
            v.push_back(p.first);
        return v;
    }
    // (name, wait_serial) of each live ring entry.
    std::vector<std::pair<uint64_t, uint64_t>> PendingSerials() const
    {
        std::vector<std::pair<uint64_t, uint64_t>> v;
        for (const kmt_pending_entry &e : RingEntries(t))
            if (PendingEntryIsLive(t, e))
                v.push_back({Name(kmt_make_handle(e.index, e.generation)), e.wait_serial});
        return v;
    }

    // -- calls
    kmt_error Offer(const std::vector<uint64_t> &memories, uint32_t priority = LOW, uint32_t flags = IMMEDIATELY,
                    uint64_t wait_serial = 0)
    {
        mem_args.clear();
        for (uint64_t h : memories)
            mem_args.push_back(Mem(H(h)));
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
            mem_args.push_back(Mem(H(h)));
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
        for (uint32_t i = 0; i < t.slots.capacity; i++) {
            const kmt_memory *m = kmt_slot(&t.slots, i);
            if (m->status == KMT_STATUS_FREE)
                continue;
            const kmt_memory_cold *c = kmt_cold(&t.slots, i);
            s.memories[kmt_make_handle(i, m->generation)] = {
                m->driver,        m->size,           m->offer_order,    m->status,        m->offer_priority,
                m->type_index,    m->bits,           c->app_priority,   c->driver_priority, c->resource_count,
                c->discard_count, c->fill_value};
        }
        for (uint32_t i = 0; i <= t.resources.mask; i++) {
            if (!t.resources.keys[i])
                continue;
            const auto *r = static_cast<const kmt_resource *>(t.resources.values[i]);
            s.resources[r->handle] = r->memory;
        }
        for (const kmt_pending_entry &e : RingEntries(t))
            if (PendingEntryIsLive(t, e))
                s.pending.push_back({kmt_make_handle(e.index, e.generation), e.wait_serial});
        s.offered_count = OfferedCounts(t.offered_count);
        s.offered_bytes.assign(t.offered_bytes, t.offered_bytes + VK_MAX_MEMORY_HEAPS);
        for (uint32_t h = 0; h < VK_MAX_MEMORY_HEAPS; h++)
            s.heap_usage.push_back(kmt_heap_usage(&t, h));
        s.pending_count = t.pending_count;
        s.live = LiveSlots(t.slots);
        s.reserved_count = t.reserved_count;
        s.pending_newest = t.pending_newest;
        s.counters = t.counters;
        s.driver_calls = driver.calls.size();
        s.next_offer_order = t.next_offer_order;
        return s;
    }
    void ExpectSameState(const Snapshot &before, const Snapshot &after)
    {
        EXPECT_EQ(after.memories, before.memories);
        EXPECT_EQ(after.resources, before.resources);
        EXPECT_EQ(after.pending, before.pending);
        EXPECT_EQ(after.offered_count, before.offered_count);
        EXPECT_EQ(after.offered_bytes, before.offered_bytes);
        EXPECT_EQ(after.heap_usage, before.heap_usage);
        EXPECT_EQ(after.pending_count, before.pending_count);
        EXPECT_EQ(after.pending_newest, before.pending_newest);
        EXPECT_EQ(after.live, before.live);
        EXPECT_EQ(after.reserved_count, before.reserved_count);
        EXPECT_EQ(after.driver_calls, before.driver_calls) << "the driver was called";
        EXPECT_EQ(after.next_offer_order, before.next_offer_order);
    }
    void ExpectUnchangedExceptRejection(const Snapshot &before)
    {
        Snapshot after = Snap();
        ExpectSameState(before, after);
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

    TestAllocator alloc; // every host allocation of the tracker: leaks, failures, sizes
    Driver driver;
    kmt_tracker t{};
    std::map<uint64_t, uint64_t> names; // name (= driver handle) -> the app's handle
    uint32_t reserved_expected = 0;     // binding reservations a test leaves on purpose
    bool accounting = true;             // keep heap usage and OFFERED bytes per heap (the policies' view)
    std::vector<VkDeviceMemory> mem_args;
    std::vector<VkOfferResourceKMT> res_args;
    kmt_handle_list list{};
    kmt_error_info error{};
    uint32_t reoffered = 0;
    std::vector<VkReclaimResultKMT> results;
    std::vector<VkBool32> discarded;
    uint64_t fence = 0;
};

} // namespace kmt_test

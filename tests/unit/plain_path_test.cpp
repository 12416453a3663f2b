// SPDX-License-Identifier: MIT
// The offer/reclaim hot path against the general one (issue 12, layer/offer.c
// and plain.c): a tracker that calls nothing per element (no transition
// listener, no always/random hook, no pageable driver, no per-heap offer
// index) may take a leaner path for lists of memories; it must behave
// exactly as the general path does. Two trackers get the same long,
// seeded sequence of calls -- valid and invalid (unknown, stale, duplicate,
// mapped, decommitted elements, bad priorities and flags, huge counts),
// deferred and immediate offers, discards, decommits, promotions, frees --
// one configured for the general path (it keeps the heap accounting), one
// for the lean path (DISCARD=never without a listener: no accounting); every return code, error, output and record must agree.
// Where the core has one path only, both trackers take it and the test still
// checks the all-or-nothing rule on every rejected call.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <ostream>
#include <string>
#include <vector>

#include "core_view.h"
#include "offer.h"
#include "test_allocator.h"

namespace {

using kmt_test::OfferedTotal;

constexpr uint32_t kSalt = 0x77aa55u;

struct Fills {
    uint64_t next = 1;
    static uint64_t Fill(void *ctx, const kmt_fill_request *request)
    {
        auto *self = static_cast<Fills *>(ctx);
        if (request->driver % 11 == 0)
            return KMT_FILL_FAILED;
        return request->driver % 3 == 0 ? 0 : self->next++; // some CPU fills, some queued GPU fills
    }
};

struct Side {
    TestAllocator alloc;
    Fills fills;
    kmt_tracker t{};
    std::vector<uint64_t> decommitted; // driver handles the glue was told to free

    static void Decommit(void *ctx, uint64_t, uint64_t driver_memory)
    {
        static_cast<Side *>(ctx)->decommitted.push_back(driver_memory);
    }
    bool Init(bool accounting)
    {
        kmt_tracker_config config{};
        config.salt = kSalt;
        kmt_test::SetAccounting(config, accounting);
        for (uint32_t i = 0; i < VK_MAX_MEMORY_TYPES; i++)
            config.type_heap[i] = static_cast<uint8_t>(i % 4);
        kmt_tracker_ops ops{};
        ops.ctx = this;
        ops.fill = [](void *ctx, const kmt_fill_request *request) {
            return Fills::Fill(&static_cast<Side *>(ctx)->fills, request);
        };
        ops.decommit = &Side::Decommit;
        return kmt_tracker_init(&t, &config, &ops, alloc.callbacks());
    }
};

// What one call returned.
struct Outcome {
    kmt_error code;
    kmt_error_info error;
    uint32_t reoffered;
    std::vector<VkReclaimResultKMT> results;
    std::vector<VkBool32> discarded;
    uint64_t fence;
    bool operator==(const Outcome &o) const
    {
        return code == o.code && error.code == o.error.code && error.index == o.error.index &&
               error.handle == o.error.handle && error.other == o.error.other && reoffered == o.reoffered &&
               results == o.results && discarded == o.discarded && fence == o.fence;
    }
};
std::ostream &operator<<(std::ostream &os, const Outcome &o)
{
    return os << "{code " << o.code << ", error " << o.error.code << " at " << o.error.index << " handle 0x"
              << std::hex << o.error.handle << " other 0x" << o.error.other << std::dec << ", reoffered "
              << o.reoffered << ", fence " << o.fence << "}";
}

// Everything observable of a tracker but the call stamps (and a GPU fill's
// value once the memory is no longer DISCARDED: nothing reads it then).
struct SlotState {
    uint32_t index, generation;
    uint64_t driver, size, fill_value;
    uint32_t offer_order, resource_count, discard_count;
    uint8_t status, offer_priority, bits, type_index;
    float app_priority;
    bool operator==(const SlotState &o) const
    {
        return index == o.index && generation == o.generation && driver == o.driver && size == o.size &&
               fill_value == o.fill_value && offer_order == o.offer_order && resource_count == o.resource_count &&
               discard_count == o.discard_count && status == o.status && offer_priority == o.offer_priority &&
               bits == o.bits && type_index == o.type_index && app_priority == o.app_priority;
    }
};
struct TrackerState {
    std::vector<SlotState> slots;
    std::vector<uint64_t> scalars; // counts, heap usage, counters; rejected_calls last
    bool operator==(const TrackerState &o) const { return slots == o.slots && scalars == o.scalars; }
};
std::ostream &operator<<(std::ostream &os, const TrackerState &s)
{
    for (const SlotState &m : s.slots)
        os << "\n  slot " << m.index << " g" << std::hex << m.generation << " d" << m.driver << std::dec << " size "
           << m.size << " status " << int(m.status) << " prio " << int(m.offer_priority) << " bits " << int(m.bits)
           << " order " << m.offer_order << " fill " << m.fill_value << " discards " << m.discard_count;
    os << "\n  scalars";
    for (uint64_t v : s.scalars)
        os << " " << v;
    return os;
}

TrackerState State(const kmt_tracker &t)
{
    TrackerState s;
    for (uint32_t i = 0; i < t.slots.capacity; i++) {
        const kmt_memory *m = kmt_slot(&t.slots, i);
        if (m->status == KMT_STATUS_FREE)
            continue;
        const kmt_memory_cold *c = kmt_cold(&t.slots, i);
        s.slots.push_back({i, m->generation, m->driver, m->size,
                           m->status == VK_ALLOCATION_STATUS_DISCARDED_KMT ? c->fill_value : 0, m->offer_order,
                           c->resource_count, c->discard_count, m->status, m->offer_priority, m->bits, m->type_index,
                           c->app_priority});
    }
    s.scalars = {t.pending_count, OfferedTotal(t.offered_count), t.next_offer_order, t.pending_newest};
    for (uint32_t h = 0; h < 4; h++)
        s.scalars.push_back(kmt_heap_usage(&t, h));
    const kmt_counters &k = t.counters;
    for (uint64_t v : {k.offers, k.reoffers, k.reclaims, k.discards, k.decommits, k.bytes_offered, k.bytes_discarded,
                       k.rejected_calls})
        s.scalars.push_back(v);
    return s;
}

class PlainPath : public ::testing::Test {
  protected:
    void SetUp() override
    {
        ASSERT_TRUE(general.Init(true));
        ASSERT_TRUE(lean.Init(false));
    }
    void TearDown() override
    {
        for (Side *side : {&general, &lean}) {
            kmt_tracker_finish(&side->t);
            EXPECT_EQ(side->alloc.live(), 0u);
            EXPECT_EQ(side->alloc.bad_frees(), 0u);
        }
    }

    // Runs one call on both trackers; checks that they agree, and that a
    // rejected call changed nothing and wrote no output.
    void Call(const char *what, const std::vector<uint64_t> &handles, uint32_t count, bool offer, uint32_t priority,
              uint32_t flags, uint64_t wait_serial, bool want_results, bool want_discarded, bool want_fence,
              uint64_t fill_completed, bool device_lost)
    {
        Outcome outcome[2];
        TrackerState before = State(lean.t), after[2];
        Side *sides[2] = {&general, &lean};
        for (int k = 0; k < 2; k++) {
            kmt_tracker &t = sides[k]->t;
            std::vector<VkDeviceMemory> mems;
            for (uint64_t h : handles)
                mems.push_back(reinterpret_cast<VkDeviceMemory>(static_cast<uintptr_t>(h)));
            kmt_handle_list list{count, mems.data(), nullptr};
            Outcome &o = outcome[k];
            o.error = {};
            o.error.code = static_cast<kmt_error>(-1);
            o.reoffered = 0xdead;
            o.results.assign(handles.size(), static_cast<VkReclaimResultKMT>(0x7777));
            o.discarded.assign(handles.size(), 0x5555);
            o.fence = 0xfeed;
            if (offer)
                o.code = kmt_offer(&t, &list, priority, flags, wait_serial, &o.error, &o.reoffered);
            else
                o.code = kmt_reclaim(&t, &list, want_results ? o.results.data() : nullptr,
                                     want_discarded ? o.discarded.data() : nullptr, fill_completed, device_lost,
                                     &o.error, want_fence ? &o.fence : nullptr);
            after[k] = State(t);
        }
        ASSERT_EQ(outcome[0], outcome[1]) << what << " #" << step;
        ASSERT_EQ(after[0], after[1]) << what << " #" << step << "\nbefore:" << before;
        if (outcome[0].code != KMT_OK) {
            // All-or-nothing: only the rejected-calls counter moved.
            before.scalars.back()++;
            ASSERT_EQ(after[1], before) << what << " #" << step << ": a rejected call changed something";
            ASSERT_EQ(outcome[1].reoffered, 0xdeadu);
            ASSERT_EQ(outcome[1].fence, 0xfeedu);
            for (size_t i = 0; i < handles.size(); i++) {
                ASSERT_EQ(outcome[1].results[i], static_cast<VkReclaimResultKMT>(0x7777));
                ASSERT_EQ(outcome[1].discarded[i], 0x5555u);
            }
            rejected++;
        } else {
            accepted++;
        }
    }

    Side general, lean;
    uint64_t step = 0, accepted = 0, rejected = 0;
};

TEST_F(PlainPath, TheLeanPathBehavesExactlyAsTheGeneralOne)
{
    std::mt19937_64 random(20261205);
    auto pick = [&](uint64_t n) { return n ? random() % n : 0; };
    auto chance = [&](int per_mille) { return static_cast<int>(random() % 1000) < per_mille; };
    std::vector<uint64_t> live, freed; // the app's handles (equal in both trackers: same salt, same sequence)
    uint64_t driver = 0x100, serial = 0, completed = 0, mapped = 0;

    for (step = 0; step < 6000; step++) {
        const int op = static_cast<int>(pick(100));
        if (live.size() < 8 || (op < 10 && live.size() < 64)) { // allocate
            const VkDeviceSize size = 4096 * (1 + pick(16));
            const uint32_t type = static_cast<uint32_t>(pick(4));
            const float priority = 0.1f + 0.4f * static_cast<float>(pick(3));
            driver++;
            const uint64_t a = kmt_track_memory(&general.t, driver, size, type, 0, priority);
            const uint64_t b = kmt_track_memory(&lean.t, driver, size, type, 0, priority);
            ASSERT_NE(a, 0u);
            ASSERT_EQ(a, b) << "the same salt and sequence give the same handles";
            live.push_back(a);
            continue;
        }
        if (op < 14) { // free
            const size_t k = pick(live.size());
            uint64_t da = 1, db = 2;
            ASSERT_TRUE(kmt_untrack_memory(&general.t, live[k], &da));
            ASSERT_TRUE(kmt_untrack_memory(&lean.t, live[k], &db));
            ASSERT_EQ(da, db);
            freed.push_back(live[k]);
            live.erase(live.begin() + static_cast<long>(k));
            continue;
        }
        if (op < 20) { // the policy discards (or decommits) one allocation
            const uint64_t h = live[pick(live.size())];
            uint32_t ia = 0, ib = 0;
            ASSERT_NE(kmt_find_memory(&general.t, h, &ia), nullptr);
            ASSERT_NE(kmt_find_memory(&lean.t, h, &ib), nullptr);
            ASSERT_EQ(kmt_discard(&general.t, ia), kmt_discard(&lean.t, ib)) << "#" << step;
            ASSERT_EQ(State(general.t), State(lean.t)) << "discard #" << step;
            continue;
        }
        if (op < 25) { // earlier GPU work completes
            completed += pick(4);
            ASSERT_EQ(kmt_promote_pending(&general.t, completed), kmt_promote_pending(&lean.t, completed));
            ASSERT_EQ(State(general.t), State(lean.t)) << "promote #" << step;
            continue;
        }
        if (op < 27 && !mapped) { // the app maps one for a while (offers must refuse it)
            mapped = live[pick(live.size())];
            for (Side *side : {&general, &lean})
                kmt_find_memory(&side->t, mapped, nullptr)->bits |= KMT_MEM_MAPPED;
            continue;
        }
        if (mapped && chance(100)) { // and unmaps it
            for (Side *side : {&general, &lean}) {
                kmt_memory *m = kmt_find_memory(&side->t, mapped, nullptr);
                if (m)
                    m->bits &= static_cast<uint8_t>(~KMT_MEM_MAPPED);
            }
            mapped = 0;
        }

        // An offer or a reclaim of a list of memories.
        const bool offer = op < 65;
        std::vector<uint64_t> list;
        const size_t n = 1 + pick(std::min<size_t>(live.size(), chance(100) ? 64 : 8));
        std::vector<uint64_t> shuffled = live;
        std::shuffle(shuffled.begin(), shuffled.end(), random);
        list.assign(shuffled.begin(), shuffled.begin() + static_cast<long>(n));
        if (chance(250)) { // one bad element somewhere
            const size_t at = pick(list.size() + 1);
            uint64_t bad;
            switch (pick(4)) {
            case 0: bad = random(); break;                                                 // never a handle
            case 1: bad = freed.empty() ? 0 : freed[pick(freed.size())]; break;            // freed
            case 2: bad = list[pick(list.size())]; break;                                  // a duplicate
            default: bad = list[pick(list.size())] ^ (uint64_t{1 + pick(7)} << 32); break; // stale generation
            }
            list.insert(list.begin() + static_cast<long>(at), bad);
        }
        uint32_t count = static_cast<uint32_t>(list.size());
        if (chance(20) && count > 1) {
            list.back() = 0; // a huge count: validation must stop at this element
            count = UINT32_MAX;
        }
        uint32_t priority = chance(30) ? static_cast<uint32_t>(pick(6)) // 0 and 5 invalid, 4 AUTO
                                       : static_cast<uint32_t>(1 + pick(3));
        uint32_t flags = (chance(600) ? VK_OFFER_IMMEDIATELY_BIT_KMT : 0) |
                         (chance(300) ? VK_OFFER_ALLOW_DECOMMIT_BIT_KMT : 0) | (chance(20) ? 0x10u : 0);
        const uint64_t wait_serial = chance(500) ? 0 : (serial += 1 + pick(2));
        Call(offer ? "offer" : "reclaim", list, count, offer, priority, flags, wait_serial, !chance(100),
             !chance(300), !chance(100), completed, chance(20));
        if (HasFatalFailure())
            return;
    }
    EXPECT_GT(accepted, 2000u);
    EXPECT_GT(rejected, 300u);
    EXPECT_GT(general.t.counters.decommits, 0u);
    EXPECT_GT(general.t.counters.discards, 0u);
    EXPECT_EQ(general.decommitted, lean.decommitted);
    std::printf("[ plain path ] %llu calls accepted, %llu rejected, %llu decommits, %llu discards\n",
                static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(rejected),
                static_cast<unsigned long long>(general.t.counters.decommits),
                static_cast<unsigned long long>(general.t.counters.discards));
}

} // namespace

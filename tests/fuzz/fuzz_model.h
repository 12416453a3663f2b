/* SPDX-License-Identifier: MIT */
// The reference model of the model-based fuzzer (fuzz_offer.cpp): a naive
// C++ restatement of DESIGN.md "Semantics" and the rules of layer/offer.h,
// policy.h and handles.h, written from the rules, not from the core's data
// structures. Everything is a std::map of plain structs keyed by the app's
// handles that the tracker returned; orders are recomputed by sorting; no
// rings, no per-level counts, no slot table, no call stamps.
//
// The model predicts, for each event, the tracker's return values, error
// info, outputs, and the exact sequence of calls the tracker makes to the
// driver (ops.set_priority / fill / decommit) and to ops.transition.
#pragma once

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "offer.h"
#include "settings.h"

namespace kmt_fuzz {

constexpr uint8_t RESIDENT = VK_ALLOCATION_STATUS_RESIDENT_KMT;
constexpr uint8_t PENDING = VK_ALLOCATION_STATUS_OFFER_PENDING_KMT;
constexpr uint8_t OFFERED = VK_ALLOCATION_STATUS_OFFERED_KMT;
constexpr uint8_t DISCARDED = VK_ALLOCATION_STATUS_DISCARDED_KMT;
constexpr uint8_t DECOMMITTED = VK_ALLOCATION_STATUS_DECOMMITTED_KMT;
constexpr uint32_t IMMEDIATELY = VK_OFFER_IMMEDIATELY_BIT_KMT;
constexpr uint32_t DECOMMIT = VK_OFFER_ALLOW_DECOMMIT_BIT_KMT;
constexpr uint32_t kHeaps = VK_MAX_MEMORY_HEAPS;
constexpr uint32_t kTypes = VK_MAX_MEMORY_TYPES;

// ---- what the tracker calls out to ---------------------------------------------

struct Call {
    char kind = 0;       // 'P' ops.set_priority, 'A' the glue passing an app priority on (kmt_set_app_priority),
                         // 'F' ops.fill, 'D' ops.decommit, 'T' ops.transition
    uint64_t a = 0;      // P, A, F: the driver's handle; D: the app's handle
    uint64_t b = 0;      // F: what the fill returned; D: the driver's handle
    float priority = 0;  // P, A
    kmt_fill_request fill{};
    kmt_transition change{};
};

inline bool same_call(const Call &x, const Call &y)
{
    if (x.kind != y.kind || x.a != y.a || x.b != y.b || x.priority != y.priority)
        return false;
    if (x.kind == 'F')
        return x.fill.driver == y.fill.driver && x.fill.size == y.fill.size &&
               x.fill.type_index == y.fill.type_index && x.fill.host_visible == y.fill.host_visible &&
               x.fill.dedicated == y.fill.dedicated;
    if (x.kind == 'T') {
        const kmt_transition &c = x.change, &d = y.change;
        return c.memory == d.memory && c.size == d.size && c.heap_index == d.heap_index && c.from == d.from &&
               c.to == d.to && c.reason == d.reason && c.offer_priority == d.offer_priority &&
               c.offer_flags == d.offer_flags && c.wait_serial == d.wait_serial && c.fence_value == d.fence_value &&
               c.result == d.result && c.order == d.order && c.heap_usage == d.heap_usage &&
               c.heap_budget == d.heap_budget;
    }
    return true;
}

inline std::string describe(const std::vector<Call> &calls)
{
    std::string s = "[";
    char b[320];
    for (const Call &c : calls) {
        switch (c.kind) {
        case 'F':
            snprintf(b, sizeof(b), "\n    F(driver 0x%" PRIx64 ", size %" PRIu64 ", type %u, hv %d, dedicated %d)=%" PRIu64,
                     c.fill.driver, c.fill.size, c.fill.type_index, c.fill.host_visible, c.fill.dedicated, c.b);
            break;
        case 'D':
            snprintf(b, sizeof(b), "\n    D(app 0x%" PRIx64 ", driver 0x%" PRIx64 ")", c.a, c.b);
            break;
        case 'T': {
            const kmt_transition &t = c.change;
            snprintf(b, sizeof(b),
                     "\n    T(0x%" PRIx64 " size %" PRIu64 " heap %u %u->%u reason %u prio %u flags 0x%x wait %" PRIu64
                     " fence %" PRIu64 " result %u order %u usage %" PRIu64 " budget %" PRIu64 ")",
                     t.memory, t.size, t.heap_index, t.from, t.to, t.reason, t.offer_priority, t.offer_flags,
                     t.wait_serial, t.fence_value, t.result, t.order, t.heap_usage, t.heap_budget);
            break;
        }
        default:
            snprintf(b, sizeof(b), "\n    %c(driver 0x%" PRIx64 ", %g)", c.kind, c.a, double(c.priority));
        }
        s += b;
    }
    return s + " ]";
}

// ---- the model's records -------------------------------------------------------

struct RMem {
    uint64_t driver = 0;  // the driver's handle; 0 once decommitted
    VkDeviceSize size = 0;
    uint32_t type = 0, heap = 0;  // type: the memoryTypeIndex as kept (saturated at 255; past the table: heap 0)
    bool host_visible = false, dedicated = false, app_allocator = false;
    float app = 0.5f, driver_priority = 0.5f;
    uint8_t status = RESIDENT;
    uint8_t offer_priority = 0, flags = 0;
    bool mapped = false;
    uint64_t offered_seq = 0;  // when it was last offered (a 64-bit count: never wraps)
    uint64_t wait_serial = 0;  // PENDING: the serial it waits for
    uint64_t queued_seq = 0;   // PENDING: when it was queued (the FIFO's order)
    uint64_t fill_value = 0;   // DISCARDED: the paging value of its fill (meaningless in other states)
    uint32_t discards = 0;
};

struct RRes {
    uint32_t type;
    uint64_t memory;  // the app's handle it was bound to (it may have been freed since)
};

struct RErr {
    kmt_error code = KMT_OK;
    uint32_t index = 0;
    uint64_t handle = 0, other = 0;
};

struct Element {  // one entry of an offer / reclaim list
    uint64_t handle;
    uint32_t type;  // resources only
};

// The verdict on a list, before any change.
struct Verdict {
    RErr error;
    bool at_element = false;          // an element's own fault, found in call order (not the shared-memory rule)
    std::vector<uint64_t> memory_of;  // element i's memory, for the elements checked
};

struct Model {
    // -- configuration
    bool pageable = false, has_set_priority = false, has_fill = false, has_decommit = false,
         has_transition = false;
    bool accounting = false;  // the tracker keeps heap usage and OFFERED bytes per heap (else: counted on demand)
    float offered_priority = 0.0f;
    uint8_t type_heap[kTypes] = {};
    kmt_discard_policy kind = KMT_DISCARD_NEVER;
    uint32_t rate = 0;
    uint64_t rng = 0;
    uint32_t heap_count = 0;
    VkDeviceSize budget[kHeaps] = {};

    // -- state
    std::map<uint64_t, RMem> mems;  // live allocations, by the app's handle
    std::map<uint64_t, RRes> res;   // buffers / images, by their (driver) handle
    uint64_t reserved = 0;          // bindings set aside and not used yet
    uint64_t offers_made = 0, queued = 0;
    uint64_t highest_queued = 0;    // the highest wait serial queued since nothing was PENDING
    uint32_t pending_count = 0;     // PENDING memories (a shortcut; check_all recounts it)
    std::set<uint64_t> leaked;      // decommitted without ops.decommit: still allocated below
    kmt_counters counters{};
    std::vector<Call> calls;
    uint32_t fill_fail_mode = 0;
    uint64_t fills = 0, paging = 0;
    uint64_t clamps = 0;            // deferred offers whose wait serial was raised (statistics)

    // -- derived, recomputed every time
    bool hook() const { return kind == KMT_DISCARD_ALWAYS || kind == KMT_DISCARD_RANDOM; }
    static bool holds_payload(uint8_t s) { return s != DISCARDED && s != DECOMMITTED; }
    static bool demoted(uint8_t s) { return s == OFFERED || s == DISCARDED || s == DECOMMITTED; }
    uint32_t heap_of_type(uint32_t type) const { return type < kTypes ? type_heap[type] : 0; }
    VkDeviceSize usage(uint32_t heap) const
    {
        VkDeviceSize sum = 0;
        for (const auto &[h, m] : mems)
            if (m.heap == heap && holds_payload(m.status))
                sum += m.size;
        return sum;
    }
    // Both sums for every heap in one pass.
    void heap_sums(VkDeviceSize usage[kHeaps], VkDeviceSize offered[kHeaps]) const
    {
        std::fill(usage, usage + kHeaps, 0);
        std::fill(offered, offered + kHeaps, 0);
        for (const auto &[h, m] : mems) {
            if (holds_payload(m.status))
                usage[m.heap] += m.size;
            if (m.status == OFFERED)
                offered[m.heap] += m.size;
        }
    }
    VkDeviceSize offered_bytes(uint32_t heap) const
    {
        VkDeviceSize sum = 0;
        for (const auto &[h, m] : mems)
            if (m.heap == heap && m.status == OFFERED)
                sum += m.size;
        return sum;
    }
    uint32_t count_status(uint8_t status, uint8_t priority = 0) const
    {
        uint32_t n = 0;
        for (const auto &[h, m] : mems)
            n += m.status == status && (!priority || m.offer_priority == priority);
        return n;
    }
    bool live(uint64_t h) const { return mems.count(h) != 0; }
    uint32_t resource_count(uint64_t memory) const
    {
        uint32_t n = 0;
        for (const auto &[h, r] : res)
            n += r.memory == memory;
        return live(memory) ? n : 0;
    }
    std::map<uint64_t, uint32_t> resource_counts() const
    {
        std::map<uint64_t, uint32_t> n;
        for (const auto &[h, r] : res)
            if (live(r.memory))
                n[r.memory]++;
        return n;
    }
    // PENDING memory in the order it was queued: the order it is promoted in.
    std::vector<uint64_t> pending_order() const
    {
        std::vector<std::pair<uint64_t, uint64_t>> v;
        for (const auto &[h, m] : mems)
            if (pending_count && m.status == PENDING)
                v.push_back({m.queued_seq, h});
        std::sort(v.begin(), v.end());
        std::vector<uint64_t> out;
        for (auto &e : v)
            out.push_back(e.second);
        return out;
    }
    // The pressure order of one heap: LOW, NORMAL, HIGH, oldest offer first.
    std::vector<uint64_t> victims(uint32_t heap) const
    {
        std::vector<std::tuple<uint8_t, uint64_t, uint64_t>> v;
        for (const auto &[h, m] : mems)
            if (m.status == OFFERED && m.heap == heap)
                v.push_back({m.offer_priority, m.offered_seq, h});
        std::sort(v.begin(), v.end());
        std::vector<uint64_t> out;
        for (auto &e : v)
            out.push_back(std::get<2>(e));
        return out;
    }
    // The live allocation in slot `index` of the handle table (handle = generation << 32 | index + 1).
    uint64_t in_slot(uint32_t index) const
    {
        for (const auto &[h, m] : mems)
            if (uint32_t(h) == index + 1)
                return h;
        return 0;
    }

    // -- what the tracker calls
    void transition(uint64_t h, uint8_t from, kmt_reason reason, const kmt_transition &extra = {})
    {
        if (!has_transition)
            return;
        const RMem &m = mems.at(h);
        Call c;
        c.kind = 'T';
        c.change = extra;
        c.change.memory = h;
        c.change.size = m.size;
        c.change.heap_index = m.heap;
        c.change.from = from;
        c.change.to = m.status;
        c.change.reason = uint8_t(reason);
        c.change.offer_priority = m.offer_priority;
        c.change.offer_flags = m.flags;
        calls.push_back(c);
    }
    // The driver priority follows the state only where the driver can page
    // (and there is still driver memory); unchanged values are not resent.
    void set_driver(RMem &m, float p)
    {
        if (!pageable || !m.driver || m.driver_priority == p)
            return;
        m.driver_priority = p;
        if (has_set_priority) {
            Call c;
            c.kind = 'P';
            c.a = m.driver;
            c.priority = p;
            calls.push_back(c);
        }
    }
    // What the harness's fill returns: KMT_FILL_FAILED per fill_fail_mode
    // (1 every fill, 2 host-visible memory, 3 every other fill), else 0 for
    // host-visible memory (a CPU fill) and the next paging value otherwise.
    static bool fill_fails(uint32_t mode, bool host_visible, uint64_t nth)
    {
        return mode == 1 || (mode == 2 && host_visible) || (mode == 3 && (nth & 1));
    }
    uint64_t fill(const RMem &m)
    {
        uint64_t value = fill_fails(fill_fail_mode, m.host_visible, fills++) ? KMT_FILL_FAILED
                         : m.host_visible                                  ? 0
                                                                           : ++paging;
        Call c;
        c.kind = 'F';
        c.a = m.driver;
        c.b = value;
        c.fill.driver = m.driver;
        c.fill.size = m.size;
        c.fill.type_index = m.type;
        c.fill.host_visible = m.host_visible;
        c.fill.dedicated = m.dedicated;
        calls.push_back(c);
        return value;
    }

    // -- the discard policies
    uint32_t draw()
    {
        uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return uint32_t((z ^ (z >> 31)) % 1000);
    }
    void on_offered(uint64_t h)
    {
        if (kind == KMT_DISCARD_RANDOM && draw() >= rate)
            return;
        if (kind != KMT_DISCARD_ALWAYS && kind != KMT_DISCARD_RANDOM)
            return;
        const RMem &m = mems.at(h);
        kmt_reason reason = kind == KMT_DISCARD_ALWAYS ? KMT_REASON_DISCARD_ALWAYS : KMT_REASON_DISCARD_RANDOM;
        discard(h, reason, 0, usage(m.heap), budget[m.heap]);
    }
    // Only OFFERED memory is discarded, and a discard is never a lie: the
    // contents are replaced first (not for a decommit) and a failed fill
    // leaves the memory OFFERED. A decommit frees the driver's memory (once,
    // through ops.decommit) and the app's handle stays.
    bool discard(uint64_t h, kmt_reason reason, uint32_t order, VkDeviceSize heap_usage, VkDeviceSize heap_budget)
    {
        RMem &m = mems.at(h);
        if (m.status != OFFERED)
            return false;
        bool decommit = m.flags & DECOMMIT;
        uint64_t value = (!decommit && has_fill) ? fill(m) : 0;
        if (value == KMT_FILL_FAILED)
            return false;
        m.status = decommit ? DECOMMITTED : DISCARDED;
        m.discards++;
        counters.bytes_discarded += m.size;
        if (decommit) {
            uint64_t driver = m.driver;
            m.driver = 0;
            if (has_decommit) {
                Call c;
                c.kind = 'D';
                c.a = h;
                c.b = driver;
                calls.push_back(c);
            } else {
                leaked.insert(driver);
            }
            counters.decommits++;
        } else {
            m.fill_value = value;
            counters.discards++;
        }
        kmt_transition extra{};
        extra.fence_value = value;
        extra.order = order;
        extra.heap_usage = heap_usage;
        extra.heap_budget = heap_budget;
        transition(h, OFFERED, reason, extra);
        return true;
    }
    // Whether the policy looks for victims in a heap over budget: with heap
    // accounting when it has OFFERED bytes there, else whenever anything is
    // OFFERED (it may find none of that heap).
    bool worth_relieving(const VkDeviceSize offered[kHeaps], uint32_t heap) const
    {
        return accounting ? offered[heap] != 0 : count_status(OFFERED) != 0;
    }
    bool over_budget() const
    {
        if (kind != KMT_DISCARD_PRESSURE)
            return false;
        VkDeviceSize used[kHeaps], offered[kHeaps];
        heap_sums(used, offered);
        for (uint32_t heap = 0; heap < heap_count; heap++)
            if (used[heap] > budget[heap] && worth_relieving(offered, heap))
                return true;
        return false;
    }
    uint32_t relieve()
    {
        if (kind != KMT_DISCARD_PRESSURE)
            return 0;
        uint32_t total = 0;
        VkDeviceSize usages[kHeaps], offered[kHeaps];
        heap_sums(usages, offered);  // a heap's discards change no other heap's sums
        for (uint32_t heap = 0; heap < heap_count; heap++) {
            VkDeviceSize used = usages[heap];
            if (used <= budget[heap] || !worth_relieving(offered, heap))
                continue;
            uint32_t n = 0;
            for (uint64_t h : victims(heap)) {
                if (used <= budget[heap])
                    break;
                if (discard(h, KMT_REASON_DISCARD_PRESSURE, n + 1, used, budget[heap])) {
                    used -= mems.at(h).size;  // counts what it discarded, not what it tried
                    n++;
                }
            }
            total += n;
        }
        return total;
    }
    void set_budgets(uint64_t budget_mb, uint32_t count, const VkDeviceSize *sizes, const VkDeviceSize *driver)
    {
        heap_count = std::min(count, kHeaps);
        for (uint32_t i = 0; i < heap_count; i++)
            budget[i] = budget_mb ? budget_mb << 20 : (driver && driver[i]) ? driver[i] : sizes[i] / 5 * 4;
    }

    // -- state changes
    void left_pending()
    {
        if (--pending_count == 0)
            highest_queued = 0;  // nothing waits any more: the FIFO starts afresh
    }
    void become_offered(uint64_t h, kmt_reason reason)
    {
        RMem &m = mems.at(h);
        uint8_t from = m.status;
        m.status = OFFERED;
        m.wait_serial = 0;
        if (from == PENDING)
            left_pending();
        set_driver(m, offered_priority);
        transition(h, from, reason);
        if (hook())
            on_offered(h);
    }
    // A deferred offer waits for `wait`, or for the highest serial queued
    // since nothing was PENDING when that is higher (waiting longer is safe).
    uint64_t queue(RMem &m, uint64_t wait)
    {
        uint64_t waits_for = std::max(wait, highest_queued);
        clamps += waits_for != wait;
        highest_queued = waits_for;
        pending_count += m.status != PENDING;
        m.status = PENDING;
        m.wait_serial = waits_for;
        m.queued_seq = ++queued;
        return waits_for;
    }
    void become_resident(uint64_t h, uint32_t result, uint64_t fence)
    {
        RMem &m = mems.at(h);
        uint8_t from = m.status;
        m.status = RESIDENT;
        m.offer_priority = 0;
        m.flags = 0;
        m.fill_value = 0;
        m.wait_serial = 0;
        if (from == PENDING)
            left_pending();
        set_driver(m, m.app);
        kmt_transition extra{};
        extra.result = result;
        extra.fence_value = fence;
        transition(h, from, KMT_REASON_RECLAIM, extra);
    }
    static uint8_t resolve_priority(uint32_t priority, float app)
    {
        if (priority != VK_OFFER_PRIORITY_AUTO_KMT)
            return uint8_t(priority);
        return app < 1.0f / 3.0f ? 1 : app < 2.0f / 3.0f ? 2 : 3;
    }

    // -- events
    void track(uint64_t h, uint64_t driver, VkDeviceSize size, uint32_t type, bool hv, bool dedicated,
               bool app_allocator, float app)
    {
        RMem m;
        m.driver = driver;
        m.size = size;
        m.type = type < 255 ? type : 255;
        m.heap = heap_of_type(type);
        m.host_visible = hv;
        m.dedicated = dedicated;
        m.app_allocator = app_allocator;
        m.app = m.driver_priority = app;
        mems[h] = m;
    }
    // Returns the driver's handle the glue frees (0 once decommitted).
    uint64_t untrack(uint64_t h)
    {
        uint64_t driver = mems.at(h).driver;
        bool was_pending = mems.at(h).status == PENDING;
        mems.erase(h);
        if (was_pending)
            left_pending();
        return driver;
    }
    void bind(uint32_t type, uint64_t r, uint64_t memory)
    {
        reserved--;
        res.erase(r);
        if (live(memory))
            res[r] = {type, memory};
    }
    // Returns the driver handle the glue passes the priority on to, or 0.
    uint64_t set_app(uint64_t h, float p)
    {
        auto it = mems.find(h);
        if (it == mems.end())
            return 0;
        it->second.app = p;
        if (demoted(it->second.status))
            return 0;
        it->second.driver_priority = p;
        return it->second.driver;
    }
    uint32_t promote(uint64_t completed)
    {
        uint32_t n = 0;
        for (uint64_t h : pending_order())
            if (mems.at(h).wait_serial <= completed) {
                become_offered(h, KMT_REASON_PROMOTED);
                n++;
            }
        return n;
    }

    // -- offer and reclaim
    static RErr shape(uint32_t count, bool memories, bool resources)
    {
        if (count == 0)
            return {KMT_ERROR_COUNT_ZERO, 0, 0, 0};
        if (memories == resources)
            return {KMT_ERROR_ARRAYS, 0, 0, memories ? 2u : 0u};
        return {};
    }

    // Checks the elements in call order and stops at the first invalid one;
    // a resource offer then needs every resource of each listed memory in
    // the call (the first element, in call order, whose memory has others).
    Verdict check(uint32_t count, bool memories, bool resources, const std::vector<Element> &list, bool offering,
                  uint32_t priority, uint32_t flags) const
    {
        Verdict v;
        v.error = shape(count, memories, resources);
        if (!v.error.code && offering && (priority < VK_OFFER_PRIORITY_LOW_KMT || priority > VK_OFFER_PRIORITY_AUTO_KMT))
            v.error = {KMT_ERROR_PRIORITY, 0, 0, priority};
        if (!v.error.code && offering && (flags & ~(IMMEDIATELY | DECOMMIT)))
            v.error = {KMT_ERROR_FLAGS, 0, 0, flags};
        if (v.error.code)
            return v;
        std::set<uint64_t> seen;
        auto fail = [&](kmt_error code, uint32_t i, uint64_t handle, uint64_t other) {
            v.error = {code, i, handle, other};
            v.at_element = true;
            return v;
        };
        for (uint32_t i = 0; i < count; i++) {
            if (i >= list.size())
                abort();  // the harness truncates a list only after its first invalid element
            const Element &e = list[i];
            uint64_t memory;
            if (!resources) {
                if (!live(e.handle))
                    return fail(KMT_ERROR_UNKNOWN_MEMORY, i, e.handle, 0);
                if (!seen.insert(e.handle).second)
                    return fail(KMT_ERROR_DUPLICATE, i, e.handle, 0);
                memory = e.handle;
            } else {
                if (e.type != VK_OBJECT_TYPE_BUFFER && e.type != VK_OBJECT_TYPE_IMAGE)
                    return fail(KMT_ERROR_RESOURCE_TYPE, i, e.handle, e.type);
                auto it = res.find(e.handle);
                if (it == res.end() || it->second.type != e.type)
                    return fail(KMT_ERROR_UNKNOWN_RESOURCE, i, e.handle, e.type);
                if (!seen.insert(e.handle).second)
                    return fail(KMT_ERROR_DUPLICATE, i, e.handle, 0);
                if (!live(it->second.memory))
                    return fail(KMT_ERROR_RESOURCE_MEMORY_FREED, i, e.handle, it->second.memory);
                memory = it->second.memory;
            }
            v.memory_of.push_back(memory);
            if (offering && mems.at(memory).mapped)
                return fail(KMT_ERROR_MAPPED, i, e.handle, memory);
            if (offering && mems.at(memory).status == DECOMMITTED)
                return fail(KMT_ERROR_DECOMMITTED, i, e.handle, memory);
        }
        if (offering && resources) {
            std::map<uint64_t, uint32_t> listed;
            for (uint64_t memory : v.memory_of)
                listed[memory]++;
            for (uint32_t i = 0; i < count; i++)
                if (listed[v.memory_of[i]] < resource_count(v.memory_of[i])) {
                    v.error = {KMT_ERROR_SHARED_MEMORY, i, list[i].handle, v.memory_of[i]};
                    return v;
                }
        }
        return v;
    }

    void reject() { counters.rejected_calls++; }

    // A valid offer: each memory once, in the order of the first element naming it.
    uint32_t offer(const Verdict &v, uint32_t priority, uint32_t flags, uint64_t wait)
    {
        bool now = (flags & IMMEDIATELY) || wait == 0;
        uint32_t reoffered = 0;
        std::set<uint64_t> done;
        for (uint64_t h : v.memory_of) {
            if (!done.insert(h).second)
                continue;
            RMem &m = mems.at(h);
            uint8_t from = m.status;
            counters.offers++;
            counters.bytes_offered += m.size;
            reoffered += from != RESIDENT;
            m.offer_priority = resolve_priority(priority, m.app);
            m.flags = uint8_t(flags);
            m.offered_seq = ++offers_made;
            kmt_reason reason = from == RESIDENT ? KMT_REASON_OFFER : KMT_REASON_REOFFER;
            if (from == RESIDENT || from == PENDING) {
                // A re-offer of PENDING memory waits for the new serial (or
                // none: OFFERED at once).
                if (now) {
                    become_offered(h, reason);
                } else {
                    kmt_transition extra{};
                    extra.wait_serial = queue(m, wait);
                    transition(h, from, reason, extra);
                }
            } else {
                // OFFERED: a new place in the pressure order; DISCARDED:
                // only the bookkeeping (nothing left to protect).
                transition(h, from, reason);
            }
        }
        counters.reoffers += reoffered;
        return reoffered;
    }

    static uint32_t result_of(uint8_t status)
    {
        return status == DISCARDED     ? VK_RECLAIM_RESULT_DISCARDED_KMT
               : status == DECOMMITTED ? VK_RECLAIM_RESULT_NOT_COMMITTED_KMT
                                       : VK_RECLAIM_RESULT_OK_KMT;
    }
    uint64_t fill_wait(const RMem &m, uint64_t fill_completed) const
    {
        return m.status == DISCARDED && m.fill_value > fill_completed ? m.fill_value : 0;
    }

    // A valid reclaim: results from the states before the call (two
    // resources of one memory both report it), each memory once.
    void reclaim(const Verdict &v, uint64_t fill_completed, bool lost, std::vector<uint32_t> &results,
                 uint64_t &fence)
    {
        results.clear();
        fence = 0;
        for (uint64_t h : v.memory_of) {
            const RMem &m = mems.at(h);
            results.push_back(lost ? uint32_t(VK_RECLAIM_RESULT_DISCARDED_KMT) : result_of(m.status));
            if (!lost)
                fence = std::max(fence, fill_wait(m, fill_completed));
        }
        if (lost)
            return;  // device lost: every result DISCARDED, nothing changes
        std::set<uint64_t> done;
        for (uint64_t h : v.memory_of) {
            if (!done.insert(h).second)
                continue;
            RMem &m = mems.at(h);
            counters.reclaims++;
            uint32_t result = result_of(m.status);
            uint64_t wait = fill_wait(m, fill_completed);
            if (m.status == RESIDENT)
                continue;  // never offered, or reclaimed already: OK, no transition
            if (m.status == DECOMMITTED) {
                kmt_transition extra{};
                extra.result = result;
                transition(h, DECOMMITTED, KMT_REASON_RECLAIM, extra);
                continue;
            }
            become_resident(h, result, wait);
        }
    }
};

} // namespace kmt_fuzz

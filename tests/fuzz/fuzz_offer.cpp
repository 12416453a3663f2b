// SPDX-License-Identifier: MIT
// Model-based fuzzing of the offer/reclaim state machine, the handle table
// and the discard policies (kmt_core: layer/offer.c, plain.c, validate.c,
// bindings.c, handles.c, policy.c, memory.c). The first bytes configure the
// tracker (pageable memory, which ops exist, heap accounting, the policy,
// memory types to heaps, the handle salt), so that both of the core's loops
// -- the general one and plain.c's single pass of a lean device -- run
// against the same model.
//
// The input is a byte stream decoded into events -- allocate (the tracker
// returns the app's handle; the harness keeps the driver's), free, binds
// through reservations (kmt_reserve_bindings / kmt_track_binding /
// kmt_unreserve_bindings, several outstanding at once), destroy, map, app
// priority, offer and reclaim (by memory or by resource, every priority and
// flag value, malformed lists, lists with freed, stale, foreign, zero and
// garbage handles, long lists, lists whose count runs past their array after
// the first invalid element), GPU progress (kmt_promote_pending), direct
// discards and the policy hook, the pressure policy with budgets, the offer
// sequence near its wrap, host-allocation failures and failing fills. Each
// event goes to the real tracker and to the Model of fuzz_model.h, a naive
// restatement of the rules. After every event the two are compared in full:
// hot and cold records, kmt_fill_state, the deferred-offer ring's live
// entries in order, the offer order, heap usage, offered counts and bytes,
// resources and reservations, counters, error code / index / handle / other,
// outputs written (or untouched on rejection), and the exact sequence of
// driver calls (P set_priority, F fill, D decommit, A app priority passed on)
// and transitions (T). A fake driver checks that every driver handle the
// core names is allocated, and that a decommit frees it exactly once.
// A divergence prints the event trace and aborts (libFuzzer saves the input).
//
// Built twice (tests/fuzz/CMakeLists.txt): as a libFuzzer target with clang,
// and into kmt_fuzz_offer_replay (fuzz_main.cpp) that replays a corpus or
// runs seeded random inputs as a ctest. KMT_FUZZ_TRACE=1 prints each event.
#include "fuzz_offer.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "fuzz_model.h"
#include "offer.h"
#include "policy.h"

namespace kmt_fuzz {

uint64_t g_operations = 0;
void (*g_failure_hook)() = nullptr;

namespace {

// Where a handle in a list came from (statistics: each kind is rejected).
enum Source { LIVE, FREED, FOREIGN, NEAR_MISS, GARBAGE, ZERO, SOURCES };
const char *const kSourceNames[SOURCES] = {"live", "freed", "foreign", "near-miss", "garbage", "zero"};

// What the inputs exercised (print_stats): evidence that the paths are hit.
struct Stats {
    uint64_t offer[KMT_ERROR_OUT_OF_HOST_MEMORY + 1], reclaim[KMT_ERROR_OUT_OF_HOST_MEMORY + 1];
    uint64_t unknown_by_source[SOURCES];
    uint64_t reoffers, reoffer_pending_now, reoffer_pending_later, clamps, promoted, policy_discards,
        direct_discards, hook_discards, becoming_offered_discards, results[3], fences, lost;
    uint64_t decommits, driver_reuse_after_decommit, renumberings, long_lists, truncated, null_error;
    uint64_t plain_offers, plain_reclaims, foreign_lookups;
    uint64_t track_failures, reserve_failures, reserves, unreserves, max_reserved, init_failures, stamp_wraps,
        bulk, max_live, fill_failures, relieve_oom, transitions;
} g_stats;

} // namespace

void print_stats()
{
    fprintf(stderr, "kmt_fuzz_offer stats: %" PRIu64 " operations\n  offer:  ", g_operations);
    for (int i = 0; i <= KMT_ERROR_OUT_OF_HOST_MEMORY; i++)
        fprintf(stderr, " %s=%" PRIu64, kmt_error_id(kmt_error(i)) + 4, g_stats.offer[i]);
    fprintf(stderr, "\n  reclaim:");
    for (int i = 0; i <= KMT_ERROR_OUT_OF_HOST_MEMORY; i++)
        fprintf(stderr, " %s=%" PRIu64, kmt_error_id(kmt_error(i)) + 4, g_stats.reclaim[i]);
    fprintf(stderr, "\n  unknown-memory by source:");
    for (int i = 0; i < SOURCES; i++)
        fprintf(stderr, " %s=%" PRIu64, kSourceNames[i], g_stats.unknown_by_source[i]);
    const Stats &s = g_stats;
    fprintf(stderr,
            "\n  reoffered=%" PRIu64 " reoffer-pending-now=%" PRIu64 " reoffer-pending-later=%" PRIu64
            " fifo-clamps=%" PRIu64 " promoted=%" PRIu64 "\n  policy-discards=%" PRIu64 " hook-discards=%" PRIu64
            " direct-discards=%" PRIu64 " discards-as-offered=%" PRIu64 " decommits=%" PRIu64 " driver-handle-reused-after-decommit=%" PRIu64
            "\n  results OK/DISCARDED/NOT_COMMITTED=%" PRIu64 "/%" PRIu64 "/%" PRIu64 " nonzero-fences=%" PRIu64
            " device-lost=%" PRIu64 " transitions=%" PRIu64 "\n  offer-order-renumberings=%" PRIu64
            " long-lists=%" PRIu64 " truncated-lists=%" PRIu64 " null-error-info=%" PRIu64
            "\n  valid offers/reclaims on the core's single-pass path (plain.c)=%" PRIu64 "/%" PRIu64
            " foreign-lookups=%" PRIu64
            "\n  track-failures=%" PRIu64 " reserves=%" PRIu64 " reserve-failures=%" PRIu64 " unreserves=%" PRIu64
            " max-reserved=%" PRIu64 " init-failures=%" PRIu64 " relieve-oom=%" PRIu64 "\n  stamp-wraps=%" PRIu64
            " bulk=%" PRIu64 " max-live=%" PRIu64 " fill-failures=%" PRIu64 "\n",
            s.reoffers, s.reoffer_pending_now, s.reoffer_pending_later, s.clamps, s.promoted, s.policy_discards,
            s.hook_discards, s.direct_discards, s.becoming_offered_discards, s.decommits,
            s.driver_reuse_after_decommit, s.results[0], s.results[1], s.results[2], s.fences, s.lost, s.transitions,
            s.renumberings, s.long_lists, s.truncated, s.null_error, s.plain_offers, s.plain_reclaims,
            s.foreign_lookups, s.track_failures, s.reserves, s.reserve_failures, s.unreserves, s.max_reserved,
            s.init_failures, s.relieve_oom, s.stamp_wraps, s.bulk, s.max_live, s.fill_failures);
}

namespace {

constexpr uint32_t kSmallIndices = 32;  // driver handles single allocations pick from
constexpr uint32_t kMaxIndices = 2048;  // bulk binds go up to here
// Bulk allocations go up to here: past 4 chunks of KMT_SLOT_CHUNK slots, so
// the slot table's directory grows (and the old one is retired).
constexpr uint32_t kMaxMemoryIndices = 5 * KMT_SLOT_CHUNK + kSmallIndices;
constexpr uint32_t kResources = 48;
constexpr size_t kFreedKept = 256;      // freed handles remembered for picking

// Events are printed only when tracing: KMT_FUZZ_TRACE=1, or the replay of a
// diverging input (run_one runs it again with tracing before aborting).
bool g_tracing = false;
const uint8_t *g_input = nullptr;
size_t g_input_size = 0;

void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "  ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n");
    va_end(args);
}
#define NOTE(...)              \
    do {                       \
        if (g_tracing)         \
            note(__VA_ARGS__); \
    } while (0)

[[noreturn]] void diverge(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void diverge(const char *fmt, ...)
{
    if (!g_tracing && g_input) {
        fprintf(stderr, "\n==== kmt_fuzz_offer: divergence; the input's events up to it:\n");
        g_tracing = true;
        run_one(g_input, g_input_size);  // diverges again, this time with the trace
    }
    fprintf(stderr, "==== DIVERGENCE: ");
    va_list args;
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\n");
    if (g_failure_hook)
        g_failure_hook();
    abort();
}

#define CHECK(cond, ...)          \
    do {                          \
        if (!(cond))              \
            diverge(__VA_ARGS__); \
    } while (0)

// ---- input ------------------------------------------------------------------

struct Reader {
    const uint8_t *p;
    size_t n;
    bool empty() const { return n == 0; }
    uint8_t u8()
    {
        if (!n)
            return 0;
        n--;
        return *p++;
    }
    uint32_t u16() { return u8() | (uint32_t(u8()) << 8); }
    uint32_t u32() { return u16() | (u16() << 16); }
    uint64_t u64() { return u32() | (uint64_t(u32()) << 32); }
};

// ---- host allocations: counted, and failing on request ------------------------

struct Allocator {
    VkAllocationCallbacks callbacks{};
    std::unordered_map<void *, size_t> live;
    long countdown = -1;     // allocations that still succeed before one fails; -1: never
    bool persistent = false; // once failing, keep failing
    uint64_t calls = 0, failures = 0, bad_frees = 0;
    std::vector<bool> log;   // outcomes while logging (kmt_policy_relieve)
    bool logging = false;

    Allocator()
    {
        callbacks.pUserData = this;
        callbacks.pfnAllocation = &Allocate;
        callbacks.pfnReallocation = &Reallocate;
        callbacks.pfnFree = &Free;
    }
    static void *VKAPI_PTR Allocate(void *user, size_t size, size_t alignment, VkSystemAllocationScope)
    {
        auto *self = static_cast<Allocator *>(user);
        // Nothing the core keeps for these inputs comes near this: a huge
        // request means a count was trusted (e.g. sized from allocationCount).
        CHECK(size <= (size_t(256) << 20), "the core asked for %zu bytes of host memory", size);
        self->calls++;
        bool fail = self->countdown == 0;
        if (self->logging)
            self->log.push_back(!fail);
        if (fail) {
            self->failures++;
            if (!self->persistent)
                self->countdown = -1;
            return nullptr;
        }
        if (self->countdown > 0)
            self->countdown--;
        void *p = nullptr;
        size_t align = alignment < sizeof(void *) ? sizeof(void *) : alignment;
        if (posix_memalign(&p, align, size ? size : 1) != 0)
            diverge("posix_memalign(%zu) failed", size);
        self->live[p] = size;
        return p;
    }
    static void *VKAPI_PTR Reallocate(void *, void *, size_t, size_t, VkSystemAllocationScope)
    {
        diverge("the core called pfnReallocation");
    }
    static void VKAPI_PTR Free(void *user, void *p)
    {
        auto *self = static_cast<Allocator *>(user);
        if (!p)
            return;
        auto it = self->live.find(p);
        if (it == self->live.end()) {
            self->bad_frees++;
            return;
        }
        self->live.erase(it);
        std::free(p);
    }
};

// A set with O(1) insert, erase and pick by position.
class Picker {
  public:
    size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }
    bool contains(uint64_t h) const { return where_.count(h) != 0; }
    uint64_t at(size_t i) const { return items_[i]; }
    void insert(uint64_t h)
    {
        if (where_.emplace(h, items_.size()).second)
            items_.push_back(h);
    }
    void erase(uint64_t h)
    {
        auto it = where_.find(h);
        if (it == where_.end())
            return;
        size_t i = it->second;
        where_.erase(it);
        if (i + 1 != items_.size()) {
            items_[i] = items_.back();
            where_[items_[i]] = i;
        }
        items_.pop_back();
    }
    const std::vector<uint64_t> &items() const { return items_; }

  private:
    std::vector<uint64_t> items_;
    std::unordered_map<uint64_t, size_t> where_;
};

// ---- the harness --------------------------------------------------------------

const float kPriorities[] = {0.0f, 0.1f, 0.25f, 1.0f / 3.0f, 0.5f, 0.6f, 2.0f / 3.0f, 0.75f, 0.9f, 1.0f};
const VkDeviceSize kSizes[] = {0,        1,        4096,      65536,      1u << 20,   2u << 20,
                               3u << 20, 4u << 20, 16u << 20, 256u << 20, 1ull << 30, 5ull << 30};
constexpr uint32_t kSizeCount = sizeof(kSizes) / sizeof(kSizes[0]);

// The driver's handles: what a driver hands out, in three styles.
uint64_t driver_handle(uint32_t mode, uint32_t i)
{
    switch (mode) {
    case 0: return i + 1;                                    // counters
    case 1: return 0x00007f3a00000000ull + uint64_t(i) * 64; // heap pointers
    default: return (uint64_t(i) + 1) << 40 | 0x11;          // high bits only differ
    }
}
uint64_t resource_handle(uint32_t mode, uint32_t i)
{
    switch (mode) {
    case 0: return 0x10000 + i + 1;
    case 1: return 0x00005563c0000000ull + uint64_t(i) * 48;
    default: return (uint64_t(i) + 1) << 44 | 0x3;
    }
}

class Harness {
  public:
    Harness() = default;
    Harness(const Harness &) = delete;
    Harness &operator=(const Harness &) = delete;
    ~Harness()
    {
        if (foreign_ready_)
            kmt_tracker_finish(&foreign_);
    }

    void run(Reader in)
    {
        if (!configure(in))
            return;
        check_all();
        while (!in.empty()) {
            uint32_t stamp = t_.call_stamp;
            step(in);
            g_operations++;
            g_stats.stamp_wraps += t_.call_stamp < stamp && t_.call_stamp <= 2;
            g_stats.max_live = std::max<uint64_t>(g_stats.max_live, model_.mems.size());
            check_all();
        }
        check_all(true);
        // Every driver allocation the app still holds is allocated below;
        // every other one was freed exactly once.
        std::set<uint64_t> expected = model_.leaked;
        for (const auto &[h, m] : model_.mems)
            if (m.driver)
                expected.insert(m.driver);
        CHECK(driver_live_ == expected, "the driver holds %zu allocations, the model expects %zu",
              driver_live_.size(), expected.size());
        kmt_tracker_finish(&t_);
        CHECK(alloc_.live.empty(), "kmt_tracker_finish left %zu blocks", alloc_.live.size());
        CHECK(alloc_.bad_frees == 0, "%" PRIu64 " frees of blocks the allocator never gave", alloc_.bad_frees);
    }

  private:
    // ---- configuration: the first bytes ---------------------------------------

    bool configure(Reader &in)
    {
        uint8_t c0 = in.u8(), c1 = in.u8(), c2 = in.u8(), c3 = in.u8();
        model_.pageable = c0 & 1;
        model_.has_set_priority = !(c0 & 2);
        model_.has_fill = !(c0 & 4);
        model_.has_transition = !(c0 & 8);
        use_allocator_ = !(c0 & 16);
        model_.has_decommit = !(c0 & 32);
        handle_mode_ = (c0 >> 6) % 3;
        model_.offered_priority = (c1 & 0x80) ? kPriorities[(c1 & 0x7f) % 10] : 0.0f;
        kmt_settings settings{};
        kmt_settings_defaults(&settings);
        settings.discard = kmt_discard_policy(c2 & 3);
        settings.discard_rate = (c2 & 4) ? in.u16() % 1200 : (c2 >> 3) * 1000 / 31;
        settings.discard_seed = (c2 & 0x80) ? in.u64() : c2;
        model_.kind = settings.discard;
        model_.rate = settings.discard_rate;
        model_.rng = settings.discard_seed;
        kmt_policy_init(&policy_, &settings);
        CHECK(kmt_policy_hook(&policy_) == model_.hook(), "kmt_policy_hook is %d for policy %d",
              kmt_policy_hook(&policy_), int(model_.kind));

        // The glue's habit of relieving pressure after every call that can
        // raise usage or offer memory (commands.c), or explicit events only.
        auto_relieve_ = c3 & 1;
        // Heap accounting: on under the discard policies (as the glue sets
        // it: they read usage), and sometimes under never too.
        model_.accounting = model_.kind != KMT_DISCARD_NEVER || (c3 & 0x40);
        // A lean device half the time (no listener, no pageable memory): the
        // production default, where the core takes its single-pass loops.
        if (c3 & 0x80)
            model_.pageable = model_.has_transition = false;
        // Memory types to heaps: 1-4 heaps in four layouts; sometimes type 31
        // on the last heap (15).
        uint32_t heaps = 1 + ((c3 >> 1) & 3), layout = (c3 >> 3) & 3;
        for (uint32_t i = 0; i < kTypes; i++) {
            uint32_t heap = layout == 0 ? i % heaps : layout == 1 ? (i / 8) % heaps : layout == 2 ? 0 : heaps - 1 - i % heaps;
            model_.type_heap[i] = uint8_t(heap);
        }
        if (c3 & 0x20)
            model_.type_heap[kTypes - 1] = kHeaps - 1;
        for (uint32_t i = 0; i < kTypes; i++)
            heap_used_[model_.type_heap[i]] = true;

        kmt_tracker_config config{};
        config.pageable = model_.pageable;
        config.offered_priority = model_.offered_priority;
        config.salt = in.u32();
        config.accounting = model_.accounting;
        std::memcpy(config.type_heap, model_.type_heap, sizeof(config.type_heap));
        config.on_offered = kmt_policy_hook(&policy_) ? kmt_policy_on_offered : nullptr;  // as the glue does
        config.on_offered_ctx = &policy_;
        kmt_tracker_ops ops{};
        ops.ctx = this;
        ops.set_priority = model_.has_set_priority ? &SetPriority : nullptr;
        ops.fill = model_.has_fill ? &Fill : nullptr;
        ops.decommit = model_.has_decommit ? &Decommit : nullptr;
        ops.transition = model_.has_transition ? &Transition : nullptr;

        // Another device's tracker, whose handles must not resolve here.
        kmt_tracker_config other = config;
        other.salt = config.salt + 1 + in.u8();
        other.on_offered = nullptr;
        CHECK(kmt_tracker_init(&foreign_, &other, nullptr, nullptr), "kmt_tracker_init of the foreign tracker");
        foreign_ready_ = true;
        for (uint32_t i = 0; i < 6; i++)
            foreign_event(i < 4 ? 1 : 0);

        // Host-allocation failure during init: nothing may leak, and the
        // glue's teardown of a half-made tracker must be harmless.
        uint8_t init_fail = in.u8();
        if (use_allocator_ && init_fail < 4)
            alloc_.countdown = init_fail;
        NOTE("init pageable=%d set_priority=%d fill=%d decommit=%d transition=%d allocator=%d handles=%u "
             "offered_priority=%g policy=%d rate=%u seed=%" PRIu64 " auto_relieve=%d accounting=%d heaps=%u "
             "layout=%u salt=0x%x foreign_salt=0x%x init_fail=%d",
             model_.pageable, model_.has_set_priority, model_.has_fill, model_.has_decommit, model_.has_transition,
             use_allocator_, handle_mode_, double(model_.offered_priority), int(model_.kind), model_.rate,
             model_.rng, auto_relieve_, model_.accounting, heaps, layout, config.salt, other.salt,
             use_allocator_ && init_fail < 4 ? init_fail : -1);
        if (!kmt_tracker_init(&t_, &config, &ops, use_allocator_ ? &alloc_.callbacks : nullptr)) {
            CHECK(alloc_.failures > 0, "kmt_tracker_init failed without an allocation failure");
            g_stats.init_failures++;
            kmt_tracker_finish(&t_);
            CHECK(alloc_.live.empty(), "kmt_tracker_init failure leaked %zu blocks", alloc_.live.size());
            return false;
        }
        alloc_.countdown = -1;
        return true;
    }

    // ---- the driver below the core ---------------------------------------------

    static void SetPriority(void *ctx, uint64_t driver, float priority)
    {
        auto *self = static_cast<Harness *>(ctx);
        CHECK(self->driver_live_.count(driver), "set_priority of driver memory 0x%" PRIx64 " that is not allocated",
              driver);
        Call c;
        c.kind = 'P';
        c.a = driver;
        c.priority = priority;
        self->calls_.push_back(c);
    }
    static uint64_t Fill(void *ctx, const kmt_fill_request *request)
    {
        auto *self = static_cast<Harness *>(ctx);
        CHECK(self->driver_live_.count(request->driver), "fill of driver memory 0x%" PRIx64 " that is not allocated",
              request->driver);
        // The fill runs before the state changes (a failed fill leaves the memory OFFERED).
        auto owner = self->owner_.find(request->driver);
        uint64_t app = owner == self->owner_.end() ? 0 : owner->second;
        const kmt_memory *m = kmt_find_memory(&self->t_, app, nullptr);
        CHECK(m && m->status == OFFERED, "fill of memory 0x%" PRIx64 " in status %d", app, m ? m->status : -1);
        uint64_t value = Model::fill_fails(self->fill_fail_mode_, request->host_visible, self->fills_++)
                             ? KMT_FILL_FAILED
                         : request->host_visible ? 0
                                                 : ++self->paging_;
        Call c;
        c.kind = 'F';
        c.a = request->driver;
        c.b = value;
        c.fill = *request;
        self->calls_.push_back(c);
        g_stats.fill_failures += value == KMT_FILL_FAILED;
        return value;
    }
    static void Decommit(void *ctx, uint64_t memory, uint64_t driver)
    {
        auto *self = static_cast<Harness *>(ctx);
        CHECK(self->driver_live_.count(driver), "decommit frees driver memory 0x%" PRIx64 " that is not allocated",
              driver);
        auto owner = self->owner_.find(driver);
        CHECK(owner != self->owner_.end() && owner->second == memory,
              "decommit of app memory 0x%" PRIx64 " frees driver memory 0x%" PRIx64 " of another allocation", memory,
              driver);
        // Cleared before the driver frees it: a lock-free translation never passes it down.
        const kmt_memory *m = kmt_find_memory(&self->t_, memory, nullptr);
        CHECK(m && m->status == DECOMMITTED && kmt_driver_memory(&self->t_, memory) == 0,
              "decommit of 0x%" PRIx64 " while the record still names the driver memory", memory);
        self->driver_live_.erase(driver);
        self->owner_.erase(owner);
        self->decommitted_drivers_.insert(driver);
        Call c;
        c.kind = 'D';
        c.a = memory;
        c.b = driver;
        self->calls_.push_back(c);
        g_stats.decommits++;
    }
    static void Transition(void *ctx, const kmt_transition *change)
    {
        auto *self = static_cast<Harness *>(ctx);
        const kmt_memory *m = kmt_find_memory(&self->t_, change->memory, nullptr);
        CHECK(m && m->status == change->to, "transition of 0x%" PRIx64 " to %u, but the record says %d",
              change->memory, change->to, m ? m->status : -1);
        Call c;
        c.kind = 'T';
        c.change = *change;
        self->calls_.push_back(c);
        g_stats.transitions++;
    }

    void expect_calls(const char *what)
    {
        if (g_tracing && !calls_.empty())
            note("  calls %s", describe(calls_).c_str());
        bool same = calls_.size() == model_.calls.size();
        for (size_t i = 0; same && i < calls_.size(); i++)
            same = same_call(calls_[i], model_.calls[i]);
        CHECK(same, "%s: calls %s\n  model expects %s", what, describe(calls_).c_str(),
              describe(model_.calls).c_str());
        calls_.clear();
        model_.calls.clear();
    }

    // Events that must not allocate host memory (they cannot fail).
    struct NoAllocation {
        const Harness &h;
        const char *what;
        uint64_t before;
        NoAllocation(const Harness &harness, const char *w) : h(harness), what(w), before(harness.alloc_.calls) {}
        ~NoAllocation() noexcept(false)
        {
            CHECK(h.alloc_.calls == before, "%s allocated host memory", what);
        }
    };

    // ---- picking handles -----------------------------------------------------

    uint64_t dh(uint32_t i) const { return driver_handle(handle_mode_, i); }
    uint64_t rh(uint32_t i) const { return resource_handle(handle_mode_, i); }

    uint64_t pick_live(uint8_t b, Reader &in) const
    {
        size_t i = live_.size() > 232 ? (b | in.u8() << 8) : b;
        return live_.at(i % live_.size());
    }

    // A memory handle: mostly a live one; else a freed one (stale), one of
    // the other tracker's (foreign), a live one with a bit changed (near
    // miss), garbage, or 0.
    uint64_t pick_memory(uint8_t b, Reader &in, Source *source = nullptr)
    {
        Source s = LIVE;
        uint64_t h = 0;
        if (b < 232 && !live_.empty()) {
            h = pick_live(b, in);
        } else if (b >= 232 && b < 238 && !freed_.empty()) {
            s = FREED;
            h = freed_[(b + 8 * in.u8()) % freed_.size()];
        } else if (b >= 238 && b < 244 && (!foreign_live_.empty() || !foreign_freed_.empty())) {
            s = FOREIGN;
            uint8_t k = in.u8();
            h = (k & 1) && !foreign_freed_.empty() ? foreign_freed_[k % foreign_freed_.size()]
                : !foreign_live_.empty()           ? foreign_live_.at(k % foreign_live_.size())
                                                   : foreign_freed_[k % foreign_freed_.size()];
        } else if (b >= 244 && b < 252 && !live_.empty()) {
            s = NEAR_MISS;
            uint64_t l = live_.at(in.u8() % live_.size());
            uint64_t high = l & ~uint64_t(0xffffffff);
            switch (b & 7) {
            case 0: h = l + (uint64_t(1) << 32); break;      // the next generation of its slot
            case 1: h = l - (uint64_t(1) << 32); break;      // the previous one
            case 2: h = high; break;                         // index half 0
            case 3: h = high | 0xffffffffu; break;           // index far out of range
            case 4: h = high | (peak_live_ + 1 + in.u8()); break; // a slot never handed out
            case 5: h = l ^ (uint64_t(1) << 63); break;
            case 6: h = uint32_t(l); break;                  // generation 0
            default: h = l << 32 | l >> 32; break;           // halves swapped
            }
        } else if (b < 254) {
            s = GARBAGE;
            h = in.u64();
        } else if (b == 254) {
            s = GARBAGE;
            h = UINT64_MAX;
        } else {
            s = ZERO;
        }
        if (source)
            *source = s;
        return h;
    }

    Element pick_resource(uint8_t b, Reader &in) const
    {
        if (b < 230 && !resources_.empty()) {
            uint64_t r = resources_.at(b % resources_.size());
            uint32_t type = model_.res.at(r).type;
            if (b >= 200)  // the other of buffer / image
                type = type == VK_OBJECT_TYPE_BUFFER ? VK_OBJECT_TYPE_IMAGE : VK_OBJECT_TYPE_BUFFER;
            return {r, type};
        }
        if (b >= 230 && b < 240) {
            static const uint32_t bad[] = {VK_OBJECT_TYPE_UNKNOWN, VK_OBJECT_TYPE_DEVICE_MEMORY,
                                           VK_OBJECT_TYPE_BUFFER_VIEW, 0x7fffffffu};
            return {rh(b % kResources), bad[b % 4]};
        }
        if (b == 254)
            return {in.u64(), VK_OBJECT_TYPE_BUFFER};
        if (b == 255)
            return {0, VK_OBJECT_TYPE_BUFFER};
        return {rh(b % kResources), b & 1 ? uint32_t(VK_OBJECT_TYPE_IMAGE) : uint32_t(VK_OBJECT_TYPE_BUFFER)};
    }

    // A driver handle not allocated now (a handle freed by a decommit may come back).
    uint64_t new_driver_handle(uint32_t start, uint32_t begin, uint32_t end) const
    {
        for (uint32_t k = 0; k < end - begin; k++) {
            uint64_t d = dh(begin + (start + k) % (end - begin));
            if (!driver_live_.count(d))
                return d;
        }
        return 0;
    }

    // ---- events ----------------------------------------------------------------

    void step(Reader &in)
    {
        uint8_t op = in.u8() % 40;
        switch (op) {
        case 0: case 1: case 2: case 3: allocate(in); break;
        case 4: case 5: free_memory(pick_memory(in.u8(), in)); break;
        case 6: reserve(in.u8() % 41); break;
        case 7: case 8: glue_bind(in); break;
        case 9: {  // binds that use reservations made by earlier events
            uint8_t b = in.u8();
            if (!model_.reserved)
                break;
            uint32_t n = 1 + b % uint32_t(std::min<uint64_t>(model_.reserved, 8));
            for (uint32_t i = 0; i < n; i++)
                bind_one(in);
            break;
        }
        case 10: {
            uint32_t k = uint32_t(in.u8() % (model_.reserved + 3));
            NOTE("unreserve %u of %" PRIu64, k, model_.reserved);
            {
                NoAllocation guard(*this, "kmt_unreserve_bindings");
                kmt_unreserve_bindings(&t_, k);
            }
            model_.reserved -= std::min<uint64_t>(k, model_.reserved);  // more than is reserved: what is
            g_stats.unreserves++;
            break;
        }
        case 11: {
            uint64_t r = pick_resource(in.u8(), in).handle;
            NOTE("destroy resource 0x%" PRIx64, r);
            NoAllocation guard(*this, "kmt_untrack_resource");
            kmt_untrack_resource(&t_, r);
            model_.res.erase(r);
            resources_.erase(r);
            break;
        }
        case 12: case 13: {  // map / unmap as the glue does: only resident memory maps
            uint8_t b = in.u8();
            uint64_t h = pick_memory(in.u8(), in);
            bool map = op == 12 && (b & 1);
            NOTE("%s 0x%" PRIx64, map ? "map" : "unmap", h);
            kmt_memory *m = kmt_find_memory(&t_, h, nullptr);
            auto it = model_.mems.find(h);
            CHECK((m != nullptr) == (it != model_.mems.end()), "kmt_find_memory(0x%" PRIx64 ") disagrees", h);
            if (m && (!map || m->status == RESIDENT)) {
                m->bits = uint8_t(map ? m->bits | KMT_MEM_MAPPED : m->bits & ~KMT_MEM_MAPPED);
                it->second.mapped = map;
            }
            break;
        }
        case 14: {
            uint64_t h = pick_memory(in.u8(), in);
            float p = kPriorities[in.u8() % 10];
            NOTE("app priority 0x%" PRIx64 " %g", h, double(p));
            uint64_t driver;
            {
                NoAllocation guard(*this, "kmt_set_app_priority");
                driver = kmt_set_app_priority(&t_, h, p);
            }
            if (driver)
                calls_.push_back(app_priority_call(driver, p));  // the glue passes it on
            uint64_t model_driver = model_.set_app(h, p);
            if (model_driver)
                model_.calls.push_back(app_priority_call(model_driver, p));
            CHECK(driver == model_driver, "kmt_set_app_priority returned 0x%" PRIx64 ", model 0x%" PRIx64, driver,
                  model_driver);
            expect_calls("app priority");
            break;
        }
        case 15: case 16: case 17: case 18: case 38: offer(in, false); break;
        case 19: case 20: offer(in, true); break;
        case 21: case 22: case 23: case 39: reclaim(in, false); break;
        case 24: reclaim(in, true); break;
        case 25:
            submitted_ += 1 + in.u8() % 4;
            NOTE("submit -> serial %" PRIu64, submitted_);
            break;
        case 26: case 27: promote(in.u8()); break;
        case 28: discard(in); break;
        case 29: NOTE("relieve"); relieve("relieve"); break;
        case 30: set_budgets(in); break;
        case 31: {
            uint8_t b = in.u8();
            if (!use_allocator_)
                break;
            alloc_.countdown = b & 0x3f;
            alloc_.persistent = b & 0x40;
            if (b & 0x80)
                alloc_.countdown = -1;
            NOTE("allocation failure: countdown %ld persistent %d", alloc_.countdown, alloc_.persistent);
            break;
        }
        case 32: {
            // The 32-bit offer sequence close to its wrap (forward only: the
            // hook's contract); the next offers renumber every offered
            // allocation, keeping the order.
            uint32_t target = UINT32_MAX - in.u8() % 48;
            if (t_.next_offer_order < target) {
                NOTE("next offer order -> 0x%x", target);
                kmt_set_next_offer_order(&t_, target);
            }
            break;
        }
        case 33: foreign_event(in.u8()); break;
        case 34: query(in); break;
        case 35: {  // rarely many at once (large live sets slow every check down)
            uint8_t b = in.u8();
            if (b < 32) {
                bulk(in);
                g_stats.bulk++;
            } else {
                query(in);
            }
            break;
        }
        case 36: {
            uint8_t b = in.u8();
            fill_fail_mode_ = model_.fill_fail_mode = b % 4;
            NOTE("fill failures: mode %u", fill_fail_mode_);
            break;
        }
        default: {  // 37: the call stamp close to its wrap after 2^32 calls (forward only: stamps never repeat)
            uint32_t target = 0xfffffff0u + in.u8() % 16;
            if (t_.call_stamp < target) {
                NOTE("call stamp -> 0x%x", target);
                t_.call_stamp = target;
            }
            break;
        }
        }
    }

    static Call app_priority_call(uint64_t driver, float p)
    {
        Call c;
        c.kind = 'A';
        c.a = driver;
        c.priority = p;
        return c;
    }

    void allocate(Reader &in)
    {
        uint8_t b = in.u8();
        uint8_t s = in.u8();
        VkDeviceSize size = s < 240 ? kSizes[s % kSizeCount] : VkDeviceSize(in.u32()) << (s % 16);
        uint8_t th = in.u8();
        uint32_t type = th % 40;  // >= 32 is kept as is, in heap 0
        uint8_t fl = in.u8();
        uint32_t flags = ((fl & 1) ? KMT_TRACK_HOST_VISIBLE : 0) | ((fl & 2) ? KMT_TRACK_DEDICATED : 0) |
                         ((fl & 4) ? KMT_TRACK_APP_ALLOCATOR : 0) | ((fl & 0x80) ? 0xfff0u : 0);  // unknown bits: ignored
        uint64_t driver = new_driver_handle(b, 0, kSmallIndices);
        if (driver)
            track(driver, size, type, flags, kPriorities[(fl >> 3) % 10]);
    }

    void track(uint64_t driver, VkDeviceSize size, uint32_t type, uint32_t flags, float p, bool upkeep = true)
    {
        NOTE("allocate driver 0x%" PRIx64 " size=%" PRIu64 " type=%u flags=0x%x priority=%g", driver, size, type,
             flags, double(p));
        uint64_t failures = alloc_.failures;
        uint64_t h = kmt_track_memory(&t_, driver, size, type, flags, p);
        bool failed = alloc_.failures != failures;
        CHECK(failed ? h == 0 : h != 0, "kmt_track_memory returned 0x%" PRIx64 " (allocation failed: %d)", h, failed);
        NOTE("  -> 0x%" PRIx64, h);
        if (!h) {
            g_stats.track_failures++;
            return;  // the glue frees the driver's memory: it never reaches the fake driver's books
        }
        // A fresh handle: never seen before, in a slot the table had to use.
        CHECK(ever_.insert(h).second, "kmt_track_memory returned 0x%" PRIx64 " a second time", h);
        peak_live_ = std::max<uint32_t>(peak_live_, uint32_t(model_.mems.size() + 1));
        CHECK(uint32_t(h) >= 1 && uint32_t(h) <= peak_live_,
              "handle 0x%" PRIx64 " names slot %u with at most %u allocations live", h, uint32_t(h) - 1, peak_live_);
        if (decommitted_drivers_.erase(driver))
            g_stats.driver_reuse_after_decommit++;
        driver_live_.insert(driver);
        owner_[driver] = h;
        model_.track(h, driver, size, type, flags & KMT_TRACK_HOST_VISIBLE, flags & KMT_TRACK_DEDICATED,
                     flags & KMT_TRACK_APP_ALLOCATOR, p);
        live_.insert(h);
        if (upkeep)
            allocate_upkeep();
    }
    // What the glue does after each vkAllocateMemory (usage grew).
    void allocate_upkeep()
    {
        if (auto_relieve_) {
            promote_to(completed_);
            relieve("allocate");
        }
    }

    void free_memory(uint64_t h)
    {
        NOTE("free 0x%" PRIx64, h);
        uint64_t driver = 0xdeadbeefu;
        bool ok;
        {
            NoAllocation guard(*this, "kmt_untrack_memory");
            ok = kmt_untrack_memory(&t_, h, &driver);
        }
        bool model_ok = model_.live(h);
        CHECK(ok == model_ok, "kmt_untrack_memory(0x%" PRIx64 ") returned %d, model %d", h, ok, model_ok);
        if (!ok) {
            CHECK(driver == 0xdeadbeefu, "kmt_untrack_memory wrote the driver handle of an unknown handle");
            return;
        }
        uint64_t model_driver = model_.untrack(h);
        CHECK(driver == model_driver, "kmt_untrack_memory gave driver 0x%" PRIx64 ", model 0x%" PRIx64, driver,
              model_driver);
        if (driver) {  // the glue frees it below
            CHECK(driver_live_.erase(driver), "vkFreeMemory of driver memory 0x%" PRIx64 " already freed", driver);
            owner_.erase(driver);
        }
        live_.erase(h);
        if (freed_.size() < kFreedKept)
            freed_.push_back(h);
        else
            freed_[freed_count_ % kFreedKept] = h;
        freed_count_++;
    }

    // ---- bindings: reserve, then bind what the driver bound, or give back --------

    bool reserve(uint32_t k)
    {
        uint64_t failures = alloc_.failures;
        bool ok = kmt_reserve_bindings(&t_, k);
        bool failed = alloc_.failures != failures;
        NOTE("reserve bindings %u -> %d", k, ok);
        CHECK(ok == !failed, "kmt_reserve_bindings(%u) returned %d (allocation failed: %d)", k, ok, failed);
        if (ok)
            model_.reserved += k;
        g_stats.reserves += ok;
        g_stats.reserve_failures += !ok;
        g_stats.max_reserved = std::max(g_stats.max_reserved, model_.reserved);
        return ok;
    }

    uint64_t pick_bind_resource(uint8_t b) const
    {
        if ((b & 0x38) == 0x38) {  // a new resource beyond the small set: the table grows
            for (uint32_t i = kResources; i < kMaxIndices; i++)
                if (!model_.res.count(rh(i)))
                    return rh(i);
        }
        return rh(b % kResources);
    }

    // One element the driver bound, within a reservation: cannot fail.
    void bind_one(Reader &in)
    {
        uint8_t b = in.u8();
        uint64_t r = pick_bind_resource(b);
        uint32_t type = b & 0x40 ? VK_OBJECT_TYPE_IMAGE : VK_OBJECT_TYPE_BUFFER;
        uint64_t memory = pick_memory(in.u8(), in);
        bind(type, r, memory);
    }
    void bind(uint32_t type, uint64_t r, uint64_t memory)
    {
        NOTE("bind %s 0x%" PRIx64 " -> 0x%" PRIx64 " (%" PRIu64 " reserved)",
             type == VK_OBJECT_TYPE_IMAGE ? "image" : "buffer", r, memory, model_.reserved);
        CHECK(model_.reserved > 0, "harness: a bind without a reservation");
        {
            NoAllocation guard(*this, "kmt_track_binding");
            kmt_track_binding(&t_, type, r, memory);
        }
        model_.bind(type, r, memory);
        if (model_.res.count(r))
            resources_.insert(r);
        else
            resources_.erase(r);
    }

    // A vkBind*Memory call of 1-4 elements as bind_hooks.c makes it.
    void glue_bind(Reader &in)
    {
        uint8_t b = in.u8();
        uint32_t n = 1 + b % 4;
        if (!reserve(n))
            return;  // VK_ERROR_OUT_OF_HOST_MEMORY before the driver bound anything
        if (b & 0x80) {
            NOTE("the driver failed the bind: unreserve %u", n);
            NoAllocation guard(*this, "kmt_unreserve_bindings");
            kmt_unreserve_bindings(&t_, n);
            model_.reserved -= n;
            return;
        }
        for (uint32_t i = 0; i < n; i++)
            bind_one(in);
    }

    // ---- GPU progress, discards, pressure ------------------------------------

    uint64_t destroyed() const { return model_.counters.discards + model_.counters.decommits; }
    // Statistics only: the configurations where the core takes its
    // single-pass loops for memory lists (offer.c plain_offer/plain_reclaim).
    bool single_pass() const { return !model_.has_transition && !model_.pageable && !model_.accounting; }

    void promote_to(uint64_t completed)
    {
        uint32_t n;
        {
            NoAllocation guard(*this, "kmt_promote_pending");
            n = kmt_promote_pending(&t_, completed);
        }
        uint64_t gone = destroyed();
        uint32_t expected = model_.promote(completed);
        g_stats.becoming_offered_discards += destroyed() - gone;
        CHECK(n == expected, "kmt_promote_pending(%" PRIu64 ") promoted %u, model %u", completed, n, expected);
        g_stats.promoted += n;
        expect_calls("promote");
        if (n && auto_relieve_)
            relieve("after promote");
    }
    void promote(uint8_t b)
    {
        uint64_t completed;
        if (b < 224)
            completed = completed_ = std::min(submitted_, completed_ + b % 5);
        else if (b < 250)
            completed = b % 8;  // arbitrary, may go backwards
        else
            completed = UINT64_MAX;
        NOTE("promote completed=%" PRIu64, completed);
        promote_to(completed);
    }

    void discard(Reader &in)
    {
        uint8_t b = in.u8();
        uint64_t h = pick_memory(in.u8(), in);
        // By slot index, as the policy calls it: a stale handle's slot may
        // hold another allocation now, or none.
        uint32_t index = uint32_t(h) - 1;
        if (index >= t_.slots.capacity)
            return;
        uint64_t target = model_.in_slot(index);
        bool hook = b & 1;
        NOTE("%s slot %u (0x%" PRIx64 ")", hook ? "policy on_offered" : "kmt_discard", index, target);
        bool offered = target && model_.mems.at(target).status == OFFERED;
        if (hook) {
            {
                NoAllocation guard(*this, "kmt_policy_on_offered");
                kmt_policy_on_offered(&policy_, &t_, index);
            }
            if (target)
                model_.on_offered(target);
            else if (model_.kind == KMT_DISCARD_RANDOM)
                model_.draw();  // the policy draws before it looks at the memory
        } else {
            bool done;
            {
                NoAllocation guard(*this, "kmt_discard");
                done = kmt_discard(&t_, index);
            }
            bool model_done = target && model_.discard(target, KMT_REASON_DISCARD_REQUEST, 0, 0, 0);
            CHECK(done == model_done, "kmt_discard(%u) returned %d, model %d", index, done, model_done);
        }
        bool gone = offered && model_.mems.at(target).status != OFFERED;
        (hook ? g_stats.hook_discards : g_stats.direct_discards) += gone;
        expect_calls("discard");
    }

    void relieve(const char *what)
    {
        bool over = kmt_policy_over_budget(&policy_, &t_);
        CHECK(over == model_.over_budget(), "%s: kmt_policy_over_budget is %d, model %d", what, over,
              model_.over_budget());
        if (!over && std::strcmp(what, "relieve") != 0)
            return;  // the glue relieves only when over budget; the event calls it anyway
        alloc_.log.clear();
        alloc_.logging = true;
        uint64_t failures = alloc_.failures;
        uint32_t n = kmt_policy_relieve(&policy_, &t_);
        alloc_.logging = false;
        uint32_t expected;
        if (alloc_.failures == failures) {
            expected = model_.relieve();
        } else {
            // Out of host memory for a heap's victim list: that heap waits for
            // the next call. One list per heap it relieves, in heap order.
            g_stats.relieve_oom++;
            expected = relieve_with_failures(what);
        }
        NOTE("  %s: %u discarded", what, n);
        CHECK(n == expected, "%s: kmt_policy_relieve discarded %u, model %u", what, n, expected);
        g_stats.policy_discards += n;
        expect_calls(what);
    }
    uint32_t relieve_with_failures(const char *what)
    {
        uint32_t total = 0;
        size_t next = 0;
        uint32_t heap_count = model_.heap_count;
        for (uint32_t heap = 0; heap < heap_count; heap++) {
            VkDeviceSize usage[kHeaps], offered[kHeaps];
            model_.heap_sums(usage, offered);
            if (model_.kind != KMT_DISCARD_PRESSURE || usage[heap] <= model_.budget[heap] ||
                !model_.worth_relieving(offered, heap))
                continue;
            CHECK(next < alloc_.log.size(), "%s: kmt_policy_relieve made %zu host allocations, fewer than the heaps "
                  "over budget", what, alloc_.log.size());
            if (!alloc_.log[next++])
                continue;
            // This heap alone, as the model relieves it.
            uint32_t saved = model_.heap_count;
            VkDeviceSize budgets[kHeaps];
            std::copy(model_.budget, model_.budget + kHeaps, budgets);
            for (uint32_t other = 0; other < kHeaps; other++)
                if (other != heap)
                    model_.budget[other] = UINT64_MAX;
            total += model_.relieve();
            std::copy(budgets, budgets + kHeaps, model_.budget);
            model_.heap_count = saved;
        }
        CHECK(next == alloc_.log.size(), "%s: kmt_policy_relieve made %zu host allocations for %zu heaps", what,
              alloc_.log.size(), next);
        return total;
    }

    void set_budgets(Reader &in)
    {
        uint8_t b = in.u8();
        uint32_t count = (b & 3) == 3 ? 17 + (b >> 2) % 3 : 1 + (b & 3);  // > 16 clamps
        if ((b & 0x0c) == 0x0c)
            count = kHeaps;  // every heap: type 31 may sit on heap 15
        VkDeviceSize sizes[20], driver[20];
        for (uint32_t i = 0; i < 20; i++) {
            sizes[i] = (VkDeviceSize(in.u8()) + 1) << 20;
            uint8_t d = in.u8();
            driver[i] = d < 32 ? 0 : VkDeviceSize(d) << 18;
        }
        kmt_settings settings{};
        kmt_settings_defaults(&settings);
        settings.budget_mb = (b & 0x10) ? (b >> 5) : 0;
        bool with_driver = b & 0x08;
        if (with_driver && (b & 0xe0) == 0xe0) {  // budgets at the heaps' usage now, +-1: the boundary
            for (uint32_t i = 0; i < kHeaps; i++)
                driver[i] = model_.usage(i) + (sizes[i] >> 20) % 3 - 1;
            settings.budget_mb = 0;
        }
        NOTE("budgets heaps=%u budget_mb=%" PRIu64 " driver=%d", count, settings.budget_mb, with_driver);
        kmt_policy_set_budgets(&policy_, &settings, count, sizes, with_driver ? driver : nullptr);
        model_.set_budgets(settings.budget_mb, count, sizes, with_driver ? driver : nullptr);
        CHECK(policy_.heap_count == model_.heap_count, "heap_count %u, model %u", policy_.heap_count,
              model_.heap_count);
        for (uint32_t i = 0; i < model_.heap_count; i++)
            CHECK(policy_.heap_budget[i] == model_.budget[i], "heap %u budget %" PRIu64 ", model %" PRIu64, i,
                  policy_.heap_budget[i], model_.budget[i]);
    }

    // ---- the other device's tracker, lookups --------------------------------------

    void foreign_event(uint8_t b)
    {
        if ((b & 1) && foreign_live_.size() < 64) {
            uint64_t h = kmt_track_memory(&foreign_, 0xf0000000u + foreign_allocs_++, 4096, 0, 0, 0.5f);
            CHECK(h, "kmt_track_memory on the foreign tracker");
            NOTE("foreign allocate -> 0x%" PRIx64, h);
            foreign_live_.insert(h);
        } else if (!foreign_live_.empty()) {
            uint64_t h = foreign_live_.at(b % foreign_live_.size()), driver = 0;
            NOTE("foreign free 0x%" PRIx64, h);
            CHECK(kmt_untrack_memory(&foreign_, h, &driver), "kmt_untrack_memory on the foreign tracker");
            foreign_live_.erase(h);
            if (foreign_freed_.size() < 64)
                foreign_freed_.push_back(h);
        }
    }

    // Lookups that change nothing: any handle resolves exactly when the
    // model has it live.
    void query(Reader &in)
    {
        Source s;
        uint64_t h = pick_memory(in.u8(), in, &s);
        NOTE("query 0x%" PRIx64 " (%s)", h, kSourceNames[s]);
        NoAllocation guard(*this, "a lookup");
        uint32_t index = 0xabcdu;
        const kmt_memory *m = kmt_find_memory(&t_, h, &index);
        auto it = model_.mems.find(h);
        CHECK((m != nullptr) == (it != model_.mems.end()), "kmt_find_memory(0x%" PRIx64 ", %s) is %p, model %d", h,
              kSourceNames[s], static_cast<const void *>(m), it != model_.mems.end());
        if (!m)
            CHECK(index == 0xabcdu, "kmt_find_memory wrote a slot index for an unknown handle");
        uint64_t driver = kmt_driver_memory(&t_, h);
        CHECK(driver == (m ? it->second.driver : 0), "kmt_driver_memory(0x%" PRIx64 ") is 0x%" PRIx64, h, driver);
        g_stats.foreign_lookups += s == FOREIGN;
        // A resource: bound to live memory, to freed memory (0), or unknown (0).
        uint64_t r = pick_resource(in.u8(), in).handle;
        auto bound = model_.res.find(r);
        uint64_t want = bound != model_.res.end() && model_.live(bound->second.memory) ? bound->second.memory : 0;
        CHECK(kmt_resource_memory(&t_, r) == want, "kmt_resource_memory(0x%" PRIx64 ") is 0x%" PRIx64
              ", model 0x%" PRIx64, r, kmt_resource_memory(&t_, r), want);
    }

    // ---- many at once: growth of every table -----------------------------------

    void bulk(Reader &in)
    {
        uint8_t b = in.u8();
        if (b & 1) {
            uint32_t n = 1 + b * 2;  // up to 511 at a time: a second slot chunk, directory growth
            NOTE("bulk allocate %u", n);
            for (uint32_t i = kSmallIndices; i < kMaxMemoryIndices && n; i++) {
                uint64_t d = dh(i);
                if (driver_live_.count(d))
                    continue;
                track(d, kSizes[i % kSizeCount], i % 40, (i & 1) ? KMT_TRACK_HOST_VISIBLE : 0, kPriorities[i % 10],
                      false);
                n--;
            }
            allocate_upkeep();  // once for the batch (after each one would cost n^2 checks)
        } else if (b & 2) {
            // Many resources on one memory: the resource table grows, the
            // resource pool gets a second chunk (one reservation for all).
            uint32_t n = 1 + (b >> 2) * 9;  // up to 568
            uint64_t memory = pick_memory(in.u8(), in);
            uint32_t type = b & 0x80 ? VK_OBJECT_TYPE_IMAGE : VK_OBJECT_TYPE_BUFFER;
            NOTE("bulk bind %u -> 0x%" PRIx64, n, memory);
            if (!reserve(n))
                return;
            for (uint32_t i = kResources; i < kMaxIndices && n; i++)
                if (!model_.res.count(rh(i))) {
                    bind(type, rh(i), memory);
                    n--;
                }
            if (n) {
                kmt_unreserve_bindings(&t_, n);
                model_.reserved -= n;
            }
        } else {
            uint32_t every = 1 + (b >> 2) % 3;
            NOTE("bulk free (every %u-th)", every);
            std::vector<uint64_t> mems = live_.items(), res = resources_.items();
            std::sort(mems.begin(), mems.end());
            std::sort(res.begin(), res.end());
            uint32_t k = 0;
            for (uint64_t h : mems)
                if (k++ % every == 0)
                    free_memory(h);
            for (uint64_t r : res)
                if (k++ % every == 0) {
                    kmt_untrack_resource(&t_, r);
                    model_.res.erase(r);
                    resources_.erase(r);
                }
        }
    }

    // ---- offer and reclaim lists --------------------------------------------------

    struct List {
        uint32_t count = 0;
        bool memories = false, resources = false, truncate = false, long_list = false;
        std::vector<Element> elements;
        std::vector<Source> sources;
        std::vector<VkDeviceMemory> memory_array;
        std::vector<VkOfferResourceKMT> resource_array;
        VkDeviceMemory memory_dummy = VK_NULL_HANDLE;
        VkOfferResourceKMT resource_dummy{};
        kmt_handle_list handles{};
    };

    // A list: shape byte, then one byte per element (long lists: live
    // handles in a row, with at most one bad element).
    void read_list(Reader &in, bool by_resource, List &l)
    {
        uint8_t s = in.u8();
        // shape: 0..7 and 14 short, 8..11 short in a row, 12..13 long, 15 both arrays or neither
        uint32_t shape = (s >> 3) & 15;
        l.count = s & 7;
        if (l.count == 0 && shape)
            l.count = (shape & 1) ? 8 : 1;  // count 0 only with shape 0
        l.truncate = s & 0x80;
        bool odd = shape == 15, both = s & 1;
        l.memories = odd ? both : !by_resource;
        l.resources = odd ? both : by_resource;
        const Picker &pool = by_resource ? resources_ : live_;
        if (shape == 12 || shape == 13) {
            read_long_list(in, by_resource, l);
        } else if (shape >= 8 && !pool.empty()) {
            // Distinct handles in a row (a list that is mostly valid), each
            // element's byte replacing it with a picked one now and then.
            uint32_t start = in.u8();
            for (uint32_t i = 0; i < l.count; i++) {
                uint8_t b = in.u8();
                Source src = LIVE;
                uint64_t h = pool.at((start + i) % pool.size());
                if (b >= 232)
                    l.elements.push_back(by_resource ? pick_resource(b, in) : Element{pick_memory(b, in, &src), 0});
                else
                    l.elements.push_back({h, by_resource ? model_.res.at(h).type : 0});
                l.sources.push_back(src);
            }
        } else {
            for (uint32_t i = 0; i < l.count; i++) {
                uint8_t b = in.u8();
                Source src = LIVE;
                l.elements.push_back(by_resource ? pick_resource(b, in) : Element{pick_memory(b, in, &src), 0});
                l.sources.push_back(src);
            }
        }
    }
    void read_long_list(Reader &in, bool by_resource, List &l)
    {
        uint32_t start = in.u16(), wanted = 60 + in.u16() % 600;
        const std::vector<uint64_t> &pool = by_resource ? resources_.items() : live_.items();
        std::vector<uint64_t> sorted(pool.begin(), pool.end());
        std::sort(sorted.begin(), sorted.end());
        uint32_t n = uint32_t(std::min<size_t>(wanted, sorted.size()));
        for (uint32_t i = 0; i < n; i++) {
            uint64_t h = sorted[(start + i) % sorted.size()];
            l.elements.push_back({h, by_resource ? model_.res.at(h).type : 0});
            l.sources.push_back(LIVE);
        }
        uint8_t c = in.u8();
        if (n && (c & 0x80)) {  // one bad element somewhere
            uint32_t at = in.u16() % n;
            if (c & 0x40)
                l.elements[at] = l.elements[(at + n - 1 - c % 7) % n];  // a duplicate (or itself)
            else if (by_resource)
                l.elements[at] = pick_resource(in.u8(), in);
            else
                l.elements[at] = {pick_memory(232 + c % 24, in, &l.sources[at]), 0};
        }
        l.count = uint32_t(l.elements.size());
        l.long_list = true;
        g_stats.long_lists++;
    }
    // Exactly sized arrays, so that ASan sees any read past what the core may read.
    void make_arrays(List &l)
    {
        l.memory_array.clear();
        l.resource_array.clear();
        for (const Element &e : l.elements) {
            l.memory_array.push_back(reinterpret_cast<VkDeviceMemory>(static_cast<uintptr_t>(e.handle)));
            l.resource_array.push_back({VkObjectType(e.type), e.handle});
        }
        l.handles = {};
        l.handles.count = l.count;
        if (l.memories)
            l.handles.memories = l.elements.empty() ? &l.memory_dummy : l.memory_array.data();
        if (l.resources)
            l.handles.resources = l.elements.empty() ? &l.resource_dummy : l.resource_array.data();
    }
    // Validation stops at the first invalid element: a count running past
    // the array after it (up to 2^32 - 1) reaches that element and no further.
    void maybe_truncate(Reader &in, List &l, Verdict &v, bool offering, uint32_t priority, uint32_t flags)
    {
        if (!l.truncate || !v.at_element)
            return;
        uint32_t k = v.error.index;
        uint64_t extra = uint64_t(1 + in.u16()) << (in.u8() % 17);
        l.count = uint32_t(std::min<uint64_t>(uint64_t(k) + 1 + extra, UINT32_MAX));
        l.elements.resize(k + 1);
        l.sources.resize(k + 1);
        v = model_.check(l.count, l.memories, l.resources, l.elements, offering, priority, flags);
        g_stats.truncated++;
    }
    std::string list_text(const List &l) const
    {
        std::string s = l.memories && l.resources ? "both arrays " : !l.memories && !l.resources ? "no array " : "";
        char b[64];
        if (l.count != l.elements.size()) {
            snprintf(b, sizeof(b), "count %u, array of %zu ", l.count, l.elements.size());
            s += b;
        }
        s += "[";
        for (size_t i = 0; i < l.elements.size(); i++) {
            if (l.long_list && i >= 4 && i + 4 < l.elements.size()) {
                if (i == 4)
                    s += " ...";
                continue;
            }
            const Element &e = l.elements[i];
            if (e.type)
                snprintf(b, sizeof(b), " %u:0x%" PRIx64, e.type, e.handle);
            else
                snprintf(b, sizeof(b), " 0x%" PRIx64, e.handle);
            s += b;
        }
        return s + " ]";
    }

    static constexpr uint32_t kIndexSentinel = 0xbad1u;
    static constexpr uint64_t kHandleSentinel = 0xbad2u, kOtherSentinel = 0xbad3u;

    // Compares a call's outcome with the model's verdict (an allocation that
    // failed inside the call makes it fail as a whole); returns whether the
    // call was valid. The model counts a rejection.
    bool judge(const char *what, kmt_error e, const kmt_error_info *got, const Verdict &v, const List &l,
               bool alloc_failed)
    {
        CHECK(std::strncmp(kmt_error_id(e), "KMT-", 4) == 0 && std::strcmp(kmt_error_id(e), "KMT-unknown-error") != 0,
              "%s: no message ID for error %d", what, e);
        if (alloc_failed) {
            CHECK(e == KMT_ERROR_OUT_OF_HOST_MEMORY, "%s: a host allocation failed, but it returned %s", what,
                  kmt_error_id(e));
            if (got) {
                char text[256];
                kmt_format_error(got, what, &l.handles, text, sizeof(text));
                CHECK(std::strstr(text, "out of host memory"), "%s: out-of-memory message: %s", what, text);
            }
            CHECK(!v.error.code || v.error.code >= KMT_ERROR_UNKNOWN_MEMORY,
                  "%s allocated host memory before rejecting its arguments (%s)", what, kmt_error_id(v.error.code));
            if (got) {
                CHECK(got->code == e && got->handle == 0 && got->other == 0 && got->index < l.count &&
                          (!v.at_element || got->index <= v.error.index),
                      "%s: out-of-memory error info {index %u, handle 0x%" PRIx64 ", other 0x%" PRIx64
                      "}; the first invalid element is %d",
                      what, got->index, got->handle, got->other, v.at_element ? int(v.error.index) : -1);
            }
            model_.reject();
            return false;
        }
        CHECK(e == v.error.code, "%s returned %s, model %s (index %u, handle 0x%" PRIx64 ")", what, kmt_error_id(e),
              kmt_error_id(v.error.code), v.error.index, v.error.handle);
        if (e)
            model_.reject();
        if (!got)
            return !e;
        if (!e) {
            CHECK(got->code == KMT_OK && got->index == kIndexSentinel && got->handle == kHandleSentinel &&
                      got->other == kOtherSentinel,
                  "%s succeeded but wrote error info {%d, %u, 0x%" PRIx64 ", 0x%" PRIx64 "}", what, got->code,
                  got->index, got->handle, got->other);
            return true;
        }
        const RErr &want = v.error;
        CHECK(got->code == want.code && got->index == want.index && got->handle == want.handle &&
                  got->other == want.other,
              "%s error info {%s, index %u, handle 0x%" PRIx64 ", other 0x%" PRIx64
              "}, model {%s, index %u, handle 0x%" PRIx64 ", other 0x%" PRIx64 "}",
              what, kmt_error_id(got->code), got->index, got->handle, got->other, kmt_error_id(want.code),
              want.index, want.handle, want.other);
        if (e == KMT_ERROR_UNKNOWN_MEMORY && l.memories && !l.resources)
            g_stats.unknown_by_source[l.sources[got->index]]++;
        // The message, as the glue builds it (small buffers truncate safely).
        char text[512], tiny[8];
        kmt_format_error(got, what, &l.handles, text, sizeof(text));
        kmt_format_error(got, what, &l.handles, tiny, sizeof(tiny));
        CHECK(std::strlen(tiny) < sizeof(tiny), "truncated message overflowed");
        if (got->code >= KMT_ERROR_UNKNOWN_MEMORY && got->code != KMT_ERROR_OUT_OF_HOST_MEMORY) {
            char index[24];
            snprintf(index, sizeof(index), "[%u]", got->index);
            CHECK(std::strstr(text, index), "message does not name element %u: %s", got->index, text);
        }
        return false;
    }

    void offer(Reader &in, bool by_resource)
    {
        List l;
        read_list(in, by_resource, l);
        uint8_t pf = in.u8();
        uint32_t priority = pf == 0xff ? 0x7fffffffu : pf % 16 < 15 ? 1 + pf % 4 : (pf & 0x40) ? 0 : 5 + (pf >> 7);
        uint32_t flags = (pf >> 4) & 3;
        if ((pf & 0xc0) == 0xc0 && (pf & 3) == 3)
            flags |= 4u << ((pf >> 2) & 3);  // an unknown bit
        uint8_t w = in.u8();
        uint64_t wait = w < 128 ? (completed_ < submitted_ ? submitted_ : 0) : w < 200 ? 0 : w % 16;
        uint8_t o = in.u8();
        bool want_reoffered = o & 1, with_error = (o & 0x0e) != 0x0e;
        Verdict v = model_.check(l.count, l.memories, l.resources, l.elements, true, priority, flags);
        maybe_truncate(in, l, v, true, priority, flags);
        make_arrays(l);
        NOTE("offer %s priority=%u flags=0x%x wait=%" PRIu64 "%s", list_text(l).c_str(), priority, flags, wait,
             with_error ? "" : " (no error info)");

        kmt_error_info error{};
        error.code = kmt_error(-1);
        error.index = kIndexSentinel;
        error.handle = kHandleSentinel;
        error.other = kOtherSentinel;
        uint32_t reoffered = 0xdead;
        uint64_t failures = alloc_.failures, calls = alloc_.calls;
        uint32_t orders = t_.next_offer_order;
        kmt_error e = kmt_offer(&t_, &l.handles, priority, flags, wait, with_error ? &error : nullptr,
                                want_reoffered ? &reoffered : nullptr);
        bool alloc_failed = alloc_.failures != failures;
        NOTE("  -> %s%s (pending ring: head %u, tail %u, capacity %u)", kmt_error_id(e),
             alloc_failed ? " (a host allocation failed)" : "", t_.pending_head, t_.pending_tail,
             t_.pending_capacity);
        if (v.error.code && v.error.code < KMT_ERROR_UNKNOWN_MEMORY)
            CHECK(alloc_.calls == calls, "vkOfferAllocationsKMT allocated before rejecting its arguments");
        bool ok = judge("vkOfferAllocationsKMT", e, with_error ? &error : nullptr, v, l, alloc_failed);
        g_stats.offer[e]++;
        g_stats.null_error += !with_error;
        g_stats.plain_offers += ok && l.memories && ((flags & IMMEDIATELY) || !wait) &&
                                priority != VK_OFFER_PRIORITY_AUTO_KMT && single_pass() && !model_.hook();
        uint32_t model_reoffered = 0xdead;
        if (ok) {
            for (uint64_t h : v.memory_of)
                if (model_.mems.at(h).status == PENDING)
                    (flags & IMMEDIATELY || !wait ? g_stats.reoffer_pending_now : g_stats.reoffer_pending_later)++;
            uint64_t clamps = model_.clamps, gone = destroyed();
            model_reoffered = model_.offer(v, priority, flags, wait);
            g_stats.clamps += model_.clamps - clamps;
            g_stats.becoming_offered_discards += destroyed() - gone;
            g_stats.reoffers += model_reoffered;
            g_stats.renumberings += t_.next_offer_order < orders;
        }
        if (want_reoffered)
            CHECK(reoffered == model_reoffered, "reoffered %u, model %u", reoffered, model_reoffered);
        expect_calls("offer");
        if (ok && auto_relieve_)
            relieve("after offer");
    }

    void reclaim(Reader &in, bool by_resource)
    {
        List l;
        read_list(in, by_resource, l);
        uint8_t o = in.u8();
        bool with_results = o & 1, with_discarded = o & 2, with_fence = !(o & 4);
        bool lost = (o >> 3) == 31;
        uint64_t fill_completed = (o & 0x18) == 0x18 ? UINT64_MAX : (o & 0x10) ? paging_ / 2 : (o & 0x08) ? paging_ : 0;
        bool with_error = (in.u8() & 7) != 7;
        Verdict v = model_.check(l.count, l.memories, l.resources, l.elements, false, 0, 0);
        maybe_truncate(in, l, v, false, 0, 0);
        make_arrays(l);
        NOTE("reclaim %s results=%d discarded=%d fence=%d fill_completed=%" PRIu64 " lost=%d%s",
             list_text(l).c_str(), with_results, with_discarded, with_fence, fill_completed, lost,
             with_error ? "" : " (no error info)");

        // Sentinels: a rejected call writes nothing; exact sizes for ASan
        // (a truncated list's outputs end with its array: nothing is written).
        const size_t n = std::max<size_t>(l.elements.size(), 1);
        std::vector<VkReclaimResultKMT> results(n, VkReclaimResultKMT(0x7777));
        std::vector<VkBool32> discarded(n, 0x5555);
        uint64_t fence = 0xfeedu;
        kmt_error_info error{};
        error.code = kmt_error(-1);
        error.index = kIndexSentinel;
        error.handle = kHandleSentinel;
        error.other = kOtherSentinel;
        uint64_t failures = alloc_.failures, calls = alloc_.calls;
        kmt_error e = kmt_reclaim(&t_, &l.handles, with_results ? results.data() : nullptr,
                                  with_discarded ? discarded.data() : nullptr, fill_completed, lost,
                                  with_error ? &error : nullptr, with_fence ? &fence : nullptr);
        bool alloc_failed = alloc_.failures != failures;
        NOTE("  -> %s%s", kmt_error_id(e), alloc_failed ? " (a host allocation failed)" : "");
        if (v.error.code && v.error.code < KMT_ERROR_UNKNOWN_MEMORY)
            CHECK(alloc_.calls == calls, "vkReclaimAllocationsKMT allocated before rejecting its arguments");
        bool ok = judge("vkReclaimAllocationsKMT", e, with_error ? &error : nullptr, v, l, alloc_failed);
        std::vector<uint32_t> model_results;
        uint64_t model_fence = 0;
        if (ok)
            model_.reclaim(v, fill_completed, lost, model_results, model_fence);
        g_stats.reclaim[e]++;
        g_stats.null_error += !with_error;
        g_stats.plain_reclaims += ok && l.memories && !lost && single_pass();
        g_stats.fences += ok && model_fence;
        g_stats.lost += ok && lost;
        for (uint32_t i = 0; ok && i < l.count; i++)
            g_stats.results[model_results[i] % 3]++;
        for (size_t i = 0; i < n; i++) {
            VkReclaimResultKMT r = ok ? VkReclaimResultKMT(model_results[i]) : VkReclaimResultKMT(0x7777);
            VkBool32 d = ok ? r != VK_RECLAIM_RESULT_OK_KMT : 0x5555;
            if (with_results)
                CHECK(results[i] == r, "pResults[%zu] = %d, model %d", i, results[i], r);
            if (with_discarded)
                CHECK(discarded[i] == d, "pDiscarded[%zu] = 0x%x, model 0x%x", i, discarded[i], d);
        }
        if (with_fence)
            CHECK(fence == (ok ? model_fence : 0xfeedu), "fence %" PRIu64 ", model %" PRIu64, fence,
                  ok ? model_fence : 0xfeedu);
        expect_calls("reclaim");
        if (ok && !lost && auto_relieve_)
            relieve("after reclaim");
    }

    // ---- the full comparison ----------------------------------------------------

    void check_memory(uint64_t h, const RMem &r, uint32_t resource_count)
    {
        uint32_t index = 0;
        const kmt_memory *m = kmt_find_memory(&t_, h, &index);
        CHECK(m, "memory 0x%" PRIx64 " does not resolve", h);
        CHECK(index == uint32_t(h) - 1 && m->generation == uint32_t(h >> 32),
              "memory 0x%" PRIx64 " resolves to slot %u, generation 0x%x", h, index, m->generation);
        uint8_t bits = uint8_t(r.flags | (r.mapped ? KMT_MEM_MAPPED : 0) | (r.host_visible ? KMT_MEM_HOST_VISIBLE : 0) |
                               (r.dedicated ? KMT_MEM_DEDICATED : 0) | (r.app_allocator ? KMT_MEM_APP_ALLOCATOR : 0));
        const kmt_memory_cold *cold = kmt_cold(&t_.slots, index);
        CHECK(m->driver == r.driver && kmt_driver_memory(&t_, h) == r.driver && m->size == r.size &&
                  m->status == r.status && m->offer_priority == r.offer_priority && m->type_index == r.type &&
                  m->bits == bits && kmt_heap_of(&t_, m) == r.heap &&
                  (r.status != DISCARDED || cold->fill_value == r.fill_value) &&
                  cold->app_priority == r.app && cold->driver_priority == r.driver_priority &&
                  cold->resource_count == resource_count && cold->discard_count == r.discards,
              "memory 0x%" PRIx64 ": {driver 0x%" PRIx64 ", size %" PRIu64 ", status %d, offer %d, type %u, bits 0x%x, "
              "heap %u, fill %" PRIu64 ", app %g, driver priority %g, resources %u, discards %u}\n  model {driver 0x%" PRIx64
              ", size %" PRIu64 ", status %d, offer %d, type %u, bits 0x%x, heap %u, fill %" PRIu64
              ", app %g, driver priority %g, resources %u, discards %u}",
              h, m->driver, m->size, m->status, m->offer_priority, m->type_index, m->bits, kmt_heap_of(&t_, m),
              cold->fill_value, double(cold->app_priority), double(cold->driver_priority), cold->resource_count,
              cold->discard_count, r.driver, r.size, r.status, r.offer_priority, r.type, bits, r.heap, r.fill_value,
              double(r.app), double(r.driver_priority), resource_count, r.discards);
        VkAllocationStateKMT s{};
        s.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
        kmt_fill_state(&t_, index, &s);
        CHECK(s.status == VkAllocationStatusKMT(r.status) && s.offerPriority == VkOfferPriorityKMT(r.offer_priority) &&
                  s.offerFlags == r.flags && s.driverPriority == r.driver_priority &&
                  s.driverPriorityApplied == VkBool32(model_.pageable) && s.size == r.size &&
                  s.memoryTypeIndex == r.type && s.heapIndex == r.heap && s.discardCount == r.discards &&
                  s.sType == VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT && s.pNext == nullptr,
              "kmt_fill_state of 0x%" PRIx64 " disagrees with the model", h);
    }

    // The deferred-offer ring: its live entries, in order, are the model's
    // PENDING memory in the order queued, each with the serial it waits for.
    void check_pending()
    {
        std::vector<uint64_t> want = model_.pending_order();
        CHECK(t_.pending_count == want.size(), "%u allocations pending, model %zu", t_.pending_count, want.size());
        size_t k = 0;
        uint64_t previous = 0;
        uint32_t mask = t_.pending_capacity - 1;
        for (uint32_t i = t_.pending_head; t_.pending_capacity && i != t_.pending_tail; i++) {
            const kmt_pending_entry &e = t_.pending[i & mask];
            CHECK(e.wait_serial >= previous, "the pending ring is out of serial order at %u", i);
            previous = e.wait_serial;
            if (e.index >= t_.slots.capacity)
                diverge("pending ring entry names slot %u past the table", e.index);
            const kmt_memory *m = kmt_slot(&t_.slots, e.index);
            if (m->generation != e.generation || m->status != PENDING || m->offer_order != e.offer_order)
                continue;  // stale: its memory left OFFER_PENDING (or was offered again) since
            uint64_t h = kmt_make_handle(e.index, e.generation);
            CHECK(k < want.size() && h == want[k], "pending[%zu] is 0x%" PRIx64 ", model 0x%" PRIx64, k, h,
                  k < want.size() ? want[k] : 0);
            CHECK(e.wait_serial == model_.mems.at(h).wait_serial,
                  "pending 0x%" PRIx64 " waits for %" PRIu64 ", model %" PRIu64, h, e.wait_serial,
                  model_.mems.at(h).wait_serial);
            k++;
        }
        CHECK(k == want.size(), "the pending ring holds %zu live entries, model %zu", k, want.size());
        uint64_t next = kmt_next_pending_serial(&t_);
        if (want.empty())
            CHECK(next == 0, "kmt_next_pending_serial is %" PRIu64 " with nothing pending", next);
        else
            CHECK(next >= 1 && next <= model_.mems.at(want[0]).wait_serial,
                  "kmt_next_pending_serial is %" PRIu64 ", the first pending waits for %" PRIu64, next,
                  model_.mems.at(want[0]).wait_serial);
    }

    void check_all(bool final = false)
    {
        const Model &md = model_;
        CHECK(calls_.empty() && md.calls.empty(), "unchecked calls %s / model %s", describe(calls_).c_str(),
              describe(md.calls).c_str());
        CHECK(kmt_slots_live(&t_.slots) == md.mems.size(), "%u memories tracked, model %zu",
              kmt_slots_live(&t_.slots), md.mems.size());
        const std::map<uint64_t, uint32_t> resource_counts = md.resource_counts();
        std::vector<std::tuple<uint64_t, uint32_t, uint64_t>> ranked;  // (model order, offer_order, handle)
        size_t drivers = md.leaked.size();
        // Per-heap sums in the same pass (the model's usage() and
        // offered_bytes() say the same, one heap at a time).
        VkDeviceSize usage[kHeaps] = {}, offered_bytes[kHeaps] = {};
        uint32_t offered = 0, pending = 0;
        for (const auto &[h, r] : md.mems) {
            auto rc = resource_counts.find(h);
            check_memory(h, r, rc == resource_counts.end() ? 0 : rc->second);
            if (r.status == PENDING || r.status == OFFERED || r.status == DISCARDED)
                ranked.push_back({r.offered_seq, kmt_find_memory(&t_, h, nullptr)->offer_order, h});
            drivers += r.driver != 0;
            pending += r.status == PENDING;
            if (Model::holds_payload(r.status))
                usage[r.heap] += r.size;
            if (r.status == OFFERED) {
                offered_bytes[r.heap] += md.accounting ? r.size : 0;  // else never kept: 0
                offered++;
            }
        }
        // The offer order (renumbered near its wrap) keeps the order of the offers.
        std::sort(ranked.begin(), ranked.end());
        for (size_t i = 0; i < ranked.size(); i++)
            CHECK(std::get<1>(ranked[i]) != 0 && (i == 0 || std::get<1>(ranked[i - 1]) < std::get<1>(ranked[i])),
                  "offer order of 0x%" PRIx64 " is %u, after %u for an older offer", std::get<2>(ranked[i]),
                  std::get<1>(ranked[i]), i ? std::get<1>(ranked[i - 1]) : 0);
        CHECK(driver_live_.size() == drivers, "the driver holds %zu allocations, model %zu", driver_live_.size(),
              drivers);
        CHECK(t_.resources.count == md.res.size(), "%u resources tracked, model %zu", t_.resources.count,
              md.res.size());
        for (const auto &[h, r] : md.res) {
            uint64_t memory = kmt_resource_memory(&t_, h);
            CHECK(memory == (md.live(r.memory) ? r.memory : 0), "resource 0x%" PRIx64 " is bound to 0x%" PRIx64
                  ", model %s0x%" PRIx64, h, memory, md.live(r.memory) ? "" : "(freed) ", r.memory);
        }
        CHECK(t_.reserved_count == md.reserved, "%u bindings reserved, model %" PRIu64, t_.reserved_count,
              md.reserved);
        for (uint32_t heap = 0; heap < kHeaps; heap++) {
            // Kept with accounting, else counted on demand (a scan: only the
            // heaps the types use, all of them at the end).
            VkDeviceSize kept = md.accounting ? usage[heap] : 0;
            CHECK(t_.heap_usage[heap] == kept, "heap %u usage %" PRIu64 ", model %" PRIu64, heap, t_.heap_usage[heap],
                  kept);
            if (md.accounting || heap_used_[heap] || final)
                CHECK(kmt_heap_usage(&t_, heap) == usage[heap], "kmt_heap_usage(%u) is %" PRIu64 ", model %" PRIu64,
                      heap, kmt_heap_usage(&t_, heap), usage[heap]);
            CHECK(t_.offered_bytes[heap] == offered_bytes[heap], "heap %u offered bytes %" PRIu64 ", model %" PRIu64,
                  heap, t_.offered_bytes[heap], offered_bytes[heap]);
        }
        CHECK(t_.offered_count == offered, "%u offered, model %u", t_.offered_count, offered);
        CHECK(md.pending_count == pending, "model: pending count %u, recounted %u", md.pending_count, pending);
        check_pending();
        const kmt_counters &a = t_.counters, &b = md.counters;
        CHECK(a.offers == b.offers && a.reoffers == b.reoffers && a.reclaims == b.reclaims &&
                  a.discards == b.discards && a.decommits == b.decommits && a.bytes_offered == b.bytes_offered &&
                  a.bytes_discarded == b.bytes_discarded && a.rejected_calls == b.rejected_calls,
              "counters {offers %" PRIu64 ", reoffers %" PRIu64 ", reclaims %" PRIu64 ", discards %" PRIu64
              ", decommits %" PRIu64 ", bytes offered %" PRIu64 ", discarded %" PRIu64 ", rejected %" PRIu64
              "}, model {%" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64
              ", %" PRIu64 "}",
              a.offers, a.reoffers, a.reclaims, a.discards, a.decommits, a.bytes_offered, a.bytes_discarded,
              a.rejected_calls, b.offers, b.reoffers, b.reclaims, b.discards, b.decommits, b.bytes_offered,
              b.bytes_discarded, b.rejected_calls);
        CHECK(policy_.rng == md.rng, "random policy state diverged");
        // The most recently freed handles stay dead.
        for (size_t i = 0; i < std::min<size_t>(freed_.size(), 4); i++) {
            uint64_t h = freed_[(freed_count_ - 1 - i) % freed_.size()];
            CHECK(!kmt_find_memory(&t_, h, nullptr) && !kmt_driver_memory(&t_, h),
                  "freed handle 0x%" PRIx64 " resolves", h);
        }
        CHECK(alloc_.bad_frees == 0, "a block was freed twice or never allocated");
    }

    Model model_;
    kmt_tracker t_{}, foreign_{};
    bool foreign_ready_ = false;
    kmt_policy policy_{};
    Allocator alloc_;
    bool use_allocator_ = true, auto_relieve_ = false;
    uint32_t handle_mode_ = 0;
    std::vector<Call> calls_;
    uint64_t paging_ = 0, submitted_ = 0, completed_ = 0, fills_ = 0;
    uint32_t fill_fail_mode_ = 0;
    // Handles: live (picked by position), freed (the last kFreedKept), ever returned.
    Picker live_, resources_;
    std::vector<uint64_t> freed_;
    uint64_t freed_count_ = 0;
    std::set<uint64_t> ever_;
    uint32_t peak_live_ = 0;
    bool heap_used_[kHeaps] = {};  // heaps some memory type maps to
    Picker foreign_live_;
    std::vector<uint64_t> foreign_freed_;
    uint64_t foreign_allocs_ = 0;
    // The fake driver: its allocations, and whose they are.
    std::set<uint64_t> driver_live_;
    std::unordered_map<uint64_t, uint64_t> owner_;
    std::set<uint64_t> decommitted_drivers_;
};

} // namespace

int run_one(const uint8_t *data, size_t size)
{
    static const bool env_trace = [] {
        const char *v = std::getenv("KMT_FUZZ_TRACE");
        return v && *v && *v != '0';
    }();
    if (env_trace)
        g_tracing = true;
    if (g_tracing)
        fprintf(stderr, "---- input of %zu bytes\n", size);
    g_input = data;
    g_input_size = size;
    {
        Harness harness;
        harness.run(Reader{data, size});
    }
    g_input = nullptr;
    return 0;
}

} // namespace kmt_fuzz

#ifdef KMT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return kmt_fuzz::run_one(data, size);
}

static void print_operations()
{
    kmt_fuzz::print_stats();
}

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    atexit(print_operations);
    return 0;
}
#endif

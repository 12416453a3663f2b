// Model-based fuzzing of the offer/reclaim state machine and the discard
// policies (layer/offer.c, layer/policy.c, layer/memory.c: kmt_core).
//
// The input is a byte stream decoded into events -- allocate, bind, free,
// destroy, map, app priority, offer and reclaim (by memory or by resource,
// every priority and flag value, malformed lists included), GPU progress
// (kmt_promote_pending), direct discards, the pressure policy with budgets,
// the always/random hook, host-allocation failures (and binds that a
// kmt_reserve_bindings made unfailable). Each event goes to the
// real tracker and to `Model` below, a deliberately naive C++ restatement of
// DESIGN.md "Semantics" (std::map of plain structs, everything recomputed
// from scratch, no intrusive lists). After every event the two are compared
// in full: per-memory state, lists and their order, heap usage, counters,
// error code / first offending index / handle, outputs written (or not, on
// rejection) and the exact sequence of driver calls. A divergence prints the
// event trace and aborts (libFuzzer then saves the input).
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

#include "offer.h"
#include "policy.h"

namespace kmt_fuzz {

uint64_t g_operations = 0;
void (*g_failure_hook)() = nullptr;

// What the inputs exercised (print_stats): evidence that the paths are hit.
static struct {
    uint64_t offer[KMT_ERROR_OUT_OF_HOST_MEMORY + 1], reclaim[KMT_ERROR_OUT_OF_HOST_MEMORY + 1];
    uint64_t reoffers, promoted, policy_discards, direct_discards, results[3], fences, lost;
    uint64_t track_failures, bind_failures, init_failures, stamp_wraps, bulk, max_live, reserves, fill_failures;
} g_stats;

void print_stats()
{
    fprintf(stderr, "kmt_fuzz_offer stats: %" PRIu64 " operations\n  offer:  ", g_operations);
    for (int i = 0; i <= KMT_ERROR_OUT_OF_HOST_MEMORY; i++)
        fprintf(stderr, " %s=%" PRIu64, kmt_error_id(kmt_error(i)) + 4, g_stats.offer[i]);
    fprintf(stderr, "\n  reclaim:");
    for (int i = 0; i <= KMT_ERROR_OUT_OF_HOST_MEMORY; i++)
        fprintf(stderr, " %s=%" PRIu64, kmt_error_id(kmt_error(i)) + 4, g_stats.reclaim[i]);
    fprintf(stderr,
            "\n  reoffered=%" PRIu64 " promoted=%" PRIu64 " policy-discards=%" PRIu64 " direct-discards=%" PRIu64
            " results OK/DISCARDED/NOT_COMMITTED=%" PRIu64 "/%" PRIu64 "/%" PRIu64 " nonzero-fences=%" PRIu64
            " device-lost=%" PRIu64 "\n  track-failures=%" PRIu64 " bind-failures=%" PRIu64 " init-failures=%" PRIu64
            " stamp-wraps=%" PRIu64 " bulk=%" PRIu64 " max-live=%" PRIu64 " reserves=%" PRIu64
            " fill-failures=%" PRIu64 "\n",
            g_stats.reoffers, g_stats.promoted, g_stats.policy_discards, g_stats.direct_discards, g_stats.results[0],
            g_stats.results[1], g_stats.results[2], g_stats.fences, g_stats.lost, g_stats.track_failures,
            g_stats.bind_failures, g_stats.init_failures, g_stats.stamp_wraps, g_stats.bulk, g_stats.max_live,
            g_stats.reserves, g_stats.fill_failures);
}

namespace {

constexpr uint8_t RESIDENT = VK_ALLOCATION_STATUS_RESIDENT_KMT;
constexpr uint8_t PENDING = VK_ALLOCATION_STATUS_OFFER_PENDING_KMT;
constexpr uint8_t OFFERED = VK_ALLOCATION_STATUS_OFFERED_KMT;
constexpr uint8_t DISCARDED = VK_ALLOCATION_STATUS_DISCARDED_KMT;
constexpr uint8_t DECOMMITTED = VK_ALLOCATION_STATUS_DECOMMITTED_KMT;
constexpr uint32_t IMMEDIATELY = VK_OFFER_IMMEDIATELY_BIT_KMT;
constexpr uint32_t DECOMMIT = VK_OFFER_ALLOW_DECOMMIT_BIT_KMT;
constexpr uint32_t kHeaps = VK_MAX_MEMORY_HEAPS;
constexpr uint32_t kSmallIndices = 32;  // handles single events pick from
constexpr uint32_t kMaxIndices = 2048;  // bulk allocations go up to here
constexpr uint32_t kResources = 48;

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
#define NOTE(...)                  \
    do {                           \
        if (g_tracing)             \
            note(__VA_ARGS__);     \
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

#define CHECK(cond, ...)              \
    do {                              \
        if (!(cond))                  \
            diverge(__VA_ARGS__);     \
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
    uint64_t failures = 0, bad_frees = 0;

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
        if (self->countdown == 0) {
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
            return nullptr;
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

// ---- driver calls -----------------------------------------------------------------

struct Call {
    char kind;      // 'P' ops.set_priority, 'F' ops.fill, 'A' the glue passing an app priority on
    uint64_t memory;
    float priority; // P, A
    uint64_t value; // F: what the fill returned
    bool operator==(const Call &o) const
    {
        return kind == o.kind && memory == o.memory && priority == o.priority && value == o.value;
    }
};

std::string describe(const std::vector<Call> &calls)
{
    std::string s = "[";
    char b[96];
    for (const Call &c : calls) {
        if (c.kind == 'F')
            snprintf(b, sizeof(b), " F(0x%" PRIx64 ")=%" PRIu64, c.memory, c.value);
        else
            snprintf(b, sizeof(b), " %c(0x%" PRIx64 ", %g)", c.kind, c.memory, double(c.priority));
        s += b;
    }
    return s + " ]";
}

// ---- the reference model ----------------------------------------------------------

struct RMem {
    uint64_t generation;  // a resource bound to an older allocation of the same handle is stale
    VkDeviceSize size;
    uint32_t type, heap;
    bool host_visible;
    float app, driver;
    uint8_t status = RESIDENT;
    uint8_t offer_priority = 0, flags = 0;
    bool mapped = false;
    uint64_t offer_order = 0;     // when it was last offered
    uint64_t wait_serial = 0;     // PENDING
    uint64_t pending_since = 0;   // PENDING: FIFO among equal wait serials
    uint64_t fill_value = 0;      // DISCARDED
    uint32_t discards = 0;
};

struct RRes {
    uint32_t type;
    uint64_t memory;
    uint64_t generation;
};

struct RErr {
    kmt_error code = KMT_OK;
    uint32_t index = 0;
    uint64_t handle = 0, other = 0;
};

struct Element {  // one entry of an offer / reclaim list, as the model sees it
    uint64_t handle;
    uint32_t type;  // resources only
};

struct Model {
    bool pageable = false, has_set_priority = false, has_fill = false;
    float offered_priority = 0.0f;
    bool hook = false;  // on_offered installed
    kmt_discard_policy kind = KMT_DISCARD_NEVER;
    uint32_t rate = 0;
    uint64_t rng = 0;
    uint32_t heap_count = 0;
    VkDeviceSize budget[kHeaps] = {};

    std::map<uint64_t, RMem> mems;
    std::map<uint64_t, RRes> res;
    uint64_t generations = 0, orders = 0, pendings = 0, paging = 0;
    kmt_counters counters{};
    std::vector<Call> calls;

    // -- derived, recomputed every time
    static bool holds_payload(uint8_t s) { return s != DISCARDED && s != DECOMMITTED; }
    static bool demoted(uint8_t s) { return s == OFFERED || s == DISCARDED || s == DECOMMITTED; }
    VkDeviceSize usage(uint32_t heap) const
    {
        VkDeviceSize sum = 0;
        for (const auto &[h, m] : mems)
            if (m.heap == heap && holds_payload(m.status))
                sum += m.size;
        return sum;
    }
    const RMem *bound(const RRes &r) const
    {
        auto it = mems.find(r.memory);
        return it != mems.end() && it->second.generation == r.generation ? &it->second : nullptr;
    }
    uint32_t resource_count(uint64_t memory) const
    {
        uint32_t n = 0;
        for (const auto &[h, r] : res)
            if (r.memory == memory && bound(r))
                n++;
        return n;
    }
    std::map<uint64_t, uint32_t> resource_counts() const
    {
        std::map<uint64_t, uint32_t> n;
        for (const auto &[h, r] : res)
            if (bound(r))
                n[r.memory]++;
        return n;
    }
    void usages(VkDeviceSize out[kHeaps]) const
    {
        std::fill(out, out + kHeaps, 0);
        for (const auto &[h, m] : mems)
            if (holds_payload(m.status))
                out[m.heap] += m.size;
    }
    std::vector<uint64_t> pending_order() const
    {
        std::vector<const std::pair<const uint64_t, RMem> *> v;
        for (const auto &e : mems)
            if (e.second.status == PENDING)
                v.push_back(&e);
        std::sort(v.begin(), v.end(), [](auto *a, auto *b) {
            if (a->second.wait_serial != b->second.wait_serial)
                return a->second.wait_serial < b->second.wait_serial;
            return a->second.pending_since < b->second.pending_since;
        });
        std::vector<uint64_t> out;
        for (auto *e : v)
            out.push_back(e->first);
        return out;
    }
    std::vector<uint64_t> offered_order(uint8_t priority, uint32_t heap = UINT32_MAX) const
    {
        std::vector<std::pair<uint64_t, uint64_t>> v;  // (offer order, handle)
        for (const auto &[h, m] : mems)
            if (m.status == OFFERED && m.offer_priority == priority && (heap == UINT32_MAX || m.heap == heap))
                v.push_back({m.offer_order, h});
        std::sort(v.begin(), v.end());
        std::vector<uint64_t> out;
        for (auto &e : v)
            out.push_back(e.second);
        return out;
    }

    // -- the driver
    void set_driver(RMem &m, uint64_t h, float p)
    {
        if (!pageable || m.driver == p)
            return;
        m.driver = p;
        if (has_set_priority)
            calls.push_back({'P', h, p, 0});
    }
    // What the harness's fill returns: KMT_FILL_FAILED per fill_fail_mode
    // (1 every fill, 2 host-visible memory, 3 every other fill), else 0 for
    // host-visible memory (a CPU fill) and the next paging value otherwise.
    uint32_t fill_fail_mode = 0;
    uint64_t fills = 0;
    static bool fill_fails(uint32_t mode, bool host_visible, uint64_t nth)
    {
        return mode == 1 || (mode == 2 && host_visible) || (mode == 3 && (nth & 1));
    }
    uint64_t fill(const RMem &m, uint64_t h)
    {
        uint64_t value = fill_fails(fill_fail_mode, m.host_visible, fills++) ? KMT_FILL_FAILED
                         : m.host_visible                                  ? 0
                                                                           : ++paging;
        calls.push_back({'F', h, 0.0f, value});
        return value;
    }

    // -- policy
    uint32_t draw()
    {
        uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return uint32_t((z ^ (z >> 31)) % 1000);
    }
    void on_offered(uint64_t h)
    {
        if (kind == KMT_DISCARD_ALWAYS)
            discard(h);
        else if (kind == KMT_DISCARD_RANDOM && draw() < rate)
            discard(h);
    }
    // A discard is never a lie: the contents are replaced first (not for a
    // decommit), and when that fails nothing happens -- the memory stays
    // OFFERED. Returns whether it was discarded.
    bool discard(uint64_t h)
    {
        RMem &m = mems.at(h);
        if (m.status != OFFERED)
            return false;
        bool decommit = m.flags & DECOMMIT;
        uint64_t value = (!decommit && has_fill) ? fill(m, h) : 0;
        if (value == KMT_FILL_FAILED)
            return false;
        m.status = decommit ? DECOMMITTED : DISCARDED;
        m.discards++;
        counters.bytes_discarded += m.size;
        (decommit ? counters.decommits : counters.discards)++;
        m.fill_value = value;
        return true;
    }
    uint32_t relieve()
    {
        if (kind != KMT_DISCARD_PRESSURE)
            return 0;
        uint32_t n = 0;
        for (uint32_t heap = 0; heap < heap_count; heap++) {
            VkDeviceSize used = usage(heap);
            for (uint8_t level = 1; level <= 3 && used > budget[heap]; level++)
                for (uint64_t h : offered_order(level, heap)) {
                    if (used <= budget[heap])
                        break;
                    if (discard(h)) {  // counts what it discarded, not what it tried
                        used -= mems.at(h).size;
                        n++;
                    }
                }
        }
        return n;
    }
    void set_budgets(uint64_t budget_mb, uint32_t count, const VkDeviceSize *sizes, const VkDeviceSize *driver)
    {
        heap_count = std::min(count, kHeaps);
        for (uint32_t i = 0; i < heap_count; i++)
            budget[i] = budget_mb ? budget_mb << 20 : (driver && driver[i]) ? driver[i] : sizes[i] / 5 * 4;
    }

    // -- transitions
    void become_offered(uint64_t h)
    {
        RMem &m = mems.at(h);
        m.status = OFFERED;
        m.fill_value = 0;
        m.wait_serial = 0;
        set_driver(m, h, offered_priority);
        if (hook)
            on_offered(h);
    }
    void become_resident(uint64_t h)
    {
        RMem &m = mems.at(h);
        m.status = RESIDENT;
        m.offer_priority = 0;
        m.flags = 0;
        m.fill_value = 0;
        m.wait_serial = 0;
        set_driver(m, h, m.app);
    }
    static uint8_t resolve(uint32_t priority, float app)
    {
        if (priority != VK_OFFER_PRIORITY_AUTO_KMT)
            return uint8_t(priority);
        return app < 1.0f / 3.0f ? 1 : app < 2.0f / 3.0f ? 2 : 3;
    }

    // -- events
    void track(uint64_t h, VkDeviceSize size, uint32_t type, uint32_t heap, bool hv, float app)
    {
        RMem m;
        m.generation = ++generations;
        m.size = size;
        m.type = type;
        m.heap = heap < kHeaps ? heap : 0;
        m.host_visible = hv;
        m.app = m.driver = app;
        mems[h] = m;
    }
    void untrack(uint64_t h) { mems.erase(h); }
    // Returns whether the binding succeeds when no allocation fails.
    bool bind(uint32_t type, uint64_t r, uint64_t memory)
    {
        res.erase(r);
        auto it = mems.find(memory);
        if (it == mems.end())
            return true;
        if (r == 0)
            return false;  // 0 is never a key of the handle map
        res[r] = {type, memory, it->second.generation};
        return true;
    }
    bool set_app(uint64_t h, float p)
    {
        auto it = mems.find(h);
        if (it == mems.end())
            return true;
        it->second.app = p;
        if (demoted(it->second.status))
            return false;
        it->second.driver = p;
        return true;
    }
    uint32_t promote(uint64_t completed)
    {
        uint32_t n = 0;
        for (uint64_t h : pending_order())
            if (mems.at(h).wait_serial <= completed) {
                become_offered(h);
                n++;
            }
        return n;
    }

    // Resolves the list (shared by offer and reclaim); `memory_of[i]` gets
    // element i's memory for the elements that resolve.
    RErr resolve(bool by_resource, const std::vector<Element> &list, bool offer, std::vector<uint64_t> &memory_of,
                 std::map<uint64_t, uint32_t> &listed_resources)
    {
        RErr first;
        bool have = false;
        std::set<uint64_t> seen;
        memory_of.assign(list.size(), 0);
        auto error = [&](kmt_error code, uint32_t i, uint64_t handle, uint64_t other) {
            if (!have) {
                first = {code, i, handle, other};
                have = true;
            }
        };
        for (uint32_t i = 0; i < list.size(); i++) {
            if (have && !offer)
                break;  // reclaim stops at the first error; offer resolves all (resource counts)
            const Element &e = list[i];
            uint64_t memory;
            if (!by_resource) {
                if (!mems.count(e.handle)) {
                    error(KMT_ERROR_UNKNOWN_MEMORY, i, e.handle, 0);
                    continue;
                }
                if (!seen.insert(e.handle).second) {
                    error(KMT_ERROR_DUPLICATE, i, e.handle, 0);
                    continue;
                }
                memory = e.handle;
            } else {
                if (e.type != VK_OBJECT_TYPE_BUFFER && e.type != VK_OBJECT_TYPE_IMAGE) {
                    error(KMT_ERROR_RESOURCE_TYPE, i, e.handle, e.type);
                    continue;
                }
                auto it = res.find(e.handle);
                if (it == res.end() || it->second.type != e.type) {
                    error(KMT_ERROR_UNKNOWN_RESOURCE, i, e.handle, e.type);
                    continue;
                }
                if (!seen.insert(e.handle).second) {
                    error(KMT_ERROR_DUPLICATE, i, e.handle, 0);
                    continue;
                }
                if (!bound(it->second)) {
                    error(KMT_ERROR_RESOURCE_MEMORY_FREED, i, e.handle, it->second.memory);
                    continue;
                }
                memory = it->second.memory;
                listed_resources[memory]++;
            }
            memory_of[i] = memory;
            if (offer && mems.at(memory).mapped)
                error(KMT_ERROR_MAPPED, i, e.handle, memory);
            else if (offer && mems.at(memory).status == DECOMMITTED)
                error(KMT_ERROR_DECOMMITTED, i, e.handle, memory);
        }
        return have ? first : RErr{};
    }

    static RErr shape(uint32_t count, bool memories, bool resources)
    {
        if (count == 0)
            return {KMT_ERROR_COUNT_ZERO, 0, 0, 0};
        if (memories == resources)
            return {KMT_ERROR_ARRAYS, 0, 0, memories ? 2u : 0u};
        return {};
    }

    // oom: a host allocation failed during the call. The arguments are
    // checked first; then the call fails as a whole (all-or-nothing).
    RErr offer(uint32_t count, bool memories, bool resources, const std::vector<Element> &list, uint32_t priority,
               uint32_t flags, uint64_t wait, bool oom, uint32_t &reoffered)
    {
        RErr e = shape(count, memories, resources);
        if (!e.code && (priority < 1 || priority > 4))
            e = {KMT_ERROR_PRIORITY, 0, 0, priority};
        if (!e.code && (flags & ~(IMMEDIATELY | DECOMMIT)))
            e = {KMT_ERROR_FLAGS, 0, 0, flags};
        if (!e.code && oom)
            e = {KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0};
        std::vector<uint64_t> memory_of;
        std::map<uint64_t, uint32_t> listed;
        if (!e.code) {
            e = resolve(resources, list, true, memory_of, listed);
            // A resource offer acts on the whole memory: every resource bound
            // to it must be in the call. First offending element wins.
            uint32_t limit = e.code ? e.index : count;
            for (uint32_t i = 0; resources && i < limit; i++)
                if (listed[memory_of[i]] < resource_count(memory_of[i])) {
                    e = {KMT_ERROR_SHARED_MEMORY, i, list[i].handle, memory_of[i]};
                    break;
                }
        }
        if (e.code) {
            counters.rejected_calls++;
            return e;
        }
        reoffered = 0;
        std::set<uint64_t> done;
        for (uint32_t i = 0; i < count; i++) {
            uint64_t h = memory_of[i];
            if (!done.insert(h).second)
                continue;
            RMem &m = mems.at(h);
            bool immediately = (flags & IMMEDIATELY) || wait == 0;
            uint8_t resolved = resolve(priority, m.app);
            counters.offers++;
            counters.bytes_offered += m.size;
            m.offer_order = ++orders;
            m.flags = uint8_t(flags);
            switch (m.status) {
            case RESIDENT:
                m.offer_priority = resolved;
                if (immediately) {
                    become_offered(h);
                } else {
                    m.status = PENDING;
                    m.wait_serial = wait;
                    m.pending_since = ++pendings;
                }
                break;
            case PENDING:  // re-offer: new priority; waits for the same work unless now IMMEDIATELY
                reoffered++;
                m.offer_priority = resolved;
                if (flags & IMMEDIATELY)
                    become_offered(h);
                break;
            default:  // OFFERED (moves to the back of its new level), DISCARDED (bookkeeping only)
                reoffered++;
                m.offer_priority = resolved;
                break;
            }
        }
        counters.reoffers += reoffered;
        return {};
    }

    RErr reclaim(uint32_t count, bool memories, bool resources, const std::vector<Element> &list,
                 std::vector<VkReclaimResultKMT> &results, uint64_t fill_completed, bool lost, bool oom,
                 uint64_t &fence)
    {
        RErr e = shape(count, memories, resources);
        if (!e.code && oom)
            e = {KMT_ERROR_OUT_OF_HOST_MEMORY, 0, 0, 0};
        std::vector<uint64_t> memory_of;
        std::map<uint64_t, uint32_t> listed;
        if (!e.code)
            e = resolve(resources, list, false, memory_of, listed);
        if (e.code) {
            counters.rejected_calls++;
            return e;
        }
        fence = 0;
        results.assign(count, VK_RECLAIM_RESULT_OK_KMT);
        for (uint32_t i = 0; i < count; i++) {
            const RMem &m = mems.at(memory_of[i]);
            results[i] = lost || m.status == DISCARDED ? VK_RECLAIM_RESULT_DISCARDED_KMT
                         : m.status == DECOMMITTED    ? VK_RECLAIM_RESULT_NOT_COMMITTED_KMT
                                                      : VK_RECLAIM_RESULT_OK_KMT;
            if (!lost && m.status == DISCARDED && m.fill_value > fill_completed)
                fence = std::max(fence, m.fill_value);
        }
        if (lost)
            return {};
        std::set<uint64_t> done;
        for (uint32_t i = 0; i < count; i++) {
            uint64_t h = memory_of[i];
            if (!done.insert(h).second)
                continue;
            counters.reclaims++;
            if (mems.at(h).status != DECOMMITTED)
                become_resident(h);
        }
        return {};
    }
};

// ---- the harness --------------------------------------------------------------

const float kPriorities[] = {0.0f, 0.1f, 0.25f, 1.0f / 3.0f, 0.5f, 0.6f, 2.0f / 3.0f, 0.75f, 0.9f, 1.0f};
const VkDeviceSize kSizes[] = {0,       1,       4096,     65536,     1u << 20,   2u << 20,
                               3u << 20, 4u << 20, 16u << 20, 256u << 20, 1ull << 30, 5ull << 30};
constexpr uint32_t kSizeCount = sizeof(kSizes) / sizeof(kSizes[0]);

uint64_t memory_handle(uint32_t mode, uint32_t i)
{
    switch (mode) {
    case 0: return i + 1;                                 // counters
    case 1: return 0x00007f3a00000000ull + uint64_t(i) * 64; // heap pointers
    default: return (uint64_t(i) + 1) << 40 | 0x11;       // high bits only differ
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

    void run(Reader in)
    {
        // -- configuration: the first bytes
        uint8_t c0 = in.u8(), c1 = in.u8(), c2 = in.u8();
        model_.pageable = c0 & 1;
        model_.has_set_priority = !(c0 & 2);
        model_.has_fill = !(c0 & 4);
        model_.hook = !(c0 & 8);
        use_allocator_ = !(c0 & 16);
        handle_mode_ = (c0 >> 5) % 3;
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

        kmt_tracker_config config{};
        config.pageable = model_.pageable;
        config.offered_priority = model_.offered_priority;
        config.on_offered = model_.hook ? kmt_policy_on_offered : nullptr;
        config.on_offered_ctx = &policy_;
        kmt_tracker_ops ops{};
        ops.ctx = this;
        ops.set_priority = model_.has_set_priority ? &SetPriority : nullptr;
        ops.fill = model_.has_fill ? &Fill : nullptr;

        // Host-allocation failure during init: nothing may leak, and the
        // glue's teardown of a half-made tracker must be harmless.
        uint8_t init_fail = in.u8();
        if (use_allocator_ && init_fail < 4)
            alloc_.countdown = init_fail;
        NOTE("init pageable=%d set_priority=%d fill=%d hook=%d allocator=%d handles=%u offered_priority=%g "
             "policy=%d rate=%u seed=%" PRIu64 " init_fail=%d",
             model_.pageable, model_.has_set_priority, model_.has_fill, model_.hook, use_allocator_, handle_mode_,
             double(model_.offered_priority), int(model_.kind), model_.rate, model_.rng,
             use_allocator_ && init_fail < 4 ? init_fail : -1);
        if (!kmt_tracker_init(&t_, &config, &ops, use_allocator_ ? &alloc_.callbacks : nullptr)) {
            CHECK(alloc_.failures > 0, "kmt_tracker_init failed without an allocation failure");
            g_stats.init_failures++;
            kmt_tracker_finish(&t_);
            CHECK(alloc_.live.empty(), "kmt_tracker_init failure leaked %zu blocks", alloc_.live.size());
            return;
        }
        alloc_.countdown = -1;
        check_all();

        while (!in.empty()) {
            uint32_t stamp = t_.call_stamp;
            step(in);
            g_operations++;
            g_stats.stamp_wraps += t_.call_stamp < stamp && t_.call_stamp <= 2;
            g_stats.max_live = std::max<uint64_t>(g_stats.max_live, model_.mems.size());
            check_all();
        }
        kmt_tracker_finish(&t_);
        CHECK(alloc_.live.empty(), "kmt_tracker_finish left %zu blocks", alloc_.live.size());
        CHECK(alloc_.bad_frees == 0, "%" PRIu64 " frees of blocks the allocator never gave", alloc_.bad_frees);
    }

  private:
    static void SetPriority(void *ctx, uint64_t memory, float priority)
    {
        static_cast<Harness *>(ctx)->calls_.push_back({'P', memory, priority, 0});
    }
    static uint64_t Fill(void *ctx, const kmt_memory *m)
    {
        auto *self = static_cast<Harness *>(ctx);
        // The fill runs before the state changes (a failed fill leaves the memory OFFERED).
        CHECK(m->status == OFFERED, "fill of memory 0x%" PRIx64 " in status %d", m->handle, m->status);
        uint64_t value = Model::fill_fails(self->fill_fail_mode_, m->host_visible, self->fills_++) ? KMT_FILL_FAILED
                         : m->host_visible                                                        ? 0
                                                                                                  : ++self->paging_;
        self->calls_.push_back({'F', m->handle, 0.0f, value});
        g_stats.fill_failures += value == KMT_FILL_FAILED;
        return value;
    }

    uint64_t mh(uint32_t i) const { return memory_handle(handle_mode_, i); }
    uint64_t rh(uint32_t i) const { return resource_handle(handle_mode_, i); }

    // Picks a memory handle: mostly a live one, sometimes any small index,
    // now and then 0 or one never allocated.
    uint64_t pick_memory(uint8_t b) const
    {
        if (b < 232 && !model_.mems.empty()) {
            auto it = model_.mems.begin();
            std::advance(it, b % model_.mems.size());
            return it->first;
        }
        if (b >= 252)
            return b == 255 ? 0 : mh(kMaxIndices + b);
        return mh(b % kSmallIndices);
    }
    Element pick_resource(uint8_t b) const
    {
        if (b < 230 && !model_.res.empty()) {
            auto it = model_.res.begin();
            std::advance(it, b % model_.res.size());
            uint32_t type = it->second.type;
            if (b >= 200)  // the other of buffer / image
                type = type == VK_OBJECT_TYPE_BUFFER ? VK_OBJECT_TYPE_IMAGE : VK_OBJECT_TYPE_BUFFER;
            return {it->first, type};
        }
        if (b >= 230 && b < 240) {
            static const uint32_t bad[] = {VK_OBJECT_TYPE_UNKNOWN, VK_OBJECT_TYPE_DEVICE_MEMORY,
                                           VK_OBJECT_TYPE_BUFFER_VIEW, 0x7fffffffu};
            return {rh(b % kResources), bad[b % 4]};
        }
        if (b == 255)
            return {0, VK_OBJECT_TYPE_BUFFER};
        return {rh(b % kResources), b & 1 ? uint32_t(VK_OBJECT_TYPE_IMAGE) : uint32_t(VK_OBJECT_TYPE_BUFFER)};
    }

    void expect_calls(const char *what)
    {
        CHECK(calls_ == model_.calls, "%s: driver calls %s, model expects %s", what, describe(calls_).c_str(),
              describe(model_.calls).c_str());
        calls_.clear();
        model_.calls.clear();
    }

    // The allocation-failure contract: false exactly when an allocation failed
    // (or for handle 0, which the handle map cannot hold).
    void expect_alloc_result(bool ok, bool model_ok, uint64_t failures_before, const char *what)
    {
        bool failed = alloc_.failures != failures_before;
        if (failed)
            CHECK(!ok, "%s succeeded although an allocation failed", what);
        else
            CHECK(ok == model_ok, "%s returned %d, model expects %d", what, ok, model_ok);
    }

    void step(Reader &in)
    {
        uint8_t op = in.u8() % 32;
        switch (op) {
        case 0: case 1: case 2: case 3: allocate(in); break;
        case 4: case 5: {
            uint64_t h = pick_memory(in.u8());
            NOTE("free 0x%" PRIx64, h);
            kmt_untrack_memory(&t_, h);
            model_.untrack(h);
            break;
        }
        case 6: case 7: bind(in); break;
        case 8: {
            uint64_t r = pick_resource(in.u8()).handle;
            NOTE("destroy resource 0x%" PRIx64, r);
            kmt_untrack_resource(&t_, r);
            model_.res.erase(r);
            break;
        }
        case 9: case 10: {  // map / unmap as the glue does: only resident memory maps
            uint64_t h = pick_memory(in.u8());
            bool map = op == 9;
            NOTE("%s 0x%" PRIx64, map ? "map" : "unmap", h);
            kmt_memory *m = kmt_find_memory(&t_, h);
            auto it = model_.mems.find(h);
            CHECK((m != nullptr) == (it != model_.mems.end()), "kmt_find_memory(0x%" PRIx64 ") disagrees", h);
            if (m && (!map || m->status == RESIDENT)) {
                m->mapped = map;
                it->second.mapped = map;
            }
            break;
        }
        case 11: {
            uint64_t h = pick_memory(in.u8());
            float p = kPriorities[in.u8() % 10];
            NOTE("app priority 0x%" PRIx64 " %g", h, double(p));
            bool now = kmt_set_app_priority(&t_, h, p);
            if (now)
                calls_.push_back({'A', h, p, 0});  // the glue passes it on
            bool model_now = model_.set_app(h, p);
            if (model_now)
                model_.calls.push_back({'A', h, p, 0});
            CHECK(now == model_now, "kmt_set_app_priority returned %d, model %d", now, model_now);
            expect_calls("app priority");
            break;
        }
        case 12: case 13: case 14: case 15: offer(in, false); break;
        case 16: case 17: offer(in, true); break;
        case 18: case 19: case 20: reclaim(in, false); break;
        case 21: reclaim(in, true); break;
        case 22: {
            submitted_ += 1 + in.u8() % 4;
            NOTE("submit -> serial %" PRIu64, submitted_);
            break;
        }
        case 23: case 24: {
            uint8_t b = in.u8();
            uint64_t completed;
            if (b < 224)
                completed = completed_ = std::min(submitted_, completed_ + b % 5);
            else if (b < 250)
                completed = b % 8;  // arbitrary, may go backwards
            else
                completed = UINT64_MAX;
            NOTE("promote completed=%" PRIu64, completed);
            uint32_t n = kmt_promote_pending(&t_, completed);
            uint32_t expected = model_.promote(completed);
            CHECK(n == expected, "kmt_promote_pending promoted %u, model %u", n, expected);
            g_stats.promoted += n;
            expect_calls("promote");
            break;
        }
        case 25: case 26: {
            uint64_t h = pick_memory(in.u8());
            kmt_memory *m = kmt_find_memory(&t_, h);
            if (!m)
                break;
            bool hook = op == 26;
            NOTE("%s 0x%" PRIx64, hook ? "policy on_offered" : "kmt_discard", h);
            bool offered = m->status == OFFERED;
            if (hook) {
                kmt_policy_on_offered(&policy_, &t_, m);
                model_.on_offered(h);
            } else {
                kmt_discard(&t_, m);
                model_.discard(h);
            }
            g_stats.direct_discards += offered && m->status != OFFERED;
            expect_calls("discard");
            break;
        }
        case 27: {
            NOTE("relieve");
            uint32_t n = kmt_policy_relieve(&policy_, &t_);
            uint32_t expected = model_.relieve();
            CHECK(n == expected, "kmt_policy_relieve discarded %u, model %u", n, expected);
            g_stats.policy_discards += n;
            expect_calls("relieve");
            break;
        }
        case 28: set_budgets(in); break;
        case 29: {
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
        case 30: {
            submitted_ += 1 + in.u8() % 4;
            NOTE("submit -> serial %" PRIu64, submitted_);
            break;
        }
        default: {
            uint8_t sub = in.u8();
            if (sub < 16) {
                bulk(in);
                g_stats.bulk++;
            } else if (sub < 32) {
                // kmt_reserve_bindings: the next k binds cannot fail, whatever
                // allocation fails meanwhile (the glue reserves before the
                // driver binds).
                uint32_t k = 1 + in.u8() % 40;
                uint64_t failures = alloc_.failures;
                bool ok = kmt_reserve_bindings(&t_, k);
                NOTE("reserve bindings %u -> %d", k, ok);
                CHECK(ok || alloc_.failures != failures, "kmt_reserve_bindings(%u) failed without an allocation failure",
                      k);
                reserved_ = ok ? k : 0;
                g_stats.reserves += ok;
            } else if (sub < 40) {
                fill_fail_mode_ = model_.fill_fail_mode = sub % 4;
                NOTE("fill failures: mode %u", fill_fail_mode_);
            } else if (sub < 48) {
                // The call stamp wrapping after 2^32 calls: jump close to it
                // (forward only: stamps never repeat).
                uint32_t target = 0xfffffff0u + sub % 16;
                if (t_.call_stamp < target) {
                    NOTE("call stamp -> 0x%x", target);
                    t_.call_stamp = target;
                }
            } else {
                uint64_t h = pick_memory(sub);
                NOTE("query 0x%" PRIx64, h);  // a lookup that changes nothing
                CHECK((kmt_find_memory(&t_, h) != nullptr) == (model_.mems.count(h) != 0),
                      "kmt_find_memory(0x%" PRIx64 ") disagrees", h);
            }
            break;
        }
        }
    }

    void allocate(Reader &in)
    {
        uint8_t b = in.u8();
        uint32_t index = b % kSmallIndices;
        if (model_.mems.count(mh(index)) && !(b & 0x80)) {  // mostly a free index; else the driver reused a handle
            for (uint32_t k = 0; k < kSmallIndices; k++)
                if (!model_.mems.count(mh((index + k) % kSmallIndices))) {
                    index = (index + k) % kSmallIndices;
                    break;
                }
        }
        uint64_t h = b == 0xff ? 0 : mh(index);
        uint8_t s = in.u8();
        VkDeviceSize size = s < 240 ? kSizes[s % kSizeCount] : VkDeviceSize(in.u32()) << (s % 16);
        uint8_t th = in.u8();
        uint32_t type = th % 32, heap = (th >> 5) < 6 ? (th >> 5) % 3 : 16 + (th & 1);  // heap >= 16 clamps to 0
        uint8_t pv = in.u8();
        bool hv = pv & 0x80;
        float p = kPriorities[(pv & 0x7f) % 10];
        track(h, size, type, heap, hv, p);
    }

    void track(uint64_t h, VkDeviceSize size, uint32_t type, uint32_t heap, bool hv, float p)
    {
        NOTE("allocate 0x%" PRIx64 " size=%" PRIu64 " type=%u heap=%u host_visible=%d priority=%g", h, size, type,
             heap, hv, double(p));
        uint64_t failures = alloc_.failures;
        bool ok = kmt_track_memory(&t_, h, size, type, heap, hv, p);
        expect_alloc_result(ok, h != 0, failures, "kmt_track_memory");
        g_stats.track_failures += !ok;
        if (ok) {
            model_.track(h, size, type, heap, hv, p);
        } else if (h && !kmt_find_memory(&t_, h)) {
            model_.untrack(h);  // a replaced record is gone even when tracking the new one failed
        }
    }

    void bind(Reader &in)
    {
        uint8_t b = in.u8();
        uint64_t r = b == 0xff ? 0 : rh(b % kResources);
        if ((b & 0x38) == 0x38 && b != 0xff) {  // a new resource beyond the small set: the table grows
            for (uint32_t i = kResources; i < kMaxIndices; i++)
                if (!model_.res.count(rh(i))) {
                    r = rh(i);
                    break;
                }
        }
        uint32_t type = b & 0x40 ? VK_OBJECT_TYPE_IMAGE : VK_OBJECT_TYPE_BUFFER;
        uint64_t memory = pick_memory(in.u8());
        NOTE("bind %s 0x%" PRIx64 " -> 0x%" PRIx64, type == VK_OBJECT_TYPE_IMAGE ? "image" : "buffer", r, memory);
        uint64_t failures = alloc_.failures;
        bool ok = kmt_track_binding(&t_, type, r, memory);
        bool model_ok = model_.bind(type, r, memory);
        expect_alloc_result(ok, model_ok, failures, "kmt_track_binding");
        if (reserved_) {
            CHECK(ok == model_ok, "kmt_track_binding failed within a reservation (%u left)", reserved_);
            reserved_--;
        }
        g_stats.bind_failures += !ok;
        if (!ok)
            model_.res.erase(r);  // the old binding is dropped first: the resource is untracked
    }

    void bulk(Reader &in)
    {
        uint8_t b = in.u8();
        if (b & 1) {
            uint32_t n = 1 + b * 2;  // up to 511 at a time: map growth, a second pool chunk
            NOTE("bulk allocate %u", n);
            for (uint32_t i = kSmallIndices; i < kMaxIndices && n; i++)
                if (!model_.mems.count(mh(i))) {
                    track(mh(i), kSizes[i % kSizeCount], i % 32, i % 3, i & 1, kPriorities[i % 10]);
                    n--;
                }
        } else if (b & 2) {
            // Many resources on one memory: the resource table grows, the
            // resource pool gets a second chunk (what reservations cover).
            uint32_t n = 1 + (b >> 2) * 9;  // up to 568
            uint64_t memory = pick_memory(in.u8());
            uint32_t type = b & 0x80 ? VK_OBJECT_TYPE_IMAGE : VK_OBJECT_TYPE_BUFFER;
            NOTE("bulk bind %u -> 0x%" PRIx64, n, memory);
            for (uint32_t i = kResources; i < kMaxIndices && n; i++)
                if (!model_.res.count(rh(i))) {
                    uint64_t failures = alloc_.failures;
                    bool ok = kmt_track_binding(&t_, type, rh(i), memory);
                    bool model_ok = model_.bind(type, rh(i), memory);
                    expect_alloc_result(ok, model_ok, failures, "kmt_track_binding");
                    if (reserved_) {
                        CHECK(ok == model_ok, "kmt_track_binding failed within a reservation (%u left)", reserved_);
                        reserved_--;
                    }
                    if (!ok)
                        model_.res.erase(rh(i));
                    n--;
                }
        } else {
            NOTE("bulk free (every %u-th)", 1 + (b >> 2) % 3);
            uint32_t k = 0;
            for (uint32_t i = kSmallIndices; i < kMaxIndices; i++)
                if (model_.mems.count(mh(i)) && k++ % (1 + (b >> 2) % 3) == 0) {
                    kmt_untrack_memory(&t_, mh(i));
                    model_.untrack(mh(i));
                }
            for (uint32_t i = kResources; i < kMaxIndices; i++)
                if (model_.res.count(rh(i)) && k++ % (1 + (b >> 2) % 3) == 0) {
                    kmt_untrack_resource(&t_, rh(i));
                    model_.res.erase(rh(i));
                }
        }
    }

    void set_budgets(Reader &in)
    {
        uint8_t b = in.u8();
        uint32_t count = b % 4 == 3 ? 17 + b % 3 : 1 + b % 3;  // > 16 clamps
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
            VkDeviceSize usage[kHeaps];
            model_.usages(usage);
            for (uint32_t i = 0; i < kHeaps; i++)
                driver[i] = usage[i] + (sizes[i] >> 20) % 3 - 1;
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

    // Reads an offer / reclaim list: shape byte, then one byte per element.
    struct List {
        uint32_t count = 0;
        bool memories = false, resources = false;
        std::vector<Element> elements;
        std::vector<VkDeviceMemory> memory_array;
        std::vector<VkOfferResourceKMT> resource_array;
        VkDeviceMemory memory_dummy = VK_NULL_HANDLE;
        VkOfferResourceKMT resource_dummy{};
        kmt_handle_list handles{};
    };
    void read_list(Reader &in, bool by_resource, List &l)
    {
        uint8_t s = in.u8();
        l.count = s % 8;
        if (l.count == 0 && (s & 0x80))
            l.count = 1;
        uint32_t shape = (s >> 3) % 16;  // 0..13 normal, 14 both arrays, 15 neither
        l.memories = shape == 14 || (shape < 14 && !by_resource);
        l.resources = shape == 14 || (shape < 14 && by_resource);
        for (uint32_t i = 0; i < l.count; i++) {
            uint8_t b = in.u8();
            l.elements.push_back(by_resource ? pick_resource(b) : Element{pick_memory(b), 0});
        }
        // Exactly sized arrays, so that ASan sees any read past the count.
        for (const Element &e : l.elements) {
            l.memory_array.push_back(reinterpret_cast<VkDeviceMemory>(static_cast<uintptr_t>(e.handle)));
            l.resource_array.push_back({VkObjectType(e.type), e.handle});
        }
        l.handles.count = l.count;
        if (l.memories)
            l.handles.memories = l.count ? l.memory_array.data() : &l.memory_dummy;
        if (l.resources)
            l.handles.resources = l.count ? l.resource_array.data() : &l.resource_dummy;
    }
    std::string list_text(const List &l) const
    {
        std::string s = l.memories && l.resources ? "both arrays " : !l.memories && !l.resources ? "no array " : "";
        s += "[";
        char b[64];
        for (const Element &e : l.elements) {
            if (e.type)
                snprintf(b, sizeof(b), " %u:0x%" PRIx64, e.type, e.handle);
            else
                snprintf(b, sizeof(b), " 0x%" PRIx64, e.handle);
            s += b;
        }
        return s + " ]";
    }

    void expect_error(const kmt_error_info &got, kmt_error code, const RErr &want, const List &l, const char *what)
    {
        CHECK(code == want.code, "%s returned %s, model %s", what, kmt_error_id(code), kmt_error_id(want.code));
        if (!code) {
            CHECK(got.code == KMT_OK, "%s succeeded but error->code is %d", what, got.code);
            return;
        }
        CHECK(got.code == want.code && got.index == want.index && got.handle == want.handle &&
                  got.other == want.other,
              "%s error info {%s, index %u, handle 0x%" PRIx64 ", other 0x%" PRIx64
              "}, model {%s, index %u, handle 0x%" PRIx64 ", other 0x%" PRIx64 "}",
              what, kmt_error_id(got.code), got.index, got.handle, got.other, kmt_error_id(want.code), want.index,
              want.handle, want.other);
        if (got.code >= KMT_ERROR_UNKNOWN_MEMORY && got.code != KMT_ERROR_OUT_OF_HOST_MEMORY)
            CHECK(got.index < l.count, "%s error index %u past the count %u", what, got.index, l.count);
        // The message, as the glue builds it (small buffers truncate safely).
        char text[512], tiny[8];
        kmt_format_error(&got, what, &l.handles, text, sizeof(text));
        kmt_format_error(&got, what, &l.handles, tiny, sizeof(tiny));
        CHECK(std::strlen(tiny) < sizeof(tiny), "truncated message overflowed");
        if (got.code >= KMT_ERROR_UNKNOWN_MEMORY && got.code != KMT_ERROR_OUT_OF_HOST_MEMORY) {
            char index[24];
            snprintf(index, sizeof(index), "[%u]", got.index);
            CHECK(std::strstr(text, index), "message does not name element %u: %s", got.index, text);
        }
    }

    void offer(Reader &in, bool by_resource)
    {
        List l;
        read_list(in, by_resource, l);
        uint8_t pf = in.u8();
        uint32_t priority = pf == 0xff ? 0x7fffffffu : pf % 16 < 14 ? 1 + pf % 4 : (pf % 16 == 14 ? 0 : 5 + (pf >> 6));
        uint32_t flags = (pf >> 4) & 3;
        if ((pf & 0xc0) == 0xc0 && (pf & 3) == 3)
            flags |= 4u << ((pf >> 2) & 3);  // an unknown bit
        uint8_t w = in.u8();
        uint64_t wait = w < 128 ? (completed_ < submitted_ ? submitted_ : 0) : w < 200 ? 0 : w % 16;
        bool want_reoffered = !(w & 1);
        NOTE("offer %s priority=%u flags=0x%x wait=%" PRIu64, list_text(l).c_str(), priority, flags, wait);

        kmt_error_info error{};
        error.code = kmt_error(-1);
        uint32_t reoffered = 0xdead, model_reoffered = 0;
        uint64_t failures = alloc_.failures;
        kmt_error e = kmt_offer(&t_, &l.handles, priority, flags, wait, &error, want_reoffered ? &reoffered : nullptr);
        bool oom = alloc_.failures != failures;
        RErr want =
            model_.offer(l.count, l.memories, l.resources, l.elements, priority, flags, wait, oom, model_reoffered);
        expect_error(error, e, want, l, "vkOfferAllocationsKMT");
        g_stats.offer[e]++;
        g_stats.reoffers += e ? 0 : model_reoffered;
        if (want_reoffered)
            CHECK(reoffered == (e ? 0xdeadu : model_reoffered), "reoffered %u, model %u", reoffered,
                  e ? 0xdeadu : model_reoffered);
        expect_calls("offer");
    }

    void reclaim(Reader &in, bool by_resource)
    {
        List l;
        read_list(in, by_resource, l);
        uint8_t o = in.u8();
        bool with_results = o & 1, with_discarded = o & 2, with_fence = !(o & 4);
        bool lost = (o >> 3) == 31;
        uint64_t fill_completed = (o & 0x18) == 0x18 ? UINT64_MAX : (o & 0x10) ? paging_ / 2 : (o & 0x08) ? paging_ : 0;
        NOTE("reclaim %s results=%d discarded=%d fence=%d fill_completed=%" PRIu64 " lost=%d", list_text(l).c_str(),
             with_results, with_discarded, with_fence, fill_completed, lost);

        // Sentinels: a rejected call writes nothing; exact sizes for ASan.
        const uint32_t n = l.count ? l.count : 1;
        std::vector<VkReclaimResultKMT> results(n, VkReclaimResultKMT(0x7777));
        std::vector<VkBool32> discarded(n, 0x5555);
        uint64_t fence = 0xfeedu;
        kmt_error_info error{};
        error.code = kmt_error(-1);
        uint64_t failures = alloc_.failures;
        kmt_error e = kmt_reclaim(&t_, &l.handles, with_results ? results.data() : nullptr,
                                  with_discarded ? discarded.data() : nullptr, fill_completed, lost, &error,
                                  with_fence ? &fence : nullptr);
        std::vector<VkReclaimResultKMT> model_results;
        uint64_t model_fence = 0;
        bool oom = alloc_.failures != failures;
        RErr want = model_.reclaim(l.count, l.memories, l.resources, l.elements, model_results, fill_completed, lost,
                                   oom, model_fence);
        expect_error(error, e, want, l, "vkReclaimAllocationsKMT");
        g_stats.reclaim[e]++;
        g_stats.fences += !e && model_fence;
        g_stats.lost += !e && lost;
        for (uint32_t i = 0; !e && i < l.count; i++)
            g_stats.results[model_results[i] % 3]++;
        for (uint32_t i = 0; i < n; i++) {
            VkReclaimResultKMT r = e ? VkReclaimResultKMT(0x7777) : model_results[i];
            VkBool32 d = e ? 0x5555 : r != VK_RECLAIM_RESULT_OK_KMT;
            if (with_results)
                CHECK(results[i] == r, "pResults[%u] = %d, model %d", i, results[i], r);
            if (with_discarded)
                CHECK(discarded[i] == d, "pDiscarded[%u] = 0x%x, model 0x%x", i, discarded[i], d);
        }
        if (with_fence)
            CHECK(fence == (e ? 0xfeedu : model_fence), "fence %" PRIu64 ", model %" PRIu64, fence,
                  e ? 0xfeedu : model_fence);
        expect_calls("reclaim");
    }

    // ---- the full comparison ----------------------------------------------------

    void check_list(const kmt_list &list, const std::vector<uint64_t> &want, const char *name)
    {
        const kmt_memory *prev = nullptr;
        size_t i = 0;
        for (const kmt_memory *m = list.head; m; prev = m, m = m->next, i++) {
            CHECK(m->prev == prev, "%s: broken prev link at %zu", name, i);
            CHECK(i < want.size() && m->handle == want[i], "%s[%zu] is 0x%" PRIx64 ", model 0x%" PRIx64, name, i,
                  m->handle, i < want.size() ? want[i] : 0);
            CHECK(kmt_find_memory(&t_, m->handle) == m, "%s holds a record that is not tracked", name);
        }
        CHECK(i == want.size(), "%s has %zu members, model %zu", name, i, want.size());
        CHECK(list.tail == prev && list.count == want.size(), "%s: tail/count %u, model %zu", name, list.count,
              want.size());
    }

    void check_all()
    {
        const Model &md = model_;
        CHECK(calls_.empty() && md.calls.empty(), "unchecked driver calls %s / model %s", describe(calls_).c_str(),
              describe(md.calls).c_str());
        CHECK(t_.memories.count == md.mems.size(), "%u memories tracked, model %zu", t_.memories.count,
              md.mems.size());
        const std::map<uint64_t, uint32_t> resource_counts = md.resource_counts();
        for (const auto &[h, r] : md.mems) {
            const kmt_memory *m = kmt_find_memory(&t_, h);
            CHECK(m, "memory 0x%" PRIx64 " not tracked", h);
            CHECK(m->handle == h && m->status == r.status && m->offer_priority == r.offer_priority &&
                      m->offer_flags == r.flags && m->app_priority == r.app && m->driver_priority == r.driver &&
                      m->size == r.size && m->type_index == r.type && m->heap_index == r.heap &&
                      m->host_visible == r.host_visible && m->mapped == r.mapped && m->discard_count == r.discards,
                  "memory 0x%" PRIx64 ": {status %d, offer %d/0x%x, app %g, driver %g, size %" PRIu64
                  ", type %u, heap %u, hv %d, mapped %d, discards %u}, model {status %d, offer %d/0x%x, app %g, "
                  "driver %g, size %" PRIu64 ", type %u, heap %u, hv %d, mapped %d, discards %u}",
                  h, m->status, m->offer_priority, m->offer_flags, double(m->app_priority),
                  double(m->driver_priority), m->size, m->type_index, m->heap_index, m->host_visible, m->mapped,
                  m->discard_count, r.status, r.offer_priority, r.flags, double(r.app), double(r.driver), r.size,
                  r.type, r.heap, r.host_visible, r.mapped, r.discards);
            if (r.status == PENDING)
                CHECK(m->wait_serial == r.wait_serial, "memory 0x%" PRIx64 " waits for %" PRIu64 ", model %" PRIu64,
                      h, m->wait_serial, r.wait_serial);
            if (r.status == DISCARDED)
                CHECK(m->fill_value == r.fill_value, "memory 0x%" PRIx64 " fill value %" PRIu64 ", model %" PRIu64,
                      h, m->fill_value, r.fill_value);
            auto rci = resource_counts.find(h);
            uint32_t rc = rci == resource_counts.end() ? 0 : rci->second;
            CHECK(m->resource_count == rc, "memory 0x%" PRIx64 " has %u resources, model %u", h, m->resource_count,
                  rc);
            VkAllocationStateKMT s{};
            s.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
            kmt_fill_state(&t_, m, &s);
            CHECK(s.status == VkAllocationStatusKMT(r.status) && s.offerPriority == VkOfferPriorityKMT(r.offer_priority) &&
                      s.offerFlags == r.flags && s.driverPriority == r.driver &&
                      s.driverPriorityApplied == VkBool32(md.pageable) && s.size == r.size &&
                      s.memoryTypeIndex == r.type && s.heapIndex == r.heap && s.discardCount == r.discards &&
                      s.sType == VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT && s.pNext == nullptr,
                  "kmt_fill_state of 0x%" PRIx64 " disagrees with the model", h);
        }
        CHECK(t_.resources.count == md.res.size(), "%u resources tracked, model %zu", t_.resources.count,
              md.res.size());
        for (const auto &[h, r] : md.res) {
            const kmt_memory *m = kmt_resource_memory(&t_, h);
            const RMem *want = md.bound(r);
            CHECK((m != nullptr) == (want != nullptr) && (!m || m->handle == r.memory),
                  "resource 0x%" PRIx64 " resolves to 0x%" PRIx64 ", model %s0x%" PRIx64, h, m ? m->handle : 0,
                  want ? "" : "(stale) ", r.memory);
        }
        VkDeviceSize usage[kHeaps];
        md.usages(usage);
        for (uint32_t heap = 0; heap < kHeaps; heap++) {
            VkDeviceSize u = usage[heap];
            CHECK(t_.heap_usage[heap] == u, "heap %u usage %" PRIu64 ", model %" PRIu64, heap, t_.heap_usage[heap], u);
        }
        check_list(t_.pending, md.pending_order(), "pending");
        static const char *names[] = {"offered LOW", "offered NORMAL", "offered HIGH"};
        for (uint8_t level = 0; level < KMT_OFFER_LEVELS; level++)
            check_list(t_.offered[level], md.offered_order(uint8_t(level + 1)), names[level]);
        const kmt_counters &a = t_.counters, &b = md.counters;
        CHECK(a.offers == b.offers && a.reoffers == b.reoffers && a.reclaims == b.reclaims &&
                  a.discards == b.discards && a.decommits == b.decommits && a.bytes_offered == b.bytes_offered &&
                  a.bytes_discarded == b.bytes_discarded && a.rejected_calls == b.rejected_calls,
              "counters {offers %" PRIu64 ", reoffers %" PRIu64 ", reclaims %" PRIu64 ", discards %" PRIu64
              ", decommits %" PRIu64 ", rejected %" PRIu64 "}, model {%" PRIu64 ", %" PRIu64 ", %" PRIu64
              ", %" PRIu64 ", %" PRIu64 ", %" PRIu64 "}",
              a.offers, a.reoffers, a.reclaims, a.discards, a.decommits, a.rejected_calls, b.offers, b.reoffers,
              b.reclaims, b.discards, b.decommits, b.rejected_calls);
        CHECK(policy_.rng == md.rng, "random policy state diverged");
        CHECK(alloc_.bad_frees == 0, "a block was freed twice or never allocated");
    }

    Model model_;
    kmt_tracker t_{};
    kmt_policy policy_{};
    Allocator alloc_;
    bool use_allocator_ = true;
    uint32_t handle_mode_ = 0;
    std::vector<Call> calls_;
    uint64_t paging_ = 0, submitted_ = 0, completed_ = 0;
    uint32_t reserved_ = 0;  // binds that kmt_reserve_bindings guaranteed
    uint32_t fill_fail_mode_ = 0;
    uint64_t fills_ = 0;
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

// SPDX-License-Identifier: MIT
// Host-allocation failure injection through the real stack: the app's
// VkAllocationCallbacks (given to vkCreateInstance / vkCreateDevice, and to
// vkAllocateMemory / vkFreeMemory as pAllocator) fail at the N-th call, for
// every N along one operation: device creation, memory allocation (the
// layer's first record chunk, and its handle table growing), binding, offer
// (immediate and deferred), reclaim, discard fills, free and destruction.
//
// The layer, the validation layer, the test driver and lavapipe all allocate
// through the same callbacks, so a failure can come from any of them: the
// tests assert what must hold whoever failed --
//   - no crash; the call returns VK_SUCCESS or an error (the layer's own
//     failures: VK_ERROR_OUT_OF_HOST_MEMORY);
//   - nothing leaks: after a failed call the live blocks are back to what
//     they were before it, and zero once the instance is gone; no block is
//     freed that the callbacks did not hand out;
//   - consistency: after a failed call the layer's state queries show that
//     nothing changed; after a call that succeeded although an allocation
//     inside it failed, everything still works (offers still wait for
//     earlier GPU work, fills still signal what reclaim reports).
// Each sweep stops at the first N the operation no longer reaches. Bugs the
// sweeps found are noted with the tests that show them.
//
// Environment: KMT_FI_DEBUG=1 records where each block was allocated and
// prints the live ones when a leak check fails; KMT_FI_TRAP=N raises SIGTRAP
// when the N-th call fails (run under gdb for who sees it);
// KMT_FI_INSTANCE_STEP=k tries every k-th N of the instance sweep;
// KMT_FI_BASELINE=1 runs the instance sweep without the layer.
#include <vulkan/vk_enum_string_helper.h>

#include <dlfcn.h>
#include <execinfo.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

// ---- callbacks that count live blocks and fail on request ----------------------

class InjectingAllocator {
 public:
    InjectingAllocator()
    {
        callbacks_.pUserData = this;
        callbacks_.pfnAllocation = &Allocate;
        callbacks_.pfnReallocation = &Reallocate;
        callbacks_.pfnFree = &Free;
    }
    InjectingAllocator(const InjectingAllocator&) = delete;
    InjectingAllocator& operator=(const InjectingAllocator&) = delete;

    const VkAllocationCallbacks* callbacks() const { return &callbacks_; }

    // The n-th allocation or reallocation from now (0-based) returns NULL;
    // the ones after it succeed again. n < 0: none fails.
    void fail_at(long n)
    {
        std::lock_guard<std::mutex> g(lock_);
        countdown_ = n;
        calls_ = 0;
        failed_ = false;
    }
    void disarm() { fail_at(-1); }
    bool failed() const
    {
        std::lock_guard<std::mutex> g(lock_);
        return failed_;
    }
    long calls() const
    {
        std::lock_guard<std::mutex> g(lock_);
        return calls_;
    }
    size_t live() const
    {
        std::lock_guard<std::mutex> g(lock_);
        return live_.size();
    }
    uint64_t bad_frees() const
    {
        std::lock_guard<std::mutex> g(lock_);
        return bad_frees_;
    }
    // Allocations made by a library whose path contains one of `names`
    // never fail (the failure moves on to the next allocation).
    void exempt(std::vector<std::string> names)
    {
        std::lock_guard<std::mutex> g(lock_);
        exempt_ = std::move(names);
    }
    // The same for allocations by `names` made below the layer only.
    void exempt_below(std::vector<std::string> names)
    {
        std::lock_guard<std::mutex> g(lock_);
        exempt_below_ = std::move(names);
    }
    // While on, records for each call (from fail_at on) whether it is exempt.
    void classify(bool on)
    {
        std::lock_guard<std::mutex> g(lock_);
        classify_ = on;
        if (on)
            exempt_calls_.clear();
    }
    std::vector<bool> exempt_calls() const
    {
        std::lock_guard<std::mutex> g(lock_);
        return exempt_calls_;
    }

 private:
    // Whether this allocation is exempt: made by lavapipe, or by the loader
    // below the layer (its terminators), per exempt_below().
    bool caller_exempt() const
    {
        void* frames[40];
        int n = backtrace(frames, 40);
        Dl_info self{}, info{};
        dladdr(reinterpret_cast<void*>(&InjectingAllocator::Allocate), &self);
        const char* caller = nullptr;
        bool below_layer = false;
        for (int i = 1; i < n; i++) {
            if (!dladdr(frames[i], &info) || info.dli_fbase == self.dli_fbase || !info.dli_fname)
                continue;
            if (!caller)
                caller = info.dli_fname;
            if (std::strstr(info.dli_fname, "libVkLayer_kmt_offer_reclaim"))
                below_layer = info.dli_fname != caller;
        }
        if (!caller)
            return false;
        for (const std::string& name : exempt_)
            if (std::strstr(caller, name.c_str()))
                return true;
        for (const std::string& name : exempt_below_)
            if (below_layer && std::strstr(caller, name.c_str()))
                return true;
        return false;
    }
    // Called with the lock held: whether this call is the one that fails.
    bool fails_now()
    {
        if (classify_)
            exempt_calls_.push_back(caller_exempt());
        calls_++;
        if (countdown_ == 0 && (!exempt_.empty() || !exempt_below_.empty()) && caller_exempt())
            return false;
        if (countdown_ == 0) {
            countdown_ = -1;
            failed_ = true;
            const char* trap = getenv("KMT_FI_TRAP");  // under gdb: who sees the failure
            if (trap && (!*trap || atol(trap) == calls_ - 1))
                raise(SIGTRAP);
            return true;
        }
        if (countdown_ > 0)
            countdown_--;
        return false;
    }
    void* take(size_t size, size_t alignment)
    {
        void* p = nullptr;
        if (posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment, size ? size : 1) != 0)
            return nullptr;
        live_[p] = size;
        if (debug_) {
            void* frames[24];
            int n = backtrace(frames, 24);
            char** names = backtrace_symbols(frames, n);
            std::string where = "call " + std::to_string(calls_ - 1) + ", size " + std::to_string(size) + ":";
            for (int i = 2; i < n; i++)
                where += std::string("\n      ") + names[i];
            free(names);
            origin_[p] = where;
        }
        return p;
    }

 public:
    // With KMT_FI_DEBUG=1 set: prints where each live block was allocated.
    void print_live() const
    {
        std::lock_guard<std::mutex> g(lock_);
        for (const auto& [p, where] : origin_)
            std::printf("  live block %p from %s\n", p, where.c_str());
    }

 private:
    static void* VKAPI_PTR Allocate(void* user, size_t size, size_t alignment, VkSystemAllocationScope)
    {
        auto* self = static_cast<InjectingAllocator*>(user);
        std::lock_guard<std::mutex> g(self->lock_);
        return self->fails_now() ? nullptr : self->take(size, alignment);
    }
    static void* VKAPI_PTR Reallocate(void* user, void* original, size_t size, size_t alignment,
                                      VkSystemAllocationScope)
    {
        auto* self = static_cast<InjectingAllocator*>(user);
        std::lock_guard<std::mutex> g(self->lock_);
        if (original && size == 0) {  // behaves as pfnFree
            self->release(original);
            return nullptr;
        }
        if (self->fails_now())
            return nullptr;  // the original block stays valid
        void* p = self->take(size, alignment);
        if (p && original) {
            auto it = self->live_.find(original);
            if (it == self->live_.end()) {
                self->bad_frees_++;
            } else {
                std::memcpy(p, original, std::min(size, it->second));
                self->release(original);
            }
        }
        return p;
    }
    static void VKAPI_PTR Free(void* user, void* p)
    {
        auto* self = static_cast<InjectingAllocator*>(user);
        std::lock_guard<std::mutex> g(self->lock_);
        if (p)
            self->release(p);
    }
    void release(void* p)
    {
        auto it = live_.find(p);
        if (it == live_.end()) {
            bad_frees_++;  // not ours, or freed twice: never touch it
            return;
        }
        live_.erase(it);
        origin_.erase(p);
        std::free(p);
    }

    VkAllocationCallbacks callbacks_{};
    mutable std::mutex lock_;
    std::unordered_map<void*, size_t> live_;
    std::unordered_map<void*, std::string> origin_;  // KMT_FI_DEBUG only
    const bool debug_ = getenv("KMT_FI_DEBUG") != nullptr;
    std::vector<std::string> exempt_, exempt_below_;
    bool classify_ = false;
    std::vector<bool> exempt_calls_;
    long countdown_ = -1, calls_ = 0;
    bool failed_ = false;
    uint64_t bad_frees_ = 0;
};

// Failing calls may return these; anything else (or a positive success code)
// is a bug of whoever returned it.
bool is_allocation_error(VkResult r)
{
    return r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
           r == VK_ERROR_INITIALIZATION_FAILED;
}

constexpr long kMaxN = 4000;  // a sweep that gets here did not converge

// ---- a device the test creates itself, with the callbacks -------------------------

struct Device {
    VkDevice device = VK_NULL_HANDLE;
    VkQueue queue = VK_NULL_HANDLE;
    PFN_vkOfferAllocationsKMT offer = nullptr;
    PFN_vkReclaimAllocationsKMT reclaim = nullptr;
    PFN_vkGetAllocationStateKMT get_state = nullptr;
    PFN_vkGetOfferReclaimStatisticsKMT get_statistics = nullptr;
    PFN_vkGetPagingFenceKMT get_paging_fence = nullptr;
};

VkResult create_device(VulkanStack& s, const VkAllocationCallbacks* a, Device* out)
{
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo q = {};
    q.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
    q.queueFamilyIndex = s.queue_family;
    q.queueCount = 1;
    q.pQueuePriorities = &priority;
    const char* extension = VK_KMT_OFFER_RECLAIM_EXTENSION_NAME;
    VkDeviceCreateInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    info.queueCreateInfoCount = 1;
    info.pQueueCreateInfos = &q;
    info.enabledExtensionCount = 1;
    info.ppEnabledExtensionNames = &extension;
    *out = Device{};
    VkResult r = vkCreateDevice(s.physical_device, &info, a, &out->device);
    if (r != VK_SUCCESS)
        return r;
    vkGetDeviceQueue(out->device, s.queue_family, 0, &out->queue);
    auto proc = [&](const char* name) { return vkGetDeviceProcAddr(out->device, name); };
    out->offer = reinterpret_cast<PFN_vkOfferAllocationsKMT>(proc("vkOfferAllocationsKMT"));
    out->reclaim = reinterpret_cast<PFN_vkReclaimAllocationsKMT>(proc("vkReclaimAllocationsKMT"));
    out->get_state = reinterpret_cast<PFN_vkGetAllocationStateKMT>(proc("vkGetAllocationStateKMT"));
    out->get_statistics =
        reinterpret_cast<PFN_vkGetOfferReclaimStatisticsKMT>(proc("vkGetOfferReclaimStatisticsKMT"));
    out->get_paging_fence = reinterpret_cast<PFN_vkGetPagingFenceKMT>(proc("vkGetPagingFenceKMT"));
    return VK_SUCCESS;
}

VkResult allocate(const Device& d, const VkAllocationCallbacks* a, uint32_t type, VkDeviceMemory* out,
                  VkDeviceSize size = 64 * 1024)
{
    VkMemoryAllocateInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    info.allocationSize = size;
    info.memoryTypeIndex = type;
    *out = VK_NULL_HANDLE;
    return vkAllocateMemory(d.device, &info, a, out);
}

VkAllocationStateKMT state(const Device& d, VkDeviceMemory m)
{
    VkAllocationStateKMT st = {};
    st.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
    EXPECT_EQ(d.get_state(d.device, m, &st), VK_SUCCESS);
    return st;
}

VkOfferReclaimStatisticsKMT statistics(const Device& d)
{
    VkOfferReclaimStatisticsKMT st = {};
    st.sType = VK_STRUCTURE_TYPE_OFFER_RECLAIM_STATISTICS_KMT;
    EXPECT_EQ(d.get_statistics(d.device, &st), VK_SUCCESS);
    return st;
}

std::vector<VkAllocationStatusKMT> statuses(const Device& d, const std::vector<VkDeviceMemory>& ms)
{
    std::vector<VkAllocationStatusKMT> out;
    for (VkDeviceMemory m : ms)
        out.push_back(state(d, m).status);
    return out;
}

VkResult offer(const Device& d, const std::vector<VkDeviceMemory>& ms, VkOfferFlagsKMT flags)
{
    VkOfferAllocationsInfoKMT info = offer_info(ms, VK_OFFER_PRIORITY_NORMAL_KMT, flags);
    return d.offer(d.device, &info);
}

VkResult reclaim(const Device& d, const std::vector<VkDeviceMemory>& ms, std::vector<VkReclaimResultKMT>* results,
                 uint64_t* fence)
{
    results->assign(ms.size(), VK_RECLAIM_RESULT_MAX_ENUM_KMT);
    VkReclaimAllocationsInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT;
    info.allocationCount = static_cast<uint32_t>(ms.size());
    info.pMemories = ms.data();
    info.pResults = results->data();
    return d.reclaim(d.device, &info, fence);
}

// Keeps the device's queue busy until open(): work submitted before an offer
// that the offer must wait for.
class Gate {
 public:
    Gate(const Device& d) : d_(d)
    {
        VkSemaphoreTypeCreateInfo type = {VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO, nullptr,
                                          VK_SEMAPHORE_TYPE_TIMELINE, 0};
        VkSemaphoreCreateInfo info = {VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, &type, 0};
        EXPECT_EQ(vkCreateSemaphore(d.device, &info, nullptr, &semaphore_), VK_SUCCESS);
        uint64_t one = 1;
        VkTimelineSemaphoreSubmitInfo values = {};
        values.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
        values.waitSemaphoreValueCount = 1;
        values.pWaitSemaphoreValues = &one;
        VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
        VkSubmitInfo submit = {};
        submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
        submit.pNext = &values;
        submit.waitSemaphoreCount = 1;
        submit.pWaitSemaphores = &semaphore_;
        submit.pWaitDstStageMask = &stage;
        EXPECT_EQ(vkQueueSubmit(d.queue, 1, &submit, VK_NULL_HANDLE), VK_SUCCESS);
    }
    void open()
    {
        if (open_)
            return;
        open_ = true;
        VkSemaphoreSignalInfo signal = {VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO, nullptr, semaphore_, 1};
        EXPECT_EQ(vkSignalSemaphore(d_.device, &signal), VK_SUCCESS);
        EXPECT_EQ(vkQueueWaitIdle(d_.queue), VK_SUCCESS);
    }
    ~Gate()
    {
        open();
        vkDestroySemaphore(d_.device, semaphore_, nullptr);
    }
    Gate(const Gate&) = delete;
    Gate& operator=(const Gate&) = delete;

 private:
    const Device& d_;
    VkSemaphore semaphore_ = VK_NULL_HANDLE;
    bool open_ = false;
};

// ---- the fixture ---------------------------------------------------------------

class FailureInjection : public ::testing::Test {
 protected:
    // An instance (and physical device) whose allocations all go through
    // `alloc_`; devices are created by each test.
    void SetUp() override { make_stack({}); }
    void make_stack(std::vector<std::pair<std::string, std::string>> env)
    {
        stack_.reset();
        StackOptions opts;
        opts.allocator = alloc_.callbacks();
        opts.create_device = false;
        opts.env = std::move(env);
        stack_ = std::make_unique<VulkanStack>(opts);
        ASSERT_EQ(stack_->result(), VK_SUCCESS) << stack_->failed_step();
        host_visible_ = stack_->memory_type(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
        start_ = std::chrono::steady_clock::now();
    }
    void TearDown() override
    {
        alloc_.disarm();
        if (stack_) {
            stack_->destroy();
            std::vector<Message> errors;
            for (const Message& m : stack_->validation_errors())
                if (std::find(tolerated_.begin(), tolerated_.end(), m.id) == tolerated_.end())
                    errors.push_back(m);
            EXPECT_TRUE(errors.empty()) << errors.size() << " validation error(s):\n" << describe(errors);
            stack_.reset();
        }
        EXPECT_EQ(alloc_.live(), 0u) << "blocks still live after vkDestroyInstance";
        EXPECT_EQ(alloc_.bad_frees(), 0u) << "frees of blocks the callbacks never handed out";
    }
    // After an injected failure inside vkQueueSubmit, the validation layer
    // still counts the failed batch as pending (as it does for device loss,
    // see fixture.cpp): it then reports that batch's command buffer, buffer
    // and signal value as in use. Tests whose sweeps fail submissions
    // tolerate exactly these.
    void tolerate_failed_submit_bookkeeping()
    {
        tolerated_ = {"VUID-vkDestroyBuffer-buffer-00922", "VUID-vkFreeCommandBuffers-pCommandBuffers-00047",
                      "VUID-VkSubmitInfo-pSignalSemaphores-03242"};
    }
    void report(const char* what, long n)
    {
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
        if (n == 0)
            std::printf("[ sweep    ] %s: makes no host allocation (%.0f ms)\n", what, ms);
        else
            std::printf("[ sweep    ] %s: every N in 0..%ld (%.0f ms)\n", what, n - 1, ms);
        RecordProperty("injection_points", static_cast<int>(n));
        EXPECT_LT(n, kMaxN) << what << ": the sweep did not converge";
    }
    // Blocks a device holds may outlive a failed call (a grown table kept
    // for later, a driver's command buffer cache): the leak check is that
    // vkDestroyDevice returns every block allocated since vkCreateDevice.
    Device make_device()
    {
        Device d;
        device_baseline_ = alloc_.live();
        EXPECT_EQ(create_device(*stack_, alloc_.callbacks(), &d), VK_SUCCESS);
        return d;
    }
    void destroy_device(Device& d)
    {
        if (!d.device)
            return;
        vkDeviceWaitIdle(d.device);
        vkDestroyDevice(d.device, alloc_.callbacks());
        d = Device{};
        EXPECT_EQ(alloc_.live(), device_baseline_) << "blocks left after vkDestroyDevice: a leak (KMT_FI_DEBUG=1 "
                                                       "prints where they come from)";
        if (alloc_.live() != device_baseline_)
            alloc_.print_live();
    }

    InjectingAllocator alloc_;
    std::unique_ptr<VulkanStack> stack_;
    uint32_t host_visible_ = 0;
    size_t device_baseline_ = 0;
    std::vector<std::string> tolerated_;
    std::chrono::steady_clock::time_point start_;
};

// A device that came out of vkCreateDevice works: memory is tracked, an
// offer made while earlier GPU work runs waits for it, reclaim restores it.
void expect_device_works(const Device& d, const VkAllocationCallbacks* a, uint32_t type, long n)
{
    VkDeviceMemory m;
    ASSERT_EQ(allocate(d, a, type, &m), VK_SUCCESS) << "N=" << n;
    {
        Gate gate(d);
        ASSERT_EQ(offer(d, {m}, 0), VK_SUCCESS) << "N=" << n;
        EXPECT_EQ(state(d, m).status, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT)
            << "N=" << n << ": an offer made while earlier GPU work runs must wait for it";
        gate.open();
        EXPECT_EQ(state(d, m).status, VK_ALLOCATION_STATUS_OFFERED_KMT) << "N=" << n;
    }
    std::vector<VkReclaimResultKMT> results;
    uint64_t fence = 1;
    EXPECT_EQ(reclaim(d, {m}, &results, &fence), VK_SUCCESS) << "N=" << n;
    EXPECT_EQ(results[0], VK_RECLAIM_RESULT_OK_KMT);
    EXPECT_EQ(state(d, m).status, VK_ALLOCATION_STATUS_RESIDENT_KMT);
    vkFreeMemory(d.device, m, a);
}

TEST_F(FailureInjection, CreateInstanceFailsCleanlyOrWorksAtEveryN)
{
    // vkCreateInstance (and vkEnumeratePhysicalDevices after it) through the
    // loader, the layer, validation and the test driver, failing at every N
    // but these: lavapipe's allocations, and the loader's below the layer
    // (its terminator). With one of those failing, lavapipe crashes, or the
    // loader drops the ICD and "succeeds" with an instance on which
    // validation then crashes -- the same without this layer in the stack
    // (KMT_FI_BASELINE=1 runs the sweep on it), so not the layer's doing.
    // Every KMT_FI_INSTANCE_STEP-th N is tried (default: all of them; every
    // 4th under ASan/TSan, where ~2000 instance creations take too long).
    stack_.reset();
    alloc_.exempt({"libvulkan_lvp"});
    alloc_.exempt_below({"libvulkan.so"});
    StackOptions opts;
    opts.allocator = alloc_.callbacks();
    opts.create_device = false;
    if (getenv("KMT_FI_BASELINE"))  // the same stack without the layer, for comparison
        opts.stack = Stack::Baseline;
    // A clean run finds which calls are the layers' (creation is single-threaded).
    alloc_.disarm();
    alloc_.classify(true);
    std::make_unique<VulkanStack>(opts)->destroy();
    alloc_.classify(false);
    const std::vector<bool> exempt = alloc_.exempt_calls();
    ASSERT_EQ(alloc_.live(), 0u);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    const long default_step = 4;  // every attempt loads the whole stack: sampled under sanitizers
#else
    const long default_step = 1;
#endif
    const char* step_env = getenv("KMT_FI_INSTANCE_STEP");
    const size_t step = std::max(1L, step_env ? atol(step_env) : default_step);
    long tried = 0, layers = 0;
    for (size_t n = 0; n < exempt.size(); n++) {
        if (exempt[n] || layers++ % step)
            continue;
        tried++;
        alloc_.fail_at(long(n));
        auto s = std::make_unique<VulkanStack>(opts);
        const bool hit = alloc_.failed();
        alloc_.disarm();
        EXPECT_TRUE(hit) << "N=" << n << ": creation made fewer allocations than the clean run";
        if (s->result() != VK_SUCCESS)
            EXPECT_TRUE(is_allocation_error(s->result()))
                << "N=" << n << ": " << s->failed_step() << " returned " << string_VkResult(s->result());
        else
            EXPECT_NE(s->physical_device, VK_NULL_HANDLE) << "N=" << n;
        s->destroy();
        EXPECT_EQ(alloc_.live(), 0u) << "N=" << n << ": blocks left after vkDestroyInstance";
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
    std::printf("[ sweep    ] vkCreateInstance + vkEnumeratePhysicalDevices: %zu allocations, %ld injected "
                "(every %zu-th of those not exempt) (%.0f ms)\n", exempt.size(), tried, step, ms);
    RecordProperty("injection_points", static_cast<int>(tried));
    EXPECT_GT(tried, 0);
}

TEST_F(FailureInjection, CreateDeviceFailsCleanlyOrWorksAtEveryN)
{
    long n = 0;
    for (; n < kMaxN; n++) {
        const size_t before = device_baseline_ = alloc_.live();
        alloc_.fail_at(n);
        Device d;
        VkResult r = create_device(*stack_, alloc_.callbacks(), &d);
        const bool hit = alloc_.failed();
        alloc_.disarm();
        if (r != VK_SUCCESS) {
            EXPECT_TRUE(hit) << "N=" << n << ": vkCreateDevice failed without an allocation failing";
            EXPECT_TRUE(is_allocation_error(r)) << "N=" << n << ": " << string_VkResult(r);
            EXPECT_EQ(d.device, VK_NULL_HANDLE);
            EXPECT_EQ(alloc_.live(), before) << "N=" << n << ": a failed vkCreateDevice leaked";
            continue;
        }
        expect_device_works(d, alloc_.callbacks(), host_visible_, n);
        destroy_device(d);
        if (!hit)
            break;  // past the last allocation of vkCreateDevice
    }
    report("vkCreateDevice", n);
}

TEST_F(FailureInjection, CreateDeviceKeepsDiscardFillsAtEveryN)
{
    // With DISCARD=always and DISCARD_FILL=poison, a device that came out of
    // vkCreateDevice fills what it discards: the paging fence moves.
    // (Found: when the paging queue's record could not be allocated,
    // vkCreateDevice succeeded with GPU fills off for good.)
    make_stack({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"},
                {"VK_KMT_OFFER_RECLAIM_DISCARD_FILL", "poison"},
                {"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}});
    const uint32_t device_only =
        stack_->memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    ASSERT_NE(device_only, UINT32_MAX) << "the test driver's device-local-only type is missing";
    long n = 0;
    for (; n < kMaxN; n++) {
        device_baseline_ = alloc_.live();
        alloc_.fail_at(n);
        Device d;
        VkResult r = create_device(*stack_, alloc_.callbacks(), &d);
        const bool hit = alloc_.failed();
        alloc_.disarm();
        if (r != VK_SUCCESS) {
            EXPECT_TRUE(is_allocation_error(r)) << "N=" << n << ": " << string_VkResult(r);
            EXPECT_EQ(alloc_.live(), device_baseline_) << "N=" << n << ": a failed vkCreateDevice leaked";
            continue;
        }
        VkSemaphore paging = VK_NULL_HANDLE;
        uint64_t before = 0, after = 0;
        EXPECT_EQ(d.get_paging_fence(d.device, &paging), VK_SUCCESS);
        EXPECT_EQ(vkGetSemaphoreCounterValue(d.device, paging, &before), VK_SUCCESS);
        VkDeviceMemory m;
        EXPECT_EQ(allocate(d, alloc_.callbacks(), device_only, &m), VK_SUCCESS);
        EXPECT_EQ(offer(d, {m}, VK_OFFER_IMMEDIATELY_BIT_KMT), VK_SUCCESS);
        EXPECT_EQ(state(d, m).status, VK_ALLOCATION_STATUS_DISCARDED_KMT) << "N=" << n;
        vkFreeMemory(d.device, m, alloc_.callbacks());  // waits for the fill
        EXPECT_EQ(vkGetSemaphoreCounterValue(d.device, paging, &after), VK_SUCCESS);
        EXPECT_GT(after, before) << "N=" << n << ": the discard was reported but never filled";
        destroy_device(d);
        if (!hit)
            break;
    }
    report("vkCreateDevice, then a discard fill", n);
}

TEST_F(FailureInjection, TracedDeviceFailsCleanlyOrTracesAtEveryN)
{
    // With TRACE and LOG_LEVEL=verbose, each allocation of vkCreateDevice, an
    // offer, a reclaim and vkDestroyDevice fails in turn: the calls fail
    // cleanly or work, nothing leaks, and whatever trace file exists is valid
    // JSON (a state change the layer could not keep is counted, not invented).
    const std::string trace = "/tmp/kmt_fi_trace." + std::to_string(getpid()) + ".json";
    make_stack({{"VK_KMT_OFFER_RECLAIM_TRACE", trace}, {"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "verbose"}});
    long n = 0;
    for (; n < kMaxN; n++) {
        std::remove(trace.c_str());
        const size_t before = alloc_.live();
        alloc_.fail_at(n);
        Device d;
        VkResult r = create_device(*stack_, alloc_.callbacks(), &d);
        if (r == VK_SUCCESS) {
            VkDeviceMemory m;
            if (allocate(d, alloc_.callbacks(), host_visible_, &m) == VK_SUCCESS) {
                VkResult o = offer(d, {m}, VK_OFFER_IMMEDIATELY_BIT_KMT);
                EXPECT_TRUE(o == VK_SUCCESS || is_allocation_error(o)) << "N=" << n << ": " << string_VkResult(o);
                std::vector<VkReclaimResultKMT> results;
                uint64_t fence = 0;
                VkResult rr = reclaim(d, {m}, &results, &fence);
                EXPECT_TRUE(rr == VK_SUCCESS || is_allocation_error(rr)) << "N=" << n << ": " << string_VkResult(rr);
                vkFreeMemory(d.device, m, alloc_.callbacks());
            }
            // No vkDeviceWaitIdle: nothing was submitted (the offers are
            // IMMEDIATE), and lavapipe 22.3 leaks a block when an allocation
            // inside its vkDeviceWaitIdle fails.
            vkDestroyDevice(d.device, alloc_.callbacks());
        } else {
            EXPECT_TRUE(is_allocation_error(r)) << "N=" << n << ": " << string_VkResult(r);
        }
        const bool hit = alloc_.failed();
        alloc_.disarm();
        EXPECT_EQ(alloc_.live(), before) << "N=" << n << ": blocks left (KMT_FI_DEBUG=1 prints where from)";
        if (alloc_.live() != before)
            alloc_.print_live();
        std::ifstream in(trace);
        if (in) {
            std::stringstream text;
            text << in.rdbuf();
            EXPECT_TRUE(nlohmann::json::accept(text.str())) << "N=" << n << ": the trace is not valid JSON";
        }
        if (!hit)
            break;
    }
    std::remove(trace.c_str());
    stack_->clear_messages();  // the warnings of the failed ones
    report("traced device: create, offer, reclaim, destroy", n);
}

TEST_F(FailureInjection, DestroyDeviceNeverLeaksAtAnyN)
{
    long n = 0;
    for (; n < kMaxN; n++) {
        const size_t before = alloc_.live();
        Device d = make_device();
        VkDeviceMemory m;
        ASSERT_EQ(allocate(d, alloc_.callbacks(), host_visible_, &m), VK_SUCCESS);
        ASSERT_EQ(offer(d, {m}, VK_OFFER_IMMEDIATELY_BIT_KMT), VK_SUCCESS);  // the tracker, scratch and queues in use
        vkFreeMemory(d.device, m, alloc_.callbacks());
        alloc_.fail_at(n);
        vkDestroyDevice(d.device, alloc_.callbacks());
        const bool hit = alloc_.failed();
        alloc_.disarm();
        EXPECT_EQ(alloc_.live(), before) << "N=" << n << ": vkDestroyDevice left blocks";
        if (!hit)
            break;
    }
    report("vkDestroyDevice", n);
}

// Sweeps N = 0, 1, ... until the call no longer reaches the N-th allocation
// (it returns whether it did). `prepare` runs before every N: each starts
// from the same state, since what a call allocates once (a table, a pool, a
// semaphore made on first use) would otherwise hide the Ns after it.
template <typename Prepare, typename Call>
long sweep(Prepare prepare, Call call)
{
    long n = 0;
    for (; n < kMaxN; n++) {
        prepare();
        if (::testing::Test::HasFatalFailure())
            break;
        const bool hit = call(n);
        if (::testing::Test::HasFatalFailure() || !hit)
            break;
    }
    return n;
}

TEST_F(FailureInjection, AllocateMemoryIsAllOrNothingAtEveryN)
{
    // The first allocation of a device makes the layer's first record chunk.
    Device d;
    long n = sweep(
        [&] {
            destroy_device(d);
            d = make_device();
        },
        [&](long n) {
            const uint32_t tracked = statistics(d).trackedCount;
            VkDeviceMemory m;
            alloc_.fail_at(n);
            VkResult r = allocate(d, alloc_.callbacks(), host_visible_, &m);
            const bool hit = alloc_.failed();
            alloc_.disarm();
            if (r != VK_SUCCESS) {
                EXPECT_TRUE(is_allocation_error(r)) << "N=" << n << ": " << string_VkResult(r);
                EXPECT_EQ(statistics(d).trackedCount, tracked) << "N=" << n;
                return hit;
            }
            EXPECT_EQ(statistics(d).trackedCount, tracked + 1) << "N=" << n << ": memory the app got is untracked";
            EXPECT_EQ(state(d, m).status, VK_ALLOCATION_STATUS_RESIDENT_KMT) << "N=" << n;
            vkFreeMemory(d.device, m, alloc_.callbacks());
            return hit;
        });
    destroy_device(d);
    report("vkAllocateMemory (first)", n);
}

TEST_F(FailureInjection, AllocateMemoryWhileTheHandleTableGrowsAtEveryN)
{
    // 128 live allocations fill the layer's 256-slot table to half: the
    // 129th makes it grow.
    Device d;
    std::vector<VkDeviceMemory> held;
    auto cleanup = [&] {
        for (VkDeviceMemory m : held)
            vkFreeMemory(d.device, m, alloc_.callbacks());
        held.clear();
        destroy_device(d);
    };
    long n = sweep(
        [&] {
            cleanup();
            d = make_device();
            for (int i = 0; i < 128; i++) {
                VkDeviceMemory m;
                ASSERT_EQ(allocate(d, alloc_.callbacks(), host_visible_, &m, 4096), VK_SUCCESS);
                held.push_back(m);
            }
        },
        [&](long n) {
            VkDeviceMemory m;
            alloc_.fail_at(n);
            VkResult r = allocate(d, alloc_.callbacks(), host_visible_, &m, 4096);
            const bool hit = alloc_.failed();
            alloc_.disarm();
            if (r != VK_SUCCESS) {
                EXPECT_TRUE(is_allocation_error(r)) << "N=" << n << ": " << string_VkResult(r);
                EXPECT_EQ(statistics(d).trackedCount, 128u) << "N=" << n;
                return hit;
            }
            EXPECT_EQ(statistics(d).trackedCount, 129u) << "N=" << n << ": memory the app got is untracked";
            held.push_back(m);
            return hit;
        });
    cleanup();
    report("vkAllocateMemory (table growth)", n);
}

TEST_F(FailureInjection, BindBufferMemoryIsAllOrNothingAtEveryN)
{
    // The first binding makes the layer's first resource record chunk. A
    // bind that fails must leave the buffer unbound: binding it again works
    // (no validation error) and the buffer is then tracked. (Found: the
    // layer used to bind underneath first and track afterwards.)
    Device d;
    VkDeviceMemory m = VK_NULL_HANDLE;
    VkBuffer buffer = VK_NULL_HANDLE;
    auto cleanup = [&] {
        if (buffer)
            vkDestroyBuffer(d.device, buffer, alloc_.callbacks());
        if (m)
            vkFreeMemory(d.device, m, alloc_.callbacks());
        buffer = VK_NULL_HANDLE;
        m = VK_NULL_HANDLE;
        destroy_device(d);
    };
    long n = sweep(
        [&] {
            cleanup();
            d = make_device();
            ASSERT_EQ(allocate(d, alloc_.callbacks(), host_visible_, &m), VK_SUCCESS);
            VkBufferCreateInfo info = {};
            info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
            info.size = 4096;
            info.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
            ASSERT_EQ(vkCreateBuffer(d.device, &info, alloc_.callbacks(), &buffer), VK_SUCCESS);
        },
        [&](long n) {
            stack_->clear_messages();
            alloc_.fail_at(n);
            VkResult r = vkBindBufferMemory(d.device, buffer, m, 0);
            const bool hit = alloc_.failed();
            alloc_.disarm();
            if (r != VK_SUCCESS) {
                EXPECT_TRUE(is_allocation_error(r)) << "N=" << n << ": " << string_VkResult(r);
                EXPECT_EQ(vkBindBufferMemory(d.device, buffer, m, 0), VK_SUCCESS) << "N=" << n;
                const auto errors = stack_->validation_errors();
                EXPECT_TRUE(errors.empty()) << "N=" << n << ": the failed bind had bound the buffer underneath:\n"
                                            << describe(errors);
                stack_->clear_messages();
            }
            const std::vector<VkOfferResourceKMT> resources = {buffer_resource(buffer)};
            VkOfferAllocationsInfoKMT info =
                offer_info(resources, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT);
            EXPECT_EQ(d.offer(d.device, &info), VK_SUCCESS) << "N=" << n << ": the bound buffer is not tracked";
            return hit;
        });
    cleanup();
    report("vkBindBufferMemory (first)", n);
}

TEST_F(FailureInjection, OfferIsAllOrNothingAtEveryN)
{
    // The first offer of a device makes the layer's per-call scratch. (Found:
    // its failure used to come back as VK_ERROR_VALIDATION_FAILED_EXT.)
    Device d;
    std::vector<VkDeviceMemory> ms;
    auto cleanup = [&] {
        for (VkDeviceMemory m : ms)
            vkFreeMemory(d.device, m, alloc_.callbacks());
        ms.clear();
        destroy_device(d);
    };
    long n = sweep(
        [&] {
            cleanup();
            d = make_device();
            for (int i = 0; i < 3; i++) {
                VkDeviceMemory m;
                ASSERT_EQ(allocate(d, alloc_.callbacks(), host_visible_, &m), VK_SUCCESS);
                ms.push_back(m);
            }
        },
        [&](long n) {
            const auto stats = statistics(d);
            const size_t before = alloc_.live();
            alloc_.fail_at(n);
            VkResult r = offer(d, ms, VK_OFFER_IMMEDIATELY_BIT_KMT);
            const bool hit = alloc_.failed();
            alloc_.disarm();
            if (r == VK_SUCCESS) {
                EXPECT_EQ(statuses(d, ms), std::vector<VkAllocationStatusKMT>(3, VK_ALLOCATION_STATUS_OFFERED_KMT));
                return hit;
            }
            EXPECT_EQ(r, VK_ERROR_OUT_OF_HOST_MEMORY) << "N=" << n << ": " << string_VkResult(r);
            EXPECT_EQ(statuses(d, ms), std::vector<VkAllocationStatusKMT>(3, VK_ALLOCATION_STATUS_RESIDENT_KMT))
                << "N=" << n << ": a failed offer changed states";
            EXPECT_EQ(statistics(d).offerCount, stats.offerCount) << "N=" << n;
            EXPECT_EQ(alloc_.live(), before) << "N=" << n << ": a failed offer leaked";
            return hit;
        });
    cleanup();
    report("vkOfferAllocationsKMT (first)", n);
}

TEST_F(FailureInjection, DeferredOfferStillWaitsForEarlierWorkAtEveryN)
{
    // An offer without IMMEDIATELY while the app's GPU work runs: whatever
    // allocation fails (the layer's, or the driver's when the layer submits
    // to follow that work), the offer fails as a whole or waits.
    // (Found: a marker batch that failed to submit used to count as the
    // earlier work done, and the offer took effect at once.)
    tolerate_failed_submit_bookkeeping();
    Device d;
    VkDeviceMemory m = VK_NULL_HANDLE;
    auto cleanup = [&] {
        if (m)
            vkFreeMemory(d.device, m, alloc_.callbacks());
        m = VK_NULL_HANDLE;
        destroy_device(d);
    };
    long n = sweep(
        [&] {
            cleanup();
            d = make_device();
            ASSERT_EQ(allocate(d, alloc_.callbacks(), host_visible_, &m), VK_SUCCESS);
            // The scratch exists already: this sweep is about what the offer submits.
            std::vector<VkReclaimResultKMT> results;
            ASSERT_EQ(reclaim(d, {m}, &results, nullptr), VK_SUCCESS);
        },
        [&](long n) {
            Gate gate(d);
            alloc_.fail_at(n);
            VkResult r = offer(d, {m}, 0);
            const bool hit = alloc_.failed();
            alloc_.disarm();
            const VkAllocationStatusKMT s = state(d, m).status;
            if (r == VK_SUCCESS) {
                EXPECT_EQ(s, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT)
                    << "N=" << n << ": the offer took effect while the GPU work before it still runs";
            } else {
                EXPECT_TRUE(is_allocation_error(r)) << "N=" << n << ": " << string_VkResult(r);
                EXPECT_EQ(s, VK_ALLOCATION_STATUS_RESIDENT_KMT) << "N=" << n << ": a failed offer changed state";
            }
            gate.open();
            std::vector<VkReclaimResultKMT> results;
            EXPECT_EQ(reclaim(d, {m}, &results, nullptr), VK_SUCCESS);
            return hit;
        });
    cleanup();
    report("vkOfferAllocationsKMT (deferred)", n);
}

TEST_F(FailureInjection, SubmitThenDeferredOfferAtEveryN)
{
    // The app's vkQueueSubmit failing at every N: a batch the driver refused
    // is not work an offer waits for; one it accepted is.
    tolerate_failed_submit_bookkeeping();
    Device d;
    VkDeviceMemory m = VK_NULL_HANDLE;
    std::vector<VkReclaimResultKMT> results;
    auto cleanup = [&] {
        if (m)
            vkFreeMemory(d.device, m, alloc_.callbacks());
        m = VK_NULL_HANDLE;
        destroy_device(d);
    };
    long n = sweep(
        [&] {
            cleanup();
            d = make_device();
            ASSERT_EQ(allocate(d, alloc_.callbacks(), host_visible_, &m), VK_SUCCESS);
            ASSERT_EQ(reclaim(d, {m}, &results, nullptr), VK_SUCCESS);  // the scratch exists
        },
        [&](long n) {
            VkSemaphoreTypeCreateInfo type = {VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO, nullptr,
                                              VK_SEMAPHORE_TYPE_TIMELINE, 0};
            VkSemaphoreCreateInfo info = {VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, &type, 0};
            VkSemaphore gate = VK_NULL_HANDLE;
            EXPECT_EQ(vkCreateSemaphore(d.device, &info, nullptr, &gate), VK_SUCCESS);
            uint64_t one = 1;
            VkTimelineSemaphoreSubmitInfo values = {};
            values.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
            values.waitSemaphoreValueCount = 1;
            values.pWaitSemaphoreValues = &one;
            VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
            VkSubmitInfo submit = {};
            submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
            submit.pNext = &values;
            submit.waitSemaphoreCount = 1;
            submit.pWaitSemaphores = &gate;
            submit.pWaitDstStageMask = &stage;
            alloc_.fail_at(n);
            VkResult r = vkQueueSubmit(d.queue, 1, &submit, VK_NULL_HANDLE);
            const bool hit = alloc_.failed();
            alloc_.disarm();
            EXPECT_TRUE(r == VK_SUCCESS || is_allocation_error(r)) << "N=" << n << ": " << string_VkResult(r);
            EXPECT_EQ(offer(d, {m}, 0), VK_SUCCESS) << "N=" << n;
            const VkAllocationStatusKMT st = state(d, m).status;
            if (r == VK_SUCCESS)
                EXPECT_EQ(st, VK_ALLOCATION_STATUS_OFFER_PENDING_KMT)
                    << "N=" << n << ": the offer took effect while the GPU work before it still runs";
            else
                EXPECT_NE(st, VK_ALLOCATION_STATUS_RESIDENT_KMT) << "N=" << n;
            VkSemaphoreSignalInfo signal = {VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO, nullptr, gate, 1};
            EXPECT_EQ(vkSignalSemaphore(d.device, &signal), VK_SUCCESS);
            EXPECT_EQ(vkQueueWaitIdle(d.queue), VK_SUCCESS);
            EXPECT_EQ(state(d, m).status, VK_ALLOCATION_STATUS_OFFERED_KMT) << "N=" << n;
            EXPECT_EQ(reclaim(d, {m}, &results, nullptr), VK_SUCCESS);
            vkDestroySemaphore(d.device, gate, nullptr);
            return hit;
        });
    cleanup();
    report("vkQueueSubmit, then a deferred offer", n);
}

TEST_F(FailureInjection, ReclaimIsAllOrNothingAtEveryN)
{
    // 100 memories offered 50 at a time, then reclaimed in one call: the
    // scratch grows inside the reclaim.
    Device d;
    std::vector<VkDeviceMemory> ms;
    auto cleanup = [&] {
        for (VkDeviceMemory m : ms)
            vkFreeMemory(d.device, m, alloc_.callbacks());
        ms.clear();
        destroy_device(d);
    };
    long n = sweep(
        [&] {
            cleanup();
            d = make_device();
            for (int i = 0; i < 100; i++) {
                VkDeviceMemory m;
                ASSERT_EQ(allocate(d, alloc_.callbacks(), host_visible_, &m, 4096), VK_SUCCESS);
                ms.push_back(m);
            }
            ASSERT_EQ(offer(d, std::vector<VkDeviceMemory>(ms.begin(), ms.begin() + 50), VK_OFFER_IMMEDIATELY_BIT_KMT),
                      VK_SUCCESS);
            ASSERT_EQ(offer(d, std::vector<VkDeviceMemory>(ms.begin() + 50, ms.end()), VK_OFFER_IMMEDIATELY_BIT_KMT),
                      VK_SUCCESS);
        },
        [&](long n) {
            const auto stats = statistics(d);
            const size_t before = alloc_.live();
            std::vector<VkReclaimResultKMT> results;
            uint64_t fence = 77;
            alloc_.fail_at(n);
            VkResult r = reclaim(d, ms, &results, &fence);
            const bool hit = alloc_.failed();
            alloc_.disarm();
            if (r == VK_SUCCESS) {
                EXPECT_EQ(statuses(d, ms), std::vector<VkAllocationStatusKMT>(100, VK_ALLOCATION_STATUS_RESIDENT_KMT));
                EXPECT_EQ(results, std::vector<VkReclaimResultKMT>(100, VK_RECLAIM_RESULT_OK_KMT));
                EXPECT_EQ(fence, 0u);
                return hit;
            }
            EXPECT_EQ(r, VK_ERROR_OUT_OF_HOST_MEMORY) << "N=" << n << ": " << string_VkResult(r);
            EXPECT_EQ(statuses(d, ms), std::vector<VkAllocationStatusKMT>(100, VK_ALLOCATION_STATUS_OFFERED_KMT))
                << "N=" << n << ": a failed reclaim changed states";
            EXPECT_EQ(results, std::vector<VkReclaimResultKMT>(100, VK_RECLAIM_RESULT_MAX_ENUM_KMT))
                << "N=" << n << ": a failed reclaim wrote results";
            EXPECT_EQ(fence, 77u) << "N=" << n << ": a failed reclaim wrote the fence";
            EXPECT_EQ(statistics(d).reclaimCount, stats.reclaimCount) << "N=" << n;
            EXPECT_EQ(alloc_.live(), before) << "N=" << n << ": a failed reclaim leaked";
            return hit;
        });
    cleanup();
    report("vkReclaimAllocationsKMT (scratch growth)", n);
}

TEST_F(FailureInjection, DiscardFillAndFreeAtEveryN)
{
    // DISCARD=always on device-local-only memory: the offer discards at once
    // and queues a GPU fill (command pool on first use, job record, buffer,
    // command buffer, submit). Whatever fails, a fence value reclaim reports
    // is one the paging semaphore reaches, freeing the memory (which waits
    // for the fill) leaves nothing behind, and -- DESIGN: "a discard the
    // layer reports is never a lie: with a fill, the bytes really are
    // replaced" -- memory reported DISCARDED was filled; where the fill
    // cannot be queued it stays OFFERED and reclaim reports OK. (Found: it
    // used to be reported DISCARDED with the old contents in place.)
    make_stack({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"},
                {"VK_KMT_OFFER_RECLAIM_DISCARD_FILL", "poison"},
                {"KMT_TEST_DRIVER_DEVICE_LOCAL_ONLY_TYPE", "1"}});
    tolerate_failed_submit_bookkeeping();
    const uint32_t device_only =
        stack_->memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    ASSERT_NE(device_only, UINT32_MAX) << "the test driver's device-local-only type is missing";
    Device d;
    VkSemaphore paging = VK_NULL_HANDLE;
    long fills = 0;
    long n = sweep(
        [&] {
            destroy_device(d);
            d = make_device();
            VkDeviceMemory m;  // the scratch exists; no fill has run yet
            ASSERT_EQ(allocate(d, alloc_.callbacks(), device_only, &m), VK_SUCCESS);
            std::vector<VkReclaimResultKMT> results;
            ASSERT_EQ(reclaim(d, {m}, &results, nullptr), VK_SUCCESS);
            vkFreeMemory(d.device, m, alloc_.callbacks());
            ASSERT_EQ(d.get_paging_fence(d.device, &paging), VK_SUCCESS);
        },
        [&](long n) {
            uint64_t paged = 0, paged_after = 0;
            EXPECT_EQ(vkGetSemaphoreCounterValue(d.device, paging, &paged), VK_SUCCESS);
            VkDeviceMemory m;
            EXPECT_EQ(allocate(d, alloc_.callbacks(), device_only, &m), VK_SUCCESS);
            alloc_.fail_at(n);
            VkResult r = offer(d, {m}, VK_OFFER_IMMEDIATELY_BIT_KMT);
            const bool hit = alloc_.failed();
            alloc_.disarm();
            // A fill that could not be queued (out of host memory) means no
            // discard: the memory stays OFFERED and reclaim truthfully says OK.
            const VkAllocationStatusKMT status = state(d, m).status;
            const bool filled = status == VK_ALLOCATION_STATUS_DISCARDED_KMT;
            if (r == VK_SUCCESS) {
                EXPECT_TRUE(filled || status == VK_ALLOCATION_STATUS_OFFERED_KMT) << "N=" << n << ": " << status;
                std::vector<VkReclaimResultKMT> results;
                uint64_t fence = 0;
                EXPECT_EQ(reclaim(d, {m}, &results, &fence), VK_SUCCESS);
                EXPECT_EQ(results[0], filled ? VK_RECLAIM_RESULT_DISCARDED_KMT : VK_RECLAIM_RESULT_OK_KMT)
                    << "N=" << n;
                if (fence) {
                    VkSemaphoreWaitInfo wait = {VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO, nullptr, 0, 1, &paging, &fence};
                    EXPECT_EQ(vkWaitSemaphores(d.device, &wait, 5'000'000'000ull), VK_SUCCESS)
                        << "N=" << n << ": the paging fence never reaches the value reclaim reported";
                }
            } else {
                EXPECT_EQ(r, VK_ERROR_OUT_OF_HOST_MEMORY) << "N=" << n << ": " << string_VkResult(r);
                EXPECT_EQ(state(d, m).status, VK_ALLOCATION_STATUS_RESIDENT_KMT) << "N=" << n;
            }
            const bool discarded = r == VK_SUCCESS && filled;
            vkFreeMemory(d.device, m, alloc_.callbacks());  // waits for a fill in flight
            vkDeviceWaitIdle(d.device);
            EXPECT_EQ(vkGetSemaphoreCounterValue(d.device, paging, &paged_after), VK_SUCCESS);
            fills += paged_after > paged;
            if (discarded) {
                EXPECT_GT(paged_after, paged) << "N=" << n << ": reported DISCARDED, never filled";
            }
            return hit;
        });
    EXPECT_GT(fills, 0) << "no GPU fill ran: the sweep tested nothing";
    destroy_device(d);
    report("discard fill (offer with DISCARD=always)", n);
}

}  // namespace
}  // namespace kmt

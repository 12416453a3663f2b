/* SPDX-License-Identifier: MIT */
// test_allocator.h -- VkAllocationCallbacks for the unit tests: counts live
// blocks (leak checks) and can be told to return NULL (out of host memory).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <set>

#include <vulkan/vulkan_core.h>

class TestAllocator {
  public:
    TestAllocator()
    {
        callbacks_.pUserData = this;
        callbacks_.pfnAllocation = &TestAllocator::Allocate;
        callbacks_.pfnReallocation = &TestAllocator::Reallocate;
        callbacks_.pfnFree = &TestAllocator::Free;
        callbacks_.pfnInternalAllocation = nullptr;
        callbacks_.pfnInternalFree = nullptr;
    }
    TestAllocator(const TestAllocator &) = delete;
    TestAllocator &operator=(const TestAllocator &) = delete;

    const VkAllocationCallbacks *callbacks() const { return &callbacks_; }

    // Every allocation from now on returns NULL until Succeed().
    void FailAll() { fail_after_ = 0; }
    // The next n allocations succeed, every later one fails.
    void FailAfter(long n) { fail_after_ = n; }
    void Succeed() { fail_after_ = -1; }

    size_t live() const { return live_.size(); }
    uint64_t allocations() const { return allocations_; }
    uint64_t failures() const { return failures_; }
    size_t last_alignment() const { return last_alignment_; }
    // The largest block asked for (a failed request counts too): a call must
    // never size an allocation from an untrusted count.
    size_t largest() const { return largest_; }
    uint64_t bad_frees() const { return bad_frees_; }

  private:
    static void *VKAPI_PTR Allocate(void *user, size_t size, size_t alignment, VkSystemAllocationScope)
    {
        auto *self = static_cast<TestAllocator *>(user);
        if (size > self->largest_)
            self->largest_ = size;
        if (self->fail_after_ == 0) {
            self->failures_++;
            return nullptr;
        }
        if (self->fail_after_ > 0)
            self->fail_after_--;
        void *p = nullptr;
        size_t align = alignment < sizeof(void *) ? sizeof(void *) : alignment;
        if (posix_memalign(&p, align, size ? size : 1) != 0)
            return nullptr;
        self->allocations_++;
        self->last_alignment_ = alignment;
        self->live_.insert(p);
        return p;
    }
    static void *VKAPI_PTR Reallocate(void *, void *, size_t, size_t, VkSystemAllocationScope)
    {
        return nullptr; // the core never reallocates
    }
    static void VKAPI_PTR Free(void *user, void *p)
    {
        auto *self = static_cast<TestAllocator *>(user);
        if (!p)
            return;
        if (self->live_.erase(p) == 0) {
            self->bad_frees_++; // not ours, or freed twice: never touch it
            return;
        }
        std::free(p);
    }

    VkAllocationCallbacks callbacks_{};
    long fail_after_ = -1;
    uint64_t allocations_ = 0, failures_ = 0, bad_frees_ = 0;
    size_t last_alignment_ = 0, largest_ = 0;
    std::set<void *> live_;
};

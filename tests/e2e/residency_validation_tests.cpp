// SPDX-License-Identifier: MIT
// VK_KMT_residency's bad input: VK_ERROR_VALIDATION_FAILED_EXT, one message
// naming the first offending element, and nothing changed (no count, status,
// priority or driver priority) -- for each rule, including evict underflow
// and offer/reclaim and residency calls mixed on one allocation.
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <string>

#include "residency_calls.hpp"

namespace kmt {
namespace {

std::string
hex(VkDeviceMemory m)
{
    char text[32];
    std::snprintf(text, sizeof(text), "0x%" PRIx64, reinterpret_cast<uint64_t>(m));
    return text;
}

struct ResidencySnapshot {
    std::vector<ResidencyState> states;
    uint32_t driver_records = 0;
    VkDeviceSize usage = 0;
    bool operator==(const ResidencySnapshot& o) const
    {
        if (states.size() != o.states.size() || driver_records != o.driver_records || usage != o.usage) return false;
        for (size_t i = 0; i < states.size(); i++)
            if (states[i].status != o.states[i].status || states[i].count != o.states[i].count ||
                states[i].priority != o.states[i].priority || states[i].driver_priority != o.states[i].driver_priority)
                return false;
        return true;
    }
};

class ResidencyValidation : public StackTest {
 protected:
    StackOptions options() const override { return residency_options({{"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "64"}}); }
    void SetUp() override
    {
        StackTest::SetUp();
        ASSERT_EQ(stack->result(), VK_SUCCESS) << stack->failed_step();
        a = stack->allocate(4096);
        b = stack->allocate(4096);
        c = stack->allocate(4096);
        // b starts evicted and c at count 2, so "nothing changed" covers every state.
        ASSERT_EQ(evict(*stack, {b}).result, VK_SUCCESS);
        ASSERT_EQ(make_resident(*stack, {c}).result, VK_SUCCESS);
        stack->clear_messages();
    }

    ResidencySnapshot snap()
    {
        ResidencySnapshot out;
        for (VkDeviceMemory m : {a, b, c}) out.states.push_back(residency_of(*stack, m));
        out.driver_records = stack->driver()->priority_record_count;
        out.usage = video_memory(*stack).currentUsage;
        return out;
    }

    void expect_rejected(const std::function<VkResult()>& call, const std::string& id,
                         const std::vector<std::string>& fragments)
    {
        ResidencySnapshot before = snap();
        stack->clear_messages();
        EXPECT_EQ(call(), VK_ERROR_VALIDATION_FAILED_EXT);
        auto messages = stack->messages_with_id("KMT-");
        ASSERT_EQ(messages.size(), 1u) << describe(stack->messages());
        EXPECT_EQ(messages[0].id, id) << messages[0].text;
        EXPECT_EQ(messages[0].severity, VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT);
        for (const std::string& fragment : fragments)
            EXPECT_NE(messages[0].text.find(fragment), std::string::npos)
                << "message \"" << messages[0].text << "\" should mention \"" << fragment << "\"";
        EXPECT_TRUE(snap() == before) << "a rejected call changed state";
    }

    VkResult make_resident_call(const std::vector<VkDeviceMemory>& memories, VkMakeResidentFlagsKMT flags = 0,
                                const std::vector<uint32_t>& priorities = {})
    {
        uint64_t fence = 7;
        VkDeviceSize trim = 7;
        VkMakeResidentInfoKMT info = {};
        info.sType = VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT;
        info.allocationCount = static_cast<uint32_t>(memories.size());
        info.pMemories = memories.empty() ? nullptr : memories.data();
        info.pPriorities = priorities.empty() ? nullptr : priorities.data();
        info.flags = flags;
        VkResult r = ResidencyApi(*stack).make_resident(stack->device, &info, &fence, &trim);
        EXPECT_EQ(fence, 7u) << "a rejected call wrote its outputs";
        EXPECT_EQ(trim, 7u);
        return r;
    }

    VkResult evict_call(const std::vector<VkDeviceMemory>& memories, VkEvictFlagsKMT flags = 0)
    {
        return evict(*stack, memories, flags).result;
    }

    VkDeviceMemory a = VK_NULL_HANDLE, b = VK_NULL_HANDLE, c = VK_NULL_HANDLE;
};

// ---- the info and its arrays ---------------------------------------------------------------

TEST_F(ResidencyValidation, NullInfoWrongSTypeAndZeroCountAreRejected)
{
    ResidencyApi api(*stack);
    expect_rejected([&] { return api.make_resident(stack->device, nullptr, nullptr, nullptr); }, "KMT-null-info",
                    {"vkMakeResidentKMT", "NULL"});
    expect_rejected([&] { return api.evict(stack->device, nullptr, nullptr); }, "KMT-null-info", {"vkEvictKMT"});
    VkEvictInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT;
    info.allocationCount = 1;
    info.pMemories = &a;
    expect_rejected([&] { return api.evict(stack->device, &info, nullptr); }, "KMT-wrong-stype", {"sType"});
    expect_rejected([&] { return make_resident_call({}); }, "KMT-count-zero", {"allocationCount is 0"});
}

TEST_F(ResidencyValidation, NullArraysAreRejected)
{
    VkMakeResidentInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_MAKE_RESIDENT_INFO_KMT;
    info.allocationCount = 2;
    ResidencyApi api(*stack);
    expect_rejected([&] { return api.make_resident(stack->device, &info, nullptr, nullptr); }, "KMT-null-array",
                    {"pMemories is NULL"});
    VkDeviceMemory both[] = {a, c};
    expect_rejected([&] { return api.set_priority(stack->device, 2, both, nullptr); }, "KMT-null-array",
                    {"vkSetResidencyPriorityKMT", "pPriorities is NULL"});
}

TEST_F(ResidencyValidation, UnknownFlagBitsAndMustSucceedWithoutCantTrimFurtherAreRejected)
{
    expect_rejected([&] { return make_resident_call({a}, 0x4); }, "KMT-residency-flags", {"0x4"});
    expect_rejected([&] { return evict_call({a}, 0x10); }, "KMT-residency-flags", {"0x10"});
    expect_rejected([&] { return make_resident_call({b}, VK_MAKE_RESIDENT_MUST_SUCCEED_BIT_KMT); },
                    "KMT-must-succeed-flags", {"CANT_TRIM_FURTHER"});
}

// ---- elements: all-or-nothing, the first offender named ------------------------------------------

TEST_F(ResidencyValidation, AnUnknownHandleAfterValidOnesChangesNothingAndIsNamed)
{
    VkDeviceMemory stale = stack->allocate(4096);
    stack->free_memory(stale);
    expect_rejected([&] { return make_resident_call({b, c, stale}, 0, {1, 2, 3}); }, "KMT-unknown-memory",
                    {"vkMakeResidentKMT", "pMemories[2]", hex(stale)});
    expect_rejected([&] { return evict_call({c, stale}); }, "KMT-unknown-memory", {"pMemories[1]", hex(stale)});
    expect_rejected([&] { return set_residency_priority(*stack, {a, stale}, {1, 2}); }, "KMT-unknown-memory",
                    {"pMemories[1]"});
}

TEST_F(ResidencyValidation, AHandleListedTwiceIsRejected)
{
    expect_rejected([&] { return make_resident_call({b, a, b}); }, "KMT-duplicate-handle", {"pMemories[2]", hex(b)});
    expect_rejected([&] { return evict_call({c, c}); }, "KMT-duplicate-handle", {"pMemories[1]"});
}

TEST_F(ResidencyValidation, EvictUnderflowIsAValidationErrorNamingTheElement)
{
    expect_rejected([&] { return evict_call({a, c, b}); }, "KMT-evict-underflow",
                    {"vkEvictKMT", "pMemories[2]", hex(b), "evict underflow"});
    // a at count 1 was not evicted by the rejected call: this one is fine.
    ASSERT_EQ(evict_call({a}), VK_SUCCESS);
    expect_rejected([&] { return evict_call({a}); }, "KMT-evict-underflow", {"pMemories[0]", hex(a)});
}

// ---- mixed use ---------------------------------------------------------------------------------------

TEST_F(ResidencyValidation, OfferedMemoryCannotBeMadeResidentEvictedOrPrioritisedUntilReclaimed)
{
    ASSERT_EQ(offer(*stack, {a}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    stack->clear_messages();
    expect_rejected([&] { return make_resident_call({c, a}); }, "KMT-residency-offered-memory",
                    {"vkMakeResidentKMT", "pMemories[1]", hex(a), "reclaim"});
    expect_rejected([&] { return evict_call({a}); }, "KMT-residency-offered-memory", {"vkEvictKMT", "pMemories[0]"});
    expect_rejected([&] { return set_residency_priority(*stack, {a}, {VK_RESIDENCY_PRIORITY_HIGH_KMT}); },
                    "KMT-residency-offered-memory", {"vkSetResidencyPriorityKMT"});
    Reclaimed r = reclaim(*stack, std::vector<VkDeviceMemory>{a});
    ASSERT_EQ(r.result, VK_SUCCESS);
    EXPECT_EQ(evict_call({a}), VK_SUCCESS) << "reclaimed: residency calls work again";
}

TEST_F(ResidencyValidation, EvictedMemoryCannotBeOfferedOrReclaimed)
{
    expect_rejected([&] { return offer(*stack, std::vector<VkDeviceMemory>{a, b}, VK_OFFER_PRIORITY_LOW_KMT); }, "KMT-offer-evicted-memory",
                    {"vkOfferAllocationsKMT", "pMemories[1]", hex(b), "vkMakeResidentKMT"});
    expect_rejected([&] { return reclaim(*stack, std::vector<VkDeviceMemory>{b}).result; },
                    "KMT-offer-evicted-memory", {"vkReclaimAllocationsKMT", "pMemories[0]"});
    // By resource too: a buffer bound to evicted memory.
    VkBuffer buffer = stack->create_buffer(1024);
    ASSERT_EQ(vkBindBufferMemory(stack->device, buffer, b, 0), VK_SUCCESS);
    stack->clear_messages();
    expect_rejected([&] { return offer(*stack, std::vector<VkOfferResourceKMT>{buffer_resource(buffer)}); },
                    "KMT-offer-evicted-memory", {"pResources[0]", hex(b)});
    ASSERT_EQ(make_resident(*stack, {b}).result, VK_SUCCESS);
    EXPECT_EQ(offer(*stack, {b}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS) << "resident again: offers work";
}

TEST(ResidencyMixedUse, DecommittedMemoryOnlyEverGetsFreed)
{
    VulkanStack s(residency_options({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkDeviceMemory m = s.allocate(4096);
    ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_LOW_KMT, VK_OFFER_IMMEDIATELY_BIT_KMT | VK_OFFER_ALLOW_DECOMMIT_BIT_KMT),
              VK_SUCCESS);
    ASSERT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_DECOMMITTED_KMT);
    s.clear_messages();
    EXPECT_EQ(make_resident(s, {m}).result, VK_ERROR_VALIDATION_FAILED_EXT);
    auto messages = s.messages_with_id("KMT-offer-decommitted-memory");
    ASSERT_EQ(messages.size(), 1u) << describe(s.messages());
    EXPECT_NE(messages[0].text.find("vkMakeResidentKMT"), std::string::npos);
    EXPECT_EQ(evict(s, {m}).result, VK_ERROR_VALIDATION_FAILED_EXT);
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_DECOMMITTED_KMT);
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
}

}  // namespace
}  // namespace kmt

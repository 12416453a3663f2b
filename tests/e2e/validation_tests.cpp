// SPDX-License-Identifier: MIT
// Bad input gets VK_ERROR_VALIDATION_FAILED_EXT, a message that names the
// first offending element, and changes nothing (DESIGN.md: "Validation is
// all-or-nothing"). Every case checks all three.
#include <functional>
#include <string>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

class Validation : public StackTest {
 protected:
    void SetUp() override
    {
        StackTest::SetUp();
        ASSERT_EQ(stack->result(), VK_SUCCESS);
        a = stack->allocate(4096);
        b = stack->allocate(4096);
        c = stack->allocate(4096);
        // b starts offered so that "nothing changed" covers an offered record too.
        ASSERT_EQ(offer(*stack, {b}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
        stack->clear_messages();
    }

    // Runs `call`, which must be rejected with message `id` containing `fragment`,
    // and checks that no allocation's state, priority or driver priority changed.
    void expect_rejected(const std::function<VkResult()>& call, const std::string& id, const std::string& fragment)
    {
        std::vector<VkDeviceMemory> all = {a, b, c};
        Snapshot before = snapshot(*stack, all);
        stack->clear_messages();
        EXPECT_EQ(call(), VK_ERROR_VALIDATION_FAILED_EXT);
        auto messages = stack->messages_with_id("KMT-");
        ASSERT_EQ(messages.size(), 1u) << describe(stack->messages());
        EXPECT_EQ(messages[0].id, id);
        EXPECT_EQ(messages[0].severity, VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT);
        EXPECT_NE(messages[0].text.find(fragment), std::string::npos)
            << "message \"" << messages[0].text << "\" should mention \"" << fragment << "\"";
        EXPECT_TRUE(snapshot(*stack, all) == before) << "a rejected call changed state";
    }

    VkResult offer_info_call(const VkOfferAllocationsInfoKMT& info) { return stack->offer(stack->device, &info); }

    VkResult reclaim_memories(const VkDeviceMemory* memories, const VkOfferResourceKMT* resources, uint32_t count)
    {
        std::vector<VkReclaimResultKMT> results(count ? count : 1, VK_RECLAIM_RESULT_MAX_ENUM_KMT);
        VkReclaimAllocationsInfoKMT info = {};
        info.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT;
        info.allocationCount = count;
        info.pMemories = memories;
        info.pResources = resources;
        info.pResults = results.data();
        uint64_t fence = 0;
        VkResult r = stack->reclaim(stack->device, &info, &fence);
        for (VkReclaimResultKMT result : results)
            EXPECT_EQ(result, VK_RECLAIM_RESULT_MAX_ENUM_KMT) << "a rejected reclaim wrote results";
        return r;
    }

    VkDeviceMemory a = VK_NULL_HANDLE, b = VK_NULL_HANDLE, c = VK_NULL_HANDLE;
};

// ---- vkOfferAllocationsKMT --------------------------------------------------------------

TEST_F(Validation, OfferWithANullInfoIsRejected)
{
    expect_rejected([&] { return stack->offer(stack->device, nullptr); }, "KMT-null-info", "NULL");
}

TEST_F(Validation, OfferWithTheWrongSTypeIsRejected)
{
    VkOfferAllocationsInfoKMT info = offer_info(std::vector<VkDeviceMemory>{a}, VK_OFFER_PRIORITY_LOW_KMT);
    info.sType = VK_STRUCTURE_TYPE_RECLAIM_ALLOCATIONS_INFO_KMT;
    expect_rejected([&] { return offer_info_call(info); }, "KMT-wrong-stype", "sType");
}

TEST_F(Validation, OfferOfZeroAllocationsIsRejected)
{
    VkOfferAllocationsInfoKMT info = offer_info(std::vector<VkDeviceMemory>{a}, VK_OFFER_PRIORITY_LOW_KMT);
    info.allocationCount = 0;
    expect_rejected([&] { return offer_info_call(info); }, "KMT-count-zero", "allocationCount is 0");
}

TEST_F(Validation, OfferWithBothArraysIsRejected)
{
    VkBuffer buffer;
    stack->create_bound_buffer(1024, &buffer);
    VkOfferResourceKMT res = buffer_resource(buffer);
    VkOfferAllocationsInfoKMT info = offer_info(std::vector<VkDeviceMemory>{a}, VK_OFFER_PRIORITY_LOW_KMT);
    info.pResources = &res;
    expect_rejected([&] { return offer_info_call(info); }, "KMT-handle-arrays", "both are set");
}

TEST_F(Validation, OfferWithNeitherArrayIsRejected)
{
    VkOfferAllocationsInfoKMT info = offer_info(std::vector<VkDeviceMemory>{a}, VK_OFFER_PRIORITY_LOW_KMT);
    info.pMemories = nullptr;
    expect_rejected([&] { return offer_info_call(info); }, "KMT-handle-arrays", "both are NULL");
}

TEST_F(Validation, OfferWithPriorityZeroIsRejected)
{
    VkOfferAllocationsInfoKMT info = offer_info(std::vector<VkDeviceMemory>{a}, (VkOfferPriorityKMT)0);
    expect_rejected([&] { return offer_info_call(info); }, "KMT-offer-priority", "priority 0");
}

TEST_F(Validation, OfferWithPriorityFiveIsRejected)
{
    VkOfferAllocationsInfoKMT info = offer_info(std::vector<VkDeviceMemory>{a}, (VkOfferPriorityKMT)5);
    expect_rejected([&] { return offer_info_call(info); }, "KMT-offer-priority", "priority 5");
}

TEST_F(Validation, OfferWithUnknownFlagBitsIsRejected)
{
    VkOfferAllocationsInfoKMT info = offer_info(std::vector<VkDeviceMemory>{a}, VK_OFFER_PRIORITY_LOW_KMT, 0x5);
    expect_rejected([&] { return offer_info_call(info); }, "KMT-offer-flags", "0x4");
}

TEST_F(Validation, OfferOfAnUnknownHandleIsRejected)
{
    std::vector<VkDeviceMemory> list = {a, reinterpret_cast<VkDeviceMemory>(uint64_t{0xdead0000})};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-unknown-memory", "pMemories[1]");
}

TEST_F(Validation, OfferOfFreedMemoryIsRejected)
{
    VkDeviceMemory freed = stack->allocate(4096);
    stack->free_memory(freed);
    std::vector<VkDeviceMemory> list = {a, c, freed};
    // The driver may hand the same handle out again; a fresh allocation must not be it.
    expect_rejected([&] { return offer(*stack, list); }, "KMT-unknown-memory", "pMemories[2]");
}

TEST_F(Validation, OfferOfAnotherDevicesMemoryIsRejected)
{
    VulkanStack other;
    ASSERT_EQ(other.result(), VK_SUCCESS);
    VkDeviceMemory foreign = other.allocate(4096);
    std::vector<VkDeviceMemory> list = {foreign};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-unknown-memory", "pMemories[0]");
    EXPECT_EQ(status_of(other, foreign), VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

TEST_F(Validation, OfferListingAMemoryTwiceIsRejected)
{
    std::vector<VkDeviceMemory> list = {a, c, a};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-duplicate-handle", "pMemories[2]");
}

TEST_F(Validation, OfferListingAResourceTwiceIsRejected)
{
    VkBuffer buffer;
    stack->create_bound_buffer(1024, &buffer);
    std::vector<VkOfferResourceKMT> list = {buffer_resource(buffer), buffer_resource(buffer)};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-duplicate-handle", "pResources[1]");
}

TEST_F(Validation, OfferOfMappedMemoryIsRejected)
{
    void* data;
    ASSERT_EQ(vkMapMemory(stack->device, c, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    std::vector<VkDeviceMemory> list = {a, c};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-offer-mapped-memory", "pMemories[1]");
    vkUnmapMemory(stack->device, c);
}

TEST_F(Validation, OfferOfAResourceWithTheWrongObjectTypeIsRejected)
{
    VkBuffer buffer;
    stack->create_bound_buffer(1024, &buffer);
    std::vector<VkOfferResourceKMT> list = {{VK_OBJECT_TYPE_DEVICE_MEMORY, reinterpret_cast<uint64_t>(a)}};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-resource-type", "pResources[0].objectType");
}

TEST_F(Validation, OfferOfABufferCalledAnImageIsRejected)
{
    VkBuffer buffer;
    stack->create_bound_buffer(1024, &buffer);
    std::vector<VkOfferResourceKMT> list = {{VK_OBJECT_TYPE_IMAGE, reinterpret_cast<uint64_t>(buffer)}};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-unknown-resource", "pResources[0]");
}

TEST_F(Validation, OfferOfABufferWithoutMemoryIsRejected)
{
    VkBuffer unbound = stack->create_buffer(1024);
    std::vector<VkOfferResourceKMT> list = {buffer_resource(unbound)};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-unknown-resource", "pResources[0]");
}

TEST_F(Validation, OfferOfABufferWhoseMemoryWasFreedIsRejected)
{
    VkBuffer buffer;
    VkDeviceMemory m = stack->create_bound_buffer(1024, &buffer);
    stack->free_memory(m);
    std::vector<VkOfferResourceKMT> list = {buffer_resource(buffer)};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-resource-memory-freed", "was freed");
}

TEST_F(Validation, OfferOfOneOfTwoResourcesSharingMemoryIsRejected)
{
    VkDeviceMemory m = stack->allocate(1 << 16);
    VkBuffer x = stack->create_buffer(1024), y = stack->create_buffer(1024);
    ASSERT_EQ(vkBindBufferMemory(stack->device, x, m, 0), VK_SUCCESS);
    ASSERT_EQ(vkBindBufferMemory(stack->device, y, m, 4096), VK_SUCCESS);
    std::vector<VkOfferResourceKMT> list = {buffer_resource(x)};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-offer-shared-memory", "pResources[0]");
    EXPECT_EQ(status_of(*stack, m), VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

TEST_F(Validation, AnOfferWithOneBadElementChangesNoneOfTheGoodOnes)
{
    std::vector<VkDeviceMemory> list = {a, c, b, reinterpret_cast<VkDeviceMemory>(uint64_t{0xbad0000})};
    expect_rejected([&] { return offer(*stack, list, VK_OFFER_PRIORITY_HIGH_KMT); }, "KMT-unknown-memory",
                    "pMemories[3]");
    EXPECT_EQ(status_of(*stack, a), VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(state_of(*stack, b).offerPriority, VK_OFFER_PRIORITY_LOW_KMT) << "no re-prioritisation either";
}

TEST_F(Validation, TheMessageNamesTheFirstOffendingElement)
{
    void* data;
    ASSERT_EQ(vkMapMemory(stack->device, c, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    std::vector<VkDeviceMemory> list = {a, c, reinterpret_cast<VkDeviceMemory>(uint64_t{0xbad0000}), a};
    expect_rejected([&] { return offer(*stack, list); }, "KMT-offer-mapped-memory", "pMemories[1]");
    vkUnmapMemory(stack->device, c);
}

// ---- vkReclaimAllocationsKMT ------------------------------------------------------------

TEST_F(Validation, ReclaimWithANullInfoIsRejected)
{
    uint64_t fence = 0;
    expect_rejected([&] { return stack->reclaim(stack->device, nullptr, &fence); }, "KMT-null-info", "NULL");
}

TEST_F(Validation, ReclaimWithTheWrongSTypeIsRejected)
{
    VkReclaimAllocationsInfoKMT info = {};
    info.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT;
    info.allocationCount = 1;
    info.pMemories = &b;
    expect_rejected([&] { return stack->reclaim(stack->device, &info, nullptr); }, "KMT-wrong-stype", "sType");
}

TEST_F(Validation, ReclaimOfZeroAllocationsIsRejected)
{
    expect_rejected([&] { return reclaim_memories(&b, nullptr, 0); }, "KMT-count-zero", "allocationCount is 0");
}

TEST_F(Validation, ReclaimWithBothArraysIsRejected)
{
    VkBuffer buffer;
    stack->create_bound_buffer(1024, &buffer);
    VkOfferResourceKMT res = buffer_resource(buffer);
    expect_rejected([&] { return reclaim_memories(&b, &res, 1); }, "KMT-handle-arrays", "both are set");
}

TEST_F(Validation, ReclaimWithNeitherArrayIsRejected)
{
    expect_rejected([&] { return reclaim_memories(nullptr, nullptr, 1); }, "KMT-handle-arrays", "both are NULL");
}

TEST_F(Validation, ReclaimOfAnUnknownHandleIsRejected)
{
    VkDeviceMemory list[] = {b, reinterpret_cast<VkDeviceMemory>(uint64_t{0xdead0000})};
    expect_rejected([&] { return reclaim_memories(list, nullptr, 2); }, "KMT-unknown-memory", "pMemories[1]");
    EXPECT_EQ(status_of(*stack, b), VK_ALLOCATION_STATUS_OFFERED_KMT);
}

TEST_F(Validation, ReclaimListingAMemoryTwiceIsRejected)
{
    VkDeviceMemory list[] = {b, b};
    expect_rejected([&] { return reclaim_memories(list, nullptr, 2); }, "KMT-duplicate-handle", "pMemories[1]");
}

TEST_F(Validation, ReclaimOfAnUnboundImageIsRejected)
{
    VkImage image = stack->create_image(8, 8);
    VkOfferResourceKMT list[] = {image_resource(image)};
    expect_rejected([&] { return reclaim_memories(nullptr, list, 1); }, "KMT-unknown-resource", "pResources[0]");
}

// ---- vkGetAllocationStateKMT and vkGetPagingFenceKMT ------------------------------------------

TEST_F(Validation, StateOfAnUnknownMemoryIsRejected)
{
    VkAllocationStateKMT st = {};
    st.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
    expect_rejected(
        [&] { return stack->get_state(stack->device, reinterpret_cast<VkDeviceMemory>(uint64_t{0x1230000}), &st); },
        "KMT-unknown-memory", "0x1230000");
}

TEST_F(Validation, StateWithTheWrongSTypeIsRejected)
{
    VkAllocationStateKMT st = {};
    st.sType = VK_STRUCTURE_TYPE_OFFER_ALLOCATIONS_INFO_KMT;
    expect_rejected([&] { return stack->get_state(stack->device, a, &st); }, "KMT-wrong-stype", "sType");
}

TEST_F(Validation, StateWithANullOutputIsRejected)
{
    expect_rejected([&] { return stack->get_state(stack->device, a, nullptr); }, "KMT-null-info", "NULL");
}

TEST_F(Validation, PagingFenceWithANullOutputIsRejected)
{
    expect_rejected([&] { return stack->get_paging_fence(stack->device, nullptr); }, "KMT-null-info", "NULL");
}

// ---- messages reach stderr without a messenger -----------------------------------------------

TEST(ValidationMessages, GoToStderrWithTheLayerNameWhenTheAppHasNoMessenger)
{
    StackOptions o;
    o.debug_utils = false;
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS);
    VkDeviceMemory m = s.allocate(4096);
    std::vector<VkDeviceMemory> list = {m, m};
    testing::internal::CaptureStderr();
    EXPECT_EQ(offer(s, list), VK_ERROR_VALIDATION_FAILED_EXT);
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("VK_LAYER_KMT_offer_reclaim"), std::string::npos) << err;
    EXPECT_NE(err.find("KMT-duplicate-handle"), std::string::npos) << err;
    EXPECT_NE(err.find("pMemories[1]"), std::string::npos) << err;
}

}  // namespace
}  // namespace kmt

// SPDX-License-Identifier: MIT
// The layer's own VkDeviceMemory handles (DESIGN.md, "Memory handles: the
// layer's own"): on a device that enabled VK_KMT_offer_reclaim the app holds
// the layer's handles and everything below the layer holds the driver's.
// Every command that carries a memory handle is translated before it goes
// down -- validation sits between the layer and the driver and fails any
// test where a handle the driver never made reaches it -- and a freed, stale
// or foreign handle gets a clear error and a message, never a crash and
// never a call down.
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

class Handles : public StackTest {
 protected:
    void SetUp() override
    {
        StackTest::SetUp();
        ASSERT_EQ(stack->result(), VK_SUCCESS);
    }

    // `call` must be refused with message `id`, naming `fragment`, and the
    // driver must see no new allocation, free or priority.
    void expect_refused(const std::function<VkResult()>& call, VkResult expected, const std::string& id,
                        const std::string& fragment)
    {
        kmt_test_driver_control* td = stack->driver();
        const uint32_t allocations = td->allocation_count, records = td->priority_record_count;
        stack->clear_messages();
        EXPECT_EQ(call(), expected);
        auto messages = stack->messages_with_id("KMT-");
        ASSERT_EQ(messages.size(), 1u) << describe(stack->messages());
        EXPECT_EQ(messages[0].id, id);
        EXPECT_EQ(messages[0].severity, VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT);
        EXPECT_NE(messages[0].text.find(fragment), std::string::npos) << messages[0].text;
        EXPECT_EQ(td->allocation_count, allocations);
        EXPECT_EQ(td->priority_record_count, records);
    }

    static uint64_t raw(VkDeviceMemory m) { return reinterpret_cast<uint64_t>(m); }
};

TEST_F(Handles, TheAppGetsTheLayersHandleAndTheDriverKeepsItsOwn)
{
    VkDeviceMemory a = stack->allocate(4096), b = stack->allocate(4096);
    ASSERT_TRUE(a && b);
    EXPECT_NE(raw(a), stack->driver_memory(a)) << "the app must not see the driver's handle";
    EXPECT_NE(raw(a), raw(b));
    EXPECT_NE(raw(a) & 0xffffffffu, 0u) << "slot index + 1 in the low half: never 0";
    EXPECT_EQ(status_of(*stack, a), VK_ALLOCATION_STATUS_RESIDENT_KMT);
    // Freeing reaches the driver with its own handle (validation would report
    // an unknown handle otherwise).
    const uint32_t live = stack->driver()->allocation_count;
    stack->free_memory(a);
    EXPECT_EQ(stack->driver()->allocation_count, live - 1);
}

TEST_F(Handles, AFreedHandleIsRefusedByEveryCommandAndNeverReachesTheDriver)
{
    VkDeviceMemory keep = stack->allocate(4096);
    VkDeviceMemory gone = stack->allocate(4096);
    stack->free_memory(gone);
    VkDeviceMemory fresh = stack->allocate(4096); // likely reuses the freed slot, with a new generation
    ASSERT_NE(raw(fresh), raw(gone)) << "a reused slot must give a different handle";
    const std::string name = "(0x" + [&] {
        char b[32];
        snprintf(b, sizeof(b), "%llx", (unsigned long long)raw(gone));
        return std::string(b);
    }() + ")";

    expect_refused([&] { return offer(*stack, {gone}); }, VK_ERROR_VALIDATION_FAILED_EXT, "KMT-unknown-memory",
                   "pMemories[0] " + name);
    expect_refused([&] { return reclaim(*stack, std::vector<VkDeviceMemory>{keep, gone}).result; },
                   VK_ERROR_VALIDATION_FAILED_EXT, "KMT-unknown-memory", "pMemories[1] " + name);
    expect_refused(
        [&] {
            VkAllocationStateKMT st = {};
            st.sType = VK_STRUCTURE_TYPE_ALLOCATION_STATE_KMT;
            return stack->get_state(stack->device, gone, &st);
        },
        VK_ERROR_VALIDATION_FAILED_EXT, "KMT-unknown-memory", name);
    expect_refused(
        [&] {
            void* p = nullptr;
            return vkMapMemory(stack->device, gone, 0, VK_WHOLE_SIZE, 0, &p);
        },
        VK_ERROR_MEMORY_MAP_FAILED, "KMT-unknown-memory", "vkMapMemory: memory " + name);
    expect_refused(
        [&] {
            vkUnmapMemory(stack->device, gone);
            return VK_SUCCESS;
        },
        VK_SUCCESS, "KMT-unknown-memory", "vkUnmapMemory");
    expect_refused(
        [&] {
            VkMappedMemoryRange ranges[2] = {};
            for (auto& r : ranges) {
                r.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
                r.size = VK_WHOLE_SIZE;
            }
            ranges[0].memory = keep;
            ranges[1].memory = gone;
            return vkFlushMappedMemoryRanges(stack->device, 2, ranges);
        },
        VK_ERROR_VALIDATION_FAILED_EXT, "KMT-unknown-memory", "pMemoryRanges[1].memory " + name);
    VkBuffer buffer = stack->create_buffer(4096);
    expect_refused([&] { return vkBindBufferMemory(stack->device, buffer, gone, 0); },
                   VK_ERROR_VALIDATION_FAILED_EXT, "KMT-unknown-memory", "element 0 binds memory " + name);
    expect_refused(
        [&] {
            VkBindBufferMemoryInfo info = {};
            info.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO;
            info.buffer = buffer;
            info.memory = gone;
            return vkBindBufferMemory2(stack->device, 1, &info);
        },
        VK_ERROR_VALIDATION_FAILED_EXT, "KMT-unknown-memory", "vkBindBufferMemory2");
    expect_refused(
        [&] {
            vkFreeMemory(stack->device, gone, nullptr); // a double free
            return VK_SUCCESS;
        },
        VK_SUCCESS, "KMT-unknown-memory", "vkFreeMemory");
    auto set_priority =
        reinterpret_cast<PFN_vkSetDeviceMemoryPriorityEXT>(stack->device_proc("vkSetDeviceMemoryPriorityEXT"));
    if (set_priority)
        expect_refused(
            [&] {
                set_priority(stack->device, gone, 0.25f);
                return VK_SUCCESS;
            },
            VK_SUCCESS, "KMT-unknown-memory", "vkSetDeviceMemoryPriorityEXT");
    expect_refused(
        [&] {
            VkDebugUtilsObjectNameInfoEXT info = {};
            info.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT;
            info.objectType = VK_OBJECT_TYPE_DEVICE_MEMORY;
            info.objectHandle = raw(gone);
            info.pObjectName = "gone";
            auto name_fn = reinterpret_cast<PFN_vkSetDebugUtilsObjectNameEXT>(
                stack->instance_proc("vkSetDebugUtilsObjectNameEXT"));
            return name_fn(stack->device, &info);
        },
        VK_ERROR_VALIDATION_FAILED_EXT, "KMT-unknown-memory", "vkSetDebugUtilsObjectNameEXT");
    // The live ones were never disturbed.
    EXPECT_EQ(status_of(*stack, keep), VK_ALLOCATION_STATUS_RESIDENT_KMT);
    EXPECT_EQ(status_of(*stack, fresh), VK_ALLOCATION_STATUS_RESIDENT_KMT);
}

TEST_F(Handles, HandlesThatWereNeverTheLayersAreRefused)
{
    VkDeviceMemory real = stack->allocate(4096);
    // The driver's own handle, a pointer-like value, a handle with the right
    // slot and the wrong generation, and a slot beyond the table.
    const uint64_t forged[] = {stack->driver_memory(real), 0x00005555deadbee0ull, raw(real) ^ (1ull << 40),
                               (raw(real) & ~0xffffffffull) | 0x7fffffffull};
    for (uint64_t h : forged) {
        VkDeviceMemory m = reinterpret_cast<VkDeviceMemory>(h);
        expect_refused([&] { return offer(*stack, {m}); }, VK_ERROR_VALIDATION_FAILED_EXT, "KMT-unknown-memory",
                       "is not a live VkDeviceMemory of this device");
    }
}

TEST(HandlesAcrossDevices, AnotherDevicesHandleIsRefused)
{
    VulkanStack first, second;
    ASSERT_EQ(first.result(), VK_SUCCESS);
    ASSERT_EQ(second.result(), VK_SUCCESS);
    VkDeviceMemory a = first.allocate(4096), b = second.allocate(4096);
    ASSERT_TRUE(a && b);
    // Both devices' first allocation sits in slot 0: only the per-device
    // generations tell them apart.
    EXPECT_EQ(reinterpret_cast<uint64_t>(a) & 0xffffffffu, reinterpret_cast<uint64_t>(b) & 0xffffffffu);
    EXPECT_NE(reinterpret_cast<uint64_t>(a), reinterpret_cast<uint64_t>(b));
    second.clear_messages();
    EXPECT_EQ(offer(second, {a}), VK_ERROR_VALIDATION_FAILED_EXT);
    EXPECT_EQ(second.messages_with_id("KMT-unknown-memory").size(), 1u) << describe(second.messages());
    EXPECT_EQ(offer(first, {a}), VK_SUCCESS);
    first.destroy();
    second.destroy();
    EXPECT_TRUE(first.validation_errors().empty()) << describe(first.validation_errors());
    EXPECT_TRUE(second.validation_errors().empty()) << describe(second.validation_errors());
}

// Every translated command an app can call on lavapipe, with live handles:
// the driver gets its own handles (validation below the layer checks each
// one) and the results are the driver's.
TEST_F(Handles, TranslatedCommandsWorkWithTheLayersHandles)
{
    VkDeviceMemory memory = stack->allocate(65536);
    void* data = nullptr;
    ASSERT_EQ(vkMapMemory(stack->device, memory, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    std::memset(data, 0x5a, 65536);
    VkMappedMemoryRange range = {};
    range.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
    range.memory = memory;
    range.size = VK_WHOLE_SIZE;
    EXPECT_EQ(vkFlushMappedMemoryRanges(stack->device, 1, &range), VK_SUCCESS);
    EXPECT_EQ(vkInvalidateMappedMemoryRanges(stack->device, 1, &range), VK_SUCCESS);
    vkUnmapMemory(stack->device, memory);
    EXPECT_EQ(offer(*stack, {memory}), VK_SUCCESS) << "unmapped: the layer saw the unmap";
    ASSERT_EQ(reclaim(*stack, std::vector<VkDeviceMemory>{memory}).result, VK_SUCCESS);

    VkBuffer a = stack->create_buffer(4096), b = stack->create_buffer(4096);
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(stack->device, a, &req);
    EXPECT_EQ(vkBindBufferMemory(stack->device, a, memory, 0), VK_SUCCESS);
    VkBindBufferMemoryInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO;
    info.buffer = b;
    info.memory = memory;
    info.memoryOffset = (4096 + req.alignment - 1) / req.alignment * req.alignment;
    EXPECT_EQ(vkBindBufferMemory2(stack->device, 1, &info), VK_SUCCESS);
    VkImage image = stack->create_image(16, 16);
    vkGetImageMemoryRequirements(stack->device, image, &req);
    VkDeviceMemory image_memory = stack->allocate(req.size);
    EXPECT_EQ(vkBindImageMemory(stack->device, image, image_memory, 0), VK_SUCCESS);
    // Resource offers find the memory behind each resource.
    EXPECT_EQ(offer(*stack, {buffer_resource(a), buffer_resource(b)}), VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, memory), VK_ALLOCATION_STATUS_OFFERED_KMT);
    EXPECT_EQ(offer(*stack, {image_resource(image)}), VK_SUCCESS);
    EXPECT_EQ(status_of(*stack, image_memory), VK_ALLOCATION_STATUS_OFFERED_KMT);
    ASSERT_EQ(reclaim(*stack, std::vector<VkDeviceMemory>{memory, image_memory}).result, VK_SUCCESS);

    VkDeviceSize committed = 1;
    (void)committed; // vkGetDeviceMemoryCommitment needs a lazily allocated type: lavapipe has none

    // Object names and tags on memory reach validation with the driver's handle.
    auto name_fn =
        reinterpret_cast<PFN_vkSetDebugUtilsObjectNameEXT>(stack->instance_proc("vkSetDebugUtilsObjectNameEXT"));
    VkDebugUtilsObjectNameInfoEXT name = {};
    name.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT;
    name.objectType = VK_OBJECT_TYPE_DEVICE_MEMORY;
    name.objectHandle = raw(memory);
    name.pObjectName = "vertex pool";
    EXPECT_EQ(name_fn(stack->device, &name), VK_SUCCESS);
    auto tag_fn =
        reinterpret_cast<PFN_vkSetDebugUtilsObjectTagEXT>(stack->instance_proc("vkSetDebugUtilsObjectTagEXT"));
    const uint32_t tag_data = 42;
    VkDebugUtilsObjectTagInfoEXT tag = {};
    tag.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_TAG_INFO_EXT;
    tag.objectType = VK_OBJECT_TYPE_DEVICE_MEMORY;
    tag.objectHandle = raw(memory);
    tag.tagSize = sizeof(tag_data);
    tag.pTag = &tag_data;
    EXPECT_EQ(tag_fn(stack->device, &tag), VK_SUCCESS);

    EXPECT_TRUE(stack->messages_with_id("KMT-").empty()) << describe(stack->messages());
}

// Private data (Vulkan 1.3) on a memory object is stored on the driver's
// object and round-trips.
class HandlesPrivateData : public Handles {
 protected:
    StackOptions options() const override
    {
        static VkPhysicalDevicePrivateDataFeatures features = {
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRIVATE_DATA_FEATURES, nullptr, VK_TRUE};
        StackOptions o;
        o.device_pnext = &features;
        return o;
    }
};

TEST_F(HandlesPrivateData, PrivateDataOnMemoryRoundTrips)
{
    VkDeviceMemory memory = stack->allocate(4096);
    // Private data (Vulkan 1.3) on a memory object round-trips.
    VkPrivateDataSlotCreateInfo slot_info = {};
    slot_info.sType = VK_STRUCTURE_TYPE_PRIVATE_DATA_SLOT_CREATE_INFO;
    VkPrivateDataSlot slot;
    ASSERT_EQ(vkCreatePrivateDataSlot(stack->device, &slot_info, nullptr, &slot), VK_SUCCESS);
    EXPECT_EQ(vkSetPrivateData(stack->device, VK_OBJECT_TYPE_DEVICE_MEMORY, raw(memory), slot, 0x1234), VK_SUCCESS);
    uint64_t got = 0;
    vkGetPrivateData(stack->device, VK_OBJECT_TYPE_DEVICE_MEMORY, raw(memory), slot, &got);
    EXPECT_EQ(got, 0x1234u);
    stack->free_memory(memory);
    EXPECT_EQ(vkSetPrivateData(stack->device, VK_OBJECT_TYPE_DEVICE_MEMORY, raw(memory), slot, 1),
              VK_ERROR_VALIDATION_FAILED_EXT)
        << "a freed handle is refused";
    EXPECT_EQ(stack->messages_with_id("KMT-unknown-memory").size(), 1u) << describe(stack->messages());
    vkDestroyPrivateDataSlot(stack->device, slot, nullptr);
}

// VK_KHR_external_memory_fd: the export is made of the driver's memory.
class HandlesFd : public Handles {
 protected:
    StackOptions options() const override
    {
        StackOptions o;
        o.device_extensions = {VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME};
        return o;
    }
};

TEST_F(HandlesFd, AnFdIsExportedFromTheDriversMemory)
{
    VkExportMemoryAllocateInfo export_info = {};
    export_info.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO;
    export_info.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
    VkMemoryAllocateInfo info = {};
    info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    info.pNext = &export_info;
    info.allocationSize = 65536;
    info.memoryTypeIndex = stack->memory_type(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    VkDeviceMemory memory;
    ASSERT_EQ(vkAllocateMemory(stack->device, &info, nullptr, &memory), VK_SUCCESS);
    auto get_fd = reinterpret_cast<PFN_vkGetMemoryFdKHR>(stack->device_proc("vkGetMemoryFdKHR"));
    ASSERT_NE(get_fd, nullptr);
    VkMemoryGetFdInfoKHR fd_info = {};
    fd_info.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR;
    fd_info.memory = memory;
    fd_info.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
    int fd = -1;
    EXPECT_EQ(get_fd(stack->device, &fd_info, &fd), VK_SUCCESS);
    EXPECT_GE(fd, 0);
    if (fd >= 0)
        close(fd);
    vkFreeMemory(stack->device, memory, nullptr);
    fd_info.memory = memory; // freed now
    expect_refused([&] { return get_fd(stack->device, &fd_info, &fd); }, VK_ERROR_VALIDATION_FAILED_EXT,
                   "KMT-unknown-memory", "vkGetMemoryFdKHR: pGetFdInfo->memory");
}

// ---- extensions the layer cannot translate ---------------------------------------

class RefusedExtensions : public ::testing::Test {};

TEST_F(RefusedExtensions, AnExtensionUnknownToTheLayerIsRefusedOnlyBesideTheLayersOwn)
{
    StackOptions o;
    o.env = {{"KMT_TEST_DRIVER_OPAQUE_EXTENSION", "1"}};
    o.device_extensions = {"VK_KMT_test_opaque_extension"};
    {
        // Raised inside vkCreateDevice, where the loader holds its lock: it
        // reaches the app's messenger during the call, not at a later one.
        VulkanStack s(o);
        EXPECT_EQ(s.result(), VK_ERROR_EXTENSION_NOT_PRESENT);
        EXPECT_EQ(s.failed_step(), "vkCreateDevice");
        auto refused = s.messages_with_id("KMT-extension-refused");
        ASSERT_EQ(refused.size(), 1u) << describe(s.messages());
        EXPECT_EQ(refused[0].severity, VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT);
        EXPECT_NE(refused[0].text.find("VK_KMT_test_opaque_extension may carry VkDeviceMemory handles"),
                  std::string::npos)
            << refused[0].text;
    }
    // Without VK_KMT_offer_reclaim the same extension is the app's business.
    o.enable_extension = false;
    VulkanStack plain(o);
    EXPECT_EQ(plain.result(), VK_SUCCESS);
    plain.destroy();
    EXPECT_TRUE(plain.validation_errors().empty()) << describe(plain.validation_errors());
}

TEST_F(RefusedExtensions, ExtensionsKnownToCarryNoMemoryOrTranslatedAreAllowed)
{
    StackOptions o;
    o.device_extensions = {VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME, "VK_EXT_private_data",
                           "VK_KHR_buffer_device_address", "VK_KHR_push_descriptor"};
    VulkanStack s(o);
    EXPECT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
}

}  // namespace
}  // namespace kmt

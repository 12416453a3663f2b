// SPDX-License-Identifier: MIT
// What the layer says (DESIGN.md "Seeing what the layer did"): the startup
// line on every device (also pass-through ones), a verbose message per state
// change with its reason, the app's object names in pObjects and in the text,
// a stable non-zero messageIdNumber, LOG_FILE, STATS (tests/e2e/paging_tests).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "kmt_calls.hpp"

namespace kmt {
namespace {

StackOptions
with_env(std::vector<std::pair<std::string, std::string>> env, Stack stack = Stack::Full)
{
    StackOptions o;
    o.stack = stack;
    o.env = std::move(env);
    o.verbose_messages = true;  // state changes are VERBOSE messages
    return o;
}

// 32-bit FNV-1a of the ID: the documented messageIdNumber (log.h), the same
// in every build and process.
int32_t
fnv1a(const std::string& id)
{
    uint32_t h = 2166136261u;
    for (unsigned char c : id) h = (h ^ c) * 16777619u;
    return static_cast<int32_t>(h);
}

void
set_name(VulkanStack& s, VkObjectType type, uint64_t handle, const char* name)
{
    auto fn = reinterpret_cast<PFN_vkSetDebugUtilsObjectNameEXT>(s.instance_proc("vkSetDebugUtilsObjectNameEXT"));
    ASSERT_NE(fn, nullptr);
    VkDebugUtilsObjectNameInfoEXT info = vk_struct<VkDebugUtilsObjectNameInfoEXT>(
        VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT);
    info.objectType = type;
    info.objectHandle = handle;
    info.pObjectName = name;
    ASSERT_EQ(fn(s.device, &info), VK_SUCCESS);
}

uint64_t
handle_of(VkDeviceMemory m)
{
    return reinterpret_cast<uint64_t>(m);
}

std::string
read_file(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool
contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// ---- the startup line ----------------------------------------------------------------------

TEST(StartupLine, SaysWhatTheLayerFoundEverySettingAndEachHeapsBudgetAtCreation)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "info"},
                            {"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"},
                            {"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "48"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    // Delivered inside vkCreateDevice (straight to the app's messenger: the
    // loader holds its lock there), before any call of the device's.
    auto startup = s.messages_with_id("KMT-startup");
    ASSERT_EQ(startup.size(), 1u) << describe(s.messages());
    const std::string& t = startup[0].text;
    EXPECT_EQ(startup[0].severity, VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT);
    EXPECT_TRUE(contains(t, "VK_KMT_offer_reclaim enabled: pageable memory yes, memory priority yes, memory budget yes"))
        << t;
    EXPECT_TRUE(contains(t, "Device: \"")) << t;
    EXPECT_TRUE(contains(t, "heap 0: ")) << t;
    EXPECT_TRUE(contains(t, "budget 48.0 MiB (budget from BUDGET_MB)")) << t;
    for (const char* setting :
         {"discard=pressure (environment)", "discard_rate=500 (default)", "discard_seed=1 (default)",
          "discard_fill=poison (default)", "budget_mb=48 (environment)", "offered_priority=0.0 (default)",
          "log_level=info (environment)", "stats=0 (default)", "log_file=\"\" (default)", "trace=\"\" (default)",
          "trace_max_mb=64 (default)"})
        EXPECT_TRUE(contains(t, setting)) << setting << " missing: " << t;
    ASSERT_EQ(startup[0].objects.size(), 1u);
    EXPECT_EQ(startup[0].objects[0], reinterpret_cast<uint64_t>(s.device));
    EXPECT_EQ(startup[0].object_types[0], VK_OBJECT_TYPE_DEVICE);
}

TEST(StartupLine, APassThroughDeviceSaysTheLayerIsThere)
{
    StackOptions o = with_env({{"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "info"}});
    o.enable_extension = false;
    VulkanStack s(o);
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    auto startup = s.messages_with_id("KMT-startup");
    ASSERT_EQ(startup.size(), 1u) << describe(s.messages());
    EXPECT_TRUE(contains(startup[0].text, "pass-through: the app enabled neither VK_KMT_offer_reclaim nor VK_KMT_residency"))
        << startup[0].text;
    EXPECT_TRUE(contains(startup[0].text, "timeline semaphores yes")) << startup[0].text;
    EXPECT_TRUE(contains(startup[0].text, "discard=never (default)")) << startup[0].text;
    // Still a pure pass-through: no hook of ours in its dispatch.
    EXPECT_EQ(s.device_proc("vkOfferAllocationsKMT"), nullptr);
}

TEST(StartupLine, GoesToStderrForAnAppWithoutAMessenger)
{
    // vkcube and most games: no VK_EXT_debug_utils.
    testing::internal::CaptureStderr();
    {
        StackOptions o = with_env({{"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "info"}});
        o.enable_extension = false;
        o.debug_utils = false;
        VulkanStack s(o);
        ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    }
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(contains(err, "VK_LAYER_KMT_offer_reclaim info [KMT-startup]: pass-through")) << err;
}

TEST(StartupLine, IsNotSentAtTheDefaultLevel)
{
    VulkanStack s;
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    EXPECT_TRUE(s.messages_with_id("KMT-startup").empty()) << describe(s.messages());
}

// ---- message IDs ---------------------------------------------------------------------------

TEST(MessageIds, EveryLayerMessageHasTheStableNonZeroNumberOfItsId)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "verbose"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    VkDeviceMemory m = s.allocate(4096);
    ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
    EXPECT_EQ(offer(s, std::vector<VkDeviceMemory>{m, m}), VK_ERROR_VALIDATION_FAILED_EXT);
    reclaim(s, std::vector<VkDeviceMemory>{m});
    auto ours = s.messages_with_id("KMT-");
    ASSERT_GE(ours.size(), 4u) << describe(ours);
    for (const Message& msg : ours) {
        EXPECT_NE(msg.id_number, 0) << msg.id;
        EXPECT_EQ(msg.id_number, fnv1a(msg.id)) << msg.id;
    }
    EXPECT_NE(fnv1a("KMT-state-offered"), fnv1a("KMT-state-reclaimed"));
    s.clear_messages();
}

TEST(MessageIds, ARejectedPriorityNamesTheDeviceAsItsObject)
{
    VulkanStack s;
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    VkDeviceMemory m = s.allocate(4096);
    EXPECT_EQ(offer(s, {m}, static_cast<VkOfferPriorityKMT>(9)), VK_ERROR_VALIDATION_FAILED_EXT);
    auto errors = s.messages_with_id("KMT-offer-priority");
    ASSERT_EQ(errors.size(), 1u) << describe(s.messages());
    ASSERT_EQ(errors[0].objects.size(), 1u);
    EXPECT_EQ(errors[0].object_types[0], VK_OBJECT_TYPE_DEVICE);
    EXPECT_EQ(errors[0].objects[0], reinterpret_cast<uint64_t>(s.device));
    s.clear_messages();
}

// ---- object names ------------------------------------------------------------------------

TEST(ObjectNames, AnErrorAboutNamedMemoryCarriesTheNameInPObjectsAndInTheText)
{
    VulkanStack s;
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    VkDeviceMemory m = s.allocate(4096);
    set_name(s, VK_OBJECT_TYPE_DEVICE_MEMORY, handle_of(m), "albedo");
    void* data = nullptr;
    ASSERT_EQ(vkMapMemory(s.device, m, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    EXPECT_EQ(offer(s, {m}), VK_ERROR_VALIDATION_FAILED_EXT);
    vkUnmapMemory(s.device, m);
    auto errors = s.messages_with_id("KMT-offer-mapped-memory");
    ASSERT_EQ(errors.size(), 1u) << describe(s.messages());
    ASSERT_EQ(errors[0].objects.size(), 1u);
    EXPECT_EQ(errors[0].objects[0], handle_of(m));
    EXPECT_EQ(errors[0].object_names[0], "albedo");
    EXPECT_TRUE(contains(errors[0].text, "\"albedo\"")) << errors[0].text;
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
    s.clear_messages();
}

TEST(ObjectNames, ARenamedObjectGoesByItsNewNameAndAnEmptyNameRemovesIt)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "verbose"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    VkDeviceMemory m = s.allocate(4096);
    set_name(s, VK_OBJECT_TYPE_DEVICE_MEMORY, handle_of(m), "first");
    set_name(s, VK_OBJECT_TYPE_DEVICE_MEMORY, handle_of(m), "second");
    ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
    set_name(s, VK_OBJECT_TYPE_DEVICE_MEMORY, handle_of(m), "");
    reclaim(s, std::vector<VkDeviceMemory>{m});
    auto offered = s.messages_with_id("KMT-state-offered");
    auto reclaimed = s.messages_with_id("KMT-state-reclaimed");
    ASSERT_EQ(offered.size(), 1u) << describe(s.messages());
    ASSERT_EQ(reclaimed.size(), 1u) << describe(s.messages());
    EXPECT_EQ(offered[0].object_names[0], "second");
    EXPECT_TRUE(contains(offered[0].text, "\"second\"")) << offered[0].text;
    EXPECT_FALSE(contains(offered[0].text, "first")) << offered[0].text;
    EXPECT_EQ(reclaimed[0].object_names[0], "");
    EXPECT_FALSE(contains(reclaimed[0].text, "\"")) << reclaimed[0].text;
    s.clear_messages();
}

// ---- a message per state change ------------------------------------------------------------

TEST(VerboseMessages, EachStateChangeSaysWhyWithTheAppsNames)
{
    // Pressure with a 1 MiB budget: the LOW offer goes first, oldest first.
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "verbose"},
                            {"VK_KMT_OFFER_RECLAIM_DISCARD", "pressure"},
                            {"VK_KMT_OFFER_RECLAIM_BUDGET_MB", "1"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    const VkDeviceSize half = 512 * 1024;
    VkDeviceMemory low = s.allocate(half), high = s.allocate(half);
    set_name(s, VK_OBJECT_TYPE_DEVICE_MEMORY, handle_of(low), "shadow map");
    set_name(s, VK_OBJECT_TYPE_DEVICE_MEMORY, handle_of(high), "hud");
    ASSERT_EQ(offer(s, {low}, VK_OFFER_PRIORITY_LOW_KMT), VK_SUCCESS);
    ASSERT_EQ(offer(s, {high}, VK_OFFER_PRIORITY_HIGH_KMT), VK_SUCCESS);
    s.clear_messages();
    VkDeviceMemory more = s.allocate(half);  // 1.5 MiB > 1 MiB: one victim
    (void)more;
    auto discarded = s.messages_with_id("KMT-state-discarded");
    ASSERT_EQ(discarded.size(), 1u) << describe(s.messages());
    const Message& d = discarded[0];
    EXPECT_EQ(d.severity, VK_DEBUG_UTILS_MESSAGE_SEVERITY_VERBOSE_BIT_EXT);
    EXPECT_EQ(d.objects[0], handle_of(low));
    EXPECT_EQ(d.object_names[0], "shadow map");
    EXPECT_TRUE(contains(d.text, "\"shadow map\" (512.0 KiB, heap 0) discarded, OFFERED -> DISCARDED")) << d.text;
    EXPECT_TRUE(contains(d.text, "by the pressure policy (DISCARD=pressure); heap 0 usage 1.5 MiB, budget 1.0 MiB"))
        << d.text;
    EXPECT_TRUE(contains(d.text, "victim 1 of this relief in LOW -> NORMAL -> HIGH, oldest-offer-first order "
                                 "(offered at LOW)"))
        << d.text;
    // Host-visible memory: the poison fill ran on the CPU.
    auto fills = s.messages_with_id("KMT-fill");
    ASSERT_EQ(fills.size(), 1u) << describe(s.messages());
    EXPECT_TRUE(contains(fills[0].text, "\"shadow map\": 512.0 KiB filled with poison on the CPU")) << fills[0].text;

    Reclaimed r = reclaim(s, std::vector<VkDeviceMemory>{low, high});
    ASSERT_EQ(r.result, VK_SUCCESS);
    auto reclaimed = s.messages_with_id("KMT-state-reclaimed");
    ASSERT_EQ(reclaimed.size(), 2u) << describe(s.messages());
    EXPECT_EQ(reclaimed[0].object_names[0], "shadow map");
    EXPECT_TRUE(contains(reclaimed[0].text, "DISCARDED -> RESIDENT: result DISCARDED, paging fence value 0"))
        << reclaimed[0].text;
    EXPECT_EQ(reclaimed[1].object_names[0], "hud");
    EXPECT_TRUE(contains(reclaimed[1].text, "OFFERED -> RESIDENT: result OK")) << reclaimed[1].text;
    EXPECT_TRUE(s.validation_errors().empty()) << describe(s.validation_errors());
    s.clear_messages();
}

TEST(VerboseMessages, ADeferredOfferSaysWhatItWaitsForAndItsPromotion)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "verbose"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    VkDeviceMemory m = s.allocate(4096);
    QueueGate gate(s);  // GPU work that cannot finish before the offer
    ASSERT_EQ(offer(s, {m}, VK_OFFER_PRIORITY_NORMAL_KMT, 0), VK_SUCCESS);
    auto offered = s.messages_with_id("KMT-state-offered");
    ASSERT_EQ(offered.size(), 1u) << describe(s.messages());
    EXPECT_TRUE(contains(offered[0].text, "RESIDENT -> OFFER_PENDING at priority NORMAL, flags none; queued behind "
                                          "submission serial 1 "))
        << offered[0].text;
    gate.open();
    EXPECT_EQ(status_of(s, m), VK_ALLOCATION_STATUS_OFFERED_KMT);
    auto promoted = s.messages_with_id("KMT-state-promoted");
    ASSERT_EQ(promoted.size(), 1u) << describe(s.messages());
    EXPECT_TRUE(contains(promoted[0].text, "OFFER_PENDING -> OFFERED")) << promoted[0].text;
    EXPECT_TRUE(contains(promoted[0].text, "the GPU work submitted before the offer (serial 1) completed"))
        << promoted[0].text;
    s.clear_messages();
}

TEST(VerboseMessages, NoneAtTheDefaultLevel)
{
    VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_DISCARD", "always"}}));
    ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    VkDeviceMemory m = s.allocate(4096);
    ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
    reclaim(s, std::vector<VkDeviceMemory>{m});
    EXPECT_TRUE(s.messages_with_id("KMT-state").empty()) << describe(s.messages());
    EXPECT_TRUE(s.messages_with_id("KMT-fill").empty()) << describe(s.messages());
}

// ---- LOG_FILE ------------------------------------------------------------------------------

class LogFile : public testing::Test {
  protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/kmt_log_test.XXXXXX";
        int fd = mkstemp(tmpl);
        ASSERT_GE(fd, 0);
        close(fd);
        path = tmpl;
        std::remove(path.c_str());
    }
    void TearDown() override { std::remove(path.c_str()); }
    std::string path;
};

TEST_F(LogFile, GetsEveryMessageAlsoWhenAMessengerTakesThem)
{
    {
        VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "verbose"},
                                {"VK_KMT_OFFER_RECLAIM_LOG_FILE", path},
                                {"VK_KMT_OFFER_RECLAIM_STATS", "1"}}));
        ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
        VkDeviceMemory m = s.allocate(4096);
        set_name(s, VK_OBJECT_TYPE_DEVICE_MEMORY, handle_of(m), "albedo");
        ASSERT_EQ(offer(s, {m}), VK_SUCCESS);
        EXPECT_EQ(offer(s, std::vector<VkDeviceMemory>{m, m}), VK_ERROR_VALIDATION_FAILED_EXT);
        s.destroy();
        EXPECT_EQ(s.messages_with_id("KMT-state-offered").size(), 1u) << "the messenger still gets them";
        s.clear_messages();
    }
    const std::string log = read_file(path);
    EXPECT_TRUE(contains(log, "VK_LAYER_KMT_offer_reclaim info [KMT-startup]: VK_KMT_offer_reclaim enabled")) << log;
    EXPECT_TRUE(contains(log, "VK_LAYER_KMT_offer_reclaim verbose [KMT-state-offered]: memory 0x")) << log;
    EXPECT_TRUE(contains(log, "\"albedo\" (4.0 KiB, heap 0) offered")) << log;
    EXPECT_TRUE(contains(log, "VK_LAYER_KMT_offer_reclaim error [KMT-duplicate-handle]: ")) << log;
    EXPECT_TRUE(contains(log, "VK_LAYER_KMT_offer_reclaim info [KMT-stats]: offers 1")) << log;
}

TEST_F(LogFile, IsAppendedToByEachInstance)
{
    for (int i = 0; i < 2; ++i) {
        VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_LOG_LEVEL", "info"}, {"VK_KMT_OFFER_RECLAIM_LOG_FILE", path}}));
        ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
    }
    const std::string log = read_file(path);
    size_t first = log.find("[KMT-startup]");
    ASSERT_NE(first, std::string::npos) << log;
    EXPECT_NE(log.find("[KMT-startup]", first + 1), std::string::npos) << log;
}

TEST_F(LogFile, ThatCannotBeOpenedIsReportedAndNothingElseChanges)
{
    testing::internal::CaptureStderr();
    {
        VulkanStack s(with_env({{"VK_KMT_OFFER_RECLAIM_LOG_FILE", "/nonexistent-dir/kmt.log"}}));
        ASSERT_EQ(s.result(), VK_SUCCESS) << s.failed_step();
        VkDeviceMemory m = s.allocate(4096);
        EXPECT_EQ(offer(s, {m}), VK_SUCCESS);
    }
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(contains(err, "[KMT-log-file]: LOG_FILE \"/nonexistent-dir/kmt.log\" cannot be opened")) << err;
}

}  // namespace
}  // namespace kmt

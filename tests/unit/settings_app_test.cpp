// SPDX-License-Identifier: MIT
// Unit tests of layer/settings_app.[ch]: what an app passes in
// VkLayerSettingsCreateInfoEXT is kept as text for this layer only, every
// value type becomes the text the parser reads, problems are kept and
// reported, and the app's allocator is used and left clean.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "settings_app.h"
#include "settings_env_guard.hpp"
#include "test_allocator.h"

namespace {

struct Complaints {
    std::vector<std::pair<std::string, std::string>> list;
    static void Complain(void *ctx, const char *id, const char *message)
    {
        static_cast<Complaints *>(ctx)->list.emplace_back(id, message);
    }
    std::string All() const
    {
        std::string out;
        for (const auto &c : list)
            out += "  [" + c.first + "] " + c.second + "\n";
        return out;
    }
};

constexpr const char *kLayer = "VK_LAYER_KMT_offer_reclaim";

VkLayerSettingEXT Setting(const char *name, VkLayerSettingTypeEXT type, const void *values, uint32_t count = 1,
                          const char *layer = kLayer)
{
    VkLayerSettingEXT s{};
    s.pLayerName = layer;
    s.pSettingName = name;
    s.type = type;
    s.valueCount = count;
    s.pValues = values;
    return s;
}

VkLayerSettingsCreateInfoEXT Info(const std::vector<VkLayerSettingEXT> &settings, const void *next = nullptr)
{
    VkLayerSettingsCreateInfoEXT info{};
    info.sType = VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT;
    info.pNext = next;
    info.settingCount = static_cast<uint32_t>(settings.size());
    info.pSettings = settings.data();
    return info;
}

std::string Text(const kmt_app_settings &app, kmt_setting_id id)
{
    return app.texts.text[id] ? app.texts.text[id] : "<unset>";
}

TEST(AppSettings, TheStructTypeIsTheRegistrysValue)
{
    EXPECT_EQ(static_cast<int>(VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT), 1000496000);
    EXPECT_EQ(VK_LAYER_SETTING_TYPE_STRING_EXT, 7);
    EXPECT_EQ(sizeof(VkLayerSettingEXT), 2 * sizeof(void *) + 8 + sizeof(void *));
}

TEST(AppSettings, EveryValueTypeBecomesTheTextTheParserReads)
{
    const char *policy = "pressure";
    const VkBool32 yes = VK_TRUE;
    const int32_t rate = 250;
    const uint64_t seed = 18446744073709551615ull;
    const uint32_t budget = 64;
    const float priority = 0.25f;
    const double priority64 = 0.5;
    const int64_t negative = -3;
    const char *level = "info";
    std::vector<VkLayerSettingEXT> settings = {
        Setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &policy),
        Setting("STATS", VK_LAYER_SETTING_TYPE_BOOL32_EXT, &yes),
        Setting("Discard_Rate", VK_LAYER_SETTING_TYPE_INT32_EXT, &rate),
        Setting("discard_seed", VK_LAYER_SETTING_TYPE_UINT64_EXT, &seed),
        Setting("budget_mb", VK_LAYER_SETTING_TYPE_UINT32_EXT, &budget),
        Setting("offered_priority", VK_LAYER_SETTING_TYPE_FLOAT32_EXT, &priority),
        Setting("discard_fill", VK_LAYER_SETTING_TYPE_INT64_EXT, &negative),
        Setting("log_level", VK_LAYER_SETTING_TYPE_STRING_EXT, &level),
    };
    VkLayerSettingsCreateInfoEXT info = Info(settings);
    kmt_app_settings app;
    ASSERT_EQ(kmt_app_settings_init(&app, &info, nullptr), VK_SUCCESS);
    EXPECT_EQ(Text(app, KMT_SETTING_DISCARD), "pressure");
    EXPECT_EQ(Text(app, KMT_SETTING_STATS), "1");
    EXPECT_EQ(Text(app, KMT_SETTING_DISCARD_RATE), "250");
    EXPECT_EQ(Text(app, KMT_SETTING_DISCARD_SEED), "18446744073709551615");
    EXPECT_EQ(Text(app, KMT_SETTING_BUDGET_MB), "64");
    EXPECT_EQ(Text(app, KMT_SETTING_OFFERED_PRIORITY), "0.25");
    EXPECT_EQ(Text(app, KMT_SETTING_DISCARD_FILL), "-3") << "kept as given; the parser rejects it";
    EXPECT_EQ(Text(app, KMT_SETTING_LOG_LEVEL), "info");
    EXPECT_EQ(app.problem_count, 0u);
    kmt_app_settings_finish(&app);

    std::vector<VkLayerSettingEXT> more = {Setting("offered_priority", VK_LAYER_SETTING_TYPE_FLOAT64_EXT, &priority64)};
    info = Info(more);
    ASSERT_EQ(kmt_app_settings_init(&app, &info, nullptr), VK_SUCCESS);
    EXPECT_EQ(Text(app, KMT_SETTING_OFFERED_PRIORITY), "0.5");
    kmt_app_settings_finish(&app);
}

TEST(AppSettings, OnlyThisLayersEntriesOfEveryChainedStructAreKeptAndALaterOneWins)
{
    const char *always = "always", *random = "random", *never = "never";
    std::vector<VkLayerSettingEXT> first = {Setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &always),
                                            Setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &never,
                                                    1, "VK_LAYER_KHRONOS_validation"),
                                            Setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &never, 1,
                                                    "vk_layer_kmt_offer_reclaim"), // layer names are exact
                                            Setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &never, 1, nullptr)};
    std::vector<VkLayerSettingEXT> second = {Setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &random)};
    VkLayerSettingsCreateInfoEXT tail = Info(second);
    VkDebugUtilsMessengerCreateInfoEXT between{};
    between.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
    between.pNext = &tail;
    VkLayerSettingsCreateInfoEXT head = Info(first, &between);
    kmt_app_settings app;
    ASSERT_EQ(kmt_app_settings_init(&app, &head, nullptr), VK_SUCCESS);
    EXPECT_EQ(Text(app, KMT_SETTING_DISCARD), "random");
    EXPECT_EQ(app.problem_count, 0u);
    kmt_app_settings_finish(&app);

    ASSERT_EQ(kmt_app_settings_init(&app, nullptr, nullptr), VK_SUCCESS);
    for (int i = 0; i < KMT_SETTING_COUNT; i++)
        EXPECT_EQ(app.texts.text[i], nullptr);
    kmt_app_settings_finish(&app);
}

TEST(AppSettings, ProblemsAreKeptAndReportedWithTheirIds)
{
    const char *always = "always";
    const char *null_string = nullptr;
    const uint32_t two[] = {1, 2};
    std::vector<VkLayerSettingEXT> settings = {
        Setting("discrad", VK_LAYER_SETTING_TYPE_STRING_EXT, &always),
        Setting("discard_rate", VK_LAYER_SETTING_TYPE_UINT32_EXT, two, 2),
        Setting("stats", static_cast<VkLayerSettingTypeEXT>(99), two),
        Setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &null_string),
        Setting("budget_mb", VK_LAYER_SETTING_TYPE_UINT32_EXT, nullptr),
        Setting(nullptr, VK_LAYER_SETTING_TYPE_STRING_EXT, &always),
    };
    VkLayerSettingsCreateInfoEXT info = Info(settings);
    kmt_app_settings app;
    ASSERT_EQ(kmt_app_settings_init(&app, &info, nullptr), VK_SUCCESS);
    for (int i = 0; i < KMT_SETTING_COUNT; i++)
        EXPECT_EQ(app.texts.text[i], nullptr) << i;
    EXPECT_EQ(app.problem_count, 6u);
    Complaints c;
    kmt_app_settings_report(&app, &Complaints::Complain, &c);
    ASSERT_EQ(c.list.size(), KMT_APP_SETTINGS_MAX_PROBLEMS + 1u) << c.All();
    EXPECT_EQ(c.list[0].first, "KMT-unknown-setting");
    EXPECT_EQ(c.list[0].second, "VkLayerSettingEXT \"discrad\" of VK_LAYER_KMT_offer_reclaim is not a setting of this "
                                "layer and is ignored; the settings are " +
                                    kmt::SettingList(false) + ".");
    EXPECT_EQ(c.list[1].first, "KMT-bad-setting");
    EXPECT_EQ(c.list[1].second, "VkLayerSettingEXT discard_rate (type UINT32, valueCount 2) must have exactly one value "
                                "(valueCount 1, pValues set); using the default, 500.");
    EXPECT_EQ(c.list[2].second, "VkLayerSettingEXT stats (type unknown, valueCount 1) has an unknown "
                                "VkLayerSettingTypeEXT; using the default, 0.");
    EXPECT_EQ(c.list[3].second, "VkLayerSettingEXT discard (type STRING, valueCount 1) has a NULL string; using the "
                                "default, never.");
    EXPECT_EQ(c.list[4].second, "2 more problems in VkLayerSettingsCreateInfoEXT are not shown.");
    kmt_app_settings_report(&app, nullptr, nullptr); // no callback: nothing happens
    kmt_app_settings_finish(&app);
}

TEST(AppSettings, TheAppsAllocatorIsUsedAndEverythingFreed)
{
    const char *always = "always", *info_level = "info";
    const uint32_t seed = 5;
    std::vector<VkLayerSettingEXT> settings = {Setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &always),
                                               Setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &always),
                                               Setting("log_level", VK_LAYER_SETTING_TYPE_STRING_EXT, &info_level),
                                               Setting("discard_seed", VK_LAYER_SETTING_TYPE_UINT32_EXT, &seed),
                                               Setting("nope", VK_LAYER_SETTING_TYPE_UINT32_EXT, &seed)};
    VkLayerSettingsCreateInfoEXT info = Info(settings);
    TestAllocator allocator;
    kmt_app_settings app;
    ASSERT_EQ(kmt_app_settings_init(&app, &info, allocator.callbacks()), VK_SUCCESS);
    EXPECT_EQ(allocator.live(), 4u) << "three values and one problem";
    kmt_app_settings_finish(&app);
    EXPECT_EQ(allocator.live(), 0u);
    EXPECT_EQ(allocator.bad_frees(), 0u);

    // Out of host memory at every step: a clean failure, nothing left behind.
    for (long n = 0; n < 6; n++) { // five allocations (one is replaced by the later entry)
        allocator.FailAfter(n);
        const VkResult r = kmt_app_settings_init(&app, &info, allocator.callbacks());
        EXPECT_EQ(r, n < 5 ? VK_ERROR_OUT_OF_HOST_MEMORY : VK_SUCCESS) << n;
        if (r == VK_SUCCESS)
            kmt_app_settings_finish(&app);
        EXPECT_EQ(allocator.live(), 0u) << n;
    }
    allocator.Succeed();
}

TEST(AppSettings, TheAppsValuesTakeEffectBelowTheFileAndTheEnvironment)
{
    kmt::SettingsEnvGuard env;
    env.Set("DISCARD_FILL", "none");
    const char *always = "always", *zero = "zero";
    std::vector<VkLayerSettingEXT> settings = {Setting("discard", VK_LAYER_SETTING_TYPE_STRING_EXT, &always),
                                               Setting("discard_fill", VK_LAYER_SETTING_TYPE_STRING_EXT, &zero)};
    VkLayerSettingsCreateInfoEXT info = Info(settings);
    kmt_app_settings app;
    ASSERT_EQ(kmt_app_settings_init(&app, &info, nullptr), VK_SUCCESS);
    kmt_settings s;
    kmt_settings_resolve(&s, nullptr, &app.texts, nullptr, nullptr);
    EXPECT_EQ(s.discard, KMT_DISCARD_ALWAYS);
    EXPECT_EQ(s.source[KMT_SETTING_DISCARD], KMT_SOURCE_APP);
    EXPECT_EQ(s.discard_fill, KMT_FILL_NONE);
    EXPECT_EQ(s.source[KMT_SETTING_DISCARD_FILL], KMT_SOURCE_ENV);
    kmt_app_settings_finish(&app);
}

} // namespace

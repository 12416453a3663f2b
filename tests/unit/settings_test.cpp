// SPDX-License-Identifier: MIT
// Unit tests of layer/settings.[ch]: the parser, the precedence rules
// (environment > settings file > app > default), the messages, the
// description the startup line shows.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "settings.h"
#include "settings_env_guard.hpp"

namespace {

struct Complaints {
    std::vector<std::pair<std::string, std::string>> list; // (message ID, text)
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

kmt_settings Defaults()
{
    kmt_settings s;
    kmt_settings_defaults(&s);
    return s;
}

void ExpectSame(const kmt_settings &a, const kmt_settings &b)
{
    EXPECT_EQ(a.discard, b.discard);
    EXPECT_EQ(a.discard_rate, b.discard_rate);
    EXPECT_EQ(a.discard_seed, b.discard_seed);
    EXPECT_EQ(a.discard_fill, b.discard_fill);
    EXPECT_EQ(a.budget_mb, b.budget_mb);
    EXPECT_EQ(a.offered_priority, b.offered_priority);
    EXPECT_EQ(a.log_level, b.log_level);
    EXPECT_EQ(a.stats, b.stats);
    EXPECT_STREQ(a.log_file, b.log_file);
    EXPECT_STREQ(a.trace, b.trace);
    EXPECT_EQ(a.trace_max_mb, b.trace_max_mb);
    EXPECT_EQ(a.budget_poll_ms, b.budget_poll_ms);
}

// One source's texts, built by key.
struct Texts {
    kmt_setting_texts t{};
    std::vector<std::string> kept;
    explicit Texts(const char *origin = nullptr) { t.origin = origin; }
    Texts &Set(kmt_setting_id id, const char *text)
    {
        t.text[id] = text;
        return *this;
    }
};

class Settings : public ::testing::Test {
  protected:
    kmt::SettingsEnvGuard env_;
};

TEST_F(Settings, DefaultsMatchTheDocumentedTable)
{
    kmt_settings s = Defaults();
    EXPECT_EQ(s.discard, KMT_DISCARD_NEVER);
    EXPECT_EQ(s.discard_rate, 500u);
    EXPECT_EQ(s.discard_seed, 1u);
    EXPECT_EQ(s.discard_fill, KMT_FILL_POISON);
    EXPECT_EQ(s.budget_mb, 0u);
    EXPECT_EQ(s.offered_priority, 0.0f);
    EXPECT_EQ(s.log_level, KMT_LOG_WARNING);
    EXPECT_FALSE(s.stats);
    EXPECT_STREQ(s.log_file, "");
    EXPECT_STREQ(s.trace, "");
    EXPECT_EQ(s.trace_max_mb, 64u);
    EXPECT_EQ(s.budget_poll_ms, 500u);
}

TEST_F(Settings, EveryDefaultTextInTheListParses)
{
    kmt_settings s = Defaults();
#define KMT_CHECK_DEFAULT(NAME, field, kind, def, help) \
    EXPECT_TRUE(kmt_settings_parse(&s, #NAME, def)) << #NAME " default \"" def "\"";
    KMT_SETTINGS(KMT_CHECK_DEFAULT)
#undef KMT_CHECK_DEFAULT
    ExpectSame(s, Defaults());
}

TEST_F(Settings, DiscardPolicyParsesEveryNameCaseInsensitively)
{
    kmt_settings s = Defaults();
    const std::pair<const char *, kmt_discard_policy> cases[] = {
        {"never", KMT_DISCARD_NEVER},   {"always", KMT_DISCARD_ALWAYS},     {"random", KMT_DISCARD_RANDOM},
        {"pressure", KMT_DISCARD_PRESSURE}, {"ALWAYS", KMT_DISCARD_ALWAYS}, {"Pressure", KMT_DISCARD_PRESSURE}};
    for (const auto &c : cases) {
        EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD", c.first)) << c.first;
        EXPECT_EQ(s.discard, c.second) << c.first;
    }
    EXPECT_STREQ(kmt_discard_policy_name(KMT_DISCARD_PRESSURE), "pressure");
    EXPECT_STREQ(kmt_discard_policy_name(KMT_DISCARD_NEVER), "never");
    EXPECT_STREQ(kmt_discard_policy_name(static_cast<kmt_discard_policy>(9)), "?");
}

TEST_F(Settings, DiscardFillParsesEveryName)
{
    kmt_settings s = Defaults();
    EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD_FILL", "none"));
    EXPECT_EQ(s.discard_fill, KMT_FILL_NONE);
    EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD_FILL", "Zero"));
    EXPECT_EQ(s.discard_fill, KMT_FILL_ZERO);
    EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD_FILL", "poison"));
    EXPECT_EQ(s.discard_fill, KMT_FILL_POISON);
    EXPECT_STREQ(kmt_discard_fill_name(KMT_FILL_ZERO), "zero");
    EXPECT_STREQ(kmt_discard_fill_name(static_cast<kmt_discard_fill>(3)), "?");
}

TEST_F(Settings, IntegersParseUpToTheirLimits)
{
    kmt_settings s = Defaults();
    EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD_RATE", "0"));
    EXPECT_EQ(s.discard_rate, 0u);
    EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD_RATE", "1000"));
    EXPECT_EQ(s.discard_rate, 1000u);
    EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD_RATE", "250 ")) << "trailing blanks are fine";
    EXPECT_EQ(s.discard_rate, 250u);
    EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD_SEED", "18446744073709551615"));
    EXPECT_EQ(s.discard_seed, UINT64_MAX);
    EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD_SEED", "0x2a"));
    EXPECT_EQ(s.discard_seed, 42u);
    EXPECT_TRUE(kmt_settings_parse(&s, "BUDGET_MB", "4096"));
    EXPECT_EQ(s.budget_mb, 4096u);
    EXPECT_TRUE(kmt_settings_parse(&s, "BUDGET_MB", "17592186044415")); // UINT64_MAX >> 20
    EXPECT_EQ(s.budget_mb, UINT64_MAX >> 20);
}

TEST_F(Settings, OfferedPriorityParsesTheUnitInterval)
{
    kmt_settings s = Defaults();
    EXPECT_TRUE(kmt_settings_parse(&s, "OFFERED_PRIORITY", "0.25"));
    EXPECT_EQ(s.offered_priority, 0.25f);
    EXPECT_TRUE(kmt_settings_parse(&s, "OFFERED_PRIORITY", "1"));
    EXPECT_EQ(s.offered_priority, 1.0f);
    EXPECT_TRUE(kmt_settings_parse(&s, "OFFERED_PRIORITY", "0"));
    EXPECT_EQ(s.offered_priority, 0.0f);
}

TEST_F(Settings, LogLevelAndStatsParse)
{
    kmt_settings s = Defaults();
    const std::pair<const char *, kmt_log_level> levels[] = {{"none", KMT_LOG_NONE},
                                                            {"error", KMT_LOG_ERROR},
                                                            {"warning", KMT_LOG_WARNING},
                                                            {"info", KMT_LOG_INFO},
                                                            {"VERBOSE", KMT_LOG_VERBOSE}};
    for (const auto &l : levels) {
        EXPECT_TRUE(kmt_settings_parse(&s, "LOG_LEVEL", l.first)) << l.first;
        EXPECT_EQ(s.log_level, l.second) << l.first;
    }
    for (const char *yes : {"1", "true", "ON", "yes"}) {
        s.stats = false;
        EXPECT_TRUE(kmt_settings_parse(&s, "STATS", yes)) << yes;
        EXPECT_TRUE(s.stats) << yes;
    }
    for (const char *no : {"0", "false", "off", "No"}) {
        s.stats = true;
        EXPECT_TRUE(kmt_settings_parse(&s, "STATS", no)) << no;
        EXPECT_FALSE(s.stats) << no;
    }
}

TEST_F(Settings, InvalidValuesAreRejectedAndChangeNothing)
{
    const std::pair<const char *, const char *> bad[] = {
        {"DISCARD", "sometimes"},     {"DISCARD", ""},               {"DISCARD", "never "},
        {"DISCARD_RATE", "1001"},     {"DISCARD_RATE", "-1"},        {"DISCARD_RATE", "abc"},
        {"DISCARD_RATE", "5x"},       {"DISCARD_RATE", ""},          {"DISCARD_RATE", " 5"},
        {"DISCARD_RATE", "+5"},       {"DISCARD_SEED", "18446744073709551616"},
        {"DISCARD_SEED", "-3"},       {"DISCARD_FILL", "random"},    {"BUDGET_MB", "17592186044416"},
        {"BUDGET_MB", "1.5"},         {"OFFERED_PRIORITY", "1.5"},   {"OFFERED_PRIORITY", "-0.1"},
        {"OFFERED_PRIORITY", "nan"},  {"OFFERED_PRIORITY", "inf"},   {"OFFERED_PRIORITY", ""},
        {"OFFERED_PRIORITY", "0.5x"}, {"OFFERED_PRIORITY", "high"},  {"LOG_LEVEL", "debug"},
        {"LOG_LEVEL", "3"},           {"STATS", "2"},                {"STATS", "maybe"},
        {"STATS", ""},                {"NO_SUCH_SETTING", "1"},      {"discard", "always"},
    };
    for (const auto &b : bad) {
        kmt_settings s = Defaults();
        s.discard = KMT_DISCARD_RANDOM; // non-defaults, to see that nothing resets either
        s.discard_rate = 7;
        s.discard_seed = 9;
        s.offered_priority = 0.75f;
        s.stats = true;
        kmt_settings before = s;
        EXPECT_FALSE(kmt_settings_parse(&s, b.first, b.second)) << b.first << "=\"" << b.second << "\"";
        SCOPED_TRACE(std::string(b.first) + "=\"" + b.second + "\"");
        ExpectSame(s, before);
    }
}

// A rate written with a leading zero ("050" per mille) is read as octal by
// strtoull(..., 0): 050 -> 40, and "08"/"09" are rejected outright.
TEST_F(Settings, IntegersWithALeadingZeroAreDecimal)
{
    kmt_settings s = Defaults();
    EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD_RATE", "050"));
    EXPECT_EQ(s.discard_rate, 50u);
    EXPECT_TRUE(kmt_settings_parse(&s, "DISCARD_RATE", "08"));
    EXPECT_EQ(s.discard_rate, 8u);
}

// ---- the list ---------------------------------------------------------------------------

TEST_F(Settings, NamesAndKeysAreFoundInAnyCase)
{
    EXPECT_EQ(kmt_setting_find("DISCARD_RATE"), KMT_SETTING_DISCARD_RATE);
    EXPECT_EQ(kmt_setting_find("discard_rate"), KMT_SETTING_DISCARD_RATE);
    EXPECT_EQ(kmt_setting_find("Discard_Rate"), KMT_SETTING_DISCARD_RATE);
    EXPECT_EQ(kmt_setting_find("discard"), KMT_SETTING_DISCARD);
    EXPECT_EQ(kmt_setting_find("discard_"), KMT_SETTING_COUNT);
    EXPECT_EQ(kmt_setting_find(""), KMT_SETTING_COUNT);
    EXPECT_EQ(kmt_setting_find(nullptr), KMT_SETTING_COUNT);
    char key[32];
    kmt_setting_key(KMT_SETTING_OFFERED_PRIORITY, key, sizeof(key));
    EXPECT_STREQ(key, "offered_priority");
    kmt_setting_key(KMT_SETTING_OFFERED_PRIORITY, key, 5);
    EXPECT_STREQ(key, "offe") << "cut, never overrun";
    EXPECT_STREQ(kmt_setting_name(KMT_SETTING_STATS), "STATS");
    EXPECT_STREQ(kmt_setting_default(KMT_SETTING_DISCARD_FILL), "poison");
}

TEST_F(Settings, EveryKindSaysWhatItTakes)
{
    const std::pair<kmt_setting_id, const char *> cases[] = {
        {KMT_SETTING_DISCARD, "one of never, always, random, pressure"},
        {KMT_SETTING_DISCARD_RATE, "an integer from 0 to 1000"},
        {KMT_SETTING_DISCARD_SEED, "a non-negative integer (decimal, or hexadecimal with 0x)"},
        {KMT_SETTING_OFFERED_PRIORITY, "a number from 0.0 to 1.0"},
        {KMT_SETTING_LOG_LEVEL, "one of none, error, warning, info, verbose"},
        {KMT_SETTING_STATS, "0 or 1 (also false/true, off/on, no/yes)"},
    };
    for (const auto &c : cases) {
        char text[256];
        kmt_setting_expected(c.first, text, sizeof(text));
        EXPECT_STREQ(text, c.second) << kmt_setting_name(c.first);
    }
    char list[512];
    kmt_setting_list(false, list, sizeof(list));
    EXPECT_EQ(std::string(list), kmt::SettingList(false));
    EXPECT_EQ(kmt::SettingList(false).rfind("discard, discard_rate, discard_seed, discard_fill, budget_mb, ", 0), 0u);
    kmt_setting_list(true, list, 20);
    EXPECT_STREQ(list, "DISCARD, DISCARD_RA") << "cut, never overrun";
}

// ---- precedence ------------------------------------------------------------------------------

TEST_F(Settings, NothingSetGivesTheDefaultsFromTheDefaultSource)
{
    Complaints c;
    kmt_settings s;
    std::memset(&s, 0x5a, sizeof(s));
    kmt_settings_resolve(&s, nullptr, nullptr, &Complaints::Complain, &c);
    ExpectSame(s, Defaults());
    for (int i = 0; i < KMT_SETTING_COUNT; i++) {
        EXPECT_EQ(s.source[i], KMT_SOURCE_DEFAULT) << i;
        EXPECT_STREQ(s.shown[i], kmt_setting_default(static_cast<kmt_setting_id>(i)));
    }
    EXPECT_TRUE(c.list.empty()) << c.All();
}

TEST_F(Settings, BudgetPollMsTakesOneToSixtyThousandMilliseconds)
{
    kmt_settings s = Defaults();
    EXPECT_TRUE(kmt_settings_parse(&s, "BUDGET_POLL_MS", "1"));
    EXPECT_EQ(s.budget_poll_ms, 1u);
    EXPECT_TRUE(kmt_settings_parse(&s, "BUDGET_POLL_MS", "60000"));
    EXPECT_EQ(s.budget_poll_ms, 60000u);
    for (const char *bad : {"0", "60001", "-5", "fast", ""})
        EXPECT_FALSE(kmt_settings_parse(&s, "BUDGET_POLL_MS", bad)) << bad;
    EXPECT_EQ(s.budget_poll_ms, 60000u) << "a bad value changes nothing";
}

TEST_F(Settings, EverySettingIsReadFromTheEnvironment)
{
    env_.Set("DISCARD", "pressure");
    env_.Set("DISCARD_RATE", "125");
    env_.Set("DISCARD_SEED", "77");
    env_.Set("DISCARD_FILL", "zero");
    env_.Set("BUDGET_MB", "512");
    env_.Set("OFFERED_PRIORITY", "0.125");
    env_.Set("LOG_LEVEL", "verbose");
    env_.Set("STATS", "yes");
    env_.Set("LOG_FILE", "/tmp/kmt.log");
    env_.Set("TRACE", "/tmp/kmt trace.json");
    env_.Set("TRACE_MAX_MB", "8");
    env_.Set("BUDGET_POLL_MS", "25");
    Complaints c;
    kmt_settings s;
    kmt_settings_resolve(&s, nullptr, nullptr, &Complaints::Complain, &c);
    EXPECT_EQ(s.discard, KMT_DISCARD_PRESSURE);
    EXPECT_EQ(s.discard_rate, 125u);
    EXPECT_EQ(s.discard_seed, 77u);
    EXPECT_EQ(s.discard_fill, KMT_FILL_ZERO);
    EXPECT_EQ(s.budget_mb, 512u);
    EXPECT_EQ(s.offered_priority, 0.125f);
    EXPECT_EQ(s.log_level, KMT_LOG_VERBOSE);
    EXPECT_TRUE(s.stats);
    for (int i = 0; i < KMT_SETTING_COUNT; i++)
        EXPECT_EQ(s.source[i], KMT_SOURCE_ENV) << i;
    EXPECT_STREQ(s.log_file, "/tmp/kmt.log");
    EXPECT_STREQ(s.trace, "/tmp/kmt trace.json");
    EXPECT_EQ(s.trace_max_mb, 8u);
    EXPECT_EQ(s.budget_poll_ms, 25u);
    EXPECT_TRUE(c.list.empty()) << c.All();
}

TEST_F(Settings, EnvironmentBeatsFileBeatsAppBeatsDefault)
{
    env_.Set("DISCARD", "always");
    env_.Set("DISCARD_FILL", ""); // empty: unset, in every source
    Texts file("/etc/x/vk_layer_settings.txt"), app("VkLayerSettingsCreateInfoEXT");
    file.Set(KMT_SETTING_DISCARD, "random").Set(KMT_SETTING_DISCARD_RATE, "33").Set(KMT_SETTING_DISCARD_FILL, "");
    app.Set(KMT_SETTING_DISCARD, "pressure")
        .Set(KMT_SETTING_DISCARD_RATE, "44")
        .Set(KMT_SETTING_DISCARD_SEED, "7")
        .Set(KMT_SETTING_DISCARD_FILL, "zero");
    Complaints c;
    kmt_settings s;
    kmt_settings_resolve(&s, &file.t, &app.t, &Complaints::Complain, &c);
    EXPECT_EQ(s.discard, KMT_DISCARD_ALWAYS);
    EXPECT_EQ(s.source[KMT_SETTING_DISCARD], KMT_SOURCE_ENV);
    EXPECT_EQ(s.discard_rate, 33u);
    EXPECT_EQ(s.source[KMT_SETTING_DISCARD_RATE], KMT_SOURCE_FILE);
    EXPECT_EQ(s.discard_seed, 7u);
    EXPECT_EQ(s.source[KMT_SETTING_DISCARD_SEED], KMT_SOURCE_APP);
    EXPECT_EQ(s.discard_fill, KMT_FILL_ZERO);
    EXPECT_EQ(s.source[KMT_SETTING_DISCARD_FILL], KMT_SOURCE_APP);
    EXPECT_EQ(s.budget_mb, 0u);
    EXPECT_EQ(s.source[KMT_SETTING_BUDGET_MB], KMT_SOURCE_DEFAULT);
    EXPECT_TRUE(c.list.empty()) << c.All();
}

TEST_F(Settings, ABadValueNamesItsSourceTheValidValuesAndTheDefault)
{
    env_.Set("DISCARD_RATE", "lots");
    Texts file("/etc/x/vk_layer_settings.txt"), app("VkLayerSettingsCreateInfoEXT");
    file.Set(KMT_SETTING_DISCARD_RATE, "10"); // a bad higher source does not fall back to a lower one
    file.Set(KMT_SETTING_OFFERED_PRIORITY, "2.0");
    app.Set(KMT_SETTING_DISCARD, "sometimes");
    Complaints c;
    kmt_settings s;
    kmt_settings_resolve(&s, &file.t, &app.t, &Complaints::Complain, &c);
    ExpectSame(s, Defaults());
    for (int i = 0; i < KMT_SETTING_COUNT; i++)
        EXPECT_EQ(s.source[i], KMT_SOURCE_DEFAULT) << i;
    ASSERT_EQ(c.list.size(), 3u) << c.All();
    for (const auto &m : c.list)
        EXPECT_EQ(m.first, "KMT-bad-setting");
    EXPECT_EQ(c.list[0].second,
              "VkLayerSettingEXT discard=\"sometimes\" (in VkLayerSettingsCreateInfoEXT) is not a valid value: expected "
              "one of never, always, random, pressure; using the default, never.");
    EXPECT_EQ(c.list[1].second,
              "VK_KMT_OFFER_RECLAIM_DISCARD_RATE=\"lots\" is not a valid value: expected an integer from 0 to 1000; "
              "using the default, 500.");
    EXPECT_EQ(c.list[2].second,
              "kmt_offer_reclaim.offered_priority=\"2.0\" (in /etc/x/vk_layer_settings.txt) is not a valid value: "
              "expected a number from 0.0 to 1.0; using the default, 0.0.");
}

TEST_F(Settings, ResolvingWorksWithoutAComplaintCallback)
{
    env_.Set("DISCARD", "bogus");
    env_.Set("STATS", "1");
    env_.Set("NO_SUCH", "1");
    kmt_settings s;
    kmt_settings_resolve(&s, nullptr, nullptr, nullptr, nullptr);
    EXPECT_EQ(s.discard, KMT_DISCARD_NEVER);
    EXPECT_TRUE(s.stats);
}

// ---- unknown variables -------------------------------------------------------------------------

TEST_F(Settings, AnUnknownVariableWithThePrefixIsReportedAndChangesNothing)
{
    env_.Set("DISCARDS", "always");
    env_.Set("ENABLE", "1");  // the manifest's, not a setting
    env_.Set("DISABLE", "1"); // likewise
    Complaints c;
    kmt_settings s;
    kmt_settings_resolve(&s, nullptr, nullptr, &Complaints::Complain, &c);
    ExpectSame(s, Defaults());
    ASSERT_EQ(c.list.size(), 1u) << c.All();
    EXPECT_EQ(c.list[0].first, "KMT-unknown-setting");
    EXPECT_EQ(c.list[0].second, "VK_KMT_OFFER_RECLAIM_DISCARDS is not a setting of VK_LAYER_KMT_offer_reclaim and is "
                                "ignored; the settings are " +
                                    kmt::SettingList(true) + " (and ENABLE, DISABLE).");
}

TEST_F(Settings, AVariableInTheWrongCaseIsReportedWithTheNameItMeant)
{
    env_.SetRaw("vk_kmt_offer_reclaim_discard", "always");
    env_.SetRaw("VK_KMT_OFFER_RECLAIM_Discard_Rate", "7");
    Complaints c;
    kmt_settings s;
    kmt_settings_resolve(&s, nullptr, nullptr, &Complaints::Complain, &c);
    ExpectSame(s, Defaults()); // names are exact: neither is read
    ASSERT_EQ(c.list.size(), 2u) << c.All();
    std::string all = c.All();
    EXPECT_NE(all.find("vk_kmt_offer_reclaim_discard is ignored: environment variable names are upper case; did you "
                       "mean VK_KMT_OFFER_RECLAIM_DISCARD?"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("VK_KMT_OFFER_RECLAIM_Discard_Rate is ignored: environment variable names are upper case; did "
                       "you mean VK_KMT_OFFER_RECLAIM_DISCARD_RATE?"),
              std::string::npos)
        << all;
}

// ---- the startup line's list ---------------------------------------------------------------------

TEST_F(Settings, TheDescriptionListsEverySettingWithItsValueAndSource)
{
    env_.Set("DISCARD", "Always");
    env_.Set("LOG_LEVEL", "bogus"); // rejected: shown as the default
    Texts file("f"), app("a");
    file.Set(KMT_SETTING_DISCARD_RATE, "33");
    app.Set(KMT_SETTING_OFFERED_PRIORITY, "0.25");
    kmt_settings s;
    kmt_settings_resolve(&s, &file.t, &app.t, nullptr, nullptr);
    char text[1024];
    kmt_settings_describe(&s, text, sizeof(text));
    // Every setting in list order: the three set above with their sources,
    // LOG_LEVEL (rejected) and the rest at their defaults.
    std::string expected;
    for (int i = 0; i < KMT_SETTING_COUNT; i++) {
        const auto id = static_cast<kmt_setting_id>(i);
        char key[64];
        kmt_setting_key(id, key, sizeof(key));
        const std::string def = kmt_setting_default(id);
        std::string value = (def.empty() ? "\"\"" : def) + " (default)"; // an empty path is shown quoted
        if (id == KMT_SETTING_DISCARD)
            value = "Always (environment)";
        else if (id == KMT_SETTING_DISCARD_RATE)
            value = "33 (file)";
        else if (id == KMT_SETTING_OFFERED_PRIORITY)
            value = "0.25 (app)";
        expected += (i ? ", " : "") + std::string(key) + "=" + value;
    }
    EXPECT_EQ(std::string(text), expected);
    EXPECT_NE(expected.find("discard=Always (environment), discard_rate=33 (file), discard_seed=1 (default), "
                            "discard_fill=poison (default), budget_mb=0 (default), offered_priority=0.25 (app), "
                            "log_level=warning (default)"),
              std::string::npos);
    EXPECT_NE(expected.find("log_file=\"\" (default)"), std::string::npos) << expected;
    char small[16];
    kmt_settings_describe(&s, small, sizeof(small));
    EXPECT_STREQ(small, "discard=Always ") << "cut, never overrun";
}

TEST_F(Settings, ALongValueIsShownCut)
{
    const std::string seed = std::string(60, '0') + "42"; // decimal with leading zeros: 42
    env_.Set("DISCARD_SEED", seed.c_str());
    kmt_settings s;
    kmt_settings_resolve(&s, nullptr, nullptr, nullptr, nullptr);
    EXPECT_EQ(s.discard_seed, 42u);
    EXPECT_EQ(std::string(s.shown[KMT_SETTING_DISCARD_SEED]), std::string(KMT_SETTING_SHOWN_MAX - 4, '0') + "...");
}

TEST_F(Settings, EnvironmentIsRestoredAfterEachTest)
{
    // SettingsEnvGuard cleared everything this test can see.
    for (int i = 0; i < KMT_SETTING_COUNT; i++)
        EXPECT_EQ(getenv((std::string("VK_KMT_OFFER_RECLAIM_") + kmt_setting_name(static_cast<kmt_setting_id>(i))).c_str()),
                  nullptr);
    EXPECT_EQ(getenv("vk_kmt_offer_reclaim_discard"), nullptr);
}

} // namespace

namespace {

TEST(SettingsPaths, TraceAndLogFileTakeAnyPathThatFitsAndTraceMaxMbIsBounded)
{
    kmt_settings s;
    kmt_settings_defaults(&s);
    EXPECT_TRUE(kmt_settings_parse(&s, "TRACE", "/tmp/dir with spaces/t.json"));
    EXPECT_STREQ(s.trace, "/tmp/dir with spaces/t.json");
    EXPECT_TRUE(kmt_settings_parse(&s, "TRACE", ""));
    EXPECT_STREQ(s.trace, "") << "empty: no trace";
    std::string too_long(KMT_SETTINGS_PATH_MAX, 'x');
    EXPECT_FALSE(kmt_settings_parse(&s, "LOG_FILE", too_long.c_str()));
    EXPECT_STREQ(s.log_file, "") << "a rejected value leaves the setting alone";
    EXPECT_TRUE(kmt_settings_parse(&s, "TRACE_MAX_MB", "1"));
    EXPECT_TRUE(kmt_settings_parse(&s, "TRACE_MAX_MB", "4096"));
    EXPECT_EQ(s.trace_max_mb, 4096u);
    EXPECT_FALSE(kmt_settings_parse(&s, "TRACE_MAX_MB", "0"));
    EXPECT_FALSE(kmt_settings_parse(&s, "TRACE_MAX_MB", "4097"));
    EXPECT_FALSE(kmt_settings_parse(&s, "TRACE_MAX_MB", "lots"));
    EXPECT_EQ(s.trace_max_mb, 4096u);
}

}  // namespace

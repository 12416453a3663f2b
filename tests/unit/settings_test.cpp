// Unit tests of layer/settings.[ch].
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "settings.h"

namespace {

const char *const kNames[] = {"DISCARD",   "DISCARD_RATE",     "DISCARD_SEED", "DISCARD_FILL",
                              "BUDGET_MB", "OFFERED_PRIORITY", "LOG_LEVEL",    "STATS",
                              "BUDGET_POLL_MS"};

std::string EnvName(const char *name) { return std::string("VK_KMT_OFFER_RECLAIM_") + name; }

// Clears every VK_KMT_OFFER_RECLAIM_<SETTING> for the test and restores the
// values the process had afterwards.
class EnvGuard {
  public:
    EnvGuard()
    {
        for (const char *n : kNames) {
            const char *v = getenv(EnvName(n).c_str());
            saved_.emplace_back(EnvName(n), v ? std::optional<std::string>(v) : std::nullopt);
            unsetenv(EnvName(n).c_str());
        }
    }
    ~EnvGuard()
    {
        for (const auto &s : saved_) {
            if (s.second)
                setenv(s.first.c_str(), s.second->c_str(), 1);
            else
                unsetenv(s.first.c_str());
        }
    }
    void Set(const char *name, const char *value) { setenv(EnvName(name).c_str(), value, 1); }

  private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// The settings file, as seen through kmt_settings_load's lookup function
// (a plain function pointer, so the table is a global).
std::map<std::string, std::string> g_file;
std::vector<std::string> g_looked_up;
const char *FileLookup(const char *key)
{
    g_looked_up.push_back(key);
    auto it = g_file.find(key);
    return it == g_file.end() ? nullptr : it->second.c_str();
}

struct Complaints {
    std::vector<std::pair<std::string, std::string>> list;
    static void Complain(void *ctx, const char *name, const char *message)
    {
        static_cast<Complaints *>(ctx)->list.emplace_back(name, message);
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
    EXPECT_EQ(a.budget_poll_ms, b.budget_poll_ms);
}

class Settings : public ::testing::Test {
  protected:
    void SetUp() override
    {
        g_file.clear();
        g_looked_up.clear();
    }
    EnvGuard env_;
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

TEST_F(Settings, LoadWithNothingSetGivesTheDefaultsAndAsksTheFileForEveryKey)
{
    Complaints c;
    kmt_settings s;
    std::memset(&s, 0x5a, sizeof(s));
    kmt_settings_load(&s, FileLookup, &Complaints::Complain, &c);
    ExpectSame(s, Defaults());
    EXPECT_TRUE(c.list.empty());
    const std::vector<std::string> keys = {
        "kmt_offer_reclaim.discard",   "kmt_offer_reclaim.discard_rate",     "kmt_offer_reclaim.discard_seed",
        "kmt_offer_reclaim.discard_fill", "kmt_offer_reclaim.budget_mb",     "kmt_offer_reclaim.offered_priority",
        "kmt_offer_reclaim.log_level", "kmt_offer_reclaim.stats",         "kmt_offer_reclaim.budget_poll_ms"};
    EXPECT_EQ(g_looked_up, keys);
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

TEST_F(Settings, LoadWorksWithoutLookupOrComplaintCallback)
{
    env_.Set("DISCARD", "bogus");
    env_.Set("STATS", "1");
    kmt_settings s;
    kmt_settings_load(&s, nullptr, nullptr, nullptr);
    EXPECT_EQ(s.discard, KMT_DISCARD_NEVER);
    EXPECT_TRUE(s.stats);
}

TEST_F(Settings, LoadReadsEverySettingFromTheEnvironment)
{
    env_.Set("DISCARD", "pressure");
    env_.Set("DISCARD_RATE", "125");
    env_.Set("DISCARD_SEED", "77");
    env_.Set("DISCARD_FILL", "zero");
    env_.Set("BUDGET_MB", "512");
    env_.Set("OFFERED_PRIORITY", "0.125");
    env_.Set("LOG_LEVEL", "verbose");
    env_.Set("STATS", "yes");
    env_.Set("BUDGET_POLL_MS", "25");
    Complaints c;
    kmt_settings s;
    kmt_settings_load(&s, FileLookup, &Complaints::Complain, &c);
    EXPECT_EQ(s.discard, KMT_DISCARD_PRESSURE);
    EXPECT_EQ(s.discard_rate, 125u);
    EXPECT_EQ(s.discard_seed, 77u);
    EXPECT_EQ(s.discard_fill, KMT_FILL_ZERO);
    EXPECT_EQ(s.budget_mb, 512u);
    EXPECT_EQ(s.offered_priority, 0.125f);
    EXPECT_EQ(s.log_level, KMT_LOG_VERBOSE);
    EXPECT_TRUE(s.stats);
    EXPECT_EQ(s.budget_poll_ms, 25u);
    EXPECT_TRUE(c.list.empty());
    EXPECT_TRUE(g_looked_up.empty()) << "the file is not consulted for what the environment set";
}

TEST_F(Settings, LoadReadsTheSettingsFileWhenTheEnvironmentIsSilent)
{
    g_file["kmt_offer_reclaim.discard"] = "random";
    g_file["kmt_offer_reclaim.discard_rate"] = "10";
    g_file["kmt_offer_reclaim.stats"] = "on";
    g_file["kmt_offer_reclaim.log_level"] = ""; // empty: absent
    Complaints c;
    kmt_settings s;
    kmt_settings_load(&s, FileLookup, &Complaints::Complain, &c);
    EXPECT_EQ(s.discard, KMT_DISCARD_RANDOM);
    EXPECT_EQ(s.discard_rate, 10u);
    EXPECT_TRUE(s.stats);
    EXPECT_EQ(s.log_level, KMT_LOG_WARNING);
    EXPECT_TRUE(c.list.empty());
}

TEST_F(Settings, EnvironmentBeatsTheSettingsFile)
{
    env_.Set("DISCARD", "always");
    env_.Set("DISCARD_RATE", ""); // empty: falls through to the file
    g_file["kmt_offer_reclaim.discard"] = "random";
    g_file["kmt_offer_reclaim.discard_rate"] = "33";
    Complaints c;
    kmt_settings s;
    kmt_settings_load(&s, FileLookup, &Complaints::Complain, &c);
    EXPECT_EQ(s.discard, KMT_DISCARD_ALWAYS);
    EXPECT_EQ(s.discard_rate, 33u);
    EXPECT_TRUE(c.list.empty());
}

TEST_F(Settings, BadValueIsReportedByNameAndTheDefaultKept)
{
    env_.Set("DISCARD_RATE", "lots");
    g_file["kmt_offer_reclaim.discard_rate"] = "10"; // a bad env value does not fall back to the file
    g_file["kmt_offer_reclaim.offered_priority"] = "2.0";
    Complaints c;
    kmt_settings s;
    kmt_settings_load(&s, FileLookup, &Complaints::Complain, &c);
    EXPECT_EQ(s.discard_rate, 500u);
    EXPECT_EQ(s.offered_priority, 0.0f);
    ASSERT_EQ(c.list.size(), 2u);
    EXPECT_EQ(c.list[0].first, "DISCARD_RATE");
    EXPECT_NE(c.list[0].second.find("VK_KMT_OFFER_RECLAIM_DISCARD_RATE"), std::string::npos) << c.list[0].second;
    EXPECT_NE(c.list[0].second.find("lots"), std::string::npos) << c.list[0].second;
    EXPECT_NE(c.list[0].second.find("default"), std::string::npos) << c.list[0].second;
    EXPECT_EQ(c.list[1].first, "OFFERED_PRIORITY");
    EXPECT_NE(c.list[1].second.find("kmt_offer_reclaim.offered_priority"), std::string::npos) << c.list[1].second;
    EXPECT_NE(c.list[1].second.find("2.0"), std::string::npos) << c.list[1].second;
}

TEST_F(Settings, EnvironmentIsRestoredAfterEachTest)
{
    // EnvGuard cleared everything this test can see.
    for (const char *n : kNames)
        EXPECT_EQ(getenv(EnvName(n).c_str()), nullptr) << n;
}

} // namespace

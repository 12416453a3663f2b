// SPDX-License-Identifier: MIT
// settings_env_guard.hpp -- for the settings unit tests: clears every
// variable the settings read (VK_KMT_OFFER_RECLAIM_* in any case, and where
// the settings file is looked for) and restores the process's values after.
#pragma once

#include <strings.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

extern char **environ;

#include "settings.h"

namespace kmt {

// "discard, discard_rate, ..." (or upper case), straight from KMT_SETTINGS,
// so the tests' expected messages follow the list as settings are added.
inline std::string SettingList(bool upper)
{
    std::string out;
#define KMT_TEST_LIST_ENTRY(NAME, field, kind, def, help)                                      \
    {                                                                                          \
        std::string name = #NAME;                                                              \
        if (!upper)                                                                            \
            for (char &c : name)                                                               \
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));            \
        out += (out.empty() ? "" : ", ") + name;                                               \
    }
    KMT_SETTINGS(KMT_TEST_LIST_ENTRY)
#undef KMT_TEST_LIST_ENTRY
    return out;
}

class SettingsEnvGuard {
  public:
    SettingsEnvGuard()
    {
        std::vector<std::string> names = {"VK_LAYER_SETTINGS_PATH", "XDG_DATA_HOME", "HOME"};
        for (char **e = environ; e && *e; e++)
            if (strncasecmp(*e, "VK_KMT_OFFER_RECLAIM_", 21) == 0)
                names.emplace_back(*e, std::strcspn(*e, "="));
        for (const auto &n : names) {
            const char *v = getenv(n.c_str());
            saved_.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
            unsetenv(n.c_str());
        }
    }
    ~SettingsEnvGuard()
    {
        // Whatever a test set with the prefix goes; then the old values return.
        std::vector<std::string> set;
        for (char **e = environ; e && *e; e++)
            if (strncasecmp(*e, "VK_KMT_OFFER_RECLAIM_", 21) == 0)
                set.emplace_back(*e, std::strcspn(*e, "="));
        for (const auto &n : set)
            unsetenv(n.c_str());
        for (const auto &s : saved_) {
            if (s.second)
                setenv(s.first.c_str(), s.second->c_str(), 1);
            else
                unsetenv(s.first.c_str());
        }
    }
    SettingsEnvGuard(const SettingsEnvGuard &) = delete;
    SettingsEnvGuard &operator=(const SettingsEnvGuard &) = delete;

    // VK_KMT_OFFER_RECLAIM_<name>
    void Set(const char *name, const char *value) { setenv((std::string("VK_KMT_OFFER_RECLAIM_") + name).c_str(), value, 1); }
    void SetRaw(const char *name, const char *value) { setenv(name, value, 1); }

  private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

} // namespace kmt

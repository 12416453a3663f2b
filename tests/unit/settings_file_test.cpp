// SPDX-License-Identifier: MIT
// Unit tests of layer/settings_file.[ch]: which vk_layer_settings.txt is read
// (the Khronos layers' rules), that only a regular file of bounded size is
// read (issue 16: VK_LAYER_SETTINGS_PATH=/dev/zero ate 7 GB in 60 s, a FIFO
// blocked for ever), the format, unknown keys, and kmt_settings_read's cap on
// messages.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "settings_app.h"
#include "settings_env_guard.hpp"
#include "settings_file.h"

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

// A private folder, removed with everything in it afterwards.
class TempDir {
  public:
    TempDir()
    {
        char pattern[] = "/tmp/kmt-settings-file-XXXXXX";
        const char *dir = mkdtemp(pattern);
        EXPECT_NE(dir, nullptr);
        if (dir)
            path_ = dir;
    }
    ~TempDir()
    {
        if (!path_.empty())
            std::system(("rm -rf '" + path_ + "'").c_str());
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }
    std::string Write(const std::string &name, const std::string &contents) const
    {
        const std::string file = path_ + "/" + name;
        std::size_t slash = name.rfind('/');
        if (slash != std::string::npos)
            std::system(("mkdir -p '" + path_ + "/" + name.substr(0, slash) + "'").c_str());
        std::ofstream(file, std::ios::binary) << contents;
        return file;
    }

  private:
    std::string path_;
};

// Parses text as if it were a file.
struct Parsed {
    kmt_settings_file file{};
    Complaints complaints;
    Parsed(const std::string &text, const char *path = "/x/vk_layer_settings.txt")
    {
        char *copy = static_cast<char *>(std::malloc(text.size() + 1));
        std::memcpy(copy, text.data(), text.size());
        copy[text.size()] = '\0';
        kmt_settings_file_parse(&file, copy, text.size(), path, &Complaints::Complain, &complaints);
    }
    ~Parsed() { kmt_settings_file_release(&file); }
    std::string Text(kmt_setting_id id) const { return file.texts.text[id] ? file.texts.text[id] : "<unset>"; }
};

// Reads through the real search rules.
struct Read {
    kmt_settings_file file{};
    Complaints complaints;
    double seconds = 0;
    Read()
    {
        auto start = std::chrono::steady_clock::now();
        kmt_settings_file_read(&file, &Complaints::Complain, &complaints);
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    ~Read() { kmt_settings_file_release(&file); }
    std::string Text(kmt_setting_id id) const { return file.texts.text[id] ? file.texts.text[id] : "<unset>"; }
};

// Runs in another folder and comes back.
class InFolder {
  public:
    explicit InFolder(const std::string &path)
    {
        char buf[4096];
        old_ = getcwd(buf, sizeof(buf)) ? buf : "/";
        EXPECT_EQ(chdir(path.c_str()), 0);
    }
    ~InFolder() { EXPECT_EQ(chdir(old_.c_str()), 0); }

  private:
    std::string old_;
};

class SettingsFile : public ::testing::Test {
  protected:
    kmt::SettingsEnvGuard env_;
    TempDir dir_;
};

// ---- format -------------------------------------------------------------------------------

TEST_F(SettingsFile, KeysAreCaseInsensitiveBlanksAndCommentsGoAndALaterLineWins)
{
    Parsed p("# a comment = not a setting\n"
             "  KMT_OFFER_RECLAIM.DISCARD   =   always   # trailing comment\n"
             "Kmt_Offer_Reclaim.Discard_Rate=10\r\n"
             "kmt_offer_reclaim.discard_rate = 20\n"
             "kmt_offer_reclaim.discard_fill =\n"
             "\tkmt_offer_reclaim.stats\t=\tyes");
    EXPECT_EQ(p.Text(KMT_SETTING_DISCARD), "always");
    EXPECT_EQ(p.Text(KMT_SETTING_DISCARD_RATE), "20");
    EXPECT_EQ(p.Text(KMT_SETTING_DISCARD_FILL), "") << "present but empty: treated as unset when resolved";
    EXPECT_EQ(p.Text(KMT_SETTING_STATS), "yes") << "the last line needs no newline";
    EXPECT_EQ(p.Text(KMT_SETTING_LOG_LEVEL), "<unset>");
    EXPECT_STREQ(p.file.texts.origin, "/x/vk_layer_settings.txt");
    EXPECT_TRUE(p.complaints.list.empty()) << p.complaints.All();
}

TEST_F(SettingsFile, OtherLayersKeysAreLeftAlone)
{
    Parsed p("khronos_validation.enables = VK_VALIDATION_FEATURE_ENABLE_BEST_PRACTICES_EXT\n"
             "lunarg_api_dump.file = true\n"
             "kmt_offer_reclaim_discard = always\n" // not our prefix (no dot): someone else's
             "discard = always\n");
    for (int i = 0; i < KMT_SETTING_COUNT; i++)
        EXPECT_EQ(p.Text(static_cast<kmt_setting_id>(i)), "<unset>");
    EXPECT_TRUE(p.complaints.list.empty()) << p.complaints.All();
}

TEST_F(SettingsFile, AnUnknownKeyOfThisLayerIsReportedWithFileAndLine)
{
    Parsed p("kmt_offer_reclaim.discard = always\n"
             "\n"
             "kmt_offer_reclaim.discrad = never\n"
             "KMT_OFFER_RECLAIM.BUDGET = 5\n");
    EXPECT_EQ(p.Text(KMT_SETTING_DISCARD), "always") << "the typo changes nothing";
    ASSERT_EQ(p.complaints.list.size(), 2u) << p.complaints.All();
    EXPECT_EQ(p.complaints.list[0].first, "KMT-unknown-setting");
    EXPECT_EQ(p.complaints.list[0].second, "kmt_offer_reclaim.discrad (/x/vk_layer_settings.txt line 3) is not a setting "
                                           "of VK_LAYER_KMT_offer_reclaim and is ignored; the settings are "
                                           "kmt_offer_reclaim.<name> for " +
                                               kmt::SettingList(false) + ".");
    EXPECT_NE(p.complaints.list[1].second.find("KMT_OFFER_RECLAIM.BUDGET (/x/vk_layer_settings.txt line 4)"),
              std::string::npos)
        << p.complaints.All();
}

TEST_F(SettingsFile, AnEntryWithoutAnEqualsSignIsReported)
{
    Parsed p("kmt_offer_reclaim.discard always\nkmt_offer_reclaim.stats = 1\n");
    EXPECT_EQ(p.Text(KMT_SETTING_DISCARD), "<unset>");
    EXPECT_EQ(p.Text(KMT_SETTING_STATS), "1");
    ASSERT_EQ(p.complaints.list.size(), 1u) << p.complaints.All();
    EXPECT_EQ(p.complaints.list[0].first, "KMT-settings-file");
    EXPECT_EQ(p.complaints.list[0].second,
              "/x/vk_layer_settings.txt line 1: \"kmt_offer_reclaim.discard always\" has no '='; ignored.");
}

TEST_F(SettingsFile, BinaryContentIsSafelyIgnored)
{
    std::string text = "kmt_offer_reclaim.discard = always";
    text += '\0';
    text += "garbage\xff\xfe\n";
    text += std::string(5000, '\0');
    text += "\nkmt_offer_reclaim.stats = 1\n";
    Parsed p(text);
    EXPECT_EQ(p.Text(KMT_SETTING_DISCARD), "always") << "a NUL ends its line";
    EXPECT_EQ(p.Text(KMT_SETTING_STATS), "1") << "lines after a NUL are still read";
}

// ---- which file ---------------------------------------------------------------------------------

TEST_F(SettingsFile, VkLayerSettingsPathNamingAFileIsRead)
{
    const std::string file = dir_.Write("custom-name.txt", "kmt_offer_reclaim.discard = random\n");
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", file.c_str());
    Read r;
    EXPECT_EQ(r.Text(KMT_SETTING_DISCARD), "random");
    EXPECT_EQ(std::string(r.file.texts.origin), file);
    EXPECT_TRUE(r.complaints.list.empty()) << r.complaints.All();
}

TEST_F(SettingsFile, VkLayerSettingsPathNamingAFolderReadsTheFileInIt)
{
    dir_.Write("vk_layer_settings.txt", "kmt_offer_reclaim.discard = always\n");
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", dir_.path().c_str());
    Read r;
    EXPECT_EQ(r.Text(KMT_SETTING_DISCARD), "always");
    EXPECT_EQ(std::string(r.file.texts.origin), dir_.path() + "/vk_layer_settings.txt");
}

TEST_F(SettingsFile, AFolderWithoutTheFileIsReported)
{
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", dir_.path().c_str());
    Read r;
    EXPECT_EQ(r.Text(KMT_SETTING_DISCARD), "<unset>");
    ASSERT_EQ(r.complaints.list.size(), 1u) << r.complaints.All();
    EXPECT_EQ(r.complaints.list[0].first, "KMT-settings-file");
    EXPECT_EQ(r.complaints.list[0].second, "Settings file " + dir_.path() +
                                               "/vk_layer_settings.txt cannot be opened: No such file or directory; "
                                               "no file settings used.");
}

TEST_F(SettingsFile, WithoutVkLayerSettingsPathTheWorkingDirectorysFileIsRead)
{
    dir_.Write("vk_layer_settings.txt", "kmt_offer_reclaim.discard = pressure\n");
    InFolder here(dir_.path());
    Read r;
    EXPECT_EQ(r.Text(KMT_SETTING_DISCARD), "pressure");
    EXPECT_STREQ(r.file.texts.origin, "vk_layer_settings.txt");
}

TEST_F(SettingsFile, NoFileAnywhereIsQuiet)
{
    InFolder here(dir_.path());
    Read r;
    EXPECT_EQ(r.file.contents, nullptr);
    EXPECT_TRUE(r.complaints.list.empty()) << r.complaints.All();
}

TEST_F(SettingsFile, AMissingVkLayerSettingsPathIsReportedAndTheWorkingDirectoryUsed)
{
    dir_.Write("vk_layer_settings.txt", "kmt_offer_reclaim.discard = pressure\n");
    InFolder here(dir_.path());
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", "/nonexistent/kmt");
    Read r;
    EXPECT_EQ(r.Text(KMT_SETTING_DISCARD), "pressure");
    ASSERT_EQ(r.complaints.list.size(), 1u) << r.complaints.All();
    EXPECT_EQ(r.complaints.list[0].second, "VK_LAYER_SETTINGS_PATH=/nonexistent/kmt: No such file or directory; "
                                           "reading vk_layer_settings.txt in the working directory instead.");
}

TEST_F(SettingsFile, VulkanConfiguratorsFileComesFirst)
{
    // VVL 1.3.239's order: $XDG_DATA_HOME/vulkan/settings.d, then VK_LAYER_SETTINGS_PATH.
    dir_.Write("data/vulkan/settings.d/vk_layer_settings.txt", "kmt_offer_reclaim.discard = always\n");
    const std::string named = dir_.Write("named.txt", "kmt_offer_reclaim.discard = random\n");
    env_.SetRaw("XDG_DATA_HOME", (dir_.path() + "/data").c_str());
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", named.c_str());
    {
        Read r;
        EXPECT_EQ(r.Text(KMT_SETTING_DISCARD), "always");
    }
    // $HOME/.local/share when XDG_DATA_HOME is unset.
    unsetenv("XDG_DATA_HOME");
    dir_.Write("home/.local/share/vulkan/settings.d/vk_layer_settings.txt", "kmt_offer_reclaim.discard = pressure\n");
    env_.SetRaw("HOME", (dir_.path() + "/home").c_str());
    {
        Read r;
        EXPECT_EQ(r.Text(KMT_SETTING_DISCARD), "pressure");
    }
    // Not a regular file there: skipped, as VVL skips it.
    env_.SetRaw("HOME", "/nonexistent");
    env_.SetRaw("XDG_DATA_HOME", dir_.path().c_str());
    ASSERT_EQ(mkdir((dir_.path() + "/vulkan").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((dir_.path() + "/vulkan/settings.d").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((dir_.path() + "/vulkan/settings.d/vk_layer_settings.txt").c_str(), 0700), 0);
    {
        Read r;
        EXPECT_EQ(r.Text(KMT_SETTING_DISCARD), "random");
        EXPECT_TRUE(r.complaints.list.empty()) << r.complaints.All();
    }
}

// ---- what is not read (issue 16 item 4) ---------------------------------------------------------

long MaxRssKiB()
{
    struct rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

TEST_F(SettingsFile, DevZeroIsNotReadAndSaysSo)
{
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", "/dev/zero");
    const long rss_before = MaxRssKiB();
    Read r;
    EXPECT_LT(r.seconds, 1.0);
    EXPECT_LT(MaxRssKiB() - rss_before, 4 * 1024) << "KiB of peak resident memory added";
    EXPECT_EQ(r.file.contents, nullptr);
    ASSERT_EQ(r.complaints.list.size(), 1u) << r.complaints.All();
    EXPECT_EQ(r.complaints.list[0].first, "KMT-settings-file");
    EXPECT_EQ(r.complaints.list[0].second,
              "Settings file /dev/zero is a character device, not a regular file: it is not read (only a regular "
              "file, or a folder holding vk_layer_settings.txt, is); no file settings used.");
}

TEST_F(SettingsFile, AFifoIsNotOpenedForReadingNorWaitedOn)
{
    const std::string fifo = dir_.path() + "/vk_layer_settings.txt";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    for (const std::string &named : {fifo, dir_.path()}) { // the FIFO itself, and the folder holding it
        env_.SetRaw("VK_LAYER_SETTINGS_PATH", named.c_str());
        Read r; // no writer ever opens it: a blocking open would hang here
        EXPECT_LT(r.seconds, 1.0);
        EXPECT_EQ(r.file.contents, nullptr);
        ASSERT_EQ(r.complaints.list.size(), 1u) << r.complaints.All();
        EXPECT_NE(r.complaints.list[0].second.find("is a FIFO, not a regular file: it is not read"), std::string::npos)
            << r.complaints.All();
    }
}

TEST_F(SettingsFile, AFifoInTheWorkingDirectoryIsNotReadEither)
{
    ASSERT_EQ(mkfifo((dir_.path() + "/vk_layer_settings.txt").c_str(), 0600), 0);
    InFolder here(dir_.path());
    Read r;
    EXPECT_LT(r.seconds, 1.0);
    ASSERT_EQ(r.complaints.list.size(), 1u) << r.complaints.All();
    EXPECT_NE(r.complaints.list[0].second.find("vk_layer_settings.txt is a FIFO"), std::string::npos);
}

TEST_F(SettingsFile, ASocketIsNotRead)
{
    const std::string path = dir_.path() + "/sock";
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", path.c_str());
    {
        Read r;
        ASSERT_EQ(r.complaints.list.size(), 1u) << r.complaints.All();
        EXPECT_NE(r.complaints.list[0].second.find("cannot be opened"), std::string::npos) << r.complaints.All();
    }
    close(fd);
}

TEST_F(SettingsFile, AFileOverTheLimitIsNotRead)
{
    std::string big = "kmt_offer_reclaim.discard = always\n";
    big += std::string(KMT_SETTINGS_FILE_MAX - big.size() - 1, '#') + "\n";
    ASSERT_EQ(big.size(), KMT_SETTINGS_FILE_MAX);
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", dir_.Write("exact.txt", big).c_str());
    {
        Read r;
        EXPECT_EQ(r.Text(KMT_SETTING_DISCARD), "always") << "exactly the limit is read";
        EXPECT_TRUE(r.complaints.list.empty()) << r.complaints.All();
    }
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", dir_.Write("over.txt", big + "\n").c_str());
    {
        Read r;
        EXPECT_EQ(r.file.contents, nullptr);
        ASSERT_EQ(r.complaints.list.size(), 1u) << r.complaints.All();
        EXPECT_EQ(r.complaints.list[0].second, "Settings file " + dir_.path() +
                                                   "/over.txt is larger than 1048576 bytes: it is not read; no file "
                                                   "settings used.");
    }
}

TEST_F(SettingsFile, AProcFileThatReportsSizeZeroIsReadBounded)
{
    // Regular, st_size 0, contents produced on read: the read loop is the bound.
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", "/proc/self/maps");
    Read r;
    EXPECT_NE(r.file.contents, nullptr);
    EXPECT_TRUE(r.complaints.list.empty()) << r.complaints.All();
}

// ---- every source, and the cap on messages -------------------------------------------------------

TEST_F(SettingsFile, ReadingEverythingAppliesTheFileAndCapsTheMessages)
{
    std::string text = "kmt_offer_reclaim.discard = always\n";
    for (int i = 0; i < 10; i++)
        text += "kmt_offer_reclaim.typo" + std::to_string(i) + " = 1\n";
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", dir_.Write("typos.txt", text).c_str());
    Complaints c;
    kmt_settings s;
    kmt_settings_read(&s, nullptr, &Complaints::Complain, &c);
    EXPECT_EQ(s.discard, KMT_DISCARD_ALWAYS);
    EXPECT_EQ(s.source[KMT_SETTING_DISCARD], KMT_SOURCE_FILE);
    ASSERT_EQ(c.list.size(), KMT_SETTINGS_MAX_COMPLAINTS + 1u) << c.All();
    EXPECT_NE(c.list[0].second.find("typo0"), std::string::npos);
    EXPECT_EQ(c.list.back().second,
              std::to_string(10 - KMT_SETTINGS_MAX_COMPLAINTS) + " more settings problems are not shown.");
}

TEST_F(SettingsFile, ReadingEverythingWithoutACallbackIsSilentAndStillApplies)
{
    env_.SetRaw("VK_LAYER_SETTINGS_PATH", dir_.Write("a.txt", "kmt_offer_reclaim.stats = on\nkmt_offer_reclaim.x = 1\n").c_str());
    kmt_settings s;
    kmt_settings_read(&s, nullptr, nullptr, nullptr);
    EXPECT_TRUE(s.stats);
}

} // namespace

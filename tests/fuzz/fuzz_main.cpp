// SPDX-License-Identifier: MIT
// The fuzz harness without libFuzzer (any compiler): replays inputs (files,
// or every file of a directory), then runs seeded random inputs.
//
//   kmt_fuzz_offer_replay [-runs=N] [-seed=S] [-max_len=L] [-max_total_time=T] [PATH...]
//
// -runs=N   random inputs after the replay (default: 0 when paths are given, else 1000)
// -seed=S   PRNG seed of the random inputs (default 1): the same seed gives the same inputs
// -max_len  longest random input in bytes (default 2048)
// -max_total_time=T  stop the random inputs after T seconds (0: no limit)
// A diverging input is written to ./kmt-fuzz-crash-<seed>-<run> (or its
// replayed path is printed); replay it with KMT_FUZZ_TRACE=1 to see each event.
// KMT_FUZZ_STATS=1 prints what the inputs exercised.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz_offer.h"

namespace {

const std::vector<uint8_t> *g_current = nullptr;
std::string g_current_name;

void save_current()
{
    if (!g_current)
        return;
    if (g_current_name.rfind("random:", 0) == 0) {
        std::string path = "kmt-fuzz-crash-" + g_current_name.substr(7);
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char *>(g_current->data()), std::streamsize(g_current->size()));
        fprintf(stderr, "==== input (%zu bytes) saved to %s\n", g_current->size(), path.c_str());
    } else {
        fprintf(stderr, "==== input: %s\n", g_current_name.c_str());
    }
}

void run(const std::vector<uint8_t> &input, const std::string &name)
{
    g_current = &input;
    g_current_name = name;
    kmt_fuzz::run_one(input.data(), input.size());
    g_current = nullptr;
}

bool option(const char *arg, const char *name, uint64_t *value)
{
    size_t n = std::strlen(name);
    if (std::strncmp(arg, name, n) != 0 || arg[n] != '=')
        return false;
    *value = std::strtoull(arg + n + 1, nullptr, 0);
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    uint64_t runs = UINT64_MAX, seed = 1, max_len = 2048, max_time = 0;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (option(a, "-runs", &runs) || option(a, "-seed", &seed) || option(a, "-max_len", &max_len) ||
            option(a, "-max_total_time", &max_time))
            continue;
        if (a[0] == '-') {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
        paths.push_back(a);
    }
    if (runs == UINT64_MAX)
        runs = paths.empty() ? 1000 : 0;
    kmt_fuzz::g_failure_hook = save_current;
    const auto start = std::chrono::steady_clock::now();

    size_t replayed = 0;
    for (const std::string &p : paths) {
        std::vector<std::string> files;
        if (std::filesystem::is_directory(p)) {
            for (const auto &e : std::filesystem::directory_iterator(p))
                if (e.is_regular_file())
                    files.push_back(e.path().string());
        } else {
            files.push_back(p);
        }
        std::sort(files.begin(), files.end());
        for (const std::string &f : files) {
            std::ifstream in(f, std::ios::binary);
            if (!in) {
                fprintf(stderr, "cannot read %s\n", f.c_str());
                return 2;
            }
            std::vector<uint8_t> input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            run(input, f);
            replayed++;
        }
    }

    std::mt19937_64 rng(seed);
    uint64_t done = 0;
    std::vector<uint8_t> input;
    for (; done < runs; done++) {
        if (max_time && (done & 63) == 0 &&
            std::chrono::steady_clock::now() - start > std::chrono::seconds(max_time))
            break;
        input.resize(rng() % (max_len + 1));
        for (auto &b : input)
            b = uint8_t(rng());
        run(input, "random:" + std::to_string(seed) + "-" + std::to_string(done));
    }

    if (const char *v = std::getenv("KMT_FUZZ_STATS"); v && *v && *v != '0')
        kmt_fuzz::print_stats();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    printf("kmt_fuzz_offer_replay: %zu replayed + %" PRIu64 " random inputs (seed %" PRIu64 "), %" PRIu64
           " operations checked against the model in %.1f s (%.0f operations/s), no divergence\n",
           replayed, done, seed, kmt_fuzz::g_operations, seconds, kmt_fuzz::g_operations / (seconds > 0 ? seconds : 1));
    return 0;
}

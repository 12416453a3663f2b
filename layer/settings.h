/*
 * settings.h -- the layer's settings, one list (KMT_SETTINGS) that drives
 * parsing, defaults, the README table and the startup log.
 *
 * Each setting is read from, in order: the environment variable
 * VK_KMT_OFFER_RECLAIM_<NAME>, then the vk_layer_settings.txt entry
 * kmt_offer_reclaim.<name> (found as the Khronos layers find theirs:
 * VK_LAYER_SETTINGS_PATH, else the working directory), then the default. A bad
 * value gives a message naming it and the default, never a failure.
 */
#ifndef KMT_SETTINGS_H
#define KMT_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kmt_discard_policy {
    KMT_DISCARD_NEVER = 0,
    KMT_DISCARD_ALWAYS,
    KMT_DISCARD_RANDOM,
    KMT_DISCARD_PRESSURE,
};

enum kmt_discard_fill {
    KMT_FILL_NONE = 0,
    KMT_FILL_ZERO,
    KMT_FILL_POISON,
};

enum kmt_log_level {
    KMT_LOG_NONE = 0,
    KMT_LOG_ERROR,
    KMT_LOG_WARNING,
    KMT_LOG_INFO,
    KMT_LOG_VERBOSE,
};

/* X(NAME, field, kind, default text, help) -- kind: enum lists its values. */
#define KMT_SETTINGS(X)                                                                                    \
    X(DISCARD, discard, "never|always|random|pressure", "never",                                          \
      "Discard policy for offered memory: never (contents always survive), always, random (DISCARD_RATE), " \
      "pressure (over budget: LOW before NORMAL before HIGH, oldest offer first)")                       \
    X(DISCARD_RATE, discard_rate, "0..1000", "500", "Per-mille chance that random discards an offer")    \
    X(DISCARD_SEED, discard_seed, "integer", "1", "Seed of the random policy (same seed, same decisions)") \
    X(DISCARD_FILL, discard_fill, "none|zero|poison", "poison",                                          \
      "What discarded memory holds afterwards (poison: the byte pattern 0xDEADBEEF)")                     \
    X(BUDGET_MB, budget_mb, "integer", "0",                                                              \
      "Heap budget in MiB for the pressure policy; 0 = VK_EXT_memory_budget, else 80% of the heap size")  \
    X(OFFERED_PRIORITY, offered_priority, "0.0..1.0", "0.0", "Driver priority given to offered memory")   \
    X(LOG_LEVEL, log_level, "none|error|warning|info|verbose", "warning", "Least severe message reported") \
    X(STATS, stats, "0|1", "0", "Print the device counters at vkDestroyDevice")                            \
    X(BUDGET_POLL_MS, budget_poll_ms, "1..60000", "500",                                                   \
      "VK_KMT_residency: how often the budget notification thread polls budgets and usage (milliseconds)")

struct kmt_settings {
    enum kmt_discard_policy discard;
    uint32_t discard_rate;
    uint64_t discard_seed;
    enum kmt_discard_fill discard_fill;
    uint64_t budget_mb;
    float offered_priority;
    enum kmt_log_level log_level;
    bool stats;
    uint32_t budget_poll_ms;
};

/* Called for each bad value: the setting's name and a sentence. */
typedef void (*kmt_settings_complaint)(void *ctx, const char *name, const char *message);

/* Reads every setting. `lookup` returns the settings-file value for a key
 * such as "kmt_offer_reclaim.discard" ("" or NULL when absent); may be NULL. */
void kmt_settings_load(struct kmt_settings *settings, const char *(*lookup)(const char *key),
                       kmt_settings_complaint complain, void *ctx);

/* Parses one value; false (setting unchanged) when the text is not valid. */
bool kmt_settings_parse(struct kmt_settings *settings, const char *name, const char *text);

void kmt_settings_defaults(struct kmt_settings *settings);

const char *kmt_discard_policy_name(enum kmt_discard_policy policy);
const char *kmt_discard_fill_name(enum kmt_discard_fill fill);

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: MIT */
/*
 * settings.h -- the layer's settings, one list (KMT_SETTINGS) that drives
 * parsing, defaults, the startup line, docs/SETTINGS.md and the manifests'
 * settings for Vulkan Configurator (tools/kmt_settings_gen.c).
 *
 * Each setting is read from, highest precedence first:
 *   1. the environment variable VK_KMT_OFFER_RECLAIM_<NAME>;
 *   2. the entry kmt_offer_reclaim.<name> of vk_layer_settings.txt
 *      (settings_file.h: found as the Khronos layers find theirs);
 *   3. the app's VkLayerSettingsCreateInfoEXT at vkCreateInstance, setting
 *      <name> of VK_LAYER_KMT_offer_reclaim (settings_app.h);
 *   4. the default.
 * The highest source that sets a setting decides: a bad value there is
 * reported (naming the valid values and the default) and the default used;
 * lower sources are not consulted for it. Keys in the file and setting names
 * in VkLayerSettingsCreateInfoEXT are case-insensitive; environment variable
 * names are exact (upper case). Unknown keys of this layer in the file, unknown
 * setting names from the app and unknown VK_KMT_OFFER_RECLAIM_* variables are
 * reported. Nothing here ever fails: the worst case is the defaults and a
 * message.
 *
 * Adding a setting: an X(...) line below, a field in struct kmt_settings, a
 * branch in kmt_settings_parse (settings.c); then
 * `cmake --build build --target kmt_update_settings_docs`.
 */
#ifndef KMT_SETTINGS_H
#define KMT_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KMT_SETTINGS_LAYER_NAME "VK_LAYER_KMT_offer_reclaim"
#define KMT_SETTINGS_ENV_PREFIX "VK_KMT_OFFER_RECLAIM_"
#define KMT_SETTINGS_KEY_PREFIX "kmt_offer_reclaim."

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

/* Longest path a LOG_FILE / TRACE value may hold (PATH_MAX on Linux); a
 * longer one is reported as a bad value. */
#define KMT_SETTINGS_PATH_MAX 4096

/* X(NAME, field, kind, default text, help). kind says what the parser takes
 * and becomes the docs' "values" column and the messages' list of valid
 * values: "a|b|c" an enum ("0|1" a boolean), "lo..hi" a range (a '.' in an
 * end makes it a number), "integer", anything else free text. */
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
    X(STATS, stats, "0|1", "0",                                                                          \
      "At vkDestroyDevice, report the device counters and each heap's usage and budget (as a message)")   \
    X(LOG_FILE, log_file, "path", "",                                                                   \
      "Also append every message to this file (read at vkCreateInstance; empty: no file)")               \
    X(TRACE, trace, "path", "",                                                                          \
      "Write a Chrome trace-event JSON file of what the layer did (Perfetto, chrome://tracing; "          \
      "tools/kmt-plot draws it); empty: no trace")                                                       \
    X(TRACE_MAX_MB, trace_max_mb, "1..4096", "64",                                                       \
      "Most MiB of events a device's trace keeps; the oldest are dropped first and counted")             \
    X(BUDGET_POLL_MS, budget_poll_ms, "1..60000", "500",                                                 \
      "VK_KMT_residency: how often the budget notification thread polls budgets and usage (milliseconds)")

enum kmt_setting_id {
#define KMT_SETTING_ENUM(NAME, field, kind, def, help) KMT_SETTING_##NAME,
    KMT_SETTINGS(KMT_SETTING_ENUM)
#undef KMT_SETTING_ENUM
    KMT_SETTING_COUNT
};

/* Where a setting's value came from (the startup line says it). */
enum kmt_setting_source {
    KMT_SOURCE_DEFAULT = 0,
    KMT_SOURCE_APP,  /* VkLayerSettingsCreateInfoEXT */
    KMT_SOURCE_FILE, /* vk_layer_settings.txt */
    KMT_SOURCE_ENV,  /* VK_KMT_OFFER_RECLAIM_<NAME> */
};

/* The value text the startup line shows (longer texts are cut with "..."). */
#define KMT_SETTING_SHOWN_MAX 40

struct kmt_settings {
    enum kmt_discard_policy discard;
    uint32_t discard_rate;
    uint64_t discard_seed;
    enum kmt_discard_fill discard_fill;
    uint64_t budget_mb;
    float offered_priority;
    enum kmt_log_level log_level;
    bool stats;
    char log_file[KMT_SETTINGS_PATH_MAX]; /* "" = none */
    char trace[KMT_SETTINGS_PATH_MAX];    /* "" = none */
    uint32_t trace_max_mb;
    uint32_t budget_poll_ms;

    /* Filled by kmt_settings_resolve: each setting's source and the text it
     * was given. */
    enum kmt_setting_source source[KMT_SETTING_COUNT];
    char shown[KMT_SETTING_COUNT][KMT_SETTING_SHOWN_MAX];
};

/* What one source (the settings file, the app) says: each setting's text, or
 * NULL where it says nothing. `origin` names the source in messages (the
 * file's path); may be NULL. */
struct kmt_setting_texts {
    const char *text[KMT_SETTING_COUNT];
    const char *origin;
};

/* Every problem found while reading settings: a message ID
 * ("KMT-bad-setting", "KMT-unknown-setting", "KMT-settings-file") and a
 * sentence naming the offending variable, key or file. */
typedef void (*kmt_settings_complaint)(void *ctx, const char *id, const char *message);

/* The precedence rules: the environment (getenv), then `file`, then `app`
 * (either may be NULL), then the default, for every setting; reports bad
 * values and unknown VK_KMT_OFFER_RECLAIM_* variables to `complain` (may be
 * NULL). kmt_settings_read (settings_file.h) gathers the sources. */
void kmt_settings_resolve(struct kmt_settings *settings, const struct kmt_setting_texts *file,
                          const struct kmt_setting_texts *app, kmt_settings_complaint complain, void *ctx);

/* Parses one value; false (setting unchanged) when the text is not valid. */
bool kmt_settings_parse(struct kmt_settings *settings, const char *name, const char *text);

void kmt_settings_defaults(struct kmt_settings *settings);

/* The setting a name or key denotes, compared case-insensitively ("DISCARD",
 * "discard_rate"); KMT_SETTING_COUNT when none. */
enum kmt_setting_id kmt_setting_find(const char *name);
const char *kmt_setting_name(enum kmt_setting_id id);    /* "DISCARD_RATE" */
const char *kmt_setting_default(enum kmt_setting_id id); /* "500" */
/* "discard_rate": the file key without its prefix, the VkLayerSettingEXT name. */
void kmt_setting_key(enum kmt_setting_id id, char *out, unsigned size);
/* What the parser takes, as a phrase: "one of never, always, random, pressure". */
void kmt_setting_expected(enum kmt_setting_id id, char *out, unsigned size);
/* Every key, comma-separated, upper case (env) or lower case (file, app). */
void kmt_setting_list(bool upper, char *out, unsigned size);

/* "discard=never (default), discard_rate=500 (environment), ...": every
 * setting with its value and where it came from. */
void kmt_settings_describe(const struct kmt_settings *settings, char *out, unsigned size);
const char *kmt_setting_source_name(enum kmt_setting_source source);

const char *kmt_discard_policy_name(enum kmt_discard_policy policy);
const char *kmt_discard_fill_name(enum kmt_discard_fill fill);
const char *kmt_log_level_name(enum kmt_log_level level);

#ifdef __cplusplus
}
#endif

#endif

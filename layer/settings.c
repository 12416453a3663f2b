/* SPDX-License-Identifier: MIT */
/*
 * settings.c -- parsing of the settings in KMT_SETTINGS and the precedence
 * rules between their sources (settings.h).
 */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* POSIX: the environment; no header declares it without _GNU_SOURCE. */
extern char **environ;

static const struct {
    const char *name, *kind, *def;
} setting_table[KMT_SETTING_COUNT] = {
#define KMT_SETTING_ROW(NAME, field, kind, def, help) {#NAME, kind, def},
    KMT_SETTINGS(KMT_SETTING_ROW)
#undef KMT_SETTING_ROW
};

/* Variables with the prefix that are the manifest's, not settings. */
static const char *const manifest_variables[] = {"ENABLE", "DISABLE"};

static const char *const policy_names[] = {"never", "always", "random", "pressure"};
static const char *const fill_names[] = {"none", "zero", "poison"};
static const char *const level_names[] = {"none", "error", "warning", "info", "verbose"};

const char *
kmt_discard_policy_name(enum kmt_discard_policy policy)
{
    return (unsigned)policy < 4 ? policy_names[policy] : "?";
}

const char *
kmt_discard_fill_name(enum kmt_discard_fill fill)
{
    return (unsigned)fill < 3 ? fill_names[fill] : "?";
}

const char *
kmt_log_level_name(enum kmt_log_level level)
{
    return (unsigned)level < 5 ? level_names[level] : "?";
}

/* ---- one value ------------------------------------------------------------------------ */

static bool
parse_name(const char *text, const char *const *names, int count, int *out)
{
    for (int i = 0; i < count; i++) {
        if (strcasecmp(text, names[i]) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

static bool
parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)text[0]))
        return false;
    char *end;
    errno = 0;
    /* Decimal, or hexadecimal with 0x: a leading zero is not octal. */
    bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    unsigned long long v = strtoull(text, &end, hex ? 16 : 10);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

static bool
parse_unit_float(const char *text, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(text, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || end == text || *end || !(v >= 0.0f && v <= 1.0f))
        return false;
    *out = v;
    return true;
}

static bool
parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"1", "true", "on", "yes"};
    static const char *const no[] = {"0", "false", "off", "no"};
    int i;
    if (parse_name(text, yes, 4, &i)) {
        *out = true;
        return true;
    }
    if (parse_name(text, no, 4, &i)) {
        *out = false;
        return true;
    }
    return false;
}

/* A file path: any text that fits (empty means "none"). */
static bool
parse_path(const char *text, char out[KMT_SETTINGS_PATH_MAX])
{
    size_t n = strlen(text);
    if (n >= KMT_SETTINGS_PATH_MAX)
        return false;
    memcpy(out, text, n + 1);
    return true;
}

bool
kmt_settings_parse(struct kmt_settings *s, const char *name, const char *text)
{
    int e;
    uint64_t u;
    if (strcmp(name, "DISCARD") == 0) {
        if (!parse_name(text, policy_names, 4, &e))
            return false;
        s->discard = (enum kmt_discard_policy)e;
    } else if (strcmp(name, "DISCARD_RATE") == 0) {
        if (!parse_u64(text, 1000, &u))
            return false;
        s->discard_rate = (uint32_t)u;
    } else if (strcmp(name, "DISCARD_SEED") == 0) {
        if (!parse_u64(text, UINT64_MAX, &s->discard_seed))
            return false;
    } else if (strcmp(name, "DISCARD_FILL") == 0) {
        if (!parse_name(text, fill_names, 3, &e))
            return false;
        s->discard_fill = (enum kmt_discard_fill)e;
    } else if (strcmp(name, "BUDGET_MB") == 0) {
        if (!parse_u64(text, UINT64_MAX >> 20, &s->budget_mb))
            return false;
    } else if (strcmp(name, "OFFERED_PRIORITY") == 0) {
        if (!parse_unit_float(text, &s->offered_priority))
            return false;
    } else if (strcmp(name, "LOG_LEVEL") == 0) {
        if (!parse_name(text, level_names, 5, &e))
            return false;
        s->log_level = (enum kmt_log_level)e;
    } else if (strcmp(name, "STATS") == 0) {
        if (!parse_bool(text, &s->stats))
            return false;
    } else if (strcmp(name, "LOG_FILE") == 0) {
        if (!parse_path(text, s->log_file))
            return false;
    } else if (strcmp(name, "TRACE") == 0) {
        if (!parse_path(text, s->trace))
            return false;
    } else if (strcmp(name, "TRACE_MAX_MB") == 0) {
        if (!parse_u64(text, 4096, &u) || u == 0)
            return false;
        s->trace_max_mb = (uint32_t)u;
    } else if (strcmp(name, "BUDGET_POLL_MS") == 0) {
        if (!parse_u64(text, 60000, &u) || u == 0)
            return false;
        s->budget_poll_ms = (uint32_t)u;
    } else {
        return false;
    }
    return true;
}

/* ---- what the list says about a setting ------------------------------------------------ */

enum kmt_setting_id
kmt_setting_find(const char *name)
{
    for (int i = 0; i < KMT_SETTING_COUNT; i++)
        if (name && strcasecmp(name, setting_table[i].name) == 0)
            return (enum kmt_setting_id)i;
    return KMT_SETTING_COUNT;
}

const char *
kmt_setting_name(enum kmt_setting_id id)
{
    return (unsigned)id < KMT_SETTING_COUNT ? setting_table[id].name : "?";
}

const char *
kmt_setting_default(enum kmt_setting_id id)
{
    return (unsigned)id < KMT_SETTING_COUNT ? setting_table[id].def : "";
}

void
kmt_setting_key(enum kmt_setting_id id, char *out, unsigned size)
{
    const char *name = kmt_setting_name(id);
    unsigned i = 0;
    for (; size && name[i] && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    if (size)
        out[i] = '\0';
}

/* Appends to a bounded string (cut, never overrun). */
static void
append(char *out, unsigned size, const char *fmt, const char *a, const char *b)
{
    size_t used = strlen(out);
    if (used + 1 < size)
        snprintf(out + used, size - used, fmt, a, b);
}

void
kmt_setting_expected(enum kmt_setting_id id, char *out, unsigned size)
{
    if (!size)
        return;
    out[0] = '\0';
    const char *kind = (unsigned)id < KMT_SETTING_COUNT ? setting_table[id].kind : "";
    const char *dots = strstr(kind, "..");
    if (strcmp(kind, "0|1") == 0) {
        append(out, size, "%s%s", "0 or 1 (also false/true, off/on, no/yes)", "");
    } else if (strchr(kind, '|')) {
        append(out, size, "%s%s", "one of ", "");
        for (const char *p = kind; *p;) {
            size_t n = strcspn(p, "|");
            char value[64];
            snprintf(value, sizeof(value), "%.*s", (int)n, p);
            append(out, size, "%s%s", p == kind ? "" : ", ", value);
            p += n + (p[n] == '|');
        }
    } else if (dots) {
        char lo[32];
        snprintf(lo, sizeof(lo), "%.*s", (int)(dots - kind), kind);
        bool number = strchr(kind, '.') != dots || strchr(dots + 2, '.');
        append(out, size, number ? "a number from %s to %s" : "an integer from %s to %s", lo, dots + 2);
    } else if (strcmp(kind, "integer") == 0) {
        append(out, size, "%s%s", "a non-negative integer (decimal, or hexadecimal with 0x)", "");
    } else {
        append(out, size, "%s%s", kind, "");
    }
}

void
kmt_setting_list(bool upper, char *out, unsigned size)
{
    if (!size)
        return;
    out[0] = '\0';
    for (int i = 0; i < KMT_SETTING_COUNT; i++) {
        char key[64];
        kmt_setting_key((enum kmt_setting_id)i, key, sizeof(key));
        append(out, size, "%s%s", i ? ", " : "", upper ? setting_table[i].name : key);
    }
}

const char *
kmt_setting_source_name(enum kmt_setting_source source)
{
    switch (source) {
    case KMT_SOURCE_APP: return "app";
    case KMT_SOURCE_FILE: return "file";
    case KMT_SOURCE_ENV: return "environment";
    default: return "default";
    }
}

void
kmt_settings_describe(const struct kmt_settings *s, char *out, unsigned size)
{
    if (!size)
        return;
    out[0] = '\0';
    for (int i = 0; i < KMT_SETTING_COUNT; i++) {
        char key[64];
        kmt_setting_key((enum kmt_setting_id)i, key, sizeof(key));
        append(out, size, "%s%s=", i ? ", " : "", key);
        /* An empty path reads as one, not as a value missing. */
        append(out, size, "%s (%s)", s->shown[i][0] ? s->shown[i] : "\"\"", kmt_setting_source_name(s->source[i]));
    }
}

/* ---- sources and precedence --------------------------------------------------------------- */

static void
remember(struct kmt_settings *s, enum kmt_setting_id id, enum kmt_setting_source source, const char *text)
{
    s->source[id] = source;
    size_t n = strlen(text);
    if (n < KMT_SETTING_SHOWN_MAX)
        memcpy(s->shown[id], text, n + 1);
    else
        snprintf(s->shown[id], KMT_SETTING_SHOWN_MAX, "%.*s...", KMT_SETTING_SHOWN_MAX - 4, text);
}

void
kmt_settings_defaults(struct kmt_settings *s)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < KMT_SETTING_COUNT; i++) {
        kmt_settings_parse(s, setting_table[i].name, setting_table[i].def);
        remember(s, (enum kmt_setting_id)i, KMT_SOURCE_DEFAULT, setting_table[i].def);
    }
}

static void __attribute__((format(printf, 4, 5)))
say(kmt_settings_complaint complain, void *ctx, const char *id, const char *fmt, ...)
{
    if (!complain)
        return;
    char message[768];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    complain(ctx, id, message);
}

/* How a source names a setting in messages: the variable, the file key, or
 * the VkLayerSettingEXT name. */
static void
label_of(enum kmt_setting_id id, enum kmt_setting_source source, char *out, size_t size)
{
    char key[64];
    kmt_setting_key(id, key, sizeof(key));
    if (source == KMT_SOURCE_ENV)
        snprintf(out, size, KMT_SETTINGS_ENV_PREFIX "%s", kmt_setting_name(id));
    else if (source == KMT_SOURCE_FILE)
        snprintf(out, size, KMT_SETTINGS_KEY_PREFIX "%s", key);
    else
        snprintf(out, size, "VkLayerSettingEXT %s", key);
}

static void
resolve_one(struct kmt_settings *s, enum kmt_setting_id id, const struct kmt_setting_texts *file,
            const struct kmt_setting_texts *app, kmt_settings_complaint complain, void *ctx)
{
    char env_name[96];
    snprintf(env_name, sizeof(env_name), KMT_SETTINGS_ENV_PREFIX "%s", kmt_setting_name(id));
    const char *text = getenv(env_name);
    enum kmt_setting_source source = KMT_SOURCE_ENV;
    const struct kmt_setting_texts *from = NULL;
    /* An empty value counts as unset, in every source. */
    if (!text || !*text) {
        text = file ? file->text[id] : NULL;
        source = KMT_SOURCE_FILE;
        from = file;
    }
    if (!text || !*text) {
        text = app ? app->text[id] : NULL;
        source = KMT_SOURCE_APP;
        from = app;
    }
    if (!text || !*text)
        return;
    if (kmt_settings_parse(s, kmt_setting_name(id), text)) {
        remember(s, id, source, text);
        return;
    }
    char label[128], expected[256];
    label_of(id, source, label, sizeof(label));
    kmt_setting_expected(id, expected, sizeof(expected));
    say(complain, ctx, "KMT-bad-setting", "%s=\"%s\"%s%s%s is not a valid value: expected %s; using the default, %s.",
        label, text, from && from->origin ? " (in " : "", from && from->origin ? from->origin : "",
        from && from->origin ? ")" : "", expected, kmt_setting_default(id));
}

/* VK_KMT_OFFER_RECLAIM_<X> for an X the layer does not know: a typo that
 * would otherwise be silently ignored. The prefix is matched in any case. */
static void
report_unknown_variables(kmt_settings_complaint complain, void *ctx)
{
    const size_t prefix = strlen(KMT_SETTINGS_ENV_PREFIX);
    for (char **e = environ; complain && e && *e; e++) {
        if (strncasecmp(*e, KMT_SETTINGS_ENV_PREFIX, prefix) != 0)
            continue;
        char name[128];
        size_t n = strcspn(*e, "=");
        snprintf(name, sizeof(name), "%.*s", (int)n, *e);
        const char *suffix = name + prefix;
        bool exact_prefix = strncmp(name, KMT_SETTINGS_ENV_PREFIX, prefix) == 0;
        enum kmt_setting_id id = kmt_setting_find(suffix);
        if (exact_prefix && id != KMT_SETTING_COUNT && strcmp(suffix, kmt_setting_name(id)) == 0)
            continue;
        bool manifest = false;
        for (size_t i = 0; i < sizeof(manifest_variables) / sizeof(manifest_variables[0]); i++)
            manifest |= exact_prefix && strcmp(suffix, manifest_variables[i]) == 0;
        if (manifest)
            continue;
        if (id != KMT_SETTING_COUNT) {
            say(complain, ctx, "KMT-unknown-setting",
                "%s is ignored: environment variable names are upper case; did you mean " KMT_SETTINGS_ENV_PREFIX
                "%s?",
                name, kmt_setting_name(id));
            continue;
        }
        char list[512];
        kmt_setting_list(true, list, sizeof(list));
        say(complain, ctx, "KMT-unknown-setting",
            "%s is not a setting of " KMT_SETTINGS_LAYER_NAME " and is ignored; the settings are %s (and ENABLE, "
            "DISABLE).",
            name, list);
    }
}

void
kmt_settings_resolve(struct kmt_settings *s, const struct kmt_setting_texts *file, const struct kmt_setting_texts *app,
                     kmt_settings_complaint complain, void *ctx)
{
    kmt_settings_defaults(s);
    report_unknown_variables(complain, ctx);
    for (int i = 0; i < KMT_SETTING_COUNT; i++)
        resolve_one(s, (enum kmt_setting_id)i, file, app, complain, ctx);
}

/*
 * settings.c -- parsing of the settings in KMT_SETTINGS (settings.h).
 */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    } else if (strcmp(name, "BUDGET_POLL_MS") == 0) {
        if (!parse_u64(text, 60000, &u) || u == 0)
            return false;
        s->budget_poll_ms = (uint32_t)u;
    } else {
        return false;
    }
    return true;
}

void
kmt_settings_defaults(struct kmt_settings *s)
{
    memset(s, 0, sizeof(*s));
#define KMT_SET_DEFAULT(NAME, field, kind, def, help) kmt_settings_parse(s, #NAME, def);
    KMT_SETTINGS(KMT_SET_DEFAULT)
#undef KMT_SET_DEFAULT
}

static void
load_one(struct kmt_settings *s, const char *name, const char *(*lookup)(const char *key),
         kmt_settings_complaint complain, void *ctx)
{
    char env_name[64], key[64], lower[32];
    snprintf(env_name, sizeof(env_name), "VK_KMT_OFFER_RECLAIM_%s", name);
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof(lower); i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    snprintf(key, sizeof(key), "kmt_offer_reclaim.%s", lower);

    const char *text = getenv(env_name);
    const char *source = env_name;
    if (!text || !*text) {
        text = lookup ? lookup(key) : NULL;
        source = key;
    }
    if (!text || !*text)
        return;
    if (!kmt_settings_parse(s, name, text) && complain) {
        char message[256];
        snprintf(message, sizeof(message), "%s=\"%s\" is not a valid value; using the default.", source, text);
        complain(ctx, name, message);
    }
}

void
kmt_settings_load(struct kmt_settings *s, const char *(*lookup)(const char *key), kmt_settings_complaint complain,
                  void *ctx)
{
    kmt_settings_defaults(s);
#define KMT_LOAD_ONE(NAME, field, kind, def, help) load_one(s, #NAME, lookup, complain, ctx);
    KMT_SETTINGS(KMT_LOAD_ONE)
#undef KMT_LOAD_ONE
}

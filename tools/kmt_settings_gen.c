/* SPDX-License-Identifier: MIT */
/*
 * kmt_settings_gen -- everything that describes the layer's settings, written
 * from the one list in layer/settings.h (KMT_SETTINGS). Built and run at build
 * time (tools/CMakeLists.txt, cmake/KmtManifests.cmake); no Python.
 *
 *   kmt_settings_gen manifest <in> <out>   copy a staged layer manifest, replacing
 *                                          @KMT_FEATURES@ with the "features"
 *                                          object Vulkan Configurator reads
 *   kmt_settings_gen markdown <out>        docs/SETTINGS.md
 *   kmt_settings_gen settings-txt <out>    an example vk_layer_settings.txt
 *   kmt_settings_gen list                  NAME key env TYPE, one setting a line
 *   kmt_settings_gen check                 the list agrees with the parser in
 *                                          settings.c (defaults, every enum value,
 *                                          range ends, what Configurator writes)
 *
 * What the X-macro's `kind` text becomes:
 *   "0|1"             BOOL   (Configurator writes true/false; the parser takes both)
 *   "a|b|c"           ENUM   (one flag per value)
 *   "lo..hi"          INT with a range, or FLOAT when either end has a '.'
 *   "integer"         INT
 *   anything else     STRING
 * Labels are the NAME in title case (words of up to two letters stay upper
 * case: BUDGET_MB -> "Budget MB").
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

#define KMT_LAYER_NAME KMT_SETTINGS_LAYER_NAME
#define KMT_KEY_PREFIX "kmt_offer_reclaim" /* KMT_SETTINGS_KEY_PREFIX without its dot */
#define KMT_ENV_PREFIX KMT_SETTINGS_ENV_PREFIX
#define KMT_FEATURES_TOKEN "@KMT_FEATURES@"
#define MAX_VALUES 16

struct setting {
    const char *name, *kind, *def, *help;
};

static const struct setting settings[] = {
#define KMT_GEN_ENTRY(NAME, field, kind, def, help) {#NAME, kind, def, help},
    KMT_SETTINGS(KMT_GEN_ENTRY)
#undef KMT_GEN_ENTRY
};
#define SETTING_COUNT (sizeof(settings) / sizeof(settings[0]))

enum type { TYPE_BOOL, TYPE_ENUM, TYPE_INT, TYPE_FLOAT, TYPE_STRING };
static const char *const type_names[] = {"BOOL", "ENUM", "INT", "FLOAT", "STRING"};

struct shape {
    enum type type;
    int value_count;              /* ENUM, BOOL */
    char values[MAX_VALUES][32];
    bool has_range;               /* INT, FLOAT */
    char lo[32], hi[32];
};

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "kmt_settings_gen: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* A JSON number (what the ranges and numeric defaults are written as). */
static bool
is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return false;
    if (*s == '0' && isdigit((unsigned char)s[1]))
        return false;
    while (isdigit((unsigned char)*s))
        s++;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return *s == '\0';
}

static struct shape
shape_of(const struct setting *s)
{
    struct shape sh;
    memset(&sh, 0, sizeof(sh));
    const char *dots = strstr(s->kind, "..");
    if (strchr(s->kind, '|')) {
        const char *p = s->kind;
        while (*p) {
            size_t n = strcspn(p, "|");
            if (sh.value_count == MAX_VALUES || n == 0 || n >= sizeof(sh.values[0]))
                die("bad value list in kind", s->kind);
            memcpy(sh.values[sh.value_count++], p, n);
            p += n + (p[n] == '|');
        }
        bool boolean = sh.value_count == 2 && strcmp(sh.values[0], "0") == 0 && strcmp(sh.values[1], "1") == 0;
        sh.type = boolean ? TYPE_BOOL : TYPE_ENUM;
    } else if (dots) {
        size_t n = (size_t)(dots - s->kind);
        if (n == 0 || n >= sizeof(sh.lo) || strlen(dots + 2) >= sizeof(sh.hi))
            die("bad range in kind", s->kind);
        memcpy(sh.lo, s->kind, n);
        strcpy(sh.hi, dots + 2);
        if (!is_json_number(sh.lo) || !is_json_number(sh.hi))
            die("range ends must be plain numbers", s->kind);
        sh.has_range = true;
        sh.type = (strchr(sh.lo, '.') || strchr(sh.hi, '.')) ? TYPE_FLOAT : TYPE_INT;
    } else if (strcmp(s->kind, "integer") == 0) {
        sh.type = TYPE_INT;
    } else {
        sh.type = TYPE_STRING;
    }
    if ((sh.type == TYPE_INT || sh.type == TYPE_FLOAT) && !is_json_number(s->def))
        die("numeric default is not a plain number", s->name);
    if (sh.type == TYPE_INT && strchr(s->def, '.'))
        die("integer default has a fraction", s->name);
    return sh;
}

static void
lower(char *out, size_t size, const char *in)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

/* DISCARD_RATE -> "Discard Rate", BUDGET_MB -> "Budget MB". */
static void
label(char *out, size_t size, const char *name)
{
    size_t o = 0;
    const char *p = name;
    while (*p && o + 2 < size) {
        size_t n = strcspn(p, "_");
        for (size_t i = 0; i < n && o + 2 < size; i++) {
            char c = p[i];
            out[o++] = (n <= 2 || i == 0) ? (char)toupper((unsigned char)c) : (char)tolower((unsigned char)c);
        }
        p += n;
        if (*p == '_') {
            out[o++] = ' ';
            p++;
        }
    }
    out[o] = '\0';
}

static void
json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* One `"name": "value",` line of a setting. */
static void
json_field(FILE *f, const char *indent, const char *name, const char *value)
{
    fprintf(f, "%s            \"%s\": ", indent, name);
    json_string(f, value);
    fputs(",\n", f);
}

/* ---- the manifest's "features" object ------------------------------------------------ */

static void
write_features(FILE *f, const char *indent)
{
    fprintf(f, "{\n%s    \"settings\": [\n", indent);
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const struct setting *s = &settings[i];
        struct shape sh = shape_of(s);
        char key[64], lab[64];
        lower(key, sizeof(key), s->name);
        label(lab, sizeof(lab), s->name);
        const char *in = indent;
        fprintf(f, "%s        {\n", in);
        json_field(f, in, "key", key);
        fprintf(f, "%s            \"env\": \"" KMT_ENV_PREFIX "%s\",\n", in, s->name);
        json_field(f, in, "label", lab);
        json_field(f, in, "description", s->help);
        fprintf(f, "%s            \"type\": \"%s\",\n", in, type_names[sh.type]);
        if (sh.type == TYPE_ENUM) {
            fprintf(f, "%s            \"flags\": [\n", in);
            for (int v = 0; v < sh.value_count; v++) {
                char desc[128];
                snprintf(desc, sizeof(desc), KMT_ENV_PREFIX "%s=%s", s->name, sh.values[v]);
                fprintf(f, "%s                { \"key\": ", in);
                json_string(f, sh.values[v]);
                fputs(", \"label\": ", f);
                json_string(f, sh.values[v]);
                fputs(", \"description\": ", f);
                json_string(f, desc);
                fprintf(f, " }%s\n", v + 1 < sh.value_count ? "," : "");
            }
            fprintf(f, "%s            ],\n", in);
        }
        if (sh.has_range)
            fprintf(f, "%s            \"range\": { \"min\": %s, \"max\": %s },\n", in, sh.lo, sh.hi);
        fprintf(f, "%s            \"default\": ", in);
        switch (sh.type) {
        case TYPE_BOOL: fputs(strcmp(s->def, "0") ? "true" : "false", f); break;
        case TYPE_INT:
        case TYPE_FLOAT: fputs(s->def, f); break;
        default: json_string(f, s->def); break;
        }
        fprintf(f, "\n%s        }%s\n", in, i + 1 < SETTING_COUNT ? "," : "");
    }
    fprintf(f, "%s    ]\n%s}", indent, indent);
}

static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot read", path);
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    size_t n;
    while (text && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *bigger = realloc(text, cap *= 2);
            if (!bigger)
                free(text);
            text = bigger;
        }
    }
    fclose(f);
    if (!text)
        die("out of memory", NULL);
    text[len] = '\0';
    return text;
}

/* Writes next to `path` and renames, so a reader never sees half a file. */
static FILE *
open_out(const char *path, char *tmp, size_t size)
{
    snprintf(tmp, size, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        die("cannot write", tmp);
    return f;
}

static void
close_out(FILE *f, const char *tmp, const char *path)
{
    bool failed = ferror(f) != 0;
    failed |= fclose(f) != 0;
    if (failed || rename(tmp, path) != 0)
        die("cannot write", path);
}

static int
cmd_manifest(const char *in, const char *out)
{
    char *text = read_file(in);
    char *token = strstr(text, KMT_FEATURES_TOKEN);
    if (!token)
        die("no " KMT_FEATURES_TOKEN " in", in);
    /* Indent the object like the line that holds the token. */
    char indent[64] = "";
    const char *line = token;
    while (line > text && line[-1] != '\n')
        line--;
    size_t n = strspn(line, " ");
    if (n < sizeof(indent)) {
        memset(indent, ' ', n);
        indent[n] = '\0';
    }

    char tmp[4096];
    FILE *f = open_out(out, tmp, sizeof(tmp));
    fwrite(text, 1, (size_t)(token - text), f);
    write_features(f, indent);
    fputs(token + strlen(KMT_FEATURES_TOKEN), f);
    close_out(f, tmp, out);
    free(text);
    return 0;
}

/* ---- docs ----------------------------------------------------------------------------- */

static void
markdown_cell(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else
            fputc(*s, f);
    }
}

static void
markdown_values(FILE *f, const struct setting *s, const struct shape *sh)
{
    switch (sh->type) {
    case TYPE_BOOL: fputs("`0`, `1` (or `false`, `true`)", f); break;
    case TYPE_ENUM:
        for (int v = 0; v < sh->value_count; v++)
            fprintf(f, "%s`%s`", v ? ", " : "", sh->values[v]);
        break;
    case TYPE_INT:
        if (sh->has_range)
            fprintf(f, "integer, `%s`..`%s`", sh->lo, sh->hi);
        else
            fputs("integer", f);
        break;
    case TYPE_FLOAT: fprintf(f, "number, `%s`..`%s`", sh->lo, sh->hi); break;
    default: markdown_cell(f, s->kind); break;
    }
}

/* The VkLayerSettingEXT types an app may use for a setting (settings_app.h). */
static const char *
app_types(const struct shape *sh)
{
    switch (sh->type) {
    case TYPE_BOOL: return "`BOOL32`, `STRING`";
    case TYPE_INT: return "`INT32`, `INT64`, `UINT32`, `UINT64`, `STRING`";
    case TYPE_FLOAT: return "`FLOAT32`, `FLOAT64`, `STRING`";
    default: return "`STRING`";
    }
}

static int
cmd_markdown(const char *out)
{
    char tmp[4096];
    FILE *f = open_out(out, tmp, sizeof(tmp));
    fputs("<!-- Generated from KMT_SETTINGS in layer/settings.h by tools/kmt_settings_gen.c: do not edit.\n"
          "     Refresh with: cmake --build <build> --target kmt_update_settings_docs -->\n"
          "# " KMT_LAYER_NAME " settings\n\n"
          "Each setting is read from, highest precedence first:\n\n"
          "1. the environment variable `" KMT_ENV_PREFIX "<NAME>`;\n"
          "2. the entry `" KMT_KEY_PREFIX ".<name>` of a `vk_layer_settings.txt` (below);\n"
          "3. the application's `VkLayerSettingsCreateInfoEXT` (`VK_EXT_layer_settings`) in `vkCreateInstance`\n"
          "   (below);\n"
          "4. the default.\n\n"
          "The highest source that sets a setting decides (an empty value counts as not set). A value that\n"
          "does not parse is reported (message `KMT-bad-setting`, naming the source, the valid values and the\n"
          "default) and the default is used; lower sources are not consulted for that setting. Keys in the\n"
          "file, setting names from the application and enum values are case-insensitive; environment\n"
          "variable names are exact (upper case). An unknown `" KMT_KEY_PREFIX ".*` key, an unknown setting\n"
          "name from the application and an unknown `" KMT_ENV_PREFIX "*` variable are reported\n"
          "(`KMT-unknown-setting`) and ignored (`" KMT_ENV_PREFIX "ENABLE` and `_DISABLE` belong to the\n"
          "manifest). Settings are read when a device that enabled `VK_KMT_offer_reclaim` is created\n"
          "(`LOG_LEVEL` also at `vkCreateInstance`); the messages arrive with the device's first call, and the\n"
          "startup message (`KMT-startup`, info) lists every setting with its value and where it came from\n"
          "(`environment`, `file`, `app` or `default`).\n\n"
          "| environment variable | `vk_layer_settings.txt` key | values | default | `VkLayerSettingEXT` types | meaning |\n"
          "|---|---|---|---|---|---|\n",
          f);
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const struct setting *s = &settings[i];
        struct shape sh = shape_of(s);
        char key[64];
        lower(key, sizeof(key), s->name);
        fprintf(f, "| `" KMT_ENV_PREFIX "%s` | `" KMT_KEY_PREFIX ".%s` | ", s->name, key);
        markdown_values(f, s, &sh);
        if (s->def[0])
            fprintf(f, " | `%s` | %s | ", s->def, app_types(&sh));
        else
            fprintf(f, " | (empty) | %s | ", app_types(&sh));
        markdown_cell(f, s->help);
        fputs(" |\n", f);
    }
    fputs("\n## vk_layer_settings.txt\n\n"
          "Found as the Khronos layers (Vulkan-ValidationLayers 1.3.239) find it; the first that applies:\n\n"
          "1. `$XDG_DATA_HOME/vulkan/settings.d/vk_layer_settings.txt` (else\n"
          "   `$HOME/.local/share/vulkan/settings.d/...`), where Vulkan Configurator writes it, when it is a\n"
          "   regular file;\n"
          "2. `VK_LAYER_SETTINGS_PATH`, when it exists: the file it names, or `vk_layer_settings.txt` in the\n"
          "   folder it names;\n"
          "3. `vk_layer_settings.txt` in the working directory.\n\n"
          "Only a regular file of at most 1 MiB is read. Anything else (`/dev/zero`, a FIFO, a socket, a\n"
          "larger file, a missing `VK_LAYER_SETTINGS_PATH`) is reported (`KMT-settings-file`) and no file\n"
          "settings are used. One `key = value` a line; `#` starts a comment; a later line wins. The\n"
          "`" KMT_KEY_PREFIX ".` prefix is the layer name without `VK_LAYER_`, lower case, as Vulkan\n"
          "Configurator writes it. Every setting at its default:\n\n"
          "```ini\n",
          f);
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        char key[64];
        lower(key, sizeof(key), settings[i].name);
        fprintf(f, "# " KMT_KEY_PREFIX ".%s = %s\n", key, settings[i].def);
    }
    fputs("```\n\n"
          "## VkLayerSettingsCreateInfoEXT\n\n"
          "An application can set the same settings itself, below the user's environment and file: chain a\n"
          "`VkLayerSettingsCreateInfoEXT` into `VkInstanceCreateInfo::pNext` with entries whose `pLayerName`\n"
          "is `\"" KMT_LAYER_NAME "\"` and whose `pSettingName` is the key without prefix. Each entry\n"
          "has exactly one value, of a type from the table (`STRING` always works; numbers are turned into\n"
          "text and parsed like the environment's). Several structs may be chained; a later entry wins. The\n"
          "layer does not need `VK_EXT_layer_settings` enabled and does not list it; Debian 12's headers\n"
          "(1.3.239) lack the structs, which `layer/settings_app.h` declares as the registry does.\n\n"
          "```c\n"
          "const char *policy = \"pressure\";\n"
          "const uint32_t budget_mb = 256;\n"
          "const VkLayerSettingEXT entries[] = {\n"
          "    {\"" KMT_LAYER_NAME "\", \"discard\", VK_LAYER_SETTING_TYPE_STRING_EXT, 1, &policy},\n"
          "    {\"" KMT_LAYER_NAME "\", \"budget_mb\", VK_LAYER_SETTING_TYPE_UINT32_EXT, 1, &budget_mb},\n"
          "};\n"
          "const VkLayerSettingsCreateInfoEXT layer_settings = {\n"
          "    VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT, NULL, 2, entries};\n"
          "instance_info.pNext = &layer_settings;\n"
          "```\n\n"
          "The layer manifest lists the same settings (`features.settings`), so Vulkan Configurator\n"
          "can show and edit them.\n",
          f);
    close_out(f, tmp, out);
    return 0;
}

static int
cmd_settings_txt(const char *out)
{
    char tmp[4096];
    FILE *f = open_out(out, tmp, sizeof(tmp));
    fputs("# vk_layer_settings.txt for " KMT_LAYER_NAME " (every setting at its default).\n"
          "# Point VK_LAYER_SETTINGS_PATH at this file (or its folder), or put it in the\n"
          "# application's working directory. An environment variable\n"
          "# " KMT_ENV_PREFIX "<NAME> wins over the entry here; the entry here wins\n"
          "# over what the application passes in VkLayerSettingsCreateInfoEXT.\n",
          f);
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const struct setting *s = &settings[i];
        char key[64];
        lower(key, sizeof(key), s->name);
        fprintf(f, "\n# %s\n# values: %s\n", s->help, s->kind);
        fprintf(f, "# " KMT_KEY_PREFIX ".%s = %s\n", key, s->def);
    }
    close_out(f, tmp, out);
    return 0;
}

static int
cmd_list(void)
{
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        char key[64];
        lower(key, sizeof(key), settings[i].name);
        printf("%s " KMT_KEY_PREFIX ".%s " KMT_ENV_PREFIX "%s %s\n", settings[i].name, key, settings[i].name,
               type_names[shape_of(&settings[i]).type]);
    }
    return 0;
}

/* ---- check: the list and the parser agree ---------------------------------------------- */

static int failures;

static void
expect_parse(const char *name, const char *text, bool ok)
{
    struct kmt_settings s;
    kmt_settings_defaults(&s);
    if (kmt_settings_parse(&s, name, text) != ok) {
        fprintf(stderr, "kmt_settings_gen check: %s=\"%s\" %s, but KMT_SETTINGS says it %s\n", name, text,
                ok ? "is rejected by settings.c" : "is accepted by settings.c", ok ? "is valid" : "is not");
        failures++;
    }
}

static int
cmd_check(void)
{
    char text[64];
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const struct setting *s = &settings[i];
        struct shape sh = shape_of(s);
        expect_parse(s->name, s->def, true);
        switch (sh.type) {
        case TYPE_BOOL:
            /* Vulkan Configurator writes BOOL settings as true / false. */
            expect_parse(s->name, "0", true);
            expect_parse(s->name, "1", true);
            expect_parse(s->name, "true", true);
            expect_parse(s->name, "false", true);
            expect_parse(s->name, "2", false);
            break;
        case TYPE_ENUM: {
            bool default_listed = false;
            for (int v = 0; v < sh.value_count; v++) {
                expect_parse(s->name, sh.values[v], true);
                default_listed |= strcmp(sh.values[v], s->def) == 0;
            }
            if (!default_listed) {
                fprintf(stderr, "kmt_settings_gen check: %s default \"%s\" is not one of \"%s\"\n", s->name, s->def,
                        s->kind);
                failures++;
            }
            expect_parse(s->name, "no-such-value", false);
            break;
        }
        case TYPE_INT:
            if (sh.has_range) {
                expect_parse(s->name, sh.lo, true);
                expect_parse(s->name, sh.hi, true);
                snprintf(text, sizeof(text), "%lld", strtoll(sh.hi, NULL, 10) + 1);
                expect_parse(s->name, text, false);
                snprintf(text, sizeof(text), "%lld", strtoll(sh.lo, NULL, 10) - 1);
                expect_parse(s->name, text, false);
            } else {
                expect_parse(s->name, "0", true);
                expect_parse(s->name, "12345", true);
            }
            expect_parse(s->name, "many", false);
            break;
        case TYPE_FLOAT: {
            double lo = strtod(sh.lo, NULL), hi = strtod(sh.hi, NULL), span = hi - lo;
            const double probes[] = {(lo + hi) / 2, hi + span / 2, lo - span / 2};
            expect_parse(s->name, sh.lo, true);
            expect_parse(s->name, sh.hi, true);
            for (int p = 0; p < 3; p++) {
                snprintf(text, sizeof(text), "%g", probes[p]);
                expect_parse(s->name, text, p == 0);
            }
            expect_parse(s->name, "many", false);
            break;
        }
        default: break;
        }
    }
    expect_parse("NO_SUCH_SETTING", "1", false);
    if (failures)
        fprintf(stderr, "kmt_settings_gen check: %d mismatches between KMT_SETTINGS and settings.c\n", failures);
    else
        printf("kmt_settings_gen check: %zu settings agree with settings.c\n", SETTING_COUNT);
    return failures ? 1 : 0;
}

int
main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "manifest") == 0 && argc == 4)
        return cmd_manifest(argv[2], argv[3]);
    if (strcmp(cmd, "markdown") == 0 && argc == 3)
        return cmd_markdown(argv[2]);
    if (strcmp(cmd, "settings-txt") == 0 && argc == 3)
        return cmd_settings_txt(argv[2]);
    if (strcmp(cmd, "list") == 0 && argc == 2)
        return cmd_list();
    if (strcmp(cmd, "check") == 0 && argc == 2)
        return cmd_check();
    fprintf(stderr, "usage: kmt_settings_gen manifest <in> <out> | markdown <out> | settings-txt <out> | list | check\n");
    return 2;
}

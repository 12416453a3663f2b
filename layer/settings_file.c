/* SPDX-License-Identifier: MIT */
/*
 * settings_file.c -- vk_layer_settings.txt and kmt_settings_read (settings_file.h).
 */
#include "settings_file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings_app.h"

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

static char *
join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *out = malloc(na + nb + 1);
    if (out) {
        memcpy(out, a, na);
        memcpy(out + na, b, nb + 1);
    }
    return out;
}

static const char *
file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* ---- which file ------------------------------------------------------------------------ */

/* Vulkan Configurator's file, when it is a regular file (VVL's first choice). */
static char *
vkconfig_path(void)
{
    const char *data = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char *path = NULL;
    if (data && *data)
        path = join(data, "/vulkan/settings.d/" KMT_SETTINGS_FILE_NAME);
    else if (home && *home)
        path = join(home, "/.local/share/vulkan/settings.d/" KMT_SETTINGS_FILE_NAME);
    struct stat st;
    if (path && stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return path;
    free(path);
    return NULL;
}

/* The file to read (malloc). *quiet: its absence is normal (the working
 * directory's file), not worth a message. */
static char *
choose_path(bool *quiet, kmt_settings_complaint complain, void *ctx)
{
    *quiet = false;
    char *path = vkconfig_path();
    if (path)
        return path;
    const char *named = getenv("VK_LAYER_SETTINGS_PATH");
    struct stat st;
    if (named && *named) {
        if (stat(named, &st) == 0)
            return S_ISDIR(st.st_mode) ? join(named, "/" KMT_SETTINGS_FILE_NAME) : join(named, "");
        say(complain, ctx, "KMT-settings-file",
            "VK_LAYER_SETTINGS_PATH=%s: %s; reading " KMT_SETTINGS_FILE_NAME " in the working directory instead.", named,
            strerror(errno));
    }
    *quiet = true;
    return join(KMT_SETTINGS_FILE_NAME, "");
}

/* ---- reading, bounded ------------------------------------------------------------------ */

/* The whole file (malloc, NUL-terminated, length in *length), or NULL.
 * O_NONBLOCK: opening a FIFO must not wait for a writer; fstat on the open
 * file: what is checked is what is read. */
static char *
read_regular(const char *path, bool quiet, size_t *length, kmt_settings_complaint complain, void *ctx)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (!(quiet && errno == ENOENT))
            say(complain, ctx, "KMT-settings-file", "Settings file %s cannot be opened: %s; no file settings used.",
                path, strerror(errno));
        return NULL;
    }
    struct stat st;
    memset(&st, 0, sizeof(st));
    char *text = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        say(complain, ctx, "KMT-settings-file",
            "Settings file %s is %s, not a regular file: it is not read (only a regular file, or a folder holding "
            KMT_SETTINGS_FILE_NAME ", is); no file settings used.",
            path, file_kind(st.st_mode));
        goto out;
    }
    /* st_size is a hint (files in /proc say 0): the reading itself stops
     * one byte past the limit. */
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 2 : 4096;
    cap = cap < KMT_SETTINGS_FILE_MAX + 2 ? cap : KMT_SETTINGS_FILE_MAX + 2;
    size_t used = 0;
    text = malloc(cap);
    while (text) {
        if (used + 1 == cap) {
            size_t bigger_cap = cap * 2 < KMT_SETTINGS_FILE_MAX + 2 ? cap * 2 : KMT_SETTINGS_FILE_MAX + 2;
            char *bigger = used > KMT_SETTINGS_FILE_MAX ? NULL : realloc(text, bigger_cap);
            if (!bigger) {
                if (used > KMT_SETTINGS_FILE_MAX)
                    say(complain, ctx, "KMT-settings-file",
                        "Settings file %s is larger than %u bytes: it is not read; no file settings used.", path,
                        KMT_SETTINGS_FILE_MAX);
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            cap = bigger_cap;
        }
        ssize_t n = read(fd, text + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            say(complain, ctx, "KMT-settings-file", "Settings file %s cannot be read: %s; no file settings used.", path,
                strerror(errno));
            free(text);
            text = NULL;
            break;
        }
        if (n == 0) {
            text[used] = '\0';
            *length = used;
            break;
        }
        used += (size_t)n;
    }
out:
    close(fd);
    return text;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static void
parse_line(struct kmt_settings_file *f, char *line, unsigned number, kmt_settings_complaint complain, void *ctx)
{
    const size_t prefix = strlen(KMT_SETTINGS_KEY_PREFIX);
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *eq = strchr(line, '=');
    if (eq)
        *eq = '\0';
    char *key = trim(line);
    if (strncasecmp(key, KMT_SETTINGS_KEY_PREFIX, prefix) != 0)
        return; /* another layer's, or nothing */
    if (!eq) {
        say(complain, ctx, "KMT-settings-file", "%s line %u: \"%.64s\" has no '='; ignored.", f->path, number, key);
        return;
    }
    enum kmt_setting_id id = kmt_setting_find(key + prefix);
    if (id == KMT_SETTING_COUNT) {
        char list[512];
        kmt_setting_list(false, list, sizeof(list));
        say(complain, ctx, "KMT-unknown-setting",
            "%.64s (%s line %u) is not a setting of " KMT_SETTINGS_LAYER_NAME
            " and is ignored; the settings are " KMT_SETTINGS_KEY_PREFIX "<name> for %s.",
            key, f->path, number, list);
        return;
    }
    f->texts.text[id] = trim(eq + 1); /* a later line wins */
}

void
kmt_settings_file_parse(struct kmt_settings_file *f, char *contents, size_t length, const char *path,
                        kmt_settings_complaint complain, void *ctx)
{
    memset(f, 0, sizeof(*f));
    f->contents = contents;
    f->path = join(path, "");
    f->texts.origin = f->path;
    if (!f->path || !contents)
        return;
    char *end = contents + length;
    unsigned number = 0;
    for (char *line = contents; line < end;) {
        char *newline = memchr(line, '\n', (size_t)(end - line));
        char *next = newline ? newline + 1 : end;
        if (newline)
            *newline = '\0';
        parse_line(f, line, ++number, complain, ctx);
        line = next;
    }
}

void
kmt_settings_file_read(struct kmt_settings_file *f, kmt_settings_complaint complain, void *ctx)
{
    memset(f, 0, sizeof(*f));
    bool quiet;
    char *path = choose_path(&quiet, complain, ctx);
    if (!path)
        return;
    size_t length = 0;
    char *contents = read_regular(path, quiet, &length, complain, ctx);
    if (contents)
        kmt_settings_file_parse(f, contents, length, path, complain, ctx);
    free(path);
}

void
kmt_settings_file_release(struct kmt_settings_file *f)
{
    free(f->contents);
    free(f->path);
    memset(f, 0, sizeof(*f));
}

/* ---- every source -------------------------------------------------------------------------- */

struct capped_complaints {
    kmt_settings_complaint complain;
    void *ctx;
    unsigned count;
};

/* Keeps a flood of problems (a settings file full of typos) from crowding
 * out the device's other startup messages. */
static void
capped_complain(void *ctx, const char *id, const char *message)
{
    struct capped_complaints *c = ctx;
    if (++c->count <= KMT_SETTINGS_MAX_COMPLAINTS)
        c->complain(c->ctx, id, message);
}

void
kmt_settings_read(struct kmt_settings *s, const struct kmt_app_settings *app, kmt_settings_complaint complain,
                  void *ctx)
{
    struct capped_complaints cap = {complain, ctx, 0};
    kmt_settings_complaint via = complain ? capped_complain : NULL;
    struct kmt_settings_file file;
    kmt_settings_file_read(&file, via, &cap);
    kmt_app_settings_report(app, via, &cap);
    kmt_settings_resolve(s, &file.texts, app ? &app->texts : NULL, via, &cap);
    kmt_settings_file_release(&file);
    if (cap.count > KMT_SETTINGS_MAX_COMPLAINTS)
        say(complain, ctx, "KMT-bad-setting", "%u more settings problems are not shown.",
            cap.count - KMT_SETTINGS_MAX_COMPLAINTS);
}

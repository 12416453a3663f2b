/* SPDX-License-Identifier: MIT */
/*
 * settings_file.h -- vk_layer_settings.txt, and kmt_settings_read, which
 * gathers every source of the settings (settings.h).
 *
 * The file is found as Vulkan-ValidationLayers 1.3.239 finds it (the Khronos
 * layers' rules), first match wins:
 *   1. $XDG_DATA_HOME/vulkan/settings.d/vk_layer_settings.txt (else
 *      $HOME/.local/share/...): where Vulkan Configurator writes it; used only
 *      when it is a regular file;
 *   2. VK_LAYER_SETTINGS_PATH, when it exists: the file it names, or
 *      vk_layer_settings.txt in the folder it names;
 *   3. vk_layer_settings.txt in the working directory.
 * Unlike VVL's reader, only a regular file is read, and only up to
 * KMT_SETTINGS_FILE_MAX bytes: VK_LAYER_SETTINGS_PATH=/dev/zero made VVL's
 * reader eat gigabytes inside vkCreateInstance and a FIFO would block it for
 * ever. Anything else is reported ("KMT-settings-file") and no file is read.
 *
 * Format (VVL's): one `key = value` a line, `#` starts a comment, blanks
 * around key and value are dropped, a later line wins over an earlier one.
 * Keys starting with kmt_offer_reclaim. (in any case) are this layer's; other
 * layers' keys are left alone.
 */
#ifndef KMT_SETTINGS_FILE_H
#define KMT_SETTINGS_FILE_H

#include <stddef.h>

#include "settings.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KMT_SETTINGS_FILE_NAME "vk_layer_settings.txt"
#define KMT_SETTINGS_FILE_MAX (1u << 20)

struct kmt_settings_file {
    char *contents;                /* the file, NUL-terminated, parsed in place (malloc) */
    char *path;                    /* the file read (malloc); NULL when none */
    struct kmt_setting_texts texts; /* this layer's entries, pointing into contents */
};

/* Finds and reads the file; problems go to `complain` (may be NULL). Leaves
 * `file` empty (every text NULL) when there is no file to read. */
void kmt_settings_file_read(struct kmt_settings_file *file, kmt_settings_complaint complain, void *ctx);
/* The parser alone: takes ownership of `contents` (malloc, `length` bytes
 * and a NUL); `path` names the file in messages. */
void kmt_settings_file_parse(struct kmt_settings_file *file, char *contents, size_t length, const char *path,
                             kmt_settings_complaint complain, void *ctx);
void kmt_settings_file_release(struct kmt_settings_file *file);

struct kmt_app_settings; /* settings_app.h */

/* Every setting from every source (settings.h): the environment, the file
 * (read now), the app's values the instance kept (`app`, may be NULL), the
 * defaults. `complain` (may be NULL) hears every problem, up to
 * KMT_SETTINGS_MAX_COMPLAINTS of them, then one message that counts the rest. */
void kmt_settings_read(struct kmt_settings *settings, const struct kmt_app_settings *app,
                       kmt_settings_complaint complain, void *ctx);
/* These, the one that counts the rest and the startup line leave room in the
 * device's deferred-message buffer (KMT_LOG_BUFFER_SIZE, log.h). */
#define KMT_SETTINGS_MAX_COMPLAINTS 5

#ifdef __cplusplus
}
#endif

#endif

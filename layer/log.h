/* SPDX-License-Identifier: MIT */
/*
 * log.h -- messages through the app's VK_EXT_debug_utils messengers, else
 * stderr (prefixed with the layer name), filtered by LOG_LEVEL, and also to
 * the LOG_FILE when one is set.
 *
 * Every message has a stable ID ("KMT-...") and a messageIdNumber derived from
 * it (kmt_log_id_number: the same ID gives the same non-zero number in every
 * build and process), and, where there is one, the objects it is about with
 * the names the app gave them (vkSetDebugUtilsObjectNameEXT).
 *
 * Two ways to reach the app's messengers:
 * - normally through vkSubmitDebugUtilsMessageEXT down the chain (layers
 *   below and the loader see the message);
 * - "direct", where the loader holds its own lock around the call the layer
 *   is in (vkCreateDevice, vkDestroyDevice): vkSubmitDebugUtilsMessageEXT
 *   would take that lock again and deadlock (LOADER-NOTES), so the layer
 *   calls the callbacks of the messengers the app created itself, with each
 *   messenger's severity and type filters, as the loader does.
 */
#ifndef KMT_LOG_H
#define KMT_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>

#include "settings.h"

struct kmt_log_sinks; /* the app's messengers and the log file (log.c) */

/* Attached to a VkInstance. */
struct kmt_logger {
    VkInstance instance;
    PFN_vkSubmitDebugUtilsMessageEXT submit; /* NULL unless the app enabled VK_EXT_debug_utils */
    atomic_uint messengers;                  /* messengers the app has created */
    enum kmt_log_level level;
    struct kmt_log_sinks *sinks;             /* NULL when out of host memory (stderr only) */
};

/* One object a message is about. */
struct kmt_log_object {
    VkObjectType type;
    uint64_t handle;
    const char *name; /* the app's name for it, or NULL */
};

/* Sets up the logger of a new instance: level and LOG_FILE from settings. A
 * LOG_FILE that cannot be opened is reported on stderr. allocator: the
 * instance's (NULL: libc); it must outlive the logger. */
void kmt_logger_init(struct kmt_logger *logger, VkInstance instance, PFN_vkSubmitDebugUtilsMessageEXT submit,
                     const struct kmt_settings *settings, const VkAllocationCallbacks *allocator);
void kmt_logger_finish(struct kmt_logger *logger);

/* The app created / destroyed a messenger (vkCreateDebugUtilsMessengerEXT). */
void kmt_logger_add_messenger(struct kmt_logger *logger, VkDebugUtilsMessengerEXT handle,
                              const VkDebugUtilsMessengerCreateInfoEXT *info);
void kmt_logger_remove_messenger(struct kmt_logger *logger, VkDebugUtilsMessengerEXT handle);

/* Stable, non-zero messageIdNumber of a message ID (32-bit FNV-1a). */
int32_t kmt_log_id_number(const char *id);

/* Whether a message of this level would go anywhere. */
static inline bool
kmt_log_wants(const struct kmt_logger *logger, enum kmt_log_level level)
{
    return logger && level != KMT_LOG_NONE && level <= logger->level;
}

/* Sends a formatted message about `count` objects. direct: the loader holds
 * its lock (see above). */
void kmt_log_send(const struct kmt_logger *logger, enum kmt_log_level level, const char *id, uint32_t count,
                  const struct kmt_log_object *objects, const char *text, bool direct);

/* kmt_log_send whatever LOG_LEVEL says (what STATS=1 asked for). */
void kmt_log_send_unfiltered(const struct kmt_logger *logger, enum kmt_log_level level, const char *id,
                             uint32_t count, const struct kmt_log_object *objects, const char *text, bool direct);

void kmt_log(const struct kmt_logger *logger, enum kmt_log_level level, const char *id, VkObjectType object_type,
             uint64_t object, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Messages raised inside vkCreateDevice, collected while the device is set
 * up and sent (direct) once it exists, or by kmt_log_flush at the device's
 * first call when nobody sent them yet. */
#define KMT_LOG_BUFFER_SIZE 8
#define KMT_LOG_TEXT_MAX 2048 /* the startup line lists every setting, each heap and its budget */
struct kmt_log_buffer {
    atomic_bool pending;
    uint32_t count;
    struct kmt_log_entry {
        enum kmt_log_level level;
        const char *id;
        VkObjectType object_type;
        uint64_t object;
        char text[KMT_LOG_TEXT_MAX];
    } entries[KMT_LOG_BUFFER_SIZE];
};

void kmt_log_defer(struct kmt_log_buffer *buffer, const struct kmt_logger *logger, enum kmt_log_level level,
                   const char *id, VkObjectType object_type, uint64_t object, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void kmt_log_flush(struct kmt_log_buffer *buffer, const struct kmt_logger *logger);
/* kmt_log_flush where the loader holds its lock. */
void kmt_log_flush_direct(struct kmt_log_buffer *buffer, const struct kmt_logger *logger);

#endif

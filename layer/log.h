/* SPDX-License-Identifier: MIT */
/*
 * log.h -- messages through the app's VK_EXT_debug_utils messengers, else
 * stderr (prefixed with the layer name), filtered by LOG_LEVEL. Every message
 * has a stable ID ("KMT-...") and, where there is one, the object it is about.
 */
#ifndef KMT_LOG_H
#define KMT_LOG_H

#include <stdatomic.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>

#include "settings.h"

struct kmt_logger {
    VkInstance instance;
    PFN_vkSubmitDebugUtilsMessageEXT submit; /* NULL unless the app enabled VK_EXT_debug_utils */
    atomic_uint messengers;                  /* messengers the app has created */
    enum kmt_log_level level;
};

/* Messages held back while the loader holds its lock (inside vkCreateDevice:
 * vkSubmitDebugUtilsMessageEXT would take the same lock and deadlock), sent
 * by kmt_log_flush at the device's first call after creation. */
#define KMT_LOG_BUFFER_SIZE 8
#define KMT_LOG_TEXT_MAX 1024 /* the startup line lists every setting */
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

void kmt_log(const struct kmt_logger *logger, enum kmt_log_level level, const char *id, VkObjectType object_type,
             uint64_t object, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif

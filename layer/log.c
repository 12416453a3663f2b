/* SPDX-License-Identifier: MIT */
/*
 * log.c -- see log.h.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static VkDebugUtilsMessageSeverityFlagBitsEXT
severity_of(enum kmt_log_level level)
{
    switch (level) {
    case KMT_LOG_ERROR: return VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    case KMT_LOG_WARNING: return VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
    case KMT_LOG_INFO: return VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT;
    default: return VK_DEBUG_UTILS_MESSAGE_SEVERITY_VERBOSE_BIT_EXT;
    }
}

static const char *
level_name(enum kmt_log_level level)
{
    switch (level) {
    case KMT_LOG_ERROR: return "error";
    case KMT_LOG_WARNING: return "warning";
    case KMT_LOG_INFO: return "info";
    default: return "verbose";
    }
}

void
kmt_log(const struct kmt_logger *logger, enum kmt_log_level level, const char *id, VkObjectType object_type,
        uint64_t object, const char *fmt, ...)
{
    if (!logger || level > logger->level || level == KMT_LOG_NONE)
        return;
    char text[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);

    if (logger->submit && atomic_load(&logger->messengers) > 0) {
        VkDebugUtilsObjectNameInfoEXT name = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
            .objectType = object_type,
            .objectHandle = object,
        };
        VkDebugUtilsMessengerCallbackDataEXT data = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CALLBACK_DATA_EXT,
            .pMessageIdName = id,
            .messageIdNumber = 0,
            .pMessage = text,
            .objectCount = object ? 1u : 0u,
            .pObjects = object ? &name : NULL,
        };
        VkDebugUtilsMessageTypeFlagsEXT type = level <= KMT_LOG_WARNING
                                                   ? VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                                                   : VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT;
        logger->submit(logger->instance, severity_of(level), type, &data);
        return;
    }
    fprintf(stderr, "VK_LAYER_KMT_offer_reclaim %s [%s]: %s\n", level_name(level), id, text);
}

void
kmt_log_defer(struct kmt_log_buffer *buffer, const struct kmt_logger *logger, enum kmt_log_level level,
              const char *id, VkObjectType object_type, uint64_t object, const char *fmt, ...)
{
    if (!logger || level > logger->level || level == KMT_LOG_NONE || buffer->count == KMT_LOG_BUFFER_SIZE)
        return;
    struct kmt_log_entry *e = &buffer->entries[buffer->count++];
    e->level = level;
    e->id = id;
    e->object_type = object_type;
    e->object = object;
    va_list args;
    va_start(args, fmt);
    vsnprintf(e->text, sizeof(e->text), fmt, args);
    va_end(args);
    atomic_store(&buffer->pending, true);
}

void
kmt_log_flush(struct kmt_log_buffer *buffer, const struct kmt_logger *logger)
{
    /* One thread wins the exchange and sends everything. */
    if (!atomic_load(&buffer->pending) || !atomic_exchange(&buffer->pending, false))
        return;
    for (uint32_t i = 0; i < buffer->count; i++) {
        const struct kmt_log_entry *e = &buffer->entries[i];
        kmt_log(logger, e->level, e->id, e->object_type, e->object, "%s", e->text);
    }
    buffer->count = 0; /* sent: a later deferral starts afresh */
}

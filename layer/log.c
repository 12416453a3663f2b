/* SPDX-License-Identifier: MIT */
/*
 * log.c -- see log.h.
 */
#include "log.h"

#include "memory.h" /* kmt_alloc */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct app_messenger {
    VkDebugUtilsMessengerEXT handle;
    VkDebugUtilsMessageSeverityFlagsEXT severities;
    VkDebugUtilsMessageTypeFlagsEXT types;
    PFN_vkDebugUtilsMessengerCallbackEXT callback;
    void *user_data;
};

struct kmt_log_sinks {
    const VkAllocationCallbacks *allocator; /* the instance's */
    /* Guards the list. Held while a direct message runs the app's callbacks,
     * as the loader holds its lock around them: a messenger is never
     * destroyed under a running callback. */
    pthread_mutex_t lock;
    struct app_messenger *messengers;
    uint32_t count, capacity;
    FILE *file; /* LOG_FILE, line-buffered; stdio locks it per call */
};

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

/* ---- setup ------------------------------------------------------------------ */

void
kmt_logger_init(struct kmt_logger *logger, VkInstance instance, PFN_vkSubmitDebugUtilsMessageEXT submit,
                const struct kmt_settings *settings, const VkAllocationCallbacks *allocator)
{
    logger->instance = instance;
    logger->submit = submit;
    logger->level = settings->log_level;
    atomic_store(&logger->messengers, 0);
    logger->sinks = kmt_alloc(allocator, sizeof(*logger->sinks), VK_SYSTEM_ALLOCATION_SCOPE_INSTANCE);
    if (!logger->sinks)
        return;
    memset(logger->sinks, 0, sizeof(*logger->sinks));
    logger->sinks->allocator = allocator;
    pthread_mutex_init(&logger->sinks->lock, NULL);
    if (!settings->log_file[0])
        return;
    /* Appended: the loader loads the layer again for every instance, and
     * several instances (or processes) may share one file. */
    logger->sinks->file = fopen(settings->log_file, "a");
    if (logger->sinks->file)
        setvbuf(logger->sinks->file, NULL, _IOLBF, 0); /* each line reaches the file at once */
    else
        fprintf(stderr, "VK_LAYER_KMT_offer_reclaim warning [KMT-log-file]: LOG_FILE \"%s\" cannot be opened: %s\n",
                settings->log_file, strerror(errno));
}

void
kmt_logger_finish(struct kmt_logger *logger)
{
    struct kmt_log_sinks *sinks = logger->sinks;
    if (!sinks)
        return;
    if (sinks->file)
        fclose(sinks->file);
    kmt_free(sinks->allocator, sinks->messengers);
    pthread_mutex_destroy(&sinks->lock);
    kmt_free(sinks->allocator, sinks);
    logger->sinks = NULL;
}

void
kmt_logger_add_messenger(struct kmt_logger *logger, VkDebugUtilsMessengerEXT handle,
                         const VkDebugUtilsMessengerCreateInfoEXT *info)
{
    atomic_fetch_add(&logger->messengers, 1);
    struct kmt_log_sinks *sinks = logger->sinks;
    if (!sinks || !info || !info->pfnUserCallback)
        return;
    pthread_mutex_lock(&sinks->lock);
    if (sinks->count == sinks->capacity) {
        uint32_t capacity = sinks->capacity ? sinks->capacity * 2 : 4;
        struct app_messenger *bigger =
            kmt_alloc(sinks->allocator, capacity * sizeof(*bigger), VK_SYSTEM_ALLOCATION_SCOPE_INSTANCE);
        if (bigger) {
            if (sinks->count)
                memcpy(bigger, sinks->messengers, sinks->count * sizeof(*bigger));
            kmt_free(sinks->allocator, sinks->messengers);
            sinks->messengers = bigger;
            sinks->capacity = capacity;
        }
    }
    /* Out of host memory: this messenger misses direct messages only. */
    if (sinks->count < sinks->capacity)
        sinks->messengers[sinks->count++] = (struct app_messenger){
            handle, info->messageSeverity, info->messageType, info->pfnUserCallback, info->pUserData};
    pthread_mutex_unlock(&sinks->lock);
}

void
kmt_logger_remove_messenger(struct kmt_logger *logger, VkDebugUtilsMessengerEXT handle)
{
    atomic_fetch_sub(&logger->messengers, 1);
    struct kmt_log_sinks *sinks = logger->sinks;
    if (!sinks)
        return;
    pthread_mutex_lock(&sinks->lock);
    for (uint32_t i = 0; i < sinks->count; i++) {
        if (sinks->messengers[i].handle == handle) {
            sinks->messengers[i] = sinks->messengers[--sinks->count];
            break;
        }
    }
    pthread_mutex_unlock(&sinks->lock);
}

/* ---- sending ------------------------------------------------------------------ */

int32_t
kmt_log_id_number(const char *id)
{
    uint32_t hash = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)id; p && *p; p++)
        hash = (hash ^ *p) * 16777619u;
    return hash ? (int32_t)hash : 1;
}

static void
write_line(FILE *file, enum kmt_log_level level, const char *id, const char *text)
{
    fprintf(file, "VK_LAYER_KMT_offer_reclaim %s [%s]: %s\n", kmt_log_level_name(level), id, text);
}

/* Runs the callbacks of the app's messengers that accept the message;
 * returns whether there was any messenger at all. */
static bool
call_app_messengers(struct kmt_log_sinks *sinks, VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                    VkDebugUtilsMessageTypeFlagsEXT type, const VkDebugUtilsMessengerCallbackDataEXT *data)
{
    pthread_mutex_lock(&sinks->lock);
    bool any = sinks->count > 0;
    for (uint32_t i = 0; i < sinks->count; i++) {
        const struct app_messenger *m = &sinks->messengers[i];
        if ((m->severities & severity) && (m->types & type))
            m->callback(severity, type, data, m->user_data);
    }
    pthread_mutex_unlock(&sinks->lock);
    return any;
}

#define KMT_LOG_MAX_OBJECTS 4

void
kmt_log_send(const struct kmt_logger *logger, enum kmt_log_level level, const char *id, uint32_t count,
             const struct kmt_log_object *objects, const char *text, bool direct)
{
    if (kmt_log_wants(logger, level))
        kmt_log_send_unfiltered(logger, level, id, count, objects, text, direct);
}

void
kmt_log_send_unfiltered(const struct kmt_logger *logger, enum kmt_log_level level, const char *id, uint32_t count,
                        const struct kmt_log_object *objects, const char *text, bool direct)
{
    struct kmt_log_sinks *sinks = logger->sinks;
    if (sinks && sinks->file)
        write_line(sinks->file, level, id, text);

    VkDebugUtilsObjectNameInfoEXT names[KMT_LOG_MAX_OBJECTS];
    uint32_t n = 0;
    for (uint32_t i = 0; i < count && n < KMT_LOG_MAX_OBJECTS; i++) {
        if (!objects[i].handle)
            continue;
        names[n++] = (VkDebugUtilsObjectNameInfoEXT){
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
            .objectType = objects[i].type,
            .objectHandle = objects[i].handle,
            .pObjectName = objects[i].name,
        };
    }
    VkDebugUtilsMessengerCallbackDataEXT data = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CALLBACK_DATA_EXT,
        .pMessageIdName = id,
        .messageIdNumber = kmt_log_id_number(id),
        .pMessage = text,
        .objectCount = n,
        .pObjects = n ? names : NULL,
    };
    VkDebugUtilsMessageSeverityFlagBitsEXT severity = severity_of(level);
    VkDebugUtilsMessageTypeFlagsEXT type = level <= KMT_LOG_WARNING ? VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                                                                    : VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT;
    if (direct) {
        if (sinks && call_app_messengers(sinks, severity, type, &data))
            return;
    } else if (logger->submit && atomic_load(&logger->messengers) > 0) {
        logger->submit(logger->instance, severity, type, &data);
        return;
    }
    write_line(stderr, level, id, text);
}

void
kmt_log(const struct kmt_logger *logger, enum kmt_log_level level, const char *id, VkObjectType object_type,
        uint64_t object, const char *fmt, ...)
{
    if (!kmt_log_wants(logger, level))
        return;
    char text[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);
    struct kmt_log_object subject = {object_type, object, NULL};
    kmt_log_send(logger, level, id, 1, &subject, text, false);
}

/* ---- messages from inside vkCreateDevice ------------------------------------------------ */

void
kmt_log_defer(struct kmt_log_buffer *buffer, const struct kmt_logger *logger, enum kmt_log_level level,
              const char *id, VkObjectType object_type, uint64_t object, const char *fmt, ...)
{
    if (!kmt_log_wants(logger, level) || buffer->count == KMT_LOG_BUFFER_SIZE)
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

static void
send_buffer(struct kmt_log_buffer *buffer, const struct kmt_logger *logger, bool direct)
{
    /* One thread wins the exchange and sends everything. */
    if (!atomic_load(&buffer->pending) || !atomic_exchange(&buffer->pending, false))
        return;
    for (uint32_t i = 0; i < buffer->count; i++) {
        const struct kmt_log_entry *e = &buffer->entries[i];
        struct kmt_log_object subject = {e->object_type, e->object, NULL};
        kmt_log_send(logger, e->level, e->id, 1, &subject, e->text, direct);
    }
    buffer->count = 0; /* sent: a later deferral starts afresh */
}

void
kmt_log_flush(struct kmt_log_buffer *buffer, const struct kmt_logger *logger)
{
    send_buffer(buffer, logger, false);
}

void
kmt_log_flush_direct(struct kmt_log_buffer *buffer, const struct kmt_logger *logger)
{
    send_buffer(buffer, logger, true);
}

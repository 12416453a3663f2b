/* SPDX-License-Identifier: MIT */
/*
 * handles.c -- see handles.h.
 */
#include "handles.h"

#include <string.h>

#include "memory.h"

/* A slot's first generation: spread from the table's salt so that two
 * tables rarely agree on any slot's generation (a multiplicative hash). */
static uint32_t
first_generation(uint32_t salt, uint32_t index)
{
    uint32_t g = (salt ^ index) * 0x9e3779b1u;
    return g ^ (g >> 15);
}

void
kmt_slots_init(struct kmt_slot_table *table, uint32_t salt, const VkAllocationCallbacks *allocator)
{
    memset(table, 0, sizeof(*table));
    table->salt = salt;
    table->allocator = allocator;
    pthread_mutex_init(&table->grow_lock, NULL);
}

void
kmt_slots_finish(struct kmt_slot_table *table)
{
    for (uint32_t i = 0; i < table->chunk_count; i++)
        kmt_free(table->allocator, table->directory[i]);
    kmt_free(table->allocator, table->directory);
    for (uint32_t i = 0; i < table->retired_count; i++)
        kmt_free(table->allocator, table->retired[i]);
    kmt_free(table->allocator, table->retired);
    pthread_mutex_destroy(&table->grow_lock);
    memset(table, 0, sizeof(*table));
}

/* Room for one more chunk pointer. The directory a lock-free reader may hold
 * is kept (retired), never freed before the table. Under grow_lock. */
static bool
grow_directory(struct kmt_slot_table *table)
{
    if (table->chunk_count < table->directory_size)
        return true;
    if (table->directory_size >= KMT_SLOT_MAX_CHUNKS)
        return false;
    uint32_t size = table->directory_size ? table->directory_size * 2 : 4;
    struct kmt_slot_chunk ***retired = NULL;
    if (table->directory) {
        retired = kmt_alloc(table->allocator, (table->retired_count + 1) * sizeof(*retired),
                            VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
        if (!retired)
            return false;
    }
    struct kmt_slot_chunk **directory =
        kmt_alloc(table->allocator, size * sizeof(*directory), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!directory) {
        kmt_free(table->allocator, retired);
        return false;
    }
    memset(directory, 0, size * sizeof(*directory));
    if (table->chunk_count)
        memcpy(directory, table->directory, table->chunk_count * sizeof(*directory));
    if (table->directory) {
        if (table->retired_count)
            memcpy(retired, table->retired, table->retired_count * sizeof(*retired));
        retired[table->retired_count++] = table->directory;
        kmt_free(table->allocator, table->retired);
        table->retired = retired;
    }
    __atomic_store_n(&table->directory, directory, __ATOMIC_RELEASE);
    table->directory_size = size;
    return true;
}

static uint64_t
head_word(uint64_t tag, uint32_t first)
{
    return tag << 32 | first;
}

/* Pushes the chain first..last (slot indexes + 1, linked through `driver`)
 * onto the free list. */
static void
push_chain(struct kmt_slot_table *table, struct kmt_memory *last, uint32_t first)
{
    uint64_t head = __atomic_load_n(&table->free_head, __ATOMIC_RELAXED);
    do
        __atomic_store_n(&last->driver, head & 0xffffffffu, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&table->free_head, &head, head_word((head >> 32) + 1, first), true,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* Adds a chunk of free slots, chained in index order. Under grow_lock. */
static bool
add_chunk(struct kmt_slot_table *table)
{
    if (!grow_directory(table))
        return false;
    struct kmt_slot_chunk *chunk = kmt_alloc(table->allocator, sizeof(*chunk), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!chunk)
        return false;
    uint32_t base = table->chunk_count << KMT_SLOT_CHUNK_SHIFT;
    memset(chunk, 0, sizeof(*chunk));
    for (uint32_t i = 0; i < KMT_SLOT_CHUNK; i++) {
        struct kmt_memory *m = &chunk->hot[i];
        m->status = KMT_STATUS_FREE;
        m->generation = first_generation(table->salt, base + i);
        m->driver = base + i + 2; /* the next slot; the last one's is set by push_chain */
    }
    table->directory[table->chunk_count++] = chunk;
    __atomic_store_n(&table->capacity, table->chunk_count << KMT_SLOT_CHUNK_SHIFT, __ATOMIC_RELEASE);
    push_chain(table, &chunk->hot[KMT_SLOT_CHUNK - 1], base + 1);
    return true;
}

uint64_t
kmt_slots_take(struct kmt_slot_table *table, uint32_t *index, struct kmt_memory **memory)
{
    uint64_t head = __atomic_load_n(&table->free_head, __ATOMIC_ACQUIRE);
    struct kmt_memory *m;
    for (;;) {
        uint32_t first = (uint32_t)head;
        if (!first) {
            /* Empty: one thread grows the table, the others find the new slots. */
            pthread_mutex_lock(&table->grow_lock);
            head = __atomic_load_n(&table->free_head, __ATOMIC_ACQUIRE);
            bool grown = (uint32_t)head || add_chunk(table);
            pthread_mutex_unlock(&table->grow_lock);
            if (!grown)
                return 0;
            head = __atomic_load_n(&table->free_head, __ATOMIC_ACQUIRE);
            continue;
        }
        m = kmt_slot(table, first - 1);
        /* A stale `next` (another thread took the slot meanwhile) makes the
         * exchange fail: the tag in the head has changed. */
        uint32_t next = (uint32_t)__atomic_load_n(&m->driver, __ATOMIC_RELAXED);
        if (__atomic_compare_exchange_n(&table->free_head, &head, head_word((head >> 32) + 1, next), true,
                                        __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
            break;
    }
    uint32_t i = (uint32_t)head - 1;
    uint32_t generation = m->generation;
    /* Field by field: a thread that lost the race for this slot may still
     * read its link, and scans of the table read its status. */
    __atomic_store_n(&m->driver, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&m->size, 0, __ATOMIC_RELAXED);
    m->call_stamp = 0;
    m->offer_order = 0;
    m->offer_priority = 0;
    __atomic_store_n(&m->type_index, 0, __ATOMIC_RELAXED);
    m->bits = 0;
    *kmt_cold(table, i) = (struct kmt_memory_cold){0};
    *index = i;
    *memory = m;
    return kmt_make_handle(i, generation);
}

void
kmt_slots_release(struct kmt_slot_table *table, uint32_t index)
{
    struct kmt_memory *m = kmt_slot(table, index);
    /* Atomic: a lock-free kmt_resolve of the (now stale) handle may read it. */
    __atomic_store_n(&m->generation, m->generation + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&m->status, KMT_STATUS_FREE, __ATOMIC_RELEASE);
    push_chain(table, m, index + 1);
}

uint32_t
kmt_slots_live(const struct kmt_slot_table *table)
{
    uint32_t live = 0, capacity = kmt_slots_capacity(table);
    for (uint32_t i = 0; i < capacity; i++)
        live += __atomic_load_n(&kmt_slot(table, i)->status, __ATOMIC_ACQUIRE) != KMT_STATUS_FREE;
    return live;
}

size_t
kmt_slots_footprint(const struct kmt_slot_table *table)
{
    size_t bytes = (size_t)table->chunk_count * sizeof(struct kmt_slot_chunk);
    bytes += (size_t)table->directory_size * sizeof(struct kmt_slot_chunk *);
    for (uint32_t i = 0, size = 4; i < table->retired_count; i++, size *= 2)
        bytes += size * sizeof(struct kmt_slot_chunk *);
    bytes += table->retired_count * sizeof(*table->retired);
    return bytes;
}

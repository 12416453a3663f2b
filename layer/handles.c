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
    memset(table, 0, sizeof(*table));
}

/* Room for one more chunk pointer. The directory a lock-free reader may hold
 * is kept (retired), never freed before the table. */
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

/* Adds a chunk of free slots, chained in index order. */
static bool
add_chunk(struct kmt_slot_table *table)
{
    if (!grow_directory(table))
        return false;
    struct kmt_slot_chunk *chunk = kmt_alloc(table->allocator, sizeof(*chunk), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!chunk)
        return false;
    uint32_t base = table->chunk_count << KMT_SLOT_CHUNK_SHIFT;
    memset(chunk->cold, 0, sizeof(chunk->cold));
    for (uint32_t i = 0; i < KMT_SLOT_CHUNK; i++) {
        struct kmt_memory *m = &chunk->hot[i];
        memset(m, 0, sizeof(*m));
        m->status = KMT_STATUS_FREE;
        m->generation = first_generation(table->salt, base + i);
        m->driver = i + 1 < KMT_SLOT_CHUNK ? base + i + 2 : table->free_head;
    }
    table->free_head = base + 1;
    table->directory[table->chunk_count++] = chunk;
    __atomic_store_n(&table->capacity, table->chunk_count << KMT_SLOT_CHUNK_SHIFT, __ATOMIC_RELEASE);
    return true;
}

uint64_t
kmt_slots_take(struct kmt_slot_table *table, uint32_t *index, struct kmt_memory **memory)
{
    if (!table->free_head && !add_chunk(table))
        return 0;
    uint32_t i = table->free_head - 1;
    struct kmt_slot_chunk *chunk = table->directory[i >> KMT_SLOT_CHUNK_SHIFT];
    struct kmt_memory *m = &chunk->hot[i & (KMT_SLOT_CHUNK - 1)];
    table->free_head = (uint32_t)m->driver;
    uint32_t generation = m->generation;
    memset(m, 0, sizeof(*m));
    m->generation = generation;
    memset(&chunk->cold[i & (KMT_SLOT_CHUNK - 1)], 0, sizeof(chunk->cold[0]));
    table->live++;
    *index = i;
    *memory = m;
    return kmt_make_handle(i, generation);
}

void
kmt_slots_release(struct kmt_slot_table *table, uint32_t index)
{
    struct kmt_memory *m = kmt_slot(table, index);
    m->status = KMT_STATUS_FREE;
    m->generation++;
    m->driver = table->free_head;
    table->free_head = index + 1;
    table->live--;
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
